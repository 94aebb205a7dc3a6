/* SPDX-License-Identifier: BSD-3-Clause */
/* plugin_maps.c: the maps a plugin applies on its own thread (being written: networks_file, ports_file). */
#include "plugin_maps.h"

#include "config/config.h"
#include "lib/log.h"
#include "plugins/plugin.h"

void plugin_maps_inputs(const struct plugin *p, struct prim_set *extra)
{
	(void)p;
	(void)extra;
}

int plugin_maps_init(struct plugin *p)
{
	(void)p;
	return 0;
}

void plugin_maps_apply(struct plugin *p, struct flow_rec *rec)
{
	(void)p;
	(void)rec;
}

void plugin_maps_reload(struct plugin *p)
{
	(void)p;
}

void plugin_maps_fini(struct plugin *p)
{
	(void)p;
}
