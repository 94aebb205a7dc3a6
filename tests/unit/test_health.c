/* SPDX-License-Identifier: BSD-3-Clause */
/* test_health.c: the health snapshot: top-N bound, merge of receive threads, times, accumulator, concurrency. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "model/health.h"
#include "tap.h"

static const char *const names[] = { "short", "bad_version" };

static struct health_exporter exp_at(uint32_t ip, uint32_t domain, uint64_t packets)
{
	struct health_exporter e = { .domain = domain, .version = 9, .packets = packets,
		.bytes = packets * 100, .records = packets * 10 };

	e.addr.af = 4;
	e.addr.a[0] = 10;
	e.addr.a[1] = (uint8_t)(ip >> 16);
	e.addr.a[2] = (uint8_t)(ip >> 8);
	e.addr.a[3] = (uint8_t)ip;
	return e;
}

static void publish(struct health *h, int slot, const struct health_exporter *v, size_t n,
    uint64_t datagrams)
{
	struct health_build b;
	struct health_rx rx = { datagrams, 1, 0 };

	health_build_init(&b);
	health_build_names(&b, HEALTH_NETFLOW, names, 2);
	for (size_t i = 0; i < n; i++)
		health_offer(&b, &v[i]);
	health_publish(h, slot, &b, &rx);
	ok(b.v == NULL && b.n == 0, "publish takes the builder's list");
}

/* A flood of exporters: only the HEALTH_MAX_LISTED busiest are kept, busiest first. */
static void test_bound(void)
{
	struct health *h = health_new();
	struct health_exporter *v = calloc(5000, sizeof(*v));
	struct health_view view;
	int s = health_slot(h);

	for (uint32_t i = 0; i < 5000; i++)	/* in an order the heap must sort out */
		v[i] = exp_at((i * 7919) % 5000, 0, (i * 7919) % 5000 + 1);
	publish(h, s, v, 5000, 5000);
	health_view_get(h, &view);
	is_int(view.n, HEALTH_MAX_LISTED, "listed bounded");
	is_int(view.exporters, 5000, "every exporter counted");
	ok(view.truncated, "truncated");
	is_int(view.v[0].packets, 5000, "busiest first");
	is_int(view.v[HEALTH_MAX_LISTED - 1].packets, 5000 - HEALTH_MAX_LISTED + 1,
	    "the 1000th busiest last");
	is_int(view.kind, HEALTH_NETFLOW, "kind");
	is_str(view.drop_names[1], "bad_version", "drop names");
	is_int(view.rx.datagrams, 5000, "receiver counters");
	health_view_fini(&view);
	free(v);
	ok(health_unref(h), "last reference frees");
}

/* Drops-only exporters rank by drops; two receive threads with the same exporter are summed. */
static void test_merge(void)
{
	struct health *h = health_new();
	struct health_exporter a[3], b[2];
	struct health_view view;
	int s0, s1;

	health_ref(h);
	s0 = health_slot(h);
	s1 = health_slot(h);
	a[0] = exp_at(1, 0, 10);
	a[1] = exp_at(2, 0, 0);
	a[1].drops[1] = 3;
	a[2] = exp_at(3, 0, 0);
	a[2].drops[0] = 1;
	b[0] = exp_at(1, 0, 5);		/* the same exporter through the other thread */
	b[0].seq_fwd = 2;
	b[1] = exp_at(1, 7, 1);		/* same address, another domain */
	health_view_get(h, &view);
	is_int(view.receivers, 0, "nothing published yet");
	is_int(view.updated, -1, "never updated");
	health_view_fini(&view);
	publish(h, s0, a, 3, 13);
	publish(h, s1, b, 2, 6);
	health_view_get(h, &view);
	is_int(view.receivers, 2, "two receivers");
	is_int(view.rx.datagrams, 19, "datagrams summed");
	is_int(view.rx.denied, 2, "denied summed");
	is_int(view.n, 4, "one exporter merged");
	ok(!view.truncated, "not truncated");
	is_int(view.v[0].packets, 15, "merged packets");
	is_int(view.v[0].records, 150, "merged records");
	is_int(view.v[0].seq_fwd, 2, "merged sequence jumps");
	is_int(view.v[1].domain, 7, "then the other domain");
	is_int(view.v[2].drops[1], 3, "then the exporter with most drops");
	is_int(view.v[3].drops[0], 1, "then fewer drops");
	ok(view.v[0].first_seen > 0 && view.v[0].last_seen >= view.v[0].first_seen, "times set");
	ok(!health_silent(&view, &view.v[0]), "just seen: not silent");
	view.now = view.v[0].last_seen + HEALTH_SILENT_SECS;
	ok(!health_silent(&view, &view.v[0]), "60 s: not yet silent");
	view.now++;
	ok(health_silent(&view, &view.v[0]), "61 s: silent");
	health_view_fini(&view);
	publish(h, s0, a, 3, 13);
	health_view_get(h, &view);
	is_int(view.v[0].packets, 15, "republished");
	health_view_fini(&view);
	ok(!health_unref(h), "one reference left");
	ok(health_unref(h), "freed");
}

static void test_capture(void)
{
	struct health *h = health_new();
	struct health_capture c = { .received = 62, .decoded = 60 };
	struct health_view view;

	strcpy(c.source, "eth0");
	c.drops[3] = 2;
	health_publish_capture(h, &c, names, 2);
	health_view_get(h, &view);
	ok(view.has_capture, "capture published");
	is_int(view.kind, HEALTH_CAPTURE, "capture kind");
	is_int(view.cap.received, 62, "received");
	is_int(view.cap.drops[3], 2, "drops");
	is_str(view.cap.source, "eth0", "source");
	is_int(view.n, 0, "no exporters");
	health_view_fini(&view);
	health_unref(h);
}

static void test_acc(void)
{
	struct health_acc *a = health_acc_new(3000);
	struct health_build b;
	struct fr_ip ip = { .af = 4 };
	bool all = true;

	for (uint32_t i = 0; i < 4000; i++) {
		ip.a[2] = (uint8_t)(i >> 8);
		ip.a[3] = (uint8_t)i;
		struct health_exporter *e = health_acc_get(a, &ip, i % 3, true);
		if (i < 3000 && (!e || e->domain != i % 3 || e->packets))
			all = false;
		if (i >= 3000 && (!e || e->addr.af != 0))
			all = false;
		if (e)
			e->packets = i + 1;
	}
	ok(all, "created up to the bound, the shared entry past it");
	ip.a[2] = 0;
	ip.a[3] = 5;
	ok(health_acc_get(a, &ip, 2, false) && health_acc_get(a, &ip, 2, false)->packets == 6,
	    "found after growing");
	ok(!health_acc_get(a, &ip, 1, false), "other domain: not found");
	health_build_init(&b);
	health_acc_offer(a, &b);
	is_int(b.offered, 3001, "every entry and the shared one offered");
	is_int(b.n, HEALTH_MAX_LISTED, "builder bounded");
	health_build_fini(&b);
	health_acc_free(a);
	health_acc_free(NULL);
}

/* Two publishing threads and a reader at once (run under ThreadSanitizer by make tsan). */
struct pub_arg {
	struct health *h;
	int slot;
};

static void *pub_main(void *arg)
{
	struct pub_arg *p = arg;
	struct health_exporter v[50];

	for (int round = 1; round <= 200; round++) {
		struct health_build b;
		struct health_rx rx = { (uint64_t)round, 0, 0 };
		health_build_init(&b);
		for (int i = 0; i < 50; i++) {
			v[i] = exp_at((uint32_t)(p->slot * 100 + i), 0, (uint64_t)round);
			health_offer(&b, &v[i]);
		}
		health_publish(p->h, p->slot, &b, &rx);
	}
	return NULL;
}

static void test_threads(void)
{
	struct health *h = health_new();
	struct pub_arg args[2] = { { h, health_slot(h) }, { h, health_slot(h) } };
	pthread_t t[2];
	struct health_view view;
	bool sane = true;

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, pub_main, &args[i]);
	for (int k = 0; k < 200; k++) {
		health_view_get(h, &view);
		for (size_t i = 1; i < view.n; i++)
			sane &= view.v[i - 1].packets >= view.v[i].packets;
		sane &= view.n <= 100;
		health_view_fini(&view);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	health_view_get(h, &view);
	ok(sane, "views during publication are ordered and bounded");
	is_int(view.n, 100, "both threads' exporters");
	is_int(view.rx.datagrams, 400, "last counters of both");
	is_int(view.v[0].packets, 200, "last round");
	health_view_fini(&view);
	health_unref(h);
}

int main(void)
{
	test_bound();
	test_merge();
	test_capture();
	test_acc();
	test_threads();
	return tap_done();
}
