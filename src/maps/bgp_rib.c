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
 * A node: [0] child 0, [1] child 1, [2] value << 9 | inline << 8 | key
 *         length, [3..] key words (big-endian bit order, bits past the
 *         length zero).  The value is 0 for a glue node; with inline set,
 *         the attribute slot of the node's one route (unicast, no path id:
 *         the common case, which then needs no route record and costs a
 *         lookup no further cache miss); else the first route record.
 * A route: [0] attribute slot, [1] next route of the prefix (ADD-PATH, bits
 *          0..22) | label count << 28 | has path id << 31, [2] path id,
 *          [3..6] labels (VPN tables only).
 * Glue nodes always have two children.
 */
#define RIB_ROUTE_MAX ((1u << 23) - 1)
#define RIB_INL UINT32_MAX	/* the route reference of a node's inline route */

/*
 * The index of a big unicast table: for each value of the first dir_bits
 * bits of an address, the first trie node at least that long on its path
 * (0 if none) and the longest route node above it, so a lookup skips the
 * top of the trie.  Built once a table holds 2^dir_bits / 16 routes,
 * dropped below half that; kept exact on every change of a node's
 * presence.
 */
#define RIB_DIR_BITS 18

/*
 * Nodes are laid out again in depth-first order each time a table's node
 * count grows by a quarter (from RIB_COMPACT_MIN on), so that a subtree,
 * and with it most of a lookup's path below the index, shares cache lines.
 */
#define RIB_COMPACT_MIN 4096

/* The table of afi/safi, or -1. */
static int tbl_index(uint16_t afi, uint8_t safi)
{
	if (safi == BGP_SAFI_UNICAST)
		return afi == BGP_AFI_IPV4 ? RIB_T_V4 : afi == BGP_AFI_IPV6 ? RIB_T_V6 : -1;
	if (safi == BGP_SAFI_VPN)
		return afi == BGP_AFI_IPV4 ? RIB_T_VPN4 : afi == BGP_AFI_IPV6 ? RIB_T_VPN6 : -1;
	return -1;
}

static void tbl_init(struct rib_table *t, int which, uint8_t index_bits)
{
	static const uint8_t kw[RIB_T_N] = { 1, 4, 3, 6 };
	memset(t, 0, sizeof(*t));
	t->which = (uint8_t)which;
	t->kw = kw[which];
	t->ns = (uint8_t)(3 + t->kw);
	t->rs = (which == RIB_T_VPN4 || which == RIB_T_VPN6) ? 3 + BGP_MAX_LABELS : 3;
	t->rd_bits = (which >= RIB_T_VPN4) ? 64 : 0;
	t->addr_bits = (which == RIB_T_V4 || which == RIB_T_VPN4) ? 32 : 128;
	t->dir_bits = which == RIB_T_V4 || which == RIB_T_V6 ? index_bits : 0;
}

/* ---- arenas ---- */

/* Grow by half while small, by an eighth when big (full tables: less slack). */
static size_t arena_next_cap(const struct rib_arena *a)
{
	if (a->cap == 0)
		return 64;
	return (size_t)a->cap + (a->cap < (1u << 20) ? a->cap / 2 : a->cap / 8);
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

static inline uint32_t rt_next(const uint32_t *w)
{
	return w[1] & RIB_ROUTE_MAX;
}

static inline void rt_set_next(uint32_t *w, uint32_t next)
{
	w[1] = (w[1] & ~RIB_ROUTE_MAX) | next;
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

/* A node's value: nonzero when it has routes (see the layout above). */
static inline uint32_t nd_route(const uint32_t *n)
{
	return n[2] >> 9;
}

static inline bool nd_inl(const uint32_t *n)
{
	return (n[2] >> 8) & 1;
}

static inline void nd_set(uint32_t *n, bool inl, uint32_t v)
{
	n[2] = (n[2] & 0xff) | (inl ? 1u << 8 : 0) | v << 9;
}

/* The first route reference of node n (RIB_INL, a record, or 0), and the one after r. */
static inline uint32_t ref_first(const uint32_t *n)
{
	return nd_route(n) == 0 ? 0 : nd_inl(n) ? RIB_INL : nd_route(n);
}

static inline uint32_t ref_next(const struct rib_table *t, uint32_t r)
{
	return r == RIB_INL ? 0 : t->routes.w[(size_t)r * t->rs + 1] & RIB_ROUTE_MAX;
}

/* The attribute slot of route reference r of node. */
static inline uint32_t ref_slot(const struct rib_table *t, uint32_t node, uint32_t r)
{
	return r == RIB_INL ? nd_route(t->nodes.w + (size_t)node * t->ns) : t->routes.w[(size_t)r * t->rs];
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
/* What an insertion created: the new node, any glue above it, and the length of the node above them (-1: none). */
struct trie_ins {
	uint32_t leaf, glue;
	int up_plen;
};

static uint32_t trie_split(struct bgp_rib *rib, struct rib_table *t, uint32_t parent, unsigned side,
    uint32_t old, const uint32_t *key, unsigned plen, unsigned c, struct trie_ins *ii)
{
	uint32_t leaf = node_new(rib, t, key, plen);

	ii->leaf = leaf;
	if (c == plen) {
		nd(t, leaf)[key_bit(nd(t, old) + 3, plen)] = old;
		node_link(t, parent, side, leaf);
		return leaf;
	}
	uint32_t glue = node_new(rib, t, key, c);
	ii->glue = glue;
	uint32_t *g = nd(t, glue);
	g[key_bit(key, c)] = leaf;
	g[key_bit(nd(t, old) + 3, c)] = old;
	node_link(t, parent, side, glue);
	return leaf;
}

/* The node of key/plen, created (with glue as needed) when missing; *ii says what was created. */
static uint32_t trie_insert(struct bgp_rib *rib, struct rib_table *t, const uint32_t *key, unsigned plen,
    struct trie_ins *ii)
{
	uint32_t parent = 0, cur = t->root;
	unsigned side = 0;

	*ii = (struct trie_ins){ 0, 0, -1 };
	while (cur) {
		const uint32_t *n = nd(t, cur);
		unsigned np = nd_plen(n);
		unsigned c = key_cpl(key, n + 3, np < plen ? np : plen);
		if (c < np)
			return trie_split(rib, t, parent, side, cur, key, plen, c, ii);
		if (np == plen)
			return cur;
		parent = cur;
		ii->up_plen = (int)np;
		side = key_bit(key, np);
		cur = n[side];
	}
	cur = node_new(rib, t, key, plen);
	ii->leaf = cur;
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

	if (t->dir) {
		const uint32_t *d = t->dir + 2 * (size_t)(key[0] >> (32 - t->dir_bits));
		cur = d[0];
		best = d[1];
	}
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

/* ---- the index ---- */

static inline uint32_t mask32(unsigned n)
{
	return n == 0 ? 0 : n >= 32 ? UINT32_MAX : ~(UINT32_MAX >> n);
}

static uint32_t dir_min(const struct rib_table *t)
{
	return (1u << t->dir_bits) / 16 ? (1u << t->dir_bits) / 16 : 1;
}

static size_t dir_size(const struct rib_table *t)
{
	return ((size_t)2 << t->dir_bits) * sizeof(uint32_t);
}

static void dir_set(struct rib_table *t, uint32_t lo, uint32_t n, uint32_t start, uint32_t best)
{
	uint32_t *d = t->dir + 2 * (size_t)lo;

	for (uint32_t i = 0; i < n; i++, d += 2) {
		d[0] = start;
		d[1] = best;
	}
}

/*
 * Set the index slots under the prefix p/q (q <= dir_bits, p's first word)
 * from node (the subtree the search for p reaches) down, best being the
 * longest route met above node.
 */
static void dir_fill(struct rib_table *t, uint32_t node, uint32_t best, uint32_t p, unsigned q)
{
	unsigned sb = t->dir_bits, np = 0;
	const uint32_t *nw = NULL;

	for (; node; node = nw[key_bit(&p, np)]) {	/* down to the first node >= q bits */
		nw = nd(t, node);
		np = nd_plen(nw);
		if (np >= q)
			break;
		if ((p ^ nw[3]) & mask32(np)) {
			node = 0;
			break;
		}
		if (nd_route(nw))
			best = node;
	}
	dir_set(t, (p & mask32(q)) >> (32 - sb), 1u << (sb - q), 0, best);
	if (node == 0 || ((p ^ nw[3]) & mask32(q)))
		return;
	if (np >= sb) {
		t->dir[2 * (size_t)(nw[3] >> (32 - sb))] = node;
		return;
	}
	if (nd_route(nw))
		best = node;
	dir_fill(t, nw[0], best, nw[3], np + 1);
	dir_fill(t, nw[1], best, nw[3] | 0x80000000u >> np, np + 1);
}

/* Bring the index up to date after key/plen's node gained its first route or lost its last. */
static void dir_update(struct rib_table *t, const uint32_t *key, unsigned plen)
{
	unsigned q = plen < t->dir_bits ? plen : t->dir_bits;

	if (t->dir)
		dir_fill(t, t->root, 0, key[0] & mask32(q), q);
}

/*
 * Bring the index up to date after trie_insert() (ii) and, when gained, the
 * node of key/plen's first route.  A route at least dir_bits long changes
 * no slot's best route, only, when a node was created right below a
 * shorter one, the first node of key's slot: no walk from the root then.
 */
static void dir_insert(struct rib_table *t, const uint32_t *key, unsigned plen, const struct trie_ins *ii,
    bool gained)
{
	unsigned sb = t->dir_bits;

	if (t->dir == NULL)
		return;
	if (plen < sb) {
		if (gained)
			dir_update(t, key, plen);
		return;
	}
	uint32_t top = ii->leaf;
	int above = ii->up_plen;
	if (ii->glue) {
		unsigned c = nd_plen(nd(t, ii->glue));
		top = c >= sb ? ii->glue : ii->leaf;
		above = c >= sb ? ii->up_plen : (int)c;
	}
	if (top && above < (int)sb)
		t->dir[2 * (size_t)(key[0] >> (32 - sb))] = top;
}

static void dir_drop(struct bgp_rib *rib, struct rib_table *t)
{
	if (t->dir == NULL)
		return;
	rib->bytes -= dir_size(t);
	free(t->dir);
	t->dir = NULL;
}

/* Copy the subtree at node into dst in depth-first order from *next; returns its new index. */
static uint32_t compact_copy(const struct rib_table *t, uint32_t node, uint32_t *dst, uint32_t *next)
{
	uint32_t me = (*next)++;
	const uint32_t *n = nd(t, node);
	uint32_t *o = dst + (size_t)me * t->ns;

	memcpy(o, n, t->ns * sizeof(uint32_t));
	if (n[0])
		o[0] = compact_copy(t, n[0], dst, next);
	if (n[1])
		o[1] = compact_copy(t, n[1], dst, next);
	return me;
}

/* Lay t's nodes out again in depth-first order (no free records, an eighth spare). */
static void tbl_compact(struct bgp_rib *rib, struct rib_table *t)
{
	struct rib_arena *a = &t->nodes;
	uint32_t cap = a->live + a->live / 8 + 64, next = 1;
	uint32_t *w = xmalloc((size_t)cap * t->ns * sizeof(uint32_t));

	t->root = compact_copy(t, t->root, w, &next);
	rib->bytes -= (size_t)a->cap * t->ns * sizeof(uint32_t);
	rib->bytes += (size_t)cap * t->ns * sizeof(uint32_t);
	free(a->w);
	a->w = w;
	a->cap = cap;
	a->n = next;
	a->free_head = a->n_free = 0;
	if (t->dir)
		dir_fill(t, t->root, 0, 0, 0);
}

/* Build the index of a table grown big enough, drop that of one shrunk enough; compact. */
static void dir_check(struct bgp_rib *rib, struct rib_table *t)
{
	if (t->nodes.live >= RIB_COMPACT_MIN && t->nodes.live >= t->compact_at) {
		tbl_compact(rib, t);
		t->compact_at = t->nodes.live + t->nodes.live / 4;
	}
	if (t->dir_bits == 0)
		return;
	if (t->dir == NULL && t->n_routes >= dir_min(t)) {
		t->dir = xmalloc(dir_size(t));
		rib->bytes += dir_size(t);
		dir_fill(t, t->root, 0, 0, 0);
	} else if (t->dir && (t->n_routes == 0 || t->n_routes < dir_min(t) / 2)) {
		dir_drop(rib, t);
	}
}

/* ---- routes ---- */

/* The reference of node's route with path_id (*prev: the one before it, 0 = first), or 0. */
static uint32_t route_find(const struct rib_table *t, uint32_t node, uint32_t path_id, uint32_t *prev)
{
	uint32_t p = 0;

	for (uint32_t r = ref_first(nd(t, node)); r; p = r, r = ref_next(t, r)) {
		if ((r == RIB_INL ? 0 : rt(t, r)[2]) == path_id) {
			*prev = p;
			return r;
		}
	}
	return 0;
}

/* Whether n's route can live inline in its node. */
static bool can_inline(const struct rib_table *t, const struct bgp_nlri *n)
{
	return t->rs == 3 && !n->has_path_id;
}

static void route_set(struct rib_table *t, uint32_t r, uint32_t slot, const struct bgp_nlri *n)
{
	uint32_t *w = rt(t, r);
	uint8_t nl = 0;

	w[0] = slot;
	w[2] = n->has_path_id ? n->path_id : 0;
	if (t->rs > 3) {
		nl = n->n_labels > BGP_MAX_LABELS ? BGP_MAX_LABELS : n->n_labels;
		for (unsigned i = 0; i < BGP_MAX_LABELS; i++)
			w[3 + i] = i < nl ? n->label[i] : 0;
	}
	w[1] = rt_next(w) | (uint32_t)nl << 28 | (n->has_path_id ? 1u << 31 : 0);
}

/* Move node's inline route into a record of its own (before a second path joins it). */
static void route_uninline(struct bgp_rib *rib, struct rib_table *t, uint32_t node)
{
	uint32_t r = arena_alloc(rib, &t->routes, t->rs);
	uint32_t *nw = nd(t, node);

	rt(t, r)[0] = nd_route(nw);
	nd_set(nw, false, r);
}

/* Set route reference r of node to slot and n's path id and labels; returns the (new) reference. */
static void route_replace(struct bgp_rib *rib, struct rib_table *t, uint32_t node, uint32_t r,
    uint32_t slot, const struct bgp_nlri *n)
{
	if (r == RIB_INL) {
		if (can_inline(t, n)) {
			nd_set(nd(t, node), true, slot);
			return;
		}
		route_uninline(rib, t, node);
		r = nd_route(nd(t, node));
	}
	route_set(t, r, slot, n);
}

/* Add a new route at the head of node's list (newest first, as pmacct keeps and dumps them). */
static void route_append(struct bgp_rib *rib, struct rib_table *t, uint32_t node, uint32_t slot,
    const struct bgp_nlri *n)
{
	uint32_t *nw = nd(t, node);

	t->n_routes++;
	rib->routes++;
	if (nd_route(nw) == 0 && can_inline(t, n)) {
		nd_set(nw, true, slot);
		return;
	}
	if (nd_inl(nw))
		route_uninline(rib, t, node);
	uint32_t r = arena_alloc(rib, &t->routes, t->rs);
	route_set(t, r, slot, n);
	nw = nd(t, node);
	rt_set_next(rt(t, r), nd_route(nw));
	nd_set(nw, false, r);
}

/*
 * Unlink route reference r (after prev, 0 = first) of pos's node, release
 * its attribute, prune the node when it has no route left (returns true then).
 */
static bool route_remove(struct bgp_rib *rib, struct rib_table *t, const struct trie_pos *pos,
    uint32_t r, uint32_t prev)
{
	uint32_t next = ref_next(t, r);

	rib_attr_unref(rib, ref_slot(t, pos->node, r));
	if (prev)
		rt_set_next(rt(t, prev), next);
	else
		nd_set(nd(t, pos->node), false, next);
	if (r != RIB_INL)
		arena_put(rib, &t->routes, t->rs, r);
	t->n_routes--;
	rib->routes--;
	if (next || prev)
		return false;
	trie_prune(rib, t, pos);
	return true;
}

/* ---- the RIB ---- */

/* Allocate a RIB sized by cfg (NULL or zeros = defaults). Free with bgp_rib_free(). */
struct bgp_rib *bgp_rib_new(const struct bgp_rib_cfg *cfg)
{
	struct bgp_rib *rib = xcalloc(1, sizeof(*rib));
	pthread_rwlockattr_t at;

	rib->max_peers = cfg && cfg->max_peers ? cfg->max_peers : 10;
	rib->max_bytes = cfg ? cfg->max_bytes : 0;
	rib->index_bits = cfg && cfg->index_bits ? cfg->index_bits : RIB_DIR_BITS;
	if (rib->index_bits > 24)
		rib->index_bits = 24;
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
			tbl_init(&p->t[t], t, rib->index_bits);
		return (int)i;
	}
	return -1;
}

/* Release every attribute reference held by the routes under node (recursively). */
static void tbl_unref_all(struct bgp_rib *rib, struct rib_table *t, uint32_t node)
{
	while (node) {
		const uint32_t *n = nd(t, node);
		for (uint32_t r = ref_first(n); r; r = ref_next(t, r))
			rib_attr_unref(rib, ref_slot(t, node, r));
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
		dir_drop(rib, t);
		rib->routes -= t->n_routes;
		tbl_init(t, i, rib->index_bits);
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
	if (route_remove(rib, t, &pos, r, prev))
		dir_update(t, key, plen);
}

/* Bytes a new route of t could add (nodes, two route records, the index), 0 when its node exists. */
static size_t route_need(const struct rib_table *t, bool have_node)
{
	size_t need = (have_node ? 0 : arena_need(&t->nodes, t->ns, 2)) + arena_need(&t->routes, t->rs, 2);

	if (t->dir_bits && !t->dir && t->n_routes + 1 >= dir_min(t))
		need += dir_size(t);
	return need;
}

/*
 * Announce without a byte ceiling: one walk down the trie, creating the
 * node when missing (the common case of a table being loaded).
 */
static int announce_fast(struct bgp_rib *rib, struct rib_table *t, const uint32_t *key, unsigned plen,
    const struct bgp_nlri *n, uint32_t slot)
{
	struct trie_ins ii;
	uint32_t prev = 0, pid = n->has_path_id ? n->path_id : 0;
	uint32_t node = trie_insert(rib, t, key, plen, &ii);
	uint32_t r = route_find(t, node, pid, &prev);

	if (r && ref_slot(t, node, r) == slot) {
		route_replace(rib, t, node, r, slot, n);	/* same attributes: labels may differ */
		return 0;
	}
	slot = rib_attr_take(rib, slot);
	if (r) {
		rib_attr_unref(rib, ref_slot(t, node, r));
		route_replace(rib, t, node, r, slot, n);
		return 0;
	}
	bool gained = nd_route(nd(t, node)) == 0;
	route_append(rib, t, node, slot, n);
	dir_insert(t, key, plen, &ii, gained);
	return 0;
}

static int nlri_announce(struct bgp_rib *rib, struct rib_table *t, const uint32_t *key, unsigned plen,
    const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	struct trie_pos pos;
	struct trie_ins ii = { 0, 0, -1 };
	uint32_t prev = 0, r = 0, slot;
	uint32_t pid = n->has_path_id ? n->path_id : 0;
	size_t need;

	slot = rib_attr_find(rib, a, &need);
	if (rib->max_bytes == 0 && (t->routes.n_free >= 2 || t->routes.n + 2 <= RIB_ROUTE_MAX) &&
	    (slot || !rib_attr_full(rib)))
		return announce_fast(rib, t, key, plen, n, slot);
	bool have_node = trie_find(t, key, plen, &pos);
	if (have_node)
		r = route_find(t, pos.node, pid, &prev);
	if (r && slot && ref_slot(t, pos.node, r) == slot) {
		route_replace(rib, t, pos.node, r, slot, n);	/* same attributes: labels may differ */
		return 0;
	}
	need += route_need(t, have_node);
	if ((rib->max_bytes && rib->bytes + need > rib->max_bytes) ||
	    (t->routes.n_free < 2 && t->routes.n + 2 > RIB_ROUTE_MAX) ||
	    (slot == 0 && rib_attr_full(rib))) {
		rib->refused++;
		if (r && route_remove(rib, t, &pos, r, prev))	/* a stale route is worse than none */
			dir_update(t, key, plen);
		return -1;
	}
	slot = rib_attr_take(rib, slot);
	if (r) {
		rib_attr_unref(rib, ref_slot(t, pos.node, r));
		route_replace(rib, t, pos.node, r, slot, n);
		return 0;
	}
	uint32_t node = have_node ? pos.node : trie_insert(rib, t, key, plen, &ii);
	bool gained = nd_route(nd(t, node)) == 0;
	route_append(rib, t, node, slot, n);
	dir_insert(t, key, plen, &ii, gained);
	return 0;
}

int bgp_rib_apply(struct bgp_rib *rib, int peer, const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	static const struct bgp_attrs none;
	struct rib_table *t = peer_table(rib, peer, n->afi, n->safi);
	uint32_t key[6] = { 0 };

	if (t == NULL || n->plen > t->addr_bits)
		return 0;
	make_key(t, &n->rd, n->addr, key);
	unsigned plen = t->rd_bits + n->plen;
	uint32_t pid = n->has_path_id ? n->path_id : 0;
	int rc = 0;
	if (n->withdraw)
		nlri_withdraw(rib, t, key, plen, pid);
	else
		rc = nlri_announce(rib, t, key, plen, n, a ? a : &none);
	dir_check(rib, t);
	return rc;
}

/* Fill out from route r at node of t. */
static void route_out(const struct bgp_rib *rib, const struct rib_table *t, uint32_t node, uint32_t r,
    struct bgp_route *out)
{
	static const uint16_t afi[RIB_T_N] = { BGP_AFI_IPV4, BGP_AFI_IPV6, BGP_AFI_IPV4, BGP_AFI_IPV6 };
	static const uint32_t inl[3];
	const uint32_t *n = nd(t, node), *w = r == RIB_INL ? inl : rt(t, r);
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
		out->n_labels = (uint8_t)((w[1] >> 28) & 7);
		for (unsigned i = 0; i < out->n_labels; i++)
			out->label[i] = w[3 + i];
	}
	out->has_path_id = w[1] >> 31;
	out->path_id = w[2];
	out->attr = rib_attr_get(rib, ref_slot(t, node, r));
}

/*
 * The route of node a lookup returns: of several paths (ADD-PATH, listed
 * newest first) the first received among those whose next hop is nh (when
 * given), else the first received of all.
 */
static uint32_t route_pick(const struct bgp_rib *rib, const struct rib_table *t, uint32_t node,
    const struct bgp_addr *nh)
{
	uint32_t oldest = 0, match = 0;

	for (uint32_t r = ref_first(nd(t, node)); r; r = ref_next(t, r)) {
		oldest = r;
		if (nh && nh->afi && addr_eq(&rib_attr_get(rib, ref_slot(t, node, r))->next_hop, nh))
			match = r;
	}
	return match ? match : oldest;
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
	route_out(rib, t, node, route_pick(rib, t, node, nh), out);
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
		for (uint32_t ri = ref_first(n); ri; ri = ref_next(t, ri)) {
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

int bgp_rib_walk_table(const struct bgp_rib *rib, int peer, uint16_t afi, uint8_t safi,
    bgp_route_fn fn, void *arg)
{
	const struct rib_table *t = peer_table(rib, peer, afi, safi);

	return t ? walk_node(rib, t, t->root, fn, arg) : 0;
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
