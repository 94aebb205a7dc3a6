/* SPDX-License-Identifier: BSD-3-Clause */
/* tagfilter.h: pre_tag_filter / pre_tag2_filter: a list of tags, negations and ranges compiled once per plugin. */
#ifndef MAPS_TAGFILTER_H
#define MAPS_TAGFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAGF_MAX 96	/* entries, as pmacct (MAX_PRETAG_MAP_ENTRIES / 4) */

struct tagf_entry {
	uint64_t lo, hi;
	bool neg;
};

/* A compiled filter; n == 0 means no filtering (everything passes). */
struct tagfilter {
	struct tagf_entry e[TAGF_MAX];
	int n;
};

/*
 * Compile `text` ("0", "N", "-N", "A-B", "-A-B", comma separated, blanks
 * ignored).  Returns 0, or -1 with the reason in why[] (f is then empty).
 */
int tagfilter_compile(struct tagfilter *f, const char *text, char *why, size_t wlen);

/*
 * Does `tag` pass?  As pmacct 1.7.7's evaluate_tags: entries are tried in
 * order; the first whose range holds the tag decides (pass unless negated),
 * and a negated entry that does not hold it lets the tag pass; when no
 * entry decides, the tag is rejected.
 */
bool tagfilter_pass(const struct tagfilter *f, uint64_t tag);

#endif
