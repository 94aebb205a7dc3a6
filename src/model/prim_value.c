/* SPDX-License-Identifier: BSD-3-Clause */
/* prim_value.c: a primitive's value from text, as the client (-M/-N) and the HTTP API filters read it. */
#include "prim_value.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/text.h"

static const char *const rd_origin_names[] = {
	[FR_RD_ORIGIN_UNKNOWN] = "unknown", [FR_RD_ORIGIN_FLOW] = "flow",
	[FR_RD_ORIGIN_BGP] = "bgp", [FR_RD_ORIGIN_BMP] = "bmp", [FR_RD_ORIGIN_MAP] = "map",
};

const char *prim_value_rd_origin_text(uint8_t origin)
{
	return origin < NELEM(rd_origin_names) ? rd_origin_names[origin] : "unknown";
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (text_parse_uint(s, 10, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void put_be(uint8_t *p, uint32_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int prim_value_parse_rd(const char *s, uint8_t rd[8])
{
	char buf[64], *a, *b;
	uint32_t type, x, y;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	if (!(a = strchr(buf, ':')) || !(b = strchr(a + 1, ':')))
		return -1;
	*a++ = '\0';
	*b++ = '\0';
	if (parse_u32(buf, 2, &type) < 0)
		return -1;
	memset(rd, 0, 8);
	rd[1] = (uint8_t)type;
	switch (type) {
	case 0:		/* 2-byte AS : 4-byte number */
		if (parse_u32(a, 0xffff, &x) < 0 || parse_u32(b, UINT32_MAX, &y) < 0)
			return -1;
		put_be(rd + 2, x, 2);
		put_be(rd + 4, y, 4);
		return 0;
	case 1:		/* IPv4 address : 2-byte number */
		if (inet_pton(AF_INET, a, rd + 2) != 1 || parse_u32(b, 0xffff, &y) < 0)
			return -1;
		break;
	default:	/* 4-byte AS : 2-byte number */
		if (parse_u32(a, UINT32_MAX, &x) < 0 || parse_u32(b, 0xffff, &y) < 0)
			return -1;
		put_be(rd + 2, x, 4);
		break;
	}
	put_be(rd + 6, y, 2);
	return 0;
}

/* "vrfid:<n>": the key of a flow whose VRF id had no RD (FR_RD_TYPE_VRFID). */
static int parse_vrfid(const char *s, uint8_t rd[8])
{
	uint32_t id;

	if (parse_u32(s, UINT32_MAX, &id) < 0)
		return -1;
	memset(rd, 0, 8);
	put_be(rd, FR_RD_TYPE_VRFID, 2);
	put_be(rd + 4, id, 4);
	return 0;
}

static int parse_rd_any(const char *s, uint8_t *p)
{
	uint8_t rd[8];

	if (strncmp(s, "vrfid:", 6) == 0 ? parse_vrfid(s + 6, rd) : prim_value_parse_rd(s, rd))
		return -1;
	memcpy(p, rd, sizeof(rd));
	return 0;
}

static int parse_uint_field(const char *s, int base, size_t len, uint8_t *p)
{
	uint64_t v;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -1;
	if (text_parse_uint(s, base, len == 8 ? UINT64_MAX : (UINT64_C(1) << (len * 8)) - 1, &v) < 0)
		return -1;
	switch (len) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
	default: memcpy(p, &v, 8); break;
	}
	return 0;
}

static int parse_ip(const char *s, uint8_t *p)
{
	struct fr_ip ip;

	if (fr_ip_parse(s, &ip) < 0)
		return -1;
	memcpy(p, &ip, sizeof(ip));
	return 0;
}

/* "sec[.usec]", the microseconds as the number printed after the dot. */
static int parse_ts(const char *s, uint8_t *p)
{
	struct fr_ts ts = { 0, 0 };
	char sec[24];
	const char *usec;
	uint64_t v;

	if (text_cut(s, '.', sec, sizeof(sec), &usec) < 0 || text_parse_uint(sec, 10, INT64_MAX, &v) < 0)
		return -1;
	ts.sec = (int64_t)v;
	if (usec) {
		if (text_parse_uint(usec, 10, 999999, &v) < 0)
			return -1;
		ts.usec = (int64_t)v;
	}
	memcpy(p, &ts, sizeof(ts));
	return 0;
}

static int parse_str(const char *s, size_t len, uint8_t *p)
{
	size_t n = strlen(s);

	if (n >= len)
		return -1;
	memset(p, 0, len);
	memcpy(p, s, n);
	return 0;
}

static int parse_rd_origin(const char *s, uint8_t *p)
{
	for (size_t o = 0; o < NELEM(rd_origin_names); o++) {
		if (rd_origin_names[o] && strcmp(rd_origin_names[o], s) == 0) {
			*p = (uint8_t)o;
			return 0;
		}
	}
	return -1;
}

/* Labels joined by '_', as output.c prints them; "" is the empty stack. */
static int parse_mpls_stack(const char *s, uint8_t *p)
{
	struct fr_mpls_stack st;
	char buf[16];

	memset(&st, 0, sizeof(st));
	while (*s) {
		size_t n = strcspn(s, "_");
		uint32_t label;

		if (st.n == FR_MPLS_STACK_MAX || n == 0 || n >= sizeof(buf))
			return -1;
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (parse_u32(buf, 0xfffff, &label) < 0)	/* 20-bit label, RFC 3032 */
			return -1;
		st.label[st.n++] = label;
		s += n;
		if (*s == '_' && !*++s)
			return -1;	/* a trailing '_' */
	}
	memcpy(p, &st, sizeof(st));
	return 0;
}

/*
 * BGP text as the client prints it: tokens joined by '_' (or ' '); "^$"
 * is the empty AS path and "0" no communities (1.7.7's -M/-N).
 */
static int parse_bgp_text(const struct prim_desc *d, const char *s, uint8_t *p)
{
	size_t n = strlen(s);

	if (strcmp(s, d->fmt == PF_ASPATH ? "^$" : "0") == 0)
		n = 0;
	if (n >= d->len)
		return -1;
	memset(p, 0, d->len);
	for (size_t i = 0; i < n; i++)
		p[i] = s[i] == '_' ? ' ' : (uint8_t)s[i];
	return 0;
}

/* Coordinates as the client takes them: "<latitude>:<longitude>", two decimal numbers. */
static int parse_coords(const char *s, uint8_t *p)
{
	double v[2];
	char *end;

	for (int i = 0; i < 2; i++) {
		errno = 0;
		v[i] = strtod(s, &end);
		if (end == s || errno || *end != (i ? '\0' : ':'))
			return -1;
		s = end + 1;
	}
	memcpy(p, v, sizeof(v));
	return 0;
}

int prim_value_parse(const struct prim_desc *d, const char *text, struct flow_key *k)
{
	uint8_t *p = (uint8_t *)k + d->off;

	switch (d->fmt) {
	case PF_UINT:
		return parse_uint_field(text, 10, d->len, p);
	case PF_HEX:
		return parse_uint_field(text, 16, d->len, p);
	case PF_MAC:
		return text_parse_mac(text, p);
	case PF_IP:
		return parse_ip(text, p);
	case PF_PROTO:
		return text_parse_proto(text, p);
	case PF_TS:
		return parse_ts(text, p);
	case PF_STR:
		return parse_str(text, d->len, p);
	case PF_CLASS:		/* "unknown" is how an unclassified flow prints */
		return parse_str(strcmp(text, "unknown") == 0 ? "" : text, d->len, p);
	case PF_RD:
		return parse_rd_any(text, p);
	case PF_RD_ORIGIN:
		return parse_rd_origin(text, p);
	case PF_FWD_STATUS:
		return parse_uint_field(text, 10, d->len, p);
	case PF_MPLS_STACK:
		return parse_mpls_stack(text, p);
	case PF_COMMS:
	case PF_ASPATH:
		return parse_bgp_text(d, text, p);
	case PF_COORDS:
		return parse_coords(text, p);
	case PF_ROA:	/* pmacct's letters; "u" is 0 (what an unvalidated record holds) */
		if (strlen(text) != 1 || !strchr("uviVU", text[0]))
			return -1;
		*p = text[0] == 'u' ? 0 : (uint8_t)text[0];
		return 0;
	case PF_SAMP_DIR:
		if (strcmp(text, "u") && strcmp(text, "i") && strcmp(text, "e"))
			return -1;
		*p = text[0] == 'i' ? FR_SAMP_DIR_INGRESS : text[0] == 'e' ? FR_SAMP_DIR_EGRESS :
		    FR_SAMP_DIR_UNKNOWN;
		return 0;
	default:		/* PF_RAW, PF_SRV6_LIST, PF_TCPFLAGS, PF_NONE */
		return -1;
	}
}

const char *prim_value_kind(const struct prim_desc *d)
{
	switch (d->fmt) {
	case PF_UINT:		return "number";
	case PF_HEX:		return "hex number";
	case PF_MAC:		return "MAC address";
	case PF_IP:		return "IP address";
	case PF_PROTO:		return "protocol";
	case PF_TS:		return "timestamp";
	case PF_STR:		return "string (too long)";
	case PF_CLASS:		return "class (too long)";
	case PF_RD:		return "route distinguisher";
	case PF_RD_ORIGIN:	return "route distinguisher origin";
	case PF_FWD_STATUS:	return "forwarding status";
	case PF_MPLS_STACK:	return "MPLS label stack";
	case PF_COMMS:		return "communities (too long)";
	case PF_ASPATH:		return "AS path (too long)";
	case PF_COORDS:		return "coordinates";
	case PF_ROA:		return "ROA state (u, v, i, V, U)";
	case PF_SAMP_DIR:	return "sampling direction (u, i or e)";
	default:		return "value (cannot be matched)";
	}
}
