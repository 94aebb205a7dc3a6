/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_tagfilter.c: libFuzzer target for the pre_tag_filter and pre_tag_label_filter compilers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps/labelfilter.h"
#include "maps/tagfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input, as a string, is compiled as a tag filter and as a label
 * filter; what compiles is asked about a few tags and labels taken from the
 * input itself.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tagfilter tf;
	struct labelfilter *lf;
	char why[256];
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	if (tagfilter_compile(&tf, s, why, sizeof(why)) == 0) {
		uint64_t probes[] = { 0, 1, 2, 100, UINT64_MAX, strtoull(s, NULL, 10) };
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			(void)tagfilter_pass(&tf, probes[i]);
		if (tf.n < 0 || tf.n > TAGF_MAX)
			abort();
	}
	if ((lf = labelfilter_compile(s, why, sizeof(why))) != NULL) {
		char *comma = strchr(s, ',');
		(void)labelfilter_pass(lf, "");
		if (comma)
			*comma = '\0';
		(void)labelfilter_pass(lf, s[0] == '-' ? s + 1 : s);
		labelfilter_free(lf);
	}
	free(s);
	return 0;
}
