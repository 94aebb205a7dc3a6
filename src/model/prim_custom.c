/* SPDX-License-Identifier: BSD-3-Clause */
/* prim_custom.c: custom primitives (aggregate_primitives): parse their definitions into the table's custom slots. */
#include "prim.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/text.h"

#define CUSTOM_NAME_MAX 32

/* Names, titles and decoding data of the slots; rows in prim_table point here. */
static char custom_names[PRIM_CUSTOM_MAX][CUSTOM_NAME_MAX];
static struct prim_custom custom_defs[PRIM_CUSTOM_MAX];
static int custom_n;
static uint16_t custom_used;	/* bytes of flow_key.custom[] assigned */

void prim_custom_reset(void)
{
	for (int i = 0; i < PRIM_CUSTOM_MAX; i++) {
		struct prim_desc *d = &prim_table[P_CUSTOM_0 + i];
		custom_names[i][0] = '\0';
		d->name = d->title = d->json = "";
		d->off = offsetof(struct flow_key, custom);
		d->len = 0;
		d->fmt = PF_NONE;
		d->width = 0;
		d->flags = PRIM_HIDDEN | PRIM_CUSTOM;
	}
	memset(custom_defs, 0, sizeof(custom_defs));
	custom_n = 0;
	custom_used = 0;
}

int prim_custom_count(void)
{
	return custom_n;
}

const struct prim_custom *prim_custom_get(int i)
{
	return i >= 0 && i < custom_n ? &custom_defs[i] : NULL;
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

int prim_custom_define(const char *name, const struct prim_custom *c, char *why, size_t wlen)
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
	if (prim_lookup(name) >= 0) {
		snprintf(why, wlen, "primitive '%s' already exists", name);
		return -1;
	}
	if (custom_n == PRIM_CUSTOM_MAX) {
		snprintf(why, wlen, "too many custom primitives: at most %d", PRIM_CUSTOM_MAX);
		return -1;
	}
	if (custom_layout(c, namelen, &size, &fmt, &width, why, wlen) < 0)
		return -1;
	if (width > 255)
		width = 255;
	if ((size_t)custom_used + size > FR_CUSTOM_AREA) {
		snprintf(why, wlen, "custom primitives need more than the %d bytes reserved in the "
		    "aggregation key ('%s' needs %u, %u left)", FR_CUSTOM_AREA, name, size,
		    FR_CUSTOM_AREA - custom_used);
		return -1;
	}

	int i = custom_n++;
	struct prim_desc *d = &prim_table[P_CUSTOM_0 + i];
	snprintf(custom_names[i], sizeof(custom_names[i]), "%s", name);
	custom_defs[i] = *c;
	custom_defs[i].off = (uint16_t)(offsetof(struct flow_key, custom) + custom_used);
	custom_defs[i].size = size;
	custom_used = (uint16_t)(custom_used + size);
	d->name = d->title = d->json = custom_names[i];
	d->off = custom_defs[i].off;
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

/* One definition line (already stripped of comments); 0, 1 (blank) or -1 with why. */
static int parse_line(char *line, char *why, size_t wlen)
{
	struct prim_custom c = { 0 };
	char name[CUSTOM_NAME_MAX + 1] = "";
	bool have_ft = false, have_len = false;
	int sem = -1;
	char *save = NULL;

	for (char *tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(why, wlen, "'%s' is not key=value", tok);
			return -1;
		}
		*eq = '\0';
		const char *k = tok, *v = eq + 1;
		if (strcasecmp(k, "name") == 0) {
			if (strlen(v) >= sizeof(name) - 1) {
				snprintf(why, wlen, "name too long (at most %d characters)", CUSTOM_NAME_MAX - 1);
				return -1;
			}
			snprintf(name, sizeof(name), "%s", v);
		} else if (strcasecmp(k, "field_type") == 0) {
			if (parse_field_type(v, &c) < 0) {
				snprintf(why, wlen, "field_type '%s': expected <id> or <PEN>:<id>", v);
				return -1;
			}
			have_ft = true;
		} else if (strcasecmp(k, "len") == 0) {
			char *end;
			unsigned long n;
			if (strcmp(v, "vlen") == 0) {
				c.len = PRIM_CUSTOM_VLEN;
			} else {
				n = strtoul(v, &end, 10);
				if (end == v || *end || n == 0 || n >= PRIM_CUSTOM_VLEN) {
					snprintf(why, wlen, "len '%s': expected a number of bytes or vlen", v);
					return -1;
				}
				c.len = (uint16_t)n;
			}
			have_len = true;
		} else if (strcasecmp(k, "semantics") == 0) {
			if ((sem = parse_sem(v)) < 0) {
				snprintf(why, wlen, "semantics '%s': expected u_int, hex, ip, mac, str or raw", v);
				return -1;
			}
		} else if (strcasecmp(k, "packet_ptr") == 0) {
			snprintf(why, wlen, "packet_ptr is not supported (field_type primitives only)");
			return -1;
		} else {
			snprintf(why, wlen, "unknown key '%s'", k);
			return -1;
		}
	}
	if (!name[0] && !have_ft && !have_len && sem < 0)
		return 1;
	if (!name[0] || !have_ft || !have_len || sem < 0) {
		snprintf(why, wlen, "a definition needs name, field_type, len and semantics");
		return -1;
	}
	c.sem = (uint8_t)sem;
	return prim_custom_define(name, &c, why, wlen);
}

int prim_custom_load(const char *path, char *why, size_t wlen)
{
	FILE *f = fopen(path, "r");
	char line[1024], err[256];
	int lineno = 0, rc = 0;

	prim_custom_reset();
	if (!f) {
		snprintf(why, wlen, "[%s] cannot open: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, wlen, "[%s:%d] line too long", path, lineno);
			rc = -1;
			break;
		}
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '!' || *p == '#' || !*p)
			continue;
		if (parse_line(p, err, sizeof(err)) < 0) {
			snprintf(why, wlen, "[%s:%d] %s", path, lineno, err);
			rc = -1;
			break;
		}
	}
	fclose(f);
	if (rc < 0)
		prim_custom_reset();
	return rc;
}
