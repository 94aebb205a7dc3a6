/* SPDX-License-Identifier: BSD-3-Clause */
/* pcap_src.h: the pmacctd source: libpcap live capture or capture files, feeding the pipeline. */
#ifndef PIPELINE_PCAP_SRC_H
#define PIPELINE_PCAP_SRC_H

#include <pcap/pcap.h>
#include <stdbool.h>

#include "config/config.h"
#include "maps/pcap_ifmap.h"
#include "pipeline/pipeline.h"

struct pcap_src;

/* One capture handle: the interface, or one of pcap_interfaces_map's. */
struct pcap_dev {
	struct pcap_src *src;
	pcap_t *pc;
	int fd;				/* pollable descriptor */
	char ifname[PCAP_IFNAME_MAX];
	uint32_t in_iface, out_iface;	/* what its packets carry (pcap_ifindex, direction) */
	enum pcap_dir dir;		/* its direction= (pre_tag_map's direction) */
	uint64_t received;
};

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
	uint32_t in_iface, out_iface;	/* pcap_interface: from pcap_ifindex and pcap_direction */
	enum pcap_dir dir;		/* pcap_direction */
	/* pcap_interfaces_map: one handle per interface (pc is then NULL) */
	struct pcap_dev *devs;
	int ndevs;
	struct pipeline *pl;		/* while pcap_src_run() runs */
};

/*
 * What start-up and -T config check before opening anything: pcap_ifindex
 * and pcap_direction values, pcap_interfaces_map (it loads; not with
 * pcap_interface or pcap_savefile; pcap_ifindex map needs it).  0, or -1
 * after logging the file, line and key.
 */
int pcap_src_check(const struct core_cfg *cfg);

/*
 * SIGUSR2 with pcap_interfaces_map: read the map again; interfaces it no
 * longer names are closed, new ones opened, the others take their new
 * ifindex and direction.  A map that fails to load keeps the previous one.
 */
void pcap_src_reload(struct pcap_src *s);

/*
 * Open the capture named by the config: pcap_savefile (a file),
 * pcap_interfaces_map (live, every interface it names, each with its
 * direction) or pcap_interface (live; waits for it with
 * pcap_interface_wait), apply snaplen, promisc and pcap_filter.  Returns 0,
 * or -1 after logging.
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
