/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_log.c: the BGP message log and table dumps, JSON lines as pmacct 1.7.7 writes them. */
#include "bgp_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/timefmt.h"
#include "lib/xalloc.h"
#include "maps/bgp_tagmap.h"
#if defined(HAVE_KAFKA) || defined(HAVE_RABBITMQ)
#define HAVE_BROKER 1
#include "plugins/broker.h"
#include "plugins/plugin.h"
#endif

#define FLUSH_AT (64 * 1024)		/* a file's buffer is written out past this */
#define PIPE_BUF_MAX (8 * 1024 * 1024)	/* a pipe nobody reads keeps at most this, then drops */
#define DUMP_FLUSH_AT (1024 * 1024)	/* a dump's buffer, written out past this */
#define DEFAULT_MAX_PEERS 4	/* pmacct 1.7.7 and master: "maximum BGP peers allowed: 4" */

/* A growing text buffer. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_reserve(struct sbuf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + n + 1)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

static void sb_cat(struct sbuf *b, const char *s, size_t n)
{
	sb_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_cat(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	sb_reserve(b, 256);
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->p[b->len] = '\0';
		return;
	}
	if ((size_t)n >= b->cap - b->len) {	/* longer than the room: once more with enough */
		sb_reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* s as a JSON string, quoted and escaped. */
static void sb_jstr(struct sbuf *b, const char *s)
{
	sb_cat(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			sb_cat(b, e, 2);
		} else if (c < 0x20) {
			sb_printf(b, "\\u%04x", c);
		} else {
			sb_cat(b, (const char *)&c, 1);
		}
	}
	sb_cat(b, "\"", 1);
}

/* One output file: a msglog file (per peer or shared) or a dump file. */
struct fout {
	char path[PATH_MAX];
	int fd;				/* -1: closed */
	bool fifo;
	time_t retry_at;		/* a pipe without reader: next open attempt */
	time_t warned;
	struct sbuf buf;
	int users;			/* peers writing here (the shared msglog file) */
};

/* What the sink knows of an established peer. */
struct peer_state {
	bool up;
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;
	struct fout *file;		/* its msglog file: its own or &l->shared; NULL = none */
	struct bgp_tag tag;		/* bgp_daemon_tag_map's row for it, taken at session up */
};

struct bgp_log {
	const struct core_cfg *cfg;
	char who[CFG_NAME_MAX + 16];
	struct bgp_event_sink sink;
	struct bgp_rib *rib;
	bool wd_before;			/* bgp_log_set_rib(): withdrawals reach nlri before the RIB */
	_Atomic uint64_t seq;		/* pmacct's one sequence: +1 per log line, +1 per dump */
	atomic_bool reopen;
	unsigned tsflags;		/* timefmt TF_* from the timestamps_* keys */
	char proc_name[64];		/* core_proc_name, "default": the writer_id of broker messages */
	/* the timestamp of the UPDATE being logged: one for all its prefixes, as 1.7.7 */
	char upd_ts[64];
	bool upd_ts_set;

	/* message log */
	bool msglog;
	const char *mlog_tpl;		/* NULL = no file */
	bool mlog_per_peer;		/* the name holds $peer_src_ip or $peer_tcp_port */
	struct fout shared;
	struct peer_state *peers;
	size_t npeers;
	struct broker *mlog_broker;
	const char *mlog_key;

	/* table dumps */
	bool dump;
	uint32_t refresh;
	time_t next_dump;
	int max_peers;
	struct broker *dump_broker;
	const char *dump_key;
	pthread_t thr;
	pthread_mutex_t mu;		/* the job below and the stats */
	pthread_cond_t cv;
	bool thr_started, stop, busy, job;
	struct bgp_rib *job_rib;
	time_t job_t;
	uint64_t job_seq;

	struct bgp_log_stats st;

	/* bgp_daemon_tag_map (master): replaced under mu on SIGUSR2 */
	struct bgp_tagmap *tagmap;
};

/* --- text of addresses, prefixes, RDs --- */

static void addr_text(uint16_t afi, const uint8_t *a, char *out, size_t len)
{
	if (!inet_ntop(afi == BGP_AFI_IPV6 ? AF_INET6 : AF_INET, a, out, (socklen_t)len))
		snprintf(out, len, "?");
}

/* pmacct's "type:admin:assigned": 0:65000:1, 1:10.0.0.5:7, 2:4200000000:9. */
static void rd_text(const struct bgp_rd *rd, char *out, size_t len)
{
	if (rd->type == 1) {
		uint8_t a[4] = { (uint8_t)(rd->admin >> 24), (uint8_t)(rd->admin >> 16),
		    (uint8_t)(rd->admin >> 8), (uint8_t)rd->admin };
		char ip[INET_ADDRSTRLEN];
		addr_text(BGP_AFI_IPV4, a, ip, sizeof(ip));
		snprintf(out, len, "1:%s:%u", ip, rd->assigned);
	} else {
		snprintf(out, len, "%u:%u:%u", rd->type, rd->admin, rd->assigned);
	}
}

/* The peer address as file names hold it: '.' and ':' become '_' (as 1.7.7). */
static void ip_for_names(const char *ip, char *out, size_t len)
{
	snprintf(out, len, "%s", ip);
	for (char *c = out; *c; c++)
		if (*c == '.' || *c == ':')
			*c = '_';
}

/* --- JSON lines --- */

static int u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

/*
 * Communities as 1.7.7 prints them: sorted by value without duplicates
 * (its attribute parser sorts them), the three well-known ones by name.
 * comms is the RIB's "AS:value AS:value" text.
 */
static void sb_comms(struct sbuf *b, const char *comms)
{
	uint32_t *v = xmalloc((strlen(comms) / 4 + 1) * sizeof(*v));
	size_t n = 0;
	const char *p = comms;

	while (*p) {
		char *end;
		unsigned long hi = strtoul(p, &end, 10), lo;
		if (*end != ':' || hi > 0xffff)
			break;
		lo = strtoul(end + 1, &end, 10);
		if (lo > 0xffff || (*end && *end != ' '))
			break;
		v[n++] = (uint32_t)(hi << 16 | lo);
		p = *end ? end + 1 : end;
	}
	if (*p) {			/* not the text expected: as it is */
		sb_jstr(b, comms);
		free(v);
		return;
	}
	qsort(v, n, sizeof(*v), u32_cmp);
	sb_cat(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (i && v[i] == v[i - 1])
			continue;
		if (i)
			sb_cat(b, " ", 1);
		if (v[i] == 0xffffff01)
			sb_str(b, "no-export");
		else if (v[i] == 0xffffff02)
			sb_str(b, "no-advertise");
		else if (v[i] == 0xffffff03)
			sb_str(b, "local-AS");
		else
			sb_printf(b, "%u:%u", v[i] >> 16, v[i] & 0xffff);
	}
	sb_cat(b, "\"", 1);
	free(v);
}

/* One extended or large community of the RIB's text and the key 1.7.7 sorts it by. */
struct ctok {
	const char *p;
	size_t n;
	uint64_t k1, k2;
};

static int ctok_cmp(const void *x, const void *y)
{
	const struct ctok *a = x, *b = y;
	if (a->k1 != b->k1)
		return a->k1 < b->k1 ? -1 : 1;
	return a->k2 < b->k2 ? -1 : a->k2 > b->k2;
}

/*
 * The sort key of "RT:65000:1", "SoO:10.0.0.1:7", "RT:4200000000:9" as
 * the 8 bytes on the wire would give it (type: 0 two-octet AS, 1 IPv4, 2
 * four-octet AS; subtype 2 RT, 3 SoO; admin; assigned), or of "a:b:c" (a
 * large community).  false when tok is neither.
 */
static bool ctok_key(struct ctok *t, bool large)
{
	char buf[64], *end, *c;
	unsigned long long v[3];

	if (t->n >= sizeof(buf))
		return false;
	memcpy(buf, t->p, t->n);
	buf[t->n] = '\0';
	c = buf;
	if (large) {
		for (int i = 0; i < 3; i++) {
			v[i] = strtoull(c, &end, 10);
			if (end == c || v[i] > UINT32_MAX || *end != (i < 2 ? ':' : '\0'))
				return false;
			c = end + 1;
		}
		t->k1 = v[0] << 32 | v[1];
		t->k2 = v[2];
		return true;
	}
	unsigned sub = strncmp(c, "RT:", 3) == 0 ? 2 : strncmp(c, "SoO:", 4) == 0 ? 3 : 0;
	if (!sub)
		return false;
	c += sub == 2 ? 3 : 4;
	char *colon = strrchr(c, ':');
	if (!colon)
		return false;
	*colon = '\0';
	unsigned long long asg = strtoull(colon + 1, &end, 10);
	if (*end || end == colon + 1)
		return false;
	struct in_addr ip;
	unsigned type;
	if (strchr(c, '.')) {
		if (inet_pton(AF_INET, c, &ip) != 1)
			return false;
		v[0] = ntohl(ip.s_addr);
		type = 1;
	} else {
		v[0] = strtoull(c, &end, 10);
		if (*end || end == c || v[0] > UINT32_MAX)
			return false;
		type = v[0] > 0xffff ? 2 : 0;
	}
	t->k1 = (uint64_t)type << 56 | (uint64_t)sub << 48 | v[0];
	t->k2 = asg;
	return true;
}

/*
 * Extended (large = false) or large communities as 1.7.7 prints them:
 * sorted as their wire bytes, without duplicates (its attribute parser
 * sorts them).  Text it cannot read goes out as it is.
 */
static void sb_csorted(struct sbuf *b, const char *text, bool large)
{
	size_t cap = strlen(text) / 2 + 1, n = 0;
	struct ctok *t = xmalloc(cap * sizeof(*t));
	const char *p = text;
	bool good = true;

	while (*p && good) {
		size_t len = strcspn(p, " ");
		t[n] = (struct ctok){ .p = p, .n = len };
		good = len && ctok_key(&t[n], large);
		n++;
		p += len;
		if (*p)
			p++;
	}
	if (!good) {
		sb_jstr(b, text);
		free(t);
		return;
	}
	qsort(t, n, sizeof(*t), ctok_cmp);
	sb_cat(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (i && ctok_cmp(&t[i], &t[i - 1]) == 0)
			continue;
		if (i)
			sb_cat(b, " ", 1);
		sb_cat(b, t[i].p, t[i].n);
	}
	sb_cat(b, "\"", 1);
	free(t);
}

/* What a route line prints from "afi" on: a RIB route, or an NLRI with its attributes. */
struct route_view {
	uint16_t afi;
	uint8_t safi, plen;
	const uint8_t *addr;
	bool has_path_id;
	uint32_t path_id;
	bool has_rd;
	struct bgp_rd rd;
	uint8_t n_labels;
	uint32_t label;
	const struct bgp_attr *attr;	/* NULL: the prefix alone */
};

static void route_from_rib(struct route_view *v, const struct bgp_route *r)
{
	*v = (struct route_view){ .afi = r->afi, .safi = r->safi, .plen = r->plen, .addr = r->addr,
	    .has_path_id = r->has_path_id, .path_id = r->path_id, .has_rd = r->has_rd, .rd = r->rd,
	    .n_labels = r->n_labels, .label = r->n_labels ? r->label[0] : 0, .attr = r->attr };
}

static void route_from_nlri(struct route_view *v, const struct bgp_nlri *n, const struct bgp_attr *attr)
{
	*v = (struct route_view){ .afi = n->afi, .safi = n->safi, .plen = n->plen, .addr = n->addr,
	    .has_path_id = n->has_path_id, .path_id = n->path_id, .has_rd = n->has_rd, .rd = n->rd,
	    .n_labels = n->n_labels, .label = n->n_labels ? n->label[0] : 0, .attr = attr };
}

/* The attributes' part of a route line, from "bgp_nexthop" to "med". */
static void render_attr(struct sbuf *b, const struct bgp_attr *a)
{
	char txt[INET6_ADDRSTRLEN];
	static const char origin[] = "ieu";

	if (a->next_hop.afi) {
		addr_text(a->next_hop.afi, a->next_hop.a, txt, sizeof(txt));
		sb_printf(b, ", \"bgp_nexthop\": \"%s\"", txt);
	}
	sb_str(b, ", \"as_path\": ");
	sb_jstr(b, a->as_path ? a->as_path : "");
	if (a->comms && *a->comms) {
		sb_str(b, ", \"comms\": ");
		sb_comms(b, a->comms);
	}
	if (a->ecomms && *a->ecomms) {
		sb_str(b, ", \"ecomms\": ");
		sb_csorted(b, a->ecomms, false);
	}
	if (a->lcomms && *a->lcomms) {
		sb_str(b, ", \"lcomms\": ");
		sb_csorted(b, a->lcomms, true);
	}
	sb_printf(b, ", \"origin\": \"%c\"", a->origin < 3 ? origin[a->origin] : 'u');
	if (a->has_local_pref)
		sb_printf(b, ", \"local_pref\": %u", a->local_pref);
	if (a->has_med)
		sb_printf(b, ", \"med\": %u", a->med);
}

/*
 * Rendered attribute parts by attribute set, for one walk (the sets are
 * shared by many routes; their pointers are valid while the RIB is
 * locked, so the cache is emptied before it is unlocked).
 */
#define ACACHE_SLOTS 4096
#define ACACHE_TEXT_MAX (4u << 20)
struct acache {
	const struct bgp_attr *key[ACACHE_SLOTS];
	uint32_t off[ACACHE_SLOTS], len[ACACHE_SLOTS];
	struct sbuf text;
};

static void acache_clear(struct acache *c)
{
	memset(c->key, 0, sizeof(c->key));
	c->text.len = 0;
}

/* ", \"afi\": ... }\n": the route part of a log or dump line, in 1.7.7's order. */
static void render_route(struct sbuf *b, const struct route_view *v, struct acache *c)
{
	char txt[INET6_ADDRSTRLEN + 8];

	addr_text(v->afi, v->addr, txt, sizeof(txt));
	sb_printf(b, ", \"afi\": %u, \"safi\": %u, \"ip_prefix\": \"%s/%u\"", v->afi, v->safi, txt,
	    v->plen);
	if (v->has_path_id)
		sb_printf(b, ", \"as_path_id\": %u", v->path_id);
	if (v->attr && c) {
		size_t h = ((uintptr_t)v->attr >> 4) * 0x9E3779B1u % ACACHE_SLOTS;
		if (c->key[h] != v->attr) {
			if (c->text.len > ACACHE_TEXT_MAX)
				acache_clear(c);	/* many distinct sets: start over, bounded */
			size_t start = c->text.len;
			render_attr(&c->text, v->attr);
			if (c->text.len - start > UINT32_MAX || start > UINT32_MAX) {
				c->text.len = start;
				render_attr(b, v->attr);
				goto tail;
			}
			c->key[h] = v->attr;
			c->off[h] = (uint32_t)start;
			c->len[h] = (uint32_t)(c->text.len - start);
		}
		sb_cat(b, c->text.p + c->off[h], c->len[h]);
	} else if (v->attr) {
		render_attr(b, v->attr);
	}
tail:
	if (v->has_rd) {
		rd_text(&v->rd, txt, sizeof(txt));
		sb_printf(b, ", \"rd\": \"%s\", \"rd_origin\": \"bgp\"", txt);
	}
	if (v->n_labels)
		sb_printf(b, ", \"label\": \"%u\"", v->label);
	sb_str(b, "}\n");
}

/* A message's timestamp: "2026-12-07 07:43:35.828785" (or RFC 3339 / epoch per timestamps_*). */
static void ts_now(const struct bgp_log *l, char *out, size_t len)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	timefmt_ts(out, len, tv.tv_sec, (uint32_t)tv.tv_usec, l->tsflags & ~(unsigned)TF_SECS);
}

/* --- files --- */

static void fout_init(struct fout *f)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

/* Open f->path for appending (msglog) or anew (dump). A pipe without a reader stays closed. */
static void fout_open(struct bgp_log *l, struct fout *f, bool truncate)
{
	struct stat sb;
	time_t now = time(NULL);

	if (f->fd >= 0 || !f->path[0] || now < f->retry_at)
		return;
	f->fd = open(f->path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK |
	    (truncate ? O_TRUNC : O_APPEND), 0600);
	if (f->fd < 0) {
		f->retry_at = now + 1;
		if (now - f->warned >= 60) {
			f->warned = now;
			if (errno == ENXIO)
				log_warnx(l->who, "BGP log '%s': a named pipe without a reader; lines are "
				    "dropped until one opens it", f->path);
			else
				log_warn(l->who, "BGP log: cannot open '%s'", f->path);
		}
		return;
	}
	f->fifo = fstat(f->fd, &sb) == 0 && S_ISFIFO(sb.st_mode);
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

static void add_dropped(struct bgp_log *l, uint64_t n)
{
	pthread_mutex_lock(&l->mu);
	l->st.dropped += n;
	pthread_mutex_unlock(&l->mu);
}

/*
 * Write out f's buffer.  A full pipe keeps the rest for the next flush; a
 * failed write (disk full, reader gone) drops it, counted, and closes the
 * file to be reopened at the next line.
 */
static void fout_flush(struct bgp_log *l, struct fout *f)
{
	size_t off = 0;

	if (!f->buf.len)
		return;
	if (f->fd < 0)
		fout_open(l, f, false);
	while (f->fd >= 0 && off < f->buf.len) {
		ssize_t w = write(f->fd, f->buf.p + off, f->buf.len - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && f->fifo)
			break;
		time_t now = time(NULL);
		if (now - f->warned >= 60) {
			f->warned = now;
			log_warn(l->who, "BGP log: cannot write '%s'", f->path);
		}
		close(f->fd);
		f->fd = -1;
		break;
	}
	if (f->fd < 0 && !(f->fifo && f->buf.len - off <= PIPE_BUF_MAX)) {
		add_dropped(l, count_lines(f->buf.p + off, f->buf.len - off));
		off = f->buf.len;
	}
	memmove(f->buf.p, f->buf.p + off, f->buf.len - off);
	f->buf.len -= off;
}

static void fout_close(struct bgp_log *l, struct fout *f)
{
	fout_flush(l, f);
	if (f->buf.len)		/* a pipe that never drained */
		add_dropped(l, count_lines(f->buf.p, f->buf.len));
	f->buf.len = 0;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* Expand a msglog file name: $peer_src_ip and $peer_tcp_port. */
static void mlog_path(const char *tpl, const struct peer_state *ps, char *out, size_t len)
{
	struct sbuf b = { 0 };
	char ip[INET6_ADDRSTRLEN];

	ip_for_names(ps->ip, ip, sizeof(ip));
	while (*tpl) {
		if (strncmp(tpl, "$peer_src_ip", 12) == 0) {
			sb_str(&b, ip);
			tpl += 12;
		} else if (strncmp(tpl, "$peer_tcp_port", 14) == 0) {
			sb_printf(&b, "%u", ps->port);
			tpl += 14;
		} else {
			sb_cat(&b, tpl++, 1);
		}
	}
	snprintf(out, len, "%s", b.p ? b.p : "");
	free(b.p);
}

/* --- bgp_daemon_tag_map --- */

/* The tag map's row for a peer's session address (nothing when no map or no row). */
static void tag_find(struct bgp_log *l, const struct bgp_addr *a, struct bgp_tag *t)
{
	struct fr_ip ip = { .af = a->afi == BGP_AFI_IPV6 ? 6 : 4 };

	memcpy(ip.a, a->a, sizeof(ip.a));
	pthread_mutex_lock(&l->mu);
	bgp_tagmap_find(l->tagmap, &ip, t);
	pthread_mutex_unlock(&l->mu);
}

/* ", \"tag\": N" or else ", \"label\": \"...\"" (master: a row with both prints the tag). */
static void sb_tag(struct sbuf *b, const struct bgp_tag *t)
{
	if (t->has_tag) {
		sb_printf(b, ", \"tag\": %llu", (unsigned long long)t->tag);
	} else if (t->has_label) {
		sb_str(b, ", \"label\": ");
		sb_jstr(b, t->label);
	}
}

/* Load the map of path; NULL (with a warning or error under who) when it cannot be read. */
static struct bgp_tagmap *tagmap_load(const char *who, const char *path)
{
	struct bgp_tagmap *m;

	log_info(who, "[%s] (re)loading map.", path);
	if (!(m = bgp_tagmap_load(path, who))) {
		log_warn(who, "[%s] cannot read the map", path);
		return NULL;
	}
	log_info(who, "[%s] map successfully (re)loaded with %zu entries.", path, bgp_tagmap_count(m));
	return m;
}

/* --- message log --- */

static struct peer_state *peer_slot(struct bgp_log *l, int peer)
{
	if (peer < 0)
		return NULL;
	if ((size_t)peer >= l->npeers) {
		size_t n = (size_t)peer + 1;
		l->peers = xrealloc(l->peers, n * sizeof(*l->peers));
		memset(l->peers + l->npeers, 0, (n - l->npeers) * sizeof(*l->peers));
		l->npeers = n;
	}
	return &l->peers[peer];
}

#ifdef HAVE_BROKER
/*
 * One line (a JSON object and "\n") to a broker, with pmacct's
 * "writer_id": "<core_proc_name>/<pid>" last, as 1.7.7 ends every BGP
 * message it sends to Kafka or RabbitMQ (files have none).
 */
static void broker_line(const struct bgp_log *l, struct broker *b, const char *key, const struct sbuf *line)
{
	size_t n = line->len;
	char tail[160];

	if (n && line->p[n - 1] == '\n')
		n--;
	if (n && line->p[n - 1] == '}')
		n--;
	int t = snprintf(tail, sizeof(tail), ", \"writer_id\": \"%s/%ld\"}", l->proc_name, (long)getpid());
	char *msg = xmalloc(n + (size_t)t + 1);
	memcpy(msg, line->p, n);
	memcpy(msg + n, tail, (size_t)t + 1);
	broker_put(b, key, NULL, NULL, msg, n + (size_t)t);
	free(msg);
}
#endif

/* One msglog line (NUL-terminated, ending in "\n") to the peer's file and the broker. */
static void mlog_emit(struct bgp_log *l, struct peer_state *ps, const struct sbuf *line)
{
	struct fout *f = ps->file;

	if (f) {
		if (f->fd < 0)
			fout_open(l, f, false);
		if (f->fifo && f->buf.len > PIPE_BUF_MAX) {
			add_dropped(l, 1);
		} else {
			sb_cat(&f->buf, line->p, line->len);
			if (f->buf.len >= FLUSH_AT)
				fout_flush(l, f);
		}
	}
#ifdef HAVE_BROKER
	if (l->mlog_broker)
		broker_line(l, l->mlog_broker, l->mlog_key, line);
#endif
	pthread_mutex_lock(&l->mu);
	l->st.lines++;
	pthread_mutex_unlock(&l->mu);
}

/* SIGHUP asked: close the msglog files; each reopens at its next line. */
static void mlog_reopen(struct bgp_log *l)
{
	if (!atomic_exchange(&l->reopen, false))
		return;
	fout_close(l, &l->shared);
	for (size_t i = 0; i < l->npeers; i++)
		if (l->peers[i].file && l->peers[i].file != &l->shared)
			fout_close(l, l->peers[i].file);
}

static void line_head(struct bgp_log *l, struct sbuf *b, const char *log_type, const char *ts,
    const struct peer_state *ps, const char *event)
{
	b->len = 0;
	sb_printf(b, "{\"seq\": %llu", (unsigned long long)atomic_fetch_add(&l->seq, 1));
	if (log_type)
		sb_printf(b, ", \"log_type\": \"%s\"", log_type);
	/* master: log_init/log_close carry the tag before peer_tcp_port, route lines after it */
	sb_printf(b, ", \"timestamp\": \"%s\", \"peer_ip_src\": \"%s\"", ts, ps->ip);
	if (!log_type)
		sb_tag(b, &ps->tag);
	sb_printf(b, ", \"peer_tcp_port\": %u", ps->port);
	if (log_type)
		sb_tag(b, &ps->tag);
	sb_printf(b, ", \"event_type\": \"%s\"", event);
}

static void hook_peer_up(void *arg, int peer, const struct bgp_peer_id *id, const struct bgp_open *open)
{
	struct bgp_log *l = arg;
	struct peer_state *ps = peer_slot(l, peer);
	struct sbuf b = { 0 };
	char ts[64];

	(void)open;
	if (!ps || !l->msglog)
		return;
	mlog_reopen(l);
	if (ps->up && ps->file && ps->file != &l->shared) {	/* a slot reused without peer_down */
		fout_close(l, ps->file);
		free(ps->file->buf.p);
		free(ps->file);
	} else if (ps->up && ps->file) {
		l->shared.users--;
	}
	ps->up = true;
	addr_text(id->addr.afi, id->addr.a, ps->ip, sizeof(ps->ip));
	ps->port = id->port;
	tag_find(l, &id->addr, &ps->tag);
	ps->file = NULL;
	if (l->mlog_tpl && l->mlog_per_peer) {
		ps->file = xmalloc(sizeof(*ps->file));
		fout_init(ps->file);
		mlog_path(l->mlog_tpl, ps, ps->file->path, sizeof(ps->file->path));
	} else if (l->mlog_tpl) {
		ps->file = &l->shared;
		l->shared.users++;
	}
	ts_now(l, ts, sizeof(ts));
	line_head(l, &b, NULL, ts, ps, "log_init");
	sb_str(&b, "}\n");
	mlog_emit(l, ps, &b);
	if (ps->file)
		fout_flush(l, ps->file);
	free(b.p);
}

/*
 * The route a withdrawal names, looked up before the RIB drops it: 1 when
 * found (*r filled), 0 when the peer has no such route, -1 when the RIB
 * holds a route of that prefix that the longest-match lookup cannot tell
 * from it (another ADD-PATH path, or a longer prefix at the same address).
 */
static int find_route(const struct bgp_rib *rib, int peer, const struct bgp_nlri *n, struct bgp_route *r)
{
	if (!bgp_rib_lookup(rib, peer, n->afi, n->safi, n->has_rd ? &n->rd : NULL, n->addr, NULL, r) ||
	    r->plen < n->plen)
		return 0;
	if (r->plen == n->plen && r->has_path_id == n->has_path_id &&
	    (!n->has_path_id || r->path_id == n->path_id))
		return 1;
	return -1;
}

static void hook_update_begin(void *arg, int peer)
{
	struct bgp_log *l = arg;

	(void)peer;
	l->upd_ts_set = l->msglog;
	if (l->upd_ts_set)
		ts_now(l, l->upd_ts, sizeof(l->upd_ts));
}

static void hook_nlri(void *arg, int peer, const struct bgp_peer_id *id, const struct bgp_nlri *n,
    const struct bgp_attrs *a, const struct bgp_attr *attr)
{
	struct bgp_log *l = arg;
	struct peer_state *ps = peer >= 0 && (size_t)peer < l->npeers ? &l->peers[peer] : NULL;
	struct route_view v;
	struct bgp_route r;
	struct sbuf b = { 0 };
	char ts[64];

	(void)a;
	(void)id;
	if (!l->msglog || !ps || !ps->up)
		return;
	mlog_reopen(l);
	/*
	 * A withdrawal prints the withdrawn route's attributes, and nothing
	 * for a route the peer never announced (1.7.7).  The hook runs before
	 * the RIB applies a withdrawal (bgp_events.h): the route is still there.
	 */
	if (n->withdraw && !attr && l->rib) {
		int found = find_route(l->rib, peer, n, &r);
		if (found > 0)
			attr = r.attr;
		else if (found == 0 && l->wd_before)
			return;
		/* else the prefix alone: the route is gone already, or not told apart */
	}
	route_from_nlri(&v, n, attr);
	if (l->upd_ts_set)
		snprintf(ts, sizeof(ts), "%s", l->upd_ts);
	else	/* no update_begin() came (a sink driven prefix by prefix) */
		ts_now(l, ts, sizeof(ts));
	line_head(l, &b, n->withdraw ? "withdraw" : "update", ts, ps, "log");
	render_route(&b, &v, NULL);
	mlog_emit(l, ps, &b);
	free(b.p);
}

/* The "delete" lines of a peer going down: its routes of one AFI. */
struct del_walk {
	struct bgp_log *l;
	struct peer_state *ps;
	const char *ts;
	uint16_t afi;
	struct sbuf b;
};

static int del_route(void *arg, const struct bgp_route *r)
{
	struct del_walk *w = arg;
	struct route_view v;

	if (r->afi != w->afi)
		return 0;
	route_from_rib(&v, r);
	line_head(w->l, &w->b, "delete", w->ts, w->ps, "log");
	render_route(&w->b, &v, NULL);
	mlog_emit(w->l, w->ps, &w->b);
	return 0;
}

static void hook_peer_down(void *arg, int peer, const struct bgp_peer_id *id, uint8_t code,
    uint8_t subcode, const char *why)
{
	struct bgp_log *l = arg;
	struct peer_state *ps = peer >= 0 && (size_t)peer < l->npeers ? &l->peers[peer] : NULL;
	struct del_walk w = { .l = l, .ps = ps };
	char ts[64];

	(void)id;
	(void)code;
	(void)subcode;
	(void)why;
	if (!l->msglog || !ps || !ps->up)
		return;
	mlog_reopen(l);
	ts_now(l, ts, sizeof(ts));
	w.ts = ts;
	/* on the writer thread: nothing else changes the RIB while we read it */
	for (uint16_t afi = BGP_AFI_IPV4; l->rib && afi <= BGP_AFI_IPV6; afi++) {
		w.afi = afi;
		bgp_rib_walk(l->rib, peer, del_route, &w);
	}
	line_head(l, &w.b, NULL, ts, ps, "log_close");
	sb_str(&w.b, "}\n");
	mlog_emit(l, ps, &w.b);
	free(w.b.p);
	if (ps->file == &l->shared) {
		fout_flush(l, &l->shared);
		if (--l->shared.users == 0)
			fout_close(l, &l->shared);
	} else if (ps->file) {
		fout_close(l, ps->file);
		free(ps->file->buf.p);
		free(ps->file);
	}
	ps->file = NULL;
	ps->up = false;
}

/* --- table dumps --- */

/* Where one dump event writes: the file being filled and the broker. */
struct dump_ctx {
	struct bgp_log *l;
	struct fout f;
	bool per_peer;
	char ts[64];
	uint64_t seq;
	struct peer_state ps;		/* the peer being dumped */
	uint16_t afi;
	uint64_t entries;		/* of this peer */
	struct sbuf line;
	struct acache *cache;		/* emptied before each unlock */
};

static void dump_emit(struct dump_ctx *d)
{
	if (d->f.path[0]) {
		sb_cat(&d->f.buf, d->line.p, d->line.len);
		if (d->f.buf.len >= DUMP_FLUSH_AT)
			fout_flush(d->l, &d->f);
	}
#ifdef HAVE_BROKER
	if (d->l->dump_broker)
		broker_line(d->l, d->l->dump_broker, d->l->dump_key, &d->line);
#endif
}

static void dump_event(struct dump_ctx *d, const char *event, bool close_)
{
	d->line.len = 0;
	sb_printf(&d->line, "{\"timestamp\": \"%s\", \"peer_ip_src\": \"%s\", \"peer_tcp_port\": %u",
	    d->ts, d->ps.ip, d->ps.port);
	sb_tag(&d->line, &d->ps.tag);
	sb_printf(&d->line, ", \"event_type\": \"%s\"", event);
	if (close_)
		sb_printf(&d->line, ", \"entries\": %llu, \"tables\": 1", (unsigned long long)d->entries);
	else
		sb_printf(&d->line, ", \"dump_period\": %u", d->l->refresh);
	sb_printf(&d->line, ", \"seq\": %llu}\n", (unsigned long long)d->seq);
	dump_emit(d);
}

static int dump_route(void *arg, const struct bgp_route *r)
{
	struct dump_ctx *d = arg;
	struct route_view v;

	if (r->afi != d->afi)
		return 0;
	route_from_rib(&v, r);
	d->line.len = 0;
	sb_printf(&d->line, "{\"seq\": %llu, \"timestamp\": \"%s\", \"peer_ip_src\": \"%s\", "
	    "\"peer_tcp_port\": %u", (unsigned long long)d->seq, d->ts, d->ps.ip, d->ps.port);
	sb_tag(&d->line, &d->ps.tag);
	sb_str(&d->line, ", \"event_type\": \"dump\"");
	render_route(&d->line, &v, d->cache);
	dump_emit(d);
	d->entries++;
	return 0;
}

static bool same_peer(const struct bgp_peer_id *a, const struct bgp_peer_id *b)
{
	return a->port == b->port && a->bgp_id == b->bgp_id && a->addr.afi == b->addr.afi &&
	    memcmp(a->addr.a, b->addr.a, 16) == 0;
}

/* bgp_table_dump_latest_file: a symlink to path, replaced atomically. */
static void dump_latest(struct bgp_log *l, time_t t, const char *ip, const char *path)
{
	struct timefmt_vars vars = { .peer_src_ip = ip, .utc = l->cfg->timestamps_utc };
	char link[PATH_MAX], tmp[PATH_MAX + 8];

	if (!l->cfg->bgp.dump_latest_file || timefmt_expand(link, sizeof(link),
	    l->cfg->bgp.dump_latest_file, t, &vars) < 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", link);
	unlink(tmp);
	if (symlink(path, tmp) < 0 || rename(tmp, link) < 0) {
		log_warn(l->who, "BGP dump: cannot link '%s' to '%s'", link, path);
		unlink(tmp);
	}
}

/* Close the dump file being written; point the latest link at it. */
static void dump_file_done(struct dump_ctx *d, time_t t, const char *ip)
{
	if (!d->f.path[0])
		return;
	fout_close(d->l, &d->f);
	dump_latest(d->l, t, ip, d->f.path);
	d->f.path[0] = '\0';
}

static uint64_t dump_run(struct bgp_log *l, struct bgp_rib *rib, time_t t, uint64_t seq)
{
	const char *tpl = l->cfg->bgp.dump_file;
	struct dump_ctx d = { .l = l, .seq = seq };
	struct timefmt_vars vars = { .utc = l->cfg->timestamps_utc };
	uint64_t total = 0;
	int peers = 0;
	struct timeval t0, t1;

	gettimeofday(&t0, NULL);
	log_info(l->who, "*** Dumping BGP tables - START ***");
	fout_init(&d.f);
	d.cache = xcalloc(1, sizeof(*d.cache));
	d.per_peer = tpl && strstr(tpl, "$peer_src_ip");
	timefmt_stamp(d.ts, sizeof(d.ts), t, l->tsflags);
	for (int i = 0; i < l->max_peers; i++) {
		struct bgp_peer_id id;
		const struct bgp_peer_id *pid;
		char ipn[INET6_ADDRSTRLEN];
		bool gone = false;

		bgp_rib_rdlock(rib);
		pid = bgp_rib_peer(rib, i);
		if (pid)
			id = *pid;
		bgp_rib_unlock(rib);
		if (!pid)
			continue;
		addr_text(id.addr.afi, id.addr.a, d.ps.ip, sizeof(d.ps.ip));
		d.ps.port = id.port;
		tag_find(l, &id.addr, &d.ps.tag);
		ip_for_names(d.ps.ip, ipn, sizeof(ipn));
		if (tpl && !d.f.path[0]) {
			vars.peer_src_ip = ipn;
			if (timefmt_expand(d.f.path, sizeof(d.f.path), tpl, t, &vars) < 0)
				log_warnx(l->who, "BGP dump: file name too long: '%s'", tpl);
			fout_open(l, &d.f, true);
		}
		d.entries = 0;
		dump_event(&d, "dump_init", false);
		/* one AFI at a time, each under its own read lock: IPv4 (unicast, VPN), then IPv6 */
		for (uint16_t afi = BGP_AFI_IPV4; afi <= BGP_AFI_IPV6 && !gone; afi++) {
			bgp_rib_rdlock(rib);
			pid = bgp_rib_peer(rib, i);
			if (pid && same_peer(pid, &id)) {
				d.afi = afi;
				bgp_rib_walk(rib, i, dump_route, &d);
				acache_clear(d.cache);
			} else {
				gone = true;
			}
			bgp_rib_unlock(rib);
			if (d.f.path[0])
				fout_flush(l, &d.f);
		}
		dump_event(&d, "dump_close", true);
		total += d.entries;
		peers++;
		if (d.per_peer)
			dump_file_done(&d, t, ipn);
	}
	dump_file_done(&d, t, "");
	free(d.f.buf.p);
	free(d.line.p);
	free(d.cache->text.p);
	free(d.cache);
	gettimeofday(&t1, NULL);
	log_info(l->who, "*** Dumping BGP tables - END (TABLES: %d ENTRIES: %llu ET: %lld) ***", peers,
	    (unsigned long long)total, (long long)(t1.tv_sec - t0.tv_sec));
	pthread_mutex_lock(&l->mu);
	l->st.dumps++;
	l->st.dump_entries += total;
	pthread_mutex_unlock(&l->mu);
	return total;
}

uint64_t bgp_log_dump_now(struct bgp_log *l, struct bgp_rib *rib, time_t t)
{
	return dump_run(l, rib, t, atomic_fetch_add(&l->seq, 1));
}

static void *dump_main(void *arg)
{
	struct bgp_log *l = arg;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		while (!l->job && !l->stop)
			pthread_cond_wait(&l->cv, &l->mu);
		if (l->stop)
			break;
		struct bgp_rib *rib = l->job_rib;
		time_t t = l->job_t;
		uint64_t seq = l->job_seq;
		l->job = false;
		l->busy = true;
		pthread_mutex_unlock(&l->mu);
		dump_run(l, rib, t, seq);
		pthread_mutex_lock(&l->mu);
		l->busy = false;
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

static void hook_tick(void *arg, struct bgp_rib *rib, time_t now)
{
	struct bgp_log *l = arg;

	if (!l->rib)
		l->rib = rib;
	if (l->msglog) {
		mlog_reopen(l);
		fout_flush(l, &l->shared);
		for (size_t i = 0; i < l->npeers; i++)
			if (l->peers[i].file && l->peers[i].file != &l->shared)
				fout_flush(l, l->peers[i].file);
	}
	if (!l->dump || !rib)
		return;
	if (!l->next_dump)
		l->next_dump = (now / l->refresh + 1) * l->refresh;
	if (now < l->next_dump)
		return;
	time_t t = l->next_dump;
	l->next_dump = (now / l->refresh + 1) * l->refresh;
	pthread_mutex_lock(&l->mu);
	if (l->busy || l->job) {
		l->st.dumps_skipped++;
		log_warnx(l->who, "BGP dump of %lld skipped: the previous one still runs "
		    "(bgp_table_dump_refresh_time %u)", (long long)t, l->refresh);
	} else {
		l->job = true;
		l->job_rib = rib;
		l->job_t = t;
		l->job_seq = atomic_fetch_add(&l->seq, 1);
		pthread_cond_signal(&l->cv);
	}
	pthread_mutex_unlock(&l->mu);
}

/* --- set-up --- */

static int bad(const struct bgp_log *l, char *err, size_t errlen, const char *key, const char *why)
{
	snprintf(err, errlen, "[%s] key '%s': %s", cfg_where(&l->cfg->origin, key), key, why);
	return -1;
}

#ifdef HAVE_BROKER
/* The backend's definition, NULL when this build lacks it. */
static const struct broker_plugin_def *backend_def(bool kafka)
{
#ifdef HAVE_KAFKA
	if (kafka)
		return kafka_broker_def();
#endif
#ifdef HAVE_RABBITMQ
	if (!kafka)
		return amqp_broker_def();
#endif
	return NULL;
}

/* A delivery queue on the kafka or amqp backend, from one stream's keys (msglog or dump). */
static struct broker *make_broker(struct bgp_log *l, const char *stream, bool kafka, char *host,
    uint32_t port, char *config_file, char *user, char *passwd, char *exchange, char *vhost)
{
	const struct broker_plugin_def *def = backend_def(kafka);
	struct plugin_cfg pc;
	struct plugin p;
	char spool[PATH_MAX];
	void *ctx;

	if (!def)
		return NULL;
	memset(&pc, 0, sizeof(pc));
	memset(&p, 0, sizeof(p));
	snprintf(pc.name, sizeof(pc.name), "bgp_%s", stream);
	snprintf(pc.type, sizeof(pc.type), "%s", kafka ? "kafka" : "amqp");
	pc.broker_host = host;
	pc.broker_port = port;
	pc.kafka_config_file = config_file;
	pc.amqp_user = user;
	pc.amqp_passwd = passwd;
	pc.amqp_vhost = vhost;
	pc.sql_db = exchange;
	p.cfg = &pc;
	p.core = (struct core_cfg *)l->cfg;
	snprintf(p.who, sizeof(p.who), "%s", l->who);
	if (!(ctx = def->make_ctx(&p)))
		return NULL;
	snprintf(spool, sizeof(spool), "/tmp/pmacct-ng_%s_bgp_%s.spool", l->cfg->core_proc_name, stream);
	struct broker *b = broker_new(l->who, def->be, ctx, spool, 0);
	if (broker_start(b) < 0) {
		broker_close(b, 0);
		return NULL;
	}
	return b;
}
#endif

/*
 * One stream's broker keys: at most one of a Kafka topic and an AMQP
 * routing key.  0 (b set or NULL), or -1 with err.
 */
static int stream_broker(struct bgp_log *l, const char *stream, const char *prefix, char *topic,
    char *rkey, char *khost, uint32_t kport, char *kconf, char *ahost, char *user, char *passwd,
    char *exchange, char *vhost, struct broker **b, const char **key, char *err, size_t errlen)
{
	char k1[96], k2[96], why[256];

	*b = NULL;
	*key = NULL;
	snprintf(k1, sizeof(k1), "%s_kafka_topic", prefix);
	snprintf(k2, sizeof(k2), "%s_amqp_routing_key", prefix);
	if (topic && rkey)
		return bad(l, err, errlen, k2, "set either a Kafka topic or an AMQP routing key, not both");
	if (!topic && !rkey)
		return 0;
#ifdef HAVE_BROKER
	const char *host = topic ? khost : ahost;
	if (host && broker_host_check(host, why, sizeof(why)) < 0) {
		snprintf(k1, sizeof(k1), "%s_%s", prefix, topic ? "kafka_broker_host" : "amqp_host");
		return bad(l, err, errlen, k1, why);
	}
	if (topic && !backend_def(true))
		return bad(l, err, errlen, k1, "this build has no Kafka support");
	if (rkey && !backend_def(false))
		return bad(l, err, errlen, k2, "this build has no AMQP support");
	*b = topic ? make_broker(l, stream, true, khost, kport, kconf, NULL, NULL, NULL, NULL) :
	    make_broker(l, stream, false, ahost, 0, NULL, user, passwd, exchange, vhost);
	if (!*b)
		return bad(l, err, errlen, topic ? k1 : k2, "the broker settings were refused (see above)");
	*key = topic ? topic : rkey;
	return 0;
#else
	(void)stream; (void)khost; (void)kport; (void)kconf; (void)ahost; (void)user; (void)passwd;
	(void)exchange; (void)vhost; (void)why;
	return bad(l, err, errlen, topic ? k1 : k2, "this build has no Kafka or AMQP support");
#endif
}

/* A format other than json: "... not supported, only json", naming the key. */
static int check_format(const struct core_cfg *cfg, const char *key, const char *val, char *err,
    size_t errlen)
{
	if (!val || strcmp(val, "json") == 0)
		return 0;
	snprintf(err, errlen, "[%s] key '%s': '%s' not supported, only json", cfg_where(&cfg->origin, key),
	    key, val);
	return -1;
}

int bgp_log_check(const struct core_cfg *cfg, char *err, size_t errlen)
{
	if (check_format(cfg, "bgp_daemon_msglog_output", cfg->bgp.msglog_output, err, errlen) < 0 ||
	    check_format(cfg, "bgp_table_dump_output", cfg->bgp.dump_output, err, errlen) < 0)
		return -1;
	if (cfg->bgp.tag_map && *cfg->bgp.tag_map && access(cfg->bgp.tag_map, R_OK) < 0) {
		snprintf(err, errlen, "[%s] key 'bgp_daemon_tag_map': cannot read '%s': %s",
		    cfg_where(&cfg->origin, "bgp_daemon_tag_map"), cfg->bgp.tag_map, strerror(errno));
		return -1;
	}
	return 0;
}

struct bgp_log *bgp_log_new(const struct core_cfg *cfg, char *err, size_t errlen)
{
	const struct bgp_cfg *bc = &cfg->bgp;
	struct bgp_log *l = xcalloc(1, sizeof(*l));

	l->cfg = cfg;
	snprintf(l->who, sizeof(l->who), "%s/core/BGP", cfg->core_proc_name[0] ?
	    cfg->core_proc_name : "default");
	snprintf(l->proc_name, sizeof(l->proc_name), "%s", cfg->core_proc_name[0] ?
	    cfg->core_proc_name : "default");
	fout_init(&l->shared);
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	l->tsflags = (cfg->timestamps_rfc3339 ? TF_RFC3339 : 0) | (cfg->timestamps_utc ? TF_UTC : 0) |
	    (cfg->timestamps_since_epoch ? TF_EPOCH : 0);
	l->max_peers = bc->max_peers ? (int)bc->max_peers : DEFAULT_MAX_PEERS;
	l->sink = (struct bgp_event_sink){ .arg = l, .peer_up = hook_peer_up, .peer_down = hook_peer_down,
	    .update_begin = hook_update_begin, .nlri = hook_nlri, .tick = hook_tick };

	if (bgp_log_check(cfg, err, errlen) < 0)
		goto fail;
	if (stream_broker(l, "msglog", "bgp_daemon_msglog", bc->msglog_kafka_topic,
	    bc->msglog_amqp_routing_key, bc->msglog_kafka_broker_host, bc->msglog_kafka_broker_port,
	    bc->msglog_kafka_config_file, bc->msglog_amqp_host, bc->msglog_amqp_user,
	    bc->msglog_amqp_passwd, bc->msglog_amqp_exchange, bc->msglog_amqp_vhost,
	    &l->mlog_broker, &l->mlog_key, err, errlen) < 0)
		goto fail;
	l->mlog_tpl = bc->msglog_file && *bc->msglog_file ? bc->msglog_file : NULL;
	l->mlog_per_peer = l->mlog_tpl && (strstr(l->mlog_tpl, "$peer_src_ip") ||
	    strstr(l->mlog_tpl, "$peer_tcp_port"));
	if (l->mlog_tpl && !l->mlog_per_peer)
		snprintf(l->shared.path, sizeof(l->shared.path), "%s", l->mlog_tpl);
	l->msglog = l->mlog_tpl || l->mlog_broker;

	if (stream_broker(l, "dump", "bgp_table_dump", bc->dump_kafka_topic, bc->dump_amqp_routing_key,
	    bc->dump_kafka_broker_host, bc->dump_kafka_broker_port, bc->dump_kafka_config_file,
	    bc->dump_amqp_host, bc->dump_amqp_user, bc->dump_amqp_passwd, bc->dump_amqp_exchange,
	    bc->dump_amqp_vhost, &l->dump_broker, &l->dump_key, err, errlen) < 0)
		goto fail;
	bool dump_out = (bc->dump_file && *bc->dump_file) || l->dump_broker;
	if (bc->tag_map && *bc->tag_map && !(l->tagmap = tagmap_load(l->who, bc->tag_map))) {
		bad(l, err, errlen, "bgp_daemon_tag_map", "cannot read the map");
		goto fail;
	}
	l->refresh = bc->dump_refresh_time;
	if (dump_out && l->refresh < 60) {
		/*
		 * pmacct 1.7.7 ignores a value under 60 ("value has to be >= 60 and
		 * <= 86400 secs.  Invalid value. Ignored."), then, a dump output set
		 * with no valid refresh time, says "Invalid 'bgp_table_dump_refresh_time'."
		 * and runs without dumps: so here.
		 */
		if (l->refresh)
			log_warnx(l->who, "[%s] key 'bgp_table_dump_refresh_time': value has to be >= 60 and "
			    "<= 86400 secs. Invalid value. Ignored.",
			    cfg_where(&cfg->origin, "bgp_table_dump_refresh_time"));
		log_warnx(l->who, "Invalid 'bgp_table_dump_refresh_time': no table dumps.");
		l->refresh = 0;
	}
	l->dump = dump_out && l->refresh;
	if (l->dump) {
		if (pthread_create(&l->thr, NULL, dump_main, l) != 0) {
			snprintf(err, errlen, "cannot start the BGP dump thread");
			goto fail;
		}
		l->thr_started = true;
	}
	return l;
fail:
	bgp_log_free(l);
	return NULL;
}

const struct bgp_event_sink *bgp_log_sink(struct bgp_log *l)
{
	return &l->sink;
}

void bgp_log_set_rib(struct bgp_log *l, struct bgp_rib *rib)
{
	l->rib = rib;
	l->wd_before = rib != NULL;
}

void bgp_log_reopen(struct bgp_log *l)
{
	atomic_store(&l->reopen, true);
}

void bgp_log_reload_maps(struct bgp_log *l)
{
	const char *path = l->cfg->bgp.tag_map;
	struct bgp_tagmap *m, *old;

	if (!path || !*path || !(m = tagmap_load(l->who, path)))
		return;		/* unreadable: the previous map stays */
	pthread_mutex_lock(&l->mu);
	old = l->tagmap;
	l->tagmap = m;
	pthread_mutex_unlock(&l->mu);
	bgp_tagmap_free(old);
}

void bgp_log_get_stats(struct bgp_log *l, struct bgp_log_stats *st)
{
	pthread_mutex_lock(&l->mu);
	*st = l->st;
	pthread_mutex_unlock(&l->mu);
}

void bgp_log_free(struct bgp_log *l)
{
	if (!l)
		return;
	if (l->thr_started) {
		pthread_mutex_lock(&l->mu);
		l->stop = true;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thr, NULL);
	}
	for (size_t i = 0; i < l->npeers; i++) {
		struct fout *f = l->peers[i].file;
		if (f && f != &l->shared) {
			fout_close(l, f);
			free(f->buf.p);
			free(f);
		}
	}
	fout_close(l, &l->shared);
	free(l->shared.buf.p);
	free(l->peers);
	bgp_tagmap_free(l->tagmap);
#ifdef HAVE_BROKER
	if (l->mlog_broker)
		broker_close(l->mlog_broker, 5);
	if (l->dump_broker)
		broker_close(l->dump_broker, 5);
#endif
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
}
