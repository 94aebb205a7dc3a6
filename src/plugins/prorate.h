/* SPDX-License-Identifier: BSD-3-Clause */
/* prorate.h: nfacctd_pro_rating: a flow's counters split across the time-bins it spans. */
#ifndef PLUGINS_PRORATE_H
#define PLUGINS_PRORATE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/timefmt.h"
#include "model/flow_rec.h"
#include "model/prim.h"
#include "plugins/agg.h"

struct plugin;

/*
 * Whether plugin p pro-rates: nfacctd_pro_rating set, nfacctd_time_new not,
 * p has print_history / sql_history, and p is print, SQL, Kafka or AMQP.
 */
bool prorate_wanted(const struct plugin *p);

/* The key fields prorate_each() reads (the flow's start and end). */
void prorate_inputs(struct prim_set *extra);

/*
 * A counter's share for `interval` seconds of a flow lasting `delta`: as
 * pmacct 1.7.7 (verified), computed in single precision and truncated, and
 * at least 1 when the counter is not 0 (the truncated remainders are lost).
 */
uint64_t prorate_share(uint64_t counter, int64_t interval, int64_t delta);

/*
 * Call fn(arg, bin, part) for each time-bin the record's [start, end)
 * (whole seconds) overlaps, `part` carrying that bin's share of bytes and
 * packets (flows are not split).  A record without both times, or within
 * one bin, is passed once, whole, under the bin of its time.  Returns the
 * number of calls.
 */
int prorate_each(struct timebin *tb, const struct flow_rec *rec,
    void (*fn)(void *arg, int64_t bin, const struct flow_rec *part), void *arg);

#endif
