/* SPDX-License-Identifier: BSD-3-Clause */
/* gauge.c: the registry of table ceilings and fills (model/gauge.h). */
#include "model/gauge.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"

struct gauges {
	pthread_mutex_t mu;		/* registration only */
	_Atomic size_t n;		/* published after the slot is filled */
	bool full_logged;
	struct table_gauge t[GAUGE_MAX];
};

struct gauges *gauges_new(void)
{
	struct gauges *g = xcalloc(1, sizeof(*g));

	pthread_mutex_init(&g->mu, NULL);
	return g;
}

void gauges_free(struct gauges *g)
{
	if (!g)
		return;
	pthread_mutex_destroy(&g->mu);
	free(g);
}

struct table_gauge *gauges_add(struct gauges *g, const char *owner, const char *table,
    const char *key, enum gauge_policy policy, uint64_t max_entries, uint64_t max_bytes)
{
	struct table_gauge *t = NULL;
	size_t n;

	if (!g)
		return NULL;
	pthread_mutex_lock(&g->mu);
	n = atomic_load(&g->n);
	if (n < GAUGE_MAX) {
		t = &g->t[n];
		snprintf(t->owner, sizeof(t->owner), "%s", owner);
		snprintf(t->table, sizeof(t->table), "%s", table);
		t->key = key;
		t->policy = policy;
		atomic_store(&t->max_entries, max_entries);
		atomic_store(&t->max_bytes, max_bytes);
		atomic_store(&g->n, n + 1);
	} else if (!g->full_logged) {
		g->full_logged = true;
		log_warnx(owner, "more than %d tables: table '%s' is not reported", GAUGE_MAX, table);
	}
	pthread_mutex_unlock(&g->mu);
	return t;
}

struct table_gauge *gauges_find(struct gauges *g, const char *owner, const char *table)
{
	size_t n = gauges_count(g);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(g->t[i].owner, owner) && !strcmp(g->t[i].table, table))
			return &g->t[i];
	return NULL;
}

size_t gauges_count(const struct gauges *g)
{
	return g ? atomic_load(&((struct gauges *)g)->n) : 0;
}

const struct table_gauge *gauges_at(const struct gauges *g, size_t i)
{
	return &g->t[i];
}

void gauge_set(struct table_gauge *t, uint64_t entries, uint64_t bytes)
{
	if (!t)
		return;
	atomic_store_explicit(&t->entries, entries, memory_order_relaxed);
	atomic_store_explicit(&t->bytes, bytes, memory_order_relaxed);
	if (entries > atomic_load_explicit(&t->peak_entries, memory_order_relaxed))
		atomic_store_explicit(&t->peak_entries, entries, memory_order_relaxed);
}

void gauge_set_max(struct table_gauge *t, uint64_t max_entries, uint64_t max_bytes)
{
	if (!t)
		return;
	atomic_store(&t->max_entries, max_entries);
	atomic_store(&t->max_bytes, max_bytes);
}

void gauge_hit(struct table_gauge *t, uint64_t refused)
{
	if (!t)
		return;
	atomic_fetch_add_explicit(&t->at_ceiling, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->refused, refused, memory_order_relaxed);
}

void gauge_refuse(struct table_gauge *t, uint64_t n)
{
	if (t)
		atomic_fetch_add_explicit(&t->refused, n, memory_order_relaxed);
}

const char *gauge_policy_name(enum gauge_policy p)
{
	static const char *const names[] = {
		[GAUGE_PURGE] = "purge", [GAUGE_REFUSE] = "refuse", [GAUGE_EXPIRE] = "expire",
		[GAUGE_EVICT] = "evict", [GAUGE_FIXED] = "fixed", [GAUGE_SPILL] = "spill",
	};
	return (size_t)p < sizeof(names) / sizeof(names[0]) && names[p] ? names[p] : "?";
}

void gauges_log(const struct gauges *g, const char *who)
{
	size_t n = gauges_count(g);

	for (size_t i = 0; i < n; i++) {
		const struct table_gauge *t = &g->t[i];
		log_notice(who, "table [%s] %s entries=%" PRIu64 "/%" PRIu64 " bytes=%" PRIu64 "/%"
		    PRIu64 " peak=%" PRIu64 " at_ceiling=%" PRIu64 " refused=%" PRIu64 " policy=%s",
		    t->owner, t->table, atomic_load(&t->entries), atomic_load(&t->max_entries),
		    atomic_load(&t->bytes), atomic_load(&t->max_bytes), atomic_load(&t->peak_entries),
		    atomic_load(&t->at_ceiling), atomic_load(&t->refused), gauge_policy_name(t->policy));
	}
}

/* "123 B", "4.0 KiB", "12.5 MiB", "1.2 GiB" */
static void human(uint64_t b, char *out, size_t len)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = -1;

	while (v >= 1024.0 && u < 3) {
		v /= 1024.0;
		u++;
	}
	if (u < 0)
		snprintf(out, len, "%" PRIu64 " B", b);
	else
		snprintf(out, len, "%.1f %s", v, unit[u]);
}

void gauges_plan(const struct gauges *g, FILE *out)
{
	size_t n = gauges_count(g);
	uint64_t sum = 0;
	bool unbounded = false;
	char h[32];

	if (!n)
		return;
	fprintf(out, "! memory ceilings (tables that grow with traffic):\n");
	for (size_t i = 0; i < n; i++) {
		const struct table_gauge *t = &g->t[i];
		uint64_t me = atomic_load(&t->max_entries), mb = atomic_load(&t->max_bytes);
		if (!me && mb) {	/* a ceiling in bytes only (the BGP RIB: routes vary in size) */
			human(mb, h, sizeof(h));
			sum += mb;
			fprintf(out, "!   %s %s: %s (%" PRIu64 " bytes)%s%s; when full: %s\n", t->owner,
			    t->table, h, mb, t->key ? ", set by " : "", t->key ? t->key : "",
			    gauge_policy_name(t->policy));
			continue;
		}
		if (!me) {
			unbounded = true;
			fprintf(out, "!   %s %s: unbounded (%s: 0)\n", t->owner, t->table,
			    t->key ? t->key : "no key");
			continue;
		}
		human(mb, h, sizeof(h));
		sum += mb;
		fprintf(out, "!   %s %s: %" PRIu64 " %s, ", t->owner, t->table, me,
		    t->policy == GAUGE_FIXED ? "slots" : "entries");
		if (mb)
			fprintf(out, "%s (%" PRIu64 " bytes)", h, mb);
		else
			fprintf(out, "bytes as the entries' own sizes");
		if (t->key)
			fprintf(out, ", set by %s", t->key);
		if (t->policy == GAUGE_FIXED)
			fprintf(out, "; allocated at start-up\n");
		else
			fprintf(out, "; when full: %s\n", gauge_policy_name(t->policy));
	}
	human(sum, h, sizeof(h));
	fprintf(out, "!   total: %s (%" PRIu64 " bytes)%s\n", h, sum,
	    unbounded ? " plus the unbounded tables above" : "");
}
