/* SPDX-License-Identifier: BSD-3-Clause */
/* clock.h: the process's clock readings: monotonic (ms, us, seconds; precise or coarse) and wall (ms). */
#ifndef LIB_CLOCK_H
#define LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC: for timeouts, rate limits and ages. */
static inline int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Milliseconds on CLOCK_MONOTONIC_COARSE (one tick, a few ms, of
 * resolution, but no system call): for per-batch checks on the receive
 * paths.  Not to be compared with clock_mono_ms() readings.
 */
static inline int64_t clock_mono_coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Microseconds on CLOCK_MONOTONIC: for durations (how long a purge took). */
static inline uint64_t clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Seconds on CLOCK_MONOTONIC, with a fraction: for rates and progress lines. */
static inline double clock_mono_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds since the Unix epoch (CLOCK_REALTIME): for deadlines set on the wall clock. */
static inline int64_t clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
