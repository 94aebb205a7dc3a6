/* SPDX-License-Identifier: BSD-3-Clause */
/* collector_main.c: the daemon side shared by nfacctd and sfacctd: flags, config, plugins, signals. */
#include "collector_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bin/daemon.h"
#include "bin/version.h"
#include "lib/log.h"
#include "maps/networks.h"
#include "model/prim.h"
#include "pipeline/pipeline.h"
#include "pipeline/plugin_types.h"
#include "plugins/plugin.h"

#define WHO "default/core"

/* nfacctd's and sfacctd's flags (COMPAT 3.3): -L is the bind address, -l the port. */
static const struct flag_key collector_flags[] = {
	{ 'c', "aggregate", NULL }, { 'P', "plugins", NULL }, { 'D', "daemonize", "true" },
	{ 'd', "debug", "true" }, { 'n', "networks_file", NULL }, { 't', "ports_file", NULL },
	{ 'L', "nfacctd_ip", NULL }, { 'l', "nfacctd_port", NULL },
	{ 'R', "pmacctd_renormalize", "true" }, { 'I', "pcap_savefile", NULL },
	{ 'W', "pcap_savefile_wait", "true" }, { 'Z', "pcap_savefile_delay", NULL },
	{ 'Y', "pcap_savefile_replay", NULL }, { 'F', "pidfile", NULL }, { 'S', "syslog", NULL },
	{ 'p', "imt_path", NULL }, { 'b', "imt_buckets", NULL }, { 'm', "imt_mem_pools_number", NULL },
	{ 's', "imt_mem_pools_size", NULL }, { 'r', "sql_refresh_time", NULL },
	{ 'O', "print_output", NULL }, { 'o', "print_output_file", NULL },
	{ 'A', "print_output_file_append", "true" }, { 'M', "print_markers", "true" },
	{ 'E', "print_output_separator", NULL }, { 'u', "print_num_protos", "true" },
	{ 0, NULL, NULL },
};

struct run_ctx {
	struct collector *col;
	struct pipeline *pl;
};

static void run_stats(void *arg)
{
	struct run_ctx *c = arg;
	collector_log_stats(c->col);
}

static void run_reopen(void *arg)
{
	struct run_ctx *c = arg;
	collector_reopen(c->col);
}

static void run_reload(void *arg)
{
	struct run_ctx *c = arg;
	collector_reload(c->col);
	pipeline_reload_maps(c->pl);
}

/* Act on the signal flags between batches; true when the daemon must stop. */
static bool run_poll(void *arg)
{
	struct run_ctx *c = arg;
	struct daemon_hooks h = { run_stats, run_reload, c, c->pl->cfg->maps_refresh, run_reopen };
	return daemon_poll(&h);
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

int collector_run(struct core_cfg *cfg, const struct collector_proto *proto)
{
	struct pipeline pl;
	struct plugin *ps;
	struct collector *col;
	int rc = 1;

	if (check_primitives(cfg, proto) < 0)
		return 1;
	/* records carry no frame of their own: filters compile for Ethernet */
	ps = plugins_create(cfg, proto->source, DLT_EN10MB, 65535, plugin_type_find);
	if (!ps)
		return 1;
	if (pipeline_init(&pl, cfg, ps, cfg->nplugins, DLT_EN10MB, 65535, false) < 0)
		goto out_pipeline;
	if (cfg->check_only) {	/* -T config: filters and maps loaded, nothing opened */
		rc = 0;
		pipeline_fini(&pl);
		plugins_stop(ps, cfg->nplugins);
		return rc;
	}
	if (!(col = collector_open(cfg, proto, &pl)))
		goto out_pipeline;
	daemon_start(cfg, ps);

	struct run_ctx ctx = { col, &pl };
	rc = collector_loop(col, run_poll, &ctx) < 0 ? 1 : 0;
	if (rc == 0)
		daemon_savefile_wait(cfg, run_poll, &ctx);
	collector_close(col);
	daemon_pidfiles_remove(cfg);
out_pipeline:
	pipeline_fini(&pl);	/* the feeds close the rings: the plugins drain them and end */
	if (plugins_stop(ps, cfg->nplugins) && rc == 0)
		rc = PLUGIN_EXIT_UNDELIVERED;	/* each plugin logged what and where */
	if (rc == 0)
		log_info(WHO, "OK, Exiting ...");
	else if (rc == PLUGIN_EXIT_UNDELIVERED)
		log_err(WHO, "Exiting with status %d: some data was not delivered", rc);
	return rc;
}

static void usage(const struct daemon_desc *dd)
{
	printf("Usage: %s [ -D | -d ] [ -L IP address ] [ -l port ] [ -c primitive [ , ... ] ] "
	    "[ -P plugin [ , ... ] ]\n       %s [ -f config_file ]\n       %s [ -h ]\n\n",
	    dd->name, dd->name, dd->name);
	printf("General options:\n"
	    "  -h  \tShow this page\n"
	    "  -V  \tShow version and compile-time options and exit\n"
	    "  -f  \tLoad configuration from the specified file\n"
	    "  -T  \tconfig: check the configuration, its filters and maps, print it and exit\n"
	    "  -a  \tPrint list of supported aggregation primitives\n"
	    "  -c  \tAggregation method, see full list of primitives with -a (DEFAULT: src_host)\n"
	    "  -D  \tDaemonize\n"
	    "  -n  \tPath to a file containing networks and/or ASNs definitions\n"
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

int collector_main(int argc, char **argv, enum cfg_daemon d, const struct collector_proto *proto,
    const char *banner)
{
	const struct daemon_desc dd = {
		.name = proto->daemon, .banner = banner, .daemon = d, .source = proto->source,
		.flags = collector_flags,
		.optstr = "f:c:P:Ddn:t:L:l:RI:WZ:Y:F:S:p:b:m:s:r:O:o:AME:uT:aVh",
		.usage = usage, .run = run_proto, .arg = proto,
	};
	return daemon_main(argc, argv, &dd);
}
