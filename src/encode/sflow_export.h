/* SPDX-License-Identifier: BSD-3-Clause */
/* sflow_export.h: sFlow v5 export encoder: packet samples and interface counters in, datagrams out. */
#ifndef ENCODE_SFLOW_EXPORT_H
#define ENCODE_SFLOW_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/wr.h"
#include "model/flow_rec.h"

#define SFX_MTU 1400

/* sFlow v5 header_protocol values (sFlow v5 spec, sampled_header). */
enum { SFX_HP_ETHERNET = 1, SFX_HP_IPV4 = 11, SFX_HP_IPV6 = 12 };

/* One packet sample (flow_sample with a sampled_header record). */
struct sfx_sample {
	uint32_t rate;			/* 1-in-N */
	uint32_t pool;			/* packets that could have been sampled, total */
	uint32_t input, output;		/* ifindexes */
	uint32_t header_protocol;	/* SFX_HP_* */
	uint32_t frame_len;		/* original length on the wire */
	const uint8_t *hdr;		/* the first bytes of the frame */
	uint32_t hdr_len;
};

/* Generic interface counters (counters_sample, if_counters). */
struct sfx_counters {
	uint32_t ifindex;
	uint64_t speed;
	uint64_t in_octets;
	uint32_t in_pkts;
	uint64_t out_octets;
	uint32_t out_pkts;
};

struct sfx_cfg {
	struct fr_ip agent;		/* agent address (4 or 6) */
	uint32_t sub_agent_id;
	uint32_t source_index;		/* data source ifindex of samples */
};

typedef void (*sfx_send_fn)(void *arg, const uint8_t *buf, size_t len);

struct sfx {
	struct sfx_cfg cfg;
	sfx_send_fn send;
	void *arg;
	int64_t boot_ms;
	int64_t now_ms;
	uint8_t buf[SFX_MTU];
	struct wr w;
	uint32_t nsamples;
	size_t nsamples_off;
	uint32_t dgram_seq, flow_seq, counter_seq;
	uint64_t samples, datagrams;
};

void sfx_init(struct sfx *x, const struct sfx_cfg *cfg, int64_t boot_ms, sfx_send_fn send,
    void *arg);

/* Add a packet sample at time now_ms (header bytes beyond 128 are cut). */
void sfx_add_sample(struct sfx *x, const struct sfx_sample *s, int64_t now_ms);

/* Add an interface counters sample. */
void sfx_add_counters(struct sfx *x, const struct sfx_counters *c, int64_t now_ms);

/* Send the datagram being filled, if any. */
void sfx_flush(struct sfx *x);

#endif
