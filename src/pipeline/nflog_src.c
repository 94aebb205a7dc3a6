/* SPDX-License-Identifier: BSD-3-Clause */
/* nflog_src.c: the uacctd source: packets logged by netfilter to an NFLOG group. */
#include "nflog_src.h"

#include <errno.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "model/gauge.h"
#include "model/health.h"

#define WHO "default/core"
#define LIVE_TIMEOUT_MS 500
/*
 * The kernel hands over batches of at most 128 KB (larger nlbufsiz values
 * are refused), and one packet past that in a message of its own (the copy
 * range is at most 64 KB): a buffer of this size never cuts a message.
 */
#define RECV_MIN (131072u + 65536u + 4096u)

void nflog_src_ifindexes(const struct nflog_pkt *p, uint32_t *in, uint32_t *out)
{
	*in = p->physindev ? p->physindev : p->indev;
	*out = p->physoutdev ? p->physoutdev : p->outdev;
}

static int fail(struct nflog_src *s, const char *what)
{
	int e = errno;
	log_err(WHO, "%s (NFLOG group %u): %s%s. Exiting.", what, (unsigned)s->cfg->uacctd_group,
	    strerror(e), e == EPERM ? " (uacctd needs CAP_NET_ADMIN: run it as root or give it the "
	    "capability)" : "");
	nflog_src_close(s);
	return -1;
}

int nflog_src_open(struct nflog_src *s, struct core_cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->fd = -1;
	s->snaplen = cfg->snaplen ? cfg->snaplen : 128;
	if (!(s->h = nflog_open()))
		return fail(s, "cannot open a Netlink NFLOG socket");
	/* no-ops on Linux >= 3.17, needed before */
	(void)nflog_unbind_pf(s->h, AF_INET);
	(void)nflog_unbind_pf(s->h, AF_INET6);
	if (nflog_bind_pf(s->h, AF_INET) < 0 || nflog_bind_pf(s->h, AF_INET6) < 0)
		return fail(s, "cannot bind the Netlink NFLOG socket to IPv4/IPv6");
	log_info(WHO, "Successfully connected Netlink NFLOG socket");
	if (!(s->gh = nflog_bind_group(s->h, (uint16_t)cfg->uacctd_group))) {
		log_err(WHO, "[%s] key 'uacctd_group': cannot join NFLOG group %u: %s (is another "
		    "process logging from it?). Exiting.", cfg_where(&cfg->origin, "uacctd_group"),
		    (unsigned)cfg->uacctd_group, strerror(errno));
		nflog_src_close(s);
		return -1;
	}
	if (nflog_set_mode(s->gh, NFULNL_COPY_PACKET, s->snaplen) < 0)
		return fail(s, "cannot set the NFLOG copy range (snaplen)");
	/* the kernel keeps its own batch size when it refuses this one (over 128 KB) */
	(void)nflog_set_nlbufsiz(s->gh, cfg->uacctd_nl_size);
	if (nflog_set_qthresh(s->gh, cfg->uacctd_threshold) < 0)
		return fail(s, "cannot set the NFLOG queue threshold (uacctd_threshold)");
	s->fd = nflog_fd(s->h);
	/* as root the socket buffer may exceed rmem_max; else the kernel caps it */
	int sz = (int)cfg->uacctd_nl_size;
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	s->buflen = cfg->uacctd_nl_size > RECV_MIN ? cfg->uacctd_nl_size : RECV_MIN;
	s->buf = xmalloc(s->buflen);
	s->frame = xmalloc(NFLOG_FRAME_HW_MAX + (size_t)s->snaplen);
	log_info(WHO, "[nflog,%u] link type is: %d", (unsigned)cfg->uacctd_group, DLT_EN10MB);
	return 0;
}

/* One logged packet through the same path as a captured frame (pipeline_packet()). */
static void on_packet(void *arg, const struct nflog_pkt *p)
{
	struct nflog_src *s = arg;
	struct pcap_pkthdr h;
	uint32_t in, out;
	size_t wirelen;

	h.caplen = (bpf_u_int32)nflog_frame(p, s->snaplen, s->frame, &wirelen);
	h.len = (bpf_u_int32)wirelen;
	if (p->has_ts) {
		h.ts.tv_sec = (time_t)p->ts_sec;
		h.ts.tv_usec = (suseconds_t)p->ts_usec;
	} else {
		/* the kernel stamps packets only while someone asked for timestamps */
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		h.ts.tv_sec = now.tv_sec;
		h.ts.tv_usec = now.tv_nsec / 1000;
	}
	nflog_src_ifindexes(p, &in, &out);
	pipeline_packet_at(s->pl, DLT_EN10MB, &h, s->frame, in, out, 0);
}

void nflog_src_log_stats(struct nflog_src *s, struct pipeline *pl)
{
	uint64_t dropped = s->overruns;

	for (int i = 0; i < pl->nfeeds; i++)
		dropped += atomic_load(&pl->feeds[i].stats->dropped_records);
	log_notice(WHO, "+++");
	log_notice(WHO, "stats [nflog,%u] time=%ld received_packets=%llu dropped_packets=%llu",
	    (unsigned)s->cfg->uacctd_group, (long)time(NULL), (unsigned long long)s->st.packets,
	    (unsigned long long)dropped);
	if (s->overruns)
		log_notice(WHO, "stats nflog socket_overruns=%llu (the kernel dropped messages: raise "
		    "uacctd_nl_size)", (unsigned long long)s->overruns);
	for (int i = 0; i < NFLOG_BAD_COUNT; i++)
		if (s->st.bad[i])
			log_notice(WHO, "stats nflog skipped %s=%llu", nflog_bad_name[i],
			    (unsigned long long)s->st.bad[i]);
	pipeline_log_stats(pl, WHO);
}

/* Publish the source's counters for the http plugin (health.h), at most once a second unless force. */
static void health_refresh(struct nflog_src *s, const struct pipeline *pl, bool force)
{
	struct health_capture hc = { .live = true };
	int64_t ms;

	if (!s->cfg->health)
		return;
	ms = clock_mono_coarse_ms();
	if (!force && ms - s->health_ms < HEALTH_REFRESH_MS)
		return;
	s->health_ms = ms;
	snprintf(hc.source, sizeof(hc.source), "nflog group %u", (unsigned)s->cfg->uacctd_group);
	hc.received = s->st.packets;
	hc.decoded = pl->dstats.decoded;
	for (int i = 0; i < PKT_DROP_COUNT && i < HEALTH_MAX_DROPS; i++)
		hc.drops[i] = pl->dstats.drops[i];
	hc.pcap_stats = true;
	hc.pcap_recv = s->st.packets;
	hc.pcap_drop = s->overruns;
	health_publish_capture(s->cfg->health, &hc, pkt_drop_name, PKT_DROP_COUNT);
}

/* Read what the socket has; -1 on an error that ends the source. */
static int read_once(struct nflog_src *s)
{
	for (int i = 0; i < 64; i++) {	/* then back to the caller: signals, flushes */
		ssize_t n = recv(s->fd, s->buf, s->buflen, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			if (errno == ENOBUFS) {
				/* the socket overflowed: the kernel dropped log messages */
				if (!s->overruns++)
					log_warnx(WHO, "NFLOG socket overrun: the kernel dropped packets "
					    "(raise uacctd_nl_size; counted in SIGUSR1 stats)");
				continue;
			}
			log_err(WHO, "recv on the NFLOG socket: %s", strerror(errno));
			return -1;
		}
		size_t got = (size_t)n;
		if (got > s->buflen) {
			/* cut by the kernel: the complete messages in front are kept */
			s->st.bad[NFLOG_BAD_OVERSIZE]++;
			got = s->buflen;
		}
		nflog_parse(s->buf, got, on_packet, s, &s->st);
	}
	return 0;
}

int nflog_src_run(struct nflog_src *s, struct pipeline *pl, nflog_src_poll_fn should_stop, void *arg)
{
	int rc = 0;

	s->pl = pl;
	while (!should_stop(arg)) {
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		(void)poll(&pfd, 1, LIVE_TIMEOUT_MS);
		if (read_once(s) < 0) {
			rc = -1;
			break;
		}
		pipeline_flush(pl);	/* idle or not, hand over what we have (ends the BGP batch) */
		for (int i = 0; i < pl->nfeeds; i++)
			feed_report_drops(&pl->feeds[i], time(NULL));
		health_refresh(s, pl, false);
	}
	pipeline_flush(pl);
	health_refresh(s, pl, true);
	s->pl = NULL;
	return rc;
}

void nflog_src_close(struct nflog_src *s)
{
	if (s->gh)
		nflog_unbind_group(s->gh);
	if (s->h)
		nflog_close(s->h);
	s->gh = NULL;
	s->h = NULL;
	s->fd = -1;
	free(s->buf);
	free(s->frame);
	s->buf = NULL;
	s->frame = NULL;
}
