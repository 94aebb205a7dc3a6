/* SPDX-License-Identifier: BSD-3-Clause */
/* roa.h: RPKI Route Origin Authorizations (VRPs): a table, RFC 6811 validation, pmacct's JSON ROA file. */
#ifndef MAPS_ROA_H
#define MAPS_ROA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

/*
 * The validation states a record's src_roa / dst_roa carries, by pmacct's
 * letters ("u" unknown, "v" valid, "i" invalid, "V" invalid but a covering
 * route is valid, "U" invalid but a covering route is unknown).  Unknown
 * is 0 in the key: a record the enrichment did not touch prints "u".
 */
enum roa_state {
	ROA_UNKNOWN = 0,
	ROA_VALID = 'v',
	ROA_INVALID = 'i',
	ROA_INVALID_COV_VALID = 'V',
	ROA_INVALID_COV_UNKNOWN = 'U',
};

/* One ROA (a VRP): prefix/len (host bits clear), maxLength, origin AS. */
struct roa {
	uint8_t af;		/* 4 or 6 */
	uint8_t len;
	uint8_t maxlen;
	uint32_t asn;
	uint8_t addr[16];	/* IPv4 in addr[0..3] */
};

/*
 * A table of ROAs: many per prefix (distinct AS or maxLength).  Not
 * thread-safe by itself: struct roa_db shares one between a writer and
 * readers.
 */
struct roa_table;

/* A new empty table (aborts on out-of-memory); free with roa_table_free (NULL is a no-op). */
struct roa_table *roa_table_new(void);
void roa_table_free(struct roa_table *t);

/* Remove every ROA. */
void roa_table_clear(struct roa_table *t);

/* Number of ROAs held. */
size_t roa_table_count(const struct roa_table *t);

/*
 * Add r (host bits past r->len are cleared).  An equal ROA already there
 * is not added twice.  0, or -1 when r is malformed (family, len > the
 * family's bits, maxlen < len or > the family's bits).
 */
int roa_add(struct roa_table *t, const struct roa *r);

/* Remove the ROA equal to r; true when there was one. */
bool roa_del(struct roa_table *t, const struct roa *r);

/*
 * RFC 6811 2: the state of route prefix addr/len (af 4 or 6, host bits
 * ignored) originated by origin_as (0 = NONE: an AS_SET last or no origin,
 * which no ROA matches).  ROA_UNKNOWN when no ROA covers the prefix,
 * ROA_VALID when a covering ROA has origin_as and maxLength >= len,
 * ROA_INVALID otherwise.
 */
enum roa_state roa_validate(const struct roa_table *t, uint8_t af, const uint8_t *addr, uint8_t len,
    uint32_t origin_as);

/*
 * Load pmacct's ROA file (rpki_roas_file: JSON, RIPE validator's export
 * and rpki-client's): an object whose "roas" array holds objects with
 * "prefix" ("a.b.c.d/len" or IPv6), "asn" ("AS65001", "65001", or a number)
 * and "maxLength" (an integer); other members are ignored.  A ROA missing
 * or with a bad member is skipped with a warning naming the file, line and
 * ROA number (as 1.7.7: "[file] no 'asn' element in ROA #3.").  Returns a
 * new table, or NULL with the reason in why (file unreadable, not JSON, no
 * "roas" array) naming the file and line.
 */
struct roa_table *roa_load_json(const char *path, const char *who, char *why, size_t wlen);

/* The same over a buffer (tests, fuzzing); name is the file name for messages. */
struct roa_table *roa_parse_json(const char *text, size_t n, const char *name, const char *who,
    char *why, size_t wlen);

/*
 * The ROAs one process shares: a table behind a read-write lock, written
 * by the loaders (SIGUSR2 reload of rpki_roas_file, the RTR client) and
 * read by the enrichment of records (many readers).
 */
struct roa_db;

/* A new db with an empty table; free with roa_db_free (NULL is a no-op). */
struct roa_db *roa_db_new(void);
void roa_db_free(struct roa_db *db);

/* Replace the db's table by t (the db owns it then; the old one is freed). */
void roa_db_swap(struct roa_db *db, struct roa_table *t);

/* Take the lock to read (validations) or to write (roa_db_table() changes); release it. */
void roa_db_rdlock(struct roa_db *db);
void roa_db_wrlock(struct roa_db *db);
void roa_db_unlock(struct roa_db *db);

/* The db's table (valid while locked). */
struct roa_table *roa_db_table(struct roa_db *db);

#endif
