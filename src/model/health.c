/* SPDX-License-Identifier: BSD-3-Clause */
/* health.c: per-exporter and capture statistics, published by the receive threads for the http plugin. */
#include "health.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/xalloc.h"

#define HEALTH_MAX_SLOTS 64	/* receive threads (COLLECTOR_MAX_WORKERS) */

/* ---- ordering -------------------------------------------------------------- */

static int key_cmp(const struct health_exporter *a, const struct health_exporter *b)
{
	if (a->addr.af != b->addr.af)
		return a->addr.af < b->addr.af ? -1 : 1;
	int c = memcmp(a->addr.a, b->addr.a, sizeof(a->addr.a));
	if (c)
		return c;
	if (a->domain != b->domain)
		return a->domain < b->domain ? -1 : 1;
	return a->version < b->version ? -1 : a->version > b->version;
}

static int key_cmp_q(const void *a, const void *b)
{
	return key_cmp(a, b);
}

static uint64_t drops_sum(const struct health_exporter *e)
{
	uint64_t n = 0;

	for (int i = 0; i < HEALTH_MAX_DROPS; i++)
		n += e->drops[i];
	return n;
}

/* Rank: more datagrams first, then more drops (an exporter sending only garbage), then key. */
static int rank_cmp(const struct health_exporter *a, const struct health_exporter *b)
{
	if (a->packets != b->packets)
		return a->packets > b->packets ? -1 : 1;
	uint64_t da = drops_sum(a), db = drops_sum(b);
	if (da != db)
		return da > db ? -1 : 1;
	return key_cmp(a, b);
}

static int rank_cmp_q(const void *a, const void *b)
{
	return rank_cmp(a, b);
}

/* ---- builder: a bounded min-heap on rank ----------------------------------- */

void health_build_init(struct health_build *b)
{
	memset(b, 0, sizeof(*b));
}

void health_build_names(struct health_build *b, enum health_kind kind, const char *const *names,
    int ndrops)
{
	b->kind = kind;
	b->drop_names = names;
	b->ndrops = ndrops < HEALTH_MAX_DROPS ? ndrops : HEALTH_MAX_DROPS;
}

/* Is heap element i ranked below j (closer to being evicted)? */
static bool heap_lower(const struct health_build *b, size_t i, size_t j)
{
	return rank_cmp(&b->v[i], &b->v[j]) > 0;
}

static void heap_swap(struct health_build *b, size_t i, size_t j)
{
	struct health_exporter t = b->v[i];
	b->v[i] = b->v[j];
	b->v[j] = t;
}

static void heap_up(struct health_build *b, size_t i)
{
	while (i > 0 && heap_lower(b, i, (i - 1) / 2)) {
		heap_swap(b, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct health_build *b, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < b->n && heap_lower(b, l, m))
			m = l;
		if (r < b->n && heap_lower(b, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(b, i, m);
		i = m;
	}
}

void health_offer(struct health_build *b, const struct health_exporter *e)
{
	b->offered++;
	if (!b->v)
		b->v = xcalloc(HEALTH_MAX_LISTED, sizeof(*b->v));
	if (b->n < HEALTH_MAX_LISTED) {
		b->v[b->n] = *e;
		heap_up(b, b->n++);
		return;
	}
	if (rank_cmp(e, &b->v[0]) >= 0)
		return;		/* ranks below every listed one */
	b->v[0] = *e;
	heap_down(b, 0);
}

void health_build_fini(struct health_build *b)
{
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

/* ---- accumulator ---------------------------------------------------------- */

struct acc_node {
	struct health_exporter e;
	struct acc_node *next;
};

struct health_acc {
	struct acc_node **b;
	size_t mask, n, max;
	struct health_exporter other;	/* shared by exporters past max (address unset) */
	bool other_used;
};

struct health_acc *health_acc_new(size_t max)
{
	struct health_acc *a = xcalloc(1, sizeof(*a));

	a->mask = 255;
	a->b = xcalloc(a->mask + 1, sizeof(*a->b));
	a->max = max;
	return a;
}

void health_acc_free(struct health_acc *a)
{
	if (!a)
		return;
	for (size_t i = 0; i <= a->mask; i++)
		for (struct acc_node *n = a->b[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	free(a->b);
	free(a);
}

static size_t acc_hash(const struct fr_ip *addr, uint32_t domain)
{
	uint64_t h = 1469598103934665603ULL ^ addr->af;

	for (size_t i = 0; i < sizeof(addr->a); i++)
		h = (h ^ addr->a[i]) * 1099511628211ULL;
	h = (h ^ domain) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29));
}

static void acc_grow(struct health_acc *a)
{
	size_t mask = a->mask * 2 + 1;
	struct acc_node **b = xcalloc(mask + 1, sizeof(*b));

	for (size_t i = 0; i <= a->mask; i++)
		for (struct acc_node *n = a->b[i], *next; n; n = next) {
			size_t k = acc_hash(&n->e.addr, n->e.domain) & mask;
			next = n->next;
			n->next = b[k];
			b[k] = n;
		}
	free(a->b);
	a->b = b;
	a->mask = mask;
}

struct health_exporter *health_acc_get(struct health_acc *a, const struct fr_ip *addr,
    uint32_t domain, bool create)
{
	size_t k = acc_hash(addr, domain) & a->mask;
	struct acc_node *n;

	for (n = a->b[k]; n; n = n->next)
		if (n->e.domain == domain && n->e.addr.af == addr->af &&
		    memcmp(n->e.addr.a, addr->a, sizeof(addr->a)) == 0)
			return &n->e;
	if (!create)
		return NULL;
	if (a->n >= a->max) {
		a->other_used = true;
		return &a->other;
	}
	if (a->n > a->mask) {
		acc_grow(a);
		k = acc_hash(addr, domain) & a->mask;
	}
	n = xcalloc(1, sizeof(*n));
	n->e.addr = *addr;
	n->e.domain = domain;
	n->next = a->b[k];
	a->b[k] = n;
	a->n++;
	return &n->e;
}

void health_acc_offer(const struct health_acc *a, struct health_build *b)
{
	for (size_t i = 0; i <= a->mask; i++)
		for (const struct acc_node *n = a->b[i]; n; n = n->next)
			health_offer(b, &n->e);
	if (a->other_used)
		health_offer(b, &a->other);
}

/* ---- the shared snapshot ---------------------------------------------------- */

/* What one receive thread published last; v sorted by key. */
struct health_pub {
	bool used;
	int64_t updated;		/* Unix seconds, -1 = never */
	int64_t at_ms;			/* monotonic ms of the publication (rates) */
	enum health_kind kind;
	const char *const *drop_names;
	int ndrops;
	struct health_rx rx;
	uint64_t offered;
	struct health_exporter *v;
	size_t n;
};

struct health {
	pthread_mutex_t mu;
	_Atomic int refs;
	int nslots;
	struct health_pub slots[HEALTH_MAX_SLOTS];
	bool has_capture;
	struct health_capture cap;
	const char *const *cap_drop_names;
	int cap_ndrops;
	int64_t cap_updated, cap_at_ms;
};

struct health *health_new(void)
{
	struct health *h = xcalloc(1, sizeof(*h));

	pthread_mutex_init(&h->mu, NULL);
	atomic_init(&h->refs, 1);
	h->cap_updated = -1;
	return h;
}

void health_ref(struct health *h)
{
	atomic_fetch_add(&h->refs, 1);
}

bool health_unref(struct health *h)
{
	if (!h || atomic_fetch_sub(&h->refs, 1) != 1)
		return false;
	for (int i = 0; i < h->nslots; i++)
		free(h->slots[i].v);
	pthread_mutex_destroy(&h->mu);
	free(h);
	return true;
}

int health_slot(struct health *h)
{
	int s;

	pthread_mutex_lock(&h->mu);
	s = h->nslots < HEALTH_MAX_SLOTS ? h->nslots++ : HEALTH_MAX_SLOTS - 1;
	h->slots[s].used = true;
	h->slots[s].updated = -1;
	pthread_mutex_unlock(&h->mu);
	return s;
}

static double per_sec(uint64_t now, uint64_t before, int64_t dt_ms)
{
	return now >= before && dt_ms > 0 ? (double)(now - before) * 1000.0 / (double)dt_ms : 0.0;
}

/* Times and rates of the new list v[0..n) (sorted by key) from the slot's previous one. */
static void carry(const struct health_pub *prev, struct health_exporter *v, size_t n, int64_t now,
    int64_t ms)
{
	int64_t dt = ms - prev->at_ms;

	for (size_t i = 0; i < n; i++) {
		struct health_exporter *e = &v[i];
		const struct health_exporter *p = prev->v ?
		    bsearch(e, prev->v, prev->n, sizeof(*e), key_cmp_q) : NULL;
		if (!p) {
			e->first_seen = e->last_seen = now;
			e->pps = e->rps = e->bps = 0;
			continue;
		}
		e->first_seen = p->first_seen;
		e->last_seen = e->packets != p->packets || drops_sum(e) != drops_sum(p) ? now :
		    p->last_seen;
		e->pps = per_sec(e->packets, p->packets, dt);
		e->rps = per_sec(e->records, p->records, dt);
		e->bps = per_sec(e->bytes, p->bytes, dt);
	}
}

void health_publish(struct health *h, int slot, struct health_build *b, const struct health_rx *rx)
{
	struct health_pub *s = &h->slots[slot];
	int64_t now = (int64_t)time(NULL), ms = clock_mono_ms();
	struct health_exporter *old;

	if (b->n)
		qsort(b->v, b->n, sizeof(*b->v), key_cmp_q);
	/* the previous list is written by this thread only: read it without the lock */
	carry(s, b->v, b->n, now, ms);
	pthread_mutex_lock(&h->mu);
	old = s->v;
	s->v = b->v;
	s->n = b->n;
	s->offered = b->offered;
	s->kind = b->kind;
	s->drop_names = b->drop_names;
	s->ndrops = b->ndrops;
	s->rx = *rx;
	s->updated = now;
	s->at_ms = ms;
	pthread_mutex_unlock(&h->mu);
	free(old);
	b->v = NULL;
	b->n = 0;
}

void health_publish_capture(struct health *h, const struct health_capture *c,
    const char *const *drop_names, int ndrops)
{
	int64_t now = (int64_t)time(NULL), ms = clock_mono_ms();

	pthread_mutex_lock(&h->mu);
	uint64_t before = h->has_capture ? h->cap.received : 0;
	int64_t dt = h->has_capture ? ms - h->cap_at_ms : 0;
	h->cap = *c;
	h->cap.rx_pps = per_sec(c->received, before, dt);
	h->cap_drop_names = drop_names;
	h->cap_ndrops = ndrops < HEALTH_MAX_DROPS ? ndrops : HEALTH_MAX_DROPS;
	h->has_capture = true;
	h->cap_updated = now;
	h->cap_at_ms = ms;
	pthread_mutex_unlock(&h->mu);
}

static void add_into(struct health_exporter *to, const struct health_exporter *e)
{
	to->templates += e->templates;
	to->packets += e->packets;
	to->bytes += e->bytes;
	to->records += e->records;
	to->counter_samples += e->counter_samples;
	to->seq_good += e->seq_good;
	to->seq_fwd += e->seq_fwd;
	to->seq_bck += e->seq_bck;
	for (int i = 0; i < HEALTH_MAX_DROPS; i++)
		to->drops[i] += e->drops[i];
	if (e->first_seen < to->first_seen)
		to->first_seen = e->first_seen;
	if (e->last_seen > to->last_seen)
		to->last_seen = e->last_seen;
	to->pps += e->pps;
	to->rps += e->rps;
	to->bps += e->bps;
}

/*
 * One exporter may reach two receive threads (sending from several
 * ports): its entries are summed.  v[0..n) sorted by key; returns the new n.
 */
static size_t merge_same(struct health_exporter *v, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (o && key_cmp(&v[o - 1], &v[i]) == 0)
			add_into(&v[o - 1], &v[i]);
		else
			v[o++] = v[i];
	}
	return o;
}

void health_view_get(struct health *h, struct health_view *out)
{
	size_t total = 0, n = 0;
	bool cut = false;

	memset(out, 0, sizeof(*out));
	out->now = (int64_t)time(NULL);
	out->updated = -1;
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	for (int i = 0; i < h->nslots; i++)
		total += h->slots[i].n;
	out->v = xcalloc(total ? total : 1, sizeof(*out->v));
	for (int i = 0; i < h->nslots; i++) {
		const struct health_pub *s = &h->slots[i];
		if (s->updated < 0)
			continue;
		out->receivers++;
		out->kind = s->kind;
		out->drop_names = s->drop_names;
		out->ndrops = s->ndrops;
		out->rx.datagrams += s->rx.datagrams;
		out->rx.denied += s->rx.denied;
		out->rx.not_udp += s->rx.not_udp;
		out->exporters += s->offered;
		cut |= s->offered > s->n;
		if (s->updated > out->updated)
			out->updated = s->updated;
		if (s->n)
			memcpy(out->v + n, s->v, s->n * sizeof(*s->v));
		n += s->n;
	}
	if ((out->has_capture = h->has_capture)) {
		out->kind = HEALTH_CAPTURE;
		out->cap = h->cap;
		out->cap_drop_names = h->cap_drop_names;
		out->cap_ndrops = h->cap_ndrops;
		if (h->cap_updated > out->updated)
			out->updated = h->cap_updated;
	}
	pthread_mutex_unlock(&h->mu);
	if (n > 1) {
		qsort(out->v, n, sizeof(*out->v), key_cmp_q);
		n = merge_same(out->v, n);
		qsort(out->v, n, sizeof(*out->v), rank_cmp_q);
	}
	out->truncated = cut || n > HEALTH_MAX_LISTED;
	out->n = n < HEALTH_MAX_LISTED ? n : HEALTH_MAX_LISTED;
}

void health_view_fini(struct health_view *v)
{
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

bool health_silent(const struct health_view *v, const struct health_exporter *e)
{
	return v->now - e->last_seen > HEALTH_SILENT_SECS;
}
