/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_ie.c: the information-element table (IANA numbering, RFC 7012 / RFC 3954 8) and the template compiler. */
#include "nf_ie.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rd.h"
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
	{  10, "ingressInterface",               NF_OP_UINT,  K(in_iface),       0 },
	{  11, "destinationTransportPort",       NF_OP_UINT,  K(dst_port),       0 },
	{  12, "destinationIPv4Address",         NF_OP_IP4,   KI(dst_ip),        NF_SEEN_DST_IP },
	{  13, "destinationIPv4PrefixLength",    NF_OP_UINT,  K(dst_mask),       0 },
	{  14, "egressInterface",                NF_OP_UINT,  K(out_iface),      0 },
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
	{ 243, "dot1qVlanId",                    NF_OP_UINT,  X(dot1q_vlan),     NF_SEEN_DOT1Q },
	{ 256, "ethernetType",                   NF_OP_UINT,  K(etype),          NF_SEEN_ETYPE },
	{ 302, "selectorId",                     NF_OP_UINT,  X(sampler_id),     NF_SEEN_SAMPLER_ID },
	{ 305, "samplingPacketInterval",         NF_OP_UINT,  X(samp_interval),  NF_SEEN_SAMP_INTERVAL },
	{ 306, "samplingPacketSpace",            NF_OP_UINT,  X(samp_space),     NF_SEEN_SAMP_SPACE },
	{ 309, "samplingSize",                   NF_OP_UINT,  X(samp_size),      NF_SEEN_SAMP_SIZE },
	{ 310, "samplingPopulation",             NF_OP_UINT,  X(samp_pop),       NF_SEEN_SAMP_POP },
};

#define NF_IE_MAX 320

/* Direct index by id, built on first use from the table above (ids < NF_IE_MAX). */
static const struct nf_ie *nf_ie_index(uint16_t id)
{
	size_t lo = 0, hi = sizeof(nf_ies) / sizeof(nf_ies[0]);

	/* the table is sorted by id: binary search (compile time only) */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (nf_ies[mid].id == id)
			return &nf_ies[mid];
		if (nf_ies[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct nf_ie *nf_ie_find(uint16_t id)
{
	return id < NF_IE_MAX ? nf_ie_index(id) : NULL;
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
	default: return false;
	}
}

static void nf_prog_push(struct nf_prog *p, size_t *cap, const struct nf_step *s)
{
	/* merge a fixed-length skip into the previous one */
	if (s->op == NF_OP_SKIP && s->len != NF_VARLEN && p->nsteps) {
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

int nf_prog_compile(struct nf_prog *prog, const struct nf_field *fields, uint16_t n,
    uint16_t skip_first)
{
	size_t cap = 0;
	uint32_t off = 0;

	memset(prog, 0, sizeof(*prog));
	for (uint16_t i = 0; i < n; i++) {
		const struct nf_field *f = &fields[i];
		const struct nf_ie *ie = (f->pen || i < skip_first) ? NULL : nf_ie_find(f->type);
		struct nf_step s = { NF_OP_SKIP, 0, f->len, (uint16_t)off, 0, 0 };

		if (f->len == 0)
			goto fail;	/* RFC 7011 7: a zero length is only legal on the wire */
		if (f->len == NF_VARLEN) {
			prog->varlen = true;
			off += 1;	/* its minimum: a one-byte length of 0 */
		} else {
			off += f->len;
		}
		if (off > 65535)
			goto fail;
		if (ie && f->len != NF_VARLEN && nf_ie_len_ok(ie, f->len)) {
			s.op = ie->op;
			s.dsz = ie->dsz;
			s.dst = ie->dst;
			s.seen = ie->seen;
		}
		/* fixed-length records need no skip steps: stores carry their offset */
		if (s.op != NF_OP_SKIP || prog->varlen)
			nf_prog_push(prog, &cap, &s);
	}
	prog->rec_len = off;
	if (!prog->varlen) {
		/* drop skips pushed before nothing (none are pushed in fixed mode) */
		return 0;
	}
	/* varlen: re-emit every field in order, skips included, offsets unused */
	free(prog->steps);
	prog->steps = NULL;
	prog->nsteps = 0;
	cap = 0;
	for (uint16_t i = 0; i < n; i++) {
		const struct nf_field *f = &fields[i];
		const struct nf_ie *ie = (f->pen || i < skip_first) ? NULL : nf_ie_find(f->type);
		struct nf_step s = { NF_OP_SKIP, 0, f->len, 0, 0, 0 };
		if (ie && f->len != NF_VARLEN && nf_ie_len_ok(ie, f->len)) {
			s.op = ie->op;
			s.dsz = ie->dsz;
			s.dst = ie->dst;
			s.seen = ie->seen;
		}
		nf_prog_push(prog, &cap, &s);
	}
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

/* Store one field's bytes as step s says. */
static inline void nf_step_apply(const struct nf_step *s, const uint8_t *p, size_t n,
    struct nf_scr *scr)
{
	uint8_t *dst = (uint8_t *)scr + s->dst;

	switch (s->op) {
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
	case NF_OP_IP4:
	case NF_OP_IP6: {
		struct fr_ip ip = { 0 };
		ip.af = s->op == NF_OP_IP4 ? 4 : 6;
		memcpy(ip.a, p, n);
		memcpy(dst, &ip, sizeof(ip));
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
	default:
		return;
	}
	scr->seen |= s->seen;
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
	if (!prog->varlen) {
		const uint8_t *base = rd_take(r, prog->rec_len);
		if (!base)
			return -1;
		for (uint16_t i = 0; i < prog->nsteps; i++) {
			const struct nf_step *s = &prog->steps[i];
			nf_step_apply(s, base + s->off, s->len, scr);
		}
		return 0;
	}
	for (uint16_t i = 0; i < prog->nsteps; i++) {
		const struct nf_step *s = &prog->steps[i];
		size_t n = s->len == NF_VARLEN ? nf_varlen(r) : s->len;
		const uint8_t *p = rd_take(r, n);
		if (!p)
			return -1;
		if (s->op != NF_OP_SKIP)
			nf_step_apply(s, p, n, scr);
	}
	return 0;
}
