/* SPDX-License-Identifier: BSD-3-Clause */
/* labelfilter.h: pre_tag_label_filter: which labels a plugin accepts. */
#ifndef MAPS_LABELFILTER_H
#define MAPS_LABELFILTER_H

#include <stdbool.h>
#include <stddef.h>

struct labelfilter;

/*
 * Compile a comma-separated list: `web` accepts that label, `null` the
 * records without one, `-web` rejects a label.  As pmacct 1.7.7 does: the
 * first entry that names the record's label decides; a record no entry
 * names passes only when the list has no positive entry.  NULL with a
 * message in why[] on an empty entry.
 */
struct labelfilter *labelfilter_compile(const char *text, char *why, size_t whylen);

bool labelfilter_pass(const struct labelfilter *f, const char *label);

void labelfilter_free(struct labelfilter *f);

#endif
