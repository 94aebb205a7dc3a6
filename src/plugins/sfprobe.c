/* SPDX-License-Identifier: BSD-3-Clause */
/* sfprobe.c: the sfprobe plugin: sampled packet headers and interface counters out as sFlow v5. */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "encode/sflow_export.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "plugins/nfprobe.h"
#include "plugins/nfprobe_net.h"
#include "plugins/plugin.h"

#define SFPROBE_COUNTER_MS 20000	/* interface counters every 20 s of packet time */

/* What the sfprobe_* keys say, parsed and checked (sfprobe_configure). */
struct sfprobe_settings {
	struct sfx_cfg xcfg;
	enum nfp_src dir_src, if_src;
	uint32_t ifindex;
	uint64_t speed;
	uint32_t rate;
	struct probe_addr to;		/* sfprobe_receiver */
	struct probe_addr src;		/* sfprobe_source_ip, when has_src */
	bool has_src;
};

struct sfprobe_state {
	struct sfx x;
	struct sfprobe_settings set;
	bool x_ready;
	int fd;
	uint64_t pool;			/* sample_pool: packets seen */
	uint64_t in_octets, out_octets, in_pkts, out_pkts;
	int64_t counters_at;		/* next counter sample, packet time ms */
	uint64_t send_errors;
	bool live;
	int64_t tick_at;
	struct plugin *p;
};

static void sfprobe_send(void *arg, const uint8_t *buf, size_t len)
{
	struct sfprobe_state *s = arg;

	if (send(s->fd, buf, len, 0) < 0 && s->send_errors++ % 1000 == 0)
		log_warn(s->p->who, "cannot send an sFlow datagram");
}

static int bad_key(const struct plugin *p, const char *key, const char *why)
{
	log_err(p->who, "[%s] key '%s[%s]': %s. Exiting.", cfg_where(&p->cfg->origin, key), key,
	    p->cfg->name, why);
	return -1;
}

/*
 * Fill *st from the sfprobe_* keys, checking every value: the one
 * validation of both -T config (sfprobe_check) and start-up (sfprobe_init).
 * Opens nothing.  0, or -1 after logging file, line and key.
 */
static int sfprobe_configure(const struct plugin *p, struct sfprobe_settings *st)
{
	const struct plugin_cfg *pc = p->cfg;
	const char *agent = pc->sfprobe_agentip ? pc->sfprobe_agentip : "127.0.0.1";
	char why[256];

	memset(st, 0, sizeof(*st));
	if (inet_pton(AF_INET, agent, st->xcfg.agent.a) == 1)
		st->xcfg.agent.af = 4;
	else if (inet_pton(AF_INET6, agent, st->xcfg.agent.a) == 1)
		st->xcfg.agent.af = 6;
	else
		return bad_key(p, "sfprobe_agentip", "not an IPv4 or IPv6 address");
	st->xcfg.sub_agent_id = pc->sfprobe_agentsubid;
	if (nfp_parse_src(pc->sfprobe_direction, false, &st->dir_src, NULL) < 0)
		return bad_key(p, "sfprobe_direction", "must be in, out, tag or tag2");
	if (nfp_parse_src(pc->sfprobe_ifindex, true, &st->if_src, &st->ifindex) < 0)
		return bad_key(p, "sfprobe_ifindex", "must be a number, tag or tag2");
	st->xcfg.source_index = st->if_src == NFP_VALUE ? st->ifindex : 0;
	st->speed = pc->sfprobe_ifspeed;
	st->rate = pc->sampling_rate ? pc->sampling_rate : 1;
	if (probe_addr_parse(pc->sfprobe_receiver ? pc->sfprobe_receiver : "127.0.0.1:6343", 6343,
	    &st->to, why, sizeof(why)) < 0)
		return bad_key(p, "sfprobe_receiver", why);
	if (pc->sfprobe_source_ip) {
		if (probe_source_parse(pc->sfprobe_source_ip, &st->to, &st->src, why, sizeof(why)) < 0)
			return bad_key(p, "sfprobe_source_ip", why);
		st->has_src = true;
	}
	return 0;
}

static int sfprobe_check(const struct plugin *p)
{
	struct sfprobe_settings st;

	return sfprobe_configure(p, &st);
}

/* Open the export socket on the settings sfprobe_check() accepted. */
static int sfprobe_init(struct plugin *p)
{
	struct sfprobe_state *s = xcalloc(1, sizeof(*s));
	struct sfprobe_settings *st = &s->set;
	char why[256], where[80];

	s->fd = -1;
	s->p = p;
	p->state = s;
	if (sfprobe_configure(p, st) < 0)
		return -1;
	struct probe_sock_opts o = { .src = st->has_src ? &st->src : NULL, .sndbuf = 4 << 20 };
	if ((s->fd = probe_sock_open(&st->to, &o, why, sizeof(why))) < 0)
		return bad_key(p, st->has_src ? "sfprobe_source_ip" : "sfprobe_receiver", why);
	s->live = p->core->pcap_savefile == NULL;
	log_info(p->who, "Exporting sFlow samples to %s, sampling rate %u",
	    probe_addr_str(&st->to, where, sizeof(where)), st->rate);
	return 0;
}

static void send_counters(struct sfprobe_state *s, int64_t now)
{
	struct sfx_counters c = {
		.ifindex = s->set.xcfg.source_index, .speed = s->set.speed,
		.in_octets = s->in_octets, .in_pkts = (uint32_t)s->in_pkts,
		.out_octets = s->out_octets, .out_pkts = (uint32_t)s->out_pkts,
	};

	sfx_add_counters(&s->x, &c, now);
	s->counters_at = now + SFPROBE_COUNTER_MS;
}

static void sfprobe_packet(struct plugin *p, const struct flow_rec *rec, const struct plugin_pkt *pk)
{
	struct sfprobe_state *s = p->state;
	int64_t now = rec->ts.sec * 1000 + rec->ts.usec / 1000;
	struct sfx_sample smp = { .rate = s->set.rate };
	bool out = false;

	if (!s->x_ready) {
		sfx_init(&s->x, &s->set.xcfg, now, sfprobe_send, s);
		s->x_ready = true;
		s->counters_at = now + SFPROBE_COUNTER_MS;
	}
	if (s->set.dir_src == NFP_OUT)
		out = true;
	else if (s->set.dir_src == NFP_TAG || s->set.dir_src == NFP_TAG2)
		out = (s->set.dir_src == NFP_TAG ? rec->k.tag : rec->k.tag2) == 2;
	uint32_t ifx = s->set.if_src == NFP_VALUE ? s->set.ifindex :
	    s->set.if_src == NFP_TAG ? (uint32_t)rec->k.tag :
	    s->set.if_src == NFP_TAG2 ? (uint32_t)rec->k.tag2 : 0;
	if (out) {
		smp.output = ifx ? ifx : rec->k.out_iface;
		smp.input = rec->k.in_iface;
		s->out_octets += pk->pool_bytes;
		s->out_pkts += pk->pool;
	} else {
		smp.input = ifx ? ifx : rec->k.in_iface;
		smp.output = rec->k.out_iface;
		s->in_octets += pk->pool_bytes;
		s->in_pkts += pk->pool;
	}
	s->pool += pk->pool;
	smp.pool = (uint32_t)s->pool;
	smp.frame_len = pk->frame_len;
	if (pk->linktype == DLT_EN10MB) {
		smp.header_protocol = SFX_HP_ETHERNET;
		smp.hdr = pk->hdr;
		smp.hdr_len = pk->caplen;
	} else {
		/* other links: the sample starts at the IP header */
		uint16_t off = pk->l3_off < pk->caplen ? pk->l3_off : pk->caplen;
		smp.hdr = pk->hdr + off;
		smp.hdr_len = pk->caplen - off;
		smp.frame_len = pk->frame_len > off ? pk->frame_len - off : 0;
		smp.header_protocol = rec->k.src_ip.af == 6 ? SFX_HP_IPV6 : SFX_HP_IPV4;
	}
	sfx_add_sample(&s->x, &smp, now);
	if (now >= s->counters_at)
		send_counters(s, now);
}

static void sfprobe_record(struct plugin *p, const struct flow_rec *rec)
{
	(void)p;
	(void)rec;
}

static int sfprobe_next_tick_ms(struct plugin *p)
{
	struct sfprobe_state *s = p->state;
	int64_t left;

	if (!s->live)
		return -1;
	left = s->tick_at - clock_wall_ms();
	return left <= 0 ? 0 : (int)left;
}

/* Live capture: samples leave within a second, counters every 20 s even when idle. */
static void sfprobe_tick(struct plugin *p)
{
	struct sfprobe_state *s = p->state;
	int64_t now = clock_wall_ms();

	s->tick_at = now + 1000;
	if (!s->x_ready)
		return;
	if (now >= s->counters_at)
		send_counters(s, now);
	sfx_flush(&s->x);
}

static void sfprobe_flush(struct plugin *p)
{
	struct sfprobe_state *s = p->state;

	if (!s->x_ready)
		return;
	send_counters(s, s->x.now_ms);
	sfx_flush(&s->x);
	log_info(p->who, "exported %llu samples in %llu datagrams",
	    (unsigned long long)s->x.samples, (unsigned long long)s->x.datagrams);
}

static void sfprobe_fini(struct plugin *p)
{
	struct sfprobe_state *s = p->state;

	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	p->state = NULL;
}

/* What a sample needs besides the frame: interfaces, tags (direction, ifindex), family. */
static const enum prim_id sfprobe_needs[] = {
	P_SRC_HOST, P_IN_IFACE, P_OUT_IFACE, P_TAG, P_TAG2, P_COUNT
};

const struct plugin_type sfprobe_plugin_type = {
	.name = "sfprobe",
	.daemons = SRC_PM,
	.needs = sfprobe_needs,
	.check = sfprobe_check,
	.init = sfprobe_init,
	.record = sfprobe_record,
	.packet = sfprobe_packet,
	.next_tick_ms = sfprobe_next_tick_ms,
	.tick = sfprobe_tick,
	.flush = sfprobe_flush,
	.fini = sfprobe_fini,
};
