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
set -eu
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || { echo "usage: $0 BUILD [BUILD ...]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
PACKETS=${PACKETS:-500000}
RECORDS=${RECORDS:-500000}
SAMPLES=${SAMPLES:-500000}
W=$(mktemp -d /tmp/insbench.XXXXXX)
trap 'rm -rf "$W"' EXIT

bench_capture "$PACKETS" 20000 1
NF=$BENCH_DIR/nf-$RECORDS.pcap
SF=$BENCH_DIR/sf-$SAMPLES.pcap
[ -s "$NF" ] || $PY "$ROOT/bench/gen_netflow.py" "$NF" "$RECORDS"
[ -s "$SF" ] || $PY "$ROOT/bench/gen_sflow.py" "$SAMPLES" "$SF"

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
done
