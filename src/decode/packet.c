/* SPDX-License-Identifier: BSD-3-Clause */
/* packet.c: decode one captured frame (link layer, VLAN, MPLS, PPPoE, IPv4/IPv6, L4) into a flow_rec. */
#include "packet.h"

#include <stdbool.h>
#include <string.h>

#include "lib/rd.h"
#include "lib/text.h"

/*
 * Behaviour notes, each checked against Debian's pmacctd 1.7.7 on crafted
 * captures (print plugin, CSV) unless marked as a deliberate divergence:
 *
 * - bytes is the IP total length field (IPv4 tot_len, IPv6 payload length
 *   + 40), never the captured or wire length: a 1440-byte packet captured
 *   with snaplen 128 counts 1440; a bogus tot_len (0, 10, 59, 5000) is
 *   counted as is.  IPv6 payload length 0 (jumbogram) counts 40.
 * - etype is always the IP ethertype (0x800 / 0x86dd), also behind VLAN
 *   tags, MPLS and on non-Ethernet links.
 * - vlan / cos come from the outermost 802.1Q tag.
 * - MAC addresses only on Ethernet; Linux SLL fills src_mac from the SLL
 *   address (when its length is 6) and leaves dst_mac zero.
 * - ICMP, ICMPv6, SCTP, GRE and every other protocol: ports 0.
 * - IPv4 header with IHL*4 past the captured bytes: not accounted.  An IHL
 *   below 5 is not rejected: L4 is read at IHL*4 as pmacct does (garbage
 *   ports, but the packet and its bytes are counted).
 * - TCP/UDP with fewer than 4 L4 bytes captured: the record is produced
 *   without FR_F_L4_OK; pmacct drops it only when fragment handling is on
 *   (L4 primitives aggregated), which frag_handle() implements.  TCP flags
 *   need 14 captured L4 bytes, else they are 0.
 *
 * Deliberate divergences (1.7.7 drops, crashes or mis-decodes these):
 * - 802.1ad 0x88a8 and 0x9100 outer tags: 1.7.7 does not account such
 *   frames at all; we decode them like 0x8100 (vlan/cos = outer tag).
 * - PPPoE session frames: 1.7.7 does not account them; we do.
 * - MPLS stacks deeper than one label: 1.7.7 records 0.0.0.0 / 0 bytes or
 *   segfaults (mpls_label_bottom, mpls_stack_depth); we skip the whole
 *   stack (top = first label, bottom = bottom-of-stack label).
 * - Link types SLL2 (276), IPV4 (228), IPV6 (229), PPP_HDLC (50) and
 *   C_HDLC (104): 1.7.7 refuses the capture ("unsupported link layer").
 * - DLT_NULL / DLT_LOOP: 1.7.7 takes family 2 and 10 in either byte order;
 *   we also take the BSD AF_INET6 values 24, 28 and 30.
 * - An IPv6 packet behind ethertype 0x800 (or version != 4/6): 1.7.7
 *   counts a 0.0.0.0 record of 0 bytes; we drop it as PKT_DROP_BAD_IP.
 */

const char *const pkt_drop_name[PKT_DROP_COUNT] = {
	[PKT_DROP_NONE] = "none",
	[PKT_DROP_TRUNC_L2] = "truncated link header",
	[PKT_DROP_LINKTYPE] = "unsupported link type",
	[PKT_DROP_NON_IP] = "not IP",
	[PKT_DROP_TRUNC_L3] = "truncated IP header",
	[PKT_DROP_BAD_IP] = "bad IP header",
	[PKT_DROP_TUNNEL] = "no IP packet in tunnel",
};

/* pcap link types (https://www.tcpdump.org/linktypes.html). */
enum {
	PKT_DLT_NULL = 0,
	PKT_DLT_EN10MB = 1,
	PKT_DLT_PPP = 9,
	PKT_DLT_RAW = 12,	/* DLT_RAW on Linux; libpcap maps LINKTYPE_RAW 101 here */
	PKT_DLT_RAW_BSD = 14,	/* DLT_RAW on OpenBSD */
	PKT_DLT_PPP_SERIAL = 50,
	PKT_DLT_LINKTYPE_RAW = 101,
	PKT_DLT_C_HDLC = 104,
	PKT_DLT_LOOP = 108,
	PKT_DLT_LINUX_SLL = 113,
	PKT_DLT_IPV4 = 228,
	PKT_DLT_IPV6 = 229,
	PKT_DLT_LINUX_SLL2 = 276,
};

enum {
	ETH_IPV4 = 0x0800,
	ETH_IPV6 = 0x86dd,
	ETH_8021Q = 0x8100,
	ETH_8021AD = 0x88a8,
	ETH_QINQ_OLD = 0x9100,
	ETH_MPLS_UC = 0x8847,
	ETH_MPLS_MC = 0x8848,
	ETH_PPPOE_SESS = 0x8864,
	PPP_IPV4 = 0x0021,
	PPP_IPV6 = 0x0057,
	ETH_TEB = 0x6558,	/* transparent Ethernet bridging (GRE payload) */
	IPP_HOPOPTS = 0,
	IPP_IPIP = 4,
	IPP_TCP = 6,
	IPP_UDP = 17,
	IPP_IPV6 = 41,
	IPP_ROUTING = 43,
	IPP_FRAGMENT = 44,
	IPP_GRE = 47,
	IPP_AH = 51,
	IPP_DSTOPTS = 60,
};

/* As pmacct's MAX_MPLS_LABELS: deeper stacks are not accounted. */
#define PKT_MPLS_MAX	10

/* Decoding state: the frame, where the reader stands, the record. */
struct pkt_ctx {
	size_t caplen;
	struct rd r;		/* cursor over the frame */
	struct flow_rec *rec;
	int tags;		/* VLAN tags seen so far */
	const struct pkt_tun *tun;	/* NULL: tunnels are not looked into */
	int depth;		/* tunnels entered by tunnel_0 so far */
};

/* Out of line: the common path (no tunnel) keeps its registers. */
static enum pkt_drop pkt_tunnel(struct pkt_ctx *c, struct rd l4) __attribute__((noinline));

static size_t pkt_off(const struct pkt_ctx *c)
{
	return c->caplen - c->r.left;
}

/*
 * L4 (TCP/UDP) ports and TCP flags from the bytes after the IP header(s).
 * Ports need 4 bytes (RFC 793 3.1, RFC 768); the TCP flags are byte 13 of
 * the TCP header (RFC 793 3.1, RFC 3168 6.1).
 */
static void pkt_l4(struct rd l4, struct flow_rec *rec)
{
	uint8_t proto = rec->k.proto;

	if (proto != IPP_TCP && proto != IPP_UDP)
		return;
	if (l4.left < 4)
		return;
	rec->k.src_port = rd_u16(&l4);
	rec->k.dst_port = rd_u16(&l4);
	rec->flags |= FR_F_L4_OK;
	if (proto == IPP_TCP && l4.left >= 10) {
		rd_skip(&l4, 9);	/* seq, ack, data offset */
		rec->tcp_flags = rd_u8(&l4);
	}
}

/* IPv4 header, RFC 791 3.1. */
static enum pkt_drop pkt_ipv4(struct pkt_ctx *c)
{
	struct flow_rec *rec = c->rec;
	const uint8_t *ip;
	size_t l3len, hl;
	uint16_t frag;

	rec->l3_off = (uint16_t)pkt_off(c);
	l3len = c->r.left;
	ip = rd_take(&c->r, 20);
	if (ip == NULL)
		return PKT_DROP_TRUNC_L3;
	if (ip[0] >> 4 != 4)
		return PKT_DROP_BAD_IP;
	hl = (size_t)(ip[0] & 0x0f) * 4;	/* IHL, 32-bit words */
	if (hl > l3len)
		return PKT_DROP_TRUNC_L3;	/* as pmacct: off > caplen */
	rec->k.etype = ETH_IPV4;
	rec->k.tos = ip[1];			/* type of service */
	rec->bytes = (uint64_t)(ip[2] << 8 | ip[3]);	/* total length */
	frag = (uint16_t)(ip[6] << 8 | ip[7]);	/* flags (MF = 0x2000), offset */
	rec->k.proto = ip[9];
	rec->k.src_ip.af = 4;
	memcpy(rec->k.src_ip.a, ip + 12, 4);
	rec->k.dst_ip.af = 4;
	memcpy(rec->k.dst_ip.a, ip + 16, 4);
	if (frag & 0x3fff) {
		rec->flags |= FR_F_FRAG;
		rec->frag_id = (uint32_t)(ip[4] << 8 | ip[5]);	/* identification */
		if (frag & 0x1fff) {
			rec->flags |= FR_F_LATER_FRAG;
			return PKT_DROP_NONE;
		}
	}
	/* L4 starts at IHL*4 even when IHL < 5, as pmacct 1.7.7 does. */
	if (__builtin_expect(c->tun != NULL, 0))
		return pkt_tunnel(c, rd_make(ip + hl, l3len - hl));
	pkt_l4(rd_make(ip + hl, l3len - hl), rec);
	return PKT_DROP_NONE;
}

/*
 * Walk the IPv6 extension headers (RFC 8200 4.1) to the upper-layer
 * protocol.  Hop-by-hop, routing and destination options use
 * (Hdr Ext Len + 1) * 8 bytes (RFC 8200 4.3-4.6); AH uses
 * (Payload Len + 2) * 4 (RFC 4302 2.2); the fragment header is 8 bytes
 * (RFC 8200 4.5).  Returns false when an extension header is cut short.
 */
static bool pkt_ipv6_ext(struct rd *r, struct flow_rec *rec, uint8_t nh)
{
	for (;;) {
		uint8_t next, len;
		uint16_t off;

		switch (nh) {
		case IPP_HOPOPTS:
		case IPP_ROUTING:
		case IPP_DSTOPTS:
			next = rd_u8(r);
			len = rd_u8(r);
			rd_skip(r, (size_t)len * 8 + 6);
			break;
		case IPP_AH:
			next = rd_u8(r);
			len = rd_u8(r);
			rd_skip(r, (size_t)len * 4 + 6);
			break;
		case IPP_FRAGMENT:
			next = rd_u8(r);
			rd_skip(r, 1);			/* reserved */
			off = rd_u16(r);		/* offset << 3, res, M */
			rec->frag_id = rd_u32(r);	/* identification */
			if (r->bad)
				return false;
			rec->flags |= FR_F_FRAG;
			if (off & 0xfff8) {
				rec->flags |= FR_F_LATER_FRAG;
				rec->k.proto = next;
				return true;
			}
			break;
		default:
			rec->k.proto = nh;
			return true;
		}
		if (r->bad)
			return false;
		nh = next;
	}
}

/* IPv6 fixed header, RFC 8200 3. */
static enum pkt_drop pkt_ipv6(struct pkt_ctx *c)
{
	struct flow_rec *rec = c->rec;
	uint32_t vtf;
	uint16_t plen;
	uint8_t nh;

	rec->l3_off = (uint16_t)pkt_off(c);
	if (c->r.left < 40)
		return PKT_DROP_TRUNC_L3;
	vtf = rd_u32(&c->r);		/* version, traffic class, flow label */
	if (vtf >> 28 != 6)
		return PKT_DROP_BAD_IP;
	plen = rd_u16(&c->r);		/* payload length */
	nh = rd_u8(&c->r);		/* next header */
	rd_skip(&c->r, 1);		/* hop limit */
	rec->k.src_ip.af = 6;
	rd_copy(&c->r, rec->k.src_ip.a, 16);
	rec->k.dst_ip.af = 6;
	rd_copy(&c->r, rec->k.dst_ip.a, 16);
	rec->k.etype = ETH_IPV6;
	rec->k.tos = (uint8_t)(vtf >> 20);
	rec->bytes = (uint64_t)plen + 40;
	if (!pkt_ipv6_ext(&c->r, rec, nh))
		return PKT_DROP_TRUNC_L3;
	if (rec->flags & FR_F_LATER_FRAG)
		return PKT_DROP_NONE;
	if (__builtin_expect(c->tun != NULL, 0))
		return pkt_tunnel(c, c->r);
	pkt_l4(c->r, rec);
	return PKT_DROP_NONE;
}

/* Dispatch on the IP version nibble (raw IP links, after MPLS). */
static enum pkt_drop pkt_ip_guess(struct pkt_ctx *c, enum pkt_drop other)
{
	if (c->r.left == 0)
		return PKT_DROP_TRUNC_L3;
	switch (rd_peek8(&c->r) >> 4) {
	case 4:
		return pkt_ipv4(c);
	case 6:
		return pkt_ipv6(c);
	default:
		return other;
	}
}

/*
 * MPLS label stack entries, RFC 3032 2.1: label(20) TC(3) S(1) TTL(8).
 * After the bottom of stack the payload is guessed from the first nibble,
 * as pmacct does.
 */
static enum pkt_drop pkt_mpls(struct pkt_ctx *c)
{
	struct flow_rec *rec = c->rec;
	uint32_t e;

	do {
		e = rd_u32(&c->r);
		if (c->r.bad)
			return PKT_DROP_TRUNC_L2;
		if (rec->k.mpls_stack_depth == PKT_MPLS_MAX)
			return PKT_DROP_NON_IP;
		if (rec->k.mpls_stack_depth++ == 0)
			rec->k.mpls_label_top = e >> 12;
		rec->k.mpls_label_bottom = e >> 12;
	} while (!(e & 0x100));
	return pkt_ip_guess(c, PKT_DROP_NON_IP);
}

/* PPP protocol field, RFC 1661 2: one byte when compressed (odd value, RFC 1661 6.5). */
static uint16_t pkt_ppp_proto(struct rd *r)
{
	if (rd_peek8(r) & 1)
		return rd_u8(r);
	return rd_u16(r);
}

static enum pkt_drop pkt_ppp_payload(struct pkt_ctx *c, uint16_t proto)
{
	if (c->r.bad)
		return PKT_DROP_TRUNC_L2;
	if (proto == PPP_IPV4)
		return pkt_ipv4(c);
	if (proto == PPP_IPV6)
		return pkt_ipv6(c);
	return PKT_DROP_NON_IP;
}

/* PPPoE session stage header, RFC 2516 4: ver/type, code, session, length; then PPP. */
static enum pkt_drop pkt_pppoe(struct pkt_ctx *c)
{
	rd_skip(&c->r, 6);
	return pkt_ppp_payload(c, pkt_ppp_proto(&c->r));
}

/*
 * An ethertype and what follows it: 802.1Q / 802.1ad tags (IEEE 802.1Q
 * 9.6: TPID, PCP(3) DEI(1) VID(12)), MPLS, PPPoE session, IPv4, IPv6.
 * Shared by Ethernet, Linux SLL/SLL2 and Cisco HDLC.
 */
static enum pkt_drop pkt_ether_type(struct pkt_ctx *c, uint16_t et)
{
	for (;;) {
		uint16_t tci;

		switch (et) {
		case ETH_IPV4:
			return pkt_ipv4(c);
		case ETH_IPV6:
			return pkt_ipv6(c);
		case ETH_8021Q:
		case ETH_8021AD:
		case ETH_QINQ_OLD:
			tci = rd_u16(&c->r);
			et = rd_u16(&c->r);
			if (c->r.bad)
				return PKT_DROP_TRUNC_L2;
			if (c->tags++ == 0) {
				c->rec->k.vlan = tci & 0x0fff;
				c->rec->k.cos = (uint8_t)(tci >> 13);
			}
			break;
		case ETH_MPLS_UC:
		case ETH_MPLS_MC:
			return pkt_mpls(c);
		case ETH_PPPOE_SESS:
			return pkt_pppoe(c);
		default:
			return PKT_DROP_NON_IP;
		}
	}
}

/* Ethernet II, IEEE 802.3 3.2: destination, source, type/length. */
static enum pkt_drop pkt_en10mb(struct pkt_ctx *c)
{
	uint16_t et;

	rd_copy(&c->r, c->rec->k.dst_mac, 6);
	rd_copy(&c->r, c->rec->k.src_mac, 6);
	et = rd_u16(&c->r);
	if (c->r.bad)
		return PKT_DROP_TRUNC_L2;
	return pkt_ether_type(c, et);
}

/*
 * Linux cooked capture v1 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html):
 * packet type, ARPHRD type, address length, 8-byte address, protocol.
 */
static enum pkt_drop pkt_sll(struct pkt_ctx *c)
{
	const uint8_t *addr;
	uint16_t halen, et;

	rd_skip(&c->r, 4);
	halen = rd_u16(&c->r);
	addr = rd_take(&c->r, 8);
	et = rd_u16(&c->r);
	if (c->r.bad)
		return PKT_DROP_TRUNC_L2;
	if (halen == 6)		/* the sender's address: src_mac, as pmacct */
		memcpy(c->rec->k.src_mac, addr, 6);
	return pkt_ether_type(c, et);
}

/*
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): protocol, reserved,
 * interface index, ARPHRD type, packet type, address length, address.
 */
static enum pkt_drop pkt_sll2(struct pkt_ctx *c)
{
	const uint8_t *addr;
	uint16_t et;
	uint8_t halen;

	et = rd_u16(&c->r);
	rd_skip(&c->r, 9);
	halen = rd_u8(&c->r);
	addr = rd_take(&c->r, 8);
	if (c->r.bad)
		return PKT_DROP_TRUNC_L2;
	if (halen == 6)
		memcpy(c->rec->k.src_mac, addr, 6);
	return pkt_ether_type(c, et);
}

/*
 * BSD loopback: a 4-byte address family, host order for DLT_NULL and
 * network order for DLT_LOOP; pmacct 1.7.7 takes either order for both.
 * AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD),
 * 28 (FreeBSD), 30 (macOS).
 */
static enum pkt_drop pkt_null(struct pkt_ctx *c)
{
	uint32_t le, be;
	const uint8_t *b = rd_take(&c->r, 4);

	if (b == NULL)
		return PKT_DROP_TRUNC_L2;
	le = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
	be = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	if (le == 2 || be == 2)
		return pkt_ipv4(c);
	if (le == 10 || le == 24 || le == 28 || le == 30 ||
	    be == 10 || be == 24 || be == 28 || be == 30)
		return pkt_ipv6(c);
	return PKT_DROP_NON_IP;
}

/*
 * PPP (RFC 1661 2) and PPP in HDLC-like framing (RFC 1662 3.1): an
 * optional 0xff 0x03 address/control pair, then the protocol field.
 */
static enum pkt_drop pkt_ppp(struct pkt_ctx *c)
{
	if (c->r.left >= 2 && c->r.p[0] == 0xff && c->r.p[1] == 0x03)
		rd_skip(&c->r, 2);
	if (c->r.left == 0)
		return PKT_DROP_TRUNC_L2;
	return pkt_ppp_payload(c, pkt_ppp_proto(&c->r));
}

/* Cisco HDLC: address (0x0f / 0x8f), control, ethertype. */
static enum pkt_drop pkt_chdlc(struct pkt_ctx *c)
{
	uint16_t et;

	rd_skip(&c->r, 2);
	et = rd_u16(&c->r);
	if (c->r.bad)
		return PKT_DROP_TRUNC_L2;
	return pkt_ether_type(c, et);
}

static enum pkt_drop pkt_raw(struct pkt_ctx *c)
{
	return pkt_ip_guess(c, PKT_DROP_BAD_IP);
}

static enum pkt_drop pkt_raw4(struct pkt_ctx *c)
{
	return pkt_ipv4(c);
}

static enum pkt_drop pkt_raw6(struct pkt_ctx *c)
{
	return pkt_ipv6(c);
}

static const struct {
	int dlt;
	enum pkt_drop (*fn)(struct pkt_ctx *);
} pkt_links[] = {
	{ PKT_DLT_EN10MB, pkt_en10mb },
	{ PKT_DLT_LINUX_SLL, pkt_sll },
	{ PKT_DLT_LINUX_SLL2, pkt_sll2 },
	{ PKT_DLT_RAW, pkt_raw },
	{ PKT_DLT_RAW_BSD, pkt_raw },
	{ PKT_DLT_LINKTYPE_RAW, pkt_raw },
	{ PKT_DLT_IPV4, pkt_raw4 },
	{ PKT_DLT_IPV6, pkt_raw6 },
	{ PKT_DLT_NULL, pkt_null },
	{ PKT_DLT_LOOP, pkt_null },
	{ PKT_DLT_PPP, pkt_ppp },
	{ PKT_DLT_PPP_SERIAL, pkt_ppp },
	{ PKT_DLT_C_HDLC, pkt_chdlc },
};

/*
 * Tunnels.  Behaviour of pmacct 1.7.7, checked on crafted captures and
 * sFlow samples (sfacctd; its pmacctd aborts with "double free or
 * corruption" on every packet once a tunnel_* primitive is aggregated):
 *
 * - tunnel_* primitives: the first tunnel of a packet, the outer headers
 *   staying the flow.  VXLAN is UDP to port 4789 with the I flag set
 *   (RFC 7348 5): vxlan = VNI, tunnel MACs from the inner Ethernet, then
 *   through 802.1Q tags to IPv4/IPv6.  IPv4 in IPv4 or IPv6 (protocol 4).
 *   No deeper tunnel.  An inner IPv4 header cut short: addresses 0.0.0.0,
 *   protocol and ToS 0; an inner L4 header cut short or a later fragment:
 *   ports 0.  Ours: IPv6 in IPv4/IPv6 (41) and GRE (47: IPv4, IPv6,
 *   Ethernet), which 1.7.7 leaves empty.
 * - tunnel_0 "gtp, <port>": UDP to <port> (destination only); GTP version
 *   0 has a 4-byte header, version 1 an 8-byte one, others are refused;
 *   the inner packet is taken at the end of that header or 4 bytes after
 *   it, whichever first starts with 0x45-0x4f (IPv4) or 0x60-0x6f (IPv6)
 *   and decodes (this skips the sequence number and N-PDU fields, not
 *   extension headers); a matched packet with none is not accounted.
 *   Tunnels inside are looked into again.  Ours: GTP over IPv6 (1.7.7 only
 *   over IPv4), IPv6 inner packets (1.7.7 records a garbled IPv4 address
 *   and 0 bytes), and the vxlan, gre and ipip entries.
 */

/* The inner packet of a tunnel, IPv4 (v 4) or IPv6 (v 6), into the key's tunnel block. */
static void tun_ip(struct flow_key *k, struct rd p, int v)
{
	struct flow_rec in;
	struct pkt_ctx c = { .caplen = p.left, .r = p, .rec = &in };
	enum pkt_drop d;

	/* only what the IP decoders read or may leave unwritten (an IPv4 address's 12 last bytes) */
	memset(&in.k.src_ip, 0, sizeof(in.k.src_ip));
	memset(&in.k.dst_ip, 0, sizeof(in.k.dst_ip));
	in.k.proto = 0;
	in.k.tos = 0;
	in.k.src_port = in.k.dst_port = 0;
	in.flags = 0;
	k->tunnel_src_ip.af = k->tunnel_dst_ip.af = (uint8_t)v;
	d = v == 4 ? pkt_ipv4(&c) : pkt_ipv6(&c);
	if (d != PKT_DROP_NONE)
		return;		/* as 1.7.7: the family's zero address */
	k->tunnel_src_ip = in.k.src_ip;
	k->tunnel_dst_ip = in.k.dst_ip;
	k->tunnel_proto = in.k.proto;
	k->tunnel_tos = in.k.tos;
	k->tunnel_src_port = in.k.src_port;
	k->tunnel_dst_port = in.k.dst_port;
}

/* An inner Ethernet frame (VXLAN, GRE 0x6558): MACs, 802.1Q tags, then IP. */
static void tun_ether(struct flow_key *k, struct rd p)
{
	uint16_t et;

	if (p.left < 14)
		return;
	rd_copy(&p, k->tunnel_dst_mac, 6);
	rd_copy(&p, k->tunnel_src_mac, 6);
	et = rd_u16(&p);
	while ((et == ETH_8021Q || et == ETH_8021AD || et == ETH_QINQ_OLD) && !p.bad) {
		rd_skip(&p, 2);
		et = rd_u16(&p);
	}
	if (p.bad)
		return;
	if (et == ETH_IPV4)
		tun_ip(k, p, 4);
	else if (et == ETH_IPV6)
		tun_ip(k, p, 6);
}

/*
 * A GRE header (RFC 2784 2.1, RFC 2890 2): C, K and S add 4 bytes each;
 * version 0 only, no RFC 1701 routing.  Leaves p at the payload and its
 * protocol type in *et; false when unusable.
 */
static bool tun_gre(struct rd *p, uint16_t *et)
{
	uint16_t fl = rd_u16(p);

	*et = rd_u16(p);
	if (p->bad || (fl & 0x4007))
		return false;
	rd_skip(p, (size_t)(!!(fl & 0x8000) + !!(fl & 0x2000) + !!(fl & 0x1000)) * 4);
	return !p->bad;
}

/* The VXLAN header (RFC 7348 5): flags with I (0x08) set, 24 reserved bits, VNI, 8 reserved. */
static bool tun_vxlan(struct rd *p, uint32_t *vni)
{
	uint8_t fl = rd_u8(p);

	rd_skip(p, 3);
	*vni = rd_u32(p) >> 8;
	return !p->bad && (fl & 0x08);
}

/* The tunnel_* primitives from the first tunnel; p is at the outer L4 header. */
static void tun_prims(struct flow_rec *rec, struct rd p)
{
	struct flow_key *k = &rec->k;
	uint32_t vni;
	uint16_t et;

	switch (k->proto) {
	case IPP_UDP:
		if (!(rec->flags & FR_F_L4_OK) || k->dst_port != 4789)
			return;
		rd_skip(&p, 8);
		if (!tun_vxlan(&p, &vni))
			return;
		k->vxlan = vni;
		tun_ether(k, p);
		return;
	case IPP_IPIP:
		tun_ip(k, p, 4);
		return;
	case IPP_IPV6:
		tun_ip(k, p, 6);
		return;
	case IPP_GRE:
		if (!tun_gre(&p, &et))
			return;
		if (et == ETH_TEB)
			tun_ether(k, p);
		else if (et == ETH_IPV4)
			tun_ip(k, p, 4);
		else if (et == ETH_IPV6)
			tun_ip(k, p, 6);
		return;
	default:
		return;
	}
}

/* Account the packet at p instead: IPv4 (v 4), IPv6 (v 6), Ethernet (v 0). */
static enum pkt_drop tun_enter(struct pkt_ctx *c, struct rd p, int v)
{
	struct flow_rec *rec = c->rec;
	uint16_t l3_off = rec->l3_off;	/* the frame's own IP header, for sfprobe */
	enum pkt_drop d;

	rec->k.src_port = rec->k.dst_port = 0;
	rec->k.proto = rec->k.tos = 0;
	rec->flags &= (uint8_t)~(FR_F_FRAG | FR_F_LATER_FRAG | FR_F_L4_OK);
	rec->tcp_flags = 0;
	rec->frag_id = 0;
	c->r = p;
	c->depth++;
	if (v == 4) {
		d = pkt_ipv4(c);
	} else if (v == 6) {
		d = pkt_ipv6(c);
	} else {
		rd_copy(&c->r, rec->k.dst_mac, 6);
		rd_copy(&c->r, rec->k.src_mac, 6);
		uint16_t et = rd_u16(&c->r);
		d = c->r.bad ? PKT_DROP_TUNNEL : pkt_ether_type(c, et);
	}
	rec->l3_off = l3_off;
	return d == PKT_DROP_NONE ? d : PKT_DROP_TUNNEL;
}

/* The IP version pmacct's GTP decoding guesses from a first byte; 0 if neither. */
static int gtp_guess(const struct rd *p)
{
	uint8_t b;

	if (p->left == 0)
		return 0;
	b = rd_peek8(p);
	if (b >= 0x45 && b <= 0x4f)
		return 4;
	if (b >> 4 == 6)
		return 6;
	return 0;
}

/* A GTP-U payload (3GPP TS 29.281 5.1; TS 29.060 for version 0), see above. */
static enum pkt_drop tun_gtp(struct pkt_ctx *c, struct rd p)
{
	size_t hl;

	if (p.left == 0)
		return PKT_DROP_TUNNEL;
	switch (rd_peek8(&p) >> 5) {
	case 0: hl = 4; break;
	case 1: hl = 8; break;
	default: return PKT_DROP_TUNNEL;
	}
	if (p.left <= hl)
		return PKT_DROP_TUNNEL;
	rd_skip(&p, hl);
	for (int trial = 0; trial < 2; trial++, rd_skip(&p, 4)) {
		int v = gtp_guess(&p);
		if (v && tun_enter(c, p, v) == PKT_DROP_NONE)
			return PKT_DROP_NONE;
	}
	return PKT_DROP_TUNNEL;
}

/* Whether tunnel_0 entry e matches the packet decoded so far. */
static bool tun_match(const struct flow_rec *rec, uint8_t proto, uint16_t port)
{
	switch (proto) {
	case PKT_TUN_GTP:
	case PKT_TUN_VXLAN:
		return rec->k.proto == IPP_UDP && (rec->flags & FR_F_L4_OK) &&
		    rec->k.dst_port == port;
	case PKT_TUN_GRE:
		return rec->k.proto == IPP_GRE;
	case PKT_TUN_IPIP:
		return rec->k.proto == IPP_IPIP || rec->k.proto == IPP_IPV6;
	default:
		return false;
	}
}

/*
 * The L4 header (l4 at it), then, when tunnels are looked into: the tunnel
 * primitives of the first tunnel, then tunnel_0's entries.
 */
static enum pkt_drop pkt_tunnel(struct pkt_ctx *c, struct rd l4)
{
	struct flow_rec *rec = c->rec;
	const struct pkt_tun *t = c->tun;
	uint32_t vni;
	uint16_t et;

	pkt_l4(l4, rec);
	if (t->prims && c->depth == 0)
		tun_prims(rec, l4);
	if (c->depth >= PKT_TUN_MAX)
		return PKT_DROP_NONE;
	for (int i = 0; i < t->n; i++) {
		if (!tun_match(rec, t->e[i].proto, t->e[i].port))
			continue;
		switch (t->e[i].proto) {
		case PKT_TUN_GTP:
			rd_skip(&l4, 8);
			return tun_gtp(c, l4);
		case PKT_TUN_VXLAN:
			rd_skip(&l4, 8);
			if (!tun_vxlan(&l4, &vni))
				return PKT_DROP_TUNNEL;
			return tun_enter(c, l4, 0);
		case PKT_TUN_GRE:
			if (!tun_gre(&l4, &et))
				return PKT_DROP_TUNNEL;
			if (et == ETH_TEB)
				return tun_enter(c, l4, 0);
			if (et != ETH_IPV4 && et != ETH_IPV6)
				return PKT_DROP_TUNNEL;
			return tun_enter(c, l4, et == ETH_IPV4 ? 4 : 6);
		default:
			return tun_enter(c, l4, rec->k.proto == IPP_IPIP ? 4 : 6);
		}
	}
	return PKT_DROP_NONE;
}

bool pkt_dlt_supported(int dlt)
{
	for (size_t i = 0; i < NELEM(pkt_links); i++)
		if (pkt_links[i].dlt == dlt)
			return true;
	return false;
}

/* The decoder proper; inlined into each entry point so the plain ones pay no extra call. */
static inline enum pkt_drop decode(int dlt, const uint8_t *frame, size_t caplen,
    const struct pkt_tun *tun, struct flow_rec *rec, struct pkt_stats *st)
{
	struct pkt_ctx c;
	enum pkt_drop d = PKT_DROP_LINKTYPE;

	fr_clear_hot(rec);
	rec->packets = 1;
	c.caplen = caplen;
	c.r = rd_make(frame, caplen);
	c.rec = rec;
	c.tags = 0;
	c.tun = tun;
	c.depth = 0;
	for (size_t i = 0; i < NELEM(pkt_links); i++) {
		if (pkt_links[i].dlt == dlt) {
			d = pkt_links[i].fn(&c);
			break;
		}
	}
	if (d == PKT_DROP_NONE)
		st->decoded++;
	else
		st->drops[d]++;
	return d;
}

/* pmacct counts the IP length field, not the wire length: wirelen is not used. */
enum pkt_drop pkt_decode(int dlt, const uint8_t *frame, size_t caplen,
    size_t wirelen, struct flow_rec *rec, struct pkt_stats *st)
{
	(void)wirelen;
	memset((uint8_t *)&rec->k + FR_KEY_COLD, 0, FR_KEY_BGP - FR_KEY_COLD);
	return decode(dlt, frame, caplen, NULL, rec, st);
}

enum pkt_drop pkt_decode_full(int dlt, const uint8_t *frame, size_t caplen,
    size_t wirelen, const struct pkt_tun *tun, struct flow_rec *rec, struct pkt_stats *st)
{
	(void)wirelen;
	memset((uint8_t *)&rec->k + FR_KEY_COLD, 0, FR_KEY_BGP - FR_KEY_COLD);
	return decode(dlt, frame, caplen, tun, rec, st);
}

enum pkt_drop pkt_decode_hot(int dlt, const uint8_t *frame, size_t caplen,
    size_t wirelen, struct flow_rec *rec, struct pkt_stats *st)
{
	(void)wirelen;
	return decode(dlt, frame, caplen, NULL, rec, st);
}

enum pkt_drop pkt_decode_tun(int dlt, const uint8_t *frame, size_t caplen,
    size_t wirelen, const struct pkt_tun *tun, struct flow_rec *rec, struct pkt_stats *st)
{
	(void)wirelen;
	if (tun && tun->prims)
		memset((uint8_t *)&rec->k + FR_KEY_TUN, 0, FR_KEY_TUN_LEN);
	return decode(dlt, frame, caplen, tun, rec, st);
}
