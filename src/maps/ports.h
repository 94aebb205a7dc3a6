/* SPDX-License-Identifier: BSD-3-Clause */
/* ports.h: ports_file: the set of ports a plugin keeps; src_port/dst_port not listed are zeroed. */
#ifndef MAPS_PORTS_H
#define MAPS_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct port_map;

/*
 * Load a ports file: one port (1-65535) per line, '!' and '#' comment
 * lines, blank lines ignored.  A bad line is logged with file and line and
 * skipped, as pmacct does; the rest still loads.  Returns the map, or NULL
 * with a message naming the file in err[] when it cannot be read.
 */
struct port_map *portmap_load(const char *path, char *err, size_t errlen);

/* Is `port` listed?  (Port 0 never is.) */
bool portmap_has(const struct port_map *m, uint16_t port);

/* Number of distinct ports listed. */
size_t portmap_count(const struct port_map *m);

/* Free the map; NULL is a no-op. */
void portmap_free(struct port_map *m);

#endif
