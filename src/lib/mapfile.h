/* SPDX-License-Identifier: BSD-3-Clause */
/* mapfile.h: the one reader of map files: rows of any length, comments, true line numbers, key=value tokens. */
#ifndef LIB_MAPFILE_H
#define LIB_MAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * A map file being read, row by row (caller's storage: mapfile_init /
 * mapfile_fini).  Every map of the project (networks_file, ports_file,
 * pre_tag_map, flow_to_rd_map, sampling_map, aggregate_primitives,
 * tee_receivers, the collectors' allow file) is read through it, so a row
 * is one line whatever its length, `!` and `#` start comment lines as in
 * pmacct, and `line` is the row's number in the file.
 */
struct mapfile {
	FILE *f;
	const char *path;	/* as given to mapfile_init (not copied) */
	char *buf;		/* getline() buffer */
	size_t cap;
	unsigned line;		/* 1-based number of the row last returned, 0 before */
	size_t raw_len;		/* its length as written, without the "\n" or "\r\n" */
};

/*
 * Open path for reading.  Returns 0, or -1 with errno set (the file could
 * not be opened; mf then needs no mapfile_fini, though it is harmless).
 * path must outlive mf: it names the file in messages.
 */
int mapfile_init(struct mapfile *mf, const char *path);

/* Close the file and free the row buffer; a zeroed or failed mf is fine. */
void mapfile_fini(struct mapfile *mf);

/*
 * The next row that is neither blank nor a comment (first non-blank
 * character `!` or `#`), with its leading and trailing blanks (and
 * line end) removed; NULL at the end of the file.  The row is writable and
 * belongs to mf until the next call; mf->line and mf->raw_len describe it.
 */
char *mapfile_next(struct mapfile *mf);

/*
 * Is the current row longer than pmacct's maps_row_len allows?  1.7.7
 * reads rows with fgets() into a buffer of row_len bytes, so a row fits
 * when it and its newline and NUL do (row_len - 2 characters).  row_len 0:
 * no limit.
 */
bool mapfile_too_long(const struct mapfile *mf, size_t row_len);

/*
 * The one form of a row's message: "[file:line] " and fmt.  mapfile_warn
 * logs a warning under who (log_warnx), mapfile_error an error (log_err),
 * mapfile_fail writes it into err (errlen bytes) for a loader that returns it.
 */
void mapfile_warn(const struct mapfile *mf, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mapfile_error(const struct mapfile *mf, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mapfile_fail(const struct mapfile *mf, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- key=value tokens ---- */

/* Options of mapfile_kv_next. */
enum {
	MAPFILE_QUOTES = 1,	/* a value may be quoted with ' or " (and then hold blanks) */
};

/* What mapfile_kv_next found. */
enum mapfile_tok {
	MAPFILE_TOK_END,	/* the row is over */
	MAPFILE_TOK_KV,		/* key=value: kv->key (not empty) and kv->val (may be empty) */
	MAPFILE_TOK_WORD,	/* a word that is not key=value (no '=', or nothing before it): kv->word */
	MAPFILE_TOK_QUOTE,	/* MAPFILE_QUOTES: a quoted value is not closed: kv->key */
};

struct mapfile_kv {
	char *key, *val;	/* MAPFILE_TOK_KV */
	char *word;		/* MAPFILE_TOK_WORD */
};

/*
 * Cut the next blank-separated key=value token off *cursor (a row from
 * mapfile_next, written to: NULs end key and value) and advance *cursor
 * past it.  The key runs to the first '=', the value to the next blank (or,
 * with MAPFILE_QUOTES, from an opening ' or " to the same quote).
 */
enum mapfile_tok mapfile_kv_next(char **cursor, unsigned flags, struct mapfile_kv *kv);

/* One key of a map's key table: its name, and the loader's own id for it. */
struct mapfile_key {
	const char *name;
	int id;
};

/*
 * The id of key `name` in table keys[n], or -1 when the map has no such
 * key.  Names match exactly: pmacct 1.7.7 refuses `ID=` where it takes
 * `id=` (pre_tag_map, aggregate_primitives: "unknown key 'ID'"), so every
 * map here does the same.
 */
int mapfile_key_id(const struct mapfile_key *keys, size_t n, const char *name);

#endif
