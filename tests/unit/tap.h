/* SPDX-License-Identifier: BSD-3-Clause */
/* tap.h: a tiny TAP test harness (meson reads TAP). */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdbool.h>
#include <stddef.h>

/* Record one check; prints "ok N - name" or "not ok N - name" with the location. */
bool tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record a check that cannot run here, with the reason ("ok N # SKIP reason"). */
void tap_skip(const char *reason);

/*
 * Prints the plan ("1..N") and returns the exit status: 0 if all passed,
 * 1 if one failed or none ran (a file that checks nothing is a failure).
 */
int tap_done(void);

#define ok(cond, ...)	tap_ok((cond), __FILE__, __LINE__, __VA_ARGS__)
#define skip(reason)	tap_skip(reason)
/* Each argument is evaluated once. */
bool tap_is_int(long long got, long long want, const char *file, int line, const char *name);
bool tap_is_str(const char *got, const char *want, const char *file, int line, const char *name);

#define is_int(a, b, name)	tap_is_int((long long)(a), (long long)(b), __FILE__, __LINE__, name)
#define is_str(a, b, name)	tap_is_str((a), (b), __FILE__, __LINE__, name)

#endif
