/* SPDX-License-Identifier: BSD-3-Clause */
/* test_hash.c: the process-seeded hash, and a flood of exporter addresses crafted to collide. */
#include <string.h>

#include "decode/nf_state.h"
#include "lib/hash.h"
#include "tap.h"

#define FLOOD_KEYS	2048
#define EXP_BUCKETS	256	/* nf_state.c NF_EXP_BUCKETS */

static void test_seed(void)
{
	static const char key[] = "192.0.2.1";
	uint64_t s = hash_seed();

	is_int(hash_seed() == s, 1, "the seed is read once");
	ok(hash_bytes(key, sizeof(key), 1) != hash_bytes(key, sizeof(key), 2),
	    "the seed changes the hash");
	ok(hash_bytes(key, sizeof(key), 7) == hash_bytes(key, sizeof(key), 7), "same seed, same hash");
	hash_seed_set(42);
	is_int(hash_seed(), 42, "a test can fix the seed");
	hash_seed_set(s);
}

/* The exporter hash nf_state.c used before, FNV-1a 32 without a seed: anyone could aim at a bucket. */
static uint32_t old_nf_hash(const struct fr_ip *a, uint32_t domain, uint32_t extra)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < 4; i++)
		h = (h ^ a->a[i]) * 16777619u;
	h = (h ^ domain) * 16777619u;
	h = (h ^ (domain >> 16)) * 16777619u;
	h = (h ^ extra) * 16777619u;
	return h ^ (h >> 15);
}

/* FLOOD_KEYS IPv4 addresses that all fell into exporter bucket 0 under the old hash. */
static size_t craft(struct fr_ip *ips)
{
	size_t n = 0;

	for (uint32_t v = 0x0a000000; n < FLOOD_KEYS && v < 0x0b000000; v++) {
		struct fr_ip ip;
		memset(&ip, 0, sizeof(ip));
		ip.af = 4;
		ip.a[0] = (uint8_t)(v >> 24);
		ip.a[1] = (uint8_t)(v >> 16);
		ip.a[2] = (uint8_t)(v >> 8);
		ip.a[3] = (uint8_t)v;
		if ((old_nf_hash(&ip, 0, 9) & (EXP_BUCKETS - 1)) == 0)
			ips[n++] = ip;
	}
	return n;
}

static void test_flood(void)
{
	static struct fr_ip ips[FLOOD_KEYS];
	struct nf_opts o;
	struct nf_state *st;
	size_t n = craft(ips), longest = 0, total = 0;

	is_int(n, FLOOD_KEYS, "crafted addresses that shared one bucket under the old hash");
	memset(&o, 0, sizeof(o));
	st = nf_state_new(&o);
	for (size_t i = 0; i < n; i++)
		nf_exporter_get(st, &ips[i], 0, 9);
	is_int(st->nexp, FLOOD_KEYS, "every crafted exporter has its entry");
	for (uint32_t b = 0; b <= st->exp_mask; b++) {
		size_t len = 0;
		for (const struct nf_exporter *e = st->exp[b]; e; e = e->next)
			len++;
		total += len;
		if (len > longest)
			longest = len;
	}
	is_int(total, FLOOD_KEYS, "all of them in the buckets");
	/*
	 * Spread evenly, a chain holds FLOOD_KEYS / buckets = 8 on average; the
	 * longest of 256 is about 17.  Under the old hash it was all 2048.
	 */
	ok(longest <= 32, "longest exporter chain %zu of %d crafted keys (old hash: %d)", longest,
	    FLOOD_KEYS, FLOOD_KEYS);
	for (size_t i = 0; i < n; i += 97)
		ok(nf_exporter_get(st, &ips[i], 0, 9)->addr.a[3] == ips[i].a[3] && st->nexp == FLOOD_KEYS,
		    "exporter %zu found again", i);
	nf_state_free(st);
}

int main(void)
{
	test_seed();
	test_flood();
	return tap_done();
}
