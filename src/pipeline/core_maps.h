/* SPDX-License-Identifier: BSD-3-Clause */
/* core_maps.h: what the core applies once per record before dispatch: pre_tag_map (tag, tag2), sampling_map and external-sampling renormalization. */
#ifndef PIPELINE_CORE_MAPS_H
#define PIPELINE_CORE_MAPS_H

#include <pcap/pcap.h>

#include "config/config.h"
#include "model/flow_rec.h"

struct core_maps;

/*
 * Load every plugin's pre_tag_map (a map named by several plugins is
 * loaded and evaluated once) and the sampling_map (nfacctd, sfacctd), and
 * check the sampling keys.  NULL when there
 * is nothing to do; *err set (after logging) when start-up must stop.
 */
struct core_maps *core_maps_new(struct core_cfg *cfg, int linktype, int snaplen, int *err);

/*
 * Renormalize and tag one record (h and pkt are the captured frame, NULL
 * for NetFlow/sFlow records).  When all plugins share one map its tags are
 * written into rec; otherwise core_maps_tag_for() sets them per plugin.
 */
void core_maps_apply(struct core_maps *m, struct flow_rec *rec, const struct pcap_pkthdr *h,
    const uint8_t *pkt);

/*
 * How many times plugin i is offered the record just applied: 1, or more
 * when its map used `return=true` (each offer with its own tags).
 */
int core_maps_offers(const struct core_maps *m, int i);

/* Set rec's tag and tag2 to plugin i's k-th result (0 when the plugin has no map). */
void core_maps_tag_for(const struct core_maps *m, int i, int k, struct flow_rec *rec);

/* Reload every core map (SIGUSR2); a map that fails keeps the previous one. */
void core_maps_reload(struct core_maps *m);

/* Free everything; NULL is a no-op. */
void core_maps_free(struct core_maps *m);

#endif
