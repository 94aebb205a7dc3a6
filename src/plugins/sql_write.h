/* SPDX-License-Identifier: BSD-3-Clause */
/* sql_write.h: one SQL flush: connect (or fail over), create missing tables, upsert every row in one transaction, spool on failure. */
#ifndef PLUGINS_SQL_WRITE_H
#define PLUGINS_SQL_WRITE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "plugins/agg.h"
#include "plugins/sql.h"

/* What the writer owns: settings, the connection and its per-table knowledge. */
struct sql_ctx {
	const struct sql_backend *be;
	const char *who;			/* "name/type" */
	const struct plugin_cfg *pc;
	const struct prim_set *agg;
	struct sql_schema schema;
	const char *table_tpl;			/* sql_table or the version's default */
	struct sql_conn conn, backup;
	bool utc;
	void *h;				/* open connection or NULL */
	bool on_backup;
	struct sql_table_info *tables;		/* what this connection learnt about tables */
	int ntables;
	char spool[PATH_MAX];
	uint64_t spool_max;			/* entries kept in memory before spilling */
	/* last flush, for sql_trigger_exec */
	uint64_t inserts, updates;
};

/*
 * Write every entry of t in one transaction, then empty t.  On failure
 * (logged with the backend's message) t keeps its entries, the connection
 * is dropped to be reopened next time, and when t holds more than
 * spool_max entries (or `final`, at shutdown) they are appended to the
 * spool file and t is emptied; the spool is read back at the next
 * successful connection.  Returns 0 or -1.
 */
int sql_ctx_flush(struct sql_ctx *c, struct agg_table *t, bool final);

/* Close the connection (no-op when closed). */
void sql_ctx_close(struct sql_ctx *c);

#endif
