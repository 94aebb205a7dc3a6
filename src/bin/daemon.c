/* SPDX-License-Identifier: BSD-3-Clause */
/* daemon.c: process plumbing shared by the daemons. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "version.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/privs.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "model/gauge.h"
#include "model/prim.h"
#include "maps/bgp_rib.h"
#include "pipeline/bgp_daemon.h"
#include "pipeline/bgp_log.h"
#include "pipeline/pipeline.h"
#include "pipeline/rpki.h"
#include "plugins/plugin.h"

volatile sig_atomic_t daemon_stop, daemon_stats, daemon_reopen, daemon_reload;

static void on_signal(int sig)
{
	switch (sig) {
	case SIGINT:
	case SIGTERM: daemon_stop = 1; break;
	case SIGUSR1: daemon_stats = 1; break;
	case SIGHUP: daemon_reopen = 1; break;
	case SIGUSR2: daemon_reload = 1; break;
	default: break;
	}
}

void daemon_signals(void)
{
	struct sigaction sa;
	static const int sigs[] = { SIGINT, SIGTERM, SIGUSR1, SIGHUP, SIGUSR2 };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NELEM(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void daemon_log_open(const struct core_cfg *cfg)
{
	if (log_open(cfg->logfile, cfg->syslog, cfg->debug) < 0) {
		if (cfg->logfile)
			fatal("default/core", "[%s] key 'logfile': cannot open '%s': %s. Exiting.",
			    cfg_where(&cfg->origin, "logfile"), cfg->logfile, strerror(errno));
		fatal("default/core", "[%s] key 'syslog': invalid syslog facility '%s'. Exiting.",
		    cfg_where(&cfg->origin, "syslog"), cfg->syslog);
	}
}

void daemon_detach(void)
{
	pid_t pid;
	int fd;

	/* Under a systemd service (Type=simple units in dist/systemd/) the manager supervises
	 * the process: detaching would look like an exit, so `daemonize: true` is ignored. */
	if (getenv("INVOCATION_ID") && getppid() == 1) {
		log_info("default/core", "started by systemd: daemonize ignored");
		return;
	}
	pid = fork();
	if (pid < 0)
		fatal("default/core", "fork: cannot daemonize");
	if (pid > 0)
		_exit(0);
	setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

static void write_pid(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		log_warnx("default/core", "cannot write pidfile '%s'", path);
		return;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
}

static void plugin_pidfile(const struct core_cfg *cfg, const struct plugin_cfg *pc, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s-%s-%s", cfg->pidfile, pc->type, pc->name);
}

void daemon_pidfiles_write(const struct core_cfg *cfg)
{
	char path[4096];
	if (!cfg->pidfile)
		return;
	write_pid(cfg->pidfile);
	for (int i = 0; i < cfg->nplugins; i++) {
		plugin_pidfile(cfg, &cfg->plugins[i], path, sizeof(path));
		write_pid(path);
	}
}

void daemon_pidfiles_remove(const struct core_cfg *cfg)
{
	char path[4096];
	if (!cfg->pidfile)
		return;
	unlink(cfg->pidfile);
	for (int i = 0; i < cfg->nplugins; i++) {
		plugin_pidfile(cfg, &cfg->plugins[i], path, sizeof(path));
		unlink(path);
	}
}

/* ---- privileges and ownership of created files ---- */

/* Who the daemon runs as once set up, and who owns the files it created before. */
struct daemon_privs {
	struct privs_id run;
	uid_t fuid;		/* (uid_t)-1: leave alone */
	gid_t fgid;
	bool explicit_run;	/* `user` / `group` given: failing to switch is an error */
};

static int privs_err(const struct core_cfg *cfg, const char *key, const char *err)
{
	log_err("default/core", "[%s] Invalid value for key '%s': %s. Exiting.",
	    cfg_where(&cfg->origin, key), key, err);
	return -1;
}

/*
 * Work out the plan from `user`, `group`, `files_uid` and `files_gid`:
 * the daemon runs as `user` (else files_uid), in `group` (else the user's
 * own group, else files_gid), and files created before the switch are
 * given to files_uid / files_gid (else to the user and group it runs as).
 * Returns 0, or -1 after logging which key is wrong.
 */
static int privs_plan(const struct core_cfg *cfg, struct daemon_privs *pp)
{
	struct privs_id fid = { 0 };
	char err[256];

	memset(pp, 0, sizeof(*pp));
	if (cfg->files_uid && privs_user(cfg->files_uid, &fid, err, sizeof(err)) < 0)
		return privs_err(cfg, "files_uid", err);
	if (cfg->files_gid && privs_group(cfg->files_gid, &fid, err, sizeof(err)) < 0)
		return privs_err(cfg, "files_gid", err);
	if (cfg->user) {
		if (privs_user(cfg->user, &pp->run, err, sizeof(err)) < 0)
			return privs_err(cfg, "user", err);
	} else if (fid.has_uid) {
		pp->run.has_uid = true;
		pp->run.uid = fid.uid;
		pp->run.user_has_gid = fid.user_has_gid;
		pp->run.user_gid = fid.user_gid;
	}
	if (cfg->group) {
		if (privs_group(cfg->group, &pp->run, err, sizeof(err)) < 0)
			return privs_err(cfg, "group", err);
	} else if (cfg->user && pp->run.user_has_gid) {
		pp->run.has_gid = true;
		pp->run.gid = pp->run.user_gid;
	} else if (fid.has_gid) {
		pp->run.has_gid = true;
		pp->run.gid = fid.gid;
	} else if (pp->run.has_uid && pp->run.user_has_gid) {
		pp->run.has_gid = true;
		pp->run.gid = pp->run.user_gid;
	} else if (pp->run.has_uid) {
		/* never keep root's groups behind a switched uid */
		return privs_err(cfg, cfg->user ? "user" : "files_uid",
		    "this uid has no passwd entry: set 'group' (or files_gid)");
	}
	pp->explicit_run = cfg->user || cfg->group;
	pp->fuid = fid.has_uid ? fid.uid : pp->run.has_uid ? pp->run.uid : (uid_t)-1;
	pp->fgid = fid.has_gid ? fid.gid : pp->run.has_gid ? pp->run.gid : (gid_t)-1;
	if (pp->run.has_uid && fid.has_uid && fid.uid != pp->run.uid)
		log_warnx("default/core", "files_uid differs from user: files created after start-up "
		    "belong to the user");
	return 0;
}

/* `user` / `group` that cannot be honoured (not root) stop start-up, before anything is opened. */
static int privs_check(const struct core_cfg *cfg, const struct daemon_privs *pp)
{
	if (!pp->explicit_run || geteuid() == 0)
		return 0;
	if (pp->run.has_uid && pp->run.uid != geteuid())
		return privs_err(cfg, cfg->user ? "user" : "files_uid", "switching user needs root");
	if (pp->run.has_gid && pp->run.gid != getegid())
		return privs_err(cfg, cfg->group ? "group" : cfg->user ? "user" : "files_gid",
		    "switching group needs root");
	return 0;
}

/* Hand a file created before the switch to files_uid / files_gid. */
static void privs_give(const struct daemon_privs *pp, const char *path)
{
	if (path && privs_chown(path, pp->fuid, pp->fgid) < 0 && errno != ENOENT)
		log_warn("default/core", "cannot give '%s' to files_uid/files_gid", path);
}

void daemon_privs_drop(const struct core_cfg *cfg)
{
	struct daemon_privs pp;
	char path[4096], err[256];

	if (privs_plan(cfg, &pp) < 0)
		exit(1);
	if (pp.fuid != (uid_t)-1 || pp.fgid != (gid_t)-1) {
		if (cfg->pidfile) {
			privs_give(&pp, cfg->pidfile);
			for (int i = 0; i < cfg->nplugins; i++) {
				plugin_pidfile(cfg, &cfg->plugins[i], path, sizeof(path));
				privs_give(&pp, path);
			}
		}
		privs_give(&pp, cfg->logfile);
		for (int i = 0; i < cfg->nplugins; i++)
			if (strcmp(cfg->plugins[i].type, "memory") == 0)
				privs_give(&pp, cfg->plugins[i].imt_path);
	}
	if (!pp.run.has_uid && !pp.run.has_gid)
		return;
	if ((!pp.run.has_uid || pp.run.uid == geteuid()) && (!pp.run.has_gid ||
	    pp.run.gid == getegid()))
		return;
	if (geteuid() != 0 && !pp.explicit_run) {
		log_warnx("default/core", "not running as root: files_uid/files_gid only set the "
		    "owner of files, the daemon keeps its user");
		return;
	}
	if (privs_drop(&pp.run, err, sizeof(err)) < 0)
		fatal("default/core", "cannot drop privileges: %s", err);
	log_info("default/core", "running as uid %u gid %u", (unsigned)getuid(), (unsigned)getgid());
}

/* The flags every daemon takes, with the same key (pmacct 1.7's). */
static const struct flag_key daemon_flags[] = {
	{ 'c', "aggregate", NULL }, { 'P', "plugins", NULL }, { 'D', "daemonize", "true" },
	{ 'd', "debug", "true" }, { 'n', "networks_file", NULL }, { 't', "ports_file", NULL },
	{ 'I', "pcap_savefile", NULL }, { 'W', "pcap_savefile_wait", "true" },
	{ 'Z', "pcap_savefile_delay", NULL }, { 'Y', "pcap_savefile_replay", NULL },
	{ 'R', "pmacctd_renormalize", "true" }, { 'F', "pidfile", NULL }, { 'S', "syslog", NULL },
	{ 'p', "imt_path", NULL }, { 'b', "imt_buckets", NULL }, { 'm', "imt_mem_pools_number", NULL },
	{ 's', "imt_mem_pools_size", NULL }, { 'r', "sql_refresh_time", NULL },
	{ 'O', "print_output", NULL }, { 'o', "print_output_file", NULL },
	{ 'A', "print_output_file_append", "true" }, { 'M', "print_markers", "true" },
	{ 'E', "print_output_separator", NULL }, { 'u', "print_num_protos", "true" },
	{ 0, NULL, NULL },
};

static const struct flag_key *find_flag(const struct flag_key *map, int c)
{
	for (; map->flag; map++)
		if (map->flag == c)
			return map;
	return NULL;
}

/* Flag c in the daemon's own `map`, else among the ones every daemon takes. */
static const struct flag_key *daemon_flag(const struct flag_key *map, int c)
{
	const struct flag_key *fk = find_flag(map, c);
	return fk ? fk : find_flag(daemon_flags, c);
}

void daemon_start(const struct core_cfg *cfg, struct plugin *ps)
{
	if (cfg->daemonize) {
		log_info("default/core", "Daemonizing. Bye bye screen.");
		daemon_detach();
	}
	daemon_pidfiles_write(cfg);
	daemon_privs_drop(cfg);	/* user / group: capture, sockets and pidfiles are open */
	plugins_start(ps, cfg->nplugins);
	log_startup_done();	/* errors from here on go to the configured log only */
}

void daemon_savefile_wait(const struct core_cfg *cfg, bool (*should_stop)(void *arg), void *arg)
{
	while (cfg->pcap_savefile && cfg->pcap_savefile_wait && !should_stop(arg))
		sleep(1);
}

int daemon_parse_args(int argc, char **argv, const char *optstr, const struct flag_key *map,
    const char **config_file, struct cfg_arg *args, int max, char *want, bool *dry_run,
    const char *extra_key, char **extra_val)
{
	int n = 0, c;

	*config_file = NULL;
	*want = 0;
	*extra_val = NULL;
	while ((c = getopt(argc, argv, optstr)) != -1) {
		const struct flag_key *fk;
		if (c == 'f') {
			*config_file = optarg;
		} else if (c == 'h' || c == 'V' || c == 'a') {
			*want = (char)c;
		} else if (c == 'T') {
			if (strcmp(optarg, "config") != 0) {
				fprintf(stderr, "ERROR: -T takes 'config'\n");
				return -1;
			}
			*dry_run = true;
		} else if ((fk = daemon_flag(map, c)) && n < max) {
			args[n].key = fk->key;
			args[n].value = fk->fixed ? fk->fixed : optarg;
			n++;
		} else {
			return -1;
		}
	}
	if (optind < argc) {
		size_t len = 0;
		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		char *v = xcalloc(1, len + 1);
		for (int i = optind; i < argc; i++) {
			strcat(v, argv[i]);
			if (i + 1 < argc)
				strcat(v, " ");
		}
		if (!extra_key || *config_file) {
			if (extra_key)
				fprintf(stderr, "ERROR: the trailing filter '%s' is not read together with -f: "
				    "put it in the configuration file as '%s: %s'. Exiting.\n", v, extra_key, v);
			else
				fprintf(stderr, "ERROR: unexpected argument '%s'. Exiting.\n", v);
			free(v);
			return -2;
		}
		*extra_val = v;
		if (n < max) {
			args[n].key = extra_key;
			args[n].value = v;
			n++;
		}
	}
	return n;
}

bool daemon_poll(const struct daemon_hooks *h)
{
	if (daemon_stats) {
		daemon_stats = 0;
		h->stats(h->arg);
	}
	if (daemon_reopen) {
		daemon_reopen = 0;
		log_reopen();
		if (h->reopen)
			h->reopen(h->arg);
	}
	if (daemon_reload) {
		daemon_reload = 0;
		if (h->maps_refresh)
			h->reload(h->arg);
	}
	return daemon_stop != 0;
}

static void core_stats(void *arg)
{
	struct daemon_core *c = arg;

	if (c->src_stats)
		c->src_stats(c->src, c->pl);
	daemon_bgp_log_stats(c->bgp);
}

static void core_reload(void *arg)
{
	struct daemon_core *c = arg;

	if (c->src_reload)
		c->src_reload(c->src);
	pipeline_reload_maps(c->pl);
	daemon_bgp_reload(c->bgp);
}

static void core_reopen(void *arg)
{
	struct daemon_core *c = arg;

	if (c->src_reopen)
		c->src_reopen(c->src);
	daemon_bgp_reopen(c->bgp);
}

bool daemon_core_poll(void *arg)
{
	struct daemon_core *c = arg;
	struct daemon_hooks h = { core_stats, core_reload, c, c->pl->cfg->maps_refresh, core_reopen };

	return daemon_poll(&h);
}

int daemon_drain(struct daemon_bgp *bgp, struct pipeline *pl, struct plugin *ps, int nplugins, int rc)
{
	daemon_bgp_fini(bgp);
	pipeline_fini(pl);
	if (plugins_stop(ps, nplugins) && rc == 0)
		rc = PLUGIN_EXIT_UNDELIVERED;
	return rc;
}

void daemon_exit_log(int rc)
{
	if (rc == 0)
		log_info("default/core", "OK, Exiting ...");
	else if (rc == PLUGIN_EXIT_UNDELIVERED)
		log_err("default/core", "Exiting with status %d: some data was not delivered", rc);
}

void daemon_usage_plugins(void)
{
	printf("Memory plugin (-P memory) options:\n"
	    "  -p  \tSocket for client-server communication (DEFAULT: /tmp/collect.pipe)\n"
	    "  -b  \tNumber of buckets\n"
	    "  -m  \tNumber of memory pools\n"
	    "  -s  \tMemory pool size\n\n"
	    "Print plugin (-P print) plugin options:\n"
	    "  -r  \tRefresh time (in seconds)\n"
	    "  -O  \t[ formatted | csv | json | event_formatted | event_csv ] \n\tOutput format\n"
	    "  -o  \tPath to output file\n"
	    "  -M  \tPrint event init/close marker messages\n"
	    "  -A  \tAppend output (applies to -o)\n"
	    "  -E  \tCSV format separator (applies to -O csv, DEFAULT: ',')\n");
}

static void usage(const struct daemon_desc *dd)
{
	printf("%s\n", dd->banner);
	dd->usage(dd);
	if (dd->source == 0)
		return;	/* pmbgpd: no plugins */
	printf("\n");
	daemon_usage_plugins();
}

/* -T config: the log file the config names can be opened for appending. */
static int log_check(const struct core_cfg *cfg)
{
	char dir[4096];
	const char *path = cfg->logfile;
	int e;

	if (!path)
		return 0;
	if (access(path, F_OK) == 0) {
		e = access(path, W_OK) == 0 ? 0 : errno;
	} else {
		fs_dirname(path, dir, sizeof(dir));
		e = fs_dir_writable(dir);
	}
	if (!e)
		return 0;
	log_err("default/core", "[%s] key 'logfile': cannot open '%s': %s. Exiting.",
	    cfg_where(&cfg->origin, "logfile"), path, strerror(e));
	return -1;
}

int daemon_main(int argc, char **argv, const struct daemon_desc *dd)
{
	struct cfg_arg args[128];
	const char *file;
	char want, *extra;
	bool dry_run = false;
	struct core_cfg cfg;
	struct daemon_privs pp;
	int n = daemon_parse_args(argc, argv, dd->optstr, dd->flags, &file, args, 128, &want,
	    &dry_run, dd->extra_key, &extra);

	if (n == -2)
		return 1;
	if (n < 0) {
		usage(dd);
		return 1;
	}
	switch (want) {
	case 'h': usage(dd); return 0;
	case 'V': version_print(stdout, dd->banner); return 0;
	case 'a': prim_print_list(dd->source, dd->banner); return 0;
	default: break;
	}
	if (cfg_load(&cfg, dd->daemon, file, args, n) < 0) {
		free(extra);
		return 1;
	}
	/*
	 * -T config and start-up run the same checks (privileges here, then
	 * dd->run() up to the point where it would open its sources and
	 * plugins); the dry run stops there.
	 */
	int rc = 1;
	cfg.gauges = gauges_new();
	if (dry_run) {
		cfg.check_only = true;
		cfg_dump(&cfg, stdout);
		if (log_check(&cfg) < 0)
			goto out;
	} else {
		umask((mode_t)cfg.files_umask & 0777);	/* default 077: the owner's only */
		daemon_log_open(&cfg);
	}
	if (privs_plan(&cfg, &pp) < 0 || privs_check(&cfg, &pp) < 0)
		goto out;
	if (!dry_run) {
		daemon_signals();
		log_info("default/core", "%s", dd->banner);
		if (file)
			log_info("default/core", "Reading configuration file '%s'.", file);
	}
	rc = dd->run(&cfg, dd->arg);
out:
	cfg_fini(&cfg);
	free(extra);
	return rc;
}

/* ---- the BGP daemon ---- */

int daemon_bgp_init(const struct core_cfg *cfg, struct daemon_bgp *db)
{
	int rerr;

	memset(db, 0, sizeof(*db));
	db->rpki = rpki_new(cfg, &rerr);
	if (rerr)
		return -1;
	if (!cfg->bgp.daemon)
		return 0;
	struct bgp_rib_cfg rc = { .max_peers = cfg->bgp.max_peers, .max_bytes = cfg->bgp.rib_max_bytes };
	db->rib = bgp_rib_new(&rc);
	if (!db->rib) {
		log_err("default/core/BGP", "cannot create the BGP RIB");
		return -1;
	}
	char err[512];
	if (!(db->log = bgp_log_new(cfg, err, sizeof(err)))) {
		log_err("default/core/BGP", "%s. Exiting.", err);
		return -1;
	}
	db->sink = *bgp_log_sink(db->log);
	bgp_log_set_rib(db->log, db->rib);
	return 0;
}

int daemon_bgp_check(const struct core_cfg *cfg)
{
	char err[512];

	if (!cfg->bgp.daemon)
		return 0;
	if (bgp_log_check(cfg, err, sizeof(err)) < 0) {
		log_err("default/core/BGP", "%s. Exiting.", err);
		return -1;
	}
	return bgp_daemon_check(cfg);
}

int daemon_bgp_open(const struct core_cfg *cfg, struct daemon_bgp *db)
{
	if (!db->rib)
		return 0;
	db->bgp = bgp_daemon_open(cfg, db->rib, &db->sink);
	return db->bgp ? 0 : -1;
}

int daemon_bgp_start(struct daemon_bgp *db)
{
	if (rpki_start(db->rpki) < 0)
		return -1;
	return db->bgp ? bgp_daemon_start(db->bgp) : 0;
}

void daemon_bgp_log_stats(struct daemon_bgp *db)
{
	char (*lines)[BGP_STATS_LINE];
	size_t n;

	if (!db->bgp)
		return;
	lines = xcalloc(64, sizeof(*lines));
	n = bgp_daemon_stats(db->bgp, lines, 64);
	for (size_t i = 0; i < n; i++)
		log_info("default/core/BGP", "%s", lines[i]);
	free(lines);
}

void daemon_bgp_reload(struct daemon_bgp *db)
{
	rpki_reload(db->rpki);
	bgp_daemon_reload(db->bgp);
	if (db->log)
		bgp_log_reload_maps(db->log);
}

void daemon_bgp_reopen(void *arg)
{
	struct daemon_bgp *db = arg;

	if (db && db->log)
		bgp_log_reopen(db->log);
}

void daemon_bgp_fini(struct daemon_bgp *db)
{
	bgp_daemon_stop(db->bgp);
	db->bgp = NULL;
	bgp_log_free(db->log);
	db->log = NULL;
	bgp_rib_free(db->rib);
	db->rib = NULL;
	rpki_free(db->rpki);
	db->rpki = NULL;
}
