/* SPDX-License-Identifier: BSD-3-Clause */
/* http_metrics.c: /metrics in the Prometheus text exposition format (version 0.0.4). */
#include <inttypes.h>
#include <stdatomic.h>
#include <time.h>

#include "http/http_api.h"
#include "model/gauge.h"
#include "plugins/plugin.h"

/* Label values are config names: escape backslash, quote and newline as the format asks. */
static void label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void plugin_labels(FILE *f, const struct plugin *p, const char *extra)
{
	fputs("{plugin=", f);
	label(f, p->cfg->name);
	fputs(",type=", f);
	label(f, p->cfg->type);
	if (extra)
		fprintf(f, ",%s", extra);
	fputc('}', f);
}

/* One sample per plugin of a per-plugin counter or gauge. */
static void per_plugin(FILE *f, const struct http_ctx *c, const char *name, const char *type,
    const char *text, const char *extra, uint64_t (*get)(const struct plugin *))
{
	if (text)
		help(f, name, type, text);
	for (int i = 0; i < c->nall; i++) {
		fputs(name, f);
		plugin_labels(f, &c->all[i], extra);
		fprintf(f, " %" PRIu64 "\n", get(&c->all[i]));
	}
}

static uint64_t g_records(const struct plugin *p) { return atomic_load(&p->stats.records); }
static uint64_t g_drop_ring(const struct plugin *p) { return atomic_load(&p->stats.dropped_records); }
static uint64_t g_filtered(const struct plugin *p) { return atomic_load(&p->stats.filtered); }
static uint64_t g_batches(const struct plugin *p) { return atomic_load(&p->stats.dropped_batches); }

static uint64_t g_ring_used(const struct plugin *p)
{
	size_t used, slots;
	http_ring_fill(p, &used, &slots);
	return used;
}

static uint64_t g_ring_slots(const struct plugin *p)
{
	size_t used, slots;
	http_ring_fill(p, &used, &slots);
	return slots;
}

static uint64_t g_flushes(const struct plugin *p) { return atomic_load(&p->stats.flushes); }
static uint64_t g_flush_errors(const struct plugin *p) { return atomic_load(&p->stats.flush_errors); }

/* Purge durations per plugin, in seconds: a summary (sum, count) and the longest. */
static void flush_metrics(FILE *f, const struct http_ctx *c)
{
	help(f, "pmacct_plugin_flush_duration_seconds", "summary",
	    "Time spent purging the cache to the backend (print, SQL, brokers)");
	for (int i = 0; i < c->nall; i++) {
		const struct plugin *p = &c->all[i];
		fputs("pmacct_plugin_flush_duration_seconds_sum", f);
		plugin_labels(f, p, NULL);
		fprintf(f, " %.6f\n", (double)atomic_load(&p->stats.flush_total_us) / 1e6);
		fputs("pmacct_plugin_flush_duration_seconds_count", f);
		plugin_labels(f, p, NULL);
		fprintf(f, " %" PRIu64 "\n", (uint64_t)atomic_load(&p->stats.flushes));
	}
	help(f, "pmacct_plugin_flush_duration_max_seconds", "gauge", "Longest purge so far");
	for (int i = 0; i < c->nall; i++) {
		fputs("pmacct_plugin_flush_duration_max_seconds", f);
		plugin_labels(f, &c->all[i], NULL);
		fprintf(f, " %.6f\n", (double)atomic_load(&c->all[i].stats.flush_max_us) / 1e6);
	}
}

/* One metric of this plugin: its HELP and TYPE lines, then `name{plugin="<name>"} v`. */
static void self_metric(FILE *f, const char *plugin, const char *name, const char *type,
    const char *text, uint64_t v)
{
	help(f, name, type, text);
	fprintf(f, "%s{plugin=", name);
	label(f, plugin);
	fprintf(f, "} %" PRIu64 "\n", v);
}

static void self_metrics(FILE *f, const struct http_ctx *c)
{
	const char *n = c->self->cfg->name;
	unsigned long long req = 0, unauth = 0;

	http_srv_counts(c->srv, &req, &unauth);
	self_metric(f, n, "pmacct_traffic_packets_total", "counter",
	    "Packets accounted by the http plugin", c->packets);
	self_metric(f, n, "pmacct_traffic_bytes_total", "counter",
	    "Bytes accounted by the http plugin", c->bytes);
	self_metric(f, n, "pmacct_traffic_flows_total", "counter",
	    "Flows accounted by the http plugin", c->flows);
	self_metric(f, n, "pmacct_table_entries", "gauge", "Entries in the http plugin's table",
	    agg_count(c->table));
	help(f, "pmacct_http_requests_total", "counter", "HTTP requests answered");
	fprintf(f, "pmacct_http_requests_total{code=\"any\"} %llu\n", req);
	fprintf(f, "pmacct_http_requests_total{code=\"401\"} %llu\n", unauth);
	help(f, "pmacct_http_serve_seconds", "summary",
	    "Time the plugin thread spent serving HTTP between batches");
	fprintf(f, "pmacct_http_serve_seconds_sum %.6f\npmacct_http_serve_seconds_count %" PRIu64 "\n",
	    c->serve_secs, c->serve_runs);
}

#define TABLE_GETTER(field)							\
	static uint64_t t_##field(const struct table_gauge *t) { return atomic_load(&t->field); }
TABLE_GETTER(entries)
TABLE_GETTER(bytes)
TABLE_GETTER(peak_entries)
TABLE_GETTER(max_entries)
TABLE_GETTER(max_bytes)
TABLE_GETTER(at_ceiling)
TABLE_GETTER(refused)

/* One family over every registered table: `name{owner="p/print",table="cache",policy="purge"} v`. */
static void table_family(FILE *f, const struct gauges *g, const char *name, const char *type,
    const char *text, uint64_t (*get)(const struct table_gauge *))
{
	size_t n = gauges_count(g);

	help(f, name, type, text);
	for (size_t i = 0; i < n; i++) {
		const struct table_gauge *t = gauges_at(g, i);
		fprintf(f, "%s{owner=", name);
		label(f, t->owner);
		fputs(",table=", f);
		label(f, t->table);
		fprintf(f, ",policy=\"%s\"} %" PRIu64 "\n", gauge_policy_name(t->policy), get(t));
	}
}

/* Every table that grows with traffic (model/gauge.h): fill, peak, ceiling, events at it. */
static void table_metrics(FILE *f, const struct gauges *g)
{
	if (!gauges_count(g))
		return;
	table_family(f, g, "pmacct_tables_entries", "gauge", "Entries a table holds", t_entries);
	table_family(f, g, "pmacct_tables_bytes", "gauge", "Memory a table holds, bytes", t_bytes);
	table_family(f, g, "pmacct_tables_peak_entries", "gauge", "Most entries a table has held",
	    t_peak_entries);
	table_family(f, g, "pmacct_tables_max_entries", "gauge",
	    "A table's ceiling in entries (0 = unbounded)", t_max_entries);
	table_family(f, g, "pmacct_tables_max_bytes", "gauge",
	    "Memory a table may hold at its ceiling, bytes (0 = not known in advance)", t_max_bytes);
	table_family(f, g, "pmacct_tables_at_ceiling_total", "counter",
	    "Times a table reached its ceiling (early purges, expiries, evictions, fills)",
	    t_at_ceiling);
	table_family(f, g, "pmacct_tables_refused_total", "counter",
	    "Entries a full table refused or forgot", t_refused);
}

void http_metrics_write(const struct http_ctx *c, FILE *f)
{
	help(f, "pmacct_info", "gauge", "Daemon name and version");
	fputs("pmacct_info{daemon=", f);
	label(f, c->daemon);
	fputs(",version=\"" PMACCT_NG_VERSION "\"} 1\n", f);
	help(f, "pmacct_start_time_seconds", "gauge", "Start time of the http plugin, Unix seconds");
	fprintf(f, "pmacct_start_time_seconds %" PRId64 "\n", c->started);
	per_plugin(f, c, "pmacct_plugin_records_total", "counter",
	    "Records handed to the plugin's ring", NULL, g_records);
	help(f, "pmacct_plugin_dropped_records_total", "counter", "Records not accounted, by reason");
	per_plugin(f, c, "pmacct_plugin_dropped_records_total", NULL, NULL, "reason=\"ring_full\"",
	    g_drop_ring);
	per_plugin(f, c, "pmacct_plugin_dropped_records_total", NULL, NULL,
	    "reason=\"aggregate_filter\"", g_filtered);
	per_plugin(f, c, "pmacct_plugin_dropped_batches_total", "counter",
	    "Batches lost to a full ring (live capture)", NULL, g_batches);
	per_plugin(f, c, "pmacct_plugin_ring_used_slots", "gauge",
	    "Batches waiting in the plugin's ring", NULL, g_ring_used);
	per_plugin(f, c, "pmacct_plugin_ring_slots", "gauge", "Size of the plugin's ring in batches",
	    NULL, g_ring_slots);
	per_plugin(f, c, "pmacct_plugin_flushes_total", "counter",
	    "Purges of the cache to the backend", NULL, g_flushes);
	per_plugin(f, c, "pmacct_plugin_backend_errors_total", "counter",
	    "Purges the backend refused (the data is kept and retried)", NULL, g_flush_errors);
	flush_metrics(f, c);
	help(f, "pmacct_table_dropped_total", "counter",
	    "New entries refused because the http plugin's table was full");
	fputs("pmacct_table_dropped_total{plugin=", f);
	label(f, c->self->cfg->name);
	fprintf(f, "} %" PRIu64 "\n", agg_dropped(c->table));
	self_metrics(f, c);
	table_metrics(f, c->self->core->gauges);
	http_health_metrics(c, f);
}
