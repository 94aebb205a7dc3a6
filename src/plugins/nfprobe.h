/* SPDX-License-Identifier: BSD-3-Clause */
/* nfprobe.h: the nfprobe flow cache (softflowd's model) and the parsing of its keys, apart from the plugin for tests. */
#ifndef PLUGINS_NFPROBE_H
#define PLUGINS_NFPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "encode/nf_export.h"
#include "model/flow_rec.h"

/* nfprobe_timeouts, in seconds. */
struct nfp_timeouts {
	uint32_t tcp, tcp_rst, tcp_fin, udp, icmp, general, maxlife, expint;
};

/* pmacct's defaults: tcp=3600:tcp.rst=120:tcp.fin=300:udp=300:icmp=300:general=3600:maxlife=604800:expint=60 */
void nfp_timeouts_default(struct nfp_timeouts *t);

/*
 * Parse pmacct's "name=seconds:name=seconds..." over *t (names as above,
 * tcp.rst and tcp.fin with a dot).  -1 with the reason in why.
 */
int nfp_timeouts_parse(const char *text, struct nfp_timeouts *t, char *why, size_t whylen);

/* Where a flow's interface index and direction come from (nfprobe_ifindex / _direction). */
enum nfp_src { NFP_NONE, NFP_IN, NFP_OUT, NFP_TAG, NFP_TAG2, NFP_VALUE };

/*
 * A *_direction value ("in", "out", "tag", "tag2"; number_ok false) or an
 * *_ifindex value (a number, "tag", "tag2"; number_ok true, *num set).
 * NULL or "" gives NFP_NONE.  -1 if the text fits neither.
 */
int nfp_parse_src(const char *v, bool number_ok, enum nfp_src *out, uint32_t *num);

struct nfp_cache;
struct table_gauge;

/* Flows leave the cache through this callback (expired, evicted or flushed). */
typedef void (*nfp_export_fn)(void *arg, const struct nfx_flow *f, int64_t now_ms);

/*
 * A cache of at most maxflows flows.  At the ceiling a new flow first
 * expires the least recently seen one early, exporting it (softflowd's
 * forced expiry, one flow at a time): no packet is lost, and the cache
 * never holds more than maxflows flows (pmacct 1.7.7 lets it overshoot by
 * a buffer's worth of packets, then force-expires the excess).
 */
struct nfp_cache *nfp_cache_new(uint32_t maxflows, const struct nfp_timeouts *t,
    nfp_export_fn fn, void *arg);
void nfp_cache_free(struct nfp_cache *c);

/*
 * Account one packet: its flow key (addresses, ports, proto, tos, ifindexes)
 * from rec, counters added, TCP flags ORed.  `dir` is the flow direction
 * exported (0 in, 1 out).  When the cache is full the least recently seen
 * flow is exported first.  Every expint seconds of packet time, expired
 * flows are exported.
 */
void nfp_cache_add(struct nfp_cache *c, const struct flow_rec *rec, uint32_t in_if,
    uint32_t out_if, uint8_t dir);

/* Move the clock (live capture idling): exports what expired by now_ms. */
void nfp_cache_clock(struct nfp_cache *c, int64_t now_ms);

/* All the memory of a cache of maxflows flows (flows, hash slots, the cache itself). */
uint64_t nfp_cache_bytes(uint32_t maxflows);

/* Publish the fill on g (model/gauge.h; NULL: none): on each new flow, after each expiry scan and flush. */
void nfp_cache_set_gauge(struct nfp_cache *c, struct table_gauge *g);

/* Flows expired early because the cache was full, since it was made. */
uint64_t nfp_cache_forced(const struct nfp_cache *c);

/* Export every flow (shutdown). */
void nfp_cache_flush_all(struct nfp_cache *c);

/* Flows in the cache; the clock (latest packet time, ms). */
size_t nfp_cache_count(const struct nfp_cache *c);
int64_t nfp_cache_now(const struct nfp_cache *c);

#endif
