/* SPDX-License-Identifier: BSD-3-Clause */
/* nfprobe_net.c: "host:port" parsing and UDP export sockets for nfprobe, sfprobe and tee. */
#include "nfprobe_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int probe_addr_parse(const char *text, uint16_t default_port, struct probe_addr *out,
    char *why, size_t whylen)
{
	char host[256];
	const char *port = NULL, *colon;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	char sport[8];
	int rc;

	if (!text || !*text) {
		snprintf(why, whylen, "empty address");
		return -1;
	}
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end || (size_t)(end - text - 1) >= sizeof(host)) {
			snprintf(why, whylen, "'%s': missing ']'", text);
			return -1;
		}
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = '\0';
		if (end[1] == ':')
			port = end + 2;
		else if (end[1]) {
			snprintf(why, whylen, "'%s': expected ':port' after ']'", text);
			return -1;
		}
	} else {
		colon = strchr(text, ':');
		if (colon && strchr(colon + 1, ':')) {
			snprintf(why, whylen, "'%s': write an IPv6 address as [address]:port", text);
			return -1;
		}
		size_t n = colon ? (size_t)(colon - text) : strlen(text);
		if (n >= sizeof(host) || n == 0) {
			snprintf(why, whylen, "'%s': invalid host", text);
			return -1;
		}
		memcpy(host, text, n);
		host[n] = '\0';
		if (colon)
			port = colon + 1;
	}
	unsigned long pn = default_port;
	if (port) {
		char *e;
		errno = 0;
		pn = strtoul(port, &e, 10);
		if (!*port || *e || errno || pn == 0 || pn > 65535) {
			snprintf(why, whylen, "'%s': invalid port", text);
			return -1;
		}
	}
	snprintf(sport, sizeof(sport), "%lu", pn);
	if ((rc = getaddrinfo(host, sport, &hints, &ai)) != 0 || !ai) {
		snprintf(why, whylen, "'%s': %s", text, gai_strerror(rc));
		return -1;
	}
	memset(out, 0, sizeof(*out));
	memcpy(&out->ss, ai->ai_addr, ai->ai_addrlen);
	out->len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

const char *probe_addr_str(const struct probe_addr *a, char *buf, size_t len)
{
	char h[INET6_ADDRSTRLEN] = "?";

	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
		snprintf(buf, len, "[%s]:%u", h, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;
		inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
		snprintf(buf, len, "%s:%u", h, ntohs(s4->sin_port));
	}
	return buf;
}

int probe_source_parse(const char *text, const struct probe_addr *to, struct probe_addr *out,
    char *why, size_t whylen)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;

	memset(out, 0, sizeof(*out));
	if (text && inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;	/* a bare IPv6 address: no port to tell apart */
		out->len = sizeof(*s6);
	} else if (probe_addr_parse(text, 0, out, why, whylen) < 0) {
		return -1;
	}
	if (out->ss.ss_family != to->ss.ss_family) {
		snprintf(why, whylen, "source address '%s' is not of the receiver's family", text);
		return -1;
	}
	return 0;
}

int probe_sock_open(const struct probe_addr *to, const struct probe_sock_opts *o, char *why,
    size_t whylen)
{
	int fam = to->ss.ss_family;
	int fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	if (o->src && bind(fd, (const struct sockaddr *)&o->src->ss, o->src->len) < 0) {
		char a[80];
		snprintf(why, whylen, "cannot bind to '%s': %s", probe_addr_str(o->src, a, sizeof(a)),
		    strerror(errno));
		goto fail_quiet;
	}
	if (o->hoplimit) {
		int v = (int)o->hoplimit;
		if (fam == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof(v));
		else
			setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof(v));
	}
	if (o->ipprec) {
		int v = (int)(o->ipprec << 5);
		if (fam == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v));
		else
			setsockopt(fd, IPPROTO_IP, IP_TOS, &v, sizeof(v));
	}
	if (o->sndbuf) {
		int v = o->sndbuf > (size_t)INT32_MAX ? INT32_MAX : (int)o->sndbuf;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	}
	if (connect(fd, (const struct sockaddr *)&to->ss, to->len) < 0) {
		snprintf(why, whylen, "connect: %s", strerror(errno));
		goto fail_quiet;
	}
	return fd;
fail_quiet:
	close(fd);
	return -1;
}
