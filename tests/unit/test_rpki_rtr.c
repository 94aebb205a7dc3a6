/* SPDX-License-Identifier: BSD-3-Clause */
/* test_rpki_rtr.c: the RTR client's protocol over bytes (RFC 8210 / RFC 6810 PDUs built here by hand). */
#include <arpa/inet.h>
#include <string.h>

#include "maps/roa.h"
#include "pipeline/rpki_rtr.h"
#include "tap.h"

static size_t hdr(uint8_t *b, uint8_t ver, uint8_t type, uint16_t sess, uint32_t len)
{
	b[0] = ver;
	b[1] = type;
	b[2] = (uint8_t)(sess >> 8);
	b[3] = (uint8_t)sess;
	b[4] = (uint8_t)(len >> 24);
	b[5] = (uint8_t)(len >> 16);
	b[6] = (uint8_t)(len >> 8);
	b[7] = (uint8_t)len;
	return 8;
}

static void u32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static size_t pfx(uint8_t *b, uint8_t ver, int announce, const char *addr, uint8_t len, uint8_t maxlen,
    uint32_t asn)
{
	int v6 = strchr(addr, ':') != NULL;
	size_t n = v6 ? 32 : 20;

	hdr(b, ver, v6 ? 6 : 4, 0, (uint32_t)n);
	b[8] = (uint8_t)announce;
	b[9] = len;
	b[10] = maxlen;
	b[11] = 0;
	inet_pton(v6 ? AF_INET6 : AF_INET, addr, b + 12);
	u32(b + 12 + (v6 ? 16 : 4), asn);
	return n;
}

static size_t eod(uint8_t *b, uint8_t ver, uint16_t sess, uint32_t serial)
{
	size_t n = ver ? 24 : 12;

	hdr(b, ver, 7, sess, (uint32_t)n);
	u32(b + 8, serial);
	if (ver) {
		u32(b + 12, 900);
		u32(b + 16, 600);
		u32(b + 20, 7200);
	}
	return n;
}

static int st(struct roa_db *db, const char *addr, uint8_t len, uint32_t asn)
{
	uint8_t a[16] = { 0 };
	int v6 = strchr(addr, ':') != NULL;

	inet_pton(v6 ? AF_INET6 : AF_INET, addr, a);
	roa_db_rdlock(db);
	int s = roa_validate(roa_db_table(db), v6 ? 6 : 4, a, len, asn);
	roa_db_unlock(db);
	return s;
}

/* Feed n bytes in chunks of `step` (PDUs cut anywhere); -1 on the first failure. */
static int feed(struct rtr_sess *s, const uint8_t *b, size_t n, size_t step, uint8_t *out, size_t *olen)
{
	size_t total = 0, o;

	for (size_t i = 0; i < n; i += step) {
		size_t k = n - i < step ? n - i : step;
		if (rtr_sess_input(s, b + i, k, out + total, 256 - total, &o) < 0)
			return -1;
		total += o;
	}
	*olen = total;
	return 0;
}

static void run(uint8_t ver, size_t step)
{
	struct roa_db *db = roa_db_new();
	struct rtr_sess *s = rtr_sess_new(ver, db);
	uint8_t b[1024], out[256];
	size_t n = 0, olen;

	olen = rtr_sess_hello(s, out, sizeof(out));
	ok(olen == 8 && out[0] == ver && out[1] == 2, "v%u: the first query is a Reset Query", ver);
	n += hdr(b + n, ver, 3, 77, 8);
	n += pfx(b + n, ver, 1, "10.1.0.0", 16, 24, 65001);
	n += pfx(b + n, ver, 1, "2001:db8::", 32, 48, 65010);
	n += eod(b + n, ver, 77, 5);
	ok(feed(s, b, n, step, out, &olen) == 0 && olen == 0, "v%u step %zu: a response, nothing to send",
	    ver, step);
	is_int(st(db, "10.1.2.0", 24, 65001), ROA_VALID, "its IPv4 ROA applied");
	is_int(st(db, "2001:db8:1::", 48, 65010), ROA_VALID, "its IPv6 ROA applied");
	/* Serial Notify: a Serial Query with session 77 and serial 5 */
	n = hdr(b, ver, 0, 77, 12);
	u32(b + 8, 6);
	n += 4;
	ok(feed(s, b, n, step, out, &olen) == 0 && olen == 12 && out[1] == 1 && out[2] == 0 && out[3] == 77 &&
	    out[11] == 5, "Serial Notify: a Serial Query for serial 5");
	/* the increment: withdraw the IPv4 ROA, add another; nothing changes before End of Data */
	n = hdr(b, ver, 3, 77, 8);
	n += pfx(b + n, ver, 0, "10.1.0.0", 16, 24, 65001);
	n += pfx(b + n, ver, 1, "10.2.0.0", 16, 16, 65002);
	ok(feed(s, b, n, step, out, &olen) == 0, "an incremental response");
	is_int(st(db, "10.1.2.0", 24, 65001), ROA_VALID, "not applied before its End of Data");
	n = eod(b, ver, 77, 6);
	ok(feed(s, b, n, step, out, &olen) == 0, "its End of Data");
	is_int(st(db, "10.1.2.0", 24, 65001), ROA_UNKNOWN, "withdrawn");
	is_int(st(db, "10.2.0.0", 16, 65002), ROA_VALID, "announced");
	is_int(st(db, "2001:db8:1::", 48, 65010), ROA_VALID, "the rest kept");
	/* Cache Reset: a Reset Query; its response replaces everything */
	n = hdr(b, ver, 8, 0, 8);
	ok(feed(s, b, n, step, out, &olen) == 0 && olen == 8 && out[1] == 2, "Cache Reset: a Reset Query");
	n = hdr(b, ver, 3, 78, 8);
	n += pfx(b + n, ver, 1, "10.9.0.0", 16, 16, 65009);
	n += eod(b + n, ver, 78, 1);
	ok(feed(s, b, n, step, out, &olen) == 0, "a new session's full response");
	is_int(st(db, "10.2.0.0", 16, 65002), ROA_UNKNOWN, "the old ROAs gone");
	is_int(st(db, "10.9.0.0", 16, 65009), ROA_VALID, "the new one there");
	/* what ends a connection */
	n = hdr(b, (uint8_t)(ver ^ 1), 0, 78, 12);
	u32(b + 8, 2);
	n += 4;
	is_int(feed(s, b, n, step, out, &olen), -1, "another version: the connection ends");
	rtr_sess_reset_input(s);
	n = hdr(b, ver, 4, 0, 20000000);
	is_int(feed(s, b, n, step, out, &olen), -1, "a PDU length past the limit ends it");
	rtr_sess_reset_input(s);
	n = hdr(b, ver, 10, 2, 8 + 4 + 4 + 5);
	u32(b + 8, 0);
	u32(b + 12, 5);
	memcpy(b + 16, "nope!", 5);
	n += 13;
	is_int(feed(s, b, n, step, out, &olen), -1, "an Error Report ends it");
	rtr_sess_reset_input(s);
	n = pfx(b, ver, 1, "10.0.0.0", 8, 8, 1);
	is_int(feed(s, b, n, step, out, &olen), -1, "a prefix outside a response ends it");
	rtr_sess_reset_input(s);
	n = hdr(b, ver, 4, 0, 19);
	is_int(feed(s, b, n + 11, step, out, &olen), -1, "a prefix PDU of the wrong length ends it");
	rtr_sess_reset_input(s);
	n = hdr(b, ver, 99, 0, 8);
	is_int(feed(s, b, n, step, out, &olen), -1, "an unknown PDU type ends it");
	rtr_sess_reset_input(s);
	olen = rtr_sess_hello(s, out, sizeof(out));
	ok(olen == 12 && out[1] == 1, "a reconnection asks from its serial (Serial Query)");
	rtr_sess_free(s);
	roa_db_free(db);
}

int main(void)
{
	run(1, 1000);
	run(1, 1);
	run(0, 3);
	return tap_done();
}
