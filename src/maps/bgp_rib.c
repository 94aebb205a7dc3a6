/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_rib.c: the BGP RIB: peers, routes (announce, withdraw, lookup, walk), locks and counts; tables in bgp_rib_trie.c. */
#include "maps/bgp_rib.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "maps/bgp_rib_int.h"

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
	uint32_t r = rib_arena_alloc(rib, &t->routes, t->rs);
	uint32_t *nw = nd(t, node);

	rt(t, r)[0] = nd_route(nw);
	nd_set(nw, false, r);
}

/*
 * Set route reference r of node to slot and n's path id and labels (an
 * inline route moves to a record when it gets a path id).
 */
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
static void route_add(struct bgp_rib *rib, struct rib_table *t, uint32_t node, uint32_t slot,
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
	uint32_t r = rib_arena_alloc(rib, &t->routes, t->rs);
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
		rib_arena_put(rib, &t->routes, t->rs, r);
	t->n_routes--;
	rib->routes--;
	if (next || prev)
		return false;
	rib_trie_prune(rib, t, pos);
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
			rib_arena_release(rib, &t->nodes, t->ns);
		if (t->routes.cap)
			rib_arena_release(rib, &t->routes, t->rs);
		rib_dir_drop(rib, t);
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

	if (!rib_trie_find(t, key, plen, &pos) || (r = route_find(t, pos.node, path_id, &prev)) == 0)
		return;
	if (route_remove(rib, t, &pos, r, prev))
		rib_dir_update(t, key, plen);
}

/* Bytes a new route of t could add (nodes, two route records, the index), 0 when its node exists. */
static size_t route_need(const struct rib_table *t, bool have_node)
{
	size_t need = rib_arena_need(&t->routes, t->rs, 2);

	if (!have_node)
		need += rib_arena_need(&t->nodes, t->ns, 2);

	if (t->dir_bits && !t->dir && t->n_routes + 1 >= rib_dir_min(t))
		need += rib_dir_size(t);
	return need;
}

/*
 * Announce without a byte ceiling: one walk down the trie, creating the
 * node when missing (the common case of a table being loaded).
 */
static int announce_fast(struct bgp_rib *rib, struct rib_table *t, const uint32_t *key, unsigned plen,
    const struct bgp_nlri *n, uint32_t slot, uint32_t *used)
{
	struct trie_ins ii;
	uint32_t prev = 0, pid = n->has_path_id ? n->path_id : 0;
	uint32_t node = rib_trie_insert(rib, t, key, plen, &ii);
	uint32_t r = route_find(t, node, pid, &prev);

	if (r && ref_slot(t, node, r) == slot) {
		route_replace(rib, t, node, r, slot, n);	/* same attributes: labels may differ */
		*used = slot;
		return 0;
	}
	slot = rib_attr_take(rib, slot);
	*used = slot;
	if (r) {
		rib_attr_unref(rib, ref_slot(t, node, r));
		route_replace(rib, t, node, r, slot, n);
		return 0;
	}
	bool gained = nd_route(nd(t, node)) == 0;
	route_add(rib, t, node, slot, n);
	rib_dir_insert(t, key, plen, &ii, gained);
	return 0;
}

/*
 * Announce n with attributes a (slot: a's interned set when the caller
 * knows it, else 0 to look it up); *used gets the set the route now points
 * at (0 when refused).
 */
static int nlri_announce(struct bgp_rib *rib, struct rib_table *t, const uint32_t *key, unsigned plen,
    const struct bgp_nlri *n, const struct bgp_attrs *a, uint32_t slot, uint32_t *used)
{
	struct trie_pos pos;
	struct trie_ins ii = { 0, 0, -1 };
	uint32_t prev = 0, r = 0;
	uint32_t pid = n->has_path_id ? n->path_id : 0;
	size_t need = 0;

	*used = 0;
	if (slot == 0)
		slot = rib_attr_find(rib, a, &need);
	if (rib->max_bytes == 0 && (t->routes.n_free >= 2 || t->routes.n + 2 <= RIB_ROUTE_MAX) &&
	    (slot || !rib_attr_full(rib)))
		return announce_fast(rib, t, key, plen, n, slot, used);
	bool have_node = rib_trie_find(t, key, plen, &pos);
	if (have_node)
		r = route_find(t, pos.node, pid, &prev);
	if (r && slot && ref_slot(t, pos.node, r) == slot) {
		route_replace(rib, t, pos.node, r, slot, n);	/* same attributes: labels may differ */
		*used = slot;
		return 0;
	}
	need += route_need(t, have_node);
	if ((rib->max_bytes && rib->bytes + need > rib->max_bytes) ||
	    (t->routes.n_free < 2 && t->routes.n + 2 > RIB_ROUTE_MAX) ||
	    (slot == 0 && rib_attr_full(rib))) {
		rib->refused++;
		if (r && route_remove(rib, t, &pos, r, prev))	/* a stale route is worse than none */
			rib_dir_update(t, key, plen);
		return -1;
	}
	slot = rib_attr_take(rib, slot);
	*used = slot;
	if (r) {
		rib_attr_unref(rib, ref_slot(t, pos.node, r));
		route_replace(rib, t, pos.node, r, slot, n);
		return 0;
	}
	uint32_t node = have_node ? pos.node : rib_trie_insert(rib, t, key, plen, &ii);
	bool gained = nd_route(nd(t, node)) == 0;
	route_add(rib, t, node, slot, n);
	rib_dir_insert(t, key, plen, &ii, gained);
	return 0;
}

void bgp_rib_upd_begin(struct bgp_rib_upd *u)
{
	memset(u, 0, sizeof(*u));
}

int bgp_rib_apply_upd(struct bgp_rib *rib, int peer, const struct bgp_nlri *n, const struct bgp_attrs *a,
    struct bgp_rib_upd *u)
{
	static const struct bgp_attrs none;
	struct rib_table *t = peer_table(rib, peer, n->afi, n->safi);
	uint32_t key[6] = { 0 };

	if (t == NULL || n->plen > t->addr_bits)
		return 0;
	rib_make_key(t, &n->rd, n->addr, key);
	unsigned plen = t->rd_bits + n->plen;
	uint32_t pid = n->has_path_id ? n->path_id : 0;
	int rc = 0;
	if (n->withdraw) {
		nlri_withdraw(rib, t, key, plen, pid);
	} else {
		/* the set of the previous NLRI of this UPDATE, unless a set was freed since */
		bool hit = u && u->slot && u->rib == rib && u->a == a && u->gen == rib->attr_gen;
		uint32_t used;
		rc = nlri_announce(rib, t, key, plen, n, a ? a : &none, hit ? u->slot : 0, &used);
		if (u) {
			*u = (struct bgp_rib_upd){ rib, a, rib->attr_gen, used };
		}
	}
	rib_dir_check(rib, t);
	return rc;
}

int bgp_rib_apply(struct bgp_rib *rib, int peer, const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	return bgp_rib_apply_upd(rib, peer, n, a, NULL);
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
	for (unsigned i = 0; i < t->addr_bits / 32; i++) {
		uint8_t *o = out->addr + 4 * i;
		o[0] = (uint8_t)(k[i] >> 24), o[1] = (uint8_t)(k[i] >> 16);
		o[2] = (uint8_t)(k[i] >> 8), o[3] = (uint8_t)k[i];
	}
	if (t->rd_bits) {
		out->has_rd = true;
		rib_words_to_rd(n + 3, &out->rd);
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
	uint32_t oldest = 0, match = 0, first = ref_first(nd(t, node));

	if (first == 0 || ref_next(t, first) == 0)
		return first;	/* one path (the rule without ADD-PATH): no next hop to compare */
	for (uint32_t r = first; r; r = ref_next(t, r)) {
		oldest = r;
		if (nh && nh->afi && addr_eq(&rib_attr_get(rib, ref_slot(t, node, r))->next_hop, nh))
			match = r;
	}
	return match ? match : oldest;
}

void bgp_rib_prefetch(const struct bgp_rib *rib, int peer, uint16_t afi, const uint8_t *addr)
{
	const struct rib_table *t = peer_table(rib, peer, afi, BGP_SAFI_UNICAST);

	if (t && t->dir) {
		uint32_t k0 = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 | addr[3];
		__builtin_prefetch(t->dir + 2 * (size_t)(k0 >> (32 - t->dir_bits)));
	}
}

bool bgp_rib_lookup(const struct bgp_rib *rib, int peer, uint16_t afi, uint8_t safi,
    const struct bgp_rd *rd, const uint8_t *addr, const struct bgp_addr *nh, struct bgp_route *out)
{
	static const struct bgp_rd rd0;
	const struct rib_table *t = peer_table(rib, peer, afi, safi);
	uint32_t key[6] = { 0 };

	if (t == NULL || t->root == 0)
		return false;
	rib_make_key(t, rd ? rd : &rd0, addr, key);
	uint32_t node = rib_trie_lpm(t, key, t->rd_bits + t->addr_bits);
	if (node == 0)
		return false;
	route_out(rib, t, node, route_pick(rib, t, node, nh), out);
	return true;
}

bool bgp_rib_lookup_covering(const struct bgp_rib *rib, int peer, uint16_t afi, uint8_t safi,
    const struct bgp_rd *rd, const uint8_t *addr, unsigned maxlen, struct bgp_route *out)
{
	static const struct bgp_rd rd0;
	const struct rib_table *t = peer_table(rib, peer, afi, safi);
	uint32_t key[6] = { 0 }, cur, best = 0;
	unsigned bits;

	if (t == NULL || t->root == 0)
		return false;
	rib_make_key(t, rd ? rd : &rd0, addr, key);
	bits = t->rd_bits + (maxlen < t->addr_bits ? maxlen : t->addr_bits);
	/* from the root (not the index, which may hold longer routes), down to bits */
	for (cur = t->root; cur;) {
		const uint32_t *n = nd(t, cur);
		unsigned np = nd_plen(n);
		if (np > bits || key_cpl(key, n + 3, np) < np)
			break;
		if (nd_route(n))
			best = cur;
		if (np >= bits)
			break;
		cur = n[key_bit(key, np)];
	}
	if (best == 0)
		return false;
	route_out(rib, t, best, route_pick(rib, t, best, NULL), out);
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
