/* SPDX-License-Identifier: BSD-3-Clause */
/* networks.c: networks_file parser, its two LPM tables, and pmacct's net/mask/AS resolution rules. */
#include "networks.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/mapfile.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "maps/lpm.h"
#include "model/prim.h"

struct net_map {
	struct lpm *v4, *v6;
	struct net_entry *e;	/* lpm values are indexes + 1 into e[] */
	size_t n, cap;
};

/* 128-bit host-order key of an address (IPv4 in the top 32 bits). */
static void ip_key(const uint8_t *a, int af, uint64_t *hi, uint64_t *lo)
{
	uint64_t h = 0, l = 0;

	if (af == 4) {
		for (int i = 0; i < 4; i++)
			h = h << 8 | a[i];
		*hi = h << 32;
		*lo = 0;
		return;
	}
	for (int i = 0; i < 8; i++) {
		h = h << 8 | a[i];
		l = l << 8 | a[8 + i];
	}
	*hi = h;
	*lo = l;
}

/* pmacct's trim_all_spaces(): every blank goes, wherever it is. */
static void strip_blanks(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++)
		if (!isspace((unsigned char)*r))
			*w++ = *r;
	*w = '\0';
}

/* Cut the next comma-separated field off *s. */
static char *next_field(char **s)
{
	char *f = *s, *c = strchr(f, ',');

	*c = '\0';
	*s = c + 1;
	return f;
}

/* Parse "prefix/len" into entry e and the key; 0 or -1 (logged). */
static int parse_prefix(const struct mapfile *mf, const char *who, char *s, struct net_entry *e, uint64_t *hi,
    uint64_t *lo)
{
	char *slash = strchr(s, '/');
	uint8_t a[16] = { 0 };
	unsigned long len;

	if (!slash) {
		mapfile_error(mf, who, "Missing '/' separator. Ignoring.");
		return -1;
	}
	*slash = '\0';
	const char *m = slash + 1;
	e->af = strchr(s, ':') ? 6 : 4;
	/* inet_aton as pmacct: "10.1" is 10.0.0.1 */
	if (e->af == 4 ? inet_aton(s, (struct in_addr *)a) == 0 : inet_pton(AF_INET6, s, a) != 1) {
		mapfile_error(mf, who, "Invalid network '%s'. Ignoring.", s);
		return -1;
	}
	if (!*m || strspn(m, "0123456789") != strlen(m) || strlen(m) > 3) {
		mapfile_error(mf, who, "Invalid network mask '%s'.", m);
		return -1;
	}
	len = strtoul(m, NULL, 10);
	if (len > (e->af == 4 ? 32u : 128u)) {
		mapfile_error(mf, who, "Invalid network mask '%lu'.", len);
		return -1;
	}
	e->len = (uint8_t)len;
	ip_key(a, e->af, hi, lo);
	return 0;
}

/*
 * One line, fields as pmacct 1.7.7 takes them: with 3+ commas the first
 * field (a label) is skipped, with 2+ the next is the next hop, with 1+ the
 * next is the ASN, "peer_asn" + '_' + "asn" allowed.  ASNs are read with
 * strtoul as pmacct does (a non-number reads as 0).
 */
static int parse_line(const struct mapfile *mf, const char *who, char *s, struct net_entry *e, uint64_t *hi,
    uint64_t *lo)
{
	int commas = 0;

	memset(e, 0, sizeof(*e));
	for (const char *p = s; (p = strchr(p, ',')); p++)
		commas++;
	if (commas >= 3)
		next_field(&s);
	if (commas >= 2) {
		char *nh = next_field(&s);
		if (inet_pton(AF_INET, nh, e->nh.a) == 1)
			e->nh.af = 4;
		else if (inet_pton(AF_INET6, nh, e->nh.a) == 1)
			e->nh.af = 6;
	}
	if (commas >= 1) {
		char *as = next_field(&s), *us = strchr(as, '_');
		if (us) {
			*us = '\0';
			e->peer_as = (uint32_t)strtoul(as, NULL, 10);
			as = us + 1;
		}
		e->as = (uint32_t)strtoul(as, NULL, 10);
	}
	return parse_prefix(mf, who, s, e, hi, lo);
}

static void map_add(struct net_map *m, struct lpm_builder *b, const struct net_entry *e,
    uint64_t hi, uint64_t lo)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->e = xrealloc(m->e, m->cap * sizeof(*m->e));
	}
	m->e[m->n++] = *e;
	lpm_builder_add(b, hi, lo, e->len, (uint32_t)m->n);
}

struct net_map *netmap_load(const char *path, const char *who, char *err, size_t errlen)
{
	struct lpm_builder b4, b6;
	struct net_map *m;
	struct mapfile mf;
	char *row;

	if (mapfile_init(&mf, path) < 0) {
		snprintf(err, errlen, "[%s] %s", path, errno == ENOENT ? "file not found." : strerror(errno));
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	lpm_builder_init(&b4);
	lpm_builder_init(&b6);
	while ((row = mapfile_next(&mf))) {
		struct net_entry e;
		uint64_t hi, lo;
		strip_blanks(row);
		if (parse_line(&mf, who, row, &e, &hi, &lo) == 0)
			map_add(m, e.af == 4 ? &b4 : &b6, &e, hi, lo);
	}
	mapfile_fini(&mf);
	m->v4 = lpm_build(&b4);
	m->v6 = lpm_build(&b6);
	lpm_builder_fini(&b4);
	lpm_builder_fini(&b6);
	return m;
}

const struct net_entry *netmap_lookup(const struct net_map *m, const struct fr_ip *ip)
{
	uint64_t hi, lo;
	uint32_t v;

	if (!m || (ip->af != 4 && ip->af != 6))
		return NULL;
	ip_key(ip->a, ip->af, &hi, &lo);
	v = lpm_lookup(ip->af == 4 ? m->v4 : m->v6, hi, lo);
	return v ? &m->e[v - 1] : NULL;
}

size_t netmap_count(const struct net_map *m)
{
	return m ? m->n : 0;
}

size_t netmap_memory(const struct net_map *m)
{
	return m ? sizeof(*m) + m->cap * sizeof(*m->e) + lpm_memory(m->v4) + lpm_memory(m->v6) : 0;
}

void netmap_free(struct net_map *m)
{
	if (!m)
		return;
	lpm_free(m->v4);
	lpm_free(m->v6);
	free(m->e);
	free(m);
}

/* ---- resolution ---- */

struct src_word {
	const char *word;
	enum net_source src;
	uint8_t as_key;		/* 1: _as only, 2: _net only, 3: both */
	uint8_t daemons;	/* 1 << CFG_PMACCTD ... */
};

#define ALL_D	((1 << CFG_PMACCTD) | (1 << CFG_NFACCTD) | (1 << CFG_SFACCTD))
#define COL_D	((1 << CFG_NFACCTD) | (1 << CFG_SFACCTD))

/*
 * The values pmacct 1.7.7 accepts (verified): pmacctd rejects netflow and
 * sflow; nfacctd and sfacctd take either word for the record's own data.
 */
static const struct src_word src_words[] = {
	{ "file", NETSRC_FILE, 3, ALL_D },
	{ "true", NETSRC_FILE, 1, ALL_D },
	{ "false", NETSRC_RECORD, 1, ALL_D },
	{ "mask", NETSRC_MASK, 2, ALL_D },
	{ "bgp", NETSRC_BGP, 3, ALL_D },
	{ "bmp", NETSRC_BGP, 3, ALL_D },
	{ "igp", NETSRC_IGP, 2, ALL_D },
	{ "longest", NETSRC_LONGEST, 3, ALL_D },
	{ "fallback", NETSRC_LONGEST, 3, ALL_D },
	{ "netflow", NETSRC_RECORD, 3, COL_D },
	{ "sflow", NETSRC_RECORD, 3, COL_D },
};

int net_source_parse(const char *v, bool as_key, enum cfg_daemon d, enum net_source *out)
{
	for (size_t i = 0; i < NELEM(src_words); i++) {
		const struct src_word *w = &src_words[i];
		if (strcasecmp(v, w->word) == 0 && (w->as_key & (as_key ? 1 : 2)) && (w->daemons & (1 << d))) {
			*out = w->src;
			return 0;
		}
	}
	return -1;
}

static bool has_any(const struct prim_set *s, const enum prim_id *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (prim_has(s, ids[i]))
			return true;
	return false;
}

static enum net_source source_of(const char *v, bool as_key, enum cfg_daemon d)
{
	enum net_source s = NETSRC_UNSET;

	if (v && net_source_parse(v, as_key, d, &s) < 0)
		s = NETSRC_UNSET;	/* pmacct warns at parse time and ignores the line */
	return s;
}

bool net_res_init(struct net_res *r, const struct plugin_cfg *pc, const struct core_cfg *cc,
    enum cfg_daemon d)
{
	static const enum prim_id src_ids[] = { P_SRC_NET, P_SRC_MASK, P_SRC_AS, P_SUM_NET, P_SUM_AS };
	static const enum prim_id dst_ids[] = { P_DST_NET, P_DST_MASK, P_DST_AS, P_SUM_NET, P_SUM_AS };
	static const enum prim_id net_ids[] = { P_SRC_NET, P_DST_NET, P_SUM_NET };
	static const enum prim_id mask_ids[] = { P_SRC_MASK, P_DST_MASK };
	static const enum prim_id as_ids[] = { P_SRC_AS, P_DST_AS, P_SUM_AS };
	static const enum prim_id host_ids[] = { P_SRC_HOST, P_DST_HOST, P_SUM_HOST };
	const struct prim_set *a = &pc->aggregate;
	bool file = pc->networks_file != NULL;

	memset(r, 0, sizeof(*r));
	r->net = source_of(cc->net_source, false, d);
	r->as = source_of(cc->as_source, true, d);
	/* nfacctd / sfacctd: no *_net source means the record's own masks, whatever
	 * networks_file and networks_mask say (1.7.7 and master, verified) */
	if (d != CFG_PMACCTD && r->net == NETSRC_UNSET)
		r->net = NETSRC_RECORD;
	/* pmacctd: no *_net source means file and/or mask; longest acts as file (verified) */
	if (r->net == NETSRC_UNSET || r->net == NETSRC_MASK)
		r->static_mask = (uint8_t)(pc->networks_mask > 128 ? 128 : pc->networks_mask);
	if (r->net == NETSRC_UNSET)
		r->net = file ? NETSRC_FILE : pc->networks_mask ? NETSRC_MASK : NETSRC_UNSET;
	/* with a BGP daemon, pmacctd's longest is networks_file <= BGP: the
	 * correlation wrote BGP's mask into the record, the file beats a shorter one */
	if (d == CFG_PMACCTD && r->net == NETSRC_LONGEST && !cc->bgp.daemon)
		r->net = NETSRC_FILE;
	if (d == CFG_PMACCTD && r->as == NETSRC_LONGEST && !cc->bgp.daemon)
		r->as = file ? NETSRC_FILE : NETSRC_UNSET;
	r->filter = pc->networks_file_filter;
	r->no_lpm = pc->networks_file_no_lpm;
	r->no_mask_if_zero = pc->networks_no_mask_if_zero;
	r->want_net = has_any(a, net_ids, 3);
	r->want_mask = has_any(a, mask_ids, 2);
	r->src_mask = prim_has(a, P_SRC_MASK);
	r->dst_mask = prim_has(a, P_DST_MASK);
	r->want_as = has_any(a, as_ids, 3);
	r->want_host = r->filter && file && has_any(a, host_ids, 3);
	r->want_nh = file && prim_has(a, P_PEER_DST_IP) &&
	    (r->net == NETSRC_FILE || r->net == NETSRC_LONGEST);
	r->src = has_any(a, src_ids, 5) || r->want_host;
	r->dst = has_any(a, dst_ids, 5) || r->want_host || r->want_nh;
	return (r->want_net || r->want_mask || r->want_as || r->want_host || r->want_nh) &&
	    (file || r->static_mask || r->net == NETSRC_RECORD || r->net == NETSRC_LONGEST);
}

/* net = ip with only its first `len` bits (networks_no_mask_if_zero: 0 keeps all). */
static void mask_addr(const struct fr_ip *ip, unsigned len, bool keep_if_zero, struct fr_ip *net)
{
	unsigned bits = ip->af == 4 ? 32 : 128;

	memset(net, 0, sizeof(*net));
	net->af = ip->af;
	if (keep_if_zero && len == 0)
		len = bits;
	if (len > bits)
		len = bits;
	memcpy(net->a, ip->a, len / 8);
	if (len % 8)
		net->a[len / 8] = (uint8_t)(ip->a[len / 8] & (0xff00 >> (len % 8)));
}

/*
 * One side, as pmacct 1.7.7's net_funcs chain: the record's mask (netflow,
 * sflow, longest) or the static mask first, then the file's entry (which
 * replaces it under *_net file, or when longer under longest), the ASN,
 * the networks_file_filter zeroing, and the net as the address under the mask.
 */
static void resolve_side(const struct net_res *r, const struct net_map *m, bool mask_agg,
    struct fr_ip *ip, struct fr_ip *net, uint8_t *mask, uint32_t *as, struct fr_ip *nh)
{
	uint8_t nmask = 0, lm = 0;

	if (ip->af != 4 && ip->af != 6)
		return;
	if (r->net == NETSRC_BGP) {
		/* the BGP correlation (pipeline/bgp_enrich.c) gave the net and mask */
		if (m && r->as == NETSRC_FILE) {
			const struct net_entry *e = netmap_lookup(m, ip);
			*as = e ? e->as : 0;
		}
		return;
	}
	if (r->net == NETSRC_RECORD || r->net == NETSRC_LONGEST)
		nmask = lm = *mask;
	if (r->static_mask)
		nmask = r->static_mask;
	if (r->net == NETSRC_MASK && mask_agg)
		lm = r->static_mask;	/* pmacct copies networks_mask in only then */
	if (m) {
		const struct net_entry *e = netmap_lookup(m, ip);
		uint8_t flen = e ? e->len : 0;
		if (r->net == NETSRC_FILE)
			nmask = flen;
		else if (r->net == NETSRC_LONGEST && (r->no_lpm ? flen != 0 : flen > nmask))
			nmask = lm = flen;
		/* _as longest: the file wins over the mask the net was given (an
		 * equal length included); a file net, or networks_mask when the
		 * side's mask is not aggregated, leaves nothing to beat (verified) */
		if (r->as == NETSRC_FILE || (r->as == NETSRC_LONGEST &&
		    (r->no_lpm ? flen != 0 : flen >= lm)))
			*as = e ? e->as : 0;
		/* the destination's next hop from the file when the file gives its net
		 * (longest: at least as long as the record's mask), unset without one (verified) */
		if (nh && (r->net == NETSRC_FILE || (r->no_lpm ? flen != 0 : flen >= lm))) {
			if (e && e->nh.af)
				*nh = e->nh;
			else
				memset(nh, 0, sizeof(*nh));
		}
		if (r->want_host && !e) {
			memset(ip->a, 0, sizeof(ip->a));
			if (r->net == NETSRC_LONGEST)
				nmask = 0;
		}
	}
	*mask = nmask;
	mask_addr(ip, nmask, r->no_mask_if_zero, net);
}

void net_res_apply(const struct net_res *r, const struct net_map *m, struct flow_key *k)
{
	if (r->src)
		resolve_side(r, m, r->src_mask, &k->src_ip, &k->src_net, &k->src_mask, &k->src_as,
		    NULL);
	if (r->dst)
		resolve_side(r, m, r->dst_mask, &k->dst_ip, &k->dst_net, &k->dst_mask, &k->dst_as,
		    r->want_nh ? &k->peer_dst_ip : NULL);
}

/* ---- start-up checks ---- */

/* pmacct's words for a plugin whose net / AS primitives have no source, per daemon (verified). */
struct net_check_msgs {
	const char *as_file;	/* AS primitive, ASNs from a networks_file that is not there */
	const char *as_bgp;	/* AS primitive, ASNs from BGP; NULL: accepted */
	const char *net_unset;	/* net primitive, no source at all; NULL: cannot happen */
	const char *net_missing;	/* net primitive, the named source is not there */
};

#define NET_MISSING "network aggregation selected but none of 'bgp_daemon', 'bmp_daemon', " \
	"'isis_daemon', 'networks_file', 'networks_mask' is specified. Exiting"

static const struct net_check_msgs check_msgs[] = {
	[CFG_PMACCTD] = {
		"AS aggregation selected but NO 'networks_file' or 'pmacctd_as' are specified. Exiting...",
		NULL,
		"network aggregation selected but none of 'pmacctd_net', 'networks_file', 'networks_mask' is specified. Exiting ...",
		NET_MISSING " ...",
	},
	[CFG_NFACCTD] = {
		"AS aggregation selected but NO 'networks_file' specified. Exiting.",
		"AS aggregation selected but 'bgp_daemon' or 'bmp_daemon' is not enabled. Exiting.",
		NULL,
		NET_MISSING ".",
	},
	[CFG_SFACCTD] = {
		"AS aggregation was selected but NO 'networks_file' specified. Exiting...",
		"AS aggregation selected but 'bgp_daemon' or 'bmp_daemon' is not enabled. Exiting...",
		NULL,
		NET_MISSING " ...",
	},
};

void net_sources_warn(const struct core_cfg *cc, enum cfg_daemon d, const char *who)
{
	static const struct { const char *key; bool as_key; const char *what; } keys[] = {
		{ "pmacctd_net", false, "network" }, { "pmacctd_as", true, "AS" },
	};
	enum net_source s;

	for (size_t i = 0; i < NELEM(keys); i++) {
		const char *v = keys[i].as_key ? cc->as_source : cc->net_source;
		if (v && net_source_parse(v, keys[i].as_key, d, &s) < 0)
			log_warnx(who, "[%s] Invalid %s aggregation value '%s'. Ignored.",
			    cfg_where(&cc->origin, keys[i].key), keys[i].what, v);
	}
}

/* Whether the plugin aggregates on nets/masks (peer_dst_ip too, as pmacct) and on ASNs. */
static void needs(const struct plugin_cfg *pc, bool *need_net, bool *need_as)
{
	*need_net = prim_has(&pc->aggregate, P_PEER_DST_IP);
	*need_as = false;
	for (int j = 0; j < P_COUNT; j++) {
		if (!prim_has(&pc->aggregate, (enum prim_id)j))
			continue;
		uint8_t flags = prim_desc_of(pc->prims, j)->flags;
		*need_as |= (flags & PRIM_NEEDS_AS) != 0;
		*need_net |= (flags & PRIM_NEEDS_NET) != 0;
	}
}

int net_res_check(const struct core_cfg *cc, const struct plugin_cfg *pc, enum cfg_daemon d,
    const char *who)
{
	const struct net_check_msgs *msg = &check_msgs[d];
	enum net_source net = source_of(cc->net_source, false, d);
	enum net_source as = source_of(cc->as_source, true, d);
	bool need_net, need_as, file = pc->networks_file != NULL;

	needs(pc, &need_net, &need_as);
	/* pmacctd wants a source for ASNs; the collectors keep the record's by default */
	if (need_as && !file && (d == CFG_PMACCTD ? as != NETSRC_BGP : as == NETSRC_FILE)) {
		log_err(who, "%s", msg->as_file);
		return -1;
	}
	if (need_as && msg->as_bgp && as == NETSRC_BGP && !cc->bgp.daemon) {
		log_err(who, "%s", msg->as_bgp);	/* no BGP / BMP daemon here */
		return -1;
	}
	if (need_net && msg->net_unset && net == NETSRC_UNSET && !file && !pc->networks_mask) {
		log_err(who, "%s", msg->net_unset);
		return -1;
	}
	if (need_net && ((net == NETSRC_FILE && !file) || (net == NETSRC_MASK && !pc->networks_mask) ||
	    (net == NETSRC_BGP && !cc->bgp.daemon) || net == NETSRC_IGP)) {
		log_err(who, "%s", msg->net_missing);	/* no BGP daemon / BMP / IS-IS here */
		return -1;
	}
	return 0;
}
