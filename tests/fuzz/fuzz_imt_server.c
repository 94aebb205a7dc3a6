/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_imt_server.c: libFuzzer target for the memory plugin's side of the client protocol: requests in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/imt_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool query_eq(const struct imt_query *a, const struct imt_query *b)
{
	if (a->mode != b->mode || a->flags != b->flags || a->nreq != b->nreq)
		return false;
	for (uint32_t i = 0; i < a->nreq; i++)
		if (!prim_set_eq(&a->req[i].set, &b->req[i].set) ||
		    memcmp(&a->req[i].key, &b->req[i].key, sizeof(a->req[i].key)) != 0)
			return false;
	return true;
}

/*
 * The input is what clients send, as the plugin reads it: a header, then
 * the payload its length announces (whatever is left when the input is
 * shorter), then the next request.  Each header is checked as the plugin
 * does (a reply type from a client is refused); a QUERY payload is
 * decoded, and what decodes must survive a round trip: encoding it and
 * decoding again gives the same query.  The plugin answers a bad request
 * with ERROR, which is encoded here too.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size > 0) {
		struct imt_buf out = { 0 };
		struct imt_hdr h;
		struct imt_query q, q2;
		int rc = imt_hdr_parse(data, size, &h);

		if (rc != IMT_OK || h.type >= IMT_R_INFO) {
			imt_error_encode(&out, rc != IMT_OK ? imt_strerror(rc) : "not a request");
			imt_buf_fini(&out);
			return 0;
		}
		data += IMT_HDR_LEN;
		size -= IMT_HDR_LEN;
		size_t len = h.length < size ? h.length : size;
		/* the plugin waits for the whole payload: give the decoder an exact-size copy */
		uint8_t *pl = malloc(len ? len : 1);
		memcpy(pl, data, len);
		if (h.type == IMT_Q_QUERY && len == h.length && imt_query_decode(pl, len, NULL, &q) == 0) {
			imt_query_encode(&out, NULL, &q);
			struct imt_hdr h2;
			if (imt_hdr_parse(out.p, out.len, &h2) != IMT_OK ||
			    imt_query_decode(out.p + IMT_HDR_LEN, h2.length, NULL, &q2) != 0)
				abort();
			if (!query_eq(&q, &q2))
				abort();
			imt_query_fini(&q2);
			imt_query_fini(&q);
		} else if (h.type == IMT_Q_QUERY) {
			imt_error_encode(&out, "malformed query");
		}
		free(pl);
		imt_buf_fini(&out);
		data += len;
		size -= len;
	}
	return 0;
}
