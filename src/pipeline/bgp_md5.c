/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_md5.c: bgp_daemon_md5_file rows. */
#include "bgp_md5.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mapfile.h"
#include "lib/text.h"
#include "lib/xalloc.h"

/* Trim blanks at both ends of s in place. */
static char *trim(char *s)
{
	size_t n;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int bgp_md5_load(const char *path, const char *who, struct bgp_md5_list *out)
{
	struct mapfile mf;
	char *row;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (mapfile_init(&mf, path) < 0)
		return -1;
	while ((row = mapfile_next(&mf))) {
		char *comma = strchr(row, ',');
		struct bgp_md5_entry e;
		if (!comma) {
			mapfile_warn(&mf, who, "expected 'address, password'. Ignored.");
			continue;
		}
		*comma = '\0';
		char *addr = trim(row), *key = trim(comma + 1);
		memset(&e, 0, sizeof(e));
		if (fr_ip_parse(addr, &e.addr) < 0) {
			mapfile_warn(&mf, who, "invalid address '%s'. Ignored.", addr);
			continue;
		}
		size_t klen = strlen(key);
		if (klen == 0 || klen > BGP_MD5_KEY_MAX) {
			mapfile_warn(&mf, who, "password of '%s' is %s (1 to %d bytes). Ignored.", addr,
			    klen ? "too long" : "empty", BGP_MD5_KEY_MAX);
			continue;
		}
		memcpy(e.key, key, klen + 1);
		if (out->n == cap) {
			cap = cap ? cap * 2 : 8;
			out->e = xrealloc(out->e, cap * sizeof(*out->e));
		}
		out->e[out->n++] = e;
	}
	mapfile_fini(&mf);
	return 0;
}

void bgp_md5_free(struct bgp_md5_list *l)
{
	free(l->e);
	l->e = NULL;
	l->n = 0;
}
