/* SPDX-License-Identifier: BSD-3-Clause */
/* tee_map.h: one row of a tee_receivers map: a pool id, its receivers, tag filter and balancing. */
#ifndef MAPS_TEE_MAP_H
#define MAPS_TEE_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "maps/tagfilter.h"

/* Balancing of a receiver pool. */
enum tee_alg { TEE_ALL, TEE_RR, TEE_HASH_AGENT, TEE_HASH_TAG, TEE_HASH_CRC32 };

/* A parsed row: `id=N ip=host:port[,host:port...] [tag=...] [balance-alg=...]`. */
struct tee_map_row {
	uint32_t id;			/* > 0 */
	char *ip;			/* the receivers as written, inside the row */
	enum tee_alg alg;		/* TEE_ALL without balance-alg */
	struct tagfilter *tags;		/* tag=, on the heap (the caller frees it), or NULL */
};

/*
 * Parse one tee_receivers row (from mapfile_next; written to) into *r.
 * Keys are matched exactly (lower case, as pmacct 1.7.7); id and ip are
 * required.  The receivers are not parsed here (the tee plugin resolves
 * them).  Returns 0, or -1 with why set and nothing left to free.
 */
int tee_map_row_parse(char *row, struct tee_map_row *r, char *why, size_t wlen);

#endif
