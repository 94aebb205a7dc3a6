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

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

/* Segment g's ASNs in print order (sets ascending, once each, as pmacct normalises them); returns how many. */
static size_t seg_asns(const struct bgp_as_path *p, const struct bgp_as_seg *g, uint32_t *out)
{
	size_t n = 0;

	if (g->count == 0 || (size_t)g->start + g->count > p->n_asn)
		return 0;
	memcpy(out, p->asn + g->start, g->count * sizeof(*out));
	if (g->type != BGP_AS_SET && g->type != BGP_AS_CONFED_SET)
		return g->count;
	qsort(out, g->count, sizeof(*out), cmp_u32);
	for (size_t i = 0; i < g->count; i++)
		if (n == 0 || out[n - 1] != out[i])
			out[n++] = out[i];
	return n;
}

/*
 * pmacct's text of an AS path (verified against 1.7.7: "(1 2) [4,5] 3 {6,7}"):
 * segments separated by a space; AS_SEQUENCE bare, AS_SET "{a,b}",
 * AS_CONFED_SEQUENCE "(a b)", AS_CONFED_SET "[a,b]"; the members of a set
 * ascending without repeats; empty segments print nothing.
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
		uint32_t asn[BGP_MAX_ASNS];
		size_t n = seg_asns(p, g, asn);
		if (n == 0)
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
		for (size_t i = 0; i < n; i++) {
			if (i)
				*o++ = sep;
			o = put_u32(o, asn[i]);
		}
		if (close)
			*o++ = close;
	}
	*o = '\0';
	return (size_t)(o - out);
}

/*
 * Community lists are written sorted ascending without duplicates, as pmacct
 * keeps them (its Quagga-derived community_uniq_sort(), ecommunity_add_val(),
 * lcommunity sort): verified against 1.7.7, whose print and msglog output is
 * ascending whatever the wire order.
 */
struct lc {
	uint64_t hi;		/* global admin << 32 | local 1 */
	uint32_t lo;		/* local 2 */
};

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static int cmp_lc(const void *x, const void *y)
{
	const struct lc *a = x, *b = y;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Sort n values of size sz with cmp and drop repeats; returns how many are left. */
static size_t sort_uniq(void *v, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
	char *b = v;
	size_t u = 0;

	if (n > 1)
		qsort(v, n, sz, cmp);
	for (size_t i = 0; i < n; i++) {
		if (u && cmp(b + (u - 1) * sz, b + i * sz) == 0)
			continue;
		if (u != i)
			memcpy(b + u * sz, b + i * sz, sz);
		u++;
	}
	return u;
}

#define FMT_STACK 64

/* A value array for n items of sz bytes: stack when small, else heap (free with fmt_done()). */
static void *fmt_vals(size_t n, size_t sz, void *stack)
{
	return n <= FMT_STACK ? stack : xmalloc(n * sz);
}

static void fmt_done(void *v, const void *stack)
{
	if (v != stack)
		free(v);
}

/* One RFC 1997 community: the well-known ones pmacct names by name, else "AS:value". */
static char *put_comm(char *o, uint32_t c)
{
	switch (c) {
	case 0x00000000: return put_str(o, "internet");
	case 0xFFFFFF01: return put_str(o, "no-export");
	case 0xFFFFFF02: return put_str(o, "no-advertise");
	case 0xFFFFFF03: return put_str(o, "local-AS");
	default: break;
	}
	o = put_u32(o, c >> 16);
	*o++ = ':';
	return put_u32(o, c & 0xffff);
}

/* RFC 1997 communities, space-separated (NO_EXPORT "no-export", 65535:666 by number). */
size_t rib_fmt_comms(const struct bgp_attrs *a, char *out, size_t cap)
{
	uint64_t stack[FMT_STACK], *v;
	char *o = out;

	if (cap < a->n_comm * 12 + 1) {
		if (cap)
			*out = '\0';
		return 0;
	}
	v = fmt_vals(a->n_comm, sizeof(*v), stack);
	for (size_t i = 0; i < a->n_comm; i++)
		v[i] = bgp_comm(a, i);
	size_t n = sort_uniq(v, a->n_comm, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ' ';
		o = put_comm(o, (uint32_t)v[i]);
	}
	*o = '\0';
	fmt_done(v, stack);
	return (size_t)(o - out);
}

/* One extended community as ecommunity_ecom2str() writes it (see rib_fmt_ecomms()). */
static char *put_ecomm(char *o, uint64_t v)
{
	unsigned type = (unsigned)(v >> 56), sub = (unsigned)(v >> 48) & 0xff;

	if (type > 2 || (sub != 2 && sub != 3)) {
		*o++ = '?';
		return o;
	}
	o = put_str(o, sub == 2 ? "RT:" : "SoO:");
	if (type == 0) {
		o = put_u32(o, (uint32_t)(v >> 32) & 0xffff);
		*o++ = ':';
		return put_u32(o, (uint32_t)v);
	}
	uint32_t g = (uint32_t)(v >> 16);
	o = type == 1 ? put_ipv4(o, g) : put_u32(o, g);
	*o++ = ':';
	return put_u32(o, (uint32_t)v & 0xffff);
}

/*
 * RFC 4360 extended communities as pmacct's ecommunity_ecom2str() writes
 * them: route targets "RT:" and sites of origin "SoO:" of the two-octet AS
 * (AS:u32), IPv4 (a.b.c.d:u16) and four-octet AS (AS:u16) types; any other
 * type is written "?" (Quagga's rule, which pmacct keeps: not verified
 * against 1.7.7).  Space-separated, ascending by value.
 */
size_t rib_fmt_ecomms(const struct bgp_attrs *a, char *out, size_t cap)
{
	uint64_t stack[FMT_STACK], *v;
	char *o = out;

	if (cap < a->n_ext_comm * 27 + 1) {
		if (cap)
			*out = '\0';
		return 0;
	}
	v = fmt_vals(a->n_ext_comm, sizeof(*v), stack);
	for (size_t i = 0; i < a->n_ext_comm; i++)
		v[i] = bgp_ext_comm(a, i);
	size_t n = sort_uniq(v, a->n_ext_comm, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ' ';
		o = put_ecomm(o, v[i]);
	}
	*o = '\0';
	fmt_done(v, stack);
	return (size_t)(o - out);
}

/* RFC 8092 large communities as "global:local1:local2", space-separated, ascending. */
size_t rib_fmt_lcomms(const struct bgp_attrs *a, char *out, size_t cap)
{
	struct lc stack[FMT_STACK], *v;
	char *o = out;
	uint32_t w[3];

	if (cap < a->n_large_comm * 33 + 1) {
		if (cap)
			*out = '\0';
		return 0;
	}
	v = fmt_vals(a->n_large_comm, sizeof(*v), stack);
	for (size_t i = 0; i < a->n_large_comm; i++) {
		bgp_large_comm(a, i, w);
		v[i] = (struct lc){ (uint64_t)w[0] << 32 | w[1], w[2] };
	}
	size_t n = sort_uniq(v, a->n_large_comm, sizeof(*v), cmp_lc);
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ' ';
		o = put_u32(o, (uint32_t)(v[i].hi >> 32));
		*o++ = ':';
		o = put_u32(o, (uint32_t)v[i].hi);
		*o++ = ':';
		o = put_u32(o, v[i].lo);
	}
	*o = '\0';
	fmt_done(v, stack);
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
 * As 1.7.7 fills peer_dst_as and dst_as (verified with nfacctd_as: bgp):
 * first_as is the first ASN when the path starts with a sequence (AS or
 * confederation), 0 when it starts with a set ("{8,9} 5": 0; "(1 2) 3 4":
 * 1); origin_as the last ASN as printed, whatever the segment ("3 {6,7}": 7,
 * "11 12 (1 2)": 2).  n_asn is the RFC 4271 9.1.2.2 length (a set counts
 * one, confederation segments none).
 */
static void path_summary(const struct bgp_as_path *p, struct bgp_attr *c)
{
	bool first = true;
	uint32_t asn[BGP_MAX_ASNS];

	for (size_t s = 0; s < p->n_seg; s++) {
		const struct bgp_as_seg *g = &p->seg[s];
		size_t n = seg_asns(p, g, asn);
		if (n == 0)
			continue;
		if (first && (g->type == BGP_AS_SEQUENCE || g->type == BGP_AS_CONFED_SEQUENCE))
			c->first_as = asn[0];
		first = false;
		c->origin_as = asn[n - 1];
		if (g->type == BGP_AS_SEQUENCE || g->type == BGP_AS_SET)
			c->n_asn = (uint16_t)(c->n_asn + (g->type == BGP_AS_SET ? 1 : n));
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
		rib->bytes += (size_t)(cap - rib->cap_slots) *
		    (sizeof(*rib->attr) + sizeof(*rib->free_slots));
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
	rib->attr_gen++;
	rib->bytes -= e->size;
	free(e);
	rib->attr[slot] = NULL;
	rib->free_slots[rib->n_free_slots++] = slot;
	if (--rib->n_attrs == 0)
		store_release(rib);
}
