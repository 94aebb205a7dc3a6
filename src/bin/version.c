/* SPDX-License-Identifier: BSD-3-Clause */
/* version.c: -V, as pmacct prints it: banner, libraries with versions, plugins built, system;
 * and the lines of -h every daemon shares. */
#include "version.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <xxhash.h>

#include "pipeline/plugin_types.h"

#ifdef HAVE_SQLITE3
#include <sqlite3.h>
#endif
#ifdef HAVE_PGSQL
#include <libpq-fe.h>
#endif
#ifdef HAVE_MYSQL
#include <mysql.h>
#endif
#ifdef HAVE_KAFKA
#include <librdkafka/rdkafka.h>
#endif
#ifdef HAVE_RABBITMQ
#include <amqp.h>
#endif
#ifdef HAVE_HTTP
#include <microhttpd.h>
#endif

static void print_libs(FILE *out)
{
	unsigned xx = XXH_versionNumber();

	fprintf(out, "Libs:\n%s\n", pcap_lib_version());
	fprintf(out, "xxhash %u.%u.%u\n", xx / 10000, xx / 100 % 100, xx % 100);
#ifdef HAVE_SQLITE3
	fprintf(out, "sqlite3 %s\n", sqlite3_libversion());
#endif
#ifdef HAVE_PGSQL
	fprintf(out, "PostgreSQL %d\n", PQlibVersion());
#endif
#ifdef HAVE_MYSQL
	fprintf(out, "MariaDB %s\n", mysql_get_client_info());
#endif
#ifdef HAVE_KAFKA
	fprintf(out, "rdkafka %s\n", rd_kafka_version_str());
#endif
#ifdef HAVE_RABBITMQ
	fprintf(out, "rabbitmq-c %s\n", amqp_version());
#endif
#ifdef HAVE_HTTP
	fprintf(out, "libmicrohttpd %s\n", MHD_get_version());
#endif
}

void version_print(FILE *out, const char *banner)
{
	struct utsname u;
	const struct plugin_type *t;

	fprintf(out, "%s\n\n", banner);
	print_libs(out);
	fputs("\nPlugins:\n", out);
	for (size_t i = 0; (t = plugin_type_at(i)) != NULL; i++)
		fprintf(out, "%s\n", t->name);
	if (uname(&u) == 0)
		fprintf(out, "\nSystem:\n%s %s %s %s\n", u.sysname, u.release, u.version, u.machine);
#ifdef __VERSION__
#ifdef __clang__
	fprintf(out, "\nCompiler:\nclang %s\n", __clang_version__);
#else
	fprintf(out, "\nCompiler:\ngcc %s\n", __VERSION__);
#endif
#endif
}

void version_usage_head(FILE *out, const char *name, const char *synopsis)
{
	fprintf(out, "Usage: %s %s\n       %s [ -f config_file ]\n       %s [ -h ]\n\n", name, synopsis,
	    name, name);
	fputs("General options:\n"
	    "  -h  \tShow this page\n"
	    "  -V  \tShow version and compile-time options and exit\n"
	    "  -f  \tLoad configuration from the specified file\n"
	    "  -T  \tconfig: check the configuration, its filters and maps, print it and exit\n"
	    "  -a  \tPrint list of supported aggregation primitives\n"
	    "  -c  \tAggregation method, see full list of primitives with -a (DEFAULT: src_host)\n"
	    "  -D  \tDaemonize\n", out);
}

void version_usage_plugin_types(FILE *out, unsigned source)
{
	const struct plugin_type *t;
	const char *sep = "";

	fputs("  -P  \t[ ", out);
	for (size_t i = 0; (t = plugin_type_at(i)) != NULL; i++) {
		if (!(t->daemons & source))
			continue;
		fprintf(out, "%s%s", sep, t->name);
		sep = " | ";
	}
	fputs(" ] \n\tActivate plugin\n", out);
}
