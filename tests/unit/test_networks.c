/* SPDX-License-Identifier: BSD-3-Clause */
/* test_networks.c: networks_file parsing and pmacct 1.7.7's net / mask / AS resolution rules. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/networks.h"
#include "tap.h"

static struct fr_ip ip(const char *s)
{
	struct fr_ip a;

	memset(&a, 0, sizeof(a));
	a.af = strchr(s, ':') ? 6 : 4;
	inet_pton(a.af == 4 ? AF_INET : AF_INET6, s, a.a);
	return a;
}

static const char *str(const struct fr_ip *a, char *buf)
{
	inet_ntop(a->af == 4 ? AF_INET : AF_INET6, a->a, buf, INET6_ADDRSTRLEN);
	return buf;
}

static const char map_text[] =
	"! comment\n"
	"   ! indented comment\n"
	"# hash comment 10.9.0.0/16\n"
	"\n"
	"10.0.0.0/8\n"
	"65010,10.0.0.0/16\n"
	"65011,10.0.0.0/24\n"
	"65012 , 10.0.0.128 / 25\n"
	"65013,10.0.0.0/24\n"			/* duplicate: the first line wins */
	"100_200,8.8.8.0/24\n"			/* peer_asn_asn */
	"192.0.2.1,300,8.8.4.0/24\n"		/* nexthop,asn,prefix */
	"lbl,192.0.2.1,400,100.64.0.0/10\n"	/* label,nexthop,asn,prefix */
	"garbage/24\n"
	"10.1.0.0\n"
	"10.1.0.0/abc\n"
	"10.1.0.0/40\n"
	"AS65020,172.16.0.0/12\n"		/* strtoul: ASN 0, as pmacct */
	"65030,2001:db8::/32\n"
	"65031,2001:db8:ffff::/48\n"
	"2001:db8:0:1::/64\n"
	"65033,2001:db8::/129\n";

static struct net_map *load(const char *text)
{
	char path[] = "/tmp/test_networks.XXXXXX", err[256];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
	struct net_map *m = netmap_load(path, "test/networks", err, sizeof(err));
	unlink(path);
	return m;
}

static void test_parse(void)
{
	struct net_map *m = load(map_text);
	const struct net_entry *e;
	struct fr_ip a;
	char err[256];

	ok(m != NULL, "map loads despite bad lines");
	is_int(netmap_count(m), 12, "12 good lines, the duplicate included (5 bad skipped)");
	a = ip("10.0.0.1");
	e = netmap_lookup(m, &a);
	ok(e && e->as == 65011 && e->len == 24, "10.0.0.1 -> 65011 /24 (first duplicate)");
	a = ip("10.0.0.200");
	e = netmap_lookup(m, &a);
	ok(e && e->as == 65012 && e->len == 25, "10.0.0.200 -> /25 despite blanks in the line");
	a = ip("10.1.2.3");
	e = netmap_lookup(m, &a);
	ok(e && e->as == 0 && e->len == 8, "10.1.2.3 -> 10/8 without ASN");
	a = ip("8.8.8.8");
	e = netmap_lookup(m, &a);
	ok(e && e->as == 200 && e->peer_as == 100, "peer_asn_asn");
	a = ip("8.8.4.4");
	e = netmap_lookup(m, &a);
	ok(e && e->as == 300 && e->nh.af == 4, "nexthop,asn,prefix");
	a = ip("100.64.1.1");
	e = netmap_lookup(m, &a);
	ok(e && e->as == 400 && e->len == 10, "label,nexthop,asn,prefix");
	a = ip("172.16.5.5");
	e = netmap_lookup(m, &a);
	ok(e && e->as == 0 && e->len == 12, "non-numeric ASN reads as 0");
	a = ip("192.168.1.1");
	ok(netmap_lookup(m, &a) == NULL, "unmatched IPv4");
	a = ip("2001:db8:ffff::1");
	e = netmap_lookup(m, &a);
	ok(e && e->as == 65031 && e->len == 48, "IPv6 longest match");
	a = ip("2001:db8:0:1::10");
	e = netmap_lookup(m, &a);
	ok(e && e->as == 0 && e->len == 64, "IPv6 /64 without ASN");
	a = ip("fe80::1");
	ok(netmap_lookup(m, &a) == NULL, "unmatched IPv6");
	netmap_free(m);
	ok(netmap_load("/nonexistent/nets", "t", err, sizeof(err)) == NULL &&
	    strstr(err, "file not found") != NULL, "missing file: %s", err);
}

static void setup(struct plugin_cfg *pc, struct core_cfg *cc, const char *agg)
{
	const char *bad;

	memset(pc, 0, sizeof(*pc));
	memset(cc, 0, sizeof(*cc));
	prim_parse_list(agg, &pc->aggregate, &bad);
	pc->networks_file = "x";
}

static struct flow_key key(const char *src, const char *dst)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.src_ip = ip(src);
	k.dst_ip = ip(dst);
	return k;
}

static void test_resolve(void)
{
	struct net_map *m = load(map_text);
	struct plugin_cfg pc;
	struct core_cfg cc;
	struct net_res r;
	struct flow_key k;
	char b1[64], b2[64];

	setup(&pc, &cc, "src_net,dst_net,src_as,dst_as,src_mask,dst_mask");
	ok(net_res_init(&r, &pc, &cc, CFG_PMACCTD), "file: something to resolve");
	k = key("10.0.0.200", "8.8.8.8");
	net_res_apply(&r, m, &k);
	is_str(str(&k.src_net, b1), "10.0.0.128", "src_net is the network address");
	is_int(k.src_mask, 25, "src_mask");
	is_int(k.src_as + k.dst_as, 0, "no pmacctd_as: ASNs stay 0 (as pmacct 1.7.7)");
	is_str(str(&k.dst_net, b2), "8.8.8.0", "dst_net");

	cc.as_source = "file";
	net_res_init(&r, &pc, &cc, CFG_PMACCTD);
	k = key("10.0.0.200", "192.168.1.1");
	net_res_apply(&r, m, &k);
	is_int(k.src_as, 65012, "pmacctd_as file: src_as");
	is_int(k.dst_mask, 0, "unmatched: mask 0");
	is_str(str(&k.dst_net, b1), "0.0.0.0", "unmatched: net 0.0.0.0");
	k = key("fe80::1", "2001:db8:ffff::1");
	net_res_apply(&r, m, &k);
	is_str(str(&k.src_net, b1), "::", "unmatched IPv6: ::");
	is_str(str(&k.dst_net, b2), "2001:db8:ffff::", "IPv6 net");
	is_int(k.dst_as, 65031, "IPv6 ASN");

	cc.as_source = "longest";
	net_res_init(&r, &pc, &cc, CFG_PMACCTD);
	is_int(r.as, NETSRC_FILE, "pmacctd_as longest acts as file in pmacctd");
	cc.as_source = "netflow";
	net_res_init(&r, &pc, &cc, CFG_PMACCTD);
	is_int(r.as, NETSRC_UNSET, "netflow is not a pmacctd value");

	/* networks_mask alone: applied even without src_mask (pmacct 1.7.7 bug fixed) */
	setup(&pc, &cc, "src_net");
	pc.networks_file = NULL;
	pc.networks_mask = 20;
	ok(net_res_init(&r, &pc, &cc, CFG_PMACCTD), "mask: something to resolve");
	k = key("10.1.255.3", "1.2.3.4");
	net_res_apply(&r, NULL, &k);
	is_str(str(&k.src_net, b1), "10.1.240.0", "networks_mask 20");

	/* both: the file decides (as pmacct 1.7.7) */
	pc.networks_file = "x";
	net_res_init(&r, &pc, &cc, CFG_PMACCTD);
	k = key("192.168.1.1", "1.2.3.4");
	net_res_apply(&r, m, &k);
	is_str(str(&k.src_net, b1), "0.0.0.0", "file and mask: unmatched gets the file's 0");
	net_res_apply(&r, NULL, &k);
	is_str(str(&k.src_net, b1), "192.168.0.0", "file and mask, file unreadable: the mask");

	/* networks_file_filter zeroes hosts outside every prefix */
	setup(&pc, &cc, "src_host,dst_host");
	pc.networks_file_filter = true;
	ok(net_res_init(&r, &pc, &cc, CFG_PMACCTD), "filter with hosts only");
	k = key("10.0.0.1", "203.0.113.9");
	net_res_apply(&r, m, &k);
	is_str(str(&k.src_ip, b1), "10.0.0.1", "filter keeps a listed host");
	is_str(str(&k.dst_ip, b2), "0.0.0.0", "filter zeroes an unlisted host");
	k = key("fe80::1", "2001:db8::1");
	net_res_apply(&r, m, &k);
	is_str(str(&k.src_ip, b1), "::", "filter zeroes an unlisted IPv6 host");

	setup(&pc, &cc, "src_host");
	ok(!net_res_init(&r, &pc, &cc, CFG_PMACCTD), "no filter, no net primitive: nothing to do");
	netmap_free(m);
}

static void test_sources(void)
{
	enum net_source s;

	ok(net_source_parse("file", false, CFG_PMACCTD, &s) == 0 && s == NETSRC_FILE, "net file");
	ok(net_source_parse("true", true, CFG_PMACCTD, &s) == 0 && s == NETSRC_FILE, "as true");
	ok(net_source_parse("true", false, CFG_PMACCTD, &s) < 0, "net true rejected");
	ok(net_source_parse("mask", true, CFG_PMACCTD, &s) < 0, "as mask rejected");
	ok(net_source_parse("netflow", false, CFG_PMACCTD, &s) < 0, "pmacctd: netflow rejected");
	ok(net_source_parse("netflow", false, CFG_NFACCTD, &s) == 0 && s == NETSRC_RECORD, "nfacctd: netflow");
	ok(net_source_parse("sflow", true, CFG_SFACCTD, &s) == 0 && s == NETSRC_RECORD, "sfacctd: sflow");
	ok(net_source_parse("fallback", false, CFG_PMACCTD, &s) == 0 && s == NETSRC_LONGEST, "fallback");
}

int main(void)
{
	test_parse();
	test_resolve();
	test_sources();
	return tap_done();
}
