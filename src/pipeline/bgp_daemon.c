/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_daemon.c: the BGP thread: listener, the event loop over every session, RIB writes, events. */
#include "bgp_daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "maps/allow.h"
#include "model/gauge.h"
#include "pipeline/bgp_md5.h"
#include "pipeline/bgp_session.h"

#define WHO "default/core/BGP"
#define READS_PER_TURN 16
#define BY_PEER "connection closed by the peer"	/* reads of one session per loop turn: fairness between peers */

/* One connection: its socket and its state machine. */
struct bgp_conn {
	int fd;
	bool used;
	bool opened;			/* its OPEN was accepted: bgp_id is known */
	struct fr_ip ip;
	char tag[64];			/* log tag: its address, then its Router-ID (pmacct's way) */
	struct bgp_sess s;
	struct bgp_daemon *d;
	struct bgp_rib_upd upd;		/* the current UPDATE's interned attributes */
};

struct bgp_daemon {
	const struct core_cfg *cfg;
	struct bgp_rib *rib;
	struct table_gauge *gauge;	/* the RIB's, in the registry of SIGUSR1, /metrics, -T config */
	uint64_t refused_seen;		/* the RIB's refusals already counted on the gauge */
	struct bgp_event_sink sink;
	struct bgp_sess_cfg scfg;
	int lfd;			/* listener */
	int lfamily;
	int wake[2];			/* pipe: stop and reload requests */
	atomic_bool stop_req, reload_req;
	pthread_t thread;
	bool running;
	struct allow_list *allow;
	uint32_t max_peers;
	size_t nconn;			/* slots: max_peers + 1 (a reconnect may replace its old session) */
	struct bgp_conn *conn;
	pthread_mutex_t mu;		/* the connection table and counters, for stats from other threads */
	uint64_t refused_max, refused_allow;
	int64_t batch_start_ms;
	uint32_t batch_count;
	time_t last_tick;
	bool nbr_dirty;
};

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- addresses ---- */

/* A socket address as fr_ip + port, IPv4-mapped IPv6 turned into IPv4. */
static void sa_to_ip(const struct sockaddr_storage *ss, struct fr_ip *ip, uint16_t *port)
{
	memset(ip, 0, sizeof(*ip));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		ip->af = 4;
		memcpy(ip->a, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			ip->af = 4;
			memcpy(ip->a, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			ip->af = 6;
			memcpy(ip->a, &s6->sin6_addr, 16);
		}
		*port = ntohs(s6->sin6_port);
	}
}

static void ip_text(const struct fr_ip *ip, char *buf, size_t len)
{
	if (!inet_ntop(ip->af == 4 ? AF_INET : AF_INET6, ip->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static void ip_to_bgp(const struct fr_ip *ip, struct bgp_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->afi = ip->af == 4 ? BGP_AFI_IPV4 : BGP_AFI_IPV6;
	memcpy(a->a, ip->a, ip->af == 4 ? 4 : 16);
}

static bool ip_eq(const struct fr_ip *x, const struct fr_ip *y)
{
	return x->af == y->af && memcmp(x->a, y->a, x->af == 4 ? 4 : 16) == 0;
}

static void rid_text(uint32_t id, char *buf, size_t len)
{
	struct in_addr a = { htonl(id) };
	inet_ntop(AF_INET, &a, buf, (socklen_t)len);
}

/* ---- the listener ---- */

/* A sockaddr for ip in the listener's family (IPv4 as v4-mapped on an IPv6 socket); 0 on mismatch. */
static socklen_t listener_sa(int family, const struct fr_ip *ip, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (void *)ss;
		if (ip->af != 4)
			return 0;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, ip->a, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (void *)ss;
	s6->sin6_family = AF_INET6;
	if (ip->af == 4) {
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], ip->a, 4);
	} else {
		memcpy(&s6->sin6_addr, ip->a, 16);
	}
	return sizeof(*s6);
}

/* bgp_daemon_md5_file: one TCP_MD5SIG key per peer on the listener (accepted sockets inherit them). */
static int md5_apply(struct bgp_daemon *d)
{
	const struct bgp_cfg *b = &d->cfg->bgp;
	struct bgp_md5_list l;
	char where[512];

	if (!b->md5_file)
		return 0;
	snprintf(where, sizeof(where), "%s", cfg_where(&d->cfg->origin, "bgp_daemon_md5_file"));
	if (bgp_md5_load(b->md5_file, WHO, &l) < 0) {
		log_err_errno(WHO, "[%s] key 'bgp_daemon_md5_file': cannot read '%s'", where, b->md5_file);
		return -1;
	}
	size_t ok = 0;
	for (size_t i = 0; i < l.n; i++) {
		struct tcp_md5sig sig;
		char txt[64];
		memset(&sig, 0, sizeof(sig));
		ip_text(&l.e[i].addr, txt, sizeof(txt));
		if (!listener_sa(d->lfamily, &l.e[i].addr, &sig.tcpm_addr)) {
			log_warnx(WHO, "[%s] md5 key of %s: the listener is IPv4 only. Ignored.", b->md5_file, txt);
			continue;
		}
		sig.tcpm_keylen = (uint16_t)strlen(l.e[i].key);
		memcpy(sig.tcpm_key, l.e[i].key, sig.tcpm_keylen);
		if (setsockopt(d->lfd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) < 0) {
			log_warn(WHO, "[%s] md5 key of %s: setsockopt(TCP_MD5SIG)", b->md5_file, txt);
			continue;
		}
		ok++;
	}
	bgp_md5_free(&l);
	log_info(WHO, "[%s] TCP MD5 keys set for %zu peer(s)", b->md5_file, ok);
	return 0;
}

static int listener_open(struct bgp_daemon *d)
{
	const struct bgp_cfg *b = &d->cfg->bgp;
	struct fr_ip ip;
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;
	const char *where_ip = cfg_where(&d->cfg->origin, "bgp_daemon_ip");

	if (b->ip && *b->ip) {
		if (fr_ip_parse(b->ip, &ip) < 0) {
			log_err(WHO, "[%s] Invalid value for key 'bgp_daemon_ip': '%s' is not an IP address. Exiting.",
			    where_ip, b->ip);
			return -1;
		}
	} else {
		memset(&ip, 0, sizeof(ip));
		ip.af = 6;	/* :: */
	}
	d->lfamily = ip.af == 4 ? AF_INET : AF_INET6;
	sl = listener_sa(d->lfamily, &ip, &ss);
	if (d->lfamily == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)b->port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)b->port);
	d->lfd = socket(d->lfamily, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->lfd < 0) {
		log_err_errno(WHO, "socket() for the BGP listener");
		return -1;
	}
	setsockopt(d->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(d->lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (d->lfamily == AF_INET6) {
		int v6only = b->ipv6_only ? 1 : 0;
		setsockopt(d->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	if (b->pipe_size) {
		int sz = b->pipe_size > (size_t)INT32_MAX ? INT32_MAX : (int)b->pipe_size;
		if (setsockopt(d->lfd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)) < 0)
			log_warn(WHO, "bgp_daemon_pipe_size: setsockopt(SO_RCVBUF, %d)", sz);
	}
	if (b->ipprec) {
		int tos = (int)(b->ipprec << 5);
		if (setsockopt(d->lfd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) < 0 && d->lfamily == AF_INET)
			log_warn(WHO, "bgp_daemon_ipprec: setsockopt(IP_TOS)");
		if (d->lfamily == AF_INET6 && setsockopt(d->lfd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos)) < 0)
			log_warn(WHO, "bgp_daemon_ipprec: setsockopt(IPV6_TCLASS)");
	}
	if (bind(d->lfd, (struct sockaddr *)&ss, sl) < 0) {
		char txt[64];
		ip_text(&ip, txt, sizeof(txt));
		log_err_errno(WHO, "[%s] bind() to %s port %u (bgp_daemon_ip/bgp_daemon_port)", where_ip, txt,
		    b->port);
		return -1;
	}
	if (md5_apply(d) < 0)
		return -1;
	if (listen(d->lfd, 64) < 0 || set_nonblock(d->lfd) < 0) {
		log_err_errno(WHO, "listen() on the BGP socket");
		return -1;
	}
	char txt[64];
	ip_text(&ip, txt, sizeof(txt));
	log_info(WHO, "maximum BGP peers allowed: %u", d->max_peers);
	log_info(WHO, "waiting for BGP data on %s:%u", txt, b->port);
	return 0;
}

/* bgp_daemon_id, else bgp_daemon_ip when IPv4, else 1.2.3.4 (pmacct). */
static int router_id(const struct core_cfg *cfg, uint32_t *out)
{
	struct in_addr a;
	const char *id = cfg->bgp.id;
	if (id && *id) {
		if (inet_pton(AF_INET, id, &a) != 1) {
			log_err(WHO, "[%s] Invalid value for key 'bgp_daemon_id': '%s' is not an IPv4 address. Exiting.",
			    cfg_where(&cfg->origin, "bgp_daemon_id"), id);
			return -1;
		}
	} else if (!cfg->bgp.ip || inet_pton(AF_INET, cfg->bgp.ip, &a) != 1) {
		inet_pton(AF_INET, "1.2.3.4", &a);
	}
	*out = ntohl(a.s_addr);
	return 0;
}

/*
 * The RIB's table in the gauge registry: "bgp_rib" of the BGP thread,
 * entries = routes, a ceiling in bytes only (bgp_table_max_memory, 0 =
 * none), refusing routes when full.  Registered once (-T config and the
 * running daemon both ask).
 */
static struct table_gauge *rib_gauge(const struct core_cfg *cfg)
{
	struct table_gauge *g = gauges_find(cfg->gauges, WHO, "bgp_rib");

	return g ? g : gauges_add(cfg->gauges, WHO, "bgp_rib", "bgp_table_max_memory", GAUGE_REFUSE, 0,
	    cfg->bgp.rib_max_bytes);
}

/* Publish the RIB's routes and bytes (the caller holds the RIB's lock, either kind). */
static void rib_gauge_publish(struct bgp_daemon *d)
{
	struct bgp_rib_stats st;

	if (!d->gauge || !d->rib)
		return;
	bgp_rib_stats(d->rib, &st);
	gauge_set(d->gauge, st.routes, st.bytes);
	if (st.refused > d->refused_seen) {
		gauge_hit(d->gauge, st.refused - d->refused_seen);
		d->refused_seen = st.refused;
	}
}

int bgp_daemon_check(const struct core_cfg *cfg)
{
	const struct bgp_cfg *b = &cfg->bgp;
	struct fr_ip ip;
	uint32_t id;
	int rc = 0;

	rib_gauge(cfg);
	if (b->ip && *b->ip && fr_ip_parse(b->ip, &ip) < 0) {
		log_err(WHO, "[%s] Invalid value for key 'bgp_daemon_ip': '%s' is not an IP address. Exiting.",
		    cfg_where(&cfg->origin, "bgp_daemon_ip"), b->ip);
		rc = -1;
	}
	if (router_id(cfg, &id) < 0)
		rc = -1;
	if (b->allow_file) {
		struct allow_list *a = allow_load(b->allow_file, WHO);
		if (!a) {
			log_err_errno(WHO, "[%s] key 'bgp_daemon_allow_file': cannot read '%s'",
			    cfg_where(&cfg->origin, "bgp_daemon_allow_file"), b->allow_file);
			rc = -1;
		}
		allow_free(a);
	}
	if (b->md5_file) {
		struct bgp_md5_list l;
		if (bgp_md5_load(b->md5_file, WHO, &l) < 0) {
			log_err_errno(WHO, "[%s] key 'bgp_daemon_md5_file': cannot read '%s'",
			    cfg_where(&cfg->origin, "bgp_daemon_md5_file"), b->md5_file);
			rc = -1;
		}
		bgp_md5_free(&l);
	}
	return rc;
}

/* ---- neighbours file ---- */

/* bgp_neighbors_file: the established peers' addresses, one a line, rewritten whole. */
static void neighbors_write(struct bgp_daemon *d)
{
	const char *path = d->cfg->bgp.neighbors_file;
	char tmp[4096];
	FILE *f;

	d->nbr_dirty = false;
	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "w"))) {
		log_warn(WHO, "bgp_neighbors_file: cannot write '%s'", tmp);
		return;
	}
	for (size_t i = 0; i < d->nconn; i++) {
		const struct bgp_conn *c = &d->conn[i];
		char txt[64];
		if (!c->used || c->s.state != BGP_ST_ESTABLISHED || c->s.peer < 0)
			continue;
		ip_text(&c->ip, txt, sizeof(txt));
		fprintf(f, "%s\n", txt);
	}
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		log_warn(WHO, "bgp_neighbors_file: cannot replace '%s'", path);
}

/* ---- session hooks ---- */

static void close_conn(struct bgp_daemon *d, struct bgp_conn *c);

static int hook_opened(void *arg, struct bgp_sess *s, uint8_t *code, uint8_t *subcode)
{
	struct bgp_conn *c = arg;
	struct bgp_daemon *d = c->d;
	const struct bgp_open *o = &s->open;
	char rid[INET_ADDRSTRLEN], other[64];

	rid_text(o->bgp_id, rid, sizeof(rid));
	/* a reconnect of the same peer replaces its old session */
	for (size_t i = 0; i < d->nconn; i++) {
		struct bgp_conn *x = &d->conn[i];
		if (x == c || !x->used || !ip_eq(&x->ip, &c->ip))
			continue;
		log_info(WHO, "[%s] new session from %s replaces the previous one", x->tag, s->name);
		bgp_sess_notify(&x->s, 6, 7, "replaced by a new session from the same address");
		close_conn(d, x);
	}
	if (!d->cfg->bgp.disable_router_id_check) {
		for (size_t i = 0; i < d->nconn; i++) {
			struct bgp_conn *x = &d->conn[i];
			if (x == c || !x->used || !x->opened || x->s.id.bgp_id != o->bgp_id)
				continue;
			ip_text(&x->ip, other, sizeof(other));
			log_warnx(WHO, "[%s] Router-ID %s is already used by peer %s: refused "
			    "(bgp_disable_router_id_check)", s->name, rid, other);
			*code = 2;
			*subcode = 3;	/* Bad BGP Identifier */
			return -1;
		}
	}
	c->opened = true;
	snprintf(c->tag, sizeof(c->tag), "%s", rid);
	/* AFI, SAFI and SEND_RECEIVE in hex, as 1.7.7 ("SAFI [80]" for VPN's 128) */
	for (size_t i = 0; i < o->n_mp && i < BGP_MAX_CAP_AF; i++)
		log_info(WHO, "[%s] Capability: MultiProtocol [1] AFI [%x] SAFI [%x]", c->tag, o->mp[i].afi,
		    o->mp[i].safi);
	if (o->has_as4)
		log_info(WHO, "[%s] Capability: 4-bytes AS [41] ASN [%u]", c->tag, o->as4);
	for (size_t i = 0; i < o->n_addpath && i < BGP_MAX_CAP_AF; i++)
		log_info(WHO, "[%s] Capability: ADD-PATHs [45] AFI [%x] SAFI [%x] SEND_RECEIVE [%x]%s", c->tag,
		    o->addpath[i].afi, o->addpath[i].safi, o->addpath[i].extra,
		    d->cfg->bgp.add_path_ignore ? " (ignored: bgp_daemon_add_path_ignore)" : "");
	uint32_t local = d->scfg.local_as ? d->scfg.local_as : s->id.as;
	uint16_t hold = d->scfg.hold_time && d->scfg.hold_time < o->hold_time ? d->scfg.hold_time :
	    o->hold_time;
	log_info(WHO, "[%s] BGP_OPEN: Local AS: %u Remote AS: %u HoldTime: %u", c->tag, local, s->id.as, hold);
	return 0;
}

static int hook_established(void *arg, struct bgp_sess *s)
{
	struct bgp_conn *c = arg;
	struct bgp_daemon *d = c->d;
	int peer = -1;

	if (d->rib) {
		bgp_rib_wrlock(d->rib);
		peer = bgp_rib_peer_add(d->rib, &s->id);
		bgp_rib_unlock(d->rib);
		if (peer < 0) {
			log_warnx(WHO, "[%s] no free peer slot in the RIB (bgp_daemon_max_peers %u)", c->tag,
			    d->max_peers);
			return -1;
		}
	} else {
		peer = (int)(c - d->conn);
	}
	log_info(WHO, "[%s] BGP session established with %s (AS %u, hold time %u)", c->tag, s->name,
	    s->id.as, s->hold);
	if (d->sink.peer_up)
		d->sink.peer_up(d->sink.arg, peer, &s->id, &s->open);
	d->nbr_dirty = true;
	return peer;
}

static void hook_update_begin(void *arg, struct bgp_sess *s)
{
	struct bgp_conn *c = arg;
	bgp_rib_upd_begin(&c->upd);
	if (c->d->rib)
		bgp_rib_wrlock(c->d->rib);
	if (c->d->sink.update_begin && s->peer >= 0)
		c->d->sink.update_begin(c->d->sink.arg, s->peer);
}

static void hook_nlri(void *arg, struct bgp_sess *s, const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	struct bgp_conn *c = arg;
	struct bgp_daemon *d = c->d;
	const struct bgp_attr *attr = NULL;

	if (!d->rib || s->peer < 0)
		return;
	if (n->withdraw) {	/* the log prints the withdrawn route: before the RIB drops it */
		if (d->sink.nlri)
			d->sink.nlri(d->sink.arg, s->peer, &s->id, n, a, NULL);
		bgp_rib_apply_upd(d->rib, s->peer, n, a, &c->upd);
		return;
	}
	int rc = bgp_rib_apply_upd(d->rib, s->peer, n, a, &c->upd);
	if (!d->sink.nlri)
		return;
	if (!n->withdraw && rc == 0) {
		/* the route just applied: with ADD-PATH the one whose next hop is this UPDATE's */
		struct bgp_route r;
		const struct bgp_addr *nh = a->mp_next_hop.afi ? &a->mp_next_hop : &a->next_hop;
		if (bgp_rib_lookup(d->rib, s->peer, n->afi, n->safi, n->has_rd ? &n->rd : NULL, n->addr, nh,
		    &r) && r.plen == n->plen && (!n->has_path_id || r.path_id == n->path_id))
			attr = r.attr;
	}
	d->sink.nlri(d->sink.arg, s->peer, &s->id, n, a, attr);
}

static void hook_update_end(void *arg, struct bgp_sess *s, enum bgp_action act, const struct bgp_error *e)
{
	struct bgp_conn *c = arg;
	if (c->d->rib) {
		rib_gauge_publish(c->d);	/* after each UPDATE: a few relaxed stores */
		bgp_rib_unlock(c->d->rib);
	}
	if (act == BGP_ACT_ATTR_DISCARD)
		log_warnx(WHO, "[%s] BGP UPDATE: malformed (%s): attribute discarded (RFC 7606), %llu so far",
		    c->tag, e->why ? e->why : "?", (unsigned long long)s->st.attr_discard);
	else if (act == BGP_ACT_TREAT_AS_WITHDRAW)
		log_warnx(WHO, "[%s] BGP UPDATE: malformed (%s): treated as withdraw (RFC 7606), %llu so far",
		    c->tag, e->why ? e->why : "?", (unsigned long long)s->st.treat_as_withdraw);
	else if (act == BGP_ACT_SESSION_RESET)
		log_warnx(WHO, "[%s] BGP UPDATE: malformed (%s): session reset", c->tag, e->why ? e->why : "?");
}

/* ---- connections ---- */

/* Send what the session queued; keeps the rest when the socket is full.  -1 on a write error. */
static int flush_out(struct bgp_conn *c)
{
	while (c->s.out_len) {
		ssize_t w = send(c->fd, c->s.out, c->s.out_len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		memmove(c->s.out, c->s.out + w, c->s.out_len - (size_t)w);
		c->s.out_len -= (size_t)w;
	}
	return 0;
}

static void close_conn(struct bgp_daemon *d, struct bgp_conn *c)
{
	struct bgp_sess *s = &c->s;
	const char *why = s->down_why[0] ? s->down_why : "connection closed";

	if (!c->used)
		return;
	if (s->state != BGP_ST_CLOSED)
		bgp_sess_dropped(s, "closed");
	flush_out(c);	/* the NOTIFICATION, if any: best effort */
	if (s->down_received)
		log_info(WHO, "[%s] %s", c->tag, why);
	else if (s->down_code)
		log_info(WHO, "[%s] BGP NOTIFICATION sent: %u/%u (%s)", c->tag, s->down_code, s->down_subcode, why);
	else if (strcmp(why, BY_PEER) == 0)
		log_info(WHO, "[%s] BGP connection reset by peer (%d).", c->tag, 0);	/* 1.7.7's line */
	else
		log_info(WHO, "[%s] BGP session closed: %s", c->tag, why);
	if (s->peer >= 0) {
		if (d->sink.peer_down)
			d->sink.peer_down(d->sink.arg, s->peer, &s->id, s->down_code, s->down_subcode, why);
		if (d->rib) {
			bgp_rib_wrlock(d->rib);
			bgp_rib_peer_del(d->rib, s->peer);
			bgp_rib_unlock(d->rib);
		}
		d->nbr_dirty = true;
	}
	close(c->fd);
	bgp_sess_fini(s);
	c->used = false;
	c->opened = false;
	c->fd = -1;
}

static size_t conns_used(const struct bgp_daemon *d)
{
	size_t n = 0;
	for (size_t i = 0; i < d->nconn; i++)
		n += d->conn[i].used;
	return n;
}

static void accept_one(struct bgp_daemon *d, int fd, const struct sockaddr_storage *ss)
{
	struct fr_ip ip;
	uint16_t port;
	char txt[64];
	struct bgp_conn *slot = NULL;
	bool again = false;

	sa_to_ip(ss, &ip, &port);
	ip_text(&ip, txt, sizeof(txt));
	if (d->allow && !allow_match(d->allow, &ip)) {
		log_info(WHO, "[%s] peer '%s:%u' not allowed. close()", d->cfg->bgp.allow_file, txt, port);
		d->refused_allow++;
		close(fd);
		return;
	}
	for (size_t i = 0; i < d->nconn; i++) {
		if (!d->conn[i].used && !slot)
			slot = &d->conn[i];
		else if (d->conn[i].used && ip_eq(&d->conn[i].ip, &ip))
			again = true;
	}
	/* max_peers sessions at once; one more only for a peer reconnecting (it replaces its old one) */
	if (!slot || (conns_used(d) >= d->max_peers && !again)) {
		log_warnx(WHO, "Insufficient number of BGP peers has been configured by 'bgp_daemon_max_peers' (%u).",
		    d->max_peers);
		d->refused_max++;
		close(fd);
		return;
	}
	if (set_nonblock(fd) < 0) {
		close(fd);
		return;
	}
	if (d->cfg->bgp.ipprec) {
		int tos = (int)(d->cfg->bgp.ipprec << 5);
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
		if (d->lfamily == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	}
	struct bgp_sess_ops ops = { slot, hook_opened, hook_established, hook_update_begin, hook_nlri,
	    hook_update_end };
	if (bgp_sess_init(&slot->s, &d->scfg, &ops, clock_mono_ms()) < 0) {
		log_warnx(WHO, "[%s] out of memory for a session", txt);
		close(fd);
		return;
	}
	slot->fd = fd;
	slot->used = true;
	slot->opened = false;
	slot->ip = ip;
	slot->d = d;
	ip_to_bgp(&ip, &slot->s.id.addr);
	slot->s.id.port = port;
	snprintf(slot->s.name, sizeof(slot->s.name), "%s", txt);
	snprintf(slot->tag, sizeof(slot->tag), "%s", txt);
	log_info(WHO, "[%s] BGP peers usage: %zu/%u", txt, conns_used(d), d->max_peers);
}

/* Accept what waits, within bgp_daemon_batch per bgp_daemon_batch_interval when set. */
static void accept_all(struct bgp_daemon *d, int64_t now_ms)
{
	const struct bgp_cfg *b = &d->cfg->bgp;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (b->batch && b->batch_interval) {
			if (now_ms - d->batch_start_ms >= (int64_t)b->batch_interval * 1000) {
				d->batch_start_ms = now_ms;
				d->batch_count = 0;
			}
			if (d->batch_count >= b->batch)
				return;
		}
		int fd = accept4(d->lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
				log_warn(WHO, "accept() on the BGP socket");
			return;
		}
		d->batch_count++;
		accept_one(d, fd, &ss);
	}
}

/* The socket is readable: read and act, a bounded number of times. */
static void conn_read(struct bgp_daemon *d, struct bgp_conn *c)
{
	for (int i = 0; i < READS_PER_TURN && c->used; i++) {
		size_t room;
		uint8_t *p = bgp_sess_room(&c->s, &room);
		ssize_t n = recv(c->fd, p, room, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			bgp_sess_dropped(&c->s, n == 0 || errno == ECONNRESET ? BY_PEER : strerror(errno));
			close_conn(d, c);
			return;
		}
		if (bgp_sess_input(&c->s, (size_t)n, clock_mono_ms()) < 0) {
			close_conn(d, c);
			return;
		}
		if (flush_out(c) < 0) {
			bgp_sess_dropped(&c->s, "write error");
			close_conn(d, c);
			return;
		}
	}
}

static void reload_allow(struct bgp_daemon *d)
{
	const char *path = d->cfg->bgp.allow_file;
	if (!path)
		return;
	struct allow_list *a = allow_load(path, WHO);
	if (!a) {
		log_warn(WHO, "[%s] bgp_daemon_allow_file: cannot reload, the previous list stays", path);
		return;
	}
	allow_free(d->allow);
	d->allow = a;
	log_info(WHO, "[%s] bgp_daemon_allow_file reloaded: %zu prefix(es), applied to new sessions", path,
	    allow_count(a));
}

static void *bgp_thread(void *arg)
{
	struct bgp_daemon *d = arg;
	struct pollfd *pfd = xcalloc(d->nconn + 2, sizeof(*pfd));
	struct bgp_conn **who = xcalloc(d->nconn + 2, sizeof(*who));

	while (!atomic_load(&d->stop_req)) {
		int64_t now = clock_mono_ms(), next = now + 1000;
		size_t n = 0;

		pthread_mutex_lock(&d->mu);
		for (size_t i = 0; i < d->nconn; i++) {
			struct bgp_conn *c = &d->conn[i];
			if (c->used && bgp_sess_timers(&c->s, now, &next) < 0) {
				close_conn(d, c);
				continue;
			}
			if (c->used && flush_out(c) < 0) {
				bgp_sess_dropped(&c->s, "write error");
				close_conn(d, c);
			}
		}
		if (d->nbr_dirty)
			neighbors_write(d);
		pfd[n] = (struct pollfd){ .fd = d->wake[0], .events = POLLIN };
		who[n++] = NULL;
		bool batch_full = d->cfg->bgp.batch && d->cfg->bgp.batch_interval &&
		    d->batch_count >= d->cfg->bgp.batch;
		pfd[n] = (struct pollfd){ .fd = batch_full ? -1 : d->lfd, .events = POLLIN };
		who[n++] = NULL;
		for (size_t i = 0; i < d->nconn; i++) {
			struct bgp_conn *c = &d->conn[i];
			if (!c->used)
				continue;
			pfd[n] = (struct pollfd){ .fd = c->fd, .events = (short)(POLLIN | (c->s.out_len ? POLLOUT : 0)) };
			who[n++] = c;
		}
		pthread_mutex_unlock(&d->mu);

		int64_t wait = next - now;
		if (batch_full && wait > 200)
			wait = 200;	/* look at the batch window again soon */
		int rc = poll(pfd, n, (int)(wait < 0 ? 0 : wait));
		if (rc < 0 && errno != EINTR) {
			log_warn(WHO, "poll()");
			break;
		}
		pthread_mutex_lock(&d->mu);
		if (rc > 0 && (pfd[0].revents & POLLIN)) {
			char buf[64];
			while (read(d->wake[0], buf, sizeof(buf)) > 0)
				;
		}
		if (atomic_exchange(&d->reload_req, false))
			reload_allow(d);
		now = clock_mono_ms();
		if (rc > 0 && pfd[1].fd >= 0 && (pfd[1].revents & POLLIN))
			accept_all(d, now);
		for (size_t i = 2; rc > 0 && i < n; i++) {
			struct bgp_conn *c = who[i];
			if (!pfd[i].revents || !c->used || c->fd != pfd[i].fd)
				continue;
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				conn_read(d, c);
			else if ((pfd[i].revents & POLLOUT) && flush_out(c) < 0) {
				bgp_sess_dropped(&c->s, "write error");
				close_conn(d, c);
			}
		}
		if (d->nbr_dirty)
			neighbors_write(d);
		pthread_mutex_unlock(&d->mu);

		time_t wall = time(NULL);
		if (wall != d->last_tick) {
			d->last_tick = wall;
			if (d->rib) {	/* sessions gone since: their routes left the RIB */
				bgp_rib_rdlock(d->rib);
				rib_gauge_publish(d);
				bgp_rib_unlock(d->rib);
			}
			if (d->sink.tick)
				d->sink.tick(d->sink.arg, d->rib, wall);
		}
	}
	pthread_mutex_lock(&d->mu);
	for (size_t i = 0; i < d->nconn; i++) {
		if (d->conn[i].used) {
			bgp_sess_notify(&d->conn[i].s, 6, 2, "daemon shutting down");
			close_conn(d, &d->conn[i]);
		}
	}
	if (d->nbr_dirty)
		neighbors_write(d);
	pthread_mutex_unlock(&d->mu);
	free(pfd);
	free(who);
	return NULL;
}

/* ---- public ---- */

struct bgp_daemon *bgp_daemon_open(const struct core_cfg *cfg, struct bgp_rib *rib,
    const struct bgp_event_sink *sink)
{
	struct bgp_daemon *d = xcalloc(1, sizeof(*d));

	d->cfg = cfg;
	d->rib = rib;
	d->gauge = rib ? rib_gauge(cfg) : NULL;
	if (sink)
		d->sink = *sink;
	d->lfd = -1;
	d->wake[0] = d->wake[1] = -1;
	d->max_peers = cfg->bgp.max_peers ? cfg->bgp.max_peers : 4;	/* keys.c's default */
	d->nconn = (size_t)d->max_peers + 1;
	d->conn = xcalloc(d->nconn, sizeof(*d->conn));
	for (size_t i = 0; i < d->nconn; i++)
		d->conn[i].fd = -1;
	pthread_mutex_init(&d->mu, NULL);
	atomic_init(&d->stop_req, false);
	atomic_init(&d->reload_req, false);
	d->scfg.local_as = cfg->bgp.as;
	d->scfg.add_path_ignore = cfg->bgp.add_path_ignore;
	if (router_id(cfg, &d->scfg.router_id) < 0)
		goto fail;
	if (cfg->bgp.allow_file) {
		d->allow = allow_load(cfg->bgp.allow_file, WHO);
		if (!d->allow) {
			log_err_errno(WHO, "[%s] key 'bgp_daemon_allow_file': cannot read '%s'",
			    cfg_where(&cfg->origin, "bgp_daemon_allow_file"), cfg->bgp.allow_file);
			goto fail;
		}
	}
	if (pipe2(d->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_err_errno(WHO, "pipe()");
		goto fail;
	}
	if (listener_open(d) < 0)
		goto fail;
	if (cfg->bgp.neighbors_file)
		neighbors_write(d);	/* empty until a session is up */
	return d;
fail:
	bgp_daemon_stop(d);
	return NULL;
}

int bgp_daemon_start(struct bgp_daemon *d)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);	/* signals stay with the core thread */
	int rc = pthread_create(&d->thread, NULL, bgp_thread, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		log_err_errno(WHO, "cannot start the BGP thread");
		return -1;
	}
	d->running = true;
	return 0;
}

static void wake(struct bgp_daemon *d)
{
	if (d->wake[1] >= 0) {
		ssize_t w = write(d->wake[1], "x", 1);
		(void)w;
	}
}

void bgp_daemon_reload(struct bgp_daemon *d)
{
	if (!d)
		return;
	atomic_store(&d->reload_req, true);
	wake(d);
}

size_t bgp_daemon_stats(struct bgp_daemon *d, char (*lines)[BGP_STATS_LINE], size_t max)
{
	size_t n = 0, est = 0, used = 0;

	if (!d || max == 0)
		return 0;
	pthread_mutex_lock(&d->mu);
	for (size_t i = 0; i < d->nconn; i++) {
		used += d->conn[i].used;
		est += d->conn[i].used && d->conn[i].s.state == BGP_ST_ESTABLISHED;
	}
	snprintf(lines[n++], BGP_STATS_LINE, "BGP sessions: %zu established, %zu connected, max_peers %u, "
	    "refused %llu (max_peers) %llu (allow file)", est, used, d->max_peers,
	    (unsigned long long)d->refused_max, (unsigned long long)d->refused_allow);
	for (size_t i = 0; i < d->nconn && n < max; i++) {
		const struct bgp_conn *c = &d->conn[i];
		size_t routes = 0;
		if (!c->used)
			continue;
		if (d->rib && c->s.peer >= 0) {
			bgp_rib_rdlock(d->rib);
			routes = bgp_rib_peer_routes(d->rib, c->s.peer);
			bgp_rib_unlock(d->rib);
		}
		snprintf(lines[n++], BGP_STATS_LINE, "BGP peer %s (%s) AS %u: %s, hold %u s, prefixes %zu, "
		    "updates %llu, announced %llu, withdrawn %llu, malformed: attribute discard %llu, "
		    "treat-as-withdraw %llu", c->s.name, c->tag, c->s.id.as, bgp_sess_state_name(c->s.state),
		    c->s.hold, routes, (unsigned long long)c->s.st.updates,
		    (unsigned long long)c->s.st.nlri_announced, (unsigned long long)c->s.st.nlri_withdrawn,
		    (unsigned long long)c->s.st.attr_discard, (unsigned long long)c->s.st.treat_as_withdraw);
	}
	pthread_mutex_unlock(&d->mu);
	if (d->rib && n < max) {
		struct bgp_rib_stats rs;
		bgp_rib_rdlock(d->rib);
		bgp_rib_stats(d->rib, &rs);
		bgp_rib_unlock(d->rib);
		snprintf(lines[n++], BGP_STATS_LINE, "BGP RIB: %u peers, %zu routes, %zu attribute sets, "
		    "%zu bytes, %llu routes refused (bgp_table_max_memory)", rs.peers, rs.routes, rs.attrs,
		    rs.bytes, (unsigned long long)rs.refused);
	}
	return n;
}

void bgp_daemon_stop(struct bgp_daemon *d)
{
	if (!d)
		return;
	if (d->running) {
		atomic_store(&d->stop_req, true);
		wake(d);
		pthread_join(d->thread, NULL);
	}
	for (size_t i = 0; i < d->nconn; i++)
		if (d->conn[i].used)
			close_conn(d, &d->conn[i]);
	if (d->lfd >= 0)
		close(d->lfd);
	if (d->wake[0] >= 0)
		close(d->wake[0]);
	if (d->wake[1] >= 0)
		close(d->wake[1]);
	allow_free(d->allow);
	pthread_mutex_destroy(&d->mu);
	free(d->conn);
	free(d);
}
