/* SPDX-License-Identifier: BSD-3-Clause */
/* sql_mysql.c: the MySQL / MariaDB backend of the SQL layer (libmariadb): server-side prepared statements, ON DUPLICATE KEY UPDATE. */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "plugins/sql.h"

struct my {
	MYSQL *c;
	char err[512];
};

static void *my_connect(const struct sql_conn *c, char *err, size_t elen)
{
	MYSQL *m = mysql_init(NULL);
	const char *host = c->host, *sock = NULL;
	unsigned timeout = 10;

	if (!m) {
		snprintf(err, elen, "out of memory");
		return NULL;
	}
	if (strncmp(host, "unix:", 5) == 0) {
		sock = host + 5;
		host = "localhost";
	}
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &(unsigned){ 60 });
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &(unsigned){ 60 });
	if (c->ca_file)
		mysql_ssl_set(m, NULL, NULL, c->ca_file, NULL, NULL);
	if (!mysql_real_connect(m, host, c->user, c->passwd, c->db, c->port ? c->port : 3306, sock, 0)) {
		snprintf(err, elen, "%s", mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	struct my *p = xcalloc(1, sizeof(*p));
	p->c = m;
	return p;
}

static int my_exec(void *h, const char *sql)
{
	struct my *p = h;
	if (mysql_query(p->c, sql) != 0) {
		snprintf(p->err, sizeof(p->err), "%s", mysql_error(p->c));
		return -1;
	}
	MYSQL_RES *r = mysql_store_result(p->c);
	if (r)
		mysql_free_result(r);
	return 0;
}

static int my_prepare(void *h, const char *sql, int nparams, void **st)
{
	struct my *p = h;
	MYSQL_STMT *s = mysql_stmt_init(p->c);

	(void)nparams;
	if (!s || mysql_stmt_prepare(s, sql, strlen(sql)) != 0) {
		snprintf(p->err, sizeof(p->err), "%s", s ? mysql_stmt_error(s) : mysql_error(p->c));
		if (s)
			mysql_stmt_close(s);
		return -1;
	}
	*st = s;
	return 0;
}

static int my_run(void *h, void *st, const struct sql_val *v, int n, long *changed)
{
	struct my *p = h;
	MYSQL_STMT *s = st;
	MYSQL_BIND *b = xcalloc((size_t)n, sizeof(*b));
	unsigned long *lens = xcalloc((size_t)n, sizeof(*lens));
	int rc = 0;

	for (int i = 0; i < n; i++) {
		if (v[i].is_int) {
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&v[i].i;
		} else {
			const char *str = sql_val_str(&v[i]);
			lens[i] = strlen(str);
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = (void *)str;
			b[i].buffer_length = lens[i];
			b[i].length = &lens[i];
		}
	}
	if (mysql_stmt_bind_param(s, b) != 0 || mysql_stmt_execute(s) != 0) {
		snprintf(p->err, sizeof(p->err), "%s", mysql_stmt_error(s));
		rc = -1;
	} else if (changed) {
		*changed = (long)mysql_stmt_affected_rows(s);
	}
	free(b);
	free(lens);
	return rc;
}

static void my_finalize(void *h, void *st)
{
	(void)h;
	mysql_stmt_close(st);
}

/* information_schema: does the table exist in the current database, has it a unique key? */
static int my_table_info(void *h, const char *table, bool *exists, bool *unique,
    char *conflict, size_t clen)
{
	struct my *p = h;
	MYSQL_STMT *s = NULL;
	const char *dot = strchr(table, '.');
	char schema[256], name[256];
	struct sql_val v[2] = { { .p = schema }, { .p = name } };
	long long cnt[2] = { 0, 0 };
	MYSQL_BIND out[2];
	int rc = -1;

	*exists = *unique = false;
	if (clen)
		conflict[0] = '\0';
	snprintf(schema, sizeof(schema), "%.*s", dot ? (int)(dot - table) : 0, table);
	snprintf(name, sizeof(name), "%s", dot ? dot + 1 : table);
	if (my_prepare(h, "SELECT COUNT(*), (SELECT COUNT(*) FROM information_schema.statistics "
	    "WHERE table_schema = t.table_schema AND table_name = t.table_name AND non_unique = 0) "
	    "FROM information_schema.tables t WHERE t.table_schema = IF(? = '', DATABASE(), ?) "
	    "AND t.table_name = ?", 3, (void **)&s) < 0)
		return -1;
	struct sql_val args[3] = { v[0], v[0], v[1] };
	memset(out, 0, sizeof(out));
	for (int i = 0; i < 2; i++) {
		out[i].buffer_type = MYSQL_TYPE_LONGLONG;
		out[i].buffer = &cnt[i];
	}
	if (my_run(h, s, args, 3, NULL) == 0 && mysql_stmt_bind_result(s, out) == 0) {
		int f = mysql_stmt_fetch(s);
		if (f == 0 || f == MYSQL_DATA_TRUNCATED) {
			*exists = cnt[0] > 0;
			*unique = cnt[1] > 0;
		}
		rc = 0;
	} else if (!p->err[0]) {
		snprintf(p->err, sizeof(p->err), "%s", mysql_stmt_error(s));
	}
	mysql_stmt_close(s);
	return rc;
}

static const char *my_error(void *h)
{
	struct my *p = h;
	if (!p->err[0])
		snprintf(p->err, sizeof(p->err), "%s", mysql_error(p->c));
	return p->err;
}

static void my_close(void *h)
{
	struct my *p = h;
	mysql_close(p->c);
	free(p);
}

const struct sql_backend sql_mysql_backend = {
	.name = "mysql",
	.dialect = SQL_MYSQL,
	.connect = my_connect,
	.exec = my_exec,
	.prepare = my_prepare,
	.run = my_run,
	.finalize = my_finalize,
	.table_info = my_table_info,
	.copy = NULL,
	.error = my_error,
	.close = my_close,
};
