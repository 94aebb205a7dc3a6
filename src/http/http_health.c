/* SPDX-License-Identifier: BSD-3-Clause */
/* http_health.c: exporter and capture health (model/health.h) as JSON (/api/exporters, /api/capture) and /metrics. */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "http/http_api.h"
#include "plugins/plugin.h"

static const char *kind_name(enum health_kind k)
{
	return k == HEALTH_NETFLOW ? "netflow" : k == HEALTH_SFLOW ? "sflow" :
	    k == HEALTH_CAPTURE ? "capture" : "none";
}

/* The exporter's address; "other" for the entry of exporters past the decoder's limit. */
static void addr_str(const struct fr_ip *ip, char *buf, size_t len)
{
	if (!ip->af || !inet_ntop(ip->af == 4 ? AF_INET : AF_INET6, ip->a, buf, (socklen_t)len))
		snprintf(buf, len, "other");
}

/* A drop reason as an identifier: "short datagram header" -> "short_datagram_header". */
static const char *reason_id(const char *name, char *buf, size_t len)
{
	size_t i = 0;

	for (; name[i] && i + 1 < len; i++)
		buf[i] = isalnum((unsigned char)name[i]) ? (char)tolower((unsigned char)name[i]) : '_';
	buf[i] = '\0';
	return buf;
}

/* Is reason i of the view a real reason (not the decoders' "none" slot)? */
static bool reason_ok(const char *const *names, int i)
{
	return names && names[i] && strcmp(names[i], "none") != 0;
}

static void drops_json(FILE *f, const char *const *names, int n, const uint64_t *drops)
{
	char id[64];
	uint64_t total = 0;
	const char *sep = "";

	fputs("\"drops\": {", f);
	for (int i = 0; i < n; i++) {
		if (!reason_ok(names, i))
			continue;
		fprintf(f, "%s\"%s\": %" PRIu64, sep, reason_id(names[i], id, sizeof(id)), drops[i]);
		total += drops[i];
		sep = ", ";
	}
	fprintf(f, "}, \"dropped\": %" PRIu64, total);
}

static void exporter_json(FILE *f, const struct health_view *v, const struct health_exporter *e)
{
	char ip[INET6_ADDRSTRLEN];

	addr_str(&e->addr, ip, sizeof(ip));
	fprintf(f, "{\"exporter\": \"%s\", \"domain\": %" PRIu32 ", \"version\": %u, "
	    "\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"records\": %" PRIu64 ", ",
	    ip, e->domain, e->version, e->packets, e->bytes, e->records);
	if (v->kind == HEALTH_SFLOW)
		fprintf(f, "\"counter_samples\": %" PRIu64 ", ", e->counter_samples);
	else
		fprintf(f, "\"templates\": %" PRIu32 ", ", e->templates);
	fprintf(f, "\"sequence\": {\"good\": %" PRIu64 ", \"jumps_forward\": %" PRIu64
	    ", \"jumps_backward\": %" PRIu64 "}, ", e->seq_good, e->seq_fwd, e->seq_bck);
	drops_json(f, v->drop_names, v->ndrops, e->drops);
	fprintf(f, ", \"first_seen\": %" PRId64 ", \"last_seen\": %" PRId64 ", \"idle\": %" PRId64
	    ", \"silent\": %s, \"rate\": {\"packets\": %.2f, \"records\": %.2f, \"bytes\": %.2f}}",
	    e->first_seen, e->last_seen, v->now - e->last_seen,
	    health_silent(v, e) ? "true" : "false", e->pps, e->rps, e->bps);
}

static void capture_json(FILE *f, const struct health_view *v)
{
	const struct health_capture *c = &v->cap;

	if (!v->has_capture) {
		fputs("null", f);
		return;
	}
	fputs("{\"source\": ", f);
	out_json_str(f, c->source);
	fprintf(f, ", \"live\": %s, \"received\": %" PRIu64 ", \"filtered\": %" PRIu64
	    ", \"decoded\": %" PRIu64 ", ", c->live ? "true" : "false", c->received, c->filtered,
	    c->decoded);
	drops_json(f, v->cap_drop_names, v->cap_ndrops, c->drops);
	if (c->pcap_stats)
		fprintf(f, ", \"pcap\": {\"received\": %" PRIu64 ", \"dropped\": %" PRIu64
		    ", \"ifdropped\": %" PRIu64 "}", c->pcap_recv, c->pcap_drop, c->pcap_ifdrop);
	else
		fputs(", \"pcap\": null", f);
	fprintf(f, ", \"rate\": {\"packets\": %.2f}}", c->rx_pps);
}

static void view_head(FILE *f, const struct http_ctx *c, const struct health_view *v)
{
	fputs("{\"daemon\": ", f);
	out_json_str(f, c->daemon);
	fprintf(f, ", \"kind\": \"%s\", \"now\": %" PRId64 ", \"updated\": %" PRId64
	    ", \"silent_after\": %d", kind_name(v->kind), v->now, v->updated, HEALTH_SILENT_SECS);
}

void http_exporters_json(const struct http_ctx *c, FILE *f, size_t limit)
{
	struct health_view v;
	char id[64];
	size_t n;

	health_view_get(c->health, &v);
	n = v.n < limit ? v.n : limit;
	view_head(f, c, &v);
	fprintf(f, ", \"receivers\": %d, \"datagrams\": %" PRIu64 ", \"denied\": %" PRIu64
	    ", \"not_udp\": %" PRIu64 ", \"exporters_known\": %" PRIu64 ", \"listed\": %zu"
	    ", \"truncated\": %s, \"drop_reasons\": [", v.receivers, v.rx.datagrams, v.rx.denied,
	    v.rx.not_udp, v.exporters, n, v.truncated || n < v.n ? "true" : "false");
	for (int i = 0, k = 0; i < v.ndrops; i++)
		if (reason_ok(v.drop_names, i))
			fprintf(f, "%s\"%s\"", k++ ? ", " : "", reason_id(v.drop_names[i], id, sizeof(id)));
	fputs("], \"capture\": ", f);
	capture_json(f, &v);
	fputs(", \"exporters\": [", f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n" : "\n", f);
		exporter_json(f, &v, &v.v[i]);
	}
	fputs("]}\n", f);
	health_view_fini(&v);
}

void http_capture_json(const struct http_ctx *c, FILE *f)
{
	struct health_view v;

	health_view_get(c->health, &v);
	view_head(f, c, &v);
	fputs(", \"capture\": ", f);
	capture_json(f, &v);
	fputs("}\n", f);
	health_view_fini(&v);
}

/* ---- /metrics --------------------------------------------------------------- */

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void exp_labels(FILE *f, const struct health_exporter *e, const char *extra)
{
	char ip[INET6_ADDRSTRLEN];

	addr_str(&e->addr, ip, sizeof(ip));
	fprintf(f, "{exporter=\"%s\",domain=\"%" PRIu32 "\",version=\"%u\"%s%s}", ip, e->domain,
	    e->version, extra ? "," : "", extra ? extra : "");
}

/* One sample per listed exporter of a per-exporter value. */
static void per_exp(FILE *f, const struct health_view *v, const char *name, const char *type,
    const char *text, const char *extra, uint64_t (*get)(const struct health_exporter *))
{
	if (text)
		help(f, name, type, text);
	for (size_t i = 0; i < v->n; i++) {
		fputs(name, f);
		exp_labels(f, &v->v[i], extra);
		fprintf(f, " %" PRIu64 "\n", get(&v->v[i]));
	}
}

static uint64_t e_packets(const struct health_exporter *e) { return e->packets; }
static uint64_t e_bytes(const struct health_exporter *e) { return e->bytes; }
static uint64_t e_records(const struct health_exporter *e) { return e->records; }
static uint64_t e_csamples(const struct health_exporter *e) { return e->counter_samples; }
static uint64_t e_good(const struct health_exporter *e) { return e->seq_good; }
static uint64_t e_fwd(const struct health_exporter *e) { return e->seq_fwd; }
static uint64_t e_bck(const struct health_exporter *e) { return e->seq_bck; }
static uint64_t e_tpl(const struct health_exporter *e) { return e->templates; }
static uint64_t e_seen(const struct health_exporter *e) { return (uint64_t)e->last_seen; }

/* Drops by reason: only the reasons an exporter has (the others are 0). */
static void exp_drops(FILE *f, const struct health_view *v)
{
	char id[64], extra[96];

	help(f, "pmacct_exporter_dropped_total", "counter",
	    "Datagrams, sets or records of the exporter not decoded, by reason (non-zero only)");
	for (size_t i = 0; i < v->n; i++)
		for (int r = 0; r < v->ndrops; r++) {
			if (!reason_ok(v->drop_names, r) || !v->v[i].drops[r])
				continue;
			snprintf(extra, sizeof(extra), "reason=\"%s\"",
			    reason_id(v->drop_names[r], id, sizeof(id)));
			fputs("pmacct_exporter_dropped_total", f);
			exp_labels(f, &v->v[i], extra);
			fprintf(f, " %" PRIu64 "\n", v->v[i].drops[r]);
		}
}

static void exporter_metrics(FILE *f, const struct health_view *v)
{
	help(f, "pmacct_collector_datagrams_total", "counter", "Datagrams received by the collector");
	fprintf(f, "pmacct_collector_datagrams_total %" PRIu64 "\n", v->rx.datagrams);
	help(f, "pmacct_collector_denied_total", "counter",
	    "Datagrams refused by the allow file");
	fprintf(f, "pmacct_collector_denied_total %" PRIu64 "\n", v->rx.denied);
	help(f, "pmacct_exporters", "gauge", "Exporters known to the receive threads");
	fprintf(f, "pmacct_exporters %" PRIu64 "\n", v->exporters);
	help(f, "pmacct_exporters_listed", "gauge",
	    "Exporters with series below (the most active, at most 1000)");
	fprintf(f, "pmacct_exporters_listed %zu\n", v->n);
	per_exp(f, v, "pmacct_exporter_packets_total", "counter",
	    "Datagrams received from the exporter", NULL, e_packets);
	per_exp(f, v, "pmacct_exporter_bytes_total", "counter",
	    "Bytes of the datagrams received from the exporter", NULL, e_bytes);
	per_exp(f, v, "pmacct_exporter_records_total", "counter",
	    v->kind == HEALTH_SFLOW ? "Flow samples decoded" : "Flow records decoded", NULL, e_records);
	if (v->kind == HEALTH_SFLOW)
		per_exp(f, v, "pmacct_exporter_counter_samples_total", "counter",
		    "Counter samples decoded", NULL, e_csamples);
	per_exp(f, v, "pmacct_exporter_sequence_good_total", "counter",
	    "Datagrams with the expected sequence number", NULL, e_good);
	per_exp(f, v, "pmacct_exporter_sequence_jumps_total", "counter",
	    "Sequence number jumps (lost or reordered datagrams)", "direction=\"forward\"", e_fwd);
	per_exp(f, v, "pmacct_exporter_sequence_jumps_total", NULL, NULL, "direction=\"backward\"",
	    e_bck);
	exp_drops(f, v);
	if (v->kind == HEALTH_NETFLOW)
		per_exp(f, v, "pmacct_exporter_templates", "gauge",
		    "NetFlow v9/IPFIX templates cached for the exporter", NULL, e_tpl);
	per_exp(f, v, "pmacct_exporter_last_seen_seconds", "gauge",
	    "When the exporter was last heard from, Unix seconds", NULL, e_seen);
}

/* {interface="<source>"[,extra]}, the source escaped as the text format asks. */
static void cap_labels(FILE *f, const struct health_capture *c, const char *extra)
{
	fputs("{interface=\"", f);
	for (const char *p = c->source; *p; p++) {
		if (*p == '\\' || *p == '"')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fprintf(f, "\"%s%s}", extra ? "," : "", extra ? extra : "");
}

static void cap_sample(FILE *f, const struct health_capture *c, const char *name,
    const char *extra, uint64_t value)
{
	fputs(name, f);
	cap_labels(f, c, extra);
	fprintf(f, " %" PRIu64 "\n", value);
}

static void capture_metrics(FILE *f, const struct health_view *v)
{
	const struct health_capture *c = &v->cap;
	char id[64], extra[96];

	help(f, "pmacct_capture_packets_received_total", "counter",
	    "Frames read from the capture (all replays of a file)");
	cap_sample(f, c, "pmacct_capture_packets_received_total", NULL, c->received);
	help(f, "pmacct_capture_packets_dropped_total", "counter",
	    "Frames the capture lost: in the kernel (pcap_stats ps_drop) or the interface (ps_ifdrop)");
	cap_sample(f, c, "pmacct_capture_packets_dropped_total", "where=\"kernel\"", c->pcap_drop);
	cap_sample(f, c, "pmacct_capture_packets_dropped_total", "where=\"interface\"",
	    c->pcap_ifdrop);
	if (c->pcap_stats) {
		help(f, "pmacct_capture_pcap_received_total", "counter",
		    "Frames the kernel passed to the capture (pcap_stats ps_recv)");
		cap_sample(f, c, "pmacct_capture_pcap_received_total", NULL, c->pcap_recv);
	}
	help(f, "pmacct_capture_packets_filtered_total", "counter",
	    "Frames of a capture file rejected by pcap_filter");
	cap_sample(f, c, "pmacct_capture_packets_filtered_total", NULL, c->filtered);
	help(f, "pmacct_capture_packets_decoded_total", "counter", "Frames decoded to a record");
	cap_sample(f, c, "pmacct_capture_packets_decoded_total", NULL, c->decoded);
	help(f, "pmacct_capture_packets_undecoded_total", "counter",
	    "Frames not accounted, by reason (not IP, truncated, malformed)");
	for (int r = 0; r < v->cap_ndrops; r++) {
		if (!reason_ok(v->cap_drop_names, r))
			continue;
		snprintf(extra, sizeof(extra), "reason=\"%s\"",
		    reason_id(v->cap_drop_names[r], id, sizeof(id)));
		cap_sample(f, c, "pmacct_capture_packets_undecoded_total", extra, c->drops[r]);
	}
}

void http_health_metrics(const struct http_ctx *c, FILE *f)
{
	struct health_view v;

	health_view_get(c->health, &v);
	if (v.receivers)
		exporter_metrics(f, &v);
	if (v.has_capture)
		capture_metrics(f, &v);
	health_view_fini(&v);
}
