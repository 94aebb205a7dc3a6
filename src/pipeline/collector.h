/* SPDX-License-Identifier: BSD-3-Clause */
/* collector.h: the UDP collector shared by nfacctd and sfacctd: sockets or capture file in, decoder, maps, plugins out. */
#ifndef PIPELINE_COLLECTOR_H
#define PIPELINE_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "model/dgram.h"
#include "model/flow_rec.h"

struct pipeline;
struct health_build;

/*
 * Where a decoder puts its records.  emit() takes the record (the decoder
 * fills key, counters, ts, flags); the collector enriches it (pre_tag_map,
 * filters, maps) and hands it to every plugin.  The record may be reused
 * by the decoder after emit() returns.
 */
struct rec_sink {
	void (*emit)(void *arg, struct flow_rec *rec);
	void *arg;
};

/*
 * A collector protocol (NetFlow/IPFIX, sFlow): a decoder with per-daemon
 * state (templates, sequence tracking per exporter...), owned by the
 * collector's receive thread.  No globals: everything hangs off `state`.
 */
struct collector_proto {
	const char *daemon;		/* "nfacctd", "sfacctd": log prefix and key prefix */
	uint8_t source;			/* SRC_NF or SRC_SF (prim.h) */
	uint16_t default_port;		/* 2100, 6343 */
	const char *ready_fmt;		/* e.g. "waiting for NetFlow/IPFIX data on %s:%u" */
	/*
	 * Optional: the protocol's own settings checked (maps loaded and thrown
	 * away), by start-up and -T config alike; 0, or -1 after logging the key.
	 */
	int (*check)(const struct core_cfg *cfg);
	/* State for one receive thread; NULL + logged error on failure. */
	void *(*state_new)(struct core_cfg *cfg);
	/* Decode one datagram, emitting its records. Never fails: bad input is counted. */
	void (*datagram)(void *state, const struct dgram *d, const struct rec_sink *sink);
	/* SIGUSR1: log per-exporter statistics (packets, records, sequence gaps, drops by reason). */
	void (*log_stats)(void *state);
	/* Periodic housekeeping (template expiry, ...), about once a second; may be NULL. */
	void (*tick)(void *state, int64_t now);
	void (*state_free)(void *state);
	/*
	 * collector_workers: the state of a further receive thread, sharing
	 * with `first` (the first thread's state) what is kept per daemon
	 * (the templates file).  May be NULL: state_new() is used.  Freed
	 * with state_free() before `first`.
	 */
	void *(*state_new_worker)(struct core_cfg *cfg, void *first);
	/* SIGHUP: reopen the protocol's own output files (logrotate); may be NULL. */
	void (*reopen)(void *state);
	/* SIGUSR2: reload the protocol's own maps (flow_to_rd_map); may be NULL. */
	void (*reload)(void *state);
	/*
	 * The http plugin's exporter health: offer every exporter's counters
	 * to b (health_offer), on the state's own thread, about once a second
	 * and only when an http plugin runs; may be NULL.
	 */
	void (*health)(void *state, struct health_build *b);
	/*
	 * Optional: register receive thread `thread`'s tables in cfg->gauges
	 * (model/gauge.h), their ceilings from the config alone, at start-up
	 * and under -T config alike; with `state` (start-up: that thread's),
	 * the state publishes its fill on them.
	 */
	void (*bounds)(struct core_cfg *cfg, int thread, void *state);
};

/* The receiving side of a collector: a UDP socket, or a capture file (-I). */
struct collector;

/*
 * What start-up and -T config both check before opening anything: the
 * receive threads, <daemon>_allow_file, the capture file or the listening
 * address.  0, or -1 after logging the key.
 */
int collector_check(const struct core_cfg *cfg, const struct collector_proto *proto);

/*
 * -T config: register the tables every receive thread would have
 * (proto->bounds), so that gauges_plan() lists them; opens nothing.
 */
void collector_bounds(struct core_cfg *cfg, const struct collector_proto *proto);

/*
 * Open the source the config names (collector_check() passed): pcap_savefile (UDP payloads of any
 * capture, replayed pcap_savefile_replay times) or a socket bound to
 * <daemon>_ip:<daemon>_port (dual stack by default; <daemon>_ipv6_only,
 * <daemon>_pipe_size as SO_RCVBUF, SO_REUSEPORT), with <daemon>_allow_file.
 * Records go to `pl` (which must outlive the collector).  NULL after logging.
 */
struct collector *collector_open(struct core_cfg *cfg, const struct collector_proto *proto,
    struct pipeline *pl);

/* Between batches the loop calls should_stop(arg): it handles signals, returns true to stop. */
typedef bool (*collector_stop_fn)(void *arg);

/*
 * Receive and decode until should_stop() or the end of the capture file.
 * With collector_workers N > 1 (sockets), the further N-1 receive threads
 * run meanwhile; should_stop() is called on the caller's thread only, and
 * SIGUSR1/SIGUSR2/SIGHUP requests made through collector_log_stats(),
 * collector_reload() and collector_reopen() reach every receiver.
 * Partial plugin batches are handed over whenever the socket is idle.
 * Returns 0 or -1.
 */
int collector_loop(struct collector *c, collector_stop_fn should_stop, void *arg);

/* SIGUSR1: the collector's own counters, then the protocol's per-exporter ones. */
void collector_log_stats(struct collector *c);

/* SIGHUP: the protocol reopens its own files (sfacctd_counter_file). */
void collector_reopen(struct collector *c);

/* SIGUSR2: reload the allow file (a file that fails to load keeps the old list). */
void collector_reload(struct collector *c);

void collector_close(struct collector *c);

#endif
