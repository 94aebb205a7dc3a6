/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_export.h: NetFlow v5, v9 and IPFIX export encoder: flows in, datagrams out through a send callback. */
#ifndef ENCODE_NF_EXPORT_H
#define ENCODE_NF_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/wr.h"
#include "model/flow_rec.h"

/* The largest v9/IPFIX datagram built: fits a 1500-byte MTU with IPv6 and UDP headers. */
#define NFX_MTU 1400
/* A v5 datagram holds 30 records: 24 + 30 * 48 bytes, as Cisco's. */
#define NFX_V5_MAX 1464

/* Template ids used in v9 and IPFIX exports. */
enum { NFX_TPL_V4 = 256, NFX_TPL_V6 = 257, NFX_TPL_OPT = 258 };

/* One unidirectional flow as exported (times in milliseconds since the epoch). */
struct nfx_flow {
	struct fr_ip src, dst;		/* same family, 4 or 6 */
	uint16_t src_port, dst_port;
	uint8_t proto, tos, tcp_flags;
	uint8_t direction;		/* 0 ingress, 1 egress (v9/IPFIX IE 61) */
	uint8_t src_mask, dst_mask;
	uint32_t in_if, out_if;
	uint32_t src_as, dst_as;
	uint64_t bytes, packets;
	int64_t first_ms, last_ms;
};

struct nfx_cfg {
	int version;			/* 5, 9 or 10 */
	uint8_t engine_type, engine_id;	/* v5 header */
	uint32_t source_id;		/* v9 source id / IPFIX observation domain id */
	uint32_t sampling;		/* 1-in-N sampling, 0/1 = none */
	uint32_t tpl_every_pkts;	/* re-send templates after this many datagrams (0 = 20) */
	uint32_t tpl_every_ms;		/* ... or after this long (0 = 60 s) */
};

typedef void (*nfx_send_fn)(void *arg, const uint8_t *buf, size_t len);

/* An exporter: owns the datagram being filled and the sequence numbers. */
struct nfx {
	struct nfx_cfg cfg;
	nfx_send_fn send;
	void *arg;
	int64_t boot_ms;		/* sysUptime origin (v5, v9) */
	int64_t now_ms;			/* export time of the datagram being filled */
	uint8_t buf[NFX_V5_MAX];
	struct wr w;
	bool open;			/* a datagram is being filled */
	uint32_t nrec;			/* records in it (all kinds) */
	uint32_t ndata;			/* data records in it */
	int set_af;			/* family of the open data set, 0 = none */
	size_t set_off;			/* offset of its header */
	uint32_t v9_seq;		/* v9: datagrams sent */
	uint64_t flow_seq;		/* v5 / IPFIX: data records sent */
	uint32_t since_tpl;		/* datagrams since templates were last sent */
	int64_t tpl_ms;			/* when they were */
	bool tpl_sent;
	/* statistics */
	uint64_t flows, datagrams, skipped;	/* skipped: IPv6 flows in v5 */
};

/* Set up an exporter; `boot_ms` is the uptime origin (v5/v9 FIRST/LAST_SWITCHED). */
void nfx_init(struct nfx *x, const struct nfx_cfg *cfg, int64_t boot_ms, nfx_send_fn send,
    void *arg);

/*
 * Add one flow at export time now_ms; full datagrams are sent as they fill.
 * v5 carries IPv4 only: an IPv6 flow is counted in `skipped`.
 */
void nfx_add(struct nfx *x, const struct nfx_flow *f, int64_t now_ms);

/* Send the datagram being filled, if any. */
void nfx_flush(struct nfx *x);

#endif
