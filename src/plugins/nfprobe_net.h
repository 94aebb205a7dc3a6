/* SPDX-License-Identifier: BSD-3-Clause */
/* nfprobe_net.h: the sending side shared by nfprobe, sfprobe and tee: "host:port" parsing and UDP export sockets. */
#ifndef PLUGINS_NFPROBE_NET_H
#define PLUGINS_NFPROBE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A resolved destination or source address. */
struct probe_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/*
 * Parse "host:port", "[v6addr]:port", "host" or "[v6addr]" (port
 * default_port) into *out; a host name is resolved once.  On failure
 * returns -1 with a reason in why.
 */
int probe_addr_parse(const char *text, uint16_t default_port, struct probe_addr *out,
    char *why, size_t whylen);

/*
 * The source address `text` (nfprobe_source_ip, sfprobe_source_ip,
 * tee_source_ip: an IPv4 or IPv6 address, bare or in brackets, or a host
 * name) for sending to `to`: parsed, and
 * of the receiver's family.  -1 with a reason in why.
 */
int probe_source_parse(const char *text, const struct probe_addr *to, struct probe_addr *out,
    char *why, size_t whylen);

/* Options of an export socket; zero values keep the system's. */
struct probe_sock_opts {
	const struct probe_addr *src;	/* bind to this address (probe_source_parse), NULL = any */
	unsigned hoplimit;		/* IP_TTL / IPV6_UNICAST_HOPS */
	unsigned ipprec;		/* IP precedence 0-7: IP_TOS / IPV6_TCLASS = prec << 5 */
	size_t sndbuf;			/* SO_SNDBUF */
};

/*
 * A UDP socket connected to `to`, with the options applied.  Returns the
 * descriptor, or -1 with a reason in why.
 */
int probe_sock_open(const struct probe_addr *to, const struct probe_sock_opts *o, char *why,
    size_t whylen);

/* "a.b.c.d:port" / "[v6]:port" of an address, for log lines. */
const char *probe_addr_str(const struct probe_addr *a, char *buf, size_t len);

#endif
