/* SPDX-License-Identifier: BSD-3-Clause */
/* sf_cntlog.c: sfacctd_counter_file: sFlow counter samples as pmacct's JSON lines, one file or one per agent. */
#include "pipeline/sf_cntlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "decode/sflow_state.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define WHO "default/core"

/* An open file: an agent's, or the shared one. */
struct cnt_file {
	struct fr_ip agent;	/* agent of a per-agent file; af 0 for the shared one */
	FILE *fp;
};

/* The log: its open files, the agents that had their log_init, the shared sequence. */
struct sf_cntlog {
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

static FILE *cnt_file(struct sf_cntlog *l, const struct fr_ip *agent)
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
static void cnt_init_agent(struct sf_cntlog *l, FILE *fp, const struct fr_ip *agent, const char *ip)
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
void sf_cntlog_datagram(struct sf_cntlog *l, const struct dgram *d)
{
	struct sflow_hdr h;
	char ip[INET6_ADDRSTRLEN];

	cnt_stamp(l, &d->ts);
	if (sflow_header(d->data, d->len, &h) != SFLOW_DROP_NONE)
		return;
	FILE *fp = cnt_file(l, &h.agent);
	if (!fp)
		return;
	sf_agent_str(&h.agent, ip, sizeof(ip));
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

void sf_cntlog_counter(struct sf_cntlog *l, const struct sflow_hdr *h,
    const struct sflow_counter *c)
{
	char ip[INET6_ADDRSTRLEN];
	FILE *fp = cnt_file(l, &h->agent);

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
	log_info(WHO, "[%s] sfacctd_counter_file reopened.", l->path);
}

void sf_cntlog_free(struct sf_cntlog *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		fclose(l->files[i].fp);
	free(l->files);
	free(l->seen);
	free(l->path);
	free(l);
}
