/* SPDX-License-Identifier: BSD-3-Clause */
/* prefix.h: an address or prefix as map files write it (addr[/len]), and whether an address falls in one. */
#ifndef MAPS_PREFIX_H
#define MAPS_PREFIX_H

#include <stdbool.h>
#include <stdint.h>

#include "model/flow_rec.h"

/*
 * `addr` or `addr/len`, IPv4 or IPv6 (no /len: the host, 32 or 128) into
 * *net and *len, the host bits past len cleared.  0, or -1 for anything else
 * (an empty part, a length past the family's, trailing text).
 */
int prefix_parse(const char *s, struct fr_ip *net, uint8_t *len);

/* Does ip (of the same family) fall in net/len? */
bool prefix_match(const struct fr_ip *net, uint8_t len, const struct fr_ip *ip);

#endif
