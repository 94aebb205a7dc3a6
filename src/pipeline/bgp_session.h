/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_session.h: one passive BGP session's state machine, over bytes in and bytes out (no sockets). */
#ifndef PIPELINE_BGP_SESSION_H
#define PIPELINE_BGP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/bgp_msg.h"
#include "maps/bgp_rib.h"

/*
 * States of a passive peer (RFC 4271 8.2.2, the part a listener lives in):
 * the TCP connection is up and we wait for the peer's OPEN (ACTIVE), we
 * answered it with our OPEN and a KEEPALIVE and wait for its KEEPALIVE
 * (OPENCONFIRM), then ESTABLISHED; CLOSED once a NOTIFICATION went out or
 * came in, or the peer closed.
 */
enum bgp_sess_state { BGP_ST_ACTIVE, BGP_ST_OPENCONFIRM, BGP_ST_ESTABLISHED, BGP_ST_CLOSED };

/* What we are and what we offer (bgp_daemon_* keys). */
struct bgp_sess_cfg {
	uint32_t local_as;		/* bgp_daemon_as, 0 = the peer's (iBGP) */
	uint32_t router_id;		/* host order */
	uint16_t hold_time;		/* what we propose; 0 = the peer's own (as pmacct 1.7.7) */
	bool add_path_ignore;		/* bgp_daemon_add_path_ignore: never offer ADD-PATH receive */
};

struct bgp_sess;

/*
 * What the session asks of its owner (the BGP thread), on the thread that
 * feeds it.  Any hook may be NULL.  opened: the peer's OPEN is valid; return
 * 0 to go on, or non-zero after setting code and subcode to refuse it with a
 * NOTIFICATION (Router-ID collision).  established: the peer's KEEPALIVE
 * came; return its RIB index, or -1 to close with Cease (RIB full).
 * update_begin/nlri/update_end bracket one UPDATE (the owner write-locks the
 * RIB for it).
 */
struct bgp_sess_ops {
	void *arg;
	int (*opened)(void *arg, struct bgp_sess *s, uint8_t *code, uint8_t *subcode);
	int (*established)(void *arg, struct bgp_sess *s);
	void (*update_begin)(void *arg, struct bgp_sess *s);
	void (*nlri)(void *arg, struct bgp_sess *s, const struct bgp_nlri *n, const struct bgp_attrs *a);
	void (*update_end)(void *arg, struct bgp_sess *s, enum bgp_action act, const struct bgp_error *e);
};

/* Counters of one session (read by SIGUSR1 stats and the tests). */
struct bgp_sess_stats {
	uint64_t msgs_in, updates, keepalives_in, keepalives_out;
	uint64_t nlri_announced, nlri_withdrawn;
	uint64_t attr_discard, treat_as_withdraw;	/* RFC 7606 outcomes short of a reset */
};

#define BGP_SESS_OUT_CAP 8192
/* Input buffer: one largest message; grown to 65535 bytes once extended messages are agreed. */
#define BGP_SESS_IN_CAP BGP_MAX_LEN
#define BGP_SESS_IN_EXT_CAP BGP_EXT_MAX_LEN

struct bgp_sess {
	enum bgp_sess_state state;
	struct bgp_sess_cfg cfg;
	struct bgp_sess_ops ops;
	struct bgp_peer_id id;		/* addr/port set by the owner; bgp_id and as from the OPEN */
	char name[64];			/* the peer's address as text, for log lines */
	int peer;			/* RIB index once established, else -1 */
	struct bgp_open open;		/* the peer's OPEN */
	struct bgp_session neg;		/* what the UPDATE decoder needs */
	uint16_t hold;			/* negotiated hold time (s), 0 = no timers */
	int64_t last_rx_ms, last_tx_ms;	/* monotonic ms of the last message in / out */
	/* why it closed: NOTIFICATION sent or received, or 0/0 when the connection dropped */
	uint8_t down_code, down_subcode;
	bool down_received;		/* the NOTIFICATION came from the peer */
	char down_why[320];
	uint8_t *in;			/* in_cap bytes */
	size_t in_len, in_cap;
	uint8_t out[BGP_SESS_OUT_CAP];	/* bytes to send, the owner drains it */
	size_t out_len;
	struct bgp_sess_stats st;
};

/* Start a session for a new connection at now_ms.  Returns 0, or -1 (no memory). */
int bgp_sess_init(struct bgp_sess *s, const struct bgp_sess_cfg *cfg, const struct bgp_sess_ops *ops,
    int64_t now_ms);
/* Free what bgp_sess_init allocated. */
void bgp_sess_fini(struct bgp_sess *s);

/*
 * Space where the owner reads the next bytes into (*room bytes), then
 * bgp_sess_input(s, n) with how many it read.  Complete messages are acted
 * on: replies go to s->out.  Returns 0 while the session lives, -1 once it
 * is CLOSED (s->down_* say why; a NOTIFICATION we send is in s->out).
 */
uint8_t *bgp_sess_room(struct bgp_sess *s, size_t *room);
int bgp_sess_input(struct bgp_sess *s, size_t n, int64_t now_ms);

/*
 * Timers at now_ms: a KEEPALIVE every hold/3 s once our OPEN is out, hold
 * expiry (NOTIFICATION 4/0).  Returns 0, or -1 once CLOSED.  *next_ms is
 * lowered to the time of the next timer event.
 */
int bgp_sess_timers(struct bgp_sess *s, int64_t now_ms, int64_t *next_ms);

/* Close the session from our side with a NOTIFICATION code/subcode (queued in s->out). */
void bgp_sess_notify(struct bgp_sess *s, uint8_t code, uint8_t subcode, const char *why);

/* The session's peer went away (EOF or error): CLOSED, no NOTIFICATION. */
void bgp_sess_dropped(struct bgp_sess *s, const char *why);

/* Name of a state ("Active", "OpenConfirm", "Established", "Closed"). */
const char *bgp_sess_state_name(enum bgp_sess_state st);

/* Build our OPEN's offer for the peer's OPEN o (mirroring what it offers, pmacct's way). */
void bgp_sess_offer(const struct bgp_sess_cfg *cfg, const struct bgp_open *o, struct bgp_open_cfg *out);

#endif
