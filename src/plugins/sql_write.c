/* SPDX-License-Identifier: BSD-3-Clause */
/* sql_write.c: one SQL flush: connect (or fail over), create missing tables, upsert every row in one transaction, spool on failure. */
#include "plugins/sql_write.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/timefmt.h"
#include "lib/xalloc.h"
#include "plugins/stitch.h"

#define SQL_STMT_MAX	(256 * 1024)
#define SQL_NAME_MAX	256
#define SQL_MULTI_MAX	200

struct sql_table_info {
	char name[SQL_NAME_MAX];
	bool unique;
	char conflict[SQL_NAME_MAX];
};

static bool has_vars(const char *s)
{
	return strchr(s, '%') || strchr(s, '$');
}

static void expand_name(const struct sql_ctx *c, const char *tpl, const struct flow_key *k,
    int64_t bin, time_t now, char *out, size_t len)
{
	char peer[INET6_ADDRSTRLEN] = "";
	struct timefmt_vars v = {
		.refresh = c->pc->refresh_time, .history = c->pc->history.secs,
		.tag = k ? k->tag : 0, .tag2 = k ? k->tag2 : 0,
		.post_tag = c->pc->post_tag, .post_tag2 = c->pc->post_tag2,
		.peer_src_ip = peer, .utc = c->utc,
	};
	if (k && k->peer_src_ip.af)
		inet_ntop(k->peer_src_ip.af == 6 ? AF_INET6 : AF_INET, k->peer_src_ip.a, peer,
		    sizeof(peer));
	timefmt_expand(out, len, tpl, c->pc->history.n ? (time_t)bin : now, &v);
}

void sql_ctx_close(struct sql_ctx *c)
{
	if (c->h)
		c->be->close(c->h);
	c->h = NULL;
	free(c->tables);
	c->tables = NULL;
	c->ntables = 0;
}

static int connect_db(struct sql_ctx *c)
{
	char err[512];

	if (c->h)
		return 0;
	c->on_backup = false;
	c->h = c->be->connect(&c->conn, err, sizeof(err));
	if (c->h)
		return 0;
	log_err(c->who, "cannot connect to %s database '%s' on '%s': %s", c->be->name, c->conn.db,
	    c->conn.host, err);
	if (!c->pc->sql_backup_host)
		return -1;
	c->h = c->be->connect(&c->backup, err, sizeof(err));
	if (!c->h) {
		log_err(c->who, "cannot connect to the backup database '%s' on '%s': %s",
		    c->backup.db, c->backup.host, err);
		return -1;
	}
	log_warnx(c->who, "writing to the backup database '%s' on '%s'", c->backup.db,
	    c->backup.host);
	c->on_backup = true;
	return 0;
}

void sql_error_text(struct sql_ctx *c, char *out, size_t len)
{
	const char *m = c->h ? c->be->error(c->h) : "not connected";

	if (strncmp(m, "ERROR:", 6) == 0)
		m += 6 + strspn(m + 6, " ");
	snprintf(out, len, "%s", m);
}

int sql_fail(struct sql_ctx *c, const char *what)
{
	log_err(c->who, "%s: %s", what, c->h ? c->be->error(c->h) : "not connected");
	return -1;
}

/* Run the statements of a sql_table_schema file (expanded as the table name) for one table. */
static int create_from_file(struct sql_ctx *c, const struct flow_key *k, int64_t bin, time_t now)
{
	FILE *f = fopen(c->pc->sql_table_schema, "r");
	char *text, *exp, *stmt, *save = NULL;
	size_t n;
	int rc = 0;

	if (!f) {
		log_err_errno(c->who, "cannot read sql_table_schema '%s'", c->pc->sql_table_schema);
		return -1;
	}
	text = xcalloc(1, 65536);
	n = fread(text, 1, 65535, f);
	fclose(f);
	text[n] = '\0';
	exp = xcalloc(1, 131072);
	expand_name(c, text, k, bin, now, exp, 131072);
	for (stmt = strtok_r(exp, ";", &save); stmt && rc == 0; stmt = strtok_r(NULL, ";", &save)) {
		if (strspn(stmt, " \t\r\n") == strlen(stmt))
			continue;
		rc = c->be->exec(c->h, stmt);
	}
	free(text);
	free(exp);
	return rc;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

int sql_ddl_lock(struct sql_ctx *c, const char *name)
{
	char sql[128];
	uint32_t h = name_hash(name);

	switch (c->be->dialect) {
	case SQL_PGSQL:
		if (c->be->exec(c->h, "BEGIN") < 0)
			return -1;
		snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%d, %d)", 0x706d6e67, (int32_t)h);
		return c->be->exec(c->h, sql);
	case SQL_MYSQL:
		snprintf(sql, sizeof(sql), "SELECT GET_LOCK('pmacct-ng.%08x', 60)", h);
		return c->be->exec(c->h, sql);
	default:
		return c->be->exec(c->h, "BEGIN");	/* BEGIN IMMEDIATE: the file's write lock */
	}
}

void sql_ddl_unlock(struct sql_ctx *c, const char *name, bool commit)
{
	char sql[128];

	if (!c->h)
		return;
	if (c->be->dialect == SQL_MYSQL) {
		snprintf(sql, sizeof(sql), "SELECT RELEASE_LOCK('pmacct-ng.%08x')", name_hash(name));
		c->be->exec(c->h, sql);
	} else {
		c->be->exec(c->h, commit ? "COMMIT" : "ROLLBACK");
	}
}

/*
 * Create a missing table: CREATE TABLE IF NOT EXISTS, or the statements of
 * sql_table_schema.  Plugins sharing a table race to create it: the
 * creation runs under a lock named after the table (the SQLite file's write
 * lock, a PostgreSQL advisory lock, a MySQL named lock) and looks again
 * once it holds it.  A writer outside that lock (another program) can
 * still win: a failure is only an error when the table is missing after it.
 */
static int create_table(struct sql_ctx *c, struct sql_table_info *ti, const struct flow_key *k,
    int64_t bin, time_t now)
{
	char ddl[16384], why[512] = "";
	bool exists = false;
	int rc;

	if (sql_ddl_lock(c, ti->name) < 0)
		return sql_fail(c, "cannot lock the table's creation");
	rc = c->be->table_info(c->h, ti->name, &exists, &ti->unique, ti->conflict,
	    sizeof(ti->conflict));
	if (rc == 0 && !exists) {
		log_info(c->who, "table '%s' does not exist: creating it", ti->name);
		if (c->pc->sql_table_schema)
			rc = create_from_file(c, k, bin, now);
		else if (sql_build_create(ddl, sizeof(ddl), &c->schema, ti->name) < 0)
			rc = -1;
		else
			rc = c->be->exec(c->h, ddl);
	}
	if (rc < 0 && c->h)
		snprintf(why, sizeof(why), "%s", c->be->error(c->h));
	sql_ddl_unlock(c, ti->name, rc == 0);
	if (c->be->table_info(c->h, ti->name, &exists, &ti->unique, ti->conflict,
	    sizeof(ti->conflict)) < 0)
		return sql_fail(c, "cannot look up table");
	if (!exists) {
		log_err(c->who, "cannot create table '%s': %s", ti->name,
		    why[0] ? why : "statement too long");
		return -1;
	}
	if (rc < 0)
		log_notice(c->who, "table '%s' was created meanwhile by another writer (our statement "
		    "failed: %s)", ti->name, why);
	return 0;
}

/* Look the table up (once per connection), creating it when missing. */
static struct sql_table_info *table_info(struct sql_ctx *c, const char *name,
    const struct flow_key *k, int64_t bin, time_t now)
{
	struct sql_table_info ti = { 0 };
	bool exists = false;

	for (int i = 0; i < c->ntables; i++)
		if (strcmp(c->tables[i].name, name) == 0)
			return &c->tables[i];
	snprintf(ti.name, sizeof(ti.name), "%s", name);
	if (c->be->table_info(c->h, name, &exists, &ti.unique, ti.conflict, sizeof(ti.conflict)) < 0) {
		sql_fail(c, "cannot look up table");
		return NULL;
	}
	if (!exists && create_table(c, &ti, k, bin, now) < 0)
		return NULL;
	c->tables = xrealloc(c->tables, (size_t)(c->ntables + 1) * sizeof(*c->tables));
	c->tables[c->ntables] = ti;
	return &c->tables[c->ntables++];
}

/* One table's rows: the entries of t whose group index is g. */
struct group {
	struct agg_table *t;
	const uint16_t *gi;
	uint16_t g;
	time_t now;
};

static void row_of(const struct sql_ctx *c, const struct agg_table *t, const struct agg_entry *e,
    time_t now, struct sql_val *v)
{
	struct flow_key k;
	agg_entry_key(t, e, &k);
	sql_row_values(&c->schema, c->agg, c->pc->num_protos, &k, e->packets, e->bytes, e->flows,
	    e->tcp_flags, e->bin, now, v);
	if (c->schema.stitch)
		sql_row_stitch(&c->schema, &stitch_of(t, e)->min, &stitch_of(t, e)->max, v);
}

static int prep(struct sql_ctx *c, enum sql_mode m, const char *table, int rows,
    const char *conflict, void **st)
{
	char *sql = xmalloc(SQL_STMT_MAX);
	int np = sql_build(sql, SQL_STMT_MAX, &c->schema, m, table, rows, conflict);
	int rc = 0;

	if (np < 0) {
		log_err(c->who, "statement for table '%s' too long", table);
		rc = -1;
	} else if (c->be->prepare(c->h, sql, np, st) < 0) {
		log_debug(c->who, "FAILED query follows:\n%s", sql);
		rc = sql_fail(c, "cannot prepare statement");
	}
	free(sql);
	return rc;
}

/* UPDATE's parameter order: non-identity columns, then identity ones. */
static void update_order(const struct sql_schema *s, const struct sql_val *in, struct sql_val *out)
{
	int n = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < s->n; i++)
			if (sql_col_ident(&s->cols[i]) == (pass == 1))
				out[n++] = in[i];
}

static int write_update_insert(struct sql_ctx *c, const struct group *gr, const char *table)
{
	void *up = NULL, *ins = NULL;
	int n = c->schema.n, rc = 0;
	struct sql_val *v = xcalloc((size_t)n * 2, sizeof(*v));

	if (prep(c, SQLM_UPDATE, table, 1, NULL, &up) < 0 || prep(c, SQLM_INSERT, table, 1, NULL, &ins) < 0)
		rc = -1;
	size_t i = 0;
	for (struct agg_entry *e = agg_next(gr->t, NULL); e && rc == 0; e = agg_next(gr->t, e), i++) {
		long changed = 0;
		if (gr->gi[i] != gr->g)
			continue;
		row_of(c, gr->t, e, gr->now, v);
		update_order(&c->schema, v, v + n);
		if (c->pc->sql_dont_try_update)
			changed = 0;
		else if (c->be->run(c->h, up, v + n, n, &changed) < 0)
			rc = sql_fail(c, "UPDATE failed");
		if (rc == 0 && changed == 0) {
			if (c->be->run(c->h, ins, v, n, NULL) < 0)
				rc = sql_fail(c, "INSERT failed");
			c->inserts++;
		} else {
			c->updates++;
		}
	}
	if (up)
		c->be->finalize(c->h, up);
	if (ins)
		c->be->finalize(c->h, ins);
	free(v);
	return rc;
}

/* INSERT or upsert, `per` rows per statement (sql_multi_values), the rest one by one. */
static int write_batched(struct sql_ctx *c, const struct group *gr, const char *table,
    enum sql_mode m, const char *conflict, int per)
{
	void *multi = NULL, *one = NULL;
	int n = c->schema.n, r = 0, rc = 0;
	struct sql_val *v = xcalloc((size_t)n * (size_t)per, sizeof(*v));

	if ((per > 1 && prep(c, m, table, per, conflict, &multi) < 0) ||
	    prep(c, m, table, 1, conflict, &one) < 0)
		rc = -1;
	size_t i = 0;
	for (struct agg_entry *e = agg_next(gr->t, NULL); e && rc == 0; e = agg_next(gr->t, e), i++) {
		if (gr->gi[i] != gr->g)
			continue;
		row_of(c, gr->t, e, gr->now, v + (size_t)r * (size_t)n);
		if (++r < per)
			continue;
		if (c->be->run(c->h, per > 1 ? multi : one, v, n * per, NULL) < 0)
			rc = sql_fail(c, m == SQLM_UPSERT ? "upsert failed" : "INSERT failed");
		c->inserts += (uint64_t)per;
		r = 0;
	}
	for (int j = 0; j < r && rc == 0; j++) {
		if (c->be->run(c->h, one, v + (size_t)j * (size_t)n, n, NULL) < 0)
			rc = sql_fail(c, m == SQLM_UPSERT ? "upsert failed" : "INSERT failed");
		c->inserts++;
	}
	if (multi)
		c->be->finalize(c->h, multi);
	if (one)
		c->be->finalize(c->h, one);
	free(v);
	return rc;
}

int sql_copy_rows(struct sql_ctx *c, const struct agg_table *t, const uint16_t *gi, uint16_t g,
    const char *table, time_t now);

/* The group's table, looked up (and created when missing) with its first entry's key. */
static struct sql_table_info *group_table(struct sql_ctx *c, const struct group *gr,
    const char *table)
{
	const struct agg_entry *first = NULL;
	struct flow_key k;
	size_t i = 0;

	for (struct agg_entry *e = agg_next(gr->t, NULL); e && !first; e = agg_next(gr->t, e), i++)
		if (gr->gi[i] == gr->g)
			first = e;
	if (!first)
		return NULL;
	agg_entry_key(gr->t, first, &k);
	return table_info(c, table, &k, first->bin, gr->now);
}

static int write_group(struct sql_ctx *c, const struct group *gr, const char *table)
{
	struct sql_table_info *ti = group_table(c, gr, table);
	int per = 1;

	if (!ti)
		return -1;
	if (c->pc->sql_dont_try_update && c->pc->sql_use_copy && c->be->copy)
		return sql_copy_rows(c, gr->t, gr->gi, gr->g, table, gr->now);
	if (c->pc->sql_multi_values && c->be->dialect != SQL_PGSQL) {
		per = (int)(c->pc->sql_multi_values / (uint32_t)(c->schema.n * 16));
		per = per < 1 ? 1 : per > SQL_MULTI_MAX ? SQL_MULTI_MAX : per;
	}
	if (c->pc->sql_dont_try_update)
		return write_batched(c, gr, table, SQLM_INSERT, NULL, per);
	if (ti->unique)
		return write_batched(c, gr, table, SQLM_UPSERT, ti->conflict, per);
	return write_update_insert(c, gr, table);
}

/* Table name per entry: a group index per entry and the distinct names. */
static int group_tables(struct sql_ctx *c, struct agg_table *t, time_t now, uint16_t *gi,
    char (**names)[SQL_NAME_MAX])
{
	struct flow_key k;
	char name[SQL_NAME_MAX];
	int n = 0;
	size_t i = 0;

	*names = NULL;
	memset(&k, 0, sizeof(k));
	for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e), i++) {
		int g;
		agg_entry_span(t, e, &k);
		if (has_vars(c->table_tpl))
			expand_name(c, c->table_tpl, &k, e->bin, now, name, sizeof(name));
		else
			snprintf(name, sizeof(name), "%s", c->table_tpl);
		for (g = 0; g < n; g++)
			if (strcmp((*names)[g], name) == 0)
				break;
		if (g == n) {
			if (n == UINT16_MAX)
				return -1;
			*names = xrealloc(*names, (size_t)(n + 1) * SQL_NAME_MAX);
			memcpy((*names)[n++], name, SQL_NAME_MAX);
		}
		gi[i] = (uint16_t)g;
	}
	return n;
}

/* A CSV field for COPY: numbers bare, text quoted with doubled quotes. */
static void csv_field(char **buf, size_t *len, size_t *cap, const struct sql_val *v, bool stamp,
    bool epoch, char delim, bool first)
{
	char tmp[128];
	int n;

	if (stamp && !epoch) {
		time_t t = (time_t)v->i;
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(tmp, sizeof(tmp), "%Y-%m-%d %H:%M:%S", &tm);
	} else if (v->is_int) {
		snprintf(tmp, sizeof(tmp), "%" PRId64, v->i);
	} else {
		size_t o = 0;
		tmp[o++] = '"';
		for (const char *p = v->s; *p && o < sizeof(tmp) - 3; p++) {
			if (*p == '"')
				tmp[o++] = '"';
			tmp[o++] = *p;
		}
		tmp[o++] = '"';
		tmp[o] = '\0';
	}
	n = (int)strlen(tmp) + 2;
	if (*len + (size_t)n + 1 > *cap) {
		*cap = (*cap + (size_t)n) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	*len += (size_t)snprintf(*buf + *len, *cap - *len, "%s%s", first ? "" : (char[]){ delim, 0 }, tmp);
}

/* sql_use_copy (pgsql): every row of the group through one COPY ... FROM STDIN. */
int sql_copy_rows(struct sql_ctx *c, const struct agg_table *t, const uint16_t *gi, uint16_t g,
    const char *table, time_t now)
{
	const struct sql_schema *s = &c->schema;
	char delim = c->pc->sql_delimiter[0] && c->pc->sql_delimiter[0] != '\'' ?
	    c->pc->sql_delimiter[0] : ',';
	char *sql = xmalloc(SQL_STMT_MAX), *data = NULL, q[SQL_NAME_MAX * 2];
	size_t len = 0, cap = 0, off, i = 0;
	struct sql_val v[SQL_MAX_COLS];
	int rc;

	sql_quote_ident(q, sizeof(q), s->d, table);
	off = (size_t)snprintf(sql, SQL_STMT_MAX, "COPY %s (", q);
	for (int j = 0; j < s->n; j++) {
		sql_quote_ident(q, sizeof(q), s->d, s->cols[j].name);
		off += (size_t)snprintf(sql + off, SQL_STMT_MAX - off, "%s%s", j ? ", " : "", q);
	}
	snprintf(sql + off, SQL_STMT_MAX - off, ") FROM STDIN WITH (FORMAT csv, DELIMITER '%c')", delim);
	for (const struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e), i++) {
		if (gi[i] != g)
			continue;
		row_of(c, t, e, now, v);
		for (int j = 0; j < s->n; j++) {
			bool stamp = s->cols[j].type == SQLT_STAMP;
			csv_field(&data, &len, &cap, &v[j], stamp, s->epoch, delim, j == 0);
		}
		if (len + 2 > cap) {
			cap = cap * 2 + 2;
			data = xrealloc(data, cap);
		}
		data[len++] = '\n';
		data[len] = '\0';
		c->inserts++;
	}
	rc = c->be->copy(c->h, sql, data ? data : "", len);
	if (rc < 0)
		sql_fail(c, "COPY failed");
	free(sql);
	free(data);
	return rc;
}

static void env_add(char **env, int *n, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void env_add(char **env, int *n, const char *k, const char *fmt, ...)
{
	char v[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	env[*n] = xmalloc(strlen(k) + strlen(v) + 2);
	sprintf(env[*n], "%s=%s", k, v);
	(*n)++;
}

/* sql_trigger_exec with pmacct's environment; never waited for beyond a double fork. */
static void run_trigger(struct sql_ctx *c, size_t total, size_t written, time_t start,
    const char *table, int64_t basetime)
{
	const struct plugin_cfg *pc = c->pc;
	char *env[32];
	int n = 0;
	const char *path = getenv("PATH");

	if (!pc->trigger_exec)
		return;
	env_add(env, &n, "PATH", "%s", path ? path : "/usr/bin:/bin");
	env_add(env, &n, "SQL_DB", "%s", c->on_backup ? c->backup.db : c->conn.db);
	env_add(env, &n, "SQL_TABLE", "%s", c->table_tpl);
	env_add(env, &n, "EFFECTIVE_SQL_TABLE", "%s", table);
	env_add(env, &n, "SQL_HOST", "%s", c->on_backup ? c->backup.host : c->conn.host);
	env_add(env, &n, "SQL_USER", "%s", c->conn.user);
	env_add(env, &n, "SQL_REFRESH_TIME", "%u", pc->refresh_time);
	env_add(env, &n, "SAMPLING_RATE", "%u", pc->sampling_rate ? pc->sampling_rate : 1);
	env_add(env, &n, "SQL_RECOVERY_BACKUP_HOST", "%s", pc->sql_backup_host ? pc->sql_backup_host : "");
	env_add(env, &n, "TOTAL_ELEM_NUMBER", "%zu", total);
	env_add(env, &n, "EFFECTIVE_ELEM_NUMBER", "%zu", written);
	env_add(env, &n, "INSERT_QUERIES_NUMBER", "%" PRIu64, c->inserts);
	env_add(env, &n, "UPDATE_QUERIES_NUMBER", "%" PRIu64, c->updates);
	env_add(env, &n, "ELAPSED_TIME", "%ld", (long)(time(NULL) - start));
	env_add(env, &n, "SQL_HISTORY_BASETIME", "%" PRId64, basetime);
	env_add(env, &n, "SQL_HISTORY_TIMESLOT", "%u", pc->history.secs);
	env_add(env, &n, "SQL_MAX_WRITERS", "%d", 1);
	env_add(env, &n, "SQL_ACTIVE_WRITERS", "%d", 1);
	env[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			execle(pc->trigger_exec, pc->trigger_exec, (char *)NULL, env);
			_exit(127);
		}
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	else
		log_warn(c->who, "cannot run sql_trigger_exec '%s'", pc->trigger_exec);
	for (int i = 0; i < n; i++)
		free(env[i]);
}

/* How a purge's transaction ended. */
enum purge_rc {
	PURGE_OK,
	PURGE_FAILED,		/* rolled back, or never begun: nothing landed */
	PURGE_IN_DOUBT,		/* COMMIT sent, no acknowledgement: it may have landed */
	PURGE_LANDED_BEFORE,	/* its id was recorded: an earlier attempt landed */
	PURGE_AGAIN,		/* the purges table refused a statement: write again without it */
};

/* Every group's table looked up (missing ones created) before BEGIN: DDL commits in MySQL. */
static int prepare_tables(struct sql_ctx *c, struct agg_table *t, const uint16_t *gi,
    char (*names)[SQL_NAME_MAX], int ng, time_t now)
{
	for (int g = 0; g < ng; g++) {
		struct group gr = { t, gi, (uint16_t)g, now };
		if (!group_table(c, &gr, names[g]))
			return -1;
	}
	return 0;
}

/*
 * A statement on the purges table failed: roll back, and tell a refusal
 * on a live connection (true) from a lost connection (false, logged).
 */
static bool books_refused(struct sql_ctx *c, const char *what)
{
	char why[512];

	sql_error_text(c, why, sizeof(why));
	c->be->exec(c->h, "ROLLBACK");
	if (c->be->exec(c->h, "SELECT 1") == 0)
		return true;
	log_err(c->who, "%s: %s", what, why);
	return false;
}

/*
 * The purge's id, first thing in its transaction.  An id that cannot be
 * written on a live connection (no INSERT privilege, a table of another
 * shape) turns bookkeeping off, with one warning, rather than blocking
 * every purge.
 */
static enum purge_rc record_id(struct sql_ctx *c, const struct sql_purge_id *id,
    const char *table, size_t entries, time_t now)
{
	char why[512];

	switch (sql_purges_record(c, id, table, entries, now)) {
	case SQLR_NEW:
		return PURGE_OK;
	case SQLR_DONE:
		c->be->exec(c->h, "ROLLBACK");
		return PURGE_LANDED_BEFORE;
	case SQLR_ERR:
		break;
	}
	sql_error_text(c, why, sizeof(why));
	if (!books_refused(c, "cannot record the purge id"))
		return PURGE_FAILED;
	log_warnx(c->who, "cannot record purge ids in '%s' (%s): purges are not recorded from now "
	    "on, and a purge retried after an unacknowledged COMMIT may be counted twice",
	    c->purges_table, why);
	c->purges = SQLP_OFF;
	return PURGE_AGAIN;
}

/* Pruning refused (no DELETE privilege): keep every id rather than fail the purge. */
static enum purge_rc prune_refused(struct sql_ctx *c)
{
	char why[512];

	sql_error_text(c, why, sizeof(why));
	if (!books_refused(c, "cannot prune earlier purge ids"))
		return PURGE_FAILED;
	log_warnx(c->who, "cannot delete earlier purge ids from '%s' (%s): it keeps every purge "
	    "from now on", c->purges_table, why);
	c->purges_prune = false;
	return PURGE_AGAIN;
}

/* Every group in one transaction, with the purge's id when bookkeeping is on. */
static enum purge_rc write_all(struct sql_ctx *c, struct agg_table *t, const struct sql_purge_id *id,
    time_t now, char *last, size_t llen)
{
	size_t cnt = agg_count(t);
	uint16_t *gi = xcalloc(cnt + 1, sizeof(*gi));
	char (*names)[SQL_NAME_MAX] = NULL;
	int ng = group_tables(c, t, now, gi, &names), rc = -1;
	enum purge_rc pr = PURGE_FAILED;

	if (ng < 0) {
		log_err(c->who, "too many distinct table names in one purge");
		goto out;
	}
	/* the accounting tables first: a new database lists them before the purges table */
	if (prepare_tables(c, t, gi, names, ng, now) < 0 || sql_purges_ready(c) < 0)
		goto out;
	if (c->be->exec(c->h, "BEGIN") < 0) {
		sql_fail(c, "BEGIN failed");
		goto out;
	}
	if (c->purges == SQLP_ON) {
		pr = record_id(c, id, ng == 1 ? names[0] : c->table_tpl, cnt, now);
		if (pr != PURGE_OK)
			goto out;	/* rolled back */
	}
	rc = 0;
	for (int g = 0; g < ng && rc == 0; g++) {
		struct group gr = { t, gi, (uint16_t)g, now };
		rc = write_group(c, &gr, names[g]);
		snprintf(last, llen, "%s", names[g]);
	}
	if (rc == 0 && c->purges == SQLP_ON && c->purges_prune && sql_purges_prune(c, id) < 0) {
		pr = prune_refused(c);
		goto out;
	}
	if (rc < 0) {
		pr = PURGE_FAILED;
		if (c->h)
			c->be->exec(c->h, "ROLLBACK");
	} else if (c->be->exec(c->h, "COMMIT") < 0) {
		sql_fail(c, "COMMIT failed");
		pr = PURGE_IN_DOUBT;
	} else {
		pr = PURGE_OK;
	}
out:
	free(gi);
	free(names);
	return pr;
}

static enum purge_rc write_purge(struct sql_ctx *c, struct agg_table *t,
    const struct sql_purge_id *id, time_t now, char *last, size_t llen)
{
	enum purge_rc pr = write_all(c, t, id, now, last, llen);
	for (int i = 0; i < 2 && pr == PURGE_AGAIN; i++)
		pr = write_all(c, t, id, now, last, llen);
	return pr == PURGE_AGAIN ? PURGE_FAILED : pr;
}

/*
 * The purge kept apart after an unacknowledged COMMIT goes first, as it
 * was (same id, rows and time): applied when its id is not recorded,
 * dropped when it is.  Returns 0 when it is resolved (or there is none).
 */
static int retry_doubt(struct sql_ctx *c)
{
	const struct sql_purge_id *id = &c->doubt_id;
	size_t n = c->doubt ? agg_count(c->doubt) : 0;
	char last[SQL_NAME_MAX] = "";

	if (n == 0)
		return 0;
	if (sql_purges_ready(c) < 0)
		return -1;
	if (c->purges != SQLP_ON)
		log_warnx(c->who, "purge %s#%" PRIu64 " (COMMIT unacknowledged) is written again "
		    "without a purges table to check: it may be counted twice", id->writer, id->seq);
	switch (write_purge(c, c->doubt, id, c->doubt_now, last, sizeof(last))) {
	case PURGE_OK:
		log_notice(c->who, "purge %s#%" PRIu64 " had not landed: its %zu entries are written "
		    "now", id->writer, id->seq, n);
		break;
	case PURGE_LANDED_BEFORE:
		log_notice(c->who, "purge %s#%" PRIu64 " had landed before its COMMIT acknowledgement "
		    "was lost: its %zu entries are not written again", id->writer, id->seq, n);
		break;
	default:
		return -1;
	}
	sql_doubt_drop(c);
	return 0;
}

/* A failed purge: keep its entries, apart when its COMMIT may have landed. */
static void purge_failed(struct sql_ctx *c, struct agg_table *t, enum purge_rc pr,
    const struct sql_purge_id *id, time_t now, bool final)
{
	size_t total = agg_count(t);

	sql_ctx_close(c);
	if (pr == PURGE_IN_DOUBT && c->purges == SQLP_ON) {
		sql_doubt_keep(c, t, id, now);
		log_warnx(c->who, "COMMIT of purge %s#%" PRIu64 " not acknowledged: its %zu entries "
		    "are kept apart and written again, once, unless the purges table shows it "
		    "landed", id->writer, id->seq, total);
	} else if (pr == PURGE_IN_DOUBT) {
		log_warnx(c->who, "COMMIT of the purge not acknowledged and purges are not recorded: "
		    "its entries are written again and may be counted twice");
	}
	if (agg_count(t))
		log_err(c->who, "purge failed: %zu entries kept for the next purge", total);
	if (agg_count(t) > c->spool_max || (final && agg_count(t)))
		sql_spool_write(c, t);
	if (final)
		sql_doubt_save(c);
}

int sql_ctx_flush(struct sql_ctx *c, struct agg_table *t, bool final)
{
	time_t start = time(NULL);
	size_t total = 0, done = 0;	/* done: spool parts written before the last one */
	char last[SQL_NAME_MAX] = "";
	int64_t basetime = 0;
	struct sql_purge_id id = { .seq = 0 };
	enum purge_rc pr = PURGE_FAILED;

	c->inserts = c->updates = 0;
	log_info(c->who, "*** Purging cache - START (PID: %d) ***", (int)getpid());
	sql_doubt_load(c);
	if (connect_db(c) == 0 && retry_doubt(c) == 0) {
		bool more = sql_spool_read(c, t);
		total = agg_count(t);
		for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e))
			basetime = e->bin > basetime ? e->bin : basetime;
		snprintf(id.writer, sizeof(id.writer), "%s", c->writer);
		id.seq = total ? ++c->seq : c->seq;
		pr = total ? write_purge(c, t, &id, start, last, sizeof(last)) : PURGE_OK;
		/* a spool read back in parts: the rest, one transaction a part, while they land */
		while (pr == PURGE_OK && more) {
			done += agg_count(t);
			agg_clear(t);
			more = sql_spool_read(c, t);
			id.seq = agg_count(t) ? ++c->seq : c->seq;
			pr = agg_count(t) ? write_purge(c, t, &id, start, last, sizeof(last)) : PURGE_OK;
		}
	}
	total = done + agg_count(t);
	if (pr == PURGE_LANDED_BEFORE)	/* a fresh id is never recorded before: defensive */
		log_warnx(c->who, "purge %s#%" PRIu64 " was already recorded: not written", id.writer,
		    id.seq);
	if (pr == PURGE_OK || pr == PURGE_LANDED_BEFORE) {
		agg_clear(t);
		log_info(c->who, "*** Purging cache - END (PID: %d, QN: %zu/%zu, ET: %ld) ***",
		    (int)getpid(), total, total, (long)(time(NULL) - start));
	} else {
		purge_failed(c, t, pr, &id, start, final);
	}
	run_trigger(c, total, pr == PURGE_OK ? total : 0, start, last[0] ? last : c->table_tpl,
	    basetime);
	return pr == PURGE_OK || pr == PURGE_LANDED_BEFORE ? 0 : -1;
}

void sql_ctx_fini(struct sql_ctx *c)
{
	sql_ctx_close(c);
	if (c->doubt)
		agg_free(c->doubt);
	c->doubt = NULL;
}
