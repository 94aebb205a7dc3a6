/* SPDX-License-Identifier: BSD-3-Clause */
/* binned.c: the accounting path of the binned plugins (print, SQL, Kafka, AMQP), written once. */
#include "plugins/binned.h"

#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "plugins/plugin.h"
#include "plugins/prorate.h"

int binned_check(const struct plugin *p)
{
	if (!stitch_wanted(p) || !prorate_wanted(p))
		return 0;
	log_err(p->who, "Pro-rating (ie. nfacctd_pro_rating) and stitching (ie. nfacctd_stitching) "
	    "are mutual exclusive. Exiting.");
	return -1;
}

void binned_init(struct binned *b, const struct plugin *p, size_t buckets)
{
	const struct plugin_cfg *pc = p->cfg;
	time_t now = time(NULL);

	memset(b, 0, sizeof(*b));
	b->stitching = stitch_wanted(p);
	b->pro_rating = prorate_wanted(p);
	b->history = pc->history.n != 0;
	b->table = binned_table_new(b, p, buckets);
	timebin_init(&b->bins, &pc->history, pc->history_roundoff, pc->history_offset,
	    p->core->timestamps_utc);
	if (b->history)
		timebin_anchor(&b->bins, now);	/* pmacct phases bins on its start time */
	b->deadline = (time_t)timefmt_deadline_first(now, pc->refresh_time, pc->history_roundoff,
	    pc->startup_delay, p->core->timestamps_utc);
}

struct agg_table *binned_table_new(struct binned *b, const struct plugin *p, size_t buckets)
{
	return stitch_table_new(b->stitching ? &b->stitch : NULL, p->cfg->prims, &p->cfg->aggregate,
	    buckets);
}

static void account_part(void *table, int64_t bin, const struct flow_rec *part)
{
	agg_account(table, part, bin);
}

void binned_account(struct binned *b, const struct flow_rec *rec)
{
	if (b->pro_rating) {
		prorate_each(&b->bins, rec, account_part, b->table);
		return;
	}
	int64_t bin = b->history ? timebin_of(&b->bins, rec->ts.sec) : 0;
	if (b->stitching)
		stitch_account(&b->stitch, b->table, rec, bin);
	else
		agg_account(b->table, rec, bin);
}

void binned_out_init(const struct binned *b, const struct plugin *p, struct out_cols *cols,
    struct out_opts *opts)
{
	out_cols_init(cols, p->cfg->prims, &p->cfg->aggregate, false, false);
	cols->stitch = b->stitching;
	out_opts_from_cfg(opts, p->cfg, p->core);
}

void binned_row(const struct binned *b, FILE *f, const struct out_cols *cols,
    const struct out_opts *opts, const struct agg_entry *e, const struct flow_key *k, time_t now)
{
	struct out_counters c = { e->packets, e->bytes, e->flows, e->tcp_flags, e->bin, now };

	if (b->stitching)
		out_row_stitch(f, cols, opts, k, &c, &stitch_of(b->table, e)->min,
		    &stitch_of(b->table, e)->max);
	else
		out_row(f, cols, opts, k, &c);
}

int binned_next_tick_ms(const struct binned *b)
{
	time_t now = time(NULL);

	return now >= b->deadline ? 0 : (int)(b->deadline - now) * 1000;
}

void binned_deadline_next(struct binned *b, uint32_t refresh)
{
	b->deadline = (time_t)timefmt_deadline_next(b->deadline, time(NULL), refresh);
}

void binned_fini(struct binned *b)
{
	agg_free(b->table);
	b->table = NULL;
}
