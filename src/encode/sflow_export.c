/* SPDX-License-Identifier: BSD-3-Clause */
/* sflow_export.c: sFlow v5 export encoder (sflow.org sFlow Version 5, July 2004). */
#include "sflow_export.h"

#include <string.h>

#define SFX_HDR_MAX 128

void sfx_init(struct sfx *x, const struct sfx_cfg *cfg, int64_t boot_ms, sfx_send_fn send,
    void *arg)
{
	memset(x, 0, sizeof(*x));
	x->cfg = *cfg;
	x->boot_ms = boot_ms;
	x->send = send;
	x->arg = arg;
}

/* sample_datagram_v5 header; the sample count is written at flush. */
static void sfx_open(struct sfx *x)
{
	x->w = wr_make(x->buf, sizeof(x->buf));
	wr_u32(&x->w, 5);
	if (x->cfg.agent.af == 6) {
		wr_u32(&x->w, 2);
		wr_bytes(&x->w, x->cfg.agent.a, 16);
	} else {
		wr_u32(&x->w, 1);
		wr_bytes(&x->w, x->cfg.agent.a, 4);
	}
	wr_u32(&x->w, x->cfg.sub_agent_id);
	wr_u32(&x->w, 0);	/* sequence number, at flush */
	wr_u32(&x->w, 0);	/* uptime, at flush */
	x->nsamples_off = x->w.len;
	wr_u32(&x->w, 0);
	x->nsamples = 0;
}

void sfx_flush(struct sfx *x)
{
	if (!x->nsamples || x->w.bad)
		return;
	size_t seq_off = x->nsamples_off - 8;
	wr_put32(&x->w, seq_off, ++x->dgram_seq);
	wr_put32(&x->w, seq_off + 4, (uint32_t)(x->now_ms > x->boot_ms ? x->now_ms - x->boot_ms : 0));
	wr_put32(&x->w, x->nsamples_off, x->nsamples);
	x->send(x->arg, x->buf, x->w.len);
	x->datagrams++;
	x->nsamples = 0;
}

/* Make room for n bytes: flush a datagram that cannot take them, open one if needed. */
static void sfx_room(struct sfx *x, size_t n, int64_t now_ms)
{
	if (x->nsamples && x->w.cap - x->w.len < n)
		sfx_flush(x);
	if (!x->nsamples)
		sfx_open(x);
	if (now_ms > x->now_ms)
		x->now_ms = now_ms;
}

void sfx_add_sample(struct sfx *x, const struct sfx_sample *s, int64_t now_ms)
{
	uint32_t hl = s->hdr_len > SFX_HDR_MAX ? SFX_HDR_MAX : s->hdr_len;
	uint32_t hpad = (hl + 3) & ~3u;
	uint32_t rec_len = 16 + hpad;		/* sampled_header body */
	uint32_t body = 32 + 8 + rec_len;	/* flow_sample body */

	sfx_room(x, 8 + body, now_ms);
	wr_u32(&x->w, 1);			/* enterprise 0, format 1: flow_sample */
	wr_u32(&x->w, body);
	wr_u32(&x->w, ++x->flow_seq);
	wr_u32(&x->w, x->cfg.source_index);	/* source type 0 (ifIndex) */
	wr_u32(&x->w, s->rate);
	wr_u32(&x->w, s->pool);
	wr_u32(&x->w, 0);			/* drops */
	wr_u32(&x->w, s->input);
	wr_u32(&x->w, s->output);
	wr_u32(&x->w, 1);			/* one flow record */
	wr_u32(&x->w, 1);			/* enterprise 0, format 1: sampled_header */
	wr_u32(&x->w, rec_len);
	wr_u32(&x->w, s->header_protocol);
	wr_u32(&x->w, s->frame_len);
	wr_u32(&x->w, 0);			/* stripped */
	wr_u32(&x->w, hl);
	wr_bytes(&x->w, s->hdr, hl);
	wr_zero(&x->w, hpad - hl);
	x->nsamples++;
	x->samples++;
}

void sfx_add_counters(struct sfx *x, const struct sfx_counters *c, int64_t now_ms)
{
	sfx_room(x, 8 + 12 + 8 + 88, now_ms);
	wr_u32(&x->w, 2);			/* enterprise 0, format 2: counters_sample */
	wr_u32(&x->w, 12 + 8 + 88);
	wr_u32(&x->w, ++x->counter_seq);
	wr_u32(&x->w, c->ifindex);
	wr_u32(&x->w, 1);			/* one counter record */
	wr_u32(&x->w, 1);			/* enterprise 0, format 1: if_counters */
	wr_u32(&x->w, 88);
	wr_u32(&x->w, c->ifindex);
	wr_u32(&x->w, 6);			/* ifType ethernetCsmacd */
	wr_u64(&x->w, c->speed);
	wr_u32(&x->w, 1);			/* ifDirection full-duplex */
	wr_u32(&x->w, 3);			/* ifStatus: admin and oper up */
	wr_u64(&x->w, c->in_octets);
	wr_u32(&x->w, c->in_pkts);		/* ifInUcastPkts */
	wr_zero(&x->w, 4 * 5);			/* multicast, broadcast, discards, errors, unknown */
	wr_u64(&x->w, c->out_octets);
	wr_u32(&x->w, c->out_pkts);
	wr_zero(&x->w, 4 * 4);			/* multicast, broadcast, discards, errors */
	wr_u32(&x->w, 0);			/* ifPromiscuousMode */
	x->nsamples++;
}
