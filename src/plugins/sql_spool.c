/* SPDX-License-Identifier: BSD-3-Clause */
/* sql_spool.c: rows kept on disk while the database is away, and the purge kept apart after an unacknowledged COMMIT. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "plugins/stitch.h"
#include "plugins/sql_write.h"

/*
 * Spool file: a header, then fixed-size records (bin, counters, full key),
 * each followed by its struct stitch_ts with stitching (another header).
 * The kept-apart purge's file (<spool>.doubt) has its own header, then the
 * purge's id and time, then the same records.
 */
static const char spool_magic[8] = "PMNGSQL1";
static const char spool_magic_stitch[8] = "PMNGSQLS";
static const char doubt_magic[8] = "PMNGSQD1";
static const char doubt_magic_stitch[8] = "PMNGSQDS";

struct spool_rec {
	int64_t bin;
	uint64_t packets, bytes, flows;
	uint8_t tcp_flags;
	uint8_t pad[7];
	struct flow_key k;
};

struct doubt_head {
	char writer[SQL_WRITER_MAX];
	uint64_t seq;
	int64_t now;
};

static const char *spool_header(const struct sql_ctx *c)
{
	return c->schema.stitch ? spool_magic_stitch : spool_magic;
}

static const char *doubt_header(const struct sql_ctx *c)
{
	return c->schema.stitch ? doubt_magic_stitch : doubt_magic;
}

static void doubt_path(const struct sql_ctx *c, char *out, size_t len)
{
	snprintf(out, len, "%s.doubt", c->spool);
}

/* Add one entry (counters, and stitching times) into t. */
static void add_entry(struct sql_ctx *c, struct agg_table *t, const struct flow_key *k, int64_t bin,
    uint64_t packets, uint64_t bytes, uint64_t flows, uint8_t tcp_flags, const struct stitch_ts *st)
{
	size_t before = agg_count(t);
	struct agg_entry *e = agg_upsert(t, k, bin);

	if (!e)
		return;
	if (c->schema.stitch) {
		struct stitch_ts *et = agg_entry_ext(t, e);
		if (agg_count(t) != before) {
			*et = *st;
		} else {
			if (fr_ts_before(&st->min, &et->min))
				et->min = st->min;
			if (fr_ts_before(&et->max, &st->max))
				et->max = st->max;
		}
	}
	e->packets += packets;
	e->bytes += bytes;
	e->flows += flows;
	e->tcp_flags |= tcp_flags;
}

/* Every entry of t as records; the caller checks the stream. Returns the count. */
static size_t rows_write(const struct sql_ctx *c, const struct agg_table *t, FILE *f)
{
	struct spool_rec r;
	size_t n = 0;

	for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e), n++) {
		memset(&r, 0, sizeof(r));
		r.bin = e->bin;
		r.packets = e->packets;
		r.bytes = e->bytes;
		r.flows = e->flows;
		r.tcp_flags = e->tcp_flags;
		agg_entry_key(t, e, &r.k);
		fwrite(&r, sizeof(r), 1, f);
		if (c->schema.stitch)
			fwrite(stitch_of(t, e), sizeof(struct stitch_ts), 1, f);
	}
	return n;
}

/* Records of f into t, up to `max` of them (0: to the end). Returns the count. */
static size_t rows_read(struct sql_ctx *c, struct agg_table *t, FILE *f, size_t max)
{
	struct spool_rec r;
	struct stitch_ts st = { 0 };
	size_t n = 0;

	while ((!max || n < max) && fread(&r, sizeof(r), 1, f) == 1) {
		if (c->schema.stitch && fread(&st, sizeof(st), 1, f) != 1)
			break;
		add_entry(c, t, &r.k, r.bin, r.packets, r.bytes, r.flows, r.tcp_flags, &st);
		n++;
	}
	return n;
}

static int stream_sync(FILE *f)
{
	return fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0 ? -1 : 0;
}

int sql_spool_write(struct sql_ctx *c, struct agg_table *t)
{
	FILE *f = fopen(c->spool, "ab");
	size_t n;

	if (!f) {
		log_err(c->who, "cannot open spool file '%s': %s; keeping %zu entries in memory",
		    c->spool, strerror(errno), agg_count(t));
		return -1;
	}
	if (ftell(f) == 0)
		fwrite(spool_header(c), 1, sizeof(spool_magic), f);
	n = rows_write(c, t, f);
	if (stream_sync(f) < 0) {
		log_err(c->who, "cannot write spool file '%s': %s; keeping entries in memory",
		    c->spool, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	log_warnx(c->who, "database unavailable: %zu entries spooled to '%s'", n, c->spool);
	agg_clear(t);
	return 0;
}

/*
 * What is left of f after the rows read: copied under a new spool file that
 * replaces the old one (the rows read are in memory now, as the whole
 * spool was before).  0, or -1 with the old spool left whole.
 */
static int keep_rest(struct sql_ctx *c, FILE *f)
{
	char tmp[PATH_MAX + 8], buf[65536];
	size_t n;
	int rc = 0;
	FILE *o;

	snprintf(tmp, sizeof(tmp), "%s.tmp", c->spool);
	if (!(o = fopen(tmp, "wb")))
		return -1;
	fwrite(spool_header(c), 1, sizeof(spool_magic), o);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (fwrite(buf, 1, n, o) != n)
			rc = -1;
	if (ferror(f) || stream_sync(o) < 0)
		rc = -1;
	if (fclose(o) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, c->spool) == 0)
		return 0;
	unlink(tmp);
	return -1;
}

bool sql_spool_read(struct sql_ctx *c, struct agg_table *t)
{
	FILE *f = fopen(c->spool, "rb");
	char magic[sizeof(spool_magic)];
	size_t n, max = c->spool_max;
	int more;

	if (!f)
		return false;
	if (fread(magic, 1, sizeof(magic), f) != sizeof(magic) ||
	    memcmp(magic, spool_header(c), sizeof(magic))) {
		log_err(c->who, "spool file '%s' is not ours: left alone", c->spool);
		fclose(f);
		return false;
	}
	/* at most spool_max rows a purge: a long outage's spool is read back in parts */
	n = rows_read(c, t, f, max);
	more = max && n == max ? fgetc(f) : EOF;
	if (more == EOF) {
		fclose(f);
		unlink(c->spool);
		log_info(c->who, "%zu spooled entries read back from '%s'", n, c->spool);
		return false;
	}
	ungetc(more, f);
	if (keep_rest(c, f) < 0) {
		/* as before parts: the whole spool in memory, spooled again if this purge fails */
		log_err(c->who, "cannot rewrite spool file '%s' without the rows read back: reading "
		    "it whole", c->spool);
		n += rows_read(c, t, f, 0);
		fclose(f);
		unlink(c->spool);
		return false;
	}
	fclose(f);
	log_info(c->who, "%zu spooled entries read back from '%s', the rest after them", n, c->spool);
	return true;
}

static struct agg_table *doubt_table(struct sql_ctx *c)
{
	if (!c->doubt)
		c->doubt = agg_new_ext(c->pc->prims, c->agg, 4099, c->schema.stitch ? sizeof(struct stitch_ts) : 0);
	return c->doubt;
}

void sql_doubt_keep(struct sql_ctx *c, struct agg_table *t, const struct sql_purge_id *id,
    time_t now)
{
	struct agg_table *d = doubt_table(c);
	struct flow_key k;
	struct stitch_ts none = { 0 };

	memset(&k, 0, sizeof(k));
	for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e)) {
		agg_entry_span(t, e, &k);
		add_entry(c, d, &k, e->bin, e->packets, e->bytes, e->flows, e->tcp_flags,
		    c->schema.stitch ? stitch_of(t, e) : &none);
	}
	agg_clear(t);
	c->doubt_id = *id;
	c->doubt_now = now;
}

int sql_doubt_save(struct sql_ctx *c)
{
	char path[PATH_MAX + 8], tmp[PATH_MAX + 16];
	struct doubt_head h = { .seq = c->doubt_id.seq, .now = c->doubt_now };
	FILE *f;
	size_t n;

	if (!c->doubt || agg_count(c->doubt) == 0)
		return 0;
	doubt_path(c, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(h.writer, sizeof(h.writer), "%s", c->doubt_id.writer);
	f = fopen(tmp, "wb");
	if (!f) {
		log_err(c->who, "cannot open '%s': %s; %zu entries of purge %s#%llu lost", tmp,
		    strerror(errno), agg_count(c->doubt), h.writer, (unsigned long long)h.seq);
		return -1;
	}
	fwrite(doubt_header(c), 1, sizeof(doubt_magic), f);
	fwrite(&h, sizeof(h), 1, f);
	n = rows_write(c, c->doubt, f);
	if (stream_sync(f) < 0 || fclose(f) != 0 || rename(tmp, path) < 0) {
		log_err(c->who, "cannot write '%s': %s; %zu entries of purge %s#%llu lost", path,
		    strerror(errno), n, h.writer, (unsigned long long)h.seq);
		unlink(tmp);
		return -1;
	}
	log_warnx(c->who, "purge %s#%llu (%zu entries, COMMIT unacknowledged) saved to '%s': "
	    "the next run applies it unless its id is recorded", h.writer,
	    (unsigned long long)h.seq, n, path);
	return 0;
}

void sql_doubt_load(struct sql_ctx *c)
{
	char path[PATH_MAX + 8], magic[sizeof(doubt_magic)];
	struct doubt_head h;
	FILE *f;
	size_t n;

	if (c->doubt_loaded)
		return;
	c->doubt_loaded = true;
	doubt_path(c, path, sizeof(path));
	f = fopen(path, "rb");
	if (!f)
		return;
	if (fread(magic, 1, sizeof(magic), f) != sizeof(magic) ||
	    memcmp(magic, doubt_header(c), sizeof(magic)) || fread(&h, sizeof(h), 1, f) != 1) {
		log_err(c->who, "'%s' is not ours: left alone", path);
		fclose(f);
		return;
	}
	h.writer[sizeof(h.writer) - 1] = '\0';
	n = rows_read(c, doubt_table(c), f, 0);
	fclose(f);
	snprintf(c->doubt_id.writer, sizeof(c->doubt_id.writer), "%s", h.writer);
	c->doubt_id.seq = h.seq;
	c->doubt_now = (time_t)h.now;
	log_info(c->who, "purge %s#%llu (%zu entries, COMMIT unacknowledged) read back from '%s'",
	    h.writer, (unsigned long long)h.seq, n, path);
}

void sql_doubt_drop(struct sql_ctx *c)
{
	char path[PATH_MAX + 8];

	if (c->doubt)
		agg_clear(c->doubt);
	doubt_path(c, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn(c->who, "cannot remove '%s'", path);
}
