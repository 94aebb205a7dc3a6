/* SPDX-License-Identifier: BSD-3-Clause */
/* test_prim_value.c: a primitive's value from text, one parser for the client (-M/-N) and the HTTP API. */
#include <string.h>

#include "model/prim_value.h"
#include "tap.h"

/* The cases the HTTP API's own parser was tested on (strict on invalid input). */
static void test_http_cases(void)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	ok(prim_value_parse(prim_desc_of(NULL, P_SRC_HOST), "10.1.2.3", &k) == 0 && k.src_ip.af == 4 &&
	    k.src_ip.a[3] == 3, "IPv4");
	ok(prim_value_parse(prim_desc_of(NULL, P_DST_HOST), "2001:db8::1", &k) == 0 && k.dst_ip.af == 6,
	    "IPv6");
	ok(prim_value_parse(prim_desc_of(NULL, P_SRC_HOST), "10.1.2", &k) < 0, "bad IP");
	ok(prim_value_parse(prim_desc_of(NULL, P_DST_PORT), "443", &k) == 0 && k.dst_port == 443, "port");
	ok(prim_value_parse(prim_desc_of(NULL, P_DST_PORT), "65536", &k) < 0, "port too big");
	ok(prim_value_parse(prim_desc_of(NULL, P_DST_PORT), "-1", &k) < 0, "negative");
	ok(prim_value_parse(prim_desc_of(NULL, P_DST_PORT), "80x", &k) < 0, "trailing junk");
	ok(prim_value_parse(prim_desc_of(NULL, P_PROTO), "udp", &k) == 0 && k.proto == 17, "proto name");
	ok(prim_value_parse(prim_desc_of(NULL, P_PROTO), "6", &k) == 0 && k.proto == 6, "proto number");
	ok(prim_value_parse(prim_desc_of(NULL, P_PROTO), "nope", &k) < 0, "bad proto");
	ok(prim_value_parse(prim_desc_of(NULL, P_SRC_MAC), "00:11:22:33:44:ff", &k) == 0 &&
	    k.src_mac[5] == 0xff, "MAC");
	ok(prim_value_parse(prim_desc_of(NULL, P_SRC_MAC), "00:11:22:33:44", &k) < 0, "short MAC");
}

/* Values the client has always read, in the forms it prints them. */
static void test_client_forms(void)
{
	static const uint8_t rd0[8] = { 0, 0, 0xfd, 0xe8, 0, 0, 0, 42 };
	static const uint8_t vrf[8] = { 0x10, 0, 0, 0, 0, 0, 0x01, 0x02 };
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	ok(prim_value_parse(prim_desc_of(NULL, P_TAG), "18446744073709551615", &k) == 0 &&
	    k.tag == UINT64_MAX, "tag: 64 bits");
	ok(prim_value_parse(prim_desc_of(NULL, P_IN_IFACE), "4294967295", &k) == 0 &&
	    k.in_iface == UINT32_MAX, "in_iface: 32 bits");
	ok(prim_value_parse(prim_desc_of(NULL, P_IN_IFACE), "4294967296", &k) < 0, "in_iface: over 32 bits");
	ok(prim_value_parse(prim_desc_of(NULL, P_ETYPE), "86dd", &k) == 0 && k.etype == 0x86dd, "etype: hex");
	ok(prim_value_parse(prim_desc_of(NULL, P_ETYPE), "0x800", &k) == 0 && k.etype == 0x800,
	    "etype: hex with 0x");
	ok(prim_value_parse(prim_desc_of(NULL, P_SRC_MAC), "0:1:2:a:b:c", &k) == 0 && k.src_mac[5] == 0xc,
	    "MAC: one-digit groups, as sscanf read them");
	ok(prim_value_parse(prim_desc_of(NULL, P_PROTO), "TCP", &k) == 0 && k.proto == 6, "proto: any case");
	ok(prim_value_parse(prim_desc_of(NULL, P_PROTO), "300", &k) < 0, "proto: 300");
	ok(prim_value_parse(prim_desc_of(NULL, P_DST_PORT), " 53", &k) == 0 && k.dst_port == 53,
	    "a leading blank, as strtoull skipped it");
	ok(prim_value_parse(prim_desc_of(NULL, P_LABEL), "blue", &k) == 0 && strcmp(k.label, "blue") == 0,
	    "label: text");
	ok(prim_value_parse(prim_desc_of(NULL, P_TS_START), "1700000000.123456", &k) == 0 &&
	    k.ts_start.sec == 1700000000 && k.ts_start.usec == 123456, "timestamp sec.usec");
	ok(prim_value_parse(prim_desc_of(NULL, P_TS_START), "1700000000", &k) == 0 &&
	    k.ts_start.sec == 1700000000 && k.ts_start.usec == 0, "timestamp sec");
	ok(prim_value_parse(prim_desc_of(NULL, P_TS_START), "17x", &k) < 0, "timestamp: junk");
	ok(prim_value_parse(prim_desc_of(NULL, P_TS_START), "1.1234567", &k) < 0, "timestamp: over 999999 us");
	ok(prim_value_parse(prim_desc_of(NULL, P_FWD_STATUS), "64", &k) == 0 && k.fwd_status == 64,
	    "fwd_status");
	ok(prim_value_parse(prim_desc_of(NULL, P_FWD_STATUS), "256", &k) < 0, "fwd_status: over 255");
	ok(prim_value_parse(prim_desc_of(NULL, P_MPLS_VPN_RD), "0:65000:42", &k) == 0 &&
	    memcmp(k.mpls_vpn_rd, rd0, 8) == 0, "RD type 0");
	ok(prim_value_parse(prim_desc_of(NULL, P_MPLS_VPN_RD), "vrfid:258", &k) == 0 &&
	    memcmp(k.mpls_vpn_rd, vrf, 8) == 0, "RD of a VRF id without one");
	ok(prim_value_parse(prim_desc_of(NULL, P_MPLS_VPN_RD), "vrfid:", &k) < 0, "vrfid without a number");
	ok(prim_value_parse(prim_desc_of(NULL, P_MPLS_VPN_RD), "0:65000", &k) < 0, "RD in two parts");
	ok(prim_value_parse(prim_desc_of(NULL, P_MPLS_VPN_RD_ORIGIN), "bgp", &k) == 0 &&
	    k.mpls_vpn_rd_origin == FR_RD_ORIGIN_BGP, "RD origin");
	ok(prim_value_parse(prim_desc_of(NULL, P_MPLS_VPN_RD_ORIGIN), "BGP", &k) < 0,
	    "RD origin: as printed only");
	ok(prim_value_parse(prim_desc_of(NULL, P_MPLS_LABEL_STACK), "16_17", &k) == 0 &&
	    k.mpls_label_stack.n == 2 && k.mpls_label_stack.label[1] == 17, "MPLS stack");
	ok(prim_value_parse(prim_desc_of(NULL, P_MPLS_LABEL_STACK), "16_", &k) < 0, "MPLS stack: trailing _");
	ok(prim_value_parse(prim_desc_of(NULL, P_MPLS_LABEL_STACK), "1048576", &k) < 0,
	    "MPLS stack: over 20 bits");
	ok(prim_value_parse(prim_desc_of(NULL, P_SRV6_SEG_IPV6_LIST), "0-::1", &k) < 0,
	    "SRv6 lists cannot be matched");
	is_str(prim_value_kind(prim_desc_of(NULL, P_SRC_MAC)), "MAC address", "kind: MAC");
	is_str(prim_value_kind(prim_desc_of(NULL, P_MPLS_VPN_RD)), "route distinguisher", "kind: RD");
}

static void test_rd(void)
{
	uint8_t rd[8];
	static const uint8_t t1[8] = { 0, 1, 192, 0, 2, 1, 0, 7 };
	static const uint8_t t2[8] = { 0, 2, 0xfa, 0x56, 0xea, 0x00, 0, 7 };

	ok(prim_value_parse_rd("1:192.0.2.1:7", rd) == 0 && memcmp(rd, t1, 8) == 0, "type 1 bytes");
	ok(prim_value_parse_rd("2:4200000000:7", rd) == 0 && memcmp(rd, t2, 8) == 0, "type 2 bytes");
	ok(prim_value_parse_rd("1:192.0.2.1:65536", rd) < 0, "type 1 number over 16 bits");
	ok(prim_value_parse_rd("0:-1:1", rd) < 0, "negative");
	is_str(prim_value_rd_origin_text(FR_RD_ORIGIN_MAP), "map", "origin text");
	is_str(prim_value_rd_origin_text(200), "unknown", "origin text out of range");
}

int main(void)
{
	test_http_cases();
	test_client_forms();
	test_rd();
	return tap_done();
}
