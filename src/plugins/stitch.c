/* SPDX-License-Identifier: BSD-3-Clause */
/* stitch.c: [nf|sf|pm]acctd_stitching: timestamp_min / timestamp_max of each aggregate. */
#include "stitch.h"

#include <string.h>

#include "config/config.h"
#include "plugins/plugin.h"

bool stitch_wanted(const struct plugin *p)
{
	return p->core->stitching && p->type->binned;
}

void stitch_inputs(struct prim_set *extra)
{
	prim_add(extra, P_TS_START);
	prim_add(extra, P_TS_END);
	prim_add(extra, P_TS_ARRIVAL);
}

struct agg_table *stitch_table_new(struct stitch *s, const struct prim_registry *reg,
    const struct prim_set *set, size_t buckets)
{
	if (!s)
		return agg_new(reg, set, buckets);
	prim_key_mask(reg, set, &s->mask);
	s->sum_id = -1;
	for (int i = 0; i < P_COUNT; i++)
		if (prim_has(set, (enum prim_id)i) && (prim_desc_of(reg, i)->flags & PRIM_SUM))
			s->sum_id = i;
	return agg_new_ext(reg, set, buckets, sizeof(struct stitch_ts));
}

void stitch_times(const struct flow_rec *rec, struct fr_ts *first, struct fr_ts *last)
{
	const struct fr_ts *fallback = rec->k.ts_arrival.sec ? &rec->k.ts_arrival : &rec->ts;

	*first = rec->k.ts_start.sec ? rec->k.ts_start : *fallback;
	*last = rec->k.ts_end.sec ? rec->k.ts_end : *fallback;
}

/* Find-or-insert the masked key k, add the record's counters, widen the times. */
static void account_one(struct agg_table *t, const struct flow_key *k, const struct flow_rec *rec,
    int64_t bin, const struct fr_ts *first, const struct fr_ts *last)
{
	size_t before = agg_count(t);
	struct agg_entry *e = agg_upsert(t, k, bin);

	if (!e)
		return;		/* refused by the table's limit, counted there */
	struct stitch_ts *st = agg_entry_ext(t, e);
	if (agg_count(t) != before) {
		st->min = *first;
		st->max = *last;
	} else {
		if (fr_ts_before(first, &st->min))
			st->min = *first;
		if (fr_ts_before(&st->max, last))
			st->max = *last;
	}
	e->packets += rec->packets;
	e->bytes += rec->bytes;
	e->flows += rec->flows;
	e->tcp_flags |= rec->tcp_flags;
}

void stitch_account(const struct stitch *s, struct agg_table *t, const struct flow_rec *rec,
    int64_t bin)
{
	const uint8_t *m = (const uint8_t *)&s->mask;
	const uint8_t *in = (const uint8_t *)&rec->k;
	struct flow_key k;
	uint8_t *out = (uint8_t *)&k;
	struct fr_ts first, last;

	stitch_times(rec, &first, &last);
	for (size_t i = 0; i < sizeof(k); i++)
		out[i] = in[i] & m[i];
	account_one(t, &k, rec, bin, &first, &last);
	if (s->sum_id >= 0) {
		/* as agg_account(): the same record again, its dst field in the src column */
		size_t off, len;
		prim_sum_dst(s->sum_id, &off, &len);
		size_t at = prim_desc_of(NULL, s->sum_id)->off;	/* sum_* rows are built in */
		memcpy(out + at, in + off, len);
		for (size_t i = at; i < at + len; i++)
			out[i] &= m[i];
		account_one(t, &k, rec, bin, &first, &last);
	}
}
