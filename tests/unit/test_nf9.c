/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nf9.c: NetFlow v9 (RFC 3954) from byte vectors: templates, options, data, malformations. */
#include <stdlib.h>
#include <string.h>

#include "decode/netflow.h"
#include "tap.h"

#include "nfbuf.h"

/* uptime 100000 ms at 1700000000 s */
static void hdr(struct buf *b, uint32_t seq, uint32_t source_id) { nf9_hdr(b, 100000, 1700000000, seq, source_id); }

/* Template 256: src, dst (v4), sport, dport, proto, bytes(4), packets(4), first, last, unknown 999 (2). */
static const uint16_t tpl_f[][2] = {
	{ 8, 4 }, { 12, 4 }, { 7, 2 }, { 11, 2 }, { 4, 1 }, { 1, 4 }, { 2, 4 }, { 22, 4 }, { 21, 4 },
	{ 999, 2 }, { 18, 4 }, { 70, 3 }, { 71, 3 },
};
#define NTPL (sizeof(tpl_f) / sizeof(tpl_f[0]))

static void tpl(struct buf *b, uint16_t id)
{
	set_open(b, 0);
	u16(b, id);
	u16(b, NTPL);
	for (size_t i = 0; i < NTPL; i++)
		field(b, tpl_f[i][0], tpl_f[i][1]);
	nf9_set_close(b);
}

static void rec(struct buf *b, uint8_t last_octet, uint32_t bytes)
{
	u32(b, 0x0a000000u | last_octet);
	u32(b, 0x0a010001u);
	u16(b, 1000);
	u16(b, 53);
	u8(b, 17);
	u32(b, bytes);
	u32(b, 3);
	u32(b, 95000);
	u32(b, 99500);
	u16(b, 0xdead);
	u32(b, 0xc0000201u);		/* BGP next hop 192.0.2.1 */
	u8(b, 0x01); u8(b, 0x23); u8(b, 0x40);	/* label 0x1234, not bottom */
	u8(b, 0x00); u8(b, 0x05); u8(b, 0x61);	/* label 0x56, bottom */
}

static const struct fr_ip exp1 = { 4, { 0 }, { 127, 0, 0, 1 } };
static const struct fr_ip exporter2 = { 4, { 0 }, { 127, 0, 0, 2 } };
static const struct fr_ts now = { 1800000000, 0 };

static struct nf_state *fresh(void)
{
	struct nf_opts o = { 0 };
	return nf_state_new(&o);
}

static void test_template_data(void)
{
	struct nf_state *st = fresh();
	struct got g = { 0 };
	struct nf_totals t;
	struct buf b;

	hdr(&b, 1, 7);
	set_open(&b, 256);
	rec(&b, 9, 100);
	nf9_set_close(&b);
	is_int(nf_decode(st, b.b, b.n, &exp1, &now, collect, &g), 0, "data before template: none");
	nf_totals(st, &t);
	is_int(t.drops[NF_DROP_NO_TEMPLATE], 1, "counted as unknown template");

	hdr(&b, 2, 7);
	tpl(&b, 256);
	set_open(&b, 256);
	rec(&b, 1, 100);
	rec(&b, 2, 200);
	nf9_set_close(&b);
	is_int(nf_decode(st, b.b, b.n, &exp1, &now, collect, &g), 2, "template and two records");
	const struct flow_rec *r = &g.r[1];
	is_int(r->k.src_ip.a[3], 2, "src");
	is_int(r->k.dst_ip.a[1], 1, "dst");
	is_int(r->k.src_port, 1000, "sport");
	is_int(r->k.dst_port, 53, "dport");
	is_int(r->k.proto, 17, "proto");
	is_int(r->bytes, 200, "bytes (4-byte counter)");
	is_int(r->packets, 3, "packets");
	is_int(r->k.etype, 0x800, "etype from the address family");
	is_int(r->k.ts_start.sec, 1700000000 - 5, "IE 22");
	is_int(r->k.ts_end.sec, 1700000000, "IE 21, whole seconds");
	is_int(r->k.export_proto_sysid, 7, "source id");
	is_int(r->k.export_proto_seqno, 2, "sequence");
	is_int(r->k.export_proto_version, 9, "version");
	is_int(r->k.peer_dst_ip.a[0], 192, "BGP next hop");
	is_int(r->k.mpls_label_top, 0x1234, "top label");
	is_int(r->k.mpls_label_bottom, 0x56, "bottom label");
	is_int(r->k.mpls_stack_depth, 2, "stack depth");

	/* same template id from another exporter and another source id: not shared */
	hdr(&b, 3, 8);
	set_open(&b, 256);
	rec(&b, 3, 1);
	nf9_set_close(&b);
	is_int(nf_decode(st, b.b, b.n, &exp1, &now, collect, &g), 0, "other source id: unknown");
	hdr(&b, 3, 7);
	set_open(&b, 256);
	rec(&b, 3, 1);
	nf9_set_close(&b);
	is_int(nf_decode(st, b.b, b.n, &exporter2, &now, collect, &g), 0, "other exporter: unknown");
	is_int(nf_decode(st, b.b, b.n, &exp1, &now, collect, &g), 1, "the template's own: known");
	nf_state_free(st);
}

static void test_redefinition(void)
{
	struct nf_state *st = fresh();
	struct got g = { 0 };
	struct buf b;

	hdr(&b, 1, 0);
	tpl(&b, 300);
	nf_decode(st, b.b, b.n, &exp1, &now, collect, &g);
	/* redefine 300 as just a source address */
	hdr(&b, 2, 0);
	set_open(&b, 0);
	u16(&b, 300); u16(&b, 1); u16(&b, 8); u16(&b, 4);
	nf9_set_close(&b);
	set_open(&b, 300);
	u32(&b, 0x0a0a0a0au);
	u32(&b, 0x0a0a0a0bu);
	nf9_set_close(&b);
	is_int(nf_decode(st, b.b, b.n, &exp1, &now, collect, &g), 2, "new layout: two 4-byte records");
	is_int(g.r[1].k.src_ip.a[3], 11, "decoded with the new layout");
	is_int(g.r[1].bytes, 0, "no byte counter any more");
	nf_state_free(st);
}

static void test_options_sampling(void)
{
	struct nf_state *st = fresh();
	struct got g = { 0 };
	struct buf b;

	hdr(&b, 1, 0);
	set_open(&b, 1);			/* options template, RFC 3954 6.1 */
	u16(&b, 260); u16(&b, 4); u16(&b, 8);
	u16(&b, 1); u16(&b, 4);			/* scope: system */
	u16(&b, 48); u16(&b, 1);		/* sampler id */
	u16(&b, 34); u16(&b, 4);		/* sampling interval */
	nf9_set_close(&b);
	set_open(&b, 0);
	u16(&b, 261); u16(&b, 2); u16(&b, 8); u16(&b, 4); u16(&b, 48); u16(&b, 1);
	nf9_set_close(&b);
	set_open(&b, 260);
	u32(&b, 0); u8(&b, 5); u32(&b, 100);
	nf9_set_close(&b);
	set_open(&b, 261);
	u32(&b, 0x0a000001u); u8(&b, 5);
	u32(&b, 0x0a000002u); u8(&b, 6);
	nf9_set_close(&b);
	is_int(nf_decode(st, b.b, b.n, &exp1, &now, collect, &g), 2, "two data records");
	is_int(g.r[0].k.sampling_rate, 100, "sampler 5: 1:100");
	is_int(g.r[1].k.sampling_rate, 0, "sampler 6 unknown: 0");
	nf_state_free(st);
}

static void test_malformed(void)
{
	struct nf_state *st = fresh();
	struct got g = { 0 };
	struct nf_totals t;
	struct buf b, full;
	size_t emitted = 0;

	hdr(&full, 1, 0);
	tpl(&full, 256);
	set_open(&full, 256);
	rec(&full, 1, 1);
	nf9_set_close(&full);
	for (size_t cut = 0; cut < full.n; cut++) {
		struct nf_state *s2 = fresh();
		uint8_t *c = exact_copy(full.b, cut);
		emitted += nf_decode(s2, c, cut, &exp1, &now, collect, &g);
		free(c);
		nf_state_free(s2);
	}
	is_int(emitted, 0, "truncated at every offset: no record");

	hdr(&b, 1, 0);
	u16(&b, 256); u16(&b, 0);		/* zero-length set */
	nf_decode(st, b.b, b.n, &exp1, &now, collect, &g);
	hdr(&b, 1, 0);
	u16(&b, 0); u16(&b, 12); u16(&b, 256); u16(&b, 60000); u32(&b, 0);	/* huge count */
	nf_decode(st, b.b, b.n, &exp1, &now, collect, &g);
	hdr(&b, 1, 0);
	u16(&b, 0); u16(&b, 12); u16(&b, 256); u16(&b, 1); u16(&b, 8); u16(&b, 0);	/* len 0 */
	nf_decode(st, b.b, b.n, &exp1, &now, collect, &g);
	hdr(&b, 1, 0);
	u16(&b, 0); u16(&b, 8); u16(&b, 256); u16(&b, 0);	/* no fields */
	nf_decode(st, b.b, b.n, &exp1, &now, collect, &g);
	hdr(&b, 1, 0);
	u16(&b, 0); u16(&b, 12); u16(&b, 7); u16(&b, 1); u16(&b, 8); u16(&b, 4);	/* id < 256 */
	nf_decode(st, b.b, b.n, &exp1, &now, collect, &g);
	hdr(&b, 1, 0);
	u16(&b, 0); u16(&b, 200); u16(&b, 256);		/* set longer than the datagram */
	nf_decode(st, b.b, b.n, &exp1, &now, collect, &g);
	nf_totals(st, &t);
	is_int(t.drops[NF_DROP_SET_LEN], 2, "zero-length and overlong sets");
	is_int(t.drops[NF_DROP_TEMPLATE], 4, "huge count, length 0, no fields, id < 256");
	is_int(t.templates, 0, "none of them cached");
	is_int(nf_decode(st, full.b, full.n + 0, &exp1, &now, collect, &g), 1, "a good one still works");
	nf_state_free(st);
}

/* Early data held (hold_secs): decoded as part of its own message once the template comes. */
static void test_hold_early_data(void)
{
	struct nf_opts o = { .hold_secs = 10 };
	struct nf_state *st = nf_state_new(&o);
	struct got g = { 0 };
	struct nf_totals t;
	struct buf b;
	struct fr_ts early = { 1800000000, 0 }, later = { 1800000003, 0 };

	hdr(&b, 1, 7);
	set_open(&b, 256);
	rec(&b, 1, 100);
	rec(&b, 2, 200);
	nf9_set_close(&b);
	set_open(&b, 257);	/* a template that never comes */
	rec(&b, 3, 300);
	nf9_set_close(&b);
	is_int(nf_decode(st, b.b, b.n, &exp1, &early, collect, &g), 0, "nothing decoded yet");
	hdr(&b, 1, 7);
	set_open(&b, 256);	/* the same id from another exporter: not its template */
	rec(&b, 4, 400);
	nf9_set_close(&b);
	nf_decode(st, b.b, b.n, &exporter2, &early, collect, &g);
	nf_totals(st, &t);
	is_int(t.held, 3, "three sets held");
	is_int(t.drops[NF_DROP_NO_TEMPLATE], 0, "none counted as dropped");

	hdr(&b, 2, 7);
	tpl(&b, 256);
	is_int(nf_decode(st, b.b, b.n, &exp1, &later, collect, &g), 2, "held records decoded");
	is_int(g.n, 2, "two records");
	is_int(g.r[0].k.src_ip.a[3], 1, "first record");
	is_int(g.r[1].bytes, 200, "second record's bytes");
	is_int(g.r[0].k.export_proto_seqno, 1, "its own message's sequence number");
	is_int(g.r[0].k.ts_arrival.sec, early.sec, "its own arrival time");
	nf_totals(st, &t);
	is_int(t.held_decoded, 1, "one set decoded late");
	is_int(t.held_records, 2, "two records from it");

	nf_state_expire(st, early.sec + 9);
	nf_totals(st, &t);
	is_int(t.held_expired, 0, "not yet expired");
	nf_state_expire(st, early.sec + 10);
	nf_totals(st, &t);
	is_int(t.held_expired, 2, "both others given up after hold_secs");
	is_int(t.drops[NF_DROP_NO_TEMPLATE], 2, "and counted as unknown template");
	is_int((int64_t)t.held_bytes, 0, "nothing held");
	nf_state_free(st);

	/* bounded by hold_bytes: past it, sets are dropped as without holding */
	o.hold_bytes = 200;
	st = nf_state_new(&o);
	for (uint32_t i = 0; i < 10; i++) {
		hdr(&b, i, 7);
		set_open(&b, 256);
		rec(&b, 1, 100);
		nf9_set_close(&b);
		nf_decode(st, b.b, b.n, &exp1, &early, collect, &g);
	}
	nf_totals(st, &t);
	ok(t.held >= 1 && t.held < 10, "some held, up to hold_bytes");
	is_int(t.held + t.drops[NF_DROP_NO_TEMPLATE], 10, "the rest counted as dropped");
	ok(t.held_bytes <= 200, "held bytes within the bound");
	nf_state_free(st);	/* frees what is still held (ASan checks) */
}

/* max_exporters and max_templates bound the state a flood of sources can create. */
static void test_limits(void)
{
	struct nf_opts o = { .max_exporters = 4, .max_templates = 2 };
	struct nf_state *st = nf_state_new(&o);
	struct got g = { 0 };
	struct nf_totals t;
	struct buf b;

	for (uint8_t i = 1; i <= 10; i++) {
		struct fr_ip src = { 4, { 0 }, { 127, 0, 1, i } };
		hdr(&b, 1, 7);
		tpl(&b, 256);
		set_open(&b, 256);
		rec(&b, i, 100);
		nf9_set_close(&b);
		nf_decode(st, b.b, b.n, &src, &now, collect, &g);
	}
	nf_totals(st, &t);
	is_int(t.packets, 10, "every datagram counted");
	is_int(t.exporters_refused, 6, "six exporters past the limit");
	is_int(t.templates, 2, "two templates kept");
	is_int(t.templates_refused, 8, "eight refused");
	is_int(g.n, 2, "records of the exporters whose template was kept");
	is_int(t.drops[NF_DROP_TEMPLATE], 8, "refused templates counted as bad_template");
	nf_state_free(st);
}

int main(void)
{
	test_template_data();
	test_hold_early_data();
	test_limits();
	test_redefinition();
	test_options_sampling();
	test_malformed();
	return tap_done();
}
