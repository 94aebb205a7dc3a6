/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flows.c: the `flows` tracker, against the pmacctd 1.7.7 behaviours it reproduces. */
#include <string.h>

#include "pipeline/flows.h"
#include "tap.h"

/* is_int() evaluates its arguments twice: pass plain values only. */

static struct flow_rec mk(bool fwd, uint8_t proto, uint8_t flags, int64_t t)
{
	struct flow_rec r;

	memset(&r, 0, sizeof(r));
	r.k.src_ip.af = r.k.dst_ip.af = 4;
	r.k.src_ip.a[0] = fwd ? 10 : 11;
	r.k.dst_ip.a[0] = fwd ? 11 : 10;
	r.k.proto = proto;
	if (proto == 6 || proto == 17) {
		r.k.src_port = fwd ? 1 : 2;
		r.k.dst_port = fwd ? 2 : 1;
	}
	r.tcp_flags = flags;
	r.packets = 1;
	r.ts.sec = t;
	return r;
}

/* Feed one record; returns its flows value. */
static int feed(struct flows_table *ft, bool fwd, uint8_t proto, uint8_t flags, int64_t t)
{
	struct flow_rec r = mk(fwd, proto, flags, t);

	flows_handle(ft, &r);
	if ((r.flows == 1) != ((r.flags & FR_F_NEW_FLOW) != 0))
		return -1;
	return (int)r.flows;
}

static void test_udp(void)
{
	struct flows_table *ft = flows_new(0, 3);
	int a, b, c, d, e;

	/* fifo run ff_udp_life: 0, +2, +4, +4 with lifetime 3 -> 3 flows. */
	a = feed(ft, true, 17, 0, 100);
	b = feed(ft, true, 17, 0, 102);
	c = feed(ft, true, 17, 0, 106);
	d = feed(ft, true, 17, 0, 110);
	ok(a == 1 && b == 0 && c == 1 && d == 1, "idle timeout from the last packet");
	flows_free(ft);

	/* ff_rev_reset2: A 0, B 2, B 4, A 6, B 6.5 -> A 2 flows, B 1. */
	ft = flows_new(0, 3);
	a = feed(ft, true, 17, 0, 0);
	b = feed(ft, false, 17, 0, 2);
	c = feed(ft, false, 17, 0, 4);
	d = feed(ft, true, 17, 0, 6);
	e = feed(ft, false, 17, 0, 6);
	ok(a == 1 && b == 1 && c == 0 && d == 1 && e == 0,
	    "each direction is a flow; one expiring does not reset the other");
	a = feed(ft, true, 17, 0, 9);
	ok(a == 0, "exactly lifetime seconds idle: still the same flow");
	flows_free(ft);

	ft = flows_new(0, 0);
	a = feed(ft, true, 17, 0, 0);
	b = feed(ft, true, 17, 0, 60);
	c = feed(ft, true, 17, 0, 121);
	ok(a == 1 && b == 0 && c == 1, "default lifetime 60");
	a = feed(ft, true, 1, 0, 121);
	b = feed(ft, true, 1, 0, 122);
	c = feed(ft, true, 47, 0, 122);
	ok(a == 1 && b == 0 && c == 1, "ICMP and GRE: flows by src, dst, proto");
	flows_free(ft);
	flows_free(NULL);
}

static void test_tcp(void)
{
	struct flows_table *ft = flows_new(0, 3);
	int a, b, c, d, e;

	/* ff_tcp_noflags: ACK, ACK 4 s later, lifetime 3 -> 2 flows. */
	a = feed(ft, true, 6, 0x10, 0);
	b = feed(ft, true, 6, 0x10, 4);
	ok(a == 1 && b == 1, "TCP without handshake: configured lifetime");
	flows_free(ft);

	/* ff_tcp_syn: SYN, SYN 4 s later -> 1 flow (SYN lifetime 60). */
	ft = flows_new(0, 3);
	a = feed(ft, true, 6, 0x02, 0);
	b = feed(ft, true, 6, 0x02, 4);
	c = feed(ft, true, 6, 0x02, 65);
	ok(a == 1 && b == 0 && c == 1, "SYN lifetime 60");
	flows_free(ft);

	/* Handshake done: configured lifetime again. */
	ft = flows_new(0, 3);
	a = feed(ft, true, 6, 0x02, 0);
	b = feed(ft, false, 6, 0x12, 0);
	c = feed(ft, true, 6, 0x10, 0);
	d = feed(ft, true, 6, 0x10, 2);
	e = feed(ft, true, 6, 0x10, 6);
	ok(a == 1 && b == 1 && c == 0 && d == 0 && e == 1, "established: configured lifetime");
	flows_free(ft);

	/* ff_tcp_rst: RST, then a packet 11 s later -> new flow. */
	ft = flows_new(0, 100);
	a = feed(ft, true, 6, 0x10, 0);
	b = feed(ft, true, 6, 0x04, 1);
	c = feed(ft, true, 6, 0x10, 12);
	ok(a == 1 && b == 0 && c == 1, "RST lifetime 10");
	flows_free(ft);

	/* ff_tcp_fin / fin31: FIN, +11 s same flow; +31 s both directions new. */
	ft = flows_new(0, 100);
	a = feed(ft, true, 6, 0x02, 0);
	b = feed(ft, false, 6, 0x12, 0);
	c = feed(ft, true, 6, 0x11, 0);
	d = feed(ft, true, 6, 0x10, 11);
	ok(a == 1 && b == 1 && c == 0 && d == 0, "FIN: still the flow 11 s later");
	a = feed(ft, true, 6, 0x10, 42);
	b = feed(ft, false, 6, 0x10, 42);
	ok(a == 1 && b == 1, "FIN lifetime 30 on both directions");
	flows_free(ft);
}

static void test_full(void)
{
	struct flows_table *ft = flows_new(1, 60);
	struct flows_stats st;
	int a, b, c;

	a = feed(ft, true, 17, 0, 0);
	b = feed(ft, true, 6, 0x10, 0);
	flows_get_stats(ft, &st);
	ok(a == 1 && b == 0 && st.full == 1 && st.capacity == 1, "full: flows 0, as pmacct");
	c = feed(ft, true, 6, 0x10, 61);
	ok(c == 1, "expired entry pruned to make room");
	flows_free(ft);
}

int main(void)
{
	test_udp();
	test_tcp();
	test_full();
	return tap_done();
}
