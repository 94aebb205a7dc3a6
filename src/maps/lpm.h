/* SPDX-License-Identifier: BSD-3-Clause */
/* lpm.h: longest-prefix match over IPv4 or IPv6 prefixes, built once, looked up lock-free. */
#ifndef MAPS_LPM_H
#define MAPS_LPM_H

#include <stddef.h>
#include <stdint.h>

/*
 * A prefix set is compiled into the sorted list of disjoint address ranges
 * it induces (each range carries the value of its most specific prefix),
 * plus an index on the top 16 address bits.  A lookup is a binary search
 * inside one index bucket: no pointers to chase, ~20 bytes per range,
 * at most 2n+1 ranges for n prefixes, the same for IPv4 and IPv6.
 * Addresses are 128-bit keys (hi, lo) in host order; IPv4 uses hi = a << 32.
 */
struct lpm;

/* Collects prefixes before lpm_build(); owned by the caller. */
struct lpm_builder {
	struct lpm_pfx *v;
	size_t n, cap;
};

/* Start an empty builder. */
void lpm_builder_init(struct lpm_builder *b);

/*
 * Add prefix (hi, lo)/len (len <= 128; host bits are ignored) with `value`
 * (non-zero).  When the same prefix is added twice the first value is kept.
 */
void lpm_builder_add(struct lpm_builder *b, uint64_t hi, uint64_t lo, unsigned len, uint32_t value);

/* Compile the builder's prefixes (the builder is emptied and may be reused). */
struct lpm *lpm_build(struct lpm_builder *b);

/* Free a builder's storage. */
void lpm_builder_fini(struct lpm_builder *b);

/* The value of the longest prefix holding (hi, lo), or 0 when none does. */
uint32_t lpm_lookup(const struct lpm *t, uint64_t hi, uint64_t lo);

/* Bytes of memory the compiled structure holds. */
size_t lpm_memory(const struct lpm *t);

/* Number of ranges (for tests and the benchmark). */
size_t lpm_ranges(const struct lpm *t);

/* Free; NULL is a no-op. */
void lpm_free(struct lpm *t);

#endif
