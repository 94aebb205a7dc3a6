/* SPDX-License-Identifier: BSD-3-Clause */
/* test_classify.c: nDPI classification of pmacctd's records: names, give-up, the flow table's bounds and expiry. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "decode/packet.h"
#include "pipeline/classify.h"
#include "tap.h"

static const struct classify_opts defaults = {
	.num_roots = 4, .max_flows = 1000, .idle_scan_period = 10, .idle_max_time = 600,
	.idle_scan_budget = 1024, .giveup_tcp = 10, .giveup_udp = 8, .giveup_other = 8,
};

/* Ethernet + IPv4 + UDP or TCP (PSH|ACK) around payload: the frame's length. */
static size_t frame(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, uint8_t tcp_flags, const void *payload, size_t plen)
{
	size_t l4 = proto == 6 ? 20 : 8, n = 14 + 20 + l4 + plen;
	uint16_t tot = (uint16_t)(20 + l4 + plen);

	memset(f, 0, n);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *th = ip + 20;
	ip[0] = 0x45; ip[2] = (uint8_t)(tot >> 8); ip[3] = (uint8_t)tot; ip[8] = 64; ip[9] = proto;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	th[0] = (uint8_t)(sport >> 8); th[1] = (uint8_t)sport;
	th[2] = (uint8_t)(dport >> 8); th[3] = (uint8_t)dport;
	if (proto == 6) {
		th[12] = 5 << 4;
		th[13] = tcp_flags;
		th[14] = 0xff;
	} else {
		th[4] = (uint8_t)((8 + plen) >> 8); th[5] = (uint8_t)(8 + plen);
	}
	memcpy(th + l4, payload, plen);
	return n;
}

/* One frame through decode and the classifier at time t: the class it gets. */
static const char *classify(struct classifier *c, struct flow_rec *r, const uint8_t *f, size_t n,
    int64_t t)
{
	struct pkt_stats st;

	memset(&st, 0, sizeof(st));
	if (pkt_decode(DLT_EN10MB, f, n, n, r, &st) != PKT_DROP_NONE)
		return "(drop)";
	r->ts.sec = t;
	classify_packet(c, r, f, (uint32_t)n);
	return r->k.class_name;
}

static const uint8_t dns_query[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, 0x00, 0x01, 0x00, 0x01,
};

static const char http_get[] = "GET / HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: t\r\n\r\n";

static void test_names(void)
{
	struct classifier *c = classify_new(&defaults);
	struct classify_stats s;
	struct flow_rec r;
	uint8_t f[256];
	size_t n;

	n = frame(f, 17, 0x0a000001, 0x0a000002, 33000, 53, 0, dns_query, sizeof(dns_query));
	is_str(classify(c, &r, f, n, 100), "Unknown/DNS", "DNS query: named on its first packet");
	n = frame(f, 6, 0x0a000003, 0x0a000004, 40000, 80, 0x18, http_get, strlen(http_get));
	is_str(classify(c, &r, f, n, 100), "Unknown/HTTP", "HTTP GET");
	/* the answer direction is the same flow, detection already done */
	n = frame(f, 6, 0x0a000004, 0x0a000003, 80, 40000, 0x18, "x", 1);
	is_str(classify(c, &r, f, n, 101), "Unknown/HTTP", "the other direction: the flow's class");
	classify_get_stats(c, &s);
	is_int(s.flows, 2, "two flows tracked");
	is_int(s.classified, 2, "two classified");

	/* random bytes on an unknown UDP port: unknown, given up after giveup_proto_udp packets */
	uint8_t junk[40];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	int unknown = 0;
	for (int i = 0; i < 10; i++) {
		n = frame(f, 17, 0x0a000005, 0x0a000006, 40001, 40999, 0, junk, sizeof(junk));
		unknown += strcmp(classify(c, &r, f, n, 102), "Unknown/Unknown") == 0;
	}
	is_int(unknown, 10, "undetectable: Unknown/Unknown on every packet");
	classify_get_stats(c, &s);
	is_int(s.gave_up, 1, "given up once");
	classify_free(c);
}

static void test_bounds_expiry(void)
{
	struct classify_opts o = defaults;
	struct classify_stats s;
	struct flow_rec r;
	uint8_t f[256];
	size_t n;

	o.max_flows = 3;
	o.idle_max_time = 30;
	o.idle_scan_budget = 2;
	struct classifier *c = classify_new(&o);
	for (uint16_t i = 0; i < 5; i++) {
		n = frame(f, 17, 0x0a000001, 0x0a000002, (uint16_t)(33000 + i), 53, 0, dns_query,
		    sizeof(dns_query));
		const char *cl = classify(c, &r, f, n, 100);
		if (i < 3)
			is_str(cl, "Unknown/DNS", "flow within classifier_max_flows");
		else
			is_str(cl, "Unknown/Unknown", "flow past classifier_max_flows: unknown");
	}
	classify_get_stats(c, &s);
	is_int(s.flows, 3, "table holds classifier_max_flows flows");
	is_int(s.full, 2, "two packets refused");

	/* 31 s idle, next scan (period 10 s): two expire (budget), then the third */
	n = frame(f, 17, 0x0a000009, 0x0a00000a, 1, 2, 0, "a", 1);
	classify(c, &r, f, n, 131);
	classify_get_stats(c, &s);
	is_int(s.expired, 2, "a scan expires idle_scan_budget flows at most");
	classify(c, &r, f, n, 141);
	classify_get_stats(c, &s);
	is_int(s.expired, 3, "the next scan the rest");
	is_int(s.flows, 1, "only the live flow is left");
	/* a new DNS flow fits again */
	n = frame(f, 17, 0x0a000001, 0x0a000002, 34000, 53, 0, dns_query, sizeof(dns_query));
	is_str(classify(c, &r, f, n, 142), "Unknown/DNS", "room again after expiry");
	classify_free(c);
}

/* TCP FIN ends detection: the flow is given up on at once. */
static void test_fin(void)
{
	struct classifier *c = classify_new(&defaults);
	struct classify_stats s;
	struct flow_rec r;
	uint8_t f[256];
	size_t n = frame(f, 6, 0x0a000001, 0x0a000002, 40000, 9999, 0x11, "zz", 2);

	is_str(classify(c, &r, f, n, 100), "Unknown/Unknown", "FIN without a known payload: unknown");
	classify_get_stats(c, &s);
	is_int(s.gave_up, 1, "FIN: given up");
	classify_free(c);
}

/* classifier_proto_guess: a connection nDPI gave up on is named from its protocol and ports. */
static void test_guess(void)
{
	struct classify_opts o = defaults;
	struct flow_rec r;
	uint8_t f[256], junk[24];
	const char *cl = "";

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(0xa5 ^ (i * 29));
	for (int guess = 0; guess < 2; guess++) {
		o.proto_guess = guess;
		struct classifier *c = classify_new(&o);
		for (int i = 0; i < 10; i++) {
			size_t n = frame(f, 6, 0x0a000001, 0x0a000002, 40000, 22, 0x18, junk, sizeof(junk));
			cl = classify(c, &r, f, n, 100 + i);
		}
		is_str(cl, guess ? "Unknown/SSH" : "Unknown/Unknown", guess ? "guessed from port 22" : "no guess: unknown");
		classify_free(c);
	}
}

int main(void)
{
	test_guess();
	test_names();
	test_bounds_expiry();
	test_fin();
	return tap_done();
}
