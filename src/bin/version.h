/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PMNG_BIN_VERSION_H
#define PMNG_BIN_VERSION_H

#include <stdio.h>

/* -V: banner, the libraries linked with their versions, the plugins built in, system, compiler. */
void version_print(FILE *out, const char *banner);

#endif
