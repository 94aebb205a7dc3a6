/* SPDX-License-Identifier: BSD-3-Clause */
/* output.c: render aggregates as pmacct's formatted, CSV and JSON text. */
#include "output.h"

#include "lib/text.h"
#include "lib/timefmt.h"
#include "model/prim_value.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

const char *out_proto_name(uint8_t proto, char *buf, size_t len)
{
	return text_proto_fmt(proto, buf, len);
}

/* Reorder the n ids stably by rank(id). */
static void reorder(uint8_t *ids, int n, int (*rank)(int id))
{
	for (int i = 1; i < n; i++) {
		uint8_t v = ids[i];
		int j = i;
		while (j > 0 && rank(ids[j - 1]) > rank(v)) {
			ids[j] = ids[j - 1];
			j--;
		}
		ids[j] = v;
	}
}

/*
 * Where id sits among the columns of `order` (which covers ids lo..hi), else
 * its table place; every custom primitive ranks the same.
 */
static int rank_in(int id, const enum prim_id *order, size_t n, int lo, int hi)
{
	if (id >= P_CUSTOM_0 && id <= P_CUSTOM_LAST)
		return P_CUSTOM_0 * 2 + 1;	/* one rank: they keep the aggregate's order */
	if (id < lo || id > hi)
		return id * 2 + 1;
	for (size_t i = 0; i < n; i++)
		if ((int)order[i] == id)
			return lo * 2 + 1 + (int)i;	/* lo..hi hold exactly these n ids */
	return id * 2 + 1;
}

/*
 * The client's formatted/CSV order (pmacct 1.7.7): label before class,
 * in_iface/out_iface right after the tags and label, the LCOMMS pair after the ECOMMS pair.
 */
static int client_rank(int id)
{
	static const enum prim_id bgp[] = { P_STD_COMM, P_EXT_COMM, P_SRC_STD_COMM, P_SRC_EXT_COMM,
		P_LRG_COMM, P_SRC_LRG_COMM };
	if (id == P_LABEL)
		return P_CLASS * 2;	/* before class: 1.7.7's CSV -a title */
	if (id == P_IN_IFACE || id == P_OUT_IFACE)
		return P_LABEL * 2 + 1 + (id == P_OUT_IFACE);	/* between label and src_mac */
	return rank_in(id, bgp, NELEM(bgp), P_STD_COMM, P_SRC_LRG_COMM) + (id > P_LABEL ? 4 : 0);
}

/*
 * JSON's order (pmacct's compose_json): the destination's BGP attributes
 * after as_dst, the source's after peer_ip_dst.
 */
static int json_rank(int id)
{
	static const enum prim_id bgp[] = {
		P_STD_COMM, P_EXT_COMM, P_LRG_COMM, P_AS_PATH, P_LOCAL_PREF, P_MED, P_DST_ROA,
		P_PEER_SRC_AS, P_PEER_DST_AS, P_PEER_SRC_IP, P_PEER_DST_IP,
		P_SRC_STD_COMM, P_SRC_EXT_COMM, P_SRC_LRG_COMM, P_SRC_AS_PATH, P_SRC_LOCAL_PREF, P_SRC_MED,
		P_SRC_ROA,
	};
	_Static_assert(P_PEER_DST_IP - P_STD_COMM + 1 == 18, "json_rank: BGP columns moved");
	if (id >= P_SRC_HOST_COUNTRY && id <= P_DST_HOST_COORDS)
		return P_DST_PORT * 2 + 2;	/* GeoIP: after port_dst, before tcp_flags (1.7.7) */
	return rank_in(id, bgp, NELEM(bgp), P_STD_COMM, P_PEER_DST_IP);
}

/*
 * Custom primitives (one run of columns in table order) in the order the
 * aggregate named them, as pmacct prints them; any the order does not
 * know (a set built without it) follow in slot order.
 */
static void custom_order(struct out_cols *c, const struct prim_set *set)
{
	uint8_t run[PRIM_CUSTOM_MAX];
	int first = -1, n = 0, w = 0;

	for (int i = 0; i < c->n; i++)
		if (c->ids[i] >= P_CUSTOM_0 && c->ids[i] <= P_CUSTOM_LAST) {
			if (first < 0)
				first = i;
			n++;
		}
	if (n < 2)
		return;
	for (int k = 0; k < PRIM_CUSTOM_MAX && set->corder[k]; k++) {
		int id = P_CUSTOM_0 + set->corder[k] - 1;
		for (int i = first; i < first + n; i++)
			if (c->ids[i] == id)
				run[w++] = (uint8_t)id;
	}
	for (int i = first; i < first + n; i++) {
		bool seen = false;
		for (int k = 0; k < w; k++)
			seen = seen || run[k] == c->ids[i];
		if (!seen)
			run[w++] = c->ids[i];
	}
	memcpy(c->ids + first, run, (size_t)n);
}

/*
 * The columns pmacct 1.7.7's client prints with -a whatever the table
 * aggregates (FLOWS too): with -a ours prints these, and the others only
 * when the table aggregates them, so that a 1.7.7 configuration shows
 * exactly 1.7.7's columns.
 */
static const char *const client_all[] = {
	"tag", "tag2", "class", "in_iface", "out_iface", "src_mac", "dst_mac", "vlan", "cos", "etype",
	"src_as", "dst_as", "std_comm", "src_std_comm", "as_path", "src_as_path", "local_pref",
	"src_local_pref", "med", "src_med", "src_roa", "dst_roa", "peer_src_as", "peer_dst_as",
	"peer_src_ip", "peer_dst_ip", "src_host", "dst_host", "src_mask", "dst_mask", "src_port",
	"dst_port", "tcpflags", "proto", "tos", "src_host_country", "dst_host_country",
	"src_host_pocode", "dst_host_pocode", "src_host_coords", "dst_host_coords", "sampling_rate",
	"sampling_direction", "post_nat_src_host", "post_nat_dst_host", "post_nat_src_port",
	"post_nat_dst_port", "nat_event", "mpls_label_top", "mpls_label_bottom", "mpls_stack_depth",
	"tunnel_src_mac", "tunnel_dst_mac", "tunnel_src_host", "tunnel_dst_host", "tunnel_proto",
	"tunnel_tos", "tunnel_src_port", "tunnel_dst_port", "timestamp_start", "timestamp_end",
	"timestamp_arrival", "timestamp_export", "export_proto_seqno", "export_proto_version",
	"export_proto_sysid",
};

static bool in_client_all(const struct prim_desc *d)
{
	for (size_t k = 0; k < NELEM(client_all); k++)
		if (strcmp(client_all[k], d->name) == 0)
			return true;
	return false;
}

void out_cols_init(struct out_cols *c, const struct prim_registry *reg, const struct prim_set *set,
    bool all, bool client)
{
	memset(c, 0, sizeof(*c));
	c->reg = reg;
	for (int i = 0; i < P_COUNT; i++) {
		const struct prim_desc *d = prim_desc_of(reg, i);
		bool sel = prim_has(set, (enum prim_id)i);
		if (i == P_FLOWS) {
			c->flows = sel || all;
			continue;
		}
		if (i == P_NONE)
			continue;
		/* a column shows when selected, or when a sum_* aliases onto it */
		for (int j = 0; !sel && j < P_COUNT; j++)
			sel = prim_has(set, (enum prim_id)j) && (int)prim_desc_of(reg, j)->alias == i &&
			    j != i;
		if ((sel || (all && !(d->flags & PRIM_HIDDEN) && in_client_all(d))) && (int)d->alias == i)
			c->ids[c->n++] = (uint8_t)i;
	}
	c->tcpflags = prim_has(set, P_TCPFLAGS);
	custom_order(c, set);
	memcpy(c->jids, c->ids, (size_t)c->n);
	reorder(c->jids, c->n, json_rank);
	if (client)
		reorder(c->ids, c->n, client_rank);
	for (int i = 0; i < c->n; i++)
		c->desc[i] = prim_desc_of(reg, c->ids[i]);
}

void out_opts_from_cfg(struct out_opts *o, const struct plugin_cfg *pc, const struct core_cfg *cc)
{
	memset(o, 0, sizeof(*o));
	o->fmt = pc->output;
	snprintf(o->sep, sizeof(o->sep), "%s", pc->output_separator[0] ? pc->output_separator : ",");
	o->num_protos = pc->num_protos;
	o->ts_utc = cc->timestamps_utc;
	o->ts_rfc3339 = cc->timestamps_rfc3339;
	o->ts_secs = cc->timestamps_secs;
	o->ts_since_epoch = cc->timestamps_since_epoch;
	o->json_event_type = true;
	o->stamps = pc->history.n != 0;
	o->tcpflags_array = pc->tcpflags_encode_as_array;
	o->mpls_array = pc->mpls_label_stack_encode_as_array;
	o->fwd_status_str = pc->fwd_status_encode_as_string;
	o->label_map = pc->label_encode_as_map;
	o->aspath_array = pc->as_path_encode_as_array;
	o->comms_array = pc->bgp_comms_encode_as_array;
}

unsigned out_ts_flags(const struct out_opts *o)
{
	return (o->ts_rfc3339 ? TF_RFC3339 : 0) | (o->ts_utc ? TF_UTC : 0) |
	    (o->ts_since_epoch ? TF_EPOCH : 0) | (o->ts_secs ? TF_SECS : 0);
}

static uint64_t key_uint(const struct prim_desc *d, const struct flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k + d->off;
	switch (d->len) {
	case 1: return *p;
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	case 8: { uint64_t v; memcpy(&v, p, 8); return v; }
	default: return 0;
	}
}

void out_writer_id(const char *tpl, const char *proc_name, long pid, char *out, size_t len)
{
	size_t o = 0;

	if (!tpl)
		tpl = "$proc_name/$writer_pid";
	while (*tpl && o + 1 < len) {
		int n;
		if (strncmp(tpl, "$proc_name", 10) == 0) {
			n = snprintf(out + o, len - o, "%s", proc_name);
			tpl += 10;
		} else if (strncmp(tpl, "$writer_pid", 11) == 0) {
			n = snprintf(out + o, len - o, "%ld", pid);
			tpl += 11;
		} else if (strncmp(tpl, "$pmacct_build", 13) == 0) {
			n = snprintf(out + o, len - o, "%s", PMACCT_NG_VERSION);
			tpl += 13;
		} else {
			out[o] = *tpl++;
			n = 1;
		}
		o += n > 0 ? (size_t)n : 0;
	}
	out[o < len ? o : len - 1] = '\0';
}

/* RFC 7270 forwardingStatus reason codes, as pmacct names them. */
static const struct { uint8_t code; const char *text; } fwd_reasons[] = {
	{ 64, "FORWARDED Unknown" }, { 65, "FORWARDED Fragmented" },
	{ 66, "FORWARDED Not Fragmented" }, { 128, "DROPPED Unknown" },
	{ 129, "DROPPED ACL deny" }, { 130, "DROPPED ACL drop" }, { 131, "DROPPED Unroutable" },
	{ 132, "DROPPED Adjacency" }, { 133, "DROPPED Fragmentation and DF set" },
	{ 134, "DROPPED Bad header checksum" }, { 135, "DROPPED Bad total Length" },
	{ 136, "DROPPED Bad header length" }, { 137, "DROPPED bad TTL" },
	{ 138, "DROPPED Policer" }, { 139, "DROPPED WRED" }, { 140, "DROPPED RPF" },
	{ 141, "DROPPED For us" }, { 142, "DROPPED Bad output interface" },
	{ 143, "DROPPED Hardware" }, { 192, "CONSUMED Unknown" },
	{ 193, "CONSUMED Punt Adjacency" }, { 194, "CONSUMED Incomplete Adjacency" },
	{ 195, "CONSUMED For us" },
};

const char *out_fwd_status_text(uint8_t v)
{
	for (size_t i = 0; i < NELEM(fwd_reasons); i++)
		if (fwd_reasons[i].code == v)
			return fwd_reasons[i].text;
	/* the status class (RFC 7270 4.12: the two high bits) without a known reason */
	static const char *const cls[4] = { "UNKNOWN Unclassified", "FORWARDED Unclassified",
		"DROPPED Unclassified", "CONSUMED Unclassified" };
	return cls[v >> 6];
}

/* Route distinguisher (RFC 4364 4.2) as pmacct prints it: type:administrator:assigned. */
static void rd_str(const uint8_t *rd, char *buf, size_t len)
{
	unsigned type = (unsigned)rd[0] << 8 | rd[1];
	uint32_t as4 = (uint32_t)rd[2] << 24 | (uint32_t)rd[3] << 16 | (uint32_t)rd[4] << 8 | rd[5];
	unsigned low16 = (unsigned)rd[6] << 8 | rd[7];

	switch (type) {
	case 0:
		snprintf(buf, len, "0:%u:%u", (unsigned)rd[2] << 8 | rd[3],
		    (uint32_t)rd[4] << 24 | (uint32_t)rd[5] << 16 | low16);
		break;
	case 1:
		snprintf(buf, len, "1:%u.%u.%u.%u:%u", rd[2], rd[3], rd[4], rd[5], low16);
		break;
	case 2:
		snprintf(buf, len, "2:%u:%u", as4, low16);
		break;
	case FR_RD_TYPE_VRFID:
		snprintf(buf, len, "vrfid:%u", (uint32_t)rd[4] << 24 | (uint32_t)rd[5] << 16 | low16);
		break;
	default:
		snprintf(buf, len, "unknown");
		break;
	}
}

/* Labels joined by '_' (pmacct's mpls_label_stack_to_str), or "" for none. */
static void mpls_stack_str(const struct fr_mpls_stack *st, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < st->n && i < FR_MPLS_STACK_MAX && o < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%u", i ? "_" : "", st->label[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

const char *out_rd_origin_text(uint8_t origin)
{
	return prim_value_rd_origin_text(origin);
}

/* An SRv6 segment list as text: "<index>-<address>" items joined by ','. */
static void srv6_str(const struct fr_srv6_list *l, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < l->n && i < FR_SRV6_MAX && o < len; i++) {
		inet_ntop(AF_INET6, l->seg[i], a, sizeof(a));
		int n = snprintf(buf + o, len - o, "%s%d-%s", i ? "," : "", i, a);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* Custom raw data: a length byte then the bytes, printed "0A-1B-2C" (pmacct's serialize_hex). */
static void raw_str(const uint8_t *p, size_t size, char *buf, size_t len)
{
	size_t n = p[0] < size ? p[0] : size - 1, o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o + 4 <= len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%02X", i ? "-" : "", p[1 + i]);
}

/* The declared length (4 or 16) of a custom primitive of semantics ip, d a row of reg. */
static unsigned custom_ip_len(const struct prim_registry *reg, const struct prim_desc *d)
{
	for (int i = 0; i < prim_custom_count(reg); i++)
		if (prim_desc_of(reg, P_CUSTOM_0 + i) == d)
			return prim_custom_get(reg, i)->len;
	return 4;
}

/* An address primitive; an address no record set (af 0) prints as pmacct's addr_to_str. */
static void ip_str(const struct prim_registry *reg, const struct prim_desc *d,
    const struct out_opts *o, const uint8_t *p, char *buf, size_t len)
{
	struct fr_ip ip;

	memcpy(&ip, p, sizeof(ip));
	if (ip.af == 6)
		inet_ntop(AF_INET6, ip.a, buf, (socklen_t)len);
	else if (ip.af == 4)
		inet_ntop(AF_INET, ip.a, buf, (socklen_t)len);
	else if (d->flags & PRIM_CUSTOM)	/* unset: the zero address of its length, as pmacct */
		snprintf(buf, len, "%s", custom_ip_len(reg, d) == 16 ? "::" : "0.0.0.0");
	else if (o->fmt == OUT_FORMATTED || o->fmt == OUT_EVENT_FORMATTED)
		/* unset, in formatted columns: print plugin "::", client "0" (1.7.7, verified) */
		snprintf(buf, len, "%s", o->client ? "0" : "::");
	else
		buf[0] = '\0';
}

/*
 * BGP text (as_path, communities) as pmacct 1.7.7 prints it: tokens joined
 * by '_' (by ' ' for SQL); empty is "" but in the client's formatted
 * columns, where an empty AS path is "^$" and no communities "0".
 */
static void bgp_str(const struct prim_desc *d, const char *s, const struct out_opts *o, char *buf,
    size_t len)
{
	size_t i = 0;

	if (!s[0] && o->client && (o->fmt == OUT_FORMATTED || o->fmt == OUT_EVENT_FORMATTED))
		s = d->fmt == PF_ASPATH ? "^$" : "0";
	for (; len && i < len - 1 && i < d->len && s[i]; i++)
		buf[i] = s[i] == ' ' && !o->bgp_spaces ? '_' : s[i];
	if (len)
		buf[i] = '\0';
}

/*
 * One of a coordinates primitive's two numbers (i 0: latitude, 1:
 * longitude): "%f" in CSV and formatted columns, in JSON as jansson
 * writes a real ("%.17g", ".0" added to a whole number), as pmacct.
 */
static size_t coord_text(const uint8_t *p, int i, bool json, char *buf, size_t len)
{
	double v;

	memcpy(&v, p + (size_t)i * sizeof(double), sizeof(v));
	int n = snprintf(buf, len, json ? "%.17g" : "%f", v);
	if (n < 0 || (size_t)n >= len)
		return n < 0 ? 0 : len - 1;
	if (json && !strpbrk(buf, ".eEnN") && (size_t)n + 2 < len) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	return (size_t)n;
}

/* The title or JSON key of a coordinates primitive's longitude column: its latitude one's, LAT -> LON. */
static const char *coord_lon_name(const char *lat, char *buf, size_t len)
{
	snprintf(buf, len, "%s", lat);
	char *p = strstr(buf, "LAT");
	if (p)
		memcpy(p, "LON", 3);
	else if ((p = strstr(buf, "lat")) != NULL)
		memcpy(p, "lon", 3);
	return buf;
}

const char *out_value(const struct prim_registry *reg, const struct prim_desc *d,
    const struct flow_key *k, uint8_t tcp_flags, const struct out_opts *o, char *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)k + d->off;

	switch (d->fmt) {
	case PF_UINT:
		snprintf(buf, len, "%" PRIu64, key_uint(d, k));
		break;
	case PF_HEX:
		snprintf(buf, len, "%" PRIx64, key_uint(d, k));
		break;
	case PF_MAC:
		snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4], p[5]);
		break;
	case PF_IP:
		ip_str(reg, d, o, p, buf, len);
		break;
	case PF_PROTO: {
		char num[8];	/* out_proto_name writes an unnamed number here, never into buf */
		if (o->num_protos)
			snprintf(buf, len, "%u", *p);
		else
			snprintf(buf, len, "%s", out_proto_name(*p, num, sizeof(num)));
		break;
	}
	case PF_TCPFLAGS:
		snprintf(buf, len, "%u", tcp_flags);
		break;
	case PF_TS: {
		struct fr_ts ts;
		memcpy(&ts, p, sizeof(ts));
		timefmt_ts(buf, len, ts.sec, (uint32_t)ts.usec, out_ts_flags(o));
		break;
	}
	case PF_STR:
		snprintf(buf, len, "%.*s", (int)d->len, (const char *)p);
		break;
	case PF_CLASS:		/* pmacct: an unclassified flow is "unknown" in every output */
		snprintf(buf, len, "%.*s", (int)d->len, p[0] ? (const char *)p : "unknown");
		break;
	case PF_MPLS_STACK: {
		struct fr_mpls_stack st;
		memcpy(&st, p, sizeof(st));
		mpls_stack_str(&st, buf, len);
		break;
	}
	case PF_RD:
		rd_str(p, buf, len);
		break;
	case PF_RD_ORIGIN:
		snprintf(buf, len, "%s", out_rd_origin_text(*p));
		break;
	case PF_FWD_STATUS:
		if (o->fwd_status_str && o->fmt == OUT_JSON)	/* pmacct: JSON (and Avro) only */
			snprintf(buf, len, "%s", out_fwd_status_text(*p));
		else
			snprintf(buf, len, "%u", *p);
		break;
	case PF_RAW:
		raw_str(p, d->len, buf, len);
		break;
	case PF_SRV6_LIST: {
		struct fr_srv6_list l;
		memcpy(&l, p, sizeof(l));
		srv6_str(&l, buf, len);
		break;
	}
	case PF_COMMS:
	case PF_ASPATH:
		bgp_str(d, (const char *)p, o, buf, len);
		break;
	case PF_COORDS: {	/* both numbers, as one CSV pair (the renderers print two columns) */
		size_t n = coord_text(p, 0, false, buf, len);
		if (n + 1 < len) {
			buf[n] = ',';
			coord_text(p, 1, false, buf + n + 1, len - n - 1);
		}
		break;
	}
	case PF_ROA:
		snprintf(buf, len, "%c", *p ? *p : 'u');
		break;
	case PF_SAMP_DIR:
		snprintf(buf, len, "%s", *p == FR_SAMP_DIR_INGRESS ? "i" : *p == FR_SAMP_DIR_EGRESS ? "e" : "u");
		break;
	case PF_NONE:
		buf[0] = '\0';
		break;
	}
	return buf;
}

static bool is_event(const struct out_opts *o)
{
	return o->fmt == OUT_EVENT_FORMATTED || o->fmt == OUT_EVENT_CSV;
}

static bool is_formatted(const struct out_opts *o)
{
	return o->fmt == OUT_FORMATTED || o->fmt == OUT_EVENT_FORMATTED;
}

void out_header(FILE *f, const struct out_cols *c, const struct out_opts *o)
{
	static const char *const counters[] = { "PACKETS", "FLOWS", "BYTES" };
	bool fm = is_formatted(o);
	int k = 0;

	if (o->fmt == OUT_JSON)
		return;
	for (int i = 0; i < c->n; i++, k++) {
		const struct prim_desc *d = prim_desc_of(c->reg, c->ids[i]);
		if (d->flags & PRIM_JSON_ONLY) {
			k--;
			continue;
		}
		if (d->fmt == PF_COORDS) {	/* two columns: latitude, longitude */
			char lon[32];
			coord_lon_name(d->title, lon, sizeof(lon));
			if (fm)
				fprintf(f, "%-*s%-*s", d->width, d->title, d->width, lon);
			else
				fprintf(f, "%s%s%s%s", k ? o->sep : "", d->title, o->sep, lon);
			k++;
		} else if (fm && (d->flags & PRIM_CUSTOM))
			fprintf(f, "%-*s  ", d->width - 2, d->title);	/* pmacct: "%s  " */
		else if (fm)
			fprintf(f, "%-*s", d->width, d->title);
		else
			fprintf(f, "%s%s", k ? o->sep : "", d->title);
	}
	if (c->stitch) {
		if (fm)
			fprintf(f, "%-31s%-31s", "TIMESTAMP_MIN", "TIMESTAMP_MAX");
		else
			fprintf(f, "%sTIMESTAMP_MIN%sTIMESTAMP_MAX", k++ ? o->sep : "", o->sep);
	}
	for (int i = 0; !is_event(o) && i < 3; i++) {
		if (i == 1 && !c->flows)
			continue;
		if (fm)
			fprintf(f, i < 2 ? "%-22s" : "%s", counters[i]);
		else
			fprintf(f, "%s%s", k++ ? o->sep : "", counters[i]);
	}
	fputc('\n', f);
}

void out_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static bool json_quoted(const struct prim_desc *d)
{
	if (d->flags & PRIM_CUSTOM)
		return true;	/* pmacct writes every custom primitive as a string */
	/* ip_proto is a string in pmacct 1.7.7's JSON, also as a number (print_num_protos / -u) */
	return d->fmt != PF_UINT;
}

static bool is_custom(int id)
{
	return id >= P_CUSTOM_0 && id <= P_CUSTOM_LAST;
}

/* The JSON column of timestamp_export, or -1. */
static int ts_export_col(const struct out_cols *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->jids[i] == P_TS_EXPORT)
			return i;
	return -1;
}

/*
 * timestamp_min / timestamp_max as text: as timestamp_start, but always
 * with microseconds (pmacct 1.7.7 applies timestamps_secs to the
 * primitives only, verified).
 */
static void stitch_str(const struct out_opts *o, const struct fr_ts *ts, char *buf, size_t len)
{
	timefmt_ts(buf, len, ts->sec, (uint32_t)ts->usec, out_ts_flags(o) & ~(unsigned)TF_SECS);
}

/*
 * A row rendered into memory and written with one fwrite (one per row in
 * practice; a row longer than the buffer goes out in pieces).
 */
struct rowbuf {
	FILE *f;
	size_t n;
	char b[2048];
};

static void rb_flush(struct rowbuf *rb)
{
	if (rb->n)
		fwrite(rb->b, 1, rb->n, rb->f);
	rb->n = 0;
}

static void rb_put(struct rowbuf *rb, const char *s, size_t len)
{
	if (rb->n + len > sizeof(rb->b)) {
		rb_flush(rb);
		if (len > sizeof(rb->b)) {
			fwrite(s, 1, len, rb->f);
			return;
		}
	}
	memcpy(rb->b + rb->n, s, len);
	rb->n += len;
}

/* s left-aligned in width columns, as "%-*s". */
static void rb_pad(struct rowbuf *rb, const char *s, size_t len, int width)
{
	static const char spaces[] = "                                ";
	rb_put(rb, s, len);
	for (size_t pad = width > 0 && (size_t)width > len ? (size_t)width - len : 0; pad;) {
		size_t m = pad < sizeof(spaces) - 1 ? pad : sizeof(spaces) - 1;
		rb_put(rb, spaces, m);
		pad -= m;
	}
}

/* v in decimal into buf (at least 21 bytes, NUL-terminated); returns the length. */
static size_t fmt_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

/* a dotted quad into buf (at least 16 bytes); returns the length. */
static size_t fmt_ipv4(char *buf, const uint8_t *a)
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (i)
			buf[n++] = '.';
		if (v >= 100)
			buf[n++] = (char)('0' + v / 100);
		if (v >= 10)
			buf[n++] = (char)('0' + v / 10 % 10);
		buf[n++] = (char)('0' + v % 10);
	}
	buf[n] = '\0';
	return n;
}

/* out_value with the common types done without stdio; *len gets the text's length. */
static const char *fast_value(const struct prim_registry *reg, const struct prim_desc *d,
    const struct flow_key *k, uint8_t tcp_flags, const struct out_opts *o, char *buf, size_t size,
    size_t *len)
{
	const uint8_t *p = (const uint8_t *)k + d->off;

	switch (d->fmt) {
	case PF_UINT:
		*len = fmt_u64(buf, key_uint(d, k));
		return buf;
	case PF_TCPFLAGS:
		*len = fmt_u64(buf, tcp_flags);
		return buf;
	case PF_IP:
		if (p[offsetof(struct fr_ip, af)] == 4) {
			*len = fmt_ipv4(buf, p + offsetof(struct fr_ip, a));
			return buf;
		}
		break;
	case PF_PROTO: {
		const char *name = o->num_protos ? NULL : text_proto_name(*p);
		if (!name) {
			*len = fmt_u64(buf, *p);
			return buf;
		}
		*len = strlen(name);
		return name;
	}
	default:
		break;
	}
	out_value(reg, d, k, tcp_flags, o, buf, size);
	*len = strlen(buf);
	return buf;
}

/* s as a quoted JSON string, escaping quotes, backslashes and control characters. */
static void rb_json_str(struct rowbuf *rb, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	rb_put(rb, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch != '"' && ch != '\\' && ch >= 0x20)
			continue;
		rb_put(rb, s + run, i - run);
		run = i + 1;
		if (ch == '"' || ch == '\\') {
			char esc[2] = { '\\', (char)ch };
			rb_put(rb, esc, 2);
		} else {
			char esc[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
			rb_put(rb, esc, 6);
		}
	}
	rb_put(rb, s + run, len - run);
	rb_put(rb, "\"", 1);
}

static void rb_str(struct rowbuf *rb, const char *s)
{
	rb_put(rb, s, strlen(s));
}

/* tcp_flags as pmacct's tcpflags_encode_as_array: names of the set flags, 1..63 only. */
static void json_tcpflags_array(struct rowbuf *rb, uint8_t v)
{
	static const char *const names[6] = { "URG", "ACK", "PSH", "RST", "SYN", "FIN" };
	const char *sep = "";

	rb_put(rb, "[", 1);
	for (int i = 0; v >= 1 && v <= 63 && i < 6; i++)
		if (v & (1u << (5 - i))) {
			rb_str(rb, sep);
			rb_put(rb, "\"", 1);
			rb_str(rb, names[i]);
			rb_put(rb, "\"", 1);
			sep = ", ";
		}
	rb_put(rb, "]", 1);
}

/* mpls_label_stack as pmacct's mpls_label_stack_encode_as_array: "<index>-<label>" items. */
static void json_mpls_array(struct rowbuf *rb, const struct fr_mpls_stack *st)
{
	char item[48];

	rb_put(rb, "[", 1);
	for (int i = 0; i < st->n && i < FR_MPLS_STACK_MAX; i++) {
		int n = snprintf(item, sizeof(item), "%s\"%d-%u\"", i ? ", " : "", i, st->label[i]);
		rb_put(rb, item, n > 0 ? (size_t)n : 0);
	}
	rb_put(rb, "]", 1);
}

/* The most key/value pairs a label map holds: a label of FR_LABEL_MAX chars has fewer. */
#define LABEL_MAP_MAX (FR_LABEL_MAX / 2)

/*
 * The label as pmacct master's pre_tag_label_encode_as_map (checked against
 * it): '%' counts as ',', empty tokens are skipped, consecutive tokens pair
 * up as key and value (an odd last token is dropped), and a repeated key
 * takes the later value at the place of its first appearance.
 */
static void json_label_map(struct rowbuf *rb, const char *label)
{
	char copy[FR_LABEL_MAX];
	const char *tok[LABEL_MAP_MAX * 2];
	int idx[LABEL_MAP_MAX];		/* pair i: token index of its key */
	int val[LABEL_MAP_MAX];		/* pair i: token index of its value */
	int nt = 0, np = 0;
	char *save = NULL;

	snprintf(copy, sizeof(copy), "%s", label);
	for (char *p = copy; *p; p++)
		if (*p == '%')
			*p = ',';
	for (char *t = strtok_r(copy, ",", &save); t && nt < LABEL_MAP_MAX * 2;
	    t = strtok_r(NULL, ",", &save))
		tok[nt++] = t;
	for (int i = 0; i + 1 < nt; i += 2) {
		int j = 0;
		while (j < np && strcmp(tok[idx[j]], tok[i]) != 0)
			j++;
		if (j == np)
			idx[np++] = i;
		val[j] = i + 1;
	}
	rb_put(rb, "{", 1);
	for (int j = 0; j < np; j++) {
		if (j)
			rb_put(rb, ", ", 2);
		rb_json_str(rb, tok[idx[j]], strlen(tok[idx[j]]));
		rb_put(rb, ": ", 2);
		rb_json_str(rb, tok[val[j]], strlen(tok[val[j]]));
	}
	rb_put(rb, "}", 1);
}

/* srv6_seg_ipv6_list as pmacct writes it: an array of "<index>-<IPv6 address>" items. */
static void json_srv6_array(struct rowbuf *rb, const struct fr_srv6_list *l)
{
	char a[INET6_ADDRSTRLEN], item[INET6_ADDRSTRLEN + 16];

	rb_put(rb, "[", 1);
	for (int i = 0; i < l->n && i < FR_SRV6_MAX; i++) {
		inet_ntop(AF_INET6, l->seg[i], a, sizeof(a));
		int n = snprintf(item, sizeof(item), "%s\"%d-%s\"", i ? ", " : "", i, a);
		rb_put(rb, item, n > 0 ? (size_t)n : 0);
	}
	rb_put(rb, "]", 1);
}

/* BGP text as a JSON array of its space-separated tokens (as_path/bgp_comms_encode_as_array). */
static void json_bgp_array(struct rowbuf *rb, const struct prim_desc *d, const char *s)
{
	size_t n = strnlen(s, d->len), i = 0;
	const char *sep = "";

	rb_put(rb, "[", 1);
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != ' ')
			j++;
		if (j > i) {
			rb_str(rb, sep);
			rb_json_str(rb, s + i, j - i);
			sep = ", ";
		}
		i = j + 1;
	}
	rb_put(rb, "]", 1);
}

/* A coordinates primitive's value in JSON: <lat>, "lon_ip_src": <lon> (its key written). */
static __attribute__((noinline)) void json_coords(struct rowbuf *rb, const struct prim_desc *d,
    const struct flow_key *k)
{
	char buf[64], lon[32];

	rb_put(rb, buf, coord_text((const uint8_t *)k + d->off, 0, true, buf, sizeof(buf)));
	rb_str(rb, ", \"");
	rb_str(rb, coord_lon_name(d->json, lon, sizeof(lon)));
	rb_put(rb, "\": ", 3);
	rb_put(rb, buf, coord_text((const uint8_t *)k + d->off, 1, true, buf, sizeof(buf)));
}

/* One "key": value pair of a JSON row. */
static void json_field(struct rowbuf *rb, const struct out_cols *c, int id, const struct flow_key *k,
    const struct out_counters *cnt, const struct out_opts *o, const char *sep)
{
	const struct prim_desc *d = prim_desc_of(c->reg, id);
	char buf[FR_CUSTOM_AREA * 3 + 64];
	size_t len;

	rb_str(rb, sep);
	rb_put(rb, "\"", 1);
	rb_str(rb, o->client && d->cjson ? d->cjson : d->json);
	rb_put(rb, "\": ", 3);
	if ((d->fmt == PF_ASPATH && o->aspath_array) || (d->fmt == PF_COMMS && o->comms_array)) {
		json_bgp_array(rb, d, (const char *)k + d->off);
		return;
	}
	if (d->fmt == PF_TCPFLAGS && o->tcpflags_array) {
		json_tcpflags_array(rb, cnt->tcp_flags);
		return;
	}
	if (d->alias == P_LABEL && o->label_map) {
		json_label_map(rb, k->label);
		return;
	}
	if (d->fmt == PF_MPLS_STACK && o->mpls_array) {
		struct fr_mpls_stack st;
		memcpy(&st, (const uint8_t *)k + d->off, sizeof(st));
		json_mpls_array(rb, &st);
		return;
	}
	if (__builtin_expect(d->fmt == PF_COORDS, 0)) {
		json_coords(rb, d, k);
		return;
	}
	if (d->fmt == PF_SRV6_LIST) {
		struct fr_srv6_list l;
		memcpy(&l, (const uint8_t *)k + d->off, sizeof(l));
		json_srv6_array(rb, &l);
		return;
	}
	const char *v = fast_value(c->reg, d, k, cnt->tcp_flags, o, buf, sizeof(buf), &len);
	if (json_quoted(d))
		rb_json_str(rb, v, len);
	else
		rb_put(rb, v, len);
}

/* `"name": value` for a counter, after sep. */
static void json_count(struct rowbuf *rb, const char *sep, const char *name, uint64_t v)
{
	char num[24];

	rb_str(rb, sep);
	rb_put(rb, "\"", 1);
	rb_str(rb, name);
	rb_put(rb, "\": ", 3);
	rb_put(rb, num, fmt_u64(num, v));
}

/* `"name": "text"` after sep (text needs no escaping: timestamps). */
static void json_text(struct rowbuf *rb, const char *sep, const char *name, const char *text)
{
	rb_str(rb, sep);
	rb_put(rb, "\"", 1);
	rb_str(rb, name);
	rb_put(rb, "\": \"", 4);
	rb_str(rb, text);
	rb_put(rb, "\"", 1);
}

static void row_json(FILE *f, const struct out_cols *c, const struct out_opts *o,
    const struct flow_key *k, const struct out_counters *cnt, const struct fr_ts *tmin,
    const struct fr_ts *tmax)
{
	struct rowbuf rb;	/* no initializer: zeroing its 2 KiB buffer cost more than the row */
	char buf[128];
	const char *sep = "";

	rb.f = f;
	rb.n = 0;
	int tsx = ts_export_col(c);

	rb_put(&rb, "{", 1);
	if (o->json_event_type) {
		rb_str(&rb, "\"event_type\": \"purge\"");
		sep = ", ";
	}
	for (int i = 0; i < c->n; i++) {
		/* JSON puts timestamp_export after export_proto_* (pmacct 1.7.7), before custom ones */
		if (i == tsx)
			continue;
		if (tsx >= 0 && is_custom(c->jids[i])) {
			json_field(&rb, c, P_TS_EXPORT, k, cnt, o, sep);
			tsx = -1;
			sep = ", ";
		}
		json_field(&rb, c, c->jids[i], k, cnt, o, sep);
		sep = ", ";
	}
	if (tsx >= 0) {
		json_field(&rb, c, P_TS_EXPORT, k, cnt, o, sep);
		sep = ", ";
	}
	if (c->stitch && tmin) {
		stitch_str(o, tmin, buf, sizeof(buf));
		json_text(&rb, sep, "timestamp_min", buf);
		stitch_str(o, tmax, buf, sizeof(buf));
		json_text(&rb, ", ", "timestamp_max", buf);
		sep = ", ";
	}
	if (o->stamps) {
		timefmt_stamp(buf, sizeof(buf), cnt->stamp_inserted, out_ts_flags(o));
		json_text(&rb, sep, "stamp_inserted", buf);
		timefmt_stamp(buf, sizeof(buf), cnt->stamp_updated, out_ts_flags(o));
		json_text(&rb, ", ", "stamp_updated", buf);
		sep = ", ";
	}
	if (!is_event(o) && o->client) {
		/* the client keeps the formatted order: packets, flows, bytes */
		json_count(&rb, sep, "packets", cnt->packets);
		if (c->flows)
			json_count(&rb, ", ", "flows", cnt->flows);
		json_count(&rb, ", ", "bytes", cnt->bytes);
	} else if (!is_event(o)) {
		/* pmacct's JSON puts flows before packets (formatted/CSV after) */
		if (c->flows)
			json_count(&rb, sep, "flows", cnt->flows);
		json_count(&rb, c->flows ? ", " : sep, "packets", cnt->packets);
		json_count(&rb, ", ", "bytes", cnt->bytes);
	}
	rb_put(&rb, "}\n", 2);
	rb_flush(&rb);
}

/*
 * A coordinates primitive's two columns of a formatted or CSV row (n:
 * columns before it); formatted: the print plugin "%f  ", the client
 * "%-12f  " (1.7.7).  Out of line: rare, and it keeps the row loop small.
 */
static __attribute__((noinline)) void row_coords(struct rowbuf *rb, const struct prim_desc *d,
    const struct flow_key *k, const struct out_opts *o, int n)
{
	bool fm = is_formatted(o);
	char buf[64];

	for (int j = 0; j < 2; j++) {
		size_t len = coord_text((const uint8_t *)k + d->off, j, false, buf, sizeof(buf));
		if (fm) {
			rb_pad(rb, buf, len, o->client ? d->width - 2 : 0);
			rb_put(rb, "  ", 2);
		} else {
			if (n || j)
				rb_str(rb, o->sep);
			rb_put(rb, buf, len);
		}
	}
}

void out_row(FILE *f, const struct out_cols *c, const struct out_opts *o,
    const struct flow_key *k, const struct out_counters *cnt)
{
	out_row_stitch(f, c, o, k, cnt, NULL, NULL);
}

void out_row_stitch(FILE *f, const struct out_cols *c, const struct out_opts *o,
    const struct flow_key *k, const struct out_counters *cnt, const struct fr_ts *tmin,
    const struct fr_ts *tmax)
{
	char buf[FR_CUSTOM_AREA * 3 + 64];
	struct rowbuf rb;	/* no initializer: zeroing its 2 KiB buffer cost more than the row */
	bool fm = is_formatted(o);
	size_t seplen = strlen(o->sep);
	int n = 0;

	rb.f = f;
	rb.n = 0;

	if (o->fmt == OUT_JSON) {
		row_json(f, c, o, k, cnt, tmin, tmax);
		return;
	}
	for (int i = 0; i < c->n; i++, n++) {
		const struct prim_desc *d = c->desc[i];
		size_t len;
		if (d->flags & PRIM_JSON_ONLY) {	/* pmacct: srv6_seg_ipv6_list is JSON only */
			n--;
			continue;
		}
		if (__builtin_expect(d->fmt == PF_COORDS, 0)) {
			row_coords(&rb, d, k, o, n);
			continue;
		}
		const char *v = fast_value(c->reg, d, k, cnt->tcp_flags, o, buf, sizeof(buf), &len);
		if (fm && (d->flags & PRIM_CUSTOM)) {
			rb_pad(&rb, v, len, d->width - 2);	/* pmacct: "%s  " */
			rb_put(&rb, "  ", 2);
		} else if (fm && d->vgap && o->client && d->fmt == PF_SAMP_DIR) {
			rb_pad(&rb, v, len, d->width);	/* 1.7.7's client: "%-19s", its print plugin "%-19s " */
		} else if (fm && d->vgap) {
			rb_pad(&rb, v, len, d->vwidth);
			rb_put(&rb, "   ", d->vgap < 3 ? d->vgap : 3);
		} else if (fm) {
			rb_pad(&rb, v, len, d->width);
		} else {
			if (n)
				rb_put(&rb, o->sep, seplen);
			rb_put(&rb, v, len);
		}
	}
	if (c->stitch && tmin) {
		for (int i = 0; i < 2; i++, n++) {
			stitch_str(o, i ? tmax : tmin, buf, sizeof(buf));
			if (fm) {
				rb_pad(&rb, buf, strlen(buf), 31);
			} else {
				if (n)
					rb_put(&rb, o->sep, seplen);
				rb_put(&rb, buf, strlen(buf));
			}
		}
	}
	if (!is_event(o)) {
		size_t len;
		if (fm) {
			len = fmt_u64(buf, cnt->packets);
			rb_pad(&rb, buf, len, 22);
			if (c->flows) {
				len = fmt_u64(buf, cnt->flows);
				rb_pad(&rb, buf, len, 22);
			}
		} else {
			if (n)
				rb_put(&rb, o->sep, seplen);
			rb_put(&rb, buf, fmt_u64(buf, cnt->packets));
			if (c->flows) {
				rb_put(&rb, o->sep, seplen);
				rb_put(&rb, buf, fmt_u64(buf, cnt->flows));
			}
			rb_put(&rb, o->sep, seplen);
		}
		rb_put(&rb, buf, fmt_u64(buf, cnt->bytes));
	}
	rb_put(&rb, "\n", 1);
	rb_flush(&rb);
}
