/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_pretag.c: libFuzzer target for pretag_load() and pretag_eval(): a pre_tag_map file in. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <unistd.h>

#include "fuzz_maps.h"
#include "fuzz_util.h"
#include "maps/pretag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first byte picks the daemon whose keys apply, and a small
 * maps_entries / maps_row_len (so the limits are reached); the rest is the
 * map.  A map that loads is evaluated against a record made from the input
 * (and, for pmacctd, an Ethernet frame built from it), twice, since `++`
 * tags advance on each match.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_result res[PT_MAX_RESULTS];
	struct flow_rec rec;
	struct pt_map *m;
	char path[64], err[256];
	int fd;

	if (size < 1)
		return 0;
	fuzz_quiet();
	enum pt_daemon d = (enum pt_daemon)(data[0] % 3);
	struct pt_opts o = { .daemon = d, .linktype = DLT_EN10MB, .snaplen = 128,
	    .max_entries = (data[0] & 0x40) ? 4 : 0, .row_len = (data[0] & 0x80) ? 40 : 0,
	    .who = "fuzz/pretag" };
	if ((fd = fuzz_file(data + 1, size - 1, path, sizeof(path))) < 0)
		return 0;
	m = pretag_load(path, &o, err, sizeof(err));
	close(fd);
	if (!m)
		return 0;
	fuzz_rec(&rec, data, size);
	uint8_t pkt[54] = { 0 };
	struct pcap_pkthdr h = { .caplen = sizeof(pkt), .len = sizeof(pkt) };
	pkt[12] = 0x08;
	pkt[14] = 0x45;
	pkt[23] = rec.k.proto;
	for (int i = 0; i < 2; i++) {
		if (d == PT_PMACCTD)
			pretag_eval(m, &rec, &h, pkt, res, PT_MAX_RESULTS);
		else
			pretag_eval(m, &rec, NULL, NULL, res, PT_MAX_RESULTS);
	}
	(void)pretag_count(m);
	pretag_free(m);
	return 0;
}
