/* SPDX-License-Identifier: BSD-3-Clause */
/* http_api.c: the routes of the HTTP server: JSON API (table, match, top-N, series, status), dashboard, /metrics. */
#include "http_api.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http_util.h"
#include "lib/ring.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "model/prim_value.h"
#include "plugins/plugin.h"

#define HTTP_DEFAULT_TOP	10
#define HTTP_MAX_TOP		1000

/* A match filter from the query: the primitives given and their values. */
struct http_filter {
	bool any;
	struct flow_key mask, key;	/* key holds the values, already masked */
};

enum http_by { BY_BYTES, BY_PACKETS, BY_FLOWS };

static const char *arg(const struct http_req *r, const char *key)
{
	for (int i = 0; i < r->nargs; i++)
		if (strcmp(r->args[i].key, key) == 0)
			return r->args[i].value;
	return NULL;
}

static bool is_control_arg(const char *key)
{
	static const char *const keys[] = { "limit", "n", "by", "group", "last", NULL };
	for (int i = 0; keys[i]; i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	return false;
}

/* An unsigned argument in [lo, hi], or def when absent; -1 when invalid. */
static long long arg_uint(const struct http_req *r, const char *key, long long def, long long lo,
    long long hi)
{
	const char *v = arg(r, key);
	char *end;
	long long n;

	if (!v)
		return def;
	n = strtoll(v, &end, 10);
	if (!*v || *end || n < lo || n > hi)
		return -1;
	return n;
}

/* The plugin's primitives: built-in ones and its configuration's custom ones. */
static const struct prim_registry *prims_of(const struct http_ctx *c)
{
	return c->self->cfg->prims;
}

static void json_prims(FILE *f, const struct http_ctx *c, const struct prim_set *set)
{
	const char *sep = "";

	fputc('[', f);
	for (int i = 0; i < P_COUNT; i++) {
		if (prim_has(set, (enum prim_id)i)) {
			fprintf(f, "%s\"%s\"", sep, prim_desc_of(prims_of(c), i)->name);
			sep = ", ";
		}
	}
	fputc(']', f);
}

static void mask_key(const struct flow_key *k, const struct flow_key *mask, struct flow_key *out)
{
	const uint8_t *a = (const uint8_t *)k, *m = (const uint8_t *)mask;
	uint8_t *o = (uint8_t *)out;

	for (size_t i = 0; i < sizeof(*out); i++)
		o[i] = a[i] & m[i];
}

/* Primitive arguments into f; an error message, or NULL. */
static const char *filter_parse(const struct http_ctx *c, const struct http_req *r,
    struct http_filter *f)
{
	const struct prim_set *agg = &c->self->cfg->aggregate;

	memset(f, 0, sizeof(*f));
	for (int i = 0; i < r->nargs; i++) {
		struct prim_set one = { { 0 }, { 0 } };
		struct flow_key m;
		int id;

		if (is_control_arg(r->args[i].key))
			continue;
		id = prim_lookup(prims_of(c), r->args[i].key);
		if (id < 0)
			return "unknown argument";
		if (!prim_has(agg, (enum prim_id)id) || !prim_desc_of(prims_of(c), id)->len)
			return "primitive not in this plugin's aggregate";
		if (prim_value_parse(prim_desc_of(prims_of(c), id), r->args[i].value, &f->key) < 0)
			return "invalid primitive value";
		prim_add(&one, (enum prim_id)id);
		prim_key_mask(prims_of(c), &one, &m);
		for (size_t b = 0; b < sizeof(m); b++)
			((uint8_t *)&f->mask)[b] |= ((uint8_t *)&m)[b];
		f->any = true;
	}
	mask_key(&f->key, &f->mask, &f->key);
	return NULL;
}

static bool filter_pass(const struct http_filter *f, const struct flow_key *k)
{
	struct flow_key mk;

	if (!f->any)
		return true;
	mask_key(k, &f->mask, &mk);
	return memcmp(&mk, &f->key, sizeof(mk)) == 0;
}

static void row(FILE *f, const struct http_ctx *c, const struct out_cols *cols,
    const struct flow_key *k, const struct agg_entry *e)
{
	struct out_counters cnt = { e->packets, e->bytes, e->flows, e->tcp_flags, 0, 0 };
	out_row(f, cols, &c->oo, k, &cnt);
}

/* GET /api/table: every entry, or those matching the primitive arguments. */
static void h_table(struct http_ctx *c, const struct http_req *r, FILE *f, struct http_resp *resp)
{
	struct http_filter flt;
	struct out_cols cols;
	struct flow_key k;
	long long limit = arg_uint(r, "limit", HTTP_DEFAULT_LIMIT, 1, HTTP_MAX_LIMIT);
	const char *err = filter_parse(c, r, &flt);
	uint64_t n = 0;
	bool truncated = false;

	if (err || limit < 0) {
		http_resp_error(resp, 400, err ? err : "invalid limit");
		return;
	}
	out_cols_init(&cols, prims_of(c), &c->self->cfg->aggregate, false, false);
	cols.flows = true;
	fputs("{\"aggregate\": ", f);
	json_prims(f, c, &c->self->cfg->aggregate);
	fputs(", \"rows\": [\n", f);
	for (const struct agg_entry *e = agg_next(c->table, NULL); e; e = agg_next(c->table, e)) {
		agg_entry_key(c->table, e, &k);
		if (!filter_pass(&flt, &k))
			continue;
		if (n == (uint64_t)limit) {
			truncated = true;
			break;
		}
		if (n++)
			fputc(',', f);
		row(f, c, &cols, &k, e);
	}
	fprintf(f, "], \"count\": %" PRIu64 ", \"truncated\": %s}\n", n, truncated ? "true" : "false");
}

static enum http_by by_of(const char *s, bool *ok)
{
	*ok = true;
	if (!s || strcmp(s, "bytes") == 0)
		return BY_BYTES;
	if (strcmp(s, "packets") == 0)
		return BY_PACKETS;
	if (strcmp(s, "flows") == 0)
		return BY_FLOWS;
	*ok = false;
	return BY_BYTES;
}

static uint64_t by_val(const struct agg_entry *e, enum http_by by)
{
	return by == BY_PACKETS ? e->packets : by == BY_FLOWS ? e->flows : e->bytes;
}

static int cmp_entry(const void *a, const void *b, void *arg)
{
	const struct agg_entry *x = *(const struct agg_entry *const *)a;
	const struct agg_entry *y = *(const struct agg_entry *const *)b;
	enum http_by by = *(const enum http_by *)arg;
	uint64_t vx = by_val(x, by), vy = by_val(y, by);

	if (vx != vy)
		return vx < vy ? 1 : -1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->packets < y->packets ? 1 : x->packets > y->packets ? -1 : 0;
}

/* The group= primitives (a subset of the aggregate), or the aggregate itself. */
static const char *group_parse(const struct http_ctx *c, const char *text, struct prim_set *g)
{
	if (!text || !*text) {
		*g = c->self->cfg->aggregate;
		return NULL;
	}
	if (prim_parse_list(prims_of(c), text, g, NULL, 0) < 0)
		return "unknown primitive in group";
	for (int i = 0; i < P_COUNT; i++)
		if (prim_has(g, (enum prim_id)i) && !prim_has(&c->self->cfg->aggregate, (enum prim_id)i))
			return "group primitive not in this plugin's aggregate";
	return NULL;
}

/* Sum the matching entries of the table into `into`, keyed on its (group) primitives. */
static void regroup(const struct http_ctx *c, const struct http_filter *flt,
    const struct prim_set *g, struct agg_table *into, uint64_t tot[3])
{
	struct flow_key k, gm, mk;

	prim_key_mask(prims_of(c), g, &gm);
	for (const struct agg_entry *e = agg_next(c->table, NULL); e; e = agg_next(c->table, e)) {
		agg_entry_key(c->table, e, &k);
		if (!filter_pass(flt, &k))
			continue;
		mask_key(&k, &gm, &mk);
		struct agg_entry *o = agg_upsert(into, &mk, 0);
		o->packets += e->packets;
		o->bytes += e->bytes;
		o->flows += e->flows;
		o->tcp_flags |= e->tcp_flags;
		tot[0] += e->packets;
		tot[1] += e->bytes;
		tot[2] += e->flows;
	}
}

static void top_write(FILE *f, const struct http_ctx *c, struct agg_table *t,
    const struct prim_set *g, enum http_by by, size_t n)
{
	size_t cnt = agg_count(t), i = 0;
	struct agg_entry **v = xcalloc(cnt ? cnt : 1, sizeof(*v));
	struct out_cols cols;
	struct flow_key k;

	for (struct agg_entry *e = agg_next(t, NULL); e && i < cnt; e = agg_next(t, e))
		v[i++] = e;
	qsort_r(v, i, sizeof(*v), cmp_entry, &by);
	out_cols_init(&cols, prims_of(c), g, false, false);
	cols.flows = true;
	for (size_t j = 0; j < i && j < n; j++) {
		if (j)
			fputc(',', f);
		agg_entry_key(t, v[j], &k);
		row(f, c, &cols, &k, v[j]);
	}
	free(v);
}

/* GET /api/top: the n largest by bytes, packets or flows, over any group of the primitives. */
static void h_top(struct http_ctx *c, const struct http_req *r, FILE *f, struct http_resp *resp)
{
	struct http_filter flt;
	struct prim_set g;
	bool ok;
	enum http_by by = by_of(arg(r, "by"), &ok);
	long long n = arg_uint(r, "n", HTTP_DEFAULT_TOP, 1, HTTP_MAX_TOP);
	const char *err = filter_parse(c, r, &flt);
	uint64_t tot[3] = { 0, 0, 0 };

	if (!err)
		err = !ok ? "by is bytes, packets or flows" : n < 0 ? "invalid n" : NULL;
	if (!err)
		err = group_parse(c, arg(r, "group"), &g);
	if (err) {
		http_resp_error(resp, 400, err);
		return;
	}
	struct agg_table *t = agg_new(prims_of(c), &g, 1024);
	regroup(c, &flt, &g, t, tot);
	fprintf(f, "{\"by\": \"%s\", \"group\": ", by == BY_BYTES ? "bytes" :
	    by == BY_PACKETS ? "packets" : "flows");
	json_prims(f, c, &g);
	fprintf(f, ", \"total\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"flows\": %"
	    PRIu64 "}, \"groups\": %zu, \"rows\": [\n", tot[0], tot[1], tot[2], agg_count(t));
	top_write(f, c, t, &g, by, (size_t)n);
	fputs("]}\n", f);
	agg_free(t);
}

/* GET /api/series: totals per time bin, oldest first. */
static void h_series(struct http_ctx *c, const struct http_req *r, FILE *f, struct http_resp *resp)
{
	long long last = arg_uint(r, "last", 0, 0, 100LL * 86400 * 365);
	int64_t now = (int64_t)time(NULL);
	struct http_bin *b;
	size_t n;

	if (last < 0) {
		http_resp_error(resp, 400, "invalid last");
		return;
	}
	b = xcalloc(c->series.nbins, sizeof(*b));
	n = http_series_get(&c->series, now, (uint32_t)last, b, c->series.nbins);
	fprintf(f, "{\"bin\": %u, \"now\": %" PRId64 ", \"columns\": [\"t\", \"packets\", \"bytes\", "
	    "\"flows\", \"records\"], \"points\": [", c->series.bin_secs, now);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s[%" PRId64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64 "]",
		    i ? ",\n" : "\n", b[i].t, b[i].packets, b[i].bytes, b[i].flows, b[i].records);
	fputs("]}\n", f);
	free(b);
}

void http_ring_fill(const struct plugin *p, size_t *used, size_t *slots)
{
	size_t ss = ring_slot_size(p->ring);

	*used = ring_used(p->ring);
	*slots = ss ? p->pipe_bytes / ss : 0;
	if (*slots < 2)
		*slots = 2;
}

static void plugin_json(FILE *f, const struct plugin *p)
{
	size_t used, slots;

	http_ring_fill(p, &used, &slots);
	fputs("{\"name\": ", f);
	out_json_str(f, p->cfg->name);
	fputs(", \"type\": ", f);
	out_json_str(f, p->cfg->type);
	fprintf(f, ", \"records\": %" PRIu64 ", \"dropped_records\": %" PRIu64
	    ", \"dropped_batches\": %" PRIu64 ", \"filtered\": %" PRIu64
	    ", \"ring_used\": %zu, \"ring_slots\": %zu}",
	    (uint64_t)atomic_load(&p->stats.records), (uint64_t)atomic_load(&p->stats.dropped_records),
	    (uint64_t)atomic_load(&p->stats.dropped_batches), (uint64_t)atomic_load(&p->stats.filtered),
	    used, slots);
}

/* GET /api/status: this plugin's table and totals, every plugin's counters and ring. */
static void h_status(struct http_ctx *c, const struct http_req *r, FILE *f, struct http_resp *resp)
{
	int64_t now = (int64_t)time(NULL);
	unsigned long long req = 0, unauth = 0;

	(void)r;
	(void)resp;
	http_srv_counts(c->srv, &req, &unauth);
	fputs("{\"daemon\": ", f);
	out_json_str(f, c->daemon);
	fputs(", \"plugin\": ", f);
	out_json_str(f, c->self->cfg->name);
	fputs(", \"aggregate\": ", f);
	json_prims(f, c, &c->self->cfg->aggregate);
	fprintf(f, ", \"started\": %" PRId64 ", \"now\": %" PRId64 ", \"erased_at\": %" PRId64
	    ", \"bin\": %u, \"bins\": %zu, \"entries\": %zu, \"table_dropped\": %" PRIu64
	    ", \"totals\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"flows\": %" PRIu64
	    ", \"records\": %" PRIu64 "}, \"http\": {\"requests\": %llu, \"unauthorized\": %llu}"
	    ", \"plugins\": [", c->started, now, c->erased_at, c->series.bin_secs, c->series.nbins,
	    agg_count(c->table), agg_dropped(c->table), c->packets, c->bytes, c->flows, c->records,
	    req, unauth);
	for (int i = 0; i < c->nall; i++) {
		fputs(i ? ", " : "", f);
		plugin_json(f, &c->all[i]);
	}
	fputs("]}\n", f);
}

/* GET /api/health: answered by the plugin thread itself, so an answer means it runs. */
static void h_health(struct http_ctx *c, const struct http_req *r, FILE *f, struct http_resp *resp)
{
	uint64_t drops = 0;

	(void)r;
	(void)resp;
	for (int i = 0; i < c->nall; i++)
		drops += atomic_load(&c->all[i].stats.dropped_records);
	fprintf(f, "{\"status\": \"ok\", \"uptime\": %" PRId64 ", \"dropped_records\": %" PRIu64 "}\n",
	    (int64_t)time(NULL) - c->started, drops);
}

/* GET /api/exporters: per-exporter health as the receive threads last published it. */
static void h_exporters(struct http_ctx *c, const struct http_req *r, FILE *f,
    struct http_resp *resp)
{
	long long limit = arg_uint(r, "limit", HEALTH_MAX_LISTED, 0, HEALTH_MAX_LISTED);

	if (limit < 0) {
		http_resp_error(resp, 400, "invalid limit");
		return;
	}
	http_exporters_json(c, f, (size_t)limit);
}

/* GET /api/capture: pmacctd's capture counters (null in the collectors). */
static void h_capture(struct http_ctx *c, const struct http_req *r, FILE *f, struct http_resp *resp)
{
	(void)r;
	(void)resp;
	http_capture_json(c, f);
}

/* POST /api/erase: clear the table (a write: needs the token). */
static void h_erase(struct http_ctx *c, const struct http_req *r, FILE *f, struct http_resp *resp)
{
	size_t n = agg_count(c->table);

	(void)r;
	(void)resp;
	agg_clear(c->table);
	c->erased_at = (int64_t)time(NULL);
	fprintf(f, "{\"erased\": %zu}\n", n);
}

static void h_metrics(struct http_ctx *c, const struct http_req *r, FILE *f, struct http_resp *resp)
{
	(void)r;
	resp->ctype = "text/plain; version=0.0.4; charset=utf-8";
	http_metrics_write(c, f);
}

typedef void (*route_fn)(struct http_ctx *c, const struct http_req *r, FILE *f,
    struct http_resp *resp);

static const struct route {
	const char *method, *path;
	route_fn fn;
	bool write;
} routes[] = {
	{ "GET", "/api/table", h_table, false },
	{ "GET", "/api/top", h_top, false },
	{ "GET", "/api/series", h_series, false },
	{ "GET", "/api/status", h_status, false },
	{ "GET", "/api/health", h_health, false },
	{ "GET", "/api/exporters", h_exporters, false },
	{ "GET", "/api/capture", h_capture, false },
	{ "GET", "/metrics", h_metrics, false },
	{ "POST", "/api/erase", h_erase, true },
};

/* The route for req, or NULL with *status set to 404 or 405. */
static const struct route *route_find(const struct http_req *req, unsigned *status)
{
	*status = 404;
	for (size_t i = 0; i < NELEM(routes); i++) {
		if (strcmp(routes[i].path, req->path) != 0)
			continue;
		if (strcmp(routes[i].method, req->method) == 0 ||
		    (strcmp(req->method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0))
			return &routes[i];
		*status = 405;
	}
	return NULL;
}

static void run_route(struct http_ctx *c, const struct route *rt, const struct http_req *req,
    struct http_resp *resp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		http_resp_error(resp, 500, "out of memory");
		return;
	}
	resp->status = 200;
	resp->ctype = "application/json";
	rt->fn(c, req, f, resp);
	fclose(f);
	if (resp->status != 200) {
		free(buf);		/* the handler set an error body */
		return;
	}
	resp->body = buf;
	resp->len = len;
}

void http_api_handle(void *arg, const struct http_req *req, struct http_resp *resp)
{
	struct http_ctx *c = arg;
	const struct route *rt;
	unsigned status;

	if (strcmp(req->path, "/") == 0 || strcmp(req->path, "/index.html") == 0) {
		/* the page holds no data: it asks the API, with the token from its #fragment */
		resp->status = 200;
		resp->ctype = "text/html; charset=utf-8";
		resp->body = (char *)http_dashboard_html;
		resp->len = http_dashboard_html_len;
		resp->static_body = true;
		return;
	}
	if (req->token_set && !req->authed) {
		http_resp_error(resp, 401, "missing or wrong token");
		return;
	}
	if (!(rt = route_find(req, &status))) {
		http_resp_error(resp, status, status == 404 ? "not found" : "method not allowed");
		return;
	}
	if (rt->write && !req->token_set) {
		http_resp_error(resp, 403, "write operations need http_token to be configured");
		return;
	}
	run_route(c, rt, req, resp);
}
