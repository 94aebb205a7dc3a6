/* SPDX-License-Identifier: BSD-3-Clause */
/* log.h: pmacct-style logging: "LEVEL ( name/type ): message" to stderr, a file or syslog. */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_L_ERROR, LOG_L_WARN, LOG_L_NOTICE, LOG_L_INFO, LOG_L_DEBUG };

/*
 * Configure the sink.  logfile != NULL: append to that file, each line
 * prefixed by an RFC 3339 UTC time; facility != NULL: syslog; else stderr.
 * Returns 0, or -1 if the file or facility is unusable.
 */
int log_open(const char *logfile, const char *facility, bool debug);

/*
 * Until this is called, errors logged to a file or to syslog are also
 * written to stderr, so that a daemon that fails to start tells the
 * terminal (or the service manager) why even when no syslog daemon runs.
 * Called once start-up is over (before daemonizing, stderr is the terminal).
 */
void log_startup_done(void);

/* Reopen the log file (SIGHUP). */
void log_reopen(void);

bool log_debug_on(void);

/*
 * Log with an explicit "name/type" prefix (e.g. "default/core",
 * "p1/print").  Thread-safe: each line is written with one call.
 */
void log_msg(enum log_level lvl, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level lvl, const char *who, const char *fmt, va_list ap);

/*
 * log_msg with ": " and strerror(errno) appended, errno as it was on entry
 * (and left as it was), as OpenBSD's log_warn: for "what failed: why".
 */
void log_msg_errno(enum log_level lvl, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Log an error and exit(1).  For start-up and broken invariants only. */
void fatal(const char *who, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#define log_err(who, ...)	log_msg(LOG_L_ERROR, who, __VA_ARGS__)
#define log_warnx(who, ...)	log_msg(LOG_L_WARN, who, __VA_ARGS__)
/* log_warn and log_err_errno append ": strerror(errno)" (log_msg_errno) */
#define log_warn(who, ...)	log_msg_errno(LOG_L_WARN, who, __VA_ARGS__)
#define log_err_errno(who, ...)	log_msg_errno(LOG_L_ERROR, who, __VA_ARGS__)
#define log_notice(who, ...)	log_msg(LOG_L_NOTICE, who, __VA_ARGS__)
#define log_info(who, ...)	log_msg(LOG_L_INFO, who, __VA_ARGS__)
#define log_debug(who, ...)	do { if (log_debug_on()) log_msg(LOG_L_DEBUG, who, __VA_ARGS__); } while (0)

/*
 * Append " name=delta" to line (of len bytes, NUL-terminated) for each
 * counter i in [from, n) that grew from before[i] to now[i]; returns the
 * line's new length (cut short when it fills).  For the one-line
 * summaries of dropped input that replace a log line per event.
 */
size_t log_count_deltas(char *line, size_t len, size_t off, const char *const *names,
    const uint64_t *now, const uint64_t *before, int from, int n);

#endif
