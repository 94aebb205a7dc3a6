/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nf_collector.c: nfacctd's collector protocol: the templates file (format, any JSON spelling, merge across receive threads) and the drop warnings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode/netflow.h"
#include "decode/nf_state.h"
#include "lib/log.h"
#include "nfbuf.h"
#include "pipeline/nf_collector.h"
#include "pipeline/nf_tplstore.h"
#include "logtail.h"
#include "tap.h"

static char dir[64];
static struct logtail tail;

/* An IPFIX message from observation domain odid with one template: id and (type, length) pairs. */
static void tpl_msg(struct buf *b, uint32_t odid, uint16_t id, const uint16_t (*f)[2], int n)
{
	ipfix_hdr(b, 1700000000, 1, odid);
	set_open(b, 2);
	u16(b, id);
	u16(b, (uint16_t)n);
	for (int i = 0; i < n; i++)
		field(b, f[i][0], f[i][1]);
	set_close(b);
	msg_close(b);
}

static const uint16_t two[][2] = { { 8, 4 }, { 12, 4 } };
static const uint16_t three[][2] = { { 8, 4 }, { 12, 4 }, { 1, 8 } };

static void no_emit(void *arg, struct flow_rec *rec)
{
	(void)rec;
	(*(int *)arg)++;
}

/* Give the state of a receive thread a datagram from exporter 192.0.2.<last>. */
static void feed(void *state, const struct buf *b, uint8_t last)
{
	static int emitted;
	struct rec_sink sink = { no_emit, &emitted };
	struct dgram d = { .data = b->b, .len = b->n, .src = { 4, { 0 }, { 192, 0, 2, last } },
		.ts = { 1700000000, 0 } };

	nf_collector_datagram(state, &d, &sink);
}

#define LINE_A "{\"version\": 10, \"exporter\": \"192.0.2.1\", \"domain\": 0, \"id\": 256, " \
	"\"options\": 0, \"scope\": 0, \"fields\": [[8, 4, 0], [12, 4, 0]]}\n"

/* The line format, byte for byte as pmacct master's nfacctd_templates_file. */
static void test_dump_format(void)
{
	struct nf_opts o = { 0 };
	struct nf_state *st = nf_state_new(&o);
	struct fr_ip a = { 4, { 0 }, { 192, 0, 2, 1 } }, v6 = { 6, { 0 }, { 0x20, 1, 0xd, 0xb8 } };
	struct nf_field f[] = { { 8, 4, 0 }, { 12, 4, 0 } }, g[] = { { 1, 4, 0 }, { 100, 2, 9 } };
	size_t len;
	char *text;

	v6.a[15] = 1;
	nf_tpl_put(st, &a, 0, 10, 256, false, f, 2, 0);
	text = nf_templates_dump(st, false, &len);
	is_str(text, LINE_A, "one IPFIX template: one line, pmacct's spelling");
	is_int(len, strlen(LINE_A), "its length");
	free(text);
	text = nf_templates_dump(st, true, NULL);
	is_str(text, "", "served only: no datagram came from its exporter");
	free(text);
	nf_state_free(st);

	st = nf_state_new(&o);
	nf_tpl_put(st, &v6, 7, 9, 300, true, g, 2, 1);
	text = nf_templates_dump(st, false, NULL);
	is_str(text, "{\"version\": 9, \"exporter\": \"2001:db8::1\", \"domain\": 7, \"id\": 300, "
	    "\"options\": 1, \"scope\": 1, \"fields\": [[1, 4, 0], [100, 2, 9]]}\n",
	    "v9 options template of an IPv6 exporter, enterprise field");
	free(text);
	nf_state_free(st);
}

/* Whatever the JSON spelling, the same template loads. */
static void test_parse_spellings(void)
{
	static const char *const ok_text[] = {
		LINE_A,
		"{\"version\":10,\"exporter\":\"192.0.2.1\",\"domain\":0,\"id\":256,\"options\":0,"
		"\"scope\":0,\"fields\":[[8,4,0],[12,4,0]]}",
		"{\"id\": 256, \"fields\": [[8, 4, 0], [12, 4, 0]], \"scope\": 0, \"options\": false,\n"
		"  \"domain\": 0,\n  \"exporter\": \"192.0.2.1\",\n  \"version\": 10\n}\n",
		"\n\r\n\t " LINE_A "\n\n",
	};

	for (size_t i = 0; i < sizeof(ok_text) / sizeof(ok_text[0]); i++) {
		struct nf_opts o = { 0 };
		struct nf_state *st = nf_state_new(&o);
		char *text;

		is_int(nf_templates_parse(st, ok_text[i], strlen(ok_text[i])), 0, "spelling loads");
		text = nf_templates_dump(st, false, NULL);
		is_str(text, LINE_A, "and is written back in the file's own spelling");
		free(text);
		nf_state_free(st);
	}
}

/* A bad entry fails the load; the entries around it still load. */
static void test_parse_bad(void)
{
	static const char *const bad[] = {
		"{\"version\": 10, \"exporter\": \"192.0.2.9\", \"domain\": 0, \"id\": 255, \"options\": 0, "
		"\"scope\": 0, \"fields\": [[8, 4, 0]]}",
		"{\"version\": 5, \"exporter\": \"192.0.2.9\", \"domain\": 0, \"id\": 256, \"options\": 0, "
		"\"scope\": 0, \"fields\": [[8, 4, 0]]}",
		"{\"version\": 10, \"exporter\": \"nowhere\", \"domain\": 0, \"id\": 256, \"options\": 0, "
		"\"scope\": 0, \"fields\": [[8, 4, 0]]}",
		"{\"version\": 10, \"exporter\": \"192.0.2.9\", \"domain\": -1, \"id\": 256, \"options\": 0, "
		"\"scope\": 0, \"fields\": [[8, 4, 0]]}",
		"{\"version\": 10, \"exporter\": \"192.0.2.9\", \"domain\": 0, \"id\": 256, \"options\": 0, "
		"\"scope\": 0, \"fields\": []}",
		"{\"version\": 10, \"exporter\": \"192.0.2.9\", \"domain\": 0, \"id\": 256, \"options\": 1, "
		"\"scope\": 2, \"fields\": [[8, 4, 0]]}",
		"{\"version\": 10, \"exporter\": \"192.0.2.9\", \"domain\": 0, \"id\": 256, \"options\": 0, "
		"\"scope\": 0, \"fields\": [[8, 65536, 0]]}",
		"{\"version\": 10, \"exporter\": \"192.0.2.9\", \"domain\": 0, \"id\": 256, \"options\": 0, "
		"\"scope\": 0, \"fields\": [[8, 4]]}",
		"{\"version\": 10, \"exporter\": \"192.0.2.9\", \"domain\": 0, \"id\": 256, \"options\": 0, "
		"\"scope\": 0}",
		"{\"version\": \"10\", \"exporter\": \"192.0.2.9\", \"domain\": 0, \"id\": 256, "
		"\"options\": 0, \"scope\": 0, \"fields\": [[8, 4, 0]]}",
		"[1, 2, 3]",
		"{\"version\": 10, \"exporter\": \"192.0.2.9\", \"domain\": 0, \"id\": 256,",
		"not json at all",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nf_opts o = { 0 };
		struct nf_state *st = nf_state_new(&o);
		char text[1024];
		char *back;

		snprintf(text, sizeof(text), "%s%s\n%s", LINE_A, bad[i], LINE_A);
		is_int(nf_templates_parse(st, text, strlen(text)), -1, bad[i]);
		back = nf_templates_dump(st, false, NULL);
		is_str(back, LINE_A, "the good entries around it loaded");
		free(back);
		nf_state_free(st);
	}
}

/* The file: saved whole through a temporary name, loaded back; never over a directory. */
static void test_save_load(void)
{
	struct nf_opts o = { 0 };
	struct nf_state *st = nf_state_new(&o), *back = nf_state_new(&o);
	struct fr_ip a = { 4, { 0 }, { 192, 0, 2, 1 } };
	struct nf_field f[] = { { 8, 4, 0 }, { 12, 4, 0 } };
	char path[128], tmp[160], *text;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/t.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	nf_tpl_put(st, &a, 0, 10, 256, false, f, 2, 0);
	is_int(nf_tplstore_save(st, path), 0, "saved");
	text = slurp(path);
	is_str(text, LINE_A, "the file holds the line");
	free(text);
	ok(stat(tmp, &sb) < 0, "no temporary left");
	is_int(nf_tplstore_load(back, path), 0, "loaded back");
	is_int(back->ntpl, 1, "one template");
	snprintf(path, sizeof(path), "%s/missing.json", dir);
	is_int(nf_tplstore_load(back, path), -1, "a missing file does not load");
	is_int(nf_tplstore_save(st, dir), -1, "a directory is never replaced");
	ok(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode), "it is still a directory");
	nf_state_free(st);
	nf_state_free(back);
}

/*
 * collector_workers 2: each thread saves the templates of the exporters it
 * serves; what the file held at start-up for exporters no thread has
 * heard from stays, and a thread's newer template replaces the file's.
 */
static void test_workers_merge(void)
{
	struct core_cfg cfg;
	char path[128], *text;
	struct buf b;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(path, sizeof(path), "%s/workers.json", dir);
	/* hand-edited: 192.0.2.1's old layout of 256, and 192.0.2.3's that nobody will send */
	spit(path, "{\"version\":10,\"exporter\":\"192.0.2.1\",\"domain\":0,\"id\":256,\"options\":0,"
	    "\"scope\":0,\"fields\":[[8,4,0]]}\n"
	    "{\"version\": 10, \"exporter\": \"192.0.2.3\", \"domain\": 0, \"id\": 400, \"options\": 0, "
	    "\"scope\": 0, \"fields\": [[7, 2, 0]]}\n");
	cfg.nf_templates_file = path;
	void *first = nf_collector_new(&cfg);
	void *second = nf_collector_new_worker(&cfg, first);
	ok(first && second, "two receive threads");

	tpl_msg(&b, 0, 256, two, 2);
	feed(first, &b, 1);
	nf_collector_tick(first, 1700000001);
	text = slurp(path);
	is_str(text, LINE_A "{\"version\": 10, \"exporter\": \"192.0.2.3\", \"domain\": 0, \"id\": 400, "
	    "\"options\": 0, \"scope\": 0, \"fields\": [[7, 2, 0]]}\n",
	    "first thread: its template replaced the file's, the unserved one kept");
	free(text);

	tpl_msg(&b, 5, 257, three, 3);
	feed(second, &b, 2);
	nf_collector_tick(second, 1700000001);
	text = slurp(path);
	is_str(text, LINE_A "{\"version\": 10, \"exporter\": \"192.0.2.2\", \"domain\": 5, \"id\": 257, "
	    "\"options\": 0, \"scope\": 0, \"fields\": [[8, 4, 0], [12, 4, 0], [1, 8, 0]]}\n"
	    "{\"version\": 10, \"exporter\": \"192.0.2.3\", \"domain\": 0, \"id\": 400, "
	    "\"options\": 0, \"scope\": 0, \"fields\": [[7, 2, 0]]}\n",
	    "second thread: both threads' templates, in thread order, then the unserved one");
	free(text);

	nf_collector_free(second);
	nf_collector_free(first);
	text = slurp(path);
	ok(strstr(text, "\"192.0.2.1\"") && strstr(text, "\"192.0.2.2\"") &&
	    strstr(text, "\"192.0.2.3\""), "at exit the file still holds all three");
	free(text);

	/* one thread: the whole cache, loaded templates included */
	void *one = nf_collector_new(&cfg);
	tpl_msg(&b, 0, 258, two, 2);
	feed(one, &b, 1);
	nf_collector_tick(one, 1700000001);
	text = slurp(path);
	ok(strstr(text, "\"id\": 258") && strstr(text, "\"id\": 257") && strstr(text, "\"id\": 400"),
	    "one thread: every cached template");
	free(text);
	nf_collector_free(one);
}

/* Drop warnings: one line, at most once every NF_COLLECTOR_WARN_EVERY seconds, deltas only. */
static void test_drop_warnings(void)
{
	struct core_cfg cfg;
	struct buf b;

	memset(&cfg, 0, sizeof(cfg));
	cfg.collector_ip = "127.0.0.1";
	cfg.collector_port = 9995;
	cfg.collector_max_exporters = 1;
	void *st = nf_collector_new(&cfg);

	free(logtail_new(&tail));
	b.n = 3;		/* version 5, cut in the header */
	memset(b.b, 0, 24);
	b.b[1] = 5;
	feed(st, &b, 1);
	feed(st, &b, 1);
	nf_collector_tick(st, 1000);
	log_is(&tail, "WARN ( default/core ): [127.0.0.1:9995] NetFlow/IPFIX input not decoded since "
	    "start: short=2 (SIGUSR1: per exporter)\n", "the first drops: one line");

	b.b[1] = 4;		/* version 4 */
	b.n = 24;
	feed(st, &b, 1);
	nf_collector_tick(st, 1000 + NF_COLLECTOR_WARN_EVERY - 1);
	log_is(&tail, "", "within the minute: nothing");
	tpl_msg(&b, 0, 256, two, 2);
	feed(st, &b, 2);	/* a second exporter, past nfacctd_max_exporters 1 */
	nf_collector_tick(st, 1000 + NF_COLLECTOR_WARN_EVERY);
	log_is(&tail, "WARN ( default/core ): [127.0.0.1:9995] NetFlow/IPFIX input not decoded since "
	    "the last report: bad_version=1 (SIGUSR1: per exporter)\n"
	    "WARN ( default/core ): [127.0.0.1:9995] key 'nfacctd_max_exporters': 1 exporters "
	    "tracked; 1 datagrams from further ones counted together as 'others'\n",
	    "a minute later: only what is new since, and the exporters refused");
	nf_collector_tick(st, 5000);
	log_is(&tail, "", "nothing new: nothing");
	nf_collector_free(st);
	nf_collector_free(NULL);
}

int main(void)
{
	static const char *const made[] = { "log", "t.json", "workers.json" };
	char path[128];

	strcpy(dir, "/tmp/test_nf_collector_XXXXXX");
	if (!mkdtemp(dir))
		abort();
	logtail_open(&tail, dir);
	test_dump_format();
	test_parse_spellings();
	test_parse_bad();
	test_save_load();
	test_workers_merge();
	test_drop_warnings();
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, made[i]);
		unlink(path);
	}
	ok(rmdir(dir) == 0, "nothing else was left behind");
	return tap_done();
}
