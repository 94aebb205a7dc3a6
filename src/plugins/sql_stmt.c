/* SPDX-License-Identifier: BSD-3-Clause */
/* sql_stmt.c: pmacct's SQL table versions as column sets, and the statements (always parameterised) built from them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plugins/output.h"
#include "plugins/sql.h"

static void add(struct sql_schema *s, const char *name, enum sql_col_kind kind,
    enum sql_col_type type, int prim, bool key)
{
	if (s->n >= SQL_MAX_COLS)
		return;
	s->cols[s->n++] = (struct sql_col){ name, (uint8_t)kind, (uint8_t)type, (uint8_t)prim, key };
}

static void add_prim(struct sql_schema *s, const char *name, enum sql_col_type type, int prim)
{
	add(s, name, SC_PRIM, type, prim, true);
}

static void add_counters(struct sql_schema *s, bool flows, bool tcpflags)
{
	if (tcpflags)
		add(s, "tcp_flags", SC_TCPFLAGS, SQLT_U16, 0, false);
	add(s, "packets", SC_PACKETS, SQLT_CNT32, 0, false);
	add(s, "bytes", SC_BYTES, SQLT_CNT64, 0, false);
	if (flows)
		add(s, "flows", SC_FLOWS, SQLT_CNT32, 0, false);
}

static void add_stamps(struct sql_schema *s)
{
	if (!s->stamps)
		return;
	add(s, "stamp_inserted", SC_STAMP_INSERTED, SQLT_STAMP, 0, false);
	add(s, "stamp_updated", SC_STAMP_UPDATED, SQLT_STAMP, 0, false);
}

/* Column name of a primitive under table version v (pmacct's README renames). */
static const char *prim_column(const struct sql_schema *s, int id, unsigned v)
{
	bool old_ports = v < 8 && s->d != SQL_PGSQL;
	if (id == P_TAG && v < 9)
		return "agent_id";
	if (id == P_CLASS)
		return "class_id";	/* pmacct's column for class in every version */
	if (id == P_SRC_PORT && old_ports)
		return "src_port";
	if (id == P_DST_PORT && old_ports)
		return "dst_port";
	return prim_desc_of(s->reg, id)->json;
}

static enum sql_col_type prim_type(const struct sql_schema *s, int id)
{
	const struct prim_desc *d = prim_desc_of(s->reg, id);
	switch (d->fmt) {
	case PF_MAC: return SQLT_MAC;
	case PF_IP: return SQLT_IP;
	case PF_PROTO: return SQLT_PROTO;
	case PF_TS: return SQLT_TEXT;
	case PF_SRV6_LIST: return SQLT_TEXT;
	case PF_HEX: return SQLT_U32;
	case PF_UINT: case PF_TCPFLAGS: case PF_FWD_STATUS: case PF_NONE: break;
	default: return SQLT_TEXT;	/* names, RDs, label stacks, origins: their text */
	}
	return d->len > 4 ? SQLT_U64 : d->len > 2 ? SQLT_U32 : SQLT_U16;
}

/* pmacct's fixed column sets: v1..v9 (sql/ README.* and the create scripts). */
static void build_version(struct sql_schema *s, unsigned v)
{
	if (v >= 2)
		add_prim(s, prim_column(s, P_TAG, v), SQLT_U64, P_TAG);
	if (v >= 5)
		add_prim(s, prim_column(s, P_CLASS, v), SQLT_CHAR16, P_CLASS);
	add_prim(s, "mac_src", SQLT_MAC, P_SRC_MAC);
	add_prim(s, "mac_dst", SQLT_MAC, P_DST_MAC);
	if (v >= 2)
		add_prim(s, "vlan", SQLT_U16, P_VLAN);
	if (v >= 6) {
		add_prim(s, "as_src", SQLT_U32, P_SRC_AS);
		add_prim(s, "as_dst", SQLT_U32, P_DST_AS);
	}
	add_prim(s, "ip_src", SQLT_IP, P_SRC_HOST);
	add_prim(s, "ip_dst", SQLT_IP, P_DST_HOST);
	add_prim(s, prim_column(s, P_SRC_PORT, v), SQLT_U16, P_SRC_PORT);
	add_prim(s, prim_column(s, P_DST_PORT, v), SQLT_U16, P_DST_PORT);
	if (v >= 7)
		add(s, "tcp_flags", SC_TCPFLAGS, SQLT_U16, 0, false);
	add_prim(s, "ip_proto", SQLT_PROTO, P_PROTO);
	if (v >= 3)
		add_prim(s, "tos", SQLT_U16, P_TOS);
	add_counters(s, v >= 4, false);
}

static void build_bgp(struct sql_schema *s, const struct prim_set *agg)
{
	add_prim(s, "agent_id", SQLT_U64, P_TAG);
	add_prim(s, "as_src", SQLT_U32, P_SRC_AS);
	add_prim(s, "as_dst", SQLT_U32, P_DST_AS);
	add_prim(s, "peer_as_src", SQLT_U32, P_PEER_SRC_AS);
	add_prim(s, "peer_as_dst", SQLT_U32, P_PEER_DST_AS);
	add_prim(s, "peer_ip_src", SQLT_IP, P_PEER_SRC_IP);
	add_prim(s, "peer_ip_dst", SQLT_IP, P_PEER_DST_IP);
	add_prim(s, "comms", SQLT_CHAR24, P_STD_COMM);
	add_prim(s, "as_path", SQLT_CHAR24, P_AS_PATH);
	add_prim(s, "local_pref", SQLT_U32, P_LOCAL_PREF);
	add_prim(s, "med", SQLT_U32, P_MED);
	/* the src_* twins 1.7.7 writes when aggregated (not ecomms/lcomms nor theirs: verified) */
	if (prim_has(agg, P_SRC_STD_COMM))
		add_prim(s, "comms_src", SQLT_CHAR24, P_SRC_STD_COMM);
	if (prim_has(agg, P_SRC_AS_PATH))
		add_prim(s, "as_path_src", SQLT_CHAR24, P_SRC_AS_PATH);
	if (prim_has(agg, P_SRC_LOCAL_PREF))
		add_prim(s, "local_pref_src", SQLT_U32, P_SRC_LOCAL_PREF);
	if (prim_has(agg, P_SRC_MED))
		add_prim(s, "med_src", SQLT_U32, P_SRC_MED);
	/* pmacct's bgp tables have no flows column (its sqlite3 one's stays at its default) */
	add_counters(s, false, false);
}

static const char *ts_residual(int id)
{
	switch (id) {
	case P_TS_START: return "timestamp_start_residual";
	case P_TS_END: return "timestamp_end_residual";
	case P_TS_ARRIVAL: return "timestamp_arrival_residual";
	default: return "timestamp_export_residual";
	}
}

/* sql_optimize_clauses: the aggregate's primitives only, in table order. */
static void build_optimized(struct sql_schema *s, unsigned v, const struct prim_set *agg)
{
	struct prim_set seen = { 0 };
	for (int i = 0; i < P_COUNT; i++) {
		int id = prim_desc_of(s->reg, i)->alias;
		if (!prim_has(agg, (enum prim_id)i) || i == P_NONE || i == P_FLOWS || i == P_TCPFLAGS)
			continue;
		if (prim_has(&seen, (enum prim_id)id))
			continue;
		prim_add(&seen, (enum prim_id)id);
		if (prim_desc_of(s->reg, id)->fmt == PF_TS) {
			/* pmacct: the time as a stamp, its microseconds in <name>_residual */
			add(s, prim_column(s, id, v), SC_TS, SQLT_STAMP, id, true);
			add(s, ts_residual(id), SC_TS_RESIDUAL, SQLT_U32, id, true);
			continue;
		}
		if (prim_desc_of(s->reg, id)->fmt == PF_COORDS) {
			/* pmacct: two columns, latitude and longitude */
			add(s, prim_column(s, id, v), SC_COORD_LAT, SQLT_REAL, id, true);
			add(s, id == P_SRC_HOST_COORDS ? "lon_ip_src" : "lon_ip_dst", SC_COORD_LON,
			    SQLT_REAL, id, true);
			continue;
		}
		add_prim(s, prim_column(s, id, v), prim_type(s, id), id);
	}
	add_counters(s, prim_has(agg, P_FLOWS) || v >= 4, prim_has(agg, P_TCPFLAGS));
}

int sql_schema_build(struct sql_schema *s, enum sql_dialect d, unsigned version, bool bgp,
    bool optimize, const struct prim_registry *reg, const struct prim_set *agg, bool stamps,
    bool epoch, char *why, size_t wlen)
{
	memset(s, 0, sizeof(*s));
	s->d = d;
	s->reg = reg;
	s->stamps = stamps;
	s->epoch = epoch;
	if (version < 1 || version > 9) {
		snprintf(why, wlen, "sql_table_version %u is not 1..9", version);
		return -1;
	}
	if (optimize)
		build_optimized(s, version, agg);
	else if (bgp)
		build_bgp(s, agg);
	else
		build_version(s, version);
	add_stamps(s);
	return 0;
}

void sql_schema_add_stitch(struct sql_schema *s)
{
	static const struct { const char *name; uint8_t kind, type; } cols[] = {
		{ "timestamp_min", SC_STITCH_MIN, SQLT_STAMP },
		{ "timestamp_min_residual", SC_STITCH_MIN_RES, SQLT_U32 },
		{ "timestamp_max", SC_STITCH_MAX, SQLT_STAMP },
		{ "timestamp_max_residual", SC_STITCH_MAX_RES, SQLT_U32 },
	};
	int at = 0;

	if (s->stitch || s->n + 4 > SQL_MAX_COLS)
		return;
	while (at < s->n && s->cols[at].kind != SC_PACKETS && s->cols[at].kind != SC_BYTES &&
	    s->cols[at].kind != SC_FLOWS && s->cols[at].kind != SC_TCPFLAGS &&
	    s->cols[at].kind != SC_STAMP_INSERTED && s->cols[at].kind != SC_STAMP_UPDATED)
		at++;
	memmove(&s->cols[at + 4], &s->cols[at], (size_t)(s->n - at) * sizeof(s->cols[0]));
	for (int i = 0; i < 4; i++) {
		struct sql_col *c = &s->cols[at + i];
		memset(c, 0, sizeof(*c));
		c->name = cols[i].name;
		c->kind = cols[i].kind;
		c->type = cols[i].type;
		c->key = true;
	}
	s->n += 4;
	s->stitch = true;
}

void sql_row_stitch(const struct sql_schema *s, const struct fr_ts *min, const struct fr_ts *max,
    struct sql_val *out)
{
	for (int i = 0; i < s->n; i++) {
		switch (s->cols[i].kind) {
		case SC_STITCH_MIN: out[i].i = min->sec; break;
		case SC_STITCH_MIN_RES: out[i].i = min->usec; break;
		case SC_STITCH_MAX: out[i].i = max->sec; break;
		case SC_STITCH_MAX_RES: out[i].i = max->usec; break;
		default: break;
		}
	}
}

bool sql_wants_bgp_table(const struct prim_set *agg)
{
	/* pmacct 1.7.7's first aggregation bitmap's BGP bits (lrg_comm, src_lrg_comm are not there) */
	static const enum prim_id bgp[] = {
		P_STD_COMM, P_EXT_COMM, P_AS_PATH, P_LOCAL_PREF, P_MED, P_SRC_STD_COMM, P_SRC_EXT_COMM,
		P_SRC_AS_PATH, P_SRC_LOCAL_PREF, P_SRC_MED, P_PEER_SRC_AS, P_PEER_DST_AS, P_PEER_SRC_IP,
		P_PEER_DST_IP, P_MPLS_VPN_RD,
	};
	for (size_t i = 0; i < sizeof(bgp) / sizeof(bgp[0]); i++)
		if (prim_has(agg, bgp[i]))
			return true;
	return false;
}

const char *sql_default_table(unsigned version, bool bgp)
{
	static const char *const names[] = { "acct", "acct", "acct_v2", "acct_v3", "acct_v4",
		"acct_v5", "acct_v6", "acct_v7", "acct_v8", "acct" };
	if (bgp)
		return "acct_bgp";
	return version <= 9 ? names[version] : "acct";
}

bool sql_col_ident(const struct sql_col *c)
{
	return c->key || c->kind == SC_STAMP_INSERTED;
}

/* A bounded string builder: once it overflows it stays failed. */
struct sb {
	char *p;
	size_t len, off;
	bool bad;
};

static void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (b->bad)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->off, b->len - b->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->len - b->off)
		b->bad = true;
	else
		b->off += (size_t)n;
}

int sql_quote_ident(char *out, size_t len, enum sql_dialect d, const char *name)
{
	char q = d == SQL_MYSQL ? '`' : '"';
	struct sb b = { out, len, 0, false };

	if (!*name || strpbrk(name, "\"`'\\;"))
		return -1;
	sb_add(&b, "%c", q);
	for (const char *p = name; *p; p++) {
		if (*p == '.')
			sb_add(&b, "%c.%c", q, q);
		else
			sb_add(&b, "%c", *p);
	}
	sb_add(&b, "%c", q);
	return b.bad ? -1 : 0;
}

static void sb_ident(struct sb *b, enum sql_dialect d, const char *name)
{
	char q[256];
	if (sql_quote_ident(q, sizeof(q), d, name) < 0)
		b->bad = true;
	else
		sb_add(b, "%s", q);
}

/* Placeholder number n (1-based), wrapped in the time conversion for stamps. */
static void sb_param(struct sb *b, const struct sql_schema *s, const struct sql_col *c, int n)
{
	char ph[16];
	bool stamp = c->kind == SC_STAMP_INSERTED || c->kind == SC_STAMP_UPDATED || c->kind == SC_TS ||
	    c->kind == SC_STITCH_MIN || c->kind == SC_STITCH_MAX;

	if (s->d == SQL_PGSQL)
		snprintf(ph, sizeof(ph), "$%d", n);
	else
		snprintf(ph, sizeof(ph), "?");
	if (!stamp || s->epoch)
		sb_add(b, "%s", ph);
	else if (s->d == SQL_SQLITE)
		sb_add(b, "DATETIME(%s, 'unixepoch', 'localtime')", ph);
	else if (s->d == SQL_MYSQL)
		sb_add(b, "FROM_UNIXTIME(%s)", ph);
	else
		sb_add(b, "to_timestamp(%s::bigint)::timestamp", ph);
}

/* "col = col + new" for the counters in an UPDATE or an upsert's update part. */
static void sb_set_counter(struct sb *b, const struct sql_schema *s, const struct sql_col *c,
    const char *newval)
{
	const char *cur = s->d == SQL_PGSQL ? "cur." : "";
	char q[96];

	if (sql_quote_ident(q, sizeof(q), s->d, c->name) < 0) {
		b->bad = true;
		return;
	}
	if (c->kind == SC_STAMP_UPDATED)
		sb_add(b, "%s = %s", q, newval);
	else if (c->kind == SC_TCPFLAGS)
		sb_add(b, "%s = %s%s | %s", q, cur, q, newval);
	else
		sb_add(b, "%s = %s%s + %s", q, cur, q, newval);
}

static void build_insert(struct sb *b, const struct sql_schema *s, const char *table, int rows)
{
	int n = 0;
	sb_add(b, "INSERT INTO ");
	sb_ident(b, s->d, table);
	if (s->d == SQL_PGSQL)
		sb_add(b, " AS cur");
	sb_add(b, " (");
	for (int i = 0; i < s->n; i++) {
		sb_add(b, "%s", i ? ", " : "");
		sb_ident(b, s->d, s->cols[i].name);
	}
	sb_add(b, ") VALUES ");
	for (int r = 0; r < rows; r++) {
		sb_add(b, "%s(", r ? ", " : "");
		for (int i = 0; i < s->n; i++) {
			sb_add(b, "%s", i ? ", " : "");
			sb_param(b, s, &s->cols[i], ++n);
		}
		sb_add(b, ")");
	}
}

static void build_upsert_tail(struct sb *b, const struct sql_schema *s, const char *conflict)
{
	bool first = true;
	char q[96], nv[128];

	if (s->d == SQL_SQLITE) {
		sb_add(b, " ON CONFLICT DO UPDATE SET ");
	} else if (s->d == SQL_PGSQL) {
		sb_add(b, " ON CONFLICT ON CONSTRAINT ");
		sb_ident(b, s->d, conflict ? conflict : "");
		sb_add(b, " DO UPDATE SET ");
	} else {
		sb_add(b, " ON DUPLICATE KEY UPDATE ");
	}
	for (int i = 0; i < s->n; i++) {
		const struct sql_col *c = &s->cols[i];
		if (sql_col_ident(c))
			continue;
		if (sql_quote_ident(q, sizeof(q), s->d, c->name) < 0)
			b->bad = true;
		if (s->d == SQL_MYSQL)
			snprintf(nv, sizeof(nv), "VALUES(%s)", q);
		else
			snprintf(nv, sizeof(nv), "%s.%s", s->d == SQL_PGSQL ? "EXCLUDED" : "excluded", q);
		sb_add(b, "%s", first ? "" : ", ");
		sb_set_counter(b, s, c, nv);
		first = false;
	}
}

static void build_update(struct sb *b, const struct sql_schema *s, const char *table)
{
	int n = 0;
	bool first = true;
	char ph[160];

	sb_add(b, "UPDATE ");
	sb_ident(b, s->d, table);
	if (s->d == SQL_PGSQL)
		sb_add(b, " AS cur");
	sb_add(b, " SET ");
	for (int i = 0; i < s->n; i++) {
		const struct sql_col *c = &s->cols[i];
		if (sql_col_ident(c))
			continue;
		struct sb pb = { ph, sizeof(ph), 0, false };
		sb_param(&pb, s, c, ++n);
		sb_add(b, "%s", first ? "" : ", ");
		sb_set_counter(b, s, c, ph);
		first = false;
	}
	first = true;
	for (int i = 0; i < s->n; i++) {
		const struct sql_col *c = &s->cols[i];
		if (!sql_col_ident(c))
			continue;
		sb_add(b, "%s", first ? " WHERE " : " AND ");
		sb_ident(b, s->d, c->name);
		sb_add(b, " = ");
		sb_param(b, s, c, ++n);
		first = false;
	}
}

int sql_build(char *out, size_t len, const struct sql_schema *s, enum sql_mode m,
    const char *table, int rows, const char *conflict)
{
	struct sb b = { out, len, 0, false };

	if (rows < 1)
		rows = 1;
	if (m == SQLM_UPDATE) {
		build_update(&b, s, table);
		rows = 1;
	} else {
		build_insert(&b, s, table, rows);
		if (m == SQLM_UPSERT)
			build_upsert_tail(&b, s, conflict);
	}
	return b.bad ? -1 : rows * s->n;
}

/* Column type and default, per dialect: { sqlite, pgsql, mysql }. */
static const char *const col_types[][3] = {
	[SQLT_MAC] = { "CHAR(17) NOT NULL DEFAULT '0:0:0:0:0:0'", "macaddr NOT NULL DEFAULT '0:0:0:0:0:0'",
		"CHAR(17) NOT NULL DEFAULT '0:0:0:0:0:0'" },
	[SQLT_IP] = { "CHAR(45) NOT NULL DEFAULT '0.0.0.0'", "inet NOT NULL DEFAULT '0.0.0.0'",
		"CHAR(45) NOT NULL DEFAULT '0.0.0.0'" },
	[SQLT_U16] = { "INT(4) NOT NULL DEFAULT 0", "INT NOT NULL DEFAULT 0",
		"INT UNSIGNED NOT NULL DEFAULT 0" },
	[SQLT_U32] = { "INT(8) NOT NULL DEFAULT 0", "BIGINT NOT NULL DEFAULT 0",
		"INT UNSIGNED NOT NULL DEFAULT 0" },
	[SQLT_U64] = { "INT(8) NOT NULL DEFAULT 0", "BIGINT NOT NULL DEFAULT 0",
		"BIGINT UNSIGNED NOT NULL DEFAULT 0" },
	[SQLT_PROTO] = { "CHAR(6) NOT NULL DEFAULT 0", "SMALLINT NOT NULL DEFAULT 0",
		"CHAR(6) NOT NULL DEFAULT '0'" },
	[SQLT_CHAR16] = { "CHAR(16) NOT NULL DEFAULT ' '", "CHAR(16) NOT NULL DEFAULT ' '",
		"CHAR(16) NOT NULL DEFAULT ' '" },
	[SQLT_CHAR24] = { "CHAR(24) NOT NULL DEFAULT ' '", "CHAR(24) NOT NULL DEFAULT ' '",
		"CHAR(24) NOT NULL DEFAULT ' '" },
	[SQLT_TEXT] = { "VARCHAR(64) NOT NULL DEFAULT ''", "VARCHAR(64) NOT NULL DEFAULT ''",
		"VARCHAR(64) NOT NULL DEFAULT ''" },
	[SQLT_CNT32] = { "INT NOT NULL DEFAULT 0", "BIGINT NOT NULL DEFAULT 0",
		"BIGINT UNSIGNED NOT NULL DEFAULT 0" },
	[SQLT_CNT64] = { "BIGINT NOT NULL DEFAULT 0", "BIGINT NOT NULL DEFAULT 0",
		"BIGINT UNSIGNED NOT NULL DEFAULT 0" },
	[SQLT_REAL] = { "REAL NOT NULL DEFAULT 0", "DOUBLE PRECISION NOT NULL DEFAULT 0",
		"DOUBLE NOT NULL DEFAULT 0" },
};

static const char *stamp_type(const struct sql_schema *s, bool inserted)
{
	static const char *const epoch[] = { "INT(8) NOT NULL DEFAULT 0", "BIGINT NOT NULL DEFAULT 0",
		"BIGINT UNSIGNED NOT NULL DEFAULT 0" };
	static const char *const ins[] = { "DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00'",
		"timestamp without time zone NOT NULL DEFAULT '0001-01-01 00:00:00'",
		"DATETIME NOT NULL DEFAULT '1970-01-01 00:00:01'" };
	static const char *const upd[] = { "DATETIME", "timestamp without time zone", "DATETIME" };
	if (s->epoch)
		return inserted ? epoch[s->d] : (s->d == SQL_SQLITE ? "INT(8)" : "BIGINT");
	return inserted ? ins[s->d] : upd[s->d];
}

int sql_build_create(char *out, size_t len, const struct sql_schema *s, const char *table)
{
	struct sb b = { out, len, 0, false };
	bool first = true;
	struct sql_schema full = *s;

	/* created tables always carry the stamps, as pmacct's scripts */
	if (!full.stamps) {
		full.stamps = true;
		add_stamps(&full);
	}
	sb_add(&b, "CREATE TABLE IF NOT EXISTS ");
	sb_ident(&b, s->d, table);
	sb_add(&b, " (\n");
	for (int i = 0; i < full.n; i++) {
		const struct sql_col *c = &full.cols[i];
		const char *t = c->type == SQLT_STAMP ? stamp_type(&full, c->kind == SC_STAMP_INSERTED)
		    : col_types[c->type][s->d];
		sb_add(&b, "    ");
		sb_ident(&b, s->d, c->name);
		sb_add(&b, " %s,\n", t);
	}
	sb_add(&b, "    PRIMARY KEY (");
	for (int i = 0; i < full.n; i++) {
		if (!sql_col_ident(&full.cols[i]))
			continue;
		sb_add(&b, "%s", first ? "" : ", ");
		sb_ident(&b, s->d, full.cols[i].name);
		first = false;
	}
	sb_add(&b, ")\n)");
	return b.bad ? -1 : 0;
}

static bool agg_covers(const struct prim_set *agg, int id)
{
	if (prim_has(agg, (enum prim_id)id))
		return true;
	for (int i = P_SUM_HOST; i <= P_SUM_MAC; i++)	/* sum_* rows are built in */
		if ((int)prim_desc_of(NULL, i)->alias == id && prim_has(agg, (enum prim_id)i))
			return true;
	return false;
}

/* A primitive's value, or pmacct's default when the plugin does not aggregate it. */
static void prim_value(const struct sql_schema *s, const struct sql_col *c,
    const struct prim_set *agg, bool num_protos, const struct flow_key *k, struct sql_val *v)
{
	const struct prim_desc *d = prim_desc_of(s->reg, c->prim);
	struct out_opts o = { .num_protos = num_protos, .ts_utc = false, .bgp_spaces = true };
	bool have = agg_covers(agg, c->prim);
	uint64_t u = 0;

	/* custom primitives are text, as pmacct writes them (hex "beef", not 48879) */
	if ((d->fmt == PF_UINT || d->fmt == PF_HEX || (d->fmt == PF_PROTO && num_protos)) &&
	    !(d->flags & PRIM_CUSTOM)) {
		if (have && d->len)
			memcpy(&u, (const uint8_t *)k + d->off, d->len);	/* little-endian host */
		v->is_int = true;
		v->i = (int64_t)u;
		return;
	}
	v->is_int = false;
	if (!have) {
		/* BGP text not aggregated: the bgp tables' column default, ' ' */
		snprintf(v->s, sizeof(v->s), "%s", d->fmt == PF_CLASS ? "unknown" :
		    d->fmt == PF_MAC ? "0:0:0:0:0:0" :
		    d->fmt == PF_IP ? "0.0.0.0" : d->fmt == PF_PROTO ? "0" :
		    d->fmt == PF_COMMS || d->fmt == PF_ASPATH ? " " : "");
		return;
	}
	out_value(s->reg, d, k, 0, &o, v->s, sizeof(v->s));
	if (d->fmt == PF_IP && (!v->s[0] || strcmp(v->s, "::") == 0) && !((const struct fr_ip *)
	    (const void *)((const uint8_t *)k + d->off))->af)
		snprintf(v->s, sizeof(v->s), "0.0.0.0");	/* an address no record set: pmacct's */
}

int sql_row_values(const struct sql_schema *s, const struct prim_set *agg, bool num_protos,
    const struct flow_key *k, uint64_t packets, uint64_t bytes, uint64_t flows, uint8_t tcp_flags,
    int64_t bin, int64_t now, struct sql_val *out)
{
	for (int i = 0; i < s->n; i++) {
		const struct sql_col *c = &s->cols[i];
		struct sql_val *v = &out[i];
		memset(v, 0, sizeof(*v));
		v->is_int = true;
		switch (c->kind) {
		case SC_PRIM: prim_value(s, c, agg, num_protos || s->d == SQL_PGSQL, k, v); break;
		case SC_CONST:
			v->is_int = c->type != SQLT_CHAR16 && c->type != SQLT_CHAR24;
			snprintf(v->s, sizeof(v->s), "%s", c->type == SQLT_CHAR16 ? "unknown" : " ");
			break;
		case SC_PACKETS: v->i = (int64_t)packets; break;
		case SC_BYTES: v->i = (int64_t)bytes; break;
		case SC_FLOWS: v->i = (int64_t)flows; break;
		case SC_TCPFLAGS: v->i = prim_has(agg, P_TCPFLAGS) ? tcp_flags : 0; break;
		case SC_TS:
		case SC_TS_RESIDUAL: {
			struct fr_ts ts = { 0, 0 };
			if (agg_covers(agg, c->prim))
				memcpy(&ts, (const uint8_t *)k + prim_desc_of(s->reg, c->prim)->off, sizeof(ts));
			v->i = c->kind == SC_TS ? ts.sec : ts.usec;
			break;
		}
		case SC_COORD_LAT:
		case SC_COORD_LON: {	/* as text ("%.17g": the double exactly), 0 when not aggregated */
			double xy[2] = { 0, 0 };
			if (agg_covers(agg, c->prim))
				memcpy(xy, (const uint8_t *)k + prim_desc_of(s->reg, c->prim)->off, sizeof(xy));
			v->is_int = false;
			snprintf(v->s, sizeof(v->s), "%.17g", xy[c->kind == SC_COORD_LON]);
			break;
		}
		case SC_STAMP_INSERTED: v->i = bin; break;
		case SC_STAMP_UPDATED: v->i = now; break;
		default: break;
		}
	}
	return s->n;
}
