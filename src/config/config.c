/* SPDX-License-Identifier: BSD-3-Clause */
/* config.c: pmacct's configuration syntax: key[name]: value lines, applied in order. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "keys.h"
#include "model/gauge.h"
#include "model/prim.h"

#define CFG_LINE_MAX	10240		/* pmacct's limit, bytes per line */
#define CFG_WHO		"default/core"
#define CFG_CMDLINE	"command line"

/* One `key[name]: value` line, split and normalised, with where it came from. */
struct cfg_line {
	char *key;		/* lower case, no blanks */
	char *name;		/* plugin name as written, or NULL */
	char *value;		/* trimmed */
	const char *src;	/* file name or CFG_CMDLINE */
	int lineno;
	bool cli;		/* came from a command-line flag */
};

struct cfg_parse {
	struct core_cfg *cfg;
	struct cfg_line *v;
	int n, cap;
	bool in_cli;		/* lines being added come from the command line */
	bool cli_names_ignored;	/* -P without -f: names are dropped, as in pmacct */
};

/* Which daemons may run each plugin type (COMPAT 3.3, -P). */
enum { D_PM = 1 << CFG_PMACCTD, D_NF = 1 << CFG_NFACCTD, D_SF = 1 << CFG_SFACCTD };

static const struct {
	const char *type;
	unsigned daemons;
} plugin_types[] = {
	{ "memory", D_PM | D_NF | D_SF }, { "print", D_PM | D_NF | D_SF },
	{ "mysql", D_PM | D_NF | D_SF }, { "pgsql", D_PM | D_NF | D_SF },
	{ "sqlite3", D_PM | D_NF | D_SF }, { "amqp", D_PM | D_NF | D_SF },
	{ "kafka", D_PM | D_NF | D_SF }, { "nfprobe", D_PM | D_NF | D_SF },
	{ "sfprobe", D_PM | D_NF | D_SF }, { "tee", D_NF | D_SF },
	{ "http", D_PM | D_NF | D_SF },	/* ours: API, dashboard, /metrics (docs/http.md) */
};

static const char *const daemon_names[] = {
	[CFG_PMACCTD] = "pmacctd", [CFG_NFACCTD] = "nfacctd", [CFG_SFACCTD] = "sfacctd",
};

/* Remove every blank from s, in place. */
static void squeeze(char *s)
{
	char *d = s;

	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			*d++ = *s;
	*d = '\0';
}

/*
 * Split a blank-free key part into key and optional [name]; lower-case the
 * key.  Only `word` or `word[name]` are valid (COMPAT 3.1).  Returns 0, or -1
 * with *why set to pmacct's wording.
 */
static int split_key(char *k, char **name, const char **why)
{
	char *open = strchr(k, '['), *close = strchr(k, ']');

	*name = NULL;
	if (open && strchr(open + 1, '[') && (!close || strchr(open + 1, '[') < close)) {
		*why = "Syntax error: nested symbols not allowed";
		return -1;
	}
	if (open || close) {
		if (!open || !close || close < open || close == open + 1 || close[1] ||
		    strchr(close + 1, ']') || open == k) {
			*why = "Syntax error: illegal brackets";
			return -1;
		}
		*open = '\0';
		*close = '\0';
		*name = open + 1;
	}
	for (char *p = k; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

static void push_line(struct cfg_parse *ps, const char *key, const char *name, const char *value,
    const char *src, int lineno)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 64;
		ps->v = xrealloc(ps->v, (size_t)ps->cap * sizeof(*ps->v));
	}
	ps->v[ps->n++] = (struct cfg_line){
		.key = xstrdup(key), .name = name ? xstrdup(name) : NULL,
		.value = xstrdup(value), .src = src, .lineno = lineno, .cli = ps->in_cli,
	};
}

/* Parse one raw line (comments and blank lines skipped).  0 or -1 after logging. */
static int parse_line(struct cfg_parse *ps, char *raw, const char *src, int lineno)
{
	char *s = text_trim(raw), *colon, *name;
	const char *why;

	if (!*s || *s == '!' || *s == '#')
		return 0;
	colon = strchr(s, ':');
	if (!colon) {
		log_err(CFG_WHO, "[%s:%d] Syntax error: missing ':'. Exiting.", src, lineno);
		return -1;
	}
	*colon = '\0';
	squeeze(s);
	if (!*s) {
		log_err(CFG_WHO, "[%s:%d] Syntax error: missing key before ':'. Exiting.", src, lineno);
		return -1;
	}
	char *keycopy = xstrdup(s);
	if (split_key(s, &name, &why) < 0) {
		log_err(CFG_WHO, "[%s:%d] %s in key '%s'. Exiting.", src, lineno, why, keycopy);
		free(keycopy);
		return -1;
	}
	free(keycopy);
	push_line(ps, s, name, text_trim(colon + 1), src, lineno);
	return 0;
}

static int read_file(struct cfg_parse *ps, const char *file)
{
	FILE *f = fopen(file, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, rc = 0;

	if (!f) {
		log_err(CFG_WHO, "[%s] Unable to read configuration file: %s. Exiting.", file,
		    strerror(errno));
		return -1;
	}
	while (rc == 0 && (len = getline(&buf, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (len > CFG_LINE_MAX) {
			log_err(CFG_WHO, "[%s:%d] Line too long (%zd bytes, max %d). Exiting.", file,
			    lineno, len, CFG_LINE_MAX);
			rc = -1;
		} else if (strlen(buf) != (size_t)len) {
			log_err(CFG_WHO, "[%s:%d] Syntax error: NUL byte in line. Exiting.", file, lineno);
			rc = -1;
		} else {
			rc = parse_line(ps, buf, file, lineno);
		}
	}
	if (rc == 0 && ferror(f)) {
		log_err(CFG_WHO, "[%s] Unable to read configuration file: %s. Exiting.", file,
		    strerror(errno));
		rc = -1;
	}
	free(buf);
	fclose(f);
	return rc;
}

/* Command-line flags become `key: value` lines after the file (COMPAT 3.2). */
static int add_args(struct cfg_parse *ps, const struct cfg_arg *args, int nargs)
{
	ps->in_cli = true;
	for (int i = 0; i < nargs; i++) {
		size_t n = strlen(args[i].key) + strlen(args[i].value) + 3;
		char *line = xmalloc(n);
		snprintf(line, n, "%s: %s", args[i].key, args[i].value);
		int rc = parse_line(ps, line, CFG_CMDLINE, i + 1);
		free(line);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int plugin_type_ok(const struct cfg_parse *ps, const char *type, const struct cfg_line *l)
{
	for (size_t i = 0; i < NELEM(plugin_types); i++) {
		if (strcmp(plugin_types[i].type, type) != 0)
			continue;
		if (plugin_types[i].daemons & (1u << ps->cfg->daemon))
			return 0;
		log_err(CFG_WHO, "[%s:%d] '%s' plugin not supported in '%s'. Exiting.", l->src,
		    l->lineno, type, daemon_names[ps->cfg->daemon]);
		return -1;
	}
	log_err(CFG_WHO, "[%s:%d] Unknown plugin type: %s. Exiting.", l->src, l->lineno, type);
	return -1;
}

/* Add plugin `type[name]`; duplicates are warned about and skipped. */
static int add_plugin(struct cfg_parse *ps, const char *type, const char *name,
    const struct cfg_line *l)
{
	struct core_cfg *cfg = ps->cfg;
	char def[CFG_NAME_MAX];

	if (plugin_type_ok(ps, type, l) < 0)
		return -1;
	if (!name) {
		snprintf(def, sizeof(def), "default_%s", type);
		name = def;
	}
	if (strlen(name) >= CFG_NAME_MAX) {
		log_err(CFG_WHO, "[%s:%d] Plugin name '%s' too long (max %d). Exiting.", l->src,
		    l->lineno, name, CFG_NAME_MAX - 1);
		return -1;
	}
	if (cfg_plugin(cfg, name)) {
		log_warnx(CFG_WHO, "[%s:%d] another plugin with the same name '%s' already exists. "
		    "Preserving first.", l->src, l->lineno, name);
		return 0;
	}
	if (cfg->nplugins == CFG_MAX_PLUGINS) {
		log_err(CFG_WHO, "[%s:%d] Too many plugins (max %d). Exiting.", l->src, l->lineno,
		    CFG_MAX_PLUGINS);
		return -1;
	}
	cfg->plugins = xrealloc(cfg->plugins, (size_t)(cfg->nplugins + 1) * sizeof(*cfg->plugins));
	struct plugin_cfg *pc = &cfg->plugins[cfg->nplugins++];
	memset(pc, 0, sizeof(*pc));
	snprintf(pc->name, sizeof(pc->name), "%s", name);
	snprintf(pc->type, sizeof(pc->type), "%s", type);
	pc->prims = cfg->prims;
	cfg_keys_defaults(false, pc);
	return 0;
}

/* Parse `type[name], type, ...` of the first plugins line. */
static int parse_plugins(struct cfg_parse *ps, const struct cfg_line *l)
{
	char *list = xstrdup(l->value), *save = NULL, *tok, *name;
	const char *why;
	int rc = 0;

	for (tok = strtok_r(list, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		squeeze(tok);
		if (!*tok)
			continue;
		char *copy = xstrdup(tok);
		if (split_key(tok, &name, &why) < 0) {
			log_err(CFG_WHO, "[%s:%d] %s in plugin '%s'. Exiting.", l->src, l->lineno, why,
			    copy);
			rc = -1;
		} else {
			rc = add_plugin(ps, tok, ps->cli_names_ignored ? NULL : name, l);
		}
		free(copy);
	}
	free(list);
	return rc;
}

/* Create the plugins from the first plugins line, or the default memory plugin. */
static int make_plugins(struct cfg_parse *ps, const char *file, const struct cfg_line **first)
{
	*first = NULL;
	for (int i = 0; i < ps->n; i++) {
		if (strcmp(ps->v[i].key, "plugins") == 0) {
			*first = &ps->v[i];
			break;
		}
	}
	if (*first) {
		ps->cli_names_ignored = !file && (*first)->cli;
		if (parse_plugins(ps, *first) < 0)
			return -1;
	}
	if (ps->cfg->nplugins == 0) {
		if (file)
			log_warnx(CFG_WHO, "[%s] No plugin has been activated; defaulting to "
			    "in-memory table.", file);
		else
			log_warnx(CFG_WHO, "No plugin has been activated; defaulting to in-memory table.");
		struct cfg_line dl = { .src = file ? file : CFG_CMDLINE, .lineno = 0 };
		if (add_plugin(ps, "memory", NULL, &dl) < 0)
			return -1;
		ps->cfg->plugins_defaulted = true;
	}
	return 0;
}

static int set_value(const struct cfg_key *k, void *base, struct cfg_extra *origin,
    const struct cfg_line *l)
{
	char why[256], where[4096];

	if (cfg_key_set(k, base, l->value, why, sizeof(why)) == 0) {
		if (l->cli)
			snprintf(where, sizeof(where), "%s", CFG_CMDLINE);
		else
			snprintf(where, sizeof(where), "%s:%d", l->src, l->lineno);
		cfg_extra_set(origin, k->name, where);
		return 0;
	}
	log_err(CFG_WHO, "[%s:%d] Invalid value for key '%s': %s. Exiting.", l->src, l->lineno,
	    l->key, why);
	return -1;
}

/* Apply one line: to the core, to one plugin, or to every plugin. */
static int apply_line(struct cfg_parse *ps, const struct cfg_line *l, const struct cfg_line *first)
{
	struct core_cfg *cfg = ps->cfg;
	const struct cfg_key *k = cfg_key_lookup(l->key);

	if (!k) {
		log_warnx(CFG_WHO, "[%s:%d] Unknown key: %s. Ignored.", l->src, l->lineno, l->key);
		return 0;
	}
	if (k->type == CT_PLUGINS) {
		if (l != first)
			log_warnx(CFG_WHO, "[%s:%d] Unable to handle key: plugins. Ignored.", l->src,
			    l->lineno);
		return 0;
	}
	if (k->type == CT_RAW)	/* a feature not implemented: kept as text, said so */
		log_warnx(CFG_WHO, "[%s:%d] key '%s' is recognised but its feature is not implemented "
		    "in this version: ignored.", l->src, l->lineno, l->key);
	if (l->name && k->scope == CFG_GLOBAL)
		log_warnx(CFG_WHO, "[%s:%d] plugin name not supported for key '%s'. Globalized.",
		    l->src, l->lineno, l->key);
	if (k->scope == CFG_GLOBAL)
		return set_value(k, cfg, &cfg->origin, l);
	if (l->name) {
		struct plugin_cfg *pc = cfg_plugin(cfg, l->name);
		if (!pc) {
			log_warnx(CFG_WHO, "[%s:%d] Unknown symbol '%s'. Ignored.", l->src, l->lineno,
			    l->name);
			return 0;
		}
		return set_value(k, pc, &pc->origin, l);
	}
	if (k->scope == CFG_NO_GLOBAL) {
		log_err(CFG_WHO, "[%s:%d] Key '%s' cannot be global: bind it to a plugin, "
		    "e.g. %s[name]. Exiting.", l->src, l->lineno, l->key, l->key);
		return -1;
	}
	for (int i = 0; i < cfg->nplugins; i++)
		if (set_value(k, &cfg->plugins[i], &cfg->plugins[i].origin, l) < 0)
			return -1;
	return 0;
}

/* Settings computed from others once every line is applied. */
static void derive(struct core_cfg *cfg)
{
	for (int i = 0; i < cfg->nplugins; i++) {
		struct plugin_cfg *pc = &cfg->plugins[i];
		if (prim_sum_alone(&pc->aggregate)) {
			char who[2 * CFG_NAME_MAX + 2];
			snprintf(who, sizeof(who), "%s/%s", pc->name, pc->type);
			log_warnx(who, "SUM aggregation is to be used alone. Resetting other aggregation methods.");
		}
		if (!cfg->pidfile)
			continue;
		size_t n = strlen(cfg->pidfile) + strlen(pc->type) + strlen(pc->name) + 3;
		pc->pidfile = xmalloc(n);
		snprintf(pc->pidfile, n, "%s-%s-%s", cfg->pidfile, pc->type, pc->name);
	}
}

/*
 * aggregate_primitives defines primitive names the aggregate lines use,
 * wherever it stands in the file: load it (the last one) before any line
 * is applied.
 */
static int load_custom_primitives(const struct cfg_parse *ps)
{
	const struct cfg_line *l = NULL;
	char why[512];

	for (int i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i].key, "aggregate_primitives") == 0)
			l = &ps->v[i];
	if (!l)
		return 0;
	if (prim_custom_load(ps->cfg->prims, l->value, why, sizeof(why)) < 0) {
		log_err(CFG_WHO, "[%s:%d] key 'aggregate_primitives': %s. Exiting.", l->src, l->lineno,
		    why);
		return -1;
	}
	return 0;
}

static void free_lines(struct cfg_parse *ps)
{
	for (int i = 0; i < ps->n; i++) {
		free(ps->v[i].key);
		free(ps->v[i].name);
		free(ps->v[i].value);
	}
	free(ps->v);
}

int cfg_load(struct core_cfg *cfg, enum cfg_daemon d, const char *file,
    const struct cfg_arg *args, int nargs)
{
	struct cfg_parse ps = { .cfg = cfg };
	const struct cfg_line *first;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	cfg->daemon = d;
	cfg->config_file = file ? xstrdup(file) : NULL;
	cfg->prims = prim_registry_new();
	cfg_keys_defaults(true, cfg);
	if (file && read_file(&ps, file) < 0)
		goto out;
	if (add_args(&ps, args, nargs) < 0)
		goto out;
	if (make_plugins(&ps, file, &first) < 0)
		goto out;
	if (load_custom_primitives(&ps) < 0)
		goto out;
	for (int i = 0; i < ps.n; i++)
		if (apply_line(&ps, &ps.v[i], first) < 0)
			goto out;
	derive(cfg);
	rc = 0;
out:
	free_lines(&ps);
	if (rc < 0)
		cfg_fini(cfg);
	return rc;
}

void cfg_fini(struct core_cfg *cfg)
{
	for (size_t i = 0; i < cfg_nkeys; i++) {
		if (cfg_keys[i].scope == CFG_GLOBAL) {
			cfg_key_free(&cfg_keys[i], cfg);
			continue;
		}
		for (int p = 0; p < cfg->nplugins; p++)
			cfg_key_free(&cfg_keys[i], &cfg->plugins[p]);
	}
	for (int p = 0; p < cfg->nplugins; p++) {
		free(cfg->plugins[p].pidfile);
		cfg_extra_free(&cfg->plugins[p].origin);
	}
	cfg_extra_free(&cfg->origin);
	free(cfg->plugins);
	free(cfg->config_file);
	prim_registry_free(cfg->prims);
	gauges_free(cfg->gauges);
	memset(cfg, 0, sizeof(*cfg));
}

const char *cfg_where(const struct cfg_extra *origin, const char *key)
{
	const char *w = cfg_extra_get(origin, key);
	return w ? w : "default";
}

struct plugin_cfg *cfg_plugin(struct core_cfg *cfg, const char *name)
{
	for (int i = 0; i < cfg->nplugins; i++)
		if (strcmp(cfg->plugins[i].name, name) == 0)
			return &cfg->plugins[i];
	return NULL;
}

static void dump_plugins(const struct core_cfg *cfg, FILE *out)
{
	fputs("plugins: ", out);
	for (int i = 0; i < cfg->nplugins; i++)
		fprintf(out, "%s%s[%s]", i ? ", " : "", cfg->plugins[i].type, cfg->plugins[i].name);
	fputc('\n', out);
}

/* Print row k of `base` if it differs from `def` (or always); name = plugin or NULL. */
/* Keys whose values are secrets: the dump shows that they are set, never what they are. */
static bool key_secret(const char *name)
{
	return strstr(name, "passwd") || strstr(name, "password") || strstr(name, "token") ||
	    strstr(name, "secret");
}

static void dump_row(const struct cfg_key *k, const void *base, const void *def,
    const char *name, bool always, FILE *out)
{
	static const size_t len = CFG_LINE_MAX + 64;
	char *cur = xmalloc(len), *dflt = xmalloc(len);

	cfg_key_str(k, base, cur, len);
	cfg_key_str(k, def, dflt, len);
	if (cur[0] && key_secret(k->name) && strcmp(cur, dflt) != 0)
		snprintf(cur, len, "********");
	if (always || (cur[0] && strcmp(cur, dflt) != 0)) {
		if (name)
			fprintf(out, "%s[%s]: %s\n", k->name, name, cur);
		else
			fprintf(out, "%s: %s\n", k->name, cur);
	}
	free(cur);
	free(dflt);
}

void cfg_dump(const struct core_cfg *cfg, FILE *out)
{
	struct core_cfg dc = { 0 };
	struct plugin_cfg dp = { 0 };

	cfg_keys_defaults(true, &dc);
	cfg_keys_defaults(false, &dp);
	for (size_t i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (k->scope != CFG_GLOBAL)
			continue;
		if (k->type == CT_PLUGINS)
			dump_plugins(cfg, out);
		else
			dump_row(k, cfg, &dc, NULL, false, out);
	}
	for (int p = 0; p < cfg->nplugins; p++) {
		const struct plugin_cfg *pc = &cfg->plugins[p];
		for (size_t i = 0; i < cfg_nkeys; i++) {
			const struct cfg_key *k = &cfg_keys[i];
			if (k->scope != CFG_GLOBAL)
				dump_row(k, pc, &dp, pc->name, k->type == CT_AGG, out);
		}
	}
	for (size_t i = 0; i < cfg_nkeys; i++)
		cfg_key_free(&cfg_keys[i], cfg_keys[i].scope == CFG_GLOBAL ? (void *)&dc : (void *)&dp);
}
