/* SPDX-License-Identifier: BSD-3-Clause */
/* test_misc_prims.c: mpls_pw_id, fw_event, sampling_direction from NetFlow v9 / IPFIX and sFlow bytes, and how they print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/netflow.h"
#include "decode/sflow.h"
#include "model/prim.h"
#include "model/prim_value.h"
#include "plugins/output.h"
#include "tap.h"

#include "nfbuf.h"

static const struct fr_ip src = { 4, { 0 }, { 127, 0, 0, 9 } };
static const struct fr_ts now = { 1700000100, 0 };

/* A field of a test template and its value (unsigned, `len` bytes). */
struct tf {
	uint16_t id, len;
	uint64_t v;
};

/*
 * One message (IPFIX, or v9 when v9) holding a template of source port
 * (IE 7) and fields f[0..n), then one record per rows[r] (port 1000 + r,
 * values vals[r][i]).  Decodes it into g; returns records emitted.
 */
static size_t decode(bool v9, const struct tf *f, int n, const uint64_t (*vals)[4], int rows,
    struct got *g)
{
	struct nf_opts o = { 0 };
	struct nf_state *st = nf_state_new(&o);
	struct buf b;

	if (v9)
		nf9_hdr(&b, 100000, 1700000000, 1, 7);
	else
		ipfix_hdr(&b, 1700000000, 1, 7);
	set_open(&b, v9 ? 0 : 2);
	u16(&b, 300); u16(&b, (uint16_t)(n + 1));
	field(&b, 7, 2);
	for (int i = 0; i < n; i++)
		field(&b, f[i].id, f[i].len);
	v9 ? nf9_set_close(&b) : set_close(&b);
	set_open(&b, 300);
	for (int r = 0; r < rows; r++) {
		u16(&b, (uint16_t)(1000 + r));
		for (int i = 0; i < n; i++)
			uint_n(&b, vals[r][i], f[i].len);
	}
	v9 ? nf9_set_close(&b) : set_close(&b);
	if (v9)
		put16_at(&b, 2, 2);	/* v9 header count: two flowsets */
	else
		msg_close(&b);
	g->n = 0;
	size_t got = nf_decode(st, b.b, b.n, &src, &now, collect, g);
	nf_state_free(st);
	return got;
}

/* How primitive id prints in fmt for key k. */
static const char *show(enum prim_id id, const struct flow_key *k, enum print_fmt fmt)
{
	static char buf[64];
	struct out_opts o = { .fmt = fmt };
	return out_value(NULL, &prim_builtin[id], k, 0, &o, buf, sizeof(buf));
}

static void test_nf(bool v9)
{
	static const struct tf f[] = { { 249, 4, 0 }, { 233, 1, 0 }, { 61, 1, 0 } };
	/* pw id, fw event, direction; the third record's direction is neither 0 nor 1 */
	static const uint64_t vals[][4] = {
		{ 123456, 2, 0 }, { 0xffffffff, 5, 1 }, { 7, 0, 2 },
	};
	struct got *g = calloc(1, sizeof(*g));
	const char *w = v9 ? "v9" : "ipfix";

	ok(decode(v9, f, 3, vals, 3, g) == 3 && g->n == 3, "%s: three records", w);
	is_int(g->r[0].k.mpls_pw_id, 123456, "IE 249 pseudoWireId is mpls_pw_id");
	is_int(g->r[1].k.mpls_pw_id, 0xffffffffu, "the whole 32 bits");
	is_int(g->r[0].k.fw_event, 2, "IE 233 firewallEvent is fw_event");
	is_int(g->r[1].k.fw_event, 5, "fw_event of the second record");
	is_int(g->r[0].k.sampling_direction, FR_SAMP_DIR_INGRESS, "IE 61 = 0: ingress");
	is_int(g->r[1].k.sampling_direction, FR_SAMP_DIR_EGRESS, "IE 61 = 1: egress");
	is_int(g->r[2].k.sampling_direction, FR_SAMP_DIR_UNKNOWN, "IE 61 = 2: unknown");
	is_str(show(P_SAMPLING_DIRECTION, &g->r[0].k, OUT_CSV), "i", "printed i");
	is_str(show(P_SAMPLING_DIRECTION, &g->r[1].k, OUT_JSON), "e", "printed e");
	is_str(show(P_SAMPLING_DIRECTION, &g->r[2].k, OUT_FORMATTED), "u", "printed u");
	is_str(show(P_MPLS_PW_ID, &g->r[1].k, OUT_CSV), "4294967295", "mpls_pw_id printed unsigned");

	/* a record without the elements after one with them: nothing carried over */
	static const struct tf f2[] = { { 1, 4, 0 } };
	static const uint64_t v2[][4] = { { 100 } };
	ok(decode(v9, f2, 1, v2, 1, g) == 1, "%s: a template without them", w);
	ok(g->r[0].k.mpls_pw_id == 0 && g->r[0].k.fw_event == 0 &&
	    g->r[0].k.sampling_direction == FR_SAMP_DIR_UNKNOWN, "none set: 0, 0, u");
	free(g);
}

/* sFlow: extended_mpls_vc (1009) and the data source against the sample's ports. */
struct seen {
	int n;
	struct flow_rec rec[4];
};

static void on_flow(void *arg, const struct sflow_hdr *h, const struct sflow_flow *fl,
    struct flow_rec *rec)
{
	struct seen *s = arg;
	(void)h; (void)fl;
	if (s->n < 4)
		s->rec[s->n] = *rec;
	s->n++;
}

static void sflow_sample(struct buf *b, uint32_t ds_index, uint32_t in, uint32_t out, bool vc,
    uint32_t vc_id)
{
	size_t at, r;

	u32(b, 1);				/* flow sample */
	u32(b, 0);
	at = b->n;
	u32(b, 1);				/* sequence */
	u32(b, ds_index);			/* source id, class 0 */
	u32(b, 1); u32(b, 10); u32(b, 0);	/* rate, pool, drops */
	u32(b, in); u32(b, out);
	u32(b, vc ? 2 : 1);
	/* sampled_ipv4 */
	u32(b, 3); u32(b, 32);
	u32(b, 100); u32(b, 17); ip(b, 10, 0, 0, 1); ip(b, 10, 0, 0, 2);
	u32(b, 1234); u32(b, 53); u32(b, 0); u32(b, 0);
	if (vc) {
		u32(b, 1009); u32(b, 0);
		r = b->n;
		u32(b, 5); bytes(b, "pw-77", 5); pad_to(b, 4);	/* vc_instance_name */
		u32(b, vc_id);
		u32(b, 3);				/* vc_label_cos */
		put32_at(b, r - 4, (uint32_t)(b->n - r));
	}
	put32_at(b, at - 4, (uint32_t)(b->n - at));
}

static void test_sflow(void)
{
	struct buf b = { 0 };
	struct sflow_stats st = { 0 };
	struct seen s = { 0 };
	struct sflow_sink sink = { on_flow, NULL, &s, NULL };

	u32(&b, 5); u32(&b, 1); ip(&b, 192, 0, 2, 1); u32(&b, 0);
	u32(&b, 1); u32(&b, 1000); u32(&b, 4);
	sflow_sample(&b, 3, 3, 4, true, 777);
	sflow_sample(&b, 4, 3, 4, false, 0);
	sflow_sample(&b, 5, 3, 4, true, 0xfffffffe);
	sflow_sample(&b, 3, 7, 3, false, 0);
	ok(sflow_decode(b.b, b.n, &sink, &st, NULL) == SFLOW_DROP_NONE && s.n == 4, "four samples");
	is_int(s.rec[0].k.mpls_pw_id, 777, "extended_mpls_vc vll_vc_id is mpls_pw_id");
	is_int(s.rec[1].k.mpls_pw_id, 0, "not carried to a sample without it");
	is_int(s.rec[2].k.mpls_pw_id, 0xfffffffeu, "32 bits");
	is_int(s.rec[0].k.sampling_direction, FR_SAMP_DIR_INGRESS, "source = input port: i");
	is_int(s.rec[1].k.sampling_direction, FR_SAMP_DIR_EGRESS, "source = output port: e");
	is_int(s.rec[2].k.sampling_direction, FR_SAMP_DIR_UNKNOWN, "neither: u");
	is_int(s.rec[3].k.sampling_direction, FR_SAMP_DIR_EGRESS, "output port 3: e");

	/* a truncated extended_mpls_vc (name longer than the record): the sample is refused */
	b.n = 0;
	memset(&s, 0, sizeof(s));
	u32(&b, 5); u32(&b, 1); ip(&b, 192, 0, 2, 1); u32(&b, 0);
	u32(&b, 2); u32(&b, 1000); u32(&b, 1);
	sflow_sample(&b, 3, 3, 4, true, 9);
	put32_at(&b, b.n - 20, 200);	/* the name's length: past the record */
	enum sflow_drop why = sflow_decode(b.b, b.n, &sink, &st, NULL);
	ok(why != SFLOW_DROP_NONE && s.n == 0, "a name longer than its record: the sample is refused (%d)", why);
}

static void test_rows(void)
{
	struct flow_key k = { 0 };

	is_str(prim_builtin[P_MPLS_PW_ID].descr, "MPLS L2 VPN Pseudowire ID", "-a description (1.7.7)");
	is_str(prim_builtin[P_FW_EVENT].descr, "Firewall event ID", "fw_event description");
	is_str(prim_builtin[P_SAMPLING_DIRECTION].descr, "Sampling direction (ie. ingress vs egress)",
	    "sampling_direction description");
	is_str(prim_builtin[P_FLOWS].descr, "IP flows", "flows description");
	ok(prim_listed(&prim_builtin[P_FLOWS], SRC_NF), "nfacctd -a lists flows");
	ok(!prim_listed(&prim_builtin[P_FLOWS], SRC_PM) && !prim_listed(&prim_builtin[P_FLOWS], SRC_SF),
	    "pmacctd and sfacctd -a do not (1.7.7)");
	ok(prim_value_parse(&prim_builtin[P_SAMPLING_DIRECTION], "e", &k) == 0 &&
	    k.sampling_direction == FR_SAMP_DIR_EGRESS, "-M sampling_direction e");
	ok(prim_value_parse(&prim_builtin[P_SAMPLING_DIRECTION], "x", &k) < 0, "x is refused");
	ok(P_COUNT <= 256, "column ids fit out_cols' bytes");
}

int main(void)
{
	test_nf(false);
	test_nf(true);
	test_sflow();
	test_rows();
	return tap_done();
}
