/* SPDX-License-Identifier: BSD-3-Clause */
/* test_http_api.c: the http plugin's routes on a known table, auth rules, and one real request through libmicrohttpd. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/http_api.h"
#include "lib/ring.h"
#include "plugins/plugin.h"
#include "tap.h"

struct fixture {
	struct core_cfg core;
	struct plugin_cfg pc;
	struct plugin p;
	struct http_ctx c;
};

static void add(struct http_ctx *c, const char *src, uint16_t dport, uint64_t pk, uint64_t by)
{
	struct flow_rec r;

	memset(&r, 0, sizeof(r));
	r.k.src_ip.af = 4;
	inet_pton(AF_INET, src, r.k.src_ip.a);
	r.k.dst_port = dport;
	r.k.proto = 6;
	r.packets = pk;
	r.bytes = by;
	agg_account(c->table, &r, 0);
	c->packets += pk;
	c->bytes += by;
	http_series_add(&c->series, (int64_t)time(NULL), pk, by, 0, 1);
}

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->pc.name, sizeof(f->pc.name), "web");
	snprintf(f->pc.type, sizeof(f->pc.type), "http");
	prim_parse_list(NULL, "src_host,dst_port,proto", &f->pc.aggregate, NULL, 0);
	f->core.plugins = &f->pc;
	f->core.nplugins = 1;
	f->p.cfg = &f->pc;
	f->p.core = &f->core;
	f->p.ring = ring_new(1024, 4);
	f->p.pipe_bytes = 4096;
	f->c.self = &f->p;
	f->c.all = &f->p;
	f->c.nall = 1;
	f->c.daemon = "pmacctd";
	f->c.table = agg_new(f->pc.prims, &f->pc.aggregate, 64);
	http_series_init(&f->c.series, 600, 5);
	out_opts_from_cfg(&f->c.oo, &f->pc, &f->core);
	f->c.oo.fmt = OUT_JSON;
	f->c.oo.json_event_type = false;
	f->c.erased_at = -1;
	add(&f->c, "10.0.0.1", 80, 10, 1000);
	add(&f->c, "10.0.0.1", 443, 5, 5000);
	add(&f->c, "10.0.0.2", 80, 100, 2000);
	add(&f->c, "10.0.0.3", 22, 1, 60);
}

static void fixture_fini(struct fixture *f)
{
	agg_free(f->c.table);
	http_series_fini(&f->c.series);
	ring_free(f->p.ring);
}

/* Run one request through the handler; the body is returned NUL-terminated (caller frees). */
static char *get(struct fixture *f, const char *method, const char *path, const char *query,
    bool token_set, bool authed, unsigned *status)
{
	struct http_req r;
	struct http_resp resp = { 0 };
	char *q = query ? strdup(query) : NULL, *save = NULL;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.path = path;
	r.token_set = token_set;
	r.authed = authed;
	for (char *kv = q ? strtok_r(q, "&", &save) : NULL; kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq++ = 0;
		r.args[r.nargs].key = kv;
		r.args[r.nargs++].value = eq ? eq : "";
	}
	http_api_handle(&f->c, &r, &resp);
	free(q);
	*status = resp.status;
	char *out = malloc(resp.len + 1);
	memcpy(out, resp.body, resp.len);
	out[resp.len] = 0;
	if (!resp.static_body)
		free(resp.body);
	return out;
}

static void test_routes(struct fixture *f)
{
	unsigned st;
	char *b;

	b = get(f, "GET", "/api/top", "group=src_host&by=bytes&n=2", false, true, &st);
	is_int(st, 200, "top 200");
	ok(strstr(b, "\"total\": {\"packets\": 116, \"bytes\": 8060") != NULL, "top total %s", b);
	char *first = strstr(b, "10.0.0.1"), *second = strstr(b, "10.0.0.2");
	ok(first && second && first < second, "10.0.0.1 (6000 B) before 10.0.0.2 (2000 B)");
	ok(strstr(b, "\"bytes\": 6000") != NULL, "grouped bytes summed");
	ok(!strstr(b, "10.0.0.3"), "n=2 cuts the third");
	free(b);
	b = get(f, "GET", "/api/top", "group=src_host&by=packets&n=1", false, true, &st);
	ok(strstr(b, "10.0.0.2") && !strstr(b, "10.0.0.1\""), "by packets: 10.0.0.2 first");
	free(b);
	b = get(f, "GET", "/api/table", "src_host=10.0.0.1", false, true, &st);
	ok(st == 200 && strstr(b, "\"count\": 2,") != NULL, "match on src_host: 2 rows");
	free(b);
	b = get(f, "GET", "/api/table", "src_host=10.0.0.1&dst_port=443", false, true, &st);
	ok(strstr(b, "\"count\": 1,") && strstr(b, "\"bytes\": 5000"), "match on two primitives");
	free(b);
	b = get(f, "GET", "/api/table", "limit=3", false, true, &st);
	ok(strstr(b, "\"count\": 3, \"truncated\": true") != NULL, "limit truncates");
	free(b);
	b = get(f, "GET", "/api/table", "dst_host=10.0.0.1", false, true, &st);
	is_int(st, 400, "primitive outside the aggregate");
	free(b);
	b = get(f, "GET", "/api/table", "src_host=nonsense", false, true, &st);
	is_int(st, 400, "bad value");
	free(b);
	b = get(f, "GET", "/api/top", "by=octets", false, true, &st);
	is_int(st, 400, "bad by");
	free(b);
	b = get(f, "GET", "/api/series", "last=60", false, true, &st);
	ok(st == 200 && strstr(b, "8060, 0, 4]") != NULL, "series holds the totals: %s", b);
	free(b);
	b = get(f, "GET", "/api/status", NULL, false, true, &st);
	ok(st == 200 && strstr(b, "\"entries\": 4") && strstr(b, "\"name\": \"web\""), "status");
	free(b);
	b = get(f, "GET", "/metrics", NULL, false, true, &st);
	ok(st == 200 && strstr(b, "pmacct_traffic_bytes_total{plugin=\"web\"} 8060\n"), "metrics");
	free(b);
	b = get(f, "GET", "/", NULL, true, false, &st);
	ok(st == 200 && strstr(b, "<html") != NULL, "the page needs no token");
	free(b);
	b = get(f, "GET", "/nope", NULL, false, true, &st);
	is_int(st, 404, "unknown path");
	free(b);
	b = get(f, "DELETE", "/api/table", NULL, false, true, &st);
	is_int(st, 405, "wrong method");
	free(b);
}

static void test_auth(struct fixture *f)
{
	unsigned st;
	char *b;

	b = get(f, "GET", "/api/status", NULL, true, false, &st);
	is_int(st, 401, "token set, not presented");
	free(b);
	b = get(f, "GET", "/metrics", NULL, true, false, &st);
	is_int(st, 401, "metrics need the token too");
	free(b);
	b = get(f, "POST", "/api/erase", NULL, false, true, &st);
	is_int(st, 403, "no writes without a configured token");
	free(b);
	is_int(agg_count(f->c.table), 4, "table intact");
	b = get(f, "POST", "/api/erase", NULL, true, false, &st);
	is_int(st, 401, "write with a wrong token");
	free(b);
	b = get(f, "POST", "/api/erase", NULL, true, true, &st);
	ok(st == 200 && strstr(b, "\"erased\": 4"), "write with the token");
	free(b);
	is_int(agg_count(f->c.table), 0, "table erased");
}

/* One request over TCP through libmicrohttpd, served by this thread. */
static void test_server(struct fixture *f)
{
	struct http_srv *s = http_srv_new("test/http", "127.0.0.1:0", "tok", http_api_handle, &f->c);
	char buf[4096];
	size_t got = 0;

	ok(s != NULL, "server starts");
	if (!s)
		return;
	f->c.srv = s;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)http_srv_port(s)) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ok(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect");
	const char *req = "GET /api/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n"
	    "Connection: close\r\n\r\n";
	ok(write(fd, req, strlen(req)) == (ssize_t)strlen(req), "request sent");
	for (int i = 0; i < 500 && got < sizeof(buf) - 1; i++) {
		struct pollfd pf = { fd, POLLIN, 0 };
		http_srv_run(s);
		if (poll(&pf, 1, 5) > 0) {
			ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
	}
	buf[got] = 0;
	close(fd);
	ok(strncmp(buf, "HTTP/1.1 200", 12) == 0, "200 over TCP");
	ok(strstr(buf, "\"status\": \"ok\"") != NULL, "health body");
	unsigned long long rq, un;
	http_srv_counts(s, &rq, &un);
	is_int(rq, 1, "one request counted");
	http_srv_free(s);
	f->c.srv = NULL;
}

int main(void)
{
	struct fixture f;

	fixture_init(&f);
	test_routes(&f);
	test_server(&f);
	test_auth(&f);
	fixture_fini(&f);
	return tap_done();
}
