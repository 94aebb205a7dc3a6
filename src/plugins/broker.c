/* SPDX-License-Identifier: BSD-3-Clause */
/* broker.c: the kafka/amqp delivery queue: bounded in memory, spooled to disk beyond, a thread that (re)delivers. */
#include "broker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/timefmt.h"
#include "lib/xalloc.h"
#include "model/gauge.h"
#include "plugins/agg.h"
#include "plugins/binned.h"
#include "plugins/output.h"
#include "plugins/plugin.h"

#define BROKER_BATCH 5000		/* messages per publish() call unless the backend says */
#define BROKER_BACKOFF_MAX 30		/* seconds between reconnects, at most (first: 1) */
#define BROKER_IDLE_MS 1000		/* idle hook period */

struct broker {
	char who[96];
	const struct broker_backend *be;
	void *ctx;

	pthread_mutex_t mu;
	pthread_cond_t cv;		/* work queued, or stop */
	pthread_t thread;
	bool started, stop, connected;
	time_t deadline;		/* shutdown: give up delivering after this */

	struct broker_msg *head, *tail;	/* in memory, oldest first */
	size_t n, max;
	size_t bytes;			/* of the n messages in memory */
	struct table_gauge *gauge;	/* the queue's fill, NULL = unreported */

	char *spool_path;
	FILE *spool;			/* NULL until first needed */
	off_t rd_off, wr_off;		/* [rd_off, wr_off) not yet read back */
	off_t done_off;			/* messages before it delivered (the header's copy) */
	size_t spool_n;			/* messages in that range */

	struct broker_stats st;
	struct timespec t_first, t_last;	/* first put, last delivery (throughput log) */
	time_t fail_logged;		/* rate limit of "broker unavailable" */
	uint64_t fail_since_log;
};

struct broker_msg *broker_msg_new(const char *key, const char *pkey, const char *id,
    const char *data, size_t len)
{
	size_t kl = strlen(key), pl = pkey ? strlen(pkey) : 0, il = id ? strlen(id) : 0;
	struct broker_msg *m = xmalloc(sizeof(*m) + kl + pl + il + len + 4);
	char *q = m->buf;

	m->next = NULL;
	m->sent = false;
	m->unconfirmed = false;
	m->spool_off = -1;
	m->klen = (uint32_t)kl;
	m->pklen = (uint32_t)pl;
	m->idlen = (uint32_t)il;
	m->len = (uint32_t)len;
	memcpy(q, key, kl + 1);
	m->key = q;
	q += kl + 1;
	m->pkey = pkey ? memcpy(q, pkey, pl + 1) : NULL;
	q += pl + 1;
	m->id = id ? memcpy(q, id, il + 1) : NULL;
	q += il + 1;
	memcpy(q, data, len);
	q[len] = '\0';
	m->data = q;
	return m;
}

int broker_id_split(const char *id, size_t *wid_len, uint64_t *seq, uint64_t *index)
{
	const char *c2 = id ? strrchr(id, ':') : NULL, *c1 = c2;
	char *end;

	while (c1 && c1 > id && *--c1 != ':')
		;
	if (!c2 || !c1 || *c1 != ':' || c1 == id)
		return -1;
	*seq = strtoull(c1 + 1, &end, 10);
	if (end != c2 || c1 + 1 == c2)
		return -1;
	*index = strtoull(c2 + 1, &end, 10);
	if (*end || !c2[1])
		return -1;
	*wid_len = (size_t)(c1 - id);
	return 0;
}

/*
 * --- spool file ---
 *
 * A header: SPOOL_MAGIC, then a u64 offset: the messages before it were
 * delivered (rewritten after each delivery from the spool, so that a
 * daemon killed while reading a spool back does not deliver them again
 * at the next start).  Then per message: u32 klen, u32 pklen, u32 idlen
 * (UINT32_MAX = none for those two), u32 len, then the bytes.  A spool of
 * an earlier version (no header, no id: u32 klen, pklen, len) is
 * converted when found.
 */

#define SPOOL_MAGIC "PMNGSPL2"
#define SPOOL_HDR 16			/* magic + u64 delivered offset */
#define SPOOL_NONE UINT32_MAX

static int spool_write_hdr(FILE *f, uint64_t done)
{
	char h[SPOOL_HDR];

	memcpy(h, SPOOL_MAGIC, 8);
	memcpy(h + 8, &done, 8);
	return pwrite(fileno(f), h, sizeof(h), 0) == (ssize_t)sizeof(h) ? 0 : -1;
}

/* Record the delivered offset; the file is flushed before so the two writers never overlap. */
static void spool_set_done(struct broker *b, off_t done)
{
	if (done <= b->done_off)
		return;
	b->done_off = done;
	if (fflush(b->spool) != 0 || spool_write_hdr(b->spool, (uint64_t)done) < 0)
		log_warn(b->who, "cannot update spool file '%s'", b->spool_path);
}

static int spool_open(struct broker *b)
{
	if (b->spool)
		return 0;
	b->spool = fopen(b->spool_path, "w+");
	if (!b->spool || spool_write_hdr(b->spool, SPOOL_HDR) < 0) {
		log_warn(b->who, "cannot open spool file '%s'", b->spool_path);
		if (b->spool)
			fclose(b->spool);
		b->spool = NULL;
		return -1;
	}
	b->rd_off = b->wr_off = b->done_off = SPOOL_HDR;
	return 0;
}

static int spool_write(FILE *f, const struct broker_msg *m)
{
	uint32_t h[4] = { m->klen, m->pkey ? m->pklen : SPOOL_NONE, m->id ? m->idlen : SPOOL_NONE,
	    m->len };
	if (fwrite(h, sizeof(h), 1, f) != 1 || fwrite(m->key, 1, m->klen, f) != m->klen ||
	    (m->pkey && fwrite(m->pkey, 1, m->pklen, f) != m->pklen) ||
	    (m->id && fwrite(m->id, 1, m->idlen, f) != m->idlen) ||
	    fwrite(m->data, 1, m->len, f) != m->len)
		return -1;
	return 0;
}

/* One optional string of length n (SPOOL_NONE: absent, *s stays NULL); false on a short read. */
static bool read_str(FILE *f, uint32_t n, char **s)
{
	if (n == SPOOL_NONE)
		return true;
	*s = xcalloc(1, (size_t)n + 1);
	return fread(*s, 1, n, f) == n;
}

/*
 * Read one message at the current position (`v1`: the format without
 * header and id); NULL at the end or on a torn record.
 */
static struct broker_msg *spool_read(FILE *f, bool v1)
{
	uint32_t h[4];
	char *k = NULL, *pk = NULL, *id = NULL, *d = NULL;
	struct broker_msg *m = NULL;

	if (v1) {
		if (fread(h, sizeof(uint32_t), 3, f) != 3)
			return NULL;
		h[3] = h[2];
		h[2] = SPOOL_NONE;
	} else if (fread(h, sizeof(h), 1, f) != 1) {
		return NULL;
	}
	if (h[0] > (1u << 20) || (h[1] != SPOOL_NONE && h[1] > (1u << 20)) ||
	    (h[2] != SPOOL_NONE && h[2] > (1u << 20)) || h[3] > (1u << 30))
		return NULL;
	if (read_str(f, h[0], &k) && read_str(f, h[1], &pk) && read_str(f, h[2], &id) &&
	    read_str(f, h[3], &d))
		m = broker_msg_new(k, pk, id, d, h[3]);
	free(k);
	free(pk);
	free(id);
	free(d);
	return m;
}

/* Memory one message takes (broker_msg_new). */
static size_t msg_bytes(const struct broker_msg *m)
{
	return sizeof(*m) + m->klen + m->pklen + m->idlen + m->len + 4;
}

/* m joins (+1) or leaves (-1) the in-memory queue: counts and gauge. Lock held. */
static void queue_count(struct broker *b, const struct broker_msg *m, int dir)
{
	if (dir > 0) {
		b->n++;
		b->bytes += msg_bytes(m);
	} else {
		b->n--;
		b->bytes -= msg_bytes(m);
	}
	gauge_set(b->gauge, b->n, b->bytes);
}

/* Append m to the in-memory queue. Lock held. */
static void queue_append(struct broker *b, struct broker_msg *m)
{
	if (b->tail)
		b->tail->next = m;
	else
		b->head = m;
	b->tail = m;
	queue_count(b, m, +1);
}

/* Append m to the spool (m is freed). Called with the lock held. */
static void spool_put(struct broker *b, struct broker_msg *m)
{
	if (spool_open(b) == 0 && fseeko(b->spool, b->wr_off, SEEK_SET) == 0 &&
	    spool_write(b->spool, m) == 0 && fflush(b->spool) == 0) {
		b->wr_off = ftello(b->spool);
		b->spool_n++;
		b->st.spooled++;
	} else {
		/* a full disk: keep it in memory rather than lose it */
		log_warn(b->who, "cannot write spool file '%s', keeping the message in memory",
		    b->spool_path);
		queue_append(b, m);
		return;
	}
	free(m);
}

/* Read spooled messages back into memory, up to half the bound. Lock held. */
static void spool_reload(struct broker *b)
{
	size_t want = b->max / 2 ? b->max / 2 : 1;

	if (!b->spool || b->rd_off >= b->wr_off || fseeko(b->spool, b->rd_off, SEEK_SET) < 0)
		return;
	while (b->n < want && b->rd_off < b->wr_off) {
		struct broker_msg *m = spool_read(b->spool, false);
		if (!m) {
			log_warnx(b->who, "spool file '%s' is damaged at offset %lld: %zu messages lost",
			    b->spool_path, (long long)b->rd_off, b->spool_n);
			b->rd_off = b->wr_off;
			b->spool_n = 0;
			break;
		}
		m->spool_off = b->rd_off;
		b->rd_off = ftello(b->spool);
		if (b->spool_n)
			b->spool_n--;
		queue_append(b, m);
	}
}

/*
 * After a delivery: the spool's delivered offset is where the first
 * undelivered message read back from it starts (those are at the head of
 * the queue, in file order), else where reading stopped; a spool wholly
 * delivered starts again.  Lock held.
 */
static void spool_commit(struct broker *b)
{
	if (!b->spool)
		return;
	spool_set_done(b, b->head && b->head->spool_off >= 0 ? (off_t)b->head->spool_off : b->rd_off);
	if (b->done_off < b->wr_off || b->wr_off == SPOOL_HDR)
		return;
	if (ftruncate(fileno(b->spool), SPOOL_HDR) < 0 || spool_write_hdr(b->spool, SPOOL_HDR) < 0)
		log_warn(b->who, "cannot truncate spool file '%s'", b->spool_path);
	b->rd_off = b->wr_off = b->done_off = SPOOL_HDR;
	b->spool_n = 0;
}

/*
 * A new spool file "<spool_path>.tmp" (its name in tmp[len]) with its
 * header, positioned after it, for a spool rewritten whole; NULL when it
 * cannot be made (nothing left behind, errno kept).
 */
static FILE *spool_tmp_new(const struct broker *b, char *tmp, size_t len)
{
	FILE *f;
	int err;

	snprintf(tmp, len, "%s.tmp", b->spool_path);
	if (!(f = fopen(tmp, "w")))
		return NULL;
	if (spool_write_hdr(f, SPOOL_HDR) == 0 && fseeko(f, SPOOL_HDR, SEEK_SET) == 0)
		return f;
	err = errno;
	fclose(f);
	unlink(tmp);
	errno = err;
	return NULL;
}

/*
 * Close f, the spool_tmp_new() file `tmp`, and put it in the spool's
 * place when `rc` (its writes) is 0.  0, or -1 with tmp removed.
 */
static int spool_tmp_commit(const struct broker *b, FILE *f, const char *tmp, int rc)
{
	if (fclose(f) != 0 || rc < 0 || rename(tmp, b->spool_path) < 0) {
		int err = errno;
		unlink(tmp);
		errno = err;
		return -1;
	}
	return 0;
}

/* Convert a spool of the format without ids (v1) to the current one, in place. 0 or -1. */
static int spool_convert_v1(struct broker *b)
{
	char tmp[4096];
	struct broker_msg *m;
	FILE *f = spool_tmp_new(b, tmp, sizeof(tmp));
	int rc = 0;

	if (f) {
		rewind(b->spool);
		while (rc == 0 && (m = spool_read(b->spool, true))) {
			rc = spool_write(f, m);
			free(m);
		}
	}
	if (!f || spool_tmp_commit(b, f, tmp, rc) < 0) {
		log_warn(b->who, "cannot convert spool file '%s' of an earlier version", b->spool_path);
		return -1;
	}
	fclose(b->spool);
	b->spool = fopen(b->spool_path, "r+");
	return b->spool ? 0 : -1;
}

/* Open a spool left by an earlier run and count its undelivered messages. */
static void spool_recover(struct broker *b)
{
	struct stat sb;
	struct broker_msg *m;
	char hdr[SPOOL_HDR];
	uint64_t done;

	if (stat(b->spool_path, &sb) < 0 || sb.st_size == 0)
		return;
	if (!(b->spool = fopen(b->spool_path, "r+"))) {
		log_warn(b->who, "cannot open spool file '%s'", b->spool_path);
		return;
	}
	if (fread(hdr, sizeof(hdr), 1, b->spool) != 1 || memcmp(hdr, SPOOL_MAGIC, 8) != 0) {
		if (spool_convert_v1(b) < 0) {
			if (b->spool)
				fclose(b->spool);
			b->spool = NULL;
			return;
		}
		memcpy(hdr + 8, &(uint64_t){ SPOOL_HDR }, 8);
	}
	memcpy(&done, hdr + 8, 8);
	if (done < SPOOL_HDR || done > (uint64_t)sb.st_size) {
		log_warnx(b->who, "spool file '%s': delivered offset %llu out of range: delivering it all",
		    b->spool_path, (unsigned long long)done);
		done = SPOOL_HDR;
	}
	b->rd_off = b->done_off = (off_t)done;
	fseeko(b->spool, b->rd_off, SEEK_SET);
	while ((m = spool_read(b->spool, false))) {
		b->spool_n++;
		free(m);
	}
	b->wr_off = ftello(b->spool);
	fstat(fileno(b->spool), &sb);
	if (b->wr_off < sb.st_size)
		log_warnx(b->who, "spool file '%s': torn record at offset %lld ignored", b->spool_path,
		    (long long)b->wr_off);
	if (b->spool_n)
		log_info(b->who, "%zu undelivered messages from an earlier run in '%s': delivering them first",
		    b->spool_n, b->spool_path);
}

struct broker *broker_new(const char *who, const struct broker_backend *be, void *ctx,
    const char *spool_path, size_t queue_max)
{
	struct broker *b = xcalloc(1, sizeof(*b));

	snprintf(b->who, sizeof(b->who), "%s", who);
	b->be = be;
	b->ctx = ctx;
	b->max = broker_queue_bound(queue_max);
	b->spool_path = xstrdup(spool_path);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	spool_recover(b);
	if (b->spool_n)		/* the throughput log counts from here when nothing new is queued */
		clock_gettime(CLOCK_MONOTONIC, &b->t_first);
	return b;
}

void broker_set_gauge(struct broker *b, struct table_gauge *g)
{
	pthread_mutex_lock(&b->mu);
	b->gauge = g;
	gauge_set(g, b->n, b->bytes);
	pthread_mutex_unlock(&b->mu);
}

void broker_put(struct broker *b, const char *key, const char *pkey, const char *id,
    const char *data, size_t len)
{
	struct broker_msg *m = broker_msg_new(key, pkey, id, data, len);

	pthread_mutex_lock(&b->mu);
	if (!b->st.queued++)
		clock_gettime(CLOCK_MONOTONIC, &b->t_first);
	if (b->n >= b->max || b->rd_off < b->wr_off)
		spool_put(b, m);
	else
		queue_append(b, m);
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

struct broker_msg *broker_pop(struct broker *b)
{
	struct broker_msg *m;

	pthread_mutex_lock(&b->mu);
	if (!b->head)
		spool_reload(b);
	m = b->head;
	if (m) {
		b->head = m->next;
		if (!b->head)
			b->tail = NULL;
		queue_count(b, m, -1);
		m->next = NULL;
	}
	spool_commit(b);
	pthread_mutex_unlock(&b->mu);
	return m;
}

void broker_get_stats(struct broker *b, struct broker_stats *st)
{
	pthread_mutex_lock(&b->mu);
	*st = b->st;
	st->in_memory = b->n;
	st->on_disk = b->spool_n;
	pthread_mutex_unlock(&b->mu);
}

/* --- the delivery thread --- */

/* Take up to BROKER_BATCH messages off the head into v[]. Lock held. */
static size_t take_batch(struct broker *b, struct broker_msg **v)
{
	size_t n = 0;

	if (!b->head)
		spool_reload(b);
	size_t max = b->be->batch ? b->be->batch : BROKER_BATCH;

	while (b->head && n < max) {
		v[n++] = b->head;
		b->head = b->head->next;
		queue_count(b, v[n - 1], -1);
	}
	if (!b->head)
		b->tail = NULL;
	return n;
}

/*
 * Free what was sent; put the rest back at the head, in order, and say
 * when some of it may already be at the broker. Lock held. Returns unsent.
 */
static size_t settle_batch(struct broker *b, struct broker_msg **v, size_t n)
{
	struct broker_msg *back = NULL, **link = &back, *last = NULL;
	size_t unsent = 0, unconfirmed = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i]->sent) {
			b->st.delivered++;
			free(v[i]);
			continue;
		}
		unconfirmed += v[i]->unconfirmed;
		v[i]->unconfirmed = false;
		v[i]->next = NULL;
		*link = v[i];
		link = &v[i]->next;
		last = v[i];
		queue_count(b, v[i], +1);
		unsent++;
	}
	if (back) {
		last->next = b->head;
		b->head = back;
		if (!b->tail)
			b->tail = last;
		b->st.retried += unsent;
	}
	if (unconfirmed) {
		b->st.unconfirmed += unconfirmed;
		log_warnx(b->who, "%s: %zu messages went out without the broker's acknowledgement: "
		    "publishing them again, a consumer may get them twice (same message id)",
		    b->be->name, unconfirmed);
	}
	spool_commit(b);
	return unsent;
}

/*
 * Wait `ms` milliseconds; new messages do not cut it short, a shutdown
 * caps it at the shutdown deadline.  Lock held.
 */
static void backoff_wait(struct broker *b, unsigned ms)
{
	struct timespec ts;
	bool was_stop = b->stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	for (;;) {
		if (b->stop && b->deadline < ts.tv_sec) {
			ts.tv_sec = b->deadline;
			ts.tv_nsec = 0;
		}
		if (pthread_cond_timedwait(&b->cv, &b->mu, &ts) == ETIMEDOUT)
			return;
		if (b->stop != was_stop)
			was_stop = b->stop;	/* recompute the cap */
	}
}

static void log_unavailable(struct broker *b, size_t unsent)
{
	time_t now = time(NULL);

	b->fail_since_log += unsent;
	if (now - b->fail_logged < 60)
		return;
	log_warnx(b->who, "%s broker unavailable: %zu messages waiting in memory, %zu spooled to '%s'; "
	    "retrying", b->be->name, b->n, b->spool_n, b->spool_path);
	b->fail_logged = now;
	b->fail_since_log = 0;
}

/* Wait for work; false when the thread should end. Lock held. */
static bool wait_work(struct broker *b)
{
	for (;;) {
		bool empty = !b->head && b->rd_off >= b->wr_off;
		if (b->stop && (empty || time(NULL) >= b->deadline))
			return false;
		if (!empty)
			return true;
		if (b->connected && b->be->idle) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += BROKER_IDLE_MS / 1000;
			if (pthread_cond_timedwait(&b->cv, &b->mu, &ts) == ETIMEDOUT) {
				pthread_mutex_unlock(&b->mu);
				int rc = b->be->idle(b->ctx);
				pthread_mutex_lock(&b->mu);
				if (rc < 0) {
					b->be->disconnect(b->ctx);
					b->connected = false;
				}
			}
		} else {
			pthread_cond_wait(&b->cv, &b->mu);
		}
	}
}

static unsigned next_backoff(unsigned ms)
{
	return ms * 2 > BROKER_BACKOFF_MAX * 1000 ? BROKER_BACKOFF_MAX * 1000 : ms * 2;
}

static void *broker_main(void *arg)
{
	struct broker *b = arg;
	struct broker_msg **v = xmalloc((b->be->batch ? b->be->batch : BROKER_BATCH) * sizeof(*v));
	unsigned backoff = 1000;

	pthread_mutex_lock(&b->mu);
	while (wait_work(b)) {
		if (!b->connected) {
			pthread_mutex_unlock(&b->mu);
			int rc = b->be->connect(b->ctx);
			pthread_mutex_lock(&b->mu);
			if (rc < 0) {
				log_unavailable(b, 0);
				backoff_wait(b, backoff);
				backoff = next_backoff(backoff);
				continue;
			}
			if (b->fail_logged)
				log_info(b->who, "%s broker connected", b->be->name);
			b->connected = true;
		}
		size_t n = take_batch(b, v);
		pthread_mutex_unlock(&b->mu);
		int rc = b->be->publish(b->ctx, v, n);
		pthread_mutex_lock(&b->mu);
		size_t unsent = settle_batch(b, v, n);
		if (unsent < n)
			clock_gettime(CLOCK_MONOTONIC, &b->t_last);
		if (rc < 0) {
			b->be->disconnect(b->ctx);
			b->connected = false;
		}
		if (unsent == n && n) {
			/* no progress: back off, longer each time */
			log_unavailable(b, unsent);
			backoff_wait(b, backoff);
			backoff = next_backoff(backoff);
		} else {
			backoff = 1000;
			if (unsent)
				backoff_wait(b, 100);	/* partial: retry the rest soon */
		}
	}
	pthread_mutex_unlock(&b->mu);
	free(v);
	return NULL;
}

int broker_start(struct broker *b)
{
	if (pthread_create(&b->thread, NULL, broker_main, b) != 0) {
		log_warnx(b->who, "cannot start the delivery thread");
		return -1;
	}
	b->started = true;
	return 0;
}

/* Rewrite the spool as: what is in memory, then what the spool still holds. Lock held, thread ended. */
static int spool_keep(struct broker *b)
{
	char tmp[4096];
	FILE *f = spool_tmp_new(b, tmp, sizeof(tmp));
	int rc = 0;

	if (!f)
		return -1;
	for (struct broker_msg *m = b->head; m && rc == 0; m = m->next)
		rc = spool_write(f, m);
	if (b->spool && b->rd_off < b->wr_off && fseeko(b->spool, b->rd_off, SEEK_SET) == 0) {
		struct broker_msg *m;
		for (off_t o = b->rd_off; rc == 0 && o < b->wr_off && (m = spool_read(b->spool, false));
		    o = ftello(b->spool)) {
			rc = spool_write(f, m);
			free(m);
		}
	}
	return spool_tmp_commit(b, f, tmp, rc);
}

size_t broker_close(struct broker *b, unsigned wait_secs)
{
	size_t left;

	if (!b)
		return 0;
	pthread_mutex_lock(&b->mu);
	b->stop = true;
	b->deadline = time(NULL) + wait_secs;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	if (b->started)
		pthread_join(b->thread, NULL);
	if (b->connected)
		b->be->disconnect(b->ctx);

	left = b->n + b->spool_n;
	if (left && spool_keep(b) == 0)
		log_warnx(b->who, "%zu messages not delivered to the %s broker within %u seconds: kept in "
		    "'%s', delivered at the next start", left, b->be->name, wait_secs, b->spool_path);
	else if (left)
		log_warn(b->who, "%zu messages not delivered to the %s broker and not saved to '%s'",
		    left, b->be->name, b->spool_path);
	else
		unlink(b->spool_path);
	double secs = (double)(b->t_last.tv_sec - b->t_first.tv_sec) +
	    (double)(b->t_last.tv_nsec - b->t_first.tv_nsec) / 1e9;
	log_info(b->who, "%s: %llu messages queued, %llu delivered, %llu delivery retries (%llu possibly "
	    "twice), %llu spooled; first queued to last delivered %.3f s (%.0f messages/s)", b->be->name,
	    (unsigned long long)b->st.queued, (unsigned long long)b->st.delivered,
	    (unsigned long long)b->st.retried, (unsigned long long)b->st.unconfirmed,
	    (unsigned long long)b->st.spooled,
	    b->st.delivered ? secs : 0.0, b->st.delivered && secs > 0 ? (double)b->st.delivered / secs : 0.0);

	for (struct broker_msg *m = b->head, *nx; m; m = nx) {
		nx = m->next;
		free(m);
	}
	if (b->spool)
		fclose(b->spool);
	if (b->be->free)
		b->be->free(b->ctx);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b->spool_path);
	free(b);
	return left;
}

/* --- the kafka / amqp plugin runtime: cache and purge as the print plugin --- */

struct broker_plugin {
	const struct broker_plugin_def *def;
	struct broker *broker;
	struct binned b;		/* the cache, time-bins, next purge */
	struct out_cols cols;
	struct out_opts opts;
	const char *key_tpl;		/* topic / routing key template */
	bool dyn_key, dyn_pkey;
	uint32_t multi;			/* entries per message, 0/1 = one */
	char *mv;			/* multi_values message being built */
	size_t mv_len, mv_cap, mv_n;
	char mv_key[256], mv_pkey[256];
	char wid[256];			/* writer_id of this purge */
	uint64_t seq;			/* this purge's sequence (see purge_seq_first) */
	uint64_t msg_index;		/* index of the purge's next message */
	char id[320];			/* message id being made */
	char *row;			/* open_memstream buffer */
	size_t row_size;
	FILE *rowf;
};

/*
 * The purge sequence starts at the start time in microseconds since the
 * epoch and goes up by one per purge: ids stay unique across restarts
 * even when the writer id repeats (a fixed writer_id_string, or the same
 * pid again, as in a container), as long as the clock does not go back.
 */
static uint64_t purge_seq_first(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The id of the purge's next message: "<writer_id>:<purge seq>:<message index>". */
static const char *next_id(struct broker_plugin *s)
{
	snprintf(s->id, sizeof(s->id), "%s:%llu:%llu", s->wid, (unsigned long long)s->seq,
	    (unsigned long long)s->msg_index++);
	return s->id;
}

static char *default_spool(const struct plugin *p)
{
	char buf[CFG_NAME_MAX + 64];
	snprintf(buf, sizeof(buf), "/tmp/pmacct-ng_%s_%s.spool", p->cfg->type, p->cfg->name);
	return xstrdup(buf);
}

/*
 * Report a bad value of key `canon` (the name the config parser records
 * it under) with file and line, naming it `shown` (amqp_host for
 * kafka_broker_host in an amqp plugin).
 */
static int bad_key(const struct plugin *p, const char *canon, const char *shown, const char *why)
{
	log_err(p->who, "[%s] key '%s[%s]': %s. Exiting.", cfg_where(&p->cfg->origin, canon), shown,
	    p->cfg->name, why);
	return -1;
}

int broker_host_check(const char *host, char *why, size_t whylen)
{
	struct in6_addr a6;

	if (!*host)
		snprintf(why, whylen, "empty host");
	else if (strchr(host, ':') && inet_pton(AF_INET6, host, &a6) != 1)
		snprintf(why, whylen, "'%s' is not an IPv6 address (give the port in its own key)", host);
	else if (!strchr(host, ':') && strspn(host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789.-_") != strlen(host))
		snprintf(why, whylen, "'%s' is not a host name or an address", host);
	else
		return 0;
	return -1;
}

/*
 * A topic / routing key (or partition key) template, expanded with sample
 * values for its variables: it must fit the 255 bytes a message key gets
 * and, when `key_ok` is given, the backend's rule.
 */
static int template_check(const struct plugin *p, const char *canon, const char *shown, const char *tpl,
    int (*key_ok)(const char *, char *, size_t))
{
	const struct plugin_cfg *pc = p->cfg;
	struct timefmt_vars v = {
		.refresh = pc->refresh_time, .history = pc->history.secs, .tag = 1, .tag2 = 1,
		.post_tag = pc->post_tag, .post_tag2 = pc->post_tag2, .peer_src_ip = "192.0.2.1",
		.utc = p->core->timestamps_utc,
	};
	char out[256], why[640], kw[200];

	if (timefmt_expand(out, sizeof(out), tpl, time(NULL), &v) < 0) {
		snprintf(why, sizeof(why), "'%s' expands to more than %zu bytes", tpl, sizeof(out) - 1);
		return bad_key(p, canon, shown, why);
	}
	if (key_ok && key_ok(out, kw, sizeof(kw)) < 0) {
		snprintf(why, sizeof(why), "'%s' gives '%s': %s", tpl, out, kw);
		return bad_key(p, canon, shown, why);
	}
	return 0;
}

int broker_plugin_check(const struct plugin *p, const struct broker_plugin_def *def)
{
	const struct plugin_cfg *pc = p->cfg;
	const char *fmt = pc->kafka_output;
	bool kafka = strcmp(def->be->name, "kafka") == 0;
	char why[320];
	void *ctx;

	if (fmt && strcmp(fmt, "json") != 0) {
		snprintf(why, sizeof(why), "'%s': only json is supported (no Avro)", fmt);
		return bad_key(p, "kafka_output", kafka ? "kafka_output" : "amqp_output", why);
	}
	if (binned_check(p) < 0)
		return -1;
	if (pc->broker_host && broker_host_check(pc->broker_host, why, sizeof(why)) < 0)
		return bad_key(p, "kafka_broker_host", kafka ? "kafka_broker_host" : "amqp_host", why);
	if (template_check(p, "kafka_topic", kafka ? "kafka_topic" : "amqp_routing_key", pc->broker_topic ? pc->broker_topic : def->default_key,
	    def->key_ok) < 0)
		return -1;
	if (pc->kafka_partition_key && template_check(p, "kafka_partition_key",
	    "kafka_partition_key", pc->kafka_partition_key, NULL) < 0)
		return -1;
	if (!(ctx = def->make_ctx(p)))
		return -1;
	def->be->free(ctx);
	return 0;
}

static size_t cache_ceiling(const struct plugin *p)
{
	return binned_print_ceiling(p->cfg->cache_entries);
}

/* "kafka_cache_entries" / "amqp_cache_entries", "kafka_queue_max" / ...: the type's own key. */
static const char *type_key(const struct plugin *p, const char *suffix)
{
	bool kafka = !strcmp(p->type->name, "kafka");

	if (!strcmp(suffix, "cache_entries"))
		return kafka ? "kafka_cache_entries" : "amqp_cache_entries";
	return kafka ? "kafka_queue_max" : "amqp_queue_max";
}

void broker_plugin_bounds(struct plugin *p)
{
	size_t n = cache_ceiling(p);

	p->gauge = gauges_add(p->core->gauges, p->who, "cache", type_key(p, "cache_entries"),
	    GAUGE_PURGE, n, binned_bytes_at(p, PRINT_BUCKETS(p), n));
	/* its bytes are those of the messages: not known before they are rendered */
	gauges_add(p->core->gauges, p->who, "queue", type_key(p, "queue_max"), GAUGE_SPILL,
	    broker_queue_bound(p->cfg->broker_queue_max), 0);
}

static void broker_purge(struct plugin *p);

/* The cache is full: render it into the broker's queue now (binned_set_ceiling). */
static void broker_early(void *arg)
{
	struct plugin *p = arg;
	uint64_t t0 = clock_mono_us();

	broker_purge(p);
	plugin_flush_done(p, t0, true);
}

int broker_plugin_init(struct plugin *p, const struct broker_plugin_def *def)
{
	struct plugin_cfg *pc = p->cfg;
	struct broker_plugin *s;
	void *ctx;

	if (!(ctx = def->make_ctx(p)))
		return -1;
	s = xcalloc(1, sizeof(*s));
	s->def = def;
	binned_init(&s->b, p, PRINT_BUCKETS(p));
	/* pmacct's text names print_cache_entries for its kafka and amqp plugins too */
	binned_set_ceiling(&s->b, cache_ceiling(p), "print_cache_entries", broker_early, p, p->gauge);
	binned_out_init(&s->b, p, &s->cols, &s->opts);
	s->opts.fmt = OUT_JSON;
	s->key_tpl = pc->broker_topic ? pc->broker_topic : def->default_key;
	s->dyn_key = strchr(s->key_tpl, '$') || strchr(s->key_tpl, '%');
	s->dyn_pkey = pc->kafka_partition_key && strchr(pc->kafka_partition_key, '$');
	s->multi = pc->sql_multi_values;
	s->seq = purge_seq_first();
	s->rowf = open_memstream(&s->row, &s->row_size);
	p->state = s;

	char *spool = pc->broker_spool_file ? xstrdup(pc->broker_spool_file) : default_spool(p);
	s->broker = broker_new(p->who, def->be, ctx, spool, pc->broker_queue_max);
	free(spool);
	broker_set_gauge(s->broker, gauges_find(p->core->gauges, p->who, "queue"));
	log_info(p->who, "cache entries=%zu base cache memory=%zu bytes",
	    PRINT_BUCKETS(p), binned_bytes_at(p, PRINT_BUCKETS(p), cache_ceiling(p)));
	return broker_start(s->broker);
}

void broker_plugin_record(struct plugin *p, const struct flow_rec *rec)
{
	struct broker_plugin *s = p->state;

	binned_account(&s->b, rec);
}

/* A template with $ variables for entry key k (NULL: markers, no entry). */
static void expand_key(const struct plugin *p, const char *tpl, const struct flow_key *k,
    int64_t bin, char *out, size_t len)
{
	const struct plugin_cfg *pc = p->cfg;
	char peer[64] = "";
	struct timefmt_vars v = {
		.refresh = pc->refresh_time, .history = pc->history.secs,
		.tag = k ? k->tag : 0, .tag2 = k ? k->tag2 : 0,
		.post_tag = pc->post_tag, .post_tag2 = pc->post_tag2,
		.peer_src_ip = peer, .utc = p->core->timestamps_utc,
	};

	if (k && k->peer_src_ip.af)
		inet_ntop(k->peer_src_ip.af == 6 ? AF_INET6 : AF_INET, k->peer_src_ip.a, peer,
		    sizeof(peer));
	if (timefmt_expand(out, len, tpl, pc->history.n && bin ? (time_t)bin : time(NULL), &v) < 0)
		log_warnx(p->who, "'%s' expands to more than %zu bytes: truncated", tpl, len - 1);
}

static void mv_flush(struct plugin *p)
{
	struct broker_plugin *s = p->state;
	if (!s->mv_n)
		return;
	broker_put(s->broker, s->mv_key, p->cfg->kafka_partition_key ? s->mv_pkey : NULL, next_id(s),
	    s->mv, s->mv_len);
	s->mv_len = s->mv_n = 0;
}

/* Queue one JSON text for key/pkey, batching *_multi_values entries per message (joined by \n). */
static void emit(struct plugin *p, const char *key, const char *pkey, const char *json, size_t len)
{
	struct broker_plugin *s = p->state;

	if (s->multi <= 1) {
		broker_put(s->broker, key, pkey, next_id(s), json, len);
		return;
	}
	if (s->mv_n && (strcmp(key, s->mv_key) || (pkey && strcmp(pkey, s->mv_pkey))))
		mv_flush(p);
	if (!s->mv_n) {
		snprintf(s->mv_key, sizeof(s->mv_key), "%s", key);
		snprintf(s->mv_pkey, sizeof(s->mv_pkey), "%s", pkey ? pkey : "");
	}
	if (s->mv_len + len + 2 > s->mv_cap) {
		s->mv_cap = (s->mv_len + len + 2) * 2;
		s->mv = xrealloc(s->mv, s->mv_cap);
	}
	if (s->mv_n)
		s->mv[s->mv_len++] = '\n';
	memcpy(s->mv + s->mv_len, json, len);
	s->mv_len += len;
	if (++s->mv_n >= s->multi)
		mv_flush(p);
}

/* purge_init / purge_close, as pmacct's *_markers: to the (expanded) default key. */
static void emit_marker(struct plugin *p, bool start, size_t purged, size_t total, time_t dur)
{
	struct broker_plugin *s = p->state;
	char key[256], msg[512];
	int n;

	expand_key(p, s->key_tpl, NULL, 0, key, sizeof(key));
	if (start)
		n = snprintf(msg, sizeof(msg), "{\"event_type\": \"purge_init\", \"writer_id\": \"%s\"}",
		    s->wid);
	else
		n = snprintf(msg, sizeof(msg), "{\"event_type\": \"purge_close\", \"writer_id\": \"%s\", "
		    "\"purged_entries\": %zu, \"total_entries\": %zu, \"duration\": %ld}", s->wid, purged,
		    total, (long)dur);
	mv_flush(p);
	broker_put(s->broker, key, NULL, next_id(s), msg, (size_t)n);
}

/*
 * Render entry e as one JSON object (no newline) in s->row, with
 * "writer_id" last as pmacct's add_writer_name_and_pid_json(); returns its length.
 */
static size_t render(struct broker_plugin *s, const struct agg_entry *e, const struct flow_key *k,
    time_t now)
{
	long len;

	rewind(s->rowf);
	binned_row(&s->b, s->rowf, &s->cols, &s->opts, e, k, now);
	fflush(s->rowf);
	len = ftell(s->rowf);
	while (len > 0 && (s->row[len - 1] == '\n' || s->row[len - 1] == '}'))
		len--;
	fseek(s->rowf, len, SEEK_SET);
	fprintf(s->rowf, ", \"writer_id\": \"%s\"}", s->wid);
	fflush(s->rowf);
	len = ftell(s->rowf);
	return len > 0 ? (size_t)len : 0;
}

static void broker_purge(struct plugin *p)
{
	struct broker_plugin *s = p->state;
	size_t total = agg_count(s->b.table), n = 0;
	time_t start = time(NULL);
	char key[256], pkey[256];
	const char *pk = p->cfg->kafka_partition_key;
	struct flow_key k;

	binned_publish(&s->b);	/* its fill before the purge: the peak is there */
	log_info(p->who, "*** Purging cache - START (PID: %d) ***", (int)getpid());
	out_writer_id(p->cfg->writer_id_string, p->cfg->name, (long)getpid(), s->wid, sizeof(s->wid));
	s->seq++;
	s->msg_index = 0;
	if (p->cfg->markers)
		emit_marker(p, true, 0, 0, 0);
	if (!s->dyn_key)
		expand_key(p, s->key_tpl, NULL, 0, key, sizeof(key));
	if (pk && !s->dyn_pkey)
		snprintf(pkey, sizeof(pkey), "%s", pk);
	memset(&k, 0, sizeof(k));
	for (struct agg_entry *e = agg_next(s->b.table, NULL); e; e = agg_next(s->b.table, e), n++) {
		agg_entry_span(s->b.table, e, &k);
		if (s->dyn_key)
			expand_key(p, s->key_tpl, &k, e->bin, key, sizeof(key));
		if (s->dyn_pkey)
			expand_key(p, pk, &k, e->bin, pkey, sizeof(pkey));
		size_t len = render(s, e, &k, start);
		emit(p, key, pk ? pkey : NULL, s->row, len);
	}
	mv_flush(p);
	if (p->cfg->markers)
		emit_marker(p, false, n, total, time(NULL) - start);
	agg_clear(s->b.table);
	binned_publish(&s->b);
	log_info(p->who, "*** Purging cache - END (PID: %d, QN: %zu/%zu, ET: %ld) ***", (int)getpid(),
	    n, total, (long)(time(NULL) - start));
}

int broker_plugin_next_tick_ms(struct plugin *p)
{
	struct broker_plugin *s = p->state;

	return binned_next_tick_ms(&s->b);
}

void broker_plugin_tick(struct plugin *p)
{
	struct broker_plugin *s = p->state;
	uint64_t t0 = clock_mono_us();
	broker_purge(p);
	plugin_flush_done(p, t0, true);
	binned_deadline_next(&s->b, p->cfg->refresh_time);
}

void broker_plugin_flush(struct plugin *p)
{
	struct broker_plugin *s = p->state;
	uint64_t t0 = clock_mono_us();
	broker_purge(p);
	plugin_flush_done(p, t0, true);
	/* messages kept in the spool are not lost, but the exit status says they are not delivered */
	p->undelivered = broker_close(s->broker, p->cfg->broker_shutdown_wait);
	s->broker = NULL;
}

void broker_plugin_fini(struct plugin *p)
{
	struct broker_plugin *s = p->state;
	if (!s)
		return;
	broker_close(s->broker, 0);
	binned_fini(&s->b);
	fclose(s->rowf);
	free(s->row);
	free(s->mv);
	free(s);
	p->state = NULL;
}
