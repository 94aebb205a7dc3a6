/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_tplstore.c: nfacctd_templates_file on disk: loaded at start-up, saved atomically, shared by receive threads. */
#include "pipeline/nf_tplstore.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/xalloc.h"

struct nf_tplstore {
	pthread_mutex_t mu;
	char *path;
	int n;			/* receive threads */
	char **served;		/* per thread: its JSON lines, NULL before its first save */
	char *loaded;		/* the file at start-up, as nf_templates_dump() spells it */
};

/* The file's whole text (NUL-terminated, its length in *len), NULL if it cannot be read. */
static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t cap = 8192, got;
	char *text;

	if (!f)
		return NULL;
	text = xmalloc(cap);
	*len = 0;
	while ((got = fread(text + *len, 1, cap - *len - 1, f)) > 0) {
		*len += got;
		if (cap - *len - 1 == 0)
			text = xrealloc(text, cap *= 2);
	}
	text[*len] = '\0';
	if (ferror(f)) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

int nf_tplstore_load(struct nf_state *st, const char *path)
{
	size_t len;
	char *text = read_text(path, &len);
	int rc;

	if (!text)
		return -1;
	rc = nf_templates_parse(st, text, len);
	free(text);
	return rc;
}

/* Write parts[0..n) (NULL entries skipped) to path through "<path>.tmp" and a rename. */
static int write_atomic(const char *path, const char *const *parts, int n)
{
	char tmp[4096];
	struct stat sb;
	FILE *f;
	bool bad = false;

	/* the rename below replaces the path: never a device, a socket or a directory */
	if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	if (!(f = fopen(tmp, "w")))
		return -1;
	for (int i = 0; i < n; i++)
		if (parts[i] && fputs(parts[i], f) == EOF)
			bad = true;
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		remove(tmp);
		return -1;
	}
	return 0;
}

int nf_tplstore_save(const struct nf_state *st, const char *path)
{
	char *text = nf_templates_dump(st, false, NULL);
	const char *parts[1] = { text };
	int rc = write_atomic(path, parts, 1);

	free(text);
	return rc;
}

/* The file's templates, respelled as the threads' own lines are (the merge compares keys as text). */
static char *tplstore_canonical(const char *path)
{
	struct nf_opts o = { .max_templates = UINT32_MAX };
	struct nf_state *st;
	char *text;

	st = nf_state_new(&o);
	(void)nf_tplstore_load(st, path);	/* what did not load is not carried over */
	text = nf_templates_dump(st, false, NULL);
	nf_state_free(st);
	return text;
}

struct nf_tplstore *nf_tplstore_new(const char *path)
{
	struct nf_tplstore *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->mu, NULL);
	s->path = xstrdup(path);
	s->loaded = tplstore_canonical(path);
	return s;
}

int nf_tplstore_join(struct nf_tplstore *s)
{
	s->served = xrealloc(s->served, (size_t)(s->n + 1) * sizeof(*s->served));
	s->served[s->n] = NULL;
	return s->n++;
}

/* A line's template key: what precedes `, "options"` (version, exporter, domain, id). */
static size_t tpl_key_len(const char *line)
{
	const char *o = strstr(line, ", \"options\"");
	return o ? (size_t)(o - line) : strcspn(line, "\n");
}

/* Is the key of `line` the key of a line in text? */
static bool tpl_key_in(const char *text, const char *line)
{
	size_t k = tpl_key_len(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (tpl_key_len(p) == k && strncmp(p, line, k) == 0)
			return true;
	return false;
}

/* The lines of s->loaded no thread has saved a template of (s->mu held); heap. */
static char *tplstore_unserved(const struct nf_tplstore *s)
{
	size_t len = strlen(s->loaded), off = 0;
	char *out = xmalloc(len + 1);

	for (const char *p = s->loaded, *e; p && *p; p = e ? e + 1 : NULL) {
		size_t n;
		bool dup = false;

		e = strchr(p, '\n');
		n = e ? (size_t)(e - p + 1) : strlen(p);
		for (int i = 0; i < s->n && !dup; i++)
			dup = s->served[i] && tpl_key_in(s->served[i], p);
		if (!dup) {
			memcpy(out + off, p, n);
			off += n;
		}
	}
	out[off] = '\0';
	return out;
}

int nf_tplstore_put(struct nf_tplstore *s, int slot, const struct nf_state *st)
{
	char *text = nf_templates_dump(st, true, NULL), *rest;
	const char **parts;
	int rc;

	pthread_mutex_lock(&s->mu);
	free(s->served[slot]);
	s->served[slot] = text;
	rest = tplstore_unserved(s);
	parts = xcalloc((size_t)s->n + 1, sizeof(*parts));
	for (int i = 0; i < s->n; i++)
		parts[i] = s->served[i];
	parts[s->n] = rest;
	rc = write_atomic(s->path, parts, s->n + 1);
	pthread_mutex_unlock(&s->mu);
	free(parts);
	free(rest);
	return rc;
}

void nf_tplstore_free(struct nf_tplstore *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++)
		free(s->served[i]);
	free(s->served);
	free(s->loaded);
	free(s->path);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
