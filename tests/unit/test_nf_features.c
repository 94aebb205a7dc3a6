/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nf_features.c: NAT, forwarding status, label stack, RD, interface/VRF names, exporter address, custom primitives, flow_to_rd_map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "decode/netflow.h"
#include "maps/rdmap.h"
#include "model/prim.h"
#include "model/prim_value.h"
#include "plugins/output.h"
#include "tap.h"

#include "nfbuf.h"

/* IPFIX header (RFC 7011 3.1) of the tests' exporter. */
static void hdr(struct buf *b) { ipfix_hdr(b, 1700000000, 0, 7); }

static const struct fr_ip src = { 4, { 0 }, { 127, 0, 0, 9 } };
static const struct fr_ts now = { 1700000100, 0 };

static size_t decode(struct nf_state *st, struct buf *b, struct got *g)
{
	g->n = 0;
	return nf_decode(st, b->b, b->n, &src, &now, collect, g);
}

/* NAT (IEs 225-228, 230), forwarding status (89), RD (90) and a 3-label stack (70-72). */
static void test_nat_rd_stack(void)
{
	struct nf_opts o = { 0 };
	struct nf_state *st = nf_state_new(&o);
	struct buf b;
	struct got g;
	static const uint8_t rd[8] = { 0, 0, 0xfd, 0xe8, 0, 0, 0, 42 };

	hdr(&b);
	set_open(&b, 2);
	u16(&b, 256); u16(&b, 12);
	field(&b, 8, 4); field(&b, 225, 4); field(&b, 226, 4); field(&b, 227, 2); field(&b, 228, 2);
	field(&b, 230, 1); field(&b, 89, 1); field(&b, 90, 8);
	field(&b, 70, 3); field(&b, 71, 3); field(&b, 72, 3); field(&b, 2, 4);
	set_close(&b);
	set_open(&b, 256);
	ip(&b, 10, 0, 0, 1); ip(&b, 192, 0, 2, 1); ip(&b, 198, 51, 100, 2); u16(&b, 40000); u16(&b, 443);
	u8(&b, 1); u8(&b, 130); bytes(&b, rd, 8);
	u24(&b, 100 << 4); u24(&b, 200 << 4); u24(&b, 300 << 4 | 1); u32(&b, 3);
	set_close(&b);
	msg_close(&b);
	is_int(decode(st, &b, &g), 1, "one record");
	const struct flow_key *k = &g.r[0].k;
	is_int(k->post_nat_src_ip.af, 4, "post-NAT source is IPv4");
	is_int(k->post_nat_dst_ip.a[0], 198, "post-NAT destination");
	is_int(k->post_nat_src_port, 40000, "post-NAPT source port");
	is_int(k->post_nat_dst_port, 443, "post-NAPT destination port");
	is_int(k->nat_event, 1, "NAT event");
	is_int(k->fwd_status, 130, "forwarding status");
	ok(memcmp(k->mpls_vpn_rd, rd, 8) == 0, "RD bytes kept");
	is_int(k->mpls_label_stack.n, 3, "three labels up to bottom of stack");
	is_int(k->mpls_label_stack.label[2], 300, "bottom label, EXP/BoS stripped");

	char buf[128];
	struct out_opts oo = { 0 };
	is_str(out_value(NULL, prim_desc_of(NULL, P_MPLS_VPN_RD), k, 0, &oo, buf, sizeof(buf)), "0:65000:42", "RD text");
	is_str(out_value(NULL, prim_desc_of(NULL, P_MPLS_LABEL_STACK), k, 0, &oo, buf, sizeof(buf)), "100_200_300",
	    "label stack text");
	is_str(out_value(NULL, prim_desc_of(NULL, P_FWD_STATUS), k, 0, &oo, buf, sizeof(buf)), "130", "fwd_status number");
	oo.fwd_status_str = true;
	oo.fmt = OUT_CSV;
	is_str(out_value(NULL, prim_desc_of(NULL, P_FWD_STATUS), k, 0, &oo, buf, sizeof(buf)), "130",
	    "fwd_status text is for JSON only");
	oo.fmt = OUT_JSON;
	is_str(out_value(NULL, prim_desc_of(NULL, P_FWD_STATUS), k, 0, &oo, buf, sizeof(buf)), "DROPPED ACL drop",
	    "fwd_status text");
	is_str(out_fwd_status_text(70), "FORWARDED Unclassified", "unknown reason: its class");
	is_str(out_fwd_status_text(0), "UNKNOWN Unclassified", "status 0");

	/* truncated at every offset of the data set: never more than the one good record */
	size_t cut;
	for (cut = 20; cut < b.n; cut++) {
		struct buf c = b;
		c.n = cut;
		msg_close(&c);
		g.n = 0;
		nf_decode(st, c.b, c.n, &src, &now, collect, &g);
		if (g.n > 1 || (g.n == 1 && g.r[0].k.nat_event != 1))
			break;
	}
	is_int(cut, b.n, "truncations never produce a bad record (the first bad cut, if any)");
	nf_state_free(st);
}

/* Options: interface names (IE 82 by IE 10), VRF names (IE 234 + 236) and RDs, exporter address. */
static void test_options_names(void)
{
	struct nf_opts o = { 0 };
	struct nf_state *st = nf_state_new(&o);
	struct buf b;
	struct got g;

	hdr(&b);
	set_open(&b, 3);			/* options templates */
	u16(&b, 300); u16(&b, 2); u16(&b, 1);
	field(&b, 10, 4); field(&b, 82, 0xffff);
	u16(&b, 301); u16(&b, 3); u16(&b, 1);
	field(&b, 234, 4); field(&b, 236, 32); field(&b, 90, 8);
	u16(&b, 302); u16(&b, 2); u16(&b, 1);
	field(&b, 149, 4); field(&b, 130, 4);
	set_close(&b);
	set_open(&b, 2);
	u16(&b, 256); u16(&b, 6);
	field(&b, 8, 4); field(&b, 10, 4); field(&b, 14, 4); field(&b, 234, 4); field(&b, 235, 4);
	field(&b, 2, 4);
	set_close(&b);
	set_open(&b, 300);
	u32(&b, 3); u8(&b, 6); bytes(&b, "ge-0/1", 6);
	u32(&b, 4); u8(&b, 4); bytes(&b, "xe-9", 4);
	u32(&b, 3); u8(&b, 7); bytes(&b, "ge-0/1b", 7);	/* a later record replaces the name */
	set_close(&b);
	set_open(&b, 301);
	{
		char name[32] = "blue";
		static const uint8_t rd[8] = { 0, 1, 192, 0, 2, 1, 0, 7 };
		u32(&b, 5); bytes(&b, name, 32); bytes(&b, rd, 8);
		memset(name, 0, sizeof(name));
		snprintf(name, sizeof(name), "default");
		u32(&b, 0); bytes(&b, name, 32); u64(&b, 0);
	}
	set_close(&b);
	set_open(&b, 302);
	u32(&b, 7); ip(&b, 192, 0, 2, 77);
	set_close(&b);
	set_open(&b, 256);
	ip(&b, 10, 0, 0, 1); u32(&b, 3); u32(&b, 4); u32(&b, 5); u32(&b, 0); u32(&b, 1);
	ip(&b, 10, 0, 0, 2); u32(&b, 4); u32(&b, 99); u32(&b, 0); u32(&b, 5); u32(&b, 1);
	set_close(&b);
	msg_close(&b);
	is_int(decode(st, &b, &g), 2, "two data records (options are not accounted)");
	const struct flow_key *k = &g.r[0].k;
	is_str(k->in_iface_name, "ge-0/1b", "in_iface_name: the later options record");
	is_str(k->out_iface_name, "xe-9", "out_iface_name");
	is_str(k->ingress_vrf_name, "blue", "ingress VRF name");
	is_str(k->egress_vrf_name, "default", "egress VRF name");
	is_str(k->vrf_name, "blue", "vrf_name: the ingress one");
	is_int(k->mpls_vpn_rd[1], 1, "RD from the VRF's options");
	is_int(k->peer_src_ip.a[3], 77, "peer_src_ip from exporterIPv4Address");
	k = &g.r[1].k;
	is_str(k->out_iface_name, "", "unknown ifIndex: no name");
	is_str(k->vrf_name, "blue", "vrf_name: egress when the ingress is the default VRF");
	/* pmacct: an egress VRF is looked up among the VRFs options mapped as egress (IE 235) */
	is_int(k->mpls_vpn_rd[0], FR_RD_TYPE_VRFID >> 8, "egress VRF never mapped as egress: vrfid type");
	is_int(k->mpls_vpn_rd[7], 5, "vrfid:<egress VRF id>");
	is_int(k->mpls_vpn_rd_origin, FR_RD_ORIGIN_FLOW, "RD origin: the flow");
	is_int(g.r[0].k.mpls_vpn_rd_origin, FR_RD_ORIGIN_FLOW, "mapped RD origin: the flow");
	nf_state_free(st);

	/* nfacctd_ignore_exporter_address keeps the datagram's source */
	o.ignore_exporter_address = true;
	st = nf_state_new(&o);
	is_int(decode(st, &b, &g), 2, "decoded again");
	is_int(g.r[0].k.peer_src_ip.a[3], 9, "ignore_exporter_address: the socket source");
	nf_state_free(st);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

/* aggregate_primitives: definitions, limits, errors naming file and line, and decoding. */
static void test_custom(void)
{
	char why[512], path[] = "/tmp/test_nf_features_XXXXXX";
	int fd = mkstemp(path);

	close(fd);
	struct prim_registry *reg = prim_registry_new();
	write_file(path, "! comment\nname=mtla field_type=47 len=4 semantics=ip\n"
	    "name=alu field_type=637:91 len=2 semantics=hex\n"
	    "name=top3 field_type=70 len=3 semantics=raw\n"
	    "name=ifn field_type=82 len=vlen semantics=str\n"
	    "name=big field_type=999 len=8 semantics=u_int\n");
	is_int(prim_custom_load(reg, path, why, sizeof(why)), 0, "definitions load");
	is_int(prim_custom_count(reg), 5, "five custom primitives");
	int id = prim_lookup(reg, "alu");
	is_int(id, P_CUSTOM_0 + 1, "by name, in slot order");
	is_str(prim_desc_of(reg, id)->title, "alu", "title is the name as written");
	is_int(prim_desc_of(reg, id)->width, 7, "formatted width: max(5, name) + 2");
	ok(prim_desc_of(reg, prim_lookup(reg, "ifn"))->flags & PRIM_VLEN, "vlen is variable length");
	is_int(prim_custom_get(reg, 1)->pen, 637, "PEN:id");
	ok(prim_custom_get(reg, 4)->off + prim_custom_get(reg, 4)->size <= sizeof(struct flow_key),
	    "slots inside the key");

	struct nf_opts o = { .custom = prim_custom_get(reg, 0), .ncustom = prim_custom_count(reg) };
	struct nf_state *st = nf_state_new(&o);
	struct buf b;
	struct got g;
	hdr(&b);
	set_open(&b, 2);
	u16(&b, 256); u16(&b, 6);
	field(&b, 47, 4); field(&b, 0x8000 | 91, 2); u32(&b, 637); field(&b, 70, 3);
	field(&b, 82, 0xffff); field(&b, 999, 8); field(&b, 2, 4);
	set_close(&b);
	set_open(&b, 256);
	ip(&b, 192, 0, 2, 9); u16(&b, 0xbeef); u24(&b, 100 << 4 | 1); u8(&b, 4); bytes(&b, "ge-0", 4);
	u64(&b, (1ull << 40) + 5); u32(&b, 3);
	set_close(&b);
	msg_close(&b);
	is_int(decode(st, &b, &g), 1, "record with custom fields");
	char buf[256];
	struct out_opts oo = { 0 };
	const struct flow_key *k = &g.r[0].k;
	is_str(out_value(reg, prim_desc_of(reg, prim_lookup(reg, "mtla")), k, 0, &oo, buf, sizeof(buf)), "192.0.2.9", "ip");
	is_str(out_value(reg, prim_desc_of(reg, prim_lookup(reg, "alu")), k, 0, &oo, buf, sizeof(buf)), "beef", "hex with PEN");
	is_str(out_value(reg, prim_desc_of(reg, prim_lookup(reg, "top3")), k, 0, &oo, buf, sizeof(buf)), "00-06-41",
	    "raw: hex pairs");
	is_str(out_value(reg, prim_desc_of(reg, prim_lookup(reg, "ifn")), k, 0, &oo, buf, sizeof(buf)), "ge-0",
	    "vlen string");
	is_str(out_value(reg, prim_desc_of(reg, prim_lookup(reg, "big")), k, 0, &oo, buf, sizeof(buf)), "1099511627781",
	    "8-byte u_int");
	is_int(g.r[0].k.mpls_label_top, 100, "the same field still feeds mpls_label_top");
	nf_state_free(st);

	/* errors name file and line */
	write_file(path, "name=a field_type=1 len=4 semantics=u_int\nname=b field_type=2 len=3 semantics=u_int\n");
	is_int(prim_custom_load(reg, path, why, sizeof(why)), -1, "u_int of 3 bytes refused");
	ok(strstr(why, ":2]") != NULL, "error names line 2: %s", why);
	is_int(prim_custom_count(reg), 0, "nothing defined after an error");
	write_file(path, "name=src_host field_type=8 len=4 semantics=ip\n");
	is_int(prim_custom_load(reg, path, why, sizeof(why)), -1, "a built-in name refused");
	write_file(path, "name=x field_type=8 len=4\n");
	is_int(prim_custom_load(reg, path, why, sizeof(why)), -1, "missing semantics refused");
	/* the reserved key area is bounded */
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 3; i++)
		fprintf(f, "name=s%d field_type=%d len=100 semantics=str\n", i, 400 + i);
	fclose(f);
	is_int(prim_custom_load(reg, path, why, sizeof(why)), -1, "over the key area refused");
	ok(strstr(why, "bytes reserved") != NULL && strstr(why, ":3]") != NULL, "says so: %s", why);
	f = fopen(path, "w");
	for (int i = 0; i < PRIM_CUSTOM_MAX + 1; i++)
		fprintf(f, "name=c%d field_type=%d len=1 semantics=u_int\n", i, 400 + i);
	fclose(f);
	is_int(prim_custom_load(reg, path, why, sizeof(why)), -1, "more than PRIM_CUSTOM_MAX refused");
	is_int(prim_custom_load(reg, "/nonexistent/prims", why, sizeof(why)), -1, "missing file");
	prim_custom_clear(reg);
	ok(prim_lookup(reg, "mtla") < 0, "clear forgets them");
	prim_registry_free(reg);
	unlink(path);
}

static void test_rdmap(void)
{
	char why[512], path[] = "/tmp/test_rdmap_XXXXXX";
	int fd = mkstemp(path);
	uint8_t rd[8];

	close(fd);
	is_int(prim_value_parse_rd("0:65000:42", rd), 0, "type 0");
	is_int(rd[2] << 8 | rd[3], 65000, "type 0 AS");
	is_int(prim_value_parse_rd("1:192.0.2.1:7", rd), 0, "type 1");
	is_int(rd[2], 192, "type 1 address");
	is_int(prim_value_parse_rd("2:4200000000:7", rd), 0, "type 2");
	is_int(prim_value_parse_rd("0:70000:1", rd), -1, "type 0 AS over 16 bits");
	is_int(prim_value_parse_rd("3:1:1", rd), -1, "type 3");
	is_int(prim_value_parse_rd("1:1", rd), -1, "two parts");

	write_file(path, "! map\nid=0:65000:1 ip=127.0.0.9 in=3\nid=1:192.0.2.1:2 ip=127.0.0.0/8\n");
	struct rd_map *m = rdmap_load(path, why, sizeof(why));
	ok(m != NULL, "map loads");
	is_int(rdmap_count(m), 2, "two lines");
	struct flow_key k;
	memset(&k, 0, sizeof(k));
	k.peer_src_ip = src;
	k.in_iface = 3;
	is_int(rdmap_apply(m, &k), 1, "first line matches");
	is_int(k.mpls_vpn_rd[7], 1, "its RD");
	k.in_iface = 4;
	is_int(rdmap_apply(m, &k), 1, "prefix line matches");
	is_int(k.mpls_vpn_rd[1], 1, "its RD (type 1)");
	k.peer_src_ip.a[0] = 10;
	memset(k.mpls_vpn_rd, 0, 8);
	is_int(rdmap_apply(m, &k), 0, "other exporter: no match");
	rdmap_free(m);
	write_file(path, "id=0:1:1\n");
	ok(rdmap_load(path, why, sizeof(why)) == NULL && strstr(why, ":1]"), "ip= required: %s", why);
	write_file(path, "id=0:1:1 ip=1.2.3.4 vlan=3\n");
	ok(rdmap_load(path, why, sizeof(why)) == NULL, "unknown key refused");
	unlink(path);
}

/* JSON encodings: tcp_flags / mpls_label_stack arrays, custom values as strings, ts_export placement. */
static void test_json_encodings(void)
{
	struct prim_set set = { 0 };
	struct out_cols c;
	struct out_opts o = { .fmt = OUT_JSON };
	struct out_counters cnt = { .packets = 1, .bytes = 2, .tcp_flags = 0x12 };
	struct flow_key k;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	memset(&k, 0, sizeof(k));
	k.mpls_label_stack.n = 2;
	k.mpls_label_stack.label[0] = 16;
	k.mpls_label_stack.label[1] = 17;
	prim_parse_list(NULL, "tcpflags,mpls_label_stack", &set, NULL, 0);
	out_cols_init(&c, NULL, &set, false, false);
	o.tcpflags_array = o.mpls_array = true;
	f = open_memstream(&text, &len);
	out_row(f, &c, &o, &k, &cnt);
	cnt.tcp_flags = 0x52;		/* ECE set: pmacct names nothing above 63 */
	out_row(f, &c, &o, &k, &cnt);
	fclose(f);
	is_str(text, "{\"tcp_flags\": [\"ACK\", \"SYN\"], \"mpls_label_stack\": [\"0-16\", \"1-17\"], "
	    "\"packets\": 1, \"bytes\": 2}\n"
	    "{\"tcp_flags\": [], \"mpls_label_stack\": [\"0-16\", \"1-17\"], \"packets\": 1, \"bytes\": 2}\n",
	    "arrays");
	free(text);

	struct prim_custom cu = { .field_type = 999, .len = 2, .sem = PCS_UINT };
	char why[128];
	struct prim_registry *reg = prim_registry_new();
	is_int(prim_custom_define(reg, "cu", &cu, why, sizeof(why)), 0, "define cu");
	prim_parse_list(reg, "timestamp_export,export_proto_sysid,cu", &set, NULL, 0);
	out_cols_init(&c, reg, &set, false, false);
	uint16_t v = 513;
	memcpy((uint8_t *)&k + prim_custom_get(reg, 0)->off, &v, 2);
	k.export_proto_sysid = 7;
	o.ts_since_epoch = true;
	k.ts_export.sec = 1700000000;
	f = open_memstream(&text, &len);
	out_row(f, &c, &o, &k, &cnt);
	fclose(f);
	is_str(text, "{\"export_proto_sysid\": 7, \"timestamp_export\": \"1700000000.000000\", \"cu\": \"513\", "
	    "\"packets\": 1, \"bytes\": 2}\n", "timestamp_export before custom ones, custom as a string");
	free(text);
	prim_registry_free(reg);

	char wid[64];
	out_writer_id("$proc_name:$writer_pid", "p1", 42, wid, sizeof(wid));
	is_str(wid, "p1:42", "writer_id_string");
	out_writer_id(NULL, "p1", 42, wid, sizeof(wid));
	is_str(wid, "p1/42", "default writer_id");
}

/* aggregate_primitives applies wherever it stands in the config; errors name both files. */
static void test_config_keys(void)
{
	char lst[] = "/tmp/test_cfg_lst_XXXXXX", conf[] = "/tmp/test_cfg_conf_XXXXXX";
	struct core_cfg c, c2;
	char text[512];
	int fd;

	close(mkstemp(lst));
	close(fd = mkstemp(conf));
	write_file(lst, "name=mtla field_type=47 len=4 semantics=ip\n");
	snprintf(text, sizeof(text), "plugins: print[p]\naggregate[p]: src_host, mtla\n"
	    "aggregate_primitives: %s\ntcpflags_encode_as_array[p]: true\n"
	    "mpls_label_stack_encode_as_array: true\nfwd_status_encode_as_string: true\n"
	    "nfacctd_ignore_exporter_address: true\nflow_to_rd_map: /etc/rd.map\n", lst);
	write_file(conf, text);
	is_int(cfg_load(&c, CFG_NFACCTD, conf, NULL, 0), 0, "config with a custom primitive loads");
	ok(prim_has(&c.plugins[0].aggregate, (enum prim_id)prim_lookup(c.prims, "mtla")),
	    "aggregate line before aggregate_primitives still sees mtla");
	ok(c.plugins[0].tcpflags_encode_as_array && c.plugins[0].mpls_label_stack_encode_as_array &&
	    c.plugins[0].fwd_status_encode_as_string, "encoding keys");
	ok(c.nf_ignore_exporter_address, "nfacctd_ignore_exporter_address");
	is_str(c.flow_to_rd_map, "/etc/rd.map", "flow_to_rd_map");
	/* a second configuration in the same process has its own primitives */
	write_file(lst, "name=other field_type=48 len=2 semantics=u_int\n");
	is_int(cfg_load(&c2, CFG_NFACCTD, conf, NULL, 0), -1, "second config: mtla is not its primitive");
	snprintf(text, sizeof(text), "plugins: print[p]\naggregate[p]: other\naggregate_primitives: %s\n", lst);
	write_file(conf, text);
	is_int(cfg_load(&c2, CFG_NFACCTD, conf, NULL, 0), 0, "second config loads beside the first");
	is_int(prim_lookup(c2.prims, "other"), P_CUSTOM_0, "its primitive in slot 0");
	is_int(prim_lookup(c2.prims, "mtla"), -1, "without the first's");
	is_int(prim_lookup(c.prims, "mtla"), P_CUSTOM_0, "the first keeps its own in slot 0");
	is_int(prim_lookup(c.prims, "other"), -1, "without the second's");
	cfg_fini(&c2);
	is_str(prim_desc_of(c.prims, P_CUSTOM_0)->name, "mtla", "the first outlives the second");
	cfg_fini(&c);
	write_file(lst, "name=mtla field_type=47 len=5 semantics=ip\n");
	snprintf(text, sizeof(text), "plugins: print[p]\naggregate[p]: src_host, mtla\n"
	    "aggregate_primitives: %s\n", lst);
	write_file(conf, text);
	is_int(cfg_load(&c, CFG_NFACCTD, conf, NULL, 0), -1, "a bad definition stops the config");
	unlink(lst);
	unlink(conf);
}

/*
 * Records of one data set whose interfaces the options named or not, in turn:
 * each gets its own names (none for an unknown ifIndex), never the previous
 * record's, and its own sampling direction (IE 61).
 */
static void test_names_per_record(void)
{
	static const struct { uint32_t in, out; uint8_t dir; const char *in_name, *out_name; } r[] = {
		{ 3, 99, 0, "ge-0/1", "" }, { 99, 4, 1, "", "xe-9" }, { 3, 4, 0, "ge-0/1", "xe-9" },
		{ 98, 97, 1, "", "" }, { 4, 3, 0, "xe-9", "ge-0/1" },
	};
	struct nf_opts o = { 0 };
	struct nf_state *st = nf_state_new(&o);
	struct buf b;
	struct got g;

	hdr(&b);
	set_open(&b, 3);
	u16(&b, 300); u16(&b, 2); u16(&b, 1);
	field(&b, 10, 4); field(&b, 82, 0xffff);
	set_close(&b);
	set_open(&b, 2);
	u16(&b, 256); u16(&b, 5);
	field(&b, 8, 4); field(&b, 10, 4); field(&b, 14, 4); field(&b, 61, 1); field(&b, 2, 4);
	set_close(&b);
	set_open(&b, 300);
	u32(&b, 3); u8(&b, 6); bytes(&b, "ge-0/1", 6);
	u32(&b, 4); u8(&b, 4); bytes(&b, "xe-9", 4);
	set_close(&b);
	set_open(&b, 256);
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		ip(&b, 10, 0, 0, (uint8_t)(i + 1)); u32(&b, r[i].in); u32(&b, r[i].out); u8(&b, r[i].dir);
		u32(&b, 1);
	}
	set_close(&b);
	msg_close(&b);
	is_int(decode(st, &b, &g), 5, "five data records");
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]) && i < (size_t)g.n; i++) {
		const struct flow_key *k = &g.r[i].k;
		ok(strcmp(k->in_iface_name, r[i].in_name) == 0 && strcmp(k->out_iface_name, r[i].out_name) == 0,
		    "record %zu: names '%s' '%s'", i, k->in_iface_name, k->out_iface_name);
		ok(k->sampling_direction == (r[i].dir ? FR_SAMP_DIR_EGRESS : FR_SAMP_DIR_INGRESS),
		    "record %zu: its own sampling direction", i);
	}
	nf_state_free(st);
}

int main(void)
{
	test_names_per_record();
	test_config_keys();
	test_json_encodings();
	test_nat_rd_stack();
	test_options_names();
	test_custom();
	test_rdmap();
	return tap_done();
}
