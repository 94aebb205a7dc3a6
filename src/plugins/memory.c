/* SPDX-License-Identifier: BSD-3-Clause */
/* memory.c: the memory plugin: an in-memory table served to the pmacct client over a unix socket, between batches. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fsutil.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "model/gauge.h"
#include "plugins/agg.h"
#include "plugins/imt_proto.h"
#include "plugins/plugin.h"

#define IMT_DEFAULT_PATH	"/tmp/collect.pipe"
#define IMT_DEFAULT_MODE	0660	/* owner and group: the socket is the access control */
#define IMT_MAX_CLIENTS		256
#define IMT_IDLE_MS		10	/* poll the socket this often when idle */
#define IMT_CLIENT_TIMEOUT_MS	10000	/* a client making no progress this long is dropped */
#define IMT_STEP_ENTRIES	32768	/* entries scanned per step (not with -l) */
#define IMT_SLICE_MS		4	/* time given to one client per tick */
#define IMT_BUCKETS_PER_MSG	16384

/* -M / -N requests sharing one set of compared primitives, sorted by hash for lookup. */
struct imt_group {
	struct prim_set set;
	struct flow_key mask;
	size_t lo, hi;			/* span of the mask */
	struct { uint64_t h; uint32_t req; } *ix;
	uint32_t n;
};

enum imt_phase { CL_READ, CL_RUN, CL_DRAIN };

/* One connected client and the reply it is being served. */
struct imt_client {
	int fd;
	enum imt_phase phase;
	int64_t last_ms;		/* last progress, for the timeout */
	uint8_t *in;			/* request being read: header then payload */
	size_t in_len, in_want;
	struct imt_hdr hdr;
	struct imt_buf out;		/* reply bytes not yet sent */
	size_t out_off;
	/* the running job */
	struct imt_query q;
	size_t pos;			/* entry / bucket / request cursor */
	uint64_t gen;			/* table generation the cursor belongs to */
	uint64_t sent;			/* rows sent */
	struct imt_sum *sums;
	struct imt_group *groups;
	int ngroups;
	bool exact;			/* every request names a whole key: hash lookups */
	bool done;
};

struct imt_state {
	struct agg_table *table;
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct imt_client *cl[IMT_MAX_CLIENTS];
	int ncl;
	int64_t erased_at;		/* -1 = never */
	int64_t next_ms;		/* next service, monotonic */
	uint64_t drops_logged;		/* agg_dropped() at the last check */
	bool full_warned;
};

/* ---- the socket ---- */

static const char *imt_path_of(const struct plugin_cfg *pc)
{
	return pc->imt_path ? pc->imt_path : IMT_DEFAULT_PATH;
}

/*
 * Memory plugins of one daemon that share a socket path (the seed's
 * `plugins: memory[in], memory[out]` with no imt_path): as in pmacct, the
 * last one listed owns the socket and the client reaches only that one.
 * Returns the owner of pc's path.
 */
static const struct plugin_cfg *imt_owner(const struct core_cfg *cfg, const struct plugin_cfg *pc)
{
	const struct plugin_cfg *owner = pc;

	for (int i = 0; i < cfg->nplugins; i++) {
		const struct plugin_cfg *o = &cfg->plugins[i];
		if (o > pc && strcmp(o->type, "memory") == 0 && strcmp(imt_path_of(o), imt_path_of(pc)) == 0)
			owner = o;
	}
	return owner;
}

/* Warn once, from the owner, naming every plugin that shares its path and the key that separates them. */
static void warn_shared_path(const struct plugin *p)
{
	const struct core_cfg *cfg = p->core;
	char names[512] = "", keys[768] = "";
	size_t nl = 0, kl = 0;
	int n = 0;

	for (int i = 0; i < cfg->nplugins; i++) {
		const struct plugin_cfg *o = &cfg->plugins[i];
		if (strcmp(o->type, "memory") || strcmp(imt_path_of(o), imt_path_of(p->cfg)) ||
		    imt_owner(cfg, o) != p->cfg)
			continue;
		n++;
		if (nl < sizeof(names))
			nl += (size_t)snprintf(names + nl, sizeof(names) - nl, "%s'%s'", nl ? ", " : "", o->name);
		if (kl < sizeof(keys))
			kl += (size_t)snprintf(keys + kl, sizeof(keys) - kl, "%simt_path[%s]", kl ? ", " : "",
			    o->name);
	}
	if (n > 1)
		log_warnx(p->who, "memory plugins %s share imt_path '%s': only '%s' can be queried there. "
		    "Give each its own socket with %s.", names, imt_path_of(p->cfg), p->cfg->name, keys);
}

/* connect() succeeds: a daemon is serving on the socket at sa. */
static bool socket_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return false;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return rc == 0;
}

static int path_addr(const struct plugin *p, const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		log_err(p->who, "[%s] key 'imt_path': '%s' is too long (max %zu bytes). Exiting.",
		    cfg_where(&p->cfg->origin, "imt_path"), path, sizeof(sa->sun_path) - 1);
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/*
 * What start-up and -T config both check before anything is opened: no
 * variable-length primitive, a socket path that fits, a directory the
 * socket can be made in, no other daemon serving there, and siblings that
 * share it named.
 */
static int memory_check(const struct plugin *p)
{
	const struct plugin_cfg *pc = p->cfg;
	const char *path = imt_path_of(pc);
	struct sockaddr_un sa;
	struct stat st;
	char dir[sizeof(sa.sun_path)];

	for (int i = 0; i < P_COUNT; i++) {
		const struct prim_desc *d = prim_desc_of(pc->prims, i);
		if (prim_has(&pc->aggregate, (enum prim_id)i) && (d->flags & PRIM_VLEN)) {
			log_err(p->who, "variable-length primitives, ie. label as_path std_comm etc., are "
			    "not supported by the memory plugin ('%s'). Exiting ..", d->name);
			return -1;
		}
	}
	if (path_addr(p, path, &sa) < 0)
		return -1;
	if (imt_owner(p->core, pc) != pc)
		return 0;	/* shadowed by a later sibling: it opens nothing */
	warn_shared_path(p);
	fs_dirname(path, dir, sizeof(dir));
	int e = fs_dir_writable(dir);
	if (e) {
		log_err(p->who, "[%s] key 'imt_path': cannot create the socket '%s' in '%s': %s. Exiting.",
		    cfg_where(&pc->origin, "imt_path"), path, dir, strerror(e));
		return -1;
	}
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		log_err(p->who, "[%s] key 'imt_path': '%s': %s. Exiting.", cfg_where(&pc->origin,
		    "imt_path"), path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_err(p->who, "[%s] key 'imt_path': '%s' exists and is not a socket. Exiting.",
		    cfg_where(&pc->origin, "imt_path"), path);
		return -1;
	}
	if (socket_live(&sa)) {
		log_err(p->who, "[%s] key 'imt_path': '%s' is in use by another running daemon "
		    "(a client connects to it). Exiting.", cfg_where(&pc->origin, "imt_path"), path);
		return -1;
	}
	return 0;
}

/* A socket file left by a crashed run refuses connections (memory_check made sure): replace it. */
static int clear_stale(const struct plugin *p, const struct sockaddr_un *sa)
{
	struct stat st;

	if (lstat(sa->sun_path, &st) < 0)
		return 0;
	log_info(p->who, "removing stale socket '%s'", sa->sun_path);
	if (unlink(sa->sun_path) < 0 && errno != ENOENT) {
		log_err_errno(p->who, "cannot remove stale socket '%s'", sa->sun_path);
		return -1;
	}
	return 0;
}

static int open_socket(struct plugin *p, struct imt_state *s)
{
	const char *path = imt_path_of(p->cfg);
	mode_t mode = p->cfg->imt_path_mode ? (mode_t)p->cfg->imt_path_mode : IMT_DEFAULT_MODE;
	const struct plugin_cfg *owner = imt_owner(p->core, p->cfg);
	struct sockaddr_un sa;

	if (owner != p->cfg) {
		log_info(p->who, "not listening: '%s' owns imt_path '%s'", owner->name, path);
		return 0;
	}
	if (path_addr(p, path, &sa) < 0 || clear_stale(p, &sa) < 0)
		return -1;
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, mode) < 0 || listen(s->lfd, 128) < 0) {
		log_err_errno(p->who, "cannot listen on imt_path '%s'", path);
		if (s->lfd >= 0)
			close(s->lfd);
		s->lfd = -1;
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	log_info(p->who, "waiting for data on: '%s'", path);
	return 0;
}

/* ---- clients ---- */

static void job_fini(struct imt_client *c)
{
	imt_query_fini(&c->q);
	free(c->sums);
	c->sums = NULL;
	for (int i = 0; i < c->ngroups; i++)
		free(c->groups[i].ix);
	free(c->groups);
	c->groups = NULL;
	c->ngroups = 0;
}

static void client_drop(struct imt_state *s, int i)
{
	struct imt_client *c = s->cl[i];

	close(c->fd);
	job_fini(c);
	free(c->in);
	imt_buf_fini(&c->out);
	free(c);
	s->cl[i] = s->cl[--s->ncl];
}

static void accept_clients(struct plugin *p, struct imt_state *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (s->ncl == IMT_MAX_CLIENTS) {
			log_warnx(p->who, "too many clients (%d): connection refused", IMT_MAX_CLIENTS);
			close(fd);
			continue;
		}
		struct imt_client *c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->phase = CL_READ;
		c->last_ms = clock_mono_ms();
		c->in = xmalloc(IMT_HDR_LEN);
		c->in_want = IMT_HDR_LEN;
		s->cl[s->ncl++] = c;
	}
}

static void info_of(const struct plugin *p, const struct imt_state *s, struct imt_info *in)
{
	size_t nb = agg_buckets(s->table);

	in->aggregate = p->cfg->aggregate;
	in->entries = agg_count(s->table);
	in->dropped = agg_dropped(s->table);
	in->erased_at = s->erased_at;
	in->now = (int64_t)time(NULL);
	in->buckets = nb > UINT32_MAX ? UINT32_MAX : (uint32_t)nb;
	in->ncustom = prim_custom_count(p->cfg->prims);
	for (int i = 0; i < in->ncustom; i++) {
		snprintf(in->custom[i].name, sizeof(in->custom[i].name), "%s",
		    prim_desc_of(p->cfg->prims, P_CUSTOM_0 + i)->name);
		in->custom[i].c = *prim_custom_get(p->cfg->prims, i);
	}
}

static void fail_client(struct imt_client *c, const char *msg)
{
	imt_error_encode(&c->out, msg);
	c->done = true;
	c->phase = CL_DRAIN;
}

/* ---- matching -M / -N requests ---- */

static uint64_t span_hash(const struct flow_key *k, size_t lo, size_t hi)
{
	return hash_bytes((const uint8_t *)k + lo, hi - lo, hash_seed());
}

static void mask_span(const struct flow_key *mask, size_t *lo, size_t *hi)
{
	const uint8_t *m = (const uint8_t *)mask;
	size_t n = sizeof(*mask);

	*lo = n;
	*hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (m[i]) {
			if (*lo == n)
				*lo = i;
			*hi = i + 1;
		}
	}
	if (*lo == n)
		*lo = *hi = 0;
}

static int ix_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * A sum_* primitive is its own field for pmacct: it matches only in a table
 * aggregated on it, and its src_* alias does not match in that table.
 */
static bool req_possible(const struct prim_set *table, const struct imt_match *m)
{
	for (int i = 0; i < P_COUNT; i++) {
		const struct prim_desc *d = prim_desc_of(NULL, i);	/* sum_* rows are built in */
		if (!(d->flags & PRIM_SUM))
			continue;
		if (prim_has(&m->set, (enum prim_id)i) != prim_has(table, (enum prim_id)i))
			return false;
		if (prim_has(table, (enum prim_id)i) && prim_has(&m->set, d->alias))
			return false;
	}
	return true;
}

/* Group the requests by compared primitives; each group sorted by the hash of its values. */
static void build_groups(struct plugin *p, struct imt_client *c)
{
	c->groups = xcalloc(c->q.nreq, sizeof(*c->groups));
	for (uint32_t r = 0; r < c->q.nreq; r++) {
		struct imt_group *g = NULL;
		if (!req_possible(&p->cfg->aggregate, &c->q.req[r]))
			continue;
		for (int i = 0; i < c->ngroups && !g; i++)
			if (prim_set_eq(&c->groups[i].set, &c->q.req[r].set))
				g = &c->groups[i];
		if (!g) {
			g = &c->groups[c->ngroups++];
			g->set = c->q.req[r].set;
			prim_key_mask(p->cfg->prims, &g->set, &g->mask);
			mask_span(&g->mask, &g->lo, &g->hi);
			g->ix = xcalloc(c->q.nreq, sizeof(*g->ix));
		}
		g->ix[g->n].h = span_hash(&c->q.req[r].key, g->lo, g->hi);
		g->ix[g->n++].req = r;
	}
	for (int i = 0; i < c->ngroups; i++)
		qsort(c->groups[i].ix, c->groups[i].n, sizeof(c->groups[i].ix[0]), ix_cmp);
}

/* True when every request compares exactly the table's key fields. */
static bool all_exact(const struct plugin *p, const struct imt_query *q)
{
	struct flow_key tm, rm;

	prim_key_mask(p->cfg->prims, &p->cfg->aggregate, &tm);
	for (uint32_t r = 0; r < q->nreq; r++) {
		prim_key_mask(p->cfg->prims, &q->req[r].set, &rm);
		if (memcmp(&tm, &rm, sizeof(tm)))
			return false;
	}
	return true;
}

/* ---- producing replies ---- */

struct rows_msg {
	size_t start, count_at;
	uint32_t n;
};

static void rows_open(struct imt_buf *b, struct rows_msg *m)
{
	m->start = imt_msg_begin(b, IMT_R_ROWS);
	m->count_at = b->len;
	m->n = 0;
	imt_put_u32(b, 0);
}

static void rows_close(struct imt_buf *b, struct rows_msg *m)
{
	if (!m->n) {
		b->len = m->start;	/* nothing in it: no message */
		return;
	}
	uint8_t *p = b->p + m->count_at;
	p[0] = (uint8_t)(m->n >> 24);
	p[1] = (uint8_t)(m->n >> 16);
	p[2] = (uint8_t)(m->n >> 8);
	p[3] = (uint8_t)m->n;
	imt_msg_end(b, m->start);
}

/*
 * After each entry: true when the step should yield because a chunk is
 * full.  Under -l the pass never yields: the chunk is closed and another
 * opened in the same buffer.
 */
static bool chunk_full(struct imt_client *c, struct rows_msg *m)
{
	if (c->out.len - m->start < IMT_CHUNK_TARGET)
		return false;
	if (!(c->q.flags & IMT_QF_LOCK))
		return true;
	rows_close(&c->out, m);
	rows_open(&c->out, m);
	return false;
}

static void emit_row(struct plugin *p, struct imt_client *c, struct rows_msg *m,
    const struct agg_entry *e, uint32_t req)
{
	struct imt_state *s = p->state;
	struct imt_row row = { req, e->packets, e->bytes, e->flows, e->tcp_flags, { 0 } };

	agg_entry_key(s->table, e, &row.key);
	imt_row_put(&c->out, p->cfg->prims, &p->cfg->aggregate, &row);
	m->n++;
	c->sent++;
}

static void account_match(struct plugin *p, struct imt_client *c, struct rows_msg *m,
    const struct agg_entry *e, uint32_t req)
{
	if (c->q.mode == IMT_MODE_SUMS) {
		struct imt_sum *sm = &c->sums[req];
		sm->packets += e->packets;
		sm->bytes += e->bytes;
		sm->flows += e->flows;
		sm->entries++;
	} else {
		emit_row(p, c, m, e, req);
	}
}

/* Match one entry against every group; returns whether anything matched. */
static bool match_entry(struct plugin *p, struct imt_client *c, struct rows_msg *m,
    const struct agg_entry *e)
{
	struct imt_state *s = p->state;
	struct flow_key k, mk;
	bool hit = false;

	agg_entry_key(s->table, e, &k);
	for (int g = 0; g < c->ngroups; g++) {
		const struct imt_group *gr = &c->groups[g];
		const uint8_t *a = (const uint8_t *)&k, *msk = (const uint8_t *)&gr->mask;
		uint8_t *o = (uint8_t *)&mk;
		for (size_t i = gr->lo; i < gr->hi; i++)
			o[i] = a[i] & msk[i];
		uint64_t h = span_hash(&mk, gr->lo, gr->hi);
		size_t lo = 0, hi = gr->n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (gr->ix[mid].h < h)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < gr->n && gr->ix[lo].h == h; lo++) {
			const struct flow_key *rk = &c->q.req[gr->ix[lo].req].key;
			if (memcmp(o + gr->lo, (const uint8_t *)rk + gr->lo, gr->hi - gr->lo) == 0) {
				account_match(p, c, m, e, gr->ix[lo].req);
				hit = true;
			}
		}
	}
	return hit;
}

/* Exact requests: one hash lookup each, in request order. */
static void step_exact(struct plugin *p, struct imt_client *c, struct rows_msg *m, size_t budget)
{
	struct imt_state *s = p->state;

	for (; c->pos < c->q.nreq && budget; c->pos++, budget--) {
		struct agg_entry *e = agg_find(s->table, &c->q.req[c->pos].key, 0);
		if (!e || !req_possible(&p->cfg->aggregate, &c->q.req[c->pos]))
			continue;
		account_match(p, c, m, e, (uint32_t)c->pos);
		if (c->q.flags & IMT_QF_RESET)
			agg_delete(s->table, e);
		if (chunk_full(c, m)) {
			c->pos++;
			return;
		}
	}
	if (c->pos >= c->q.nreq)
		c->done = true;
}

/* A pass over the table: every entry (-s) or the matching ones (-M/-N). */
static void step_scan(struct plugin *p, struct imt_client *c, struct rows_msg *m, size_t budget)
{
	struct imt_state *s = p->state;
	struct agg_entry *e = NULL;

	if (agg_generation(s->table) != c->gen) {
		c->done = true;		/* erased meanwhile: what followed is gone */
		return;
	}
	while (budget-- && (e = agg_at(s->table, &c->pos))) {
		if (c->q.mode == IMT_MODE_ALL)
			emit_row(p, c, m, e, 0);
		else if (match_entry(p, c, m, e) && (c->q.flags & IMT_QF_RESET))
			agg_delete(s->table, e);
		if (chunk_full(c, m))
			return;
	}
	if (!e)
		c->done = true;
}

static void finish_query(struct plugin *p, struct imt_client *c)
{
	struct imt_state *s = p->state;

	if (c->q.mode == IMT_MODE_SUMS) {
		size_t mm = imt_msg_begin(&c->out, IMT_R_SUMS);
		imt_put_u32(&c->out, c->q.nreq);
		for (uint32_t i = 0; i < c->q.nreq; i++)
			imt_sum_put(&c->out, &c->sums[i]);
		imt_msg_end(&c->out, mm);
	}
	if (c->q.flags & IMT_QF_ERASE) {
		agg_clear(s->table);
		s->erased_at = (int64_t)time(NULL);
		s->full_warned = false;
	}
}

static void put_end(struct imt_client *c)
{
	size_t mm = imt_msg_begin(&c->out, IMT_R_END);
	imt_put_u64(&c->out, c->sent);
	imt_msg_end(&c->out, mm);
	c->phase = CL_DRAIN;
}

static void step_query(struct plugin *p, struct imt_client *c)
{
	size_t budget = (c->q.flags & IMT_QF_LOCK) ? SIZE_MAX : IMT_STEP_ENTRIES;
	struct rows_msg m;

	rows_open(&c->out, &m);
	if (c->exact)
		step_exact(p, c, &m, budget);
	else
		step_scan(p, c, &m, budget);
	rows_close(&c->out, &m);
	if (c->done) {
		finish_query(p, c);
		put_end(c);
	}
}

static void step_status(struct plugin *p, struct imt_client *c)
{
	struct imt_state *s = p->state;
	size_t nb = agg_buckets(s->table);
	uint32_t n = (uint32_t)(nb - c->pos < IMT_BUCKETS_PER_MSG ? nb - c->pos : IMT_BUCKETS_PER_MSG);

	if (n) {
		size_t mm = imt_msg_begin(&c->out, IMT_R_BUCKETS);
		imt_put_u32(&c->out, (uint32_t)c->pos);
		imt_put_u32(&c->out, n);
		for (uint32_t i = 0; i < n; i++)
			imt_put_u32(&c->out, (uint32_t)agg_chain_len(s->table, c->pos + i));
		imt_msg_end(&c->out, mm);
		c->pos += n;
	}
	if (c->pos >= nb) {
		c->done = true;
		put_end(c);
	}
}

/* A whole request has arrived: validate it, answer INFO, set the job up. */
static void start_job(struct plugin *p, struct imt_client *c)
{
	struct imt_state *s = p->state;
	struct imt_info in;

	if (c->hdr.type == IMT_Q_QUERY &&
	    imt_query_decode(c->in + IMT_HDR_LEN, c->hdr.length, p->cfg->prims, &c->q) < 0) {
		fail_client(c, "malformed query");
		return;
	}
	if (c->hdr.type == IMT_Q_ERASE) {
		agg_clear(s->table);
		s->erased_at = (int64_t)time(NULL);
		s->full_warned = false;
	}
	info_of(p, s, &in);
	imt_info_encode(&c->out, &in);
	c->phase = CL_RUN;
	c->gen = agg_generation(s->table);
	if (c->hdr.type == IMT_Q_QUERY) {
		c->sums = c->q.mode == IMT_MODE_SUMS ? xcalloc(c->q.nreq, sizeof(*c->sums)) : NULL;
		c->exact = c->q.mode != IMT_MODE_ALL && all_exact(p, &c->q);
		if (c->q.mode != IMT_MODE_ALL && !c->exact)
			build_groups(p, c);
	} else if (c->hdr.type != IMT_Q_STATUS) {
		c->done = true;
		put_end(c);
	}
}

/*
 * Read what the client sent; start its job once the request is whole.
 * Returns false when the client hung up before sending a whole request.
 */
static bool read_request(struct plugin *p, struct imt_client *c)
{
	while (c->in_len < c->in_want) {
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_want - c->in_len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0)
			return false;
		c->in_len += (size_t)n;
		c->last_ms = clock_mono_ms();
		if (c->in_len == IMT_HDR_LEN && c->in_want == IMT_HDR_LEN) {
			int rc = imt_hdr_parse(c->in, c->in_len, &c->hdr);
			if (rc != IMT_OK || c->hdr.type >= IMT_R_INFO) {
				fail_client(c, rc != IMT_OK ? imt_strerror(rc) : "not a request");
				return true;
			}
			c->in_want = IMT_HDR_LEN + c->hdr.length;
			c->in = xrealloc(c->in, c->in_want);
		}
	}
	start_job(p, c);
	return true;
}

/* Send pending bytes; false when the socket is full or broken. */
static bool flush_out(struct imt_client *c, bool *broken)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				*broken = true;
			return false;
		}
		c->out_off += (size_t)n;
		c->last_ms = clock_mono_ms();
	}
	c->out.len = c->out_off = 0;
	return true;
}

/* Serve one client for a slice of time.  Returns false when it is finished or must go. */
static bool serve(struct plugin *p, struct imt_client *c, int64_t now, bool *busy)
{
	bool broken = false;

	if (c->phase == CL_READ && !read_request(p, c))
		return false;
	while (c->phase != CL_READ) {
		if (!flush_out(c, &broken))
			break;
		if (c->phase == CL_DRAIN)
			return false;	/* all sent */
		if (c->hdr.type == IMT_Q_STATUS)
			step_status(p, c);
		else
			step_query(p, c);
		*busy = true;
		if (clock_mono_ms() - now >= IMT_SLICE_MS)
			break;
	}
	if (broken)
		return false;
	if (now - c->last_ms >= IMT_CLIENT_TIMEOUT_MS) {
		log_warnx(p->who, "client dropped: %s for %d ms", c->phase == CL_READ ?
		    "no complete request" : "not reading its reply", IMT_CLIENT_TIMEOUT_MS);
		return false;
	}
	return true;
}

static void serve_all(struct plugin *p, struct imt_state *s)
{
	int64_t now = clock_mono_ms();
	bool busy = false;

	accept_clients(p, s);
	for (int i = 0; i < s->ncl;) {
		struct imt_client *c = s->cl[i];
		if (!serve(p, c, now, &busy)) {
			client_drop(s, i);
			continue;
		}
		i++;
	}
	s->next_ms = clock_mono_ms() + (busy ? 0 : IMT_IDLE_MS);
}

/* ---- plugin hooks ---- */

/*
 * The memory bound: pmacct keeps the first entry of each bucket in the
 * bucket array and chains the others from imt_mem_pools_number pools of
 * imt_mem_pools_size bytes; the same capacity is granted here as a number
 * of entries.  imt_mem_pools_number 0 means unbounded.
 */
static size_t entry_limit(const struct plugin_cfg *pc, const struct agg_table *t)
{
	uint64_t pools = pc->imt_mem_pools_number;
	uint64_t size = pc->imt_mem_pools_size ? pc->imt_mem_pools_size : 8192;
	uint64_t buckets = pc->imt_buckets ? pc->imt_buckets : 32771;

	if (!pools)
		return 0;
	return (size_t)(buckets + pools * size / agg_entry_size(t));
}

/* The table and its bound (entry_limit), for SIGUSR1, /metrics and -T config. */
static void memory_bounds(struct plugin *p)
{
	const struct plugin_cfg *pc = p->cfg;
	struct agg_table *t = agg_new(pc->prims, &pc->aggregate, pc->imt_buckets ? pc->imt_buckets : 32771);
	size_t n = entry_limit(pc, t);

	p->gauge = gauges_add(p->core->gauges, p->who, "cache", "imt_mem_pools_number", GAUGE_REFUSE,
	    n, n ? agg_memory_at(t, n) : 0);
	agg_free(t);
}

static int memory_init(struct plugin *p)
{
	struct imt_state *s;
	struct plugin_cfg *pc = p->cfg;

	s = xcalloc(1, sizeof(*s));
	s->lfd = -1;
	s->erased_at = -1;
	p->state = s;
	s->table = agg_new(pc->prims, &pc->aggregate, pc->imt_buckets ? pc->imt_buckets : 32771);
	agg_set_limit(s->table, entry_limit(pc, s->table));
	if (open_socket(p, s) < 0)
		return -1;
	log_debug(p->who, "imt_buckets=%u imt_mem_pools_number=%u imt_mem_pools_size=%u: up to %zu entries",
	    pc->imt_buckets, pc->imt_mem_pools_number, pc->imt_mem_pools_size,
	    entry_limit(pc, s->table));
	return 0;
}

static void memory_record(struct plugin *p, const struct flow_rec *rec)
{
	struct imt_state *s = p->state;
	agg_account(s->table, rec, 0);
}

static int memory_next_tick_ms(struct plugin *p)
{
	struct imt_state *s = p->state;
	int64_t d = s->next_ms - clock_mono_ms();
	return d <= 0 ? 0 : (int)d;
}

static void memory_tick(struct plugin *p)
{
	struct imt_state *s = p->state;
	uint64_t d = agg_dropped(s->table);

	/* warned once per fill, as pmacct does; erasing the table re-arms it */
	if (d > s->drops_logged && !s->full_warned) {
		log_warnx(p->who, "Unable to allocate more memory pools, clear stats manually!");
		s->full_warned = true;
		gauge_hit(p->gauge, d - s->drops_logged);
	} else if (d > s->drops_logged) {
		gauge_refuse(p->gauge, d - s->drops_logged);
	}
	s->drops_logged = d;
	gauge_set(p->gauge, agg_count(s->table), agg_memory(s->table));
	serve_all(p, s);
}

static void memory_fini(struct plugin *p)
{
	struct imt_state *s = p->state;

	if (!s)
		return;
	while (s->ncl)
		client_drop(s, 0);
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(s->path);
	}
	agg_free(s->table);
	free(s);
	p->state = NULL;
}

const struct plugin_type memory_plugin_type = {
	.name = "memory",
	.daemons = SRC_ALL,
	.check = memory_check,
	.bounds = memory_bounds,
	.init = memory_init,
	.record = memory_record,
	.next_tick_ms = memory_next_tick_ms,
	.tick = memory_tick,
	.fini = memory_fini,
};
