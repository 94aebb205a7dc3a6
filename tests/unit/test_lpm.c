/* SPDX-License-Identifier: BSD-3-Clause */
/* test_lpm.c: the LPM structure against a brute-force scan over random IPv4 and IPv6 prefixes. */
#include <stdint.h>
#include <stdlib.h>

#include "maps/lpm.h"
#include "tap.h"
#include "xorshift.h"

struct pfx {
	uint64_t hi, lo;
	unsigned len;
	uint32_t value;
};

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
	return xorshift64(&rng_state);
}

static uint64_t top_mask(unsigned len, unsigned base)
{
	if (len <= base)
		return 0;
	if (len >= base + 64)
		return ~(uint64_t)0;
	return ~(~(uint64_t)0 >> (len - base));
}

static int covers(const struct pfx *p, uint64_t hi, uint64_t lo)
{
	return ((hi ^ p->hi) & top_mask(p->len, 0)) == 0 && ((lo ^ p->lo) & top_mask(p->len, 64)) == 0;
}

/* Longest covering prefix; among equal ones the first added. */
static uint32_t brute(const struct pfx *v, size_t n, uint64_t hi, uint64_t lo)
{
	int best = -1;
	uint32_t val = 0;

	for (size_t i = 0; i < n; i++) {
		if (covers(&v[i], hi, lo) && (int)v[i].len > best) {
			best = (int)v[i].len;
			val = v[i].value;
		}
	}
	return val;
}

/*
 * n random prefixes of an address family of `bits` bits, drawn so that
 * they nest: each is either fresh or a longer child of an earlier one, or
 * an exact duplicate of one; lengths cover /0 and the full length.
 */
static size_t gen(struct pfx *v, size_t n, unsigned bits)
{
	for (size_t i = 0; i < n; i++) {
		struct pfx *p = &v[i];
		unsigned kind = (unsigned)(rnd() % 10);
		if (i > 0 && kind < 4) {
			*p = v[rnd() % i];
			p->len += (unsigned)(rnd() % (bits - p->len + 1));
			p->hi ^= rnd() & ~top_mask(p->len, 0);
			p->lo ^= rnd() & ~top_mask(p->len, 64);
		} else if (i > 0 && kind == 4) {
			*p = v[rnd() % i];	/* duplicate: the first value must win */
		} else {
			p->hi = rnd();
			p->lo = bits == 32 ? 0 : rnd();
			p->len = (unsigned)(rnd() % (bits + 1));
		}
		if (bits == 32)
			p->hi &= 0xffffffff00000000ULL, p->lo = 0;
		p->hi &= top_mask(p->len, 0);
		p->lo &= top_mask(p->len, 64);
		p->value = (uint32_t)i + 1;
	}
	return n;
}

/* Probe addresses: random, and each prefix's first/last address and just outside. */
static void probe(const struct lpm *t, const struct pfx *v, size_t n, unsigned bits, const char *what)
{
	size_t bad = 0, checks = 0;

	for (size_t i = 0; i < 4 * n + 1000; i++) {
		uint64_t hi = rnd(), lo = bits == 32 ? 0 : rnd();
		if (bits == 32)
			hi &= 0xffffffff00000000ULL;
		if (i < 3 * n) {
			const struct pfx *p = &v[i % n];
			uint64_t hm = ~top_mask(p->len, 0), lm = ~top_mask(p->len, 64);
			if (bits == 32)
				hm &= 0xffffffff00000000ULL, lm = 0;
			switch (i / n) {
			case 0: hi = p->hi; lo = p->lo; break;
			case 1: hi = p->hi | hm; lo = p->lo | lm; break;
			default:	/* one past the end (wraps at the top) */
				hi = p->hi | hm; lo = p->lo | lm;
				if (bits == 32) hi += 1ULL << 32;
				else if (++lo == 0) hi++;
				break;
			}
		}
		checks++;
		if (lpm_lookup(t, hi, lo) != brute(v, n, hi, lo))
			bad++;
	}
	ok(bad == 0, "%s: %zu of %zu lookups differ from the brute-force scan", what, bad, checks);
}

static void run(unsigned bits, size_t n, const char *what)
{
	struct pfx *v = calloc(n, sizeof(*v));
	struct lpm_builder b;

	gen(v, n, bits);
	lpm_builder_init(&b);
	for (size_t i = 0; i < n; i++)
		lpm_builder_add(&b, v[i].hi, v[i].lo, v[i].len, v[i].value);
	struct lpm *t = lpm_build(&b);
	lpm_builder_fini(&b);
	ok(lpm_ranges(t) <= 2 * n + 1, "%s: %zu ranges for %zu prefixes", what, lpm_ranges(t), n);
	probe(t, v, n, bits, what);
	lpm_free(t);
	free(v);
}

static void edge_cases(void)
{
	struct lpm_builder b;
	struct lpm *t;

	lpm_builder_init(&b);
	t = lpm_build(&b);
	is_int(lpm_lookup(t, 0, 0), 0, "empty: no match");
	is_int(lpm_lookup(t, ~0ULL, ~0ULL), 0, "empty: no match at the top");
	lpm_free(t);

	lpm_builder_add(&b, 0, 0, 0, 7);			/* default route */
	lpm_builder_add(&b, 0x0a00000000000000ULL, 0, 8, 8);	/* 10/8 (IPv4 in the top bits) */
	lpm_builder_add(&b, 0x0a000001ULL << 32, 0, 32, 9);	/* 10.0.0.1/32 */
	lpm_builder_add(&b, 0x0a00000000000000ULL, 0, 8, 99);	/* duplicate: ignored */
	lpm_builder_add(&b, ~0ULL, ~0ULL, 128, 10);		/* the last address */
	t = lpm_build(&b);
	is_int(lpm_lookup(t, 0x0b000000ULL << 32, 0), 7, "default route");
	is_int(lpm_lookup(t, 0x0a000002ULL << 32, 0), 8, "10/8");
	is_int(lpm_lookup(t, 0x0a000001ULL << 32, 0), 9, "host route");
	is_int(lpm_lookup(t, ~0ULL, ~0ULL), 10, "all-ones /128");
	is_int(lpm_lookup(t, ~0ULL, ~0ULL - 1), 7, "next to all-ones");
	lpm_free(t);
	lpm_builder_fini(&b);
}

int main(void)
{
	edge_cases();
	run(32, 50, "IPv4 small");
	run(32, 5000, "IPv4");
	run(128, 50, "IPv6 small");
	run(128, 5000, "IPv6");
	return tap_done();
}
