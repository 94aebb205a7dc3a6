/* SPDX-License-Identifier: BSD-3-Clause */
/* keys.h: the one table of configuration keys and its generic per-type handlers. */
#ifndef CONFIG_KEYS_H
#define CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Where a key may be set. */
enum cfg_scope {
	CFG_GLOBAL,	/* core only; a [name] is warned about and globalized */
	CFG_PLUGIN,	/* per plugin; a line without [name] sets every plugin */
	CFG_NO_GLOBAL,	/* per plugin only; a line without [name] is an error */
};

/* How a value is parsed, stored and printed back. */
enum cfg_type {
	CT_BOOL,	/* bool: true | false, any case */
	CT_UINT,	/* uint32_t: digits only, >= min, <= max when set */
	CT_PORT,	/* uint32_t: a TCP/UDP port, 1..65535 */
	CT_U64,		/* uint64_t: digits only */
	CT_INT,		/* int32_t: digits only (non-negative) */
	CT_SIZE,	/* size_t: digits only, >= min */
	CT_STR,		/* char *, owned */
	CT_TEXT,	/* char *, owned; an empty value is kept ("" is a setting) */
	CT_NAME,	/* char[size], inline */
	CT_OUTPUT,	/* enum print_fmt */
	CT_AGG,		/* struct prim_set, through prim_parse_list() */
	CT_PERIOD,	/* struct cfg_period: N[m|h|d|w|M], bare N = seconds */
	CT_ROUNDOFF,	/* char[size]: letters of m h d w M */
	CT_SEP,		/* char[size]: one character, \t and \s decoded */
	CT_FACILITY,	/* char *: a syslog facility name */
	CT_PLUGINS,	/* the plugins: line, handled by the parser itself */
	CT_RAW,		/* struct cfg_extra: kept as text, feature not implemented */
	CT_MODE,	/* uint32_t: an octal file mode, as chmod takes it */
	CT_TUNNEL,	/* struct cfg_tunnel: tunnel_0's "<proto>[, <port>]; ..." */
};

struct cfg_key {
	const char *name;	/* canonical name, lower case */
	const char *aliases;	/* space-separated other names, or NULL */
	enum cfg_scope scope;
	enum cfg_type type;
	uint16_t off;		/* offsetof into core_cfg (GLOBAL) or plugin_cfg */
	uint16_t size;		/* CT_NAME / CT_ROUNDOFF / CT_SEP buffer size */
	uint32_t min;		/* CT_UINT / CT_SIZE: smallest accepted value */
	const char *def;	/* default, parsed by the same handler; NULL = none */
	const char *descr;	/* one line for docs/config-keys.md */
	uint32_t max;		/* CT_UINT: largest accepted value, 0 = the type's */
};

extern const struct cfg_key cfg_keys[];
extern const size_t cfg_nkeys;

/* The row whose name or alias is `name` (lower case); NULL if none. */
const struct cfg_key *cfg_key_lookup(const char *name);

/*
 * Parse `val` with k's type handler into the struct at `base` (a core_cfg
 * for CFG_GLOBAL rows, else a plugin_cfg).  Returns 0, or -1 with a short
 * reason in why[] (nothing stored).
 */
int cfg_key_set(const struct cfg_key *k, void *base, const char *val, char *why, size_t wlen);

/* Print k's value at `base` as it would be written in a config file; "" when unset. */
void cfg_key_str(const struct cfg_key *k, const void *base, char *buf, size_t len);

/* Free what k owns at `base` (strings, raw lists) and reset it. */
void cfg_key_free(const struct cfg_key *k, void *base);

/* Apply every default of `scope`'s rows (GLOBAL: core_cfg, else plugin_cfg) to `base`. */
void cfg_keys_defaults(bool global, void *base);

#endif
