/* SPDX-License-Identifier: BSD-3-Clause */
/* test_prefix.c: addr[/len] of the map files, and matching an address against it. */
#include <string.h>

#include "maps/prefix.h"
#include "tap.h"

static struct fr_ip ip(const char *s)
{
	struct fr_ip a;

	fr_ip_parse(s, &a);
	return a;
}

static void test_parse(void)
{
	struct fr_ip net;
	uint8_t len = 0;

	ok(prefix_parse("10.1.2.3", &net, &len) == 0 && net.af == 4 && len == 32 && net.a[3] == 3,
	    "a host: /32");
	ok(prefix_parse("2001:db8::1", &net, &len) == 0 && net.af == 6 && len == 128, "IPv6 host: /128");
	ok(prefix_parse("10.1.2.3/20", &net, &len) == 0 && len == 20 && net.a[1] == 1 && net.a[2] == 0 &&
	    net.a[3] == 0, "10.1.2.3/20: host bits cleared (10.1.0.0)");
	ok(prefix_parse("2001:db8:ffff::/33", &net, &len) == 0 && len == 33 && net.a[4] == 0x80 &&
	    net.a[5] == 0, "2001:db8:ffff::/33: bit 33 kept, the rest cleared");
	ok(prefix_parse("0.0.0.0/0", &net, &len) == 0 && len == 0, "/0");
	ok(prefix_parse("10.0.0.0/33", &net, &len) < 0, "/33 is past IPv4");
	ok(prefix_parse("::/129", &net, &len) < 0, "/129 is past IPv6");
	ok(prefix_parse("10.0.0.0/", &net, &len) < 0, "an empty length");
	ok(prefix_parse("10.0.0.0/-1", &net, &len) < 0, "a signed length");
	ok(prefix_parse("10.0.0.0/8x", &net, &len) < 0, "trailing text");
	ok(prefix_parse("/8", &net, &len) < 0, "no address");
	ok(prefix_parse("10.0.0", &net, &len) < 0, "not an address");
	ok(prefix_parse("host.example/8", &net, &len) < 0, "a name is not an address");
}

static void test_match(void)
{
	struct fr_ip net;
	uint8_t len;

	prefix_parse("192.168.4.0/22", &net, &len);
	ok(prefix_match(&net, len, &(struct fr_ip){ 0 }) == false, "an unset address never matches");
	struct fr_ip in = ip("192.168.7.255"), out = ip("192.168.8.0"), v6 = ip("::ffff:192.168.4.1");
	ok(prefix_match(&net, len, &in), "192.168.7.255 in 192.168.4.0/22");
	ok(!prefix_match(&net, len, &out), "192.168.8.0 not in it");
	ok(!prefix_match(&net, len, &v6), "another family never matches");
	prefix_parse("0.0.0.0/0", &net, &len);
	ok(prefix_match(&net, len, &out), "/0 takes every IPv4 address");
	prefix_parse("2001:db8::/32", &net, &len);
	struct fr_ip a6 = ip("2001:db8:1::1"), b6 = ip("2001:db9::1");
	ok(prefix_match(&net, len, &a6) && !prefix_match(&net, len, &b6), "IPv6 /32");
	prefix_parse("10.0.0.1", &net, &len);
	struct fr_ip h = ip("10.0.0.1"), h2 = ip("10.0.0.2");
	ok(prefix_match(&net, len, &h) && !prefix_match(&net, len, &h2), "a host matches itself only");
}

int main(void)
{
	test_parse();
	test_match();
	return tap_done();
}
