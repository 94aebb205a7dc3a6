/* SPDX-License-Identifier: BSD-3-Clause */
/* rdmap.c: flow_to_rd_map: the mpls_vpn_rd of a flow by exporter, interface or bottom label. */
#include "rdmap.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "model/prim_value.h"

#define RDMAP_MAX_LINES 65536

struct rd_line {
	uint8_t rd[8];
	struct fr_ip ip;	/* exporter prefix */
	uint8_t plen;
	bool has_in, has_out, has_label;
	uint32_t in, out, label;
};

struct rd_map {
	struct rd_line *v;
	size_t n, cap;
};

static int parse_u32(const char *s, uint32_t *out, uint32_t max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (end == s || *end || errno || v > max || s[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* ip=address[/len] */
static int parse_prefix(const char *s, struct rd_line *l)
{
	char buf[64], *slash;
	uint32_t len;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	if ((slash = strchr(buf, '/')))
		*slash++ = '\0';
	memset(&l->ip, 0, sizeof(l->ip));
	if (inet_pton(AF_INET, buf, l->ip.a) == 1)
		l->ip.af = 4;
	else if (inet_pton(AF_INET6, buf, l->ip.a) == 1)
		l->ip.af = 6;
	else
		return -1;
	uint32_t max = l->ip.af == 4 ? 32 : 128;
	if (slash) {
		if (parse_u32(slash, &len, max) < 0)
			return -1;
	} else {
		len = max;
	}
	l->plen = (uint8_t)len;
	return 0;
}

static int parse_line(char *line, struct rd_line *l, char *why, size_t wlen)
{
	char *save = NULL;
	bool have_id = false, have_ip = false;

	memset(l, 0, sizeof(*l));
	for (char *tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(why, wlen, "'%s' is not key=value", tok);
			return -1;
		}
		*eq = '\0';
		const char *k = tok, *v = eq + 1;
		if (strcasecmp(k, "id") == 0) {
			if (prim_value_parse_rd(v, l->rd) < 0) {
				snprintf(why, wlen, "id '%s': expected a route distinguisher, "
				    "0:<as>:<n>, 1:<ipv4>:<n> or 2:<as4>:<n>", v);
				return -1;
			}
			have_id = true;
		} else if (strcasecmp(k, "ip") == 0) {
			if (parse_prefix(v, l) < 0) {
				snprintf(why, wlen, "ip '%s': expected an address or prefix", v);
				return -1;
			}
			have_ip = true;
		} else if (strcasecmp(k, "in") == 0 || strcasecmp(k, "out") == 0 ||
		    strcasecmp(k, "mpls_label_bottom") == 0) {
			uint32_t x;
			if (parse_u32(v, &x, UINT32_MAX) < 0) {
				snprintf(why, wlen, "%s '%s': expected a number", k, v);
				return -1;
			}
			if (k[0] == 'i' || k[0] == 'I') {
				l->in = x;
				l->has_in = true;
			} else if (k[0] == 'o' || k[0] == 'O') {
				l->out = x;
				l->has_out = true;
			} else {
				l->label = x;
				l->has_label = true;
			}
		} else {
			snprintf(why, wlen, "unknown key '%s' (id, ip, in, out, mpls_label_bottom)", k);
			return -1;
		}
	}
	if (!have_id && !have_ip && !l->has_in && !l->has_out && !l->has_label)
		return 1;
	if (!have_id || !have_ip) {
		snprintf(why, wlen, "a line needs id= and ip=");
		return -1;
	}
	return 0;
}

struct rd_map *rdmap_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct rd_map *m;
	char line[1024], why[256];
	int lineno = 0;

	if (!f) {
		snprintf(err, errlen, "[%s] cannot open: %s", path, strerror(errno));
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	while (fgets(line, sizeof(line), f)) {
		struct rd_line l;
		char *p = line;
		int rc;
		lineno++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '!' || *p == '#' || !*p)
			continue;
		if ((rc = parse_line(p, &l, why, sizeof(why))) < 0 || m->n >= RDMAP_MAX_LINES) {
			snprintf(err, errlen, "[%s:%d] %s", path, lineno,
			    rc < 0 ? why : "too many lines");
			fclose(f);
			rdmap_free(m);
			return NULL;
		}
		if (rc > 0)
			continue;
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 16;
			m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
		}
		m->v[m->n++] = l;
	}
	fclose(f);
	return m;
}

static bool prefix_match(const struct rd_line *l, const struct fr_ip *a)
{
	unsigned full = l->plen / 8, rest = l->plen % 8;

	if (a->af != l->ip.af || memcmp(a->a, l->ip.a, full) != 0)
		return false;
	return !rest || ((a->a[full] ^ l->ip.a[full]) & (0xff << (8 - rest))) == 0;
}

int rdmap_apply(const struct rd_map *m, struct flow_key *k)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct rd_line *l = &m->v[i];
		if (!prefix_match(l, &k->peer_src_ip) || (l->has_in && l->in != k->in_iface) ||
		    (l->has_out && l->out != k->out_iface) ||
		    (l->has_label && l->label != k->mpls_label_bottom))
			continue;
		memcpy(k->mpls_vpn_rd, l->rd, 8);
		k->mpls_vpn_rd_origin = FR_RD_ORIGIN_MAP;
		return 1;
	}
	return 0;
}

size_t rdmap_count(const struct rd_map *m)
{
	return m ? m->n : 0;
}

void rdmap_free(struct rd_map *m)
{
	if (!m)
		return;
	free(m->v);
	free(m);
}
