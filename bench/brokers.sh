#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Messages per second the kafka and amqp plugins publish for a purge of
# ~1M entries (one JSON message each), acknowledged by the broker.  Prints
# figures; never asserts timing.
#
#   bench/brokers.sh                     # 4,000,000 packets over 1,000,000 uniform flows
#   FLOWS=200000 PACKETS=800000 bench/brokers.sh
#
# Kafka: librdkafka's mock cluster inside the producer (test.mock.num.brokers
# in kafka_config_file), acks from the mock broker.  RabbitMQ: a throw-away
# rabbitmq-server node on loopback (publisher confirms on, a queue capped at
# 100,000 messages bound so that messages are routed and stored).
# Environment: PMACCTD (default build/pmacctd), PCAPGEN (default build/pcapgen),
# BENCH_DIR (default /tmp/pmacct-bench), PACKETS, FLOWS, BACKENDS ("kafka amqp").
set -euo pipefail

. "$(dirname "$0")/lib.sh"
PACKETS=${PACKETS:-4000000}
FLOWS=${FLOWS:-1000000}
BACKENDS=${BACKENDS:-kafka amqp}
RABBIT_BIN=/usr/lib/rabbitmq/bin
PCAP=$BENCH_DIR/brokers-$PACKETS-$FLOWS.pcap
if [ ! -s "$PCAP" ]; then
	echo "generating $PACKETS packets over $FLOWS uniform flows ..." >&2
	"$PCAPGEN" -n "$PACKETS" -f "$FLOWS" -z 0 -S 128 -d 60 --no-frag -o "$PCAP" >/dev/null
fi

COMMON="pcap_savefile: $PCAP
aggregate: src_host, dst_host, src_port, dst_port, proto
plugin_buffer_size: 1024000
plugin_pipe_size: 102400000
print_cache_entries: 1000003
"

# $1 backend, $2 config: run, then print entries and the delivery rate from the log.
run() {
	local log=$BENCH_DIR/brokers-$1.log
	printf '%s' "$2" > "$BENCH_DIR/brokers-$1.conf"
	local t0 t1
	t0=$(date +%s.%N)
	"$PMACCTD" -f "$BENCH_DIR/brokers-$1.conf" > "$log" 2>&1
	t1=$(date +%s.%N)
	local qn rate
	qn=$(grep -o 'QN: [0-9]*/[0-9]*' "$log" | tail -1)
	rate=$(grep -o '[0-9]* delivered.*messages/s)' "$log" | tail -1)
	printf '%-6s entries %-20s %s; whole run %.1f s\n' "$1" "$qn" "$rate" \
		"$(echo "$t1 - $t0" | bc)"
}

for be in $BACKENDS; do
	case $be in
	kafka)
		printf 'global, test.mock.num.brokers, 1\nglobal, linger.ms, 20\n' > "$BENCH_DIR/kafka.props"
		run kafka "${COMMON}plugins: kafka[k]
kafka_config_file: $BENCH_DIR/kafka.props
kafka_spool_file: $BENCH_DIR/k.spool
kafka_queue_max: 2000000
kafka_shutdown_wait: 600
"
		;;
	amqp)
		[ -x $RABBIT_BIN/rabbitmq-server ] || { echo "amqp: rabbitmq-server not installed" >&2; continue; }
		R=$BENCH_DIR/rabbit
		rm -rf "$R"
		mkdir -p "$R"
		PORT=25699
		cat > "$R/defs.json" <<-EOF
		{"users":[{"name":"guest","password":"guest","tags":"administrator"}],"vhosts":[{"name":"/"}],
		 "permissions":[{"user":"guest","vhost":"/","configure":".*","write":".*","read":".*"}],
		 "exchanges":[{"name":"pmacct","vhost":"/","type":"direct","durable":false,"auto_delete":false,"internal":false,"arguments":{}}],
		 "queues":[{"name":"q","vhost":"/","durable":false,"auto_delete":false,"arguments":{"x-max-length":100000}}],
		 "bindings":[{"source":"pmacct","vhost":"/","destination":"q","destination_type":"queue","routing_key":"acct","arguments":{}}]}
		EOF
		printf 'load_definitions = %s/defs.json\nlisteners.tcp.1 = 127.0.0.1:%s\n' "$R" "$PORT" > "$R/rabbitmq.conf"
		echo '[].' > "$R/enabled_plugins"
		export HOME=$R RABBITMQ_NODENAME=pmngbench@localhost RABBITMQ_NODE_PORT=$PORT \
			RABBITMQ_DIST_PORT=$((PORT + 1)) RABBITMQ_MNESIA_BASE=$R/mnesia RABBITMQ_LOG_BASE=$R/log \
			RABBITMQ_CONFIG_FILE=$R/rabbitmq.conf RABBITMQ_ENABLED_PLUGINS_FILE=$R/enabled_plugins \
			RABBITMQ_PID_FILE=$R/pid
		$RABBIT_BIN/rabbitmq-server > "$R/server.log" 2>&1 &
		for _ in $(seq 120); do
			(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
			sleep 0.5
		done
		run amqp "${COMMON}plugins: amqp[a]
amqp_host: 127.0.0.1
amqp_port: $PORT
amqp_spool_file: $BENCH_DIR/a.spool
amqp_queue_max: 2000000
amqp_shutdown_wait: 600
" || true
		$RABBIT_BIN/rabbitmqctl stop > /dev/null 2>&1 || true
		wait
		;;
	esac
done
