/* SPDX-License-Identifier: BSD-3-Clause */
/* plugin.c: the plugin runtime: rings, threads and the table of plugin types. */
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
#include "model/prim.h"
#include "maps/labelfilter.h"
#include "maps/tagfilter.h"
#include "plugins/plugin_maps.h"

extern const struct plugin_type print_plugin_type;
extern const struct plugin_type memory_plugin_type;
#ifdef HAVE_HTTP
extern const struct plugin_type http_plugin_type;
#endif

#ifdef HAVE_SQLITE3
extern const struct plugin_type sqlite3_plugin_type;
#endif
#ifdef HAVE_PGSQL
extern const struct plugin_type pgsql_plugin_type;
#endif
#ifdef HAVE_MYSQL
extern const struct plugin_type mysql_plugin_type;
#endif
#ifdef HAVE_KAFKA
extern const struct plugin_type kafka_plugin_type;
#endif
#ifdef HAVE_RABBITMQ
extern const struct plugin_type amqp_plugin_type;
#endif
extern const struct plugin_type nfprobe_plugin_type;
extern const struct plugin_type sfprobe_plugin_type;
extern const struct plugin_type tee_plugin_type;

static const struct plugin_type *const plugin_types[] = {
	&print_plugin_type,
	&memory_plugin_type,
#ifdef HAVE_HTTP
	&http_plugin_type,
#endif
#ifdef HAVE_SQLITE3
	&sqlite3_plugin_type,
#endif
#ifdef HAVE_PGSQL
	&pgsql_plugin_type,
#endif
#ifdef HAVE_MYSQL
	&mysql_plugin_type,
#endif
#ifdef HAVE_KAFKA
	&kafka_plugin_type,
#endif
#ifdef HAVE_RABBITMQ
	&amqp_plugin_type,
#endif
	&nfprobe_plugin_type,
	&sfprobe_plugin_type,
	&tee_plugin_type,
};

/* The i-th plugin type built into this binary (-V lists them), NULL past the end. */
const struct plugin_type *plugin_type_at(size_t i)
{
	return i < NELEM(plugin_types) ? plugin_types[i] : NULL;
}

const struct plugin_type *plugin_type_find(const char *name)
{
	for (size_t i = 0; i < NELEM(plugin_types); i++)
		if (strcmp(plugin_types[i]->name, name) == 0)
			return plugin_types[i];
	return NULL;
}

/* Compile one comma-separated part of aggregate_filter into p->filters[p->nfilters]. */
static int compile_part(struct plugin *p, pcap_t *dead, const char *part)
{
	char key[CFG_NAME_MAX + 24];

	snprintf(key, sizeof(key), "aggregate_filter[%s]", p->cfg->name);
	if (bpf_compile(dead, &p->filters[p->nfilters], part, p->who,
	    cfg_where(&p->cfg->origin, "aggregate_filter"), key) < 0) {
		log_err(p->who, "[%s] key 'aggregate_filter[%s]': invalid filter '%s': %s. Exiting.",
		    cfg_where(&p->cfg->origin, "aggregate_filter"), p->cfg->name, part,
		    pcap_geterr(dead));
		return -1;
	}
	p->nfilters++;
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
	p->filters = xcalloc(nparts, sizeof(*p->filters));
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
    uint8_t daemon, int linktype, int snaplen)
{
	p->cfg = pc;
	p->core = cfg;
	snprintf(p->who, sizeof(p->who), "%s/%s", pc->name, pc->type);
	p->type = plugin_type_find(pc->type);
	if (!p->type || !(p->type->daemons & daemon)) {
		log_err("default/core", "plugin type '%s' (plugin '%s') is not available in this daemon",
		    pc->type, pc->name);
		return -1;
	}
	if (compile_filter(p, linktype, snaplen) < 0 ||
	    compile_tagfilter(p, "pre_tag_filter", pc->pre_tag_filter, &p->tag_filter) < 0 ||
	    compile_tagfilter(p, "pre_tag2_filter", pc->pre_tag2_filter, &p->tag2_filter) < 0)
		return -1;
	if (pc->pre_tag_label_filter) {
		char why[160];
		if (!(p->label_filter = labelfilter_compile(pc->pre_tag_label_filter, why, sizeof(why)))) {
			log_err(p->who, "[%s] key 'pre_tag_label_filter[%s]': %s. Exiting.",
			    cfg_where(&pc->origin, "pre_tag_label_filter"), pc->name, why);
			return -1;
		}
	}

	for (const enum prim_id *n = p->type->needs; n && *n != P_COUNT; n++)
		prim_add(&pc->aggregate, *n);
	if (p->type->full_record) {
		p->key_lo = 0;
		p->key_hi = sizeof(struct flow_key);
	} else {
		struct prim_set need = pc->aggregate;
		plugin_maps_inputs(p, &need);
		prim_key_span(pc->prims, &need, &p->key_lo, &p->key_hi);
	}
	p->elem_size = (sizeof(struct batch_rec) + (p->key_hi - p->key_lo) + 7) & ~(size_t)7;
	p->linktype = linktype;
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
	p->rng = 0x2545F4914F6CDD1DULL ^ (uint64_t)(uintptr_t)p ^ (uint64_t)time(NULL);
	log_debug(p->who, "plugin_pipe_size=%zu plugin_buffer_size=%zu: %zu slots of %zu records",
	    psize, bsize, nslots < 2 ? 2 : nslots, p->batch_cap);
	if (plugin_maps_init(p) < 0)
		return -1;
	if (p->type->check && p->type->check(p) < 0)
		return -1;
	if (cfg->check_only)	/* -T config: init opens files, sockets, connections */
		return 0;
	return p->type->init ? p->type->init(p) : 0;
}

struct plugin *plugins_create(struct core_cfg *cfg, uint8_t daemon, int linktype, int snaplen)
{
	struct plugin *ps = xcalloc((size_t)cfg->nplugins, sizeof(*ps));

	for (int i = 0; i < cfg->nplugins; i++) {
		if (plugin_setup(&ps[i], cfg, &cfg->plugins[i], daemon, linktype, snaplen) < 0) {
			for (int j = 0; j < i; j++) {
				if (ps[j].type->fini && !cfg->check_only)	/* -T config: no init ran */
					ps[j].type->fini(&ps[j]);
				plugin_maps_fini(&ps[j]);
				ring_free(ps[j].ring);
			}
			free(ps);
			return NULL;
		}
	}
	return ps;
}

/* Rebuild a record from a batch element into `out`, whose other fields stay zero. */
static void batch_unpack(const struct plugin *p, const uint8_t *el, struct flow_rec *out)
{
	const struct batch_rec *h = (const struct batch_rec *)el;

	out->bytes = h->bytes;
	out->packets = h->packets;
	out->flows = h->flows;
	out->ts = h->ts;
	out->tcp_flags = h->tcp_flags;
	out->flags = h->flags;
	memcpy((uint8_t *)&out->k + p->key_lo, el + sizeof(*h), p->key_hi - p->key_lo);
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

		unsigned gen = atomic_load(&p->maps_gen);
		if (gen != p->maps_seen) {
			p->maps_seen = gen;
			plugin_maps_reload(p);
		}
		if (b) {
			for (size_t off = 0; off + p->elem_size <= len; off += p->elem_size) {
				batch_unpack(p, (const uint8_t *)b + off, &rec);
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

/* Counters written by the core thread only: a plain increment, readable from any thread. */
static inline void stat_inc(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Stats of the plugin p feeds (itself unless p is a feed). */
static struct plugin_stats *stats_of(struct plugin *p)
{
	return p->head ? &p->head->stats : &p->stats;
}

/* Add n to a counter that other producers may add to as well (shared_stats). */
static void stat_add(const struct plugin *p, _Atomic uint64_t *c, uint64_t n)
{
	if (p->shared_stats)
		atomic_fetch_add_explicit(c, n, memory_order_relaxed);
	else
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
		    memory_order_relaxed);
}

void plugin_flush_batch(struct plugin *p)
{
	if (p->pend_records || p->pend_filtered) {
		stat_add(p, &stats_of(p)->records, p->pend_records);
		stat_add(p, &stats_of(p)->filtered, p->pend_filtered);
		p->pend_records = p->pend_filtered = 0;
	}
	if (!p->batch || !p->batch_len) {
		ring_kick(p->ring);	/* full batches committed lazily may be waiting */
		return;
	}
	if (p->batch_len == p->batch_cap)
		ring_commit_full(p->ring, p->batch_len * p->elem_size);
	else
		ring_commit(p->ring, p->batch_len * p->elem_size);
	p->batch = NULL;
	p->batch_len = 0;
}

/* Write a field at flow_key offset `off` into the span copy `key`, if the span holds it. */
static void put_field(const struct plugin *p, uint8_t *key, size_t off, const void *v, size_t n)
{
	if (off >= p->key_lo && off + n <= p->key_hi)
		memcpy(key + (off - p->key_lo), v, n);
}

/*
 * post_tag and post_tag2 override the record's tags.  The plugin's own
 * sampling_rate does not show in the sampling_rate primitive: pmacct 1.7.7
 * prints 1 there (the primitive tells pmacctd_ext_sampling_rate).
 */
static void plugin_set_static(const struct plugin *p, uint8_t *key)
{
	const struct plugin_cfg *c = p->cfg;
	if (c->post_tag)
		put_field(p, key, offsetof(struct flow_key, tag), &c->post_tag, sizeof(c->post_tag));
	if (c->post_tag2)
		put_field(p, key, offsetof(struct flow_key, tag2), &c->post_tag2, sizeof(c->post_tag2));
}

/* aggregate_filter (any part) and pre_tag_filter / pre_tag2_filter on the record's tags. */
static bool plugin_filters_pass(const struct plugin *p, const struct flow_rec *rec,
    const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	if (p->nfilters && h) {
		int i = 0;
		while (i < p->nfilters && !pcap_offline_filter(&p->filters[i], h, pkt))
			i++;
		if (i == p->nfilters)
			return false;
	}
	if (p->tag_filter && !tagfilter_pass(p->tag_filter, rec->k.tag))
		return false;
	if (p->tag2_filter && !tagfilter_pass(p->tag2_filter, rec->k.tag2))
		return false;
	return !p->label_filter || labelfilter_pass(p->label_filter, rec->k.label);
}

/*
 * sampling_rate N: pmacct's take_simple_random_skip: after each sampled
 * packet the next one is taken after a random number of packets, uniform
 * in [1, 2N-1] (mean N), counted over the packets that passed the filters.
 */
static bool plugin_sampled(struct plugin *p)
{
	uint32_t n = p->cfg->sampling_rate;

	if (n <= 1)
		return true;
	if (!p->skip)
		p->skip = 1 + xorshift(&p->rng) % (2 * (uint64_t)n - 1);
	return --p->skip == 0;
}

/* The start of the frame and the sampling pool, for a packet() plugin. */
static void plugin_put_pkt(struct plugin *p, struct plugin_pkt *pk, const struct flow_rec *rec,
    const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	size_t n = h && pkt ? (h->caplen < PLUGIN_PKT_HDR ? h->caplen : PLUGIN_PKT_HDR) : 0;

	pk->pool_bytes = p->pool_bytes;
	pk->pool = (uint32_t)p->pool;
	pk->frame_len = h ? h->len : (uint32_t)rec->bytes;
	pk->linktype = p->linktype;
	pk->caplen = (uint16_t)n;
	pk->l3_off = rec->l3_off;
	if (n)
		memcpy(pk->hdr, pkt, n);
	p->pool = p->pool_bytes = 0;
}

void plugin_offer(struct plugin *p, const struct flow_rec *rec,
    const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	if (p->type->datagrams)
		return;		/* tee: fed whole datagrams by the collector */
	if (!plugin_filters_pass(p, rec, h, pkt)) {
		if (p->shared_stats)
			p->pend_filtered++;
		else
			stat_inc(&p->stats.filtered);
		return;
	}
	if (p->type->packet && h) {
		p->pool++;
		p->pool_bytes += h->len;
	}
	if (!plugin_sampled(p))
		return;
	if (!p->batch) {
		p->batch = ring_acquire(p->ring, p->wait_when_full);
		if (!p->batch) {
			/* live capture never blocks: the record is lost and counted */
			stat_add(p, &stats_of(p)->dropped_records, 1);
			return;
		}
	}
	uint8_t *el = p->batch + p->batch_len++ * p->elem_size;
	struct batch_rec *bh = (struct batch_rec *)el;
	bh->bytes = rec->bytes;
	bh->packets = rec->packets;
	bh->flows = rec->flows;
	bh->ts = rec->ts;
	bh->tcp_flags = rec->tcp_flags;
	bh->flags = rec->flags;
	memcpy(el + sizeof(*bh), (const uint8_t *)&rec->k + p->key_lo, p->key_hi - p->key_lo);
	if (p->cfg->post_tag || p->cfg->post_tag2)
		plugin_set_static(p, el + sizeof(*bh));
	if (p->type->packet)
		plugin_put_pkt(p, (struct plugin_pkt *)(el + p->pkt_off), rec, h, pkt);
	if (p->shared_stats)
		p->pend_records++;
	else
		stat_inc(&p->stats.records);
	if (p->batch_len == p->batch_cap)
		plugin_flush_batch(p);
}

void plugin_report_drops(struct plugin *p, time_t now)
{
	uint64_t d = atomic_load_explicit(&p->stats.dropped_records, memory_order_relaxed);

	if (d == p->drops_reported || now - p->drops_logged_at < 10)
		return;
	log_warnx(p->who, "Missing data detected: %llu records dropped, the plugin is too slow for "
	    "the traffic (plugin_buffer_size=%zu plugin_pipe_size=%zu).",
	    (unsigned long long)(d - p->drops_reported), p->batch_cap * p->elem_size,
	    p->pipe_bytes);
	log_warnx(p->who, "Increase values or look for plugin_buffer_size, plugin_pipe_size in the "
	    "configuration keys document.");
	p->drops_reported = d;
	p->drops_logged_at = now;
}

void plugins_reload_maps(struct plugin *ps, int n)
{
	for (int i = 0; i < n; i++) {
		atomic_fetch_add(&ps[i].maps_gen, 1);
		/* feeds carry the same generation: a hook run on a feed compares it too */
		for (struct plugin *f = ps[i].feed_next; f; f = f->feed_next)
			atomic_fetch_add(&f->maps_gen, 1);
	}
}

struct plugin *plugins_feed_new(struct plugin *ps, int n)
{
	struct plugin *f = xcalloc((size_t)n, sizeof(*f));

	for (int i = 0; i < n; i++) {
		struct plugin **tail = &ps[i].feed_next;
		f[i] = ps[i];
		f[i].head = &ps[i];
		f[i].feed_next = NULL;
		f[i].ring = ring_add_sibling(ps[i].ring);
		f[i].batch = NULL;
		f[i].batch_len = 0;
		memset(&f[i].stats, 0, sizeof(f[i].stats));
		f[i].pend_records = f[i].pend_filtered = 0;
		f[i].pool = f[i].pool_bytes = 0;
		f[i].skip = 0;
		f[i].rng ^= (uint64_t)(uintptr_t)&f[i] * 0x9e3779b97f4a7c15ULL;
		f[i].shared_stats = ps[i].shared_stats = true;
		while (*tail)
			tail = &(*tail)->feed_next;
		*tail = &f[i];
	}
	return f;
}

uint64_t plugins_stop(struct plugin *ps, int n)
{
	uint64_t undelivered = 0;

	for (int i = 0; i < n; i++) {
		uint64_t d;
		plugin_flush_batch(&ps[i]);
		for (struct plugin *f = ps[i].feed_next; f; f = f->feed_next)
			ring_close(f->ring);	/* its thread has flushed it */
		d = atomic_load(&ps[i].stats.dropped_records);
		ring_close(ps[i].ring);
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
		for (int f = 0; f < ps[i].nfilters; f++)
			pcap_freecode(&ps[i].filters[f]);
		free(ps[i].filters);
		free(ps[i].tag_filter);
		free(ps[i].tag2_filter);
		labelfilter_free(ps[i].label_filter);
		ring_free(ps[i].ring);	/* and its feeds' sibling rings */
	}
	/* each plugins_feed_new() array starts with a feed of ps[0] */
	for (struct plugin *f = n ? ps[0].feed_next : NULL, *next; f; f = next) {
		next = f->feed_next;
		free(f);
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
