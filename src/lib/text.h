/* SPDX-License-Identifier: BSD-3-Clause */
/* text.h: small text helpers: array length, trimming, and the parsers of MAC addresses, IP protocols and numbers. */
#ifndef LIB_TEXT_H
#define LIB_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* The number of elements of array a (an array, not a pointer). */
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Strip leading and trailing white space from s, in place: the end is cut
 * with a NUL, and the returned pointer is the first non-blank byte of s.
 */
char *text_trim(char *s);

/*
 * Copy the text of s before its first `sep` (all of s when it has none)
 * into buf (size bytes, NUL-terminated), and set *rest to the text after
 * that sep, or to NULL when s has none ("10.0.0.0/8" at '/': "10.0.0.0"
 * and "8").  0, or -1 (buf and *rest undefined) when the text does not fit.
 */
int text_cut(const char *s, int sep, char *buf, size_t size, const char **rest);

/*
 * Parse a MAC address "xx:xx:xx:xx:xx:xx" (six groups of one or two hex
 * digits, either case, joined by ':', nothing before or after) into mac.
 * 0, or -1 (mac untouched) when s is not one.
 */
int text_parse_mac(const char *s, uint8_t mac[6]);

/*
 * Parse an unsigned number in base 10 or 16 (base 16 takes an optional
 * "0x"), of at most max: no sign, no trailing text, no overflow.  0, or -1
 * (*out untouched) when s is not one.
 */
int text_parse_uint(const char *s, int base, uint64_t max, uint64_t *out);

/* The name of IP protocol proto as pmacct prints it ("tcp", "udp", ...), or NULL if it has none. */
const char *text_proto_name(uint8_t proto);

/*
 * The name of IP protocol proto, or for a protocol without one its decimal
 * number, written into buf (len bytes) and returned.
 */
const char *text_proto_fmt(uint8_t proto, char *buf, size_t len);

/*
 * Parse an IP protocol: a decimal number 0-255, or a name text_proto_name
 * gives (in any case).  0, or -1 when s is neither.
 */
int text_parse_proto(const char *s, uint8_t *proto);

#endif
