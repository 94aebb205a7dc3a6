/* SPDX-License-Identifier: BSD-3-Clause */
/* hash.h: the one hash of tables keyed by network input: XXH3 under a per-process random seed. */
#ifndef LIB_HASH_H
#define LIB_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <xxhash.h>

/*
 * The process's hash seed: 64 bits from getrandom(2), read once (the first
 * call, from any thread).  A sender who can choose keys (exporter
 * addresses, agent ids, flow tuples) cannot then predict which keys share
 * a bucket, so cannot turn a table's O(1) lookups into O(n) chain walks.
 */
uint64_t hash_seed(void);

/*
 * Fix the seed (tests: a reproducible layout, or a known seed to craft
 * collisions against).  Call before the tables that use it are built.
 */
void hash_seed_set(uint64_t seed);

/* XXH3 of the len bytes at p under seed (a table's copy of hash_seed()). */
static inline uint64_t hash_bytes(const void *p, size_t len, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, len, seed);
}

#endif
