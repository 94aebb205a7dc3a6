/* SPDX-License-Identifier: BSD-3-Clause */
/* test_prim.c: the primitives table: lookups, list parsing, key masks, table invariants, registries. */
#include <stddef.h>
#include <string.h>

#include "model/prim.h"
#include "tap.h"

static void test_table_invariants(void)
{
	for (int i = 0; i < P_COUNT; i++) {
		const struct prim_desc *d = prim_desc_of(NULL, i);
		ok(d->name != NULL, "row %d has a name", i);
		if ((d->flags & PRIM_CUSTOM) && !d->name[0])
			continue;	/* an unnamed custom slot */
		ok(d->off + d->len <= sizeof(struct flow_key), "%s: field inside flow_key", d->name);
		ok(prim_lookup(NULL, d->name) == i, "%s: lookup finds its own row", d->name);
		if (d->fmt != PF_NONE && !(d->flags & PRIM_VLEN))
			ok(d->title && d->json && d->width > strlen(d->title), "%s: title fits its width",
			    d->name);
	}
	/* no two key fields overlap unless one aliases the other (sum_*) */
	for (int i = 0; i < P_COUNT; i++) {
		for (int j = i + 1; j < P_COUNT; j++) {
			const struct prim_desc *a = prim_desc_of(NULL, i), *b = prim_desc_of(NULL, j);
			if (!a->len || !b->len || (int)a->alias == j || (int)b->alias == i)
				continue;
			ok(a->off + a->len <= b->off || b->off + b->len <= a->off,
			    "%s and %s do not overlap", a->name, b->name);
		}
	}
}

static void test_parse(void)
{
	struct prim_set s;
	char bad[PRIM_WORD_MAX] = "";
	char buf[256];

	ok(prim_parse_list(NULL, "src_host, dst_host,proto  src_port", &s, bad, sizeof(bad)) == 0,
	    "parse a mixed list");
	ok(prim_has(&s, P_SRC_HOST) && prim_has(&s, P_DST_HOST) && prim_has(&s, P_PROTO) &&
	    prim_has(&s, P_SRC_PORT) && !prim_has(&s, P_DST_PORT), "parsed exactly those");
	prim_set_str(NULL, &s, buf, sizeof(buf));
	is_str(buf, "src_host, dst_host, src_port, proto", "rendered in table order");
	ok(prim_parse_list(NULL, "SRC_HOST", &s, bad, sizeof(bad)) == 0 && prim_has(&s, P_SRC_HOST),
	    "case-insensitive");
	ok(prim_parse_list(NULL, "src_host,bogus", &s, bad, sizeof(bad)) == -1, "unknown primitive fails");
	is_str(bad, "bogus", "and names it");
	ok(prim_parse_list(NULL, "src_host,toolongname", &s, bad, 5) == -1, "a short buffer");
	is_str(bad, "tool", "gets the word truncated");
	ok(prim_parse_list(NULL, "bogus", &s, NULL, 0) == -1, "no buffer: still refused");
	ok(prim_parse_list(NULL, "", &s, bad, sizeof(bad)) == 0 && prim_set_empty(&s), "empty list is empty");
}

static void test_mask(void)
{
	struct prim_set s = { 0 };
	struct flow_key m;
	const uint8_t *b = (const uint8_t *)&m;
	size_t set = 0;

	prim_add(&s, P_SRC_PORT);
	prim_add(&s, P_SUM_HOST);
	prim_key_mask(NULL, &s, &m);
	for (size_t i = 0; i < sizeof(m); i++)
		set += b[i] == 0xff;
	is_int(set, sizeof(m.src_port) + sizeof(m.src_ip), "mask covers src_port and src_ip only");
	ok(m.src_port == 0xffff, "src_port masked in");
	ok(m.dst_port == 0, "dst_port masked out");
}

/* Two configurations' registries, with different custom primitives in the same slot, coexist. */
static void test_registries_coexist(void)
{
	struct prim_registry *a = prim_registry_new(), *b = prim_registry_new();
	struct prim_custom ca = { .field_type = 100, .len = 4, .sem = PCS_UINT };
	struct prim_custom cb = { .pen = 9, .field_type = 200, .len = 16, .sem = PCS_IP };
	struct prim_custom cb2 = { .field_type = 201, .len = 8, .sem = PCS_HEX };
	struct prim_set s;
	struct flow_key ma, mb;
	char why[256], bad[PRIM_WORD_MAX];

	ok(prim_custom_define(a, "alpha", &ca, why, sizeof(why)) == 0, "a defines alpha");
	ok(prim_custom_define(b, "beta", &cb, why, sizeof(why)) == 0, "b defines beta");
	ok(prim_custom_define(b, "gamma", &cb2, why, sizeof(why)) == 0, "b defines gamma");
	is_int(prim_custom_count(a), 1, "a has one custom primitive");
	is_int(prim_custom_count(b), 2, "b has two");
	is_int(prim_custom_count(NULL), 0, "the built-ins have none");
	is_int(prim_lookup(a, "alpha"), P_CUSTOM_0, "alpha is a's first slot");
	is_int(prim_lookup(b, "beta"), P_CUSTOM_0, "beta is b's first slot");
	is_int(prim_lookup(a, "beta"), -1, "a does not know beta");
	is_int(prim_lookup(b, "alpha"), -1, "b does not know alpha");
	is_int(prim_lookup(NULL, "alpha"), -1, "the built-ins know neither");
	is_str(prim_desc_of(a, P_CUSTOM_0)->name, "alpha", "a's slot 0 is alpha");
	is_str(prim_desc_of(b, P_CUSTOM_0)->name, "beta", "b's slot 0 is beta");
	ok(prim_desc_of(a, P_CUSTOM_0)->fmt == PF_UINT && prim_desc_of(b, P_CUSTOM_0)->fmt == PF_IP,
	    "each renders its own way");
	ok(prim_desc_of(a, P_SRC_HOST) == prim_desc_of(b, P_SRC_HOST), "built-in rows are shared");
	ok((prim_desc_of(NULL, P_CUSTOM_0)->flags & PRIM_HIDDEN) && !prim_desc_of(NULL, P_CUSTOM_0)->len,
	    "no registry: the slot is undefined");
	ok(prim_custom_get(a, 0)->field_type == 100 && prim_custom_get(b, 0)->pen == 9,
	    "decoding data per registry");
	ok(prim_custom_get(a, 1) == NULL && prim_custom_get(b, 1)->field_type == 201,
	    "slot 1 only in b");

	ok(prim_parse_list(a, "src_host, alpha", &s, bad, sizeof(bad)) == 0 &&
	    prim_has(&s, P_CUSTOM_0), "a parses alpha");
	prim_key_mask(a, &s, &ma);
	ok(prim_parse_list(b, "src_host, alpha", &s, bad, sizeof(bad)) == -1, "b refuses alpha");
	is_str(bad, "alpha", "and names it");
	ok(prim_parse_list(b, "src_host, beta", &s, bad, sizeof(bad)) == 0, "b parses beta");
	prim_key_mask(b, &s, &mb);
	ok(memcmp(&ma, &mb, sizeof(ma)) != 0, "the same slot masks different bytes");
	ok(prim_custom_get(a, 0)->size == 4 && prim_custom_get(b, 0)->size == sizeof(struct fr_ip),
	    "each lays its slot out by its own definition");

	prim_registry_free(a);
	is_str(prim_desc_of(b, P_CUSTOM_0)->name, "beta", "freeing a leaves b whole");
	prim_custom_clear(b);
	is_int(prim_custom_count(b), 0, "clear forgets b's custom primitives");
	is_int(prim_lookup(b, "beta"), -1, "beta is gone");
	prim_registry_free(b);
	prim_registry_free(NULL);
}

int main(void)
{
	test_table_invariants();
	test_parse();
	test_mask();
	test_registries_coexist();
	return tap_done();
}
