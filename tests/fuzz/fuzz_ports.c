/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_ports.c: libFuzzer target for portmap_load(): a ports_file in. */
#include <stdint.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "maps/ports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole input is the ports file; a map that loads is asked about every port once. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct port_map *m;
	char path[64], err[256];
	size_t n = 0;
	int fd;

	fuzz_quiet();
	if ((fd = fuzz_file(data, size, path, sizeof(path))) < 0)
		return 0;
	m = portmap_load(path, err, sizeof(err));
	close(fd);
	if (!m)
		return 0;
	for (uint32_t p = 0; p <= 0xffff; p++)
		n += portmap_has(m, (uint16_t)p);
	/* every listed port answers yes, and nothing else does */
	if (n != portmap_count(m) || portmap_has(m, 0))
		abort();
	portmap_free(m);
	return 0;
}
