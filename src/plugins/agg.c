/* SPDX-License-Identifier: BSD-3-Clause */
/* agg.c: the aggregation table shared by every plugin. */
#include "agg.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/hash.h"
#include "lib/xalloc.h"

/*
 * Entries live in chunks of 2 MB, 2 MB aligned.  Past the first chunk (a
 * small table's stays in small pages, mostly untouched) they are advised
 * to be transparent huge pages: a table of hundreds of thousands of
 * entries then costs a few page faults and TLB entries, not thousands.
 */
#define AGG_CHUNK_BYTES ((size_t)2 << 20)

/*
 * agg_account() defers each record by AGG_AHEAD records: at entry it masks
 * and hashes the key and prefetches the bucket; AGG_AHEAD / 2 records later
 * it prefetches the chain's first entry; AGG_AHEAD records later it does
 * the find-or-insert, by then mostly from cache (a table of tens of
 * thousands of entries does not fit in it, and each lookup would otherwise
 * wait on two cache misses).  Every other function applies the deferred
 * records first (agg_sync), so callers see the same table as without.
 */
#define AGG_AHEAD 16

/* Mask runs at most this many bytes apart are one piece of an entry's key (the gap is masked to 0). */
#define AGG_GAP 16
/* Pieces at most: past them, the rest of the span is one piece. */
#define AGG_PIECES 32

/* A record waiting in the look-ahead queue: its masked key is in t->pkeys. */
struct agg_pending {
	uint64_t hash;
	int64_t bin;
	uint64_t packets, bytes, flows;
	uint8_t tcp_flags;
};

/* Entries live in chunks so that they can be walked in insertion order. */
struct agg_chunk {
	struct agg_chunk *next;
	size_t used;		/* entries in use */
	uint8_t pad[48];	/* mem[] on a cache line boundary (chunks are 2 MB aligned) */
	uint8_t mem[];
};

struct agg_table {
	struct prim_set set;
	struct flow_key mask;
	size_t lo, hi;		/* span of struct flow_key the primitives cover */
	/*
	 * An entry's key: the pieces of the key the mask covers (runs of mask
	 * bytes, joined when at most AGG_GAP bytes apart), one after the other;
	 * klen bytes.  A BGP aggregate's key skips the key's cold middle.
	 */
	struct key_seg piece[AGG_PIECES];
	unsigned npieces;
	size_t klen;
	size_t esize;		/* sizeof(struct agg_entry) + klen, aligned */
	size_t esize_nominal;	/* the same, 8-byte aligned only (agg_entry_size()) */
	size_t cpc;		/* entries per chunk */
	struct agg_entry **buckets;
	size_t nbuckets;	/* power of two */
	size_t count;
	struct agg_chunk *first, *cur;
	size_t nchunks;
	int sum_id;		/* the sum_* primitive in the set, or -1 */
	uint64_t seed;
	struct agg_chunk **chunkv;	/* chunks by index, for positional cursors */
	size_t chunkv_cap;
	struct agg_entry *free;	/* deleted entries, chained through next */
	size_t limit;		/* max live entries, 0 = unbounded */
	uint64_t dropped;	/* new keys refused by the limit */
	uint64_t gen;		/* agg_clear() count */
	struct agg_pending pq[AGG_AHEAD];	/* look-ahead queue (agg_account) */
	uint8_t *pkeys;		/* AGG_AHEAD masked key spans */
	unsigned pq_head, pq_n;
};

/*
 * A zeroed bucket array of n heads.  Past 2 MB it is advised to be huge
 * pages: lookups hit random buckets, and in small pages each would
 * likely cost a TLB miss (with which the look-ahead prefetch is dropped).
 */
static struct agg_entry **buckets_alloc(size_t n)
{
	size_t bytes = n * sizeof(struct agg_entry *);

	if (bytes < AGG_CHUNK_BYTES)
		return xcalloc(n, sizeof(struct agg_entry *));
	void *b = aligned_alloc(AGG_CHUNK_BYTES, bytes);	/* bytes: a multiple of 2 MB */
	if (!b)
		return xcalloc(n, sizeof(struct agg_entry *));	/* reports the failure */
	(void)madvise(b, bytes, MADV_HUGEPAGE);
	memset(b, 0, bytes);
	return b;
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 64;
	while (p < n)
		p <<= 1;
	return p;
}

static void span_of_mask(struct agg_table *t)
{
	const uint8_t *m = (const uint8_t *)&t->mask;
	size_t n = sizeof(t->mask), lo = n, hi = 0;

	for (size_t i = 0; i < n; i++) {
		if (m[i]) {
			if (lo == n)
				lo = i;
			hi = i + 1;
		}
	}
	if (lo == n)
		lo = hi = 0;	/* `none`: a single aggregate */
	t->lo = lo;
	t->hi = hi;
	t->npieces = 0;
	t->klen = 0;
	for (size_t i = lo; i < hi;) {
		size_t end = i;
		/* a piece: from a mask byte to the last one followed by more than AGG_GAP zero bytes */
		for (size_t j = i; j < hi; j++)
			if (m[j]) {
				if (j > end + AGG_GAP)
					break;
				end = j;
			}
		if (t->npieces == AGG_PIECES - 1)
			end = hi - 1;
		t->piece[t->npieces++] = (struct key_seg){ (uint16_t)i, (uint16_t)(end + 1 - i),
			(uint16_t)t->klen, false };
		t->klen += end + 1 - i;
		i = end + 1;
		while (i < hi && !m[i])
			i++;
	}
}

static inline uint64_t ld8(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline void st8(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

typedef uint8_t v16 __attribute__((vector_size(16)));

static inline v16 ld16(const uint8_t *p)
{
	v16 v;
	memcpy(&v, p, 16);
	return v;
}

/*
 * o[j] = a[j] & m[j] for j < len, sixteen bytes at a time (eight below 16);
 * the last block ends at len, overlapping the one before (same bytes, same
 * values): nothing is read or written past len.
 */
static inline void and_bytes(uint8_t *restrict o, const uint8_t *restrict a,
    const uint8_t *restrict m, size_t len)
{
	size_t j = 0;

	if (len >= 16) {
		for (; j + 16 <= len; j += 16) {
			v16 x = ld16(a + j) & ld16(m + j);
			memcpy(o + j, &x, 16);
		}
		if (j < len) {
			v16 x = ld16(a + len - 16) & ld16(m + len - 16);
			memcpy(o + len - 16, &x, 16);
		}
	} else if (len >= 8) {
		st8(o, ld8(a) & ld8(m));
		st8(o + len - 8, ld8(a + len - 8) & ld8(m + len - 8));
	} else {
		for (; j < len; j++)
			o[j] = a[j] & m[j];
	}
}

/* The masked pieces of key `in` into k (klen bytes). */
static inline void mask_gather(const struct agg_table *t, const struct flow_key *in, uint8_t *k)
{
	const uint8_t *a = (const uint8_t *)in, *m = (const uint8_t *)&t->mask;

	if (t->npieces == 1) {	/* the common case: the span */
		and_bytes(k, a + t->lo, m + t->lo, t->klen);
		return;
	}
	for (unsigned p = 0; p < t->npieces; p++) {
		/* locals: `k` may alias t for the compiler, which would reload t's fields each byte */
		const uint8_t *restrict ap = a + t->piece[p].off;
		const uint8_t *restrict mp = m + t->piece[p].off;
		uint8_t *restrict o = k + t->piece[p].at;
		size_t len = t->piece[p].len;
		for (size_t j = 0; j < len; j++)
			o[j] = ap[j] & mp[j];
	}
}

/* An entry's key bytes back to their places in out (the rest of out left as is). */
static void scatter(const struct agg_table *t, const uint8_t *k, struct flow_key *out)
{
	for (unsigned p = 0; p < t->npieces; p++)
		memcpy((uint8_t *)out + t->piece[p].off, k + t->piece[p].at, t->piece[p].len);
}

struct agg_table *agg_new(const struct prim_registry *reg, const struct prim_set *set, size_t buckets)
{
	struct agg_table *t = xcalloc(1, sizeof(*t));

	t->set = *set;
	prim_key_mask(reg, set, &t->mask);
	span_of_mask(t);
	/* whole cache lines: an entry's lookup touches no line another entry shares */
	t->esize_nominal = (sizeof(struct agg_entry) + t->klen + 7) & ~(size_t)7;
	t->esize = t->esize_nominal > 64 ? (t->esize_nominal + 63) & ~(size_t)63 : t->esize_nominal;
	t->cpc = (AGG_CHUNK_BYTES - sizeof(struct agg_chunk)) / t->esize;
	if (t->cpc < 64)
		t->cpc = 64;	/* keys of custom primitives can make entries large */
	t->nbuckets = pow2_at_least(buckets);
	t->buckets = buckets_alloc(t->nbuckets);
	t->sum_id = -1;
	for (int i = 0; i < P_COUNT; i++)
		if (prim_has(set, (enum prim_id)i) && (prim_desc_of(reg, i)->flags & PRIM_SUM))
			t->sum_id = i;
	t->seed = hash_seed();
	t->pkeys = xmalloc(AGG_AHEAD * t->klen + 1);
	return t;
}

void agg_free(struct agg_table *t)
{
	if (!t)
		return;
	for (struct agg_chunk *c = t->first, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	free(t->buckets);
	free(t->chunkv);
	free(t->pkeys);
	free(t);
}

static void chunkv_push(struct agg_table *t, struct agg_chunk *c)
{
	if (t->nchunks == t->chunkv_cap) {
		t->chunkv_cap = t->chunkv_cap ? t->chunkv_cap * 2 : 16;
		t->chunkv = xrealloc(t->chunkv, t->chunkv_cap * sizeof(*t->chunkv));
	}
	t->chunkv[t->nchunks] = c;
}

static struct agg_chunk *agg_chunk_alloc(const struct agg_table *t)
{
	size_t n = sizeof(struct agg_chunk) + t->cpc * t->esize;
	struct agg_chunk *c;

	n = (n + AGG_CHUNK_BYTES - 1) & ~(AGG_CHUNK_BYTES - 1);
	c = aligned_alloc(AGG_CHUNK_BYTES, n);
	if (!c)
		return xmalloc(n);	/* reports the failure */
	if (t->nchunks)
		(void)madvise(c, n, MADV_HUGEPAGE);	/* a hint: without THP it fails harmlessly */
	return c;
}

static struct agg_entry *entry_alloc(struct agg_table *t)
{
	if (t->free) {
		struct agg_entry *e = t->free;
		t->free = e->next;
		return e;
	}
	if (!t->cur || t->cur->used == t->cpc) {
		struct agg_chunk *c = t->cur ? t->cur->next : t->first;
		if (!c) {
			c = agg_chunk_alloc(t);
			c->next = NULL;
			if (t->cur)
				t->cur->next = c;
			else
				t->first = c;
			chunkv_push(t, c);
			t->nchunks++;
		}
		c->used = 0;
		t->cur = c;
	}
	uint8_t *e = t->cur->mem + t->cur->used++ * t->esize;
	/* the next new entry's lines, for writing: new keys otherwise wait on them */
	if (t->cur->used < t->cpc)
		for (size_t off = 0; off < t->esize && off < 256; off += 64)
			__builtin_prefetch(e + t->esize + off, 1);
	return (struct agg_entry *)e;
}

static struct agg_entry *at(const struct agg_table *t, size_t *pos);

static void grow(struct agg_table *t)
{
	size_t n = t->nbuckets * 2;
	struct agg_entry **b = buckets_alloc(n);
	size_t pos = 0;

	/* positional walk: agg_next() would search for each entry's chunk */
	for (struct agg_entry *e = at(t, &pos); e; e = at(t, &pos)) {
		size_t i = e->hash & (n - 1);
		e->next = b[i];
		b[i] = e;
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

/* The 128-bit product of a and b, folded to 64 bits. */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * The hash of a masked key: keys of 8 to AGG_HASH_INLINE bytes (most tables:
 * the 5-tuple's is 48) inline, 16 bytes per multiply, the last words ending at
 * klen (overlapping, never past it); others XXH3.  Seeded per table and per
 * bin.  It replaced a call of XXH3 that cost 74 instructions a record
 * (bench/README.md).
 */
#define AGG_HASH_INLINE 128
static inline uint64_t key_hash(const struct agg_table *t, const uint8_t *k, int64_t bin)
{
	static const uint64_t c1 = 0xa0761d6478bd642full, c2 = 0xe7037ed1a0b428dbull,
	    c3 = 0x8ebc6af09c88c6e3ull;
	size_t n = t->klen, j = 0;
	uint64_t seed = t->seed ^ (uint64_t)bin, h;

	if (n < 8 || n > AGG_HASH_INLINE)
		return hash_bytes(k, n, seed);
	h = seed ^ mum(n ^ c1, seed ^ c2);
	for (; j + 16 <= n; j += 16)
		h = mum(ld8(k + j) ^ seed ^ c1, ld8(k + j + 8) ^ h);
	if (j < n)	/* 1 to 15 bytes left: the two words ending at n */
		h = mum(ld8(k + (n - j > 8 ? j : n - 8)) ^ seed ^ c2, ld8(k + n - 8) ^ h);
	return mum(h ^ c3, h ^ seed ^ c1);
}

/* Find-or-insert the entry key k (hash h) under bin. */
static struct agg_entry *upsert_hashed(struct agg_table *t, const uint8_t *k, uint64_t h,
    int64_t bin)
{
	size_t klen = t->klen;
	struct agg_entry **slot = &t->buckets[h & (t->nbuckets - 1)];

	for (struct agg_entry *e = *slot; e; e = e->next)
		if (e->hash == h && e->bin == bin && memcmp(e->key, k, klen) == 0)
			return e;
	if (t->limit && t->count >= t->limit) {
		t->dropped++;
		return NULL;
	}

	struct agg_entry *e = entry_alloc(t);
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->bin = bin;
	e->live = true;
	memcpy(e->key, k, klen);
	e->next = *slot;
	*slot = e;
	/* load factor at most 1/2: a hit is rarely behind another entry, which would not be prefetched */
	if (++t->count > t->nbuckets / 2)
		grow(t);
	return e;
}

/* Apply the oldest deferred record. */
static inline void pq_apply(struct agg_table *t)
{
	const struct agg_pending *q = &t->pq[t->pq_head];
	const uint8_t *k = t->pkeys + t->pq_head * t->klen;

	/* dequeued first: nothing below may apply it twice */
	t->pq_head = (t->pq_head + 1) % AGG_AHEAD;
	t->pq_n--;
	struct agg_entry *e = upsert_hashed(t, k, q->hash, q->bin);
	if (e) {		/* NULL: refused by the table's limit, counted there */
		e->packets += q->packets;
		e->bytes += q->bytes;
		e->flows += q->flows;
		e->tcp_flags |= q->tcp_flags;
	}
}

/*
 * Apply every deferred record.  Called by the functions that read the table,
 * also those taking it const: the table is logically unchanged by it.
 */
static void agg_sync(const struct agg_table *ct)
{
	struct agg_table *t = (struct agg_table *)ct;

	while (t->pq_n)
		pq_apply(t);
}

struct agg_entry *agg_upsert(struct agg_table *t, const struct flow_key *masked, int64_t bin)
{
	uint8_t k[sizeof(struct flow_key)];

	mask_gather(t, masked, k);
	agg_sync(t);
	return upsert_hashed(t, k, key_hash(t, k, bin), bin);
}

/* rec's key with its dst field moved into the src column (the second row of a sum_* primitive). */
/* Only the table's span of out is written: mask_gather() reads no more. */
static void sum_swapped(const struct agg_table *t, const struct flow_key *in, struct flow_key *out)
{
	size_t off, len;

	memcpy((uint8_t *)out + t->lo, (const uint8_t *)in + t->lo, t->hi - t->lo);
	prim_sum_dst(t->sum_id, &off, &len);
	size_t at = prim_desc_of(NULL, t->sum_id)->off;	/* sum_* rows are built in */
	memcpy((uint8_t *)out + at, (const uint8_t *)in + off, len);
}

/* Queue the key `in` masked to the table's primitives, with rec's counters. */
static void pq_push(struct agg_table *t, const struct flow_key *in, const struct flow_rec *rec,
    int64_t bin)
{
	size_t klen = t->klen;
	unsigned i;

	if (t->pq_n == AGG_AHEAD)
		pq_apply(t);
	i = (t->pq_head + t->pq_n) % AGG_AHEAD;
	uint8_t *k = t->pkeys + i * klen;
	mask_gather(t, in, k);
	struct agg_pending *q = &t->pq[i];
	q->hash = key_hash(t, k, bin);
	q->bin = bin;
	q->packets = rec->packets;
	q->bytes = rec->bytes;
	q->flows = rec->flows;
	q->tcp_flags = rec->tcp_flags;
	__builtin_prefetch(&t->buckets[q->hash & (t->nbuckets - 1)]);
	t->pq_n++;
	if (t->pq_n > AGG_AHEAD / 2) {
		/* the bucket of the record queued AGG_AHEAD / 2 ago is in cache by now */
		const struct agg_pending *mid = &t->pq[(i + AGG_AHEAD - AGG_AHEAD / 2) % AGG_AHEAD];
		const uint8_t *e = (const uint8_t *)t->buckets[mid->hash & (t->nbuckets - 1)];
		/* the entry's header and key: every line it spans, up to four */
		for (size_t off = 0; e && off < t->esize && off < 256; off += 64)
			__builtin_prefetch(e + off);
	}
}

size_t agg_count_upper(const struct agg_table *t)
{
	return t->count + t->pq_n;	/* a sum_* record queues its two halves: pq_n counts both */
}

static struct agg_entry *find_key(const struct agg_table *t, const uint8_t *k, int64_t bin);

size_t agg_new_keys(const struct agg_table *t, const struct flow_rec *rec, int64_t bin)
{
	uint8_t a[sizeof(struct flow_key)], b[sizeof(struct flow_key)];
	struct flow_key swapped;
	size_t n;

	mask_gather(t, &rec->k, a);
	n = find_key(t, a, bin) == NULL;
	if (t->sum_id >= 0) {
		sum_swapped(t, &rec->k, &swapped);
		mask_gather(t, &swapped, b);
		/* both halves of one record may be one key (src == dst): one entry */
		if (find_key(t, b, bin) == NULL && memcmp(a, b, t->klen) != 0)
			n++;
	}
	return n;
}

size_t agg_memory_at(const struct agg_table *t, size_t entries)
{
	size_t nb = t->nbuckets, chunks;
	size_t chunk_bytes = (sizeof(struct agg_chunk) + t->cpc * t->esize + AGG_CHUNK_BYTES - 1) &
	    ~(AGG_CHUNK_BYTES - 1);

	while (entries > nb / 2)	/* upsert_hashed() grows past a load of 1/2 */
		nb *= 2;
	chunks = (entries + t->cpc - 1) / t->cpc;
	if (!chunks)
		chunks = 1;
	return sizeof(*t) + nb * sizeof(*t->buckets) + chunks * chunk_bytes +
	    AGG_AHEAD * t->klen;
}

void agg_account(struct agg_table *t, const struct flow_rec *rec, int64_t bin)
{
	pq_push(t, &rec->k, rec, bin);
	if (t->sum_id >= 0) {
		/* the same record again, its dst field in the src column */
		struct flow_key swapped;
		sum_swapped(t, &rec->k, &swapped);
		pq_push(t, &swapped, rec, bin);
	}
}

void agg_entry_key(const struct agg_table *t, const struct agg_entry *e, struct flow_key *out)
{
	memset(out, 0, sizeof(*out));
	scatter(t, e->key, out);
}

void agg_entry_span(const struct agg_table *t, const struct agg_entry *e, struct flow_key *out)
{
	scatter(t, e->key, out);
}

struct agg_entry *agg_next(const struct agg_table *t, const struct agg_entry *prev)
{
	agg_sync(t);	/* before reading the chunks: it may add the first */
	const struct agg_chunk *c = t->first;
	size_t i = 0;

	if (prev) {
		/* find prev's chunk: entries are laid out chunk after chunk */
		for (; c; c = c->next) {
			const uint8_t *p = (const uint8_t *)prev;
			if (p >= c->mem && p < c->mem + t->cpc * t->esize) {
				i = (size_t)(p - c->mem) / t->esize + 1;
				break;
			}
		}
	}
	for (; c; c = c->next, i = 0) {
		for (; i < c->used; i++) {
			struct agg_entry *e = (struct agg_entry *)(c->mem + i * t->esize);
			if (e->live)
				return e;
		}
		if (c == t->cur)
			break;
	}
	return NULL;
}

void agg_chains(const struct agg_table *t, size_t *buckets, size_t *used, size_t *longest)
{
	agg_sync(t);
	*buckets = t->nbuckets;
	*used = *longest = 0;
	for (size_t b = 0; b < t->nbuckets; b++) {
		size_t n = 0;
		for (const struct agg_entry *e = t->buckets[b]; e; e = e->next)
			n++;
		*used += n > 0;
		if (n > *longest)
			*longest = n;
	}
}

size_t agg_count(const struct agg_table *t)
{
	agg_sync(t);
	return t->count;
}

void agg_clear(struct agg_table *t)
{
	agg_sync(t);	/* as if accounted, then cleared */
	memset(t->buckets, 0, t->nbuckets * sizeof(*t->buckets));
	for (struct agg_chunk *c = t->first; c; c = c->next)
		c->used = 0;
	t->cur = NULL;
	t->count = 0;
	t->free = NULL;
	t->gen++;
}

size_t agg_memory(const struct agg_table *t)
{
	agg_sync(t);
	return t->nbuckets * sizeof(*t->buckets) +
	    t->nchunks * (sizeof(struct agg_chunk) + t->cpc * t->esize);
}

/* The entry of key bytes k under bin, or NULL. */
static struct agg_entry *find_key(const struct agg_table *t, const uint8_t *k, int64_t bin)
{
	uint64_t h = key_hash(t, k, bin);

	agg_sync(t);
	for (struct agg_entry *e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->next)
		if (e->hash == h && e->bin == bin && memcmp(e->key, k, t->klen) == 0)
			return e;
	return NULL;
}

struct agg_entry *agg_find(const struct agg_table *t, const struct flow_key *masked, int64_t bin)
{
	uint8_t k[sizeof(struct flow_key)];

	mask_gather(t, masked, k);
	return find_key(t, k, bin);
}

void agg_delete(struct agg_table *t, struct agg_entry *e)
{
	agg_sync(t);
	struct agg_entry **pp = &t->buckets[e->hash & (t->nbuckets - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (!*pp)
		return;		/* not in the table (already deleted) */
	*pp = e->next;
	e->live = false;
	e->next = t->free;
	t->free = e;
	t->count--;
}

void agg_set_limit(struct agg_table *t, size_t max_entries)
{
	agg_sync(t);
	t->limit = max_entries;
}

uint64_t agg_dropped(const struct agg_table *t)
{
	agg_sync(t);
	return t->dropped;
}

struct agg_entry *agg_at(const struct agg_table *t, size_t *pos)
{
	agg_sync(t);
	return at(t, pos);
}

static struct agg_entry *at(const struct agg_table *t, size_t *pos)
{
	size_t ci = *pos / t->cpc, i = *pos % t->cpc;

	for (; ci < t->nchunks; ci++, i = 0) {
		const struct agg_chunk *c = t->chunkv[ci];
		for (; i < c->used; i++) {
			struct agg_entry *e = (struct agg_entry *)(c->mem + i * t->esize);
			if (e->live) {
				*pos = ci * t->cpc + i + 1;
				return e;
			}
		}
		if (c == t->cur)
			break;
	}
	*pos = t->nchunks * t->cpc;
	return NULL;
}

uint64_t agg_generation(const struct agg_table *t)
{
	return t->gen;
}

size_t agg_buckets(const struct agg_table *t)
{
	agg_sync(t);
	return t->nbuckets;
}

size_t agg_chain_len(const struct agg_table *t, size_t bucket)
{
	size_t n = 0;

	agg_sync(t);
	if (bucket >= t->nbuckets)
		return 0;
	for (const struct agg_entry *e = t->buckets[bucket]; e; e = e->next)
		n++;
	return n;
}

size_t agg_entry_size(const struct agg_table *t)
{
	return t->esize_nominal;
}

/* Where an entry's optional trailing region (agg_new_ext) starts. */
static size_t ext_off(const struct agg_table *t)
{
	return (sizeof(struct agg_entry) + t->klen + 7) & ~(size_t)7;
}

struct agg_table *agg_new_ext(const struct prim_registry *reg, const struct prim_set *set,
    size_t buckets, size_t ext)
{
	struct agg_table *t = agg_new(reg, set, buckets);

	if (!ext)
		return t;
	/* the layout of agg_new(), with `ext` more bytes per entry (no chunk exists yet) */
	size_t chunk = t->cpc * t->esize;

	t->esize_nominal = (ext_off(t) + ext + 7) & ~(size_t)7;
	t->esize = t->esize_nominal > 64 ? (t->esize_nominal + 63) & ~(size_t)63 : t->esize_nominal;
	t->cpc = chunk / t->esize;
	if (t->cpc < 64)
		t->cpc = 64;
	return t;
}

void *agg_entry_ext(const struct agg_table *t, const struct agg_entry *e)
{
	return (uint8_t *)(uintptr_t)e + ext_off(t);
}
