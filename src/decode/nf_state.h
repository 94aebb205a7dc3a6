/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_state.h: NetFlow/IPFIX decoder state: exporters (sequence tracking, samplers, stats) and templates. */
#ifndef DECODE_NF_STATE_H
#define DECODE_NF_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "decode/netflow.h"
#include "decode/nf_ie.h"

#define NF_MAX_SAMPLERS 16
#define NF_MAX_FIELDS 1024	/* fields in one template; more is counted as malformed */

#define NF_MAX_NAMES 4096	/* interface / VRF names learned per exporter */

/*
 * A name an options record gave an interface or a VRF, and a VRF's route
 * distinguishers: as ingress VRF (IE 234) and as egress VRF (IE 235) of
 * the options record that mapped it, kept apart as pmacct keeps them.
 */
struct nf_name {
	uint32_t id;			/* ifIndex / VRF id */
	bool has_rd, has_out_rd;
	uint8_t rd[8];			/* as ingress VRF */
	uint8_t out_rd[8];		/* as egress VRF */
	char name[FR_NAME_MAX];
};

/* Name slots allocated by a state's exporters, and names refused past NF_NAMES_MAX_TOTAL. */
struct nf_names_budget {
	uint64_t used, refused;
};

/*
 * Names by id, sorted for binary search; bounded by NF_MAX_NAMES, and all
 * names of a state together by NF_NAMES_MAX_TOTAL (netflow.h): `budget`
 * is the state's (NULL: none).
 */
struct nf_names {
	struct nf_name *v;
	uint32_t n, cap;
	struct nf_names_budget *budget;
};

/* One exporting process: (address, source id / observation domain / v5 engine). */
struct nf_exporter {
	struct fr_ip addr;
	uint32_t domain;
	uint16_t version;
	bool seq_init;
	uint32_t seq_next;		/* expected next sequence number */
	uint64_t packets, bytes, records;
	uint64_t seq_good, seq_fwd, seq_bck;
	uint64_t drops[NF_DROP_N];
	uint64_t held, held_records;	/* early data sets held; records decoded from them later */
	uint32_t sys_rate;		/* system-scoped sampling interval from options */
	uint32_t last_rate;		/* the rate a sampler's options record gave last */
	uint16_t nsamplers;
	struct { uint64_t id; uint32_t rate; } samplers[NF_MAX_SAMPLERS];
	struct fr_ip exp_addr;		/* options IE 130/131 exporter address, af 0 = none */
	struct nf_names ifnames;	/* options IE 82, by ifIndex */
	struct nf_names vrfs;		/* options IE 236 / IE 90, by VRF id */
	struct nf_names apps;		/* options IE 96 application names, by nf9 selector of IE 95 */
	struct nf_exporter *next;
};

/* A received template, keyed by (address, domain, version, template id). */
struct nf_tpl {
	struct fr_ip addr;
	uint32_t domain;
	uint16_t version;
	uint16_t id;
	bool options;			/* options template (v9 flowset 1, IPFIX set 3) */
	uint16_t nscope;		/* scope fields (options) */
	uint16_t nfields;
	struct nf_field *fields;	/* as received, for persistence */
	struct nf_prog prog;
	struct nf_tpl *next;
};

/*
 * A data set that arrived before its template (nf_opts.hold_secs), with
 * what its message header said, waiting for the template.
 */
struct nf_held {
	struct nf_held *next;
	struct fr_ip src;
	uint32_t domain;
	uint16_t version, id;
	uint32_t uptime, secs, seq;	/* the message header's */
	struct fr_ts arrival;
	uint32_t len;
	uint8_t data[];			/* the set's records */
};

struct nf_state {
	struct nf_opts opts;
	struct nf_exporter **exp;	/* hash buckets */
	uint32_t exp_mask;
	uint32_t nexp;
	struct nf_tpl **tpl;
	uint32_t tpl_mask;
	uint64_t seed;			/* hash_seed(): exporter addresses are the sender's choice */
	uint32_t ntpl;
	uint64_t templates_seen;
	struct nf_exporter *last_exp;	/* one-entry cache */
	struct nf_exporter *overflow;	/* counters of exporters past max_exporters */
	uint64_t exporters_refused, templates_refused;
	struct nf_names_budget names;		/* every exporter's names together */
	uint64_t tpl_bytes, tpl_bytes_max;	/* templates' memory now, and its ceiling */
	struct table_gauge *g_exp, *g_tpl, *g_held;
	uint64_t held_n;			/* sets held now */
	struct nf_held *held, **held_tail;	/* oldest first */
	size_t held_bytes;
	uint64_t held_sets, held_decoded, held_expired;
	struct nf_field fbuf[NF_MAX_FIELDS];	/* a template being parsed */
};

/*
 * Find or create the exporter (addr, domain); never NULL: past
 * max_exporters, a new one shares the overflow entry (address unset).
 */
struct nf_exporter *nf_exporter_get(struct nf_state *st, const struct fr_ip *addr,
    uint32_t domain, uint16_t version);

/*
 * Sequence tracking as pmacct counts it: `seq` is the header's, `next` the
 * value the following datagram should carry.
 */
void nf_seq_check(struct nf_exporter *e, uint32_t seq, uint32_t next);

/* Count a drop against the exporter (NULL: against the unknown exporter of addr). */
void nf_drop(struct nf_state *st, struct nf_exporter *e, const struct fr_ip *addr,
    enum nf_drop why);

/* Template lookup; NULL if unknown. */
struct nf_tpl *nf_tpl_find(struct nf_state *st, const struct fr_ip *addr, uint32_t domain,
    uint16_t version, uint16_t id);

/*
 * Add or replace (same key, new layout) a template made of fields[0..n),
 * nscope of them scope fields.  Takes a copy of fields.  Returns the
 * template, or NULL when it does not compile (counted by the caller).
 */
struct nf_tpl *nf_tpl_put(struct nf_state *st, const struct fr_ip *addr, uint32_t domain,
    uint16_t version, uint16_t id, bool options, const struct nf_field *fields, uint16_t n,
    uint16_t nscope);

/*
 * Hold a data set of message (src, domain, version) for template id until
 * that template arrives (hold_secs, hold_bytes); false when holding is off
 * or full (the caller counts the set as unknown_template).
 */
bool nf_hold_put(struct nf_state *st, const struct nf_held *hdr, const uint8_t *data,
    size_t len);

/* Unlink and return the oldest held set for (src, domain, version, id); NULL if none. */
struct nf_held *nf_hold_take(struct nf_state *st, const struct fr_ip *src, uint32_t domain,
    uint16_t version, uint16_t id);

/* IPFIX withdrawal (RFC 7011 8.1): one template, or all of a kind with id 2 / 3. */
void nf_tpl_withdraw(struct nf_state *st, const struct fr_ip *addr, uint32_t domain,
    uint16_t version, uint16_t id);

/*
 * The entry for id in t, created (zeroed) when `create` and there is room
 * (NF_MAX_NAMES in t, NF_NAMES_MAX_TOTAL in t's budget: counted there when
 * not); NULL otherwise.  An entry is updated in place: a later options record
 * replaces what an earlier one said.
 */
struct nf_name *nf_names_get(struct nf_names *t, uint32_t id, bool create);

/* Publish the fill of the exporters and templates on their gauges (once a second, and on changes). */
void nf_state_publish(struct nf_state *st);

/* Record a sampler's rate from an options record (id 0 with !has_id: system scope). */
void nf_sampler_set(struct nf_exporter *e, bool has_id, uint64_t id, uint32_t rate);

/* The rate for a record: its sampler's; without a sampler id the system's, sampler 0's or the last announced; else 0. */
static inline uint32_t nf_sampler_rate(const struct nf_exporter *e, bool has_id, uint64_t id)
{
	/*
	 * As pmacct 1.7.7 and master (verified): a record naming a sampler the
	 * options never described has no rate; a record naming none gets the
	 * system-scoped rate (options without a sampler id), else sampler 0's,
	 * else the rate the exporter's options announced last.
	 */
	if (!has_id) {
		if (e->sys_rate)
			return e->sys_rate;
		id = 0;
	}
	for (uint16_t i = 0; i < e->nsamplers; i++)
		if (e->samplers[i].id == id)
			return e->samplers[i].rate;
	return has_id ? 0 : e->last_rate;
}

/*
 * Finish a decoded record: flows = 1 unless carried, sampling (ext rate,
 * renormalize), the time-bin timestamp (arrival with nfacctd_time_new,
 * else rec->ts when the decoder set it, else the flow start).  `rate` is
 * the exporter's sampling interval for it (0 unknown).
 */
void nf_rec_finish(const struct nf_state *st, struct flow_rec *rec, uint32_t rate);

/* The v5/v7/v1 decoder (nf5.c) and the v9/IPFIX one (nf9_ipfix.c). */
size_t nf5_decode(struct nf_state *st, const uint8_t *data, size_t len, const struct fr_ip *src,
    const struct fr_ts *arrival, nf_emit_fn emit, void *arg);
size_t nf9_decode(struct nf_state *st, const uint8_t *data, size_t len, const struct fr_ip *src,
    const struct fr_ts *arrival, nf_emit_fn emit, void *arg);

#endif
