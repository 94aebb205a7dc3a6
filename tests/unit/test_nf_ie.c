/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nf_ie.c: the NetFlow/IPFIX element tables are sorted, and each specialised unsigned store equals NF_OP_UINT. */
#include <stdlib.h>
#include <string.h>

#include "decode/nf_ie.h"
#include "lib/rd.h"
#include "tap.h"

/* Every entry is found by its id, ids strictly ascend (the lookup is a binary search), nothing else is found. */
static void check_table(uint32_t pen, const char *what)
{
	size_t n, found = 0;
	const struct nf_ie *t = nf_ie_table(pen, &n);
	int unsorted = 0, lost = 0;

	ok(t != NULL && n > 0, "%s: a table", what);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && t[i - 1].id >= t[i].id)
			unsorted++;
		if (nf_ie_find_pen(pen, t[i].id) != &t[i])
			lost++;
	}
	is_int(unsorted, 0, what);
	is_int(lost, 0, "every entry found by its id");
	for (uint32_t id = 0; id <= 0xffff; id++)
		found += nf_ie_find_pen(pen, (uint16_t)id) != NULL;
	is_int(found, n, "no id found that the table does not hold");
}

static void test_tables(void)
{
	size_t n;

	check_table(0, "IANA: sorted by id");
	check_table(NF_PEN_HUAWEI, "Huawei: sorted by id");
	ok(nf_ie_table(9, &n) == NULL && n == 0, "another enterprise: no table");
	ok(nf_ie_find_pen(9, 1) == NULL, "another enterprise: nothing found");
	ok(nf_ie_find(1) == nf_ie_find_pen(0, 1), "nf_ie_find is enterprise 0");
}

/* The first unsigned IANA element whose destination is dsz bytes. */
static const struct nf_ie *uint_ie(uint8_t dsz)
{
	size_t n;
	const struct nf_ie *t = nf_ie_table(0, &n);

	for (size_t i = 0; i < n; i++)
		if (t[i].op == NF_OP_UINT && t[i].dsz == dsz)
			return &t[i];
	return NULL;
}

/* Run prog over rec[0..len) into a zeroed scratch. */
static int run(const struct nf_prog *prog, const uint8_t *rec, size_t len, struct nf_scr *scr)
{
	struct rd r = rd_make(rec, len);

	memset(scr, 0, sizeof(*scr));
	return nf_prog_run(prog, &r, scr);
}

/*
 * Field (ie, len), alone or before a variable-length string: the step the
 * compiler chose and the same step as generic NF_OP_UINT store the same
 * bytes.  Returns the chosen op.
 */
static int same_as_generic(const struct nf_ie *ie, uint16_t len, bool varlen, const uint8_t *wire,
    int *diff)
{
	struct nf_field f[2] = { { ie->id, len, 0 }, { 82, NF_VARLEN, 0 } };
	struct nf_prog fast, slow;
	static struct nf_scr a, b;
	uint8_t rec[16];
	size_t n = len;
	int op = -1;

	memcpy(rec, wire, len);
	if (varlen)
		rec[n++] = 0;			/* an empty interfaceName */
	if (nf_prog_compile(&fast, f, varlen ? 2 : 1, 0, NULL, 0) < 0)
		return -1;
	if (nf_prog_compile(&slow, f, varlen ? 2 : 1, 0, NULL, 0) < 0) {
		nf_prog_free(&fast);
		return -1;
	}
	op = fast.steps[0].op;
	slow.steps[0].op = NF_OP_UINT;
	if (run(&fast, rec, n, &a) < 0 || run(&slow, rec, n, &b) < 0 || memcmp(&a, &b, sizeof(a)) != 0)
		(*diff)++;
	nf_prog_free(&fast);
	nf_prog_free(&slow);
	return op;
}

static bool is_special(int op)
{
	return op >= NF_OP_U1_1 && op <= NF_OP_U8_8;
}

/* Every wire length 1..8 into every destination size, with patterns that set the high bits. */
static void test_uint_ops(void)
{
	static const uint8_t dszs[] = { 1, 2, 4, 8 };
	static const uint8_t wires[][8] = {
		{ 0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8 },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 },
	};
	bool used[NF_OP_U8_8 + 1] = { false };
	int diff = 0, bad_op = 0, specials = 0;

	for (size_t d = 0; d < sizeof(dszs); d++) {
		const struct nf_ie *ie = uint_ie(dszs[d]);
		if (!ok(ie != NULL, "an unsigned element of %u bytes", dszs[d]))
			continue;
		for (uint16_t len = 1; len <= 8; len++)
			for (size_t w = 0; w < sizeof(wires) / sizeof(wires[0]); w++)
				for (int v = 0; v < 2; v++) {
					int op = same_as_generic(ie, len, v, wires[w], &diff);
					if (op < 0)
						bad_op++;
					else if (is_special(op))
						used[op] = true;
					else if (op != NF_OP_UINT)
						bad_op++;
				}
	}
	for (int op = NF_OP_U1_1; op <= NF_OP_U8_8; op++)
		specials += used[op];
	is_int(bad_op, 0, "every unsigned field compiles to NF_OP_UINT or a specialised op");
	is_int(specials, NF_OP_U8_8 - NF_OP_U1_1 + 1, "every specialised op exercised");
	is_int(diff, 0, "every specialised op stores what NF_OP_UINT stores, fixed and variable-length");
}

int main(void)
{
	test_tables();
	test_uint_ops();
	return tap_done();
}
