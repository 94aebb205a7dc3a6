/* SPDX-License-Identifier: BSD-3-Clause */
/* print.c: the print plugin: aggregate in memory, write formatted/CSV/JSON to stdout or files every print_refresh_time. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/timefmt.h"
#include "lib/xalloc.h"
#include "plugins/agg.h"
#include "plugins/output.h"
#include "plugins/plugin.h"
#include "plugins/prorate.h"
#include "plugins/stitch.h"

struct print_state {
	struct agg_table *table;
	struct out_cols cols;
	struct out_opts opts;
	struct timebin bins;		/* print_history state */
	time_t deadline;		/* next purge, wall clock */
	bool dyn_name;			/* output file name has variables */
	struct stitch stitch;		/* [nf|sf|pm]acctd_stitching */
	bool stitching;
	bool pro_rating;		/* nfacctd_pro_rating (with print_history) */
};

static time_t wall_now(void)
{
	return time(NULL);
}


static int print_init(struct plugin *p)
{
	struct plugin_cfg *pc = p->cfg;
	struct print_state *s = xcalloc(1, sizeof(*s));

	s->stitching = stitch_wanted(p);
	s->pro_rating = prorate_wanted(p);
	s->table = stitch_table_new(s->stitching ? &s->stitch : NULL, &pc->aggregate,
	    pc->cache_entries ? pc->cache_entries : 16411);
	out_cols_init(&s->cols, &pc->aggregate, false, false);
	s->cols.stitch = s->stitching;
	out_opts_from_cfg(&s->opts, pc, p->core);
	if (s->opts.label_map && s->opts.fmt != OUT_JSON)	/* as pmacct master */
		log_warnx(p->who, "Complex data types (ie. pre_tag_label_encode_as_map) not supported "
		    "by the selected print_output. Ignored.");
	timebin_init(&s->bins, &pc->history, pc->history_roundoff, pc->history_offset,
	    p->core->timestamps_utc);
	if (pc->history.n)
		timebin_anchor(&s->bins, wall_now());	/* pmacct phases bins on its start time */
	s->deadline = (time_t)timefmt_deadline_first(wall_now(), pc->refresh_time,
	    pc->history_roundoff, pc->startup_delay, p->core->timestamps_utc);
	if (s->stitching && s->pro_rating) {
		log_err(p->who, "Pro-rating (ie. nfacctd_pro_rating) and stitching (ie. nfacctd_stitching) "
		    "are mutual exclusive. Exiting.");
		return -1;
	}
	s->dyn_name = pc->output_file && (strchr(pc->output_file, '%') || strchr(pc->output_file, '$'));
	p->state = s;

	if (pc->output == OUT_FORMATTED || pc->output == OUT_EVENT_FORMATTED) {
		for (int i = 0; i < P_COUNT; i++) {
			if (prim_has(&pc->aggregate, (enum prim_id)i) && (prim_table[i].flags & PRIM_VLEN)) {
				log_err(p->who, "variable-length primitives, ie. label as_path std_comm etc., "
				    "are not supported in print plugin with formatted output.");
				log_err(p->who, "Please switch to one of the other supported output formats "
				    "(ie. csv, json, avro). Exiting ..");
				return -1;
			}
		}
	}

	log_info(p->who, "cache entries=%u base cache memory=%zu bytes",
	    pc->cache_entries, agg_memory(s->table));
	if (!pc->output_file) {
		if (p->core->daemonize) {
			log_err(p->who, "no print_output_file defined and daemonize is set: output to stdout is not possible");
			return -1;
		}
		log_warnx(p->who, "no print_output_file and no print_output_lock_file defined.");
	}
	return 0;
}

static void account_part(void *table, int64_t bin, const struct flow_rec *part)
{
	agg_account(table, part, bin);
}

static void print_record(struct plugin *p, const struct flow_rec *rec)
{
	struct print_state *s = p->state;

	if (s->pro_rating) {
		prorate_each(&s->bins, rec, account_part, s->table);
		return;
	}
	int64_t bin = p->cfg->history.n ? timebin_of(&s->bins, rec->ts.sec) : 0;
	if (s->stitching)
		stitch_account(&s->stitch, s->table, rec, bin);
	else
		agg_account(s->table, rec, bin);
}

/* mkdir -p for the directories of `path`. */
static void make_parents(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *q = tmp + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(tmp, 0777) < 0 && errno != EEXIST)
			return;
		*q = '/';
	}
}

static void expand_file_name(const struct plugin *p, const struct flow_key *k, int64_t bin,
    char *out, size_t len)
{
	const struct plugin_cfg *pc = p->cfg;
	struct timefmt_vars v = {
		.refresh = pc->refresh_time,
		.history = pc->history.secs,
		.tag = k->tag, .tag2 = k->tag2,
		.post_tag = pc->post_tag, .post_tag2 = pc->post_tag2,
		.utc = p->core->timestamps_utc,
	};
	time_t t = pc->history.n ? (time_t)bin : wall_now();
	timefmt_expand(out, len, pc->output_file, t, &v);
}

/* Write the title line unless appending to a file that already has content. */
static FILE *open_output(struct plugin *p, const char *name, bool *title)
{
	struct stat st;
	FILE *f;

	*title = true;
	if (!name)
		return stdout;
	make_parents(name);
	if (p->cfg->output_file_append && stat(name, &st) == 0 && st.st_size > 0)
		*title = false;
	f = fopen(name, p->cfg->output_file_append ? "a" : "w");
	if (!f)
		log_err(p->who, "cannot open print_output_file '%s': %s", name, strerror(errno));
	else
		setvbuf(f, NULL, _IOFBF, 256 * 1024);	/* a purge writes many short rows */
	return f;
}

static void update_latest(struct plugin *p, const char *name)
{
	char abs[PATH_MAX], tmp[PATH_MAX + 16];

	if (!p->cfg->latest_file || !realpath(name, abs))
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", p->cfg->latest_file, (int)getpid());
	make_parents(p->cfg->latest_file);
	unlink(tmp);
	if (symlink(abs, tmp) < 0 || rename(tmp, p->cfg->latest_file) < 0) {
		log_warnx(p->who, "cannot update print_latest_file '%s': %s", p->cfg->latest_file,
		    strerror(errno));
		unlink(tmp);
	}
}

static void write_markers(FILE *f, const struct plugin *p, bool start, size_t purged, size_t total,
    time_t duration)
{
	const struct print_state *s = p->state;
	if (s->opts.fmt == OUT_JSON) {
		char wid[256];
		/* pmacct master's print plugin ignores writer_id_string (Kafka / AMQP only) */
		out_writer_id(NULL, p->cfg->name, (long)getpid(), wid, sizeof(wid));
		if (start)
			fprintf(f, "{\"event_type\": \"purge_init\", \"writer_id\": \"%s\"}\n", wid);
		else
			fprintf(f, "{\"event_type\": \"purge_close\", \"writer_id\": \"%s\", "
			    "\"purged_entries\": %zu, \"total_entries\": %zu, \"duration\": %ld}\n",
			    wid, purged, total, (long)duration);
	} else {
		fprintf(f, start ? "--START (%d)--\n" : "--END (%d)--\n", (int)getpid());
	}
}

/*
 * Write every entry whose expanded file name equals `name` (all entries
 * when the name has no variables) and mark them written.  Returns the count.
 */
static size_t write_group(struct plugin *p, FILE *f, const char *name, bool *done, time_t now)
{
	struct print_state *s = p->state;
	struct flow_key k;
	char other[PATH_MAX];
	size_t n = 0, i = 0;

	for (struct agg_entry *e = agg_next(s->table, NULL); e; e = agg_next(s->table, e), i++) {
		if (done[i])
			continue;
		agg_entry_key(s->table, e, &k);
		if (s->dyn_name) {
			expand_file_name(p, &k, e->bin, other, sizeof(other));
			if (strcmp(other, name))
				continue;
		}
		struct out_counters c = { e->packets, e->bytes, e->flows, e->tcp_flags, e->bin, now };
		if (s->stitching)
			out_row_stitch(f, &s->cols, &s->opts, &k, &c, &stitch_of(s->table, e)->min,
			    &stitch_of(s->table, e)->max);
		else
			out_row(f, &s->cols, &s->opts, &k, &c);
		done[i] = true;
		n++;
	}
	return n;
}

static void run_trigger(struct plugin *p)
{
	pid_t pid;
	if (!p->cfg->trigger_exec)
		return;
	pid = fork();
	if (pid == 0) {
		/* double fork so that the plugin never waits for the trigger */
		if (fork() == 0) {
			execl(p->cfg->trigger_exec, p->cfg->trigger_exec, (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	else
		log_warnx(p->who, "cannot run print_trigger_exec '%s': %s", p->cfg->trigger_exec,
		    strerror(errno));
}

static void print_purge(struct plugin *p)
{
	struct print_state *s = p->state;
	size_t total = agg_count(s->table), written = 0;
	time_t start = wall_now();
	bool *done = xcalloc(total + 1, sizeof(bool));
	struct flow_key k;
	char name[PATH_MAX];
	size_t i = 0;

	name[0] = '\0';
	log_info(p->who, "*** Purging cache - START (PID: %d) ***", (int)getpid());
	for (struct agg_entry *e = agg_next(s->table, NULL); e; e = agg_next(s->table, e), i++) {
		bool title;
		FILE *f;
		if (done[i])
			continue;
		agg_entry_key(s->table, e, &k);
		if (p->cfg->output_file)
			expand_file_name(p, &k, e->bin, name, sizeof(name));
		f = open_output(p, p->cfg->output_file ? name : NULL, &title);
		if (!f)
			break;
		if (p->cfg->markers)
			write_markers(f, p, true, 0, 0, 0);
		if (title)
			out_header(f, &s->cols, &s->opts);
		size_t n = write_group(p, f, name, done, start);
		written += n;
		if (p->cfg->markers)
			write_markers(f, p, false, n, total, wall_now() - start);
		if (f != stdout) {
			fclose(f);
			update_latest(p, name);
		} else {
			fflush(f);
		}
		if (!s->dyn_name)
			break;	/* one output: the group held every entry */
	}
	if (!total && p->cfg->output_file && p->cfg->write_empty_file) {
		bool title;
		struct flow_key z = { 0 };
		expand_file_name(p, &z, 0, name, sizeof(name));
		FILE *f = open_output(p, name, &title);
		if (f) {
			if (title)
				out_header(f, &s->cols, &s->opts);
			fclose(f);
		}
	}
	free(done);
	agg_clear(s->table);
	if (total)
		log_info(p->who, "*** Purging cache - END (PID: %d, QN: %zu/%zu, ET: %ld) ***",
		    (int)getpid(), written, total, (long)(wall_now() - start));
	else
		log_info(p->who, "*** Purging cache - END (PID: %d, QN: 0/0, ET: X) ***", (int)getpid());
	run_trigger(p);
}

static int print_next_tick_ms(struct plugin *p)
{
	struct print_state *s = p->state;
	time_t now = wall_now();
	return now >= s->deadline ? 0 : (int)(s->deadline - now) * 1000;
}

static void print_tick(struct plugin *p)
{
	struct print_state *s = p->state;
	uint64_t t0 = plugin_now_us();
	print_purge(p);
	plugin_flush_done(p, t0, true);
	s->deadline = (time_t)timefmt_deadline_next(s->deadline, wall_now(), p->cfg->refresh_time);
}

static void print_flush(struct plugin *p)
{
	uint64_t t0 = plugin_now_us();
	print_purge(p);
	plugin_flush_done(p, t0, true);
}

static void print_fini(struct plugin *p)
{
	struct print_state *s = p->state;
	if (!s)
		return;
	agg_free(s->table);
	free(s);
	p->state = NULL;
}

const struct plugin_type print_plugin_type = {
	.name = "print",
	.daemons = SRC_ALL,
	.init = print_init,
	.record = print_record,
	.next_tick_ms = print_next_tick_ms,
	.tick = print_tick,
	.flush = print_flush,
	.fini = print_fini,
};
