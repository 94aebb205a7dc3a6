/* SPDX-License-Identifier: BSD-3-Clause */
/* sfacctd.c: the sFlow collector daemon: the sFlow decoder wired into the shared collector, and the counter log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "bin/collector_main.h"
#include "decode/sflow.h"
#include "decode/sflow_state.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "model/prim.h"
#include "model/health.h"

#define WHO "default/core"
#define BANNER "sFlow Accounting Daemon, sfacctd " PMACCT_NG_VERSION

/*
 * sfacctd_counter_file: one JSON line per counter block, as pmacct 1.7.7
 * writes them (checked against it): a "log_init" line the first time an
 * agent is seen, then "log" lines with a sequence number shared by every
 * agent, the datagram's arrival time, the agent, the data source index,
 * the datagram and counter-sample sequence numbers and the counters.  A
 * `$peer_src_ip` in the file name gives one file per agent.
 */
struct cnt_file {
	struct fr_ip agent;	/* agent of a per-agent file; af 0 for the shared one */
	FILE *fp;
};

struct cnt_log {
	char *path;		/* template */
	bool per_agent;
	bool utc;
	uint64_t seq;
	struct cnt_file *files;
	size_t n;
	struct fr_ip *seen;	/* agents that had their log_init line */
	size_t nseen;
	char ts[40];		/* timestamp of the datagram being decoded */
};

struct sfd {
	struct sflow_state *ss;
	struct sflow_stats st;
	bool renormalize;
	uint32_t ext_rate;	/* sfacctd_ext_sampling_rate, 0 = none */
	bool map_renorm;	/* a sampling_map: the core renormalizes (core_maps.c) */
	const struct rec_sink *sink;
	struct cnt_log *cnt;
	char listen[80];	/* [ip:port] of SIGUSR1 lines */
	struct health_acc *acc;	/* per-agent counters for the http plugin, NULL = none */
	uint64_t warned[SFLOW_DROP_COUNT];	/* drops at the last warning */
	uint64_t warned_refused;
	int64_t warned_at;	/* when (the clock of sfd_tick), 0 = never */
};

static void ip_str(const struct fr_ip *ip, char *buf, size_t len)
{
	if (!ip->af || !inet_ntop(ip->af == 4 ? AF_INET : AF_INET6, ip->a, buf, (socklen_t)len))
		snprintf(buf, len, "0.0.0.0");
}

/* The file name for an agent: the template with $peer_src_ip replaced. */
static void cnt_path(const struct cnt_log *l, const struct fr_ip *agent, char *out, size_t len)
{
	const char *var = "$peer_src_ip";
	const char *p = strstr(l->path, var);
	char ip[INET6_ADDRSTRLEN];

	if (!p) {
		snprintf(out, len, "%s", l->path);
		return;
	}
	ip_str(agent, ip, sizeof(ip));
	snprintf(out, len, "%.*s%s%s", (int)(p - l->path), l->path, ip, p + strlen(var));
}

static FILE *cnt_file(struct cnt_log *l, const struct fr_ip *agent)
{
	struct fr_ip key = { 0 };
	char path[4096];

	if (l->per_agent)
		key = *agent;
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(&l->files[i].agent, &key, sizeof(key)) == 0)
			return l->files[i].fp;
	if (l->n >= SFLOW_STATE_MAX)
		return NULL;
	cnt_path(l, agent, path, sizeof(path));
	FILE *fp = fopen(path, "a");
	if (!fp) {
		log_warnx(WHO, "sfacctd_counter_file: cannot open '%s'", path);
		return NULL;
	}
	l->files = xrealloc(l->files, (l->n + 1) * sizeof(*l->files));
	l->files[l->n].agent = key;
	l->files[l->n].fp = fp;
	l->n++;
	return fp;
}

static void cnt_stamp(struct cnt_log *l, const struct fr_ts *ts)
{
	struct tm tm;
	time_t t = (time_t)ts->sec;
	char b[32];

	if (l->utc)
		gmtime_r(&t, &tm);
	else
		localtime_r(&t, &tm);
	strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(l->ts, sizeof(l->ts), "%s.%06ld", b, (long)ts->usec);
}

/* The log_init line, once per agent. */
static void cnt_init_agent(struct cnt_log *l, FILE *fp, const struct fr_ip *agent, const char *ip)
{
	for (size_t i = 0; i < l->nseen; i++)
		if (memcmp(&l->seen[i], agent, sizeof(*agent)) == 0)
			return;
	l->seen = xrealloc(l->seen, (l->nseen + 1) * sizeof(*l->seen));
	l->seen[l->nseen++] = *agent;
	fprintf(fp, "{\"seq\": %llu, \"timestamp\": \"%s\", \"peer_src_ip\": \"%s\", "
	    "\"event_type\": \"log_init\"}\n", (unsigned long long)l->seq++, l->ts, ip);
}

/*
 * 1.7.7 opens an agent's counter log (its log_init line) on the agent's
 * first datagram, whatever it carries: peek at the header for the agent.
 */
static void cnt_datagram(struct cnt_log *l, const struct dgram *d)
{
	struct sflow_hdr h;
	char ip[INET6_ADDRSTRLEN];

	if (sflow_header(d->data, d->len, &h) != SFLOW_DROP_NONE)
		return;
	FILE *fp = cnt_file(l, &h.agent);
	if (!fp)
		return;
	ip_str(&h.agent, ip, sizeof(ip));
	cnt_init_agent(l, fp, &h.agent, ip);
}

static void cnt_generic(FILE *fp, const struct sflow_if_counters *g)
{
	fprintf(fp, ", \"ifIndex\": %u, \"ifType\": %u, "
	    "\"ifSpeed\": %llu, \"ifDirection\": %u, \"ifStatus\": %u, \"ifInOctets\": %llu, "
	    "\"ifInUcastPkts\": %u, \"ifInMulticastPkts\": %u, \"ifInBroadcastPkts\": %u, "
	    "\"ifInDiscards\": %u, \"ifInErrors\": %u, \"ifInUnknownProtos\": %u, "
	    "\"ifOutOctets\": %llu, \"ifOutUcastPkts\": %u, \"ifOutMulticastPkts\": %u, "
	    "\"ifOutBroadcastPkts\": %u, \"ifOutDiscards\": %u, \"ifOutErrors\": %u, "
	    "\"ifPromiscuousMode\": %u",
	    g->ifIndex, g->ifType, (unsigned long long)g->ifSpeed, g->ifDirection, g->ifStatus,
	    (unsigned long long)g->ifInOctets, g->ifInUcastPkts, g->ifInMulticastPkts,
	    g->ifInBroadcastPkts, g->ifInDiscards, g->ifInErrors, g->ifInUnknownProtos,
	    (unsigned long long)g->ifOutOctets, g->ifOutUcastPkts, g->ifOutMulticastPkts,
	    g->ifOutBroadcastPkts, g->ifOutDiscards, g->ifOutErrors, g->ifPromiscuousMode);
}

static void cnt_ethernet(FILE *fp, const struct sflow_eth_counters *e)
{
	static const char *const names[13] = {
		"dot3StatsAlignmentErrors", "dot3StatsFCSErrors", "dot3StatsSingleCollisionFrames",
		"dot3StatsMultipleCollisionFrames", "dot3StatsSQETestErrors",
		"dot3StatsDeferredTransmissions", "dot3StatsLateCollisions",
		"dot3StatsExcessiveCollisions", "dot3StatsInternalMacTransmitErrors",
		"dot3StatsCarrierSenseErrors", "dot3StatsFrameTooLongs",
		"dot3StatsInternalMacReceiveErrors", "dot3StatsSymbolErrors",
	};

	for (int i = 0; i < 13; i++)
		fprintf(fp, ", \"%s\": %u", names[i], e->v[i]);
}

static void cnt_vlan(FILE *fp, const struct sflow_vlan_counters *v)
{
	fprintf(fp, ", \"octets\": %llu, \"ucastPkts\": %u, "
	    "\"multicastPkts\": %u, \"broadcastPkts\": %u, \"discards\": %u, \"vlan\": %u",
	    (unsigned long long)v->octets, v->ucastPkts, v->multicastPkts, v->broadcastPkts,
	    v->discards, v->vlan_id);
}

/* sflow_sink.counter: one JSON line per counter block. */
static void on_counter(void *arg, const struct sflow_hdr *h, const struct sflow_counter *c)
{
	struct sfd *s = arg;
	struct cnt_log *l = s->cnt;
	char ip[INET6_ADDRSTRLEN];

	if (!l)
		return;
	FILE *fp = cnt_file(l, &h->agent);
	if (!fp)
		return;
	ip_str(&h->agent, ip, sizeof(ip));
	fprintf(fp, "{\"seq\": %llu, \"timestamp\": \"%s\", \"peer_ip_src\": \"%s\", "
	    "\"event_type\": \"log\", \"source_id_index\": %u, \"sflow_seq\": %u, "
	    "\"sflow_cnt_seq\": %u, \"sf_cnt_type\": \"%s\"", (unsigned long long)l->seq++, l->ts,
	    ip, c->ds_index, h->seqno, c->seqno,
	    (c->type & SFLOW_CNT_ETHERNET) ? "sflow_cnt_ethernet" :
	    (c->type & SFLOW_CNT_GENERIC) ? "sflow_cnt_generic" : "sflow_cnt_vlan");
	/* v2/v4 ethernet counters: one object, generic fields then dot3 ones (1.7.7) */
	if (c->type & SFLOW_CNT_GENERIC)
		cnt_generic(fp, &c->gen);
	if (c->type & SFLOW_CNT_ETHERNET)
		cnt_ethernet(fp, &c->eth);
	if (c->type & SFLOW_CNT_VLAN)
		cnt_vlan(fp, &c->vlan);
	fputs("}\n", fp);
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
	struct sfd *s = arg;

	if (s->renormalize && s->ext_rate) {
		rec->bytes *= s->ext_rate;
		rec->packets *= s->ext_rate;
		rec->k.sampling_rate = 1;
	} else if (s->renormalize && s->map_renorm) {
		rec->k.sampling_rate = sflow_state_eff_rate(s->ss, h, f);
	} else if (s->renormalize) {
		sflow_state_renormalize(s->ss, h, f, rec);
	}
	s->sink->emit(s->sink->arg, rec);
}

/*
 * The http plugin's per-agent health: this datagram, its samples (what the
 * decoder counted since fs / cs) and its drop.  A datagram whose header did
 * not parse is only a drop, counted against its sender's address, sub-agent
 * 0, version 0.
 */
static void sfd_health_count(struct sfd *s, const struct dgram *d, const struct sflow_hdr *h,
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

static void sfd_health_seq(void *arg, const struct sflow_agent_stats *a)
{
	struct health_exporter *e = health_acc_get(arg, &a->agent, a->sub_agent, false);

	if (e) {
		e->seq_good = a->seq_good;
		e->seq_fwd = a->seq_jmp_fwd;
		e->seq_bck = a->seq_jmp_bck;
	}
}

/* collector_proto.health: every agent, with the decoder's sequence checks. */
static void sfd_health(void *state, struct health_build *b)
{
	struct sfd *s = state;

	health_build_names(b, HEALTH_SFLOW, sflow_drop_name, SFLOW_DROP_COUNT);
	if (!s->acc)
		return;
	sflow_state_foreach(s->ss, sfd_health_seq, s->acc);
	health_acc_offer(s->acc, b);
}

static void sfd_datagram(void *state, const struct dgram *d, const struct rec_sink *sink)
{
	struct sfd *s = state;
	struct sflow_sink ss = { on_flow, s->cnt ? on_counter : NULL, s };
	struct sflow_hdr h;

	s->sink = sink;
	if (s->cnt)
		cnt_stamp(s->cnt, &d->ts);
	if (s->cnt)
		cnt_datagram(s->cnt, d);
	uint64_t fs = s->st.flow_samples, cs = s->st.counter_samples;
	enum sflow_drop why = sflow_decode(d->data, d->len, &ss, &s->st, &h);
	if (s->acc)
		sfd_health_count(s, d, &h, why, fs, cs);
	if (why != SFLOW_DROP_SHORT && why != SFLOW_DROP_VERSION && why != SFLOW_DROP_AGENT_AF)
		sflow_state_datagram(s->ss, &h, d->len);
	if (why != SFLOW_DROP_NONE)
		log_debug(WHO, "discarded sFlow datagram from agent: %s", sflow_drop_name[why]);
	for (size_t i = 0; s->cnt && i < s->cnt->n; i++)
		fflush(s->cnt->files[i].fp);
}

static void *sfd_new(struct core_cfg *cfg)
{
	struct sfd *s = xcalloc(1, sizeof(*s));

	s->ss = sflow_state_new();
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
		s->cnt = xcalloc(1, sizeof(*s->cnt));
		s->cnt->path = xstrdup(cfg->sf_counter_file);
		s->cnt->per_agent = strstr(cfg->sf_counter_file, "$peer_src_ip") != NULL;
		s->cnt->utc = cfg->timestamps_utc;
	}
	return s;
}

static void log_agent(void *arg, const struct sflow_agent_stats *a)
{
	const struct sfd *s = arg;
	char ip[INET6_ADDRSTRLEN];

	ip_str(&a->agent, ip, sizeof(ip));
	log_notice(WHO, "stats [%s] agent=%s:%u time=%ld packets=%llu bytes=%llu seq_good=%llu "
	    "seq_jmp_fwd=%llu seq_jmp_bck=%llu", s->listen, ip, a->sub_agent, (long)time(NULL),
	    (unsigned long long)a->packets, (unsigned long long)a->bytes,
	    (unsigned long long)a->seq_good, (unsigned long long)a->seq_jmp_fwd,
	    (unsigned long long)a->seq_jmp_bck);
}

static void sfd_log_stats(void *state)
{
	struct sfd *s = state;
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

/* Seconds between two warnings about dropped input: hostile input must not flood the log. */
#define SFD_WARN_EVERY 60

/*
 * Once a second: what was dropped since the last warning, in one line at
 * most once a minute (SIGUSR1 has the details).
 */
static void sfd_tick(void *state, int64_t now)
{
	struct sfd *s = state;
	char line[512];
	size_t off = 0;
	uint64_t refused = sflow_state_refused(s->ss);

	if (s->warned_at && now - s->warned_at < SFD_WARN_EVERY)
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
static void sfd_reopen(void *state)
{
	struct sfd *s = state;

	if (!s->cnt)
		return;
	for (size_t i = 0; i < s->cnt->n; i++)
		fclose(s->cnt->files[i].fp);
	s->cnt->n = 0;
	log_info(WHO, "[%s] sfacctd_counter_file reopened.", s->cnt->path);
}

static void sfd_free(void *state)
{
	struct sfd *s = state;

	if (!s)
		return;
	if (s->cnt) {
		for (size_t i = 0; i < s->cnt->n; i++)
			fclose(s->cnt->files[i].fp);
		free(s->cnt->files);
		free(s->cnt->seen);
		free(s->cnt->path);
		free(s->cnt);
	}
	sflow_state_free(s->ss);
	health_acc_free(s->acc);
	free(s);
}

static const struct collector_proto sfacctd_proto = {
	.daemon = "sfacctd",
	.source = SRC_SF,
	.default_port = 6343,
	.ready_fmt = "waiting for sFlow data on %s:%u",
	.state_new = sfd_new,
	.datagram = sfd_datagram,
	.log_stats = sfd_log_stats,
	.tick = sfd_tick,
	.reopen = sfd_reopen,
	.state_free = sfd_free,
	.health = sfd_health,
};

int main(int argc, char **argv)
{
	return collector_main(argc, argv, CFG_SFACCTD, &sfacctd_proto, BANNER);
}
