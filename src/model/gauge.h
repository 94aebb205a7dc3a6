/* SPDX-License-Identifier: BSD-3-Clause */
/* gauge.h: the ceiling and the fill of every table that grows with traffic, for SIGUSR1, /metrics and -T config. */
#ifndef MODEL_GAUGE_H
#define MODEL_GAUGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GAUGE_MAX 128		/* tables per daemon: plugins x (cache) + the core's */

/* What a table does when it reaches its ceiling. */
enum gauge_policy {
	GAUGE_PURGE,		/* writes what it holds at once and starts empty (print, SQL, brokers) */
	GAUGE_REFUSE,		/* refuses new keys, counted (memory, http); existing keys still update */
	GAUGE_EXPIRE,		/* expires its oldest entries early, exporting them (nfprobe, flows) */
	GAUGE_EVICT,		/* forgets its oldest entries, counted (fragments, exporter state) */
	GAUGE_FIXED,		/* allocated whole at start-up: cannot grow (rings, pools) */
	GAUGE_SPILL,		/* goes on in a spool file on disk (SQL and broker backlogs) */
};

/*
 * One table.  The owner registers it once (gauges_add) with its ceiling,
 * then publishes its fill with gauge_set() from its own thread; readers
 * (SIGUSR1 on the core thread, /metrics on the http plugin's) load the
 * atomics.  `max_bytes` is what the table may hold at its ceiling, all
 * of its memory included (buckets, keys, per-entry extras).
 */
struct table_gauge {
	char owner[64];			/* "p/print", "default/core" */
	char table[24];			/* "cache", "fragments", "flows", "nfprobe", "exporters" */
	const char *key;		/* the config key that sets the ceiling ("print_cache_entries") */
	enum gauge_policy policy;
	_Atomic uint64_t entries, bytes;	/* now */
	_Atomic uint64_t peak_entries;		/* highest `entries` published */
	_Atomic uint64_t max_entries, max_bytes;	/* the ceiling; 0 = none */
	_Atomic uint64_t at_ceiling;	/* times the ceiling was reached: early purges, expiries, evictions */
	_Atomic uint64_t refused;	/* entries refused or forgotten (GAUGE_REFUSE, GAUGE_EVICT) */
};

struct gauges;

struct gauges *gauges_new(void);
void gauges_free(struct gauges *g);	/* NULL: no-op */

/*
 * Register a table: owner and table name are copied, `key` must be a
 * string constant.  Thread-safe.  g NULL (no registry: unit tests): NULL.  Returns the gauge to publish on (owned
 * by g; it lives until gauges_free), or NULL when GAUGE_MAX tables are
 * registered (the table still works, unreported; logged once).
 */
struct table_gauge *gauges_add(struct gauges *g, const char *owner, const char *table,
    const char *key, enum gauge_policy policy, uint64_t max_entries, uint64_t max_bytes);

/* The table `table` of `owner` (g NULL or none: NULL). */
struct table_gauge *gauges_find(struct gauges *g, const char *owner, const char *table);

/* Tables registered so far, in registration order. */
size_t gauges_count(const struct gauges *g);
const struct table_gauge *gauges_at(const struct gauges *g, size_t i);

/* Publish a table's fill (t NULL: no-op).  Any thread, lock-free. */
void gauge_set(struct table_gauge *t, uint64_t entries, uint64_t bytes);

/* The ceiling changed (a table resized by a reload): t NULL: no-op. */
void gauge_set_max(struct table_gauge *t, uint64_t max_entries, uint64_t max_bytes);

/* Count one time at the ceiling, and `refused` entries refused or forgotten. */
void gauge_hit(struct table_gauge *t, uint64_t refused);

/* Count `n` more entries refused or forgotten, at a ceiling already counted. */
void gauge_refuse(struct table_gauge *t, uint64_t n);

/* The policy's name as SIGUSR1, /metrics and -T config print it: "purge", "refuse", ... */
const char *gauge_policy_name(enum gauge_policy p);

/*
 * SIGUSR1: one line per table, at notice level under `who`:
 * "table [p/print] cache entries=N/MAX bytes=B/MAXB peak=N at_ceiling=N refused=N policy=purge".
 */
void gauges_log(const struct gauges *g, const char *who);

/*
 * -T config: the planned ceilings as pmacct comment lines ("! ..."), one
 * per table, and their sum, so that an operator sees the memory to plan for.
 */
void gauges_plan(const struct gauges *g, FILE *out);

#endif
