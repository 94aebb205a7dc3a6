/* SPDX-License-Identifier: BSD-3-Clause */
/* pcap_ifmap.c: pcap_interfaces_map rows, pcap_ifindex and pcap_direction values, pmacct's interface hash. */
#include "pcap_ifmap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/mapfile.h"
#include "lib/text.h"

enum ifmap_key { IK_IFNAME, IK_IFINDEX, IK_DIRECTION };

static const struct mapfile_key ifmap_keys[] = {
	{ "ifname", IK_IFNAME }, { "ifindex", IK_IFINDEX }, { "direction", IK_DIRECTION },
};

int pcap_dir_parse(const char *s, enum pcap_dir *out)
{
	if (strcasecmp(s, "in") == 0)
		*out = PCAP_DIR_IN;
	else if (strcasecmp(s, "out") == 0)
		*out = PCAP_DIR_OUT;
	else
		return -1;
	return 0;
}

int pcap_ifindex_parse(const char *s, enum pcap_ifindex_src *out)
{
	static const char *const names[] = { "none", "sys", "hash", "map" };

	for (size_t i = 0; i < NELEM(names); i++)
		if (strcasecmp(s, names[i]) == 0) {
			*out = (enum pcap_ifindex_src)i;
			return 0;
		}
	return -1;
}

/* One key=value into r.  0, or -1 with why. */
static int set_key(struct pcap_ifmap_row *r, const char *k, const char *v, char *why, size_t wlen)
{
	char *end;
	unsigned long n;

	switch (mapfile_key_id(ifmap_keys, NELEM(ifmap_keys), k)) {
	case IK_IFNAME:
		if (!v[0] || strlen(v) >= PCAP_IFNAME_MAX) {
			snprintf(why, wlen, "ifname '%s': expected an interface name of 1 to %d characters",
			    v, PCAP_IFNAME_MAX - 1);
			return -1;
		}
		snprintf(r->ifname, sizeof(r->ifname), "%s", v);
		return 0;
	case IK_IFINDEX:
		errno = 0;
		n = strtoul(v, &end, 10);
		if (end == v || *end || errno || n == 0 || n > UINT32_MAX || v[0] == '-') {
			snprintf(why, wlen, "ifindex '%s': expected a positive 32-bit number", v);
			return -1;
		}
		r->ifindex = (uint32_t)n;
		return 0;
	case IK_DIRECTION:
		if (pcap_dir_parse(v, &r->dir) == 0)
			return 0;
		snprintf(why, wlen, "direction '%s': expected in or out", v);
		return -1;
	default:
		snprintf(why, wlen, "unknown key '%s' (ifname, ifindex, direction)", k);
		return -1;
	}
}

/* One row into r: 0, or -1 with why. */
static int parse_row(char *row, struct pcap_ifmap_row *r, char *why, size_t wlen)
{
	struct mapfile_kv kv;
	enum mapfile_tok t;

	memset(r, 0, sizeof(*r));
	while ((t = mapfile_kv_next(&row, 0, &kv)) != MAPFILE_TOK_END) {
		if (t != MAPFILE_TOK_KV) {
			snprintf(why, wlen, "'%s' is not key=value", kv.word);
			return -1;
		}
		if (set_key(r, kv.key, kv.val, why, wlen) < 0)
			return -1;
	}
	if (!r->ifname[0]) {
		snprintf(why, wlen, "a row needs ifname=");
		return -1;
	}
	return 0;
}

const struct pcap_ifmap_row *pcap_ifmap_find(const struct pcap_ifmap *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->row[i].ifname, name) == 0)
			return &m->row[i];
	return NULL;
}

int pcap_ifmap_load(const char *path, struct pcap_ifmap *m, char *err, size_t errlen)
{
	struct mapfile mf;
	char why[256], *row;

	memset(m, 0, sizeof(*m));
	if (mapfile_init(&mf, path) < 0) {
		snprintf(err, errlen, "[%s] cannot open: %s", path, strerror(errno));
		return -1;
	}
	while ((row = mapfile_next(&mf))) {
		struct pcap_ifmap_row r;
		const char *bad = NULL;

		if (parse_row(row, &r, why, sizeof(why)) < 0)
			bad = why;
		else if (pcap_ifmap_find(m, r.ifname))
			bad = "interface named twice";
		else if (m->n >= PCAP_IFMAP_MAX)
			bad = "too many interfaces";
		if (bad) {
			mapfile_fail(&mf, err, errlen, "%s", bad);
			mapfile_fini(&mf);
			return -1;
		}
		m->row[m->n++] = r;
	}
	mapfile_fini(&mf);
	if (!m->n) {
		snprintf(err, errlen, "[%s] no interface in the map", path);
		return -1;
	}
	return 0;
}

/* Bob Jenkins' mix of lookup2 (1996), as pmacct's jhash(). */
#define IFH_MIX(a, b, c) do { \
	a -= b; a -= c; a ^= (c >> 13); \
	b -= c; b -= a; b ^= (a << 8); \
	c -= a; c -= b; c ^= (b >> 13); \
	a -= b; a -= c; a ^= (c >> 12); \
	b -= c; b -= a; b ^= (a << 16); \
	c -= a; c -= b; c ^= (b >> 5); \
	a -= b; a -= c; a ^= (c >> 3); \
	b -= c; b -= a; b ^= (a << 10); \
	c -= a; c -= b; c ^= (b >> 15); \
} while (0)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t pcap_ifindex_hash(const char *name)
{
	const uint8_t *k = (const uint8_t *)name;
	size_t len = strlen(name), n = len;
	uint32_t a = 0x9e3779b9u, b = 0x9e3779b9u, c = 0;

	for (; n >= 12; n -= 12, k += 12) {
		a += le32(k);
		b += le32(k + 4);
		c += le32(k + 8);
		IFH_MIX(a, b, c);
	}
	c += (uint32_t)len;
	/* the last 0..11 bytes: into a, b and c's upper three bytes (c's low byte is the length) */
	for (size_t i = 0; i < n; i++) {
		if (i < 4)
			a += (uint32_t)k[i] << (8 * i);
		else if (i < 8)
			b += (uint32_t)k[i] << (8 * (i - 4));
		else
			c += (uint32_t)k[i] << (8 * (i - 7));
	}
	IFH_MIX(a, b, c);
	return c;
}
