/* SPDX-License-Identifier: BSD-3-Clause */
/* pipeline.h: the core's per-record path: decode, enrich, then offer to every plugin. */
#ifndef PIPELINE_PIPELINE_H
#define PIPELINE_PIPELINE_H

#include <pcap/pcap.h>
#include <stdbool.h>

#include "config/config.h"
#include "decode/packet.h"
#include "maps/bgp_rib.h"
#include "maps/geoip.h"
#include "model/dgram.h"
#include "pipeline/bgp_enrich.h"
#include "pipeline/classify.h"
#include "pipeline/core_maps.h"
#include "pipeline/feed.h"
#include "pipeline/flows.h"
#include "pipeline/frag.h"

/* The core's state between the source and the plugins (owned by the core thread). */
struct pipeline {
	struct core_cfg *cfg;
	struct plugin_feed *feeds;	/* one per plugin, in config order */
	int nfeeds;
	struct pkt_stats dstats;
	struct frag_table *frag;	/* when a plugin needs L4 primitives */
	struct flows_table *flows;	/* when a plugin counts flows */
	struct classifier *cl;		/* nDPI, when a plugin aggregates class (pmacctd) */
	struct core_maps *maps;		/* pre_tag_map; NULL when none */
	bool needs_frame;		/* some filter runs on a frame rebuilt from records */
	struct bgp_enrich *bgp;		/* BGP correlation; NULL when no plugin needs it */
	struct bgp_rib *rib;		/* pipeline_set_bgp(); NULL = none */
	struct roa_db *roa;		/* pipeline_set_roa(); NULL = none */
	unsigned bgp_batch;		/* records enriched under the RIB's read lock held now */
	struct pkt_tun tun;		/* tunnels the decoder looks into ... */
	const struct pkt_tun *tunp;	/* ... &tun, or NULL when no plugin nor tunnel_0 asks */
	bool geo_on;			/* a plugin selects a GeoIP field: fill them */
	struct geoip_need geo_need;	/* which */
	struct geoip *geo;		/* geoipv2_file; NULL = none (selected fields stay empty) */
};

/*
 * What the packet decoder does with tunnels for cfg: the tunnel_* primitives
 * when a plugin aggregates one, tunnel_0's entries when `packets` (pmacctd;
 * pmacct's tunnel_0 is pmacctd's only).  False when neither: decode as if
 * there were no tunnels (the fast path).
 */
bool pipeline_tun_setup(const struct core_cfg *cfg, bool packets, struct pkt_tun *t);

/* Records enriched under one hold of the RIB's read lock, at most. */
#define PIPELINE_BGP_BATCH 256

/*
 * Set up a feed for each of the plugins ps[0..n-1] and the enrichment state
 * they need (linktype and snaplen of the capture, for pre_tag_map filters).
 * `packets`: records are captured packets (pmacctd), so fragments and flows
 * are tracked here; NetFlow and sFlow records arrive as flows already.
 * Returns 0, or -1 after logging; pipeline_fini() in both cases.
 */
int pipeline_init(struct pipeline *pl, struct core_cfg *cfg, struct plugin *ps, int n,
    int linktype, int snaplen, bool packets);

/*
 * The pipeline of one more receive thread (collector_workers): its own
 * maps, and further feeds of first's plugins (feed_init_sibling()), records
 * as flows.  Before the plugins start.  0, or -1 after logging;
 * pipeline_fini() in both cases, before first's.
 */
int pipeline_init_sibling(struct pipeline *pl, struct pipeline *first, int linktype, int snaplen);

/*
 * The BGP RIB records are correlated with (bgp_daemon: the BGP thread's),
 * or NULL.  Before the first record, before further receive threads are
 * set up (pipeline_init_sibling() takes the first's).
 */
void pipeline_set_bgp(struct pipeline *pl, struct bgp_rib *rib);
/* The ROAs src_roa / dst_roa are validated against (NULL: none); before the first record. */
struct roa_db;
void pipeline_set_roa(struct pipeline *pl, struct roa_db *db);

/* SIGUSR2: reload the core's maps, and ask every plugin to reload its own. */
void pipeline_reload_maps(struct pipeline *pl);

/* SIGUSR2 on a further receive thread: reload only this pipeline's own maps (core and BGP). */
void pipeline_reload_core_maps(struct pipeline *pl);

/*
 * End the batch of records enriched so far: the RIB's read lock, taken at
 * the batch's first record, is released (records of one datagram or one
 * capture read share a hold; PIPELINE_BGP_BATCH records at most).  Call
 * before the thread waits for input.  pipeline_flush() ends it too.
 */
void pipeline_batch_end(struct pipeline *pl);

/*
 * SIGUSR1, after a capture source's own lines: the decoder's drops by
 * reason, each plugin's counters, every table's fill, then "---".
 */
void pipeline_log_stats(const struct pipeline *pl, const char *who);

/*
 * Close the feeds (partial batches handed over, rings closed: the plugin
 * threads drain them and end) and free the pipeline's state.  Before
 * plugins_stop().
 */
void pipeline_fini(struct pipeline *pl);

/* One captured frame of link type dlt through decode, enrich and dispatch. */
void pipeline_packet(struct pipeline *pl, int dlt, const struct pcap_pkthdr *h, const uint8_t *pkt);

/*
 * pipeline_packet() for a frame whose interface the capture knows: the
 * record carries in_iface, out_iface and pre_tag_map's direction (0 none,
 * 1 in, 2 out).
 */
void pipeline_packet_at(struct pipeline *pl, int dlt, const struct pcap_pkthdr *h, const uint8_t *pkt,
    uint32_t in_iface, uint32_t out_iface, uint8_t direction);

/*
 * One decoded record (ts, key and counters set) through pre_tag_map,
 * fragments and flows (packet sources), and every plugin's filters.  h and
 * pkt are the captured frame, or NULL for NetFlow/sFlow records (filters
 * then see a frame rebuilt from the record).
 */
void pipeline_record(struct pipeline *pl, struct flow_rec *rec, const struct pcap_pkthdr *h,
    const uint8_t *pkt);

/*
 * One received and allowed datagram to every plugin whose type takes
 * datagrams (tee), on the calling receive thread; with their pre_tag_map
 * tag on demand.
 */
void pipeline_datagram(struct pipeline *pl, const struct dgram *d);

/* Hand every plugin its partial batch (idle live capture, end of input). */
void pipeline_flush(struct pipeline *pl);

#endif
