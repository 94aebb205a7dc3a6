/* SPDX-License-Identifier: BSD-3-Clause */
/* test_frag.c: the fragment table, against the pmacctd 1.7.7 behaviours it reproduces. */
#include <string.h>

#include "pipeline/frag.h"
#include "tap.h"

/* is_int() evaluates its arguments twice: pass plain values only. */

static struct flow_rec mk(uint8_t af, uint8_t proto, uint32_t id, bool frag, bool later,
    uint16_t bytes, int64_t t)
{
	struct flow_rec r;

	memset(&r, 0, sizeof(r));
	r.k.src_ip.af = af;
	r.k.dst_ip.af = af;
	r.k.src_ip.a[0] = 10;
	r.k.dst_ip.a[0] = 11;
	r.k.proto = proto;
	r.frag_id = id;
	r.bytes = bytes;
	r.packets = 1;
	r.ts.sec = t;
	if (frag)
		r.flags |= FR_F_FRAG;
	if (later)
		r.flags |= FR_F_LATER_FRAG;
	else if (proto == 6 || proto == 17) {
		r.flags |= FR_F_L4_OK;
		r.k.src_port = 1111;
		r.k.dst_port = 2222;
	}
	return r;
}

static void test_in_order(void)
{
	struct frag_table *ft = frag_new(0);
	struct flow_rec r;
	bool acc;

	r = mk(4, 6, 777, true, false, 60, 1000);
	acc = frag_handle(ft, &r);
	ok(acc && r.k.src_port == 1111, "first fragment accounted");
	r = mk(4, 6, 777, true, true, 60, 1000);
	acc = frag_handle(ft, &r);
	ok(acc && r.k.src_port == 1111 && r.k.dst_port == 2222 && r.packets == 1,
	    "later fragment gets the ports");
	r = mk(4, 6, 778, true, true, 60, 1000);
	ok(!frag_handle(ft, &r), "other id: held");
	r = mk(4, 17, 777, true, true, 60, 1000);
	ok(!frag_handle(ft, &r), "same id, other proto: another IPv4 entry");
	r = mk(4, 6, 777, true, true, 60, 1059);
	ok(frag_handle(ft, &r), "59 s later: still there");
	r = mk(4, 6, 777, true, true, 60, 1060);
	ok(!frag_handle(ft, &r), "60 s after creation: expired, held again");
	frag_free(ft);
	frag_free(NULL);
}

static void test_reverse(void)
{
	struct frag_table *ft = frag_new(0);
	struct frag_stats st;
	struct flow_rec r;
	bool acc;

	r = mk(6, 17, 99, true, true, 60, 5);
	ok(!frag_handle(ft, &r), "later before first: held");
	r = mk(6, 17, 99, true, true, 70, 5);
	ok(!frag_handle(ft, &r), "second later: held");
	r = mk(6, 17, 99, true, false, 80, 6);
	acc = frag_handle(ft, &r);
	ok(acc && r.packets == 3 && r.bytes == 210 && r.k.src_port == 1111,
	    "first releases the held ones (3 packets, 210 bytes)");
	r = mk(6, 17, 99, true, true, 10, 7);
	acc = frag_handle(ft, &r);
	ok(acc && r.packets == 1 && r.bytes == 10, "afterwards later ones are plain");
	r = mk(6, 58, 99, true, true, 10, 7);
	ok(frag_handle(ft, &r) && r.k.src_port == 0, "ICMPv6 fragment: not handled, accounted");
	frag_get_stats(ft, &st);
	ok(st.held == 2 && st.released == 2, "stats held 2 released 2");
	frag_free(ft);
}

static void test_orphans_and_short(void)
{
	struct frag_table *ft = frag_new(0);
	struct frag_stats st;
	struct flow_rec r;

	r = mk(4, 6, 1, true, true, 60, 0);
	ok(!frag_handle(ft, &r), "orphan held");
	r = mk(4, 6, 1, true, true, 60, 61);
	ok(!frag_handle(ft, &r), "after expiry: held in a fresh entry");
	frag_get_stats(ft, &st);
	is_int(st.orphans, 1, "one orphan counted");

	r = mk(4, 6, 0, false, false, 40, 0);
	ok(frag_handle(ft, &r), "plain TCP accounted");
	r.flags &= (uint8_t)~FR_F_L4_OK;
	ok(!frag_handle(ft, &r), "TCP without 4 L4 bytes: dropped as pmacct");
	r = mk(4, 6, 2, true, false, 40, 0);
	r.flags &= (uint8_t)~FR_F_L4_OK;
	ok(!frag_handle(ft, &r), "first fragment without ports: dropped");
	r = mk(4, 1, 0, false, false, 40, 0);
	ok(frag_handle(ft, &r), "ICMP without L4: accounted");
	frag_get_stats(ft, &st);
	is_int(st.short_l4, 2, "short_l4 counted");
	frag_free(ft);
}

static void test_full(void)
{
	/* A table of a handful of entries. */
	struct frag_table *ft = frag_new(200);
	struct frag_stats st;
	struct flow_rec r;
	uint32_t id;

	frag_get_stats(ft, &st);
	ok(st.capacity >= 1 && st.capacity < 10, "small capacity (%llu)",
	    (unsigned long long)st.capacity);
	for (id = 0; id < st.capacity; id++) {
		r = mk(4, 17, id, true, false, 40, 100);
		frag_handle(ft, &r);
	}
	r = mk(4, 17, 1000, true, false, 40, 100);
	ok(frag_handle(ft, &r) && r.k.src_port == 1111,
	    "full: first fragment accounted untracked, with its ports (pmacct drops it)");
	r = mk(4, 17, 0, true, true, 40, 100);
	ok(frag_handle(ft, &r), "existing entry still works when full");
	r = mk(4, 17, 1000, true, false, 40, 161);
	ok(frag_handle(ft, &r), "after expiry the table makes room");
	frag_get_stats(ft, &st);
	ok(st.full == 1 && st.entries == 1, "full counted, expired pruned");
	frag_free(ft);
}

int main(void)
{
	test_in_order();
	test_reverse();
	test_orphans_and_short();
	test_full();
	return tap_done();
}
