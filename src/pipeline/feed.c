/* SPDX-License-Identifier: BSD-3-Clause */
/* feed.c: the producer side of a plugin: filters, sampling and batches written into the plugin's ring. */
#include "feed.h"

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "lib/log.h"
#include "lib/ring.h"

/*
 * Fetch the cache line at p in exclusive state (PREFETCHW: a hint, executed as a no-op by x86
 * processors without it).  __builtin_prefetch(p, 1) is a plain read prefetch unless the build
 * targets a processor with PRFCHW.
 */
static inline void prefetch_w(const void *p)
{
#if defined(__x86_64__)
	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1);
#endif
}

/*
 * How far ahead of the element being written feed_append() asks for the slot's lines.  The
 * plugin's thread, likely on another core, read them last: each store to them waits for the
 * line to come back in exclusive state, and with the store buffer full every later store of
 * this thread waits too (a third of a NetFlow record's time on 2 cores, bench/README.md).
 */
#define FEED_PREFETCH_BYTES 2048

/* The lines of [p, p + n) in exclusive state. */
static inline void prefetch_w_range(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;

	for (p = (const uint8_t *)((uintptr_t)p & ~(uintptr_t)63); p < end; p += 64)
		prefetch_w(p);
}

/* The batch format and the plugin's shared parts; the ring is the caller's to set. */
static void feed_setup(struct plugin_feed *f, struct plugin *p, int linktype)
{
	memset(f, 0, sizeof(*f));
	f->plugin = p;
	f->cfg = p->cfg;
	f->filters = &p->filters;
	f->stats = &p->stats;
	f->records = p->type->datagram == NULL;
	f->packets = p->type->packet != NULL;
	f->batch_cap = p->batch_cap;
	f->layout = p->layout;
	f->elem_size = p->elem_size;
	f->pf_ahead = f->elem_size < FEED_PREFETCH_BYTES ? FEED_PREFETCH_BYTES / f->elem_size : 1;
	f->pkt_off = p->pkt_off;
	f->linktype = linktype;
}

void feed_init(struct plugin_feed *f, struct plugin *p, int linktype)
{
	feed_setup(f, p, linktype);
	f->ring = p->ring;
	f->rng = 0x2545F4914F6CDD1DULL ^ (uint64_t)(uintptr_t)p ^ (uint64_t)time(NULL);
}

void feed_init_sibling(struct plugin_feed *f, struct plugin_feed *first, int linktype)
{
	feed_setup(f, first->plugin, linktype);
	f->ring = ring_add_sibling(first->plugin->ring);
	f->rng = first->rng ^ (uint64_t)(uintptr_t)f * 0x9e3779b97f4a7c15ULL;
	f->shared_stats = first->shared_stats = true;
}

/* Counters written by this feed's thread only: a plain increment, readable from any thread. */
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

/* Add n to a counter that other feeds may add to as well (shared_stats). */
static void stat_add(const struct plugin_feed *f, _Atomic uint64_t *c, uint64_t n)
{
	if (f->shared_stats)
		atomic_fetch_add_explicit(c, n, memory_order_relaxed);
	else
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
		    memory_order_relaxed);
}

void feed_flush(struct plugin_feed *f)
{
	if (f->pend_records || f->pend_filtered) {
		stat_add(f, &f->stats->records, f->pend_records);
		stat_add(f, &f->stats->filtered, f->pend_filtered);
		f->pend_records = f->pend_filtered = 0;
	}
	if (!f->batch || !f->batch_len) {
		ring_kick(f->ring);	/* full batches committed lazily may be waiting */
		return;
	}
	if (f->batch_len == f->batch_cap)
		ring_commit_full(f->ring, f->batch_len * f->elem_size);
	else
		ring_commit(f->ring, f->batch_len * f->elem_size);
	f->batch = NULL;
	f->batch_len = 0;
}

/* Write a field at flow_key offset `off` into the element's key pieces `key`, if a piece holds it. */
static void put_field(const struct plugin_feed *f, uint8_t *key, size_t off, const void *v,
    size_t n)
{
	for (unsigned i = 0; i < f->layout->n; i++) {
		const struct key_seg *s = &f->layout->seg[i];
		if (off >= s->off && off + n <= (size_t)s->off + s->len && !s->text) {
			memcpy(key + s->at + (off - s->off), v, n);
			return;
		}
	}
}

/*
 * post_tag and post_tag2 override the record's tags.  The plugin's own
 * sampling_rate does not show in the sampling_rate primitive: pmacct 1.7.7
 * prints 1 there (the primitive tells pmacctd_ext_sampling_rate).
 */
static void feed_set_static(const struct plugin_feed *f, uint8_t *key)
{
	const struct plugin_cfg *c = f->cfg;
	if (c->post_tag)
		put_field(f, key, offsetof(struct flow_key, tag), &c->post_tag, sizeof(c->post_tag));
	if (c->post_tag2)
		put_field(f, key, offsetof(struct flow_key, tag2), &c->post_tag2, sizeof(c->post_tag2));
}

/*
 * sampling_rate N: pmacct's take_simple_random_skip: after each sampled
 * packet the next one is taken after a random number of packets, uniform
 * in [1, 2N-1] (mean N), counted over the packets that passed the filters.
 */
static bool feed_sampled(struct plugin_feed *f)
{
	uint32_t n = f->cfg->sampling_rate;

	if (n <= 1)
		return true;
	if (!f->skip)
		f->skip = 1 + xorshift(&f->rng) % (2 * (uint64_t)n - 1);
	return --f->skip == 0;
}

/* The start of the frame and the sampling pool, for a packet() plugin. */
static void feed_put_pkt(struct plugin_feed *f, struct plugin_pkt *pk, const struct flow_rec *rec,
    const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	size_t n = h && pkt ? (h->caplen < PLUGIN_PKT_HDR ? h->caplen : PLUGIN_PKT_HDR) : 0;

	pk->pool_bytes = f->pool_bytes;
	pk->pool = (uint32_t)f->pool;
	pk->frame_len = h ? h->len : (uint32_t)rec->bytes;
	pk->linktype = f->linktype;
	pk->caplen = (uint16_t)n;
	pk->l3_off = rec->l3_off;
	if (n)
		memcpy(pk->hdr, pkt, n);
	f->pool = f->pool_bytes = 0;
}

/* Append rec (and its frame, for packet() plugins) to the batch being filled. */
static void feed_append(struct plugin_feed *f, const struct flow_rec *rec,
    const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	uint8_t *el = f->batch + f->batch_len++ * f->elem_size;

	if (f->batch_len + f->pf_ahead <= f->batch_cap)
		prefetch_w_range(el + f->pf_ahead * f->elem_size, f->elem_size);
	batch_rec_pack(el, rec, f->layout);
	if (f->cfg->post_tag || f->cfg->post_tag2)
		feed_set_static(f, el + sizeof(struct batch_rec));
	if (f->packets)
		feed_put_pkt(f, (struct plugin_pkt *)(el + f->pkt_off), rec, h, pkt);
}

/* Does the plugin filter anything (aggregate_filter only where there is a frame)? */
static inline bool filters_set(const struct plugin_filters *pf, const struct pcap_pkthdr *h)
{
	return (pf->nbpf && h) || pf->tag || pf->tag2 || pf->label;
}

void feed_offer(struct plugin_feed *f, const struct flow_rec *rec, const struct pcap_pkthdr *h,
    const uint8_t *pkt)
{
	if (!f->records)
		return;		/* tee: fed whole datagrams by the collector */
	if (filters_set(f->filters, h) && !plugin_filters_pass(f->filters, rec, h, pkt)) {
		if (f->shared_stats)
			f->pend_filtered++;
		else
			stat_inc(&f->stats->filtered);
		return;
	}
	if (f->packets && h) {
		f->pool++;
		f->pool_bytes += h->len;
	}
	if (!feed_sampled(f))
		return;
	if (!f->batch) {
		f->batch = ring_acquire(f->ring, f->wait_when_full);
		if (!f->batch) {
			/* live capture never blocks: the record is lost and counted */
			stat_add(f, &f->stats->dropped_records, 1);
			return;
		}
		/* the elements feed_append() will not have asked for ahead */
		prefetch_w_range(f->batch, (f->pf_ahead < f->batch_cap ? f->pf_ahead : f->batch_cap) *
		    f->elem_size);
	}
	feed_append(f, rec, h, pkt);
	if (f->shared_stats)
		f->pend_records++;
	else
		stat_inc(&f->stats->records);
	if (f->batch_len == f->batch_cap)
		feed_flush(f);
}

void feed_report_drops(struct plugin_feed *f, time_t now)
{
	uint64_t d = atomic_load_explicit(&f->stats->dropped_records, memory_order_relaxed);

	if (d == f->drops_reported || now - f->drops_logged_at < 10)
		return;
	log_warnx(f->plugin->who, "Missing data detected: %llu records dropped, the plugin is too "
	    "slow for the traffic (plugin_buffer_size=%zu plugin_pipe_size=%zu).",
	    (unsigned long long)(d - f->drops_reported), f->batch_cap * f->elem_size,
	    f->plugin->pipe_bytes);
	log_warnx(f->plugin->who, "Increase values or look for plugin_buffer_size, plugin_pipe_size "
	    "in the configuration keys document.");
	f->drops_reported = d;
	f->drops_logged_at = now;
}

void feed_fini(struct plugin_feed *f)
{
	if (!f->ring)
		return;
	feed_flush(f);
	ring_close(f->ring);
	f->ring = NULL;
}
