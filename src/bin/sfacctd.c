/* SPDX-License-Identifier: BSD-3-Clause */
/* sfacctd.c: the sFlow collector daemon: the sFlow collector protocol wired into the shared collector. */
#include "bin/collector_main.h"
#include "model/prim.h"
#include "pipeline/sf_collector.h"

#define BANNER "sFlow Accounting Daemon, sfacctd " PMACCT_NG_VERSION

static const struct collector_proto sfacctd_proto = {
	.daemon = "sfacctd",
	.source = SRC_SF,
	.default_port = 6343,
	.ready_fmt = "waiting for sFlow data on %s:%u",
	.state_new = sf_collector_new,
	.datagram = sf_collector_datagram,
	.log_stats = sf_collector_log_stats,
	.tick = sf_collector_tick,
	.reopen = sf_collector_reopen,
	.state_free = sf_collector_free,
	.health = sf_collector_health,
};

int main(int argc, char **argv)
{
	return collector_main(argc, argv, CFG_SFACCTD, &sfacctd_proto, BANNER);
}
