/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_rib_bench.c: micro-benchmark of the BGP RIB: N peers x full tables, insert rate, bytes, lookups, withdrawal. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maps/bgp_rib.h"
#include "maps/bgp_rib_int.h"	/* the breakdown of the bytes */
#include "../tests/unit/xorshift.h"

/*
 * The tables: n4 distinct IPv4 prefixes with the length mix of today's
 * Internet table (~60% /24, 10% /23, 12% /22, ..., 1% /8../15) and n6 IPv6
 * prefixes (half /48, then /32, /44, /40, /36, /29, /64) inside the blocks
 * the RIRs allocate from (2001::/16, 2400::/12, 2600::/12, 2800::/12,
 * 2a00::/12, 2c00::/12), in random order, the same prefixes from every peer
 * as full-table peers send.  Each route takes one of n_paths AS
 * paths by Zipf popularity (s = 1), chosen per prefix and peer; a path
 * carries 0..6 communities of its upstream, a tenth a route target and a
 * tenth a large community; the peer's AS is prepended and its address is
 * the next hop; a quarter of the routes carry one of four MEDs.
 */
struct cfg {
	int peers;
	uint8_t index_bits;
	uint32_t n4, n6, n_paths;
	uint32_t lookups;
	uint32_t per_update;	/* NLRI per UPDATE sharing one attribute set (-u), 1 = each its own */
	bool no_upd;		/* -n: apply them with bgp_rib_apply(), each rendering the set again */
};

struct path {
	uint8_t len, n_comm, has_rt, has_lc;
	uint32_t asn[8];
	uint8_t comm[6 * 4], rt[8], lc[12];
};

struct gen {
	struct cfg c;
	uint32_t *v4;		/* address */
	uint8_t *v4len;
	uint8_t (*v6)[16];
	uint8_t *v6len;
	struct path *paths;
	double *cdf;
};

static uint64_t rs = 0x243F6A8885A308D3ULL;

static uint64_t rnd(void)
{
	return xorshift64(&rs);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A length from a cumulative percentage table {len, up-to-percent}. */
static unsigned pick_len(const uint8_t (*tab)[2])
{
	unsigned r = (unsigned)(rnd() % 100);

	while (r >= tab[0][1])
		tab++;
	return tab[0][0];
}

/* Distinct prefixes, one 64-bit value each (the first 64 bits, length in the low 8 of a masked copy). */
struct pfx64 {
	uint64_t bits;
	uint8_t len;
};

static int pfx_cmp(const void *x, const void *y)
{
	const struct pfx64 *a = x, *b = y;
	if (a->bits != b->bits)
		return a->bits < b->bits ? -1 : 1;
	return (int)a->len - (int)b->len;
}

/* n distinct prefixes drawn by draw(), shuffled. */
static struct pfx64 *distinct(uint32_t n, struct pfx64 (*draw)(void))
{
	size_t cap = (size_t)n + n / 4 + 16, m = 0;
	struct pfx64 *v = malloc(cap * sizeof(*v));

	while (m < n) {
		while (m < cap)
			v[m++] = draw();
		qsort(v, m, sizeof(*v), pfx_cmp);
		size_t u = 0;
		for (size_t i = 0; i < m; i++)
			if (u == 0 || pfx_cmp(&v[u - 1], &v[i]) != 0)
				v[u++] = v[i];
		m = u;
	}
	for (size_t i = m - 1; i > 0; i--) {
		size_t j = (size_t)(rnd() % (i + 1));
		struct pfx64 t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	return v;
}

static uint64_t mask64(unsigned len)
{
	return len == 0 ? 0 : len >= 64 ? UINT64_MAX : ~(UINT64_MAX >> len);
}

static struct pfx64 draw_v4(void)
{
	static const uint8_t lens[][2] = { { 24, 60 }, { 23, 70 }, { 22, 82 }, { 21, 87 }, { 20, 91 },
	    { 19, 94 }, { 18, 96 }, { 17, 97 }, { 16, 99 }, { 12, 100 } };
	unsigned len = pick_len(lens);
	uint64_t a = (uint64_t)(1 + rnd() % 223) << 56 | (rnd() & 0xffffff) << 32;
	return (struct pfx64){ a & mask64(len), (uint8_t)len };
}

static struct pfx64 draw_v6(void)
{
	static const uint8_t lens[][2] = { { 48, 50 }, { 32, 65 }, { 44, 75 }, { 40, 83 }, { 36, 90 },
	    { 29, 95 }, { 64, 100 } };
	static const uint16_t blocks[] = { 0x2001, 0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00 };
	unsigned len = pick_len(lens), b = (unsigned)(rnd() % 6);
	uint64_t top = b == 0 ? 0x2001 : blocks[b] | (rnd() & 0xf);
	uint64_t a = top << 48 | (rnd() & 0xffffffffffffULL);
	return (struct pfx64){ a & mask64(len), (uint8_t)len };
}

static void gen_prefixes(struct gen *g)
{
	struct pfx64 *v4 = distinct(g->c.n4, draw_v4), *v6 = distinct(g->c.n6, draw_v6);

	g->v4 = malloc(g->c.n4 * sizeof(*g->v4));
	g->v4len = malloc(g->c.n4);
	g->v6 = calloc(g->c.n6, sizeof(*g->v6));
	g->v6len = malloc(g->c.n6);
	for (uint32_t i = 0; i < g->c.n4; i++) {
		g->v4[i] = (uint32_t)(v4[i].bits >> 32);
		g->v4len[i] = v4[i].len;
	}
	for (uint32_t i = 0; i < g->c.n6; i++) {
		put32(g->v6[i], (uint32_t)(v6[i].bits >> 32));
		put32(g->v6[i] + 4, (uint32_t)v6[i].bits);
		g->v6len[i] = v6[i].len;
	}
	free(v4);
	free(v6);
}

static void gen_paths(struct gen *g)
{
	double sum = 0;

	g->paths = calloc(g->c.n_paths, sizeof(*g->paths));
	g->cdf = malloc(g->c.n_paths * sizeof(*g->cdf));
	for (uint32_t i = 0; i < g->c.n_paths; i++) {
		struct path *p = &g->paths[i];
		p->len = (uint8_t)(2 + rnd() % 6);
		p->asn[0] = 1000 + (uint32_t)(rnd() % 20);	/* an upstream */
		for (unsigned k = 1; k < p->len; k++)
			p->asn[k] = 2000 + (uint32_t)(rnd() % 70000);
		p->n_comm = (uint8_t)(rnd() % 7);
		for (unsigned k = 0; k < p->n_comm; k++)
			put32(p->comm + 4 * k, p->asn[0] << 16 | (uint32_t)(rnd() % 50));
		p->has_rt = rnd() % 10 == 0;
		p->rt[0] = 0;
		p->rt[1] = 2;
		put32(p->rt + 4, (uint32_t)(rnd() % 1000));
		p->rt[2] = (uint8_t)(p->asn[0] >> 8);
		p->rt[3] = (uint8_t)p->asn[0];
		p->has_lc = rnd() % 10 == 0;
		put32(p->lc, p->asn[p->len - 1]);
		put32(p->lc + 4, 1);
		put32(p->lc + 8, (uint32_t)(rnd() % 10));
		sum += 1.0 / (i + 1);
		g->cdf[i] = sum;
	}
	for (uint32_t i = 0; i < g->c.n_paths; i++)
		g->cdf[i] /= sum;
}

static uint32_t zipf(const struct gen *g, uint64_t h)
{
	double u = (double)(h >> 11) / 9007199254740992.0;
	uint32_t lo = 0, hi = g->c.n_paths - 1;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (g->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/* The attributes peer sends for route i (of IPv6 when v6). */
static void route_attrs(const struct gen *g, int peer, uint32_t i, bool v6, struct bgp_attrs *a)
{
	uint64_t h = mix((uint64_t)i << 8 | (uint64_t)peer << 1 | v6);
	const struct path *p = &g->paths[zipf(g, h)];

	a->has_origin = true;
	a->origin = 0;
	a->has_as_path = true;
	a->as_path.n_seg = 1;
	a->as_path.n_asn = p->len + 1u;
	a->as_path.seg[0] = (struct bgp_as_seg){ BGP_AS_SEQUENCE, 0, (uint16_t)(p->len + 1) };
	a->as_path.asn[0] = 64500 + (uint32_t)peer;
	memcpy(a->as_path.asn + 1, p->asn, p->len * sizeof(uint32_t));
	a->has_local_pref = true;
	a->local_pref = 100;
	a->has_med = (h >> 60) < 4;
	a->med = a->has_med ? (uint32_t)((h >> 58) & 3) * 10 : 0;
	memset(&a->next_hop, 0, sizeof(a->next_hop));
	memset(&a->mp_next_hop, 0, sizeof(a->mp_next_hop));
	if (v6) {
		a->mp_next_hop.afi = BGP_AFI_IPV6;
		a->mp_next_hop.a[0] = 0x20;
		a->mp_next_hop.a[1] = 0x01;
		a->mp_next_hop.a[15] = (uint8_t)(peer + 1);
	} else {
		a->next_hop.afi = BGP_AFI_IPV4;
		a->next_hop.a[0] = 10;
		a->next_hop.a[3] = (uint8_t)(peer + 1);
	}
	a->n_comm = p->n_comm;
	a->comm = p->comm;
	a->n_ext_comm = p->has_rt;
	a->ext_comm = p->rt;
	a->n_large_comm = p->has_lc;
	a->large_comm = p->lc;
}

static void nlri_v4(const struct gen *g, uint32_t i, bool withdraw, struct bgp_nlri *n)
{
	memset(n, 0, sizeof(*n));
	n->withdraw = withdraw;
	n->afi = BGP_AFI_IPV4;
	n->safi = BGP_SAFI_UNICAST;
	n->plen = g->v4len[i];
	put32(n->addr, g->v4[i]);
}

static void nlri_v6(const struct gen *g, uint32_t i, bool withdraw, struct bgp_nlri *n)
{
	memset(n, 0, sizeof(*n));
	n->withdraw = withdraw;
	n->afi = BGP_AFI_IPV6;
	n->safi = BGP_SAFI_UNICAST;
	n->plen = g->v6len[i];
	memcpy(n->addr, g->v6[i], 16);
}

/* Every peer's full table in (withdraw = false) or out; returns the NLRI applied. */
static uint64_t load(struct bgp_rib *rib, const struct gen *g, const int *peer, bool withdraw)
{
	static struct bgp_attrs a;
	struct bgp_nlri n;
	struct bgp_rib_upd u, *up = g->c.no_upd ? NULL : &u;
	uint32_t k = g->c.per_update;
	uint64_t count = 0;

	/* an UPDATE of k NLRI carries the attributes drawn for its first prefix */
	for (int p = 0; p < g->c.peers; p++) {
		bgp_rib_wrlock(rib);
		for (uint32_t i = 0; i < g->c.n4; i++, count++) {
			if (i % k == 0) {
				bgp_rib_upd_begin(&u);
				if (!withdraw)
					route_attrs(g, p, i, false, &a);
			}
			nlri_v4(g, i, withdraw, &n);
			bgp_rib_apply_upd(rib, peer[p], &n, &a, up);
		}
		for (uint32_t i = 0; i < g->c.n6; i++, count++) {
			if (i % k == 0) {
				bgp_rib_upd_begin(&u);
				if (!withdraw)
					route_attrs(g, p, i, true, &a);
			}
			nlri_v6(g, i, withdraw, &n);
			bgp_rib_apply_upd(rib, peer[p], &n, &a, up);
		}
		bgp_rib_unlock(rib);
	}
	return count;
}

/* An address for a lookup: 9 in 10 inside a random prefix of the table, else anywhere. */
static void lookup_addr(const struct gen *g, bool v6, uint8_t *a)
{
	bool inside = rnd() % 10 != 0;

	for (int w = 0; w < 4; w++)
		put32(a + 4 * w, (uint32_t)rnd());
	if (!inside)
		return;
	if (!v6) {
		uint32_t i = (uint32_t)(rnd() % g->c.n4), len = g->v4len[i];
		uint32_t v = g->v4[i] | ((uint32_t)rnd() & (uint32_t)(UINT32_MAX >> len));
		put32(a, len == 0 ? (uint32_t)rnd() : v);
		return;
	}
	uint32_t i = (uint32_t)(rnd() % g->c.n6);
	unsigned len = g->v6len[i];
	for (unsigned b = 0; b < len; b++) {
		uint8_t bit = (uint8_t)(0x80 >> (b % 8));
		a[b / 8] = (uint8_t)((a[b / 8] & ~bit) | (g->v6[i][b / 8] & bit));
	}
}

/* Lookups of addresses (IPv4 or IPv6) in one peer's table; returns lookups per second. */
static double bench_lookups(struct bgp_rib *rib, const struct gen *g, int peer, bool v6, uint64_t *hits)
{
	uint32_t n = g->c.lookups;
	uint8_t (*addr)[16] = malloc((size_t)n * 16);
	struct bgp_route r;

	for (uint32_t i = 0; i < n; i++)
		lookup_addr(g, v6, addr[i]);
	*hits = 0;
	bgp_rib_rdlock(rib);
	double t0 = now();
	for (uint32_t i = 0; i < n; i++)
		*hits += bgp_rib_lookup(rib, peer, v6 ? BGP_AFI_IPV6 : BGP_AFI_IPV4, BGP_SAFI_UNICAST,
		    NULL, addr[i], NULL, &r);
	double dt = now() - t0;
	bgp_rib_unlock(rib);
	free(addr);
	return n / dt;
}

/* Where the bytes are: trie nodes, route records, indexes (from the RIB's insides), and attribute sets. */
static void breakdown(const struct bgp_rib *rib, const struct bgp_rib_stats *st)
{
	size_t nodes = 0, n_nodes = 0, routes = 0, dir = 0;

	for (uint32_t p = 0; p < rib->max_peers; p++) {
		for (int i = 0; i < RIB_T_N && rib->peers[p].used; i++) {
			const struct rib_table *t = &rib->peers[p].t[i];
			nodes += (size_t)t->nodes.cap * t->ns * 4;
			n_nodes += t->nodes.live;
			routes += (size_t)t->routes.cap * t->rs * 4;
			dir += t->dir ? ((size_t)8 << t->dir_bits) : 0;
		}
	}
	size_t attrs = st->bytes - nodes - routes - dir;
	printf("  trie nodes %.1f MiB (%zu nodes, %.2f per route), route records %.1f MiB, indexes %.1f MiB,\n"
	    "  attribute sets and their table %.1f MiB (%.0f bytes per set)\n", nodes / 1048576.0, n_nodes,
	    (double)n_nodes / (double)st->routes, routes / 1048576.0, dir / 1048576.0, attrs / 1048576.0,
	    (double)attrs / (double)st->attrs);
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void usage(void)
{
	fprintf(stderr, "usage: bgp_rib_bench [-p peers] [-i index-bits] [-4 v4-prefixes] "
	    "[-6 v6-prefixes] [-a as-paths] [-l lookups] [-u nlri-per-update] [-n]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct cfg *c)
{
	int o;

	*c = (struct cfg){ 4, 0, 1000000, 200000, 70000, 10000000, 1, false };
	while ((o = getopt(argc, argv, "p:i:4:6:a:l:u:n")) != -1) {
		switch (o) {
		case 'i': c->index_bits = (uint8_t)atoi(optarg); break;
		case 'p': c->peers = atoi(optarg); break;
		case '4': c->n4 = (uint32_t)strtoul(optarg, NULL, 10); break;
		case '6': c->n6 = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'a': c->n_paths = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'l': c->lookups = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'u': c->per_update = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'n': c->no_upd = true; break;
		default: usage();
		}
	}
	if (c->peers < 1 || c->peers > 250 || c->n_paths == 0 || c->lookups == 0 || c->per_update == 0)
		usage();
}

int main(int argc, char **argv)
{
	struct gen g = { 0 };
	struct bgp_rib_stats st, base;
	uint64_t hits;

	parse(argc, argv, &g.c);
	gen_prefixes(&g);
	gen_paths(&g);
	struct bgp_rib *rib = bgp_rib_new(&(struct bgp_rib_cfg){ .max_peers = (uint32_t)g.c.peers,
	    .index_bits = g.c.index_bits });
	int *peer = malloc(sizeof(int) * (size_t)g.c.peers);
	bgp_rib_wrlock(rib);
	for (int p = 0; p < g.c.peers; p++) {
		struct bgp_peer_id id = { .addr = { BGP_AFI_IPV4, { 10, 0, 0, (uint8_t)(p + 1) } },
		    .bgp_id = (uint32_t)p + 1, .as = 64500 + (uint32_t)p };
		peer[p] = bgp_rib_peer_add(rib, &id);
	}
	bgp_rib_stats(rib, &base);
	bgp_rib_unlock(rib);
	long rss0 = rss_kib();

	printf("peers %d, per peer %u IPv4 + %u IPv6 prefixes, %u AS paths (Zipf), %u NLRI per UPDATE%s\n",
	    g.c.peers, g.c.n4, g.c.n6, g.c.n_paths, g.c.per_update, g.c.no_upd ? " (bgp_rib_apply)" : "");
	double t0 = now();
	uint64_t applied = load(rib, &g, peer, false);
	double dt = now() - t0;
	bgp_rib_stats(rib, &st);
	printf("insert: %llu NLRI in %.2f s = %.0f routes/s\n", (unsigned long long)applied, dt, applied / dt);
	printf("routes %zu, distinct attribute sets %zu\n", st.routes, st.attrs);
	printf("bytes %zu (%.1f MiB), %.1f bytes/route; process RSS grew %.1f MiB\n", st.bytes,
	    st.bytes / 1048576.0, (double)st.bytes / (double)st.routes, (rss_kib() - rss0) / 1024.0);
	breakdown(rib, &st);
	double l4 = bench_lookups(rib, &g, peer[0], false, &hits);
	printf("IPv4 lookups: %.1f M/s (%.0f ns each), %.0f%% hit\n", l4 / 1e6, 1e9 / l4,
	    100.0 * (double)hits / g.c.lookups);
	double l6 = bench_lookups(rib, &g, peer[0], true, &hits);
	printf("IPv6 lookups: %.1f M/s (%.0f ns each), %.0f%% hit\n", l6 / 1e6, 1e9 / l6,
	    100.0 * (double)hits / g.c.lookups);
	t0 = now();
	applied = load(rib, &g, peer, true);
	dt = now() - t0;
	bgp_rib_stats(rib, &st);
	printf("withdraw: %llu NLRI in %.2f s = %.0f routes/s\n", (unsigned long long)applied, dt, applied / dt);
	printf("after withdrawing everything: routes %zu, attribute sets %zu, bytes %zu (empty RIB %zu)\n",
	    st.routes, st.attrs, st.bytes, base.bytes);
	bgp_rib_free(rib);
	free(peer);
	free(g.v4);
	free(g.v4len);
	free(g.v6);
	free(g.v6len);
	free(g.paths);
	free(g.cdf);
	return 0;
}
