/* SPDX-License-Identifier: BSD-3-Clause */
/* imt_proto.h: the framed, versioned client protocol between the memory plugin and pmacct. */
#ifndef PLUGINS_IMT_PROTO_H
#define PLUGINS_IMT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rd.h"
#include "model/flow_rec.h"
#include "model/prim.h"

/*
 * Every message is a 12-byte header followed by `length` payload bytes,
 * all integers big-endian:
 *
 *   u32 magic "PMIM"  u16 version  u16 type  u32 length
 *
 * The client sends one request (QUERY, ERASE, STATUS or INFO) and reads
 * the reply: INFO first, then ROWS / SUMS / BUCKETS chunks, then END (or
 * ERROR at any point).  Keys travel primitive by primitive, in table order,
 * each in a fixed encoding chosen by its rendering class (imt_key_put), so
 * no C struct layout ever crosses the socket.
 */
#define IMT_MAGIC		0x504d494du	/* "PMIM" */
#define IMT_VERSION		3

/* INFO payload: the aggregate set, four 64-bit and one 32-bit field. */
#define IMT_INFO_LEN		(8 * PRIM_WORDS + 4 * 8 + 4)
/* Optional INFO tail: u8 count, then per custom primitive u8 name length, name, u32 PEN, u16 id, u16 len, u8 semantics. */
#define IMT_INFO_CUSTOM_MAX	(1 + PRIM_CUSTOM_MAX * (1 + 31 + 9))
#define IMT_HDR_LEN		12
#define IMT_MAX_REQUESTS	4096		/* -N / -M batch, as pmacct */
#define IMT_MAX_QUERY		(8u << 20)	/* bytes of a QUERY payload */
#define IMT_MAX_CHUNK		(1u << 20)	/* bytes of a reply payload */
#define IMT_CHUNK_TARGET	(64u << 10)	/* replies are cut near this size */
#define IMT_MAX_ERROR		256

enum imt_type {
	IMT_Q_QUERY = 1,	/* -s, -M, -N (with -r, -e, -l) */
	IMT_Q_ERASE = 2,	/* -e alone */
	IMT_Q_STATUS = 3,	/* -t */
	IMT_Q_INFO = 4,		/* -i (and any reply's first message) */
	IMT_R_INFO = 64,
	IMT_R_ROWS = 65,
	IMT_R_SUMS = 66,
	IMT_R_BUCKETS = 67,
	IMT_R_END = 68,
	IMT_R_ERROR = 69,
};

/* Outcome of parsing a header. */
enum imt_err {
	IMT_OK = 0,
	IMT_E_SHORT = -1,	/* fewer than IMT_HDR_LEN bytes yet */
	IMT_E_MAGIC = -2,
	IMT_E_VERSION = -3,
	IMT_E_TYPE = -4,
	IMT_E_LENGTH = -5,	/* length not allowed for this type */
};

struct imt_hdr {
	uint16_t type;
	uint32_t length;
};

/* Query modes and flags. */
enum imt_mode { IMT_MODE_ALL = 0, IMT_MODE_ROWS = 1, IMT_MODE_SUMS = 2 };
enum {
	IMT_QF_RESET = 1 << 0,	/* -r: delete matched entries after returning them */
	IMT_QF_ERASE = 1 << 1,	/* -e with -s / -M: clear the table after the reply */
	IMT_QF_LOCK = 1 << 2,	/* -l: answer from one consistent pass */
	IMT_QF_ALL = 0x7,
};

/* One -N / -M request: the primitives to compare (-c minus '*' fields) and their values. */
struct imt_match {
	struct prim_set set;
	struct flow_key key;	/* fields outside `set` are zero */
};

struct imt_query {
	uint8_t mode;		/* enum imt_mode */
	uint32_t flags;		/* IMT_QF_* */
	uint32_t nreq;
	struct imt_match *req;	/* nreq entries, owned (imt_query_fini) */
};

/* Table description, the first message of every reply. */
struct imt_info {
	struct prim_set aggregate;
	uint64_t entries;
	uint64_t dropped;	/* records refused by the memory bound */
	int64_t erased_at;	/* epoch seconds of the last erase, -1 = never */
	int64_t now;		/* server's clock */
	uint32_t buckets;
	int ncustom;		/* custom primitives (aggregate_primitives) the plugin knows, in slot order */
	struct imt_custom {
		char name[32];
		struct prim_custom c;
	} custom[PRIM_CUSTOM_MAX];
};

/*
 * Replace reg's custom primitives with the info's, slot for slot (the
 * client learns the plugin's).  0, or -1 with reg left without custom ones.
 */
int imt_info_define_custom(const struct imt_info *in, struct prim_registry *reg);

/* Bytes of a ROWS row before its key: u32 req, u64 packets, bytes, flows, u8 tcp_flags. */
#define IMT_ROW_HDR_LEN		29

/* One row of ROWS. */
struct imt_row {
	uint32_t req;		/* request index (-M), 0 for -s */
	uint64_t packets, bytes, flows;
	uint8_t tcp_flags;
	struct flow_key key;
};

/* One -N result of SUMS. */
struct imt_sum {
	uint64_t packets, bytes, flows, entries;
};

/* A growable output buffer.  Allocation aborts on out-of-memory. */
struct imt_buf {
	uint8_t *p;
	size_t len, cap;
};

void imt_buf_fini(struct imt_buf *b);
void imt_put_u8(struct imt_buf *b, uint8_t v);
void imt_put_u16(struct imt_buf *b, uint16_t v);
void imt_put_u32(struct imt_buf *b, uint32_t v);
void imt_put_u64(struct imt_buf *b, uint64_t v);
void imt_put_bytes(struct imt_buf *b, const void *p, size_t n);

/*
 * Start a message of `type` in b: writes a header with a zero length and
 * returns its offset, to pass to imt_msg_end() once the payload is written.
 */
size_t imt_msg_begin(struct imt_buf *b, uint16_t type);
void imt_msg_end(struct imt_buf *b, size_t start);

/*
 * Parse the header at buf[0..len).  Checks magic, version, that the type
 * is known and that its length fits that type's bounds.  Returns IMT_OK
 * and fills *h, or an enum imt_err.
 */
int imt_hdr_parse(const uint8_t *buf, size_t len, struct imt_hdr *h);

/* Text for an enum imt_err (logs and client errors). */
const char *imt_strerror(int err);

/*
 * Encode the fields of the primitives in `set` of key k, laid out as
 * registry reg says (table order; a field shared by two primitives,
 * sum_host and src_host, is written once).  Both ends use the same
 * custom primitives: the client learns the plugin's from INFO.
 */
void imt_key_put(struct imt_buf *b, const struct prim_registry *reg, const struct prim_set *set,
    const struct flow_key *k);

/* Decode what imt_key_put wrote into *k (zeroed first).  Returns 0, or -1 (r marked bad). */
int imt_key_get(struct rd *r, const struct prim_registry *reg, const struct prim_set *set,
    struct flow_key *k);

/* Whole messages.  The *_decode functions read a payload and return 0 or -1. */
void imt_query_encode(struct imt_buf *b, const struct prim_registry *reg, const struct imt_query *q);
int imt_query_decode(const uint8_t *p, size_t len, const struct prim_registry *reg,
    struct imt_query *q);
void imt_query_fini(struct imt_query *q);

void imt_info_encode(struct imt_buf *b, const struct imt_info *in);
int imt_info_decode(const uint8_t *p, size_t len, struct imt_info *in);

/* ROWS payload: u32 count, then rows.  Rows are appended to an open message. */
void imt_row_put(struct imt_buf *b, const struct prim_registry *reg,
    const struct prim_set *aggregate, const struct imt_row *row);
int imt_row_get(struct rd *r, const struct prim_registry *reg, const struct prim_set *aggregate,
    struct imt_row *row);

void imt_sum_put(struct imt_buf *b, const struct imt_sum *s);
int imt_sum_get(struct rd *r, struct imt_sum *s);

/* ERROR payload: u16 length + text.  Decoding always yields a terminated string. */
void imt_error_encode(struct imt_buf *b, const char *msg);
int imt_error_decode(const uint8_t *p, size_t len, char *out, size_t outlen);

#endif
