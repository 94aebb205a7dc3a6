/* SPDX-License-Identifier: BSD-3-Clause */
/* test_pcap_ifmap.c: pcap_interfaces_map rows and errors, pcap_ifindex / pcap_direction values, pmacct's interface hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/pcap_ifmap.h"
#include "tap.h"

static char path[64];

/* Write text to a fresh temporary file (path) and load it into m; the loader's return. */
static int load(const char *text, struct pcap_ifmap *m, char *err, size_t errlen)
{
	snprintf(path, sizeof(path), "/tmp/test_pcap_ifmap.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -2;
	close(fd);
	err[0] = '\0';
	int rc = pcap_ifmap_load(path, m, err, errlen);
	unlink(path);
	return rc;
}

static void test_rows(void)
{
	struct pcap_ifmap *m = malloc(sizeof(*m));
	char err[512];

	ok(load("! comment\nifindex=100\tifname=eth0\tdirection=in\n# another\n\n"
	    "ifname=ens1 ifindex=200 direction=OUT\nifname=lo\n", m, err, sizeof(err)) == 0,
	    "pmacct's example rows load: %s", err);
	is_int(m->n, 3, "three interfaces");
	is_str(m->row[0].ifname, "eth0", "ifname");
	is_int(m->row[0].ifindex, 100, "ifindex");
	is_int(m->row[0].dir, PCAP_DIR_IN, "direction in");
	is_int(m->row[1].dir, PCAP_DIR_OUT, "direction out, any case");
	ok(m->row[2].ifindex == 0 && m->row[2].dir == PCAP_DIR_NONE, "ifname alone: no ifindex, no direction");
	ok(pcap_ifmap_find(m, "ens1") == &m->row[1] && !pcap_ifmap_find(m, "eth9"), "find by name");

	static const struct { const char *text, *want; } bad[] = {
		{ "ifindex=1\n", ":1] a row needs ifname=" },
		{ "ifname=a\nifname=b ifindex=0\n", ":2] ifindex '0': expected a positive 32-bit number" },
		{ "ifname=a ifindex=4294967296\n", ":1] ifindex '4294967296'" },
		{ "ifname=a ifindex=-1\n", ":1] ifindex '-1'" },
		{ "ifname=a direction=both\n", ":1] direction 'both': expected in or out" },
		{ "ifname=a vlan=3\n", ":1] unknown key 'vlan'" },
		{ "ifname=a\n\nifname=a\n", ":3] interface named twice" },
		{ "ifname=a junk\n", ":1] 'junk' is not key=value" },
		{ "ifname=abcdefghijklmnopq\n", ":1] ifname 'abcdefghijklmnopq'" },
		{ "! nothing\n", "no interface in the map" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = load(bad[i].text, m, err, sizeof(err));
		ok(rc == -1 && strstr(err, bad[i].want) && strstr(err, "/tmp/test_pcap_ifmap."),
		    "refused with file and line: want '%s', got '%s'", bad[i].want, err);
	}
	ok(pcap_ifmap_load("/nonexistent/if.map", m, err, sizeof(err)) == -1 &&
	    strstr(err, "[/nonexistent/if.map] cannot open"), "a missing file: %s", err);
	free(m);
}

static void test_values(void)
{
	enum pcap_ifindex_src s;
	enum pcap_dir d;

	ok(pcap_ifindex_parse("sys", &s) == 0 && s == PCAP_IFINDEX_SYS, "sys");
	ok(pcap_ifindex_parse("HASH", &s) == 0 && s == PCAP_IFINDEX_HASH, "hash, any case");
	ok(pcap_ifindex_parse("map", &s) == 0 && s == PCAP_IFINDEX_MAP, "map");
	ok(pcap_ifindex_parse("none", &s) == 0 && s == PCAP_IFINDEX_NONE, "none");
	ok(pcap_ifindex_parse("ifindex", &s) < 0, "anything else refused");
	ok(pcap_dir_parse("in", &d) == 0 && d == PCAP_DIR_IN, "in");
	ok(pcap_dir_parse("Out", &d) == 0 && d == PCAP_DIR_OUT, "out");
	ok(pcap_dir_parse("any", &d) < 0, "any refused");
	/* values Debian's pmacctd 1.7.7 printed as in_iface / out_iface with pcap_ifindex: hash */
	is_int(pcap_ifindex_hash("pa0"), 1074655997u, "hash of pa0 as pmacct 1.7.7");
	is_int(pcap_ifindex_hash("pb0"), 518506329u, "hash of pb0 as pmacct 1.7.7");
	/* a name reaching the second lane, and one past a whole 12-byte block (1.7.7's log lines) */
	is_int(pcap_ifindex_hash("veth12345"), 3764570123u, "hash of a 9-byte name as pmacct 1.7.7");
	is_int(pcap_ifindex_hash("enp0s31f6abcd"), 3443195894u, "hash of a 13-byte name as pmacct 1.7.7");
}

int main(void)
{
	test_rows();
	test_values();
	return tap_done();
}
