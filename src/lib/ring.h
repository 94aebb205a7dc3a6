/* SPDX-License-Identifier: BSD-3-Clause */
/* ring.h: single-producer single-consumer ring of fixed-size batches between the core and a plugin. */
#ifndef LIB_RING_H
#define LIB_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The ring holds `nslots` slots of `slot_size` bytes each (plugin_pipe_size
 * / plugin_buffer_size).  The core fills a slot and commits it; the plugin
 * thread takes committed slots in order and releases them.  The core fills
 * the slot released last, so a plugin that keeps up costs two or three
 * slots of memory and cache, however large the ring.  Each side only
 * sleeps when it must, and the other side wakes it only when it sleeps, so
 * a busy pipeline makes no system calls.
 */
struct ring;

/* Allocate a ring; nslots is at least 2.  Aborts on out-of-memory. */
struct ring *ring_new(size_t slot_size, size_t nslots);

/*
 * A further ring of the same sizes in `first`'s group, for another producer
 * (collector_workers: one ring per receive thread and plugin).  The consumer
 * still calls ring_next()/ring_release() on `first` only: it is handed the
 * slots of every ring of the group, round robin, and sleeps until any of
 * them has data.  Each ring keeps one producer, closed with its own
 * ring_close(); the group reads as closed once all its rings are closed and
 * drained.  Call before the consumer starts; ring_free(first) frees the group.
 */
struct ring *ring_add_sibling(struct ring *first);
void ring_free(struct ring *r);

size_t ring_slot_size(const struct ring *r);

/*
 * Producer: a free slot to fill, or NULL when the ring is full and `wait`
 * is false.  With `wait` true blocks until the consumer frees one.
 */
void *ring_acquire(struct ring *r, bool wait);

/* Producer: hand the acquired slot, holding `len` bytes, to the consumer. */
void ring_commit(struct ring *r, size_t len);

/*
 * Commit a full batch without waking a sleeping consumer until a few batches
 * wait (an eighth of the ring): a producer that outruns its consumer then
 * costs one wake-up per several batches instead of one per batch.  Whatever
 * waits is handed over by the next ring_commit() or ring_kick().
 */
void ring_commit_full(struct ring *r, size_t len);

/* Wake the consumer if it sleeps while batches wait (the producer went idle). */
void ring_kick(struct ring *r);

/* Producer: no more data will come; the consumer drains and then sees NULL. */
void ring_close(struct ring *r);

/*
 * Consumer: the next committed slot and its length, waiting at most
 * timeout_ms (-1 = forever).  Returns NULL on timeout, or when the ring is
 * closed and empty (then *closed is set).
 */
const void *ring_next(struct ring *r, int timeout_ms, size_t *len, bool *closed);

/* Consumer: give the slot returned by ring_next back to the producer. */
void ring_release(struct ring *r);

/* Slots in use right now in this ring, its siblings not counted (for stats). */
size_t ring_used(const struct ring *r);

#endif
