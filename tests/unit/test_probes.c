/* SPDX-License-Identifier: BSD-3-Clause */
/* test_probes.c: nfprobe/sfprobe encoders (byte layout, then decoded back by our collectors' decoders), the flow cache, timeouts, tee balancing. */
#include <stdlib.h>
#include <string.h>

#include "decode/netflow.h"
#include "decode/sflow.h"
#include "encode/nf_export.h"
#include "encode/sflow_export.h"
#include "plugins/nfprobe.h"
#include "plugins/tee.h"
#include "tap.h"

#define MAXD 64

/* Datagrams an exporter sent. */
struct sent {
	size_t n;
	size_t len[MAXD];
	uint8_t d[MAXD][1500];
};

static void capture(void *arg, const uint8_t *buf, size_t len)
{
	struct sent *s = arg;
	if (s->n < MAXD) {
		memcpy(s->d[s->n], buf, len);
		s->len[s->n] = len;
	}
	s->n++;
}

struct got {
	size_t n;
	uint64_t bytes, packets;
	struct flow_rec r[2048];
};

static void collect(void *arg, struct flow_rec *rec)
{
	struct got *g = arg;
	if (g->n < 2048)
		g->r[g->n] = *rec;
	g->n++;
	g->bytes += rec->bytes;
	g->packets += rec->packets;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)be16(p) << 16 | be16(p + 2); }

static const struct fr_ip exporter = { 4, { 0 }, { 127, 0, 0, 1 } };
#define BOOT 1700000000000LL

/* Flow i: 10.0.<i/256>.<i%256> -> 192.0.2.1 (or 2001:db8::i -> 2001:db8::1:1), TCP 1000+i -> 80. */
static struct nfx_flow flow(int i, int af)
{
	struct nfx_flow f;

	memset(&f, 0, sizeof(f));
	f.src.af = f.dst.af = (uint8_t)af;
	if (af == 4) {
		f.src.a[0] = 10; f.src.a[2] = (uint8_t)(i / 256); f.src.a[3] = (uint8_t)i;
		f.dst.a[0] = 192; f.dst.a[2] = 2; f.dst.a[3] = 1;
	} else {
		f.src.a[0] = 0x20; f.src.a[1] = 0x01; f.src.a[2] = 0x0d; f.src.a[3] = 0xb8;
		f.src.a[14] = (uint8_t)(i / 256); f.src.a[15] = (uint8_t)i;
		memcpy(f.dst.a, f.src.a, 14);
		f.dst.a[13] = 1; f.dst.a[15] = 1;
	}
	f.src_port = (uint16_t)(1000 + i);
	f.dst_port = 80;
	f.proto = 6;
	f.tos = 0x20;
	f.tcp_flags = 0x1b;
	f.in_if = 3;
	f.out_if = 4;
	f.bytes = 1000 + (uint64_t)i;
	f.packets = 2;
	f.first_ms = BOOT + 5000;
	f.last_ms = BOOT + 7250;
	return f;
}

/* Export n flows with version v, decode every datagram back; returns the decoder's records. */
static void roundtrip(int v, int n, int af, uint32_t sampling, struct sent *s, struct got *g)
{
	struct nfx x;
	struct nfx_cfg c = { .version = v, .engine_type = 1, .engine_id = 2, .source_id = 7,
		.sampling = sampling };
	static struct nf_opts opts;
	struct fr_ts arr = { 1800000000, 0 };

	memset(s, 0, sizeof(*s));
	memset(g, 0, sizeof(*g));
	nfx_init(&x, &c, BOOT, capture, s);
	for (int i = 0; i < n; i++) {
		struct nfx_flow f = flow(i, af == 46 ? (i % 2 ? 6 : 4) : af);
		nfx_add(&x, &f, BOOT + 9400);
	}
	nfx_flush(&x);
	struct nf_state *st = nf_state_new(&opts);
	for (size_t i = 0; i < s->n && i < MAXD; i++)
		nf_decode(st, s->d[i], s->len[i], &exporter, &arr, collect, g);
	nf_state_free(st);
}

static void test_v5(void)
{
	struct sent s;
	struct got g;

	roundtrip(5, 31, 4, 0, &s, &g);
	is_int(s.n, 2, "v5: 31 flows in two datagrams (30 per datagram)");
	is_int(s.len[0], 24 + 30 * 48, "v5: header + 30 records");
	is_int(be16(s.d[0]), 5, "v5: version");
	is_int(be16(s.d[0] + 2), 30, "v5: count");
	is_int(be32(s.d[0] + 4), 10000, "v5: sysUptime at the export time rounded up to the second");
	is_int(be32(s.d[0] + 8), 1700000010, "v5: unix_secs");
	is_int(be32(s.d[0] + 16), 0, "v5: first flow sequence 0");
	is_int(be32(s.d[1] + 16), 30, "v5: second datagram sequence = flows before it");
	is_int(s.d[0][20], 1, "v5: engine type");
	is_int(s.d[0][21], 2, "v5: engine id");
	is_int(g.n, 31, "v5: decoded back 31 flows");
	is_int(g.r[5].k.src_ip.a[3], 5, "v5: src address");
	is_int(g.r[5].k.src_port, 1005, "v5: src port");
	is_int(g.r[5].bytes, 1005, "v5: bytes");
	is_int(g.r[5].packets, 2, "v5: packets");
	is_int(g.r[5].tcp_flags, 0x1b, "v5: tcp flags");
	is_int(g.r[5].k.tos, 0x20, "v5: tos");
	is_int(g.r[5].k.in_iface, 3, "v5: input");
	is_int(g.r[5].k.ts_start.sec, 1700000005, "v5: first switched");
	is_int(be32(s.d[0] + 24 + 24), 5000, "v5: first switched (uptime ms)");
	is_int(be32(s.d[0] + 24 + 28), 7250, "v5: last switched (uptime ms)");

	roundtrip(5, 4, 6, 0, &s, &g);
	is_int(s.n, 0, "v5: IPv6 flows are not exported");
	roundtrip(5, 1, 4, 100, &s, &g);
	is_int(be16(s.d[0] + 22), 0x4000 | 100, "v5: sampling interval with mode bits");
	is_int(g.r[0].k.sampling_rate, 100, "v5: decoder reads the sampling rate");
}

static void test_v9(void)
{
	struct sent s;
	struct got g;

	roundtrip(9, 40, 46, 0, &s, &g);
	ok(s.n >= 2, "v9: 40 mixed flows need several datagrams (%zu)", s.n);
	is_int(be16(s.d[0]), 9, "v9: version");
	is_int(be32(s.d[0] + 12), 0, "v9: first sequence 0");
	is_int(be32(s.d[1] + 12), 1, "v9: sequence counts datagrams");
	is_int(be32(s.d[0] + 16), 7, "v9: source id");
	is_int(be16(s.d[0] + 20), 0, "v9: templates first (flowset 0)");
	ok(s.len[0] <= NFX_MTU, "v9: datagram within the MTU");
	is_int(g.n, 40, "v9: decoded back 40 flows");
	uint64_t b = 0;
	for (int i = 0; i < 40; i++)
		b += 1000 + (uint64_t)i;
	is_int(g.bytes, b, "v9: byte total");
	is_int(g.packets, 80, "v9: packet total");
	int v6 = 0;
	for (size_t i = 0; i < g.n && i < 2048; i++)
		v6 += g.r[i].k.src_ip.af == 6;
	is_int(v6, 20, "v9: 20 IPv6 flows");
	is_int(g.r[0].k.ts_start.sec, 1700000005, "v9: first switched");
	is_int(g.r[0].k.ts_end.sec, 1700000010 - (10000 - 7250) / 1000, "v9: last switched");
	is_int(g.r[0].k.out_iface, 4, "v9: output interface");
	/* every count in the header equals the records in the datagram */
	for (size_t i = 0; i < s.n && i < MAXD; i++) {
		size_t off = 20, recs = 0;
		while (off + 4 <= s.len[i]) {
			uint16_t id = be16(s.d[i] + off), l = be16(s.d[i] + off + 2);
			if (l < 4 || l % 4)
				break;
			if (id == 0)
				recs += 2;
			else
				recs += (l - 4) / (id == 256 ? 58 : 82);
			off += l;
		}
		if (!ok(off == s.len[i] && recs == be16(s.d[i] + 2), "v9: datagram %zu: sets fill it, "
		    "count %u = records %zu", i, be16(s.d[i] + 2), recs))
			break;
	}

	roundtrip(9, 3, 4, 50, &s, &g);
	is_int(g.n, 3, "v9 sampled: 3 flows");
	is_int(g.r[0].k.sampling_rate, 50, "v9: sampling rate from the options record");
}

static void test_ipfix(void)
{
	struct sent s;
	struct got g;

	roundtrip(10, 50, 46, 0, &s, &g);
	is_int(be16(s.d[0]), 10, "ipfix: version");
	is_int(be16(s.d[0] + 2), s.len[0], "ipfix: message length");
	is_int(be32(s.d[0] + 4), 1700000010, "ipfix: export time");
	is_int(be32(s.d[0] + 8), 0, "ipfix: first sequence 0");
	is_int(be32(s.d[0] + 12), 7, "ipfix: observation domain");
	is_int(g.n, 50, "ipfix: decoded back 50 flows");
	uint32_t recs0 = 0;
	for (size_t i = 0; i < g.n && g.r[i].k.export_proto_seqno == 0; i++)
		recs0++;
	is_int(be32(s.d[1] + 8), recs0, "ipfix: sequence = data records sent before");
	is_int(g.r[1].k.src_ip.af, 6, "ipfix: IPv6 flow");
	is_int(g.r[1].k.src_ip.a[15], 1, "ipfix: IPv6 source");
	is_int(g.r[1].k.ts_start.sec, 1700000005, "ipfix: flowStartMilliseconds");
	is_int(g.r[1].k.ts_end.usec, 250000, "ipfix: flowEndMilliseconds");

	roundtrip(10, 2, 4, 20, &s, &g);
	is_int(g.n, 2, "ipfix sampled: 2 flows");
	is_int(g.r[0].k.sampling_rate, 20, "ipfix: sampling rate from the options record");
}

/* ---- sFlow ---- */

struct sgot {
	size_t flows, counters;
	uint64_t bytes;
	struct sflow_flow f;
	struct flow_rec r;
	struct sflow_counter c;
	struct sflow_hdr h;
};

static void sflow_flow_cb(void *arg, const struct sflow_hdr *h, const struct sflow_flow *f,
    struct flow_rec *rec)
{
	struct sgot *g = arg;
	g->flows++;
	g->bytes += rec->bytes;
	g->f = *f;
	g->r = *rec;
	g->h = *h;
}

static void sflow_counter_cb(void *arg, const struct sflow_hdr *h, const struct sflow_counter *c)
{
	struct sgot *g = arg;
	(void)h;
	g->counters++;
	g->c = *c;
}

static void test_sflow(void)
{
	static struct sent s;
	struct sfx x;
	struct sfx_cfg c = { .agent = { 4, { 0 }, { 192, 0, 2, 9 } }, .sub_agent_id = 1402,
		.source_index = 5 };
	uint8_t frame[128];

	/* Ethernet + IPv4 + UDP 10.0.0.1:53 -> 10.0.0.2:4000 */
	memset(frame, 0, sizeof(frame));
	frame[12] = 0x08;
	uint8_t *ip = frame + 14;
	ip[0] = 0x45; ip[2] = 0; ip[3] = 100; ip[8] = 64; ip[9] = 17;
	ip[12] = 10; ip[15] = 1; ip[16] = 10; ip[19] = 2;
	ip[20] = 0; ip[21] = 53; ip[22] = 0x0f; ip[23] = 0xa0; ip[25] = 80;

	memset(&s, 0, sizeof(s));
	sfx_init(&x, &c, BOOT, capture, &s);
	for (int i = 0; i < 20; i++) {
		struct sfx_sample smp = { .rate = 10, .pool = (uint32_t)(10 * (i + 1)), .input = 5,
			.header_protocol = SFX_HP_ETHERNET, .frame_len = 114, .hdr = frame,
			.hdr_len = 114 };
		sfx_add_sample(&x, &smp, BOOT + 1000 * i);
	}
	struct sfx_counters ctr = { .ifindex = 5, .speed = 100000000, .in_octets = 2280,
		.in_pkts = 20 };
	sfx_add_counters(&x, &ctr, BOOT + 30000);
	sfx_flush(&x);
	ok(s.n >= 2, "sflow: 20 samples of 114 bytes need several datagrams (%zu)", s.n);

	struct sgot g;
	memset(&g, 0, sizeof(g));
	struct sflow_sink sink = { sflow_flow_cb, sflow_counter_cb, &g, NULL };
	struct sflow_stats st;
	memset(&st, 0, sizeof(st));
	size_t bad = 0;
	for (size_t i = 0; i < s.n && i < MAXD; i++) {
		ok(s.len[i] <= SFX_MTU, "sflow: datagram %zu within the MTU", i);
		bad += sflow_decode(s.d[i], s.len[i], &sink, &st, NULL) != SFLOW_DROP_NONE;
	}
	is_int(bad, 0, "sflow: every datagram decodes");
	is_int(g.flows, 20, "sflow: 20 flow samples");
	is_int(g.counters, 1, "sflow: 1 counter sample");
	is_int(g.bytes, 20 * 114, "sflow: bytes = frame lengths");
	is_int(g.f.rate, 10, "sflow: sampling rate");
	is_int(g.f.pool, 200, "sflow: sample pool");
	is_int(g.f.in_if, 5, "sflow: input");
	is_int(g.f.ds_index, 5, "sflow: source index");
	is_int(g.f.seqno, 20, "sflow: sample sequence");
	is_int(g.h.version, 5, "sflow: version 5");
	is_int(g.h.sub_agent, 1402, "sflow: sub-agent id");
	is_int(g.h.agent.a[3], 9, "sflow: agent address");
	is_int(g.h.seqno, s.n, "sflow: datagram sequence");
	is_int(g.r.k.src_port, 53, "sflow: header decoded: src port");
	is_int(g.r.k.dst_ip.a[3], 2, "sflow: header decoded: dst address");
	is_int(g.c.gen.ifInOctets, 2280, "sflow: ifInOctets");
	is_int(g.c.gen.ifSpeed, 100000000, "sflow: ifSpeed");
}

/* ---- flow cache ---- */

struct exported {
	size_t n;
	uint64_t bytes, packets;
	struct nfx_flow last;
	int64_t now;
};

static void on_export(void *arg, const struct nfx_flow *f, int64_t now_ms)
{
	struct exported *e = arg;
	e->n++;
	e->bytes += f->bytes;
	e->packets += f->packets;
	e->last = *f;
	e->now = now_ms;
}

static struct flow_rec pkt(int src, uint8_t proto, uint8_t flags, int64_t sec)
{
	struct flow_rec r;

	memset(&r, 0, sizeof(r));
	r.k.src_ip.af = r.k.dst_ip.af = 4;
	r.k.src_ip.a[0] = 10;
	r.k.src_ip.a[3] = (uint8_t)src;
	r.k.dst_ip.a[0] = 10;
	r.k.dst_ip.a[3] = 200;
	r.k.proto = proto;
	r.k.src_port = 1000;
	r.k.dst_port = 80;
	r.tcp_flags = flags;
	r.bytes = 100;
	r.packets = 1;
	r.ts.sec = sec;
	return r;
}

static void test_cache(void)
{
	struct nfp_timeouts t;
	struct exported e;
	char why[200];

	nfp_timeouts_default(&t);
	is_int(t.tcp, 3600, "timeouts: tcp default");
	is_int(t.expint, 60, "timeouts: expint default");
	ok(nfp_timeouts_parse("tcp=10:tcp.rst=1:tcp.fin=2:udp=5:maxlife=100:expint=1", &t, why,
	    sizeof(why)) == 0, "timeouts: pmacct syntax parses");
	is_int(t.tcp_rst, 1, "timeouts: tcp.rst");
	is_int(t.udp, 5, "timeouts: udp");
	is_int(t.icmp, 300, "timeouts: untouched keep the default");
	ok(nfp_timeouts_parse("tcp=10:bogus=3", &t, why, sizeof(why)) < 0 && strstr(why, "bogus"),
	    "timeouts: an unknown name is an error naming it (%s)", why);
	ok(nfp_timeouts_parse("udp=x", &t, why, sizeof(why)) < 0, "timeouts: not a number");
	ok(nfp_timeouts_parse("udp", &t, why, sizeof(why)) < 0, "timeouts: no '='");

	nfp_timeouts_default(&t);
	nfp_timeouts_parse("tcp=10:tcp.rst=1:tcp.fin=2:udp=5:expint=1", &t, why, sizeof(why));
	memset(&e, 0, sizeof(e));
	struct nfp_cache *c = nfp_cache_new(4, &t, on_export, &e);
	struct flow_rec r = pkt(1, 17, 0, 1000);
	nfp_cache_add(c, &r, 0, 0, 0);
	r.ts.sec = 1002;
	nfp_cache_add(c, &r, 0, 0, 0);
	is_int(nfp_cache_count(c), 1, "cache: two packets, one flow");
	r = pkt(2, 6, 0x02, 1003);
	nfp_cache_add(c, &r, 0, 0, 0);
	r = pkt(2, 6, 0x01, 1004);	/* FIN: tcp.fin applies */
	nfp_cache_add(c, &r, 0, 0, 0);
	is_int(e.n, 0, "cache: nothing expired yet");
	nfp_cache_clock(c, 1006500);
	is_int(e.n, 1, "cache: TCP flow with FIN expired after tcp.fin=2");
	is_int(e.last.tcp_flags, 0x03, "cache: TCP flags ORed");
	is_int(e.last.packets, 2, "cache: its packets");
	nfp_cache_clock(c, 1008000);
	is_int(e.n, 2, "cache: UDP flow idle for udp=5 expired");
	is_int(e.last.first_ms, 1000000, "cache: first time");
	is_int(e.last.last_ms, 1002000, "cache: last time");
	for (int i = 0; i < 5; i++) {
		r = pkt(10 + i, 17, 0, 1009);
		nfp_cache_add(c, &r, 0, 0, 0);
	}
	is_int(e.n, 3, "cache: the fifth flow in a cache of 4 evicts one");
	is_int(e.last.src.a[3], 10, "cache: the least recently seen");
	nfp_cache_flush_all(c);
	is_int(e.n, 7, "cache: flush exports the rest");
	is_int(e.packets, 2 + 2 + 5, "cache: every packet exported once");
	is_int(nfp_cache_count(c), 0, "cache: empty");
	nfp_cache_free(c);
}

/* Per-key totals of what the cache exported (key index in the source address). */
static uint64_t stress_got[5000];

static void on_stress(void *arg, const struct nfx_flow *f, int64_t now_ms)
{
	(void)arg;
	(void)now_ms;
	stress_got[f->src.a[2] << 8 | f->src.a[3]] += f->packets;
}

/* Many flows through a small cache (evictions, expiry, probe-run deletions): nothing lost. */
static void test_cache_stress(void)
{
	static uint64_t want[5000];
	struct nfp_timeouts t;
	char why[100];
	uint64_t rng = 88172645463325252ULL;

	nfp_timeouts_default(&t);
	nfp_timeouts_parse("udp=3:tcp=5:expint=1", &t, why, sizeof(why));
	struct nfp_cache *c = nfp_cache_new(257, &t, on_stress, NULL);
	for (int n = 0; n < 300000; n++) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		int key = (int)(rng % 5000);
		struct flow_rec r = pkt(0, key % 3 ? 17 : 6, 0, 1000 + n / 1000);
		r.k.src_ip.a[2] = (uint8_t)(key >> 8);
		r.k.src_ip.a[3] = (uint8_t)key;
		nfp_cache_add(c, &r, 0, 0, 0);
		want[key]++;
	}
	nfp_cache_flush_all(c);
	int bad = 0;
	for (int k = 0; k < 5000; k++)
		bad += want[k] != stress_got[k];
	is_int(bad, 0, "cache stress: every key's packets exported exactly once");
	is_int(nfp_cache_count(c), 0, "cache stress: empty after flush");
	nfp_cache_free(c);
}

static void test_tee(void)
{
	struct fr_ip a = { 4, { 0 }, { 10, 0, 0, 7 } };
	_Atomic uint64_t rr = 0;

	is_int(tee_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u, "crc32 check value");
	is_int(tee_pick(TEE_RR, 3, &rr, &a, 0), 0, "rr 0");
	is_int(tee_pick(TEE_RR, 3, &rr, &a, 0), 1, "rr 1");
	is_int(tee_pick(TEE_RR, 3, &rr, &a, 0), 2, "rr 2");
	is_int(tee_pick(TEE_RR, 3, &rr, &a, 0), 0, "rr wraps");
	is_int(tee_pick(TEE_HASH_AGENT, 2, &rr, &a, 0), 0x0a000007u % 2, "hash-agent");
	is_int(tee_pick(TEE_HASH_TAG, 4, &rr, &a, 6), 2, "hash-tag");
	is_int(tee_pick(TEE_HASH_CRC32, 5, &rr, &a, 0), tee_crc32(a.a, 4) % 5, "hash-crc32");
}

int main(void)
{
	test_v5();
	test_v9();
	test_ipfix();
	test_sflow();
	test_cache();
	test_cache_stress();
	test_tee();
	return tap_done();
}
