/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_bounds.c: the core's tables at their ceilings (fragments, flows,
 * nfprobe cache, NetFlow exporters and templates, sFlow agents): each keeps
 * to its ceiling, behaves as documented there, and publishes its fill and
 * its refusals on its gauge (model/gauge.h).  The expected numbers come
 * from the inputs made here, not from the tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "decode/netflow.h"
#include "decode/nf_state.h"
#include "decode/sflow_state.h"
#include "model/gauge.h"
#include "pipeline/flows.h"
#include "pipeline/frag.h"
#include "pipeline/sf_cntlog.h"
#include "plugins/nfprobe.h"
#include "tap.h"

static struct gauges *G;

static uint64_t ld(const _Atomic uint64_t *v)
{
	return atomic_load(v);
}

/* A UDP record from 10.0.x.y; fragment id `id` when frag, a later one when later. */
static struct flow_rec udp(uint32_t host, uint32_t id, bool frag, bool later, int64_t t)
{
	struct flow_rec r;

	memset(&r, 0, sizeof(r));
	r.k.src_ip.af = r.k.dst_ip.af = 4;
	r.k.src_ip.a[0] = 10;
	r.k.src_ip.a[2] = (uint8_t)(host >> 8);
	r.k.src_ip.a[3] = (uint8_t)host;
	r.k.dst_ip.a[0] = 11;
	r.k.proto = 17;
	r.frag_id = id;
	r.bytes = 100;
	r.packets = 1;
	r.ts.sec = t;
	if (frag)
		r.flags |= FR_F_FRAG;
	if (later) {
		r.flags |= FR_F_LATER_FRAG;
	} else {
		r.flags |= FR_F_L4_OK;
		r.k.src_port = (uint16_t)(1000 + host);
		r.k.dst_port = 53;
	}
	return r;
}

static void test_frag_ceiling(void)
{
	uint64_t me, mb;
	struct frag_stats st;
	struct flow_rec r;
	uint64_t pkts = 0, bytes = 0;

	frag_plan(2000, &me, &mb);
	struct frag_table *ft = frag_new(2000);
	struct table_gauge *g = gauges_add(G, "default/core", "fragments", "pmacctd_frag_buffer_size",
	    GAUGE_REFUSE, me, mb);
	frag_set_gauge(ft, g);
	frag_get_stats(ft, &st);
	is_int(st.capacity, me, "frag_plan's entries are frag_new's capacity");
	ok(mb >= me * 40 && mb < 2000 + 1024, "frag_plan's bytes cover the entries (%llu)",
	    (unsigned long long)mb);
	/* 3 * capacity datagrams of two fragments each, in order, in one second */
	uint32_t n = (uint32_t)me * 3;
	for (uint32_t i = 0; i < n; i++) {
		r = udp(i, i + 1, true, false, 100);
		if (frag_handle(ft, &r)) {
			pkts += r.packets;
			bytes += r.bytes;
		}
		r = udp(i, i + 1, true, true, 100);
		if (frag_handle(ft, &r)) {
			pkts += r.packets;
			bytes += r.bytes;
			if (i < me)
				ok(r.k.src_port == 1000 + i, "tracked later fragment %u gets its ports", i);
			else
				ok(r.k.src_port == 0, "untracked later fragment %u: ports 0", i);
		}
	}
	is_int(pkts, 2 * n, "every fragment accounted past the ceiling");
	is_int(bytes, 200 * (uint64_t)n, "every byte accounted past the ceiling");
	frag_get_stats(ft, &st);
	is_int(st.entries, me, "the table holds its ceiling");
	is_int(ld(&g->entries), me, "gauge: entries");
	is_int(ld(&g->peak_entries), me, "gauge: peak at the ceiling, not above");
	is_int(ld(&g->refused), 2 * (n - me), "gauge: every untracked fragment counted");
	is_int(st.full, 2 * (n - me), "stats: the same count");
	/* 61 s later the expired entries make room again */
	r = udp(0, 99999, true, false, 161);
	ok(frag_handle(ft, &r), "after expiry: tracked again");
	is_int(ld(&g->entries), 1, "gauge: pruned to one entry");
	frag_free(ft);
}

static void test_flows_ceiling(void)
{
	uint64_t me, mb, flows = 0;
	struct flows_stats st;

	flows_plan(4000, &me, &mb);
	struct flows_table *ft = flows_new(4000, 60);
	struct table_gauge *g = gauges_add(G, "default/core", "flows", "pmacctd_flow_buffer_size",
	    GAUGE_REFUSE, me, mb);
	flows_set_gauge(ft, g);
	flows_get_stats(ft, &st);
	is_int(st.capacity, me, "flows_plan's entries are flows_new's capacity");
	uint32_t n = (uint32_t)me + 25;
	for (uint32_t i = 0; i < n; i++) {
		struct flow_rec r = udp(i, 0, false, false, 100);
		flows_handle(ft, &r);
		flows += r.flows;
	}
	is_int(flows, me, "new flows counted up to the ceiling, flows 0 past it (as pmacct)");
	is_int(ld(&g->peak_entries), me, "gauge: peak at the ceiling");
	is_int(ld(&g->refused), 25, "gauge: 25 refused");
	is_int(ld(&g->at_ceiling), 25, "gauge: at_ceiling 25");
	flows_free(ft);
}

struct exported {
	uint64_t flows, packets;
};

static void on_export(void *arg, const struct nfx_flow *f, int64_t now_ms)
{
	struct exported *e = arg;

	(void)now_ms;
	e->flows++;
	e->packets += f->packets;
}

static void test_nfprobe_ceiling(void)
{
	struct nfp_timeouts t;
	struct exported e = { 0, 0 };
	const uint32_t max = 16, n = 100;

	nfp_timeouts_default(&t);
	struct nfp_cache *c = nfp_cache_new(max, &t, on_export, &e);
	struct table_gauge *g = gauges_add(G, "p/nfprobe", "nfprobe", "nfprobe_maxflows", GAUGE_EXPIRE,
	    max, nfp_cache_bytes(max));
	nfp_cache_set_gauge(c, g);
	for (uint32_t i = 0; i < n; i++) {
		struct flow_rec r = udp(i, 0, false, false, 100);
		nfp_cache_add(c, &r, 0, 0, 0);
		r = udp(i, 0, false, false, 100);	/* a second packet of the same flow */
		nfp_cache_add(c, &r, 0, 0, 0);
		ok(nfp_cache_count(c) <= max, "never above maxflows");
	}
	is_int(e.flows, n - max, "the least recently seen expired early, exported");
	is_int(nfp_cache_forced(c), n - max, "forced expiries counted");
	is_int(ld(&g->peak_entries), max, "gauge: peak = maxflows");
	is_int(ld(&g->at_ceiling), n - max, "gauge: at_ceiling");
	ok(ld(&g->bytes) == nfp_cache_bytes(max), "gauge: bytes = all the cache allocated");
	nfp_cache_flush_all(c);
	is_int(e.flows, n, "after the flush every flow exported");
	is_int(e.packets, 2 * n, "and every packet");
	is_int(ld(&g->entries), 0, "gauge: empty");
	nfp_cache_free(c);
}

static void test_nf_state_ceiling(void)
{
	struct nf_opts o = { .max_exporters = 8, .max_templates = 4 };
	uint64_t ee, eb, te, tb;
	struct nf_field f[2] = { { 8, 4, 0 }, { 12, 4, 0 } };
	struct fr_ip a;

	nf_state_plan(&o, &ee, &eb, &te, &tb);
	is_int(ee, 8, "exporters ceiling from max_exporters");
	is_int(te, 4, "templates ceiling from max_templates");
	ok(eb > 8 * sizeof(struct nf_exporter) + NF_NAMES_MAX_TOTAL * sizeof(struct nf_name) - 1,
	    "exporters' bytes cover entries and every name");
	ok(tb >= 4 * NF_TPL_AVG_BYTES, "templates' bytes: NF_TPL_AVG_BYTES each");
	struct nf_state *st = nf_state_new(&o);
	struct table_gauge *ge = gauges_add(G, "default/core", "exporters", "nfacctd_max_exporters",
	    GAUGE_REFUSE, ee, eb);
	struct table_gauge *gt = gauges_add(G, "default/core", "templates", "nfacctd_max_templates",
	    GAUGE_REFUSE, te, tb);
	nf_state_set_gauges(st, ge, gt);
	memset(&a, 0, sizeof(a));
	a.af = 4;
	a.a[0] = 127;
	/* a flood of 1000 spoofed exporter addresses, each announcing 3 templates */
	struct nf_exporter *first = NULL;
	for (uint32_t i = 0; i < 1000; i++) {
		a.a[2] = (uint8_t)(i >> 8);
		a.a[3] = (uint8_t)i;
		struct nf_exporter *e = nf_exporter_get(st, &a, 0, 10);
		if (i == 0)
			first = e;
		for (uint16_t id = 256; id < 259; id++)
			nf_tpl_put(st, &a, 0, 10, id, false, f, 2, 0);
	}
	struct nf_totals t;
	nf_totals(st, &t);
	is_int(st->nexp, 8, "exporters: 8 tracked");
	is_int(t.exporters_refused, 992, "exporters: the other 992 counted");
	is_int(ld(&ge->peak_entries), 8, "gauge: exporters peak 8");
	is_int(ld(&ge->refused), 992, "gauge: exporters refused 992");
	is_int(t.templates, 4, "templates: 4 kept");
	is_int(t.templates_refused, 2996, "templates: 2996 refused");
	is_int(ld(&gt->peak_entries), 4, "gauge: templates peak 4");
	is_int(ld(&gt->refused), 2996, "gauge: templates refused");
	ok(ld(&gt->bytes) <= tb, "gauge: templates' bytes within their ceiling");
	/* a template too large for the byte budget is refused though the count allows it */
	nf_tpl_withdraw(st, &a, 0, 10, 2);
	a.a[3] = 0;
	a.a[2] = 0;
	nf_tpl_withdraw(st, &a, 0, 10, 2);
	nf_totals(st, &t);
	is_int(t.templates, 1, "withdrawn: exporter 0's 3 gone, 1 left");
	static struct nf_field big[NF_MAX_FIELDS];
	for (int i = 0; i < NF_MAX_FIELDS; i++)
		big[i] = (struct nf_field){ 8, 4, 0 };
	ok(nf_tpl_put(st, &a, 0, 10, 300, false, big, NF_MAX_FIELDS, 0) == NULL,
	    "a template of %d fields does not fit 4 KiB of templates", NF_MAX_FIELDS);
	/* names: one exporter learns more than NF_NAMES_MAX_TOTAL names across its tables */
	uint32_t got = 0;
	for (uint32_t id = 0; id < NF_MAX_NAMES; id++)
		got += nf_names_get(&first->ifnames, id, true) != NULL;
	is_int(got, NF_MAX_NAMES, "one exporter: NF_MAX_NAMES interface names");
	nf_state_free(st);
}

static void no_emit(void *arg, struct flow_rec *rec)
{
	(void)arg;
	(void)rec;
}

/* Append an IPFIX template record (id, n fields of IE 8 / 4 bytes) at p; its size. */
static size_t ipfix_tpl(uint8_t *p, uint16_t id, uint16_t n)
{
	uint16_t v[2] = { htons(id), htons(n) };

	memcpy(p, v, 4);
	for (uint16_t i = 0; i < n; i++) {
		uint16_t f[2] = { htons(i % 2 ? 12 : 8), htons(4) };
		memcpy(p + 4 + 4 * i, f, 4);
	}
	return 4 + 4u * n;
}

/* An IPFIX message from src with one template set of the given templates. */
static void ipfix_send(struct nf_state *st, const struct fr_ip *src, const uint16_t *ids,
    const uint16_t *nf, int k)
{
	uint8_t m[512];
	size_t off = 20;
	struct fr_ts now = { 1700000000, 0 };

	for (int i = 0; i < k; i++)
		off += ipfix_tpl(m + off, ids[i], nf[i]);
	uint16_t h[2] = { htons(10), htons((uint16_t)off) };
	uint32_t h2[3] = { htonl(1700000000), 0, 0 };
	uint16_t set[2] = { htons(2), htons((uint16_t)(off - 16)) };
	memcpy(m, h, 4);
	memcpy(m + 4, h2, 12);
	memcpy(m + 16, set, 4);
	nf_decode(st, m, off, src, &now, no_emit, NULL);
}

/* A template refused at the ceiling does not end its set: a refresh after it still applies. */
static void test_nf9_set_goes_on(void)
{
	struct nf_opts o = { .max_templates = 2 };
	struct nf_state *st = nf_state_new(&o);
	struct fr_ip a;
	struct nf_totals t;

	memset(&a, 0, sizeof(a));
	a.af = 4;
	a.a[0] = 127;
	a.a[3] = 9;
	ipfix_send(st, &a, (const uint16_t[]){ 256, 257 }, (const uint16_t[]){ 2, 2 }, 2);
	/* a new template past the ceiling, then 256 again with 4 fields */
	ipfix_send(st, &a, (const uint16_t[]){ 258, 256 }, (const uint16_t[]){ 2, 4 }, 2);
	nf_totals(st, &t);
	is_int(t.templates, 2, "two templates kept");
	is_int(t.templates_refused, 1, "one refused");
	const struct nf_tpl *tp = nf_tpl_find(st, &a, 0, 10, 256);
	ok(tp && tp->nfields == 4, "the refresh after the refused template applied (%d fields)",
	    tp ? tp->nfields : -1);
	nf_state_free(st);
}

/* The buckets grow with the exporters and templates: every one is still found after. */
static void test_nf_state_growth(void)
{
	struct nf_opts o = { 0 };
	struct nf_field f[1] = { { 8, 4, 0 } };
	static struct nf_exporter *seen[5000];
	struct fr_ip a;
	uint32_t found = 0, tfound = 0;

	struct nf_state *st = nf_state_new(&o);
	memset(&a, 0, sizeof(a));
	a.af = 4;
	for (uint32_t i = 0; i < 5000; i++) {
		a.a[1] = (uint8_t)(i >> 8);
		a.a[2] = (uint8_t)i;
		seen[i] = nf_exporter_get(st, &a, i, 10);
		nf_tpl_put(st, &a, i, 10, 256, false, f, 1, 0);
	}
	ok(st->exp_mask + 1 >= 5000 / 2 && st->tpl_mask + 1 >= 5000 / 2 / 2,
	    "buckets grew (%u exporters' buckets, %u templates')", st->exp_mask + 1, st->tpl_mask + 1);
	for (uint32_t i = 0; i < 5000; i++) {
		a.a[1] = (uint8_t)(i >> 8);
		a.a[2] = (uint8_t)i;
		found += nf_exporter_get(st, &a, i, 10) == seen[i];
		tfound += nf_tpl_find(st, &a, i, 10, 256) != NULL;
	}
	is_int(found, 5000, "every exporter found after the growth");
	is_int(tfound, 5000, "every template found after the growth");
	is_int(st->nexp, 5000, "no exporter made twice");
	nf_state_free(st);
}

/* Early data held for its template: at most hold_bytes, the rest refused and counted. */
static void test_nf_held_ceiling(void)
{
	struct nf_opts o = { .hold_secs = 10, .hold_bytes = 1000 };
	uint64_t me, mb;
	struct nf_held hdr;
	uint8_t data[100];
	uint32_t kept = 0;

	nf_state_held_plan(&o, &me, &mb);
	is_int(mb, 1000, "early data ceiling: hold_bytes");
	struct nf_state *st = nf_state_new(&o);
	struct table_gauge *g = gauges_add(G, "default/core", "early_data", "nfacctd_early_data_bytes",
	    GAUGE_REFUSE, me, mb);
	nf_state_set_held_gauge(st, g);
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	for (int i = 0; i < 20; i++)
		kept += nf_hold_put(st, &hdr, data, sizeof(data));
	uint32_t each = (uint32_t)(sizeof(struct nf_held) + sizeof(data));
	is_int(kept, 1000 / each, "as many 100-byte sets as fit in 1000 bytes");
	nf_state_publish(st);
	is_int(ld(&g->entries), kept, "gauge: sets held");
	ok(ld(&g->bytes) <= 1000 && ld(&g->bytes) == (uint64_t)kept * each, "gauge: bytes held");
	is_int(ld(&g->refused), 20 - kept, "gauge: the sets that did not fit");
	nf_state_free(st);
}

static void test_sflow_ceiling(void)
{
	uint64_t me, mb;
	struct sflow_hdr h;

	sflow_state_plan(&me, &mb);
	is_int(me, SFLOW_STATE_MAX, "agents ceiling SFLOW_STATE_MAX");
	struct sflow_state *s = sflow_state_new();
	struct table_gauge *ga = gauges_add(G, "default/core", "agents", NULL, GAUGE_REFUSE, me, mb);
	struct table_gauge *gs = gauges_add(G, "default/core", "sources", NULL, GAUGE_REFUSE, me, mb);
	sflow_state_set_gauges(s, ga, gs);
	memset(&h, 0, sizeof(h));
	h.version = 5;
	h.agent.af = 4;
	h.agent.a[0] = 127;
	/* spoofed agents: SFLOW_STATE_MAX + 500 distinct sub-agent ids */
	for (uint32_t i = 0; i < SFLOW_STATE_MAX + 500; i++) {
		h.sub_agent = i;
		sflow_state_datagram(s, &h, 100);
	}
	is_int(sflow_state_refused(s), 500, "agents past the ceiling counted");
	is_int(ld(&ga->peak_entries), SFLOW_STATE_MAX, "gauge: agents peak = ceiling");
	is_int(ld(&ga->refused), 500, "gauge: agents refused");
	ok(ld(&ga->bytes) <= mb, "gauge: agents' bytes within the plan (%llu <= %llu)",
	    (unsigned long long)ld(&ga->bytes), (unsigned long long)mb);
	sflow_state_free(s);
}

/* sfacctd_counter_file: one log_init line per agent, for SFLOW_STATE_MAX agents at most. */
static void test_cntlog_ceiling(void)
{
	char path[] = "/tmp/test_bounds_cnt.XXXXXX";
	int fd = mkstemp(path);
	uint8_t b[28];
	struct dgram d;
	uint32_t lines = 0;
	char line[256];

	ok(fd >= 0, "temporary file");
	close(fd);
	struct sf_cntlog *l = sf_cntlog_new(path, true);
	uint64_t me, mb;
	sf_cntlog_plan(&me, &mb);
	struct table_gauge *g = gauges_add(G, "default/core", "counter_log", "sfacctd_counter_file",
	    GAUGE_REFUSE, me, mb);
	sf_cntlog_set_gauge(l, g);
	memset(&d, 0, sizeof(d));
	d.data = b;
	d.len = sizeof(b);
	d.ts.sec = 1700000000;
	for (uint32_t i = 0; i < SFLOW_STATE_MAX + 10; i++) {
		uint32_t v[7] = { htonl(5), htonl(1), htonl(0x0a000000u | i), 0, htonl(1), htonl(1000), 0 };
		memcpy(b, v, sizeof(b));
		sf_cntlog_datagram(l, &d);
	}
	for (uint32_t i = 0; i < 10; i++) {	/* known agents again: no second line */
		uint32_t v[7] = { htonl(5), htonl(1), htonl(0x0a000000u | i), 0, htonl(1), htonl(1000), 0 };
		memcpy(b, v, sizeof(b));
		sf_cntlog_datagram(l, &d);
	}
	is_int(ld(&g->peak_entries), SFLOW_STATE_MAX, "gauge: counter log agents peak = ceiling");
	is_int(ld(&g->refused), 10, "gauge: 10 agents past it");
	ok(ld(&g->bytes) <= mb, "gauge: bytes within the plan");
	sf_cntlog_free(l);
	FILE *fp = fopen(path, "r");
	while (fp && fgets(line, sizeof(line), fp))
		lines += strstr(line, "log_init") != NULL;
	if (fp)
		fclose(fp);
	unlink(path);
	is_int(lines, SFLOW_STATE_MAX, "log_init for SFLOW_STATE_MAX agents, once each");
}

int main(void)
{
	G = gauges_new();
	test_frag_ceiling();
	test_flows_ceiling();
	test_nfprobe_ceiling();
	test_nf_state_ceiling();
	test_nf_state_growth();
	test_nf9_set_goes_on();
	test_nf_held_ceiling();
	test_sflow_ceiling();
	test_cntlog_ceiling();
	ok(gauges_count(G) == 9, "nine tables registered");
	gauges_free(G);
	return tap_done();
}
