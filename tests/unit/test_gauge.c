/* SPDX-License-Identifier: BSD-3-Clause */
/* test_gauge.c: the registry of table ceilings: registration, lookup, fill and peak, the -T config plan, SIGUSR1 lines, many writers. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logtail.h"
#include "model/gauge.h"
#include "tap.h"

static void test_registry(void)
{
	struct gauges *g = gauges_new();
	struct table_gauge *a = gauges_add(g, "p/print", "cache", "print_cache_entries", GAUGE_PURGE,
	    1099, 2 << 20);
	struct table_gauge *b = gauges_add(g, "m/memory", "cache", "imt_mem_pools_number",
	    GAUGE_REFUSE, 0, 0);

	ok(a && b && a != b, "two tables registered");
	is_int((int)gauges_count(g), 2, "counted");
	ok(gauges_find(g, "p/print", "cache") == a, "found by owner and table");
	ok(gauges_find(g, "p/print", "ring") == NULL, "an unknown table is not found");
	ok(gauges_find(NULL, "p/print", "cache") == NULL, "no registry: nothing found");
	ok(gauges_add(NULL, "x", "y", NULL, GAUGE_FIXED, 1, 1) == NULL, "no registry: NULL gauge");
	gauge_set(NULL, 1, 1);		/* no-ops, no crash */
	gauge_hit(NULL, 1);

	gauge_set(a, 500, 1000);
	gauge_set(a, 1099, 2000);
	gauge_set(a, 3, 10);
	is_int((int)atomic_load(&a->entries), 3, "entries now");
	is_int((int)atomic_load(&a->peak_entries), 1099, "the peak stays");
	gauge_hit(a, 0);
	gauge_hit(b, 7);
	gauge_refuse(b, 5);
	is_int((int)atomic_load(&a->at_ceiling), 1, "one early purge");
	is_int((int)atomic_load(&b->at_ceiling), 1, "one fill");
	is_int((int)atomic_load(&b->refused), 12, "refusals added up");
	is_str(gauge_policy_name(GAUGE_SPILL), "spill", "policy names");

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	gauges_plan(g, f);
	fclose(f);
	is_str(buf, "! memory ceilings (tables that grow with traffic):\n"
	    "!   p/print cache: 1099 entries, 2.0 MiB (2097152 bytes), set by print_cache_entries; "
	    "when full: purge\n"
	    "!   m/memory cache: unbounded (imt_mem_pools_number: 0)\n"
	    "!   total: 2.0 MiB (2097152 bytes) plus the unbounded tables above\n",
	    "-T config: one comment line per table and the total");
	free(buf);

	char dir[] = "/tmp/test_gauge_XXXXXX";
	struct logtail lt;
	if (!mkdtemp(dir))
		abort();
	logtail_open(&lt, dir);
	gauges_log(g, "default/core");
	log_is(&lt, "NOTICE ( default/core ): table [p/print] cache entries=3/1099 bytes=10/2097152 "
	    "peak=1099 at_ceiling=1 refused=0 policy=purge\n"
	    "NOTICE ( default/core ): table [m/memory] cache entries=0/0 bytes=0/0 peak=0 "
	    "at_ceiling=1 refused=12 policy=refuse\n", "SIGUSR1: one line per table");
	log_open(NULL, NULL, false);
	remove(lt.path);
	rmdir(dir);
	gauges_free(g);
}

/* More tables than the registry holds: the rest work unreported. */
static void test_full(void)
{
	struct gauges *g = gauges_new();
	int got = 0;

	for (int i = 0; i < GAUGE_MAX + 5; i++)
		got += gauges_add(g, "o", "t", NULL, GAUGE_FIXED, 1, 1) != NULL;
	is_int(got, GAUGE_MAX, "GAUGE_MAX registered, the rest refused");
	gauges_free(g);
}

struct writer_arg {
	struct table_gauge *t;
	int id;
};

static void *writer(void *arg)
{
	struct writer_arg *w = arg;

	for (int i = 1; i <= 100000; i++)
		gauge_set(w->t, (uint64_t)i, (uint64_t)i * 10);
	gauge_hit(w->t, 1);
	return NULL;
}

/* Several threads publishing and registering at once (run under TSan in `make tsan`). */
static void test_threads(void)
{
	struct gauges *g = gauges_new();
	pthread_t th[4];
	struct writer_arg wa[4];

	for (int i = 0; i < 4; i++) {
		wa[i].t = gauges_add(g, "t", "x", NULL, GAUGE_PURGE, 0, 0);
		wa[i].id = i;
		pthread_create(&th[i], NULL, writer, &wa[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	int peaks = 0;
	for (int i = 0; i < 4; i++)
		peaks += atomic_load(&wa[i].t->peak_entries) == 100000;
	is_int(peaks, 4, "each writer's peak");
	gauges_free(g);
}

int main(void)
{
	test_registry();
	test_full();
	test_threads();
	return tap_done();
}
