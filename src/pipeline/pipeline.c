/* SPDX-License-Identifier: BSD-3-Clause */
/* pipeline.c: the core's per-record path: decode, enrich, then offer to every plugin. */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "model/gauge.h"
#include "model/prim.h"
#include "pipeline/synth.h"

static bool any_plugin_has(const struct core_cfg *cfg, uint8_t flag, int id)
{
	for (int i = 0; i < cfg->nplugins; i++) {
		const struct prim_set *s = &cfg->plugins[i].aggregate;
		for (int j = 0; j < P_COUNT; j++) {
			uint8_t flags = prim_desc_of(cfg->prims, j)->flags;
			if (prim_has(s, (enum prim_id)j) && ((flags & flag) || j == id))
				return true;
		}
	}
	return false;
}

/* Does any plugin or map need a frame for its BPF filters? */
static bool needs_frame(const struct pipeline *pl)
{
	for (int i = 0; i < pl->nfeeds; i++)
		if (pl->feeds[i].filters->nbpf)
			return true;
	return pl->maps != NULL || bgp_enrich_needs_frame(pl->bgp);
}

/* The BGP correlation of the plugins' records (NULL when none needs it); -1 on a bad key or map. */
static int bgp_init(struct pipeline *pl, int linktype, int snaplen)
{
	struct bgp_enrich_need need;
	int err = 0;

	bgp_enrich_needs(pl->cfg, &need);
	pl->bgp = bgp_enrich_new(pl->cfg, &need, linktype, snaplen, &err);
	return err ? -1 : 0;
}

int pipeline_init(struct pipeline *pl, struct core_cfg *cfg, struct plugin *ps, int n,
    int linktype, int snaplen, bool packets)
{
	int err = 0;

	memset(pl, 0, sizeof(*pl));
	pl->cfg = cfg;
	pl->feeds = xcalloc((size_t)n ? (size_t)n : 1, sizeof(*pl->feeds));
	pl->nfeeds = n;
	for (int i = 0; i < n; i++)
		feed_init(&pl->feeds[i], &ps[i], linktype);
	/*
	 * As pmacctd: fragments are tracked only when ports matter (an L4
	 * primitive, or `flows`, whose flows are told apart by port), or when
	 * forced.
	 */
	/*
	 * Their ceilings are registered under -T config too (check_only), where
	 * nothing is allocated.
	 */
	if (packets && (cfg->force_frag_handling || any_plugin_has(cfg, PRIM_L4, P_FLOWS))) {
		uint64_t me, mb;
		frag_plan(cfg->frag_buffer_size, &me, &mb);
		struct table_gauge *g = gauges_add(cfg->gauges, "default/core", "fragments",
		    "pmacctd_frag_buffer_size", GAUGE_REFUSE, me, mb);
		if (!cfg->check_only) {
			pl->frag = frag_new(cfg->frag_buffer_size);
			frag_set_gauge(pl->frag, g);
		}
	}
	if (packets && any_plugin_has(cfg, 0, P_FLOWS)) {
		uint64_t me, mb;
		flows_plan(cfg->flow_buffer_size, &me, &mb);
		struct table_gauge *g = gauges_add(cfg->gauges, "default/core", "flows",
		    "pmacctd_flow_buffer_size", GAUGE_REFUSE, me, mb);
		if (!cfg->check_only) {
			pl->flows = flows_new(cfg->flow_buffer_size, cfg->flow_lifetime);
			flows_set_gauge(pl->flows, g);
		}
	}
	pl->maps = core_maps_new(cfg, linktype, snaplen, &err);
	if (!err && bgp_init(pl, linktype, snaplen) < 0)
		err = 1;
	pl->needs_frame = needs_frame(pl);
	return err ? -1 : 0;
}

int pipeline_init_sibling(struct pipeline *pl, struct pipeline *first, int linktype, int snaplen)
{
	int err = 0;

	memset(pl, 0, sizeof(*pl));
	pl->cfg = first->cfg;
	pl->feeds = xcalloc((size_t)first->nfeeds ? (size_t)first->nfeeds : 1, sizeof(*pl->feeds));
	pl->nfeeds = first->nfeeds;
	for (int i = 0; i < pl->nfeeds; i++)
		feed_init_sibling(&pl->feeds[i], &first->feeds[i], linktype);
	pl->maps = core_maps_new(pl->cfg, linktype, snaplen, &err);
	if (!err && bgp_init(pl, linktype, snaplen) < 0)
		err = 1;
	pipeline_set_bgp(pl, first->rib);
	pipeline_set_roa(pl, first->roa);
	pl->needs_frame = needs_frame(pl);
	return err ? -1 : 0;
}

void pipeline_set_bgp(struct pipeline *pl, struct bgp_rib *rib)
{
	pipeline_batch_end(pl);
	pl->rib = rib;
	bgp_enrich_set_rib(pl->bgp, rib);
}

void pipeline_set_roa(struct pipeline *pl, struct roa_db *db)
{
	pipeline_batch_end(pl);
	pl->roa = db;
	bgp_enrich_set_roa(pl->bgp, db);
}

void pipeline_batch_end(struct pipeline *pl)
{
	if (pl->bgp_batch) {
		bgp_enrich_end(pl->bgp);
		pl->bgp_batch = 0;
	}
}

void pipeline_reload_core_maps(struct pipeline *pl)
{
	if (pl->maps)
		core_maps_reload(pl->maps);
	if (pl->bgp) {
		pipeline_batch_end(pl);
		bgp_enrich_reload(pl->bgp);
	}
}

void pipeline_reload_maps(struct pipeline *pl)
{
	pipeline_reload_core_maps(pl);
	for (int i = 0; i < pl->nfeeds; i++)
		plugin_reload_maps(pl->feeds[i].plugin);
}

void pipeline_fini(struct pipeline *pl)
{
	for (int i = 0; i < pl->nfeeds; i++)
		feed_fini(&pl->feeds[i]);
	free(pl->feeds);
	pl->feeds = NULL;
	pl->nfeeds = 0;
	frag_free(pl->frag);
	flows_free(pl->flows);
	core_maps_free(pl->maps);
	pl->maps = NULL;
	pipeline_batch_end(pl);
	bgp_enrich_free(pl->bgp);
	pl->bgp = NULL;
	pl->frag = NULL;
	pl->flows = NULL;
}

void pipeline_packet(struct pipeline *pl, int dlt, const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	struct flow_rec rec;

	if (pkt_decode(dlt, pkt, h->caplen, h->len, &rec, &pl->dstats) != PKT_DROP_NONE)
		return;
	rec.ts.sec = h->ts.tv_sec;
	rec.ts.usec = h->ts.tv_usec;
	rec.k.ts_arrival = rec.ts;
	rec.k.sampling_rate = 1;
	pipeline_record(pl, &rec, h, pkt);
}

void pipeline_record(struct pipeline *pl, struct flow_rec *rec, const struct pcap_pkthdr *h,
    const uint8_t *pkt)
{
	struct pcap_pkthdr sh;
	uint8_t frame[SYNTH_MAX];

	if (!pkt && pl->needs_frame) {
		/* NetFlow/sFlow: filters see a frame rebuilt from the record */
		synth_frame(rec, frame, &sh);
		h = &sh;
		pkt = frame;
	}
	if (pl->maps)
		core_maps_apply(pl->maps, rec, h, pkt);
	if (pl->frag && !frag_handle(pl->frag, rec))
		return;
	if (pl->flows)
		flows_handle(pl->flows, rec);
	if (pl->bgp) {
		/* the RIB is read-locked once per batch of records, not per record */
		if (!pl->bgp_batch++)
			bgp_enrich_begin(pl->bgp);
		bgp_enrich_record(pl->bgp, rec, h, pkt);
		if (pl->bgp_batch >= PIPELINE_BGP_BATCH)
			pipeline_batch_end(pl);
	}
	for (int i = 0; i < pl->nfeeds; i++) {
		/* pre_tag_map is per plugin (pmacct 1.7.7); `return=true` offers more than once */
		int n = pl->maps ? core_maps_offers(pl->maps, i) : 1;
		for (int k = 0; k < n; k++) {
			if (pl->maps)
				core_maps_tag_for(pl->maps, i, k, rec);
			feed_offer(&pl->feeds[i], rec, h, pkt);
		}
	}
}

/* The tag pre_tag_map gives plugin i for a datagram from `src` (0 without a map). */
static uint64_t datagram_tag(void *arg, int i, const struct dgram *d)
{
	struct pipeline *pl = arg;
	struct flow_rec rec;

	if (!pl->maps)
		return 0;
	memset(&rec, 0, sizeof(rec));
	rec.k.peer_src_ip = d->src;
	rec.ts = d->ts;
	core_maps_apply(pl->maps, &rec, NULL, NULL);
	core_maps_tag_for(pl->maps, i, 0, &rec);
	return rec.k.tag;
}

void pipeline_datagram(struct pipeline *pl, const struct dgram *d)
{
	for (int i = 0; i < pl->nfeeds; i++) {
		struct plugin *p = pl->feeds[i].plugin;
		if (p->type->datagram) {
			struct plugin_tagger tg = { datagram_tag, pl, i };
			p->type->datagram(p, d, &tg);
		}
	}
}

void pipeline_flush(struct pipeline *pl)
{
	pipeline_batch_end(pl);
	for (int i = 0; i < pl->nfeeds; i++)
		feed_flush(&pl->feeds[i]);
}
