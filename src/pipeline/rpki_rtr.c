/* SPDX-License-Identifier: BSD-3-Clause */
/* rpki_rtr.c: an RPKI-to-Router client (RFC 6810 version 0, RFC 8210 version 1) feeding a roa_db. */
#include "rpki_rtr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/rd.h"
#include "lib/xalloc.h"

#define WHO "default/core/RPKI"

/* PDU types (RFC 8210 5) */
enum {
	PDU_SERIAL_NOTIFY = 0, PDU_SERIAL_QUERY = 1, PDU_RESET_QUERY = 2, PDU_CACHE_RESPONSE = 3,
	PDU_IPV4_PREFIX = 4, PDU_IPV6_PREFIX = 6, PDU_END_OF_DATA = 7, PDU_CACHE_RESET = 8,
	PDU_ROUTER_KEY = 9, PDU_ERROR_REPORT = 10,
};

/* The largest PDU taken (an Error Report carries a PDU and text; Router Keys are small). */
#define PDU_MAX 65536
#define RETRY_SECS 5

struct staged {
	bool announce;
	struct roa r;
};

struct rtr_sess {
	uint32_t version;
	struct roa_db *db;
	uint8_t *in;			/* a partial PDU */
	size_t in_len;
	bool have_serial, in_response, reset;
	uint16_t session_id;
	uint32_t serial;
	uint32_t refresh;
	struct staged *st;		/* the response being received */
	size_t n_st, cap_st;
};

struct rtr_sess *rtr_sess_new(uint32_t version, struct roa_db *db)
{
	struct rtr_sess *s = xcalloc(1, sizeof(*s));

	s->version = version;
	s->db = db;
	s->in = xmalloc(PDU_MAX);
	s->refresh = 3600;	/* RFC 8210 6 default */
	return s;
}

void rtr_sess_free(struct rtr_sess *s)
{
	if (!s)
		return;
	free(s->in);
	free(s->st);
	free(s);
}

void rtr_sess_reset_input(struct rtr_sess *s)
{
	s->in_len = 0;
	s->in_response = false;
	s->n_st = 0;
}

uint32_t rtr_sess_refresh(const struct rtr_sess *s)
{
	return s->refresh;
}

static size_t put_query(const struct rtr_sess *s, bool serial, uint8_t *out, size_t cap)
{
	size_t n = serial ? 12 : 8;

	if (cap < n)
		return 0;
	out[0] = (uint8_t)s->version;
	out[1] = serial ? PDU_SERIAL_QUERY : PDU_RESET_QUERY;
	out[2] = serial ? (uint8_t)(s->session_id >> 8) : 0;
	out[3] = serial ? (uint8_t)s->session_id : 0;
	out[4] = out[5] = out[6] = 0;
	out[7] = (uint8_t)n;
	if (serial) {
		out[8] = (uint8_t)(s->serial >> 24);
		out[9] = (uint8_t)(s->serial >> 16);
		out[10] = (uint8_t)(s->serial >> 8);
		out[11] = (uint8_t)s->serial;
	}
	return n;
}

size_t rtr_sess_hello(struct rtr_sess *s, uint8_t *out, size_t cap)
{
	s->reset = !s->have_serial;
	return put_query(s, s->have_serial, out, cap);
}

static void stage(struct rtr_sess *s, bool announce, const struct roa *r)
{
	if (s->n_st == s->cap_st) {
		s->cap_st = s->cap_st ? s->cap_st * 2 : 1024;
		s->st = xrealloc(s->st, s->cap_st * sizeof(*s->st));
	}
	s->st[s->n_st].announce = announce;
	s->st[s->n_st].r = *r;
	s->n_st++;
}

/* End of Data: the response goes into the db at once. */
static void apply(struct rtr_sess *s)
{
	struct roa_table *t;
	size_t bad = 0;

	roa_db_wrlock(s->db);
	t = roa_db_table(s->db);
	if (s->reset)
		roa_table_clear(t);
	for (size_t i = 0; i < s->n_st; i++) {
		if (s->st[i].announce)
			bad += roa_add(t, &s->st[i].r) < 0;
		else
			(void)roa_del(t, &s->st[i].r);
	}
	size_t count = roa_table_count(t);
	roa_db_unlock(s->db);
	log_info(WHO, "RTR cache: End of Data, serial %u session %u: %zu changes, %zu ROAs%s",
	    s->serial, s->session_id, s->n_st, count, s->reset ? " (reset)" : "");
	if (bad)
		log_warnx(WHO, "RTR cache: %zu malformed prefixes ignored", bad);
	s->n_st = 0;
	s->in_response = false;
	s->reset = false;
}

/* One whole PDU (header checked). */
static int pdu(struct rtr_sess *s, const uint8_t *p, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	struct rd r = rd_make(p, len);
	uint8_t ver = rd_u8(&r), type = rd_u8(&r);
	uint16_t sess = rd_u16(&r);

	rd_skip(&r, 4);
	if (ver != s->version && type != PDU_ERROR_REPORT) {
		log_warnx(WHO, "rpki_rtr_parse_msg(): RPKI version mismatch (me=%u cache=%u)", s->version, ver);
		return -1;
	}
	switch (type) {
	case PDU_SERIAL_NOTIFY:
		if (!s->in_response && s->have_serial)
			*out_len += put_query(s, true, out + *out_len, cap - *out_len);
		else if (!s->in_response) {
			s->reset = true;
			*out_len += put_query(s, false, out + *out_len, cap - *out_len);
		}
		return 0;
	case PDU_CACHE_RESPONSE:
		s->in_response = true;
		s->n_st = 0;
		if (s->have_serial && !s->reset && sess != s->session_id) {
			log_warnx(WHO, "rpki_rtr_recv_cache_response(): unexpected session_id: %u", sess);
			return -1;
		}
		s->session_id = sess;
		return 0;
	case PDU_IPV4_PREFIX:
	case PDU_IPV6_PREFIX: {
		struct roa roa;
		unsigned alen = type == PDU_IPV4_PREFIX ? 4 : 16;
		memset(&roa, 0, sizeof(roa));
		uint8_t flags = rd_u8(&r);
		roa.len = rd_u8(&r);
		roa.maxlen = rd_u8(&r);
		rd_skip(&r, 1);
		rd_copy(&r, roa.addr, alen);
		roa.asn = rd_u32(&r);
		roa.af = type == PDU_IPV4_PREFIX ? 4 : 6;
		if (r.bad || r.left || len != (type == PDU_IPV4_PREFIX ? 20u : 32u)) {
			log_warnx(WHO, "RTR cache: malformed prefix PDU (length %zu)", len);
			return -1;
		}
		if (!s->in_response) {
			log_warnx(WHO, "RTR cache: prefix PDU outside a Cache Response");
			return -1;
		}
		if (flags > 1)
			log_warnx(WHO, "rpki_rtr_parse_ipv%u_prefix(): unknown flag (%u)", alen == 4 ? 4 : 6, flags);
		stage(s, flags & 1, &roa);
		return 0;
	}
	case PDU_END_OF_DATA: {
		uint32_t serial = rd_u32(&r);
		if (s->version >= 1) {
			uint32_t refresh = rd_u32(&r), retry = rd_u32(&r), expire = rd_u32(&r);
			(void)retry;
			(void)expire;
			if (!r.bad && refresh >= 1 && refresh <= 86400)
				s->refresh = refresh;
		}
		if (r.bad || !s->in_response) {
			log_warnx(WHO, "rpki_rtr_recv_eod(): malformed or unexpected End of Data");
			return -1;
		}
		if (sess != s->session_id) {
			log_warnx(WHO, "rpki_rtr_recv_eod(): unexpected session_id: %u", sess);
			return -1;
		}
		s->serial = serial;
		s->have_serial = true;
		apply(s);
		return 0;
	}
	case PDU_CACHE_RESET:
		s->have_serial = false;
		s->reset = true;
		s->in_response = false;
		s->n_st = 0;
		*out_len += put_query(s, false, out + *out_len, cap - *out_len);
		return 0;
	case PDU_ROUTER_KEY:
		if (s->version == 0)
			log_warnx(WHO, "rpki_rtr_recv_router_key(): Router Key not supported in RTRv0");
		return 0;	/* BGPsec keys: not used */
	case PDU_ERROR_REPORT: {
		uint32_t elen = rd_u32(&r);
		rd_skip(&r, elen);
		uint32_t tlen = rd_u32(&r);
		const uint8_t *txt = rd_take(&r, tlen);
		log_warnx(WHO, "rpki_rtr_recv_error_report(): code %u: %.*s", sess, txt ? (int)tlen : 0,
		    txt ? (const char *)txt : "");
		return -1;
	}
	default:
		log_warnx(WHO, "rpki_rtr_parse_msg(): unknown PDU type (%u)", type);
		return -1;
	}
}

int rtr_sess_input(struct rtr_sess *s, const uint8_t *buf, size_t n, uint8_t *out, size_t cap,
    size_t *out_len)
{
	*out_len = 0;
	while (n) {
		size_t want = 8;
		if (s->in_len >= 8) {
			struct rd h = rd_make(s->in + 4, 4);
			want = rd_u32(&h);
			if (want < 8 || want > PDU_MAX) {
				log_warnx(WHO, "RTR cache: bad PDU length %zu", want);
				return -1;
			}
		}
		size_t take = want - s->in_len < n ? want - s->in_len : n;
		memcpy(s->in + s->in_len, buf, take);
		s->in_len += take;
		buf += take;
		n -= take;
		if (s->in_len == want && want > 8) {
			s->in_len = 0;
			if (pdu(s, s->in, want, out, cap, out_len) < 0)
				return -1;
		} else if (s->in_len == 8) {
			struct rd h = rd_make(s->in + 4, 4);
			uint32_t len = rd_u32(&h);
			if (len < 8 || len > PDU_MAX) {
				log_warnx(WHO, "RTR cache: bad PDU length %u", len);
				return -1;
			}
			if (len == 8) {	/* a header-only PDU (Reset Query, Cache Reset) */
				s->in_len = 0;
				if (pdu(s, s->in, 8, out, cap, out_len) < 0)
					return -1;
			}
		}
	}
	return 0;
}

/* ---- the client thread ---- */

struct rpki_rtr {
	char host[256], port[16];
	char *cache;
	size_t pipe_size;
	uint32_t ipprec;
	struct rtr_sess *s;
	pthread_t th;
	bool started;
	int stop[2];
};

struct rpki_rtr *rpki_rtr_new(const char *cache, uint32_t version, size_t pipe_size, uint32_t ipprec,
    struct roa_db *db, char *why, size_t wlen)
{
	struct rpki_rtr *c;
	const char *colon, *host = cache;
	size_t hlen;

	if (version > 1) {
		snprintf(why, wlen, "rpki_rtr_cache_version must be 0 or 1");
		return NULL;
	}
	if (cache[0] == '[') {
		const char *e = strchr(cache, ']');
		if (!e || e[1] != ':') {
			snprintf(why, wlen, "'%s': expected [address]:port", cache);
			return NULL;
		}
		host = cache + 1;
		hlen = (size_t)(e - host);
		colon = e + 1;
	} else {
		colon = strrchr(cache, ':');
		if (!colon || strchr(cache, ':') != colon) {
			snprintf(why, wlen, "'%s': expected address:port (IPv6: [address]:port)", cache);
			return NULL;
		}
		hlen = (size_t)(colon - cache);
	}
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (!hlen || hlen >= 256 || *end || port == 0 || port > 65535 || !colon[1]) {
		snprintf(why, wlen, "'%s': expected address:port", cache);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	memcpy(c->host, host, hlen);
	struct in6_addr a6;
	if (inet_pton(AF_INET, c->host, &a6) != 1 && inet_pton(AF_INET6, c->host, &a6) != 1) {
		snprintf(why, wlen, "'%s': not an IP address", c->host);
		free(c);
		return NULL;
	}
	snprintf(c->port, sizeof(c->port), "%lu", port);
	c->cache = xstrdup(cache);
	c->pipe_size = pipe_size;
	c->ipprec = ipprec;
	c->s = rtr_sess_new(version, db);
	c->stop[0] = c->stop[1] = -1;
	return c;
}

static int do_connect(struct rpki_rtr *c)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	int fd;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(c->host, c->port, &hints, &ai) != 0 || !ai)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_err_errno(WHO, "rpki_rtr_connect(): socket() failed");
		freeaddrinfo(ai);
		return -1;
	}
	if (c->pipe_size) {
		int v = (int)c->pipe_size, got = 0;
		socklen_t l = sizeof(got);
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
		(void)getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &l);
		log_info(WHO, "rpki_rtr_connect(): rpki_rtr_srv_pipe_size: obtained=%d target=%d.", got, v);
	}
	if (c->ipprec) {
		int tos = (int)(c->ipprec << 5);
		if (setsockopt(fd, ai->ai_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
		    ai->ai_family == AF_INET6 ? IPV6_TCLASS : IP_TOS, &tos, sizeof(tos)) < 0)
			log_warnx(WHO, "rpki_rtr_connect(): setsockopt() failed for IP_TOS (errno: %d).", errno);
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		log_warn(WHO, "rpki_rtr_connect(): connect() failed");
		close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	log_info(WHO, "Connected to RTR Cache: %s", c->cache);
	return fd;
}

static bool send_all(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

/* Wait ms for the stop pipe; true when asked to stop. */
static bool wait_stop(struct rpki_rtr *c, int ms)
{
	struct pollfd p = { c->stop[0], POLLIN, 0 };

	return poll(&p, 1, ms) > 0;
}

/* One connection: until it ends (false) or a stop is asked (true). */
static bool session(struct rpki_rtr *c, int fd)
{
	uint8_t out[512], buf[16384];
	size_t olen;
	time_t next;

	rtr_sess_reset_input(c->s);
	olen = rtr_sess_hello(c->s, out, sizeof(out));
	if (!send_all(fd, out, olen)) {
		log_warnx(WHO, "rpki_rtr_send_reset_query(): send() failed");
		return false;
	}
	next = time(NULL) + rtr_sess_refresh(c->s);
	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { c->stop[0], POLLIN, 0 } };
		time_t now = time(NULL);
		int ms = next > now ? (int)(next - now) * 1000 : 0;
		int rc = poll(p, 2, ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (p[1].revents)
			return true;
		if (rc == 0) {	/* the refresh interval: ask for what changed */
			olen = rtr_sess_hello(c->s, out, sizeof(out));
			if (!send_all(fd, out, olen))
				return false;
			next = time(NULL) + rtr_sess_refresh(c->s);
			continue;
		}
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warnx(WHO, "RTR cache %s: connection closed", c->cache);
			return false;
		}
		if (rtr_sess_input(c->s, buf, (size_t)n, out, sizeof(out), &olen) < 0)
			return false;
		if (olen && !send_all(fd, out, olen))
			return false;
		next = time(NULL) + rtr_sess_refresh(c->s);
	}
}

static void *rtr_main(void *arg)
{
	struct rpki_rtr *c = arg;

	for (;;) {
		int fd = do_connect(c);
		if (fd >= 0) {
			bool stop = session(c, fd);
			close(fd);
			if (stop)
				break;
		}
		if (wait_stop(c, RETRY_SECS * 1000))
			break;
	}
	return NULL;
}

int rpki_rtr_start(struct rpki_rtr *c)
{
	if (pipe2(c->stop, O_CLOEXEC) < 0) {
		log_err_errno(WHO, "pipe");
		return -1;
	}
	if (pthread_create(&c->th, NULL, rtr_main, c) != 0) {
		log_err(WHO, "cannot start the RTR client thread");
		return -1;
	}
	c->started = true;
	return 0;
}

void rpki_rtr_free(struct rpki_rtr *c)
{
	if (!c)
		return;
	if (c->started) {
		ssize_t w = write(c->stop[1], "x", 1);
		(void)w;
		pthread_join(c->th, NULL);
	}
	if (c->stop[0] >= 0) {
		close(c->stop[0]);
		close(c->stop[1]);
	}
	rtr_sess_free(c->s);
	free(c->cache);
	free(c);
}
