/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_tagmap.h: bgp_daemon_tag_map (upstream master): a tag or label per BGP peer for the msglog and dumps. */
#ifndef MAPS_BGP_TAGMAP_H
#define MAPS_BGP_TAGMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

#define BGP_TAG_LABEL_MAX 256

/* What a peer's row gives: a tag, or else a label (a row with both prints the tag only, as master). */
struct bgp_tag {
	bool has_tag, has_label;
	uint64_t tag;
	char label[BGP_TAG_LABEL_MAX];
};

struct bgp_tagmap;

/*
 * Load a tag map: rows of `set_tag=N` and/or `set_label=TEXT` with an
 * optional `ip=ADDR[/LEN]` (the peer's session address; no ip matches
 * every peer), as upstream master's pmbgpd takes them; the first matching
 * row wins.  Any other key (filter, set_tag2, peer_src_as ...), a bad
 * value or a row setting nothing is warned about under who as "[file:line]
 * ..." and the row ignored.  Returns the map (free with bgp_tagmap_free),
 * or NULL with errno set when the file cannot be read.
 */
struct bgp_tagmap *bgp_tagmap_load(const char *path, const char *who);

/* The tag/label of the peer at ip into *out (zeroed first); false when no row matches (or m is NULL). */
bool bgp_tagmap_find(const struct bgp_tagmap *m, const struct fr_ip *ip, struct bgp_tag *out);

/* Rows loaded (0 for NULL). */
size_t bgp_tagmap_count(const struct bgp_tagmap *m);

/* Free the map; NULL is a no-op. */
void bgp_tagmap_free(struct bgp_tagmap *m);

#endif
