/* SPDX-License-Identifier: BSD-3-Clause */
/* binned.h: the accounting path of the binned plugins (print, SQL, Kafka, AMQP): time-bins, pro-rating or stitching, purge deadlines. */
#ifndef PLUGINS_BINNED_H
#define PLUGINS_BINNED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "lib/timefmt.h"
#include "model/flow_rec.h"
#include "plugins/agg.h"
#include "plugins/output.h"
#include "plugins/stitch.h"

struct plugin;

/*
 * A binned plugin's cache and how records reach it: each record goes to
 * its time-bin (*_history), split across bins (nfacctd_pro_rating) or
 * widening its aggregate's timestamp_min/max ([nf|sf|pm]acctd_stitching).
 * `deadline` is the next purge, wall clock.  Filled by binned_init(),
 * caller's storage.
 */
struct binned {
	struct agg_table *table;	/* where records are accounted; owned */
	struct timebin bins;		/* *_history */
	struct stitch stitch;		/* [nf|sf|pm]acctd_stitching */
	bool stitching;
	bool pro_rating;		/* nfacctd_pro_rating (with *_history) */
	bool history;			/* *_history set: records go to their time-bin */
	time_t deadline;		/* next purge */

	/* the ceiling (binned_set_ceiling): 0 = none */
	const char *who;		/* the plugin's "name/type", for the log */
	size_t ceiling;			/* entries at most */
	size_t room_at;			/* purge before passing this: the ceiling, or more after a failed purge */
	const char *ceiling_key;	/* "print_cache_entries": named in the early-purge line */
	void (*early_purge)(void *arg);	/* must leave b->table with room, or keep its entries */
	void *early_arg;
	uint64_t early_purges;
	struct table_gauge *gauge;	/* the cache's gauge (NULL: unreported) */
	uint32_t countdown;		/* records before the next look at the room left */
	uint32_t span;			/* what countdown was set to */
	uint32_t since_publish;		/* records since the gauge was last set */
};

/*
 * The start-up refusal shared by the binned plugins: pro-rating and
 * stitching together.  0, or -1 after logging pmacct's message.
 */
int binned_check(const struct plugin *p);

/*
 * Set up b for plugin p: stitching and pro-rating as p's config asks, a
 * table of `buckets` initial buckets (with stitching's per-entry times
 * when stitching), the time-bins anchored at start time, and the first
 * purge deadline.  Checks nothing (binned_check()).
 */
void binned_init(struct binned *b, const struct plugin *p, size_t buckets);

/*
 * Another table for b's primitives, with stitching's per-entry times when
 * b stitches (a table the plugin swaps with b->table).  Owned by the caller.
 */
struct agg_table *binned_table_new(struct binned *b, const struct plugin *p, size_t buckets);

/*
 * pmacct's ceilings on the binned caches, in entries: 11 x print_cache_entries
 * - 1 for print, Kafka and AMQP (its cache of N buckets with ten chained
 * entries per bucket); sql_cache_entries + sql_refresh_time x 100 for SQL
 * (its queue of pending queries).  0 as N: pmacct's default.
 */
size_t binned_print_ceiling(uint32_t cache_entries);

/* The print, Kafka and AMQP caches' initial buckets: print_cache_entries, default 16411. */
#define PRINT_BUCKETS(p) ((size_t)((p)->cfg->cache_entries ? (p)->cfg->cache_entries : 16411))
size_t binned_sql_ceiling(uint32_t cache_entries, uint32_t refresh_time);

/*
 * The bytes a table of p's primitives (with stitching's extra when p
 * stitches) made with `buckets` initial buckets holds at `entries`
 * entries: what bounds() registers.
 */
size_t binned_bytes_at(const struct plugin *p, size_t buckets, size_t entries);

/*
 * Bound b->table to `ceiling` entries, as pmacct: when a record would add
 * an entry to a full table, log "Finished cache entries (ie. <key>).
 * Purging." and call early_purge(arg), which writes what the table holds
 * and leaves it empty (the record is then accounted in the emptied table),
 * or hands it to a writer and puts an empty one in b->table (it is called
 * between records, never while b->table is in use).  A purge that cannot
 * write keeps its entries: the table then grows by another ceiling before
 * the next try, logged.  `gauge` (may be NULL) gets the table's fill.
 */
void binned_set_ceiling(struct binned *b, size_t ceiling, const char *key,
    void (*early_purge)(void *arg), void *arg, struct table_gauge *gauge);

/* Publish b->table's fill to its gauge now (before a purge: the peak is there). */
void binned_publish(struct binned *b);

/* Account one record in b->table: pro-rated, else in its time-bin, stitched or not. */
void binned_account(struct binned *b, const struct flow_rec *rec);

/*
 * The columns and options of a plugin writing b's entries as text (print,
 * Kafka, AMQP): its aggregate, stitching's columns when b stitches.
 */
void binned_out_init(const struct binned *b, const struct plugin *p, struct out_cols *cols,
    struct out_opts *opts);

/*
 * Write entry e of b->table (key k, its full key) as one row to f, with
 * stitching's timestamp_min/max when b stitches; `now` is stamp_updated.
 */
void binned_row(const struct binned *b, FILE *f, const struct out_cols *cols,
    const struct out_opts *opts, const struct agg_entry *e, const struct flow_key *k, time_t now);

/* Milliseconds until the purge deadline, 0 when it has passed (a plugin's next_tick_ms). */
int binned_next_tick_ms(const struct binned *b);

/* Move the deadline to the next one after now, every `refresh` seconds from the first. */
void binned_deadline_next(struct binned *b, uint32_t refresh);

/* Free b's table (NULL: nothing set up). */
void binned_fini(struct binned *b);

#endif
