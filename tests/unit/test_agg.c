/* SPDX-License-Identifier: BSD-3-Clause */
/* test_agg.c: the aggregation table: masking, sum_*, bins, growth, iteration order, clear, deferred accounting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/prim.h"
#include "plugins/agg.h"
#include "tap.h"

#include "frec.h"
#include "xorshift.h"

static struct flow_rec mk(uint8_t src, uint8_t dst, uint16_t sport, uint16_t dport, uint64_t bytes)
{
	struct flow_rec r = frec_v4(src, dst);

	r.k.src_port = sport;
	r.k.dst_port = dport;
	r.k.proto = 6;
	r.bytes = bytes;
	r.packets = 1;
	return r;
}

static struct agg_table *table_of(const char *list)
{
	struct prim_set s;
	prim_parse_list(NULL, list, &s, NULL, 0);
	return agg_new(NULL, &s, 1);
}

static void test_mask_and_add(void)
{
	struct agg_table *t = table_of("src_host");
	struct flow_rec a = mk(1, 2, 10, 80, 100), b = mk(1, 3, 11, 443, 50), c = mk(2, 1, 80, 10, 7);
	struct flow_key k;

	a.tcp_flags = 0x02;
	b.tcp_flags = 0x10;
	agg_account(t, &a, 0);
	agg_account(t, &b, 0);
	agg_account(t, &c, 0);
	is_int(agg_count(t), 2, "two source hosts");
	struct agg_entry *e = agg_next(t, NULL);
	agg_entry_key(t, e, &k);
	is_int(k.src_ip.a[3], 1, "first inserted first");
	is_int(e->bytes, 150, "bytes summed");
	is_int(e->packets, 2, "packets summed");
	is_int(e->tcp_flags, 0x12, "tcp flags ORed");
	is_int(k.dst_port, 0, "unselected fields are zero");
	e = agg_next(t, e);
	is_int(e->bytes, 7, "second entry");
	ok(agg_next(t, e) == NULL, "end of iteration");
	agg_free(t);
}

static void test_sum_host(void)
{
	struct agg_table *t = table_of("sum_host");
	struct flow_rec a = mk(1, 2, 10, 80, 100);
	uint64_t total = 0;

	agg_account(t, &a, 0);
	agg_account(t, &a, 0);
	is_int(agg_count(t), 2, "sum_host: src and dst entries");
	for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e))
		total += e->bytes;
	is_int(total, 400, "each packet counted twice");
	agg_free(t);
}

static void test_none_and_bins(void)
{
	struct agg_table *t = table_of("none");
	struct flow_rec a = mk(1, 2, 10, 80, 100), b = mk(3, 4, 1, 2, 5);

	agg_account(t, &a, 0);
	agg_account(t, &b, 0);
	is_int(agg_count(t), 1, "none: a single aggregate");
	agg_account(t, &b, 60);
	is_int(agg_count(t), 2, "another time-bin is another aggregate");
	agg_free(t);
}

static void test_growth(void)
{
	struct agg_table *t = table_of("src_host,dst_host,src_port,dst_port,proto");
	uint64_t sum = 0;
	size_t n = 0;
	for (int i = 0; i < 50000; i++) {
		struct flow_rec r = mk((uint8_t)(i % 251), (uint8_t)(i / 251), (uint16_t)i, 80, 1);
		agg_account(t, &r, 0);
		agg_account(t, &r, 0);
	}
	is_int(agg_count(t), 50000, "50000 distinct keys after growth");
	for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e), n++)
		sum += e->packets;
	is_int(n, 50000, "iteration visits each once");
	is_int(sum, 100000, "no packet lost across rehashing");
	agg_clear(t);
	is_int(agg_count(t), 0, "clear empties");
	ok(agg_next(t, NULL) == NULL, "nothing to iterate after clear");
	struct flow_rec r = mk(1, 1, 1, 1, 9);
	agg_account(t, &r, 0);
	is_int(agg_next(t, NULL)->bytes, 9, "reusable after clear");
	agg_free(t);
}


static void test_find_delete(void)
{
	struct agg_table *t = table_of("src_host,dst_host");
	struct flow_key k;
	size_t pos = 0, n = 0;

	for (int i = 0; i < 10; i++) {
		struct flow_rec r = mk((uint8_t)i, 1, 0, 0, 10);
		agg_account(t, &r, 0);
	}
	struct agg_entry *e = agg_next(t, NULL);
	e = agg_next(t, e);	/* the second entry: 10.0.0.1 -> 10.0.0.1 */
	agg_entry_key(t, e, &k);
	ok(agg_find(t, &k, 0) == e, "find an existing key");
	ok(agg_find(t, &k, 60) == NULL, "another bin is another key");
	is_int(agg_count(t), 10, "nothing inserted by find");
	agg_delete(t, e);
	is_int(agg_count(t), 9, "delete one");
	ok(agg_find(t, &k, 0) == NULL, "deleted key not found");
	agg_delete(t, e);
	is_int(agg_count(t), 9, "deleting twice is harmless");
	while (agg_at(t, &pos))
		n++;
	is_int(n, 9, "positional walk skips the deleted entry");
	struct flow_rec r = mk(99, 1, 0, 0, 5);
	agg_account(t, &r, 0);
	is_int(agg_count(t), 10, "insert after delete");
	size_t chains = 0;
	for (size_t b = 0; b < agg_buckets(t); b++)
		chains += agg_chain_len(t, b);
	is_int(chains, 10, "bucket chains hold every live entry");
	is_int(agg_chain_len(t, agg_buckets(t)), 0, "bucket out of range");
	agg_free(t);
}

static void test_limit_and_generation(void)
{
	struct agg_table *t = table_of("src_host");
	uint64_t g = agg_generation(t);

	agg_set_limit(t, 3);
	for (int i = 0; i < 5; i++) {
		struct flow_rec r = mk((uint8_t)i, 1, 0, 0, 10);
		agg_account(t, &r, 0);
	}
	is_int(agg_count(t), 3, "bounded to 3 entries");
	is_int(agg_dropped(t), 2, "two new keys refused");
	struct flow_rec r = mk(0, 1, 0, 0, 10);
	agg_account(t, &r, 0);
	is_int(agg_next(t, NULL)->bytes, 20, "existing keys still count when full");
	agg_clear(t);
	ok(agg_generation(t) == g + 1, "clear bumps the generation");
	agg_account(t, &r, 0);
	is_int(agg_count(t), 1, "room again after clear");
	agg_free(t);
}

static void test_cursor_across_growth(void)
{
	struct agg_table *t = table_of("src_host,dst_host,src_port,dst_port,proto");
	size_t pos = 0, seen = 0;

	for (int i = 0; i < 20000; i++) {
		struct flow_rec r = mk((uint8_t)(i % 251), (uint8_t)(i / 251), (uint16_t)i, 80, 1);
		agg_account(t, &r, 0);
		if (i % 3 == 0 && agg_at(t, &pos))
			seen++;	/* walk while the table grows and rehashes */
	}
	while (agg_at(t, &pos))
		seen++;
	is_int(seen, 20000, "positional cursor sees every entry once across growth");
	agg_free(t);
}

/*
 * agg_account() applies records a few later (its look-ahead); every other
 * call must see them already, in the order they were accounted.
 */
static void test_deferred_accounting(void)
{
	struct agg_table *t = table_of("src_host,dst_port");
	struct flow_key k;
	uint64_t sum = 0, want = 0;

	for (int i = 0; i < 3; i++) {
		struct flow_rec r = mk((uint8_t)(i + 1), 9, 0, 80, 10);
		agg_account(t, &r, 0);
	}
	ok(agg_next(t, NULL) != NULL, "a fresh table's first records are iterated at once");
	struct flow_rec probe = mk(2, 9, 0, 80, 0);
	memset(&k, 0, sizeof(k));
	k.src_ip = probe.k.src_ip;
	k.dst_port = 80;
	struct agg_entry *e = agg_find(t, &k, 0);
	ok(e && e->bytes == 10, "a record just accounted is found");
	k.src_ip.a[3] = 200;
	e = agg_upsert(t, &k, 0);
	e->bytes += 1;
	size_t pos = 0;
	int order_ok = 1;
	for (int i = 0; i < 4; i++) {
		struct agg_entry *x = agg_at(t, &pos);
		agg_entry_key(t, x, &k);
		order_ok &= k.src_ip.a[3] == (i < 3 ? i + 1 : 200);
	}
	ok(order_ok, "direct upserts come after the records accounted before them");
	for (int i = 0; i < 1000; i++) {
		struct flow_rec r = mk((uint8_t)(i % 7), 9, 0, (uint16_t)(i % 5), (uint64_t)i);
		want += (uint64_t)i;
		agg_account(t, &r, i % 2);
		if (i % 97 == 0)
			(void)agg_count(t);	/* queries in between apply what is pending */
	}
	for (e = agg_next(t, NULL); e; e = agg_next(t, e))
		sum += e->bytes;
	is_int(sum, want + 30 + 1, "every byte counted once");
	is_int(agg_count(t), 4 + 7 * 5 * 2, "keys by host, port and bin");
	agg_clear(t);
	struct flow_rec r = mk(1, 9, 0, 80, 10);
	agg_account(t, &r, 0);
	agg_clear(t);
	is_int(agg_count(t), 0, "clear drops records still pending");
	agg_free(t);
}

/*
 * Tables of random primitive sets (BGP text fields and keys far apart in
 * struct flow_key among them): records drawn from a few distinct keys,
 * then every entry's key and sums compared with a brute force over the
 * records masked by prim_key_mask().
 */
static void test_random_sets(void)
{
	static const char *sets[] = {
		"peer_src_ip,src_as,dst_as,as_path,std_comm,local_pref",
		"tag,dst_host,lrg_comm,src_med",
		"src_host,dst_host,src_port,dst_port,proto",
		"label,in_iface,as_path,src_as_path,tag2",
	};
	uint64_t seed = 42;
	int bad = 0;

	for (size_t si = 0; si < sizeof(sets) / sizeof(sets[0]); si++) {
		struct prim_set set;
		struct flow_key mask;
		prim_parse_list(NULL, sets[si], &set, NULL, 0);
		prim_key_mask(NULL, &set, &mask);
		struct agg_table *t = agg_new(NULL, &set, 1);
		enum { NKEYS = 40, NREC = 3000 };
		static struct flow_rec base[NKEYS];
		static struct flow_key want[NKEYS];
		uint64_t want_bytes[NKEYS] = { 0 };
		for (int i = 0; i < NKEYS; i++) {
			uint8_t *b = (uint8_t *)&base[i].k;
			memset(&base[i], 0, sizeof(base[i]));
			for (size_t j = 0; j < sizeof(base[i].k); j++)
				b[j] = (uint8_t)xorshift64(&seed);
			snprintf(base[i].k.as_path, sizeof(base[i].k.as_path), "65%03d 650%02d", i % 7, i);
			snprintf(base[i].k.src_as_path, sizeof(base[i].k.src_as_path), "%d", i % 3);
			snprintf(base[i].k.std_comm, sizeof(base[i].k.std_comm), "65000:%d", i % 5);
			snprintf(base[i].k.lrg_comm, sizeof(base[i].k.lrg_comm), "1:2:%d", i);
			snprintf(base[i].k.label, sizeof(base[i].k.label), "l%d", i % 4);
			base[i].packets = 1;
		}
		for (int i = 0; i < NKEYS; i++)
			for (size_t j = 0; j < sizeof(want[i]); j++)
				((uint8_t *)&want[i])[j] = ((uint8_t *)&base[i].k)[j] & ((uint8_t *)&mask)[j];
		for (int r = 0; r < NREC; r++) {
			int i = (int)(xorshift64(&seed) % NKEYS);
			base[i].bytes = xorshift64(&seed) % 1500;
			want_bytes[i] += base[i].bytes;
			agg_account(t, &base[i], 0);
		}
		/* distinct keys after masking, with their byte sums */
		size_t n = 0;
		for (int i = 0; i < NKEYS; i++) {
			int first = 1;
			for (int j = 0; j < i; j++)
				if (memcmp(&want[i], &want[j], sizeof(want[i])) == 0)
					first = 0;
			n += first;
		}
		if (agg_count(t) != n)
			bad++;
		for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e)) {
			struct flow_key k;
			uint64_t sum = 0;
			int found = 0;
			agg_entry_key(t, e, &k);
			for (int i = 0; i < NKEYS; i++)
				if (memcmp(&want[i], &k, sizeof(k)) == 0) {
					sum += want_bytes[i];
					found = 1;
				}
			if (!found || sum != e->bytes)
				bad++;
		}
		agg_free(t);
	}
	is_int(bad, 0, "random sets: each entry's key is the masked record key, with its records' bytes");
}
/*
 * Keys spread over the buckets as random ones would, for key lengths on the
 * inline hash's paths (8-15 bytes, 16 and more with a tail, 48) and XXH3's
 * (under 8): sequential ports and addresses, the usual worst case of a weak
 * hash.  With n keys in B buckets, random hashing fills B(1 - e^(-n/B)) of
 * them and the longest chain of 100,000 keys at load 1/2 or less is about 8.
 */
static void test_spread(void)
{
	static const char *lists[] = {
		"src_host,dst_host,src_port,dst_port,proto", "src_mac,dst_mac", "dst_host",
		"src_port,dst_port", "src_host,dst_host",
	};

	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		struct agg_table *t = table_of(lists[l]);
		size_t b, used, longest;
		int n = 100000;
		for (int i = 0; i < n; i++) {
			struct flow_rec r = mk((uint8_t)(i & 0xff), (uint8_t)(i >> 8), (uint16_t)i,
			    (uint16_t)(i >> 16), 1);
			r.k.dst_ip.a[1] = (uint8_t)i;
			r.k.src_mac[5] = (uint8_t)i;
			r.k.src_mac[4] = (uint8_t)(i >> 8);
			r.k.dst_mac[3] = (uint8_t)(i >> 16);
			agg_account(t, &r, 0);
		}
		agg_chains(t, &b, &used, &longest);
		size_t keys = agg_count(t);
		double want = (double)b * (1.0 - exp(-(double)keys / (double)b));
		ok(used >= 0.97 * want && used <= 1.03 * want,
		    "%s: %zu keys fill %zu of %zu buckets (random: %.0f)", lists[l], keys, used, b, want);
		ok(longest <= 12, "%s: the longest chain is %zu", lists[l], longest);
		agg_free(t);
	}
}

int main(void)
{
	test_spread();
	test_random_sets();
	test_mask_and_add();
	test_sum_host();
	test_none_and_bins();
	test_growth();
	test_find_delete();
	test_limit_and_generation();
	test_cursor_across_growth();
	test_deferred_accounting();
	return tap_done();
}
