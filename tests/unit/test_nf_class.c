/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nf_class.c: the class primitive from NetFlow v9 / IPFIX: applicationId (IE 95) named by options (IE 96). */
#include <stdio.h>
#include <string.h>

#include "decode/netflow.h"
#include "lib/text.h"
#include "model/prim.h"
#include "model/prim_value.h"
#include "plugins/output.h"
#include "tap.h"

#include "nfbuf.h"

static const struct fr_ip src = { 4, { 0 }, { 127, 0, 0, 9 } };
static const struct fr_ts now = { 1700000100, 0 };

static size_t decode(struct nf_state *st, struct buf *b, struct got *g)
{
	g->n = 0;
	return nf_decode(st, b->b, b->n, &src, &now, collect, g);
}

/* An applicationId of len bytes: the engine byte, then the selector's low bytes. */
static void app_id(struct buf *b, uint8_t engine, uint32_t sel, int len)
{
	u8(b, engine);
	uint_n(b, sel, len - 1);
}

/*
 * One IPFIX message: an options template (IE 95 scope, IE 96 name of
 * 24 bytes), a data template (source address, IE 95, packets), names for
 * selectors 0x50 and 0x1bb, then data records with the given selectors.
 */
static void ipfix_msg(struct buf *b, uint32_t odid, int idlen, bool opts_first)
{
	static const struct { uint32_t sel; const char *name; } names[] = {
		{ 0x50, "http" }, { 0x1bb, "https" }, { 0x50, "http-renamed" },
	};
	static const uint32_t data[] = { 0x50, 0x1bb, 0x35 };

	ipfix_hdr(b, 1700000000, 0, odid);
	set_open(b, 2);
	u16(b, 256); u16(b, 3);
	field(b, 8, 4); field(b, 95, (uint16_t)idlen); field(b, 2, 4);
	set_close(b);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == (opts_first ? 0 : 1)) {
			set_open(b, 3);
			u16(b, 300); u16(b, 2); u16(b, 1);
			field(b, 95, (uint16_t)idlen); field(b, 96, 24);
			set_close(b);
			set_open(b, 300);
			for (size_t i = 0; i < NELEM(names); i++) {
				char n[24] = { 0 };
				snprintf(n, sizeof(n), "%s", names[i].name);
				app_id(b, 13, names[i].sel, idlen);
				bytes(b, n, sizeof(n));
			}
			set_close(b);
		} else {
			set_open(b, 256);
			for (size_t i = 0; i < NELEM(data); i++) {
				ip(b, 10, 0, 0, (uint8_t)(i + 1));
				app_id(b, (uint8_t)(3 + i), data[i], idlen);	/* the engine id is not part of the key */
				u32(b, 1);
			}
			set_close(b);
		}
	}
	msg_close(b);
}

static void test_names(void)
{
	struct nf_opts o = { 0 };
	struct nf_state *st = nf_state_new(&o);
	struct buf b;
	struct got g;

	ipfix_msg(&b, 7, 4, true);
	is_int(decode(st, &b, &g), 3, "three data records");
	is_str(g.r[0].k.class_name, "http-renamed", "a later options record renames the id");
	is_str(g.r[1].k.class_name, "https", "named id");
	is_str(g.r[2].k.class_name, "", "id without a name: unclassified");

	/* another observation domain of the same address has its own names */
	ipfix_msg(&b, 8, 4, false);
	is_int(decode(st, &b, &g), 3, "three data records, names after the data");
	is_str(g.r[1].k.class_name, "", "names that come after the record do not apply to it");
	ipfix_msg(&b, 8, 4, false);
	decode(st, &b, &g);
	is_str(g.r[1].k.class_name, "https", "next message: the names are known");
	nf_state_free(st);

	/* selector lengths: 2..5 bytes of applicationId name a class, 1 and 6+ do not */
	static const struct { int len; bool named; } lens[] = {
		{ 1, false }, { 2, true }, { 3, true }, { 5, true }, { 6, false }, { 8, false },
	};
	for (size_t i = 0; i < NELEM(lens); i++) {
		st = nf_state_new(&o);
		ipfix_msg(&b, 7, lens[i].len, true);
		decode(st, &b, &g);
		char what[64];
		snprintf(what, sizeof(what), "applicationId of %d bytes", lens[i].len);
		if (lens[i].len == 1)	/* no selector byte: every id is the same empty key */
			is_str(g.r[1].k.class_name, "", what);
		else
			is_str(g.r[1].k.class_name, lens[i].named ? "https" : "", what);
		nf_state_free(st);
	}
}

/* NetFlow v9: an options template scoped by IE 95 (not one of RFC 3954's scope types). */
static void test_v9(void)
{
	struct nf_opts o = { 0 };
	struct nf_state *st = nf_state_new(&o);
	struct buf b;
	struct got g;
	char name[40] = "abcdefghijklmnopqrstuvwxyz0123456789";

	nf9_hdr(&b, 100000, 1700000000, 1, 7);
	set_open(&b, 1);
	u16(&b, 300); u16(&b, 4); u16(&b, 4);
	field(&b, 95, 4); field(&b, 96, 40);
	nf9_set_close(&b);
	set_open(&b, 0);
	u16(&b, 256); u16(&b, 3);
	field(&b, 8, 4); field(&b, 95, 4); field(&b, 2, 4);
	nf9_set_close(&b);
	set_open(&b, 300);
	app_id(&b, 13, 0x35, 4); bytes(&b, name, sizeof(name));
	nf9_set_close(&b);
	set_open(&b, 256);
	ip(&b, 10, 0, 0, 1); app_id(&b, 13, 0x35, 4); u32(&b, 1);
	nf9_set_close(&b);
	msg_close(&b);
	put16_at(&b, 2, 4);
	is_int(decode(st, &b, &g), 1, "v9 data record");
	is_str(g.r[0].k.class_name, "abcdefghijklmnopqrstuvwxyz01234", "long names cut to 31 bytes");
	nf_state_free(st);
}

/* How class prints and parses. */
static void test_render(void)
{
	const struct prim_desc *d = &prim_builtin[P_CLASS];
	struct flow_key k;
	struct out_opts oo = { 0 };
	char buf[64];

	memset(&k, 0, sizeof(k));
	is_str(d->name, "class", "name");
	is_str(d->json, "class", "JSON key");
	is_str(d->title, "CLASS", "title");
	is_str(out_value(NULL, d, &k, 0, &oo, buf, sizeof(buf)), "unknown", "empty class prints unknown");
	snprintf(k.class_name, sizeof(k.class_name), "TLS/Google");
	is_str(out_value(NULL, d, &k, 0, &oo, buf, sizeof(buf)), "TLS/Google", "class text");
	is_int(prim_value_parse(d, "unknown", &k), 0, "parse unknown");
	is_str(k.class_name, "", "unknown is the empty class");
	is_int(prim_value_parse(d, "DNS", &k), 0, "parse a name");
	is_str(k.class_name, "DNS", "parsed name");
}

int main(void)
{
	test_names();
	test_v9();
	test_render();
	return tap_done();
}
