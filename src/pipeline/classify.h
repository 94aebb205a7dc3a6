/* SPDX-License-Identifier: BSD-3-Clause */
/* classify.h: pmacctd's application classification (the class primitive) with nDPI, per flow. */
#ifndef PIPELINE_CLASSIFY_H
#define PIPELINE_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "model/flow_rec.h"

struct table_gauge;

/* The classifier_* keys (docs/pmacctd.md). */
struct classify_opts {
	uint32_t num_roots;		/* initial hash buckets */
	uint32_t max_flows;		/* flows tracked at once */
	bool proto_guess;		/* guess from protocol and ports when nDPI gives up */
	uint32_t idle_scan_period;	/* seconds between idle scans (packet time) */
	uint32_t idle_max_time;		/* seconds idle before a flow is forgotten */
	uint32_t idle_scan_budget;	/* flows expired per scan, at most */
	uint32_t giveup_tcp, giveup_udp, giveup_other;	/* packets before giving up */
};

struct classifier;

struct classify_stats {
	uint64_t flows;			/* tracked now */
	uint64_t classified;		/* flows nDPI (or the guess) named, since start */
	uint64_t gave_up;		/* flows given up on without a name */
	uint64_t expired;		/* flows forgotten after idle_max_time */
	uint64_t full;			/* packets of flows not tracked: classifier_max_flows reached */
};

/*
 * A classifier with its own nDPI detection module and flow table (the
 * core thread's; nothing shared).  Never NULL (an nDPI that cannot start
 * is fatal, as any allocation failure).  Free with classify_free().
 */
struct classifier *classify_new(const struct classify_opts *o);

/* Free c and every flow it tracks; NULL is a no-op. */
void classify_free(struct classifier *c);

/*
 * Give rec its class as pmacct prints nDPI's: "master/app" of nDPI's
 * protocol names ("Unknown/DNS", "TLS/Google") of its flow as detected so
 * far, "Unknown/Unknown" while nDPI has not named it, after it gave up, when
 * the flow is not tracked or the record is not IPv4/IPv6.  A flow is both directions of (addresses, ports,
 * protocol, VLAN); pkt is the captured frame of caplen bytes with the IP
 * header at rec->l3_off.  Packets go to nDPI until it names the flow, the
 * flow's TCP FIN/RST, or classifier_giveup_proto_* packets (then the
 * guess, with classifier_proto_guess); later packets only take the
 * result; a packet cut by the capture goes to nDPI with its IP length
 * made the captured length.  Non-first fragments take their flow's class
 * without being inspected.  Idle flows are expired every idle_scan_period seconds of
 * packet time, at most idle_scan_budget at a time, least recent first.
 */
void classify_packet(struct classifier *c, struct flow_rec *rec, const uint8_t *pkt,
    uint32_t caplen);

/* Publish the table's fill on g (NULL: none), from the calling (core) thread. */
void classify_set_gauge(struct classifier *c, struct table_gauge *g);

/* The ceiling of a table of max_flows flows: entries and bytes at most (nDPI state included). */
void classify_plan(uint32_t max_flows, uint64_t *entries, uint64_t *bytes);

void classify_get_stats(const struct classifier *c, struct classify_stats *out);

#endif
