/* SPDX-License-Identifier: BSD-3-Clause */
/* sampling_map.h: sampling_map: the sampling rate of an exporter's records, by exporter address and interfaces. */
#ifndef MAPS_SAMPLING_MAP_H
#define MAPS_SAMPLING_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

#define SAMPLING_MAP_DEFAULT_ENTRIES 384	/* maps_entries, as pmacct */

struct sampling_map;

/*
 * Load a sampling map: one rule per line, `key=value` words separated by
 * blanks, '!' and '#' comment lines.  Keys (pmacct's sampling.map):
 *   id=<rate>          the sampling rate (1 or more), required
 *   ip=<addr>[/<len>]  exporter (NetFlow: datagram source; sFlow: agent address), required
 *   in=[-]<ifindex>    input interface ('-': any other)
 *   out=[-]<ifindex>   output interface
 * A bad line is logged with file and line and skipped, as pmacct does; rules
 * past max_entries (0 = SAMPLING_MAP_DEFAULT_ENTRIES) are skipped with one
 * warning.  Returns the map (possibly empty), or NULL with a message naming
 * the file in err[] when it cannot be read.
 */
struct sampling_map *sampling_map_load(const char *path, size_t max_entries, char *err,
    size_t errlen);

/*
 * The rate of the first rule matching an exporter and a record's
 * interfaces, or 0 when none does.
 */
uint32_t sampling_map_lookup(const struct sampling_map *m, const struct fr_ip *exporter,
    uint32_t in_iface, uint32_t out_iface);

/* Number of rules loaded. */
size_t sampling_map_count(const struct sampling_map *m);

/* Free the map; NULL is a no-op. */
void sampling_map_free(struct sampling_map *m);

#endif
