/* SPDX-License-Identifier: BSD-3-Clause */
/* dispatch.h: the core's per-record path: decode, enrich, then offer to every plugin. */
#ifndef PIPELINE_DISPATCH_H
#define PIPELINE_DISPATCH_H

#include <pcap/pcap.h>
#include <stdbool.h>

#include "config/config.h"
#include "decode/packet.h"
#include "pipeline/flows.h"
#include "pipeline/frag.h"
#include "plugins/plugin.h"

/* The core's state between the source and the plugins (owned by the core thread). */
struct pipeline {
	struct core_cfg *cfg;
	struct plugin *plugins;
	int nplugins;
	struct pkt_stats dstats;
	struct frag_table *frag;	/* when a plugin needs L4 primitives */
	struct flows_table *flows;	/* when a plugin counts flows */
};

/* Set up the enrichment state the plugins need. */
void pipeline_init(struct pipeline *pl, struct core_cfg *cfg, struct plugin *ps, int n);
void pipeline_fini(struct pipeline *pl);

/* One captured frame of link type dlt through decode, enrich and dispatch. */
void pipeline_packet(struct pipeline *pl, int dlt, const struct pcap_pkthdr *h, const uint8_t *pkt);

/* Hand every plugin its partial batch (idle live capture, end of input). */
void pipeline_flush(struct pipeline *pl);

#endif
