/* SPDX-License-Identifier: BSD-3-Clause */
/* test_http_util.c: the http plugin's pure parts: time series ring, token check, http_listen. */
#include <string.h>

#include "http/http_series.h"
#include "http/http_util.h"
#include "tap.h"

static void test_series(void)
{
	struct http_series s;
	struct http_bin b[16];
	size_t n;

	http_series_init(&s, 60, 10);
	is_int(s.nbins, 6, "60 s in 10 s bins");
	http_series_add(&s, 1000, 1, 100, 0, 1);
	http_series_add(&s, 1009, 2, 200, 1, 1);
	http_series_add(&s, 1010, 4, 400, 0, 1);
	n = http_series_get(&s, 1015, 0, b, 16);
	is_int(n, 6, "all bins returned");
	is_int(b[5].t, 1010, "last bin is now's");
	is_int(b[5].bytes, 400, "last bin bytes");
	is_int(b[4].t, 1000, "previous bin");
	is_int(b[4].packets, 3, "two adds in one bin");
	is_int(b[4].flows, 1, "flows summed");
	is_int(b[0].bytes, 0, "empty bins are zeros");
	n = http_series_get(&s, 1015, 20, b, 16);
	is_int(n, 2, "last 20 s: two bins");
	/* wrap: an hour later the old bins are gone, memory unchanged */
	http_series_add(&s, 4600, 1, 1, 0, 1);
	n = http_series_get(&s, 4600, 0, b, 16);
	uint64_t tot = 0;
	for (size_t i = 0; i < n; i++)
		tot += b[i].bytes;
	is_int(tot, 1, "old bins overwritten after wrapping");
	http_series_add(&s, 1000, 5, 5, 0, 1);	/* far in the past: ignored */
	n = http_series_get(&s, 4600, 0, b, 16);
	tot = 0;
	for (size_t i = 0; i < n; i++)
		tot += b[i].bytes;
	is_int(tot, 1, "a sample older than the ring is dropped");
	http_series_fini(&s);
	http_series_init(&s, 1, 5);
	is_int(s.nbins, 2, "at least two bins");
	http_series_fini(&s);
}

static void test_token(void)
{
	ok(http_token_equal("s3cret", "s3cret"), "same token");
	ok(!http_token_equal("s3cre", "s3cret"), "prefix refused");
	ok(!http_token_equal("s3cretX", "s3cret"), "longer refused");
	ok(!http_token_equal("s3creT", "s3cret"), "last byte differs");
	ok(!http_token_equal("", "s3cret"), "empty refused");
	ok(!http_token_equal(NULL, "s3cret"), "missing refused");
	ok(!http_token_equal("", ""), "an empty configured token never matches");
	ok(!http_token_equal("s3crets3cret", "s3cret"), "repeated guess refused");
}

static void test_listen(void)
{
	char h[64];
	uint16_t port;

	ok(http_listen_parse("8080", h, sizeof(h), &port) == 0, "bare port");
	is_str(h, "127.0.0.1", "bare port binds loopback");
	is_int(port, 8080, "port");
	ok(http_listen_parse("0.0.0.0:9", h, sizeof(h), &port) == 0 && !strcmp(h, "0.0.0.0") &&
	    port == 9, "host:port");
	ok(http_listen_parse("[::1]:443", h, sizeof(h), &port) == 0 && !strcmp(h, "::1") &&
	    port == 443, "[v6]:port");
	ok(http_listen_parse("::1:443", h, sizeof(h), &port) < 0, "bare v6 refused");
	ok(http_listen_parse("host:", h, sizeof(h), &port) < 0, "missing port");
	ok(http_listen_parse("host:65536", h, sizeof(h), &port) < 0, "port too big");
	ok(http_listen_parse("x:0", h, sizeof(h), &port) == 0 && port == 0, "port 0: any free port");
	ok(http_listen_parse("", h, sizeof(h), &port) < 0, "empty");
	ok(http_listen_parse("[::1]443", h, sizeof(h), &port) < 0, "no colon after ]");
	ok(http_listen_parse("12a", h, sizeof(h), &port) < 0, "not a number");
}

int main(void)
{
	test_series();
	test_token();
	test_listen();
	return tap_done();
}
