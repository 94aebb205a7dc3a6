/* SPDX-License-Identifier: BSD-3-Clause */
/* test_log.c: the log line format, and log_warn / log_err_errno appending strerror(errno). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "tap.h"

/* Run fn with stderr sent to a file; returns what it wrote. */
static char *capture(void (*fn)(void))
{
	char path[] = "/tmp/test_log_XXXXXX", *out = calloc(1, 4096);
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;

	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	if (fread(out, 1, 4095, f) == 0)
		out[0] = '\0';
	fclose(f);
	unlink(path);
	return out;
}

static int errno_after;

static void warn_enoent(void)
{
	errno = ENOENT;
	log_warn("p1/print", "cannot open '%s'", "/x");
	errno_after = errno;
}

static void err_eacces(void)
{
	errno = EACCES;
	log_err_errno("default/core", "recvmmsg");
}

static void warnx_plain(void)
{
	errno = ENOENT;
	log_warnx("p1/print", "no errno here: %d", 7);
}

int main(void)
{
	char *s;
	char want[256];

	log_open(NULL, NULL, false);
	s = capture(warn_enoent);
	snprintf(want, sizeof(want), "WARN ( p1/print ): cannot open '/x': %s\n", strerror(ENOENT));
	is_str(s, want, "log_warn appends ': strerror(errno)'");
	is_int(errno_after, ENOENT, "log_warn leaves errno as it was");
	free(s);
	s = capture(err_eacces);
	snprintf(want, sizeof(want), "ERROR ( default/core ): recvmmsg: %s\n", strerror(EACCES));
	is_str(s, want, "log_err_errno, with no arguments after the format");
	free(s);
	s = capture(warnx_plain);
	is_str(s, "WARN ( p1/print ): no errno here: 7\n", "log_warnx appends nothing");
	free(s);
	return tap_done();
}
