/* SPDX-License-Identifier: BSD-3-Clause */
/* daemon.c: process plumbing shared by the daemons. */
#include "daemon.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "model/prim.h"

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
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void daemon_log_open(const struct core_cfg *cfg)
{
	if (log_open(cfg->logfile, cfg->syslog, cfg->debug) < 0) {
		if (cfg->logfile)
			fatal("default/core", "cannot open logfile '%s'", cfg->logfile);
		fatal("default/core", "invalid syslog facility '%s'", cfg->syslog);
	}
}

void daemon_detach(void)
{
	pid_t pid = fork();
	int fd;

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

static const struct flag_key *find_flag(const struct flag_key *map, int c)
{
	for (; map->flag; map++)
		if (map->flag == c)
			return map;
	return NULL;
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
		} else if ((fk = find_flag(map, c)) && n < max) {
			args[n].key = fk->key;
			args[n].value = fk->fixed ? fk->fixed : optarg;
			n++;
		} else {
			return -1;
		}
	}
	if (optind < argc && extra_key && !*config_file) {
		size_t len = 0;
		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		char *v = xcalloc(1, len + 1);
		for (int i = optind; i < argc; i++) {
			strcat(v, argv[i]);
			if (i + 1 < argc)
				strcat(v, " ");
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
	}
	if (daemon_reload) {
		daemon_reload = 0;
		if (h->maps_refresh)
			h->reload(h->arg);
	}
	return daemon_stop != 0;
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
	printf("\n");
	daemon_usage_plugins();
}

int daemon_main(int argc, char **argv, const struct daemon_desc *dd)
{
	struct cfg_arg args[128];
	const char *file;
	char want, *extra;
	bool dry_run = false;
	struct core_cfg cfg;
	int n = daemon_parse_args(argc, argv, dd->optstr, dd->flags, &file, args, 128, &want,
	    &dry_run, dd->extra_key, &extra);

	if (n < 0) {
		usage(dd);
		return 1;
	}
	switch (want) {
	case 'h': usage(dd); return 0;
	case 'V': printf("%s\n\nLibs:\n%s\n", dd->banner, pcap_lib_version()); return 0;
	case 'a': prim_print_list(dd->source, dd->banner); return 0;
	default: break;
	}
	if (cfg_load(&cfg, dd->daemon, file, args, n) < 0) {
		free(extra);
		return 1;
	}
	int rc = 0;
	if (dry_run) {
		cfg_dump(&cfg, stdout);
	} else {
		umask(077);	/* files_umask: created files and directories are the owner's only */
		daemon_log_open(&cfg);
		daemon_signals();
		log_info("default/core", "%s", dd->banner);
		if (file)
			log_info("default/core", "Reading configuration file '%s'.", file);
		rc = dd->run(&cfg, dd->arg);
	}
	cfg_fini(&cfg);
	free(extra);
	return rc;
}
