/* SPDX-License-Identifier: BSD-3-Clause */
/* test_layout.c: the pieces of a key a plugin receives (prim_key_layout) and their trip through a batch element. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/prim.h"
#include "plugins/plugin.h"
#include "tap.h"
#include "xorshift.h"

static uint64_t seed = 0x9E3779B97F4A7C15ULL;

/* A key of random bytes whose text fields (label, as_path, comms) hold random strings, zero-padded. */
static void random_key(struct flow_key *k, const struct prim_set *s)
{
	uint8_t *b = (uint8_t *)k;

	for (size_t i = 0; i < sizeof(*k); i++)
		b[i] = (uint8_t)xorshift64(&seed);
	for (int i = 0; i < P_COUNT; i++) {
		const struct prim_desc *d = prim_desc_of(NULL, i);
		if (!d->len || (d->fmt != PF_STR && d->fmt != PF_COMMS && d->fmt != PF_ASPATH))
			continue;
		size_t n = xorshift64(&seed) % d->len;	/* 0 .. len - 1 characters */
		if (prim_has(s, (enum prim_id)i) && xorshift64(&seed) % 8 == 0)
			n = d->len - 1;			/* the longest string a field holds */
		memset(b + d->off, 0, d->len);
		for (size_t j = 0; j < n; j++)
			b[d->off + j] = (uint8_t)('0' + xorshift64(&seed) % 10);
	}
}

/* Is every byte of every field of s's primitives (and their sum_* dst fields) equal in a and b? */
static bool fields_equal(const struct flow_key *a, const struct flow_key *b, const struct prim_set *s)
{
	for (int i = 0; i < P_COUNT; i++) {
		size_t off = prim_desc_of(NULL, i)->off, len = prim_desc_of(NULL, i)->len;
		if (!prim_has(s, (enum prim_id)i))
			continue;
		for (int pass = 0; pass < 2; pass++) {
			if (len && memcmp((const uint8_t *)a + off, (const uint8_t *)b + off, len) != 0) {
				printf("# field of %s differs\n", prim_desc_of(NULL, i)->name);
				return false;
			}
			prim_sum_dst(i, &off, &len);
		}
	}
	return true;
}

/* Random sets of primitives: each record goes through one element and back. */
static void test_roundtrip(void)
{
	int bad_trip = 0, bad_layout = 0;

	for (int t = 0; t < 2000; t++) {
		struct prim_set s;
		struct key_layout L;
		struct flow_rec in, out;
		size_t lo, hi;
		memset(&s, 0, sizeof(s));
		for (int i = 0; i < P_COUNT; i++)
			if (prim_desc_of(NULL, i)->len && xorshift64(&seed) % 12 == 0)
				prim_add(&s, (enum prim_id)i);
		prim_key_layout(NULL, &s, PLUGIN_KEY_GAP, &L);
		prim_key_span(NULL, &s, &lo, &hi);
		/* the pieces: in key order, not overlapping, inside the span, packed one after the other */
		size_t at = 0, end = 0;
		for (unsigned i = 0; i < L.n; i++) {
			const struct key_seg *g = &L.seg[i];
			if (g->at != at || g->off < end || g->off < lo || (size_t)g->off + g->len > hi)
				bad_layout++;
			at += g->len;
			end = (size_t)g->off + g->len;
		}
		if (at != L.bytes || L.bytes > hi - lo)
			bad_layout++;
		uint8_t *el = malloc(sizeof(struct batch_rec) + L.bytes + 1);
		/* an element used before by a record with longer strings: what stays after a NUL is stale */
		memset(&in, 0, sizeof(in));
		random_key(&in.k, &s);
		for (int i = 0; i < P_COUNT; i++) {
			const struct prim_desc *d = prim_desc_of(NULL, i);
			if (d->len && (d->fmt == PF_STR || d->fmt == PF_COMMS || d->fmt == PF_ASPATH))
				memset((uint8_t *)&in.k + d->off, 'x', d->len - 1);
		}
		batch_rec_pack(el, &in, &L);
		random_key(&in.k, &s);
		in.bytes = xorshift64(&seed);
		in.packets = xorshift64(&seed) % 1000;
		in.tcp_flags = 0x12;
		batch_rec_pack(el, &in, &L);
		memset(&out, 0xFF, sizeof(out));	/* unpack defines every field the plugin receives */
		batch_rec_unpack(el, &out, &L);
		if (!fields_equal(&in.k, &out.k, &s) || out.bytes != in.bytes || out.packets != in.packets ||
		    out.tcp_flags != 0x12)
			bad_trip++;
		free(el);
	}
	is_int(bad_layout, 0, "2000 random primitive sets: the pieces are ordered, disjoint, packed, inside the span");
	is_int(bad_trip, 0, "2000 records: every field of the plugin's primitives arrives as sent");
}

/* What a BGP aggregate's element costs: its text travels apart, the key's cold middle does not travel. */
static void test_bgp_aggregate(void)
{
	struct prim_set s;
	struct key_layout L;
	size_t lo, hi;
	int texts = 0;

	memset(&s, 0, sizeof(s));
	prim_add(&s, P_PEER_SRC_IP);
	prim_add(&s, P_SRC_AS);
	prim_add(&s, P_DST_AS);
	prim_add(&s, P_AS_PATH);
	prim_add(&s, P_STD_COMM);
	prim_add(&s, P_LOCAL_PREF);
	prim_key_layout(NULL, &s, PLUGIN_KEY_GAP, &L);
	prim_key_span(NULL, &s, &lo, &hi);
	for (unsigned i = 0; i < L.n; i++)
		texts += L.seg[i].text;
	is_int(texts, 2, "as_path and std_comm are text pieces");
	size_t want = sizeof(((struct flow_key *)0)->as_path) + sizeof(((struct flow_key *)0)->std_comm) +
	    sizeof(((struct flow_key *)0)->local_pref);
	ok(L.bytes < hi - lo && L.bytes >= want, "element key bytes %u, span %zu", L.bytes, hi - lo);

	/* a short as_path writes its bytes and NUL only */
	struct flow_rec r;
	uint8_t *el = malloc(sizeof(struct batch_rec) + L.bytes);
	memset(&r, 0, sizeof(r));
	memset(el, 0xAA, sizeof(struct batch_rec) + L.bytes);
	strcpy(r.k.as_path, "65001 65002");
	batch_rec_pack(el, &r, &L);
	for (unsigned i = 0; i < L.n; i++)
		if (L.seg[i].off == offsetof(struct flow_key, as_path)) {
			const uint8_t *p = el + sizeof(struct batch_rec) + L.seg[i].at;
			ok(memcmp(p, "65001 65002", 12) == 0 && p[12] == 0xAA,
			    "as_path: 12 bytes written, the rest of its 256 untouched");
		}
	free(el);

	struct key_layout all;
	prim_key_layout_span(0, sizeof(struct flow_key), &all);
	is_int(all.n, 1, "a whole-key plugin: one piece");
	is_int(all.bytes, sizeof(struct flow_key), "of the whole key");
}

int main(void)
{
	test_roundtrip();
	test_bgp_aggregate();
	return tap_done();
}
