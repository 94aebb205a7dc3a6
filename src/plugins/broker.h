/* SPDX-License-Identifier: BSD-3-Clause */
/* broker.h: what the kafka and amqp plugins share: purge to JSON messages, a bounded queue spilling to disk, a delivery thread. */
#ifndef PLUGINS_BROKER_H
#define PLUGINS_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct plugin;
struct flow_rec;

/*
 * One message: routing key (Kafka topic or AMQP routing key), optional
 * Kafka message key, optional message id, JSON payload.  The strings live
 * in the same allocation, NUL-terminated; `sent` is set by a backend's
 * publish().  The id, "<writer_id>:<purge seq>:<message index>", goes in
 * the broker's message metadata (AMQP message_id and headers, Kafka
 * headers), never in the payload, so that a consumer can drop a message
 * delivered twice (at-least-once delivery) while the payload stays
 * pmacct's.  See docs/brokers.md.
 */
struct broker_msg {
	struct broker_msg *next;
	const char *key;
	const char *pkey;	/* NULL = none */
	const char *id;		/* NULL = none (a spool written before ids) */
	const char *data;
	uint32_t klen, pklen, idlen, len;
	int64_t spool_off;	/* where it starts in the spool file; -1 = never spooled */
	bool sent;
	bool unconfirmed;	/* set by publish(): sent out but not answered, the broker may have it */
	char buf[];
};

/*
 * A message broker client.  Every hook runs on the delivery thread only,
 * so a backend needs no locking of its own.
 */
struct broker_backend {
	const char *name;	/* "kafka", "amqp" */
	size_t batch;		/* most messages per publish(), 0 = 5000 */
	/* Open a connection / producer. 0, or -1 after logging the library's message. */
	int (*connect)(void *ctx);
	/*
	 * Deliver msgs[0..n) and wait for the broker's acknowledgement; set
	 * ->sent on each one acknowledged, ->unconfirmed on each one that went
	 * out but got no answer (a timeout, a lost connection: the broker may
	 * have it, so publishing it again may make a duplicate).  0, or -1
	 * when the connection is no longer usable (unsent messages are
	 * retried after a reconnect).
	 */
	int (*publish)(void *ctx, struct broker_msg **msgs, size_t n);
	/* Keep an idle connection alive (heartbeats); may be NULL.  0 or -1 as publish. */
	int (*idle)(void *ctx);
	/* Close the connection (the next delivery reconnects). */
	void (*disconnect)(void *ctx);
	/* Free ctx at shutdown. */
	void (*free)(void *ctx);
};

struct broker;

/* Counters, for logs and tests. */
struct broker_stats {
	uint64_t queued;	/* accepted by broker_put */
	uint64_t delivered;	/* acknowledged by the broker */
	uint64_t retried;	/* deliveries that failed and were kept */
	uint64_t unconfirmed;	/* of those, sent out without an answer: may arrive twice */
	uint64_t spooled;	/* written to the spool file */
	size_t in_memory, on_disk;	/* waiting right now */
};

/*
 * A queue of at most `queue_max` messages in memory; beyond that, and
 * until the spool is read back, messages are appended to `spool_path`.  A
 * spool file left by an earlier run is delivered first.  Delivery starts
 * with broker_start().  `who` prefixes log lines; `ctx` goes to the hooks.
 */
struct broker *broker_new(const char *who, const struct broker_backend *be, void *ctx,
    const char *spool_path, size_t queue_max);

/* Start the delivery thread. 0 or -1. */
int broker_start(struct broker *b);

/*
 * Queue one message (copied).  Never waits for the network: only for the
 * queue's lock and, past the bound, a write to the spool file.
 */
void broker_put(struct broker *b, const char *key, const char *pkey, const char *id,
    const char *data, size_t len);

/* Counters right now. */
void broker_get_stats(struct broker *b, struct broker_stats *st);

/*
 * Stop: wait up to `wait_secs` for the queue to be delivered, then keep
 * what is left in the spool file (delivered at the next start) and log
 * how many messages were not delivered.  Frees everything, calls the
 * backend's free(ctx).  Returns the number of messages not delivered.
 */
size_t broker_close(struct broker *b, unsigned wait_secs);

/* Pop the first message queued (memory, then spool); NULL if none.  For tests only. */
struct broker_msg *broker_pop(struct broker *b);

/* A message with copies of the strings (pkey, id may be NULL); free with free(). */
struct broker_msg *broker_msg_new(const char *key, const char *pkey, const char *id,
    const char *data, size_t len);

/*
 * The parts of a message id "<writer_id>:<purge seq>:<message index>"
 * (the writer id may itself hold ':'): the writer id's length, the
 * sequence and the index.  0, or -1 when `id` is not of that form.
 */
int broker_id_split(const char *id, size_t *wid_len, uint64_t *seq, uint64_t *index);

/*
 * The kafka/amqp plugin runtime: cache and purge as the print plugin,
 * every entry a JSON message (or *_multi_values per message), markers,
 * writer_id.  `defaults` gives the backend's default routing key.
 */
struct broker_plugin_def {
	const struct broker_backend *be;
	const char *default_key;	/* "pmacct.acct", "acct" */
	/*
	 * Validate the backend's keys and make its ctx (connecting to
	 * nothing); NULL after logging file, line and key.  broker_plugin_check
	 * calls it and frees the ctx, broker_plugin_init keeps it.
	 */
	void *(*make_ctx)(const struct plugin *p);
	/*
	 * The backend's rule for an expanded topic / routing key (NULL: any up
	 * to 255 bytes).  0, or -1 with the reason in why.
	 */
	int (*key_ok)(const char *key, char *why, size_t whylen);
};

/*
 * Every check of a kafka/amqp plugin's config that start-up makes, opening
 * and connecting to nothing (the type's check(): also run by -T config):
 * *_output, stitching vs. pro-rating, broker host, topic / routing key and
 * partition key templates, then the backend's make_ctx().  0 or -1 (logged).
 */
int broker_plugin_check(const struct plugin *p, const struct broker_plugin_def *def);

/*
 * A broker host (kafka_broker_host / amqp_host): a host name or IPv4
 * address ([A-Za-z0-9._-]), or an IPv6 address.  0, or -1 with the reason.
 */
int broker_host_check(const char *host, char *why, size_t whylen);

/* The in-memory queue bound for kafka_queue_max / amqp_queue_max (0: the default, 100000). */
static inline size_t broker_queue_bound(uint32_t queue_max)
{
	return queue_max ? queue_max : 100000;
}

struct table_gauge;

/* Publish the in-memory queue's fill (messages, bytes) to g from now on. */
void broker_set_gauge(struct broker *b, struct table_gauge *g);

/*
 * The kafka and amqp backends as a broker_plugin_def, for other writers of
 * JSON messages (the BGP message log and table dumps): make_ctx() on a
 * plugin whose cfg holds broker_host/_port, kafka_config_file, amqp_user,
 * _passwd, _vhost and sql_db (the exchange).  NULL when not built.
 */
const struct broker_plugin_def *kafka_broker_def(void);
const struct broker_plugin_def *amqp_broker_def(void);

/* Register the cache (pmacct's ceiling) and the in-memory queue (kafka_queue_max). */
void broker_plugin_bounds(struct plugin *p);

/* Start the plugin on a config broker_plugin_check() accepted. 0 or -1 (logged). */
int broker_plugin_init(struct plugin *p, const struct broker_plugin_def *def);
void broker_plugin_record(struct plugin *p, const struct flow_rec *rec);
int broker_plugin_next_tick_ms(struct plugin *p);
void broker_plugin_tick(struct plugin *p);
void broker_plugin_flush(struct plugin *p);
void broker_plugin_fini(struct plugin *p);

/*
 * Define `const struct plugin_type sym`, the plugin type `tname` run by
 * the functions above on `def` (a struct broker_plugin_def).
 */
#define BROKER_PLUGIN_TYPE(sym, tname, def)					\
	static int sym##_check(const struct plugin *p) { return broker_plugin_check(p, &(def)); } \
	static int sym##_init(struct plugin *p) { return broker_plugin_init(p, &(def)); }	\
	const struct plugin_type sym = {					\
		.name = tname, .daemons = SRC_ALL, .binned = true,		\
		.check = sym##_check, .bounds = broker_plugin_bounds, .init = sym##_init, \
		.record = broker_plugin_record,					\
		.next_tick_ms = broker_plugin_next_tick_ms, .tick = broker_plugin_tick, \
		.flush = broker_plugin_flush, .fini = broker_plugin_fini,	\
	}

#endif
