/* SPDX-License-Identifier: BSD-3-Clause */
/* flow_rec.h: the one record type every source produces and every plugin consumes. */
#ifndef MODEL_FLOW_REC_H
#define MODEL_FLOW_REC_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The longest label (pre_tag_map set_label) a record carries, NUL included. */
#define FR_LABEL_MAX 128

/* MPLS labels of mpls_label_stack (NetFlow/IPFIX IEs 70-79). */
#define FR_MPLS_STACK_MAX 10

/* Interface and VRF names (IE 82, IE 236), NUL included; longer names are cut. */
#define FR_NAME_MAX 32

/* SRv6 segments (srhSegmentIPv6ListSection, IE 505) a record keeps: one length byte's worth. */
#define FR_SRV6_MAX 15

/*
 * An application class (the `class` primitive), NUL included: an nDPI
 * protocol name, or the name NetFlow/IPFIX options gave an application id
 * (IE 96, cut to 31 bytes as pmacct master cuts it).  "" = unclassified.
 */
#define FR_CLASS_MAX 32

/*
 * BGP text primitives (as_path, std_comm, ext_comm, lrg_comm and their src_*
 * twins), NUL included.  A longer value is cut at a whole token and ends
 * with "+" (see bgp enrichment), so the key stays fixed-size.
 */
#define FR_BGP_STR_MAX 256

/* GeoIP v2 text as pmacct keeps it (country code, postal code), NUL included; coordinates: two doubles. */
#define FR_COUNTRY_MAX 4
#define FR_POCODE_MAX 12
#define FR_COORDS_LEN 16

/*
 * Bytes of the key reserved for custom primitives (aggregate_primitives);
 * prim_custom_load() refuses definitions that do not fit.
 */
#define FR_CUSTOM_AREA 256

/*
 * Where a record's mpls_vpn_rd came from (pmacct's mpls_vpn_rd_origin):
 * unknown (none), the flow record (IE 90, or a VRF id with or without an
 * options mapping), a BGP/BMP lookup, or flow_to_rd_map.
 */
enum {
	FR_RD_ORIGIN_UNKNOWN = 0,
	FR_RD_ORIGIN_FLOW,
	FR_RD_ORIGIN_BGP,
	FR_RD_ORIGIN_BMP,
	FR_RD_ORIGIN_MAP,
};

/* sampling_direction (pmacct's "u", "i", "e"): unknown, ingress (IE 61 = 0), egress (IE 61 = 1). */
enum {
	FR_SAMP_DIR_UNKNOWN = 0,
	FR_SAMP_DIR_INGRESS,
	FR_SAMP_DIR_EGRESS,
};

/* RD type 0x1000: a VRF id with no RD known for it, printed "vrfid:<id>" as pmacct. */
#define FR_RD_TYPE_VRFID 0x1000

/* An IPv4 or IPv6 address; af is 0 (unset), 4 or 6.  IPv4 uses a[0..3]. */
struct fr_ip {
	uint8_t af;
	uint8_t pad[3];
	uint8_t a[16];
};

/* Parse an IPv4 or IPv6 address into ip (zeroed first).  0, or -1 when s is neither. */
static inline int fr_ip_parse(const char *s, struct fr_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->a) == 1)
		ip->af = 4;
	else if (inet_pton(AF_INET6, s, ip->a) == 1)
		ip->af = 6;
	else
		return -1;
	return 0;
}

/* An MPLS label stack: n labels (20-bit values, EXP and BoS stripped), top first. */
struct fr_mpls_stack {
	uint8_t n;
	uint8_t pad[3];
	uint32_t label[FR_MPLS_STACK_MAX];
};

/* An SRv6 segment list: n IPv6 addresses, in the order the record lists them. */
struct fr_srv6_list {
	uint8_t n;
	uint8_t pad[7];
	uint8_t seg[FR_SRV6_MAX][16];
};

/* A point in time with microsecond resolution (0 = unset). */
struct fr_ts {
	int64_t sec;
	int64_t usec;
};

/*
 * *d = *s as two 8-byte copies, for a value just written field by field: the
 * compiler would otherwise copy it with one 16-byte load, which the CPU
 * cannot forward from the two pending 8-byte stores and waits for them to
 * reach the cache (a stall seen in nfacctd's per-record profile).
 */
static inline void fr_ts_copy(struct fr_ts *d, const struct fr_ts *s)
{
	int64_t sec = s->sec, usec = s->usec;

	__asm__("" : "+r"(sec), "+r"(usec));	/* no merging into one vector load */
	d->sec = sec;
	d->usec = usec;
}

/*
 * The aggregation key: every primitive a plugin can aggregate on.  A plugin
 * masks this down to its own `aggregate` primitives (fields it did not
 * select are zero), then hashes and compares it byte by byte, so the struct
 * must have no uninitialised padding: records are always built from a
 * zeroed struct.  Fields are grouped so that the common five-tuple is
 * contiguous (see agg.c, which hashes only the span of selected fields).
 */
struct flow_key {
	uint64_t tag;
	uint64_t tag2;
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint16_t vlan;
	uint16_t etype;
	uint8_t cos;
	uint8_t proto;
	uint8_t tos;
	uint8_t src_mask;
	uint8_t dst_mask;
	uint8_t mpls_stack_depth;
	uint16_t pad0;
	struct fr_ip src_ip;
	struct fr_ip dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
	struct fr_ip peer_src_ip;	/* next to the five-tuple: collectors aggregate on both */
	uint32_t src_as;
	uint32_t dst_as;
	uint32_t peer_src_as;
	uint32_t peer_dst_as;
	uint32_t in_iface;
	uint32_t out_iface;
	uint32_t mpls_label_top;
	uint32_t mpls_label_bottom;
	uint32_t sampling_rate;
	uint32_t export_proto_version;
	uint32_t export_proto_sysid;
	uint64_t export_proto_seqno;
	struct fr_ip src_net;
	struct fr_ip dst_net;
	struct fr_ip peer_dst_ip;
	struct fr_ts ts_start;
	struct fr_ts ts_end;
	struct fr_ts ts_arrival;
	struct fr_ts ts_export;
	char label[FR_LABEL_MAX];	/* pre_tag_map set_label; "" = none */
	/*
	 * The cold tail starts here (FR_KEY_COLD).  GeoIP v2 (geoipv2_file) of
	 * the source and destination addresses, written by the lookup
	 * (maps/geoip.h) only when a plugin selects them: ISO country code and
	 * postal code ("" when unknown, pmacct's 4- and 12-byte strings),
	 * coordinates as two doubles (latitude, longitude) kept as bytes so the
	 * key needs no alignment (0 when unknown).  First in the tail, so a
	 * plugin that selects them with the five-tuple has a short key span.
	 */
	char src_host_country[FR_COUNTRY_MAX];
	char dst_host_country[FR_COUNTRY_MAX];
	char src_host_pocode[FR_POCODE_MAX];
	char dst_host_pocode[FR_POCODE_MAX];
	uint8_t src_host_coords[FR_COORDS_LEN];
	uint8_t dst_host_coords[FR_COORDS_LEN];
	/*
	 * Rarely selected NetFlow/IPFIX primitives, after every hot field: a
	 * plugin that does not select them neither hashes nor carries them
	 * (its key span, prim_key_span(), ends before).
	 */
	uint8_t fwd_status;		/* IE 89 */
	uint8_t nat_event;		/* IE 230 */
	uint16_t post_nat_src_port;	/* IE 227 */
	uint16_t post_nat_dst_port;	/* IE 228 */
	uint8_t mpls_vpn_rd_origin;	/* FR_RD_ORIGIN_*: where mpls_vpn_rd came from */
	uint8_t pad1;
	uint16_t in_vlan;		/* IE 58, else 243 */
	uint16_t out_vlan;		/* IE 59, else 254 */
	uint16_t in_cvlan;		/* IE 245 */
	uint16_t out_cvlan;		/* IE 255 */
	uint32_t flow_label;		/* IE 31 */
	uint32_t path_delay_avg_usec;	/* IE 600 (or sum 603 / packets), Huawei 2011.521 / 527 */
	uint32_t path_delay_min_usec;	/* IE 601, Huawei 2011.523 */
	uint32_t path_delay_max_usec;	/* IE 602, Huawei 2011.525 */
	struct fr_ip post_nat_src_ip;	/* IE 225 / 281 */
	struct fr_ip post_nat_dst_ip;	/* IE 226 / 282 */
	uint8_t mpls_vpn_rd[8];		/* IE 90 / options / flow_to_rd_map: RFC 4364 4.2, wire order */
	struct fr_mpls_stack mpls_label_stack;
	char in_iface_name[FR_NAME_MAX];	/* in_iface resolved by options (IE 82) */
	char out_iface_name[FR_NAME_MAX];
	char vrf_name[FR_NAME_MAX];		/* ingress VRF name, else egress (IE 236) */
	char ingress_vrf_name[FR_NAME_MAX];	/* IE 234 resolved by options */
	char egress_vrf_name[FR_NAME_MAX];	/* IE 235 resolved by options */
	uint32_t mpls_pw_id;		/* IE 249 pseudoWireId; sFlow extended_mpls_vc vll_vc_id */
	uint8_t fw_event;		/* IE 233 firewallEvent */
	uint8_t sampling_direction;	/* FR_SAMP_DIR_*, from IE 61 */
	uint16_t pad5;
	uint8_t custom[FR_CUSTOM_AREA];	/* custom primitives, laid out by prim_custom_load() */
	uint8_t pad2[4];		/* keeps the struct free of trailing padding */
	struct fr_srv6_list srv6_seg_ipv6_list;	/* IE 505 (Huawei 2011.505); rarely selected */
	char class_name[FR_CLASS_MAX];	/* class: nDPI (pmacctd), IE 95 + options IE 96 (nfacctd) */
	/*
	 * The first tunnel of a packet (pmacctd, sFlow sampled headers): the
	 * inner headers (pmacct's tunnel_* primitives), the VXLAN VNI.
	 * Written only when a plugin aggregates one (decode/packet.h pkt_tun).
	 */
	uint8_t tunnel_src_mac[6];
	uint8_t tunnel_dst_mac[6];
	uint16_t tunnel_src_port;
	uint16_t tunnel_dst_port;
	uint8_t tunnel_proto;
	uint8_t tunnel_tos;
	uint16_t pad3;
	uint32_t vxlan;			/* VXLAN Network Identifier (RFC 7348 5), 24 bits */
	struct fr_ip tunnel_src_ip;
	struct fr_ip tunnel_dst_ip;
	/* RPKI validation of the source / destination route (maps/roa.h enum roa_state, 0 = "u") */
	uint8_t src_roa;
	uint8_t dst_roa;
	uint8_t pad4[6];		/* keeps the key a multiple of 8 bytes */
	/*
	 * BGP attributes of the destination (and, src_*, of the source) prefix,
	 * written only by the BGP enrichment (pipeline/bgp_enrich.c) after the
	 * decoders: decoders neither write nor clear this block (FR_KEY_BGP),
	 * so in a decoded record it is undefined until the enrichment writes
	 * every field of it any plugin selects (zero when unresolved).
	 * Text is pmacct's: "65001 65002", "65000:1 65000:2", "RT:65000:1",
	 * "65000:1:2"; "" when absent.
	 */
	uint32_t local_pref;
	uint32_t med;
	uint32_t src_local_pref;
	uint32_t src_med;
	char as_path[FR_BGP_STR_MAX];
	char std_comm[FR_BGP_STR_MAX];
	char ext_comm[FR_BGP_STR_MAX];
	char lrg_comm[FR_BGP_STR_MAX];
	char src_as_path[FR_BGP_STR_MAX];
	char src_std_comm[FR_BGP_STR_MAX];
	char src_ext_comm[FR_BGP_STR_MAX];
	char src_lrg_comm[FR_BGP_STR_MAX];
};

/* The key is compared bytewise: the 1.7.9 fields sit without padding between them. */
_Static_assert(offsetof(struct flow_key, src_host_country) == offsetof(struct flow_key, label) +
    FR_LABEL_MAX && offsetof(struct flow_key, fwd_status) == offsetof(struct flow_key,
    src_host_country) + 2 * (FR_COUNTRY_MAX + FR_POCODE_MAX + FR_COORDS_LEN) &&
    offsetof(struct flow_key, in_vlan) == offsetof(struct flow_key, pad1) + 1 &&
    offsetof(struct flow_key, flow_label) == offsetof(struct flow_key, in_vlan) + 8 &&
    offsetof(struct flow_key, post_nat_src_ip) == offsetof(struct flow_key, flow_label) + 16 &&
    offsetof(struct flow_key, custom) == offsetof(struct flow_key, mpls_pw_id) + 8 &&
    offsetof(struct flow_key, srv6_seg_ipv6_list) == offsetof(struct flow_key, pad2) + 4 &&
    offsetof(struct flow_key, class_name) == offsetof(struct flow_key, srv6_seg_ipv6_list) +
    sizeof(struct fr_srv6_list) && sizeof(struct fr_srv6_list) == 8 + 16 * FR_SRV6_MAX &&
    offsetof(struct flow_key, tunnel_src_mac) == offsetof(struct flow_key, class_name) + FR_CLASS_MAX &&
    offsetof(struct flow_key, vxlan) == offsetof(struct flow_key, tunnel_src_mac) + 20 &&
    offsetof(struct flow_key, src_roa) == offsetof(struct flow_key, tunnel_dst_ip) +
    sizeof(struct fr_ip) &&
    offsetof(struct flow_key, local_pref) == offsetof(struct flow_key, pad4) + 6 &&
    sizeof(struct flow_key) == offsetof(struct flow_key, src_lrg_comm) + FR_BGP_STR_MAX,
    "struct flow_key: padding around the 1.7.9 fields");

/*
 * Where the key's cold tail starts: the GeoIP fields, the rarely exported
 * NetFlow/IPFIX primitives and the custom area, most of the key's bytes.
 */
#define FR_KEY_COLD offsetof(struct flow_key, src_host_country)

/*
 * Where the BGP block starts: decoders clear [FR_KEY_COLD, FR_KEY_BGP) at
 * most; the BGP enrichment owns [FR_KEY_BGP, end).
 */
#define FR_KEY_BGP offsetof(struct flow_key, local_pref)

/* The tunnel block of the key: [FR_KEY_TUN, FR_KEY_TUN + FR_KEY_TUN_LEN). */
#define FR_KEY_TUN offsetof(struct flow_key, tunnel_src_mac)
#define FR_KEY_TUN_LEN (offsetof(struct flow_key, tunnel_dst_ip) + sizeof(struct fr_ip) - FR_KEY_TUN)


/* Flags a decoder sets on a record (not part of the key). */
enum {
	FR_F_FRAG = 1 << 0,	/* IP fragment (first or later) */
	FR_F_LATER_FRAG = 1 << 1,	/* non-first fragment: no L4 header */
	FR_F_NEW_FLOW = 1 << 2,	/* first packet of a flow (for `flows`) */
	FR_F_L4_OK = 1 << 3,	/* L4 header was present and parsed */
	FR_F_DIR = 1 << 4,	/* direction holds the record's direction */
};

/*
 * One packet, flow record or sample: the key plus counters and the
 * observation time used for time-bins (print_history, sql_history).
 */
struct flow_rec {
	struct flow_key k;
	uint64_t bytes;
	uint64_t packets;
	uint64_t flows;
	struct fr_ts ts;	/* observation time (pcap timestamp for pmacctd) */
	uint32_t frag_id;	/* IPv4/IPv6 fragment identification */
	uint8_t tcp_flags;	/* ORed over the aggregate, not a key */
	uint8_t flags;		/* FR_F_* */
	uint16_t l3_off;	/* offset of the IP header in the frame */
	/*
	 * What pre_tag_map's `direction` compares (pmacct 1.7.7), with FR_F_DIR:
	 * pmacctd/uacctd 1 in, 2 out (pcap_direction, pcap_interfaces_map), 0
	 * without; NetFlow v9/IPFIX IE 61 flowDirection, 0 when absent; sFlow 0
	 * when the data source is the input port, 1 the output port. Without
	 * FR_F_DIR (NetFlow v5, sFlow of neither port) a record has none.
	 */
	uint8_t direction;
};

/*
 * Zero all of rec but the key's cold tail: for a decoder whose records
 * never carry cold fields, once the tail was zeroed.
 */
static inline void fr_clear_hot(struct flow_rec *rec)
{
	memset(&rec->k, 0, FR_KEY_COLD);
	memset((uint8_t *)rec + sizeof(rec->k), 0, sizeof(*rec) - sizeof(rec->k));
}

/*
 * Zero a record but for its key's BGP block (most of its bytes), which the
 * BGP enrichment defines: what decoders do to start a record.
 */
static inline void fr_rec_clear(struct flow_rec *r)
{
	memset(r, 0, FR_KEY_BGP);
	memset((uint8_t *)r + sizeof(r->k), 0, sizeof(*r) - sizeof(r->k));
}

/* Copy a record but for its key's BGP block. */
static inline void fr_rec_copy(struct flow_rec *dst, const struct flow_rec *src)
{
	memcpy(dst, src, FR_KEY_BGP);
	memcpy((uint8_t *)dst + sizeof(dst->k), (const uint8_t *)src + sizeof(src->k),
	    sizeof(*dst) - sizeof(dst->k));
}

#endif
