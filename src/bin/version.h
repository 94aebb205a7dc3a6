/* SPDX-License-Identifier: BSD-3-Clause */
/* version.h: -V output (version, build options, plugin types) and the usage lines every daemon shares. */
#ifndef PMNG_BIN_VERSION_H
#define PMNG_BIN_VERSION_H

#include <stdio.h>

/* -V: banner, the libraries linked with their versions, the plugins built in, system, compiler. */
void version_print(FILE *out, const char *banner);

/*
 * -h: the synopsis of daemon `name` (its flags in `synopsis`), then the general options every
 * daemon shows first: -h -V -f -T -a -c -D.
 */
void version_usage_head(FILE *out, const char *name, const char *synopsis);

/* -h: the -P line, every plugin type built in that runs in daemon `source` (SRC_PM ...). */
void version_usage_plugin_types(FILE *out, unsigned source);

#endif
