/* SPDX-License-Identifier: BSD-3-Clause */
/* health.h: per-exporter and capture statistics, published by the receive threads for the http plugin. */
#ifndef MODEL_HEALTH_H
#define MODEL_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

#define HEALTH_MAX_LISTED 1000	/* exporters kept per receive thread and in a view (top by packets) */
#define HEALTH_MAX_DROPS 16	/* drop reasons per exporter or capture */
#define HEALTH_REFRESH_MS 1000	/* how often the receive threads publish */
#define HEALTH_SILENT_SECS 60	/* an exporter quiet this long is flagged "silent" */

/* What the published statistics describe. */
enum health_kind { HEALTH_NONE, HEALTH_NETFLOW, HEALTH_SFLOW, HEALTH_CAPTURE };

/*
 * One exporter: a NetFlow/IPFIX exporting process (address, source id /
 * observation domain / v5 engine) or an sFlow agent (address, sub-agent).
 * The publisher fills the counters; the health module sets the times and
 * rates from successive publications.
 */
struct health_exporter {
	struct fr_ip addr;
	uint32_t domain;		/* source id, observation domain, sub-agent */
	uint16_t version;		/* NetFlow 1/5/7/9, IPFIX 10, sFlow 2/4/5; 0 = unparsable */
	uint32_t templates;		/* NetFlow v9/IPFIX templates cached for it */
	uint64_t packets, bytes;	/* datagrams and their bytes */
	uint64_t records;		/* flow records (NetFlow) or flow samples (sFlow) decoded */
	uint64_t counter_samples;	/* sFlow counter samples */
	uint64_t seq_good, seq_fwd, seq_bck;	/* sequence checks: in order, jumps ahead, back */
	uint64_t drops[HEALTH_MAX_DROPS];	/* by reason (names in the view) */
	/* set by the health module */
	int64_t first_seen, last_seen;	/* Unix seconds of the first / last publication it grew in */
	double pps, rps, bps;		/* datagrams, records, bytes per second over the last interval */
};

/* A receive thread's own counters. */
struct health_rx {
	uint64_t datagrams, denied, not_udp;
};

/* pmacctd's capture: one interface or capture file. */
struct health_capture {
	char source[256];		/* interface or file name */
	bool live;
	uint64_t received;		/* frames read from libpcap (all replays) */
	uint64_t filtered;		/* rejected by pcap_filter (files; live ones filter in the kernel) */
	uint64_t decoded;		/* frames decoded to a record */
	uint64_t drops[HEALTH_MAX_DROPS];	/* frames not accounted, by reason (names in the view) */
	bool pcap_stats;		/* live: pcap_stats() answered */
	uint64_t pcap_recv, pcap_drop, pcap_ifdrop;	/* its counters (kernel, interface) */
	double rx_pps;			/* frames read per second over the last interval */
};

/*
 * The exporters one receive thread offers during one publication: the
 * HEALTH_MAX_LISTED with most datagrams (then most drops) are kept, so a
 * flood of spoofed exporters cannot grow what is published.
 */
struct health_build {
	enum health_kind kind;
	const char *const *drop_names;	/* static strings, ndrops of them */
	int ndrops;
	struct health_exporter *v;	/* a min-heap of at most HEALTH_MAX_LISTED */
	size_t n;
	uint64_t offered;		/* exporters offered (listed or not) */
};

/* An empty builder (no allocation until the first offer). */
void health_build_init(struct health_build *b);

/* Name what is offered; `names` must be static (ndrops at most HEALTH_MAX_DROPS are used). */
void health_build_names(struct health_build *b, enum health_kind kind, const char *const *names,
    int ndrops);

/* Offer one exporter (copied; its times and rates are ignored). */
void health_offer(struct health_build *b, const struct health_exporter *e);

/* Free what an unpublished builder holds. */
void health_build_fini(struct health_build *b);

/*
 * Per-exporter counters a daemon keeps itself when its decoder does not
 * (sFlow samples and drops per agent): a hash of health_exporter keyed by
 * (address, domain), bounded to `max` entries.  Owned by one thread.
 */
struct health_acc;
struct health_acc *health_acc_new(size_t max);
void health_acc_free(struct health_acc *a);

/*
 * The entry for (addr, domain), created zeroed when new (NULL when not
 * found and !create).  Past `max` entries, new exporters share one entry
 * with the address unset (af 0: "other").
 */
struct health_exporter *health_acc_get(struct health_acc *a, const struct fr_ip *addr,
    uint32_t domain, bool create);

/* Offer every entry to b. */
void health_acc_offer(const struct health_acc *a, struct health_build *b);

/*
 * The shared snapshot.  Receive threads publish into it about once a
 * second; the http plugin's thread reads a copy.  Every access takes its
 * mutex; publishers build their lists outside it.  Reference counted: each
 * http plugin holds one reference.
 */
struct health;

struct health *health_new(void);
void health_ref(struct health *h);
/* Drop a reference; the last one frees it (true then). NULL is a no-op. */
bool health_unref(struct health *h);

/* A publisher's slot (one per receive thread); call before the threads start. */
int health_slot(struct health *h);

/*
 * Publish slot's exporters (b, emptied: its memory is taken) and counters.
 * Called by the slot's own thread only.
 */
void health_publish(struct health *h, int slot, struct health_build *b, const struct health_rx *rx);

/* Publish pmacctd's capture counters with the names of its drop reasons (static strings). */
void health_publish_capture(struct health *h, const struct health_capture *c,
    const char *const *drop_names, int ndrops);

/* What a reader gets: a merged copy of every slot. */
struct health_view {
	enum health_kind kind;
	const char *const *drop_names;
	int ndrops;
	const char *const *cap_drop_names;
	int cap_ndrops;
	int64_t now;			/* Unix seconds when the copy was made */
	int64_t updated;		/* newest publication, -1 = none yet */
	int receivers;			/* slots that published */
	struct health_rx rx;		/* summed over the slots */
	uint64_t exporters;		/* known to the receive threads (listed or not) */
	struct health_exporter *v;	/* by datagrams, most first, at most HEALTH_MAX_LISTED */
	size_t n;
	bool truncated;			/* more exporters are known than listed */
	bool has_capture;
	struct health_capture cap;
};

/* Fill a view from h (NULL h: an empty view). Free it with health_view_fini(). */
void health_view_get(struct health *h, struct health_view *out);
void health_view_fini(struct health_view *v);

/* Is e silent (nothing new for more than HEALTH_SILENT_SECS) at v->now? */
bool health_silent(const struct health_view *v, const struct health_exporter *e);

#endif
