/* SPDX-License-Identifier: BSD-3-Clause */
/* nf5.c: NetFlow v1, v5 and v7 export datagrams (fixed layouts, Cisco "NetFlow Export Datagram Format"). */
#include <stddef.h>
#include <string.h>

#include "decode/nf_state.h"
#include "lib/rd.h"
#include "lib/text.h"

/* The three fixed-layout versions: header and record sizes. */
struct nf5_layout {
	uint16_t version;
	uint16_t hdr_len;
	uint16_t rec_len;
};

static const struct nf5_layout nf5_layouts[] = {
	{ 1, 16, 48 },
	{ 5, 24, 48 },
	{ 7, 24, 52 },
};

/* The header fields the records need. */
struct nf5_hdr {
	uint16_t version, count;
	uint32_t uptime, secs, nsecs, seq;
	uint8_t engine_type, engine_id;
	uint16_t sampling;
};

static const struct nf5_layout *nf5_layout(uint16_t version)
{
	for (size_t i = 0; i < NELEM(nf5_layouts); i++)
		if (nf5_layouts[i].version == version)
			return &nf5_layouts[i];
	return NULL;
}

/*
 * A sysUptime-relative time (ms) as an absolute one.  As pmacct 1.7.7
 * (verified): 32-bit unsigned arithmetic, whole seconds.  `secs`: the
 * uptimes are in seconds (nfacctd_time_secs, which pmacct applies to the
 * time-bin only, not to timestamp_start/end).
 */
static struct fr_ts nf5_time(const struct nf5_hdr *h, uint32_t t, bool secs)
{
	uint32_t ago = h->uptime - t;
	struct fr_ts ts = { 0, 0 };

	if (!secs)
		ago /= 1000;
	ts.sec = (int64_t)(uint32_t)(h->secs - ago);
	return ts;
}

/* One flow record (v1: RFC-less Cisco layout; v5/v7 add AS, masks, flags). */
static void nf5_record(const struct nf_state *st, const struct nf5_hdr *h, struct rd *r,
    struct flow_rec *rec)
{
	struct flow_key *k = &rec->k;
	struct fr_ip nh = { 0 };
	uint32_t first, last;

	k->src_ip.af = k->dst_ip.af = nh.af = 4;
	rd_copy(r, k->src_ip.a, 4);
	rd_copy(r, k->dst_ip.a, 4);
	rd_copy(r, nh.a, 4);
	k->in_iface = rd_u16(r);
	k->out_iface = rd_u16(r);
	rec->packets = rd_u32(r);
	rec->bytes = rd_u32(r);
	first = rd_u32(r);
	last = rd_u32(r);
	k->src_port = rd_u16(r);
	k->dst_port = rd_u16(r);
	if (h->version == 1) {
		rd_skip(r, 2);		/* pad1 */
		k->proto = rd_u8(r);
		k->tos = rd_u8(r);
		rec->tcp_flags = rd_u8(r);
		rd_skip(r, 7);		/* pad2, pad3, reserved */
	} else {
		rd_skip(r, 1);		/* pad1 */
		rec->tcp_flags = rd_u8(r);
		k->proto = rd_u8(r);
		k->tos = rd_u8(r);
		k->src_as = rd_u16(r);
		k->dst_as = rd_u16(r);
		k->src_mask = rd_u8(r);
		k->dst_mask = rd_u8(r);
		rd_skip(r, h->version == 7 ? 6 : 2);	/* v5 pad2; v7 flags, router_sc */
	}
	k->etype = 0x0800;
	if (st->opts.use_ip_next_hop)
		k->peer_dst_ip = nh;
	k->ts_start = nf5_time(h, first, false);
	k->ts_end = nf5_time(h, last, false);
	if (st->opts.time_secs)
		rec->ts = nf5_time(h, first, true);
}

static void nf5_header(struct rd *r, struct nf5_hdr *h)
{
	h->version = rd_u16(r);
	h->count = rd_u16(r);
	h->uptime = rd_u32(r);
	h->secs = rd_u32(r);
	h->nsecs = rd_u32(r);
	if (h->version == 1)
		return;
	h->seq = rd_u32(r);
	if (h->version == 5) {
		h->engine_type = rd_u8(r);
		h->engine_id = rd_u8(r);
		h->sampling = rd_u16(r);
	} else {
		rd_skip(r, 4);	/* v7 reserved */
	}
}

size_t nf5_decode(struct nf_state *st, const uint8_t *data, size_t len, const struct fr_ip *src,
    const struct fr_ts *arrival, nf_emit_fn emit, void *arg)
{
	struct rd r = rd_make(data, len);
	struct nf5_hdr h = { 0 };
	const struct nf5_layout *lay;
	struct nf_exporter *e;
	struct flow_rec base, rec;
	uint32_t rate;

	nf5_header(&r, &h);
	lay = nf5_layout(h.version);
	if (r.bad || !lay) {
		nf_drop(st, NULL, src, NF_DROP_SHORT);
		return 0;
	}
	e = nf_exporter_get(st, src, (uint32_t)h.engine_type << 8 | h.engine_id, h.version);
	e->packets++;
	e->bytes += len;
	if (h.count == 0 || r.left < (size_t)h.count * lay->rec_len) {
		e->drops[NF_DROP_COUNT_LEN]++;
		return 0;
	}
	if (h.version != 1)
		nf_seq_check(e, h.seq, h.seq + h.count);
	fr_rec_clear(&base);
	base.k.peer_src_ip = *src;
	base.k.export_proto_version = h.version;
	base.k.export_proto_sysid = h.engine_id;	/* as pmacct: the engine id alone */
	base.k.export_proto_seqno = h.seq;
	base.k.ts_export.sec = h.secs;
	base.k.ts_arrival = *arrival;
	/* sampling_interval: 2-bit mode, 14-bit interval (v5 only) */
	rate = h.version == 5 ? h.sampling & 0x3fff : 0;
	fr_rec_copy(&rec, &base);
	for (uint16_t i = 0; i < h.count; i++) {
		struct rd rr = rd_sub(&r, lay->rec_len);
		/* v5 fills no field of the key's cold tail: it stays as `base` left it, zero,
		 * unless the consumer writes there */
		memcpy(&rec.k, &base.k, st->opts.emit_writes_tail ? FR_KEY_BGP : FR_KEY_COLD);
		memcpy((uint8_t *)&rec + sizeof(rec.k), (const uint8_t *)&base + sizeof(base.k),
		    sizeof(rec) - sizeof(rec.k));
		nf5_record(st, &h, &rr, &rec);
		nf_rec_finish(st, &rec, rate);
		e->records++;
		emit(arg, &rec);
	}
	return h.count;
}
