/* SPDX-License-Identifier: BSD-3-Clause */
/* test_ports.c: ports_file loading: comments, bad lines skipped, limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/ports.h"
#include "tap.h"

static char *write_tmp(const char *text)
{
	static char path[64];
	strcpy(path, "/tmp/test_ports_XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

int main(void)
{
	char err[256];
	const char *path = write_tmp("! comment\n# comment\n\n80\n  53  \nabc\n22x\n70000\n0\n"
	    "443 5000\n65535\n1\n80\n-5\n");
	struct port_map *m = portmap_load(path, err, sizeof(err));

	ok(m != NULL, "loads despite bad lines");
	ok(portmap_has(m, 80) && portmap_has(m, 53) && portmap_has(m, 443), "listed ports");
	ok(portmap_has(m, 65535) && portmap_has(m, 1), "1 and 65535 are valid ports");
	ok(!portmap_has(m, 22), "'22x' is a bad line, not 22");
	ok(!portmap_has(m, 5000), "only the first number of a line");
	ok(!portmap_has(m, 0) && !portmap_has(m, 4464), "0 and 70000 (mod 65536) not listed");
	is_int(portmap_count(m), 5, "distinct ports");
	portmap_free(m);
	unlink(path);
	portmap_free(NULL);

	m = portmap_load("/nonexistent/ports.lst", err, sizeof(err));
	ok(m == NULL && strstr(err, "/nonexistent/ports.lst"), "missing file named: %s", err);

	path = write_tmp("");
	m = portmap_load(path, err, sizeof(err));
	ok(m && portmap_count(m) == 0 && !portmap_has(m, 80), "empty file: nothing listed");
	portmap_free(m);
	unlink(path);
	return tap_done();
}
