/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_tplfile.c: nfacctd_templates_file: the template cache saved as JSON lines and loaded at start-up. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "decode/nf_state.h"

/*
 * One line per template:
 * {"version": 9, "exporter": "192.0.2.1", "domain": 0, "id": 256,
 *  "options": 0, "scope": 0, "fields": [[8, 4, 0], [12, 4, 0]]}
 * The file is written to a temporary name and renamed, so a crash never
 * leaves half a file.
 */
static void nf_tpl_line(FILE *f, const struct nf_tpl *t)
{
	char ip[64];

	inet_ntop(t->addr.af == 6 ? AF_INET6 : AF_INET, t->addr.a, ip, sizeof(ip));
	fprintf(f, "{\"version\": %u, \"exporter\": \"%s\", \"domain\": %" PRIu32
	    ", \"id\": %u, \"options\": %d, \"scope\": %u, \"fields\": [",
	    t->version, ip, t->domain, t->id, t->options ? 1 : 0, t->nscope);
	for (uint16_t i = 0; i < t->nfields; i++)
		fprintf(f, "%s[%u, %u, %" PRIu32 "]", i ? ", " : "", t->fields[i].type,
		    t->fields[i].len, t->fields[i].pen);
	fprintf(f, "]}\n");
}

/* Has the decoder seen datagrams of t's exporter (address and domain)? */
static bool nf_tpl_served(const struct nf_state *st, const struct nf_tpl *t)
{
	for (uint32_t b = 0; b <= st->exp_mask; b++)
		for (const struct nf_exporter *e = st->exp[b]; e; e = e->next)
			if (e->domain == t->domain && e->addr.af == t->addr.af &&
			    memcmp(e->addr.a, t->addr.a, sizeof(e->addr.a)) == 0)
				return true;
	return false;
}

int nf_templates_write(const struct nf_state *st, FILE *f, bool served_only)
{
	for (uint32_t b = 0; b <= st->tpl_mask; b++)
		for (const struct nf_tpl *t = st->tpl[b]; t; t = t->next)
			if (!served_only || nf_tpl_served(st, t))
				nf_tpl_line(f, t);
	return ferror(f) ? -1 : 0;
}

int nf_templates_save(const struct nf_state *st, const char *path)
{
	char tmp[4096];
	struct stat sb;
	FILE *f;

	/* the rename below replaces the path: never a device, a socket or a directory */
	if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	if (!(f = fopen(tmp, "w")))
		return -1;
	nf_templates_write(st, f, false);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		remove(tmp);
		return -1;
	}
	return 0;
}

/* The unsigned number after `"key": ` in line; -1 if missing. */
static int64_t nf_json_uint(const char *line, const char *key)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	if (!(p = strstr(line, pat)))
		return -1;
	p += strlen(pat);
	if (*p < '0' || *p > '9')
		return -1;
	return (int64_t)strtoull(p, NULL, 10);
}

static int nf_tpl_parse(struct nf_state *st, const char *line)
{
	int64_t ver = nf_json_uint(line, "version"), dom = nf_json_uint(line, "domain");
	int64_t id = nf_json_uint(line, "id"), opt = nf_json_uint(line, "options");
	int64_t scope = nf_json_uint(line, "scope");
	const char *p = strstr(line, "\"exporter\": \""), *q;
	char ip[64];
	struct fr_ip addr = { 0 };
	uint16_t n = 0;

	if (ver < 9 || ver > 10 || dom < 0 || id < 256 || id > 65535 || opt < 0 || scope < 0 || !p)
		return -1;
	p += strlen("\"exporter\": \"");
	if (!(q = strchr(p, '"')) || (size_t)(q - p) >= sizeof(ip))
		return -1;
	memcpy(ip, p, (size_t)(q - p));
	ip[q - p] = '\0';
	if (inet_pton(AF_INET, ip, addr.a) == 1)
		addr.af = 4;
	else if (inet_pton(AF_INET6, ip, addr.a) == 1)
		addr.af = 6;
	else
		return -1;
	if (!(p = strstr(line, "\"fields\": [")))
		return -1;
	p += strlen("\"fields\": [");
	while ((p = strchr(p, '[')) && n < NF_MAX_FIELDS) {
		unsigned type, len;
		unsigned long pen;
		if (sscanf(p, "[%u, %u, %lu]", &type, &len, &pen) != 3 || type > 65535 || len > 65535 ||
		    pen > UINT32_MAX)
			return -1;
		st->fbuf[n++] = (struct nf_field){ (uint16_t)type, (uint16_t)len, (uint32_t)pen };
		p++;
	}
	if (!n || scope > n)
		return -1;
	return nf_tpl_put(st, &addr, (uint32_t)dom, (uint16_t)ver, (uint16_t)id, opt != 0, st->fbuf, n,
	    (uint16_t)scope) ? 0 : -1;
}

int nf_templates_load(struct nf_state *st, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0)
		if (nf_tpl_parse(st, line) < 0)
			rc = -1;
	free(line);
	fclose(f);
	return rc;
}
