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

#include "lib/mapfile.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "maps/prefix.h"

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

static bool sm_iface_parse(const char *s, struct sm_iface *f)
{
	f->neg = *s == '-';
	f->set = sm_u32(s + f->neg, &f->n);
	return f->set;
}

enum sm_key { SK_ID, SK_IP, SK_IN, SK_OUT };

static const struct mapfile_key sm_keys[] = {
	{ "id", SK_ID }, { "ip", SK_IP }, { "in", SK_IN }, { "out", SK_OUT },
};

/* One key=value into *r; *seen has bit k for each key already given.  False after logging. */
static bool sm_set(struct mapfile *mf, struct sm_rule *r, unsigned *seen, const char *k,
    const char *v)
{
	int id = mapfile_key_id(sm_keys, NELEM(sm_keys), k);
	bool ok = false;

	if (id < 0) {
		mapfile_warn(mf, SM_WHO, "unknown key '%s' (valid: id, ip, in, out). Line ignored.", k);
		return false;
	}
	if (*seen & (1u << id)) {
		mapfile_warn(mf, SM_WHO, "key '%s' given twice. Line ignored.", k);
		return false;
	}
	*seen |= 1u << id;
	switch ((enum sm_key)id) {
	case SK_ID: ok = sm_u32(v, &r->rate) && r->rate > 0; break;
	case SK_IP: ok = prefix_parse(v, &r->net, &r->len) == 0; break;
	case SK_IN: ok = sm_iface_parse(v, &r->in); break;
	case SK_OUT: ok = sm_iface_parse(v, &r->out); break;
	}
	if (!ok)
		mapfile_warn(mf, SM_WHO, "key '%s': invalid value '%s'. Line ignored.", k, v);
	return ok;
}

/* Parse the current row of mf into *r; false after logging why the row is skipped. */
static bool sm_parse_line(struct mapfile *mf, char *row, struct sm_rule *r)
{
	struct mapfile_kv kv;
	enum mapfile_tok t;
	unsigned seen = 0;

	memset(r, 0, sizeof(*r));
	while ((t = mapfile_kv_next(&row, 0, &kv)) != MAPFILE_TOK_END) {
		if (t != MAPFILE_TOK_KV) {
			mapfile_warn(mf, SM_WHO, "malformed word '%s' (want key=value). Line ignored.",
			    kv.word);
			return false;
		}
		if (!sm_set(mf, r, &seen, kv.key, kv.val))
			return false;
	}
	if (!(seen & (1u << SK_ID)) || !(seen & (1u << SK_IP))) {
		mapfile_warn(mf, SM_WHO, "required key missing. Required keys are: 'id', 'ip'. "
		    "Line ignored.");
		return false;
	}
	return true;
}

struct sampling_map *sampling_map_load(const char *path, size_t max_entries, char *err,
    size_t errlen)
{
	struct mapfile mf;
	char *row;
	bool full = false;

	if (mapfile_init(&mf, path) < 0) {
		snprintf(err, errlen, "[%s] cannot open the sampling map: %s", path, strerror(errno));
		return NULL;
	}
	if (!max_entries)
		max_entries = SAMPLING_MAP_DEFAULT_ENTRIES;
	struct sampling_map *m = xcalloc(1, sizeof(*m));
	while ((row = mapfile_next(&mf))) {
		struct sm_rule r;
		if (!sm_parse_line(&mf, row, &r))
			continue;
		if (m->n >= max_entries) {
			if (!full)
				mapfile_warn(&mf, SM_WHO, "more than %zu rules (maps_entries): this and "
				    "later rules ignored.", max_entries);
			full = true;
			continue;
		}
		m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
		m->v[m->n++] = r;
	}
	mapfile_fini(&mf);
	return m;
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
		if (prefix_match(&r->net, r->len, exporter) && sm_iface_match(&r->in, in_iface) &&
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
