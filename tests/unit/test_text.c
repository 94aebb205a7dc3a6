/* SPDX-License-Identifier: BSD-3-Clause */
/* test_text.c: lib/text and lib/clock: trimming, MAC, number and protocol parsers, clock readings. */
#include <string.h>

#include "lib/clock.h"
#include "lib/text.h"
#include "tap.h"

static void test_trim(void)
{
	char a[] = "  \t key = value \r\n", b[] = "", c[] = "   ", d[] = "x";

	is_str(text_trim(a), "key = value", "both ends trimmed, the middle kept");
	is_str(text_trim(b), "", "empty");
	is_str(text_trim(c), "", "all blank");
	is_str(text_trim(d), "x", "nothing to trim");
}

static void test_nelem(void)
{
	static const int four[4] = { 0 };
	static const char *const names[] = { "a", "b", "c" };

	is_int(NELEM(four), 4, "NELEM of int[4]");
	is_int(NELEM(names), 3, "NELEM of an initialised pointer array");
}

static void test_cut(void)
{
	char buf[8];
	const char *rest;

	ok(text_cut("10.0.0.0/8", '/', buf, sizeof(buf), &rest) == -1, "a head longer than buf");
	ok(text_cut("10.0/8", '/', buf, sizeof(buf), &rest) == 0, "a head that fits");
	is_str(buf, "10.0", "the text before sep");
	is_str(rest, "8", "the text after sep");
	ok(text_cut("12.5.7", '.', buf, sizeof(buf), &rest) == 0 && strcmp(buf, "12") == 0 &&
	    strcmp(rest, "5.7") == 0, "cut at the first sep");
	ok(text_cut("1234567", '/', buf, sizeof(buf), &rest) == 0 && strcmp(buf, "1234567") == 0 &&
	    rest == NULL, "no sep: all of s (7 bytes fit 8), rest NULL");
	ok(text_cut("12345678", '/', buf, sizeof(buf), &rest) == -1, "8 bytes do not fit 8");
	ok(text_cut("/x", '/', buf, sizeof(buf), &rest) == 0 && buf[0] == '\0' &&
	    strcmp(rest, "x") == 0, "an empty head");
}

static void test_mac(void)
{
	uint8_t m[6] = { 0 };
	static const uint8_t want[6] = { 0x00, 0x11, 0x22, 0xaa, 0xbb, 0xff };

	ok(text_parse_mac("00:11:22:aa:bb:ff", m) == 0 && memcmp(m, want, 6) == 0, "lower case");
	ok(text_parse_mac("00:11:22:AA:BB:FF", m) == 0 && memcmp(m, want, 6) == 0, "upper case");
	ok(text_parse_mac("0:1:2:a:b:f", m) == 0 && m[0] == 0 && m[3] == 0xa && m[5] == 0xf,
	    "one-digit groups");
	memcpy(m, want, 6);
	ok(text_parse_mac("00:11:22:33:44", m) < 0, "five groups");
	ok(text_parse_mac("00:11:22:33:44:55:66", m) < 0, "seven groups");
	ok(text_parse_mac("00:11:22:33:44:555", m) < 0, "three digits");
	ok(text_parse_mac("00-11-22-33-44-55", m) < 0, "other separator");
	ok(text_parse_mac(" 00:11:22:33:44:55", m) < 0, "leading blank");
	ok(text_parse_mac("00:11:22:33:44:55 ", m) < 0, "trailing blank");
	ok(text_parse_mac("0x:11:22:33:44:55", m) < 0, "not hex");
	ok(text_parse_mac("", m) < 0, "empty");
	ok(text_parse_mac("zz", m) < 0, "garbage");
	ok(memcmp(m, want, 6) == 0, "a failed parse leaves the output alone");
}

static void test_uint(void)
{
	uint64_t v = 7;

	ok(text_parse_uint("443", 10, 65535, &v) == 0 && v == 443, "decimal");
	ok(text_parse_uint("65535", 10, 65535, &v) == 0 && v == 65535, "at the maximum");
	ok(text_parse_uint("65536", 10, 65535, &v) < 0 && v == 65535, "over the maximum");
	ok(text_parse_uint("18446744073709551615", 10, UINT64_MAX, &v) == 0 && v == UINT64_MAX,
	    "64 bits");
	ok(text_parse_uint("18446744073709551616", 10, UINT64_MAX, &v) < 0, "overflow");
	ok(text_parse_uint("-1", 10, UINT64_MAX, &v) < 0, "negative");
	ok(text_parse_uint(" -1", 10, UINT64_MAX, &v) < 0, "negative after a blank");
	ok(text_parse_uint("+1", 10, UINT64_MAX, &v) < 0, "plus sign");
	ok(text_parse_uint("80x", 10, UINT64_MAX, &v) < 0, "trailing junk");
	ok(text_parse_uint("", 10, UINT64_MAX, &v) < 0, "empty");
	ok(text_parse_uint(" 80", 10, 65535, &v) == 0 && v == 80, "leading blank, as strtoull");
	ok(text_parse_uint("86dd", 16, 65535, &v) == 0 && v == 0x86dd, "hex");
	ok(text_parse_uint("0x800", 16, 65535, &v) == 0 && v == 0x800, "hex with 0x");
	ok(text_parse_uint("ffff", 10, 65535, &v) < 0, "hex digits in base 10");
}

static void test_proto(void)
{
	char buf[8];
	uint8_t p = 0;

	is_str(text_proto_name(6), "tcp", "tcp");
	ok(text_proto_name(200) == NULL, "no name for 200");
	is_str(text_proto_fmt(17, buf, sizeof(buf)), "udp", "fmt: a name");
	is_str(text_proto_fmt(200, buf, sizeof(buf)), "200", "fmt: the number");
	ok(text_parse_proto("udp", &p) == 0 && p == 17, "udp");
	ok(text_parse_proto("UDP", &p) == 0 && p == 17, "any case");
	ok(text_parse_proto("ipcomp", &p) == 0 && p == 108, "IPcomp in any case");
	ok(text_parse_proto("6", &p) == 0 && p == 6, "a number");
	ok(text_parse_proto("255", &p) == 0 && p == 255, "255");
	ok(text_parse_proto("256", &p) < 0, "256");
	ok(text_parse_proto("300", &p) < 0, "300");
	ok(text_parse_proto("nope", &p) < 0, "an unknown name");
	ok(text_parse_proto("", &p) < 0, "empty");
}

static void test_clock(void)
{
	int64_t m0 = clock_mono_ms(), w = clock_wall_ms();
	uint64_t u0 = clock_mono_us();
	double s0 = clock_mono_secs();

	ok(clock_mono_ms() >= m0 && clock_mono_us() >= u0 && clock_mono_secs() >= s0,
	    "monotonic readings do not go back");
	ok(w > 1600000000000LL, "wall clock in ms since the epoch");
	ok(u0 / 1000 >= (uint64_t)m0 - 1 && u0 / 1000 <= (uint64_t)m0 + 1000,
	    "us and ms read the same clock");
	ok(clock_mono_coarse_ms() > 0, "coarse monotonic clock");
}

int main(void)
{
	test_trim();
	test_nelem();
	test_cut();
	test_mac();
	test_uint();
	test_proto();
	test_clock();
	return tap_done();
}
