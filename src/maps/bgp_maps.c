/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_maps.c: the BGP correlation maps: bgp_agent_map, and the id maps of peer_src_as, src_local_pref and src_med. */
#include "bgp_maps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mapfile.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "maps/prefix.h"

void bgp_addr_from_fr(const struct fr_ip *ip, struct bgp_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (ip->af == 4) {
		out->afi = BGP_AFI_IPV4;
		memcpy(out->a, ip->a, 4);
	} else if (ip->af == 6) {
		out->afi = BGP_AFI_IPV6;
		memcpy(out->a, ip->a, 16);
	}
}

void bgp_addr_to_fr(const struct bgp_addr *a, struct fr_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (a->afi == BGP_AFI_IPV4) {
		out->af = 4;
		memcpy(out->a, a->a, 4);
	} else if (a->afi == BGP_AFI_IPV6) {
		out->af = 6;
		memcpy(out->a, a->a, 16);
	}
}

/* ---- rows shared by both maps ---- */

/* What a row of either map matches on, and what it gives. */
struct bm_row {
	bool has_ip, has_in, has_out, has_mac, has_nh, has_filter;
	struct fr_ip ip;
	uint8_t plen;
	uint32_t in, out;
	uint8_t mac[6];
	struct bgp_addr nh;		/* bgp_nexthop= */
	struct bpf_program filter;
	struct bgp_addr bgp_ip;		/* agent map: the peer */
	uint32_t id;			/* id maps: the value */
	bool has_result;
};

struct bm_map {
	struct bm_row *v;
	size_t n, cap;
	bool any_filter, any_nh;
};

enum bm_key { BK_BGP_IP, BK_BGP_PORT, BK_IP, BK_IN, BK_OUT, BK_FILTER, BK_ID, BK_SRC_MAC, BK_NH };

static const struct mapfile_key agent_keys[] = {
	{ "bgp_ip", BK_BGP_IP }, { "bgp_port", BK_BGP_PORT }, { "ip", BK_IP }, { "in", BK_IN },
	{ "out", BK_OUT }, { "filter", BK_FILTER },
};

static const struct mapfile_key id_keys[] = {
	{ "id", BK_ID }, { "ip", BK_IP }, { "in", BK_IN }, { "out", BK_OUT },
	{ "src_mac", BK_SRC_MAC }, { "bgp_nexthop", BK_NH }, { "filter", BK_FILTER },
};

/* An address (no prefix) into a BGP address; 0 or -1. */
static int parse_bgp_addr(const char *v, struct bgp_addr *out)
{
	struct fr_ip ip;

	if (fr_ip_parse(v, &ip) < 0)
		return -1;
	bgp_addr_from_fr(&ip, out);
	return 0;
}

static int parse_u32(const char *k, const char *v, uint32_t *out, char *why, size_t wlen)
{
	uint64_t n;

	if (text_parse_uint(v, 10, UINT32_MAX, &n) == 0) {
		*out = (uint32_t)n;
		return 0;
	}
	snprintf(why, wlen, "%s '%s': expected a number", k, v);
	return -1;
}

/* One key=value into r; 0, or -1 with why. */
static int set_key(struct bm_row *r, int id, const char *k, const char *v, pcap_t *dead, char *why,
    size_t wlen)
{
	uint32_t port;

	switch (id) {
	case BK_BGP_IP:
		r->has_result = true;
		if (parse_bgp_addr(v, &r->bgp_ip) == 0)
			return 0;
		snprintf(why, wlen, "bgp_ip '%s': expected an IPv4 or IPv6 address", v);
		return -1;
	case BK_BGP_PORT:
		return parse_u32(k, v, &port, why, wlen) == 0 && port <= 65535 ? 0 :
		    (snprintf(why, wlen, "bgp_port '%s': expected a port", v), -1);
	case BK_IP:
		r->has_ip = true;
		if (prefix_parse(v, &r->ip, &r->plen) == 0)
			return 0;
		snprintf(why, wlen, "ip '%s': expected an address or prefix", v);
		return -1;
	case BK_IN:
		r->has_in = true;
		return parse_u32(k, v, &r->in, why, wlen);
	case BK_OUT:
		r->has_out = true;
		return parse_u32(k, v, &r->out, why, wlen);
	case BK_ID:
		r->has_result = true;
		return parse_u32(k, v, &r->id, why, wlen);
	case BK_SRC_MAC:
		r->has_mac = true;
		if (text_parse_mac(v, r->mac) == 0)
			return 0;
		snprintf(why, wlen, "src_mac '%s': expected a MAC address", v);
		return -1;
	case BK_NH:
		r->has_nh = true;
		if (parse_bgp_addr(v, &r->nh) == 0)
			return 0;
		snprintf(why, wlen, "bgp_nexthop '%s': expected an IPv4 or IPv6 address", v);
		return -1;
	case BK_FILTER:
		if (r->has_filter) {
			snprintf(why, wlen, "filter given twice");
			return -1;
		}
		if (pcap_compile(dead, &r->filter, v, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(why, wlen, "bad 'filter' value '%s': %s", v, pcap_geterr(dead));
			return -1;
		}
		r->has_filter = true;
		return 0;
	default:
		return -1;
	}
}

static void row_free(struct bm_row *r)
{
	if (r->has_filter)
		pcap_freecode(&r->filter);
	r->has_filter = false;
}

static void bm_free(struct bm_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		row_free(&m->v[i]);
	free(m->v);
	free(m);
}

/* One row; 0, or -1 with why (r freed). */
static int parse_row(char *row, const struct mapfile_key *keys, size_t nkeys, const char *result,
    pcap_t *dead, struct bm_row *r, char *why, size_t wlen)
{
	struct mapfile_kv kv;
	enum mapfile_tok t;

	memset(r, 0, sizeof(*r));
	while ((t = mapfile_kv_next(&row, MAPFILE_QUOTES, &kv)) != MAPFILE_TOK_END) {
		int id;
		if (t == MAPFILE_TOK_QUOTE) {
			snprintf(why, wlen, "%s: the quoted value is not closed", kv.key);
			goto fail;
		}
		if (t != MAPFILE_TOK_KV) {
			snprintf(why, wlen, "'%s' is not key=value", kv.word);
			goto fail;
		}
		if ((id = mapfile_key_id(keys, nkeys, kv.key)) < 0) {
			char names[160] = "";
			for (size_t i = 0; i < nkeys; i++)
				snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				    i ? ", " : "", keys[i].name);
			snprintf(why, wlen, "unknown key '%s' (%s)", kv.key, names);
			goto fail;
		}
		if (set_key(r, id, kv.key, kv.val, dead, why, wlen) < 0)
			goto fail;
	}
	if (!r->has_result) {
		snprintf(why, wlen, "a row needs %s=", result);
		goto fail;
	}
	return 0;
fail:
	row_free(r);
	return -1;
}

static struct bm_map *bm_load(const char *path, size_t max_rows, int linktype, int snaplen,
    const struct mapfile_key *keys, size_t nkeys, const char *result, char *err, size_t errlen)
{
	struct mapfile mf;
	struct bm_map *m;
	pcap_t *dead;
	char why[320], *row;

	if (!max_rows)
		max_rows = BGP_MAP_DEFAULT_ROWS;
	if (mapfile_init(&mf, path) < 0) {
		snprintf(err, errlen, "[%s] cannot open: %s", path, strerror(errno));
		return NULL;
	}
	dead = pcap_open_dead(linktype, snaplen > 0 ? snaplen : 65535);
	m = xcalloc(1, sizeof(*m));
	while ((row = mapfile_next(&mf))) {
		struct bm_row r;
		if (m->n >= max_rows) {
			mapfile_fail(&mf, err, errlen, "more than %zu rows (maps_entries)", max_rows);
			goto fail;
		}
		if (parse_row(row, keys, nkeys, result, dead, &r, why, sizeof(why)) < 0) {
			mapfile_fail(&mf, err, errlen, "%s", why);
			goto fail;
		}
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 16;
			m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
		}
		m->any_filter |= r.has_filter;
		m->any_nh |= r.has_nh;
		m->v[m->n++] = r;
	}
	mapfile_fini(&mf);
	pcap_close(dead);
	return m;
fail:
	mapfile_fini(&mf);
	pcap_close(dead);
	bm_free(m);
	return NULL;
}

static bool addr_eq(const struct bgp_addr *a, const struct bgp_addr *b)
{
	return a->afi == b->afi && a->afi && memcmp(a->a, b->a, a->afi == BGP_AFI_IPV4 ? 4 : 16) == 0;
}

/* Does row r match k (and the frame, for a filter)?  nh: the id maps' bgp_nexthop value.
 * A record without an exporter address (pmacctd's) is matched as 0.0.0.0, as 1.7.7 does: its
 * documented catch-all row for pmacctd is `bgp_ip=X ip=0.0.0.0/0`. */
static bool row_match(const struct bm_row *r, const struct flow_key *k, const struct bgp_addr *nh,
    const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	struct fr_ip none = { .af = 4 };

	if (r->has_ip && !prefix_match(&r->ip, r->plen, k->peer_src_ip.af ? &k->peer_src_ip : &none))
		return false;
	if ((r->has_in && r->in != k->in_iface) || (r->has_out && r->out != k->out_iface))
		return false;
	if (r->has_mac && memcmp(r->mac, k->src_mac, 6) != 0)
		return false;
	if (r->has_nh && (!nh || !addr_eq(&r->nh, nh)))
		return false;
	if (r->has_filter && (!h || !pkt || !pcap_offline_filter(&r->filter, h, pkt)))
		return false;
	return true;
}

/* ---- bgp_agent_map ---- */

struct bgp_agent_map {
	struct bm_map *m;
};

struct bgp_agent_map *bgp_agent_map_load(const char *path, size_t max_rows, int linktype,
    int snaplen, char *err, size_t errlen)
{
	struct bm_map *m = bm_load(path, max_rows, linktype, snaplen, agent_keys, NELEM(agent_keys),
	    "bgp_ip", err, errlen);
	struct bgp_agent_map *am;

	if (!m)
		return NULL;
	am = xcalloc(1, sizeof(*am));
	am->m = m;
	return am;
}

int bgp_agent_map_match(const struct bgp_agent_map *am, const struct flow_key *k,
    const struct pcap_pkthdr *h, const uint8_t *pkt, struct bgp_addr out[2])
{
	int n = 0;

	for (size_t i = 0; i < am->m->n && n < 2; i++)
		if (row_match(&am->m->v[i], k, NULL, h, pkt))
			out[n++] = am->m->v[i].bgp_ip;
	return n;
}

bool bgp_agent_map_has_filter(const struct bgp_agent_map *am)
{
	return am && am->m->any_filter;
}

size_t bgp_agent_map_count(const struct bgp_agent_map *am)
{
	return am ? am->m->n : 0;
}

void bgp_agent_map_free(struct bgp_agent_map *am)
{
	if (!am)
		return;
	bm_free(am->m);
	free(am);
}

/* ---- id maps ---- */

struct bgp_id_map {
	struct bm_map *m;
};

struct bgp_id_map *bgp_id_map_load(const char *path, size_t max_rows, int linktype, int snaplen,
    char *err, size_t errlen)
{
	struct bm_map *m = bm_load(path, max_rows, linktype, snaplen, id_keys, NELEM(id_keys), "id",
	    err, errlen);
	struct bgp_id_map *im;

	if (!m)
		return NULL;
	im = xcalloc(1, sizeof(*im));
	im->m = m;
	return im;
}

bool bgp_id_map_lookup(const struct bgp_id_map *im, const struct flow_key *k,
    const struct bgp_addr *src_nh, const struct pcap_pkthdr *h, const uint8_t *pkt, uint32_t *out)
{
	for (size_t i = 0; i < im->m->n; i++)
		if (row_match(&im->m->v[i], k, src_nh, h, pkt)) {
			*out = im->m->v[i].id;
			return true;
		}
	return false;
}

bool bgp_id_map_wants_nh(const struct bgp_id_map *im)
{
	return im && im->m->any_nh;
}

bool bgp_id_map_has_filter(const struct bgp_id_map *im)
{
	return im && im->m->any_filter;
}

size_t bgp_id_map_count(const struct bgp_id_map *im)
{
	return im ? im->m->n : 0;
}

void bgp_id_map_free(struct bgp_id_map *im)
{
	if (!im)
		return;
	bm_free(im->m);
	free(im);
}
