/* SPDX-License-Identifier: BSD-3-Clause */
/* netflow.h: NetFlow v1/v5/v7/v9 and IPFIX decoding: datagram in, struct flow_rec out. */
#ifndef DECODE_NETFLOW_H
#define DECODE_NETFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"
#include "model/prim.h"

/*
 * Why a datagram, a set or a record was dropped.  Counted per exporter and
 * shown by nf_log_stats() (SIGUSR1).  The names in nf_drop_names[].
 */
enum nf_drop {
	NF_DROP_SHORT,		/* shorter than its version's header */
	NF_DROP_VERSION,	/* unknown version */
	NF_DROP_V8,		/* v8 aggregation export: counted, not decoded */
	NF_DROP_COUNT_LEN,	/* v1/v5/v7: count does not match the length */
	NF_DROP_MSG_LEN,	/* IPFIX: message length != datagram length */
	NF_DROP_SET_LEN,	/* set/flowset length < 4 or beyond the message */
	NF_DROP_TEMPLATE,	/* malformed (options) template record */
	NF_DROP_NO_TEMPLATE,	/* data set before its template */
	NF_DROP_RECORD,		/* data record truncated / bad variable length */
	NF_DROP_PADDING,	/* data set whose padding is not zero (pre_processing_checks) */
	NF_DROP_N
};

extern const char *const nf_drop_names[NF_DROP_N];

/* Decoder options (from the config, filled by the daemon). */
struct nf_opts {
	bool time_secs;		/* nfacctd_time_secs: v5/v9 uptimes in seconds */
	bool time_new;		/* nfacctd_time_new: time-bin by arrival */
	bool renormalize;	/* nfacctd_renormalize (-R) */
	bool use_ip_next_hop;	/* peer_dst_ip from the IP next hop (IE 15/62, v5) */
	bool account_options;	/* nfacctd_account_options: also emit option records */
	uint32_t ext_sampling_rate;	/* nfacctd_ext_sampling_rate, 0 = none */
	uint32_t max_templates;	/* cap on cached templates, 0 = default */
	uint32_t max_exporters;	/* exporters with counters of their own, 0 = default */
	uint32_t hold_secs;	/* hold data sets that precede their template this long, 0 = off */
	size_t hold_bytes;	/* at most this many bytes of them (0 = default) */
	bool ignore_exporter_address;	/* peer_src_ip never from options IE 130/131 */
	bool pre_processing_checks;	/* nfacctd_pre_processing_checks: drop sets with non-zero padding */
	bool emit_writes_tail;	/* emit() may write the key's cold tail (flow_to_rd_map): clear it each record */
	const struct prim_custom *custom;	/* custom primitives to fill (aggregate_primitives) */
	int ncustom;
};

struct nf_state;
struct table_gauge;

/*
 * The ceilings of one decoder state (model/gauge.h), from its options alone
 * (-T config allocates nothing): exporters with counters of their own
 * (max_exporters, 0 = the default) and, with them, every interface / VRF
 * name they learn (NF_NAMES_MAX_TOTAL names per state); templates
 * (max_templates), holding at most NF_TPL_AVG_BYTES each on average.
 */
#define NF_NAMES_MAX_TOTAL	262144u
#define NF_TPL_AVG_BYTES	1024u
void nf_state_plan(const struct nf_opts *opts, uint64_t *exp_entries, uint64_t *exp_bytes,
    uint64_t *tpl_entries, uint64_t *tpl_bytes);

/*
 * Publish the fill of the exporters and the templates on g_exp and g_tpl
 * (NULL: none), from the state's own thread: on each new exporter or
 * template, each one removed, and each refused (gauge_hit).
 */
void nf_state_set_gauges(struct nf_state *st, struct table_gauge *g_exp, struct table_gauge *g_tpl);

/*
 * The early data held (hold_secs): its ceiling is hold_bytes (0 = the
 * default), sets of one 4-byte record at most; nf_state_set_held_gauge()
 * publishes its fill on g (NULL: none) as nf_state_set_gauges() does.
 */
void nf_state_held_plan(const struct nf_opts *opts, uint64_t *entries, uint64_t *bytes);
void nf_state_set_held_gauge(struct nf_state *st, struct table_gauge *g);

/* Where decoded records go; the record may be reused after emit returns. */
typedef void (*nf_emit_fn)(void *arg, struct flow_rec *rec);

/* New decoder state (templates, exporters, stats); free with nf_state_free(). */
struct nf_state *nf_state_new(const struct nf_opts *opts);
void nf_state_free(struct nf_state *st);

/*
 * Decode one datagram from exporter `src` received at `arrival`: every flow
 * record is emitted (v5: one per flow; v9/IPFIX: one per data record whose
 * template is known).  Never fails: malformed input is counted by reason
 * under the exporter.  Returns the number of records emitted.
 */
size_t nf_decode(struct nf_state *st, const uint8_t *data, size_t len, const struct fr_ip *src,
    const struct fr_ts *arrival, nf_emit_fn emit, void *arg);

/*
 * Per-exporter statistics, one line per (exporter, source id) in pmacct's
 * SIGUSR1 format, written through `out` (a log function).
 */
typedef void (*nf_line_fn)(void *arg, const char *line);
void nf_stats_lines(const struct nf_state *st, int64_t now, nf_line_fn out, void *arg);

/* Totals over all exporters (tests, benchmarks). */
struct nf_totals {
	uint64_t packets, records, templates, seq_fwd, seq_bck;
	uint64_t drops[NF_DROP_N];
	uint64_t templates_refused;	/* new templates refused: max_templates reached */
	uint64_t exporters_refused;	/* datagrams of exporters past max_exporters */
	uint64_t names_refused;		/* interface / VRF names past NF_NAMES_MAX_TOTAL */
	uint64_t held, held_decoded, held_expired;	/* early data sets (hold_secs) */
	uint64_t held_records;		/* records decoded from them */
	size_t held_bytes;		/* held right now */
};
void nf_totals(const struct nf_state *st, struct nf_totals *t);

/*
 * Housekeeping at time `now` (seconds, the clock of the datagrams' arrival
 * times): early data sets held past hold_secs are given up, each counted as
 * unknown_template against its exporter.
 */
void nf_state_expire(struct nf_state *st, int64_t now);

/*
 * The nfacctd_templates_file format, in memory (pipeline/nf_tplstore.c
 * reads and writes the file): every cached template as one JSON line,
 * {"version": 9, "exporter": "192.0.2.1", "domain": 0, "id": 256,
 *  "options": 0, "scope": 0, "fields": [[8, 4, 0], [12, 4, 0]]},
 * or only those of exporters the decoder has received datagrams from
 * (served_only).  Returns a heap string the caller frees; its length in
 * *len when len is not NULL.
 */
char *nf_templates_dump(const struct nf_state *st, bool served_only, size_t *len);

/*
 * Load templates from text[0..len) (it need not be NUL-terminated): JSON
 * objects as nf_templates_dump() writes them, in any valid JSON spelling
 * (spacing, key order, line breaks).  Every valid one is cached; returns 0
 * when all were, -1 when one was not JSON or not a template.
 */
int nf_templates_parse(struct nf_state *st, const char *text, size_t len);

#endif
