/* SPDX-License-Identifier: BSD-3-Clause */
/* ring.c: single-producer single-consumer ring of fixed-size batches. */
#include "ring.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "xalloc.h"

/*
 * Slots are handed around by number.  Position p (monotonic) of the ring
 * carries slot ids[p % nslots] with lens[p % nslots] bytes from the
 * producer to the consumer; when the consumer releases position p it puts
 * the slot's number in back[p % nslots], and the producer moves those into
 * its stack of free slots.  The producer fills the slot freed last: with a
 * consumer that keeps up, two or three slots carry everything, stay in the
 * CPU caches, and the rest of plugin_pipe_size is never touched (no page
 * is faulted in for it).
 */
struct ring {
	size_t slot_size, nslots;
	uint8_t *mem;
	size_t *lens;
	uint32_t *ids;			/* slot of each position in flight */
	uint32_t *back;			/* slots released, by position */
	uint32_t *stack;		/* producer: free slots, the last freed on top */
	size_t sp;			/* producer: slots on the stack */
	size_t back_seen;		/* producer: positions whose slot went back on the stack */
	int64_t acquired;		/* producer: the slot acquired and not committed, -1 none */
	_Atomic size_t head;		/* next position the producer commits (monotonic) */
	_Atomic size_t tail;		/* next position the consumer takes (monotonic) */
	_Atomic bool closed;
	_Atomic bool consumer_sleeps;
	_Atomic bool producer_sleeps;
	pthread_mutex_t mu;
	pthread_cond_t cv_data;		/* consumer waits here */
	pthread_cond_t cv_space;	/* producer waits here */
	/*
	 * Groups (ring_add_sibling): the consumer waits on the first ring's
	 * mu, cv_data and consumer_sleeps; producers of every sibling wake it
	 * there.  cur is the ring whose slot ring_next() last returned.
	 */
	struct ring *group;		/* the first ring of the group (itself when alone) */
	struct ring *next;		/* next sibling, NULL at the end */
	struct ring *cur;		/* first ring only */
};

struct ring *ring_new(size_t slot_size, size_t nslots)
{
	struct ring *r = xcalloc(1, sizeof(*r));
	if (nslots < 2)
		nslots = 2;
	r->slot_size = slot_size;
	r->nslots = nslots;
	r->mem = xmalloc(slot_size * nslots);
	r->lens = xcalloc(nslots, sizeof(size_t));
	r->ids = xcalloc(nslots, sizeof(*r->ids));
	r->back = xcalloc(nslots, sizeof(*r->back));
	r->stack = xcalloc(nslots, sizeof(*r->stack));
	for (size_t i = 0; i < nslots; i++)	/* slot 0 on top */
		r->stack[i] = (uint32_t)(nslots - 1 - i);
	r->sp = nslots;
	r->acquired = -1;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv_data, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&r->cv_space, NULL);
	r->group = r->cur = r;
	return r;
}

struct ring *ring_add_sibling(struct ring *first)
{
	struct ring *r = ring_new(first->slot_size, first->nslots), **tail = &first->next;

	while (*tail)
		tail = &(*tail)->next;
	r->group = first;
	*tail = r;
	return r;
}

static void ring_free_one(struct ring *r)
{
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv_data);
	pthread_cond_destroy(&r->cv_space);
	free(r->mem);
	free(r->lens);
	free(r->ids);
	free(r->back);
	free(r->stack);
	free(r);
}

/* A group's first ring frees its siblings too. */
void ring_free(struct ring *r)
{
	struct ring *sib, *next;

	if (!r)
		return;
	for (sib = r->group == r ? r->next : NULL; sib; sib = next) {
		next = sib->next;
		ring_free_one(sib);
	}
	ring_free_one(r);
}

size_t ring_slot_size(const struct ring *r)
{
	return r->slot_size;
}

size_t ring_used(const struct ring *r)
{
	return atomic_load(&r->head) - atomic_load(&r->tail);
}

/*
 * Before sleeping, poll a while: a batch usually arrives (or a slot frees)
 * within microseconds, and a futex sleep plus wake costs more.  The first
 * rounds spin; later ones yield the CPU, so that with more threads than
 * cores (several plugins on two cores) the thread we wait for can run.
 */
#define RING_SPIN 32
#define RING_POLL 36

static inline void cpu_relax(int round)
{
	if (round >= RING_SPIN) {
		sched_yield();
		return;
	}
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void wake(struct ring *r, _Atomic bool *flag, pthread_cond_t *cv)
{
	if (atomic_load(flag)) {
		pthread_mutex_lock(&r->mu);
		pthread_cond_signal(cv);
		pthread_mutex_unlock(&r->mu);
	}
}

void *ring_acquire(struct ring *r, bool wait)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (r->acquired >= 0)
		return r->mem + (size_t)r->acquired * r->slot_size;
	for (int spin = 0; head - atomic_load(&r->tail) >= r->nslots; spin++) {
		if (!wait)
			return NULL;
		if (spin < RING_POLL) {
			cpu_relax(spin);
			continue;
		}
		pthread_mutex_lock(&r->mu);
		atomic_store(&r->producer_sleeps, true);
		while (head - atomic_load(&r->tail) >= r->nslots)
			pthread_cond_wait(&r->cv_space, &r->mu);
		atomic_store(&r->producer_sleeps, false);
		pthread_mutex_unlock(&r->mu);
	}
	/* the slots released since the last time, in order: the last one ends on top */
	size_t tail = atomic_load(&r->tail);
	while (r->back_seen != tail)
		r->stack[r->sp++] = r->back[r->back_seen++ % r->nslots];
	r->acquired = r->stack[--r->sp];
	return r->mem + (size_t)r->acquired * r->slot_size;
}

/* Producer: put the acquired slot at position head with len bytes. */
static void hand_over(struct ring *r, size_t head, size_t len)
{
	r->ids[head % r->nslots] = (uint32_t)r->acquired;
	r->lens[head % r->nslots] = len;
	r->acquired = -1;
}

void ring_commit(struct ring *r, size_t len)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	hand_over(r, head, len);
	atomic_store(&r->head, head + 1);	/* seq_cst: pairs with the sleep flag */
	wake(r->group, &r->group->consumer_sleeps, &r->group->cv_data);
}

void ring_commit_full(struct ring *r, size_t len)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t backlog = head + 1 - atomic_load_explicit(&r->tail, memory_order_relaxed);

	hand_over(r, head, len);
	atomic_store(&r->head, head + 1);	/* seq_cst: pairs with the sleep flag */
	if (backlog >= (r->nslots / 8 ? r->nslots / 8 : 1))
		wake(r->group, &r->group->consumer_sleeps, &r->group->cv_data);
}

void ring_kick(struct ring *r)
{
	if (atomic_load(&r->head) != atomic_load(&r->tail))
		wake(r->group, &r->group->consumer_sleeps, &r->group->cv_data);
}

void ring_close(struct ring *r)
{
	struct ring *g = r->group;

	atomic_store(&r->closed, true);
	pthread_mutex_lock(&g->mu);
	pthread_cond_signal(&g->cv_data);
	pthread_mutex_unlock(&g->mu);
}

static bool has_data(struct ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) !=
	    atomic_load_explicit(&r->tail, memory_order_relaxed);
}

/* A ring of g's group with a slot ready, starting after the last one served; NULL if none. */
static struct ring *ready(struct ring *g)
{
	struct ring *r = g->cur;

	if (!g->next)
		return has_data(g) ? g : NULL;	/* the common case: a single producer */
	do {
		r = r->next ? r->next : g;
		if (has_data(r))
			return r;
	} while (r != g->cur);
	return NULL;
}

/* Every ring of g's group closed (their last commits are then visible). */
static bool group_closed(struct ring *g)
{
	for (struct ring *r = g; r; r = r->next)
		if (!atomic_load(&r->closed))
			return false;
	return true;
}

static void deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

const void *ring_next(struct ring *g, int timeout_ms, size_t *len, bool *closed)
{
	struct ring *r;

	*closed = false;
	for (int spin = 0; !(r = ready(g)) && spin < RING_POLL; spin++)
		cpu_relax(spin);
	if (!r) {
		struct timespec dl;
		int rc = 0;
		if (timeout_ms >= 0)
			deadline_after(&dl, timeout_ms);
		pthread_mutex_lock(&g->mu);
		atomic_store(&g->consumer_sleeps, true);
		while (!(r = ready(g)) && !group_closed(g) && rc != ETIMEDOUT) {
			if (timeout_ms < 0)
				pthread_cond_wait(&g->cv_data, &g->mu);
			else
				rc = pthread_cond_timedwait(&g->cv_data, &g->mu, &dl);
		}
		atomic_store(&g->consumer_sleeps, false);
		pthread_mutex_unlock(&g->mu);
		if (!r) {
			/* closed first, then data: a close is seen only after the commits before it */
			bool cl = group_closed(g);
			if (!(r = ready(g))) {
				*closed = cl;
				return NULL;
			}
		}
	}
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	g->cur = r;
	*len = r->lens[tail % r->nslots];
	return r->mem + (size_t)r->ids[tail % r->nslots] * r->slot_size;
}

void ring_release(struct ring *g)
{
	struct ring *r = g->cur;
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	r->back[tail % r->nslots] = r->ids[tail % r->nslots];
	atomic_store(&r->tail, tail + 1);	/* seq_cst: pairs with the sleep flag; publishes back[] */
	/* a producer waiting on a full ring is woken once half of it is free again */
	if (atomic_load(&r->head) - (tail + 1) <= r->nslots / 2)
		wake(r, &r->producer_sleeps, &r->cv_space);
}
