/* SPDX-License-Identifier: BSD-3-Clause */
/* nfbuf.h: building NetFlow v9 / IPFIX messages byte by byte for the decoder tests, and collecting what they decode to. */
#ifndef TESTS_UNIT_NFBUF_H
#define TESTS_UNIT_NFBUF_H

#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

#include "bytebuf.h"

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

/* IPFIX message header (RFC 7011 3.1); the length is set by msg_close(). */
static inline void ipfix_hdr(struct buf *b, uint32_t secs, uint32_t seq, uint32_t odid)
{
	b->n = 0;
	u16(b, 10); u16(b, 0); u32(b, secs); u32(b, seq); u32(b, odid);
}

static inline void msg_close(struct buf *b) { put16_at(b, 2, (uint16_t)b->n); }

/* NetFlow v9 packet header (RFC 3954 5.1), count 1. */
static inline void nf9_hdr(struct buf *b, uint32_t uptime_ms, uint32_t secs, uint32_t seq, uint32_t source_id)
{
	b->n = 0;
	u16(b, 9); u16(b, 1); u32(b, uptime_ms); u32(b, secs); u32(b, seq); u32(b, source_id);
}

/* A set (RFC 7011 3.3.2): its length is set by set_close(). */
static inline void set_open(struct buf *b, uint16_t id) { b->set = b->n; u16(b, id); u16(b, 0); }
static inline void set_close(struct buf *b) { put16_at(b, b->set + 2, (uint16_t)(b->n - b->set)); }

/* A NetFlow v9 set closes padded to 4 bytes (RFC 3954 5.3). */
static inline void nf9_set_close(struct buf *b)
{
	pad_to(b, 4);
	set_close(b);
}

/* A field specifier of a template (RFC 7011 3.2), IANA element. */
static inline void field(struct buf *b, uint16_t id, uint16_t len) { u16(b, id); u16(b, len); }

#endif
