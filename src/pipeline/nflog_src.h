/* SPDX-License-Identifier: BSD-3-Clause */
/* nflog_src.h: the uacctd source: packets logged by netfilter to an NFLOG group, feeding the pipeline. */
#ifndef PIPELINE_NFLOG_SRC_H
#define PIPELINE_NFLOG_SRC_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "decode/nflog.h"
#include "pipeline/pipeline.h"

struct nflog_handle;
struct nflog_g_handle;

struct nflog_src {
	struct core_cfg *cfg;
	struct nflog_handle *h;		/* libnetfilter_log: the netlink socket */
	struct nflog_g_handle *gh;	/* the joined group */
	int fd;
	uint8_t *buf;			/* one recv() */
	size_t buflen;
	uint8_t *frame;			/* the frame accounted (nflog_frame()) */
	uint32_t snaplen;		/* copy range asked of the kernel */
	struct pipeline *pl;		/* while running */
	struct nflog_stats st;		/* messages, packets, bad ones by reason */
	uint64_t overruns;		/* ENOBUFS: the kernel dropped messages for us */
	int64_t health_ms;		/* last publication to cfg->health (monotonic ms) */
};

/*
 * The in_iface / out_iface of a logged packet, as pmacct 1.7.7: the bridge
 * port (physindev / physoutdev) when there is one, else the device.
 */
void nflog_src_ifindexes(const struct nflog_pkt *p, uint32_t *in, uint32_t *out);

/*
 * Open an NFLOG socket and join uacctd_group with copy range snaplen,
 * uacctd_nl_size (kernel batch and socket buffer) and uacctd_threshold.
 * Needs CAP_NET_ADMIN; a group another process holds is refused by the
 * kernel.  Returns 0, or -1 after logging.
 */
int nflog_src_open(struct nflog_src *s, struct core_cfg *cfg);

/* Between batches the source calls should_stop(arg); true stops it. */
typedef bool (*nflog_src_poll_fn)(void *arg);

/*
 * Read logged packets into the pipeline until should_stop() says so.
 * Messages that are not well-formed IPv4/IPv6 packets are counted by
 * reason and skipped.  Returns 0, or -1 on a socket error.
 */
int nflog_src_run(struct nflog_src *s, struct pipeline *pl, nflog_src_poll_fn should_stop, void *arg);

/* Log the SIGUSR1 stats block: packets received, kernel drops, skipped messages, plugins. */
void nflog_src_log_stats(struct nflog_src *s, struct pipeline *pl);

/* Leave the group and close the socket (a zeroed or failed source is fine). */
void nflog_src_close(struct nflog_src *s);

#endif
