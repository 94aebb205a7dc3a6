/* SPDX-License-Identifier: BSD-3-Clause */
/* slab.h: sizing of the bounded, pre-allocated hash tables of the core (fragments, flows). */
#ifndef LIB_SLAB_H
#define LIB_SLAB_H

#include <stddef.h>
#include <stdint.h>

#include "xalloc.h"

/*
 * How many `entsize`-byte entries fit in `bytes` (at least 1, at most
 * UINT32_MAX / 2), and in *nbuckets a power of two above half of that.
 */
static inline uint32_t slab_capacity(size_t bytes, size_t entsize, uint32_t *nbuckets)
{
	size_t cap = bytes / entsize;

	if (cap == 0)
		cap = 1;
	if (cap > UINT32_MAX / 2)
		cap = UINT32_MAX / 2;
	*nbuckets = 1;
	while (*nbuckets < cap / 2 + 1)
		*nbuckets <<= 1;
	return (uint32_t)cap;
}

/* The bytes of a slab table: its header, cap entries of entsize bytes, nb 32-bit bucket heads. */
static inline uint64_t slab_bytes(size_t header, uint32_t cap, size_t entsize, uint32_t nb)
{
	return header + (uint64_t)cap * entsize + (uint64_t)nb * sizeof(uint32_t);
}

/* A bucket array of n chain heads, every one `none`. */
static inline uint32_t *slab_buckets(uint32_t n, uint32_t none)
{
	uint32_t *b = xmalloc((size_t)n * sizeof(*b));
	for (uint32_t i = 0; i < n; i++)
		b[i] = none;
	return b;
}

#endif
