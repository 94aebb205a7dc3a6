/* SPDX-License-Identifier: BSD-3-Clause */
/* timefmt.h: time-bins, purge deadlines, file-name templates and timestamp strings, as pmacct. */
#ifndef LIB_TIMEFMT_H
#define LIB_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A time-bin length as a config key writes it: N and a unit (s m h d w M). */
struct cfg_period {
	uint32_t n;		/* 0 = unset */
	char unit;		/* 's','m','h','d','w','M' */
	uint32_t secs;		/* n * unit for fixed units; months: n * 30 days (nominal) */
};

/*
 * Time-bin state of one plugin (print_history / sql_history).  Bins are
 * fixed-length (m h d w) or calendar months (M).  All bins share one phase,
 * set by the anchor: roundoff(anchor time) - offset.  pmacct anchors at the
 * plugin's start (wall clock); without a roundoff that puts bin edges on the
 * minute the plugin started.  The caller owns this struct; no globals.
 */
struct timebin {
	uint32_t n;		/* bin length in units; 0 = no history */
	char unit;		/* 'm' 'h' 'd' 'w' 'M' */
	uint32_t secs;		/* fixed units: bin length in seconds */
	char roundoff[8];	/* letters of m h d w M */
	int32_t offset;		/* bins start `offset` seconds earlier */
	bool utc;		/* calendar in UTC, else local time */
	bool anchored;
	int64_t anchor;		/* fixed units: the start of the current bin */
	int32_t anchor_month;	/* months: year * 12 + month of one bin start */
};

/* Set up *tb from the history period, roundoff letters (NULL = none) and offset. */
void timebin_init(struct timebin *tb, const struct cfg_period *h, const char *roundoff,
    int32_t offset, bool utc);

/*
 * Fix the bins' phase from `ref` (pmacct: the plugin's start time).  If the
 * caller never anchors, the first timestamp given to timebin_of() is used.
 */
void timebin_anchor(struct timebin *tb, int64_t ref);

/* Start of the bin holding `ts` (anchoring at ts if not anchored yet); ts if n == 0. */
int64_t timebin_of(struct timebin *tb, int64_t ts);

/* Start of the bin after the one starting at `base`. */
int64_t timebin_next(const struct timebin *tb, int64_t base);

/*
 * First purge deadline, as pmacct schedules it: `now` rounded off (seconds
 * always, plus the roundoff letters), stepped by `refresh` up to now, then
 * + refresh + startup_delay.
 */
int64_t timefmt_deadline_first(int64_t now, uint32_t refresh, const char *roundoff,
    uint32_t startup_delay, bool utc);

/* The first deadline + k * refresh (k >= 1) that is later than `now`. */
int64_t timefmt_deadline_next(int64_t deadline, int64_t now, uint32_t refresh);

/* Values of the $variables of a file-name / table-name template. */
struct timefmt_vars {
	uint32_t refresh;		/* $ref */
	uint32_t history;		/* $hst, seconds */
	uint64_t tag, tag2;		/* $tag, $tag2 */
	uint64_t post_tag, post_tag2;	/* $post_tag, $post_tag2 */
	const char *peer_src_ip;	/* $peer_src_ip, NULL = "" */
	bool utc;			/* time variables in UTC */
};

/*
 * Expand `tpl` into out[len]: strftime conversions (%Y %m %d %H %M %S %w %W
 * %z ...) on time t, %s as seconds since the epoch, and $ref $hst $tzone
 * ($tzone: "Z" at UTC, else +HH:MM) $tag $tag2 $post_tag $post_tag2
 * $peer_src_ip.  Returns 0, or -1 if the result was truncated.
 */
int timefmt_expand(char *out, size_t len, const char *tpl, time_t t, const struct timefmt_vars *v);

/* Rendering flags, from the timestamps_* keys. */
enum {
	TF_RFC3339 = 1 << 0,	/* timestamps_rfc3339 */
	TF_UTC = 1 << 1,	/* timestamps_utc */
	TF_EPOCH = 1 << 2,	/* timestamps_since_epoch */
	TF_SECS = 1 << 3,	/* timestamps_secs: microseconds are zeroed */
};

/*
 * A timestamp primitive: "2023-11-14 23:13:20.000000", RFC 3339
 * "2023-11-14T23:13:20.000000+01:00" (or "...Z" at UTC), epoch
 * "1700000000.000000".  Returns the length written (truncated to len).
 */
size_t timefmt_ts(char *buf, size_t len, int64_t sec, uint32_t usec, unsigned flags);

/* stamp_inserted / stamp_updated: "2023-11-14 23:10:00", RFC 3339 or epoch seconds. */
size_t timefmt_stamp(char *buf, size_t len, int64_t sec, unsigned flags);

#endif
