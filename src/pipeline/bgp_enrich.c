/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_enrich.c: correlation of flow records with the BGP RIB: the BGP block of the key, ASNs, nets and next hops. */
#include "bgp_enrich.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "maps/bgp_maps.h"
#include "maps/networks.h"
#include "maps/prefix.h"
#include "maps/roa.h"
#include "model/prim.h"

#define WHO "default/core"

/* bgp_follow_nexthop: most prefixes (as pmacct) and most hops followed (its loop guard). */
#define FOLLOW_NH_MAX 32
#define FOLLOW_NH_HOPS 20

/* Entries of the per-batch cache of attribute sets' ASNs (a power of two). */
#define ASN_CACHE 64

enum peer_src_as_type { PSA_RECORD, PSA_MAP, PSA_BGP };
enum src_val_type { SV_NONE, SV_MAP, SV_BGP };

/* A map file and where its key was set, reloaded on SIGUSR2. */
struct em_map {
	const char *key;		/* the config key naming it */
	const char *path;		/* owned by the configuration */
	struct bgp_agent_map *agent;	/* bgp_agent_map */
	struct bgp_id_map *id;		/* the others */
};

struct bgp_enrich {
	struct bgp_rib *rib;
	bool locked;
	struct bgp_enrich_need need;
	enum cfg_daemon daemon;
	int linktype, snaplen;
	size_t max_rows;
	/* sources */
	enum net_source as_src, net_src;
	bool use_ip_next_hop;
	/* bgp_* correlation keys */
	uint32_t follow_default;
	int n_follow_nh;
	struct fr_ip follow_nh[FOLLOW_NH_MAX];
	uint8_t follow_nh_len[FOLLOW_NH_MAX];
	bool follow_nh_external;
	uint32_t radius;
	bool skip_subas;
	struct bgp_patterns std_pat, ext_pat, lrg_pat, std_to_asn, lrg_to_asn;
	enum peer_src_as_type psa_type;
	bool src_as_path_bgp, src_std_bgp, src_ext_bgp, src_lrg_bgp;
	enum src_val_type src_lp_type, src_med_type;
	/* maps */
	struct em_map agent_map, psa_map, lp_map, med_map;
	/* RPKI: the ROAs, locked with the RIB; src_roa needs bgp_src_roa_type: bgp */
	struct roa_db *roa;
	bool roa_locked;
	bool src_roa_bgp;
	/* derived */
	bool want_dst, want_src;
	/*
	 * Per batch (valid while the RIB is read-locked, reset by begin): the
	 * peer of the last exporter (when no agent map decides it) and the ASNs
	 * of recently met attribute sets (pointers are stable while locked).
	 */
	bool peer_cached;
	struct fr_ip peer_ip;
	int peer_idx;
	struct asn_cache {
		const struct bgp_attr *a;
		uint32_t origin, peer;
	} asn[ASN_CACHE];
};

/* ---- text ---- */

void bgp_text_put(char *dst, size_t cap, const char *src)
{
	size_t len = strlen(src);

	if (!cap)
		return;
	if (len < cap) {	/* the common case: each byte written once */
		memcpy(dst, src, len);
		memset(dst + len, 0, cap - len);
		return;
	}
	memset(dst, 0, cap);
	/* the whole tokens that fit with " +" after them (cap - 1 - 2 bytes) */
	size_t keep = 0;
	for (size_t i = 0; i < len && i + 3 <= cap; i++)
		if (src[i] == ' ' && i > 0)
			keep = i;
	if (cap < 3) {
		dst[0] = cap > 1 ? '+' : '\0';
		return;
	}
	memcpy(dst, src, keep);
	memcpy(dst + keep, keep ? " +" : "+", keep ? 2 : 1);
}

void bgp_text_put_radius(char *dst, size_t cap, const char *path, unsigned radius)
{
	char buf[4096];
	unsigned n = 0;
	size_t i;

	if (!radius) {
		bgp_text_put(dst, cap, path);
		return;
	}
	for (i = 0; path[i] && i < sizeof(buf) - 1; i++) {
		if (path[i] == ' ' && ++n == radius)
			break;
		buf[i] = path[i];
	}
	buf[i] = '\0';
	bgp_text_put(dst, cap, buf);
}

int bgp_patterns_parse(struct bgp_patterns *ps, const char *text)
{
	const char *s = text;

	memset(ps, 0, sizeof(*ps));
	if (!text)
		return 0;
	while (*s) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		char *p;
		while (len && (*s == ' ' || *s == '\t'))
			s++, len--;
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (!len || ps->n == BGP_MAX_PATTERNS) {
			bgp_patterns_free(ps);
			return -1;
		}
		p = xmalloc(len + 1);
		memcpy(p, s, len);
		p[len] = '\0';
		ps->p[ps->n++] = p;
		if (!e)
			break;
		s = e + 1;
	}
	return 0;
}

void bgp_patterns_free(struct bgp_patterns *ps)
{
	for (int i = 0; i < ps->n; i++)
		free(ps->p[i]);
	memset(ps, 0, sizeof(*ps));
}

/*
 * Where pattern p matches in hay as pmacct 1.7.7 finds it (verified, see
 * docs/bgp.md): the text before p's first '.' is searched as a substring;
 * with a '.', the text from there to the next blank must be exactly as long
 * as p and equal to it but where p has '.'.  NULL when it does not match:
 * then this pattern is not searched any further (a failed '.' check ends
 * the search even when a later community would match).
 */
static const char *pattern_find(const char *hay, const char *p)
{
	const char *dot = strchr(p, '.');
	size_t plen = strlen(p), head = dot ? (size_t)(dot - p) : plen;
	const char *m;

	if (!head) {
		m = hay;	/* a pattern starting with '.' searches for "": the start */
	} else {
		for (m = hay; (m = strchr(m, p[0])); m++)
			if (strncmp(m, p, head) == 0)
				break;
		if (!m)
			return NULL;
	}
	if (!dot)
		return m;
	size_t tlen = strcspn(m, " ");
	if (tlen != plen)
		return NULL;
	for (size_t i = 0; i < plen; i++)
		if (p[i] != '.' && p[i] != m[i])
			return NULL;
	return m;
}

void bgp_text_put_filtered(char *dst, size_t cap, const char *comms, const struct bgp_patterns *ps)
{
	char buf[8192];
	size_t o = 0;

	if (!ps || !ps->n) {
		bgp_text_put(dst, cap, comms);
		return;
	}
	/* pattern by pattern, each occurrence: from the match to the next blank */
	for (int i = 0; i < ps->n; i++) {
		const char *hay = comms, *m;
		while (*hay && (m = pattern_find(hay, ps->p[i]))) {
			size_t n = strcspn(m, " ");
			if (o + n + 2 < sizeof(buf)) {
				if (o)
					buf[o++] = ' ';
				memcpy(buf + o, m, n);
				o += n;
			}
			hay = m + n;
			if (!n)
				break;
		}
	}
	buf[o] = '\0';
	bgp_text_put(dst, cap, buf);
}

/* The first community the patterns keep (bgp_*comm_pattern_to_asn), into tok; false if none. */
static bool first_match(const char *comms, const struct bgp_patterns *ps, char *tok, size_t len)
{
	char buf[FR_BGP_STR_MAX];

	bgp_text_put_filtered(buf, sizeof(buf), comms, ps);
	size_t n = strcspn(buf, " ");
	if (!n || n >= len)
		return false;
	memcpy(tok, buf, n);
	tok[n] = '\0';
	return true;
}

/* The decimal number at s as strtoul() reads it, cut to 32 bits (ULONG_MAX on overflow). */
static uint32_t dec_u32(const char *s)
{
	uint64_t v = 0;

	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned dg = (unsigned)(*s - '0');
		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && dg > UINT64_MAX % 10))
			return UINT32_MAX;
		v = v * 10 + dg;
	}
	return (uint32_t)v;
}

uint32_t bgp_path_peer_as(const char *path, bool skip_subas)
{
	uint32_t first_sub = 0;
	bool in_confed = false;

	/* a path that starts with a set (AS_SET or AS_CONFED_SET) has no first AS: 0, as 1.7.7 */
	if (!skip_subas)
		return *path == '{' || *path == '[' ? 0 : dec_u32(path + (*path == '('));
	for (const char *t = path; *t;) {
		bool open = *t == '(' || *t == '[';
		const char *d = t;
		while (*d == '(' || *d == '{' || *d == '[')
			d++;
		uint32_t asn = dec_u32(d);
		const char *e = strchr(t, ' ');
		size_t n = e ? (size_t)(e - t) : strlen(t);
		bool close = n && (t[n - 1] == ')' || t[n - 1] == ']');
		if (open)
			in_confed = true;
		if (in_confed) {
			if (!first_sub)
				first_sub = asn;
		} else {
			return asn;
		}
		if (close)
			in_confed = false;
		if (!e)
			break;
		t = e + 1;
	}
	return first_sub;
}

/* "A:B[:C]" from a community token: A and B. */
static bool split_comm(const char *tok, uint32_t *a, uint32_t *b)
{
	char *e;

	*a = (uint32_t)strtoul(tok, &e, 10);
	if (*e != ':')
		return false;
	*b = (uint32_t)strtoul(e + 1, &e, 10);
	return *e == '\0' || *e == ':';
}

/* ---- set-up ---- */

void bgp_enrich_needs(const struct core_cfg *cfg, struct bgp_enrich_need *n)
{
	struct flow_key m, u;

	memset(n, 0, sizeof(*n));
	memset(&u, 0, sizeof(u));
	for (int i = 0; i < cfg->nplugins; i++) {
		const struct plugin_cfg *pc = &cfg->plugins[i];
		prim_key_mask(pc->prims ? pc->prims : cfg->prims, &pc->aggregate, &m);
		for (size_t j = 0; j < sizeof(m); j++)
			((uint8_t *)&u)[j] |= ((uint8_t *)&m)[j];
		if (prim_has(&pc->aggregate, P_SUM_AS))
			n->src_as = n->dst_as = true;
		if (prim_has(&pc->aggregate, P_SUM_NET))
			n->src_net = n->dst_net = true;
	}
	n->as_path = u.as_path[0] != 0;
	n->std_comm = u.std_comm[0] != 0;
	n->ext_comm = u.ext_comm[0] != 0;
	n->lrg_comm = u.lrg_comm[0] != 0;
	n->local_pref = u.local_pref != 0;
	n->med = u.med != 0;
	n->src_as_path = u.src_as_path[0] != 0;
	n->src_std_comm = u.src_std_comm[0] != 0;
	n->src_ext_comm = u.src_ext_comm[0] != 0;
	n->src_lrg_comm = u.src_lrg_comm[0] != 0;
	n->src_local_pref = u.src_local_pref != 0;
	n->src_med = u.src_med != 0;
	n->src_as |= u.src_as != 0;
	n->dst_as |= u.dst_as != 0;
	n->peer_src_as = u.peer_src_as != 0;
	n->peer_dst_as = u.peer_dst_as != 0;
	n->peer_dst_ip = u.peer_dst_ip.af != 0;
	n->src_net |= u.src_net.af != 0 || u.src_mask != 0;
	n->dst_net |= u.dst_net.af != 0 || u.dst_mask != 0;
	n->src_roa = u.src_roa != 0;
	n->dst_roa = u.dst_roa != 0;
}

static bool need_block(const struct bgp_enrich_need *n)
{
	return n->as_path || n->std_comm || n->ext_comm || n->lrg_comm || n->local_pref || n->med ||
	    n->src_as_path || n->src_std_comm || n->src_ext_comm || n->src_lrg_comm ||
	    n->src_local_pref || n->src_med;
}

/* A `*_type` key's value: false after logging when v is none of the words allowed. */
static bool parse_type(const struct core_cfg *cfg, const char *key, const char *v, bool map_ok,
    enum src_val_type *out)
{
	*out = SV_NONE;
	if (!v)
		return true;
	if (strcasecmp(v, "bgp") == 0)
		*out = SV_BGP;
	else if (map_ok && strcasecmp(v, "map") == 0)
		*out = SV_MAP;
	else {
		log_err(WHO, "[%s] key '%s': invalid value '%s' (%s). Exiting.",
		    cfg_where(&cfg->origin, key), key, v, map_ok ? "map or bgp" : "bgp");
		return false;
	}
	return true;
}

static bool parse_patterns(const struct core_cfg *cfg, const char *key, const char *v,
    struct bgp_patterns *ps)
{
	if (bgp_patterns_parse(ps, v) == 0)
		return true;
	log_err(WHO, "[%s] key '%s': '%s': an empty pattern or more than %d. Exiting.",
	    cfg_where(&cfg->origin, key), key, v, BGP_MAX_PATTERNS);
	return false;
}

static bool parse_follow_nh(struct bgp_enrich *e, const struct core_cfg *cfg)
{
	const char *s = cfg->bgp.follow_nexthop;
	const char *key = "bgp_follow_nexthop";

	while (s && *s) {
		const char *c = strchr(s, ',');
		size_t len = c ? (size_t)(c - s) : strlen(s);
		char buf[128];
		while (len && *s == ' ')
			s++, len--;
		while (len && s[len - 1] == ' ')
			len--;
		if (e->n_follow_nh == FOLLOW_NH_MAX || len == 0 || len >= sizeof(buf)) {
			log_err(WHO, "[%s] key '%s': an empty prefix or more than %d. Exiting.",
			    cfg_where(&cfg->origin, key), key, FOLLOW_NH_MAX);
			return false;
		}
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (prefix_parse(buf, &e->follow_nh[e->n_follow_nh], &e->follow_nh_len[e->n_follow_nh]) < 0) {
			log_err(WHO, "[%s] key '%s': '%s' is not a prefix. Exiting.",
			    cfg_where(&cfg->origin, key), key, buf);
			return false;
		}
		e->n_follow_nh++;
		if (!c)
			break;
		s = c + 1;
	}
	return true;
}

/* Load (or reload: startup false) one map; false when it cannot be. */
static bool em_load(struct bgp_enrich *e, const struct core_cfg *cfg, struct em_map *m, bool startup)
{
	char err[512];
	struct bgp_agent_map *a = NULL;
	struct bgp_id_map *id = NULL;

	if (!m->path)
		return true;
	log_info(WHO, "[%s] (re)loading map.", m->path);
	if (m == &e->agent_map)
		a = bgp_agent_map_load(m->path, e->max_rows, e->linktype, e->snaplen, err, sizeof(err));
	else
		id = bgp_id_map_load(m->path, e->max_rows, e->linktype, e->snaplen, err, sizeof(err));
	if (!a && !id) {
		if (startup)
			log_err(WHO, "[%s] key '%s': %s. Exiting.", cfg_where(&cfg->origin, m->key),
			    m->key, err);
		else
			log_warnx(WHO, "%s. Rolling back old map.", err);
		return false;
	}
	bgp_agent_map_free(m->agent);
	bgp_id_map_free(m->id);
	m->agent = a;
	m->id = id;
	log_info(WHO, "[%s] map successfully (re)loaded.", m->path);
	return true;
}

static enum net_source source_of(const char *v, bool as_key, enum cfg_daemon d)
{
	enum net_source s = NETSRC_UNSET;

	if (v && net_source_parse(v, as_key, d, &s) < 0)
		s = NETSRC_UNSET;
	return s;
}

struct bgp_enrich *bgp_enrich_new(const struct core_cfg *cfg, const struct bgp_enrich_need *need,
    int linktype, int snaplen, int *err)
{
	const struct bgp_cfg *b = &cfg->bgp;
	struct bgp_enrich *e;
	enum src_val_type t = SV_NONE;
	bool ok = true;

	*err = 0;
	if (!need_block(need) && !b->daemon)
		return NULL;	/* nothing to zero, nothing to look up */
	e = xcalloc(1, sizeof(*e));
	e->need = *need;
	e->daemon = cfg->daemon;
	e->linktype = linktype;
	e->snaplen = snaplen;
	e->max_rows = cfg->nplugins ? cfg->plugins[0].maps_entries : 0;
	e->as_src = source_of(cfg->as_source, true, cfg->daemon);
	e->net_src = source_of(cfg->net_source, false, cfg->daemon);
	e->use_ip_next_hop = cfg->use_ip_next_hop;
	e->follow_default = b->follow_default;
	e->follow_nh_external = b->follow_nexthop_external;
	e->radius = b->aspath_radius;
	e->skip_subas = b->peer_as_skip_subas;
	ok = ok && parse_follow_nh(e, cfg);
	ok = ok && parse_patterns(cfg, "bgp_stdcomm_pattern", b->stdcomm_pattern, &e->std_pat);
	ok = ok && parse_patterns(cfg, "bgp_extcomm_pattern", b->extcomm_pattern, &e->ext_pat);
	ok = ok && parse_patterns(cfg, "bgp_lrgcomm_pattern", b->lrgcomm_pattern, &e->lrg_pat);
	ok = ok && parse_patterns(cfg, "bgp_stdcomm_pattern_to_asn", b->stdcomm_pattern_to_asn,
	    &e->std_to_asn);
	ok = ok && parse_patterns(cfg, "bgp_lrgcomm_pattern_to_asn", b->lrgcomm_pattern_to_asn,
	    &e->lrg_to_asn);
	e->psa_type = PSA_RECORD;
	if (ok && b->peer_src_as_type) {
		const char *v = b->peer_src_as_type;
		if (strcasecmp(v, "netflow") == 0 || strcasecmp(v, "sflow") == 0)
			e->psa_type = PSA_RECORD;
		else if (strcasecmp(v, "map") == 0)
			e->psa_type = PSA_MAP;
		else if (strcasecmp(v, "bgp") == 0)
			e->psa_type = PSA_BGP;
		else {
			log_err(WHO, "[%s] key 'bgp_peer_src_as_type': invalid value '%s' "
			    "(netflow, sflow, map or bgp). Exiting.",
			    cfg_where(&cfg->origin, "bgp_peer_src_as_type"), v);
			ok = false;
		}
	}
	ok = ok && parse_type(cfg, "bgp_src_as_path_type", b->src_as_path_type, false, &t);
	e->src_as_path_bgp = t == SV_BGP;
	ok = ok && parse_type(cfg, "bgp_src_std_comm_type", b->src_std_comm_type, false, &t);
	e->src_std_bgp = t == SV_BGP;
	ok = ok && parse_type(cfg, "bgp_src_ext_comm_type", b->src_ext_comm_type, false, &t);
	e->src_ext_bgp = t == SV_BGP;
	ok = ok && parse_type(cfg, "bgp_src_lrg_comm_type", b->src_lrg_comm_type, false, &t);
	e->src_lrg_bgp = t == SV_BGP;
	ok = ok && parse_type(cfg, "bgp_src_local_pref_type", b->src_local_pref_type, true,
	    &e->src_lp_type);
	ok = ok && parse_type(cfg, "bgp_src_med_type", b->src_med_type, true, &e->src_med_type);
	ok = ok && parse_type(cfg, "bgp_src_roa_type", b->src_roa_type, false, &t);
	e->src_roa_bgp = t == SV_BGP;
	/* a map type needs its map (pmacct refuses to start without it) */
	struct { bool on; const char *key, *path; struct em_map *m; } maps[] = {
		{ b->agent_map != NULL, "bgp_agent_map", b->agent_map, &e->agent_map },
		{ e->psa_type == PSA_MAP, "bgp_peer_src_as_map", b->peer_src_as_map, &e->psa_map },
		{ e->src_lp_type == SV_MAP, "bgp_src_local_pref_map", b->src_local_pref_map, &e->lp_map },
		{ e->src_med_type == SV_MAP, "bgp_src_med_map", b->src_med_map, &e->med_map },
	};
	for (size_t i = 0; ok && i < NELEM(maps); i++) {
		if (!maps[i].on)
			continue;
		maps[i].m->key = maps[i].key;
		if (!maps[i].path || !maps[i].path[0]) {
			log_err(WHO, "[%s] key '%s' is needed by the '_type: map' key. Exiting.",
			    cfg_where(&cfg->origin, maps[i].key), maps[i].key);
			ok = false;
			break;
		}
		maps[i].m->path = maps[i].path;
		/* -T config checks the maps too */
		ok = em_load(e, cfg, maps[i].m, true);
	}
	if (!ok) {
		*err = 1;
		bgp_enrich_free(e);
		return NULL;
	}
	e->want_dst = need->as_path || need->std_comm || need->ext_comm || need->lrg_comm ||
	    need->local_pref || need->med || need->dst_as || need->peer_dst_as ||
	    need->peer_dst_ip || need->dst_net ||
	    (need->dst_roa && (e->as_src == NETSRC_BGP || e->as_src == NETSRC_LONGEST));
	e->want_src = (need->src_as_path && e->src_as_path_bgp) ||
	    (need->src_std_comm && e->src_std_bgp) || (need->src_ext_comm && e->src_ext_bgp) ||
	    (need->src_lrg_comm && e->src_lrg_bgp) || (need->src_local_pref && e->src_lp_type) ||
	    (need->src_med && e->src_med_type) || need->src_as || need->src_net ||
	    (need->peer_src_as && e->psa_type != PSA_RECORD) || (need->src_roa && e->src_roa_bgp);
	if (!need_block(need) && !e->want_dst && !e->want_src) {
		/* the keys and maps were checked; no plugin needs anything: no lock, no work */
		bgp_enrich_free(e);
		return NULL;
	}
	return e;
}

void bgp_enrich_set_rib(struct bgp_enrich *e, struct bgp_rib *rib)
{
	if (e)
		e->rib = rib;
}

void bgp_enrich_set_roa(struct bgp_enrich *e, struct roa_db *db)
{
	if (e)
		e->roa = (e->need.src_roa || e->need.dst_roa) ? db : NULL;
}

bool bgp_enrich_needs_frame(const struct bgp_enrich *e)
{
	return e && (bgp_agent_map_has_filter(e->agent_map.agent) ||
	    bgp_id_map_has_filter(e->psa_map.id) || bgp_id_map_has_filter(e->lp_map.id) ||
	    bgp_id_map_has_filter(e->med_map.id));
}

void bgp_enrich_begin(struct bgp_enrich *e)
{
	if (e && e->rib && !e->locked) {
		bgp_rib_rdlock(e->rib);
		e->locked = true;
		e->peer_cached = false;
		memset(e->asn, 0, sizeof(e->asn));
		if (e->roa) {
			roa_db_rdlock(e->roa);
			e->roa_locked = true;
		}
	}
}

void bgp_enrich_end(struct bgp_enrich *e)
{
	if (e && e->locked) {
		if (e->roa_locked)
			roa_db_unlock(e->roa);
		e->roa_locked = false;
		bgp_rib_unlock(e->rib);
		e->locked = false;
	}
}

void bgp_enrich_reload(struct bgp_enrich *e)
{
	struct em_map *maps[] = { &e->agent_map, &e->psa_map, &e->lp_map, &e->med_map };

	if (!e)
		return;
	for (size_t i = 0; i < NELEM(maps); i++)
		if (maps[i]->path)
			(void)em_load(e, NULL, maps[i], false);
}

void bgp_enrich_free(struct bgp_enrich *e)
{
	struct em_map *maps[4];

	if (!e)
		return;
	bgp_enrich_end(e);
	maps[0] = &e->agent_map;
	maps[1] = &e->psa_map;
	maps[2] = &e->lp_map;
	maps[3] = &e->med_map;
	for (size_t i = 0; i < NELEM(maps); i++) {
		bgp_agent_map_free(maps[i]->agent);
		bgp_id_map_free(maps[i]->id);
	}
	bgp_patterns_free(&e->std_pat);
	bgp_patterns_free(&e->ext_pat);
	bgp_patterns_free(&e->lrg_pat);
	bgp_patterns_free(&e->std_to_asn);
	bgp_patterns_free(&e->lrg_to_asn);
	free(e);
}

/* ---- per record ---- */

/* A lookup's outcome: the route and the peer whose table held it. */
struct hit {
	bool ok;
	int peer;
	struct bgp_route r;
};

/* The BGP peer of a record: bgp_agent_map's (primary, then backup), else the exporter. */
static int select_peer(const struct bgp_enrich *e, const struct flow_key *k,
    const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	struct bgp_addr a[2];
	int n = 0;

	if (e->agent_map.agent)
		n = bgp_agent_map_match(e->agent_map.agent, k, h, pkt, a);
	for (int i = 0; i < n; i++) {
		int p = bgp_rib_peer_find(e->rib, &a[i]);
		if (p >= 0)
			return p;
	}
	if (n)
		return -1;
	bgp_addr_from_fr(&k->peer_src_ip, &a[0]);
	return a[0].afi ? bgp_rib_peer_find(e->rib, &a[0]) : -1;
}

static bool fr_ip_eq(const struct fr_ip *x, const struct fr_ip *y)
{
	uint32_t a, b;

	if (x->af != y->af)
		return false;
	if (x->af != 4)
		return memcmp(x->a, y->a, 16) == 0;
	memcpy(&a, x->a, 4);
	memcpy(&b, y->a, 4);
	return a == b;
}

/* select_peer() for a record of the batch: without an agent map the exporter's peer, remembered. */
static int record_peer(struct bgp_enrich *e, const struct flow_key *k, const struct pcap_pkthdr *h,
    const uint8_t *pkt)
{
	if (e->agent_map.agent)
		return select_peer(e, k, h, pkt);
	if (e->peer_cached && fr_ip_eq(&e->peer_ip, &k->peer_src_ip))
		return e->peer_idx;
	e->peer_idx = select_peer(e, k, h, pkt);
	e->peer_ip = k->peer_src_ip;
	e->peer_cached = true;
	return e->peer_idx;
}

/* The record's RD as a BGP RD; false when it has none (or a VRF id without one). */
static bool record_rd(const struct flow_key *k, struct bgp_rd *rd)
{
	const uint8_t *b = k->mpls_vpn_rd;
	static const uint8_t zero[8];

	if (!k->mpls_vpn_rd_origin && memcmp(b, zero, 8) == 0)
		return false;
	rd->type = (uint16_t)(b[0] << 8 | b[1]);
	switch (rd->type) {
	case 0:
		rd->admin = (uint32_t)(b[2] << 8 | b[3]);
		rd->assigned = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
		return true;
	case 1:
	case 2:
		rd->admin = (uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 8 | b[5];
		rd->assigned = (uint32_t)(b[6] << 8 | b[7]);
		return true;
	default:
		return false;
	}
}

static bool lookup(const struct bgp_enrich *e, int peer, const struct fr_ip *ip, const struct bgp_rd *rd,
    const struct bgp_addr *nh, struct bgp_route *out)
{
	uint16_t afi = ip->af == 4 ? BGP_AFI_IPV4 : ip->af == 6 ? BGP_AFI_IPV6 : 0;

	if (!afi || peer < 0)
		return false;
	return bgp_rib_lookup(e->rib, peer, afi, rd ? BGP_SAFI_VPN : BGP_SAFI_UNICAST, rd, ip->a, nh, out);
}

/*
 * Look the sides wanted up from peer, following default routes
 * (bgp_follow_default): while follows are left a default route is not a
 * result, its next hop is the next peer asked for the sides still
 * unresolved; once none are left a default route is an ordinary match (as
 * pmacct: with 1 follow, a prefix B does not know gets B's default route,
 * its next hop as peer_dst_ip).  At most follow_default + 1 peers are asked.
 */
static void lookup_sides(const struct bgp_enrich *e, int peer, const struct flow_key *k,
    const struct bgp_rd *rd, const struct bgp_addr *nh, struct hit *s, struct hit *d)
{
	uint32_t left = rd ? 0 : e->follow_default;

	s->ok = d->ok = false;
	for (;;) {
		struct bgp_route def = { 0 };
		bool have_def = false;
		struct hit *sides[2] = { e->want_src ? s : NULL, e->want_dst ? d : NULL };
		const struct fr_ip *ips[2] = { &k->src_ip, &k->dst_ip };
		for (int i = 0; i < 2; i++) {
			struct bgp_route r;
			if (!sides[i] || sides[i]->ok ||
			    !lookup(e, peer, ips[i], rd, i ? nh : NULL, &r))
				continue;
			if (left > 0 && r.plen == 0) {
				def = r;
				have_def = true;
				continue;
			}
			sides[i]->ok = true;
			sides[i]->peer = peer;
			sides[i]->r = r;
		}
		if (left == 0 || ((!sides[0] || s->ok) && (!sides[1] || d->ok)))
			return;
		if (!have_def || !def.attr || !def.attr->next_hop.afi)
			return;
		left--;
		/* a default route pointing at its own peer: asked again, with one follow less */
		if ((peer = bgp_rib_peer_find(e->rib, &def.attr->next_hop)) < 0)
			return;
	}
}

static bool in_follow_nh(const struct bgp_enrich *e, const struct bgp_addr *a)
{
	struct fr_ip ip;

	bgp_addr_to_fr(a, &ip);
	for (int i = 0; i < e->n_follow_nh; i++)
		if (prefix_match(&e->follow_nh[i], e->follow_nh_len[i], &ip))
			return true;
	return false;
}

static bool addr_eq(const struct bgp_addr *a, const struct bgp_addr *b)
{
	return a->afi == b->afi && memcmp(a->a, b->a, a->afi == BGP_AFI_IPV4 ? 4 : 16) == 0;
}

/* The network address of a route's prefix, as a record address. */
static void route_net(const struct bgp_route *r, struct fr_ip *out)
{
	memset(out, 0, sizeof(*out));
	out->af = r->afi == BGP_AFI_IPV4 ? 4 : 6;
	memcpy(out->a, r->addr, r->afi == BGP_AFI_IPV4 ? 4 : 16);
}

/*
 * bgp_follow_nexthop: from the destination route's next hop, while it is in
 * the configured prefixes, ask the peer at that address (through the agent
 * map when one is set) for the route's prefix: the longest match of the
 * prefix's network address there, so the same prefix is followed hop by hop
 * (pmacct does so: a peer's more specific route for the record's address is
 * not taken, and a default route leads to the next peer's default route).
 * The result is the last next hop in the prefixes, or with _external that
 * peer's own next hop.
 */
static void follow_nexthop(const struct bgp_enrich *e, const struct flow_key *k, const struct bgp_rd *rd,
    const struct bgp_route *r, struct bgp_addr *out)
{
	struct bgp_addr cur = r->attr->next_hop;
	struct fr_ip net;

	route_net(r, &net);
	*out = cur;
	for (int hop = 0; hop < FOLLOW_NH_HOPS && cur.afi && in_follow_nh(e, &cur); hop++) {
		struct bgp_route nr;
		struct flow_key fk;
		int p;
		*out = cur;
		/* the next peer: the agent map with the next hop as the agent, else the address */
		memset(&fk, 0, sizeof(fk));
		bgp_addr_to_fr(&cur, &fk.peer_src_ip);
		fk.dst_ip = k->dst_ip;
		if ((p = select_peer(e, &fk, NULL, NULL)) < 0 || !lookup(e, p, &net, rd, NULL, &nr))
			return;
		if (e->follow_nh_external)
			*out = nr.attr->next_hop;
		if (addr_eq(&nr.attr->next_hop, &cur))
			return;
		cur = nr.attr->next_hop;
		route_net(&nr, &net);
	}
}

/* The ASNs a community pattern maps an empty path to (bgp_*comm_pattern_to_asn). */
static bool pattern_asn(const struct bgp_enrich *e, const struct bgp_attr *a, uint32_t *peer,
    uint32_t *origin)
{
	char tok[64];

	if (e->std_to_asn.n && first_match(a->comms, &e->std_to_asn, tok, sizeof(tok)) &&
	    split_comm(tok, peer, origin))
		return true;
	if (e->lrg_to_asn.n && first_match(a->lcomms, &e->lrg_to_asn, tok, sizeof(tok)) &&
	    split_comm(tok, peer, origin))
		return true;
	return false;
}

/* The origin and peer ASNs of a route, as pmacct: the path's, else a community's when it is empty. */
static void route_asns(const struct bgp_enrich *e, const struct bgp_attr *a, uint32_t *origin,
    uint32_t *peer)
{
	*origin = a->origin_as;
	/*
	 * The first ASN of a path that starts with a sequence (AS or confederation),
	 * 0 when it starts with a set (1.7.7, also "[64514,64515] 65420": 0);
	 * skip_subas: the first outside the confederation segments.
	 */
	if (!e->skip_subas || (a->as_path[0] >= '0' && a->as_path[0] <= '9'))
		*peer = a->first_as;
	else
		*peer = bgp_path_peer_as(a->as_path, true);
	if (!a->origin_as && (e->std_to_asn.n || e->lrg_to_asn.n)) {
		uint32_t p, o;
		if (pattern_asn(e, a, &p, &o)) {
			*origin = o;
			*peer = p;
		}
	}
}

/* The destination's needed text fields to "". */
static void clear_dst_text(const struct bgp_enrich_need *n, struct flow_key *k)
{
	if (n->as_path)
		memset(k->as_path, 0, sizeof(k->as_path));
	if (n->std_comm)
		memset(k->std_comm, 0, sizeof(k->std_comm));
	if (n->ext_comm)
		memset(k->ext_comm, 0, sizeof(k->ext_comm));
	if (n->lrg_comm)
		memset(k->lrg_comm, 0, sizeof(k->lrg_comm));
}

/* route_asns() through the batch's cache (locked: a stays where it is). */
static void attr_asns(struct bgp_enrich *e, const struct bgp_attr *a, uint32_t *origin, uint32_t *peer)
{
	uintptr_t v = (uintptr_t)a;
	struct asn_cache *c = &e->asn[(v >> 4 ^ v >> 11) & (ASN_CACHE - 1)];

	if ((a->as_path[0] >= '0' && a->as_path[0] <= '9') || (!e->std_to_asn.n && !e->lrg_to_asn.n)) {
		route_asns(e, a, origin, peer);		/* cheap: no text to parse or filter */
		return;
	}
	if (c->a != a) {
		route_asns(e, a, &c->origin, &c->peer);
		c->a = a;
	}
	*origin = c->origin;
	*peer = c->peer;
}

/* net/mask of one side from a route (or none), over ip's family. */
static void put_net(const struct fr_ip *ip, const struct hit *h, struct fr_ip *net, uint8_t *mask)
{
	memset(net, 0, sizeof(*net));
	net->af = ip->af;
	*mask = 0;
	if (!h->ok)
		return;
	*mask = h->r.plen;
	memcpy(net->a, h->r.addr, h->r.afi == BGP_AFI_IPV4 ? 4 : 16);
}

/* Does BGP's answer for a side win it (the source in use, or under longest a mask as long)? */
static bool bgp_wins(enum net_source src, const struct hit *h, uint8_t rec_mask)
{
	if (src == NETSRC_BGP)
		return true;
	return src == NETSRC_LONGEST && h->ok && h->r.plen >= rec_mask;
}

/*
 * The origin AS RFC 6811 validates a route with: the last of its path;
 * NONE (0) when the path ends with an AS_SET; the peer's AS when the path
 * is empty (a route of the peer's own AS: 1.7.7 validates it so).
 */
static uint32_t roa_origin(const struct bgp_enrich *e, const struct hit *h)
{
	const struct bgp_attr *a = h->r.attr;
	size_t n = strlen(a->as_path);

	if (n == 0) {
		const struct bgp_peer_id *id = bgp_rib_peer(e->rib, h->peer);
		return id ? id->as : 0;
	}
	if (a->as_path[n - 1] == '}')
		return 0;
	return a->origin_as;
}

static enum roa_state roa_route(const struct bgp_enrich *e, const struct hit *h, const struct bgp_route *r)
{
	struct hit c = *h;

	c.r = *r;
	return roa_validate(roa_db_table(e->roa), r->afi == BGP_AFI_IPV4 ? 4 : 6, r->addr, r->plen,
	    roa_origin(e, &c));
}

/*
 * pmacct's state of a side: "u" without a route; the route's RFC 6811
 * state; an invalid one with a covering route of the same peer that is
 * valid ("V") or unknown ("U"), the nearest first (above an unknown route
 * nothing is covered by a ROA, so the nearest non-invalid decides).
 */
static uint8_t roa_state_of(const struct bgp_enrich *e, const struct hit *h, const struct bgp_rd *rd)
{
	struct bgp_route c;
	enum roa_state st;
	unsigned len;

	if (!h->ok || !e->roa || !e->roa_locked)
		return ROA_UNKNOWN;
	st = roa_route(e, h, &h->r);
	if (st != ROA_INVALID)
		return (uint8_t)st;
	for (len = h->r.plen; len > 0 && bgp_rib_lookup_covering(e->rib, h->peer, h->r.afi,
	    h->r.safi, h->r.has_rd ? rd : NULL, h->r.addr, len - 1, &c); len = c.plen) {
		enum roa_state cs = roa_route(e, h, &c);
		if (cs == ROA_VALID)
			return ROA_INVALID_COV_VALID;
		if (cs == ROA_UNKNOWN)
			return ROA_INVALID_COV_UNKNOWN;
	}
	return ROA_INVALID;
}

static void fill_dst(struct bgp_enrich *e, struct flow_key *k, const struct bgp_rd *rd,
    const struct hit *d)
{
	const struct bgp_enrich_need *n = &e->need;
	const struct bgp_attr *a = d->ok ? d->r.attr : NULL;
	uint8_t rec_mask = k->dst_mask;

	if (!a) {
		clear_dst_text(n, k);
	} else {
		if (n->as_path)
			bgp_text_put_radius(k->as_path, sizeof(k->as_path), a->as_path, e->radius);
		if (n->std_comm)
			bgp_text_put_filtered(k->std_comm, sizeof(k->std_comm), a->comms, &e->std_pat);
		if (n->ext_comm)
			bgp_text_put_filtered(k->ext_comm, sizeof(k->ext_comm), a->ecomms, &e->ext_pat);
		if (n->lrg_comm)
			bgp_text_put_filtered(k->lrg_comm, sizeof(k->lrg_comm), a->lcomms, &e->lrg_pat);
		if (n->local_pref)
			k->local_pref = a->has_local_pref ? a->local_pref : 0;
		if (n->med)
			k->med = a->has_med ? a->med : 0;
	}
	if ((n->dst_as || n->peer_dst_as) && bgp_wins(e->as_src, d, rec_mask)) {
		uint32_t origin = 0, peer = 0;
		if (a)
			attr_asns(e, a, &origin, &peer);
		if (n->dst_as)
			k->dst_as = origin;
		if (n->peer_dst_as)
			k->peer_dst_as = peer;
	}
	if (n->dst_roa)
		k->dst_roa = e->as_src == NETSRC_BGP || e->as_src == NETSRC_LONGEST ?
		    roa_state_of(e, d, rd) : ROA_UNKNOWN;
	if (bgp_wins(e->net_src, d, rec_mask)) {
		if (n->dst_net)
			put_net(&k->dst_ip, d, &k->dst_net, &k->dst_mask);
		if (n->peer_dst_ip) {
			struct bgp_addr nh = { 0 };
			if (a && e->n_follow_nh)
				follow_nexthop(e, k, rd, &d->r, &nh);
			else if (a)
				nh = a->next_hop;
			/* no BGP next hop: use_ip_next_hop keeps the record's IP next hop */
			if (nh.afi || !e->use_ip_next_hop)
				bgp_addr_to_fr(&nh, &k->peer_dst_ip);
		}
	}
}

static void fill_src(struct bgp_enrich *e, struct flow_key *k, const struct hit *s,
    const struct bgp_rd *rd, const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	const struct bgp_enrich_need *n = &e->need;
	const struct bgp_attr *a = s->ok ? s->r.attr : NULL;
	uint8_t rec_mask = k->src_mask;
	static const struct bgp_addr none;
	const struct bgp_addr *nh = a ? &a->next_hop : &none;
	uint32_t v;

	/* each text field written once: BGP's value, else "" */
	if (n->src_as_path) {
		if (a && e->src_as_path_bgp)
			bgp_text_put_radius(k->src_as_path, sizeof(k->src_as_path), a->as_path, e->radius);
		else
			memset(k->src_as_path, 0, sizeof(k->src_as_path));
	}
	if (n->src_std_comm) {
		if (a && e->src_std_bgp)
			bgp_text_put_filtered(k->src_std_comm, sizeof(k->src_std_comm), a->comms,
			    &e->std_pat);
		else
			memset(k->src_std_comm, 0, sizeof(k->src_std_comm));
	}
	if (n->src_ext_comm) {
		if (a && e->src_ext_bgp)
			bgp_text_put_filtered(k->src_ext_comm, sizeof(k->src_ext_comm), a->ecomms,
			    &e->ext_pat);
		else
			memset(k->src_ext_comm, 0, sizeof(k->src_ext_comm));
	}
	if (n->src_lrg_comm) {
		if (a && e->src_lrg_bgp)
			bgp_text_put_filtered(k->src_lrg_comm, sizeof(k->src_lrg_comm), a->lcomms,
			    &e->lrg_pat);
		else
			memset(k->src_lrg_comm, 0, sizeof(k->src_lrg_comm));
	}
	if (n->src_local_pref) {
		if (e->src_lp_type == SV_BGP && a)
			k->src_local_pref = a->has_local_pref ? a->local_pref : 0;
		else if (e->src_lp_type == SV_MAP && e->lp_map.id &&
		    bgp_id_map_lookup(e->lp_map.id, k, nh, h, pkt, &v))
			k->src_local_pref = v;
	}
	if (n->src_med) {
		if (e->src_med_type == SV_BGP && a)
			k->src_med = a->has_med ? a->med : 0;
		else if (e->src_med_type == SV_MAP && e->med_map.id &&
		    bgp_id_map_lookup(e->med_map.id, k, nh, h, pkt, &v))
			k->src_med = v;
	}
	uint32_t origin = 0, peer = 0;
	if (a)
		attr_asns(e, a, &origin, &peer);
	if (n->peer_src_as && e->psa_type == PSA_BGP)
		k->peer_src_as = peer;
	else if (n->peer_src_as && e->psa_type == PSA_MAP)
		k->peer_src_as = e->psa_map.id && bgp_id_map_lookup(e->psa_map.id, k, nh, h, pkt, &v) ?
		    v : 0;
	if (n->src_as && bgp_wins(e->as_src, s, rec_mask))
		k->src_as = origin;
	if (n->src_roa)
		k->src_roa = e->src_roa_bgp ? roa_state_of(e, s, rd) : ROA_UNKNOWN;
	if (n->src_net && bgp_wins(e->net_src, s, rec_mask))
		put_net(&k->src_ip, s, &k->src_net, &k->src_mask);
}

/* Every needed field of the BGP block to "" / 0: what a record without routes carries. */
static void clear_block(const struct bgp_enrich_need *n, struct flow_key *k)
{
	clear_dst_text(n, k);
	if (n->src_as_path)
		memset(k->src_as_path, 0, sizeof(k->src_as_path));
	if (n->src_std_comm)
		memset(k->src_std_comm, 0, sizeof(k->src_std_comm));
	if (n->src_ext_comm)
		memset(k->src_ext_comm, 0, sizeof(k->src_ext_comm));
	if (n->src_lrg_comm)
		memset(k->src_lrg_comm, 0, sizeof(k->src_lrg_comm));
	k->local_pref = k->med = k->src_local_pref = k->src_med = 0;
}

void bgp_enrich_record(struct bgp_enrich *e, struct flow_rec *rec, const struct pcap_pkthdr *h,
    const uint8_t *pkt)
{
	struct flow_key *k = &rec->k;
	struct hit s = { 0 }, d = { 0 };
	struct bgp_rd rd;
	bool has_rd;
	int peer = -1;

	/* the fill_*() write the text fields of their side; the rest (and the sides not looked up) here */
	if (!e->want_dst || !e->want_src)
		clear_block(&e->need, k);
	k->local_pref = k->med = k->src_local_pref = k->src_med = 0;
	has_rd = record_rd(k, &rd);
	if (e->rib && e->locked && (e->want_src || e->want_dst) &&
	    (peer = record_peer(e, k, h, pkt)) >= 0) {
		struct bgp_addr nh;
		if (!has_rd) {	/* both sides' first memory accesses at once */
			if (e->want_dst && (k->dst_ip.af == 4 || k->dst_ip.af == 6))
				bgp_rib_prefetch(e->rib, peer, k->dst_ip.af == 4 ? BGP_AFI_IPV4 : BGP_AFI_IPV6,
				    k->dst_ip.a);
			if (e->want_src && (k->src_ip.af == 4 || k->src_ip.af == 6))
				bgp_rib_prefetch(e->rib, peer, k->src_ip.af == 4 ? BGP_AFI_IPV4 : BGP_AFI_IPV6,
				    k->src_ip.a);
		}
		/* ADD-PATH: the record's next hop picks among a prefix's paths */
		bgp_addr_from_fr(&k->peer_dst_ip, &nh);
		lookup_sides(e, peer, k, has_rd ? &rd : NULL, nh.afi ? &nh : NULL, &s, &d);
	}
	if (e->want_dst)
		fill_dst(e, k, has_rd ? &rd : NULL, &d);
	if (e->want_src)
		fill_src(e, k, &s, has_rd ? &rd : NULL, h, pkt);
}
