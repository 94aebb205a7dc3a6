/* SPDX-License-Identifier: BSD-3-Clause */
/* test_output.c: formatted, CSV and JSON rendering, checked against lines printed by pmacct 1.7.7. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/prim.h"
#include "plugins/output.h"
#include "tap.h"

/* Captured from pmacctd 1.7.7 (print plugin, TZ=UTC) on a scapy-made packet. */
static const char ref_hdr[] =
    "TAG         TAG2        SRC_MAC            DST_MAC            VLAN   COS ETYPE  SRC_IP"
    "                                         DST_IP                                         SRC_PORT"
    "  DST_PORT  TCP_FLAGS  PROTOCOL    TOS    SAMPLING_RATE MPLS_LABEL_TOP  MPLS_LABEL_BOTTOM  "
    "MPLS_STACK_DEPTH  TIMESTAMP_ARRIVAL              PACKETS               BYTES\n";
static const char ref_row[] =
    "5           0           02:fc:00:00:00:01  02:fc:00:00:00:05  10     3   800    10.0.0.1"
    "                                       8.8.8.8                                        5353      "
    "53        0          udp         32     1             0               0                  0"
    "                 2023-11-14 22:13:22.000000     1                     58\n";
static const char ref_csv_hdr[] =
    "TAG,TAG2,SRC_MAC,DST_MAC,VLAN,COS,ETYPE,SRC_IP,DST_IP,SRC_PORT,DST_PORT,TCP_FLAGS,PROTOCOL,TOS,"
    "SAMPLING_RATE,MPLS_LABEL_TOP,MPLS_LABEL_BOTTOM,MPLS_STACK_DEPTH,TIMESTAMP_ARRIVAL,PACKETS,BYTES\n";
static const char ref_csv_row[] =
    "5,0,02:fc:00:00:00:01,02:fc:00:00:00:05,10,3,800,10.0.0.1,8.8.8.8,5353,53,0,udp,32,1,0,0,0,"
    "2023-11-14 22:13:22.000000,1,58\n";
static const char ref_json[] =
    "{\"event_type\": \"purge\", \"tag\": 5, \"tag2\": 0, \"mac_src\": \"02:fc:00:00:00:01\", "
    "\"mac_dst\": \"02:fc:00:00:00:05\", \"vlan\": 10, \"cos\": 3, \"etype\": \"800\", "
    "\"ip_src\": \"10.0.0.1\", \"ip_dst\": \"8.8.8.8\", \"port_src\": 5353, \"port_dst\": 53, "
    "\"tcp_flags\": \"0\", \"ip_proto\": \"udp\", \"tos\": 32, \"sampling_rate\": 1, "
    "\"mpls_label_top\": 0, \"mpls_label_bottom\": 0, \"mpls_stack_depth\": 0, "
    "\"timestamp_arrival\": \"2023-11-14 22:13:22.000000\", \"packets\": 1, \"bytes\": 58}\n";

static void sample(struct flow_key *k)
{
	static const uint8_t smac[6] = { 2, 0xfc, 0, 0, 0, 1 }, dmac[6] = { 2, 0xfc, 0, 0, 0, 5 };
	memset(k, 0, sizeof(*k));
	k->tag = 5;
	memcpy(k->src_mac, smac, 6);
	memcpy(k->dst_mac, dmac, 6);
	k->vlan = 10;
	k->cos = 3;
	k->etype = 0x800;
	k->src_ip.af = k->dst_ip.af = 4;
	memcpy(k->src_ip.a, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	memcpy(k->dst_ip.a, (uint8_t[]){ 8, 8, 8, 8 }, 4);
	k->src_port = 5353;
	k->dst_port = 53;
	k->proto = 17;
	k->tos = 32;
	k->sampling_rate = 1;
	k->ts_arrival.sec = 1700000002;
}

static char *render(enum print_fmt fmt, bool header)
{
	static char buf[4096];
	struct prim_set s;
	struct out_cols c;
	struct out_opts o = { .fmt = fmt, .sep = ",", .json_event_type = true };
	struct out_counters cnt = { .packets = 1, .bytes = 58 };
	struct flow_key k;
	FILE *f;

	buf[0] = '\0';
	f = fmemopen(buf, sizeof(buf), "w");

	prim_parse_list(NULL, "src_host,dst_host,src_port,dst_port,proto,vlan,cos,etype,tos,tcpflags,"
	    "src_mac,dst_mac,timestamp_arrival,tag,tag2,mpls_label_top,mpls_label_bottom,"
	    "mpls_stack_depth,sampling_rate", &s, NULL, 0);
	out_cols_init(&c, NULL, &s, false, false);
	sample(&k);
	if (header)
		out_header(f, &c, &o);
	else
		out_row(f, &c, &o, &k, &cnt);
	fclose(f);
	return buf;
}

static void test_reference_lines(void)
{
	is_str(render(OUT_FORMATTED, true), ref_hdr, "formatted header as pmacct");
	is_str(render(OUT_FORMATTED, false), ref_row, "formatted row as pmacct");
	is_str(render(OUT_CSV, true), ref_csv_hdr, "CSV header as pmacct");
	is_str(render(OUT_CSV, false), ref_csv_row, "CSV row as pmacct");
	is_str(render(OUT_JSON, false), ref_json, "JSON row as pmacct");
	is_str(render(OUT_JSON, true), "", "JSON has no header");
}

static void test_misc(void)
{
	char buf[64];
	is_str(out_proto_name(6, buf, sizeof(buf)), "tcp", "proto 6");
	is_str(out_proto_name(58, buf, sizeof(buf)), "ipv6-icmp", "proto 58");
	is_str(out_proto_name(253, buf, sizeof(buf)), "253", "unnamed proto is a number");
	{
		struct flow_key k = { 0 };
		struct out_opts o = { 0 };
		k.proto = 0;
		is_str(out_value(NULL, prim_desc_of(NULL, P_PROTO), &k, 0, &o, buf, sizeof(buf)), "0",
		    "proto 0 renders as its number");
		k.proto = 200;
		is_str(out_value(NULL, prim_desc_of(NULL, P_PROTO), &k, 0, &o, buf, sizeof(buf)), "200",
		    "an unnamed proto renders as its number");
	}

	struct prim_set s;
	struct out_cols c;
	prim_parse_list(NULL, "sum_host,flows", &s, NULL, 0);
	out_cols_init(&c, NULL, &s, false, false);
	is_int(c.n, 1, "sum_host renders as one column");
	is_int(c.ids[0], P_SRC_HOST, "through SRC_IP");
	ok(c.flows, "flows counter column");
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_reference_lines();
	test_misc();
	return tap_done();
}
