/* SPDX-License-Identifier: BSD-3-Clause */
/* test_bgp_msg.c: the BGP-4 decoder and encoder on hand-built messages, every RFC 7606 class, every truncation. */
#include <stdlib.h>
#include <string.h>

#include "decode/bgp_msg.h"
#include "tap.h"

#define ARR(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

/* What the NLRI callback saw. */
struct seen {
	size_t n;
	struct bgp_nlri nl[16];
};

static void on_nlri(void *arg, const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	struct seen *s = arg;
	(void)a;
	if (s->n < 16)
		s->nl[s->n++] = *n;
}

/* A growing byte buffer for building bodies from attribute vectors. */
struct buf {
	uint8_t b[4200];
	size_t n;
};

static void put(struct buf *b, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put16(struct buf *b, size_t v)
{
	b->b[b->n++] = (uint8_t)(v >> 8);
	b->b[b->n++] = (uint8_t)v;
}

/* An UPDATE body: withdrawn routes, path attributes (already concatenated in attrs), NLRI. */
static void mk_update(struct buf *out, const struct buf *wd, const struct buf *attrs,
    const struct buf *nlri)
{
	out->n = 0;
	put16(out, wd->n);
	put(out, wd->b, wd->n);
	put16(out, attrs->n);
	put(out, attrs->b, attrs->n);
	put(out, nlri->b, nlri->n);
}

/*
 * Decode a body from an exact-size heap copy (ASan sees any overread).  With
 * keep, *keep receives the copy (the attributes point into it) for the caller
 * to free; without, it is freed at once.
 */
static enum bgp_action dec_keep(const struct buf *body, size_t len, const struct bgp_session *s,
    struct bgp_attrs *a, struct seen *sn, struct bgp_error *e, uint8_t **keep)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, body->b, len);
	memset(sn, 0, sizeof(*sn));
	enum bgp_action act = bgp_decode_update(copy, len, s, a, on_nlri, sn, e);
	if (keep)
		*keep = copy;
	else
		free(copy);
	return act;
}

static enum bgp_action dec(const struct buf *body, size_t len, const struct bgp_session *s,
    struct bgp_attrs *a, struct seen *sn, struct bgp_error *e)
{
	return dec_keep(body, len, s, a, sn, e, NULL);
}

static const uint8_t A_ORIGIN[] = { 0x40, 1, 1, 0 };
static const uint8_t A_PATH4[] = { 0x40, 2, 20, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea,
	1, 2, 0, 0, 0, 1, 0, 0, 0, 2 };
static const uint8_t A_NH[] = { 0x40, 3, 4, 192, 0, 2, 1 };

static void test_header(void)
{
	uint8_t m[4200];
	struct bgp_error e;
	struct bgp_msg msg;
	memset(m, 0xff, 16);
	m[16] = 0; m[17] = 19; m[18] = BGP_KEEPALIVE;
	is_int(bgp_msg_need(m, 18, false, &e), 0, "18 bytes: need more");
	is_int(bgp_msg_need(m, 19, false, &e), 19, "KEEPALIVE needs 19");
	ok(bgp_decode_header(m, 19, false, &msg, &e) && msg.type == 4 && msg.body_len == 0,
	    "KEEPALIVE decodes");
	m[3] = 0xfe;
	ok(bgp_msg_need(m, 19, false, &e) == -1 && e.code == 1 && e.subcode == 1 &&
	    e.action == BGP_ACT_SESSION_RESET, "bad marker: 1/1 session reset");
	m[3] = 0xff;
	m[17] = 18;
	ok(bgp_msg_need(m, 19, false, &e) == -1 && e.code == 1 && e.subcode == 2, "length 18: 1/2");
	m[17] = 20;
	ok(bgp_msg_need(m, 19, false, &e) == -1 && e.subcode == 2, "KEEPALIVE of 20: 1/2");
	m[18] = BGP_UPDATE;
	m[16] = 0x10; m[17] = 0x01; /* 4097 */
	ok(bgp_msg_need(m, 19, false, &e) == -1 && e.subcode == 2, "4097 without RFC 8654: 1/2");
	is_int(bgp_msg_need(m, 19, true, &e), 4097, "4097 with extended messages");
	m[16] = 0; m[17] = 23;
	is_int(bgp_msg_need(m, 19, false, &e), 23, "UPDATE of 23 needs 23");
	ok(!bgp_decode_header(m, 22, false, &msg, &e) && e.subcode == 2, "short buffer refused");
	m[18] = BGP_OPEN; m[16] = 0x10; m[17] = 0x01;
	ok(bgp_msg_need(m, 19, true, &e) == -1 && e.subcode == 2, "OPEN of 4097 refused even with RFC 8654");
	m[16] = 0; m[17] = 23;
	m[18] = 6;
	ok(bgp_msg_need(m, 19, false, &e) == -1 && e.subcode == 3, "type 6: 1/3");
	m[18] = BGP_OPEN;
	ok(bgp_msg_need(m, 19, false, &e) == -1 && e.subcode == 2, "OPEN of 23: too short");
}

/* An IOS-XR-like OPEN: AS 65001, hold 180, id 10.0.0.1, many capabilities, some per parameter. */
static const uint8_t XR_OPEN[] = { 4, 0xfd, 0xe9, 0, 180, 10, 0, 0, 1, 93,
	2, 6, 1, 4, 0, 1, 0, 1,
	2, 6, 1, 4, 0, 2, 0, 1,
	2, 6, 1, 4, 0, 1, 0, 128,
	2, 6, 1, 4, 0, 2, 0, 128,
	2, 2, 128, 0,
	2, 2, 2, 0,
	2, 2, 70, 0,
	2, 6, 65, 4, 0, 0, 0xfd, 0xe9,
	2, 14, 69, 12, 0, 1, 1, 3, 0, 2, 1, 1, 0, 1, 128, 2,
	2, 8, 5, 6, 0, 1, 0, 1, 0, 2,
	2, 4, 64, 2, 0x80, 120,
	2, 2, 6, 0,
	2, 3, 73, 1, 'x' };

static void test_open(void)
{
	struct bgp_open o;
	struct bgp_error e;
	ok(bgp_decode_open(XR_OPEN, sizeof(XR_OPEN), &o, &e), "IOS-XR-like OPEN decodes");
	ok(o.version == 4 && o.my_as == 65001 && o.hold_time == 180 && o.bgp_id == 0x0a000001,
	    "fixed fields");
	is_int(o.n_mp, 4, "4 MP families");
	ok(o.mp[2].afi == 1 && o.mp[2].safi == 128 && o.mp[3].afi == 2, "VPNv4 and VPNv6 offered");
	ok(o.route_refresh && o.enhanced_rr && o.ext_msg, "route refresh, enhanced RR, ext msg");
	ok(o.has_as4 && o.as4 == 65001, "4-octet AS");
	ok(o.n_addpath == 3 && o.addpath[0].extra == 3 && o.addpath[1].afi == 2 &&
	    o.addpath[2].safi == 128 && o.addpath[2].extra == 2, "ADD-PATH triples");
	ok(o.n_enh == 1 && o.enh[0].afi == 1 && o.enh[0].extra == 2, "IPv4 over IPv6 next hop");
	ok(o.graceful_restart && o.gr_time == 120, "graceful restart 120 s");
	is_int(o.n_unknown, 1, "FQDN skipped as unknown");
	uint8_t b[sizeof(XR_OPEN)];
	memcpy(b, XR_OPEN, sizeof(b));
	b[0] = 3;
	ok(!bgp_decode_open(b, sizeof(b), &o, &e) && e.code == 2 && e.subcode == 1, "version 3: 2/1");
	b[0] = 4; b[3] = 0; b[4] = 2;
	ok(!bgp_decode_open(b, sizeof(b), &o, &e) && e.subcode == 6, "hold time 2: 2/6");
	b[4] = 0;
	ok(bgp_decode_open(b, sizeof(b), &o, &e), "hold time 0 accepted");
	b[9] = 94;
	ok(!bgp_decode_open(b, sizeof(b), &o, &e) && e.action == BGP_ACT_SESSION_RESET,
	    "parameters length short of the body: reset");
	b[9] = 93; b[10] = 3;
	ok(!bgp_decode_open(b, sizeof(b), &o, &e) && e.subcode == 4, "parameter type 3: 2/4");
	b[10] = 2; b[59] = 1; /* the 4-octet AS capability says 0x1fde9 */
	ok(!bgp_decode_open(b, sizeof(b), &o, &e) && e.subcode == 2, "My AS != 4-octet AS: 2/2");
	for (size_t cut = 0; cut < sizeof(XR_OPEN); cut++)
		ok(!bgp_decode_open(XR_OPEN, cut, &o, &e), "OPEN cut at %zu refused", cut);
	/* RFC 9072: 255, 255, 2-byte length, then 2-byte parameter lengths */
	static const uint8_t EXT[] = { 4, 0x5b, 0xa0, 0, 90, 10, 0, 0, 2, 255, 255, 0, 9,
		2, 0, 6, 65, 4, 0, 1, 0x11, 0x70 };
	ok(bgp_decode_open(EXT, sizeof(EXT), &o, &e) && o.ext_opt_params && o.as4 == 70000,
	    "RFC 9072 extended optional parameters");
}

static void test_encode(void)
{
	uint8_t m[256];
	struct bgp_msg msg;
	struct bgp_open o;
	struct bgp_error e;
	struct bgp_open_cfg c = { 70000, 90, 0x0a000009, true, true, true, true, true, true, 0xff,
		true, false };
	size_t n = bgp_encode_open(&c, m, sizeof(m));
	ok(n > 29 && bgp_msg_need(m, n, false, &e) == (long)n, "OPEN encoded, header length right");
	ok(bgp_decode_header(m, n, false, &msg, &e) && msg.type == BGP_OPEN, "header decodes");
	ok(bgp_decode_open(msg.body, msg.body_len, &o, &e), "encoded OPEN decodes");
	ok(o.my_as == BGP_AS_TRANS && o.has_as4 && o.as4 == 70000 && o.hold_time == 90 &&
	    o.bgp_id == 0x0a000009, "AS_TRANS + 4-octet AS, hold, id");
	ok(o.n_mp == 4 && o.n_addpath == 4 && o.addpath[3].extra == 1 && o.route_refresh,
	    "4 families, ADD-PATH receive each, route refresh");
	ok(o.n_enh == 2 && o.enh[1].safi == 128 && o.enh[1].extra == 2, "extended next hop");
	is_int(bgp_encode_open(&c, m, 40), 0, "OPEN into 40 bytes: 0");
	/* ADD-PATH receive for the families asked only (the peer sends for IPv6 unicast alone) */
	c.addpath_rx = bgp_af_bit(2, 1);
	n = bgp_encode_open(&c, m, sizeof(m));
	ok(bgp_decode_header(m, n, false, &msg, &e) && bgp_decode_open(msg.body, msg.body_len, &o, &e) &&
	    o.n_mp == 4 && o.n_addpath == 1 && o.addpath[0].afi == 2 && o.addpath[0].safi == 1 &&
	    o.addpath[0].extra == 1, "ADD-PATH receive for IPv6 unicast only");
	n = bgp_encode_keepalive(m, sizeof(m));
	ok(n == 19 && bgp_decode_header(m, n, false, &msg, &e) && msg.type == BGP_KEEPALIVE,
	    "KEEPALIVE round trip");
	uint8_t txt[] = { 5, 'm', 'a', 'i', 'n', 't' };
	n = bgp_encode_notification(6, 2, txt, sizeof(txt), m, sizeof(m));
	struct bgp_notification nt;
	ok(n == 27 && bgp_decode_header(m, n, false, &msg, &e) &&
	    bgp_decode_notification(msg.body, msg.body_len, &nt, &e), "NOTIFICATION round trip");
	ok(nt.code == 6 && nt.subcode == 2 && nt.data_len == 6, "code 6/2 with 6 data bytes");
	is_str(nt.shutdown_msg, "maint", "RFC 8203 shutdown text");
	ok(!bgp_decode_notification(m + 19, 1, &nt, &e), "1-byte NOTIFICATION refused");
	struct bgp_afsafi af;
	ok(bgp_decode_route_refresh(ARR(0, 2, 1, 1), &af, &e) && af.afi == 2 && af.safi == 1 &&
	    af.extra == 1, "ROUTE-REFRESH IPv6 unicast BoRR (RFC 7313)");
	ok(!bgp_decode_route_refresh(ARR(0, 2, 1, 1, 0), &af, &e), "ROUTE-REFRESH of 5 refused");
}

/* The full IPv4 UPDATE of a 4-octet session: every attribute once, 1 withdrawn, 2 NLRI. */
static void full_update(struct buf *body, size_t *nlri_ends, size_t *n_ends)
{
	struct buf wd = { { 12, 172, 16 }, 3 }, at = { { 0 }, 0 }, nl = { { 8, 10, 24, 192, 168, 1 }, 6 };
	put(&at, A_ORIGIN, sizeof(A_ORIGIN));
	put(&at, A_PATH4, sizeof(A_PATH4));
	put(&at, A_NH, sizeof(A_NH));
	put(&at, ARR(0x80, 4, 4, 0, 0, 0, 100));                  /* MED 100 */
	put(&at, ARR(0x40, 5, 4, 0, 0, 0, 200));                  /* LOCAL_PREF 200 */
	put(&at, ARR(0x40, 6, 0));                                /* ATOMIC_AGGREGATE */
	put(&at, ARR(0xc0, 7, 8, 0, 0, 0xfd, 0xe9, 10, 0, 0, 1)); /* AGGREGATOR 65001 10.0.0.1 */
	put(&at, ARR(0xc0, 8, 8, 0xfd, 0xe9, 0, 1, 0xff, 0xff, 0xff, 1)); /* 65001:1 NO_EXPORT */
	put(&at, ARR(0xc0, 16, 8, 0, 2, 0xfd, 0xe9, 0, 0, 0, 100)); /* RT 65001:100 */
	put(&at, ARR(0xc0, 32, 12, 0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 0, 0, 0, 2)); /* 65001:1:2 */
	put(&at, ARR(0xd0, 99, 0, 2, 0xab, 0xcd));               /* unknown optional transitive */
	put(&at, ARR(0x80, 98, 1, 0));                            /* unknown optional non-transitive */
	mk_update(body, &wd, &at, &nl);
	nlri_ends[0] = body->n - 6; /* no NLRI: the withdrawal alone */
	nlri_ends[1] = body->n - 4; /* after 10.0.0.0/8 */
	*n_ends = 2;
}

static void test_update_v4(void)
{
	struct buf body;
	size_t ends[2], n_ends = 0;
	struct bgp_attrs a;
	struct bgp_error e;
	struct seen sn;
	struct bgp_session s = { true, false, 0 };
	uint8_t *copy;
	full_update(&body, ends, &n_ends);
	is_int(dec_keep(&body, body.n, &s, &a, &sn, &e, &copy), BGP_ACT_OK, "full IPv4 UPDATE: OK");
	is_int(sn.n, 3, "3 NLRI");
	ok(sn.nl[0].withdraw && sn.nl[0].plen == 12 && sn.nl[0].addr[0] == 172 &&
	    sn.nl[0].addr[1] == 16, "withdrawn 172.16.0.0/12");
	ok(!sn.nl[1].withdraw && sn.nl[1].plen == 8 && sn.nl[1].addr[0] == 10, "10.0.0.0/8");
	ok(sn.nl[2].plen == 24 && sn.nl[2].addr[2] == 1 && sn.nl[2].afi == 1 && sn.nl[2].safi == 1,
	    "192.168.1.0/24 IPv4 unicast");
	ok(a.has_origin && a.origin == 0, "ORIGIN IGP");
	ok(a.as_path.n_seg == 2 && a.as_path.seg[0].type == BGP_AS_SEQUENCE &&
	    a.as_path.seg[0].count == 2 && a.as_path.asn[1] == 65002 &&
	    a.as_path.seg[1].type == BGP_AS_SET && a.as_path.asn[3] == 2, "AS_PATH seq {1 2}");
	ok(a.next_hop.afi == 1 && a.next_hop.a[0] == 192 && a.next_hop.a[3] == 1, "NEXT_HOP");
	ok(a.has_med && a.med == 100 && a.has_local_pref && a.local_pref == 200, "MED, LOCAL_PREF");
	ok(a.atomic_aggregate && a.has_aggregator && a.aggregator_as == 65001 &&
	    a.aggregator_addr.a[0] == 10, "ATOMIC_AGGREGATE, AGGREGATOR");
	ok(a.n_comm == 2 && bgp_comm(&a, 0) == 0xfde90001u && bgp_comm(&a, 1) == 0xffffff01u,
	    "communities");
	ok(a.n_ext_comm == 1 && bgp_ext_comm(&a, 0) == 0x0002fde900000064ull, "extended community");
	uint32_t l[3];
	bgp_large_comm(&a, 0, l);
	ok(a.n_large_comm == 1 && l[0] == 65001 && l[1] == 1 && l[2] == 2, "large community");
	ok(a.n_opaque == 1 && a.opaque[0].type == 99 && a.opaque[0].len == 2 &&
	    a.opaque[0].val[1] == 0xcd, "unknown transitive kept, non-transitive dropped");
	free(copy);
	/* every truncation of the body: an error, except at an NLRI boundary */
	for (size_t cut = 0; cut < body.n; cut++) {
		enum bgp_action act = dec(&body, cut, &s, &a, &sn, &e);
		if (cut == ends[0] || cut == ends[1])
			ok(act == BGP_ACT_OK && sn.n == (cut == ends[0] ? 1u : 2u),
			    "cut at %zu: a shorter valid UPDATE", cut);
		else
			ok(act == BGP_ACT_SESSION_RESET && sn.n == 0, "cut at %zu: session reset", cut);
	}
	/* every truncation of the whole message: the header asks for more */
	uint8_t msg[300];
	memset(msg, 0xff, 16);
	msg[16] = 0;
	msg[17] = (uint8_t)(19 + body.n);
	msg[18] = BGP_UPDATE;
	memcpy(msg + 19, body.b, body.n);
	struct bgp_msg m;
	for (size_t cut = 0; cut < 19 + body.n; cut++) {
		long need = bgp_msg_need(msg, cut, false, &e);
		ok(need == (cut < 19 ? 0 : (long)(19 + body.n)) && !bgp_decode_header(msg, cut, false,
		    &m, &e), "message cut at %zu: incomplete", cut);
	}
}

/* RFC 6793 4.2.3: a 2-octet session's AS_PATH with AS_TRANS, merged with AS4_PATH / AS4_AGGREGATOR. */
static void test_as4(void)
{
	struct buf body, wd = { { 0 }, 0 }, at = { { 0 }, 0 }, nl = { { 24, 192, 0, 2 }, 4 };
	struct bgp_attrs a;
	struct bgp_error e;
	struct seen sn;
	struct bgp_session s = { false, false, 0 };
	put(&at, A_ORIGIN, sizeof(A_ORIGIN));
	put(&at, ARR(0x40, 2, 8, 2, 3, 0, 100, 0x5b, 0xa0, 0x5b, 0xa0)); /* 100 23456 23456 */
	put(&at, A_NH, sizeof(A_NH));
	put(&at, ARR(0xc0, 7, 6, 0x5b, 0xa0, 10, 0, 0, 1));              /* AGGREGATOR AS_TRANS */
	put(&at, ARR(0xc0, 17, 10, 2, 2, 0, 3, 0, 0, 0, 3, 0, 1));       /* 196608 196609 */
	put(&at, ARR(0xc0, 18, 8, 0, 1, 0x11, 0x70, 10, 0, 0, 2));       /* 70000 10.0.0.2 */
	mk_update(&body, &wd, &at, &nl);
	is_int(dec(&body, body.n, &s, &a, &sn, &e), BGP_ACT_OK, "2-octet session UPDATE OK");
	ok(a.as_path.n_seg == 1 && a.as_path.seg[0].count == 3 && a.as_path.asn[0] == 100 &&
	    a.as_path.asn[1] == 196608 && a.as_path.asn[2] == 196609, "AS4_PATH merged: 100 196608 196609");
	ok(a.aggregator_as == 70000 && a.aggregator_addr.a[3] == 2, "AS4_AGGREGATOR merged");
	/* an AS4_PATH longer than the AS_PATH is ignored */
	at.n = 0;
	put(&at, A_ORIGIN, sizeof(A_ORIGIN));
	put(&at, ARR(0x40, 2, 4, 2, 1, 0x5b, 0xa0));
	put(&at, A_NH, sizeof(A_NH));
	put(&at, ARR(0xc0, 17, 10, 2, 2, 0, 3, 0, 0, 0, 3, 0, 1));
	mk_update(&body, &wd, &at, &nl);
	ok(dec(&body, body.n, &s, &a, &sn, &e) == BGP_ACT_OK && a.as_path.n_asn == 1 &&
	    a.as_path.asn[0] == BGP_AS_TRANS, "AS4_PATH longer than AS_PATH: ignored");
	/* a malformed AS4_PATH is discarded (RFC 6793 6) */
	at.n = 0;
	put(&at, A_ORIGIN, sizeof(A_ORIGIN));
	put(&at, ARR(0x40, 2, 4, 2, 1, 0x5b, 0xa0));
	put(&at, A_NH, sizeof(A_NH));
	put(&at, ARR(0xc0, 17, 5, 2, 2, 0, 3, 0));
	mk_update(&body, &wd, &at, &nl);
	ok(dec(&body, body.n, &s, &a, &sn, &e) == BGP_ACT_ATTR_DISCARD && sn.n == 1 &&
	    !sn.nl[0].withdraw && a.as_path.asn[0] == BGP_AS_TRANS, "malformed AS4_PATH: attribute discard");
}

/* MP_REACH with VPN (RFC 4364 / 4659), RD types 0, 1, 2. */
static void test_vpn(void)
{
	struct buf body, wd = { { 0 }, 0 }, at = { { 0 }, 0 }, nl = { { 0 }, 0 };
	struct bgp_attrs a;
	struct bgp_error e;
	struct seen sn;
	struct bgp_session s = { true, false, 0 };
	put(&at, A_ORIGIN, sizeof(A_ORIGIN));
	put(&at, A_PATH4, sizeof(A_PATH4));
	put(&at, ARR(0x80, 14, 61, 0, 1, 128, 12, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1, 0,
	    112, 0, 0x06, 0x41, 0, 0, 0xfd, 0xe9, 0, 0, 0, 100, 10, 1, 2,
	    112, 0, 0x0c, 0x81, 0, 1, 192, 0, 2, 1, 0, 7, 10, 2, 3,
	    104, 0, 0x12, 0xc1, 0, 2, 0, 1, 0x11, 0x70, 0, 9, 172, 16));
	mk_update(&body, &wd, &at, &nl);
	is_int(dec(&body, body.n, &s, &a, &sn, &e), BGP_ACT_OK, "VPNv4 MP_REACH OK");
	is_int(sn.n, 3, "3 VPNv4 NLRI");
	ok(a.mp_nh_has_rd && a.mp_nh_rd.type == 0 && a.mp_next_hop.afi == 1 &&
	    a.mp_next_hop.a[0] == 10 && a.mp_next_hop.a[3] == 1, "next hop RD 0:0 10.0.0.1");
	ok(sn.nl[0].afi == 1 && sn.nl[0].safi == 128 && sn.nl[0].n_labels == 1 &&
	    sn.nl[0].label[0] == 100 && sn.nl[0].has_rd && sn.nl[0].rd.type == 0 &&
	    sn.nl[0].rd.admin == 65001 && sn.nl[0].rd.assigned == 100 && sn.nl[0].plen == 24 &&
	    sn.nl[0].addr[1] == 1 && sn.nl[0].addr[2] == 2, "label 100 RD 65001:100 10.1.2.0/24");
	ok(sn.nl[1].label[0] == 200 && sn.nl[1].rd.type == 1 && sn.nl[1].rd.admin == 0xc0000201u &&
	    sn.nl[1].rd.assigned == 7, "label 200 RD 192.0.2.1:7");
	ok(sn.nl[2].label[0] == 300 && sn.nl[2].rd.type == 2 && sn.nl[2].rd.admin == 70000 &&
	    sn.nl[2].rd.assigned == 9 && sn.nl[2].plen == 16 && sn.nl[2].addr[0] == 172,
	    "label 300 RD 70000:9 172.16.0.0/16");
	for (size_t cut = 0; cut < body.n; cut++)
		ok(dec(&body, cut, &s, &a, &sn, &e) == BGP_ACT_SESSION_RESET && sn.n == 0,
		    "VPNv4 UPDATE cut at %zu: reset", cut);
	/* VPNv4 over an IPv6 next hop (RFC 8950 3: RD of zero + 2001:db8::3) */
	at.n = 0;
	put(&at, A_ORIGIN, sizeof(A_ORIGIN));
	put(&at, A_PATH4, sizeof(A_PATH4));
	put(&at, ARR(0x80, 14, 44, 0, 1, 128, 24, 0, 0, 0, 0, 0, 0, 0, 0,
	    0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0,
	    112, 0, 0x06, 0x41, 0, 0, 0xfd, 0xe9, 0, 0, 0, 100, 10, 1, 2));
	mk_update(&body, &wd, &at, &nl);
	ok(dec(&body, body.n, &s, &a, &sn, &e) == BGP_ACT_OK && sn.n == 1 && sn.nl[0].afi == 1 &&
	    sn.nl[0].label[0] == 100 && a.mp_next_hop.afi == 2 && a.mp_next_hop.a[15] == 3 &&
	    a.mp_nh_has_rd, "VPNv4 via RD 0:0 2001:db8::3");
	/* VPNv6: 24-byte next hop, label 16, 2001:db8:1::/48 */
	at.n = 0;
	put(&at, A_ORIGIN, sizeof(A_ORIGIN));
	put(&at, A_PATH4, sizeof(A_PATH4));
	put(&at, ARR(0x80, 14, 47, 0, 2, 128, 24, 0, 0, 0, 0, 0, 0, 0, 0,
	    0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
	    136, 0, 1, 1, 0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 0x20, 1, 0xd, 0xb8, 0, 1));
	mk_update(&body, &wd, &at, &nl);
	is_int(dec(&body, body.n, &s, &a, &sn, &e), BGP_ACT_OK, "VPNv6 MP_REACH OK");
	ok(sn.n == 1 && sn.nl[0].afi == 2 && sn.nl[0].safi == 128 && sn.nl[0].label[0] == 16 &&
	    sn.nl[0].plen == 48 && sn.nl[0].addr[5] == 1 && sn.nl[0].rd.assigned == 1,
	    "label 16 RD 65001:1 2001:db8:1::/48");
	ok(a.mp_next_hop.afi == 2 && a.mp_next_hop.a[15] == 1 && a.mp_next_hop.a[1] == 1,
	    "next hop 2001:db8::1");
	/* MP_UNREACH VPNv4 with the withdrawal label 0x800000 */
	at.n = 0;
	put(&at, ARR(0x80, 15, 18, 0, 1, 128, 112, 0x80, 0, 0, 0, 0, 0xfd, 0xe9, 0, 0, 0, 100, 10, 1, 2));
	mk_update(&body, &wd, &at, &nl);
	ok(dec(&body, body.n, &s, &a, &sn, &e) == BGP_ACT_OK && sn.n == 1 && sn.nl[0].withdraw &&
	    sn.nl[0].rd.assigned == 100 && sn.nl[0].plen == 24, "VPNv4 MP_UNREACH");
}

/* RFC 8950 IPv4 NLRI over an IPv6 next hop; RFC 7911 path ids on IPv4 and MP NLRI. */
static void test_enh_addpath(void)
{
	struct buf body, wd = { { 0 }, 0 }, at = { { 0 }, 0 }, nl = { { 0 }, 0 };
	struct bgp_attrs a;
	struct bgp_error e;
	struct seen sn;
	struct bgp_session s = { true, false, 0 };
	put(&at, A_ORIGIN, sizeof(A_ORIGIN));
	put(&at, A_PATH4, sizeof(A_PATH4));
	put(&at, ARR(0x80, 14, 25, 0, 1, 1, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	    0, 24, 192, 0, 2));
	mk_update(&body, &wd, &at, &nl);
	ok(dec(&body, body.n, &s, &a, &sn, &e) == BGP_ACT_OK && sn.n == 1 && sn.nl[0].afi == 1 &&
	    sn.nl[0].plen == 24 && a.mp_next_hop.afi == 2 && a.mp_next_hop.a[15] == 2,
	    "192.0.2.0/24 via 2001:db8::2");
	s.addpath_rx = (uint8_t)(bgp_af_bit(1, 1) | bgp_af_bit(2, 1));
	struct buf wd2 = { { 0, 0, 0, 5, 8, 10 }, 6 };
	struct buf nl2 = { { 0, 0, 0, 1, 24, 192, 168, 1, 0, 0, 0, 2, 24, 192, 168, 1 }, 16 };
	at.n = 0;
	put(&at, A_ORIGIN, sizeof(A_ORIGIN));
	put(&at, A_PATH4, sizeof(A_PATH4));
	put(&at, A_NH, sizeof(A_NH));
	put(&at, ARR(0x80, 15, 12, 0, 2, 1, 0, 0, 0, 8, 32, 0x20, 1, 0xd, 0xb8));
	put(&at, ARR(0x80, 14, 32, 0, 2, 1, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	    0, 0, 0, 0, 7, 48, 0x20, 1, 0xd, 0xb8, 0, 2));
	mk_update(&body, &wd2, &at, &nl2);
	ok(dec(&body, body.n, &s, &a, &sn, &e) == BGP_ACT_OK && sn.n == 5, "ADD-PATH UPDATE: 5 NLRI");
	ok(sn.nl[0].withdraw && sn.nl[0].path_id == 5 && sn.nl[0].plen == 8, "withdrawn id 5 10/8");
	ok(sn.nl[1].withdraw && sn.nl[1].afi == 2 && sn.nl[1].path_id == 8 && sn.nl[1].plen == 32,
	    "MP_UNREACH id 8 2001:db8::/32");
	ok(!sn.nl[2].withdraw && sn.nl[2].path_id == 7 && sn.nl[2].plen == 48 && sn.nl[2].addr[5] == 2,
	    "MP_REACH id 7 2001:db8:2::/48");
	ok(sn.nl[3].has_path_id && sn.nl[3].path_id == 1 && sn.nl[4].path_id == 2 &&
	    sn.nl[4].addr[2] == 1, "two paths of 192.168.1.0/24, ids 1 and 2");
	s.addpath_rx = 0;
	ok(dec(&body, body.n, &s, &a, &sn, &e) == BGP_ACT_SESSION_RESET && sn.n == 0,
	    "the same without ADD-PATH negotiated: prefix length 0 then junk, reset");
}

/* Build a one-NLRI UPDATE (10.0.0.0/8) with ORIGIN, AS_PATH, NEXT_HOP plus 'extra' after them. */
static enum bgp_action one(const uint8_t *origin, const uint8_t *extra, size_t elen, struct seen *sn,
    struct bgp_attrs *a, struct bgp_error *e)
{
	struct buf body, wd = { { 0 }, 0 }, at = { { 0 }, 0 }, nl = { { 8, 10 }, 2 };
	struct bgp_session s = { true, false, 0 };
	if (origin)
		put(&at, origin, 4);
	put(&at, A_PATH4, sizeof(A_PATH4));
	put(&at, A_NH, sizeof(A_NH));
	put(&at, extra, elen);
	mk_update(&body, &wd, &at, &nl);
	return dec(&body, body.n, &s, a, sn, e);
}

/* RFC 7606: each class of malformation. */
static void test_7606(void)
{
	struct bgp_attrs a;
	struct bgp_error e;
	struct seen sn;
	static const uint8_t BAD_ORIGIN[] = { 0x40, 1, 1, 3 };
	ok(one(BAD_ORIGIN, NULL, 0, &sn, &a, &e) == BGP_ACT_TREAT_AS_WITHDRAW && sn.n == 1 &&
	    sn.nl[0].withdraw && e.code == 3 && e.subcode == 6, "ORIGIN 3: treat-as-withdraw (3/6)");
	static const uint8_t FLAGS_ORIGIN[] = { 0xc0, 1, 1, 0 };
	ok(one(FLAGS_ORIGIN, NULL, 0, &sn, &a, &e) == BGP_ACT_TREAT_AS_WITHDRAW && sn.nl[0].withdraw &&
	    e.subcode == 4, "ORIGIN flagged optional: treat-as-withdraw (3/4)");
	ok(one(NULL, NULL, 0, &sn, &a, &e) == BGP_ACT_TREAT_AS_WITHDRAW && sn.nl[0].withdraw &&
	    e.subcode == 3, "ORIGIN missing: treat-as-withdraw (3/3)");
	ok(one(A_ORIGIN, ARR(0x80, 4, 4, 0, 0, 0, 1, 0x80, 4, 4, 0, 0, 0, 2), &sn, &a, &e) ==
	    BGP_ACT_ATTR_DISCARD && !sn.nl[0].withdraw && a.med == 1, "MED twice: discard, first kept");
	ok(one(A_ORIGIN, ARR(0x80, 4, 3, 0, 0, 1), &sn, &a, &e) == BGP_ACT_TREAT_AS_WITHDRAW &&
	    !a.has_med && sn.nl[0].withdraw, "MED of 3 bytes: treat-as-withdraw");
	ok(one(A_ORIGIN, ARR(0x40, 6, 1, 0), &sn, &a, &e) == BGP_ACT_ATTR_DISCARD &&
	    !a.atomic_aggregate && !sn.nl[0].withdraw, "ATOMIC_AGGREGATE of 1: discard");
	ok(one(A_ORIGIN, ARR(0xc0, 7, 6, 0, 1, 10, 0, 0, 1), &sn, &a, &e) == BGP_ACT_ATTR_DISCARD &&
	    !a.has_aggregator, "2-octet AGGREGATOR on a 4-octet session: discard");
	ok(one(A_ORIGIN, ARR(0xc0, 8, 5, 0, 0, 0, 1, 2), &sn, &a, &e) == BGP_ACT_TREAT_AS_WITHDRAW,
	    "COMMUNITIES of 5: treat-as-withdraw");
	ok(one(A_ORIGIN, ARR(0xc0, 16, 4, 0, 0, 0, 1), &sn, &a, &e) == BGP_ACT_TREAT_AS_WITHDRAW,
	    "EXTENDED COMMUNITIES of 4: treat-as-withdraw");
	ok(one(A_ORIGIN, ARR(0xc0, 32, 0), &sn, &a, &e) == BGP_ACT_TREAT_AS_WITHDRAW,
	    "LARGE_COMMUNITY of 0: treat-as-withdraw");
	ok(one(A_ORIGIN, ARR(0x40, 2, 2, 2, 0), &sn, &a, &e) == BGP_ACT_ATTR_DISCARD,
	    "second AS_PATH: discard (first kept)");
	ok(one(A_ORIGIN, ARR(0x40, 3, 5, 1, 2, 3, 4, 5), &sn, &a, &e) == BGP_ACT_ATTR_DISCARD,
	    "second NEXT_HOP: discard");
	ok(one(A_ORIGIN, ARR(0x40, 42, 0), &sn, &a, &e) == BGP_ACT_SESSION_RESET && sn.n == 0 &&
	    e.subcode == 2, "unrecognized well-known: reset (3/2)");
	ok(one(A_ORIGIN, ARR(0x80, 15, 3, 0, 1, 1, 0x80, 15, 3, 0, 1, 1), &sn, &a, &e) ==
	    BGP_ACT_SESSION_RESET && sn.n == 0, "MP_UNREACH twice: reset");
	ok(one(A_ORIGIN, ARR(0x80, 14, 9, 0, 1, 1, 3, 1, 2, 3, 0, 0), &sn, &a, &e) ==
	    BGP_ACT_SESSION_RESET && e.subcode == 9, "MP_REACH next hop of 3: reset (3/9)");
	ok(one(A_ORIGIN, ARR(0x80, 14, 8, 0, 1, 1, 4, 1, 2, 3, 4), &sn, &a, &e) ==
	    BGP_ACT_SESSION_RESET, "MP_REACH without its reserved byte: reset");
	ok(one(A_ORIGIN, ARR(0x80, 15, 5, 0, 1, 1, 33, 1), &sn, &a, &e) == BGP_ACT_SESSION_RESET &&
	    e.subcode == 10, "MP_UNREACH /33: reset (3/10)");
	ok(one(A_ORIGIN, ARR(0xc0, 99, 9, 0), &sn, &a, &e) == BGP_ACT_TREAT_AS_WITHDRAW &&
	    sn.nl[0].withdraw && e.subcode == 1, "attribute past the attributes field: treat-as-withdraw");
	/* AS_PATH malformations (RFC 7606 7.2) */
	struct buf body, wd = { { 0 }, 0 }, at = { { 0 }, 0 }, nl = { { 8, 10 }, 2 };
	struct bgp_session s = { true, false, 0 };
	const uint8_t *paths[] = { (const uint8_t[]){ 0x40, 2, 2, 2, 0 },
		(const uint8_t[]){ 0x40, 2, 2, 5, 1 }, (const uint8_t[]){ 0x40, 2, 6, 2, 2, 0, 0, 0, 1 } };
	for (int i = 0; i < 3; i++) {
		at.n = 0;
		put(&at, A_ORIGIN, sizeof(A_ORIGIN));
		put(&at, paths[i], 3 + paths[i][2]);
		put(&at, A_NH, sizeof(A_NH));
		mk_update(&body, &wd, &at, &nl);
		ok(dec(&body, body.n, &s, &a, &sn, &e) == BGP_ACT_TREAT_AS_WITHDRAW && sn.nl[0].withdraw &&
		    e.subcode == 11, "AS_PATH malformation %d: treat-as-withdraw (3/11)", i);
	}
	/* length fields past the message */
	struct buf b2 = { { 0, 0, 0, 30, 0x40, 1, 1, 0 }, 8 };
	ok(dec(&b2, b2.n, &s, &a, &sn, &e) == BGP_ACT_SESSION_RESET && e.subcode == 1 && sn.n == 0,
	    "attribute length past the message: reset (3/1)");
	struct buf b3 = { { 0, 9, 8, 10 }, 4 };
	ok(dec(&b3, b3.n, &s, &a, &sn, &e) == BGP_ACT_SESSION_RESET, "withdrawn length past the message: reset");
	struct buf b4 = { { 0, 0, 0, 0, 33, 10, 0, 0, 0, 0 }, 10 };
	ok(dec(&b4, b4.n, &s, &a, &sn, &e) == BGP_ACT_SESSION_RESET && e.subcode == 10,
	    "NLRI /33: reset (3/10)");
	struct buf b5 = { { 0, 0, 0, 0 }, 4 };
	ok(dec(&b5, b5.n, &s, &a, &sn, &e) == BGP_ACT_OK && sn.n == 0, "End-of-RIB (empty UPDATE)");
}

/* Hex digits to bytes (the vectors below are written as scapy printed them). */
static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	for (; h[0] && h[1]; h += 2) {
		unsigned v = 0;
		for (int i = 0; i < 2; i++) {
			char c = h[i];
			v = v << 4 | (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
		out[n++] = (uint8_t)v;
	}
	return n;
}

/*
 * Messages built by scapy.contrib.bgp (python3-scapy, use_2_bytes_asn False):
 * BGPOpen(my_as=23456, hold_time=180, bgp_id="10.0.0.1", MP 1/1, MP 2/128,
 * route refresh, 4-octet AS 4200000000); BGPUpdate(withdrawn 198.51.100.0/24,
 * ORIGIN EGP, AS_PATH seq 4200000000 65002, NEXT_HOP 203.0.113.9, MED 77,
 * COMMUNITY 0xfde9002a, NLRI 10.20.0.0/16); BGPNotification(6, 4).
 */
static void test_scapy(void)
{
	uint8_t m[128];
	struct bgp_msg msg;
	struct bgp_error e;
	struct bgp_open o;
	size_t n = unhex("ffffffffffffffffffffffffffffffff003901045ba000b40a0000011c0206010400010001"
	    "02060104000200800202020002064104fa56ea00", m);
	ok(bgp_msg_need(m, n, false, &e) == (long)n && bgp_decode_header(m, n, false, &msg, &e) &&
	    bgp_decode_open(msg.body, msg.body_len, &o, &e), "scapy OPEN decodes");
	ok(o.my_as == BGP_AS_TRANS && o.hold_time == 180 && o.bgp_id == 0x0a000001 && o.n_mp == 2 &&
	    o.mp[1].afi == 2 && o.mp[1].safi == 128 && o.route_refresh && o.as4 == 4200000000u,
	    "scapy OPEN fields");
	n = unhex("ffffffffffffffffffffffffffffffff004402000418c6336400264001010140020a0202fa56ea00"
	    "0000fdea400304cb0071098004040000004dc00804fde9002a100a14", m);
	struct bgp_session s = { true, false, 0 };
	struct bgp_attrs a;
	struct seen sn = { 0, { { 0 } } };
	ok(bgp_decode_header(m, n, false, &msg, &e) &&
	    bgp_decode_update(msg.body, msg.body_len, &s, &a, on_nlri, &sn, &e) == BGP_ACT_OK,
	    "scapy UPDATE decodes");
	ok(sn.n == 2 && sn.nl[0].withdraw && sn.nl[0].plen == 24 && sn.nl[0].addr[0] == 198 &&
	    sn.nl[0].addr[2] == 100 && !sn.nl[1].withdraw && sn.nl[1].plen == 16 &&
	    sn.nl[1].addr[1] == 20, "scapy UPDATE NLRI");
	ok(a.origin == 1 && a.as_path.n_asn == 2 && a.as_path.asn[0] == 4200000000u &&
	    a.as_path.asn[1] == 65002 && a.next_hop.a[0] == 203 && a.next_hop.a[3] == 9 &&
	    a.med == 77 && a.n_comm == 1 && bgp_comm(&a, 0) == 0xfde9002au, "scapy UPDATE attributes");
	n = unhex("ffffffffffffffffffffffffffffffff0015030604", m);
	struct bgp_notification nt;
	ok(bgp_decode_header(m, n, false, &msg, &e) &&
	    bgp_decode_notification(msg.body, msg.body_len, &nt, &e) && nt.code == 6 &&
	    nt.subcode == 4 && nt.data_len == 0 && nt.shutdown_msg[0] == 0, "scapy NOTIFICATION 6/4");
}

/* A TCP reader's view: a KEEPALIVE then a NOTIFICATION in one stream, asked at every fill level. */
static void test_stream(void)
{
	uint8_t st[64];
	struct bgp_error e;
	size_t k = bgp_encode_keepalive(st, sizeof(st));
	size_t n = bgp_encode_notification(4, 0, NULL, 0, st + k, sizeof(st) - k);
	bool all = k == 19 && n == 21;
	for (size_t fill = 0; fill <= k + n; fill++) {
		long need = bgp_msg_need(st, fill, false, &e);
		all &= need == (fill < 19 ? 0 : 19);
		if (fill >= k) {
			need = bgp_msg_need(st + k, fill - k, false, &e);
			all &= need == (fill - k < 19 ? 0 : 21);
		}
	}
	ok(all, "stream of 2 messages: need() says 0 until 19 bytes, then each message's length");
}

int main(void)
{
	test_header();
	test_open();
	test_encode();
	test_update_v4();
	test_as4();
	test_vpn();
	test_enh_addpath();
	test_7606();
	test_scapy();
	test_stream();
	return tap_done();
}
