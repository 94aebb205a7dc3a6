/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_log.h: pmacct's BGP message log (bgp_daemon_msglog_*) and table dumps (bgp_table_dump_*), JSON. */
#ifndef PIPELINE_BGP_LOG_H
#define PIPELINE_BGP_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "pipeline/bgp_events.h"

/*
 * The message log and the table dumps of the BGP daemon, written as
 * pmacct 1.7.7 writes them (docs/bgp.md "Message log and table dumps"):
 * JSON lines to files (one per peer with $peer_src_ip / $peer_tcp_port in
 * the name; named pipes too), to Kafka or to AMQP through the plugins'
 * delivery queue (plugins/broker.h: a slow broker never blocks the BGP
 * thread).  The BGP thread calls the hooks of bgp_log_sink(); dumps run
 * on a thread of their own, peer by peer, each under a short read lock.
 */
struct bgp_log;

/*
 * Check the bgp_daemon_msglog_* and bgp_table_dump_* keys of cfg and set
 * up what they ask for, opening no file and connecting to nothing yet
 * (files open at a peer's first line, brokers connect on their delivery
 * thread, the dump thread starts here).  cfg must outlive the object.
 * Returns the object (its hooks do nothing when neither a log nor dumps
 * are configured), or NULL with the reason, naming file, line and key, in
 * err[errlen].
 */
struct bgp_log *bgp_log_new(const struct core_cfg *cfg, char *err, size_t errlen);

/*
 * The keys bgp_log_new() refuses, for -T config: bgp_daemon_msglog_output
 * and bgp_table_dump_output other than json (avro, avro_json are not
 * built): -1 with "[file:line] key 'K': 'avro' not supported, only json" in err;
 * a bgp_daemon_tag_map that cannot be read: "[file:line] key 'bgp_daemon_tag_map': cannot read ...".
 */
int bgp_log_check(const struct core_cfg *cfg, char *err, size_t errlen);

/*
 * The hooks to give the BGP thread (copy them into its sink); valid until
 * bgp_log_free().  They must run on the RIB's one writer thread, in the
 * order of bgp_events.h.  peer_down logs every route of the peer as
 * "delete" (as 1.7.7) by walking the RIB, unlocked (no other thread
 * writes it), before the peer's routes are dropped.  An announcement is
 * logged with attr.  A withdrawal is logged with the withdrawn route's
 * attributes (as 1.7.7): attr when given, else the route the RIB still
 * holds, else the prefix alone; see bgp_log_set_rib().
 */
const struct bgp_event_sink *bgp_log_sink(struct bgp_log *l);

/*
 * The RIB the hooks read (else the one the first tick is given), and a
 * promise: the BGP thread calls nlri for a withdrawal before the RIB
 * applies it.  Then the withdrawn route is still in the RIB to print, and
 * a withdrawal of a route the peer never announced logs nothing, both as
 * 1.7.7.  Without it a withdrawal the RIB no longer holds is logged with
 * the prefix alone.
 */
void bgp_log_set_rib(struct bgp_log *l, struct bgp_rib *rib);

/*
 * SIGHUP: reopen the msglog files (rotation), from any thread; done by the
 * next hook on the BGP thread.
 */
void bgp_log_reopen(struct bgp_log *l);

/*
 * SIGUSR2: read bgp_daemon_tag_map again (from any thread; the swap is
 * locked).  A peer keeps the tag of its session's start until its session
 * ends; dumps use the map of their time.  An unreadable map keeps the old.
 */
void bgp_log_reload_maps(struct bgp_log *l);

/* Counters, for logs and tests. */
struct bgp_log_stats {
	uint64_t lines;		/* msglog lines written or queued */
	uint64_t dropped;	/* msglog lines lost: file unwritable, pipe without reader or full */
	uint64_t dumps;		/* dump events finished */
	uint64_t dump_entries;	/* routes dumped, all dumps */
	uint64_t dumps_skipped;	/* deadlines met while the previous dump still ran */
};
void bgp_log_get_stats(struct bgp_log *l, struct bgp_log_stats *st);

/*
 * Run a table dump of rib now, at time t, on the calling thread (tests and
 * the dump thread): every peer, as a deadline would.  Returns the routes
 * dumped.
 */
uint64_t bgp_log_dump_now(struct bgp_log *l, struct bgp_rib *rib, time_t t);

/*
 * Flush what is buffered, stop the dump thread (waiting for a dump under
 * way), close files and brokers (waiting up to a few seconds for their
 * queues).  NULL is a no-op.
 */
void bgp_log_free(struct bgp_log *l);

#endif
