/* SPDX-License-Identifier: BSD-3-Clause */
/* sampling_map.c: sampling_map loading (id, ip, in, out rules) and first-match lookup. */
#include "sampling_map.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"

#define SM_WHO "default/core"

/* An interface match: unset, equal to n, or (neg) anything but n. */
struct sm_iface {
	bool set, neg;
	uint32_t n;
};

struct sm_rule {
	uint32_t rate;
	struct fr_ip net;
	uint8_t len;
	struct sm_iface in, out;
};

struct sampling_map {
	struct sm_rule *v;
	size_t n;
};

/* A decimal number of at most 32 bits, the whole string; false otherwise. */
static bool sm_u32(const char *s, uint32_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* An address or prefix (addr/len), IPv4 or IPv6. */
static bool sm_prefix(const char *s, struct fr_ip *net, uint8_t *len)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	uint32_t l;

	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, addr, net->a) == 1)
		net->af = 4;
	else if (inet_pton(AF_INET6, addr, net->a) == 1)
		net->af = 6;
	else
		return false;
	unsigned max = net->af == 4 ? 32 : 128;
	if (!slash)
		l = max;
	else if (!sm_u32(slash + 1, &l) || l > max)
		return false;
	*len = (uint8_t)l;
	return true;
}

static bool sm_iface_parse(const char *s, struct sm_iface *f)
{
	f->neg = *s == '-';
	f->set = sm_u32(s + f->neg, &f->n);
	return f->set;
}

/*
 * Parse one rule (the line without its newline) into *r; false after
 * logging why the line is skipped.
 */
static bool sm_parse_line(char *line, const char *path, unsigned lineno, struct sm_rule *r)
{
	bool have_id = false, have_ip = false;
	char *save = NULL;

	memset(r, 0, sizeof(*r));
	for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(w, '=');
		if (!eq || eq == w) {
			log_warnx(SM_WHO, "[%s:%u] malformed word '%s' (want key=value). Line ignored.",
			    path, lineno, w);
			return false;
		}
		*eq = '\0';
		const char *k = w, *v = eq + 1;
		bool dup = false, ok;
		if (strcmp(k, "id") == 0) {
			dup = have_id;
			ok = sm_u32(v, &r->rate) && r->rate > 0;
			have_id = true;
		} else if (strcmp(k, "ip") == 0) {
			dup = have_ip;
			ok = sm_prefix(v, &r->net, &r->len);
			have_ip = true;
		} else if (strcmp(k, "in") == 0) {
			dup = r->in.set;
			ok = sm_iface_parse(v, &r->in);
		} else if (strcmp(k, "out") == 0) {
			dup = r->out.set;
			ok = sm_iface_parse(v, &r->out);
		} else {
			log_warnx(SM_WHO, "[%s:%u] unknown key '%s' (valid: id, ip, in, out). "
			    "Line ignored.", path, lineno, k);
			return false;
		}
		if (dup) {
			log_warnx(SM_WHO, "[%s:%u] key '%s' given twice. Line ignored.", path, lineno, k);
			return false;
		}
		if (!ok) {
			log_warnx(SM_WHO, "[%s:%u] key '%s': invalid value '%s'. Line ignored.", path,
			    lineno, k, v);
			return false;
		}
	}
	if (!have_id || !have_ip) {
		log_warnx(SM_WHO, "[%s:%u] required key missing. Required keys are: 'id', 'ip'. "
		    "Line ignored.", path, lineno);
		return false;
	}
	return true;
}

static bool sm_is_skip(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return !*s || *s == '!' || *s == '#';
}

struct sampling_map *sampling_map_load(const char *path, size_t max_entries, char *err,
    size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	bool full = false;

	if (!f) {
		snprintf(err, errlen, "[%s] cannot open the sampling map: %s", path, strerror(errno));
		return NULL;
	}
	if (!max_entries)
		max_entries = SAMPLING_MAP_DEFAULT_ENTRIES;
	struct sampling_map *m = xcalloc(1, sizeof(*m));
	while (getline(&buf, &cap, f) >= 0) {
		struct sm_rule r;
		lineno++;
		buf[strcspn(buf, "\r\n")] = '\0';
		if (sm_is_skip(buf) || !sm_parse_line(buf, path, lineno, &r))
			continue;
		if (m->n >= max_entries) {
			if (!full)
				log_warnx(SM_WHO, "[%s:%u] more than %zu rules (maps_entries): this and "
				    "later rules ignored.", path, lineno, max_entries);
			full = true;
			continue;
		}
		m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
		m->v[m->n++] = r;
	}
	free(buf);
	fclose(f);
	return m;
}

static bool sm_net_match(const struct sm_rule *r, const struct fr_ip *ip)
{
	if (r->net.af != ip->af)
		return false;
	unsigned full = r->len / 8, rest = r->len % 8;
	if (memcmp(r->net.a, ip->a, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (r->net.a[full] & mask) == (ip->a[full] & mask);
}

static bool sm_iface_match(const struct sm_iface *f, uint32_t v)
{
	return !f->set || ((v == f->n) != f->neg);
}

uint32_t sampling_map_lookup(const struct sampling_map *m, const struct fr_ip *exporter,
    uint32_t in_iface, uint32_t out_iface)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct sm_rule *r = &m->v[i];
		if (sm_net_match(r, exporter) && sm_iface_match(&r->in, in_iface) &&
		    sm_iface_match(&r->out, out_iface))
			return r->rate;
	}
	return 0;
}

size_t sampling_map_count(const struct sampling_map *m)
{
	return m ? m->n : 0;
}

void sampling_map_free(struct sampling_map *m)
{
	if (!m)
		return;
	free(m->v);
	free(m);
}
