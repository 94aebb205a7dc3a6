/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_sampling_map.c: libFuzzer target for sampling_map_load(): a sampling_map file in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "maps/sampling_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole input is the map; a map that loads is asked for a few exporters and interfaces. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t v4[4] = { 192, 168, 1, 1 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	struct fr_ip ips[3];
	char path[64], err[256];
	int fd;

	fuzz_quiet();
	if ((fd = fuzz_file(data, size, path, sizeof(path))) < 0)
		return 0;
	struct sampling_map *m = sampling_map_load(path, 16, err, sizeof(err));
	close(fd);
	if (!m)
		return 0;
	if (sampling_map_count(m) > 16)
		abort();
	memset(ips, 0, sizeof(ips));
	ips[0].af = 4;
	memcpy(ips[0].a, v4, sizeof(v4));
	ips[1].af = 6;
	memcpy(ips[1].a, v6, sizeof(v6));
	for (int i = 0; i < 3; i++)
		for (uint32_t in = 0; in < 8; in++)
			(void)sampling_map_lookup(m, &ips[i], in, 7 - in);
	sampling_map_free(m);
	return 0;
}
