/* SPDX-License-Identifier: BSD-3-Clause */
/* prim.h: the aggregation primitives, declared once in one table. */
#ifndef MODEL_PRIM_H
#define MODEL_PRIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_rec.h"

/*
 * Primitive ids, in pmacct's fixed output column order: the print plugin's
 * and JSON's (the client moves in_iface/out_iface up, see output.c).
 */
enum prim_id {
	P_TAG, P_TAG2, P_CLASS, P_LABEL,
	P_SRC_MAC, P_DST_MAC, P_VLAN, P_IN_VLAN, P_OUT_VLAN, P_IN_CVLAN, P_OUT_CVLAN, P_COS, P_ETYPE,
	P_SRC_AS, P_DST_AS,
	/* BGP attributes (the formatted client puts the LCOMMS pair after the ECOMMS pair) */
	P_STD_COMM, P_EXT_COMM, P_LRG_COMM, P_SRC_STD_COMM, P_SRC_EXT_COMM, P_SRC_LRG_COMM,
	P_AS_PATH, P_SRC_AS_PATH, P_LOCAL_PREF, P_SRC_LOCAL_PREF, P_MED, P_SRC_MED,
	P_SRC_ROA, P_DST_ROA,	/* RPKI: after the BGP attributes (1.7.7's column order) */
	P_PEER_SRC_AS, P_PEER_DST_AS,
	P_PEER_SRC_IP, P_PEER_DST_IP, P_IN_IFACE, P_OUT_IFACE,
	P_MPLS_VPN_RD, P_MPLS_VPN_RD_ORIGIN,
	P_MPLS_PW_ID,
	P_VRF_NAME, P_INGRESS_VRF_NAME, P_EGRESS_VRF_NAME, P_IN_IFACE_NAME, P_OUT_IFACE_NAME,
	P_SRC_HOST, P_SRC_NET, P_DST_HOST, P_DST_NET,
	P_SRC_MASK, P_DST_MASK, P_SRC_PORT, P_DST_PORT,
	P_TCPFLAGS, P_PROTO, P_TOS, P_FLOW_LABEL,
	/* GeoIP v2 (JSON puts them after the ports, see output.c) */
	P_SRC_HOST_COUNTRY, P_DST_HOST_COUNTRY, P_SRC_HOST_POCODE, P_DST_HOST_POCODE,
	P_SRC_HOST_COORDS, P_DST_HOST_COORDS,
	P_SAMPLING_RATE,
	P_SAMPLING_DIRECTION,
	P_POST_NAT_SRC_HOST, P_POST_NAT_DST_HOST, P_POST_NAT_SRC_PORT, P_POST_NAT_DST_PORT,
	P_NAT_EVENT,
	P_FW_EVENT,
	/* master's CSV order (1.7.7 has fwd_status, the stack and the SRv6 list in none) */
	P_FWD_STATUS, P_MPLS_LABEL_TOP, P_MPLS_LABEL_BOTTOM, P_MPLS_STACK_DEPTH, P_MPLS_LABEL_STACK,
	P_SRV6_SEG_IPV6_LIST,
	/* tunnels: 1.7.7's columns after the MPLS ones */
	P_TUNNEL_SRC_MAC, P_TUNNEL_DST_MAC, P_TUNNEL_SRC_HOST, P_TUNNEL_DST_HOST, P_TUNNEL_PROTO,
	P_TUNNEL_TOS, P_TUNNEL_SRC_PORT, P_TUNNEL_DST_PORT, P_VXLAN,
	P_TS_START, P_TS_END, P_TS_ARRIVAL, P_TS_EXPORT,
	P_EXPORT_PROTO_SEQNO, P_EXPORT_PROTO_VERSION, P_EXPORT_PROTO_SYSID,
	P_PATH_DELAY_AVG_USEC, P_PATH_DELAY_MIN_USEC, P_PATH_DELAY_MAX_USEC,
	/* custom primitives (aggregate_primitives): slots a registry names, see prim_custom_load() */
	P_CUSTOM_0,
	P_CUSTOM_LAST = P_CUSTOM_0 + 15,
	/* summarising primitives: rendered through their src_* column */
	P_SUM_HOST, P_SUM_NET, P_SUM_AS, P_SUM_PORT, P_SUM_MAC,
	P_NONE, P_FLOWS,
	P_COUNT
};

/* How a primitive's value is rendered. */
enum prim_fmt {
	PF_NONE,	/* no value of its own (none, flows) */
	PF_UINT,	/* unsigned integer of 1, 2, 4 or 8 bytes */
	PF_HEX,		/* unsigned integer printed in hex, quoted in JSON (etype) */
	PF_MAC,
	PF_IP,		/* struct fr_ip; unset prints 0.0.0.0 */
	PF_PROTO,	/* IP protocol name (number with print_num_protos) */
	PF_TCPFLAGS,	/* decimal, quoted in JSON; value lives outside the key */
	PF_TS,		/* struct fr_ts */
	PF_STR,		/* NUL-terminated text (label) */
	PF_MPLS_STACK,	/* struct fr_mpls_stack: "a_b_c", or an array (mpls_label_stack_encode_as_array) */
	PF_RD,		/* 8-byte route distinguisher, "type:admin:assigned" */
	PF_RD_ORIGIN,	/* FR_RD_ORIGIN_*: "flow", "map", "unknown" ... */
	PF_FWD_STATUS,	/* RFC 7270 forwarding status: number, or text (fwd_status_encode_as_string) */
	PF_RAW,		/* length byte + bytes, printed as hex pairs joined by '-' (custom raw) */
	PF_SRV6_LIST,	/* struct fr_srv6_list: a JSON array of "<index>-<IPv6 address>" */
	PF_COMMS,	/* BGP communities, pmacct text ("65000:1 65000:2"): printed with '_' for ' ' */
	PF_ASPATH,	/* BGP AS path, pmacct text ("65001 65002"): printed with '_' for ' ' */
	PF_COORDS,	/* two doubles (latitude, longitude) as bytes: two columns, "%f" (JSON "%.17g") */
	PF_CLASS,	/* application class text; "" prints "unknown" */
	PF_ROA,		/* RPKI state, one byte: 0 prints "u", else the letter (v, i, V, U) */
	PF_SAMP_DIR,	/* sampling direction: 0 "u" (unknown), 1 "i" (ingress), 2 "e" (egress) */
};

/* Which daemons can fill a primitive. */
enum {
	SRC_PM = 1 << 0,
	SRC_NF = 1 << 1,
	SRC_SF = 1 << 2,
	SRC_ALL = SRC_PM | SRC_NF | SRC_SF,
};

/* Behaviour flags of a primitive. */
enum {
	PRIM_SUM = 1 << 0,	/* sum_*: counts a record for its src and its dst */
	PRIM_NEEDS_NET = 1 << 1,	/* needs networks_file / networks_mask */
	PRIM_NEEDS_AS = 1 << 2,	/* needs networks_file / pmacctd_as */
	PRIM_L4 = 1 << 3,	/* needs the L4 header (fragment handling) */
	PRIM_HIDDEN = 1 << 4,	/* accepted, not listed by -a */
	PRIM_VLEN = 1 << 5,	/* variable length: not in formatted output nor the memory table */
	PRIM_CUSTOM = 1 << 6,	/* custom primitive slot: JSON value always a string, as pmacct */
	PRIM_JSON_ONLY = 1 << 7,	/* printed in JSON only: CSV and formatted leave it out */
};

/* More behaviour flags (struct prim_desc flags2). */
enum {
	PRIM_NO_FORMATTED = 1 << 0,	/* the print plugin refuses it with formatted output (1.7.7) */
	PRIM_LIST_NF = 1 << 1,	/* -a lists it in nfacctd only (1.7.7's flows), though every daemon takes it */
	PRIM_LIST_NO_PM = 1 << 2,	/* -a of pmacctd/uacctd leaves it out, though they take it (1.7.7's in/out_iface) */
};

struct prim_desc {
	const char *name;	/* aggregate keyword */
	const char *group;	/* -a section: L2, L3, L4, BGP, NAT, TUNNEL, MPLS, MISC, TIME */
	const char *descr;	/* -a description */
	uint16_t off;		/* field in struct flow_key */
	uint16_t len;		/* its size; 0 = not a key field */
	enum prim_fmt fmt;
	const char *title;	/* formatted / CSV column name */
	uint8_t width;		/* formatted column width, separator included */
	const char *json;	/* JSON key, SQL column name */
	uint8_t sources;	/* SRC_* */
	uint8_t flags;		/* PRIM_* */
	enum prim_id alias;	/* sum_*: the column it renders as; else itself */
	/*
	 * Formatted values printed as pmacct's "%-<vwidth>s" and vgap spaces
	 * (a longer value pushes the next column); vgap 0: "%-<width>s".
	 */
	uint8_t vwidth, vgap;
	const char *cjson;	/* the pmacct client's JSON key when not `json` (1.7.7 src_comms ...) */
	uint8_t flags2;		/* PRIM_NO_FORMATTED */
};

/*
 * The primitives of one configuration: the built-in rows (constant, shared)
 * and the custom primitives its aggregate_primitives defines (names,
 * decoding data, descriptors of the custom slots).  Created with the
 * configuration (core_cfg.prims) or by the client from what the plugin
 * tells it; read-only once loaded, so threads share it without locks.
 * A NULL registry stands for the built-in rows alone.
 */
struct prim_registry;

/* A registry with the built-in rows and no custom primitive; free with prim_registry_free(). */
struct prim_registry *prim_registry_new(void);

/* Free reg (NULL is a no-op). */
void prim_registry_free(struct prim_registry *reg);

/* The constant rows of every primitive; a custom slot's row here is the undefined one. */
extern const struct prim_desc prim_builtin[P_COUNT];

/* The row of custom slot id (P_CUSTOM_0 <= id <= P_CUSTOM_LAST) in reg (not NULL). */
const struct prim_desc *prim_custom_desc(const struct prim_registry *reg, int id);

/*
 * The row of primitive id (0 <= id < P_COUNT) in reg: a custom slot reg
 * does not define (or any with reg NULL) is hidden, unnamed and has no key
 * bytes.  Valid while reg lives.
 */
static inline const struct prim_desc *prim_desc_of(const struct prim_registry *reg, int id)
{
	if (reg && id >= P_CUSTOM_0 && id <= P_CUSTOM_LAST)
		return prim_custom_desc(reg, id);
	return &prim_builtin[id];
}

/* Custom primitive slots and the key bytes they share (struct flow_key custom[]). */
#define PRIM_CUSTOM_MAX (P_CUSTOM_LAST - P_CUSTOM_0 + 1)

/* Semantics of a custom primitive (pmacct's aggregate_primitives `semantics`). */
enum prim_cust_sem { PCS_UINT = 1, PCS_HEX, PCS_STR, PCS_IP, PCS_MAC, PCS_RAW };

/* What the decoders need to fill a custom slot. */
struct prim_custom {
	uint32_t pen;		/* IPFIX enterprise number, 0 = IANA */
	uint16_t field_type;	/* NetFlow v9 / IPFIX element id */
	uint16_t len;		/* declared length; PRIM_CUSTOM_VLEN for `vlen` */
	uint8_t sem;		/* enum prim_cust_sem */
	uint16_t off;		/* its bytes in struct flow_key */
	uint16_t size;		/* storage size there */
};

#define PRIM_CUSTOM_VLEN 0xffff
/* Storage of a vlen primitive: a string of up to 63 bytes, or raw data of up to 62. */
#define PRIM_CUSTOM_VLEN_SIZE 64

/*
 * Load custom primitive definitions from `path` (lines `name=.. field_type=[PEN:]id
 * len=N|vlen semantics=u_int|hex|ip|mac|str|raw`, '!' and '#' comments) into
 * reg's custom slots, replacing earlier ones.  On error returns -1 with a
 * message naming file and line in why, and reg has no custom primitive.
 */
int prim_custom_load(struct prim_registry *reg, const char *path, char *why, size_t wlen);

/* Forget reg's custom primitives (the client, before it learns a table's). */
void prim_custom_clear(struct prim_registry *reg);

/*
 * Define the next custom slot of reg directly (the client learns them from
 * the plugin).  0, or -1 with the reason in why (reg unchanged).
 */
int prim_custom_define(struct prim_registry *reg, const char *name, const struct prim_custom *c,
    char *why, size_t wlen);

/* Number of reg's custom primitives (0 for NULL) and the i-th one's decoding data (NULL past them). */
int prim_custom_count(const struct prim_registry *reg);
const struct prim_custom *prim_custom_get(const struct prim_registry *reg, int i);


/* A set of primitives (the `aggregate` list of a plugin), a bit per prim_id. */
#define PRIM_WORDS 3
struct prim_set {
	uint64_t w[PRIM_WORDS];
	/*
	 * The custom primitives in the order the aggregate names them (slot
	 * index + 1, 0 ends): their columns print in that order, as pmacct's.
	 */
	uint8_t corder[PRIM_CUSTOM_MAX];
};

_Static_assert(P_COUNT <= PRIM_WORDS * 64, "prim_set too small for the primitives table");

static inline bool prim_has(const struct prim_set *s, enum prim_id id)
{
	return (s->w[id / 64] >> (id % 64)) & 1;
}

static inline void prim_add(struct prim_set *s, enum prim_id id)
{
	if (id >= P_CUSTOM_0 && id <= P_CUSTOM_LAST && !prim_has(s, id))
		for (int i = 0; i < PRIM_CUSTOM_MAX; i++)
			if (!s->corder[i]) {
				s->corder[i] = (uint8_t)(id - P_CUSTOM_0 + 1);
				break;
			}
	s->w[id / 64] |= (uint64_t)1 << (id % 64);
}

static inline bool prim_set_empty(const struct prim_set *s)
{
	for (int i = 0; i < PRIM_WORDS; i++)
		if (s->w[i])
			return false;
	return true;
}

static inline bool prim_set_eq(const struct prim_set *a, const struct prim_set *b)
{
	for (int i = 0; i < PRIM_WORDS; i++)
		if (a->w[i] != b->w[i])
			return false;
	return true;
}

/*
 * A sum_* primitive is used alone, as in pmacct 1.7.7: when s has one, keep
 * the first of sum_mac, sum_host, sum_net, sum_as, sum_port and drop the
 * classic L2-L4 and BGP primitives (tags, labels, timestamps, export_proto_*,
 * MPLS, NAT, sampling and custom primitives stay).  True when s changed:
 * the caller warns.
 */
bool prim_sum_alone(struct prim_set *s);

/* Look a primitive up in reg by its aggregate keyword (case-insensitive); -1 if unknown. */
int prim_lookup(const struct prim_registry *reg, const char *name);

/* Longest word prim_parse_list() reports, with its NUL. */
#define PRIM_WORD_MAX 64

/*
 * Parse a comma/space separated aggregate list of reg's primitives into
 * *out.  On an unknown name returns -1 and copies the offending word
 * (truncated to badlen) into bad when bad is not NULL; *out is unchanged.
 */
int prim_parse_list(const struct prim_registry *reg, const char *list, struct prim_set *out,
    char *bad, size_t badlen);

/*
 * The first primitive an aggregate list names twice (pmacct refuses such a
 * list), or NULL; the name lives as long as reg.  Lists of unknown names
 * give NULL: prim_parse_list() reports them.
 */
const char *prim_list_repeat(const struct prim_registry *reg, const char *list);

/* Render the list back as a comma-separated string of reg's names, in table order. */
void prim_set_str(const struct prim_registry *reg, const struct prim_set *s, char *buf, size_t len);

/*
 * Build the byte mask over struct flow_key that keeps exactly the fields of
 * the primitives in s (sum_* keep their aliased src_* field; custom slots
 * as reg lays them out).
 */
void prim_key_mask(const struct prim_registry *reg, const struct prim_set *s, struct flow_key *mask);

/*
 * For a sum_* primitive: the dst field (offset, size in struct flow_key)
 * whose value is folded into the primitive's src column; 0, 0 otherwise.
 */
void prim_sum_dst(int id, size_t *off, size_t *len);

/*
 * The byte span [*lo, *hi) of struct flow_key a plugin with primitives s (of reg)
 * needs to receive: its fields, plus the dst_* fields its sum_* primitives
 * fold in.  Empty (lo == hi) for `none`.
 */
void prim_key_span(const struct prim_registry *reg, const struct prim_set *s, size_t *lo, size_t *hi);

/*
 * The pieces of struct flow_key a plugin receives, gathered one after the
 * other into a batch element (plugins/plugin.h batch_rec_pack): fields
 * close together travel as one piece (the gap with them); a text field
 * (label, as_path, the communities: NUL-terminated, zero-padded) is its
 * own piece, of which only the string and its NUL travel.
 */
#define PRIM_SEGS_MAX (2 * P_COUNT)
struct key_seg {
	uint16_t off, len;	/* key bytes [off, off + len) */
	uint16_t at;		/* where they travel, from the element's key start */
	bool text;
};
struct key_layout {
	bool single;		/* one piece, not text: [single_off, single_off + bytes) */
	uint32_t single_off;
	uint32_t bytes;		/* the element's key bytes: the pieces' lengths */
	uint16_t n;		/* pieces, in key order */
	struct key_seg seg[PRIM_SEGS_MAX];
};

/*
 * The layout of the fields prim_key_span() covers: those of s's
 * primitives and their sum_* dst fields.  Pieces no further apart than
 * `gap` bytes are joined (text ones never).  n == 0 for `none`.
 */
void prim_key_layout(const struct prim_registry *reg, const struct prim_set *s, size_t gap,
    struct key_layout *out);

/* One piece covering [lo, hi) (plugin types that receive the whole key). */
void prim_key_layout_span(size_t lo, size_t hi, struct key_layout *out);
/* Whether `-a` of the daemon(s) filling sources src (SRC_* bits) lists d. */
bool prim_listed(const struct prim_desc *d, uint8_t src);

/* Print the `-a` list of the built-in primitives for daemon `src` (SRC_PM ...) to stdout. */
void prim_print_list(uint8_t src, const char *banner);

#endif
