/* SPDX-License-Identifier: BSD-3-Clause */
/* feed.h: the producer side of a plugin: filters, sampling and batches written into the plugin's ring. */
#ifndef PIPELINE_FEED_H
#define PIPELINE_FEED_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "model/flow_rec.h"
#include "plugins/plugin.h"

/*
 * What one core thread (the capture loop, or one receive thread of
 * collector_workers) keeps to feed one plugin.  Everything here belongs to
 * that thread; it shares with the plugin only the ring (SPSC: this feed is
 * its one producer), the plugin's stats (atomics) and its compiled filters
 * (read-only).  The batch format (key span, element size, packet offset)
 * is the plugin's, copied.
 */
struct plugin_feed {
	struct plugin *plugin;		/* the consumer: its thread drains `ring` */
	const struct plugin_cfg *cfg;	/* post_tag, post_tag2, sampling_rate */
	const struct plugin_filters *filters;	/* the plugin's, read-only */
	struct plugin_stats *stats;	/* the plugin's */
	bool shared_stats;		/* several feeds add to stats: count locally, add per batch */
	bool records;			/* false: the type takes datagrams (tee), never records */
	bool packets;			/* the type has packet(): elements end in a struct plugin_pkt */

	struct ring *ring;		/* the plugin's ring, or a sibling of it */
	uint8_t *batch;			/* slot being filled, or NULL */
	size_t batch_len, batch_cap;	/* records */
	const struct key_layout *layout;	/* the pieces of struct flow_key copied per record */
	size_t elem_size;		/* bytes per record */
	size_t pf_ahead;		/* feed_append() prefetches this many elements ahead */
	size_t pkt_off;			/* packets: offset of the struct plugin_pkt in an element */
	int linktype;			/* of the capture (pmacctd) */
	bool wait_when_full;		/* capture files: never drop */

	uint64_t pool, pool_bytes;	/* packets: packets passed since the last sample */
	uint64_t rng;			/* sampling_rate */
	uint64_t skip;			/* packets still to skip before the next sample */
	uint64_t pend_records, pend_filtered;	/* shared_stats: counted since the last batch */
	uint64_t drops_reported;	/* dropped_records already logged */
	time_t drops_logged_at;
};

/* The first producer of plugin p, writing p->ring; frames are of `linktype`. */
void feed_init(struct plugin_feed *f, struct plugin *p, int linktype);

/*
 * A further producer of first's plugin, for one more core thread
 * (collector_workers): its own sibling ring, drained by the same plugin
 * thread.  From now on first and f add to the plugin's stats atomically,
 * once per batch.  Call before the plugin's thread starts.
 */
void feed_init_sibling(struct plugin_feed *f, struct plugin_feed *first, int linktype);

/*
 * Offer a record: aggregate_filter (on the frame when `h` is not NULL),
 * pre_tag filters, sampling, post_tag, then append to the current batch,
 * handed over when full.  A full ring loses the record (counted) unless
 * wait_when_full.
 */
void feed_offer(struct plugin_feed *f, const struct flow_rec *rec, const struct pcap_pkthdr *h,
    const uint8_t *pkt);

/* Hand any partial batch to the plugin now (idle live capture, end of file). */
void feed_flush(struct plugin_feed *f);

/*
 * Log (at most every 10 seconds per feed) records lost to a full ring
 * since the last report, with the sizes to raise, as pmacct warns.
 */
void feed_report_drops(struct plugin_feed *f, time_t now);

/* The producer is done: hand over the partial batch and close the ring. */
void feed_fini(struct plugin_feed *f);

#endif
