/* SPDX-License-Identifier: BSD-3-Clause */
/* bytebuf.h: a growing byte buffer with big-endian writers, for the byte-vector decoder tests. */
#ifndef TESTS_UNIT_BYTEBUF_H
#define TESTS_UNIT_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A message being written: n bytes so far; set is where the open set or block starts. */
struct buf {
	uint8_t b[4096];
	size_t n, set;
};

static inline void u8(struct buf *b, uint8_t v) { b->b[b->n++] = v; }
static inline void u16(struct buf *b, uint16_t v) { u8(b, v >> 8); u8(b, (uint8_t)v); }
static inline void u24(struct buf *b, uint32_t v) { u8(b, (uint8_t)(v >> 16)); u16(b, (uint16_t)v); }
static inline void u32(struct buf *b, uint32_t v) { u16(b, v >> 16); u16(b, (uint16_t)v); }
static inline void u64(struct buf *b, uint64_t v) { u32(b, (uint32_t)(v >> 32)); u32(b, (uint32_t)v); }
static inline void bytes(struct buf *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n); b->n += n; }
static inline void ip(struct buf *b, uint8_t a, uint8_t c, uint8_t d, uint8_t e)
{
	u8(b, a); u8(b, c); u8(b, d); u8(b, e);
}

/* Zero bytes up to the next multiple of align. */
static inline void pad_to(struct buf *b, size_t align)
{
	while (b->n % align)
		u8(b, 0);
}

/* Overwrite, big-endian, what was written at off (a length or a count known only later). */
static inline void put16_at(struct buf *b, size_t off, uint16_t v)
{
	b->b[off] = (uint8_t)(v >> 8);
	b->b[off + 1] = (uint8_t)v;
}

static inline void put32_at(struct buf *b, size_t off, uint32_t v)
{
	put16_at(b, off, (uint16_t)(v >> 16));
	put16_at(b, off + 2, (uint16_t)v);
}

/* v big-endian in len bytes (RFC 7011 6.2 reduced-size encoding). */
static inline void uint_n(struct buf *b, uint64_t v, int len)
{
	for (int i = len - 1; i >= 0; i--)
		u8(b, (uint8_t)(v >> (8 * i)));
}

/* An exact-size heap copy of the first n bytes of p, so that ASan sees any read past n; free() it. */
static inline uint8_t *exact_copy(const void *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	if (c == NULL)
		abort();
	memcpy(c, p, n);
	return c;
}

#endif
