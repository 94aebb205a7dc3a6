/* SPDX-License-Identifier: BSD-3-Clause */
/* pktblast.c: send a capture's frames in a loop out of one interface with AF_PACKET, fast or paced. */
/*
 * pktblast -i IFACE [-r pps] [-n count | -d seconds] [-t threads] [-m ring|mmsg] [-b batch]
 *          [-T] [--any-iface] file.pcap
 *
 *   -i IFACE    the interface to send on (required: there is no default)
 *   -r pps      packets per second, all threads together (0, the default: as fast as possible)
 *   -n count    send this many packets in all (looping over the capture); default: the capture once
 *   -d seconds  send for this long instead (with -n: whichever ends first)
 *   -t threads  sending threads, each with its own socket (default 1)
 *   -m mode     ring: a PACKET_TX_RING (TPACKET_V2) per socket (default); mmsg: sendmmsg()
 *   -b batch    frames handed to the kernel per system call (default 256)
 *   -T          send frames as captured (truncated to the snaplen); by default each frame is
 *               padded with zeros to its original length (at most 2000 bytes)
 *   --any-iface send on an interface that is not a veth (by default pktblast refuses to: it is
 *               meant to run under `ip netns exec NS`, into a veth pair that exists only in NS;
 *               it never sends on lo)
 *
 * Both modes set PACKET_QDISC_BYPASS.  The capture must be Ethernet (DLT_EN10MB); it is read into
 * memory first.  Thread k starts at frame k * frames / threads, so every thread sends the whole
 * mix.  Pacing: each thread has a due count (start + elapsed * rate / threads); it hands the
 * kernel what is due (at most a batch at a time) and sleeps until the next frame is due, so a
 * paced run spends no CPU spinning.
 *
 * At the end it prints one JSON line:
 *   {"packets":N,"bytes":B,"seconds":S,"pps":R,"target_pps":T,"threads":K,"mode":"ring",
 *    "errors":E,"frames":F}
 * packets counts frames the kernel accepted (a ring frame counts when handed over without an
 * error); what the interface really carried is in its own counters
 * (/sys/class/net/IFACE/statistics/tx_packets).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tool_util.h"

#define MAX_FRAME 2000		/* fits a TPACKET_V2 ring frame of 2048 bytes */
#define RING_FRAME 2048
#define RING_FRAMES 4096	/* 8 MiB per socket */
#define RING_BLOCK (RING_FRAME * 32)
#define MAX_BATCH 1024
#define MAX_THREADS 64

struct frame {
	const uint8_t *p;
	uint32_t cap;		/* bytes at p */
	uint32_t len;		/* bytes on the wire: cap, then zeros */
};

static const uint8_t zeros[MAX_FRAME];

struct capture {
	uint8_t *data;
	size_t used, cap;
	struct frame *v;
	size_t n, vcap;
};

struct opts {
	const char *ifname;
	int ifindex;
	double rate;		/* per thread */
	uint64_t count;		/* per thread: 0 = no limit */
	double secs;
	bool ring;
	int batch;
	double t0;
};

struct worker {
	pthread_t th;
	const struct opts *o;
	const struct capture *c;
	size_t start;		/* first frame */
	uint64_t count;
	uint64_t sent, bytes, errors;
	int fd;
	uint8_t *ring;
	size_t ring_len;
	uint16_t *dirty;	/* per ring frame: bytes that may be non-zero */
	int err;		/* errno of a fatal failure */
	const char *what;
};

static void *xrealloc(void *p, size_t n)
{
	return tool_realloc("pktblast", p, n);
}

/*
 * Read every frame of an Ethernet capture into c: as captured (truncated), or to be padded with
 * zeros to its original length, at most maxlen bytes (4 more for an 802.1Q-tagged frame) and
 * MAX_FRAME.  0, or -1 after a message.
 */
static int load(const char *path, bool truncated, size_t maxlen, struct capture *c)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *pkt;
	int rc;

	if (!pc) {
		fprintf(stderr, "pktblast: %s: %s\n", path, err);
		return -1;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		fprintf(stderr, "pktblast: %s: link type %d, not Ethernet\n", path, pcap_datalink(pc));
		pcap_close(pc);
		return -1;
	}
	size_t *offs = NULL;
	while ((rc = pcap_next_ex(pc, &h, &pkt)) == 1) {
		size_t most = maxlen + (h->caplen >= 14 && pkt[12] == 0x81 && pkt[13] == 0) * 4;
		most = most < MAX_FRAME ? most : MAX_FRAME;
		size_t cap = h->caplen < most ? h->caplen : most;
		size_t len = truncated ? cap : (h->len < most ? h->len : most);
		if (cap < ETHER_HDR_LEN)
			continue;
		if (c->used + len > c->cap) {
			c->cap = (c->cap + len) * 2;
			c->data = xrealloc(c->data, c->cap);
		}
		if (c->n == c->vcap) {
			c->vcap = c->vcap ? c->vcap * 2 : 4096;
			c->v = xrealloc(c->v, c->vcap * sizeof(*c->v));
			offs = xrealloc(offs, c->vcap * sizeof(*offs));
		}
		memcpy(c->data + c->used, pkt, cap);
		offs[c->n] = c->used;
		c->v[c->n].cap = (uint32_t)cap;
		c->v[c->n].len = (uint32_t)len;
		c->used += cap;
		c->n++;
	}
	if (rc == PCAP_ERROR)
		fprintf(stderr, "pktblast: %s: %s\n", path, pcap_geterr(pc));
	pcap_close(pc);
	for (size_t i = 0; i < c->n; i++)	/* data no longer moves */
		c->v[i].p = c->data + offs[i];
	free(offs);
	if (!c->n) {
		fprintf(stderr, "pktblast: %s: no Ethernet frames\n", path);
		return -1;
	}
	return 0;
}

/* The MTU of an interface, or 1500 when it cannot tell. */
static size_t mtu_of(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	size_t mtu = 1500;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd >= 0 && ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		mtu = (size_t)ifr.ifr_mtu;
	if (fd >= 0)
		close(fd);
	return mtu;
}

/* The driver of an interface ("veth", "e1000e", ...) into drv; false when it cannot tell. */
static bool driver_of(const char *ifname, char *drv, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (char *)&info;
	ok = ioctl(fd, SIOCETHTOOL, &ifr) == 0;
	close(fd);
	if (ok)
		snprintf(drv, len, "%s", info.driver);
	return ok;
}

/* One AF_PACKET socket bound to the interface for sending only, with its TX ring in ring mode. */
static int open_socket(struct worker *w)
{
	const struct opts *o = w->o;
	int one = 1, v2 = TPACKET_V2;

	w->fd = socket(AF_PACKET, SOCK_RAW, 0);	/* protocol 0: receives nothing */
	if (w->fd < 0) {
		w->what = "socket(AF_PACKET)";
		return -1;
	}
	if (setsockopt(w->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0) {
		w->what = "PACKET_QDISC_BYPASS";
		return -1;
	}
	if (o->ring) {
		struct tpacket_req req = {
			.tp_block_size = RING_BLOCK, .tp_frame_size = RING_FRAME,
			.tp_block_nr = RING_FRAMES * RING_FRAME / RING_BLOCK, .tp_frame_nr = RING_FRAMES,
		};
		if (setsockopt(w->fd, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)) < 0 ||
		    setsockopt(w->fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one)) < 0 ||
		    setsockopt(w->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0) {
			w->what = "PACKET_TX_RING";
			return -1;
		}
		w->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
		w->dirty = calloc(RING_FRAMES, sizeof(*w->dirty));
		w->ring = mmap(NULL, w->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
		if (w->ring == MAP_FAILED) {
			w->ring = NULL;
			w->what = "mmap";
			return -1;
		}
	}
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = o->ifindex };
	if (bind(w->fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		w->what = "bind";
		return -1;
	}
	return 0;
}

/* Hand the kernel up to n frames through the TX ring; frames it took (0 when the ring is full). */
static int send_ring(struct worker *w, size_t *at, size_t *slot, int n)
{
	const struct capture *c = w->c;
	int queued = 0;

	for (; queued < n; queued++) {
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)(w->ring + *slot * RING_FRAME);
		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
			break;
		const struct frame *f = &c->v[*at];
		uint8_t *d = (uint8_t *)h + TPACKET_ALIGN(sizeof(*h));
		/* the padding is zeros already, but for what a longer frame left here */
		memcpy(d, f->p, f->cap);
		if (w->dirty[*slot] > f->cap)
			memset(d + f->cap, 0, w->dirty[*slot] - f->cap);
		w->dirty[*slot] = (uint16_t)f->cap;
		h->tp_len = f->len;
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		w->bytes += f->len;
		*slot = (*slot + 1) % RING_FRAMES;
		*at = (*at + 1) % c->n;
	}
	if (!queued) {	/* full: wait until the kernel releases frames */
		struct pollfd pfd = { .fd = w->fd, .events = POLLOUT };
		(void)poll(&pfd, 1, 10);
	}
	if (send(w->fd, NULL, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != ENOBUFS) {
		w->errors++;
		if (errno != EINTR && errno != ENETDOWN && errno != ENXIO) {
			w->err = errno;
			w->what = "send (TX ring)";
			return -1;
		}
	}
	return queued;
}

/* Send up to n frames with one sendmmsg(); frames the kernel took. */
static int send_mmsg(struct worker *w, size_t *at, int n)
{
	struct mmsghdr m[MAX_BATCH];
	struct iovec iov[MAX_BATCH][2];
	const struct capture *c = w->c;
	size_t from = *at;

	for (int i = 0; i < n; i++) {
		const struct frame *f = &c->v[(from + (size_t)i) % c->n];
		iov[i][0] = (struct iovec){ (void *)f->p, f->cap };
		iov[i][1] = (struct iovec){ (void *)zeros, f->len - f->cap };
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = iov[i], .msg_iovlen = 2 } };
	}
	int k = sendmmsg(w->fd, m, (unsigned)n, 0);
	if (k < 0) {
		w->errors++;
		if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR || errno == ENETDOWN) {
			*at = (from + 1) % c->n;	/* skip it: the next call sends the next */
			return 0;
		}
		w->err = errno;
		w->what = "sendmmsg";
		return -1;
	}
	for (int i = 0; i < k; i++)
		w->bytes += c->v[(from + (size_t)i) % c->n].len;
	*at = (from + (size_t)k) % c->n;
	return k;
}

/* Wait until the TX ring holds no frame the kernel has not sent (at most a second). */
static void drain_ring(struct worker *w)
{
	double until = now_s() + 1;

	while (now_s() < until) {
		bool busy = false;
		for (size_t i = 0; i < RING_FRAMES && !busy; i++) {
			struct tpacket2_hdr *h = (struct tpacket2_hdr *)(w->ring + i * RING_FRAME);
			uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
			busy = st == TP_STATUS_SEND_REQUEST || st == TP_STATUS_SENDING;
		}
		if (!busy)
			return;
		(void)send(w->fd, NULL, 0, MSG_DONTWAIT);
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;
	size_t at = w->start, slot = 0;
	double end = o->secs > 0 ? o->t0 + o->secs : 0;

	while (!w->count || w->sent < w->count) {
		double t = now_s();
		if (end && t >= end)
			break;
		uint64_t want = (uint64_t)o->batch;
		if (o->rate > 0) {
			uint64_t due = (uint64_t)((t - o->t0) * o->rate) + 1;
			if (due <= w->sent) {	/* nothing due: sleep until the next frame is */
				double wait = o->t0 + (double)w->sent / o->rate - t;
				if (wait > 0) {
					struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };
					nanosleep(&ts, NULL);
				}
				continue;
			}
			want = due - w->sent < want ? due - w->sent : want;
		}
		if (w->count && w->count - w->sent < want)
			want = w->count - w->sent;
		int k = o->ring ? send_ring(w, &at, &slot, (int)want) : send_mmsg(w, &at, (int)want);
		if (k < 0)
			break;
		w->sent += (uint64_t)k;
	}
	if (o->ring && !w->err)
		drain_ring(w);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: pktblast -i IFACE [-r pps] [-n count | -d seconds] [-t threads] "
	    "[-m ring|mmsg] [-b batch] [-T] [--any-iface] file.pcap\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { .ring = true, .batch = 256 };
	double rate = 0;
	unsigned long long count = 0;
	long threads = 1;
	bool truncated = false, any_iface = false;
	int opt;

	for (int i = 1; i < argc; i++)	/* the one long option, before getopt sees it */
		if (strcmp(argv[i], "--any-iface") == 0) {
			any_iface = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
			argc--;
			i--;
		}
	while ((opt = getopt(argc, argv, "i:r:n:d:t:m:b:Th")) != -1) {
		switch (opt) {
		case 'i': o.ifname = optarg; break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'd': o.secs = strtod(optarg, NULL); break;
		case 't': threads = strtol(optarg, NULL, 10); break;
		case 'm':
			if (strcmp(optarg, "ring") && strcmp(optarg, "mmsg"))
				usage();
			o.ring = strcmp(optarg, "ring") == 0;
			break;
		case 'b': o.batch = atoi(optarg); break;
		case 'T': truncated = true; break;
		default: usage();
		}
	}
	if (optind != argc - 1 || !o.ifname || rate < 0 || o.secs < 0 || threads < 1 ||
	    threads > MAX_THREADS || o.batch < 1 || o.batch > MAX_BATCH)
		usage();
	if (strcmp(o.ifname, "lo") == 0) {
		fprintf(stderr, "pktblast: refusing to send on lo\n");
		return 2;
	}
	char drv[32] = "";
	if (!any_iface && (!driver_of(o.ifname, drv, sizeof(drv)) || strcmp(drv, "veth") != 0)) {
		fprintf(stderr, "pktblast: refusing to send on %s: not a veth (driver '%s'; pass "
		    "--any-iface to override)\n", o.ifname, drv);
		return 2;
	}
	o.ifindex = (int)if_nametoindex(o.ifname);
	if (!o.ifindex) {
		fprintf(stderr, "pktblast: no interface %s\n", o.ifname);
		return 2;
	}

	struct capture c = { 0 };
	if (load(argv[optind], truncated, mtu_of(o.ifname) + ETHER_HDR_LEN, &c) < 0)
		return 1;
	uint64_t total = count ? count : (o.secs > 0 ? 0 : c.n);
	o.rate = rate / (double)threads;

	struct worker *w = calloc((size_t)threads, sizeof(*w));
	for (long k = 0; k < threads; k++) {
		w[k] = (struct worker){ .o = &o, .c = &c, .start = (size_t)k * c.n / (size_t)threads, .fd = -1 };
		w[k].count = total ? total / (uint64_t)threads + ((uint64_t)k < total % (uint64_t)threads) : 0;
		if (open_socket(&w[k]) < 0) {
			fprintf(stderr, "pktblast: %s on %s: %s\n", w[k].what, o.ifname, strerror(errno));
			return 1;
		}
	}
	o.t0 = now_s();
	for (long k = 0; k < threads; k++)
		if (pthread_create(&w[k].th, NULL, worker_main, &w[k]) != 0) {
			fprintf(stderr, "pktblast: pthread_create failed\n");
			return 1;
		}
	uint64_t sent = 0, bytes = 0, errors = 0;
	int rc = 0;
	for (long k = 0; k < threads; k++) {
		pthread_join(w[k].th, NULL);
		sent += w[k].sent;
		bytes += w[k].bytes;
		errors += w[k].errors;
		if (w[k].err) {
			fprintf(stderr, "pktblast: %s on %s: %s\n", w[k].what, o.ifname, strerror(w[k].err));
			rc = 1;
		}
	}
	double secs = now_s() - o.t0;
	printf("{\"packets\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"pps\":%.0f,\"target_pps\":%.0f,"
	    "\"threads\":%ld,\"mode\":\"%s\",\"errors\":%llu,\"frames\":%zu}\n",
	    (unsigned long long)sent, (unsigned long long)bytes, secs, secs > 0 ? (double)sent / secs : 0.0,
	    rate, threads, o.ring ? "ring" : "mmsg", (unsigned long long)errors, c.n);
	for (long k = 0; k < threads; k++) {
		if (w[k].ring)
			munmap(w[k].ring, w[k].ring_len);
		free(w[k].dirty);
		close(w[k].fd);
	}
	free(w);
	free(c.data);
	free(c.v);
	return rc;
}
