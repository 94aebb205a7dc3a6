/* SPDX-License-Identifier: BSD-3-Clause */
/* mapfile.c: map-file rows (getline, comments, trimming, line numbers) and key=value tokens. */
#include "mapfile.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "lib/log.h"

int mapfile_init(struct mapfile *mf, const char *path)
{
	memset(mf, 0, sizeof(*mf));
	mf->path = path;
	mf->f = fopen(path, "r");
	return mf->f ? 0 : -1;
}

void mapfile_fini(struct mapfile *mf)
{
	if (mf->f)
		fclose(mf->f);
	free(mf->buf);
	mf->f = NULL;
	mf->buf = NULL;
	mf->cap = 0;
}

/* Drop the line end and the blanks around s[0..n); the first non-blank character. */
static char *row_trim(char *s, size_t n, size_t *raw_len)
{
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	*raw_len = n;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	s[n] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

char *mapfile_next(struct mapfile *mf)
{
	ssize_t n;

	if (!mf->f)
		return NULL;
	while ((n = getline(&mf->buf, &mf->cap, mf->f)) >= 0) {
		mf->line++;
		char *s = row_trim(mf->buf, (size_t)n, &mf->raw_len);
		if (*s && *s != '!' && *s != '#')
			return s;
	}
	return NULL;
}

bool mapfile_too_long(const struct mapfile *mf, size_t row_len)
{
	return row_len >= 2 && mf->raw_len > row_len - 2;
}

/* "[file:line] " + fmt into out. */
static void row_msg(const struct mapfile *mf, char *out, size_t len, const char *fmt, va_list ap)
{
	int k = snprintf(out, len, "[%s:%u] ", mf->path, mf->line);

	if (k >= 0 && (size_t)k < len)
		vsnprintf(out + k, len - (size_t)k, fmt, ap);
}

/* Log "[file:line] " + fmt at lvl. */
static void row_log(const struct mapfile *mf, enum log_level lvl, const char *who, const char *fmt,
    va_list ap)
{
	char msg[1024];

	row_msg(mf, msg, sizeof(msg), fmt, ap);
	log_msg(lvl, who, "%s", msg);
}

void mapfile_warn(const struct mapfile *mf, const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	row_log(mf, LOG_L_WARN, who, fmt, ap);
	va_end(ap);
}

void mapfile_error(const struct mapfile *mf, const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	row_log(mf, LOG_L_ERROR, who, fmt, ap);
	va_end(ap);
}

void mapfile_fail(const struct mapfile *mf, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	row_msg(mf, err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- key=value tokens ---- */

/* A quoted value from s (at its quote): its start, or NULL if never closed; *s after it. */
static char *quoted(char **s)
{
	char q = **s, *v = *s + 1, *e = strchr(v, q);

	if (!e)
		return NULL;
	*e = '\0';
	*s = e + 1;	/* as pmacct: the character after the quote starts the next token */
	return v;
}

enum mapfile_tok mapfile_kv_next(char **cursor, unsigned flags, struct mapfile_kv *kv)
{
	char *s = *cursor, *w;

	memset(kv, 0, sizeof(*kv));
	while (isspace((unsigned char)*s))
		s++;
	if (!*s) {
		*cursor = s;
		return MAPFILE_TOK_END;
	}
	w = s;
	while (*s && *s != '=' && !isspace((unsigned char)*s))
		s++;
	if (*s != '=' || s == w) {
		while (*s && !isspace((unsigned char)*s))
			s++;
		if (*s)
			*s++ = '\0';
		kv->word = w;
		*cursor = s;
		return MAPFILE_TOK_WORD;
	}
	*s++ = '\0';
	kv->key = w;
	if ((flags & MAPFILE_QUOTES) && (*s == '\'' || *s == '"')) {
		if (!(kv->val = quoted(&s))) {
			*cursor = s + strlen(s);
			return MAPFILE_TOK_QUOTE;
		}
		*cursor = s;
		return MAPFILE_TOK_KV;
	}
	kv->val = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	if (*s)
		*s++ = '\0';
	*cursor = s;
	return MAPFILE_TOK_KV;
}

int mapfile_key_id(const struct mapfile_key *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return keys[i].id;
	return -1;
}
