#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bench/instructions.sh: user-space instructions (valgrind callgrind's Ir, the whole process, every
# thread) of pmacctd, nfacctd and sfacctd on fixed generated inputs, for one or more build
# directories side by side.  Instruction counts do not move with the machine's load, so two
# trees can be compared on a busy or virtual machine where CPU seconds vary by 20%.
#
#   bench/instructions.sh BUILD [BUILD ...]        e.g. bench/instructions.sh /tmp/old-build build
#
# Inputs (generated once into BENCH_DIR, seeded): a pmacctd capture of PACKETS (default 500000)
# over 20000 flows read into a print plugin on the 5-tuple (CSV); RECORDS (default 500000)
# NetFlow v9/IPFIX records (bench/gen_netflow.py) aggregated on the 5-tuple and the exporter,
# then on the exporter alone (the decoder's cost); SAMPLES (default 500000) sFlow samples
# (bench/gen_sflow.py) on the 5-tuple and agent (JSON).  Prints figures, asserts nothing.
# The class primitive (nDPI) on the same capture, and on APPS (default 2000) copies of the
# application connections of tests/e2e/app_captures.py (DNS, TLS, HTTP, QUIC, SSH, BitTorrent;
# 19 packets each): the difference with the 5-tuple workload is nDPI's cost per packet.  A build
# whose pmacctd has no `class` skips those lines.
set -eu
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || { echo "usage: $0 BUILD [BUILD ...]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
PACKETS=${PACKETS:-500000}
RECORDS=${RECORDS:-500000}
SAMPLES=${SAMPLES:-500000}
APPS=${APPS:-2000}
W=$(mktemp -d /tmp/insbench.XXXXXX)
trap 'rm -rf "$W"' EXIT

bench_capture "$PACKETS" 20000 1
NF=$BENCH_DIR/nf-$RECORDS.pcap
SF=$BENCH_DIR/sf-$SAMPLES.pcap
[ -s "$NF" ] || $PY "$ROOT/bench/gen_netflow.py" "$NF" "$RECORDS"
[ -s "$SF" ] || $PY "$ROOT/bench/gen_sflow.py" "$SAMPLES" "$SF"
AP=$BENCH_DIR/apps-$APPS.pcap
[ -s "$AP" ] || PYTHONPATH="$ROOT/tests/e2e" $PY -c \
    "import app_captures as a, sys; a.write(sys.argv[1], copies=int(sys.argv[2]))" "$AP" "$APPS"
AP_PACKETS=$(( APPS * 19 ))

# print <name> <aggregate> <output> [more config lines]: a one-plugin config into $W/<name>.conf
# (a cache of 65536 buckets: a ceiling of 720,895 entries, so that no workload purges early --
# nfacctd's has 200,000 keys -- and trees from before the ceiling count the same work)
print_conf() {
	printf 'plugins: print[p]\naggregate[p]: %s\nprint_output[p]: %s\nprint_output_file[p]: %s\nprint_refresh_time[p]: 3600\nprint_cache_entries[p]: 65536\n%s' \
	    "$2" "$3" "$W/$1.out" "${4:-}" > "$W/$1.conf"
}
print_conf pm "src_host,dst_host,src_port,dst_port,proto" csv "pcap_savefile: $PCAP
"
print_conf nf "src_host,dst_host,src_port,dst_port,proto,peer_src_ip" csv
print_conf nfpeer "peer_src_ip" csv
print_conf sf "peer_src_ip,src_host,dst_host,src_port,dst_port,proto" json "pcap_savefile: $SF
"
print_conf pmclass "src_host,dst_host,src_port,dst_port,proto,class" csv "pcap_savefile: $PCAP
"
print_conf ap "src_host,dst_host,src_port,dst_port,proto" csv "pcap_savefile: $AP
"
print_conf apclass "src_host,dst_host,src_port,dst_port,proto,class" csv "pcap_savefile: $AP
"

# ir <command...>: the Ir callgrind collected
ir() {
	valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" "$@" >/dev/null 2>"$W/vg.txt" || true
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$W/vg.txt"
}

printf 'per_unit: instructions per packet, record or sample\n'
printf '%-40s %-28s %16s %12s\n' build workload instructions per_unit
for b in "$@"; do
	for w in "pmacctd 5-tuple CSV:$PACKETS:pmacctd -f $W/pm.conf" \
	    "nfacctd 5-tuple+exporter:$RECORDS:nfacctd -f $W/nf.conf -I $NF" \
	    "nfacctd exporter only:$RECORDS:nfacctd -f $W/nfpeer.conf -I $NF" \
	    "sfacctd 5-tuple+agent JSON:$SAMPLES:sfacctd -f $W/sf.conf"; do
		name=${w%%:*}
		rest=${w#*:}
		units=${rest%%:*}
		cmd=${rest#*:}
		n=$(ir "$b/"$cmd)
		printf '%-40s %-28s %16s %12s\n' "$b" "$name" "$n" \
		    "$(awk -v n="$n" -v u="$units" 'BEGIN { printf "%.0f", n / u }')"
	done
	# class (nDPI): with and without it, on the generated capture and on real applications
	"$b/pmacctd" -f "$W/pmclass.conf" -T config >/dev/null 2>&1 || continue
	base=$(ir "$b/pmacctd" -f "$W/pm.conf")
	for w in "pmacctd 5-tuple+class CSV:$PACKETS:pmclass:$base" \
	    "apps 5-tuple CSV:$AP_PACKETS:ap:" "apps 5-tuple+class CSV:$AP_PACKETS:apclass:"; do
		name=${w%%:*}; rest=${w#*:}; units=${rest%%:*}; rest=${rest#*:}
		conf=${rest%%:*}; ref=${rest#*:}
		n=$(ir "$b/pmacctd" -f "$W/$conf.conf")
		printf '%-40s %-28s %16s %12s\n' "$b" "$name" "$n" \
		    "$(awk -v n="$n" -v u="$units" 'BEGIN { printf "%.0f", n / u }')"
		[ "$conf" = ap ] && ref_ap=$n
		[ "$conf" = apclass ] && ref=$ref_ap
		[ -n "$ref" ] && printf '%-40s %-28s %16s %12s\n' "$b" "  nDPI cost (difference)" \
		    "$((n - ref))" "$(awk -v n="$((n - ref))" -v u="$units" 'BEGIN { printf "%.0f", n / u }')"
	done
done
