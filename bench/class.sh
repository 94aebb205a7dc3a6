#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bench/class.sh: what the class primitive (nDPI classification in pmacctd) costs per packet.
# Two captures, each read by our pmacctd into a print plugin (CSV) on the 5-tuple, then on the
# 5-tuple plus `class`: a pcapgen capture of PACKETS (default 300000) over 20000 flows (frames cut
# at 128 bytes, as pmacctd's default snaplen sees them), and APPS (default 2000) copies of the
# application connections of tests/e2e/app_captures.py (DNS, TLS with SNI, HTTP, QUIC, SSH,
# BitTorrent; 19 packets a copy, each copy new connections, so nearly every packet is one nDPI
# inspects).  Prints user-space instructions per packet (valgrind callgrind: steady whatever the
# machine's load) and CPU nanoseconds per packet (least of RUNS runs), and the difference: nDPI's
# cost.  Debian's pmacct 1.7.7 is built without nDPI (`pmacctd -V`), so it has no line here.
# Asserts nothing.
#
#   bench/class.sh                 PACKETS=100000 APPS=1000 RUNS=3 bench/class.sh
set -eu
. "$(dirname "$0")/lib.sh"
PACKETS=${PACKETS:-300000}
APPS=${APPS:-2000}
RUNS=${RUNS:-3}
W=$(mktemp -d /tmp/classbench.XXXXXX)
trap 'rm -rf "$W"' EXIT

bench_capture "$PACKETS" 20000 1
AP=$BENCH_DIR/apps-$APPS.pcap
[ -s "$AP" ] || PYTHONPATH="$ROOT/tests/e2e" $PY -c \
    "import app_captures as a, sys; a.write(sys.argv[1], copies=int(sys.argv[2]))" "$AP" "$APPS"
AP_PACKETS=$(( APPS * 19 ))

AGG5=src_host,dst_host,src_port,dst_port,proto
# conf <name> <capture> <aggregate>
conf() {
	printf 'pcap_savefile: %s\nplugins: print[p]\naggregate[p]: %s\nprint_output[p]: csv\nprint_output_file[p]: %s\nprint_refresh_time[p]: 3600\nprint_cache_entries[p]: 65536\n' \
	    "$2" "$3" "$W/$1.out" > "$W/$1.conf"
}
conf gen "$PCAP" "$AGG5"
conf gen_class "$PCAP" "$AGG5,class"
conf apps "$AP" "$AGG5"
conf apps_class "$AP" "$AGG5,class"
if ! "$PMACCTD" -f "$W/gen_class.conf" -T config >/dev/null 2>&1; then
	echo "$PMACCTD takes no class primitive (built without nDPI): nothing to measure" >&2
	exit 1
fi

per() { awk -v n="$1" -v u="$2" -v k="$3" 'BEGIN { printf "%.0f", n * k / u }'; }

echo "captures: $PCAP ($PACKETS packets), $AP ($AP_PACKETS packets)"
printf '%-10s %-34s %14s %14s\n' daemon workload instr/packet cpu_ns/packet
for cap in gen apps; do
	n=$PACKETS
	[ "$cap" = apps ] && n=$AP_PACKETS
	i0=$(bench_ir "$PMACCTD" -f "$W/$cap.conf")
	c0=$(bench_cpu "$W/time" "$PMACCTD" -f "$W/$cap.conf" | cut -d' ' -f1)
	i1=$(bench_ir "$PMACCTD" -f "$W/${cap}_class.conf")
	c1=$(bench_cpu "$W/time" "$PMACCTD" -f "$W/${cap}_class.conf" | cut -d' ' -f1)
	name="generated"
	[ "$cap" = apps ] && name="applications"
	printf '%-10s %-34s %14s %14s\n' ours "$name, 5-tuple" "$(per "$i0" "$n" 1)" \
	    "$(per "$c0" "$n" 1000000000)"
	printf '%-10s %-34s %14s %14s\n' ours "$name, 5-tuple + class" "$(per "$i1" "$n" 1)" \
	    "$(per "$c1" "$n" 1000000000)"
	printf '%-10s %-34s %14s %14s\n' "" "  nDPI's cost (difference)" \
	    "$(per "$((i1 - i0))" "$n" 1)" "$(awk -v a="$c1" -v b="$c0" -v n="$n" \
	    'BEGIN { printf "%.0f", (a - b) * 1e9 / n }')"
done
