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
