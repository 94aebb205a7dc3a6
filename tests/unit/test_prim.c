/* SPDX-License-Identifier: BSD-3-Clause */
/* test_prim.c: the primitives table: lookups, list parsing, key masks, table invariants. */
#include <stddef.h>
#include <string.h>

#include "model/prim.h"
#include "tap.h"

static void test_table_invariants(void)
{
	for (int i = 0; i < P_COUNT; i++) {
		const struct prim_desc *d = &prim_table[i];
		ok(d->name != NULL, "row %d has a name", i);
		if ((d->flags & PRIM_CUSTOM) && !d->name[0])
			continue;	/* an unnamed custom slot */
		ok(d->off + d->len <= sizeof(struct flow_key), "%s: field inside flow_key", d->name);
		ok(prim_lookup(d->name) == i, "%s: lookup finds its own row", d->name);
		if (d->fmt != PF_NONE && !(d->flags & PRIM_VLEN))
			ok(d->title && d->json && d->width > strlen(d->title), "%s: title fits its width",
			    d->name);
	}
	/* no two key fields overlap unless one aliases the other (sum_*) */
	for (int i = 0; i < P_COUNT; i++) {
		for (int j = i + 1; j < P_COUNT; j++) {
			const struct prim_desc *a = &prim_table[i], *b = &prim_table[j];
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
	const char *bad = NULL;
	char buf[256];

	ok(prim_parse_list("src_host, dst_host,proto  src_port", &s, &bad) == 0, "parse a mixed list");
	ok(prim_has(&s, P_SRC_HOST) && prim_has(&s, P_DST_HOST) && prim_has(&s, P_PROTO) &&
	    prim_has(&s, P_SRC_PORT) && !prim_has(&s, P_DST_PORT), "parsed exactly those");
	prim_set_str(&s, buf, sizeof(buf));
	is_str(buf, "src_host, dst_host, src_port, proto", "rendered in table order");
	ok(prim_parse_list("SRC_HOST", &s, &bad) == 0 && prim_has(&s, P_SRC_HOST), "case-insensitive");
	ok(prim_parse_list("src_host,bogus", &s, &bad) == -1, "unknown primitive fails");
	is_str(bad, "bogus", "and names it");
	ok(prim_parse_list("", &s, &bad) == 0 && prim_set_empty(&s), "empty list is empty");
}

static void test_mask(void)
{
	struct prim_set s = { 0 };
	struct flow_key m;
	const uint8_t *b = (const uint8_t *)&m;
	size_t set = 0;

	prim_add(&s, P_SRC_PORT);
	prim_add(&s, P_SUM_HOST);
	prim_key_mask(&s, &m);
	for (size_t i = 0; i < sizeof(m); i++)
		set += b[i] == 0xff;
	is_int(set, sizeof(m.src_port) + sizeof(m.src_ip), "mask covers src_port and src_ip only");
	ok(m.src_port == 0xffff, "src_port masked in");
	ok(m.dst_port == 0, "dst_port masked out");
}

int main(void)
{
	test_table_invariants();
	test_parse();
	test_mask();
	return tap_done();
}
