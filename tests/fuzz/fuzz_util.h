/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_util.h: helpers shared by the fuzz targets: the input as a file, quiet logging, a sink FILE. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

/*
 * An input whose first byte picks options and whose rest is a file to
 * parse: fuzz_file() of data[1..size), logging quiet.  -1 for an empty input.
 */
static inline int fuzz_file_after_options(const uint8_t *data, size_t size, char *path,
    size_t plen)
{
	if (size < 1)
		return -1;
	fuzz_quiet();
	return fuzz_file(data + 1, size - 1, path, plen);
}

/*
 * The next datagram of an input made of [2-byte big-endian length][datagram]
 * records: the top tag_bits bits of the length are a tag (*tag), the rest
 * the length, and a length beyond the input takes what is left.  Returns an
 * exact-size heap copy (ASan sees any overread; free() it) of *len bytes,
 * or NULL once fewer than 2 bytes are left.
 */
static inline uint8_t *fuzz_next_datagram(const uint8_t **data, size_t *size, int tag_bits,
    int *tag, size_t *len)
{
	const uint8_t *p = *data;
	uint8_t *d;

	if (*size < 2)
		return NULL;
	*tag = p[0] >> (8 - tag_bits);
	*len = (size_t)(p[0] & (0xff >> tag_bits)) << 8 | p[1];
	*data += 2;
	*size -= 2;
	if (*len > *size)
		*len = *size;
	d = malloc(*len ? *len : 1);
	if (d == NULL)
		abort();
	memcpy(d, *data, *len);
	*data += *len;
	*size -= *len;
	return d;
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
