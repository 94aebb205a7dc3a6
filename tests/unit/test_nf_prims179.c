/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nf_prims179.c: pmacct 1.7.9 NetFlow/IPFIX primitives: VLANs in/out, customer VLANs, flow label, path delays, SRv6 segment lists. */
#include <stdio.h>
#include <string.h>

#include "decode/netflow.h"
#include "model/prim.h"
#include "plugins/output.h"
#include "tap.h"

#include "nfbuf.h"

static void hdr(struct buf *b) { ipfix_hdr(b, 1700000000, 0, 7); }

static const struct fr_ip src = { 4, { 0 }, { 127, 0, 0, 9 } };
static const struct fr_ts now = { 1700000100, 0 };

/* One field of a test template: IANA id (or enterprise pen), wire length, value. */
struct tf {
	uint16_t id;
	uint32_t pen;
	uint16_t len;
	uint64_t v;
};

/*
 * A single-record IPFIX message with packets (IE 2, 4 bytes) = pk and the
 * fields f[0..n), each an unsigned of its length (a 0xffff length: a
 * variable-length field of f.v bytes 0x20).  Decodes it; the record count.
 */
static size_t one(const struct tf *f, int n, uint32_t pk, struct got *g)
{
	struct nf_opts o = { 0 };
	struct nf_state *st = nf_state_new(&o);
	struct buf b;

	hdr(&b);
	set_open(&b, 2);
	u16(&b, 300); u16(&b, (uint16_t)(n + 1));
	u16(&b, 2); u16(&b, 4);
	for (int i = 0; i < n; i++) {
		u16(&b, (uint16_t)(f[i].id | (f[i].pen ? 0x8000 : 0)));
		u16(&b, f[i].len);
		if (f[i].pen)
			u32(&b, f[i].pen);
	}
	set_close(&b);
	set_open(&b, 300);
	u32(&b, pk);
	for (int i = 0; i < n; i++) {
		if (f[i].len == 0xffff) {
			u8(&b, (uint8_t)f[i].v);
			for (uint64_t j = 0; j < f[i].v; j++)
				u8(&b, (uint8_t)(0x20 + j % 16 + (j / 16 << 4)));
		} else {
			uint_n(&b, f[i].v, f[i].len);
		}
	}
	set_close(&b);
	msg_close(&b);
	g->n = 0;
	size_t r = nf_decode(st, b.b, b.n, &src, &now, collect, g);
	nf_state_free(st);
	return r;
}

/* vlan / in_vlan / out_vlan / cvlans, values as pmacct 1.7.7 (vlan) and master print them. */
static void test_vlans(void)
{
	static const struct {
		struct tf f[5];
		int n;
		uint16_t vlan, in, out, cin, cout;
		const char *what;
	} c[] = {
		{ { { 58, 0, 2, 101 }, { 59, 0, 2, 200 } }, 2, 101, 101, 200, 0, 0, "58+59: vlan from 58" },
		{ { { 59, 0, 2, 200 } }, 1, 200, 0, 200, 0, 0, "59 alone: vlan and out_vlan" },
		{ { { 243, 0, 2, 300 }, { 254, 0, 2, 3000 } }, 2, 300, 300, 3000, 0, 0, "243+254: vlan 300" },
		{ { { 59, 0, 2, 200 }, { 243, 0, 2, 300 } }, 2, 200, 300, 200, 0, 0, "59 before 243 for vlan" },
		{ { { 254, 0, 2, 3000 } }, 1, 3000, 0, 3000, 0, 0, "254 alone" },
		{ { { 243, 0, 2, 300 }, { 254, 0, 2, 3000 }, { 61, 0, 1, 1 } }, 3, 3000, 300, 3000, 0, 0,
		  "egress direction: vlan from 254" },
		{ { { 58, 0, 2, 101 }, { 59, 0, 2, 200 }, { 61, 0, 1, 0 } }, 3, 101, 101, 200, 0, 0,
		  "ingress direction: vlan from 58" },
		{ { { 58, 0, 2, 101 }, { 61, 0, 1, 2 } }, 2, 0, 101, 0, 0, 0, "other direction: no vlan" },
		{ { { 245, 0, 2, 400 }, { 255, 0, 2, 500 } }, 2, 0, 0, 0, 400, 500, "customer VLANs" },
		{ { { 58, 0, 1, 5 }, { 245, 0, 4, 401 } }, 2, 5, 5, 0, 401, 0, "reduced-size and 4-byte VLANs" },
	};
	struct got g;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		is_int(one(c[i].f, c[i].n, 1, &g), 1, c[i].what);
		const struct flow_key *k = &g.r[0].k;
		char what[128];
		snprintf(what, sizeof(what), "%s: vlan %u in %u out %u cin %u cout %u", c[i].what,
		    c[i].vlan, c[i].in, c[i].out, c[i].cin, c[i].cout);
		ok(k->vlan == c[i].vlan && k->in_vlan == c[i].in && k->out_vlan == c[i].out &&
		    k->in_cvlan == c[i].cin && k->out_cvlan == c[i].cout, "%s", what);
	}
}

/* flow_label (IE 31) and the path delays (IE 600-603, Huawei 2011.521-527). */
static void test_flow_label_delays(void)
{
	struct got g;
	const struct flow_key *k = &g.r[0].k;

	struct tf fl[] = { { 31, 0, 4, 0x12345 } };
	one(fl, 1, 1, &g);
	is_int(k->flow_label, 0x12345, "flow label, 4 bytes");
	struct tf fl3[] = { { 31, 0, 3, 0xabcde } };
	one(fl3, 1, 1, &g);
	is_int(k->flow_label, 0xabcde, "flow label, 3 bytes (reduced size)");

	struct tf pd[] = { { 600, 0, 4, 10 }, { 601, 0, 4, 5 }, { 602, 0, 4, 20 } };
	one(pd, 3, 1, &g);
	ok(k->path_delay_avg_usec == 10 && k->path_delay_min_usec == 5 && k->path_delay_max_usec == 20,
	    "IANA 600/601/602: avg 10 min 5 max 20");
	struct tf hw[] = { { 521, 2011, 4, 11 }, { 523, 2011, 4, 6 }, { 525, 2011, 4, 21 } };
	one(hw, 3, 1, &g);
	ok(k->path_delay_avg_usec == 11 && k->path_delay_min_usec == 6 && k->path_delay_max_usec == 21,
	    "Huawei 2011.521/523/525");
	struct tf other[] = { { 521, 9, 4, 11 } };
	one(other, 1, 1, &g);
	is_int(k->path_delay_avg_usec, 0, "another enterprise's 521 is not a delay");
	struct tf sum[] = { { 600, 0, 4, 10 }, { 603, 0, 8, 1000 } };
	one(sum, 2, 4, &g);
	is_int(k->path_delay_avg_usec, 250, "sum 1000 over 4 packets");
	struct tf hsum[] = { { 521, 2011, 4, 10 }, { 527, 2011, 8, 900 } };
	one(hsum, 2, 3, &g);
	is_int(k->path_delay_avg_usec, 300, "Huawei sum 900 over 3 packets");
	struct tf nomean[] = { { 603, 0, 8, 1000 } };
	one(nomean, 1, 4, &g);
	is_int(k->path_delay_avg_usec, 0, "sum without a mean: no average (as master)");
	struct tf mean0[] = { { 600, 0, 4, 0 }, { 603, 0, 8, 1000 } };
	one(mean0, 2, 4, &g);
	is_int(k->path_delay_avg_usec, 0, "sum with a zero mean: no average (as master)");
}

/* srhSegmentIPv6ListSection: a list of 16-byte addresses. */
static void test_srv6(void)
{
	struct got g;
	const struct flow_key *k = &g.r[0].k;
	char buf[1024];
	struct out_opts oo = { 0 };

	struct tf two[] = { { 505, 2011, 0xffff, 32 } };
	is_int(one(two, 1, 1, &g), 1, "varlen SRv6 list decodes");
	is_int(k->srv6_seg_ipv6_list.n, 2, "two segments");
	is_int(k->srv6_seg_ipv6_list.seg[1][0], 0x30, "second segment's first byte");
	is_str(out_value(NULL, prim_desc_of(NULL, P_SRV6_SEG_IPV6_LIST), k, 0, &oo, buf, sizeof(buf)),
	    "0-2021:2223:2425:2627:2829:2a2b:2c2d:2e2f,1-3031:3233:3435:3637:3839:3a3b:3c3d:3e3f",
	    "segment list text");
	struct tf iana[] = { { 505, 0, 0xffff, 16 } };
	one(iana, 1, 1, &g);
	is_int(k->srv6_seg_ipv6_list.n, 1, "IANA 505 too");
	struct tf odd[] = { { 505, 2011, 0xffff, 20 } };
	one(odd, 1, 1, &g);
	is_int(k->srv6_seg_ipv6_list.n, 0, "20 bytes: not a list of addresses");
	struct tf fixed[] = { { 505, 2011, 0xffff, 0 } };
	is_int(one(fixed, 1, 1, &g), 1, "empty list decodes");
	is_int(k->srv6_seg_ipv6_list.n, 0, "empty list");
	struct tf many[] = { { 505, 2011, 0xffff, 16 * 15 } };
	one(many, 1, 1, &g);
	is_int(k->srv6_seg_ipv6_list.n, FR_SRV6_MAX, "15 segments kept");
	ok(prim_desc_of(NULL, P_SRV6_SEG_IPV6_LIST)->flags & PRIM_JSON_ONLY, "srv6_seg_ipv6_list is JSON only");
}

/* A record cut short anywhere decodes to nothing, never to a half-filled record. */
static void test_truncated(void)
{
	struct nf_opts o = { 0 };
	struct nf_state *st = nf_state_new(&o);
	struct buf b;
	struct got g;
	size_t data_at;

	hdr(&b);
	set_open(&b, 2);
	u16(&b, 301); u16(&b, 6);
	u16(&b, 58); u16(&b, 2); u16(&b, 245); u16(&b, 2); u16(&b, 31); u16(&b, 4);
	u16(&b, 600); u16(&b, 4); u16(&b, 603); u16(&b, 8); u16(&b, 2); u16(&b, 4);
	set_close(&b);
	data_at = b.n;
	set_open(&b, 301);
	u16(&b, 7); u16(&b, 8); u32(&b, 9); u32(&b, 10); u64(&b, 40); u32(&b, 2);
	set_close(&b);
	msg_close(&b);
	g.n = 0;
	nf_decode(st, b.b, b.n, &src, &now, collect, &g);
	ok(g.n == 1 && g.r[0].k.in_vlan == 7 && g.r[0].k.in_cvlan == 8 && g.r[0].k.flow_label == 9 &&
	    g.r[0].k.path_delay_avg_usec == 20, "whole record: in_vlan 7 cvlan 8 label 9 avg 40/2");
	bool clean = true;
	for (size_t cut = data_at + 4; cut < b.n; cut++) {
		struct buf c = b;
		c.n = cut;
		c.b[data_at + 2] = (uint8_t)((cut - data_at) >> 8);
		c.b[data_at + 3] = (uint8_t)(cut - data_at);
		msg_close(&c);
		g.n = 0;
		nf_decode(st, c.b, c.n, &src, &now, collect, &g);
		clean = clean && g.n == 0;
	}
	ok(clean, "every truncation of the data set gives no record");
	nf_state_free(st);
}

/* The table rows: names, JSON keys, titles and widths as master prints them. */
static void test_table(void)
{
	static const struct { const char *name, *json, *title; int width; } r[] = {
		{ "in_vlan", "vlan_in", "IN_VLAN", 9 }, { "out_vlan", "vlan_out", "OUT_VLAN", 10 },
		{ "in_cvlan", "cvlan_in", "IN_CVLAN", 10 }, { "out_cvlan", "cvlan_out", "OUT_CVLAN", 11 },
		{ "flow_label", "flow_label", "FLOW_LABEL", 11 },
		{ "path_delay_avg_usec", "path_delay_avg_usec", "PATH_DELAY_AVG_USEC", 21 },
		{ "path_delay_min_usec", "path_delay_min_usec", "PATH_DELAY_MIN_USEC", 21 },
		{ "path_delay_max_usec", "path_delay_max_usec", "PATH_DELAY_MAX_USEC", 21 },
	};
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		int id = prim_lookup(NULL, r[i].name);
		ok(id >= 0 && strcmp(prim_desc_of(NULL, id)->json, r[i].json) == 0 &&
		    strcmp(prim_desc_of(NULL, id)->title, r[i].title) == 0 && prim_desc_of(NULL, id)->width == r[i].width,
		    "%s", r[i].name);
	}
	ok(P_IN_VLAN > P_VLAN && P_OUT_CVLAN < P_COS && P_FLOW_LABEL > P_TOS &&
	    P_FLOW_LABEL < P_SAMPLING_RATE && P_PATH_DELAY_AVG_USEC > P_EXPORT_PROTO_SYSID,
	    "columns where master prints them");
}

int main(void)
{
	test_vlans();
	test_flow_label_delays();
	test_srv6();
	test_truncated();
	test_table();
	return tap_done();
}
