/* SPDX-License-Identifier: BSD-3-Clause */
/* pmacct.c: the client of the memory plugin: pmacct's flags, messages, output formats and exit codes. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "lib/rd.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "model/prim_value.h"
#include "plugins/imt_proto.h"
#include "plugins/output.h"

#define BANNER "pmacct IMT plugin client, pmacct " PMACCT_NG_VERSION
#define DEFAULT_PATH "/tmp/collect.pipe"
#define REPLY_TIMEOUT_S 60

enum counter { CNT_BYTES, CNT_PACKETS, CNT_ALL, CNT_FLOWS, CNT_NONE };

/* What the command line asked for. */
struct cli {
	const char *path;
	char query;			/* s t N M C i: mutually exclusive; 0 = none */
	bool erase, reset, lock, all, sum, show_custom;
	const char *match;		/* -N / -M argument */
	const char *prims;		/* -c */
	enum counter counter;		/* -n */
	enum counter top;		/* -T counter, CNT_NONE = not sorting */
	long top_n;			/* -T ...,N; 0 = all */
	struct out_opts out;
	const char *sep;		/* -E */
	struct prim_registry *reg;	/* the primitives: built-in, plus the plugin's custom ones (INFO) */
};

/* A row kept for sorting: counters and its key as encoded on the wire. */
struct kept_row {
	uint64_t packets, bytes, flows;
	uint32_t req, seq;
	uint8_t tcp_flags;
	size_t off, len;
};

struct rowset {
	struct kept_row *v;
	size_t n, cap;
	struct imt_buf arena;
	enum counter by;
};

/* ---- usage ---- */

/* One name of the -c list, wrapped at 100 columns; *col is the current column. */
static void usage_primitive(const char *name, bool first, int *col)
{
	if (*col + (int)strlen(name) + 3 > 100) {
		printf("\n\t ");
		*col = 10;
	}
	*col += printf("%s%s ", first ? "" : "| ", name);
}

static void usage_primitives(void)
{
	int col = 10;
	bool first = true;

	printf("  -c\t< ");
	for (int i = 0; i < P_COUNT; i++) {
		const char *n = prim_desc_of(NULL, i)->name;
		if (i == P_NONE || !*n)		/* custom slots: named by the table (-U) */
			continue;
		usage_primitive(n, first, &col);
		first = false;
	}
	usage_primitive("<custom primitive (-U)>", first, &col);
	printf("> \n\tSelect primitives to match (required by -N and -M)\n");
}

static void usage(void)
{
	printf("%s\nUsage: pmacct [query]\n\nQueries:\n"
	    "  -h\tShow this page\n"
	    "  -s\tShow statistics\n"
	    "  -N\t<matching data>[';'<matching data>] | 'file:'<filename> \n"
	    "\tMatch primitives; print counters only (requires -c)\n"
	    "  -M\t<matching data>[';'<matching data>] | 'file:'<filename> \n"
	    "\tMatch primitives; print formatted table (requires -c)\n"
	    "  -n\t<bytes | packets | flows | all> \n"
	    "\tSelect the counters to print (applies to -N)\n"
	    "  -S\tSum counters instead of returning a single counter for each request (applies to -N)\n"
	    "  -a\tDisplay all table fields (even those currently unused)\n", BANNER);
	usage_primitives();
	printf("  -T\t<bytes | packets | flows>,[<# how many>] \n"
	    "\tOutput top N statistics (applies to -M and -s)\n"
	    "  -e\tClear statistics\n"
	    "  -i\tShow time (in seconds) since statistics were last cleared (ie. pmacct -e)\n"
	    "  -r\tReset counters (applies to -N and -M)\n"
	    "  -l\tPerform locking of the table\n"
	    "  -t\tShow memory table status\n"
	    "  -C\tShow classifiers table\n"
	    "  -U\tShow custom primitives table\n"
	    "  -p\t<file> \n"
	    "\tSocket for client-server communication (DEFAULT: /tmp/collect.pipe)\n"
	    "  -O\tSet output < formatted | csv | json | event_formatted | event_csv > (applies to -M and -s)\n"
	    "  -E\tSet sparator for CSV format\n"
	    "  -I\tSet timestamps in 'since Epoch' format\n"
	    "  -u\tLeave IP protocols in numerical format\n"
	    "  -0\tAlways set timestamps to UTC (even if the timezone configured on the system is different)\n"
	    "  -V\tPrint version and exit\n\n"
	    "  See pmacct(1) and docs/memory.md for examples\n\n");
}

/* Print `msg` (already ending in "\n"), "  Exiting...", a blank line, the usage; exit 1. */
static void die_usage(const char *msg)
{
	printf("%s  Exiting...\n\n", msg);
	usage();
	exit(1);
}

static void die(const char *fmt, const char *arg)
{
	printf(fmt, arg);
	exit(1);
}

/* ---- the command line ---- */

static enum counter counter_of(const char *s)
{
	static const struct { const char *name; enum counter c; } names[] = {
		{ "bytes", CNT_BYTES }, { "packets", CNT_PACKETS }, { "flows", CNT_FLOWS },
		{ "all", CNT_ALL },
	};
	for (size_t i = 0; i < NELEM(names); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].c;
	return CNT_NONE;
}

static void opt_top(struct cli *c, const char *arg)
{
	char word[32];
	const char *comma = strchr(arg, ',');
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);

	snprintf(word, sizeof(word), "%.*s", (int)n, arg);
	enum counter k = counter_of(word);
	if (k == CNT_NONE || k == CNT_ALL) {
		printf("WARN: -T, ignoring unknown counter type: %s.\n", word);
		return;
	}
	c->top = k;
	c->top_n = comma ? atol(comma + 1) : 0;
}

static void opt_output(struct cli *c, const char *arg)
{
	static const struct { const char *name; enum print_fmt f; } fmts[] = {
		{ "formatted", OUT_FORMATTED }, { "csv", OUT_CSV }, { "json", OUT_JSON },
		{ "event_formatted", OUT_EVENT_FORMATTED }, { "event_csv", OUT_EVENT_CSV },
	};
	for (size_t i = 0; i < NELEM(fmts); i++) {
		if (strcasecmp(arg, fmts[i].name) == 0) {
			c->out.fmt = fmts[i].f;
			return;
		}
	}
	printf("WARN: -O, ignoring unknown output value: '%s'.\n", arg);
}

static void set_query(struct cli *c, char q)
{
	if (c->query && c->query != q) {
		printf("ERROR: -s, -t, -N, -M and -C options are each mutually exclusive.\n\n");
		exit(1);
	}
	c->query = q;
}

static void parse_args(struct cli *c, int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "hsN:M:n:Sac:T:eirltCUp:O:E:Iu0VP:m:")) != -1) {
		switch (ch) {
		case 'h': usage(); exit(0);
		case 'V':
			printf("%s\n\nLibs:\n%s\n\n", BANNER, pcap_lib_version());
			exit(0);
		case 's': case 't': case 'C': case 'i': set_query(c, (char)ch); break;
		case 'N': case 'm': set_query(c, 'N'); c->match = optarg; break;
		case 'M': set_query(c, 'M'); c->match = optarg; break;
		case 'n':
			if ((c->counter = counter_of(optarg)) == CNT_NONE) {
				printf("WARN: -n, ignoring unknown counter type: %s.\n", optarg);
				c->counter = CNT_BYTES;
			}
			break;
		case 'S': c->sum = true; break;
		case 'a': c->all = true; break;
		case 'c': c->prims = optarg; break;
		case 'T': opt_top(c, optarg); break;
		case 'e': c->erase = true; break;
		case 'r': c->reset = true; break;
		case 'l': c->lock = true; break;
		case 'U': c->show_custom = true; break;
		case 'p': c->path = optarg; break;
		case 'O': opt_output(c, optarg); break;
		case 'E': c->sep = optarg; break;
		case 'I': c->out.ts_since_epoch = true; break;
		case 'u': c->out.num_protos = true; break;
		case '0': c->out.ts_utc = true; break;
		case 'P': break;	/* imt_passwd: access is the socket's permissions */
		default:
			printf("ERROR: parameter %c unknown! \n  Exiting...\n\n", ch);
			usage();
			exit(1);
		}
	}
}

/* The checks pmacct makes once connected, in its order. */
static void check_args(const struct cli *c, struct prim_set *cset)
{
	char bad[PRIM_WORD_MAX];

	if (c->prims && prim_parse_list(c->reg, c->prims, cset, bad, sizeof(bad)) < 0)
		die("ERROR: unknown primitive '%s'\n", bad);
	for (int i = 0; i < P_COUNT; i++)	/* nothing to match in tcpflags, flows, none */
		if (prim_has(cset, (enum prim_id)i) && !prim_desc_of(c->reg, i)->len)
			die("ERROR: unknown primitive '%s'\n", prim_desc_of(c->reg, i)->name);
	if (c->reset && c->query != 'N' && c->query != 'M')
		die_usage("ERROR: -r selected but either -N or -M has not been specified.\n");
	if ((c->query == 'N' || c->query == 'M') && (!c->prims || prim_set_empty(cset)))
		die_usage("ERROR: -N or -M selected but -c has not been specified or is invalid.\n");
	if (!c->query && !c->erase && !c->show_custom) {
		if (c->lock) {
			usage();
			exit(1);
		}
		die_usage("ERROR: no options specified. Either -s, -e, -t, -M, -N or -C must be supplied. \n");
	}
	if ((c->sum || c->counter != CNT_BYTES) && c->query != 'N')
		die_usage("ERROR: -n and -S options apply only to -N\n");
	if (c->top != CNT_NONE && c->query != 'M' && c->query != 's')
		die_usage("ERROR: -T option apply only to -M or -s\n");
	if (c->sep && strlen(c->sep) != 1) {
		printf("ERROR: -E option expects a single char as separator\n  Exiting...\n\n");
		exit(1);
	}
}

/* ---- match requests (-N / -M) ---- */

/* Parse one value of primitive d into key k, exiting with pmacct's message when invalid. */
static void parse_value(const struct prim_desc *d, const char *tok, struct flow_key *k)
{
	if (prim_value_parse(d, tok, k) == 0)
		return;
	switch (d->fmt) {
	case PF_PROTO:
		die("ERROR: invalid protocol: '%s'\n", tok);
		break;
	case PF_RAW:
		die("ERROR: %s: raw custom primitives cannot be matched\n", d->name);
		break;
	case PF_RD_ORIGIN:
		die("ERROR: mpls_vpn_rd_origin: expected flow, map, bgp, bmp or unknown: '%s'\n", tok);
		break;
	case PF_COORDS:	/* 1.7.7's words */
		printf("ERROR: %s: Invalid coordinates: '%s'.\nERROR: Expected format: <latitude>:<longitude>\n",
		    d->name, tok);
		exit(1);
	default:
		printf("ERROR: %s: Invalid %s: '%s'\n", d->name, prim_value_kind(d), tok);
		exit(1);
	}
}

/* The -c primitives in the order typed: values are given in that order. */
static int typed_order(const struct prim_registry *reg, const char *list, int *ids)
{
	char buf[1024];
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *w = strtok_r(buf, ", \t", &save); w && n < P_COUNT;
	    w = strtok_r(NULL, ", \t", &save))
		ids[n++] = prim_lookup(reg, w);
	return n;
}

/* One request: comma-separated values for the -c primitives; '*' matches anything. */
static void parse_request(const struct prim_registry *reg, const char *text, const int *ids,
    int nids, struct imt_match *m)
{
	char *buf = xstrdup(text), *save = NULL;
	char *tok = strtok_r(buf, ",", &save);

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < nids; i++, tok = tok ? strtok_r(NULL, ",", &save) : NULL) {
		const struct prim_desc *d = prim_desc_of(reg, ids[i]);
		if (!d->len || (tok && strcmp(tok, "*") == 0))
			continue;	/* wildcard, or nothing to compare (tcpflags, flows) */
		prim_add(&m->set, (enum prim_id)ids[i]);
		if (tok)
			parse_value(d, tok, &m->key);
	}
	free(buf);
}

static void add_request(const struct prim_registry *reg, struct imt_query *q, uint32_t *cap,
    const char *text, const int *ids, int nids)
{
	if (q->nreq == IMT_MAX_REQUESTS) {
		printf("ERROR: too many requests: at most %d are allowed in a batch\n", IMT_MAX_REQUESTS);
		exit(1);
	}
	if (q->nreq == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		q->req = xrealloc(q->req, *cap * sizeof(*q->req));
	}
	parse_request(reg, text, ids, nids, &q->req[q->nreq++]);
}

/* Requests from "a;b;c" or from "file:path" (one request per line). */
static void parse_requests(const struct cli *c, struct imt_query *q)
{
	int ids[P_COUNT];
	int nids = typed_order(c->reg, c->prims, ids);
	uint32_t cap = 0;

	if (strncmp(c->match, "file:", 5) == 0) {
		FILE *f = fopen(c->match + 5, "r");
		char line[4096];
		if (!f)
			die("ERROR: file '%s' not found\n", c->match + 5);
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\r\n")] = '\0';
			if (line[0])
				add_request(c->reg, q, &cap, line, ids, nids);
		}
		fclose(f);
		return;
	}
	char *buf = xstrdup(c->match), *save = NULL;
	for (char *r = strtok_r(buf, ";", &save); r; r = strtok_r(NULL, ";", &save))
		add_request(c->reg, q, &cap, r, ids, nids);
	free(buf);
}

/* ---- talking to the plugin ---- */

/*
 * Why connecting to `path` failed, for the operator: a wrong path and a
 * daemon that is down look alike in pmacct's message.  `err` is connect()'s
 * errno (0: the path does not fit in sun_path).
 */
static const char *connect_reason(const char *path, int err)
{
	struct stat st;

	if (err == 0)
		return "path too long for a socket";
	if (err == ENOENT)
		return "no such file: the daemon is not running, or its imt_path is another path";
	if (err == ECONNREFUSED && stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return "not a socket";
	if (err == ECONNREFUSED)
		return "connection refused: the socket exists but no daemon listens on it "
		    "(it is down, or exited without removing it)";
	return strerror(err);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa;
	struct timeval tv = { REPLY_TIMEOUT_S, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	int err = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (fd < 0) {
		err = errno;
		goto fail;
	}
	if (strlen(path) >= sizeof(sa.sun_path))
		goto fail;
	memcpy(sa.sun_path, path, strlen(path));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
fail:
	printf("ERROR: Unable to connect to '%s': %s\n\n", path, connect_reason(path, err));
	exit(1);
}

static void send_all(int fd, const struct imt_buf *b)
{
	for (size_t off = 0; off < b->len;) {
		ssize_t n = send(fd, b->p + off, b->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("ERROR: cannot send the query: %s\n", strerror(errno));
		off += (size_t)n;
	}
}

static void recv_all(int fd, uint8_t *p, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = recv(fd, p + off, len - off, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			die("ERROR: the plugin closed the connection%s\n", "");
		if (n < 0)
			die("ERROR: no reply from the plugin: %s\n", strerror(errno));
		off += (size_t)n;
	}
}

/* Read one reply message; its payload (owned by the caller's buffer) in *pl. */
static uint16_t recv_msg(int fd, struct imt_buf *pl)
{
	uint8_t h[IMT_HDR_LEN];
	struct imt_hdr hdr;
	char err[IMT_MAX_ERROR + 1];
	int rc;

	recv_all(fd, h, sizeof(h));
	if ((rc = imt_hdr_parse(h, sizeof(h), &hdr)) != IMT_OK)
		die("ERROR: invalid reply: %s\n", imt_strerror(rc));
	if (hdr.type < IMT_R_INFO)
		die("ERROR: invalid reply: %s\n", "not a reply");
	pl->len = 0;
	if (pl->cap < hdr.length + 1) {
		pl->p = xrealloc(pl->p, hdr.length + 1);
		pl->cap = hdr.length + 1;
	}
	recv_all(fd, pl->p, hdr.length);
	pl->len = hdr.length;
	if (hdr.type == IMT_R_ERROR) {
		if (imt_error_decode(pl->p, pl->len, err, sizeof(err)) < 0)
			die("ERROR: invalid reply: %s\n", "bad error message");
		die("ERROR: %s\n", err);
	}
	return hdr.type;
}

/* Send one request and read the INFO that opens every reply: reg learns its custom primitives. */
static void request(int fd, const struct imt_buf *q, struct imt_buf *pl, struct imt_info *info,
    struct prim_registry *reg)
{
	send_all(fd, q);
	if (recv_msg(fd, pl) != IMT_R_INFO || imt_info_decode(pl->p, pl->len, info) < 0 ||
	    imt_info_define_custom(info, reg) < 0)
		die("ERROR: invalid reply: %s\n", "no table description");
}

static void simple_request(int fd, uint16_t type, struct imt_buf *pl, struct imt_info *info,
    struct prim_registry *reg)
{
	struct imt_buf q = { 0 };
	size_t m = imt_msg_begin(&q, type);

	imt_msg_end(&q, m);
	request(fd, &q, pl, info, reg);
	imt_buf_fini(&q);
	while (recv_msg(fd, pl) != IMT_R_END)
		;
}

/* ---- rows: printing, keeping, sorting ---- */

struct view {
	struct out_cols cols;
	const struct out_opts *opts;
	struct prim_set aggregate;
	uint64_t printed;
	long limit;		/* rows to print, -1 = all */
};

static void print_row(struct view *v, const struct imt_row *r)
{
	struct out_counters cnt = { r->packets, r->bytes, r->flows, r->tcp_flags, 0, 0 };

	if (v->limit >= 0 && (long)v->printed >= v->limit)
		return;
	out_row(stdout, &v->cols, v->opts, &r->key, &cnt);
	v->printed++;
}

static void keep_row(struct rowset *rs, const struct imt_row *r, const uint8_t *enc, size_t len)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 1024;
		rs->v = xrealloc(rs->v, rs->cap * sizeof(*rs->v));
	}
	struct kept_row *k = &rs->v[rs->n];
	k->packets = r->packets;
	k->bytes = r->bytes;
	k->flows = r->flows;
	k->tcp_flags = r->tcp_flags;
	k->req = r->req;
	k->seq = (uint32_t)rs->n++;
	k->off = rs->arena.len;
	k->len = len;
	imt_put_bytes(&rs->arena, enc, len);
}

/* Descending by one counter; ties keep arrival order. */
static int cmp_top_bytes(const void *a, const void *b)
{
	const struct kept_row *x = a, *y = b;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_top_packets(const void *a, const void *b)
{
	const struct kept_row *x = a, *y = b;
	return x->packets < y->packets ? 1 : x->packets > y->packets ? -1 :
	    (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_top_flows(const void *a, const void *b)
{
	const struct kept_row *x = a, *y = b;
	return x->flows < y->flows ? 1 : x->flows > y->flows ? -1 : (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_request(const void *a, const void *b)
{
	const struct kept_row *x = a, *y = b;
	if (x->req != y->req)
		return x->req < y->req ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void print_kept(struct view *v, struct rowset *rs)
{
	static int (*const by[])(const void *, const void *) = {
		[CNT_BYTES] = cmp_top_bytes, [CNT_PACKETS] = cmp_top_packets,
		[CNT_FLOWS] = cmp_top_flows, [CNT_ALL] = cmp_top_bytes, [CNT_NONE] = cmp_request,
	};
	struct imt_row row;

	if (rs->n)
		qsort(rs->v, rs->n, sizeof(*rs->v), by[rs->by]);
	for (size_t i = 0; i < rs->n; i++) {
		const struct kept_row *k = &rs->v[i];
		struct rd r = rd_make(rs->arena.p + k->off, k->len);
		row.packets = k->packets;
		row.bytes = k->bytes;
		row.flows = k->flows;
		row.tcp_flags = k->tcp_flags;
		imt_key_get(&r, v->cols.reg, &v->aggregate, &row.key);
		print_row(v, &row);
	}
}

static bool is_formatted(enum print_fmt f)
{
	return f == OUT_FORMATTED || f == OUT_EVENT_FORMATTED;
}

/* Read ROWS until END: printed at once (-s), or kept and sorted (-T, -M). */
static void read_rows(int fd, struct view *v, struct rowset *rs, struct imt_buf *pl)
{
	struct imt_row row;
	uint16_t t;

	while ((t = recv_msg(fd, pl)) != IMT_R_END) {
		struct rd r = rd_make(pl->p, pl->len);
		uint32_t n = rd_u32(&r);
		if (t != IMT_R_ROWS)
			die("ERROR: invalid reply: %s\n", "rows expected");
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *start = r.p;
			if (imt_row_get(&r, v->cols.reg, &v->aggregate, &row) < 0)
				die("ERROR: invalid reply: %s\n", "truncated row");
			if (rs)
				keep_row(rs, &row, start + IMT_ROW_HDR_LEN,
				    (size_t)(r.p - start) - IMT_ROW_HDR_LEN);
			else
				print_row(v, &row);
		}
		if (r.left)
			die("ERROR: invalid reply: %s\n", "trailing bytes");
	}
}

/*
 * -a lists every column a memory table can have: variable-length primitives
 * (label, mpls_label_stack, ...) never can (the plugin refuses them), and
 * have no formatted width, so they are left out, as pmacct 1.7.7 leaves out
 * LABEL from its formatted -a. Its CSV title has LABEL after TAG2: kept
 * (with_label), always empty, so that the CSV columns are 1.7.7's.
 */
static void cols_drop_vlen(struct out_cols *cols, bool with_label)
{
	int n = 0;

	for (int i = 0; i < cols->n; i++)
		if (!(prim_desc_of(cols->reg, cols->ids[i])->flags & PRIM_VLEN) ||
		    (with_label && cols->ids[i] == P_LABEL))
			cols->ids[n++] = cols->ids[i];
	cols->n = n;
}

/* -s and -M. */
static void run_table(const struct cli *c, int fd, const struct imt_query *q)
{
	struct imt_buf b = { 0 }, pl = { 0 };
	struct imt_info info;
	struct view v = { .opts = &c->out, .limit = -1 };
	struct rowset rs = { .by = c->top };
	bool keep = c->top != CNT_NONE || q->mode == IMT_MODE_ROWS;

	imt_query_encode(&b, c->reg, q);
	request(fd, &b, &pl, &info, c->reg);
	v.aggregate = info.aggregate;
	struct prim_set shown = info.aggregate;
	if (c->all && c->out.fmt == OUT_CSV)
		prim_add(&shown, P_LABEL);
	out_cols_init(&v.cols, c->reg, &shown, c->all && c->out.fmt != OUT_JSON,
	    c->out.fmt != OUT_JSON);	/* JSON ignores -a */
	cols_drop_vlen(&v.cols, c->all && c->out.fmt == OUT_CSV);
	if (c->top != CNT_NONE && c->top_n)
		v.limit = c->top_n < 0 ? 0 : c->top_n;
	out_header(stdout, &v.cols, &c->out);
	read_rows(fd, &v, keep ? &rs : NULL, &pl);
	if (keep)
		print_kept(&v, &rs);
	if (is_formatted(c->out.fmt))
		printf("\nFor a total of: %" PRIu64 " entries\n", v.printed);
	free(rs.v);
	imt_buf_fini(&rs.arena);
	imt_buf_fini(&b);
	imt_buf_fini(&pl);
}

static void print_sum(enum counter k, const struct imt_sum *s)
{
	switch (k) {
	case CNT_PACKETS: printf("%" PRIu64 "\n", s->packets); break;
	case CNT_FLOWS: printf("%" PRIu64 "\n", s->flows); break;
	case CNT_ALL:
		printf("%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		    s->packets, s->bytes, s->flows, s->entries);
		break;
	default: printf("%" PRIu64 "\n", s->bytes); break;
	}
}

/* -N: one line per request, or their sum with -S. */
static void run_counters(const struct cli *c, int fd, const struct imt_query *q)
{
	struct imt_buf b = { 0 }, pl = { 0 };
	struct imt_info info;
	struct imt_sum s, total = { 0, 0, 0, 0 };

	imt_query_encode(&b, c->reg, q);
	request(fd, &b, &pl, &info, c->reg);
	while (recv_msg(fd, &pl) != IMT_R_END) {
		struct rd r = rd_make(pl.p, pl.len);
		uint32_t n = rd_u32(&r);
		for (uint32_t i = 0; i < n && imt_sum_get(&r, &s) == 0; i++) {
			if (!c->sum) {
				print_sum(c->counter, &s);
				continue;
			}
			total.packets += s.packets;
			total.bytes += s.bytes;
			total.flows += s.flows;
			total.entries += s.entries;
		}
		if (r.bad || r.left)
			die("ERROR: invalid reply: %s\n", "bad counters");
	}
	if (c->sum)
		print_sum(c->counter, &total);
	imt_buf_fini(&b);
	imt_buf_fini(&pl);
}

/*
 * -U: the custom primitives the table aggregates on, in the aggregate's
 * order, with their declared lengths and their offsets as pmacct lays
 * them out (one after the other).
 */
static void show_custom(int fd, struct prim_registry *reg)
{
	struct imt_buf pl = { 0 };
	struct imt_info info;
	unsigned off = 0;

	simple_request(fd, IMT_Q_INFO, &pl, &info, reg);
	printf("NAME                              LEN    OFF\n");
	for (int k = 0; k < PRIM_CUSTOM_MAX && info.aggregate.corder[k]; k++) {
		const struct imt_custom *cu = &info.custom[info.aggregate.corder[k] - 1];
		if (!prim_has(&info.aggregate, (enum prim_id)(P_CUSTOM_0 + info.aggregate.corder[k] - 1)))
			continue;
		unsigned len = cu->c.len == PRIM_CUSTOM_VLEN ? 0 : cu->c.len;
		printf("%-34s%-7u%-5u\n", cu->name, len, off);
		off += len;
	}
	imt_buf_fini(&pl);
}

/* -t: one line per bucket, a '*' per chained entry. */
#define IMT_STATUS_CHAIN_MAX (1u << 20)
static void run_status(int fd, struct prim_registry *reg)
{
	struct imt_buf b = { 0 }, pl = { 0 };
	struct imt_info info;
	size_t m = imt_msg_begin(&b, IMT_Q_STATUS);

	imt_msg_end(&b, m);
	request(fd, &b, &pl, &info, reg);
	printf("* = element\n\nBUCKET\tCHAIN_STATUS\n");
	while (recv_msg(fd, &pl) != IMT_R_END) {
		struct rd r = rd_make(pl.p, pl.len);
		uint32_t first = rd_u32(&r), n = rd_u32(&r);
		for (uint32_t i = 0; i < n && !r.bad; i++) {
			uint32_t len = rd_u32(&r);
			if (len > IMT_STATUS_CHAIN_MAX)	/* a chain no table holds: a hostile server */
				die("ERROR: invalid reply: %s\n", "bad chain length");
			printf("%" PRIu32 "\t", first + i);
			for (uint32_t j = 0; j < len && !r.bad; j++)
				putchar('*');
			putchar('\n');
		}
		if (r.bad || r.left)
			die("ERROR: invalid reply: %s\n", "bad table status");
	}
	imt_buf_fini(&b);
	imt_buf_fini(&pl);
}

static void run(const struct cli *c, int fd, const struct prim_set *cset)
{
	struct imt_query q = { 0 };
	struct imt_buf pl = { 0 };
	struct imt_info info;

	(void)cset;
	q.flags = (c->lock ? IMT_QF_LOCK : 0) | (c->reset ? IMT_QF_RESET : 0);
	if (c->query == 's' || c->query == 'M') {
		q.mode = c->query == 's' ? IMT_MODE_ALL : IMT_MODE_ROWS;
		q.flags |= c->erase ? IMT_QF_ERASE : 0;
		if (q.mode == IMT_MODE_ROWS)
			parse_requests(c, &q);
		run_table(c, fd, &q);
	} else if (c->erase) {
		simple_request(fd, IMT_Q_ERASE, &pl, &info, c->reg);
		printf("OK: Clearing stats.\n");
	} else if (c->query == 't') {
		run_status(fd, c->reg);
	} else if (c->query == 'N') {
		q.mode = IMT_MODE_SUMS;
		parse_requests(c, &q);
		if (q.nreq)
			run_counters(c, fd, &q);
	} else if (c->query == 'C') {
		printf("CLASS_ID\tCLASS_NAME\n\nFor a total of: 0 classifiers\n");
	} else if (c->show_custom) {
		show_custom(fd, c->reg);
		exit(1);	/* pmacct 1.7.7 exits 1, listing or not */
	} else if (c->query == 'i') {
		simple_request(fd, IMT_Q_INFO, &pl, &info, c->reg);
		if (info.erased_at < 0)
			printf("never\n");
		else
			printf("%" PRId64 "\n", info.now - info.erased_at);
	}
	imt_query_fini(&q);
	imt_buf_fini(&pl);
}

/* Does -c name a primitive this client does not know by itself (a custom one)? */
static bool names_custom(const char *list)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *w = strtok_r(buf, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save))
		if (prim_lookup(NULL, w) < 0)
			return true;
	return false;
}

/*
 * The daemon's custom primitives (aggregate_primitives), defined here
 * before -c is checked: an INFO exchange on its own connection.
 */
static void learn_custom(const char *path, struct prim_registry *reg)
{
	struct imt_buf pl = { 0 };
	struct imt_info info;
	int fd = connect_to(path);

	simple_request(fd, IMT_Q_INFO, &pl, &info, reg);
	imt_buf_fini(&pl);
	close(fd);
}

int main(int argc, char **argv)
{
	static char obuf[1 << 16];
	struct cli c = { .path = DEFAULT_PATH, .counter = CNT_BYTES, .top = CNT_NONE };
	struct prim_set cset = { 0 };

	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	c.out.fmt = OUT_FORMATTED;
	c.out.ts_rfc3339 = true;
	c.out.client = true;
	parse_args(&c, argc, argv);
	c.reg = prim_registry_new();
	int fd = connect_to(c.path);
	if (c.prims && names_custom(c.prims))
		learn_custom(c.path, c.reg);
	check_args(&c, &cset);
	snprintf(c.out.sep, sizeof(c.out.sep), "%s", c.sep ? c.sep : ",");
	run(&c, fd, &cset);
	close(fd);
	fflush(stdout);
	prim_registry_free(c.reg);
	return 0;
}
