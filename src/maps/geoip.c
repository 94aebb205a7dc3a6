/* SPDX-License-Identifier: BSD-3-Clause */
/* geoip.c: GeoIP v2 lookups on libmaxminddb. */
#include "geoip.h"

#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/hash.h"
#include "lib/xalloc.h"

/*
 * Recent answers, direct-mapped by a hash of the address: traffic repeats
 * its addresses, and a database lookup (the tree, then four paths in the
 * record's map) costs some thousand instructions where a hit costs tens.
 * An entry holds the whole answer, so any mix of wanted fields hits.
 */
#define GEOIP_CACHE_BITS 14

struct geoip_slot {
	struct fr_ip ip;		/* af 0: empty */
	struct geoip_result res;
};

struct geoip {
	MMDB_s db;
	char *path;
	uint64_t seed;
	struct geoip_slot cache[1u << GEOIP_CACHE_BITS];
};

/*
 * A private copy of the file at path in an anonymous memory file: the
 * database is mapped from it, so a file rewritten in place later (cp over
 * it) changes nothing under the lookups (a truncated shared mapping would
 * fault).  The descriptor, or -1 with errno set.
 */
static int snapshot(const char *path)
{
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int fd = memfd_create("geoipv2_file", MFD_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		close(in);
		errno = e;
		return -1;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		for (ssize_t off = 0; n > 0 && off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				n = -1;
				break;
			}
			off += w;
		}
		if (n < 0) {
			int e = errno;
			close(in);
			close(fd);
			errno = e;
			return -1;
		}
	}
	close(in);
	return fd;
}

/* Open path into db (from a snapshot of it): 0, or -1 with the reason in why. */
static int db_open(MMDB_s *db, const char *path, char *why, size_t wlen)
{
	char proc[64];
	int fd = snapshot(path), rc;

	if (fd < 0) {
		snprintf(why, wlen, "'%s': %s", path, strerror(errno));
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	rc = MMDB_open(proc, MMDB_MODE_MMAP, db);	/* the mapping outlives the descriptor */
	close(fd);
	if (rc == MMDB_FILE_OPEN_ERROR)	/* no /proc (a chroot): the file itself, shared */
		rc = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (rc != MMDB_SUCCESS) {
		snprintf(why, wlen, "'%s': %s", path, MMDB_strerror(rc));
		return -1;
	}
	return 0;
}

struct geoip *geoip_open(const char *path, char *why, size_t wlen)
{
	struct geoip *g = xcalloc(1, sizeof(*g));

	if (db_open(&g->db, path, why, wlen) < 0) {
		free(g);
		return NULL;
	}
	g->path = xstrdup(path);
	g->seed = hash_seed();
	return g;
}

void geoip_free(struct geoip *g)
{
	if (!g)
		return;
	MMDB_close(&g->db);
	free(g->path);
	free(g);
}

int geoip_reload(struct geoip *g, char *why, size_t wlen)
{
	MMDB_s fresh;

	if (db_open(&fresh, g->path, why, wlen) < 0)
		return -1;
	MMDB_close(&g->db);
	g->db = fresh;
	memset(g->cache, 0, sizeof(g->cache));	/* answers of the old database */
	return 0;
}

const char *geoip_path(const struct geoip *g)
{
	return g->path;
}

/* The UTF-8 string at path under entry into out (cut to len - 1 bytes); untouched when absent. */
static void get_str(MMDB_entry_s *entry, char *out, size_t len, const char *const *path)
{
	MMDB_entry_data_s v;

	if (MMDB_aget_value(entry, &v, path) != MMDB_SUCCESS || !v.has_data ||
	    v.type != MMDB_DATA_TYPE_UTF8_STRING)
		return;
	size_t n = v.data_size < len - 1 ? v.data_size : len - 1;
	memcpy(out, v.utf8_string, n);
	out[n] = '\0';
}

/* The number at path under entry (a double, or a float some databases use); 0 when absent. */
static double get_num(MMDB_entry_s *entry, const char *const *path)
{
	MMDB_entry_data_s v;

	if (MMDB_aget_value(entry, &v, path) != MMDB_SUCCESS || !v.has_data)
		return 0;
	if (v.type == MMDB_DATA_TYPE_DOUBLE)
		return v.double_value;
	if (v.type == MMDB_DATA_TYPE_FLOAT)
		return v.float_value;
	return 0;
}

/* Which parts of a result a caller wants. */
enum { GW_COUNTRY = 1, GW_POCODE = 2, GW_COORDS = 4 };

static void lookup(const struct geoip *g, const struct fr_ip *ip, unsigned want,
    struct geoip_result *res)
{
	static const char *const p_country[] = { "country", "iso_code", NULL };
	static const char *const p_pocode[] = { "postal", "code", NULL };
	static const char *const p_lat[] = { "location", "latitude", NULL };
	static const char *const p_lon[] = { "location", "longitude", NULL };
	struct sockaddr_storage ss;
	int mmdb = 0;

	memset(res, 0, sizeof(*res));
	memset(&ss, 0, sizeof(ss));
	if (ip->af == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip->a, 4);
	} else if (ip->af == 6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip->a, 16);
	} else {
		return;
	}
	MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&g->db, (const struct sockaddr *)&ss, &mmdb);
	if (mmdb != MMDB_SUCCESS || !r.found_entry)
		return;
	res->found = true;
	if (want & GW_COUNTRY)
		get_str(&r.entry, res->country, sizeof(res->country), p_country);
	if (want & GW_POCODE)
		get_str(&r.entry, res->pocode, sizeof(res->pocode), p_pocode);
	if (want & GW_COORDS) {
		res->lat = get_num(&r.entry, p_lat);
		res->lon = get_num(&r.entry, p_lon);
	}
}

void geoip_lookup(const struct geoip *g, const struct fr_ip *ip, struct geoip_result *res)
{
	lookup(g, ip, GW_COUNTRY | GW_POCODE | GW_COORDS, res);
}

/* The whole answer for ip, from the cache or the database (then cached). */
static const struct geoip_result *cached(struct geoip *g, const struct fr_ip *ip)
{
	static const struct geoip_result none;
	size_t n = ip->af == 6 ? 16 : 4;

	if (ip->af != 4 && ip->af != 6)
		return &none;	/* no address: nothing to find, nothing to cache */
	struct geoip_slot *sl = &g->cache[hash_bytes(ip->a, n, g->seed + ip->af) &
	    ((1u << GEOIP_CACHE_BITS) - 1)];

	if (sl->ip.af == ip->af && memcmp(sl->ip.a, ip->a, n) == 0)
		return &sl->res;
	lookup(g, ip, GW_COUNTRY | GW_POCODE | GW_COORDS, &sl->res);
	memset(&sl->ip, 0, sizeof(sl->ip));
	sl->ip.af = ip->af;
	memcpy(sl->ip.a, ip->a, n);
	return &sl->res;
}

/* Write one side's selected fields from res. */
static void put(const struct geoip_result *res, bool country, bool pocode, bool coords,
    char *kc, char *kp, uint8_t *kxy)
{
	if (country)
		memcpy(kc, res->country, FR_COUNTRY_MAX);
	if (pocode)
		memcpy(kp, res->pocode, FR_POCODE_MAX);
	if (coords) {
		memcpy(kxy, &res->lat, sizeof(double));
		memcpy(kxy + sizeof(double), &res->lon, sizeof(double));
	}
}

void geoip_fill(struct geoip *g, const struct geoip_need *n, struct flow_key *k)
{
	static const struct geoip_result none;

	_Static_assert(sizeof(double) * 2 == FR_COORDS_LEN, "coordinates: two doubles");
	if (n->src_country || n->src_pocode || n->src_coords)
		put(g ? cached(g, &k->src_ip) : &none, n->src_country, n->src_pocode, n->src_coords,
		    k->src_host_country, k->src_host_pocode, k->src_host_coords);
	if (n->dst_country || n->dst_pocode || n->dst_coords)
		put(g ? cached(g, &k->dst_ip) : &none, n->dst_country, n->dst_pocode, n->dst_coords,
		    k->dst_host_country, k->dst_host_pocode, k->dst_host_coords);
}
