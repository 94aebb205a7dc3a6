/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_enrich_bench.c: micro-benchmark of the BGP correlation: ns per record against one peer's table of N IPv4 prefixes. */
#include <arpa/inet.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/bgp_msg.h"
#include "maps/bgp_rib.h"
#include "pipeline/bgp_enrich.h"
#include "../tests/unit/xorshift.h"

#define NATTR 1000

static uint64_t s = 0x243F6A8885A308D3ULL;

static uint64_t rnd(void)
{
	return xorshift64(&s);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A BGP-like length mix: ~60% /24, the rest /8../23. */
static unsigned plen(void)
{
	unsigned r = (unsigned)(rnd() % 100);

	return r < 60 ? 24 : 8 + (unsigned)(rnd() % 16);
}

/* Attribute set i: an AS path of 1-6 ASNs, 0-6 communities, LOCAL_PREF, MED, a next hop. */
static size_t attrs_bytes(int i, uint8_t *b)
{
	size_t n = 0;
	int npath = 1 + i % 6, ncomm = i % 7;

	b[n++] = 0x40, b[n++] = 1, b[n++] = 1, b[n++] = 0;
	b[n++] = 0x40, b[n++] = 2, b[n++] = (uint8_t)(2 + 4 * npath);
	b[n++] = 2, b[n++] = (uint8_t)npath;
	for (int k = 0; k < npath; k++) {
		uint32_t as = 64512u + (uint32_t)((i * 7 + k * 131) % 1000);
		b[n++] = (uint8_t)(as >> 24), b[n++] = (uint8_t)(as >> 16), b[n++] = (uint8_t)(as >> 8), b[n++] = (uint8_t)as;
	}
	b[n++] = 0x40, b[n++] = 3, b[n++] = 4, b[n++] = 192, b[n++] = 0, b[n++] = 2, b[n++] = (uint8_t)(1 + i % 200);
	b[n++] = 0x80, b[n++] = 4, b[n++] = 4, b[n++] = 0, b[n++] = 0, b[n++] = 0, b[n++] = (uint8_t)i;
	b[n++] = 0x40, b[n++] = 5, b[n++] = 4, b[n++] = 0, b[n++] = 0, b[n++] = 0, b[n++] = 100;
	if (ncomm) {
		b[n++] = 0xc0, b[n++] = 8, b[n++] = (uint8_t)(4 * ncomm);
		for (int k = 0; k < ncomm; k++)
			b[n++] = 0xfd, b[n++] = 0xe8, b[n++] = (uint8_t)(k >> 8), b[n++] = (uint8_t)(i + k);
	}
	return n;
}

struct one {
	struct bgp_attrs *a;
};

static void grab(void *arg, const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	(void)arg, (void)n, (void)a;
}

int main(int argc, char **argv)
{
	size_t nprefix = argc > 1 ? strtoul(argv[1], NULL, 10) : 500000;
	size_t nrec = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000000;
	static struct bgp_attrs attrs[NATTR];
	static uint8_t bodies[NATTR][256];
	struct bgp_session sess = { .as4 = true };
	struct bgp_rib *rib = bgp_rib_new(NULL);
	struct bgp_peer_id id = { .addr = { BGP_AFI_IPV4, { 192, 0, 2, 1 } }, .bgp_id = 0xc0000201, .as = 65001 };
	struct bgp_error err;
	uint32_t *pfx = malloc(nprefix * sizeof(*pfx));
	double t0, t1;

	/* the attribute sets, decoded from their bytes (the UPDATE buffers stay: communities point in) */
	for (int i = 0; i < NATTR; i++) {
		uint8_t *b = bodies[i];
		size_t alen = attrs_bytes(i, b + 4);
		b[0] = 0, b[1] = 0, b[2] = (uint8_t)(alen >> 8), b[3] = (uint8_t)alen;
		if (bgp_decode_update(b, 4 + alen, &sess, &attrs[i], grab, NULL, &err) != BGP_ACT_OK) {
			fprintf(stderr, "attribute set %d does not decode: %s\n", i, err.why);
			return 1;
		}
	}
	bgp_rib_wrlock(rib);
	int peer = bgp_rib_peer_add(rib, &id);
	t0 = now();
	for (size_t i = 0; i < nprefix; i++) {
		struct bgp_nlri n = { .afi = BGP_AFI_IPV4, .safi = BGP_SAFI_UNICAST };
		unsigned l = plen();
		uint32_t v = (uint32_t)rnd() & (l ? ~0u << (32 - l) : 0);
		pfx[i] = v | (uint32_t)(rnd() & ~(l ? ~0u << (32 - l) : 0));	/* an address inside */
		n.plen = (uint8_t)l;
		for (int k = 0; k < 4; k++)
			n.addr[k] = (uint8_t)(v >> (24 - 8 * k));
		bgp_rib_apply(rib, peer, &n, &attrs[rnd() % NATTR]);
	}
	t1 = now();
	bgp_rib_unlock(rib);
	struct bgp_rib_stats st;
	bgp_rib_stats(rib, &st);
	printf("RIB: %zu routes, %zu attribute sets, %.1f MiB, built in %.2f s\n", st.routes, st.attrs,
	    (double)st.bytes / 1048576.0, t1 - t0);

	struct core_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.daemon = CFG_NFACCTD;
	cfg.as_source = "bgp";
	cfg.net_source = "bgp";
	cfg.bgp.daemon = true;
	struct bgp_enrich_need typical = { .as_path = true, .std_comm = true, .local_pref = true,
		.med = true, .dst_as = true, .src_as = true, .peer_dst_as = true, .peer_dst_ip = true,
		.dst_net = true, .src_net = true };
	struct bgp_enrich_need dst_only = { .as_path = true, .dst_as = true };
	struct { const char *name; struct bgp_enrich_need *need; bool rib, local; } runs[] = {
		{ "typical (as_path std_comm local_pref med src/dst_as peer_dst_as/ip src/dst_net)", &typical, true, false },
		{ "as_path + dst_as only", &dst_only, true, false },
		{ "no RIB (the BGP block zeroed)", &typical, false, false },
		{ "typical, local traffic (Zipf over 50000 flows)", &typical, true, true },
		{ "as_path + dst_as only, local traffic", &dst_only, true, true },
	};
	/* local traffic: flows drawn log-uniformly (Zipf, s = 1) from a pool, as real links carry them */
	enum { POOL = 50000 };
	uint32_t (*pool)[2] = malloc(POOL * sizeof(*pool));
	for (int i = 0; i < POOL; i++) {
		pool[i][0] = rnd() % 4 ? pfx[rnd() % nprefix] : (uint32_t)rnd();
		pool[i][1] = rnd() % 4 ? pfx[rnd() % nprefix] : (uint32_t)rnd();
	}
	struct flow_rec *recs = calloc(4096, sizeof(*recs));
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		int e_err = 0;
		struct bgp_enrich *e = bgp_enrich_new(&cfg, runs[r].need, 1, 128, &e_err);
		bgp_enrich_set_rib(e, runs[r].rib ? rib : NULL);
		uint64_t hits = 0;
		double spent = 0;
		for (size_t done = 0; done < nrec; done += 4096) {
			/* records: destinations and sources inside announced prefixes (3 in 4) or anywhere */
			for (int i = 0; i < 4096; i++) {
				struct flow_key *k = &recs[i].k;
				uint32_t d, sa;
				if (runs[r].local) {
					double u = (double)(rnd() >> 11) / 9007199254740992.0;
					size_t f = (size_t)pow((double)POOL, u) - 1;
					d = pool[f][0], sa = pool[f][1];
				} else {
					d = rnd() % 4 ? pfx[rnd() % nprefix] : (uint32_t)rnd();
					sa = rnd() % 4 ? pfx[rnd() % nprefix] : (uint32_t)rnd();
				}
				memset(&k->peer_dst_ip, 0, sizeof(k->peer_dst_ip));	/* no BGP next hop exported */
				k->peer_src_ip.af = 4;
				memcpy(k->peer_src_ip.a, id.addr.a, 4);
				k->dst_ip.af = k->src_ip.af = 4;
				d = htonl(d), sa = htonl(sa);
				memcpy(k->dst_ip.a, &d, 4);
				memcpy(k->src_ip.a, &sa, 4);
			}
			t0 = now();
			for (int i = 0; i < 4096; i += 256) {
				bgp_enrich_begin(e);
				for (int j = i; j < i + 256; j++)
					bgp_enrich_record(e, &recs[j], NULL, NULL);
				bgp_enrich_end(e);
			}
			spent += now() - t0;
			for (int i = 0; i < 4096; i++)
				hits += recs[i].k.dst_mask != 0;
		}
		size_t n = (nrec + 4095) / 4096 * 4096;
		printf("%-85s %6.1f ns/record (%.0f%% destinations found)\n", runs[r].name,
		    spent * 1e9 / (double)n, 100.0 * (double)hits / (double)n);
		bgp_enrich_free(e);
	}
	free(recs);
	free(pool);
	free(pfx);
	bgp_rib_free(rib);
	return 0;
}
