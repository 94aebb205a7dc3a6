/* SPDX-License-Identifier: BSD-3-Clause */
/* prefix.c: addr[/len] of the map files (allow file, flow_to_rd_map, pre_tag_map, sampling_map). */
#include "prefix.h"

#include <string.h>

#include "lib/text.h"

int prefix_parse(const char *s, struct fr_ip *net, uint8_t *len)
{
	char addr[64];
	const char *len_text;
	uint64_t v;

	if (text_cut(s, '/', addr, sizeof(addr), &len_text) < 0 || fr_ip_parse(addr, net) < 0)
		return -1;
	unsigned max = net->af == 4 ? 32 : 128;
	if (!len_text)
		v = max;
	else if (text_parse_uint(len_text, 10, max, &v) < 0)
		return -1;
	*len = (uint8_t)v;
	for (unsigned b = *len; b < max; b++)
		net->a[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	return 0;
}

bool prefix_match(const struct fr_ip *net, uint8_t len, const struct fr_ip *ip)
{
	unsigned full = len / 8, rest = len % 8;

	if (ip->af != net->af || memcmp(ip->a, net->a, full) != 0)
		return false;
	return !rest || ((ip->a[full] ^ net->a[full]) & (0xff << (8 - rest))) == 0;
}
