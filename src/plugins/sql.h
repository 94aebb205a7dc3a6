/* SPDX-License-Identifier: BSD-3-Clause */
/* sql.h: the one SQL layer: table versions, statement building and the backend vtable shared by sqlite3, pgsql and mysql. */
#ifndef PLUGINS_SQL_H
#define PLUGINS_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "model/prim.h"

/* The SQL flavour a statement is written in. */
enum sql_dialect { SQL_SQLITE, SQL_PGSQL, SQL_MYSQL };

/* What fills a column. */
enum sql_col_kind {
	SC_PRIM,	/* a primitive's value (prim), its default when not aggregated */
	SC_CONST,	/* a primitive we do not have (class_id, comms ...): its default */
	SC_PACKETS, SC_BYTES, SC_FLOWS, SC_TCPFLAGS,	/* counters (added / ORed) */
	SC_STAMP_INSERTED, SC_STAMP_UPDATED,
	SC_TS,		/* timestamp_* primitive: whole seconds, written as a stamp (pmacct) */
	SC_TS_RESIDUAL,	/* its microseconds: the <name>_residual column */
	SC_STITCH_MIN, SC_STITCH_MIN_RES,	/* [nf|sf|pm]acctd_stitching: timestamp_min(_residual) */
	SC_STITCH_MAX, SC_STITCH_MAX_RES,	/* timestamp_max(_residual) */
	SC_COORD_LAT, SC_COORD_LON,	/* *_host_coords (prim): lat_ip_*, lon_ip_* (1.7.7) */
};

/* How a column is typed in our create scripts. */
enum sql_col_type {
	SQLT_MAC, SQLT_IP, SQLT_U16, SQLT_U32, SQLT_U64, SQLT_PROTO, SQLT_CHAR16, SQLT_CHAR24, SQLT_TEXT,
	SQLT_CNT32, SQLT_CNT64, SQLT_STAMP,
	SQLT_REAL,	/* a double (GeoIP coordinates) */
};

struct sql_col {
	const char *name;
	uint8_t kind;		/* enum sql_col_kind */
	uint8_t type;		/* enum sql_col_type */
	uint8_t prim;		/* enum prim_id for SC_PRIM */
	bool key;		/* part of the row's identity (WHERE / primary key) */
};

#define SQL_MAX_COLS 64

/* The columns a plugin writes, in pmacct's schema order. */
struct sql_schema {
	struct sql_col cols[SQL_MAX_COLS];
	int n;
	bool stamps;		/* sql_history set: stamp_inserted / stamp_updated written */
	bool epoch;		/* timestamps_since_epoch: stamps are integers */
	bool stitch;		/* timestamp_min/max columns (sql_schema_add_stitch) */
	enum sql_dialect d;
	const struct prim_registry *reg;	/* whose primitives the columns are (not owned; NULL = built-ins) */
};

/*
 * Build the column set: pmacct's table `version` (1..9, or the bgp type)
 * with its per-version names (src_port before v8 outside pgsql, agent_id
 * before v9), or with `optimize` only the primitives of `agg` (+ counters),
 * primitives of registry reg, which s keeps and must outlive it.
 * Returns 0, or -1 with a reason in why[].
 */
int sql_schema_build(struct sql_schema *s, enum sql_dialect d, unsigned version, bool bgp,
    bool optimize, const struct prim_registry *reg, const struct prim_set *agg, bool stamps,
    bool epoch, char *why, size_t wlen);

/*
 * Stitching's columns, timestamp_min, timestamp_min_residual, timestamp_max
 * and timestamp_max_residual, before the counters and part of the row's
 * identity, as pmacct 1.7.7 writes them (verified).
 */
void sql_schema_add_stitch(struct sql_schema *s);


/*
 * True when an aggregate with no sql_table_type makes pmacct 1.7.7 switch
 * to the bgp table type ("sql_table_type set to 'bgp'"): std_comm, ext_comm,
 * as_path, local_pref, med, their src_* twins (not lrg_comm / src_lrg_comm),
 * peer_src_as, peer_dst_as, peer_src_ip, peer_dst_ip, mpls_vpn_rd.
 */
bool sql_wants_bgp_table(const struct prim_set *agg);

/* pmacct's default table name: acct (v1, v9), acct_vN (v2-v8), acct_bgp. */
const char *sql_default_table(unsigned version, bool bgp);

/* Write name as a quoted identifier (each dot-separated part quoted). -1 if it holds a quote. */
int sql_quote_ident(char *out, size_t len, enum sql_dialect d, const char *name);

/* Is the column part of a row's identity (a key column or stamp_inserted)? */
bool sql_col_ident(const struct sql_col *c);

/* Statement modes. */
enum sql_mode {
	SQLM_UPSERT,	/* one INSERT ... ON CONFLICT / ON DUPLICATE KEY UPDATE */
	SQLM_UPDATE,	/* pmacct's UPDATE (then INSERT when no row changed) */
	SQLM_INSERT,	/* plain INSERT of `rows` rows (sql_dont_try_update / multi values) */
};

/*
 * Build a parameterised statement on `table` (already unquoted name) into
 * out[len].  INSERT/UPSERT take the columns in schema order, `rows` times;
 * UPDATE takes the non-identity columns (counters, stamp_updated) in schema
 * order, then the identity ones (sql_col_ident) in schema order.  `conflict` (pgsql upserts) names the unique constraint.
 * Returns the number of parameters, or -1 (too long, bad name).
 */
int sql_build(char *out, size_t len, const struct sql_schema *s, enum sql_mode m,
    const char *table, int rows, const char *conflict);

/*
 * CREATE TABLE IF NOT EXISTS for the schema (auto-creation: plugins sharing
 * a table may race to create it).  Returns 0 or -1.
 */
int sql_build_create(char *out, size_t len, const struct sql_schema *s, const char *table);

/* A bound parameter: an integer or a string (never pasted into SQL text). */
struct sql_val {
	bool is_int;
	int64_t i;
	char s[FR_BGP_STR_MAX];	/* text values; the longest are BGP as_path/communities */
	const char *p;		/* a longer string (borrowed), bound instead of s when set */
};

/* The string a non-integer parameter binds. */
static inline const char *sql_val_str(const struct sql_val *v)
{
	return v->p ? v->p : v->s;
}

/* Connection settings (the password is never logged). */
struct sql_conn {
	const char *host, *db, *user, *passwd, *ca_file;
	unsigned port;
};

/*
 * A backend: a connection handle `h` and prepared statements `st`.  Each
 * call returns 0 or -1; on -1, error(h) has the backend's message.
 */
struct sql_backend {
	const char *name;
	enum sql_dialect dialect;
	void *(*connect)(const struct sql_conn *c, char *err, size_t elen);
	int (*exec)(void *h, const char *sql);		/* BEGIN, COMMIT, ROLLBACK, DDL */
	int (*prepare)(void *h, const char *sql, int nparams, void **st);
	/* Run st with v[0..n); *changed = rows affected (UPDATE). */
	int (*run)(void *h, void *st, const struct sql_val *v, int n, long *changed);
	void (*finalize)(void *h, void *st);
	/*
	 * Does the table exist, and has it a unique key (primary or unique)?
	 * pgsql also returns the constraint's name in conflict[clen].
	 */
	int (*table_info)(void *h, const char *table, bool *exists, bool *unique,
	    char *conflict, size_t clen);
	/* COPY rows (pgsql only, NULL elsewhere): one call per batch of CSV text. */
	int (*copy)(void *h, const char *sql, const char *data, size_t len);
	const char *(*error)(void *h);
	void (*close)(void *h);
};

extern const struct sql_backend sql_sqlite_backend;
extern const struct sql_backend sql_pgsql_backend;
extern const struct sql_backend sql_mysql_backend;

/*
 * Render a row's values for the schema, in column order: key columns from
 * k (defaults for primitives not in agg), counters, stamps (bin, now).
 * `num_protos`: ip_proto as a number (pgsql always).  Returns the count.
 */
struct flow_key;
/* Fill the stitching columns of a row from sql_row_values(). */
void sql_row_stitch(const struct sql_schema *s, const struct fr_ts *min, const struct fr_ts *max,
    struct sql_val *out);

int sql_row_values(const struct sql_schema *s, const struct prim_set *agg, bool num_protos,
    const struct flow_key *k, uint64_t packets, uint64_t bytes, uint64_t flows, uint8_t tcp_flags,
    int64_t bin, int64_t now, struct sql_val *out);

#endif
