/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kafka_mock.c: a librdkafka mock cluster (no Kafka server needed) that
 * consumes topics and prints each message, for the end-to-end tests.
 *
 *   kafka_mock [-b brokers] topic...
 *
 * Prints "BOOTSTRAP host:port,..." first, then "MSG <topic> <key|-> <id|-> <payload>"
 * per message, id being the message_id header (newlines in the payload printed as 0x1e).  Commands on stdin: "down" / "up" take every broker down
 * or back up (a broker outage as the producer sees it), "quit" (or end of
 * input) stops.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static rd_kafka_t *make(rd_kafka_type_t type, const char *bootstrap)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (bootstrap) {
		rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
		rd_kafka_conf_set(conf, "group.id", "kafka_mock", err, sizeof(err));
		rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err));
		rd_kafka_conf_set(conf, "enable.partition.eof", "false", err, sizeof(err));
		rd_kafka_conf_set(conf, "topic.metadata.refresh.interval.ms", "1000", err, sizeof(err));
		rd_kafka_conf_set(conf, "reconnect.backoff.max.ms", "1000", err, sizeof(err));
	}
	rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "kafka_mock: %s\n", err);
		exit(1);
	}
	return rk;
}

/* One stdin command; returns 0 to stop. */
static int command(rd_kafka_mock_cluster_t *mc, int nbrokers)
{
	char line[64];

	if (!fgets(line, sizeof(line), stdin) || strncmp(line, "quit", 4) == 0)
		return 0;
	for (int id = 1; id <= nbrokers; id++) {
		if (strncmp(line, "down", 4) == 0)
			rd_kafka_mock_broker_set_down(mc, id);
		else if (strncmp(line, "up", 2) == 0)
			rd_kafka_mock_broker_set_up(mc, id);
	}
	fprintf(stderr, "kafka_mock: brokers %s", line);
	return 1;
}

static void print_msg(const rd_kafka_message_t *m)
{
	if (m->err) {
		if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			fprintf(stderr, "kafka_mock: consume: %s\n", rd_kafka_message_errstr(m));
		return;
	}
	rd_kafka_headers_t *h = NULL;
	const void *id = NULL;
	size_t idlen = 0;

	if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get_last(h, "message_id", &id, &idlen) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    !idlen)
		id = NULL;
	printf("MSG %s %.*s %.*s ", rd_kafka_topic_name(m->rkt),
	    m->key_len ? (int)m->key_len : 1, m->key_len ? (const char *)m->key : "-",
	    id ? (int)idlen : 1, id ? (const char *)id : "-");
	/* one line per message: a newline inside (*_multi_values) is printed as \x1e */
	for (size_t i = 0; i < m->len; i++) {
		char ch = ((const char *)m->payload)[i];
		putchar(ch == '\n' ? 0x1e : ch);
	}
	putchar('\n');
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int nbrokers = 1, c;

	while ((c = getopt(argc, argv, "b:")) != -1) {
		if (c == 'b')
			nbrokers = atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc || nbrokers < 1) {
		fprintf(stderr, "usage: kafka_mock [-b brokers] topic...\n");
		return 2;
	}
	rd_kafka_t *owner = make(RD_KAFKA_PRODUCER, NULL);
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(owner, nbrokers);
	const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(argc - optind);

	for (int i = optind; i < argc; i++) {
		rd_kafka_mock_topic_create(mc, argv[i], 1, 1);
		/* partition 0 from the start, assigned: no consumer group to recover after an outage */
		rd_kafka_topic_partition_list_add(topics, argv[i], 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
	}
	rd_kafka_t *consumer = make(RD_KAFKA_CONSUMER, bootstrap);
	rd_kafka_poll_set_consumer(consumer);
	rd_kafka_assign(consumer, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	printf("BOOTSTRAP %s\n", bootstrap);
	fflush(stdout);

	for (;;) {
		struct pollfd pfd = { .fd = 0, .events = POLLIN };
		if (poll(&pfd, 1, 0) > 0 && !command(mc, nbrokers))
			break;
		rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 100);
		if (m) {
			print_msg(m);
			rd_kafka_message_destroy(m);
		}
	}
	rd_kafka_consumer_close(consumer);
	rd_kafka_destroy(consumer);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(owner);
	return 0;
}
