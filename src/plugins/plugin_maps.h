/* SPDX-License-Identifier: BSD-3-Clause */
/* plugin_maps.h: the maps a plugin applies on its own thread: networks_file / networks_mask (nets, masks, ASNs) and ports_file. */
#ifndef PLUGINS_PLUGIN_MAPS_H
#define PLUGINS_PLUGIN_MAPS_H

#include <stdbool.h>

#include "model/flow_rec.h"
#include "model/prim.h"

struct plugin;

/*
 * Primitives whose values the plugin's maps compute from other key fields
 * (src_net needs src_ip, ...): the fields the plugin must receive although
 * it does not aggregate on them.  Added to the plugin's key span.
 */
void plugin_maps_inputs(const struct plugin *p, struct prim_set *extra);

/*
 * Load the plugin's maps (on the core thread, before capture).  Returns 0,
 * or -1 after logging an error naming file, line and key.
 */
int plugin_maps_init(struct plugin *p);

/* Apply the maps to one record, on the plugin's thread, before it is aggregated. */
void plugin_maps_apply(struct plugin *p, struct flow_rec *rec);

/*
 * Reload the plugin's maps (SIGUSR2, maps_refresh), on the plugin's thread.
 * A map that fails to load keeps the previous one in use (logged).
 */
void plugin_maps_reload(struct plugin *p);

void plugin_maps_fini(struct plugin *p);

#endif
