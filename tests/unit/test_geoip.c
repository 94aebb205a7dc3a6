/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_geoip.c: GeoIP v2 lookups against databases written by Debian's
 * MaxMind::DB::Writer (tests/tools/geoip_mkdb.pl): IPv4 and IPv6
 * networks, fields left out, cut strings, the fill of a key, reloads.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/geoip.h"
#include "model/prim_value.h"
#include "plugins/output.h"
#include "tap.h"

static struct fr_ip ip(const char *s)
{
	struct fr_ip a;

	memset(&a, 0, sizeof(a));
	a.af = strchr(s, ':') ? 6 : 4;
	inet_pton(a.af == 4 ? AF_INET : AF_INET6, s, a.a);
	return a;
}

/* Write rows as a database at path with the Perl writer (flags "" or "-4"); 0 on success. */
static int mkdb(const char *path, const char *flags, const char *rows)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "perl tests/tools/geoip_mkdb.pl %s '%s'", flags, path);
	FILE *p = popen(cmd, "w");
	if (!p)
		return -1;
	fputs(rows, p);
	return pclose(p) == 0 ? 0 : -1;
}

static double coord(const uint8_t *b, int i)
{
	double v;

	memcpy(&v, b + i * sizeof(double), sizeof(v));
	return v;
}

static const char rows_a[] =
	"# cidr iso postal lat lon\n"
	"10.0.0.0/8 IT 00100 41.8919 12.5113\n"
	"10.1.0.0/16 DE 10115 52.5244 13.4105\n"		/* more specific wins */
	"192.0.2.0/24 US - 37.751 -97.822\n"			/* no postal code */
	"198.51.100.0/24 - - - -\n"				/* an empty record */
	"203.0.113.0/24 GB ABCDEFGHIJKLMNOP 51.5 -0.12\n"	/* postal code over 11 */
	"2001:db8::/32 FR 75001 48.8534 2.3488\n"
	"2001:db8:1::/48 JP 100-0001 35.6895 139.6917\n";

/* A key with the GeoIP fields of 10.1.2.3 -> 2001:db9::2 (as pmacct 1.7.7 printed them). */
static void geo_key(struct flow_key *k)
{
	double src[2] = { 52.5244, 13.4105 }, dst[2] = { 0, 0 };

	memset(k, 0, sizeof(*k));
	k->src_ip.af = 4;
	inet_pton(AF_INET, "10.1.2.3", k->src_ip.a);
	k->dst_ip.af = 6;
	inet_pton(AF_INET6, "2001:db9::2", k->dst_ip.a);
	memcpy(k->src_host_country, "DE", 3);
	memcpy(k->src_host_pocode, "10115", 6);
	memcpy(k->src_host_coords, src, sizeof(src));
	memcpy(k->dst_host_coords, dst, sizeof(dst));
}

/* Render one header + row of the GeoIP primitives into buf. */
static const char *render(enum print_fmt fmt, bool client, char *buf, size_t len)
{
	struct prim_set set = { 0 };
	struct out_cols cols;
	struct out_opts o = { .fmt = fmt, .sep = ",", .client = client, .json_event_type = !client };
	struct out_counters cnt = { .packets = 3, .bytes = 114 };
	struct flow_key k;

	prim_parse_list(NULL, "src_host, dst_host, src_host_country, dst_host_country, "
	    "src_host_pocode, src_host_coords, dst_host_coords", &set, NULL, 0);
	out_cols_init(&cols, NULL, &set, false, client);
	geo_key(&k);
	FILE *f = fmemopen(buf, len, "w");
	out_header(f, &cols, &o);
	out_row(f, &cols, &o, &k, &cnt);
	fclose(f);
	return buf;
}

/* The rendering of the GeoIP columns, byte for byte as pmacct 1.7.7's (tests/e2e/test_geoip.py). */
static void check_output(void)
{
	char buf[2048];

	is_str(render(OUT_CSV, false, buf, sizeof(buf)),
	    "SRC_IP,DST_IP,SH_COUNTRY,DH_COUNTRY,SH_POCODE,SH_LAT,SH_LON,DH_LAT,DH_LON,PACKETS,BYTES\n"
	    "10.1.2.3,2001:db9::2,DE,,10115,52.524400,13.410500,0.000000,0.000000,3,114\n", "CSV");
	is_str(render(OUT_JSON, false, buf, sizeof(buf)),
	    "{\"event_type\": \"purge\", \"ip_src\": \"10.1.2.3\", \"ip_dst\": \"2001:db9::2\", "
	    "\"country_ip_src\": \"DE\", \"country_ip_dst\": \"\", \"pocode_ip_src\": \"10115\", "
	    "\"lat_ip_src\": 52.5244, \"lon_ip_src\": 13.410500000000001, \"lat_ip_dst\": 0.0, "
	    "\"lon_ip_dst\": 0.0, \"packets\": 3, \"bytes\": 114}\n", "JSON: %.17g, .0 for whole numbers");
	render(OUT_FORMATTED, false, buf, sizeof(buf));
	ok(strstr(buf, "SH_LAT        SH_LON        DH_LAT        DH_LON        PACKETS") &&
	    strstr(buf, "DE                      10115         52.524400  13.410500  0.000000  0.000000  3"),
	    "formatted, print plugin: titles 14 wide, values \"%%f  \"");
	render(OUT_FORMATTED, true, buf, sizeof(buf));
	ok(strstr(buf, "52.524400     13.410500     0.000000      0.000000      3") != NULL,
	    "formatted, client: values \"%%-12f  \"");

	/* the client's -M / -N values */
	struct flow_key k;
	double xy[2];
	const struct prim_desc *d = &prim_builtin[P_SRC_HOST_COORDS];
	memset(&k, 0, sizeof(k));
	ok(prim_value_parse(d, "48.8534:-2.3488", &k) == 0, "coordinates <lat>:<lon>");
	memcpy(xy, k.src_host_coords, sizeof(xy));
	ok(xy[0] == 48.8534 && xy[1] == -2.3488, "parsed exactly");
	ok(prim_value_parse(d, "48.8534", &k) < 0 && prim_value_parse(d, "1:2:3", &k) < 0 &&
	    prim_value_parse(d, "a:b", &k) < 0 && prim_value_parse(d, ":1", &k) < 0, "bad coordinates refused");
	ok(prim_value_parse(&prim_builtin[P_DST_HOST_COUNTRY], "IT", &k) == 0 &&
	    !strcmp(k.dst_host_country, "IT"), "a country");
	ok(prim_value_parse(&prim_builtin[P_SRC_HOST_POCODE], "01000-000", &k) == 0 &&
	    !strcmp(k.src_host_pocode, "01000-000"), "a postal code");
}

int main(void)
{
	char dir[] = "/tmp/test_geoip.XXXXXX", a[128], b[128], bad[128], why[512];
	struct geoip_result r;

	check_output();
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	snprintf(a, sizeof(a), "%s/a.mmdb", dir);
	snprintf(b, sizeof(b), "%s/b.mmdb", dir);
	snprintf(bad, sizeof(bad), "%s/bad.mmdb", dir);
	if (mkdb(a, "", rows_a) < 0) {
		ok(0, "the Perl writer (libmaxmind-db-writer-perl, make test-deps) wrote %s", a);
		return tap_done();
	}

	/* start-up errors name the file and say why */
	ok(geoip_open("/nonexistent/x.mmdb", why, sizeof(why)) == NULL, "a missing file is refused");
	ok(strstr(why, "/nonexistent/x.mmdb") != NULL, "the reason names the file: %s", why);
	FILE *f = fopen(bad, "w");
	fputs("not a MaxMind database\n", f);
	fclose(f);
	ok(geoip_open(bad, why, sizeof(why)) == NULL && strstr(why, bad), "garbage is refused: %s", why);

	struct geoip *g = geoip_open(a, why, sizeof(why));
	ok(g != NULL, "the written database opens");
	if (!g)
		return tap_done();
	is_str(geoip_path(g), a, "path kept");

	struct fr_ip x = ip("10.200.3.4");
	geoip_lookup(g, &x, &r);
	ok(r.found, "10.200.3.4 found");
	is_str(r.country, "IT", "IPv4 country");
	is_str(r.pocode, "00100", "IPv4 postal code");
	ok(r.lat == 41.8919 && r.lon == 12.5113, "IPv4 coordinates exact: %.17g %.17g", r.lat, r.lon);

	x = ip("10.1.2.3");
	geoip_lookup(g, &x, &r);
	is_str(r.country, "DE", "the more specific network wins");
	ok(r.lat == 52.5244 && r.lon == 13.4105, "its coordinates");

	x = ip("192.0.2.9");
	geoip_lookup(g, &x, &r);
	ok(r.found && !strcmp(r.country, "US") && r.pocode[0] == '\0', "no postal code: empty");
	ok(r.lat == 37.751 && r.lon == -97.822, "negative longitude");

	x = ip("198.51.100.1");
	geoip_lookup(g, &x, &r);
	ok(r.found && !r.country[0] && !r.pocode[0] && r.lat == 0 && r.lon == 0, "empty record: found, empty");

	x = ip("203.0.113.7");
	geoip_lookup(g, &x, &r);
	is_str(r.pocode, "ABCDEFGHIJK", "postal code cut to 11 characters, as pmacct's 12 bytes");

	x = ip("8.8.8.8");
	geoip_lookup(g, &x, &r);
	ok(!r.found && !r.country[0] && r.lat == 0, "an address in no network: not found");

	x = ip("2001:db8:ff::1");
	geoip_lookup(g, &x, &r);
	ok(r.found && !strcmp(r.country, "FR") && !strcmp(r.pocode, "75001"), "IPv6 country and postal code");
	ok(r.lat == 48.8534 && r.lon == 2.3488, "IPv6 coordinates");
	x = ip("2001:db8:1::99");
	geoip_lookup(g, &x, &r);
	ok(!strcmp(r.country, "JP") && !strcmp(r.pocode, "100-0001"), "IPv6 /48 inside the /32");
	x = ip("::ffff:10.1.0.1");
	geoip_lookup(g, &x, &r);
	is_str(r.country, "DE", "an IPv4-mapped IPv6 address finds the IPv4 network (aliased)");
	x = ip("2001:db9::1");
	geoip_lookup(g, &x, &r);
	ok(!r.found, "IPv6 outside: not found");
	memset(&x, 0, sizeof(x));
	geoip_lookup(g, &x, &r);
	ok(!r.found, "an unset address finds nothing");

	/* the fill writes exactly the selected fields */
	struct flow_key k;
	memset(&k, 0x5a, sizeof(k));
	k.src_ip = ip("10.1.9.9");
	k.dst_ip = ip("2001:db8::5");
	struct geoip_need n = { .src_country = true, .dst_pocode = true, .dst_coords = true };
	geoip_fill(g, &n, &k);
	ok(!memcmp(k.src_host_country, "DE\0", 3) && k.src_host_country[3] == 0, "src country filled");
	ok(!strcmp(k.dst_host_pocode, "75001") && k.dst_host_pocode[FR_POCODE_MAX - 1] == 0,
	    "dst postal code filled, zero padded");
	ok(coord(k.dst_host_coords, 0) == 48.8534 && coord(k.dst_host_coords, 1) == 2.3488, "dst coordinates");
	ok((uint8_t)k.dst_host_country[0] == 0x5a && (uint8_t)k.src_host_pocode[0] == 0x5a &&
	    k.src_host_coords[0] == 0x5a, "fields not selected untouched");
	k.src_ip = ip("8.8.4.4");
	struct geoip_need all = { true, true, true, true, true, true };
	geoip_fill(g, &all, &k);
	ok(!k.src_host_country[0] && !k.src_host_pocode[0] && coord(k.src_host_coords, 0) == 0 &&
	    coord(k.src_host_coords, 1) == 0, "unknown source: empty and zero");
	memset(&k, 0x5a, sizeof(k));
	geoip_fill(NULL, &all, &k);
	ok(!k.src_host_country[0] && !k.dst_host_pocode[0] && coord(k.dst_host_coords, 1) == 0,
	    "no database: selected fields empty");

	/* the cache of recent answers: many addresses colliding in it, each answered right */
	int bad_answers = 0;
	for (int i = 0; i < 3 * 4096 * 2; i++) {
		char a4[32];
		snprintf(a4, sizeof(a4), "10.%d.%d.%d", (i / 2 % 4096) >> 8, (i / 2) & 255, 1 + i % 7);
		memset(&k, 0, sizeof(k));
		k.src_ip = ip(a4);
		k.dst_ip = ip(i % 3 ? "192.0.2.1" : "2001:db8:1::1");
		geoip_fill(g, &all, &k);
		const char *want = (i / 2 % 4096) >> 8 == 1 ? "DE" : "IT";
		if (strcmp(k.src_host_country, want) ||
		    strcmp(k.dst_host_country, i % 3 ? "US" : "JP"))
			bad_answers++;
	}
	is_int(bad_answers, 0, "24576 fills over 12288 addresses: every answer right");
	memset(&k, 0, sizeof(k));
	k.src_ip = ip("10.1.2.3");
	geoip_fill(g, &all, &k);
	is_str(k.src_host_country, "DE", "10.1.2.3 cached");

	/* reload: the new file replaces the database (and empties the cache); a bad one keeps the old */
	if (mkdb(b, "", "10.0.0.0/8 ES 28001 40.4165 -3.70256\n") < 0 || rename(b, a) < 0) {
		ok(0, "second database written");
	} else {
		ok(geoip_reload(g, why, sizeof(why)) == 0, "reload");
		x = ip("10.1.2.3");
		geoip_lookup(g, &x, &r);
		ok(!strcmp(r.country, "ES") && r.lon == -3.70256, "the reloaded database answers");
		geoip_fill(g, &all, &k);
		is_str(k.src_host_country, "ES", "no answer of the old database is left in the cache");
	}
	rename(bad, a);
	ok(geoip_reload(g, why, sizeof(why)) < 0 && strstr(why, a), "a broken file is refused: %s", why);
	x = ip("10.1.2.3");
	geoip_lookup(g, &x, &r);
	is_str(r.country, "ES", "and the database before stays in use");
	geoip_free(g);
	geoip_free(NULL);

	/* an IPv4-only database: IPv6 addresses find nothing */
	if (mkdb(b, "-4", "10.0.0.0/8 IT 00100 41.8919 12.5113\n") == 0 &&
	    (g = geoip_open(b, why, sizeof(why))) != NULL) {
		x = ip("10.0.0.1");
		geoip_lookup(g, &x, &r);
		is_str(r.country, "IT", "IPv4 database: IPv4 lookup");
		x = ip("2001:db8::1");
		geoip_lookup(g, &x, &r);
		ok(!r.found, "IPv4 database: an IPv6 address is not found");
		geoip_free(g);
	} else {
		ok(0, "IPv4 database written and opened");
	}
	unlink(a);
	unlink(b);
	unlink(bad);
	rmdir(dir);
	return tap_done();
}
