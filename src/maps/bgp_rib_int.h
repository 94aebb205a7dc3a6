/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_rib_int.h: the RIB's insides shared by bgp_rib.c (tables) and bgp_rib_attr.c (interned attributes). */
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
	/* the candidate of the last rib_attr_find(): rendered text and its hash */
	struct bgp_attr cand;
	uint64_t cand_hash;
	size_t cand_len;		/* bytes of the four strings with their NULs */
	char *scratch;
	size_t scratch_cap;
};

/* Set up / tear down the attribute store of rib. */
void rib_attr_init(struct bgp_rib *rib);
void rib_attr_fini(struct bgp_rib *rib);

/*
 * Render a's attributes into rib's candidate and find an equal interned set:
 * returns its slot, or 0 with *need set to the bytes interning it would add
 * (*need 0 when found).  The candidate stays valid until the next call.
 */
uint32_t rib_attr_find(struct bgp_rib *rib, const struct bgp_attrs *a, size_t *need);

/* Take a reference on slot (from rib_attr_find()), or intern the candidate when slot is 0; returns the slot. */
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
