/* SPDX-License-Identifier: BSD-3-Clause */
/* daemon.h: process plumbing shared by the daemons: signals, pidfiles, daemonizing, flag-to-key mapping. */
#ifndef BIN_DAEMON_H
#define BIN_DAEMON_H

#include <signal.h>
#include <stdbool.h>

#include <stdint.h>

#include "config/config.h"
#include "pipeline/bgp_events.h"

/* Signal flags, set by handlers and polled by the core loop. */
extern volatile sig_atomic_t daemon_stop, daemon_stats, daemon_reopen, daemon_reload;

/* SIGINT/SIGTERM stop, SIGUSR1 stats, SIGHUP reopen logs, SIGUSR2 reload maps; SIGPIPE ignored. */
void daemon_signals(void);

/* Open the log sink the config asks for; exits on failure. */
void daemon_log_open(const struct core_cfg *cfg);

/* Fork to the background (daemonize: true): the parent exits 0. */
void daemon_detach(void);

/* Write the core pidfile and one `<pidfile>-<type>-<name>` per plugin. */
void daemon_pidfiles_write(const struct core_cfg *cfg);
void daemon_pidfiles_remove(const struct core_cfg *cfg);

/*
 * Once capture handles, sockets and pidfiles are open: give the files made
 * so far (pidfiles, logfile, memory plugin sockets) to files_uid /
 * files_gid, then switch to `user` / `group` (or files_uid / files_gid),
 * keeping no other group.  Exits on failure (start-up only).
 */
void daemon_privs_drop(const struct core_cfg *cfg);

struct plugin;

/*
 * The start-up order, once capture handles, sockets and the plugins'
 * sockets are open: daemonize (daemonize: true), write the pidfiles, drop
 * privileges (daemon_privs_drop(): the files made so far are given to the
 * new owner first), start the plugin threads of ps (cfg->nplugins), then
 * leave start-up logging (log_startup_done()).  Privileges go after the
 * sockets and pidfiles and before any thread handles input: a security
 * property, so it is written once, here.  Exits on failure.
 */
void daemon_start(const struct core_cfg *cfg, struct plugin *ps);

/*
 * pcap_savefile_wait: the capture file is done, keep the plugins serving
 * until should_stop(arg) (the daemon's signal handling) says so.  Returns at
 * once without a capture file or without the key.
 */
void daemon_savefile_wait(const struct core_cfg *cfg, bool (*should_stop)(void *arg), void *arg);

/* One command-line flag and the config key it becomes (NULL value: takes the option argument). */
struct flag_key {
	char flag;
	const char *key;
	const char *fixed;	/* value for flags without an argument */
};

/*
 * Collect argv flags into config lines using `map`, then the flags every
 * daemon takes (-c -P -D -d -n -t -I -W -Z -Y -R -F -S -p -b -m -s -r -O
 * -o -A -M -E -u); `optstr` says which are taken.  Handles -f (config
 * file), and returns in *want the action flags -h -V -a; -T config sets
 * *dry_run.  Trailing arguments are joined into `extra_key` (pcap_filter
 * for pmacctd) when no -f was given.  Returns the number of args, -1 on
 * an unknown flag (the caller prints usage), or -2 on trailing arguments
 * that would be ignored (with -f, or for a daemon that takes none; error printed).
 */
int daemon_parse_args(int argc, char **argv, const char *optstr, const struct flag_key *map,
    const char **config_file, struct cfg_arg *args, int max, char *want, bool *dry_run,
    const char *extra_key, char **extra_val);

/* What a daemon's main needs to know of it: its flags, its banner and how to run it. */
struct daemon_desc {
	const char *name;		/* "pmacctd" */
	const char *banner;		/* first log line, -V, -a */
	enum cfg_daemon daemon;
	uint8_t source;			/* SRC_PM / SRC_NF / SRC_SF: -a lists these primitives */
	const struct flag_key *flags;	/* -x -> key: value, besides the ones every daemon takes */
	const char *optstr;		/* getopt string: -f -T -a -V -h plus the flags */
	const char *extra_key;		/* trailing arguments become this key (pcap_filter), or NULL */
	void (*usage)(const struct daemon_desc *dd);	/* the daemon-specific part of -h */
	int (*run)(struct core_cfg *cfg, const void *arg);
	const void *arg;
};

/*
 * The whole main(): flags, -h -V -a, config (-f, flags appended), -T config
 * dry run, umask files_umask, the user/group keys checked, logging,
 * signals, then dd->run().  Returns the exit code.
 */
int daemon_main(int argc, char **argv, const struct daemon_desc *dd);

/* -h: the options every daemon shares (memory and print plugins). */
void daemon_usage_plugins(void);

/* Hooks a daemon's loop runs when a signal flag is up. */
struct daemon_hooks {
	void (*stats)(void *arg);	/* SIGUSR1 */
	void (*reload)(void *arg);	/* SIGUSR2 (only when maps_refresh) */
	void *arg;
	bool maps_refresh;
	void (*reopen)(void *arg);	/* SIGHUP, after the log file; may be NULL */
};

/*
 * Between batches: SIGUSR1 logs stats, SIGHUP reopens the log, SIGUSR2
 * reloads maps.  Returns true when SIGINT/SIGTERM asked the daemon to stop.
 */
bool daemon_poll(const struct daemon_hooks *h);

/*
 * A daemon's core loop as the signals see it: its source (the hooks are
 * each optional: SIGUSR1 stats, SIGUSR2 reload, SIGHUP reopen), its
 * pipeline (maps reloaded on SIGUSR2 with maps_refresh) and its BGP
 * daemon (stats, maps, log files).
 */
struct pipeline;
struct daemon_core {
	void *src;
	void (*src_stats)(void *src, struct pipeline *pl);
	void (*src_reload)(void *src);
	void (*src_reopen)(void *src);
	struct pipeline *pl;
	struct daemon_bgp *bgp;
};

/* daemon_poll() for the struct daemon_core at arg: true when the daemon must stop. */
bool daemon_core_poll(void *arg);

/*
 * The end of a run, after the source stopped: the BGP daemon (no record is
 * enriched from here on), the pipeline (its feeds close the rings), then
 * the plugins, which drain them.  Returns rc, or PLUGIN_EXIT_UNDELIVERED
 * when rc was 0 and a plugin left data undelivered (it logged what).
 */
struct plugin;
int daemon_drain(struct daemon_bgp *bgp, struct pipeline *pl, struct plugin *ps, int nplugins, int rc);

/* The last log line of a run that ended with rc (none for a failed start). */
void daemon_exit_log(int rc);

/*
 * The BGP daemon of a process (bgp_daemon: true; always in pmbgpd).  `rib`
 * is THE place where the BGP routing tables live: the BGP thread writes it,
 * the record enrichment (pipeline/bgp_enrich.h) is handed it to read.  It is
 * created by daemon_bgp_init(), before the pipeline, so the pipeline can be
 * given it; NULL when bgp_daemon is false.  `sink` holds the msglog/dump
 * hooks: set them between daemon_bgp_init() and daemon_bgp_open().
 */
struct bgp_rib;
struct bgp_daemon;
struct bgp_log;
struct daemon_bgp {
	struct bgp_rib *rib;
	struct bgp_daemon *bgp;
	struct bgp_event_sink sink;
	struct bgp_log *log;	/* msglog and dumps (pipeline/bgp_log.h) */
	struct rpki *rpki;	/* ROAs: rpki_roas_file or rpki_rtr_cache (pipeline/rpki.h); NULL = none */
};

/* Create the RIB when cfg->bgp.daemon (db zeroed first).  0, or -1 logged. */
int daemon_bgp_init(const struct core_cfg *cfg, struct daemon_bgp *db);
/* -T config: check the BGP keys when bgp_daemon is on (bgp_daemon_check()).  0, or -1 logged. */
int daemon_bgp_check(const struct core_cfg *cfg);
/* Open the BGP listener (before daemon_start(): privileges still held).  0 (also when off), or -1 logged. */
int daemon_bgp_open(const struct core_cfg *cfg, struct daemon_bgp *db);
/* Start the BGP thread (after daemon_start(): after daemonizing).  0 (also when off), or -1 logged. */
int daemon_bgp_start(struct daemon_bgp *db);
/* SIGUSR1: log the BGP statistics (sessions, peers, prefixes, RIB memory); nothing when off. */
void daemon_bgp_log_stats(struct daemon_bgp *db);
/* SIGUSR2: reload bgp_daemon_allow_file (new sessions only); nothing when off. */
void daemon_bgp_reload(struct daemon_bgp *db);
/* SIGHUP: reopen the BGP message log files (arg: a struct daemon_bgp; NULL or no log: nothing). */
void daemon_bgp_reopen(void *arg);
/* Stop the thread (peers get a Cease), then free the RIB.  A zeroed db is fine. */
void daemon_bgp_fini(struct daemon_bgp *db);

#endif
