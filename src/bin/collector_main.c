/* SPDX-License-Identifier: BSD-3-Clause */
/* collector_main.c: the main() of nfacctd and sfacctd: flags, config, plugins, signals, the protocol. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bin/daemon.h"
#include "bin/version.h"
#include "config/config.h"
#include "lib/log.h"
#include "model/gauge.h"
#include "maps/networks.h"
#include "model/prim.h"
#include "pipeline/rpki.h"
#include "pipeline/collector.h"
#include "pipeline/nf_collector.h"
#include "pipeline/pipeline.h"
#include "pipeline/plugin_types.h"
#include "pipeline/sf_collector.h"
#include "plugins/plugin.h"

#define WHO "default/core"

/*
 * meson builds this file once per collector daemon, with COLLECTOR_DAEMON
 * set to its enum cfg_daemon (CFG_NFACCTD, CFG_SFACCTD).
 */
#ifndef COLLECTOR_DAEMON
#error "COLLECTOR_DAEMON names the daemon built: -DCOLLECTOR_DAEMON=CFG_NFACCTD or CFG_SFACCTD"
#endif

/* A collector daemon: its -V banner and its protocol. */
struct collector_daemon {
	const char *banner;
	struct collector_proto proto;
};

/* The collector daemons by enum cfg_daemon. */
static const struct collector_daemon collector_daemons[] = {
	[CFG_NFACCTD] = { "NetFlow Accounting Daemon, nfacctd " PMACCT_NG_VERSION, {
		.daemon = "nfacctd", .source = SRC_NF, .default_port = 2100,
		.ready_fmt = "waiting for NetFlow/IPFIX data on %s:%u", .check = nf_collector_check,
		.state_new = nf_collector_new, .state_new_worker = nf_collector_new_worker,
		.datagram = nf_collector_datagram, .log_stats = nf_collector_log_stats,
		.tick = nf_collector_tick, .reload = nf_collector_reload,
		.health = nf_collector_health, .state_free = nf_collector_free,
		.bounds = nf_collector_bounds } },
	[CFG_SFACCTD] = { "sFlow Accounting Daemon, sfacctd " PMACCT_NG_VERSION, {
		.daemon = "sfacctd", .source = SRC_SF, .default_port = 6343,
		.ready_fmt = "waiting for sFlow data on %s:%u", .state_new = sf_collector_new,
		.datagram = sf_collector_datagram, .log_stats = sf_collector_log_stats,
		.check = sf_collector_check, .reload = sf_collector_reload,
		.tick = sf_collector_tick, .reopen = sf_collector_reopen,
		.health = sf_collector_health, .state_free = sf_collector_free,
		.bounds = sf_collector_bounds } },
};

/*
 * nfacctd's and sfacctd's own flags (COMPAT 3.3): -L is the bind address, -l the port; the others
 * are the ones every daemon takes (daemon.c).
 */
static const struct flag_key collector_flags[] = {
	{ 'L', "nfacctd_ip", NULL }, { 'l', "nfacctd_port", NULL },
	{ 0, NULL, NULL },
};

/* SIGUSR1, SIGUSR2, SIGHUP: every receiver's. */
static void col_stats(void *col, struct pipeline *pl)
{
	(void)pl;
	collector_log_stats(col);
}

static void col_reload(void *col)
{
	collector_reload(col);
}

static void col_reopen(void *col)
{
	collector_reopen(col);
}

/* Primitives this daemon fills, and their sources (pmacct's start-up checks). */
static int check_primitives(const struct core_cfg *cfg, const struct collector_proto *proto)
{
	uint8_t source = proto->source;

	if (collector_check(cfg, proto) < 0)
		return -1;
	net_sources_warn(cfg, cfg->daemon, WHO);
	for (int i = 0; i < cfg->nplugins; i++) {
		const struct plugin_cfg *pc = &cfg->plugins[i];
		char who[CFG_NAME_MAX + 24];
		snprintf(who, sizeof(who), "%s/%s", pc->name, pc->type);
		if (net_res_check(cfg, pc, cfg->daemon, who) < 0)
			return -1;
		for (int j = 0; j < P_COUNT; j++) {
			const struct prim_desc *d = prim_desc_of(cfg->prims, j);
			if (prim_has(&pc->aggregate, (enum prim_id)j) && !(d->sources & source)) {
				log_err(WHO, "plugin '%s': primitive '%s' is not available in this daemon. Exiting.",
				    pc->name, d->name);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Run a collector daemon on a loaded config: create the plugins, open the
 * source (socket or -I file), daemonize and write pidfiles as asked, and
 * feed the plugins until SIGINT/SIGTERM or the end of the capture file
 * (pcap_savefile_wait keeps it up).  SIGUSR1 logs stats, SIGUSR2 reloads
 * maps and the allow file, SIGHUP reopens the log.  Returns the exit code.
 */
static int collector_run(struct core_cfg *cfg, const struct collector_proto *proto)
{
	struct pipeline pl;
	struct plugin *ps;
	struct collector *col;
	struct daemon_bgp bgp;	/* bgp.rib: the BGP tables, for the enrichment */
	int rc = 1;

	if (check_primitives(cfg, proto) < 0)
		return 1;
	if (daemon_bgp_init(cfg, &bgp) < 0)
		return 1;
	/* records carry no frame of their own: filters compile for Ethernet */
	ps = plugins_create(cfg, proto->source, DLT_EN10MB, 65535, plugin_type_find);
	if (!ps) {
		daemon_bgp_fini(&bgp);
		return 1;
	}
	if (pipeline_init(&pl, cfg, ps, cfg->nplugins, DLT_EN10MB, 65535, false) < 0)
		goto out_pipeline;
	pipeline_set_bgp(&pl, bgp.rib);	/* NULL without bgp_daemon */
	pipeline_set_roa(&pl, rpki_db(bgp.rpki));	/* NULL without rpki_* */
	if (cfg->check_only) {	/* -T config: filters and maps loaded, nothing opened */
		rc = daemon_bgp_check(cfg) < 0 ? 1 : 0;
		collector_bounds(cfg, proto);
		gauges_plan(cfg->gauges, stdout);
		pipeline_fini(&pl);
		plugins_stop(ps, cfg->nplugins);
		daemon_bgp_fini(&bgp);
		return rc;
	}
	if (!(col = collector_open(cfg, proto, &pl)))
		goto out_pipeline;
	if (daemon_bgp_open(cfg, &bgp) < 0) {	/* port 179 and TCP_MD5SIG: before privileges go */
		collector_close(col);
		goto out_pipeline;
	}
	daemon_start(cfg, ps);
	if (daemon_bgp_start(&bgp) < 0) {
		collector_close(col);
		goto out_pipeline;
	}

	struct daemon_core ctx = { col, col_stats, col_reload, col_reopen, &pl, &bgp };
	rc = collector_loop(col, daemon_core_poll, &ctx) < 0 ? 1 : 0;
	if (rc == 0)
		daemon_savefile_wait(cfg, daemon_core_poll, &ctx);
	collector_close(col);
	daemon_pidfiles_remove(cfg);
out_pipeline:
	rc = daemon_drain(&bgp, &pl, ps, cfg->nplugins, rc);
	daemon_exit_log(rc);
	return rc;
}

static void usage(const struct daemon_desc *dd)
{
	version_usage_head(stdout, dd->name, "[ -D | -d ] [ -L IP address ] [ -l port ] "
	    "[ -c primitive [ , ... ] ] [ -P plugin [ , ... ] ]");
	printf("  -n  \tPath to a file containing networks and/or ASNs definitions\n"
	    "  -t  \tPath to a file containing ports definitions\n");
	version_usage_plugin_types(stdout, dd->source);
	printf("  -d  \tEnable debug\n"
	    "  -S  \t[ auth | mail | daemon | kern | user | local[0-7] ] \n\tLog to the specified syslog facility\n"
	    "  -F  \tWrite Core Process PID into the specified file\n"
	    "  -R  \tRenormalize sampled data\n"
	    "  -L  \tBind to the specified IP address\n"
	    "  -l  \tListen on the specified UDP port\n"
	    "  -I  \tRead packets from the specified savefile\n"
	    "  -Z  \tReading from a savefile, sleep the given amount of seconds at startup and between replays\n"
	    "  -W  \tReading from a savefile, don't exit but sleep when finished\n"
	    "  -Y  \tReading from a savefile, replay the number of times specified\n"
	    "  -u  \tLeave IP protocols in numerical format\n");
}

static int run_proto(struct core_cfg *cfg, const void *arg)
{
	return collector_run(cfg, arg);
}

/*
 * pmacct's nfacctd/sfacctd flags (-f -c -P -D -d -n -t -L -l -R -F -S -p -b
 * -m -s -r -O -o -A -M -E -u -I -W -Z -Y -T -a -V -h), config loading, then
 * collector_run() with the protocol of COLLECTOR_DAEMON.
 */
int main(int argc, char **argv)
{
	const struct collector_daemon *c = &collector_daemons[COLLECTOR_DAEMON];
	const struct daemon_desc dd = {
		.name = c->proto.daemon, .banner = c->banner, .daemon = COLLECTOR_DAEMON,
		.source = c->proto.source, .flags = collector_flags,
		.optstr = "f:c:P:Ddn:t:L:l:RI:WZ:Y:F:S:p:b:m:s:r:O:o:AME:uT:aVh",
		.usage = usage, .run = run_proto, .arg = &c->proto,
	};
	return daemon_main(argc, argv, &dd);
}
