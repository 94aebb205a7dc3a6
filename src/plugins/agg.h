/* SPDX-License-Identifier: BSD-3-Clause */
/* agg.h: the aggregation table: mask, hash, find-or-insert, add counters. Written once, used by every plugin. */
#ifndef PLUGINS_AGG_H
#define PLUGINS_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"
#include "model/prim.h"

/*
 * An entry: the counters of one aggregate.  The key bytes (the span of
 * struct flow_key the plugin's primitives cover) follow the header.
 */
struct agg_entry {
	struct agg_entry *next;	/* hash chain */
	uint64_t hash;
	int64_t bin;		/* time-bin base (print_history / sql_history), 0 if none */
	uint64_t packets, bytes, flows;
	uint8_t tcp_flags;
	bool live;		/* false once deleted (memory plugin -r/-e) */
	uint8_t key[];
};

struct agg_table;

/*
 * A table aggregating on the primitives in `set`.  `buckets` is the initial
 * number of hash buckets (rounded up to a power of two; the table grows).
 */
struct agg_table *agg_new(const struct prim_set *set, size_t buckets);
void agg_free(struct agg_table *t);

/*
 * Account one record: mask its key to the table's primitives, expanding
 * sum_* primitives into a src and a dst entry, then find-or-insert under
 * time-bin `bin` and add the record's counters.
 */
void agg_account(struct agg_table *t, const struct flow_rec *rec, int64_t bin);

/* Find-or-insert an already masked key (used by agg_account and tests). */
struct agg_entry *agg_upsert(struct agg_table *t, const struct flow_key *masked, int64_t bin);

/* The full key of an entry (fields outside the table's primitives are zero). */
void agg_entry_key(const struct agg_table *t, const struct agg_entry *e, struct flow_key *out);

/* Entries in insertion order: call with NULL first, NULL at the end. */
struct agg_entry *agg_next(const struct agg_table *t, const struct agg_entry *prev);

size_t agg_count(const struct agg_table *t);

/* Remove every entry (keeps the memory for reuse). */
void agg_clear(struct agg_table *t);

/* Bytes of memory the table holds. */
size_t agg_memory(const struct agg_table *t);

#endif
