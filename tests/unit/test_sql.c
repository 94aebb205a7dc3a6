/* SPDX-License-Identifier: BSD-3-Clause */
/* test_sql.c: SQL column sets per table version and backend, statement text, values, table names and bins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "lib/timefmt.h"
#include "model/prim.h"
#include "plugins/agg.h"
#include "plugins/sql.h"
#include "plugins/sql_write.h"
#include "tap.h"

static struct prim_set agg_of(const char *list)
{
	struct prim_set s;
	prim_parse_list(NULL, list, &s, NULL, 0);
	return s;
}

static void cols(const struct sql_schema *s, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < s->n; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", i ? "," : "", s->cols[i].name);
}

static void test_versions(void)
{
	struct sql_schema s;
	struct prim_set a = agg_of("dst_host");
	char b[1024], why[128];

	sql_schema_build(&s, SQL_SQLITE, 1, false, false, NULL, &a, true, false, why, sizeof(why));
	cols(&s, b, sizeof(b));
	is_str(b, "mac_src,mac_dst,ip_src,ip_dst,src_port,dst_port,ip_proto,packets,bytes,"
	    "stamp_inserted,stamp_updated", "v1 sqlite columns");
	sql_schema_build(&s, SQL_PGSQL, 1, false, false, NULL, &a, false, false, why, sizeof(why));
	cols(&s, b, sizeof(b));
	is_str(b, "mac_src,mac_dst,ip_src,ip_dst,port_src,port_dst,ip_proto,packets,bytes",
	    "v1 pgsql: port_src, no stamps without history");
	sql_schema_build(&s, SQL_MYSQL, 7, false, false, NULL, &a, true, false, why, sizeof(why));
	cols(&s, b, sizeof(b));
	is_str(b, "agent_id,class_id,mac_src,mac_dst,vlan,as_src,as_dst,ip_src,ip_dst,src_port,"
	    "dst_port,tcp_flags,ip_proto,tos,packets,bytes,flows,stamp_inserted,stamp_updated",
	    "v7 mysql columns");
	sql_schema_build(&s, SQL_MYSQL, 9, false, false, NULL, &a, true, false, why, sizeof(why));
	cols(&s, b, sizeof(b));
	ok(strncmp(b, "tag,class_id", 12) == 0 && strstr(b, "port_src,port_dst"), "v9: tag, port_src");
	sql_schema_build(&s, SQL_SQLITE, 1, true, false, NULL, &a, true, false, why, sizeof(why));
	cols(&s, b, sizeof(b));
	ok(strncmp(b, "agent_id,as_src,as_dst,peer_as_src", 34) == 0, "bgp columns");
	a = agg_of("sum_host, proto, tcpflags, tag");
	sql_schema_build(&s, SQL_SQLITE, 1, false, true, NULL, &a, true, true, why, sizeof(why));
	cols(&s, b, sizeof(b));
	is_str(b, "agent_id,ip_proto,ip_src,tcp_flags,packets,bytes,stamp_inserted,stamp_updated",
	    "optimized clauses: selected primitives only");
	ok(sql_schema_build(&s, SQL_SQLITE, 10, false, false, NULL, &a, true, false, why, sizeof(why)) < 0,
	    "version 10 refused");
	is_str(sql_default_table(1, false), "acct", "default table v1");
	is_str(sql_default_table(5, false), "acct_v5", "default table v5");
	is_str(sql_default_table(9, false), "acct", "default table v9 is acct, as pmacct");
	is_str(sql_default_table(1, true), "acct_bgp", "default table bgp");
}

static void test_statements(void)
{
	struct sql_schema s;
	struct prim_set a = agg_of("dst_host");
	char b[4096], why[128];

	a = agg_of("dst_host, tcpflags");
	sql_schema_build(&s, SQL_SQLITE, 1, false, true, NULL, &a, true, false, why, sizeof(why));
	ok(sql_build(b, sizeof(b), &s, SQLM_UPSERT, "acct", 1, NULL) == 6, "upsert: 6 params");
	is_str(b, "INSERT INTO \"acct\" (\"ip_dst\", \"tcp_flags\", \"packets\", \"bytes\", "
	    "\"stamp_inserted\", \"stamp_updated\") VALUES (?, ?, ?, ?, DATETIME(?, 'unixepoch', "
	    "'localtime'), DATETIME(?, 'unixepoch', 'localtime')) ON CONFLICT DO UPDATE SET "
	    "\"tcp_flags\" = \"tcp_flags\" | excluded.\"tcp_flags\", \"packets\" = \"packets\" + "
	    "excluded.\"packets\", \"bytes\" = \"bytes\" + excluded.\"bytes\", \"stamp_updated\" = "
	    "excluded.\"stamp_updated\"", "sqlite upsert text");
	ok(sql_build(b, sizeof(b), &s, SQLM_UPDATE, "acct", 1, NULL) == 6, "update: 6 params");
	is_str(b, "UPDATE \"acct\" SET \"tcp_flags\" = \"tcp_flags\" | ?, \"packets\" = \"packets\" + ?, "
	    "\"bytes\" = \"bytes\" + ?, \"stamp_updated\" = DATETIME(?, 'unixepoch', 'localtime') "
	    "WHERE \"ip_dst\" = ? AND \"stamp_inserted\" = DATETIME(?, 'unixepoch', 'localtime')",
	    "sqlite update text: counters first, identity last");
	sql_schema_build(&s, SQL_PGSQL, 1, false, true, NULL, &a, true, false, why, sizeof(why));
	sql_build(b, sizeof(b), &s, SQLM_UPSERT, "acct", 1, "acct_pk");
	ok(strstr(b, "INSERT INTO \"acct\" AS cur") && strstr(b, "$6") &&
	    strstr(b, "ON CONFLICT ON CONSTRAINT \"acct_pk\" DO UPDATE SET") &&
	    strstr(b, "\"packets\" = cur.\"packets\" + EXCLUDED.\"packets\"") &&
	    strstr(b, "to_timestamp($5::bigint)::timestamp"), "pgsql upsert text");
	sql_schema_build(&s, SQL_MYSQL, 1, false, true, NULL, &a, true, true, why, sizeof(why));
	ok(sql_build(b, sizeof(b), &s, SQLM_INSERT, "db.acct", 3, NULL) == 18, "multi values: 3 rows");
	ok(strstr(b, "INSERT INTO `db`.`acct`") && strstr(b, "), (?, ?, ?, ?, ?, ?), (") &&
	    !strstr(b, "FROM_UNIXTIME"), "mysql multi-row insert, epoch stamps bare");
	sql_build(b, sizeof(b), &s, SQLM_UPSERT, "acct", 1, NULL);
	ok(strstr(b, "ON DUPLICATE KEY UPDATE `tcp_flags` = `tcp_flags` | VALUES(`tcp_flags`)") != NULL,
	    "mysql upsert");
	ok(sql_quote_ident(b, sizeof(b), SQL_SQLITE, "acct\"; DROP TABLE x") < 0, "quote in a name refused");
	ok(sql_build(b, sizeof(b), &s, SQLM_INSERT, "a`b", 1, NULL) < 0, "backtick in a name refused");
	ok(sql_build(b, 40, &s, SQLM_INSERT, "acct", 1, NULL) < 0, "overflow detected");
	sql_schema_build(&s, SQL_SQLITE, 1, false, false, NULL, &a, true, false, why, sizeof(why));
	ok(sql_build_create(b, sizeof(b), &s, "acct") == 0 &&
	    strstr(b, "PRIMARY KEY (\"mac_src\", \"mac_dst\", \"ip_src\", \"ip_dst\", \"src_port\", "
	    "\"dst_port\", \"ip_proto\", \"stamp_inserted\")"), "create: pmacct's primary key");
	ok(strncmp(b, "CREATE TABLE IF NOT EXISTS \"acct\" (", 33) == 0,
	    "create: idempotent, writers sharing a table race to create it");
}

static void test_values(void)
{
	struct sql_schema s;
	struct prim_set a = agg_of("dst_host, proto");
	struct flow_key k = { 0 };
	struct sql_val v[SQL_MAX_COLS];
	char why[128];

	k.dst_ip.af = 4;
	memcpy(k.dst_ip.a, (uint8_t[]){ 10, 1, 2, 3 }, 4);
	k.proto = 6;
	k.src_port = 80;	/* not aggregated: written as 0 */
	sql_schema_build(&s, SQL_SQLITE, 1, false, false, NULL, &a, true, false, why, sizeof(why));
	sql_row_values(&s, &a, false, &k, 3, 300, 1, 0, 1700000000 - 200, 1700000500, v);
	is_str(v[0].s, "0:0:0:0:0:0", "mac default");
	is_str(v[2].s, "0.0.0.0", "ip_src default");
	is_str(v[3].s, "10.1.2.3", "ip_dst");
	ok(v[4].is_int && v[4].i == 0, "src_port not aggregated: 0");
	is_str(v[6].s, "tcp", "proto by name");
	ok(v[7].i == 3 && v[8].i == 300 && v[9].i == 1699999800 && v[10].i == 1700000500, "counters, stamps");
	sql_schema_build(&s, SQL_PGSQL, 1, false, false, NULL, &a, true, false, why, sizeof(why));
	sql_row_values(&s, &a, false, &k, 3, 300, 1, 0, 0, 0, v);
	ok(v[6].is_int && v[6].i == 6, "pgsql: proto as a number");
	a = agg_of("dst_host");
	sql_row_values(&s, &a, false, &k, 3, 300, 1, 0, 0, 0, v);
	ok(v[6].is_int && v[6].i == 0, "proto not aggregated: 0");
}

static void test_names_bins(void)
{
	char b[128];
	struct timefmt_vars vars = { .refresh = 60, .history = 300, .tag = 7, .utc = true };
	struct timebin tb;
	struct cfg_period h = { .n = 5, .unit = 'm', .secs = 300 };

	timefmt_expand(b, sizeof(b), "acct_%Y%m%d_%H%M_$tag", 1699999800, &vars);
	is_str(b, "acct_20231114_2210_7", "dynamic table name");
	timebin_init(&tb, &h, "m", 0, true);
	timebin_anchor(&tb, 1700000000);
	is_int(timebin_of(&tb, 1700000000), 1699999800, "5m bins on 5-minute edges (pmacct 1.7.7: 22:10:00)");
	timebin_init(&tb, &h, "h", 0, true);
	timebin_anchor(&tb, 1700000000);
	ok(timebin_of(&tb, 1700000000) == 1699999200 + 600, "5m bins phased on the hour");
}

/* A spool bigger than spool_max comes back in parts, the rest kept on disk, nothing lost or doubled. */
static void test_spool_parts(void)
{
	struct sql_ctx c;
	struct prim_set set = agg_of("src_host");
	struct agg_table *t = agg_new(NULL, &set, 16);
	char dir[] = "/tmp/test_sql_XXXXXX";
	uint64_t packets = 0;
	size_t parts = 0, seen = 0;

	memset(&c, 0, sizeof(c));
	c.who = "test/sqlite3";
	if (!mkdtemp(dir))
		abort();
	snprintf(c.spool, sizeof(c.spool), "%s/spool", dir);
	for (int i = 0; i < 10; i++) {
		struct flow_key k;
		memset(&k, 0, sizeof(k));
		k.src_ip.af = 4;
		k.src_ip.a[0] = 10;
		k.src_ip.a[3] = (uint8_t)i;
		agg_upsert(t, &k, 0)->packets = (uint64_t)i + 1;
	}
	is_int(sql_spool_write(&c, t), 0, "10 entries spooled");
	is_int((int)agg_count(t), 0, "the table is emptied");
	c.spool_max = 4;
	for (;;) {
		FILE *f = fopen(c.spool, "rb");
		if (!f)
			break;
		fclose(f);
		bool more = sql_spool_read(&c, t);
		parts++;
		ok(more == (parts < 3), "part %zu: more to come: %d", parts, more);
		ok(agg_count(t) <= 4, "part %zu: at most spool_max entries in memory (%zu)", parts,
		    agg_count(t));
		seen += agg_count(t);
		for (struct agg_entry *e = agg_next(t, NULL); e; e = agg_next(t, e))
			packets += e->packets;
		agg_clear(t);
		if (parts > 5)
			break;
	}
	is_int((int)parts, 3, "4 + 4 + 2: three parts, then the spool is gone");
	is_int((int)seen, 10, "every entry once");
	is_int((int)packets, 55, "their counters whole");
	agg_free(t);
	rmdir(dir);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	test_versions();
	test_statements();
	test_values();
	test_names_bins();
	test_spool_parts();
	return tap_done();
}
