/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_util.h: helpers shared by the fuzz targets: the input as a file, quiet logging, a sink FILE. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"

/*
 * The parsers under test read files by path: the input becomes an
 * anonymous memory file, named by its /proc/self/fd path (nothing is
 * written to disk, parallel runs do not collide).  Returns the fd (close
 * it when done) and the path in path[], or -1.
 */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t plen)
{
	int fd = memfd_create("fuzz", 0);

	if (fd < 0)
		return -1;
	while (size > 0) {
		ssize_t n = write(fd, data, size);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		data += n;
		size -= (size_t)n;
	}
	snprintf(path, plen, "/proc/self/fd/%d", fd);
	return fd;
}

/* Send the parsers' log lines (bad-line warnings) nowhere, once. */
static inline void fuzz_quiet(void)
{
	static int done;

	if (!done) {
		log_open("/dev/null", NULL, false);
		done = 1;
	}
}

/* A FILE the renderers write to and nobody reads. */
static inline FILE *fuzz_sink(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	return f;
}

#endif
