/* SPDX-License-Identifier: BSD-3-Clause */
/* output.h: render aggregates as pmacct's formatted, CSV and JSON text, from the primitives table. */
#ifndef PLUGINS_OUTPUT_H
#define PLUGINS_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "model/prim.h"

/* How to render: format and pmacct's rendering switches. */
struct out_opts {
	enum print_fmt fmt;
	char sep[8];		/* CSV separator */
	bool num_protos;	/* numeric IP protocol */
	bool ts_utc, ts_rfc3339, ts_secs, ts_since_epoch;
	bool json_event_type;	/* print plugin JSON starts with "event_type": "purge" */
	bool stamps;		/* JSON: stamp_inserted / stamp_updated (history set) */
	bool client;		/* pmacct client: JSON quotes ip_proto even numeric (-u), packets before flows */
	bool tcpflags_array;	/* tcpflags_encode_as_array: JSON tcp_flags as ["SYN", ...] */
	bool mpls_array;	/* mpls_label_stack_encode_as_array: JSON ["0-<label>", ...] */
	bool fwd_status_str;	/* fwd_status_encode_as_string: RFC 7270 reason text */
	bool label_map;		/* pre_tag_label_encode_as_map: JSON label as an object */
	bool aspath_array;	/* as_path_encode_as_array: JSON as_path(_src) as ["65001", ...] */
	bool comms_array;	/* bgp_comms_encode_as_array: JSON (e|l)comms(_src) as ["65000:1", ...] */
	bool bgp_spaces;	/* BGP text as stored, tokens joined by ' ' (SQL); else by '_' */
};

/* The columns a plugin prints: its primitives in table order, sum_* as their alias. */
struct out_cols {
	const struct prim_registry *reg;	/* whose rows ids name (not owned; NULL = built-ins) */
	uint8_t ids[P_COUNT];
	const struct prim_desc *desc[P_COUNT];	/* prim_desc_of(reg, ids[i]), resolved once */
	uint8_t jids[P_COUNT];	/* the same columns in JSON's order (BGP attributes move) */
	int n;
	bool flows;		/* FLOWS counter column */
	bool tcpflags;
	bool stitch;		/* TIMESTAMP_MIN / TIMESTAMP_MAX ([nf|sf|pm]acctd_stitching) */
};

/* The counters printed after the key columns. */
struct out_counters {
	uint64_t packets, bytes, flows;
	uint8_t tcp_flags;
	int64_t stamp_inserted, stamp_updated;	/* JSON with history only */
};

/*
 * Columns for an aggregate set of registry reg (all of them when `all`, as
 * the client's -a); c keeps reg, which must outlive it.  `client`: the
 * pmacct client's formatted order, which puts IN_IFACE and OUT_IFACE right
 * after the tags instead of just before SRC_IP.
 */
void out_cols_init(struct out_cols *c, const struct prim_registry *reg, const struct prim_set *set,
    bool all, bool client);

/* Default options for a plugin's configuration. */
void out_opts_from_cfg(struct out_opts *o, const struct plugin_cfg *pc, const struct core_cfg *cc);

/* Header line (formatted, CSV and their event_ forms; nothing for JSON). */
void out_header(FILE *f, const struct out_cols *c, const struct out_opts *o);

/* One row. */
void out_row(FILE *f, const struct out_cols *c, const struct out_opts *o,
    const struct flow_key *k, const struct out_counters *cnt);

/* One row with stitching's TIMESTAMP_MIN / TIMESTAMP_MAX (out_cols.stitch). */
void out_row_stitch(FILE *f, const struct out_cols *c, const struct out_opts *o,
    const struct flow_key *k, const struct out_counters *cnt, const struct fr_ts *ts_min,
    const struct fr_ts *ts_max);

/* Render the value of primitive d, a row of reg, as text (no JSON quoting). Returns buf. */
const char *out_value(const struct prim_registry *reg, const struct prim_desc *d,
    const struct flow_key *k, uint8_t tcp_flags, const struct out_opts *o, char *buf, size_t len);

/* Write s as a quoted JSON string, escaping quotes, backslashes and control characters. */
void out_json_str(FILE *f, const char *s);

/*
 * The JSON markers' writer_id: writer_id_string `tpl` (NULL: pmacct's
 * default "$proc_name/$writer_pid") with $proc_name, $writer_pid and
 * $pmacct_build replaced.
 */
void out_writer_id(const char *tpl, const char *proc_name, long pid, char *out, size_t len);

/* RFC 7270 forwarding status text as pmacct prints it ("FORWARDED Unknown", ...). */
const char *out_fwd_status_text(uint8_t v);

/* The name of an FR_RD_ORIGIN_* value ("flow", "map" ...), as pmacct prints mpls_vpn_rd_origin. */
const char *out_rd_origin_text(uint8_t origin);

/* Protocol name as pmacct prints it ("tcp", "udp", ... or the number). */
const char *out_proto_name(uint8_t proto, char *buf, size_t len);

/* The timefmt TF_* flags for the options' timestamps_* switches. */
unsigned out_ts_flags(const struct out_opts *o);

#endif
