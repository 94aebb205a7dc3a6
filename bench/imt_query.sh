#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# imt_query.sh: `pmacct -s` against a memory table of ~1 million entries: time and client/server
# memory, ours side by side with pmacct 1.7.7 on the same capture.  Prints figures, asserts nothing.
#
# usage: bench/imt_query.sh [build-dir] [packets] [flows]
#   defaults: build, 3000000 packets over 1000000 equally popular flows (pcapgen -z 0), which
#   leaves about 950 thousand distinct 5-tuples in the table
set -eu

BUILD=${1:-build}
PKTS=${2:-3000000}
FLOWS=${3:-1000000}
REF_PMACCTD=${REF_PMACCTD:-/usr/sbin/pmacctd}
REF_PMACCT=${REF_PMACCT:-/usr/bin/pmacct}
W=$(mktemp -d /tmp/imt_bench.XXXXXX)
PIDS=""
trap 'for p in $PIDS; do kill -INT "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$W"' EXIT

echo "generating $PKTS packets over $FLOWS flows ..."
"$BUILD/pcapgen" -n "$PKTS" -f "$FLOWS" -s 42 -z 0 --no-frag -o "$W/cap.pcap" -t "$W/tallies.json" >/dev/null

conf() {	# conf <socket>
	cat <<EOF
plugins: memory[m]
aggregate[m]: src_host,dst_host,src_port,dst_port,proto
imt_path[m]: $1
imt_buckets[m]: 1048573
imt_mem_pools_number[m]: 0
pcap_savefile: $W/cap.pcap
pcap_savefile_wait: true
plugin_buffer_size: 1024000
plugin_pipe_size: 1024000000
EOF
}

# Proportional set size (kB) summed over a daemon's processes: pmacct 1.7.7 forks one per plugin
# and shares its plugin_pipe_size ring between them, which RSS would count twice.
pss_kb() {	# pss_kb <pid>
	total=0
	for p in $(pgrep -g "$(ps -o pgid= "$1" | tr -d ' ')" 2>/dev/null || echo "$1"); do
		r=$(awk '$1 == "Pss:" {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
		total=$((total + ${r:-0}))
	done
	echo "$total"
}

run_one() {	# run_one <label> <pmacctd> <pmacct>
	label=$1 daemon=$2 client=$3 sock="$W/$1.pipe"
	conf "$sock" >"$W/$label.conf"
	setsid "$daemon" -f "$W/$label.conf" >"$W/$label.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	# do not query while the capture is read: pmacct 1.7.7's plugins stop taking data then
	while ! grep -q "finished reading PCAP capture file\|reading PCAP capture file: done\|EOF" "$W/$label.log" 2>/dev/null; do
		sleep 0.5
		if ! kill -0 "$pid" 2>/dev/null; then echo "$label: daemon died"; cat "$W/$label.log"; return; fi
		[ -S "$sock" ] && [ "$label" = ours ] && break
	done
	prev=-1
	while :; do	# until the table stops growing
		sleep 1
		n=$("$client" -p "$sock" -s -O csv 2>/dev/null | wc -l)
		[ "$n" = "$prev" ] && break
		prev=$n
	done
	srv=$(pss_kb "$pid")
	/usr/bin/time -f "%e %M" -o "$W/$label.time" "$client" -p "$sock" -s >"$W/$label.out"
	read -r secs cli_kb <"$W/$label.time"
	entries=$(tail -n 1 "$W/$label.out")
	srv_after=$(pss_kb "$pid")
	printf '%-12s %-30s pmacct -s: %6ss  client max RSS %7s kB  server PSS %8s kB (%s kB after the query)\n' \
	    "$label" "$entries" "$secs" "$cli_kb" "$srv" "$srv_after"
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

run_one ours "$BUILD/pmacctd" "$BUILD/pmacct"
if [ -x "$REF_PMACCTD" ] && [ -x "$REF_PMACCT" ]; then
	run_one pmacct-1.7.7 "$REF_PMACCTD" "$REF_PMACCT"
else
	echo "pmacct 1.7.7 not installed: reference figures skipped"
fi
