/* SPDX-License-Identifier: BSD-3-Clause */
/* lpm_bench.c: micro-benchmark of the networks LPM: build time, memory and ns per lookup for 1M prefixes. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "maps/lpm.h"
#include "../tests/unit/xorshift.h"

static uint64_t s = 0x243F6A8885A308D3ULL;

static uint64_t rnd(void)
{
	return xorshift64(&s);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A BGP-like length mix: ~60% /24, the rest /8../23 (IPv4); /32../64, half /48 (IPv6). */
static unsigned plen(int v6)
{
	unsigned r = (unsigned)(rnd() % 100);

	if (!v6)
		return r < 60 ? 24 : 8 + (unsigned)(rnd() % 16);
	return r < 50 ? 48 : 32 + (unsigned)(rnd() % 33);
}

static void bench(int v6, size_t n, size_t lookups)
{
	struct lpm_builder b;
	uint64_t *hi = malloc(lookups * sizeof(*hi)), *lo = malloc(lookups * sizeof(*lo));
	uint64_t *phi = malloc(n * sizeof(*phi)), *plo = malloc(n * sizeof(*plo));
	double t0, t1;
	volatile uint32_t sink = 0;

	lpm_builder_init(&b);
	for (size_t i = 0; i < n; i++) {
		phi[i] = v6 ? (0x2000000000000000ULL | (rnd() >> 3)) : rnd() & 0xffffffff00000000ULL;
		plo[i] = v6 ? rnd() : 0;
		lpm_builder_add(&b, phi[i], plo[i], plen(v6), (uint32_t)i + 1);
	}
	t0 = now();
	struct lpm *t = lpm_build(&b);
	t1 = now();
	lpm_builder_fini(&b);
	/* half the probes fall inside a loaded prefix, half anywhere */
	for (size_t i = 0; i < lookups; i++) {
		size_t j = (size_t)(rnd() % n);
		int inside = i & 1;
		hi[i] = inside ? phi[j] | (rnd() & (v6 ? 0xffff : 0xff00000000ULL)) :
		    v6 ? rnd() : rnd() & 0xffffffff00000000ULL;
		lo[i] = v6 ? (inside ? plo[j] : rnd()) : 0;
	}
	double l0 = now();
	for (size_t i = 0; i < lookups; i++)
		sink += lpm_lookup(t, hi[i], lo[i]);
	double l1 = now();
	printf("%s: %zu prefixes, %zu ranges, build %.2f s, memory %.1f MB, lookup %.1f ns (%zu random lookups)\n",
	    v6 ? "IPv6" : "IPv4", n, lpm_ranges(t), t1 - t0, (double)lpm_memory(t) / 1048576.0,
	    (l1 - l0) * 1e9 / (double)lookups, lookups);
	(void)sink;
	lpm_free(t);
	free(hi);
	free(lo);
	free(phi);
	free(plo);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;

	bench(0, n, 10000000);
	bench(1, n, 10000000);
	return 0;
}
