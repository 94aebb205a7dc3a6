/* SPDX-License-Identifier: BSD-3-Clause */
/* nfprobe_cache.c: the nfprobe flow cache: unidirectional flows keyed as softflowd does, expired on its timeouts. */
#include "nfprobe.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL		/* before lib/hash.h's <xxhash.h>: the per-packet hash inlined */

#include "lib/hash.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "model/gauge.h"

#define NIL UINT32_MAX

/* The flow key, compared byte by byte: built from a zeroed struct (no stray padding). */
struct nfp_key {
	uint8_t src[16], dst[16];
	uint32_t in_if, out_if;
	uint16_t src_port, dst_port;
	uint8_t af, proto, tos, pad;
};

struct nfp_flow {
	struct nfp_key k;
	uint64_t bytes, packets;
	int64_t first_ms, last_ms;
	uint32_t src_as, dst_as;
	uint8_t src_mask, dst_mask, tcp_flags, dir;
	uint32_t hash;			/* of k */
	uint32_t free_next;		/* free list */
	uint32_t prev, next;		/* least recently seen first */
};

struct nfp_cache {
	struct nfp_timeouts t;
	nfp_export_fn fn;
	void *arg;
	struct nfp_flow *flows;		/* maxflows slots */
	/*
	 * Open addressing with linear probing: each slot holds a flow's hash
	 * and index, so a probe compares hashes without touching the flows.
	 */
	struct nfp_slot { uint32_t hash, idx; } *slots;
	uint32_t mask;			/* slots - 1 */
	uint32_t max, count;
	uint32_t free_head;		/* free flow entries chained through free_next */
	uint32_t head, tail;		/* recency list */
	int64_t now_ms;			/* latest packet time */
	int64_t next_scan_ms;		/* next expiry scan, 0 = after the first packet */
	uint64_t seed;
	uint64_t forced;		/* flows expired early: cache full */
	uint64_t bytes;			/* all the cache allocated */
	struct table_gauge *gauge;
	uint32_t published;		/* count on the gauge */
};

static void nfp_publish(struct nfp_cache *c)
{
	c->published = c->count;
	gauge_set(c->gauge, c->count, c->bytes);
}

/* Hash slots for maxflows flows: a power of two, at least twice as many. */
static uint32_t nfp_nslots(uint32_t maxflows)
{
	uint32_t nb = 16;

	while (nb < 2 * (uint64_t)maxflows && nb < (1u << 30))
		nb <<= 1;
	return nb;
}

uint64_t nfp_cache_bytes(uint32_t maxflows)
{
	return sizeof(struct nfp_cache) + (uint64_t)maxflows * sizeof(struct nfp_flow) +
	    (uint64_t)nfp_nslots(maxflows) * sizeof(struct nfp_slot);
}

void nfp_cache_set_gauge(struct nfp_cache *c, struct table_gauge *g)
{
	c->gauge = g;
	nfp_publish(c);
}

uint64_t nfp_cache_forced(const struct nfp_cache *c)
{
	return c->forced;
}

void nfp_timeouts_default(struct nfp_timeouts *t)
{
	*t = (struct nfp_timeouts){ .tcp = 3600, .tcp_rst = 120, .tcp_fin = 300, .udp = 300,
		.icmp = 300, .general = 3600, .maxlife = 604800, .expint = 60 };
}

int nfp_timeouts_parse(const char *text, struct nfp_timeouts *t, char *why, size_t whylen)
{
	static const struct { const char *name; size_t off; } names[] = {
		{ "tcp", offsetof(struct nfp_timeouts, tcp) },
		{ "tcp.rst", offsetof(struct nfp_timeouts, tcp_rst) },
		{ "tcp.fin", offsetof(struct nfp_timeouts, tcp_fin) },
		{ "udp", offsetof(struct nfp_timeouts, udp) },
		{ "icmp", offsetof(struct nfp_timeouts, icmp) },
		{ "general", offsetof(struct nfp_timeouts, general) },
		{ "maxlife", offsetof(struct nfp_timeouts, maxlife) },
		{ "expint", offsetof(struct nfp_timeouts, expint) },
	};
	char *copy = xstrdup(text), *save = NULL;
	int rc = 0;

	for (char *part = strtok_r(copy, ":", &save); part && rc == 0;
	    part = strtok_r(NULL, ":", &save)) {
		char *eq = strchr(part, '=');
		size_t i;
		if (!eq) {
			snprintf(why, whylen, "'%s' is not name=seconds", part);
			rc = -1;
			break;
		}
		*eq = '\0';
		for (i = 0; i < NELEM(names); i++)
			if (strcmp(names[i].name, part) == 0)
				break;
		char *e;
		unsigned long v = strtoul(eq + 1, &e, 10);
		if (i == NELEM(names)) {
			snprintf(why, whylen, "unknown timeout '%s' (tcp, tcp.rst, tcp.fin, udp, icmp, "
			    "general, maxlife, expint)", part);
			rc = -1;
		} else if (!eq[1] || *e || v == 0 || v > UINT32_MAX / 1000) {
			snprintf(why, whylen, "timeout '%s': '%s' is not a number of seconds", part, eq + 1);
			rc = -1;
		} else {
			*(uint32_t *)((char *)t + names[i].off) = (uint32_t)v;
		}
	}
	free(copy);
	return rc;
}

struct nfp_cache *nfp_cache_new(uint32_t maxflows, const struct nfp_timeouts *t,
    nfp_export_fn fn, void *arg)
{
	struct nfp_cache *c = xcalloc(1, sizeof(*c));
	uint32_t nb = nfp_nslots(maxflows);

	c->bytes = nfp_cache_bytes(maxflows);
	c->t = *t;
	c->fn = fn;
	c->arg = arg;
	c->max = maxflows;
	c->flows = xcalloc(maxflows, sizeof(*c->flows));
	c->slots = xmalloc((size_t)nb * sizeof(*c->slots));
	for (uint32_t i = 0; i < nb; i++)
		c->slots[i].idx = NIL;
	c->mask = nb - 1;
	for (uint32_t i = 0; i < maxflows; i++)
		c->flows[i].free_next = i + 1 < maxflows ? i + 1 : NIL;
	c->free_head = 0;
	c->head = c->tail = NIL;
	c->seed = hash_seed();
	return c;
}

void nfp_cache_free(struct nfp_cache *c)
{
	if (!c)
		return;
	free(c->flows);
	free(c->slots);
	free(c);
}

size_t nfp_cache_count(const struct nfp_cache *c)
{
	return c->count;
}

int64_t nfp_cache_now(const struct nfp_cache *c)
{
	return c->now_ms;
}

static uint32_t key_hash(const struct nfp_cache *c, const struct nfp_key *k)
{
	return (uint32_t)hash_bytes(k, sizeof(*k), c->seed);
}

static void lru_unlink(struct nfp_cache *c, uint32_t i)
{
	struct nfp_flow *f = &c->flows[i];

	if (f->prev != NIL)
		c->flows[f->prev].next = f->next;
	else
		c->head = f->next;
	if (f->next != NIL)
		c->flows[f->next].prev = f->prev;
	else
		c->tail = f->prev;
}

static void lru_append(struct nfp_cache *c, uint32_t i)
{
	struct nfp_flow *f = &c->flows[i];

	f->prev = c->tail;
	f->next = NIL;
	if (c->tail != NIL)
		c->flows[c->tail].next = i;
	else
		c->head = i;
	c->tail = i;
}

static void export_flow(struct nfp_cache *c, const struct nfp_flow *f)
{
	struct nfx_flow x;

	memset(&x, 0, sizeof(x));
	x.src.af = x.dst.af = f->k.af;
	memcpy(x.src.a, f->k.src, 16);
	memcpy(x.dst.a, f->k.dst, 16);
	x.src_port = f->k.src_port;
	x.dst_port = f->k.dst_port;
	x.proto = f->k.proto;
	x.tos = f->k.tos;
	x.tcp_flags = f->tcp_flags;
	x.direction = f->dir;
	x.src_mask = f->src_mask;
	x.dst_mask = f->dst_mask;
	x.in_if = f->k.in_if;
	x.out_if = f->k.out_if;
	x.src_as = f->src_as;
	x.dst_as = f->dst_as;
	x.bytes = f->bytes;
	x.packets = f->packets;
	x.first_ms = f->first_ms;
	x.last_ms = f->last_ms;
	c->fn(c->arg, &x, c->now_ms);
}

/* Empty slot `pos`, shifting later entries of its probe run back (no tombstones). */
static void slot_delete(struct nfp_cache *c, uint32_t pos)
{
	uint32_t j = pos;

	for (;;) {
		j = (j + 1) & c->mask;
		if (c->slots[j].idx == NIL)
			break;
		uint32_t home = c->slots[j].hash & c->mask;
		/* the entry at j may move to pos unless its home lies cyclically in (pos, j] */
		bool stays = pos <= j ? (home > pos && home <= j) : (home > pos || home <= j);
		if (!stays) {
			c->slots[pos] = c->slots[j];
			pos = j;
		}
	}
	c->slots[pos].idx = NIL;
}

/* Export flow i and give its entry back (the gauge is published by the caller). */
static void remove_flow(struct nfp_cache *c, uint32_t i)
{
	struct nfp_flow *f = &c->flows[i];
	uint32_t pos = f->hash & c->mask;

	export_flow(c, f);
	while (c->slots[pos].idx != i)
		pos = (pos + 1) & c->mask;
	slot_delete(c, pos);
	lru_unlink(c, i);
	f->free_next = c->free_head;
	c->free_head = i;
	c->count--;
}

/* The idle timeout of a flow, in seconds (softflowd's choice by protocol and TCP state). */
static uint32_t flow_timeout(const struct nfp_cache *c, const struct nfp_flow *f)
{
	switch (f->k.proto) {
	case 6:
		if (f->tcp_flags & 0x04)
			return c->t.tcp_rst;
		if (f->tcp_flags & 0x01)
			return c->t.tcp_fin;
		return c->t.tcp;
	case 17:
		return c->t.udp;
	case 1:
	case 58:
		return c->t.icmp;
	default:
		return c->t.general;
	}
}

static void expire_scan(struct nfp_cache *c)
{
	uint32_t i = c->head;

	while (i != NIL) {
		struct nfp_flow *f = &c->flows[i];
		uint32_t next = f->next;
		if (c->now_ms - f->last_ms >= (int64_t)flow_timeout(c, f) * 1000 ||
		    f->last_ms - f->first_ms >= (int64_t)c->t.maxlife * 1000)
			remove_flow(c, i);
		i = next;
	}
	c->next_scan_ms = c->now_ms + (int64_t)c->t.expint * 1000;
	nfp_publish(c);
}

void nfp_cache_clock(struct nfp_cache *c, int64_t now_ms)
{
	if (now_ms > c->now_ms)
		c->now_ms = now_ms;
	if (c->next_scan_ms && c->now_ms >= c->next_scan_ms)
		expire_scan(c);
}

void nfp_cache_add(struct nfp_cache *c, const struct flow_rec *rec, uint32_t in_if,
    uint32_t out_if, uint8_t dir)
{
	struct nfp_key k;
	int64_t t = rec->ts.sec * 1000 + rec->ts.usec / 1000;

	memset(&k, 0, sizeof(k));
	k.af = rec->k.src_ip.af;
	memcpy(k.src, rec->k.src_ip.a, 16);
	memcpy(k.dst, rec->k.dst_ip.a, 16);
	k.src_port = rec->k.src_port;
	k.dst_port = rec->k.dst_port;
	k.proto = rec->k.proto;
	k.tos = rec->k.tos;
	k.in_if = in_if;
	k.out_if = out_if;

	if (!c->next_scan_ms)
		c->next_scan_ms = t + (int64_t)c->t.expint * 1000;
	nfp_cache_clock(c, t);

	uint32_t hash = key_hash(c, &k), pos = hash & c->mask, i;
	while ((i = c->slots[pos].idx) != NIL) {
		if (c->slots[pos].hash == hash && memcmp(&c->flows[i].k, &k, sizeof(k)) == 0)
			break;
		pos = (pos + 1) & c->mask;
	}
	if (i == NIL) {
		if (c->count == c->max) {
			remove_flow(c, c->head);	/* full: the least recently seen goes */
			c->forced++;
			gauge_hit(c->gauge, 1);
			/* the removal may have shifted entries: find the free slot again */
			for (pos = hash & c->mask; c->slots[pos].idx != NIL; pos = (pos + 1) & c->mask)
				;
		}
		i = c->free_head;
		struct nfp_flow *f = &c->flows[i];
		c->free_head = f->free_next;
		memset(f, 0, sizeof(*f));
		f->k = k;
		f->hash = hash;
		f->first_ms = f->last_ms = t;
		c->slots[pos].hash = hash;
		c->slots[pos].idx = i;
		c->count++;
		if (c->count != c->published)	/* full: evicting and adding leaves it as it was */
			nfp_publish(c);
	} else {
		lru_unlink(c, i);
	}
	lru_append(c, i);

	struct nfp_flow *f = &c->flows[i];
	f->bytes += rec->bytes;
	f->packets += rec->packets;
	if (t < f->first_ms)
		f->first_ms = t;
	if (t > f->last_ms)
		f->last_ms = t;
	if (k.proto == 6)
		f->tcp_flags |= rec->tcp_flags;
	f->src_as = rec->k.src_as;
	f->dst_as = rec->k.dst_as;
	f->src_mask = rec->k.src_mask;
	f->dst_mask = rec->k.dst_mask;
	f->dir = dir;
}

void nfp_cache_flush_all(struct nfp_cache *c)
{
	while (c->head != NIL)
		remove_flow(c, c->head);
	nfp_publish(c);
}
