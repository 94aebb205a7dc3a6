/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_msg.c: BGP-4 message decoding (header, OPEN, UPDATE, NOTIFICATION, ROUTE-REFRESH) over lib/rd.h. */
#include "decode/bgp_msg.h"

#include <string.h>

#include "lib/rd.h"

/* RFC 4271 6.1-6.3: NOTIFICATION error codes and the subcodes used here. */
enum {
	ERR_HDR = 1, HDR_NOT_SYNC = 1, HDR_BAD_LEN = 2, HDR_BAD_TYPE = 3,
	ERR_OPEN = 2, OPEN_VERSION = 1, OPEN_BAD_AS = 2, OPEN_BAD_ID = 3, OPEN_PARAM = 4,
	OPEN_HOLD = 6,
	ERR_UPD = 3, UPD_ATTR_LIST = 1, UPD_WELL_KNOWN = 2, UPD_MISSING = 3, UPD_FLAGS = 4,
	UPD_LEN = 5, UPD_ORIGIN = 6, UPD_NEXT_HOP = 8, UPD_OPT_ATTR = 9, UPD_NETWORK = 10,
	UPD_AS_PATH = 11,
};

/* Path attribute type codes (RFC 4271 5, 1997, 4360, 4760, 6793, 8092). */
enum {
	AT_ORIGIN = 1, AT_AS_PATH = 2, AT_NEXT_HOP = 3, AT_MED = 4, AT_LOCAL_PREF = 5,
	AT_ATOMIC_AGG = 6, AT_AGGREGATOR = 7, AT_COMMUNITIES = 8, AT_MP_REACH = 14,
	AT_MP_UNREACH = 15, AT_EXT_COMM = 16, AT_AS4_PATH = 17, AT_AS4_AGGREGATOR = 18,
	AT_LARGE_COMM = 32,
};

#define F_OPTIONAL 0x80
#define F_TRANSITIVE 0x40
#define F_EXTLEN 0x10

/* Record an error if it is worse than the one held. Returns the (new) worst action. */
static enum bgp_action set_err(struct bgp_error *e, enum bgp_action act, uint8_t code,
    uint8_t subcode, const char *why)
{
	if (act > e->action) {
		e->action = act;
		e->code = code;
		e->subcode = subcode;
		e->why = why;
	}
	return e->action;
}

static bool reset(struct bgp_error *e, uint8_t code, uint8_t subcode, const char *why)
{
	set_err(e, BGP_ACT_SESSION_RESET, code, subcode, why);
	return false;
}

uint8_t bgp_af_bit(uint16_t afi, uint8_t safi)
{
	unsigned i;
	if (afi == BGP_AFI_IPV4 || afi == BGP_AFI_IPV6)
		i = (unsigned)(afi - 1) * 2;
	else
		return 0;
	if (safi == BGP_SAFI_UNICAST)
		return (uint8_t)(1u << i);
	if (safi == BGP_SAFI_VPN)
		return (uint8_t)(1u << (i + 1));
	return 0;
}

/* RFC 4271 4.1: marker of all ones, length 19..4096 (RFC 8654: ..65535), type 1..5. */
long bgp_msg_need(const uint8_t *buf, size_t len, bool ext_msg, struct bgp_error *err)
{
	memset(err, 0, sizeof(*err));
	if (len < BGP_HDR_LEN)
		return 0;
	struct rd r = rd_make(buf, BGP_HDR_LEN);
	const uint8_t *marker = rd_take(&r, 16);
	uint16_t mlen = rd_u16(&r);
	uint8_t type = rd_u8(&r);
	for (int i = 0; i < 16; i++)
		if (marker[i] != 0xff)
			return reset(err, ERR_HDR, HDR_NOT_SYNC, "marker not all ones"), -1;
	if (mlen < BGP_HDR_LEN || mlen > (ext_msg ? BGP_EXT_MAX_LEN : BGP_MAX_LEN))
		return reset(err, ERR_HDR, HDR_BAD_LEN, "message length out of range"), -1;
	if (type < BGP_OPEN || type > BGP_ROUTE_REFRESH)
		return reset(err, ERR_HDR, HDR_BAD_TYPE, "unknown message type"), -1;
	/* RFC 4271 6.1: per-type minimum lengths; KEEPALIVE is exactly 19 (4.4). */
	static const uint16_t min_len[6] = { 0, 29, 23, 21, 19, 23 };
	if (mlen < min_len[type] || (type == BGP_KEEPALIVE && mlen != BGP_HDR_LEN))
		return reset(err, ERR_HDR, HDR_BAD_LEN, "length wrong for the message type"), -1;
	if (type == BGP_OPEN && mlen > BGP_MAX_LEN) /* RFC 8654 4 */
		return reset(err, ERR_HDR, HDR_BAD_LEN, "OPEN longer than 4096"), -1;
	return (long)mlen;
}

bool bgp_decode_header(const uint8_t *buf, size_t len, bool ext_msg, struct bgp_msg *m,
    struct bgp_error *err)
{
	long need = bgp_msg_need(buf, len, ext_msg, err);
	memset(m, 0, sizeof(*m));
	if (need < 0)
		return false;
	if (need == 0 || (size_t)need != len)
		return reset(err, ERR_HDR, HDR_BAD_LEN, "buffer is not one whole message");
	struct rd r = rd_make(buf, len);
	rd_skip(&r, 16);
	m->len = rd_u16(&r);
	m->type = rd_u8(&r);
	m->body_len = r.left;
	m->body = rd_take(&r, r.left);
	return true;
}

/* Append an AFI/SAFI(/extra) to a bounded capability list (extra dropped when full). */
static void af_add(struct bgp_afsafi *list, size_t *n, uint16_t afi, uint8_t safi, uint16_t extra)
{
	if (*n >= BGP_MAX_CAP_AF)
		return;
	list[*n].afi = afi;
	list[*n].safi = safi;
	list[*n].extra = extra;
	(*n)++;
}

/* One capability (RFC 5492 4) of code 'code' over the reader v (exactly its value). */
static bool open_cap(uint8_t code, struct rd *v, struct bgp_open *o)
{
	switch (code) {
	case 1: { /* RFC 4760 8: AFI(2) reserved(1) SAFI(1) */
		uint16_t afi = rd_u16(v);
		rd_skip(v, 1);
		uint8_t safi = rd_u8(v);
		if (!v->bad && v->left == 0)
			af_add(o->mp, &o->n_mp, afi, safi, 0);
		return !v->bad && v->left == 0;
	}
	case 2: case 128: o->route_refresh = true; return v->left == 0;
	case 70: o->enhanced_rr = true; return v->left == 0;
	case 6: o->ext_msg = true; return v->left == 0;
	case 5: /* RFC 8950 3: triples AFI(2) SAFI(2) next-hop AFI(2) */
		if (v->left == 0 || v->left % 6)
			return false;
		while (v->left) {
			uint16_t afi = rd_u16(v), safi = rd_u16(v), nh = rd_u16(v);
			af_add(o->enh, &o->n_enh, afi, (uint8_t)safi, nh);
		}
		return true;
	case 65: /* RFC 6793 3 */
		o->has_as4 = true;
		o->as4 = rd_u32(v);
		return !v->bad && v->left == 0;
	case 69: /* RFC 7911 4: AFI(2) SAFI(1) send/receive(1) */
		if (v->left == 0 || v->left % 4)
			return false;
		while (v->left) {
			uint16_t afi = rd_u16(v);
			uint8_t safi = rd_u8(v), sr = rd_u8(v);
			af_add(o->addpath, &o->n_addpath, afi, safi, sr);
		}
		return true;
	case 64: /* RFC 4724 3: restart flags and time in 16 bits, then tuples (not kept) */
		o->graceful_restart = true;
		o->gr_time = rd_u16(v) & 0x0fff;
		return !v->bad;
	default:
		o->n_unknown++;
		return true;
	}
}

/* Optional parameter of type 2 (capabilities, RFC 5492 4): a run of code/length/value. */
static bool open_caps(struct rd *p, struct bgp_open *o, struct bgp_error *err)
{
	while (p->left) {
		uint8_t code = rd_u8(p), clen = rd_u8(p);
		struct rd v = rd_sub(p, clen);
		if (p->bad || !open_cap(code, &v, o))
			return reset(err, ERR_OPEN, 0, "malformed capability");
	}
	return true;
}

/* RFC 4271 4.2 and 6.2; optional parameters in the RFC 9072 form when the first is 255. */
bool bgp_decode_open(const uint8_t *body, size_t len, struct bgp_open *o, struct bgp_error *err)
{
	struct rd r = rd_make(body, len);
	memset(o, 0, sizeof(*o));
	memset(err, 0, sizeof(*err));
	o->version = rd_u8(&r);
	o->my_as = rd_u16(&r);
	o->hold_time = rd_u16(&r);
	o->bgp_id = rd_u32(&r);
	size_t plen = rd_u8(&r);
	if (r.bad)
		return reset(err, ERR_HDR, HDR_BAD_LEN, "OPEN shorter than 10 bytes");
	if (o->version != 4)
		return reset(err, ERR_OPEN, OPEN_VERSION, "version is not 4");
	if (o->hold_time == 1 || o->hold_time == 2)
		return reset(err, ERR_OPEN, OPEN_HOLD, "hold time 1 or 2");
	if (o->bgp_id == 0)
		return reset(err, ERR_OPEN, OPEN_BAD_ID, "BGP identifier 0");
	bool ext = plen == 255 && rd_peek8(&r) == 255;
	if (ext) { /* RFC 9072 2: type 255, then a 2-byte length, 2-byte parameter lengths */
		rd_skip(&r, 1);
		plen = rd_u16(&r);
		o->ext_opt_params = true;
	}
	struct rd p = rd_sub(&r, plen);
	if (p.bad || r.left)
		return reset(err, ERR_OPEN, 0, "optional parameters length wrong");
	while (p.left) {
		uint8_t ptype = rd_u8(&p);
		size_t vlen = ext ? rd_u16(&p) : rd_u8(&p);
		struct rd v = rd_sub(&p, vlen);
		if (p.bad)
			return reset(err, ERR_OPEN, 0, "optional parameter past its field");
		if (ptype != 2)
			return reset(err, ERR_OPEN, OPEN_PARAM, "unsupported optional parameter");
		if (!open_caps(&v, o, err))
			return false;
	}
	if (o->has_as4 && o->my_as != BGP_AS_TRANS && o->my_as != o->as4)
		return reset(err, ERR_OPEN, OPEN_BAD_AS, "My AS disagrees with the 4-octet AS");
	return true;
}

/* RFC 4271 4.5; RFC 9003 2: Cease subcodes 2 and 4 carry a length-prefixed UTF-8 text. */
bool bgp_decode_notification(const uint8_t *body, size_t len, struct bgp_notification *n,
    struct bgp_error *err)
{
	struct rd r = rd_make(body, len);
	memset(n, 0, sizeof(*n));
	memset(err, 0, sizeof(*err));
	n->code = rd_u8(&r);
	n->subcode = rd_u8(&r);
	if (r.bad)
		return reset(err, ERR_HDR, HDR_BAD_LEN, "NOTIFICATION shorter than 2 bytes");
	n->data = r.p;
	n->data_len = r.left;
	if (n->code == 6 && (n->subcode == 2 || n->subcode == 4) && r.left) {
		size_t tl = rd_u8(&r);
		const uint8_t *t = rd_take(&r, tl);
		if (t && tl < sizeof(n->shutdown_msg)) {
			memcpy(n->shutdown_msg, t, tl);
			n->shutdown_msg[tl] = '\0';
		}
	}
	return true;
}

/* RFC 2918 3: AFI(2) reserved(1) SAFI(1); RFC 7313 4 puts the subtype in the reserved byte. */
bool bgp_decode_route_refresh(const uint8_t *body, size_t len, struct bgp_afsafi *af,
    struct bgp_error *err)
{
	struct rd r = rd_make(body, len);
	memset(err, 0, sizeof(*err));
	af->afi = rd_u16(&r);
	af->extra = rd_u8(&r);
	af->safi = rd_u8(&r);
	if (r.bad || r.left)
		return reset(err, 7, 1, "ROUTE-REFRESH length not 4"); /* RFC 7313 5 */
	return true;
}

uint32_t bgp_comm(const struct bgp_attrs *a, size_t i)
{
	struct rd r = rd_make(a->comm + i * 4, 4);
	return rd_u32(&r);
}

uint64_t bgp_ext_comm(const struct bgp_attrs *a, size_t i)
{
	struct rd r = rd_make(a->ext_comm + i * 8, 8);
	return rd_u64(&r);
}

void bgp_large_comm(const struct bgp_attrs *a, size_t i, uint32_t out[3])
{
	struct rd r = rd_make(a->large_comm + i * 12, 12);
	for (int k = 0; k < 3; k++)
		out[k] = rd_u32(&r);
}

/* ---- UPDATE (RFC 4271 4.3), error handling per RFC 7606 ---- */

/* The state of one UPDATE's decoding. */
struct upd {
	const struct bgp_session *s;
	struct bgp_attrs *a;
	struct bgp_error *err;
	bool has_reach, has_unreach;
	uint16_t reach_afi, unreach_afi;
	uint8_t reach_safi, unreach_safi;
	struct rd reach, unreach;          /* their NLRI fields */
	bool has_as4_path, has_as4_agg;
	uint32_t as4_agg_as;
	struct bgp_addr as4_agg_addr;
	struct bgp_as_path as4_path;
};

/* Append ASNs to p's last segment (ASNs past the bounds dropped, 'truncated' set). */
static void path_extend(struct bgp_as_path *p, const uint32_t *asn, size_t count)
{
	struct bgp_as_seg *sg = &p->seg[p->n_seg - 1];
	for (size_t i = 0; i < count; i++) {
		if (p->n_asn >= BGP_MAX_ASNS) {
			p->truncated = true;
			break;
		}
		p->asn[p->n_asn++] = asn[i];
	}
	sg->count = (uint16_t)(p->n_asn - sg->start);
}

/* Append a segment of 'count' ASNs to p (a segment past the bounds dropped, 'truncated' set). */
static void path_add(struct bgp_as_path *p, uint8_t type, const uint32_t *asn, size_t count)
{
	if (p->n_seg >= BGP_MAX_SEGS) {
		p->truncated = true;
		return;
	}
	struct bgp_as_seg *sg = &p->seg[p->n_seg++];
	sg->type = type;
	sg->start = (uint16_t)p->n_asn;
	path_extend(p, asn, count);
}

/* RFC 4271 4.3 AS_PATH, RFC 7606 7.2: segment type 1..4, count >= 1, no overrun. */
static bool parse_path(struct rd *v, size_t asn_size, struct bgp_as_path *p)
{
	memset(p, 0, sizeof(*p));
	while (v->left) {
		uint8_t type = rd_u8(v), count = rd_u8(v);
		uint32_t asn[255];
		if (v->bad || type < BGP_AS_SET || type > BGP_AS_CONFED_SET || count == 0)
			return false;
		for (size_t i = 0; i < count; i++)
			asn[i] = asn_size == 4 ? rd_u32(v) : rd_u16(v);
		if (v->bad)
			return false;
		path_add(p, type, asn, count);
	}
	return true;
}

/* RFC 4271 9.1.2.2 a: path length; a set counts 1, confederation segments 0. */
static size_t path_len(const struct bgp_as_path *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_seg; i++) {
		if (p->seg[i].type == BGP_AS_SEQUENCE)
			n += p->seg[i].count;
		else if (p->seg[i].type == BGP_AS_SET)
			n++;
	}
	return n;
}

/*
 * RFC 6793 4.2.3: on a 2-octet session, AS4_AGGREGATOR replaces an AGGREGATOR
 * of AS_TRANS (else both AS4 attributes are ignored), and the AS4_PATH
 * replaces the tail of an AS_PATH at least as long.
 */
static void merge_as4(struct upd *u)
{
	struct bgp_attrs *a = u->a;
	if (a->has_aggregator && a->aggregator_as != BGP_AS_TRANS)
		return;
	if (u->has_as4_agg && a->has_aggregator) {
		a->aggregator_as = u->as4_agg_as;
		a->aggregator_addr = u->as4_agg_addr;
	}
	if (!u->has_as4_path || !a->has_as_path)
		return;
	size_t n = path_len(&a->as_path), n4 = path_len(&u->as4_path);
	if (n < n4)
		return;
	size_t keep = n - n4;
	struct bgp_as_path np;
	memset(&np, 0, sizeof(np));
	for (size_t i = 0; i < a->as_path.n_seg && keep; i++) {
		const struct bgp_as_seg *sg = &a->as_path.seg[i];
		size_t take = sg->count;
		if (sg->type == BGP_AS_SEQUENCE)
			take = take < keep ? take : keep;
		path_add(&np, sg->type, &a->as_path.asn[sg->start], take);
		if (sg->type == BGP_AS_SEQUENCE)
			keep -= take;
		else if (sg->type == BGP_AS_SET)
			keep--;
	}
	for (size_t i = 0; i < u->as4_path.n_seg; i++) {
		const struct bgp_as_seg *sg = &u->as4_path.seg[i];
		struct bgp_as_seg *last = np.n_seg ? &np.seg[np.n_seg - 1] : NULL;
		if (i == 0 && last && last->type == BGP_AS_SEQUENCE && sg->type == BGP_AS_SEQUENCE)
			path_extend(&np, &u->as4_path.asn[sg->start], sg->count);
		else
			path_add(&np, sg->type, &u->as4_path.asn[sg->start], sg->count);
	}
	np.truncated |= a->as_path.truncated || u->as4_path.truncated;
	a->as_path = np;
}

/* An IPv4 address into a bgp_addr. */
static void addr4(struct rd *v, struct bgp_addr *ad)
{
	memset(ad, 0, sizeof(*ad));
	ad->afi = BGP_AFI_IPV4;
	rd_copy(v, ad->a, 4);
}

static void addr6(struct rd *v, struct bgp_addr *ad)
{
	memset(ad, 0, sizeof(*ad));
	ad->afi = BGP_AFI_IPV6;
	rd_copy(v, ad->a, 16);
}

/* RFC 4364 4.2: a route distinguisher's three layouts (other types read as type 0). */
static void parse_rd(struct rd *v, struct bgp_rd *rd)
{
	rd->type = rd_u16(v);
	if (rd->type == 1 || rd->type == 2) {
		rd->admin = rd_u32(v);
		rd->assigned = rd_u16(v);
	} else {
		rd->admin = rd_u16(v);
		rd->assigned = rd_u32(v);
	}
}

/*
 * The MP_REACH next hop (RFC 4760 3; RFC 2545 3: IPv6 global [+ link-local];
 * RFC 4364 4.3.2 / RFC 4659 3.2.1.1: VPN next hops carry an RD of zero;
 * RFC 8950 3: an IPv4 NLRI may have an IPv6 next hop of 16 or 32 bytes).
 */
static bool mp_next_hop(struct rd *v, uint8_t safi, struct bgp_attrs *a)
{
	size_t n = v->left;
	bool vpn = safi == BGP_SAFI_VPN;
	if (vpn) {
		a->mp_nh_has_rd = true;
		parse_rd(v, &a->mp_nh_rd);
		n = n >= 8 ? n - 8 : 0;
	}
	if (n == 4)
		addr4(v, &a->mp_next_hop);
	else if (n == 16)
		addr6(v, &a->mp_next_hop);
	else if (n == 32 && !vpn) {
		addr6(v, &a->mp_next_hop);
		addr6(v, &a->mp_next_hop_ll);
	} else if (n == 40 && vpn) {
		addr6(v, &a->mp_next_hop);
		rd_skip(v, 8);
		addr6(v, &a->mp_next_hop_ll);
	} else
		return false;
	return !v->bad && v->left == 0;
}

/* RFC 4760 3/4: MP_REACH_NLRI (reach) or MP_UNREACH_NLRI. False when malformed. */
static bool parse_mp(struct upd *u, struct rd *v, bool reach)
{
	uint16_t afi = rd_u16(v);
	uint8_t safi = rd_u8(v);
	if (reach) {
		struct rd nh = rd_sub(v, rd_u8(v));
		rd_skip(v, 1); /* reserved */
		if (v->bad)
			return false;
		if (bgp_af_bit(afi, safi) && !mp_next_hop(&nh, safi, u->a))
			return false;
		u->has_reach = true;
		u->reach_afi = afi;
		u->reach_safi = safi;
		u->reach = *v;
	} else {
		u->has_unreach = true;
		u->unreach_afi = afi;
		u->unreach_safi = safi;
		u->unreach = *v;
	}
	return !v->bad;
}

/* RFC 7606 7: what a malformation of each attribute asks for. */
static enum bgp_action attr_action(uint8_t type)
{
	switch (type) {
	case AT_ATOMIC_AGG: case AT_AGGREGATOR: case AT_AS4_PATH: case AT_AS4_AGGREGATOR:
		return BGP_ACT_ATTR_DISCARD;
	case AT_MP_REACH: case AT_MP_UNREACH:
		return BGP_ACT_SESSION_RESET;
	default:
		return BGP_ACT_TREAT_AS_WITHDRAW;
	}
}

/* RFC 4271 5: the optional/transitive bits of known attributes (0xff: unknown type). */
static uint8_t attr_flags(uint8_t type)
{
	switch (type) {
	case AT_ORIGIN: case AT_AS_PATH: case AT_NEXT_HOP: case AT_LOCAL_PREF: case AT_ATOMIC_AGG:
		return F_TRANSITIVE;
	case AT_MED: case AT_MP_REACH: case AT_MP_UNREACH:
		return F_OPTIONAL;
	case AT_AGGREGATOR: case AT_COMMUNITIES: case AT_EXT_COMM: case AT_AS4_PATH:
	case AT_AS4_AGGREGATOR: case AT_LARGE_COMM:
		return F_OPTIONAL | F_TRANSITIVE;
	default:
		return 0xff;
	}
}

/* A list attribute of fixed-size items (RFC 1997, 4360, 8092): non-empty, whole items. */
static bool parse_list(struct rd *v, size_t item, const uint8_t **p, size_t *n)
{
	if (v->left == 0 || v->left % item)
		return false;
	*n = v->left / item;
	*p = rd_take(v, v->left);
	return true;
}

/* AGGREGATOR (RFC 4271 5.1.7) or AS4_AGGREGATOR (RFC 6793): AS of asn_size bytes + IPv4. */
static bool parse_agg(struct rd *v, size_t asn_size, uint32_t *as, struct bgp_addr *ad)
{
	if (v->left != asn_size + 4)
		return false;
	*as = asn_size == 4 ? rd_u32(v) : rd_u16(v);
	addr4(v, ad);
	return true;
}

/* One known attribute's value. Returns false when it is malformed. */
static bool parse_known(struct upd *u, uint8_t type, struct rd *v)
{
	struct bgp_attrs *a = u->a;
	size_t asz = u->s->as4 ? 4 : 2;
	switch (type) {
	case AT_ORIGIN:
		a->origin = rd_u8(v);
		return (a->has_origin = v->left == 0 && !v->bad && a->origin <= 2);
	case AT_AS_PATH:
		return (a->has_as_path = parse_path(v, asz, &a->as_path));
	case AT_NEXT_HOP:
		if (v->left != 4)
			return false;
		addr4(v, &a->next_hop);
		return true;
	case AT_MED:
		a->med = rd_u32(v);
		return (a->has_med = v->left == 0 && !v->bad);
	case AT_LOCAL_PREF:
		a->local_pref = rd_u32(v);
		return (a->has_local_pref = v->left == 0 && !v->bad);
	case AT_ATOMIC_AGG:
		return (a->atomic_aggregate = v->left == 0);
	case AT_AGGREGATOR:
		return (a->has_aggregator = parse_agg(v, asz, &a->aggregator_as, &a->aggregator_addr));
	case AT_COMMUNITIES:
		return parse_list(v, 4, &a->comm, &a->n_comm);
	case AT_EXT_COMM:
		return parse_list(v, 8, &a->ext_comm, &a->n_ext_comm);
	case AT_LARGE_COMM:
		return parse_list(v, 12, &a->large_comm, &a->n_large_comm);
	case AT_AS4_PATH: /* RFC 6793 4.1: a 4-octet speaker ignores it */
		return u->s->as4 || (u->has_as4_path = parse_path(v, 4, &u->as4_path));
	case AT_AS4_AGGREGATOR:
		return u->s->as4 || (u->has_as4_agg = parse_agg(v, 4, &u->as4_agg_as,
		    &u->as4_agg_addr));
	case AT_MP_REACH: case AT_MP_UNREACH:
		return parse_mp(u, v, type == AT_MP_REACH);
	default:
		return true;
	}
}

/* One attribute of the path attributes field: flags checked, duplicates dropped (RFC 7606 3). */
static void parse_attr(struct upd *u, uint8_t flags, uint8_t type, struct rd *v)
{
	struct bgp_attrs *a = u->a;
	uint32_t bit = 1u << (type % 32);
	if (a->seen[type / 32] & bit) { /* RFC 7606 3 g */
		if (type == AT_MP_REACH || type == AT_MP_UNREACH)
			set_err(u->err, BGP_ACT_SESSION_RESET, ERR_UPD, UPD_ATTR_LIST, "MP attribute twice");
		else
			set_err(u->err, BGP_ACT_ATTR_DISCARD, ERR_UPD, UPD_ATTR_LIST, "attribute twice");
		return;
	}
	a->seen[type / 32] |= bit;
	uint8_t want = attr_flags(type);
	if (want == 0xff) {
		if (!(flags & F_OPTIONAL)) /* RFC 4271 6.3 */
			set_err(u->err, BGP_ACT_SESSION_RESET, ERR_UPD, UPD_WELL_KNOWN,
			    "unrecognized well-known attribute");
		else if ((flags & F_TRANSITIVE) && a->n_opaque < BGP_MAX_OPAQUE) {
			struct bgp_opaque *o = &a->opaque[a->n_opaque++];
			o->flags = flags;
			o->type = type;
			o->len = (uint16_t)v->left;
			o->val = rd_take(v, v->left);
		}
		return;
	}
	if ((flags & (F_OPTIONAL | F_TRANSITIVE)) != want) { /* RFC 7606 3 c */
		set_err(u->err, attr_action(type), ERR_UPD, UPD_FLAGS, "attribute flags wrong");
		return;
	}
	if (!parse_known(u, type, v)) {
		static const uint8_t sub[33] = { [AT_ORIGIN] = UPD_ORIGIN, [AT_AS_PATH] = UPD_AS_PATH,
		    [AT_NEXT_HOP] = UPD_NEXT_HOP, [AT_MP_REACH] = UPD_OPT_ATTR,
		    [AT_MP_UNREACH] = UPD_OPT_ATTR };
		uint8_t sc = type < 33 && sub[type] ? sub[type] : UPD_LEN;
		set_err(u->err, attr_action(type), ERR_UPD, sc, "malformed attribute");
		if (type == AT_AGGREGATOR)
			a->has_aggregator = false;
		if (type == AT_ATOMIC_AGG)
			a->atomic_aggregate = false;
	}
}

/* The path attributes field (RFC 4271 4.3); an attribute running past it: RFC 7606 4. */
static void parse_attrs(struct upd *u, struct rd *pa)
{
	while (pa->left) {
		uint8_t flags = rd_u8(pa), type = rd_u8(pa);
		size_t len = (flags & F_EXTLEN) ? rd_u16(pa) : rd_u8(pa);
		if (pa->bad || len > pa->left) {
			set_err(u->err, BGP_ACT_TREAT_AS_WITHDRAW, ERR_UPD, UPD_ATTR_LIST,
			    "attribute past the path attributes field");
			return;
		}
		struct rd v = rd_sub(pa, len);
		parse_attr(u, flags, type, &v);
	}
}

/* RFC 3107 3 / RFC 8277 2: labels until the bottom-of-stack bit (or a withdrawal's 0x800000 / 0). */
static bool parse_labels(struct rd *r, unsigned *bits, struct bgp_nlri *n)
{
	for (;;) {
		if (*bits < 24 || n->n_labels >= BGP_MAX_LABELS)
			return false;
		uint32_t l = rd_u24(r);
		*bits -= 24;
		n->label[n->n_labels++] = l >> 4;
		if ((l & 1) || (n->withdraw && (l == 0x800000 || l == 0)))
			return true;
	}
}

/* The address family and options an NLRI run is read with. */
struct nlri_ctx {
	uint16_t afi;
	uint8_t safi;
	bool withdraw, addpath;
};

/*
 * A run of NLRI (RFC 4271 4.3, RFC 4760 5; RFC 7911 3: a path id first;
 * RFC 4364 4.3.4 / 4659 3.2: labels and RD inside the prefix length).
 * Calls fn per prefix when fn is not NULL.  False when malformed.
 */
static bool nlri_run(struct rd r, const struct nlri_ctx *c, const struct bgp_attrs *a,
    bgp_nlri_fn fn, void *arg)
{
	while (r.left) {
		struct bgp_nlri n;
		memset(&n, 0, sizeof(n));
		n.afi = c->afi;
		n.safi = c->safi;
		n.withdraw = c->withdraw;
		if (c->addpath) {
			n.has_path_id = true;
			n.path_id = rd_u32(&r);
		}
		unsigned bits = rd_u8(&r);
		if (c->safi == BGP_SAFI_VPN) {
			if (!parse_labels(&r, &bits, &n) || bits < 64)
				return false;
			n.has_rd = true;
			parse_rd(&r, &n.rd);
			bits -= 64;
		}
		if (bits > (c->afi == BGP_AFI_IPV4 ? 32u : 128u))
			return false;
		n.plen = (uint8_t)bits;
		rd_copy(&r, n.addr, (bits + 7) / 8);
		if (bits % 8)
			n.addr[bits / 8] &= (uint8_t)(0xff << (8 - bits % 8));
		if (r.bad)
			return false;
		if (fn)
			fn(arg, &n, a);
	}
	return true;
}

/* The four NLRI runs of an UPDATE in order; fn NULL only checks them. */
static bool nlri_all(const struct upd *u, struct rd wd, struct rd nlri, bool taw, bgp_nlri_fn fn,
    void *arg)
{
	const struct bgp_session *s = u->s;
	struct nlri_ctx c4w = { BGP_AFI_IPV4, BGP_SAFI_UNICAST, true,
	    (s->addpath_rx & bgp_af_bit(1, 1)) != 0 };
	struct nlri_ctx c4 = c4w;
	c4.withdraw = taw;
	if (!nlri_run(wd, &c4w, u->a, fn, arg))
		return false;
	if (u->has_unreach && bgp_af_bit(u->unreach_afi, u->unreach_safi)) {
		struct nlri_ctx c = { u->unreach_afi, u->unreach_safi, true,
		    (s->addpath_rx & bgp_af_bit(u->unreach_afi, u->unreach_safi)) != 0 };
		if (!nlri_run(u->unreach, &c, u->a, fn, arg))
			return false;
	}
	if (u->has_reach && bgp_af_bit(u->reach_afi, u->reach_safi)) {
		struct nlri_ctx c = { u->reach_afi, u->reach_safi, taw,
		    (s->addpath_rx & bgp_af_bit(u->reach_afi, u->reach_safi)) != 0 };
		if (!nlri_run(u->reach, &c, u->a, fn, arg))
			return false;
	}
	return nlri_run(nlri, &c4, u->a, fn, arg);
}

/* RFC 7606 3 d: a missing well-known mandatory attribute when there is something to announce. */
static void check_mandatory(struct upd *u, bool v4_nlri)
{
	const struct bgp_attrs *a = u->a;
	if (!v4_nlri && !u->has_reach)
		return;
	if (!a->has_origin || !a->has_as_path || (v4_nlri && a->next_hop.afi == 0))
		set_err(u->err, BGP_ACT_TREAT_AS_WITHDRAW, ERR_UPD, UPD_MISSING,
		    "missing well-known attribute");
}

enum bgp_action bgp_decode_update(const uint8_t *body, size_t len, const struct bgp_session *s,
    struct bgp_attrs *a, bgp_nlri_fn fn, void *arg, struct bgp_error *err)
{
	struct upd u;
	struct rd r = rd_make(body, len);
	memset(&u, 0, sizeof(u));
	memset(a, 0, sizeof(*a));
	memset(err, 0, sizeof(*err));
	u.s = s;
	u.a = a;
	u.err = err;
	/* RFC 7606 4: field lengths that do not add up leave the NLRI unlocatable. */
	struct rd wd = rd_sub(&r, rd_u16(&r));
	struct rd pa = rd_sub(&r, rd_u16(&r));
	if (r.bad)
		return reset(err, ERR_UPD, UPD_ATTR_LIST, "withdrawn or attribute length past the message"),
		    err->action;
	struct rd nlri = r;
	parse_attrs(&u, &pa);
	if (err->action == BGP_ACT_SESSION_RESET)
		return err->action;
	if (!nlri_all(&u, wd, nlri, false, NULL, NULL))
		return reset(err, ERR_UPD, UPD_NETWORK, "malformed NLRI"), err->action;
	if (!s->as4)
		merge_as4(&u);
	check_mandatory(&u, nlri.left > 0);
	nlri_all(&u, wd, nlri, err->action == BGP_ACT_TREAT_AS_WITHDRAW, fn, arg);
	return err->action;
}
