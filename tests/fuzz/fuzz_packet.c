/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_packet.c: libFuzzer target for pkt_decode(); the first byte picks the link type and tunnels. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/packet.h"
#include "pipeline/flows.h"
#include "pipeline/frag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every link type pkt_decode() supports, indexed by the first input byte. */
static const int fuzz_dlts[] = { 1, 113, 276, 12, 14, 101, 228, 229, 0, 108, 9, 50, 104 };

/* Every tunnel decoding on: the tunnel_* primitives and tunnel_0 with each protocol. */
static const struct pkt_tun fuzz_tun = { true, 4, {
	{ PKT_TUN_GTP, 2152 }, { PKT_TUN_VXLAN, 4789 }, { PKT_TUN_GRE, 0 }, { PKT_TUN_IPIP, 0 } } };

/*
 * Decode the rest of the input as one frame (first byte: bit 7 looks into
 * tunnels, the rest % 13 the link type), then run the record through
 * the fragment and flow tables (fresh per input, so runs are reproducible).
 * The decoder must stay within the bytes it is given: the frame is passed
 * exactly, so ASan catches any overread.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_stats st = { 0 };
	struct flow_rec rec;
	struct frag_table *frag;
	struct flows_table *flows;
	int dlt;

	if (size < 1)
		return 0;
	dlt = fuzz_dlts[(data[0] & 0x7f) % (sizeof(fuzz_dlts) / sizeof(fuzz_dlts[0]))];
	if (data[0] & 0x80) {
		memset(&rec, 0, sizeof(rec));
		if (pkt_decode_tun(dlt, data + 1, size - 1, size - 1, &fuzz_tun, &rec, &st) !=
		    PKT_DROP_NONE)
			return 0;
	} else if (pkt_decode(dlt, data + 1, size - 1, size - 1, &rec, &st) != PKT_DROP_NONE) {
		return 0;
	}
	frag = frag_new(4096);
	flows = flows_new(4096, 60);
	rec.ts.sec = 1;
	if (frag_handle(frag, &rec))
		flows_handle(flows, &rec);
	flows_free(flows);
	frag_free(frag);
	return 0;
}
