/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_collector.h: nfacctd's collector protocol: the NetFlow/IPFIX decoder, its maps, templates file, warnings and health. */
#ifndef PIPELINE_NF_COLLECTOR_H
#define PIPELINE_NF_COLLECTOR_H

#include <stdint.h>

#include "config/config.h"
#include "pipeline/collector.h"

struct health_build;

/* Seconds between two warnings about dropped input: hostile input must not flood the log. */
#define NF_COLLECTOR_WARN_EVERY 60

/*
 * The hooks of struct collector_proto for NetFlow/IPFIX (their contracts
 * are in pipeline/collector.h); `state` is what nf_collector_new() made.
 */

/* collector_proto.check: flow_to_rd_map loads.  0, or -1 after logging the key. */
int nf_collector_check(const struct core_cfg *cfg);

/*
 * collector_proto.state_new: a receive thread's decoder with the config's
 * options, flow_to_rd_map, and the templates of nfacctd_templates_file.
 * NULL after logging when the map does not load.
 */
void *nf_collector_new(struct core_cfg *cfg);

/*
 * collector_proto.state_new_worker: a further receive thread; with a
 * templates file, the file becomes the merge of every thread's templates
 * (pipeline/nf_tplstore.h), shared with `first`.
 */
void *nf_collector_new_worker(struct core_cfg *cfg, void *first);

/*
 * collector_proto.bounds: thread `thread`'s "exporters" and "templates"
 * tables (nfacctd_max_exporters, nfacctd_max_templates; further threads'
 * as "exporters#N", "templates#N"), owner "default/core".
 */
void nf_collector_bounds(struct core_cfg *cfg, int thread, void *state);

/* collector_proto.datagram: decode, flow_to_rd_map applied, records into sink. */
void nf_collector_datagram(void *state, const struct dgram *d, const struct rec_sink *sink);

/* collector_proto.log_stats: SIGUSR1, pmacct's per-exporter lines. */
void nf_collector_log_stats(void *state);

/*
 * collector_proto.tick, once a second (`now` in seconds): early data held
 * too long is given up; input dropped since the last warning is logged in
 * one line, at most once every NF_COLLECTOR_WARN_EVERY seconds (malformed
 * input by reason, exporters and templates past their limits); the
 * templates file is written when the cache changed.
 */
void nf_collector_tick(void *state, int64_t now);

/* collector_proto.reload: SIGUSR2, flow_to_rd_map again (one that fails keeps the old). */
void nf_collector_reload(void *state);

/* collector_proto.health: every exporter (and the overflow entry) with its template count. */
void nf_collector_health(void *state, struct health_build *b);

/*
 * collector_proto.state_free: saves the templates file, then frees (NULL:
 * nothing).  The first thread's state, freed last, frees what the threads share.
 */
void nf_collector_free(void *state);

#endif
