/* SPDX-License-Identifier: BSD-3-Clause */
/* sflow.h: decode sFlow v2/v4/v5 datagrams into flow records and counter blocks. */
#ifndef DECODE_SFLOW_H
#define DECODE_SFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"
#include "packet.h"

/*
 * Why (part of) a datagram was not used; counted per reason.  Samples
 * decoded before the fault are kept, as pmacct does: a datagram is read
 * sample by sample and the first malformation ends it.
 */
enum sflow_drop {
	SFLOW_DROP_NONE = 0,
	SFLOW_DROP_SHORT,		/* datagram header cut short */
	SFLOW_DROP_VERSION,		/* not version 2, 4 or 5 */
	SFLOW_DROP_AGENT_AF,		/* agent address type not 1 (IPv4) or 2 (IPv6) */
	SFLOW_DROP_SAMPLE_COUNT,	/* fewer samples in the datagram than it says */
	SFLOW_DROP_SAMPLE_LEN,		/* a sample's length runs past the datagram */
	SFLOW_DROP_SAMPLE_SHORT,	/* a sample's fixed fields run past its length */
	SFLOW_DROP_RECORD_COUNT,	/* fewer records in a sample than it says */
	SFLOW_DROP_RECORD_LEN,		/* a record's length runs past its sample */
	SFLOW_DROP_RECORD_SHORT,	/* a record's fields run past its length */
	SFLOW_DROP_V2_TAG,		/* unknown v2/v4 sample or record tag: no length to skip by */
	SFLOW_DROP_COUNT
};

extern const char *const sflow_drop_name[SFLOW_DROP_COUNT];

/* Decoder counters, owned by the caller (no globals). */
struct sflow_stats {
	uint64_t datagrams;		/* datagrams read to the end without fault */
	uint64_t flow_samples;		/* flow samples turned into records */
	uint64_t counter_samples;
	uint64_t unknown_samples;	/* v5 sample formats skipped by length */
	uint64_t unknown_records;	/* v5 record formats skipped by length */
	uint64_t non_ip;		/* raw headers without IPv4/IPv6 (still accounted) */
	uint64_t drops[SFLOW_DROP_COUNT];
	struct pkt_stats pkt;		/* the raw-header decoder's own counters */
};

/* The datagram header (sFlow v5 spec, "sample_datagram_v5"; v2/v4 have no sub_agent_id). */
struct sflow_hdr {
	uint32_t version;
	struct fr_ip agent;
	uint32_t sub_agent;
	uint32_t seqno;
	uint32_t uptime;	/* ms */
	uint32_t nsamples;
};

/* The fixed part of a flow sample (v5 "flow_sample" / "flow_sample_expanded", v2/v4 "flow_sample"). */
struct sflow_flow {
	uint32_t seqno;		/* sample sequence number per data source */
	uint32_t ds_class;	/* source_id type */
	uint32_t ds_index;	/* source_id index */
	uint32_t rate;		/* sampling_rate */
	uint32_t pool;		/* sample_pool */
	uint32_t drops;
	uint32_t in_if, out_if;
};

/* Counter blocks of one counter sample that pmacct logs (v5 formats 1, 2, 5; v2/v4 likewise). */
enum { SFLOW_CNT_GENERIC = 1 << 0, SFLOW_CNT_ETHERNET = 1 << 1, SFLOW_CNT_VLAN = 1 << 2 };

struct sflow_if_counters {	/* "if_counters", sFlow v5 format 1 */
	uint32_t ifIndex, ifType;
	uint64_t ifSpeed;
	uint32_t ifDirection, ifStatus;
	uint64_t ifInOctets;
	uint32_t ifInUcastPkts, ifInMulticastPkts, ifInBroadcastPkts, ifInDiscards, ifInErrors,
	    ifInUnknownProtos;
	uint64_t ifOutOctets;
	uint32_t ifOutUcastPkts, ifOutMulticastPkts, ifOutBroadcastPkts, ifOutDiscards, ifOutErrors,
	    ifPromiscuousMode;
};

struct sflow_eth_counters {	/* "ethernet_counters", format 2: dot3Stats* in MIB order */
	uint32_t v[13];
};

struct sflow_vlan_counters {	/* "vlan_counters", format 5 */
	uint32_t vlan_id;
	uint64_t octets;
	uint32_t ucastPkts, multicastPkts, broadcastPkts, discards;
};

/* One counter block, with the sample it came from. */
struct sflow_counter {
	uint32_t seqno;		/* counter sample sequence number */
	uint32_t ds_class, ds_index;
	uint32_t type;		/* SFLOW_CNT_*: one per v5 block; v2/v4 ethernet: GENERIC | ETHERNET */
	struct sflow_if_counters gen;
	struct sflow_eth_counters eth;
	struct sflow_vlan_counters vlan;
};

/*
 * Where decoded samples go.  flow() gets each flow sample as a record the
 * decoder filled (key, bytes = sampled frame length, packets = 1, flows =
 * 1, ts left zero) and may change it (renormalization); counter() gets
 * each counter block pmacct logs.  Either may be NULL.
 */
struct sflow_sink {
	void (*flow)(void *arg, const struct sflow_hdr *h, const struct sflow_flow *f,
	    struct flow_rec *rec);
	void (*counter)(void *arg, const struct sflow_hdr *h, const struct sflow_counter *c);
	void *arg;
	const struct pkt_tun *tun;	/* tunnels in sampled headers (pkt_decode_tun()), NULL = none */
};

/*
 * Decode one sFlow datagram of `len` bytes, calling the sink for every
 * sample, in order.  Never reads outside buf.  Returns SFLOW_DROP_NONE or
 * the reason decoding stopped (also counted in st->drops); samples before
 * the fault have been delivered.  *h (may be NULL) receives the header
 * when it could be read.
 */
enum sflow_drop sflow_decode(const uint8_t *buf, size_t len, const struct sflow_sink *sink,
    struct sflow_stats *st, struct sflow_hdr *h);

/* Only the datagram header (nothing counted): SFLOW_DROP_NONE or why it is unusable. */
enum sflow_drop sflow_header(const uint8_t *buf, size_t len, struct sflow_hdr *h);

#endif
