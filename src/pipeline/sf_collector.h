/* SPDX-License-Identifier: BSD-3-Clause */
/* sf_collector.h: sfacctd's collector protocol: the sFlow decoder, renormalization, counter log, warnings and health. */
#ifndef PIPELINE_SF_COLLECTOR_H
#define PIPELINE_SF_COLLECTOR_H

#include <stdint.h>

#include "config/config.h"
#include "pipeline/collector.h"

struct health_build;

/* Seconds between two warnings about dropped input: hostile input must not flood the log. */
#define SF_COLLECTOR_WARN_EVERY 60

/*
 * The hooks of struct collector_proto for sFlow (their contracts are in
 * pipeline/collector.h); `state` is what sf_collector_new() made.
 */

/* collector_proto.check: flow_to_rd_map loads (start-up and -T config); 0, or -1 after logging the key. */
int sf_collector_check(const struct core_cfg *cfg);

/* collector_proto.reload: SIGUSR2, flow_to_rd_map again; one that fails to load keeps the previous map. */
void sf_collector_reload(void *state);

/*
 * collector_proto.state_new: a receive thread's decoder, with sfacctd_counter_file
 * and flow_to_rd_map when set.  NULL after logging when the map does not load.
 */
void *sf_collector_new(struct core_cfg *cfg);

/*
 * collector_proto.bounds: thread `thread`'s "agents" and "sources" (data
 * sources) tables, SFLOW_STATE_MAX entries each (further threads' as
 * "agents#N", "sources#N"), and with sfacctd_counter_file the agents its
 * log knows ("counter_log"), owner "default/core".
 */
void sf_collector_bounds(struct core_cfg *cfg, int thread, void *state);

/*
 * collector_proto.datagram: the counter log's lines, the flow samples
 * (renormalized as configured) into sink, the agent's health counters.
 */
void sf_collector_datagram(void *state, const struct dgram *d, const struct rec_sink *sink);

/* collector_proto.log_stats: SIGUSR1, per agent and the decoder's totals. */
void sf_collector_log_stats(void *state);

/*
 * collector_proto.tick, once a second (`now` in seconds): what was dropped
 * since the last warning, in one line at most once every
 * SF_COLLECTOR_WARN_EVERY seconds.
 */
void sf_collector_tick(void *state, int64_t now);

/* collector_proto.reopen: SIGHUP, the counter log files are reopened. */
void sf_collector_reopen(void *state);

/* collector_proto.health: every agent, with the decoder's sequence checks. */
void sf_collector_health(void *state, struct health_build *b);

/* collector_proto.state_free (NULL: nothing). */
void sf_collector_free(void *state);

#endif
