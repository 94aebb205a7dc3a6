/* SPDX-License-Identifier: BSD-3-Clause */
/* tool_util.h: what the traffic tools (udpreplay, pktblast) share: a clock and allocation. */
#ifndef TOOL_UTIL_H
#define TOOL_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC in seconds. */
static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* realloc(), or exit(1) with "<prog>: out of memory". */
static inline void *tool_realloc(const char *prog, void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(1);
	}
	return q;
}

#endif
