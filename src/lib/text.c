/* SPDX-License-Identifier: BSD-3-Clause */
/* text.c: small text helpers: trimming, and the parsers of MAC addresses, IP protocols and numbers. */
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* IP protocol names exactly as pmacct 1.7 prints them (others print as numbers). */
static const char *const text_proto_names[256] = {
	[1] = "icmp", [2] = "igmp", [3] = "ggp", [4] = "ipencap", [6] = "tcp", [8] = "egp",
	[9] = "igp", [17] = "udp", [18] = "mux", [41] = "ipv6", [43] = "ipv6-route",
	[44] = "ipv6-frag", [46] = "rsvp", [47] = "gre", [50] = "esp", [51] = "ah",
	[55] = "mobile", [56] = "tlsp", [58] = "ipv6-icmp", [59] = "ipv6-nonxt",
	[60] = "ipv6-opts", [80] = "iso-ip", [83] = "vines", [88] = "eigrp", [89] = "ospf",
	[91] = "larp", [93] = "ax.25", [94] = "ipip", [98] = "encap", [102] = "pnni",
	[103] = "pim", [108] = "IPcomp", [111] = "ipx-in-ip", [112] = "vrrp", [115] = "l2tp",
	[124] = "isis", [132] = "sctp", [133] = "fc",
};

char *text_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int text_cut(const char *s, int sep, char *buf, size_t size, const char **rest)
{
	const char *at = strchr(s, sep);
	size_t n = at ? (size_t)(at - s) : strlen(s);

	if (n >= size)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*rest = at ? at + 1 : NULL;
	return 0;
}

int text_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t v[6];

	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(*s), lo;

		if (hi < 0)
			return -1;
		s++;
		lo = hex_digit(*s);
		if (lo >= 0) {
			hi = hi * 16 + lo;
			s++;
		}
		v[i] = (uint8_t)hi;
		if (*s++ != (i < 5 ? ':' : '\0'))
			return -1;
	}
	memcpy(mac, v, sizeof(v));
	return 0;
}

int text_parse_uint(const char *s, int base, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && !(base == 16 && hex_digit(*s) >= 0))
		return -1;		/* empty, or a sign strtoull would take */
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

const char *text_proto_name(uint8_t proto)
{
	return text_proto_names[proto];
}

const char *text_proto_fmt(uint8_t proto, char *buf, size_t len)
{
	if (text_proto_names[proto])
		return text_proto_names[proto];
	snprintf(buf, len, "%u", proto);
	return buf;
}

int text_parse_proto(const char *s, uint8_t *proto)
{
	uint64_t v;

	if (*s && strspn(s, "0123456789") == strlen(s)) {
		if (text_parse_uint(s, 10, 255, &v) < 0)
			return -1;
		*proto = (uint8_t)v;
		return 0;
	}
	for (int i = 0; i < 256; i++) {
		if (text_proto_names[i] && strcasecmp(text_proto_names[i], s) == 0) {
			*proto = (uint8_t)i;
			return 0;
		}
	}
	return -1;
}
