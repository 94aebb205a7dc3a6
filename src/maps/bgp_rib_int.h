/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_rib_int.h: the RIB's insides shared by bgp_rib.c (routes, API), bgp_rib_trie.c (tables) and bgp_rib_attr.c (attributes). */
#ifndef MAPS_BGP_RIB_INT_H
#define MAPS_BGP_RIB_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maps/bgp_rib.h"

enum { RIB_T_V4, RIB_T_V6, RIB_T_VPN4, RIB_T_VPN6, RIB_T_N };

/* Fixed-size records of 32-bit words addressed by index; 0 is "none". */
struct rib_arena {
	uint32_t *w;
	uint32_t n, cap;		/* records used (from 1) and allocated */
	uint32_t free_head, n_free;	/* free list through word 0 of a record */
	uint32_t live;
};

/* One AFI/SAFI table of one peer (layout: bgp_rib.c). */
struct rib_table {
	struct rib_arena nodes, routes;
	uint32_t root;
	uint8_t which, kw, ns, rs;	/* table, key words, node and route stride in words */
	uint8_t rd_bits, addr_bits;
	uint8_t dir_bits;		/* bits the index resolves (unicast tables) */
	uint32_t *dir;			/* 2^dir_bits x [first node, best route above it], or NULL */
	uint32_t compact_at;		/* live nodes at which the node arena is next laid out again */
	size_t n_routes;
};

struct rib_peer {
	bool used;
	struct bgp_peer_id id;
	struct rib_table t[RIB_T_N];
};

/* An interned attribute set: the public part, then its strings. */
struct rib_attr {
	struct bgp_attr a;
	uint64_t hash;
	uint32_t size;			/* bytes allocated for this entry */
	char text[];
};

struct bgp_rib {
	pthread_rwlock_t lock;
	uint32_t max_peers;
	size_t max_bytes;
	uint8_t index_bits;
	struct rib_peer *peers;
	size_t routes;
	size_t bytes;
	uint64_t refused;
	/* attributes: slots (index 1.. = an entry), free slot stack, open-addressing hash of slots */
	struct rib_attr **attr;
	uint32_t n_slots, cap_slots;
	uint32_t *free_slots;
	uint32_t n_free_slots;
	uint32_t *hash;			/* slot or 0; cap_hash a power of two */
	uint32_t cap_hash;
	size_t n_attrs;
	uint64_t attr_gen;		/* bumped whenever a set is freed (struct bgp_rib_upd checks it) */
	/* the candidate of the last rib_attr_find(): rendered text and its hash */
	struct bgp_attr cand;
	uint64_t cand_hash;
	size_t cand_len;		/* bytes of the four strings with their NULs */
	char *scratch;
	size_t scratch_cap;
};

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

static inline uint32_t mask32(unsigned n)
{
	return n == 0 ? 0 : n >= 32 ? UINT32_MAX : ~(UINT32_MAX >> n);
}

/* What an insertion created: the new node, any glue above it, the length of the node above (-1: none). */
struct trie_ins {
	uint32_t leaf, glue;
	int up_plen;
};

/* Where key/plen's node hangs: its parent and grandparent with their sides. */
struct trie_pos {
	uint32_t node, parent, gparent;
	unsigned side, gside;
};

/* ---- bgp_rib_trie.c: arenas, keys, the trie, the index ---- */

/* Bytes arena a must grow by to take k more records of stride words (0 when they fit). */
size_t rib_arena_need(const struct rib_arena *a, unsigned stride, uint32_t k);
/* A zeroed record of stride words from a (grown as needed, counted in rib->bytes). */
uint32_t rib_arena_alloc(struct bgp_rib *rib, struct rib_arena *a, unsigned stride);
/* Return record i to a; the last one out releases the arena whole. */
void rib_arena_put(struct bgp_rib *rib, struct rib_arena *a, unsigned stride, uint32_t i);
/* Free a's memory (its records are dead) and uncount it. */
void rib_arena_release(struct bgp_rib *rib, struct rib_arena *a, unsigned stride);

/* The trie key of addr (and rd for VPN tables): all of t's key words. */
void rib_make_key(const struct rib_table *t, const struct bgp_rd *rd, const uint8_t *addr, uint32_t *key);
/* The RD of a VPN key's first two words. */
void rib_words_to_rd(const uint32_t in[2], struct bgp_rd *rd);

/* The node of key/plen, created (with glue as needed) when missing; *ii says what was created. */
uint32_t rib_trie_insert(struct bgp_rib *rib, struct rib_table *t, const uint32_t *key, unsigned plen,
    struct trie_ins *ii);
/* Find key/plen's node and where it hangs; false when absent. */
bool rib_trie_find(const struct rib_table *t, const uint32_t *key, unsigned plen, struct trie_pos *p);
/* Remove p's node, whose routes are gone, and any glue left with one child. */
void rib_trie_prune(struct bgp_rib *rib, struct rib_table *t, const struct trie_pos *p);
/* The longest node with routes covering key (bits long), or 0. */
uint32_t rib_trie_lpm(const struct rib_table *t, const uint32_t *key, unsigned bits);

/* Routes from which a table gets its index, and the index's bytes. */
uint32_t rib_dir_min(const struct rib_table *t);
size_t rib_dir_size(const struct rib_table *t);
/* Bring the index up to date after key/plen's node gained its first route or lost its last. */
void rib_dir_update(struct rib_table *t, const uint32_t *key, unsigned plen);
/* Bring the index up to date after rib_trie_insert() (ii) and, when gained, a node's first route. */
void rib_dir_insert(struct rib_table *t, const uint32_t *key, unsigned plen, const struct trie_ins *ii,
    bool gained);
/* Free t's index. */
void rib_dir_drop(struct bgp_rib *rib, struct rib_table *t);
/* After a change: build or drop t's index by its size, lay its nodes out again when grown. */
void rib_dir_check(struct bgp_rib *rib, struct rib_table *t);

/* Set up / tear down the attribute store of rib. */
void rib_attr_init(struct bgp_rib *rib);
void rib_attr_fini(struct bgp_rib *rib);

/*
 * Render a's attributes into rib's candidate and find an equal interned set:
 * returns its slot, or 0 with *need set to the bytes interning it would add
 * (*need 0 when found).  The candidate stays valid until the next call.
 */
uint32_t rib_attr_find(struct bgp_rib *rib, const struct bgp_attrs *a, size_t *need);

/* Take a reference on slot (from rib_attr_find()), or intern the candidate when 0; returns the slot. */
uint32_t rib_attr_take(struct bgp_rib *rib, uint32_t slot);

/* Drop a reference; the set is freed at zero. */
void rib_attr_unref(struct bgp_rib *rib, uint32_t slot);

/* The attribute set of slot (nonzero, live). */
static inline const struct bgp_attr *rib_attr_get(const struct bgp_rib *rib, uint32_t slot)
{
	return &rib->attr[slot]->a;
}

/* Whether no slot is left for a new set (slots are 23-bit in the tables). */
static inline bool rib_attr_full(const struct bgp_rib *rib)
{
	return rib->n_free_slots == 0 && rib->n_slots >= (1u << 23) - 1;
}

/*
 * pmacct's text forms, each into out (cap bytes, NUL-terminated; returns the
 * length): the AS path, standard, extended and large communities of a.
 */
size_t rib_fmt_as_path(const struct bgp_as_path *p, char *out, size_t cap);
size_t rib_fmt_comms(const struct bgp_attrs *a, char *out, size_t cap);
size_t rib_fmt_ecomms(const struct bgp_attrs *a, char *out, size_t cap);
size_t rib_fmt_lcomms(const struct bgp_attrs *a, char *out, size_t cap);

#endif
