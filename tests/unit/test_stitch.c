/* SPDX-License-Identifier: BSD-3-Clause */
/* test_stitch.c: stitching: timestamp_min/max per aggregate (earliest start, latest end, fallbacks, sum_*, reuse after clear) and their CSV/JSON columns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/output.h"
#include "plugins/stitch.h"
#include "tap.h"

#include "frec.h"

static struct flow_rec mk(uint8_t src, uint8_t dst, int64_t start, int64_t start_us, int64_t end,
    int64_t end_us)
{
	struct flow_rec r = frec_v4(src, dst);

	r.k.ts_start.sec = start;
	r.k.ts_start.usec = start_us;
	r.k.ts_end.sec = end;
	r.k.ts_end.usec = end_us;
	r.k.ts_arrival.sec = 2000;
	r.k.ts_arrival.usec = 7;
	r.ts.sec = 3000;
	r.bytes = 100;
	r.packets = 2;
	r.flows = 1;
	return r;
}

static const struct stitch_ts *find(struct agg_table *t, const struct stitch *s, uint8_t src)
{
	struct flow_rec q = mk(src, 0, 0, 0, 0, 0);
	struct flow_key k = q.k;
	for (size_t i = 0; i < sizeof(k); i++)
		((uint8_t *)&k)[i] &= ((const uint8_t *)&s->mask)[i];
	struct agg_entry *e = agg_find(t, &k, 0);
	return e ? stitch_of(t, e) : NULL;
}

/* A stitching table (one bucket) aggregating by the primitives in list. */
static struct agg_table *table_of(const char *list, struct stitch *s)
{
	struct prim_set set;

	prim_parse_list(NULL, list, &set, NULL, 0);
	return stitch_table_new(s, NULL, &set, 1);
}

static void test_min_max(void)
{
	struct stitch s;
	struct agg_table *t = table_of("src_host", &s);

	/* a later record with an earlier start but a smaller microsecond part still lowers min */
	struct flow_rec a = mk(1, 2, 100, 500000, 200, 500000), b = mk(1, 3, 90, 700000, 210, 100000);
	struct flow_rec c = mk(1, 4, 95, 0, 205, 0);
	stitch_account(&s, t, &a, 0);
	stitch_account(&s, t, &b, 0);
	stitch_account(&s, t, &c, 0);
	const struct stitch_ts *st = find(t, &s, 1);
	ok(st != NULL, "aggregate found");
	is_int(st->min.sec, 90, "min: earliest start (sec)");
	is_int(st->min.usec, 700000, "min: earliest start (usec)");
	is_int(st->max.sec, 210, "max: latest end (sec)");
	is_int(st->max.usec, 100000, "max: latest end (usec)");
	struct agg_entry *e = agg_next(t, NULL);
	is_int(e->bytes, 300, "counters summed");
	is_int(e->packets, 6, "packets summed");

	/* same second, microseconds decide */
	struct flow_rec d = mk(1, 2, 90, 600000, 210, 100001);
	stitch_account(&s, t, &d, 0);
	is_int(find(t, &s, 1)->min.usec, 600000, "min: same second, smaller usec");
	is_int(find(t, &s, 1)->max.usec, 100001, "max: same second, larger usec");

	/* no times: the arrival; no arrival either: the observation time */
	struct flow_rec n = mk(2, 2, 0, 0, 0, 0);
	stitch_account(&s, t, &n, 0);
	is_int(find(t, &s, 2)->min.sec, 2000, "no start: arrival");
	is_int(find(t, &s, 2)->max.usec, 7, "no end: arrival usec");
	struct flow_rec o = mk(3, 2, 50, 0, 0, 0);
	o.k.ts_arrival.sec = o.k.ts_arrival.usec = 0;
	stitch_account(&s, t, &o, 0);
	is_int(find(t, &s, 3)->min.sec, 50, "start kept");
	is_int(find(t, &s, 3)->max.sec, 3000, "no end, no arrival: observation time");

	/* entries reused after a clear start afresh */
	agg_clear(t);
	struct flow_rec r = mk(1, 2, 500, 0, 600, 0);
	stitch_account(&s, t, &r, 0);
	is_int(find(t, &s, 1)->min.sec, 500, "after clear: min from the new record");
	is_int(find(t, &s, 1)->max.sec, 600, "after clear: max from the new record");
	agg_free(t);
}

static void test_sum(void)
{
	struct stitch s;
	struct agg_table *t = table_of("sum_host", &s);
	struct flow_rec a = mk(1, 2, 100, 0, 200, 0), b = mk(2, 3, 50, 0, 150, 0);

	stitch_account(&s, t, &a, 0);
	stitch_account(&s, t, &b, 0);
	is_int(agg_count(t), 3, "sum_host: hosts 1, 2, 3");
	is_int(find(t, &s, 2)->min.sec, 50, "host 2 (dst of a, src of b): min");
	is_int(find(t, &s, 2)->max.sec, 200, "host 2: max");
	is_int(find(t, &s, 3)->min.sec, 50, "host 3: b only");
	agg_free(t);
}

static void test_columns(void)
{
	struct prim_set set;
	struct out_cols c;
	struct out_opts o;
	struct flow_key k;
	struct out_counters cnt = { 2, 100, 1, 0, 0, 0 };
	struct fr_ts lo = { 1700000020, 500000 }, hi = { 1700000030, 5 };
	char *buf = NULL;
	size_t len = 0;

	prim_parse_list(NULL, "src_host", &set, NULL, 0);
	out_cols_init(&c, NULL, &set, false, false);
	c.stitch = true;
	memset(&o, 0, sizeof(o));
	memset(&k, 0, sizeof(k));
	k.src_ip.af = 4;
	k.src_ip.a[0] = 10;
	k.src_ip.a[3] = 1;
	o.fmt = OUT_CSV;
	strcpy(o.sep, ",");
	o.ts_utc = true;
	o.ts_secs = true;	/* the primitives' resolution only */
	FILE *f = open_memstream(&buf, &len);
	out_header(f, &c, &o);
	out_row_stitch(f, &c, &o, &k, &cnt, &lo, &hi);
	fclose(f);
	is_str(buf, "SRC_IP,TIMESTAMP_MIN,TIMESTAMP_MAX,PACKETS,BYTES\n"
	    "10.0.0.1,2023-11-14 22:13:40.500000,2023-11-14 22:13:50.000005,2,100\n", "CSV columns");
	free(buf);

	o.fmt = OUT_JSON;
	o.json_event_type = true;
	o.ts_secs = false;
	o.ts_since_epoch = true;
	f = open_memstream(&buf, &len);
	out_row_stitch(f, &c, &o, &k, &cnt, &lo, &hi);
	fclose(f);
	is_str(buf, "{\"event_type\": \"purge\", \"ip_src\": \"10.0.0.1\", "
	    "\"timestamp_min\": \"1700000020.500000\", \"timestamp_max\": \"1700000030.000005\", "
	    "\"packets\": 2, \"bytes\": 100}\n", "JSON fields before the counters");
	free(buf);
}

int main(void)
{
	test_min_max();
	test_sum();
	test_columns();
	return tap_done();
}
