/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_events.h: what the BGP thread tells its loggers (msglog) and dumpers, as it happens. */
#ifndef PIPELINE_BGP_EVENTS_H
#define PIPELINE_BGP_EVENTS_H

#include <stdint.h>
#include <time.h>

#include "decode/bgp_msg.h"
#include "maps/bgp_rib.h"

/*
 * Hooks the BGP thread calls, on its own thread, in this order for a
 * session: peer_up once established, nlri for each prefix of each UPDATE
 * (with the RIB write-locked: an announcement after the RIB has applied
 * it, a withdrawal before, so that the log can print the withdrawn
 * route's attributes as pmacct does), peer_down when
 * the session ends (before its routes are dropped from the RIB), and tick
 * about once a second whether or not anything happened.  Any hook may be
 * NULL.  A hook must not block for long: sessions wait while it runs.
 */
struct bgp_event_sink {
	void *arg;
	/* A session reached Established; peer is its RIB index, open what it sent. */
	void (*peer_up)(void *arg, int peer, const struct bgp_peer_id *id, const struct bgp_open *open);
	/*
	 * A session ended: code/subcode of the NOTIFICATION sent or received (0
	 * when the connection just closed), and why in words.
	 */
	void (*peer_down)(void *arg, int peer, const struct bgp_peer_id *id, uint8_t code,
	    uint8_t subcode, const char *why);
	/* An UPDATE of peer begins: its nlri() calls follow (with the RIB write-locked). */
	void (*update_begin)(void *arg, int peer);
	/*
	 * One prefix announced or withdrawn (n->withdraw).  a is the UPDATE's
	 * attributes as decoded; attr the interned set the RIB now holds for it
	 * (NULL on a withdrawal or when the RIB refused the route).
	 */
	void (*nlri)(void *arg, int peer, const struct bgp_peer_id *id, const struct bgp_nlri *n,
	    const struct bgp_attrs *a, const struct bgp_attr *attr);
	/* About once a second, with the RIB unlocked: time for periodic dumps. */
	void (*tick)(void *arg, struct bgp_rib *rib, time_t now);
};

#endif
