/* SPDX-License-Identifier: BSD-3-Clause */
/* hash.c: the process's hash seed, from getrandom(2), read once. */
#include "hash.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/*
 * Process-wide by design: every table keyed by network input shares one
 * seed, set once before any packet is read (the one mutable global here).
 */
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t hash_seed_v;

/* Without getrandom (an old kernel), a seed the sender still cannot see: time, pid, ASLR. */
static uint64_t fallback_seed(void)
{
	struct timespec ts;
	uint64_t s;

	clock_gettime(CLOCK_REALTIME, &ts);
	s = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	s ^= (uint64_t)getpid() << 32;
	s ^= (uint64_t)(uintptr_t)&hash_once;
	return XXH3_64bits(&s, sizeof(s));
}

static void hash_init(void)
{
	uint64_t s;
	size_t got = 0;

	while (got < sizeof(s)) {
		ssize_t n = getrandom((uint8_t *)&s + got, sizeof(s) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			s = fallback_seed();
			break;
		}
		got += (size_t)n;
	}
	atomic_store(&hash_seed_v, s);
}

uint64_t hash_seed(void)
{
	pthread_once(&hash_once, hash_init);
	return atomic_load(&hash_seed_v);
}

void hash_seed_set(uint64_t seed)
{
	pthread_once(&hash_once, hash_init);
	atomic_store(&hash_seed_v, seed);
}
