/* SPDX-License-Identifier: BSD-3-Clause */
/* prim_custom.c: custom primitives (aggregate_primitives): definitions into a registry's slots. */
#include "prim.h"
#include "prim_registry.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mapfile.h"
#include "lib/text.h"

#define CUSTOM_NAME_MAX PRIM_CUSTOM_NAME_MAX

void prim_custom_clear(struct prim_registry *reg)
{
	for (int i = 0; i < PRIM_CUSTOM_MAX; i++) {
		reg->custom[i] = *prim_desc_of(NULL, P_CUSTOM_0 + i);	/* the undefined slot */
		reg->names[i][0] = '\0';
	}
	memset(reg->defs, 0, sizeof(reg->defs));
	reg->n = 0;
	reg->used = 0;
}

int prim_custom_count(const struct prim_registry *reg)
{
	return reg ? reg->n : 0;
}

const struct prim_custom *prim_custom_get(const struct prim_registry *reg, int i)
{
	return reg && i >= 0 && i < reg->n ? &reg->defs[i] : NULL;
}

/* Storage bytes, rendering and formatted width (pmacct's) of a definition; -1 if invalid. */
static int custom_layout(const struct prim_custom *c, size_t namelen, uint16_t *size,
    enum prim_fmt *fmt, unsigned *width, char *why, size_t wlen)
{
	static const unsigned uint_w[9] = { 0, 3, 5, 0, 10, 0, 0, 0, 20 };
	bool vlen = c->len == PRIM_CUSTOM_VLEN;
	unsigned w = 0;

	switch (c->sem) {
	case PCS_UINT:
	case PCS_HEX:
		if (vlen || (c->len != 1 && c->len != 2 && c->len != 4 && c->len != 8)) {
			snprintf(why, wlen, "u_int and hex primitives are 1, 2, 4 or 8 bytes long");
			return -1;
		}
		*size = c->len;
		*fmt = c->sem == PCS_UINT ? PF_UINT : PF_HEX;
		w = uint_w[c->len];
		break;
	case PCS_IP:
		if (vlen || (c->len != 4 && c->len != 16)) {
			snprintf(why, wlen, "ip primitives are 4 or 16 bytes long");
			return -1;
		}
		*size = sizeof(struct fr_ip);
		*fmt = PF_IP;
		w = 46;		/* INET6_ADDRSTRLEN */
		break;
	case PCS_MAC:
		if (vlen || c->len != 6) {
			snprintf(why, wlen, "mac primitives are 6 bytes long");
			return -1;
		}
		*size = 6;
		*fmt = PF_MAC;
		w = 18;
		break;
	case PCS_STR:
		if (!vlen && (c->len == 0 || c->len >= FR_CUSTOM_AREA)) {
			snprintf(why, wlen, "str length must be 1..%d or vlen", FR_CUSTOM_AREA - 1);
			return -1;
		}
		*size = vlen ? PRIM_CUSTOM_VLEN_SIZE : (uint16_t)(c->len + 1);
		*fmt = PF_STR;
		w = vlen ? 0 : c->len;
		break;
	case PCS_RAW:
		if (!vlen && (c->len == 0 || c->len >= FR_CUSTOM_AREA - 1)) {
			snprintf(why, wlen, "raw length must be 1..%d or vlen", FR_CUSTOM_AREA - 2);
			return -1;
		}
		*size = vlen ? PRIM_CUSTOM_VLEN_SIZE : (uint16_t)(c->len + 1);
		*fmt = PF_RAW;
		w = vlen ? 0 : c->len;
		break;
	default:
		snprintf(why, wlen, "unknown semantics");
		return -1;
	}
	if (w < namelen)
		w = (unsigned)namelen;
	*width = vlen ? 0 : w + 2;
	return 0;
}

int prim_custom_define(struct prim_registry *reg, const char *name, const struct prim_custom *c,
    char *why, size_t wlen)
{
	size_t namelen = strlen(name);
	enum prim_fmt fmt;
	unsigned width;
	uint16_t size;

	if (namelen == 0 || namelen >= CUSTOM_NAME_MAX) {
		snprintf(why, wlen, "name must be 1..%d characters", CUSTOM_NAME_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < namelen; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-') {
			snprintf(why, wlen, "name '%s': letters, digits, '_' and '-' only", name);
			return -1;
		}
	if (prim_lookup(reg, name) >= 0) {
		snprintf(why, wlen, "primitive '%s' already exists", name);
		return -1;
	}
	if (reg->n == PRIM_CUSTOM_MAX) {
		snprintf(why, wlen, "too many custom primitives: at most %d", PRIM_CUSTOM_MAX);
		return -1;
	}
	if (custom_layout(c, namelen, &size, &fmt, &width, why, wlen) < 0)
		return -1;
	if (width > 255)
		width = 255;
	if ((size_t)reg->used + size > FR_CUSTOM_AREA) {
		snprintf(why, wlen, "custom primitives need more than the %d bytes reserved in the "
		    "aggregation key ('%s' needs %u, %u left)", FR_CUSTOM_AREA, name, size,
		    FR_CUSTOM_AREA - reg->used);
		return -1;
	}

	int i = reg->n++;
	struct prim_desc *d = &reg->custom[i];
	snprintf(reg->names[i], sizeof(reg->names[i]), "%s", name);
	reg->defs[i] = *c;
	reg->defs[i].off = (uint16_t)(offsetof(struct flow_key, custom) + reg->used);
	reg->defs[i].size = size;
	reg->used = (uint16_t)(reg->used + size);
	d->name = d->title = d->json = reg->names[i];
	d->off = reg->defs[i].off;
	d->len = size;
	d->fmt = fmt;
	d->width = (uint8_t)width;
	d->flags = PRIM_CUSTOM | (c->len == PRIM_CUSTOM_VLEN ? PRIM_VLEN : 0);
	return 0;
}

/* field_type=[PEN:]id */
static int parse_field_type(const char *v, struct prim_custom *c)
{
	char *end;
	unsigned long a, b;

	errno = 0;
	a = strtoul(v, &end, 10);
	if (end == v || errno)
		return -1;
	if (*end == ':') {
		const char *w = end + 1;
		b = strtoul(w, &end, 10);
		if (end == w || *end || errno || a > UINT32_MAX || b > 0x7fff)
			return -1;
		c->pen = (uint32_t)a;
		c->field_type = (uint16_t)b;
		return 0;
	}
	if (*end || a > 0x7fff)
		return -1;
	c->field_type = (uint16_t)a;
	return 0;
}

static int parse_sem(const char *v)
{
	static const struct { const char *n; int s; } sems[] = {
		{ "u_int", PCS_UINT }, { "hex", PCS_HEX }, { "str", PCS_STR },
		{ "ip", PCS_IP }, { "mac", PCS_MAC }, { "raw", PCS_RAW },
	};
	for (size_t i = 0; i < NELEM(sems); i++)
		if (strcmp(v, sems[i].n) == 0)
			return sems[i].s;
	return -1;
}

enum custom_key { CK_NAME, CK_FIELD_TYPE, CK_LEN, CK_SEMANTICS, CK_PACKET_PTR };

static const struct mapfile_key custom_keys[] = {
	{ "name", CK_NAME }, { "field_type", CK_FIELD_TYPE }, { "len", CK_LEN },
	{ "semantics", CK_SEMANTICS }, { "packet_ptr", CK_PACKET_PTR },
};

/* A definition being read: what its keys gave so far. */
struct custom_row {
	struct prim_custom c;
	char name[CUSTOM_NAME_MAX + 1];
	bool have_ft, have_len;
	int sem;
};

/* len=<bytes>|vlen */
static int parse_len(const char *v, struct prim_custom *c)
{
	char *end;
	unsigned long n;

	if (strcmp(v, "vlen") == 0) {
		c->len = PRIM_CUSTOM_VLEN;
		return 0;
	}
	n = strtoul(v, &end, 10);
	if (end == v || *end || n == 0 || n >= PRIM_CUSTOM_VLEN)
		return -1;
	c->len = (uint16_t)n;
	return 0;
}

/* One key=value of a definition into d.  0, or -1 with why. */
static int set_key(struct custom_row *d, const char *k, const char *v, char *why, size_t wlen)
{
	switch (mapfile_key_id(custom_keys, NELEM(custom_keys), k)) {
	case CK_NAME:
		if (strlen(v) >= sizeof(d->name) - 1) {
			snprintf(why, wlen, "name too long (at most %d characters)", CUSTOM_NAME_MAX - 1);
			return -1;
		}
		snprintf(d->name, sizeof(d->name), "%s", v);
		return 0;
	case CK_FIELD_TYPE:
		if (parse_field_type(v, &d->c) < 0) {
			snprintf(why, wlen, "field_type '%s': expected <id> or <PEN>:<id>", v);
			return -1;
		}
		d->have_ft = true;
		return 0;
	case CK_LEN:
		if (parse_len(v, &d->c) < 0) {
			snprintf(why, wlen, "len '%s': expected a number of bytes or vlen", v);
			return -1;
		}
		d->have_len = true;
		return 0;
	case CK_SEMANTICS:
		if ((d->sem = parse_sem(v)) < 0) {
			snprintf(why, wlen, "semantics '%s': expected u_int, hex, ip, mac, str or raw", v);
			return -1;
		}
		return 0;
	case CK_PACKET_PTR:
		snprintf(why, wlen, "packet_ptr is not supported (field_type primitives only)");
		return -1;
	default:
		snprintf(why, wlen, "unknown key '%s'", k);
		return -1;
	}
}

/* One definition row: 0, or -1 with why. */
static int parse_line(struct prim_registry *reg, char *row, char *why, size_t wlen)
{
	struct custom_row d = { .sem = -1 };
	struct mapfile_kv kv;
	enum mapfile_tok t;

	while ((t = mapfile_kv_next(&row, 0, &kv)) != MAPFILE_TOK_END) {
		if (t != MAPFILE_TOK_KV) {
			snprintf(why, wlen, "'%s' is not key=value", kv.word);
			return -1;
		}
		if (set_key(&d, kv.key, kv.val, why, wlen) < 0)
			return -1;
	}
	if (!d.name[0] || !d.have_ft || !d.have_len || d.sem < 0) {
		snprintf(why, wlen, "a definition needs name, field_type, len and semantics");
		return -1;
	}
	d.c.sem = (uint8_t)d.sem;
	return prim_custom_define(reg, d.name, &d.c, why, wlen);
}

int prim_custom_load(struct prim_registry *reg, const char *path, char *why, size_t wlen)
{
	struct mapfile mf;
	char err[256], *row;
	int rc = 0;

	prim_custom_clear(reg);
	if (mapfile_init(&mf, path) < 0) {
		snprintf(why, wlen, "[%s] cannot open: %s", path, strerror(errno));
		return -1;
	}
	while ((row = mapfile_next(&mf))) {
		if (parse_line(reg, row, err, sizeof(err)) < 0) {
			mapfile_fail(&mf, why, wlen, "%s", err);
			rc = -1;
			break;
		}
	}
	mapfile_fini(&mf);
	if (rc < 0)
		prim_custom_clear(reg);
	return rc;
}
