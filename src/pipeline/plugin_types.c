/* SPDX-License-Identifier: BSD-3-Clause */
/* plugin_types.c: the table of the plugin types built into this binary (plugins/ and http/). */
#include "plugin_types.h"

#include <string.h>

#include "lib/text.h"

extern const struct plugin_type print_plugin_type;
extern const struct plugin_type memory_plugin_type;
#ifdef HAVE_HTTP
extern const struct plugin_type http_plugin_type;
#endif

#ifdef HAVE_SQLITE3
extern const struct plugin_type sqlite3_plugin_type;
#endif
#ifdef HAVE_PGSQL
extern const struct plugin_type pgsql_plugin_type;
#endif
#ifdef HAVE_MYSQL
extern const struct plugin_type mysql_plugin_type;
#endif
#ifdef HAVE_KAFKA
extern const struct plugin_type kafka_plugin_type;
#endif
#ifdef HAVE_RABBITMQ
extern const struct plugin_type amqp_plugin_type;
#endif
extern const struct plugin_type nfprobe_plugin_type;
extern const struct plugin_type sfprobe_plugin_type;
extern const struct plugin_type tee_plugin_type;

static const struct plugin_type *const plugin_types[] = {
	&print_plugin_type,
	&memory_plugin_type,
#ifdef HAVE_HTTP
	&http_plugin_type,
#endif
#ifdef HAVE_SQLITE3
	&sqlite3_plugin_type,
#endif
#ifdef HAVE_PGSQL
	&pgsql_plugin_type,
#endif
#ifdef HAVE_MYSQL
	&mysql_plugin_type,
#endif
#ifdef HAVE_KAFKA
	&kafka_plugin_type,
#endif
#ifdef HAVE_RABBITMQ
	&amqp_plugin_type,
#endif
	&nfprobe_plugin_type,
	&sfprobe_plugin_type,
	&tee_plugin_type,
};

const struct plugin_type *plugin_type_at(size_t i)
{
	return i < NELEM(plugin_types) ? plugin_types[i] : NULL;
}

const struct plugin_type *plugin_type_find(const char *name)
{
	for (size_t i = 0; i < NELEM(plugin_types); i++)
		if (strcmp(plugin_types[i]->name, name) == 0)
			return plugin_types[i];
	return NULL;
}
