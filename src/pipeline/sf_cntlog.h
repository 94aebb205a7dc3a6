/* SPDX-License-Identifier: BSD-3-Clause */
/* sf_cntlog.h: sfacctd_counter_file: sFlow counter samples as pmacct's JSON lines, one file or one per agent. */
#ifndef PIPELINE_SF_CNTLOG_H
#define PIPELINE_SF_CNTLOG_H

#include <stdbool.h>
#include <stddef.h>

#include "decode/sflow.h"
#include "pipeline/collector.h"

/*
 * One JSON line per counter block, as pmacct 1.7.7 writes them: a
 * "log_init" line the first time an agent is seen, then "log" lines with
 * a sequence number shared by every agent, the datagram's arrival time,
 * the agent, the data source index, the datagram and counter-sample
 * sequence numbers and the counters.  A `$peer_src_ip` in the file name
 * gives one file per agent.  Files are opened (appending) on first use.
 * At most SFLOW_STATE_MAX agents are known (a hash table): the datagrams
 * of further ones are not logged, and per-agent files that cannot be
 * opened (descriptors run out) are skipped; both counted and warned about
 * at most once a minute.
 */
struct sf_cntlog;

struct table_gauge;

/* The agents table's ceiling: SFLOW_STATE_MAX agents, all its slots at their largest (-T config). */
void sf_cntlog_plan(uint64_t *entries, uint64_t *bytes);

/* Publish the agents known on g (model/gauge.h; NULL: none): on each new one and each refused. */
void sf_cntlog_set_gauge(struct sf_cntlog *l, struct table_gauge *g);

/* A log to the file name template `path`; times in UTC when utc, else local. */
struct sf_cntlog *sf_cntlog_new(const char *path, bool utc);

/*
 * A datagram arrives: its time stamps the lines that follow, and an agent
 * seen for the first time gets its log_init line (1.7.7 writes it on the
 * agent's first datagram, whatever it carries).  Call before decoding it.
 */
void sf_cntlog_datagram(struct sf_cntlog *l, const struct dgram *d);

/* One counter block of the datagram with header h: a "log" line. */
void sf_cntlog_counter(struct sf_cntlog *l, const struct sflow_hdr *h,
    const struct sflow_counter *c);

/* After a datagram: what it wrote reaches the files. */
void sf_cntlog_flush(struct sf_cntlog *l);

/* SIGHUP: close the files (logrotate moved them); each is reopened, appending, by its next line. */
void sf_cntlog_reopen(struct sf_cntlog *l);

/* Close and free (NULL: nothing). */
void sf_cntlog_free(struct sf_cntlog *l);

/* An agent's address as sfacctd prints it (log lines, file names): "0.0.0.0" when unset. */
void sf_agent_str(const struct fr_ip *ip, char *buf, size_t len);

#endif
