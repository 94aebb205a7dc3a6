/* SPDX-License-Identifier: BSD-3-Clause */
/* plugin.c: the plugin runtime: rings, threads and the table of plugin types. */
#include "plugin.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "model/prim.h"

extern const struct plugin_type print_plugin_type;

static const struct plugin_type *const plugin_types[] = {
	&print_plugin_type,
};

const struct plugin_type *plugin_type_find(const char *name)
{
	for (size_t i = 0; i < sizeof(plugin_types) / sizeof(plugin_types[0]); i++)
		if (strcmp(plugin_types[i]->name, name) == 0)
			return plugin_types[i];
	return NULL;
}

static int compile_filter(struct plugin *p, int linktype, int snaplen)
{
	pcap_t *dead;

	if (!p->cfg->aggregate_filter || !p->cfg->aggregate_filter[0])
		return 0;
	dead = pcap_open_dead(linktype, snaplen > 0 ? snaplen : 65535);
	if (!dead)
		return -1;
	if (pcap_compile(dead, &p->filter, p->cfg->aggregate_filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		log_err(p->who, "%s: key 'aggregate_filter[%s]': bad BPF filter '%s': %s",
		    p->core->config_file ? p->core->config_file : "command line",
		    p->cfg->name, p->cfg->aggregate_filter, pcap_geterr(dead));
		pcap_close(dead);
		return -1;
	}
	pcap_close(dead);
	p->has_filter = true;
	return 0;
}

static int plugin_setup(struct plugin *p, struct core_cfg *cfg, struct plugin_cfg *pc,
    uint8_t daemon, int linktype, int snaplen)
{
	p->cfg = pc;
	p->core = cfg;
	snprintf(p->who, sizeof(p->who), "%s/%s", pc->name, pc->type);
	p->type = plugin_type_find(pc->type);
	if (!p->type || !(p->type->daemons & daemon)) {
		log_err("default/core", "plugin type '%s' (plugin '%s') is not available in this daemon",
		    pc->type, pc->name);
		return -1;
	}
	if (compile_filter(p, linktype, snaplen) < 0)
		return -1;

	size_t rec = sizeof(struct flow_rec);
	size_t bsize = pc->buffer_size ? pc->buffer_size : 10240;
	if (bsize < rec)
		bsize = rec;
	size_t psize = pc->pipe_size ? pc->pipe_size : 4096000;
	size_t nslots = psize / bsize;
	p->batch_cap = bsize / rec;
	p->ring = ring_new(p->batch_cap * rec, nslots);
	p->rng = 0x2545F4914F6CDD1DULL ^ (uint64_t)(uintptr_t)p ^ (uint64_t)time(NULL);
	log_debug(p->who, "plugin_pipe_size=%zu plugin_buffer_size=%zu: %zu slots of %zu records",
	    psize, bsize, nslots < 2 ? 2 : nslots, p->batch_cap);
	return p->type->init ? p->type->init(p) : 0;
}

struct plugin *plugins_create(struct core_cfg *cfg, uint8_t daemon, int linktype, int snaplen)
{
	struct plugin *ps = xcalloc((size_t)cfg->nplugins, sizeof(*ps));

	for (int i = 0; i < cfg->nplugins; i++) {
		if (plugin_setup(&ps[i], cfg, &cfg->plugins[i], daemon, linktype, snaplen) < 0) {
			for (int j = 0; j < i; j++) {
				if (ps[j].type->fini)
					ps[j].type->fini(&ps[j]);
				ring_free(ps[j].ring);
			}
			free(ps);
			return NULL;
		}
	}
	return ps;
}

static void *plugin_main(void *arg)
{
	struct plugin *p = arg;
	const struct plugin_type *t = p->type;

	for (;;) {
		int wait = t->next_tick_ms ? t->next_tick_ms(p) : -1;
		size_t len = 0;
		bool closed = false;
		const void *b = ring_next(p->ring, wait < 0 ? 1000 : wait, &len, &closed);

		if (b) {
			const struct flow_rec *r = b;
			for (size_t i = 0; i < len / sizeof(*r); i++)
				t->record(p, &r[i]);
			ring_release(p->ring);
		} else if (closed) {
			break;
		}
		if (t->tick && t->next_tick_ms && t->next_tick_ms(p) == 0)
			t->tick(p);
	}
	if (t->flush)
		t->flush(p);
	return NULL;
}

void plugins_start(struct plugin *ps, int n)
{
	for (int i = 0; i < n; i++) {
		if (pthread_create(&ps[i].thread, NULL, plugin_main, &ps[i]) != 0)
			fatal("default/core", "cannot start the thread of plugin %s", ps[i].who);
		ps[i].started = true;
	}
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void plugin_flush_batch(struct plugin *p)
{
	if (!p->batch || !p->batch_len)
		return;
	ring_commit(p->ring, p->batch_len * sizeof(struct flow_rec));
	p->batch = NULL;
	p->batch_len = 0;
}

void plugin_offer(struct plugin *p, const struct flow_rec *rec,
    const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	if (p->has_filter && h && !pcap_offline_filter(&p->filter, h, pkt)) {
		atomic_fetch_add_explicit(&p->stats.filtered, 1, memory_order_relaxed);
		return;
	}
	if (p->cfg->sampling_rate > 1 && xorshift(&p->rng) % p->cfg->sampling_rate)
		return;
	if (!p->batch) {
		p->batch = ring_acquire(p->ring, p->wait_when_full);
		if (!p->batch) {
			/* live capture never blocks: the record is lost and counted */
			atomic_fetch_add_explicit(&p->stats.dropped_records, 1, memory_order_relaxed);
			return;
		}
	}
	struct flow_rec *r = (struct flow_rec *)p->batch + p->batch_len++;
	*r = *rec;
	if (p->cfg->post_tag)
		r->k.tag = p->cfg->post_tag;
	if (p->cfg->post_tag2)
		r->k.tag2 = p->cfg->post_tag2;
	if (p->cfg->sampling_rate > 1)
		r->k.sampling_rate = p->cfg->sampling_rate;
	atomic_fetch_add_explicit(&p->stats.records, 1, memory_order_relaxed);
	if (p->batch_len == p->batch_cap)
		plugin_flush_batch(p);
}

void plugins_stop(struct plugin *ps, int n)
{
	for (int i = 0; i < n; i++) {
		plugin_flush_batch(&ps[i]);
		ring_close(ps[i].ring);
	}
	for (int i = 0; i < n; i++) {
		if (ps[i].started)
			pthread_join(ps[i].thread, NULL);
		if (ps[i].type->fini)
			ps[i].type->fini(&ps[i]);
		if (ps[i].has_filter)
			pcap_freecode(&ps[i].filter);
		ring_free(ps[i].ring);
	}
	free(ps);
}
