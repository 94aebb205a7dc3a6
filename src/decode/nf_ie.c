/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_ie.c: the information-element table (IANA numbering, RFC 7012 / RFC 3954 8) and the template compiler. */
#include "nf_ie.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rd.h"
#include "lib/text.h"
#include "lib/xalloc.h"

#define S(f)	(uint16_t)offsetof(struct nf_scr, f), \
		(uint16_t)0
#define K(f)	(uint8_t)sizeof(((struct flow_key *)0)->f), \
		(uint16_t)(offsetof(struct nf_scr, rec) + offsetof(struct flow_rec, k) + \
		    offsetof(struct flow_key, f))
#define R(f)	(uint8_t)sizeof(((struct flow_rec *)0)->f), \
		(uint16_t)(offsetof(struct nf_scr, rec) + offsetof(struct flow_rec, f))
#define X(f)	(uint8_t)sizeof(((struct nf_scr *)0)->f), (uint16_t)offsetof(struct nf_scr, f)
#define XI(f)	(uint8_t)0, (uint16_t)offsetof(struct nf_scr, f)
#define KI(f)	(uint8_t)0, (uint16_t)(offsetof(struct nf_scr, rec) + offsetof(struct flow_rec, k) + \
		    offsetof(struct flow_key, f))
#define XS(f)	(uint8_t)sizeof(((struct nf_scr *)0)->f), (uint16_t)offsetof(struct nf_scr, f)
/* The key's cold tail inside struct nf_scr (see nf9_data()). */
#define NF_SCR_COLD	(offsetof(struct nf_scr, rec) + offsetof(struct flow_rec, k) + \
			    offsetof(struct flow_key, fwd_status))
#define NF_SCR_COLD_END	(offsetof(struct nf_scr, rec) + offsetof(struct flow_rec, k) + \
			    sizeof(struct flow_key))
#define MPLS(n)	(uint8_t)4, (uint16_t)(offsetof(struct nf_scr, mpls) + (n) * sizeof(uint32_t))

/*
 * IANA information elements nfacctd maps (ids and names from the IANA
 * IPFIX registry; ids 1-79 are also NetFlow v9's, RFC 3954 8).  Anything
 * not here is kept in the template only for offsets.
 */
static const struct nf_ie nf_ies[] = {
	/* id  name                              op           destination        seen */
	{   1, "octetDeltaCount",                NF_OP_UINT,  R(bytes),          NF_SEEN_BYTES },
	{   2, "packetDeltaCount",               NF_OP_UINT,  R(packets),        NF_SEEN_PACKETS },
	{   3, "deltaFlowCount",                 NF_OP_UINT,  R(flows),          0 },
	{   4, "protocolIdentifier",             NF_OP_UINT,  K(proto),          0 },
	{   5, "ipClassOfService",               NF_OP_UINT,  K(tos),            0 },
	{   6, "tcpControlBits",                 NF_OP_UINT,  X(tcp_flags),      NF_SEEN_TCP_FLAGS },
	{   7, "sourceTransportPort",            NF_OP_UINT,  K(src_port),       0 },
	{   8, "sourceIPv4Address",              NF_OP_IP4,   KI(src_ip),        NF_SEEN_SRC_IP },
	{   9, "sourceIPv4PrefixLength",         NF_OP_UINT,  K(src_mask),       0 },
	{  10, "ingressInterface",               NF_OP_UINT,  K(in_iface),       NF_SEEN_IN_IF },
	{  11, "destinationTransportPort",       NF_OP_UINT,  K(dst_port),       0 },
	{  12, "destinationIPv4Address",         NF_OP_IP4,   KI(dst_ip),        NF_SEEN_DST_IP },
	{  13, "destinationIPv4PrefixLength",    NF_OP_UINT,  K(dst_mask),       0 },
	{  14, "egressInterface",                NF_OP_UINT,  K(out_iface),      NF_SEEN_OUT_IF },
	{  15, "ipNextHopIPv4Address",           NF_OP_IP4,   XI(nh_ip),         NF_SEEN_NH_IP },
	{  16, "bgpSourceAsNumber",              NF_OP_UINT,  K(src_as),         0 },
	{  17, "bgpDestinationAsNumber",         NF_OP_UINT,  K(dst_as),         0 },
	{  18, "bgpNextHopIPv4Address",          NF_OP_IP4,   XI(nh_bgp),        NF_SEEN_NH_BGP },
	{  21, "flowEndSysUpTime",               NF_OP_UINT,  X(last_up),        NF_SEEN_LAST_UP },
	{  22, "flowStartSysUpTime",             NF_OP_UINT,  X(first_up),       NF_SEEN_FIRST_UP },
	{  27, "sourceIPv6Address",              NF_OP_IP6,   KI(src_ip),        NF_SEEN_SRC_IP },
	{  28, "destinationIPv6Address",         NF_OP_IP6,   KI(dst_ip),        NF_SEEN_DST_IP },
	{  29, "sourceIPv6PrefixLength",         NF_OP_UINT,  K(src_mask),       0 },
	{  30, "destinationIPv6PrefixLength",    NF_OP_UINT,  K(dst_mask),       0 },
	{  31, "flowLabelIPv6",                  NF_OP_UINT,  K(flow_label),     0 },
	{  32, "icmpTypeCodeIPv4",               NF_OP_UINT,  X(icmp_type),      NF_SEEN_ICMP },
	{  34, "samplingInterval",               NF_OP_UINT,  X(samp_interval),  NF_SEEN_SAMP_INTERVAL },
	{  48, "samplerId",                      NF_OP_UINT,  X(sampler_id),     NF_SEEN_SAMPLER_ID },
	{  50, "samplerRandomInterval",          NF_OP_UINT,  X(samp_interval),  NF_SEEN_SAMP_INTERVAL },
	{  56, "sourceMacAddress",               NF_OP_MAC,   KI(src_mac),       0 },
	{  58, "vlanId",                         NF_OP_UINT,  X(in_vlan),        NF_SEEN_IN_VLAN },
	{  59, "postVlanId",                     NF_OP_UINT,  X(out_vlan),       NF_SEEN_OUT_VLAN },
	{  60, "ipVersion",                      NF_OP_UINT,  X(ip_version),     NF_SEEN_IP_VERSION },
	{  61, "flowDirection",                  NF_OP_UINT,  X(direction),      NF_SEEN_DIRECTION },
	{  62, "ipNextHopIPv6Address",           NF_OP_IP6,   XI(nh_ip),         NF_SEEN_NH_IP },
	{  63, "bgpNextHopIPv6Address",          NF_OP_IP6,   XI(nh_bgp),        NF_SEEN_NH_BGP },
	{  70, "mplsTopLabelStackSection",       NF_OP_MPLS,  MPLS(0),           NF_SEEN_MPLS },
	{  71, "mplsLabelStackSection2",         NF_OP_MPLS,  MPLS(1),           NF_SEEN_MPLS },
	{  72, "mplsLabelStackSection3",         NF_OP_MPLS,  MPLS(2),           NF_SEEN_MPLS },
	{  73, "mplsLabelStackSection4",         NF_OP_MPLS,  MPLS(3),           NF_SEEN_MPLS },
	{  74, "mplsLabelStackSection5",         NF_OP_MPLS,  MPLS(4),           NF_SEEN_MPLS },
	{  75, "mplsLabelStackSection6",         NF_OP_MPLS,  MPLS(5),           NF_SEEN_MPLS },
	{  76, "mplsLabelStackSection7",         NF_OP_MPLS,  MPLS(6),           NF_SEEN_MPLS },
	{  77, "mplsLabelStackSection8",         NF_OP_MPLS,  MPLS(7),           NF_SEEN_MPLS },
	{  78, "mplsLabelStackSection9",         NF_OP_MPLS,  MPLS(8),           NF_SEEN_MPLS },
	{  79, "mplsLabelStackSection10",        NF_OP_MPLS,  MPLS(9),           NF_SEEN_MPLS },
	{  80, "destinationMacAddress",          NF_OP_MAC,   KI(dst_mac),       0 },
	{  82, "interfaceName",                  NF_OP_STR,   XS(opt_ifname),    NF_SEEN_IFNAME },
	{  89, "forwardingStatus",               NF_OP_UINT,  K(fwd_status),     0 },
	{  90, "mplsVpnRouteDistinguisher",      NF_OP_BYTES, K(mpls_vpn_rd),    NF_SEEN_RD },
	{  95, "applicationId",                  NF_OP_RAW,   XS(app_id),        NF_SEEN_APP_ID },
	{  96, "applicationName",                NF_OP_STR,   XS(opt_appname),   NF_SEEN_APP_NAME },
	{ 130, "exporterIPv4Address",            NF_OP_IP4,   XI(exp_addr),      NF_SEEN_EXP_ADDR },
	{ 131, "exporterIPv6Address",            NF_OP_IP6,   XI(exp_addr),      NF_SEEN_EXP_ADDR },
	{ 139, "icmpTypeCodeIPv6",               NF_OP_UINT,  X(icmp_type),      NF_SEEN_ICMP },
	{ 150, "flowStartSeconds",               NF_OP_UINT,  X(start_s),        NF_SEEN_START_S },
	{ 151, "flowEndSeconds",                 NF_OP_UINT,  X(end_s),          NF_SEEN_END_S },
	{ 152, "flowStartMilliseconds",          NF_OP_UINT,  X(start_ms),       NF_SEEN_START_MS },
	{ 153, "flowEndMilliseconds",            NF_OP_UINT,  X(end_ms),         NF_SEEN_END_MS },
	{ 154, "flowStartMicroseconds",          NF_OP_UINT,  X(start_us),       NF_SEEN_START_US },
	{ 155, "flowEndMicroseconds",            NF_OP_UINT,  X(end_us),         NF_SEEN_END_US },
	{ 156, "flowStartNanoseconds",           NF_OP_UINT,  X(start_ns),       NF_SEEN_START_NS },
	{ 157, "flowEndNanoseconds",             NF_OP_UINT,  X(end_ns),         NF_SEEN_END_NS },
	{ 160, "systemInitTimeMilliseconds",     NF_OP_UINT,  X(sys_init_ms),    NF_SEEN_SYS_INIT },
	{ 225, "postNATSourceIPv4Address",       NF_OP_IP4,   KI(post_nat_src_ip), 0 },
	{ 226, "postNATDestinationIPv4Address",  NF_OP_IP4,   KI(post_nat_dst_ip), 0 },
	{ 227, "postNAPTSourceTransportPort",    NF_OP_UINT,  K(post_nat_src_port), 0 },
	{ 228, "postNAPTDestinationTransportPort", NF_OP_UINT, K(post_nat_dst_port), 0 },
	{ 230, "natEvent",                       NF_OP_UINT,  K(nat_event),      0 },
	{ 233, "firewallEvent",                  NF_OP_UINT,  K(fw_event),       0 },
	{ 234, "ingressVRFID",                   NF_OP_UINT,  X(in_vrfid),       NF_SEEN_IN_VRF },
	{ 235, "egressVRFID",                    NF_OP_UINT,  X(out_vrfid),      NF_SEEN_OUT_VRF },
	{ 236, "VRFname",                        NF_OP_STR,   XS(opt_vrfname),   NF_SEEN_VRFNAME },
	{ 243, "dot1qVlanId",                    NF_OP_UINT,  X(dot1q_vlan),     NF_SEEN_DOT1Q },
	{ 245, "dot1qCustomerVlanId",            NF_OP_UINT,  K(in_cvlan),       0 },
	{ 249, "pseudoWireId",                   NF_OP_UINT,  K(mpls_pw_id),     0 },
	{ 254, "postDot1qVlanId",                NF_OP_UINT,  X(post_dot1q_vlan), NF_SEEN_POST_DOT1Q },
	{ 255, "postDot1qCustomerVlanId",        NF_OP_UINT,  K(out_cvlan),      0 },
	{ 256, "ethernetType",                   NF_OP_UINT,  K(etype),          NF_SEEN_ETYPE },
	{ 281, "postNATSourceIPv6Address",       NF_OP_IP6,   KI(post_nat_src_ip), 0 },
	{ 282, "postNATDestinationIPv6Address",  NF_OP_IP6,   KI(post_nat_dst_ip), 0 },
	{ 302, "selectorId",                     NF_OP_UINT,  X(sampler_id),     NF_SEEN_SAMPLER_ID },
	{ 305, "samplingPacketInterval",         NF_OP_UINT,  X(samp_interval),  NF_SEEN_SAMP_INTERVAL },
	{ 306, "samplingPacketSpace",            NF_OP_UINT,  X(samp_space),     NF_SEEN_SAMP_SPACE },
	{ 309, "samplingSize",                   NF_OP_UINT,  X(samp_size),      NF_SEEN_SAMP_SIZE },
	{ 310, "samplingPopulation",             NF_OP_UINT,  X(samp_pop),       NF_SEEN_SAMP_POP },
	{ 351, "layer2SegmentId",                NF_OP_UINT,  X(l2seg),          NF_SEEN_L2SEG },
	{ 505, "srhSegmentIPv6ListSection",      NF_OP_SRV6,  K(srv6_seg_ipv6_list), 0 },
	/* on-path telemetry delays as pmacct master reads them (names are pmacct's) */
	{ 600, "PathDelayMeanDeltaUsecs",        NF_OP_UINT,  K(path_delay_avg_usec), NF_SEEN_PD_AVG },
	{ 601, "PathDelayMinDeltaUsecs",         NF_OP_UINT,  K(path_delay_min_usec), 0 },
	{ 602, "PathDelayMaxDeltaUsecs",         NF_OP_UINT,  K(path_delay_max_usec), 0 },
	{ 603, "PathDelaySumDeltaUsecs",         NF_OP_UINT,  X(path_delay_sum), NF_SEEN_PD_SUM },
};

/* Huawei (enterprise 2011) elements, the same destinations as their IANA counterparts. */
static const struct nf_ie nf_ies_huawei[] = {
	{ 505, "srhSegmentIPv6ListSection",      NF_OP_SRV6,  K(srv6_seg_ipv6_list), 0 },
	{ 521, "pathDelayMeanDeltaUsecs",        NF_OP_UINT,  K(path_delay_avg_usec), NF_SEEN_PD_AVG },
	{ 523, "pathDelayMinDeltaUsecs",         NF_OP_UINT,  K(path_delay_min_usec), 0 },
	{ 525, "pathDelayMaxDeltaUsecs",         NF_OP_UINT,  K(path_delay_max_usec), 0 },
	{ 527, "pathDelaySumDeltaUsecs",         NF_OP_UINT,  X(path_delay_sum), NF_SEEN_PD_SUM },
};

#define NF_IE_MAX 640

/* Element id in table t[0..n), sorted by id: binary search (template compile time only). */
static const struct nf_ie *nf_ie_index(const struct nf_ie *t, size_t n, uint16_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t[mid].id == id)
			return &t[mid];
		if (t[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct nf_ie *nf_ie_find(uint16_t id)
{
	return id < NF_IE_MAX ? nf_ie_index(nf_ies, NELEM(nf_ies), id) : NULL;
}

const struct nf_ie *nf_ie_find_pen(uint32_t pen, uint16_t id)
{
	if (pen == 0)
		return nf_ie_find(id);
	if (pen == NF_PEN_HUAWEI)
		return nf_ie_index(nf_ies_huawei, NELEM(nf_ies_huawei), id);
	return NULL;
}

const struct nf_ie *nf_ie_table(uint32_t pen, size_t *n)
{
	*n = pen == 0 ? sizeof(nf_ies) / sizeof(nf_ies[0]) :
	    pen == NF_PEN_HUAWEI ? sizeof(nf_ies_huawei) / sizeof(nf_ies_huawei[0]) : 0;
	return pen == 0 ? nf_ies : pen == NF_PEN_HUAWEI ? nf_ies_huawei : NULL;
}

/* Is this (mapped) field usable with the length the template gives it? */
static bool nf_ie_len_ok(const struct nf_ie *ie, uint16_t len)
{
	switch (ie->op) {
	case NF_OP_UINT: return len >= 1 && len <= 8;
	case NF_OP_IP4: return len == 4;
	case NF_OP_IP6: return len == 16;
	case NF_OP_MAC: return len == 6;
	case NF_OP_MPLS: return len >= 3 && len <= 4;
	case NF_OP_BYTES: return len == ie->dsz;
	case NF_OP_STR: return true;	/* any length, variable included */
	case NF_OP_SRV6: return true;
	case NF_OP_RAW: return true;	/* applicationId: nf_app_sel() decides */
	default: return false;
	}
}

static void nf_prog_push(struct nf_prog *p, size_t *cap, const struct nf_step *s, bool merge)
{
	/* merge a fixed-length skip into the previous one */
	if (merge && s->op == NF_OP_SKIP && s->len != NF_VARLEN && p->nsteps) {
		struct nf_step *last = &p->steps[p->nsteps - 1];
		if (last->op == NF_OP_SKIP && last->len != NF_VARLEN &&
		    (uint32_t)last->len + s->len < NF_VARLEN) {
			last->len = (uint16_t)(last->len + s->len);
			return;
		}
	}
	if (p->nsteps == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		p->steps = xrealloc(p->steps, *cap * sizeof(*p->steps));
	}
	p->steps[p->nsteps++] = *s;
}

/* The step of field i: a mapped IANA element, a v9 interface scope, or a skip. */
static struct nf_step nf_field_step(const struct nf_field *f, uint16_t i, uint16_t skip_first,
    uint32_t off)
{
	struct nf_step s = { .op = NF_OP_SKIP, .len = f->len, .off = (uint16_t)off };
	/* v9 scopes are RFC 3954 6.1's types, but applicationId (IE 95) scopes
	 * application names in v9 too, as pmacct master reads them */
	const struct nf_ie *ie = i < skip_first && f->type != 95 ? NULL : nf_ie_find_pen(f->pen, f->type);

	if (ie && nf_ie_len_ok(ie, f->len)) {
		s.op = ie->op;
		s.dsz = ie->dsz;
		s.dst = ie->dst;
		s.cap = ie->dsz;
		s.seen = ie->seen;
	} else if (i < skip_first && (f->type == 1 || f->type == 2) && f->len >= 1 && f->len <= 8) {
		/* RFC 3954 6.1 scope 1 (system) and 2 (the interface the options describe) */
		s.op = NF_OP_UINT;
		s.dsz = sizeof(uint64_t);
		s.dst = f->type == 2 ? (uint16_t)offsetof(struct nf_scr, scope_if) :
		    (uint16_t)offsetof(struct nf_scr, scope_sys);
		s.seen = f->type == 2 ? NF_SEEN_SCOPE_IF : NF_SEEN_SCOPE_SYS;
	}
	return s;
}

/* A custom primitive's store for a field it names, if the field's length suits it. */
static bool nf_custom_step(const struct prim_custom *c, const struct nf_field *f, uint32_t off,
    struct nf_step *s)
{
	uint16_t base = (uint16_t)(offsetof(struct nf_scr, rec) + offsetof(struct flow_rec, k));

	memset(s, 0, sizeof(*s));
	s->len = f->len;
	s->off = (uint16_t)off;
	s->dst = (uint16_t)(base + c->off);
	s->cap = c->size;
	s->again = true;
	switch (c->sem) {
	case PCS_UINT:
	case PCS_HEX:
		if (f->len < 1 || f->len > 8)
			return false;
		s->op = NF_OP_UINT;
		s->dsz = (uint8_t)c->size;
		return true;
	case PCS_IP:
		s->op = f->len == 4 ? NF_OP_IP4 : NF_OP_IP6;
		return f->len == 4 || f->len == 16;
	case PCS_MAC:
		s->op = NF_OP_MAC;
		return f->len == 6;
	case PCS_STR:
		s->op = NF_OP_STR;
		return true;
	case PCS_RAW:
		s->op = NF_OP_RAW;
		return true;
	default:
		return false;
	}
}

static bool nf_custom_match(const struct prim_custom *c, const struct nf_field *f)
{
	return c->field_type == f->type && c->pen == f->pen;
}

/* An unsigned store of a common wire length and destination size gets its own op. */
static void nf_step_specialise(struct nf_step *s)
{
	static const struct { uint16_t len; uint8_t dsz, op; } fast[] = {
		{ 1, 1, NF_OP_U1_1 }, { 1, 8, NF_OP_U1_8 }, { 2, 2, NF_OP_U2_2 }, { 2, 4, NF_OP_U2_4 },
		{ 2, 8, NF_OP_U2_8 }, { 4, 4, NF_OP_U4_4 }, { 4, 8, NF_OP_U4_8 }, { 8, 8, NF_OP_U8_8 },
	};

	if (s->op != NF_OP_UINT)
		return;
	for (size_t i = 0; i < NELEM(fast); i++)
		if (s->len == fast[i].len && s->dsz == fast[i].dsz)
			s->op = fast[i].op;
}

/* Bytes of struct nf_scr that step s writes. */
static size_t nf_step_width(const struct nf_step *s)
{
	switch (s->op) {
	case NF_OP_SKIP:
		return 0;
	case NF_OP_U1_1:
		return 1;
	case NF_OP_U2_2:
		return 2;
	case NF_OP_U2_4: case NF_OP_U4_4: case NF_OP_MPLS:
		return 4;
	case NF_OP_U1_8: case NF_OP_U2_8: case NF_OP_U4_8: case NF_OP_U8_8:
		return 8;
	case NF_OP_IP4: case NF_OP_IP6:
		return sizeof(struct fr_ip);
	case NF_OP_MAC:
		return 6;
	case NF_OP_STR: case NF_OP_RAW:
		return s->cap;
	case NF_OP_SRV6:
		return sizeof(struct fr_srv6_list);
	default:	/* NF_OP_UINT, NF_OP_BYTES */
		return s->dsz;
	}
}

static int nf_step_cmp_op(const void *a, const void *b)
{
	const struct nf_step *x = a, *y = b;

	if (x->op != y->op)
		return x->op < y->op ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;	/* stable: offsets are distinct */
}

/*
 * A fixed-length template's stores in runs of one op (run = the steps left
 * in it), so that nf_prog_run() dispatches once per run, not once per field.
 * Stores may be reordered only when no two of them write the same bytes
 * (IE 8 and IE 27 both fill src_host: the later one must win); otherwise
 * runs are only what the template's order gives.
 */
static void nf_prog_group(struct nf_prog *prog)
{
	struct nf_step *st = prog->steps;
	uint16_t n = prog->nsteps;
	bool disjoint = true;

	for (uint16_t i = 0; i < n && disjoint; i++)
		for (uint16_t j = i + 1; j < n && disjoint; j++)
			disjoint = st[i].dst + nf_step_width(&st[i]) <= st[j].dst ||
			    st[j].dst + nf_step_width(&st[j]) <= st[i].dst;
	if (disjoint && n > 1)
		qsort(st, n, sizeof(*st), nf_step_cmp_op);
	for (uint16_t i = n; i-- > 0;)
		st[i].run = (uint16_t)(i + 1 < n && st[i + 1].op == st[i].op ? st[i + 1].run + 1 : 1);
}

int nf_prog_compile(struct nf_prog *prog, const struct nf_field *fields, uint16_t n,
    uint16_t skip_first, const struct prim_custom *custom, int ncustom)
{
	size_t cap = 0;
	uint32_t off = 0;

	memset(prog, 0, sizeof(*prog));
	for (uint16_t i = 0; i < n; i++) {
		if (fields[i].len == 0)
			goto fail;	/* RFC 7011 7: a zero length is only legal on the wire */
		if (fields[i].len == NF_VARLEN) {
			prog->varlen = true;
			off += 1;	/* its minimum: a one-byte length of 0 */
		} else {
			off += fields[i].len;
		}
		if (off > 65535)
			goto fail;
	}
	prog->rec_len = off;
	off = 0;
	for (uint16_t i = 0; i < n; i++) {
		const struct nf_field *f = &fields[i];
		struct nf_step s = nf_field_step(f, i, skip_first, off), cs;
		bool customs = false;

		for (int c = 0; c < ncustom && i >= skip_first; c++)
			customs |= nf_custom_match(&custom[c], f);
		/* fixed-length records need no skip steps: stores carry their offset */
		if (prog->varlen || s.op != NF_OP_SKIP)
			nf_prog_push(prog, &cap, &s, !customs);
		for (int c = 0; customs && c < ncustom; c++)
			if (nf_custom_match(&custom[c], f) && nf_custom_step(&custom[c], f, off, &cs)) {
				cs.again = prog->varlen;
				nf_prog_push(prog, &cap, &cs, false);
			}
		if (f->len != NF_VARLEN)
			off += f->len;
	}
	for (uint16_t i = 0; i < prog->nsteps; i++) {
		if (prog->steps[i].op != NF_OP_SKIP && prog->steps[i].dst >= NF_SCR_COLD &&
		    prog->steps[i].dst < NF_SCR_COLD_END)
			prog->cold = true;
		nf_step_specialise(&prog->steps[i]);
		if (prog->steps[i].op != NF_OP_SKIP)
			prog->seen |= prog->steps[i].seen;
	}
	if (!prog->varlen)
		nf_prog_group(prog);
	return 0;
fail:
	nf_prog_free(prog);
	return -1;
}

void nf_prog_free(struct nf_prog *prog)
{
	free(prog->steps);
	prog->steps = NULL;
	prog->nsteps = 0;
}

static uint64_t nf_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* NF_OP_IP4 / NF_OP_IP6 write struct fr_ip byte by byte. */
_Static_assert(offsetof(struct fr_ip, af) == 0 && offsetof(struct fr_ip, a) == 4 &&
    sizeof(struct fr_ip) == 20, "struct fr_ip layout");

static inline uint16_t nf_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t nf_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Store one field's bytes as step s says. */
/*
 * srhSegmentIPv6ListSection: a list of 16-byte addresses; any other length
 * gives none (as pmacct).  Out of line: its list on the stack would weigh on
 * every step of the hot switch below.
 */
static __attribute__((noinline)) void nf_srv6_store(const uint8_t *p, size_t n, uint8_t *dst)
{
	struct fr_srv6_list l;

	memset(&l, 0, sizeof(l));
	if (n % 16 == 0)
		for (size_t i = 0; i < n / 16 && i < FR_SRV6_MAX; i++)
			memcpy(l.seg[l.n++], p + 16 * i, 16);
	memcpy(dst, &l, sizeof(l));
}

/*
 * Store one field's bytes as step s says into dst (scr + s->dst); returns
 * the NF_SEEN_* bits it sets (0 for a skip).  The caller ORs them into
 * scr->seen once per record: a store through dst could alias anything, so
 * an OR per step would reload and rewrite seen each time.
 */
static inline __attribute__((always_inline)) uint64_t nf_store_op(int op,
    const struct nf_step *s, const uint8_t *p, size_t n, uint8_t *dst)
{
	switch (op) {
	case NF_OP_U1_1:
		*dst = p[0];
		break;
	case NF_OP_U1_8: {
		uint64_t x = p[0];
		memcpy(dst, &x, 8);
		break;
	}
	case NF_OP_U2_2: {
		uint16_t x = nf_be16(p);
		memcpy(dst, &x, 2);
		break;
	}
	case NF_OP_U2_4: {
		uint32_t x = nf_be16(p);
		memcpy(dst, &x, 4);
		break;
	}
	case NF_OP_U2_8: {
		uint64_t x = nf_be16(p);
		memcpy(dst, &x, 8);
		break;
	}
	case NF_OP_U4_4: {
		uint32_t x = nf_be32(p);
		memcpy(dst, &x, 4);
		break;
	}
	case NF_OP_U4_8: {
		uint64_t x = nf_be32(p);
		memcpy(dst, &x, 8);
		break;
	}
	case NF_OP_U8_8: {
		uint64_t x = (uint64_t)nf_be32(p) << 32 | nf_be32(p + 4);
		memcpy(dst, &x, 8);
		break;
	}
	case NF_OP_UINT: {
		uint64_t v = nf_be(p, n);
		switch (s->dsz) {
		case 1: { uint8_t x = (uint8_t)v; memcpy(dst, &x, 1); break; }
		case 2: { uint16_t x = (uint16_t)v; memcpy(dst, &x, 2); break; }
		case 4: { uint32_t x = (uint32_t)v; memcpy(dst, &x, 4); break; }
		default: memcpy(dst, &v, 8); break;
		}
		break;
	}
	case NF_OP_IP4: {
		/* struct fr_ip in place, fixed-size copies: af, zero padding, 4 bytes, zeros */
		static const uint8_t head[4] = { 4, 0, 0, 0 }, zero[12];
		memcpy(dst, head, 4);
		memcpy(dst + 4, p, 4);
		memcpy(dst + 8, zero, 12);
		break;
	}
	case NF_OP_IP6: {
		static const uint8_t head[4] = { 6, 0, 0, 0 };
		memcpy(dst, head, 4);
		memcpy(dst + 4, p, 16);
		break;
	}
	case NF_OP_MAC:
		memcpy(dst, p, 6);
		break;
	case NF_OP_MPLS: {
		uint32_t x = (uint32_t)nf_be(p, 3);
		memcpy(dst, &x, 4);
		break;
	}
	case NF_OP_BYTES:
		memcpy(dst, p, s->dsz);
		break;
	case NF_OP_STR: {
		size_t m = n < (size_t)s->cap - 1 ? n : (size_t)s->cap - 1;
		memcpy(dst, p, m);
		dst[m] = '\0';
		break;
	}
	case NF_OP_RAW: {
		size_t m = n < (size_t)s->cap - 1 ? n : (size_t)s->cap - 1;
		dst[0] = (uint8_t)m;
		memcpy(dst + 1, p, m);
		break;
	}
	case NF_OP_SRV6:
		nf_srv6_store(p, n, dst);
		break;
	default:
		return 0;
	}
	return s->seen;
}

/* The store of step s, whatever its op. */
static inline uint64_t nf_step_store(const struct nf_step *s, const uint8_t *p, size_t n,
    uint8_t *dst)
{
	return nf_store_op(s->op, s, p, n, dst);
}

/*
 * The run of steps starting at s (all of one op, s->run of them) over the
 * fixed-length record at base; returns the step after it.  The common ops
 * get a loop of their own, nf_store_op() with the op a constant: one
 * dispatch per run instead of one per field.
 */
static inline const struct nf_step *nf_run_store(const struct nf_step *s, const uint8_t *base,
    uint8_t *out)
{
	const struct nf_step *e = s + s->run;

#define NF_RUN(op) \
	case op: \
		for (; s < e; s++) \
			(void)nf_store_op(op, s, base + s->off, s->len, out + s->dst); \
		return e;
	switch (s->op) {
	NF_RUN(NF_OP_U1_1)
	NF_RUN(NF_OP_U1_8)
	NF_RUN(NF_OP_U2_2)
	NF_RUN(NF_OP_U2_4)
	NF_RUN(NF_OP_U2_8)
	NF_RUN(NF_OP_U4_4)
	NF_RUN(NF_OP_U4_8)
	NF_RUN(NF_OP_IP4)
	default:
		for (; s < e; s++)
			(void)nf_step_store(s, base + s->off, s->len, out + s->dst);
		return e;
	}
#undef NF_RUN
}

/* Variable-length field: its length prefix, RFC 7011 7 (255 = a 2-byte length follows). */
static size_t nf_varlen(struct rd *r)
{
	size_t n = rd_u8(r);
	if (n == 255)
		n = rd_u16(r);
	return n;
}

int nf_prog_run(const struct nf_prog *prog, struct rd *r, struct nf_scr *scr)
{
	/* steps and their count in locals: the stores below may alias *prog as far as C knows */
	const struct nf_step *s = prog->steps, *end = s + prog->nsteps;
	uint8_t *out = (uint8_t *)scr;
	uint64_t seen = 0;

	if (!prog->varlen) {
		const uint8_t *base = rd_take(r, prog->rec_len);
		if (!base)
			return -1;
		/* every step stores (no skips here): the bits they set are prog->seen */
		while (s < end)
			s = nf_run_store(s, base, out);
		scr->seen |= prog->seen;
		return 0;
	}
	const uint8_t *p = NULL;
	size_t n = 0;
	for (; s < end; s++) {
		if (!s->again) {
			n = s->len == NF_VARLEN ? nf_varlen(r) : s->len;
			if (!(p = rd_take(r, n))) {
				scr->seen |= seen;
				return -1;
			}
		}
		if (s->op != NF_OP_SKIP)
			seen |= nf_step_store(s, p, n, out + s->dst);
	}
	scr->seen |= seen;
	return 0;
}
