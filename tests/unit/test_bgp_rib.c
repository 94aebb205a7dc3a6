/* SPDX-License-Identifier: BSD-3-Clause */
/* test_bgp_rib.c: the BGP RIB against a brute-force reference (LPM, ADD-PATH, VPN, peers, refcounts, bounds) and pmacct's text forms. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/bgp_msg.h"
#include "maps/bgp_rib.h"
#include "tap.h"
#include "xorshift.h"

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint32_t rnd(uint32_t n)
{
	return (uint32_t)(xorshift64(&rng) % n);
}

/* ---- text forms, from UPDATE bytes written by hand ---- */

struct upd_ctx {
	struct bgp_rib *rib;
	int peer;
	int applied;
};

static void on_nlri(void *arg, const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	struct upd_ctx *c = arg;
	if (bgp_rib_apply(c->rib, c->peer, n, a) == 0)
		c->applied++;
}

/* Decode an UPDATE body (path attributes attrs, IPv4 NLRI nlri) into the RIB over an AS4 session. */
static int feed(struct bgp_rib *rib, int peer, const uint8_t *attrs, size_t alen, const uint8_t *nlri,
    size_t nlen)
{
	uint8_t body[512];
	struct bgp_session s = { .as4 = true };
	struct bgp_attrs a;
	struct bgp_error e;
	struct upd_ctx c = { rib, peer, 0 };
	size_t n = 0;

	body[n++] = 0;
	body[n++] = 0;
	body[n++] = (uint8_t)(alen >> 8);
	body[n++] = (uint8_t)alen;
	memcpy(body + n, attrs, alen);
	n += alen;
	memcpy(body + n, nlri, nlen);
	n += nlen;
	if (bgp_decode_update(body, n, &s, &a, on_nlri, &c, &e) != BGP_ACT_OK)
		return -1;
	return c.applied;
}

static const uint8_t attrs_full[] = {
	0x40, 0x01, 0x01, 0x00,					/* ORIGIN IGP */
	0x40, 0x02, 0x14,					/* AS_PATH */
	0x02, 0x02, 0x00, 0x00, 0xfd, 0xe9, 0x00, 0x00, 0xfd, 0xea,	/* SEQ 65001 65002 */
	0x01, 0x02, 0x00, 0x00, 0xfd, 0xeb, 0x00, 0x00, 0xfd, 0xec,	/* SET 65003 65004 */
	0x40, 0x03, 0x04, 10, 0, 0, 1,				/* NEXT_HOP */
	0x80, 0x04, 0x04, 0, 0, 0, 50,				/* MED */
	0x40, 0x05, 0x04, 0, 0, 0, 200,				/* LOCAL_PREF */
	0xc0, 0x08, 0x1c,					/* COMMUNITIES, out of order, one twice: */
	0xff, 0xff, 0xff, 0x03, 0xff, 0xff, 0xff, 0x01,		/* NO_EXPORT_SUBCONFED NO_EXPORT */
	0xfd, 0xe8, 0x00, 0x02, 0xff, 0xff, 0x02, 0x9a,		/* 65000:2 65535:666 */
	0xff, 0xff, 0xff, 0x02, 0xfd, 0xe8, 0x00, 0x01,		/* NO_ADVERTISE 65000:1 */
	0xfd, 0xe8, 0x00, 0x02,					/* 65000:2 again */
	0xc0, 0x10, 0x20,
	0x03, 0x0c, 0, 0, 0, 0, 0, 0,				/* opaque: not named */
	0x02, 0x02, 0xfa, 0x56, 0xea, 0x00, 0x00, 0x05,		/* RT 4200000000:5 */
	0x00, 0x02, 0xfd, 0xe8, 0x00, 0x00, 0x00, 0x64,		/* RT 65000:100 */
	0x01, 0x03, 10, 0, 0, 1, 0x00, 0x07,			/* SoO 10.0.0.1:7 */
	0xc0, 0x20, 0x18,
	0, 0, 0xfd, 0xe8, 0, 0, 0, 3, 0, 0, 0, 4,		/* 65000:3:4 */
	0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0, 0, 0, 2,		/* 65000:1:2 */
};

static const uint8_t attrs_confed[] = {
	0x40, 0x01, 0x01, 0x02,					/* ORIGIN INCOMPLETE */
	0x40, 0x02, 0x1a,
	0x03, 0x02, 0, 0, 0, 1, 0, 0, 0, 2,			/* CONFED_SEQ 1 2 */
	0x04, 0x02, 0, 0, 0, 4, 0, 0, 0, 5,			/* CONFED_SET 4 5 */
	0x02, 0x01, 0, 0, 0, 3,					/* SEQ 3 */
	0x40, 0x03, 0x04, 10, 0, 0, 2,
};

/* An AS_PATH-only UPDATE (plus ORIGIN and NEXT_HOP) for 10.k.0.0/16; returns the route's attributes. */
static const struct bgp_attr *path_route(struct bgp_rib *rib, int p, uint8_t k, const uint8_t *path, size_t plen)
{
	uint8_t at[64] = { 0x40, 0x01, 0x01, 0x00, 0x40, 0x02, (uint8_t)plen };
	const uint8_t nlri[] = { 16, 10, k }, addr[] = { 10, k, 1, 1 };
	size_t n = 7;
	struct bgp_route r;

	memcpy(at + n, path, plen);
	n += plen;
	memcpy(at + n, (const uint8_t[]){ 0x40, 0x03, 0x04, 10, 0, 0, 7 }, 7);
	n += 7;
	if (feed(rib, p, at, n, nlri, sizeof(nlri)) != 1 ||
	    !bgp_rib_lookup(rib, p, BGP_AFI_IPV4, BGP_SAFI_UNICAST, NULL, addr, NULL, &r))
		return NULL;
	return r.attr;
}

/*
 * Paths whose text, first and origin AS 1.7.7 printed (msglog as_path,
 * peer_dst_as and dst_as of a NetFlow record under nfacctd_as: bgp).
 */
static void test_path_oracle(void)
{
	static const struct {
		uint8_t path[40];
		size_t len;
		const char *text;
		uint32_t first, origin;
	} cases[] = {
		{ { 2, 1, 0, 0, 0, 3, 1, 3, 0, 0, 0, 7, 0, 0, 0, 6, 0, 0, 0, 7 }, 20, "3 {6,7}", 3, 7 },
		{ { 1, 2, 0, 0, 0, 9, 0, 0, 0, 8, 2, 1, 0, 0, 0, 5 }, 16, "{8,9} 5", 0, 5 },
		{ { 3, 2, 0, 0, 0, 1, 0, 0, 0, 2, 2, 2, 0, 0, 0, 3, 0, 0, 0, 4 }, 20, "(1 2) 3 4", 1, 4 },
		{ { 2, 2, 0, 0, 0, 11, 0, 0, 0, 12, 3, 2, 0, 0, 0, 1, 0, 0, 0, 2 }, 20, "11 12 (1 2)", 11, 2 },
	};
	struct bgp_rib *rib = bgp_rib_new(NULL);
	struct bgp_peer_id id = { .addr = { BGP_AFI_IPV4, { 10, 0, 0, 7 } } };
	int p = bgp_rib_peer_add(rib, &id);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bgp_attr *a = path_route(rib, p, (uint8_t)(77 + i), cases[i].path, cases[i].len);
		ok(a && strcmp(a->as_path, cases[i].text) == 0 && a->first_as == cases[i].first &&
		    a->origin_as == cases[i].origin, "1.7.7 path \"%s\": got \"%s\" first %u origin %u",
		    cases[i].text, a ? a->as_path : "(none)", a ? a->first_as : 0, a ? a->origin_as : 0);
	}
	bgp_rib_free(rib);
}

static void test_text(void)
{
	struct bgp_rib *rib = bgp_rib_new(NULL);
	struct bgp_peer_id id = { .addr = { BGP_AFI_IPV4, { 192, 0, 2, 1 } }, .bgp_id = 0x01020304 };
	struct bgp_route r;
	const uint8_t nlri1[] = { 24, 192, 0, 2 }, nlri2[] = { 16, 198, 51 };
	const uint8_t a1[] = { 192, 0, 2, 77 }, a2[] = { 198, 51, 100, 1 };

	bgp_rib_wrlock(rib);
	int p = bgp_rib_peer_add(rib, &id);
	is_int(feed(rib, p, attrs_full, sizeof(attrs_full), nlri1, sizeof(nlri1)), 1, "text: full UPDATE applied");
	is_int(feed(rib, p, attrs_confed, sizeof(attrs_confed), nlri2, sizeof(nlri2)), 1, "text: confed UPDATE applied");
	bgp_rib_unlock(rib);

	bgp_rib_rdlock(rib);
	ok(bgp_rib_lookup(rib, p, BGP_AFI_IPV4, BGP_SAFI_UNICAST, NULL, a1, NULL, &r), "text: 192.0.2.77 found");
	is_int(r.plen, 24, "text: /24");
	is_str(r.attr->as_path, "65001 65002 {65003,65004}", "text: AS path with a set");
	is_int(r.attr->first_as, 65001, "text: first AS");
	is_int(r.attr->origin_as, 65004, "text: origin AS (last of the set)");
	is_int(r.attr->n_asn, 3, "text: path length counts a set once");
	/* 1.7.7's msglog: "65000:10 65535:666 no-advertise local-AS", "65000:1 65000:2 no-export" */
	is_str(r.attr->comms, "65000:1 65000:2 65535:666 no-export no-advertise local-AS",
	    "text: communities ascending, once each, well-known ones named");
	is_str(r.attr->ecomms, "RT:65000:100 SoO:10.0.0.1:7 RT:4200000000:5 ?",
	    "text: extended communities ascending");
	is_str(r.attr->lcomms, "65000:1:2 65000:3:4", "text: large communities ascending");
	is_int(r.attr->med, 50, "text: MED");
	ok(r.attr->has_med && r.attr->has_local_pref, "text: MED and LOCAL_PREF present");
	is_int(r.attr->local_pref, 200, "text: LOCAL_PREF");
	is_int(r.attr->origin, 0, "text: ORIGIN IGP");
	ok(r.attr->next_hop.afi == BGP_AFI_IPV4 && memcmp(r.attr->next_hop.a, (uint8_t[]){ 10, 0, 0, 1 }, 4) == 0,
	    "text: next hop 10.0.0.1");
	ok(bgp_rib_lookup(rib, p, BGP_AFI_IPV4, BGP_SAFI_UNICAST, NULL, a2, NULL, &r), "text: 198.51.100.1 found");
	is_str(r.attr->as_path, "(1 2) [4,5] 3", "text: confederation segments");
	/* 1.7.7 (nfacctd_as: bgp): "(1 2) 3 4" gives peer_dst_as 1 */
	is_int(r.attr->first_as, 1, "text: first AS of a leading confederation sequence");
	is_int(r.attr->origin_as, 3, "text: origin AS");
	is_str(r.attr->comms, "", "text: no communities");
	is_str(r.attr->ecomms, "", "text: no extended communities");
	is_str(r.attr->lcomms, "", "text: no large communities");
	ok(!r.attr->has_med && !r.attr->has_local_pref, "text: no MED, no LOCAL_PREF");
	is_int(r.attr->origin, 2, "text: ORIGIN INCOMPLETE");
	const struct bgp_attr *first = NULL;
	if (bgp_rib_lookup(rib, p, BGP_AFI_IPV4, BGP_SAFI_UNICAST, NULL, a1, NULL, &r))
		first = r.attr;
	bgp_rib_unlock(rib);

	/* the same attributes with two communities swapped on the wire: the same set */
	uint8_t swapped[sizeof(attrs_full)];
	const uint8_t nlri3[] = { 24, 192, 0, 3 }, a3[] = { 192, 0, 3, 1 };
	memcpy(swapped, attrs_full, sizeof(swapped));
	memcpy(swapped + 51, attrs_full + 55, 4);	/* COMMUNITIES values start at 48 + 3 */
	memcpy(swapped + 55, attrs_full + 51, 4);
	bgp_rib_wrlock(rib);
	is_int(feed(rib, p, swapped, sizeof(swapped), nlri3, sizeof(nlri3)), 1, "text: reordered UPDATE applied");
	ok(bgp_rib_lookup(rib, p, BGP_AFI_IPV4, BGP_SAFI_UNICAST, NULL, a3, NULL, &r) && r.attr == first,
	    "text: communities in another order share the attribute set");
	struct bgp_rib_stats st;
	bgp_rib_stats(rib, &st);
	is_int(st.attrs, 2, "text: two distinct sets for three routes");
	is_int(bgp_rib_peer_find(rib, &id.addr), p, "peer found by session address");
	struct bgp_addr rid = { BGP_AFI_IPV4, { 1, 2, 3, 4 } }, none = { BGP_AFI_IPV4, { 1, 2, 3, 5 } };
	is_int(bgp_rib_peer_find(rib, &rid), p, "peer found by BGP Identifier");
	is_int(bgp_rib_peer_find(rib, &none), -1, "unknown peer");
	bgp_rib_unlock(rib);
	bgp_rib_free(rib);
}

/* ---- the brute-force reference ---- */

#define NATTR 24
#define MAXREF 6000

struct ref {
	int peer, tbl;			/* tbl 0..3: v4, v6, vpn4, vpn6 */
	struct bgp_rd rd;
	uint8_t addr[16];
	unsigned plen;
	uint32_t path_id;
	int attr;
	unsigned long seq;
	bool alive;
};

static struct ref refs[MAXREF];
static size_t n_refs;
static unsigned long seq_ctr;

static const uint16_t tbl_afi[4] = { BGP_AFI_IPV4, BGP_AFI_IPV6, BGP_AFI_IPV4, BGP_AFI_IPV6 };
static const uint8_t tbl_safi[4] = { BGP_SAFI_UNICAST, BGP_SAFI_UNICAST, BGP_SAFI_VPN, BGP_SAFI_VPN };

static unsigned tbl_bytes(int t)
{
	return tbl_afi[t] == BGP_AFI_IPV4 ? 4 : 16;
}

/* Attribute set i: distinct LOCAL_PREF; next hops shared by several sets; a one-ASN path. */
static void mk_attrs(int i, struct bgp_attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->has_origin = true;
	a->has_local_pref = true;
	a->local_pref = 100 + (uint32_t)i;
	a->next_hop.afi = BGP_AFI_IPV4;
	a->next_hop.a[0] = 10;
	a->next_hop.a[3] = (uint8_t)(i % 5);
	a->has_as_path = true;
	a->as_path.n_seg = 1;
	a->as_path.n_asn = 1;
	a->as_path.seg[0] = (struct bgp_as_seg){ BGP_AS_SEQUENCE, 0, 1 };
	a->as_path.asn[0] = 65000 + (uint32_t)(i % 7);
}

static bool rd_eq(const struct bgp_rd *x, const struct bgp_rd *y)
{
	return x->type == y->type && x->admin == y->admin && x->assigned == y->assigned;
}

static bool covers(const uint8_t *pfx, unsigned plen, const uint8_t *addr)
{
	unsigned full = plen / 8, rest = plen % 8;

	if (memcmp(pfx, addr, full) != 0)
		return false;
	return rest == 0 || ((pfx[full] ^ addr[full]) & (0xff00 >> rest) & 0xff) == 0;
}

static void mask(uint8_t *a, unsigned plen, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		a[i] &= plen > 8 * i ? (uint8_t)(0xff00 >> (plen - 8 * i)) : 0;
	}
}

static struct ref *ref_find(int peer, int tbl, const struct bgp_rd *rd, const uint8_t *addr, unsigned plen,
    uint32_t pid)
{
	for (size_t i = 0; i < n_refs; i++) {
		struct ref *r = &refs[i];
		if (r->alive && r->peer == peer && r->tbl == tbl && r->plen == plen && r->path_id == pid &&
		    rd_eq(&r->rd, rd) && memcmp(r->addr, addr, 16) == 0)
			return r;
	}
	return NULL;
}

static int nh_of(int attr)
{
	return attr % 5;
}

/* The reference lookup: longest alive cover; nh match, else the earliest received. */
static const struct ref *ref_lookup(int peer, int tbl, const struct bgp_rd *rd, const uint8_t *addr, int nh)
{
	const struct ref *best = NULL, *best_nh = NULL;

	for (size_t i = 0; i < n_refs; i++) {
		const struct ref *r = &refs[i];
		if (!r->alive || r->peer != peer || r->tbl != tbl || (tbl >= 2 && !rd_eq(&r->rd, rd)) ||
		    !covers(r->addr, r->plen, addr))
			continue;
		if (best && r->plen < best->plen)
			continue;
		if (best && r->plen > best->plen)
			best_nh = NULL;
		if (!best || r->plen > best->plen || r->seq < best->seq)
			best = r;
		if (nh >= 0 && nh_of(r->attr) == nh && (!best_nh || r->seq < best_nh->seq))
			best_nh = r;
	}
	if (best_nh && best_nh->plen == best->plen)
		return best_nh;
	return best;
}

static struct bgp_rd pick_rd(void)
{
	static const struct bgp_rd rds[3] = { { 0, 65000, 1 }, { 1, 0x0a000001, 5 }, { 2, 4200000000u, 7 } };
	return rds[rnd(3)];
}

/* A prefix of table t: fresh, or a longer/shorter relative of an existing one. */
static void pick_prefix(int t, uint8_t *addr, unsigned *plen)
{
	unsigned bytes = tbl_bytes(t), bits = bytes * 8;

	memset(addr, 0, 16);
	if (n_refs && rnd(3)) {
		const struct ref *o = &refs[rnd((uint32_t)n_refs)];
		if (o->tbl == t) {
			memcpy(addr, o->addr, 16);
			for (unsigned i = 0; i < bytes; i++)
				addr[i] ^= rnd(4) ? 0 : (uint8_t)rnd(256);
			*plen = o->plen + rnd(9) > 4 ? o->plen + rnd(9) - 4 : 0;
			if (*plen > bits)
				*plen = bits;
			mask(addr, *plen, bytes);
			return;
		}
	}
	for (unsigned i = 0; i < bytes; i++)
		addr[i] = (uint8_t)rnd(4);	/* a small space: nesting and collisions */
	*plen = rnd(bits + 1);
	mask(addr, *plen, bytes);
}

static void nlri_of(const struct ref *r, bool addpath, bool withdraw, struct bgp_nlri *n)
{
	memset(n, 0, sizeof(*n));
	n->withdraw = withdraw;
	n->afi = tbl_afi[r->tbl];
	n->safi = tbl_safi[r->tbl];
	n->plen = (uint8_t)r->plen;
	memcpy(n->addr, r->addr, 16);
	n->has_path_id = addpath;
	n->path_id = r->path_id;
	if (r->tbl >= 2) {
		n->has_rd = true;
		n->rd = r->rd;
		n->n_labels = 1;
		n->label[0] = 16 + r->path_id;
	}
}

/* One random announcement or withdrawal applied to both the RIB and the reference. */
static void random_op(struct bgp_rib *rib, int peer, bool addpath)
{
	struct ref k = { .peer = peer, .tbl = (int)rnd(4) };
	struct bgp_attrs a;
	struct bgp_nlri n;

	pick_prefix(k.tbl, k.addr, &k.plen);
	if (k.tbl >= 2)
		k.rd = pick_rd();
	k.path_id = addpath ? rnd(3) : 0;	/* 0 meets the routes sent without ADD-PATH */
	struct ref *old = ref_find(peer, k.tbl, &k.rd, k.addr, k.plen, k.path_id);
	bool withdraw = rnd(10) < 3;
	nlri_of(&k, addpath, withdraw, &n);
	if (withdraw) {
		bgp_rib_apply(rib, peer, &n, NULL);
		if (old)
			old->alive = false;
		return;
	}
	k.attr = (int)rnd(NATTR);
	mk_attrs(k.attr, &a);
	bgp_rib_apply(rib, peer, &n, &a);
	if (old) {
		old->attr = k.attr;
	} else if (n_refs < MAXREF) {
		k.alive = true;
		k.seq = seq_ctr++;
		refs[n_refs++] = k;
	}
}

static size_t ref_count(int peer)
{
	size_t n = 0;
	for (size_t i = 0; i < n_refs; i++)
		n += refs[i].alive && (peer < 0 || refs[i].peer == peer);
	return n;
}

static size_t ref_attrs(void)
{
	bool seen[NATTR] = { false };
	size_t n = 0;

	for (size_t i = 0; i < n_refs; i++) {
		if (refs[i].alive && !seen[refs[i].attr]) {
			seen[refs[i].attr] = true;
			n++;
		}
	}
	return n;
}

/* An address to look up: inside an existing prefix, or anywhere in the small space. */
static void pick_addr(int t, uint8_t *addr, struct bgp_rd *rd)
{
	unsigned bytes = tbl_bytes(t);

	memset(addr, 0, 16);
	*rd = pick_rd();
	if (n_refs && rnd(2)) {
		const struct ref *o = &refs[rnd((uint32_t)n_refs)];
		if (o->tbl == t) {
			memcpy(addr, o->addr, 16);
			*rd = o->rd;
			for (unsigned b = o->plen; b < bytes * 8; b++)
				if (rnd(2))
					addr[b / 8] |= (uint8_t)(0x80 >> (b % 8));
			return;
		}
	}
	for (unsigned i = 0; i < bytes; i++)
		addr[i] = (uint8_t)rnd(4);
}

static int check_lookups(struct bgp_rib *rib, int peer, int count)
{
	int bad = 0;

	for (int i = 0; i < count; i++) {
		int t = (int)rnd(4), nh = rnd(3) ? -1 : (int)rnd(5);
		uint8_t addr[16];
		struct bgp_rd rd;
		struct bgp_route r;
		struct bgp_addr nha = { BGP_AFI_IPV4, { 10, 0, 0, (uint8_t)nh } };
		pick_addr(t, addr, &rd);
		const struct ref *want = ref_lookup(peer, t, &rd, addr, nh);
		bool got = bgp_rib_lookup(rib, peer, tbl_afi[t], tbl_safi[t], t >= 2 ? &rd : NULL, addr,
		    nh >= 0 ? &nha : NULL, &r);
		if (got != (want != NULL)) {
			bad++;
			continue;
		}
		if (!got)
			continue;
		if (r.plen != want->plen || memcmp(r.addr, want->addr, 16) != 0 || r.path_id != want->path_id ||
		    r.attr->local_pref != 100 + (uint32_t)want->attr || r.afi != tbl_afi[t] ||
		    r.safi != tbl_safi[t] || (t >= 2 && (!rd_eq(&r.rd, &want->rd) || r.n_labels != 1 ||
		    r.label[0] != 16 + want->path_id)))
			bad++;
	}
	return bad;
}

/* The walk's order: table, then RD, address and length, then newest first. */
static int ref_cmp(const void *x, const void *y)
{
	const struct ref *a = *(const struct ref *const *)x, *b = *(const struct ref *const *)y;
	uint64_t ra = (uint64_t)a->rd.type << 48 | (uint64_t)a->rd.admin << 16 | a->rd.assigned;
	uint64_t rb = (uint64_t)b->rd.type << 48 | (uint64_t)b->rd.admin << 16 | b->rd.assigned;
	int c;

	if (a->tbl != b->tbl)
		return a->tbl - b->tbl;
	if (a->rd.type == 0)
		ra = (uint64_t)a->rd.admin << 32 | a->rd.assigned;
	if (b->rd.type == 0)
		rb = (uint64_t)b->rd.admin << 32 | b->rd.assigned;
	if (ra != rb)
		return ra < rb ? -1 : 1;
	if ((c = memcmp(a->addr, b->addr, 16)) != 0)
		return c;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return a->seq > b->seq ? -1 : a->seq < b->seq;	/* paths of a prefix newest first */
}

struct walk_ctx {
	const struct ref **want;
	size_t n, at;
	int bad;
};

static int on_route(void *arg, const struct bgp_route *r)
{
	struct walk_ctx *w = arg;
	if (w->at >= w->n) {
		w->bad++;
		return 0;
	}
	const struct ref *e = w->want[w->at++];
	if (r->afi != tbl_afi[e->tbl] || r->safi != tbl_safi[e->tbl] || r->plen != e->plen ||
	    memcmp(r->addr, e->addr, 16) != 0 || r->path_id != e->path_id ||
	    r->attr->local_pref != 100 + (uint32_t)e->attr || r->has_rd != (e->tbl >= 2) ||
	    (e->tbl >= 2 && !rd_eq(&r->rd, &e->rd)))
		w->bad++;
	return 0;
}

static void check_walk(struct bgp_rib *rib, int peer)
{
	struct walk_ctx w = { .want = malloc(sizeof(*w.want) * (n_refs + 1)) };

	for (size_t i = 0; i < n_refs; i++)
		if (refs[i].alive && refs[i].peer == peer)
			w.want[w.n++] = &refs[i];
	qsort(w.want, w.n, sizeof(*w.want), ref_cmp);
	bgp_rib_walk(rib, peer, on_route, &w);
	ok(w.bad == 0 && w.at == w.n, "walk of peer %d: %zu routes in prefix order (%d wrong)", peer, w.n, w.bad);
	w.at = 0;
	w.bad = 0;
	for (int t = 0; t < 4; t++)
		bgp_rib_walk_table(rib, peer, tbl_afi[t], tbl_safi[t], on_route, &w);
	ok(w.bad == 0 && w.at == w.n, "table by table the same (%d wrong)", w.bad);
	free(w.want);
}

static void peer_drop_ref(int peer)
{
	for (size_t i = 0; i < n_refs; i++)
		if (refs[i].peer == peer)
			refs[i].alive = false;
}

/*
 * Random announcements and withdrawals from two peers; index_bits 0 = the
 * default index (unused at this size); a ceiling never reached takes the
 * path that checks the bytes first.
 */
static void test_random(uint8_t index_bits, size_t max_bytes)
{
	struct bgp_rib *rib = bgp_rib_new(&(struct bgp_rib_cfg){ .max_peers = 3, .index_bits = index_bits,
	    .max_bytes = max_bytes });
	struct bgp_rib_stats st, base;
	struct bgp_peer_id id0 = { .addr = { BGP_AFI_IPV4, { 10, 9, 0, 1 } }, .bgp_id = 1 };
	struct bgp_peer_id id1 = { .addr = { BGP_AFI_IPV6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } }, .bgp_id = 2 };

	bgp_rib_stats(rib, &base);
	bgp_rib_wrlock(rib);
	int p0 = bgp_rib_peer_add(rib, &id0), p1 = bgp_rib_peer_add(rib, &id1);
	ok(p0 >= 0 && p1 >= 0 && p0 != p1, "two peers added");
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 1500; i++)
			random_op(rib, rnd(2) ? p0 : p1, false);
		/* p1 uses ADD-PATH from here on: its earlier routes keep path id 0 */
		for (int i = 0; i < 300 && round > 0; i++)
			random_op(rib, p1, true);
		bgp_rib_stats(rib, &st);
		is_int(st.routes, ref_count(-1), "round: routes match the reference");
		is_int(bgp_rib_peer_routes(rib, p0), ref_count(p0), "round: peer 0 routes");
		is_int(st.attrs, ref_attrs(), "round: distinct attribute sets");
		is_int(check_lookups(rib, p0, 3000), 0, "round: peer 0 lookups match brute force");
		is_int(check_lookups(rib, p1, 3000), 0, "round: peer 1 (ADD-PATH) lookups match brute force");
		check_walk(rib, p0);
		check_walk(rib, p1);
	}
	bgp_rib_peer_del(rib, p1);
	peer_drop_ref(p1);
	bgp_rib_stats(rib, &st);
	is_int(st.routes, ref_count(-1), "peer delete: only peer 0's routes left");
	is_int(st.attrs, ref_attrs(), "peer delete: only peer 0's attribute sets left");
	is_int(st.peers, 1, "peer delete: one peer");
	ok(bgp_rib_peer(rib, p1) == NULL, "peer delete: slot free");
	is_int(check_lookups(rib, p0, 2000), 0, "peer delete: peer 0 lookups unchanged");
	int p2 = bgp_rib_peer_add(rib, &id1);
	is_int(p2, p1, "peer slot reused");
	is_int(bgp_rib_peer_routes(rib, p2), 0, "reused slot starts empty");
	bgp_rib_peer_del(rib, p0);
	bgp_rib_peer_del(rib, p2);
	peer_drop_ref(p0);
	bgp_rib_stats(rib, &st);
	is_int(st.routes, 0, "all peers deleted: no routes");
	is_int(st.attrs, 0, "all peers deleted: no attribute sets");
	is_int(st.bytes, base.bytes, "all peers deleted: bytes back to the empty RIB's");
	bgp_rib_unlock(rib);
	bgp_rib_free(rib);
	n_refs = 0;
	seq_ctr = 0;
}

/* Withdrawing every route one by one releases attributes and arenas as deleting the peer does. */
static void test_refcounts(void)
{
	struct bgp_rib *rib = bgp_rib_new(NULL);
	struct bgp_peer_id id = { .addr = { BGP_AFI_IPV4, { 10, 0, 0, 9 } } };
	struct bgp_rib_stats base, st;
	struct bgp_attrs a, b;
	struct bgp_nlri n = { .afi = BGP_AFI_IPV4, .safi = BGP_SAFI_UNICAST, .plen = 24 };

	bgp_rib_stats(rib, &base);
	int p = bgp_rib_peer_add(rib, &id);
	mk_attrs(1, &a);
	mk_attrs(2, &b);
	for (int i = 0; i < 1000; i++) {
		n.addr[0] = (uint8_t)(i >> 8);
		n.addr[1] = (uint8_t)i;
		bgp_rib_apply(rib, p, &n, &a);
	}
	bgp_rib_stats(rib, &st);
	ok(st.routes == 1000 && st.attrs == 1, "1000 routes over one attribute set (%zu sets)", st.attrs);
	for (int i = 0; i < 1000; i += 2) {
		n.addr[0] = (uint8_t)(i >> 8);
		n.addr[1] = (uint8_t)i;
		bgp_rib_apply(rib, p, &n, &b);
	}
	bgp_rib_stats(rib, &st);
	ok(st.routes == 1000 && st.attrs == 2, "half replaced: two sets");
	for (int i = 1; i < 1000; i += 2) {
		n.addr[0] = (uint8_t)(i >> 8);
		n.addr[1] = (uint8_t)i;
		bgp_rib_apply(rib, p, &n, &b);
	}
	bgp_rib_stats(rib, &st);
	ok(st.routes == 1000 && st.attrs == 1, "all replaced: the first set freed");
	n.withdraw = true;
	for (int i = 0; i < 1000; i++) {
		n.addr[0] = (uint8_t)(i >> 8);
		n.addr[1] = (uint8_t)i;
		bgp_rib_apply(rib, p, &n, NULL);
	}
	bgp_rib_apply(rib, p, &n, NULL);	/* unknown: no error */
	bgp_rib_stats(rib, &st);
	ok(st.routes == 0 && st.attrs == 0, "all withdrawn: nothing left");
	is_int(st.bytes, base.bytes, "all withdrawn: bytes back to the empty RIB's");
	bgp_rib_free(rib);
}

/* The route of peer p at 10.x.y.0/24 (x.y = i) carries local_pref lp and AS path "as" (the truth mk_attrs() sets). */
static bool route_is(struct bgp_rib *rib, int p, int i, uint32_t lp, const char *as)
{
	uint8_t addr[4] = { 10, (uint8_t)(i >> 8), (uint8_t)i, 1 };
	struct bgp_route r;

	return bgp_rib_lookup(rib, p, BGP_AFI_IPV4, BGP_SAFI_UNICAST, NULL, addr, NULL, &r) && r.plen == 24 &&
	    r.attr->local_pref == lp && strcmp(r.attr->as_path, as) == 0;
}

/*
 * bgp_rib_apply_upd(): a set interned once per UPDATE; the same struct
 * bgp_attrs refilled for the next UPDATE; a set freed in the middle of an
 * UPDATE (its slot taken by another set) is not reused.
 */
static void test_upd(void)
{
	struct bgp_rib *rib = bgp_rib_new(NULL);
	struct bgp_peer_id id = { .addr = { BGP_AFI_IPV4, { 10, 0, 0, 9 } } };
	struct bgp_rib_upd u;
	struct bgp_rib_stats st;
	struct bgp_attrs a, b;
	struct bgp_nlri n = { .afi = BGP_AFI_IPV4, .safi = BGP_SAFI_UNICAST, .plen = 24, .addr = { 10 } };
	bool good = true;

	int p = bgp_rib_peer_add(rib, &id);
	bgp_rib_upd_begin(&u);
	mk_attrs(1, &a);
	for (int i = 0; i < 300; i++) {
		n.addr[1] = (uint8_t)(i >> 8), n.addr[2] = (uint8_t)i;
		good &= bgp_rib_apply_upd(rib, p, &n, &a, &u) == 0;
	}
	bgp_rib_stats(rib, &st);
	ok(good && st.routes == 300 && st.attrs == 1, "one UPDATE of 300 NLRI: one set (%zu)", st.attrs);
	good = true;
	for (int i = 0; i < 300; i++)
		good &= route_is(rib, p, i, 101, "65001");
	ok(good, "one UPDATE: every route carries its attributes");

	/* the next UPDATE in the same struct: half the prefixes move to another set */
	bgp_rib_upd_begin(&u);
	mk_attrs(3, &a);
	for (int i = 0; i < 300; i += 2) {
		n.addr[1] = (uint8_t)(i >> 8), n.addr[2] = (uint8_t)i;
		bgp_rib_apply_upd(rib, p, &n, &a, &u);
	}
	good = true;
	for (int i = 0; i < 300; i++)
		good &= i % 2 ? route_is(rib, p, i, 101, "65001") : route_is(rib, p, i, 103, "65003");
	bgp_rib_stats(rib, &st);
	ok(good && st.attrs == 2, "a second UPDATE refilling the same struct: its own set");

	/* in one UPDATE: X announced with a new set, X withdrawn (the set freed), its slot taken by b, Y announced */
	bgp_rib_upd_begin(&u);
	mk_attrs(4, &a);
	mk_attrs(5, &b);
	n.addr[1] = 9, n.addr[2] = 0;
	bgp_rib_apply_upd(rib, p, &n, &a, &u);
	n.withdraw = true;
	bgp_rib_apply_upd(rib, p, &n, &a, &u);
	n.withdraw = false;
	n.addr[2] = 1;
	bgp_rib_apply(rib, p, &n, &b);
	n.addr[2] = 2;
	bgp_rib_apply_upd(rib, p, &n, &a, &u);
	ok(route_is(rib, p, 9 << 8 | 1, 105, "65005") && route_is(rib, p, 9 << 8 | 2, 104, "65004"),
	    "a set freed within an UPDATE is interned again, not taken from its reused slot");
	bgp_rib_stats(rib, &st);
	is_int(st.attrs, 4, "four sets");
	bgp_rib_free(rib);
}

static void test_max_bytes(void)
{
	struct bgp_rib *probe = bgp_rib_new(NULL);
	struct bgp_rib_stats st;
	struct bgp_attrs a;
	struct bgp_nlri n = { .afi = BGP_AFI_IPV4, .safi = BGP_SAFI_UNICAST, .plen = 32 };
	struct bgp_peer_id id = { .addr = { BGP_AFI_IPV4, { 10, 0, 0, 9 } } };
	struct bgp_route r;

	bgp_rib_stats(probe, &st);
	bgp_rib_free(probe);
	size_t cap = st.bytes + 64 * 1024;
	struct bgp_rib *rib = bgp_rib_new(&(struct bgp_rib_cfg){ .max_bytes = cap });
	int p = bgp_rib_peer_add(rib, &id), accepted = 0, refused = 0;
	mk_attrs(3, &a);
	for (uint32_t i = 0; i < 20000; i++) {
		n.addr[1] = (uint8_t)(i >> 16);
		n.addr[2] = (uint8_t)(i >> 8);
		n.addr[3] = (uint8_t)i;
		if (bgp_rib_apply(rib, p, &n, &a) == 0)
			accepted++;
		else
			refused++;
	}
	bgp_rib_stats(rib, &st);
	ok(refused > 0 && accepted > 0, "max_bytes: %d accepted, %d refused", accepted, refused);
	ok(st.bytes <= cap, "max_bytes: %zu bytes within the ceiling %zu", st.bytes, cap);
	is_int(st.refused, refused, "max_bytes: refusals counted");
	is_int(st.routes, accepted, "max_bytes: accepted routes kept");
	n.addr[1] = n.addr[2] = n.addr[3] = 0;
	ok(bgp_rib_lookup(rib, p, BGP_AFI_IPV4, BGP_SAFI_UNICAST, NULL, n.addr, NULL, &r) && r.plen == 32,
	    "max_bytes: an accepted route is found");
	bgp_rib_free(rib);
}

/* ---- big tables: the index and the compaction, against an exact-match reference probed by length ---- */

#define BIG_CAP (1u << 18)

/* A set of prefixes (first 64 bits, length) to attribute ids; -1 = withdrawn. */
struct big_ref {
	uint64_t bits[BIG_CAP];
	uint8_t len[BIG_CAP];
	int val[BIG_CAP];
	bool used[BIG_CAP];
};

static uint64_t mask64(unsigned len)
{
	return len == 0 ? 0 : len >= 64 ? UINT64_MAX : ~(UINT64_MAX >> len);
}

/* The entry of bits/len (created when add, else NULL when missing). */
static int *big_slot_at(struct big_ref *b, uint64_t bits, unsigned len, bool add)
{
	uint64_t h = (bits ^ (uint64_t)len * 0x9E3779B97F4A7C15ULL) * 0xff51afd7ed558ccdULL;
	uint32_t i = (uint32_t)(h >> 40) & (BIG_CAP - 1);

	while (b->used[i] && (b->bits[i] != bits || b->len[i] != len))
		i = (i + 1) & (BIG_CAP - 1);
	if (!b->used[i] && !add)
		return NULL;
	if (!b->used[i]) {
		b->used[i] = true;
		b->bits[i] = bits;
		b->len[i] = (uint8_t)len;
		b->val[i] = -1;
	}
	return &b->val[i];
}

static int *big_slot(struct big_ref *b, uint64_t bits, unsigned len)
{
	return big_slot_at(b, bits, len, true);
}

/* The longest live prefix covering addr (64 bits), probing every length down from maxlen; -1 if none. */
static int big_lpm(struct big_ref *b, uint64_t addr, unsigned maxlen, unsigned *len)
{
	for (int l = (int)maxlen; l >= 0; l--) {
		const int *v = big_slot_at(b, addr & mask64((unsigned)l), (unsigned)l, false);
		if (v && *v >= 0) {
			*len = (unsigned)l;
			return *v;
		}
	}
	return -1;
}

static void big_nlri(bool v6, uint64_t bits, unsigned len, bool withdraw, struct bgp_nlri *n)
{
	memset(n, 0, sizeof(*n));
	n->withdraw = withdraw;
	n->afi = v6 ? BGP_AFI_IPV6 : BGP_AFI_IPV4;
	n->safi = BGP_SAFI_UNICAST;
	n->plen = (uint8_t)len;
	for (int i = 0; i < 8; i++)
		n->addr[i] = (uint8_t)(bits >> (56 - 8 * i));
}

/* A prefix of a few /8s (IPv4, lengths 8..32) or /16s (IPv6, lengths 16..64), nesting often. */
static uint64_t big_pick(bool v6, unsigned *len)
{
	uint64_t top = v6 ? (uint64_t)(0x2001 + rnd(3)) << 48 : (uint64_t)(10 + rnd(3)) << 56;
	uint64_t bits = top | (xorshift64(&rng) & (v6 ? 0xffffffffffffULL : 0xffffff00000000ULL));
	unsigned lo = v6 ? 16 : 8, hi = v6 ? 64 : 32;

	*len = lo + rnd(hi - lo + 1);
	if (rnd(2))
		*len = v6 ? 48 : 24;
	return bits & mask64(*len);
}

static size_t big_round(struct bgp_rib *rib, int p, struct big_ref *b, bool v6, int n, int withdraw_pct)
{
	struct bgp_attrs a;
	struct bgp_nlri nl;
	size_t live = 0;

	for (int i = 0; i < n; i++) {
		unsigned len;
		uint64_t bits = big_pick(v6, &len);
		bool wd = (int)rnd(100) < withdraw_pct;
		int attr = (int)rnd(NATTR);
		mk_attrs(attr, &a);
		big_nlri(v6, bits, len, wd, &nl);
		bgp_rib_apply(rib, p, &nl, &a);
		*big_slot(b, bits, len) = wd ? -1 : attr;
	}
	for (uint32_t i = 0; i < BIG_CAP; i++)
		live += b->used[i] && b->val[i] >= 0;
	return live;
}

static int big_check(struct bgp_rib *rib, int p, struct big_ref *b, bool v6, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		unsigned len, wlen = 0;
		uint64_t addr = big_pick(v6, &len) | (xorshift64(&rng) & ~mask64(len));
		struct bgp_nlri nl;
		struct bgp_route r;
		big_nlri(v6, addr, 64, false, &nl);
		if (!v6)
			addr &= mask64(32);
		int want = big_lpm(b, addr, v6 ? 64 : 32, &wlen);
		bool got = bgp_rib_lookup(rib, p, nl.afi, BGP_SAFI_UNICAST, NULL, nl.addr, NULL, &r);
		if (got != (want >= 0) || (got && (r.plen != wlen || r.attr->local_pref != 100 + (uint32_t)want))) {
			if (bad < 5)
				printf("# %016llx: got %d /%u, want %d /%u\n", (unsigned long long)addr, got,
				    got ? r.plen : 0, want, wlen);
			bad++;
		}
	}
	return bad;
}

/* Withdraw every live prefix of b. */
static void big_clear(struct bgp_rib *rib, int p, struct big_ref *b, bool v6)
{
	struct bgp_nlri nl;

	for (uint32_t i = 0; i < BIG_CAP; i++) {
		if (b->used[i] && b->val[i] >= 0) {
			big_nlri(v6, b->bits[i], b->len[i], true, &nl);
			bgp_rib_apply(rib, p, &nl, NULL);
			b->val[i] = -1;
		}
	}
}

static void test_big(void)
{
	struct bgp_rib *rib = bgp_rib_new(NULL);
	struct bgp_peer_id id = { .addr = { BGP_AFI_IPV4, { 10, 0, 0, 9 } } };
	struct big_ref *b4 = calloc(1, sizeof(*b4)), *b6 = calloc(1, sizeof(*b6));
	struct bgp_rib_stats base, st;

	bgp_rib_stats(rib, &base);
	int p = bgp_rib_peer_add(rib, &id);
	for (int round = 0; round < 3; round++) {
		size_t live4 = big_round(rib, p, b4, false, 40000, round * 20);
		size_t live6 = big_round(rib, p, b6, true, 30000, round * 20);
		bgp_rib_stats(rib, &st);
		ok(st.routes == live4 + live6, "big round %d: %zu routes (want %zu + %zu)", round, st.routes,
		    live4, live6);
		/* past 16384 routes each table has its 2^18 x 8-byte index */
		ok(st.bytes > base.bytes + 2 * (8u << 18), "big: %zu bytes, indexes included", st.bytes);
		is_int(big_check(rib, p, b4, false, 20000), 0, "big: IPv4 lookups through the index");
		is_int(big_check(rib, p, b6, true, 20000), 0, "big: IPv6 lookups through the index");
	}
	big_clear(rib, p, b4, false);
	big_clear(rib, p, b6, true);
	bgp_rib_stats(rib, &st);
	ok(st.routes == 0 && st.attrs == 0, "big: all withdrawn");
	is_int(st.bytes, base.bytes + 0, "big: bytes back to the empty RIB's");
	bgp_rib_free(rib);
	free(b4);
	free(b6);
}

/* Bad arguments are ignored, not crashed on: unknown peers and families, lengths past the address. */
static void test_bad_input(void)
{
	struct bgp_rib *rib = bgp_rib_new(&(struct bgp_rib_cfg){ .max_peers = 2 });
	struct bgp_peer_id id = { .addr = { BGP_AFI_IPV4, { 10, 0, 0, 9 } } };
	struct bgp_nlri n = { .afi = BGP_AFI_IPV4, .safi = BGP_SAFI_UNICAST, .plen = 33 };
	struct bgp_route r;
	struct bgp_rib_stats st;
	const uint8_t addr[16] = { 0 };

	int p = bgp_rib_peer_add(rib, &id);
	is_int(bgp_rib_peer_add(rib, &id) >= 0 && bgp_rib_peer_add(rib, &id) == -1, 1, "third peer of two refused");
	bgp_rib_apply(rib, p, &n, NULL);		/* /33 */
	n.plen = 8;
	n.afi = 3;
	bgp_rib_apply(rib, p, &n, NULL);		/* unknown AFI */
	n.afi = BGP_AFI_IPV4;
	n.safi = 2;
	bgp_rib_apply(rib, p, &n, NULL);		/* multicast */
	n.safi = BGP_SAFI_UNICAST;
	bgp_rib_apply(rib, -1, &n, NULL);
	bgp_rib_apply(rib, 7, &n, NULL);
	bgp_rib_stats(rib, &st);
	is_int(st.routes, 0, "bad NLRI and peers: nothing stored");
	bgp_rib_apply(rib, p, &n, NULL);		/* an announcement without attributes */
	ok(bgp_rib_lookup(rib, p, BGP_AFI_IPV4, BGP_SAFI_UNICAST, NULL, addr, NULL, &r) &&
	    strcmp(r.attr->as_path, "") == 0 && r.attr->first_as == 0, "no attributes: an empty set");
	ok(!bgp_rib_lookup(rib, 5, BGP_AFI_IPV4, BGP_SAFI_UNICAST, NULL, addr, NULL, &r) &&
	    !bgp_rib_lookup(rib, p, 9, BGP_SAFI_UNICAST, NULL, addr, NULL, &r) &&
	    !bgp_rib_lookup(rib, p, BGP_AFI_IPV6, BGP_SAFI_VPN, NULL, addr, NULL, &r),
	    "lookups in unknown peers and empty tables find nothing");
	bgp_rib_peer_del(rib, -1);
	bgp_rib_peer_del(rib, 9);
	is_int(bgp_rib_walk(rib, 9, NULL, NULL), 0, "walk of an unknown peer");
	ok(bgp_rib_peer(rib, 9) == NULL && bgp_rib_peer_routes(rib, -1) == 0, "unknown peer: no identity, no routes");
	bgp_rib_free(rib);
	bgp_rib_free(NULL);
}

/* ---- a writer and readers at once (run under TSan by `make tsan`) ---- */

struct thr {
	struct bgp_rib *rib;
	int peer;
	int stop;
	long found;
};

static void *reader(void *arg)
{
	struct thr *t = arg;
	uint64_t s = 0x9E3779B97F4A7C15ULL ^ (uintptr_t)&s;

	while (!__atomic_load_n(&t->stop, __ATOMIC_RELAXED)) {
		struct bgp_route r;
		uint8_t addr[4] = { 10, (uint8_t)xorshift64(&s), (uint8_t)xorshift64(&s), 1 };
		bgp_rib_rdlock(t->rib);
		if (bgp_rib_lookup(t->rib, t->peer, BGP_AFI_IPV4, BGP_SAFI_UNICAST, NULL, addr, NULL, &r) &&
		    r.attr->as_path[0] != '\0')
			__atomic_add_fetch(&t->found, 1, __ATOMIC_RELAXED);
		bgp_rib_unlock(t->rib);
	}
	return NULL;
}

static void test_threads(void)
{
	struct thr t = { .rib = bgp_rib_new(NULL) };
	struct bgp_peer_id id = { .addr = { BGP_AFI_IPV4, { 10, 0, 0, 9 } } };
	pthread_t th[3];
	struct bgp_attrs a;
	struct bgp_nlri n = { .afi = BGP_AFI_IPV4, .safi = BGP_SAFI_UNICAST, .plen = 24, .addr = { 10 } };

	bgp_rib_wrlock(t.rib);
	t.peer = bgp_rib_peer_add(t.rib, &id);
	bgp_rib_unlock(t.rib);
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, reader, &t);
	for (int i = 0; i < 20000; i++) {
		mk_attrs(i % NATTR, &a);
		n.addr[1] = (uint8_t)rnd(256);
		n.addr[2] = (uint8_t)rnd(256);
		n.withdraw = rnd(3) == 0;
		bgp_rib_wrlock(t.rib);
		bgp_rib_apply(t.rib, t.peer, &n, &a);
		bgp_rib_unlock(t.rib);
	}
	__atomic_store_n(&t.stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	ok(1, "a writer and three readers (%ld hits)", __atomic_load_n(&t.found, __ATOMIC_RELAXED));
	bgp_rib_free(t.rib);
}

int main(void)
{
	test_text();
	test_path_oracle();
	for (uint8_t bits = 0; bits <= 12; bits += 4) {
		printf("# random tables, index_bits %u\n", bits);
		test_random(bits, 0);
		printf("# random tables, index_bits %u, a ceiling of 1 GiB\n", bits);
		test_random(bits, (size_t)1 << 30);
	}
	test_refcounts();
	test_upd();
	test_big();
	test_bad_input();
	test_max_bytes();
	test_threads();
	return tap_done();
}
