/* SPDX-License-Identifier: BSD-3-Clause */
/* test_ring.c: the core-to-plugin ring: order, full/empty, close, and a threaded transfer. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

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

int main(void)
{
	test_basic();
	test_threads();
	return tap_done();
}
