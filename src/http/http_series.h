/* SPDX-License-Identifier: BSD-3-Clause */
/* http_series.h: totals per time bin over the last hours, in a fixed ring (bounded memory). */
#ifndef HTTP_HTTP_SERIES_H
#define HTTP_HTTP_SERIES_H

#include <stddef.h>
#include <stdint.h>

/* The counters of one time bin starting at `t` (seconds since the epoch). */
struct http_bin {
	int64_t t;		/* bin start; -1 = never written */
	uint64_t packets, bytes, flows, records;
};

/*
 * A ring of nbins bins of bin_secs seconds: bin t lives in slot
 * (t / bin_secs) % nbins and is overwritten when the ring wraps, so the
 * memory is nbins * sizeof(struct http_bin) whatever the traffic.
 */
struct http_series {
	uint32_t bin_secs;
	size_t nbins;
	struct http_bin *bins;
};

/*
 * Keep `history_secs` seconds in bins of `bin_secs` (both > 0; the number
 * of bins is history / bin rounded up, at least 2 and at most 100000).
 */
void http_series_init(struct http_series *s, uint32_t history_secs, uint32_t bin_secs);
void http_series_fini(struct http_series *s);

/* Add counters at time `now` (seconds since the epoch). */
void http_series_add(struct http_series *s, int64_t now, uint64_t packets, uint64_t bytes,
    uint64_t flows, uint64_t records);

/*
 * The bins of the last `secs` seconds before `now` (0 = all kept), oldest
 * first, bins without traffic included as zeros, into out[0..max).  Returns
 * the number written.
 */
size_t http_series_get(const struct http_series *s, int64_t now, uint32_t secs,
    struct http_bin *out, size_t max);

#endif
