#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# nfacctd.sh: CPU seconds per million NetFlow records reading a capture with -I, ours side by
# side with Debian's nfacctd 1.7.7 (and nfdump's nfcapd when installable) on the same file.
#
#   bench/nfacctd.sh [build-dir] [records]      (defaults: build, 2000000)
#
# The capture holds NetFlow v9 and IPFIX datagrams of 24 records each from 4 exporters
# (each exporter's first datagram and every 20th after carry its template, so every record
# decodes; flows drawn from 50000 distinct 5-tuples), made by an inline generator.
# Ours runs with its default plugin buffers; nfacctd 1.7.7 gets plugin_buffer_size 1024000
# and plugin_pipe_size 102400000 (with its defaults it drops records between its processes).
set -eu
. "$(dirname "$0")/lib.sh"
BUILD=${1:-build}
RECORDS=${2:-2000000}
OURS=${NFACCTD:-$BUILD/nfacctd}
REF=${REF_NFACCTD:-/usr/sbin/nfacctd}
W=$(mktemp -d /tmp/nfbench.XXXXXX)
trap 'rm -rf "$W"' EXIT

$PY "$ROOT/bench/gen_netflow.py" "$W/nf.pcap" "$RECORDS"

# the capture on disk before measuring: its writeback would otherwise overlap the first run
sync "$W/nf.pcap"

conf() {
	cat > "$W/$1.conf" <<CONF
plugins: print[p]
aggregate[p]: src_host,dst_host,src_port,dst_port,proto,peer_src_ip
print_output[p]: csv
print_output_file[p]: $W/$1.csv
print_refresh_time[p]: 3600
CONF
	if [ "$1" = ref ]; then
		printf 'plugin_buffer_size: 1024000\nplugin_pipe_size: 102400000\n' >> "$W/$1.conf"
	fi
}

# CPU seconds (user + sys) of one command: the least and the median of $RUNS runs (default 5)
RUNS=${RUNS:-5}
cpu() { bench_cpu "$W/time" "$@"; }

per_m() { awk -v c="$1" -v n="$RECORDS" 'BEGIN { printf "%.3f", c * 1000000 / n }'; }

row() {	# name, csv, min, median
	printf '%-28s %8s %8s %11s %11s %8s\n' "$1" "$3" "$4" "$(per_m "$3")" "$(per_m "$4")" \
	    "$(($(wc -l < "$2") - 1))"
}

printf 'CPU-s of %s runs each\n' "$RUNS"
printf '%-28s %8s %8s %11s %11s %8s\n' daemon cpu_min cpu_med per_1M_min per_1M_med rows
conf ours
row ours "$W/ours.csv" $(cpu "$OURS" -f "$W/ours.conf" -I "$W/nf.pcap")
# the same with a print cache sized for the 200000 keys, and aggregating on the exporter
# only: what the decoder and collector cost by themselves
echo "print_cache_entries[p]: 262139" >> "$W/ours.conf"
row "ours, print_cache_entries" "$W/ours.csv" $(cpu "$OURS" -f "$W/ours.conf" -I "$W/nf.pcap")
sed -i 's/^aggregate\[p\]:.*/aggregate[p]: peer_src_ip/' "$W/ours.conf"
row "ours, peer_src_ip only" "$W/ours.csv" $(cpu "$OURS" -f "$W/ours.conf" -I "$W/nf.pcap")
if [ -x "$REF" ]; then
	conf ref
	RUNS=$(( RUNS > 3 ? 3 : RUNS ))
	row "nfacctd 1.7.7" "$W/ref.csv" $(cpu "$REF" -f "$W/ref.conf" -I "$W/nf.pcap")
fi
if command -v nfcapd >/dev/null 2>&1 || { apt-cache policy nfdump 2>/dev/null | grep -q 'Candidate: [0-9]' && apt-get install -y -qq nfdump >/dev/null 2>&1; }; then
	if command -v nfcapd >/dev/null 2>&1; then
		echo "nfcapd: reads only live UDP (no capture input); not measured here"
	fi
fi
