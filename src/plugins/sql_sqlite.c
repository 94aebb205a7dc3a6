/* SPDX-License-Identifier: BSD-3-Clause */
/* sql_sqlite.c: the SQLite backend of the SQL layer (libsqlite3): a database file, prepared statements. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "plugins/sql.h"

static void *lite_connect(const struct sql_conn *c, char *err, size_t elen)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(c->db, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, elen, "%s", db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	/* another writer (pmacct's sqlite3 plugin, a reader's lock): wait instead of failing */
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static int lite_exec(void *h, const char *sql)
{
	/* take the write lock up front: two deferred writers on one file would deadlock */
	if (strcmp(sql, "BEGIN") == 0)
		sql = "BEGIN IMMEDIATE";
	return sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int lite_prepare(void *h, const char *sql, int nparams, void **st)
{
	(void)nparams;
	return sqlite3_prepare_v2(h, sql, -1, (sqlite3_stmt **)st, NULL) == SQLITE_OK ? 0 : -1;
}

static int lite_run(void *h, void *st, const struct sql_val *v, int n, long *changed)
{
	sqlite3_stmt *s = st;
	int rc;

	sqlite3_reset(s);
	for (int i = 0; i < n; i++) {
		if (v[i].is_int)
			sqlite3_bind_int64(s, i + 1, v[i].i);
		else
			sqlite3_bind_text(s, i + 1, sql_val_str(&v[i]), -1, SQLITE_TRANSIENT);
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return -1;
	if (changed)
		*changed = sqlite3_changes(h);
	return 0;
}

static void lite_finalize(void *h, void *st)
{
	(void)h;
	sqlite3_finalize(st);
}

static int lite_table_info(void *h, const char *table, bool *exists, bool *unique,
    char *conflict, size_t clen)
{
	sqlite3_stmt *s = NULL;
	char sql[512];
	int rc;

	*exists = *unique = false;
	if (clen)
		conflict[0] = '\0';
	if (sqlite3_prepare_v2(h, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
	    -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	*exists = rc == SQLITE_ROW;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (!*exists)
		return 0;
	/* the pragma takes no parameter: the name is quoted as an identifier */
	if (sql_quote_ident(sql, sizeof(sql) - 32, SQL_SQLITE, table) < 0)
		return -1;
	char q[600];
	snprintf(q, sizeof(q), "PRAGMA index_list(%s)", sql);
	if (sqlite3_prepare_v2(h, q, -1, &s, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (sqlite3_column_int(s, 2))	/* seq, name, unique, origin, partial */
			*unique = true;
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const char *lite_error(void *h)
{
	return sqlite3_errmsg(h);
}

static void lite_close(void *h)
{
	sqlite3_close_v2(h);
}

const struct sql_backend sql_sqlite_backend = {
	.name = "sqlite3",
	.dialect = SQL_SQLITE,
	.connect = lite_connect,
	.exec = lite_exec,
	.prepare = lite_prepare,
	.run = lite_run,
	.finalize = lite_finalize,
	.table_info = lite_table_info,
	.copy = NULL,
	.error = lite_error,
	.close = lite_close,
};
