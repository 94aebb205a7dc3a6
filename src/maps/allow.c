/* SPDX-License-Identifier: BSD-3-Clause */
/* allow.c: the collectors' allow file: loading (through lib/mapfile) and matching an exporter address. */
#include "allow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mapfile.h"
#include "lib/xalloc.h"

/* An allowed exporter prefix. */
struct allow_pfx {
	struct fr_ip net;
	uint8_t len;
};

struct allow_list {
	struct allow_pfx *v;
	size_t n;
};

/* "addr" or "addr/len", IPv4 or IPv6; false if it is neither. */
static bool pfx_parse(const char *s, struct allow_pfx *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	long len = -1;

	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, out->net.a) == 1)
		out->net.af = 4;
	else if (inet_pton(AF_INET6, addr, out->net.a) == 1)
		out->net.af = 6;
	else
		return false;
	if (slash) {
		char *end;
		len = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1)
			return false;
	}
	int max = out->net.af == 4 ? 32 : 128;
	if (len < 0)
		len = max;
	if (len > max)
		return false;
	out->len = (uint8_t)len;
	return true;
}

static bool pfx_match(const struct allow_pfx *p, const struct fr_ip *ip)
{
	if (p->net.af != ip->af)
		return false;
	for (unsigned bit = 0; bit < p->len; bit += 8) {
		unsigned take = p->len - bit >= 8 ? 8 : p->len - bit;
		uint8_t m = (uint8_t)(0xff << (8 - take));
		if ((p->net.a[bit / 8] & m) != (ip->a[bit / 8] & m))
			return false;
	}
	return true;
}

struct allow_list *allow_load(const char *path, const char *who)
{
	struct mapfile mf;
	struct allow_list *a;
	char *row;

	if (mapfile_init(&mf, path) < 0)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	while ((row = mapfile_next(&mf))) {
		struct allow_pfx p;
		if (!pfx_parse(row, &p)) {
			mapfile_warn(&mf, who, "invalid address or prefix '%s'. Ignored.", row);
			continue;
		}
		a->v = xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
		a->v[a->n++] = p;
	}
	mapfile_fini(&mf);
	return a;
}

bool allow_match(const struct allow_list *a, const struct fr_ip *ip)
{
	if (!a)
		return true;
	for (size_t i = 0; i < a->n; i++)
		if (pfx_match(&a->v[i], ip))
			return true;
	return false;
}

size_t allow_count(const struct allow_list *a)
{
	return a ? a->n : 0;
}

void allow_free(struct allow_list *a)
{
	if (a)
		free(a->v);
	free(a);
}
