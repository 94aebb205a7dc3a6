/* SPDX-License-Identifier: BSD-3-Clause */
/* test_tagfilter.c: pre_tag_filter compile and evaluation, checked against pmacct 1.7.7's outputs. */
#include <string.h>

#include "maps/tagfilter.h"
#include "tap.h"

/* Which of tags 0,1,2,3,5,10 pass `text`, as a string of 0/1 (pmacct 1.7.7 by experiment). */
static void check(const char *text, const char *want)
{
	static const uint64_t tags[] = { 0, 1, 2, 3, 5, 10 };
	struct tagfilter f;
	char why[128], got[8];

	ok(tagfilter_compile(&f, text, why, sizeof(why)) == 0, "compile '%s'", text);
	for (size_t i = 0; i < 6; i++)
		got[i] = tagfilter_pass(&f, tags[i]) ? '1' : '0';
	got[6] = '\0';
	is_str(got, want, text);
}

int main(void)
{
	struct tagfilter f;
	char why[128];

	/*         tags:    0 1 2 3 5 10 */
	check("0",         "100000");
	check("1",         "010000");
	check("-1",        "101111");
	check("2-5",       "001110");
	check("-2-5",      "110001");
	check("1,3",       "010100");
	check("0,10",      "100001");
	check("-0",        "011111");
	check("1, 10",     "010001");
	check("-1,-2",     "101111");	/* the first entry decides: 2 passes, as pmacct */
	check("1,-3",      "111011");
	check("",          "111111");	/* no filter */
	ok(tagfilter_compile(&f, "18446744073709551615", why, sizeof(why)) == 0 &&
	    tagfilter_pass(&f, UINT64_MAX) && !tagfilter_pass(&f, 1), "64-bit tag");
	ok(tagfilter_compile(&f, "3-2", why, sizeof(why)) < 0 && strstr(why, "low-high"),
	    "reversed range refused: %s", why);
	ok(tagfilter_compile(&f, "5-", why, sizeof(why)) < 0, "open range refused");
	ok(tagfilter_compile(&f, "abc", why, sizeof(why)) < 0, "non-digit refused");
	ok(tagfilter_compile(&f, "18446744073709551616", why, sizeof(why)) < 0, "overflow refused");
	ok(f.n == 0 && tagfilter_pass(&f, 7), "a failed compile leaves no filter");
	char big[1024] = "";
	for (int i = 0; i < TAGF_MAX + 1; i++)
		strcat(big, "1,");
	ok(tagfilter_compile(&f, big, why, sizeof(why)) < 0, "more than %d entries refused", TAGF_MAX);
	return tap_done();
}
