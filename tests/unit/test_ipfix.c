/* SPDX-License-Identifier: BSD-3-Clause */
/* test_ipfix.c: IPFIX (RFC 7011) from byte vectors: variable length, enterprise IEs, withdrawal, times. */
#include <stdlib.h>
#include <string.h>

#include "decode/netflow.h"
#include "tap.h"

#include "nfbuf.h"

static void hdr(struct buf *b, uint32_t seq, uint32_t odid) { ipfix_hdr(b, 1700000000, seq, odid); }

static const struct fr_ip exp1 = { 4, { 0 }, { 127, 0, 0, 1 } };
static const struct fr_ts now = { 1800000000, 0 };

static struct nf_state *fresh(void)
{
	struct nf_opts o = { 0 };
	return nf_state_new(&o);
}

/* Template 256: v6 src/dst, an enterprise IE (4 bytes), a varlen string, octets(8), start/end ms. */
static void tpl(struct buf *b)
{
	set_open(b, 2);
	u16(b, 256); u16(b, 7);
	u16(b, 27); u16(b, 16);
	u16(b, 28); u16(b, 16);
	u16(b, 0x8000 | 8); u16(b, 4); u32(b, 9);	/* enterprise 9, element 8: not ours */
	u16(b, 82); u16(b, 0xffff);			/* interfaceName, variable length */
	u16(b, 1); u16(b, 8);
	u16(b, 152); u16(b, 8);
	u16(b, 154); u16(b, 8);
	set_close(b);
}

static void rec(struct buf *b, uint8_t last, size_t namelen)
{
	u64(b, 0x20010db800000000ull); u64(b, last);
	u64(b, 0x20010db800000000ull); u64(b, 0xff);
	u32(b, 0x01020304u);		/* would be src ip if the PEN were ignored */
	if (namelen < 255) {
		u8(b, (uint8_t)namelen);
	} else {
		u8(b, 255);
		u16(b, (uint16_t)namelen);
	}
	for (size_t i = 0; i < namelen; i++)
		u8(b, 'x');
	u64(b, 1000 + last);
	u64(b, 1699999990123ull);
	/* NTP: 1699999995 s + 0.5 s */
	u64(b, ((uint64_t)(1699999995ull + 2208988800ull) << 32) | 0x80000000u);
}

static void test_varlen_enterprise(void)
{
	struct nf_state *st = fresh();
	struct got g = { 0 };
	struct buf b;

	hdr(&b, 0, 5);
	tpl(&b);
	set_open(&b, 256);
	rec(&b, 1, 3);
	rec(&b, 2, 300);
	rec(&b, 3, 0);
	u8(&b, 0); u8(&b, 0);		/* padding */
	set_close(&b);
	msg_close(&b);
	is_int(nf_decode(st, b.b, b.n, &exp1, &now, collect, &g), 3, "three variable-length records");
	is_int(g.r[1].k.src_ip.af, 6, "v6 source");
	is_int(g.r[1].k.src_ip.a[15], 2, "src ::2");
	is_int(g.r[1].bytes, 1002, "octets after a 300-byte string");
	is_int(g.r[2].bytes, 1003, "octets after an empty string");
	is_int(g.r[0].k.etype, 0x86dd, "etype IPv6");
	is_int(g.r[0].k.ts_start.sec, 1699999990, "IE 152 seconds");
	is_int(g.r[0].k.ts_start.usec, 123000, "IE 152 milliseconds");
	is_int(g.r[0].k.export_proto_sysid, 5, "observation domain");
	is_int(g.r[0].k.export_proto_version, 10, "version 10");
	nf_state_free(st);
}

static void test_times_ntp(void)
{
	struct nf_state *st = fresh();
	struct got g = { 0 };
	struct buf b;

	hdr(&b, 0, 0);
	set_open(&b, 2);
	u16(&b, 257); u16(&b, 3);
	u16(&b, 8); u16(&b, 4);
	u16(&b, 154); u16(&b, 8);
	u16(&b, 151); u16(&b, 4);
	set_close(&b);
	set_open(&b, 257);
	u32(&b, 0x0a000001u);
	u64(&b, ((uint64_t)(1699999995ull + 2208988800ull) << 32) | 0x80000000u);
	u32(&b, 1699999999u);
	set_close(&b);
	msg_close(&b);
	is_int(nf_decode(st, b.b, b.n, &exp1, &now, collect, &g), 1, "one record");
	is_int(g.r[0].k.ts_start.sec, 1699999995, "IE 154: NTP seconds");
	is_int(g.r[0].k.ts_start.usec, 500000, "IE 154: NTP fraction");
	is_int(g.r[0].k.ts_end.sec, 1699999999, "IE 151");
	is_int(g.r[0].flows, 1, "a record is one flow");
	nf_state_free(st);
}

/*
 * Uptime-relative times (IE 22/21) without systemInitTimeMilliseconds in
 * the record, as softflowd's IPFIX sends them: as pmacct 1.7.7 (verified)
 * timestamp_start is the export time and timestamp_end stays unset; a
 * record with no time at all gets the export time too.
 */
static void test_times_uptime_no_sysinit(void)
{
	struct nf_state *st = fresh();
	struct got g = { 0 };
	struct buf b;

	hdr(&b, 0, 0);
	set_open(&b, 2);
	u16(&b, 258); u16(&b, 3);
	u16(&b, 8); u16(&b, 4);
	u16(&b, 22); u16(&b, 4);
	u16(&b, 21); u16(&b, 4);
	u16(&b, 259); u16(&b, 1);
	u16(&b, 8); u16(&b, 4);
	set_close(&b);
	set_open(&b, 258);
	u32(&b, 0x0a000001u); u32(&b, 100000); u32(&b, 4000000000u);
	set_close(&b);
	set_open(&b, 259);
	u32(&b, 0x0a000002u);
	set_close(&b);
	msg_close(&b);
	is_int(nf_decode(st, b.b, b.n, &exp1, &now, collect, &g), 2, "two records");
	is_int(g.r[0].k.ts_start.sec, 1700000000, "IE 22 without IE 160: start is the export time");
	is_int(g.r[0].k.ts_end.sec, 0, "IE 21 without IE 160: no end");
	is_int(g.r[1].k.ts_start.sec, 1700000000, "no time IE: start is the export time");
	is_int(g.r[1].ts.sec, 1700000000, "time-bin on the export time, as 1.7.7");
	nf_state_free(st);
}

static void test_withdrawal(void)
{
	struct nf_state *st = fresh();
	struct got g = { 0 };
	struct nf_totals t;
	struct buf b;

	hdr(&b, 0, 0);
	tpl(&b);
	msg_close(&b);
	nf_decode(st, b.b, b.n, &exp1, &now, collect, &g);
	nf_totals(st, &t);
	is_int(t.templates, 1, "template cached");
	hdr(&b, 0, 0);
	set_open(&b, 2);
	u16(&b, 256); u16(&b, 0);	/* withdraw 256, RFC 7011 8.1 */
	set_close(&b);
	set_open(&b, 256);
	rec(&b, 1, 1);
	set_close(&b);
	msg_close(&b);
	is_int(nf_decode(st, b.b, b.n, &exp1, &now, collect, &g), 0, "data after withdrawal: unknown");
	nf_totals(st, &t);
	is_int(t.templates, 0, "template withdrawn");
	is_int(t.drops[NF_DROP_NO_TEMPLATE], 1, "counted");
	/* withdraw all (template id 2) */
	hdr(&b, 0, 0);
	tpl(&b);
	set_open(&b, 2);
	u16(&b, 2); u16(&b, 0);
	set_close(&b);
	msg_close(&b);
	nf_decode(st, b.b, b.n, &exp1, &now, collect, &g);
	nf_totals(st, &t);
	is_int(t.templates, 0, "all data templates withdrawn");
	nf_state_free(st);
}

static void test_options_sampling(void)
{
	struct nf_state *st = fresh();
	struct got g = { 0 };
	struct buf b;

	hdr(&b, 0, 0);
	set_open(&b, 3);			/* options template, RFC 7011 3.4.2.2 */
	u16(&b, 300); u16(&b, 4); u16(&b, 1);
	u16(&b, 302); u16(&b, 4);		/* scope: selectorId */
	u16(&b, 305); u16(&b, 4);
	u16(&b, 306); u16(&b, 4);
	u16(&b, 999); u16(&b, 2);		/* unknown element */
	set_close(&b);
	set_open(&b, 300);
	u32(&b, 7); u32(&b, 1); u32(&b, 99); u16(&b, 0);
	set_close(&b);
	set_open(&b, 2);
	u16(&b, 301); u16(&b, 2); u16(&b, 8); u16(&b, 4); u16(&b, 302); u16(&b, 4);
	set_close(&b);
	set_open(&b, 301);
	u32(&b, 0x0a000001u); u32(&b, 7);
	set_close(&b);
	msg_close(&b);
	is_int(nf_decode(st, b.b, b.n, &exp1, &now, collect, &g), 1, "one data record");
	is_int(g.r[0].k.sampling_rate, 100, "305/306: (1 + 99) / 1");
	nf_state_free(st);
}

static void test_malformed(void)
{
	struct nf_state *st = fresh();
	struct got g = { 0 };
	struct nf_totals t;
	struct buf b;
	size_t emitted = 0;

	hdr(&b, 0, 0);
	tpl(&b);
	set_open(&b, 256);
	rec(&b, 1, 3);
	set_close(&b);
	msg_close(&b);
	for (size_t cut = 0; cut < b.n; cut++) {
		struct nf_state *s2 = fresh();
		uint8_t *c = malloc(cut ? cut : 1);
		memcpy(c, b.b, cut);
		emitted += nf_decode(s2, c, cut, &exp1, &now, collect, &g);
		free(c);
		nf_state_free(s2);
	}
	is_int(emitted, 0, "truncated at every offset: no record");
	is_int(nf_decode(st, b.b, b.n - 1, &exp1, &now, collect, &g), 0, "length - 1: dropped");
	is_int(nf_decode(st, b.b, b.n + 1, &exp1, &now, collect, &g), 1, "length + 1: trailing byte ignored");
	/* a variable length running over the record */
	b.b[b.n - 8 * 3 - 4] = 200;
	is_int(nf_decode(st, b.b, b.n, &exp1, &now, collect, &g), 0, "varlen over the set: dropped");
	/* options template with no scope */
	hdr(&b, 0, 0);
	set_open(&b, 3);
	u16(&b, 300); u16(&b, 1); u16(&b, 0); u16(&b, 305); u16(&b, 4);
	set_close(&b);
	msg_close(&b);
	nf_decode(st, b.b, b.n, &exp1, &now, collect, &g);
	nf_totals(st, &t);
	is_int(t.drops[NF_DROP_MSG_LEN], 1, "message length mismatch counted");
	is_int(t.drops[NF_DROP_RECORD], 1, "bad record counted");
	is_int(t.drops[NF_DROP_TEMPLATE], 1, "scope count 0 counted");
	nf_state_free(st);
}

int main(void)
{
	test_varlen_enterprise();
	test_times_ntp();
	test_times_uptime_no_sysinit();
	test_withdrawal();
	test_options_sampling();
	test_malformed();
	return tap_done();
}
