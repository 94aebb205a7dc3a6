/* SPDX-License-Identifier: BSD-3-Clause */
/* print.c: the print plugin: aggregate in memory, write formatted/CSV/JSON to stdout or files every print_refresh_time. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/timefmt.h"
#include "lib/xalloc.h"
#include "model/gauge.h"
#include "plugins/agg.h"
#include "plugins/binned.h"
#include "plugins/output.h"
#include "plugins/plugin.h"
#include "plugins/print.h"

struct print_state {
	struct binned b;		/* the cache, time-bins, next purge */
	struct out_cols cols;
	struct out_opts opts;
	bool dyn_name;			/* output file name has variables */
	size_t kept;			/* rows a failed purge left in the table for the next one */
	char kept_name[PATH_MAX];	/* where the last failed group was meant to go */
	size_t kept_files;		/* outputs that failed in the last purge */
};

static time_t wall_now(void)
{
	return time(NULL);
}

/*
 * errno of the reason `path` (print_output_file or print_latest_file, with
 * its variables) cannot be written, or 0.  Only the part before the first
 * variable is known now: its directory is checked, and the file itself
 * when the name has no variables (`replaced`: the file is replaced by a
 * rename, print_latest_file, so only a directory in its place is wrong).
 */
static int path_check(const char *path, bool replaced)
{
	size_t fixed = strcspn(path, "%$");
	char dir[PATH_MAX];
	struct stat st;

	char fixedpart[PATH_MAX];
	snprintf(fixedpart, sizeof(fixedpart), "%.*s", (int)fixed, path);
	fs_dirname(fixedpart, dir, sizeof(dir));
	if (path[fixed] == '\0' && stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return EISDIR;
		if (!replaced && faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) < 0)
			return errno;
	}
	return fs_dir_creatable(dir);
}

static int check_key(const struct plugin *p, const char *key, const char *path, bool replaced)
{
	int err = path ? path_check(path, replaced) : 0;

	if (!err)
		return 0;
	log_err(p->who, "[%s] key '%s': cannot write '%s': %s", cfg_where(&p->cfg->origin, key),
	    key, path, strerror(err));
	return -1;
}

int print_check(const struct plugin *p)
{
	const struct plugin_cfg *pc = p->cfg;
	int fl;

	if (check_key(p, "print_output_file", pc->output_file, false) < 0 ||
	    check_key(p, "print_latest_file", pc->latest_file, true) < 0)
		return -1;
	if (!pc->output_file && !p->core->daemonize &&
	    ((fl = fcntl(STDOUT_FILENO, F_GETFL)) < 0 || (fl & O_ACCMODE) == O_RDONLY)) {
		log_err(p->who, "no print_output_file and standard output is closed: the output "
		    "has nowhere to go");
		return -1;
	}
	return 0;
}

static size_t print_ceiling(const struct plugin *p)
{
	return binned_print_ceiling(p->cfg->cache_entries);
}

/* The cache, bounded as pmacct's (binned_print_ceiling), for SIGUSR1, /metrics and -T config. */
static void print_bounds(struct plugin *p)
{
	size_t n = print_ceiling(p);

	p->gauge = gauges_add(p->core->gauges, p->who, "cache", "print_cache_entries", GAUGE_PURGE,
	    n, binned_bytes_at(p, PRINT_BUCKETS(p), n));
}

static void print_purge(struct plugin *p);

/* The cache is full: write it out now (binned_set_ceiling). */
static void print_early(void *arg)
{
	struct plugin *p = arg;
	struct print_state *s = p->state;
	uint64_t t0 = clock_mono_us();

	if (p->cfg->output_file && !p->cfg->output_file_append)
		log_warnx(p->who, "Make sure print_output_file_append is set to true.");
	print_purge(p);
	plugin_flush_done(p, t0, !s->kept);
}

static int print_init(struct plugin *p)
{
	struct plugin_cfg *pc = p->cfg;
	struct print_state *s = xcalloc(1, sizeof(*s));

	p->state = s;
	binned_init(&s->b, p, PRINT_BUCKETS(p));
	binned_set_ceiling(&s->b, print_ceiling(p), "print_cache_entries", print_early, p, p->gauge);
	binned_out_init(&s->b, p, &s->cols, &s->opts);
	if (s->opts.label_map && s->opts.fmt != OUT_JSON)	/* as pmacct master */
		log_warnx(p->who, "Complex data types (ie. pre_tag_label_encode_as_map) not supported "
		    "by the selected print_output. Ignored.");
	if (binned_check(p) < 0)	/* here, not in print_check(): -T config lets print pass it */
		return -1;
	s->dyn_name = pc->output_file && (strchr(pc->output_file, '%') || strchr(pc->output_file, '$'));

	if (pc->output == OUT_FORMATTED || pc->output == OUT_EVENT_FORMATTED) {
		for (int i = 0; i < P_COUNT; i++) {
			const struct prim_desc *d = prim_desc_of(pc->prims, i);
			if (prim_has(&pc->aggregate, (enum prim_id)i) &&
			    ((d->flags & PRIM_VLEN) || (d->flags2 & PRIM_NO_FORMATTED))) {
				log_err(p->who, "variable-length primitives, ie. label as_path std_comm etc., "
				    "are not supported in print plugin with formatted output.");
				log_err(p->who, "Please switch to one of the other supported output formats "
				    "(ie. csv, json, avro). Exiting ..");
				return -1;
			}
		}
	}

	log_info(p->who, "cache entries=%zu base cache memory=%zu bytes",
	    PRINT_BUCKETS(p), binned_bytes_at(p, PRINT_BUCKETS(p), print_ceiling(p)));
	if (!pc->output_file) {
		if (p->core->daemonize) {
			log_err(p->who, "no print_output_file defined and daemonize is set: output to stdout is not possible");
			return -1;
		}
		log_warnx(p->who, "no print_output_file and no print_output_lock_file defined.");
	}
	return 0;
}

static void print_record(struct plugin *p, const struct flow_rec *rec)
{
	struct print_state *s = p->state;

	binned_account(&s->b, rec);
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

/*
 * One output of a purge: the stream, and where to take a failed write back
 * to, so that a purge that cannot be written leaves no partial rows behind
 * (they are written again, whole, by a later purge).
 */
struct print_out {
	const char *name;	/* NULL: stdout */
	FILE *f;
	off_t start;		/* size or offset before this purge; -1: cannot be taken back */
	bool title;		/* write the title line */
	int err;		/* errno of the first failure, 0 = none */
};

/* Where stdout stands now, if it is a regular file (else -1). */
static off_t stdout_start(void)
{
	struct stat st;
	int fl = fcntl(STDOUT_FILENO, F_GETFL);

	if (fl < 0 || fstat(STDOUT_FILENO, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	return (fl & O_APPEND) ? st.st_size : lseek(STDOUT_FILENO, 0, SEEK_CUR);
}

/* Open o->name (NULL: stdout). The title line goes unless appending to a file with content. */
static bool out_open(struct plugin *p, struct print_out *o)
{
	bool append = p->cfg->output_file_append;
	struct stat st;

	o->title = true;
	if (!o->name) {
		o->f = stdout;
		clearerr(stdout);
		o->start = stdout_start();
		return true;
	}
	make_parents(o->name);
	if (!(o->f = fopen(o->name, append ? "a" : "w"))) {
		o->err = errno;
		return false;
	}
	setvbuf(o->f, NULL, _IOFBF, 256 * 1024);	/* a purge writes many short rows */
	o->start = 0;
	if (append && fstat(fileno(o->f), &st) == 0) {
		o->start = st.st_size;
		o->title = st.st_size == 0;
	}
	return true;
}

/*
 * Take back what this purge wrote to o: a file written from its start is
 * removed (a partial file is no purge's output), an appended file or a
 * regular file on stdout is cut back to its size before the purge.
 */
static void out_take_back(struct plugin *p, struct print_out *o)
{
	int fd = fileno(o->f);

	__fpurge(o->f);		/* the rows still buffered are dropped, not written */
	clearerr(o->f);
	if (o->name && !p->cfg->output_file_append)
		unlink(o->name);
	else if (o->start >= 0 && ftruncate(fd, o->start) == 0)
		lseek(fd, o->start, SEEK_SET);
}

/* Flush and close o (stdout stays open). false, with o->err set, when a row did not get through. */
static bool out_close(struct plugin *p, struct print_out *o)
{
	errno = 0;
	if (fflush(o->f) == EOF || ferror(o->f) || o->err) {
		if (!o->err)
			o->err = errno ? errno : EIO;
		out_take_back(p, o);
		if (o->name)
			fclose(o->f);
		return false;
	}
	if (o->name && fclose(o->f) == EOF) {	/* NFS and the like report late */
		o->err = errno;
		if (!p->cfg->output_file_append)
			unlink(o->name);
		else if (truncate(o->name, o->start) < 0)
			log_warn(p->who, "cannot cut '%s' back to its size before the purge", o->name);
		return false;
	}
	return true;
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
		log_warn(p->who, "cannot update print_latest_file '%s'", p->cfg->latest_file);
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
 * Put every entry not yet grouped whose expanded file name equals `name`
 * (every entry when the name has no variables) in group g and write it to
 * o (NULL: the output did not open; the rows are only grouped).  Returns
 * the count.  A write error stops the writing, not the grouping.
 */
static size_t write_group(struct plugin *p, struct print_out *o, const char *name, uint32_t *grp,
    uint32_t g, time_t now)
{
	struct print_state *s = p->state;
	struct flow_key k;
	char other[PATH_MAX];
	size_t n = 0, i = 0;

	memset(&k, 0, sizeof(k));

	for (struct agg_entry *e = agg_next(s->b.table, NULL); e; e = agg_next(s->b.table, e), i++) {
		if (grp[i])
			continue;
		agg_entry_span(s->b.table, e, &k);
		if (s->dyn_name) {
			expand_file_name(p, &k, e->bin, other, sizeof(other));
			if (strcmp(other, name))
				continue;
		}
		grp[i] = g;
		n++;
		if (!o || o->err)
			continue;
		binned_row(&s->b, o->f, &s->cols, &s->opts, e, &k, now);
		if (ferror(o->f))
			o->err = errno ? errno : EIO;
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
		log_warn(p->who, "cannot run print_trigger_exec '%s'", p->cfg->trigger_exec);
}

/* How a log line names an output: "print_output_file '<name>'" or "standard output". */
static void out_label(const char *name, char *buf, size_t len)
{
	if (name)
		snprintf(buf, len, "print_output_file '%s'", name);
	else
		snprintf(buf, len, "standard output");
}

/* Write group g, the entries going to `name` (NULL: stdout); true when delivered. *n: its rows. */
static bool purge_group(struct plugin *p, const char *name, uint32_t *grp, uint32_t g,
    size_t total, time_t start, size_t *n)
{
	struct print_state *s = p->state;
	struct print_out o = { .name = name };
	bool opened = out_open(p, &o);
	char what[PATH_MAX + 32];

	if (opened) {
		if (!name)	/* plugins are threads: another's rows must not land inside ours */
			flockfile(stdout);
		if (p->cfg->markers)
			write_markers(o.f, p, true, 0, 0, 0);
		if (o.title)
			out_header(o.f, &s->cols, &s->opts);
	}
	*n = write_group(p, opened ? &o : NULL, name, grp, g, start);
	if (opened) {
		if (p->cfg->markers)
			write_markers(o.f, p, false, *n, total, wall_now() - start);
		bool ok = out_close(p, &o);

		if (!name)
			funlockfile(stdout);
		if (ok) {
			if (name)
				update_latest(p, name);
			return true;
		}
	}
	out_label(name, what, sizeof(what));
	log_err(p->who, "cannot write %s: %s: %zu rows kept for the next purge", what,
	    strerror(o.err), *n);
	return false;
}

/* After a purge with failed groups: drop the entries written, keep those of the groups in `bad`. */
static void keep_failed(struct agg_table *t, const uint32_t *grp, const bool *bad)
{
	size_t i = 0;

	for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e), i++)
		if (!bad[grp[i]])
			agg_delete(t, e);	/* the slot stays in place: the walk goes on */
}

/* print_write_empty_file: a purge with no entries still leaves a file with the title. */
static void write_empty(struct plugin *p)
{
	struct print_state *s = p->state;
	struct flow_key z = { 0 };
	char name[PATH_MAX];
	struct print_out o = { .name = name };

	expand_file_name(p, &z, 0, name, sizeof(name));
	if (out_open(p, &o)) {
		if (o.title)
			out_header(o.f, &s->cols, &s->opts);
		if (out_close(p, &o))
			return;
	}
	log_err(p->who, "cannot write print_output_file '%s': %s", name, strerror(o.err));
}

/*
 * Write the table: one output per file name (one in all without variables).
 * Entries whose output fails stay in the table, so that the next purge
 * writes them with what came since (counters added, each time-bin to its
 * own file); the QN line counts only rows delivered.
 */
static void print_purge(struct plugin *p)
{
	struct print_state *s = p->state;
	size_t total = agg_count(s->b.table), written = 0, kept = 0, failed = 0, i = 0;
	time_t start = wall_now();

	binned_publish(&s->b);	/* its fill before the purge: the peak is there */
	uint32_t *grp = xcalloc(total + 1, sizeof(*grp)), g = 0;
	bool *bad = xcalloc(total + 2, sizeof(*bad));
	struct flow_key k;
	char name[PATH_MAX];

	memset(&k, 0, sizeof(k));
	name[0] = '\0';
	log_info(p->who, "*** Purging cache - START (PID: %d) ***", (int)getpid());
	for (struct agg_entry *e = agg_next(s->b.table, NULL); e; e = agg_next(s->b.table, e), i++) {
		size_t n;
		if (grp[i])
			continue;
		agg_entry_span(s->b.table, e, &k);
		if (p->cfg->output_file)
			expand_file_name(p, &k, e->bin, name, sizeof(name));
		if (purge_group(p, p->cfg->output_file ? name : NULL, grp, ++g, total, start, &n)) {
			written += n;
		} else {
			bad[g] = true;
			kept += n;
			failed++;
			out_label(p->cfg->output_file ? name : NULL, s->kept_name, sizeof(s->kept_name));
		}
		if (!s->dyn_name)
			break;	/* one output: the group held every entry */
	}
	if (!total && p->cfg->output_file && p->cfg->write_empty_file)
		write_empty(p);
	if (kept)
		keep_failed(s->b.table, grp, bad);
	else
		agg_clear(s->b.table);
	free(grp);
	free(bad);
	if (s->kept && !kept)
		log_info(p->who, "output delivered again: %zu rows written, with those kept since the "
		    "first failed purge", written);
	s->kept = kept;
	s->kept_files = failed;
	if (total)
		log_info(p->who, "*** Purging cache - END (PID: %d, QN: %zu/%zu, ET: %ld) ***",
		    (int)getpid(), written, total, (long)(wall_now() - start));
	else
		log_info(p->who, "*** Purging cache - END (PID: %d, QN: 0/0, ET: X) ***", (int)getpid());
	binned_publish(&s->b);
	run_trigger(p);
}

static int print_next_tick_ms(struct plugin *p)
{
	struct print_state *s = p->state;

	return binned_next_tick_ms(&s->b);
}

static void print_tick(struct plugin *p)
{
	struct print_state *s = p->state;
	uint64_t t0 = clock_mono_us();
	print_purge(p);
	plugin_flush_done(p, t0, !s->kept);
	binned_deadline_next(&s->b, p->cfg->refresh_time);
}

/* The last purge, at shutdown: rows it could not write are reported as undelivered. */
static void print_flush(struct plugin *p)
{
	struct print_state *s = p->state;
	uint64_t t0 = clock_mono_us();

	print_purge(p);
	plugin_flush_done(p, t0, !s->kept);
	if (!s->kept)
		return;
	p->undelivered = s->kept;
	if (s->kept_files > 1)
		log_err(p->who, "%zu rows not delivered: they were meant for %s and %zu other outputs",
		    s->kept, s->kept_name, s->kept_files - 1);
	else
		log_err(p->who, "%zu rows not delivered: they were meant for %s", s->kept, s->kept_name);
}

static void print_fini(struct plugin *p)
{
	struct print_state *s = p->state;
	if (!s)
		return;
	binned_fini(&s->b);
	free(s);
	p->state = NULL;
}

const struct plugin_type print_plugin_type = {
	.name = "print",
	.daemons = SRC_ALL,
	.binned = true,
	.check = print_check,
	.bounds = print_bounds,
	.init = print_init,
	.record = print_record,
	.next_tick_ms = print_next_tick_ms,
	.tick = print_tick,
	.flush = print_flush,
	.fini = print_fini,
};
