/* SPDX-License-Identifier: BSD-3-Clause */
/* synth.c: a small Ethernet/IP/L4 frame built from a record, for BPF filters on NetFlow and sFlow records. */
#include "synth.h"

#include <stdbool.h>
#include <string.h>

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

/* Ethernet II (+ 802.1Q when the record has a VLAN); returns the end. */
static uint8_t *synth_l2(const struct flow_rec *rec, uint8_t *p, uint16_t etype)
{
	memcpy(p, rec->k.dst_mac, 6);
	memcpy(p + 6, rec->k.src_mac, 6);
	p += 12;
	if (rec->k.vlan) {
		p = put16(p, 0x8100);
		p = put16(p, (uint16_t)((rec->k.cos & 7) << 13 | (rec->k.vlan & 0xfff)));
	}
	return put16(p, etype);
}

static uint16_t clamp16(uint64_t v, uint16_t min)
{
	return v < min ? min : v > 0xffff ? 0xffff : (uint16_t)v;
}

/* TCP (20 bytes, flags) or UDP (8 bytes) header with the record's ports. */
static uint8_t *synth_l4(const struct flow_rec *rec, uint8_t *p)
{
	if (rec->k.proto != 6 && rec->k.proto != 17)
		return p;
	p = put16(p, rec->k.src_port);
	p = put16(p, rec->k.dst_port);
	if (rec->k.proto == 17) {
		p = put16(p, 8);
		return put16(p, 0);
	}
	memset(p, 0, 16);
	p[8] = 5 << 4;			/* data offset: 5 words (RFC 9293 3.1) */
	p[9] = rec->tcp_flags;
	return p + 16;
}

static size_t l4_len(uint8_t proto)
{
	return proto == 6 ? 20 : proto == 17 ? 8 : 0;
}

size_t synth_frame(const struct flow_rec *rec, uint8_t buf[SYNTH_MAX], struct pcap_pkthdr *h)
{
	const struct fr_ip *s = &rec->k.src_ip, *d = &rec->k.dst_ip;
	bool v6 = s->af == 6 || d->af == 6;
	uint8_t *p = synth_l2(rec, buf, v6 ? 0x86dd : 0x0800);
	size_t l4 = l4_len(rec->k.proto);

	if (v6) {
		/* RFC 8200 3: version, traffic class, flow label, payload length, next header, hops */
		p[0] = (uint8_t)(0x60 | rec->k.tos >> 4);
		p[1] = (uint8_t)(rec->k.tos << 4);
		p[2] = p[3] = 0;
		put16(p + 4, clamp16(rec->packets ? rec->bytes / rec->packets : 0, (uint16_t)(40 + l4)) - 40);
		p[6] = rec->k.proto;
		p[7] = 64;
		memcpy(p + 8, s->a, 16);
		memcpy(p + 24, d->a, 16);
		p += 40;
	} else {
		/* RFC 791 3.1: IHL 5, no options, no fragmentation */
		memset(p, 0, 20);
		p[0] = 0x45;
		p[1] = rec->k.tos;
		put16(p + 2, clamp16(rec->packets ? rec->bytes / rec->packets : 0, (uint16_t)(20 + l4)));
		p[8] = 64;
		p[9] = rec->k.proto;
		memcpy(p + 12, s->a, 4);
		memcpy(p + 16, d->a, 4);
		p += 20;
	}
	p = synth_l4(rec, p);
	size_t n = (size_t)(p - buf);
	memset(h, 0, sizeof(*h));
	h->ts.tv_sec = (time_t)rec->ts.sec;
	h->ts.tv_usec = (suseconds_t)rec->ts.usec;
	h->caplen = h->len = (bpf_u_int32)n;
	return n;
}
