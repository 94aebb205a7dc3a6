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
	memset(pc, 0, sizeof(*pc));
	memset(cc, 0, sizeof(*cc));
	prim_parse_list(NULL, agg, &pc->aggregate, NULL, 0);
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

/* The collectors' table: the e2e test's networks_file (tests/e2e/test_net_sources.py). */
static const char col_map[] =
	"65001,10.0.0.0/8\n"
	"65002,10.1.2.0/24\n"
	"65003,192.168.0.0/16\n"
	"65004,172.16.5.0/24\n"
	"65010,2001:db8::/32\n"
	"65011,2001:db8:1::/48\n";

/*
 * One side of one record: the record's address, mask and ASN in, net, mask
 * and ASN out.  Expected values are what nfacctd / sfacctd 1.7.7 print for
 * the same record and configuration (master for IPv6 with a networks_file:
 * 1.7.7's IPv6 lookups are wrong, docs/differences.md).
 */
struct res_row {
	enum cfg_daemon d;
	const char *net, *as;		/* *acctd_net / *acctd_as, NULL = unset */
	bool file;			/* networks_file */
	unsigned nmask;			/* networks_mask */
	const char *agg;		/* dst_* primitives: the address is the destination */
	const char *ip;
	uint8_t mask;
	uint32_t as_in;
	const char *want_net;
	uint8_t want_mask;
	uint32_t want_as;
};

#define NF CFG_NFACCTD
#define SF CFG_SFACCTD
#define AGG_S "src_net,src_mask,src_as"
#define AGG_D "dst_net,dst_mask,dst_as"

static const struct res_row res_rows[] = {
	/* unset = netflow / sflow: the record's own, whatever file and mask say */
	{ NF, NULL, NULL, true, 20, AGG_S, "10.1.2.3", 16, 100, "10.1.0.0", 16, 100 },
	{ SF, NULL, NULL, true, 20, AGG_D, "192.168.7.9", 24, 200, "192.168.7.0", 24, 200 },
	{ NF, NULL, NULL, false, 0, AGG_S, "198.51.100.1", 0, 103, "0.0.0.0", 0, 103 },
	{ NF, NULL, NULL, false, 0, AGG_S, "2001:db9::1", 0, 121, "::", 0, 121 },
	{ NF, NULL, NULL, false, 0, AGG_S, "2001:db8:1::6", 40, 122, "2001:db8::", 40, 122 },
	{ NF, "sflow", NULL, true, 0, AGG_S, "172.16.9.9", 30, 104, "172.16.9.8", 30, 104 },
	{ SF, "netflow", NULL, true, 0, AGG_S, "172.16.9.9", 30, 104, "172.16.9.8", 30, 104 },
	/* file: the file's prefix, 0.0.0.0/0 outside it; ASNs stay the record's */
	{ NF, "file", NULL, true, 20, AGG_S, "10.1.2.3", 16, 100, "10.1.2.0", 24, 100 },
	{ NF, "file", NULL, true, 0, AGG_S, "203.0.113.5", 20, 102, "0.0.0.0", 0, 102 },
	{ SF, "file", NULL, true, 0, AGG_D, "2001:db8:2::9", 0, 220, "2001:db8::", 32, 220 },
	/* mask: networks_mask for every record */
	{ NF, "mask", NULL, false, 20, AGG_S, "10.5.0.1", 8, 101, "10.5.0.0", 20, 101 },
	{ SF, "mask", NULL, true, 20, AGG_D, "2001:db8::1", 48, 221, "2001::", 20, 221 },
	/* longest: the longer of record and file (fallback is the same word) */
	{ NF, "longest", NULL, true, 0, AGG_S, "10.1.2.3", 16, 100, "10.1.2.0", 24, 100 },
	{ NF, "longest", NULL, true, 20, AGG_D, "192.168.7.9", 24, 200, "192.168.7.0", 24, 200 },
	{ SF, "fallback", NULL, true, 0, AGG_D, "10.200.1.1", 12, 204, "10.192.0.0", 12, 204 },
	{ NF, "longest", NULL, true, 0, AGG_D, "10.1.2.200", 0, 202, "10.1.2.0", 24, 202 },
	{ NF, "longest", NULL, false, 0, AGG_S, "10.1.2.3", 16, 100, "10.1.0.0", 16, 100 },
	{ NF, "longest", NULL, true, 0, AGG_S, "2001:db8:1::6", 40, 122, "2001:db8:1::", 48, 122 },
	/* _as file / true: the file's ASN, 0 outside it */
	{ NF, NULL, "file", true, 0, AGG_S, "172.16.9.9", 30, 104, "172.16.9.8", 30, 0 },
	{ SF, NULL, "true", true, 0, AGG_D, "10.9.9.9", 0, 211, "0.0.0.0", 0, 65001 },
	/* _as longest: the file's ASN when its prefix is at least as long */
	{ NF, NULL, "longest", true, 0, AGG_S, "10.1.2.3", 16, 100, "10.1.0.0", 16, 65002 },
	{ NF, NULL, "longest", true, 0, AGG_D, "192.168.7.9", 24, 200, "192.168.7.0", 24, 200 },
	{ NF, "longest", "longest", true, 0, AGG_S, "10.5.0.1", 8, 101, "10.0.0.0", 8, 65001 },
	{ SF, "longest", "fallback", true, 0, AGG_S, "198.51.100.1", 0, 103, "0.0.0.0", 0, 0 },
	{ NF, "file", "longest", true, 0, AGG_D, "192.168.7.9", 24, 200, "192.168.0.0", 16, 65003 },
	/* ... against networks_mask only when the side's mask is aggregated (the
	 * nets of the last two: 1.7.7 prints 0.0.0.0 there, fixed as for pmacctd,
	 * docs/differences.md) */
	{ NF, "mask", "longest", true, 20, AGG_D, "192.168.7.9", 24, 200, "192.168.0.0", 20, 200 },
	{ NF, "mask", "longest", true, 20, AGG_S, "10.1.2.3", 16, 100, "10.1.0.0", 20, 65002 },
	{ NF, "mask", "longest", true, 20, "dst_net,dst_as", "192.168.7.9", 24, 200, "192.168.0.0", 0, 65003 },
	{ SF, "mask", "longest", true, 20, "src_net,src_as", "198.51.100.1", 0, 103, "198.51.96.0", 0, 0 },
	/* unknown values are ignored: the daemon's default */
	{ NF, "bogus", "bogus", true, 0, AGG_S, "10.1.2.3", 16, 100, "10.1.0.0", 16, 100 },
};

static void test_collector_rows(void)
{
	struct net_map *m = load(col_map);
	char b[INET6_ADDRSTRLEN], name[160];

	for (size_t i = 0; i < sizeof(res_rows) / sizeof(res_rows[0]); i++) {
		const struct res_row *t = &res_rows[i];
		struct plugin_cfg pc;
		struct core_cfg cc;
		struct net_res r;
		struct flow_key k;
		bool dst = strstr(t->agg, "dst_") != NULL;

		setup(&pc, &cc, t->agg);
		pc.networks_file = t->file ? "x" : NULL;
		pc.networks_mask = t->nmask;
		cc.net_source = (char *)t->net;
		cc.as_source = (char *)t->as;
		snprintf(name, sizeof(name), "%s net %s as %s%s mask %u %s: %s/%u as %u",
		    t->d == NF ? "nfacctd" : "sfacctd", t->net ? t->net : "-", t->as ? t->as : "-",
		    t->file ? " file" : "", t->nmask, t->ip, t->want_net, t->want_mask, t->want_as);
		ok(net_res_init(&r, &pc, &cc, t->d), "%s: something to resolve", name);
		k = dst ? key("0.0.0.0", t->ip) : key(t->ip, "0.0.0.0");
		*(dst ? &k.dst_mask : &k.src_mask) = t->mask;
		*(dst ? &k.dst_as : &k.src_as) = t->as_in;
		net_res_apply(&r, t->file ? m : NULL, &k);
		is_str(str(dst ? &k.dst_net : &k.src_net, b), t->want_net, name);
		if (strstr(t->agg, "mask"))
			is_int(dst ? k.dst_mask : k.src_mask, t->want_mask, name);
		is_int(dst ? k.dst_as : k.src_as, t->want_as, name);
	}
	netmap_free(m);
}

/* pmacct's start-up refusals (messages checked by tests/e2e/test_net_sources.py). */
static const struct check_row {
	enum cfg_daemon d;
	const char *net, *as;
	bool file;
	unsigned nmask;
	const char *agg;
	int want;
} check_rows[] = {
	{ NF, NULL, NULL, false, 0, "src_net,src_as", 0 },	/* the record's own */
	{ SF, NULL, NULL, false, 0, "dst_mask,dst_as", 0 },
	{ NF, "file", NULL, false, 20, "src_net", -1 },
	{ NF, "file", NULL, true, 0, "src_net", 0 },
	{ SF, "mask", NULL, true, 0, "dst_mask", -1 },
	{ SF, "mask", NULL, false, 16, "dst_mask", 0 },
	{ NF, "bgp", NULL, true, 20, "src_mask", -1 },
	{ NF, "bmp", NULL, true, 20, "peer_dst_ip", -1 },
	{ SF, "igp", NULL, true, 20, "sum_net", -1 },
	{ NF, "bgp", NULL, true, 20, "src_as", 0 },		/* no net primitive */
	{ NF, NULL, "file", false, 0, "src_as", -1 },
	{ SF, NULL, "true", false, 0, "sum_as", -1 },
	{ NF, NULL, "longest", false, 0, "src_as", 0 },
	{ NF, NULL, "bgp", true, 0, "dst_as", -1 },
	{ SF, NULL, "bmp", true, 0, "src_net", 0 },		/* no AS primitive */
	{ CFG_PMACCTD, NULL, NULL, false, 0, "src_as", -1 },
	{ CFG_PMACCTD, NULL, NULL, false, 0, "src_net", -1 },
	{ CFG_PMACCTD, NULL, NULL, false, 24, "src_net", 0 },
	{ CFG_PMACCTD, "netflow", NULL, false, 0, "src_net", -1 },	/* ignored: unset */
};

static void test_checks(void)
{
	for (size_t i = 0; i < sizeof(check_rows) / sizeof(check_rows[0]); i++) {
		const struct check_row *t = &check_rows[i];
		struct plugin_cfg pc;
		struct core_cfg cc;

		setup(&pc, &cc, t->agg);
		pc.networks_file = t->file ? "x" : NULL;
		pc.networks_mask = t->nmask;
		cc.net_source = (char *)t->net;
		cc.as_source = (char *)t->as;
		is_int(net_res_check(&cc, &pc, t->d, "test/check"), t->want, t->agg);
	}
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
	ok(net_source_parse("sflow", false, CFG_NFACCTD, &s) == 0 && s == NETSRC_RECORD, "nfacctd: sflow too");
	ok(net_source_parse("netflow", false, CFG_SFACCTD, &s) == 0 && s == NETSRC_RECORD, "sfacctd: netflow too");
	ok(net_source_parse("sflow", false, CFG_PMACCTD, &s) < 0, "pmacctd: sflow rejected");
	ok(net_source_parse("igp", true, CFG_NFACCTD, &s) < 0, "as igp rejected");
	ok(net_source_parse("fallback", false, CFG_PMACCTD, &s) == 0 && s == NETSRC_LONGEST, "fallback");
}

int main(void)
{
	test_parse();
	test_resolve();
	test_sources();
	test_collector_rows();
	test_checks();
	return tap_done();
}
