/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nf5.c: NetFlow v1/v5/v7 decoding from byte vectors: fields, times, sampling, malformations. */
#include <stdlib.h>
#include <string.h>

#include "decode/netflow.h"
#include "tap.h"

#include "nfbuf.h"

/* A v5 datagram with n records; uptime 100000 ms at 1700000000 s (v1 and v7 by their layouts). */
static void v5(struct buf *b, uint16_t ver, uint16_t n, uint16_t sampling)
{
	b->n = 0;
	u16(b, ver); u16(b, n); u32(b, 100000); u32(b, 1700000000); u32(b, 0);
	if (ver != 1) {
		u32(b, 42);			/* sequence */
		u8(b, 1);			/* engine type */
		u8(b, 2);			/* engine id */
		u16(b, sampling);
	}
	for (uint16_t i = 0; i < n; i++) {
		ip(b, 10, 0, 0, (uint8_t)(i + 1));	/* src 10.0.0.i+1 */
		ip(b, 10, 1, 0, 1);			/* dst */
		ip(b, 192, 0, 0, 1);			/* next hop */
		u16(b, 3); u16(b, 4);			/* input, output */
		u32(b, 5); u32(b, 500);			/* packets, octets */
		u32(b, 90000); u32(b, 99999);		/* first, last */
		u16(b, 1234); u16(b, 80);
		if (ver == 1) {
			u16(b, 0); u8(b, 6); u8(b, 0x10); u8(b, 0x1b);	/* pad, proto, tos, flags */
			uint_n(b, 0, 7);				/* pad, reserved */
		} else {
			u8(b, 0); u8(b, 0x1b); u8(b, 6); u8(b, 0x10);	/* pad, flags, proto, tos */
			u16(b, 65001); u16(b, 65002);
			u8(b, 24); u8(b, 16);
			uint_n(b, 0, ver == 7 ? 6 : 2);			/* v7: flags, router_sc */
		}
	}
}

static struct nf_state *fresh(struct nf_opts *o)
{
	static struct nf_opts none;
	return nf_state_new(o ? o : &none);
}

static const struct fr_ip exporter = { 4, { 0 }, { 127, 0, 0, 1 } };
static const struct fr_ts now = { 1800000000, 5 };

static void test_v5_fields(void)
{
	struct buf b;
	v5(&b, 5, 2, 0x4000 | 10);
	struct nf_state *st = fresh(NULL);
	struct got g = { 0 };

	is_int(nf_decode(st, b.b, b.n, &exporter, &now, collect, &g), 2, "v5: two records");
	const struct flow_rec *r = &g.r[1];
	is_int(r->k.src_ip.af, 4, "src af");
	is_int(r->k.src_ip.a[3], 2, "src 10.0.0.2");
	is_int(r->k.dst_ip.a[1], 1, "dst 10.1.0.1");
	is_int(r->k.in_iface, 3, "input");
	is_int(r->k.out_iface, 4, "output");
	is_int(r->packets, 5, "packets");
	is_int(r->bytes, 500, "bytes");
	is_int(r->flows, 1, "flows");
	is_int(r->k.src_port, 1234, "sport");
	is_int(r->k.dst_port, 80, "dport");
	is_int(r->k.proto, 6, "proto");
	is_int(r->k.tos, 0x10, "tos");
	is_int(r->tcp_flags, 0x1b, "tcp flags");
	is_int(r->k.src_as, 65001, "src as");
	is_int(r->k.dst_as, 65002, "dst as");
	is_int(r->k.src_mask, 24, "src mask");
	is_int(r->k.dst_mask, 16, "dst mask");
	is_int(r->k.sampling_rate, 10, "sampling from the header");
	is_int(r->k.export_proto_version, 5, "version");
	is_int(r->k.export_proto_sysid, 2, "sysid = engine id");
	is_int(r->k.export_proto_seqno, 42, "seqno");
	is_int(r->k.ts_start.sec, 1700000000 - 10, "start: 10 s before export");
	is_int(r->k.ts_end.sec, 1700000000, "end: 999 ms truncates to 0 s");
	is_int(r->k.ts_export.sec, 1700000000, "export time");
	is_int(r->k.ts_arrival.sec, now.sec, "arrival");
	is_int(r->ts.sec, 1700000000 - 10, "time-bin: flow start");
	is_int(r->k.peer_src_ip.a[0], 127, "peer_src_ip = exporter");
	is_int(r->k.peer_dst_ip.af, 0, "no BGP next hop in v5");
	nf_state_free(st);
}

static void test_options(void)
{
	struct buf b;
	v5(&b, 5, 1, 0x4000 | 10);
	struct nf_opts o = { .renormalize = true, .use_ip_next_hop = true, .time_new = true };
	struct nf_state *st = fresh(&o);
	struct got g = { 0 };

	nf_decode(st, b.b, b.n, &exporter, &now, collect, &g);
	is_int(g.r[0].packets, 50, "renormalized packets");
	is_int(g.r[0].bytes, 5000, "renormalized bytes");
	is_int(g.r[0].k.sampling_rate, 1, "sampling_rate 1 once renormalized");
	is_int(g.r[0].k.peer_dst_ip.a[0], 192, "use_ip_next_hop: v5 next hop");
	is_int(g.r[0].ts.sec, now.sec, "nfacctd_time_new: bin by arrival");
	nf_state_free(st);
}

static void test_v1_v7(void)
{
	struct buf b;
	struct nf_state *st = fresh(NULL);
	struct got g = { 0 };
	v5(&b, 1, 3, 0);

	is_int(nf_decode(st, b.b, b.n, &exporter, &now, collect, &g), 3, "v1: three records");
	is_int(g.r[2].k.proto, 6, "v1 proto");
	is_int(g.r[2].tcp_flags, 0x1b, "v1 flags");
	is_int(g.r[2].k.export_proto_version, 1, "v1 version");
	g.n = 0;
	v5(&b, 7, 2, 0);
	is_int(nf_decode(st, b.b, b.n, &exporter, &now, collect, &g), 2, "v7: two records");
	is_int(g.r[1].k.src_as, 65001, "v7 src as");
	is_int(g.r[1].k.sampling_rate, 0, "v7 carries no sampling");
	nf_state_free(st);
}

static void test_malformed(void)
{
	struct buf b;
	v5(&b, 5, 2, 0);
	struct nf_state *st = fresh(NULL);
	struct nf_totals t;
	struct got g = { 0 };
	size_t emitted = 0;

	for (size_t cut = 0; cut < b.n; cut++) {
		/* an exact-size copy so ASan sees any overread */
		uint8_t *c = exact_copy(b.b, cut);
		emitted += nf_decode(st, c, cut, &exporter, &now, collect, &g);
		free(c);
	}
	is_int(emitted, 0, "truncated at every offset: nothing emitted");
	nf_totals(st, &t);
	is_int(t.drops[NF_DROP_SHORT] + t.drops[NF_DROP_COUNT_LEN], b.n, "every truncation counted");
	b.b[b.n] = 0xff;			/* a trailing byte past the records */
	is_int(nf_decode(st, b.b, b.n + 1, &exporter, &now, collect, &g), 2, "length + 1: trailing byte ignored");
	put16_at(&b, 2, 0);
	is_int(nf_decode(st, b.b, b.n, &exporter, &now, collect, &g), 0, "count 0 dropped");
	put16_at(&b, 0, 8);
	nf_decode(st, b.b, b.n, &exporter, &now, collect, &g);
	put16_at(&b, 0, 77);
	nf_decode(st, b.b, b.n, &exporter, &now, collect, &g);
	nf_totals(st, &t);
	is_int(t.drops[NF_DROP_V8], 1, "v8 counted");
	is_int(t.drops[NF_DROP_VERSION], 1, "unknown version counted");
	nf_state_free(st);
}

static void test_sequence(void)
{
	struct buf b;
	v5(&b, 5, 2, 0);
	struct nf_state *st = fresh(NULL);
	struct nf_totals t;
	struct got g = { 0 };

	nf_decode(st, b.b, b.n, &exporter, &now, collect, &g);	/* seq 42, next 44 */
	put32_at(&b, 16, 44);
	nf_decode(st, b.b, b.n, &exporter, &now, collect, &g);	/* good */
	put32_at(&b, 16, 50);
	nf_decode(st, b.b, b.n, &exporter, &now, collect, &g);	/* forward jump */
	put32_at(&b, 16, 10);
	nf_decode(st, b.b, b.n, &exporter, &now, collect, &g);	/* backward jump */
	nf_totals(st, &t);
	is_int(t.seq_fwd, 1, "one forward jump");
	is_int(t.seq_bck, 1, "one backward jump");
	is_int(t.records, 8, "records counted");
	nf_state_free(st);
}

int main(void)
{
	test_v5_fields();
	test_options();
	test_v1_v7();
	test_malformed();
	test_sequence();
	return tap_done();
}
