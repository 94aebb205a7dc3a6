/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nflog.c: NFLOG netlink messages built byte by byte (as nfnetlink_log lays them out) to packets and frames. */
#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/socket.h>

#include "decode/nflog.h"
#include "decode/packet.h"
#include "model/flow_rec.h"
#include "pipeline/nflog_src.h"
#include "tap.h"

/* A netlink buffer being built: messages, then attributes of the last one. */
struct nlb {
	uint8_t b[4096];
	size_t len;
	size_t msg;	/* offset of the message being built */
};

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void msg_begin(struct nlb *n, uint16_t type, uint8_t family, uint16_t group)
{
	n->msg = n->len;
	memset(n->b + n->len, 0, 20);
	put16(n->b + n->len + 4, type);
	n->b[n->len + 16] = family;
	put16(n->b + n->len + 18, htons(group));
	n->len += 20;
}

static void msg_end(struct nlb *n)
{
	put32(n->b + n->msg, (uint32_t)(n->len - n->msg));
}

static void attr(struct nlb *n, uint16_t type, const void *v, uint16_t vlen)
{
	put16(n->b + n->len, (uint16_t)(4 + vlen));
	put16(n->b + n->len + 2, type);
	memcpy(n->b + n->len + 4, v, vlen);
	n->len += 4 + vlen;
	while (n->len % 4)
		n->b[n->len++] = 0;
}

static void attr32(struct nlb *n, uint16_t type, uint32_t v)
{
	uint32_t be = htonl(v);
	attr(n, type, &be, 4);
}

static void attr16(struct nlb *n, uint16_t type, uint16_t v)
{
	uint16_t be = htons(v);
	attr(n, type, &be, 2);
}

#define PKT_TYPE ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)

/* IPv4 UDP 10.0.0.1:1000 -> 10.0.0.2:53, total length 128 (20 + 8 + 100). */
static const uint8_t ip4_udp[28] = {
	0x45, 0, 0, 128, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
	0x03, 0xe8, 0, 53, 0, 108, 0, 0,
};
static const uint8_t eth_hdr[14] = {
	0xce, 0xa4, 0x30, 0x60, 0x05, 0x50, 0xea, 0xe1, 0x4c, 0x7c, 0x0d, 0x3b, 0x08, 0x00,
};

/* The kernel's input-hook message: timestamp, indev, hw type/len/header, payload. */
static void input_msg(struct nlb *n, uint32_t indev)
{
	uint8_t ts[16] = { 0 };
	ts[7] = 100;	/* sec 100 */
	ts[15] = 7;	/* usec 7 */
	msg_begin(n, PKT_TYPE, AF_INET, 5);
	attr(n, NFULA_TIMESTAMP, ts, 16);
	attr32(n, NFULA_IFINDEX_INDEV, indev);
	attr16(n, NFULA_HWTYPE, 1);
	attr16(n, NFULA_HWLEN, 14);
	attr(n, NFULA_HWHEADER, eth_hdr, 14);
	attr(n, NFULA_PAYLOAD, ip4_udp, sizeof(ip4_udp));
	msg_end(n);
}

struct got {
	int n;
	struct nflog_pkt last;
	uint8_t payload0;
};

static void collect(void *arg, const struct nflog_pkt *p)
{
	struct got *g = arg;
	g->n++;
	g->last = *p;
	g->payload0 = p->payload[0];
}

static void test_input_packet(void)
{
	struct nlb n = { .len = 0 };
	struct nflog_stats st = { 0 };
	struct got g = { 0 };

	input_msg(&n, 5);
	nflog_parse(n.b, n.len, collect, &g, &st);
	is_int(g.n, 1, "input: one packet");
	is_int(st.packets, 1, "input: counted");
	is_int(g.last.family, AF_INET, "input: family");
	is_int(g.last.group, 5, "input: group");
	is_int(g.last.indev, 5, "input: indev");
	is_int(g.last.outdev, 0, "input: no outdev");
	ok(g.last.has_ts && g.last.ts_sec == 100 && g.last.ts_usec == 7, "input: timestamp");
	is_int(g.last.hwlen, 14, "input: hw header length");
	is_int(g.last.hwtype, 1, "input: hw type");
	is_int(g.last.paylen, 28, "input: payload length");
	is_int(g.payload0, 0x45, "input: payload bytes");

	/* the frame: the link header then the payload; decodes as pmacctd decodes Ethernet */
	uint8_t frame[NFLOG_FRAME_HW_MAX + 128];
	size_t wire, cap = nflog_frame(&g.last, 128, frame, &wire);
	is_int(cap, 42, "frame: 14 + 28 captured");
	is_int(wire, 42, "frame: wire length");
	ok(memcmp(frame, eth_hdr, 14) == 0, "frame: link header kept");
	struct flow_rec rec;
	struct pkt_stats ps = { 0 };
	is_int(pkt_decode(DLT_EN10MB, frame, cap, wire, &rec, &ps), PKT_DROP_NONE, "frame decodes");
	is_int(rec.bytes, 128, "bytes: the IP total length");
	is_int(rec.k.src_port, 1000, "src port");
	is_int(rec.k.dst_port, 53, "dst port");
	is_int(rec.k.etype, 0x800, "etype");
	ok(memcmp(rec.k.src_mac, eth_hdr + 6, 6) == 0 && memcmp(rec.k.dst_mac, eth_hdr, 6) == 0,
	    "MACs from the link header");

	/* a snaplen shorter than the payload cuts the capture, not the wire length */
	cap = nflog_frame(&g.last, 20, frame, &wire);
	is_int(cap, 34, "snaplen 20: 14 + 20 captured");
	is_int(wire, 42, "snaplen 20: wire length whole");

	uint32_t in, out;
	nflog_src_ifindexes(&g.last, &in, &out);
	ok(in == 5 && out == 0, "ifindexes: indev");
	g.last.physindev = 9;
	g.last.outdev = 3;
	nflog_src_ifindexes(&g.last, &in, &out);
	ok(in == 9 && out == 3, "ifindexes: the bridge port first");
}

static void test_output_packet_v6(void)
{
	struct nlb n = { .len = 0 };
	struct nflog_stats st = { 0 };
	struct got g = { 0 };
	uint8_t ip6[48] = { 0x60, 0, 0, 0, 0, 8, 17, 64 };	/* payload length 8, UDP */

	ip6[8 + 15] = 1;
	ip6[24 + 15] = 2;
	ip6[40] = 0x1f;	/* port 8080 */
	ip6[41] = 0x90;
	ip6[43] = 80;
	msg_begin(&n, PKT_TYPE, AF_INET6, 7);
	attr32(&n, NFULA_IFINDEX_OUTDEV, 4);
	attr(&n, NFULA_PAYLOAD, ip6, sizeof(ip6));
	msg_end(&n);
	nflog_parse(n.b, n.len, collect, &g, &st);
	is_int(g.n, 1, "output v6: one packet");
	ok(!g.last.hw && !g.last.has_ts, "output v6: no link header, no timestamp");

	uint8_t frame[NFLOG_FRAME_HW_MAX + 128];
	size_t wire, cap = nflog_frame(&g.last, 128, frame, &wire);
	static const uint8_t zero_eth6[14] = { [12] = 0x86, [13] = 0xdd };
	ok(memcmp(frame, zero_eth6, 14) == 0, "output v6: zero MACs, EtherType 86dd");
	struct flow_rec rec;
	struct pkt_stats ps = { 0 };
	is_int(pkt_decode(DLT_EN10MB, frame, cap, wire, &rec, &ps), PKT_DROP_NONE, "v6 frame decodes");
	is_int(rec.bytes, 48, "v6 bytes: payload length + 40");
	is_int(rec.k.dst_port, 80, "v6 dst port");
	uint32_t in, out;
	nflog_src_ifindexes(&g.last, &in, &out);
	ok(in == 0 && out == 4, "output: outdev");
}

static void test_bad_messages(void)
{
	struct nlb n = { .len = 0 };
	struct nflog_stats st = { 0 };
	struct got g = { 0 };
	size_t at;

	/* an ack (NLMSG_ERROR 0), a packet, a bridge packet, a packet without payload */
	msg_begin(&n, NLMSG_ERROR, 0, 0);
	msg_end(&n);
	input_msg(&n, 2);
	msg_begin(&n, PKT_TYPE, 7 /* NFPROTO_BRIDGE */, 5);
	attr(&n, NFULA_PAYLOAD, ip4_udp, sizeof(ip4_udp));
	msg_end(&n);
	msg_begin(&n, PKT_TYPE, AF_INET, 5);
	attr32(&n, NFULA_IFINDEX_INDEV, 2);
	msg_end(&n);
	/* an attribute that claims more bytes than its message has */
	msg_begin(&n, PKT_TYPE, AF_INET, 5);
	at = n.len;
	attr(&n, NFULA_PAYLOAD, ip4_udp, sizeof(ip4_udp));
	put16(n.b + at, 200);
	msg_end(&n);
	/* an ifindex attribute of two bytes */
	msg_begin(&n, PKT_TYPE, AF_INET, 5);
	attr16(&n, NFULA_IFINDEX_INDEV, 1);
	attr(&n, NFULA_PAYLOAD, ip4_udp, sizeof(ip4_udp));
	msg_end(&n);
	input_msg(&n, 3);
	nflog_parse(n.b, n.len, collect, &g, &st);
	is_int(g.n, 2, "bad: the two good packets still delivered");
	is_int(g.last.indev, 3, "bad: the one after the bad ones");
	is_int(st.messages, 7, "bad: messages");
	is_int(st.control, 1, "bad: the ack");
	is_int(st.bad[NFLOG_BAD_FAMILY], 1, "bad: bridge family");
	is_int(st.bad[NFLOG_BAD_NOPAYLOAD], 1, "bad: no payload");
	is_int(st.bad[NFLOG_BAD_ATTR], 2, "bad: attribute past the message, short ifindex");

	/* every cut of the buffer: no read past it (ASan), complete messages still delivered */
	for (size_t cut = 0; cut < n.len; cut++) {
		struct nflog_stats s2 = { 0 };
		struct got g2 = { 0 };
		nflog_parse(n.b, cut, collect, &g2, &s2);
		if (cut && (s2.packets + s2.control + s2.bad[NFLOG_BAD_TRUNC] + s2.bad[NFLOG_BAD_ATTR] +
		    s2.bad[NFLOG_BAD_FAMILY] + s2.bad[NFLOG_BAD_NOPAYLOAD]) != s2.messages) {
			ok(false, "cut %zu: every message counted once", cut);
			return;
		}
	}
	ok(true, "every cut of the buffer parsed within bounds, each message counted once");

	/* nlmsg_len smaller than a header: the rest cannot be walked */
	struct nlb t = { .len = 0 };
	struct nflog_stats s3 = { 0 };
	msg_begin(&t, PKT_TYPE, AF_INET, 5);
	put32(t.b, 8);
	nflog_parse(t.b, t.len, collect, &g, &s3);
	is_int(s3.bad[NFLOG_BAD_TRUNC], 1, "nlmsg_len below the header: truncated");

	/* HWLEN longer than the header attribute: bounded by the attribute */
	struct nlb h = { .len = 0 };
	struct nflog_stats s4 = { 0 };
	struct got g4 = { 0 };
	msg_begin(&h, PKT_TYPE, AF_INET, 5);
	attr16(&h, NFULA_HWLEN, 40);
	attr(&h, NFULA_HWHEADER, eth_hdr, 14);
	attr(&h, NFULA_PAYLOAD, ip4_udp, sizeof(ip4_udp));
	msg_end(&h);
	nflog_parse(h.b, h.len, collect, &g4, &s4);
	is_int(g4.last.hwlen, 14, "HWLEN bounded by the header attribute");
}

int main(void)
{
	test_input_packet();
	test_output_packet_v6();
	test_bad_messages();
	return tap_done();
}
