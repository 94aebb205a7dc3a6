/* SPDX-License-Identifier: BSD-3-Clause */
/* frag.c: IPv4/IPv6 fragment table giving later fragments their flow's ports, as pmacctd does. */
#include "frag.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/slab.h"
#include "lib/xalloc.h"
#include "model/gauge.h"

/*
 * Behaviour, checked against pmacctd 1.7.7 on crafted captures (aggregate
 * src_host,dst_host,src_port,dst_port,proto,tcpflags) and its ip_frag.c:
 * - in-order fragments: all accounted with the first fragment's ports;
 * - later fragments before the first: held, then accounted together with
 *   the first (3 fragments in reverse order print packets 3, bytes = sum);
 * - later fragments whose first never comes: never accounted;
 * - without L4 primitives (no fragment handling) later fragments are
 *   accounted with ports 0 (done by the core not calling frag_handle);
 * - IPv4 key (src, dst, id, proto); IPv6 key (src, dst, id);
 * - an entry lives FRAG_TIMEOUT (60) seconds from its creation.  pmacct
 *   uses the wall clock (time(NULL)), so a capture file replayed in a
 *   second never expires anything; we use packet time, which equals it
 *   for live capture and is reproducible for capture files.
 * Divergence: pmacct reads TCP flags of later fragments from their payload
 * (byte 13: garbage); here later fragments carry no TCP flags.
 */

#define FRAG_NONE	UINT32_MAX
#define FRAG_LOG_EVERY	60	/* seconds of packet time between "table full" lines */
#define FRAG_IPP_TCP	6
#define FRAG_IPP_UDP	17

struct frag_ent {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint8_t af;
	uint8_t proto;
	bool got_first;
	uint16_t sport, dport;
	uint32_t held_pkts;
	uint64_t held_bytes;
	int64_t deadline;
	uint32_t next;		/* bucket chain or free list */
};

struct frag_table {
	struct frag_ent *ent;
	uint32_t *bucket;
	uint32_t nbuckets;	/* power of two */
	uint32_t cap;
	uint32_t free_head;
	int64_t last_prune;
	uint64_t seed;
	struct frag_stats st;
	struct table_gauge *gauge;
	uint64_t bytes;		/* all that frag_new() allocated */
	int64_t logged_at;	/* last "table full" line, packet time */
	uint64_t logged_full;	/* st.full then */
};

struct frag_table *frag_new(size_t bytes)
{
	struct frag_table *ft = xcalloc(1, sizeof(*ft));

	ft->cap = slab_capacity(bytes ? bytes : FRAG_DEFAULT_BYTES, sizeof(struct frag_ent), &ft->nbuckets);
	ft->ent = xcalloc(ft->cap, sizeof(*ft->ent));
	ft->bucket = slab_buckets(ft->nbuckets, FRAG_NONE);
	for (uint32_t i = 0; i < ft->cap; i++)
		ft->ent[i].next = i + 1 < ft->cap ? i + 1 : FRAG_NONE;
	ft->free_head = 0;
	ft->last_prune = INT64_MIN;
	ft->seed = hash_seed();
	ft->st.capacity = ft->cap;
	ft->bytes = slab_bytes(sizeof(*ft), ft->cap, sizeof(*ft->ent), ft->nbuckets);
	ft->logged_at = INT64_MIN;
	return ft;
}

void frag_plan(size_t bytes, uint64_t *entries, uint64_t *total_bytes)
{
	uint32_t nb, cap = slab_capacity(bytes ? bytes : FRAG_DEFAULT_BYTES, sizeof(struct frag_ent), &nb);

	*entries = cap;
	*total_bytes = slab_bytes(sizeof(struct frag_table), cap, sizeof(struct frag_ent), nb);
}

/* The fill, on the gauge: on every new entry and after every prune. */
static void frag_publish(struct frag_table *ft)
{
	gauge_set(ft->gauge, ft->st.entries, ft->bytes);
}

void frag_set_gauge(struct frag_table *ft, struct table_gauge *g)
{
	ft->gauge = g;
	frag_publish(ft);
}

void frag_free(struct frag_table *ft)
{
	if (ft == NULL)
		return;
	free(ft->ent);
	free(ft->bucket);
	free(ft);
}

/* The key is the leading fields src, dst, id, af, proto: one contiguous span. */
_Static_assert(offsetof(struct frag_ent, got_first) == 38, "frag_ent key fields not contiguous");

static uint32_t frag_hash(const struct frag_table *ft, const struct frag_ent *k)
{
	uint64_t h = hash_bytes(k, offsetof(struct frag_ent, got_first), ft->seed);

	return (uint32_t)h & (ft->nbuckets - 1);
}

static bool frag_key_eq(const struct frag_ent *a, const struct frag_ent *b)
{
	return a->id == b->id && a->af == b->af && a->proto == b->proto &&
	    memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

/* Release an entry (already unlinked from its bucket) to the free list. */
static void frag_release(struct frag_table *ft, uint32_t i)
{
	struct frag_ent *e = &ft->ent[i];

	if (!e->got_first)
		ft->st.orphans += e->held_pkts;
	e->next = ft->free_head;
	ft->free_head = i;
	ft->st.entries--;
}

/* Drop every expired entry; run at most once per second of packet time. */
static void frag_prune(struct frag_table *ft, int64_t now)
{
	if (now == ft->last_prune)
		return;
	ft->last_prune = now;
	for (uint32_t b = 0; b < ft->nbuckets; b++) {
		uint32_t *link = &ft->bucket[b];

		while (*link != FRAG_NONE) {
			uint32_t i = *link;

			if (ft->ent[i].deadline <= now) {
				*link = ft->ent[i].next;
				frag_release(ft, i);
			} else {
				link = &ft->ent[i].next;
			}
		}
	}
	frag_publish(ft);
}

/* A fresh entry for key k in bucket b, or NULL when the table is full. */
static struct frag_ent *frag_alloc(struct frag_table *ft, const struct frag_ent *k,
    uint32_t b, int64_t now)
{
	struct frag_ent *e;
	uint32_t i;

	if (ft->free_head == FRAG_NONE)
		frag_prune(ft, now);
	if (ft->free_head == FRAG_NONE)
		return NULL;
	i = ft->free_head;
	e = &ft->ent[i];
	ft->free_head = e->next;
	*e = *k;
	e->deadline = now + FRAG_TIMEOUT;
	e->next = ft->bucket[b];
	ft->bucket[b] = i;
	ft->st.entries++;
	frag_publish(ft);
	return e;
}

/* Find the live entry for k; an expired one is reset in place, as pmacct reuses it. */
static struct frag_ent *frag_find(struct frag_table *ft, const struct frag_ent *k,
    uint32_t b, int64_t now)
{
	for (uint32_t i = ft->bucket[b]; i != FRAG_NONE; i = ft->ent[i].next) {
		struct frag_ent *e = &ft->ent[i];
		uint32_t next = e->next;

		if (!frag_key_eq(e, k))
			continue;
		if (e->deadline > now)
			return e;
		if (!e->got_first)
			ft->st.orphans += e->held_pkts;
		*e = *k;
		e->next = next;
		e->deadline = now + FRAG_TIMEOUT;
		return e;
	}
	return frag_alloc(ft, k, b, now);
}

bool frag_handle(struct frag_table *ft, struct flow_rec *rec)
{
	struct frag_ent k, *e;
	bool later = (rec->flags & FR_F_LATER_FRAG) != 0;
	int64_t now = rec->ts.sec;

	if (rec->k.proto != FRAG_IPP_TCP && rec->k.proto != FRAG_IPP_UDP)
		return true;
	if (!later && !(rec->flags & FR_F_L4_OK)) {
		ft->st.short_l4++;
		return false;
	}
	if (!(rec->flags & FR_F_FRAG))
		return true;
	memset(&k, 0, sizeof(k));
	memcpy(k.src, rec->k.src_ip.a, 16);
	memcpy(k.dst, rec->k.dst_ip.a, 16);
	k.id = rec->frag_id;
	k.af = rec->k.src_ip.af;
	k.proto = k.af == 4 ? rec->k.proto : 0;	/* IPv6 key has no proto, as pmacct */
	e = frag_find(ft, &k, frag_hash(ft, &k), now);
	if (e == NULL) {
		/* full: accounted untracked (first: its ports; later: ports 0) */
		ft->st.full++;
		gauge_hit(ft->gauge, 1);
		if (ft->logged_at == INT64_MIN || now - ft->logged_at >= FRAG_LOG_EVERY) {
			log_info("default/core", "Fragment buffer full (%u entries): %llu fragments "
			    "accounted untracked, later ones without ports, since the last report. "
			    "Increase pmacctd_frag_buffer_size", ft->cap,
			    (unsigned long long)(ft->st.full - ft->logged_full));
			ft->logged_at = now;
			ft->logged_full = ft->st.full;
		}
		if (later) {
			rec->k.src_port = 0;
			rec->k.dst_port = 0;
		}
		return true;
	}
	if (e->got_first) {
		rec->k.src_port = e->sport;
		rec->k.dst_port = e->dport;
		return true;
	}
	if (!later) {
		e->got_first = true;
		e->sport = rec->k.src_port;
		e->dport = rec->k.dst_port;
		rec->packets += e->held_pkts;
		rec->bytes += e->held_bytes;
		ft->st.released += e->held_pkts;
		e->held_pkts = 0;
		e->held_bytes = 0;
		return true;
	}
	e->held_pkts++;
	e->held_bytes += rec->bytes;
	ft->st.held++;
	return false;
}

void frag_get_stats(const struct frag_table *ft, struct frag_stats *out)
{
	*out = ft->st;
}
