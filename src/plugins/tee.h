/* SPDX-License-Identifier: BSD-3-Clause */
/* tee.h: the tee plugin: nfacctd/sfacctd datagrams replicated unchanged to pools of receivers. */
#ifndef PLUGINS_TEE_H
#define PLUGINS_TEE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdatomic.h>

#include "maps/tee_map.h"	/* enum tee_alg */
#include "model/flow_rec.h"

/*
 * Which receiver of a pool of n takes a datagram from `agent` with `tag`
 * (*rr is the pool's round-robin counter); TEE_ALL is not asked.
 *   rr:          0, 1, ..., n-1, 0, ...
 *   hash-agent:  the agent address's last 32 bits (network order read as a number) mod n
 *   hash-tag:    tag mod n
 *   hash-crc32:  CRC-32 (IEEE, as zlib's crc32) of the agent address bytes, mod n
 */
size_t tee_pick(enum tee_alg alg, size_t n, _Atomic uint64_t *rr, const struct fr_ip *agent,
    uint64_t tag);

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()) of n bytes. */
uint32_t tee_crc32(const uint8_t *p, size_t n);

#endif
