/* SPDX-License-Identifier: BSD-3-Clause */
/* labelfilter.c: pre_tag_label_filter: which labels a plugin accepts. */
#include "labelfilter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

struct label_entry {
	bool neg;
	char *value;		/* "" for `null` */
};

struct labelfilter {
	struct label_entry *v;
	size_t n;
	bool any_positive;
};

void labelfilter_free(struct labelfilter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].value);
	free(f->v);
	free(f);
}

struct labelfilter *labelfilter_compile(const char *text, char *why, size_t whylen)
{
	struct labelfilter *f = xcalloc(1, sizeof(*f));
	const char *p = text;

	for (;;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		struct label_entry le = { .neg = n && *p == '-' };
		if (le.neg)
			p++, n--;
		if (!n) {
			snprintf(why, whylen, "empty label in '%s'", text);
			labelfilter_free(f);
			return NULL;
		}
		le.value = strncmp(p, "null", n) == 0 && n == 4 ? xstrdup("") : strndup(p, n);
		f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
		f->v[f->n++] = le;
		f->any_positive |= !le.neg;
		if (!e)
			break;
		p = e + 1;
	}
	return f;
}

bool labelfilter_pass(const struct labelfilter *f, const char *label)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].value, label) == 0)
			return !f->v[i].neg;
	return !f->any_positive;
}
