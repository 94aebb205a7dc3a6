/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_imt_client.c: libFuzzer target for the pmacct client's side of the protocol: replies in, rows printed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "plugins/imt_proto.h"
#include "plugins/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first byte picks the client's output format and -a; the rest is a
 * memory plugin's reply, read as the client reads it: INFO first (its
 * aggregate set decodes the rows), then ROWS / SUMS / BUCKETS messages
 * until END, ERROR at any point.  Every row that decodes is rendered.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imt_info info;
	struct out_cols cols;
	struct out_opts o;
	bool have_info = false;
	char err[IMT_MAX_ERROR + 1];

	if (size < 1)
		return 0;
	memset(&o, 0, sizeof(o));
	o.fmt = (enum print_fmt)(data[0] % 5);
	o.client = true;
	o.num_protos = (data[0] & 0x10) != 0;
	o.ts_rfc3339 = (data[0] & 0x20) != 0;
	strcpy(o.sep, ",");
	bool all = (data[0] & 0x40) != 0;
	data++;
	size--;
	while (size >= IMT_HDR_LEN) {
		struct imt_hdr h;
		if (imt_hdr_parse(data, size, &h) != IMT_OK || h.type < IMT_R_INFO)
			return 0;
		data += IMT_HDR_LEN;
		size -= IMT_HDR_LEN;
		if (h.length > size)
			return 0;	/* the client waits for the rest, then dies on EOF */
		uint8_t *pl = malloc(h.length ? h.length : 1);
		memcpy(pl, data, h.length);
		data += h.length;
		size -= h.length;
		struct rd r = rd_make(pl, h.length);
		bool stop = false;
		if (h.type == IMT_R_ERROR) {
			(void)imt_error_decode(pl, h.length, err, sizeof(err));
			if (strlen(err) > IMT_MAX_ERROR)
				abort();
			stop = true;
		} else if (!have_info) {
			if (h.type != IMT_R_INFO || imt_info_decode(pl, h.length, &info) < 0) {
				stop = true;
			} else {
				have_info = true;
				out_cols_init(&cols, NULL, &info.aggregate, all, o.fmt != OUT_JSON);
				out_header(fuzz_sink(), &cols, &o);
			}
		} else if (h.type == IMT_R_ROWS) {
			struct imt_row row;
			uint32_t n = rd_u32(&r);
			for (uint32_t i = 0; i < n && imt_row_get(&r, NULL, &info.aggregate, &row) == 0; i++) {
				struct out_counters c = { row.packets, row.bytes, row.flows,
				    row.tcp_flags, 0, 0 };
				out_row(fuzz_sink(), &cols, &o, &row.key, &c);
			}
		} else if (h.type == IMT_R_SUMS) {
			struct imt_sum s;
			uint32_t n = rd_u32(&r);
			for (uint32_t i = 0; i < n && imt_sum_get(&r, &s) == 0; i++)
				;
		} else if (h.type == IMT_R_BUCKETS) {
			uint32_t first = rd_u32(&r), n = rd_u32(&r);
			for (uint32_t i = 0; i < n && !r.bad; i++)
				(void)(first + rd_u32(&r));
		} else {
			stop = true;	/* END, or a second INFO */
		}
		free(pl);
		if (stop)
			return 0;
	}
	return 0;
}
