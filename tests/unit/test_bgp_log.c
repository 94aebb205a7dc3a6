/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_bgp_log: the BGP message log and table dumps against what pmacct
 * 1.7.7 wrote for the same routes (tests/data/bgp_log/, README there).
 * UPDATEs carrying the routes BIRD and ExaBGP sent are built here, decoded
 * by bgp_decode_update(), applied to a RIB, and given to the sink's hooks as
 * the BGP thread does; the JSON lines written are parsed back and compared
 * key by key, in order, with 1.7.7's.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "maps/bgp_rib.h"
#include "pipeline/bgp_log.h"
#include "tap.h"

#define DATA "tests/data/bgp_log/"

/* --- UPDATE builder --- */

struct ub {
	uint8_t b[4096];
	size_t n;
};

static void put(struct ub *u, const void *p, size_t n)
{
	memcpy(u->b + u->n, p, n);
	u->n += n;
}

static void put8(struct ub *u, unsigned v)
{
	u->b[u->n++] = (uint8_t)v;
}

static void put16(struct ub *u, unsigned v)
{
	put8(u, v >> 8);
	put8(u, v);
}

static void put32(struct ub *u, uint32_t v)
{
	put16(u, v >> 16);
	put16(u, v & 0xffff);
}

/* One path attribute (extended length when longer than 255). */
static void attr(struct ub *a, uint8_t flags, uint8_t type, const struct ub *v)
{
	if (v->n > 255) {
		put8(a, flags | 0x10);
		put8(a, type);
		put16(a, (unsigned)v->n);
	} else {
		put8(a, flags);
		put8(a, type);
		put8(a, (unsigned)v->n);
	}
	put(a, v->b, v->n);
}

static void a_origin(struct ub *a, unsigned o)
{
	struct ub v = { .n = 0 };
	put8(&v, o);
	attr(a, 0x40, 1, &v);
}

/* AS_PATH (4-byte ASNs): a sequence of nseq, then a set of nset when nset > 0. */
static void a_path(struct ub *a, const uint32_t *seq, size_t nseq, const uint32_t *set, size_t nset)
{
	struct ub v = { .n = 0 };
	if (nseq) {
		put8(&v, 2);
		put8(&v, (unsigned)nseq);
		for (size_t i = 0; i < nseq; i++)
			put32(&v, seq[i]);
	}
	if (nset) {
		put8(&v, 1);
		put8(&v, (unsigned)nset);
		for (size_t i = 0; i < nset; i++)
			put32(&v, set[i]);
	}
	attr(a, 0x40, 2, &v);
}

static void a_nh(struct ub *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	struct ub v = { .n = 0 };
	uint8_t ip[4] = { x, y, z, w };
	put(&v, ip, 4);
	attr(a, 0x40, 3, &v);
}

static void a_u32(struct ub *a, uint8_t flags, uint8_t type, uint32_t x)
{
	struct ub v = { .n = 0 };
	put32(&v, x);
	attr(a, flags, type, &v);
}

#define a_med(a, x) a_u32((a), 0x80, 4, (x))
#define a_lp(a, x) a_u32((a), 0x40, 5, (x))

static void a_comms(struct ub *a, const uint32_t *c, size_t n)
{
	struct ub v = { .n = 0 };
	for (size_t i = 0; i < n; i++)
		put32(&v, c[i]);
	attr(a, 0xc0, 8, &v);
}

static void a_ecomms(struct ub *a, const uint64_t *c, size_t n)
{
	struct ub v = { .n = 0 };
	for (size_t i = 0; i < n; i++) {
		put32(&v, (uint32_t)(c[i] >> 32));
		put32(&v, (uint32_t)c[i]);
	}
	attr(a, 0xc0, 16, &v);
}

static void a_lcomms(struct ub *a, const uint32_t *c, size_t n3)
{
	struct ub v = { .n = 0 };
	for (size_t i = 0; i < n3 * 3; i++)
		put32(&v, c[i]);
	attr(a, 0xc0, 32, &v);
}

static void a_aggregator(struct ub *a, uint32_t as, uint32_t ip)
{
	struct ub v = { .n = 0 };
	put32(&v, as);
	put32(&v, ip);
	attr(a, 0xc0, 7, &v);
}

/* A prefix of NLRI: [path id] length bits, [label, RD], the prefix bytes. */
static void pfx(struct ub *u, long path_id, int label, const struct bgp_rd *rd, unsigned plen,
    const uint8_t *addr)
{
	unsigned extra = (label >= 0 ? 24 : 0) + (rd ? 64 : 0);
	if (path_id >= 0)
		put32(u, (uint32_t)path_id);
	put8(u, plen + extra);
	if (label >= 0)
		put(u, (uint8_t[3]){ (uint8_t)(label >> 12), (uint8_t)(label >> 4), (uint8_t)((label << 4) | 1) }, 3);
	if (rd) {
		put16(u, rd->type);
		if (rd->type == 0) {
			put16(u, rd->admin);
			put32(u, rd->assigned);
		} else {
			put32(u, rd->admin);
			put16(u, rd->assigned);
		}
	}
	put(u, addr, (plen + 7) / 8);
}

/* MP_REACH_NLRI: afi/safi, next hop (with a zero RD for VPN), the NLRI. */
static void a_mp_reach(struct ub *a, uint16_t afi, uint8_t safi, const uint8_t *nh, const struct ub *nlri)
{
	struct ub v = { .n = 0 };
	size_t alen = afi == 2 ? 16 : 4;
	put16(&v, afi);
	put8(&v, safi);
	put8(&v, (unsigned)(alen + (safi == 128 ? 8 : 0)));
	if (safi == 128)
		put(&v, (uint8_t[8]){ 0 }, 8);
	put(&v, nh, alen);
	put8(&v, 0);
	put(&v, nlri->b, nlri->n);
	attr(a, 0x80, 14, &v);
}

static void a_mp_unreach(struct ub *a, uint16_t afi, uint8_t safi, const struct ub *nlri)
{
	struct ub v = { .n = 0 };
	put16(&v, afi);
	put8(&v, safi);
	put(&v, nlri->b, nlri->n);
	attr(a, 0x80, 15, &v);
}

/* --- feeding the RIB and the sink as the BGP thread does --- */

struct peer {
	struct bgp_rib *rib;
	const struct bgp_event_sink *sink;
	int idx;
	struct bgp_peer_id id;
	struct bgp_session s;
	int seen;
	bool wd_after;		/* withdrawals given to the sink after the RIB applied them */
	bool slow;		/* 3 ms between the prefixes of an UPDATE */
};

static void on_nlri(void *arg, const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	struct peer *p = arg;
	struct bgp_route r;
	const struct bgp_attr *attr = NULL;

	if (p->slow && p->seen)
		usleep(3000);
	p->seen++;
	bgp_rib_wrlock(p->rib);
	if (n->withdraw && p->wd_after) {
		bgp_rib_apply(p->rib, p->idx, n, a);
		p->sink->nlri(p->sink->arg, p->idx, &p->id, n, a, NULL);
	} else if (n->withdraw) {
		/* the hook first, so that the withdrawn route's attributes can be logged */
		p->sink->nlri(p->sink->arg, p->idx, &p->id, n, a, NULL);
		bgp_rib_apply(p->rib, p->idx, n, a);
	} else {
		bgp_rib_apply(p->rib, p->idx, n, a);
		const struct bgp_addr *nh = a->mp_next_hop.afi ? &a->mp_next_hop : &a->next_hop;
		if (bgp_rib_lookup(p->rib, p->idx, n->afi, n->safi, n->has_rd ? &n->rd : NULL, n->addr,
		    nh, &r) && r.plen == n->plen)
			attr = r.attr;
		p->sink->nlri(p->sink->arg, p->idx, &p->id, n, a, attr);
	}
	bgp_rib_unlock(p->rib);
}

/* One UPDATE: withdrawn IPv4 routes wd, attributes at, IPv4 NLRI nl (any may be empty). */
static void update(struct peer *p, const struct ub *wd, const struct ub *at, const struct ub *nl)
{
	struct ub body = { .n = 0 };
	struct bgp_attrs a;
	struct bgp_error e;

	put16(&body, (unsigned)wd->n);
	put(&body, wd->b, wd->n);
	put16(&body, (unsigned)at->n);
	put(&body, at->b, at->n);
	put(&body, nl->b, nl->n);
	p->seen = 0;
	if (p->slow)
		usleep(3000);
	if (p->sink->update_begin)	/* as the BGP thread: once per UPDATE, before its prefixes */
		p->sink->update_begin(p->sink->arg, p->idx);
	enum bgp_action act = bgp_decode_update(body.b, body.n, &p->s, &a, on_nlri, p, &e);
	ok(act == BGP_ACT_OK && p->seen > 0, "UPDATE decoded (%d NLRI)", p->seen);
}

static void peer_up(struct peer *p, struct bgp_rib *rib, const struct bgp_event_sink *sink,
    uint8_t last, uint16_t port, uint8_t addpath)
{
	struct bgp_open o = { .version = 4, .my_as = 65000, .hold_time = 90 };

	memset(p, 0, sizeof(*p));
	p->rib = rib;
	p->sink = sink;
	p->id.addr.afi = BGP_AFI_IPV4;
	p->id.addr.a[0] = 127;
	p->id.addr.a[3] = last;
	p->id.port = port;
	p->id.bgp_id = 0x0aff0000u | last;
	p->id.as = 65000;
	p->s.as4 = true;
	p->s.addpath_rx = addpath;
	bgp_rib_wrlock(rib);
	p->idx = bgp_rib_peer_add(rib, &p->id);
	bgp_rib_unlock(rib);
	o.bgp_id = p->id.bgp_id;
	sink->peer_up(sink->arg, p->idx, &p->id, &o);
}

static void peer_down(struct peer *p)
{
	p->sink->peer_down(p->sink->arg, p->idx, &p->id, 6, 2, "Cease");
	bgp_rib_wrlock(p->rib);
	bgp_rib_peer_del(p->rib, p->idx);
	bgp_rib_unlock(p->rib);
}

/* --- the routes BIRD and ExaBGP sent (tests/data/bgp_log/bird.conf, exabgp.conf) --- */

static const struct ub NONE;

/* BIRD over eBGP (AS 65001, tests/data/bgp_log/README.md): its AS first, no LOCAL_PREF. */
static bool ebgp;

static void bird_path(struct ub *at, const uint32_t *seq, size_t n)
{
	uint32_t p[8] = { 65001 };
	if (n)
		memcpy(p + ebgp, seq, n * sizeof(*seq));
	a_path(at, p, n + ebgp, NULL, 0);
}

static void bird_lp(struct ub *at, uint32_t lp)
{
	if (!ebgp)
		a_lp(at, lp);
}

static void bird_announce_v4(struct peer *p)
{
	struct ub at = { .n = 0 }, nl = { .n = 0 };

	/* 198.51.100.0/25: 65010 4200000001, EGP, local-pref 100, RT:10.0.0.1:7 */
	a_origin(&at, 1);
	bird_path(&at, (uint32_t[]){ 65010, 4200000001u }, 2);
	a_nh(&at, 127, 0, 0, 2);
	bird_lp(&at, 100);
	a_ecomms(&at, (uint64_t[]){ 0x0102000000000000ULL | (0x0a000001ULL << 16) | 7 }, 1);
	pfx(&nl, -1, -1, NULL, 25, (uint8_t[]){ 198, 51, 100, 0 });
	update(p, &NONE, &at, &nl);

	/* 192.0.2.0/24: the whole set */
	at.n = nl.n = 0;
	a_origin(&at, 0);
	bird_path(&at, (uint32_t[]){ 65001, 65002, 65003 }, 3);
	a_nh(&at, 127, 0, 0, 2);
	a_med(&at, 50);
	bird_lp(&at, 200);
	a_comms(&at, (uint32_t[]){ 65000u << 16 | 1, 65000u << 16 | 2, 0xffffff01u }, 3);
	a_ecomms(&at, (uint64_t[]){ 0x0002fde800000064ULL, 0x0003fde800000007ULL }, 2);
	a_lcomms(&at, (uint32_t[]){ 65000, 1, 2, 65000, 3, 4 }, 2);
	pfx(&nl, -1, -1, NULL, 24, (uint8_t[]){ 192, 0, 2, 0 });
	update(p, &NONE, &at, &nl);

	/* 203.0.113.128/26: INCOMPLETE, MED 0 */
	at.n = nl.n = 0;
	a_origin(&at, 2);
	bird_path(&at, NULL, 0);
	a_nh(&at, 127, 0, 0, 2);
	a_med(&at, 0);
	bird_lp(&at, 100);
	pfx(&nl, -1, -1, NULL, 26, (uint8_t[]){ 203, 0, 113, 128 });
	update(p, &NONE, &at, &nl);
}

static const uint8_t NH6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0xff };

static void bird_v6(struct peer *p, bool withdraw)
{
	struct ub at = { .n = 0 }, nl = { .n = 0 };

	pfx(&nl, -1, -1, NULL, 48, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 1 });
	if (withdraw) {
		pfx(&nl, -1, -1, NULL, 64, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0 });
		a_mp_unreach(&at, 2, 1, &nl);
		update(p, &NONE, &at, &NONE);
		return;
	}
	a_origin(&at, 0);
	bird_path(&at, (uint32_t[]){ 65020 }, 1);
	a_mp_reach(&at, 2, 1, NH6, &nl);
	a_med(&at, 10);
	bird_lp(&at, 100);
	a_comms(&at, (uint32_t[]){ 65000u << 16 | 600 }, 1);
	a_lcomms(&at, (uint32_t[]){ 4200000000u, 5, 6 }, 1);
	update(p, &NONE, &at, &NONE);
	at.n = nl.n = 0;
	pfx(&nl, -1, -1, NULL, 64, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0 });
	a_origin(&at, 0);
	bird_path(&at, NULL, 0);
	a_mp_reach(&at, 2, 1, NH6, &nl);
	bird_lp(&at, 100);
	update(p, &NONE, &at, &NONE);
}

static const struct bgp_rd RD1 = { 0, 65000, 1 }, RD2 = { 1, 0x0a000005, 7 },
    RD3 = { 2, 4200000000u, 9 }, RD6 = { 0, 65000, 2 };

static void exa_vpn(struct peer *p, const struct bgp_rd *rd, int label, uint8_t o, const uint32_t *path,
    size_t npath, uint32_t lp, bool rt, uint16_t afi, unsigned plen, const uint8_t *addr)
{
	struct ub at = { .n = 0 }, nl = { .n = 0 };
	static const uint8_t nh4[4] = { 10, 0, 0, 1 };
	static const uint8_t nh6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	pfx(&nl, 0, label, rd, plen, addr);
	a_origin(&at, o);
	a_path(&at, path, npath, NULL, 0);
	a_mp_reach(&at, afi, 128, afi == 2 ? nh6 : nh4, &nl);
	a_lp(&at, lp);
	if (rt)
		a_ecomms(&at, (uint64_t[]){ 0x0002fde800000001ULL }, 1);
	update(p, &NONE, &at, &NONE);
}

static void exa_announce(struct peer *p)
{
	struct ub at = { .n = 0 }, nl = { .n = 0 };

	exa_vpn(p, &RD1, 100, 0, NULL, 0, 300, true, 1, 24, (uint8_t[]){ 10, 1, 0 });
	exa_vpn(p, &RD2, 200, 1, (uint32_t[]){ 65100, 65200 }, 2, 100, false, 1, 16, (uint8_t[]){ 10, 2 });
	exa_vpn(p, &RD3, 300, 0, NULL, 0, 100, false, 1, 24, (uint8_t[]){ 10, 3, 0 });
	exa_vpn(p, &RD6, 400, 0, NULL, 0, 100, false, 2, 48, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 9 });
	/* 172.16.0.0/16 path 7: AS_SET, well-known communities, aggregator, atomic aggregate */
	a_origin(&at, 0);
	a_path(&at, (uint32_t[]){ 65300 }, 1, (uint32_t[]){ 65400, 65500 }, 2);
	a_nh(&at, 10, 0, 0, 2);
	a_lp(&at, 100);
	attr(&at, 0x40, 6, &NONE);
	a_aggregator(&at, 65300, 0x0a000009);
	a_comms(&at, (uint32_t[]){ 65000u << 16 | 10, 0xffffff02, 0xffffff03, 0xffff029a }, 4);	/* as ExaBGP sent them */
	pfx(&nl, 7, -1, NULL, 16, (uint8_t[]){ 172, 16 });
	update(p, &NONE, &at, &nl);
	at.n = nl.n = 0;
	a_origin(&at, 0);
	a_path(&at, NULL, 0, NULL, 0);
	a_nh(&at, 10, 0, 0, 3);
	a_med(&at, 5);
	a_lp(&at, 100);
	pfx(&nl, 8, -1, NULL, 16, (uint8_t[]){ 172, 16 });
	update(p, &NONE, &at, &nl);
}

static void exa_feed(struct peer *p)
{
	struct ub at = { .n = 0 }, nl = { .n = 0 }, wd = { .n = 0 };

	a_origin(&at, 0);
	a_path(&at, NULL, 0, NULL, 0);
	a_nh(&at, 10, 0, 0, 9);
	a_lp(&at, 100);
	pfx(&nl, 1, -1, NULL, 24, (uint8_t[]){ 10, 9, 0 });
	update(p, &NONE, &at, &nl);
	pfx(&wd, 1, -1, NULL, 24, (uint8_t[]){ 10, 8, 0 });	/* unknown: nothing logged */
	update(p, &wd, &NONE, &NONE);
	wd.n = 0;
	pfx(&wd, 1, -1, NULL, 24, (uint8_t[]){ 10, 9, 0 });
	update(p, &wd, &NONE, &NONE);
	at.n = nl.n = 0;
	pfx(&nl, 0, 100, &RD1, 24, (uint8_t[]){ 10, 1, 0 });
	a_mp_unreach(&at, 1, 128, &nl);
	update(p, &NONE, &at, &NONE);
}

/* --- reading JSON lines back --- */

struct lines {
	json_t *v[64];
	size_t n;
};

static void read_lines(const char *path, struct lines *ls)
{
	FILE *f = fopen(path, "r");
	char line[4096];

	ls->n = 0;
	if (!f)
		return;
	while (ls->n < 64 && fgets(line, sizeof(line), f)) {
		json_error_t e;
		json_t *v = json_loads(line, 0, &e);
		ok(v != NULL, "%s line %zu is JSON", path, ls->n + 1);
		if (v)
			ls->v[ls->n++] = v;
	}
	fclose(f);
}

static void free_lines(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		json_decref(ls->v[i]);
	ls->n = 0;
}

static bool ts_usec_form(const char *s)
{
	unsigned y, mo, d, h, mi, se, us;
	int n = 0;
	return s && sscanf(s, "%4u-%2u-%2u %2u:%2u:%2u.%6u%n", &y, &mo, &d, &h, &mi, &se, &us, &n) == 7 &&
	    n == 26 && s[n] == '\0';
}

/*
 * Compare our line with 1.7.7's: the same keys in the same order, equal
 * values except seq (checked by the caller) and, unless exact_ts, the
 * timestamp (its form only).
 */
static bool same_line(json_t *ours, json_t *ref, bool exact_ts, const char *what)
{
	void *i = json_object_iter(ours), *j = json_object_iter(ref);
	bool good = true;
	char o[2048], r[2048];

	for (; i && j; i = json_object_iter_next(ours, i), j = json_object_iter_next(ref, j)) {
		const char *k = json_object_iter_key(i);
		if (strcmp(k, json_object_iter_key(j)) != 0) {
			good = false;
			break;
		}
		if (strcmp(k, "seq") == 0)
			continue;
		if (strcmp(k, "timestamp") == 0 && !exact_ts) {
			if (!ts_usec_form(json_string_value(json_object_iter_value(i))))
				good = false;
			continue;
		}
		if (!json_equal(json_object_iter_value(i), json_object_iter_value(j)))
			good = false;
	}
	if (i || j)
		good = false;
	if (!good) {
		char *a = json_dumps(ours, JSON_PRESERVE_ORDER), *b = json_dumps(ref, JSON_PRESERVE_ORDER);
		snprintf(o, sizeof(o), "%s", a ? a : "?");
		snprintf(r, sizeof(r), "%s", b ? b : "?");
		free(a);
		free(b);
		printf("# %s\n#  ours: %s\n#  1.7.7: %s\n", what, o, r);
	}
	return good;
}

static long long seq_of(json_t *v)
{
	return json_integer_value(json_object_get(v, "seq"));
}

static const char *str_of(json_t *v, const char *k)
{
	const char *s = json_string_value(json_object_get(v, k));
	return s ? s : "";
}

/* Route identity within a peer: afi, safi, prefix, path id, RD. */
static void route_key(json_t *v, char *out, size_t len)
{
	snprintf(out, len, "%lld/%lld/%s/%lld/%s", json_integer_value(json_object_get(v, "afi")),
	    json_integer_value(json_object_get(v, "safi")), str_of(v, "ip_prefix"),
	    json_integer_value(json_object_get(v, "as_path_id")), str_of(v, "rd"));
}

/*
 * Lines [from, to) of ours against 1.7.7's, matched by route (the order of
 * two paths of one prefix is the RIB's); when ordered, afi/safi must not
 * go backwards (dumps and deletes: IPv4 unicast, VPNv4, IPv6, VPNv6).
 */
static void same_routes(struct lines *ours, struct lines *ref, size_t from, size_t to, bool exact_ts,
    bool ordered, const char *what)
{
	bool used[64] = { false };
	long long last = 0;

	for (size_t i = from; i < to && i < ours->n; i++) {
		char k1[128], k2[128];
		bool found = false;
		long long af = json_integer_value(json_object_get(ours->v[i], "afi")) * 1000 +
		    json_integer_value(json_object_get(ours->v[i], "safi"));
		if (ordered)
			ok(af >= last, "%s line %zu: AFI/SAFI in 1.7.7's order", what, i + 1);
		last = af;
		route_key(ours->v[i], k1, sizeof(k1));
		for (size_t j = from; j < to && j < ref->n && !found; j++) {
			route_key(ref->v[j], k2, sizeof(k2));
			if (!used[j] && strcmp(k1, k2) == 0) {
				used[j] = found = true;
				ok(same_line(ours->v[i], ref->v[j], exact_ts, k1), "%s %s as 1.7.7", what, k1);
			}
		}
		ok(found, "%s: %s is one of 1.7.7's", what, k1);
	}
}

/* --- the tests --- */

static char dir[64];

static void cfg_init(struct core_cfg *cfg)
{
	static char mlog[128], dump[128], latest[128];

	memset(cfg, 0, sizeof(*cfg));
	snprintf(mlog, sizeof(mlog), "%s/msglog-$peer_src_ip-$peer_tcp_port.json", dir);
	snprintf(dump, sizeof(dump), "%s/dump-$peer_src_ip-%%Y%%m%%d-%%H%%M.json", dir);
	snprintf(latest, sizeof(latest), "%s/dump-$peer_src_ip.latest", dir);
	cfg->bgp.msglog_file = mlog;
	cfg->bgp.msglog_output = "json";
	cfg->bgp.dump_file = dump;
	cfg->bgp.dump_output = "json";
	cfg->bgp.dump_refresh_time = 60;
	cfg->bgp.dump_latest_file = latest;
	cfg->bgp.max_peers = 4;
}

static void test_log_and_dump(void)
{
	struct core_cfg cfg;
	char err[256], path[256], link[256];
	struct bgp_rib_cfg rc = { .max_peers = 4 };
	struct bgp_rib *rib = bgp_rib_new(&rc);
	struct lines ours, ref;
	struct peer bird, exa;
	struct bgp_log_stats st;
	/* 2026-12-07 07:49:00 UTC, when 1.7.7 dumped (TZ is UTC here) */
	time_t t_dump = 1796629740;

	cfg_init(&cfg);
	struct bgp_log *l = bgp_log_new(&cfg, err, sizeof(err));
	ok(l != NULL, "bgp_log_new: %s", l ? "ok" : err);
	if (!l)
		return;
	const struct bgp_event_sink *s = bgp_log_sink(l);
	bgp_log_set_rib(l, rib);

	/* the order 1.7.7 saw: ExaBGP's session, then BIRD's */
	peer_up(&exa, rib, s, 3, 44391, 0x0f);
	exa_announce(&exa);
	peer_up(&bird, rib, s, 2, 49179, 0);
	bird_announce_v4(&bird);
	bird_v6(&bird, false);

	/* the dump of 07:49:00 */
	is_int(bgp_log_dump_now(l, rib, t_dump), 11, "dump: 5 + 6 routes");
	snprintf(path, sizeof(path), "%s/dump-127_0_0_2-20261207-0749.json", dir);
	read_lines(path, &ours);
	read_lines(DATA "dump_bird.json", &ref);
	is_int(ours.n, ref.n, "BIRD's dump: as many lines as 1.7.7's");
	for (size_t i = 0; i < ours.n && i < ref.n; i++)
		ok(same_line(ours.v[i], ref.v[i], true, "dump bird"), "BIRD dump line %zu as 1.7.7's", i + 1);
	for (size_t i = 1; i < ours.n; i++)
		ok(seq_of(ours.v[i]) == seq_of(ours.v[0]), "BIRD dump line %zu: the dump's one seq", i + 1);
	long long dump_seq = ours.n ? seq_of(ours.v[0]) : -1;
	is_int(dump_seq, 13, "the dump's seq follows the 13 log lines (0..12), as 1.7.7");
	snprintf(link, sizeof(link), "%s/dump-127_0_0_2.latest", dir);
	char target[256] = "";
	ssize_t tl = readlink(link, target, sizeof(target) - 1);
	target[tl > 0 ? tl : 0] = '\0';
	is_str(target, path, "latest file links to the dump");
	free_lines(&ours);
	free_lines(&ref);

	snprintf(path, sizeof(path), "%s/dump-127_0_0_3-20261207-0749.json", dir);
	read_lines(path, &ours);
	read_lines(DATA "dump_exabgp.json", &ref);
	is_int(ours.n, ref.n, "ExaBGP's dump: as many lines as 1.7.7's");
	if (ours.n == ref.n && ours.n > 2) {
		ok(same_line(ours.v[0], ref.v[0], true, "dump_init"), "dump_init as 1.7.7's");
		same_routes(&ours, &ref, 1, ours.n - 1, true, true, "ExaBGP dump");
		ok(same_line(ours.v[ours.n - 1], ref.v[ref.n - 1], true, "dump_close"), "dump_close as 1.7.7's");
	}
	free_lines(&ours);
	free_lines(&ref);

	/* what followed: ExaBGP's feed, BIRD's IPv6 withdrawn, ExaBGP down, IPv6 again, BIRD down */
	exa_feed(&exa);
	bird_v6(&bird, true);
	peer_down(&exa);
	bird_v6(&bird, false);
	bird_v6(&bird, true);
	peer_down(&bird);

	snprintf(path, sizeof(path), "%s/msglog-127_0_0_2-49179.json", dir);
	read_lines(path, &ours);
	read_lines(DATA "msglog_bird.json", &ref);
	is_int(ours.n, ref.n, "BIRD's msglog: as many lines as 1.7.7's");
	for (size_t i = 0; i < ours.n && i < ref.n; i++)
		ok(same_line(ours.v[i], ref.v[i], false, "msglog bird"), "BIRD msglog line %zu as 1.7.7's", i + 1);
	free_lines(&ours);
	free_lines(&ref);

	snprintf(path, sizeof(path), "%s/msglog-127_0_0_3-44391.json", dir);
	read_lines(path, &ours);
	read_lines(DATA "msglog_exabgp.json", &ref);
	is_int(ours.n, ref.n, "ExaBGP's msglog: as many lines as 1.7.7's");
	if (ours.n == ref.n && ours.n == 16) {
		/* log_init, 6 updates (the RIB's order of ADD-PATH paths aside), 3 feed lines, 5 deletes, log_close */
		same_routes(&ours, &ref, 1, 7, false, false, "ExaBGP updates");
		for (size_t i = 7; i < 10; i++)
			ok(same_line(ours.v[i], ref.v[i], false, "feed"), "ExaBGP msglog line %zu as 1.7.7's", i + 1);
		same_routes(&ours, &ref, 10, 15, false, true, "ExaBGP deletes");
		ok(same_line(ours.v[0], ref.v[0], false, "log_init"), "log_init as 1.7.7's");
		ok(same_line(ours.v[15], ref.v[15], false, "log_close"), "log_close as 1.7.7's");
		/* one sequence for both peers: ExaBGP's first 7 lines are 0..6, as 1.7.7's */
		for (size_t i = 0; i < 7; i++)
			is_int(seq_of(ours.v[i]), seq_of(ref.v[i]), "ExaBGP seq as 1.7.7's");
	}
	free_lines(&ours);
	free_lines(&ref);

	bgp_log_get_stats(l, &st);
	is_int(st.lines, 32, "32 msglog lines in all");
	is_int(st.dropped, 0, "none dropped");
	bgp_log_free(l);
	bgp_rib_free(rib);
}

/* SIGHUP: the log is reopened under its name (a rotated file keeps what it had). */
static void test_reopen_and_pipe(void)
{
	struct core_cfg cfg;
	char err[256], path[256], rot[256];
	struct bgp_rib_cfg rc = { .max_peers = 4 };
	struct bgp_rib *rib = bgp_rib_new(&rc);
	struct peer p;
	struct lines ls;
	struct stat sb;

	cfg_init(&cfg);
	cfg.bgp.dump_file = NULL;
	cfg.bgp.dump_latest_file = NULL;
	snprintf(path, sizeof(path), "%s/one.json", dir);
	cfg.bgp.msglog_file = path;
	struct bgp_log *l = bgp_log_new(&cfg, err, sizeof(err));
	ok(l != NULL, "bgp_log_new (one file): %s", l ? "ok" : err);
	if (!l)
		return;
	const struct bgp_event_sink *s = bgp_log_sink(l);
	peer_up(&p, rib, s, 2, 1000, 0);
	bird_announce_v4(&p);
	s->tick(s->arg, rib, time(NULL));
	snprintf(rot, sizeof(rot), "%s/one.json.1", dir);
	ok(rename(path, rot) == 0, "log rotated");
	bgp_log_reopen(l);
	bird_v6(&p, false);
	s->tick(s->arg, rib, time(NULL));
	read_lines(rot, &ls);
	is_int(ls.n, 4, "rotated file: log_init and 3 updates");
	free_lines(&ls);
	read_lines(path, &ls);
	is_int(ls.n, 2, "reopened file: the 2 later updates");
	if (ls.n)
		is_int(seq_of(ls.v[0]), 4, "the sequence goes on");
	free_lines(&ls);
	peer_down(&p);
	bgp_log_free(l);

	/* a named pipe without reader: nothing blocks, lines are counted as dropped */
	snprintf(path, sizeof(path), "%s/pipe", dir);
	ok(mkfifo(path, 0600) == 0 && stat(path, &sb) == 0 && S_ISFIFO(sb.st_mode), "named pipe made");
	cfg.bgp.msglog_file = path;
	l = bgp_log_new(&cfg, err, sizeof(err));
	s = bgp_log_sink(l);
	peer_up(&p, rib, s, 2, 1000, 0);
	bird_announce_v4(&p);
	s->tick(s->arg, rib, time(NULL));
	struct bgp_log_stats st;
	bgp_log_get_stats(l, &st);
	is_int(st.lines, 4, "4 lines logged to the pipe");
	/* a reader comes: the next lines arrive */
	int rfd = open(path, O_RDONLY | O_NONBLOCK);
	ok(rfd >= 0, "reader opens the pipe");
	sleep(1);	/* the open retry waits a second after a failed one */
	bird_v6(&p, false);
	s->tick(s->arg, rib, time(NULL));
	char buf[8192];
	ssize_t n = read(rfd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	ok(n > 0 && strstr(buf, "2001:db8:2::/64") != NULL, "the reader gets the later lines");
	close(rfd);
	peer_down(&p);
	bgp_log_free(l);
	bgp_rib_free(rib);
}

/* A BGP thread that applies withdrawals first: they are logged with the prefix alone. */
static void test_withdraw_after(void)
{
	struct core_cfg cfg;
	char err[256], path[256];
	struct bgp_rib_cfg rc = { .max_peers = 4 };
	struct bgp_rib *rib = bgp_rib_new(&rc);
	struct peer p;
	struct lines ls;

	cfg_init(&cfg);
	cfg.bgp.dump_file = NULL;
	cfg.bgp.dump_latest_file = NULL;
	snprintf(path, sizeof(path), "%s/after.json", dir);
	cfg.bgp.msglog_file = path;
	struct bgp_log *l = bgp_log_new(&cfg, err, sizeof(err));
	const struct bgp_event_sink *s = bgp_log_sink(l);
	s->tick(s->arg, rib, time(NULL));
	peer_up(&p, rib, s, 2, 1000, 0);
	p.wd_after = true;
	bird_v6(&p, false);
	bird_v6(&p, true);
	peer_down(&p);
	bgp_log_free(l);
	read_lines(path, &ls);
	is_int(ls.n, 6, "log_init, 2 updates, 2 withdrawals, log_close");
	if (ls.n == 6) {
		is_str(str_of(ls.v[3], "log_type"), "withdraw", "a withdrawal");
		is_str(str_of(ls.v[3], "ip_prefix"), "2001:db8:1::/48", "its prefix");
		ok(json_object_get(ls.v[3], "as_path") == NULL, "no attributes: the RIB had dropped them");
		is_str(str_of(ls.v[5], "event_type"), "log_close", "then log_close");
	}
	free_lines(&ls);
	bgp_rib_free(rib);
}

/* The prefixes of one UPDATE share its timestamp, however long the UPDATE takes (1.7.7). */
static void test_update_timestamp(void)
{
	struct core_cfg cfg;
	char err[256], path[256];
	struct bgp_rib_cfg rc = { .max_peers = 4 };
	struct bgp_rib *rib = bgp_rib_new(&rc);
	struct peer p;
	struct lines ls;

	cfg_init(&cfg);
	cfg.bgp.dump_file = NULL;
	cfg.bgp.dump_latest_file = NULL;
	snprintf(path, sizeof(path), "%s/one_ts.json", dir);
	cfg.bgp.msglog_file = path;
	struct bgp_log *l = bgp_log_new(&cfg, err, sizeof(err));
	const struct bgp_event_sink *s = bgp_log_sink(l);
	peer_up(&p, rib, s, 2, 1000, 0);
	p.slow = true;
	bird_v6(&p, false);	/* two UPDATEs of a prefix each, 3 ms apart */
	bird_v6(&p, true);	/* one UPDATE withdrawing both, its prefixes 3 ms apart */
	peer_down(&p);
	bgp_log_free(l);
	read_lines(path, &ls);
	is_int(ls.n, 6, "log_init, 2 updates, 2 withdrawals, log_close");
	if (ls.n == 6) {
		ok(strcmp(str_of(ls.v[2], "timestamp"), str_of(ls.v[1], "timestamp")) != 0,
		    "two UPDATEs: a timestamp each");
		is_str(str_of(ls.v[4], "timestamp"), str_of(ls.v[3], "timestamp"),
		    "the two withdrawals of one UPDATE: one timestamp");
	}
	free_lines(&ls);
	bgp_rib_free(rib);
}

/* --- Kafka through build/kafka_mock (a librdkafka mock cluster) --- */

struct mock {
	pid_t pid;
	int in, out;		/* its stdin, its stdout */
	char host[64], port[16];
	char buf[1 << 16];
	size_t len;
};

static int mock_start(struct mock *m, const char *bin)
{
	int pin[2], pout[2];

	memset(m, 0, sizeof(*m));
	if (pipe(pin) < 0 || pipe(pout) < 0)
		return -1;
	m->pid = fork();
	if (m->pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		int dn = open("/dev/null", O_WRONLY);
		dup2(dn, 2);
		close(pin[1]);
		close(pout[0]);
		execl(bin, bin, "bgp.msglog", "bgp.dump", (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	m->in = pin[1];
	m->out = pout[0];
	return m->pid > 0 ? 0 : -1;
}

/* The next line of the mock's output (NUL-terminated, no newline), waiting up to secs; NULL at the end. */
static char *mock_line(struct mock *m, int secs)
{
	static char line[1 << 16];

	for (;;) {
		char *nl = memchr(m->buf, '\n', m->len);
		if (nl) {
			size_t n = (size_t)(nl - m->buf);
			memcpy(line, m->buf, n);
			line[n] = '\0';
			memmove(m->buf, nl + 1, m->len - n - 1);
			m->len -= n + 1;
			return line;
		}
		struct pollfd pf = { .fd = m->out, .events = POLLIN };
		if (m->len == sizeof(m->buf) || poll(&pf, 1, secs * 1000) <= 0)
			return NULL;
		ssize_t r = read(m->out, m->buf + m->len, sizeof(m->buf) - m->len);
		if (r <= 0)
			return NULL;
		m->len += (size_t)r;
	}
}

static void mock_stop(struct mock *m)
{
	if (write(m->in, "quit\n", 5) < 0)
		kill(m->pid, SIGTERM);
	close(m->in);
	close(m->out);
	waitpid(m->pid, NULL, 0);
}

/* The log and a dump to Kafka: the same lines as the files, one message each, on their topics. */
static void test_kafka(void)
{
	const char *bin = getenv("KAFKA_MOCK");
	struct mock m;
	struct core_cfg cfg;
	char err[256], path[256], *line;
	struct bgp_rib_cfg rc = { .max_peers = 4 };
	struct bgp_rib *rib;
	struct peer p;
	struct lines file;

	if (!bin || access(bin, X_OK) != 0) {
		skip("no kafka_mock (Kafka not built)");
		return;
	}
	if (mock_start(&m, bin) < 0 || !(line = mock_line(&m, 30)) || strncmp(line, "BOOTSTRAP ", 10) != 0) {
		ok(0, "kafka_mock starts");
		return;
	}
	/* "BOOTSTRAP host:port,..." */
	char *hp = line + 10, *comma = strchr(hp, ','), *colon;
	if (comma)
		*comma = '\0';
	colon = strrchr(hp, ':');
	if (!colon) {
		ok(0, "kafka_mock bootstrap address");
		mock_stop(&m);
		return;
	}
	*colon = '\0';
	snprintf(m.host, sizeof(m.host), "%s", hp);
	snprintf(m.port, sizeof(m.port), "%s", colon + 1);

	cfg_init(&cfg);
	snprintf(path, sizeof(path), "%s/kafka-log.json", dir);
	cfg.bgp.msglog_file = path;
	cfg.bgp.dump_file = NULL;
	cfg.bgp.dump_latest_file = NULL;
	cfg.bgp.msglog_kafka_topic = "bgp.msglog";
	cfg.bgp.msglog_kafka_broker_host = m.host;
	cfg.bgp.msglog_kafka_broker_port = (uint32_t)atoi(m.port);
	cfg.bgp.dump_kafka_topic = "bgp.dump";
	cfg.bgp.dump_kafka_broker_host = m.host;
	cfg.bgp.dump_kafka_broker_port = (uint32_t)atoi(m.port);
	struct bgp_log *l = bgp_log_new(&cfg, err, sizeof(err));
	ok(l != NULL, "bgp_log_new with Kafka: %s", l ? "ok" : err);
	if (!l) {
		mock_stop(&m);
		return;
	}
	rib = bgp_rib_new(&rc);
	const struct bgp_event_sink *s = bgp_log_sink(l);
	bgp_log_set_rib(l, rib);
	peer_up(&p, rib, s, 2, 49179, 0);
	bird_announce_v4(&p);
	bird_v6(&p, false);
	is_int(bgp_log_dump_now(l, rib, 1796629740), 5, "dump to Kafka: 5 routes");
	peer_down(&p);
	bgp_log_free(l);	/* waits for the queues to be delivered */
	bgp_rib_free(rib);

	read_lines(path, &file);
	size_t n_log = 0, n_dump = 0, same = 0;
	while (n_log + n_dump < file.n + 7 && (line = mock_line(&m, 30))) {
		char topic[32];
		int off = 0;
		/* "MSG <topic> <key> <id> <payload>" */
		if (sscanf(line, "MSG %31s %*s %*s %n", topic, &off) != 1 || !off)
			continue;
		json_error_t e;
		json_t *v = json_loads(line + off, 0, &e);
		if (strcmp(topic, "bgp.msglog") == 0) {
			/* the file's line with pmacct's writer_id last: "default/<our pid>" */
			char wid[64];
			snprintf(wid, sizeof(wid), "default/%ld", (long)getpid());
			const char *last = NULL;
			for (void *it = v ? json_object_iter(v) : NULL; it; it = json_object_iter_next(v, it))
				last = json_object_iter_key(it);
			bool wid_ok = last && strcmp(last, "writer_id") == 0 &&
			    json_is_string(json_object_get(v, "writer_id")) &&
			    strcmp(json_string_value(json_object_get(v, "writer_id")), wid) == 0;
			if (v)
				json_object_del(v, "writer_id");
			if (v && wid_ok && n_log < file.n && json_equal(v, file.v[n_log]))
				same++;
			n_log++;
		} else if (strcmp(topic, "bgp.dump") == 0 && v) {
			n_dump++;
		}
		json_decref(v);
	}
	is_int(n_log, file.n, "every log line reached Kafka");
	is_int(same, file.n, "each message is its log file line, then \"writer_id\": \"default/<pid>\"");
	is_int(n_dump, 7, "the dump reached Kafka: dump_init, 5 routes, dump_close");
	free_lines(&file);
	mock_stop(&m);
}

/* eBGP: 1.7.7 prints no local_pref when the UPDATE has none. */
static void test_ebgp(void)
{
	struct core_cfg cfg;
	char err[256], path[256];
	struct bgp_rib_cfg rc = { .max_peers = 4 };
	struct bgp_rib *rib = bgp_rib_new(&rc);
	struct peer p;
	struct lines ours, ref;

	cfg_init(&cfg);
	cfg.bgp.dump_file = NULL;
	cfg.bgp.dump_latest_file = NULL;
	struct bgp_log *l = bgp_log_new(&cfg, err, sizeof(err));
	const struct bgp_event_sink *s = bgp_log_sink(l);
	bgp_log_set_rib(l, rib);
	ebgp = true;
	peer_up(&p, rib, s, 2, 46435, 0);
	p.id.as = 65001;
	bird_announce_v4(&p);
	bird_v6(&p, false);
	peer_down(&p);
	ebgp = false;
	bgp_log_free(l);
	snprintf(path, sizeof(path), "%s/msglog-127_0_0_2-46435.json", dir);
	read_lines(path, &ours);
	read_lines(DATA "msglog_bird_ebgp.json", &ref);
	is_int(ours.n, ref.n, "eBGP msglog: as many lines as 1.7.7's");
	if (ours.n == ref.n && ours.n == 12) {
		for (size_t i = 0; i < 6; i++)
			ok(same_line(ours.v[i], ref.v[i], false, "ebgp"), "eBGP msglog line %zu as 1.7.7's", i + 1);
		same_routes(&ours, &ref, 6, 11, false, true, "eBGP deletes");
		ok(same_line(ours.v[11], ref.v[11], false, "ebgp"), "eBGP log_close as 1.7.7's");
	}
	free_lines(&ours);
	free_lines(&ref);
	bgp_rib_free(rib);
}

/* The route ExaBGP sent with unsorted communities (tshark), tests/data/bgp_log/exabgp_sort.conf. */
static void exa_sort_route(struct peer *pp)
{
	struct ub at = { .n = 0 }, nl = { .n = 0 };

	a_origin(&at, 0);
	a_path(&at, NULL, 0, NULL, 0);
	a_nh(&at, 10, 0, 0, 1);
	a_lp(&at, 100);
	a_comms(&at, (uint32_t[]){ 65000u << 16 | 9, 65000u << 16 | 1, 65000u << 16 | 1 }, 3);
	a_ecomms(&at, (uint64_t[]){ 0x0002fde800000009ULL, 0x0002fde800000001ULL, 0x0003fde800000003ULL,
	    0x00020a0000010005ULL }, 4);
	a_lcomms(&at, (uint32_t[]){ 65000, 9, 9, 65000, 1, 1, 64999, 5, 5 }, 3);
	pfx(&nl, -1, -1, NULL, 24, (uint8_t[]){ 10, 7, 0 });
	update(pp, &NONE, &at, &nl);
}

/* Communities of every kind sorted and unique, as 1.7.7 printed ExaBGP's unsorted lists. */
static void test_sorted_comms(void)
{
	struct core_cfg cfg;
	char err[256], path[256];
	struct bgp_rib_cfg rc = { .max_peers = 4 };
	struct bgp_rib *rib = bgp_rib_new(&rc);
	struct peer p;
	struct lines ours, ref;

	cfg_init(&cfg);
	cfg.bgp.dump_file = NULL;
	cfg.bgp.dump_latest_file = NULL;
	struct bgp_log *l = bgp_log_new(&cfg, err, sizeof(err));
	const struct bgp_event_sink *s = bgp_log_sink(l);
	bgp_log_set_rib(l, rib);
	peer_up(&p, rib, s, 4, 33287, 0);
	exa_sort_route(&p);
	peer_down(&p);
	bgp_log_free(l);
	snprintf(path, sizeof(path), "%s/msglog-127_0_0_4-33287.json", dir);
	read_lines(path, &ours);
	read_lines(DATA "msglog_exabgp_sort.json", &ref);
	is_int(ours.n, ref.n, "sorted communities: as many lines as 1.7.7's");
	for (size_t i = 0; i < ours.n && i < ref.n; i++)
		ok(same_line(ours.v[i], ref.v[i], false, "sorted"), "sorted communities line %zu as 1.7.7's", i + 1);
	free_lines(&ours);
	free_lines(&ref);
	bgp_rib_free(rib);
}

/* One dump file for all peers: each peer's dump_init, routes, dump_close ("tables": 1 each). */
static void test_shared_dump(void)
{
	struct core_cfg cfg;
	char err[256], tpl[256], path[256];
	struct bgp_rib_cfg rc = { .max_peers = 4 };
	struct bgp_rib *rib = bgp_rib_new(&rc);
	struct peer p4, p2;
	struct lines ours, ref;

	cfg_init(&cfg);
	cfg.bgp.msglog_file = NULL;
	snprintf(tpl, sizeof(tpl), "%s/dump-all-%%H%%M.json", dir);
	cfg.bgp.dump_file = tpl;
	cfg.bgp.dump_latest_file = NULL;
	struct bgp_log *l = bgp_log_new(&cfg, err, sizeof(err));
	const struct bgp_event_sink *s = bgp_log_sink(l);
	bgp_log_set_rib(l, rib);
	peer_up(&p4, rib, s, 4, 36117, 0);
	exa_sort_route(&p4);
	peer_up(&p2, rib, s, 2, 38701, 0);
	bird_announce_v4(&p2);
	bird_v6(&p2, false);
	/* 08:17:00 UTC, as 1.7.7's */
	is_int(bgp_log_dump_now(l, rib, 1796631420), 6, "shared dump: 1 + 5 routes");
	snprintf(path, sizeof(path), "%s/dump-all-0817.json", dir);
	read_lines(path, &ours);
	read_lines(DATA "dump_shared.json", &ref);
	is_int(ours.n, ref.n, "shared dump: as many lines as 1.7.7's");
	for (size_t i = 0; i < ours.n && i < ref.n; i++)
		ok(same_line(ours.v[i], ref.v[i], true, "shared dump"), "shared dump line %zu as 1.7.7's", i + 1);
	free_lines(&ours);
	free_lines(&ref);
	bgp_log_free(l);
	bgp_rib_free(rib);
}

static void test_config_errors(void)
{
	struct core_cfg cfg;
	char err[256] = "";

	cfg_init(&cfg);
	cfg.bgp.msglog_output = "avro";
	ok(bgp_log_new(&cfg, err, sizeof(err)) == NULL && strstr(err, "bgp_daemon_msglog_output"),
	    "msglog_output avro refused, naming the key: %s", err);
	ok(strstr(err, "'avro' not supported, only json") != NULL, "... 'avro' not supported, only json");
	memset(&cfg, 0, sizeof(cfg));
	cfg.bgp.dump_output = "avro_json";
	ok(bgp_log_new(&cfg, err, sizeof(err)) == NULL && strstr(err, "bgp_table_dump_output") &&
	    strstr(err, "'avro_json' not supported, only json"), "dump_output avro_json refused: %s", err);
	ok(bgp_log_check(&cfg, err, sizeof(err)) < 0, "bgp_log_check (-T config) refuses it too");
	/* 1.7.7: a refresh time under 60 is ignored, and a dump file without one dumps nothing */
	memset(&cfg, 0, sizeof(cfg));
	cfg.bgp.dump_file = "/nonexistent/dump.json";
	cfg.bgp.dump_refresh_time = 30;
	struct bgp_log *l30 = bgp_log_new(&cfg, err, sizeof(err));
	ok(l30 != NULL, "dump refresh 30: accepted, warned, no dumps (as 1.7.7)");
	bgp_log_free(l30);
	cfg_init(&cfg);
	cfg.bgp.msglog_kafka_topic = "t";
	cfg.bgp.msglog_amqp_routing_key = "k";
	ok(bgp_log_new(&cfg, err, sizeof(err)) == NULL && strstr(err, "bgp_daemon_msglog_amqp_routing_key"),
	    "Kafka and AMQP at once refused: %s", err);
	memset(&cfg, 0, sizeof(cfg));
	struct bgp_log *l = bgp_log_new(&cfg, err, sizeof(err));
	ok(l != NULL, "nothing configured: a sink that does nothing");
	bgp_log_free(l);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/test_bgp_log.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	test_log_and_dump();
	test_reopen_and_pipe();
	test_withdraw_after();
	test_update_timestamp();
	test_kafka();
	test_ebgp();
	test_sorted_comms();
	test_shared_dump();
	test_config_errors();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
