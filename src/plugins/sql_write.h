/* SPDX-License-Identifier: BSD-3-Clause */
/* sql_write.h: one SQL flush: connect (or fail over), create missing tables, upsert every row in one transaction, spool on failure. */
#ifndef PLUGINS_SQL_WRITE_H
#define PLUGINS_SQL_WRITE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"
#include "plugins/agg.h"
#include "plugins/sql.h"

#define SQL_WRITER_MAX	256

/* A purge's id: the writer (plugin, process, host, start time) and its sequence number. */
struct sql_purge_id {
	char writer[SQL_WRITER_MAX];
	uint64_t seq;
};

/* Is the bookkeeping table in use?  Decided at the first connection. */
enum sql_purges_state { SQLP_UNKNOWN, SQLP_ON, SQLP_OFF };

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
	/* purge ids (sql_purges.c) */
	char writer[SQL_WRITER_MAX];		/* this run's writer id */
	uint64_t seq;				/* last sequence number given */
	const char *purges_table;		/* sql_purge_table, NULL: none */
	enum sql_purges_state purges;
	bool purges_prune;			/* delete the writer's resolved ids */
	/*
	 * A purge whose COMMIT was sent but not acknowledged: kept apart with
	 * its id and time, retried as it was before any new purge, skipped
	 * when its id is found recorded.  Saved to <spool>.doubt at shutdown.
	 */
	struct agg_table *doubt;
	struct sql_purge_id doubt_id;
	time_t doubt_now;
	bool doubt_loaded;			/* <spool>.doubt looked at */
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

/* Free what the context owns besides the connection (the kept-apart purge). */
void sql_ctx_fini(struct sql_ctx *c);

/* The backend's last message, without libpq's "ERROR:" prefix (for warnings). */
void sql_error_text(struct sql_ctx *c, char *out, size_t len);

/* Log the backend's message for `what` and return -1. */
int sql_fail(struct sql_ctx *c, const char *what);

/*
 * Serialise the creation of table `name` between writers (all our plugins,
 * all our processes): the SQLite file's write lock, a PostgreSQL advisory
 * transaction lock, a MySQL named lock.  unlock commits (or rolls back)
 * what lock began.  lock returns 0 or -1 (connection trouble).
 */
int sql_ddl_lock(struct sql_ctx *c, const char *name);
void sql_ddl_unlock(struct sql_ctx *c, const char *name, bool commit);

/* --- sql_purges.c: the bookkeeping table --- */

/* This run's writer id and the bookkeeping table's name (sql_purge_table). */
void sql_purges_init(struct sql_ctx *c, const char *proc_name);

/*
 * Before a purge's transaction (after its accounting tables): find or
 * create (idempotently) the bookkeeping table, once per run.  When it cannot be created and does not exist, bookkeeping
 * is turned off with one warning.  Returns 0, or -1 when the database
 * could not be asked (connection trouble: try again next purge).
 */
int sql_purges_ready(struct sql_ctx *c);

/* What recording a purge id found. */
enum sql_rec { SQLR_NEW, SQLR_DONE, SQLR_ERR };

/*
 * Inside the purge's transaction, before its rows: record id (table, entries,
 * now).  SQLR_DONE: the id was already recorded (that purge landed, the
 * transaction must be rolled back); a COMMIT of the same id still in flight
 * on another connection is waited for by the database's key lock.
 */
enum sql_rec sql_purges_record(struct sql_ctx *c, const struct sql_purge_id *id,
    const char *table, size_t entries, time_t now);

/* Inside the purge's transaction: forget the writer's earlier ids (they are resolved). */
int sql_purges_prune(struct sql_ctx *c, const struct sql_purge_id *id);

/* --- sql_spool.c: rows kept on disk while the database is away --- */

/* Append t's entries to the spool file and empty t (0), or keep them (-1). */
int sql_spool_write(struct sql_ctx *c, struct agg_table *t);

/*
 * Merge the spool back into t and remove it; a spool of more than
 * spool_max rows gives its first spool_max and keeps the rest (memory
 * stays bounded after a long outage): true when some is left, for the
 * flush to write part after part.
 */
bool sql_spool_read(struct sql_ctx *c, struct agg_table *t);

/* Move t's entries into the kept-apart purge (c->doubt), with id and now; t is emptied. */
void sql_doubt_keep(struct sql_ctx *c, struct agg_table *t, const struct sql_purge_id *id,
    time_t now);

/* Write the kept-apart purge, with its id, to <spool>.doubt (replacing it). Returns 0 or -1. */
int sql_doubt_save(struct sql_ctx *c);

/* Once per run: read a <spool>.doubt left by an earlier run into c->doubt (the file stays). */
void sql_doubt_load(struct sql_ctx *c);

/* The kept-apart purge is resolved: free it and remove <spool>.doubt. */
void sql_doubt_drop(struct sql_ctx *c);

#endif
