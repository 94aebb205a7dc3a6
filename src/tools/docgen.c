/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * docgen: documentation from the key and primitives tables (build time).
 *   docgen keys-markdown                 docs/config-keys.md
 *   docgen man-config                    pmacct.conf(5)
 *   docgen man-page TEMPLATE [OUT]       a manual page from a template: @VERSION@ and lines
 *                                        @PRIMITIVES pmacctd|nfacctd|sfacctd@ are filled in
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/keydoc.h"
#include "model/prim.h"

static int source_of(const char *name)
{
	if (strcmp(name, "pmacctd") == 0)
		return SRC_PM;
	if (strcmp(name, "nfacctd") == 0)
		return SRC_NF;
	if (strcmp(name, "sfacctd") == 0)
		return SRC_SF;
	return -1;
}

static void put_version(FILE *out, const char *line)
{
	const char *at;

	while ((at = strstr(line, "@VERSION@")) != NULL) {
		fwrite(line, 1, (size_t)(at - line), out);
		fputs(PMACCT_NG_VERSION, out);
		line = at + strlen("@VERSION@");
	}
	fputs(line, out);
}

static int man_page(const char *tpl, FILE *out)
{
	FILE *in = fopen(tpl, "r");
	char line[4096], daemon[32];
	int lineno = 0, rc = 0;

	if (!in) {
		perror(tpl);
		return 1;
	}
	while (fgets(line, sizeof(line), in)) {
		lineno++;
		if (sscanf(line, "@PRIMITIVES %31[a-z]@", daemon) == 1) {
			int src = source_of(daemon);
			if (src < 0) {
				fprintf(stderr, "%s:%d: unknown daemon '%s'\n", tpl, lineno, daemon);
				rc = 1;
				break;
			}
			prim_man_list(out, (uint8_t)src);
		} else {
			put_version(out, line);
		}
	}
	fclose(in);
	return rc;
}

int main(int argc, char **argv)
{
	FILE *out = stdout;
	int rc;

	if (argc == 2 && strcmp(argv[1], "keys-markdown") == 0) {
		cfg_keys_markdown(out);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "man-config") == 0) {
		cfg_keys_man(out, PMACCT_NG_VERSION);
		return 0;
	}
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "man-page") == 0) {
		if (argc == 4 && !(out = fopen(argv[3], "w"))) {
			perror(argv[3]);
			return 1;
		}
		rc = man_page(argv[2], out);
		if (out != stdout && fclose(out) != 0)
			rc = 1;
		return rc;
	}
	fprintf(stderr, "usage: docgen keys-markdown | man-config | man-page TEMPLATE [OUT]\n");
	return 2;
}
