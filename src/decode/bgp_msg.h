/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_msg.h: BGP-4 message decoder (RFC 4271 and extensions) and a small encoder for a passive peer. */
#ifndef DECODE_BGP_MSG_H
#define DECODE_BGP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 4271 4.1: message types, header size and the largest message. */
enum bgp_type {
	BGP_OPEN = 1, BGP_UPDATE = 2, BGP_NOTIFICATION = 3, BGP_KEEPALIVE = 4, BGP_ROUTE_REFRESH = 5,
};
#define BGP_HDR_LEN 19
#define BGP_MAX_LEN 4096
#define BGP_EXT_MAX_LEN 65535 /* RFC 8654 */

#define BGP_AFI_IPV4 1
#define BGP_AFI_IPV6 2
#define BGP_SAFI_UNICAST 1
#define BGP_SAFI_VPN 128
#define BGP_AS_TRANS 23456 /* RFC 6793 */

/*
 * What an error asks of the caller, by rising severity (RFC 7606 2).  An
 * UPDATE's result is the worst of its attributes'.
 */
enum bgp_action {
	BGP_ACT_OK = 0,
	BGP_ACT_ATTR_DISCARD,     /* a malformed attribute was dropped; the rest stands */
	BGP_ACT_TREAT_AS_WITHDRAW,/* every NLRI of the UPDATE was reported as a withdrawal */
	BGP_ACT_SESSION_RESET,    /* send a NOTIFICATION with code/subcode and close */
};

/* An error: its action, the NOTIFICATION code/subcode (RFC 4271 6) and a static reason. */
struct bgp_error {
	enum bgp_action action;
	uint8_t code, subcode;
	const char *why;
};

/* An address family pair with one extra byte (send/receive for ADD-PATH, next-hop AFI for RFC 8950). */
struct bgp_afsafi {
	uint16_t afi;
	uint8_t safi;
	uint16_t extra;
};

#define BGP_MAX_CAP_AF 16
/* A decoded OPEN (RFC 4271 4.2) with the capabilities it advertises (RFC 5492). */
struct bgp_open {
	uint8_t version;
	uint16_t my_as;
	uint16_t hold_time;
	uint32_t bgp_id;
	bool has_as4;           /* RFC 6793 capability 65 */
	uint32_t as4;
	bool route_refresh;     /* capability 2 (or the old Cisco 128) */
	bool enhanced_rr;       /* capability 70, RFC 7313 */
	bool ext_msg;           /* capability 6, RFC 8654 */
	bool graceful_restart;  /* capability 64 */
	uint16_t gr_time;
	bool ext_opt_params;    /* RFC 9072 form was used */
	size_t n_mp;            /* capability 1, RFC 4760 */
	struct bgp_afsafi mp[BGP_MAX_CAP_AF];
	size_t n_addpath;       /* capability 69, RFC 7911; extra = 1 receive, 2 send, 3 both */
	struct bgp_afsafi addpath[BGP_MAX_CAP_AF];
	size_t n_enh;           /* capability 5, RFC 8950; extra = next-hop AFI */
	struct bgp_afsafi enh[BGP_MAX_CAP_AF];
	size_t n_unknown;       /* capabilities skipped */
};

/* What the session negotiated, as the UPDATE decoder needs it. */
struct bgp_session {
	bool as4;        /* both sides sent capability 65 */
	bool ext_msg;    /* both sides sent capability 6 */
	uint8_t addpath_rx; /* bits from bgp_af_bit(): path ids precede NLRI of that AFI/SAFI */
};

/* The bit of one of the four AFI/SAFI pairs decoded here (IPv4/IPv6 x unicast/VPN), or 0. */
uint8_t bgp_af_bit(uint16_t afi, uint8_t safi);

/* An address: afi BGP_AFI_IPV4 (4 bytes of a) or BGP_AFI_IPV6 (16 bytes), 0 when absent. */
struct bgp_addr {
	uint16_t afi;
	uint8_t a[16];
};

/* A route distinguisher (RFC 4364 4.2): type 0 (2-byte AS:u32), 1 (IPv4:u16), 2 (4-byte AS:u16). */
struct bgp_rd {
	uint16_t type;
	uint32_t admin;  /* the AS or the IPv4 address (host order) */
	uint32_t assigned;
};

#define BGP_MAX_SEGS 32
#define BGP_MAX_ASNS 256
/* AS_PATH segment types (RFC 4271 4.3, RFC 5065 3). */
enum { BGP_AS_SET = 1, BGP_AS_SEQUENCE = 2, BGP_AS_CONFED_SEQUENCE = 3, BGP_AS_CONFED_SET = 4 };
struct bgp_as_seg {
	uint8_t type;
	uint16_t start, count; /* slice of bgp_as_path.asn */
};
/* An AS path: segments over one ASN array; 'truncated' when it held more than the bounds. */
struct bgp_as_path {
	size_t n_seg, n_asn;
	struct bgp_as_seg seg[BGP_MAX_SEGS];
	uint32_t asn[BGP_MAX_ASNS];
	bool truncated;
};

#define BGP_MAX_OPAQUE 8
/* An attribute kept as it came (unknown optional transitive). 'val' points into the message. */
struct bgp_opaque {
	uint8_t flags, type;
	uint16_t len;
	const uint8_t *val;
};

/*
 * The path attributes of one UPDATE.  Ownership: the communities' and the
 * opaque attributes' pointers point into the message buffer given to
 * bgp_decode_update() and are valid as long as it is; everything else is
 * copied.  Read communities with bgp_comm(), bgp_ext_comm(), bgp_large_comm().
 */
struct bgp_attrs {
	bool has_origin;
	uint8_t origin;              /* 0 IGP, 1 EGP, 2 INCOMPLETE */
	bool has_as_path;
	struct bgp_as_path as_path;  /* AS4_PATH already merged in (RFC 6793 4.2.3) */
	struct bgp_addr next_hop;    /* NEXT_HOP attribute */
	bool has_med, has_local_pref, atomic_aggregate, has_aggregator;
	uint32_t med, local_pref;
	uint32_t aggregator_as;      /* AS4_AGGREGATOR merged in */
	struct bgp_addr aggregator_addr;
	size_t n_comm, n_ext_comm, n_large_comm;
	const uint8_t *comm, *ext_comm, *large_comm;
	struct bgp_addr mp_next_hop, mp_next_hop_ll; /* MP_REACH next hop (global, link-local) */
	bool mp_nh_has_rd;
	struct bgp_rd mp_nh_rd;
	size_t n_opaque;
	struct bgp_opaque opaque[BGP_MAX_OPAQUE];
	uint32_t seen[8];            /* bitmap of attribute types met (duplicate check) */
};

/* Community i (RFC 1997) of a, i < a->n_comm. */
uint32_t bgp_comm(const struct bgp_attrs *a, size_t i);
/* Extended community i (RFC 4360) as a 64-bit value, i < a->n_ext_comm. */
uint64_t bgp_ext_comm(const struct bgp_attrs *a, size_t i);
/* Large community i (RFC 8092): global, local1, local2 into out[3], i < a->n_large_comm. */
void bgp_large_comm(const struct bgp_attrs *a, size_t i, uint32_t out[3]);

#define BGP_MAX_LABELS 4
/* One prefix of an UPDATE, as announced or withdrawn. */
struct bgp_nlri {
	bool withdraw;
	uint16_t afi;
	uint8_t safi;
	uint8_t plen;
	uint8_t addr[16];           /* network order, bytes past plen zeroed */
	bool has_path_id;           /* RFC 7911 */
	uint32_t path_id;
	bool has_rd;                /* SAFI 128 */
	struct bgp_rd rd;
	uint8_t n_labels;
	uint32_t label[BGP_MAX_LABELS]; /* 20-bit label values, outermost first */
};

/* Called once per NLRI; 'a' is the UPDATE's attributes (NULL-free, maybe empty on withdrawals). */
typedef void (*bgp_nlri_fn)(void *arg, const struct bgp_nlri *n, const struct bgp_attrs *a);

/*
 * How many bytes the message at the start of buf needs in all (RFC 4271 4.1).
 * Returns 0 when len < 19 (more header needed), the message length (19..4096,
 * or ..65535 when ext_msg) when the header is valid, or -1 with *err set to a
 * session reset (code 1: bad marker, length or type).  Reads at most 19 bytes.
 */
long bgp_msg_need(const uint8_t *buf, size_t len, bool ext_msg, struct bgp_error *err);

/* A decoded message header plus what its body held. */
struct bgp_msg {
	uint8_t type;
	uint16_t len;
	const uint8_t *body;         /* into the buffer: the len - 19 bytes after the header */
	size_t body_len;
};

/*
 * Decode the header of one complete message of exactly len bytes (a length
 * bgp_msg_need() returned).  Returns true and fills m, or false with *err set
 * (session reset).  The body is not decoded: see the per-type functions.
 */
bool bgp_decode_header(const uint8_t *buf, size_t len, bool ext_msg, struct bgp_msg *m,
    struct bgp_error *err);

/* Decode an OPEN body (RFC 4271 4.2, RFC 5492, RFC 9072). Returns true, or false with *err. */
bool bgp_decode_open(const uint8_t *body, size_t len, struct bgp_open *o, struct bgp_error *err);

/* A decoded NOTIFICATION (RFC 4271 4.5); data points into the body. */
struct bgp_notification {
	uint8_t code, subcode;
	const uint8_t *data;
	size_t data_len;
	char shutdown_msg[256];     /* RFC 8203/9003 text of a Cease 2 or 4 (up to 255 bytes), or "" */
};

/* Decode a NOTIFICATION body. Returns true, or false with *err when shorter than 2 bytes. */
bool bgp_decode_notification(const uint8_t *body, size_t len, struct bgp_notification *n,
    struct bgp_error *err);

/* Decode a ROUTE-REFRESH body (RFC 2918, RFC 7313 subtype in the reserved byte). */
bool bgp_decode_route_refresh(const uint8_t *body, size_t len, struct bgp_afsafi *af,
    struct bgp_error *err);

/*
 * Decode an UPDATE body (RFC 4271 4.3, RFC 4760, RFC 7911, RFC 6793) with the
 * session's options s.  Fills *a (ownership: see struct bgp_attrs), then calls
 * fn once per NLRI (withdrawn routes, MP_UNREACH, MP_REACH, then the IPv4
 * NLRI) — unless the result is a session reset, in which case fn is never
 * called.  Returns the worst action met; *err holds its code/subcode/reason.
 * Under treat-as-withdraw every NLRI is passed with withdraw = true.
 */
enum bgp_action bgp_decode_update(const uint8_t *body, size_t len, const struct bgp_session *s,
    struct bgp_attrs *a, bgp_nlri_fn fn, void *arg, struct bgp_error *err);

/* What the encoder offers in an OPEN. */
struct bgp_open_cfg {
	uint32_t my_as;       /* 4-byte; AS_TRANS goes in the 2-byte field when > 65535 */
	uint16_t hold_time;
	uint32_t bgp_id;
	bool mp_v4, mp_v6, mp_vpn4, mp_vpn6;
	bool route_refresh, as4;
	uint8_t addpath_rx;   /* bgp_af_bit()s: ADD-PATH receive offered for those MP families */
	bool ext_nh;          /* RFC 8950: IPv4 unicast and VPN over an IPv6 next hop */
	bool ext_msg;         /* RFC 8654: extended messages (capability 6) */
};

/*
 * Encode an OPEN with cfg's capabilities into out (cap bytes).  Returns its
 * length, or 0 when cap is too small.
 */
size_t bgp_encode_open(const struct bgp_open_cfg *cfg, uint8_t *out, size_t cap);
/* Encode a KEEPALIVE (19 bytes). Returns 19, or 0 when cap < 19. */
size_t bgp_encode_keepalive(uint8_t *out, size_t cap);
/* Encode a NOTIFICATION with code, subcode and data. Returns its length, or 0 when it does not fit. */
size_t bgp_encode_notification(uint8_t code, uint8_t subcode, const uint8_t *data, size_t dlen,
    uint8_t *out, size_t cap);

#endif
