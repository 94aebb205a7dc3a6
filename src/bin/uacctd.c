/* SPDX-License-Identifier: BSD-3-Clause */
/* uacctd.c: the NFLOG accounting daemon: packets netfilter logs to a group, through pmacctd's path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bin/daemon.h"
#include "bin/version.h"
#include "config/config.h"
#include "decode/nflog.h"
#include "lib/log.h"
#include "model/gauge.h"
#include "maps/networks.h"
#include "model/prim.h"
#include "pipeline/nflog_src.h"
#include "pipeline/pipeline.h"
#include "pipeline/plugin_types.h"
#include "plugins/plugin.h"

#define WHO "default/core"
#define BANNER "Linux NetFilter NFLOG Accounting Daemon, uacctd " PMACCT_NG_VERSION

/* uacctd's own flags (1.7.7's getopt string); the others are the ones every daemon takes. */
static const struct flag_key uacctd_flags[] = {
	{ 'g', "uacctd_group", NULL }, { 'L', "snaplen", NULL }, { 'N', "promisc", "false" },
	{ 0, NULL, NULL },
};

static void usage(const struct daemon_desc *dd)
{
	version_usage_head(stdout, dd->name, "[ -D | -d ] [ -g NFLOG group ] [ -c primitive [ , ... ] ] "
	    "[ -P plugin [ , ... ] ]");
	printf("  -n  \tPath to a file containing networks and/or ASNs definitions\n"
	    "  -t  \tPath to a file containing ports definitions\n");
	version_usage_plugin_types(stdout, dd->source);
	printf("  -d  \tEnable debug\n"
	    "  -S  \t[ auth | mail | daemon | kern | user | local[0-7] ] \n\tLog to the specified syslog facility\n"
	    "  -F  \tWrite Core Process PID into the specified file\n"
	    "  -R  \tRenormalize sampled data\n"
	    "  -g  \tNetlink NFLOG group\n"
	    "  -L  \tSnapshot length\n"
	    "  -u  \tLeave IP protocols in numerical format\n");
}

/* Keys of pmacctd's capture that NFLOG has no use for: warned about, ignored (as 1.7.7 ignores them). */
static void warn_pcap_keys(const struct core_cfg *cfg)
{
	static const char *const keys[] = { "pcap_interface", "pcap_savefile", "pcap_filter" };
	const char *vals[] = { cfg->pcap_interface, cfg->pcap_savefile, cfg->pcap_filter };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (vals[i])
			log_warnx(WHO, "[%s] key '%s' does not apply to uacctd (the nftables/iptables "
			    "rule picks the packets): ignored", cfg_where(&cfg->origin, keys[i]), keys[i]);
}

/* The BGP daemon as in pmacctd: bgp_agent_map, at most two peers. */
static int check_bgp(struct core_cfg *cfg)
{
	if (!cfg->bgp.daemon)
		return 0;
	if (!cfg->bgp.agent_map) {
		log_err(WHO, "'bgp_daemon' configured but no 'bgp_agent_map' has been specified. Exiting.");
		return -1;
	}
	cfg->bgp.max_peers = 2;
	return 0;
}

/*
 * What uacctd fills: pmacctd's primitives, and in_iface / out_iface from the
 * NFLOG attributes (1.7.7 fills them without listing them in -a).
 */
static bool uacctd_fills(const struct core_cfg *cfg, int id)
{
	return (prim_desc_of(cfg->prims, id)->sources & SRC_PM) || id == P_IN_IFACE ||
	    id == P_OUT_IFACE;
}

/* What start-up and -T config both check before anything is opened. */
static int check_primitives(struct core_cfg *cfg)
{
	if (check_bgp(cfg) < 0)
		return -1;
	warn_pcap_keys(cfg);
	net_sources_warn(cfg, CFG_PMACCTD, WHO);
	for (int i = 0; i < cfg->nplugins; i++) {
		const struct plugin_cfg *pc = &cfg->plugins[i];
		char who[CFG_NAME_MAX + 24];
		snprintf(who, sizeof(who), "%s/%s", pc->name, pc->type);
		for (int j = 0; j < P_COUNT; j++) {
			if (prim_has(&pc->aggregate, (enum prim_id)j) && !uacctd_fills(cfg, j)) {
				log_err(who, "primitive '%s' is not supported by uacctd",
				    prim_desc_of(cfg->prims, j)->name);
				return -1;
			}
		}
		if (net_res_check(cfg, pc, CFG_PMACCTD, who) < 0)
			return -1;
	}
	return 0;
}

/* Frames are a link header of up to NFLOG_FRAME_HW_MAX bytes and snaplen bytes of packet. */
static int frame_snaplen(const struct core_cfg *cfg)
{
	return (int)(cfg->snaplen ? cfg->snaplen : 128) + NFLOG_FRAME_HW_MAX;
}

/* -T config: every plugin's filters and every map, as at start-up, without joining the group. */
static int check_setup(struct core_cfg *cfg)
{
	struct pipeline pl;
	struct plugin *ps;
	int rc = 0;

	if (!(ps = plugins_create(cfg, SRC_PM, DLT_EN10MB, frame_snaplen(cfg), plugin_type_find)))
		return 1;
	if (pipeline_init(&pl, cfg, ps, cfg->nplugins, DLT_EN10MB, frame_snaplen(cfg), true) < 0)
		rc = 1;
	else
		gauges_plan(cfg->gauges, stdout);
	pipeline_fini(&pl);
	plugins_stop(ps, cfg->nplugins);
	return rc;
}

/* SIGUSR1: the NFLOG counters. */
static void src_stats(void *src, struct pipeline *pl)
{
	nflog_src_log_stats(src, pl);
}

static int run(struct core_cfg *cfg, const void *arg)
{
	(void)arg;
	struct nflog_src src;
	struct pipeline pl;
	struct plugin *ps;
	struct daemon_bgp bgp;

	if (check_primitives(cfg) < 0)
		return 1;
	if (cfg->check_only)
		return daemon_bgp_check(cfg) < 0 ? 1 : check_setup(cfg);
	if (daemon_bgp_init(cfg, &bgp) < 0)
		return 1;
	if (nflog_src_open(&src, cfg) < 0) {
		daemon_bgp_fini(&bgp);
		return 1;
	}
	ps = plugins_create(cfg, SRC_PM, DLT_EN10MB, frame_snaplen(cfg), plugin_type_find);
	if (!ps) {
		nflog_src_close(&src);
		daemon_bgp_fini(&bgp);
		return 1;
	}
	if (pipeline_init(&pl, cfg, ps, cfg->nplugins, DLT_EN10MB, frame_snaplen(cfg), true) < 0 ||
	    daemon_bgp_open(cfg, &bgp) < 0) {
		daemon_bgp_fini(&bgp);
		pipeline_fini(&pl);
		plugins_stop(ps, cfg->nplugins);
		nflog_src_close(&src);
		return 1;
	}
	pipeline_set_bgp(&pl, bgp.rib);
	daemon_start(cfg, ps);
	if (daemon_bgp_start(&bgp) < 0)
		daemon_stop = 1;

	struct daemon_core ctx = { .src = &src, .src_stats = src_stats, .pl = &pl, .bgp = &bgp };
	int rc = nflog_src_run(&src, &pl, daemon_core_poll, &ctx) < 0 ? 1 : 0;
	rc = daemon_drain(&bgp, &pl, ps, cfg->nplugins, rc);
	nflog_src_close(&src);
	daemon_pidfiles_remove(cfg);
	daemon_exit_log(rc);
	return rc;
}

int main(int argc, char **argv)
{
	/* a packet capture daemon like pmacctd (same keys, primitives, plugins) with its own source */
	static const struct daemon_desc uacctd = {
		.name = "uacctd", .banner = BANNER, .daemon = CFG_PMACCTD, .source = SRC_PM,
		.flags = uacctd_flags,
		.optstr = "f:c:P:Ddn:t:g:L:NRF:S:p:b:m:s:r:O:o:AME:uT:aVh",
		.extra_key = NULL, .usage = usage, .run = run,
	};
	return daemon_main(argc, argv, &uacctd);
}
