/* SPDX-License-Identifier: BSD-3-Clause */
/* keydoc.h: documentation generated from the key and primitive tables (docs/config-keys.md, pmacct.conf(5)). */
#ifndef PMNG_CONFIG_KEYDOC_H
#define PMNG_CONFIG_KEYDOC_H

#include <stdint.h>
#include <stdio.h>

/* Write the table of configuration keys as Markdown (docs/config-keys.md). */
void cfg_keys_markdown(FILE *out);

/* pmacct.conf(5): syntax, every key of the table, every primitive. */
void cfg_keys_man(FILE *out, const char *version);

/* Troff .TP list of the primitives daemon `src` (SRC_*) fills; SRC_ALL names the daemons. */
void prim_man_list(FILE *out, uint8_t src);

#endif
