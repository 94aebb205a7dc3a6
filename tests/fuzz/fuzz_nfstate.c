/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_nfstate.c: libFuzzer target for the NetFlow/IPFIX state: a run of datagrams, a small template cache, persistence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/nf_state.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *arg, struct flow_rec *rec)
{
	uint64_t *n = arg;
	*n += rec->bytes + rec->packets + rec->k.sampling_rate;
}

static void line(void *arg, const char *l)
{
	size_t *n = arg;
	*n += strlen(l);
}

/*
 * Byte 0 sets the decoder options, among them a cache of 2 templates (so
 * eviction runs) or the default; then [2-byte length][datagram] pairs
 * whose top two length bits pick one of four exporters (two IPv4, two
 * IPv6, so templates of equal ids must stay apart).  Every datagram goes
 * through the one state, so templates, withdrawals, sampler options and
 * sequence numbers of one datagram shape the next.  At the end the stats
 * are printed, and the cache is saved and loaded into a fresh state, which
 * must hold as many templates as were saved.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fr_ip ex[4] = {
		{ 4, { 0 }, { 192, 0, 2, 1 } }, { 4, { 0 }, { 192, 0, 2, 2 } },
		{ 6, { 0 }, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
		{ 6, { 0 }, { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } },
	};
	struct fr_ts now = { 1700000000, 0 };
	uint64_t n = 0;
	size_t chars = 0;

	if (size < 1)
		return 0;
	uint8_t c = data[0];
	struct nf_opts o = { .renormalize = c & 1, .time_secs = (c & 2) != 0,
	    .time_new = (c & 4) != 0, .account_options = (c & 8) != 0,
	    .use_ip_next_hop = (c & 16) != 0, .ext_sampling_rate = (c & 32) ? 10 : 0,
	    .max_templates = (c & 64) ? 2 : 0, .max_exporters = (c & 64) ? 2 : 0,
	    .hold_secs = (c & 128) ? 3 : 0, .hold_bytes = (c & 64) ? 300 : 0 };
	struct nf_state *st = nf_state_new(&o);
	data++;
	size--;
	uint8_t *d;
	size_t len;
	int i;

	while ((d = fuzz_next_datagram(&data, &size, 2, &i, &len))) {
		nf_decode(st, d, len, &ex[i], &now, sink, &n);
		free(d);
		now.sec++;
		nf_state_expire(st, now.sec);	/* early data held past hold_secs */
	}
	nf_stats_lines(st, now.sec, line, &chars);
	struct nf_totals t;
	nf_totals(st, &t);

	size_t tlen;
	char *text = nf_templates_dump(st, false, &tlen);
	struct nf_opts big = o;
	big.max_templates = 0;
	struct nf_state *back = nf_state_new(&big);
	if (nf_templates_parse(back, text, tlen) != 0 || back->ntpl != st->ntpl)
		abort();	/* what was saved must load, every template */
	nf_state_free(back);
	free(text);
	nf_state_free(st);
	return 0;
}
