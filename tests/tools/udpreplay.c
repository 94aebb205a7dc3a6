/* SPDX-License-Identifier: BSD-3-Clause */
/* udpreplay.c: send the UDP payloads of a capture to a collector on loopback at a set rate. */
/*
 * udpreplay [-d addr] [-p port] [-r rate] [-t seconds | -n count] [-a sources] [-b] file.pcap
 *
 *   -d addr     destination, loopback only (127.0.0.0/8 or ::1); default 127.0.0.1
 *   -p port     destination port; default: each datagram's own destination port
 *   -r rate     datagrams per second (0, the default: as fast as the sender goes)
 *   -t seconds  replay the capture in a loop for this long
 *   -n count    send this many datagrams (looping when needed); default: the capture once
 *   -a sources  send from 127.0.0.2 .. 127.0.0.<1+sources>: the k-th distinct sender of the
 *               capture always uses 127.0.0.<2 + k % sources>, so each exporter keeps one
 *               address and port (and its templates reach the same collector socket)
 *   -b          sndbuf: raise SO_SNDBUF (with many datagrams in flight)
 *
 * The capture is read into memory first.  Pacing: every datagram has a due
 * time (start + i / rate); the sender sends what is due, then sleeps until
 * the next one, so it spends no CPU spinning beside the daemon it measures.
 * At the end it prints one line of key=value pairs:
 *   sent=N errors=E bytes=B seconds=S rate=R target=T passes=P
 * rate is what was achieved, N counts datagrams the kernel accepted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tool_util.h"

#define MAX_SOURCES 250

struct dgram {
	size_t off, len;	/* payload in the data buffer */
	uint16_t dport;
	int src;		/* index of its sender among the capture's distinct senders */
};

struct capture {
	uint8_t *data;
	size_t used, cap;
	struct dgram *v;
	size_t n, vcap;
	uint8_t (*senders)[17];	/* af byte + address */
	size_t nsenders;
};

static void *xrealloc(void *p, size_t n)
{
	return tool_realloc("udpreplay", p, n);
}

static int sender_index(struct capture *c, int af, const uint8_t *a)
{
	uint8_t key[17] = { (uint8_t)af };

	memcpy(key + 1, a, af == 4 ? 4 : 16);
	for (size_t i = 0; i < c->nsenders; i++)
		if (memcmp(c->senders[i], key, sizeof(key)) == 0)
			return (int)i;
	c->senders = xrealloc(c->senders, (c->nsenders + 1) * sizeof(*c->senders));
	memcpy(c->senders[c->nsenders], key, sizeof(key));
	return (int)c->nsenders++;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The IP packet inside a frame of link type dlt; NULL if none. */
static const uint8_t *ip_of(int dlt, const uint8_t *p, size_t caplen, size_t *left)
{
	size_t off;
	uint16_t et;

	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			return NULL;
		off = 12;
		et = be16(p + off);
		while ((et == 0x8100 || et == 0x88a8) && caplen >= off + 6) {
			off += 4;
			et = be16(p + off);
		}
		off += 2;
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return NULL;
		off = 16;
		break;
	case DLT_NULL:
		off = 4;
		break;
	case DLT_RAW:
	case 101:	/* LINKTYPE_RAW */
	case 228:	/* IPv4 */
	case 229:	/* IPv6 */
		off = 0;
		break;
	default:
		return NULL;
	}
	if (off >= caplen)
		return NULL;
	*left = caplen - off;
	return p + off;
}

/* Append the UDP payload of one frame; false if the frame is not UDP over IPv4/IPv6. */
static bool add_frame(struct capture *c, int dlt, const uint8_t *p, size_t caplen)
{
	size_t left, hl;
	const uint8_t *ip = ip_of(dlt, p, caplen, &left), *src;
	int af;

	if (!ip || left < 20)
		return false;
	if (ip[0] >> 4 == 4) {
		hl = (size_t)(ip[0] & 15) * 4;
		if (ip[9] != 17 || hl < 20 || left < hl + 8 || (be16(ip + 6) & 0x1fff))
			return false;
		af = 4;
		src = ip + 12;
	} else if (ip[0] >> 4 == 6) {
		hl = 40;
		if (left < 48 || ip[6] != 17)
			return false;
		af = 6;
		src = ip + 8;
	} else {
		return false;
	}
	const uint8_t *udp = ip + hl;
	size_t ulen = be16(udp + 4);
	if (ulen < 8)
		return false;
	size_t len = ulen - 8 < left - hl - 8 ? ulen - 8 : left - hl - 8;
	if (c->used + len > c->cap) {
		c->cap = (c->cap + len) * 2;
		c->data = xrealloc(c->data, c->cap);
	}
	if (c->n == c->vcap) {
		c->vcap = c->vcap ? c->vcap * 2 : 4096;
		c->v = xrealloc(c->v, c->vcap * sizeof(*c->v));
	}
	memcpy(c->data + c->used, udp + 8, len);
	c->v[c->n] = (struct dgram){ c->used, len, be16(udp + 2), sender_index(c, af, src) };
	c->used += len;
	c->n++;
	return true;
}

static int load(const char *path, struct capture *c)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *pkt;
	int rc;

	if (!pc) {
		fprintf(stderr, "udpreplay: %s: %s\n", path, err);
		return -1;
	}
	while ((rc = pcap_next_ex(pc, &h, &pkt)) == 1)
		add_frame(c, pcap_datalink(pc), pkt, h->caplen);
	if (rc == PCAP_ERROR)
		fprintf(stderr, "udpreplay: %s: %s\n", path, pcap_geterr(pc));
	pcap_close(pc);
	if (!c->n) {
		fprintf(stderr, "udpreplay: %s: no UDP datagrams\n", path);
		return -1;
	}
	return 0;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void usage(void)
{
	fprintf(stderr, "usage: udpreplay [-d addr] [-p port] [-r rate] [-t seconds | -n count] "
	    "[-a sources] [-b] file.pcap\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dst = "127.0.0.1";
	long port = 0, nsrc = 0;
	double rate = 0, secs = 0;
	unsigned long long count = 0;
	bool bigbuf = false;
	int opt;

	while ((opt = getopt(argc, argv, "d:p:r:t:n:a:bh")) != -1) {
		switch (opt) {
		case 'd': dst = optarg; break;
		case 'p': port = strtol(optarg, NULL, 10); break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 't': secs = strtod(optarg, NULL); break;
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'a': nsrc = strtol(optarg, NULL, 10); break;
		case 'b': bigbuf = true; break;
		default: usage();
		}
	}
	if (optind != argc - 1 || port < 0 || port > 65535 || rate < 0 || secs < 0 || nsrc < 0 ||
	    nsrc > MAX_SOURCES)
		usage();

	struct sockaddr_storage to = { 0 };
	socklen_t tolen;
	struct sockaddr_in *to4 = (struct sockaddr_in *)&to;
	struct sockaddr_in6 *to6 = (struct sockaddr_in6 *)&to;
	if (inet_pton(AF_INET, dst, &to4->sin_addr) == 1) {
		to4->sin_family = AF_INET;
		tolen = sizeof(*to4);
	} else if (inet_pton(AF_INET6, dst, &to6->sin6_addr) == 1) {
		to6->sin6_family = AF_INET6;
		tolen = sizeof(*to6);
	} else {
		usage();
	}
	if (!is_loopback(&to)) {
		fprintf(stderr, "udpreplay: %s is not a loopback address\n", dst);
		return 2;
	}
	if (nsrc && to.ss_family != AF_INET) {
		fprintf(stderr, "udpreplay: -a needs an IPv4 destination\n");
		return 2;
	}

	struct capture c = { 0 };
	if (load(argv[optind], &c) < 0)
		return 1;

	int nsock = nsrc ? (int)nsrc : 1;
	int *fds = calloc((size_t)nsock, sizeof(*fds));
	for (int i = 0; i < nsock; i++) {
		int one = 8 << 20;
		fds[i] = socket(to.ss_family, SOCK_DGRAM, 0);
		if (fds[i] < 0) {
			perror("udpreplay: socket");
			return 1;
		}
		if (bigbuf)
			setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
		if (nsrc) {
			struct sockaddr_in me = { .sin_family = AF_INET };
			me.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)i);
			if (bind(fds[i], (struct sockaddr *)&me, sizeof(me)) < 0) {
				perror("udpreplay: bind");
				return 1;
			}
		}
	}

	unsigned long long total = count ? count : (secs > 0 ? ~0ULL : c.n);
	unsigned long long sent = 0, errors = 0, bytes = 0, i = 0, passes = 0;
	double t0 = now_s(), end = secs > 0 ? t0 + secs : 0, t = t0;

	while (i < total) {
		t = now_s();
		if (end && t >= end)
			break;
		/* send everything due by now (all of it when unpaced), at most one pass's worth */
		unsigned long long due = rate > 0 ? (unsigned long long)((t - t0) * rate) + 1 : i + 1024;
		if (due > total)
			due = total;
		for (; i < due; i++) {
			const struct dgram *d = &c.v[i % c.n];
			int fd = fds[nsrc ? d->src % nsock : 0];
			uint16_t p = port ? (uint16_t)port : d->dport;
			if (i % c.n == 0)
				passes++;
			if (to.ss_family == AF_INET)
				to4->sin_port = htons(p);
			else
				to6->sin6_port = htons(p);
			if (sendto(fd, c.data + d->off, d->len, 0, (struct sockaddr *)&to, tolen) < 0) {
				errors++;
				if (errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED) {
					perror("udpreplay: sendto");
					return 1;
				}
			} else {
				sent++;
				bytes += d->len;
			}
		}
		if (rate > 0 && i < total) {
			double next = t0 + (double)i / rate;
			double wait = next - now_s();
			if (end && next > end)
				wait = end - now_s();
			if (wait > 0) {
				struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
	}
	t = now_s() - t0;
	printf("sent=%llu errors=%llu bytes=%llu seconds=%.3f rate=%.0f target=%.0f passes=%llu "
	    "senders=%zu\n", sent, errors, bytes, t, t > 0 ? (double)sent / t : 0.0, rate, passes,
	    c.nsenders);
	for (int k = 0; k < nsock; k++)
		close(fds[k]);
	free(fds);
	free(c.data);
	free(c.v);
	free(c.senders);
	return 0;
}
