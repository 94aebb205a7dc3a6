/* SPDX-License-Identifier: BSD-3-Clause */
/* sf_cntlog.c: sfacctd_counter_file: sFlow counter samples as pmacct's JSON lines, one file or one per agent. */
#include "pipeline/sf_cntlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "decode/sflow_state.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "model/gauge.h"

#define WHO "default/core"

/* An open file: an agent's, or the shared one. */
struct cnt_file {
	struct fr_ip agent;	/* agent of a per-agent file; af 0 for the shared one */
	FILE *fp;
};

/*
 * An agent the log has seen: whether it had its log_init line, and its
 * file (an index in files, -1 none yet).  In an open-addressing table of
 * at most SFLOW_STATE_MAX agents: a flood of spoofed agents costs one
 * probe per datagram and bounded memory (agents past the ceiling get no
 * log_init line and no file of their own, counted).
 */
struct cnt_agent {
	struct fr_ip agent;
	bool used, seen;
	int32_t file;
};

/* The log: its open files, the agents it has seen, the shared sequence. */
struct sf_cntlog {
	char *path;		/* template */
	bool per_agent;
	bool utc;
	uint64_t seq;
	struct cnt_file *files;
	size_t n;
	struct cnt_agent *agents;	/* cap slots, a power of two */
	size_t cap, nagents;
	uint64_t seed;
	uint64_t refused;	/* datagrams of agents past SFLOW_STATE_MAX */
	uint64_t open_failed;	/* per-agent files that could not be opened */
	int64_t warned_at;	/* last warning about either, 0 = never */
	struct table_gauge *gauge;
	char ts[40];		/* timestamp of the datagram being decoded */
};

#define CNT_WARN_EVERY	60	/* seconds between warnings */

void sf_agent_str(const struct fr_ip *ip, char *buf, size_t len)
{
	if (!ip->af || !inet_ntop(ip->af == 4 ? AF_INET : AF_INET6, ip->a, buf, (socklen_t)len))
		snprintf(buf, len, "0.0.0.0");
}

/* The file name for an agent: the template with $peer_src_ip replaced. */
static void cnt_path(const struct sf_cntlog *l, const struct fr_ip *agent, char *out, size_t len)
{
	const char *var = "$peer_src_ip";
	const char *p = strstr(l->path, var);
	char ip[INET6_ADDRSTRLEN];

	if (!p) {
		snprintf(out, len, "%s", l->path);
		return;
	}
	sf_agent_str(agent, ip, sizeof(ip));
	snprintf(out, len, "%.*s%s%s", (int)(p - l->path), l->path, ip, p + strlen(var));
}

void sf_cntlog_plan(uint64_t *entries, uint64_t *bytes)
{
	*entries = SFLOW_STATE_MAX;
	*bytes = (uint64_t)sflow_state_slots_max() * sizeof(struct cnt_agent);
}

static void cnt_publish(struct sf_cntlog *l)
{
	gauge_set(l->gauge, l->nagents, (uint64_t)l->cap * sizeof(struct cnt_agent));
}

void sf_cntlog_set_gauge(struct sf_cntlog *l, struct table_gauge *g)
{
	l->gauge = g;
	cnt_publish(l);
}

static void cnt_grow(struct sf_cntlog *l)
{
	size_t cap = l->cap ? l->cap * 2 : 64;
	struct cnt_agent *t = xcalloc(cap, sizeof(*t));

	for (size_t i = 0; i < l->cap; i++) {
		if (!l->agents[i].used)
			continue;
		size_t j = (size_t)hash_bytes(&l->agents[i].agent, sizeof(struct fr_ip), l->seed) & (cap - 1);
		while (t[j].used)
			j = (j + 1) & (cap - 1);
		t[j] = l->agents[i];
	}
	free(l->agents);
	l->agents = t;
	l->cap = cap;
}

/* The entry of agent (key zeroed before it was filled), made if there is room; NULL past the ceiling. */
static struct cnt_agent *cnt_agent(struct sf_cntlog *l, const struct fr_ip *agent)
{
	if ((l->nagents + 1) * 2 > l->cap && l->nagents < SFLOW_STATE_MAX)
		cnt_grow(l);
	size_t mask = l->cap - 1;
	for (size_t i = (size_t)hash_bytes(agent, sizeof(*agent), l->seed) & mask;; i = (i + 1) & mask) {
		struct cnt_agent *a = &l->agents[i];
		if (a->used) {
			if (memcmp(&a->agent, agent, sizeof(*agent)) == 0)
				return a;
			continue;
		}
		if (l->nagents >= SFLOW_STATE_MAX) {
			l->refused++;
			gauge_hit(l->gauge, 1);
			return NULL;
		}
		a->used = true;
		a->agent = *agent;
		a->file = -1;
		l->nagents++;
		cnt_publish(l);
		return a;
	}
}

/* Warn about agents past the ceiling and files not opened, at most once a minute. */
static void cnt_warn(struct sf_cntlog *l, int64_t now)
{
	if ((!l->refused && !l->open_failed) || (l->warned_at && now - l->warned_at < CNT_WARN_EVERY))
		return;
	log_warnx(WHO, "[%s] sfacctd_counter_file: %llu datagrams of agents past %d not logged, "
	    "%llu per-agent files could not be opened, since the last report", l->path,
	    (unsigned long long)l->refused, SFLOW_STATE_MAX, (unsigned long long)l->open_failed);
	l->refused = l->open_failed = 0;
	l->warned_at = now;
}

static FILE *cnt_file(struct sf_cntlog *l, struct cnt_agent *a)
{
	struct fr_ip key = { 0 };
	char path[4096];

	if (!l->per_agent && l->n)
		return l->files[0].fp;
	if (l->per_agent && a->file >= 0)
		return l->files[a->file].fp;
	if (l->per_agent)
		key = a->agent;
	cnt_path(l, &a->agent, path, sizeof(path));
	FILE *fp = fopen(path, "a");
	if (!fp) {
		if (!l->per_agent)
			log_warnx(WHO, "sfacctd_counter_file: cannot open '%s'", path);
		l->open_failed++;
		return NULL;
	}
	l->files = xrealloc(l->files, (l->n + 1) * sizeof(*l->files));
	l->files[l->n].agent = key;
	l->files[l->n].fp = fp;
	if (l->per_agent)
		a->file = (int32_t)l->n;
	l->n++;
	return fp;
}

static void cnt_stamp(struct sf_cntlog *l, const struct fr_ts *ts)
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
static void cnt_init_agent(struct sf_cntlog *l, FILE *fp, struct cnt_agent *a, const char *ip)
{
	if (a->seen)
		return;
	a->seen = true;
	fprintf(fp, "{\"seq\": %llu, \"timestamp\": \"%s\", \"peer_src_ip\": \"%s\", "
	    "\"event_type\": \"log_init\"}\n", (unsigned long long)l->seq++, l->ts, ip);
}

/*
 * 1.7.7 opens an agent's counter log (its log_init line) on the agent's
 * first datagram, whatever it carries: peek at the header for the agent.
 */
void sf_cntlog_datagram(struct sf_cntlog *l, const struct dgram *d)
{
	struct sflow_hdr h;
	char ip[INET6_ADDRSTRLEN];

	cnt_stamp(l, &d->ts);
	cnt_warn(l, d->ts.sec);
	if (sflow_header(d->data, d->len, &h) != SFLOW_DROP_NONE)
		return;
	struct cnt_agent *a = cnt_agent(l, &h.agent);
	FILE *fp = a ? cnt_file(l, a) : NULL;
	if (!fp)
		return;
	sf_agent_str(&h.agent, ip, sizeof(ip));
	cnt_init_agent(l, fp, a, ip);
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

void sf_cntlog_counter(struct sf_cntlog *l, const struct sflow_hdr *h,
    const struct sflow_counter *c)
{
	char ip[INET6_ADDRSTRLEN];
	struct cnt_agent *a = cnt_agent(l, &h->agent);
	FILE *fp = a ? cnt_file(l, a) : NULL;

	if (!fp)
		return;
	sf_agent_str(&h->agent, ip, sizeof(ip));
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

struct sf_cntlog *sf_cntlog_new(const char *path, bool utc)
{
	struct sf_cntlog *l = xcalloc(1, sizeof(*l));

	l->path = xstrdup(path);
	l->per_agent = strstr(path, "$peer_src_ip") != NULL;
	l->utc = utc;
	l->seed = hash_seed();
	return l;
}

void sf_cntlog_flush(struct sf_cntlog *l)
{
	for (size_t i = 0; i < l->n; i++)
		fflush(l->files[i].fp);
}

void sf_cntlog_reopen(struct sf_cntlog *l)
{
	for (size_t i = 0; i < l->n; i++)
		fclose(l->files[i].fp);
	l->n = 0;
	for (size_t i = 0; i < l->cap; i++)
		l->agents[i].file = -1;
	log_info(WHO, "[%s] sfacctd_counter_file reopened.", l->path);
}

void sf_cntlog_free(struct sf_cntlog *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		fclose(l->files[i].fp);
	free(l->files);
	free(l->agents);
	free(l->path);
	free(l);
}
