/* SPDX-License-Identifier: BSD-3-Clause */
/* lpm.c: longest-prefix match as a sorted array of disjoint ranges with a 16-bit index. */
#include "lpm.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define LPM_ROOT_BITS	16
#define LPM_ROOT	((size_t)1 << LPM_ROOT_BITS)

struct lpm_pfx {
	uint64_t hi, lo;	/* first address (host bits cleared) */
	uint32_t value;
	uint32_t seq;		/* insertion order: the first duplicate wins */
	uint8_t len;
};

struct lpm_key {
	uint64_t hi, lo;
};

struct lpm {
	size_t n;		/* ranges; range i is [key[i], key[i + 1]) */
	struct lpm_key *key;
	uint32_t *val;
	uint32_t *root;		/* root[t]: the range holding t << 112; root[LPM_ROOT] = n - 1 */
	uint32_t *k32;		/* IPv4-only sets: the keys' top 32 bits, 4 keys per 16 bytes */
};

void lpm_builder_init(struct lpm_builder *b)
{
	memset(b, 0, sizeof(*b));
}

void lpm_builder_fini(struct lpm_builder *b)
{
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* The mask of the top `len` bits of a 64-bit half whose prefix starts at bit `base`. */
static uint64_t half_mask(unsigned len, unsigned base)
{
	if (len <= base)
		return 0;
	if (len >= base + 64)
		return ~(uint64_t)0;
	return ~(~(uint64_t)0 >> (len - base));
}

void lpm_builder_add(struct lpm_builder *b, uint64_t hi, uint64_t lo, unsigned len, uint32_t value)
{
	if (len > 128)
		len = 128;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->v = xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	struct lpm_pfx *p = &b->v[b->n];
	p->hi = hi & half_mask(len, 0);
	p->lo = lo & half_mask(len, 64);
	p->len = (uint8_t)len;
	p->value = value;
	p->seq = (uint32_t)b->n;
	b->n++;
}

/* Order by first address, then shorter (containing) prefixes first, then insertion. */
static int pfx_cmp(const void *x, const void *y)
{
	const struct lpm_pfx *a = x, *b = y;

	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Last address of a prefix. */
static struct lpm_key pfx_end(const struct lpm_pfx *p)
{
	struct lpm_key e = { p->hi | ~half_mask(p->len, 0), p->lo | ~half_mask(p->len, 64) };
	return e;
}

static int key_cmp(struct lpm_key a, struct lpm_key b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	return a.lo < b.lo ? -1 : a.lo > b.lo;
}

/* Append range [k, ...) with value v, merging with the previous range. */
static void emit(struct lpm *t, size_t *cap, struct lpm_key k, uint32_t v)
{
	if (t->n && key_cmp(t->key[t->n - 1], k) == 0) {
		t->n--;		/* a more specific prefix starts here */
	}
	if (t->n && t->val[t->n - 1] == v)
		return;
	if (t->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		t->key = xrealloc(t->key, *cap * sizeof(*t->key));
		t->val = xrealloc(t->val, *cap * sizeof(*t->val));
	}
	t->key[t->n] = k;
	t->val[t->n] = v;
	t->n++;
}

/* The address after `e` (callers never pass the all-ones address). */
static struct lpm_key key_next(struct lpm_key e)
{
	struct lpm_key k = { e.hi, e.lo + 1 };
	if (k.lo == 0)
		k.hi++;
	return k;
}

/* Sweep the sorted prefixes with a stack of the nested ones still open. */
static void build_ranges(struct lpm *t, const struct lpm_pfx *v, size_t n)
{
	const struct lpm_pfx *stack[129];
	struct lpm_key zero = { 0, 0 }, all = { ~(uint64_t)0, ~(uint64_t)0 };
	size_t depth = 0, cap = 0;

	emit(t, &cap, zero, 0);
	for (size_t i = 0; i <= n; i++) {
		struct lpm_key start = i < n ? (struct lpm_key){ v[i].hi, v[i].lo } : all;
		/* close the open prefixes that end before this one starts */
		while (depth) {
			struct lpm_key end = pfx_end(stack[depth - 1]);
			if (i < n && key_cmp(end, start) >= 0)
				break;
			depth--;
			if (key_cmp(end, all) != 0)
				emit(t, &cap, key_next(end), depth ? stack[depth - 1]->value : 0);
		}
		if (i == n)
			break;
		emit(t, &cap, start, v[i].value);
		stack[depth++] = &v[i];
	}
}

static void build_root(struct lpm *t)
{
	size_t i = 0;

	t->root = xmalloc((LPM_ROOT + 1) * sizeof(*t->root));
	for (size_t top = 0; top < LPM_ROOT; top++) {
		uint64_t hi = (uint64_t)top << (64 - LPM_ROOT_BITS);
		while (i + 1 < t->n && t->key[i + 1].hi <= hi && (t->key[i + 1].hi < hi || t->key[i + 1].lo == 0))
			i++;
		t->root[top] = (uint32_t)i;
	}
	t->root[LPM_ROOT] = (uint32_t)(t->n - 1);
}

/* When every key fits in 32 bits (an IPv4 table), search a compact copy: fewer cache lines. */
static void build_k32(struct lpm *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->key[i].lo || (t->key[i].hi & 0xffffffffULL))
			return;
	t->k32 = xmalloc(t->n * sizeof(*t->k32));
	for (size_t i = 0; i < t->n; i++)
		t->k32[i] = (uint32_t)(t->key[i].hi >> 32);
	free(t->key);
	t->key = NULL;
}

struct lpm *lpm_build(struct lpm_builder *b)
{
	struct lpm *t = xcalloc(1, sizeof(*t));
	size_t w = 0;

	if (b->n)
		qsort(b->v, b->n, sizeof(*b->v), pfx_cmp);
	for (size_t r = 0; r < b->n; r++) {	/* drop later duplicates */
		if (w && b->v[w - 1].hi == b->v[r].hi && b->v[w - 1].lo == b->v[r].lo &&
		    b->v[w - 1].len == b->v[r].len)
			continue;
		b->v[w++] = b->v[r];
	}
	build_ranges(t, b->v, w);
	build_root(t);
	build_k32(t);
	b->n = 0;
	return t;
}

uint32_t lpm_lookup(const struct lpm *t, uint64_t hi, uint64_t lo)
{
	size_t top = (size_t)(hi >> (64 - LPM_ROOT_BITS));
	size_t a = t->root[top], b = t->root[top + 1];

	if (t->k32) {
		/*
		 * A key's low 96 bits are zero, so key <= (hi, lo) exactly when its
		 * top 32 bits are <= hi's, whatever the rest of the address.
		 */
		uint32_t k = (uint32_t)(hi >> 32);
		while (b > a) {
			size_t m = a + (b - a + 1) / 2;
			if (t->k32[m] <= k)
				a = m;
			else
				b = m - 1;
		}
		return t->val[a];
	}
	while (b > a) {
		size_t m = a + (b - a + 1) / 2;
		const struct lpm_key *k = &t->key[m];
		if (k->hi < hi || (k->hi == hi && k->lo <= lo))
			a = m;
		else
			b = m - 1;
	}
	return t->val[a];
}

size_t lpm_memory(const struct lpm *t)
{
	return t ? sizeof(*t) + t->n * ((t->k32 ? sizeof(*t->k32) : sizeof(*t->key)) +
	    sizeof(*t->val)) + (LPM_ROOT + 1) * sizeof(*t->root) : 0;
}

size_t lpm_ranges(const struct lpm *t)
{
	return t ? t->n : 0;
}

void lpm_free(struct lpm *t)
{
	if (!t)
		return;
	free(t->key);
	free(t->val);
	free(t->root);
	free(t->k32);
	free(t);
}
