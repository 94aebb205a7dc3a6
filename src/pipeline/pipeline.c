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

bool pipeline_tun_setup(const struct core_cfg *cfg, bool packets, struct pkt_tun *t)
{
	static const enum prim_id tp[] = {
		P_TUNNEL_SRC_MAC, P_TUNNEL_DST_MAC, P_TUNNEL_SRC_HOST, P_TUNNEL_DST_HOST,
		P_TUNNEL_PROTO, P_TUNNEL_TOS, P_TUNNEL_SRC_PORT, P_TUNNEL_DST_PORT, P_VXLAN,
	};
	static const uint8_t proto[] = {
		[CFG_TUN_GTP] = PKT_TUN_GTP, [CFG_TUN_VXLAN] = PKT_TUN_VXLAN,
		[CFG_TUN_GRE] = PKT_TUN_GRE, [CFG_TUN_IPIP] = PKT_TUN_IPIP,
	};

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < sizeof(tp) / sizeof(tp[0]) && !t->prims; i++)
		t->prims = any_plugin_has(cfg, 0, tp[i]);
	if (packets) {
		for (int i = 0; i < cfg->tunnel_0.n && i < PKT_TUN_MAX; i++) {
			t->e[i].proto = proto[cfg->tunnel_0.e[i].proto];
			t->e[i].port = cfg->tunnel_0.e[i].port;
		}
		t->n = cfg->tunnel_0.n < PKT_TUN_MAX ? cfg->tunnel_0.n : PKT_TUN_MAX;
	}
	return t->prims || t->n;
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

/*
 * The GeoIP lookup, when a plugin selects a GeoIP primitive: geoipv2_file
 * opened for this pipeline (each receive thread has its own handle).  A
 * file that cannot be opened is an error naming the key; none at all
 * leaves the fields empty, as pmacct (`first`: warn about it once).
 */
static int geo_init(struct pipeline *pl, bool first)
{
	static const enum prim_id ids[] = { P_SRC_HOST_COUNTRY, P_DST_HOST_COUNTRY,
		P_SRC_HOST_POCODE, P_DST_HOST_POCODE, P_SRC_HOST_COORDS, P_DST_HOST_COORDS };
	bool *need[] = { &pl->geo_need.src_country, &pl->geo_need.dst_country,
		&pl->geo_need.src_pocode, &pl->geo_need.dst_pocode,
		&pl->geo_need.src_coords, &pl->geo_need.dst_coords };
	const struct core_cfg *cfg = pl->cfg;
	char why[512];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		*need[i] = any_plugin_has(cfg, 0, ids[i]);
	pl->geo_on = geoip_need_any(&pl->geo_need);
	if (!pl->geo_on)
		return 0;
	if (!cfg->geoipv2_file || !cfg->geoipv2_file[0]) {
		if (first)
			log_warnx("default/core", "GeoIP primitives selected but no geoipv2_file: "
			    "they stay empty.");
		return 0;
	}
	pl->geo = geoip_open(cfg->geoipv2_file, why, sizeof(why));
	if (!pl->geo) {
		log_err("default/core", "[%s] key 'geoipv2_file': cannot load the database %s. Exiting.",
		    cfg_where(&cfg->origin, "geoipv2_file"), why);
		return -1;
	}
	if (first)
		log_info("default/core", "[%s] geoipv2_file database loaded.", cfg->geoipv2_file);
	return 0;
}

/* nDPI for the class primitive: its table's ceiling (-T config too), then the classifier. */
static void classify_init(struct pipeline *pl, const struct core_cfg *cfg, int snaplen)
{
	struct classify_opts o = {
		.num_roots = cfg->cl_num_roots, .max_flows = cfg->cl_max_flows,
		.proto_guess = cfg->cl_proto_guess, .idle_scan_period = cfg->cl_idle_scan_period,
		.idle_max_time = cfg->cl_idle_max_time, .idle_scan_budget = cfg->cl_idle_scan_budget,
		.giveup_tcp = cfg->cl_giveup_tcp, .giveup_udp = cfg->cl_giveup_udp,
		.giveup_other = cfg->cl_giveup_other,
	};
	uint64_t me, mb;

	classify_plan(o.max_flows, &me, &mb);
	struct table_gauge *g = gauges_add(cfg->gauges, "default/core", "classifier",
	    "classifier_max_flows", GAUGE_REFUSE, me, mb);
	if (cfg->check_only)
		return;
	if (snaplen > 0 && snaplen < 200)
		log_warnx("default/core", "class: snaplen %d leaves nDPI little payload to classify "
		    "(500 to 750 bytes are advised)", snaplen);
	pl->cl = classify_new(&o);
	classify_set_gauge(pl->cl, g);
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
	if (packets && any_plugin_has(cfg, 0, P_CLASS))
		classify_init(pl, cfg, snaplen);
	pl->maps = core_maps_new(cfg, linktype, snaplen, &err);
	if (!err && bgp_init(pl, linktype, snaplen) < 0)
		err = 1;
	if (!err && geo_init(pl, true) < 0)
		err = 1;
	pl->needs_frame = needs_frame(pl);
	if (pipeline_tun_setup(cfg, packets, &pl->tun))
		pl->tunp = &pl->tun;
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
	if (!err && geo_init(pl, false) < 0)
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

void pipeline_log_stats(const struct pipeline *pl, const char *who)
{
	for (int i = 0; i < PKT_DROP_COUNT; i++)
		if (pl->dstats.drops[i])
			log_notice(who, "stats decode %s=%llu", pkt_drop_name[i],
			    (unsigned long long)pl->dstats.drops[i]);
	for (int i = 0; i < pl->nfeeds; i++)
		plugin_log_stats(pl->feeds[i].plugin, who);
	gauges_log(pl->cfg->gauges, who);
	log_notice(who, "---");
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
	if (pl->geo) {
		char why[512];
		if (geoip_reload(pl->geo, why, sizeof(why)) < 0)
			log_err("default/core", "geoipv2_file: cannot reload the database %s: "
			    "keeping the one loaded before.", why);
		else
			log_info("default/core", "[%s] geoipv2_file database reloaded.",
			    geoip_path(pl->geo));
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
	classify_free(pl->cl);
	pl->cl = NULL;
	core_maps_free(pl->maps);
	pl->maps = NULL;
	pipeline_batch_end(pl);
	bgp_enrich_free(pl->bgp);
	pl->bgp = NULL;
	geoip_free(pl->geo);
	pl->geo = NULL;
	pl->frag = NULL;
	pl->flows = NULL;
}

void pipeline_packet(struct pipeline *pl, int dlt, const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	pipeline_packet_at(pl, dlt, h, pkt, 0, 0, 0);
}

void pipeline_packet_at(struct pipeline *pl, int dlt, const struct pcap_pkthdr *h, const uint8_t *pkt,
    uint32_t in_iface, uint32_t out_iface, uint8_t direction)
{
	struct flow_rec rec;

	if (pkt_decode_full(dlt, pkt, h->caplen, h->len, pl->tunp, &rec, &pl->dstats) != PKT_DROP_NONE)
		return;
	rec.ts.sec = h->ts.tv_sec;
	rec.ts.usec = h->ts.tv_usec;
	rec.k.ts_arrival = rec.ts;
	rec.k.sampling_rate = 1;
	rec.k.in_iface = in_iface;
	rec.k.out_iface = out_iface;
	rec.flags |= FR_F_DIR;
	rec.direction = direction;
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
	if (pl->cl && pkt)
		classify_packet(pl->cl, rec, pkt, h->caplen);
	if (pl->bgp) {
		/* the RIB is read-locked once per batch of records, not per record */
		if (!pl->bgp_batch++)
			bgp_enrich_begin(pl->bgp);
		bgp_enrich_record(pl->bgp, rec, h, pkt);
		if (pl->bgp_batch >= PIPELINE_BGP_BATCH)
			pipeline_batch_end(pl);
	}
	if (pl->geo_on)
		geoip_fill(pl->geo, &pl->geo_need, &rec->k);
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
