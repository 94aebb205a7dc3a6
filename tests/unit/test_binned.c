/* SPDX-License-Identifier: BSD-3-Clause */
/* test_binned.c: the binned plugins' accounting path: which types are binned, time-bins, stitching, pro-rating, their refusal together, deadlines. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "lib/text.h"
#include "plugins/binned.h"
#include "pipeline/plugin_types.h"
#include "plugins/plugin.h"
#include "logtail.h"
#include "model/gauge.h"
#include "tap.h"

struct rig {
	struct core_cfg core;
	struct plugin_cfg pc;
	struct plugin p;
};

/* A print plugin on src_host; `history`: 1m time-bins. */
static void rig_init(struct rig *r, bool history, bool stitching, bool pro_rating)
{
	memset(r, 0, sizeof(*r));
	r->core.daemon = CFG_NFACCTD;
	r->core.stitching = stitching;
	r->core.nf_pro_rating = pro_rating;
	r->core.timestamps_utc = true;
	snprintf(r->pc.type, sizeof(r->pc.type), "print");
	snprintf(r->pc.name, sizeof(r->pc.name), "test");
	prim_parse_list(NULL, "src_host", &r->pc.aggregate, NULL, 0);
	r->pc.refresh_time = 60;
	if (history)
		r->pc.history = (struct cfg_period){ .n = 1, .unit = 'm', .secs = 60 };
	r->p.cfg = &r->pc;
	r->p.type = plugin_type_find("print");
	r->p.core = &r->core;
	snprintf(r->p.who, sizeof(r->p.who), "test/print");
}

static struct flow_rec rec(uint8_t src, int64_t start, int64_t end, int64_t ts, uint64_t bytes)
{
	struct flow_rec f;

	memset(&f, 0, sizeof(f));
	f.k.src_ip.af = 4;
	f.k.src_ip.a[0] = 10;
	f.k.src_ip.a[3] = src;
	f.k.ts_start.sec = start;
	f.k.ts_end.sec = end;
	f.ts.sec = ts;
	f.bytes = bytes;
	f.packets = 1;
	f.flows = 1;
	return f;
}

/* The table of plugin types marks exactly the ones pmacct time-bins, stitches and pro-rates. */
static void test_types(void)
{
	static const char *const binned[] = { "print", "sqlite3", "pgsql", "mysql", "kafka", "amqp" };
	static const char *const other[] = { "memory", "nfprobe", "sfprobe", "tee", "http" };

	for (size_t i = 0; i < NELEM(binned); i++) {
		const struct plugin_type *t = plugin_type_find(binned[i]);
		ok(!t || t->binned, "%s is binned%s", binned[i], t ? "" : " (# not built)");
	}
	for (size_t i = 0; i < NELEM(other); i++) {
		const struct plugin_type *t = plugin_type_find(other[i]);
		ok(!t || !t->binned, "%s is not binned%s", other[i], t ? "" : " (# not built)");
	}
	ok(plugin_type_find("print") != NULL, "print is always built");
}

static void test_plain(void)
{
	struct rig r;
	struct binned b;
	int64_t t = time(NULL);

	rig_init(&r, false, false, false);
	binned_init(&b, &r.p, 16);
	ok(!b.stitching && !b.pro_rating && !b.history, "nothing asked, nothing on");
	struct flow_rec a = rec(1, 0, 0, t, 100), c = rec(1, 0, 0, t + 600, 50);
	binned_account(&b, &a);
	binned_account(&b, &c);
	is_int(agg_count(b.table), 1, "no history: one entry whatever the time");
	struct agg_entry *e = agg_next(b.table, NULL);
	is_int(e->bytes, 150, "counters added");
	is_int(e->bin, 0, "bin 0 without history");
	binned_fini(&b);
	ok(b.table == NULL, "fini frees the table");
	binned_fini(&b);
	ok(b.table == NULL, "fini twice: still nothing (no double free)");
}

static void test_history(void)
{
	struct rig r;
	struct binned b;
	int64_t t = time(NULL);

	rig_init(&r, true, false, false);
	binned_init(&b, &r.p, 16);
	ok(b.history && !b.pro_rating, "history on, no pro-rating asked");
	/*
	 * 61 s, not 60: a timestamp exactly on a bin's end stays in the bin it was
	 * reached from (pmacct's walk, lib/timefmt.c), so with t on a minute's
	 * first second t + 60 would share t's bin.
	 */
	struct flow_rec a = rec(1, 0, 0, t, 100), c = rec(1, 0, 0, t + 61, 50);
	binned_account(&b, &a);
	binned_account(&b, &c);
	is_int(agg_count(b.table), 2, "records a bin apart: two entries");
	struct agg_entry *e1 = agg_next(b.table, NULL), *e2 = agg_next(b.table, e1);
	is_int(e2->bin - e1->bin, 60, "their bins are 60 s apart");
	binned_fini(&b);
}

static void test_stitching(void)
{
	struct rig r;
	struct binned b;
	int64_t t = time(NULL);

	rig_init(&r, false, true, false);
	binned_init(&b, &r.p, 16);
	ok(b.stitching, "stitching on for print");
	struct flow_rec a = rec(1, t - 50, t - 20, t, 100), c = rec(1, t - 80, t - 30, t, 50);
	binned_account(&b, &a);
	binned_account(&b, &c);
	struct agg_entry *e = agg_next(b.table, NULL);
	is_int(agg_count(b.table), 1, "one aggregate");
	is_int(stitch_of(b.table, e)->min.sec, t - 80, "min: the earliest start");
	is_int(stitch_of(b.table, e)->max.sec, t - 20, "max: the latest end");
	struct agg_table *other = binned_table_new(&b, &r.p, 4);
	struct flow_key k;
	agg_entry_key(b.table, e, &k);
	ok(agg_upsert(other, &k, 0) != NULL, "a second table for the same primitives");
	agg_free(other);
	binned_fini(&b);
}

static void test_pro_rating(void)
{
	struct rig r;
	struct binned b;
	int64_t t = time(NULL);

	rig_init(&r, true, false, true);
	binned_init(&b, &r.p, 16);
	ok(b.pro_rating, "pro-rating on: nfacctd, history");
	struct flow_rec a = rec(1, t, t + 150, t + 150, 1500);
	binned_account(&b, &a);
	uint64_t sum = 0;
	for (struct agg_entry *e = agg_next(b.table, NULL); e; e = agg_next(b.table, e))
		sum += e->bytes;
	ok(agg_count(b.table) >= 3, "150 s over 60 s bins: split in 3 or more entries (%zu)",
	    agg_count(b.table));
	ok(sum > 0 && sum <= 1500, "shares add up to the flow, less truncation (%llu)",
	    (unsigned long long)sum);
	binned_fini(&b);

	rig_init(&r, false, false, true);
	binned_init(&b, &r.p, 16);
	ok(!b.pro_rating, "no pro-rating without history");
	binned_fini(&b);
}

static void test_check(void)
{
	struct rig r;

	rig_init(&r, true, true, false);
	is_int(binned_check(&r.p), 0, "stitching alone passes");
	rig_init(&r, true, false, true);
	is_int(binned_check(&r.p), 0, "pro-rating alone passes");
	rig_init(&r, true, true, true);
	is_int(binned_check(&r.p), -1, "pro-rating with stitching refused");
	rig_init(&r, false, true, true);
	is_int(binned_check(&r.p), 0, "no history: no pro-rating, stitching passes");
}

static void test_deadline(void)
{
	struct rig r;
	struct binned b;
	time_t now = time(NULL);

	rig_init(&r, false, false, false);
	binned_init(&b, &r.p, 4);
	ok(b.deadline > now - 1 && b.deadline <= now + 60, "first deadline within a refresh");
	b.deadline = now - 1;
	is_int(binned_next_tick_ms(&b), 0, "deadline passed: tick now");
	binned_deadline_next(&b, 60);
	ok(b.deadline > time(NULL) - 1 && b.deadline <= time(NULL) + 60, "next deadline ahead");
	b.deadline = time(NULL) + 5;
	int ms = binned_next_tick_ms(&b);
	ok(ms > 3000 && ms <= 5000, "5 s ahead: about 5000 ms (%d)", ms);
	binned_fini(&b);
}

/* What the early purge of the ceiling tests saw: the entries it found, and whether it empties. */
struct purges {
	struct binned *b;
	size_t n, sizes[64];
	uint64_t packets;		/* summed over all purges */
	bool fail;			/* keep the entries, as a purge that cannot write */
};

static void purge_cb(void *arg)
{
	struct purges *pu = arg;

	if (pu->n < NELEM(pu->sizes))
		pu->sizes[pu->n] = agg_count(pu->b->table);
	pu->n++;
	if (pu->fail)
		return;
	for (struct agg_entry *e = agg_next(pu->b->table, NULL); e; e = agg_next(pu->b->table, e))
		pu->packets += e->packets;
	agg_clear(pu->b->table);
}

static uint64_t table_packets(const struct agg_table *t)
{
	uint64_t n = 0;

	for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e))
		n += e->packets;
	return n;
}

/*
 * pmacct's ceilings, and the early purge: a new key at the ceiling purges
 * the whole table first (each purge sees exactly the ceiling), a key
 * already there does not, nothing is lost, the log says so as pmacct.
 */
static void test_ceiling(void)
{
	struct rig r;
	struct binned b;
	struct purges pu = { .b = &b };
	struct logtail lt;
	int64_t t = time(NULL);
	char dir[] = "/tmp/test_binned_XXXXXX";

	is_int((int)binned_print_ceiling(100), 1099, "print_cache_entries 100: 1099 entries (1.7.7)");
	is_int((int)binned_print_ceiling(0), 16411 * 11 - 1, "default: 16411 x 11 - 1");
	is_int((int)binned_sql_ceiling(100, 10), 1100, "sql_cache_entries 100, refresh 10: 1100 (1.7.7)");
	is_int((int)binned_sql_ceiling(0, 0), 32771 + 6000, "SQL defaults: 32771 + 60 x 100");

	if (!mkdtemp(dir))
		abort();
	logtail_open(&lt, dir);
	struct gauges *g = gauges_new();
	struct table_gauge *tg = gauges_add(g, "test/print", "cache", "print_cache_entries",
	    GAUGE_PURGE, 10, 0);
	rig_init(&r, false, false, false);
	binned_init(&b, &r.p, 4);
	binned_set_ceiling(&b, 10, "print_cache_entries", purge_cb, &pu, tg);
	for (int i = 0; i < 25; i++) {
		struct flow_rec a = rec((uint8_t)i, t, t, t, 100);
		binned_account(&b, &a);
	}
	is_int((int)pu.n, 2, "25 keys, ceiling 10: two early purges");
	ok(pu.sizes[0] == 10 && pu.sizes[1] == 10, "each purge held exactly the ceiling (%zu, %zu)",
	    pu.sizes[0], pu.sizes[1]);
	is_int((int)agg_count(b.table), 5, "the rest stays for the timed purge");
	struct flow_rec again = rec(24, t, t, t, 100);
	for (int i = 0; i < 5; i++) {
		struct flow_rec x = rec((uint8_t)(200 + i), t, t, t, 100);
		binned_account(&b, &x);
	}
	binned_account(&b, &again);	/* full, but its key is there: no purge */
	is_int((int)pu.n, 2, "a known key at the ceiling does not purge");
	is_int((int)(pu.packets + table_packets(b.table)), 31, "every packet in a purge or the table");
	log_is(&lt, "INFO ( test/print ): Finished cache entries (ie. print_cache_entries). Purging.\n"
	    "INFO ( test/print ): Finished cache entries (ie. print_cache_entries). Purging.\n",
	    "one line per early purge, as pmacct");
	binned_publish(&b);
	is_int((int)atomic_load(&tg->peak_entries), 10, "the gauge's peak is the ceiling");
	is_int((int)atomic_load(&tg->at_ceiling), 2, "the gauge counted both");

	/* a purge that cannot write keeps its entries: the table grows by another ceiling, logged */
	pu.fail = true;
	struct flow_rec n1 = rec(250, t, t, t, 100);
	binned_account(&b, &n1);
	is_int((int)agg_count(b.table), 11, "kept: the new key goes in past the ceiling");
	char *lines = logtail_new(&lt);
	ok(strstr(lines, "growing past print_cache_entries to 20 entries") != NULL,
	    "the failed purge says how far the table may grow");
	free(lines);
	int before = (int)pu.n;
	for (int i = 0; i < 9; i++) {
		struct flow_rec x = rec((uint8_t)(150 + i), t, t, t, 100);
		binned_account(&b, &x);
	}
	is_int((int)pu.n, before, "no new try before the next ceiling");
	pu.fail = false;
	struct flow_rec n2 = rec(251, t, t, t, 100);
	binned_account(&b, &n2);
	is_int((int)pu.n, before + 1, "at 20: tried again, and it got through");
	is_int((int)agg_count(b.table), 1, "room again: the table holds the new key only");
	is_int((int)(pu.packets + table_packets(b.table)), 42, "still nothing lost");
	binned_fini(&b);
	gauges_free(g);
	log_open(NULL, NULL, false);
	remove(lt.path);
	rmdir(dir);
}

/* sum_host: one record makes two entries; the purge comes before the pair, never between. */
static void test_ceiling_sum(void)
{
	struct rig r;
	struct binned b;
	struct purges pu = { .b = &b };
	int64_t t = time(NULL);

	rig_init(&r, false, false, false);
	memset(&r.pc.aggregate, 0, sizeof(r.pc.aggregate));
	prim_parse_list(NULL, "sum_host", &r.pc.aggregate, NULL, 0);
	binned_init(&b, &r.p, 4);
	binned_set_ceiling(&b, 5, "print_cache_entries", purge_cb, &pu, NULL);
	for (int i = 0; i < 6; i++) {
		struct flow_rec a = rec((uint8_t)(10 + i), t, t, t, 100);
		a.k.dst_ip.af = 4;
		a.k.dst_ip.a[0] = 192;
		a.k.dst_ip.a[3] = (uint8_t)(10 + i);
		binned_account(&b, &a);
		ok(agg_count(b.table) <= 5, "record %d: at most the ceiling (%zu)", i, agg_count(b.table));
	}
	ok(pu.n == 2 && pu.sizes[0] == 4 && pu.sizes[1] == 4,
	    "pairs of new keys: purged at 4 of 5, as a fifth and sixth would pass it (%zu: %zu, %zu)",
	    pu.n, pu.sizes[0], pu.sizes[1]);
	is_int((int)(pu.packets + table_packets(b.table)), 12, "two rows per packet, all there");
	binned_fini(&b);
}

int main(void)
{
	test_types();
	test_plain();
	test_history();
	test_stitching();
	test_pro_rating();
	test_check();
	test_deadline();
	test_ceiling();
	test_ceiling_sum();
	return tap_done();
}
