/* SPDX-License-Identifier: BSD-3-Clause */
/* networks.h: networks_file (prefixes with ASNs), and how a plugin resolves nets, masks and ASNs from it. */
#ifndef MAPS_NETWORKS_H
#define MAPS_NETWORKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "model/flow_rec.h"

/* One networks_file line: `[label,][nexthop,][[peer_asn_]asn,]prefix/len`. */
struct net_entry {
	uint32_t as;
	uint32_t peer_as;
	uint8_t len;		/* prefix length */
	uint8_t af;		/* 4 or 6 */
	struct fr_ip nh;	/* next hop (af 0 when absent) */
};

struct net_map;

/*
 * Load a networks_file.  Lines are read as pmacct 1.7.7 reads them (all
 * blanks removed first; '!' and '#' start comments; blank lines skipped).
 * A bad line is logged as "[file:line] ..." under `who` and skipped; the
 * rest still loads.  Returns the map, or NULL with err[] set when the file
 * cannot be opened.
 */
struct net_map *netmap_load(const char *path, const char *who, char *err, size_t errlen);

/* The entry of the longest prefix holding ip, or NULL (also for af 0). */
const struct net_entry *netmap_lookup(const struct net_map *m, const struct fr_ip *ip);

/* Prefixes loaded (IPv4 + IPv6) and bytes held. */
size_t netmap_count(const struct net_map *m);
size_t netmap_memory(const struct net_map *m);

/* Free; NULL is a no-op. */
void netmap_free(struct net_map *m);

/* Where nets/masks (`*acctd_net`) and ASNs (`*acctd_as`) come from. */
enum net_source {
	NETSRC_UNSET = 0,
	NETSRC_RECORD,		/* netflow / sflow, or false for _as: keep the record's */
	NETSRC_FILE,		/* networks_file (true for _as) */
	NETSRC_MASK,		/* networks_mask (_net only) */
	NETSRC_BGP,		/* bgp, bmp: filled by the BGP correlation (bgp_daemon), left alone here */
	NETSRC_IGP,		/* igp (_net only; not implemented) */
	NETSRC_LONGEST,		/* longest / fallback: the longer of record and file */
};

/*
 * Parse a `[pm|nf|sf]acctd_net` (as_key false) or `_as` (as_key true)
 * value for daemon d, in any case as pmacct.  Returns 0, or -1 for a value
 * pmacct 1.7.7 rejects (netflow/sflow in pmacctd, mask for _as, ...).
 */
int net_source_parse(const char *v, bool as_key, enum cfg_daemon d, enum net_source *out);

/* What one plugin resolves, compiled from its configuration. */
struct net_res {
	bool src, dst;		/* sides to resolve */
	bool want_net, want_mask, want_as, want_host;
	bool want_nh;		/* peer_dst_ip from the file's next hop (*_net file / longest) */
	bool src_mask, dst_mask;	/* src_mask / dst_mask aggregated */
	enum net_source net, as;
	uint8_t static_mask;	/* networks_mask, 0 = none */
	bool filter;		/* networks_file_filter */
	bool no_lpm;		/* networks_file_no_lpm */
	bool no_mask_if_zero;	/* networks_no_mask_if_zero */
};

/*
 * Compile the resolution rules of plugin pc (aggregate, networks_* keys,
 * the core's *acctd_net/_as) for daemon d.  Returns true when the plugin
 * has anything to resolve.  Unknown *acctd_net/_as values count as unset.
 */
bool net_res_init(struct net_res *r, const struct plugin_cfg *pc, const struct core_cfg *cc,
    enum cfg_daemon d);

/*
 * Fill src/dst net, mask and AS of k from its addresses, as pmacct 1.7.7
 * does (m is NULL when no networks_file is loaded), and zero the hosts
 * outside every prefix under networks_file_filter.
 */
void net_res_apply(const struct net_res *r, const struct net_map *m, struct flow_key *k);

/*
 * Warn, under who, about a *acctd_net or *acctd_as value daemon d does
 * not take (pmacct warns and ignores the line; so do we: it counts as unset).
 */
void net_sources_warn(const struct core_cfg *cc, enum cfg_daemon d, const char *who);

/*
 * pmacct's start-up checks of plugin pc in daemon d: net / mask primitives
 * (and peer_dst_ip) need the source *acctd_net names to be there (bgp and
 * bmp with bgp_daemon: BMP is not here, so bmp is the BGP daemon's too;
 * igp never: no IS-IS daemon), AS primitives need the networks_file
 * *acctd_as names (pmacctd: always, unless bgp).  Logs
 * pmacct's error under who and returns -1, or returns 0.
 */
int net_res_check(const struct core_cfg *cc, const struct plugin_cfg *pc, enum cfg_daemon d,
    const char *who);

#endif
