/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_tunnel.c: pkt_decode_tun() on hand-built frames (VXLAN, GTP-U, GRE,
 * IP in IP): the tunnel_* primitives, tunnel_0's inner accounting, every
 * cut of every frame in bounds; the tunnel_0 key's syntax; the key's
 * tunnel block and the primitives' table rows.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/keys.h"
#include "decode/packet.h"
#include "model/prim.h"
#include "tap.h"

#include "bytebuf.h"

static const uint8_t omac_d[6] = { 0, 0, 0, 0, 0, 2 };
static const uint8_t omac_s[6] = { 0, 0, 0, 0, 0, 1 };
static const uint8_t imac_d[6] = { 2, 0, 0, 0, 0, 0x0b };
static const uint8_t imac_s[6] = { 2, 0, 0, 0, 0, 0x0a };
static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 };
static const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 };

static void eth(struct buf *f, const uint8_t *d, const uint8_t *s, uint16_t type)
{
	bytes(f, d, 6);
	bytes(f, s, 6);
	u16(f, type);
}

/* IPv4 header a -> b (last octets of 192.0.2.x when outer, 10.0.0.x when inner). */
static void ip4(struct buf *f, uint8_t proto, uint16_t tot, uint8_t tos, uint32_t src, uint32_t dst)
{
	u8(f, 0x45);
	u8(f, tos);
	u16(f, tot);
	u16(f, 1);
	u16(f, 0);
	u8(f, 64);
	u8(f, proto);
	u16(f, 0);
	u32(f, src);
	u32(f, dst);
}

static void ip6(struct buf *f, uint8_t nh, uint16_t plen, uint8_t tc)
{
	u32(f, 0x60000000u | (uint32_t)tc << 20);
	u16(f, plen);
	u8(f, nh);
	u8(f, 64);
	bytes(f, v6a, 16);
	bytes(f, v6b, 16);
}

static void udp(struct buf *f, uint16_t sport, uint16_t dport, uint16_t len)
{
	u16(f, sport);
	u16(f, dport);
	u16(f, len);
	u16(f, 0);
}

static void tcp(struct buf *f, uint16_t sport, uint16_t dport)
{
	u16(f, sport);
	u16(f, dport);
	u32(f, 1);
	u32(f, 0);
	u8(f, 0x50);
	u8(f, 0x18);
	u16(f, 8192);
	u32(f, 0);
}

#define OUT_SRC 0xc0000201u	/* 192.0.2.1 */
#define OUT_DST 0xc0000202u
#define IN_SRC 0x0a000001u	/* 10.0.0.1 */
#define IN_DST 0x0a000002u

/* The inner packet every tunnel carries: 10.0.0.1:1000 -> 10.0.0.2:80 TCP, tos 16, 50 bytes payload. */
static void inner4(struct buf *f)
{
	ip4(f, 6, 90, 16, IN_SRC, IN_DST);
	tcp(f, 1000, 80);
	for (int i = 0; i < 50; i++)
		u8(f, 'x');
}

static void vxlan_frame(struct buf *f, uint16_t dport, uint8_t flags, uint32_t vni)
{
	eth(f, omac_d, omac_s, 0x0800);
	ip4(f, 17, 20 + 8 + 8 + 14 + 90, 32, OUT_SRC, OUT_DST);
	udp(f, 40000, dport, 8 + 8 + 14 + 90);
	u8(f, flags);
	u24(f, 0);
	u32(f, vni << 8);
	eth(f, imac_d, imac_s, 0x0800);
	inner4(f);
}

static void gtp_frame(struct buf *f, uint8_t flags, uint8_t type, bool seq)
{
	eth(f, omac_d, omac_s, 0x0800);
	ip4(f, 17, 20 + 8 + 8 + (seq ? 4 : 0) + 90, 32, OUT_SRC, OUT_DST);
	udp(f, 40001, 2152, 8 + 8 + (seq ? 4 : 0) + 90);
	u8(f, flags);
	u8(f, type);
	u16(f, 90 + (seq ? 4 : 0));
	u32(f, 7);		/* TEID */
	if (seq)
		u32(f, 0x00050000);	/* sequence number, N-PDU, next extension 0 */
	inner4(f);
}

static enum pkt_drop dec(const struct buf *f, const struct pkt_tun *t, struct flow_rec *r)
{
	struct pkt_stats st;

	memset(&st, 0, sizeof(st));
	memset(r, 0, sizeof(*r));
	return pkt_decode_tun(1, f->b, f->n, f->n, t, r, &st);
}

static bool v4is(const struct fr_ip *ip, uint32_t a)
{
	uint8_t b[4] = { (uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a };
	return ip->af == 4 && memcmp(ip->a, b, 4) == 0;
}

static bool tun_inner4(const struct flow_key *k)
{
	return v4is(&k->tunnel_src_ip, IN_SRC) && v4is(&k->tunnel_dst_ip, IN_DST) &&
	    k->tunnel_proto == 6 && k->tunnel_tos == 16 && k->tunnel_src_port == 1000 &&
	    k->tunnel_dst_port == 80;
}

static bool outer_flow(const struct flow_rec *r, uint8_t proto)
{
	return v4is(&r->k.src_ip, OUT_SRC) && v4is(&r->k.dst_ip, OUT_DST) && r->k.proto == proto &&
	    r->k.tos == 32;
}

static bool tun_empty(const struct flow_key *k)
{
	static const uint8_t zero[256];
	return memcmp((const uint8_t *)k + FR_KEY_TUN, zero, FR_KEY_TUN_LEN) == 0;
}

static const struct pkt_tun prims = { true, 0, { { 0, 0 } } };

/* Fill the stack below the caller with 0xa5, so that a decoder reading unset bytes shows it. */
static void __attribute__((noinline)) dirty_stack(void)
{
	volatile uint8_t junk[32768];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = 0xa5;
}

/* An IPv4 address as a key holds it: 4 bytes, the rest zero (the key is compared bytewise). */
static bool clean_v4(const struct fr_ip *ip)
{
	static const uint8_t zero[16];
	return ip->af == 4 && !memcmp(ip->pad, zero, sizeof(ip->pad)) && !memcmp(ip->a + 4, zero, 12);
}

static void test_prims(void)
{
	struct buf f = { .n = 0 };
	struct flow_rec r;

	vxlan_frame(&f, 4789, 0x08, 42);
	ok(dec(&f, &prims, &r) == PKT_DROP_NONE && outer_flow(&r, 17) && r.k.dst_port == 4789 &&
	    r.bytes == 20 + 8 + 8 + 14 + 90, "vxlan: the outer headers are the flow");
	ok(tun_inner4(&r.k) && r.k.vxlan == 42 && !memcmp(r.k.tunnel_src_mac, imac_s, 6) &&
	    !memcmp(r.k.tunnel_dst_mac, imac_d, 6), "vxlan: VNI, inner MACs, addresses, proto, tos, ports");
	ok(dec(&f, NULL, &r) == PKT_DROP_NONE && tun_empty(&r.k), "no tunnel config: block untouched");
	dirty_stack();
	ok(dec(&f, &prims, &r) == PKT_DROP_NONE && clean_v4(&r.k.tunnel_src_ip) &&
	    clean_v4(&r.k.tunnel_dst_ip), "tunnel addresses: no byte beyond the IPv4 address set");

	f.n = 0;
	vxlan_frame(&f, 4789, 0x00, 43);
	ok(dec(&f, &prims, &r) == PKT_DROP_NONE && tun_empty(&r.k), "vxlan without the I flag: nothing");
	f.n = 0;
	vxlan_frame(&f, 4790, 0x08, 44);
	ok(dec(&f, &prims, &r) == PKT_DROP_NONE && tun_empty(&r.k), "UDP to 4790: not vxlan");

	/* inner IPv4 cut after 10 bytes: the family's zero address, as 1.7.7 */
	f.n = 0;
	vxlan_frame(&f, 4789, 0x08, 11);
	f.n = 14 + 20 + 8 + 8 + 14 + 10;
	ok(dec(&f, &prims, &r) == PKT_DROP_NONE && r.k.tunnel_src_ip.af == 4 &&
	    v4is(&r.k.tunnel_src_ip, 0) && r.k.tunnel_proto == 0 && r.k.vxlan == 11 &&
	    !memcmp(r.k.tunnel_src_mac, imac_s, 6), "vxlan, inner IP cut: 0.0.0.0, MACs and VNI kept");
	/* inner L4 cut: ports 0 */
	f.n = 14 + 20 + 8 + 8 + 14 + 22;
	ok(dec(&f, &prims, &r) == PKT_DROP_NONE && v4is(&r.k.tunnel_src_ip, IN_SRC) &&
	    r.k.tunnel_proto == 6 && r.k.tunnel_src_port == 0, "vxlan, inner L4 cut: ports 0");

	/* IPv4 in IPv4 */
	f.n = 0;
	eth(&f, omac_d, omac_s, 0x0800);
	ip4(&f, 4, 20 + 90, 32, OUT_SRC, OUT_DST);
	inner4(&f);
	ok(dec(&f, &prims, &r) == PKT_DROP_NONE && outer_flow(&r, 4) && tun_inner4(&r.k) &&
	    r.k.vxlan == 0, "IPv4 in IPv4");
	/* IPv4 in IPv6 */
	f.n = 0;
	eth(&f, omac_d, omac_s, 0x86dd);
	ip6(&f, 4, 90, 0);
	inner4(&f);
	ok(dec(&f, &prims, &r) == PKT_DROP_NONE && r.k.src_ip.af == 6 && tun_inner4(&r.k), "IPv4 in IPv6");
	/* IPv6 in IPv4 (ours) */
	f.n = 0;
	eth(&f, omac_d, omac_s, 0x0800);
	ip4(&f, 41, 20 + 40 + 8, 32, OUT_SRC, OUT_DST);
	ip6(&f, 17, 8, 0x28);
	udp(&f, 7, 8, 8);
	ok(dec(&f, &prims, &r) == PKT_DROP_NONE && outer_flow(&r, 41) &&
	    r.k.tunnel_src_ip.af == 6 && !memcmp(r.k.tunnel_src_ip.a, v6a, 16) &&
	    r.k.tunnel_proto == 17 && r.k.tunnel_tos == 0x28 && r.k.tunnel_dst_port == 8, "IPv6 in IPv4");
	/* GRE with key and sequence number, IPv4 payload (ours) */
	f.n = 0;
	eth(&f, omac_d, omac_s, 0x0800);
	ip4(&f, 47, 20 + 12 + 90, 32, OUT_SRC, OUT_DST);
	u16(&f, 0x3000);
	u16(&f, 0x0800);
	u32(&f, 5);
	u32(&f, 1);
	inner4(&f);
	ok(dec(&f, &prims, &r) == PKT_DROP_NONE && outer_flow(&r, 47) && tun_inner4(&r.k), "GRE K S, IPv4");
	/* GRE with routing present: not looked into */
	f.b[14 + 20] = 0x40;
	ok(dec(&f, &prims, &r) == PKT_DROP_NONE && tun_empty(&r.k), "GRE with R: nothing");
	/* GRE transparent Ethernet bridging */
	f.n = 0;
	eth(&f, omac_d, omac_s, 0x0800);
	ip4(&f, 47, 20 + 4 + 14 + 90, 32, OUT_SRC, OUT_DST);
	u16(&f, 0);
	u16(&f, 0x6558);
	eth(&f, imac_d, imac_s, 0x0800);
	inner4(&f);
	ok(dec(&f, &prims, &r) == PKT_DROP_NONE && tun_inner4(&r.k) &&
	    !memcmp(r.k.tunnel_src_mac, imac_s, 6), "GRE, Ethernet payload");
}

static void test_tunnel_0(void)
{
	struct pkt_tun gtp = { false, 1, { { PKT_TUN_GTP, 2152 } } };
	struct buf f = { .n = 0 };
	struct flow_rec r;

	gtp_frame(&f, 0x30, 0xff, false);
	ok(dec(&f, &gtp, &r) == PKT_DROP_NONE && v4is(&r.k.src_ip, IN_SRC) && r.k.proto == 6 &&
	    r.k.tos == 16 && r.k.src_port == 1000 && r.k.dst_port == 80 && r.bytes == 90 &&
	    !memcmp(r.k.src_mac, omac_s, 6) && r.l3_off == 14, "gtp: the inner packet, outer MACs");
	ok(dec(&f, NULL, &r) == PKT_DROP_NONE && outer_flow(&r, 17), "no tunnel_0: the outer packet");
	f.n = 0;
	gtp_frame(&f, 0x32, 0xff, true);
	ok(dec(&f, &gtp, &r) == PKT_DROP_NONE && v4is(&r.k.src_ip, IN_SRC), "gtp with S: 4 bytes skipped");
	f.n = 0;
	gtp_frame(&f, 0x50, 0xff, false);
	ok(dec(&f, &gtp, &r) == PKT_DROP_TUNNEL, "gtp version 2: not accounted");
	f.n = 0;
	gtp_frame(&f, 0x30, 0x01, false);
	f.n = 14 + 20 + 8 + 8;
	ok(dec(&f, &gtp, &r) == PKT_DROP_TUNNEL, "gtp echo without payload: not accounted");
	/* an extension header: the inner packet is 8 bytes in, past pmacct's two guesses */
	f.n = 0;
	eth(&f, omac_d, omac_s, 0x0800);
	ip4(&f, 17, 20 + 8 + 16 + 90, 32, OUT_SRC, OUT_DST);
	udp(&f, 40001, 2152, 8 + 16 + 90);
	u32(&f, 0x34ff0000 | (8 + 90));
	u32(&f, 7);
	u32(&f, 0x00000085);
	u32(&f, 0x01000500);
	inner4(&f);
	ok(dec(&f, &gtp, &r) == PKT_DROP_TUNNEL, "gtp with an extension header: not accounted (as 1.7.7)");
	/* source port only: not GTP */
	f.n = 0;
	gtp_frame(&f, 0x30, 0xff, false);
	put16_at(&f, 14 + 20, 2152);
	put16_at(&f, 14 + 20 + 2, 40001);
	ok(dec(&f, &gtp, &r) == PKT_DROP_NONE && outer_flow(&r, 17), "UDP from 2152: outer");
	/* nested: GTP in GTP, accounted on the innermost */
	f.n = 0;
	eth(&f, omac_d, omac_s, 0x0800);
	ip4(&f, 17, 20 + 8 + 8 + 20 + 8 + 8 + 90, 32, OUT_SRC, OUT_DST);
	udp(&f, 1, 2152, 8 + 8 + 20 + 8 + 8 + 90);
	u32(&f, 0x30ff0000 | (20 + 8 + 8 + 90));
	u32(&f, 7);
	ip4(&f, 17, 20 + 8 + 8 + 90, 0, 0x0a090001, 0x0a090002);
	udp(&f, 1, 2152, 8 + 8 + 90);
	u32(&f, 0x30ff0000 | 90);
	u32(&f, 8);
	inner4(&f);
	ok(dec(&f, &gtp, &r) == PKT_DROP_NONE && v4is(&r.k.src_ip, IN_SRC) && r.bytes == 90,
	    "gtp in gtp: the innermost packet");

	/* ours: vxlan, gre, ipip */
	struct pkt_tun ours = { true, 3, { { PKT_TUN_VXLAN, 4789 }, { PKT_TUN_GRE, 0 }, { PKT_TUN_IPIP, 0 } } };
	f.n = 0;
	vxlan_frame(&f, 4789, 0x08, 42);
	ok(dec(&f, &ours, &r) == PKT_DROP_NONE && v4is(&r.k.src_ip, IN_SRC) && r.bytes == 90 &&
	    !memcmp(r.k.src_mac, imac_s, 6) && r.k.vxlan == 42 && tun_inner4(&r.k),
	    "tunnel_0 vxlan: inner MACs and packet; the primitives still describe the tunnel");
	f.n = 0;
	eth(&f, omac_d, omac_s, 0x0800);
	ip4(&f, 4, 20 + 90, 32, OUT_SRC, OUT_DST);
	inner4(&f);
	ok(dec(&f, &ours, &r) == PKT_DROP_NONE && v4is(&r.k.src_ip, IN_SRC) && r.k.src_port == 1000,
	    "tunnel_0 ipip");
	f.n = 0;
	eth(&f, omac_d, omac_s, 0x0800);
	ip4(&f, 47, 20 + 4 + 90, 32, OUT_SRC, OUT_DST);
	u16(&f, 0);
	u16(&f, 0x880b);	/* PPP: not IP */
	inner4(&f);
	ok(dec(&f, &ours, &r) == PKT_DROP_TUNNEL, "tunnel_0 gre, non-IP payload: not accounted");
}

/* Every cut of every tunnel frame, every tunnel option on: in bounds (ASan), never a crash. */
static void test_cuts(void)
{
	struct pkt_tun all = { true, 4, { { PKT_TUN_GTP, 2152 }, { PKT_TUN_VXLAN, 4789 },
		{ PKT_TUN_GRE, 0 }, { PKT_TUN_IPIP, 0 } } };
	struct buf fr[3] = { { .n = 0 } };
	size_t cuts = 0;
	struct flow_rec r;
	struct pkt_stats st;

	vxlan_frame(&fr[0], 4789, 0x08, 1);
	gtp_frame(&fr[1], 0x32, 0xff, true);
	eth(&fr[2], omac_d, omac_s, 0x86dd);
	ip6(&fr[2], 47, 4 + 40 + 90, 0);
	u16(&fr[2], 0);
	u16(&fr[2], 0x86dd);
	ip6(&fr[2], 4, 90, 0);
	inner4(&fr[2]);
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 3; i++) {
		for (size_t n = 0; n <= fr[i].n; n++) {
			uint8_t *b = malloc(n ? n : 1);
			memcpy(b, fr[i].b, n);
			pkt_decode_tun(1, b, n, fr[i].n, &all, &r, &st);
			free(b);
			cuts++;
		}
	}
	ok(cuts > 300, "%zu cuts of 3 tunnel frames decoded in bounds", cuts);
}

static void test_key(void)
{
	const struct cfg_key *k = cfg_key_lookup("tunnel_0");
	struct core_cfg cfg;
	char why[256], s[128];

	memset(&cfg, 0, sizeof(cfg));
	ok(k != NULL, "tunnel_0 is a key");
	if (!k)
		return;
	ok(cfg_key_set(k, &cfg, "gtp, 2152", why, sizeof(why)) == 0 && cfg.tunnel_0.n == 1 &&
	    cfg.tunnel_0.e[0].proto == CFG_TUN_GTP && cfg.tunnel_0.e[0].port == 2152, "gtp, 2152");
	ok(cfg_key_set(k, &cfg, " GTP ,2152 ; vxlan; gre;ipip ", why, sizeof(why)) == 0 &&
	    cfg.tunnel_0.n == 4 && cfg.tunnel_0.e[1].port == 4789, "four entries, vxlan's port 4789");
	cfg_key_str(k, &cfg, s, sizeof(s));
	is_str(s, "gtp, 2152; vxlan, 4789; gre; ipip", "written back");
	ok(cfg_key_set(k, &cfg, "gtp", why, sizeof(why)) < 0, "gtp without a port: %s", why);
	ok(cfg_key_set(k, &cfg, "l2tp, 1701", why, sizeof(why)) < 0, "unknown protocol: %s", why);
	ok(cfg_key_set(k, &cfg, "gtp, 0", why, sizeof(why)) < 0, "port 0: %s", why);
	ok(cfg_key_set(k, &cfg, "gtp, 2152x", why, sizeof(why)) < 0, "bad port: %s", why);
	ok(cfg_key_set(k, &cfg, "ipip, 4", why, sizeof(why)) < 0, "ipip with a port: %s", why);
	ok(cfg_key_set(k, &cfg, "gre;gre;gre;gre;gre", why, sizeof(why)) < 0, "five entries: %s", why);
	ok(cfg_key_set(k, &cfg, " ; ", why, sizeof(why)) < 0, "no entry: %s", why);
	ok(cfg.tunnel_0.n == 4, "a refused value leaves the setting as it was");
}

static void test_table(void)
{
	static const struct { enum prim_id id; const char *name, *title, *json; } rows[] = {
		{ P_TUNNEL_SRC_MAC, "tunnel_src_mac", "TUNNEL_SRC_MAC", "tunnel_mac_src" },
		{ P_TUNNEL_DST_MAC, "tunnel_dst_mac", "TUNNEL_DST_MAC", "tunnel_mac_dst" },
		{ P_TUNNEL_SRC_HOST, "tunnel_src_host", "TUNNEL_SRC_IP", "tunnel_ip_src" },
		{ P_TUNNEL_DST_HOST, "tunnel_dst_host", "TUNNEL_DST_IP", "tunnel_ip_dst" },
		{ P_TUNNEL_PROTO, "tunnel_proto", "TUNNEL_PROTOCOL", "tunnel_ip_proto" },
		{ P_TUNNEL_TOS, "tunnel_tos", "TUNNEL_TOS", "tunnel_tos" },
		{ P_TUNNEL_SRC_PORT, "tunnel_src_port", "TUNNEL_SRC_PORT", "tunnel_port_src" },
		{ P_TUNNEL_DST_PORT, "tunnel_dst_port", "TUNNEL_DST_PORT", "tunnel_port_dst" },
		{ P_VXLAN, "vxlan", "VXLAN", "vxlan" },
	};
	bool good = true;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct prim_desc *d = prim_desc_of(NULL, rows[i].id);
		if (strcmp(d->name, rows[i].name) || strcmp(d->title, rows[i].title) ||
		    strcmp(d->json, rows[i].json) || strcmp(d->group, "TUNNEL") ||
		    d->off < FR_KEY_TUN || d->off + d->len > FR_KEY_TUN + FR_KEY_TUN_LEN)
			good = false;
	}
	ok(good, "the 9 rows: 1.7.7's names, titles, JSON keys; fields inside the tunnel block");
	ok(FR_KEY_TUN >= FR_KEY_COLD && FR_KEY_TUN + FR_KEY_TUN_LEN <= FR_KEY_BGP,
	    "the tunnel block is in the cold tail");
}

int main(void)
{
	test_prims();
	test_tunnel_0();
	test_cuts();
	test_key();
	test_table();
	return tap_done();
}
