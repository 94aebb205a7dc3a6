/* SPDX-License-Identifier: BSD-3-Clause */
/* tee_map.c: the tee_receivers row parser, driven by a key table. */
#include "tee_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mapfile.h"
#include "lib/text.h"
#include "lib/xalloc.h"

enum tee_key { TK_ID, TK_IP, TK_TAG, TK_ALG };

static const struct mapfile_key tee_keys[] = {
	{ "id", TK_ID }, { "ip", TK_IP }, { "tag", TK_TAG }, { "balance-alg", TK_ALG },
};

static const struct mapfile_key tee_algs[] = {
	{ "rr", TEE_RR }, { "hash-agent", TEE_HASH_AGENT }, { "hash-tag", TEE_HASH_TAG },
	{ "hash-crc32", TEE_HASH_CRC32 },
};

/* id=N: a positive 32-bit number. */
static int parse_id(const char *v, uint32_t *id)
{
	char *e;
	unsigned long n = strtoul(v, &e, 10);

	if (!*v || *e || n == 0 || n > UINT32_MAX)
		return -1;
	*id = (uint32_t)n;
	return 0;
}

/* One key=value into r.  0, or -1 with why. */
static int set_key(struct tee_map_row *r, const char *k, char *v, char *why, size_t wlen)
{
	int alg;

	switch (mapfile_key_id(tee_keys, NELEM(tee_keys), k)) {
	case TK_ID:
		if (parse_id(v, &r->id) == 0)
			return 0;
		snprintf(why, wlen, "id '%s' is not a positive number", v);
		return -1;
	case TK_IP:
		r->ip = v;
		return 0;
	case TK_TAG:
		if (!r->tags)
			r->tags = xmalloc(sizeof(*r->tags));
		return tagfilter_compile(r->tags, v, why, wlen);
	case TK_ALG:
		alg = mapfile_key_id(tee_algs, NELEM(tee_algs), v);
		if (alg >= 0) {
			r->alg = (enum tee_alg)alg;
			return 0;
		}
		snprintf(why, wlen, "balance-alg '%s': rr, hash-agent, hash-tag or hash-crc32", v);
		return -1;
	default:
		snprintf(why, wlen, "unknown key '%s' (id, ip, tag, balance-alg)", k);
		return -1;
	}
}

int tee_map_row_parse(char *row, struct tee_map_row *r, char *why, size_t wlen)
{
	struct mapfile_kv kv;
	enum mapfile_tok t;

	memset(r, 0, sizeof(*r));
	r->alg = TEE_ALL;
	while ((t = mapfile_kv_next(&row, 0, &kv)) != MAPFILE_TOK_END) {
		if (t != MAPFILE_TOK_KV) {
			snprintf(why, wlen, "'%s' is not key=value", kv.word);
			goto fail;
		}
		if (set_key(r, kv.key, kv.val, why, wlen) < 0)
			goto fail;
	}
	if (!r->id || !r->ip) {
		snprintf(why, wlen, "'id' and 'ip' are required");
		goto fail;
	}
	return 0;
fail:
	free(r->tags);
	r->tags = NULL;
	return -1;
}
