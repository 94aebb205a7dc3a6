/* SPDX-License-Identifier: BSD-3-Clause */
/* sql.c: the SQL plugins' runtime: cache, time-bins, a writer thread flushing one transaction per sql_refresh_time, faults. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/text.h"
#include "lib/timefmt.h"
#include "lib/xalloc.h"
#include "model/gauge.h"
#include "plugins/agg.h"
#include "plugins/binned.h"
#include "plugins/plugin.h"
#include "plugins/stitch.h"
#include "plugins/sql.h"
#include "plugins/sql_write.h"

/* Defaults that depend on the backend, as pmacct. */
static void resolve_conn(struct sql_ctx *c, const struct plugin_cfg *pc)
{
	bool lite = c->be->dialect == SQL_SQLITE;
	c->conn.db = pc->sql_db ? pc->sql_db : lite ? "/tmp/pmacct.db" : "pmacct";
	c->conn.host = pc->sql_host ? pc->sql_host : "localhost";
	c->conn.user = pc->sql_user ? pc->sql_user : "pmacct";
	c->conn.passwd = pc->sql_passwd ? pc->sql_passwd : "arealsmartpwd";
	c->conn.ca_file = pc->sql_conn_ca_file;
	c->conn.port = pc->sql_port;
	c->backup = c->conn;
	if (pc->sql_backup_host) {
		/* sqlite3: the backup "host" is another database file */
		if (lite)
			c->backup.db = pc->sql_backup_host;
		else
			c->backup.host = pc->sql_backup_host;
	}
}

/* A short hash of where the rows go, so that a spool is only read back into its own database. */
static uint32_t spool_tag(const struct sql_ctx *c)
{
	const char *parts[] = { c->conn.host, c->conn.db, c->table_tpl };
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < NELEM(parts); i++)
		for (const char *q = parts[i]; *q; q++)
			h = (h ^ (uint8_t)*q) * 16777619u;
	return h;
}

/* The plugin's SQL context; `say`: log the automatic switch to the bgp table (once, at init). */
static int ctx_init(struct plugin *p, struct sql_ctx *c, const struct sql_backend *be, bool say)
{
	struct plugin_cfg *pc = p->cfg;
	unsigned v = pc->sql_table_version ? pc->sql_table_version : 1;
	bool bgp = strcmp(pc->sql_table_type, "bgp") == 0;
	char why[160], q[256];

	if (pc->sql_table_type[0] && !bgp && strcmp(pc->sql_table_type, "original")) {
		log_err(p->who, "[%s] sql_table_type '%s': expected original or bgp. Exiting.",
		    cfg_where(&pc->origin, "sql_table_type"), pc->sql_table_type);
		return -1;
	}
	if (!pc->sql_table_type[0] && sql_wants_bgp_table(&pc->aggregate)) {
		bgp = true;
		if (say)
			log_info(p->who, "sql_table_type set to 'bgp' (aggregate includes one or more BGP primitives).");
	}
	c->be = be;
	c->who = p->who;
	c->pc = pc;
	c->agg = &pc->aggregate;
	c->utc = p->core->timestamps_utc;
	if (sql_schema_build(&c->schema, be->dialect, v, bgp, pc->sql_optimize_clauses, pc->prims,
	    &pc->aggregate, pc->history.n != 0, p->core->timestamps_since_epoch, why, sizeof(why)) < 0) {
		log_err(p->who, "[%s] %s. Exiting.", cfg_where(&pc->origin, "sql_table_version"), why);
		return -1;
	}
	c->table_tpl = pc->sql_table ? pc->sql_table : sql_default_table(v, bgp);
	if (sql_quote_ident(q, sizeof(q), be->dialect, c->table_tpl) < 0) {
		log_err(p->who, "[%s] sql_table '%s': not a usable table name. Exiting.",
		    cfg_where(&pc->origin, "sql_table"), c->table_tpl);
		return -1;
	}
	if (pc->sql_use_copy && (be->dialect != SQL_PGSQL || !pc->sql_dont_try_update)) {
		log_warnx(p->who, "sql_use_copy needs pgsql and sql_dont_try_update: ignored");
	}
	resolve_conn(c, pc);
	sql_purges_init(c, pc->name);
	c->spool_max = pc->sql_spool_threshold ? pc->sql_spool_threshold :
	    binned_sql_ceiling(pc->sql_cache_entries, pc->refresh_time);
	if (pc->sql_spool_file)
		snprintf(c->spool, sizeof(c->spool), "%s", pc->sql_spool_file);
	else
		snprintf(c->spool, sizeof(c->spool), "/tmp/pmacct-ng-%s-%s-%08x.spool", pc->type,
		    pc->name, spool_tag(c));
	return 0;
}

struct sql_state {
	struct sql_ctx ctx;		/* owned by the writer while busy */
	struct binned b;		/* b.table: the plugin thread accounts here */
	struct agg_table *pending;	/* handed to the writer */
	pthread_t writer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool busy, stop, started;
	int last_rc;			/* result of the writer's last flush */
	struct table_gauge *backlog;	/* `pending`: what the writer holds (spilled past spool_max) */
	uint32_t busy_ticks;
};

/* Add every entry of src into dst (same primitives), then empty src. */
static void merge_into(struct agg_table *dst, struct agg_table *src, bool stitch)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	for (struct agg_entry *e = agg_next(src, NULL); e; e = agg_next(src, e)) {
		agg_entry_span(src, e, &k);
		size_t before = agg_count(dst);
		struct agg_entry *d = agg_upsert(dst, &k, e->bin);
		bool fresh = agg_count(dst) != before;
		if (!d)
			continue;
		d->packets += e->packets;
		d->bytes += e->bytes;
		d->flows += e->flows;
		d->tcp_flags |= e->tcp_flags;
		if (stitch) {
			struct stitch_ts *ds = agg_entry_ext(dst, d);
			const struct stitch_ts *ss = stitch_of(src, e);
			if (fresh) {
				*ds = *ss;
			} else {
				if (fr_ts_before(&ss->min, &ds->min))
					ds->min = ss->min;
				if (fr_ts_before(&ds->max, &ss->max))
					ds->max = ss->max;
			}
		}
	}
	agg_clear(src);
}

static void *writer_main(void *arg)
{
	struct plugin *p = arg;
	struct sql_state *s = p->state;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->busy && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->busy)
			break;
		pthread_mutex_unlock(&s->mu);
		uint64_t t0 = clock_mono_us();
		int rc = sql_ctx_flush(&s->ctx, s->pending, false);
		plugin_flush_done(p, t0, rc == 0);
		gauge_set(s->backlog, agg_count(s->pending), agg_memory(s->pending));
		pthread_mutex_lock(&s->mu);
		s->last_rc = rc;
		s->busy = false;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/*
 * What start-up and -T config both check, before init() connects to
 * anything: the table settings ctx_init() reads (on a context thrown away),
 * and stitching without pro-rating.
 */
static int sql_check_type(const struct plugin *p, const struct sql_backend *be)
{
	struct plugin probe = *p;	/* ctx_init() keeps pointers into its plugin */
	struct sql_ctx c;

	memset(&c, 0, sizeof(c));
	if (ctx_init(&probe, &c, be, false) < 0)
		return -1;
	return binned_check(p);
}

/* The cache's initial buckets: sql_cache_entries, pmacct's default 32771. */
static size_t sql_buckets(const struct plugin *p)
{
	return p->cfg->sql_cache_entries ? p->cfg->sql_cache_entries : 32771;
}

static size_t sql_ceiling(const struct plugin *p)
{
	return binned_sql_ceiling(p->cfg->sql_cache_entries, p->cfg->refresh_time);
}

/*
 * The cache (pmacct's ceiling: binned_sql_ceiling) and the writer's
 * backlog, which keeps what a failed purge could not write up to
 * sql_spool_threshold entries, then spools it to disk.
 */
static void sql_bounds(struct plugin *p)
{
	const struct plugin_cfg *pc = p->cfg;
	size_t n = sql_ceiling(p), spool = pc->sql_spool_threshold ? pc->sql_spool_threshold : n;

	p->gauge = gauges_add(p->core->gauges, p->who, "cache", "sql_cache_entries", GAUGE_PURGE,
	    n, binned_bytes_at(p, sql_buckets(p), n));
	/* a backlog at spool_max takes one more cache before its writer spools it */
	gauges_add(p->core->gauges, p->who, "backlog", "sql_spool_threshold", GAUGE_SPILL, spool + n,
	    binned_bytes_at(p, sql_buckets(p), spool + n));
}

static void sql_handoff(struct plugin *p);

/*
 * The cache is full: hand it to the writer now.  A writer still busy is
 * waited for (the ring holds what arrives meanwhile): the cache stays
 * within its ceiling and nothing is dropped here.
 */
static void sql_early(void *arg)
{
	struct plugin *p = arg;
	struct sql_state *s = p->state;

	pthread_mutex_lock(&s->mu);
	if (s->busy) {
		log_warnx(p->who, "cache full while the previous purge is still running: waiting "
		    "for it");
		while (s->busy)
			pthread_cond_wait(&s->cv, &s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	sql_handoff(p);
}

static int sql_init_type(struct plugin *p, const struct sql_backend *be)
{
	struct plugin_cfg *pc = p->cfg;
	struct sql_state *s = xcalloc(1, sizeof(*s));
	size_t buckets = sql_buckets(p);

	p->state = s;
	if (ctx_init(p, &s->ctx, be, true) < 0)
		return -1;
	binned_init(&s->b, p, buckets);
	binned_set_ceiling(&s->b, sql_ceiling(p), "sql_cache_entries", sql_early, p, p->gauge);
	s->backlog = gauges_find(p->core->gauges, p->who, "backlog");
	s->pending = binned_table_new(&s->b, p, buckets);
	if (s->b.stitching) {
		sql_schema_add_stitch(&s->ctx.schema);
		if (!pc->sql_dont_try_update)
			log_warnx(p->who, "stitching (ie. nfacctd_stitching) behaviour is undefined when "
			    "sql_dont_try_update is set to false.");
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->writer, NULL, writer_main, p) != 0) {
		log_err_errno(p->who, "cannot start the SQL writer thread");
		return -1;
	}
	s->started = true;
	log_info(p->who, "cache entries=%zu base cache memory=%zu bytes", buckets,
	    binned_bytes_at(p, sql_buckets(p), sql_ceiling(p)));
	log_info(p->who, "%s database '%s' table '%s' (version %u%s)", be->name, s->ctx.conn.db,
	    s->ctx.table_tpl, pc->sql_table_version ? pc->sql_table_version : 1,
	    pc->sql_optimize_clauses ? ", optimized clauses" : "");
	return 0;
}

static void sql_record(struct plugin *p, const struct flow_rec *rec)
{
	struct sql_state *s = p->state;

	binned_account(&s->b, rec);
}

static int sql_next_tick_ms(struct plugin *p)
{
	struct sql_state *s = p->state;

	return binned_next_tick_ms(&s->b);
}

/*
 * Hand the cache to the writer.  A writer still busy (slow or hung
 * database) keeps it: records go on accumulating here and capture never
 * waits.  After a failed flush the writer's table still holds its rows:
 * the new ones are merged into it.
 */
static void sql_tick(struct plugin *p)
{
	struct sql_state *s = p->state;

	binned_deadline_next(&s->b, p->cfg->refresh_time);
	sql_handoff(p);
}

/* Give the cache to an idle writer (merged into its backlog, if any); a busy one keeps it here. */
static void sql_handoff(struct plugin *p)
{
	struct sql_state *s = p->state;

	binned_publish(&s->b);	/* the peak is before the hand-off */
	pthread_mutex_lock(&s->mu);
	if (s->busy) {
		pthread_mutex_unlock(&s->mu);
		log_warnx(p->who, "previous purge still running: keeping %zu entries in the cache",
		    agg_count(s->b.table));
		return;
	}
	if (agg_count(s->pending) == 0) {
		struct agg_table *t = s->pending;
		s->pending = s->b.table;
		s->b.table = t;
	} else {
		merge_into(s->pending, s->b.table, s->b.stitching);
	}
	gauge_set(s->backlog, agg_count(s->pending), agg_memory(s->pending));
	s->busy = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	binned_publish(&s->b);
}

/* Shutdown: wait for the writer, then flush everything once more on this thread. */
static void sql_flush(struct plugin *p)
{
	struct sql_state *s = p->state;

	if (!s->started)
		return;
	pthread_mutex_lock(&s->mu);
	while (s->busy)
		pthread_cond_wait(&s->cv, &s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->writer, NULL);
	s->started = false;
	merge_into(s->pending, s->b.table, s->b.stitching);
	size_t rows = agg_count(s->pending);
	uint64_t t0 = clock_mono_us();
	int rc = sql_ctx_flush(&s->ctx, s->pending, true);
	plugin_flush_done(p, t0, rc == 0);
	if (rc < 0) {
		/* kept in the spool, not lost: the exit status still says the database lacks them */
		p->undelivered = rows ? rows : 1;
		log_err(p->who, "the last purge (%zu rows) was not confirmed by the database: kept "
		    "for the next run (spool '%s')", rows, s->ctx.spool);
	}
	sql_ctx_close(&s->ctx);
}

static void sql_fini(struct plugin *p)
{
	struct sql_state *s = p->state;
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->writer, NULL);
	}
	sql_ctx_fini(&s->ctx);
	binned_fini(&s->b);
	agg_free(s->pending);
	free(s);
	p->state = NULL;
}

#define SQL_TYPE(sym, tname, be)						\
	static int sym##_check(const struct plugin *p) { return sql_check_type(p, &(be)); } \
	static int sym##_init(struct plugin *p) { return sql_init_type(p, &(be)); }	\
	const struct plugin_type sym = {					\
		.name = tname, .daemons = SRC_ALL, .binned = true, .check = sym##_check, \
		.bounds = sql_bounds, .init = sym##_init,			\
		.record = sql_record, .next_tick_ms = sql_next_tick_ms,		\
		.tick = sql_tick, .flush = sql_flush, .fini = sql_fini,		\
	}

#ifdef HAVE_SQLITE3
SQL_TYPE(sqlite3_plugin_type, "sqlite3", sql_sqlite_backend);
#endif
#ifdef HAVE_PGSQL
SQL_TYPE(pgsql_plugin_type, "pgsql", sql_pgsql_backend);
#endif
#ifdef HAVE_MYSQL
SQL_TYPE(mysql_plugin_type, "mysql", sql_mysql_backend);
#endif
