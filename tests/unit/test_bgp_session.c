/* SPDX-License-Identifier: BSD-3-Clause */
/* test_bgp_session.c: the passive BGP session FSM over hand-written byte vectors (RFC 4271), md5 file rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/bgp_md5.h"
#include "pipeline/bgp_session.h"
#include "tap.h"

#define M16 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

/*
 * The peer's OPEN: AS 65001, hold 90, BGP Identifier 10.0.0.1, one optional
 * parameter with: MP IPv4 unicast, MP IPv6 unicast, route refresh, 4-octet
 * AS 65001, ADD-PATH IPv4 unicast send (2).
 */
static const uint8_t PEER_OPEN[] = {
	M16, 0x00, 0x39, 0x01,
	0x04, 0xfd, 0xe9, 0x00, 0x5a, 0x0a, 0x00, 0x00, 0x01, 0x1c,
	0x02, 0x1a,
	0x01, 0x04, 0x00, 0x01, 0x00, 0x01,
	0x01, 0x04, 0x00, 0x02, 0x00, 0x01,
	0x02, 0x00,
	0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9,
	0x45, 0x04, 0x00, 0x01, 0x01, 0x02,
};

/*
 * What we must answer (RFC 4271 4.2, RFC 5492, RFC 7911, RFC 6793): AS 65000,
 * hold 90 (the peer's), Identifier 1.2.3.4; MP IPv4 + ADD-PATH receive IPv4
 * (the peer can send IPv4 paths only: receive is offered for that family
 * alone, as 1.7.7), MP IPv6, route refresh, AS4 65000; then a KEEPALIVE.
 */
static const uint8_t OUR_REPLY[] = {
	M16, 0x00, 0x39, 0x01,
	0x04, 0xfd, 0xe8, 0x00, 0x5a, 0x01, 0x02, 0x03, 0x04, 0x1c,
	0x02, 0x1a,
	0x01, 0x04, 0x00, 0x01, 0x00, 0x01,
	0x45, 0x04, 0x00, 0x01, 0x01, 0x01,
	0x01, 0x04, 0x00, 0x02, 0x00, 0x01,
	0x02, 0x00,
	0x41, 0x04, 0x00, 0x00, 0xfd, 0xe8,
	M16, 0x00, 0x13, 0x04,
};

static const uint8_t KEEPALIVE[] = { M16, 0x00, 0x13, 0x04 };

/*
 * UPDATE with ADD-PATH IPv4: ORIGIN IGP, AS_PATH (AS_SEQUENCE 65001, 4-byte),
 * NEXT_HOP 10.0.0.1; NLRI path 1 192.0.2.0/24, path 2 198.51.100.0/25.
 */
static const uint8_t UPDATE_OK[] = {
	M16, 0x00, 0x3c, 0x02,
	0x00, 0x00, 0x00, 0x14,
	0x40, 0x01, 0x01, 0x00,
	0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xe9,
	0x40, 0x03, 0x04, 0x0a, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 0x18, 0xc0, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x02, 0x19, 0xc6, 0x33, 0x64, 0x00,
};

/* The same with ORIGIN of length 2: RFC 7606 7.1 treat-as-withdraw. */
static const uint8_t UPDATE_BAD_ORIGIN[] = {
	M16, 0x00, 0x34, 0x02,
	0x00, 0x00, 0x00, 0x15,
	0x40, 0x01, 0x02, 0x00, 0x00,
	0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xe9,
	0x40, 0x03, 0x04, 0x0a, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 0x18, 0xc0, 0x00, 0x02,
};

/* Cease / Administrative Shutdown with the RFC 8203 text "bye". */
static const uint8_t NOTIF_SHUTDOWN[] = { M16, 0x00, 0x19, 0x03, 0x06, 0x02, 0x03, 'b', 'y', 'e' };

static const uint8_t NOTIF_HOLD[] = { M16, 0x00, 0x15, 0x03, 0x04, 0x00 };

struct rec {
	int opened, established, nlri_add, nlri_del, begins, ends;
	enum bgp_action last_act;
};

static int r_opened(void *arg, struct bgp_sess *s, uint8_t *code, uint8_t *subcode)
{
	(void)s, (void)code, (void)subcode;
	((struct rec *)arg)->opened++;
	return 0;
}

static int r_established(void *arg, struct bgp_sess *s)
{
	(void)s;
	((struct rec *)arg)->established++;
	return 3;
}

static void r_begin(void *arg, struct bgp_sess *s)
{
	(void)s;
	((struct rec *)arg)->begins++;
}

static void r_nlri(void *arg, struct bgp_sess *s, const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	struct rec *r = arg;
	(void)s, (void)a;
	if (n->withdraw)
		r->nlri_del++;
	else
		r->nlri_add++;
}

static void r_end(void *arg, struct bgp_sess *s, enum bgp_action act, const struct bgp_error *e)
{
	struct rec *r = arg;
	(void)s, (void)e;
	r->ends++;
	r->last_act = act;
}

/* Feed bytes one at a time (framing across reads), as a socket might deliver them. */
static int feed(struct bgp_sess *s, const uint8_t *p, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		size_t room;
		uint8_t *dst = bgp_sess_room(s, &room);
		if (room < 1)
			return -2;
		*dst = p[i];
		if (bgp_sess_input(s, 1, now) < 0)
			return -1;
	}
	return 0;
}

static void start(struct bgp_sess *s, struct rec *r, uint32_t local_as)
{
	struct bgp_sess_cfg cfg = { .local_as = local_as, .router_id = 0x01020304 };
	struct bgp_sess_ops ops = { r, r_opened, r_established, r_begin, r_nlri, r_end };
	memset(r, 0, sizeof(*r));
	bgp_sess_init(s, &cfg, &ops, 0);
}

static void test_establish_and_updates(void)
{
	struct bgp_sess *s = malloc(sizeof(*s));
	struct rec r;
	int64_t next;

	start(s, &r, 65000);
	is_int(s->state, BGP_ST_ACTIVE, "new session waits for the OPEN");
	is_int(feed(s, PEER_OPEN, sizeof(PEER_OPEN), 1000), 0, "OPEN byte by byte accepted");
	is_int(s->state, BGP_ST_OPENCONFIRM, "OPEN -> OpenConfirm");
	is_int(r.opened, 1, "opened hook once");
	is_int(s->out_len, sizeof(OUR_REPLY), "reply length: OPEN + KEEPALIVE");
	ok(s->out_len == sizeof(OUR_REPLY) && memcmp(s->out, OUR_REPLY, sizeof(OUR_REPLY)) == 0,
	    "reply bytes: mirrored MP, ADD-PATH receive, route refresh, AS4, hold 90");
	is_int(s->hold, 90, "hold time negotiated");
	is_int(s->id.as, 65001, "peer AS from the 4-octet capability");
	is_int(s->id.bgp_id, 0x0a000001, "peer BGP Identifier");
	ok(s->neg.as4 && s->neg.addpath_rx == bgp_af_bit(1, 1), "AS4 and ADD-PATH IPv4 receive negotiated");
	s->out_len = 0;

	is_int(feed(s, KEEPALIVE, sizeof(KEEPALIVE), 2000), 0, "KEEPALIVE accepted");
	is_int(s->state, BGP_ST_ESTABLISHED, "KEEPALIVE -> Established");
	is_int(s->peer, 3, "RIB index from the established hook");

	is_int(feed(s, UPDATE_OK, sizeof(UPDATE_OK), 3000), 0, "UPDATE accepted");
	is_int(r.nlri_add, 2, "two ADD-PATH NLRI announced");
	ok(r.begins == 1 && r.ends == 1 && r.last_act == BGP_ACT_OK, "UPDATE bracketed once, OK");

	is_int(feed(s, UPDATE_BAD_ORIGIN, sizeof(UPDATE_BAD_ORIGIN), 4000), 0,
	    "malformed ORIGIN does not reset the session");
	is_int(s->state, BGP_ST_ESTABLISHED, "still Established after treat-as-withdraw");
	is_int(r.nlri_del, 1, "its NLRI reported as a withdrawal");
	is_int(s->st.treat_as_withdraw, 1, "treat-as-withdraw counted");
	is_int(s->out_len, 0, "no NOTIFICATION for treat-as-withdraw");

	/* timers: hold 90 -> a KEEPALIVE 30 s after the last one sent (at 1000 ms) */
	next = INT64_MAX;
	is_int(bgp_sess_timers(s, 30000, &next), 0, "no KEEPALIVE before hold/3");
	is_int(s->out_len, 0, "nothing sent at 30.0 s");
	next = INT64_MAX;
	is_int(bgp_sess_timers(s, 31000, &next), 0, "KEEPALIVE due at hold/3");
	ok(s->out_len == 19 && memcmp(s->out, KEEPALIVE, 19) == 0, "a KEEPALIVE was queued");
	s->out_len = 0;
	/* last message in at 4000 ms: expiry at 94000 */
	next = INT64_MAX;
	is_int(bgp_sess_timers(s, 93999, &next), 0, "hold timer not yet expired");
	s->out_len = 0;
	next = INT64_MAX;
	is_int(bgp_sess_timers(s, 94000, &next), -1, "hold timer expired at hold seconds of silence");
	ok(s->out_len == sizeof(NOTIF_HOLD) && memcmp(s->out, NOTIF_HOLD, sizeof(NOTIF_HOLD)) == 0,
	    "NOTIFICATION 4/0 queued");
	is_int(s->state, BGP_ST_CLOSED, "closed after hold expiry");
	bgp_sess_fini(s);
	free(s);
}

static void test_notification_and_errors(void)
{
	struct bgp_sess *s = malloc(sizeof(*s));
	struct rec r;
	int64_t next = INT64_MAX;

	start(s, &r, 0);
	feed(s, PEER_OPEN, sizeof(PEER_OPEN), 0);
	/* iBGP: our AS is the peer's (bytes 20-21 of our OPEN) */
	ok(s->out_len > 22 && s->out[20] == 0xfd && s->out[21] == 0xe9, "bgp_daemon_as 0: OPEN carries the peer's AS");
	feed(s, KEEPALIVE, sizeof(KEEPALIVE), 0);
	is_int(feed(s, NOTIF_SHUTDOWN, sizeof(NOTIF_SHUTDOWN), 0), -1, "NOTIFICATION closes");
	ok(s->down_received && s->down_code == 6 && s->down_subcode == 2, "code 6/2 received");
	is_str(s->down_why, "BGP_NOTIFICATION received (6, 2). Shutdown Message: 'bye'", "logged as 1.7.7, with the text");
	bgp_sess_fini(s);

	/* UPDATE before the OPEN: FSM error 5 */
	start(s, &r, 65000);
	is_int(feed(s, UPDATE_OK, sizeof(UPDATE_OK), 0), -1, "UPDATE in Active refused");
	ok(s->out_len == 21 && s->out[18] == 3 && s->out[19] == 5, "NOTIFICATION code 5 (FSM) sent");
	bgp_sess_fini(s);

	/* a bad marker: 1/1 */
	start(s, &r, 65000);
	uint8_t bad[19] = { 0 };
	bad[17] = 19;
	bad[18] = 4;
	is_int(feed(s, bad, sizeof(bad), 0), -1, "bad marker resets");
	ok(s->out_len == 21 && s->out[19] == 1 && s->out[20] == 1, "NOTIFICATION 1/1 sent");
	bgp_sess_fini(s);

	/* hold time 0 offered: no KEEPALIVEs, no expiry */
	start(s, &r, 65000);
	uint8_t open0[sizeof(PEER_OPEN)];
	memcpy(open0, PEER_OPEN, sizeof(open0));
	open0[22] = open0[23] = 0;
	feed(s, open0, sizeof(open0), 0);
	feed(s, KEEPALIVE, sizeof(KEEPALIVE), 0);
	s->out_len = 0;
	is_int(s->hold, 0, "hold 0 negotiated");
	is_int(bgp_sess_timers(s, 10000000, &next), 0, "hold 0: no expiry");
	is_int(s->out_len, 0, "hold 0: no KEEPALIVE");
	bgp_sess_fini(s);

	/* a peer that never sends its OPEN is dropped after 240 s */
	start(s, &r, 65000);
	is_int(bgp_sess_timers(s, 239999, &next), 0, "Active: waits up to 240 s");
	is_int(bgp_sess_timers(s, 240000, &next), -1, "Active: closed at 240 s");
	bgp_sess_fini(s);
	free(s);
}

static int refuse_opened(void *arg, struct bgp_sess *s, uint8_t *code, uint8_t *subcode)
{
	(void)arg, (void)s;
	*code = 2;
	*subcode = 3;
	return -1;
}

static void test_refusal_and_ext_msg(void)
{
	struct bgp_sess *s = malloc(sizeof(*s));
	struct bgp_sess_cfg cfg = { .local_as = 65000, .router_id = 0x01020304 };
	struct bgp_sess_ops ops = { NULL, refuse_opened, NULL, NULL, NULL, NULL };
	static const uint8_t NOTIF_BAD_ID[] = { M16, 0x00, 0x15, 0x03, 0x02, 0x03 };

	bgp_sess_init(s, &cfg, &ops, 0);
	is_int(feed(s, PEER_OPEN, sizeof(PEER_OPEN), 0), -1, "OPEN refused by the owner (Router-ID in use)");
	ok(s->out_len == sizeof(NOTIF_BAD_ID) && memcmp(s->out, NOTIF_BAD_ID, sizeof(NOTIF_BAD_ID)) == 0,
	    "NOTIFICATION 2/3 and no OPEN sent");
	bgp_sess_fini(s);

	/* the peer's OPEN with capability 6 added (param and OPEN lengths + 2) */
	uint8_t open6[sizeof(PEER_OPEN) + 2];
	memcpy(open6, PEER_OPEN, sizeof(PEER_OPEN));
	open6[17] += 2;
	open6[28] += 2;
	open6[30] += 2;
	open6[sizeof(PEER_OPEN)] = 6;
	open6[sizeof(PEER_OPEN) + 1] = 0;
	memset(&ops, 0, sizeof(ops));
	bgp_sess_init(s, &cfg, &ops, 0);
	size_t room;
	bgp_sess_room(s, &room);
	is_int(room, 4096, "input room before extended messages: 4096");
	is_int(feed(s, open6, sizeof(open6), 0), 0, "OPEN with extended messages accepted");
	ok(s->neg.ext_msg, "extended messages agreed");
	bgp_sess_room(s, &room);
	is_int(room, 65535, "input room with extended messages: 65535");
	ok(s->out_len > 19 + 12 && memmem(s->out + 29, s->out_len - 29, "\x06\x00", 2) != NULL,
	    "our OPEN offers capability 6 back");
	bgp_sess_fini(s);
	free(s);
}

static void test_md5_file(void)
{
	char path[] = "/tmp/test_bgp_md5_XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct bgp_md5_list l;

	fprintf(f, "! comment\n192.0.2.1, secret1\n  2001:db8::1 ,  two words \nnocomma\n"
	    "300.1.1.1, x\n192.0.2.9,\n");
	fclose(f);
	is_int(bgp_md5_load(path, "test", &l), 0, "md5 file loads");
	is_int(l.n, 2, "two good rows, four bad skipped");
	ok(l.n >= 1 && l.e[0].addr.af == 4 && strcmp(l.e[0].key, "secret1") == 0, "row 2: IPv4 and key");
	ok(l.n >= 2 && l.e[1].addr.af == 6 && strcmp(l.e[1].key, "two words") == 0,
	    "row 3: IPv6, blanks trimmed, inner blank kept");
	bgp_md5_free(&l);
	unlink(path);
	is_int(bgp_md5_load(path, "test", &l), -1, "a missing file is an error");
}

int main(void)
{
	test_establish_and_updates();
	test_notification_and_errors();
	test_refusal_and_ext_msg();
	test_md5_file();
	return tap_done();
}
