/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_tagmap.c: bgp_daemon_tag_map rows (ip, set_tag, set_label), read through lib/mapfile. */
#include "bgp_tagmap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mapfile.h"
#include "lib/xalloc.h"
#include "maps/prefix.h"

struct tag_row {
	bool any;		/* no ip= */
	struct fr_ip net;
	uint8_t len;
	struct bgp_tag t;
};

struct bgp_tagmap {
	struct tag_row *v;
	size_t n;
};

enum { K_IP, K_SET_TAG, K_SET_LABEL };

static const struct mapfile_key keys[] = {
	{ "ip", K_IP },
	{ "set_tag", K_SET_TAG },
	{ "set_label", K_SET_LABEL },
};

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* One row into *r; false (warned) when the row is to be ignored. */
static bool parse_row(struct mapfile *mf, const char *who, char *row, struct tag_row *r)
{
	struct mapfile_kv kv;
	enum mapfile_tok tok;

	memset(r, 0, sizeof(*r));
	r->any = true;
	while ((tok = mapfile_kv_next(&row, MAPFILE_QUOTES, &kv)) != MAPFILE_TOK_END) {
		if (tok == MAPFILE_TOK_WORD) {
			mapfile_warn(mf, who, "Line ignored because of malformed key/value '%s'.", kv.word);
			return false;
		}
		if (tok == MAPFILE_TOK_QUOTE) {
			mapfile_warn(mf, who, "Line ignored because of an unclosed quote in '%s'.", kv.key);
			return false;
		}
		switch (mapfile_key_id(keys, sizeof(keys) / sizeof(keys[0]), kv.key)) {
		case K_IP:
			if (prefix_parse(kv.val, &r->net, &r->len) < 0) {
				mapfile_warn(mf, who, "Bad IP address or prefix '%s'. Line ignored.", kv.val);
				return false;
			}
			r->any = false;
			break;
		case K_SET_TAG:
			if (!parse_u64(kv.val, &r->t.tag)) {
				mapfile_warn(mf, who, "Invalid set_tag '%s'. Line ignored.", kv.val);
				return false;
			}
			r->t.has_tag = true;
			break;
		case K_SET_LABEL:
			if (!*kv.val || strlen(kv.val) >= sizeof(r->t.label)) {
				mapfile_warn(mf, who, "Invalid set_label '%s' (1 to %d characters). Line ignored.",
				    kv.val, BGP_TAG_LABEL_MAX - 1);
				return false;
			}
			strcpy(r->t.label, kv.val);
			r->t.has_label = true;
			break;
		default:
			mapfile_warn(mf, who, "Line ignored because of unknown key '%s'.", kv.key);
			return false;
		}
	}
	if (!r->t.has_tag && !r->t.has_label) {
		mapfile_warn(mf, who, "Line ignored: neither set_tag nor set_label.");
		return false;
	}
	return true;
}

struct bgp_tagmap *bgp_tagmap_load(const char *path, const char *who)
{
	struct mapfile mf;
	struct bgp_tagmap *m;
	char *row;

	if (mapfile_init(&mf, path) < 0)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	while ((row = mapfile_next(&mf))) {
		struct tag_row r;
		if (!parse_row(&mf, who, row, &r))
			continue;
		m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
		m->v[m->n++] = r;
	}
	mapfile_fini(&mf);
	return m;
}

bool bgp_tagmap_find(const struct bgp_tagmap *m, const struct fr_ip *ip, struct bgp_tag *out)
{
	memset(out, 0, sizeof(*out));
	if (!m)
		return false;
	for (size_t i = 0; i < m->n; i++) {
		const struct tag_row *r = &m->v[i];
		if (r->any || prefix_match(&r->net, r->len, ip)) {
			*out = r->t;
			return true;
		}
	}
	return false;
}

size_t bgp_tagmap_count(const struct bgp_tagmap *m)
{
	return m ? m->n : 0;
}

void bgp_tagmap_free(struct bgp_tagmap *m)
{
	if (m)
		free(m->v);
	free(m);
}
