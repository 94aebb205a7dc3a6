/* SPDX-License-Identifier: BSD-3-Clause */
/* test_config.c: config parser rows, scoping, precedence, errors, and the golden-file runner. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/keydoc.h"
#include "config/keys.h"
#include "tap.h"

#define GOLDEN_DIR "tests/golden"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

/* cfg_load with stderr captured into *log (caller frees). */
static int load(struct core_cfg *c, enum cfg_daemon d, const char *file,
    const struct cfg_arg *a, int n, char **log)
{
	FILE *t = tmpfile();
	int saved, rc;
	long len;

	fflush(stderr);
	saved = dup(2);
	dup2(fileno(t), 2);
	rc = cfg_load(c, d, file, a, n);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	len = ftell(t);
	rewind(t);
	*log = calloc(1, (size_t)len + 1);
	if (fread(*log, 1, (size_t)len, t) != (size_t)len)
		(*log)[0] = '\0';
	fclose(t);
	return rc;
}

/* Write text to a temporary config file; returns its path (static buffer per call site). */
static const char *conf(const char *text, char *path, size_t len)
{
	snprintf(path, len, "/tmp/test_config_XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

/* Load text; returns rc, fills *c and *log. */
static int load_text(struct core_cfg *c, const char *text, const struct cfg_arg *a, int n,
    char **log)
{
	char path[64];
	int rc = load(c, CFG_PMACCTD, conf(text, path, sizeof(path)), a, n, log);
	unlink(path);
	return rc;
}

static void test_types(void)
{
	struct plugin_cfg pc = { 0 };
	struct core_cfg cc = { 0 };
	char why[256], buf[256];
	const struct cfg_key *k;

	cfg_keys_defaults(false, &pc);
	cfg_keys_defaults(true, &cc);
	is_int(pc.pipe_size, 4096000, "default plugin_pipe_size");
	is_int(pc.refresh_time, 60, "default print_refresh_time");
	is_int(pc.cache_entries, 16411, "default print_cache_entries");
	is_int(pc.output, OUT_FORMATTED, "default print_output");
	is_str(pc.output_separator, ",", "default separator");
	is_str(pc.imt_path, "/tmp/collect.pipe", "default imt_path");
	is_int(pc.imt_buckets, 32771, "default imt_buckets");
	is_int(pc.imt_mem_pools_number, 16, "default imt_mem_pools_number");
	is_int(pc.imt_mem_pools_size, 8192, "default imt_mem_pools_size");
	ok(prim_has(&pc.aggregate, P_SRC_HOST) && pc.aggregate.w[0] == 1ull << P_SRC_HOST && pc.aggregate.w[1] == 0,
	    "default aggregate src_host");
	ok(cc.promisc && cc.maps_refresh, "default promisc, maps_refresh true");
	is_int(cc.snaplen, 128, "default snaplen");
	is_int(cc.flow_lifetime, 60, "default flow lifetime");
	is_str(cc.core_proc_name, "default", "default core_proc_name");

	k = cfg_key_lookup("print_markers");
	ok(cfg_key_set(k, &pc, "TRUE", why, sizeof(why)) == 0 && pc.markers, "bool TRUE");
	ok(cfg_key_set(k, &pc, "yes", why, sizeof(why)) < 0, "bool yes refused: %s", why);
	k = cfg_key_lookup("print_cache_entries");
	ok(cfg_key_set(k, &pc, "99991", why, sizeof(why)) == 0 && pc.cache_entries == 99991, "uint");
	ok(cfg_key_set(k, &pc, "4294967296", why, sizeof(why)) < 0, "uint overflow: %s", why);
	ok(cfg_key_set(k, &pc, "12 ", why, sizeof(why)) < 0, "uint with blank refused");
	k = cfg_key_lookup("post_tag");
	ok(cfg_key_set(k, &pc, "18446744073709551615", why, sizeof(why)) == 0 &&
	    pc.post_tag == UINT64_MAX, "u64 max");
	k = cfg_key_lookup("plugin_pipe_size");
	ok(cfg_key_set(k, &pc, "10240000", why, sizeof(why)) == 0 && pc.pipe_size == 10240000, "size");
	k = cfg_key_lookup("print_output");
	ok(cfg_key_set(k, &pc, "Event_CSV", why, sizeof(why)) == 0 && pc.output == OUT_EVENT_CSV,
	    "output any case");
	k = cfg_key_lookup("print_output_separator");
	ok(cfg_key_set(k, &pc, "\\t", why, sizeof(why)) == 0 && strcmp(pc.output_separator, "\t") == 0,
	    "separator \\t decoded");
	cfg_key_str(k, &pc, buf, sizeof(buf));
	is_str(buf, "\\t", "separator printed back as \\t");
	ok(cfg_key_set(k, &pc, "\\s", why, sizeof(why)) == 0 && strcmp(pc.output_separator, " ") == 0,
	    "separator \\s decoded");
	k = cfg_key_lookup("print_history");
	ok(cfg_key_set(k, &pc, "300", why, sizeof(why)) == 0 && pc.history.n == 5 &&
	    pc.history.unit == 'm' && pc.history.secs == 300, "history bare seconds -> 5m");
	ok(cfg_key_set(k, &pc, "1w", why, sizeof(why)) == 0 && pc.history.secs == 604800, "history 1w");
	ok(cfg_key_set(k, &pc, "2M", why, sizeof(why)) == 0 && pc.history.unit == 'M' &&
	    pc.history.n == 2, "history 2M");
	ok(cfg_key_set(k, &pc, "0", why, sizeof(why)) < 0, "history 0 refused");
	ok(cfg_key_set(k, &pc, "5mm", why, sizeof(why)) < 0, "history 5mm refused");
	k = cfg_key_lookup("print_history_roundoff");
	ok(cfg_key_set(k, &pc, "Mh", why, sizeof(why)) == 0 && strcmp(pc.history_roundoff, "Mh") == 0,
	    "roundoff Mh");
	ok(cfg_key_set(k, &pc, "mm", why, sizeof(why)) < 0, "roundoff repeated letter refused");
	k = cfg_key_lookup("aggregate");
	ok(cfg_key_set(k, &pc, "proto, dst_host", why, sizeof(why)) == 0 &&
	    prim_has(&pc.aggregate, P_PROTO) && prim_has(&pc.aggregate, P_DST_HOST), "aggregate list");
	k = cfg_key_lookup("syslog");
	ok(cfg_key_set(k, &cc, "Daemon", why, sizeof(why)) == 0 && strcmp(cc.syslog, "daemon") == 0,
	    "facility normalised");
	for (size_t i = 0; i < cfg_nkeys; i++) {
		cfg_key_free(&cfg_keys[i], cfg_keys[i].scope == CFG_GLOBAL ? (void *)&cc : (void *)&pc);
	}
}

static void test_aliases(void)
{
	static const struct { const char *alias, *canon; } al[] = {
		{ "interface", "pcap_interface" }, { "savefile_wait", "pcap_savefile_wait" },
		{ "interface_wait", "pcap_interface_wait" }, { "refresh_maps", "maps_refresh" },
		{ "sql_refresh_time", "print_refresh_time" }, { "kafka_refresh_time", "print_refresh_time" },
		{ "sql_history", "print_history" }, { "sql_history_roundoff", "print_history_roundoff" },
		{ "nfacctd_nonroot", "pmacctd_nonroot" }, { "sql_backup_host", "sql_recovery_backup_host" },
		{ "pmacctd_proc_name", "core_proc_name" },
	};
	for (size_t i = 0; i < sizeof(al) / sizeof(al[0]); i++) {
		const struct cfg_key *k = cfg_key_lookup(al[i].alias);
		ok(k && strcmp(k->name, al[i].canon) == 0, "alias %s -> %s", al[i].alias, al[i].canon);
	}
	ok(cfg_key_lookup("bogus") == NULL, "unknown key not found");
	for (size_t i = 0; i < cfg_nkeys; i++)
		for (size_t j = i + 1; j < cfg_nkeys; j++)
			if (strcmp(cfg_keys[i].name, cfg_keys[j].name) == 0)
				ok(0, "duplicate row %s", cfg_keys[i].name);
}

static void test_precedence(void)
{
	struct core_cfg c;
	char *log;

	ok(load_text(&c, "plugins: print[a]\nprint_output[a]: csv\nprint_output: json\n", NULL, 0,
	    &log) == 0 && c.plugins[0].output == OUT_JSON, "per-plugin then global: global wins");
	cfg_fini(&c);
	free(log);
	ok(load_text(&c, "plugins: print[a]\nprint_output: json\nprint_output[a]: csv\n", NULL, 0,
	    &log) == 0 && c.plugins[0].output == OUT_CSV, "global then per-plugin: plugin wins");
	cfg_fini(&c);
	free(log);

	struct cfg_arg args[] = { { "print_output", "formatted" }, { "sql_refresh_time", "10" },
		{ "plugins", "memory" } };
	ok(load_text(&c, "plugins: print[a]\nprint_output: csv\nprint_refresh_time[a]: 30\n", args, 3,
	    &log) == 0, "file + command line loads");
	is_int(c.plugins[0].output, OUT_FORMATTED, "command line overrides file");
	is_int(c.plugins[0].refresh_time, 10, "-r (sql_refresh_time) overrides print_refresh_time");
	is_int(c.nplugins, 1, "-P ignored when the file has plugins");
	ok(strstr(log, "[command line:3] Unable to handle key: plugins. Ignored.") != NULL,
	    "second plugins line warned: %s", log);
	cfg_fini(&c);
	free(log);

	struct cfg_arg p[] = { { "plugins", "print[x], memory" }, { "aggregate", "dst_host" } };
	ok(load(&c, CFG_PMACCTD, NULL, p, 2, &log) == 0 && c.nplugins == 2, "no file, -P only");
	is_str(c.plugins[0].name, "default_print", "without -f, -P names are ignored");
	ok(prim_has(&c.plugins[1].aggregate, P_DST_HOST), "-c applies to all plugins");
	ok(c.config_file == NULL, "no config_file");
	cfg_fini(&c);
	free(log);
}

static void test_scoping(void)
{
	struct core_cfg c;
	char *log;

	ok(load_text(&c, "plugins: print[a], memory[b]\ndaemonize[a]: true\naggregate[zz]: proto\n"
	    "bogus: 1\nsql_table[b]: t1\nsql_host: h\n", NULL, 0, &log) == 0, "scoping loads");
	ok(c.daemonize, "globalized key applied");
	ok(strstr(log, ":2] plugin name not supported for key 'daemonize'. Globalized.") != NULL,
	    "globalized warning");
	ok(strstr(log, ":3] Unknown symbol 'zz'. Ignored.") != NULL, "unknown plugin warning");
	ok(strstr(log, "WARN ( default/core ): [") && strstr(log, ":4] Unknown key: bogus. Ignored."),
	    "unknown key warning in pmacct form");
	is_str(c.plugins[1].sql_table, "t1", "per-plugin key stored");
	ok(c.plugins[0].sql_table == NULL, "per-plugin key bound to one plugin");
	is_str(c.plugins[0].sql_host, "h", "global plugin key on all");
	ok(cfg_plugin(&c, "b") == &c.plugins[1] && cfg_plugin(&c, "B") == NULL, "cfg_plugin");
	cfg_fini(&c);
	free(log);

	ok(load(&c, CFG_PMACCTD, "/nonexistent/x.conf", NULL, 0, &log) < 0 &&
	    strstr(log, "[/nonexistent/x.conf] Unable to read configuration file"), "unreadable file");
	free(log);
	ok(load_text(&c, "pidfile: /run/p.pid\nplugins: print[p]\n", NULL, 0, &log) == 0 &&
	    strcmp(c.plugins[0].pidfile, "/run/p.pid-print-p") == 0, "per-plugin pidfile");
	cfg_fini(&c);
	free(log);
}

static enum cfg_daemon golden_daemon(const char *name)
{
	if (strncmp(name, "nf_", 3) == 0)
		return CFG_NFACCTD;
	if (strncmp(name, "sf_", 3) == 0)
		return CFG_SFACCTD;
	return CFG_PMACCTD;
}

/* The dump of a config, parsed again as a config, dumps to the same text (what `-T config` prints is a config). */
static void golden_round_trip(const char *name, const char *dump)
{
	char path[] = "/tmp/test_config_dumpXXXXXX", *log, *again = NULL;
	size_t len = 0;
	struct core_cfg c;
	int fd = mkstemp(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	if (!ok(f != NULL, "golden %s: a file for its dump", name))
		return;
	fputs(dump, f);
	fclose(f);
	int rc = load(&c, golden_daemon(name), path, NULL, 0, &log);
	unlink(path);
	if (!ok(rc == 0, "golden %s: its dump loads", name)) {
		printf("# log: %s", log);
		free(log);
		return;
	}
	FILE *m = open_memstream(&again, &len);
	cfg_dump(&c, m);
	fclose(m);
	cfg_fini(&c);
	if (!ok(strcmp(again, dump) == 0, "golden %s: its dump dumps to itself", name))
		printf("# --- dump of the dump\n%s# --- dump\n%s", again, dump);
	free(again);
	free(log);
}

/*
 * NAME.conf against NAME.ok (cfg_dump) or NAME.err (must fail, log contains the text).
 * GOLDEN_UPDATE=1 in the environment rewrites NAME.ok from the dump (tests/golden/README.md).
 */
static void golden_one(const char *name)
{
	char conf_p[512], ok_p[512], err_p[512], *want, *log, *got = NULL;
	size_t glen = 0;
	struct core_cfg c;
	size_t n = strlen(name) - 5;

	snprintf(conf_p, sizeof(conf_p), GOLDEN_DIR "/%s", name);
	snprintf(ok_p, sizeof(ok_p), GOLDEN_DIR "/%.*s.ok", (int)n, name);
	snprintf(err_p, sizeof(err_p), GOLDEN_DIR "/%.*s.err", (int)n, name);
	int rc = load(&c, golden_daemon(name), conf_p, NULL, 0, &log);
	if ((want = slurp(err_p))) {
		want[strcspn(want, "\n")] = '\0';
		if (!ok(rc < 0 && strstr(log, want), "golden %s fails with '%s'", name, want))
			printf("# log: %s", log);
	} else if (rc < 0) {
		ok(0, "golden %s loads", name);
		printf("# log: %s", log);
	} else {
		FILE *m = open_memstream(&got, &glen);
		cfg_dump(&c, m);
		fclose(m);
		cfg_fini(&c);
		if (getenv("GOLDEN_UPDATE")) {
			FILE *o = fopen(ok_p, "w");
			fputs(got, o);
			fclose(o);
		}
		want = slurp(ok_p);
		if (!ok(want && strcmp(want, got) == 0, "golden %s", name))
			printf("# --- got\n%s# --- want\n%s", got, want ? want : "(missing .ok)\n");
		if (want)
			golden_round_trip(name, want);
	}
	free(want);
	free(got);
	free(log);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_golden(void)
{
	DIR *d = opendir(GOLDEN_DIR);
	struct dirent *e;
	char *names[512];
	int n = 0;

	if (!ok(d != NULL, "open " GOLDEN_DIR))
		return;
	while ((e = readdir(d)) && n < 512) {
		size_t l = strlen(e->d_name);
		if (l > 5 && strcmp(e->d_name + l - 5, ".conf") == 0)
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), by_name);
	ok(n >= 40, "found %d golden configs", n);
	for (int i = 0; i < n; i++) {
		golden_one(names[i]);
		free(names[i]);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--keys-markdown") == 0) {
		cfg_keys_markdown(stdout);
		return 0;
	}
	test_types();
	test_aliases();
	test_precedence();
	test_scoping();
	test_golden();
	return tap_done();
}
