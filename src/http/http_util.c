/* SPDX-License-Identifier: BSD-3-Clause */
/* http_util.c: small pure helpers of the HTTP server: token check, listen address. */
#include "http_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
