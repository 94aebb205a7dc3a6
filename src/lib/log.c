/* SPDX-License-Identifier: BSD-3-Clause */
/* log.c: the log sink shared by the core and the plugin threads. */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <sys/time.h>

#include "text.h"

static struct {
	pthread_mutex_t mu;
	FILE *file;
	char *path;
	bool syslog;
	bool debug;
	bool echo;	/* start-up: errors also reach stderr when the sink is a file or syslog */
} lg = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, false, false, true };

static const char *level_name[] = { "ERROR", "WARN", "NOTICE", "INFO", "DEBUG" };
static const int level_prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

static const struct { const char *name; int fac; } facilities[] = {
	{ "auth", LOG_AUTH }, { "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
	{ "kern", LOG_KERN }, { "user", LOG_USER }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

int log_open(const char *logfile, const char *facility, bool debug)
{
	lg.debug = debug;
	if (logfile) {
		FILE *f = fopen(logfile, "a");
		if (!f)
			return -1;
		setvbuf(f, NULL, _IOLBF, 0);
		pthread_mutex_lock(&lg.mu);
		if (lg.file)
			fclose(lg.file);
		lg.file = f;
		free(lg.path);
		lg.path = strdup(logfile);
		pthread_mutex_unlock(&lg.mu);
		return 0;
	}
	if (facility) {
		for (size_t i = 0; i < NELEM(facilities); i++) {
			if (strcasecmp(facility, facilities[i].name) == 0) {
				openlog(NULL, LOG_PID, facilities[i].fac);
				lg.syslog = true;
				return 0;
			}
		}
		return -1;
	}
	return 0;
}

void log_reopen(void)
{
	pthread_mutex_lock(&lg.mu);
	if (lg.path) {
		FILE *f = fopen(lg.path, "a");
		if (f) {
			setvbuf(f, NULL, _IOLBF, 0);
			fclose(lg.file);
			lg.file = f;
		}
	}
	pthread_mutex_unlock(&lg.mu);
}

void log_startup_done(void)
{
	lg.echo = false;
}

bool log_debug_on(void)
{
	return lg.debug;
}

void log_vmsg(enum log_level lvl, const char *who, const char *fmt, va_list ap)
{
	char msg[2048];
	int n = snprintf(msg, sizeof(msg), "%s ( %s ): ", level_name[lvl], who);
	if (n < 0)
		return;
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);

	if (lg.echo && lvl == LOG_L_ERROR && (lg.syslog || lg.file))
		fprintf(stderr, "%s\n", msg);
	if (lg.syslog) {
		syslog(level_prio[lvl], "%s", msg);
		return;
	}
	pthread_mutex_lock(&lg.mu);
	if (lg.file) {
		char ts[64];
		struct timeval tv;
		struct tm tm;
		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(lg.file, "%s %s\n", ts, msg);
	} else {
		fprintf(stderr, "%s\n", msg);
	}
	pthread_mutex_unlock(&lg.mu);
}

void log_msg(enum log_level lvl, const char *who, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(lvl, who, fmt, ap);
	va_end(ap);
}

void log_msg_errno(enum log_level lvl, const char *who, const char *fmt, ...)
{
	int saved = errno;
	char msg[2048], eb[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(lvl, who, "%s: %s", msg, strerror_r(saved, eb, sizeof(eb)));
	errno = saved;
}

void fatal(const char *who, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(LOG_L_ERROR, who, fmt, ap);
	va_end(ap);
	exit(1);
}

size_t log_count_deltas(char *line, size_t len, size_t off, const char *const *names,
    const uint64_t *now, const uint64_t *before, int from, int n)
{
	for (int i = from; i < n && off < len - 1; i++) {
		uint64_t d = now[i] - before[i];
		if (!d)
			continue;
		int k = snprintf(line + off, len - off, " %s=%llu", names[i], (unsigned long long)d);
		off = k > 0 && off + (size_t)k < len ? off + (size_t)k : len - 1;
	}
	return off;
}
