/* SPDX-License-Identifier: BSD-3-Clause */
/* http_util.h: small pure helpers of the HTTP server: token check, listen address. */
#ifndef HTTP_HTTP_UTIL_H
#define HTTP_HTTP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_DEFAULT_HOST "127.0.0.1"

/*
 * Compare the presented token with the configured one in time that depends
 * only on the configured token's length, not on where they differ.  A NULL
 * presented token never matches.
 */
bool http_token_equal(const char *presented, const char *expected);

/*
 * Split http_listen into host and port: "8080" (loopback), "host:port",
 * "[v6]:port".  host gets at most hostlen-1 bytes.  0, or -1 when invalid.
 */
int http_listen_parse(const char *text, char *host, size_t hostlen, uint16_t *port);

#endif
