/* SPDX-License-Identifier: BSD-3-Clause */
/* tap.c: a tiny TAP test harness. */
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

bool tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[8192];

	tap_n++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* TAP is line based: keep a message that quotes text on one line */
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	for (const char *c = msg; *c; c++) {
		if (*c == '\n')
			fputs("\\n", stdout);
		else
			putchar(*c);
	}
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("# failed at %s:%d\n", file, line);
	}
	return cond;
}

bool tap_is_int(long long got, long long want, const char *file, int line, const char *name)
{
	return tap_ok(got == want, file, line, "%s (got %lld, want %lld)", name, got, want);
}

bool tap_is_str(const char *got, const char *want, const char *file, int line, const char *name)
{
	return tap_ok(strcmp(got, want) == 0, file, line, "%s (got '%s', want '%s')", name, got, want);
}

void tap_skip(const char *reason)
{
	printf("ok %d # SKIP %s\n", ++tap_n, reason);
}

int tap_done(void)
{
	if (!tap_n) {
		printf("not ok 1 - the file ran no check\n");
		tap_n = tap_failed = 1;
	}
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
