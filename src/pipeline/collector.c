/* SPDX-License-Identifier: BSD-3-Clause */
/* collector.c: the receiving side of nfacctd and sfacctd: UDP socket or capture file, allow list, decoder, pipeline. */
#include "collector.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "model/gauge.h"
#include "lib/progress.h"
#include "lib/rd.h"
#include "lib/xalloc.h"
#include "maps/allow.h"
#include "pipeline/pipeline.h"
#include "model/health.h"
#include "pipeline/savefile.h"

#define WHO "default/core"
#define RX_BATCH 64		/* datagrams per recvmmsg() */
#define RX_BUF 65536		/* the largest UDP payload */
#define FILE_BUF (1 << 20)	/* stdio buffer of a capture file (-I) */
#define IDLE_MS 500		/* wake up at least this often for signals and flushes */
#define COLLECTOR_MAX_WORKERS 64	/* collector_workers */
#define FLUSH_MS 10		/* partial plugin batches wait at most this long for more */

struct collector {
	struct core_cfg *cfg;
	const struct collector_proto *proto;
	void *state;
	struct pipeline *pl;
	struct rec_sink sink;
	const struct dgram *cur;	/* datagram being decoded, for emit() */
	struct allow_list *allow;	/* NULL: every exporter allowed */
	int fd;				/* socket, or -1 when reading a file */
	pcap_t *pc;			/* -I, read with libpcap (pcapng, ...) */
	struct savefile *pm;		/* -I, a classic pcap file read in place */
	struct pcap_pkthdr pm_hdr;	/* its current record */
	int dlt;
	uint8_t *bufs;			/* RX_BATCH buffers of RX_BUF bytes */
	_Atomic uint64_t datagrams, denied, not_udp;	/* written by this receiver's thread only */
	int64_t last_tick;
	struct health *health;		/* cfg->health when the protocol publishes, else NULL */
	int health_slot;
	int64_t health_ms;		/* monotonic ms of the last publication */
	int64_t pending_since;		/* monotonic ms of the first datagram since the last flush */
	bool pending;
	/*
	 * collector_workers N > 1 (sockets only).  The kernel spreads datagrams
	 * over N sockets bound to the same address and port (SO_REUSEPORT),
	 * hashing each sender's address and port, so one exporter always
	 * reaches the same socket: each receiver keeps its own decoder state
	 * (templates, sequence numbers), allow list and core pipeline (maps,
	 * filters), and offers records to plugin feeds whose rings the plugin
	 * threads drain beside the first receiver's (pipeline_init_sibling()).
	 * The first receiver runs on the caller's thread, handles the signals
	 * and owns the others (workers[1..]); each of those runs its own thread
	 * and acts on the first's request counters between batches.
	 */
	struct collector *first;	/* NULL on the first receiver */
	struct collector **workers;	/* first only: nworkers receivers, [0] = itself */
	int nworkers;
	struct pipeline own_pl;		/* further receivers: their core pipeline */
	pthread_t thread;
	bool running;
	_Atomic bool stop;		/* first only: the further receivers end */
	_Atomic unsigned req_stats, req_reload, req_reopen;	/* first only: signal requests */
	unsigned seen_stats, seen_reload, seen_reopen;	/* further receivers */
};

/* A counter written by one thread, read by any: a plain increment. */
static inline void cnt_inc(_Atomic uint64_t *v)
{
	atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + 1, memory_order_relaxed);
}

/* ---- allow list ------------------------------------------------------- */

/* The allow file (maps/allow.h); NULL after logging when it cannot be read. */
static struct allow_list *allow_open(const struct core_cfg *cfg, const char *path)
{
	struct allow_list *a = allow_load(path, WHO);

	if (!a)
		log_err_errno(WHO, "[%s] key 'nfacctd_allow_file': cannot read '%s'",
		    cfg_where(&cfg->origin, "nfacctd_allow_file"), path);
	return a;
}

/* ---- records ---------------------------------------------------------- */

static void emit(void *arg, struct flow_rec *rec)
{
	struct collector *c = arg;

	if (!rec->k.ts_arrival.sec)
		rec->k.ts_arrival = c->cur->ts;
	if (!rec->ts.sec)
		rec->ts = c->cur->ts;
	pipeline_record(c->pl, rec, NULL, NULL);
}

static void handle(struct collector *c, const struct dgram *d)
{
	cnt_inc(&c->datagrams);
	if (!allow_match(c->allow, &d->src)) {
		cnt_inc(&c->denied);
		return;
	}
	/* tee plugins replicate the datagram as received (their hook locks what it shares) */
	pipeline_datagram(c->pl, d);
	c->cur = d;
	c->proto->datagram(c->state, d, &c->sink);
	pipeline_batch_end(c->pl);	/* a datagram's records share one hold of the RIB */
}

/*
 * Publish this receiver's exporters for the http plugin (health.h) when a
 * second has passed since the last time, or now with `force`.
 */
static void health_refresh(struct collector *c, bool force)
{
	struct health_build b;
	int64_t ms;

	if (!c->health)
		return;
	ms = clock_mono_coarse_ms();
	if (!force && ms - c->health_ms < HEALTH_REFRESH_MS)
		return;
	c->health_ms = ms;
	health_build_init(&b);
	c->proto->health(c->state, &b);
	struct health_rx rx = {
		atomic_load_explicit(&c->datagrams, memory_order_relaxed),
		atomic_load_explicit(&c->denied, memory_order_relaxed),
		atomic_load_explicit(&c->not_udp, memory_order_relaxed),
	};
	health_publish(c->health, c->health_slot, &b, &rx);
}

/* This receiver publishes exporter health if an http plugin asked for it. */
static void health_attach(struct collector *c)
{
	if (!c->cfg->health || !c->proto->health)
		return;
	c->health = c->cfg->health;
	c->health_slot = health_slot(c->health);
}

static void tick(struct collector *c, int64_t now)
{
	if (now == c->last_tick)
		return;
	c->last_tick = now;
	if (c->proto->tick)
		c->proto->tick(c->state, now);
}

/* ---- socket ----------------------------------------------------------- */

/* The sender of a datagram, IPv4-mapped IPv6 given as plain IPv4. */
static void sockaddr_to_ip(const struct sockaddr_storage *ss, struct fr_ip *ip, uint16_t *port)
{
	memset(ip, 0, sizeof(*ip));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		ip->af = 4;
		memcpy(ip->a, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			ip->af = 4;
			memcpy(ip->a, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			ip->af = 6;
			memcpy(ip->a, s6->sin6_addr.s6_addr, 16);
		}
		*port = ntohs(s6->sin6_port);
	}
}

static void set_rcvbuf(int fd, size_t size)
{
	int v = size > (size_t)INT32_MAX ? INT32_MAX : (int)size;
	int got = 0;
	socklen_t l = sizeof(got);

	/* SO_RCVBUFFORCE passes the system limit when we are root */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &l);
	log_info(WHO, "socket receive buffer: obtained=%d bytes target=%d bytes", got / 2, v);
}

static int bind_socket(struct collector *c)
{
	const struct core_cfg *cfg = c->cfg;
	uint16_t port = cfg->collector_port ? (uint16_t)cfg->collector_port : c->proto->default_port;
	const char *ip = cfg->collector_ip ? cfg->collector_ip : "::";
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICHOST, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *ai = NULL;
	char sport[8];
	int one = 1, v6only = cfg->collector_ipv6_only;

	snprintf(sport, sizeof(sport), "%u", port);
	if (getaddrinfo(ip, sport, &hints, &ai) != 0 || !ai) {
		log_err(WHO, "[%s] key '%s_ip': invalid address '%s'. Exiting.",
		    cfg_where(&cfg->origin, "nfacctd_ip"), c->proto->daemon, ip);
		return -1;
	}
	c->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(c->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (cfg->collector_pipe_size)
		set_rcvbuf(c->fd, cfg->collector_pipe_size);
	if (bind(c->fd, ai->ai_addr, ai->ai_addrlen) < 0)
		goto fail;
	freeaddrinfo(ai);
	/* several receivers: announced once every socket is bound (workers_open) */
	if (cfg->collector_workers <= 1)
		log_info(WHO, c->proto->ready_fmt, ip, port);
	return 0;
fail:
	log_err(WHO, "cannot listen on %s port %u: %s. Exiting.", ip, port, strerror(errno));
	freeaddrinfo(ai);
	return -1;
}

/*
 * One recvmmsg() batch; returns the number of datagrams, 0 when none, -1 on
 * error, and adds their payload bytes to *bytes.
 */
static int receive_batch(struct collector *c, size_t *bytes)
{
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_storage from[RX_BATCH];
	struct timeval tv;

	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < RX_BATCH; i++) {
		iov[i].iov_base = c->bufs + (size_t)i * RX_BUF;
		iov[i].iov_len = RX_BUF;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	int n = recvmmsg(c->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
	gettimeofday(&tv, NULL);
	for (int i = 0; i < n; i++) {
		struct dgram d = { .data = iov[i].iov_base, .len = msgs[i].msg_len,
			.ts = { tv.tv_sec, tv.tv_usec } };
		sockaddr_to_ip(&from[i], &d.src, &d.src_port);
		*bytes += d.len;
		handle(c, &d);
	}
	return n;
}

/*
 * Receive pacing.  A steady stream read as it comes gives a wake-up, a
 * poll() and a recvmmsg() for every few datagrams (at 40,000 sFlow
 * datagrams/s, one per 2.4): most of the receive thread's CPU, in the
 * kernel.  So after a batch short of RX_BATCH that followed another
 * non-empty one (a stream, not the first datagram after a pause), the
 * thread sleeps about as long as the stream takes to fill half a batch more,
 * at its rate over the last batch: at most PACE_MAX_US, and no more
 * datagrams than a quarter of the socket's buffer holds (counting, from
 * SO_RCVBUF, PACE_TRUESIZE bytes of kernel memory per datagram besides its
 * payload), so the buffer never nears full while it sleeps.  Partial plugin
 * batches still go FLUSH_MS after their first record.
 */
#define PACE_MAX_US 1000
#define PACE_TRUESIZE 1024

struct pacer {
	int64_t last_us;	/* when the previous batch was read */
	int last_n;		/* its datagrams */
	size_t rcvbuf;		/* SO_RCVBUF: what the kernel charges datagrams against */
};

static void pacer_init(struct pacer *p, int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l) == 0 && v > 0)
		p->rcvbuf = (size_t)v;
}

/* How long to sleep after a batch of n datagrams of `bytes` payload; 0: do not. */
static int64_t pacer_next(struct pacer *p, int n, size_t bytes)
{
	int64_t now = (int64_t)clock_mono_us(), gap = now - p->last_us, us = 0;
	bool stream = p->last_n > 0;

	p->last_us = now;
	p->last_n = n;
	if (!stream || n <= 0 || n >= RX_BATCH / 2 || !p->rcvbuf)
		return 0;
	size_t cap = p->rcvbuf / 4 / (bytes / (size_t)n + PACE_TRUESIZE);
	size_t want = cap < RX_BATCH / 2 ? cap : RX_BATCH / 2;
	if (want <= (size_t)n)
		return 0;
	us = gap / n * (int64_t)(want - (size_t)n);
	return us > PACE_MAX_US ? PACE_MAX_US : us;
}

/* Hand the plugins their partial batches, then the once-a-second work. */
static void flush_pending(struct collector *c)
{
	pipeline_flush(c->pl);
	c->pending = false;
	tick(c, time(NULL));
}

static int socket_loop(struct collector *c, collector_stop_fn should_stop, void *arg)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct pacer pace;

	pacer_init(&pace, c->fd);
	while (!should_stop(arg)) {
		size_t bytes = 0;
		int n = receive_batch(c, &bytes);
		if (n < 0) {
			log_err_errno(WHO, "recvmmsg");
			return -1;
		}
		health_refresh(c, false);	/* also when busy: tick() runs only when idle */
		if (n > 0 && !c->pending) {
			c->pending = true;
			c->pending_since = clock_mono_coarse_ms();
		}
		int64_t us = pacer_next(&pace, n, bytes);
		if (n == RX_BATCH)
			continue;
		if (us > 0) {
			struct timespec ts = { 0, (long)us * 1000 };
			/* partial plugin batches still go at most FLUSH_MS after their first record */
			if (c->pending && clock_mono_coarse_ms() - c->pending_since >= FLUSH_MS)
				flush_pending(c);
			(void)nanosleep(&ts, NULL);	/* EINTR: a signal, read on */
			continue;
		}
		/*
		 * Drained.  Partial plugin batches are handed over when no datagram
		 * follows within FLUSH_MS, and at least FLUSH_MS after the first
		 * datagram they hold: a steady trickle does not wake the plugins
		 * for every datagram.
		 */
		if (c->pending && clock_mono_coarse_ms() - c->pending_since < FLUSH_MS &&
		    poll(&pfd, 1, FLUSH_MS) > 0)
			continue;
		flush_pending(c);
		/* sleep until data or a signal */
		(void)poll(&pfd, 1, IDLE_MS);
	}
	return 0;
}

/* ---- capture file (-I) ------------------------------------------------ */

/* The UDP payload of a captured frame, with its sender; false if it is not UDP over IP. */
static bool frame_udp(const struct collector *c, const struct pcap_pkthdr *h, const uint8_t *pkt,
    struct dgram *d)
{
	struct pkt_stats st = { 0 };
	struct flow_rec rec;

	if (pkt_decode(c->dlt, pkt, h->caplen, h->len, &rec, &st) != PKT_DROP_NONE ||
	    rec.k.proto != 17 || (rec.flags & FR_F_LATER_FRAG))
		return false;
	struct rd r = rd_make(pkt + rec.l3_off, h->caplen - rec.l3_off);
	uint8_t v = rd_peek8(&r) >> 4;
	if (v == 4)
		rd_skip(&r, (size_t)(rd_peek8(&r) & 0x0f) * 4);	/* RFC 791: IHL words */
	else
		rd_skip(&r, 40);	/* RFC 8200 fixed header; extension headers are rare here */
	rd_skip(&r, 4);		/* UDP ports (RFC 768) */
	uint16_t ulen = rd_u16(&r);
	rd_skip(&r, 2);
	if (r.bad || ulen < 8)
		return false;
	d->data = r.p;
	d->len = ulen - 8u < r.left ? ulen - 8u : r.left;
	d->src = rec.k.src_ip;
	d->src_port = rec.k.src_port;
	d->ts.sec = h->ts.tv_sec;
	d->ts.usec = h->ts.tv_usec;
	return true;
}

static int file_open(struct collector *c)
{
	char err[PCAP_ERRBUF_SIZE];
	FILE *f;

	if ((c->pm = savefile_open(c->cfg->pcap_savefile))) {
		c->dlt = savefile_linktype(c->pm);
		return 0;
	}
	/* libpcap reads through stdio: a large buffer saves a read() every 4 KiB */
	f = fopen(c->cfg->pcap_savefile, "rb");
	if (f)
		setvbuf(f, NULL, _IOFBF, FILE_BUF);
	c->pc = f ? pcap_fopen_offline(f, err) : NULL;
	if (!c->pc) {
		log_err(WHO, "[%s] key 'pcap_savefile': cannot read '%s': %s. Exiting.",
		    cfg_where(&c->cfg->origin, "pcap_savefile"), c->cfg->pcap_savefile,
		    f ? err : strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	c->dlt = pcap_datalink(c->pc);
	return 0;
}

/* The next frame of the capture: 1, 0 at its end, -1 after logging an error. */
static int file_next(struct collector *c, struct pcap_pkthdr **h, const uint8_t **pkt)
{
	const char *why = NULL;
	int rc;

	if (c->pm) {
		*h = &c->pm_hdr;
		rc = savefile_next(c->pm, &c->pm_hdr, pkt, &why);
	} else {
		rc = pcap_next_ex(c->pc, h, pkt);
		if (rc == PCAP_ERROR)
			why = pcap_geterr(c->pc);
		rc = rc == 1 ? 1 : rc == PCAP_ERROR ? -1 : 0;
	}
	if (rc < 0)
		log_err(WHO, "reading '%s': %s", c->cfg->pcap_savefile, why);
	return rc;
}

/* Where the capture is: bytes read and its size, for the progress line. */
static void file_position(const struct collector *c, uint64_t *done, uint64_t *total)
{
	struct stat st;
	off_t at;

	if (c->pm) {
		savefile_progress(c->pm, done, total);
		return;
	}
	at = ftello(pcap_file(c->pc));
	*done = at > 0 ? (uint64_t)at : 0;
	*total = fstat(fileno(pcap_file(c->pc)), &st) == 0 ? (uint64_t)st.st_size : 0;
}

static int file_loop(struct collector *c, collector_stop_fn should_stop, void *arg)
{
	uint32_t passes = c->cfg->pcap_savefile_replay ? c->cfg->pcap_savefile_replay : 1;
	struct progress prog;
	uint64_t frames = 0, done, total;

	file_position(c, &done, &total);
	progress_init(&prog, c->cfg->pcap_savefile, total * passes, STDERR_FILENO, false,
	    clock_mono_secs());

	for (uint32_t pass = 0; pass < passes && !should_stop(arg); pass++) {
		struct pcap_pkthdr *h;
		const uint8_t *pkt;
		int rc;

		if (pass)
			pipeline_flush(c->pl);	/* the plugins get the last pass before the pause */
		if (pass && c->pm)
			savefile_rewind(c->pm);
		else if (pass && (pcap_close(c->pc), c->pc = NULL, file_open(c) < 0))
			return -1;
		if (c->cfg->pcap_savefile_delay)
			sleep(c->cfg->pcap_savefile_delay);
		for (uint64_t n = 0; (rc = file_next(c, &h, &pkt)) == 1; n++) {
			struct dgram d;
			frames++;
			if (frame_udp(c, h, pkt, &d))
				handle(c, &d);
			else
				cnt_inc(&c->not_udp);
			if ((n & 4095) == 4095) {
				tick(c, h->ts.tv_sec);
				health_refresh(c, false);
				if (prog.on) {
					file_position(c, &done, &total);
					progress_tick(&prog, done + pass * total, frames, clock_mono_secs());
				}
				if (should_stop(arg))
					break;
			}
		}
		if (rc < 0) {
			progress_done(&prog);
			return -1;
		}
	}
	progress_done(&prog);
	pipeline_flush(c->pl);
	health_refresh(c, true);	/* the whole file, for pcap_savefile_wait */
	return 0;
}

/* ---- receive workers (collector_workers) ------------------------------ */

/* A further receiver's should_stop: act on the first's signal requests, then its stop flag. */
static bool worker_poll(void *arg)
{
	struct collector *w = arg, *c = w->first;
	unsigned v;

	if ((v = atomic_load(&c->req_stats)) != w->seen_stats) {
		w->seen_stats = v;
		if (w->proto->log_stats)
			w->proto->log_stats(w->state);	/* its own exporters */
	}
	if ((v = atomic_load(&c->req_reload)) != w->seen_reload) {
		w->seen_reload = v;
		collector_reload(w);
		pipeline_reload_core_maps(w->pl);
	}
	if ((v = atomic_load(&c->req_reopen)) != w->seen_reopen) {
		w->seen_reopen = v;
		collector_reopen(w);
	}
	return atomic_load(&c->stop);
}

static void *worker_main(void *arg)
{
	struct collector *w = arg;

	if (socket_loop(w, worker_poll, w) < 0)
		log_err_errno(WHO, "a receive thread stopped");
	pipeline_flush(w->pl);
	return NULL;
}

/*
 * The further receivers of collector_workers: each its own socket on the
 * same address and port, decoder state, allow list, core pipeline and
 * plugin feeds.  Every socket is bound before the first datagram is read,
 * so the kernel's spreading of exporters over them no longer changes.
 */
static int workers_open(struct collector *c, int n)
{
	c->workers = xcalloc((size_t)n, sizeof(*c->workers));
	c->workers[0] = c;
	c->nworkers = 1;
	for (int i = 1; i < n; i++) {
		struct collector *w = xcalloc(1, sizeof(*w));
		c->workers[c->nworkers++] = w;
		w->cfg = c->cfg;
		w->proto = c->proto;
		w->first = c;
		w->fd = -1;
		w->sink.emit = emit;
		w->sink.arg = w;
		health_attach(w);
		if (c->cfg->collector_allow_file && !(w->allow = allow_open(c->cfg, c->cfg->collector_allow_file)))
			return -1;
		w->state = c->proto->state_new_worker ? c->proto->state_new_worker(c->cfg, c->state) :
		    c->proto->state_new(c->cfg);
		if (!w->state)
			return -1;
		if (c->proto->bounds)
			c->proto->bounds(c->cfg, i, w->state);
		w->pl = &w->own_pl;
		if (pipeline_init_sibling(w->pl, c->pl, DLT_EN10MB, 65535) < 0)
			return -1;
		if (bind_socket(w) < 0)
			return -1;
		w->bufs = xmalloc((size_t)RX_BATCH * RX_BUF);
	}
	log_info(WHO, "%d receive threads on SO_REUSEPORT sockets", n);
	log_info(WHO, c->proto->ready_fmt, c->cfg->collector_ip ? c->cfg->collector_ip : "::",
	    c->cfg->collector_port ? c->cfg->collector_port : c->proto->default_port);
	return 0;
}

/* The first receiver's loop with workers: start their threads, receive, stop and join them. */
static int workers_loop(struct collector *c, collector_stop_fn should_stop, void *arg)
{
	sigset_t all, old;
	int rc;

	/* signals are for the first receiver's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 1; i < c->nworkers; i++) {
		struct collector *w = c->workers[i];
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			fatal(WHO, "cannot start receive thread %d", i);
		w->running = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	rc = socket_loop(c, should_stop, arg);
	atomic_store(&c->stop, true);
	for (int i = 1; i < c->nworkers; i++) {
		if (c->workers[i]->running)
			pthread_join(c->workers[i]->thread, NULL);
		c->workers[i]->running = false;
	}
	return rc;
}

/* ---- public ----------------------------------------------------------- */

int collector_check(const struct core_cfg *cfg, const struct collector_proto *proto)
{
	const char *ip = cfg->collector_ip ? cfg->collector_ip : "::";
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICHOST, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *ai = NULL;
	char err[PCAP_ERRBUF_SIZE];

	if (cfg->collector_workers > COLLECTOR_MAX_WORKERS) {
		log_err(WHO, "[%s] key 'collector_workers': %u receive threads, at most %d. Exiting.",
		    cfg_where(&cfg->origin, "collector_workers"), (unsigned)cfg->collector_workers,
		    COLLECTOR_MAX_WORKERS);
		return -1;
	}
	if (proto->check && proto->check(cfg) < 0)
		return -1;
	if (cfg->collector_allow_file) {
		struct allow_list *a = allow_open(cfg, cfg->collector_allow_file);
		if (!a)
			return -1;
		allow_free(a);
	}
	if (cfg->pcap_savefile) {
		pcap_t *pc = pcap_open_offline(cfg->pcap_savefile, err);
		if (!pc) {
			log_err(WHO, "[%s] key 'pcap_savefile': cannot read '%s': %s. Exiting.",
			    cfg_where(&cfg->origin, "pcap_savefile"), cfg->pcap_savefile, err);
			return -1;
		}
		pcap_close(pc);
		return 0;
	}
	if (getaddrinfo(ip, "0", &hints, &ai) != 0 || !ai) {
		log_err(WHO, "[%s] key '%s_ip': invalid address '%s'. Exiting.",
		    cfg_where(&cfg->origin, "nfacctd_ip"), proto->daemon, ip);
		return -1;
	}
	freeaddrinfo(ai);
	return 0;
}

void collector_bounds(struct core_cfg *cfg, const struct collector_proto *proto)
{
	/* a capture file is read by one thread (collector_open) */
	int n = cfg->pcap_savefile || cfg->collector_workers <= 1 ? 1 : (int)cfg->collector_workers;

	for (int i = 0; proto->bounds && i < n; i++)
		proto->bounds(cfg, i, NULL);
}

struct collector *collector_open(struct core_cfg *cfg, const struct collector_proto *proto,
    struct pipeline *pl)
{
	struct collector *c = xcalloc(1, sizeof(*c));

	c->cfg = cfg;
	c->proto = proto;
	c->pl = pl;
	c->fd = -1;
	c->sink.emit = emit;
	c->sink.arg = c;
	if (cfg->collector_workers > 1 && cfg->pcap_savefile)
		log_info(WHO, "[%s] key 'collector_workers': a capture file is read by one thread.",
		    cfg_where(&cfg->origin, "collector_workers"));
	if (cfg->collector_allow_file && !(c->allow = allow_open(cfg, cfg->collector_allow_file)))
		goto fail;
	if (!(c->state = proto->state_new(cfg)))
		goto fail;
	if (proto->bounds)
		proto->bounds(cfg, 0, c->state);
	health_attach(c);
	if (cfg->pcap_savefile) {
		if (file_open(c) < 0)
			goto fail;
	} else {
		if (bind_socket(c) < 0)
			goto fail;
		c->bufs = xmalloc((size_t)RX_BATCH * RX_BUF);
		if (cfg->collector_workers > 1 && workers_open(c, (int)cfg->collector_workers) < 0)
			goto fail;
	}
	return c;
fail:
	collector_close(c);
	return NULL;
}

int collector_loop(struct collector *c, collector_stop_fn should_stop, void *arg)
{
	for (int i = 0; i < c->pl->nfeeds; i++)
		c->pl->feeds[i].wait_when_full = c->pc || c->pm;	/* files never lose a record */
	if (c->nworkers > 1)
		return workers_loop(c, should_stop, arg);
	return c->pc || c->pm ? file_loop(c, should_stop, arg) : socket_loop(c, should_stop, arg);
}

void collector_log_stats(struct collector *c)
{
	uint64_t dg = 0, denied = 0, not_udp = 0;

	/* receive workers: totals here; each logs its own exporters (worker_poll) */
	for (int i = 0; i < (c->nworkers ? c->nworkers : 1); i++) {
		struct collector *w = c->nworkers ? c->workers[i] : c;
		dg += atomic_load_explicit(&w->datagrams, memory_order_relaxed);
		denied += atomic_load_explicit(&w->denied, memory_order_relaxed);
		not_udp += atomic_load_explicit(&w->not_udp, memory_order_relaxed);
	}
	log_notice(WHO, "stats [%s] time=%ld datagrams=%llu denied=%llu not_udp=%llu",
	    c->cfg->pcap_savefile ? c->cfg->pcap_savefile : c->proto->daemon, (long)time(NULL),
	    (unsigned long long)dg, (unsigned long long)denied, (unsigned long long)not_udp);
	for (int i = 0; c->nworkers > 1 && i < c->nworkers; i++)
		log_notice(WHO, "stats [%s] receive thread %d: datagrams=%llu", c->proto->daemon, i,
		    (unsigned long long)atomic_load_explicit(&c->workers[i]->datagrams,
		    memory_order_relaxed));
	atomic_fetch_add(&c->req_stats, 1);
	for (int i = 0; i < c->pl->nfeeds; i++)
		plugin_log_stats(c->pl->feeds[i].plugin, WHO);
	if (c->proto->log_stats)
		c->proto->log_stats(c->state);
	gauges_log(c->cfg->gauges, WHO);
}

void collector_reopen(struct collector *c)
{
	atomic_fetch_add(&c->req_reopen, 1);	/* receive workers reopen theirs */
	if (c->proto->reopen)
		c->proto->reopen(c->state);
}

void collector_reload(struct collector *c)
{
	const char *path = c->cfg->collector_allow_file;
	struct allow_list *a;

	atomic_fetch_add(&c->req_reload, 1);	/* receive workers reload theirs (worker_poll) */
	if (c->proto->reload && c->state)
		c->proto->reload(c->state);
	if (!path)
		return;
	log_info(WHO, "[%s] (re)loading map.", path);
	if (!(a = allow_open(c->cfg, path))) {
		log_warnx(WHO, "[%s] reload failed; keeping the previous allow list.", path);
		return;
	}
	allow_free(c->allow);
	c->allow = a;
	log_info(WHO, "[%s] map successfully (re)loaded.", path);
}

void collector_close(struct collector *c)
{
	if (!c)
		return;
	/* further receivers first: the first's state may hold what they share */
	for (int i = c->nworkers - 1; i >= 1; i--) {
		struct collector *w = c->workers[i];
		if (w->running) {
			atomic_store(&c->stop, true);
			pthread_join(w->thread, NULL);
		}
		if (w->pl)
			pipeline_fini(w->pl);	/* its feeds: partial batches handed over, rings closed */
		collector_close(w);
	}
	free(c->workers);
	if (c->state && c->proto->state_free)
		c->proto->state_free(c->state);
	if (c->fd >= 0)
		close(c->fd);
	if (c->pc)
		pcap_close(c->pc);
	savefile_close(c->pm);
	allow_free(c->allow);
	free(c->bufs);
	free(c);
}
