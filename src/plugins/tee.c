/* SPDX-License-Identifier: BSD-3-Clause */
/* tee.c: the tee plugin: replicate NetFlow/sFlow datagrams unchanged to pools of receivers (tee_receivers map). */
#include "tee.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mapfile.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "maps/tagfilter.h"
#include "plugins/nfprobe_net.h"
#include "plugins/plugin.h"

#define TEE_RAW_MAX (65536 + 48)

struct tee_recv {
	struct probe_addr addr;
	struct probe_addr src;		/* tee_source_ip, when has_src */
	bool has_src;
	int fd;				/* connected UDP socket (map_open); -1 in transparent mode */
	_Atomic uint64_t sent;
};

struct tee_pool {
	uint32_t id;
	struct tee_recv *r;
	size_t n;
	enum tee_alg alg;
	struct tagfilter *tags;		/* NULL: every datagram */
	_Atomic uint64_t rr;
};

struct tee_map {
	struct tee_pool *pools;
	size_t npools;
	bool uses_tags;			/* a tag filter or hash-tag: evaluate pre_tag_map */
};

/*
 * Locking.  tee_datagram() runs on the receive threads, and with
 * collector_workers on several of them at once; the collector takes no
 * lock around it.  What they share is made safe here, once:
 *   - the receivers map: read under `lock` (shared), replaced on SIGUSR2
 *     under it (exclusive) by the one thread that wins the `gen` exchange;
 *   - every counter (datagrams, errors, sent, a pool's round-robin turn):
 *     atomics;
 *   - the sockets: each send() or sendto() is one system call on a UDP or
 *     raw socket, which the kernel serialises, from a buffer on the
 *     caller's stack.
 * So receive threads replicate in parallel and wait only for a reload.
 */
struct tee_state {
	struct tee_map *map;
	int raw4, raw6;			/* tee_transparent: raw sockets, -1 = none */
	pthread_rwlock_t lock;		/* map swaps (SIGUSR2) vs. receive threads */
	_Atomic unsigned gen;		/* maps generation loaded (SIGUSR2) */
	_Atomic uint64_t datagrams, errors, unsendable;
};

/* ---- balancing -------------------------------------------------------- */

uint32_t tee_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

size_t tee_pick(enum tee_alg alg, size_t n, _Atomic uint64_t *rr, const struct fr_ip *agent,
    uint64_t tag)
{
	size_t alen = agent->af == 6 ? 16 : 4;
	const uint8_t *a = agent->a + alen - 4;

	switch (alg) {
	case TEE_RR:
		return (size_t)(atomic_fetch_add(rr, 1) % n);
	case TEE_HASH_AGENT:
		return (((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3]) % n;
	case TEE_HASH_TAG:
		return (size_t)(tag % n);
	case TEE_HASH_CRC32:
		return tee_crc32(agent->a, alen) % n;
	default:
		return 0;
	}
}

/* ---- the receivers map ------------------------------------------------ */

static void map_free(struct tee_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->npools; i++) {
		for (size_t j = 0; j < m->pools[i].n; j++)
			if (m->pools[i].r[j].fd >= 0)
				close(m->pools[i].r[j].fd);
		free(m->pools[i].r);
		free(m->pools[i].tags);
	}
	free(m->pools);
	free(m);
}

/* The receivers of `ip=a:p,b:p`, parsed (map_open opens their sockets). */
static int parse_receivers(const struct plugin *p, struct tee_pool *pool, char *list, char *why,
    size_t wl)
{
	const struct plugin_cfg *pc = p->cfg;
	char *save = NULL;

	for (char *r = strtok_r(list, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
		if (pool->n == pc->tee_max_receivers) {
			snprintf(why, wl, "more than tee_max_receivers (%u) receivers", pc->tee_max_receivers);
			return -1;
		}
		pool->r = xrealloc(pool->r, (pool->n + 1) * sizeof(*pool->r));
		struct tee_recv *rv = &pool->r[pool->n++];
		memset(rv, 0, sizeof(*rv));
		rv->fd = -1;
		if (probe_addr_parse(r, 2100, &rv->addr, why, wl) < 0)
			return -1;
		if (pc->tee_source_ip && !pc->tee_transparent) {
			char sw[200];
			if (probe_source_parse(pc->tee_source_ip, &rv->addr, &rv->src, sw, sizeof(sw)) < 0) {
				snprintf(why, wl, "receiver '%s': tee_source_ip: %s", r, sw);
				return -1;
			}
			rv->has_src = true;
		}
	}
	if (!pool->n) {
		snprintf(why, wl, "'ip' names no receiver");
		return -1;
	}
	return 0;
}

/* One map row (maps/tee_map.h) into a new pool of m: 0, or -1 with why. */
static int parse_line(const struct plugin *p, struct tee_map *m, char *row, char *why, size_t wl)
{
	struct tee_map_row r;
	struct tee_pool pool = { 0 };

	if (tee_map_row_parse(row, &r, why, wl) < 0)
		return -1;
	pool.id = r.id;
	pool.alg = r.alg;
	pool.tags = r.tags;
	m->uses_tags |= r.tags != NULL || r.alg == TEE_HASH_TAG;
	for (size_t i = 0; i < m->npools; i++)
		if (m->pools[i].id == pool.id) {
			snprintf(why, wl, "pool id %u is defined twice", pool.id);
			goto out;
		}
	if (m->npools == p->cfg->tee_max_receiver_pools) {
		snprintf(why, wl, "more than tee_max_receiver_pools (%u) pools",
		    p->cfg->tee_max_receiver_pools);
		goto out;
	}
	if (parse_receivers(p, &pool, r.ip, why, wl) < 0)
		goto out;
	m->pools = xrealloc(m->pools, (m->npools + 1) * sizeof(*m->pools));
	m->pools[m->npools++] = pool;
	return 0;
out:
	for (size_t j = 0; j < pool.n; j++)
		if (pool.r[j].fd >= 0)
			close(pool.r[j].fd);
	free(pool.r);
	free(pool.tags);
	return -1;
}

/*
 * Load and parse tee_receivers, opening no socket: the one validation of
 * the map for -T config (tee_check), start-up and reloads.  NULL after
 * logging file, line and reason.
 */
static struct tee_map *map_load(const struct plugin *p)
{
	const char *path = p->cfg->tee_receivers;
	struct mapfile mf;
	struct tee_map *m;
	char why[256], *row;

	if (mapfile_init(&mf, path) < 0) {
		log_err_errno(p->who, "[%s] key 'tee_receivers[%s]': cannot read '%s'",
		    cfg_where(&p->cfg->origin, "tee_receivers"), p->cfg->name, path);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	while ((row = mapfile_next(&mf))) {
		if (parse_line(p, m, row, why, sizeof(why)) < 0) {
			mapfile_error(&mf, p->who, "tee_receivers: %s", why);
			mapfile_fini(&mf);
			map_free(m);
			return NULL;
		}
	}
	mapfile_fini(&mf);
	if (!m->npools)
		log_warnx(p->who, "[%s] tee_receivers defines no pool: nothing is replicated", path);
	return m;
}

/* Open the UDP socket of every receiver of m (not in transparent mode). 0, or -1 after logging. */
static int map_open(const struct plugin *p, struct tee_map *m)
{
	char why[256], a[80];

	if (p->cfg->tee_transparent)
		return 0;
	for (size_t i = 0; i < m->npools; i++)
		for (size_t j = 0; j < m->pools[i].n; j++) {
			struct tee_recv *rv = &m->pools[i].r[j];
			struct probe_sock_opts o = { .src = rv->has_src ? &rv->src : NULL,
				.sndbuf = p->cfg->tee_pipe_size };
			if ((rv->fd = probe_sock_open(&rv->addr, &o, why, sizeof(why))) < 0) {
				log_err(p->who, "[%s] pool %u, receiver %s: %s", p->cfg->tee_receivers,
				    m->pools[i].id, probe_addr_str(&rv->addr, a, sizeof(a)), why);
				return -1;
			}
		}
	return 0;
}

/* ---- sending ---------------------------------------------------------- */

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/*
 * Transparent mode: an IP + UDP header with the exporter's address and
 * port (RFC 791 / RFC 8200, RFC 768) in front of the datagram, through a
 * raw socket.  The kernel fills the IPv4 checksum and id; the UDP checksum
 * is 0 over IPv4 and computed over IPv6 (mandatory there).
 */
static int send_transparent(struct tee_state *s, const struct tee_recv *r, const struct dgram *d)
{
	uint8_t pkt[TEE_RAW_MAX];
	size_t ihl = d->src.af == 6 ? 40 : 20, ulen = 8 + d->len;
	uint16_t dport;

	if (ulen + ihl > TEE_RAW_MAX || ulen > 65535)
		return -1;
	if (d->src.af == 4 && r->addr.ss.ss_family == AF_INET) {
		const struct sockaddr_in *to = (const struct sockaddr_in *)&r->addr.ss;
		uint8_t *ip = pkt;
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = (uint8_t)((ihl + ulen) >> 8);
		ip[3] = (uint8_t)(ihl + ulen);
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, d->src.a, 4);
		memcpy(ip + 16, &to->sin_addr, 4);
		dport = ntohs(to->sin_port);
	} else if (d->src.af == 6 && r->addr.ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *to = (const struct sockaddr_in6 *)&r->addr.ss;
		uint8_t *ip = pkt;
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[4] = (uint8_t)(ulen >> 8);
		ip[5] = (uint8_t)ulen;
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, d->src.a, 16);
		memcpy(ip + 24, &to->sin6_addr, 16);
		dport = ntohs(to->sin6_port);
	} else {
		s->unsendable++;	/* IPv4 and IPv6 cannot be bridged keeping the source */
		return 0;
	}
	uint8_t *u = pkt + ihl;
	u[0] = (uint8_t)(d->src_port >> 8);
	u[1] = (uint8_t)d->src_port;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[4] = (uint8_t)(ulen >> 8);
	u[5] = (uint8_t)ulen;
	u[6] = u[7] = 0;
	memcpy(u + 8, d->data, d->len);
	if (d->src.af == 6) {
		uint8_t ph[8] = { 0, 0, (uint8_t)(ulen >> 8), (uint8_t)ulen, 0, 0, 0, 17 };
		uint32_t sum = csum_add(0, pkt + 8, 32);	/* source and destination */
		sum = csum_add(sum, ph, 8);
		uint16_t c = csum_fold(csum_add(sum, u, ulen));
		if (!c)
			c = 0xffff;
		u[6] = (uint8_t)(c >> 8);
		u[7] = (uint8_t)c;
	}
	int fd = d->src.af == 6 ? s->raw6 : s->raw4;
	return sendto(fd, pkt, ihl + ulen, 0, (const struct sockaddr *)&r->addr.ss, r->addr.len) < 0
	    ? -1 : 0;
}

static void send_one(struct plugin *p, struct tee_state *s, struct tee_recv *r, const struct dgram *d)
{
	int rc = s->raw4 >= 0 || s->raw6 >= 0 ? send_transparent(s, r, d)
	    : (send(r->fd, d->data, d->len, 0) < 0 ? -1 : 0);

	if (rc < 0) {
		if (s->errors++ % 1000 == 0) {
			char a[80];
			log_warn(p->who, "cannot replicate to %s",
			    probe_addr_str(&r->addr, a, sizeof(a)));
		}
	} else {
		r->sent++;
	}
}

static void tee_reload(struct plugin *p, struct tee_state *s)
{
	log_info(p->who, "[%s] (re)loading map.", p->cfg->tee_receivers);
	struct tee_map *m = map_load(p);
	if (m && map_open(p, m) < 0) {
		map_free(m);
		m = NULL;
	}
	if (!m) {
		log_warnx(p->who, "[%s] reload failed; keeping the previous receivers.",
		    p->cfg->tee_receivers);
		return;
	}
	map_free(s->map);
	s->map = m;
	log_info(p->who, "[%s] map successfully (re)loaded.", p->cfg->tee_receivers);
}

/* The hook: replicate one datagram to the pools whose tags it matches (locking: tee_state). */
static void tee_datagram(struct plugin *p, const struct dgram *d, const struct plugin_tagger *tg)
{
	struct tee_state *s = p->state;

	if (!s)
		return;
	unsigned gen = atomic_load(&p->maps_gen), seen = atomic_load(&s->gen);
	if (gen != seen && atomic_compare_exchange_strong(&s->gen, &seen, gen)) {
		pthread_rwlock_wrlock(&s->lock);
		tee_reload(p, s);
		pthread_rwlock_unlock(&s->lock);
	}
	pthread_rwlock_rdlock(&s->lock);
	uint64_t tag = s->map->uses_tags ? tg->tag(tg->arg, tg->index, d) : 0;
	s->datagrams++;
	for (size_t j = 0; j < s->map->npools; j++) {
		struct tee_pool *pool = &s->map->pools[j];
		if (pool->tags && !tagfilter_pass(pool->tags, tag))
			continue;
		if (pool->alg == TEE_ALL) {
			for (size_t k = 0; k < pool->n; k++)
				send_one(p, s, &pool->r[k], d);
		} else {
			send_one(p, s, &pool->r[tee_pick(pool->alg, pool->n, &pool->rr, &d->src, tag)], d);
		}
	}
	pthread_rwlock_unlock(&s->lock);
}

/* ---- plugin ----------------------------------------------------------- */

/* tee_transparent: a raw IPv4 socket, or -1 after logging (it needs root or CAP_NET_RAW). */
static int raw_open(const struct plugin *p)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0)
		log_err(p->who, "[%s] key 'tee_transparent[%s]': cannot open a raw socket: %s "
		    "(needs root or CAP_NET_RAW). Exiting.",
		    cfg_where(&p->cfg->origin, "tee_transparent"), p->cfg->name, strerror(errno));
	return fd;
}

/*
 * Everything start-up refuses, opening nothing that stays open: a
 * receivers map is given and parses, and tee_transparent can have its raw
 * sockets.
 */
static int tee_check(const struct plugin *p)
{
	struct tee_map *m;

	if (!p->cfg->tee_receivers) {
		/* the key is not there: name the file that lacks it */
		log_err(p->who, "[%s] key 'tee_receivers[%s]': no receivers map given. Exiting.",
		    p->core->config_file ? p->core->config_file : "command line", p->cfg->name);
		return -1;
	}
	if (p->cfg->tee_transparent) {
		int fd = raw_open(p);
		if (fd < 0)
			return -1;
		close(fd);
	}
	if (!(m = map_load(p)))
		return -1;
	map_free(m);
	return 0;
}

/* Open the sockets of the map tee_check() accepted (raw ones in transparent mode). */
static int tee_init(struct plugin *p)
{
	struct tee_state *s = xcalloc(1, sizeof(*s));

	s->raw4 = s->raw6 = -1;
	pthread_rwlock_init(&s->lock, NULL);
	p->state = s;
	if (p->cfg->tee_transparent) {
		if ((s->raw4 = raw_open(p)) < 0)
			return -1;
		s->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (p->cfg->tee_pipe_size) {
			size_t want = p->cfg->tee_pipe_size;
			int v = want > (size_t)INT32_MAX ? INT32_MAX : (int)want;
			setsockopt(s->raw4, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v));
			if (s->raw6 >= 0)
				setsockopt(s->raw6, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v));
		}
	}
	if (!(s->map = map_load(p)) || map_open(p, s->map) < 0)
		return -1;
	s->gen = atomic_load(&p->maps_gen);
	size_t nr = 0;
	for (size_t i = 0; i < s->map->npools; i++)
		nr += s->map->pools[i].n;
	log_info(p->who, "replicating to %zu receivers in %zu pools%s", nr, s->map->npools,
	    p->cfg->tee_transparent ? " (transparent)" : "");
	return 0;
}

static void tee_record(struct plugin *p, const struct flow_rec *rec)
{
	(void)p;
	(void)rec;
}

static void tee_flush(struct plugin *p)
{
	struct tee_state *s = p->state;

	if (s && s->map)
		log_info(p->who, "replicated %llu datagrams (%llu send errors)",
		    (unsigned long long)s->datagrams, (unsigned long long)s->errors);
}

static void tee_fini(struct plugin *p)
{
	struct tee_state *s = p->state;

	if (!s)
		return;
	map_free(s->map);
	if (s->raw4 >= 0)
		close(s->raw4);
	if (s->raw6 >= 0)
		close(s->raw6);
	pthread_rwlock_destroy(&s->lock);
	free(s);
	p->state = NULL;
}

const struct plugin_type tee_plugin_type = {
	.name = "tee",
	.daemons = SRC_NF | SRC_SF,
	.datagram = tee_datagram,
	.check = tee_check,
	.init = tee_init,
	.record = tee_record,
	.flush = tee_flush,
	.fini = tee_fini,
};
