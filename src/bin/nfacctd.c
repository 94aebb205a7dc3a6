/* SPDX-License-Identifier: BSD-3-Clause */
/* nfacctd.c: the NetFlow/IPFIX collector daemon: the NetFlow decoder wired into the shared collector. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bin/collector_main.h"
#include "decode/netflow.h"
#include "decode/nf_state.h"
#include "lib/log.h"
#include "maps/rdmap.h"
#include "lib/xalloc.h"
#include "model/prim.h"
#include "model/health.h"

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
	struct nf_totals warned;	/* the counters at the last warning */
	int64_t warned_at;		/* when (the clock of nfd_tick), 0 = never */
	uint32_t max_exporters, max_templates;	/* for the warnings */
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

/* flow_to_rd_map, or NULL after logging the key. */
static struct rd_map *rd_map_load(const struct core_cfg *cfg)
{
	char err[512];
	struct rd_map *m = rdmap_load(cfg->flow_to_rd_map, err, sizeof(err));

	if (!m)
		log_err(WHO, "[%s] key 'flow_to_rd_map': %s. Exiting.",
		    cfg_where(&cfg->origin, "flow_to_rd_map"), err);
	return m;
}

/* Start-up and -T config: the maps nfd_new() loads. */
static int nfd_check(const struct core_cfg *cfg)
{
	struct rd_map *m;

	if (!cfg->flow_to_rd_map)
		return 0;
	if (!(m = rd_map_load(cfg)))
		return -1;
	rdmap_free(m);
	return 0;
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
		.pre_processing_checks = cfg->nf_pre_processing_checks,
		.max_templates = cfg->nf_max_templates,
		.max_exporters = cfg->collector_max_exporters,
		.hold_secs = cfg->nf_hold_secs,
		.hold_bytes = cfg->nf_hold_bytes,
		.emit_writes_tail = cfg->flow_to_rd_map != NULL,	/* nfd_emit: rdmap_apply() */
		.custom = prim_custom_get(0),
		.ncustom = prim_custom_count(),
	};

	if (cfg->flow_to_rd_map) {
		if (!(n->rdmap = rd_map_load(cfg))) {
			free(n);
			return NULL;
		}
		n->rdmap_path = cfg->flow_to_rd_map;
	}
	n->nf = nf_state_new(&o);
	n->max_exporters = cfg->collector_max_exporters;
	n->max_templates = cfg->nf_max_templates;
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

/* ---- health (the http plugin's /api/exporters): per-exporter counters ---- */

static int tpl_key_cmp(const void *a, const void *b)
{
	const struct nf_tpl *x = *(const struct nf_tpl *const *)a, *y = *(const struct nf_tpl *const *)b;
	int c = x->addr.af != y->addr.af ? (x->addr.af < y->addr.af ? -1 : 1) :
	    memcmp(x->addr.a, y->addr.a, sizeof(x->addr.a));

	if (c)
		return c;
	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	return x->version < y->version ? -1 : x->version > y->version;
}

/* Templates cached for (addr, domain, version): a range of the key-sorted v. */
static uint32_t tpl_count(struct nf_tpl **v, size_t n, const struct nf_exporter *e)
{
	struct nf_tpl key = { .addr = e->addr, .domain = e->domain, .version = e->version };
	const struct nf_tpl *kp = &key;
	size_t lo = 0, hi = n, first;

	while (lo < hi) {		/* first template not below the key */
		size_t mid = lo + (hi - lo) / 2;
		if (tpl_key_cmp(&v[mid], &kp) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < n && tpl_key_cmp(&v[lo], &kp) == 0)
		lo++;
	return (uint32_t)(lo - first);
}

static void nfd_health_one(struct health_build *b, const struct nf_exporter *e, uint32_t templates)
{
	struct health_exporter h = { .addr = e->addr, .domain = e->domain, .version = e->version,
		.templates = templates, .packets = e->packets, .bytes = e->bytes,
		.records = e->records, .seq_good = e->seq_good, .seq_fwd = e->seq_fwd,
		.seq_bck = e->seq_bck };

	for (int i = 0; i < NF_DROP_N && i < HEALTH_MAX_DROPS; i++)
		h.drops[i] = e->drops[i];
	health_offer(b, &h);
}

/* collector_proto.health: every exporter (and the overflow entry) with its templates. */
static void nfd_health(void *state, struct health_build *b)
{
	const struct nf_state *st = ((struct nfd *)state)->nf;
	struct nf_tpl **tv = xcalloc(st->ntpl ? st->ntpl : 1, sizeof(*tv));
	size_t nt = 0;

	health_build_names(b, HEALTH_NETFLOW, nf_drop_names, NF_DROP_N);
	for (uint32_t i = 0; i <= st->tpl_mask; i++)
		for (struct nf_tpl *t = st->tpl[i]; t && nt < st->ntpl; t = t->next)
			tv[nt++] = t;
	qsort(tv, nt, sizeof(*tv), tpl_key_cmp);
	for (uint32_t i = 0; i <= st->exp_mask; i++)
		for (const struct nf_exporter *e = st->exp[i]; e; e = e->next)
			nfd_health_one(b, e, tpl_count(tv, nt, e));
	if (st->overflow)
		nfd_health_one(b, st->overflow, 0);
	free(tv);
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

/* Seconds between two warnings about dropped input: hostile input must not flood the log. */
#define NFD_WARN_EVERY 60

/*
 * What was dropped since the last warning, in one line at most once a
 * minute: malformed or undecodable input by reason, exporters and
 * templates past their limits.  SIGUSR1 has the per-exporter counters.
 */
static void nfd_warn(struct nfd *n, const struct nf_totals *t, int64_t now)
{
	char line[768];
	size_t off = 0;

	if (n->warned_at && now - n->warned_at < NFD_WARN_EVERY)
		return;
	line[0] = '\0';
	off = log_count_deltas(line, sizeof(line), 0, nf_drop_names, t->drops, n->warned.drops, 0,
	    NF_DROP_N);
	if (off)
		log_warnx(WHO, "[%s] NetFlow/IPFIX input not decoded since %s:%s (SIGUSR1: per exporter)",
		    n->listen, n->warned_at ? "the last report" : "start", line);
	if (t->exporters_refused > n->warned.exporters_refused)
		log_warnx(WHO, "[%s] key 'nfacctd_max_exporters': %u exporters tracked; %llu datagrams "
		    "from further ones counted together as 'others'", n->listen, n->max_exporters,
		    (unsigned long long)(t->exporters_refused - n->warned.exporters_refused));
	if (t->templates_refused > n->warned.templates_refused)
		log_warnx(WHO, "[%s] key 'nfacctd_max_templates': %u templates kept; %llu new ones "
		    "refused", n->listen, n->max_templates,
		    (unsigned long long)(t->templates_refused - n->warned.templates_refused));
	if (off || t->exporters_refused > n->warned.exporters_refused ||
	    t->templates_refused > n->warned.templates_refused) {
		n->warned = *t;
		n->warned_at = now;
	}
}

/* Once a second: give up early data held too long, warn about drops, save templates. */
static void nfd_tick(void *state, int64_t now)
{
	struct nfd *n = state;
	struct nf_totals t;

	nf_state_expire(n->nf, now);
	nf_totals(n->nf, &t);
	nfd_warn(n, &t, now);
	if (!n->templates_file || t.templates == n->saved_templates)
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
	.check = nfd_check,
	.state_new = nfd_new,
	.datagram = nfd_datagram,
	.log_stats = nfd_log_stats,
	.tick = nfd_tick,
	.state_free = nfd_free,
	.reload = nfd_reload,
	.state_new_worker = nfd_new_worker,
	.health = nfd_health,
};

int main(int argc, char **argv)
{
	return collector_main(argc, argv, CFG_NFACCTD, &nfacctd_proto, BANNER);
}
