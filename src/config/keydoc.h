/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PMNG_CONFIG_KEYDOC_H
#define PMNG_CONFIG_KEYDOC_H

#include <stdint.h>
#include <stdio.h>

/* docs/config-keys.md (declared in config.h too, for the test tool). */
void cfg_keys_markdown(FILE *out);

/* pmacct.conf(5): syntax, every key of the table, every primitive. */
void cfg_keys_man(FILE *out, const char *version);

/* Troff .TP list of the primitives daemon `src` (SRC_*) fills; SRC_ALL names the daemons. */
void prim_man_list(FILE *out, uint8_t src);

#endif
