/* SPDX-License-Identifier: BSD-3-Clause */
/* imt_proto.c: encode and decode the memory plugin's client messages, every length checked. */
#include "imt_proto.h"

#include <stdlib.h>
#include <string.h>

#include "lib/text.h"
#include "lib/xalloc.h"

/* Payload bounds per message type: anything else is refused before it is read. */
static const struct {
	uint16_t type;
	uint32_t min, max;
} imt_types[] = {
	{ IMT_Q_QUERY, 10, IMT_MAX_QUERY },
	{ IMT_Q_ERASE, 0, 0 },
	{ IMT_Q_STATUS, 0, 0 },
	{ IMT_Q_INFO, 0, 0 },
	{ IMT_R_INFO, IMT_INFO_LEN, IMT_INFO_LEN + IMT_INFO_CUSTOM_MAX },
	{ IMT_R_ROWS, 4, IMT_MAX_CHUNK },
	{ IMT_R_SUMS, 4, IMT_MAX_CHUNK },
	{ IMT_R_BUCKETS, 8, IMT_MAX_CHUNK },
	{ IMT_R_END, 8, 8 },
	{ IMT_R_ERROR, 2, 2 + IMT_MAX_ERROR },
};

static void reserve(struct imt_buf *b, size_t n)
{
	if (n <= b->cap - b->len)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void imt_buf_fini(struct imt_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void imt_put_bytes(struct imt_buf *b, const void *p, size_t n)
{
	reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void imt_put_u8(struct imt_buf *b, uint8_t v)
{
	imt_put_bytes(b, &v, 1);
}

void imt_put_u16(struct imt_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	imt_put_bytes(b, x, 2);
}

void imt_put_u32(struct imt_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	imt_put_bytes(b, x, 4);
}

void imt_put_u64(struct imt_buf *b, uint64_t v)
{
	imt_put_u32(b, (uint32_t)(v >> 32));
	imt_put_u32(b, (uint32_t)v);
}

size_t imt_msg_begin(struct imt_buf *b, uint16_t type)
{
	size_t start = b->len;
	imt_put_u32(b, IMT_MAGIC);
	imt_put_u16(b, IMT_VERSION);
	imt_put_u16(b, type);
	imt_put_u32(b, 0);
	return start;
}

void imt_msg_end(struct imt_buf *b, size_t start)
{
	uint32_t n = (uint32_t)(b->len - start - IMT_HDR_LEN);
	uint8_t *l = b->p + start + 8;
	l[0] = (uint8_t)(n >> 24);
	l[1] = (uint8_t)(n >> 16);
	l[2] = (uint8_t)(n >> 8);
	l[3] = (uint8_t)n;
}

int imt_hdr_parse(const uint8_t *buf, size_t len, struct imt_hdr *h)
{
	struct rd r = rd_make(buf, len);
	uint32_t magic = rd_u32(&r);
	uint16_t version = rd_u16(&r);
	uint16_t type = rd_u16(&r);
	uint32_t length = rd_u32(&r);

	if (r.bad)
		return IMT_E_SHORT;
	if (magic != IMT_MAGIC)
		return IMT_E_MAGIC;
	if (version != IMT_VERSION)
		return IMT_E_VERSION;
	for (size_t i = 0; i < NELEM(imt_types); i++) {
		if (imt_types[i].type != type)
			continue;
		if (length < imt_types[i].min || length > imt_types[i].max)
			return IMT_E_LENGTH;
		h->type = type;
		h->length = length;
		return IMT_OK;
	}
	return IMT_E_TYPE;
}

const char *imt_strerror(int err)
{
	switch (err) {
	case IMT_OK: return "ok";
	case IMT_E_SHORT: return "truncated message";
	case IMT_E_MAGIC: return "bad magic (not a pmacct-ng memory plugin socket?)";
	case IMT_E_VERSION: return "protocol version mismatch";
	case IMT_E_TYPE: return "unknown message type";
	case IMT_E_LENGTH: return "bad message length";
	default: return "protocol error";
	}
}

/* True when an earlier primitive of `set` already covers d's key field. */
static bool field_done(const struct prim_registry *reg, const struct prim_set *set, int id)
{
	const struct prim_desc *d = prim_desc_of(reg, id);
	for (int j = 0; j < id; j++) {
		const struct prim_desc *e = prim_desc_of(reg, j);
		if (prim_has(set, (enum prim_id)j) && e->len && e->off == d->off)
			return true;
	}
	return false;
}

static void put_uint(struct imt_buf *b, const uint8_t *p, size_t len)
{
	switch (len) {
	case 1: imt_put_u8(b, p[0]); break;
	case 2: { uint16_t v; memcpy(&v, p, 2); imt_put_u16(b, v); break; }
	case 4: { uint32_t v; memcpy(&v, p, 4); imt_put_u32(b, v); break; }
	case 8: { uint64_t v; memcpy(&v, p, 8); imt_put_u64(b, v); break; }
	default: break;
	}
}

static void get_uint(struct rd *r, uint8_t *p, size_t len)
{
	switch (len) {
	case 1: p[0] = rd_u8(r); break;
	case 2: { uint16_t v = rd_u16(r); memcpy(p, &v, 2); break; }
	case 4: { uint32_t v = rd_u32(r); memcpy(p, &v, 4); break; }
	case 8: { uint64_t v = rd_u64(r); memcpy(p, &v, 8); break; }
	default: r->bad = true; break;
	}
}

void imt_key_put(struct imt_buf *b, const struct prim_registry *reg, const struct prim_set *set,
    const struct flow_key *k)
{
	for (int i = 0; i < P_COUNT; i++) {
		const struct prim_desc *d = prim_desc_of(reg, i);
		const uint8_t *p = (const uint8_t *)k + d->off;
		if (!prim_has(set, (enum prim_id)i) || !d->len || field_done(reg, set, i))
			continue;
		switch (d->fmt) {
		case PF_UINT: case PF_HEX: case PF_PROTO:
			put_uint(b, p, d->len);
			break;
		case PF_MAC:
			imt_put_bytes(b, p, 6);
			break;
		case PF_IP: {
			struct fr_ip ip;
			memcpy(&ip, p, sizeof(ip));
			imt_put_u8(b, ip.af);
			imt_put_bytes(b, ip.a, sizeof(ip.a));
			break;
		}
		case PF_TS: {
			struct fr_ts ts;
			memcpy(&ts, p, sizeof(ts));
			imt_put_u64(b, (uint64_t)ts.sec);
			imt_put_u64(b, (uint64_t)ts.usec);
			break;
		}
		case PF_COMMS: case PF_ASPATH: {	/* 256-byte fields, mostly short: length + text */
			size_t n = strnlen((const char *)p, d->len - 1);
			imt_put_u8(b, (uint8_t)n);
			imt_put_bytes(b, p, n);
			break;
		}
		default:	/* text, label stacks, route distinguishers, custom data: as stored */
			imt_put_bytes(b, p, d->len);
			break;
		}
	}
}

int imt_key_get(struct rd *r, const struct prim_registry *reg, const struct prim_set *set,
    struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	for (int i = 0; i < P_COUNT && !r->bad; i++) {
		const struct prim_desc *d = prim_desc_of(reg, i);
		uint8_t *p = (uint8_t *)k + d->off;
		if (!prim_has(set, (enum prim_id)i) || !d->len || field_done(reg, set, i))
			continue;
		switch (d->fmt) {
		case PF_UINT: case PF_HEX: case PF_PROTO:
			get_uint(r, p, d->len);
			break;
		case PF_MAC:
			rd_copy(r, p, 6);
			break;
		case PF_IP: {
			struct fr_ip ip;
			memset(&ip, 0, sizeof(ip));
			ip.af = rd_u8(r);
			rd_copy(r, ip.a, sizeof(ip.a));
			if (ip.af != 0 && ip.af != 4 && ip.af != 6)
				r->bad = true;
			memcpy(p, &ip, sizeof(ip));
			break;
		}
		case PF_TS: {
			struct fr_ts ts;
			ts.sec = (int64_t)rd_u64(r);
			ts.usec = (int64_t)rd_u64(r);
			memcpy(p, &ts, sizeof(ts));
			break;
		}
		case PF_COMMS: case PF_ASPATH: {
			size_t n = rd_u8(r);
			if (n >= d->len)
				r->bad = true;
			else
				rd_copy(r, p, n);	/* the rest stays zero, as the plugin keeps it */
			break;
		}
		default:
			rd_copy(r, p, d->len);
			break;
		}
	}
	return r->bad ? -1 : 0;
}

/* No bit beyond the primitives this build knows. */
static bool set_valid(const struct prim_set *s)
{
	for (int i = 0; i < PRIM_WORDS * 64; i++)
		if (i >= P_COUNT && ((s->w[i / 64] >> (i % 64)) & 1))
			return false;
	return true;
}

/* A primitive set on the wire: PRIM_WORDS big-endian 64-bit words. */
static void put_set(struct imt_buf *b, const struct prim_set *s)
{
	for (int i = 0; i < PRIM_WORDS; i++)
		imt_put_u64(b, s->w[i]);
}

static void get_set(struct rd *r, struct prim_set *s)
{
	memset(s->corder, 0, sizeof(s->corder));	/* only INFO carries it */
	for (int i = 0; i < PRIM_WORDS; i++)
		s->w[i] = rd_u64(r);
}

void imt_query_encode(struct imt_buf *b, const struct prim_registry *reg, const struct imt_query *q)
{
	size_t m = imt_msg_begin(b, IMT_Q_QUERY);
	imt_put_u8(b, q->mode);
	imt_put_u8(b, 0);
	imt_put_u32(b, q->flags);
	imt_put_u32(b, q->nreq);
	for (uint32_t i = 0; i < q->nreq; i++) {
		put_set(b, &q->req[i].set);
		imt_key_put(b, reg, &q->req[i].set, &q->req[i].key);
	}
	imt_msg_end(b, m);
}

int imt_query_decode(const uint8_t *p, size_t len, const struct prim_registry *reg,
    struct imt_query *q)
{
	struct rd r = rd_make(p, len);

	memset(q, 0, sizeof(*q));
	q->mode = rd_u8(&r);
	rd_skip(&r, 1);
	q->flags = rd_u32(&r);
	q->nreq = rd_u32(&r);
	if (r.bad || q->mode > IMT_MODE_SUMS || (q->flags & ~(uint32_t)IMT_QF_ALL) ||
	    q->nreq > IMT_MAX_REQUESTS || (q->mode == IMT_MODE_ALL && q->nreq))
		goto fail;
	/* each request takes at least its set: bound the allocation by the payload */
	if (q->nreq > r.left / (8 * PRIM_WORDS))
		goto fail;
	q->req = q->nreq ? xcalloc(q->nreq, sizeof(*q->req)) : NULL;
	for (uint32_t i = 0; i < q->nreq; i++) {
		get_set(&r, &q->req[i].set);
		if (r.bad || !set_valid(&q->req[i].set) ||
		    imt_key_get(&r, reg, &q->req[i].set, &q->req[i].key) < 0)
			goto fail;
	}
	if (r.left)
		goto fail;	/* trailing bytes: the length does not match the content */
	return 0;
fail:
	imt_query_fini(q);
	return -1;
}

void imt_query_fini(struct imt_query *q)
{
	free(q->req);
	q->req = NULL;
	q->nreq = 0;
}

void imt_info_encode(struct imt_buf *b, const struct imt_info *in)
{
	size_t m = imt_msg_begin(b, IMT_R_INFO);
	put_set(b, &in->aggregate);
	imt_put_u64(b, in->entries);
	imt_put_u64(b, in->dropped);
	imt_put_u64(b, (uint64_t)in->erased_at);
	imt_put_u64(b, (uint64_t)in->now);
	imt_put_u32(b, in->buckets);
	if (in->ncustom > 0) {
		imt_put_u8(b, (uint8_t)in->ncustom);
		for (int i = 0; i < in->ncustom && i < PRIM_CUSTOM_MAX; i++) {
			const struct imt_custom *c = &in->custom[i];
			size_t n = strnlen(c->name, sizeof(c->name) - 1);
			imt_put_u8(b, (uint8_t)n);
			imt_put_bytes(b, c->name, n);
			imt_put_u32(b, c->c.pen);
			imt_put_u16(b, c->c.field_type);
			imt_put_u16(b, c->c.len);
			imt_put_u8(b, c->c.sem);
		}
		/* their order in the aggregate (prim_set.corder): the columns' order */
		imt_put_bytes(b, in->aggregate.corder, PRIM_CUSTOM_MAX);
	}
	imt_msg_end(b, m);
}

int imt_info_decode(const uint8_t *p, size_t len, struct imt_info *in)
{
	struct rd r = rd_make(p, len);

	get_set(&r, &in->aggregate);
	in->entries = rd_u64(&r);
	in->dropped = rd_u64(&r);
	in->erased_at = (int64_t)rd_u64(&r);
	in->now = (int64_t)rd_u64(&r);
	in->buckets = rd_u32(&r);
	in->ncustom = 0;
	if (!r.bad && r.left) {
		int n = rd_u8(&r);
		if (n > PRIM_CUSTOM_MAX)
			return -1;
		for (int i = 0; i < n && !r.bad; i++) {
			struct imt_custom *c = &in->custom[i];
			size_t nl = rd_u8(&r);
			memset(c, 0, sizeof(*c));
			if (nl == 0 || nl >= sizeof(c->name))
				return -1;
			rd_copy(&r, c->name, nl);
			c->c.pen = rd_u32(&r);
			c->c.field_type = rd_u16(&r);
			c->c.len = rd_u16(&r);
			c->c.sem = rd_u8(&r);
		}
		in->ncustom = n;
		rd_copy(&r, in->aggregate.corder, PRIM_CUSTOM_MAX);
		for (int i = 0; i < PRIM_CUSTOM_MAX; i++)
			if (in->aggregate.corder[i] > n)
				return -1;
	}
	return (r.bad || r.left || !set_valid(&in->aggregate)) ? -1 : 0;
}

int imt_info_define_custom(const struct imt_info *in, struct prim_registry *reg)
{
	char why[256];

	prim_custom_clear(reg);
	for (int i = 0; i < in->ncustom; i++)
		if (prim_custom_define(reg, in->custom[i].name, &in->custom[i].c, why, sizeof(why)) < 0) {
			prim_custom_clear(reg);
			return -1;
		}
	return 0;
}

void imt_row_put(struct imt_buf *b, const struct prim_registry *reg,
    const struct prim_set *aggregate, const struct imt_row *row)
{
	imt_put_u32(b, row->req);
	imt_put_u64(b, row->packets);
	imt_put_u64(b, row->bytes);
	imt_put_u64(b, row->flows);
	imt_put_u8(b, row->tcp_flags);
	imt_key_put(b, reg, aggregate, &row->key);
}

int imt_row_get(struct rd *r, const struct prim_registry *reg, const struct prim_set *aggregate,
    struct imt_row *row)
{
	row->req = rd_u32(r);
	row->packets = rd_u64(r);
	row->bytes = rd_u64(r);
	row->flows = rd_u64(r);
	row->tcp_flags = rd_u8(r);
	return imt_key_get(r, reg, aggregate, &row->key);
}

void imt_sum_put(struct imt_buf *b, const struct imt_sum *s)
{
	imt_put_u64(b, s->packets);
	imt_put_u64(b, s->bytes);
	imt_put_u64(b, s->flows);
	imt_put_u64(b, s->entries);
}

int imt_sum_get(struct rd *r, struct imt_sum *s)
{
	s->packets = rd_u64(r);
	s->bytes = rd_u64(r);
	s->flows = rd_u64(r);
	s->entries = rd_u64(r);
	return r->bad ? -1 : 0;
}

void imt_error_encode(struct imt_buf *b, const char *msg)
{
	size_t n = strlen(msg);
	if (n > IMT_MAX_ERROR)
		n = IMT_MAX_ERROR;
	size_t m = imt_msg_begin(b, IMT_R_ERROR);
	imt_put_u16(b, (uint16_t)n);
	imt_put_bytes(b, msg, n);
	imt_msg_end(b, m);
}

int imt_error_decode(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	struct rd r = rd_make(p, len);
	uint16_t n = rd_u16(&r);
	const uint8_t *s = rd_take(&r, n);

	if (!outlen)
		return -1;
	out[0] = '\0';
	if (!s || r.left)
		return -1;
	size_t k = n < outlen - 1 ? n : outlen - 1;
	for (size_t i = 0; i < k; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	out[k] = '\0';
	return 0;
}
