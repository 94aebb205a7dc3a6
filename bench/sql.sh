#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Rows per second the SQL plugins upsert from a ~1M-entry cache, and the time
# of that one flush, into sqlite3, pgsql and mysql; side by side with Debian
# pmacct 1.7.7's sqlite3 plugin on the same capture and table (v1, created
# from pmacct's own /usr/share/doc/pmacct/sql script).  Prints figures;
# never asserts timing.
#
#   bench/sql.sh                                  # 3,000,000 packets, 1,000,000 uniform flows
#   PACKETS=600000 FLOWS=200000 bench/sql.sh      # smaller
#   BACKENDS="sqlite3" bench/sql.sh               # no servers
#
# sql_refresh_time is an hour: the whole capture accumulates in the cache and
# the final flush at exit writes it (one transaction).  "flush" is measured
# from the "Purging cache - START" log line to the daemon's exit (the log's
# own ET is in whole seconds).  PostgreSQL and MariaDB are started here, as
# tests/e2e/test_sql.py does (throw-away data directories, loopback ports,
# fsync off / innodb_flush_log_at_trx_commit=0), and stopped at the end.
# The reference runs with sqlite3 only (its pgsql/mysql plugins are not
# measured here).  It reads with pcap_savefile_wait and is stopped with
# SIGINT once it has read the capture (pmacct 1.7.7 does not purge at the
# end of a savefile otherwise); it may account its last buffer twice (see
# test_sql.py), so its packet total is printed too.
# Environment: PMACCTD, REF_PMACCTD (/usr/sbin/pmacctd), PCAPGEN,
# BENCH_DIR (/tmp/pmacct-bench), PACKETS, FLOWS, BACKENDS ("sqlite3 pgsql mysql ref").
set -euo pipefail

. "$(dirname "$0")/lib.sh"
PACKETS=${PACKETS:-3000000}
FLOWS=${FLOWS:-1000000}
BACKENDS=${BACKENDS:-sqlite3 pgsql mysql ref}
export TZ=UTC LC_ALL=C
PCAP=$BENCH_DIR/sql-$PACKETS-$FLOWS.pcap
if [ ! -s "$PCAP" ]; then
	echo "generating $PACKETS packets over $FLOWS uniform flows ..." >&2
	"$PCAPGEN" -n "$PACKETS" -f "$FLOWS" -z 0 -S 128 -d 60 --v4-only --no-frag \
		-o "$PCAP" -t "$PCAP.json" >/dev/null
fi
cat "$PCAP" > /dev/null		# page cache

SRV=$(mktemp -d /tmp/pmng-sqlbench-XXXXXX)
chmod 755 "$SRV"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
MYPID=
cleanup() {
	if [ -n "$PGBIN" ] && [ -d "$SRV/pg/data" ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$SRV/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if [ -n "$MYPID" ]; then kill "$MYPID" 2>/dev/null; wait "$MYPID" 2>/dev/null || true; fi
	rm -rf "$SRV"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pg_up() {
	PGPORT=$(free_port)
	mkdir -p "$SRV/pg" && chown postgres:postgres "$SRV/pg"
	runuser -u postgres -- "$PGBIN/initdb" -D "$SRV/pg/data" -A trust -U postgres --no-sync >/dev/null
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$SRV/pg/data" -l "$SRV/pg/log" -w \
		-o "-p $PGPORT -k $SRV/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c timezone=UTC" start >/dev/null
	psql_() { runuser -u postgres -- "$PGBIN/psql" -h "$SRV/pg" -p "$PGPORT" -U postgres -At "$@"; }
	psql_ -c "CREATE USER pmacct PASSWORD 'arealsmartpwd'" >/dev/null
	psql_ -c "CREATE DATABASE pmacct OWNER pmacct" >/dev/null
}

my_up() {
	MYPORT=$(free_port)
	mkdir -p "$SRV/my" && chown mysql:mysql "$SRV/my"
	mariadb-install-db --datadir="$SRV/my/data" --user=mysql \
		--auth-root-authentication-method=socket --skip-test-db >/dev/null 2>&1
	mariadbd --no-defaults --datadir="$SRV/my/data" --user=mysql --socket="$SRV/my/sock" \
		--port="$MYPORT" --bind-address=127.0.0.1 --pid-file="$SRV/my/pid" --skip-log-bin \
		--innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=512M \
		--log-error="$SRV/my/err.log" --default-time-zone=+00:00 >/dev/null 2>&1 &
	MYPID=$!
	for _ in $(seq 600); do [ -S "$SRV/my/sock" ] && break; sleep 0.1; done
	mariadb -S "$SRV/my/sock" -u root -e "CREATE DATABASE pmacct; CREATE USER pmacct@'%' IDENTIFIED BY 'arealsmartpwd'; GRANT ALL ON pmacct.* TO pmacct@'%'"
}

COMMON="pcap_savefile: $PCAP
aggregate: src_host, dst_host, src_port, dst_port, proto
sql_table_version: 1
sql_table: acct
sql_history: 1h
sql_history_roundoff: h
sql_refresh_time: 3600
sql_cache_entries: 1000003
plugin_buffer_size: 1024000
plugin_pipe_size: 1024000000
"

# $1 label, $2 binary, $3 config, $4 "wait" for the reference; prints one line.
# Sets FLUSH (seconds) and QN.
run() {
	local log=$BENCH_DIR/sql-$1.log conf=$BENCH_DIR/sql-$1.conf
	printf '%s' "$3" > "$conf"
	local t0 tstart= tend pid
	t0=$(date +%s.%N)
	"$2" -f "$conf" > "$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if [ "${4:-}" = wait ] && grep -q "finished reading" "$log" && [ -z "${sig:-}" ]; then
			sleep 2; sig=1; kill -INT "$pid"
		fi
		if [ -z "$tstart" ] && grep -q "Purging cache - START" "$log"; then tstart=$(date +%s.%N); fi
		sleep 0.05
	done
	wait "$pid" || echo "$1: exit code $?" >&2
	sig=
	tend=$(date +%s.%N)
	[ -n "$tstart" ] || tstart=$tend
	QN=$(grep -o 'QN: [0-9]*/[0-9]*' "$log" | tail -1 | sed 's/QN: //')
	local rows=${QN%%/*} et
	et=$(grep -o 'ET: [0-9]*' "$log" | tail -1)
	FLUSH=$(echo "$tend - $tstart" | bc)
	printf '%-8s rows %-15s flush %6.2f s (%s)  %8.0f rows/s  whole run %6.2f s' "$1" "$QN" \
		"$FLUSH" "${et:-ET: ?}" "$(echo "${rows:-0} / ($FLUSH + 0.001)" | bc -l)" \
		"$(echo "$tend - $t0" | bc)"
}

echo "capture: $PCAP ($PACKETS packets, $FLOWS flows); v1 table, aggregate 5-tuple, 1h bins"
for be in $BACKENDS; do
	case $be in
	sqlite3)
		rm -f "$BENCH_DIR/sql-ours.db"
		run sqlite3 "$PMACCTD" "${COMMON}plugins: sqlite3[b]
sql_db: $BENCH_DIR/sql-ours.db
"
		echo "  db: $(sqlite3 "$BENCH_DIR/sql-ours.db" 'SELECT COUNT(*), SUM(packets) FROM acct')"
		;;
	pgsql)
		[ -n "$PGBIN" ] || { echo "pgsql: no PostgreSQL binaries, skipped"; continue; }
		pg_up
		run pgsql "$PMACCTD" "${COMMON}plugins: pgsql[b]
sql_host: 127.0.0.1
sql_port: $PGPORT
"
		echo "  db: $(psql_ -d pmacct -F ' ' -c 'SELECT COUNT(*), SUM(packets) FROM acct')"
		;;
	mysql)
		command -v mariadbd >/dev/null || { echo "mysql: no mariadbd, skipped"; continue; }
		my_up
		run mysql "$PMACCTD" "${COMMON}plugins: mysql[b]
sql_host: 127.0.0.1
sql_port: $MYPORT
"
		echo "  db: $(mariadb -S "$SRV/my/sock" -u root -N -B pmacct -e 'SELECT COUNT(*), SUM(packets) FROM acct')"
		;;
	ref)
		[ -x "$REF_PMACCTD" ] || { echo "ref: no $REF_PMACCTD, skipped"; continue; }
		rm -f "$BENCH_DIR/sql-ref.db"
		sqlite3 "$BENCH_DIR/sql-ref.db" < /usr/share/doc/pmacct/sql/pmacct-create-table_v1.sqlite3
		run "ref-sqlite3" "$REF_PMACCTD" "${COMMON}pcap_savefile_wait: true
plugins: sqlite3[b]
sql_db: $BENCH_DIR/sql-ref.db
" wait
		echo "  db: $(sqlite3 "$BENCH_DIR/sql-ref.db" 'SELECT COUNT(*), SUM(packets) FROM acct')"
		;;
	esac
done
