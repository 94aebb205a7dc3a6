/* SPDX-License-Identifier: BSD-3-Clause */
/* test_roa.c: the ROA table and RFC 6811 validation against a brute-force reference; the JSON ROA file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps/roa.h"
#include "tap.h"

static struct roa mk(const char *addr, unsigned len, unsigned maxlen, uint32_t asn)
{
	struct roa r;
	struct fr_ip ip;

	memset(&r, 0, sizeof(r));
	fr_ip_parse(addr, &ip);
	r.af = ip.af;
	r.len = (uint8_t)len;
	r.maxlen = (uint8_t)maxlen;
	r.asn = asn;
	memcpy(r.addr, ip.a, 16);
	return r;
}

static enum roa_state val(const struct roa_table *t, const char *addr, unsigned len, uint32_t asn)
{
	struct fr_ip ip;

	fr_ip_parse(addr, &ip);
	return roa_validate(t, ip.af, ip.a, (uint8_t)len, asn);
}

/* The RFC 6811 examples and the edges: maxLength, AS 0, several ROAs per prefix. */
static void test_states(void)
{
	struct roa_table *t = roa_table_new();
	struct roa r;

	is_int(val(t, "10.0.0.0", 8, 1), ROA_UNKNOWN, "empty table: unknown");
	r = mk("10.1.0.0", 16, 24, 65001);
	is_int(roa_add(t, &r), 0, "add 10.1.0.0/16-24 AS65001");
	r = mk("10.1.0.0", 16, 24, 65001);
	roa_add(t, &r);
	is_int(roa_table_count(t), 1, "the same ROA twice is held once");
	is_int(val(t, "10.1.0.0", 16, 65001), ROA_VALID, "exact prefix, right AS: valid");
	is_int(val(t, "10.1.7.0", 24, 65001), ROA_VALID, "/24 within maxLength: valid");
	is_int(val(t, "10.1.7.0", 25, 65001), ROA_INVALID, "/25 past maxLength: invalid");
	is_int(val(t, "10.1.0.0", 16, 65002), ROA_INVALID, "other AS: invalid");
	is_int(val(t, "10.0.0.0", 8, 65001), ROA_UNKNOWN, "a less specific route is not covered: unknown");
	is_int(val(t, "10.2.0.0", 16, 65001), ROA_UNKNOWN, "outside: unknown");
	is_int(val(t, "10.1.0.0", 16, 0), ROA_INVALID, "origin NONE (AS_SET) never matches: invalid");
	r = mk("10.1.0.0", 16, 16, 65002);
	roa_add(t, &r);
	is_int(val(t, "10.1.0.0", 16, 65002), ROA_VALID, "a second ROA of the prefix: its AS valid");
	is_int(val(t, "10.1.2.0", 24, 65002), ROA_INVALID, "... within its maxLength only");
	r = mk("192.0.2.0", 24, 24, 0);
	roa_add(t, &r);
	is_int(val(t, "192.0.2.0", 24, 0), ROA_INVALID, "AS0 ROA: invalid (RFC 7607), even for origin 0");
	r = mk("2001:db8::", 32, 48, 65010);
	roa_add(t, &r);
	is_int(val(t, "2001:db8:1::", 48, 65010), ROA_VALID, "IPv6 /48 within maxLength 48: valid");
	is_int(val(t, "2001:db8:1::", 49, 65010), ROA_INVALID, "IPv6 /49: invalid");
	is_int(val(t, "2001:db9::", 32, 65010), ROA_UNKNOWN, "IPv6 outside: unknown");
	r = mk("10.1.0.0", 16, 16, 65002);
	ok(roa_del(t, &r), "delete the second ROA");
	is_int(val(t, "10.1.0.0", 16, 65002), ROA_INVALID, "then its AS is invalid again");
	ok(!roa_del(t, &r), "deleting it again finds nothing");
	r = mk("10.0.0.0", 16, 8, 1);
	is_int(roa_add(t, &r), -1, "maxLength < length refused");
	r = mk("10.0.0.0", 33, 33, 1);
	is_int(roa_add(t, &r), -1, "IPv4 /33 refused");
	roa_table_clear(t);
	is_int(val(t, "10.1.0.0", 16, 65001), ROA_UNKNOWN, "cleared: unknown");
	roa_table_free(t);
}

/* A ROA set kept as a plain list, validated by scanning every ROA (RFC 6811 2 word for word). */
struct ref {
	struct roa *r;
	int n;
};

static bool covers(const struct roa *x, uint8_t af, const uint8_t *addr, unsigned len)
{
	if (x->af != af || x->len > len)
		return false;
	for (unsigned b = 0; b < x->len; b++) {
		unsigned bit = 7 - b % 8;
		if (((x->addr[b / 8] >> bit) & 1) != ((addr[b / 8] >> bit) & 1))
			return false;
	}
	return true;
}

static enum roa_state ref_validate(const struct ref *rf, uint8_t af, const uint8_t *addr, unsigned len,
    uint32_t asn)
{
	bool covered = false;

	for (int i = 0; i < rf->n; i++) {
		const struct roa *x = &rf->r[i];
		if (!covers(x, af, addr, len))
			continue;
		covered = true;
		if (asn != 0 && x->asn == asn && len <= x->maxlen)
			return ROA_VALID;
	}
	return covered ? ROA_INVALID : ROA_UNKNOWN;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* Random ROAs and routes in a small space (so that they overlap), both families. */
static void test_against_reference(void)
{
	struct roa_table *t = roa_table_new();
	struct ref rf = { calloc(4000, sizeof(struct roa)), 0 };
	int bad = 0, checks = 0, del = 0;
	int states[256] = { 0 };

	for (int i = 0; i < 4000; i++) {
		struct roa r;
		memset(&r, 0, sizeof(r));
		r.af = rnd() % 4 ? 4 : 6;
		unsigned bits = r.af == 4 ? 32 : 128;
		r.len = (uint8_t)(r.af == 4 ? 8 + rnd() % 17 : 16 + rnd() % 33);
		r.maxlen = (uint8_t)(r.len + rnd() % (bits - r.len + 1) % 9);
		r.asn = 65000 + rnd() % 8;
		r.addr[0] = r.af == 4 ? 10 : 0x20;
		r.addr[1] = (uint8_t)(rnd() % 4);
		r.addr[2] = (uint8_t)(rnd() % 8 << 5);
		r.addr[3] = (uint8_t)(rnd() % 4 << 6);
		r.addr[5] = (uint8_t)(rnd() % 2 << 7);
		/* the reference holds what the table holds: host bits cleared */
		for (unsigned b = r.len; b < 128; b++)
			r.addr[b / 8] &= (uint8_t)~(1u << (7 - b % 8));
		bool dup = false;
		for (int k = 0; k < rf.n; k++)
			dup = dup || memcmp(&rf.r[k], &r, sizeof(r)) == 0;
		if (roa_add(t, &r) == 0 && !dup)
			rf.r[rf.n++] = r;
	}
	/* delete a fifth of them from both */
	for (int i = 0; i < rf.n; i++)
		if (rnd() % 5 == 0) {
			del += roa_del(t, &rf.r[i]);
			rf.r[i] = rf.r[--rf.n];
		}
	is_int(roa_table_count(t), rf.n, "table and reference hold as many ROAs");
	for (int i = 0; i < 200000; i++) {
		uint8_t af = rnd() % 4 ? 4 : 6, a[16] = { 0 };
		unsigned len = af == 4 ? rnd() % 33 : rnd() % 65;
		uint32_t asn = rnd() % 10 == 0 ? 0 : 65000 + rnd() % 9;
		a[0] = af == 4 ? 10 : 0x20;
		if (rnd() % 50 == 0)
			a[0] = (uint8_t)rnd();
		a[1] = (uint8_t)(rnd() % 4);
		a[2] = (uint8_t)rnd();
		a[3] = (uint8_t)rnd();
		a[5] = (uint8_t)rnd();
		enum roa_state want = ref_validate(&rf, af, a, len, asn);
		enum roa_state got = roa_validate(t, af, a, (uint8_t)len, asn);
		states[want]++;
		checks++;
		if (got != want && bad++ < 5)
			fprintf(stderr, "# af %u len %u asn %u: got %d want %d\n", af, len, asn, got, want);
	}
	is_int(bad, 0, "200000 random routes: the table's state is the brute-force reference's");
	ok(states[ROA_VALID] > 1000 && states[ROA_INVALID] > 1000 && states[ROA_UNKNOWN] > 1000,
	    "every state met (valid %d, invalid %d, unknown %d) of %d", states[ROA_VALID],
	    states[ROA_INVALID], states[ROA_UNKNOWN], checks);
	ok(del > 0, "deletions exercised (%d)", del);
	free(rf.r);
	roa_table_free(t);
}

static struct roa_table *parse(const char *s, char *why)
{
	return roa_parse_json(s, strlen(s), "roas.json", "test", why, 256);
}

static void test_json(void)
{
	char why[256] = "";
	struct roa_table *t;

	t = parse("{\n  \"roas\" : [ {\n    \"asn\" : \"AS2914\",\n    \"prefix\" : \"128.121.0.0/16\",\n"
	    "    \"maxLength\" : 16,\n    \"ta\" : \"ARIN\"\n  }, {\n    \"asn\" : \"AS2914\",\n"
	    "    \"prefix\" : \"128.121.0.0/19\",\n    \"maxLength\" : 24,\n    \"ta\" : \"ARIN\"\n  } ]\n}\n", why);
	ok(t && roa_table_count(t) == 2, "CONFIG-KEYS' example: 2 ROAs");
	is_int(val(t, "128.121.4.0", 24, 2914), ROA_VALID, "its /19-24 validates a /24");
	roa_table_free(t);
	/* rpki-client: numbers for asn, metadata, unicode escapes, nested values */
	t = parse("{\"metadata\": {\"buildtime\": \"x\", \"counts\": [1, 2.5, true, null]},"
	    "\"roas\": [{\"asn\": 13335, \"prefix\": \"1.0.0.0/24\", \"maxLength\": 24, \"ta\": \"apnic\","
	    " \"expires\": 1700000000}, {\"asn\": \"AS13335\", \"prefix\": \"2606:4700::/32\","
	    " \"maxLength\": 48, \"ta\": \"\\u0041rin\"}]}", why);
	ok(t && roa_table_count(t) == 2, "rpki-client's layout: numeric asn, metadata: 2 ROAs");
	is_int(val(t, "2606:4700:10::", 44, 13335), ROA_VALID, "IPv6 ROA validates");
	roa_table_free(t);
	/* bad ROAs are skipped, the others kept */
	t = parse("{\"roas\": [{\"prefix\": \"10.0.0.0/8\", \"maxLength\": 8},"
	    "{\"asn\": \"AS1\", \"maxLength\": 8}, {\"asn\": \"ASx\", \"prefix\": \"10.0.0.0/8\", \"maxLength\": 8},"
	    "{\"asn\": \"AS1\", \"prefix\": \"10.0.0.0/33\", \"maxLength\": 8},"
	    "{\"asn\": \"AS1\", \"prefix\": \"10.0.0.0/8\"}, {\"asn\": \"AS1\", \"prefix\": \"10.0.0.0/8\", \"maxLength\": 4},"
	    "{\"asn\": \"AS1\", \"prefix\": \"10.0.0.0/8\", \"maxLength\": \"8\"}, 7,"
	    "{\"asn\": \"AS2\", \"prefix\": \"10.0.0.0/8\", \"maxLength\": 8}]}", why);
	ok(t && roa_table_count(t) == 1, "8 bad ROAs skipped, the good one kept");
	roa_table_free(t);
	ok(parse("{\"roa\": []}", why) == NULL && strstr(why, "no 'roas' element"), "no roas: %s", why);
	ok(parse("{\"roas\": {}}", why) == NULL && strstr(why, "no 'roas' element"), "roas not an array: %s", why);
	ok(parse("{\"roas\": [\n{\"asn\": \"AS1\",\n\"prefix\" 1}]}", why) == NULL &&
	    strstr(why, "[roas.json:3]"), "broken JSON names its line: %s", why);
	ok(parse("[]", why) == NULL, "not an object: %s", why);
	ok(parse("{\"roas\": []} x", why) == NULL, "trailing data: %s", why);
	ok(parse("{\"roas\": [\"\\q\"]}", why) == NULL, "bad escape: %s", why);
	char deep[400];
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = 0;
	char doc[500];
	snprintf(doc, sizeof(doc), "{\"x\": %s", deep);
	ok(parse(doc, why) == NULL, "deep nesting refused: %s", why);
	t = parse("{\"roas\": []}", why);
	ok(t && roa_table_count(t) == 0, "an empty list is fine");
	roa_table_free(t);
	ok(roa_load_json("/nonexistent/roas.json", "test", why, sizeof(why)) == NULL &&
	    strstr(why, "/nonexistent/roas.json"), "a missing file: %s", why);
}

static void test_db(void)
{
	struct roa_db *db = roa_db_new();
	struct roa_table *t = roa_table_new();
	struct roa r = mk("10.0.0.0", 8, 8, 1);

	roa_add(t, &r);
	roa_db_swap(db, t);
	roa_db_rdlock(db);
	is_int(val(roa_db_table(db), "10.0.0.0", 8, 1), ROA_VALID, "the swapped-in table is read");
	roa_db_unlock(db);
	roa_db_free(db);
}

int main(void)
{
	test_states();
	test_against_reference();
	test_json();
	test_db();
	return tap_done();
}
