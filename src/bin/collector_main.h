/* SPDX-License-Identifier: BSD-3-Clause */
/* collector_main.h: the daemon side shared by nfacctd and sfacctd: flags, config, plugins, signals. */
#ifndef BIN_COLLECTOR_MAIN_H
#define BIN_COLLECTOR_MAIN_H

#include "config/config.h"
#include "pipeline/collector.h"

/*
 * Run a collector daemon on a loaded config: create the plugins, open the
 * source (socket or -I file), daemonize and write pidfiles as asked, and
 * feed the plugins until SIGINT/SIGTERM or the end of the capture file
 * (pcap_savefile_wait keeps it up).  SIGUSR1 logs stats, SIGUSR2 reloads
 * maps and the allow file, SIGHUP reopens the log.  Returns the exit code.
 */
int collector_run(struct core_cfg *cfg, const struct collector_proto *proto);

/*
 * The whole main() of a collector daemon: pmacct's nfacctd/sfacctd flags
 * (-f -c -P -D -d -n -t -L -l -R -F -S -p -b -m -s -r -O -o -A -M -E -u -I
 * -W -Z -Y -T -a -V -h), config loading, then collector_run().
 */
int collector_main(int argc, char **argv, enum cfg_daemon d, const struct collector_proto *proto,
    const char *banner);

#endif
