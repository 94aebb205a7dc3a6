/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_export.c: NetFlow v5 (Cisco format), v9 (RFC 3954) and IPFIX (RFC 7011) export encoder. */
#include "nf_export.h"

#include <string.h>

/* A template field: information element id and length on the wire. */
struct nfx_field {
	uint16_t id, len;
};

/*
 * The data templates, one per address family.  v9 carries times as
 * sysUptime milliseconds (IEs 22/21), IPFIX as absolute milliseconds
 * (flowStartMilliseconds 152 / flowEndMilliseconds 153); the slot marked
 * 0 is filled per version.
 */
#define NFX_NFIELDS 18
static const struct nfx_field nfx_fields_v4[NFX_NFIELDS] = {
	{ 8, 4 }, { 12, 4 },		/* sourceIPv4Address, destinationIPv4Address */
	{ 7, 2 }, { 11, 2 },		/* source/destinationTransportPort */
	{ 4, 1 }, { 5, 1 }, { 6, 1 },	/* protocolIdentifier, ipClassOfService, tcpControlBits */
	{ 10, 4 }, { 14, 4 },		/* ingress/egressInterface */
	{ 1, 8 }, { 2, 8 },		/* octetDeltaCount, packetDeltaCount */
	{ 0, 0 }, { 0, 0 },		/* first, last: per version */
	{ 61, 1 },			/* flowDirection */
	{ 16, 4 }, { 17, 4 },		/* bgpSource/DestinationAsNumber */
	{ 9, 1 }, { 13, 1 },		/* sourceIPv4PrefixLength, destinationIPv4PrefixLength */
};

/* The fields of a template for `af` and `version`, into out[NFX_NFIELDS]. */
static void nfx_template(int af, int version, struct nfx_field *out)
{
	memcpy(out, nfx_fields_v4, sizeof(nfx_fields_v4));
	if (af == 6) {
		out[0] = (struct nfx_field){ 27, 16 };	/* sourceIPv6Address */
		out[1] = (struct nfx_field){ 28, 16 };	/* destinationIPv6Address */
		out[16] = (struct nfx_field){ 29, 1 };	/* sourceIPv6PrefixLength */
		out[17] = (struct nfx_field){ 30, 1 };	/* destinationIPv6PrefixLength */
	}
	if (version == 10) {
		out[11] = (struct nfx_field){ 152, 8 };
		out[12] = (struct nfx_field){ 153, 8 };
	} else {
		out[11] = (struct nfx_field){ 22, 4 };	/* FIRST_SWITCHED */
		out[12] = (struct nfx_field){ 21, 4 };	/* LAST_SWITCHED */
	}
}

static size_t nfx_rec_size(int af, int version)
{
	struct nfx_field f[NFX_NFIELDS];
	size_t n = 0;

	nfx_template(af, version, f);
	for (int i = 0; i < NFX_NFIELDS; i++)
		n += f[i].len;
	return n;
}

static size_t nfx_hdr_size(int version)
{
	return version == 5 ? 24 : version == 9 ? 20 : 16;
}

void nfx_init(struct nfx *x, const struct nfx_cfg *cfg, int64_t boot_ms, nfx_send_fn send,
    void *arg)
{
	memset(x, 0, sizeof(*x));
	x->cfg = *cfg;
	if (!x->cfg.tpl_every_pkts)
		x->cfg.tpl_every_pkts = 20;
	if (!x->cfg.tpl_every_ms)
		x->cfg.tpl_every_ms = 60000;
	x->boot_ms = boot_ms;
	x->send = send;
	x->arg = arg;
}

/* sysUptime at time t (v5, v9): milliseconds since boot, modulo 2^32. */
static uint32_t nfx_uptime(const struct nfx *x, int64_t t)
{
	return (uint32_t)(t > x->boot_ms ? t - x->boot_ms : 0);
}

static bool nfx_sampled(const struct nfx *x)
{
	return x->cfg.sampling > 1;
}

/* Close the open data set: v9 pads it to 32 bits (RFC 3954 5.3), then its length. */
static void nfx_close_set(struct nfx *x)
{
	if (!x->set_af)
		return;
	if (x->cfg.version == 9)
		while ((x->w.len - x->set_off) % 4)
			wr_u8(&x->w, 0);
	wr_put16(&x->w, x->set_off + 2, (uint16_t)(x->w.len - x->set_off));
	x->set_af = 0;
}

/* Template set (RFC 3954 5.2, RFC 7011 3.4.1): both families' data templates. */
static void nfx_put_templates(struct nfx *x)
{
	struct nfx_field f[NFX_NFIELDS];
	size_t off = x->w.len;

	wr_u16(&x->w, x->cfg.version == 9 ? 0 : 2);
	wr_u16(&x->w, 0);
	for (int af = 4; af <= 6; af += 2) {
		nfx_template(af, x->cfg.version, f);
		wr_u16(&x->w, af == 4 ? NFX_TPL_V4 : NFX_TPL_V6);
		wr_u16(&x->w, NFX_NFIELDS);
		for (int i = 0; i < NFX_NFIELDS; i++) {
			wr_u16(&x->w, f[i].id);
			wr_u16(&x->w, f[i].len);
		}
		x->nrec++;
	}
	wr_put16(&x->w, off + 2, (uint16_t)(x->w.len - off));
}

/*
 * The sampling rate as an options template and record: scope System (v9,
 * RFC 3954 6.1) or observationDomainId 149 (IPFIX), samplingInterval 34
 * and samplingAlgorithm 35 (2 = random).
 */
static void nfx_put_sampling(struct nfx *x)
{
	size_t off = x->w.len;

	if (x->cfg.version == 9) {
		wr_u16(&x->w, 1);
		wr_u16(&x->w, 0);
		wr_u16(&x->w, NFX_TPL_OPT);
		wr_u16(&x->w, 4);	/* scope length in bytes */
		wr_u16(&x->w, 8);	/* option length in bytes */
		wr_u16(&x->w, 1);	/* scope: System */
		wr_u16(&x->w, 4);
	} else {
		wr_u16(&x->w, 3);
		wr_u16(&x->w, 0);
		wr_u16(&x->w, NFX_TPL_OPT);
		wr_u16(&x->w, 3);	/* field count */
		wr_u16(&x->w, 1);	/* scope field count */
		wr_u16(&x->w, 149);
		wr_u16(&x->w, 4);
	}
	wr_u16(&x->w, 34);
	wr_u16(&x->w, 4);
	wr_u16(&x->w, 35);
	wr_u16(&x->w, 1);
	if (x->cfg.version == 9)
		wr_u16(&x->w, 0);	/* pad to 32 bits */
	wr_put16(&x->w, off + 2, (uint16_t)(x->w.len - off));
	x->nrec++;

	off = x->w.len;
	wr_u16(&x->w, NFX_TPL_OPT);
	wr_u16(&x->w, 0);
	wr_u32(&x->w, x->cfg.source_id);
	wr_u32(&x->w, x->cfg.sampling);
	wr_u8(&x->w, 2);
	if (x->cfg.version == 9)
		wr_zero(&x->w, 3);
	wr_put16(&x->w, off + 2, (uint16_t)(x->w.len - off));
	x->nrec++;
	x->ndata++;
}

/* Start a datagram: header placeholder, then templates when they are due. */
static void nfx_open(struct nfx *x)
{
	x->w = wr_make(x->buf, x->cfg.version == 5 ? NFX_V5_MAX : NFX_MTU);
	wr_zero(&x->w, nfx_hdr_size(x->cfg.version));
	x->open = true;
	x->nrec = x->ndata = 0;
	x->set_af = 0;
	if (x->cfg.version == 5)
		return;
	if (!x->tpl_sent || x->since_tpl >= x->cfg.tpl_every_pkts ||
	    x->now_ms - x->tpl_ms >= (int64_t)x->cfg.tpl_every_ms) {
		nfx_put_templates(x);
		if (nfx_sampled(x))
			nfx_put_sampling(x);
		x->tpl_sent = true;
		x->since_tpl = 0;
		x->tpl_ms = x->now_ms;
	} else {
		x->since_tpl++;
	}
}

static void nfx_put_header(struct nfx *x)
{
	uint8_t *h = x->buf;
	struct wr w = wr_make(h, nfx_hdr_size(x->cfg.version));
	uint32_t secs = (uint32_t)(x->now_ms / 1000);

	switch (x->cfg.version) {
	case 5:	/* Cisco NetFlow v5 header */
		wr_u16(&w, 5);
		wr_u16(&w, (uint16_t)x->nrec);
		wr_u32(&w, nfx_uptime(x, x->now_ms));
		wr_u32(&w, secs);
		wr_u32(&w, (uint32_t)(x->now_ms % 1000) * 1000000u);
		wr_u32(&w, (uint32_t)x->flow_seq);
		wr_u8(&w, x->cfg.engine_type);
		wr_u8(&w, x->cfg.engine_id);
		/* 2 bits mode (1 = deterministic) and a 14-bit interval */
		wr_u16(&w, nfx_sampled(x) ? (uint16_t)(0x4000 | (x->cfg.sampling & 0x3fff)) : 0);
		break;
	case 9:	/* RFC 3954 5.1 */
		wr_u16(&w, 9);
		wr_u16(&w, (uint16_t)x->nrec);
		wr_u32(&w, nfx_uptime(x, x->now_ms));
		wr_u32(&w, secs);
		wr_u32(&w, x->v9_seq);
		wr_u32(&w, x->cfg.source_id);
		break;
	default:	/* RFC 7011 3.1 */
		wr_u16(&w, 10);
		wr_u16(&w, (uint16_t)x->w.len);
		wr_u32(&w, secs);
		wr_u32(&w, (uint32_t)x->flow_seq);
		wr_u32(&w, x->cfg.source_id);
		break;
	}
}

void nfx_flush(struct nfx *x)
{
	if (!x->open)
		return;
	nfx_close_set(x);
	x->open = false;
	if (x->w.bad || x->ndata == 0)
		return;		/* cannot happen: every write is sized beforehand */
	nfx_put_header(x);
	x->send(x->arg, x->buf, x->w.len);
	x->datagrams++;
	x->v9_seq++;
	x->flow_seq += x->ndata;
}

static void nfx_put_v5(struct nfx *x, const struct nfx_flow *f)
{
	struct wr *w = &x->w;

	wr_bytes(w, f->src.a, 4);
	wr_bytes(w, f->dst.a, 4);
	wr_u32(w, 0);			/* next hop */
	wr_u16(w, (uint16_t)f->in_if);
	wr_u16(w, (uint16_t)f->out_if);
	wr_u32(w, f->packets > UINT32_MAX ? UINT32_MAX : (uint32_t)f->packets);
	wr_u32(w, f->bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)f->bytes);
	wr_u32(w, nfx_uptime(x, f->first_ms));
	wr_u32(w, nfx_uptime(x, f->last_ms));
	wr_u16(w, f->src_port);
	wr_u16(w, f->dst_port);
	wr_u8(w, 0);
	wr_u8(w, f->tcp_flags);
	wr_u8(w, f->proto);
	wr_u8(w, f->tos);
	wr_u16(w, (uint16_t)f->src_as);
	wr_u16(w, (uint16_t)f->dst_as);
	wr_u8(w, f->src_mask);
	wr_u8(w, f->dst_mask);
	wr_u16(w, 0);
}

/* One data record through its template (v9 / IPFIX). */
static void nfx_put_record(struct nfx *x, const struct nfx_flow *f)
{
	struct nfx_field t[NFX_NFIELDS];
	struct wr *w = &x->w;

	nfx_template(f->src.af, x->cfg.version, t);
	for (int i = 0; i < NFX_NFIELDS; i++) {
		switch (t[i].id) {
		case 8: case 27: wr_bytes(w, f->src.a, t[i].len); break;
		case 12: case 28: wr_bytes(w, f->dst.a, t[i].len); break;
		case 7: wr_u16(w, f->src_port); break;
		case 11: wr_u16(w, f->dst_port); break;
		case 4: wr_u8(w, f->proto); break;
		case 5: wr_u8(w, f->tos); break;
		case 6: wr_u8(w, f->tcp_flags); break;
		case 10: wr_u32(w, f->in_if); break;
		case 14: wr_u32(w, f->out_if); break;
		case 1: wr_u64(w, f->bytes); break;
		case 2: wr_u64(w, f->packets); break;
		case 22: wr_u32(w, nfx_uptime(x, f->first_ms)); break;
		case 21: wr_u32(w, nfx_uptime(x, f->last_ms)); break;
		case 152: wr_u64(w, (uint64_t)f->first_ms); break;
		case 153: wr_u64(w, (uint64_t)f->last_ms); break;
		case 61: wr_u8(w, f->direction); break;
		case 16: wr_u32(w, f->src_as); break;
		case 17: wr_u32(w, f->dst_as); break;
		case 9: case 29: wr_u8(w, f->src_mask); break;
		case 13: case 30: wr_u8(w, f->dst_mask); break;
		default: wr_zero(w, t[i].len); break;
		}
	}
}

/* Bytes the flow needs in the open datagram, set header and worst-case padding included. */
static size_t nfx_need(const struct nfx *x, int af)
{
	if (x->cfg.version == 5)
		return 48;
	return nfx_rec_size(af, x->cfg.version) + (x->set_af == af ? 0 : 4 + 3) + 3;
}

void nfx_add(struct nfx *x, const struct nfx_flow *f, int64_t now_ms)
{
	int af = f->src.af == 6 ? 6 : 4;

	/*
	 * v9 and IPFIX headers carry whole seconds: the export time is rounded
	 * up so that sysUptime and the header time agree to the millisecond and
	 * no flow ends after its export.
	 */
	now_ms = (now_ms + 999) / 1000 * 1000;

	if (x->cfg.version == 5 && af != 4) {
		x->skipped++;
		return;
	}
	if (x->open && (x->w.cap - x->w.len < nfx_need(x, af) ||
	    (x->cfg.version == 5 && x->nrec == 30)))
		nfx_flush(x);
	if (!x->open) {
		x->now_ms = now_ms;
		nfx_open(x);
	}
	if (now_ms > x->now_ms)
		x->now_ms = now_ms;
	if (x->cfg.version == 5) {
		nfx_put_v5(x, f);
	} else {
		if (x->set_af != af) {
			nfx_close_set(x);
			x->set_off = x->w.len;
			x->set_af = af;
			wr_u16(&x->w, af == 4 ? NFX_TPL_V4 : NFX_TPL_V6);
			wr_u16(&x->w, 0);
		}
		nfx_put_record(x, f);
	}
	x->nrec++;
	x->ndata++;
	x->flows++;
}
