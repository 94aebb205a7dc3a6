/* SPDX-License-Identifier: BSD-3-Clause */
/* kafka.c: the kafka plugin: the broker runtime (broker.c) publishing JSON with librdkafka. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "lib/log.h"
#include "lib/text.h"
#include "lib/xalloc.h"
#include "plugins/broker.h"
#include "plugins/plugin.h"

#define KAFKA_MSG_TIMEOUT "10000"	/* message.timeout.ms unless kafka_config_file sets it */

struct kafka_ctx {
	char who[CFG_NAME_MAX + 24];
	rd_kafka_conf_t *conf;		/* until the producer is made */
	rd_kafka_t *rk;
	int32_t partition;
	int timeout_ms;			/* message.timeout.ms in effect */
	/* the batch being delivered: delivery reports carry base + index */
	struct broker_msg **batch;
	size_t n, pending;
	uint64_t base, next_base;
	size_t failed;
	char last_err[256];
	time_t err_logged;
};

/* Delivery report (on the delivery thread, from rd_kafka_poll). */
static void kafka_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka_ctx *k = opaque;
	uint64_t id = (uint64_t)(uintptr_t)m->_private;

	(void)rk;
	if (id < k->base || id >= k->base + k->n)
		return;		/* a late report from an earlier, given-up batch */
	k->pending--;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		k->batch[id - k->base]->sent = true;
		k->batch[id - k->base]->unconfirmed = false;
	} else {
		/* e.g. timed out in flight: the broker may have written it */
		k->batch[id - k->base]->unconfirmed =
		    rd_kafka_message_status(m) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED;
		k->failed++;
		snprintf(k->last_err, sizeof(k->last_err), "%s", rd_kafka_err2str(m->err));
	}
}

/* librdkafka's own errors (broker down, ...), at most every 10 seconds. */
static void kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_ctx *k = opaque;
	time_t now = time(NULL);

	(void)rk;
	if (now - k->err_logged < 10)
		return;
	k->err_logged = now;
	log_warnx(k->who, "kafka: %s: %s", rd_kafka_err2str((rd_kafka_resp_err_t)err), reason);
}

/* librdkafka's log lines go to our log (debug), not to stderr. */
static void kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	const struct kafka_ctx *k = rd_kafka_opaque(rk);
	(void)level;
	log_debug(k ? k->who : "kafka", "librdkafka %s: %s", fac, buf);
}

/* Report a bad value of `key` with file and line. */
static int bad_key(const struct plugin *p, const char *key, const char *why)
{
	log_err(p->who, "[%s] key '%s[%s]': %s. Exiting.", cfg_where(&p->cfg->origin, key), key,
	    p->cfg->name, why);
	return -1;
}

/* kafka_config_file: "global, key, value" / "topic, key, value" lines, as pmacct. */
static int load_config_file(const struct plugin *p, rd_kafka_conf_t *conf, rd_kafka_topic_conf_t *tc)
{
	const char *path = p->cfg->kafka_config_file;
	char line[1024], err[256], why[1400];
	FILE *f = fopen(path, "r");
	int ln = 0, rc = 0;

	if (!f) {
		snprintf(why, sizeof(why), "cannot read '%s': %s", path, strerror(errno));
		return bad_key(p, "kafka_config_file", why);
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char *c1, *c2, *scope = line;
		ln++;
		if (*text_trim(line) == '\0' || *text_trim(line) == '#')
			continue;
		if (!(c1 = strchr(line, ',')) || !(c2 = strchr(c1 + 1, ','))) {
			snprintf(why, sizeof(why), "'%s' line %d: expected 'global|topic, key, value'",
			    path, ln);
			rc = bad_key(p, "kafka_config_file", why);
			break;
		}
		*c1 = *c2 = '\0';
		scope = text_trim(scope);
		char *key = text_trim(c1 + 1), *val = text_trim(c2 + 1);
		if (strcmp(scope, "global") != 0 && strcmp(scope, "topic") != 0) {
			snprintf(why, sizeof(why), "'%s' line %d: scope '%s' is neither global nor topic",
			    path, ln, scope);
			rc = bad_key(p, "kafka_config_file", why);
			break;
		}
		rd_kafka_conf_res_t r = strcmp(scope, "topic") == 0 ?
		    rd_kafka_topic_conf_set(tc, key, val, err, sizeof(err)) :
		    rd_kafka_conf_set(conf, key, val, err, sizeof(err));
		if (r != RD_KAFKA_CONF_OK) {
			snprintf(why, sizeof(why), "'%s' line %d: %s", path, ln, err);
			rc = bad_key(p, "kafka_config_file", why);
		}
	}
	fclose(f);
	return rc;
}

/* bootstrap.servers from kafka_broker_host/_port; our shorter message.timeout.ms. */
static int set_defaults(const struct plugin *p, rd_kafka_conf_t *conf, rd_kafka_topic_conf_t *tc)
{
	const struct plugin_cfg *pc = p->cfg;
	const char *host = pc->broker_host ? pc->broker_host : "127.0.0.1";
	char err[256], servers[512];
	bool v6 = strchr(host, ':') != NULL;	/* broker_host_check: then an IPv6 address */

	snprintf(servers, sizeof(servers), "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
	    pc->broker_port ? pc->broker_port : 9092);
	if (rd_kafka_conf_set(conf, "bootstrap.servers", servers, err, sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_topic_conf_set(tc, "message.timeout.ms", KAFKA_MSG_TIMEOUT, err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK) {
		log_err(p->who, "kafka: %s", err);
		return -1;
	}
	return 0;
}

/*
 * Parse the kafka_* keys into a producer configuration, connecting to
 * nothing: run by -T config and start-up alike (broker_plugin_check, then
 * broker_plugin_init keeps it).  NULL after logging.
 */
static void *kafka_make_ctx(const struct plugin *p)
{
	struct kafka_ctx *k = xcalloc(1, sizeof(*k));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_conf_t *tc = rd_kafka_topic_conf_new();
	char val[64], *end;
	size_t vlen = sizeof(val);

	snprintf(k->who, sizeof(k->who), "%s", p->who);
	k->partition = RD_KAFKA_PARTITION_UA;
	if (p->cfg->kafka_partition) {
		errno = 0;
		long v = strtol(p->cfg->kafka_partition, &end, 10);
		if (*end || end == p->cfg->kafka_partition || errno || v < -1 || v > INT32_MAX) {
			bad_key(p, "kafka_partition", "expected -1 or a partition number");
			goto fail;
		}
		k->partition = (int32_t)v;
	}
	if (set_defaults(p, conf, tc) < 0 ||
	    (p->cfg->kafka_config_file && load_config_file(p, conf, tc) < 0))
		goto fail;
	k->timeout_ms = atoi(KAFKA_MSG_TIMEOUT);
	if (rd_kafka_topic_conf_get(tc, "message.timeout.ms", val, &vlen) == RD_KAFKA_CONF_OK)
		k->timeout_ms = atoi(val);
	rd_kafka_conf_set_default_topic_conf(conf, tc);
	tc = NULL;
	rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr);
	rd_kafka_conf_set_error_cb(conf, kafka_error);
	rd_kafka_conf_set_log_cb(conf, kafka_log);
	rd_kafka_conf_set_opaque(conf, k);
	k->conf = conf;
	k->next_base = 1;
	return k;
fail:
	rd_kafka_topic_conf_destroy(tc);
	rd_kafka_conf_destroy(conf);
	free(k);
	return NULL;
}

/* Make the producer once; then check the cluster answers (metadata) so a down broker is seen. */
static int kafka_connect(void *ctx)
{
	struct kafka_ctx *k = ctx;
	const struct rd_kafka_metadata *md;
	char err[512];
	rd_kafka_resp_err_t e;

	if (!k->rk) {
		k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, k->conf, err, sizeof(err));
		if (!k->rk) {
			log_warnx(k->who, "kafka: cannot create the producer: %s", err);
			return -1;
		}
		k->conf = NULL;		/* owned by rk now */
	}
	e = rd_kafka_metadata(k->rk, 0, NULL, &md, 5000);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warnx(k->who, "kafka: cluster not reachable: %s", rd_kafka_err2str(e));
		return -1;
	}
	rd_kafka_metadata_destroy(md);
	return 0;
}

/*
 * Our purge id as message headers (the payload stays pmacct's):
 * message_id, writer_id, purge_seq, msg_index, as text.  NULL without an id.
 */
static rd_kafka_headers_t *message_headers(const struct broker_msg *m)
{
	rd_kafka_headers_t *h;
	size_t wl;
	uint64_t seq, idx;
	char num[24];

	if (!m->id)
		return NULL;
	h = rd_kafka_headers_new(4);
	rd_kafka_header_add(h, "message_id", -1, m->id, m->idlen);
	if (broker_id_split(m->id, &wl, &seq, &idx) == 0) {
		rd_kafka_header_add(h, "writer_id", -1, m->id, (ssize_t)wl);
		snprintf(num, sizeof(num), "%" PRIu64, seq);
		rd_kafka_header_add(h, "purge_seq", -1, num, -1);
		snprintf(num, sizeof(num), "%" PRIu64, idx);
		rd_kafka_header_add(h, "msg_index", -1, num, -1);
	}
	return h;
}

/* Hand one message to librdkafka, waiting while its own queue is full. */
static int produce_one(struct kafka_ctx *k, struct broker_msg *m, uint64_t id)
{
	rd_kafka_headers_t *h = message_headers(m);
	rd_kafka_resp_err_t e;

	for (int tries = 0; tries < 100; tries++) {
		/* the message owns the headers once producev succeeds */
		e = rd_kafka_producev(k->rk, RD_KAFKA_V_TOPIC(m->key), RD_KAFKA_V_PARTITION(k->partition),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)m->data, m->len),
		    RD_KAFKA_V_KEY(m->pkey, m->pkey ? m->pklen : 0), RD_KAFKA_V_HEADERS(h),
		    RD_KAFKA_V_OPAQUE((void *)(uintptr_t)id), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		rd_kafka_poll(k->rk, 50);
	}
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (h)
			rd_kafka_headers_destroy(h);
		snprintf(k->last_err, sizeof(k->last_err), "%s", rd_kafka_err2str(e));
		k->failed++;
		return -1;
	}
	k->pending++;
	return 0;
}

static int kafka_publish(void *ctx, struct broker_msg **msgs, size_t n)
{
	struct kafka_ctx *k = ctx;
	size_t sent = 0;

	k->batch = msgs;
	k->n = n;
	k->base = k->next_base;
	k->next_base += n;
	k->pending = k->failed = 0;
	/* handed to librdkafka: the broker may get it, unless a report says otherwise */
	for (size_t i = 0; i < n; i++)
		msgs[i]->unconfirmed = produce_one(k, msgs[i], k->base + i) == 0;
	/* librdkafka retries by itself until message.timeout.ms; wait a little longer than that */
	time_t until = time(NULL) + k->timeout_ms / 1000 + 5;
	while (k->pending && time(NULL) < until)
		rd_kafka_poll(k->rk, 100);
	if (k->pending) {
		rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		for (int i = 0; i < 50 && k->pending; i++)
			rd_kafka_poll(k->rk, 100);
	}
	for (size_t i = 0; i < n; i++)
		sent += msgs[i]->sent;
	k->n = 0;		/* later reports are ignored */
	if (k->failed)
		log_warnx(k->who, "kafka: %zu of %zu messages not delivered: %s", n - sent, n,
		    k->last_err);
	return sent < n ? -1 : 0;
}

static void kafka_disconnect(void *ctx)
{
	(void)ctx;	/* librdkafka reconnects by itself: keep the producer */
}

static void kafka_free(void *ctx)
{
	struct kafka_ctx *k = ctx;
	if (!k)
		return;
	if (k->rk) {
		rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_flush(k->rk, 1000);
		rd_kafka_destroy(k->rk);
	}
	if (k->conf)
		rd_kafka_conf_destroy(k->conf);
	free(k);
}

/* Kafka's rule for topic names: 1-249 of [a-zA-Z0-9._-]. */
static int kafka_topic_ok(const char *topic, char *why, size_t whylen)
{
	size_t n = strlen(topic);

	if (n == 0 || n > 249 || strspn(topic, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") != n) {
		snprintf(why, whylen, "a Kafka topic is 1 to 249 of the characters a-z A-Z 0-9 . _ -");
		return -1;
	}
	return 0;
}

static const struct broker_backend kafka_backend = {
	.name = "kafka",
	.batch = 50000,		/* below queue.buffering.max.messages (100000) */
	.connect = kafka_connect,
	.publish = kafka_publish,
	.disconnect = kafka_disconnect,
	.free = kafka_free,
};

static const struct broker_plugin_def kafka_def = {
	.be = &kafka_backend,
	.default_key = "pmacct.acct",
	.make_ctx = kafka_make_ctx,
	.key_ok = kafka_topic_ok,
};

const struct broker_plugin_def *kafka_broker_def(void)
{
	return &kafka_def;
}

BROKER_PLUGIN_TYPE(kafka_plugin_type, "kafka", kafka_def);
