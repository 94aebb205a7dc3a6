/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_bgp.c: libFuzzer target for the BGP message decoder (header, OPEN, UPDATE, NOTIFICATION, ROUTE-REFRESH). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/bgp_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_nlri(void *arg, const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	uint64_t *sum = arg;
	*sum += n->plen + n->addr[0] + n->path_id + n->label[0] + a->n_comm;
	for (size_t i = 0; i < a->n_comm; i++)
		*sum += bgp_comm(a, i);
	for (size_t i = 0; i < a->n_ext_comm; i++)
		*sum += bgp_ext_comm(a, i);
	for (size_t i = 0; i < a->n_large_comm; i++) {
		uint32_t l[3];
		bgp_large_comm(a, i, l);
		*sum += l[2];
	}
}

/*
 * Input: one byte of session options (bit 0: 4-octet AS, bit 1: extended
 * messages, high nibble: ADD-PATH receive bits), then a stream of messages
 * decoded one after the other as a TCP reader would, until one is incomplete
 * or resets the session.  Each message is passed exactly, so ASan catches any
 * overread.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bgp_attrs a;
	struct bgp_session s;
	struct bgp_error e;
	uint64_t sum = 0;
	if (size < 1)
		return 0;
	s.as4 = data[0] & 1;
	s.ext_msg = (data[0] & 2) != 0;
	s.addpath_rx = data[0] >> 4;
	data++;
	size--;
	for (;;) {
		long need = bgp_msg_need(data, size, s.ext_msg, &e);
		if (need <= 0 || (size_t)need > size)
			break;
		struct bgp_msg m;
		if (!bgp_decode_header(data, (size_t)need, s.ext_msg, &m, &e))
			break;
		union {
			struct bgp_open o;
			struct bgp_notification n;
			struct bgp_afsafi rr;
		} u;
		if (m.type == BGP_OPEN)
			(void)bgp_decode_open(m.body, m.body_len, &u.o, &e);
		else if (m.type == BGP_UPDATE)
			(void)bgp_decode_update(m.body, m.body_len, &s, &a, fuzz_nlri, &sum, &e);
		else if (m.type == BGP_NOTIFICATION)
			(void)bgp_decode_notification(m.body, m.body_len, &u.n, &e);
		else if (m.type == BGP_ROUTE_REFRESH)
			(void)bgp_decode_route_refresh(m.body, m.body_len, &u.rr, &e);
		data += need;
		size -= (size_t)need;
	}
	volatile uint64_t sink = sum; /* keeps the callback's reads */
	(void)sink;
	return 0;
}
