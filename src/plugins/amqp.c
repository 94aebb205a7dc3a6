/* SPDX-License-Identifier: BSD-3-Clause */
/* amqp.c: the amqp plugin: the broker runtime (broker.c) publishing JSON to RabbitMQ with librabbitmq, publisher confirms on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include "lib/log.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "plugins/broker.h"
#include "plugins/plugin.h"

#define AMQP_CHANNEL 1
#define AMQP_OPEN_TIMEOUT 5		/* seconds to connect */
#define AMQP_CONFIRM_TIMEOUT 10		/* seconds to wait for the broker's confirms of a batch */

struct amqp_ctx {
	char who[CFG_NAME_MAX + 24];
	const char *host, *vhost, *user, *passwd, *exchange, *exchange_type;
	int port, frame_max, heartbeat;
	bool persistent;
	amqp_connection_state_t conn;	/* NULL when not connected */
	uint64_t next_tag;		/* delivery tag of the next publish (confirm mode) */
};

/* The library's or the server's words for a failed RPC. */
static const char *reply_str(amqp_rpc_reply_t r, char *buf, size_t len)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return "ok";
	case AMQP_RESPONSE_NONE:
		return "missing RPC reply";
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		return amqp_error_string2(r.library_error);
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;
			snprintf(buf, len, "server connection error %u: %.*s", m->reply_code,
			    (int)m->reply_text.len, (const char *)m->reply_text.bytes);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;
			snprintf(buf, len, "server channel error %u: %.*s", m->reply_code,
			    (int)m->reply_text.len, (const char *)m->reply_text.bytes);
		} else {
			snprintf(buf, len, "server error, method 0x%08x", r.reply.id);
		}
		return buf;
	}
	return "unknown reply";
}

static void amqp_disconnect(void *ctx)
{
	struct amqp_ctx *a = ctx;
	if (!a->conn)
		return;
	amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(a->conn);
	a->conn = NULL;
}

/* Check the last RPC; log with `what` and drop the connection on failure. */
static int rpc_ok(struct amqp_ctx *a, const char *what)
{
	char buf[256];
	amqp_rpc_reply_t r = amqp_get_rpc_reply(a->conn);

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	log_warnx(a->who, "amqp: %s: %s", what, reply_str(r, buf, sizeof(buf)));
	amqp_destroy_connection(a->conn);
	a->conn = NULL;
	return -1;
}

static int amqp_connect(void *ctx)
{
	struct amqp_ctx *a = ctx;
	struct timeval tv = { AMQP_OPEN_TIMEOUT, 0 };
	char buf[256];
	amqp_socket_t *sock;
	int st;

	a->conn = amqp_new_connection();
	if (!(sock = amqp_tcp_socket_new(a->conn))) {
		log_warnx(a->who, "amqp: cannot create a socket");
		goto fail;
	}
	if ((st = amqp_socket_open_noblock(sock, a->host, a->port, &tv)) != AMQP_STATUS_OK) {
		log_warnx(a->who, "amqp: cannot connect to %s:%d: %s", a->host, a->port,
		    amqp_error_string2(st));
		goto fail;
	}
	amqp_rpc_reply_t r = amqp_login(a->conn, a->vhost, 0, a->frame_max, a->heartbeat,
	    AMQP_SASL_METHOD_PLAIN, a->user, a->passwd);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		log_warnx(a->who, "amqp: login to %s:%d vhost '%s' as '%s': %s", a->host, a->port,
		    a->vhost, a->user, reply_str(r, buf, sizeof(buf)));
		goto fail;
	}
	amqp_channel_open(a->conn, AMQP_CHANNEL);
	if (rpc_ok(a, "channel open") < 0)
		return -1;
	/* as pmacct: not passive, not durable, not auto-delete, not internal */
	amqp_exchange_declare(a->conn, AMQP_CHANNEL, amqp_cstring_bytes(a->exchange),
	    amqp_cstring_bytes(a->exchange_type), 0, 0, 0, 0, amqp_empty_table);
	if (rpc_ok(a, "exchange declare") < 0)
		return -1;
	/* publisher confirms: what the broker acknowledged is what counts as delivered */
	amqp_confirm_select(a->conn, AMQP_CHANNEL);
	if (rpc_ok(a, "confirm select") < 0)
		return -1;
	a->next_tag = 1;
	return 0;
fail:
	amqp_destroy_connection(a->conn);
	a->conn = NULL;
	return -1;
}

/* Mark acked messages: tags [base, base+n) map to msgs[0..n). */
static void settle(struct broker_msg **msgs, size_t n, uint64_t base, uint64_t tag, bool multiple,
    bool ok, size_t *answered)
{
	uint64_t lo = multiple ? base : tag;
	for (uint64_t t = lo; t <= tag && t < base + n; t++) {
		if (t < base)
			continue;
		struct broker_msg *m = msgs[t - base];
		if (!m->next) {		/* ->next is free while in a batch: "answered" flag */
			m->next = (struct broker_msg *)m;
			m->sent = ok;
			(*answered)++;
		}
	}
}

/* Read frames until every message of the batch is acked or nacked. 0 or -1. */
static int wait_confirms(struct amqp_ctx *a, struct broker_msg **msgs, size_t n, uint64_t base)
{
	size_t answered = 0;
	struct timeval tv = { AMQP_CONFIRM_TIMEOUT, 0 };
	amqp_frame_t f;
	int st = AMQP_STATUS_OK;

	while (answered < n) {
		st = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
		if (st != AMQP_STATUS_OK)
			break;
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
			amqp_basic_ack_t *ack = f.payload.method.decoded;
			settle(msgs, n, base, ack->delivery_tag, ack->multiple, true, &answered);
		} else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
			amqp_basic_nack_t *nack = f.payload.method.decoded;
			settle(msgs, n, base, nack->delivery_tag, nack->multiple, false, &answered);
			log_warnx(a->who, "amqp: the broker refused (nack) message %llu",
			    (unsigned long long)nack->delivery_tag);
		} else if (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
		    f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
			log_warnx(a->who, "amqp: the broker closed the %s while publishing",
			    f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ? "channel" : "connection");
			st = AMQP_STATUS_CONNECTION_CLOSED;
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		msgs[i]->unconfirmed = !msgs[i]->next;	/* published, no ack or nack */
		msgs[i]->next = NULL;
	}
	amqp_maybe_release_buffers(a->conn);
	if (st == AMQP_STATUS_TIMEOUT) {
		log_warnx(a->who, "amqp: %zu of %zu messages not confirmed by the broker within %d s",
		    n - answered, n, AMQP_CONFIRM_TIMEOUT);
		return -1;
	}
	if (st != AMQP_STATUS_OK) {
		log_warnx(a->who, "amqp: waiting for confirms: %s", amqp_error_string2(st));
		return -1;
	}
	return 0;
}

/*
 * The properties of one message: as pmacct (a content type, a delivery
 * mode only for persistent messages), plus our purge id as message_id
 * and headers writer_id, purge_seq, msg_index (signed 64-bit: the integer
 * type RabbitMQ knows); the payload is untouched.
 * `h` is storage for the headers.
 */
static void message_props(const struct amqp_ctx *a, const struct broker_msg *m,
    amqp_basic_properties_t *props, amqp_table_entry_t h[3])
{
	size_t wl;
	uint64_t seq, idx;

	memset(props, 0, sizeof(*props));
	props->_flags = AMQP_BASIC_CONTENT_TYPE_FLAG;
	props->content_type = amqp_cstring_bytes("application/json");
	if (a->persistent) {
		props->_flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
		props->delivery_mode = 2;
	}
	if (!m->id)
		return;
	props->_flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
	props->message_id = (amqp_bytes_t){ m->idlen, (void *)m->id };
	if (broker_id_split(m->id, &wl, &seq, &idx) < 0)
		return;
	h[0].key = amqp_cstring_bytes("writer_id");
	h[0].value.kind = AMQP_FIELD_KIND_UTF8;
	h[0].value.value.bytes = (amqp_bytes_t){ wl, (void *)m->id };
	h[1].key = amqp_cstring_bytes("purge_seq");
	h[1].value.kind = AMQP_FIELD_KIND_I64;
	h[1].value.value.i64 = (int64_t)seq;
	h[2].key = amqp_cstring_bytes("msg_index");
	h[2].value.kind = AMQP_FIELD_KIND_I64;
	h[2].value.value.i64 = (int64_t)idx;
	props->_flags |= AMQP_BASIC_HEADERS_FLAG;
	props->headers = (amqp_table_t){ 3, h };
}

static int amqp_publish(void *ctx, struct broker_msg **msgs, size_t n)
{
	struct amqp_ctx *a = ctx;
	amqp_basic_properties_t props;
	amqp_table_entry_t h[3];
	uint64_t base = a->next_tag;

	for (size_t i = 0; i < n; i++) {
		amqp_bytes_t body = { msgs[i]->len, (void *)msgs[i]->data };
		msgs[i]->next = NULL;
		message_props(a, msgs[i], &props, h);
		int st = amqp_basic_publish(a->conn, AMQP_CHANNEL, amqp_cstring_bytes(a->exchange),
		    amqp_cstring_bytes(msgs[i]->key), 0, 0, &props, body);
		if (st != AMQP_STATUS_OK) {
			log_warnx(a->who, "amqp: publish to exchange '%s': %s", a->exchange,
			    amqp_error_string2(st));
			a->next_tag += i;
			wait_confirms(a, msgs, i, base);
			return -1;
		}
	}
	a->next_tag += n;
	return wait_confirms(a, msgs, n, base);
}

/* Serve heartbeats and notice a closed connection while there is nothing to send. */
static int amqp_idle(void *ctx)
{
	struct amqp_ctx *a = ctx;
	struct timeval tv = { 0, 0 };
	amqp_frame_t f;

	if (!a->conn)
		return -1;
	int st = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
	if (st == AMQP_STATUS_TIMEOUT)
		return 0;
	if (st == AMQP_STATUS_OK && f.frame_type == AMQP_FRAME_METHOD &&
	    f.payload.method.id != AMQP_CHANNEL_CLOSE_METHOD &&
	    f.payload.method.id != AMQP_CONNECTION_CLOSE_METHOD)
		return 0;
	log_warnx(a->who, "amqp: connection lost: %s",
	    st == AMQP_STATUS_OK ? "closed by the broker" : amqp_error_string2(st));
	return -1;
}

static void amqp_free(void *ctx)
{
	amqp_disconnect(ctx);
	free(ctx);
}

/* Report a bad value of `key` with file and line. */
static int bad_key(const struct plugin *p, const char *key, const char *why)
{
	log_err(p->who, "[%s] key '%s[%s]': %s. Exiting.", cfg_where(&p->cfg->origin, key), key,
	    p->cfg->name, why);
	return -1;
}

/* An exchange type RabbitMQ declares: a built-in one or a plugin's "x-..." type. */
static bool exchange_type_ok(const char *t)
{
	static const char *const builtin[] = { "direct", "fanout", "topic", "headers" };

	for (size_t i = 0; i < NELEM(builtin); i++)
		if (strcmp(t, builtin[i]) == 0)
			return true;
	return strncmp(t, "x-", 2) == 0 && t[2];
}

/*
 * The amqp_* keys, checked, as a connection's settings (connecting to
 * nothing): run by -T config and start-up alike (broker_plugin_check,
 * then broker_plugin_init keeps it).  NULL after logging.
 */
static void *amqp_make_ctx(const struct plugin *p)
{
	const struct plugin_cfg *pc = p->cfg;
	struct amqp_ctx *a;
	char why[160];

	if (pc->amqp_exchange_type && !exchange_type_ok(pc->amqp_exchange_type)) {
		snprintf(why, sizeof(why), "'%s': direct, fanout, topic, headers or an x- plugin type",
		    pc->amqp_exchange_type);
		bad_key(p, "amqp_exchange_type", why);
		return NULL;
	}
	if (pc->amqp_frame_max && pc->amqp_frame_max < AMQP_FRAME_MIN_SIZE) {
		snprintf(why, sizeof(why), "%u is below the AMQP minimum frame size (%d)",
		    pc->amqp_frame_max, AMQP_FRAME_MIN_SIZE);
		bad_key(p, "amqp_frame_max", why);
		return NULL;
	}
	if (pc->amqp_heartbeat_interval > 65535) {
		bad_key(p, "amqp_heartbeat_interval", "must be 0-65535 seconds");
		return NULL;
	}
	a = xcalloc(1, sizeof(*a));
	snprintf(a->who, sizeof(a->who), "%s", p->who);
	a->host = pc->broker_host ? pc->broker_host : "localhost";
	a->port = pc->broker_port ? (int)pc->broker_port : 5672;
	a->vhost = pc->amqp_vhost ? pc->amqp_vhost : "/";
	a->user = pc->amqp_user ? pc->amqp_user : "guest";
	a->passwd = pc->amqp_passwd ? pc->amqp_passwd : "guest";
	a->exchange = pc->sql_db ? pc->sql_db : "pmacct";
	a->exchange_type = pc->amqp_exchange_type ? pc->amqp_exchange_type : "direct";
	a->frame_max = pc->amqp_frame_max ? (int)pc->amqp_frame_max : 131072;
	a->heartbeat = (int)pc->amqp_heartbeat_interval;
	a->persistent = pc->amqp_persistent_msg;
	return a;
}

static const struct broker_backend amqp_backend = {
	.name = "amqp",
	.batch = 500,
	.connect = amqp_connect,
	.publish = amqp_publish,
	.idle = amqp_idle,
	.disconnect = amqp_disconnect,
	.free = amqp_free,
};

static const struct broker_plugin_def amqp_def = {
	.be = &amqp_backend,
	.default_key = "acct",
	.make_ctx = amqp_make_ctx,
};

const struct broker_plugin_def *amqp_broker_def(void)
{
	return &amqp_def;
}

BROKER_PLUGIN_TYPE(amqp_plugin_type, "amqp", amqp_def);
