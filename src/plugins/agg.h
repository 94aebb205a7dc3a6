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
 * A table aggregating on the primitives in `set`, laid out as registry reg
 * says (its custom slots; reg is read here only).  `buckets` is the initial
 * number of hash buckets (rounded up to a power of two; the table grows).
 */
struct agg_table *agg_new(const struct prim_registry *reg, const struct prim_set *set, size_t buckets);
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

/*
 * The key of e into out, whose bytes outside the table's span are zero
 * already (a key zeroed once, or filled by agg_entry_key() of the same
 * table, and not written since): a loop over entries pays only the span.
 */
void agg_entry_span(const struct agg_table *t, const struct agg_entry *e, struct flow_key *out);

/* Entries in insertion order: call with NULL first, NULL at the end. */
struct agg_entry *agg_next(const struct agg_table *t, const struct agg_entry *prev);

size_t agg_count(const struct agg_table *t);

/* How keys spread: the table's buckets, those holding an entry, and the longest chain (tests). */
void agg_chains(const struct agg_table *t, size_t *buckets, size_t *used, size_t *longest);

/* Remove every entry (keeps the memory for reuse). */
void agg_clear(struct agg_table *t);

/* Bytes of memory the table holds. */
size_t agg_memory(const struct agg_table *t);

/*
 * Lookups without insertion, deletions, and a bound on the number of entries.
 * Entries deleted with agg_delete() are skipped by agg_next()/agg_at() and
 * their slots are reused by later inserts.
 */

/* Find an already masked key without inserting; NULL if absent. */
struct agg_entry *agg_find(const struct agg_table *t, const struct flow_key *masked, int64_t bin);

/* Remove entry e (from agg_upsert/agg_find/agg_next/agg_at) from the table. */
void agg_delete(struct agg_table *t, struct agg_entry *e);

/*
 * Bound the table to max_entries live entries (0 = unbounded, the default).
 * When full, agg_upsert() of a new key returns NULL and counts a drop;
 * agg_account() then skips the record.  Existing keys still update.
 */
void agg_set_limit(struct agg_table *t, size_t max_entries);

/* New keys refused because the table was full, since agg_new(). */
uint64_t agg_dropped(const struct agg_table *t);

/*
 * Positional cursor: the first live entry at position >= *pos (start at
 * 0), with *pos advanced past it; NULL at the end.  A position stays valid
 * across inserts and deletes (new entries may or may not be visited, none
 * twice), but not across agg_clear(): compare agg_generation() first.
 */
struct agg_entry *agg_at(const struct agg_table *t, size_t *pos);

/* Incremented by every agg_clear(). */
uint64_t agg_generation(const struct agg_table *t);

/* Hash buckets right now, and the length of one bucket's chain (table status, pmacct -t). */
size_t agg_buckets(const struct agg_table *t);
size_t agg_chain_len(const struct agg_table *t, size_t bucket);

/*
 * A table whose entries carry `ext` more bytes after the key, for a plugin's
 * own per-aggregate data (stitching's timestamp_min/max); agg_new() is
 * agg_new_ext(.., 0), so tables without it pay nothing.  The region of a
 * new entry is not initialised: agg_upsert() raising agg_count() says new.
 */
struct agg_table *agg_new_ext(const struct prim_registry *reg, const struct prim_set *set,
    size_t buckets, size_t ext);

/* The trailing region of an entry of a table made by agg_new_ext() (8-byte aligned). */
void *agg_entry_ext(const struct agg_table *t, const struct agg_entry *e);

/* Bytes one entry takes in this table (for memory bounds). */
size_t agg_entry_size(const struct agg_table *t);

/*
 * Ceilings (plugins/binned.h): cheap and exact questions about room.
 *
 * agg_count_upper: the entries the table would hold if every record still
 * waiting in agg_account()'s look-ahead made new ones; at least
 * agg_count(), without applying them (so it costs nothing per record).
 */
size_t agg_count_upper(const struct agg_table *t);

/*
 * How many entries accounting rec under `bin` would add: 0, 1, or 2 with a
 * sum_* primitive (its src and dst halves).  Applies the look-ahead.
 */
size_t agg_new_keys(const struct agg_table *t, const struct flow_rec *rec, int64_t bin);

/*
 * The bytes this table holds once it has held `entries` entries: buckets
 * at the load factor it keeps, entry chunks, look-ahead (agg_clear() keeps
 * them all for reuse, so this is also what it keeps after a purge).
 */
size_t agg_memory_at(const struct agg_table *t, size_t entries);

#endif
