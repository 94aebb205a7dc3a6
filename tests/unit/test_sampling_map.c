/* SPDX-License-Identifier: BSD-3-Clause */
/* test_sampling_map.c: sampling_map loading (bad lines skipped, limits) and first-match lookup. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/sampling_map.h"
#include "tap.h"

static char *write_tmp(const char *text)
{
	static char path[64];
	strcpy(path, "/tmp/test_sampling_map_XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

static struct fr_ip ip(const char *s)
{
	struct fr_ip a;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.a) == 1)
		a.af = 4;
	else if (inet_pton(AF_INET6, s, a.a) == 1)
		a.af = 6;
	return a;
}

static uint32_t look(const struct sampling_map *m, const char *exp, uint32_t in, uint32_t out)
{
	struct fr_ip a = ip(exp);
	return sampling_map_lookup(m, &a, in, out);
}

int main(void)
{
	char err[256];
	/* pmacct's examples/sampling.map.example rules, then the bad lines 1.7.7 skips */
	const char *path = write_tmp(
	    "! comment\n# comment\n\n"
	    "id=1024\t\tip=192.168.1.1\n"
	    "id=2048\t\tip=192.168.2.1 \tin=5\n"
	    "id=4096\t\tip=192.168.3.1 \tout=3\r\n"
	    "id=8 ip=192.168.4.0/24 in=-7\n"
	    "id=16 ip=2001:db8::/32\n"
	    "bogus line\n"			/* not key=value */
	    "id=abc ip=10.0.0.1\n"		/* non-digit id */
	    "id=0 ip=10.0.0.1\n"		/* rate 0 */
	    "id=5 ip=300.1.1.1\n"		/* bad address */
	    "id=5 ip=10.0.0.0/33\n"		/* bad prefix length */
	    "id=6 foo=1 ip=10.0.0.1\n"		/* unknown key */
	    "ID=7 IP=10.0.0.1\n"		/* keys are lower case, as pmacct */
	    "id=8 ip=10.0.0.1 ip=10.0.0.2\n"	/* key twice */
	    "ip=10.0.0.1\n"			/* no id */
	    "id=9\n"				/* no ip */
	    "id=10 ip=10.0.0.1 in=x\n"		/* bad interface */
	    "id=-3 ip=10.0.0.1\n"		/* no negative rate */
	    "id=4294967296 ip=10.0.0.1\n"	/* over 32 bits */
	    "id=32 ip=0.0.0.0/0\n");		/* catch-all IPv4, last */
	struct sampling_map *m = sampling_map_load(path, 0, err, sizeof(err));

	ok(m != NULL, "loads despite bad lines");
	is_int(sampling_map_count(m), 6, "six good rules");
	is_int(look(m, "192.168.1.1", 1, 2), 1024, "exporter alone");
	is_int(look(m, "192.168.2.1", 5, 2), 2048, "exporter and input interface");
	is_int(look(m, "192.168.2.1", 6, 2), 32, "other input: falls to the catch-all");
	is_int(look(m, "192.168.3.1", 1, 3), 4096, "output interface, CRLF line");
	is_int(look(m, "192.168.4.77", 1, 2), 8, "prefix, negated input");
	is_int(look(m, "192.168.4.77", 7, 2), 32, "negated input excludes 7");
	is_int(look(m, "2001:db8:1::9", 0, 0), 16, "IPv6 prefix");
	is_int(look(m, "2001:db9::1", 0, 0), 0, "no IPv6 rule: 0");
	is_int(look(m, "10.0.0.1", 0, 0), 32, "bad lines left nothing for 10.0.0.1 but the catch-all");
	sampling_map_free(m);
	unlink(path);

	/* first match wins, in file order */
	path = write_tmp("id=3 ip=127.0.0.0/30 out=2\nid=50 ip=127.0.0.2\n");
	m = sampling_map_load(path, 0, err, sizeof(err));
	is_int(look(m, "127.0.0.2", 1, 2), 3, "first full match wins");
	is_int(look(m, "127.0.0.2", 1, 9), 50, "second rule when the first does not match");
	is_int(look(m, "127.0.0.4", 1, 2), 0, "outside the /30");
	sampling_map_free(m);
	unlink(path);

	/* maps_entries bounds the rules */
	path = write_tmp("id=1 ip=10.0.0.1\nid=2 ip=10.0.0.2\nid=3 ip=10.0.0.3\n");
	m = sampling_map_load(path, 2, err, sizeof(err));
	is_int(sampling_map_count(m), 2, "maps_entries 2: the third rule is skipped");
	is_int(look(m, "10.0.0.3", 0, 0), 0, "skipped rule does not match");
	sampling_map_free(m);
	unlink(path);
	sampling_map_free(NULL);

	m = sampling_map_load("/nonexistent/sampling.map", 0, err, sizeof(err));
	ok(m == NULL && strstr(err, "/nonexistent/sampling.map"), "missing file named: %s", err);

	path = write_tmp("");
	m = sampling_map_load(path, 0, err, sizeof(err));
	ok(m && sampling_map_count(m) == 0 && look(m, "10.0.0.1", 0, 0) == 0, "empty file: no rate");
	sampling_map_free(m);
	unlink(path);
	return tap_done();
}
