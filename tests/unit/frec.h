/* SPDX-License-Identifier: BSD-3-Clause */
/* frec.h: flow records for the unit tests, built field by field. */
#ifndef TESTS_UNIT_FREC_H
#define TESTS_UNIT_FREC_H

#include <stdint.h>
#include <string.h>

#include "model/flow_rec.h"

/* A zeroed record from 10.0.0.src to 10.0.0.dst (IPv4), every other field 0. */
static inline struct flow_rec frec_v4(uint8_t src, uint8_t dst)
{
	struct flow_rec r;

	memset(&r, 0, sizeof(r));
	r.k.src_ip.af = r.k.dst_ip.af = 4;
	r.k.src_ip.a[0] = r.k.dst_ip.a[0] = 10;
	r.k.src_ip.a[3] = src;
	r.k.dst_ip.a[3] = dst;
	return r;
}

#endif
