/* SPDX-License-Identifier: BSD-3-Clause */
/* test_bgp_enrich.c: records correlated with a real RIB filled from hand-written UPDATEs: fields, patterns, radius, follow_default/nexthop, agent map, ADD-PATH, VPN, truncation. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode/bgp_msg.h"
#include "maps/bgp_maps.h"
#include "maps/bgp_rib.h"
#include "pipeline/bgp_enrich.h"
#include "tap.h"

/* ---- UPDATE bytes, written attribute by attribute ---- */

struct upd {
	uint8_t a[2048];
	size_t n;
};

static void put(struct upd *u, const void *p, size_t n)
{
	if (n)	/* p may be NULL for an empty part */
		memcpy(u->a + u->n, p, n);
	u->n += n;
}

static void put8(struct upd *u, uint8_t v)
{
	u->a[u->n++] = v;
}

static void put16(struct upd *u, uint16_t v)
{
	put8(u, (uint8_t)(v >> 8));
	put8(u, (uint8_t)v);
}

static void put32(struct upd *u, uint32_t v)
{
	put16(u, (uint16_t)(v >> 16));
	put16(u, (uint16_t)v);
}

/* An attribute header with the extended length (flags | 0x10), its length patched by attr_end. */
static size_t attr_begin(struct upd *u, uint8_t flags, uint8_t type)
{
	put8(u, flags | 0x10);
	put8(u, type);
	put16(u, 0);
	return u->n;
}

static void attr_end(struct upd *u, size_t at)
{
	size_t len = u->n - at;
	u->a[at - 2] = (uint8_t)(len >> 8);
	u->a[at - 1] = (uint8_t)len;
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return ntohl(a.s_addr);
}

/* The usual attributes: ORIGIN IGP, AS_SEQUENCE path, NEXT_HOP, and the optional ones when set. */
struct route_def {
	const uint32_t *path;
	int npath;
	const char *nh;
	int64_t med, lp;		/* -1: absent */
	const uint32_t *comms;
	int ncomms;
	const uint32_t *lcomms;		/* triples */
	int nlcomms;
	const uint8_t *segs;		/* set: the AS_PATH's value as given (segments), path unused */
	int nsegs;			/* its bytes */
};

static void put_attrs(struct upd *u, const struct route_def *r, bool with_nh)
{
	size_t at;

	at = attr_begin(u, 0x40, 1);
	put8(u, 0);
	attr_end(u, at);
	at = attr_begin(u, 0x40, 2);
	if (r->segs) {
		put(u, r->segs, (size_t)r->nsegs);
	} else if (r->npath) {
		put8(u, 2);
		put8(u, (uint8_t)r->npath);
		for (int i = 0; i < r->npath; i++)
			put32(u, r->path[i]);
	}
	attr_end(u, at);
	if (with_nh) {
		at = attr_begin(u, 0x40, 3);
		put32(u, ip4(r->nh));
		attr_end(u, at);
	}
	if (r->med >= 0) {
		at = attr_begin(u, 0x80, 4);
		put32(u, (uint32_t)r->med);
		attr_end(u, at);
	}
	if (r->lp >= 0) {
		at = attr_begin(u, 0x40, 5);
		put32(u, (uint32_t)r->lp);
		attr_end(u, at);
	}
	if (r->ncomms) {
		at = attr_begin(u, 0xc0, 8);
		for (int i = 0; i < r->ncomms; i++)
			put32(u, r->comms[i]);
		attr_end(u, at);
	}
	if (r->nlcomms) {
		at = attr_begin(u, 0xc0, 32);
		for (int i = 0; i < 3 * r->nlcomms; i++)
			put32(u, r->lcomms[i]);
		attr_end(u, at);
	}
}

struct apply_ctx {
	struct bgp_rib *rib;
	int peer, applied;
};

static void on_nlri(void *arg, const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	struct apply_ctx *c = arg;
	if (bgp_rib_apply(c->rib, c->peer, n, a) == 0)
		c->applied++;
}

/* Decode body (attributes attrs, then the trailing IPv4 NLRI bytes) and apply it. */
static int feed(struct bgp_rib *rib, int peer, const struct upd *attrs, const uint8_t *nlri,
    size_t nlen, uint8_t addpath_rx)
{
	struct upd b = { .n = 0 };
	struct bgp_session s = { .as4 = true, .addpath_rx = addpath_rx };
	struct bgp_attrs a;
	struct bgp_error e;
	struct apply_ctx c = { rib, peer, 0 };

	put16(&b, 0);
	put16(&b, (uint16_t)attrs->n);
	put(&b, attrs->a, attrs->n);
	put(&b, nlri, nlen);
	bgp_rib_wrlock(rib);
	if (bgp_decode_update(b.a, b.n, &s, &a, on_nlri, &c, &e) != BGP_ACT_OK)
		c.applied = -1;
	bgp_rib_unlock(rib);
	return c.applied;
}

/* Announce prefix "a.b.c.d/len" with r from peer. */
static int announce(struct bgp_rib *rib, int peer, const char *pfx, const struct route_def *r)
{
	struct upd u = { .n = 0 };
	uint8_t nlri[8];
	char buf[32];
	int len;

	snprintf(buf, sizeof(buf), "%s", pfx);
	char *sl = strchr(buf, '/');
	*sl = '\0';
	len = atoi(sl + 1);
	uint32_t v = ip4(buf);
	nlri[0] = (uint8_t)len;
	for (int i = 0; i < 4; i++)
		nlri[1 + i] = (uint8_t)(v >> (24 - 8 * i));
	put_attrs(&u, r, true);
	return feed(rib, peer, &u, nlri, 1 + (size_t)(len + 7) / 8, 0);
}

static int add_peer(struct bgp_rib *rib, const char *addr, uint32_t as)
{
	struct bgp_peer_id id = { .as = as };
	int p;

	id.addr.afi = BGP_AFI_IPV4;
	inet_pton(AF_INET, addr, id.addr.a);
	id.bgp_id = ip4(addr);
	bgp_rib_wrlock(rib);
	p = bgp_rib_peer_add(rib, &id);
	bgp_rib_unlock(rib);
	return p;
}

/* ---- records and configurations ---- */

static void rec_init(struct flow_rec *r, const char *exporter, const char *src, const char *dst)
{
	memset(r, 0, sizeof(*r));
	fr_ip_parse(exporter, &r->k.peer_src_ip);
	fr_ip_parse(src, &r->k.src_ip);
	fr_ip_parse(dst, &r->k.dst_ip);
	r->k.src_mask = r->k.dst_mask = 8;	/* what a NetFlow record says */
	r->k.src_as = 111;
	r->k.dst_as = 222;
}

static void cfg_init(struct core_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->daemon = CFG_NFACCTD;
	c->as_source = "bgp";
	c->net_source = "bgp";
	c->bgp.daemon = true;
}

static const struct bgp_enrich_need all = {
	true, true, true, true, true, true, true, true, true, true, true, true,
	true, true, true, true, true, true, true, false, false,
};

static struct bgp_enrich *mk(const struct core_cfg *c, struct bgp_rib *rib)
{
	int err = 0;
	struct bgp_enrich *e = bgp_enrich_new(c, &all, 1, 128, &err);

	if (!e || err)
		return NULL;
	bgp_enrich_set_rib(e, rib);
	return e;
}

static void enrich(struct bgp_enrich *e, struct flow_rec *r)
{
	bgp_enrich_begin(e);
	bgp_enrich_record(e, r, NULL, NULL);
	bgp_enrich_end(e);
}

static const char *ipstr(const struct fr_ip *ip, char *buf)
{
	if (!ip->af)
		return "";
	inet_ntop(ip->af == 4 ? AF_INET : AF_INET6, ip->a, buf, 64);
	return buf;
}

static char *tmpfile_with(const char *text)
{
	static char path[4][64];
	static int k;
	char *p = path[k++ % 4];
	snprintf(p, 64, "/tmp/test_bgp_enrich.XXXXXX");
	int fd = mkstemp(p);
	if (write(fd, text, strlen(text)) < 0)
		p[0] = '\0';
	close(fd);
	return p;
}

/* ---- the tests ---- */

static const uint32_t path_a[] = { 65010, 65020, 65030 }, path_b[] = { 65011 }, path_src[] = { 65090, 65091 };
#define C(a, b) ((uint32_t)(a) << 16 | (b))
static const uint32_t comms_a[] = { C(1, 65000), C(64999, 1), C(65000, 1), C(65000, 12), C(65001, 100) };
static const uint32_t comms_b[] = { C(65000, 2) };
static const uint32_t comms_c[] = { C(65123, 456) };
static const uint32_t lcomms_a[] = { 65000, 1, 2 };

/* The oracle's routes (bgp-oracle.md): peer 192.0.2.1 */
static struct bgp_rib *rib_oracle(int *peer)
{
	struct bgp_rib *rib = bgp_rib_new(NULL);
	struct route_def r16 = { path_a, 3, "192.0.2.101", 50, 200, comms_a, 5, lcomms_a, 1, NULL, 0 };
	struct route_def r24 = { path_b, 1, "192.0.2.102", -1, 100, comms_b, 1, NULL, 0, NULL, 0 };
	struct route_def r3 = { NULL, 0, "192.0.2.103", -1, 100, comms_c, 1, NULL, 0, NULL, 0 };
	struct route_def r9 = { path_src, 2, "192.0.2.109", -1, 100, NULL, 0, NULL, 0, NULL, 0 };

	*peer = add_peer(rib, "192.0.2.1", 65001);
	announce(rib, *peer, "10.1.0.0/16", &r16);
	announce(rib, *peer, "10.1.2.0/24", &r24);
	announce(rib, *peer, "10.3.0.0/16", &r3);
	announce(rib, *peer, "10.9.0.0/16", &r9);
	return rib;
}

static void test_fields(void)
{
	struct core_cfg c;
	struct flow_rec r;
	char b[64];
	int p;
	struct bgp_rib *rib = rib_oracle(&p);

	cfg_init(&c);
	c.bgp.src_as_path_type = "bgp";
	c.bgp.src_std_comm_type = "bgp";
	c.bgp.src_local_pref_type = "bgp";
	c.bgp.src_med_type = "bgp";
	c.bgp.peer_src_as_type = "bgp";
	struct bgp_enrich *e = mk(&c, rib);
	ok(e != NULL, "set up");

	/* 10.1.5.5: the /16 (what 1.7.7 printed for it, bgp-oracle.md) */
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
	enrich(e, &r);
	is_str(r.k.as_path, "65010 65020 65030", "as_path of the /16");
	is_str(r.k.std_comm, "1:65000 64999:1 65000:1 65000:12 65001:100", "std_comm");
	is_str(r.k.lrg_comm, "65000:1:2", "lrg_comm");
	is_str(r.k.ext_comm, "", "no ext_comm");
	is_int(r.k.local_pref, 200, "local_pref");
	is_int(r.k.med, 50, "med");
	is_int(r.k.dst_as, 65030, "dst_as: origin");
	is_int(r.k.peer_dst_as, 65010, "peer_dst_as: first AS");
	is_str(ipstr(&r.k.dst_net, b), "10.1.0.0", "dst_net");
	is_int(r.k.dst_mask, 16, "dst_mask");
	is_str(ipstr(&r.k.peer_dst_ip, b), "192.0.2.101", "peer_dst_ip: BGP next hop");
	/* the source 10.9.9.9 */
	is_int(r.k.src_as, 65091, "src_as");
	is_str(ipstr(&r.k.src_net, b), "10.9.0.0", "src_net");
	is_int(r.k.src_mask, 16, "src_mask");
	is_str(r.k.src_as_path, "65090 65091", "src_as_path (type bgp)");
	is_str(r.k.src_std_comm, "", "src_std_comm: none on the route");
	is_int(r.k.src_local_pref, 100, "src_local_pref (type bgp)");
	is_int(r.k.peer_src_as, 65090, "peer_src_as (type bgp)");

	/* the more specific /24 */
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.2.3");
	enrich(e, &r);
	is_str(r.k.as_path, "65011", "as_path of the /24");
	is_str(r.k.std_comm, "65000:2", "std_comm of the /24");
	is_int(r.k.med, 0, "no MED: 0");
	is_int(r.k.dst_mask, 24, "dst_mask 24");

	/* no route: the record's values are replaced by nothing (1.7.7: 0, 0.0.0.0/0, "") */
	rec_init(&r, "192.0.2.1", "10.8.8.8", "10.7.7.7");
	memcpy(r.k.as_path, "stale", 6);
	enrich(e, &r);
	is_str(r.k.as_path, "", "no route: as_path ''");
	is_int(r.k.dst_as, 0, "no route: dst_as 0");
	is_int(r.k.dst_mask, 0, "no route: dst_mask 0");
	is_str(ipstr(&r.k.dst_net, b), "0.0.0.0", "no route: dst_net 0.0.0.0");
	is_int(r.k.src_as, 0, "no route: src_as 0");

	/* an exporter that is no BGP peer: nothing found either */
	rec_init(&r, "198.51.100.1", "10.9.9.9", "10.1.5.5");
	enrich(e, &r);
	is_str(r.k.as_path, "", "unknown exporter: no route");
	bgp_enrich_free(e);

	/* src_* BGP text only with its _type; peer_src_as keeps the record's by default */
	cfg_init(&c);
	e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
	r.k.peer_src_as = 4242;
	enrich(e, &r);
	is_str(r.k.src_as_path, "", "src_as_path without bgp_src_as_path_type");
	is_int(r.k.peer_src_as, 4242, "peer_src_as: the record's (netflow)");
	is_int(r.k.src_local_pref, 0, "src_local_pref without its _type");
	bgp_enrich_free(e);

	/* *_as / *_net longest: BGP wins over a record mask as long, not over a longer one */
	cfg_init(&c);
	c.as_source = c.net_source = "longest";
	e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
	r.k.dst_mask = 28;
	r.k.src_mask = 16;
	enrich(e, &r);
	is_int(r.k.dst_mask, 28, "longest: the record's /28 beats BGP's /16");
	is_int(r.k.dst_as, 222, "longest: the record's dst_as kept");
	is_int(r.k.src_mask, 16, "longest: BGP's /16 wins over the record's equal /16");
	is_int(r.k.src_as, 65091, "longest: src_as from BGP");
	bgp_enrich_free(e);
	bgp_rib_free(rib);
}

/* Outputs of 1.7.7 for these patterns over the /16's communities (bgp-oracle.md) */
static void test_patterns(void)
{
	static const struct { const char *pat, *want; } cases[] = {
		{ "00:1", "00:1 00:12" },
		{ "65000:1.", "" },
		{ "65.00", "65000" },
		{ "65000:1.,64999", "64999:1" },
	};
	struct core_cfg c;
	struct flow_rec r;
	int p;
	struct bgp_rib *rib = rib_oracle(&p);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg_init(&c);
		c.bgp.stdcomm_pattern = (char *)cases[i].pat;
		struct bgp_enrich *e = mk(&c, rib);
		rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
		enrich(e, &r);
		char name[64];
		snprintf(name, sizeof(name), "bgp_stdcomm_pattern '%s'", cases[i].pat);
		is_str(r.k.std_comm, cases[i].want, name);
		bgp_enrich_free(e);
	}
	/* the ext pattern on RT:65000:100 gave "100"; radius 2; pattern_to_asn */
	struct bgp_patterns ps;
	char out[64];
	ok(bgp_patterns_parse(&ps, "100") == 0, "pattern parsed");
	bgp_text_put_filtered(out, sizeof(out), "RT:65000:100", &ps);
	is_str(out, "100", "bgp_extcomm_pattern '100'");
	bgp_patterns_free(&ps);
	ok(bgp_patterns_parse(&ps, "a,,b") < 0, "an empty pattern is refused");

	cfg_init(&c);
	c.bgp.aspath_radius = 2;
	c.bgp.stdcomm_pattern_to_asn = "65123:";
	struct bgp_enrich *e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
	enrich(e, &r);
	is_str(r.k.as_path, "65010 65020", "bgp_aspath_radius 2");
	is_int(r.k.dst_as, 65030, "radius leaves dst_as whole");
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.3.1.1");
	enrich(e, &r);
	is_int(r.k.dst_as, 456, "stdcomm_pattern_to_asn: origin from 65123:456");
	is_int(r.k.peer_dst_as, 65123, "stdcomm_pattern_to_asn: peer from 65123:456");
	bgp_enrich_free(e);
	bgp_rib_free(rib);

	is_int(bgp_path_peer_as("(1 2) [4,5] 3", false), 1, "peer AS: the first sub-AS");
	is_int(bgp_path_peer_as("(1 2) [4,5] 3", true), 3, "skip_subas: first outside the confederation");
	is_int(bgp_path_peer_as("(7 8)", true), 7, "skip_subas: only sub-ASes: the first");
	is_int(bgp_path_peer_as("", true), 0, "empty path: 0");
}

static void test_truncation(void)
{
	char out[16], big[FR_BGP_STR_MAX], src[1024];
	size_t n = 0;

	bgp_text_put(out, sizeof(out), "aaa bbb ccc ddd eee");
	is_str(out, "aaa bbb ccc +", "cut at a whole token, then ' +'");
	bgp_text_put(out, sizeof(out), "aaa bbb ccc ddd");
	is_str(out, "aaa bbb ccc ddd", "15 characters fit 16 bytes");
	bgp_text_put(out, sizeof(out), "0123456789abcdefgh");
	is_str(out, "+", "one token too long: '+' alone");
	bgp_text_put(out, sizeof(out), "ab");
	ok(out[3] == 0 && out[15] == 0, "the bytes past the NUL are zero");

	/* 40 communities 65000:1000..1039 (11 bytes each with the blank): 23 fit with " +" in 255 */
	struct core_cfg c;
	struct flow_rec r;
	uint32_t comms[40];
	for (int i = 0; i < 40; i++) {
		comms[i] = C(65000, 1000 + i);
		n += (size_t)snprintf(src + n, sizeof(src) - n, "%s65000:%d", i ? " " : "", 1000 + i);
	}
	/* the expectation: the most communities whose text and " +" fit 255 characters */
	int k = 0;
	while ((size_t)(k + 1) * 11 - 1 + 2 <= FR_BGP_STR_MAX - 1)
		k++;
	memcpy(big, src, (size_t)k * 11 - 1);
	strcpy(big + k * 11 - 1, " +");
	struct bgp_rib *rib = bgp_rib_new(NULL);
	int p = add_peer(rib, "192.0.2.1", 65001);
	struct route_def rd = { path_b, 1, "192.0.2.5", -1, -1, comms, 40, NULL, 0, NULL, 0 };
	is_int(announce(rib, p, "10.20.0.0/16", &rd), 1, "40 communities announced");
	cfg_init(&c);
	struct bgp_enrich *e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.20.1.1");
	enrich(e, &r);
	is_str(r.k.std_comm, big, "std_comm cut at a whole community with ' +'");
	is_int(strlen(r.k.std_comm), k * 11 + 1, "23 communities and the marker");
	bgp_enrich_free(e);
	bgp_rib_free(rib);
}

static void test_follow_default(void)
{
	struct bgp_rib *rib = bgp_rib_new(NULL);
	int a = add_peer(rib, "192.0.2.1", 65001), b = add_peer(rib, "192.0.2.2", 65001);
	struct route_def def = { NULL, 0, "192.0.2.2", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct route_def rb = { path_a, 3, "192.0.2.77", -1, 300, NULL, 0, NULL, 0, NULL, 0 };
	struct route_def rsrc = { path_b, 1, "192.0.2.78", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct core_cfg c;
	struct flow_rec r;
	char buf[64];

	announce(rib, a, "0.0.0.0/0", &def);
	announce(rib, a, "10.9.0.0/16", &rsrc);	/* the source is known to A itself */
	announce(rib, b, "10.1.0.0/16", &rb);
	cfg_init(&c);
	struct bgp_enrich *e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
	enrich(e, &r);
	is_int(r.k.dst_mask, 0, "follow_default 0: the default route is the match");
	is_int(r.k.local_pref, 100, "follow_default 0: its local_pref");
	bgp_enrich_free(e);

	c.bgp.follow_default = 1;
	e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
	enrich(e, &r);
	is_str(r.k.as_path, "65010 65020 65030", "follow_default 1: B's route");
	is_int(r.k.local_pref, 300, "follow_default 1: B's local_pref");
	is_int(r.k.dst_mask, 16, "follow_default 1: B's /16");
	is_str(ipstr(&r.k.peer_dst_ip, buf), "192.0.2.77", "follow_default 1: B's next hop");
	is_int(r.k.src_as, 65011, "the source resolved at A stays A's");
	/* a destination B does not know: the default is not a result */
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.5.5.5");
	enrich(e, &r);
	is_str(r.k.as_path, "", "follow_default 1: nothing at B, no default used");
	is_int(r.k.dst_mask, 0, "follow_default 1: no mask");
	bgp_enrich_free(e);
	bgp_rib_free(rib);
}

/* AS_PATH segments, 4-octet ASNs: type (1 SET, 2 SEQUENCE, 3 CONFED_SEQUENCE, 4 CONFED_SET), count, ASNs */
#define SEG1(t, a) (t), 1, (uint8_t)((a) >> 24), (uint8_t)((a) >> 16), (uint8_t)((a) >> 8), (uint8_t)(a)
#define SEG2(t, a, b) (t), 2, (uint8_t)((a) >> 24), (uint8_t)((a) >> 16), (uint8_t)((a) >> 8), (uint8_t)(a), \
	(uint8_t)((b) >> 24), (uint8_t)((b) >> 16), (uint8_t)((b) >> 8), (uint8_t)(b)

/*
 * The peer AS of confederation paths, as 1.7.7 fills peer_dst_as (verified,
 * tests/e2e/test_bgp_follow.py): a path that starts with an AS_CONFED_SET has no
 * first AS (0); bgp_peer_as_skip_subas: the first ASN outside the confederation
 * segments (pmacct's own text parser gets "(64512 64513) 65400" and a leading
 * "[..]" wrong: docs/differences.md).
 */
static void test_confed_peer_as(void)
{
	static const uint8_t cset[] = { SEG2(4, 64515, 64514), SEG1(2, 65420) };
	static const uint8_t cseq[] = { SEG2(3, 64512, 64513), SEG2(2, 65400, 65401) };
	struct bgp_rib *rib = bgp_rib_new(NULL);
	int a = add_peer(rib, "192.0.2.1", 65001);
	struct route_def r1 = { NULL, 0, "192.0.2.42", -1, 100, NULL, 0, NULL, 0, cset, sizeof(cset) };
	struct route_def r2 = { NULL, 0, "192.0.2.40", -1, 100, NULL, 0, NULL, 0, cseq, sizeof(cseq) };
	struct core_cfg c;
	struct flow_rec r;

	announce(rib, a, "10.42.0.0/16", &r1);
	announce(rib, a, "10.40.0.0/16", &r2);
	cfg_init(&c);
	struct bgp_enrich *e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.40.9.9", "10.42.1.1");
	enrich(e, &r);
	is_str(r.k.as_path, "[64514,64515] 65420", "a CONFED_SET path as pmacct prints it");
	is_int(r.k.peer_dst_as, 0, "a path starting with AS_CONFED_SET: peer AS 0 (1.7.7)");
	is_int(r.k.dst_as, 65420, "its origin AS");
	is_int(r.k.src_as, 65401, "(64512 64513) 65400 65401: origin");
	bgp_enrich_free(e);
	c.bgp.peer_as_skip_subas = true;
	e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.40.9.9", "10.42.1.1");
	enrich(e, &r);
	is_int(r.k.peer_dst_as, 65420, "skip_subas: the first ASN after the AS_CONFED_SET");
	rec_init(&r, "192.0.2.1", "10.42.9.9", "10.40.1.1");
	enrich(e, &r);
	is_int(r.k.peer_dst_as, 65400, "skip_subas: the first ASN after a two-member AS_CONFED_SEQUENCE");
	bgp_enrich_free(e);
	bgp_rib_free(rib);
	is_int(bgp_path_peer_as("[4,5] 3", false), 0, "peer AS of a leading confed set: 0");
	is_int(bgp_path_peer_as("{8,9} 5", false), 0, "peer AS of a leading AS_SET: 0");
	is_int(bgp_path_peer_as("(1 2) 3", false), 1, "peer AS of a leading confed sequence: its first");
	is_int(bgp_path_peer_as("[4,5] 3", true), 3, "skip_subas over a leading confed set");
}

/*
 * bgp_follow_default as pmacct (verified against master's nfacctd, which prints
 * the IPv4 peer_dst_ip 1.7.7 leaves empty): once no follow is left a default
 * route is an ordinary match; two follows reach a third peer.
 */
static void test_follow_default_exhausted(void)
{
	struct bgp_rib *rib = bgp_rib_new(NULL);
	int a = add_peer(rib, "192.0.2.1", 65001), b = add_peer(rib, "192.0.2.2", 65001);
	int cc = add_peer(rib, "192.0.2.3", 65001);
	struct route_def to_b = { NULL, 0, "192.0.2.2", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct route_def to_c = { NULL, 0, "192.0.2.3", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct route_def at_c = { path_b, 1, "198.51.100.31", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct core_cfg c;
	struct flow_rec r;
	char buf[64];

	announce(rib, a, "0.0.0.0/0", &to_b);
	announce(rib, b, "0.0.0.0/0", &to_c);
	announce(rib, cc, "10.30.0.0/16", &at_c);
	cfg_init(&c);
	c.bgp.follow_default = 1;
	struct bgp_enrich *e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.30.1.1");
	enrich(e, &r);
	is_str(ipstr(&r.k.peer_dst_ip, buf), "192.0.2.3", "follow_default 1: B's default route, its next hop");
	is_int(r.k.dst_mask, 0, "follow_default 1: B's default, mask 0");
	is_str(r.k.as_path, "", "follow_default 1: its empty path");
	bgp_enrich_free(e);
	c.bgp.follow_default = 2;
	e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.30.1.1");
	enrich(e, &r);
	is_str(r.k.as_path, "65011", "follow_default 2: C's route");
	is_str(ipstr(&r.k.peer_dst_ip, buf), "198.51.100.31", "follow_default 2: C's next hop");
	is_int(r.k.dst_mask, 16, "follow_default 2: C's /16");
	bgp_enrich_free(e);
	bgp_rib_free(rib);
}

/*
 * bgp_follow_nexthop follows the destination route's prefix (pmacct master,
 * verified): B's more specific route for the record's address is not taken.
 */
static void test_follow_nexthop_prefix(void)
{
	struct bgp_rib *rib = bgp_rib_new(NULL);
	int a = add_peer(rib, "192.0.2.1", 65001), b = add_peer(rib, "192.0.2.2", 65001);
	int cc = add_peer(rib, "192.0.2.3", 65001);
	struct route_def ra = { path_a, 3, "192.0.2.2", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct route_def rb16 = { path_a, 3, "203.0.113.51", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct route_def rb24 = { path_b, 1, "192.0.2.3", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct route_def rc = { path_b, 1, "203.0.113.52", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct core_cfg c;
	struct flow_rec r;
	char buf[64];

	announce(rib, a, "10.50.0.0/16", &ra);
	announce(rib, b, "10.50.0.0/16", &rb16);
	announce(rib, b, "10.50.1.0/24", &rb24);
	announce(rib, cc, "10.50.0.0/16", &rc);
	cfg_init(&c);
	c.bgp.follow_nexthop = "192.0.2.0/24";
	struct bgp_enrich *e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.50.1.1");
	enrich(e, &r);
	is_str(ipstr(&r.k.peer_dst_ip, buf), "192.0.2.2", "follow_nexthop: B's 10.50.0.0/16 leaves the prefixes");
	bgp_enrich_free(e);
	c.bgp.follow_nexthop_external = true;
	e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.50.1.1");
	enrich(e, &r);
	is_str(ipstr(&r.k.peer_dst_ip, buf), "203.0.113.51", "follow_nexthop_external: B's /16 next hop");
	bgp_enrich_free(e);
	bgp_rib_free(rib);
}

static void test_follow_nexthop(void)
{
	struct bgp_rib *rib = bgp_rib_new(NULL);
	int a = add_peer(rib, "192.0.2.1", 65001), b = add_peer(rib, "192.0.2.2", 65001);
	struct route_def ra = { path_a, 3, "192.0.2.2", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct route_def rb = { path_a, 3, "203.0.113.9", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct core_cfg c;
	struct flow_rec r;
	char buf[64];

	announce(rib, a, "10.1.0.0/16", &ra);
	announce(rib, b, "10.1.0.0/16", &rb);
	cfg_init(&c);
	c.bgp.follow_nexthop = "192.0.2.0/24";
	struct bgp_enrich *e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
	enrich(e, &r);
	is_str(ipstr(&r.k.peer_dst_ip, buf), "192.0.2.2", "follow_nexthop: the last next hop in the prefixes");
	bgp_enrich_free(e);
	c.bgp.follow_nexthop_external = true;
	e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
	enrich(e, &r);
	is_str(ipstr(&r.k.peer_dst_ip, buf), "203.0.113.9", "follow_nexthop_external: that node's next hop");
	bgp_enrich_free(e);
	c.bgp.follow_nexthop = "192.0.2.0/33";
	int err = 0;
	ok(bgp_enrich_new(&c, &all, 1, 128, &err) == NULL && err, "a bad bgp_follow_nexthop is refused");
	bgp_rib_free(rib);
}

static void test_agent_map(void)
{
	struct bgp_rib *rib = bgp_rib_new(NULL);
	int a = add_peer(rib, "192.0.2.1", 65001), b = add_peer(rib, "192.0.2.2", 65001);
	struct route_def ra = { path_a, 3, "192.0.2.11", -1, 111, NULL, 0, NULL, 0, NULL, 0 };
	struct route_def rb = { path_b, 1, "192.0.2.12", -1, 222, NULL, 0, NULL, 0, NULL, 0 };
	struct core_cfg c;
	struct flow_rec r;

	announce(rib, a, "10.1.0.0/16", &ra);
	announce(rib, b, "10.1.0.0/16", &rb);
	cfg_init(&c);
	c.bgp.agent_map = tmpfile_with("! exporters to BGP peers\n"
	    "bgp_ip=192.0.2.2 ip=198.51.100.7\n"
	    "bgp_ip=192.0.2.1 ip=198.51.100.0/24 in=3\n");
	struct bgp_enrich *e = mk(&c, rib);
	ok(e != NULL, "agent map loaded");
	rec_init(&r, "198.51.100.7", "10.9.9.9", "10.1.5.5");
	enrich(e, &r);
	is_int(r.k.local_pref, 222, "ip= row: peer 192.0.2.2");
	rec_init(&r, "198.51.100.8", "10.9.9.9", "10.1.5.5");
	r.k.in_iface = 3;
	enrich(e, &r);
	is_int(r.k.local_pref, 111, "prefix and in= row: peer 192.0.2.1");
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
	enrich(e, &r);
	is_int(r.k.local_pref, 111, "no row: the exporter's own address");
	unlink(c.bgp.agent_map);
	bgp_enrich_free(e);

	/* pmacctd: catch-all rows, primary down -> backup */
	cfg_init(&c);
	c.daemon = CFG_PMACCTD;
	c.bgp.agent_map = tmpfile_with("bgp_ip=192.0.2.9\nbgp_ip=192.0.2.2\n");
	e = mk(&c, rib);
	rec_init(&r, "0.0.0.0", "10.9.9.9", "10.1.5.5");
	memset(&r.k.peer_src_ip, 0, sizeof(r.k.peer_src_ip));
	enrich(e, &r);
	is_int(r.k.local_pref, 222, "catch-all: the primary is not up, the backup answers");
	unlink(c.bgp.agent_map);
	bgp_enrich_free(e);
	c.bgp.agent_map = tmpfile_with("bgp_ip=192.0.2.1\nbgp_ip=192.0.2.2\n");
	e = mk(&c, rib);
	enrich(e, &r);
	is_int(r.k.local_pref, 111, "catch-all: the primary answers when up");
	unlink(c.bgp.agent_map);
	bgp_enrich_free(e);

	/* errors name file and line */
	char err[512];
	char *bad = tmpfile_with("bgp_ip=192.0.2.1 ip=10.0.0.1\nbgp_ip=192.0.2.300 ip=10.0.0.2\n");
	ok(bgp_agent_map_load(bad, 0, 1, 128, err, sizeof(err)) == NULL, "a bad bgp_ip refuses the map");
	char want[128];
	snprintf(want, sizeof(want), "[%s:2]", bad);
	ok(strstr(err, want) != NULL, "the error names file and line: %s", err);
	unlink(bad);
	bad = tmpfile_with("ip=10.0.0.1\n");
	ok(bgp_agent_map_load(bad, 0, 1, 128, err, sizeof(err)) == NULL && strstr(err, "bgp_ip"),
	    "a row without bgp_ip is refused: %s", err);
	unlink(bad);
	bad = tmpfile_with("bgp_ip=192.0.2.1 filter='tcp and'\n");
	ok(bgp_agent_map_load(bad, 0, 1, 128, err, sizeof(err)) == NULL && strstr(err, "filter"),
	    "a bad filter is refused: %s", err);
	unlink(bad);
	bgp_rib_free(rib);
}

static void test_id_maps(void)
{
	int p;
	struct bgp_rib *rib = rib_oracle(&p);
	struct core_cfg c;
	struct flow_rec r;

	cfg_init(&c);
	c.bgp.peer_src_as_type = "map";
	c.bgp.peer_src_as_map = tmpfile_with("id=65500 ip=192.0.2.1 in=7\n"
	    "id=65501 ip=192.0.2.1 bgp_nexthop=192.0.2.102\n"
	    "id=65502 src_mac=00:11:22:33:44:55\n");
	c.bgp.src_med_type = "map";
	c.bgp.src_med_map = tmpfile_with("id=77 in=7\n");
	struct bgp_enrich *e = mk(&c, rib);
	ok(e != NULL, "id maps loaded");
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
	r.k.in_iface = 7;
	enrich(e, &r);
	is_int(r.k.peer_src_as, 65500, "peer_src_as by ip and in");
	is_int(r.k.src_med, 77, "src_med by in");
	rec_init(&r, "192.0.2.1", "10.1.2.9", "10.1.5.5");
	enrich(e, &r);
	is_int(r.k.peer_src_as, 65501, "peer_src_as by the source route's BGP next hop");
	is_int(r.k.src_med, 0, "src_med: no row, 0");
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
	memcpy(r.k.src_mac, (uint8_t[]){ 0, 0x11, 0x22, 0x33, 0x44, 0x55 }, 6);
	enrich(e, &r);
	is_int(r.k.peer_src_as, 65502, "peer_src_as by source MAC");
	unlink(c.bgp.peer_src_as_map);
	unlink(c.bgp.src_med_map);
	bgp_enrich_free(e);
	/* a map type without its map */
	int err = 0;
	cfg_init(&c);
	c.bgp.src_local_pref_type = "map";
	ok(bgp_enrich_new(&c, &all, 1, 128, &err) == NULL && err, "_type map without the map is refused");
	c.bgp.src_local_pref_type = "maybe";
	ok(bgp_enrich_new(&c, &all, 1, 128, &err) == NULL && err, "a bad _type is refused");
	bgp_rib_free(rib);
}

static void test_add_path(void)
{
	struct bgp_rib *rib = bgp_rib_new(NULL);
	int p = add_peer(rib, "192.0.2.1", 65001);
	uint8_t bit = bgp_af_bit(BGP_AFI_IPV4, BGP_SAFI_UNICAST);
	struct core_cfg c;
	struct flow_rec r;
	static const uint32_t p1[] = { 65100 }, p2[] = { 65200, 65201 };
	struct route_def d1 = { p1, 1, "192.0.2.51", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct route_def d2 = { p2, 2, "192.0.2.52", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	/* path id 1 and 2 of 10.5.0.0/16 */
	const uint8_t n1[] = { 0, 0, 0, 1, 16, 10, 5 }, n2[] = { 0, 0, 0, 2, 16, 10, 5 };
	struct upd u1 = { .n = 0 }, u2 = { .n = 0 };

	put_attrs(&u1, &d1, true);
	put_attrs(&u2, &d2, true);
	is_int(feed(rib, p, &u1, n1, sizeof(n1), bit), 1, "path 1 applied");
	is_int(feed(rib, p, &u2, n2, sizeof(n2), bit), 1, "path 2 applied");
	cfg_init(&c);
	struct bgp_enrich *e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.5.1.1");
	fr_ip_parse("192.0.2.52", &r.k.peer_dst_ip);
	enrich(e, &r);
	is_str(r.k.as_path, "65200 65201", "ADD-PATH: the record's next hop picks path 2");
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.5.1.1");
	fr_ip_parse("192.0.2.51", &r.k.peer_dst_ip);
	enrich(e, &r);
	is_str(r.k.as_path, "65100", "ADD-PATH: and path 1");
	bgp_enrich_free(e);
	bgp_rib_free(rib);
}

static void test_vpn(void)
{
	struct bgp_rib *rib = bgp_rib_new(NULL);
	int p = add_peer(rib, "192.0.2.1", 65001);
	struct core_cfg c;
	struct flow_rec r;
	static const uint32_t pv[] = { 65300 }, pu[] = { 65400 };
	struct route_def dv = { pv, 1, "192.0.2.61", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct route_def du = { pu, 1, "192.0.2.62", -1, 100, NULL, 0, NULL, 0, NULL, 0 };
	struct upd u = { .n = 0 };
	size_t at;
	/* RD 0:65000:1 (type 0, AS 65000, assigned 1), as a record carries it (wire order) */
	const uint8_t rd[8] = { 0, 0, 0xfd, 0xe8, 0, 0, 0, 1 };

	announce(rib, p, "10.6.0.0/16", &du);
	put_attrs(&u, &dv, false);
	at = attr_begin(&u, 0x80, 14);		/* MP_REACH_NLRI VPNv4 */
	put16(&u, BGP_AFI_IPV4);
	put8(&u, BGP_SAFI_VPN);
	put8(&u, 12);
	put(&u, (uint8_t[8]){ 0 }, 8);
	put32(&u, ip4("192.0.2.61"));
	put8(&u, 0);
	put8(&u, 24 + 64 + 16);			/* label, RD, 16 bits of prefix */
	put8(&u, 0x00);
	put8(&u, 0x06);
	put8(&u, 0x41);				/* label 100, bottom of stack */
	put(&u, rd, 8);
	put8(&u, 10);
	put8(&u, 6);
	attr_end(&u, at);
	is_int(feed(rib, p, &u, NULL, 0, 0), 1, "VPNv4 route applied");
	cfg_init(&c);
	struct bgp_enrich *e = mk(&c, rib);
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.6.1.1");
	memcpy(r.k.mpls_vpn_rd, rd, 8);
	r.k.mpls_vpn_rd_origin = 1;
	enrich(e, &r);
	is_str(r.k.as_path, "65300", "a record with the RD: the VPN route");
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.6.1.1");
	enrich(e, &r);
	is_str(r.k.as_path, "65400", "without an RD: the unicast route");
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.6.1.1");
	memcpy(r.k.mpls_vpn_rd, (uint8_t[8]){ 0, 0, 0xfd, 0xe8, 0, 0, 0, 2 }, 8);
	r.k.mpls_vpn_rd_origin = 1;
	enrich(e, &r);
	is_str(r.k.as_path, "", "another RD: nothing");
	bgp_enrich_free(e);
	bgp_rib_free(rib);
}

static void test_no_rib(void)
{
	struct core_cfg c;
	struct flow_rec r;
	int err = 0;
	struct bgp_enrich_need none = { 0 }, some = { 0 };

	cfg_init(&c);
	c.bgp.daemon = false;
	ok(bgp_enrich_new(&c, &none, 1, 128, &err) == NULL && !err, "nothing needed, no daemon: no enrichment");
	some.as_path = some.local_pref = true;
	struct bgp_enrich *e = bgp_enrich_new(&c, &some, 1, 128, &err);
	ok(e != NULL, "as_path needed without a daemon: the block is still written");
	rec_init(&r, "192.0.2.1", "10.9.9.9", "10.1.5.5");
	memcpy(r.k.as_path, "stale", 6);
	r.k.local_pref = 9;
	enrich(e, &r);
	is_str(r.k.as_path, "", "no RIB: as_path ''");
	is_int(r.k.local_pref, 0, "no RIB: local_pref 0");
	is_int(r.k.dst_as, 222, "no RIB, dst_as not needed: the record's");
	bgp_enrich_free(e);
}

int main(void)
{
	test_fields();
	test_patterns();
	test_truncation();
	test_follow_default();
	test_follow_nexthop();
	test_confed_peer_as();
	test_follow_default_exhausted();
	test_follow_nexthop_prefix();
	test_agent_map();
	test_id_maps();
	test_add_path();
	test_vpn();
	test_no_rib();
	return tap_done();
}
