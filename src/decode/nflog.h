/* SPDX-License-Identifier: BSD-3-Clause */
/* nflog.h: NFLOG netlink messages (nfnetlink_log) to packets, and the frame uacctd accounts. */
#ifndef DECODE_NFLOG_H
#define DECODE_NFLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One logged packet, pointing into the netlink buffer it was parsed from. */
struct nflog_pkt {
	uint8_t family;			/* nfgen_family: AF_INET or AF_INET6 */
	uint16_t group;			/* NFLOG group (res_id) */
	const uint8_t *payload;		/* the L3 packet as copied (NFULA_PAYLOAD) */
	uint32_t paylen;		/* bytes copied (at most the copy range, snaplen) */
	const uint8_t *hw;		/* link header (NFULA_HWHEADER), NULL when none */
	uint16_t hwlen;			/* its length (NFULA_HWLEN, bounded by the attribute) */
	uint16_t hwtype;		/* ARPHRD_* (NFULA_HWTYPE), 0 when absent */
	uint32_t indev, outdev;		/* ifindexes, 0 when absent */
	uint32_t physindev, physoutdev;	/* bridge ports, 0 when absent */
	bool has_ts;			/* NFULA_TIMESTAMP present */
	int64_t ts_sec, ts_usec;
};

/* Why a netlink message was not a packet uacctd accounts (counted, then skipped). */
enum nflog_bad {
	NFLOG_BAD_TRUNC,	/* nlmsghdr or its length runs past the bytes received: rest dropped */
	NFLOG_BAD_ATTR,		/* an attribute shorter than its header, past the message, or too short */
	NFLOG_BAD_NOPAYLOAD,	/* a packet message without NFULA_PAYLOAD */
	NFLOG_BAD_FAMILY,	/* not IPv4 or IPv6 (bridge, ARP ...), as 1.7.7 */
	NFLOG_BAD_OVERSIZE,	/* longer than the receive buffer (cut by the kernel: MSG_TRUNC) */
	NFLOG_BAD_COUNT
};

extern const char *const nflog_bad_name[NFLOG_BAD_COUNT];

struct nflog_stats {
	uint64_t messages;		/* netlink messages seen */
	uint64_t packets;		/* packets handed on */
	uint64_t control;		/* acks, errors, other types: not packets, skipped */
	uint64_t bad[NFLOG_BAD_COUNT];
};

/* Called for each well-formed packet message, in buffer order. */
typedef void (*nflog_pkt_fn)(void *arg, const struct nflog_pkt *p);

/*
 * Walk the netlink messages in buf[0..len) (one recv() of an NFLOG socket)
 * and call fn for each packet message; everything else is counted in st and
 * skipped.  Reads no byte outside buf; buf needs no alignment.
 */
void nflog_parse(const uint8_t *buf, size_t len, nflog_pkt_fn fn, void *arg,
    struct nflog_stats *st);

/* Bytes of a frame built by nflog_frame(), at most: link header and snaplen. */
#define NFLOG_FRAME_HW_MAX 64

/*
 * The Ethernet frame uacctd accounts for p, as pmacct 1.7.7 (L2 built in)
 * builds it: the packet's link header when it has one of 14 to
 * NFLOG_FRAME_HW_MAX bytes (Ethernet, loopback, 802.1Q), else 14 zero bytes
 * with the EtherType of p's family; then the payload, at most snaplen bytes.
 * out must hold NFLOG_FRAME_HW_MAX + snaplen bytes.  Returns the captured
 * length; *wirelen gets the length with the whole payload.
 */
size_t nflog_frame(const struct nflog_pkt *p, uint32_t snaplen, uint8_t *out, size_t *wirelen);

#endif
