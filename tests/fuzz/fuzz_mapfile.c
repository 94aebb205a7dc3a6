/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_mapfile.c: libFuzzer target for lib/mapfile (rows, key=value tokens), tee_receivers rows and the allow file. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "lib/mapfile.h"
#include "maps/allow.h"
#include "maps/tee_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every token of a row copy, with or without quotes; a key or word is never empty. */
static void tokens(const char *row, unsigned flags)
{
	char *copy = strdup(row), *c = copy;
	struct mapfile_kv kv;
	enum mapfile_tok t;

	if (!copy)
		abort();
	while ((t = mapfile_kv_next(&c, flags, &kv)) != MAPFILE_TOK_END) {
		if ((t == MAPFILE_TOK_KV && (!kv.key[0] || !kv.val)) ||
		    (t == MAPFILE_TOK_WORD && !kv.word[0]) || c < copy || c > copy + strlen(row))
			abort();
		if (t == MAPFILE_TOK_QUOTE)
			break;
	}
	free(copy);
}

/*
 * The whole input is a map file: each row must be trimmed, not a comment,
 * numbered after the one before; its tokens and its reading as a
 * tee_receivers row must hold; then the file is loaded as an allow list.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fr_ip ip = { .af = 4, .a = { 10, 0, 0, 1 } };
	struct mapfile mf;
	char path[64], why[256], *row;
	unsigned last = 0;
	int fd;

	fuzz_quiet();
	if ((fd = fuzz_file(data, size, path, sizeof(path))) < 0)
		return 0;
	if (mapfile_init(&mf, path) == 0) {
		while ((row = mapfile_next(&mf))) {
			size_t n = strlen(row);
			if (!n || mf.line <= last || isspace((unsigned char)row[0]) ||
			    isspace((unsigned char)row[n - 1]) || row[0] == '!' || row[0] == '#')
				abort();
			last = mf.line;
			tokens(row, 0);
			tokens(row, MAPFILE_QUOTES);
			struct tee_map_row r;
			if (tee_map_row_parse(row, &r, why, sizeof(why)) == 0) {
				if (!r.id || !r.ip)
					abort();
				free(r.tags);
			}
		}
	}
	mapfile_fini(&mf);
	struct allow_list *a = allow_load(path, "default/core");
	close(fd);
	if (a)
		(void)allow_match(a, &ip);
	allow_free(a);
	return 0;
}
