/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_sflow.c: libFuzzer target for sflow_decode() and the per-agent state (sequence, renormalization). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/sflow.h"
#include "decode/sflow_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_ctx {
	struct sflow_state *ss;
	uint64_t sum;
};

static void fuzz_flow(void *arg, const struct sflow_hdr *h, const struct sflow_flow *f,
    struct flow_rec *rec)
{
	struct fuzz_ctx *c = arg;
	sflow_state_renormalize(c->ss, h, f, rec);
	c->sum += rec->bytes + rec->k.src_port;
}

static void fuzz_counter(void *arg, const struct sflow_hdr *h, const struct sflow_counter *cs)
{
	struct fuzz_ctx *c = arg;
	(void)h;
	c->sum += cs->gen.ifInOctets + cs->vlan.vlan_id;
}

/*
 * Decode the input as one datagram with a fresh state (runs are
 * reproducible), through renormalization and the sequence tracking.  The
 * buffer is passed exactly, so ASan catches any overread.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sflow_stats st;
	struct sflow_hdr h;
	struct fuzz_ctx c = { sflow_state_new(), 0 };
	/* sampled headers are looked into for tunnels (the tunnel_* primitives) */
	static const struct pkt_tun tun = { true, 0, { { 0, 0 } } };
	struct sflow_sink sink = { fuzz_flow, fuzz_counter, &c, &tun };

	memset(&st, 0, sizeof(st));
	enum sflow_drop why = sflow_decode(data, size, &sink, &st, &h);
	if (why == SFLOW_DROP_NONE)
		sflow_state_datagram(c.ss, &h, size);
	sflow_state_free(c.ss);
	return 0;
}
