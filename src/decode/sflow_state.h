/* SPDX-License-Identifier: BSD-3-Clause */
/* sflow_state.h: per-agent sFlow state: sequence tracking, statistics, renormalization. */
#ifndef DECODE_SFLOW_STATE_H
#define DECODE_SFLOW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sflow.h"

/* Per agent (address, sub-agent id) counters, as SIGUSR1 reports them. */
struct sflow_agent_stats {
	struct fr_ip agent;
	uint32_t sub_agent;
	uint64_t packets;	/* datagrams */
	uint64_t bytes;		/* datagram bytes */
	uint64_t seq_good, seq_jmp_fwd, seq_jmp_bck;
	uint32_t last_seq;
};

/* pmacct's XFLOW_RESET_BOUNDARY: a sequence jump larger than this restarts tracking. */
#define SFLOW_RESET_BOUNDARY 50
/* Most agents and data sources tracked (pmacct: XFLOW_STATUS_TABLE_MAX_ENTRIES). */
#define SFLOW_STATE_MAX 100000

struct sflow_state;
struct table_gauge;

/*
 * Slots of an open-addressed table of at most SFLOW_STATE_MAX entries at
 * its largest: grown (doubling from 64) while (n + 1) * 2 > slots.
 */
size_t sflow_state_slots_max(void);

/*
 * The ceiling of each of the two tables (agents, data sources): entries
 * (SFLOW_STATE_MAX) and all the memory it may hold then (its slots at
 * their largest).  Allocates nothing (-T config).
 */
void sflow_state_plan(uint64_t *entries, uint64_t *bytes);

/*
 * Publish the fill of the agents and data sources tables on g_agents and
 * g_sources (NULL: none), from the state's own thread: on each new entry
 * and each one refused (gauge_hit).
 */
void sflow_state_set_gauges(struct sflow_state *s, struct table_gauge *g_agents,
    struct table_gauge *g_sources);

/* A new, empty state; free with sflow_state_free() (NULL is a no-op). */
struct sflow_state *sflow_state_new(void);
void sflow_state_free(struct sflow_state *s);

/*
 * Account one datagram of `len` bytes whose header is *h: packets, bytes
 * and the datagram sequence check (next = good, ahead = forward jump,
 * behind or equal = backward jump; the first datagram is good).
 */
void sflow_state_datagram(struct sflow_state *s, const struct sflow_hdr *h, size_t len);

/*
 * Renormalize a flow sample's record as pmacct's sfacctd_renormalize
 * does: bytes and packets times the effective rate, (pool - last pool) /
 * (seq - last seq) of the same data source when both grew since its last
 * sample, else the sample's sampling_rate (0 taken as 1); a jump of more
 * than SFLOW_RESET_BOUNDARY in the sample sequence restarts the tracking.
 * The record's sampling_rate becomes 1.
 */
void sflow_state_renormalize(struct sflow_state *s, const struct sflow_hdr *h,
    const struct sflow_flow *f, struct flow_rec *rec);

/*
 * The rate sflow_state_renormalize() multiplies by, with the same tracking
 * update, without touching a record (for a renormalization done later, by
 * the core's sampling_map).
 */
uint32_t sflow_state_eff_rate(struct sflow_state *s, const struct sflow_hdr *h,
    const struct sflow_flow *f);

/*
 * Datagrams and samples not tracked apart because SFLOW_STATE_MAX agents
 * or data sources are (counted; their samples use the sample's own rate).
 */
uint64_t sflow_state_refused(const struct sflow_state *s);

/* Call fn for every tracked agent, in no particular order. */
void sflow_state_foreach(const struct sflow_state *s,
    void (*fn)(void *arg, const struct sflow_agent_stats *a), void *arg);

#endif
