/* SPDX-License-Identifier: BSD-3-Clause */
/* ports.c: ports_file loading into a 65536-bit set. */
#include "ports.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mapfile.h"
#include "lib/xalloc.h"

struct port_map {
	uint64_t bits[65536 / 64];
	size_t count;
};

/*
 * The port a line names, or -1.  As pmacct (atoi): leading blanks, then
 * digits; anything after the number must be a blank ("443 5000" gives 443,
 * as pmacct does), but "22x" is refused where pmacct's atoi() reads 22.
 */
static long port_of(const char *s)
{
	char *end;
	long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || (*end && !isspace((unsigned char)*end)))
		return -1;
	return v >= 1 && v <= 65535 ? v : -1;
}

struct port_map *portmap_load(const char *path, char *err, size_t errlen)
{
	struct mapfile mf;
	char *row;

	if (mapfile_init(&mf, path) < 0) {
		snprintf(err, errlen, "[%s] cannot open the ports file: %s", path, strerror(errno));
		return NULL;
	}
	struct port_map *m = xcalloc(1, sizeof(*m));
	while ((row = mapfile_next(&mf))) {
		long p = port_of(row);
		if (p < 0) {
			mapfile_warn(&mf, "default/core", "invalid port specified: '%s'. Ignored.", row);
			continue;
		}
		uint64_t bit = 1ULL << (p % 64);
		if (!(m->bits[p / 64] & bit)) {
			m->bits[p / 64] |= bit;
			m->count++;
		}
	}
	mapfile_fini(&mf);
	return m;
}

bool portmap_has(const struct port_map *m, uint16_t port)
{
	return port != 0 && (m->bits[port / 64] >> (port % 64)) & 1;
}

size_t portmap_count(const struct port_map *m)
{
	return m ? m->count : 0;
}

void portmap_free(struct port_map *m)
{
	free(m);
}
