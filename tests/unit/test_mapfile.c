/* SPDX-License-Identifier: BSD-3-Clause */
/* test_mapfile.c: the map-file reader and tokenizer, and the loaders on it (long rows, line numbers, CRLF, errors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mapfile.h"
#include "maps/allow.h"
#include "maps/rdmap.h"
#include "maps/sampling_map.h"
#include "maps/tee_map.h"
#include "model/prim.h"
#include "tap.h"

#define LONG_ROW 5000		/* longer than any buffer a loader ever had (4096) */

static char map_path[64], log_path[64];

static void write_map(const char *text)
{
	FILE *f;

	strcpy(map_path, "/tmp/test_mapfile_XXXXXX");
	int fd = mkstemp(map_path);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		abort();
	fputs(text, f);
	fclose(f);
}

/* "<head><n blanks><tail>": one row far longer than 4096 bytes. */
static char *long_row(const char *head, size_t n, const char *tail)
{
	char *s = malloc(strlen(head) + n + strlen(tail) + 1);

	if (!s)
		abort();
	strcpy(s, head);
	memset(s + strlen(head), ' ', n);
	strcpy(s + strlen(head) + n, tail);
	return s;
}

/* Does the log mention "[map:line]" with `what`? */
static bool logged(unsigned line, const char *what)
{
	char needle[96], buf[8192];
	bool found = false;
	FILE *f = fopen(log_path, "r");

	if (!f)
		return false;
	snprintf(needle, sizeof(needle), "[%s:%u] ", map_path, line);
	while (fgets(buf, sizeof(buf), f))
		if (strstr(buf, needle) && strstr(buf, what))
			found = true;
	fclose(f);
	return found;
}

static void test_rows(void)
{
	char *lr = long_row("key=a", LONG_ROW, "tail=b\n");
	char text[LONG_ROW + 256];
	struct mapfile mf;
	char *row;

	snprintf(text, sizeof(text), "! comment\n# comment\n\n   \n  first  \r\n%s"
	    "\t! indented comment\nafter\nlast", lr);
	free(lr);
	write_map(text);
	ok(mapfile_init(&mf, map_path) == 0, "opens");
	row = mapfile_next(&mf);
	ok(row && strcmp(row, "first") == 0 && mf.line == 5, "blanks, comments skipped; CRLF and "
	    "blanks trimmed: '%s' at %u", row ? row : "(null)", mf.line);
	is_int(mf.raw_len, 9, "raw length: as written, without the line end");
	row = mapfile_next(&mf);
	ok(row && strncmp(row, "key=a", 5) == 0 && strstr(row, "tail=b") && mf.line == 6,
	    "a %d-byte row is one row, line 6 (%u)", LONG_ROW, mf.line);
	ok(row && strlen(row) == 5 + LONG_ROW + 6, "nothing of it lost");
	ok(mapfile_too_long(&mf, 288) && !mapfile_too_long(&mf, 0) &&
	    !mapfile_too_long(&mf, LONG_ROW + 13), "too long for maps_row_len 288, not for 0 or its size");
	ok(mapfile_too_long(&mf, LONG_ROW + 12), "a row must fit with its newline and NUL");
	row = mapfile_next(&mf);
	ok(row && strcmp(row, "after") == 0 && mf.line == 8, "line numbers right after it (%u)", mf.line);
	row = mapfile_next(&mf);
	ok(row && strcmp(row, "last") == 0 && mf.line == 9, "a last row without a newline");
	ok(mapfile_next(&mf) == NULL && mapfile_next(&mf) == NULL, "then the end, and it stays");
	char err[128];
	mapfile_fail(&mf, err, sizeof(err), "bad %s", "thing");
	char want[128];
	snprintf(want, sizeof(want), "[%s:9] bad thing", map_path);
	is_str(err, want, "error text: [file:line] reason");
	mapfile_fini(&mf);
	mapfile_fini(&mf);
	unlink(map_path);

	ok(mapfile_init(&mf, "/nonexistent/map") < 0 && mapfile_next(&mf) == NULL, "missing file: -1");
	mapfile_fini(&mf);

	write_map("");
	ok(mapfile_init(&mf, map_path) == 0 && mapfile_next(&mf) == NULL, "empty file: no row");
	mapfile_fini(&mf);
	unlink(map_path);
}

static void test_tokens(void)
{
	char row[] = "id=1  ip=10.0.0.1\tfilter='tcp and port 80' x= bare =v e=\"open";
	char *c = row;
	struct mapfile_kv kv;

	ok(mapfile_kv_next(&c, MAPFILE_QUOTES, &kv) == MAPFILE_TOK_KV && strcmp(kv.key, "id") == 0 &&
	    strcmp(kv.val, "1") == 0, "key=value");
	ok(mapfile_kv_next(&c, MAPFILE_QUOTES, &kv) == MAPFILE_TOK_KV && strcmp(kv.key, "ip") == 0 &&
	    strcmp(kv.val, "10.0.0.1") == 0, "blanks and tabs separate");
	ok(mapfile_kv_next(&c, MAPFILE_QUOTES, &kv) == MAPFILE_TOK_KV &&
	    strcmp(kv.val, "tcp and port 80") == 0, "a quoted value holds blanks");
	ok(mapfile_kv_next(&c, MAPFILE_QUOTES, &kv) == MAPFILE_TOK_KV && strcmp(kv.key, "x") == 0 &&
	    kv.val[0] == '\0', "an empty value is the loader's to judge");
	ok(mapfile_kv_next(&c, MAPFILE_QUOTES, &kv) == MAPFILE_TOK_WORD && strcmp(kv.word, "bare") == 0,
	    "a word without '='");
	ok(mapfile_kv_next(&c, MAPFILE_QUOTES, &kv) == MAPFILE_TOK_WORD && strcmp(kv.word, "=v") == 0,
	    "nothing before '=': not key=value");
	ok(mapfile_kv_next(&c, MAPFILE_QUOTES, &kv) == MAPFILE_TOK_QUOTE, "an unclosed quote");
	ok(mapfile_kv_next(&c, MAPFILE_QUOTES, &kv) == MAPFILE_TOK_END, "then the end");

	char row2[] = "f='a b'";
	c = row2;
	ok(mapfile_kv_next(&c, 0, &kv) == MAPFILE_TOK_KV && strcmp(kv.val, "'a") == 0 &&
	    mapfile_kv_next(&c, 0, &kv) == MAPFILE_TOK_WORD, "without MAPFILE_QUOTES a quote is text");

	static const struct mapfile_key keys[] = { { "id", 7 }, { "ip", 9 } };
	ok(mapfile_key_id(keys, 2, "ip") == 9 && mapfile_key_id(keys, 2, "id") == 7, "key table");
	ok(mapfile_key_id(keys, 2, "ID") == -1 && mapfile_key_id(keys, 2, "Ip") == -1,
	    "keys are case-sensitive, as pmacct 1.7.7 ('ID' is an unknown key)");
	ok(mapfile_key_id(keys, 2, "i") == -1 && mapfile_key_id(keys, 2, "") == -1, "no prefix match");
}

/* Each loader on a row past 4096 bytes: one row, the next one numbered right. */
static void test_loaders(void)
{
	char *lr = long_row("id=1 ", LONG_ROW, "ip=10.0.0.1");
	char text[LONG_ROW + 512], err[512];
	struct prim_registry *reg;

	/* sampling_map: the long row loads; the bad row after it is named with its line */
	snprintf(text, sizeof(text), "# c\n%s\r\nid=2 ip=bogus\nID=3 ip=10.0.0.3\n", lr);
	write_map(text);
	struct sampling_map *sm = sampling_map_load(map_path, 0, err, sizeof(err));
	struct fr_ip a = { .af = 4, .a = { 10, 0, 0, 1 } };
	ok(sm && sampling_map_count(sm) == 1 && sampling_map_lookup(sm, &a, 0, 0) == 1,
	    "sampling_map: a long row is one rule");
	ok(logged(3, "invalid value 'bogus'"), "sampling_map: the row after it is line 3");
	ok(logged(4, "unknown key 'ID'"), "sampling_map: 'ID' is an unknown key");
	sampling_map_free(sm);
	unlink(map_path);

	/* flow_to_rd_map: the error names the row after the long one */
	free(lr);
	lr = long_row("id=0:65000:1 ", LONG_ROW, "ip=10.0.0.1");
	snprintf(text, sizeof(text), "%s\nid=0:65000:2 ip=10.0.0.2 in=x\n", lr);
	write_map(text);
	struct rd_map *rm = rdmap_load(map_path, err, sizeof(err));
	char want[128];
	snprintf(want, sizeof(want), "[%s:2] in 'x': expected a number", map_path);
	ok(!rm && strcmp(err, want) == 0, "flow_to_rd_map: error on line 2: %s", err);
	unlink(map_path);
	snprintf(text, sizeof(text), "%s\nID=0:65000:2 ip=10.0.0.2\n", lr);
	write_map(text);
	rm = rdmap_load(map_path, err, sizeof(err));
	ok(!rm && strstr(err, ":2] unknown key 'ID'"), "flow_to_rd_map: keys are lower case: %s", err);
	unlink(map_path);
	snprintf(text, sizeof(text), "%s", lr);
	write_map(text);
	rm = rdmap_load(map_path, err, sizeof(err));
	ok(rm && rdmap_count(rm) == 1, "flow_to_rd_map: a long last row without a newline loads");
	rdmap_free(rm);
	unlink(map_path);
	free(lr);

	/* aggregate_primitives: no row length limit, true line numbers */
	reg = prim_registry_new();
	lr = long_row("name=foo field_type=100 ", LONG_ROW, "len=4 semantics=u_int");
	snprintf(text, sizeof(text), "! c\n%s\nname=bar field_type=101 len=3 semantics=u_int\n", lr);
	write_map(text);
	ok(prim_custom_load(reg, map_path, err, sizeof(err)) < 0 && strstr(err, ":3] u_int") &&
	    strstr(err, map_path), "aggregate_primitives: error on line 3: %s", err);
	unlink(map_path);
	snprintf(text, sizeof(text), "%s\n", lr);
	write_map(text);
	ok(prim_custom_load(reg, map_path, err, sizeof(err)) == 0 && prim_custom_count(reg) == 1,
	    "aggregate_primitives: a long row is one definition");
	unlink(map_path);
	write_map("NAME=foo field_type=100 len=4 semantics=u_int\n");
	ok(prim_custom_load(reg, map_path, err, sizeof(err)) < 0 && strstr(err, ":1] unknown key 'NAME'"),
	    "aggregate_primitives: keys are lower case, as 1.7.7: %s", err);
	unlink(map_path);
	prim_registry_free(reg);
	free(lr);
}

static void test_allow(void)
{
	char *lr = long_row("10.0.0.1", LONG_ROW, "");
	char text[LONG_ROW + 256];

	snprintf(text, sizeof(text), "! c\n  10.1.0.0/16 \r\n%s\nbogus\n2001:db8::/32\n10.9.9.9/33", lr);
	free(lr);
	write_map(text);
	struct allow_list *al = allow_load(map_path, "default/core");
	struct fr_ip in = { .af = 4, .a = { 10, 1, 2, 3 } }, one = { .af = 4, .a = { 10, 0, 0, 1 } };
	struct fr_ip out = { .af = 4, .a = { 10, 2, 0, 1 } };
	struct fr_ip v6 = { .af = 6, .a = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 } };
	ok(al && allow_count(al) == 3, "allow: 3 prefixes (%zu)", allow_count(al));
	ok(allow_match(al, &in) && allow_match(al, &one) && allow_match(al, &v6), "allow: inside");
	ok(!allow_match(al, &out), "allow: outside");
	ok(logged(4, "invalid address or prefix 'bogus'"), "allow: bad row named with its line");
	ok(logged(6, "'10.9.9.9/33'"), "allow: bad last row without a newline");
	allow_free(al);
	unlink(map_path);
	ok(allow_match(NULL, &out), "allow: no list allows everyone");
	allow_free(NULL);
	ok(allow_load("/nonexistent/allow", "default/core") == NULL, "allow: missing file: NULL");

	write_map("! nobody\n");
	al = allow_load(map_path, "default/core");
	ok(al && allow_count(al) == 0 && !allow_match(al, &in), "allow: an empty file allows nobody");
	allow_free(al);
	unlink(map_path);
}

static void test_tee_rows(void)
{
	struct tee_map_row r;
	char why[256];
	char ok1[] = "id=2 ip=10.0.0.1:2100,10.0.0.2:2100 tag=1-5 balance-alg=hash-tag";

	ok(tee_map_row_parse(ok1, &r, why, sizeof(why)) == 0 && r.id == 2 &&
	    strcmp(r.ip, "10.0.0.1:2100,10.0.0.2:2100") == 0 && r.alg == TEE_HASH_TAG && r.tags &&
	    tagfilter_pass(r.tags, 3) && !tagfilter_pass(r.tags, 6), "tee: a full row");
	free(r.tags);
	char ok2[] = "ip=[::1]:2100 id=7";
	ok(tee_map_row_parse(ok2, &r, why, sizeof(why)) == 0 && r.id == 7 && r.alg == TEE_ALL &&
	    !r.tags, "tee: any order, defaults");

	static const struct { const char *row, *why; } bad[] = {
		{ "bogus", "'bogus' is not key=value" },
		{ "id=1", "'id' and 'ip' are required" },
		{ "ip=10.0.0.1:1", "'id' and 'ip' are required" },
		{ "id=0 ip=10.0.0.1:1", "id '0' is not a positive number" },
		{ "id=1 ip=10.0.0.1:1 balance-alg=xx", "balance-alg 'xx'" },
		{ "id=1 ip=10.0.0.1:1 tag=1 foo=2", "unknown key 'foo' (id, ip, tag, balance-alg)" },
		{ "ID=1 ip=10.0.0.1:1", "unknown key 'ID'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char row[128];
		snprintf(row, sizeof(row), "%s", bad[i].row);
		int rc = tee_map_row_parse(row, &r, why, sizeof(why));
		ok(rc < 0 && strstr(why, bad[i].why) && !r.tags, "tee: '%s' refused: %s", bad[i].row, why);
	}
}

int main(void)
{
	strcpy(log_path, "/tmp/test_mapfile_log_XXXXXX");
	int fd = mkstemp(log_path);
	if (fd < 0)
		abort();
	close(fd);
	if (log_open(log_path, NULL, false) < 0)
		abort();
	test_rows();
	test_tokens();
	test_loaders();
	test_allow();
	test_tee_rows();
	unlink(log_path);
	return tap_done();
}
