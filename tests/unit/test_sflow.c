/* SPDX-License-Identifier: BSD-3-Clause */
/* test_sflow.c: sflow_decode() and sflow_state on byte vectors: every record type, malformations, truncation. */
#include <stdlib.h>
#include <string.h>

#include "decode/sflow.h"
#include "decode/sflow_state.h"
#include "tap.h"

#include "bytebuf.h"

/* Start a length-prefixed block (tag, length): returns where the length goes. */
static size_t open_block(struct buf *f, uint32_t tag)
{
	u32(f, tag);
	u32(f, 0);
	return f->n;
}

static void close_block(struct buf *f, size_t at) { put32_at(f, at - 4, (uint32_t)(f->n - at)); }

static void put_v4(struct buf *f, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	u32(f, 1);
	ip(f, a, b, c, d);
}

static void dgram_hdr(struct buf *f, uint32_t version, uint32_t seq, uint32_t nsamples)
{
	f->n = 0;
	u32(f, version);
	put_v4(f, 192, 0, 2, 1);
	if (version == 5)
		u32(f, 7);			/* sub agent */
	u32(f, seq);
	u32(f, 1000);				/* uptime */
	u32(f, nsamples);
}

/* Ethernet + 802.1Q 20 + IPv4 + TCP 1234 -> 80, 64-byte frame prefix. */
static size_t eth_tcp_frame(uint8_t *fr)
{
	static const uint8_t f[] = {
		0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
		0x81, 0x00, 0xa0, 0x14, 0x08, 0x00,
		0x45, 0x10, 0x00, 0x8c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00,
		10, 0, 0, 1, 10, 0, 0, 2,
		0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0x03, 0xe8, 0, 0, 0, 0,
		0xde, 0xad,
	};
	memcpy(fr, f, sizeof(f));
	return sizeof(f);
}

static void put_header_rec(struct buf *f, uint32_t version, uint32_t frame_len)
{
	uint8_t fr[128];
	size_t n = eth_tcp_frame(fr);
	size_t at = version == 5 ? open_block(f, 1) : 0;

	u32(f, 1);				/* ethernet */
	u32(f, frame_len);
	if (version == 5)
		u32(f, 4);			/* stripped */
	u32(f, (uint32_t)n);
	bytes(f, fr, n);
	pad_to(f, 4);
	if (version == 5)
		close_block(f, at);
}

/* Everything a sink saw. */
struct seen {
	int flows, counters;
	struct flow_rec rec[8];
	struct sflow_flow f[8];
	struct sflow_counter cnt[8];
};

static void on_flow(void *arg, const struct sflow_hdr *h, const struct sflow_flow *f,
    struct flow_rec *rec)
{
	struct seen *s = arg;
	(void)h;
	if (s->flows < 8) {
		s->rec[s->flows] = *rec;
		s->f[s->flows] = *f;
	}
	s->flows++;
}

static void on_counter(void *arg, const struct sflow_hdr *h, const struct sflow_counter *c)
{
	struct seen *s = arg;
	(void)h;
	if (s->counters < 8)
		s->cnt[s->counters] = *c;
	s->counters++;
}

/* Decode the first n bytes of p from an exact-size heap copy, so that ASan sees any overread. */
static enum sflow_drop run_bytes(const uint8_t *p, size_t n, struct seen *s, struct sflow_stats *st)
{
	struct sflow_sink sink = { on_flow, on_counter, s, NULL };
	memset(s, 0, sizeof(*s));
	memset(st, 0, sizeof(*st));
	uint8_t *copy = exact_copy(p, n);
	enum sflow_drop why = sflow_decode(copy, n, &sink, st, NULL);
	free(copy);
	return why;
}

static enum sflow_drop run(const struct buf *f, struct seen *s, struct sflow_stats *st)
{
	return run_bytes(f->b, f->n, s, st);
}

/* v5 flow sample: raw header, extended switch, router, gateway, an unknown record. */
static void build_v5_full(struct buf *f)
{
	dgram_hdr(f, 5, 42, 1);
	size_t s = open_block(f, 1);
	u32(f, 9);				/* sample seq */
	u32(f, 3);				/* source id 0:3 */
	u32(f, 100); u32(f, 900); u32(f, 0);	/* rate, pool, drops */
	u32(f, 3); u32(f, 4);		/* in, out */
	u32(f, 5);				/* records */
	put_header_rec(f, 5, 158);
	size_t r = open_block(f, 1001);
	u32(f, 30); u32(f, 5); u32(f, 31); u32(f, 6);
	close_block(f, r);
	r = open_block(f, 1002);
	put_v4(f, 192, 0, 2, 254); u32(f, 24); u32(f, 16);
	close_block(f, r);
	r = open_block(f, 1003);
	put_v4(f, 198, 51, 100, 1);
	u32(f, 65000); u32(f, 65001); u32(f, 65002);
	u32(f, 2);				/* two segments */
	u32(f, 2); u32(f, 2); u32(f, 65010); u32(f, 65011);
	u32(f, 1); u32(f, 1); u32(f, 65012);
	u32(f, 1); u32(f, 0xfde80001);	/* communities */
	u32(f, 100);				/* localpref */
	close_block(f, r);
	r = open_block(f, 4242);		/* unknown: skipped by length */
	u32(f, 1); u32(f, 2); u32(f, 3);
	close_block(f, r);
	close_block(f, s);
}

static void test_v5_full(void)
{
	struct buf f;
	struct seen s;
	struct sflow_stats st;

	build_v5_full(&f);
	is_int(run(&f, &s, &st), SFLOW_DROP_NONE, "v5: decodes");
	is_int(s.flows, 1, "v5: one flow sample");
	const struct flow_rec *r = &s.rec[0];
	is_int(r->bytes, 158, "v5: bytes = frame length");
	is_int(r->packets, 1, "v5: packets 1");
	is_int(r->flows, 1, "v5: flows 1");
	ok(r->k.src_ip.af == 4 && r->k.src_ip.a[0] == 10 && r->k.src_ip.a[3] == 1, "v5: src ip from header");
	is_int(r->k.dst_port, 80, "v5: dst port from header");
	is_int(r->k.proto, 6, "v5: proto");
	is_int(r->tcp_flags, 0x18, "v5: tcp flags");
	is_int(r->k.tos, 0x10, "v5: tos");
	is_int(r->k.vlan, 30, "v5: vlan from extended switch wins over the header tag");
	is_int(r->k.cos, 5, "v5: cos from extended switch");
	is_int(r->k.src_mac[5], 0x55, "v5: src mac");
	is_int(r->k.src_mask, 24, "v5: src mask");
	is_int(r->k.dst_mask, 16, "v5: dst mask");
	is_int(r->k.src_as, 65001, "v5: src as");
	is_int(r->k.dst_as, 65012, "v5: dst as = last AS of the path");
	is_int(r->k.peer_src_as, 65002, "v5: peer src as");
	is_int(r->k.peer_dst_as, 65010, "v5: peer dst as = first AS of the path");
	ok(r->k.peer_dst_ip.af == 4 && r->k.peer_dst_ip.a[0] == 198, "v5: peer dst ip = BGP next hop");
	ok(r->k.peer_src_ip.af == 4 && r->k.peer_src_ip.a[3] == 1, "v5: peer src ip = agent");
	is_int(r->k.in_iface, 3, "v5: in iface");
	is_int(r->k.out_iface, 4, "v5: out iface");
	is_int(r->k.sampling_rate, 100, "v5: sampling rate");
	is_int(r->k.export_proto_version, 5, "v5: version");
	is_int(r->k.export_proto_sysid, 7, "v5: sysid = sub agent");
	is_int(r->k.export_proto_seqno, 42, "v5: seqno = datagram sequence");
	is_int(st.unknown_records, 1, "v5: unknown record skipped and counted");
	is_int(s.f[0].pool, 900, "v5: sample pool");
}

/* v5 expanded flow sample with sampled IPv4, IPv6, Ethernet-only records. */
static void test_v5_expanded_ip(void)
{
	struct buf f;
	struct seen s;
	struct sflow_stats st;

	dgram_hdr(&f, 5, 1, 3);
	size_t at = open_block(&f, 3);
	u32(&f, 1); u32(&f, 0); u32(&f, 0x01000005);	/* seq, class, index */
	u32(&f, 10); u32(&f, 10); u32(&f, 0);
	u32(&f, 0); u32(&f, 11); u32(&f, 0); u32(&f, 12);
	u32(&f, 1);
	size_t r = open_block(&f, 3);
	u32(&f, 1500); u32(&f, 17);
	uint8_t a[4] = { 10, 1, 1, 1 }, b[4] = { 10, 2, 2, 2 };
	bytes(&f, a, 4); bytes(&f, b, 4);
	u32(&f, 53); u32(&f, 5353); u32(&f, 0); u32(&f, 8);
	close_block(&f, r);
	close_block(&f, at);

	at = open_block(&f, 1);
	u32(&f, 2); u32(&f, 1); u32(&f, 1); u32(&f, 1); u32(&f, 0);
	u32(&f, 1); u32(&f, 2); u32(&f, 1);
	r = open_block(&f, 4);
	u32(&f, 1280); u32(&f, 6);
	uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, d6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	bytes(&f, s6, 16); bytes(&f, d6, 16);
	u32(&f, 443); u32(&f, 5000); u32(&f, 0x12); u32(&f, 0);
	close_block(&f, r);
	close_block(&f, at);

	at = open_block(&f, 1);
	u32(&f, 3); u32(&f, 1); u32(&f, 1); u32(&f, 1); u32(&f, 0);
	u32(&f, 1); u32(&f, 2); u32(&f, 1);
	r = open_block(&f, 2);
	u32(&f, 64);
	uint8_t m1[8] = { 1, 2, 3, 4, 5, 6 }, m2[8] = { 7, 8, 9, 10, 11, 12 };
	bytes(&f, m1, 8); bytes(&f, m2, 8); u32(&f, 0x0806);
	close_block(&f, r);
	close_block(&f, at);

	is_int(run(&f, &s, &st), SFLOW_DROP_NONE, "expanded: decodes");
	is_int(s.flows, 3, "expanded: three samples");
	is_int(s.rec[0].bytes, 1500, "ipv4 record: bytes = its length");
	is_int(s.rec[0].k.src_port, 53, "ipv4 record: src port");
	is_int(s.rec[0].k.tos, 8, "ipv4 record: tos");
	is_int(s.rec[0].k.etype, 0, "ipv4 record: etype left 0 (as 1.7.7)");
	is_int(s.rec[0].k.in_iface, 11, "expanded: in iface value");
	is_int(s.rec[0].k.out_iface, 12, "expanded: out iface value");
	is_int(s.f[0].ds_class, 0, "expanded: ds class");
	is_int(s.f[0].ds_index, 0x01000005, "expanded: 32-bit ds index");
	is_int(s.rec[1].k.src_ip.af, 6, "ipv6 record: family");
	is_int(s.rec[1].k.dst_ip.a[15], 2, "ipv6 record: dst");
	is_int(s.rec[1].tcp_flags, 0x12, "ipv6 record: tcp flags");
	is_int(s.rec[1].bytes, 1280, "ipv6 record: bytes");
	is_int(s.rec[2].bytes, 64, "ethernet record: bytes = its length");
	is_int(s.rec[2].k.etype, 0x806, "ethernet record: type");
	is_int(s.rec[2].k.dst_mac[5], 12, "ethernet record: dst mac");
}

/* v5 counter samples (compact and expanded) with generic, ethernet, vlan and unknown blocks. */
static void build_v5_counters(struct buf *f)
{
	dgram_hdr(f, 5, 5, 2);
	size_t at = open_block(f, 2);
	u32(f, 77); u32(f, 9); u32(f, 3);
	size_t r = open_block(f, 1);
	u32(f, 9); u32(f, 6); u64(f, 1000000000); u32(f, 1); u32(f, 3);
	u64(f, 123456789012ULL);
	for (int i = 0; i < 6; i++)
		u32(f, (uint32_t)i + 1);
	u64(f, 987654321ULL);
	for (int i = 0; i < 6; i++)
		u32(f, (uint32_t)i + 11);
	close_block(f, r);
	r = open_block(f, 2);
	for (int i = 0; i < 13; i++)
		u32(f, (uint32_t)i + 100);
	close_block(f, r);
	r = open_block(f, 1005);		/* processor: skipped */
	u32(f, 1);
	close_block(f, r);
	close_block(f, at);
	at = open_block(f, 4);
	u32(f, 78); u32(f, 0); u32(f, 10); u32(f, 1);
	r = open_block(f, 5);
	u32(f, 100); u64(f, 5000); u32(f, 1); u32(f, 2); u32(f, 3); u32(f, 4);
	close_block(f, r);
	close_block(f, at);
}

static void test_v5_counters(void)
{
	struct buf f;
	struct seen s;
	struct sflow_stats st;

	build_v5_counters(&f);
	is_int(run(&f, &s, &st), SFLOW_DROP_NONE, "counters: decode");
	is_int(s.flows, 0, "counters: never accounted as traffic");
	is_int(s.counters, 3, "counters: generic, ethernet, vlan blocks");
	is_int(s.cnt[0].type, SFLOW_CNT_GENERIC, "counters: generic first");
	is_int(s.cnt[0].gen.ifIndex, 9, "counters: ifIndex");
	ok(s.cnt[0].gen.ifInOctets == 123456789012ULL, "counters: 64-bit ifInOctets");
	is_int(s.cnt[0].gen.ifPromiscuousMode, 16, "counters: last generic field");
	is_int(s.cnt[0].seqno, 77, "counters: sample sequence");
	is_int(s.cnt[1].eth.v[12], 112, "counters: dot3StatsSymbolErrors");
	is_int(s.cnt[2].vlan.vlan_id, 100, "counters: vlan id");
	is_int(s.cnt[2].ds_index, 10, "counters: expanded ds index");
	is_int(st.counter_samples, 2, "counters: two samples");
	is_int(st.unknown_records, 1, "counters: unknown block skipped");
}

/* v4 flow sample (header + switch + router + v4 gateway) and v4 counters (ethernet). */
static void build_v4(struct buf *f, uint32_t version)
{
	dgram_hdr(f, version, 3, 2);
	u32(f, 1);				/* flow sample */
	u32(f, 4); u32(f, 2); u32(f, 64); u32(f, 640); u32(f, 0);
	u32(f, 1); u32(f, 2);
	u32(f, 1);				/* packet type header */
	put_header_rec(f, version, 200);
	u32(f, 3);				/* extended records */
	u32(f, 1); u32(f, 40); u32(f, 2); u32(f, 0); u32(f, 0);
	u32(f, 2); put_v4(f, 10, 9, 9, 9); u32(f, 20); u32(f, 28);
	u32(f, 3);
	u32(f, 100); u32(f, 200); u32(f, 300);
	if (version == 2) {
		u32(f, 2); u32(f, 400); u32(f, 500);
	} else {
		u32(f, 1); u32(f, 2); u32(f, 2); u32(f, 400); u32(f, 500);
		u32(f, 0); u32(f, 100);
	}
	u32(f, 2);				/* counters sample, ethernet */
	u32(f, 8); u32(f, 2); u32(f, 30); u32(f, 2);
	u32(f, 2); u32(f, 6); u64(f, 100); u32(f, 1); u32(f, 3);
	u64(f, 1);
	for (int i = 0; i < 6; i++)
		u32(f, 0);
	u64(f, 2);
	for (int i = 0; i < 6; i++)
		u32(f, 0);
	for (int i = 0; i < 13; i++)
		u32(f, (uint32_t)i);
}

static void test_v2_v4(void)
{
	struct buf f;
	struct seen s;
	struct sflow_stats st;

	for (uint32_t v = 2; v <= 4; v += 2) {
		build_v4(&f, v);
		is_int(run(&f, &s, &st), SFLOW_DROP_NONE, v == 2 ? "v2: decodes" : "v4: decodes");
		is_int(s.flows, 1, "v2/v4: one flow");
		is_int(s.rec[0].bytes, 200, "v2/v4: bytes = frame length");
		is_int(s.rec[0].k.vlan, 40, "v2/v4: vlan from switch");
		is_int(s.rec[0].k.dst_mask, 28, "v2/v4: router mask");
		is_int(s.rec[0].k.src_as, 200, "v2/v4: src as");
		is_int(s.rec[0].k.peer_dst_as, v == 2 ? 0 : 400, "v4: peer dst as (v2: none, as 1.7.7)");
		is_int(s.rec[0].k.dst_as, v == 2 ? 0 : 500, "v4: dst as (v2: none, as 1.7.7)");
		is_int(s.rec[0].k.peer_dst_ip.af, 0, "v2/v4: router next hop not used (as 1.7.7)");
		is_int(s.rec[0].k.export_proto_version, v, "v2/v4: version");
		is_int(s.rec[0].k.export_proto_sysid, 0, "v2/v4: no sub agent");
		is_int(s.rec[0].k.dst_port, 80, "v2/v4: header decoded");
		is_int(s.counters, 1, "v2/v4: ethernet counters delivered once");
		is_int(s.cnt[0].type, SFLOW_CNT_GENERIC | SFLOW_CNT_ETHERNET, "v2/v4: generic + ethernet");
		is_int(s.cnt[0].eth.v[12], 12, "v2/v4: ethernet block");
	}
}

/* Malformations, each counted by reason; samples before the fault are kept. */
static void test_malformed(void)
{
	struct buf f;
	struct seen s;
	struct sflow_stats st;

	dgram_hdr(&f, 3, 1, 0);
	is_int(run(&f, &s, &st), SFLOW_DROP_VERSION, "version 3 refused");
	is_int(st.drops[SFLOW_DROP_VERSION], 1, "version drop counted");

	dgram_hdr(&f, 5, 1, 0);
	f.b[7] = 9;				/* agent address type 9 */
	is_int(run(&f, &s, &st), SFLOW_DROP_AGENT_AF, "bad agent type");

	build_v5_full(&f);
	f.b[27] = 2;				/* two samples claimed, one present */
	is_int(run(&f, &s, &st), SFLOW_DROP_SAMPLE_COUNT, "sample count lies");
	is_int(s.flows, 1, "sample count lies: the real sample is kept");

	build_v5_full(&f);
	f.b[35] += 4;				/* sample length past the end */
	is_int(run(&f, &s, &st), SFLOW_DROP_SAMPLE_LEN, "sample length past the end");
	is_int(s.flows, 0, "sample length past the end: nothing emitted");

	build_v5_full(&f);
	f.b[36 + 36] = 0xff;			/* first record's length overflows the sample */
	is_int(run(&f, &s, &st), SFLOW_DROP_RECORD_LEN, "record length overflows");

	build_v5_full(&f);
	f.b[36 + 31] = 9;			/* 9 records claimed, 5 present */
	is_int(run(&f, &s, &st), SFLOW_DROP_RECORD_COUNT, "record count lies");

	build_v5_full(&f);
	/* header record: header_length bigger than the record */
	f.b[36 + 55] = 200;
	is_int(run(&f, &s, &st), SFLOW_DROP_RECORD_SHORT, "header length past its record");

	build_v4(&f, 4);
	f.b[24] = 0; f.b[27] = 9;		/* sample type 9 */
	is_int(run(&f, &s, &st), SFLOW_DROP_V2_TAG, "v4: unknown sample type");

	build_v5_full(&f);
	f.b[31] = 99;				/* unknown v5 sample format: skipped */
	is_int(run(&f, &s, &st), SFLOW_DROP_NONE, "v5: unknown sample skipped");
	is_int(st.unknown_samples, 1, "v5: unknown sample counted");

	/* a huge AS path segment count must not loop: record short */
	dgram_hdr(&f, 5, 1, 1);
	size_t at = open_block(&f, 1);
	u32(&f, 1); u32(&f, 1); u32(&f, 1); u32(&f, 1); u32(&f, 0);
	u32(&f, 1); u32(&f, 2); u32(&f, 1);
	size_t r = open_block(&f, 1003);
	put_v4(&f, 1, 1, 1, 1); u32(&f, 1); u32(&f, 2); u32(&f, 3);
	u32(&f, 0xffffffff); u32(&f, 2); u32(&f, 0xfffffff0);
	close_block(&f, r);
	close_block(&f, at);
	is_int(run(&f, &s, &st), SFLOW_DROP_RECORD_SHORT, "huge AS path refused");
}

/* Every prefix of valid datagrams: never a crash, never a success before the end. */
static void test_truncation(void)
{
	struct buf full;
	struct seen s;
	struct sflow_stats st;
	void (*builders[])(struct buf *) = { build_v5_full, build_v5_counters };
	int bad = 0;

	for (size_t b = 0; b < 4; b++) {
		if (b < 2)
			builders[b](&full);
		else
			build_v4(&full, b == 2 ? 2 : 4);
		for (size_t n = 0; n < full.n; n++)
			if (run_bytes(full.b, n, &s, &st) == SFLOW_DROP_NONE)
				bad++;
	}
	is_int(bad, 0, "every truncation is a counted drop");
}

static void test_renormalize(void)
{
	struct sflow_state *ss = sflow_state_new();
	struct sflow_hdr h = { .version = 5, .agent = { .af = 4, .a = { 192, 0, 2, 1 } } };
	struct sflow_flow f = { .seqno = 10, .ds_index = 3, .rate = 100, .pool = 1000 };
	struct flow_rec rec = { .bytes = 118, .packets = 1 };

	sflow_state_renormalize(ss, &h, &f, &rec);
	is_int(rec.packets, 100, "renorm: first sample uses the rate");
	is_int(rec.bytes, 11800, "renorm: bytes x rate");
	is_int(rec.k.sampling_rate, 1, "renorm: sampling_rate 1");
	f.seqno = 12; f.pool = 1400;		/* a lost sample: pool grew by 400 over 2 */
	rec.bytes = 10; rec.packets = 1;
	sflow_state_renormalize(ss, &h, &f, &rec);
	is_int(rec.packets, 200, "renorm: effective rate from the sample pool");
	f.seqno = 11; f.pool = 1500;		/* out of order: the rate */
	rec.packets = 1;
	sflow_state_renormalize(ss, &h, &f, &rec);
	is_int(rec.packets, 100, "renorm: out of order falls back to the rate");
	f.seqno = 5000; f.pool = 1000;		/* reset: pool went back */
	rec.packets = 1;
	sflow_state_renormalize(ss, &h, &f, &rec);
	is_int(rec.packets, 100, "renorm: reset uses the rate");
	f.seqno = 5001; f.pool = 1050;
	rec.packets = 1;
	sflow_state_renormalize(ss, &h, &f, &rec);
	is_int(rec.packets, 50, "renorm: tracking restarted after the reset");
	f.ds_index = 4; f.rate = 0;
	rec.packets = 1;
	sflow_state_renormalize(ss, &h, &f, &rec);
	is_int(rec.packets, 1, "renorm: rate 0 taken as 1");
	sflow_state_free(ss);
}

static void count_agents(void *arg, const struct sflow_agent_stats *a)
{
	struct sflow_agent_stats *out = arg;
	*out = *a;
}

struct agent_tally {
	int agents;
	uint64_t packets;
};

static void tally_agents(void *arg, const struct sflow_agent_stats *a)
{
	struct agent_tally *t = arg;
	t->agents++;
	t->packets += a->packets;
}

static void test_sequence(void)
{
	struct sflow_state *ss = sflow_state_new();
	struct sflow_hdr h = { .version = 5, .agent = { .af = 4, .a = { 192, 0, 2, 1 } }, .seqno = 1 };
	struct sflow_agent_stats a;
	static const uint32_t seqs[] = { 1, 2, 3, 5, 4, 6 };

	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		h.seqno = seqs[i];
		sflow_state_datagram(ss, &h, 100);
	}
	sflow_state_foreach(ss, count_agents, &a);
	is_int(a.packets, 6, "seq: datagrams");
	is_int(a.bytes, 600, "seq: bytes");
	is_int(a.seq_good, 3, "seq: good (1, 2, 3)");
	is_int(a.seq_jmp_fwd, 2, "seq: forward jumps (5, then 6 after 4)");
	is_int(a.seq_jmp_bck, 1, "seq: backward jump (4)");
	/* many agents: the table grows */
	for (uint32_t i = 0; i < 1000; i++) {
		h.agent.a[2] = (uint8_t)(i >> 8);
		h.agent.a[3] = (uint8_t)i;
		h.sub_agent = i;
		sflow_state_datagram(ss, &h, 1);
	}
	struct agent_tally t = { 0, 0 };
	sflow_state_foreach(ss, tally_agents, &t);
	is_int(t.agents, 1001, "seq: 1000 more agents tracked, each on its own");
	is_int(t.packets, 1006, "seq: every datagram counted once");
	sflow_state_free(ss);
	sflow_state_free(NULL);
}

int main(void)
{
	test_v5_full();
	test_v5_expanded_ip();
	test_v5_counters();
	test_v2_v4();
	test_malformed();
	test_truncation();
	test_renormalize();
	test_sequence();
	return tap_done();
}
