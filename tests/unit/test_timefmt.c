/* SPDX-License-Identifier: BSD-3-Clause */
/* test_timefmt.c: time-bins, deadlines, templates and timestamps against pmacct 1.7.7 output. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "lib/timefmt.h"
#include "tap.h"

/* Expected strings below come from /usr/sbin/pmacctd 1.7.7 run with TZ=Europe/Rome on a
 * capture whose first packet is at 1700000000 (2023-11-14 22:13:20 UTC). */
#define T0 1700000000

static struct cfg_period per(uint32_t n, char unit, uint32_t secs)
{
	return (struct cfg_period){ .n = n, .unit = unit, .secs = secs };
}

static void test_ts(void)
{
	char b[80];

	timefmt_ts(b, sizeof(b), T0, 0, 0);
	is_str(b, "2023-11-14 23:13:20.000000", "timestamp local");
	timefmt_ts(b, sizeof(b), T0, 0, TF_UTC);
	is_str(b, "2023-11-14 22:13:20.000000", "timestamp utc");
	timefmt_ts(b, sizeof(b), T0, 0, TF_RFC3339);
	is_str(b, "2023-11-14T23:13:20.000000+01:00", "timestamp rfc3339 local");
	timefmt_ts(b, sizeof(b), T0, 0, TF_RFC3339 | TF_UTC);
	is_str(b, "2023-11-14T22:13:20.000000Z", "timestamp rfc3339 utc");
	timefmt_ts(b, sizeof(b), T0, 0, TF_EPOCH);
	is_str(b, "1700000000.000000", "timestamp since epoch");
	timefmt_ts(b, sizeof(b), T0, 0, TF_EPOCH | TF_RFC3339);
	is_str(b, "1700000000.000000", "since epoch beats rfc3339");
	timefmt_ts(b, sizeof(b), T0, 123456, TF_SECS);
	is_str(b, "2023-11-14 23:13:20.000000", "timestamps_secs zeroes microseconds");
	timefmt_ts(b, sizeof(b), T0, 42, 0);
	is_str(b, "2023-11-14 23:13:20.000042", "microseconds");
	timefmt_ts(b, 5, T0, 0, 0);
	is_str(b, "2023", "truncated to the buffer");
	timefmt_ts(b, sizeof(b), 0, 0, 0);
	is_str(b, "0000-00-00 00:00:00.000000", "unset: zeros as pmacct, not the Epoch");
	timefmt_ts(b, sizeof(b), 0, 0, TF_EPOCH);
	is_str(b, "0.000000", "unset since epoch");

	timefmt_stamp(b, sizeof(b), 1699999800, 0);
	is_str(b, "2023-11-14 23:10:00", "stamp local");
	timefmt_stamp(b, sizeof(b), 1699999800, TF_UTC);
	is_str(b, "2023-11-14 22:10:00", "stamp utc");
	timefmt_stamp(b, sizeof(b), 1699999800, TF_RFC3339);
	is_str(b, "2023-11-14T23:10:00+01:00", "stamp rfc3339");
	timefmt_stamp(b, sizeof(b), 1699999800, TF_RFC3339 | TF_UTC);
	is_str(b, "2023-11-14T22:10:00Z", "stamp rfc3339 utc");
	timefmt_stamp(b, sizeof(b), 1699999800, TF_EPOCH);
	is_str(b, "1699999800", "stamp since epoch");
}

static int64_t bin(struct cfg_period p, const char *ro, int32_t off, bool utc, int64_t anchor,
    int64_t ts)
{
	struct timebin tb;

	timebin_init(&tb, &p, ro, off, utc);
	if (anchor)
		timebin_anchor(&tb, anchor);
	return timebin_of(&tb, ts);
}

static void test_bins(void)
{
	/* pmacct anchors at the plugin's start; these anchors are the reference runs' clocks */
	is_int(bin(per(5, 'm', 300), "m", 0, false, 1795728619, T0), 1699999800, "5m roundoff m");
	is_int(bin(per(5, 'm', 300), "m", 0, true, 1795728619, T0), 1699999800, "5m roundoff m utc");
	is_int(bin(per(1, 'h', 3600), "", 0, false, 1795728619, T0), 1699997400,
	    "1h no roundoff: phase of the anchor minute");
	is_int(bin(per(1, 'h', 3600), "h", 600, false, 1795728619, T0), 1699998600,
	    "1h roundoff h offset 600");
	is_int(bin(per(7, 'm', 420), "m", 0, false, 1795728706, T0), 1699999980, "7m roundoff m");
	is_int(bin(per(1, 'd', 86400), "d", 0, false, 1795728619, T0), 1699916400, "1d roundoff d");
	is_int(bin(per(1, 'w', 604800), "w", 0, false, 1795728619, T0), 1699830000, "1w roundoff w");
	is_int(bin(per(5, 'm', 300), NULL, 0, false, 0, T0), 1699999980,
	    "unanchored: first bin starts at the first minute seen");

	struct timebin tb;
	struct cfg_period p = per(5, 'm', 300);
	timebin_init(&tb, &p, "m", 0, false);
	/* pmacct 1.7.7: with 1m bins a packet at 22:15:00 after one at 22:14:35 went to 22:14 */
	is_int(timebin_of(&tb, T0 + 100), 1699999800, "an edge reached from below stays in the earlier bin");
	is_int(timebin_of(&tb, T0 + 101), 1700000100, "one second later: the next bin");
	is_int(timebin_of(&tb, T0 + 99), 1699999800, "last second of a bin");
	is_int(timebin_of(&tb, T0 - 3000), 1699996800, "earlier bins");
	is_int(timebin_next(&tb, 1699999800), 1700000100, "next fixed bin");

	struct cfg_period none = { 0 };
	timebin_init(&tb, &none, NULL, 0, false);
	is_int(timebin_of(&tb, T0), T0, "no history: ts unchanged");

	/* months: calendar-based */
	p = per(1, 'M', 2592000);
	timebin_init(&tb, &p, NULL, 0, false);
	is_int(timebin_of(&tb, T0), 1698793200, "1M: 1st of the month, local");
	is_int(timebin_next(&tb, 1698793200), 1701385200, "1M next: December 1st");
	is_int(timebin_of(&tb, 1703026800), 1701385200, "1M: December");
	p = per(2, 'M', 5184000);
	timebin_init(&tb, &p, NULL, 0, false);
	timebin_anchor(&tb, T0);
	is_int(timebin_of(&tb, 1705316400), 1704063600, "2M anchored in Nov: Jan starts a bin");
	is_int(timebin_of(&tb, 1703026800), 1698793200, "2M anchored in Nov: Dec is in Nov's bin");
	timebin_init(&tb, &p, "M", 0, false);
	timebin_anchor(&tb, T0);
	is_int(timebin_of(&tb, 1703026800), 1698793200, "2M roundoff M: bins from January");
	is_int(timebin_next(&tb, 1698793200), 1704063600, "2M next");
	/* DST day in Rome (23 hours): day bins follow pmacct's fixed 86400 s steps */
	p = per(1, 'd', 86400);
	is_int(bin(p, "d", 0, false, 1679824800, 1679824800), 1679785200, "day of DST change");
}

static void test_deadlines(void)
{
	is_int(timefmt_deadline_first(T0, 60, NULL, 0, true), 1700000040, "first deadline 60s");
	is_int(timefmt_deadline_first(T0, 300, "m", 0, true), 1700000100, "first deadline 300s m");
	is_int(timefmt_deadline_first(T0, 300, "m", 5, true), 1700000105, "startup delay");
	is_int(timefmt_deadline_next(1700000100, 1700000100, 300), 1700000400, "next deadline");
	is_int(timefmt_deadline_next(1700000100, 1700001000, 300), 1700001300, "late: skip missed");
}

static void test_expand(void)
{
	char b[256];
	struct timefmt_vars v = { .refresh = 30, .history = 3600 };

	ok(timefmt_expand(b, sizeof(b),
	    "/tmp/cfgref/tf/f-%Y%m%d-%H%M%S-%s-%w-%W-%z-$tzone-$ref-$hst-$tag-$tag2-$post_tag.txt",
	    1699997400, &v) == 0, "expand fits");
	is_str(b, "/tmp/cfgref/tf/f-20231114-223000-1699997400-2-46-+0100-+01:00-30-3600-0-0-0.txt",
	    "template local (reference file name)");
	v.utc = true;
	timefmt_expand(b, sizeof(b), "f-%Y%m%d-%H%M%S-%z-$tzone.txt", 1699997400, &v);
	is_str(b, "f-20231114-213000-+0000-Z.txt", "template utc (reference file name)");
	v = (struct timefmt_vars){ .tag = 5, .tag2 = 6, .post_tag = 7, .post_tag2 = 8,
		.peer_src_ip = "10.1.1.1" };
	timefmt_expand(b, sizeof(b), "$post_tag2-$post_tag-$tag2-$tag-$peer_src_ip-$x-%%-100%", T0, &v);
	is_str(b, "8-7-6-5-10.1.1.1-$x-%-100%", "tag variables, unknown $ and trailing %");
	ok(timefmt_expand(b, 8, "abcdefghij", T0, &v) < 0 && strcmp(b, "abcdefg") == 0,
	    "truncation reported");
}

int main(void)
{
	setenv("TZ", "Europe/Rome", 1);
	tzset();
	test_ts();
	test_bins();
	test_deadlines();
	test_expand();
	return tap_done();
}
