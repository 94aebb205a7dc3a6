/* SPDX-License-Identifier: BSD-3-Clause */
/* classify.c: pmacctd's application classification (the class primitive) with nDPI, per flow. */
#include "classify.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi/ndpi_api.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "model/gauge.h"

#define WHO		"default/core"
#define PROTO_TCP	6
#define PROTO_UDP	17
#define TH_FIN		0x01
#define TH_RST		0x04
#define FULL_LOG_EVERY	60	/* seconds of packet time between "table full" lines */

/* Both directions of a connection: the endpoint that sorts first is `a`. */
struct cl_key {
	uint8_t a[16], b[16];
	uint16_t pa, pb;
	uint16_t vlan;
	uint8_t af, proto;
};

struct cl_flow {
	struct cl_key key;
	struct cl_flow *next;			/* hash chain */
	struct cl_flow *older, *newer;		/* by last packet: the idle list */
	struct ndpi_flow_struct *nf;		/* NULL once detection ended */
	int64_t last_ms;
	uint32_t packets;
	char name[FR_CLASS_MAX];		/* pmacct's "master/app"; all zero until named */
};

struct classifier {
	struct classify_opts o;
	struct ndpi_detection_module_struct *ndpi;
	struct cl_flow **bucket;
	uint32_t nbuckets;
	struct cl_flow *oldest, *newest;
	uint64_t seed;
	int64_t now_ms, next_scan_ms;
	int64_t full_logged;			/* packet second of the last "full" line; 0: none */
	uint64_t full_since_log;
	size_t nf_size;				/* sizeof(struct ndpi_flow_struct) */
	struct classify_stats st;
	struct table_gauge *gauge;
	char unknown[FR_CLASS_MAX];		/* the class of what nDPI has not named: "Unknown/Unknown" */
	uint8_t cut[65536];			/* a truncated packet, its IP length made what was captured */
};

/*
 * pmacct's class text for p: nDPI's names of the master and the application
 * protocol, "master/app" ("Unknown/DNS", "TLS/Google", "Unknown/Unknown"),
 * cut to FR_CLASS_MAX - 1 bytes.
 */
static void cl_name(struct classifier *c, ndpi_protocol p, char out[FR_CLASS_MAX])
{
	memset(out, 0, FR_CLASS_MAX);
	snprintf(out, FR_CLASS_MAX, "%s/%s", ndpi_get_proto_name(c->ndpi, p.master_protocol),
	    ndpi_get_proto_name(c->ndpi, p.app_protocol));
}

struct classifier *classify_new(const struct classify_opts *o)
{
	struct classifier *c = xcalloc(1, sizeof(*c));
	NDPI_PROTOCOL_BITMASK all;

	c->o = *o;
	if (!c->o.num_roots)
		c->o.num_roots = 512;
	c->nbuckets = 1;
	while (c->nbuckets < c->o.num_roots && c->nbuckets < (1u << 24))
		c->nbuckets <<= 1;
	c->bucket = xcalloc(c->nbuckets, sizeof(*c->bucket));
	c->seed = hash_seed();
	c->nf_size = ndpi_detection_get_sizeof_ndpi_flow_struct();
	if (!(c->ndpi = ndpi_init_detection_module(ndpi_no_prefs)))
		fatal(WHO, "nDPI: cannot initialise the detection module");
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
	ndpi_finalize_initialization(c->ndpi);
	cl_name(c, (ndpi_protocol){ .master_protocol = NDPI_PROTOCOL_UNKNOWN,
	    .app_protocol = NDPI_PROTOCOL_UNKNOWN }, c->unknown);
	return c;
}

static void cl_flow_free(struct cl_flow *f)
{
	if (f->nf)
		ndpi_free_flow(f->nf);
	free(f);
}

void classify_free(struct classifier *c)
{
	if (!c)
		return;
	for (struct cl_flow *f = c->oldest, *n; f; f = n) {
		n = f->newer;
		cl_flow_free(f);
	}
	free(c->bucket);
	ndpi_exit_detection_module(c->ndpi);
	free(c);
}

void classify_plan(uint32_t max_flows, uint64_t *entries, uint64_t *bytes)
{
	*entries = max_flows;
	*bytes = (uint64_t)max_flows * (sizeof(struct cl_flow) + sizeof(struct cl_flow *) +
	    ndpi_detection_get_sizeof_ndpi_flow_struct());
}

static void cl_publish(struct classifier *c)
{
	if (c->gauge)
		gauge_set(c->gauge, c->st.flows, c->st.flows * sizeof(struct cl_flow) +
		    (uint64_t)c->nbuckets * sizeof(*c->bucket));
}

void classify_set_gauge(struct classifier *c, struct table_gauge *g)
{
	c->gauge = g;
	cl_publish(c);
}

void classify_get_stats(const struct classifier *c, struct classify_stats *out)
{
	*out = c->st;
}

/* The connection's key from the record: endpoints sorted by (address, port). */
static void cl_key_of(const struct flow_rec *rec, struct cl_key *k)
{
	size_t alen = rec->k.src_ip.af == 6 ? 16 : 4;
	int cmp = memcmp(rec->k.src_ip.a, rec->k.dst_ip.a, alen);
	bool swap = cmp > 0 || (cmp == 0 && rec->k.src_port > rec->k.dst_port);

	memset(k, 0, sizeof(*k));
	memcpy(k->a, swap ? rec->k.dst_ip.a : rec->k.src_ip.a, alen);
	memcpy(k->b, swap ? rec->k.src_ip.a : rec->k.dst_ip.a, alen);
	k->pa = swap ? rec->k.dst_port : rec->k.src_port;
	k->pb = swap ? rec->k.src_port : rec->k.dst_port;
	k->vlan = rec->k.vlan;
	k->af = rec->k.src_ip.af;
	k->proto = rec->k.proto;
}

static uint32_t cl_bucket(const struct classifier *c, const struct cl_key *k)
{
	return (uint32_t)hash_bytes(k, sizeof(*k), c->seed) & (c->nbuckets - 1);
}

/* Twice the buckets, when the chains average more than two flows. */
static void cl_grow(struct classifier *c)
{
	uint32_t n = c->nbuckets * 2;
	struct cl_flow **b = xcalloc(n, sizeof(*b));

	c->nbuckets = n;
	for (struct cl_flow *f = c->oldest; f; f = f->newer) {
		uint32_t i = cl_bucket(c, &f->key);
		f->next = b[i];
		b[i] = f;
	}
	free(c->bucket);
	c->bucket = b;
}

static void cl_unlink_age(struct classifier *c, struct cl_flow *f)
{
	if (f->older)
		f->older->newer = f->newer;
	else
		c->oldest = f->newer;
	if (f->newer)
		f->newer->older = f->older;
	else
		c->newest = f->older;
	f->older = f->newer = NULL;
}

static void cl_push_newest(struct classifier *c, struct cl_flow *f)
{
	f->older = c->newest;
	f->newer = NULL;
	if (c->newest)
		c->newest->newer = f;
	else
		c->oldest = f;
	c->newest = f;
}

static void cl_remove(struct classifier *c, struct cl_flow *f)
{
	struct cl_flow **pp = &c->bucket[cl_bucket(c, &f->key)];

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	cl_unlink_age(c, f);
	cl_flow_free(f);
	c->st.flows--;
}

/* Expire, least recent first, up to idle_scan_budget flows idle longer than idle_max_time. */
static void cl_idle_scan(struct classifier *c)
{
	int64_t limit = c->now_ms - (int64_t)c->o.idle_max_time * 1000;
	uint32_t n = 0;

	while (c->oldest && c->oldest->last_ms < limit && n < c->o.idle_scan_budget) {
		cl_remove(c, c->oldest);
		c->st.expired++;
		n++;
	}
	if (n)
		cl_publish(c);
}

static struct cl_flow *cl_find(struct classifier *c, const struct cl_key *k, uint32_t *bi)
{
	*bi = cl_bucket(c, k);
	for (struct cl_flow *f = c->bucket[*bi]; f; f = f->next)
		if (memcmp(&f->key, k, sizeof(*k)) == 0)
			return f;
	return NULL;
}

static void cl_full(struct classifier *c, const struct flow_rec *rec)
{
	c->st.full++;
	c->full_since_log++;
	if (!c->full_logged || rec->ts.sec - c->full_logged >= FULL_LOG_EVERY) {
		log_warnx(WHO, "nDPI: classifier_max_flows (%u) reached: %llu packets of new flows "
		    "left unclassified", c->o.max_flows, (unsigned long long)c->full_since_log);
		c->full_logged = rec->ts.sec ? rec->ts.sec : 1;
		c->full_since_log = 0;
		gauge_hit(c->gauge, 1);
	}
}

static struct cl_flow *cl_new(struct classifier *c, const struct cl_key *k, uint32_t bi)
{
	struct cl_flow *f;

	if (c->st.flows >= c->o.max_flows)
		return NULL;
	f = xcalloc(1, sizeof(*f));
	f->key = *k;
	if (!(f->nf = ndpi_flow_malloc(c->nf_size)))
		fatal(WHO, "nDPI: out of memory");
	memset(f->nf, 0, c->nf_size);
	f->next = c->bucket[bi];
	c->bucket[bi] = f;
	cl_push_newest(c, f);
	if (++c->st.flows > 2 * (uint64_t)c->nbuckets && c->nbuckets < (1u << 26))
		cl_grow(c);
	cl_publish(c);
	return f;
}

/* Detection is over for f: keep its name, free nDPI's state. */
static void cl_done(struct classifier *c, struct cl_flow *f, ndpi_protocol p)
{
	if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN) {
		cl_name(c, p, f->name);
		c->st.classified++;
	} else {
		c->st.gave_up++;
	}
	ndpi_free_flow(f->nf);
	f->nf = NULL;
}

/* The packet through nDPI: a name, or a give-up when its time has come. */
static void cl_inspect(struct classifier *c, struct cl_flow *f, const struct flow_rec *rec,
    const uint8_t *pkt, uint32_t caplen)
{
	uint32_t len = caplen > rec->l3_off ? caplen - rec->l3_off : 0;
	uint32_t giveup = rec->k.proto == PROTO_TCP ? c->o.giveup_tcp :
	    rec->k.proto == PROTO_UDP ? c->o.giveup_udp : c->o.giveup_other;
	ndpi_protocol p;

	const uint8_t *ip = pkt + rec->l3_off;

	if (len > 0xffff)
		len = 0xffff;
	/*
	 * nDPI ignores a packet whose IP length exceeds what it is given: a
	 * packet cut by snaplen goes in as the datagram of its captured bytes
	 * (IPv4 total length, IPv6 payload length rewritten), so its first
	 * bytes of payload are still inspected.
	 */
	if (len >= 20 && (ip[0] >> 4) == 4 && ((uint32_t)ip[2] << 8 | ip[3]) > len) {
		memcpy(c->cut, ip, len);
		c->cut[2] = (uint8_t)(len >> 8);
		c->cut[3] = (uint8_t)len;
		ip = c->cut;
	} else if (len >= 40 && (ip[0] >> 4) == 6 && ((uint32_t)ip[4] << 8 | ip[5]) + 40 > len) {
		memcpy(c->cut, ip, len);
		c->cut[4] = (uint8_t)((len - 40) >> 8);
		c->cut[5] = (uint8_t)(len - 40);
		ip = c->cut;
	}
	p = ndpi_detection_process_packet(c->ndpi, f->nf, ip, (unsigned short)len, (uint64_t)c->now_ms);
	f->packets++;
	if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN) {
		cl_done(c, f, p);
		return;
	}
	if (f->packets < giveup && !(rec->k.proto == PROTO_TCP && (rec->tcp_flags & (TH_FIN | TH_RST))))
		return;
	uint8_t guessed = 0;
	p = ndpi_detection_giveup(c->ndpi, f->nf, c->o.proto_guess, &guessed);
	cl_done(c, f, p);
}

void classify_packet(struct classifier *c, struct flow_rec *rec, const uint8_t *pkt,
    uint32_t caplen)
{
	struct cl_key k;
	struct cl_flow *f;
	uint32_t bi;
	int64_t t = rec->ts.sec * 1000 + rec->ts.usec / 1000;

	memcpy(rec->k.class_name, c->unknown, FR_CLASS_MAX);
	if ((rec->k.etype != 0x0800 && rec->k.etype != 0x86dd) || !rec->k.src_ip.af)
		return;
	if (t > c->now_ms)
		c->now_ms = t;		/* nDPI wants a clock that does not go back */
	if (c->now_ms >= c->next_scan_ms) {
		if (c->next_scan_ms)
			cl_idle_scan(c);
		c->next_scan_ms = c->now_ms + (int64_t)c->o.idle_scan_period * 1000;
	}
	cl_key_of(rec, &k);
	if (!(f = cl_find(c, &k, &bi))) {
		if (rec->flags & FR_F_LATER_FRAG)
			return;
		if (!(f = cl_new(c, &k, bi))) {
			cl_full(c, rec);
			return;
		}
	}
	f->last_ms = c->now_ms;
	if (f != c->newest) {
		cl_unlink_age(c, f);
		cl_push_newest(c, f);
	}
	if (f->nf && !(rec->flags & FR_F_LATER_FRAG) && pkt && rec->l3_off < caplen)
		cl_inspect(c, f, rec, pkt, caplen);
	if (f->name[0])
		memcpy(rec->k.class_name, f->name, FR_CLASS_MAX);
}
