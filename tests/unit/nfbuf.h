/* SPDX-License-Identifier: BSD-3-Clause */
/* nfbuf.h: building NetFlow v9 / IPFIX messages byte by byte for the decoder tests, and collecting what they decode to. */
#ifndef TESTS_UNIT_NFBUF_H
#define TESTS_UNIT_NFBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "model/flow_rec.h"

/* The records a decode emitted: the first 64 kept, all counted. */
struct got {
	size_t n;
	struct flow_rec r[64];
};

static inline void collect(void *arg, struct flow_rec *rec)
{
	struct got *g = arg;
	if (g->n < sizeof(g->r) / sizeof(g->r[0]))
		g->r[g->n] = *rec;
	g->n++;
}

/* A message being written: n bytes so far; set is where the open set starts. */
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

/* v big-endian in len bytes (RFC 7011 6.2 reduced-size encoding). */
static inline void uint_n(struct buf *b, uint64_t v, int len)
{
	for (int i = len - 1; i >= 0; i--)
		u8(b, (uint8_t)(v >> (8 * i)));
}

/* IPFIX message header (RFC 7011 3.1); the length is set by msg_close(). */
static inline void ipfix_hdr(struct buf *b, uint32_t secs, uint32_t seq, uint32_t odid)
{
	b->n = 0;
	u16(b, 10); u16(b, 0); u32(b, secs); u32(b, seq); u32(b, odid);
}

static inline void msg_close(struct buf *b)
{
	b->b[2] = (uint8_t)(b->n >> 8);
	b->b[3] = (uint8_t)b->n;
}

/* A set (RFC 7011 3.3.2): its length is set by set_close(). */
static inline void set_open(struct buf *b, uint16_t id) { b->set = b->n; u16(b, id); u16(b, 0); }
static inline void set_close(struct buf *b)
{
	size_t len = b->n - b->set;
	b->b[b->set + 2] = (uint8_t)(len >> 8);
	b->b[b->set + 3] = (uint8_t)len;
}

/* A field specifier of a template (RFC 7011 3.2), IANA element. */
static inline void field(struct buf *b, uint16_t id, uint16_t len) { u16(b, id); u16(b, len); }

#endif
