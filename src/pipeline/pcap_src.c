/* SPDX-License-Identifier: BSD-3-Clause */
/* pcap_src.c: the pmacctd source: libpcap live capture or capture files. */
#include "pcap_src.h"

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/bpf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "model/gauge.h"
#include "lib/progress.h"
#include "lib/xalloc.h"
#include "model/health.h"

#define WHO "default/core"
#define LIVE_TIMEOUT_MS 500
/*
 * Live: a plugin's partial batch is handed over when the capture idles, or
 * at the latest this long after the previous hand-over.  Handing it over
 * after every read (each TPACKET_V3 block, ~1000 packets) would spend a
 * ring slot on each half-filled batch and halve what the plugin's ring
 * holds while the plugin thread waits for a CPU.
 */
#define LIVE_FLUSH_MS 100

static int apply_filter(struct pcap_src *s)
{
	const char *f = s->cfg->pcap_filter;
	if (!f || !*f)
		return 0;
	if (bpf_compile(s->pc ? s->pc : s->devs[0].pc, &s->filter, f, WHO, cfg_where(&s->cfg->origin, "pcap_filter"),
	    "pcap_filter") < 0) {
		log_err(WHO, "[%s] key 'pcap_filter': invalid filter '%s': %s. Exiting.",
		    cfg_where(&s->cfg->origin, "pcap_filter"), f, pcap_geterr(s->pc ? s->pc : s->devs[0].pc));
		return -1;
	}
	s->has_filter = true;
	if (s->live && s->pc && pcap_setfilter(s->pc, &s->filter) < 0) {
		log_err(WHO, "pcap_setfilter: %s", pcap_geterr(s->pc));
		return -1;
	}
	for (int i = 0; i < s->ndevs; i++)
		if (pcap_setfilter(s->devs[i].pc, &s->filter) < 0) {
			log_err(WHO, "[%s] pcap_setfilter: %s", s->devs[i].ifname, pcap_geterr(s->devs[i].pc));
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

static pcap_t *try_live(struct pcap_src *s, const char *ifname, char *err)
{
	pcap_t *pc = pcap_create(ifname, err);
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
	while (!(s->pc = try_live(s, s->ifname, err))) {
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

/* ---- pcap_ifindex, pcap_direction, pcap_interfaces_map ---- */

static enum pcap_ifindex_src ifindex_src(const struct core_cfg *cfg)
{
	enum pcap_ifindex_src how = PCAP_IFINDEX_NONE;

	if (cfg->pcap_ifindex[0])
		(void)pcap_ifindex_parse(cfg->pcap_ifindex, &how);	/* checked by pcap_src_check() */
	return how;
}

/* The ifindex packets of interface name carry under pcap_ifindex (map_index: the map row's). */
static uint32_t ifindex_of(enum pcap_ifindex_src how, const char *name, uint32_t map_index)
{
	switch (how) {
	case PCAP_IFINDEX_SYS: return if_nametoindex(name);
	case PCAP_IFINDEX_HASH: return pcap_ifindex_hash(name);
	case PCAP_IFINDEX_MAP: return map_index;
	default: return 0;
	}
}

/* in_iface / out_iface of an interface's packets: its ifindex on the side its direction names. */
static void iface_fields(enum pcap_dir dir, uint32_t ifindex, uint32_t *in, uint32_t *out)
{
	*in = dir == PCAP_DIR_IN ? ifindex : 0;
	*out = dir == PCAP_DIR_OUT ? ifindex : 0;
}

/* Capture only one direction (pcap_direction, a map row's direction=); 0 or -1 after logging. */
static int set_direction(pcap_t *pc, enum pcap_dir dir, const char *ifname)
{
	if (dir == PCAP_DIR_NONE)
		return 0;
	if (pcap_setdirection(pc, dir == PCAP_DIR_IN ? PCAP_D_IN : PCAP_D_OUT) < 0) {
		log_err(WHO, "[%s] cannot capture in one direction: %s", ifname, pcap_geterr(pc));
		return -1;
	}
	return 0;
}

int pcap_src_check(const struct core_cfg *cfg)
{
	enum pcap_ifindex_src how;
	enum pcap_dir dir;

	if (cfg->pcap_ifindex[0] && pcap_ifindex_parse(cfg->pcap_ifindex, &how) < 0) {
		log_err(WHO, "[%s] key 'pcap_ifindex': '%s': expected sys, hash, map or none. Exiting.",
		    cfg_where(&cfg->origin, "pcap_ifindex"), cfg->pcap_ifindex);
		return -1;
	}
	if (cfg->pcap_direction[0] && pcap_dir_parse(cfg->pcap_direction, &dir) < 0) {
		log_err(WHO, "[%s] key 'pcap_direction': '%s': expected in or out. Exiting.",
		    cfg_where(&cfg->origin, "pcap_direction"), cfg->pcap_direction);
		return -1;
	}
	if (!cfg->pcap_interfaces_map) {
		if (ifindex_src(cfg) == PCAP_IFINDEX_MAP) {
			log_err(WHO, "[%s] key 'pcap_ifindex': set to 'map' but no pcap_interfaces_map is "
			    "defined. Exiting.", cfg_where(&cfg->origin, "pcap_ifindex"));
			return -1;
		}
		return 0;
	}
	const char *other = cfg->pcap_savefile ? "pcap_savefile" : cfg->pcap_interface ? "pcap_interface" : NULL;
	if (other) {
		log_err(WHO, "[%s] key 'pcap_interfaces_map': not with %s (%s). Exiting.",
		    cfg_where(&cfg->origin, "pcap_interfaces_map"), other, cfg_where(&cfg->origin, other));
		return -1;
	}
	struct pcap_ifmap *m = xmalloc(sizeof(*m));
	char err[512];
	int rc = pcap_ifmap_load(cfg->pcap_interfaces_map, m, err, sizeof(err));
	if (rc < 0)
		log_err(WHO, "[%s] key 'pcap_interfaces_map': %s. Exiting.",
		    cfg_where(&cfg->origin, "pcap_interfaces_map"), err);
	free(m);
	return rc;
}

/*
 * Open interface r of the map into d (live, non-blocking, its direction);
 * its link type must be the capture's (s->dlt, or it sets it when -1).
 * 0, or -1 after logging.
 */
static int open_dev(struct pcap_src *s, struct pcap_dev *d, const struct pcap_ifmap_row *r)
{
	char err[PCAP_ERRBUF_SIZE] = "";

	memset(d, 0, sizeof(*d));
	d->src = s;
	snprintf(d->ifname, sizeof(d->ifname), "%s", r->ifname);
	if (!(d->pc = try_live(s, d->ifname, err))) {
		log_err(WHO, "[%s] cannot capture on interface '%s': %s", s->cfg->pcap_interfaces_map,
		    d->ifname, err);
		return -1;
	}
	uint32_t ifindex = ifindex_of(ifindex_src(s->cfg), d->ifname, r->ifindex);
	iface_fields(r->dir, ifindex, &d->in_iface, &d->out_iface);
	d->dir = r->dir;
	int dlt = pcap_datalink(d->pc);
	if (s->dlt >= 0 && dlt != s->dlt) {
		log_err(WHO, "[%s] interface '%s': link type %d, not the capture's %d",
		    s->cfg->pcap_interfaces_map, d->ifname, dlt, s->dlt);
	} else if (pcap_setnonblock(d->pc, 1, err) < 0 || (d->fd = pcap_get_selectable_fd(d->pc)) < 0) {
		log_err(WHO, "cannot poll interface '%s': %s", d->ifname, err);
	} else if (set_direction(d->pc, r->dir, d->ifname) == 0 &&
	    (!s->has_filter || pcap_setfilter(d->pc, &s->filter) == 0)) {
		s->dlt = dlt;
		log_info(WHO, "[%s,%u] link type is: %d", d->ifname, ifindex, dlt);
		return 0;
	}
	pcap_close(d->pc);
	d->pc = NULL;
	return -1;
}

static int open_map(struct pcap_src *s)
{
	struct pcap_ifmap *m = xmalloc(sizeof(*m));
	char err[512];

	log_info(WHO, "[%s] (re)loading map.", s->cfg->pcap_interfaces_map);
	if (pcap_ifmap_load(s->cfg->pcap_interfaces_map, m, err, sizeof(err)) < 0) {
		log_err(WHO, "[%s] key 'pcap_interfaces_map': %s. Exiting.",
		    cfg_where(&s->cfg->origin, "pcap_interfaces_map"), err);
		free(m);
		return -1;
	}
	log_info(WHO, "[%s] map successfully (re)loaded.", s->cfg->pcap_interfaces_map);
	s->live = true;
	s->dlt = -1;
	s->devs = xcalloc(PCAP_IFMAP_MAX, sizeof(*s->devs));
	for (size_t i = 0; i < m->n; i++) {
		if (open_dev(s, &s->devs[s->ndevs], &m->row[i]) < 0) {
			free(m);
			return -1;
		}
		s->ndevs++;
	}
	free(m);
	s->snaplen = pcap_snapshot(s->devs[0].pc);
	snprintf(s->ifname, sizeof(s->ifname), "%s", s->devs[0].ifname);
	return 0;
}

void pcap_src_reload(struct pcap_src *s)
{
	struct pcap_ifmap *m;
	char err[512];

	if (!s->ndevs)
		return;
	m = xmalloc(sizeof(*m));
	log_info(WHO, "[%s] (re)loading map.", s->cfg->pcap_interfaces_map);
	if (pcap_ifmap_load(s->cfg->pcap_interfaces_map, m, err, sizeof(err)) < 0) {
		log_warnx(WHO, "[%s] reload failed (%s); keeping the previous map.",
		    s->cfg->pcap_interfaces_map, err);
		free(m);
		return;
	}
	/* interfaces gone from the map */
	for (int i = 0; i < s->ndevs; i++)
		if (!pcap_ifmap_find(m, s->devs[i].ifname)) {
			log_info(WHO, "[%s] interface '%s' left the map: closed.", s->cfg->pcap_interfaces_map,
			    s->devs[i].ifname);
			pcap_close(s->devs[i].pc);
			s->devs[i--] = s->devs[--s->ndevs];
		}
	for (size_t r = 0; r < m->n; r++) {
		const struct pcap_ifmap_row *row = &m->row[r];
		struct pcap_dev *d = NULL;
		for (int i = 0; i < s->ndevs; i++)
			if (strcmp(s->devs[i].ifname, row->ifname) == 0)
				d = &s->devs[i];
		if (d) {	/* kept: its new ifindex and direction */
			uint32_t ifindex = ifindex_of(ifindex_src(s->cfg), d->ifname, row->ifindex);
			iface_fields(row->dir, ifindex, &d->in_iface, &d->out_iface);
			d->dir = row->dir;
			if (pcap_setdirection(d->pc, row->dir == PCAP_DIR_IN ? PCAP_D_IN :
			    row->dir == PCAP_DIR_OUT ? PCAP_D_OUT : PCAP_D_INOUT) < 0)
				log_warnx(WHO, "[%s] cannot change the capture direction: %s", d->ifname,
				    pcap_geterr(d->pc));
		} else if (open_dev(s, &s->devs[s->ndevs], row) == 0) {
			s->ndevs++;
		}
	}
	free(m);
	log_info(WHO, "[%s] map successfully (re)loaded.", s->cfg->pcap_interfaces_map);
}

int pcap_src_open(struct pcap_src *s, struct core_cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	if (cfg->pcap_interfaces_map) {
		if (open_map(s) < 0) {
			pcap_src_close(s);
			return -1;
		}
	} else if ((cfg->pcap_savefile ? open_file(s) : open_live(s)) < 0) {
		return -1;
	} else {
		enum pcap_dir dir = PCAP_DIR_NONE;
		uint32_t ifindex = 0;
		s->dlt = pcap_datalink(s->pc);
		if (s->live) {
			if (cfg->pcap_direction[0])
				(void)pcap_dir_parse(cfg->pcap_direction, &dir);	/* checked */
			ifindex = ifindex_of(ifindex_src(cfg), s->ifname, 0);
			iface_fields(dir, ifindex, &s->in_iface, &s->out_iface);
			s->dir = dir;
			if (set_direction(s->pc, dir, s->ifname) < 0) {
				pcap_src_close(s);
				return -1;
			}
		}
		log_info(WHO, "[%s,%u] link type is: %d", cfg->pcap_savefile ? cfg->pcap_savefile : s->ifname,
		    ifindex, s->dlt);
	}
	if (apply_filter(s) < 0) {
		pcap_src_close(s);
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
	pipeline_packet_at(c->pl, c->s->dlt, h, pkt, c->s->in_iface, c->s->out_iface,
	    (uint8_t)c->s->dir);
}

/* A packet of one of pcap_interfaces_map's interfaces. */
static void on_packet_dev(u_char *user, const struct pcap_pkthdr *h, const u_char *pkt)
{
	struct pcap_dev *d = (struct pcap_dev *)user;

	d->received++;
	d->src->received++;
	pipeline_packet_at(d->src->pl, d->src->dlt, h, pkt, d->in_iface, d->out_iface, (uint8_t)d->dir);
}

void pcap_src_log_stats(struct pcap_src *s, struct pipeline *pl)
{
	struct pcap_stat ps = { 0 };
	uint64_t dropped = 0;

	if (s->live && s->pc && pcap_stats(s->pc, &ps) == 0)
		dropped = ps.ps_drop;
	for (int i = 0; i < pl->nfeeds; i++)
		dropped += atomic_load(&pl->feeds[i].stats->dropped_records);
	log_notice(WHO, "+++");
	if (!s->ndevs)
		log_notice(WHO, "stats [%s,%u] time=%ld received_packets=%llu dropped_packets=%llu",
		    s->cfg->pcap_savefile ? s->cfg->pcap_savefile : s->ifname,
		    s->in_iface ? s->in_iface : s->out_iface, (long)time(NULL),
		    (unsigned long long)s->received, (unsigned long long)dropped);
	for (int i = 0; i < s->ndevs; i++) {	/* the plugins' drops on the first line */
		const struct pcap_dev *d = &s->devs[i];
		uint64_t dd = (i == 0 ? dropped : 0) + (pcap_stats(d->pc, &ps) == 0 ? ps.ps_drop : 0);
		log_notice(WHO, "stats [%s,%u] time=%ld received_packets=%llu dropped_packets=%llu",
		    d->ifname, d->in_iface ? d->in_iface : d->out_iface, (long)time(NULL),
		    (unsigned long long)d->received, (unsigned long long)dd);
	}
	pipeline_log_stats(pl, WHO);
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
	    s->ndevs ? s->cfg->pcap_interfaces_map : s->ifname);
	hc.received = s->received;
	hc.filtered = s->filtered;
	hc.decoded = pl->dstats.decoded;
	for (int i = 0; i < PKT_DROP_COUNT && i < HEALTH_MAX_DROPS; i++)
		hc.drops[i] = pl->dstats.drops[i];
	if (s->live && s->pc && pcap_stats(s->pc, &ps) == 0) {
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

/*
 * pcap_interfaces_map: wait until an interface has packets (or the timeout),
 * then read what each has.  Packets read, or -1 when a capture failed.
 */
static int run_devs(struct pcap_src *s)
{
	struct pollfd pfd[PCAP_IFMAP_MAX];
	int total = 0;

	for (int i = 0; i < s->ndevs; i++)
		pfd[i] = (struct pollfd){ .fd = s->devs[i].fd, .events = POLLIN };
	(void)poll(pfd, (nfds_t)s->ndevs, LIVE_TIMEOUT_MS);
	for (int i = 0; i < s->ndevs; i++) {
		int n = pcap_dispatch(s->devs[i].pc, -1, on_packet_dev, (u_char *)&s->devs[i]);
		if (n < 0 && n != PCAP_ERROR_BREAK) {
			log_err(WHO, "[%s] pcap_dispatch: %s", s->devs[i].ifname, pcap_geterr(s->devs[i].pc));
			return -1;
		}
		total += n > 0 ? n : 0;
	}
	return total;
}

int pcap_src_run(struct pcap_src *s, struct pipeline *pl, pcap_src_poll_fn should_stop, void *arg)
{
	struct loop_ctx c = { s, pl };
	uint32_t replays = s->cfg->pcap_savefile_replay;
	uint32_t passes = replays > 1 ? replays : 1, pass = 0;
	struct progress prog;
	uint64_t frames = 0, done = 0, total = 0;
	int64_t flushed_ms = clock_mono_coarse_ms();

	if (!s->live)
		file_position(s, &done, &total);
	progress_init(&prog, s->live ? "" : s->cfg->pcap_savefile, total * passes, STDERR_FILENO,
	    false, clock_mono_secs());
	prog.on = prog.on && !s->live;

	for (int i = 0; i < pl->nfeeds; i++)
		pl->feeds[i].wait_when_full = !s->live;
	if (!s->live && s->cfg->pcap_savefile_delay)
		sleep(s->cfg->pcap_savefile_delay);
	s->pl = pl;
	while (!should_stop(arg)) {
		int n;
		if (s->ndevs) {
			n = run_devs(s);
		} else {
			if (s->live)
				wait_readable(s->fd, LIVE_TIMEOUT_MS);
			n = pcap_dispatch(s->pc, s->live ? -1 : 4096, on_packet, (u_char *)&c);
		}
		pipeline_batch_end(pl);	/* the RIB is not held while waiting for packets */
		if (n < 0 && n != PCAP_ERROR_BREAK) {
			log_err(WHO, "pcap_dispatch: %s", s->pc ? pcap_geterr(s->pc) : "an interface failed");
			return -1;
		}
		health_refresh(s, pl, false);
		if (s->live) {
			int64_t ms = clock_mono_coarse_ms();
			if (n == 0 || ms - flushed_ms >= LIVE_FLUSH_MS) {
				pipeline_flush(pl);	/* idle, or a while since: hand over what we have */
				flushed_ms = ms;
				for (int i = 0; i < pl->nfeeds; i++)
					feed_report_drops(&pl->feeds[i], time(NULL));
			}
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
	for (int i = 0; i < s->ndevs; i++)
		pcap_close(s->devs[i].pc);
	free(s->devs);
	s->devs = NULL;
	s->ndevs = 0;
}
