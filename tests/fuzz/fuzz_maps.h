/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_maps.h: a record derived from the fuzz input, for evaluating maps after they load. */
#ifndef FUZZ_MAPS_H
#define FUZZ_MAPS_H

#include <stdint.h>
#include <string.h>

#include "model/flow_rec.h"

/*
 * Fill a record from the input's first bytes (wrapping around), so maps
 * are evaluated against addresses, ports and tags the fuzzer steers.
 */
static inline void fuzz_rec(struct flow_rec *rec, const uint8_t *data, size_t size)
{
	uint8_t b[64];

	memset(rec, 0, sizeof(*rec));
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = size ? data[i % size] : 0;
	rec->k.src_ip.af = (b[0] & 1) ? 6 : 4;
	rec->k.dst_ip.af = rec->k.src_ip.af;
	memcpy(rec->k.src_ip.a, b + 1, 16);
	memcpy(rec->k.dst_ip.a, b + 17, 16);
	rec->k.peer_src_ip.af = 4;
	memcpy(rec->k.peer_src_ip.a, b + 33, 4);
	rec->k.src_port = (uint16_t)(b[37] << 8 | b[38]);
	rec->k.dst_port = (uint16_t)(b[39] << 8 | b[40]);
	rec->k.proto = b[41];
	rec->k.in_iface = b[42];
	rec->k.out_iface = b[43];
	rec->k.vlan = b[44];
	rec->k.src_as = b[45];
	rec->k.dst_as = b[46];
	rec->k.src_mask = b[47] & 0x7f;
	rec->k.dst_mask = b[48] & 0x7f;
	rec->k.tag = b[49];
	rec->bytes = 100;
	rec->packets = 1;
}

#endif
