/* SPDX-License-Identifier: BSD-3-Clause */
/* pcap_src.c: the pmacctd source: libpcap live capture or capture files. */
#include "pcap_src.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/bpf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "model/gauge.h"
#include "lib/progress.h"
#include "model/health.h"

#define WHO "default/core"
#define LIVE_TIMEOUT_MS 500

static int apply_filter(struct pcap_src *s)
{
	const char *f = s->cfg->pcap_filter;
	if (!f || !*f)
		return 0;
	if (bpf_compile(s->pc, &s->filter, f, WHO, cfg_where(&s->cfg->origin, "pcap_filter"),
	    "pcap_filter") < 0) {
		log_err(WHO, "[%s] key 'pcap_filter': invalid filter '%s': %s. Exiting.",
		    cfg_where(&s->cfg->origin, "pcap_filter"), f, pcap_geterr(s->pc));
		return -1;
	}
	s->has_filter = true;
	if (s->live && pcap_setfilter(s->pc, &s->filter) < 0) {
		log_err(WHO, "pcap_setfilter: %s", pcap_geterr(s->pc));
		return -1;
	}
	return 0;
}

static int open_file(struct pcap_src *s)
{
	char err[PCAP_ERRBUF_SIZE];

	s->pc = pcap_open_offline(s->cfg->pcap_savefile, err);
	if (!s->pc) {
		log_err(WHO, "[%s] key 'pcap_savefile': cannot read '%s': %s. Exiting.",
		    cfg_where(&s->cfg->origin, "pcap_savefile"), s->cfg->pcap_savefile, err);
		return -1;
	}
	s->snaplen = pcap_snapshot(s->pc);
	return 0;
}

static const char *default_device(char *buf, size_t len)
{
	pcap_if_t *all = NULL;
	char err[PCAP_ERRBUF_SIZE];

	if (pcap_findalldevs(&all, err) < 0 || !all)
		return NULL;
	snprintf(buf, len, "%s", all->name);
	pcap_freealldevs(all);
	return buf;
}

static pcap_t *try_live(struct pcap_src *s, char *err)
{
	pcap_t *pc = pcap_create(s->ifname, err);
	if (!pc)
		return NULL;
	pcap_set_snaplen(pc, (int)s->cfg->snaplen);
	pcap_set_promisc(pc, s->cfg->promisc);
	pcap_set_timeout(pc, LIVE_TIMEOUT_MS);
	pcap_set_buffer_size(pc, 32 * 1024 * 1024);
	int rc = pcap_activate(pc);
	if (rc < 0) {
		snprintf(err, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(pc));
		pcap_close(pc);
		return NULL;
	}
	return pc;
}

static int open_live(struct pcap_src *s)
{
	char err[PCAP_ERRBUF_SIZE] = "";

	if (s->cfg->pcap_interface)
		snprintf(s->ifname, sizeof(s->ifname), "%s", s->cfg->pcap_interface);
	else if (!default_device(s->ifname, sizeof(s->ifname))) {
		log_err(WHO, "no capture interface given (pcap_interface / -i) and none found");
		return -1;
	}
	while (!(s->pc = try_live(s, err))) {
		if (!s->cfg->pcap_interface_wait) {
			log_err(WHO, "cannot capture on interface '%s': %s", s->ifname, err);
			return -1;
		}
		log_warnx(WHO, "interface '%s' not available (%s); waiting for it (pcap_interface_wait)",
		    s->ifname, err);
		sleep(5);
	}
	s->live = true;
	s->snaplen = pcap_snapshot(s->pc);
	/*
	 * Non-blocking reads behind our own poll(): libpcap's blocking read on
	 * Linux (TPACKET_V3) waits forever on an idle interface, and the core
	 * must wake up to flush partial batches and to see signals.
	 */
	if (pcap_setnonblock(s->pc, 1, err) < 0 || (s->fd = pcap_get_selectable_fd(s->pc)) < 0) {
		log_err(WHO, "cannot poll interface '%s': %s", s->ifname, err);
		pcap_close(s->pc);
		s->pc = NULL;
		return -1;
	}
	return 0;
}

int pcap_src_open(struct pcap_src *s, struct core_cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	if ((cfg->pcap_savefile ? open_file(s) : open_live(s)) < 0)
		return -1;
	s->dlt = pcap_datalink(s->pc);
	log_info(WHO, "[%s,0] link type is: %d", cfg->pcap_savefile ? cfg->pcap_savefile : s->ifname, s->dlt);
	if (apply_filter(s) < 0) {
		pcap_close(s->pc);
		s->pc = NULL;
		return -1;
	}
	return 0;
}

struct loop_ctx {
	struct pcap_src *s;
	struct pipeline *pl;
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *pkt)
{
	struct loop_ctx *c = (struct loop_ctx *)user;

	c->s->received++;
	/* files are not filtered by the kernel: apply pcap_filter here */
	if (c->s->has_filter && !c->s->live && !pcap_offline_filter(&c->s->filter, h, pkt)) {
		c->s->filtered++;
		return;
	}
	pipeline_packet(c->pl, c->s->dlt, h, pkt);
}

void pcap_src_log_stats(struct pcap_src *s, struct pipeline *pl)
{
	struct pcap_stat ps = { 0 };
	uint64_t dropped = 0;

	if (s->live && pcap_stats(s->pc, &ps) == 0)
		dropped = ps.ps_drop;
	for (int i = 0; i < pl->nfeeds; i++)
		dropped += atomic_load(&pl->feeds[i].stats->dropped_records);
	log_notice(WHO, "+++");
	log_notice(WHO, "stats [%s,0] time=%ld received_packets=%llu dropped_packets=%llu",
	    s->cfg->pcap_savefile ? s->cfg->pcap_savefile : s->ifname, (long)time(NULL),
	    (unsigned long long)s->received, (unsigned long long)dropped);
	for (int i = 0; i < PKT_DROP_COUNT; i++)
		if (pl->dstats.drops[i])
			log_notice(WHO, "stats decode %s=%llu", pkt_drop_name[i],
			    (unsigned long long)pl->dstats.drops[i]);
	for (int i = 0; i < pl->nfeeds; i++)
		plugin_log_stats(pl->feeds[i].plugin, WHO);
	gauges_log(s->cfg->gauges, WHO);
	log_notice(WHO, "---");
}

/*
 * Publish the capture's counters for the http plugin (health.h), at most
 * once a second unless `force`; only when an http plugin asked for them.
 */
static void health_refresh(struct pcap_src *s, const struct pipeline *pl, bool force)
{
	struct health_capture hc = { .live = s->live };
	struct pcap_stat ps;
	int64_t ms;

	if (!s->cfg->health)
		return;
	ms = clock_mono_coarse_ms();
	if (!force && ms - s->health_ms < HEALTH_REFRESH_MS)
		return;
	s->health_ms = ms;
	snprintf(hc.source, sizeof(hc.source), "%s", s->cfg->pcap_savefile ? s->cfg->pcap_savefile :
	    s->ifname);
	hc.received = s->received;
	hc.filtered = s->filtered;
	hc.decoded = pl->dstats.decoded;
	for (int i = 0; i < PKT_DROP_COUNT && i < HEALTH_MAX_DROPS; i++)
		hc.drops[i] = pl->dstats.drops[i];
	if (s->live && pcap_stats(s->pc, &ps) == 0) {
		hc.pcap_stats = true;
		hc.pcap_recv = ps.ps_recv;
		hc.pcap_drop = ps.ps_drop;
		hc.pcap_ifdrop = ps.ps_ifdrop;
	}
	health_publish_capture(s->cfg->health, &hc, pkt_drop_name, PKT_DROP_COUNT);
}

/* Wait until the capture has packets, a signal arrives, or timeout_ms pass. */
static void wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	(void)poll(&pfd, 1, timeout_ms);
}

static int reopen_file(struct pcap_src *s)
{
	pcap_close(s->pc);
	s->pc = NULL;
	return open_file(s);
}

/* Bytes of the capture file read so far, and its size (the progress line). */
static void file_position(struct pcap_src *s, uint64_t *done, uint64_t *total)
{
	FILE *f = pcap_file(s->pc);
	struct stat st;
	off_t at = f ? ftello(f) : -1;

	*done = at > 0 ? (uint64_t)at : 0;
	*total = f && fstat(fileno(f), &st) == 0 ? (uint64_t)st.st_size : 0;
}

int pcap_src_run(struct pcap_src *s, struct pipeline *pl, pcap_src_poll_fn should_stop, void *arg)
{
	struct loop_ctx c = { s, pl };
	uint32_t replays = s->cfg->pcap_savefile_replay;
	uint32_t passes = replays > 1 ? replays : 1, pass = 0;
	struct progress prog;
	uint64_t frames = 0, done = 0, total = 0;

	if (!s->live)
		file_position(s, &done, &total);
	progress_init(&prog, s->live ? "" : s->cfg->pcap_savefile, total * passes, STDERR_FILENO,
	    false, clock_mono_secs());
	prog.on = prog.on && !s->live;

	for (int i = 0; i < pl->nfeeds; i++)
		pl->feeds[i].wait_when_full = !s->live;
	if (!s->live && s->cfg->pcap_savefile_delay)
		sleep(s->cfg->pcap_savefile_delay);
	while (!should_stop(arg)) {
		if (s->live)
			wait_readable(s->fd, LIVE_TIMEOUT_MS);
		int n = pcap_dispatch(s->pc, s->live ? -1 : 4096, on_packet, (u_char *)&c);
		pipeline_batch_end(pl);	/* the RIB is not held while waiting for packets */
		if (n < 0 && n != PCAP_ERROR_BREAK) {
			log_err(WHO, "pcap_dispatch: %s", pcap_geterr(s->pc));
			return -1;
		}
		health_refresh(s, pl, false);
		if (s->live) {
			pipeline_flush(pl);	/* idle or not, hand over what we have */
			for (int i = 0; i < pl->nfeeds; i++)
				feed_report_drops(&pl->feeds[i], time(NULL));
			continue;
		}
		if (prog.on && n > 0) {
			frames += (uint64_t)n;
			file_position(s, &done, &total);
			progress_tick(&prog, done + pass * total, frames, clock_mono_secs());
		}
		if (n == 0) {	/* end of file */
			if (replays > 1) {
				pipeline_flush(pl);	/* the plugins get this pass before the pause */
				replays--;
				pass++;
				if (s->cfg->pcap_savefile_delay)
					sleep(s->cfg->pcap_savefile_delay);
				if (reopen_file(s) < 0)
					return -1;
				continue;
			}
			break;
		}
	}
	progress_done(&prog);
	pipeline_flush(pl);
	health_refresh(s, pl, true);	/* the whole file, for pcap_savefile_wait */
	return 0;
}

void pcap_src_close(struct pcap_src *s)
{
	if (s->has_filter)
		pcap_freecode(&s->filter);
	if (s->pc)
		pcap_close(s->pc);
	s->pc = NULL;
}
