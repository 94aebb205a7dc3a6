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

/*
 * Whether pkt_decode() knows link type `dlt` (the pcap_datalink() value):
 * 0 NULL, 1 EN10MB, 9 PPP, 12/14/101 RAW, 50 PPP_SERIAL, 104 C_HDLC,
 * 108 LOOP, 113 LINUX_SLL, 228 IPV4, 229 IPV6, 276 LINUX_SLL2.  For the
 * source's start-up check ("unsupported link layer").
 */
bool pkt_dlt_supported(int dlt);

#endif
