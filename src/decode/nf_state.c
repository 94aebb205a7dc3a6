/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_state.c: per-exporter state (sequence tracking, samplers, drop counters) and the template cache. */
#include "nf_state.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/rd.h"
#include "lib/xalloc.h"
#include "model/gauge.h"

const char *const nf_drop_names[NF_DROP_N] = {
	[NF_DROP_SHORT] = "short",
	[NF_DROP_VERSION] = "bad_version",
	[NF_DROP_V8] = "v8",
	[NF_DROP_COUNT_LEN] = "bad_count",
	[NF_DROP_MSG_LEN] = "bad_length",
	[NF_DROP_SET_LEN] = "bad_set_length",
	[NF_DROP_TEMPLATE] = "bad_template",
	[NF_DROP_NO_TEMPLATE] = "unknown_template",
	[NF_DROP_RECORD] = "bad_record",
	[NF_DROP_PADDING] = "bad_padding",
};

#define NF_EXP_BUCKETS 256	/* initial buckets; they double while entries > 2 x buckets */
#define NF_TPL_BUCKETS 1024
#define NF_MAX_BUCKETS (1u << 24)
#define NF_TPL_DEFAULT_MAX 65536
#define NF_EXP_DEFAULT_MAX 65536
#define NF_HOLD_DEFAULT_BYTES ((size_t)4 << 20)

struct nf_state *nf_state_new(const struct nf_opts *opts)
{
	struct nf_state *st = xcalloc(1, sizeof(*st));

	st->opts = *opts;
	if (!st->opts.max_templates)
		st->opts.max_templates = NF_TPL_DEFAULT_MAX;
	if (!st->opts.max_exporters)
		st->opts.max_exporters = NF_EXP_DEFAULT_MAX;
	if (!st->opts.hold_bytes)
		st->opts.hold_bytes = NF_HOLD_DEFAULT_BYTES;
	st->held_tail = &st->held;
	st->seed = hash_seed();
	st->exp_mask = NF_EXP_BUCKETS - 1;
	st->exp = xcalloc(NF_EXP_BUCKETS, sizeof(*st->exp));
	st->tpl_mask = NF_TPL_BUCKETS - 1;
	st->tpl = xcalloc(NF_TPL_BUCKETS, sizeof(*st->tpl));
	st->tpl_bytes_max = (uint64_t)st->opts.max_templates * NF_TPL_AVG_BYTES;
	return st;
}

/* Buckets of a table grown (from `min`, doubling while entries > 2 x buckets) to n entries. */
static uint64_t nf_buckets_for(uint64_t n, uint32_t min)
{
	uint64_t b = min;

	while (n > 2 * b && b < NF_MAX_BUCKETS)
		b <<= 1;
	return b;
}

void nf_state_plan(const struct nf_opts *opts, uint64_t *exp_entries, uint64_t *exp_bytes,
    uint64_t *tpl_entries, uint64_t *tpl_bytes)
{
	uint64_t me = opts->max_exporters ? opts->max_exporters : NF_EXP_DEFAULT_MAX;
	uint64_t mt = opts->max_templates ? opts->max_templates : NF_TPL_DEFAULT_MAX;

	*exp_entries = me;
	/* the overflow entry is one more exporter */
	*exp_bytes = (me + 1) * sizeof(struct nf_exporter) +
	    nf_buckets_for(me, NF_EXP_BUCKETS) * sizeof(void *) +
	    (uint64_t)NF_NAMES_MAX_TOTAL * sizeof(struct nf_name);
	*tpl_entries = mt;
	*tpl_bytes = mt * NF_TPL_AVG_BYTES + nf_buckets_for(mt, NF_TPL_BUCKETS) * sizeof(void *);
}

/* Exporters' memory now: entries, buckets and every name slot. */
static uint64_t nf_exp_bytes(const struct nf_state *st)
{
	return (st->nexp + (st->overflow != NULL)) * sizeof(struct nf_exporter) +
	    (uint64_t)(st->exp_mask + 1) * sizeof(void *) + st->names.used * sizeof(struct nf_name);
}

void nf_state_held_plan(const struct nf_opts *opts, uint64_t *entries, uint64_t *bytes)
{
	*bytes = opts->hold_bytes ? opts->hold_bytes : NF_HOLD_DEFAULT_BYTES;
	*entries = *bytes / (sizeof(struct nf_held) + 4);
}

void nf_state_set_held_gauge(struct nf_state *st, struct table_gauge *g)
{
	st->g_held = g;
	nf_state_publish(st);
}

void nf_state_publish(struct nf_state *st)
{
	gauge_set(st->g_held, st->held_n, st->held_bytes);
	gauge_set(st->g_exp, st->nexp, nf_exp_bytes(st));
	gauge_set(st->g_tpl, st->ntpl, st->tpl_bytes + (uint64_t)(st->tpl_mask + 1) * sizeof(void *));
}

void nf_state_set_gauges(struct nf_state *st, struct table_gauge *g_exp, struct table_gauge *g_tpl)
{
	st->g_exp = g_exp;
	st->g_tpl = g_tpl;
	nf_state_publish(st);
}

/* What a template of n fields compiled into nsteps steps holds. */
static uint64_t nf_tpl_size(uint16_t n, uint16_t nsteps)
{
	return sizeof(struct nf_tpl) + (uint64_t)(n ? n : 1) * sizeof(struct nf_field) +
	    (uint64_t)nsteps * sizeof(struct nf_step);
}

static void nf_tpl_destroy(struct nf_tpl *t)
{
	nf_prog_free(&t->prog);
	free(t->fields);
	free(t);
}

void nf_state_free(struct nf_state *st)
{
	if (!st)
		return;
	for (struct nf_held *h = st->held, *n; h; h = n) {
		n = h->next;
		free(h);
	}
	if (st->overflow) {
		free(st->overflow->ifnames.v);
		free(st->overflow->vrfs.v);
		free(st->overflow->apps.v);
		free(st->overflow);
	}
	for (uint32_t i = 0; i <= st->exp_mask; i++)
		for (struct nf_exporter *e = st->exp[i], *n; e; e = n) {
			n = e->next;
			free(e->ifnames.v);
			free(e->vrfs.v);
			free(e->apps.v);
			free(e);
		}
	for (uint32_t i = 0; i <= st->tpl_mask; i++)
		for (struct nf_tpl *t = st->tpl[i], *n; t; t = n) {
			n = t->next;
			nf_tpl_destroy(t);
		}
	free(st->exp);
	free(st->tpl);
	free(st);
}

/* The address bytes nf_ip_eq compares (4 or 16), the domain and extra (version, template id). */
static uint32_t nf_hash(const struct nf_state *st, const struct fr_ip *a, uint32_t domain,
    uint32_t extra)
{
	uint8_t k[25];
	size_t n = a->af == 6 ? 16 : 4;

	memcpy(k, &domain, 4);
	memcpy(k + 4, &extra, 4);
	k[8] = a->af;
	memcpy(k + 9, a->a, n);
	return (uint32_t)hash_bytes(k, 9 + n, st->seed);
}

static bool nf_ip_eq(const struct fr_ip *a, const struct fr_ip *b)
{
	return a->af == b->af && memcmp(a->a, b->a, a->af == 6 ? 16 : 4) == 0;
}

/*
 * Twice the buckets once entries outnumber them twice: a flood of
 * distinct exporters or templates keeps chains short (with 256 fixed
 * buckets, 65536 exporters made every lookup walk 256 of them).
 */
static void nf_exp_grow(struct nf_state *st)
{
	uint32_t nb = (st->exp_mask + 1) * 2;
	struct nf_exporter **t = xcalloc(nb, sizeof(*t));

	for (uint32_t i = 0; i <= st->exp_mask; i++)
		for (struct nf_exporter *e = st->exp[i], *n; e; e = n) {
			uint32_t b = nf_hash(st, &e->addr, e->domain, e->version) & (nb - 1);
			n = e->next;
			e->next = t[b];
			t[b] = e;
		}
	free(st->exp);
	st->exp = t;
	st->exp_mask = nb - 1;
}

static void nf_tpl_grow(struct nf_state *st)
{
	uint32_t nb = (st->tpl_mask + 1) * 2;
	struct nf_tpl **t = xcalloc(nb, sizeof(*t));

	for (uint32_t i = 0; i <= st->tpl_mask; i++)
		for (struct nf_tpl *e = st->tpl[i], *n; e; e = n) {
			uint32_t b = nf_hash(st, &e->addr, e->domain, (uint32_t)e->version << 16 | e->id) &
			    (nb - 1);
			n = e->next;
			e->next = t[b];
			t[b] = e;
		}
	free(st->tpl);
	st->tpl = t;
	st->tpl_mask = nb - 1;
}

struct nf_exporter *nf_exporter_get(struct nf_state *st, const struct fr_ip *addr,
    uint32_t domain, uint16_t version)
{
	struct nf_exporter *e = st->last_exp;

	if (e && e->domain == domain && e->version == version && nf_ip_eq(&e->addr, addr))
		return e;
	uint32_t b = nf_hash(st, addr, domain, version) & st->exp_mask;
	for (e = st->exp[b]; e; e = e->next)
		if (e->domain == domain && e->version == version && nf_ip_eq(&e->addr, addr))
			return st->last_exp = e;
	if (st->nexp >= st->opts.max_exporters) {
		/* a flood of (spoofed) sources: counted, not each given memory */
		st->exporters_refused++;
		gauge_hit(st->g_exp, 1);
		if (!st->overflow) {
			st->overflow = xcalloc(1, sizeof(*st->overflow));
			st->overflow->ifnames.budget = st->overflow->vrfs.budget = &st->names;
			st->overflow->apps.budget = &st->names;
		}
		return st->overflow;
	}
	e = xcalloc(1, sizeof(*e));
	e->addr = *addr;
	e->domain = domain;
	e->version = version;
	e->ifnames.budget = e->vrfs.budget = e->apps.budget = &st->names;
	e->next = st->exp[b];
	st->exp[b] = e;
	st->nexp++;
	if (st->nexp > 2 * ((uint64_t)st->exp_mask + 1) && st->exp_mask + 1 < NF_MAX_BUCKETS)
		nf_exp_grow(st);
	nf_state_publish(st);
	return st->last_exp = e;
}

void nf_seq_check(struct nf_exporter *e, uint32_t seq, uint32_t next)
{
	if (e->seq_init) {
		int32_t d = (int32_t)(seq - e->seq_next);
		if (d == 0)
			e->seq_good++;
		else if (d > 0)
			e->seq_fwd++;
		else
			e->seq_bck++;
	} else {
		e->seq_good++;
		e->seq_init = true;
	}
	e->seq_next = next;
}

void nf_drop(struct nf_state *st, struct nf_exporter *e, const struct fr_ip *addr,
    enum nf_drop why)
{
	if (!e)
		e = nf_exporter_get(st, addr, 0, 0);
	e->drops[why]++;
}

struct nf_tpl *nf_tpl_find(struct nf_state *st, const struct fr_ip *addr, uint32_t domain,
    uint16_t version, uint16_t id)
{
	uint32_t b = nf_hash(st, addr, domain, (uint32_t)version << 16 | id) & st->tpl_mask;

	for (struct nf_tpl *t = st->tpl[b]; t; t = t->next)
		if (t->id == id && t->domain == domain && t->version == version &&
		    nf_ip_eq(&t->addr, addr))
			return t;
	return NULL;
}

/* Same layout as before?  Then a refresh costs no recompilation. */
static bool nf_tpl_same(const struct nf_tpl *t, bool options, const struct nf_field *f,
    uint16_t n, uint16_t nscope)
{
	return t->options == options && t->nfields == n && t->nscope == nscope &&
	    memcmp(t->fields, f, n * sizeof(*f)) == 0;
}

struct nf_tpl *nf_tpl_put(struct nf_state *st, const struct fr_ip *addr, uint32_t domain,
    uint16_t version, uint16_t id, bool options, const struct nf_field *fields, uint16_t n,
    uint16_t nscope)
{
	struct nf_tpl *t = nf_tpl_find(st, addr, domain, version, id);
	struct nf_prog prog;

	st->templates_seen++;
	if (t && nf_tpl_same(t, options, fields, n, nscope))
		return t;
	/* v9 scope fields have their own numbering (RFC 3954 6.1): never map them */
	if (nf_prog_compile(&prog, fields, n, version == 9 ? nscope : 0, st->opts.custom,
	    st->opts.ncustom) < 0)
		return NULL;
	uint64_t size = nf_tpl_size(n, prog.nsteps), old = t ? nf_tpl_size(t->nfields, t->prog.nsteps) : 0;
	if ((!t && st->ntpl >= st->opts.max_templates) ||
	    st->tpl_bytes - old + size > st->tpl_bytes_max) {
		/* a new one past the ceiling, or a replacement that would not fit: the old stays */
		st->templates_refused++;
		gauge_hit(st->g_tpl, 1);
		nf_prog_free(&prog);
		return NULL;
	}
	st->tpl_bytes += size - old;
	if (!t) {
		uint32_t b = nf_hash(st, addr, domain, (uint32_t)version << 16 | id) & st->tpl_mask;
		t = xcalloc(1, sizeof(*t));
		t->addr = *addr;
		t->domain = domain;
		t->version = version;
		t->id = id;
		t->next = st->tpl[b];
		st->tpl[b] = t;
		st->ntpl++;
		if (st->ntpl > 2 * ((uint64_t)st->tpl_mask + 1) && st->tpl_mask + 1 < NF_MAX_BUCKETS)
			nf_tpl_grow(st);
	} else {
		nf_prog_free(&t->prog);
		free(t->fields);
	}
	t->options = options;
	t->nscope = nscope;
	t->nfields = n;
	t->fields = xmalloc((n ? n : 1) * sizeof(*fields));
	if (n)
		memcpy(t->fields, fields, n * sizeof(*fields));
	t->prog = prog;
	nf_state_publish(st);
	return t;
}

void nf_tpl_withdraw(struct nf_state *st, const struct fr_ip *addr, uint32_t domain,
    uint16_t version, uint16_t id)
{
	for (uint32_t b = 0; b <= st->tpl_mask; b++) {
		struct nf_tpl **pp = &st->tpl[b];
		while (*pp) {
			struct nf_tpl *t = *pp;
			bool all = (id == 2 && !t->options) || (id == 3 && t->options);
			if (t->domain == domain && t->version == version &&
			    nf_ip_eq(&t->addr, addr) && (t->id == id || all)) {
				*pp = t->next;
				st->tpl_bytes -= nf_tpl_size(t->nfields, t->prog.nsteps);
				nf_tpl_destroy(t);
				st->ntpl--;
				nf_state_publish(st);
			} else {
				pp = &t->next;
			}
		}
	}
}

struct nf_name *nf_names_get(struct nf_names *t, uint32_t id, bool create)
{
	uint32_t lo = 0, hi = t->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (t->v[mid].id == id)
			return &t->v[mid];
		if (t->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!create || t->n >= NF_MAX_NAMES)
		return NULL;
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 16;
		if (t->budget && t->budget->used - t->cap + cap > NF_NAMES_MAX_TOTAL) {
			t->budget->refused++;
			return NULL;
		}
		if (t->budget)
			t->budget->used += cap - t->cap;
		t->cap = cap;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	memmove(&t->v[lo + 1], &t->v[lo], (t->n - lo) * sizeof(*t->v));
	t->n++;
	memset(&t->v[lo], 0, sizeof(t->v[lo]));
	t->v[lo].id = id;
	return &t->v[lo];
}

void nf_sampler_set(struct nf_exporter *e, bool has_id, uint64_t id, uint32_t rate)
{
	if (!has_id) {
		e->sys_rate = rate;
		return;
	}
	e->last_rate = rate;
	for (uint16_t i = 0; i < e->nsamplers; i++)
		if (e->samplers[i].id == id) {
			e->samplers[i].rate = rate;
			return;
		}
	/* a full table forgets its oldest entry: samplers are few in practice */
	if (e->nsamplers == NF_MAX_SAMPLERS) {
		memmove(&e->samplers[0], &e->samplers[1],
		    (NF_MAX_SAMPLERS - 1) * sizeof(e->samplers[0]));
		e->nsamplers--;
	}
	uint16_t i = e->nsamplers++;
	e->samplers[i].id = id;
	e->samplers[i].rate = rate;
}

void nf_rec_finish(const struct nf_state *st, struct flow_rec *rec, uint32_t rate)
{
	if (!rec->flows)
		rec->flows = 1;
	/*
	 * As pmacct 1.7.7 (verified): nfacctd_ext_sampling_rate replaces the
	 * exported rate when renormalizing, and only then; the primitive keeps
	 * the exported rate, or says 1 once the counters are renormalized.
	 */
	if (st->opts.renormalize) {
		uint32_t mult = st->opts.ext_sampling_rate ? st->opts.ext_sampling_rate : rate;
		if (mult) {
			rec->bytes *= mult;
			rec->packets *= mult;
		}
		if (rate)
			rate = 1;
	}
	rec->k.sampling_rate = rate;
	if (st->opts.time_new || !rec->k.ts_start.sec)
		rec->ts = rec->k.ts_arrival;
	else if (!rec->ts.sec)
		fr_ts_copy(&rec->ts, &rec->k.ts_start);	/* nf9_times() just wrote it */
}

size_t nf_decode(struct nf_state *st, const uint8_t *data, size_t len, const struct fr_ip *src,
    const struct fr_ts *arrival, nf_emit_fn emit, void *arg)
{
	struct rd r = rd_make(data, len);
	uint16_t ver = rd_u16(&r);

	if (r.bad) {
		nf_drop(st, NULL, src, NF_DROP_SHORT);
		return 0;
	}
	switch (ver) {
	case 1:
	case 5:
	case 7:
		return nf5_decode(st, data, len, src, arrival, emit, arg);
	case 9:
	case 10:
		return nf9_decode(st, data, len, src, arrival, emit, arg);
	case 8:
		nf_drop(st, NULL, src, NF_DROP_V8);
		return 0;
	default:
		nf_drop(st, NULL, src, NF_DROP_VERSION);
		return 0;
	}
}

static void nf_ip_str(const struct fr_ip *a, char *buf, size_t len)
{
	if (a->af == 6)
		inet_ntop(AF_INET6, a->a, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET, a->a, buf, (socklen_t)len);
}

/* One exporter's SIGUSR1 line; `who` is its address (or what stands for it). */
static void nf_stats_line(const struct nf_exporter *e, const char *who, int64_t now,
    nf_line_fn out, void *arg)
{
	char line[1024];
	int n;
	size_t off;

	n = snprintf(line, sizeof(line), "agent=%s:%" PRIu32 " time=%" PRId64
	    " packets=%" PRIu64 " bytes=%" PRIu64 " seq_good=%" PRIu64
	    " seq_jmp_fwd=%" PRIu64 " seq_jmp_bck=%" PRIu64 " records=%" PRIu64,
	    who, e->domain, now, e->packets, e->bytes, e->seq_good, e->seq_fwd,
	    e->seq_bck, e->records);
	off = n > 0 && (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	if (e->held && off < sizeof(line) - 1) {
		n = snprintf(line + off, sizeof(line) - off, " early_sets_held=%" PRIu64
		    " early_records_decoded=%" PRIu64, e->held, e->held_records);
		off = n > 0 && off + (size_t)n < sizeof(line) ? off + (size_t)n : sizeof(line) - 1;
	}
	for (int i = 0; i < NF_DROP_N; i++) {
		if (!e->drops[i] || off >= sizeof(line) - 1)
			continue;
		n = snprintf(line + off, sizeof(line) - off, " drop_%s=%" PRIu64,
		    nf_drop_names[i], e->drops[i]);
		off = n > 0 && off + (size_t)n < sizeof(line) ? off + (size_t)n : sizeof(line) - 1;
	}
	out(arg, line);
}

void nf_stats_lines(const struct nf_state *st, int64_t now, nf_line_fn out, void *arg)
{
	char ip[64];

	for (uint32_t b = 0; b <= st->exp_mask; b++)
		for (const struct nf_exporter *e = st->exp[b]; e; e = e->next) {
			nf_ip_str(&e->addr, ip, sizeof(ip));
			nf_stats_line(e, ip, now, out, arg);
		}
	if (st->overflow)
		nf_stats_line(st->overflow, "others", now, out, arg);
}

void nf_totals(const struct nf_state *st, struct nf_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->templates = st->ntpl;
	t->templates_refused = st->templates_refused;
	t->names_refused = st->names.refused;
	t->exporters_refused = st->exporters_refused;
	t->held = st->held_sets;
	t->held_decoded = st->held_decoded;
	t->held_expired = st->held_expired;
	t->held_bytes = st->held_bytes;
	for (uint32_t b = 0; b <= st->exp_mask; b++)
		for (const struct nf_exporter *e = st->exp[b]; e; e = e->next) {
			t->packets += e->packets;
			t->records += e->records;
			t->seq_fwd += e->seq_fwd;
			t->seq_bck += e->seq_bck;
			t->held_records += e->held_records;
			for (int i = 0; i < NF_DROP_N; i++)
				t->drops[i] += e->drops[i];
		}
	if (st->overflow) {
		t->packets += st->overflow->packets;
		t->records += st->overflow->records;
		for (int i = 0; i < NF_DROP_N; i++)
			t->drops[i] += st->overflow->drops[i];
	}
}

/* ---- early data: sets held until their template arrives --------------- */

bool nf_hold_put(struct nf_state *st, const struct nf_held *hdr, const uint8_t *data,
    size_t len)
{
	size_t need = sizeof(struct nf_held) + len;

	if (!st->opts.hold_secs)
		return false;
	if (st->held_bytes + need > st->opts.hold_bytes) {
		gauge_hit(st->g_held, 1);
		return false;
	}
	struct nf_held *h = xmalloc(need);
	*h = *hdr;
	h->next = NULL;
	h->len = (uint32_t)len;
	memcpy(h->data, data, len);
	*st->held_tail = h;
	st->held_tail = &h->next;
	st->held_bytes += need;
	st->held_sets++;
	st->held_n++;
	return true;
}

/* Unlink *pp (the held set h) from the list. */
static void nf_hold_unlink(struct nf_state *st, struct nf_held **pp, struct nf_held *h)
{
	*pp = h->next;
	if (st->held_tail == &h->next)
		st->held_tail = pp;
	st->held_bytes -= sizeof(*h) + h->len;
	st->held_n--;
}

struct nf_held *nf_hold_take(struct nf_state *st, const struct fr_ip *src, uint32_t domain,
    uint16_t version, uint16_t id)
{
	for (struct nf_held **pp = &st->held, *h; (h = *pp); pp = &h->next)
		if (h->id == id && h->domain == domain && h->version == version &&
		    nf_ip_eq(&h->src, src)) {
			nf_hold_unlink(st, pp, h);
			st->held_decoded++;
			return h;
		}
	return NULL;
}

void nf_state_expire(struct nf_state *st, int64_t now)
{
	struct nf_held *h;

	/* oldest first: arrival order, so the first one still young ends the walk */
	while ((h = st->held) && h->arrival.sec + (int64_t)st->opts.hold_secs <= now) {
		nf_hold_unlink(st, &st->held, h);
		nf_drop(st, nf_exporter_get(st, &h->src, h->domain, h->version), &h->src,
		    NF_DROP_NO_TEMPLATE);
		st->held_expired++;
		free(h);
	}
}
