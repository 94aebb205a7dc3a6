/* SPDX-License-Identifier: BSD-3-Clause */
/* test_rd.c: the bounded reader at every width, on 0-, 1- and n-byte buffers. */
#include <string.h>

#include "lib/rd.h"
#include "tap.h"

/* is_int() evaluates each argument once (tap.h); reads still go through a variable so that
 * their order is the order of the statements, not of a call's arguments. */

static void test_empty(void)
{
	uint64_t v;
	struct rd r = rd_make(NULL, 0);
	uint8_t dst[4] = { 1, 2, 3, 4 };

	v = rd_peek8(&r);
	is_int(v, 0, "peek on empty is 0");
	ok(!r.bad, "peek does not set bad");
	ok(rd_take(&r, 0) == NULL && !r.bad, "take 0 from empty: its (NULL) start, not bad");
	ok(!r.bad && r.left == 0, "take 0 keeps good");
	struct rd z = rd_make(dst, 0);
	ok(rd_take(&z, 0) == dst && !z.bad && z.left == 0, "take 0 from a 0-byte buffer: its start, not bad");
	v = rd_u8(&r);
	is_int(v, 0, "u8 on empty");
	ok(r.bad, "u8 on empty sets bad");
	r = rd_make(NULL, 0);
	v = rd_u16(&r);
	is_int(v, 0, "u16 on empty");
	ok(r.bad, "u16 bad");
	r = rd_make(NULL, 0);
	rd_copy(&r, dst, 4);
	ok(r.bad && dst[0] == 0 && dst[3] == 0, "copy on empty zero-fills");
}

static void test_one(void)
{
	uint64_t v;
	const uint8_t b[1] = { 0xab };
	struct rd r = rd_make(b, 1);

	v = rd_peek8(&r);
	is_int(v, 0xab, "peek one");
	v = rd_u8(&r);
	is_int(v, 0xab, "u8 one");
	ok(!r.bad && r.left == 0, "consumed");
	v = rd_u8(&r);
	is_int(v, 0, "u8 past end");
	ok(r.bad, "bad past end");
	r = rd_make(b, 1);
	v = rd_u16(&r);
	is_int(v, 0, "u16 on 1 byte");
	ok(r.bad && r.left == 0, "u16 on 1 byte: bad, emptied");
	r = rd_make(b, 1);
	v = rd_u24(&r);
	is_int(v, 0, "u24 on 1 byte");
	r = rd_make(b, 1);
	v = rd_u32(&r);
	is_int(v, 0, "u32 on 1 byte");
	r = rd_make(b, 1);
	v = rd_le32(&r);
	is_int(v, 0, "le32 on 1 byte");
	r = rd_make(b, 1);
	ok(rd_u64(&r) == 0 && r.bad, "u64 on 1 byte");
}

static void test_widths(void)
{
	uint64_t v;
	const uint8_t b[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct rd r = rd_make(b, sizeof(b));

	v = rd_u8(&r);
	is_int(v, 0x01, "u8");
	v = rd_u16(&r);
	is_int(v, 0x0203, "u16 big-endian");
	v = rd_u24(&r);
	is_int(v, 0x040506, "u24");
	v = rd_u32(&r);
	is_int(v, 0x0708090a, "u32");
	is_int(r.left, 2, "left 2");
	ok(!r.bad, "still good");
	v = rd_u32(&r);
	is_int(v, 0, "u32 with 2 left");
	ok(r.bad && r.left == 0, "sticky bad, emptied");
	v = rd_u8(&r);
	is_int(v, 0, "read after bad");
	ok(rd_take(&r, 0) == NULL, "take 0 after bad is NULL");

	r = rd_make(b, 8);
	ok(rd_u64(&r) == 0x0102030405060708ULL, "u64");
	r = rd_make(b, 4);
	v = rd_le32(&r);
	is_int(v, 0x04030201, "le32");
	r = rd_make(b, 4);
	v = rd_u32(&r);
	is_int(v, 0x01020304, "u32 exact size");
	ok(!r.bad && r.left == 0, "exact size good");
	r = rd_make(b, 3);
	v = rd_u24(&r);
	is_int(v, 0x010203, "u24 exact");
	r = rd_make(b, 7);
	v = rd_u64(&r);
	is_int(v, 0, "u64 on 7 bytes: 0, as every width on a short buffer");
	ok(r.bad && r.left == 0, "u64 on 7 bytes: bad");
}

static void test_skip_copy(void)
{
	const uint8_t b[6] = { 9, 8, 7, 6, 5, 4 };
	uint8_t d[3];
	struct rd r = rd_make(b, sizeof(b));

	rd_skip(&r, 2);
	rd_copy(&r, d, 3);
	ok(!r.bad && d[0] == 7 && d[2] == 5, "skip then copy");
	rd_skip(&r, 2);
	ok(r.bad && r.left == 0, "skip past end");
	r = rd_make(b, sizeof(b));
	rd_skip(&r, 6);
	ok(!r.bad && r.left == 0, "skip exactly to end");
	r = rd_make(b, sizeof(b));
	rd_skip(&r, (size_t)-1);
	ok(r.bad, "huge skip");
}

static void test_sub(void)
{
	uint64_t v;
	const uint8_t b[6] = { 1, 2, 3, 4, 5, 6 };
	struct rd r = rd_make(b, sizeof(b)), c;

	rd_skip(&r, 1);
	c = rd_sub(&r, 3);
	ok(!c.bad && c.left == 3, "sub of 3");
	is_int(r.left, 2, "parent advanced");
	v = rd_u16(&c);
	is_int(v, 0x0203, "child reads its bytes");
	v = rd_u16(&c);
	is_int(v, 0, "child bounded");
	ok(c.bad && !r.bad, "child bad does not taint parent");
	v = rd_u16(&r);
	is_int(v, 0x0506, "parent continues");
	c = rd_sub(&r, 1);
	ok(c.bad && c.left == 0 && r.bad, "sub past end: both bad");
	r = rd_make(b, sizeof(b));
	c = rd_sub(&r, 0);
	ok(!c.bad && c.left == 0, "sub of 0");
	v = rd_u8(&c);
	is_int(v, 0, "read from empty sub");
	ok(c.bad, "empty sub bad after read");
}

int main(void)
{
	test_empty();
	test_one();
	test_widths();
	test_skip_copy();
	test_sub();
	return tap_done();
}
