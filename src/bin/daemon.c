/* SPDX-License-Identifier: BSD-3-Clause */
/* daemon.c: process plumbing shared by the daemons. */
#include "daemon.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

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
