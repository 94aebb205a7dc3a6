/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * progress.h: a progress line while a long capture file is read (percent, packets/s, ETA),
 * on a terminal only: nothing when stderr is not a TTY or the daemon is detached.
 */
#ifndef PMNG_LIB_PROGRESS_H
#define PMNG_LIB_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	int fd;			/* where the line goes (stderr) */
	bool on;		/* a terminal, not daemonized */
	bool shown;		/* a line is on the screen */
	double t0, last;	/* start, last line (seconds, monotonic) */
	uint64_t total;		/* bytes of the file; 0 = unknown (no percent, no ETA) */
	char what[64];		/* the file's name, shortened */
};

/* Lines start after PROGRESS_DELAY seconds and are redrawn every PROGRESS_EVERY seconds. */
#define PROGRESS_DELAY 2.0
#define PROGRESS_EVERY 0.5

/* Set up for a file of `total` bytes; on only when `fd` is a terminal (or `force`). */
void progress_init(struct progress *p, const char *what, uint64_t total, int fd, bool force,
    double now);

/* `done` bytes and `packets` read so far at time `now`: redraw the line when it is due. */
void progress_tick(struct progress *p, uint64_t done, uint64_t packets, double now);

/* Format the line into buf (the unit under test); returns its length. */
int progress_format(const struct progress *p, uint64_t done, uint64_t packets, double now,
    char *buf, int len);

/* Clear the line (end of file). */
void progress_done(struct progress *p);

#endif
