/* SPDX-License-Identifier: BSD-3-Clause */
/* nflog.c: NFLOG netlink messages (nfnetlink_log) to packets, and the frame uacctd accounts. */
#include "nflog.h"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>

const char *const nflog_bad_name[NFLOG_BAD_COUNT] = {
	[NFLOG_BAD_TRUNC] = "truncated", [NFLOG_BAD_ATTR] = "bad_attribute",
	[NFLOG_BAD_NOPAYLOAD] = "no_payload", [NFLOG_BAD_FAMILY] = "not_ip",
	[NFLOG_BAD_OVERSIZE] = "oversized",
};

#define NLHDR_LEN	16u	/* struct nlmsghdr */
#define NFGEN_LEN	4u	/* struct nfgenmsg */
#define ALIGN4(n)	(((n) + 3u) & ~(size_t)3u)
#define ETH_LEN		14u

/* Big-endian reads (attribute values are in network order; the buffer may be unaligned). */
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* Host-order reads of the netlink header fields. */
static uint32_t h32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t h16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* Store one attribute's value in p; false when it is shorter than its type needs. */
static bool take_attr(struct nflog_pkt *p, unsigned type, const uint8_t *v, size_t n,
    uint16_t *hwlen_attr)
{
	switch (type) {
	case NFULA_TIMESTAMP:
		if (n < 16)
			return false;
		p->has_ts = true;
		p->ts_sec = (int64_t)be64(v);
		p->ts_usec = (int64_t)be64(v + 8);
		return true;
	case NFULA_IFINDEX_INDEV:
	case NFULA_IFINDEX_OUTDEV:
	case NFULA_IFINDEX_PHYSINDEV:
	case NFULA_IFINDEX_PHYSOUTDEV:
		if (n < 4)
			return false;
		*(type == NFULA_IFINDEX_INDEV ? &p->indev : type == NFULA_IFINDEX_OUTDEV ? &p->outdev :
		    type == NFULA_IFINDEX_PHYSINDEV ? &p->physindev : &p->physoutdev) = be32(v);
		return true;
	case NFULA_PAYLOAD:
		p->payload = v;
		p->paylen = (uint32_t)n;
		return true;
	case NFULA_HWTYPE:
	case NFULA_HWLEN:
		if (n < 2)
			return false;
		if (type == NFULA_HWTYPE)
			p->hwtype = be16(v);
		else
			*hwlen_attr = be16(v);
		return true;
	case NFULA_HWHEADER:
		p->hw = v;
		p->hwlen = n > UINT16_MAX ? UINT16_MAX : (uint16_t)n;
		return true;
	default:
		return true;	/* mark, prefix, uid, conntrack ...: not used */
	}
}

/* One packet message's body (after the nlmsghdr): 0, or the reason it is skipped. */
static int parse_packet(const uint8_t *b, size_t n, struct nflog_pkt *p)
{
	uint16_t hwlen_attr = 0;
	size_t off = NFGEN_LEN;

	if (n < NFGEN_LEN)
		return NFLOG_BAD_TRUNC + 1;
	memset(p, 0, sizeof(*p));
	p->family = b[0];
	p->group = be16(b + 2);
	while (off < n) {
		if (n - off < 4)
			return NFLOG_BAD_ATTR + 1;
		uint16_t alen = h16(b + off), type = h16(b + off + 2) & NLA_TYPE_MASK;
		if (alen < 4 || alen > n - off)
			return NFLOG_BAD_ATTR + 1;
		if (!take_attr(p, type, b + off + 4, alen - 4u, &hwlen_attr))
			return NFLOG_BAD_ATTR + 1;
		off += ALIGN4(alen);
	}
	if (!p->payload)
		return NFLOG_BAD_NOPAYLOAD + 1;
	/* NFULA_HWLEN is the header's length; never trust it past the NFULA_HWHEADER bytes */
	if (p->hw && hwlen_attr && hwlen_attr < p->hwlen)
		p->hwlen = hwlen_attr;
	if (p->hw && !hwlen_attr)
		p->hw = NULL;	/* 1.7.7 takes the length from NFULA_HWLEN alone */
	if (!p->hw)
		p->hwlen = 0;
	if (p->family != AF_INET && p->family != AF_INET6)
		return NFLOG_BAD_FAMILY + 1;
	return 0;
}

void nflog_parse(const uint8_t *buf, size_t len, nflog_pkt_fn fn, void *arg,
    struct nflog_stats *st)
{
	size_t off = 0;

	while (off < len) {
		struct nflog_pkt p;
		if (len - off < NLHDR_LEN) {
			st->messages++;
			st->bad[NFLOG_BAD_TRUNC]++;
			return;
		}
		uint32_t mlen = h32(buf + off);
		uint16_t type = h16(buf + off + 4);
		st->messages++;
		if (mlen < NLHDR_LEN || mlen > len - off) {
			st->bad[NFLOG_BAD_TRUNC]++;
			return;	/* the next message cannot be found */
		}
		if (type == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) {
			int why = parse_packet(buf + off + NLHDR_LEN, mlen - NLHDR_LEN, &p);
			if (why) {
				st->bad[why - 1]++;
			} else {
				st->packets++;
				fn(arg, &p);
			}
		} else {
			st->control++;	/* NLMSG_ERROR (acks), NLMSG_DONE, config replies */
		}
		off += ALIGN4(mlen);
	}
}

size_t nflog_frame(const struct nflog_pkt *p, uint32_t snaplen, uint8_t *out, size_t *wirelen)
{
	size_t hl, cap = p->paylen < snaplen ? p->paylen : snaplen;

	if (p->hw && p->hwlen >= ETH_LEN && p->hwlen <= NFLOG_FRAME_HW_MAX) {
		hl = p->hwlen;
		memcpy(out, p->hw, hl);
	} else {
		/* no link header (output hook, tunnels, ppp): zero MACs, the family's EtherType */
		hl = ETH_LEN;
		memset(out, 0, ETH_LEN);
		out[12] = p->family == AF_INET6 ? 0x86 : 0x08;
		out[13] = p->family == AF_INET6 ? 0xdd : 0x00;
	}
	memcpy(out + hl, p->payload, cap);
	*wirelen = hl + p->paylen;
	return hl + cap;
}
