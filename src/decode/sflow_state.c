/* SPDX-License-Identifier: BSD-3-Clause */
/* sflow_state.c: per-agent sFlow state in two open-addressing tables (agents, data sources). */
#include "sflow_state.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/xalloc.h"
#include "model/gauge.h"

/* Key of both tables: agent, sub-agent, and for data sources the source id. */
struct sfs_key {
	struct fr_ip agent;
	uint32_t sub_agent;
	uint32_t ds_class;
	uint32_t ds_index;
};

struct sfs_ds {			/* one data source: last sample sequence and sample pool */
	struct sfs_key k;
	uint32_t seq, pool;
};

struct sfs_slot {
	bool used;
	union {
		struct sflow_agent_stats agent;
		struct sfs_ds ds;
	} u;
};

struct sfs_table {
	struct sfs_slot *slots;
	size_t cap, n;		/* cap is a power of two */
	uint64_t seed;		/* hash_seed(): agent ids are chosen by the sender */
	struct table_gauge *gauge;
};

struct sflow_state {
	struct sfs_table agents, sources;
	uint64_t refused;	/* datagrams or samples of agents / sources past SFLOW_STATE_MAX */
};

static uint64_t sfs_hash(const struct sfs_table *t, const struct sfs_key *k)
{
	return hash_bytes(k, sizeof(*k), t->seed);	/* keys are zeroed before they are filled */
}

static void sfs_key_make(struct sfs_key *k, const struct sflow_hdr *h, uint32_t cls, uint32_t idx)
{
	memset(k, 0, sizeof(*k));
	k->agent = h->agent;
	k->sub_agent = h->sub_agent;
	k->ds_class = cls;
	k->ds_index = idx;
}

static bool sfs_match(const struct sfs_slot *sl, const struct sfs_key *k, bool agents)
{
	if (agents)
		return memcmp(&sl->u.agent.agent, &k->agent, sizeof(k->agent)) == 0 &&
		    sl->u.agent.sub_agent == k->sub_agent;
	return memcmp(&sl->u.ds.k, k, sizeof(*k)) == 0;
}

static void sfs_grow(struct sfs_table *t, bool agents);

/* Find or add the slot of k; NULL when the table is full (SFLOW_STATE_MAX). */
static struct sfs_slot *sfs_get(struct sfs_table *t, const struct sfs_key *k, bool agents, bool *fresh)
{
	*fresh = false;
	if ((t->n + 1) * 2 > t->cap)
		sfs_grow(t, agents);
	size_t mask = t->cap - 1;
	for (size_t i = (size_t)sfs_hash(t, k) & mask;; i = (i + 1) & mask) {
		struct sfs_slot *sl = &t->slots[i];
		if (sl->used) {
			if (sfs_match(sl, k, agents))
				return sl;
			continue;
		}
		if (t->n >= SFLOW_STATE_MAX)
			return NULL;
		sl->used = true;
		memset(&sl->u, 0, sizeof(sl->u));
		if (agents) {
			sl->u.agent.agent = k->agent;
			sl->u.agent.sub_agent = k->sub_agent;
		} else {
			sl->u.ds.k = *k;
		}
		t->n++;
		*fresh = true;
		return sl;
	}
}

static void sfs_grow(struct sfs_table *t, bool agents)
{
	struct sfs_table nt;

	if (t->cap && t->n >= SFLOW_STATE_MAX)
		return;
	nt.cap = t->cap ? t->cap * 2 : 64;
	nt.n = 0;
	nt.seed = t->seed;
	nt.gauge = t->gauge;
	nt.slots = xcalloc(nt.cap, sizeof(*nt.slots));
	for (size_t i = 0; i < t->cap; i++) {
		struct sfs_slot *sl = &t->slots[i];
		struct sfs_key k;
		if (!sl->used)
			continue;
		if (agents) {
			memset(&k, 0, sizeof(k));
			k.agent = sl->u.agent.agent;
			k.sub_agent = sl->u.agent.sub_agent;
		} else {
			k = sl->u.ds.k;
		}
		size_t mask = nt.cap - 1;
		size_t j = (size_t)sfs_hash(&nt, &k) & mask;
		while (nt.slots[j].used)
			j = (j + 1) & mask;
		nt.slots[j] = *sl;
		nt.n++;
	}
	free(t->slots);
	*t = nt;
}

size_t sflow_state_slots_max(void)
{
	size_t cap = 64;

	while ((uint64_t)SFLOW_STATE_MAX * 2 > cap)
		cap *= 2;
	return cap;
}

void sflow_state_plan(uint64_t *entries, uint64_t *bytes)
{
	*entries = SFLOW_STATE_MAX;
	*bytes = sizeof(struct sfs_table) + (uint64_t)sflow_state_slots_max() * sizeof(struct sfs_slot);
}

static void sfs_publish(struct sfs_table *t)
{
	gauge_set(t->gauge, t->n, sizeof(*t) + (uint64_t)t->cap * sizeof(struct sfs_slot));
}

void sflow_state_set_gauges(struct sflow_state *s, struct table_gauge *g_agents,
    struct table_gauge *g_sources)
{
	s->agents.gauge = g_agents;
	s->sources.gauge = g_sources;
	sfs_publish(&s->agents);
	sfs_publish(&s->sources);
}

struct sflow_state *sflow_state_new(void)
{
	struct sflow_state *s = xcalloc(1, sizeof(*s));

	s->agents.seed = s->sources.seed = hash_seed();
	sfs_grow(&s->agents, true);
	sfs_grow(&s->sources, false);
	return s;
}

void sflow_state_free(struct sflow_state *s)
{
	if (!s)
		return;
	free(s->agents.slots);
	free(s->sources.slots);
	free(s);
}

void sflow_state_datagram(struct sflow_state *s, const struct sflow_hdr *h, size_t len)
{
	struct sfs_key k;
	bool fresh;

	sfs_key_make(&k, h, 0, 0);
	struct sfs_slot *sl = sfs_get(&s->agents, &k, true, &fresh);
	if (!sl) {
		s->refused++;
		gauge_hit(s->agents.gauge, 1);
		return;
	}
	if (fresh)
		sfs_publish(&s->agents);
	struct sflow_agent_stats *a = &sl->u.agent;
	a->packets++;
	a->bytes += len;
	if (fresh || h->seqno == a->last_seq + 1)
		a->seq_good++;
	else if (h->seqno > a->last_seq + 1)
		a->seq_jmp_fwd++;
	else
		a->seq_jmp_bck++;
	a->last_seq = h->seqno;
}

uint32_t sflow_state_eff_rate(struct sflow_state *s, const struct sflow_hdr *h,
    const struct sflow_flow *f)
{
	struct sfs_key k;
	bool fresh;
	uint32_t rate = f->rate ? f->rate : 1;

	sfs_key_make(&k, h, f->ds_class, f->ds_index);
	struct sfs_slot *sl = sfs_get(&s->sources, &k, false, &fresh);
	if (!sl) {
		s->refused++;
		gauge_hit(s->sources.gauge, 1);
		return rate;
	}
	if (fresh)
		sfs_publish(&s->sources);
	struct sfs_ds *ds = &sl->u.ds;
	if (fresh) {
		ds->seq = f->seqno;
		ds->pool = f->pool;
		return rate;
	}
	if (f->seqno > ds->seq && f->pool > ds->pool) {
		uint32_t eff = (f->pool - ds->pool) / (f->seqno - ds->seq);
		ds->seq = f->seqno;
		ds->pool = f->pool;
		return eff;
	}
	uint32_t hi = f->seqno > ds->seq ? f->seqno : ds->seq;
	uint32_t lo = f->seqno > ds->seq ? ds->seq : f->seqno;
	if (hi > (uint64_t)lo + SFLOW_RESET_BOUNDARY) {
		ds->seq = f->seqno;
		ds->pool = f->pool;
	}
	return rate;
}

void sflow_state_renormalize(struct sflow_state *s, const struct sflow_hdr *h,
    const struct sflow_flow *f, struct flow_rec *rec)
{
	uint32_t eff = sflow_state_eff_rate(s, h, f);

	rec->bytes *= eff;
	rec->packets *= eff;
	rec->k.sampling_rate = 1;
}

void sflow_state_foreach(const struct sflow_state *s,
    void (*fn)(void *arg, const struct sflow_agent_stats *a), void *arg)
{
	for (size_t i = 0; i < s->agents.cap; i++)
		if (s->agents.slots[i].used)
			fn(arg, &s->agents.slots[i].u.agent);
}

uint64_t sflow_state_refused(const struct sflow_state *s)
{
	return s->refused;
}
