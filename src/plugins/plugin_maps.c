/* SPDX-License-Identifier: BSD-3-Clause */
/* plugin_maps.c: the maps a plugin applies on its own thread: networks_file / networks_mask and ports_file. */
#include "plugin_maps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "maps/networks.h"
#include "plugins/plugin.h"
#include "plugins/prorate.h"
#include "plugins/stitch.h"

#if defined(__has_include)
#if __has_include("maps/ports.h")
#include "maps/ports.h"
#define HAVE_PORTS_MAP 1
#endif
#endif

struct plugin_maps {
	struct net_res res;
	bool resolve;			/* res has work to do */
	struct net_map *nets;		/* NULL: no networks_file, or it could not be read */
#ifdef HAVE_PORTS_MAP
	struct port_map *ports;
#endif
};

/* The daemon a plugin runs in, for the *acctd_net / _as values it accepts. */
static enum cfg_daemon plugin_daemon(const struct plugin *p)
{
	return p->core->daemon;
}

void plugin_maps_inputs(const struct plugin *p, struct prim_set *extra)
{
	struct net_res r;

	if (stitch_wanted(p))
		stitch_inputs(extra);	/* timestamp_min/max come from the record's times */
	if (prorate_wanted(p))
		prorate_inputs(extra);	/* the flow's start and end */
	if (!net_res_init(&r, p->cfg, p->core, plugin_daemon(p)))
		return;
	if (r.src)
		prim_add(extra, P_SRC_HOST);
	if (r.dst)
		prim_add(extra, P_DST_HOST);
	/* longest / record: the record's own masks are an input too */
	if (r.src && (r.net == NETSRC_RECORD || r.net == NETSRC_LONGEST))
		prim_add(extra, P_SRC_MASK);
	if (r.dst && (r.net == NETSRC_RECORD || r.net == NETSRC_LONGEST))
		prim_add(extra, P_DST_MASK);
}

/*
 * The networks_file, or NULL after logging.  pmacct 1.7.7 only warns
 * "[file] file not found." and then resolves every address to 0.0.0.0; a
 * file the operator named and we cannot read stops start-up instead
 * (`fatal`), while a reload that fails keeps the map already loaded.
 */
static struct net_map *load_nets(const struct plugin *p, bool fatal)
{
	char err[512];
	struct net_map *m = netmap_load(p->cfg->networks_file, p->who, err, sizeof(err));
	int e = errno;	/* netmap_load() fails only when the file cannot be opened */

	if (!m && fatal)
		log_err(p->who, "[%s] key 'networks_file': cannot read '%s': %s. Exiting.",
		    cfg_where(&p->cfg->origin, "networks_file"), p->cfg->networks_file, strerror(e));
	else if (!m)
		log_warnx(p->who, "%s", err);
	else
		log_debug(p->who, "[%s] %zu networks loaded (%zu bytes)", p->cfg->networks_file,
		    netmap_count(m), netmap_memory(m));
	return m;
}

#ifdef HAVE_PORTS_MAP
/* The ports_file; at start-up (`startup`) a failure names the key's file and line. */
static struct port_map *load_ports(const struct plugin *p, bool *failed, bool startup)
{
	char err[512];
	struct port_map *m = portmap_load(p->cfg->ports_file, err, sizeof(err));

	*failed = m == NULL;
	if (!m && startup)
		log_err(p->who, "[%s] key 'ports_file': %s. Exiting.",
		    cfg_where(&p->cfg->origin, "ports_file"), err);
	else if (!m)
		log_err(p->who, "%s", err);
	return m;
}
#endif

int plugin_maps_init(struct plugin *p)
{
	struct plugin_maps *m = xcalloc(1, sizeof(*m));

	p->maps = m;
	m->resolve = net_res_init(&m->res, p->cfg, p->core, plugin_daemon(p));
	if (p->cfg->networks_file && !(m->nets = load_nets(p, true)))
		return -1;
#ifdef HAVE_PORTS_MAP
	if (p->cfg->ports_file) {
		bool failed;
		m->ports = load_ports(p, &failed, true);
		if (failed)
			return -1;
	}
#endif
	return 0;
}

void plugin_maps_apply(struct plugin *p, struct flow_rec *rec)
{
	struct plugin_maps *m = p->maps;

	if (m->resolve)
		net_res_apply(&m->res, m->nets, &rec->k);
#ifdef HAVE_PORTS_MAP
	/* pmacct zeroes the ports ports_file does not list */
	if (m->ports) {
		if (!portmap_has(m->ports, rec->k.src_port))
			rec->k.src_port = 0;
		if (!portmap_has(m->ports, rec->k.dst_port))
			rec->k.dst_port = 0;
	}
#endif
}

void plugin_maps_reload(struct plugin *p)
{
	struct plugin_maps *m = p->maps;

	if (p->cfg->networks_file) {
		struct net_map *n = load_nets(p, false);
		if (n) {
			netmap_free(m->nets);
			m->nets = n;
		} else if (m->nets) {
			log_warnx(p->who, "[%s] keeping the networks loaded before", p->cfg->networks_file);
		}
	}
#ifdef HAVE_PORTS_MAP
	if (p->cfg->ports_file) {
		bool failed;
		struct port_map *n = load_ports(p, &failed, false);
		if (n) {
			portmap_free(m->ports);
			m->ports = n;
		}
	}
#endif
}

void plugin_maps_fini(struct plugin *p)
{
	struct plugin_maps *m = p->maps;

	if (!m)
		return;
	netmap_free(m->nets);
#ifdef HAVE_PORTS_MAP
	portmap_free(m->ports);
#endif
	free(m);
	p->maps = NULL;
}
