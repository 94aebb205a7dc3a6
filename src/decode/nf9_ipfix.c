/* SPDX-License-Identifier: BSD-3-Clause */
/* nf9_ipfix.c: NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) messages: sets, templates, options, data records. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "decode/nf_state.h"
#include "lib/rd.h"

#define NF_NTP_EPOCH 2208988800u	/* seconds from 1900 to 1970 (RFC 7011 6.1.9) */

/* Where the key's cold tail starts: fields after it are rarely exported. */
#define NF_KEY_COLD FR_KEY_COLD

/* What one message's sets need from its header. */
struct nf9_msg {
	struct nf_state *st;
	struct nf_exporter *e;
	const struct fr_ip *src;
	uint16_t version;		/* 9 or 10 */
	uint32_t uptime;		/* v9 sysUptime, ms (RFC 3954 5.1) */
	uint32_t secs;			/* v9 UNIX secs / IPFIX export time */
	uint32_t domain;		/* v9 source id / IPFIX observation domain */
	uint32_t data_records;		/* for the IPFIX sequence number */
	size_t emitted;
	/*
	 * nf9_ifname()'s last lookup: valid through one data set of a
	 * non-options template (no record of it adds names, so the entry
	 * cannot move); ifc_cache says whether the set allows it.
	 */
	bool ifc_cache, ifc_ok;
	uint32_t ifc_id;
	const struct nf_name *ifc_name;
	struct flow_rec base;		/* per-message fields of every record */
	nf_emit_fn emit;
	void *arg;
};

/*
 * One field specifier: v9 {type, length} (RFC 3954 5.2); IPFIX adds the
 * enterprise bit and number (RFC 7011 3.2).
 */
static void nf9_field(const struct nf9_msg *m, struct rd *r, struct nf_field *f)
{
	f->type = rd_u16(r);
	f->len = rd_u16(r);
	f->pen = 0;
	if (m->version == 10 && (f->type & 0x8000)) {
		f->type &= 0x7fff;
		f->pen = rd_u32(r);
	}
}

/* Read n field specifiers into the state's buffer; -1 on a short set or too many. */
static int nf9_fields(const struct nf9_msg *m, struct rd *r, uint16_t n)
{
	if (n > NF_MAX_FIELDS || (size_t)n * 4 > r->left)
		return -1;
	for (uint16_t i = 0; i < n; i++)
		nf9_field(m, r, &m->st->fbuf[i]);
	return r->bad ? -1 : 0;
}

static void nf9_held_replay(struct nf9_msg *m, uint16_t id);

/* Template set: v9 flowset 0 (RFC 3954 5.2), IPFIX set 2 (RFC 7011 3.4.1). */
static void nf9_templates(struct nf9_msg *m, struct rd *set)
{
	while (set->left >= 4) {
		uint16_t id = rd_u16(set);
		uint16_t n = rd_u16(set);

		if (m->version == 10 && n == 0) {
			/* withdrawal, RFC 7011 8.1 (id 2: all data templates) */
			nf_tpl_withdraw(m->st, m->src, m->domain, m->version, id);
			continue;
		}
		uint64_t refused = m->st->templates_refused;
		if (id < 256 || n == 0 || nf9_fields(m, set, n) < 0 ||
		    !nf_tpl_put(m->st, m->src, m->domain, m->version, id, false, m->st->fbuf, n, 0)) {
			m->e->drops[NF_DROP_TEMPLATE]++;
			/* refused at the ceiling, not malformed: the set's next templates still count */
			if (m->st->templates_refused != refused)
				continue;
			return;
		}
		if (m->st->held)
			nf9_held_replay(m, id);
	}
}

/* Options template set: v9 flowset 1 (RFC 3954 6.1), IPFIX set 3 (RFC 7011 3.4.2.2). */
static void nf9_options(struct nf9_msg *m, struct rd *set)
{
	while (set->left >= 6) {
		uint16_t id = rd_u16(set), n, nscope;

		if (m->version == 9) {
			uint16_t scope_len = rd_u16(set), opt_len = rd_u16(set);
			nscope = scope_len / 4;
			n = (uint16_t)(nscope + opt_len / 4);
			if (scope_len % 4 || opt_len % 4)
				n = 0;
		} else {
			n = rd_u16(set);
			if (n == 0) {
				nf_tpl_withdraw(m->st, m->src, m->domain, m->version, id);
				continue;
			}
			nscope = rd_u16(set);
			if (nscope == 0 || nscope > n)
				n = 0;
		}
		uint64_t refused = m->st->templates_refused;
		if (id < 256 || n == 0 || nf9_fields(m, set, n) < 0 ||
		    !nf_tpl_put(m->st, m->src, m->domain, m->version, id, true, m->st->fbuf, n, nscope)) {
			m->e->drops[NF_DROP_TEMPLATE]++;
			if (m->st->templates_refused != refused)
				continue;	/* refused at the ceiling, as above */
			return;
		}
		if (m->st->held)
			nf9_held_replay(m, id);
		/* v9: padding to a 4-byte boundary may follow (RFC 3954 6.1) */
	}
}

/* An NTP-format timestamp (RFC 7011 6.1.9/6.1.10) as seconds + microseconds. */
static struct fr_ts nf9_ntp(uint64_t v)
{
	struct fr_ts ts;
	ts.sec = (int64_t)(v >> 32) - NF_NTP_EPOCH;
	ts.usec = (int64_t)(((v & 0xffffffffu) * 1000000u) >> 32);
	return ts;
}

static struct fr_ts nf9_ms(uint64_t ms)
{
	struct fr_ts ts = { (int64_t)(ms / 1000), (int64_t)(ms % 1000) * 1000 };
	return ts;
}

/*
 * v9 sysUptime-relative (RFC 3954 8, IEs 21/22), with pmacct 1.7.7's
 * arithmetic (verified): 32-bit unsigned, whole seconds; `secs` as in
 * nf5.c (nfacctd_time_secs: the time-bin only).
 */
static struct fr_ts nf9_uptime(const struct nf9_msg *m, uint64_t t, bool secs)
{
	uint32_t ago = m->uptime - (uint32_t)t;
	struct fr_ts ts = { 0, 0 };

	if (!secs)
		ago /= 1000;
	ts.sec = (int64_t)(uint32_t)(m->secs - ago);
	return ts;
}

/*
 * IEs 22/21 relative to the record's systemInitTimeMilliseconds (IE 160):
 * whole seconds, each part truncated on its own, as pmacct 1.7.7 and master
 * print them (verified: .123 s + .900 s gives the earlier second).
 */
static int64_t nf9_init_rel(uint64_t init_ms, uint64_t up_ms)
{
	return (int64_t)(init_ms / 1000 + up_ms / 1000);
}

/* flowStart/End from whichever IEs the record had (absolute ones first). */
static void nf9_times(const struct nf9_msg *m, struct nf_scr *s, struct flow_key *k)
{
	uint64_t f = s->seen;

	if ((f & NF_SEEN_FIRST_UP) && m->version == 9 && m->st->opts.time_secs)
		s->rec.ts = nf9_uptime(m, s->first_up, true);

	if (f & NF_SEEN_START_S) k->ts_start.sec = (int64_t)s->start_s;
	else if (f & NF_SEEN_START_MS) k->ts_start = nf9_ms(s->start_ms);
	else if (f & NF_SEEN_START_US) k->ts_start = nf9_ntp(s->start_us);
	else if (f & NF_SEEN_START_NS) k->ts_start = nf9_ntp(s->start_ns);
	else if ((f & NF_SEEN_FIRST_UP) && (f & NF_SEEN_SYS_INIT))
		k->ts_start.sec = nf9_init_rel(s->sys_init_ms, s->first_up);
	else if ((f & NF_SEEN_FIRST_UP) && m->version == 9)
		k->ts_start = nf9_uptime(m, s->first_up, false);
	else
		k->ts_start.sec = (int64_t)m->secs;	/* as 1.7.7 (verified): no start, the export time */

	if (f & NF_SEEN_END_S) k->ts_end.sec = (int64_t)s->end_s;
	else if (f & NF_SEEN_END_MS) k->ts_end = nf9_ms(s->end_ms);
	else if (f & NF_SEEN_END_US) k->ts_end = nf9_ntp(s->end_us);
	else if (f & NF_SEEN_END_NS) k->ts_end = nf9_ntp(s->end_ns);
	else if ((f & NF_SEEN_LAST_UP) && (f & NF_SEEN_SYS_INIT))
		k->ts_end.sec = nf9_init_rel(s->sys_init_ms, s->last_up);
	else if ((f & NF_SEEN_LAST_UP) && m->version == 9)
		k->ts_end = nf9_uptime(m, s->last_up, false);
}

/* MPLS label stack entries (RFC 3032 2.1): label << 4 | exp << 1 | bottom-of-stack. */
static void nf9_mpls(const struct nf_scr *s, struct flow_key *k)
{
	int depth = 0;

	for (int i = 0; i < 10 && s->mpls[i]; i++) {
		depth++;
		k->mpls_label_bottom = s->mpls[i] >> 4;
		k->mpls_label_stack.label[i] = s->mpls[i] >> 4;
		k->mpls_label_stack.n = (uint8_t)depth;
		if (s->mpls[i] & 1)
			break;
	}
	k->mpls_label_top = s->mpls[0] >> 4;
	k->mpls_stack_depth = (uint8_t)depth;
}

/* Sampling interval an options record announces (IEs 34/50, 305+306, 309/310). */
static uint32_t nf9_opt_rate(const struct nf_scr *s)
{
	if ((s->seen & NF_SEEN_SAMP_SIZE) && (s->seen & NF_SEEN_SAMP_POP) && s->samp_size)
		return (uint32_t)(s->samp_pop / s->samp_size);
	if (!(s->seen & NF_SEEN_SAMP_INTERVAL))
		return 0;
	if ((s->seen & NF_SEEN_SAMP_SPACE) && s->samp_interval)
		return (uint32_t)((s->samp_interval + s->samp_space) / s->samp_interval);
	return (uint32_t)s->samp_interval;
}

static void nf9_name_copy(char *dst, const char *src)
{
	memset(dst, 0, FR_NAME_MAX);
	memcpy(dst, src, strnlen(src, FR_NAME_MAX - 1));
}

/*
 * A learnt name into a record's key: struct nf_name's are zeroed when made
 * and written by nf9_name_copy() only, so the whole slot is the terminated,
 * zero-padded string nf9_name_copy() would give.
 */
static inline void nf9_name_put(char *dst, const struct nf_name *n)
{
	memcpy(dst, n->name, FR_NAME_MAX);
}

/* The interface name of ifIndex id, through the set's one-entry cache (m->ifc_*). */
static const struct nf_name *nf9_ifname(struct nf9_msg *m, uint32_t id)
{
	if (m->ifc_ok && m->ifc_id == id)
		return m->ifc_name;
	m->ifc_name = nf_names_get(&m->e->ifnames, id, false);
	m->ifc_id = id;
	m->ifc_ok = m->ifc_cache;
	return m->ifc_name;
}

/*
 * Names the exporter's options gave: interfaces (IE 82) by in_iface /
 * out_iface, VRFs (IE 236) by the record's VRF ids (IE 234 / 235).
 * vrf_name is the ingress VRF's, unless that is VRF 0 or "default" and the
 * egress one has another name (pmacct's rule).
 */
static void nf9_names(struct nf9_msg *m, const struct nf_scr *s, struct flow_key *k)
{
	struct nf_exporter *e = m->e;
	const struct nf_name *n, *in = NULL, *out = NULL;

	if (e->ifnames.n) {
		/* both written, unknown ones as zeros: nf9_dirty() need not clear them */
		if ((n = nf9_ifname(m, k->in_iface)))
			nf9_name_put(k->in_iface_name, n);
		else
			memset(k->in_iface_name, 0, FR_NAME_MAX);
		if ((n = nf9_ifname(m, k->out_iface)))
			nf9_name_put(k->out_iface_name, n);
		else
			memset(k->out_iface_name, 0, FR_NAME_MAX);
	}
	if (!e->vrfs.n || !(s->seen & (NF_SEEN_IN_VRF | NF_SEEN_OUT_VRF)))
		return;
	if (s->seen & NF_SEEN_IN_VRF)
		in = nf_names_get(&e->vrfs, (uint32_t)s->in_vrfid, false);
	if (s->seen & NF_SEEN_OUT_VRF)
		out = nf_names_get(&e->vrfs, (uint32_t)s->out_vrfid, false);
	if (in)
		nf9_name_put(k->ingress_vrf_name, in);
	if (out)
		nf9_name_put(k->egress_vrf_name, out);
	bool in_default = !in || s->in_vrfid == 0 || !in->name[0] || strcmp(in->name, "default") == 0;
	if (in_default && out && out->name[0] && strcmp(out->name, "default") != 0)
		nf9_name_put(k->vrf_name, out);
	else if (in)
		nf9_name_put(k->vrf_name, in);
}

/*
 * mpls_vpn_rd of a record without IE 90, from its VRF ids as pmacct does
 * (verified against pmacct master on crafted IPFIX): the egress VRF when
 * the flow is egress (IE 61 = 1) and has one, else the ingress VRF, else
 * the egress one.  The RD an options record mapped to that VRF id (in its
 * ingress or egress role) is used, otherwise the VRF id itself, printed
 * "vrfid:<id>".  VRF id 0 is no VRF.
 */
static void nf9_vrf_rd(const struct nf9_msg *m, const struct nf_scr *s, struct flow_key *k)
{
	uint32_t in = (s->seen & NF_SEEN_IN_VRF) ? (uint32_t)s->in_vrfid : 0;
	uint32_t out = (s->seen & NF_SEEN_OUT_VRF) ? (uint32_t)s->out_vrfid : 0;
	bool egress = out && (!in || ((s->seen & NF_SEEN_DIRECTION) && s->direction == 1));
	uint32_t id = egress ? out : in;
	const struct nf_name *n;

	if (!id)
		return;
	n = m->e->vrfs.n ? nf_names_get(&m->e->vrfs, id, false) : NULL;
	if (n && (egress ? n->has_out_rd : n->has_rd)) {
		memcpy(k->mpls_vpn_rd, egress ? n->out_rd : n->rd, 8);
	} else {
		static const uint8_t head[4] = { FR_RD_TYPE_VRFID >> 8, FR_RD_TYPE_VRFID & 0xff, 0, 0 };
		memcpy(k->mpls_vpn_rd, head, 4);
		k->mpls_vpn_rd[4] = (uint8_t)(id >> 24);
		k->mpls_vpn_rd[5] = (uint8_t)(id >> 16);
		k->mpls_vpn_rd[6] = (uint8_t)(id >> 8);
		k->mpls_vpn_rd[7] = (uint8_t)id;
	}
	k->mpls_vpn_rd_origin = FR_RD_ORIGIN_FLOW;
}

#define NF_SEEN_VLANS (NF_SEEN_IN_VLAN | NF_SEEN_OUT_VLAN | NF_SEEN_DOT1Q | NF_SEEN_POST_DOT1Q)

/*
 * VLANs of a record.  vlan: with flowDirection (IE 61) the ingress one
 * (IE 58, else 243) or the egress one (IE 59, else 254), nothing for another
 * direction; without it the first of 58, 59, 243, 254 (pmacct 1.7.7 and
 * master, verified on every combination).  in_vlan: 58, else 243; out_vlan:
 * 59, else 254 (master).
 */
static void nf9_vlans(const struct nf_scr *s, struct flow_key *k)
{
	static const struct { uint64_t seen; size_t off; } order[4] = {
		{ NF_SEEN_IN_VLAN, offsetof(struct nf_scr, in_vlan) },
		{ NF_SEEN_OUT_VLAN, offsetof(struct nf_scr, out_vlan) },
		{ NF_SEEN_DOT1Q, offsetof(struct nf_scr, dot1q_vlan) },
		{ NF_SEEN_POST_DOT1Q, offsetof(struct nf_scr, post_dot1q_vlan) },
	};
	uint64_t v;
	/* which of order[] may give vlan: all, or one direction's pair */
	unsigned use = 0xf;

	if (s->seen & NF_SEEN_DIRECTION)
		use = s->direction == 0 ? 0x5 : s->direction == 1 ? 0xa : 0;
	for (int i = 0; i < 4; i++)
		if ((use >> i & 1) && (s->seen & order[i].seen)) {
			memcpy(&v, (const uint8_t *)s + order[i].off, sizeof(v));
			k->vlan = (uint16_t)v;
			break;
		}
	if (s->seen & (NF_SEEN_IN_VLAN | NF_SEEN_DOT1Q))
		k->in_vlan = (uint16_t)((s->seen & NF_SEEN_IN_VLAN) ? s->in_vlan : s->dot1q_vlan);
	if (s->seen & (NF_SEEN_OUT_VLAN | NF_SEEN_POST_DOT1Q))
		k->out_vlan = (uint16_t)((s->seen & NF_SEEN_OUT_VLAN) ? s->out_vlan : s->post_dot1q_vlan);
}

/*
 * path_delay_avg_usec from the summed delay (IE 603 / Huawei 527) over the
 * record's packets, as pmacct master: only when the record also carries a
 * non-zero mean (IE 600 / Huawei 521), kept to 32 bits.
 */
static void nf9_path_delay(const struct nf_scr *s, struct flow_rec *rec)
{
	if (rec->k.path_delay_avg_usec && (s->seen & NF_SEEN_PACKETS) && rec->packets)
		rec->k.path_delay_avg_usec = (uint32_t)(s->path_delay_sum / rec->packets);
}

_Static_assert(FR_CLASS_MAX == FR_NAME_MAX, "application names are kept as struct nf_name");

/*
 * The key pmacct master gives an applicationId (IE 95, RFC 6759: a
 * classification engine id, then the selector): the bytes after the first,
 * left-aligned in 32 bits, so the engine id is ignored; ids of 1 byte or
 * of more than 5 name no class (checked against master on crafted IPFIX).
 */
static bool nf9_app_sel(const uint8_t *raw, uint32_t *sel)
{
	uint8_t b[4] = { 0, 0, 0, 0 };

	if (raw[0] < 2 || raw[0] > 5)
		return false;
	memcpy(b, raw + 2, (size_t)raw[0] - 1);
	*sel = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return true;
}

/* class of a data record: the name its exporter's options gave the application id so far. */
static void nf9_app_class(struct nf_exporter *e, const struct nf_scr *s, struct flow_key *k)
{
	const struct nf_name *n;
	uint32_t sel;

	if (e->apps.n && nf9_app_sel(s->app_id, &sel) &&
	    (n = nf_names_get(&e->apps, sel, false)))
		memcpy(k->class_name, n->name, FR_CLASS_MAX);
}

/* What records of most templates do not carry: one test of `seen` skips all of nf9_rare(). */
#define NF_SEEN_RARE (NF_SEEN_VLANS | NF_SEEN_PD_SUM | NF_SEEN_MPLS | NF_SEEN_RD | \
	NF_SEEN_IN_VRF | NF_SEEN_OUT_VRF | NF_SEEN_APP_ID | NF_SEEN_L2SEG)

/* VLANs, path delays, MPLS labels, route distinguishers, class and VXLAN of a data record. */
static void nf9_rare(struct nf9_msg *m, const struct nf_scr *s, struct flow_rec *rec)
{
	struct flow_key *k = &rec->k;

	if (s->seen & NF_SEEN_VLANS)
		nf9_vlans(s, k);
	if ((s->seen & NF_SEEN_PD_SUM) && (s->seen & NF_SEEN_PD_AVG))
		nf9_path_delay(s, rec);
	if (s->seen & NF_SEEN_MPLS)
		nf9_mpls(s, k);
	if (s->seen & NF_SEEN_RD)
		k->mpls_vpn_rd_origin = FR_RD_ORIGIN_FLOW;
	else if (s->seen & (NF_SEEN_IN_VRF | NF_SEEN_OUT_VRF))
		nf9_vrf_rd(m, s, k);
	if (s->seen & NF_SEEN_APP_ID)
		nf9_app_class(m->e, s, k);
	/* vxlan: a layer2SegmentId of type 0x01 (VXLAN) carries the VNI in its low 24 bits, as
	 * pmacct master reads an 8-byte IE 351 (1.7.7 reads it a byte off) */
	if (s->seen & NF_SEEN_L2SEG)
		k->vxlan = (s->l2seg >> 56) == 0x01 ? (uint32_t)(s->l2seg & 0xffffff) : 0;
}

/* A decoded data record: derive what needs the whole record, then emit it. */
static void nf9_data_done(struct nf9_msg *m, struct nf_scr *s)
{
	struct flow_rec *rec = &s->rec;
	struct flow_key *k = &rec->k;
	uint32_t rate;

	if (!(s->seen & NF_SEEN_ETYPE)) {
		bool v6 = (s->seen & NF_SEEN_IP_VERSION) ? s->ip_version == 6 : k->src_ip.af == 6;
		k->etype = v6 ? 0x86dd : 0x0800;
	}
	rec->tcp_flags = (uint8_t)s->tcp_flags;
	if (m->st->opts.use_ip_next_hop ? (s->seen & NF_SEEN_NH_IP) : (s->seen & NF_SEEN_NH_BGP))
		k->peer_dst_ip = m->st->opts.use_ip_next_hop ? s->nh_ip : s->nh_bgp;
	if (s->seen & NF_SEEN_RARE)
		nf9_rare(m, s, rec);
	rec->flags |= FR_F_DIR;	/* pre_tag_map's direction: IE 61 as sent, 0 when absent */
	rec->direction = (s->seen & NF_SEEN_DIRECTION) ? (uint8_t)s->direction : 0;
	if (s->seen & NF_SEEN_DIRECTION)	/* pmacct: 0 ingress, 1 egress, else unknown */
		k->sampling_direction = s->direction == 0 ? FR_SAMP_DIR_INGRESS :
		    s->direction == 1 ? FR_SAMP_DIR_EGRESS : FR_SAMP_DIR_UNKNOWN;
	if (m->e->exp_addr.af && !m->st->opts.ignore_exporter_address)
		k->peer_src_ip = m->e->exp_addr;	/* pmacct: options IE 130/131 name the exporter */
	if (m->e->ifnames.n || m->e->vrfs.n)
		nf9_names(m, s, k);
	nf9_times(m, s, k);
	if (s->seen & NF_SEEN_SAMPLER_ID)
		rate = nf_sampler_rate(m->e, true, s->sampler_id);
	else if (s->seen & NF_SEEN_SAMP_INTERVAL)
		rate = (uint32_t)s->samp_interval;
	else
		rate = nf_sampler_rate(m->e, false, 0);	/* inline: no call per record */
	nf_rec_finish(m->st, rec, rate);
	m->e->records++;
	m->emitted++;
	m->emit(m->arg, rec);
}

/* Options naming a VRF (IE 234 or 235): its name (IE 236). */
static void nf9_opt_vrf_name(struct nf_exporter *e, const struct nf_scr *s, uint64_t id)
{
	struct nf_name *n = nf_names_get(&e->vrfs, (uint32_t)id, true);

	if (n)
		nf9_name_copy(n->name, s->opt_vrfname);
}

/*
 * Options mapping VRF ids to a route distinguisher (IE 90): as pmacct, only
 * records that carry the ingress VRF id (IE 234) map, the RD becoming that
 * of the ingress VRF and, when the record also has a non-zero egress VRF id
 * (IE 235), that of the egress VRF.  A later mapping replaces an earlier one.
 */
static void nf9_opt_vrf_rd(struct nf_exporter *e, const struct nf_scr *s)
{
	struct nf_name *n;

	if (s->in_vrfid && (n = nf_names_get(&e->vrfs, (uint32_t)s->in_vrfid, true))) {
		memcpy(n->rd, s->rec.k.mpls_vpn_rd, 8);
		n->has_rd = true;
	}
	if ((s->seen & NF_SEEN_OUT_VRF) && s->out_vrfid &&
	    (n = nf_names_get(&e->vrfs, (uint32_t)s->out_vrfid, true))) {
		memcpy(n->out_rd, s->rec.k.mpls_vpn_rd, 8);
		n->has_out_rd = true;
	}
}

/* An options data record: learn its sampler, exporter address, interface, VRF and application names. */
static void nf9_opt_done(struct nf9_msg *m, const struct nf_scr *s)
{
	uint32_t rate = nf9_opt_rate(s);
	uint64_t f = s->seen;

	if (rate)
		nf_sampler_set(m->e, (f & NF_SEEN_SAMPLER_ID) != 0, s->sampler_id, rate);
	/* as pmacct 1.7.7 (verified): v9 options scoped to the system do not name the exporter */
	if ((f & NF_SEEN_EXP_ADDR) && !(f & NF_SEEN_SCOPE_SYS))
		m->e->exp_addr = s->exp_addr;
	if ((f & NF_SEEN_IFNAME) && (f & (NF_SEEN_IN_IF | NF_SEEN_OUT_IF | NF_SEEN_SCOPE_IF))) {
		uint64_t ifx = (f & NF_SEEN_IN_IF) ? s->rec.k.in_iface :
		    (f & NF_SEEN_OUT_IF) ? s->rec.k.out_iface : s->scope_if;
		struct nf_name *n = nf_names_get(&m->e->ifnames, (uint32_t)ifx, true);
		if (n)
			nf9_name_copy(n->name, s->opt_ifname);
	}
	if (f & NF_SEEN_VRFNAME) {
		if (f & NF_SEEN_IN_VRF)
			nf9_opt_vrf_name(m->e, s, s->in_vrfid);
		if ((f & NF_SEEN_OUT_VRF) && !((f & NF_SEEN_IN_VRF) && s->out_vrfid == s->in_vrfid))
			nf9_opt_vrf_name(m->e, s, s->out_vrfid);
	}
	if ((f & NF_SEEN_RD) && (f & NF_SEEN_IN_VRF))
		nf9_opt_vrf_rd(m->e, s);
	if ((f & NF_SEEN_APP_ID) && (f & NF_SEEN_APP_NAME)) {
		/* application names (NBAR and the like): a later name replaces an earlier one */
		struct nf_name *n;
		uint32_t sel;
		if (nf9_app_sel(s->app_id, &sel) && (n = nf_names_get(&m->e->apps, sel, true)))
			nf9_name_copy(n->name, s->opt_appname);
	}
}

/*
 * nfacctd_pre_processing_checks, as pmacct master (checked against it): a
 * data set of a fixed-length template whose bytes after its last whole
 * record are not all zero (RFC 7011 3.3.1 pads with zeros) was most likely
 * decoded with the wrong template (an id reused after a reboot), so all of
 * it is dropped.  Variable-length templates are not checked.
 */
static bool nf9_bad_padding(const struct nf_tpl *t, const struct rd *set)
{
	if (t->prog.varlen || !t->prog.rec_len)
		return false;
	for (size_t i = set->left - set->left % t->prog.rec_len; i < set->left; i++)
		if (set->p[i])
			return true;
	return false;
}

/* Bytes [lo, hi) of struct flow_key. */
struct nf9_span {
	size_t lo, hi;
};

/*
 * The part of the key's cold tail [NF_KEY_COLD, FR_KEY_BGP) that a record
 * just emitted (scratch s of template t) may have written, to clear before
 * the next record of the same set: all of it when its template stores there,
 * when it carried MPLS labels, VLANs, an application id, VRF ids or a layer-2
 * segment id (what they derive depends on the values), when the exporter
 * named VRFs or emit() writes the tail; else nothing.  The rest of what a
 * record writes there, every record of the set writes again (same steps,
 * same seen bits): the sampling direction (IE 61) and the interface names
 * (nf9_names() zeroes those it does not know).
 */
static struct nf9_span nf9_dirty(const struct nf9_msg *m, const struct nf_tpl *t,
    const struct nf_scr *s)
{
	struct nf9_span d = { 0, 0 };

	if (t->prog.cold || (s->seen & (NF_SEEN_MPLS | NF_SEEN_VLANS | NF_SEEN_APP_ID |
	    NF_SEEN_IN_VRF | NF_SEEN_OUT_VRF | NF_SEEN_L2SEG)) || m->e->vrfs.n ||
	    m->st->opts.emit_writes_tail) {
		d.lo = NF_KEY_COLD;
		d.hi = FR_KEY_BGP;
	}
	return d;
}

/* Data set (RFC 3954 5.3, RFC 7011 3.4.3): records until what is left is padding. */
static void nf9_data(struct nf9_msg *m, uint16_t id, struct rd *set)
{
	const struct nf_tpl *t = nf_tpl_find(m->st, m->src, m->domain, m->version, id);
	struct nf_scr s;
	/* where in the key's rarely used tail a previous record may have left values */
	struct nf9_span dirty = { NF_KEY_COLD, FR_KEY_BGP };

	if (!t) {
		struct nf_held h = {
			.src = *m->src, .domain = m->domain, .version = m->version, .id = id,
			.uptime = m->uptime, .secs = m->secs,
			.seq = (uint32_t)m->base.k.export_proto_seqno, .arrival = m->base.k.ts_arrival,
		};
		if (nf_hold_put(m->st, &h, set->p, set->left))
			m->e->held++;
		else
			m->e->drops[NF_DROP_NO_TEMPLATE]++;
		set->left = 0;
		return;
	}
	/*
	 * The scratch values after the record: every record of the set runs the
	 * same steps, which store the same values (strings terminated), so
	 * clearing them once per set leaves no previous record's value behind.
	 */
	if (m->st->opts.pre_processing_checks && nf9_bad_padding(t, set)) {
		m->e->drops[NF_DROP_PADDING]++;
		set->left = 0;
		return;
	}
	memset((uint8_t *)&s + sizeof(s.rec), 0, sizeof(s) - sizeof(s.rec));
	m->ifc_cache = !t->options;
	m->ifc_ok = false;
	while (set->left && set->left >= t->prog.rec_len) {
		/*
		 * Start from the message's fields.  The key's cold tail (NAT, names,
		 * custom primitives; zero in `base`) is cleared only where the
		 * previous record may have written into it: most templates never
		 * do, and it is most of the record's bytes.
		 */
		memcpy(&s.rec.k, &m->base.k, NF_KEY_COLD);
		if (dirty.hi > dirty.lo)
			memset((uint8_t *)&s.rec.k + dirty.lo, 0, dirty.hi - dirty.lo);
		memcpy((uint8_t *)&s.rec + sizeof(s.rec.k), (const uint8_t *)&m->base + sizeof(s.rec.k),
		    sizeof(s.rec) - sizeof(s.rec.k));
		if (nf_prog_run(&t->prog, set, &s) < 0) {
			m->e->drops[NF_DROP_RECORD]++;
			return;
		}
		m->data_records++;
		if (t->options) {
			nf9_opt_done(m, &s);
			/* nfacctd_account_options: the record is accounted too, as pmacct
			 * does (its scope and custom primitives, no counters) */
			if (m->st->opts.account_options)
				nf9_data_done(m, &s);
		} else {
			nf9_data_done(m, &s);
		}
		dirty = nf9_dirty(m, t, &s);
	}
}

/* The per-message fields of every record, from a message header. */
static void nf9_base(struct nf9_msg *m, uint32_t seq, const struct fr_ts *arrival)
{
	fr_rec_clear(&m->base);
	m->base.k.peer_src_ip = *m->src;
	m->base.k.export_proto_version = m->version;
	m->base.k.export_proto_sysid = m->domain;
	m->base.k.export_proto_seqno = seq;
	m->base.k.ts_export.sec = m->secs;
	m->base.k.ts_arrival = *arrival;
}

/*
 * Template id just arrived: decode the data sets held for it, each as part
 * of the message it came in (its header's times and sequence number).
 */
static void nf9_held_replay(struct nf9_msg *m, uint16_t id)
{
	struct nf_held *h;

	while ((h = nf_hold_take(m->st, m->src, m->domain, m->version, id))) {
		struct nf9_msg hm = {
			.st = m->st, .e = m->e, .src = &h->src, .version = h->version,
			.uptime = h->uptime, .secs = h->secs, .domain = h->domain,
			.emit = m->emit, .arg = m->arg,
		};
		struct rd set = rd_make(h->data, h->len);
		nf9_base(&hm, h->seq, &h->arrival);
		nf9_data(&hm, id, &set);
		m->e->held_records += hm.emitted;
		m->emitted += hm.emitted;
		free(h);
	}
}

/* Walk the sets of one message body. */
static void nf9_sets(struct nf9_msg *m, struct rd *r)
{
	uint16_t tset = m->version == 9 ? 0 : 2, oset = m->version == 9 ? 1 : 3;

	while (r->left >= 4) {
		uint16_t id = rd_u16(r), slen = rd_u16(r);
		if (slen < 4 || (size_t)(slen - 4) > r->left) {
			m->e->drops[NF_DROP_SET_LEN]++;
			return;
		}
		struct rd set = rd_sub(r, slen - 4u);
		if (id == tset)
			nf9_templates(m, &set);
		else if (id == oset)
			nf9_options(m, &set);
		else if (id >= 256)
			nf9_data(m, id, &set);
		/* 2..255 (v9) / 0, 1, 4..255 (IPFIX): reserved, skipped */
	}
}

size_t nf9_decode(struct nf_state *st, const uint8_t *data, size_t len, const struct fr_ip *src,
    const struct fr_ts *arrival, nf_emit_fn emit, void *arg)
{
	struct rd r = rd_make(data, len);
	struct nf9_msg m;

	for (size_t off = 64; off < len; off += 64)	/* the message's lines on their way */
		__builtin_prefetch(data + off);
	/* not `= { ... }`: that would zero the base record's BGP block, most of its bytes
	 * (nf9_base() clears the rest; see fr_rec_clear()) */
	memset(&m, 0, offsetof(struct nf9_msg, base));
	m.st = st;
	m.src = src;
	m.emit = emit;
	m.arg = arg;
	fr_rec_clear(&m.base);
	uint16_t mlen = 0;
	uint32_t seq;

	m.version = rd_u16(&r);
	if (m.version == 9) {
		rd_skip(&r, 2);			/* count: not trusted, sets are walked */
		m.uptime = rd_u32(&r);
	} else {
		mlen = rd_u16(&r);		/* RFC 7011 3.1: the whole message */
	}
	m.secs = rd_u32(&r);
	seq = rd_u32(&r);
	m.domain = rd_u32(&r);
	if (r.bad) {
		nf_drop(st, NULL, src, NF_DROP_SHORT);
		return 0;
	}
	m.e = nf_exporter_get(st, src, m.domain, m.version);
	m.e->packets++;
	m.e->bytes += len;
	if (m.version == 10) {
		if (mlen < 16 || mlen > len) {
			m.e->drops[NF_DROP_MSG_LEN]++;
			return 0;
		}
		r.left = mlen - 16u;		/* trailing bytes beyond the message are ignored */
	}
	nf9_base(&m, seq, arrival);
	nf9_sets(&m, &r);
	/* v9 counts export packets, IPFIX data records (RFC 3954 5.1, RFC 7011 3.1) */
	nf_seq_check(m.e, seq, m.version == 9 ? seq + 1 : seq + m.data_records);
	return m.emitted;
}
