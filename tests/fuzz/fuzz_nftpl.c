/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_nftpl.c: libFuzzer target for nf_templates_parse(): an nfacctd_templates_file's text in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/nf_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *arg, struct flow_rec *rec)
{
	uint64_t *n = arg;
	*n += rec->bytes;
}

/*
 * The whole input is a templates file.  The templates it loads then
 * decode a v9 and an IPFIX datagram made of one data set for template 256
 * from the exporter the seed files use, so a loaded template is also run.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t v9[] = {
		0, 9, 0, 1, 0, 0, 0, 1, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 1, 0, 0, 0, 0,
		1, 0, 0, 24, 10, 0, 0, 1, 10, 0, 0, 2, 0, 0, 0, 100, 0, 0, 0, 1, 0x11, 0, 0, 0,
	};
	static const uint8_t ipfix[] = {
		0, 10, 0, 40, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 1, 0, 0, 0, 0,
		1, 0, 0, 24, 10, 0, 0, 1, 10, 0, 0, 2, 0, 0, 0, 100, 0, 0, 0, 1, 0x11, 0, 0, 0,
	};
	struct fr_ip ex = { 4, { 0 }, { 192, 0, 2, 1 } };
	struct fr_ts now = { 1700000000, 0 };
	struct nf_opts o = { 0 };
	uint64_t n = 0;
	struct nf_state *st = nf_state_new(&o);

	(void)nf_templates_parse(st, (const char *)data, size);
	nf_decode(st, v9, sizeof(v9), &ex, &now, sink, &n);
	nf_decode(st, ipfix, sizeof(ipfix), &ex, &now, sink, &n);
	nf_state_free(st);
	return 0;
}
