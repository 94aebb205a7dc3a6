/* SPDX-License-Identifier: BSD-3-Clause */
/* core_maps.c: per-plugin pre_tag_maps (deduplicated by file), sampling_map and pmacctd_renormalize in the core. */
#include "core_maps.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "maps/pretag.h"
#include "maps/sampling_map.h"

#define CM_WHO "default/core"

/* One distinct map file and its result for the current record. */
struct cm_map {
	const char *path;		/* owned by the configuration */
	const struct cfg_extra *origin;	/* where the key was set (start-up errors) */
	uint32_t entries, row_len;
	struct pt_map *map;
	struct pt_result res[PT_MAX_RESULTS];
	int nres;
};

struct core_maps {
	struct pt_opts opts;
	struct cm_map *maps;
	int nmaps;
	int *plugin_map;		/* per plugin: index into maps, -1 = no map */
	int nplugins;
	bool shared;			/* every plugin uses maps[0]: tag rec in place */
	uint32_t ext_rate;		/* pmacctd_ext_sampling_rate */
	bool renormalize;
	struct sampling_map *smap;	/* sampling_map (nfacctd, sfacctd), NULL = none */
	const char *smap_path;		/* owned by the configuration */
	size_t smap_entries;
	bool smap_on;
	bool smap_ext;			/* renormalizing by an external rate, which wins over the map */
};

/* Load one pre_tag_map; at start-up (`startup`) a failure names the key's file and line. */
static struct pt_map *cm_load(const struct core_maps *m, const struct cm_map *cm, bool startup)
{
	struct pt_opts o = m->opts;
	char err[512];

	o.max_entries = cm->entries;
	o.row_len = cm->row_len;
	log_info(CM_WHO, "[%s] (re)loading map.", cm->path);
	struct pt_map *map = pretag_load(cm->path, &o, err, sizeof(err));
	if (!map) {
		if (startup)
			log_err(CM_WHO, "[%s] key 'pre_tag_map': %s. Exiting.",
			    cfg_where(cm->origin, "pre_tag_map"), err);
		else
			log_err(CM_WHO, "%s", err);
		return NULL;
	}
	log_info(CM_WHO, "[%s] map successfully (re)loaded.", cm->path);
	return map;
}

/* The index of plugin pc's map in m->maps, adding it when new; -1 when it has none. */
static int cm_find_or_add(struct core_maps *m, const struct plugin_cfg *pc)
{
	if (!pc->pre_tag_map || !pc->pre_tag_map[0])
		return -1;
	for (int j = 0; j < m->nmaps; j++) {
		const struct cm_map *cm = &m->maps[j];
		if (strcmp(cm->path, pc->pre_tag_map) == 0 && cm->entries == pc->maps_entries &&
		    cm->row_len == pc->maps_row_len)
			return j;
	}
	struct cm_map *cm = &m->maps[m->nmaps];
	cm->path = pc->pre_tag_map;
	cm->origin = &pc->origin;
	cm->entries = pc->maps_entries;
	cm->row_len = pc->maps_row_len;
	cm->nres = 1;
	return m->nmaps++;
}

/* As pmacct 1.7.7: a plugin's own sampling and an already sampled capture do not mix. */
static int cm_check_sampling(const struct core_cfg *cfg)
{
	if (!cfg->ext_sampling_rate)
		return 0;
	for (int i = 0; i < cfg->nplugins; i++)
		if (cfg->plugins[i].sampling_rate) {
			log_err(CM_WHO, "Internal packet sampling and external packet sampling are "
			    "mutual exclusive. Exiting.");
			return -1;
		}
	return 0;
}

/* Load the sampling_map; `where` (file:line of the key) prefixes a failure at start-up. */
static struct sampling_map *cm_smap_load(const struct core_maps *m, const char *where)
{
	char err[512];

	log_info(CM_WHO, "[%s] (re)loading map.", m->smap_path);
	struct sampling_map *map = sampling_map_load(m->smap_path, m->smap_entries, err, sizeof(err));
	if (!map) {
		if (where)
			log_err(CM_WHO, "[%s] key 'sampling_map': %s. Exiting.", where, err);
		else
			log_err(CM_WHO, "%s", err);
		return NULL;
	}
	log_info(CM_WHO, "[%s] map successfully (re)loaded: %zu rules.", m->smap_path,
	    sampling_map_count(map));
	return map;
}

/* sampling_map, nfacctd and sfacctd only (pmacct: NO_PMACCTD). */
static int cm_smap_init(struct core_maps *m, const struct core_cfg *cfg)
{
	if (!cfg->sampling_map || !cfg->sampling_map[0])
		return 0;
	if (cfg->daemon != CFG_NFACCTD && cfg->daemon != CFG_SFACCTD) {
		log_warnx(CM_WHO, "[%s] key 'sampling_map': only nfacctd and sfacctd use it. Ignored.",
		    cfg_where(&cfg->origin, "sampling_map"));
		return 0;
	}
	m->smap_ext = cfg->renormalize && cfg->ext_sampling_rate;
	m->smap_path = cfg->sampling_map;
	m->smap_entries = cfg->nplugins ? cfg->plugins[0].maps_entries : 0;
	m->smap_on = true;
	m->smap = cm_smap_load(m, cfg_where(&cfg->origin, "sampling_map"));
	return m->smap ? 0 : -1;
}

struct core_maps *core_maps_new(struct core_cfg *cfg, int linktype, int snaplen, int *err)
{
	*err = 0;
	if (cm_check_sampling(cfg) < 0) {
		*err = 1;
		return NULL;
	}
	struct core_maps *m = xcalloc(1, sizeof(*m));
	m->opts = (struct pt_opts){ .daemon = cfg->daemon == CFG_NFACCTD ? PT_NFACCTD :
	    cfg->daemon == CFG_SFACCTD ? PT_SFACCTD : PT_PMACCTD, .linktype = linktype,
	    .snaplen = snaplen, .who = CM_WHO };
	/* NetFlow and sFlow decoders apply their daemon's external rate themselves */
	m->ext_rate = cfg->daemon == CFG_PMACCTD ? cfg->ext_sampling_rate : 0;
	m->renormalize = cfg->renormalize;
	m->nplugins = cfg->nplugins;
	m->maps = xcalloc((size_t)cfg->nplugins + 1, sizeof(*m->maps));
	m->plugin_map = xcalloc((size_t)cfg->nplugins + 1, sizeof(int));
	m->shared = cfg->nplugins > 0;
	for (int i = 0; i < cfg->nplugins; i++) {
		m->plugin_map[i] = cm_find_or_add(m, &cfg->plugins[i]);
		if (m->plugin_map[i] != 0)
			m->shared = false;
	}
	for (int j = 0; j < m->nmaps; j++) {
		m->maps[j].map = cm_load(m, &m->maps[j], true);
		if (!m->maps[j].map) {
			/* as pmacct: a map that cannot be read at start-up is fatal */
			*err = 1;
			core_maps_free(m);
			return NULL;
		}
	}
	if (cm_smap_init(m, cfg) < 0) {
		*err = 1;
		core_maps_free(m);
		return NULL;
	}
	if (!m->nmaps && !m->ext_rate && !m->smap_on) {
		core_maps_free(m);
		return NULL;
	}
	return m;
}

/*
 * pmacctd_ext_sampling_rate N: the capture is already 1-out-of-N.  As
 * pmacct 1.7.7: with pmacctd_renormalize the counters are multiplied by N
 * and the sampling_rate primitive says 1; without, it says N.
 */
static void cm_renormalize(const struct core_maps *m, struct flow_rec *rec)
{
	if (!m->renormalize) {
		rec->k.sampling_rate = m->ext_rate;
		return;
	}
	rec->bytes *= m->ext_rate;
	rec->packets *= m->ext_rate;
	rec->k.sampling_rate = 1;
}

/*
 * sampling_map on a NetFlow/sFlow record, as pmacct 1.7.7 (verified): the
 * first matching rule's rate becomes the record's sampling_rate, and with
 * renormalization multiplies the counters (sampling_rate then says 1).
 * Records no rule matches keep the exporter's rate: with renormalization
 * the decoder left the counters alone and put in sampling_rate the rate it
 * would have used (nfacctd: the exported one, 0 = unknown, counters
 * unchanged; sfacctd: the effective rate).  An external rate wins over
 * the map when renormalizing (the decoder applied it); a record the map
 * gives a rate then says 1 even when its exporter sent none.
 */
static void cm_sampling_map(const struct core_maps *m, struct flow_rec *rec)
{
	uint32_t rate = sampling_map_lookup(m->smap, &rec->k.peer_src_ip, rec->k.in_iface,
	    rec->k.out_iface);

	if (!m->renormalize || m->smap_ext) {
		if (rate)
			rec->k.sampling_rate = m->renormalize ? 1 : rate;
		return;
	}
	if (!rate) {
		rate = rec->k.sampling_rate;
		if (!rate && m->opts.daemon == PT_NFACCTD)
			return;
	}
	rec->bytes *= rate;
	rec->packets *= rate;
	rec->k.sampling_rate = 1;
}

void core_maps_apply(struct core_maps *m, struct flow_rec *rec, const struct pcap_pkthdr *h,
    const uint8_t *pkt)
{
	if (m->ext_rate)
		cm_renormalize(m, rec);
	if (m->smap_on)
		cm_sampling_map(m, rec);
	for (int j = 0; j < m->nmaps; j++) {
		struct cm_map *cm = &m->maps[j];
		cm->nres = pretag_eval(cm->map, rec, h, pkt, cm->res, PT_MAX_RESULTS);
	}
	if (m->shared && m->maps[0].nres == 1) {
		rec->k.tag = m->maps[0].res[0].tag;
		rec->k.tag2 = m->maps[0].res[0].tag2;
	}
}

int core_maps_offers(const struct core_maps *m, int i)
{
	if (i < 0 || i >= m->nplugins || m->plugin_map[i] < 0)
		return 1;
	return m->maps[m->plugin_map[i]].nres;
}

void core_maps_tag_for(const struct core_maps *m, int i, int k, struct flow_rec *rec)
{
	int j = i >= 0 && i < m->nplugins ? m->plugin_map[i] : -1;

	if (j < 0 || k < 0 || k >= m->maps[j].nres) {
		rec->k.tag = rec->k.tag2 = 0;
		rec->k.label[0] = '\0';
		return;
	}
	rec->k.tag = m->maps[j].res[k].tag;
	rec->k.tag2 = m->maps[j].res[k].tag2;
	snprintf(rec->k.label, sizeof(rec->k.label), "%s", m->maps[j].res[k].label);
}

void core_maps_reload(struct core_maps *m)
{
	if (m->smap_on) {
		struct sampling_map *sm = cm_smap_load(m, NULL);
		if (sm) {
			sampling_map_free(m->smap);
			m->smap = sm;
		} else {
			log_warnx(CM_WHO, "[%s] Rolling back old map.", m->smap_path);
		}
	}
	for (int j = 0; j < m->nmaps; j++) {
		struct pt_map *map = cm_load(m, &m->maps[j], false);
		if (!map) {
			log_warnx(CM_WHO, "[%s] Rolling back old map.", m->maps[j].path);
			continue;
		}
		pretag_free(m->maps[j].map);
		m->maps[j].map = map;
	}
}

void core_maps_free(struct core_maps *m)
{
	if (!m)
		return;
	for (int j = 0; j < m->nmaps; j++)
		pretag_free(m->maps[j].map);
	sampling_map_free(m->smap);
	free(m->maps);
	free(m->plugin_map);
	free(m);
}
