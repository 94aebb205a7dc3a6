/* SPDX-License-Identifier: BSD-3-Clause */
/* test_imt_proto.c: the memory plugin's client protocol: framing, bounds, round trips, hostile bytes. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "plugins/imt_proto.h"
#include "tap.h"

static void hdr_bytes(uint8_t *h, uint32_t magic, uint16_t ver, uint16_t type, uint32_t len)
{
	h[0] = (uint8_t)(magic >> 24); h[1] = (uint8_t)(magic >> 16);
	h[2] = (uint8_t)(magic >> 8); h[3] = (uint8_t)magic;
	h[4] = (uint8_t)(ver >> 8); h[5] = (uint8_t)ver;
	h[6] = (uint8_t)(type >> 8); h[7] = (uint8_t)type;
	h[8] = (uint8_t)(len >> 24); h[9] = (uint8_t)(len >> 16);
	h[10] = (uint8_t)(len >> 8); h[11] = (uint8_t)len;
}

static void test_header(void)
{
	uint8_t h[IMT_HDR_LEN];
	struct imt_hdr hd;
	int short_ok = 1;

	hdr_bytes(h, IMT_MAGIC, IMT_VERSION, IMT_Q_QUERY, 100);
	is_int(imt_hdr_parse(h, sizeof(h), &hd), IMT_OK, "valid header");
	is_int(hd.type, IMT_Q_QUERY, "type");
	is_int(hd.length, 100, "length");
	for (size_t i = 0; i < IMT_HDR_LEN; i++)
		short_ok &= imt_hdr_parse(h, i, &hd) == IMT_E_SHORT;
	ok(short_ok, "truncated at every offset: short");
	hdr_bytes(h, IMT_MAGIC ^ 1, IMT_VERSION, IMT_Q_QUERY, 100);
	is_int(imt_hdr_parse(h, sizeof(h), &hd), IMT_E_MAGIC, "bad magic");
	hdr_bytes(h, IMT_MAGIC, IMT_VERSION + 1, IMT_Q_QUERY, 100);
	is_int(imt_hdr_parse(h, sizeof(h), &hd), IMT_E_VERSION, "bad version");
	hdr_bytes(h, IMT_MAGIC, IMT_VERSION, 99, 0);
	is_int(imt_hdr_parse(h, sizeof(h), &hd), IMT_E_TYPE, "unknown type");
	hdr_bytes(h, IMT_MAGIC, IMT_VERSION, IMT_R_INFO, IMT_INFO_LEN);
	is_int(imt_hdr_parse(h, sizeof(h), &hd), IMT_OK, "INFO length exact");
	hdr_bytes(h, IMT_MAGIC, IMT_VERSION, IMT_R_INFO, IMT_INFO_LEN - 1);
	is_int(imt_hdr_parse(h, sizeof(h), &hd), IMT_E_LENGTH, "INFO length -1");
	hdr_bytes(h, IMT_MAGIC, IMT_VERSION, IMT_R_INFO, IMT_INFO_LEN + IMT_INFO_CUSTOM_MAX + 1);
	is_int(imt_hdr_parse(h, sizeof(h), &hd), IMT_E_LENGTH, "INFO length beyond its custom tail");
	hdr_bytes(h, IMT_MAGIC, IMT_VERSION, IMT_Q_ERASE, 1);
	is_int(imt_hdr_parse(h, sizeof(h), &hd), IMT_E_LENGTH, "ERASE carries nothing");
	hdr_bytes(h, IMT_MAGIC, IMT_VERSION, IMT_Q_QUERY, IMT_MAX_QUERY + 1);
	is_int(imt_hdr_parse(h, sizeof(h), &hd), IMT_E_LENGTH, "oversize query");
	hdr_bytes(h, IMT_MAGIC, IMT_VERSION, IMT_R_ROWS, 0xffffffffu);
	is_int(imt_hdr_parse(h, sizeof(h), &hd), IMT_E_LENGTH, "oversize chunk");
}

static struct imt_query sample_query(struct imt_match *req)
{
	struct imt_query q = { IMT_MODE_ROWS, IMT_QF_RESET, 2, req };

	memset(req, 0, 2 * sizeof(*req));
	prim_parse_list(NULL, "src_host,dst_port,proto,src_mac", &req[0].set, NULL, 0);
	req[0].key.src_ip.af = 6;
	req[0].key.src_ip.a[15] = 1;
	req[0].key.dst_port = 443;
	req[0].key.proto = 6;
	req[0].key.src_mac[5] = 0xaa;
	prim_parse_list(NULL, "tag,etype", &req[1].set, NULL, 0);
	req[1].key.tag = 0x0102030405060708ULL;
	req[1].key.etype = 0x86dd;
	return q;
}

static void test_query_round_trip(void)
{
	struct imt_match req[2];
	struct imt_query q = sample_query(req), d;
	struct imt_buf b = { 0 };
	struct imt_hdr h;

	imt_query_encode(&b, NULL, &q);
	is_int(imt_hdr_parse(b.p, b.len, &h), IMT_OK, "encoded query has a valid header");
	is_int(h.length, b.len - IMT_HDR_LEN, "length covers the payload");
	const uint8_t *pl = b.p + IMT_HDR_LEN;
	is_int(imt_query_decode(pl, h.length, NULL, &d), 0, "decodes");
	is_int(d.mode, IMT_MODE_ROWS, "mode");
	is_int(d.flags, IMT_QF_RESET, "flags");
	is_int(d.nreq, 2, "requests");
	ok(prim_set_eq(&d.req[0].set, &req[0].set), "set 0");
	ok(memcmp(&d.req[0].key, &req[0].key, sizeof(req[0].key)) == 0, "key 0 identical");
	ok(memcmp(&d.req[1].key, &req[1].key, sizeof(req[1].key)) == 0, "key 1 identical");
	imt_query_fini(&d);

	int trunc_ok = 1;
	for (size_t i = 0; i < h.length; i++)
		trunc_ok &= imt_query_decode(pl, i, NULL, &d) < 0;
	ok(trunc_ok, "truncated at every offset: refused");

	uint8_t *longer = malloc(h.length + 1);
	memcpy(longer, pl, h.length);
	longer[h.length] = 0;
	ok(imt_query_decode(longer, h.length + 1, NULL, &d) < 0, "length +1 (trailing byte): refused");
	free(longer);
	imt_buf_fini(&b);
}

static void test_query_hostile(void)
{
	struct imt_match req[2];
	struct imt_query q = sample_query(req), d;
	struct imt_buf b = { 0 };

	imt_query_encode(&b, NULL, &q);
	uint8_t *pl = b.p + IMT_HDR_LEN;
	size_t len = b.len - IMT_HDR_LEN;

	pl[9] = 0xff;	/* nreq low byte: far more requests than bytes */
	ok(imt_query_decode(pl, len, NULL, &d) < 0, "request count larger than the payload: refused");
	pl[9] = 2;
	pl[0] = 7;
	ok(imt_query_decode(pl, len, NULL, &d) < 0, "unknown mode: refused");
	pl[0] = IMT_MODE_ROWS;
	pl[5] = 0x80;
	ok(imt_query_decode(pl, len, NULL, &d) < 0, "unknown flag: refused");
	pl[5] = IMT_QF_RESET;
	pl[10 + 8 * PRIM_WORDS + 6] = 5;	/* src_host's address family, after the set and src_mac */
	ok(imt_query_decode(pl, len, NULL, &d) < 0, "bad address family: refused");
	pl[10 + 8 * PRIM_WORDS + 6] = 6;
	ok(imt_query_decode(pl, len, NULL, &d) == 0, "restored: accepted");
	imt_query_fini(&d);
	pl[10 + 8 * (PRIM_WORDS - 1)] = 0xff;	/* set bits beyond the primitives table */
	ok(imt_query_decode(pl, len, NULL, &d) < 0, "unknown primitive bits: refused");
	imt_buf_fini(&b);

	struct imt_query all = { IMT_MODE_ALL, 0, 0, NULL };
	imt_query_encode(&b, NULL, &all);
	ok(imt_query_decode(b.p + IMT_HDR_LEN, b.len - IMT_HDR_LEN, NULL, &d) == 0, "-s query");
	imt_buf_fini(&b);
	b.len = 0;
	imt_put_u8(&b, IMT_MODE_SUMS);
	imt_put_u8(&b, 0);
	imt_put_u32(&b, 0);
	imt_put_u32(&b, IMT_MAX_REQUESTS + 1);
	for (int i = 0; i < (IMT_MAX_REQUESTS + 1) * 8; i++)
		imt_put_u8(&b, 0);
	ok(imt_query_decode(b.p, b.len, NULL, &d) < 0, "more than IMT_MAX_REQUESTS: refused");
	imt_buf_fini(&b);
}

static void test_info_rows_sums(void)
{
	struct imt_info in = { .entries = 1000000, .dropped = 7, .erased_at = -1, .now = 1700000000,
		.buckets = 32771 }, out;
	struct imt_buf b = { 0 };

	prim_parse_list(NULL, "src_host,dst_host", &in.aggregate, NULL, 0);
	imt_info_encode(&b, &in);
	is_int(b.len, IMT_HDR_LEN + IMT_INFO_LEN, "INFO length");
	is_int(imt_info_decode(b.p + IMT_HDR_LEN, IMT_INFO_LEN, &out), 0, "INFO decodes");
	is_int(out.erased_at, -1, "never erased survives");
	is_int(out.entries, 1000000, "entries");
	ok(imt_info_decode(b.p + IMT_HDR_LEN, 43, &out) < 0, "INFO -1 refused");
	imt_buf_fini(&b);

	/* custom primitives travel in the INFO tail and define the same slots in the client */
	in.ncustom = 2;
	snprintf(in.custom[0].name, sizeof(in.custom[0].name), "%s", "mtla");
	in.custom[0].c = (struct prim_custom){ .field_type = 47, .len = 4, .sem = PCS_IP };
	snprintf(in.custom[1].name, sizeof(in.custom[1].name), "%s", "alu");
	in.custom[1].c = (struct prim_custom){ .pen = 637, .field_type = 91, .len = 2, .sem = PCS_HEX };
	in.aggregate.corder[0] = 2;	/* the aggregate names alu first */
	in.aggregate.corder[1] = 1;
	imt_info_encode(&b, &in);
	is_int(b.len, IMT_HDR_LEN + IMT_INFO_LEN + 1 + (1 + 4 + 9) + (1 + 3 + 9) + PRIM_CUSTOM_MAX,
	    "INFO with 2 custom and their order");
	is_int(imt_info_decode(b.p + IMT_HDR_LEN, b.len - IMT_HDR_LEN, &out), 0, "custom INFO decodes");
	is_int(out.ncustom, 2, "2 custom primitives");
	is_str(out.custom[1].name, "alu", "name");
	is_int(out.custom[1].c.pen, 637, "PEN");
	is_int(out.aggregate.corder[0], 2, "column order: alu first");
	is_int(out.aggregate.corder[1], 1, "then mtla");
	struct prim_registry *client = prim_registry_new(), *server = prim_registry_new();
	char why[128];
	is_int(imt_info_define_custom(&out, client), 0, "defined in the client");
	is_int(prim_lookup(client, "alu"), P_CUSTOM_0 + 1, "slot order kept");
	ok(imt_info_decode(b.p + IMT_HDR_LEN, b.len - IMT_HDR_LEN - 1, &out) < 0, "cut tail refused");
	imt_buf_fini(&b);

	/* a custom key travels from the plugin's registry to the one the client learnt */
	for (int i = 0; i < in.ncustom; i++)
		prim_custom_define(server, in.custom[i].name, &in.custom[i].c, why, sizeof(why));
	struct imt_row cr = { 0, 1, 1, 1, 0, { 0 } }, cr2;
	struct prim_set cs = { 0 };
	uint16_t alu = 0xbeef;
	prim_add(&cs, P_CUSTOM_0 + 1);
	memcpy((uint8_t *)&cr.key + prim_custom_get(server, 1)->off, &alu, 2);
	imt_row_put(&b, server, &cs, &cr);
	struct rd crd = rd_make(b.p, b.len);
	is_int(imt_row_get(&crd, client, &cs, &cr2), 0, "custom row decodes in the client");
	ok(memcmp((uint8_t *)&cr2.key + prim_custom_get(client, 1)->off, &alu, 2) == 0 &&
	    prim_custom_get(client, 1)->off == prim_custom_get(server, 1)->off, "custom value, same slot");
	imt_buf_fini(&b);
	prim_registry_free(server);
	prim_registry_free(client);

	struct imt_row r = { 3, 10, 2000, 1, 0x12, { 0 } }, r2;
	r.key.src_ip.af = 4;
	r.key.src_ip.a[0] = 10;
	r.key.dst_ip.af = 4;
	r.key.dst_ip.a[3] = 9;
	r.key.src_port = 99;	/* not in the aggregate: not sent */
	imt_row_put(&b, NULL, &in.aggregate, &r);
	struct rd rd = rd_make(b.p, b.len);
	is_int(imt_row_get(&rd, NULL, &in.aggregate, &r2), 0, "row decodes");
	is_int(rd.left, 0, "row consumed exactly");
	is_int(r2.req, 3, "request index");
	is_int(r2.bytes, 2000, "bytes");
	is_int(r2.tcp_flags, 0x12, "tcp flags");
	is_int(r2.key.src_port, 0, "fields outside the aggregate stay zero");
	ok(memcmp(&r2.key.dst_ip, &r.key.dst_ip, sizeof(r.key.dst_ip)) == 0, "dst address");
	rd = rd_make(b.p, IMT_ROW_HDR_LEN + 3);
	ok(imt_row_get(&rd, NULL, &in.aggregate, &r2) < 0, "truncated row refused");
	imt_buf_fini(&b);

	struct imt_sum s = { 1, 2, 3, 4 }, s2;
	imt_sum_put(&b, &s);
	rd = rd_make(b.p, b.len);
	ok(imt_sum_get(&rd, &s2) == 0 && s2.entries == 4 && s2.bytes == 2, "sum round trip");
	imt_buf_fini(&b);
}

static void test_error(void)
{
	struct imt_buf b = { 0 };
	char out[16];
	uint8_t evil[] = { 0, 5, 'a', '\n', 0, 0x80, 'z' };

	imt_error_encode(&b, "malformed query");
	is_int(imt_error_decode(b.p + IMT_HDR_LEN, b.len - IMT_HDR_LEN, out, sizeof(out)), 0, "error decodes");
	is_str(out, "malformed query", "error text");
	is_int(imt_error_decode(b.p + IMT_HDR_LEN, b.len - IMT_HDR_LEN, out, 6), 0, "short output buffer");
	is_str(out, "malfo", "text cut and terminated");
	ok(imt_error_decode(b.p + IMT_HDR_LEN, b.len - IMT_HDR_LEN - 1, out, sizeof(out)) < 0,
	    "length -1 refused");
	is_int(imt_error_decode(evil, sizeof(evil), out, sizeof(out)), 0, "control bytes");
	is_str(out, "a???z", "control and NUL bytes neutralised");
	imt_buf_fini(&b);
}

int main(void)
{
	test_header();
	test_query_round_trip();
	test_query_hostile();
	test_info_rows_sums();
	test_error();
	return tap_done();
}
