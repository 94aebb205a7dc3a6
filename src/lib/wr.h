/* SPDX-License-Identifier: BSD-3-Clause */
/* wr.h: bounded writer for building datagrams, the mirror of rd.h (sticky error flag, network byte order). */
#ifndef LIB_WR_H
#define LIB_WR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * A cursor over an output buffer.  A write that does not fit sets `bad`
 * and writes nothing, so a run of writes needs one check at the end.
 */
struct wr {
	uint8_t *base;
	size_t len, cap;
	bool bad;
};

static inline struct wr wr_make(void *buf, size_t cap)
{
	struct wr w = { (uint8_t *)buf, 0, cap, false };
	return w;
}

/* Reserve n bytes: a pointer to them, or NULL (and marks bad). */
static inline uint8_t *wr_take(struct wr *w, size_t n)
{
	if (w->bad || n > w->cap - w->len) {
		w->bad = true;
		return NULL;
	}
	uint8_t *p = w->base + w->len;
	w->len += n;
	return p;
}

static inline void wr_u8(struct wr *w, uint8_t v)
{
	uint8_t *p = wr_take(w, 1);
	if (p)
		p[0] = v;
}

static inline void wr_u16(struct wr *w, uint16_t v)
{
	uint8_t *p = wr_take(w, 2);
	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

static inline void wr_u32(struct wr *w, uint32_t v)
{
	uint8_t *p = wr_take(w, 4);
	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

static inline void wr_u64(struct wr *w, uint64_t v)
{
	wr_u32(w, (uint32_t)(v >> 32));
	wr_u32(w, (uint32_t)v);
}

static inline void wr_bytes(struct wr *w, const void *src, size_t n)
{
	uint8_t *p = wr_take(w, n);
	if (p && n)
		memcpy(p, src, n);
}

static inline void wr_zero(struct wr *w, size_t n)
{
	uint8_t *p = wr_take(w, n);
	if (p && n)
		memset(p, 0, n);
}

/* Overwrite a 16-bit value at `off` (a length field written before its contents). */
static inline void wr_put16(struct wr *w, size_t off, uint16_t v)
{
	if (!w->bad && off + 2 <= w->len) {
		w->base[off] = (uint8_t)(v >> 8);
		w->base[off + 1] = (uint8_t)v;
	}
}

static inline void wr_put32(struct wr *w, size_t off, uint32_t v)
{
	if (!w->bad && off + 4 <= w->len) {
		w->base[off] = (uint8_t)(v >> 24);
		w->base[off + 1] = (uint8_t)(v >> 16);
		w->base[off + 2] = (uint8_t)(v >> 8);
		w->base[off + 3] = (uint8_t)v;
	}
}

#endif
