/* SPDX-License-Identifier: BSD-3-Clause */
/* test_agg.c: the aggregation table: masking, sum_*, bins, growth, iteration order, clear. */
#include <string.h>

#include "model/prim.h"
#include "plugins/agg.h"
#include "tap.h"

static struct flow_rec mk(uint8_t src, uint8_t dst, uint16_t sport, uint16_t dport, uint64_t bytes)
{
	struct flow_rec r;
	memset(&r, 0, sizeof(r));
	r.k.src_ip.af = r.k.dst_ip.af = 4;
	r.k.src_ip.a[0] = r.k.dst_ip.a[0] = 10;
	r.k.src_ip.a[3] = src;
	r.k.dst_ip.a[3] = dst;
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
	prim_parse_list(list, &s, NULL);
	return agg_new(&s, 1);
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

int main(void)
{
	test_mask_and_add();
	test_sum_host();
	test_none_and_bins();
	test_growth();
	return tap_done();
}
