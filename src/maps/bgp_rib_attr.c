/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_rib_attr.c: the RIB's interned attribute sets (hash of slots, reference counts) and their pmacct text. */
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/xalloc.h"
#include "maps/bgp_rib_int.h"

/* ---- text ---- */

/* Decimal v at p; returns the end. */
static char *put_u32(char *p, uint32_t v)
{
	char tmp[10];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return p + n;
}

static char *put_ipv4(char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--) {
		p = put_u32(p, (v >> (8 * i)) & 0xff);
		if (i)
			*p++ = '.';
	}
	return p;
}

/* Room a text form needs at most, NUL included. */
static size_t as_path_room(const struct bgp_as_path *p)
{
	return p->n_asn * 11 + p->n_seg * 3 + 1;
}

/*
 * Quagga's aspath_make_str_count(), which pmacct keeps: segments separated by
 * a space; AS_SEQUENCE bare, AS_SET "{a,b}", AS_CONFED_SEQUENCE "(a b)",
 * AS_CONFED_SET "[a,b]"; empty segments print nothing.
 */
size_t rib_fmt_as_path(const struct bgp_as_path *p, char *out, size_t cap)
{
	char *o = out;

	if (cap < as_path_room(p)) {
		if (cap)
			*out = '\0';
		return 0;
	}
	for (size_t s = 0; s < p->n_seg; s++) {
		const struct bgp_as_seg *g = &p->seg[s];
		char open = 0, close = 0, sep = ' ';
		if (g->count == 0 || (size_t)g->start + g->count > p->n_asn)
			continue;
		if (g->type == BGP_AS_SET || g->type == BGP_AS_CONFED_SET) {
			sep = ',';
			open = g->type == BGP_AS_SET ? '{' : '[';
			close = g->type == BGP_AS_SET ? '}' : ']';
		} else if (g->type == BGP_AS_CONFED_SEQUENCE) {
			open = '(';
			close = ')';
		}
		if (o != out)
			*o++ = ' ';
		if (open)
			*o++ = open;
		for (unsigned i = 0; i < g->count; i++) {
			if (i)
				*o++ = sep;
			o = put_u32(o, p->asn[g->start + i]);
		}
		if (close)
			*o++ = close;
	}
	*o = '\0';
	return (size_t)(o - out);
}

/* RFC 1997 communities as "AS:value", space-separated, well-known ones by number too. */
size_t rib_fmt_comms(const struct bgp_attrs *a, char *out, size_t cap)
{
	char *o = out;

	if (cap < a->n_comm * 12 + 1) {
		if (cap)
			*out = '\0';
		return 0;
	}
	for (size_t i = 0; i < a->n_comm; i++) {
		uint32_t c = bgp_comm(a, i);
		if (i)
			*o++ = ' ';
		o = put_u32(o, c >> 16);
		*o++ = ':';
		o = put_u32(o, c & 0xffff);
	}
	*o = '\0';
	return (size_t)(o - out);
}

/*
 * RFC 4360 extended communities as pmacct's ecommunity_ecom2str() writes
 * them: route targets "RT:" and sites of origin "SoO:" of the two-octet AS
 * (AS:u32), IPv4 (a.b.c.d:u16) and four-octet AS (AS:u16) types; any other
 * type is written "?".  Space-separated.
 */
size_t rib_fmt_ecomms(const struct bgp_attrs *a, char *out, size_t cap)
{
	char *o = out;

	if (cap < a->n_ext_comm * 27 + 1) {
		if (cap)
			*out = '\0';
		return 0;
	}
	for (size_t i = 0; i < a->n_ext_comm; i++) {
		uint64_t v = bgp_ext_comm(a, i);
		unsigned type = (unsigned)(v >> 56), sub = (unsigned)(v >> 48) & 0xff;
		if (i)
			*o++ = ' ';
		if (type > 2 || (sub != 2 && sub != 3)) {
			*o++ = '?';
			continue;
		}
		o = put_str(o, sub == 2 ? "RT:" : "SoO:");
		if (type == 0) {
			o = put_u32(o, (uint32_t)(v >> 32) & 0xffff);
			*o++ = ':';
			o = put_u32(o, (uint32_t)v);
		} else {
			uint32_t g = (uint32_t)(v >> 16);
			o = type == 1 ? put_ipv4(o, g) : put_u32(o, g);
			*o++ = ':';
			o = put_u32(o, (uint32_t)v & 0xffff);
		}
	}
	*o = '\0';
	return (size_t)(o - out);
}

/* RFC 8092 large communities as "global:local1:local2", space-separated. */
size_t rib_fmt_lcomms(const struct bgp_attrs *a, char *out, size_t cap)
{
	char *o = out;
	uint32_t v[3];

	if (cap < a->n_large_comm * 33 + 1) {
		if (cap)
			*out = '\0';
		return 0;
	}
	for (size_t i = 0; i < a->n_large_comm; i++) {
		bgp_large_comm(a, i, v);
		if (i)
			*o++ = ' ';
		o = put_u32(o, v[0]);
		*o++ = ':';
		o = put_u32(o, v[1]);
		*o++ = ':';
		o = put_u32(o, v[2]);
	}
	*o = '\0';
	return (size_t)(o - out);
}

/* ---- the candidate ---- */

static void addr_norm(struct bgp_addr *dst, const struct bgp_addr *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src->afi == BGP_AFI_IPV4 || src->afi == BGP_AFI_IPV6) {
		dst->afi = src->afi;
		memcpy(dst->a, src->a, src->afi == BGP_AFI_IPV4 ? 4 : 16);
	}
}

/*
 * first_as: the first ASN of the first AS_SEQUENCE or AS_SET; origin_as:
 * the last ASN of the last one; n_asn: the path length of RFC 4271 9.1.2.2
 * (a set counts one, confederation segments none).
 */
static void path_summary(const struct bgp_as_path *p, struct bgp_attr *c)
{
	bool first = true;

	for (size_t s = 0; s < p->n_seg; s++) {
		const struct bgp_as_seg *g = &p->seg[s];
		if (g->count == 0 || (size_t)g->start + g->count > p->n_asn)
			continue;
		if (g->type != BGP_AS_SEQUENCE && g->type != BGP_AS_SET)
			continue;
		if (first)
			c->first_as = p->asn[g->start];
		first = false;
		c->origin_as = p->asn[g->start + g->count - 1];
		c->n_asn = (uint16_t)(c->n_asn + (g->type == BGP_AS_SET ? 1 : g->count));
	}
}

static void scalars(const struct bgp_attrs *a, struct bgp_attr *c)
{
	memset(c, 0, sizeof(*c));
	c->origin = a->has_origin ? a->origin : 0;
	c->has_med = a->has_med;
	c->med = a->has_med ? a->med : 0;
	c->has_local_pref = a->has_local_pref;
	c->local_pref = a->has_local_pref ? a->local_pref : 0;
	c->atomic_aggregate = a->atomic_aggregate;
	addr_norm(&c->next_hop, a->mp_next_hop.afi ? &a->mp_next_hop : &a->next_hop);
	if (a->has_aggregator) {
		c->aggregator_as = a->aggregator_as;
		addr_norm(&c->aggregator_addr, &a->aggregator_addr);
	}
	if (a->has_as_path)
		path_summary(&a->as_path, c);
}

/* The bytes of c that decide equality besides its text, in a fixed order. */
static size_t scalar_bytes(const struct bgp_attr *c, uint8_t *b)
{
	uint8_t *p = b;
	uint32_t v[4] = { c->med, c->local_pref, c->aggregator_as, 0 };

	*p++ = c->origin;
	*p++ = (uint8_t)(c->has_med | c->has_local_pref << 1 | c->atomic_aggregate << 2);
	memcpy(p, v, sizeof(v));
	p += sizeof(v);
	memcpy(p, &c->next_hop, sizeof(c->next_hop));
	p += sizeof(c->next_hop);
	memcpy(p, &c->aggregator_addr, sizeof(c->aggregator_addr));
	p += sizeof(c->aggregator_addr);
	return (size_t)(p - b);
}

static void scratch_fit(struct bgp_rib *rib, size_t n)
{
	if (rib->scratch_cap >= n)
		return;
	free(rib->scratch);
	rib->scratch_cap = n + n / 2;
	rib->scratch = xmalloc(rib->scratch_cap);
}

/* Render a into rib->cand (strings in rib->scratch) and hash it. */
static void cand_build(struct bgp_rib *rib, const struct bgp_attrs *a)
{
	static const struct bgp_as_path empty;
	const struct bgp_as_path *path = a->has_as_path ? &a->as_path : &empty;
	size_t r0 = as_path_room(path), r1 = a->n_comm * 12 + 1;
	size_t r2 = a->n_ext_comm * 27 + 1, r3 = a->n_large_comm * 33 + 1;
	uint8_t sb[64];
	char *s;

	scratch_fit(rib, r0 + r1 + r2 + r3);
	scalars(a, &rib->cand);
	s = rib->scratch;
	rib->cand.as_path = s;
	s += rib_fmt_as_path(path, s, r0) + 1;
	rib->cand.comms = s;
	s += rib_fmt_comms(a, s, r1) + 1;
	rib->cand.ecomms = s;
	s += rib_fmt_ecomms(a, s, r2) + 1;
	rib->cand.lcomms = s;
	s += rib_fmt_lcomms(a, s, r3) + 1;
	rib->cand_len = (size_t)(s - rib->scratch);
	size_t n = scalar_bytes(&rib->cand, sb);
	rib->cand_hash = hash_bytes(rib->scratch, rib->cand_len, hash_bytes(sb, n, hash_seed()));
}

static bool attr_eq(const struct bgp_attr *x, const struct bgp_attr *y)
{
	uint8_t bx[64], by[64];
	size_t n = scalar_bytes(x, bx);

	scalar_bytes(y, by);
	return memcmp(bx, by, n) == 0 && strcmp(x->as_path, y->as_path) == 0 &&
	    strcmp(x->comms, y->comms) == 0 && strcmp(x->ecomms, y->ecomms) == 0 &&
	    strcmp(x->lcomms, y->lcomms) == 0;
}

/* ---- the store ---- */

/* Set up an empty store. */
void rib_attr_init(struct bgp_rib *rib)
{
	rib->attr = NULL;
	rib->n_slots = rib->cap_slots = 0;
	rib->hash = NULL;
	rib->cap_hash = 0;
	rib->n_attrs = 0;
}

/* Release the slot array and the hash once no set is left, so the bytes return to the base. */
static void store_release(struct bgp_rib *rib)
{
	rib->bytes -= (size_t)rib->cap_slots * (sizeof(*rib->attr) + sizeof(*rib->free_slots));
	rib->bytes -= (size_t)rib->cap_hash * sizeof(*rib->hash);
	free(rib->attr);
	free(rib->free_slots);
	free(rib->hash);
	rib->attr = NULL;
	rib->free_slots = NULL;
	rib->hash = NULL;
	rib->n_slots = rib->cap_slots = rib->n_free_slots = rib->cap_hash = 0;
}

/* Free every set (their routes are gone) and the store. */
void rib_attr_fini(struct bgp_rib *rib)
{
	for (uint32_t i = 1; i < rib->n_slots; i++)
		free(rib->attr[i]);
	store_release(rib);
	free(rib->scratch);
	rib->scratch = NULL;
	rib->scratch_cap = 0;
	rib->n_attrs = 0;
}

static size_t entry_size(const struct bgp_rib *rib)
{
	return sizeof(struct rib_attr) + rib->cand_len;
}

/* Bytes growing the slots and the hash for one more set would add. */
static size_t store_need(const struct bgp_rib *rib)
{
	size_t need = 0;

	if (rib->n_free_slots == 0 && (rib->cap_slots == 0 || rib->n_slots == rib->cap_slots)) {
		size_t cap = rib->cap_slots ? rib->cap_slots + rib->cap_slots / 2 : 64;
		need += (cap - rib->cap_slots) * (sizeof(*rib->attr) + sizeof(*rib->free_slots));
	}
	if ((rib->n_attrs + 1) * 4 > (size_t)rib->cap_hash * 3)
		need += (rib->cap_hash ? rib->cap_hash : 64) * sizeof(*rib->hash);
	return need;
}

uint32_t rib_attr_find(struct bgp_rib *rib, const struct bgp_attrs *a, size_t *need)
{
	cand_build(rib, a);
	*need = 0;
	if (rib->cap_hash) {
		uint32_t mask = rib->cap_hash - 1;
		for (uint32_t i = (uint32_t)rib->cand_hash & mask; rib->hash[i]; i = (i + 1) & mask) {
			const struct rib_attr *e = rib->attr[rib->hash[i]];
			if (e->hash == rib->cand_hash && attr_eq(&e->a, &rib->cand))
				return rib->hash[i];
		}
	}
	*need = entry_size(rib) + store_need(rib);
	return 0;
}

static void hash_put(uint32_t *h, uint32_t cap, uint64_t hash, uint32_t slot)
{
	uint32_t i = (uint32_t)hash & (cap - 1);

	while (h[i])
		i = (i + 1) & (cap - 1);
	h[i] = slot;
}

static void hash_grow(struct bgp_rib *rib)
{
	uint32_t cap = rib->cap_hash ? rib->cap_hash * 2 : 64;
	uint32_t *h = xcalloc(cap, sizeof(*h));

	for (uint32_t i = 0; i < rib->cap_hash; i++)
		if (rib->hash[i])
			hash_put(h, cap, rib->attr[rib->hash[i]]->hash, rib->hash[i]);
	free(rib->hash);
	rib->bytes += (size_t)(cap - rib->cap_hash) * sizeof(*h);
	rib->hash = h;
	rib->cap_hash = cap;
}

static uint32_t slot_alloc(struct bgp_rib *rib)
{
	if (rib->n_free_slots)
		return rib->free_slots[--rib->n_free_slots];
	if (rib->cap_slots == 0 || rib->n_slots == rib->cap_slots) {
		uint32_t cap = rib->cap_slots ? rib->cap_slots + rib->cap_slots / 2 : 64;
		rib->attr = xrealloc(rib->attr, cap * sizeof(*rib->attr));
		rib->free_slots = xrealloc(rib->free_slots, cap * sizeof(*rib->free_slots));
		rib->bytes += (size_t)(cap - rib->cap_slots) * (sizeof(*rib->attr) + sizeof(*rib->free_slots));
		if (rib->cap_slots == 0)
			rib->n_slots = 1;	/* slot 0 is "none" */
		rib->cap_slots = cap;
	}
	return rib->n_slots++;
}

/* Copy the candidate into a new entry of exactly its size. */
static struct rib_attr *entry_new(const struct bgp_rib *rib)
{
	size_t size = entry_size(rib);
	struct rib_attr *e = xmalloc(size);
	const struct bgp_attr *c = &rib->cand;
	char *s = e->text;

	e->a = *c;
	e->a.refs = 0;
	e->hash = rib->cand_hash;
	e->size = (uint32_t)size;
	memcpy(s, rib->scratch, rib->cand_len);
	e->a.as_path = s + (c->as_path - rib->scratch);
	e->a.comms = s + (c->comms - rib->scratch);
	e->a.ecomms = s + (c->ecomms - rib->scratch);
	e->a.lcomms = s + (c->lcomms - rib->scratch);
	return e;
}

uint32_t rib_attr_take(struct bgp_rib *rib, uint32_t slot)
{
	if (slot == 0) {
		if ((rib->n_attrs + 1) * 4 > (size_t)rib->cap_hash * 3)
			hash_grow(rib);
		slot = slot_alloc(rib);
		rib->attr[slot] = entry_new(rib);
		rib->bytes += rib->attr[slot]->size;
		hash_put(rib->hash, rib->cap_hash, rib->cand_hash, slot);
		rib->n_attrs++;
	}
	rib->attr[slot]->a.refs++;
	return slot;
}

/* Remove slot from the hash (linear probing: shift the cluster back over the hole). */
static void hash_del(struct bgp_rib *rib, uint32_t slot)
{
	uint32_t mask = rib->cap_hash - 1;
	uint32_t i = (uint32_t)rib->attr[slot]->hash & mask;

	while (rib->hash[i] != slot)
		i = (i + 1) & mask;
	for (uint32_t j = (i + 1) & mask; rib->hash[j]; j = (j + 1) & mask) {
		uint32_t home = (uint32_t)rib->attr[rib->hash[j]]->hash & mask;
		/* j's entry may move into the hole i unless its home lies cyclically in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			rib->hash[i] = rib->hash[j];
			i = j;
		}
	}
	rib->hash[i] = 0;
}

void rib_attr_unref(struct bgp_rib *rib, uint32_t slot)
{
	struct rib_attr *e = rib->attr[slot];

	if (--e->a.refs)
		return;
	hash_del(rib, slot);
	rib->bytes -= e->size;
	free(e);
	rib->attr[slot] = NULL;
	rib->free_slots[rib->n_free_slots++] = slot;
	if (--rib->n_attrs == 0)
		store_release(rib);
}
