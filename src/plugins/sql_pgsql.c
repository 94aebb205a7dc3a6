/* SPDX-License-Identifier: BSD-3-Clause */
/* sql_pgsql.c: the PostgreSQL backend of the SQL layer (libpq): prepared statements, ON CONFLICT upserts, COPY. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "plugins/sql.h"

struct pg {
	PGconn *c;
	unsigned nstmt;
	char err[512];
};

struct pg_stmt {
	char name[32];
	int nparams;
};

static void pg_seterr(struct pg *p, const PGresult *r)
{
	const char *m = r ? PQresultErrorMessage(r) : "";
	if (!m || !*m)
		m = PQerrorMessage(p->c);
	snprintf(p->err, sizeof(p->err), "%s", m);
	p->err[strcspn(p->err, "\n")] = '\0';
}

/* Server notices (a server shutting down, ...) go to our log, not libpq's stderr. */
static void pg_notice(void *arg, const char *m)
{
	(void)arg;
	log_warnx("pgsql", "server: %.*s", (int)strcspn(m, "\n"), m);
}

static void *pg_connect(const struct sql_conn *c, char *err, size_t elen)
{
	char port[16];
	const char *host = c->host;
	const char *keys[] = { "host", "port", "dbname", "user", "password", "sslrootcert",
		"sslmode", "connect_timeout", NULL };
	const char *vals[9];
	int n = 0;

	if (strncmp(host, "unix:", 5) == 0)
		host += 5;	/* a socket directory */
	snprintf(port, sizeof(port), "%u", c->port ? c->port : 5432);
	vals[n++] = host;
	vals[n++] = port;
	vals[n++] = c->db;
	vals[n++] = c->user;
	vals[n++] = c->passwd;
	vals[n++] = c->ca_file ? c->ca_file : "";
	vals[n++] = c->ca_file ? "verify-ca" : "prefer";
	vals[n++] = "10";
	vals[n] = NULL;
	PGconn *pc = PQconnectdbParams(keys, vals, 0);
	if (!pc || PQstatus(pc) != CONNECTION_OK) {
		snprintf(err, elen, "%s", pc ? PQerrorMessage(pc) : "out of memory");
		err[strcspn(err, "\n")] = '\0';
		PQfinish(pc);
		return NULL;
	}
	PQsetNoticeProcessor(pc, pg_notice, NULL);
	struct pg *p = xcalloc(1, sizeof(*p));
	p->c = pc;
	return p;
}

static int pg_result_ok(struct pg *p, PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
	if (rc < 0)
		pg_seterr(p, r);
	PQclear(r);
	return rc;
}

static int pg_exec(void *h, const char *sql)
{
	struct pg *p = h;
	return pg_result_ok(p, PQexec(p->c, sql));
}

static int pg_prepare(void *h, const char *sql, int nparams, void **st)
{
	struct pg *p = h;
	struct pg_stmt *s = xcalloc(1, sizeof(*s));

	snprintf(s->name, sizeof(s->name), "pmng_%u", p->nstmt++);
	s->nparams = nparams;
	if (pg_result_ok(p, PQprepare(p->c, s->name, sql, nparams, NULL)) < 0) {
		free(s);
		return -1;
	}
	*st = s;
	return 0;
}

static int pg_run(void *h, void *st, const struct sql_val *v, int n, long *changed)
{
	struct pg *p = h;
	struct pg_stmt *s = st;
	const char **vals = xcalloc((size_t)n, sizeof(*vals));
	char (*nums)[24] = xcalloc((size_t)n, sizeof(*nums));
	PGresult *r;
	int rc;

	for (int i = 0; i < n; i++) {
		if (v[i].is_int) {
			snprintf(nums[i], sizeof(nums[i]), "%" PRId64, v[i].i);
			vals[i] = nums[i];
		} else {
			vals[i] = sql_val_str(&v[i]);
		}
	}
	r = PQexecPrepared(p->c, s->name, n, vals, NULL, NULL, 0);
	if (changed && PQresultStatus(r) == PGRES_COMMAND_OK)
		*changed = strtol(PQcmdTuples(r), NULL, 10);
	rc = pg_result_ok(p, r);
	free(vals);
	free(nums);
	return rc;
}

static void pg_finalize(void *h, void *st)
{
	struct pg *p = h;
	struct pg_stmt *s = st;
	char sql[64];

	snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
	if (PQstatus(p->c) == CONNECTION_OK && PQtransactionStatus(p->c) != PQTRANS_INERROR)
		PQclear(PQexec(p->c, sql));
	free(s);
}

/* Existence from to_regclass(); the first primary or unique constraint names the conflict target. */
static int pg_table_info(void *h, const char *table, bool *exists, bool *unique,
    char *conflict, size_t clen)
{
	struct pg *p = h;
	char q[600];
	const char *v[1] = { q };
	PGresult *r;

	*exists = *unique = false;
	conflict[0] = '\0';
	if (sql_quote_ident(q, sizeof(q), SQL_PGSQL, table) < 0)
		return -1;
	r = PQexecParams(p->c, "SELECT c.conname FROM (SELECT to_regclass($1) AS t) x "
	    "LEFT JOIN pg_constraint c ON c.conrelid = x.t AND c.contype IN ('p', 'u') "
	    "WHERE x.t IS NOT NULL ORDER BY c.contype LIMIT 1", 1, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return pg_result_ok(p, r);
	if (PQntuples(r) > 0) {
		*exists = true;
		if (!PQgetisnull(r, 0, 0)) {
			*unique = true;
			snprintf(conflict, clen, "%s", PQgetvalue(r, 0, 0));
		}
	}
	PQclear(r);
	return 0;
}

static int pg_copy(void *h, const char *sql, const char *data, size_t len)
{
	struct pg *p = h;
	PGresult *r = PQexec(p->c, sql);

	if (PQresultStatus(r) != PGRES_COPY_IN)
		return pg_result_ok(p, r);
	PQclear(r);
	if (PQputCopyData(p->c, data, (int)len) != 1 || PQputCopyEnd(p->c, NULL) != 1) {
		pg_seterr(p, NULL);
		return -1;
	}
	int rc = 0;
	while ((r = PQgetResult(p->c)) != NULL)
		if (pg_result_ok(p, r) < 0)
			rc = -1;
	return rc;
}

static const char *pg_error(void *h)
{
	struct pg *p = h;
	if (!p->err[0])
		pg_seterr(p, NULL);
	return p->err;
}

static void pg_close(void *h)
{
	struct pg *p = h;
	PQfinish(p->c);
	free(p);
}

const struct sql_backend sql_pgsql_backend = {
	.name = "pgsql",
	.dialect = SQL_PGSQL,
	.connect = pg_connect,
	.exec = pg_exec,
	.prepare = pg_prepare,
	.run = pg_run,
	.finalize = pg_finalize,
	.table_info = pg_table_info,
	.copy = pg_copy,
	.error = pg_error,
	.close = pg_close,
};
