/* SPDX-License-Identifier: BSD-3-Clause */
/* roa.c: RPKI Route Origin Authorizations (VRPs): a table, RFC 6811 validation, pmacct's JSON ROA file. */
#include "roa.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "prefix.h"

/*
 * The table: ROAs in one array, chained per bucket of a hash of
 * (family, length, prefix); a validation probes each prefix length the
 * table holds for the family (at most 33 or 129, in practice a few dozen).
 */
struct roa_ent {
	struct roa r;
	uint32_t next;		/* 1-based index of the next in the bucket (or free list), 0 ends */
};

struct roa_table {
	struct roa_ent *e;
	uint32_t n_ent, cap_ent;	/* slots used in e (live or free) */
	uint32_t free_head;		/* 1-based free list */
	size_t count;			/* live ROAs */
	uint32_t *bucket;		/* 1-based heads */
	uint32_t n_bucket;		/* a power of two */
	uint32_t per_len[2][129];	/* live ROAs per family and prefix length */
};

static unsigned fam_bits(uint8_t af)
{
	return af == 4 ? 32 : af == 6 ? 128 : 0;
}

static void mask_addr(uint8_t *a, unsigned len, unsigned bits)
{
	for (unsigned i = 0; i < bits / 8; i++) {
		if (len >= (i + 1) * 8)
			continue;
		a[i] &= len > i * 8 ? (uint8_t)(0xff << (8 - (len - i * 8))) : 0;
	}
}

static uint32_t key_hash(uint8_t af, uint8_t len, const uint8_t *addr)
{
	/* FNV-1a: small keys, no seed needed (the content is the operator's) */
	uint32_t h = 2166136261u;
	unsigned n = af == 4 ? 4 : 16;

	h = (h ^ af) * 16777619u;
	h = (h ^ len) * 16777619u;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h ^ h >> 15;
}

struct roa_table *roa_table_new(void)
{
	struct roa_table *t = xcalloc(1, sizeof(*t));

	t->n_bucket = 1024;
	t->bucket = xcalloc(t->n_bucket, sizeof(*t->bucket));
	return t;
}

void roa_table_free(struct roa_table *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->bucket);
	free(t);
}

void roa_table_clear(struct roa_table *t)
{
	t->n_ent = 0;
	t->free_head = 0;
	t->count = 0;
	memset(t->bucket, 0, t->n_bucket * sizeof(*t->bucket));
	memset(t->per_len, 0, sizeof(t->per_len));
}

size_t roa_table_count(const struct roa_table *t)
{
	return t->count;
}

static void rehash(struct roa_table *t)
{
	uint32_t nb = t->n_bucket * 2;
	uint32_t *b = xcalloc(nb, sizeof(*b));

	for (uint32_t i = 0; i < t->n_bucket; i++) {
		uint32_t j = t->bucket[i];
		while (j) {
			struct roa_ent *e = &t->e[j - 1];
			uint32_t next = e->next;
			uint32_t h = key_hash(e->r.af, e->r.len, e->r.addr) & (nb - 1);
			e->next = b[h];
			b[h] = j;
			j = next;
		}
	}
	free(t->bucket);
	t->bucket = b;
	t->n_bucket = nb;
}

static bool same_prefix(const struct roa *a, uint8_t af, uint8_t len, const uint8_t *addr)
{
	return a->af == af && a->len == len && memcmp(a->addr, addr, 16) == 0;
}

/* r normalised (host bits clear, unused bytes zero) into *out; -1 when malformed. */
static int normalise(const struct roa *r, struct roa *out)
{
	unsigned bits = fam_bits(r->af);

	if (!bits || r->len > bits || r->maxlen < r->len || r->maxlen > bits)
		return -1;
	memset(out, 0, sizeof(*out));
	out->af = r->af;
	out->len = r->len;
	out->maxlen = r->maxlen;
	out->asn = r->asn;
	memcpy(out->addr, r->addr, bits / 8);
	mask_addr(out->addr, r->len, bits);
	return 0;
}

int roa_add(struct roa_table *t, const struct roa *r0)
{
	struct roa r;
	uint32_t h, j;

	if (normalise(r0, &r) < 0)
		return -1;
	h = key_hash(r.af, r.len, r.addr) & (t->n_bucket - 1);
	for (j = t->bucket[h]; j; j = t->e[j - 1].next) {
		const struct roa *x = &t->e[j - 1].r;
		if (same_prefix(x, r.af, r.len, r.addr) && x->asn == r.asn && x->maxlen == r.maxlen)
			return 0;
	}
	if (t->free_head) {
		j = t->free_head;
		t->free_head = t->e[j - 1].next;
	} else {
		if (t->n_ent == t->cap_ent) {
			t->cap_ent = t->cap_ent ? t->cap_ent * 2 : 256;
			t->e = xrealloc(t->e, (size_t)t->cap_ent * sizeof(*t->e));
		}
		j = ++t->n_ent;
	}
	t->e[j - 1].r = r;
	t->e[j - 1].next = t->bucket[h];
	t->bucket[h] = j;
	t->count++;
	t->per_len[r.af == 6][r.len]++;
	if (t->count > t->n_bucket)
		rehash(t);
	return 0;
}

bool roa_del(struct roa_table *t, const struct roa *r0)
{
	struct roa r;
	uint32_t h, *link;

	if (normalise(r0, &r) < 0)
		return false;
	h = key_hash(r.af, r.len, r.addr) & (t->n_bucket - 1);
	for (link = &t->bucket[h]; *link; link = &t->e[*link - 1].next) {
		uint32_t j = *link;
		const struct roa *x = &t->e[j - 1].r;
		if (same_prefix(x, r.af, r.len, r.addr) && x->asn == r.asn && x->maxlen == r.maxlen) {
			*link = t->e[j - 1].next;
			t->e[j - 1].next = t->free_head;
			t->free_head = j;
			t->count--;
			t->per_len[r.af == 6][r.len]--;
			return true;
		}
	}
	return false;
}

enum roa_state roa_validate(const struct roa_table *t, uint8_t af, const uint8_t *addr, uint8_t len,
    uint32_t origin_as)
{
	unsigned bits = fam_bits(af);
	const uint32_t *pl;
	bool covered = false;
	uint8_t a[16];

	if (!t || !bits || len > bits || !t->count)
		return ROA_UNKNOWN;
	pl = t->per_len[af == 6];
	for (unsigned l = 0; l <= len; l++) {
		if (!pl[l])
			continue;
		memset(a, 0, sizeof(a));
		memcpy(a, addr, bits / 8);
		mask_addr(a, l, bits);
		uint32_t h = key_hash(af, (uint8_t)l, a) & (t->n_bucket - 1);
		for (uint32_t j = t->bucket[h]; j; j = t->e[j - 1].next) {
			const struct roa *x = &t->e[j - 1].r;
			if (!same_prefix(x, af, (uint8_t)l, a))
				continue;
			covered = true;
			if (origin_as && x->asn == origin_as && len <= x->maxlen)
				return ROA_VALID;
		}
	}
	return covered ? ROA_INVALID : ROA_UNKNOWN;
}

/* ---- the JSON file ---- */

/* A small JSON reader over a buffer: just what the ROA file needs, depth-bounded. */
struct jr {
	const char *s, *end, *p;
	const char *name;
	char *why;
	size_t wlen;
	bool failed;
};

#define JSON_MAX_DEPTH 64

static unsigned jr_line(const struct jr *j, const char *at)
{
	unsigned line = 1;

	for (const char *q = j->s; q < at && q < j->end; q++)
		line += *q == '\n';
	return line;
}

static bool jr_fail(struct jr *j, const char *what)
{
	if (!j->failed)
		snprintf(j->why, j->wlen, "[%s:%u] %s", j->name, jr_line(j, j->p), what);
	j->failed = true;
	return false;
}

static void jr_ws(struct jr *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool jr_lit(struct jr *j, char c)
{
	jr_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

/* A string into buf (cap bytes, cut), escapes kept simple (\uXXXX becomes '?'). */
static bool jr_string(struct jr *j, char *buf, size_t cap)
{
	size_t n = 0;

	jr_ws(j);
	if (j->p >= j->end || *j->p != '"')
		return jr_fail(j, "expected a string");
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;
		if ((unsigned char)c < 0x20)
			return jr_fail(j, "control character in a string");
		if (c == '\\') {
			if (j->p >= j->end)
				break;
			c = *j->p++;
			if (c == 'u') {
				for (int i = 0; i < 4; i++, j->p++)
					if (j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
						return jr_fail(j, "bad \\u escape");
				c = '?';
			} else if (!strchr("\"\\/bfnrt", c) || !c) {
				return jr_fail(j, "bad escape in a string");
			}
		}
		if (buf && n + 1 < cap)
			buf[n++] = c;
	}
	if (j->p >= j->end)
		return jr_fail(j, "unterminated string");
	j->p++;
	if (buf && cap)
		buf[n] = '\0';
	return true;
}

static bool jr_skip(struct jr *j, int depth);

/* A number: its text into buf (cap bytes); *is_int when it has no fraction or exponent. */
static bool jr_number(struct jr *j, char *buf, size_t cap, bool *is_int)
{
	const char *b = j->p;
	size_t n;

	*is_int = true;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return jr_fail(j, "bad value");
	while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || strchr(".eE+-", *j->p))) {
		if (strchr(".eE", *j->p))
			*is_int = false;
		j->p++;
	}
	n = (size_t)(j->p - b);
	if (buf) {
		if (n >= cap)
			n = cap - 1;
		memcpy(buf, b, n);
		buf[n] = '\0';
	}
	return true;
}

static bool jr_skip(struct jr *j, int depth)
{
	char tmp[32];
	bool is_int;

	if (depth > JSON_MAX_DEPTH)
		return jr_fail(j, "JSON nested too deep");
	jr_ws(j);
	if (j->p >= j->end)
		return jr_fail(j, "unexpected end of file");
	switch (*j->p) {
	case '"':
		return jr_string(j, NULL, 0);
	case '{':
		j->p++;
		if (jr_lit(j, '}'))
			return true;
		do {
			if (!jr_string(j, NULL, 0) || !(jr_lit(j, ':') || jr_fail(j, "expected ':'")) ||
			    !jr_skip(j, depth + 1))
				return false;
		} while (jr_lit(j, ','));
		return jr_lit(j, '}') || jr_fail(j, "expected ',' or '}'");
	case '[':
		j->p++;
		if (jr_lit(j, ']'))
			return true;
		do {
			if (!jr_skip(j, depth + 1))
				return false;
		} while (jr_lit(j, ','));
		return jr_lit(j, ']') || jr_fail(j, "expected ',' or ']'");
	case 't':
	case 'f':
	case 'n': {
		static const char *const words[] = { "true", "false", "null" };
		for (size_t i = 0; i < 3; i++) {
			size_t l = strlen(words[i]);
			if ((size_t)(j->end - j->p) >= l && memcmp(j->p, words[i], l) == 0) {
				j->p += l;
				return true;
			}
		}
		return jr_fail(j, "bad value");
	}
	default:
		return jr_number(j, tmp, sizeof(tmp), &is_int);
	}
}

/* What one ROA object's members were. */
enum jr_kind { JK_NONE, JK_STRING, JK_INT, JK_OTHER };

struct roa_obj {
	enum jr_kind prefix_k, asn_k, maxlen_k;
	char prefix[64], asn[64], maxlen[64];
};

/* A member's value into (kind, text): strings and integers kept, the rest skipped. */
static bool jr_value(struct jr *j, enum jr_kind *k, char *buf, size_t cap)
{
	bool is_int;

	jr_ws(j);
	if (j->p < j->end && *j->p == '"') {
		*k = JK_STRING;
		return jr_string(j, buf, cap);
	}
	if (j->p < j->end && (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))) {
		if (!jr_number(j, buf, cap, &is_int))
			return false;
		*k = is_int ? JK_INT : JK_OTHER;
		return true;
	}
	*k = JK_OTHER;
	return jr_skip(j, 1);
}

static bool parse_asn(const char *s, bool str, uint32_t *asn)
{
	char *e;
	unsigned long long v;

	if (str && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
		s += 2;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (*e || errno || v > UINT32_MAX)
		return false;
	*asn = (uint32_t)v;
	return true;
}

/* One element of "roas": add it, or warn and skip it (pmacct's words). */
static bool jr_roa(struct jr *j, struct roa_table *t, unsigned idx, const char *who)
{
	struct roa_obj o;
	const char *at;
	struct roa r;
	struct fr_ip net;
	uint8_t len;
	char key[32];

	memset(&o, 0, sizeof(o));
	jr_ws(j);
	at = j->p;
	if (!jr_lit(j, '{')) {
		if (!jr_skip(j, 1))
			return false;
		log_warnx(who, "[%s:%u] ROA #%u is not an object: skipped.", j->name, jr_line(j, at), idx);
		return true;
	}
	if (!jr_lit(j, '}')) {
		do {
			enum jr_kind k;
			char v[64];
			if (!jr_string(j, key, sizeof(key)) || !(jr_lit(j, ':') || jr_fail(j, "expected ':'")) ||
			    !jr_value(j, &k, v, sizeof(v)))
				return false;
			if (strcmp(key, "prefix") == 0) {
				o.prefix_k = k;
				snprintf(o.prefix, sizeof(o.prefix), "%s", v);
			} else if (strcmp(key, "asn") == 0) {
				o.asn_k = k;
				snprintf(o.asn, sizeof(o.asn), "%s", v);
			} else if (strcmp(key, "maxLength") == 0) {
				o.maxlen_k = k;
				snprintf(o.maxlen, sizeof(o.maxlen), "%s", v);
			}
		} while (jr_lit(j, ','));
		if (!jr_lit(j, '}'))
			return jr_fail(j, "expected ',' or '}'");
	}
	unsigned line = jr_line(j, at);
	memset(&r, 0, sizeof(r));
	if (o.prefix_k != JK_STRING) {
		log_warnx(who, "[%s:%u] no 'prefix' element in ROA #%u.", j->name, line, idx);
		return true;
	}
	if (prefix_parse(o.prefix, &net, &len) < 0 || !strchr(o.prefix, '/')) {
		log_warnx(who, "[%s:%u] invalid 'prefix' element in ROA #%u.", j->name, line, idx);
		return true;
	}
	if (o.asn_k != JK_STRING && o.asn_k != JK_INT) {
		log_warnx(who, "[%s:%u] no 'asn' element in ROA #%u.", j->name, line, idx);
		return true;
	}
	if (!parse_asn(o.asn, o.asn_k == JK_STRING, &r.asn)) {
		log_warnx(who, "[%s:%u] invalid 'asn' element in ROA #%u.", j->name, line, idx);
		return true;
	}
	if (o.maxlen_k != JK_INT) {
		log_warnx(who, "[%s:%u] no 'maxLength' element in ROA #%u.", j->name, line, idx);
		return true;
	}
	long ml = strtol(o.maxlen, NULL, 10);
	r.af = net.af;
	r.len = len;
	memcpy(r.addr, net.a, 16);
	if (ml < len || ml > (net.af == 4 ? 32 : 128)) {
		log_warnx(who, "[%s:%u] invalid 'maxLength' element in ROA #%u.", j->name, line, idx);
		return true;
	}
	r.maxlen = (uint8_t)ml;
	(void)roa_add(t, &r);
	return true;
}

struct roa_table *roa_parse_json(const char *text, size_t n, const char *name, const char *who,
    char *why, size_t wlen)
{
	struct jr j = { text, text + n, text, name, why, wlen, false };
	struct roa_table *t = roa_table_new();
	bool seen = false;
	char key[32];

	if (!jr_lit(&j, '{')) {
		jr_fail(&j, "not a JSON object");
		goto fail;
	}
	if (!jr_lit(&j, '}')) {
		do {
			if (!jr_string(&j, key, sizeof(key)) || !(jr_lit(&j, ':') || jr_fail(&j, "expected ':'")))
				goto fail;
			jr_ws(&j);
			if (strcmp(key, "roas") == 0 && !seen && j.p < j.end && *j.p == '[') {
				unsigned idx = 0;
				seen = true;
				j.p++;
				if (!jr_lit(&j, ']')) {
					do {
						if (!jr_roa(&j, t, ++idx, who))
							goto fail;
					} while (jr_lit(&j, ','));
					if (!jr_lit(&j, ']')) {
						jr_fail(&j, "expected ',' or ']'");
						goto fail;
					}
				}
			} else if (!jr_skip(&j, 1)) {
				goto fail;
			}
		} while (jr_lit(&j, ','));
		if (!jr_lit(&j, '}')) {
			jr_fail(&j, "expected ',' or '}'");
			goto fail;
		}
	}
	jr_ws(&j);
	if (j.p != j.end) {
		jr_fail(&j, "trailing data after the JSON object");
		goto fail;
	}
	if (!seen) {
		snprintf(why, wlen, "[%s] no 'roas' element or not an array.", name);
		goto fail;
	}
	return t;
fail:
	roa_table_free(t);
	return NULL;
}

struct roa_table *roa_load_json(const char *path, const char *who, char *why, size_t wlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	struct roa_table *t;

	if (!f) {
		snprintf(why, wlen, "[%s] cannot open: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = xrealloc(buf, cap);
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(why, wlen, "[%s] read error: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	t = roa_parse_json(buf, n, path, who, why, wlen);
	free(buf);
	return t;
}

/* ---- the shared db ---- */

struct roa_db {
	pthread_rwlock_t lock;
	struct roa_table *t;
};

struct roa_db *roa_db_new(void)
{
	struct roa_db *db = xcalloc(1, sizeof(*db));

	pthread_rwlock_init(&db->lock, NULL);
	db->t = roa_table_new();
	return db;
}

void roa_db_free(struct roa_db *db)
{
	if (!db)
		return;
	pthread_rwlock_destroy(&db->lock);
	roa_table_free(db->t);
	free(db);
}

void roa_db_swap(struct roa_db *db, struct roa_table *t)
{
	struct roa_table *old;

	pthread_rwlock_wrlock(&db->lock);
	old = db->t;
	db->t = t;
	pthread_rwlock_unlock(&db->lock);
	roa_table_free(old);
}

void roa_db_rdlock(struct roa_db *db)
{
	pthread_rwlock_rdlock(&db->lock);
}

void roa_db_wrlock(struct roa_db *db)
{
	pthread_rwlock_wrlock(&db->lock);
}

void roa_db_unlock(struct roa_db *db)
{
	pthread_rwlock_unlock(&db->lock);
}

struct roa_table *roa_db_table(struct roa_db *db)
{
	return db->t;
}
