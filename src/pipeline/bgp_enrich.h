/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_enrich.h: correlation of flow records with the BGP RIB: the BGP block of the key, ASNs, nets and next hops. */
#ifndef PIPELINE_BGP_ENRICH_H
#define PIPELINE_BGP_ENRICH_H

#include <pcap/pcap.h>
#include <stdbool.h>

#include "config/config.h"
#include "maps/bgp_rib.h"
#include "model/flow_rec.h"

/*
 * The fields some plugin aggregates on that the enrichment writes or may
 * write (the union of the plugins' aggregate sets).  Only these are looked
 * up and filled; a BGP-block field a plugin selects is always written
 * ("" / 0 when no route holds it).
 */
struct bgp_enrich_need {
	bool as_path, std_comm, ext_comm, lrg_comm, local_pref, med;
	bool src_as_path, src_std_comm, src_ext_comm, src_lrg_comm, src_local_pref, src_med;
	bool src_as, dst_as, peer_src_as, peer_dst_as, peer_dst_ip;
	bool src_net, dst_net;		/* net or mask */
	bool src_roa, dst_roa;		/* RPKI states (cold tail, not the BGP block) */
};

/* What the plugins of cfg aggregate on, as a need (sum_* count for both sides). */
void bgp_enrich_needs(const struct core_cfg *cfg, struct bgp_enrich_need *need);

struct bgp_enrich;

/*
 * Set up the enrichment of cfg's records for the fields in need: parse the
 * bgp_* correlation keys, load bgp_agent_map and the peer_src_as /
 * src_local_pref / src_med maps (filters compiled for linktype/snaplen).
 * Returns NULL when there is nothing to do (no needed field), with *err 0;
 * NULL with *err 1 after logging an error naming the file, line and key.
 * The RIB is given later (bgp_enrich_set_rib); without one, records get
 * what an empty RIB gives.
 */
struct bgp_enrich *bgp_enrich_new(const struct core_cfg *cfg, const struct bgp_enrich_need *need,
    int linktype, int snaplen, int *err);

/* The RIB to correlate with (NULL: none); before the first record. */
void bgp_enrich_set_rib(struct bgp_enrich *e, struct bgp_rib *rib);

struct roa_db;
/*
 * The ROAs src_roa / dst_roa are validated against (NULL: none, every
 * route is "u"); before the first record.  Read-locked with the RIB.
 */
void bgp_enrich_set_roa(struct bgp_enrich *e, struct roa_db *db);

/* Does some map of e run a BPF filter (records then need a frame)? */
bool bgp_enrich_needs_frame(const struct bgp_enrich *e);

/*
 * Bracket a batch of records: bgp_enrich_begin() read-locks the RIB,
 * bgp_enrich_end() unlocks it (both no-ops without a RIB).  Records are
 * enriched only between them.
 */
void bgp_enrich_begin(struct bgp_enrich *e);
void bgp_enrich_end(struct bgp_enrich *e);

/*
 * Enrich one record (between begin and end; h/pkt its frame or NULL):
 * select the BGP peer (bgp_agent_map, else the exporter's address), look
 * the destination and source up, and write the needed fields as pmacct
 * 1.7.7 does (docs/bgp.md "Correlation").
 */
void bgp_enrich_record(struct bgp_enrich *e, struct flow_rec *rec, const struct pcap_pkthdr *h,
    const uint8_t *pkt);

/* Reload the maps (SIGUSR2); a map that fails to load keeps the previous one. */
void bgp_enrich_reload(struct bgp_enrich *e);

/* Free; NULL is a no-op (the RIB is not the enrichment's). */
void bgp_enrich_free(struct bgp_enrich *e);

/*
 * The text helpers, public for the unit tests.  All write a NUL-terminated
 * string into dst (cap bytes, every byte past the NUL zeroed):
 *
 * bgp_text_put: the space-separated tokens of src; when they do not fit,
 * the most whole tokens that fit with the marker, then " +" (pmacct's
 * marker of a cut value).
 */
void bgp_text_put(char *dst, size_t cap, const char *src);
/* The first `radius` tokens of an AS path (radius 0: all), then bgp_text_put. */
void bgp_text_put_radius(char *dst, size_t cap, const char *path, unsigned radius);

/* Community patterns (bgp_*comm_pattern): comma-separated; '.' matches any character. */
#define BGP_MAX_PATTERNS 32
struct bgp_patterns {
	int n;
	char *p[BGP_MAX_PATTERNS];
};
/* Parse; 0, or -1 when there are more than BGP_MAX_PATTERNS or an empty one. */
int bgp_patterns_parse(struct bgp_patterns *ps, const char *text);
void bgp_patterns_free(struct bgp_patterns *ps);
/*
 * What pmacct 1.7.7 keeps of comms under patterns ps (all of comms when ps
 * has none), then bgp_text_put: pattern by pattern, each occurrence from
 * the match to the end of its community (docs/bgp.md "Correlation").
 */
void bgp_text_put_filtered(char *dst, size_t cap, const char *comms, const struct bgp_patterns *ps);

/*
 * The peer AS of an AS path's text: its first ASN, or with skip_subas the
 * first outside the confederation segments "( .. )" and "[..]" (the
 * first sub-AS when there is none outside).  0 for an empty path.
 */
uint32_t bgp_path_peer_as(const char *path, bool skip_subas);

#endif
