/* SPDX-License-Identifier: BSD-3-Clause */
/* flows.h: the flow tracker behind pmacctd's `flows` primitive (new-flow flag per packet). */
#ifndef PIPELINE_FLOWS_H
#define PIPELINE_FLOWS_H

#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

struct table_gauge;

/* pmacctd_flow_buffer_size and pmacctd_flow_lifetime defaults. */
#define FLOWS_DEFAULT_BYTES	16384000u
#define FLOWS_DEFAULT_LIFETIME	60

/* TCP lifetimes in seconds, as pmacct's ip_flow.h. */
#define FLOWS_TCP_SYN_LIFETIME	60
#define FLOWS_TCP_FIN_LIFETIME	30
#define FLOWS_TCP_RST_LIFETIME	10

struct flows_table;

struct flows_stats {
	uint64_t new_flows;	/* records flagged as starting a flow */
	uint64_t full;		/* records not tracked: table full */
	uint64_t entries;	/* entries in use now */
	uint64_t capacity;
};

/*
 * A flow table of at most about `bytes` bytes (0 = FLOWS_DEFAULT_BYTES),
 * with `lifetime` seconds (0 = FLOWS_DEFAULT_LIFETIME) as the idle timeout
 * of non-TCP flows and of established TCP flows (pmacctd_flow_lifetime).
 * Never NULL.  Free with flows_free().
 */
struct flows_table *flows_new(size_t bytes, uint32_t lifetime);

/* Free the table; flows_free(NULL) is a no-op. */
void flows_free(struct flows_table *ft);

/*
 * Set rec->flows to 1 (and FR_F_NEW_FLOW in rec->flags) when this packet
 * starts a new flow, else 0.  The clock is rec->ts (packet time).  A flow
 * is one direction of a (src, dst, src_port, dst_port, proto) tuple, kept
 * in one entry per connection as pmacct does: a direction is new when it
 * has not been seen, or has been idle longer than its lifetime.  TCP
 * lifetimes follow the connection state (SYN 60 s, FIN 30 s and RST 10 s,
 * set on both directions; otherwise the configured lifetime).  When the
 * table is full (after pruning) the record gets flows = 0, as pmacct
 * (its packets and bytes are accounted all the same); counted in `full`
 * and logged at most once a minute (packet time) with the count since the
 * last line, as pmacct's "Flow/4 buffer full. Skipping flows.".
 *
 * The core calls it, after frag_handle(), only when some plugin
 * aggregates `flows`, and only for records it is about to account.
 */
void flows_handle(struct flows_table *ft, struct flow_rec *rec);

/*
 * The ceiling of a table of `bytes` (0 = the default): the entries it
 * holds and all of its memory, as flows_new() would allocate it;
 * allocates nothing (-T config).
 */
void flows_plan(size_t bytes, uint64_t *entries, uint64_t *total_bytes);

/* Publish the fill on g (model/gauge.h; NULL: none), from the calling (core) thread. */
void flows_set_gauge(struct flows_table *ft, struct table_gauge *g);

void flows_get_stats(const struct flows_table *ft, struct flows_stats *out);

#endif
