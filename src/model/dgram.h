/* SPDX-License-Identifier: BSD-3-Clause */
/* dgram.h: one datagram as a collector received it: payload, sender and arrival time. */
#ifndef MODEL_DGRAM_H
#define MODEL_DGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

/*
 * One received datagram, as the decoders and the datagram hooks of the
 * plugin types (tee) see it.  The bytes belong to the receiver and are
 * valid only during the call that is given them.
 */
struct dgram {
	const uint8_t *data;
	size_t len;
	struct fr_ip src;	/* sender address (IPv4-mapped IPv6 given as IPv4) */
	uint16_t src_port;
	struct fr_ts ts;	/* arrival time; the capture's timestamp with -I */
};

#endif
