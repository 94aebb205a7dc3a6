/* SPDX-License-Identifier: BSD-3-Clause */
/* test_ring.c: the core-to-plugin ring: order, full/empty, close, a threaded transfer, and groups of rings. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "lib/ring.h"
#include "tap.h"

#define N_BATCHES 200000

static void test_basic(void)
{
	struct ring *r = ring_new(16, 2);
	size_t len;
	bool closed;

	ok(ring_next(r, 0, &len, &closed) == NULL && !closed, "empty ring times out");
	memcpy(ring_acquire(r, false), "one", 4);
	ring_commit(r, 4);
	memcpy(ring_acquire(r, false), "two", 4);
	ring_commit(r, 4);
	ok(ring_acquire(r, false) == NULL, "full ring refuses without waiting");
	is_int(ring_used(r), 2, "two slots used");
	const char *b = ring_next(r, 0, &len, &closed);
	ok(b && strcmp(b, "one") == 0 && len == 4, "first in, first out");
	ring_release(r);
	ok(ring_acquire(r, false) != NULL, "a released slot is free again");
	b = ring_next(r, 0, &len, &closed);
	ok(b && strcmp(b, "two") == 0, "second");
	ring_release(r);
	ring_close(r);
	ok(ring_next(r, 100, &len, &closed) == NULL && closed, "closed and empty");
	ring_free(r);
}

static void *producer(void *arg)
{
	struct ring *r = arg;
	for (uint64_t i = 0; i < N_BATCHES; i++) {
		uint64_t *slot = ring_acquire(r, true);
		slot[0] = i;
		ring_commit(r, sizeof(i));
	}
	ring_close(r);
	return NULL;
}

static void test_threads(void)
{
	struct ring *r = ring_new(sizeof(uint64_t), 8);
	pthread_t t;
	uint64_t expect = 0, bad = 0;
	size_t len;
	bool closed = false;

	pthread_create(&t, NULL, producer, r);
	while (!closed) {
		const uint64_t *v = ring_next(r, 1000, &len, &closed);
		if (!v)
			continue;
		bad += *v != expect++;
		ring_release(r);
	}
	pthread_join(t, NULL);
	is_int(expect, N_BATCHES, "every batch arrived through a small ring");
	is_int(bad, 0, "in order, none duplicated");
	ring_free(r);
}

static void test_group_basic(void)
{
	struct ring *a = ring_new(16, 2), *b = ring_add_sibling(a);
	size_t len;
	bool closed;

	ok(ring_slot_size(b) == 16, "a sibling has the first ring's slot size");
	memcpy(ring_acquire(b, false), "b1", 3);
	ring_commit(b, 3);
	const char *s = ring_next(a, 0, &len, &closed);
	ok(s && strcmp(s, "b1") == 0, "the consumer of the first ring gets a sibling's slot");
	ring_release(a);
	is_int(ring_used(b), 0, "released on the ring it came from");
	memcpy(ring_acquire(a, false), "a1", 3);
	ring_commit(a, 3);
	memcpy(ring_acquire(b, false), "b2", 3);
	ring_commit(b, 3);
	memcpy(ring_acquire(a, false), "a2", 3);
	ring_commit(a, 3);
	int na = 0, nb = 0;
	char last = 0;
	bool alternated = true;
	while ((s = ring_next(a, 0, &len, &closed))) {
		alternated &= s[0] != last;
		last = s[0];
		na += s[0] == 'a';
		nb += s[0] == 'b';
		ring_release(a);
	}
	ok(na == 2 && nb == 1 && alternated, "both rings drained, round robin");
	ring_close(a);
	ok(ring_next(a, 0, &len, &closed) == NULL && !closed, "not closed while a sibling is open");
	memcpy(ring_acquire(b, false), "b3", 3);
	ring_commit(b, 3);
	ring_close(b);
	s = ring_next(a, 0, &len, &closed);
	ok(s && strcmp(s, "b3") == 0 && !closed, "a closed ring's last slot still arrives");
	ring_release(a);
	ok(ring_next(a, 100, &len, &closed) == NULL && closed, "closed once every ring is closed and empty");
	ring_free(a);	/* frees b too (checked by the sanitizer builds) */
}

#define GROUP_PRODUCERS 3

struct gp {
	struct ring *r;
	uint64_t id;
};

static void *group_producer(void *arg)
{
	struct gp *g = arg;
	for (uint64_t i = 0; i < N_BATCHES / GROUP_PRODUCERS; i++) {
		uint64_t *slot = ring_acquire(g->r, true);
		slot[0] = g->id << 32 | i;
		ring_commit(g->r, sizeof(uint64_t));
	}
	ring_close(g->r);
	return NULL;
}

static void test_group_threads(void)
{
	struct ring *first = ring_new(sizeof(uint64_t), 4);
	struct gp g[GROUP_PRODUCERS];
	pthread_t t[GROUP_PRODUCERS];
	uint64_t next[GROUP_PRODUCERS] = { 0 }, bad = 0, total = 0;
	size_t len;
	bool closed = false;

	for (int i = 0; i < GROUP_PRODUCERS; i++) {
		g[i].r = i ? ring_add_sibling(first) : first;
		g[i].id = (uint64_t)i;
	}
	for (int i = 0; i < GROUP_PRODUCERS; i++)
		pthread_create(&t[i], NULL, group_producer, &g[i]);
	while (!closed) {
		const uint64_t *v = ring_next(first, 1000, &len, &closed);
		if (!v)
			continue;
		uint64_t id = *v >> 32, seq = *v & 0xffffffffu;
		bad += id >= GROUP_PRODUCERS || seq != next[id]++;
		total++;
		ring_release(first);
	}
	for (int i = 0; i < GROUP_PRODUCERS; i++)
		pthread_join(t[i], NULL);
	is_int(total, (N_BATCHES / GROUP_PRODUCERS) * GROUP_PRODUCERS,
	    "three producers into one consumer: every batch arrived");
	is_int(bad, 0, "each producer's batches in order, none duplicated");
	ring_free(first);
}

struct lazy {
	struct ring *r;
	int got;
};

static void *lazy_consumer(void *arg)
{
	struct lazy *l = arg;
	size_t len;
	bool closed = false;

	while (l->got < 3) {
		const void *v = ring_next(l->r, 5000, &len, &closed);
		if (!v)
			break;	/* 5 s without a wake-up: the kick was lost, got stays short */
		l->got++;
		ring_release(l->r);
	}
	return NULL;
}

/* Full batches committed lazily wake nobody below the threshold; ring_kick hands them over. */
static void test_lazy_commit(void)
{
	struct lazy l = { ring_new(8, 64), 0 };
	pthread_t t;
	struct timespec nap = { 0, 200 * 1000 * 1000 };

	pthread_create(&t, NULL, lazy_consumer, &l);
	nanosleep(&nap, NULL);	/* the consumer is asleep by now */
	for (int i = 0; i < 3; i++) {
		memset(ring_acquire(l.r, true), i, 8);
		ring_commit_full(l.r, 8);
	}
	ring_kick(l.r);
	pthread_join(t, NULL);
	is_int(l.got, 3, "three lazily committed batches reach a sleeping consumer after a kick");
	ring_free(l.r);
}

int main(void)
{
	test_basic();
	test_threads();
	test_group_basic();
	test_group_threads();
	test_lazy_commit();
	return tap_done();
}
