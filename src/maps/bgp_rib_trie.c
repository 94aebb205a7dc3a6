/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_rib_trie.c: the RIB's tables: word arenas, path-compressed binary tries, the top-level index, compaction. */
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "maps/bgp_rib_int.h"

/* ---- arenas ---- */

/* Grow by half while small, by an eighth when big (full tables: less slack). */
static size_t arena_next_cap(const struct rib_arena *a)
{
	if (a->cap == 0)
		return 64;
	return (size_t)a->cap + (a->cap < (1u << 20) ? a->cap / 2 : a->cap / 8);
}

/* Bytes the arena must grow by to take k more records (0 when they fit). */
size_t rib_arena_need(const struct rib_arena *a, unsigned stride, uint32_t k)
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

uint32_t rib_arena_alloc(struct bgp_rib *rib, struct rib_arena *a, unsigned stride)
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

void rib_arena_release(struct bgp_rib *rib, struct rib_arena *a, unsigned stride)
{
	rib->bytes -= (size_t)a->cap * stride * sizeof(uint32_t);
	free(a->w);
	memset(a, 0, sizeof(*a));
}

void rib_arena_put(struct bgp_rib *rib, struct rib_arena *a, unsigned stride, uint32_t i)
{
	if (--a->live == 0) {
		rib_arena_release(rib, a, stride);
		return;
	}
	a->w[(size_t)i * stride] = a->free_head;
	a->free_head = i;
	a->n_free++;
}

/* ---- keys ---- */







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

void rib_words_to_rd(const uint32_t in[2], struct bgp_rd *rd)
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
void rib_make_key(const struct rib_table *t, const struct bgp_rd *rd, const uint8_t *addr,
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








static uint32_t node_new(struct bgp_rib *rib, struct rib_table *t, const uint32_t *key, unsigned plen)
{
	uint32_t i = rib_arena_alloc(rib, &t->nodes, t->ns);
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
uint32_t rib_trie_insert(struct bgp_rib *rib, struct rib_table *t, const uint32_t *key, unsigned plen,
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


bool rib_trie_find(const struct rib_table *t, const uint32_t *key, unsigned plen, struct trie_pos *p)
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
void rib_trie_prune(struct bgp_rib *rib, struct rib_table *t, const struct trie_pos *p)
{
	uint32_t *n = nd(t, p->node);
	uint32_t c0 = n[0], c1 = n[1];

	n[2] &= 0xff;
	if (c0 && c1)
		return;	/* stays as glue */
	node_link(t, p->parent, p->side, c0 ? c0 : c1);
	rib_arena_put(rib, &t->nodes, t->ns, p->node);
	if (c0 || c1 || p->parent == 0)
		return;
	uint32_t *g = nd(t, p->parent);
	if (nd_route(g))
		return;
	uint32_t other = g[!p->side];
	node_link(t, p->gparent, p->gside, other);
	rib_arena_put(rib, &t->nodes, t->ns, p->parent);
}

/* The longest node with routes covering key (bits long), or 0. */
uint32_t rib_trie_lpm(const struct rib_table *t, const uint32_t *key, unsigned bits)
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


uint32_t rib_dir_min(const struct rib_table *t)
{
	return (1u << t->dir_bits) / 16 ? (1u << t->dir_bits) / 16 : 1;
}

size_t rib_dir_size(const struct rib_table *t)
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
void rib_dir_update(struct rib_table *t, const uint32_t *key, unsigned plen)
{
	unsigned q = plen < t->dir_bits ? plen : t->dir_bits;

	if (t->dir)
		dir_fill(t, t->root, 0, key[0] & mask32(q), q);
}

/*
 * Bring the index up to date after rib_trie_insert() (ii) and, when gained, the
 * node of key/plen's first route.  A route at least dir_bits long changes
 * no slot's best route, only, when a node was created right below a
 * shorter one, the first node of key's slot: no walk from the root then.
 */
void rib_dir_insert(struct rib_table *t, const uint32_t *key, unsigned plen, const struct trie_ins *ii,
    bool gained)
{
	unsigned sb = t->dir_bits;

	if (t->dir == NULL)
		return;
	if (plen < sb) {
		if (gained)
			rib_dir_update(t, key, plen);
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

void rib_dir_drop(struct bgp_rib *rib, struct rib_table *t)
{
	if (t->dir == NULL)
		return;
	rib->bytes -= rib_dir_size(t);
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
void rib_dir_check(struct bgp_rib *rib, struct rib_table *t)
{
	if (t->nodes.live >= RIB_COMPACT_MIN && t->nodes.live >= t->compact_at) {
		tbl_compact(rib, t);
		t->compact_at = t->nodes.live + t->nodes.live / 4;
	}
	if (t->dir_bits == 0)
		return;
	if (t->dir == NULL && t->n_routes >= rib_dir_min(t)) {
		t->dir = xmalloc(rib_dir_size(t));
		rib->bytes += rib_dir_size(t);
		dir_fill(t, t->root, 0, 0, 0);
	} else if (t->dir && (t->n_routes == 0 || t->n_routes < rib_dir_min(t) / 2)) {
		rib_dir_drop(rib, t);
	}
}
