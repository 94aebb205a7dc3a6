/* SPDX-License-Identifier: BSD-3-Clause */
/* test_pretag.c: pre_tag_map: every key parsed, bad lines named by file:line, maps_entries, jeq/return/stack, matching. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "maps/pretag.h"
#include "tap.h"

static char map_path[64], log_path[64];

static void write_map(const char *text)
{
	FILE *f;
	strcpy(map_path, "/tmp/test_pretag_XXXXXX");
	int fd = mkstemp(map_path);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		abort();
	fputs(text, f);
	fclose(f);
}

static struct pt_map *load(const char *text, enum pt_daemon d, size_t entries)
{
	struct pt_opts o = { .daemon = d, .linktype = DLT_EN10MB, .snaplen = 128,
	    .max_entries = entries, .who = "default/core" };
	char err[256];
	write_map(text);
	struct pt_map *m = pretag_load(map_path, &o, err, sizeof(err));
	unlink(map_path);
	return m;
}

/* Does the log mention "[map:line]" with `what` since the last call? */
static bool logged(unsigned line, const char *what)
{
	char needle[96], buf[512];
	bool found = false;
	FILE *f = fopen(log_path, "r");
	if (!f)
		return false;
	snprintf(needle, sizeof(needle), "[%s:%u]", map_path, line);
	while (fgets(buf, sizeof(buf), f))
		if (strstr(buf, needle) && strstr(buf, what))
			found = true;
	fclose(f);
	return found;
}

/* An Ethernet/IPv4 frame from 10.0.0.<src> with protocol proto, ports sport -> dport. */
static struct pcap_pkthdr frame(uint8_t *pkt, uint8_t src, uint8_t proto, uint16_t sport,
    uint16_t dport)
{
	static const uint8_t hdr[] = {
		0, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x00,
		0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 1, 1,
	};
	struct pcap_pkthdr h = { .caplen = 54, .len = 54 };
	memset(pkt, 0, 64);
	memcpy(pkt, hdr, sizeof(hdr));
	pkt[23] = proto;
	pkt[29] = src;
	pkt[34] = (uint8_t)(sport >> 8);
	pkt[35] = (uint8_t)sport;
	pkt[36] = (uint8_t)(dport >> 8);
	pkt[37] = (uint8_t)dport;
	return h;
}

static struct pt_result eval1(struct pt_map *m, uint8_t src, uint8_t proto, uint16_t sport,
    uint16_t dport)
{
	uint8_t pkt[64];
	struct pt_result r[PT_MAX_RESULTS];
	struct flow_rec rec;
	memset(&rec, 0, sizeof(rec));
	rec.flags = FR_F_DIR;	/* a captured packet's direction: 0, none set */
	struct pcap_pkthdr h = frame(pkt, src, proto, sport, dport);
	pretag_eval(m, &rec, &h, pkt, r, PT_MAX_RESULTS);
	return r[0];
}

/* One record's tag under map text for daemon d, the record's direction given (or none: -1). */
static uint64_t dir_tag(const char *text, enum pt_daemon d, int dir)
{
	uint8_t pkt[64];
	struct pt_result r[PT_MAX_RESULTS];
	struct flow_rec rec;
	struct pt_map *m = load(text, d, 0);
	memset(&rec, 0, sizeof(rec));
	if (dir >= 0) {
		rec.flags = FR_F_DIR;
		rec.direction = (uint8_t)dir;
	}
	struct pcap_pkthdr h = frame(pkt, 1, 6, 1, 1);
	pretag_eval(m, &rec, &h, pkt, r, PT_MAX_RESULTS);
	pretag_free(m);
	return r[0].tag;
}

/* direction: the record's value; nfacctd/sfacctd records without one match no rule, negated or not. */
static void test_direction_values(void)
{
	const char *map = "set_tag=1 direction=2\nset_tag=3 direction=-0\nset_tag=4 direction=0\n";
	is_int((int)dir_tag(map, PT_PMACCTD, 2), 1, "pmacctd: out is 2");
	is_int((int)dir_tag(map, PT_NFACCTD, 2), 1, "nfacctd: IE 61 = 2 matches direction=2");
	is_int((int)dir_tag(map, PT_NFACCTD, 255), 3, "nfacctd: 255 matches the negated 0");
	is_int((int)dir_tag(map, PT_NFACCTD, 0), 4, "nfacctd: 0");
	is_int((int)dir_tag(map, PT_NFACCTD, -1), 0, "NetFlow v5: no direction, not even negated");
	is_int((int)dir_tag(map, PT_SFACCTD, -1), 0, "sFlow of neither port: no rule");
	struct pt_map *m = load("set_tag=1 direction=256\nset_tag=2 direction=255\n", PT_NFACCTD, 0);
	ok(pretag_count(m) == 1 && logged(1, "invalid value '256' for key 'direction'"),
	    "direction above 255 is refused, naming the line");
	pretag_free(m);
}

static void test_every_key(void)
{
	struct pt_map *m = load(
	    "set_tag=1 in=3 out=-4 engine_type=1 engine_id=2 flowset_id=4 nexthop=10.0.0.1 "
	    "agent_id=5 sample_type=0:1 direction=0 src_as=1 dst_as=-2 peer_src_as=3 peer_dst_as=4\n"
	    "id=2 src_local_pref=1 local_pref=2 src_comms=65000:1 comms=65000:2,65000:3 "
	    "mpls_vpn_rd=0:65512:1 mpls_pw_id=7 src_mac=00:11:22:33:44:55 dst_mac=-00:aa:bb:cc:dd:ee\n"
	    "set_tag2=3 vlan=100 cvlan=-200 src_net=10.0.0.0/8 dst_net=2001:db8::/32 is_multicast=true "
	    "is_bi_flow=false nat_event=1 fwdstatus=64 set_tos=4 filter='tcp and port 80'\n"
	    "id2=4 source_id=3 set_label=foo label=x jeq=next stack=sum return=false\n"
	    "set_tag=5 filter=\"udp\" stack=or\n", PT_NFACCTD, 0);
	is_int(pretag_count(m), 5, "every 1.7.7 key (and its aliases) parses");
	pretag_free(m);
	m = load("set_tag=1 ip=10.0.0.1\nset_tag=2 bgp_nexthop=10.0.0.1\nset_tag=3 sampling_rate=10\n"
	    "set_tag=4 v8agg=1\nset_tag=5 ip=10.0.0.1/8\n", PT_NFACCTD, 0);
	is_int(pretag_count(m), 5, "ip, bgp_nexthop, sampling_rate, v8agg kept for nfacctd");
	pretag_free(m);
	m = load("set_tag=1 ip=10.0.0.1\nset_tag=2 bgp_nexthop=10.0.0.1\nset_tag=3 sampling_rate=10\n"
	    "set_tag=4 v8agg=1\nset_tag=5\n", PT_PMACCTD, 0);
	is_int(pretag_count(m), 1, "pmacctd ignores the lines 1.7.7 ignores");
	ok(logged(1, "key 'ip' not applicable"), "ip refused in pmacctd, as 1.7.7");
	ok(logged(2, "bgp_nexthop"), "bgp_nexthop refused in pmacctd");
	ok(logged(3, "sampling_rate"), "sampling_rate refused in pmacctd");
	pretag_free(m);
}

static void test_bad_lines(void)
{
	char big[400];
	memset(big, 'x', sizeof(big));
	memcpy(big, "set_tag=9 filter='tcp' x", 24);
	big[sizeof(big) - 1] = '\0';
	char text[1200];
	snprintf(text, sizeof(text),
	    "! comment\n# comment\n\nset_tag=1 bogus=1\nset_tag=abc\nset_tag=1 filter='tcp' x\n"
	    "%s\nset_tag=1 set_tag=2\nset_tag=1 filter='not a filter ((('\nset_tag=1 in=x\n"
	    "set_tag=1 src_mac=00:11\nset_tag=1 src_net=10.0.0.0/33\nset_tag=1 vlan=4096\n"
	    "set_tag=1 filter='tcp\nset_tag=1 set_tag2=2 set_label=a\nset_tag=7\n",
	    big);
	struct pt_map *m = load(text, PT_PMACCTD, 0);
	is_int(pretag_count(m), 1, "only the good line loads");
	ok(logged(4, "unknown key 'bogus'"), "unknown key named with file:4");
	ok(logged(5, "set_tag"), "bad tag named with file:5");
	ok(logged(6, "malformed"), "token without '=' named with file:6");
	ok(logged(7, "too long"), "over maps_row_len named with file:7");
	ok(logged(8, "multiple 'set_tag'"), "duplicate key named with file:8");
	ok(logged(9, "filter"), "BPF error named with file:9");
	ok(logged(10, "'x'"), "bad in named with file:10");
	ok(logged(13, "vlan"), "vlan > 4095 named with file:13");
	ok(logged(14, "quote"), "unterminated quote named with file:14");
	ok(logged(15, "mutual exclusive"), "set_tag+set_tag2+set_label named with file:15");
	struct pt_result r = eval1(m, 1, 6, 1, 80);
	ok(r.have_tag && r.tag == 7, "the rest of the map works");
	pretag_free(m);

	struct pt_opts o = { .daemon = PT_PMACCTD, .linktype = DLT_EN10MB, .who = "t" };
	char err[256];
	ok(!pretag_load("/nonexistent/x.map", &o, err, sizeof(err)) && strstr(err, "/nonexistent"),
	    "missing file: NULL and a message naming it");
}

static void test_entries_limit(void)
{
	char text[8192] = "";
	for (int i = 1; i <= 400; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "set_tag=%d\n", i);
	struct pt_map *m = load(text, PT_PMACCTD, 0);
	is_int(pretag_count(m), PT_DEFAULT_ENTRIES, "default maps_entries 384");
	pretag_free(m);
	m = load(text, PT_PMACCTD, 10);
	is_int(pretag_count(m), 10, "maps_entries 10");
	pretag_free(m);
}

static void test_matching(void)
{
	/* the map and results of the reference run in docs/maps.md (pmacct 1.7.7) */
	struct pt_map *m = load(
	    "set_tag=100 filter='tcp' jeq=two\n"
	    "set_tag=200 filter='udp' jeq=three\n"
	    "set_tag=999 filter='icmp'\n"
	    "set_tag=5 label=two stack=sum filter='port 80'\n"
	    "set_tag=6 label=three stack=sum filter='port 53'\n"
	    "set_tag=7 filter='tcp'\n"
	    "set_tag2=77 in=1\n"
	    "set_tag2=78 in=-1\n", PT_PMACCTD, 0);
	struct pt_result r = eval1(m, 1, 6, 1000, 80);
	ok(r.tag == 105 && r.tag2 == 0, "jeq + stack=sum: 100+5 (got %llu)", (unsigned long long)r.tag);
	r = eval1(m, 2, 17, 53, 2000);
	ok(r.tag == 206, "jeq to 'three': 200+6");
	r = eval1(m, 5, 6, 443, 5555);
	ok(r.tag == 7 && r.tag2 == 0, "after a jump, a later plain match replaces the tag");
	r = eval1(m, 3, 1, 0, 0);
	ok(r.tag == 999, "first full match wins");
	r = eval1(m, 6, 17, 5000, 443);
	ok(r.tag == 200 && r.tag2 == 78, "tag kept from the jump, in=-1 matches ifindex 0");
	pretag_free(m);

	m = load("set_tag=100 filter='tcp' jeq=x\nset_tag=1 filter='udp'\nset_tag=5 label=x stack=or filter='tcp'\n"
	    "set_tag=1++ filter='icmp'\nset_tag=8 jeq=nowhere filter='udp'\nset_tag=9\n"
	    "set_tag=3 set_tag2=4 filter='port 99'\n", PT_PMACCTD, 0);
	r = eval1(m, 1, 6, 1, 1);
	ok(r.tag == 101, "stack=or: 100|5");
	ok(eval1(m, 1, 1, 0, 0).tag == 1 && eval1(m, 1, 1, 0, 0).tag == 2, "++ advances per match");
	ok(eval1(m, 1, 17, 1, 1).tag == 1, "udp: the plain rule");
	r = eval1(m, 1, 132, 99, 99);
	ok(r.tag == 9, "no jump target matched: falls to the catch-all");
	pretag_free(m);

	m = load("set_tag=3 set_tag2=4 filter='port 99'\n", PT_PMACCTD, 0);
	r = eval1(m, 1, 6, 99, 1);
	ok(r.tag == 3 && r.tag2 == 4, "set_tag with set_tag2 sets both (1.7.7 puts tag2 in tag)");
	r = eval1(m, 1, 6, 98, 1);
	ok(!r.have_tag && r.tag == 0, "no match: untagged");
	pretag_free(m);

	/* vlan, src_mac, src_net are not compared by pmacctd 1.7.7: they match everything */
	m = load("set_tag=4 vlan=100\n", PT_PMACCTD, 0);
	ok(eval1(m, 1, 6, 1, 1).tag == 4, "vlan is a no-op in pmacctd, as 1.7.7");
	pretag_free(m);
	m = load("set_tag=4 vlan=100\nset_tag=5 src_net=10.0.0.0/8\n", PT_NFACCTD, 0);
	ok(eval1(m, 1, 6, 1, 1).tag == 0, "nfacctd compares vlan and src_net (record has neither)");
	pretag_free(m);
	m = load("set_tag=1 direction=1\nset_tag=2 direction=0\n", PT_PMACCTD, 0);
	ok(eval1(m, 1, 6, 1, 1).tag == 2, "direction is 0 without pcap_interfaces_map, as 1.7.7");
	pretag_free(m);
	test_direction_values();
	m = load("set_label=a filter='tcp' jeq=n\nset_label=b label=n\n", PT_PMACCTD, 0);
	ok(strcmp(eval1(m, 1, 6, 1, 1).label, "a,b") == 0, "labels are appended with ','");
	pretag_free(m);
}

/* set_label with ',' (pmacct master: one label list) and stack=+ (pmacct's own spelling). */
static void test_label_commas_stack_plus(void)
{
	struct pt_map *m = load("set_label=k1%v1,k2%v2 filter='tcp' jeq=n\n"
	    "set_label=a,b label=n\n", PT_PMACCTD, 0);
	is_int(pretag_count(m), 2, "set_label with ',' loads");
	ok(strcmp(eval1(m, 1, 6, 1, 1).label, "k1%v1,k2%v2,a,b") == 0,
	    "comma labels are joined with ',' after a jeq");
	pretag_free(m);
	m = load("set_tag=3 filter='tcp' jeq=n\nset_tag=1 label=n stack=+\n", PT_PMACCTD, 0);
	ok(eval1(m, 1, 6, 1, 1).tag == 4, "stack=+ adds: 3+1");
	pretag_free(m);
	m = load("set_tag=3 filter='tcp' jeq=n\nset_tag=1 label=n stack=xyz\n", PT_PMACCTD, 0);
	is_int(pretag_count(m), 2, "an unknown stack operator keeps the line");
	ok(eval1(m, 1, 6, 1, 1).tag == 1, "and does not stack (1.7.7: tag 1)");
	pretag_free(m);
	m = load("set_label=a label=x,y\n", PT_PMACCTD, 0);
	is_int(pretag_count(m), 0, "a jump label with ',' is refused");
	pretag_free(m);
}

static void test_return(void)
{
	struct pt_map *m = load("set_tag=1 filter='tcp' jeq=a return=true\nset_tag=2 label=a\n",
	    PT_PMACCTD, 0);
	uint8_t pkt[64];
	struct pt_result r[PT_MAX_RESULTS];
	struct flow_rec rec;
	memset(&rec, 0, sizeof(rec));
	struct pcap_pkthdr h = frame(pkt, 1, 6, 1, 1);
	int n = pretag_eval(m, &rec, &h, pkt, r, PT_MAX_RESULTS);
	ok(n == 2 && r[0].tag == 1 && r[1].tag == 2, "return=true accounts twice: tag 1, then tag 2");
	h = frame(pkt, 1, 17, 1, 1);
	n = pretag_eval(m, &rec, &h, pkt, r, PT_MAX_RESULTS);
	ok(n == 1 && r[0].tag == 2, "no return without the jump");
	pretag_free(m);
	pretag_free(NULL);
}

int main(void)
{
	strcpy(log_path, "/tmp/test_pretag_log_XXXXXX");
	int fd = mkstemp(log_path);
	if (fd < 0)
		abort();
	close(fd);
	log_open(log_path, NULL, false);
	test_every_key();
	test_bad_lines();
	test_entries_limit();
	test_matching();
	test_return();
	test_label_commas_stack_plus();
	unlink(log_path);
	return tap_done();
}
