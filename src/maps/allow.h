/* SPDX-License-Identifier: BSD-3-Clause */
/* allow.h: the collectors' allow file (nfacctd_allow_file / sfacctd_allow_file): the exporters accepted. */
#ifndef MAPS_ALLOW_H
#define MAPS_ALLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "model/flow_rec.h"

struct allow_list;

/*
 * Load an allow file: one IPv4 or IPv6 address or prefix per row, `!` and
 * `#` comment lines.  A bad row is warned about under who as "[file:line]
 * invalid address or prefix '...'. Ignored." and skipped; an empty file
 * allows nobody (pmacct 1.7.1+).  Returns the list (free with allow_free),
 * or NULL with errno set when the file cannot be read.
 */
struct allow_list *allow_load(const char *path, const char *who);

/* Is ip inside one of the list's prefixes?  A NULL list allows every address. */
bool allow_match(const struct allow_list *a, const struct fr_ip *ip);

/* Prefixes in the list (0 for NULL). */
size_t allow_count(const struct allow_list *a);

/* Free the list; NULL is a no-op. */
void allow_free(struct allow_list *a);

#endif
