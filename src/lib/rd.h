/* SPDX-License-Identifier: BSD-3-Clause */
/* rd.h: bounded reader over untrusted bytes, with a sticky error flag. */
#ifndef LIB_RD_H
#define LIB_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * A cursor over a byte buffer.  Every read checks the remaining length; a
 * failed read sets 'bad', empties the reader and returns zero / NULL, so a
 * run of reads needs one check at the end.  Lengths are compared, never
 * pointers.
 */
struct rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static inline struct rd rd_make(const void *buf, size_t len)
{
	struct rd r = { (const uint8_t *)buf, len, false };
	return r;
}

/* Take n bytes: returns a pointer to them, or NULL (and marks bad). */
static inline const uint8_t *rd_take(struct rd *r, size_t n)
{
	if (r->bad || n > r->left) {
		r->bad = true;
		r->left = 0;
		return NULL;
	}
	const uint8_t *b = r->p;
	r->p += n;
	r->left -= n;
	return b;
}

static inline uint8_t rd_u8(struct rd *r)
{
	const uint8_t *b = rd_take(r, 1);
	return b ? b[0] : 0;
}

static inline uint16_t rd_u16(struct rd *r)
{
	const uint8_t *b = rd_take(r, 2);
	return b ? (uint16_t)(b[0] << 8 | b[1]) : 0;
}

static inline uint32_t rd_u24(struct rd *r)
{
	const uint8_t *b = rd_take(r, 3);
	return b ? ((uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2]) : 0;
}

static inline uint32_t rd_u32(struct rd *r)
{
	const uint8_t *b = rd_take(r, 4);
	return b ? ((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3]) : 0;
}

static inline uint64_t rd_u64(struct rd *r)
{
	const uint8_t *b = rd_take(r, 8);
	uint64_t v = 0;
	for (int i = 0; b && i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/* Little-endian 32-bit read (pcap DLT_NULL family field, host order). */
static inline uint32_t rd_le32(struct rd *r)
{
	const uint8_t *b = rd_take(r, 4);
	return b ? ((uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 |
		    (uint32_t)b[1] << 8 | b[0]) : 0;
}

static inline void rd_skip(struct rd *r, size_t n)
{
	(void)rd_take(r, n);
}

/* Copy n bytes into dst; on a short buffer dst is zero-filled. */
static inline void rd_copy(struct rd *r, void *dst, size_t n)
{
	const uint8_t *b = rd_take(r, n);
	if (b)
		memcpy(dst, b, n);
	else
		memset(dst, 0, n);
}

/* Peek at the next byte without consuming it (0 when empty; not an error). */
static inline uint8_t rd_peek8(const struct rd *r)
{
	return (!r->bad && r->left) ? r->p[0] : 0;
}

/* Exactly n bytes as a child reader; the parent advances past them. */
static inline struct rd rd_sub(struct rd *r, size_t n)
{
	const uint8_t *b = rd_take(r, n);
	struct rd c = { b, b ? n : 0, b == NULL };
	return c;
}

#endif
