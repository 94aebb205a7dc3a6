/* SPDX-License-Identifier: BSD-3-Clause */
/* test_feed.c: the producer side of a plugin: batch format, filters, post_tag, sampling, sibling feeds, close. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ring.h"
#include "maps/tagfilter.h"
#include "pipeline/feed.h"
#include "tap.h"

static void noop_record(struct plugin *p, const struct flow_rec *rec)
{
	(void)p;
	(void)rec;
}

static void noop_datagram(struct plugin *p, const struct dgram *d, const struct plugin_tagger *tg)
{
	(void)p;
	(void)d;
	(void)tg;
}

static const struct plugin_type record_type = { .name = "rec", .record = noop_record };
static const struct plugin_type datagram_type = { .name = "dg", .record = noop_record,
	.datagram = noop_datagram };

/* A plugin receiving the span [tag, tag + 8) of the key, 4 records per batch, 4 slots. */
static void plugin_make(struct plugin *p, struct plugin_cfg *pc, const struct plugin_type *t)
{
	memset(p, 0, sizeof(*p));
	memset(pc, 0, sizeof(*pc));
	p->type = t;
	p->cfg = pc;
	snprintf(p->who, sizeof(p->who), "t/rec");
	static struct key_layout lay;
	prim_key_layout_span(offsetof(struct flow_key, tag), offsetof(struct flow_key, tag) + sizeof(uint64_t),
	    &lay);
	p->layout = &lay;
	p->elem_size = (sizeof(struct batch_rec) + sizeof(uint64_t) + 7) & ~(size_t)7;
	p->batch_cap = 4;
	p->pipe_bytes = 4 * 4 * p->elem_size;
	p->ring = ring_new(p->batch_cap * p->elem_size, 4);
}

static struct flow_rec rec_make(uint64_t tag, uint64_t bytes)
{
	struct flow_rec r;

	memset(&r, 0, sizeof(r));
	r.k.tag = tag;
	r.bytes = bytes;
	r.packets = 1;
	return r;
}

/* The tag and bytes of element i of a batch. */
static uint64_t el_tag(const uint8_t *b, const struct plugin *p, size_t i)
{
	uint64_t tag;

	memcpy(&tag, b + i * p->elem_size + sizeof(struct batch_rec), sizeof(tag));
	return tag;
}

static uint64_t el_bytes(const uint8_t *b, const struct plugin *p, size_t i)
{
	return ((const struct batch_rec *)(const void *)(b + i * p->elem_size))->bytes;
}

static void test_batches(void)
{
	struct plugin p;
	struct plugin_cfg pc;
	struct plugin_feed f;
	size_t len;
	bool closed;

	plugin_make(&p, &pc, &record_type);
	feed_init(&f, &p, DLT_EN10MB);
	for (uint64_t i = 1; i <= 3; i++) {
		struct flow_rec r = rec_make(i, 100 * i);
		feed_offer(&f, &r, NULL, NULL);
	}
	ok(ring_next(p.ring, 0, &len, &closed) == NULL, "a partial batch waits in the feed");
	is_int(atomic_load(&p.stats.records), 3, "records counted on the plugin");
	feed_flush(&f);
	const uint8_t *b = ring_next(p.ring, 0, &len, &closed);
	ok(b && len == 3 * p.elem_size, "flush hands the partial batch over");
	ok(b && el_tag(b, &p, 0) == 1 && el_tag(b, &p, 2) == 3 && el_bytes(b, &p, 1) == 200,
	    "elements: counters, then the plugin's key span");
	ring_release(p.ring);
	for (uint64_t i = 0; i < 4; i++) {
		struct flow_rec r = rec_make(9, 1);
		feed_offer(&f, &r, NULL, NULL);
	}
	ok(f.batch == NULL && f.batch_len == 0, "a full batch is committed at once");
	feed_fini(&f);
	b = ring_next(p.ring, 0, &len, &closed);
	ok(b && len == 4 * p.elem_size, "the full batch reaches the plugin");
	ring_release(p.ring);
	ok(ring_next(p.ring, 0, &len, &closed) == NULL && closed, "feed_fini closes the ring");
	ring_free(p.ring);
}

static void test_filters_and_post_tag(void)
{
	struct plugin p;
	struct plugin_cfg pc;
	struct plugin_feed f;
	char why[160];
	size_t len;
	bool closed;

	plugin_make(&p, &pc, &record_type);
	p.filters.tag = malloc(sizeof(*p.filters.tag));
	ok(tagfilter_compile(p.filters.tag, "1-5", why, sizeof(why)) == 0, "tag filter compiles");
	pc.post_tag2 = 77;	/* outside the span: not written */
	feed_init(&f, &p, DLT_EN10MB);
	struct flow_rec pass = rec_make(3, 10), drop = rec_make(8, 10);
	feed_offer(&f, &pass, NULL, NULL);
	feed_offer(&f, &drop, NULL, NULL);
	is_int(atomic_load(&p.stats.filtered), 1, "pre_tag_filter rejects tag 8");
	is_int(atomic_load(&p.stats.records), 1, "and passes tag 3");
	pc.post_tag = 42;
	feed_offer(&f, &pass, NULL, NULL);
	feed_fini(&f);
	const uint8_t *b = ring_next(p.ring, 0, &len, &closed);
	ok(b && len == 2 * p.elem_size && el_tag(b, &p, 0) == 3 && el_tag(b, &p, 1) == 42,
	    "post_tag overrides the tag in the batch, not in the record");
	is_int(pass.k.tag, 3, "the offered record is not changed");
	ring_release(p.ring);
	free(p.filters.tag);
	ring_free(p.ring);
}

static void test_datagram_type_and_sampling(void)
{
	struct plugin p;
	struct plugin_cfg pc;
	struct plugin_feed f;

	plugin_make(&p, &pc, &datagram_type);
	feed_init(&f, &p, DLT_EN10MB);
	struct flow_rec r = rec_make(1, 1);
	feed_offer(&f, &r, NULL, NULL);
	is_int(atomic_load(&p.stats.records) + atomic_load(&p.stats.filtered), 0,
	    "a datagram type gets no records");
	feed_fini(&f);
	ring_free(p.ring);

	plugin_make(&p, &pc, &record_type);
	pc.sampling_rate = 10;
	feed_init(&f, &p, DLT_EN10MB);
	f.wait_when_full = false;
	uint64_t taken = 0;
	for (int i = 0; i < 20000; i++) {
		size_t len;
		bool closed;
		feed_offer(&f, &r, NULL, NULL);
		while (ring_next(p.ring, 0, &len, &closed)) {
			taken += len / p.elem_size;
			ring_release(p.ring);
		}
	}
	ok(taken > 1600 && taken < 2400, "sampling_rate 10 takes about one in ten (%llu of 20000)",
	    (unsigned long long)taken);
	feed_fini(&f);
	ring_free(p.ring);
}

static void test_siblings(void)
{
	struct plugin p;
	struct plugin_cfg pc;
	struct plugin_feed a, b;
	size_t len, got = 0;
	bool closed = false;

	plugin_make(&p, &pc, &record_type);
	feed_init(&a, &p, DLT_EN10MB);
	feed_init_sibling(&b, &a, DLT_EN10MB);
	ok(a.shared_stats && b.shared_stats && b.ring != a.ring && b.stats == a.stats,
	    "a sibling feed: its own ring, the plugin's stats, shared");
	struct flow_rec r = rec_make(5, 1);
	feed_offer(&a, &r, NULL, NULL);
	feed_offer(&b, &r, NULL, NULL);
	feed_offer(&b, &r, NULL, NULL);
	is_int(atomic_load(&p.stats.records), 0, "shared counts wait for the batch");
	feed_fini(&a);
	ok(ring_next(p.ring, 0, &len, &closed) != NULL, "the first feed's batch");
	got += len / p.elem_size;
	ring_release(p.ring);
	ok(ring_next(p.ring, 0, &len, &closed) == NULL && !closed,
	    "the group is open while a sibling is");
	feed_fini(&b);
	while (ring_next(p.ring, 0, &len, &closed)) {
		got += len / p.elem_size;
		ring_release(p.ring);
	}
	is_int(got, 3, "the plugin drains both rings");
	ok(closed, "and sees the end once both feeds closed");
	is_int(atomic_load(&p.stats.records), 3, "both feeds' records added to the plugin");
	ring_free(p.ring);	/* and the sibling */
}

int main(void)
{
	test_batches();
	test_filters_and_post_tag();
	test_datagram_type_and_sampling();
	test_siblings();
	return tap_done();
}
