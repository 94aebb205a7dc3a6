/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_maps.h: the BGP correlation maps: bgp_agent_map, and the id maps of peer_src_as, src_local_pref and src_med. */
#ifndef MAPS_BGP_MAPS_H
#define MAPS_BGP_MAPS_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/bgp_msg.h"
#include "model/flow_rec.h"

/* The default and the ceiling of rows per map (maps_entries, as pmacct: 384 by default). */
#define BGP_MAP_DEFAULT_ROWS 384

/* Convert a record address (af 4 or 6) to a BGP address (afi 0 when af is neither). */
void bgp_addr_from_fr(const struct fr_ip *ip, struct bgp_addr *out);
/* And back (af 0 when afi is neither IPv4 nor IPv6). */
void bgp_addr_to_fr(const struct bgp_addr *a, struct fr_ip *out);

/*
 * bgp_agent_map: which BGP peer holds the routes of an exporter / agent.
 * Rows as pmacct's bgp_agent.map.example, blank-separated key=value:
 *   bgp_ip=<session address or Router-ID of the peer>   (required)
 *   bgp_port=<its TCP port>  (accepted; peers are found by address)
 *   ip=<exporter or sFlow agent address, or a prefix>
 *   in=<ifIndex> out=<ifIndex>
 *   filter='<BPF>'   (on the captured frame; NetFlow/sFlow records: the
 *                     frame rebuilt from the record)
 * A row without ip= matches every record: pmacctd's catch-all rows, the
 * first the primary peer and the second its backup.
 */
struct bgp_agent_map;

/*
 * Load path (at most max_rows rows, 0 = BGP_MAP_DEFAULT_ROWS; filters
 * compiled for linktype/snaplen).  Returns the map, or NULL with err[]
 * naming file, line and what is wrong (pmacct refuses the map then too).
 */
struct bgp_agent_map *bgp_agent_map_load(const char *path, size_t max_rows, int linktype,
    int snaplen, char *err, size_t errlen);

/*
 * The peers of a record: bgp_ip of the first two rows matching k (and,
 * for rows with a filter, the frame h/pkt; NULL fails such rows), in map
 * order (primary, backup).  Returns how many (0, 1 or 2).
 */
int bgp_agent_map_match(const struct bgp_agent_map *m, const struct flow_key *k,
    const struct pcap_pkthdr *h, const uint8_t *pkt, struct bgp_addr out[2]);

/* Does a row use filter= (the record then needs a frame)? */
bool bgp_agent_map_has_filter(const struct bgp_agent_map *m);

size_t bgp_agent_map_count(const struct bgp_agent_map *m);
void bgp_agent_map_free(struct bgp_agent_map *m);

/*
 * bgp_peer_src_as_map, bgp_src_local_pref_map, bgp_src_med_map: a value
 * (id=) by any combination of
 *   ip=<exporter address or prefix> in=<ifIndex> out=<ifIndex>
 *   src_mac=<MAC> bgp_nexthop=<BGP next hop of the source prefix's route>
 *   filter='<BPF>'
 * as pmacct's peers.map.example, lpref.map.example, med.map.example.
 * The first matching row wins.
 */
struct bgp_id_map;

struct bgp_id_map *bgp_id_map_load(const char *path, size_t max_rows, int linktype, int snaplen,
    char *err, size_t errlen);

/*
 * The id of the first row matching k (src_nh: the BGP next hop of the
 * route of k's source address, afi 0 when none; h/pkt as for the agent
 * map).  true and *out set, or false when no row matches.
 */
bool bgp_id_map_lookup(const struct bgp_id_map *m, const struct flow_key *k,
    const struct bgp_addr *src_nh, const struct pcap_pkthdr *h, const uint8_t *pkt, uint32_t *out);

/* Does a row match on bgp_nexthop= (the caller then looks the source up)? */
bool bgp_id_map_wants_nh(const struct bgp_id_map *m);
bool bgp_id_map_has_filter(const struct bgp_id_map *m);

size_t bgp_id_map_count(const struct bgp_id_map *m);
void bgp_id_map_free(struct bgp_id_map *m);

#endif
