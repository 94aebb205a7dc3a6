/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_networks.c: libFuzzer target for netmap_load() and the net / mask / AS resolution over it. */
#include <stdint.h>
#include <unistd.h>

#include "fuzz_maps.h"
#include "fuzz_util.h"
#include "maps/networks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first byte picks the resolution rules (which sources, filter,
 * no_lpm, static mask); the rest is the networks_file.  A map that loads
 * resolves the nets, masks and ASNs of a record made from the input, and
 * answers lookups of its addresses.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum net_source srcs[] = { NETSRC_RECORD, NETSRC_FILE, NETSRC_MASK,
	    NETSRC_LONGEST };
	struct flow_rec rec;
	struct net_map *m;
	char path[64], err[256];
	int fd;

	if ((fd = fuzz_file_after_options(data, size, path, sizeof(path))) < 0)
		return 0;
	m = netmap_load(path, "fuzz/networks", err, sizeof(err));
	close(fd);
	if (!m)
		return 0;
	uint8_t c = data[0];
	struct net_res r = { .src = true, .dst = (c & 1) != 0, .want_net = true,
	    .want_mask = (c & 2) != 0, .want_as = true, .want_host = (c & 4) != 0,
	    .net = srcs[(c >> 3) & 3], .as = srcs[(c >> 5) & 1 ? 1 : 3],
	    .static_mask = (c & 0x80) ? 20 : 0, .filter = (c & 0x40) != 0,
	    .no_lpm = (c & 8) != 0, .no_mask_if_zero = (c & 0x10) != 0 };
	fuzz_rec(&rec, data, size);
	(void)netmap_lookup(m, &rec.k.src_ip);
	(void)netmap_lookup(m, &rec.k.peer_src_ip);
	net_res_apply(&r, m, &rec.k);
	(void)netmap_count(m);
	(void)netmap_memory(m);
	netmap_free(m);
	return 0;
}
