/* SPDX-License-Identifier: BSD-3-Clause */
/* core_maps.h: the maps the core applies once per record before dispatch: pre_tag_map (tag, tag2, label). */
#ifndef PIPELINE_CORE_MAPS_H
#define PIPELINE_CORE_MAPS_H

#include <pcap/pcap.h>

#include "config/config.h"
#include "model/flow_rec.h"

struct core_maps;

/* Load the core's maps; NULL when none is configured; *err set on failure (logged). */
struct core_maps *core_maps_new(struct core_cfg *cfg, int linktype, int snaplen, int *err);

/* Tag one record (h and pkt are the captured frame, NULL for NetFlow/sFlow records). */
void core_maps_apply(struct core_maps *m, struct flow_rec *rec, const struct pcap_pkthdr *h,
    const uint8_t *pkt);

/* Reload every core map (SIGUSR2); a map that fails keeps the previous one. */
void core_maps_reload(struct core_maps *m);

void core_maps_free(struct core_maps *m);

#endif
