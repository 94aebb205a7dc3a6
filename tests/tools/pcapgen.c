/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapgen.c: deterministic capture generator for the end-to-end tests and
 * bench/.  Writes a LINKTYPE_ETHERNET pcap of N packets over F flows with
 * Zipf-like popularity, and a JSON file with its own independent tallies
 * (per 5-tuple, per protocol, grand totals) to check a daemon against.
 *
 * Traffic mix (per flow unless noted):
 *   ~80% IPv4 / 20% IPv6 (--v4-only: all IPv4);
 *   ~75% TCP (flags vary per packet: SYN, SYN|ACK, ACK, PSH|ACK, FIN|ACK),
 *   ~20% UDP, ~5% ICMP / ICMPv6 (--no-icmp: TCP/UDP only);
 *   ~12% of flows 802.1Q tagged, ~2% QinQ (two stacked 0x8100 tags: pmacct
 *   1.7.7 does not parse the 802.1ad 0x88a8 S-tag, so it is not used);
 *   about half of the flows are the reverse direction of an earlier flow;
 *   IPv4 UDP packets are sometimes a fragmented datagram: a first fragment
 *   carrying the UDP header, then later fragments (same IP id, no L4
 *   header) emitted right after it (--no-frag: never).
 * Packet sizes (IP total length) follow a bimodal mix: ~45% small
 * (40-120), ~35% full-size (1400-1500), the rest uniform in between.
 * Frames are cut to snaplen in the file (caplen) while orig_len and the IP
 * total length keep the real size, as a live capture would; frames
 * shorter than 60 bytes are zero-padded to 60 like received Ethernet
 * frames (the padding is not counted in IP bytes).
 *
 * Tallies: per flow key (src, dst, sport, dport, proto; ports 0 for ICMP;
 * later fragments count to the ports of their datagram's flow) packets
 * and bytes, where bytes = IP total length (IPv4 tot_len, IPv6 payload
 * length + 40), which is what pmacctd counts.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAPGEN_BASE_TIME	1700000000u	/* 2023-11-14 22:13:20 UTC */
#define PCAPGEN_ZIPF_S		1.1
#define PCAPGEN_MTU		1500u
#define PCAPGEN_MAX_FRAME	(14u + 8u + PCAPGEN_MTU)

enum { FAM_V4 = 4, FAM_V6 = 6 };
enum { P_ICMP = 1, P_TCP = 6, P_UDP = 17, P_ICMP6 = 58 };

struct flow {
	uint8_t fam;
	uint8_t proto;
	uint8_t src[16], dst[16];	/* IPv4 uses the first 4 bytes */
	uint16_t sport, dport;
	uint8_t smac[6], dmac[6];
	uint16_t vlan, cvlan;		/* 0 = untagged / no inner tag */
	uint8_t cos, tos;
	uint16_t ip_id;
	uint8_t tcp_flags;		/* ORed over the emitted packets */
	uint64_t packets, bytes;
};

struct opts {
	uint64_t packets;
	uint32_t flows;
	uint64_t seed;
	uint32_t snaplen;
	double duration;
	const char *out;
	const char *tallies;
	double zipf;		/* popularity exponent; 0 = every flow equally likely */
	bool no_icmp, no_frag, v4_only;
};

/* splitmix64 seeded xoshiro256**: small, fast, same stream everywhere. */
struct rng { uint64_t s[4]; };

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_init(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
	s[2] ^= t; s[3] = rotl(s[3], 45);
	return res;
}

/* Uniform double in [0, 1). */
static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [lo, hi]. */
static uint32_t rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rng_next(r) % ((uint64_t)hi - lo + 1));
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (p == NULL) {
		fprintf(stderr, "pcapgen: out of memory\n");
		exit(1);
	}
	return p;
}

/* ---- flow table construction ------------------------------------------ */

/* Open-addressing set of 5-tuples, so every flow key is unique. */
struct keyset { uint64_t *h; uint32_t *idx; size_t mask; };

static uint64_t flow_key_hash(const struct flow *f)
{
	uint64_t h = 1469598103934665603ull;
	uint8_t b[38];

	memcpy(b, f->src, 16); memcpy(b + 16, f->dst, 16);
	b[32] = (uint8_t)(f->sport >> 8); b[33] = (uint8_t)f->sport;
	b[34] = (uint8_t)(f->dport >> 8); b[35] = (uint8_t)f->dport;
	b[36] = f->proto; b[37] = f->fam;
	for (size_t i = 0; i < sizeof(b); i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h | 1;	/* 0 marks an empty slot */
}

static bool flow_key_eq(const struct flow *a, const struct flow *b)
{
	return a->fam == b->fam && a->proto == b->proto &&
	    a->sport == b->sport && a->dport == b->dport &&
	    memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

/* Insert flows[i] unless its key is taken; returns true when inserted. */
static bool keyset_add(struct keyset *ks, const struct flow *flows, uint32_t i)
{
	uint64_t h = flow_key_hash(&flows[i]);

	for (size_t s = h & ks->mask;; s = (s + 1) & ks->mask) {
		if (ks->h[s] == 0) {
			ks->h[s] = h;
			ks->idx[s] = i;
			return true;
		}
		if (ks->h[s] == h && flow_key_eq(&flows[ks->idx[s]], &flows[i]))
			return false;
	}
}

/* Host pools: src/dst addresses are drawn from these so that hosts are
 * shared between flows (src_host has fewer rows than the 5-tuple). */
struct hosts { uint8_t (*v4)[4]; uint8_t (*v6)[16]; uint32_t n4, n6; };

static void hosts_init(struct hosts *hp, struct rng *r, uint32_t flows)
{
	hp->n4 = flows / 3 + 16;
	hp->n6 = flows / 6 + 8;
	hp->v4 = xcalloc(hp->n4, sizeof(*hp->v4));
	hp->v6 = xcalloc(hp->n6, sizeof(*hp->v6));
	for (uint32_t i = 0; i < hp->n4; i++) {
		uint32_t x = (uint32_t)rng_next(r);
		uint8_t *a = hp->v4[i];

		switch (rng_range(r, 0, 4)) {
		case 0: a[0] = 10; a[1] = (uint8_t)(x >> 16); break;
		case 1: a[0] = 172; a[1] = (uint8_t)(16 + ((x >> 16) & 15)); break;
		case 2: a[0] = 192; a[1] = 168; break;
		case 3: a[0] = 198; a[1] = (uint8_t)(18 + ((x >> 16) & 1)); break;
		default: a[0] = 203; a[1] = 0; x = (x & 0xffff00ff) | 0x7100; break;
		}
		a[2] = (uint8_t)(x >> 8);
		a[3] = (uint8_t)(1 + (x & 0xff) % 254);
	}
	for (uint32_t i = 0; i < hp->n6; i++) {
		uint8_t *a = hp->v6[i];
		uint64_t lo = rng_next(r);

		memset(a, 0, 16);
		a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
		a[4] = (uint8_t)rng_range(r, 0, 15);
		if (rng_range(r, 0, 1))		/* half compressible, half not */
			lo &= 0xffff;
		for (int k = 0; k < 8; k++)
			a[8 + k] = (uint8_t)(lo >> (56 - 8 * k));
		if (a[15] == 0)
			a[15] = 1;
	}
}

static uint16_t pick_port(struct rng *r, bool server)
{
	static const uint16_t well_known[] = { 80, 443, 53, 22, 25, 123, 993,
	    8080, 3306, 5432, 161, 514, 1194, 3478 };

	if (server)
		return well_known[rng_range(r, 0,
		    sizeof(well_known) / sizeof(well_known[0]) - 1)];
	return (uint16_t)rng_range(r, 1024, 65535);
}

static void flow_random(struct flow *f, struct rng *r, const struct hosts *hp,
    const struct opts *o)
{
	uint32_t p = rng_range(r, 0, 99);

	memset(f, 0, sizeof(*f));
	f->fam = (o->v4_only || rng_range(r, 0, 99) < 80) ? FAM_V4 : FAM_V6;
	if (p < 75)
		f->proto = P_TCP;
	else if (p < 95 || o->no_icmp)
		f->proto = P_UDP;
	else
		f->proto = f->fam == FAM_V4 ? P_ICMP : P_ICMP6;
	do {	/* src == dst would count twice in sum_host: never generated */
		if (f->fam == FAM_V4) {
			memcpy(f->src, hp->v4[rng_range(r, 0, hp->n4 - 1)], 4);
			memcpy(f->dst, hp->v4[rng_range(r, 0, hp->n4 - 1)], 4);
		} else {
			memcpy(f->src, hp->v6[rng_range(r, 0, hp->n6 - 1)], 16);
			memcpy(f->dst, hp->v6[rng_range(r, 0, hp->n6 - 1)], 16);
		}
	} while (memcmp(f->src, f->dst, 16) == 0);
	if (f->proto == P_TCP || f->proto == P_UDP) {
		f->sport = pick_port(r, false);
		f->dport = pick_port(r, rng_range(r, 0, 9) < 8);
	}
	for (int k = 0; k < 6; k++) {
		f->smac[k] = (uint8_t)rng_next(r);
		f->dmac[k] = (uint8_t)rng_next(r);
	}
	f->smac[0] = (uint8_t)((f->smac[0] & 0xfc) | 0x02);	/* local unicast */
	f->dmac[0] = (uint8_t)((f->dmac[0] & 0xfc) | 0x02);
	p = rng_range(r, 0, 99);
	if (p < 14) {
		f->vlan = (uint16_t)rng_range(r, 1, 4094);
		f->cos = (uint8_t)rng_range(r, 0, 7);
		if (p < 2)
			f->cvlan = (uint16_t)rng_range(r, 1, 4094);
	}
	f->tos = (uint8_t)(rng_range(r, 0, 9) < 7 ? 0 : rng_range(r, 1, 63) << 2);
	f->ip_id = (uint16_t)rng_next(r);
}

/* The reverse direction of *fwd: same L2 path, swapped ends. */
static void flow_reverse(struct flow *f, const struct flow *fwd)
{
	*f = *fwd;
	memcpy(f->src, fwd->dst, 16); memcpy(f->dst, fwd->src, 16);
	memcpy(f->smac, fwd->dmac, 6); memcpy(f->dmac, fwd->smac, 6);
	f->sport = fwd->dport; f->dport = fwd->sport;
	f->packets = f->bytes = 0;
	f->tcp_flags = 0;
	f->ip_id = (uint16_t)(fwd->ip_id * 7 + 13);
}

/*
 * Build F flows with unique keys.  The order is shuffled afterwards so that
 * popularity rank (index) is not correlated with forward/reverse.
 */
static struct flow *flows_build(struct rng *r, const struct opts *o)
{
	struct flow *flows = xcalloc(o->flows, sizeof(*flows));
	struct keyset ks;
	struct hosts hp;
	size_t cap = 16;
	uint32_t n = 0, tries = 0;

	while (cap < (size_t)o->flows * 2)
		cap <<= 1;
	ks.h = xcalloc(cap, sizeof(*ks.h));
	ks.idx = xcalloc(cap, sizeof(*ks.idx));
	ks.mask = cap - 1;
	hosts_init(&hp, r, o->flows);
	while (n < o->flows) {
		if (++tries > o->flows * 100u + 1000u) {
			fprintf(stderr, "pcapgen: cannot make %" PRIu32
			    " distinct flows\n", o->flows);
			exit(1);
		}
		if (n > 0 && rng_range(r, 0, 1) == 0)
			flow_reverse(&flows[n], &flows[rng_range(r, 0, n - 1)]);
		else
			flow_random(&flows[n], r, &hp, o);
		if (keyset_add(&ks, flows, n))
			n++;
	}
	for (uint32_t i = o->flows - 1; i > 0; i--) {	/* Fisher-Yates */
		uint32_t j = rng_range(r, 0, i);
		struct flow t = flows[i];

		flows[i] = flows[j];
		flows[j] = t;
	}
	free(ks.h); free(ks.idx); free(hp.v4); free(hp.v6);
	return flows;
}

/* Zipf CDF over ranks 1..F: P(k) ~ 1/k^s.  Sampled by binary search. */
static double *zipf_cdf(uint32_t n, double s)
{
	double *cdf = xcalloc(n, sizeof(*cdf)), sum = 0;

	for (uint32_t k = 0; k < n; k++) {
		sum += 1.0 / pow((double)k + 1, s);
		cdf[k] = sum;
	}
	for (uint32_t k = 0; k < n; k++)
		cdf[k] /= sum;
	return cdf;
}

static uint32_t zipf_pick(const double *cdf, uint32_t n, double u)
{
	uint32_t lo = 0, hi = n - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- packet building ---------------------------------------------------- */

static inline void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint16_t ip_cksum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IP total length from the bimodal size mix, at least `min`. */
static uint32_t pick_ip_len(struct rng *r, uint32_t min)
{
	uint32_t p = rng_range(r, 0, 99), len;

	if (p < 45)
		len = rng_range(r, 40, 120);
	else if (p < 80)
		len = rng_range(r, 1400, PCAPGEN_MTU);
	else
		len = rng_range(r, 121, 1399);
	return len < min ? min : len;
}

static uint8_t pick_tcp_flags(struct rng *r)
{
	static const uint8_t mix[] = {
		0x02, 0x12, 0x10, 0x10, 0x10, 0x10, 0x18, 0x18, 0x18, 0x11,
	};

	return mix[rng_range(r, 0, sizeof(mix) - 1)];
}

/* Ethernet + tags; returns the offset of the L3 header. */
static size_t put_l2(uint8_t *b, const struct flow *f)
{
	size_t off = 12;

	memcpy(b, f->dmac, 6);
	memcpy(b + 6, f->smac, 6);
	if (f->vlan && f->cvlan) {		/* QinQ: outer tag + inner tag */
		put16(b + off, 0x8100);
		put16(b + off + 2, (uint32_t)f->cos << 13 | f->vlan);
		put16(b + off + 4, 0x8100);
		put16(b + off + 6, (uint32_t)f->cos << 13 | f->cvlan);
		off += 8;
	} else if (f->vlan) {
		put16(b + off, 0x8100);
		put16(b + off + 2, (uint32_t)f->cos << 13 | f->vlan);
		off += 4;
	}
	put16(b + off, f->fam == FAM_V4 ? 0x0800 : 0x86dd);
	return off + 2;
}

/* IPv4 header (20 bytes).  frag_off in 8-byte units. */
static void put_ipv4(uint8_t *p, const struct flow *f, uint32_t tot_len,
    uint16_t id, bool mf, uint32_t frag_off)
{
	p[0] = 0x45; p[1] = f->tos;
	put16(p + 2, tot_len);
	put16(p + 4, id);
	put16(p + 6, (mf ? 0x2000u : 0) | frag_off);
	p[8] = 64; p[9] = f->proto;
	put16(p + 10, 0);
	memcpy(p + 12, f->src, 4);
	memcpy(p + 16, f->dst, 4);
	put16(p + 10, ip_cksum(p, 20));
}

static void put_ipv6(uint8_t *p, const struct flow *f, uint32_t plen)
{
	put32(p, 6u << 28 | (uint32_t)f->tos << 20 | (f->ip_id & 0xfffff));
	put16(p + 4, plen);
	p[6] = f->proto; p[7] = 64;
	memcpy(p + 8, f->src, 16);
	memcpy(p + 24, f->dst, 16);
}

/* L4 header; returns its length.  Fills flow's OR of TCP flags. */
static size_t put_l4(uint8_t *p, struct flow *f, struct rng *r,
    uint32_t l4_len)
{
	switch (f->proto) {
	case P_TCP: {
		uint8_t fl = pick_tcp_flags(r);

		put16(p, f->sport); put16(p + 2, f->dport);
		put32(p + 4, (uint32_t)rng_next(r));
		put32(p + 8, fl & 0x10 ? (uint32_t)rng_next(r) : 0);
		p[12] = 5 << 4; p[13] = fl;
		put16(p + 14, 65535); put16(p + 16, 0); put16(p + 18, 0);
		f->tcp_flags |= fl;
		return 20;
	}
	case P_UDP:
		put16(p, f->sport); put16(p + 2, f->dport);
		put16(p + 4, l4_len); put16(p + 6, 0);
		return 8;
	default:		/* ICMP echo request/reply, ICMPv6 likewise */
		p[0] = f->proto == P_ICMP ? (f->ip_id & 1 ? 8 : 0) :
		    (f->ip_id & 1 ? 128 : 129);
		p[1] = 0;
		put16(p + 2, 0); put16(p + 4, f->ip_id); put16(p + 6, 1);
		return 8;
	}
}

struct writer {
	FILE *fp;
	uint32_t snaplen;
	uint64_t t0_us, span_us, n, i;
	uint64_t frames_cut;
};

static void wr_u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void write_global_header(struct writer *w)
{
	uint8_t h[24];

	wr_u32le(h, 0xa1b2c3d4);
	h[4] = 2; h[5] = 0; h[6] = 4; h[7] = 0;	/* version 2.4 */
	wr_u32le(h + 8, 0);
	wr_u32le(h + 12, 0);
	wr_u32le(h + 16, w->snaplen);
	wr_u32le(h + 20, 1);			/* LINKTYPE_ETHERNET */
	fwrite(h, 1, sizeof(h), w->fp);
}

/* Emit one frame of wire length `len`; timestamp from the packet index. */
static void write_frame(struct writer *w, uint8_t *frame, size_t len)
{
	uint64_t ts = w->t0_us + (w->n > 1 ? w->span_us * w->i / (w->n - 1) : 0);
	uint8_t h[16];
	size_t cap;

	if (len < 60) {				/* Ethernet minimum, no FCS */
		memset(frame + len, 0, 60 - len);
		len = 60;
	}
	cap = len < w->snaplen ? len : w->snaplen;
	if (cap < len)
		w->frames_cut++;
	wr_u32le(h, (uint32_t)(ts / 1000000));
	wr_u32le(h + 4, (uint32_t)(ts % 1000000));
	wr_u32le(h + 8, (uint32_t)cap);
	wr_u32le(h + 12, (uint32_t)len);
	fwrite(h, 1, sizeof(h), w->fp);
	fwrite(frame, 1, cap, w->fp);
	w->i++;
}

/* Fill bytes after the headers (only up to what is captured matters). */
static void fill_payload(uint8_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed >> ((i & 7) * 8)) ^ (uint8_t)i;
}

struct totals {
	uint64_t packets, bytes, fragments, frames_tagged;
	uint64_t proto_pk[256], proto_by[256];
	uint64_t fam_pk[2], fam_by[2];
};

static void count(struct totals *t, struct flow *f, uint32_t ip_len)
{
	f->packets++; f->bytes += ip_len;
	t->packets++; t->bytes += ip_len;
	t->proto_pk[f->proto]++; t->proto_by[f->proto] += ip_len;
	t->fam_pk[f->fam == FAM_V6]++; t->fam_by[f->fam == FAM_V6] += ip_len;
	if (f->vlan)
		t->frames_tagged++;
}

/*
 * A fragmented UDP datagram: `nfrag` fragments of at most MTU bytes, the
 * first with the UDP header.  Returns the number of packets written.
 */
static uint64_t emit_fragments(struct writer *w, struct totals *t,
    struct flow *f, struct rng *r, uint8_t *frame, uint32_t nfrag)
{
	const uint32_t per = (PCAPGEN_MTU - 20) & ~7u;	/* 1480 */
	uint32_t last = rng_range(r, 8, per);		/* data in last frag */
	uint32_t udp_len = per * (nfrag - 1) + last;	/* UDP hdr+data */
	uint16_t id = f->ip_id++;

	for (uint32_t k = 0; k < nfrag; k++) {
		size_t l3 = put_l2(frame, f);
		uint32_t data = k + 1 < nfrag ? per : last;
		uint32_t tot = 20 + data;

		put_ipv4(frame + l3, f, tot, id, k + 1 < nfrag, k * per / 8);
		if (k == 0) {
			put_l4(frame + l3 + 20, f, r, udp_len);
			fill_payload(frame + l3 + 28, data - 8, id);
		} else {
			fill_payload(frame + l3 + 20, data, id + k);
		}
		write_frame(w, frame, l3 + tot);
		count(t, f, tot);
		t->fragments++;
	}
	return nfrag;
}

/* One ordinary packet of flow f. */
static void emit_packet(struct writer *w, struct totals *t, struct flow *f,
    struct rng *r, uint8_t *frame)
{
	size_t l3 = put_l2(frame, f), ipl = f->fam == FAM_V4 ? 20 : 40, l4;
	uint32_t l4min = f->proto == P_TCP ? 20 : 8;
	uint32_t len = pick_ip_len(r, (uint32_t)ipl + l4min);

	if (f->fam == FAM_V4)
		put_ipv4(frame + l3, f, len, f->ip_id++, false, 0);
	else
		put_ipv6(frame + l3, f, len - 40);
	l4 = put_l4(frame + l3 + ipl, f, r, len - (uint32_t)ipl);
	fill_payload(frame + l3 + ipl + l4, len - ipl - l4, rng_next(r));
	write_frame(w, frame, l3 + len);
	count(t, f, len);
}

/* ---- tallies ------------------------------------------------------------- */

static const char *proto_name(unsigned p)
{
	switch (p) {
	case P_ICMP: return "icmp";
	case P_TCP: return "tcp";
	case P_UDP: return "udp";
	case P_ICMP6: return "ipv6-icmp";
	default: return "other";
	}
}

static void addr_str(const struct flow *f, const uint8_t *a, char *s, size_t n)
{
	if (f->fam == FAM_V4) {
		snprintf(s, n, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		return;
	}
	/* RFC 5952 text: longest run (>= 2) of zero groups becomes "::". */
	uint16_t g[8];
	int best = -1, bestlen = 0;
	size_t o = 0;

	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen && j - i >= 2) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			o += (size_t)snprintf(s + o, n - o, "::");
			i += bestlen - 1;
			continue;
		}
		o += (size_t)snprintf(s + o, n - o, "%s%x",
		    (i > 0 && i != best + bestlen) ? ":" : "", g[i]);
	}
}

static void mac_str(const uint8_t *m, char *s, size_t n)
{
	snprintf(s, n, "%02x:%02x:%02x:%02x:%02x:%02x",
	    m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int write_tallies(const char *path, const struct opts *o,
    const struct flow *flows, const struct totals *t, const struct writer *w)
{
	FILE *fp = fopen(path, "w");
	bool first = true;

	if (fp == NULL) {
		fprintf(stderr, "pcapgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(fp, "{\n  \"generator\": \"pcapgen\",\n  \"seed\": %" PRIu64
	    ",\n  \"snaplen\": %" PRIu32 ",\n  \"flows_defined\": %" PRIu32
	    ",\n  \"first_ts\": %u,\n  \"duration\": %.6f,\n", o->seed,
	    o->snaplen, o->flows, PCAPGEN_BASE_TIME, o->duration);
	fprintf(fp, "  \"packets\": %" PRIu64 ",\n  \"bytes\": %" PRIu64
	    ",\n  \"fragments\": %" PRIu64 ",\n  \"frames_tagged\": %" PRIu64
	    ",\n  \"frames_truncated\": %" PRIu64 ",\n", t->packets, t->bytes,
	    t->fragments, t->frames_tagged, w->frames_cut);
	fprintf(fp, "  \"by_family\": {\"ipv4\": {\"packets\": %" PRIu64
	    ", \"bytes\": %" PRIu64 "}, \"ipv6\": {\"packets\": %" PRIu64
	    ", \"bytes\": %" PRIu64 "}},\n", t->fam_pk[0], t->fam_by[0],
	    t->fam_pk[1], t->fam_by[1]);
	fprintf(fp, "  \"by_proto\": {");
	for (unsigned p = 0; p < 256; p++) {
		if (t->proto_pk[p] == 0)
			continue;
		fprintf(fp, "%s\"%u\": {\"name\": \"%s\", \"packets\": %" PRIu64
		    ", \"bytes\": %" PRIu64 "}", first ? "" : ", ", p,
		    proto_name(p), t->proto_pk[p], t->proto_by[p]);
		first = false;
	}
	fprintf(fp, "},\n  \"flows\": [\n");
	first = true;
	for (uint32_t i = 0; i < o->flows; i++) {
		const struct flow *f = &flows[i];
		char s[64], d[64], sm[20], dm[20];

		if (f->packets == 0)
			continue;
		addr_str(f, f->src, s, sizeof(s));
		addr_str(f, f->dst, d, sizeof(d));
		mac_str(f->smac, sm, sizeof(sm));
		mac_str(f->dmac, dm, sizeof(dm));
		fprintf(fp, "%s    {\"src\": \"%s\", \"dst\": \"%s\", \"sport\": %u"
		    ", \"dport\": %u, \"proto\": %u, \"packets\": %" PRIu64
		    ", \"bytes\": %" PRIu64 ", \"tcp_flags\": %u, \"tos\": %u"
		    ", \"vlan\": %u, \"cvlan\": %u, \"cos\": %u"
		    ", \"src_mac\": \"%s\", \"dst_mac\": \"%s\"}",
		    first ? "" : ",\n", s, d, f->sport, f->dport, f->proto,
		    f->packets, f->bytes, f->tcp_flags, f->tos, f->vlan,
		    f->cvlan, f->cos, sm, dm);
		first = false;
	}
	fprintf(fp, "\n  ]\n}\n");
	if (fclose(fp) != 0) {
		fprintf(stderr, "pcapgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- main ---------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
	    "usage: pcapgen [-n packets] [-f flows] [-s seed] [-S snaplen]\n"
	    "               [-d duration_secs] -o out.pcap [-t tallies.json]\n"
	    "               [-z zipf_exponent] [--no-icmp] [--no-frag] [--v4-only]\n"
	    "defaults: -n 1000000 -f 20000 -s 1 -S 128 -d 60 -z 1.1 (-z 0: uniform popularity)\n");
	exit(2);
}

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0') {
		fprintf(stderr, "pcapgen: bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "no-icmp", no_argument, NULL, 'I' },
		{ "no-frag", no_argument, NULL, 'F' },
		{ "v4-only", no_argument, NULL, '4' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .packets = 1000000, .flows = 20000, .seed = 1,
	    .snaplen = 128, .duration = 60, .zipf = PCAPGEN_ZIPF_S };
	while ((c = getopt_long(argc, argv, "n:f:s:S:d:o:t:z:h", lo, NULL)) != -1) {
		switch (c) {
		case 'n': o->packets = parse_u64(optarg, "packet count"); break;
		case 'f': o->flows = (uint32_t)parse_u64(optarg, "flow count"); break;
		case 's': o->seed = parse_u64(optarg, "seed"); break;
		case 'S': o->snaplen = (uint32_t)parse_u64(optarg, "snaplen"); break;
		case 'd': o->duration = strtod(optarg, NULL); break;
		case 'z': o->zipf = strtod(optarg, NULL); break;
		case 'o': o->out = optarg; break;
		case 't': o->tallies = optarg; break;
		case 'I': o->no_icmp = true; break;
		case 'F': o->no_frag = true; break;
		case '4': o->v4_only = true; break;
		default: usage();
		}
	}
	if (o->out == NULL || optind != argc || o->flows == 0 ||
	    o->snaplen < 64 || o->snaplen > 65535 || !(o->duration >= 0) || !(o->zipf >= 0))
		usage();
}

int main(int argc, char **argv)
{
	static uint8_t frame[PCAPGEN_MAX_FRAME + 64];
	struct opts o;
	struct rng r;
	struct writer w;
	struct totals *t = xcalloc(1, sizeof(*t));
	struct flow *flows;
	double *cdf;
	int rc = 0;

	parse_opts(argc, argv, &o);
	rng_init(&r, o.seed);
	flows = flows_build(&r, &o);
	cdf = zipf_cdf(o.flows, o.zipf);

	memset(&w, 0, sizeof(w));
	w.fp = fopen(o.out, "wb");
	if (w.fp == NULL) {
		fprintf(stderr, "pcapgen: %s: %s\n", o.out, strerror(errno));
		return 1;
	}
	setvbuf(w.fp, NULL, _IOFBF, 1 << 20);
	w.snaplen = o.snaplen;
	w.t0_us = (uint64_t)PCAPGEN_BASE_TIME * 1000000;
	w.span_us = (uint64_t)(o.duration * 1e6);
	w.n = o.packets;
	write_global_header(&w);

	while (t->packets < o.packets) {
		struct flow *f = &flows[zipf_pick(cdf, o.flows, rng_unit(&r))];
		uint64_t left = o.packets - t->packets;

		if (!o.no_frag && f->fam == FAM_V4 && f->proto == P_UDP &&
		    left >= 2 && rng_range(&r, 0, 99) < 4) {
			uint32_t nfrag = rng_range(&r, 2, 4);

			if (nfrag > left)
				nfrag = (uint32_t)left;
			emit_fragments(&w, t, f, &r, frame, nfrag);
		} else {
			emit_packet(&w, t, f, &r, frame);
		}
	}
	if (fflush(w.fp) != 0 || ferror(w.fp) || fclose(w.fp) != 0) {
		fprintf(stderr, "pcapgen: %s: write error\n", o.out);
		rc = 1;
	}
	if (rc == 0 && o.tallies != NULL &&
	    write_tallies(o.tallies, &o, flows, t, &w) != 0)
		rc = 1;
	free(cdf);
	free(flows);
	free(t);
	return rc;
}
