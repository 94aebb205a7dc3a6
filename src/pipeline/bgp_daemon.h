/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_daemon.h: the BGP thread: a passive BGP speaker (listener, sessions, RIB writes, events). */
#ifndef PIPELINE_BGP_DAEMON_H
#define PIPELINE_BGP_DAEMON_H

#include <stddef.h>

#include "config/config.h"
#include "maps/bgp_rib.h"
#include "pipeline/bgp_events.h"

struct bgp_daemon;

/*
 * Open the BGP listener as cfg->bgp says (bgp_daemon_ip / _port, dual stack
 * on :: unless _ipv6_only, SO_REUSEPORT, _pipe_size, _ipprec, the MD5 keys
 * of bgp_daemon_md5_file), load bgp_daemon_allow_file, and log pmacct's
 * start-up lines.  Call before privileges are dropped (port 179, TCP_MD5SIG).
 * rib is written by the thread (not owned); sink's hooks are called on the
 * thread (copied; NULL = none).  Returns the daemon, or NULL after logging
 * the key at fault.  No thread runs yet.
 */
struct bgp_daemon *bgp_daemon_open(const struct core_cfg *cfg, struct bgp_rib *rib,
    const struct bgp_event_sink *sink);

/*
 * -T config: what bgp_daemon_open() would refuse, without opening anything:
 * bgp_daemon_ip and bgp_daemon_id, the allow and md5 files readable (bad
 * rows warned about as at start-up).  0, or -1 after logging the key at fault.
 */
int bgp_daemon_check(const struct core_cfg *cfg);

/* Start the thread (after daemonizing: threads do not survive fork).  0, or -1 logged. */
int bgp_daemon_start(struct bgp_daemon *d);

/* SIGUSR2: reload bgp_daemon_allow_file on the thread; new sessions see it.  Any thread. */
void bgp_daemon_reload(struct bgp_daemon *d);

#define BGP_STATS_LINE 512
/*
 * SIGUSR1: up to max lines of statistics (sessions, per-peer state and
 * counters, the RIB's routes and memory) into lines.  Any thread.  Returns
 * the number written.
 */
size_t bgp_daemon_stats(struct bgp_daemon *d, char (*lines)[BGP_STATS_LINE], size_t max);

/* Stop the thread, close every session (NOTIFICATION Cease 6/2... sent), free d.  NULL is a no-op. */
void bgp_daemon_stop(struct bgp_daemon *d);

#endif
