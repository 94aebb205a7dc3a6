/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_collector.c: nfacctd's collector protocol: the NetFlow/IPFIX decoder, its maps, templates file, warnings and health. */
#include "pipeline/nf_collector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/netflow.h"
#include "decode/nf_state.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "maps/rdmap.h"
#include "model/prim.h"
#include "model/gauge.h"
#include "model/health.h"
#include "pipeline/nf_tplstore.h"

#define WHO "default/core"

/* One receive thread's NetFlow/IPFIX state. */
struct nf_collector {
	struct nf_state *nf;
	const struct rec_sink *sink;
	char *templates_file;
	struct nf_tplstore *tf;	/* shared between receive threads, NULL with one */
	int slot;		/* this thread's slot in tf */
	uint64_t saved_templates;	/* template count at the last save */
	char listen[80];		/* [ip:port] of SIGUSR1 lines */
	struct rd_map *rdmap;		/* flow_to_rd_map, NULL = none */
	const char *rdmap_path;		/* its file (the config's string) */
	struct nf_totals warned;	/* the counters at the last warning */
	int64_t warned_at;		/* when (the clock of nf_collector_tick), 0 = never */
	uint32_t max_exporters, max_templates;	/* for the warnings */
};

static void nfc_emit(void *arg, struct flow_rec *rec)
{
	const struct nf_collector *n = arg;
	if (n->rdmap)
		rdmap_apply(n->rdmap, &rec->k);
	n->sink->emit(n->sink->arg, rec);
}

void nf_collector_datagram(void *state, const struct dgram *d, const struct rec_sink *sink)
{
	struct nf_collector *n = state;

	n->sink = sink;
	nf_decode(n->nf, d->data, d->len, &d->src, &d->ts, nfc_emit, n);
}

void nf_collector_bounds(struct core_cfg *cfg, int thread, void *state)
{
	struct nf_collector *n = state;
	struct nf_opts o = { .max_templates = cfg->nf_max_templates,
		.max_exporters = cfg->collector_max_exporters };
	uint64_t ee, eb, te, tb;
	char exp[24], tpl[24];

	nf_state_plan(&o, &ee, &eb, &te, &tb);
	snprintf(exp, sizeof(exp), thread ? "exporters#%d" : "exporters", thread);
	snprintf(tpl, sizeof(tpl), thread ? "templates#%d" : "templates", thread);
	struct table_gauge *ge = gauges_add(cfg->gauges, WHO, exp, "nfacctd_max_exporters",
	    GAUGE_REFUSE, ee, eb);
	struct table_gauge *gt = gauges_add(cfg->gauges, WHO, tpl, "nfacctd_max_templates",
	    GAUGE_REFUSE, te, tb);
	if (n)
		nf_state_set_gauges(n->nf, ge, gt);
	if (cfg->nf_hold_secs) {	/* nfacctd_early_data_hold */
		char held[24];
		o.hold_bytes = cfg->nf_hold_bytes;
		nf_state_held_plan(&o, &ee, &eb);
		snprintf(held, sizeof(held), thread ? "early_data#%d" : "early_data", thread);
		struct table_gauge *gh = gauges_add(cfg->gauges, WHO, held, "nfacctd_early_data_bytes",
		    GAUGE_REFUSE, ee, eb);
		if (n)
			nf_state_set_held_gauge(n->nf, gh);
	}
}

/* Start-up and -T config: the maps nf_collector_new() loads. */
int nf_collector_check(const struct core_cfg *cfg)
{
	return rdmap_check_key(cfg, WHO);
}

void *nf_collector_new(struct core_cfg *cfg)
{
	struct nf_collector *n = xcalloc(1, sizeof(*n));
	struct nf_opts o = {
		.time_secs = cfg->nf_time_secs,
		.time_new = cfg->nf_time_new,
		/* with a sampling_map the core renormalizes (core_maps.c), unless an
		 * external rate, which wins over the map, is set */
		.renormalize = cfg->renormalize && (cfg->ext_sampling_rate || !cfg->sampling_map),
		.use_ip_next_hop = cfg->use_ip_next_hop,
		.account_options = cfg->nf_account_options,
		.ext_sampling_rate = cfg->ext_sampling_rate,
		.ignore_exporter_address = cfg->nf_ignore_exporter_address,
		.pre_processing_checks = cfg->nf_pre_processing_checks,
		.max_templates = cfg->nf_max_templates,
		.max_exporters = cfg->collector_max_exporters,
		.hold_secs = cfg->nf_hold_secs,
		.hold_bytes = cfg->nf_hold_bytes,
		.emit_writes_tail = cfg->flow_to_rd_map != NULL,	/* nfc_emit: rdmap_apply() */
		.custom = prim_custom_get(cfg->prims, 0),
		.ncustom = prim_custom_count(cfg->prims),
	};

	if (cfg->flow_to_rd_map) {
		if (!(n->rdmap = rdmap_load_key(cfg, WHO))) {
			free(n);
			return NULL;
		}
		n->rdmap_path = cfg->flow_to_rd_map;
	}
	n->nf = nf_state_new(&o);
	n->max_exporters = cfg->collector_max_exporters;
	n->max_templates = cfg->nf_max_templates;
	snprintf(n->listen, sizeof(n->listen), "%s:%u",
	    cfg->collector_ip ? cfg->collector_ip : "::",
	    cfg->collector_port ? cfg->collector_port : 2100u);
	if (cfg->nf_templates_file) {
		n->templates_file = xstrdup(cfg->nf_templates_file);
		if (nf_tplstore_load(n->nf, n->templates_file) == 0)
			log_info(WHO, "[%s] templates loaded.", n->templates_file);
	}
	return n;
}

/* SIGUSR2: flow_to_rd_map again; a map that fails to load keeps the previous one. */
void nf_collector_reload(void *state)
{
	struct nf_collector *n = state;

	rdmap_reload(&n->rdmap, n->rdmap_path, WHO);
}

static void nfc_line(void *arg, const char *line)
{
	const struct nf_collector *n = arg;
	log_notice(WHO, "stats [%s] %s", n->listen, line);
}

void nf_collector_log_stats(void *state)
{
	struct nf_collector *n = state;
	nf_stats_lines(n->nf, (int64_t)time(NULL), nfc_line, n);
}

/* ---- health (the http plugin's /api/exporters): per-exporter counters ---- */

static int tpl_key_cmp(const void *a, const void *b)
{
	const struct nf_tpl *x = *(const struct nf_tpl *const *)a, *y = *(const struct nf_tpl *const *)b;
	int c = x->addr.af != y->addr.af ? (x->addr.af < y->addr.af ? -1 : 1) :
	    memcmp(x->addr.a, y->addr.a, sizeof(x->addr.a));

	if (c)
		return c;
	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	return x->version < y->version ? -1 : x->version > y->version;
}

/* Templates cached for (addr, domain, version): a range of the key-sorted v. */
static uint32_t tpl_count(struct nf_tpl **v, size_t n, const struct nf_exporter *e)
{
	struct nf_tpl key = { .addr = e->addr, .domain = e->domain, .version = e->version };
	const struct nf_tpl *kp = &key;
	size_t lo = 0, hi = n, first;

	while (lo < hi) {		/* first template not below the key */
		size_t mid = lo + (hi - lo) / 2;
		if (tpl_key_cmp(&v[mid], &kp) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < n && tpl_key_cmp(&v[lo], &kp) == 0)
		lo++;
	return (uint32_t)(lo - first);
}

static void nfc_health_one(struct health_build *b, const struct nf_exporter *e, uint32_t templates)
{
	struct health_exporter h = { .addr = e->addr, .domain = e->domain, .version = e->version,
		.templates = templates, .packets = e->packets, .bytes = e->bytes,
		.records = e->records, .seq_good = e->seq_good, .seq_fwd = e->seq_fwd,
		.seq_bck = e->seq_bck };

	for (int i = 0; i < NF_DROP_N && i < HEALTH_MAX_DROPS; i++)
		h.drops[i] = e->drops[i];
	health_offer(b, &h);
}

/* collector_proto.health: every exporter (and the overflow entry) with its templates. */
void nf_collector_health(void *state, struct health_build *b)
{
	const struct nf_state *st = ((struct nf_collector *)state)->nf;
	struct nf_tpl **tv = xcalloc(st->ntpl ? st->ntpl : 1, sizeof(*tv));
	size_t nt = 0;

	health_build_names(b, HEALTH_NETFLOW, nf_drop_names, NF_DROP_N);
	for (uint32_t i = 0; i <= st->tpl_mask; i++)
		for (struct nf_tpl *t = st->tpl[i]; t && nt < st->ntpl; t = t->next)
			tv[nt++] = t;
	qsort(tv, nt, sizeof(*tv), tpl_key_cmp);
	for (uint32_t i = 0; i <= st->exp_mask; i++)
		for (const struct nf_exporter *e = st->exp[i]; e; e = e->next)
			nfc_health_one(b, e, tpl_count(tv, nt, e));
	if (st->overflow)
		nfc_health_one(b, st->overflow, 0);
	free(tv);
}

/* Write the templates file: this thread's part of the shared one, or the whole. */
static int nfc_save(struct nf_collector *n)
{
	return n->tf ? nf_tplstore_put(n->tf, n->slot, n->nf) : nf_tplstore_save(n->nf,
	    n->templates_file);
}

/*
 * What was dropped since the last warning, in one line at most once a
 * minute: malformed or undecodable input by reason, exporters and
 * templates past their limits.  SIGUSR1 has the per-exporter counters.
 */
static void nfc_warn(struct nf_collector *n, const struct nf_totals *t, int64_t now)
{
	char line[768];
	size_t off = 0;

	if (n->warned_at && now - n->warned_at < NF_COLLECTOR_WARN_EVERY)
		return;
	line[0] = '\0';
	off = log_count_deltas(line, sizeof(line), 0, nf_drop_names, t->drops, n->warned.drops, 0,
	    NF_DROP_N);
	if (off)
		log_warnx(WHO, "[%s] NetFlow/IPFIX input not decoded since %s:%s (SIGUSR1: per exporter)",
		    n->listen, n->warned_at ? "the last report" : "start", line);
	if (t->exporters_refused > n->warned.exporters_refused)
		log_warnx(WHO, "[%s] key 'nfacctd_max_exporters': %u exporters tracked; %llu datagrams "
		    "from further ones counted together as 'others'", n->listen, n->max_exporters,
		    (unsigned long long)(t->exporters_refused - n->warned.exporters_refused));
	if (t->templates_refused > n->warned.templates_refused)
		log_warnx(WHO, "[%s] key 'nfacctd_max_templates': %u templates kept; %llu new ones "
		    "refused", n->listen, n->max_templates,
		    (unsigned long long)(t->templates_refused - n->warned.templates_refused));
	if (t->names_refused > n->warned.names_refused)
		log_warnx(WHO, "[%s] %u interface and VRF names kept; %llu further ones from options "
		    "records refused", n->listen, NF_NAMES_MAX_TOTAL,
		    (unsigned long long)(t->names_refused - n->warned.names_refused));
	if (off || t->exporters_refused > n->warned.exporters_refused ||
	    t->templates_refused > n->warned.templates_refused ||
	    t->names_refused > n->warned.names_refused) {
		n->warned = *t;
		n->warned_at = now;
	}
}

/* Once a second: give up early data held too long, warn about drops, save templates. */
void nf_collector_tick(void *state, int64_t now)
{
	struct nf_collector *n = state;
	struct nf_totals t;

	nf_state_expire(n->nf, now);
	nf_state_publish(n->nf);
	nf_totals(n->nf, &t);
	nfc_warn(n, &t, now);
	if (!n->templates_file || t.templates == n->saved_templates)
		return;
	if (nfc_save(n) < 0)
		log_warnx(WHO, "[%s] cannot write the templates file", n->templates_file);
	n->saved_templates = t.templates;
}

void nf_collector_free(void *state)
{
	struct nf_collector *n = state;

	if (!n)
		return;
	if (n->templates_file && nfc_save(n) < 0)
		log_warnx(WHO, "[%s] cannot write the templates file", n->templates_file);
	nf_state_free(n->nf);
	rdmap_free(n->rdmap);
	free(n->templates_file);
	/* the first thread's state goes last (collector.c) and frees what they shared */
	if (n->slot == 0)
		nf_tplstore_free(n->tf);
	free(n);
}

/* collector_workers: a further receive thread; the templates file becomes shared. */
void *nf_collector_new_worker(struct core_cfg *cfg, void *first)
{
	struct nf_collector *f = first, *n = nf_collector_new(cfg);

	if (!n || !f->templates_file)
		return n;
	if (!f->tf) {
		f->tf = nf_tplstore_new(f->templates_file);
		f->slot = nf_tplstore_join(f->tf);
	}
	n->tf = f->tf;
	n->slot = nf_tplstore_join(n->tf);
	return n;
}

