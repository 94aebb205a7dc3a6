/* SPDX-License-Identifier: BSD-3-Clause */
/* frag.h: IPv4/IPv6 fragment table giving later fragments their flow's ports, as pmacctd does. */
#ifndef PIPELINE_FRAG_H
#define PIPELINE_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

/* pmacctd_frag_buffer_size default (4 MB), and the entry lifetime in seconds (IPF_TIMEOUT). */
#define FRAG_DEFAULT_BYTES	(4u * 1024 * 1024)
#define FRAG_TIMEOUT		60

struct frag_table;

/* Counters, for the core's stats. */
struct frag_stats {
	uint64_t held;		/* later fragments held until their first fragment */
	uint64_t released;	/* held fragments accounted with their first fragment */
	uint64_t orphans;	/* held fragments whose first fragment never came */
	uint64_t full;		/* fragments not accounted: table full */
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
 * entry does not exist returns false, as pmacct does.
 *
 * The core calls it only when fragment handling is on, as pmacctd does:
 * some plugin aggregates an L4 primitive (src_port, dst_port, tcpflags,
 * sum_port, ...) or pmacctd_force_frag_handling is true.  Otherwise
 * records are accounted as decoded (later fragments with ports 0).
 */
bool frag_handle(struct frag_table *ft, struct flow_rec *rec);

/* Copy the counters out. */
void frag_get_stats(const struct frag_table *ft, struct frag_stats *out);

#endif
