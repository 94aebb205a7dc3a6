/* SPDX-License-Identifier: BSD-3-Clause */
/* test_broker.c: the broker queue: bound, spool to disk and back in order, redelivery after failures, shutdown. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/broker.h"
#include "tap.h"

/* A fake broker: up or down, records what it accepted. */
struct fake {
	pthread_mutex_t mu;
	bool up;
	int connects, fail_every;	/* fail_every: nack every Nth message */
	size_t stop_at;			/* acknowledge until `got` reaches it, then be down; 0 = no limit */
	size_t with_id;			/* messages that came with an id */
	size_t got, calls;
	char last[64];
	int order_ok;			/* messages arrived as 0, 1, 2, ... */
};

static int fake_connect(void *ctx)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->mu);
	bool up = f->up;
	f->connects++;
	pthread_mutex_unlock(&f->mu);
	return up ? 0 : -1;
}

static int fake_publish(void *ctx, struct broker_msg **m, size_t n)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->mu);
	bool up = f->up;
	f->calls++;
	for (size_t i = 0; up && i < n; i++) {
		if (f->fail_every && (f->calls + i) % (size_t)f->fail_every == 0)
			break;	/* the rest of the batch is not acknowledged */
		if (f->stop_at && f->got >= f->stop_at) {
			up = false;	/* the connection drops here */
			break;
		}
		f->with_id += m[i]->id != NULL;
		if ((size_t)atol(m[i]->data) != f->got)
			f->order_ok = 0;
		m[i]->sent = true;
		f->got++;
		snprintf(f->last, sizeof(f->last), "%s", m[i]->data);
	}
	pthread_mutex_unlock(&f->mu);
	return up ? 0 : -1;
}

static void fake_disconnect(void *ctx)
{
	(void)ctx;
}

static const struct broker_backend fake_be = {
	.name = "fake", .connect = fake_connect, .publish = fake_publish,
	.disconnect = fake_disconnect,
};

static void put_n(struct broker *b, size_t from, size_t n)
{
	char buf[32], id[32];
	for (size_t i = from; i < from + n; i++) {
		int len = snprintf(buf, sizeof(buf), "%zu", i);
		snprintf(id, sizeof(id), "w/1:7:%zu", i);
		broker_put(b, "topic", i % 2 ? "k" : NULL, i % 3 ? id : NULL, buf, (size_t)len);
	}
}

static size_t got(struct fake *f)
{
	pthread_mutex_lock(&f->mu);
	size_t g = f->got;
	pthread_mutex_unlock(&f->mu);
	return g;
}

static void set_up(struct fake *f, bool up)
{
	pthread_mutex_lock(&f->mu);
	f->up = up;
	pthread_mutex_unlock(&f->mu);
}

static bool wait_got(struct fake *f, size_t want, int secs)
{
	for (int i = 0; i < secs * 100; i++) {
		if (got(f) >= want)
			return true;
		usleep(10000);
	}
	return got(f) >= want;
}

/* Without a thread: the bound, spooling and reading back keep the order. */
static void test_queue_spool(const char *spool)
{
	struct fake f = { .up = true, .order_ok = 1 };
	struct broker *b = broker_new("t/fake", &fake_be, &f, spool, 10);
	struct broker_stats st;

	pthread_mutex_init(&f.mu, NULL);
	put_n(b, 0, 35);
	broker_get_stats(b, &st);
	is_int(st.in_memory, 10, "10 messages in memory (the bound)");
	is_int(st.on_disk, 25, "25 spooled");
	bool in_order = true;
	for (size_t i = 0; i < 35; i++) {
		struct broker_msg *m = broker_pop(b);
		char id[32];
		snprintf(id, sizeof(id), "w/1:7:%zu", i);
		if (!m || (size_t)atol(m->data) != i || strcmp(m->key, "topic") ||
		    (i % 2 ? !m->pkey || strcmp(m->pkey, "k") : m->pkey != NULL) ||
		    (i % 3 ? !m->id || strcmp(m->id, id) : m->id != NULL))
			in_order = false;
		free(m);
	}
	ok(in_order, "35 messages popped in order with keys and ids, through the spool");
	ok(broker_pop(b) == NULL, "then empty");
	put_n(b, 0, 3);
	broker_get_stats(b, &st);
	is_int(st.in_memory, 3, "spool drained: new messages stay in memory");
	is_int(broker_close(b, 0), 3, "close without a thread: 3 not delivered");
	ok(access(spool, F_OK) == 0, "undelivered messages kept in the spool file");

	/* the next run delivers them first */
	b = broker_new("t/fake", &fake_be, &f, spool, 10);
	broker_get_stats(b, &st);
	is_int(st.on_disk, 3, "spool of the earlier run found");
	ok(broker_start(b) == 0, "thread started");
	ok(wait_got(&f, 3, 5), "earlier run's messages delivered");
	is_int(broker_close(b, 5), 0, "nothing left");
	ok(access(spool, F_OK) != 0, "spool file removed when all is delivered");
	ok(f.order_ok, "delivered in order");
}

/* A broker down at start, then up: everything arrives once, in order. */
static void test_outage(const char *spool)
{
	struct fake f = { .up = false, .order_ok = 1 };
	struct broker *b = broker_new("t/fake", &fake_be, &f, spool, 100);
	struct broker_stats st;

	pthread_mutex_init(&f.mu, NULL);
	broker_start(b);
	put_n(b, 0, 1000);
	usleep(300000);
	broker_get_stats(b, &st);
	is_int(st.delivered, 0, "nothing delivered while down");
	ok(st.on_disk > 0 && st.in_memory <= 100 + 5000, "bounded in memory, rest on disk");
	set_up(&f, true);
	ok(wait_got(&f, 1000, 10), "all 1000 delivered after the broker came back");
	put_n(b, 1000, 500);
	ok(wait_got(&f, 1500, 10), "later messages too");
	is_int(broker_close(b, 5), 0, "close: nothing left");
	is_int(got(&f), 1500, "each message delivered once");
	ok(f.order_ok, "in order");
}

/* Partial acknowledgements: the unacknowledged rest is retried. */
static void test_partial(const char *spool)
{
	struct fake f = { .up = true, .order_ok = 1, .fail_every = 7 };
	struct broker *b = broker_new("t/fake", &fake_be, &f, spool, 1000);

	pthread_mutex_init(&f.mu, NULL);
	broker_start(b);
	put_n(b, 0, 200);
	ok(wait_got(&f, 200, 60), "200 delivered despite partial acknowledgements");
	broker_close(b, 1);
	is_int(got(&f), 200, "none twice");
	ok(f.order_ok, "in order");
}

/* Shutdown with the broker down: waits, gives up, reports, keeps the spool. */
static void test_shutdown_down(const char *spool)
{
	struct fake f = { .up = false, .order_ok = 1 };
	struct broker *b = broker_new("t/fake", &fake_be, &f, spool, 5);

	pthread_mutex_init(&f.mu, NULL);
	broker_start(b);
	put_n(b, 0, 20);
	is_int(broker_close(b, 1), 20, "broker down: 20 not delivered reported");
	b = broker_new("t/fake", &fake_be, &f, spool, 5);
	struct broker_stats st;
	broker_get_stats(b, &st);
	is_int(st.on_disk, 20, "all 20 kept for the next start");
	set_up(&f, true);
	broker_start(b);
	ok(wait_got(&f, 20, 5), "delivered at the next start");
	is_int(broker_close(b, 2), 0, "nothing left");
	ok(f.order_ok, "in order");
}

static bool wait_delivered(struct broker *b, size_t want, int secs)
{
	struct broker_stats st;
	for (int i = 0; i < secs * 100; i++) {
		broker_get_stats(b, &st);
		if (st.delivered >= want)
			return true;
		usleep(10000);
	}
	return false;
}

static int copy_file(const char *from, const char *to)
{
	char buf[4096];
	size_t n;
	FILE *a = fopen(from, "rb"), *z = fopen(to, "wb");
	int rc = a && z ? 0 : -1;

	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), a)) > 0)
		rc = fwrite(buf, 1, n, z) == n ? 0 : -1;
	if (a)
		fclose(a);
	if (z && fclose(z) != 0)
		rc = -1;
	return rc;
}

/*
 * A daemon killed while it delivers a spool (the broker was down, came
 * back, part of the spool went out): the file it leaves must not make the
 * next start send the delivered part again.  Before the spool kept a
 * delivered offset, 15 of these 40 messages arrived twice.
 */
static void test_killed_while_delivering_spool(const char *spool)
{
	struct fake f = { .up = true, .order_ok = 1, .stop_at = 25 };
	struct broker *b = broker_new("t/fake", &fake_be, &f, spool, 10);
	char crash[4096];
	struct broker_stats st;

	pthread_mutex_init(&f.mu, NULL);
	put_n(b, 0, 40);		/* 10 in memory, 30 spooled */
	broker_start(b);
	ok(wait_delivered(b, 25, 5), "25 delivered (10 from memory, 15 read back from the spool)");
	usleep(100000);
	snprintf(crash, sizeof(crash), "%s.killed", spool);
	ok(copy_file(spool, crash) == 0, "the spool file as a killed daemon leaves it");
	broker_close(b, 0);
	unlink(spool);

	b = broker_new("t/fake", &fake_be, &f, crash, 10);
	broker_get_stats(b, &st);
	is_int(st.on_disk, 15, "the next start finds the 15 undelivered messages, not all 30 spooled");
	pthread_mutex_lock(&f.mu);
	f.stop_at = 0;
	pthread_mutex_unlock(&f.mu);
	broker_start(b);
	ok(wait_got(&f, 40, 5), "delivered");
	is_int(broker_close(b, 2), 0, "nothing left");
	is_int(got(&f), 40, "each of the 40 once");
	ok(f.order_ok, "in order");
	unlink(crash);
}

/* A spool written before message ids (no header, 3 lengths per record) is still delivered. */
static void test_spool_v1(const char *spool)
{
	struct fake f = { .up = true, .order_ok = 1 };
	FILE *fp = fopen(spool, "wb");
	struct broker_stats st;

	pthread_mutex_init(&f.mu, NULL);
	for (int i = 0; i < 3; i++) {
		char d[8];
		uint32_t h[3] = { 5, UINT32_MAX, (uint32_t)snprintf(d, sizeof(d), "%d", i) };
		fwrite(h, sizeof(h), 1, fp);
		fwrite("topic", 1, 5, fp);
		fwrite(d, 1, h[2], fp);
	}
	fclose(fp);
	struct broker *b = broker_new("t/fake", &fake_be, &f, spool, 10);
	broker_get_stats(b, &st);
	is_int(st.on_disk, 3, "a spool of the earlier format: 3 messages found");
	broker_start(b);
	ok(wait_got(&f, 3, 5), "and delivered");
	is_int(broker_close(b, 2), 0, "nothing left");
	ok(f.order_ok && f.with_id == 0, "in order, without ids");
}

static void test_id_split(void)
{
	size_t wl;
	uint64_t seq, idx;

	ok(broker_id_split("a/42:1700000000123456:7", &wl, &seq, &idx) == 0 && wl == 4 &&
	    seq == 1700000000123456ull && idx == 7, "id split");
	ok(broker_id_split("host:a/42:5:0", &wl, &seq, &idx) == 0 && wl == 9 && seq == 5 && idx == 0,
	    "a writer id with ':' in it");
	ok(broker_id_split("a:5:", &wl, &seq, &idx) < 0 && broker_id_split("a::1", &wl, &seq, &idx) < 0 &&
	    broker_id_split(":5:1", &wl, &seq, &idx) < 0 && broker_id_split("5:1", &wl, &seq, &idx) < 0 &&
	    broker_id_split("a:x:1", &wl, &seq, &idx) < 0 && broker_id_split(NULL, &wl, &seq, &idx) < 0,
	    "malformed ids refused");
}

int main(void)
{
	char spool[] = "/tmp/test_broker_XXXXXX";
	int fd = mkstemp(spool);

	close(fd);
	unlink(spool);
	test_queue_spool(spool);
	test_outage(spool);
	test_partial(spool);
	test_shutdown_down(spool);
	test_killed_while_delivering_spool(spool);
	test_spool_v1(spool);
	unlink(spool);
	test_id_split();

	struct broker_msg *m = broker_msg_new("t", NULL, NULL, "abc", 3);
	ok(m->len == 3 && strcmp(m->data, "abc") == 0 && !m->pkey && !m->id && !m->sent,
	    "broker_msg_new");
	free(m);
	m = broker_msg_new("t", "k", "w:1:2", "abc", 3);
	ok(strcmp(m->pkey, "k") == 0 && strcmp(m->id, "w:1:2") == 0 && strcmp(m->data, "abc") == 0,
	    "broker_msg_new with key and id");
	free(m);
	return tap_done();
}
