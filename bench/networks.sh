#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# networks.sh: pmacctd with a 500k-prefix networks_file, aggregate src_net,dst_net,src_as,dst_as
# on the 2M-packet capture, ours vs. the reference; then the LPM micro-benchmark.  Prints figures only.
#
#   meson setup build && ninja -C build && bench/networks.sh
#   PREFIXES=100000 PACKETS=500000 bench/networks.sh     # smaller
set -euo pipefail

. "$(dirname "$0")/lib.sh"
PACKETS=${PACKETS:-2000000}
FLOWS=${FLOWS:-100000}
PREFIXES=${PREFIXES:-500000}
bench_capture "$PACKETS" "$FLOWS" 1

# 90% IPv4 (60% /24, the rest /8../23), 10% IPv6 (/32../64), random ASNs;
# the capture's own addresses are covered by some of them.  No duplicates:
# pmacct 1.7.7 corrupts its table on duplicate prefixes.
NETS=$BENCH_DIR/networks-$PREFIXES.txt
[ -s "$NETS" ] || $PY - "$PREFIXES" "$NETS" <<'EOF'
import ipaddress, random, sys
n, out = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(7)
seen = set()
with open(out, "w") as f:
    while len(seen) < n:
        if rnd.random() < 0.9:
            ln = 24 if rnd.random() < 0.6 else rnd.randint(8, 23)
            a = rnd.getrandbits(32) if rnd.random() < 0.8 else (10 << 24) | rnd.getrandbits(24)
            net = ipaddress.IPv4Network((a >> (32 - ln) << (32 - ln), ln))
        else:
            ln = rnd.randint(32, 64)
            a = (0x2001 << 112) | rnd.getrandbits(112) if rnd.random() < 0.5 else rnd.getrandbits(128)
            net = ipaddress.IPv6Network((a >> (128 - ln) << (128 - ln), ln))
        if net in seen:
            continue
        seen.add(net)
        f.write(f"{rnd.randint(1, 400000)},{net}\n")
EOF

bench_one() {
	local name=$1 bin=$2 extra=$3 dir=$BENCH_DIR/networks-$1
	rm -rf "$dir"; mkdir -p "$dir"
	cat > "$dir/pmacctd.conf" <<EOF
pcap_savefile: $PCAP
plugins: print[p]
aggregate[p]: src_net,dst_net,src_as,dst_as
pmacctd_as: file
networks_file[p]: $NETS
print_output[p]: csv
print_output_file[p]: $dir/out.csv
print_refresh_time[p]: 3600
$extra
EOF
	cat "$PCAP" "$NETS" > /dev/null
	TZ=UTC $MEASURE --json "$dir/figures.json" --log "$dir/pmacctd.log" \
		-- "$bin" -f "$dir/pmacctd.conf" > /dev/null
	$PY - "$dir/figures.json" "$name" "$PACKETS" "$dir/out.csv" <<'EOF'
import json, sys
f = json.load(open(sys.argv[1])); name = sys.argv[2]; n = int(sys.argv[3])
rows = sum(1 for _ in open(sys.argv[4])) - 1
print(f"{name:10} rc={f['rc']}  wall {f['wall_s']:.2f} s  cpu {f['cpu_s']:.2f} s  "
      f"peak RSS-sum {f['peak_rss_sum_kb'] / 1024:.1f} MiB  peak PSS {f['peak_pss_sum_kb'] / 1024:.1f} MiB  "
      f"{n / f['wall_s']:,.0f} pkt/s  ({rows} rows)")
if name == "reference":
    w = f['wall_s'] - 2
    print(f"{'':10} (after its 2 s start-up sleep: {n / w:,.0f} pkt/s)")
EOF
}

echo "capture: $PCAP ($PACKETS packets); networks_file: $NETS ($PREFIXES prefixes)"
[ -x "$PMACCTD" ] && bench_one ours "$PMACCTD" ""
[ -x "$REF_PMACCTD" ] && bench_one reference "$REF_PMACCTD" "plugin_buffer_size: 1024000
plugin_pipe_size: 102400000"

echo "LPM micro-benchmark (bench/lpm_bench.c, 1M prefixes per family):"
cc -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT/src" -o "$BENCH_DIR/lpm_bench" "$ROOT/bench/lpm_bench.c" \
	"$ROOT/src/maps/lpm.c" "$ROOT/src/lib/xalloc.c"
"$BENCH_DIR/lpm_bench" 1000000
