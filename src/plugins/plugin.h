/* SPDX-License-Identifier: BSD-3-Clause */
/* plugin.h: the plugin runtime: a thread per plugin instance fed by its own ring, and the table of plugin types. */
#ifndef PLUGINS_PLUGIN_H
#define PLUGINS_PLUGIN_H

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"
#include "lib/ring.h"
#include "model/flow_rec.h"
#include "model/prim.h"

struct plugin;
struct tagfilter;
struct labelfilter;

/*
 * A record as it travels in a batch: counters and time, then the bytes
 * [key_lo, key_hi) of its struct flow_key (the plugin's span only).
 */
struct batch_rec {
	uint64_t bytes, packets, flows;
	struct fr_ts ts;
	uint8_t tcp_flags;
	uint8_t flags;
	uint8_t pad[6];
};

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
 * A plugin type: hooks called on the plugin's own thread (except init,
 * called on the core thread before capture starts, and fini after the
 * thread ended).  Types keep their state in plugin->state.
 */
struct plugin_type {
	const char *name;		/* "print", "memory", ... */
	uint8_t daemons;		/* SRC_PM | SRC_NF | SRC_SF: where it may run */
	bool full_record;		/* receives every key field, not only its aggregate's */
	/* primitives always added to the plugin's aggregate (its fixed key), P_COUNT-terminated */
	const enum prim_id *needs;
	/*
	 * Every check of the plugin's settings, and of what init() would open
	 * (files, directories, addresses), opening and creating nothing: runs at
	 * start-up and under -T config alike, so both refuse the same configs
	 * with the same message.  0 or -1 (logged with file, line and key).
	 */
	int (*check)(const struct plugin *p);
	/* After check(): allocate state, open what must fail early. 0 or -1 (logged). */
	int (*init)(struct plugin *p);
	/* Account one record. */
	void (*record)(struct plugin *p, const struct flow_rec *rec);
	/* Instead of record(): one record with the start of its frame (pmacctd only). */
	void (*packet)(struct plugin *p, const struct flow_rec *rec, const struct plugin_pkt *pk);
	/* Takes whole datagrams from the collector (tee), never records. */
	bool datagrams;
	/* Milliseconds until the plugin wants tick() again (-1 = never). */
	int (*next_tick_ms)(struct plugin *p);
	/* Periodic work: purge on refresh, serve queries. */
	void (*tick)(struct plugin *p);
	/* Final flush at shutdown (the ring is drained). */
	void (*flush)(struct plugin *p);
	/* Free state. */
	void (*fini)(struct plugin *p);
};

/* Stats shared between the core (writer) and anyone reading (SIGUSR1, client). */
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

struct plugin {
	const struct plugin_type *type;
	struct plugin_cfg *cfg;
	struct core_cfg *core;
	char who[CFG_NAME_MAX + 24];	/* "name/type" for log lines */
	void *state;

	/* the span of struct flow_key this plugin receives (prim_key_span) */
	size_t key_lo, key_hi;
	size_t elem_size;		/* bytes per record in a batch */
	size_t pkt_off;			/* packet(): offset of the struct plugin_pkt in an element */
	int linktype;			/* of the capture (pmacctd) */
	uint64_t pool, pool_bytes;	/* packet(): packets passed since the last sample (core side) */

	/* core side */
	struct ring *ring;
	uint8_t *batch;			/* slot being filled, or NULL */
	size_t batch_len, batch_cap;	/* records */
	size_t pipe_bytes;		/* plugin_pipe_size in effect */
	bool wait_when_full;		/* capture files: never drop */
	struct bpf_program *filters;	/* aggregate_filter: one per comma-separated part, ORed */
	int nfilters;
	struct tagfilter *tag_filter;	/* pre_tag_filter, NULL = none */
	struct tagfilter *tag2_filter;	/* pre_tag2_filter, NULL = none */
	struct labelfilter *label_filter;	/* pre_tag_label_filter, NULL = none */
	uint64_t rng;			/* sampling_rate */
	uint64_t skip;			/* packets still to skip before the next sample */
	struct plugin_stats stats;
	uint64_t drops_reported;	/* dropped_records already logged */
	time_t drops_logged_at;
	/*
	 * collector_workers: each further receive thread offers records to a
	 * feed, a copy of this struct with its own ring (a sibling of ring)
	 * and batch; `head` is the plugin it feeds (NULL on the plugin itself),
	 * feed_next chains a plugin's feeds.  With feeds, every producer counts
	 * records and filtered ones locally and adds them to the plugin's
	 * stats per batch (shared_stats).
	 */
	struct plugin *head;
	struct plugin *feed_next;
	bool shared_stats;
	uint64_t pend_records, pend_filtered;

	/* plugin side */
	pthread_t thread;
	bool started;
	struct plugin_maps *maps;	/* networks_file, ports_file (plugin_maps.c) */
	_Atomic unsigned maps_gen;	/* bumped by the core on SIGUSR2 */
	unsigned maps_seen;		/* generation the plugin thread has loaded */
	/* rows (entries, messages) the final flush could not deliver: plugins_stop() sums them */
	uint64_t undelivered;
};

/* The plugin type called `name`, or NULL. */
const struct plugin_type *plugin_type_find(const char *name);
const struct plugin_type *plugin_type_at(size_t i);

/*
 * Create every configured plugin: check the type is valid for the daemon,
 * compile aggregate_filter against `linktype`/`snaplen`, size the ring,
 * call init().  Returns the array (n = cfg->nplugins) or NULL after logging.
 */
struct plugin *plugins_create(struct core_cfg *cfg, uint8_t daemon, int linktype, int snaplen);

/* Start each plugin's thread. */
void plugins_start(struct plugin *ps, int n);

/*
 * Offer a record to plugin p: aggregate_filter (on the packet when `h` is
 * not NULL), sampling, post_tag, then append to the current batch.
 */
void plugin_offer(struct plugin *p, const struct flow_rec *rec,
    const struct pcap_pkthdr *h, const uint8_t *pkt);

/* Hand any partial batch to the plugin now (idle live capture, end of file). */
void plugin_flush_batch(struct plugin *p);

/*
 * A further producer side for the plugins ps[0..n-1], for one more core
 * thread (collector_workers): n feeds sharing each plugin's type, config
 * and filters, each with its own ring drained by the same plugin thread.
 * Only plugin_offer() and plugin_flush_batch() may be called on them, from
 * that one thread.  Call before plugins_start(); plugins_stop() closes and
 * frees them (flush them before).
 */
struct plugin *plugins_feed_new(struct plugin *ps, int n);

/*
 * Log (at most every 10 seconds per plugin) records lost to a full ring
 * since the last report, with the sizes to raise, as pmacct warns.
 */
void plugin_report_drops(struct plugin *p, time_t now);

/* Ask every plugin to reload its maps (SIGUSR2); each does it on its own thread. */
void plugins_reload_maps(struct plugin *ps, int n);

/* The daemons' exit status when a plugin could not deliver everything it held at shutdown. */
#define PLUGIN_EXIT_UNDELIVERED 2

/*
 * Flush batches, close rings, join threads, run fini.  Returns the rows
 * the plugins' final flushes could not deliver (0: everything went out).
 */
uint64_t plugins_stop(struct plugin *ps, int n);

#endif
