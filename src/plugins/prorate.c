/* SPDX-License-Identifier: BSD-3-Clause */
/* prorate.c: nfacctd_pro_rating: a flow's counters split across the time-bins it spans. */
#include "prorate.h"

#include "config/config.h"
#include "plugins/plugin.h"

bool prorate_wanted(const struct plugin *p)
{
	return p->core->nf_pro_rating && !p->core->nf_time_new && p->cfg->history.n &&
	    p->core->daemon == CFG_NFACCTD && p->type->binned;
}

void prorate_inputs(struct prim_set *extra)
{
	prim_add(extra, P_TS_START);
	prim_add(extra, P_TS_END);
}

uint64_t prorate_share(uint64_t counter, int64_t interval, int64_t delta)
{
	/* volatile: single precision at every step, whatever the compiler's evaluation method */
	volatile float c = (float)counter, i = (float)interval, d = (float)delta;
	volatile float prod = c * i;
	volatile float share = prod / d;
	uint64_t v = share >= 18446744073709551615.0f ? UINT64_MAX : (uint64_t)share;

	return (!v && counter) ? 1 : v;
}

int prorate_each(struct timebin *tb, const struct flow_rec *rec,
    void (*fn)(void *arg, int64_t bin, const struct flow_rec *part), void *arg)
{
	int64_t start = rec->k.ts_start.sec, end = rec->k.ts_end.sec;
	int64_t b = timebin_of(tb, start ? start : rec->ts.sec);
	int n = 0;

	if (!start || end <= start || end <= timebin_next(tb, b)) {
		/* nothing to split: one bin, as without pro-rating */
		fn(arg, timebin_of(tb, rec->ts.sec), rec);
		return 1;
	}
	struct flow_rec part = *rec;
	for (; b < end; b = timebin_next(tb, b)) {
		int64_t nb = timebin_next(tb, b);
		int64_t lo = start > b ? start : b, hi = end < nb ? end : nb;
		if (hi <= lo)
			continue;
		part.bytes = prorate_share(rec->bytes, hi - lo, end - start);
		part.packets = prorate_share(rec->packets, hi - lo, end - start);
		fn(arg, b, &part);
		n++;
	}
	return n;
}
