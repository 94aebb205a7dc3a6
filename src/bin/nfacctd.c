/* SPDX-License-Identifier: BSD-3-Clause */
/* nfacctd.c: the NetFlow/IPFIX collector daemon: the NetFlow decoder wired into the shared collector. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bin/collector_main.h"
#include "decode/netflow.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "model/prim.h"

#define WHO "default/core"
#define BANNER "NetFlow Accounting Daemon, nfacctd " PMACCT_NG_VERSION

struct nfd {
	struct nf_state *nf;
	const struct rec_sink *sink;
	char *templates_file;
	uint64_t saved_templates;	/* template count at the last save */
	char listen[80];		/* [ip:port] of SIGUSR1 lines */
};

static void nfd_emit(void *arg, struct flow_rec *rec)
{
	const struct nfd *n = arg;
	n->sink->emit(n->sink->arg, rec);
}

static void nfd_datagram(void *state, const struct dgram *d, const struct rec_sink *sink)
{
	struct nfd *n = state;

	n->sink = sink;
	nf_decode(n->nf, d->data, d->len, &d->src, &d->ts, nfd_emit, n);
}

static void *nfd_new(struct core_cfg *cfg)
{
	struct nfd *n = xcalloc(1, sizeof(*n));
	struct nf_opts o = {
		.time_secs = cfg->nf_time_secs,
		.time_new = cfg->nf_time_new,
		.renormalize = cfg->renormalize,
		.use_ip_next_hop = cfg->use_ip_next_hop,
		.account_options = cfg->nf_account_options,
		.ext_sampling_rate = cfg->ext_sampling_rate,
	};

	n->nf = nf_state_new(&o);
	snprintf(n->listen, sizeof(n->listen), "%s:%u",
	    cfg->collector_ip ? cfg->collector_ip : "::",
	    cfg->collector_port ? cfg->collector_port : 2100u);
	if (cfg->nf_templates_file) {
		n->templates_file = xstrdup(cfg->nf_templates_file);
		if (nf_templates_load(n->nf, n->templates_file) == 0)
			log_info(WHO, "[%s] templates loaded.", n->templates_file);
	}
	return n;
}

static void nfd_line(void *arg, const char *line)
{
	const struct nfd *n = arg;
	log_notice(WHO, "stats [%s] %s", n->listen, line);
}

static void nfd_log_stats(void *state)
{
	struct nfd *n = state;
	nf_stats_lines(n->nf, (int64_t)time(NULL), nfd_line, n);
}

/* Once a second: write the templates file when the cache changed. */
static void nfd_tick(void *state, int64_t now)
{
	struct nfd *n = state;
	struct nf_totals t;

	(void)now;
	if (!n->templates_file)
		return;
	nf_totals(n->nf, &t);
	if (t.templates == n->saved_templates)
		return;
	if (nf_templates_save(n->nf, n->templates_file) < 0)
		log_warnx(WHO, "[%s] cannot write the templates file", n->templates_file);
	n->saved_templates = t.templates;
}

static void nfd_free(void *state)
{
	struct nfd *n = state;

	if (!n)
		return;
	if (n->templates_file && nf_templates_save(n->nf, n->templates_file) < 0)
		log_warnx(WHO, "[%s] cannot write the templates file", n->templates_file);
	nf_state_free(n->nf);
	free(n->templates_file);
	free(n);
}

static const struct collector_proto nfacctd_proto = {
	.daemon = "nfacctd",
	.source = SRC_NF,
	.default_port = 2100,
	.ready_fmt = "waiting for NetFlow/IPFIX data on %s:%u",
	.state_new = nfd_new,
	.datagram = nfd_datagram,
	.log_stats = nfd_log_stats,
	.tick = nfd_tick,
	.state_free = nfd_free,
};

int main(int argc, char **argv)
{
	return collector_main(argc, argv, CFG_NFACCTD, &nfacctd_proto, BANNER);
}
