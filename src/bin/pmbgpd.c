/* SPDX-License-Identifier: BSD-3-Clause */
/* pmbgpd.c: the standalone BGP collector: the BGP thread of the other daemons, without flows. */
#include <stdio.h>
#include <time.h>

#include "bin/daemon.h"
#include "bin/version.h"
#include "config/config.h"
#include "lib/log.h"
#include "model/gauge.h"

#define WHO "default/core"
#define BANNER "pmacct BGP Collector Daemon, pmbgpd " PMACCT_NG_VERSION

/*
 * pmbgpd's flags (pmacct master's): -L bind address, -l port, -o msglog
 * file, -O table dump file, -i dump interval; -f -D -d -S -F as every daemon.
 */
static const struct flag_key pmbgpd_flags[] = {
	{ 'L', "bgp_daemon_ip", NULL }, { 'l', "bgp_daemon_port", NULL },
	{ 'o', "bgp_daemon_msglog_file", NULL }, { 'O', "bgp_table_dump_file", NULL },
	{ 'i', "bgp_table_dump_refresh_time", NULL },
	{ 0, NULL, NULL },
};

struct pmbgpd_ctx {
	struct daemon_bgp *bgp;
	const struct core_cfg *cfg;
};

static void run_stats(void *arg)
{
	struct pmbgpd_ctx *c = arg;
	daemon_bgp_log_stats(c->bgp);
	gauges_log(c->cfg->gauges, WHO);	/* the RIB's "table" line, as the collectors' */
}

static void run_reload(void *arg)
{
	struct pmbgpd_ctx *c = arg;
	daemon_bgp_reload(c->bgp);
}

static void run_reopen(void *arg)
{
	struct pmbgpd_ctx *c = arg;
	daemon_bgp_reopen(c->bgp);
}

/*
 * The BGP daemon alone: RIB, listener, daemonize/pidfile/privileges, the
 * thread; then signals until SIGINT/SIGTERM.  No plugins run (a plugins key
 * is read and ignored).  Returns the exit code.
 */
static int run(struct core_cfg *cfg, const void *arg)
{
	struct daemon_bgp bgp;
	int nplugins = cfg->nplugins;
	int rc = 1;

	(void)arg;
	cfg->bgp.daemon = true;	/* what pmbgpd is */
	cfg->nplugins = 0;	/* no plugin runs: none gets a pidfile or a thread */
	if (cfg->check_only) {
		cfg->nplugins = nplugins;
		rc = daemon_bgp_check(cfg) < 0 ? 1 : 0;
		gauges_plan(cfg->gauges, stdout);
		return rc;
	}
	if (daemon_bgp_init(cfg, &bgp) < 0 || daemon_bgp_open(cfg, &bgp) < 0)
		goto out;
	daemon_start(cfg, NULL);
	if (daemon_bgp_start(&bgp) < 0)
		goto out;
	struct pmbgpd_ctx ctx = { &bgp, cfg };
	struct daemon_hooks h = { run_stats, run_reload, &ctx, true, run_reopen };
	while (!daemon_poll(&h)) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	rc = 0;
	daemon_pidfiles_remove(cfg);
out:
	daemon_bgp_fini(&bgp);
	cfg->nplugins = nplugins;
	if (rc == 0)
		log_info(WHO, "OK, Exiting ...");
	return rc;
}

static void usage(const struct daemon_desc *dd)
{
	printf("Usage: %s [ -D | -d ] [ -L IP address ] [ -l port ]\n"
	    "       %s [ -f config_file ]\n"
	    "       %s [ -h ]\n\n", dd->name, dd->name, dd->name);
	printf("General options:\n"
	    "  -h  \tShow this page\n"
	    "  -V  \tShow version and compile-time options and exit\n"
	    "  -L  \tBind to the specified IP address\n"
	    "  -l  \tListen on the specified TCP port\n"
	    "  -f  \tLoad configuration from the specified file\n"
	    "  -D  \tDaemonize\n"
	    "  -d  \tEnable debug\n"
	    "  -S  \t[ auth | mail | daemon | kern | user | local[0-7] ] \n\tLog to the specified syslog facility\n"
	    "  -F  \tWrite Core Process PID into the specified file\n"
	    "  -o  \tOutput file to log real-time BGP messages\n"
	    "  -O  \tOutput file to dump generated RIBs at regular time intervals\n"
	    "  -i  \tInterval, in secs, to write to the dump output file (supplied by -O)\n"
	    "  -T  \t[ config ]\n\tPerform a dry run\n");
}

int main(int argc, char **argv)
{
	static const struct daemon_desc pmbgpd = {
		.name = "pmbgpd", .banner = BANNER, .daemon = CFG_NFACCTD, .source = 0,
		.flags = pmbgpd_flags, .optstr = "f:DdL:l:S:F:o:O:i:T:Vh", .usage = usage, .run = run,
	};
	return daemon_main(argc, argv, &pmbgpd);
}
