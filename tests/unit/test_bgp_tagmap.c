/* SPDX-License-Identifier: BSD-3-Clause */
/* test_bgp_tagmap.c: bgp_daemon_tag_map rows (ip, set_tag, set_label), first match, bad rows named file:line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "maps/bgp_tagmap.h"
#include "tap.h"

static struct fr_ip ip(const char *s)
{
	struct fr_ip a;

	fr_ip_parse(s, &a);
	return a;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

int main(void)
{
	char dir[] = "/tmp/test_bgp_tagmap.XXXXXX", map[64], logf[64];
	struct bgp_tagmap *m;
	struct bgp_tag t;
	struct fr_ip a;

	if (!mkdtemp(dir))
		return 1;
	snprintf(map, sizeof(map), "%s/tag.map", dir);
	snprintf(logf, sizeof(logf), "%s/log", dir);
	log_open(logf, NULL, false);
	write_file(map,
	    "! comment\n"
	    "set_tag=100 ip=127.0.0.2\n"				/* 2 */
	    "set_label=blue ip=10.0.0.0/8\n"				/* 3 */
	    "set_tag=7 set_label=both ip=2001:db8::/32\n"		/* 4 */
	    "set_tag=9 ip=bogus\n"					/* 5 */
	    "set_tag=9 ip=192.0.2.1 filter=\"net 10.0.0.0/8\"\n"	/* 6 */
	    "set_tag2=5 ip=192.0.2.2\n"					/* 7 */
	    "set_tag=-1 ip=192.0.2.3\n"				/* 8 */
	    "ip=192.0.2.4\n"						/* 9 */
	    "set_tag=18446744073709551615 ip=127.0.0.2\n"		/* 10: shadowed by row 2 */
	    "set_label=\"a b\" ip=192.0.2.5\n"			/* 11 */
	    "set_tag=42\n");						/* 12: every other peer */
	m = bgp_tagmap_load(map, "test");
	ok(m != NULL, "the map loads");
	is_int(bgp_tagmap_count(m), 6, "six good rows (2, 3, 4, 10, 11, 12)");

	a = ip("127.0.0.2");
	ok(bgp_tagmap_find(m, &a, &t) && t.has_tag && t.tag == 100 && !t.has_label, "127.0.0.2: tag 100 (first row)");
	a = ip("10.9.8.7");
	ok(bgp_tagmap_find(m, &a, &t) && !t.has_tag && t.has_label && strcmp(t.label, "blue") == 0,
	    "10.9.8.7 in 10/8: label blue");
	a = ip("2001:db8::1");
	ok(bgp_tagmap_find(m, &a, &t) && t.has_tag && t.tag == 7 && t.has_label, "IPv6 prefix: tag 7 and label");
	a = ip("192.0.2.1");
	ok(bgp_tagmap_find(m, &a, &t) && t.tag == 42, "a row with filter= is ignored: the catch-all row gives 42");
	a = ip("192.0.2.5");
	ok(bgp_tagmap_find(m, &a, &t) && t.has_label && !t.has_tag && strcmp(t.label, "a b") == 0,
	    "a quoted label keeps its blank");
	a = ip("::1");
	ok(bgp_tagmap_find(m, &a, &t) && t.tag == 42, "a row without ip= matches IPv6 too");
	bgp_tagmap_free(m);

	const char *log = slurp(logf);
	char want[160];
	static const struct { int line; const char *what; } warns[] = {
		{ 5, "Bad IP address or prefix 'bogus'" },
		{ 6, "unknown key 'filter'" },
		{ 7, "unknown key 'set_tag2'" },
		{ 8, "Invalid set_tag '-1'" },
		{ 9, "neither set_tag nor set_label" },
	};
	for (size_t i = 0; i < sizeof(warns) / sizeof(warns[0]); i++) {
		snprintf(want, sizeof(want), "[%s:%d] ", map, warns[i].line);
		const char *p = strstr(log, want);
		ok(p && strstr(p, warns[i].what) && strchr(p, '\n') > strstr(p, warns[i].what),
		    "line %d warned: %s", warns[i].line, warns[i].what);
	}

	ok(bgp_tagmap_load("/nonexistent/tag.map", "test") == NULL, "an unreadable file: NULL");
	a = ip("127.0.0.2");
	ok(!bgp_tagmap_find(NULL, &a, &t) && !t.has_tag && !t.has_label, "no map: nothing");

	unlink(map);
	unlink(logf);
	rmdir(dir);
	return tap_done();
}
