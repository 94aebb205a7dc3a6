/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_netflow.c: libFuzzer target for nf_decode(): a run of datagrams sharing one template cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/netflow.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *arg, struct flow_rec *rec)
{
	uint64_t *n = arg;
	*n += rec->bytes + rec->packets;
}

/*
 * The input is a sequence of [2-byte big-endian length][datagram]; a
 * length beyond the input takes what is left.  Datagrams go through one
 * state, so templates from one decode the data of the next.  Each
 * datagram is copied into its own exact-size buffer, so ASan catches any
 * overread.  The first datagram comes from an IPv4 exporter, the rest
 * from the same one unless the length's top bit is set (IPv6 exporter):
 * templates must stay apart per exporter.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nf_opts o = { .renormalize = size & 1, .time_secs = (size & 2) != 0 };
	struct nf_state *st = nf_state_new(&o);
	struct fr_ip ex[2] = { { 4, { 0 }, { 127, 0, 0, 1 } }, { 6, { 0 }, { 0x20, 0x01, 0x0d, 0xb8 } } };
	struct fr_ts now = { 1700000000, 0 };
	uint64_t n = 0;
	uint8_t *d;
	size_t len;
	int i = 0;

	while ((d = fuzz_next_datagram(&data, &size, 1, &i, &len))) {
		nf_decode(st, d, len, &ex[i], &now, sink, &n);
		free(d);
	}
	/* the templates file writer on whatever the input left behind */
	free(nf_templates_dump(st, false, NULL));
	nf_state_free(st);
	(void)n;
	return 0;
}
