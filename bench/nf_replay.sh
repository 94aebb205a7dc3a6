#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# nf_replay.sh: nanoseconds of CPU per NetFlow record on a softflowd export replayed many times,
# read with -I: ours side by side with Debian's nfacctd 1.7.7 on the same file.
#
#   bench/nf_replay.sh [build-dir]        environment: REPEAT (4000), FLOWS (4353), RUNS (3)
#
# A pcapgen capture (20000 packets over FLOWS uniform IPv4 flows) is exported by softflowd as
# NetFlow v9 (bench/softflowd_export.py: its templates 1024/1025, its options record naming
# interface 0); the datagrams are written REPEAT times into one pcap (about 17.7M records at the
# defaults).  Each daemon aggregates the 5-tuple into a print plugin (CSV); printed per daemon:
# CPU-s (user + sys, least and median of RUNS, /usr/bin/time, children included), ns per record
# (CPU-s / records, the records counted from the export's templates and set lengths, not by a
# collector), the CSV's rows and the sum of its PACKETS, against the packets the export's
# records carry.  1.7.7 gets plugin_buffer_size 1024000 and plugin_pipe_size 102400000 (with
# its defaults it drops more records between its processes).
set -eu
. "$(dirname "$0")/lib.sh"
BUILD=${1:-build}
REPEAT=${REPEAT:-4000}
FLOWS=${FLOWS:-4353}
RUNS=${RUNS:-3}
OURS=${NFACCTD:-$BUILD/nfacctd}
REF=${REF_NFACCTD:-/usr/sbin/nfacctd}
command -v softflowd >/dev/null 2>&1 || [ -x /usr/sbin/softflowd ] ||
    { echo "softflowd is needed (apt-get install softflowd)" >&2; exit 1; }
bench_pcapgen
SRC=$BENCH_DIR/sfd-src-$FLOWS.pcap
REP=$BENCH_DIR/sfd-v9-$FLOWS-x$REPEAT.pcap
[ -s "$SRC" ] || "$PCAPGEN" -n 20000 -f "$FLOWS" -z 0 -s 1 --v4-only --no-frag -o "$SRC" -t "$SRC.json" >/dev/null
if [ ! -s "$REP" ] || ! grep -q packets "$REP.json" 2>/dev/null; then
	$PY "$ROOT/bench/softflowd_export.py" "$SRC" "$REP" --repeat "$REPEAT" --stats "$REP.json" >/dev/null
fi
RECORDS=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$REP.json")
PACKETS=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["packets"])' "$REP.json")
W=$(mktemp -d /tmp/nfreplay.XXXXXX)
trap 'rm -rf "$W"' EXIT

conf() {
	cat > "$W/$1.conf" <<CONF
plugins: print[p]
aggregate[p]: src_host,dst_host,src_port,dst_port,proto
print_output[p]: csv
print_output_file[p]: $W/$1.csv
print_refresh_time[p]: 3600
CONF
	[ "$1" != ref ] || printf 'plugin_buffer_size: 1024000\nplugin_pipe_size: 102400000\n' >> "$W/$1.conf"
}

ns() { awk -v c="$1" -v n="$RECORDS" 'BEGIN { printf "%.1f", c * 1e9 / n }'; }
# the sum of PACKETS in a CSV (column 6 of the 5-tuple rows)
pk() { awk -F, 'NR > 1 { s += $6 } END { printf "%d", s }' "$1"; }
row() {	# name, csv, min, median
	printf '%-16s %8s %8s %9s %9s %6s %10s\n' "$1" "$3" "$4" "$(ns "$3")" "$(ns "$4")" \
	    "$(($(wc -l < "$2") - 1))" "$(pk "$2")"
}

printf '%s records (%s copies of a softflowd v9 export), %s packets in them; %s runs each\n' \
    "$RECORDS" "$REPEAT" "$PACKETS" "$RUNS"
echo "uptime: $(uptime)"
printf '%-16s %8s %8s %9s %9s %6s %10s\n' daemon cpu_min cpu_med ns_min ns_med rows packets
conf ours
# shellcheck disable=SC2046  # bench_cpu prints "least median": two arguments
row ours "$W/ours.csv" $(bench_cpu "$W/time" "$OURS" -f "$W/ours.conf" -I "$REP")
if [ -x "$REF" ]; then
	conf ref
	# shellcheck disable=SC2046
	row "nfacctd 1.7.7" "$W/ref.csv" $(bench_cpu "$W/time" "$REF" -f "$W/ref.conf" -I "$REP")
fi
echo "uptime: $(uptime)"
