/* SPDX-License-Identifier: BSD-3-Clause */
/* nfacctd.c: the NetFlow/IPFIX collector daemon: the NetFlow collector protocol wired into the shared collector. */
#include "bin/collector_main.h"
#include "model/prim.h"
#include "pipeline/nf_collector.h"

#define BANNER "NetFlow Accounting Daemon, nfacctd " PMACCT_NG_VERSION

static const struct collector_proto nfacctd_proto = {
	.daemon = "nfacctd",
	.source = SRC_NF,
	.default_port = 2100,
	.ready_fmt = "waiting for NetFlow/IPFIX data on %s:%u",
	.check = nf_collector_check,
	.state_new = nf_collector_new,
	.datagram = nf_collector_datagram,
	.log_stats = nf_collector_log_stats,
	.tick = nf_collector_tick,
	.state_free = nf_collector_free,
	.reload = nf_collector_reload,
	.state_new_worker = nf_collector_new_worker,
	.health = nf_collector_health,
};

int main(int argc, char **argv)
{
	return collector_main(argc, argv, CFG_NFACCTD, &nfacctd_proto, BANNER);
}
