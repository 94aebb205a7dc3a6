/* SPDX-License-Identifier: BSD-3-Clause */
/* xalloc.h: allocation wrappers that abort on out-of-memory, so none goes unchecked. */
#ifndef LIB_XALLOC_H
#define LIB_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
