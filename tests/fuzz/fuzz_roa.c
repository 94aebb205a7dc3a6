/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_roa.c: libFuzzer target for the JSON ROA file (roa_parse_json) and validations over what loads. */
#include <stdint.h>
#include <string.h>

#include "maps/roa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input is the file; a table that loads validates prefixes made from the input's bytes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	struct roa_table *t = roa_parse_json((const char *)data, size, "fuzz.json", "fuzz/roa", why,
	    sizeof(why));

	if (!t)
		return 0;
	for (size_t i = 0; i + 20 <= size && i < 200; i += 20) {
		uint8_t addr[16];
		uint32_t asn;
		memcpy(addr, data + i, 16);
		memcpy(&asn, data + i + 16, 4);
		(void)roa_validate(t, (data[i] & 1) ? 6 : 4, addr, (uint8_t)(data[i + 1] % 129), asn);
	}
	roa_table_free(t);
	return 0;
}
