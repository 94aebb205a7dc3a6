/* SPDX-License-Identifier: BSD-3-Clause */
/* bgpgen.c: a BGP speaker that connects to a collector and sends it a generated full table. */
/*
 * bgpgen -p port [-c collector] [-l local] [-a asn] [-4 N] [-6 M] [-P paths] [-s seed]
 *        [-n nexthop4] [-N nexthop6] [-t seconds] [-w] [-E] [-o routes.txt] [-j tallies.json]
 *
 *   -c addr     the collector (default 127.0.0.1); -p its BGP port (required)
 *   -l addr     local address to connect from (default: the kernel's choice), e.g. 127.0.0.2
 *   -a asn      our AS (default 65001; the session is iBGP when the collector mirrors it,
 *               as pmacct's does, so LOCAL_PREF is sent)
 *   -4 N, -6 M  IPv4 / IPv6 unicast prefixes (defaults 1000000 and 200000)
 *   -P paths    distinct AS paths, each prefix draws one Zipf-like (s = 1; default 70000)
 *   -s seed     generator seed (default 1): the same seed gives the same table
 *   -n, -N      next hops (defaults: the local address or 192.0.2.1, and 2001:db8::1)
 *   -t seconds  after the table, stay up sending KEEPALIVEs this long (default 0); SIGTERM
 *               or SIGINT ends the wait early
 *   -w          withdraw every prefix after the wait, then wait -t seconds again
 *   -E          no End-of-RIB markers
 *   -o file     write every prefix and its attributes, one a line, as pmacct prints them:
 *               prefix next_hop as_path std_comm lrg_comm local_pref med  ("-" for empty;
 *               communities sorted and each once, while UPDATEs carry them unsorted)
 *   -j file     the tallies (also on stdout): JSON with prefixes, messages, bytes, distinct
 *               attribute sets, timings
 *
 * Attributes: path i has 1..9 ASNs (the first is 64496 + (our AS % 16), the last its
 * origin), 0..10 standard communities, large communities on one path in five, local-pref
 * one of 100/200/300, MED on half of them.  A prefix's attribute set is its path's.  The
 * prefixes of each attribute set go out together, as many NLRI per UPDATE as fit in 4096
 * bytes.  The OPEN offers 4-byte AS and multiprotocol IPv4 + IPv6 unicast.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "decode/bgp_msg.h"

#define MAX_PATH_LEN 9
#define MAX_COMMS 10
#define MAX_LCOMMS 3
#define OUTBUF (1u << 20)

struct path {
	uint32_t asn[MAX_PATH_LEN];
	uint32_t comm[MAX_COMMS];
	uint32_t lcomm[MAX_LCOMMS][3];
	uint8_t len, ncomm, nlcomm;
	uint32_t local_pref, med;
	bool has_med;
	uint32_t used; /* prefixes drawing it */
};

struct pfx {
	uint8_t addr[16];
	uint8_t len;
	uint32_t path;
};

struct opts {
	const char *collector, *local, *nh4, *nh6, *routes_file, *tallies_file;
	uint16_t port;
	uint32_t asn, n4, n6, npaths;
	uint64_t seed;
	unsigned stay;
	bool withdraw, no_eor;
};

struct out {
	int fd;
	uint8_t buf[OUTBUF];
	size_t len;
	uint64_t msgs, updates, bytes;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* splitmix64: the deterministic generator (state advanced through *s). */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rnd(s) % n);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bgpgen: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Write everything buffered to the socket. Exits on error. */
static void out_flush(struct out *o)
{
	size_t off = 0;
	while (off < o->len) {
		ssize_t w = write(o->fd, o->buf + off, o->len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		off += (size_t)w;
	}
	o->bytes += o->len;
	o->len = 0;
}

/* Queue one whole message of len bytes (flushing first when the buffer is full). */
static void out_msg(struct out *o, const uint8_t *m, size_t len)
{
	if (o->len + len > sizeof o->buf)
		out_flush(o);
	memcpy(o->buf + o->len, m, len);
	o->len += len;
	o->msgs++;
	if (m[18] == BGP_UPDATE)
		o->updates++;
}

/* Read one BGP message into buf (cap >= 4096); returns its type, or -1 on EOF/error. */
static int read_msg(int fd, uint8_t *buf)
{
	size_t got = 0, need = BGP_HDR_LEN;
	while (got < need) {
		ssize_t r = read(fd, buf + got, need - got);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
		if (got == BGP_HDR_LEN) {
			need = (size_t)buf[16] << 8 | buf[17];
			if (need < BGP_HDR_LEN || need > BGP_MAX_LEN)
				return -1;
		}
	}
	return buf[18];
}

/* ---- the table ---------------------------------------------------------- */

static void make_paths(struct path *p, uint32_t n, uint32_t asn, uint64_t *s)
{
	uint32_t neighbor = 64496 + asn % 16;
	for (uint32_t i = 0; i < n; i++) {
		struct path *q = &p[i];
		memset(q, 0, sizeof *q);
		/* lengths 1..9, most 3..5 */
		uint32_t r = rnd_below(s, 100);
		q->len = (uint8_t)(r < 5 ? 1 : r < 20 ? 2 : r < 45 ? 3 : r < 70 ? 4 : r < 85 ? 5
		    : 6 + rnd_below(s, 4));
		q->asn[0] = neighbor;
		for (unsigned k = 1; k < q->len; k++)
			q->asn[k] = rnd_below(s, 4) ? 1 + rnd_below(s, 64000) : 131072 + rnd_below(s, 300000);
		/* the origin makes each path distinct: path i ends in an AS of its own */
		if (q->len > 1)
			q->asn[q->len - 1] = 200000 + i;
		q->ncomm = (uint8_t)rnd_below(s, MAX_COMMS + 1);
		for (unsigned k = 0; k < q->ncomm; k++)
			q->comm[k] = (uint32_t)(q->asn[0] & 0xffff) << 16 | (uint16_t)rnd_below(s, 4000);
		if (rnd_below(s, 5) == 0) {
			q->nlcomm = (uint8_t)(1 + rnd_below(s, MAX_LCOMMS));
			for (unsigned k = 0; k < q->nlcomm; k++) {
				q->lcomm[k][0] = q->asn[0];
				q->lcomm[k][1] = rnd_below(s, 100);
				q->lcomm[k][2] = rnd_below(s, 1000);
			}
		}
		q->local_pref = 100 * (1 + rnd_below(s, 3));
		q->has_med = rnd_below(s, 2);
		q->med = q->has_med ? rnd_below(s, 1000) : 0;
	}
}

/* Zipf (s = 1) over n ranks: the cumulative weights, for a binary search. */
static double *zipf_cdf(uint32_t n)
{
	double *c = malloc(sizeof *c * n), sum = 0;
	if (!c)
		die("malloc");
	for (uint32_t i = 0; i < n; i++) {
		sum += 1.0 / (i + 1);
		c[i] = sum;
	}
	for (uint32_t i = 0; i < n; i++)
		c[i] /= sum;
	return c;
}

static uint32_t zipf_draw(const double *c, uint32_t n, uint64_t *s)
{
	double u = (double)(rnd(s) >> 11) / 9007199254740992.0;
	uint32_t lo = 0, hi = n - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (c[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Open-addressing set of (address, length) keys, to keep prefixes distinct. */
struct pset {
	uint64_t *k;
	size_t mask;
};

static uint64_t pkey(const struct pfx *p, bool v6)
{
	uint64_t h = 1469598103934665603ULL ^ p->len;
	for (unsigned i = 0; i < (v6 ? 16u : 4u); i++)
		h = (h ^ p->addr[i]) * 1099511628211ULL;
	return h | 1; /* 0 is the empty slot */
}

static bool pset_add(struct pset *s, uint64_t k)
{
	for (size_t i = k & s->mask;; i = (i + 1) & s->mask) {
		if (s->k[i] == k)
			return false;
		if (s->k[i] == 0) {
			s->k[i] = k;
			return true;
		}
	}
}

/* n distinct prefixes of the family: IPv4 under 1/8..223/8 (not 10, 127), 55% /24,
 * the rest /8../23; IPv6 under 2000::/4, 50% /48, the rest /29../47 and a few /64. */
static void make_prefixes(struct pfx *out, uint32_t n, bool v6, const double *cdf,
    uint32_t npaths, uint64_t *s)
{
	size_t slots = 1;
	while (slots < (size_t)n * 2 + 16)
		slots <<= 1;
	struct pset set = { calloc(slots, sizeof(uint64_t)), slots - 1 };
	if (!set.k)
		die("calloc");
	for (uint32_t i = 0; i < n;) {
		struct pfx p;
		memset(&p, 0, sizeof p);
		uint32_t r = rnd_below(s, 100);
		if (!v6) {
			p.len = (uint8_t)(r < 55 ? 24 : r < 65 ? 22 : r < 72 ? 23 : r < 80 ? 20 : r < 86 ? 21
			    : 8 + rnd_below(s, 12));
			uint32_t a;
			do
				a = (uint32_t)rnd(s);
			while ((a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 || (a >> 24) >= 224);
			a &= p.len ? ~0u << (32 - p.len) : 0;
			p.addr[0] = (uint8_t)(a >> 24);
			p.addr[1] = (uint8_t)(a >> 16);
			p.addr[2] = (uint8_t)(a >> 8);
			p.addr[3] = (uint8_t)a;
		} else {
			p.len = (uint8_t)(r < 50 ? 48 : r < 60 ? 32 : r < 62 ? 64 : 29 + rnd_below(s, 19));
			uint64_t hi = rnd(s), lo2 = rnd(s);
			hi = (hi & 0x0fffffffffffffffULL) | 0x2000000000000000ULL;
			for (unsigned b = 0; b < 8; b++)
				p.addr[b] = (uint8_t)(hi >> (56 - 8 * b));
			for (unsigned b = 0; b < 8; b++)
				p.addr[8 + b] = (uint8_t)(lo2 >> (56 - 8 * b));
			for (unsigned bit = p.len; bit < 128; bit++)
				p.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
		}
		if (!pset_add(&set, pkey(&p, v6)))
			continue;
		p.path = zipf_draw(cdf, npaths, s);
		out[i++] = p;
	}
	free(set.k);
}

/* ---- UPDATE encoding ---------------------------------------------------- */

static size_t put_attr_hdr(uint8_t *b, uint8_t flags, uint8_t type, size_t len)
{
	if (len > 255) {
		b[0] = flags | 0x10;
		b[1] = type;
		b[2] = (uint8_t)(len >> 8);
		b[3] = (uint8_t)len;
		return 4;
	}
	b[0] = flags;
	b[1] = type;
	b[2] = (uint8_t)len;
	return 3;
}

static size_t put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
	return 4;
}

/* The path attributes of p (without NEXT_HOP / MP_REACH) into b; returns their length. */
static size_t put_common_attrs(uint8_t *b, const struct path *p)
{
	size_t n = 0;
	n += put_attr_hdr(b + n, 0x40, 1, 1);
	b[n++] = 0; /* IGP */
	n += put_attr_hdr(b + n, 0x40, 2, 2 + 4u * p->len);
	b[n++] = BGP_AS_SEQUENCE;
	b[n++] = p->len;
	for (unsigned k = 0; k < p->len; k++)
		n += put32(b + n, p->asn[k]);
	if (p->has_med) {
		n += put_attr_hdr(b + n, 0x80, 4, 4);
		n += put32(b + n, p->med);
	}
	n += put_attr_hdr(b + n, 0x40, 5, 4);
	n += put32(b + n, p->local_pref);
	if (p->ncomm) {
		n += put_attr_hdr(b + n, 0xc0, 8, 4u * p->ncomm);
		for (unsigned k = 0; k < p->ncomm; k++)
			n += put32(b + n, p->comm[k]);
	}
	if (p->nlcomm) {
		n += put_attr_hdr(b + n, 0xc0, 32, 12u * p->nlcomm);
		for (unsigned k = 0; k < p->nlcomm; k++)
			for (unsigned j = 0; j < 3; j++)
				n += put32(b + n, p->lcomm[k][j]);
	}
	return n;
}

static size_t nlri_len(const struct pfx *p)
{
	return 1 + (p->len + 7u) / 8;
}

static size_t put_nlri(uint8_t *b, const struct pfx *p)
{
	b[0] = p->len;
	memcpy(b + 1, p->addr, (p->len + 7u) / 8);
	return nlri_len(p);
}

static void finish_msg(uint8_t *m, size_t len)
{
	memset(m, 0xff, 16);
	m[16] = (uint8_t)(len >> 8);
	m[17] = (uint8_t)len;
	m[18] = BGP_UPDATE;
}

/*
 * Send the prefixes pf[idx[0..n-1]] (all of one attribute set, or of none for
 * withdraw) in UPDATEs of at most 4096 bytes: IPv4 in the NLRI / withdrawn fields,
 * IPv6 in MP_REACH / MP_UNREACH.
 */
static void send_group(struct out *o, const struct pfx *pf, const uint32_t *idx, size_t n,
    bool v6, bool withdraw, const struct path *p, const uint8_t nh4[4], const uint8_t nh6[16])
{
	uint8_t m[BGP_MAX_LEN];
	size_t i = 0;
	while (i < n) {
		size_t len = BGP_HDR_LEN;
		if (!v6 && withdraw) {
			size_t wl_at = len, w = 0;
			len += 2;
			while (i < n && len + nlri_len(&pf[idx[i]]) + 2 <= BGP_MAX_LEN) {
				w += put_nlri(m + len, &pf[idx[i++]]);
				len = wl_at + 2 + w;
			}
			m[wl_at] = (uint8_t)(w >> 8);
			m[wl_at + 1] = (uint8_t)w;
			m[len++] = 0;
			m[len++] = 0;
		} else if (!v6) {
			m[len++] = 0;
			m[len++] = 0;
			size_t al_at = len;
			len += 2;
			size_t a = put_common_attrs(m + len, p);
			a += put_attr_hdr(m + len + a, 0x40, 3, 4);
			memcpy(m + len + a, nh4, 4);
			a += 4;
			m[al_at] = (uint8_t)(a >> 8);
			m[al_at + 1] = (uint8_t)a;
			len += a;
			while (i < n && len + nlri_len(&pf[idx[i]]) <= BGP_MAX_LEN)
				len += put_nlri(m + len, &pf[idx[i++]]);
		} else {
			m[len++] = 0;
			m[len++] = 0;
			size_t al_at = len;
			len += 2;
			size_t a = withdraw ? 0 : put_common_attrs(m + len, p);
			/* MP_(UN)REACH with the extended length, filled in below */
			size_t mp_at = len + a;
			size_t mp = 4 + 3 + (withdraw ? 0 : 1 + 16 + 1);
			size_t body = mp_at + mp;
			while (i < n && body + nlri_len(&pf[idx[i]]) <= BGP_MAX_LEN)
				body += put_nlri(m + body, &pf[idx[i++]]);
			size_t mplen = body - mp_at - 4;
			m[mp_at] = 0x90;
			m[mp_at + 1] = withdraw ? 15 : 14;
			m[mp_at + 2] = (uint8_t)(mplen >> 8);
			m[mp_at + 3] = (uint8_t)mplen;
			m[mp_at + 4] = 0;
			m[mp_at + 5] = BGP_AFI_IPV6;
			m[mp_at + 6] = BGP_SAFI_UNICAST;
			if (!withdraw) {
				m[mp_at + 7] = 16;
				memcpy(m + mp_at + 8, nh6, 16);
				m[mp_at + 24] = 0;
			}
			a += body - mp_at;
			m[al_at] = (uint8_t)(a >> 8);
			m[al_at + 1] = (uint8_t)a;
			len = body;
		}
		finish_msg(m, len);
		out_msg(o, m, len);
	}
}

static void send_eor(struct out *o, bool v6)
{
	uint8_t m[BGP_HDR_LEN + 10];
	size_t len = BGP_HDR_LEN;
	memset(m + len, 0, 4);
	if (v6) {
		m[len + 3] = 6;
		uint8_t mp[] = { 0x80, 15, 3, 0, BGP_AFI_IPV6, BGP_SAFI_UNICAST };
		memcpy(m + len + 4, mp, sizeof mp);
		len += 4 + sizeof mp;
	} else {
		len += 4;
	}
	finish_msg(m, len);
	out_msg(o, m, len);
}

/* The prefixes of one family grouped by path (counting sort), each group sent. */
static void send_table(struct out *o, const struct pfx *pf, uint32_t n, bool v6, bool withdraw,
    const struct path *paths, uint32_t npaths, const uint8_t nh4[4], const uint8_t nh6[16])
{
	uint32_t *start = calloc(npaths + 1u, sizeof *start), *idx = malloc(sizeof *idx * (n + 1u));
	if (!start || !idx)
		die("malloc");
	for (uint32_t i = 0; i < n; i++)
		start[pf[i].path + 1]++;
	for (uint32_t k = 0; k < npaths; k++)
		start[k + 1] += start[k];
	uint32_t *fill = malloc(sizeof *fill * (npaths + 1u));
	if (!fill)
		die("malloc");
	memcpy(fill, start, sizeof *fill * (npaths + 1u));
	for (uint32_t i = 0; i < n; i++)
		idx[fill[pf[i].path]++] = i;
	if (withdraw) {
		send_group(o, pf, idx, n, v6, true, NULL, nh4, nh6);
	} else {
		for (uint32_t k = 0; k < npaths; k++)
			if (start[k + 1] > start[k])
				send_group(o, pf, idx + start[k], start[k + 1] - start[k], v6, false,
				    &paths[k], nh4, nh6);
	}
	out_flush(o);
	free(fill);
	free(idx);
	free(start);
}

/* ---- the routes file ---------------------------------------------------- */

static void fprint_list(FILE *f, const char *sep, const uint32_t *v, unsigned n, unsigned per)
{
	if (n == 0) {
		fputc('-', f);
		return;
	}
	for (unsigned k = 0; k < n; k++) {
		if (k)
			fputs("_", f);
		for (unsigned j = 0; j < per; j++)
			fprintf(f, "%s%u", j ? sep : "", v[k * per + j]);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_lcomm(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	for (unsigned j = 0; j < 3; j++)
		if (x[j] != y[j])
			return x[j] < y[j] ? -1 : 1;
	return 0;
}

/* Sort v (n items of `per` words) and drop repeats; returns the count left. */
static unsigned sort_uniq(uint32_t *v, unsigned n, unsigned per)
{
	qsort(v, n, per * sizeof *v, per == 1 ? cmp_u32 : cmp_lcomm);
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++)
		if (k == 0 || memcmp(&v[(k - 1) * per], &v[i * per], per * sizeof *v))
			memmove(&v[k++ * per], &v[i * per], per * sizeof *v);
	return k;
}

static void write_routes(const char *file, const struct pfx *pf, uint32_t n, bool v6,
    const struct path *paths, const char *nh, bool append)
{
	FILE *f = fopen(file, append ? "a" : "w");
	if (!f)
		die(file);
	char a[INET6_ADDRSTRLEN];
	for (uint32_t i = 0; i < n; i++) {
		/* communities as pmacct prints them: sorted, each once (the wire keeps
		 * the generated order) */
		struct path sorted = paths[pf[i].path];
		const struct path *p = &sorted;
		sorted.ncomm = (uint8_t)sort_uniq(sorted.comm, sorted.ncomm, 1);
		sorted.nlcomm = (uint8_t)sort_uniq(&sorted.lcomm[0][0], sorted.nlcomm, 3);
		uint8_t full[16] = { 0 };
		memcpy(full, pf[i].addr, v6 ? 16 : 4);
		inet_ntop(v6 ? AF_INET6 : AF_INET, full, a, sizeof a);
		fprintf(f, "%s/%u %s ", a, pf[i].len, nh);
		fprint_list(f, "", p->asn, p->len, 1);
		fputc(' ', f);
		if (p->ncomm == 0)
			fputc('-', f);
		for (unsigned k = 0; k < p->ncomm; k++)
			fprintf(f, "%s%u:%u", k ? "_" : "", p->comm[k] >> 16, p->comm[k] & 0xffff);
		fputc(' ', f);
		fprint_list(f, ":", &p->lcomm[0][0], p->nlcomm, 3);
		fprintf(f, " %u %u\n", p->local_pref, p->med);
	}
	if (fclose(f))
		die(file);
}

/* ---- the session -------------------------------------------------------- */

static int connect_to(const struct opts *op)
{
	bool v6 = strchr(op->collector, ':') != NULL;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	socklen_t sl;
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		sl = sizeof *s6;
		if (op->local) {
			if (inet_pton(AF_INET6, op->local, &s6->sin6_addr) != 1)
				die("-l");
			if (bind(fd, (struct sockaddr *)s6, sl))
				die("bind");
		}
		s6->sin6_port = htons(op->port);
		if (inet_pton(AF_INET6, op->collector, &s6->sin6_addr) != 1)
			die("-c");
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		sl = sizeof *s4;
		if (op->local) {
			if (inet_pton(AF_INET, op->local, &s4->sin_addr) != 1)
				die("-l");
			if (bind(fd, (struct sockaddr *)s4, sl))
				die("bind");
		}
		s4->sin_port = htons(op->port);
		if (inet_pton(AF_INET, op->collector, &s4->sin_addr) != 1)
			die("-c");
	}
	if (connect(fd, (struct sockaddr *)&ss, sl))
		die("connect");
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Drain what the collector sent (KEEPALIVEs), send ours every 30 s, for `secs` seconds. */
static void stay_up(struct out *o, unsigned secs)
{
	double end = now_s() + secs, next_ka = now_s() + 30;
	uint8_t buf[BGP_MAX_LEN];
	while (!stop_flag && now_s() < end) {
		struct pollfd pfd = { o->fd, POLLIN, 0 };
		if (poll(&pfd, 1, 500) > 0) {
			int t = read_msg(o->fd, buf);
			if (t < 0) {
				fprintf(stderr, "bgpgen: the collector closed the session\n");
				return;
			}
			if (t == BGP_NOTIFICATION) {
				fprintf(stderr, "bgpgen: NOTIFICATION %u/%u\n", buf[19], buf[20]);
				return;
			}
		}
		if (now_s() >= next_ka) {
			size_t n = bgp_encode_keepalive(buf, sizeof buf);
			out_msg(o, buf, n);
			out_flush(o);
			next_ka += 30;
		}
	}
}

static void usage(void)
{
	fputs("usage: bgpgen -p port [-c collector] [-l local] [-a asn] [-4 N] [-6 M] [-P paths]\n"
	      "              [-s seed] [-n nh4] [-N nh6] [-t seconds] [-w] [-E] [-o routes] [-j tallies]\n",
	    stderr);
	exit(2);
}

static uint32_t num(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xffffffffUL) {
		fprintf(stderr, "bgpgen: bad %s '%s'\n", what, s);
		exit(2);
	}
	return (uint32_t)v;
}

int main(int argc, char **argv)
{
	struct opts op = { "127.0.0.1", NULL, NULL, "2001:db8::1", NULL, NULL, 0, 65001, 1000000,
		200000, 70000, 1, 0, false, false };
	int c;
	while ((c = getopt(argc, argv, "c:p:l:a:4:6:P:s:n:N:t:wEo:j:")) != -1) {
		switch (c) {
		case 'c': op.collector = optarg; break;
		case 'p': op.port = (uint16_t)num(optarg, "port"); break;
		case 'l': op.local = optarg; break;
		case 'a': op.asn = num(optarg, "asn"); break;
		case '4': op.n4 = num(optarg, "-4"); break;
		case '6': op.n6 = num(optarg, "-6"); break;
		case 'P': op.npaths = num(optarg, "-P"); break;
		case 's': op.seed = num(optarg, "seed"); break;
		case 'n': op.nh4 = optarg; break;
		case 'N': op.nh6 = optarg; break;
		case 't': op.stay = num(optarg, "-t"); break;
		case 'w': op.withdraw = true; break;
		case 'E': op.no_eor = true; break;
		case 'o': op.routes_file = optarg; break;
		case 'j': op.tallies_file = optarg; break;
		default: usage();
		}
	}
	if (!op.port || !op.npaths)
		usage();
	if (!op.nh4)
		op.nh4 = op.local && !strchr(op.local, ':') ? op.local : "192.0.2.1";
	uint8_t nh4[4], nh6[16];
	if (inet_pton(AF_INET, op.nh4, nh4) != 1 || inet_pton(AF_INET6, op.nh6, nh6) != 1) {
		fprintf(stderr, "bgpgen: bad next hop\n");
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* the table, before connecting: the send is what the collector sees */
	double t0 = now_s();
	uint64_t s = op.seed * 0x2545f4914f6cdd1dULL + 1;
	struct path *paths = malloc(sizeof *paths * op.npaths);
	struct pfx *p4 = malloc(sizeof *p4 * (op.n4 + 1u)), *p6 = malloc(sizeof *p6 * (op.n6 + 1u));
	if (!paths || !p4 || !p6)
		die("malloc");
	make_paths(paths, op.npaths, op.asn, &s);
	double *cdf = zipf_cdf(op.npaths);
	make_prefixes(p4, op.n4, false, cdf, op.npaths, &s);
	make_prefixes(p6, op.n6, true, cdf, op.npaths, &s);
	free(cdf);
	uint32_t used_paths = 0;
	for (uint32_t i = 0; i < op.n4; i++)
		paths[p4[i].path].used++;
	for (uint32_t i = 0; i < op.n6; i++)
		paths[p6[i].path].used++;
	for (uint32_t k = 0; k < op.npaths; k++)
		used_paths += paths[k].used > 0;
	if (op.routes_file) {
		write_routes(op.routes_file, p4, op.n4, false, paths, op.nh4, false);
		write_routes(op.routes_file, p6, op.n6, true, paths, op.nh6, true);
	}
	double t_gen = now_s() - t0;

	struct out *o = calloc(1, sizeof *o);
	if (!o)
		die("calloc");
	o->fd = connect_to(&op);
	double t_conn = now_s();
	uint8_t buf[BGP_MAX_LEN];
	struct bgp_open_cfg oc = { .my_as = op.asn, .hold_time = 180, .mp_v4 = true, .mp_v6 = true,
		.as4 = true, .route_refresh = false };
	if (op.local && !strchr(op.local, ':')) {
		struct in_addr ia;
		inet_pton(AF_INET, op.local, &ia);
		oc.bgp_id = ntohl(ia.s_addr);
	} else {
		oc.bgp_id = 0x0a000001u + op.asn;
	}
	size_t n = bgp_encode_open(&oc, buf, sizeof buf);
	out_msg(o, buf, n);
	out_flush(o);
	bool got_open = false, got_ka = false;
	while (!(got_open && got_ka)) {
		int t = read_msg(o->fd, buf);
		if (t < 0 || t == BGP_NOTIFICATION) {
			fprintf(stderr, "bgpgen: session refused (%s %u/%u)\n",
			    t < 0 ? "closed" : "NOTIFICATION", t < 0 ? 0 : buf[19], t < 0 ? 0 : buf[20]);
			return 1;
		}
		if (t == BGP_OPEN && !got_open) {
			got_open = true;
			n = bgp_encode_keepalive(buf, sizeof buf);
			out_msg(o, buf, n);
			out_flush(o);
		} else if (t == BGP_KEEPALIVE) {
			got_ka = true;
		}
	}
	double t_est = now_s();
	fprintf(stderr, "bgpgen: established\n");
	send_table(o, p4, op.n4, false, false, paths, op.npaths, nh4, nh6);
	send_table(o, p6, op.n6, true, false, paths, op.npaths, nh4, nh6);
	if (!op.no_eor) {
		send_eor(o, false);
		send_eor(o, true);
		out_flush(o);
	}
	double t_sent = now_s();
	uint64_t upd_announce = o->updates, bytes_announce = o->bytes;
	fprintf(stderr, "bgpgen: table sent\n");
	stay_up(o, op.stay);
	uint64_t upd_withdraw = 0;
	double t_wd = 0;
	if (op.withdraw && !stop_flag) {
		double tw = now_s();
		uint64_t before = o->updates;
		send_table(o, p4, op.n4, false, true, paths, op.npaths, nh4, nh6);
		send_table(o, p6, op.n6, true, true, paths, op.npaths, nh4, nh6);
		upd_withdraw = o->updates - before;
		t_wd = now_s() - tw;
		fprintf(stderr, "bgpgen: withdrawals sent\n");
		stay_up(o, op.stay);
	}
	close(o->fd);

	char js[1024];
	snprintf(js, sizeof js,
	    "{\"ipv4_prefixes\": %u, \"ipv6_prefixes\": %u, \"as_paths\": %u, \"attr_sets\": %u, "
	    "\"updates\": %llu, \"withdraw_updates\": %llu, \"messages\": %llu, \"bytes\": %llu, "
	    "\"announce_bytes\": %llu, \"announce_updates\": %llu, \"seed\": %llu, "
	    "\"gen_seconds\": %.3f, \"establish_seconds\": %.3f, \"send_seconds\": %.3f, "
	    "\"withdraw_seconds\": %.3f}\n",
	    op.n4, op.n6, used_paths, used_paths, (unsigned long long)o->updates,
	    (unsigned long long)upd_withdraw, (unsigned long long)o->msgs,
	    (unsigned long long)o->bytes, (unsigned long long)bytes_announce,
	    (unsigned long long)upd_announce, (unsigned long long)op.seed, t_gen, t_est - t_conn,
	    t_sent - t_est, t_wd);
	fputs(js, stdout);
	if (op.tallies_file) {
		FILE *f = fopen(op.tallies_file, "w");
		if (!f || fputs(js, f) < 0 || fclose(f))
			die(op.tallies_file);
	}
	free(o);
	free(paths);
	free(p4);
	free(p6);
	return 0;
}
