/* SPDX-License-Identifier: BSD-3-Clause */
/* http_util.c: small pure helpers of the HTTP server: token check, listen address, primitive values. */
#include "http_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugins/output.h"

bool http_token_equal(const char *presented, const char *expected)
{
	size_t n = strlen(expected), m;
	volatile unsigned char diff = 0;

	if (!presented)
		return false;
	m = strlen(presented);
	diff |= (unsigned char)(m != n);
	/* every byte of the expected token is visited; a short guess wraps around */
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(expected[i] ^ (m ? presented[i % m] : 0));
	return n > 0 && diff == 0;
}

static int port_parse(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || v > 65535)		/* 0: any free port (logged) */
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int http_listen_parse(const char *text, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon;
	size_t hl;

	if (!text || !*text)
		return -1;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':')
			return -1;
		hl = (size_t)(close - text - 1);
		if (hl == 0 || hl >= hostlen)
			return -1;
		memcpy(host, text + 1, hl);
		host[hl] = 0;
		return port_parse(close + 2, port);
	}
	colon = strrchr(text, ':');
	if (!colon) {
		snprintf(host, hostlen, "%s", HTTP_DEFAULT_HOST);
		return port_parse(text, port);
	}
	if (strchr(text, ':') != colon)
		return -1;	/* a bare IPv6 address needs brackets */
	hl = (size_t)(colon - text);
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, text, hl);
	host[hl] = 0;
	return port_parse(colon + 1, port);
}

static int parse_mac(const char *s, uint8_t *out)
{
	unsigned v[6];
	char extra;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return -1;
		out[i] = (uint8_t)v[i];
	}
	return 0;
}

static int parse_proto(const char *s, uint8_t *out)
{
	char buf[16];

	if (*s && strspn(s, "0123456789") == strlen(s)) {
		unsigned long v = strtoul(s, NULL, 10);
		*out = (uint8_t)v;
		return v <= 255 ? 0 : -1;
	}
	for (int i = 0; i < 256; i++) {
		if (strcasecmp(out_proto_name((uint8_t)i, buf, sizeof(buf)), s) == 0) {
			*out = (uint8_t)i;
			return 0;
		}
	}
	return -1;
}

static int parse_uint(const char *s, int base, size_t len, uint8_t *p)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || (len < 8 && v >> (len * 8)))
		return -1;
	switch (len) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); return 0; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); return 0; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); return 0; }
	case 8: memcpy(p, &v, 8); return 0;
	default: return -1;
	}
}

int http_value_parse(const struct prim_desc *d, const char *text, struct flow_key *k)
{
	uint8_t *p = (uint8_t *)k + d->off;

	switch (d->fmt) {
	case PF_UINT:
		return parse_uint(text, 10, d->len, p);
	case PF_HEX:
		return parse_uint(text, 16, d->len, p);
	case PF_MAC:
		return parse_mac(text, p);
	case PF_PROTO:
		return parse_proto(text, p);
	case PF_IP: {
		struct fr_ip ip;
		memset(&ip, 0, sizeof(ip));
		if (inet_pton(AF_INET, text, ip.a) == 1)
			ip.af = 4;
		else if (inet_pton(AF_INET6, text, ip.a) == 1)
			ip.af = 6;
		else
			return -1;
		memcpy(p, &ip, sizeof(ip));
		return 0;
	}
	case PF_STR:
		if (strlen(text) >= d->len)
			return -1;
		memset(p, 0, d->len);
		memcpy(p, text, strlen(text));
		return 0;
	default:
		return -1;
	}
}
