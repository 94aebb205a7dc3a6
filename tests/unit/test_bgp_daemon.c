/* SPDX-License-Identifier: BSD-3-Clause */
/* test_bgp_daemon.c: the BGP thread on loopback with the real RIB: event hooks, RIB contents, stats. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "maps/bgp_rib.h"
#include "pipeline/bgp_daemon.h"
#include "tap.h"

#define M16 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

/* OPEN: AS 65001, hold 90, id 10.0.0.1, MP IPv4 unicast, AS4 65001. */
static const uint8_t OPEN[] = {
	M16, 0x00, 0x2b, 0x01,
	0x04, 0xfd, 0xe9, 0x00, 0x5a, 0x0a, 0x00, 0x00, 0x01, 0x0e,
	0x02, 0x0c, 0x01, 0x04, 0x00, 0x01, 0x00, 0x01, 0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9,
};
static const uint8_t KEEPALIVE[] = { M16, 0x00, 0x13, 0x04 };
/* UPDATE: ORIGIN IGP, AS_PATH 65001 65002, NEXT_HOP 10.0.0.1, COMMUNITIES 65001:7; 192.0.2.0/24, 10.1.0.0/16 */
static const uint8_t UPDATE[] = {
	M16, 0x00, 0x3d, 0x02,
	0x00, 0x00, 0x00, 0x1f,
	0x40, 0x01, 0x01, 0x00,
	0x40, 0x02, 0x0a, 0x02, 0x02, 0x00, 0x00, 0xfd, 0xe9, 0x00, 0x00, 0xfd, 0xea,
	0x40, 0x03, 0x04, 0x0a, 0x00, 0x00, 0x01,
	0xc0, 0x08, 0x04, 0xfd, 0xe9, 0x00, 0x07,
	0x18, 0xc0, 0x00, 0x02, 0x10, 0x0a, 0x01,
};

struct counts {
	atomic_int up, down, nlri, nlri_attr, ticks;
	char as_path[64], comms[64];
};

static void ev_up(void *arg, int peer, const struct bgp_peer_id *id, const struct bgp_open *o)
{
	struct counts *c = arg;
	(void)peer;
	if (id->as == 65001 && id->bgp_id == 0x0a000001 && o->has_as4)
		atomic_fetch_add(&c->up, 1);
}

static void ev_down(void *arg, int peer, const struct bgp_peer_id *id, uint8_t code, uint8_t sub,
    const char *why)
{
	(void)peer, (void)id, (void)code, (void)sub, (void)why;
	atomic_fetch_add(&((struct counts *)arg)->down, 1);
}

static void ev_nlri(void *arg, int peer, const struct bgp_peer_id *id, const struct bgp_nlri *n,
    const struct bgp_attrs *a, const struct bgp_attr *attr)
{
	struct counts *c = arg;
	(void)peer, (void)id, (void)n, (void)a;
	if (attr) {	/* text first: the counters publish it to the main thread */
		snprintf(c->as_path, sizeof(c->as_path), "%s", attr->as_path);
		snprintf(c->comms, sizeof(c->comms), "%s", attr->comms);
		atomic_fetch_add(&c->nlri_attr, 1);
	}
	atomic_fetch_add(&c->nlri, 1);
}

static void ev_tick(void *arg, struct bgp_rib *rib, time_t now)
{
	(void)rib, (void)now;
	atomic_fetch_add(&((struct counts *)arg)->ticks, 1);
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Wait up to 5 s for *v >= want. */
static bool wait_int(atomic_int *v, int want)
{
	for (int i = 0; i < 500 && atomic_load(v) < want; i++)
		msleep(10);
	return atomic_load(v) >= want;
}

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd);
	return ntohs(sa.sin_port);
}

/* Read until n bytes came or 5 s passed. */
static size_t read_some(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (got < n && poll(&p, 1, 5000) > 0) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

int main(void)
{
	struct core_cfg cfg;
	struct counts c;
	struct bgp_rib_cfg rc = { .max_peers = 4 };
	struct bgp_rib *rib = bgp_rib_new(&rc);
	char ip[] = "127.0.0.1";
	char lines[16][BGP_STATS_LINE];
	uint8_t buf[512];

	memset(&cfg, 0, sizeof(cfg));
	memset(&c, 0, sizeof(c));
	cfg.bgp.daemon = true;
	cfg.bgp.ip = ip;
	cfg.bgp.port = (uint32_t)free_port();
	cfg.bgp.as = 65000;
	cfg.bgp.max_peers = 4;
	struct bgp_event_sink sink = { .arg = &c, .peer_up = ev_up, .peer_down = ev_down, .nlri = ev_nlri,
		.tick = ev_tick };
	struct bgp_daemon *d = bgp_daemon_open(&cfg, rib, &sink);
	ok(d != NULL, "listener open on 127.0.0.1:%u", cfg.bgp.port);
	if (!d)
		return tap_done();
	is_int(bgp_daemon_start(d), 0, "thread started");

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)cfg.bgp.port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ok(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connected");
	ok(write(fd, OPEN, sizeof(OPEN)) == (ssize_t)sizeof(OPEN), "OPEN sent");
	size_t got = read_some(fd, buf, 19);
	ok(got == 19 && buf[18] == 1, "an OPEN came back");
	ok(write(fd, KEEPALIVE, sizeof(KEEPALIVE)) == 19, "KEEPALIVE sent");
	ok(wait_int(&c.up, 1), "peer_up with the peer's AS, id and OPEN");
	ok(write(fd, UPDATE, sizeof(UPDATE)) == (ssize_t)sizeof(UPDATE), "UPDATE sent");
	ok(wait_int(&c.nlri, 2), "nlri hook for both prefixes");
	is_int(atomic_load(&c.nlri_attr), 2, "each with the RIB's attribute set");
	is_str(c.as_path, "65001 65002", "as_path text from the RIB");
	is_str(c.comms, "65001:7", "communities text from the RIB");

	struct bgp_addr peer_addr = { BGP_AFI_IPV4, { 127, 0, 0, 1 } };
	uint8_t probe[4] = { 10, 1, 200, 3 };
	struct bgp_route r;
	bgp_rib_rdlock(rib);
	int peer = bgp_rib_peer_find(rib, &peer_addr);
	bool found = peer >= 0 && bgp_rib_lookup(rib, peer, BGP_AFI_IPV4, BGP_SAFI_UNICAST, NULL, probe, NULL, &r);
	is_int(peer >= 0 ? (long long)bgp_rib_peer_routes(rib, peer) : -1, 2, "two routes in the peer's RIB");
	bgp_rib_unlock(rib);
	ok(found && r.plen == 16, "10.1.200.3 -> 10.1.0.0/16");

	size_t n = bgp_daemon_stats(d, lines, 16);
	ok(n == 3 && strstr(lines[0], "1 established") && strstr(lines[1], "prefixes 2") &&
	    strstr(lines[2], "2 routes"), "stats: sessions, the peer, the RIB");

	close(fd);
	ok(wait_int(&c.down, 1), "peer_down when the peer closes");
	bgp_rib_rdlock(rib);
	struct bgp_rib_stats rs;
	bgp_rib_stats(rib, &rs);
	bgp_rib_unlock(rib);
	ok(rs.peers == 0 && rs.routes == 0, "its routes left the RIB");
	ok(wait_int(&c.ticks, 1), "tick called");
	bgp_daemon_stop(d);
	bgp_rib_free(rib);
	return tap_done();
}
