/* SPDX-License-Identifier: BSD-3-Clause */
/* test_sf_collector.c: sfacctd's collector protocol: the counter log byte for byte as pmacct 1.7.7 writes it, per-agent files, SIGHUP, drop warnings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "pipeline/sf_cntlog.h"
#include "pipeline/sf_collector.h"
#include "logtail.h"
#include "tap.h"

static char dir[64];
static struct logtail tail;

/* A datagram being written. */
struct buf {
	uint8_t b[2048];
	size_t n;
};

static void u32(struct buf *b, uint32_t v)
{
	for (int i = 3; i >= 0; i--)
		b->b[b->n++] = (uint8_t)(v >> (8 * i));
}

static void u64(struct buf *b, uint64_t v)
{
	u32(b, (uint32_t)(v >> 32));
	u32(b, (uint32_t)v);
}

/* Datagram header: v5 has a sub-agent id; agent 192.0.2.<last>, one sample. */
static void sf_hdr(struct buf *b, uint32_t version, uint8_t last, uint32_t seq)
{
	b->n = 0;
	u32(b, version);
	u32(b, 1);
	u32(b, 0xc0000200u | last);
	if (version == 5)
		u32(b, 7);
	u32(b, seq);
	u32(b, 1000);		/* uptime */
	u32(b, 1);		/* samples */
}

/* The if_counters fields (sFlow v5 counter format 1, 88 bytes). */
static void if_counters(struct buf *b, uint32_t ifindex, uint64_t in, uint64_t out)
{
	u32(b, ifindex);
	u32(b, 6);
	u64(b, 1000000000);
	u32(b, 1);
	u32(b, 3);
	u64(b, in);
	u32(b, 10); u32(b, 1); u32(b, 2); u32(b, 0); u32(b, 0); u32(b, 0);
	u64(b, out);
	u32(b, 20); u32(b, 3); u32(b, 4); u32(b, 0); u32(b, 0); u32(b, 0);
}

/* v5: one counter sample (seq 11, source index 3) with generic, ethernet and VLAN records. */
static void v5_counters(struct buf *b)
{
	sf_hdr(b, 5, 1, 7);
	u32(b, 2);		/* counter sample */
	u32(b, 12 + 8 + 88 + 8 + 52 + 8 + 28);
	u32(b, 11);
	u32(b, 3);
	u32(b, 3);		/* records */
	u32(b, 1);
	u32(b, 88);
	if_counters(b, 3, 1000, 2000);
	u32(b, 2);
	u32(b, 52);
	for (uint32_t i = 1; i <= 13; i++)
		u32(b, i);
	u32(b, 5);
	u32(b, 28);
	u32(b, 100);
	u64(b, 5000);
	u32(b, 1); u32(b, 2); u32(b, 3); u32(b, 4);
}

/* v4: one counter sample (seq 9, source id 2) of ethernet counters, generic ones first. */
static void v4_counters(struct buf *b)
{
	sf_hdr(b, 4, 4, 9);
	u32(b, 2);		/* counter sample */
	u32(b, 9);
	u32(b, 2);
	u32(b, 30);		/* sampling interval */
	u32(b, 2);		/* ethernet */
	if_counters(b, 2, 1000, 2000);
	for (uint32_t i = 0; i < 13; i++)
		u32(b, i);
}

static void no_emit(void *arg, struct flow_rec *rec)
{
	(void)rec;
	(*(int *)arg)++;
}

static void feed(void *state, const struct buf *b, int64_t usec)
{
	static int emitted;
	struct rec_sink sink = { no_emit, &emitted };
	struct dgram d = { .data = b->b, .len = b->n, .src = { 4, { 0 }, { 127, 0, 0, 1 } },
		.ts = { 1700000000, usec } };

	sf_collector_datagram(state, &d, &sink);
}

#define TS1 "\"timestamp\": \"2023-11-14 22:13:20.000005\""
#define TS2 "\"timestamp\": \"2023-11-14 22:13:20.100000\""
#define GENERIC(ifindex) "\"ifIndex\": " ifindex ", \"ifType\": 6, \"ifSpeed\": 1000000000, " \
	"\"ifDirection\": 1, \"ifStatus\": 3, \"ifInOctets\": 1000, \"ifInUcastPkts\": 10, " \
	"\"ifInMulticastPkts\": 1, \"ifInBroadcastPkts\": 2, \"ifInDiscards\": 0, \"ifInErrors\": 0, " \
	"\"ifInUnknownProtos\": 0, \"ifOutOctets\": 2000, \"ifOutUcastPkts\": 20, " \
	"\"ifOutMulticastPkts\": 3, \"ifOutBroadcastPkts\": 4, \"ifOutDiscards\": 0, " \
	"\"ifOutErrors\": 0, \"ifPromiscuousMode\": 0"
#define DOT3(a, b, c, d, e, f, g, h, i, j, k, l, m) "\"dot3StatsAlignmentErrors\": " a ", " \
	"\"dot3StatsFCSErrors\": " b ", \"dot3StatsSingleCollisionFrames\": " c ", " \
	"\"dot3StatsMultipleCollisionFrames\": " d ", \"dot3StatsSQETestErrors\": " e ", " \
	"\"dot3StatsDeferredTransmissions\": " f ", \"dot3StatsLateCollisions\": " g ", " \
	"\"dot3StatsExcessiveCollisions\": " h ", \"dot3StatsInternalMacTransmitErrors\": " i ", " \
	"\"dot3StatsCarrierSenseErrors\": " j ", \"dot3StatsFrameTooLongs\": " k ", " \
	"\"dot3StatsInternalMacReceiveErrors\": " l ", \"dot3StatsSymbolErrors\": " m

/* What pmacct 1.7.7's sfacctd wrote for the same two datagrams (timestamps_utc: true). */
static const char want_177[] =
	"{\"seq\": 0, " TS1 ", \"peer_src_ip\": \"192.0.2.1\", \"event_type\": \"log_init\"}\n"
	"{\"seq\": 1, " TS1 ", \"peer_ip_src\": \"192.0.2.1\", \"event_type\": \"log\", "
	"\"source_id_index\": 3, \"sflow_seq\": 7, \"sflow_cnt_seq\": 11, "
	"\"sf_cnt_type\": \"sflow_cnt_generic\", " GENERIC("3") "}\n"
	"{\"seq\": 2, " TS1 ", \"peer_ip_src\": \"192.0.2.1\", \"event_type\": \"log\", "
	"\"source_id_index\": 3, \"sflow_seq\": 7, \"sflow_cnt_seq\": 11, "
	"\"sf_cnt_type\": \"sflow_cnt_ethernet\", "
	DOT3("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13") "}\n"
	"{\"seq\": 3, " TS1 ", \"peer_ip_src\": \"192.0.2.1\", \"event_type\": \"log\", "
	"\"source_id_index\": 3, \"sflow_seq\": 7, \"sflow_cnt_seq\": 11, "
	"\"sf_cnt_type\": \"sflow_cnt_vlan\", \"octets\": 5000, \"ucastPkts\": 1, "
	"\"multicastPkts\": 2, \"broadcastPkts\": 3, \"discards\": 4, \"vlan\": 100}\n"
	"{\"seq\": 4, " TS2 ", \"peer_src_ip\": \"192.0.2.4\", \"event_type\": \"log_init\"}\n"
	"{\"seq\": 5, " TS2 ", \"peer_ip_src\": \"192.0.2.4\", \"event_type\": \"log\", "
	"\"source_id_index\": 2, \"sflow_seq\": 9, \"sflow_cnt_seq\": 9, "
	"\"sf_cnt_type\": \"sflow_cnt_ethernet\", " GENERIC("2") ", "
	DOT3("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12") "}\n";

/* Datagrams through the collector protocol: the counter log, byte for byte. */
static void test_counter_log_177(void)
{
	struct core_cfg cfg;
	char path[128], *text;
	struct buf b;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(path, sizeof(path), "%s/counters.json", dir);
	cfg.sf_counter_file = path;
	cfg.timestamps_utc = true;
	void *st = sf_collector_new(&cfg);
	v5_counters(&b);
	feed(st, &b, 5);
	v4_counters(&b);
	feed(st, &b, 100000);
	text = slurp(path);
	is_str(text, want_177, "v5 generic, ethernet, VLAN and v2/v4 ethernet counters as 1.7.7");
	free(text);

	v5_counters(&b);
	feed(st, &b, 5);
	text = slurp(path);
	ok(strlen(text) > strlen(want_177) && !strstr(text + strlen(want_177), "log_init") &&
	    strncmp(text + strlen(want_177), "{\"seq\": 6, ", 11) == 0,
	    "a known agent: no second log_init, the sequence goes on");
	free(text);
	sf_collector_free(st);
	unlink(path);
}

/* Counter samples given directly: per-agent files, one sequence, SIGHUP reopens. */
static void test_per_agent_and_reopen(void)
{
	struct sflow_hdr h = { .version = 5, .agent = { 4, { 0 }, { 192, 0, 2, 1 } }, .seqno = 1 };
	struct sflow_counter c = { .seqno = 2, .ds_index = 5, .type = SFLOW_CNT_VLAN,
		.vlan = { .vlan_id = 10, .octets = 64 } };
	struct buf b;
	struct dgram d = { .data = b.b, .ts = { 1700000000, 0 } };
	char tpl[128], one[128], two[128], moved[160], *text;

	snprintf(tpl, sizeof(tpl), "%s/cnt-$peer_src_ip.json", dir);
	snprintf(one, sizeof(one), "%s/cnt-192.0.2.1.json", dir);
	snprintf(two, sizeof(two), "%s/cnt-192.0.2.2.json", dir);
	snprintf(moved, sizeof(moved), "%s.1", one);
	struct sf_cntlog *l = sf_cntlog_new(tpl, true);

	sf_hdr(&b, 5, 1, 1);
	d.len = b.n;
	sf_cntlog_datagram(l, &d);
	sf_cntlog_counter(l, &h, &c);
	sf_hdr(&b, 5, 2, 1);
	sf_cntlog_datagram(l, &d);
	h.agent.a[3] = 2;
	sf_cntlog_counter(l, &h, &c);
	sf_cntlog_flush(l);
	text = slurp(one);
	is_str(text, "{\"seq\": 0, \"timestamp\": \"2023-11-14 22:13:20.000000\", \"peer_src_ip\": "
	    "\"192.0.2.1\", \"event_type\": \"log_init\"}\n"
	    "{\"seq\": 1, \"timestamp\": \"2023-11-14 22:13:20.000000\", \"peer_ip_src\": "
	    "\"192.0.2.1\", \"event_type\": \"log\", \"source_id_index\": 5, \"sflow_seq\": 1, "
	    "\"sflow_cnt_seq\": 2, \"sf_cnt_type\": \"sflow_cnt_vlan\", \"octets\": 64, "
	    "\"ucastPkts\": 0, \"multicastPkts\": 0, \"broadcastPkts\": 0, \"discards\": 0, "
	    "\"vlan\": 10}\n", "agent 1's own file");
	free(text);
	text = slurp(two);
	ok(strncmp(text, "{\"seq\": 2, ", 11) == 0 && strstr(text, "{\"seq\": 3, ") &&
	    strstr(text, "\"peer_ip_src\": \"192.0.2.2\""), "agent 2's file, the sequence shared");
	free(text);

	free(logtail_new(&tail));
	ok(rename(one, moved) == 0, "logrotate moves agent 1's file");
	sf_cntlog_reopen(l);
	text = logtail_new(&tail);
	ok(strstr(text, "INFO ( default/core ): [") && strstr(text, "] sfacctd_counter_file reopened."),
	    "the reopen is logged");
	free(text);
	h.agent.a[3] = 1;
	sf_cntlog_datagram(l, &d);	/* agent 2's header, still in b */
	sf_cntlog_counter(l, &h, &c);
	sf_cntlog_flush(l);
	text = slurp(one);
	ok(strncmp(text, "{\"seq\": 4, ", 11) == 0 && !strstr(text, "log_init") && strchr(text, '\n') ==
	    text + strlen(text) - 1, "after SIGHUP: a new file, the sequence goes on, no log_init");
	free(text);
	sf_cntlog_free(l);
	sf_cntlog_free(NULL);
	unlink(one);
	unlink(two);
	unlink(moved);
}

/* Drop warnings: one line, at most once every SF_COLLECTOR_WARN_EVERY seconds, deltas only. */
static void test_drop_warnings(void)
{
	struct core_cfg cfg;
	struct buf b;

	memset(&cfg, 0, sizeof(cfg));
	cfg.collector_ip = "127.0.0.1";
	cfg.collector_port = 6343;
	void *st = sf_collector_new(&cfg);

	free(logtail_new(&tail));
	b.n = 0;
	u32(&b, 5);
	feed(st, &b, 0);	/* cut in the header */
	feed(st, &b, 0);
	sf_collector_tick(st, 1000);
	log_is(&tail, "WARN ( default/core ): [127.0.0.1:6343] malformed sFlow datagrams since start: "
	    "short datagram header=2 (SIGUSR1: details)\n", "the first drops: one line");
	sf_hdr(&b, 3, 1, 1);	/* version 3 */
	feed(st, &b, 0);
	sf_collector_tick(st, 1000 + SF_COLLECTOR_WARN_EVERY - 1);
	log_is(&tail, "", "within the minute: nothing");
	sf_collector_tick(st, 1000 + SF_COLLECTOR_WARN_EVERY);
	log_is(&tail, "WARN ( default/core ): [127.0.0.1:6343] malformed sFlow datagrams since the "
	    "last report: unsupported version=1 (SIGUSR1: details)\n", "a minute later: what is new");
	sf_collector_tick(st, 5000);
	log_is(&tail, "", "nothing new: nothing");
	sf_collector_free(st);
	sf_collector_free(NULL);
}

int main(void)
{
	strcpy(dir, "/tmp/test_sf_collector_XXXXXX");
	if (!mkdtemp(dir))
		abort();
	logtail_open(&tail, dir);
	test_counter_log_177();
	test_per_agent_and_reopen();
	test_drop_warnings();
	unlink(tail.path);
	ok(rmdir(dir) == 0, "nothing else was left behind");
	return tap_done();
}
