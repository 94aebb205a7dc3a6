/* SPDX-License-Identifier: BSD-3-Clause */
/* timefmt.c: time-bins, purge deadlines, file-name templates and timestamp strings, as pmacct. */
#include "timefmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/text.h"

static struct tm *to_tm(int64_t t, bool utc, struct tm *tm)
{
	time_t tt = (time_t)t;

	return utc ? gmtime_r(&tt, tm) : localtime_r(&tt, tm);
}

static int64_t from_tm(struct tm *tm, bool utc)
{
	tm->tm_isdst = -1;
	return utc ? (int64_t)timegm(tm) : (int64_t)mktime(tm);
}

/* Floor division for possibly negative numerators. */
static int64_t fdiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/*
 * pmacct's roundoff_time(): seconds always zeroed; 'm' zeroes minutes, 'h'
 * the hour, 'd' goes to the 1st of the month, 'w' to Monday, 'M' to January.
 * (pmacct leaves a Sunday alone for 'w'; we go back to the Monday.)
 */
static int64_t roundoff(int64_t t, const char *letters, bool utc)
{
	struct tm tm;

	to_tm(t, utc, &tm);
	tm.tm_sec = 0;
	for (const char *p = letters ? letters : ""; *p; p++) {
		switch (*p) {
		case 'M':
			tm.tm_mon = 0;
			/* fall through */
		case 'd':
			tm.tm_mday = 1;
			/* fall through */
		case 'h':
			tm.tm_hour = 0;
			/* fall through */
		case 'm':
			tm.tm_min = 0;
			break;
		case 'w':
			tm.tm_hour = 0;
			tm.tm_min = 0;
			tm.tm_mday -= (tm.tm_wday + 6) % 7;
			break;
		}
	}
	return from_tm(&tm, utc);
}

void timebin_init(struct timebin *tb, const struct cfg_period *h, const char *roundoff_letters,
    int32_t offset, bool utc)
{
	memset(tb, 0, sizeof(*tb));
	if (h) {
		tb->n = h->n;
		tb->unit = h->unit;
		tb->secs = h->secs;
	}
	snprintf(tb->roundoff, sizeof(tb->roundoff), "%s", roundoff_letters ? roundoff_letters : "");
	tb->offset = offset;
	tb->utc = utc;
}

static int32_t month_index(int64_t t, bool utc)
{
	struct tm tm;

	to_tm(t, utc, &tm);
	return (int32_t)((tm.tm_year + 1900) * 12 + tm.tm_mon);
}

static int64_t month_start(int32_t idx, bool utc)
{
	struct tm tm = { .tm_year = idx / 12 - 1900, .tm_mon = idx % 12, .tm_mday = 1 };

	return from_tm(&tm, utc);
}

void timebin_anchor(struct timebin *tb, int64_t ref)
{
	tb->anchored = true;
	if (tb->unit == 'M') {
		/* calendar months from the 1st; 'M' roundoff aligns them to January */
		tb->anchor_month = month_index(ref + tb->offset, tb->utc);
		if (strchr(tb->roundoff, 'M'))
			tb->anchor_month -= tb->anchor_month % 12;
		return;
	}
	tb->anchor = roundoff(ref, tb->roundoff, tb->utc) - tb->offset;
}

int64_t timebin_of(struct timebin *tb, int64_t ts)
{
	if (tb->n == 0)
		return ts;
	if (!tb->anchored)
		timebin_anchor(tb, ts);
	if (tb->unit == 'M') {
		int32_t m = month_index(ts + tb->offset, tb->utc);
		int32_t k = (int32_t)fdiv(m - tb->anchor_month, tb->n);
		return month_start(tb->anchor_month + k * (int32_t)tb->n, tb->utc) - tb->offset;
	}
	if (tb->secs == 0)
		return ts;
	/*
	 * pmacct keeps a current bin and walks it to each timestamp: back while
	 * ts < base, forward while ts > base + length.  So a timestamp exactly
	 * on an edge stays in the bin it was reached from (pmacct 1.7.7: with
	 * 1m bins, a packet at 22:15:00 following one at 22:14:35 lands in the
	 * 22:14 bin).  The walk starts at the anchor.
	 */
	if (ts < tb->anchor)
		tb->anchor += fdiv(ts - tb->anchor, tb->secs) * tb->secs;
	else if (ts > tb->anchor + tb->secs)
		tb->anchor += fdiv(ts - tb->anchor - 1, tb->secs) * tb->secs;
	return tb->anchor;
}

int64_t timebin_next(const struct timebin *tb, int64_t base)
{
	if (tb->unit == 'M') {
		int32_t m = month_index(base + tb->offset, tb->utc);
		return month_start(m + (int32_t)tb->n, tb->utc) - tb->offset;
	}
	return base + tb->secs;
}

int64_t timefmt_deadline_first(int64_t now, uint32_t refresh, const char *roundoff_letters,
    uint32_t startup_delay, bool utc)
{
	int64_t t = roundoff(now, roundoff_letters, utc);

	if (refresh == 0)
		refresh = 1;
	if (t + refresh < now)
		t += fdiv(now - t - 1, refresh) * refresh;
	return t + refresh + startup_delay;
}

int64_t timefmt_deadline_next(int64_t deadline, int64_t now, uint32_t refresh)
{
	if (refresh == 0)
		refresh = 1;
	deadline += refresh;
	if (deadline <= now)
		deadline += (fdiv(now - deadline, refresh) + 1) * refresh;
	return deadline;
}

/* "Z" at offset zero, else +HH:MM (pmacct's RFC 3339 zone, also $tzone). */
static void zone_str(const struct tm *tm, bool utc, char *buf, size_t len)
{
	long off = utc ? 0 : tm->tm_gmtoff;
	long a = off < 0 ? -off : off;
	int hh = (int)(a / 3600 % 100), mm = (int)(a / 60 % 60);

	if (off == 0)
		snprintf(buf, len, "Z");
	else
		snprintf(buf, len, "%c%02d:%02d", off < 0 ? '-' : '+', hh, mm);
}

/* Append s to out at *o; false once out is full. */
static bool put(char *out, size_t len, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o + n >= len) {
		n = len - 1 - *o;
		memcpy(out + *o, s, n);
		*o += n;
		return false;
	}
	memcpy(out + *o, s, n);
	*o += n;
	return true;
}

/* Expand the $variable at tpl (after '$'); returns chars consumed, 0 if none. */
static size_t expand_var(const char *tpl, const struct tm *tm, const struct timefmt_vars *v,
    char *val, size_t vlen)
{
	static const char *const names[] = {
		"post_tag2", "post_tag", "peer_src_ip", "tzone", "tag2", "tag", "ref", "hst",
	};

	for (size_t i = 0; i < NELEM(names); i++) {
		size_t n = strlen(names[i]);
		if (strncmp(tpl, names[i], n) != 0)
			continue;
		switch (i) {
		case 0: snprintf(val, vlen, "%" PRIu64, v->post_tag2); break;
		case 1: snprintf(val, vlen, "%" PRIu64, v->post_tag); break;
		case 2: snprintf(val, vlen, "%s", v->peer_src_ip ? v->peer_src_ip : ""); break;
		case 3: zone_str(tm, v->utc, val, vlen); break;
		case 4: snprintf(val, vlen, "%" PRIu64, v->tag2); break;
		case 5: snprintf(val, vlen, "%" PRIu64, v->tag); break;
		case 6: snprintf(val, vlen, "%" PRIu32, v->refresh); break;
		default: snprintf(val, vlen, "%" PRIu32, v->history); break;
		}
		return n;
	}
	return 0;
}

int timefmt_expand(char *out, size_t len, const char *tpl, time_t t, const struct timefmt_vars *v)
{
	struct tm tm;
	size_t o = 0;
	bool fit = true;
	char val[128];

	if (len == 0)
		return -1;
	to_tm(t, v->utc, &tm);
	while (*tpl && fit) {
		size_t used;
		if (*tpl == '%' && tpl[1]) {
			char spec[3] = { '%', tpl[1], '\0' };
			if (tpl[1] == 's')
				snprintf(val, sizeof(val), "%" PRId64, (int64_t)t);
			else if (strftime(val, sizeof(val), spec, &tm) == 0)
				val[0] = '\0';
			tpl += 2;
		} else if (*tpl == '$' && (used = expand_var(tpl + 1, &tm, v, val, sizeof(val)))) {
			tpl += 1 + used;
		} else {
			val[0] = *tpl++;
			val[1] = '\0';
		}
		fit = put(out, len, &o, val);
	}
	out[o] = '\0';
	return fit && !*tpl ? 0 : -1;
}

size_t timefmt_ts(char *buf, size_t len, int64_t sec, uint32_t usec, unsigned flags)
{
	struct tm tm;
	char base[64], zone[16] = "";
	int n;

	if (flags & TF_SECS)
		usec = 0;
	if (flags & TF_EPOCH) {
		n = snprintf(buf, len, "%" PRId64 ".%06" PRIu32, sec, usec);
	} else {
		to_tm(sec, flags & TF_UTC, &tm);
		if (sec == 0 && usec == 0)	/* unset: pmacct prints zeros, not the Epoch */
			snprintf(base, sizeof(base), flags & TF_RFC3339 ? "0000-00-00T00:00:00"
			    : "0000-00-00 00:00:00");
		else
			strftime(base, sizeof(base), flags & TF_RFC3339 ? "%Y-%m-%dT%H:%M:%S"
			    : "%Y-%m-%d %H:%M:%S", &tm);
		if (flags & TF_RFC3339)
			zone_str(&tm, flags & TF_UTC, zone, sizeof(zone));
		n = snprintf(buf, len, "%s.%06" PRIu32 "%s", base, usec, zone);
	}
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : (len ? len - 1 : 0);
}

size_t timefmt_stamp(char *buf, size_t len, int64_t sec, unsigned flags)
{
	struct tm tm;
	char base[64], zone[16] = "";
	int n;

	if (flags & TF_EPOCH) {
		n = snprintf(buf, len, "%" PRId64, sec);
	} else {
		to_tm(sec, flags & TF_UTC, &tm);
		strftime(base, sizeof(base), flags & TF_RFC3339 ? "%Y-%m-%dT%H:%M:%S"
		    : "%Y-%m-%d %H:%M:%S", &tm);
		if (flags & TF_RFC3339)
			zone_str(&tm, flags & TF_UTC, zone, sizeof(zone));
		n = snprintf(buf, len, "%s%s", base, zone);
	}
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : (len ? len - 1 : 0);
}
