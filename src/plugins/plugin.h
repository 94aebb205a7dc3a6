/* SPDX-License-Identifier: BSD-3-Clause */
/* plugin.h: the plugin runtime, consumer side: a thread per plugin instance draining its ring(s), the plugin types. */
#ifndef PLUGINS_PLUGIN_H
#define PLUGINS_PLUGIN_H

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "lib/ring.h"
#include "model/dgram.h"
#include "model/flow_rec.h"
#include "model/prim.h"

struct plugin;
struct tagfilter;
struct labelfilter;

/*
 * A record as it travels in a batch: counters and time, then the pieces
 * of its struct flow_key the plugin receives (its key_layout).
 */
struct batch_rec {
	uint64_t bytes, packets, flows;
	struct fr_ts ts;
	uint8_t tcp_flags;
	uint8_t flags;
	uint8_t pad[6];
};

/* Fields of a plugin's key at most this many bytes apart travel as one piece (prim_key_layout). */
#define PLUGIN_KEY_GAP 16

/* Write rec into the batch element at el: its counters and times, then the pieces of its key L lists. */
static inline void batch_rec_pack(uint8_t *el, const struct flow_rec *rec, const struct key_layout *L)
{
	struct batch_rec *h = (struct batch_rec *)el;
	const uint8_t *k = (const uint8_t *)&rec->k;
	uint8_t *o = el + sizeof(*h);

	h->bytes = rec->bytes;
	h->packets = rec->packets;
	h->flows = rec->flows;
	h->ts = rec->ts;
	h->tcp_flags = rec->tcp_flags;
	h->flags = rec->flags;
	if (L->single) {	/* the common case: one piece */
		memcpy(o, k + L->single_off, L->bytes);
		return;
	}
	for (unsigned i = 0; i < L->n; i++) {
		const struct key_seg *s = &L->seg[i];
		size_t len = s->len;
		if (s->text) {	/* the string and its NUL: the bytes after it stay as they were */
			size_t m = strnlen((const char *)k + s->off, len);
			len = m < len ? m + 1 : m;
		}
		memcpy(o + s->at, k + s->off, len);
	}
}

/* The record batch_rec_pack() wrote at el, into out (whose key outside L's pieces is left as is). */
static inline void batch_rec_unpack(const uint8_t *el, struct flow_rec *out, const struct key_layout *L)
{
	const struct batch_rec *h = (const struct batch_rec *)el;
	const uint8_t *in = el + sizeof(*h);
	uint8_t *k = (uint8_t *)&out->k;

	out->bytes = h->bytes;
	out->packets = h->packets;
	out->flows = h->flows;
	out->ts = h->ts;
	out->tcp_flags = h->tcp_flags;
	out->flags = h->flags;
	if (L->single) {
		memcpy(k + L->single_off, in, L->bytes);
		return;
	}
	for (unsigned i = 0; i < L->n; i++) {
		const struct key_seg *s = &L->seg[i];
		if (s->text) {
			size_t m = strnlen((const char *)in + s->at, s->len);
			memcpy(k + s->off, in + s->at, m);
			memset(k + s->off + m, 0, s->len - m);
		} else {
			memcpy(k + s->off, in + s->at, s->len);
		}
	}
}

/*
 * The start of a captured frame, for plugins that export packet samples
 * (sfprobe): it follows the key in the batch element when the type has a
 * packet() hook.
 */
#define PLUGIN_PKT_HDR 128
struct plugin_pkt {
	uint64_t pool_bytes;	/* frame bytes of the packets counted in pool */
	uint32_t pool;		/* packets that passed the filters since the previous sample, this one included */
	uint32_t frame_len;	/* length of the frame on the wire */
	int32_t linktype;	/* DLT_* of the capture */
	uint16_t caplen;	/* bytes in hdr */
	uint16_t l3_off;	/* offset of the IP header in hdr */
	uint8_t hdr[PLUGIN_PKT_HDR];
};

/*
 * The tag pre_tag_map gives a datagram for one plugin (its `index` in
 * config order), computed on demand by the collector's pipeline: 0 without
 * a map.  Valid during a datagram() call only.
 */
struct plugin_tagger {
	uint64_t (*tag)(void *arg, int index, const struct dgram *d);
	void *arg;
	int index;
};

/*
 * A plugin type: hooks called on the plugin's own thread (except init,
 * called on the core thread before capture starts, and fini after the
 * thread ended).  Types keep their state in plugin->state.
 */
struct plugin_type {
	const char *name;		/* "print", "memory", ... */
	uint8_t daemons;		/* SRC_PM | SRC_NF | SRC_SF: where it may run */
	bool full_record;		/* receives every key field, not only its aggregate's */
	bool binned;			/* accounts through plugins/binned.h: time-bins, stitching, pro-rating */
	/* primitives always added to the plugin's aggregate (its fixed key), P_COUNT-terminated */
	const enum prim_id *needs;
	/*
	 * Every check of the plugin's settings, and of what init() would open
	 * (files, directories, addresses), opening and creating nothing: runs at
	 * start-up and under -T config alike, so both refuse the same configs
	 * with the same message.  0 or -1 (logged with file, line and key).
	 */
	int (*check)(const struct plugin *p);
	/*
	 * After check(), at start-up and under -T config alike: register the
	 * plugin's tables and their ceilings, from its config alone, in
	 * p->core->gauges (model/gauge.h), its main table as p->gauge.  NULL:
	 * the plugin keeps no table that grows with traffic.
	 */
	void (*bounds)(struct plugin *p);
	/* After bounds(): allocate state, open what must fail early. 0 or -1 (logged). */
	int (*init)(struct plugin *p);
	/* Account one record. */
	void (*record)(struct plugin *p, const struct flow_rec *rec);
	/* Instead of record(): one record with the start of its frame (pmacctd only). */
	void (*packet)(struct plugin *p, const struct flow_rec *rec, const struct plugin_pkt *pk);
	/*
	 * Instead of records: every received and allowed datagram (tee), called
	 * by the collector on the receive thread, by several receive threads at
	 * once with collector_workers; the hook does its own locking.  The
	 * plugin's thread then gets no records.  NULL for record plugins.
	 */
	void (*datagram)(struct plugin *p, const struct dgram *d, const struct plugin_tagger *tg);
	/* Milliseconds until the plugin wants tick() again (-1 = never). */
	int (*next_tick_ms)(struct plugin *p);
	/* Periodic work: purge on refresh, serve queries. */
	void (*tick)(struct plugin *p);
	/* Final flush at shutdown (the ring is drained). */
	void (*flush)(struct plugin *p);
	/* Free state. */
	void (*fini)(struct plugin *p);
};

/* Stats shared between the producers (the pipeline's feeds write) and anyone reading (SIGUSR1, client). */
struct plugin_stats {
	_Atomic uint64_t records;		/* records handed to the ring */
	_Atomic uint64_t dropped_records;	/* lost to a full ring (live capture only) */
	_Atomic uint64_t dropped_batches;
	_Atomic uint64_t filtered;		/* rejected by aggregate_filter */
	/* purges of the cache to the backend (print, SQL, brokers): plugin_flush_done() */
	_Atomic uint64_t flushes;
	_Atomic uint64_t flush_errors;		/* purges the backend refused (data kept) */
	_Atomic uint64_t flush_last_us;		/* duration of the last purge */
	_Atomic uint64_t flush_max_us;
	_Atomic uint64_t flush_total_us;
};

/* A purge that began at clock_mono_us() `start_us` ended; ok = the backend took it. */
void plugin_flush_done(struct plugin *p, uint64_t start_us, bool ok);

/* SIGUSR1: one line per plugin: records, drops, ring fill, purge count and timings. */
void plugin_log_stats(struct plugin *p, const char *who);

/*
 * A plugin's filters, compiled by plugins_create() and read-only after:
 * the producers (pipeline/feed.h) evaluate them, the plugin owns them.
 */
struct plugin_filters {
	struct bpf_program *bpf;	/* aggregate_filter: one per comma-separated part, ORed */
	int nbpf;
	struct tagfilter *tag;		/* pre_tag_filter, NULL = none */
	struct tagfilter *tag2;		/* pre_tag2_filter, NULL = none */
	struct labelfilter *label;	/* pre_tag_label_filter, NULL = none */
};

/*
 * Does a record pass aggregate_filter (any part; on the frame when `h` is
 * not NULL) and pre_tag_filter / pre_tag2_filter / pre_tag_label_filter?
 * Reads f only: any thread may call it.
 */
bool plugin_filters_pass(const struct plugin_filters *f, const struct flow_rec *rec,
    const struct pcap_pkthdr *h, const uint8_t *pkt);

/*
 * One plugin instance: the consumer side.  The producers that fill its
 * ring(s) are the pipeline's feeds (pipeline/feed.h); the batch format
 * below is what they write and plugin_main() reads.
 */
struct plugin {
	const struct plugin_type *type;
	struct plugin_cfg *cfg;
	struct core_cfg *core;
	char who[CFG_NAME_MAX + 24];	/* "name/type" for log lines */
	void *state;

	/* batch format: the pieces of struct flow_key this plugin receives (prim_key_layout) */
	struct key_layout *layout;
	size_t elem_size;		/* bytes per record in a batch */
	size_t pkt_off;			/* packet(): offset of the struct plugin_pkt in an element */
	size_t batch_cap;		/* records per batch (ring slot) */
	size_t pipe_bytes;		/* plugin_pipe_size in effect */
	/* the ring this thread drains; collector_workers add siblings (ring_add_sibling) */
	struct ring *ring;
	struct plugin_filters filters;
	struct plugin_stats stats;	/* producers add, anyone reads */
	struct table_gauge *gauge;	/* its main table's ceiling and fill (bounds()), NULL = none */
	struct table_gauge *ring_gauge;	/* its ring: plugin_pipe_size, allocated whole */

	pthread_t thread;
	bool started;
	struct plugin_maps *maps;	/* networks_file, ports_file (plugin_maps.c) */
	_Atomic unsigned maps_gen;	/* bumped by the core on SIGUSR2 */
	unsigned maps_seen;		/* generation the plugin thread has loaded */
	/* rows (entries, messages) the final flush could not deliver: plugins_stop() sums them */
	uint64_t undelivered;
};

/* Looks a plugin type up by name (the table is pipeline/plugin_types.h): the type or NULL. */
typedef const struct plugin_type *(*plugin_type_find_fn)(const char *name);

/*
 * Create every configured plugin: find its type with `find` and check it
 * is valid for the daemon, compile its filters against `linktype`/`snaplen`,
 * size the ring, call check() and init().  Returns the array
 * (n = cfg->nplugins) or NULL after logging.
 */
struct plugin *plugins_create(struct core_cfg *cfg, uint8_t daemon, int linktype, int snaplen,
    plugin_type_find_fn find);

/* Start each plugin's thread. */
void plugins_start(struct plugin *ps, int n);

/* Ask a plugin to reload its maps (SIGUSR2); it does so on its own thread. */
void plugin_reload_maps(struct plugin *p);

/* The daemons' exit status when a plugin could not deliver everything it held at shutdown. */
#define PLUGIN_EXIT_UNDELIVERED 2

/*
 * Once every producer has closed its ring (feed_fini(), pipeline_fini()):
 * report ring drops, join the threads (they drain their rings and flush),
 * run fini and free ps.  Returns the rows the plugins' final flushes could
 * not deliver (0: everything went out).
 */
uint64_t plugins_stop(struct plugin *ps, int n);

#endif
