/* SPDX-License-Identifier: BSD-3-Clause */
/* bgp_session.c: one passive BGP session's state machine (RFC 4271 8), bytes in, bytes out. */
#include "bgp_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

#define WHO "default/core/BGP"

/* NOTIFICATION codes (RFC 4271 4.5) used here. */
enum { N_HDR = 1, N_OPEN = 2, N_UPDATE = 3, N_HOLD = 4, N_FSM = 5, N_CEASE = 6 };

const char *bgp_sess_state_name(enum bgp_sess_state st)
{
	switch (st) {
	case BGP_ST_ACTIVE: return "Active";
	case BGP_ST_OPENCONFIRM: return "OpenConfirm";
	case BGP_ST_ESTABLISHED: return "Established";
	default: return "Closed";
	}
}

int bgp_sess_init(struct bgp_sess *s, const struct bgp_sess_cfg *cfg, const struct bgp_sess_ops *ops,
    int64_t now_ms)
{
	uint8_t *in = malloc(BGP_SESS_IN_CAP);
	if (!in)
		return -1;
	memset(s, 0, sizeof(*s));
	s->in = in;
	s->in_cap = BGP_SESS_IN_CAP;
	s->cfg = *cfg;
	if (ops)
		s->ops = *ops;
	s->peer = -1;
	s->state = BGP_ST_ACTIVE;
	s->last_rx_ms = s->last_tx_ms = now_ms;
	return 0;
}

void bgp_sess_fini(struct bgp_sess *s)
{
	free(s->in);
	s->in = NULL;
}

static void queue(struct bgp_sess *s, const uint8_t *m, size_t len)
{
	if (len == 0 || s->out_len + len > sizeof(s->out))
		return;	/* our messages are small and the owner drains out: cannot happen */
	memcpy(s->out + s->out_len, m, len);
	s->out_len += len;
}

static void send_keepalive(struct bgp_sess *s, int64_t now_ms)
{
	uint8_t m[BGP_HDR_LEN];
	queue(s, m, bgp_encode_keepalive(m, sizeof(m)));
	s->last_tx_ms = now_ms;
	s->st.keepalives_out++;
}

/* Close with a NOTIFICATION carrying data (RFC 4271 6: what was wrong, as received). */
static void notify_data(struct bgp_sess *s, uint8_t code, uint8_t subcode, const uint8_t *data,
    size_t dlen, const char *why)
{
	uint8_t m[64];
	if (s->state == BGP_ST_CLOSED)
		return;
	queue(s, m, bgp_encode_notification(code, subcode, data, dlen, m, sizeof(m)));
	s->state = BGP_ST_CLOSED;
	s->down_code = code;
	s->down_subcode = subcode;
	s->down_received = false;
	snprintf(s->down_why, sizeof(s->down_why), "%s", why ? why : "");
}

void bgp_sess_notify(struct bgp_sess *s, uint8_t code, uint8_t subcode, const char *why)
{
	notify_data(s, code, subcode, NULL, 0, why);
}

/* A header error (code 1) at p: 1/2 carries the bad length field, 1/3 the bad type (RFC 4271 6.1). */
static void notify_header(struct bgp_sess *s, const uint8_t *p, const struct bgp_error *e)
{
	if (e->code == 1 && e->subcode == 2)
		notify_data(s, e->code, e->subcode, p + 16, 2, e->why);
	else if (e->code == 1 && e->subcode == 3)
		notify_data(s, e->code, e->subcode, p + 18, 1, e->why);
	else
		bgp_sess_notify(s, e->code, e->subcode, e->why);
}

void bgp_sess_dropped(struct bgp_sess *s, const char *why)
{
	if (s->state == BGP_ST_CLOSED)
		return;
	s->state = BGP_ST_CLOSED;
	snprintf(s->down_why, sizeof(s->down_why), "%s", why ? why : "connection closed");
}

/* Does the peer's OPEN offer afi/safi for MP (RFC 4760)? */
static bool offers_mp(const struct bgp_open *o, uint16_t afi, uint8_t safi)
{
	for (size_t i = 0; i < o->n_mp && i < BGP_MAX_CAP_AF; i++)
		if (o->mp[i].afi == afi && o->mp[i].safi == safi)
			return true;
	return false;
}

void bgp_sess_offer(const struct bgp_sess_cfg *cfg, const struct bgp_open *o, struct bgp_open_cfg *out)
{
	memset(out, 0, sizeof(*out));
	out->my_as = cfg->local_as ? cfg->local_as : (o->has_as4 ? o->as4 : o->my_as);
	out->hold_time = cfg->hold_time && cfg->hold_time < o->hold_time ? cfg->hold_time : o->hold_time;
	out->bgp_id = cfg->router_id;
	out->mp_v4 = offers_mp(o, BGP_AFI_IPV4, BGP_SAFI_UNICAST);
	out->mp_v6 = offers_mp(o, BGP_AFI_IPV6, BGP_SAFI_UNICAST);
	out->mp_vpn4 = offers_mp(o, BGP_AFI_IPV4, BGP_SAFI_VPN);
	out->mp_vpn6 = offers_mp(o, BGP_AFI_IPV6, BGP_SAFI_VPN);
	out->route_refresh = o->route_refresh;
	out->ext_msg = o->ext_msg;
	out->as4 = o->has_as4;
	/* ADD-PATH receive for the families we both have where the peer can send (1.7.7) */
	for (size_t i = 0; i < o->n_addpath && i < BGP_MAX_CAP_AF && !cfg->add_path_ignore; i++)
		if ((o->addpath[i].extra & 2) && offers_mp(o, o->addpath[i].afi, o->addpath[i].safi))
			out->addpath_rx |= bgp_af_bit(o->addpath[i].afi, o->addpath[i].safi);
	for (size_t i = 0; i < o->n_enh && i < BGP_MAX_CAP_AF; i++)
		if (o->enh[i].afi == BGP_AFI_IPV4 && o->enh[i].extra == BGP_AFI_IPV6)
			out->ext_nh = true;
}

/* The peer's OPEN in state ACTIVE: check, answer with our OPEN and a KEEPALIVE. */
static int on_open(struct bgp_sess *s, const struct bgp_msg *m, int64_t now_ms)
{
	struct bgp_error e;
	struct bgp_open_cfg oc;
	uint8_t buf[512];
	uint8_t code = 0, subcode = 0;

	if (!bgp_decode_open(m->body, m->body_len, &s->open, &e)) {
		bgp_sess_notify(s, e.code, e.subcode, e.why);
		return -1;
	}
	const struct bgp_open *o = &s->open;
	s->id.bgp_id = o->bgp_id;
	s->id.as = o->has_as4 ? o->as4 : o->my_as;
	if (s->ops.opened && s->ops.opened(s->ops.arg, s, &code, &subcode) != 0) {
		bgp_sess_notify(s, code, subcode, "refused at OPEN");
		return -1;
	}
	bgp_sess_offer(&s->cfg, o, &oc);
	s->hold = oc.hold_time;
	s->neg.as4 = o->has_as4;
	s->neg.ext_msg = oc.ext_msg;	/* offered back when the peer offers it: both sides have it */
	if (s->neg.ext_msg) {
		uint8_t *big = realloc(s->in, BGP_SESS_IN_EXT_CAP);
		if (!big) {
			bgp_sess_notify(s, N_CEASE, 8, "out of memory");	/* Cease 8: out of resources */
			return -1;
		}
		s->in = big;
		s->in_cap = BGP_SESS_IN_EXT_CAP;
	}
	s->neg.addpath_rx = oc.addpath_rx;	/* the families we offered it for */
	size_t n = bgp_encode_open(&oc, buf, sizeof(buf));
	queue(s, buf, n);
	s->last_tx_ms = now_ms;
	send_keepalive(s, now_ms);
	s->state = BGP_ST_OPENCONFIRM;
	return 0;
}

static void on_nlri(void *arg, const struct bgp_nlri *n, const struct bgp_attrs *a)
{
	struct bgp_sess *s = arg;
	if (n->withdraw)
		s->st.nlri_withdrawn++;
	else
		s->st.nlri_announced++;
	if (s->ops.nlri)
		s->ops.nlri(s->ops.arg, s, n, a);
}

static int on_update(struct bgp_sess *s, const struct bgp_msg *m)
{
	struct bgp_attrs *a = malloc(sizeof(*a));	/* ~1.3 KiB: not on the thread's stack */
	struct bgp_error e;
	if (!a) {
		bgp_sess_notify(s, N_CEASE, 8, "out of memory");	/* Cease 8: out of resources */
		return -1;
	}
	s->st.updates++;
	if (s->ops.update_begin)
		s->ops.update_begin(s->ops.arg, s);
	enum bgp_action act = bgp_decode_update(m->body, m->body_len, &s->neg, a, on_nlri, s, &e);
	if (act == BGP_ACT_ATTR_DISCARD)
		s->st.attr_discard++;
	else if (act == BGP_ACT_TREAT_AS_WITHDRAW)
		s->st.treat_as_withdraw++;
	if (s->ops.update_end)
		s->ops.update_end(s->ops.arg, s, act, &e);
	free(a);
	if (act == BGP_ACT_SESSION_RESET) {
		bgp_sess_notify(s, e.code, e.subcode, e.why);
		return -1;
	}
	return 0;
}

static int on_notification(struct bgp_sess *s, const struct bgp_msg *m)
{
	struct bgp_notification n;
	struct bgp_error e;
	if (!bgp_decode_notification(m->body, m->body_len, &n, &e))
		memset(&n, 0, sizeof(n));
	s->state = BGP_ST_CLOSED;
	s->down_code = n.code;
	s->down_subcode = n.subcode;
	s->down_received = true;
	/* 1.7.7's words, with the RFC 8203/9003 text ('' when none) */
	snprintf(s->down_why, sizeof(s->down_why), "BGP_NOTIFICATION received (%u, %u). Shutdown "
	    "Message: '%s'", n.code, n.subcode, n.shutdown_msg);
	return -1;
}

/* One complete message of len bytes at s->in. */
static int on_message(struct bgp_sess *s, size_t len, int64_t now_ms)
{
	struct bgp_msg m;
	struct bgp_error e;

	if (!bgp_decode_header(s->in, len, s->neg.ext_msg, &m, &e)) {
		notify_header(s, s->in, &e);
		return -1;
	}
	s->st.msgs_in++;
	s->last_rx_ms = now_ms;
	if (m.type == BGP_NOTIFICATION)
		return on_notification(s, &m);
	switch (s->state) {
	case BGP_ST_ACTIVE:
		if (m.type == BGP_OPEN)
			return on_open(s, &m, now_ms);
		break;
	case BGP_ST_OPENCONFIRM:
		if (m.type == BGP_KEEPALIVE) {
			s->st.keepalives_in++;
			s->state = BGP_ST_ESTABLISHED;
			if (s->ops.established) {
				s->peer = s->ops.established(s->ops.arg, s);
				if (s->peer < 0) {
					bgp_sess_notify(s, N_CEASE, 1, "no room for the peer in the RIB");
					return -1;
				}
			}
			return 0;
		}
		break;
	case BGP_ST_ESTABLISHED:
		if (m.type == BGP_KEEPALIVE) {
			s->st.keepalives_in++;
			return 0;
		}
		if (m.type == BGP_UPDATE)
			return on_update(s, &m);
		if (m.type == BGP_ROUTE_REFRESH)
			return 0;	/* we send no routes: nothing to refresh */
		break;
	default:
		return -1;
	}
	bgp_sess_notify(s, N_FSM, s->state == BGP_ST_ACTIVE ? 0 : s->state == BGP_ST_OPENCONFIRM ? 2 : 3,
	    "unexpected message for the state");	/* RFC 6608 subcodes */
	return -1;
}

uint8_t *bgp_sess_room(struct bgp_sess *s, size_t *room)
{
	*room = s->in_cap - s->in_len;
	return s->in + s->in_len;
}

int bgp_sess_input(struct bgp_sess *s, size_t n, int64_t now_ms)
{
	size_t off = 0;
	if (s->state == BGP_ST_CLOSED)
		return -1;
	s->in_len += n;
	for (;;) {
		struct bgp_error e;
		long need = bgp_msg_need(s->in + off, s->in_len - off, s->neg.ext_msg, &e);
		if (need < 0) {
			notify_header(s, s->in + off, &e);
			return -1;
		}
		if (need == 0 || (size_t)need > s->in_len - off)
			break;
		/* act on the message where it lies: move it to the front first, decoders read s->in */
		if (off) {
			memmove(s->in, s->in + off, s->in_len - off);
			s->in_len -= off;
			off = 0;
		}
		if (on_message(s, (size_t)need, now_ms) < 0)
			return -1;
		off = (size_t)need;
	}
	if (off) {
		memmove(s->in, s->in + off, s->in_len - off);
		s->in_len -= off;
	}
	return 0;
}

int bgp_sess_timers(struct bgp_sess *s, int64_t now_ms, int64_t *next_ms)
{
	if (s->state == BGP_ST_CLOSED)
		return -1;
	if (s->state == BGP_ST_ACTIVE) {
		/* RFC 4271 8: a large hold timer (4 minutes) until the OPEN came */
		int64_t exp = s->last_rx_ms + 240000;
		if (now_ms >= exp) {
			bgp_sess_notify(s, N_HOLD, 0, "no OPEN within 240 s");
			return -1;
		}
		if (exp < *next_ms)
			*next_ms = exp;
		return 0;
	}
	if (s->hold == 0)
		return 0;
	int64_t exp = s->last_rx_ms + (int64_t)s->hold * 1000;
	if (now_ms >= exp) {
		char why[64];
		snprintf(why, sizeof(why), "hold timer expired (%u s)", s->hold);
		bgp_sess_notify(s, N_HOLD, 0, why);
		return -1;
	}
	int64_t ka = s->last_tx_ms + (int64_t)s->hold * 1000 / 3;
	if (now_ms >= ka) {
		send_keepalive(s, now_ms);
		ka = now_ms + (int64_t)s->hold * 1000 / 3;
	}
	if (exp < *next_ms)
		*next_ms = exp;
	if (ka < *next_ms)
		*next_ms = ka;
	return 0;
}
