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

static int fail(struct sql_ctx *c, const char *what)
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
		log_err(c->who, "cannot read sql_table_schema '%s': %s", c->pc->sql_table_schema,
		    strerror(errno));
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
		if (c->be->exec(c->h, stmt) < 0)
			rc = fail(c, "sql_table_schema statement failed");
	}
	free(text);
	free(exp);
	return rc;
}

/* Look the table up (once per connection), creating it when missing. */
static struct sql_table_info *table_info(struct sql_ctx *c, const char *name,
    const struct flow_key *k, int64_t bin, time_t now)
{
	struct sql_table_info ti = { 0 };
	bool exists = false;
	char ddl[16384];

	for (int i = 0; i < c->ntables; i++)
		if (strcmp(c->tables[i].name, name) == 0)
			return &c->tables[i];
	snprintf(ti.name, sizeof(ti.name), "%s", name);
	if (c->be->table_info(c->h, name, &exists, &ti.unique, ti.conflict, sizeof(ti.conflict)) < 0) {
		fail(c, "cannot look up table");
		return NULL;
	}
	if (!exists) {
		log_info(c->who, "table '%s' does not exist: creating it", name);
		if (c->pc->sql_table_schema) {
			if (create_from_file(c, k, bin, now) < 0)
				return NULL;
		} else if (sql_build_create(ddl, sizeof(ddl), &c->schema, name) < 0 ||
		    c->be->exec(c->h, ddl) < 0) {
			fail(c, "cannot create table");
			return NULL;
		}
		if (c->be->table_info(c->h, name, &exists, &ti.unique, ti.conflict,
		    sizeof(ti.conflict)) < 0 || !exists) {
			log_err(c->who, "table '%s' still missing after creation", name);
			return NULL;
		}
	}
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
		rc = fail(c, "cannot prepare statement");
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
			rc = fail(c, "UPDATE failed");
		if (rc == 0 && changed == 0) {
			if (c->be->run(c->h, ins, v, n, NULL) < 0)
				rc = fail(c, "INSERT failed");
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
			rc = fail(c, m == SQLM_UPSERT ? "upsert failed" : "INSERT failed");
		c->inserts += (uint64_t)per;
		r = 0;
	}
	for (int j = 0; j < r && rc == 0; j++) {
		if (c->be->run(c->h, one, v + (size_t)j * (size_t)n, n, NULL) < 0)
			rc = fail(c, m == SQLM_UPSERT ? "upsert failed" : "INSERT failed");
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

static int write_group(struct sql_ctx *c, const struct group *gr, const char *table)
{
	const struct agg_entry *first = NULL;
	struct flow_key k;
	struct sql_table_info *ti;
	int per = 1;

	size_t i = 0;
	for (struct agg_entry *e = agg_next(gr->t, NULL); e && !first; e = agg_next(gr->t, e), i++)
		if (gr->gi[i] == gr->g)
			first = e;
	if (!first)
		return 0;
	agg_entry_key(gr->t, first, &k);
	ti = table_info(c, table, &k, first->bin, gr->now);
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
	for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e), i++) {
		int g;
		agg_entry_key(t, e, &k);
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
		fail(c, "COPY failed");
	free(sql);
	free(data);
	return rc;
}

/*
 * Spool file: a header, then fixed-size records (bin, counters, full key),
 * each followed by its struct stitch_ts with stitching (another header).
 */
static const char spool_magic[8] = "PMNGSQL1";
static const char spool_magic_stitch[8] = "PMNGSQLS";

static const char *spool_header(const struct sql_ctx *c)
{
	return c->schema.stitch ? spool_magic_stitch : spool_magic;
}

struct spool_rec {
	int64_t bin;
	uint64_t packets, bytes, flows;
	uint8_t tcp_flags;
	uint8_t pad[7];
	struct flow_key k;
};

static int spool_write(struct sql_ctx *c, struct agg_table *t)
{
	FILE *f = fopen(c->spool, "ab");
	struct spool_rec r;
	size_t n = 0;

	if (!f) {
		log_err(c->who, "cannot open spool file '%s': %s; keeping %zu entries in memory",
		    c->spool, strerror(errno), agg_count(t));
		return -1;
	}
	if (ftell(f) == 0)
		fwrite(spool_header(c), 1, sizeof(spool_magic), f);
	for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e), n++) {
		memset(&r, 0, sizeof(r));
		r.bin = e->bin;
		r.packets = e->packets;
		r.bytes = e->bytes;
		r.flows = e->flows;
		r.tcp_flags = e->tcp_flags;
		agg_entry_key(t, e, &r.k);
		fwrite(&r, sizeof(r), 1, f);
		if (c->schema.stitch)
			fwrite(stitch_of(t, e), sizeof(struct stitch_ts), 1, f);
	}
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
		log_err(c->who, "cannot write spool file '%s': %s; keeping entries in memory",
		    c->spool, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	log_warnx(c->who, "database unavailable: %zu entries spooled to '%s'", n, c->spool);
	agg_clear(t);
	return 0;
}

/* Merge the spool back into t and remove it (its rows now live in t). */
static void spool_read(struct sql_ctx *c, struct agg_table *t)
{
	FILE *f = fopen(c->spool, "rb");
	char magic[sizeof(spool_magic)];
	struct spool_rec r;
	size_t n = 0;

	if (!f)
		return;
	if (fread(magic, 1, sizeof(magic), f) != sizeof(magic) ||
	    memcmp(magic, spool_header(c), sizeof(magic))) {
		log_err(c->who, "spool file '%s' is not ours: left alone", c->spool);
		fclose(f);
		return;
	}
	while (fread(&r, sizeof(r), 1, f) == 1) {
		struct stitch_ts st;
		if (c->schema.stitch && fread(&st, sizeof(st), 1, f) != 1)
			break;
		size_t before = agg_count(t);
		struct agg_entry *e = agg_upsert(t, &r.k, r.bin);
		if (!e)
			continue;
		if (c->schema.stitch) {
			struct stitch_ts *et = agg_entry_ext(t, e);
			if (agg_count(t) != before) {
				*et = st;
			} else {
				if (fr_ts_before(&st.min, &et->min))
					et->min = st.min;
				if (fr_ts_before(&et->max, &st.max))
					et->max = st.max;
			}
		}
		e->packets += r.packets;
		e->bytes += r.bytes;
		e->flows += r.flows;
		e->tcp_flags |= r.tcp_flags;
		n++;
	}
	fclose(f);
	unlink(c->spool);
	log_info(c->who, "%zu spooled entries read back from '%s'", n, c->spool);
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
		log_warnx(c->who, "cannot run sql_trigger_exec '%s': %s", pc->trigger_exec, strerror(errno));
	for (int i = 0; i < n; i++)
		free(env[i]);
}

/* Every group in one transaction. */
static int write_all(struct sql_ctx *c, struct agg_table *t, time_t now, char *last, size_t llen)
{
	size_t cnt = agg_count(t);
	uint16_t *gi = xcalloc(cnt + 1, sizeof(*gi));
	char (*names)[SQL_NAME_MAX] = NULL;
	int ng = group_tables(c, t, now, gi, &names), rc = 0;

	if (ng < 0) {
		log_err(c->who, "too many distinct table names in one purge");
		rc = -1;
	} else if (c->be->exec(c->h, "BEGIN") < 0) {
		rc = fail(c, "BEGIN failed");
	}
	for (int g = 0; g < ng && rc == 0; g++) {
		struct group gr = { t, gi, (uint16_t)g, now };
		rc = write_group(c, &gr, names[g]);
		snprintf(last, llen, "%s", names[g]);
	}
	if (rc == 0 && c->be->exec(c->h, "COMMIT") < 0)
		rc = fail(c, "COMMIT failed");
	if (rc < 0 && c->h)
		c->be->exec(c->h, "ROLLBACK");
	free(gi);
	free(names);
	return rc;
}

int sql_ctx_flush(struct sql_ctx *c, struct agg_table *t, bool final)
{
	time_t start = time(NULL);
	size_t total;
	char last[SQL_NAME_MAX] = "";
	int64_t basetime = 0;
	int rc = -1;

	c->inserts = c->updates = 0;
	log_info(c->who, "*** Purging cache - START (PID: %d) ***", (int)getpid());
	if (connect_db(c) == 0) {
		spool_read(c, t);
		total = agg_count(t);
		for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e))
			basetime = e->bin > basetime ? e->bin : basetime;
		rc = total ? write_all(c, t, start, last, sizeof(last)) : 0;
	}
	total = agg_count(t);
	if (rc == 0) {
		agg_clear(t);
		log_info(c->who, "*** Purging cache - END (PID: %d, QN: %zu/%zu, ET: %ld) ***",
		    (int)getpid(), total, total, (long)(time(NULL) - start));
	} else {
		sql_ctx_close(c);
		log_err(c->who, "purge failed: %zu entries kept for the next purge", total);
		if (total > c->spool_max || final)
			spool_write(c, t);
	}
	run_trigger(c, total, rc == 0 ? total : 0, start, last[0] ? last : c->table_tpl, basetime);
	return rc;
}
