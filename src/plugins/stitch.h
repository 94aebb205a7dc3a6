/* SPDX-License-Identifier: BSD-3-Clause */
/* stitch.h: [nf|sf|pm]acctd_stitching: timestamp_min / timestamp_max of each aggregate. */
#ifndef PLUGINS_STITCH_H
#define PLUGINS_STITCH_H

#include <stdbool.h>

#include "model/flow_rec.h"
#include "model/prim.h"
#include "plugins/agg.h"

struct plugin;

/* The per-aggregate region of a stitching table (agg_entry_ext). */
struct stitch_ts {
	struct fr_ts min;	/* the earliest start of the records accounted */
	struct fr_ts max;	/* the latest end */
};

/* What stitch_account() needs besides the table: the mask of its primitives. */
struct stitch {
	struct flow_key mask;
	int sum_id;		/* the sum_* primitive of the set, or -1 */
};

/* Whether plugin p keeps timestamp_min/max: the key is set and p is print, SQL, Kafka or AMQP. */
bool stitch_wanted(const struct plugin *p);

/* The key fields stitch_times() reads: the plugin receives them without aggregating on them. */
void stitch_inputs(struct prim_set *extra);

/*
 * A table for `set` of registry reg (agg_new) that, when `s` is not NULL,
 * carries a struct stitch_ts per entry, and `s` set up for stitch_account().
 */
struct agg_table *stitch_table_new(struct stitch *s, const struct prim_registry *reg,
    const struct prim_set *set, size_t buckets);

/*
 * A record's first and last time: the flow's start and end as exported
 * (NetFlow/IPFIX), else its arrival (sFlow, packets, or a flow record
 * without that time), else the observation time.
 */
void stitch_times(const struct flow_rec *rec, struct fr_ts *first, struct fr_ts *last);

/* agg_account() that also widens the aggregate's [min, max] to the record's times. */
void stitch_account(const struct stitch *s, struct agg_table *t, const struct flow_rec *rec,
    int64_t bin);

/* An entry's times (tables from stitch_table_new() with stitching). */
static inline const struct stitch_ts *stitch_of(const struct agg_table *t,
    const struct agg_entry *e)
{
	return (const struct stitch_ts *)agg_entry_ext(t, e);
}

/* a < b */
static inline bool fr_ts_before(const struct fr_ts *a, const struct fr_ts *b)
{
	return a->sec < b->sec || (a->sec == b->sec && a->usec < b->usec);
}

#endif
