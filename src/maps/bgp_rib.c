/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_rib.c: per-peer BGP tables (path-compressed binary tries in 32-bit-indexed arenas) over interned attributes. */
#include "maps/bgp_rib.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "maps/bgp_rib_int.h"

/*
 * Layout.  Each peer has four tables (IPv4, IPv6, VPNv4, VPNv6).  A table is
 * a path-compressed binary trie whose key is the prefix, preceded for VPN by
 * the 64-bit RD (so a VPN route's key is never shorter than 64 bits and a
 * lookup under one RD can only match routes of that RD).  Nodes and routes
 * are fixed-size records in arrays of 32-bit words, addressed by index
 * (0 = none), with free lists; an empty arena is released whole.
 *
 * A node: [0] child 0, [1] child 1, [2] route index << 8 | key length,
 *         [3..] key words (big-endian bit order, bits past the length zero).
 * A route: [0] attribute slot, [1] next route of the prefix (ADD-PATH),
 *          [2] path id, [3] bit 0 has path id, bits 1..3 label count,
 *          [4..7] labels (VPN tables only).
 * Glue nodes (route 0) always have two children.
 */
#define RIB_ROUTE_MAX ((1u << 24) - 1)

/* The table of afi/safi, or -1. */
static int tbl_index(uint16_t afi, uint8_t safi)
{
	if (safi == BGP_SAFI_UNICAST)
		return afi == BGP_AFI_IPV4 ? RIB_T_V4 : afi == BGP_AFI_IPV6 ? RIB_T_V6 : -1;
	if (safi == BGP_SAFI_VPN)
		return afi == BGP_AFI_IPV4 ? RIB_T_VPN4 : afi == BGP_AFI_IPV6 ? RIB_T_VPN6 : -1;
	return -1;
}

static void tbl_init(struct rib_table *t, int which)
{
	static const uint8_t kw[RIB_T_N] = { 1, 4, 3, 6 };
	memset(t, 0, sizeof(*t));
	t->which = (uint8_t)which;
	t->kw = kw[which];
	t->ns = (uint8_t)(3 + t->kw);
	t->rs = (which == RIB_T_VPN4 || which == RIB_T_VPN6) ? 8 : 4;
	t->rd_bits = (which >= RIB_T_VPN4) ? 64 : 0;
	t->addr_bits = (which == RIB_T_V4 || which == RIB_T_VPN4) ? 32 : 128;
}

/* ---- arenas ---- */

static size_t arena_next_cap(const struct rib_arena *a)
{
	return a->cap ? (size_t)a->cap + a->cap / 2 : 64;
}

/* Bytes the arena must grow by to take k more records (0 when they fit). */
static size_t arena_need(const struct rib_arena *a, unsigned stride, uint32_t k)
{
	if (a->n_free + (a->cap ? a->cap - a->n : 0) >= k)
		return 0;
	return (arena_next_cap(a) - a->cap) * stride * sizeof(uint32_t);
}

static void arena_grow(struct bgp_rib *rib, struct rib_arena *a, unsigned stride)
{
	size_t cap = arena_next_cap(a);
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	a->w = xrealloc(a->w, cap * stride * sizeof(uint32_t));
	rib->bytes += (cap - a->cap) * stride * sizeof(uint32_t);
	if (a->cap == 0)
		a->n = 1;	/* record 0 is "none" */
	a->cap = (uint32_t)cap;
}

static uint32_t arena_alloc(struct bgp_rib *rib, struct rib_arena *a, unsigned stride)
{
	uint32_t i;

	if (a->free_head) {
		i = a->free_head;
		a->free_head = a->w[(size_t)i * stride];
		a->n_free--;
	} else {
		if (a->cap == 0 || a->n == a->cap)
			arena_grow(rib, a, stride);
		i = a->n++;
	}
	memset(a->w + (size_t)i * stride, 0, stride * sizeof(uint32_t));
	a->live++;
	return i;
}

static void arena_release(struct bgp_rib *rib, struct rib_arena *a, unsigned stride)
{
	rib->bytes -= (size_t)a->cap * stride * sizeof(uint32_t);
	free(a->w);
	memset(a, 0, sizeof(*a));
}

static void arena_put(struct bgp_rib *rib, struct rib_arena *a, unsigned stride, uint32_t i)
{
	if (--a->live == 0) {
		arena_release(rib, a, stride);
		return;
	}
	a->w[(size_t)i * stride] = a->free_head;
	a->free_head = i;
	a->n_free++;
}

/* ---- keys ---- */

static inline uint32_t *nd(const struct rib_table *t, uint32_t i)
{
	return t->nodes.w + (size_t)i * t->ns;
}

static inline uint32_t *rt(const struct rib_table *t, uint32_t i)
{
	return t->routes.w + (size_t)i * t->rs;
}

static inline unsigned key_bit(const uint32_t *k, unsigned i)
{
	return (k[i >> 5] >> (31 - (i & 31))) & 1;
}

/* Length of the common prefix of a and b, at most max bits. */
static inline unsigned key_cpl(const uint32_t *a, const uint32_t *b, unsigned max)
{
	for (unsigned w = 0; w * 32 < max; w++) {
		uint32_t x = a[w] ^ b[w];
		if (x) {
			unsigned c = w * 32 + (unsigned)__builtin_clz(x);
			return c < max ? c : max;
		}
	}
	return max;
}

static void rd_to_words(const struct bgp_rd *rd, uint32_t out[2])
{
	if (rd->type == 1 || rd->type == 2) {
		out[0] = (uint32_t)rd->type << 16 | rd->admin >> 16;
		out[1] = (rd->admin & 0xffff) << 16 | (rd->assigned & 0xffff);
	} else {
		out[0] = (uint32_t)rd->type << 16 | (rd->admin & 0xffff);
		out[1] = rd->assigned;
	}
}

static void words_to_rd(const uint32_t in[2], struct bgp_rd *rd)
{
	rd->type = (uint16_t)(in[0] >> 16);
	if (rd->type == 1 || rd->type == 2) {
		rd->admin = (in[0] & 0xffff) << 16 | in[1] >> 16;
		rd->assigned = in[1] & 0xffff;
	} else {
		rd->admin = in[0] & 0xffff;
		rd->assigned = in[1];
	}
}

/* The trie key of addr (and rd for VPN), all of the table's bits. */
static void make_key(const struct rib_table *t, const struct bgp_rd *rd, const uint8_t *addr,
    uint32_t *key)
{
	unsigned w = 0;

	if (t->rd_bits) {
		rd_to_words(rd, key);
		w = 2;
	}
	for (unsigned i = 0; i < t->addr_bits / 32; i++, addr += 4)
		key[w++] = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
		    (uint32_t)addr[2] << 8 | addr[3];
}

/* ---- the trie ---- */

static inline unsigned nd_plen(const uint32_t *n)
{
	return n[2] & 0xff;
}

static inline uint32_t nd_route(const uint32_t *n)
{
	return n[2] >> 8;
}

static uint32_t node_new(struct bgp_rib *rib, struct rib_table *t, const uint32_t *key, unsigned plen)
{
	uint32_t i = arena_alloc(rib, &t->nodes, t->ns);
	uint32_t *n = nd(t, i);

	for (unsigned w = 0; w < t->kw; w++) {
		unsigned lo = w * 32;
		if (plen >= lo + 32)
			n[3 + w] = key[w];
		else if (plen > lo)
			n[3 + w] = key[w] & ~(UINT32_MAX >> (plen - lo));
	}
	n[2] = plen;
	return i;
}

static void node_link(struct rib_table *t, uint32_t parent, unsigned side, uint32_t child)
{
	if (parent == 0)
		t->root = child;
	else
		nd(t, parent)[side] = child;
}

/* Split the edge to node old (at parent/side) where key diverges at bit c; returns key/plen's node. */
static uint32_t trie_split(struct bgp_rib *rib, struct rib_table *t, uint32_t parent, unsigned side,
    uint32_t old, const uint32_t *key, unsigned plen, unsigned c)
{
	uint32_t leaf = node_new(rib, t, key, plen);

	if (c == plen) {
		nd(t, leaf)[key_bit(nd(t, old) + 3, plen)] = old;
		node_link(t, parent, side, leaf);
		return leaf;
	}
	uint32_t glue = node_new(rib, t, key, c);
	uint32_t *g = nd(t, glue);
	g[key_bit(key, c)] = leaf;
	g[key_bit(nd(t, old) + 3, c)] = old;
	node_link(t, parent, side, glue);
	return leaf;
}

/* The node of key/plen, created (with glue as needed) when missing. */
static uint32_t trie_insert(struct bgp_rib *rib, struct rib_table *t, const uint32_t *key, unsigned plen)
{
	uint32_t parent = 0, cur = t->root;
	unsigned side = 0;

	while (cur) {
		const uint32_t *n = nd(t, cur);
		unsigned np = nd_plen(n);
		unsigned c = key_cpl(key, n + 3, np < plen ? np : plen);
		if (c < np)
			return trie_split(rib, t, parent, side, cur, key, plen, c);
		if (np == plen)
			return cur;
		parent = cur;
		side = key_bit(key, np);
		cur = n[side];
	}
	cur = node_new(rib, t, key, plen);
	node_link(t, parent, side, cur);
	return cur;
}

/* Where key/plen's node hangs: its parent and grandparent with their sides. */
struct trie_pos {
	uint32_t node, parent, gparent;
	unsigned side, gside;
};

static bool trie_find(const struct rib_table *t, const uint32_t *key, unsigned plen, struct trie_pos *p)
{
	memset(p, 0, sizeof(*p));
	p->node = t->root;
	while (p->node) {
		const uint32_t *n = nd(t, p->node);
		unsigned np = nd_plen(n);
		if (np > plen || key_cpl(key, n + 3, np) < np)
			return false;
		if (np == plen)
			return true;
		p->gparent = p->parent;
		p->gside = p->side;
		p->parent = p->node;
		p->side = key_bit(key, np);
		p->node = n[p->side];
	}
	return false;
}

/* Remove p's node, whose route list is now empty, and any glue left with one child. */
static void trie_prune(struct bgp_rib *rib, struct rib_table *t, const struct trie_pos *p)
{
	uint32_t *n = nd(t, p->node);
	uint32_t c0 = n[0], c1 = n[1];

	n[2] &= 0xff;
	if (c0 && c1)
		return;	/* stays as glue */
	node_link(t, p->parent, p->side, c0 ? c0 : c1);
	arena_put(rib, &t->nodes, t->ns, p->node);
	if (c0 || c1 || p->parent == 0)
		return;
	uint32_t *g = nd(t, p->parent);
	if (nd_route(g))
		return;
	uint32_t other = g[!p->side];
	node_link(t, p->gparent, p->gside, other);
	arena_put(rib, &t->nodes, t->ns, p->parent);
}

/* The longest node with routes covering key (bits long), or 0. */
static uint32_t trie_lpm(const struct rib_table *t, const uint32_t *key, unsigned bits)
{
	uint32_t cur = t->root, best = 0;

	while (cur) {
		const uint32_t *n = nd(t, cur);
		unsigned np = nd_plen(n);
		if (key_cpl(key, n + 3, np) < np)
			break;
		if (nd_route(n))
			best = cur;
		if (np >= bits)
			break;
		cur = n[key_bit(key, np)];
	}
	return best;
}

/* ---- routes ---- */

static uint32_t route_find(const struct rib_table *t, uint32_t node, uint32_t path_id, uint32_t *prev)
{
	uint32_t p = 0;

	for (uint32_t r = nd_route(nd(t, node)); r; p = r, r = rt(t, r)[1]) {
		if (rt(t, r)[2] == path_id) {
			*prev = p;
			return r;
		}
	}
	return 0;
}

static void route_set(struct rib_table *t, uint32_t r, uint32_t slot, const struct bgp_nlri *n)
{
	uint32_t *w = rt(t, r);
	uint8_t nl = 0;

	w[0] = slot;
	w[2] = n->has_path_id ? n->path_id : 0;
	if (t->rs > 4) {
		nl = n->n_labels > BGP_MAX_LABELS ? BGP_MAX_LABELS : n->n_labels;
		for (unsigned i = 0; i < BGP_MAX_LABELS; i++)
			w[4 + i] = i < nl ? n->label[i] : 0;
	}
	w[3] = (n->has_path_id ? 1u : 0u) | (uint32_t)nl << 1;
}

/* Append a new route to node's list (received order). */
static void route_append(struct bgp_rib *rib, struct rib_table *t, uint32_t node, uint32_t slot,
    const struct bgp_nlri *n)
{
	uint32_t r = arena_alloc(rib, &t->routes, t->rs);
	route_set(t, r, slot, n);
	uint32_t *nw = nd(t, node);
	uint32_t last = nd_route(nw);
	if (last == 0) {
		nw[2] = (nw[2] & 0xff) | r << 8;
	} else {
		while (rt(t, last)[1])
			last = rt(t, last)[1];
		rt(t, last)[1] = r;
	}
	t->n_routes++;
}

/* Unlink route r (after prev, 0 = head) of pos's node, release its attribute, prune the node. */
static void route_remove(struct bgp_rib *rib, struct rib_table *t, const struct trie_pos *pos,
    uint32_t r, uint32_t prev)
{
	uint32_t next = rt(t, r)[1];

	rib_attr_unref(rib, rt(t, r)[0]);
	if (prev)
		rt(t, prev)[1] = next;
	else
		nd(t, pos->node)[2] = (nd(t, pos->node)[2] & 0xff) | next << 8;
	arena_put(rib, &t->routes, t->rs, r);
	t->n_routes--;
	if (next == 0 && prev == 0)
		trie_prune(rib, t, pos);
}

/* ---- the RIB ---- */

/* Allocate a RIB sized by cfg (NULL or zeros = defaults). Free with bgp_rib_free(). */
struct bgp_rib *bgp_rib_new(const struct bgp_rib_cfg *cfg)
{
	struct bgp_rib *rib = xcalloc(1, sizeof(*rib));
	pthread_rwlockattr_t at;

	rib->max_peers = cfg && cfg->max_peers ? cfg->max_peers : 10;
	rib->max_bytes = cfg ? cfg->max_bytes : 0;
	rib->peers = xcalloc(rib->max_peers, sizeof(*rib->peers));
	rib->bytes = sizeof(*rib) + rib->max_peers * sizeof(*rib->peers);
	pthread_rwlockattr_init(&at);
	/* one writer among many readers: do not let a stream of lookups starve the BGP thread */
	pthread_rwlockattr_setkind_np(&at, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&rib->lock, &at);
	pthread_rwlockattr_destroy(&at);
	rib_attr_init(rib);
	return rib;
}

static void peer_clear(struct bgp_rib *rib, struct rib_peer *p);

void bgp_rib_free(struct bgp_rib *rib)
{
	if (rib == NULL)
		return;
	for (uint32_t i = 0; i < rib->max_peers; i++)
		if (rib->peers[i].used)
			peer_clear(rib, &rib->peers[i]);
	rib_attr_fini(rib);
	pthread_rwlock_destroy(&rib->lock);
	free(rib->peers);
	free(rib);
}

/* Take the lock for reading (lookups, walks, stats). */
void bgp_rib_rdlock(struct bgp_rib *rib)
{
	pthread_rwlock_rdlock(&rib->lock);
}

/* Take the lock for writing (peer add/delete, bgp_rib_apply). */
void bgp_rib_wrlock(struct bgp_rib *rib)
{
	pthread_rwlock_wrlock(&rib->lock);
}

/* Release the lock taken by bgp_rib_rdlock() or bgp_rib_wrlock(). */
void bgp_rib_unlock(struct bgp_rib *rib)
{
	pthread_rwlock_unlock(&rib->lock);
}

int bgp_rib_peer_add(struct bgp_rib *rib, const struct bgp_peer_id *id)
{
	for (uint32_t i = 0; i < rib->max_peers; i++) {
		struct rib_peer *p = &rib->peers[i];
		if (p->used)
			continue;
		memset(p, 0, sizeof(*p));
		p->used = true;
		p->id = *id;
		for (int t = 0; t < RIB_T_N; t++)
			tbl_init(&p->t[t], t);
		return (int)i;
	}
	return -1;
}

/* Release every attribute reference held by the routes under node (recursively). */
static void tbl_unref_all(struct bgp_rib *rib, struct rib_table *t, uint32_t node)
{
	while (node) {
		const uint32_t *n = nd(t, node);
		for (uint32_t r = nd_route(n); r; r = rt(t, r)[1])
			rib_attr_unref(rib, rt(t, r)[0]);
		if (n[0])
			tbl_unref_all(rib, t, n[0]);
		node = n[1];
	}
}

static void peer_clear(struct bgp_rib *rib, struct rib_peer *p)
{
	for (int i = 0; i < RIB_T_N; i++) {
		struct rib_table *t = &p->t[i];
		tbl_unref_all(rib, t, t->root);
		if (t->nodes.cap)
			arena_release(rib, &t->nodes, t->ns);
		if (t->routes.cap)
			arena_release(rib, &t->routes, t->rs);
		rib->routes -= t->n_routes;
		tbl_init(t, i);
	}
	p->used = false;
}

void bgp_rib_peer_del(struct bgp_rib *rib, int peer)
{
	if (peer < 0 || (uint32_t)peer >= rib->max_peers || !rib->peers[peer].used)
		return;
	peer_clear(rib, &rib->peers[peer]);
}

static bool addr_eq(const struct bgp_addr *a, const struct bgp_addr *b)
{
	if (a->afi != b->afi)
		return false;
	return memcmp(a->a, b->a, a->afi == BGP_AFI_IPV4 ? 4 : 16) == 0;
}

int bgp_rib_peer_find(const struct bgp_rib *rib, const struct bgp_addr *addr)
{
	for (uint32_t i = 0; i < rib->max_peers; i++)
		if (rib->peers[i].used && addr_eq(&rib->peers[i].id.addr, addr))
			return (int)i;
	if (addr->afi != BGP_AFI_IPV4)
		return -1;
	uint32_t v = (uint32_t)addr->a[0] << 24 | (uint32_t)addr->a[1] << 16 |
	    (uint32_t)addr->a[2] << 8 | addr->a[3];
	for (uint32_t i = 0; i < rib->max_peers; i++)
		if (rib->peers[i].used && rib->peers[i].id.bgp_id == v)
			return (int)i;
	return -1;
}

const struct bgp_peer_id *bgp_rib_peer(const struct bgp_rib *rib, int peer)
{
	if (peer < 0 || (uint32_t)peer >= rib->max_peers || !rib->peers[peer].used)
		return NULL;
	return &rib->peers[peer].id;
}

/* The table of peer for afi/safi, or NULL. */
static struct rib_table *peer_table(const struct bgp_rib *rib, int peer, uint16_t afi, uint8_t safi)
{
	int ti = tbl_index(afi, safi);

	if (ti < 0 || peer < 0 || (uint32_t)peer >= rib->max_peers || !rib->peers[peer].used)
		return NULL;
	return &rib->peers[peer].t[ti];
}

static void nlri_withdraw(struct bgp_rib *rib, struct rib_table *t, const uint32_t *key, unsigned plen,
    uint32_t path_id)
{
	struct trie_pos pos;
	uint32_t prev, r;

	if (!trie_find(t, key, plen, &pos) || (r = route_find(t, pos.node, path_id, &prev)) == 0)
		return;
	route_remove(rib, t, &pos, r, prev);
	rib->routes--;
}

/* Bytes a new route of t could add (nodes, route record), 0 when its node exists. */
static size_t route_need(const struct rib_table *t, bool have_node)
{
	return (have_node ? 0 : arena_need(&t->nodes, t->ns, 2)) + arena_need(&t->routes, t->rs, 1);
}

static int nlri_announce(struct bgp_rib *rib, struct rib_table *t, const uint32_t *key, unsigned plen,
    const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	struct trie_pos pos;
	uint32_t prev = 0, r = 0, slot;
	uint32_t pid = n->has_path_id ? n->path_id : 0;
	bool have_node = trie_find(t, key, plen, &pos);
	size_t need;

	if (have_node)
		r = route_find(t, pos.node, pid, &prev);
	slot = rib_attr_find(rib, a, &need);
	if (r && slot && rt(t, r)[0] == slot) {
		route_set(t, r, slot, n);	/* same attributes: labels may differ */
		return 0;
	}
	if (!r)
		need += route_need(t, have_node);
	if ((rib->max_bytes && rib->bytes + need > rib->max_bytes) ||
	    (!r && t->routes.n_free == 0 && t->routes.n >= RIB_ROUTE_MAX)) {
		rib->refused++;
		if (r) {	/* a stale route is worse than none */
			route_remove(rib, t, &pos, r, prev);
			rib->routes--;
		}
		return -1;
	}
	slot = rib_attr_take(rib, slot);
	if (r) {
		rib_attr_unref(rib, rt(t, r)[0]);
		route_set(t, r, slot, n);
		return 0;
	}
	uint32_t node = have_node ? pos.node : trie_insert(rib, t, key, plen);
	route_append(rib, t, node, slot, n);
	rib->routes++;
	return 0;
}

int bgp_rib_apply(struct bgp_rib *rib, int peer, const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	struct rib_table *t = peer_table(rib, peer, n->afi, n->safi);
	uint32_t key[6] = { 0 };

	if (t == NULL || n->plen > t->addr_bits)
		return 0;
	make_key(t, &n->rd, n->addr, key);
	unsigned plen = t->rd_bits + n->plen;
	uint32_t pid = n->has_path_id ? n->path_id : 0;
	if (n->withdraw) {
		nlri_withdraw(rib, t, key, plen, pid);
		return 0;
	}
	return nlri_announce(rib, t, key, plen, n, a);
}

/* Fill out from route r at node of t. */
static void route_out(const struct bgp_rib *rib, const struct rib_table *t, uint32_t node, uint32_t r,
    struct bgp_route *out)
{
	static const uint16_t afi[RIB_T_N] = { BGP_AFI_IPV4, BGP_AFI_IPV6, BGP_AFI_IPV4, BGP_AFI_IPV6 };
	const uint32_t *n = nd(t, node), *w = rt(t, r);
	const uint32_t *k = n + 3 + (t->rd_bits ? 2 : 0);

	memset(out, 0, sizeof(*out));
	out->afi = afi[t->which];
	out->safi = t->rd_bits ? BGP_SAFI_VPN : BGP_SAFI_UNICAST;
	out->plen = (uint8_t)(nd_plen(n) - t->rd_bits);
	for (unsigned i = 0; i < t->addr_bits / 8; i++)
		out->addr[i] = (uint8_t)(k[i / 4] >> (24 - 8 * (i % 4)));
	if (t->rd_bits) {
		out->has_rd = true;
		words_to_rd(n + 3, &out->rd);
		out->n_labels = (uint8_t)((w[3] >> 1) & 7);
		for (unsigned i = 0; i < out->n_labels; i++)
			out->label[i] = w[4 + i];
	}
	out->has_path_id = w[3] & 1;
	out->path_id = w[2];
	out->attr = rib_attr_get(rib, w[0]);
}

bool bgp_rib_lookup(const struct bgp_rib *rib, int peer, uint16_t afi, uint8_t safi,
    const struct bgp_rd *rd, const uint8_t *addr, const struct bgp_addr *nh, struct bgp_route *out)
{
	static const struct bgp_rd rd0;
	const struct rib_table *t = peer_table(rib, peer, afi, safi);
	uint32_t key[6] = { 0 };

	if (t == NULL || t->root == 0)
		return false;
	make_key(t, rd ? rd : &rd0, addr, key);
	uint32_t node = trie_lpm(t, key, t->rd_bits + t->addr_bits);
	if (node == 0)
		return false;
	uint32_t first = nd_route(nd(t, node)), pick = first;
	if (nh && nh->afi && rt(t, first)[1]) {
		for (uint32_t r = first; r; r = rt(t, r)[1]) {
			if (addr_eq(&rib_attr_get(rib, rt(t, r)[0])->next_hop, nh)) {
				pick = r;
				break;
			}
		}
	}
	route_out(rib, t, node, pick, out);
	return true;
}

/* Walk the subtree at node in prefix order (a node before its longer children). */
static int walk_node(const struct bgp_rib *rib, const struct rib_table *t, uint32_t node,
    bgp_route_fn fn, void *arg)
{
	struct bgp_route r;
	int rc;

	while (node) {
		const uint32_t *n = nd(t, node);
		for (uint32_t ri = nd_route(n); ri; ri = rt(t, ri)[1]) {
			route_out(rib, t, node, ri, &r);
			if ((rc = fn(arg, &r)) != 0)
				return rc;
		}
		if (n[0] && (rc = walk_node(rib, t, n[0], fn, arg)) != 0)
			return rc;
		node = n[1];
	}
	return 0;
}

int bgp_rib_walk(const struct bgp_rib *rib, int peer, bgp_route_fn fn, void *arg)
{
	int rc;

	if (peer < 0 || (uint32_t)peer >= rib->max_peers || !rib->peers[peer].used)
		return 0;
	for (int i = 0; i < RIB_T_N; i++) {
		const struct rib_table *t = &rib->peers[peer].t[i];
		if ((rc = walk_node(rib, t, t->root, fn, arg)) != 0)
			return rc;
	}
	return 0;
}

void bgp_rib_stats(const struct bgp_rib *rib, struct bgp_rib_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < rib->max_peers; i++)
		out->peers += rib->peers[i].used;
	out->routes = rib->routes;
	out->attrs = rib->n_attrs;
	out->bytes = rib->bytes;
	out->refused = rib->refused;
}

size_t bgp_rib_peer_routes(const struct bgp_rib *rib, int peer)
{
	size_t n = 0;

	if (peer < 0 || (uint32_t)peer >= rib->max_peers || !rib->peers[peer].used)
		return 0;
	for (int i = 0; i < RIB_T_N; i++)
		n += rib->peers[peer].t[i].n_routes;
	return n;
}
