/* SPDX-License-Identifier: BSD-3-Clause */
/* rdmap.h: flow_to_rd_map: the mpls_vpn_rd of a flow by exporter, interface or bottom label. */
#ifndef MAPS_RDMAP_H
#define MAPS_RDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

struct rd_map;

/*
 * Load a flow_to_rd_map: lines `id=<RD> ip=<exporter address or prefix>
 * [in=<ifIndex>] [out=<ifIndex>] [mpls_label_bottom=<label>]`, RD as
 * 0:<16-bit AS>:<32-bit number>, 1:<IPv4>:<16-bit number> or
 * 2:<32-bit AS>:<16-bit number> (RFC 4364 4.2); '!' and '#' comments.
 * Returns the map, or NULL with a message naming file and line in err[].
 */
struct rd_map *rdmap_load(const char *path, char *err, size_t errlen);

/* cfg's flow_to_rd_map, or NULL after logging an error naming the key (as `who`). */
struct core_cfg;
struct rd_map *rdmap_load_key(const struct core_cfg *cfg, const char *who);

/* Start-up and -T config: 0 when cfg has no flow_to_rd_map or it loads, else -1 (logged). */
int rdmap_check_key(const struct core_cfg *cfg, const char *who);

/*
 * SIGUSR2: load path again into *m; a map that fails to load is logged
 * and the previous one kept.  path NULL: nothing to do.
 */
void rdmap_reload(struct rd_map **m, const char *path, const char *who);

/*
 * The first line matching the record (exporter peer_src_ip, in_iface,
 * out_iface, mpls_label_bottom) sets k->mpls_vpn_rd.  Returns 1 when one
 * matched, else 0.
 */
int rdmap_apply(const struct rd_map *m, struct flow_key *k);

/* Number of lines loaded. */
size_t rdmap_count(const struct rd_map *m);

/* Free the map; NULL is a no-op. */
void rdmap_free(struct rd_map *m);

#endif
