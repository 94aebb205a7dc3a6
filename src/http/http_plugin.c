/* SPDX-License-Identifier: BSD-3-Clause */
/* http_plugin.c: the http plugin: a table of its own aggregate, served as JSON, a live dashboard and /metrics. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http_api.h"
#include "http/http_srv.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "model/gauge.h"
#include "plugins/agg.h"
#include "plugins/plugin.h"

#define HTTP_IDLE_MS	10	/* run the server this often when no batch arrives */
#define HTTP_BUCKETS	32771	/* the table's initial hash buckets */

struct http_pstate {
	struct http_ctx ctx;
	int64_t next_ms;
	uint64_t refused_seen;		/* agg_dropped() at the last tick */
	bool full_logged;		/* since the table last had room */
};

static const char *daemon_name(enum cfg_daemon d)
{
	return d == CFG_NFACCTD ? "nfacctd" : d == CFG_SFACCTD ? "sfacctd" : "pmacctd";
}

static const char *listen_of(const struct plugin_cfg *pc)
{
	return pc->http_listen ? pc->http_listen : "127.0.0.1:8080";
}

/*
 * What start-up refuses, opening nothing (also run by -T config): no
 * variable-length primitive in the aggregate, and an http_listen that
 * parses and resolves.  A busy port is only seen by init's bind.
 */
static int http_check(const struct plugin *p)
{
	const struct plugin_cfg *pc = p->cfg;
	char why[320];

	for (int i = 0; i < P_COUNT; i++) {
		const struct prim_desc *d = prim_desc_of(pc->prims, i);
		if (prim_has(&pc->aggregate, (enum prim_id)i) && (d->flags & PRIM_VLEN)) {
			log_err(p->who, "variable-length primitives are not supported by the http plugin "
			    "('%s'). Exiting ..", d->name);
			return -1;
		}
	}
	if (http_listen_check(listen_of(pc), why, sizeof(why)) < 0) {
		log_err(p->who, "[%s] key 'http_listen[%s]': %s. Exiting.",
		    cfg_where(&pc->origin, "http_listen"), pc->name, why);
		return -1;
	}
	return 0;
}

/* The table and its bound, http_max_entries, for SIGUSR1, /metrics and -T config. */
static void http_bounds(struct plugin *p)
{
	const struct plugin_cfg *pc = p->cfg;
	struct agg_table *t = agg_new(pc->prims, &pc->aggregate, HTTP_BUCKETS);
	size_t n = pc->http_max_entries;

	p->gauge = gauges_add(p->core->gauges, p->who, "cache", "http_max_entries", GAUGE_REFUSE, n,
	    n ? agg_memory_at(t, n) : 0);
	agg_free(t);
}

/*
 * The table's fill to its gauge; refusals counted there and logged once
 * each time the table fills (an erase through the API gives it room again).
 */
static void http_publish(struct plugin *p, struct http_pstate *s)
{
	uint64_t d = agg_dropped(s->ctx.table);
	size_t n = agg_count(s->ctx.table);

	if (d > s->refused_seen) {
		if (!s->full_logged) {
			log_warnx(p->who, "table full (http_max_entries %u): new aggregates are refused "
			    "and counted (pmacct_tables_refused_total)", p->cfg->http_max_entries);
			gauge_hit(p->gauge, d - s->refused_seen);
			s->full_logged = true;
		} else {
			gauge_refuse(p->gauge, d - s->refused_seen);
		}
		s->refused_seen = d;
	} else if (s->full_logged && n < p->cfg->http_max_entries) {
		s->full_logged = false;
	}
	gauge_set(p->gauge, n, agg_memory(s->ctx.table));
}

/*
 * Called on the core thread before capture starts (and before daemonizing),
 * on a config http_check() accepted:
 * the socket is bound here so a busy port stops start-up, and the server has
 * no thread of its own, so nothing is lost when the daemon forks.
 */
static int http_init(struct plugin *p)
{
	struct plugin_cfg *pc = p->cfg;
	struct http_pstate *s;
	struct http_ctx *c;

	s = xcalloc(1, sizeof(*s));
	p->state = s;
	c = &s->ctx;
	c->self = p;
	/* plugins_create() makes one array in config order: the plugin's siblings surround it */
	c->nall = p->core->nplugins;
	c->all = p - (p->cfg - p->core->plugins);
	c->daemon = daemon_name(p->core->daemon);
	c->table = agg_new(pc->prims, &pc->aggregate, HTTP_BUCKETS);
	agg_set_limit(c->table, pc->http_max_entries);
	http_series_init(&c->series, pc->http_history, pc->http_history_bin);
	out_opts_from_cfg(&c->oo, pc, p->core);
	c->oo.fmt = OUT_JSON;
	c->oo.json_event_type = false;
	c->oo.stamps = false;
	c->started = (int64_t)time(NULL);
	c->erased_at = -1;
	/* the receive threads publish exporter health only when an http plugin reads it */
	if (p->core->health)
		health_ref(p->core->health);
	else
		p->core->health = health_new();
	c->health = p->core->health;
	c->srv = http_srv_new(p->who, listen_of(pc), pc->http_token, http_api_handle, c);
	return c->srv ? 0 : -1;
}

static void http_record(struct plugin *p, const struct flow_rec *rec)
{
	struct http_pstate *s = p->state;
	struct http_ctx *c = &s->ctx;
	struct timespec now;

	agg_account(c->table, rec, 0);
	c->packets += rec->packets;
	c->bytes += rec->bytes;
	c->flows += rec->flows;
	c->records++;
	/* bins by arrival at the plugin: the dashboard shows the rate as it is seen now */
	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	http_series_add(&c->series, (int64_t)now.tv_sec, rec->packets, rec->bytes, rec->flows, 1);
}

static int http_next_tick_ms(struct plugin *p)
{
	struct http_pstate *s = p->state;
	int64_t d = s->next_ms - clock_mono_ms();
	return d <= 0 ? 0 : (int)d;
}

/* Serve HTTP between batches: the table is touched by this thread only. */
static void http_tick(struct plugin *p)
{
	struct http_pstate *s = p->state;
	struct http_ctx *c = &s->ctx;
	double t0 = clock_mono_secs(), dt;
	int wait;

	http_publish(p, s);
	http_srv_run(c->srv);
	dt = clock_mono_secs() - t0;
	c->serve_runs++;
	c->serve_secs += dt;
	if (dt > c->serve_max_secs)
		c->serve_max_secs = dt;
	wait = http_srv_timeout_ms(c->srv);
	s->next_ms = clock_mono_ms() + (wait >= 0 && wait < HTTP_IDLE_MS ? wait : HTTP_IDLE_MS);
}

static void http_fini(struct plugin *p)
{
	struct http_pstate *s = p->state;

	if (!s)
		return;
	http_srv_free(s->ctx.srv);
	agg_free(s->ctx.table);
	http_series_fini(&s->ctx.series);
	if (s->ctx.health && health_unref(s->ctx.health))
		p->core->health = NULL;
	free(s);
	p->state = NULL;
}

const struct plugin_type http_plugin_type = {
	.name = "http",
	.daemons = SRC_ALL,
	.check = http_check,
	.bounds = http_bounds,
	.init = http_init,
	.record = http_record,
	.next_tick_ms = http_next_tick_ms,
	.tick = http_tick,
	.fini = http_fini,
};
