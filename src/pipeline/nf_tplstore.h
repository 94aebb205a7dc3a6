/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_tplstore.h: nfacctd_templates_file on disk: loaded at start-up, saved atomically, shared by receive threads. */
#ifndef PIPELINE_NF_TPLSTORE_H
#define PIPELINE_NF_TPLSTORE_H

#include "decode/netflow.h"

/*
 * Load the templates file at path into st (nf_templates_parse()).
 * Returns 0 when every template in it loaded, -1 when the file cannot be
 * read or one of its entries did not load (the others did).
 */
int nf_tplstore_load(struct nf_state *st, const char *path);

/*
 * Write every template cached in st to path: to "<path>.tmp", then renamed
 * over path, so a crash never leaves half a file.  A path that exists and
 * is not a regular file is left alone.  0 or -1 (the temporary removed).
 */
int nf_tplstore_save(const struct nf_state *st, const char *path);

/*
 * With collector_workers each receive thread has its own template cache;
 * the file is then the merge of what each thread last saved (the templates
 * of the exporters it serves) and, for exporters no thread has heard from
 * yet, of the templates the file held at start-up.  Threads share one
 * nf_tplstore; saving is serialized inside.
 */
struct nf_tplstore;

/* A store for path, with the file's text as it is now (none if unreadable). */
struct nf_tplstore *nf_tplstore_new(const char *path);

/* A further thread's slot in s (0, 1, ...); before the threads run. */
int nf_tplstore_join(struct nf_tplstore *s);

/*
 * Thread `slot` saves: its served templates replace what it saved before,
 * then the merged file is written as nf_tplstore_save() does.  0 or -1.
 */
int nf_tplstore_put(struct nf_tplstore *s, int slot, const struct nf_state *st);

/* Free the store (NULL: nothing), once no thread uses it. */
void nf_tplstore_free(struct nf_tplstore *s);

#endif
