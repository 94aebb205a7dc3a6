#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Throughput and memory of our pmacctd vs. the reference (Debian's pmacct
# 1.7.7) on one generated capture, print plugin, CSV to a file.  Prints
# figures; never asserts timing.  See bench/README.md.
#
#   bench/run.sh                 # 2,000,000 packets, 100,000 flows
#   PACKETS=500000 bench/run.sh  # smaller
# Environment: PMACCTD (ours, default build/pmacctd), REF_PMACCTD (default
# /usr/sbin/pmacctd), PCAPGEN (default build/pcapgen), BENCH_DIR (work dir,
# default /tmp/pmacct-bench), PACKETS, FLOWS, SEED.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
PACKETS=${PACKETS:-2000000}
FLOWS=${FLOWS:-100000}
SEED=${SEED:-1}
bench_capture "$PACKETS" "$FLOWS" "$SEED"

# $1 name, $2 binary, $3 extra config lines
bench_one() {
	local name=$1 bin=$2 extra=$3 dir=$BENCH_DIR/$1
	rm -rf "$dir"; mkdir -p "$dir"
	cat > "$dir/pmacctd.conf" <<EOF
pcap_savefile: $PCAP
plugins: print[p]
aggregate[p]: src_host,dst_host,src_port,dst_port,proto
print_output[p]: csv
print_num_protos[p]: true
print_output_file[p]: $dir/out.csv
print_refresh_time[p]: 3600
$extra
EOF
	# drop the capture into the page cache first so both read it warm
	cat "$PCAP" > /dev/null
	TZ=UTC $MEASURE --json "$dir/figures.json" --log "$dir/pmacctd.log" \
		-- "$bin" -f "$dir/pmacctd.conf" > /dev/null
	$PY - "$dir/figures.json" "$name" "$PACKETS" <<'EOF'
import json, sys
f = json.load(open(sys.argv[1])); name = sys.argv[2]; n = int(sys.argv[3])
print(f"{name:10} rc={f['rc']}  wall {f['wall_s']:.2f} s  cpu {f['cpu_s']:.2f} s "
      f"(wait4 {f['cpu_wait4_s']:.2f}, /proc {f['cpu_proc_sampled_s']:.2f})  "
      f"peak PSS {f['peak_pss_sum_kb'] / 1024:.1f} MiB  peak RSS-sum "
      f"{f['peak_rss_sum_kb'] / 1024:.1f} MiB  procs {f['max_processes']}  "
      f"{n / f['wall_s']:,.0f} pkt/s")
if name == "reference":
    w = f['wall_s'] - 2
    print(f"{'':10} (reference sleeps 2 s before reading: {n / w:,.0f} pkt/s "
          f"over the {w:.2f} s after it)")
EOF
}

echo "capture: $PCAP ($PACKETS packets, $FLOWS flows)"
ran=()
if [ -x "$PMACCTD" ]; then
	bench_one ours "$PMACCTD" ""
	ran+=(ours)
else
	echo "ours:      not built ($PMACCTD); skipped"
fi
if [ -x "$REF_PMACCTD" ]; then
	# without these the reference drops most of a capture this size
	bench_one reference "$REF_PMACCTD" "plugin_buffer_size: 1024000
plugin_pipe_size: 102400000"
	ran+=(reference)
else
	echo "reference: not installed ($REF_PMACCTD); skipped"
fi

for n in "${ran[@]}"; do
	$MEASURE --compare "$BENCH_DIR/$n/out.csv" "$BENCH_DIR/$n/out.csv" \
		--tallies "$TALLIES" --summary "$n"
done
if [ ${#ran[@]} -eq 2 ]; then
	$MEASURE --compare "$BENCH_DIR/ours/out.csv" "$BENCH_DIR/reference/out.csv" \
		--summary identical
fi

# GeoIP: what the six GeoIP primitives cost per packet, ours and 1.7.7 (bench/geoip.sh);
# GEOIP=0 skips it, GEOIP_PACKETS sizes its capture (default 300000)
if [ "${GEOIP:-1}" != 0 ]; then
	echo
	PACKETS=${GEOIP_PACKETS:-300000} "$(dirname "$0")/geoip.sh"
fi

# class: what nDPI classification costs per packet (bench/class.sh); CLASS=0 skips it,
# CLASS_PACKETS sizes its generated capture (default 300000)
if [ "${CLASS:-1}" != 0 ]; then
	echo
	PACKETS=${CLASS_PACKETS:-300000} "$(dirname "$0")/class.sh" || true
fi
