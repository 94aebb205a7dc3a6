/* SPDX-License-Identifier: BSD-3-Clause */
/* pmacctd.c: the packet capture accounting daemon: parse config, wire source to plugins, run. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bin/daemon.h"
#include "bin/version.h"
#include "config/config.h"
#include "lib/bpf.h"
#include "lib/log.h"
#include "model/gauge.h"
#include "maps/networks.h"
#include "model/prim.h"
#include "pipeline/rpki.h"
#include "pipeline/pipeline.h"
#include "pipeline/pcap_src.h"
#include "pipeline/plugin_types.h"
#include "plugins/plugin.h"

#define WHO "default/core"
#define BANNER "Promiscuous Mode Accounting Daemon, pmacctd " PMACCT_NG_VERSION

/* pmacctd's own flags; the others are the ones every daemon takes (daemon.c). */
static const struct flag_key pmacctd_flags[] = {
	{ 'i', "pcap_interface", NULL }, { 'w', "pcap_interface_wait", "true" },
	{ 'L', "snaplen", NULL }, { 'N', "promisc", "false" }, { 'z', "pmacctd_nonroot", "true" },
	{ 0, NULL, NULL },
};

static void usage(const struct daemon_desc *dd)
{
	version_usage_head(stdout, dd->name, "[ -D | -d ] [ -i interface ] [ -c primitive [ , ... ] ] "
	    "[ -P plugin [ , ... ] ] [ filter ]");
	printf("  -N  \tDisable promiscuous mode\n"
	    "  -z  \tAllow to run with non root privileges (ie. setcap in use)\n"
	    "  -n  \tPath to a file containing networks and/or ASNs definitions\n"
	    "  -t  \tPath to a file containing ports definitions\n");
	version_usage_plugin_types(stdout, dd->source);
	printf("  -d  \tEnable debug\n"
	    "  -i  \tListen on the specified interface\n"
	    "  -I  \tRead packets from the specified savefile\n"
	    "  -S  \t[ auth | mail | daemon | kern | user | local[0-7] ] \n\tLog to the specified syslog facility\n"
	    "  -F  \tWrite Core Process PID into the specified file\n"
	    "  -w  \tWait for the listening interface to become available\n"
	    "  -Z  \tReading from a savefile, sleep the given amount of seconds at startup and between replays\n"
	    "  -W  \tReading from a savefile, don't exit but sleep when finished\n"
	    "  -Y  \tReading from a savefile, replay the number of times specified\n"
	    "  -R  \tRenormalize sampled data\n"
	    "  -L  \tSet snapshot length\n"
	    "  -u  \tLeave IP protocols in numerical format\n");
}

/* The capture source keys: one source, a file that can be read, an interface that exists. */
static int check_source(const struct core_cfg *cfg)
{
	if (cfg->pcap_interface && cfg->pcap_savefile) {
		log_err(WHO, "[%s] interface (-i) and pcap_savefile (-I) directives are mutually "
		    "exclusive. Exiting.", cfg_where(&cfg->origin, "pcap_savefile"));
		return -1;
	}
	if (cfg->pcap_savefile) {
		int fd = open(cfg->pcap_savefile, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			log_err(WHO, "[%s] key 'pcap_savefile': cannot read '%s': %s. Exiting.",
			    cfg_where(&cfg->origin, "pcap_savefile"), cfg->pcap_savefile, strerror(errno));
			return -1;
		}
		close(fd);
	}
	if (pcap_src_check(cfg) < 0)
		return -1;
	if (cfg->pcap_savefile || cfg->pcap_interfaces_map) {
		return 0;
	} else if (cfg->pcap_interface && !cfg->pcap_interface_wait &&
	    !if_nametoindex(cfg->pcap_interface)) {
		log_err(WHO, "[%s] key 'pcap_interface': no interface '%s' (set pcap_interface_wait "
		    "to wait for it). Exiting.", cfg_where(&cfg->origin, "pcap_interface"),
		    cfg->pcap_interface);
		return -1;
	}
	return 0;
}

/*
 * The BGP daemon in pmacctd (as 1.7.7): it needs bgp_agent_map (packets carry
 * no exporter to match a peer by), and it takes at most two peers (primary
 * and backup of the router the probe runs on).
 */
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

/* What start-up and -T config both check before anything is opened. */
static int check_primitives(struct core_cfg *cfg)
{
	if (check_source(cfg) < 0 || check_bgp(cfg) < 0)
		return -1;
	net_sources_warn(cfg, CFG_PMACCTD, WHO);
	for (int i = 0; i < cfg->nplugins; i++) {
		const struct plugin_cfg *pc = &cfg->plugins[i];
		char who[CFG_NAME_MAX + 24];
		snprintf(who, sizeof(who), "%s/%s", pc->name, pc->type);
		for (int j = 0; j < P_COUNT; j++) {
			const struct prim_desc *d = prim_desc_of(cfg->prims, j);
			if (prim_has(&pc->aggregate, (enum prim_id)j) && !(d->sources & SRC_PM)) {
				log_err(who, "primitive '%s' is not supported by pmacctd", d->name);
				return -1;
			}
		}
		if (net_res_check(cfg, pc, CFG_PMACCTD, who) < 0)
			return -1;
	}
	return 0;
}

/*
 * -T config: compile pcap_filter and every plugin's filters, load every map, as the daemon
 * would at start-up, without opening the capture or starting anything.
 */
static int check_setup(struct core_cfg *cfg)
{
	int snaplen = cfg->snaplen ? (int)cfg->snaplen : 65535;
	struct pipeline pl;
	struct plugin *ps;
	int rc = 0;

	if (cfg->pcap_filter) {
		pcap_t *dead = pcap_open_dead(DLT_EN10MB, snaplen);
		struct bpf_program prog;
		if (bpf_compile(dead, &prog, cfg->pcap_filter, WHO, cfg_where(&cfg->origin, "pcap_filter"),
		    "pcap_filter") < 0) {
			log_err(WHO, "[%s] key 'pcap_filter': invalid filter '%s': %s",
			    cfg_where(&cfg->origin, "pcap_filter"), cfg->pcap_filter, pcap_geterr(dead));
			rc = 1;
		} else {
			pcap_freecode(&prog);
		}
		pcap_close(dead);
		if (rc)
			return rc;
	}
	if (!(ps = plugins_create(cfg, SRC_PM, DLT_EN10MB, snaplen, plugin_type_find)))
		return 1;
	if (pipeline_init(&pl, cfg, ps, cfg->nplugins, DLT_EN10MB, snaplen, true) < 0)
		rc = 1;
	else
		gauges_plan(cfg->gauges, stdout);
	pipeline_fini(&pl);
	plugins_stop(ps, cfg->nplugins);
	return rc;
}

/* SIGUSR1: the capture's counters. */
static void src_stats(void *src, struct pipeline *pl)
{
	pcap_src_log_stats(src, pl);
}

/* SIGUSR2: pcap_interfaces_map again (interfaces opened, closed, renumbered). */
static void src_reload(void *src)
{
	pcap_src_reload(src);
}

static int run(struct core_cfg *cfg, const void *arg)
{
	(void)arg;
	struct pcap_src src;
	struct pipeline pl;
	struct plugin *ps;
	struct daemon_bgp bgp;	/* bgp.rib: the BGP tables, for the enrichment */

	if (check_primitives(cfg) < 0)
		return 1;
	if (cfg->check_only)
		return daemon_bgp_check(cfg) < 0 ? 1 : check_setup(cfg);
	if (daemon_bgp_init(cfg, &bgp) < 0)
		return 1;
	if (pcap_src_open(&src, cfg) < 0) {
		daemon_bgp_fini(&bgp);
		return 1;
	}
	ps = plugins_create(cfg, SRC_PM, src.dlt, src.snaplen, plugin_type_find);
	if (!ps) {
		pcap_src_close(&src);
		daemon_bgp_fini(&bgp);
		return 1;
	}
	/* the BGP listener opens before privileges go (port 179, TCP_MD5SIG) */
	if (pipeline_init(&pl, cfg, ps, cfg->nplugins, src.dlt, src.snaplen, true) < 0 ||
	    daemon_bgp_open(cfg, &bgp) < 0) {
		daemon_bgp_fini(&bgp);
		pipeline_fini(&pl);
		plugins_stop(ps, cfg->nplugins);
		pcap_src_close(&src);
		return 1;
	}
	pipeline_set_bgp(&pl, bgp.rib);	/* NULL without bgp_daemon */
	pipeline_set_roa(&pl, rpki_db(bgp.rpki));	/* NULL without rpki_* */
	daemon_start(cfg, ps);
	if (daemon_bgp_start(&bgp) < 0)
		daemon_stop = 1;

	struct daemon_core ctx = { .src = &src, .src_stats = src_stats, .src_reload = src_reload,
		.pl = &pl, .bgp = &bgp };
	int rc = pcap_src_run(&src, &pl, daemon_core_poll, &ctx) < 0 ? 1 : 0;
	if (rc == 0)
		daemon_savefile_wait(cfg, daemon_core_poll, &ctx);
	rc = daemon_drain(&bgp, &pl, ps, cfg->nplugins, rc);
	pcap_src_close(&src);
	daemon_pidfiles_remove(cfg);
	daemon_exit_log(rc);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct daemon_desc pmacctd = {
		.name = "pmacctd", .banner = BANNER, .daemon = CFG_PMACCTD, .source = SRC_PM,
		.flags = pmacctd_flags,
		.optstr = "f:c:P:Ddn:t:i:I:wWZ:Y:L:NzRF:S:p:b:m:s:r:O:o:AME:uT:aVh",
		.extra_key = "pcap_filter", .usage = usage, .run = run,
	};
	return daemon_main(argc, argv, &pmacctd);
}
