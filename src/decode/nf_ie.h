/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_ie.h: the NetFlow v9 / IPFIX information-element table and template compilation into decode steps. */
#ifndef DECODE_NF_IE_H
#define DECODE_NF_IE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"
#include "model/prim.h"

/*
 * Per-record scratch a compiled template writes into: the record itself
 * (at offset 0, so a step's destination is one offset for key fields,
 * counters and the extra values below) plus values that need the whole
 * record before they mean something (times, sampling, next hops, labels).
 */
struct nf_scr {
	struct flow_rec rec;
	uint64_t seen;			/* NF_SEEN_* bits of the values below */
	uint64_t first_up, last_up;	/* IE 22/21: sysUptime-relative (RFC 3954 8) */
	uint64_t start_s, end_s;	/* IE 150/151: seconds (RFC 7012) */
	uint64_t start_ms, end_ms;	/* IE 152/153 */
	uint64_t start_us, end_us;	/* IE 154/155: NTP format (RFC 7011 6.1.9) */
	uint64_t start_ns, end_ns;	/* IE 156/157: NTP format (RFC 7011 6.1.10) */
	uint64_t sys_init_ms;		/* IE 160 systemInitTimeMilliseconds */
	uint64_t sampler_id;		/* IE 48 / 302 */
	uint64_t samp_interval;		/* IE 34 / 50 / 305 */
	uint64_t samp_space;		/* IE 306 */
	uint64_t samp_size, samp_pop;	/* IE 309 / 310 */
	uint64_t tcp_flags;		/* IE 6: 1 or 2 bytes (RFC 7012, IPFIX) */
	uint64_t ip_version;		/* IE 60 */
	uint64_t icmp_type;		/* IE 32 / 139 */
	struct fr_ip nh_ip, nh_bgp;	/* IE 15/62, IE 18/63 */
	uint32_t mpls[10];		/* IE 70..79, 3 bytes: label << 4 | exp << 1 | bos */
	uint64_t direction;		/* IE 61 */
	uint64_t in_vlan, out_vlan, dot1q_vlan;	/* IE 58, 59, 243 */
	uint64_t post_dot1q_vlan;	/* IE 254 */
	uint64_t path_delay_sum;	/* IE 603 / Huawei 2011.527: summed delay, microseconds */
	uint64_t in_vrfid, out_vrfid;	/* IE 234 / 235 */
	uint64_t l2seg;			/* IE 351 layer2SegmentId: type byte, then the segment id */
	uint64_t scope_if;		/* v9 options scope 2 (interface, RFC 3954 6.1) */
	uint64_t scope_sys;		/* v9 options scope 1 (system) */
	struct fr_ip exp_addr;		/* IE 130 / 131 exporterIPv4/IPv6Address (options) */
	char opt_ifname[FR_NAME_MAX];	/* IE 82 interfaceName (options) */
	char opt_vrfname[FR_NAME_MAX];	/* IE 236 VRFname (options) */
	uint8_t app_id[9];		/* IE 95 applicationId: length byte, then up to 8 bytes */
	char opt_appname[FR_CLASS_MAX];	/* IE 96 applicationName (options) */
};

/* Which of the scratch values a record carried. */
enum {
	NF_SEEN_FIRST_UP = 1u << 0, NF_SEEN_LAST_UP = 1u << 1,
	NF_SEEN_START_S = 1u << 2, NF_SEEN_END_S = 1u << 3,
	NF_SEEN_START_MS = 1u << 4, NF_SEEN_END_MS = 1u << 5,
	NF_SEEN_START_US = 1u << 6, NF_SEEN_END_US = 1u << 7,
	NF_SEEN_START_NS = 1u << 8, NF_SEEN_END_NS = 1u << 9,
	NF_SEEN_SYS_INIT = 1u << 10,
	NF_SEEN_SAMPLER_ID = 1u << 11, NF_SEEN_SAMP_INTERVAL = 1u << 12,
	NF_SEEN_SAMP_SPACE = 1u << 13, NF_SEEN_SAMP_SIZE = 1u << 14, NF_SEEN_SAMP_POP = 1u << 15,
	NF_SEEN_TCP_FLAGS = 1u << 16, NF_SEEN_IP_VERSION = 1u << 17, NF_SEEN_ICMP = 1u << 18,
	NF_SEEN_NH_IP = 1u << 19, NF_SEEN_NH_BGP = 1u << 20,
	NF_SEEN_MPLS = 1u << 21, NF_SEEN_DIRECTION = 1u << 22,
	NF_SEEN_IN_VLAN = 1u << 23, NF_SEEN_OUT_VLAN = 1u << 24, NF_SEEN_DOT1Q = 1u << 25,
	NF_SEEN_BYTES = 1u << 26, NF_SEEN_PACKETS = 1u << 27,
	NF_SEEN_SRC_IP = 1u << 28, NF_SEEN_DST_IP = 1u << 29, NF_SEEN_ETYPE = 1u << 30,
};
/* Past an int's range, so not enumerators. */
#define NF_SEEN_RD		(1ull << 31)
#define NF_SEEN_IN_VRF		(1ull << 32)
#define NF_SEEN_OUT_VRF		(1ull << 33)
#define NF_SEEN_SCOPE_IF	(1ull << 34)
#define NF_SEEN_EXP_ADDR	(1ull << 35)
#define NF_SEEN_IFNAME		(1ull << 36)
#define NF_SEEN_VRFNAME		(1ull << 37)
#define NF_SEEN_IN_IF		(1ull << 38)
#define NF_SEEN_OUT_IF		(1ull << 39)
#define NF_SEEN_SCOPE_SYS	(1ull << 40)
#define NF_SEEN_POST_DOT1Q	(1ull << 41)
#define NF_SEEN_PD_AVG		(1ull << 42)
#define NF_SEEN_PD_SUM		(1ull << 43)
#define NF_SEEN_APP_ID		(1ull << 44)
#define NF_SEEN_APP_NAME	(1ull << 45)
#define NF_SEEN_L2SEG		(1ull << 46)
/* Each bit above 30 once: two names on one bit would run each other's derivations. */
_Static_assert(__builtin_popcountll(NF_SEEN_RD | NF_SEEN_IN_VRF | NF_SEEN_OUT_VRF |
    NF_SEEN_SCOPE_IF | NF_SEEN_EXP_ADDR | NF_SEEN_IFNAME | NF_SEEN_VRFNAME | NF_SEEN_IN_IF |
    NF_SEEN_OUT_IF | NF_SEEN_SCOPE_SYS | NF_SEEN_POST_DOT1Q | NF_SEEN_PD_AVG | NF_SEEN_PD_SUM |
    NF_SEEN_APP_ID | NF_SEEN_APP_NAME | NF_SEEN_L2SEG) == 16, "NF_SEEN_* bits above 30 overlap");

/* How a step stores its bytes. */
enum nf_op {
	NF_OP_SKIP,	/* not mapped: only advances */
	NF_OP_UINT,	/* big-endian unsigned of 1..8 bytes (reduced-size encoding, RFC 7011 6.2) */
	NF_OP_IP4,	/* 4 bytes into a struct fr_ip */
	NF_OP_IP6,	/* 16 bytes into a struct fr_ip */
	NF_OP_MAC,	/* 6 bytes */
	NF_OP_MPLS,	/* 3-byte label stack entry into mpls[] */
	NF_OP_BYTES,	/* fixed bytes (route distinguisher), exactly dsz */
	NF_OP_STR,	/* text of any length, cut to cap - 1 bytes and terminated */
	NF_OP_RAW,	/* any length: a length byte, then up to cap - 1 bytes */
	NF_OP_SRV6,	/* any length: IPv6 addresses into a struct fr_srv6_list (none unless n * 16) */
	/*
	 * NF_OP_UINT of the common wire lengths and destination sizes, which
	 * nf_prog_compile() substitutes: NF_OP_U<wire bytes>_<destination bytes>.
	 */
	NF_OP_U1_1, NF_OP_U1_8, NF_OP_U2_2, NF_OP_U2_4, NF_OP_U2_8, NF_OP_U4_4, NF_OP_U4_8,
	NF_OP_U8_8,
};

/* One row of the IE table: IANA id, name, wire type, destination. */
struct nf_ie {
	uint16_t id;
	const char *name;
	uint8_t op;		/* enum nf_op */
	uint8_t dsz;		/* destination size (UINT: 1, 2, 4, 8) */
	uint16_t dst;		/* offset in struct nf_scr */
	uint64_t seen;		/* NF_SEEN_* bit set when present (0: none) */
};

/* The table entry for IANA element `id` (enterprise 0); NULL if not mapped. */
const struct nf_ie *nf_ie_find(uint16_t id);

/* Huawei's enterprise number: its on-path telemetry and SRv6 elements are mapped too. */
#define NF_PEN_HUAWEI 2011

/* The table entry for element `id` of enterprise `pen` (0: IANA); NULL if not mapped. */
const struct nf_ie *nf_ie_find_pen(uint32_t pen, uint16_t id);

/*
 * The whole table of enterprise `pen` (0: IANA, NF_PEN_HUAWEI), sorted by id
 * as nf_ie_find_pen() needs, with its length in *n; NULL and 0 for another
 * enterprise.  For tests and documentation.
 */
const struct nf_ie *nf_ie_table(uint32_t pen, size_t *n);

/* A field as a template declares it (RFC 3954 5.2, RFC 7011 3.2). */
struct nf_field {
	uint16_t type;		/* IE id, enterprise bit cleared */
	uint16_t len;		/* NF_VARLEN: variable length (RFC 7011 7) */
	uint32_t pen;		/* enterprise number, 0 = IANA */
};

#define NF_VARLEN 0xffff

/* One compiled decode step. */
struct nf_step {
	uint8_t op;
	uint8_t dsz;
	uint16_t len;		/* wire length, NF_VARLEN for a variable-length field */
	uint16_t off;		/* offset in the record (fixed-length templates) */
	uint16_t dst;		/* offset in struct nf_scr */
	uint16_t cap;		/* NF_OP_STR / NF_OP_RAW: destination bytes */
	bool again;		/* variable-length templates: the previous step's field again */
	uint16_t run;		/* fixed-length templates: steps from here on with this op */
	uint64_t seen;
};

/* A template compiled into steps. */
struct nf_prog {
	struct nf_step *steps;
	uint16_t nsteps;
	bool varlen;		/* some field has variable length */
	bool cold;		/* some step stores past the key's hot fields (NAT, RD, custom ...) */
	uint32_t rec_len;	/* fixed-length record size; minimum size when varlen */
	uint64_t seen;		/* fixed-length templates: the NF_SEEN_* bits every record sets */
};

/*
 * Compile fields[0..n) into steps: mapped IANA elements become stores,
 * everything else (enterprise, unknown, scope fields when `skip_first`
 * counts them, except a v9 interface scope) a skip; adjacent skips merge.
 * A field that custom[0..ncustom) names (aggregate_primitives: PEN and
 * element id) gets one more store into its slot of the key.  Returns 0,
 * or -1 when a field has length 0 or the record would exceed 65535 bytes.
 * The caller frees prog->steps.
 */
int nf_prog_compile(struct nf_prog *prog, const struct nf_field *fields, uint16_t n,
    uint16_t skip_first, const struct prim_custom *custom, int ncustom);

void nf_prog_free(struct nf_prog *prog);

/*
 * Replay prog over one record taken from `rd` into scr (which the caller
 * prepared).  Returns 0, or -1 when the record is truncated or a variable
 * length overruns it.
 */
struct rd;
int nf_prog_run(const struct nf_prog *prog, struct rd *r, struct nf_scr *scr);

#endif
