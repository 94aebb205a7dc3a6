/* SPDX-License-Identifier: BSD-3-Clause */
/* http_series.c: totals per time bin over the last hours, in a fixed ring (bounded memory). */
#include "http_series.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define HTTP_SERIES_MAX_BINS 100000

void http_series_init(struct http_series *s, uint32_t history_secs, uint32_t bin_secs)
{
	size_t n;

	if (!bin_secs)
		bin_secs = 1;
	n = (history_secs + bin_secs - 1) / bin_secs;
	if (n < 2)
		n = 2;
	if (n > HTTP_SERIES_MAX_BINS)
		n = HTTP_SERIES_MAX_BINS;
	s->bin_secs = bin_secs;
	s->nbins = n;
	s->bins = xcalloc(n, sizeof(*s->bins));
	for (size_t i = 0; i < n; i++)
		s->bins[i].t = -1;
}

void http_series_fini(struct http_series *s)
{
	free(s->bins);
	s->bins = NULL;
	s->nbins = 0;
}

static int64_t bin_start(const struct http_series *s, int64_t t)
{
	int64_t b = s->bin_secs;
	return t >= 0 ? t - t % b : t - ((t % b) + b) % b;
}

static size_t slot_of(const struct http_series *s, int64_t start)
{
	int64_t i = (start / (int64_t)s->bin_secs) % (int64_t)s->nbins;
	return (size_t)(i < 0 ? i + (int64_t)s->nbins : i);
}

void http_series_add(struct http_series *s, int64_t now, uint64_t packets, uint64_t bytes,
    uint64_t flows, uint64_t records)
{
	int64_t t = bin_start(s, now);
	struct http_bin *b = &s->bins[slot_of(s, t)];

	if (b->t != t) {
		if (b->t > t)
			return;		/* older than anything kept: the clock went back a lot */
		memset(b, 0, sizeof(*b));
		b->t = t;
	}
	b->packets += packets;
	b->bytes += bytes;
	b->flows += flows;
	b->records += records;
}

size_t http_series_get(const struct http_series *s, int64_t now, uint32_t secs,
    struct http_bin *out, size_t max)
{
	int64_t last = bin_start(s, now);
	size_t want = s->nbins, n = 0;

	if (secs) {
		size_t w = (secs + s->bin_secs - 1) / s->bin_secs;
		if (w < want)
			want = w;
	}
	if (want > max)
		want = max;
	for (size_t i = 0; i < want; i++) {
		int64_t t = last - (int64_t)(want - 1 - i) * s->bin_secs;
		const struct http_bin *b = &s->bins[slot_of(s, t)];
		if (b->t == t) {
			out[n] = *b;
		} else {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].t = t;
		}
		n++;
	}
	return n;
}
