/* SPDX-License-Identifier: BSD-3-Clause */
/* sf_collector.c: sfacctd's collector protocol: the sFlow decoder, renormalization, counter log, warnings and health. */
#include "pipeline/sf_collector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "decode/sflow.h"
#include "decode/sflow_state.h"
#include "lib/log.h"
#include "model/gauge.h"
#include "lib/xalloc.h"
#include "maps/rdmap.h"
#include "model/health.h"
#include "pipeline/pipeline.h"
#include "pipeline/sf_cntlog.h"

#define WHO "default/core"

/* One receive thread's sFlow state. */
struct sf_collector {
	struct sflow_state *ss;
	struct sflow_stats st;
	bool renormalize;
	uint32_t ext_rate;	/* sfacctd_ext_sampling_rate, 0 = none */
	bool map_renorm;	/* a sampling_map: the core renormalizes (core_maps.c) */
	const struct rec_sink *sink;
	struct sf_cntlog *cnt;	/* sfacctd_counter_file, NULL = none */
	char listen[80];	/* [ip:port] of SIGUSR1 lines */
	struct health_acc *acc;	/* per-agent counters for the http plugin, NULL = none */
	uint64_t warned[SFLOW_DROP_COUNT];	/* drops at the last warning */
	uint64_t warned_refused;
	int64_t warned_at;	/* when (the clock of sf_collector_tick), 0 = never */
	struct pkt_tun tun;	/* the tunnel_* primitives of sampled headers ... */
	const struct pkt_tun *tunp;	/* ... &tun when a plugin aggregates one, else NULL */
	struct rd_map *rdmap;	/* flow_to_rd_map, NULL = none */
	const char *rdmap_path;	/* its file (the config's string) */
};

/* sflow_sink.counter: one line in the counter log. */
static void on_counter(void *arg, const struct sflow_hdr *h, const struct sflow_counter *c)
{
	const struct sf_collector *s = arg;
	sf_cntlog_counter(s->cnt, h, c);
}

/*
 * sflow_sink.flow: renormalize if asked, then into the pipeline.  As
 * pmacct 1.7.7 (verified): sfacctd_ext_sampling_rate replaces the rate when
 * renormalizing, and only then; with a sampling_map the record goes on with
 * the effective rate in sampling_rate and the core's map renormalizes it.
 */
static void on_flow(void *arg, const struct sflow_hdr *h, const struct sflow_flow *f,
    struct flow_rec *rec)
{
	struct sf_collector *s = arg;

	if (s->renormalize && s->ext_rate) {
		rec->bytes *= s->ext_rate;
		rec->packets *= s->ext_rate;
		rec->k.sampling_rate = 1;
	} else if (s->renormalize && s->map_renorm) {
		rec->k.sampling_rate = sflow_state_eff_rate(s->ss, h, f);
	} else if (s->renormalize) {
		sflow_state_renormalize(s->ss, h, f, rec);
	}
	if (s->rdmap) {		/* mpls_vpn_rd: only the map writes it in sfacctd (1.7.7) */
		memset(rec->k.mpls_vpn_rd, 0, sizeof(rec->k.mpls_vpn_rd));
		rec->k.mpls_vpn_rd_origin = FR_RD_ORIGIN_UNKNOWN;
		rdmap_apply(s->rdmap, &rec->k);
	}
	s->sink->emit(s->sink->arg, rec);
}

/*
 * The http plugin's per-agent health: this datagram, its samples (what the
 * decoder counted since fs / cs) and its drop.  A datagram whose header did
 * not parse is only a drop, counted against its sender's address, sub-agent
 * 0, version 0.
 */
static void sfc_health_count(struct sf_collector *s, const struct dgram *d, const struct sflow_hdr *h,
    enum sflow_drop why, uint64_t fs, uint64_t cs)
{
	bool hdr = why != SFLOW_DROP_SHORT && why != SFLOW_DROP_VERSION && why != SFLOW_DROP_AGENT_AF;
	struct health_exporter *e = health_acc_get(s->acc, hdr ? &h->agent : &d->src,
	    hdr ? h->sub_agent : 0, true);

	if (!e)
		return;
	if (!hdr) {		/* as NetFlow's: only a drop, no datagram of a known version */
		e->drops[why]++;
		return;
	}
	e->version = (uint16_t)h->version;
	e->packets++;
	e->bytes += d->len;
	e->records += s->st.flow_samples - fs;
	e->counter_samples += s->st.counter_samples - cs;
	if (why != SFLOW_DROP_NONE && (int)why < HEALTH_MAX_DROPS)
		e->drops[why]++;
}

static void sfc_health_seq(void *arg, const struct sflow_agent_stats *a)
{
	struct health_exporter *e = health_acc_get(arg, &a->agent, a->sub_agent, false);

	if (e) {
		e->seq_good = a->seq_good;
		e->seq_fwd = a->seq_jmp_fwd;
		e->seq_bck = a->seq_jmp_bck;
	}
}

/* collector_proto.health: every agent, with the decoder's sequence checks. */
void sf_collector_health(void *state, struct health_build *b)
{
	struct sf_collector *s = state;

	health_build_names(b, HEALTH_SFLOW, sflow_drop_name, SFLOW_DROP_COUNT);
	if (!s->acc)
		return;
	sflow_state_foreach(s->ss, sfc_health_seq, s->acc);
	health_acc_offer(s->acc, b);
}

void sf_collector_datagram(void *state, const struct dgram *d, const struct rec_sink *sink)
{
	struct sf_collector *s = state;
	struct sflow_sink ss = { on_flow, s->cnt ? on_counter : NULL, s, s->tunp };
	struct sflow_hdr h;

	s->sink = sink;
	if (s->cnt)
		sf_cntlog_datagram(s->cnt, d);
	uint64_t fs = s->st.flow_samples, cs = s->st.counter_samples;
	enum sflow_drop why = sflow_decode(d->data, d->len, &ss, &s->st, &h);
	if (s->acc)
		sfc_health_count(s, d, &h, why, fs, cs);
	if (why != SFLOW_DROP_SHORT && why != SFLOW_DROP_VERSION && why != SFLOW_DROP_AGENT_AF)
		sflow_state_datagram(s->ss, &h, d->len);
	if (why != SFLOW_DROP_NONE)
		log_debug(WHO, "discarded sFlow datagram from agent: %s", sflow_drop_name[why]);
	if (s->cnt)
		sf_cntlog_flush(s->cnt);
}

void sf_collector_bounds(struct core_cfg *cfg, int thread, void *state)
{
	struct sf_collector *s = state;
	uint64_t me, mb;
	char ag[24], src[24];

	sflow_state_plan(&me, &mb);
	snprintf(ag, sizeof(ag), thread ? "agents#%d" : "agents", thread);
	snprintf(src, sizeof(src), thread ? "sources#%d" : "sources", thread);
	struct table_gauge *ga = gauges_add(cfg->gauges, WHO, ag, NULL, GAUGE_REFUSE, me, mb);
	struct table_gauge *gs = gauges_add(cfg->gauges, WHO, src, NULL, GAUGE_REFUSE, me, mb);
	if (s)
		sflow_state_set_gauges(s->ss, ga, gs);
	if (cfg->sf_counter_file) {	/* the counter log's agents */
		char cl[24];
		sf_cntlog_plan(&me, &mb);
		snprintf(cl, sizeof(cl), thread ? "counter_log#%d" : "counter_log", thread);
		struct table_gauge *gc = gauges_add(cfg->gauges, WHO, cl, "sfacctd_counter_file",
		    GAUGE_REFUSE, me, mb);
		if (s && s->cnt)
			sf_cntlog_set_gauge(s->cnt, gc);
	}
}

int sf_collector_check(const struct core_cfg *cfg)
{
	return rdmap_check_key(cfg, WHO);
}

void sf_collector_reload(void *state)
{
	struct sf_collector *s = state;

	rdmap_reload(&s->rdmap, s->rdmap_path, WHO);
}

void *sf_collector_new(struct core_cfg *cfg)
{
	struct sf_collector *s = xcalloc(1, sizeof(*s));

	if (cfg->flow_to_rd_map) {
		if (!(s->rdmap = rdmap_load_key(cfg, WHO))) {
			free(s);
			return NULL;
		}
		s->rdmap_path = cfg->flow_to_rd_map;
	}

	s->ss = sflow_state_new();
	if (pipeline_tun_setup(cfg, false, &s->tun))
		s->tunp = &s->tun;
	if (cfg->health)	/* as many agents as the decoder tracks apart */
		s->acc = health_acc_new(cfg->collector_max_exporters ? cfg->collector_max_exporters :
		    SFLOW_STATE_MAX);
	s->renormalize = cfg->renormalize;
	s->ext_rate = cfg->ext_sampling_rate;
	s->map_renorm = cfg->sampling_map && cfg->sampling_map[0];
	snprintf(s->listen, sizeof(s->listen), "%s:%u",
	    cfg->collector_ip ? cfg->collector_ip : "::",
	    cfg->collector_port ? cfg->collector_port : 6343u);
	if (cfg->sf_counter_output && strcmp(cfg->sf_counter_output, "json") != 0)
		log_warnx(WHO, "sfacctd_counter_output '%s' not supported: using json",
		    cfg->sf_counter_output);
	if (cfg->sf_counter_file) {
		s->cnt = sf_cntlog_new(cfg->sf_counter_file, cfg->timestamps_utc);
	}
	return s;
}

static void log_agent(void *arg, const struct sflow_agent_stats *a)
{
	const struct sf_collector *s = arg;
	char ip[INET6_ADDRSTRLEN];

	sf_agent_str(&a->agent, ip, sizeof(ip));
	log_notice(WHO, "stats [%s] agent=%s:%u time=%ld packets=%llu bytes=%llu seq_good=%llu "
	    "seq_jmp_fwd=%llu seq_jmp_bck=%llu", s->listen, ip, a->sub_agent, (long)time(NULL),
	    (unsigned long long)a->packets, (unsigned long long)a->bytes,
	    (unsigned long long)a->seq_good, (unsigned long long)a->seq_jmp_fwd,
	    (unsigned long long)a->seq_jmp_bck);
}

void sf_collector_log_stats(void *state)
{
	struct sf_collector *s = state;
	uint64_t bad = 0;

	sflow_state_foreach(s->ss, log_agent, s);
	for (int i = 1; i < SFLOW_DROP_COUNT; i++)
		bad += s->st.drops[i];
	log_notice(WHO, "stats [%s] time=%ld discarded_packets=%llu", s->listen, (long)time(NULL),
	    (unsigned long long)bad);
	for (int i = 1; i < SFLOW_DROP_COUNT; i++)
		if (s->st.drops[i])
			log_notice(WHO, "stats [%s] discarded: %s=%llu", s->listen, sflow_drop_name[i],
			    (unsigned long long)s->st.drops[i]);
	log_notice(WHO, "stats [%s] flow_samples=%llu counter_samples=%llu unknown_samples=%llu "
	    "unknown_records=%llu non_ip_headers=%llu", s->listen,
	    (unsigned long long)s->st.flow_samples, (unsigned long long)s->st.counter_samples,
	    (unsigned long long)s->st.unknown_samples, (unsigned long long)s->st.unknown_records,
	    (unsigned long long)s->st.non_ip);
}

/*
 * Once a second: what was dropped since the last warning, in one line at
 * most once a minute (SIGUSR1 has the details).
 */
void sf_collector_tick(void *state, int64_t now)
{
	struct sf_collector *s = state;
	char line[512];
	size_t off = 0;
	uint64_t refused = sflow_state_refused(s->ss);

	if (s->warned_at && now - s->warned_at < SF_COLLECTOR_WARN_EVERY)
		return;
	line[0] = '\0';
	off = log_count_deltas(line, sizeof(line), 0, sflow_drop_name, s->st.drops, s->warned, 1,
	    SFLOW_DROP_COUNT);
	if (off)
		log_warnx(WHO, "[%s] malformed sFlow datagrams since %s:%s (SIGUSR1: details)",
		    s->listen, s->warned_at ? "the last report" : "start", line);
	if (refused > s->warned_refused)
		log_warnx(WHO, "[%s] %d agents and data sources tracked; %llu datagrams or samples of "
		    "further ones not tracked apart", s->listen, SFLOW_STATE_MAX,
		    (unsigned long long)(refused - s->warned_refused));
	if (off || refused > s->warned_refused) {
		memcpy(s->warned, s->st.drops, sizeof(s->warned));
		s->warned_refused = refused;
		s->warned_at = now;
	}
}

/*
 * SIGHUP: close the counter log files (logrotate moved them); each is
 * opened again, appending, by its next line.
 */
void sf_collector_reopen(void *state)
{
	struct sf_collector *s = state;

	if (s->cnt)
		sf_cntlog_reopen(s->cnt);
}

void sf_collector_free(void *state)
{
	struct sf_collector *s = state;

	if (!s)
		return;
	sf_cntlog_free(s->cnt);
	rdmap_free(s->rdmap);
	sflow_state_free(s->ss);
	health_acc_free(s->acc);
	free(s);
}

