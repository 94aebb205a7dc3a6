/* SPDX-License-Identifier: BSD-3-Clause */
/* frag.h: IPv4/IPv6 fragment table giving later fragments their flow's ports, as pmacctd does. */
#ifndef PIPELINE_FRAG_H
#define PIPELINE_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

struct table_gauge;

/* pmacctd_frag_buffer_size default (4 MB), and the entry lifetime in seconds (IPF_TIMEOUT). */
#define FRAG_DEFAULT_BYTES	(4u * 1024 * 1024)
#define FRAG_TIMEOUT		60

struct frag_table;

/* Counters, for the core's stats. */
struct frag_stats {
	uint64_t held;		/* later fragments held until their first fragment */
	uint64_t released;	/* held fragments accounted with their first fragment */
	uint64_t orphans;	/* held fragments whose first fragment never came */
	uint64_t full;		/* fragments past the ceiling: accounted untracked (see frag_handle) */
	uint64_t short_l4;	/* TCP/UDP without 4 captured L4 bytes: not accounted */
	uint64_t entries;	/* entries in use now */
	uint64_t capacity;	/* entries the table may hold */
};

/*
 * A fragment table using at most about `bytes` bytes (0 = the default):
 * capacity is bytes / entry size, as pmacctd sizes its table.  Never NULL
 * (aborts on out-of-memory).  Free with frag_free().
 */
struct frag_table *frag_new(size_t bytes);

/* Free the table; frag_free(NULL) is a no-op. */
void frag_free(struct frag_table *ft);

/*
 * pmacctd's fragment handling for one decoded record (pkt_decode() gave
 * PKT_DROP_NONE; rec->ts set, it is the clock).  Returns whether the
 * record must be accounted now.  Only TCP and UDP are concerned; any other
 * protocol returns true untouched.  For TCP/UDP:
 *  - not a fragment: false when fewer than 4 L4 bytes were captured
 *    (no FR_F_L4_OK), as pmacct's "short packet" check; else true;
 *  - first fragment: remembers its ports under (src, dst, id, proto) for
 *    FRAG_TIMEOUT seconds and returns true; if later fragments arrived
 *    before it, their packets and bytes are added to *rec;
 *  - later fragment: gets the ports of its first fragment and returns true,
 *    or, when the first fragment has not been seen, is held (counted into
 *    the entry) and returns false.
 * When the table is full (after pruning expired entries) a fragment whose
 * entry does not exist is accounted untracked (returns true, counted in
 * `full`): a first fragment with its own ports, a later one with ports 0.
 * pmacct 1.7.7 drops both (its "Fragment/4 buffer full. Skipping
 * fragments."): here no packet or byte is lost at the ceiling, only the
 * ports of later fragments.  Logged at most once a minute (packet time),
 * with the count since the last line.
 *
 * The core calls it only when fragment handling is on, as pmacctd does:
 * some plugin aggregates an L4 primitive (src_port, dst_port, tcpflags,
 * sum_port, ...) or pmacctd_force_frag_handling is true.  Otherwise
 * records are accounted as decoded (later fragments with ports 0).
 */
bool frag_handle(struct frag_table *ft, struct flow_rec *rec);

/*
 * The ceiling of a table of `bytes` (0 = the default): the entries it
 * holds and all of its memory (entries, buckets, the table itself), as
 * frag_new() would allocate it; allocates nothing (-T config).
 */
void frag_plan(size_t bytes, uint64_t *entries, uint64_t *total_bytes);

/* Publish the fill on g (model/gauge.h; NULL: none), from the calling (core) thread. */
void frag_set_gauge(struct frag_table *ft, struct table_gauge *g);

/* Copy the counters out. */
void frag_get_stats(const struct frag_table *ft, struct frag_stats *out);

#endif
