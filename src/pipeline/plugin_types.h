/* SPDX-License-Identifier: BSD-3-Clause */
/* plugin_types.h: the table of the plugin types built into this binary (plugins/ and http/). */
#ifndef PIPELINE_PLUGIN_TYPES_H
#define PIPELINE_PLUGIN_TYPES_H

#include <stddef.h>

#include "plugins/plugin.h"

/* The plugin type called `name`, or NULL (a plugin_type_find_fn for plugins_create()). */
const struct plugin_type *plugin_type_find(const char *name);

/* The i-th plugin type built into this binary (-V lists them), NULL past the end. */
const struct plugin_type *plugin_type_at(size_t i);

#endif
