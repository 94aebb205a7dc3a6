/* SPDX-License-Identifier: BSD-3-Clause */
/* xorshift.h: a seeded xorshift64 generator, so that the randomised tests and benchmarks repeat exactly. */
#ifndef TESTS_UNIT_XORSHIFT_H
#define TESTS_UNIT_XORSHIFT_H

#include <stdint.h>

/* Advances the state *s (never 0) and returns the next 64-bit value. */
static inline uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#endif
