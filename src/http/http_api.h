/* SPDX-License-Identifier: BSD-3-Clause */
/* http_api.h: the state of an http plugin and the routes of its JSON API, dashboard and /metrics. */
#ifndef HTTP_HTTP_API_H
#define HTTP_HTTP_API_H

#include <stdint.h>
#include <stdio.h>

#include "http/http_series.h"
#include "http/http_srv.h"
#include "model/health.h"
#include "plugins/agg.h"
#include "plugins/output.h"

struct plugin;

#define HTTP_DEFAULT_LIMIT	1000	/* rows of /api/table without limit= */
#define HTTP_MAX_LIMIT		1000000	/* rows of any answer, at most */

/*
 * Everything the handlers read.  Owned by the http plugin's thread, which
 * is also the only thread running the server: handlers touch the table
 * directly, with no lock, between batches (as the memory plugin does).
 * Other plugins are read only through their atomic stats and rings.
 */
struct http_ctx {
	struct plugin *self;
	struct plugin *all;		/* every plugin of the daemon (self among them) */
	int nall;
	const char *daemon;		/* "pmacctd", "nfacctd", "sfacctd" */
	struct agg_table *table;
	struct http_series series;
	struct out_opts oo;		/* JSON rows as pmacct prints them */
	uint64_t packets, bytes, flows, records;	/* accounted since start */
	int64_t started, erased_at;	/* seconds since the epoch; erased_at -1 = never */
	uint64_t serve_runs;		/* times the server was run, and for how long */
	double serve_secs, serve_max_secs;
	struct http_srv *srv;
	struct health *health;		/* exporter / capture health, shared with the core (locked) */
};

/* The request handler (http_handler_fn) for a struct http_ctx. */
void http_api_handle(void *arg, const struct http_req *req, struct http_resp *resp);

/* Write /metrics, the Prometheus text exposition format 0.0.4. */
void http_metrics_write(const struct http_ctx *c, FILE *f);

/* GET /api/exporters: the collector's exporters (at most `limit`) and pmacctd's capture. */
void http_exporters_json(const struct http_ctx *c, FILE *f, size_t limit);

/* GET /api/capture: pmacctd's capture counters. */
void http_capture_json(const struct http_ctx *c, FILE *f);

/* The exporter and capture series of /metrics. */
void http_health_metrics(const struct http_ctx *c, FILE *f);

/* Slots in use and in all of plugin p's ring (ring occupancy). */
void http_ring_fill(const struct plugin *p, size_t *used, size_t *slots);

/* The embedded dashboard page. */
extern const unsigned char http_dashboard_html[];
extern const size_t http_dashboard_html_len;

#endif
