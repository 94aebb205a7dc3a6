/* SPDX-License-Identifier: BSD-3-Clause */
/* tap.h: a tiny TAP test harness (meson reads TAP). */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdbool.h>
#include <stddef.h>

/* Record one check; prints "ok N - name" or "not ok N - name" with the location. */
bool tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prints the plan ("1..N") and returns the exit status (0 if all passed). */
int tap_done(void);

#define ok(cond, ...)	tap_ok((cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(a, b, name) \
	tap_ok((long long)(a) == (long long)(b), __FILE__, __LINE__, "%s (got %lld, want %lld)", \
	    name, (long long)(a), (long long)(b))
#define is_str(a, b, name) \
	tap_ok(strcmp((a), (b)) == 0, __FILE__, __LINE__, "%s (got '%s', want '%s')", name, (a), (b))

#endif
