/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_bgp_prims.c: the BGP primitives (as_path, communities, local_pref, med and their
 * src_* twins) in every output, against lines pmacct 1.7.7 printed (Debian nfacctd with
 * its BGP daemon peered with BIRD 2, NetFlow v5 from scapy; docs/bgp.md) and master's
 * *_encode_as_array JSON; the client's -M/-N values, the memory protocol and SQL values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rd.h"
#include "model/prim.h"
#include "model/prim_value.h"
#include "plugins/imt_proto.h"
#include "plugins/output.h"
#include "plugins/sql.h"
#include "tap.h"

/* print plugin (formatted, csv, json) and `pmacct -s` (formatted, -O csv, -O json), 1.7.7 */
static const char fmt_hdr[] =
    "SRC_AS      DST_AS      PREF     SRC_PREF MED     SRC_MED PEER_SRC_AS PEER_DST_AS PEER_D"
    "ST_IP                                    SRC_IP                                         "
    "SRC_NET                                        DST_IP                                   "
    "      DST_NET                                        SRC_MASK  DST_MASK  PACKETS        "
    "       BYTES\n";
static const char fmt_row_a[] =
    "65030       65010       200      300      50      70      65030       65020       ::    "
    "                                         10.2.0.1                                       "
    "10.2.0.0                                       10.1.0.1                                 "
    "      10.1.0.0                                       16        16        10             "
    "       1000\n";
static const char fmt_row_b[] =
    "0           0           100      100      0       0       0           0           ::    "
    "                                         10.3.0.1                                       "
    "10.3.0.0                                       10.3.0.2                                 "
    "      10.3.0.0                                       16        16        20             "
    "       2000\n";
static const char fmt_row_c[] =
    "0           0           0        0        0       0       0           0           ::    "
    "                                         192.168.0.1                                    "
    "0.0.0.0                                        192.168.0.2                              "
    "      0.0.0.0                                        0         0         30             "
    "       3000\n";
static const char fmt_row_d[] =
    "4200000000  4200000000  4294967295  4294967295  4294967295  4294967295  4200000039  4200"
    "000039  ::                                             10.4.0.1                         "
    "              10.4.0.0                                       10.4.0.2                   "
    "                    10.4.0.0                                       16        16        4"
    "0                    4000\n";
static const char csv_hdr[] =
    "SRC_AS,DST_AS,COMMS,ECOMMS,LCOMMS,SRC_COMMS,SRC_ECOMMS,SRC_LCOMMS,AS_PATH,SRC_AS_PATH,PR"
    "EF,SRC_PREF,MED,SRC_MED,PEER_SRC_AS,PEER_DST_AS,PEER_DST_IP,SRC_IP,SRC_NET,DST_IP,DST_NE"
    "T,SRC_MASK,DST_MASK,PACKETS,BYTES\n";
static const char csv_row_a[] =
    "65030,65010,65000:1_65000:2,RT:65000:100_SoO:65000:7,65000:1:2_65000:3:4,65000:3,RT:4200"
    "000001:5,65000:5:6,65020_65010,65030,200,300,50,70,65030,65020,,10.2.0.1,10.2.0.0,10.1.0"
    ".1,10.1.0.0,16,16,20,2000\n";
static const char csv_row_b[] =
    "0,0,,,,,,,,,100,100,0,0,0,0,,10.3.0.1,10.3.0.0,10.3.0.2,10.3.0.0,16,16,40,4000\n";
static const char csv_row_c[] =
    "0,0,,,,,,,,,0,0,0,0,0,0,,192.168.0.1,0.0.0.0,192.168.0.2,0.0.0.0,0,0,60,6000\n";
static const char json_row_a[] =
    "{\"event_type\": \"purge\", \"as_src\": 65030, \"as_dst\": 65010, \"comms\": \"65000:1_65000:2\", \"e"
    "comms\": \"RT:65000:100_SoO:65000:7\", \"lcomms\": \"65000:1:2_65000:3:4\", \"as_path\": \"65020_6"
    "5010\", \"local_pref\": 200, \"med\": 50, \"peer_as_src\": 65030, \"peer_as_dst\": 65020, \"peer_i"
    "p_dst\": \"\", \"comms_src\": \"65000:3\", \"ecomms_src\": \"RT:4200000001:5\", \"lcomms_src\": \"6500"
    "0:5:6\", \"as_path_src\": \"65030\", \"local_pref_src\": 300, \"med_src\": 70, \"ip_src\": \"10.2.0."
    "1\", \"net_src\": \"10.2.0.0\", \"ip_dst\": \"10.1.0.1\", \"net_dst\": \"10.1.0.0\", \"mask_src\": 16, "
    "\"mask_dst\": 16, \"packets\": 20, \"bytes\": 2000}\n";
static const char json_row_b[] =
    "{\"event_type\": \"purge\", \"as_src\": 0, \"as_dst\": 0, \"comms\": \"\", \"ecomms\": \"\", \"lcomms\": \""
    "\", \"as_path\": \"\", \"local_pref\": 100, \"med\": 0, \"peer_as_src\": 0, \"peer_as_dst\": 0, \"peer"
    "_ip_dst\": \"\", \"comms_src\": \"\", \"ecomms_src\": \"\", \"lcomms_src\": \"\", \"as_path_src\": \"\", \"l"
    "ocal_pref_src\": 100, \"med_src\": 0, \"ip_src\": \"10.3.0.1\", \"net_src\": \"10.3.0.0\", \"ip_dst\""
    ": \"10.3.0.2\", \"net_dst\": \"10.3.0.0\", \"mask_src\": 16, \"mask_dst\": 16, \"packets\": 40, \"byt"
    "es\": 4000}\n";
static const char json_row_c[] =
    "{\"event_type\": \"purge\", \"as_src\": 0, \"as_dst\": 0, \"comms\": \"\", \"ecomms\": \"\", \"lcomms\": \""
    "\", \"as_path\": \"\", \"local_pref\": 0, \"med\": 0, \"peer_as_src\": 0, \"peer_as_dst\": 0, \"peer_i"
    "p_dst\": \"\", \"comms_src\": \"\", \"ecomms_src\": \"\", \"lcomms_src\": \"\", \"as_path_src\": \"\", \"loc"
    "al_pref_src\": 0, \"med_src\": 0, \"ip_src\": \"192.168.0.1\", \"net_src\": \"0.0.0.0\", \"ip_dst\": "
    "\"192.168.0.2\", \"net_dst\": \"0.0.0.0\", \"mask_src\": 0, \"mask_dst\": 0, \"packets\": 60, \"bytes"
    "\": 6000}\n";
static const char cli_hdr[] =
    "SRC_AS      DST_AS      COMMS                   ECOMMS                  SRC_COMMS       "
    "        SRC_ECOMMS              LCOMMS                  SRC_LCOMMS              AS_PATH "
    "                 SRC_AS_PATH              PREF     SRC_PREF MED     SRC_MED PEER_SRC_AS "
    "PEER_DST_AS PEER_DST_IP                                    SRC_IP                       "
    "                  SRC_NET                                        DST_IP                 "
    "                        DST_NET                                        SRC_MASK  DST_MAS"
    "K  PACKETS               BYTES\n";
static const char cli_row_a_177[] =
    "65030       65010       65000:1_65000:2          65000:3                  RT:65000:100_S"
    "oO:65000:7   RT:4200000001:5          65000:1:2_65000:3:4      65000:5:6                "
    "65020_65010              65030                    200      300      50      70      6503"
    "0       65020       0                                              10.2.0.1             "
    "                          10.2.0.0                                       10.1.0.1       "
    "                                10.1.0.0                                       16       "
    " 16        20                    2000\n";
static const char cli_row_b[] =
    "0           0           0                        0                        0             "
    "           0                        0                        0                        ^$"
    "                       ^$                       100      100      0       0       0     "
    "      0           0                                              10.3.0.1               "
    "                        10.3.0.0                                       10.3.0.2         "
    "                              10.3.0.0                                       16        1"
    "6        40                    4000\n";
static const char cli_row_c[] =
    "0           0           0                        0                        0             "
    "           0                        0                        0                        ^$"
    "                       ^$                       0        0        0       0       0     "
    "      0           0                                              192.168.0.1            "
    "                        0.0.0.0                                        192.168.0.2      "
    "                              0.0.0.0                                        0         0"
    "         60                    6000\n";
static const char cli_csv_hdr[] =
    "SRC_AS,DST_AS,COMMS,ECOMMS,SRC_COMMS,SRC_ECOMMS,LCOMMS,SRC_LCOMMS,AS_PATH,SRC_AS_PATH,PR"
    "EF,SRC_PREF,MED,SRC_MED,PEER_SRC_AS,PEER_DST_AS,PEER_DST_IP,SRC_IP,SRC_NET,DST_IP,DST_NE"
    "T,SRC_MASK,DST_MASK,PACKETS,BYTES\n";
static const char cli_csv_row_c[] =
    "0,0,,,,,,,,,0,0,0,0,0,0,,192.168.0.1,0.0.0.0,192.168.0.2,0.0.0.0,0,0,60,6000\n";
static const char cli_json_row_a[] =
    "{\"as_src\": 65030, \"as_dst\": 65010, \"comms\": \"65000:1_65000:2\", \"ecomms\": \"RT:65000:100_S"
    "oO:65000:7\", \"lcomms\": \"65000:1:2_65000:3:4\", \"as_path\": \"65020_65010\", \"local_pref\": 20"
    "0, \"med\": 50, \"peer_as_src\": 65030, \"peer_as_dst\": 65020, \"peer_ip_dst\": \"\", \"src_comms\""
    ": \"65000:3\", \"src_ecomms\": \"RT:4200000001:5\", \"src_lcomms\": \"65000:5:6\", \"src_as_path\": "
    "\"65030\", \"src_local_pref\": 300, \"src_med\": 70, \"ip_src\": \"10.2.0.1\", \"net_src\": \"10.2.0."
    "0\", \"ip_dst\": \"10.1.0.1\", \"net_dst\": \"10.1.0.0\", \"mask_src\": 16, \"mask_dst\": 16, \"packet"
    "s\": 20, \"bytes\": 2000}\n";
static const char cli_json_row_c[] =
    "{\"as_src\": 0, \"as_dst\": 0, \"comms\": \"\", \"ecomms\": \"\", \"lcomms\": \"\", \"as_path\": \"\", \"loca"
    "l_pref\": 0, \"med\": 0, \"peer_as_src\": 0, \"peer_as_dst\": 0, \"peer_ip_dst\": \"\", \"src_comms\""
    ": \"\", \"src_ecomms\": \"\", \"src_lcomms\": \"\", \"src_as_path\": \"\", \"src_local_pref\": 0, \"src_m"
    "ed\": 0, \"ip_src\": \"192.168.0.1\", \"net_src\": \"0.0.0.0\", \"ip_dst\": \"192.168.0.2\", \"net_dst"
    "\": \"0.0.0.0\", \"mask_src\": 0, \"mask_dst\": 0, \"packets\": 60, \"bytes\": 6000}\n";
static const char master_aspath_array[] =
    "{\"event_type\": \"purge\", \"comms\": \"65000:1_65000:2\", \"ecomms\": \"RT:65000:100_SoO:65000:7\""
    ", \"lcomms\": \"65000:1:2_65000:3:4\", \"as_path\": [\"65020\", \"65010\"], \"local_pref\": 200, \"co"
    "mms_src\": \"65000:3\", \"ecomms_src\": \"RT:4200000001:5\", \"lcomms_src\": \"65000:5:6\", \"as_pat"
    "h_src\": [\"65030\"], \"ip_src\": \"10.2.0.1\", \"ip_dst\": \"10.1.0.1\", \"packets\": 40, \"bytes\": 4"
    "000}\n";
static const char master_comms_array[] =
    "{\"event_type\": \"purge\", \"comms\": [\"65000:1\", \"65000:2\"], \"ecomms\": [\"RT:65000:100\", \"SoO"
    ":65000:7\"], \"lcomms\": [\"65000:1:2\", \"65000:3:4\"], \"as_path\": \"65020_65010\", \"local_pref\""
    ": 200, \"comms_src\": [\"65000:3\"], \"ecomms_src\": [\"RT:4200000001:5\"], \"lcomms_src\": [\"6500"
    "0:5:6\"], \"as_path_src\": \"65030\", \"ip_src\": \"10.2.0.1\", \"ip_dst\": \"10.1.0.1\", \"packets\": "
    "40, \"bytes\": 4000}\n";
static const char master_comms_array_empty[] =
    "{\"event_type\": \"purge\", \"comms\": [], \"ecomms\": [], \"lcomms\": [], \"as_path\": \"\", \"local_p"
    "ref\": 100, \"comms_src\": [], \"ecomms_src\": [], \"lcomms_src\": [], \"as_path_src\": \"\", \"ip_s"
    "rc\": \"10.3.0.1\", \"ip_dst\": \"10.3.0.2\", \"packets\": 100, \"bytes\": 10000}\n";

#define AGG_ALL "src_host,dst_host,src_as,dst_as,as_path,std_comm,ext_comm,lrg_comm,local_pref,med," \
	"src_as_path,src_std_comm,src_ext_comm,src_lrg_comm,src_local_pref,src_med,peer_src_as," \
	"peer_dst_as,peer_dst_ip,src_net,dst_net,src_mask,dst_mask"
#define AGG_NUM "src_host,dst_host,src_as,dst_as,local_pref,med,src_local_pref,src_med,peer_src_as," \
	"peer_dst_as,peer_dst_ip,src_net,dst_net,src_mask,dst_mask"
#define AGG_MASTER "src_host,dst_host,as_path,std_comm,ext_comm,lrg_comm,src_as_path,src_std_comm," \
	"src_ext_comm,src_lrg_comm,local_pref"

static void v4(struct fr_ip *ip, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	ip->af = 4;
	ip->a[0] = a;
	ip->a[1] = b;
	ip->a[2] = c;
	ip->a[3] = d;
}

/* What the BGP enrichment leaves in the key, for the oracle's flows: a..d as in docs/bgp.md. */
static void flow(struct flow_key *k, char which)
{
	memset(k, 0, sizeof(*k));
	switch (which) {
	case 'a':	/* 10.2.0.1 -> 10.1.0.1, both prefixes known, with every attribute */
		v4(&k->src_ip, 10, 2, 0, 1);
		v4(&k->dst_ip, 10, 1, 0, 1);
		v4(&k->src_net, 10, 2, 0, 0);
		v4(&k->dst_net, 10, 1, 0, 0);
		k->src_mask = k->dst_mask = 16;
		k->src_as = 65030;
		k->dst_as = 65010;
		k->peer_src_as = 65030;
		k->peer_dst_as = 65020;
		strcpy(k->std_comm, "65000:1 65000:2");
		strcpy(k->ext_comm, "RT:65000:100 SoO:65000:7");
		strcpy(k->lrg_comm, "65000:1:2 65000:3:4");
		strcpy(k->as_path, "65020 65010");
		strcpy(k->src_std_comm, "65000:3");
		strcpy(k->src_ext_comm, "RT:4200000001:5");
		strcpy(k->src_lrg_comm, "65000:5:6");
		strcpy(k->src_as_path, "65030");
		k->local_pref = 200;
		k->src_local_pref = 300;
		k->med = 50;
		k->src_med = 70;
		break;
	case 'b':	/* 10.3.0.1 -> 10.3.0.2: a route with no path, no communities, local_pref 100 */
		v4(&k->src_ip, 10, 3, 0, 1);
		v4(&k->dst_ip, 10, 3, 0, 2);
		v4(&k->src_net, 10, 3, 0, 0);
		v4(&k->dst_net, 10, 3, 0, 0);
		k->src_mask = k->dst_mask = 16;
		k->local_pref = k->src_local_pref = 100;
		break;
	case 'c':	/* 192.168.0.1 -> 192.168.0.2: no route */
		v4(&k->src_ip, 192, 168, 0, 1);
		v4(&k->dst_ip, 192, 168, 0, 2);
		v4(&k->src_net, 0, 0, 0, 0);
		v4(&k->dst_net, 0, 0, 0, 0);
		break;
	default:	/* 'd': 10.4.0.1 -> 10.4.0.2, 4-byte ASNs, local_pref and med 2^32-1 */
		v4(&k->src_ip, 10, 4, 0, 1);
		v4(&k->dst_ip, 10, 4, 0, 2);
		v4(&k->src_net, 10, 4, 0, 0);
		v4(&k->dst_net, 10, 4, 0, 0);
		k->src_mask = k->dst_mask = 16;
		k->src_as = k->dst_as = 4200000000u;
		k->peer_src_as = k->peer_dst_as = 4200000039u;
		k->local_pref = k->src_local_pref = k->med = k->src_med = 4294967295u;
		break;
	}
}

/* Render one line: the header (which == 0) or flow `which`'s row. */
static const char *render(const char *agg, const struct out_opts *o, char which, uint64_t packets)
{
	static char buf[8192];
	struct prim_set s;
	struct out_cols c;
	struct out_counters cnt = { .packets = packets, .bytes = packets * 100 };
	struct flow_key k;
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	buf[0] = '\0';
	if (prim_parse_list(NULL, agg, &s, NULL, 0) < 0)
		return "bad aggregate";
	out_cols_init(&c, NULL, &s, false, o->client && o->fmt != OUT_JSON);
	if (!which) {
		out_header(f, &c, o);
	} else {
		flow(&k, which);
		out_row(f, &c, o, &k, &cnt);
	}
	fclose(f);
	return buf;
}

static void test_print_plugin(void)
{
	struct out_opts fo = { .fmt = OUT_FORMATTED, .sep = "," };
	struct out_opts co = { .fmt = OUT_CSV, .sep = "," };
	struct out_opts jo = { .fmt = OUT_JSON, .sep = ",", .json_event_type = true };

	is_str(render(AGG_NUM, &fo, 0, 0), fmt_hdr, "formatted header: PREF, SRC_PREF, MED, SRC_MED");
	is_str(render(AGG_NUM, &fo, 'a', 10), fmt_row_a, "formatted row: attributes of both prefixes");
	is_str(render(AGG_NUM, &fo, 'b', 20), fmt_row_b, "formatted row: local_pref 100, no med");
	is_str(render(AGG_NUM, &fo, 'c', 30), fmt_row_c, "formatted row: no route");
	is_str(render(AGG_NUM, &fo, 'd', 40), fmt_row_d, "formatted row: 10-digit values push the columns");
	is_str(render(AGG_ALL, &co, 0, 0), csv_hdr, "CSV header: COMMS .. SRC_MED between DST_AS and PEER_SRC_AS");
	is_str(render(AGG_ALL, &co, 'a', 20), csv_row_a, "CSV row: '_' between tokens");
	is_str(render(AGG_ALL, &co, 'b', 40), csv_row_b, "CSV row: empty path and communities are empty");
	is_str(render(AGG_ALL, &co, 'c', 60), csv_row_c, "CSV row: no route");
	is_str(render(AGG_ALL, &jo, 'a', 20), json_row_a, "JSON: compose_json's order and keys");
	is_str(render(AGG_ALL, &jo, 'b', 40), json_row_b, "JSON: empty values are \"\"");
	is_str(render(AGG_ALL, &jo, 'c', 60), json_row_c, "JSON: no route");
}

/* The whitespace-separated words of a line. */
static int words(const char *line, char out[][128], int max)
{
	int n = 0;
	for (const char *p = line; *p && n < max;) {
		size_t l = strcspn(p, " \n");
		if (l)
			snprintf(out[n++], 128, "%.*s", (int)l, p);
		p += l;
		p += strspn(p, " \n");
	}
	return n;
}

static int cmp_words(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_client(void)
{
	struct out_opts fo = { .fmt = OUT_FORMATTED, .sep = ",", .client = true };
	struct out_opts co = { .fmt = OUT_CSV, .sep = ",", .client = true };
	struct out_opts jo = { .fmt = OUT_JSON, .sep = ",", .client = true };
	char got[40][128], want[40][128];
	int ng, nw;

	/* the titles and their order are 1.7.7's; the comms titles are 25 wide, as their values */
	ng = words(render(AGG_ALL, &fo, 0, 0), got, 40);
	nw = words(cli_hdr, want, 40);
	is_int(ng, nw, "client header: as many titles");
	for (int i = 0; i < ng && i < nw; i++)
		if (strcmp(got[i], want[i]))
			ok(0, "client header title %d: %s, want %s", i, got[i], want[i]);
	ok(strstr(render(AGG_ALL, &fo, 0, 0), "DST_AS      COMMS                    ECOMMS                   SRC_COMMS") != NULL,
	    "client header: COMMS 25 wide (1.7.7: 24 without -a, 25 with -a)");
	is_str(render(AGG_ALL, &fo, 'b', 40), cli_row_b, "client row: empty comms print 0, empty path ^$");
	is_str(render(AGG_ALL, &fo, 'c', 60), cli_row_c, "client row: no route");
	/* 1.7.7 prints comms, src_comms, ecomms, src_ecomms under COMMS ECOMMS SRC_COMMS SRC_ECOMMS */
	ng = words(render(AGG_ALL, &fo, 'a', 20), got, 40);
	nw = words(cli_row_a_177, want, 40);
	is_int(ng, nw, "client row: as many values as 1.7.7");
	ok(strcmp(got[2], "65000:1_65000:2") == 0 && strcmp(got[3], "RT:65000:100_SoO:65000:7") == 0 &&
	    strcmp(got[4], "65000:3") == 0 && strcmp(got[5], "RT:4200000001:5") == 0,
	    "client row: each value under its own title (COMMS ECOMMS SRC_COMMS SRC_ECOMMS)");
	qsort(got, (size_t)ng, sizeof(got[0]), cmp_words);
	qsort(want, (size_t)nw, sizeof(want[0]), cmp_words);
	int same = ng == nw;
	for (int i = 0; same && i < ng; i++)
		same = strcmp(got[i], want[i]) == 0;
	ok(same, "client row: 1.7.7's values");
	is_str(render(AGG_ALL, &co, 0, 0), cli_csv_hdr, "client CSV header");
	is_str(render(AGG_ALL, &co, 'c', 60), cli_csv_row_c, "client CSV: empty values are empty");
	is_str(render(AGG_ALL, &jo, 'a', 20), cli_json_row_a, "client JSON: src_comms .. src_med keys");
	is_str(render(AGG_ALL, &jo, 'c', 60), cli_json_row_c, "client JSON: no route");
}

static void test_master_arrays(void)
{
	struct out_opts ao = { .fmt = OUT_JSON, .sep = ",", .json_event_type = true, .aspath_array = true };
	struct out_opts co = { .fmt = OUT_JSON, .sep = ",", .json_event_type = true, .comms_array = true };
	struct out_opts csv = { .fmt = OUT_CSV, .sep = ",", .aspath_array = true, .comms_array = true };

	is_str(render(AGG_MASTER, &ao, 'a', 40), master_aspath_array, "as_path_encode_as_array: strings");
	is_str(render(AGG_MASTER, &co, 'a', 40), master_comms_array, "bgp_comms_encode_as_array: strings");
	is_str(render(AGG_MASTER, &co, 'b', 100), master_comms_array_empty, "empty communities: []");
	ok(strstr(render(AGG_MASTER, &csv, 'a', 40), "65020_65010") != NULL, "arrays are JSON only");
}

static void test_values(void)
{
	const struct prim_desc *ap = prim_desc_of(NULL, P_AS_PATH), *sc = prim_desc_of(NULL, P_STD_COMM);
	struct flow_key k, w;
	char big[FR_BGP_STR_MAX + 1];

	memset(&k, 0x55, sizeof(k));
	ok(prim_value_parse(ap, "65020_65010", &k) == 0 && strcmp(k.as_path, "65020 65010") == 0,
	    "-N as_path 65020_65010 is the path 65020 65010");
	ok(k.as_path[11] == 0 && k.as_path[FR_BGP_STR_MAX - 1] == 0, "the rest of the field is zeroed");
	ok(prim_value_parse(ap, "65020 65010", &k) == 0 && strcmp(k.as_path, "65020 65010") == 0,
	    "spaces work too");
	ok(prim_value_parse(ap, "^$", &k) == 0 && k.as_path[0] == 0, "^$ is the empty path");
	ok(prim_value_parse(ap, "0", &k) == 0 && strcmp(k.as_path, "0") == 0, "0 is a path of AS 0");
	ok(prim_value_parse(sc, "0", &k) == 0 && k.std_comm[0] == 0, "0 is no communities");
	ok(prim_value_parse(sc, "", &k) == 0 && k.std_comm[0] == 0, "so is the empty string");
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(prim_value_parse(ap, big, &k) < 0, "a path longer than the field is refused");
	big[FR_BGP_STR_MAX - 1] = '\0';
	ok(prim_value_parse(ap, big, &k) == 0, "255 characters fit");
	ok(prim_value_parse(prim_desc_of(NULL, P_LOCAL_PREF), "200", &k) == 0 && k.local_pref == 200,
	    "local_pref is a number");

	/* the memory protocol: text sent as length + bytes, zero padded on the other side */
	struct prim_set s;
	struct imt_buf b = { 0 };
	prim_parse_list(NULL, AGG_ALL, &s, NULL, 0);
	flow(&k, 'a');
	imt_key_put(&b, NULL, &s, &k);
	ok(b.len < 400, "the row's eight text fields cost their length (%zu bytes)", b.len);
	struct rd r = rd_make(b.p, b.len);
	ok(imt_key_get(&r, NULL, &s, &w) == 0 && !r.bad && r.left == 0, "decodes");
	ok(memcmp(&k, &w, sizeof(k)) == 0, "the same key comes back");
	free(b.p);
}

static void test_sql(void)
{
	struct sql_schema sch;
	struct sql_val v[SQL_MAX_COLS];
	struct prim_set s;
	struct flow_key k;
	char why[128];
	int n;

	prim_parse_list(NULL, "src_as,dst_as,std_comm,as_path,local_pref,med,peer_dst_ip", &s, NULL, 0);
	ok(sql_wants_bgp_table(&s), "BGP primitives switch sql_table_type to bgp (1.7.7)");
	prim_parse_list(NULL, "src_host,lrg_comm,src_lrg_comm,src_as", &s, NULL, 0);
	ok(!sql_wants_bgp_table(&s), "lrg_comm, src_lrg_comm, src_as do not (1.7.7)");

	/* the bgp table (v1): comms, as_path with spaces as 1.7.7's sqlite3 rows had them */
	prim_parse_list(NULL, "src_as,dst_as,std_comm,as_path,local_pref,med", &s, NULL, 0);
	ok(sql_schema_build(&sch, SQL_SQLITE, 1, true, false, NULL, &s, true, false, why, sizeof(why)) == 0,
	    "bgp schema");
	flow(&k, 'a');
	n = sql_row_values(&sch, &s, false, &k, 10, 1000, 0, 0, 0, 0, v);
	for (int i = 0; i < n; i++) {
		const char *c = sch.cols[i].name;
		if (!strcmp(c, "comms"))
			is_str(sql_val_str(&v[i]), "65000:1 65000:2", "bgp table: comms");
		else if (!strcmp(c, "as_path"))
			is_str(sql_val_str(&v[i]), "65020 65010", "bgp table: as_path");
		else if (!strcmp(c, "local_pref"))
			ok(v[i].is_int && v[i].i == 200, "bgp table: local_pref");
		else if (!strcmp(c, "med"))
			ok(v[i].is_int && v[i].i == 50, "bgp table: med");
	}
	prim_parse_list(NULL, "src_as,dst_as", &s, NULL, 0);
	n = sql_row_values(&sch, &s, false, &k, 10, 1000, 0, 0, 0, 0, v);
	for (int i = 0; i < n; i++)
		if (!strcmp(sch.cols[i].name, "as_path"))
			is_str(sql_val_str(&v[i]), " ", "bgp table: as_path not aggregated is ' ' (the column default)");

	/* sql_optimize_clauses: README.mysql's column names, empty text is '' */
	prim_parse_list(NULL, "src_std_comm,src_ext_comm,src_lrg_comm,src_as_path,src_local_pref,src_med,"
	    "ext_comm,lrg_comm", &s, NULL, 0);
	ok(sql_schema_build(&sch, SQL_SQLITE, 9, true, true, NULL, &s, true, false, why, sizeof(why)) == 0,
	    "optimized schema");
	static const char *const cols[] = { "ecomms", "lcomms", "comms_src", "ecomms_src", "lcomms_src",
		"as_path_src", "local_pref_src", "med_src" };
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		is_str(sch.cols[i].name, cols[i], cols[i]);
	flow(&k, 'b');
	n = sql_row_values(&sch, &s, false, &k, 10, 1000, 0, 0, 0, 0, v);
	ok(n > 7 && !v[0].is_int && strcmp(sql_val_str(&v[0]), "") == 0, "no communities: ''");
	ok(v[6].is_int && v[6].i == 100, "local_pref_src 100");
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	test_print_plugin();
	test_client();
	test_master_arrays();
	test_values();
	test_sql();
	return tap_done();
}
