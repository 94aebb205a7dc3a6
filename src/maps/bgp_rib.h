/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_rib.h: the BGP routing tables: peers, per-peer routes by AFI/SAFI/RD, interned attributes. */
#ifndef MAPS_BGP_RIB_H
#define MAPS_BGP_RIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/bgp_msg.h"

/*
 * One RIB holds every peer's routes.  It is written by the BGP thread (one
 * writer) and read by the threads that enrich records (many readers):
 * writers bracket their changes with bgp_rib_wrlock()/bgp_rib_unlock(),
 * readers their lookups with bgp_rib_rdlock()/bgp_rib_unlock().  Hold the
 * lock for a message (writer) or a batch of records (reader), not longer.
 * Every pointer a lookup returns is valid until the caller unlocks.
 */
struct bgp_rib;

/*
 * An attribute set as it is shared: every route whose attributes are equal
 * points at one of these (interned, reference counted by the RIB).  Text is
 * rendered once, when the set is first met, in pmacct's formats:
 *   as_path  "65001 65002 {65003,65004}" (AS_SET in braces, comma-separated,
 *            ascending, once each; AS_CONFED_SEQUENCE "(1 2)", AS_CONFED_SET
 *            "[4,5]"), "" when empty
 *   comms    "65000:1 65000:2 65535:666 no-export" (RFC 1997; NO_EXPORT,
 *            NO_ADVERTISE, NO_EXPORT_SUBCONFED by pmacct's names no-export,
 *            no-advertise, local-AS; the others by number)
 *   ecomms   "RT:65000:100 SoO:10.0.0.1:7" (RFC 4360 types pmacct names, "?" others)
 *   lcomms   "65000:1:2 65000:3:4" (RFC 8092)
 * The three community lists ascending by value, without repeats, as pmacct.
 * Strings are NUL-terminated and never NULL ("" when absent).
 */
struct bgp_attr {
	uint32_t refs;			/* routes pointing here (owned by the RIB) */
	uint8_t origin;			/* 0 IGP, 1 EGP, 2 INCOMPLETE */
	bool has_med, has_local_pref, atomic_aggregate;
	uint32_t med, local_pref;
	uint32_t first_as;		/* first ASN (the neighbour AS); 0 if empty or a set first */
	uint32_t origin_as;		/* last ASN as printed (the origin AS), 0 if empty */
	uint16_t n_asn;			/* ASNs in the path, AS_SETs counted one each */
	struct bgp_addr next_hop;	/* MP_REACH next hop, else NEXT_HOP; afi 0 if none */
	uint32_t aggregator_as;		/* 0 if none */
	struct bgp_addr aggregator_addr;
	const char *as_path;
	const char *comms;
	const char *ecomms;
	const char *lcomms;
};

/* What a RIB is sized and bounded by (0 = the default). */
struct bgp_rib_cfg {
	uint32_t max_peers;		/* bgp_daemon_max_peers, default 10 */
	size_t max_bytes;		/* ceiling of all routes and attributes, 0 = unbounded */
	uint8_t index_bits;		/* unicast tables' top index, 1..24 bits (tests); default 18 */
};

/* A new, empty RIB sized by cfg (NULL or zero fields = the defaults); aborts on out-of-memory. */
struct bgp_rib *bgp_rib_new(const struct bgp_rib_cfg *cfg);
/* Free the RIB and everything in it (no lock may be held). NULL is a no-op. */
void bgp_rib_free(struct bgp_rib *rib);

/* Take the RIB's lock to read (lookups, walks, stats) or to write (peers, bgp_rib_apply); release it. */
void bgp_rib_rdlock(struct bgp_rib *rib);
void bgp_rib_wrlock(struct bgp_rib *rib);
void bgp_rib_unlock(struct bgp_rib *rib);

/*
 * A peer's identity: its session address and BGP Identifier.  Peers are
 * found by either (bgp_agent_map's bgp_ip matches the session address or
 * the Router-ID, as pmacct).
 */
struct bgp_peer_id {
	struct bgp_addr addr;		/* session (TCP) source address */
	uint16_t port;			/* session source port */
	uint32_t bgp_id;		/* BGP Identifier from its OPEN (host order) */
	uint32_t as;			/* its AS (4-byte when negotiated) */
};

/*
 * Add a peer once its session is established (writer, locked).  Returns its
 * index (0 <= i < max_peers), or -1 when every slot is taken.  A slot is
 * reused after bgp_rib_peer_del().
 */
int bgp_rib_peer_add(struct bgp_rib *rib, const struct bgp_peer_id *id);

/* Drop a peer and all its routes (writer, locked): session down. */
void bgp_rib_peer_del(struct bgp_rib *rib, int peer);

/* The peer whose session address equals addr, else whose BGP Identifier is addr's IPv4 value; -1 if none (reader). */
int bgp_rib_peer_find(const struct bgp_rib *rib, const struct bgp_addr *addr);

/* A peer's identity (valid while locked), or NULL for a free slot. */
const struct bgp_peer_id *bgp_rib_peer(const struct bgp_rib *rib, int peer);

/*
 * Apply one NLRI of an UPDATE from peer (writer, locked): an announcement
 * replaces the route of the same prefix, RD and path id; a withdrawal
 * removes it (a withdrawal of an unknown route is not an error).  a holds
 * the UPDATE's attributes as bgp_decode_update() gave them; the RIB copies
 * what it keeps.  Returns 0, or -1 when the route was refused because the
 * RIB is at its max_bytes ceiling (counted in the stats).
 */
int bgp_rib_apply(struct bgp_rib *rib, int peer, const struct bgp_nlri *n, const struct bgp_attrs *a);

/*
 * The NLRI of one UPDATE share its attributes: a caller that applies them
 * one by one can keep the attribute set interned for the first (its text
 * rendered and hashed once) for the next ones in one of these.  Reset it
 * with bgp_rib_upd_begin() before each UPDATE, i.e. whenever the struct
 * bgp_attrs it is used with may have changed (same address, new content).
 */
struct bgp_rib_upd {
	const struct bgp_rib *rib;
	const struct bgp_attrs *a;	/* the attributes slot interns */
	uint64_t gen;			/* the RIB's attr_gen when slot was taken */
	uint32_t slot;			/* 0 = none */
};

/* Forget what u holds (before the NLRI of a new UPDATE). */
void bgp_rib_upd_begin(struct bgp_rib_upd *u);

/*
 * bgp_rib_apply() for one NLRI of the UPDATE u was begun for: the same
 * result, but an announcement whose a is the one of the previous
 * announcement through u reuses its interned set instead of rendering and
 * looking it up again.  u NULL = bgp_rib_apply().
 */
int bgp_rib_apply_upd(struct bgp_rib *rib, int peer, const struct bgp_nlri *n, const struct bgp_attrs *a,
    struct bgp_rib_upd *u);

/* A route as a lookup or a walk returns it; attr is shared (do not free). */
struct bgp_route {
	uint16_t afi;
	uint8_t safi;
	uint8_t plen;
	uint8_t addr[16];		/* the prefix, network order, bytes past plen zero */
	bool has_rd;
	struct bgp_rd rd;
	bool has_path_id;
	uint32_t path_id;
	uint8_t n_labels;
	uint32_t label[BGP_MAX_LABELS];
	const struct bgp_attr *attr;
};

/*
 * Longest-prefix match of addr (4 or 16 bytes as afi says) in peer's table
 * of afi/safi, under rd when safi is BGP_SAFI_VPN (rd NULL otherwise)
 * (reader, locked).  With ADD-PATH several routes share a prefix: the one
 * whose next hop equals nh is chosen when nh is given (afi != 0), else the
 * first received.  Returns true and fills *out, or false when nothing
 * covers addr.
 */
bool bgp_rib_lookup(const struct bgp_rib *rib, int peer, uint16_t afi, uint8_t safi,
    const struct bgp_rd *rd, const uint8_t *addr, const struct bgp_addr *nh, struct bgp_route *out);

/*
 * bgp_rib_lookup() restricted to routes of at most maxlen bits (of the
 * address; the RD is not counted): the longest route covering addr with a
 * prefix length <= maxlen, the first received of its paths (reader,
 * locked).  For the covering routes of a route (RPKI's "V"/"U" states).
 */
bool bgp_rib_lookup_covering(const struct bgp_rib *rib, int peer, uint16_t afi, uint8_t safi,
    const struct bgp_rd *rd, const uint8_t *addr, unsigned maxlen, struct bgp_route *out);
/*
 * Start fetching what a bgp_rib_lookup() of addr in peer's unicast table of
 * afi will read first (reader, locked), so that a caller with two lookups
 * to make waits for both memory accesses at once.  A hint: no effect on
 * results.
 */
void bgp_rib_prefetch(const struct bgp_rib *rib, int peer, uint16_t afi, const uint8_t *addr);

/*
 * Call fn for every route of peer (reader or writer, locked), table by
 * table (IPv4 unicast, IPv6 unicast, VPNv4, VPNv6) in prefix order: a
 * prefix before the longer ones inside it, VPN tables by RD (type, admin,
 * assigned) then prefix; the paths of one prefix newest first (as 1.7.7
 * dumps them).  fn returns 0 to go on, anything else to stop (returned).
 */
typedef int (*bgp_route_fn)(void *arg, const struct bgp_route *r);
int bgp_rib_walk(const struct bgp_rib *rib, int peer, bgp_route_fn fn, void *arg);

/*
 * The same for one table of peer (afi/safi), so that a caller can choose
 * the order of the tables (1.7.7 dumps IPv4, VPNv4, IPv6, VPNv6).
 */
int bgp_rib_walk_table(const struct bgp_rib *rib, int peer, uint16_t afi, uint8_t safi,
    bgp_route_fn fn, void *arg);

/* Counts for SIGUSR1, /metrics and the benchmarks (reader, locked). */
struct bgp_rib_stats {
	uint32_t peers;			/* established */
	size_t routes;			/* all peers */
	size_t attrs;			/* distinct attribute sets interned */
	size_t bytes;			/* memory held by routes, tables and attributes */
	uint64_t refused;		/* routes refused at max_bytes */
};
/* Fill *out with the RIB's counts. */
void bgp_rib_stats(const struct bgp_rib *rib, struct bgp_rib_stats *out);
/* Routes of one peer (reader, locked). */
size_t bgp_rib_peer_routes(const struct bgp_rib *rib, int peer);

#endif
