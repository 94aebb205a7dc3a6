/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_tplfile.c: the nfacctd_templates_file format: cached templates to and from JSON text, in memory. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/nf_state.h"
#include "lib/xalloc.h"

/* A growing NUL-terminated string. */
struct tpl_text {
	char *s;
	size_t len, cap;
};

static void tpl_text_add(struct tpl_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void tpl_text_add(struct tpl_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		t->cap = (t->cap + (size_t)n + 1) * 2;
		t->s = xrealloc(t->s, t->cap);
	}
}

/*
 * One line per template:
 * {"version": 9, "exporter": "192.0.2.1", "domain": 0, "id": 256,
 *  "options": 0, "scope": 0, "fields": [[8, 4, 0], [12, 4, 0]]}
 */
static void nf_tpl_line(struct tpl_text *out, const struct nf_tpl *t)
{
	char ip[64];

	inet_ntop(t->addr.af == 6 ? AF_INET6 : AF_INET, t->addr.a, ip, sizeof(ip));
	tpl_text_add(out, "{\"version\": %u, \"exporter\": \"%s\", \"domain\": %" PRIu32
	    ", \"id\": %u, \"options\": %d, \"scope\": %u, \"fields\": [",
	    t->version, ip, t->domain, t->id, t->options ? 1 : 0, t->nscope);
	for (uint16_t i = 0; i < t->nfields; i++)
		tpl_text_add(out, "%s[%u, %u, %" PRIu32 "]", i ? ", " : "", t->fields[i].type,
		    t->fields[i].len, t->fields[i].pen);
	tpl_text_add(out, "]}\n");
}

/* Has the decoder seen datagrams of t's exporter (address and domain)? */
static bool nf_tpl_served(const struct nf_state *st, const struct nf_tpl *t)
{
	for (uint32_t b = 0; b <= st->exp_mask; b++)
		for (const struct nf_exporter *e = st->exp[b]; e; e = e->next)
			if (e->domain == t->domain && e->addr.af == t->addr.af &&
			    memcmp(e->addr.a, t->addr.a, sizeof(e->addr.a)) == 0)
				return true;
	return false;
}

char *nf_templates_dump(const struct nf_state *st, bool served_only, size_t *len)
{
	struct tpl_text out = { xmalloc(256), 0, 256 };

	out.s[0] = '\0';
	for (uint32_t b = 0; b <= st->tpl_mask; b++)
		for (const struct nf_tpl *t = st->tpl[b]; t; t = t->next)
			if (!served_only || nf_tpl_served(st, t))
				nf_tpl_line(&out, t);
	if (len)
		*len = out.len;
	return out.s;
}

/* The integer member key of o, in [min, max]; false if missing, not an integer or out of range. */
static bool tpl_int(const json_t *o, const char *key, json_int_t min, json_int_t max,
    json_int_t *v)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_integer(j))
		return false;
	*v = json_integer_value(j);
	return *v >= min && *v <= max;
}

/* "exporter": an IPv4 or IPv6 address. */
static bool tpl_exporter(const json_t *o, struct fr_ip *addr)
{
	const char *ip = json_string_value(json_object_get(o, "exporter"));

	memset(addr, 0, sizeof(*addr));
	if (!ip)
		return false;
	if (inet_pton(AF_INET, ip, addr->a) == 1)
		addr->af = 4;
	else if (inet_pton(AF_INET6, ip, addr->a) == 1)
		addr->af = 6;
	return addr->af != 0;
}

/* "fields": [[type, length, enterprise number], ...] into st->fbuf; their count, 0 if bad. */
static uint16_t tpl_fields(struct nf_state *st, const json_t *o)
{
	const json_t *a = json_object_get(o, "fields");
	size_t n = json_array_size(a);

	if (!json_is_array(a) || n == 0 || n > NF_MAX_FIELDS)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const json_t *f = json_array_get(a, i);
		json_int_t type, len, pen;

		if (json_array_size(f) != 3 || !json_is_integer(json_array_get(f, 0)) ||
		    !json_is_integer(json_array_get(f, 1)) || !json_is_integer(json_array_get(f, 2)))
			return 0;
		type = json_integer_value(json_array_get(f, 0));
		len = json_integer_value(json_array_get(f, 1));
		pen = json_integer_value(json_array_get(f, 2));
		if (type < 0 || type > UINT16_MAX || len < 0 || len > UINT16_MAX || pen < 0 ||
		    pen > UINT32_MAX)
			return 0;
		st->fbuf[i] = (struct nf_field){ (uint16_t)type, (uint16_t)len, (uint32_t)pen };
	}
	return (uint16_t)n;
}

/* One template object into the cache; 0 or -1. */
static int nf_tpl_restore(struct nf_state *st, const json_t *o)
{
	json_int_t ver, dom, id, opt, scope;
	const json_t *oj = json_object_get(o, "options");
	struct fr_ip addr;
	uint16_t n;

	if (!json_is_object(o) || !tpl_int(o, "version", 9, 10, &ver) ||
	    !tpl_int(o, "domain", 0, UINT32_MAX, &dom) || !tpl_int(o, "id", 256, 65535, &id) ||
	    !tpl_int(o, "scope", 0, NF_MAX_FIELDS, &scope) || !tpl_exporter(o, &addr))
		return -1;
	if (json_is_boolean(oj))
		opt = json_is_true(oj);
	else if (!tpl_int(o, "options", 0, INT32_MAX, &opt))
		return -1;
	if (!(n = tpl_fields(st, o)) || scope > n)
		return -1;
	return nf_tpl_put(st, &addr, (uint32_t)dom, (uint16_t)ver, (uint16_t)id, opt != 0, st->fbuf, n,
	    (uint16_t)scope) ? 0 : -1;
}

int nf_templates_parse(struct nf_state *st, const char *text, size_t len)
{
	size_t off = 0;
	int rc = 0;

	for (;;) {
		json_error_t err;
		json_t *o;

		while (off < len && (text[off] == ' ' || text[off] == '\t' || text[off] == '\r' ||
		    text[off] == '\n'))
			off++;
		if (off >= len)
			break;
		if (!(o = json_loadb(text + off, len - off, JSON_DISABLE_EOF_CHECK, &err))) {
			/* not JSON: the next line may be */
			const char *nl = memchr(text + off, '\n', len - off);
			rc = -1;
			if (!nl)
				break;
			off = (size_t)(nl - text) + 1;
			continue;
		}
		if (nf_tpl_restore(st, o) < 0)
			rc = -1;
		json_decref(o);
		/* with JSON_DISABLE_EOF_CHECK, position is where the object ended */
		off += err.position > 0 && (size_t)err.position <= len - off ? (size_t)err.position :
		    len - off;
	}
	return rc;
}
