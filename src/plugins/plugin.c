/* SPDX-License-Identifier: BSD-3-Clause */
/* plugin.c: the plugin runtime, consumer side: set-up, filters, the threads that drain the rings. */
#include "plugin.h"

#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bpf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "model/gauge.h"
#include "model/prim.h"
#include "maps/labelfilter.h"
#include "maps/tagfilter.h"
#include "plugins/plugin_maps.h"

/* Compile one comma-separated part of aggregate_filter into p->filters.bpf[p->filters.nbpf]. */
static int compile_part(struct plugin *p, pcap_t *dead, const char *part)
{
	char key[CFG_NAME_MAX + 24];

	snprintf(key, sizeof(key), "aggregate_filter[%s]", p->cfg->name);
	if (bpf_compile(dead, &p->filters.bpf[p->filters.nbpf], part, p->who,
	    cfg_where(&p->cfg->origin, "aggregate_filter"), key) < 0) {
		log_err(p->who, "[%s] key 'aggregate_filter[%s]': invalid filter '%s': %s. Exiting.",
		    cfg_where(&p->cfg->origin, "aggregate_filter"), p->cfg->name, part,
		    pcap_geterr(dead));
		return -1;
	}
	p->filters.nbpf++;
	return 0;
}

/*
 * aggregate_filter: several filters may be given separated by commas (BPF
 * itself has no comma); a packet passes when any of them matches, as
 * pmacct's load_plugin_filters/evaluate_filters (0.11.3+).  pmacct skips a
 * part that does not compile; here start-up stops (docs/differences.md).
 */
static int compile_filter(struct plugin *p, int linktype, int snaplen)
{
	const char *f = p->cfg->aggregate_filter;
	size_t nparts = 1;
	int rc = 0;

	if (!f || !f[0])
		return 0;
	for (const char *c = f; *c; c++)
		nparts += *c == ',';
	pcap_t *dead = pcap_open_dead(linktype, snaplen > 0 ? snaplen : 65535);
	if (!dead)
		return -1;
	p->filters.bpf = xcalloc(nparts, sizeof(*p->filters.bpf));
	char *copy = xstrdup(f), *save = NULL;
	for (char *part = strtok_r(copy, ",", &save); part && rc == 0;
	    part = strtok_r(NULL, ",", &save)) {
		part += strspn(part, " \t");
		if (*part)
			rc = compile_part(p, dead, part);
	}
	free(copy);
	pcap_close(dead);
	return rc;
}

/* pre_tag_filter / pre_tag2_filter text (NULL: none) into *out. */
static int compile_tagfilter(struct plugin *p, const char *key, const char *text,
    struct tagfilter **out)
{
	char why[160];

	if (!text || !text[0])
		return 0;
	*out = xmalloc(sizeof(**out));
	if (tagfilter_compile(*out, text, why, sizeof(why)) < 0) {
		log_err(p->who, "[%s] key '%s[%s]': %s. Exiting.", cfg_where(&p->cfg->origin, key),
		    key, p->cfg->name, why);
		return -1;
	}
	return 0;
}

static int plugin_setup(struct plugin *p, struct core_cfg *cfg, struct plugin_cfg *pc,
    uint8_t daemon, int linktype, int snaplen, plugin_type_find_fn find)
{
	p->cfg = pc;
	p->core = cfg;
	snprintf(p->who, sizeof(p->who), "%s/%s", pc->name, pc->type);
	p->type = find(pc->type);
	if (!p->type || !(p->type->daemons & daemon)) {
		log_err("default/core", "plugin type '%s' (plugin '%s') is not available in this daemon",
		    pc->type, pc->name);
		return -1;
	}
	if (daemon == SRC_SF && prim_has(&pc->aggregate, P_CLASS)) {
		/* as pmacct 1.7.7's sfacctd: nothing classifies sFlow samples, class is dropped */
		log_warnx(p->who, "[%s] class: sfacctd does not classify: dropped from aggregate[%s], "
		    "as pmacct 1.7.7", cfg_where(&pc->origin, "aggregate"), pc->name);
		pc->aggregate.w[P_CLASS / 64] &= ~((uint64_t)1 << (P_CLASS % 64));
	}
	if (compile_filter(p, linktype, snaplen) < 0 ||
	    compile_tagfilter(p, "pre_tag_filter", pc->pre_tag_filter, &p->filters.tag) < 0 ||
	    compile_tagfilter(p, "pre_tag2_filter", pc->pre_tag2_filter, &p->filters.tag2) < 0)
		return -1;
	if (pc->pre_tag_label_filter) {
		char why[160];
		if (!(p->filters.label = labelfilter_compile(pc->pre_tag_label_filter, why, sizeof(why)))) {
			log_err(p->who, "[%s] key 'pre_tag_label_filter[%s]': %s. Exiting.",
			    cfg_where(&pc->origin, "pre_tag_label_filter"), pc->name, why);
			return -1;
		}
	}

	for (const enum prim_id *n = p->type->needs; n && *n != P_COUNT; n++)
		prim_add(&pc->aggregate, *n);
	p->layout = xmalloc(sizeof(*p->layout));
	if (p->type->full_record) {
		prim_key_layout_span(0, sizeof(struct flow_key), p->layout);
	} else {
		struct prim_set need = pc->aggregate;
		plugin_maps_inputs(p, &need);
		prim_key_layout(pc->prims, &need, PLUGIN_KEY_GAP, p->layout);
	}
	p->elem_size = (sizeof(struct batch_rec) + p->layout->bytes + 7) & ~(size_t)7;
	if (p->type->packet) {
		p->pkt_off = p->elem_size;
		p->elem_size += sizeof(struct plugin_pkt);
	}

	size_t rec = p->elem_size;
	/* unset: 64 KiB batches; partial batches are handed over whenever the source idles */
	size_t bsize = pc->buffer_size ? pc->buffer_size : 65536;
	if (bsize < rec)
		bsize = rec;
	size_t psize = pc->pipe_size ? pc->pipe_size : 4096000;
	size_t nslots = psize / bsize;
	p->batch_cap = bsize / rec;
	p->ring = ring_new(p->batch_cap * rec, nslots);
	p->pipe_bytes = psize;
	log_debug(p->who, "plugin_pipe_size=%zu plugin_buffer_size=%zu: %zu slots of %zu records",
	    psize, bsize, nslots < 2 ? 2 : nslots, p->batch_cap);
	if (plugin_maps_init(p) < 0)
		return -1;
	if (p->type->check && p->type->check(p) < 0)
		return -1;
	p->ring_gauge = gauges_add(cfg->gauges, p->who, "ring", "plugin_pipe_size", GAUGE_FIXED,
	    nslots < 2 ? 2 : nslots, (uint64_t)(nslots < 2 ? 2 : nslots) * ring_slot_size(p->ring));
	if (p->type->bounds)
		p->type->bounds(p);
	if (cfg->check_only)	/* -T config: init opens files, sockets, connections */
		return 0;
	return p->type->init ? p->type->init(p) : 0;
}

/* Free what plugin_setup() compiled (also after it failed half way). */
static void filters_free(struct plugin_filters *f)
{
	for (int i = 0; i < f->nbpf; i++)
		pcap_freecode(&f->bpf[i]);
	free(f->bpf);
	free(f->tag);
	free(f->tag2);
	labelfilter_free(f->label);
	memset(f, 0, sizeof(*f));
}

struct plugin *plugins_create(struct core_cfg *cfg, uint8_t daemon, int linktype, int snaplen,
    plugin_type_find_fn find)
{
	struct plugin *ps = xcalloc((size_t)cfg->nplugins, sizeof(*ps));

	for (int i = 0; i < cfg->nplugins; i++) {
		if (plugin_setup(&ps[i], cfg, &cfg->plugins[i], daemon, linktype, snaplen, find) < 0) {
			for (int j = 0; j < i; j++) {
				if (ps[j].type->fini && !cfg->check_only)	/* -T config: no init ran */
					ps[j].type->fini(&ps[j]);
				plugin_maps_fini(&ps[j]);
				filters_free(&ps[j].filters);
				ring_free(ps[j].ring);
				free(ps[j].layout);
			}
			free(ps[i].layout);
			free(ps);
			return NULL;
		}
	}
	return ps;
}

static void *plugin_main(void *arg)
{
	struct plugin *p = arg;
	const struct plugin_type *t = p->type;
	struct flow_rec rec;

	memset(&rec, 0, sizeof(rec));

	for (;;) {
		int wait = t->next_tick_ms ? t->next_tick_ms(p) : -1;
		size_t len = 0;
		bool closed = false;
		const void *b = ring_next(p->ring, wait < 0 ? 1000 : wait, &len, &closed);
		size_t used = ring_used(p->ring);

		gauge_set(p->ring_gauge, used, (uint64_t)used * ring_slot_size(p->ring));
		unsigned gen = atomic_load(&p->maps_gen);
		if (gen != p->maps_seen) {
			p->maps_seen = gen;
			plugin_maps_reload(p);
		}
		if (b) {
			const struct key_layout *L = p->layout;
			for (size_t off = 0; off + p->elem_size <= len; off += p->elem_size) {
				batch_rec_unpack((const uint8_t *)b + off, &rec, L);
				plugin_maps_apply(p, &rec);
				if (t->packet)
					t->packet(p, &rec, (const struct plugin_pkt *)
					    ((const uint8_t *)b + off + p->pkt_off));
				else
					t->record(p, &rec);
			}
			ring_release(p->ring);
		} else if (closed) {
			break;
		}
		if (t->tick && t->next_tick_ms && t->next_tick_ms(p) == 0)
			t->tick(p);
	}
	if (t->flush)
		t->flush(p);
	return NULL;
}

void plugins_start(struct plugin *ps, int n)
{
	sigset_t all, old;

	/* signals are the core's: plugin threads start with them blocked */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < n; i++) {
		if (pthread_create(&ps[i].thread, NULL, plugin_main, &ps[i]) != 0)
			fatal("default/core", "cannot start the thread of plugin %s", ps[i].who);
		ps[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

bool plugin_filters_pass(const struct plugin_filters *f, const struct flow_rec *rec,
    const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	if (f->nbpf && h) {
		int i = 0;
		while (i < f->nbpf && !pcap_offline_filter(&f->bpf[i], h, pkt))
			i++;
		if (i == f->nbpf)
			return false;
	}
	if (f->tag && !tagfilter_pass(f->tag, rec->k.tag))
		return false;
	if (f->tag2 && !tagfilter_pass(f->tag2, rec->k.tag2))
		return false;
	return !f->label || labelfilter_pass(f->label, rec->k.label);
}

void plugin_reload_maps(struct plugin *p)
{
	atomic_fetch_add(&p->maps_gen, 1);
}

uint64_t plugins_stop(struct plugin *ps, int n)
{
	uint64_t undelivered = 0;

	for (int i = 0; i < n; i++) {
		uint64_t d = atomic_load(&ps[i].stats.dropped_records);
		if (d)
			log_warnx(ps[i].who, "%llu records were dropped in total because the plugin's "
			    "ring was full (plugin_pipe_size)", (unsigned long long)d);
	}
	for (int i = 0; i < n; i++) {
		if (ps[i].started)
			pthread_join(ps[i].thread, NULL);
		undelivered += ps[i].undelivered;
		if (ps[i].type->fini && !ps[i].core->check_only)
			ps[i].type->fini(&ps[i]);
		plugin_maps_fini(&ps[i]);
		filters_free(&ps[i].filters);
		ring_free(ps[i].ring);	/* and its sibling rings (collector_workers) */
		free(ps[i].layout);
	}
	free(ps);
	return undelivered;
}

void plugin_flush_done(struct plugin *p, uint64_t start_us, bool ok)
{
	uint64_t d = clock_mono_us() - start_us;

	atomic_fetch_add(&p->stats.flushes, 1);
	if (!ok)
		atomic_fetch_add(&p->stats.flush_errors, 1);
	atomic_store(&p->stats.flush_last_us, d);
	atomic_fetch_add(&p->stats.flush_total_us, d);
	if (d > atomic_load(&p->stats.flush_max_us))
		atomic_store(&p->stats.flush_max_us, d);	/* written by this plugin's threads only */
}

void plugin_log_stats(struct plugin *p, const char *who)
{
	size_t ss = ring_slot_size(p->ring), used = ring_used(p->ring);
	size_t slots = ss ? p->pipe_bytes / ss : 0;

	if (slots < 2)
		slots = 2;
	log_notice(who, "stats plugin [%s] records=%llu filtered=%llu dropped_records=%llu "
	    "ring_used=%zu/%zu flushes=%llu flush_errors=%llu flush_last_ms=%.3f flush_max_ms=%.3f",
	    p->who, (unsigned long long)atomic_load(&p->stats.records),
	    (unsigned long long)atomic_load(&p->stats.filtered),
	    (unsigned long long)atomic_load(&p->stats.dropped_records), used, slots,
	    (unsigned long long)atomic_load(&p->stats.flushes),
	    (unsigned long long)atomic_load(&p->stats.flush_errors),
	    (double)atomic_load(&p->stats.flush_last_us) / 1000.0,
	    (double)atomic_load(&p->stats.flush_max_us) / 1000.0);
}
