/* SPDX-License-Identifier: BSD-3-Clause */
/* core_maps.c: the maps the core applies before dispatch (being written: pre_tag_map). */
#include "core_maps.h"

#include <stddef.h>

struct core_maps *core_maps_new(struct core_cfg *cfg, int linktype, int snaplen, int *err)
{
	(void)cfg;
	(void)linktype;
	(void)snaplen;
	*err = 0;
	return NULL;
}

void core_maps_apply(struct core_maps *m, struct flow_rec *rec, const struct pcap_pkthdr *h,
    const uint8_t *pkt)
{
	(void)m;
	(void)rec;
	(void)h;
	(void)pkt;
}

void core_maps_reload(struct core_maps *m)
{
	(void)m;
}

void core_maps_free(struct core_maps *m)
{
	(void)m;
}
