/* SPDX-License-Identifier: BSD-3-Clause */
/* rpki.h: where a daemon's ROAs come from: rpki_roas_file (SIGUSR2 reload) or an RPKI-to-Router cache. */
#ifndef PIPELINE_RPKI_H
#define PIPELINE_RPKI_H

#include "config/config.h"
#include "maps/roa.h"

struct rpki;

/*
 * Set up cfg's ROA source: load rpki_roas_file, or check rpki_rtr_cache
 * (connected by rpki_start()).  Returns NULL with *err 0 when neither key
 * is set; NULL with *err 1 after logging an error that names the key (both
 * keys set, a bad cache address, a ROA file that cannot be read).
 */
struct rpki *rpki_new(const struct core_cfg *cfg, int *err);

/* The ROAs the enrichment validates with (never NULL for a non-NULL r). */
struct roa_db *rpki_db(struct rpki *r);

/* Start the RTR client thread when rpki_rtr_cache is set.  0, or -1 logged. */
int rpki_start(struct rpki *r);

/* SIGUSR2: read rpki_roas_file again; on failure the previous ROAs stay (logged). */
void rpki_reload(struct rpki *r);

/* Stop the RTR thread, free everything; NULL is a no-op. */
void rpki_free(struct rpki *r);

#endif
