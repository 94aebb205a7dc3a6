/* SPDX-License-Identifier: BSD-3-Clause */
/* test_prorate.c: nfacctd_pro_rating: the shares (pmacct 1.7.7's single-precision arithmetic) and the split over time-bins. */
#include <string.h>

#include "config/config.h"
#include "plugins/prorate.h"
#include "tap.h"

static void test_share(void)
{
	/* values printed by nfacctd 1.7.7 for these flows */
	is_int(prorate_share(1000, 30, 190), 157, "1000 B, 30 s of 190");
	is_int(prorate_share(1000, 40, 190), 210, "1000 B, 40 s of 190");
	is_int(prorate_share(190, 30, 190), 30, "190 B, 30 s of 190: exact in single precision");
	is_int(prorate_share(999, 30, 120), 249, "truncated, not rounded");
	is_int(prorate_share(1000000007, 30, 390), 76923080, "single precision on large counters");
	is_int(prorate_share(1000000007, 60, 390), 153846160, "single precision, 60 s");
	is_int(prorate_share(3, 40, 300), 1, "a share below 1 is 1");
	is_int(prorate_share(1, 30, 190), 1, "1 byte split: 1 in every bin");
	is_int(prorate_share(0, 30, 190), 0, "0 stays 0");
	is_int(prorate_share(600, 60, 60), 600, "the whole flow");
}

struct got {
	int n;
	int64_t bin[16];
	uint64_t bytes[16], packets[16], flows[16];
};

static void collect(void *arg, int64_t bin, const struct flow_rec *part)
{
	struct got *g = arg;
	if (g->n < 16) {
		g->bin[g->n] = bin;
		g->bytes[g->n] = part->bytes;
		g->packets[g->n] = part->packets;
		g->flows[g->n] = part->flows;
	}
	g->n++;
}

static struct flow_rec flow(int64_t start, int64_t end, uint64_t bytes, uint64_t packets)
{
	struct flow_rec r;
	memset(&r, 0, sizeof(r));
	r.k.ts_start.sec = start;
	r.k.ts_end.sec = end;
	r.ts.sec = start ? start : 1700000500;
	r.bytes = bytes;
	r.packets = packets;
	r.flows = 1;
	return r;
}

static void test_each(void)
{
	struct cfg_period h = { .n = 1, .unit = 'm', .secs = 60 };
	struct timebin tb;
	struct got g;
	const int64_t T = 1699999980;	/* a minute boundary (22:13:00 UTC) */

	timebin_init(&tb, &h, NULL, 0, true);
	timebin_anchor(&tb, T);

	memset(&g, 0, sizeof(g));
	struct flow_rec r = flow(T + 30, T + 220, 1000, 7);
	is_int(prorate_each(&tb, &r, collect, &g), 4, "190 s over 4 bins");
	is_int(g.bin[0], T, "first bin");
	is_int(g.bin[3], T + 180, "last bin");
	is_int(g.bytes[0], 157, "first: 30 s");
	is_int(g.bytes[1], 315, "second: 60 s");
	is_int(g.bytes[3], 210, "last: 40 s");
	is_int(g.packets[0] + g.packets[1] + g.packets[2] + g.packets[3], 6, "packet remainders lost");
	is_int(g.flows[2], 1, "flows not split");

	memset(&g, 0, sizeof(g));
	r = flow(T + 60, T + 180, 600, 600);
	is_int(prorate_each(&tb, &r, collect, &g), 2, "starting on a bin edge: its own bins only");
	is_int(g.bin[0], T + 60, "from the edge");
	is_int(g.bytes[0] + g.bytes[1], 600, "all counted once");

	memset(&g, 0, sizeof(g));
	r = flow(T + 10, T + 60, 100, 1);
	is_int(prorate_each(&tb, &r, collect, &g), 1, "ending on the next edge: one bin");
	is_int(g.bytes[0], 100, "whole");

	memset(&g, 0, sizeof(g));
	r = flow(T + 70, T + 50, 100, 1);
	is_int(prorate_each(&tb, &r, collect, &g), 1, "end before start: not split");
	is_int(g.bin[0], T + 60, "under the start's bin");

	memset(&g, 0, sizeof(g));
	r = flow(T + 10, 0, 100, 1);
	is_int(prorate_each(&tb, &r, collect, &g), 1, "no end: not split");
	is_int(g.bytes[0], 100, "whole");
}

int main(void)
{
	test_share();
	test_each();
	return tap_done();
}
