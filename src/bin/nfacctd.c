/* SPDX-License-Identifier: BSD-3-Clause */
/* nfacctd.c: the NetFlow/IPFIX collector daemon: the NetFlow decoder wired into the shared collector. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bin/collector_main.h"
#include "decode/netflow.h"
#include "lib/log.h"
#include "maps/rdmap.h"
#include "lib/xalloc.h"
#include "model/prim.h"

#define WHO "default/core"
#define BANNER "NetFlow Accounting Daemon, nfacctd " PMACCT_NG_VERSION

/*
 * nfacctd_templates_file with collector_workers: each receive thread has
 * its own template cache, so the file is the merge of what each thread
 * last wrote: the templates of the exporters it serves, and, for exporters
 * no thread has heard from yet, the templates the file held at start-up.
 */
struct nfd_tplfile {
	pthread_mutex_t mu;
	int n;			/* receive threads */
	char **served;		/* per thread: its JSON lines, NULL before its first save */
	char *loaded;		/* the file at start-up */
};

struct nfd {
	struct nf_state *nf;
	const struct rec_sink *sink;
	char *templates_file;
	struct nfd_tplfile *tf;	/* shared between receive threads, NULL with one */
	int slot;		/* this thread's entry in tf->served */
	uint64_t saved_templates;	/* template count at the last save */
	char listen[80];		/* [ip:port] of SIGUSR1 lines */
	struct rd_map *rdmap;		/* flow_to_rd_map, NULL = none */
	const char *rdmap_path;		/* its file (the config's string) */
};

static void nfd_emit(void *arg, struct flow_rec *rec)
{
	const struct nfd *n = arg;
	if (n->rdmap)
		rdmap_apply(n->rdmap, &rec->k);
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
		/* with a sampling_map the core renormalizes (core_maps.c), unless an
		 * external rate, which wins over the map, is set */
		.renormalize = cfg->renormalize && (cfg->ext_sampling_rate || !cfg->sampling_map),
		.use_ip_next_hop = cfg->use_ip_next_hop,
		.account_options = cfg->nf_account_options,
		.ext_sampling_rate = cfg->ext_sampling_rate,
		.ignore_exporter_address = cfg->nf_ignore_exporter_address,
		.emit_writes_tail = cfg->flow_to_rd_map != NULL,	/* nfd_emit: rdmap_apply() */
		.custom = prim_custom_get(0),
		.ncustom = prim_custom_count(),
	};

	if (cfg->flow_to_rd_map) {
		char err[512];
		if (!(n->rdmap = rdmap_load(cfg->flow_to_rd_map, err, sizeof(err)))) {
			log_err(WHO, "[%s] key 'flow_to_rd_map': %s. Exiting.",
			    cfg_where(&cfg->origin, "flow_to_rd_map"), err);
			free(n);
			return NULL;
		}
		n->rdmap_path = cfg->flow_to_rd_map;
	}
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

/* SIGUSR2: flow_to_rd_map again; a map that fails to load keeps the previous one. */
static void nfd_reload(void *state)
{
	struct nfd *n = state;
	struct rd_map *m;
	char err[512];

	if (!n->rdmap_path)
		return;
	log_info(WHO, "[%s] (re)loading map.", n->rdmap_path);
	if (!(m = rdmap_load(n->rdmap_path, err, sizeof(err)))) {
		log_warnx(WHO, "[%s] reload failed (%s); keeping the previous map.", n->rdmap_path, err);
		return;
	}
	rdmap_free(n->rdmap);
	n->rdmap = m;
	log_info(WHO, "[%s] map successfully (re)loaded.", n->rdmap_path);
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
/* A line's template key: what precedes `, "options"` (version, exporter, domain, id). */
static size_t tpl_key_len(const char *line)
{
	const char *o = strstr(line, ", \"options\"");
	return o ? (size_t)(o - line) : strcspn(line, "\n");
}

/* Is the key of `line` the key of a line in text? */
static bool tpl_key_in(const char *text, const char *line)
{
	size_t k = tpl_key_len(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (tpl_key_len(p) == k && strncmp(p, line, k) == 0)
			return true;
	return false;
}

/* Store this thread's templates, then write the merged file (its lock held). */
static int tplfile_save(struct nfd *n)
{
	struct nfd_tplfile *tf = n->tf;
	char *text = NULL, tmp[4096];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = -1;

	if (!f)
		return -1;
	nf_templates_write(n->nf, f, true);
	if (fclose(f) != 0)
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", n->templates_file) >= (int)sizeof(tmp)) {
		free(text);
		return -1;
	}
	pthread_mutex_lock(&tf->mu);
	free(tf->served[n->slot]);
	tf->served[n->slot] = text;
	if ((f = fopen(tmp, "w"))) {
		for (int i = 0; i < tf->n; i++)
			if (tf->served[i])
				fputs(tf->served[i], f);
		for (const char *p = tf->loaded, *e; p && *p; p = e ? e + 1 : NULL) {
			bool dup = false;
			e = strchr(p, '\n');
			for (int i = 0; i < tf->n && !dup; i++)
				dup = tf->served[i] && tpl_key_in(tf->served[i], p);
			if (!dup)
				fwrite(p, 1, e ? (size_t)(e - p + 1) : strlen(p), f);
		}
		rc = fclose(f) == 0 && rename(tmp, n->templates_file) == 0 ? 0 : -1;
		if (rc < 0)
			remove(tmp);
	}
	pthread_mutex_unlock(&tf->mu);
	return rc;
}

static int nfd_save(struct nfd *n)
{
	return n->tf ? tplfile_save(n) : nf_templates_save(n->nf, n->templates_file);
}

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
	if (nfd_save(n) < 0)
		log_warnx(WHO, "[%s] cannot write the templates file", n->templates_file);
	n->saved_templates = t.templates;
}

static void nfd_free(void *state)
{
	struct nfd *n = state;

	if (!n)
		return;
	if (n->templates_file && nfd_save(n) < 0)
		log_warnx(WHO, "[%s] cannot write the templates file", n->templates_file);
	nf_state_free(n->nf);
	rdmap_free(n->rdmap);
	free(n->templates_file);
	/* the first thread's state goes last (collector.c) and frees what they shared */
	if (n->tf && n->slot == 0) {
		for (int i = 0; i < n->tf->n; i++)
			free(n->tf->served[i]);
		free(n->tf->served);
		free(n->tf->loaded);
		pthread_mutex_destroy(&n->tf->mu);
		free(n->tf);
	}
	free(n);
}

/* The file's whole text, NULL if it cannot be read. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	FILE *m;

	if (!f)
		return NULL;
	if ((m = open_memstream(&text, &len))) {
		char buf[8192];
		size_t got;
		while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, got, m);
		fclose(m);
	}
	fclose(f);
	return text;
}

/* collector_workers: a further receive thread; the templates file becomes shared. */
static void *nfd_new_worker(struct core_cfg *cfg, void *first)
{
	struct nfd *f = first, *n = nfd_new(cfg);

	if (!n || !f->templates_file)
		return n;
	if (!f->tf) {
		f->tf = xcalloc(1, sizeof(*f->tf));
		pthread_mutex_init(&f->tf->mu, NULL);
		f->tf->n = 1;
		f->tf->served = xcalloc(1, sizeof(*f->tf->served));
		f->tf->loaded = read_text(f->templates_file);
		f->slot = 0;
	}
	n->tf = f->tf;
	n->slot = n->tf->n++;
	n->tf->served = xrealloc(n->tf->served, (size_t)n->tf->n * sizeof(*n->tf->served));
	n->tf->served[n->slot] = NULL;
	return n;
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
	.reload = nfd_reload,
	.state_new_worker = nfd_new_worker,
};

int main(int argc, char **argv)
{
	return collector_main(argc, argv, CFG_NFACCTD, &nfacctd_proto, BANNER);
}
