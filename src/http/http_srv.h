/* SPDX-License-Identifier: BSD-3-Clause */
/* http_srv.h: the embedded HTTP server (libmicrohttpd), driven by its owner's thread. */
#ifndef HTTP_HTTP_SRV_H
#define HTTP_HTTP_SRV_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_ARGS 32

/* A request as the handlers see it: no HTTP parsing left to do. */
struct http_req {
	const char *method;		/* "GET", "POST", ... */
	const char *path;		/* without the query string */
	struct { const char *key, *value; } args[HTTP_MAX_ARGS];
	int nargs;			/* query arguments, the first HTTP_MAX_ARGS */
	bool too_many_args;
	bool token_set;			/* http_token is configured */
	bool authed;			/* the request presented it (or none is configured) */
};

/* A response; body is heap memory the server frees. */
struct http_resp {
	unsigned status;
	const char *ctype;
	char *body;
	size_t len;
	bool static_body;		/* body is not to be freed (the embedded page) */
};

/* Answer one request; called on the thread that calls http_srv_run(). */
typedef void (*http_handler_fn)(void *arg, const struct http_req *req, struct http_resp *resp);

struct http_srv;

/*
 * Check an http_listen value as http_srv_new() takes it: it parses and
 * its host resolves.  Opens nothing.  0, or -1 with the reason in why.
 */
int http_listen_check(const char *listen, char *why, size_t whylen);

/*
 * Bind `listen` (http_listen syntax, see http_util.h) and start a server
 * with no thread of its own: connections are served by http_srv_run().
 * `token` (NULL = none) is compared in constant time with the request's
 * "Authorization: Bearer" header.  Connections are bounded (64 in all, 16
 * per address), idle ones time out after 15 s, request headers are
 * bounded by a 32 KB per-connection pool and bodies are refused.
 * Returns NULL after logging with `who`.
 */
struct http_srv *http_srv_new(const char *who, const char *listen, const char *token,
    http_handler_fn fn, void *arg);

/* Serve what is ready on the listening and connected sockets, without blocking. */
void http_srv_run(struct http_srv *s);

/* Milliseconds until http_srv_run() must run again for timeouts (-1 = none). */
int http_srv_timeout_ms(struct http_srv *s);

/* The bound port (useful with port 0 in tests). */
unsigned http_srv_port(const struct http_srv *s);

/* Requests answered, and those refused for a missing or wrong token. */
void http_srv_counts(const struct http_srv *s, unsigned long long *requests,
    unsigned long long *unauthorized);

/* Stop and free; NULL is a no-op. */
void http_srv_free(struct http_srv *s);

/* Set resp to a JSON error body {"error": msg} with `status`. */
void http_resp_error(struct http_resp *resp, unsigned status, const char *msg);

#endif
