/* SPDX-License-Identifier: BSD-3-Clause */
/* logtail.h: whole-file reads and writes, and what the daemon's log gained since the last look, for the unit tests. */
#ifndef TESTS_UNIT_LOGTAIL_H
#define TESTS_UNIT_LOGTAIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "tap.h"

/* The log file the code under test writes to, and how many bytes of it were looked at. */
struct logtail {
	char path[128];
	long seen;
};

/* A file's whole text, up to 64 KiB (heap, caller frees); "" if missing. */
static inline char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = calloc(1, 1 << 16);
	size_t n = 0;

	if (f) {
		n = fread(s, 1, (1 << 16) - 1, f);
		fclose(f);
	}
	s[n] = '\0';
	return s;
}

/* Writes text as the whole file at path; aborts if it cannot be created. */
static inline void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

/* Creates dir/log empty and sends the log there (log_open); t follows it from its start. */
static inline void logtail_open(struct logtail *t, const char *dir)
{
	snprintf(t->path, sizeof(t->path), "%s/log", dir);
	spit(t->path, "");
	t->seen = 0;
	log_open(t->path, NULL, false);
}

/* What was logged since the last call, each line without its time stamp (heap, caller frees). */
static inline char *logtail_new(struct logtail *t)
{
	char *all = slurp(t->path), *out = calloc(1, strlen(all) + 1);
	size_t o = 0;

	for (char *p = all + t->seen, *e; *p; p = e + 1) {
		char *sp = strchr(p, ' ');
		e = strchr(p, '\n');
		if (!e || !sp)
			break;
		memcpy(out + o, sp + 1, (size_t)(e - sp));
		o += (size_t)(e - sp);
	}
	t->seen = (long)strlen(all);
	free(all);
	return out;
}

/* Checks that what was logged since the last look (logtail_new) is want. */
#define log_is(t, want, name) do { \
		char *log_is_got_ = logtail_new(t); \
		is_str(log_is_got_, want, name); \
		free(log_is_got_); \
	} while (0)

#endif
