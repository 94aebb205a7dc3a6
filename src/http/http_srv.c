/* SPDX-License-Identifier: BSD-3-Clause */
/* http_srv.c: the embedded HTTP server (libmicrohttpd), driven by its owner's thread. */
#include "http_srv.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http_util.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define HTTP_MAX_CONNS		64
#define HTTP_MAX_CONNS_PER_IP	16
#define HTTP_CONN_TIMEOUT_S	15
#define HTTP_CONN_MEMORY	(32 * 1024)

struct http_srv {
	struct MHD_Daemon *d;
	int lfd;
	unsigned port;
	char *token;
	http_handler_fn fn;
	void *arg;
	char who[96];
	unsigned long long requests, unauthorized;
};

void http_resp_error(struct http_resp *resp, unsigned status, const char *msg)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "{\"error\": \"%s\"}\n", msg);

	resp->status = status;
	resp->ctype = "application/json";
	resp->body = xstrdup(buf);
	resp->len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	resp->static_body = false;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct http_req *r = cls;

	(void)kind;
	if (r->nargs == HTTP_MAX_ARGS) {
		r->too_many_args = true;
		return MHD_NO;
	}
	r->args[r->nargs].key = key;
	r->args[r->nargs].value = value ? value : "";
	r->nargs++;
	return MHD_YES;
}

/* The token of an "Authorization: Bearer <token>" header, or NULL. */
static const char *bearer(struct MHD_Connection *conn)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	return h + 7;
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, struct http_resp *resp)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(resp->len, resp->body,
	    resp->static_body ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	if (!r) {
		if (!resp->static_body)
			free(resp->body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", resp->ctype ? resp->ctype : "text/plain");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (resp->status == 401)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"pmacct-ng\"");
	rc = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload, size_t *upload_size,
    void **con_cls)
{
	struct http_srv *s = cls;
	struct http_req req;
	struct http_resp resp = { 0 };
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");

	(void)version;
	(void)upload;
	if (*con_cls && *upload_size)
		return MHD_NO;		/* a body arrived after all: drop the connection */
	*con_cls = s;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &req);
	req.token_set = s->token != NULL;
	req.authed = !s->token || http_token_equal(bearer(conn), s->token);
	s->requests++;
	if (cl && strcmp(cl, "0") != 0)
		http_resp_error(&resp, 413, "request bodies are not accepted");
	else if (req.too_many_args)
		http_resp_error(&resp, 400, "too many query arguments");
	else
		s->fn(s->arg, &req, &resp);
	if (resp.status == 401)
		s->unauthorized++;
	return send_resp(conn, &resp);
}

/*
 * The addresses of http_listen `listen` (free with freeaddrinfo), its host
 * in host[hostlen]; -1 with the reason in why.
 */
static int listen_resolve(const char *listen, struct addrinfo **res, char *host, size_t hostlen,
    char *why, size_t whylen)
{
	struct addrinfo hints;
	char ports[8];
	uint16_t port = 0;
	int rc;

	if (http_listen_parse(listen, host, hostlen, &port) < 0) {
		snprintf(why, whylen, "invalid value '%s' (port, host:port or [v6]:port, port 0-65535)",
		    listen ? listen : "");
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(ports, sizeof(ports), "%u", port);
	if ((rc = getaddrinfo(host, ports, &hints, res)) != 0) {
		snprintf(why, whylen, "cannot resolve '%s': %s", host, gai_strerror(rc));
		return -1;
	}
	return 0;
}

int http_listen_check(const char *listen, char *why, size_t whylen)
{
	struct addrinfo *res = NULL;
	char host[256];

	if (listen_resolve(listen, &res, host, sizeof(host), why, whylen) < 0)
		return -1;
	freeaddrinfo(res);
	return 0;
}

/* A listening TCP socket on http_listen `listen`, or -1 after logging. */
static int bind_listen(const char *who, const char *addr, char *host, size_t hostlen)
{
	struct addrinfo *res = NULL;
	char why[320];
	int fd = -1, one = 1;

	if (listen_resolve(addr, &res, host, hostlen, why, sizeof(why)) < 0) {
		log_err(who, "http_listen: %s", why);
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		log_err_errno(who, "http_listen: cannot listen on %s", addr);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static unsigned bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

struct http_srv *http_srv_new(const char *who, const char *listen, const char *token,
    http_handler_fn fn, void *arg)
{
	char host[256];
	struct http_srv *s;

	s = xcalloc(1, sizeof(*s));
	snprintf(s->who, sizeof(s->who), "%s", who);
	s->fn = fn;
	s->arg = arg;
	s->token = token && *token ? xstrdup(token) : NULL;
	if ((s->lfd = bind_listen(who, listen, host, sizeof(host))) < 0)
		goto fail;
	s->port = bound_port(s->lfd);
	/* no MHD_USE_INTERNAL_POLLING_THREAD: the owner's thread runs it (http_srv_run) */
	s->d = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->lfd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNS_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_END);
	if (!s->d) {
		log_err(who, "http_listen: cannot start the HTTP server on %s", listen);
		goto fail;
	}
	log_info(who, "HTTP API and dashboard on http://%s%s%s:%u/%s", strchr(host, ':') ? "[" : "",
	    host, strchr(host, ':') ? "]" : "", s->port, s->token ? " (token required)" : "");
	return s;
fail:
	http_srv_free(s);
	return NULL;
}

void http_srv_run(struct http_srv *s)
{
	if (s && s->d)
		MHD_run(s->d);
}

int http_srv_timeout_ms(struct http_srv *s)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (!s || !s->d || MHD_get_timeout(s->d, &t) != MHD_YES)
		return -1;
	return t > 1000 ? 1000 : (int)t;
}

unsigned http_srv_port(const struct http_srv *s)
{
	return s->port;
}

void http_srv_counts(const struct http_srv *s, unsigned long long *requests,
    unsigned long long *unauthorized)
{
	*requests = s ? s->requests : 0;
	*unauthorized = s ? s->unauthorized : 0;
}

void http_srv_free(struct http_srv *s)
{
	if (!s)
		return;
	if (s->d)
		MHD_stop_daemon(s->d);	/* closes the listening socket it was given */
	else if (s->lfd >= 0)
		close(s->lfd);
	free(s->token);
	free(s);
}
