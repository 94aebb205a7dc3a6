/* SPDX-License-Identifier: BSD-3-Clause */
/* rdmap.c: flow_to_rd_map: the mpls_vpn_rd of a flow by exporter, interface or bottom label. */
#include "rdmap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lib/log.h"
#include "lib/mapfile.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "maps/prefix.h"
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
enum rd_key { RK_ID, RK_IP, RK_IN, RK_OUT, RK_LABEL };

static const struct mapfile_key rd_keys[] = {
	{ "id", RK_ID }, { "ip", RK_IP }, { "in", RK_IN }, { "out", RK_OUT },
	{ "mpls_label_bottom", RK_LABEL },
};

/* in=, out=, mpls_label_bottom=: a 32-bit number.  0, or -1 with why. */
static int parse_num(const char *k, const char *v, uint32_t *out, char *why, size_t wlen)
{
	if (parse_u32(v, out, UINT32_MAX) == 0)
		return 0;
	snprintf(why, wlen, "%s '%s': expected a number", k, v);
	return -1;
}

/* One key=value of a row into l.  0, or -1 with why. */
static int set_key(struct rd_line *l, const char *k, const char *v, char *why, size_t wlen)
{
	switch (mapfile_key_id(rd_keys, NELEM(rd_keys), k)) {
	case RK_ID:
		if (prim_value_parse_rd(v, l->rd) == 0)
			return 0;
		snprintf(why, wlen, "id '%s': expected a route distinguisher, "
		    "0:<as>:<n>, 1:<ipv4>:<n> or 2:<as4>:<n>", v);
		return -1;
	case RK_IP:
		if (prefix_parse(v, &l->ip, &l->plen) == 0)
			return 0;
		snprintf(why, wlen, "ip '%s': expected an address or prefix", v);
		return -1;
	case RK_IN:
		l->has_in = true;
		return parse_num(k, v, &l->in, why, wlen);
	case RK_OUT:
		l->has_out = true;
		return parse_num(k, v, &l->out, why, wlen);
	case RK_LABEL:
		l->has_label = true;
		return parse_num(k, v, &l->label, why, wlen);
	default:
		snprintf(why, wlen, "unknown key '%s' (id, ip, in, out, mpls_label_bottom)", k);
		return -1;
	}
}

/* One row: 0, or -1 with why. */
static int parse_line(char *row, struct rd_line *l, char *why, size_t wlen)
{
	struct mapfile_kv kv;
	enum mapfile_tok t;
	bool have_id = false, have_ip = false;

	memset(l, 0, sizeof(*l));
	while ((t = mapfile_kv_next(&row, 0, &kv)) != MAPFILE_TOK_END) {
		if (t != MAPFILE_TOK_KV) {
			snprintf(why, wlen, "'%s' is not key=value", kv.word);
			return -1;
		}
		if (set_key(l, kv.key, kv.val, why, wlen) < 0)
			return -1;
		have_id |= strcmp(kv.key, "id") == 0;
		have_ip |= strcmp(kv.key, "ip") == 0;
	}
	if (!have_id || !have_ip) {
		snprintf(why, wlen, "a line needs id= and ip=");
		return -1;
	}
	return 0;
}

struct rd_map *rdmap_load(const char *path, char *err, size_t errlen)
{
	struct mapfile mf;
	struct rd_map *m;
	char why[256], *row;

	if (mapfile_init(&mf, path) < 0) {
		snprintf(err, errlen, "[%s] cannot open: %s", path, strerror(errno));
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	while ((row = mapfile_next(&mf))) {
		struct rd_line l;
		int rc = parse_line(row, &l, why, sizeof(why));
		if (rc < 0 || m->n >= RDMAP_MAX_LINES) {
			mapfile_fail(&mf, err, errlen, "%s", rc < 0 ? why : "too many lines");
			mapfile_fini(&mf);
			rdmap_free(m);
			return NULL;
		}
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 16;
			m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
		}
		m->v[m->n++] = l;
	}
	mapfile_fini(&mf);
	return m;
}

int rdmap_apply(const struct rd_map *m, struct flow_key *k)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct rd_line *l = &m->v[i];
		if (!prefix_match(&l->ip, l->plen, &k->peer_src_ip) || (l->has_in && l->in != k->in_iface) ||
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

struct rd_map *rdmap_load_key(const struct core_cfg *cfg, const char *who)
{
	char err[512];
	struct rd_map *m = rdmap_load(cfg->flow_to_rd_map, err, sizeof(err));

	if (!m)
		log_err(who, "[%s] key 'flow_to_rd_map': %s. Exiting.",
		    cfg_where(&cfg->origin, "flow_to_rd_map"), err);
	return m;
}

void rdmap_reload(struct rd_map **m, const char *path, const char *who)
{
	struct rd_map *n;
	char err[512];

	if (!path)
		return;
	log_info(who, "[%s] (re)loading map.", path);
	if (!(n = rdmap_load(path, err, sizeof(err)))) {
		log_warnx(who, "[%s] reload failed (%s); keeping the previous map.", path, err);
		return;
	}
	rdmap_free(*m);
	*m = n;
	log_info(who, "[%s] map successfully (re)loaded.", path);
}

int rdmap_check_key(const struct core_cfg *cfg, const char *who)
{
	struct rd_map *m;

	if (!cfg->flow_to_rd_map)
		return 0;
	if (!(m = rdmap_load_key(cfg, who)))
		return -1;
	rdmap_free(m);
	return 0;
}
