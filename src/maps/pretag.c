/* SPDX-License-Identifier: BSD-3-Clause */
/* pretag.c: pre_tag_map: one table of keys drives parsing and matching; evaluation follows pmacct's PM_find_id. */
#include "pretag.h"

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
#include "maps/prefix.h"

#define PT_MAX_CONDS 24

enum pt_kind {
	PK_TAG, PK_TAG2, PK_SET_LABEL, PK_LABEL, PK_JEQ, PK_RETURN, PK_STACK, PK_FILTER,
	PK_UINT, PK_ADDR, PK_NET, PK_MAC, PK_BOOL, PK_TEXT,
};

/* What a key does in pmacctd (1.7.7, by experiment: see docs/maps.md). */
enum pt_pm {
	PM_MATCH,	/* compared against the packet */
	PM_NOOP,	/* parsed, then matches everything (1.7.7 installs no check) */
	PM_REJECT,	/* the line is ignored with pm_msg */
};

/* Fields a condition compares against. */
enum pt_field {
	PF_NONE, PF_IN, PF_OUT, PF_DIRECTION, PF_SRC_AS, PF_DST_AS, PF_VLAN, PF_SRC_MAC,
	PF_DST_MAC, PF_SRC_NET, PF_DST_NET, PF_BGP_NEXTHOP, PF_SAMPLING_RATE,
	PF_PEER_SRC_AS, PF_PEER_DST_AS, PF_PEER_SRC_IP,
};

struct pt_key {
	const char *name;
	enum pt_kind kind;
	uint64_t max;		/* PK_UINT: largest value */
	bool neg_ok;		/* a leading '-' negates */
	enum pt_pm pm;
	enum pt_field field;	/* what nfacctd/sfacctd (and pmacctd when PM_MATCH) compare */
	const char *pm_msg;	/* PM_REJECT: why, as pmacct words it */
};

/*
 * The keys pmacct 1.7.7 accepts in a pre_tag_map (pretag-data.h), plus the
 * 0.11 ones it dropped.  id/id2/source_id are aliases, resolved below.
 */
static const struct pt_key pt_keys[] = {
	/* name           kind          max         neg    pmacctd     field */
	{ "set_tag",      PK_TAG,       0,          false, PM_MATCH,   PF_NONE, NULL },
	{ "set_tag2",     PK_TAG2,      0,          false, PM_MATCH,   PF_NONE, NULL },
	{ "set_label",    PK_SET_LABEL, 0,          false, PM_MATCH,   PF_NONE, NULL },
	{ "label",        PK_LABEL,     0,          false, PM_MATCH,   PF_NONE, NULL },
	{ "jeq",          PK_JEQ,       0,          false, PM_MATCH,   PF_NONE, NULL },
	{ "return",       PK_RETURN,    0,          false, PM_MATCH,   PF_NONE, NULL },
	{ "stack",        PK_STACK,     0,          false, PM_MATCH,   PF_NONE, NULL },
	{ "filter",       PK_FILTER,    0,          false, PM_MATCH,   PF_NONE, NULL },
	{ "in",           PK_UINT,      UINT32_MAX, true,  PM_MATCH,   PF_IN, NULL },
	{ "out",          PK_UINT,      UINT32_MAX, true,  PM_MATCH,   PF_OUT, NULL },
	{ "direction",    PK_UINT,      UINT8_MAX,  true,  PM_MATCH,   PF_DIRECTION, NULL },
	{ "src_as",       PK_UINT,      UINT32_MAX, true,  PM_MATCH,   PF_SRC_AS, NULL },
	{ "dst_as",       PK_UINT,      UINT32_MAX, true,  PM_MATCH,   PF_DST_AS, NULL },
	{ "ip",           PK_NET,       0,          false, PM_REJECT,  PF_PEER_SRC_IP,
	    "key 'ip' not applicable" },
	{ "bgp_nexthop",  PK_ADDR,      0,          true,  PM_REJECT,  PF_BGP_NEXTHOP,
	    "'bgp_nexthop' is not supported when a 'networks_file' is specified or by the 'pmacctd' daemon" },
	{ "sampling_rate", PK_UINT,     UINT32_MAX, true,  PM_REJECT,  PF_SAMPLING_RATE,
	    "key 'sampling_rate' is not supported by pmacctd" },
	{ "v8agg",        PK_UINT,      255,        true,  PM_REJECT,  PF_NONE,
	    "key 'v8agg' is not supported by pmacctd" },
	{ "engine_type",  PK_UINT,      255,        true,  PM_NOOP,    PF_NONE, NULL },
	{ "engine_id",    PK_UINT,      UINT32_MAX, true,  PM_NOOP,    PF_NONE, NULL },
	{ "flowset_id",   PK_UINT,      UINT16_MAX, true,  PM_NOOP,    PF_NONE, NULL },
	{ "agent_id",     PK_UINT,      UINT32_MAX, true,  PM_NOOP,    PF_NONE, NULL },
	{ "nexthop",      PK_ADDR,      0,          true,  PM_NOOP,    PF_NONE, NULL },
	{ "sample_type",  PK_TEXT,      0,          false, PM_NOOP,    PF_NONE, NULL },
	{ "peer_src_as",  PK_UINT,      UINT32_MAX, true,  PM_NOOP,    PF_PEER_SRC_AS, NULL },
	{ "peer_dst_as",  PK_UINT,      UINT32_MAX, true,  PM_NOOP,    PF_PEER_DST_AS, NULL },
	{ "src_local_pref", PK_UINT,    UINT32_MAX, true,  PM_NOOP,    PF_NONE, NULL },
	{ "local_pref",   PK_UINT,      UINT32_MAX, true,  PM_NOOP,    PF_NONE, NULL },
	{ "src_comms",    PK_TEXT,      0,          false, PM_NOOP,    PF_NONE, NULL },
	{ "comms",        PK_TEXT,      0,          false, PM_NOOP,    PF_NONE, NULL },
	{ "mpls_vpn_rd",  PK_TEXT,      0,          false, PM_NOOP,    PF_NONE, NULL },
	{ "mpls_pw_id",   PK_UINT,      UINT32_MAX, true,  PM_NOOP,    PF_NONE, NULL },
	{ "src_mac",      PK_MAC,       0,          true,  PM_NOOP,    PF_SRC_MAC, NULL },
	{ "dst_mac",      PK_MAC,       0,          true,  PM_NOOP,    PF_DST_MAC, NULL },
	{ "vlan",         PK_UINT,      4095,       true,  PM_NOOP,    PF_VLAN, NULL },
	{ "cvlan",        PK_UINT,      4095,       true,  PM_NOOP,    PF_NONE, NULL },
	{ "src_net",      PK_NET,       0,          true,  PM_NOOP,    PF_SRC_NET, NULL },
	{ "dst_net",      PK_NET,       0,          true,  PM_NOOP,    PF_DST_NET, NULL },
	{ "is_multicast", PK_BOOL,      0,          false, PM_NOOP,    PF_NONE, NULL },
	{ "is_bi_flow",   PK_BOOL,      0,          false, PM_NOOP,    PF_NONE, NULL },
	{ "nat_event",    PK_UINT,      255,        true,  PM_NOOP,    PF_NONE, NULL },
	{ "fwdstatus",    PK_UINT,      255,        true,  PM_NOOP,    PF_NONE, NULL },
	{ "set_tos",      PK_UINT,      255,        false, PM_NOOP,    PF_NONE, NULL },
};

static const struct { const char *alias, *name; } pt_aliases[] = {
	{ "id", "set_tag" }, { "id2", "set_tag2" }, { "source_id", "engine_id" },
};

enum pt_stack { STACK_NONE, STACK_SUM, STACK_OR };

/* One key=value of a rule that must hold for the rule to match. */
struct pt_cond {
	enum pt_field field;
	bool neg;
	uint64_t n;		/* PK_UINT */
	struct fr_ip ip;	/* PK_ADDR / PK_NET */
	uint8_t plen;		/* PK_NET prefix length */
	uint8_t mac[6];
};

struct pt_rule {
	struct pt_cond c[PT_MAX_CONDS];
	int nc;
	struct bpf_program filter;
	bool has_filter;
	bool set_tag, set_tag2, tag_inc, tag2_inc, ret;
	uint64_t tag, tag2;
	char *set_label;
	char *label;		/* this rule's name, a jeq target */
	char *jeq;
	long jeq_to;		/* index of the jeq target, -1 = none or unresolved */
	enum pt_stack stack;
	unsigned line;
	uint64_t seen;		/* bit i: pt_keys[i] given on this line */
};

struct pt_map {
	struct pt_rule *r;
	size_t n;
};

/* Parsing context of one line. */
struct pt_line {
	const char *path;
	const struct pt_opts *o;
	pcap_t *dead;		/* for filter= */
	char why[256];
};

static const struct pt_key *pt_key_find(const char *name, size_t *idx)
{
	for (size_t i = 0; i < NELEM(pt_aliases); i++)
		if (strcmp(name, pt_aliases[i].alias) == 0)
			name = pt_aliases[i].name;
	for (size_t i = 0; i < NELEM(pt_keys); i++)
		if (strcmp(name, pt_keys[i].name) == 0) {
			*idx = i;
			return &pt_keys[i];
		}
	return NULL;
}

/* Digits only, <= max.  0 or -1. */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A tag: digits with an optional "++" (advance on every match). */
static int parse_tag(const char *s, uint64_t *tag, bool *inc)
{
	char buf[32];
	size_t n = strlen(s);

	*inc = n > 2 && strcmp(s + n - 2, "++") == 0;
	if (*inc)
		n -= 2;
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return parse_uint(buf, UINT64_MAX, tag);
}

static int parse_bool(const char *s, bool *b)
{
	if (strcasecmp(s, "true") == 0)
		*b = true;
	else if (strcasecmp(s, "false") == 0)
		*b = false;
	else
		return -1;
	return 0;
}

static int set_filter(struct pt_rule *r, struct pt_line *l, const char *v)
{
	if (pcap_compile(l->dead, &r->filter, v, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(l->why, sizeof(l->why), "bad 'filter' value '%s': %s", v, pcap_geterr(l->dead));
		return -1;
	}
	r->has_filter = true;
	return 0;
}

/*
 * A value that names a label: printable; `commas` allows ',' (set_label
 * "k1%v1,k2%v2" as pmacct master; 1.7.7 refused the line), which a jump
 * label (label=, jeq=) may not hold.
 */
static int parse_name(const char *v, bool commas, char **out)
{
	if (!v[0] || (!commas && strchr(v, ',')) || strlen(v) >= PT_LABEL_MAX)
		return -1;
	for (const char *p = v; *p; p++)
		if (!isgraph((unsigned char)*p))
			return -1;
	*out = xstrdup(v);
	return 0;
}

/* Store a value of a set/flow-control key into r.  0 or -1 (l->why set). */
static int set_action(struct pt_rule *r, struct pt_line *l, const struct pt_key *k, const char *v)
{
	int rc = 0;
	bool b = false;

	switch (k->kind) {
	case PK_TAG:
		r->set_tag = true;
		rc = parse_tag(v, &r->tag, &r->tag_inc);
		break;
	case PK_TAG2:
		r->set_tag2 = true;
		rc = parse_tag(v, &r->tag2, &r->tag2_inc);
		break;
	case PK_SET_LABEL:
		rc = parse_name(v, true, &r->set_label);
		break;
	case PK_LABEL:
		rc = parse_name(v, false, &r->label);
		break;
	case PK_JEQ:
		rc = parse_name(v, false, &r->jeq);
		break;
	case PK_RETURN:
		rc = parse_bool(v, &b);
		r->ret = b;
		break;
	case PK_STACK:
		/* pmacct: '+' (and "sum") adds, "or" ORs; another operator is warned
		 * about and the line kept without stacking */
		if (strcmp(v, "+") == 0 || strcmp(v, "sum") == 0)
			r->stack = STACK_SUM;
		else if (strcmp(v, "or") == 0)
			r->stack = STACK_OR;
		else
			log_warnx(l->o->who, "[%s] Unknown STACK operator: '%s'. Ignoring.", l->path, v);
		break;
	case PK_FILTER:
		return set_filter(r, l, v);
	default:
		rc = -1;
		break;
	}
	if (rc < 0)
		snprintf(l->why, sizeof(l->why), "invalid value '%s' for key '%s'", v, k->name);
	return rc;
}

/* Store a match key into r.  0 or -1 (l->why set). */
static int set_cond(struct pt_rule *r, struct pt_line *l, const struct pt_key *k, const char *v)
{
	struct pt_cond c;
	int rc = 0;
	bool b = false;

	memset(&c, 0, sizeof(c));
	c.field = k->field;
	if (k->neg_ok && v[0] == '-') {
		c.neg = true;
		v++;
	}
	switch (k->kind) {
	case PK_UINT: rc = parse_uint(v, k->max, &c.n); break;
	case PK_ADDR: rc = fr_ip_parse(v, &c.ip); break;
	case PK_NET: rc = prefix_parse(v, &c.ip, &c.plen); break;
	case PK_MAC: rc = text_parse_mac(v, c.mac); break;
	case PK_BOOL: rc = parse_bool(v, &b); c.n = b; break;
	case PK_TEXT: rc = v[0] ? 0 : -1; break;
	default: rc = -1; break;
	}
	if (rc < 0) {
		snprintf(l->why, sizeof(l->why), "invalid value '%s' for key '%s'", v, k->name);
		return -1;
	}
	/* pmacctd compares only what 1.7.7 compares; the rest is parsed and kept for nf/sfacctd */
	if (l->o->daemon == PT_PMACCTD && k->pm == PM_NOOP)
		return 0;
	if (c.field == PF_NONE)
		return 0;
	if (r->nc == PT_MAX_CONDS) {
		snprintf(l->why, sizeof(l->why), "too many keys");
		return -1;
	}
	r->c[r->nc++] = c;
	return 0;
}

/* One key=value token of line l into rule r.  0 or -1 (l->why set). */
static int rule_add(struct pt_rule *r, struct pt_line *l, const char *key, const char *v)
{
	size_t idx;
	const struct pt_key *k = pt_key_find(key, &idx);

	if (!k) {
		snprintf(l->why, sizeof(l->why), "unknown key '%s'", key);
		return -1;
	}
	if (l->o->daemon == PT_PMACCTD && k->pm == PM_REJECT) {
		snprintf(l->why, sizeof(l->why), "%s", k->pm_msg);
		return -1;
	}
	if (r->seen & (1ULL << idx)) {
		snprintf(l->why, sizeof(l->why), "multiple '%s' clauses part of the same statement",
		    k->name);
		return -1;
	}
	r->seen |= 1ULL << idx;
	if (k->kind <= PK_FILTER)
		return set_action(r, l, k, v);
	return set_cond(r, l, k, v);
}

static void rule_fini(struct pt_rule *r)
{
	if (r->has_filter)
		pcap_freecode(&r->filter);
	free(r->set_label);
	free(r->label);
	free(r->jeq);
	memset(r, 0, sizeof(*r));
}

/*
 * Split a row into key=value tokens separated by blanks.  A value may be
 * quoted with ' or " (filters hold blanks).  Calls rule_add for each.
 * 0, or -1 with l->why set.
 */
static int parse_line(char *s, struct pt_rule *r, struct pt_line *l)
{
	struct mapfile_kv kv;
	enum mapfile_tok t;

	while ((t = mapfile_kv_next(&s, MAPFILE_QUOTES, &kv)) != MAPFILE_TOK_END) {
		if (t == MAPFILE_TOK_QUOTE) {
			snprintf(l->why, sizeof(l->why), "unterminated quote");
			return -1;
		}
		if (t != MAPFILE_TOK_KV || !kv.val[0]) {
			snprintf(l->why, sizeof(l->why), "malformed line");
			return -1;
		}
		if (rule_add(r, l, kv.key, kv.val) < 0)
			return -1;
	}
	return 0;
}

/* Checks that need the whole line, as pmacct's load_id_file makes them. */
static int rule_check(const struct pt_rule *r, struct pt_line *l)
{
	if (r->set_tag && r->set_tag2 && r->set_label) {
		snprintf(l->why, sizeof(l->why),
		    "set_tag (id), set_tag2 (id2) and set_label are mutual exclusive");
		return -1;
	}
	return 0;
}

/* Jumps go forward only, to the first rule after the jumping one with that label ("next": the next rule). */
static void resolve_jumps(struct pt_map *m, const char *path, const char *who)
{
	for (size_t i = 0; i < m->n; i++) {
		struct pt_rule *r = &m->r[i];
		r->jeq_to = -1;
		if (!r->jeq)
			continue;
		if (strcmp(r->jeq, "next") == 0) {
			r->jeq_to = (long)i + 1;
			continue;
		}
		for (size_t j = i + 1; j < m->n && r->jeq_to < 0; j++)
			if (m->r[j].label && strcmp(m->r[j].label, r->jeq) == 0)
				r->jeq_to = (long)j;
		if (r->jeq_to < 0)
			log_warnx(who, "[%s:%u] Unresolved label '%s'. Ignoring it.", path, r->line, r->jeq);
	}
}

/* Parse the current row of mf into the next rule of m.  Logs and returns -1 when the row is skipped. */
static int load_line(struct pt_map *m, struct pt_line *l, struct mapfile *mf, char *row,
    size_t row_len)
{
	struct pt_rule *r = &m->r[m->n];

	/* as pmacct: a row must fit maps_row_len with its newline and NUL */
	if (mapfile_too_long(mf, row_len)) {
		mapfile_warn(mf, l->o->who, "line too long (max %zu chars). Ignored.", row_len);
		return -1;
	}
	memset(r, 0, sizeof(*r));
	r->line = mf->line;
	if (parse_line(row, r, l) < 0 || rule_check(r, l) < 0) {
		mapfile_warn(mf, l->o->who, "%s. Line ignored.", l->why);
		rule_fini(r);
		return -1;
	}
	if (r->ret)
		mapfile_warn(mf, l->o->who, "RETURN is in the process of being discontinued.");
	m->n++;
	return 0;
}

struct pt_map *pretag_load(const char *path, const struct pt_opts *o, char *err, size_t errlen)
{
	size_t max = o->max_entries ? o->max_entries : PT_DEFAULT_ENTRIES;
	size_t row_len = o->row_len >= 3 ? o->row_len : PT_DEFAULT_ROW_LEN;
	struct pt_line l = { .path = path, .o = o };
	struct mapfile mf;
	char *row;

	if (mapfile_init(&mf, path) < 0) {
		snprintf(err, errlen, "[%s] cannot open the map: %s", path, strerror(errno));
		return NULL;
	}
	l.dead = pcap_open_dead(o->linktype, o->snaplen > 0 ? o->snaplen : 65535);
	if (!l.dead) {
		mapfile_fini(&mf);
		snprintf(err, errlen, "[%s] pcap_open_dead failed", path);
		return NULL;
	}
	struct pt_map *m = xcalloc(1, sizeof(*m));
	m->r = xcalloc(max, sizeof(*m->r));
	while ((row = mapfile_next(&mf))) {
		if (m->n == max) {
			log_warnx(o->who, "[%s] file cut to the first %zu entries. Number of entries can "
			    "be configured via 'maps_entries'.", path, max);
			break;
		}
		load_line(m, &l, &mf, row, row_len);
	}
	mapfile_fini(&mf);
	pcap_close(l.dead);
	resolve_jumps(m, path, o->who);
	return m;
}

void pretag_free(struct pt_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		rule_fini(&m->r[i]);
	free(m->r);
	free(m);
}

size_t pretag_count(const struct pt_map *m)
{
	return m ? m->n : 0;
}

static bool addr_eq(const struct fr_ip *a, const struct fr_ip *b)
{
	return a->af == b->af && memcmp(a->a, b->a, a->af == 4 ? 4 : 16) == 0;
}

/* Does the record satisfy c (before negation)? */
static bool cond_holds(const struct pt_cond *c, const struct flow_rec *rec)
{
	const struct flow_key *k = &rec->k;

	switch (c->field) {
	case PF_IN: return c->n == k->in_iface;
	case PF_OUT: return c->n == k->out_iface;
	case PF_DIRECTION: return c->n == rec->direction;
	case PF_SRC_AS: return c->n == k->src_as;
	case PF_DST_AS: return c->n == k->dst_as;
	case PF_PEER_SRC_AS: return c->n == k->peer_src_as;
	case PF_PEER_DST_AS: return c->n == k->peer_dst_as;
	case PF_VLAN: return c->n == k->vlan;
	case PF_SAMPLING_RATE: return c->n == k->sampling_rate;
	case PF_SRC_MAC: return memcmp(c->mac, k->src_mac, 6) == 0;
	case PF_DST_MAC: return memcmp(c->mac, k->dst_mac, 6) == 0;
	case PF_SRC_NET: return prefix_match(&c->ip, c->plen, &k->src_ip);
	case PF_DST_NET: return prefix_match(&c->ip, c->plen, &k->dst_ip);
	case PF_BGP_NEXTHOP: return addr_eq(&c->ip, &k->peer_dst_ip);
	case PF_PEER_SRC_IP: return prefix_match(&c->ip, c->plen, &k->peer_src_ip);	/* the exporter / sFlow agent */
	case PF_NONE: return true;
	}
	return true;
}

static bool rule_matches(const struct pt_rule *r, const struct flow_rec *rec,
    const struct pcap_pkthdr *h, const uint8_t *pkt)
{
	for (int i = 0; i < r->nc; i++)
		if ((r->c[i].field == PF_DIRECTION && !(rec->flags & FR_F_DIR)) ||
		    cond_holds(&r->c[i], rec) == r->c[i].neg)	/* no direction: no match (1.7.7) */
			return false;
	if (r->has_filter)
		return h && pkt && pcap_offline_filter(&r->filter, h, pkt);
	return true;
}

static uint64_t stack_op(enum pt_stack s, uint64_t now, uint64_t before)
{
	switch (s) {
	case STACK_SUM: return now + before;
	case STACK_OR: return now | before;
	case STACK_NONE: break;
	}
	return now;
}

/* Apply a matched rule's set_* keys to res. */
static void rule_apply(struct pt_rule *r, struct pt_result *res)
{
	if (r->set_tag) {
		res->tag = stack_op(r->stack, r->tag, res->tag);
		res->have_tag = true;
		if (r->tag_inc)
			r->tag++;
	}
	if (r->set_tag2) {
		res->tag2 = stack_op(r->stack, r->tag2, res->tag2);
		res->have_tag2 = true;
		if (r->tag2_inc)
			r->tag2++;
	}
	if (r->set_label) {
		size_t used = strlen(res->label);
		if (used)
			snprintf(res->label + used, sizeof(res->label) - used, ",%s", r->set_label);
		else
			snprintf(res->label, sizeof(res->label), "%s", r->set_label);
	}
}

int pretag_eval(struct pt_map *m, const struct flow_rec *rec, const struct pcap_pkthdr *h,
    const uint8_t *pkt, struct pt_result *out, int max_out)
{
	int nout = 0;

	memset(&out[0], 0, sizeof(out[0]));
	for (size_t x = 0; m && x < m->n; x++) {
		struct pt_rule *r = &m->r[x];
		if (!rule_matches(r, rec, h, pkt))
			continue;
		rule_apply(r, &out[nout]);
		if (r->jeq_to < 0)
			break;		/* the first full match wins */
		if (r->ret && nout + 1 < max_out) {
			/* `return`: account what we have, then go on from the label untagged */
			nout++;
			memset(&out[nout], 0, sizeof(out[nout]));
		}
		x = (size_t)r->jeq_to - 1;
	}
	return nout + 1;
}
