/* SPDX-License-Identifier: BSD-3-Clause */
/* test_packet.c: pkt_decode() on byte vectors for every link type and L3/L4 case, cut at every offset. */
#include <stdlib.h>
#include <string.h>

#include "decode/packet.h"
#include "tap.h"

#include "bytebuf.h"

static const uint8_t mac_dst[6] = { 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb };
static const uint8_t mac_src[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static void eth(struct buf *f, uint16_t type)
{
	bytes(f, mac_dst, 6);
	bytes(f, mac_src, 6);
	u16(f, type);
}

/* IPv4 header 10.0.0.1 -> 10.0.0.2 (RFC 791 3.1), ihl in words. */
static void ip4(struct buf *f, uint8_t proto, uint16_t tot_len, uint16_t frag,
    uint16_t id, uint8_t ihl)
{
	u8(f, (uint8_t)(0x40 | ihl));
	u8(f, 0x10);			/* tos */
	u16(f, tot_len);
	u16(f, id);
	u16(f, frag);
	u8(f, 64);
	u8(f, proto);
	u16(f, 0);			/* checksum */
	u32(f, 0x0a000001);
	u32(f, 0x0a000002);
	for (int i = 5; i < ihl; i++)
		u32(f, 0x01010101);	/* NOP options */
}

static void ip6(struct buf *f, uint8_t nh, uint16_t plen)
{
	u32(f, 0x6a012345);		/* tc 0xa0, flow label */
	u16(f, plen);
	u8(f, nh);
	u8(f, 64);
	bytes(f, v6_src, 16);
	bytes(f, v6_dst, 16);
}

static void tcp(struct buf *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	u16(f, sport);
	u16(f, dport);
	u32(f, 1);
	u32(f, 0);
	u8(f, 0x50);
	u8(f, flags);
	u16(f, 8192);
	u32(f, 0);
}

static void udp(struct buf *f, uint16_t sport, uint16_t dport, uint16_t len)
{
	u16(f, sport);
	u16(f, dport);
	u16(f, len);
	u16(f, 0);
}

static enum pkt_drop dec(int dlt, const struct buf *f, struct flow_rec *r)
{
	struct pkt_stats st;

	memset(&st, 0, sizeof(st));
	return pkt_decode(dlt, f->b, f->n, f->n, r, &st);
}

static bool is_v4(const struct fr_ip *ip, uint8_t last)
{
	return ip->af == 4 && ip->a[0] == 10 && ip->a[1] == 0 && ip->a[2] == 0 && ip->a[3] == last;
}

static void check_tcp4(const char *what, int dlt, const struct buf *f, uint16_t l3)
{
	struct flow_rec r;
	enum pkt_drop d = dec(dlt, f, &r);

	is_int(d, PKT_DROP_NONE, what);
	ok(is_v4(&r.k.src_ip, 1) && is_v4(&r.k.dst_ip, 2), "%s: addresses", what);
	ok(r.k.src_port == 1234 && r.k.dst_port == 80, "%s: ports", what);
	ok(r.k.proto == 6 && r.tcp_flags == 0x12 && r.k.tos == 0x10, "%s: proto, flags, tos", what);
	ok(r.bytes == 40 && r.packets == 1 && r.k.etype == 0x800, "%s: bytes, etype", what);
	ok(r.l3_off == l3 && (r.flags & FR_F_L4_OK), "%s: l3_off %u", what, r.l3_off);
}

static void frame_tcp4(struct buf *f)
{
	ip4(f, 6, 40, 0, 1, 5);
	tcp(f, 1234, 80, 0x12);
}

static void test_ethernet(void)
{
	struct buf f = { .n = 0 };
	struct flow_rec r;

	eth(&f, 0x0800);
	frame_tcp4(&f);
	check_tcp4("ethernet ipv4 tcp", 1, &f, 14);
	dec(1, &f, &r);
	ok(memcmp(r.k.src_mac, mac_src, 6) == 0 && memcmp(r.k.dst_mac, mac_dst, 6) == 0, "macs");
	ok(r.k.vlan == 0 && r.k.mpls_stack_depth == 0, "no vlan, no mpls");

	f.n = 0;
	eth(&f, 0x8100);
	u16(&f, 5 << 13 | 100);
	u16(&f, 0x0800);
	frame_tcp4(&f);
	check_tcp4("802.1Q", 1, &f, 18);
	dec(1, &f, &r);
	ok(r.k.vlan == 100 && r.k.cos == 5, "vlan 100 cos 5");

	static const uint16_t outer[] = { 0x88a8, 0x9100, 0x8100 };
	for (size_t i = 0; i < 3; i++) {
		f.n = 0;
		eth(&f, outer[i]);
		u16(&f, 3 << 13 | 200);
		u16(&f, 0x8100);
		u16(&f, 1 << 13 | 100);
		u16(&f, 0x0800);
		frame_tcp4(&f);
		check_tcp4("QinQ", 1, &f, 22);
		dec(1, &f, &r);
		ok(r.k.vlan == 200 && r.k.cos == 3, "QinQ 0x%x: outer tag", outer[i]);
	}

	f.n = 0;
	eth(&f, 0x0806);		/* ARP */
	bytes(&f, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	is_int(dec(1, &f, &r), PKT_DROP_NON_IP, "ARP is not IP");
	f.n = 0;
	eth(&f, 0x05dc);		/* 802.3 length field */
	u32(&f, 0xaaaa0300);
	is_int(dec(1, &f, &r), PKT_DROP_NON_IP, "802.3 frame is not IP");
}

static void test_mpls(void)
{
	struct buf f = { .n = 0 };
	struct flow_rec r;
	enum pkt_drop d;

	eth(&f, 0x8847);
	u32(&f, 16 << 12 | 64);
	u32(&f, 17 << 12 | 64);
	u32(&f, 18 << 12 | 0x100 | 64);
	frame_tcp4(&f);
	check_tcp4("MPLS 3 labels", 1, &f, 26);
	dec(1, &f, &r);
	ok(r.k.mpls_label_top == 16 && r.k.mpls_label_bottom == 18 &&
	    r.k.mpls_stack_depth == 3, "labels top 16 bottom 18 depth 3");

	f.n = 0;
	eth(&f, 0x8848);
	u32(&f, 300 << 12 | 0x100 | 64);
	ip6(&f, 17, 8);
	udp(&f, 53, 5353, 8);
	d = dec(1, &f, &r);
	ok(d == PKT_DROP_NONE && r.k.etype == 0x86dd && r.k.mpls_label_top == 300 &&
	    r.k.mpls_label_bottom == 300 && r.k.mpls_stack_depth == 1, "MPLS multicast, IPv6 guessed");
	ok(r.k.src_port == 53 && r.k.dst_port == 5353 && r.bytes == 48, "MPLS v6 udp ports");

	f.n = 0;
	eth(&f, 0x8847);
	u32(&f, 16 << 12 | 0x100 | 64);
	u32(&f, 0);
	is_int(dec(1, &f, &r), PKT_DROP_NON_IP, "MPLS payload nibble 0: not IP");

	f.n = 0;
	eth(&f, 0x8847);
	for (int i = 0; i < 11; i++)
		u32(&f, (uint32_t)(16 + i) << 12 | (i == 10 ? 0x100 : 0));
	frame_tcp4(&f);
	is_int(dec(1, &f, &r), PKT_DROP_NON_IP, "11 labels: too deep");

	f.n = 0;
	eth(&f, 0x8100);
	u16(&f, 2 << 13 | 7);
	u16(&f, 0x8847);
	u32(&f, 1000 << 12 | 0x100 | 64);
	frame_tcp4(&f);
	check_tcp4("VLAN + MPLS", 1, &f, 22);
	dec(1, &f, &r);
	ok(r.k.vlan == 7 && r.k.cos == 2 && r.k.mpls_label_top == 1000, "VLAN + MPLS fields");
}

static void test_pppoe(void)
{
	struct buf f = { .n = 0 };
	struct flow_rec r;

	eth(&f, 0x8864);
	bytes(&f, "\x11\x00\x00\x01\x00\x2a", 6);
	u16(&f, 0x0021);
	frame_tcp4(&f);
	check_tcp4("PPPoE IPv4", 1, &f, 22);

	f.n = 0;
	eth(&f, 0x8864);
	bytes(&f, "\x11\x00\x00\x01\x00\x3e", 6);
	u16(&f, 0x0057);
	ip6(&f, 6, 20);
	tcp(&f, 1234, 80, 0x02);
	ok(dec(1, &f, &r) == PKT_DROP_NONE && r.k.etype == 0x86dd && r.bytes == 60 &&
	    r.k.src_port == 1234, "PPPoE IPv6");

	f.n = 0;
	eth(&f, 0x8864);
	bytes(&f, "\x11\x00\x00\x01\x00\x2a", 6);
	u16(&f, 0xc021);		/* LCP */
	u32(&f, 0);
	is_int(dec(1, &f, &r), PKT_DROP_NON_IP, "PPPoE LCP not IP");
}

static void test_links(void)
{
	struct buf f = { .n = 0 };
	struct flow_rec r;
	static const uint32_t v6fam[] = { 10, 24, 28, 30 };

	/* Linux SLL: pkttype, hatype, halen, addr[8], proto. */
	bytes(&f, "\x00\x04\x00\x01\x00\x06", 6);
	bytes(&f, mac_src, 6);
	u16(&f, 0);
	u16(&f, 0x0800);
	frame_tcp4(&f);
	check_tcp4("SLL", 113, &f, 16);
	dec(113, &f, &r);
	static const uint8_t zero[6];
	ok(memcmp(r.k.src_mac, mac_src, 6) == 0 && memcmp(r.k.dst_mac, zero, 6) == 0,
	    "SLL: src_mac from the SLL address, dst_mac 0");
	f.b[5] = 4;			/* halen 4: no MAC */
	dec(113, &f, &r);
	ok(memcmp(r.k.src_mac, zero, 6) == 0, "SLL halen 4: no src_mac");

	f.n = 0;
	u16(&f, 0x0800);
	u16(&f, 0);
	u32(&f, 3);
	bytes(&f, "\x00\x01\x00\x06", 4);
	bytes(&f, mac_src, 6);
	u16(&f, 0);
	frame_tcp4(&f);
	check_tcp4("SLL2", 276, &f, 20);
	dec(276, &f, &r);
	ok(memcmp(r.k.src_mac, mac_src, 6) == 0, "SLL2 src_mac");

	static const int raw[] = { 12, 14, 101, 228 };
	for (size_t i = 0; i < 4; i++) {
		f.n = 0;
		frame_tcp4(&f);
		check_tcp4("raw IPv4", raw[i], &f, 0);
	}
	f.n = 0;
	ip6(&f, 6, 20);
	tcp(&f, 1234, 80, 0x02);
	ok(dec(229, &f, &r) == PKT_DROP_NONE && r.k.etype == 0x86dd, "DLT_IPV6");
	ok(dec(101, &f, &r) == PKT_DROP_NONE && r.k.etype == 0x86dd, "DLT_RAW IPv6");
	is_int(dec(228, &f, &r), PKT_DROP_BAD_IP, "IPv6 on DLT_IPV4");
	f.b[0] = 0x50;
	is_int(dec(12, &f, &r), PKT_DROP_BAD_IP, "raw version 5");

	for (int be = 0; be < 2; be++) {
		f.n = 0;
		bytes(&f, be ? "\0\0\0\x02" : "\x02\0\0\0", 4);
		frame_tcp4(&f);
		check_tcp4("NULL/LOOP AF_INET", 0, &f, 4);
		check_tcp4("LOOP AF_INET", 108, &f, 4);
	}
	for (size_t i = 0; i < 4; i++) {
		f.n = 0;
		u32(&f, v6fam[i]);
		ip6(&f, 17, 8);
		udp(&f, 1, 2, 8);
		ok(dec(108, &f, &r) == PKT_DROP_NONE && r.k.src_ip.af == 6, "LOOP AF_INET6 %u", v6fam[i]);
		ok(dec(0, &f, &r) == PKT_DROP_NONE && r.k.src_ip.af == 6, "NULL AF_INET6 %u", v6fam[i]);
	}
	f.n = 0;
	u32(&f, 7);
	frame_tcp4(&f);
	is_int(dec(0, &f, &r), PKT_DROP_NON_IP, "NULL family 7");

	f.n = 0;
	bytes(&f, "\xff\x03\x00\x21", 4);
	frame_tcp4(&f);
	check_tcp4("PPP", 9, &f, 4);
	check_tcp4("PPP_SERIAL", 50, &f, 4);
	f.n = 0;
	bytes(&f, "\x00\x21", 2);
	frame_tcp4(&f);
	check_tcp4("PPP no address/control", 9, &f, 2);
	f.n = 0;
	u8(&f, 0x21);
	frame_tcp4(&f);
	check_tcp4("PPP compressed protocol", 9, &f, 1);
	f.n = 0;
	bytes(&f, "\xff\x03\x00\x2b", 4);
	frame_tcp4(&f);
	is_int(dec(9, &f, &r), PKT_DROP_NON_IP, "PPP IPX");

	f.n = 0;
	bytes(&f, "\x0f\x00\x08\x00", 4);
	frame_tcp4(&f);
	check_tcp4("Cisco HDLC", 104, &f, 4);

	is_int(dec(147, &f, &r), PKT_DROP_LINKTYPE, "unknown DLT");
	ok(pkt_dlt_supported(1) && pkt_dlt_supported(276) && !pkt_dlt_supported(147), "pkt_dlt_supported");
}

static void test_ipv4(void)
{
	struct buf f = { .n = 0 };
	struct flow_rec r;

	ip4(&f, 6, 48, 0, 1, 7);		/* 8 bytes of options */
	tcp(&f, 1234, 80, 0x12);
	ok(dec(12, &f, &r) == PKT_DROP_NONE && r.k.src_port == 1234 && r.bytes == 48,
	    "IPv4 options skipped");

	f.n = 0;
	ip4(&f, 1, 28, 0, 1, 5);
	u32(&f, 0x08000000);
	u32(&f, 0);
	ok(dec(12, &f, &r) == PKT_DROP_NONE && r.k.proto == 1 && r.k.src_port == 0 &&
	    r.k.dst_port == 0 && !(r.flags & FR_F_L4_OK), "ICMP ports 0");
	f.n = 0;
	ip4(&f, 132, 32, 0, 1, 5);
	u32(&f, 0x0b590b5a);
	u32(&f, 0);
	ok(dec(12, &f, &r) == PKT_DROP_NONE && r.k.src_port == 0, "SCTP ports 0, as pmacct");

	static const uint16_t bogus[] = { 0, 10, 39, 41, 5000 };
	for (size_t i = 0; i < 5; i++) {
		f.n = 0;
		ip4(&f, 6, bogus[i], 0, 1, 5);
		tcp(&f, 1234, 80, 2);
		ok(dec(12, &f, &r) == PKT_DROP_NONE && r.bytes == bogus[i] && r.k.src_port == 1234,
		    "tot_len %u counted as is", bogus[i]);
	}

	/* IHL 4: L4 read at offset 16 (the destination address), as pmacct. */
	f.n = 0;
	ip4(&f, 6, 40, 0, 1, 5);
	tcp(&f, 1234, 80, 2);
	f.b[0] = 0x44;
	ok(dec(12, &f, &r) == PKT_DROP_NONE && r.k.src_port == 0x0a00 && r.k.dst_port == 2,
	    "IHL 4: ports from offset 16");
	/* IHL one word past the captured bytes: not accounted. */
	f.n = 0;
	ip4(&f, 17, 24, 0, 1, 5);
	f.b[0] = 0x46;
	is_int(dec(12, &f, &r), PKT_DROP_TRUNC_L3, "IHL 6 with 20 bytes");
	u32(&f, 0);
	is_int(dec(12, &f, &r), PKT_DROP_NONE, "IHL 6 with 24 bytes");
	f.n = 0;
	ip4(&f, 6, 40, 0, 1, 5);
	f.b[0] = 0x65;
	is_int(dec(228, &f, &r), PKT_DROP_BAD_IP, "version 6 in an IPv4 header");

	/* Fragments (RFC 791: MF 0x2000, offset in 8-byte units). */
	f.n = 0;
	ip4(&f, 6, 60, 0x2000, 777, 5);
	tcp(&f, 1111, 2222, 0x18);
	ok(dec(12, &f, &r) == PKT_DROP_NONE && (r.flags & FR_F_FRAG) &&
	    !(r.flags & FR_F_LATER_FRAG) && r.frag_id == 777 && r.k.src_port == 1111,
	    "first fragment");
	f.n = 0;
	ip4(&f, 6, 60, 5, 777, 5);
	tcp(&f, 1111, 2222, 0x18);
	ok(dec(12, &f, &r) == PKT_DROP_NONE && (r.flags & FR_F_LATER_FRAG) &&
	    r.frag_id == 777 && r.k.src_port == 0 && r.tcp_flags == 0 &&
	    !(r.flags & FR_F_L4_OK), "later fragment: no L4");
	f.n = 0;
	ip4(&f, 6, 40, 0x4000, 9, 5);	/* DF only */
	tcp(&f, 1, 2, 2);
	ok(dec(12, &f, &r) == PKT_DROP_NONE && !(r.flags & FR_F_FRAG) && r.frag_id == 0,
	    "DF is not a fragment");
}

static void test_ipv6(void)
{
	struct buf f = { .n = 0 };
	struct flow_rec r;

	ip6(&f, 0, 8 + 24 + 8 + 20);
	bytes(&f, "\x2b\x00\x00\x00\x00\x00\x00\x00", 8);		/* HBH -> routing */
	bytes(&f, "\x3c\x02\x00\x01\x00\x00\x00\x00", 8);		/* routing -> dstopts */
	bytes(&f, v6_dst, 16);
	bytes(&f, "\x06\x00\x00\x00\x00\x00\x00\x00", 8);		/* dstopts -> TCP */
	tcp(&f, 1234, 80, 0x02);
	ok(dec(229, &f, &r) == PKT_DROP_NONE && r.k.proto == 6 && r.k.src_port == 1234 &&
	    r.bytes == 100 && r.k.tos == 0xa0 && r.l3_off == 0, "IPv6 HBH, routing, dstopts");
	ok(memcmp(r.k.src_ip.a, v6_src, 16) == 0 && memcmp(r.k.dst_ip.a, v6_dst, 16) == 0, "v6 addrs");

	f.n = 0;
	ip6(&f, 51, 24 + 8);
	bytes(&f, "\x11\x04\x00\x00", 4);		/* AH: next UDP, payload len 4 -> 24 bytes */
	u32(&f, 0x100);
	u32(&f, 1);
	u32(&f, 0);
	u32(&f, 0);
	u32(&f, 0);
	udp(&f, 53, 5353, 8);
	ok(dec(229, &f, &r) == PKT_DROP_NONE && r.k.proto == 17 && r.k.src_port == 53 &&
	    r.k.dst_port == 5353, "IPv6 AH (RFC 4302 length)");

	f.n = 0;
	ip6(&f, 44, 8 + 8);
	bytes(&f, "\x11\x00\x00\x01", 4);		/* offset 0, M */
	u32(&f, 0xdeadbeef);
	udp(&f, 5555, 6666, 200);
	ok(dec(229, &f, &r) == PKT_DROP_NONE && (r.flags & FR_F_FRAG) &&
	    !(r.flags & FR_F_LATER_FRAG) && r.frag_id == 0xdeadbeef && r.k.src_port == 5555,
	    "IPv6 first fragment");
	f.n = 0;
	ip6(&f, 44, 8 + 8);
	bytes(&f, "\x11\x00\x00\x78", 4);		/* offset 15 */
	u32(&f, 0xdeadbeef);
	u32(&f, 0x15b31a0a);
	u32(&f, 0);
	ok(dec(229, &f, &r) == PKT_DROP_NONE && (r.flags & FR_F_LATER_FRAG) &&
	    r.k.proto == 17 && r.k.src_port == 0, "IPv6 later fragment");

	f.n = 0;
	ip6(&f, 58, 8);
	u32(&f, 0x80000000);
	u32(&f, 0);
	ok(dec(229, &f, &r) == PKT_DROP_NONE && r.k.proto == 58 && r.k.src_port == 0, "ICMPv6 ports 0");
	f.n = 0;
	ip6(&f, 17, 0);
	udp(&f, 1, 2, 8);
	ok(dec(229, &f, &r) == PKT_DROP_NONE && r.bytes == 40, "payload length 0 counts 40");
	f.n = 0;
	ip6(&f, 0, 8);
	bytes(&f, "\x11\x01\x00\x00\x00\x00\x00\x00", 8);	/* HBH says 16 bytes, 8 present */
	is_int(dec(229, &f, &r), PKT_DROP_TRUNC_L3, "HBH longer than the capture");
}

/* The L4 cut points pmacct cares about: ports need 4 bytes, TCP flags 14. */
static void test_l4_cuts(void)
{
	struct buf f = { .n = 0 };
	struct flow_rec r;
	struct pkt_stats st;

	frame_tcp4(&f);
	memset(&st, 0, sizeof(st));
	pkt_decode(12, f.b, 20 + 3, 1500, &r, &st);
	ok(!(r.flags & FR_F_L4_OK) && r.k.src_port == 0 && r.bytes == 40, "3 L4 bytes: no ports");
	pkt_decode(12, f.b, 20 + 4, 1500, &r, &st);
	ok((r.flags & FR_F_L4_OK) && r.k.src_port == 1234 && r.tcp_flags == 0, "4 L4 bytes: ports");
	pkt_decode(12, f.b, 20 + 13, 1500, &r, &st);
	ok(r.tcp_flags == 0, "13 L4 bytes: no flags");
	pkt_decode(12, f.b, 20 + 14, 1500, &r, &st);
	ok(r.tcp_flags == 0x12, "14 L4 bytes: flags");
	pkt_decode(12, f.b, 19, 1500, &r, &st);
	is_int(st.decoded, 4, "decoded counted");
	is_int(st.drops[PKT_DROP_TRUNC_L3], 1, "19 bytes: truncated L3 counted");
}

/* Every frame cut at every offset: no out-of-bounds read (ASan), sane result. */
static void cut_all(const char *what, int dlt, const struct buf *f)
{
	struct flow_rec full, r;
	struct pkt_stats st;
	bool sane = true;

	memset(&st, 0, sizeof(st));
	if (pkt_decode(dlt, f->b, f->n, f->n, &full, &st) != PKT_DROP_NONE) {
		ok(false, "%s: full frame decodes", what);
		return;
	}
	for (size_t n = 0; n < f->n; n++) {
		uint8_t *b = exact_copy(f->b, n);
		enum pkt_drop d;

		d = pkt_decode(dlt, b, n, f->n, &r, &st);
		if (d == PKT_DROP_NONE) {
			/* A partial record keeps what the full one says about L3. */
			if (r.bytes != full.bytes || r.k.proto != full.k.proto ||
			    memcmp(&r.k.src_ip, &full.k.src_ip, sizeof(r.k.src_ip)) != 0 ||
			    n < (size_t)r.l3_off + 20)
				sane = false;
			if ((r.flags & FR_F_L4_OK) && r.k.src_port != full.k.src_port)
				sane = false;
		} else if (n >= f->n - 8 && full.k.proto != 6 && full.k.proto != 17) {
			sane = false;
		}
		free(b);
	}
	ok(sane, "%s: every cut (%zu offsets) decodes in bounds, partial records sane", what, f->n);
}

static void test_cuts(void)
{
	struct buf f = { .n = 0 };

	eth(&f, 0x8100);
	u16(&f, 100);
	u16(&f, 0x8847);
	u32(&f, 16 << 12);
	u32(&f, 17 << 12 | 0x100);
	frame_tcp4(&f);
	cut_all("eth vlan mpls tcp", 1, &f);
	f.n = 0;
	eth(&f, 0x86dd);
	ip6(&f, 0, 8 + 24 + 8 + 20);
	bytes(&f, "\x2b\x00\x00\x00\x00\x00\x00\x00", 8);
	bytes(&f, "\x3c\x02\x00\x01\x00\x00\x00\x00", 8);
	bytes(&f, v6_dst, 16);
	bytes(&f, "\x06\x00\x00\x00\x00\x00\x00\x00", 8);
	tcp(&f, 1234, 80, 0x02);
	cut_all("eth ipv6 ext tcp", 1, &f);
	f.n = 0;
	eth(&f, 0x8864);
	bytes(&f, "\x11\x00\x00\x01\x00\x2a", 6);
	u16(&f, 0x0021);
	ip4(&f, 17, 28, 0, 1, 6);
	u32(&f, 0);
	udp(&f, 1, 2, 8);
	cut_all("pppoe ipv4 options udp", 1, &f);
	f.n = 0;
	bytes(&f, "\x00\x00\x00\x01\x00\x06", 6);
	bytes(&f, mac_src, 6);
	u16(&f, 0);
	u16(&f, 0x8100);
	u16(&f, 5);
	u16(&f, 0x0800);
	frame_tcp4(&f);
	cut_all("sll vlan tcp", 113, &f);
	f.n = 0;
	u16(&f, 0x86dd);
	u16(&f, 0);
	u32(&f, 3);
	bytes(&f, "\x00\x01\x00\x06", 4);
	bytes(&f, mac_src, 6);
	u16(&f, 0);
	ip6(&f, 51, 24 + 8);
	bytes(&f, "\x11\x04\x00\x00", 4);
	for (int i = 0; i < 5; i++)
		u32(&f, 0);
	udp(&f, 53, 5353, 8);
	cut_all("sll2 ipv6 ah udp", 276, &f);
	f.n = 0;
	u32(&f, 2);
	frame_tcp4(&f);
	cut_all("null tcp", 0, &f);
	f.n = 0;
	bytes(&f, "\xff\x03\x00\x57", 4);
	ip6(&f, 44, 16);
	bytes(&f, "\x11\x00\x00\x01", 4);
	u32(&f, 1);
	udp(&f, 1, 2, 8);
	cut_all("ppp ipv6 frag udp", 9, &f);
	f.n = 0;
	bytes(&f, "\x0f\x00\x08\x00", 4);
	ip4(&f, 1, 28, 0, 1, 5);
	u32(&f, 0x08000000);
	u32(&f, 0);
	cut_all("chdlc icmp", 104, &f);
}

int main(void)
{
	test_ethernet();
	test_mpls();
	test_pppoe();
	test_links();
	test_ipv4();
	test_ipv6();
	test_l4_cuts();
	test_cuts();
	return tap_done();
}
