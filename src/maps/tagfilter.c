/* SPDX-License-Identifier: BSD-3-Clause */
/* tagfilter.c: pre_tag_filter / pre_tag2_filter compile and evaluation, as pmacct 1.7.7 (load_tags, evaluate_tags). */
#include "tagfilter.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Digits only into *v.  0 or -1. */
static int tf_num(const char *s, size_t n, uint64_t *v)
{
	char buf[24];

	if (n == 0 || n >= sizeof(buf))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	*v = strtoull(buf, NULL, 10);
	return errno ? -1 : 0;
}

/* One comma-separated token (blanks already removed) into e.  0 or -1. */
static int tf_entry(const char *s, size_t n, struct tagf_entry *e, char *why, size_t wlen)
{
	const char *dash;

	e->neg = n > 0 && s[0] == '-';
	if (e->neg) {
		s++;
		n--;
	}
	dash = memchr(s, '-', n);
	if (!dash) {
		if (tf_num(s, n, &e->lo) < 0)
			goto bad;
		e->hi = e->lo;
		return 0;
	}
	if (tf_num(s, (size_t)(dash - s), &e->lo) < 0 ||
	    tf_num(dash + 1, n - (size_t)(dash - s) - 1, &e->hi) < 0)
		goto bad;
	/* as pmacct: a range must be low-high with low < high */
	if (e->hi <= e->lo) {
		snprintf(why, wlen, "range value is expected in format low-high: '%.*s'", (int)n, s);
		return -1;
	}
	return 0;
bad:
	snprintf(why, wlen, "invalid tag '%.*s'", (int)n, s);
	return -1;
}

int tagfilter_compile(struct tagfilter *f, const char *text, char *why, size_t wlen)
{
	char tok[64];
	size_t tn = 0;

	memset(f, 0, sizeof(*f));
	for (const char *p = text;; p++) {
		if (*p && *p != ',') {
			if (isspace((unsigned char)*p))
				continue;
			if (tn + 1 >= sizeof(tok)) {
				snprintf(why, wlen, "tag too long");
				goto fail;
			}
			tok[tn++] = *p;
			continue;
		}
		if (tn) {
			if (f->n == TAGF_MAX) {
				snprintf(why, wlen, "more than %d entries", TAGF_MAX);
				goto fail;
			}
			if (tf_entry(tok, tn, &f->e[f->n], why, wlen) < 0)
				goto fail;
			f->n++;
		}
		tn = 0;
		if (!*p)
			break;
	}
	return 0;
fail:
	f->n = 0;
	return -1;
}

bool tagfilter_pass(const struct tagfilter *f, uint64_t tag)
{
	if (f->n == 0)
		return true;
	for (int i = 0; i < f->n; i++) {
		const struct tagf_entry *e = &f->e[i];
		if (tag >= e->lo && tag <= e->hi)
			return !e->neg;
		if (e->neg)
			return true;
	}
	return false;
}
