/* SPDX-License-Identifier: BSD-3-Clause */
/* sflow.c: sFlow v2/v4/v5 datagram decoder (sflow.org sflow_version_5.txt, sflow_version_4.txt). */
#include "sflow.h"

#include <string.h>

#include "lib/rd.h"
#include "lib/text.h"

/*
 * Behaviour notes (pmacct 1.7.7 sfacctd is the reference):
 *
 * - One record per flow sample: bytes = the sampled frame length (raw
 *   header frame_length, L2 included; a sampled IPv4/IPv6 record's length
 *   overrides it, an Ethernet record's only when nothing else set it),
 *   packets = 1, flows = 1.  Renormalization is the caller's (sflow_state).
 * - Raw packet headers go through pkt_decode() (the pmacctd decoder) with
 *   the link type the header protocol names; a header that is not IP is
 *   still accounted (zero addresses), as pmacct does.
 * - peer_src_ip = the agent address in the datagram, export_proto_sysid =
 *   sub-agent id, export_proto_seqno = datagram sequence number,
 *   export_proto_version = 2, 4 or 5, in/out iface = the sample's ports as
 *   sent (pmacct does not strip the 2-bit format of compact samples).
 * - Extended switch: vlan/cos = source VLAN/priority when non-zero, else
 *   the raw header's 802.1Q tag.  Extended router: src/dst_mask (its next
 *   hop is not used: 1.7.7 leaves peer_dst_ip empty without a gateway).
 *   Extended gateway: src_as, peer_src_as = src_peer_as, peer_dst_as =
 *   first AS of the path, dst_as = last AS of the path, peer_dst_ip = its
 *   v5 next hop (the BGP next hop).
 * - A sampled IPv4/IPv6 record alone leaves etype 0, as 1.7.7 prints it.
 * - tos of an IPv6 raw header is the traffic class >> 4 (1.7.7's quirk,
 *   kept for drop-in output; pmacctd reports the whole byte).
 * - A datagram is read sample by sample; the first malformation stops it
 *   and is counted by reason; samples before it are kept.
 */

const char *const sflow_drop_name[SFLOW_DROP_COUNT] = {
	[SFLOW_DROP_NONE] = "none",
	[SFLOW_DROP_SHORT] = "short datagram header",
	[SFLOW_DROP_VERSION] = "unsupported version",
	[SFLOW_DROP_AGENT_AF] = "bad agent address type",
	[SFLOW_DROP_SAMPLE_COUNT] = "sample count past the end",
	[SFLOW_DROP_SAMPLE_LEN] = "sample length past the end",
	[SFLOW_DROP_SAMPLE_SHORT] = "sample shorter than its fields",
	[SFLOW_DROP_RECORD_COUNT] = "record count past the sample",
	[SFLOW_DROP_RECORD_LEN] = "record length past the sample",
	[SFLOW_DROP_RECORD_SHORT] = "record shorter than its fields",
	[SFLOW_DROP_V2_TAG] = "unknown v2/v4 tag",
};

/* sFlow v5 sample formats (enterprise 0), section "sample_data". */
enum {
	SF5_FLOW = 1, SF5_COUNTERS = 2, SF5_FLOW_EXP = 3, SF5_COUNTERS_EXP = 4,
};

/* Header protocols of "sampled_header" (v5 spec, header_protocol). */
enum {
	SF_HDR_ETHERNET = 1, SF_HDR_PPP = 7, SF_HDR_IPV4 = 11, SF_HDR_IPV6 = 12,
};

/* Extended data of a flow sample, merged into the record at the end of the sample. */
struct sf_ext {
	bool has_hdr, has_eth, has_ip, has_switch, has_router, has_gw, has_gw_nh;
	bool rec_clear;		/* the record was cleared by the header's decode */
	uint32_t eth_len, ip_len;
	uint8_t eth_src[6], eth_dst[6];
	uint16_t eth_type;
	struct fr_ip ip_src, ip_dst;
	uint8_t proto, tos, tcp_flags;
	uint16_t sport, dport;
	uint32_t frame_len;
	uint32_t sw_vlan, sw_prio, sw_out_vlan;
	struct fr_ip router_nh, gw_nh;
	uint8_t src_mask, dst_mask;
	uint32_t src_as, dst_as, src_peer_as, dst_peer_as;
	uint32_t vll_vc_id;	/* extended_mpls_vc: mpls_pw_id */
};

struct sf_ctx {
	const struct sflow_sink *sink;
	struct sflow_stats *st;
	struct sflow_hdr h;
	struct sflow_flow f;
	struct sf_ext x;
	struct flow_rec rec;
	struct sflow_counter cnt;	/* the v5 counter sample being read */
};

typedef void (*sf_rec_fn)(struct sf_ctx *c, struct rd *r);

/* An address: type 1 IPv4, 2 IPv6, 0 unknown (no bytes).  v5 spec "address". */
static void sf_addr(struct rd *r, struct fr_ip *ip)
{
	uint32_t type = rd_u32(r);

	memset(ip, 0, sizeof(*ip));
	if (type == 1) {
		ip->af = 4;
		rd_copy(r, ip->a, 4);
	} else if (type == 2) {
		ip->af = 6;
		rd_copy(r, ip->a, 16);
	} else if (type != 0) {
		r->bad = true;
		r->left = 0;
	}
	if (r->bad)
		ip->af = 0;
}

/* Skip a counted list of 32-bit words, refusing counts the reader cannot hold. */
static void sf_skip_words(struct rd *r, uint32_t n)
{
	if (n > r->left / 4) {
		r->bad = true;
		r->left = 0;
		return;
	}
	rd_skip(r, (size_t)n * 4);
}

/* Skip an XDR string / opaque: length, bytes, padding to 4. */
static void sf_skip_opaque(struct rd *r)
{
	uint32_t n = rd_u32(r);

	if (n > r->left) {
		r->bad = true;
		r->left = 0;
		return;
	}
	rd_skip(r, ((size_t)n + 3) & ~(size_t)3);
}

/* Link type pkt_decode() understands for a header_protocol; -1 if none. */
static int sf_hdr_dlt(uint32_t proto)
{
	switch (proto) {
	case SF_HDR_ETHERNET: return 1;		/* DLT_EN10MB */
	case SF_HDR_PPP: return 50;		/* DLT_PPP_SERIAL: HDLC-like framing */
	case SF_HDR_IPV4: return 228;		/* DLT_IPV4 */
	case SF_HDR_IPV6: return 229;		/* DLT_IPV6 */
	default: return -1;
	}
}

/* "sampled_header" (v5 format 1; v2/v4 packet type 1, no `stripped`). */
static void sf_rec_header(struct sf_ctx *c, struct rd *r)
{
	uint32_t proto = rd_u32(r);
	uint32_t frame_len = rd_u32(r);
	if (c->h.version == 5)
		rd_skip(r, 4);			/* stripped */
	uint32_t hlen = rd_u32(r);
	if (r->bad || hlen > r->left) {
		r->bad = true;
		r->left = 0;
		return;
	}
	const uint8_t *hdr = rd_take(r, hlen);
	size_t pad = (4 - (hlen & 3)) & 3;
	if (c->h.version < 5 || pad <= r->left)
		rd_skip(r, pad);		/* v5 records are bounded anyway */

	int dlt = sf_hdr_dlt(proto);
	if (dlt < 0)
		fr_clear_hot(&c->rec);
	/* pkt_decode_hot() clears the record first, drop or not (its cold tail stays zero) */
	const struct pkt_tun *tun = c->sink->tun;
	enum pkt_drop d = PKT_DROP_LINKTYPE;
	if (dlt >= 0)
		d = tun ? pkt_decode_tun(dlt, hdr, hlen, frame_len, tun, &c->rec, &c->st->pkt) :
		    pkt_decode_hot(dlt, hdr, hlen, frame_len, &c->rec, &c->st->pkt);
	if (d != PKT_DROP_NONE)
		c->st->non_ip++;
	c->x.rec_clear = true;
	/* 1.7.7 sfacctd keeps only the high nibble of an IPv6 traffic class (its decodeIPV6) */
	if (c->rec.k.src_ip.af == 6)
		c->rec.k.tos >>= 4;
	if (tun && c->rec.k.tunnel_src_ip.af == 6)	/* and an inner one's (verified) */
		c->rec.k.tunnel_tos >>= 4;
	c->x.has_hdr = true;
	c->x.frame_len = frame_len;
}

/* "sampled_ethernet" (v5 format 2): length, src and dst MAC padded to 8, type. */
static void sf_rec_ethernet(struct sf_ctx *c, struct rd *r)
{
	c->x.eth_len = rd_u32(r);
	rd_copy(r, c->x.eth_src, 6);
	rd_skip(r, 2);
	rd_copy(r, c->x.eth_dst, 6);
	rd_skip(r, 2);
	c->x.eth_type = (uint16_t)rd_u32(r);
	c->x.has_eth = !r->bad;
}

/* "sampled_ipv4" / "sampled_ipv6" (v5 formats 3, 4; v2/v4 packet types 2, 3). */
static void sf_rec_ip(struct sf_ctx *c, struct rd *r, int af)
{
	struct sf_ext *x = &c->x;
	size_t alen = af == 4 ? 4 : 16;

	x->ip_len = rd_u32(r);
	x->proto = (uint8_t)rd_u32(r);
	memset(&x->ip_src, 0, sizeof(x->ip_src));
	memset(&x->ip_dst, 0, sizeof(x->ip_dst));
	x->ip_src.af = x->ip_dst.af = (uint8_t)af;
	rd_copy(r, x->ip_src.a, alen);
	rd_copy(r, x->ip_dst.a, alen);
	x->sport = (uint16_t)rd_u32(r);
	x->dport = (uint16_t)rd_u32(r);
	x->tcp_flags = (uint8_t)rd_u32(r);
	x->tos = (uint8_t)rd_u32(r);
	x->has_ip = !r->bad;
}

static void sf_rec_ipv4(struct sf_ctx *c, struct rd *r)
{
	sf_rec_ip(c, r, 4);
}

static void sf_rec_ipv6(struct sf_ctx *c, struct rd *r)
{
	sf_rec_ip(c, r, 6);
}

/* "extended_switch" (v5 1001, v2/v4 extended 1): src vlan, src priority, dst vlan, dst priority. */
static void sf_rec_switch(struct sf_ctx *c, struct rd *r)
{
	c->x.sw_vlan = rd_u32(r);
	c->x.sw_prio = rd_u32(r);
	c->x.sw_out_vlan = rd_u32(r);
	rd_skip(r, 4);
	c->x.has_switch = !r->bad;
}

/* "extended_router" (v5 1002, v2/v4 extended 2): next hop, src and dst mask lengths. */
static void sf_rec_router(struct sf_ctx *c, struct rd *r)
{
	sf_addr(r, &c->x.router_nh);
	c->x.src_mask = (uint8_t)rd_u32(r);
	c->x.dst_mask = (uint8_t)rd_u32(r);
	c->x.has_router = !r->bad;
}

/* An AS path of `nseg` segments (type, count, ASNs): first and last AS. */
static void sf_as_path(struct sf_ctx *c, struct rd *r, uint32_t nseg)
{
	bool first = true;

	for (uint32_t s = 0; s < nseg && !r->bad; s++) {
		rd_skip(r, 4);			/* segment type: set / sequence */
		uint32_t n = rd_u32(r);
		if (n > r->left / 4) {
			r->bad = true;
			r->left = 0;
			return;
		}
		for (uint32_t i = 0; i < n; i++) {
			uint32_t as = rd_u32(r);
			if (first)
				c->x.dst_peer_as = as;
			first = false;
			c->x.dst_as = as;
		}
	}
}

/*
 * "extended_gateway": v5 1003 (next hop, as, src_as, src_peer_as, path
 * segments, communities, localpref); v4 without the next hop; v2 with a
 * flat path (skipped, as 1.7.7 does) and nothing after it.
 */
static void sf_rec_gateway(struct sf_ctx *c, struct rd *r)
{
	struct sf_ext *x = &c->x;

	if (c->h.version == 5) {
		sf_addr(r, &x->gw_nh);
		x->has_gw_nh = !r->bad && x->gw_nh.af;
	}
	rd_skip(r, 4);				/* the router's own AS */
	x->src_as = rd_u32(r);
	x->src_peer_as = rd_u32(r);
	x->dst_as = x->dst_peer_as = 0;
	if (c->h.version == 2) {
		sf_skip_words(r, rd_u32(r));	/* flat path: 1.7.7 takes no AS from it */
	} else {
		sf_as_path(c, r, rd_u32(r));
		sf_skip_words(r, rd_u32(r));	/* communities */
		rd_skip(r, 4);			/* localpref */
	}
	x->has_gw = !r->bad;
}

/* "extended_user" (v5 1004, v2/v4 extended 4): v5 has a charset before each string. */
static void sf_rec_user(struct sf_ctx *c, struct rd *r)
{
	for (int i = 0; i < 2 && (c->h.version == 5 || i == 0); i++) {
		if (c->h.version == 5)
			rd_skip(r, 4);
		sf_skip_opaque(r);
	}
}

/* "extended_url" (v5 1005, v2/v4 extended 5): direction, url (+ host in v5). */
static void sf_rec_url(struct sf_ctx *c, struct rd *r)
{
	rd_skip(r, 4);
	sf_skip_opaque(r);
	if (c->h.version == 5)
		sf_skip_opaque(r);
}

/* "extended_mpls" (v5 1006): next hop, in and out label stacks.  Checked, not used (no MPLS primitives in sfacctd). */
static void sf_rec_mpls(struct sf_ctx *c, struct rd *r)
{
	struct fr_ip nh;

	(void)c;
	sf_addr(r, &nh);
	sf_skip_words(r, rd_u32(r));
	sf_skip_words(r, rd_u32(r));
}

/* "extended_mpls_vc" (v5 1009): VC instance name, vll_vc_id (pmacct's mpls_pw_id), label COS. */
static void sf_rec_mpls_vc(struct sf_ctx *c, struct rd *r)
{
	sf_skip_opaque(r);
	c->x.vll_vc_id = rd_u32(r);
	rd_skip(r, 4);
	if (r->bad)
		c->x.vll_vc_id = 0;
}

/* A v5 record format (enterprise 0) and its decoder; anything else is skipped by its length. */
struct sf5_record {
	uint32_t format;
	sf_rec_fn fn;
};

/* v5 flow record formats. */
static const struct sf5_record sf5_flow_records[] = {
	{ 1, sf_rec_header },		/* sampled_header */
	{ 2, sf_rec_ethernet },		/* sampled_ethernet */
	{ 3, sf_rec_ipv4 },		/* sampled_ipv4 */
	{ 4, sf_rec_ipv6 },		/* sampled_ipv6 */
	{ 1001, sf_rec_switch },	/* extended_switch */
	{ 1002, sf_rec_router },	/* extended_router */
	{ 1003, sf_rec_gateway },	/* extended_gateway */
	{ 1006, sf_rec_mpls },		/* extended_mpls */
	{ 1009, sf_rec_mpls_vc },	/* extended_mpls_vc */
};

/* v2/v4 packet data types (1 header, 2 IPv4, 3 IPv6) and extended types (1..5). */
static const sf_rec_fn sf2_packet[] = { NULL, sf_rec_header, sf_rec_ipv4, sf_rec_ipv6 };
static const sf_rec_fn sf2_extended[] = {
	NULL, sf_rec_switch, sf_rec_router, sf_rec_gateway, sf_rec_user, sf_rec_url,
};


/* Merge the sample's fields and extended data into the record and hand it over. */
static void sf_flow_finish(struct sf_ctx *c)
{
	struct flow_rec *rec = &c->rec;
	struct flow_key *k = &rec->k;
	const struct sf_ext *x = &c->x;
	uint64_t bytes = x->has_hdr ? x->frame_len : 0;

	if (!x->rec_clear)
		fr_clear_hot(rec);
	if (x->has_eth) {
		memcpy(k->src_mac, x->eth_src, 6);
		memcpy(k->dst_mac, x->eth_dst, 6);
		k->etype = x->eth_type;
		if (!bytes)
			bytes = x->eth_len;
	}
	if (x->has_ip) {
		k->src_ip = x->ip_src;
		k->dst_ip = x->ip_dst;
		k->proto = x->proto;
		k->tos = x->tos;
		bool l4 = x->proto == 6 || x->proto == 17;
		k->src_port = l4 ? x->sport : 0;
		k->dst_port = l4 ? x->dport : 0;
		rec->tcp_flags = x->proto == 6 ? x->tcp_flags : 0;
		bytes = x->ip_len;
	}
	/*
	 * As pmacct (verified, 1.7.7 and master): with extended switch data, vlan
	 * is its source VLAN, else its destination VLAN, and cos its source
	 * priority; in_vlan / out_vlan are its source / destination VLANs.  Without
	 * it, vlan and in_vlan are the sampled header's tag.  Both fields of the
	 * cold tail are written for every sample, so none keeps an earlier value.
	 */
	if (x->has_switch) {
		k->vlan = (uint16_t)(x->sw_vlan ? x->sw_vlan : x->sw_out_vlan);
		k->cos = (uint8_t)x->sw_prio;
		k->in_vlan = (uint16_t)x->sw_vlan;
		k->out_vlan = (uint16_t)x->sw_out_vlan;
	} else {
		k->in_vlan = k->vlan;
		k->out_vlan = 0;
	}
	if (x->has_router) {
		k->src_mask = x->src_mask;
		k->dst_mask = x->dst_mask;
	}
	if (x->has_gw) {
		k->src_as = x->src_as;
		k->dst_as = x->dst_as;
		k->peer_src_as = x->src_peer_as;
		k->peer_dst_as = x->dst_peer_as;
		if (x->has_gw_nh)
			k->peer_dst_ip = x->gw_nh;
	}
	k->in_iface = c->f.in_if;
	k->out_iface = c->f.out_if;
	/* cold fields written for every sample: pmacct master's sampling_direction is the
	 * data source being the input (i) or output (e) port */
	k->mpls_pw_id = x->vll_vc_id;
	k->sampling_direction = c->f.ds_index == c->f.in_if ? FR_SAMP_DIR_INGRESS :
	    c->f.ds_index == c->f.out_if ? FR_SAMP_DIR_EGRESS : FR_SAMP_DIR_UNKNOWN;
	if (k->sampling_direction != FR_SAMP_DIR_UNKNOWN) {	/* pre_tag_map's direction: 0 in, 1 out */
		rec->flags |= FR_F_DIR;
		rec->direction = k->sampling_direction == FR_SAMP_DIR_EGRESS;
	}
	k->sampling_rate = c->f.rate;
	k->peer_src_ip = c->h.agent;
	k->export_proto_sysid = c->h.sub_agent;
	k->export_proto_seqno = c->h.seqno;
	k->export_proto_version = c->h.version;
	rec->bytes = bytes;
	rec->packets = 1;
	rec->flows = 1;
	c->st->flow_samples++;
	if (c->sink->flow)
		c->sink->flow(c->sink->arg, &c->h, &c->f, rec);
}

static void sf_flow_begin(struct sf_ctx *c)
{
	/* the record is cleared once: by the sampled header's decode, else in sf_flow_finish() */
	memset(&c->x, 0, sizeof(c->x));
	if (c->sink->tun)	/* the tunnel block a sample without a header leaves */
		memset((uint8_t *)&c->rec.k + FR_KEY_TUN, 0, FR_KEY_TUN_LEN);
}

/* A sample's source id: class and index in a word each (v5 expanded), else one word, class << 24. */
static void sf_source_id(struct rd *s, bool expanded, uint32_t *ds_class, uint32_t *ds_index)
{
	if (expanded) {
		*ds_class = rd_u32(s);
		*ds_index = rd_u32(s);
	} else {
		uint32_t id = rd_u32(s);
		*ds_class = id >> 24;
		*ds_index = id & 0x00ffffff;
	}
}

/*
 * The records of a v5 sample: a count, then per record its tag, length and
 * data, decoded by the entry of `formats` (n of them) for its tag; unknown
 * tags are counted and skipped.
 */
static enum sflow_drop sf5_records(struct sf_ctx *c, struct rd *s, const struct sf5_record *formats,
    size_t n)
{
	uint32_t nrec = rd_u32(s);

	if (s->bad)
		return SFLOW_DROP_SAMPLE_SHORT;
	for (uint32_t i = 0; i < nrec; i++) {
		if (s->left == 0)
			return SFLOW_DROP_RECORD_COUNT;
		uint32_t tag = rd_u32(s);
		uint32_t len = rd_u32(s);
		struct rd r = rd_sub(s, len);
		if (s->bad)
			return SFLOW_DROP_RECORD_LEN;
		size_t k = 0;
		while (k < n && formats[k].format != tag)
			k++;
		if (k == n) {
			c->st->unknown_records++;
			continue;
		}
		formats[k].fn(c, &r);
		if (r.bad)
			return SFLOW_DROP_RECORD_SHORT;
	}
	return SFLOW_DROP_NONE;
}

/* v5 "flow_sample" (format 1) and "flow_sample_expanded" (format 3), inside its length. */
static enum sflow_drop sf5_flow_sample(struct sf_ctx *c, struct rd *s, bool expanded)
{
	struct sflow_flow *f = &c->f;

	sf_flow_begin(c);
	f->seqno = rd_u32(s);
	sf_source_id(s, expanded, &f->ds_class, &f->ds_index);
	f->rate = rd_u32(s);
	f->pool = rd_u32(s);
	f->drops = rd_u32(s);
	if (expanded)
		rd_skip(s, 4);			/* input format */
	f->in_if = rd_u32(s);
	if (expanded)
		rd_skip(s, 4);			/* output format */
	f->out_if = rd_u32(s);
	enum sflow_drop why = sf5_records(c, s, sf5_flow_records, NELEM(sf5_flow_records));
	if (why != SFLOW_DROP_NONE)
		return why;
	sf_flow_finish(c);
	return SFLOW_DROP_NONE;
}

/* "if_counters" (v5 counter format 1; the generic block of v2/v4). */
static void sf_cnt_generic(struct rd *r, struct sflow_if_counters *g)
{
	g->ifIndex = rd_u32(r);
	g->ifType = rd_u32(r);
	g->ifSpeed = rd_u64(r);
	g->ifDirection = rd_u32(r);
	g->ifStatus = rd_u32(r);
	g->ifInOctets = rd_u64(r);
	g->ifInUcastPkts = rd_u32(r);
	g->ifInMulticastPkts = rd_u32(r);
	g->ifInBroadcastPkts = rd_u32(r);
	g->ifInDiscards = rd_u32(r);
	g->ifInErrors = rd_u32(r);
	g->ifInUnknownProtos = rd_u32(r);
	g->ifOutOctets = rd_u64(r);
	g->ifOutUcastPkts = rd_u32(r);
	g->ifOutMulticastPkts = rd_u32(r);
	g->ifOutBroadcastPkts = rd_u32(r);
	g->ifOutDiscards = rd_u32(r);
	g->ifOutErrors = rd_u32(r);
	g->ifPromiscuousMode = rd_u32(r);
}

static void sf_cnt_ethernet(struct rd *r, struct sflow_eth_counters *e)
{
	for (int i = 0; i < 13; i++)
		e->v[i] = rd_u32(r);
}

static void sf_cnt_vlan(struct rd *r, struct sflow_vlan_counters *v)
{
	v->vlan_id = rd_u32(r);
	v->octets = rd_u64(r);
	v->ucastPkts = rd_u32(r);
	v->multicastPkts = rd_u32(r);
	v->broadcastPkts = rd_u32(r);
	v->discards = rd_u32(r);
}

/* A v5 counter block of `type` was read: deliver the sample with it, unless the block was short. */
static void sf_cnt_deliver(struct sf_ctx *c, const struct rd *r, uint32_t type)
{
	c->cnt.type = type;
	if (!r->bad && c->sink->counter)
		c->sink->counter(c->sink->arg, &c->h, &c->cnt);
}

static void sf_rec_cnt_generic(struct sf_ctx *c, struct rd *r)
{
	sf_cnt_generic(r, &c->cnt.gen);
	sf_cnt_deliver(c, r, SFLOW_CNT_GENERIC);
}

static void sf_rec_cnt_ethernet(struct sf_ctx *c, struct rd *r)
{
	sf_cnt_ethernet(r, &c->cnt.eth);
	sf_cnt_deliver(c, r, SFLOW_CNT_ETHERNET);
}

static void sf_rec_cnt_vlan(struct sf_ctx *c, struct rd *r)
{
	sf_cnt_vlan(r, &c->cnt.vlan);
	sf_cnt_deliver(c, r, SFLOW_CNT_VLAN);
}

/* v5 counter record formats: each block is delivered with the sample's fields. */
static const struct sf5_record sf5_counter_records[] = {
	{ 1, sf_rec_cnt_generic },	/* generic_interface_counters */
	{ 2, sf_rec_cnt_ethernet },	/* ethernet_interface_counters */
	{ 5, sf_rec_cnt_vlan },		/* vlan_counters */
};

/* v5 "counters_sample" (format 2) and "counters_sample_expanded" (format 4). */
static enum sflow_drop sf5_counter_sample(struct sf_ctx *c, struct rd *s, bool expanded)
{
	struct sflow_counter *cs = &c->cnt;

	memset(cs, 0, sizeof(*cs));
	cs->seqno = rd_u32(s);
	sf_source_id(s, expanded, &cs->ds_class, &cs->ds_index);
	enum sflow_drop why = sf5_records(c, s, sf5_counter_records, NELEM(sf5_counter_records));
	if (why != SFLOW_DROP_NONE)
		return why;
	c->st->counter_samples++;
	return SFLOW_DROP_NONE;
}

/* One v5 sample: tag (enterprise << 12 | format), length, data (v5 spec "sample_record"). */
static enum sflow_drop sf5_sample(struct sf_ctx *c, struct rd *d)
{
	uint32_t tag = rd_u32(d);
	uint32_t len = rd_u32(d);
	struct rd s = rd_sub(d, len);

	if (d->bad)
		return SFLOW_DROP_SAMPLE_LEN;
	switch (tag) {
	case SF5_FLOW: return sf5_flow_sample(c, &s, false);
	case SF5_FLOW_EXP: return sf5_flow_sample(c, &s, true);
	case SF5_COUNTERS: return sf5_counter_sample(c, &s, false);
	case SF5_COUNTERS_EXP: return sf5_counter_sample(c, &s, true);
	default:
		c->st->unknown_samples++;
		return SFLOW_DROP_NONE;
	}
}

/* v2/v4 flow sample: no lengths, so every part must be known (sflow_version_4.txt "flow_sample"). */
static enum sflow_drop sf2_flow_sample(struct sf_ctx *c, struct rd *d)
{
	struct sflow_flow *f = &c->f;

	sf_flow_begin(c);
	f->seqno = rd_u32(d);
	sf_source_id(d, false, &f->ds_class, &f->ds_index);
	f->rate = rd_u32(d);
	f->pool = rd_u32(d);
	f->drops = rd_u32(d);
	f->in_if = rd_u32(d);
	f->out_if = rd_u32(d);
	uint32_t type = rd_u32(d);
	if (d->bad)
		return SFLOW_DROP_SAMPLE_LEN;
	if (type == 0 || type >= NELEM(sf2_packet))
		return SFLOW_DROP_V2_TAG;
	sf2_packet[type](c, d);
	uint32_t next = rd_u32(d);
	for (uint32_t i = 0; i < next && !d->bad; i++) {
		uint32_t t = rd_u32(d);
		if (d->bad)
			break;
		if (t == 0 || t >= NELEM(sf2_extended))
			return SFLOW_DROP_V2_TAG;
		sf2_extended[t](c, d);
	}
	if (d->bad)
		return SFLOW_DROP_SAMPLE_LEN;
	sf_flow_finish(c);
	return SFLOW_DROP_NONE;
}

/* v2/v4 counters sample: the counters_type names the blocks that follow. */
static enum sflow_drop sf2_counter_sample(struct sf_ctx *c, struct rd *d)
{
	/* extra bytes after the generic block per type: tokenring 72, 100BaseVG 80 */
	static const int16_t extra[] = { -1, 0, 52, 72, 0, 80, 0, -2 };
	struct sflow_counter cs;

	memset(&cs, 0, sizeof(cs));
	cs.seqno = rd_u32(d);
	sf_source_id(d, false, &cs.ds_class, &cs.ds_index);
	rd_skip(d, 4);				/* sampling interval */
	uint32_t type = rd_u32(d);
	if (d->bad)
		return SFLOW_DROP_SAMPLE_LEN;
	if (type == 0 || type >= NELEM(extra))
		return SFLOW_DROP_V2_TAG;
	/* one delivery per sample, as pmacct logs v2/v4 counters: generic (+ ethernet) or vlan */
	if (type == 7) {
		sf_cnt_vlan(d, &cs.vlan);
		cs.type = SFLOW_CNT_VLAN;
	} else {
		sf_cnt_generic(d, &cs.gen);
		cs.type = SFLOW_CNT_GENERIC;
		if (type == 2) {
			sf_cnt_ethernet(d, &cs.eth);
			cs.type |= SFLOW_CNT_ETHERNET;
		} else {
			rd_skip(d, (size_t)extra[type]);
		}
	}
	if (d->bad)
		return SFLOW_DROP_SAMPLE_LEN;
	if (c->sink->counter)
		c->sink->counter(c->sink->arg, &c->h, &cs);
	c->st->counter_samples++;
	return SFLOW_DROP_NONE;
}

static enum sflow_drop sf2_sample(struct sf_ctx *c, struct rd *d)
{
	uint32_t type = rd_u32(d);

	if (d->bad)
		return SFLOW_DROP_SAMPLE_LEN;
	if (type == 1)
		return sf2_flow_sample(c, d);
	if (type == 2)
		return sf2_counter_sample(c, d);
	return SFLOW_DROP_V2_TAG;
}

/* The datagram header: version, agent address, [sub agent id], sequence, uptime, sample count. */
static enum sflow_drop sf_header(struct rd *d, struct sflow_hdr *h)
{
	h->version = rd_u32(d);
	if (d->bad)
		return SFLOW_DROP_SHORT;
	if (h->version != 2 && h->version != 4 && h->version != 5)
		return SFLOW_DROP_VERSION;
	struct rd peek = *d;
	uint32_t af = rd_u32(&peek);
	if (peek.bad)
		return SFLOW_DROP_SHORT;
	if (af != 1 && af != 2)
		return SFLOW_DROP_AGENT_AF;
	sf_addr(d, &h->agent);
	h->sub_agent = h->version == 5 ? rd_u32(d) : 0;
	h->seqno = rd_u32(d);
	h->uptime = rd_u32(d);
	h->nsamples = rd_u32(d);
	return d->bad ? SFLOW_DROP_SHORT : SFLOW_DROP_NONE;
}

enum sflow_drop sflow_header(const uint8_t *buf, size_t len, struct sflow_hdr *h)
{
	struct rd d = rd_make(buf, len);

	memset(h, 0, sizeof(*h));
	return sf_header(&d, h);
}

enum sflow_drop sflow_decode(const uint8_t *buf, size_t len, const struct sflow_sink *sink,
    struct sflow_stats *st, struct sflow_hdr *hout)
{
	struct sf_ctx c;
	struct rd d = rd_make(buf, len);
	enum sflow_drop why;

	c.sink = sink;
	c.st = st;
	/* no sample fills the key's cold tail: zeroed once, each record clears the rest */
	memset((uint8_t *)&c.rec.k + FR_KEY_COLD, 0, FR_KEY_BGP - FR_KEY_COLD);
	memset(&c.h, 0, sizeof(c.h));
	why = sf_header(&d, &c.h);
	if (hout)
		*hout = c.h;
	for (uint32_t i = 0; why == SFLOW_DROP_NONE && i < c.h.nsamples; i++) {
		if (d.left == 0)
			why = SFLOW_DROP_SAMPLE_COUNT;
		else if (c.h.version == 5)
			why = sf5_sample(&c, &d);
		else
			why = sf2_sample(&c, &d);
	}
	if (why != SFLOW_DROP_NONE)
		st->drops[why]++;
	else
		st->datagrams++;
	return why;
}
