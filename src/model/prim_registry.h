/* SPDX-License-Identifier: BSD-3-Clause */
/* prim_registry.h: the layout of struct prim_registry, private to model/prim.c and model/prim_custom.c. */
#ifndef MODEL_PRIM_REGISTRY_H
#define MODEL_PRIM_REGISTRY_H

#include "prim.h"

/* Longest custom primitive name, with its NUL (the client protocol carries 31 bytes). */
#define PRIM_CUSTOM_NAME_MAX 32

struct prim_registry {
	struct prim_desc custom[PRIM_CUSTOM_MAX];	/* rows of the custom slots */
	char names[PRIM_CUSTOM_MAX][PRIM_CUSTOM_NAME_MAX];	/* custom[i] name, title and JSON key */
	struct prim_custom defs[PRIM_CUSTOM_MAX];	/* decoding data of the defined slots */
	int n;				/* slots defined, from the first */
	uint16_t used;			/* bytes of flow_key.custom[] assigned */
};

#endif
