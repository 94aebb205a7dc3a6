/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_msg_out.c: the BGP messages a passive peer sends (OPEN, KEEPALIVE, NOTIFICATION), over lib/wr.h. */
#include "decode/bgp_msg.h"

#include "lib/wr.h"

/* RFC 4271 4.1: marker, length (patched by hdr_end), type. */
static void hdr_start(struct wr *w, uint8_t type)
{
	for (int i = 0; i < 16; i++)
		wr_u8(w, 0xff);
	wr_u16(w, 0);
	wr_u8(w, type);
}

static size_t hdr_end(struct wr *w)
{
	if (w->bad || w->len > BGP_MAX_LEN)
		return 0;
	wr_put16(w, 16, (uint16_t)w->len);
	return w->len;
}

/* One capability (RFC 5492 4) holding the bytes v. */
static void cap(struct wr *w, uint8_t code, const uint8_t *v, uint8_t len)
{
	wr_u8(w, code);
	wr_u8(w, len);
	if (len)
		wr_bytes(w, v, len);
}

/* The MP (RFC 4760 8), ADD-PATH (RFC 7911 4) and extended next hop (RFC 8950 3) capabilities. */
static void af_caps(struct wr *w, const struct bgp_open_cfg *c)
{
	static const uint8_t fam[4][2] = { { 1, 1 }, { 2, 1 }, { 1, 128 }, { 2, 128 } };
	const bool on[4] = { c->mp_v4, c->mp_v6, c->mp_vpn4, c->mp_vpn6 };
	for (int i = 0; i < 4; i++) {
		if (!on[i])
			continue;
		uint8_t mp[4] = { 0, fam[i][0], 0, fam[i][1] };
		cap(w, 1, mp, 4);
		if (c->addpath_rx & bgp_af_bit(fam[i][0], fam[i][1])) {
			uint8_t ap[4] = { 0, fam[i][0], fam[i][1], 1 };
			cap(w, 69, ap, 4);
		}
	}
	if (c->ext_nh) {
		uint8_t en[12] = { 0, 1, 0, 1, 0, 2, 0, 1, 0, 128, 0, 2 };
		cap(w, 5, en, 12);
	}
}

size_t bgp_encode_open(const struct bgp_open_cfg *c, uint8_t *out, size_t capacity)
{
	struct wr w = wr_make(out, capacity);
	hdr_start(&w, BGP_OPEN);
	wr_u8(&w, 4);
	wr_u16(&w, c->my_as > 0xffff ? BGP_AS_TRANS : (uint16_t)c->my_as);
	wr_u16(&w, c->hold_time);
	wr_u32(&w, c->bgp_id);
	size_t plen_off = w.len;
	wr_u8(&w, 0);
	/* RFC 5492 4: each capability in its own optional parameter of type 2 */
	size_t p_start = w.len;
	wr_u8(&w, 2);
	size_t clen_off = w.len;
	wr_u8(&w, 0);
	af_caps(&w, c);
	if (c->route_refresh)
		cap(&w, 2, NULL, 0);
	if (c->ext_msg)
		cap(&w, 6, NULL, 0);
	if (c->as4) {
		uint8_t v[4] = { (uint8_t)(c->my_as >> 24), (uint8_t)(c->my_as >> 16),
		    (uint8_t)(c->my_as >> 8), (uint8_t)c->my_as };
		cap(&w, 65, v, 4);
	}
	size_t clen = w.len - clen_off - 1;
	if (w.bad || clen > 255)
		return 0;
	if (clen == 0)
		w.len = p_start; /* no capability: no parameter */
	else
		w.base[clen_off] = (uint8_t)clen;
	w.base[plen_off] = (uint8_t)(w.len - plen_off - 1);
	return hdr_end(&w);
}

size_t bgp_encode_keepalive(uint8_t *out, size_t capacity)
{
	struct wr w = wr_make(out, capacity);
	hdr_start(&w, BGP_KEEPALIVE);
	return hdr_end(&w);
}

size_t bgp_encode_notification(uint8_t code, uint8_t subcode, const uint8_t *data, size_t dlen,
    uint8_t *out, size_t capacity)
{
	struct wr w = wr_make(out, capacity);
	hdr_start(&w, BGP_NOTIFICATION);
	wr_u8(&w, code);
	wr_u8(&w, subcode);
	if (dlen)
		wr_bytes(&w, data, dlen);
	return hdr_end(&w);
}
