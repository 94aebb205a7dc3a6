/* SPDX-License-Identifier: BSD-3-Clause */
/* geoip.h: GeoIP v2 lookups (geoipv2_file, a MaxMind DB): country, postal code and coordinates of an address. */
#ifndef MAPS_GEOIP_H
#define MAPS_GEOIP_H

#include <stdbool.h>
#include <stddef.h>

#include "model/flow_rec.h"

/*
 * An open MaxMind DB (GeoLite2-City / GeoIP2-City layout: country.iso_code,
 * postal.code, location.latitude and location.longitude).  Read-only once
 * open: lookups from one thread at a time per handle (each receive thread
 * opens its own).
 */
struct geoip;

/* What a configuration's plugins select: which fields geoip_fill() writes. */
struct geoip_need {
	bool src_country, dst_country;
	bool src_pocode, dst_pocode;
	bool src_coords, dst_coords;
};

/* True when n asks for any field. */
static inline bool geoip_need_any(const struct geoip_need *n)
{
	return n->src_country || n->dst_country || n->src_pocode || n->dst_pocode ||
	    n->src_coords || n->dst_coords;
}

/* What one address resolves to: "" and 0 for what the database does not say. */
struct geoip_result {
	char country[FR_COUNTRY_MAX];	/* ISO 3166 code, cut to 3 characters as pmacct */
	char pocode[FR_POCODE_MAX];	/* postal code, cut to 11 characters as pmacct */
	double lat, lon;
	bool found;			/* the address is in one of the database's networks */
};

/*
 * Open the MaxMind DB at path: a private copy of the file, in memory, so
 * that a file rewritten in place (cp over it) changes nothing until the
 * next geoip_reload().  NULL with the reason
 * (libmaxminddb's, with the file name) in why when it cannot be read or
 * is not a valid database.
 */
struct geoip *geoip_open(const char *path, char *why, size_t wlen);

/* Close g (NULL is a no-op). */
void geoip_free(struct geoip *g);

/*
 * Reopen g's file (SIGUSR2): 0 with the new database in place, or -1 with
 * the reason in why and the database g had before still in use.
 */
int geoip_reload(struct geoip *g, char *why, size_t wlen);

/* The path g was opened with (owned by g). */
const char *geoip_path(const struct geoip *g);

/*
 * Look ip up (IPv4 in an IPv6 database through its IPv4 subtree, as
 * libmaxminddb does).  res is always written: zeroed, then what the
 * database knows (an unset or non-IP address finds nothing).
 */
void geoip_lookup(const struct geoip *g, const struct fr_ip *ip, struct geoip_result *res);

/*
 * Write every field of k that n selects from the lookups of k's src_ip and
 * dst_ip (empty when g is NULL or the address is unknown).  Fields n does
 * not select are left as they are.  Answers are kept in g's cache of
 * recent addresses (16384, emptied by geoip_reload()), hence g not const.
 */
void geoip_fill(struct geoip *g, const struct geoip_need *n, struct flow_key *k);

#endif
