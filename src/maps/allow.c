/* SPDX-License-Identifier: BSD-3-Clause */
/* allow.c: the collectors' allow file: loading (through lib/mapfile) and matching an exporter address. */
#include "allow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mapfile.h"
#include "lib/xalloc.h"
#include "maps/prefix.h"

/* An allowed exporter prefix. */
struct allow_pfx {
	struct fr_ip net;
	uint8_t len;
};

struct allow_list {
	struct allow_pfx *v;
	size_t n;
};

struct allow_list *allow_load(const char *path, const char *who)
{
	struct mapfile mf;
	struct allow_list *a;
	char *row;

	if (mapfile_init(&mf, path) < 0)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	while ((row = mapfile_next(&mf))) {
		struct allow_pfx p;
		if (prefix_parse(row, &p.net, &p.len) < 0) {
			mapfile_warn(&mf, who, "invalid address or prefix '%s'. Ignored.", row);
			continue;
		}
		a->v = xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
		a->v[a->n++] = p;
	}
	mapfile_fini(&mf);
	return a;
}

bool allow_match(const struct allow_list *a, const struct fr_ip *ip)
{
	if (!a)
		return true;
	for (size_t i = 0; i < a->n; i++)
		if (prefix_match(&a->v[i].net, a->v[i].len, ip))
			return true;
	return false;
}

size_t allow_count(const struct allow_list *a)
{
	return a ? a->n : 0;
}

void allow_free(struct allow_list *a)
{
	if (a)
		free(a->v);
	free(a);
}
