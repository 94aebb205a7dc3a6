/* SPDX-License-Identifier: BSD-3-Clause */
/* pcap_src.h: the pmacctd source: libpcap live capture or capture files, feeding the pipeline. */
#ifndef PIPELINE_PCAP_SRC_H
#define PIPELINE_PCAP_SRC_H

#include <pcap/pcap.h>
#include <stdbool.h>

#include "config/config.h"
#include "pipeline/pipeline.h"

struct pcap_src {
	struct core_cfg *cfg;
	pcap_t *pc;
	int dlt;
	int snaplen;
	bool live;
	int fd;				/* live: pollable descriptor */
	struct bpf_program filter;	/* pcap_filter */
	bool has_filter;
	char ifname[256];
	uint64_t received;		/* packets read (all replays) */
	uint64_t filtered;		/* files: rejected by pcap_filter */
	int64_t health_ms;		/* last publication to cfg->health (monotonic ms) */
};

/*
 * Open the capture named by the config: pcap_savefile (a file) or
 * pcap_interface (live; waits for it with pcap_interface_wait), apply
 * snaplen, promisc and pcap_filter.  Returns 0, or -1 after logging.
 */
int pcap_src_open(struct pcap_src *s, struct core_cfg *cfg);

/*
 * Between batches of packets the source calls should_stop(arg): it handles the
 * daemon's signal flags and returns true to stop.
 */
typedef bool (*pcap_src_poll_fn)(void *arg);

/*
 * Read packets into the pipeline until the file ends (then, with
 * pcap_savefile_replay, again) or should_stop() says so.  Live captures never
 * block on a plugin; files never lose a packet.  Returns 0 or -1.
 */
int pcap_src_run(struct pcap_src *s, struct pipeline *pl, pcap_src_poll_fn should_stop, void *arg);

/* Log pmacct's SIGUSR1 stats block for the capture. */
void pcap_src_log_stats(struct pcap_src *s, struct pipeline *pl);

void pcap_src_close(struct pcap_src *s);

#endif
