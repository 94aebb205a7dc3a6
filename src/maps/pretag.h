/* SPDX-License-Identifier: BSD-3-Clause */
/* pretag.h: pre_tag_map: parse a map file into rules and evaluate a record against them. */
#ifndef MAPS_PRETAG_H
#define MAPS_PRETAG_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

/* Which daemon loads the map: a key's meaning (or whether it applies) depends on it. */
enum pt_daemon { PT_PMACCTD, PT_NFACCTD, PT_SFACCTD };

#define PT_DEFAULT_ENTRIES	384	/* maps_entries, as pmacct */
#define PT_DEFAULT_ROW_LEN	288	/* what pmacct 1.7.7 really uses (SRVBUFLEN), not the 256 it documents */
#define PT_LABEL_MAX		128	/* set_label values appended with ',' are cut here */
#define PT_MAX_RESULTS		8	/* tag sets one record can produce (`return`) */

struct pt_opts {
	enum pt_daemon daemon;
	int linktype;		/* DLT of the packets `filter=` runs on */
	int snaplen;
	size_t max_entries;	/* maps_entries; 0 = PT_DEFAULT_ENTRIES */
	size_t row_len;		/* maps_row_len; 0 = PT_DEFAULT_ROW_LEN */
	const char *who;	/* log prefix, "default/core" */
};

/* The outcome of evaluating one record: what the first full match set. */
struct pt_result {
	uint64_t tag, tag2;
	bool have_tag, have_tag2;
	char label[PT_LABEL_MAX];	/* "" when no set_label matched */
};

struct pt_map;

/*
 * Load the map at `path`.  A bad line is logged as "[path:line] ..." and
 * skipped; the rest of the map loads.  Returns the map (possibly with no
 * rules), or NULL with a message in err[] when the file cannot be read.
 * The caller owns the map (pretag_free).
 */
struct pt_map *pretag_load(const char *path, const struct pt_opts *o, char *err, size_t errlen);

/* Free a map; NULL is a no-op. */
void pretag_free(struct pt_map *m);

/* Number of rules loaded. */
size_t pretag_count(const struct pt_map *m);

/*
 * Evaluate `rec` (with its captured frame h/pkt, NULL for NetFlow/sFlow
 * records) against the map, as pmacct does: rules in order, the first full
 * match wins, `jeq` jumps forward to a `label` (and `stack` combines tags),
 * `return=true` on a jumping rule hands out the tags found so far as a
 * result of their own.  Fills out[0..n) and returns n >= 1 (the last
 * result is the final one; all-zero when nothing matched).  `++` tags
 * advance on every match, so the map is not const.
 */
int pretag_eval(struct pt_map *m, const struct flow_rec *rec, const struct pcap_pkthdr *h,
    const uint8_t *pkt, struct pt_result *out, int max_out);

#endif
