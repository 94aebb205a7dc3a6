/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * keydoc.c: the documentation generated from the key table (keys.c) and the
 * primitives table (prim.c): docs/config-keys.md and the pmacct.conf(5) and
 * daemon manual pages (through the docgen tool), so docs and code never drift.
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/keydoc.h"
#include "config/keys.h"
#include "model/prim.h"

static const char *const scope_name[] = {
	[CFG_GLOBAL] = "global", [CFG_PLUGIN] = "plugin", [CFG_NO_GLOBAL] = "plugin only",
};

static const char *const type_name[] = {
	[CT_BOOL] = "bool", [CT_UINT] = "uint", [CT_PORT] = "port", [CT_U64] = "uint64", [CT_INT] = "seconds",
	[CT_SIZE] = "size", [CT_STR] = "string", [CT_TEXT] = "text", [CT_NAME] = "name", [CT_OUTPUT] = "enum",
	[CT_AGG] = "aggregate list", [CT_PERIOD] = "period", [CT_ROUNDOFF] = "roundoff",
	[CT_SEP] = "separator", [CT_FACILITY] = "facility", [CT_PLUGINS] = "plugin list",
	[CT_MODE] = "octal mode", [CT_RAW] = "raw (not implemented)",
	[CT_TUNNEL] = "tunnel list",
};

void cfg_keys_markdown(FILE *out)
{
	fputs("# Configuration keys\n\n"
	    "Generated from the key table in `src/config/keys.c` by `docgen keys-markdown`; do not edit by hand.\n\n"
	    "Scope: *global* keys belong to the core (a `[name]` is warned about and ignored);\n"
	    "*plugin* keys may be bound to one plugin with `key[name]: value`, and a line without\n"
	    "`[name]` sets every plugin; *plugin only* keys must name a plugin. Lines are applied\n"
	    "in order, so the last line wins. *raw* keys are recognised and kept as text for\n"
	    "features not implemented yet.\n\n"
	    "| key | scope | type | default | aliases | meaning |\n"
	    "|---|---|---|---|---|---|\n", out);
	for (size_t i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		fprintf(out, "| `%s` | %s | %s | %s%s%s | %s | ", k->name, scope_name[k->scope],
		    type_name[k->type], k->def ? "`" : "", k->def ? k->def : "", k->def ? "`" : "",
		    k->aliases ? k->aliases : "");
		for (const char *d = k->descr; *d; d++) {
			if (*d == '|')
				fputc('\\', out);
			fputc(*d, out);
		}
		fputs(" |\n", out);
	}
}

/* Troff text: backslashes escaped, a leading dot or quote defused. */
static void man_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else if (*s == '`')
			continue;	/* markdown code quotes of the descriptions */
		else
			fputc(*s, out);
	}
}

static const char *const daemon_names[] = { "pmacctd", "nfacctd", "sfacctd" };

static void man_sources(FILE *out, uint8_t sources)
{
	bool first = true;

	for (int i = 0; i < 3; i++) {
		if (!(sources & (1u << i)))
			continue;
		fprintf(out, "%s%s", first ? "" : ", ", daemon_names[i]);
		first = false;
	}
}

void prim_man_list(FILE *out, uint8_t src)
{
	for (int i = 0; i < P_COUNT; i++) {
		const struct prim_desc *d = prim_desc_of(NULL, i);	/* built-in rows */
		if (!prim_listed(d, src))
			continue;
		fputs(".TP\n.B ", out);
		man_text(out, d->name);
		fputc('\n', out);
		man_text(out, d->descr);
		fputs(" (", out);
		man_text(out, d->group);
		if (src == SRC_ALL) {
			fputs("; ", out);
			man_sources(out, d->sources);
		}
		fputs(")\n", out);
	}
}

void cfg_keys_man(FILE *out, const char *version)
{
	fprintf(out, ".TH PMACCT.CONF 5 \"\" \"pmacct-ng %s\" \"File Formats\"\n.ad l\n", version);
	fputs(".SH NAME\npmacct.conf \\- configuration of pmacctd, nfacctd and sfacctd\n"
	    ".SH SYNOPSIS\n.B pmacctd \\-f\n.I file\n"
	    ".SH DESCRIPTION\n"
	    "One key per line, \\fIkey\\fR: \\fIvalue\\fR; `!' or `#' start a comment line.\n"
	    "Keys are case-insensitive. A plugin key may be bound to one plugin with\n"
	    "\\fIkey\\fR[\\fIname\\fR]: \\fIvalue\\fR; a line without [\\fIname\\fR] sets every plugin.\n"
	    "Lines are applied in order, so the last one wins; command-line flags come after\n"
	    "the file. Plugins are named in \\fBplugins\\fR, e.g. \\fBplugins: memory[in], print[out]\\fR.\n"
	    "An unknown key, or a value that does not parse, stops the daemon with the file,\n"
	    "line and key named. \\fB\\-T config\\fR checks a configuration and its maps without starting.\n"
	    ".PP\nScope \\fIglobal\\fR: a core key (a [name] is warned about and ignored);\n"
	    "\\fIplugin\\fR: may be bound to a plugin; \\fIplugin only\\fR: must name one.\n"
	    "Keys marked \\fIraw\\fR are recognised and kept for features not implemented yet.\n"
	    ".SH KEYS\n", out);
	for (size_t i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		fputs(".TP\n.B ", out);
		man_text(out, k->name);
		fprintf(out, "\n(%s, %s", scope_name[k->scope], type_name[k->type]);
		if (k->def) {
			fputs(", default ", out);
			man_text(out, k->def);
		}
		if (k->aliases) {
			fputs("; also ", out);
			man_text(out, k->aliases);
		}
		fputs(")\n.br\n", out);
		man_text(out, k->descr);
		fputc('\n', out);
	}
	fputs(".SH PRIMITIVES\nThe values of \\fBaggregate\\fR, and the daemons that fill them:\n", out);
	prim_man_list(out, SRC_ALL);
	fputs(".SH SEE ALSO\n.BR pmacctd (8),\n.BR nfacctd (8),\n.BR sfacctd (8),\n.BR pmacct (1)\n",
	    out);
}
