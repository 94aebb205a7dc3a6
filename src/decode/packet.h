/* SPDX-License-Identifier: BSD-3-Clause */
/* packet.h: decode one captured frame (link layer to L4) into a flow_rec. */
#ifndef DECODE_PACKET_H
#define DECODE_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

/* Why a frame was not turned into a record; counted per reason. */
enum pkt_drop {
	PKT_DROP_NONE = 0,
	PKT_DROP_TRUNC_L2,	/* frame too short for its link-layer header */
	PKT_DROP_LINKTYPE,	/* link type not supported */
	PKT_DROP_NON_IP,	/* not IPv4/IPv6 (ARP, LLDP, ...): not accounted, as pmacct */
	PKT_DROP_TRUNC_L3,	/* IP header cut short */
	PKT_DROP_BAD_IP,	/* bad version, header length, total length */
	PKT_DROP_TUNNEL,	/* tunnel_0 GTP payload with no IP packet in it (as pmacct) */
	PKT_DROP_COUNT
};

extern const char *const pkt_drop_name[PKT_DROP_COUNT];

/* Decoder counters, owned by the caller (no globals). */
struct pkt_stats {
	uint64_t decoded;
	uint64_t drops[PKT_DROP_COUNT];
};

/*
 * Decode a frame of pcap link type `dlt` (DLT_EN10MB, DLT_LINUX_SLL,
 * DLT_LINUX_SLL2, DLT_RAW, DLT_NULL, DLT_LOOP, DLT_PPP, ...), `caplen`
 * captured bytes of a `wirelen`-byte frame, into *rec (which the function
 * zeroes first).  Fills L2 (MACs, VLAN, CoS, etype, MPLS labels), L3
 * (addresses, proto, tos, bytes = IP total length as pmacct counts them)
 * and L4 (ports, TCP flags) where present.  packets = 1; ts is left to
 * the caller.  Returns PKT_DROP_NONE and counts st->decoded, or the drop
 * reason (also counted in st->drops).  Never reads past caplen.
 */
enum pkt_drop pkt_decode(int dlt, const uint8_t *frame, size_t caplen,
    size_t wirelen, struct flow_rec *rec, struct pkt_stats *st);

/*
 * pkt_decode() for a caller that keeps the key's cold tail (FR_KEY_COLD
 * onwards) zeroed itself: only the rest is cleared (no packet fills it).
 */
enum pkt_drop pkt_decode_hot(int dlt, const uint8_t *frame, size_t caplen,
    size_t wirelen, struct flow_rec *rec, struct pkt_stats *st);

/* Tunnel protocols of tunnel_0 (struct pkt_tun). */
enum pkt_tun_proto {
	PKT_TUN_GTP = 1,	/* GTP-U over UDP to a port (3GPP TS 29.281), as pmacct */
	PKT_TUN_VXLAN,		/* VXLAN over UDP to a port (RFC 7348) */
	PKT_TUN_GRE,		/* GRE, IP protocol 47 (RFC 2784, RFC 2890) */
	PKT_TUN_IPIP,		/* IPv4 / IPv6 in IPv4 / IPv6, IP protocols 4 and 41 */
};

/* tunnel_0 entries and nested tunnels looked into, at most (pmacct: 4 layers). */
#define PKT_TUN_MAX 4

/*
 * What a decoder does with tunnels, built by its caller from the
 * configuration.  prims: fill the key's tunnel block (tunnel_* primitives,
 * vxlan) from the packet's first tunnel (VXLAN to UDP port 4789 and IPv4
 * in IPv4/IPv6 as pmacct; IPv6 in IP and GRE, ours); the outer headers
 * stay the flow.  n entries of tunnel_0: a packet that matches one is
 * accounted on its inner packet instead (addresses, protocol, ToS, ports,
 * bytes; MACs and VLAN stay the outer ones but for VXLAN and GRE carrying
 * Ethernet), again inside it, PKT_TUN_MAX tunnels deep at most.
 */
struct pkt_tun {
	bool prims;
	uint8_t n;
	struct {
		uint8_t proto;	/* enum pkt_tun_proto */
		uint16_t port;	/* GTP, VXLAN: the UDP destination port */
	} e[PKT_TUN_MAX];
};

/*
 * pkt_decode_hot() that also looks into tunnels as `tun` says (NULL: as
 * pkt_decode_hot()).  With tun->prims it clears the key's tunnel block
 * first (FR_KEY_TUN), so a caller keeping the cold tail zeroed still may.
 */
enum pkt_drop pkt_decode_tun(int dlt, const uint8_t *frame, size_t caplen,
    size_t wirelen, const struct pkt_tun *tun, struct flow_rec *rec, struct pkt_stats *st);

/* pkt_decode() with tunnels as `tun` says (NULL: exactly pkt_decode()). */
enum pkt_drop pkt_decode_full(int dlt, const uint8_t *frame, size_t caplen,
    size_t wirelen, const struct pkt_tun *tun, struct flow_rec *rec, struct pkt_stats *st);

/*
 * Whether pkt_decode() knows link type `dlt` (the pcap_datalink() value):
 * 0 NULL, 1 EN10MB, 9 PPP, 12/14/101 RAW, 50 PPP_SERIAL, 104 C_HDLC,
 * 108 LOOP, 113 LINUX_SLL, 228 IPV4, 229 IPV6, 276 LINUX_SLL2.  For the
 * source's start-up check ("unsupported link layer").
 */
bool pkt_dlt_supported(int dlt);

#endif
