/* SPDX-License-Identifier: BSD-3-Clause */
/* nfprobe.c: the nfprobe plugin: packets into a flow cache, expired flows out as NetFlow v5, v9 or IPFIX. */
#include "nfprobe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "model/gauge.h"
#include "model/prim.h"
#include "plugins/nfprobe_net.h"
#include "plugins/plugin.h"

/* What the nfprobe_* keys say, parsed and checked (nfprobe_configure). */
struct nfprobe_settings {
	struct nfp_timeouts t;
	struct nfx_cfg xcfg;
	enum nfp_src dir_src, if_src;
	uint32_t ifindex;		/* nfprobe_ifindex as a number */
	uint32_t maxflows;
	struct probe_addr to;		/* nfprobe_receiver */
	struct probe_addr src;		/* nfprobe_source_ip, when has_src */
	bool has_src;
};

struct nfprobe_state {
	struct nfp_cache *cache;
	struct nfx x;
	bool x_ready;			/* the exporter starts with the first packet (uptime origin) */
	struct nfprobe_settings set;
	int fd;
	bool live;			/* live capture: the wall clock moves the cache on idle */
	int64_t tick_at;		/* next tick, wall clock ms */
	uint64_t send_errors;
	uint64_t forced_logged;		/* nfp_cache_forced() at the last "maxflows" line */
	int64_t forced_logged_ms;	/* when (packet time), 0 = never */
	uint32_t log_countdown;		/* records until the next look at forced expiries */
	struct plugin *p;
};

#define NFPROBE_LOG_EVERY_MS	60000	/* between "maxflows reached" lines */
#define NFPROBE_LOG_LOOK	1024	/* records between two looks at the forced expiries */

int nfp_parse_src(const char *v, bool number_ok, enum nfp_src *out, uint32_t *num)
{
	if (!v || !*v)
		*out = NFP_NONE;
	else if (!number_ok && strcmp(v, "in") == 0)
		*out = NFP_IN;
	else if (!number_ok && strcmp(v, "out") == 0)
		*out = NFP_OUT;
	else if (strcmp(v, "tag") == 0)
		*out = NFP_TAG;
	else if (strcmp(v, "tag2") == 0)
		*out = NFP_TAG2;
	else if (number_ok) {
		char *e;
		errno = 0;
		unsigned long n = strtoul(v, &e, 10);
		if (*e || errno || n > UINT32_MAX)
			return -1;
		*out = NFP_VALUE;
		*num = (uint32_t)n;
	} else
		return -1;
	return 0;
}

/* "type:id" (v5 engine type and id) or "id"; v9/IPFIX use the last number as source id. */
static int parse_engine(const char *v, struct nfx_cfg *xc)
{
	unsigned long a, b = 0;
	char *e;

	if (!v || !*v)
		return 0;
	errno = 0;
	a = strtoul(v, &e, 10);
	if (e == v || errno)
		return -1;
	if (*e == ':') {
		const char *s = e + 1;
		b = strtoul(s, &e, 10);
		if (e == s || *e || errno || a > 255 || b > 255)
			return -1;
		xc->engine_type = (uint8_t)a;
		xc->engine_id = (uint8_t)b;
		xc->source_id = (uint32_t)((a << 8) | b);
		return 0;
	}
	if (*e || a > UINT32_MAX || (xc->version == 5 && a > 255))
		return -1;
	xc->engine_id = (uint8_t)a;
	xc->source_id = (uint32_t)a;
	return 0;
}

static void nfprobe_send(void *arg, const uint8_t *buf, size_t len)
{
	struct nfprobe_state *s = arg;

	if (send(s->fd, buf, len, 0) < 0 && s->send_errors++ % 1000 == 0)
		log_warn(s->p->who, "cannot send an export datagram");
}

static void nfprobe_export(void *arg, const struct nfx_flow *f, int64_t now_ms)
{
	struct nfprobe_state *s = arg;

	nfx_add(&s->x, f, now_ms);
}

/* Report a bad value of `key` with file and line. */
static int bad_key(const struct plugin *p, const char *key, const char *why)
{
	log_err(p->who, "[%s] key '%s[%s]': %s. Exiting.", cfg_where(&p->cfg->origin, key), key,
	    p->cfg->name, why);
	return -1;
}

/*
 * Fill *st from the nfprobe_* keys, checking every value: the one
 * validation of both -T config (nfprobe_check) and start-up (nfprobe_init).
 * Opens nothing.  0, or -1 after logging file, line and key.
 */
static int nfprobe_configure(const struct plugin *p, struct nfprobe_settings *st)
{
	const struct plugin_cfg *pc = p->cfg;
	char why[256];

	memset(st, 0, sizeof(*st));
	nfp_timeouts_default(&st->t);
	if (pc->nfprobe_timeouts && nfp_timeouts_parse(pc->nfprobe_timeouts, &st->t, why,
	    sizeof(why)) < 0)
		return bad_key(p, "nfprobe_timeouts", why);
	st->xcfg.version = pc->nfprobe_version ? (int)pc->nfprobe_version : 10;
	if (st->xcfg.version != 5 && st->xcfg.version != 9 && st->xcfg.version != 10)
		return bad_key(p, "nfprobe_version", "must be 5, 9 or 10");
	if (parse_engine(pc->nfprobe_engine, &st->xcfg) < 0)
		return bad_key(p, "nfprobe_engine", "must be type:id (0-255 each), or a number "
		    "(v5: 0-255, v9/IPFIX: 32 bits)");
	if (nfp_parse_src(pc->nfprobe_direction, false, &st->dir_src, NULL) < 0)
		return bad_key(p, "nfprobe_direction", "must be in, out, tag or tag2");
	if (nfp_parse_src(pc->nfprobe_ifindex, true, &st->if_src, &st->ifindex) < 0)
		return bad_key(p, "nfprobe_ifindex", "must be a number, tag or tag2");
	if (pc->nfprobe_ipprec > 7)
		return bad_key(p, "nfprobe_ipprec", "must be 0-7");
	st->xcfg.sampling = pc->sampling_rate;
	st->maxflows = pc->nfprobe_maxflows ? pc->nfprobe_maxflows : 8192;
	if (probe_addr_parse(pc->nfprobe_receiver ? pc->nfprobe_receiver : "127.0.0.1:2100", 2100,
	    &st->to, why, sizeof(why)) < 0)
		return bad_key(p, "nfprobe_receiver", why);
	if (pc->nfprobe_source_ip) {
		if (probe_source_parse(pc->nfprobe_source_ip, &st->to, &st->src, why, sizeof(why)) < 0)
			return bad_key(p, "nfprobe_source_ip", why);
		st->has_src = true;
	}
	return 0;
}

static int nfprobe_check(const struct plugin *p)
{
	struct nfprobe_settings st;

	return nfprobe_configure(p, &st);
}

/* plugin_type.bounds: the flow cache, nfprobe_maxflows flows (check() passed). */
static void nfprobe_bounds(struct plugin *p)
{
	uint32_t maxflows = p->cfg->nfprobe_maxflows ? p->cfg->nfprobe_maxflows : 8192;

	p->gauge = gauges_add(p->core->gauges, p->who, "nfprobe", "nfprobe_maxflows", GAUGE_EXPIRE,
	    maxflows, nfp_cache_bytes(maxflows));
}

/*
 * The cache was full since the last look: one line a minute at most (packet
 * time), with the flows expired early meanwhile.  pmacct logs its forced
 * expiries only with debug on, one line each.
 */
static void nfprobe_log_forced(struct nfprobe_state *s, bool now)
{
	uint64_t forced = nfp_cache_forced(s->cache);
	int64_t t = nfp_cache_now(s->cache);

	if (forced == s->forced_logged)
		return;
	if (!now && s->forced_logged_ms && t - s->forced_logged_ms < NFPROBE_LOG_EVERY_MS)
		return;
	log_info(s->p->who, "nfprobe_maxflows (%u) reached: %llu flows expired early (exported) "
	    "since the last report", s->set.maxflows,
	    (unsigned long long)(forced - s->forced_logged));
	s->forced_logged = forced;
	s->forced_logged_ms = t ? t : 1;
}

/* Open the export socket on the settings nfprobe_check() accepted. */
static int nfprobe_init(struct plugin *p)
{
	struct plugin_cfg *pc = p->cfg;
	struct nfprobe_state *s = xcalloc(1, sizeof(*s));
	struct nfprobe_settings *st = &s->set;
	char why[256], where[80];

	s->fd = -1;
	s->p = p;
	p->state = s;
	if (nfprobe_configure(p, st) < 0)
		return -1;
	struct probe_sock_opts o = { .src = st->has_src ? &st->src : NULL,
		.hoplimit = pc->nfprobe_hoplimit, .ipprec = pc->nfprobe_ipprec, .sndbuf = 4 << 20 };
	if ((s->fd = probe_sock_open(&st->to, &o, why, sizeof(why))) < 0)
		return bad_key(p, st->has_src ? "nfprobe_source_ip" : "nfprobe_receiver", why);
	s->cache = nfp_cache_new(st->maxflows, &st->t, nfprobe_export, s);
	nfp_cache_set_gauge(s->cache, p->gauge);
	s->live = p->core->pcap_savefile == NULL;
	log_info(p->who, "Exporting flows to %s, version %d, maxflows %u",
	    probe_addr_str(&st->to, where, sizeof(where)), st->xcfg.version, st->maxflows);
	return 0;
}

/* The value a tag-driven setting takes for this record. */
static uint64_t src_value(enum nfp_src src, const struct flow_rec *rec)
{
	return src == NFP_TAG ? rec->k.tag : rec->k.tag2;
}

static void nfprobe_record(struct plugin *p, const struct flow_rec *rec)
{
	struct nfprobe_state *s = p->state;
	uint32_t in_if = rec->k.in_iface, out_if = rec->k.out_iface;
	uint8_t dir = 0;	/* IE 61: 0 ingress, 1 egress */
	bool out = false;

	if (rec->k.src_ip.af != 4 && rec->k.src_ip.af != 6)
		return;		/* NetFlow describes IP flows only */
	if (!s->x_ready) {
		nfx_init(&s->x, &s->set.xcfg, rec->ts.sec * 1000 + rec->ts.usec / 1000, nfprobe_send, s);
		s->x_ready = true;
	}
	switch (s->set.dir_src) {
	case NFP_OUT: out = true; break;
	case NFP_TAG: case NFP_TAG2: out = src_value(s->set.dir_src, rec) == 2; break;
	default: break;
	}
	dir = out ? 1 : 0;
	if (s->set.if_src != NFP_NONE) {
		uint32_t v = s->set.if_src == NFP_VALUE ? s->set.ifindex :
		    (uint32_t)src_value(s->set.if_src, rec);
		if (out)
			out_if = v;
		else
			in_if = v;
	}
	nfp_cache_add(s->cache, rec, in_if, out_if, dir);
	if (++s->log_countdown >= NFPROBE_LOG_LOOK) {	/* not a cost per record */
		s->log_countdown = 0;
		nfprobe_log_forced(s, false);
	}
}

static int nfprobe_next_tick_ms(struct plugin *p)
{
	struct nfprobe_state *s = p->state;
	int64_t left;

	if (!s->live)
		return -1;
	left = s->tick_at - clock_wall_ms();
	return left <= 0 ? 0 : (int)left;
}

/* Live capture: the wall clock expires flows even when no packet comes. */
static void nfprobe_tick(struct plugin *p)
{
	struct nfprobe_state *s = p->state;
	int64_t now = clock_wall_ms();

	s->tick_at = now + 1000;
	if (!s->x_ready)
		return;
	nfp_cache_clock(s->cache, now);
	nfprobe_log_forced(s, false);
	nfx_flush(&s->x);
}

static void nfprobe_flush(struct plugin *p)
{
	struct nfprobe_state *s = p->state;

	if (!s->x_ready)
		return;
	nfprobe_log_forced(s, true);
	nfp_cache_flush_all(s->cache);
	nfx_flush(&s->x);
	log_info(p->who, "exported %llu flows in %llu datagrams%s",
	    (unsigned long long)s->x.flows, (unsigned long long)s->x.datagrams,
	    s->x.skipped ? " (IPv6 flows are not exported in NetFlow v5)" : "");
}

static void nfprobe_fini(struct plugin *p)
{
	struct nfprobe_state *s = p->state;

	if (!s)
		return;
	nfp_cache_free(s->cache);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	p->state = NULL;
}

/*
 * The flow key (addresses, ports, protocol, ToS, interfaces) and what
 * exports carry besides (ASes, masks, tags for nfprobe_direction and
 * nfprobe_ifindex).  Naming the ports also makes the core reassemble
 * fragments' ports, as for any plugin aggregating on ports.
 */
static const enum prim_id nfprobe_needs[] = {
	P_SRC_HOST, P_DST_HOST, P_SRC_PORT, P_DST_PORT, P_PROTO, P_TOS, P_IN_IFACE, P_OUT_IFACE,
	P_SRC_AS, P_DST_AS, P_SRC_MASK, P_DST_MASK, P_TAG, P_TAG2, P_COUNT
};

const struct plugin_type nfprobe_plugin_type = {
	.name = "nfprobe",
	.daemons = SRC_PM,
	.needs = nfprobe_needs,
	.check = nfprobe_check,
	.bounds = nfprobe_bounds,
	.init = nfprobe_init,
	.record = nfprobe_record,
	.next_tick_ms = nfprobe_next_tick_ms,
	.tick = nfprobe_tick,
	.flush = nfprobe_flush,
	.fini = nfprobe_fini,
};
