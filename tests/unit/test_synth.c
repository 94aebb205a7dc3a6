/* SPDX-License-Identifier: BSD-3-Clause */
/* test_synth.c: synth_frame() byte by byte, and BPF filters matching the frames it builds. */
#include <pcap/pcap.h>
#include <string.h>

#include "pipeline/synth.h"
#include "tap.h"

#include "frec.h"

static unsigned be16(const uint8_t *p) { return (unsigned)(p[0] << 8 | p[1]); }

/* Does the BPF expression match frame[0..n) with header h (DLT_EN10MB)? -1 if it does not compile. */
static int bpf_match(const char *expr, const uint8_t *frame, const struct pcap_pkthdr *h)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	struct bpf_program prog;
	int m = -1;

	if (p != NULL && pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == 0) {
		m = pcap_offline_filter(&prog, h, frame) != 0;
		pcap_freecode(&prog);
	}
	if (p != NULL)
		pcap_close(p);
	return m;
}

static struct flow_rec v4_tcp(void)
{
	struct flow_rec r = frec_v4(1, 2);

	memcpy(r.k.src_mac, "\x00\x11\x22\x33\x44\x55", 6);
	memcpy(r.k.dst_mac, "\x66\x77\x88\x99\xaa\xbb", 6);
	r.k.vlan = 20;
	r.k.cos = 5;
	r.k.proto = 6;
	r.k.tos = 0x10;
	r.k.src_port = 1234;
	r.k.dst_port = 80;
	r.tcp_flags = 0x12;
	r.bytes = 3000;
	r.packets = 2;
	r.ts.sec = 1700000000;
	r.ts.usec = 5;
	return r;
}

static void test_v4_tcp_vlan(void)
{
	struct flow_rec r = v4_tcp();
	uint8_t f[SYNTH_MAX];
	struct pcap_pkthdr h;
	size_t n = synth_frame(&r, f, &h);

	is_int(n, 14 + 4 + 20 + 20, "v4 TCP with VLAN: Ethernet, 802.1Q, IPv4, TCP");
	is_int(h.caplen, n, "caplen");
	is_int(h.len, n, "len");
	is_int(h.ts.tv_sec, 1700000000, "timestamp seconds");
	is_int(h.ts.tv_usec, 5, "timestamp microseconds");
	ok(memcmp(f, r.k.dst_mac, 6) == 0 && memcmp(f + 6, r.k.src_mac, 6) == 0, "MACs");
	is_int(be16(f + 12), 0x8100, "802.1Q tag");
	is_int(be16(f + 14), 5 << 13 | 20, "CoS and VLAN id");
	is_int(be16(f + 16), 0x0800, "IPv4 ethertype");
	is_int(f[18], 0x45, "IPv4, IHL 5");
	is_int(f[19], 0x10, "ToS");
	is_int(be16(f + 20), 1500, "total length: bytes per packet");
	is_int(f[27], 6, "protocol");
	ok(memcmp(f + 30, r.k.src_ip.a, 4) == 0 && memcmp(f + 34, r.k.dst_ip.a, 4) == 0, "addresses");
	is_int(be16(f + 38), 1234, "source port");
	is_int(be16(f + 40), 80, "destination port");
	is_int(f[50], 5 << 4, "TCP data offset 5");
	is_int(f[51], 0x12, "TCP flags");
	is_int(bpf_match("vlan 20 and tcp and src host 10.0.0.1 and dst port 80", f, &h), 1,
	    "BPF: vlan, tcp, host, port");
	is_int(bpf_match("vlan 20 and tcp[tcpflags] & tcp-syn != 0", f, &h), 1, "BPF: TCP flags");
	is_int(bpf_match("vlan 20 and ip[1] = 0x10 and ip[2:2] = 1500", f, &h), 1, "BPF: ToS and length");
	is_int(bpf_match("vlan 20 and udp", f, &h), 0, "BPF: not UDP");
	is_int(bpf_match("vlan 21", f, &h), 0, "BPF: not VLAN 21");
}

static void test_v6_udp(void)
{
	struct flow_rec r = v4_tcp();
	uint8_t f[SYNTH_MAX];
	struct pcap_pkthdr h;

	r.k.vlan = 0;
	r.k.proto = 17;
	r.k.src_ip = (struct fr_ip){ .af = 6, .a = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	r.k.dst_ip = (struct fr_ip){ .af = 6, .a = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } };
	r.k.src_port = 53;
	r.bytes = 100;
	r.packets = 1;
	size_t n = synth_frame(&r, f, &h);
	is_int(n, 14 + 40 + 8, "v6 UDP: Ethernet, IPv6, UDP");
	is_int(be16(f + 12), 0x86dd, "IPv6 ethertype");
	is_int(f[14], 0x61, "version 6, traffic class high nibble");
	is_int(f[15], 0x00, "traffic class low nibble");
	is_int(be16(f + 18), 60, "payload length: bytes less the IPv6 header");
	is_int(f[20], 17, "next header");
	is_int(f[21], 64, "hop limit");
	ok(memcmp(f + 22, r.k.src_ip.a, 16) == 0 && memcmp(f + 38, r.k.dst_ip.a, 16) == 0, "addresses");
	is_int(be16(f + 54), 53, "source port");
	is_int(be16(f + 58), 8, "UDP length");
	is_int(bpf_match("ip6 and udp src port 53 and dst host 2001:db8::2", f, &h), 1, "BPF: v6 UDP");
	is_int(bpf_match("ip", f, &h), 0, "BPF: not IPv4");
}

static void test_no_l4_and_clamps(void)
{
	struct flow_rec r = v4_tcp();
	uint8_t f[SYNTH_MAX];
	struct pcap_pkthdr h;

	r.k.vlan = 0;
	r.k.proto = 1;
	size_t n = synth_frame(&r, f, &h);
	is_int(n, 14 + 20, "ICMP: no L4 header");
	is_int(bpf_match("icmp and host 10.0.0.2", f, &h), 1, "BPF: icmp");

	r.k.proto = 6;
	r.bytes = 10;
	r.packets = 1;
	synth_frame(&r, f, &h);
	is_int(be16(f + 16), 40, "IPv4 length raised to the headers");
	r.bytes = 1000000;
	synth_frame(&r, f, &h);
	is_int(be16(f + 16), 0xffff, "IPv4 length clamped to 65535");
	r.packets = 0;
	synth_frame(&r, f, &h);
	is_int(be16(f + 16), 40, "no packets: the headers' length");
	r.k.src_ip.af = 6;
	r.packets = 1;
	r.bytes = 1000000;
	synth_frame(&r, f, &h);
	is_int(be16(f + 18), 0xffff - 40, "IPv6 payload length clamped");
}

int main(void)
{
	test_v4_tcp_vlan();
	test_v6_udp();
	test_no_l4_and_clamps();
	return tap_done();
}
