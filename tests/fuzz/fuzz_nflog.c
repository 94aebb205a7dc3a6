/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_nflog.c: libFuzzer target for nflog_parse(): the input is one recv() of an NFLOG socket. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/nflog.h"
#include "decode/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Each packet the parser hands on is built into uacctd's frame (snaplen 128)
 * and decoded as Ethernet, as the daemon does.  The buffer is a copy of
 * exactly the input's size, so ASan catches any overread; every message is
 * counted once.
 */
static void on_pkt(void *arg, const struct nflog_pkt *p)
{
	uint8_t frame[NFLOG_FRAME_HW_MAX + 128];
	struct pkt_stats st = { 0 };
	struct flow_rec rec;
	size_t wire, cap = nflog_frame(p, 128, frame, &wire);

	(void)arg;
	if (cap > sizeof(frame) || wire < cap)
		abort();
	(void)pkt_decode(1, frame, cap, wire, &rec, &st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nflog_stats st = { 0 };
	uint8_t *buf = malloc(size ? size : 1);
	uint64_t seen = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	nflog_parse(buf, size, on_pkt, NULL, &st);
	seen = st.packets + st.control;
	for (int i = 0; i < NFLOG_BAD_COUNT; i++)
		seen += st.bad[i];
	if (seen != st.messages)
		abort();
	free(buf);
	return 0;
}
