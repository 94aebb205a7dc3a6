/* SPDX-License-Identifier: BSD-3-Clause */
/* sql_purges.c: purge ids recorded in a bookkeeping table in each purge's own transaction, so that a retried purge is applied once. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/log.h"
#include "plugins/output.h"
#include "plugins/sql_write.h"

#define SQL_PURGES_DEFAULT	"pmacct_purges"

/*
 * The writer id: the JSON markers' writer_id ("<plugin>/<pid>"), then the
 * host and the start time in microseconds, so that no later run (a pid
 * reused, a container always pid 1) takes an id of an earlier one.
 */
static void writer_id(char *out, size_t len, const char *proc_name)
{
	char base[128], host[64] = "";
	struct timeval tv;

	out_writer_id(NULL, proc_name, (long)getpid(), base, sizeof(base));
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "-");
	host[sizeof(host) - 1] = '\0';
	gettimeofday(&tv, NULL);
	snprintf(out, len, "%s@%s/%" PRId64, base, host,
	    (int64_t)tv.tv_sec * 1000000 + (int64_t)tv.tv_usec);
}

void sql_purges_init(struct sql_ctx *c, const char *proc_name)
{
	const char *t = c->pc->sql_purge_table;

	writer_id(c->writer, sizeof(c->writer), proc_name);
	c->seq = 0;
	c->purges_prune = true;
	if (!t)
		t = SQL_PURGES_DEFAULT;
	if (!*t || !strcmp(t, "none") || !strcmp(t, "false")) {
		c->purges_table = NULL;
		c->purges = SQLP_OFF;
	} else {
		c->purges_table = t;
		c->purges = SQLP_UNKNOWN;
	}
}

/* Column types per dialect: { sqlite, pgsql, mysql }. */
static const char *const id_type[] = { "VARCHAR(255)", "VARCHAR(255)",
	"VARCHAR(255) CHARACTER SET ascii" };

static int build_create(const struct sql_ctx *c, char *out, size_t len)
{
	enum sql_dialect d = c->be->dialect;
	char q[SQL_WRITER_MAX * 2];

	if (sql_quote_ident(q, sizeof(q), d, c->purges_table) < 0)
		return -1;
	int n = snprintf(out, len, "CREATE TABLE IF NOT EXISTS %s (\n"
	    "    writer_id %s NOT NULL,\n"
	    "    seq BIGINT NOT NULL,\n"
	    "    table_name VARCHAR(255) NOT NULL DEFAULT '',\n"
	    "    entries BIGINT NOT NULL DEFAULT 0,\n"
	    "    purged_at BIGINT NOT NULL DEFAULT 0,\n"
	    "    PRIMARY KEY (writer_id, seq)\n)", q, id_type[d]);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int lookup(struct sql_ctx *c, bool *exists)
{
	bool unique;
	char conflict[64];

	return c->be->table_info(c->h, c->purges_table, exists, &unique, conflict, sizeof(conflict));
}

/* Create the table under the creation lock, looking again once it is held. */
static int create(struct sql_ctx *c, char *why, size_t wlen)
{
	char ddl[1024];
	bool exists = false;
	int rc;

	if (build_create(c, ddl, sizeof(ddl)) < 0) {
		snprintf(why, wlen, "not a usable table name");
		return -1;
	}
	if (sql_ddl_lock(c, c->purges_table) < 0) {
		sql_error_text(c, why, wlen);
		return -1;
	}
	rc = lookup(c, &exists);
	if (rc == 0 && !exists) {
		log_info(c->who, "purges table '%s' does not exist: creating it", c->purges_table);
		rc = c->be->exec(c->h, ddl);
	}
	if (rc < 0)
		sql_error_text(c, why, wlen);
	sql_ddl_unlock(c, c->purges_table, rc == 0);
	return rc;
}

int sql_purges_ready(struct sql_ctx *c)
{
	char why[512] = "";
	bool exists = false;

	if (c->purges != SQLP_UNKNOWN)
		return 0;
	if (lookup(c, &exists) < 0)
		return sql_fail(c, "cannot look up the purges table");
	if (!exists && create(c, why, sizeof(why)) < 0) {
		/* another writer may have created it all the same: look again */
		if (lookup(c, &exists) < 0)
			return sql_fail(c, "cannot look up the purges table");
		if (!exists) {
			log_warnx(c->who, "cannot create the purges table '%s' (%s): purges are not "
			    "recorded, and a purge retried after an unacknowledged COMMIT may be "
			    "counted twice; create it with the backend's sql/pmacct-create-purges "
			    "script, or set sql_purge_table: none", c->purges_table, why);
			c->purges = SQLP_OFF;
			return 0;
		}
	}
	c->purges = SQLP_ON;
	return 0;
}

/* Prepare, run and finalize one statement; *changed as the backend's run(). */
static int run_once(struct sql_ctx *c, const char *sql, const struct sql_val *v, int n,
    long *changed)
{
	void *st = NULL;
	int rc = c->be->prepare(c->h, sql, n, &st);

	if (rc == 0) {
		rc = c->be->run(c->h, st, v, n, changed);
		c->be->finalize(c->h, st);
	}
	return rc;
}

enum sql_rec sql_purges_record(struct sql_ctx *c, const struct sql_purge_id *id,
    const char *table, size_t entries, time_t now)
{
	enum sql_dialect d = c->be->dialect;
	char q[SQL_WRITER_MAX * 2], sql[SQL_WRITER_MAX * 2 + 256];
	struct sql_val v[5] = {
		{ .p = id->writer }, { .is_int = true, .i = (int64_t)id->seq }, { .p = table },
		{ .is_int = true, .i = (int64_t)entries }, { .is_int = true, .i = (int64_t)now },
	};
	long changed = -1;

	if (sql_quote_ident(q, sizeof(q), d, c->purges_table) < 0)
		return SQLR_ERR;
	if (d == SQL_MYSQL)
		snprintf(sql, sizeof(sql), "INSERT IGNORE INTO %s (writer_id, seq, table_name, entries, "
		    "purged_at) VALUES (?, ?, ?, ?, ?)", q);
	else
		snprintf(sql, sizeof(sql), "INSERT INTO %s (writer_id, seq, table_name, entries, "
		    "purged_at) VALUES (%s) ON CONFLICT DO NOTHING", q,
		    d == SQL_PGSQL ? "$1, $2, $3, $4, $5" : "?, ?, ?, ?, ?");
	if (run_once(c, sql, v, 5, &changed) < 0)
		return SQLR_ERR;
	return changed == 0 ? SQLR_DONE : SQLR_NEW;
}

int sql_purges_prune(struct sql_ctx *c, const struct sql_purge_id *id)
{
	enum sql_dialect d = c->be->dialect;
	char q[SQL_WRITER_MAX * 2], sql[SQL_WRITER_MAX * 2 + 128];
	struct sql_val v[2] = { { .p = id->writer }, { .is_int = true, .i = (int64_t)id->seq } };

	if (sql_quote_ident(q, sizeof(q), d, c->purges_table) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE writer_id = %s AND seq < %s", q,
	    d == SQL_PGSQL ? "$1" : "?", d == SQL_PGSQL ? "$2" : "?");
	return run_once(c, sql, v, 2, NULL);
}
