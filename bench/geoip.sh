#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bench/geoip.sh: what the GeoIP v2 primitives cost per packet.  One generated capture
# (PACKETS, default 300000, over 20000 flows) read by pmacctd into a print plugin (CSV) on
# the 5-tuple, then on the 5-tuple plus the six GeoIP primitives (src/dst_host_country,
# _pocode, _coords) from a database written by tests/tools/geoip_mkdb.pl that covers every
# address of the capture (4,900 IPv4 and IPv6 networks, GeoLite2-City layout).  Prints, for
# ours: user-space instructions per packet (valgrind callgrind, steady whatever the machine's
# load) and CPU nanoseconds per packet (least of RUNS runs); for Debian's pmacct 1.7.7: CPU
# nanoseconds per packet over the same two configs.  Asserts nothing.
#
#   bench/geoip.sh                 PACKETS=100000 RUNS=3 bench/geoip.sh
set -eu
. "$(dirname "$0")/lib.sh"
PACKETS=${PACKETS:-300000}
RUNS=${RUNS:-3}
W=$(mktemp -d /tmp/geobench.XXXXXX)
trap 'rm -rf "$W"' EXIT

bench_capture "$PACKETS" 20000 1
DB=$BENCH_DIR/geoip-bench.mmdb
if [ ! -s "$DB" ]; then
	echo "writing $DB ..." >&2
	# the address pools of tests/tools/pcapgen.c, cut into networks of their own
	$PY - <<'EOF' | perl "$ROOT/tests/tools/geoip_mkdb.pl" "$DB"
import string
cc = [a + b for a in string.ascii_uppercase for b in string.ascii_uppercase]
nets = [f"10.{i >> 4}.{(i & 15) << 4}.0/20" for i in range(4096)]
nets += [f"172.{16 + (i >> 4)}.{(i & 15) << 4}.0/20" for i in range(256)]
nets += [f"192.168.{i}.0/24" for i in range(256)]
nets += [f"198.{18 + (i >> 6)}.{(i & 63) << 2}.0/22" for i in range(128)]
nets += ["203.0.113.0/24"]
nets += [f"2001:db8:{i:x}000::/36" for i in range(16)]
for i, n in enumerate(nets):
    print(n, cc[i % len(cc)], f"{10000 + i}", f"{-60 + (i % 1200) / 10:.4f}",
          f"{-170 + (i % 3400) / 10:.4f}")
EOF
fi

AGG5=src_host,dst_host,src_port,dst_port,proto
GEO=src_host_country,dst_host_country,src_host_pocode,dst_host_pocode,src_host_coords,dst_host_coords
# conf <name> <aggregate> [extra lines]
conf() {
	printf 'pcap_savefile: %s\ngeoipv2_file: %s\nplugins: print[p]\naggregate[p]: %s\nprint_output[p]: csv\nprint_output_file[p]: %s\nprint_refresh_time[p]: 3600\nprint_cache_entries[p]: 65536\n%s' \
	    "$PCAP" "$DB" "$2" "$W/$1.out" "${3:-}" > "$W/$1.conf"
}
conf plain "$AGG5"
conf geo "$AGG5,$GEO"
# the reference drops most of a capture without these
BIG='plugin_buffer_size: 1024000
plugin_pipe_size: 102400000
'
conf ref_plain "$AGG5" "$BIG"
conf ref_geo "$AGG5,$GEO" "$BIG"

per() { awk -v n="$1" -v u="$PACKETS" -v k="$2" 'BEGIN { printf "%.0f", n * k / u }'; }

echo "capture: $PCAP ($PACKETS packets); database: $DB"
printf '%-10s %-30s %14s %14s\n' daemon workload instr/packet cpu_ns/packet
for w in plain geo; do
	label="5-tuple"
	[ "$w" = geo ] && label="5-tuple + 6 GeoIP primitives"
	n=$(bench_ir "$PMACCTD" -f "$W/$w.conf")
	c=$(bench_cpu "$W/time" "$PMACCTD" -f "$W/$w.conf" | cut -d' ' -f1)
	printf '%-10s %-30s %14s %14s\n' ours "$label" "$(per "$n" 1)" "$(per "$c" 1000000000)"
done
if [ -x "$REF_PMACCTD" ]; then
	for w in plain geo; do
		label="5-tuple"
		[ "$w" = geo ] && label="5-tuple + 6 GeoIP primitives"
		c=$(bench_cpu "$W/time" "$REF_PMACCTD" -f "$W/ref_$w.conf" | cut -d' ' -f1)
		printf '%-10s %-30s %14s %14s\n' "1.7.7" "$label" - "$(per "$c" 1000000000)"
	done
fi
