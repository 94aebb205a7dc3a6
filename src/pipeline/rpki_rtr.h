/* SPDX-License-Identifier: BSD-3-Clause */
/* rpki_rtr.h: an RPKI-to-Router client (RFC 6810 version 0, RFC 8210 version 1) feeding a roa_db. */
#ifndef PIPELINE_RPKI_RTR_H
#define PIPELINE_RPKI_RTR_H

#include <stddef.h>
#include <stdint.h>

#include "maps/roa.h"

struct rpki_rtr;

/*
 * A client of the cache at `cache` ("address:port", "[IPv6 address]:port")
 * speaking `version` (0 or 1), writing what the cache sends into db.
 * NULL with the reason in why when cache or version is wrong.
 */
struct rpki_rtr *rpki_rtr_new(const char *cache, uint32_t version, size_t pipe_size, uint32_t ipprec,
    struct roa_db *db, char *why, size_t wlen);

/*
 * Start its thread: connect (again every 5 s while the cache is away),
 * Reset Query, then Serial Query on each Serial Notify and every refresh
 * interval; each End of Data applies the response to db under its write
 * lock (a Cache Response to a Reset Query replaces every ROA).  0, or -1
 * logged.
 */
int rpki_rtr_start(struct rpki_rtr *c);

/* Stop the thread and free; NULL is a no-op.  db is the caller's. */
void rpki_rtr_free(struct rpki_rtr *c);

/*
 * The protocol over bytes, for the thread and the unit tests: a session
 * (no socket) that takes what the cache sent and says what to send back.
 */
struct rtr_sess;
struct rtr_sess *rtr_sess_new(uint32_t version, struct roa_db *db);
void rtr_sess_free(struct rtr_sess *s);
/* The first query of a connection (Reset Query, or Serial Query when a serial is known): its length. */
size_t rtr_sess_hello(struct rtr_sess *s, uint8_t *out, size_t cap);
/*
 * Take n bytes from the cache; complete PDUs are acted on, a partial one
 * kept for the next call.  Queries to send go into out (cap bytes), their
 * length in *out_len.  0, or -1 when the connection must end (an Error
 * Report, a malformed PDU, a version mismatch), logged.
 */
int rtr_sess_input(struct rtr_sess *s, const uint8_t *buf, size_t n, uint8_t *out, size_t cap,
    size_t *out_len);
/* Seconds until the next Serial Query is due (the cache's refresh interval). */
uint32_t rtr_sess_refresh(const struct rtr_sess *s);
/* Forget the partial PDU of a connection that ended. */
void rtr_sess_reset_input(struct rtr_sess *s);

#endif
