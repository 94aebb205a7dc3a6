/* SPDX-License-Identifier: BSD-3-Clause */
/* flows.c: the flow tracker behind pmacctd's `flows` primitive (new-flow flag per packet). */
#include "flows.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/slab.h"
#include "lib/xalloc.h"
#include "model/gauge.h"

/*
 * Behaviour, checked against pmacctd 1.7.7 (print plugin, `flows`
 * aggregated; packets fed through a FIFO in real time because 1.7.7 uses
 * the wall clock) and its ip_flow.c:
 * - each direction of a 5-tuple is its own flow (A->B and B->A both print
 *   FLOWS 1), tracked in one entry normalised by port then address;
 * - idle timeout per direction, from the last packet (0, +2, +4, +4 s with
 *   lifetime 3 gives 3 flows); the other direction is not reset;
 * - TCP: a SYN gives that direction the SYN lifetime (60 s) instead of the
 *   configured one; FIN or RST sets both directions to 30 s / 10 s (RST,
 *   then a packet 11 s later: a new flow); a SYN/FIN/RST on a live flow
 *   does not start a new flow by itself; once the handshake completes
 *   (SYN one way, SYN+ACK the other, then a packet) the flow uses the
 *   configured lifetime.
 * Divergences: pmacct uses the wall clock, we use packet time (same for
 * live capture; reproducible on capture files, where pmacct never expires
 * a flow).  pmacct also requires the handshake's third packet to carry
 * seq = ISN + 1, which flow_rec does not carry: we accept any packet (real
 * stacks always satisfy it).  pmacct 1.7.7 crashes on ICMP with `flows`;
 * here ICMP and other protocols are flows of (src, dst, proto), ports 0.
 */

#define FLOWS_NONE	UINT32_MAX
#define FLOWS_LOG_EVERY	60	/* seconds of packet time between "table full" lines */
#define FLOWS_TCP	6
#define TH_FIN		0x01
#define TH_SYN		0x02
#define TH_RST		0x04
#define TH_ACK		0x10

struct flows_ent {
	uint8_t a[16];		/* normalised: the "forward" source */
	uint8_t b[16];
	uint16_t pa, pb;
	uint8_t af, proto;
	uint8_t seen;		/* bit idx: direction idx has a live flow */
	uint8_t tcp_flags[2];	/* 0 = established / none */
	int64_t last[2];
	uint32_t next;
};

struct flows_table {
	struct flows_ent *ent;
	uint32_t *bucket;
	uint32_t nbuckets;
	uint32_t cap;
	uint32_t free_head;
	uint32_t lifetime;
	int64_t last_prune;
	uint64_t seed;
	struct flows_stats st;
	struct table_gauge *gauge;
	uint64_t bytes;		/* all that flows_new() allocated */
	int64_t logged_at;	/* last "table full" line, packet time */
	uint64_t logged_full;	/* st.full then */
};

struct flows_table *flows_new(size_t bytes, uint32_t lifetime)
{
	struct flows_table *ft = xcalloc(1, sizeof(*ft));

	ft->cap = slab_capacity(bytes ? bytes : FLOWS_DEFAULT_BYTES, sizeof(struct flows_ent), &ft->nbuckets);
	ft->ent = xcalloc(ft->cap, sizeof(*ft->ent));
	ft->bucket = slab_buckets(ft->nbuckets, FLOWS_NONE);
	for (uint32_t i = 0; i < ft->cap; i++)
		ft->ent[i].next = i + 1 < ft->cap ? i + 1 : FLOWS_NONE;
	ft->free_head = 0;
	ft->lifetime = lifetime ? lifetime : FLOWS_DEFAULT_LIFETIME;
	ft->last_prune = INT64_MIN;
	ft->seed = hash_seed();
	ft->st.capacity = ft->cap;
	ft->bytes = slab_bytes(sizeof(*ft), ft->cap, sizeof(*ft->ent), ft->nbuckets);
	ft->logged_at = INT64_MIN;
	return ft;
}

void flows_plan(size_t bytes, uint64_t *entries, uint64_t *total_bytes)
{
	uint32_t nb, cap = slab_capacity(bytes ? bytes : FLOWS_DEFAULT_BYTES, sizeof(struct flows_ent), &nb);

	*entries = cap;
	*total_bytes = slab_bytes(sizeof(struct flows_table), cap, sizeof(struct flows_ent), nb);
}

/* The fill, on the gauge: on every new entry and after every prune. */
static void flows_publish(struct flows_table *ft)
{
	gauge_set(ft->gauge, ft->st.entries, ft->bytes);
}

void flows_set_gauge(struct flows_table *ft, struct table_gauge *g)
{
	ft->gauge = g;
	flows_publish(ft);
}

void flows_free(struct flows_table *ft)
{
	if (ft == NULL)
		return;
	free(ft->ent);
	free(ft->bucket);
	free(ft);
}

/* The key is the leading fields a, b, pa, pb, af, proto: one contiguous span. */
_Static_assert(offsetof(struct flows_ent, seen) == 38, "flows_ent key fields are not contiguous");

static uint32_t flows_hash(const struct flows_table *ft, const struct flows_ent *k)
{
	uint64_t h = hash_bytes(k, offsetof(struct flows_ent, seen), ft->seed);

	return (uint32_t)h & (ft->nbuckets - 1);
}

static bool flows_key_eq(const struct flows_ent *x, const struct flows_ent *y)
{
	return x->pa == y->pa && x->pb == y->pb && x->af == y->af &&
	    x->proto == y->proto && memcmp(x->a, y->a, 16) == 0 &&
	    memcmp(x->b, y->b, 16) == 0;
}

/*
 * The entry key with the higher port (then the higher address) first, as
 * pmacct's normalize_flow(); returns the direction index (1 = reversed).
 */
static unsigned flows_key(const struct flow_rec *rec, struct flows_ent *k)
{
	const struct flow_key *fk = &rec->k;
	bool rev = fk->src_port < fk->dst_port ||
	    (fk->src_port == fk->dst_port &&
	    memcmp(fk->src_ip.a, fk->dst_ip.a, 16) < 0);

	memset(k, 0, sizeof(*k));
	memcpy(k->a, rev ? fk->dst_ip.a : fk->src_ip.a, 16);
	memcpy(k->b, rev ? fk->src_ip.a : fk->dst_ip.a, 16);
	k->pa = rev ? fk->dst_port : fk->src_port;
	k->pb = rev ? fk->src_port : fk->dst_port;
	k->af = fk->src_ip.af;
	k->proto = fk->proto;
	return rev;
}

/* pmacct's is_expired_uni(): has direction idx no live flow at `now`? */
static bool flows_expired(const struct flows_table *ft, const struct flows_ent *e,
    unsigned idx, int64_t now)
{
	uint8_t f = e->tcp_flags[idx];
	int64_t last = e->last[idx];

	if (!(e->seen & (1u << idx)))
		return true;
	if (e->proto != FLOWS_TCP || f == 0)
		return now > last + ft->lifetime;
	return ((f & TH_SYN) && now > last + FLOWS_TCP_SYN_LIFETIME) ||
	    ((f & TH_FIN) && now > last + FLOWS_TCP_FIN_LIFETIME) ||
	    ((f & TH_RST) && now > last + FLOWS_TCP_RST_LIFETIME);
}

/* pmacct's evaluate_tcp_flags(): the TCP state that picks the lifetime. */
static void flows_tcp(struct flows_ent *e, unsigned idx, uint8_t flags)
{
	unsigned rev = !idx;

	if (e->proto != FLOWS_TCP)
		return;
	/* Handshake done (pmacct also checks seq == ISN + 1): established. */
	if ((e->tcp_flags[idx] & TH_SYN) && (e->tcp_flags[rev] & TH_SYN) &&
	    (e->tcp_flags[rev] & TH_ACK)) {
		e->tcp_flags[idx] = 0;
		e->tcp_flags[rev] = 0;
	}
	if (flags & TH_SYN)
		e->tcp_flags[idx] = TH_SYN | (flags & TH_ACK);
	if (flags & (TH_FIN | TH_RST)) {
		e->tcp_flags[idx] = flags;
		e->tcp_flags[rev] = flags;
	}
}

/* Drop entries with both directions expired; at most once per second. */
static void flows_prune(struct flows_table *ft, int64_t now)
{
	if (now == ft->last_prune)
		return;
	ft->last_prune = now;
	for (uint32_t b = 0; b < ft->nbuckets; b++) {
		uint32_t *link = &ft->bucket[b];

		while (*link != FLOWS_NONE) {
			uint32_t i = *link;
			struct flows_ent *e = &ft->ent[i];

			if (flows_expired(ft, e, 0, now) && flows_expired(ft, e, 1, now)) {
				*link = e->next;
				e->next = ft->free_head;
				ft->free_head = i;
				ft->st.entries--;
			} else {
				link = &e->next;
			}
		}
	}
	flows_publish(ft);
}

/* The entry for k: found, or a new one (NULL when full); *fresh when new. */
static struct flows_ent *flows_get(struct flows_table *ft, const struct flows_ent *k,
    int64_t now)
{
	uint32_t b = flows_hash(ft, k), i;
	struct flows_ent *e;

	for (i = ft->bucket[b]; i != FLOWS_NONE; i = ft->ent[i].next)
		if (flows_key_eq(&ft->ent[i], k))
			return &ft->ent[i];
	if (ft->free_head == FLOWS_NONE)
		flows_prune(ft, now);
	if (ft->free_head == FLOWS_NONE)
		return NULL;
	i = ft->free_head;
	e = &ft->ent[i];
	ft->free_head = e->next;
	*e = *k;
	e->next = ft->bucket[b];
	ft->bucket[b] = i;
	ft->st.entries++;
	flows_publish(ft);
	return e;
}

void flows_handle(struct flows_table *ft, struct flow_rec *rec)
{
	struct flows_ent k, *e;
	unsigned idx = flows_key(rec, &k);
	int64_t now = rec->ts.sec;
	bool is_new;

	rec->flows = 0;
	rec->flags &= (uint8_t)~FR_F_NEW_FLOW;
	e = flows_get(ft, &k, now);
	if (e == NULL) {
		ft->st.full++;
		gauge_hit(ft->gauge, 1);
		if (ft->logged_at == INT64_MIN || now - ft->logged_at >= FLOWS_LOG_EVERY) {
			log_info("default/core", "Flow buffer full (%u entries): %llu packets accounted "
			    "without flow tracking (flows 0) since the last report. Increase "
			    "pmacctd_flow_buffer_size", ft->cap,
			    (unsigned long long)(ft->st.full - ft->logged_full));
			ft->logged_at = now;
			ft->logged_full = ft->st.full;
		}
		return;
	}
	is_new = flows_expired(ft, e, idx, now);
	if (is_new)	/* stale or unseen direction: clear it, as pmacct */
		e->tcp_flags[idx] = 0;
	flows_tcp(e, idx, rec->tcp_flags);
	e->last[idx] = now;
	e->seen |= (uint8_t)(1u << idx);
	if (is_new) {
		rec->flows = 1;
		rec->flags |= FR_F_NEW_FLOW;
		ft->st.new_flows++;
	}
}

void flows_get_stats(const struct flows_table *ft, struct flows_stats *out)
{
	*out = ft->st;
}
