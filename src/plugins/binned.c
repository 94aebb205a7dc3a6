/* SPDX-License-Identifier: BSD-3-Clause */
/* binned.c: the accounting path of the binned plugins (print, SQL, Kafka, AMQP), written once. */
#include "plugins/binned.h"

#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "model/gauge.h"
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
	b->who = p->who;
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

size_t binned_print_ceiling(uint32_t cache_entries)
{
	return (size_t)(cache_entries ? cache_entries : 16411) * 11 - 1;
}

size_t binned_sql_ceiling(uint32_t cache_entries, uint32_t refresh_time)
{
	return (size_t)(cache_entries ? cache_entries : 32771) +
	    (size_t)(refresh_time ? refresh_time : 60) * 100;
}

size_t binned_bytes_at(const struct plugin *p, size_t buckets, size_t entries)
{
	struct stitch st;
	struct agg_table *t = stitch_table_new(stitch_wanted(p) ? &st : NULL, p->cfg->prims,
	    &p->cfg->aggregate, buckets);
	size_t n = agg_memory_at(t, entries);

	agg_free(t);
	return n;
}

void binned_set_ceiling(struct binned *b, size_t ceiling, const char *key,
    void (*early_purge)(void *arg), void *arg, struct table_gauge *gauge)
{
	b->ceiling = b->room_at = ceiling;
	b->ceiling_key = key;
	b->early_purge = early_purge;
	b->early_arg = arg;
	b->gauge = gauge;
}

void binned_publish(struct binned *b)
{
	b->since_publish = 0;	/* make_room_slow() counts the current span from here */
	gauge_set(b->gauge, agg_count(b->table), agg_memory(b->table));
}

#define BINNED_PUBLISH_EVERY 4096	/* records between two publications of the fill */

/*
 * The look make_room() takes every `countdown` records: publish the fill
 * now and then, purge early when rec would take the table past its
 * ceiling, and count down to the next look.  Each call adds at most two
 * entries (a sum_* pair), so the next look is due when half the room
 * left is used; the exact question (does the key exist?) is asked only
 * at the ceiling.
 */
static void make_room_slow(struct binned *b, const struct flow_rec *rec, int64_t bin)
{
	size_t need, have, upper, slack;

	b->since_publish += b->span + 1;
	if (b->since_publish >= BINNED_PUBLISH_EVERY)
		binned_publish(b);
	if (!b->room_at) {
		b->countdown = b->span = BINNED_PUBLISH_EVERY;
		return;
	}
	upper = agg_count_upper(b->table);
	if (upper + 2 > b->room_at) {
		if (b->room_at > b->ceiling && agg_count(b->table) < b->ceiling)
			b->room_at = b->ceiling;	/* a later purge got through */
		need = agg_new_keys(b->table, rec, bin);
		if (need && agg_count(b->table) + need > b->room_at) {
			binned_publish(b);	/* the peak: the table at its ceiling */
			b->early_purges++;
			gauge_hit(b->gauge, 0);
			log_info(b->who, "Finished cache entries (ie. %s). Purging.", b->ceiling_key);
			b->early_purge(b->early_arg);
			have = agg_count(b->table);
			if (have + need > b->ceiling) {
				b->room_at = have + b->ceiling;
				log_err(b->who, "cache full and its purge did not get through: %zu entries "
				    "kept, growing past %s to %zu entries before the next try", have,
				    b->ceiling_key, b->room_at);
			} else {
				b->room_at = b->ceiling;
			}
			binned_publish(b);
		}
		upper = agg_count_upper(b->table);
	}
	slack = b->room_at > upper + 2 ? (b->room_at - upper - 2) / 2 : 0;
	b->countdown = b->span = (uint32_t)(slack < BINNED_PUBLISH_EVERY ? slack : BINNED_PUBLISH_EVERY);
}

/* Before accounting rec under bin: a decrement per record, the rest every so often. */
static inline void make_room(struct binned *b, const struct flow_rec *rec, int64_t bin)
{
	if (b->countdown) {
		b->countdown--;
		return;
	}
	make_room_slow(b, rec, bin);
}

static void account_part(void *arg, int64_t bin, const struct flow_rec *part)
{
	struct binned *b = arg;

	make_room(b, part, bin);
	agg_account(b->table, part, bin);
}

void binned_account(struct binned *b, const struct flow_rec *rec)
{
	if (b->pro_rating) {
		prorate_each(&b->bins, rec, account_part, b);
		return;
	}
	int64_t bin = b->history ? timebin_of(&b->bins, rec->ts.sec) : 0;
	make_room(b, rec, bin);
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
