#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# NetFlow/IPFIX probes side by side on one generated capture: our pmacctd +
# nfprobe, Debian's pmacctd 1.7.7 + nfprobe, softflowd (-r) and nfdump's
# nfpcapd (-r).  The three exporters send IPFIX to nfdump's nfcapd on
# loopback; nfpcapd writes its flow files itself.  For each: wall seconds,
# CPU seconds, packets per second, and the packets and bytes the receiver
# stored against the capture's (every packet must be exported).  Prints
# figures; never asserts timing.  See bench/README.md.
#
#   bench/nfprobe.sh                 # 2,000,000 packets, 100,000 flows
#   PACKETS=500000 bench/nfprobe.sh  # smaller
# Environment: PMACCTD (ours, default build/pmacctd), REF_PMACCTD (default
# /usr/sbin/pmacctd), PCAPGEN (default build/pcapgen), BENCH_DIR (work dir,
# default /tmp/pmacct-bench), PACKETS, FLOWS, SEED, PORT (nfcapd's, 29900),
# MAXFLOWS (flow cache of every probe, default 8192 as all of them), TOOLS (default
# "ours reference softflowd nfpcapd").
set -euo pipefail

. "$(dirname "$0")/lib.sh"
PACKETS=${PACKETS:-2000000}
FLOWS=${FLOWS:-100000}
SEED=${SEED:-1}
PORT=${PORT:-29900}
MAXFLOWS=${MAXFLOWS:-8192}
TOOLS=" ${TOOLS:-ours reference softflowd nfpcapd} "
bench_capture "$PACKETS" "$FLOWS" "$SEED"
read -r WANT_PK WANT_BY < <($PY -c "import json,sys; t=json.load(open(sys.argv[1])); \
print(t['packets'], t['bytes'])" "$TALLIES")

# Packets and bytes in the nfdump flow files under $1.
stored() {
	nfdump -R "$1" -q -o csv 2>/dev/null | awk -F, 'NF > 12 && $12 ~ /^[0-9]+$/ \
		{ p += $12; b += $13; n++ } END { printf "%d %d %d\n", p, b, n }'
}

# $1 name, $2 flow directory, $3 figures.json, $4 seconds the tool sleeps before reading
report() {
	local name=$1 dir=$2 fig=$3 nap=$4 pk by n
	read -r pk by n < <(stored "$dir")
	$PY - "$fig" "$name" "$PACKETS" "$nap" "$pk" "$by" "$n" "$WANT_PK" "$WANT_BY" <<'EOF'
import json, sys
f = json.load(open(sys.argv[1])); name = sys.argv[2]; n = int(sys.argv[3]); nap = float(sys.argv[4])
pk, by, flows, want_pk, want_by = map(int, sys.argv[5:10])
wall = f['wall_s'] - nap
ok = "all exported" if (pk, by) == (want_pk, want_by) else f"MISSING {want_pk - pk} packets"
print(f"{name:10} rc={f['rc']}  wall {wall:.2f} s  cpu {f['cpu_s']:.2f} s  "
      f"peak RSS-sum {f['peak_rss_sum_kb'] / 1024:.1f} MiB  {n / wall:,.0f} pkt/s  "
      f"({n / f['cpu_s']:,.0f} pkt per CPU-second)  "
      f"receiver: {flows} flows, {pk} packets, {by} bytes ({ok})"
      + (f"  [{nap:.0f} s start-up sleep not counted]" if nap else ""))
EOF
}

# $1 name, $2.. the exporter command; IPFIX to a fresh nfcapd on $PORT
via_nfcapd() {
	local name=$1 dir=$BENCH_DIR/nfprobe-$1; shift
	rm -rf "$dir"; mkdir -p "$dir/flows"
	nfcapd -l "$dir/flows" -p "$PORT" -b 127.0.0.1 -B 4000000 > "$dir/nfcapd.log" 2>&1 &
	local cap=$!
	sleep 0.5
	if ! kill -0 "$cap" 2> /dev/null; then
		echo "$name: nfcapd did not start on port $PORT: $(tail -1 "$dir/nfcapd.log")" >&2
		exit 1
	fi
	cat "$PCAP" > /dev/null
	TZ=UTC $MEASURE --json "$dir/figures.json" --log "$dir/run.log" -- "$@" > /dev/null 2>&1 || true
	sleep 1
	kill -TERM "$cap"; wait "$cap" || true
	report "$name" "$dir/flows" "$dir/figures.json" "${NAP:-0}"
}

probe_conf() {
	cat > "$1" <<EOF
pcap_savefile: $PCAP
plugins: nfprobe[n]
nfprobe_receiver[n]: 127.0.0.1:$PORT
nfprobe_version[n]: 10
nfprobe_maxflows[n]: $MAXFLOWS
$2
EOF
}

echo "capture: $PCAP ($PACKETS packets, $WANT_PK packets / $WANT_BY IP bytes in the tallies)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (wall figures suffer on a busy machine; CPU figures less)"
if [[ $TOOLS != *" ours "* ]]; then
	:
elif [ -x "$PMACCTD" ]; then
	probe_conf "$BENCH_DIR/nfprobe-ours.conf" ""
	via_nfcapd ours "$PMACCTD" -f "$BENCH_DIR/nfprobe-ours.conf"
else
	echo "ours:      not built ($PMACCTD); skipped"
fi
if [[ $TOOLS != *" reference "* ]]; then
	:
elif [ -x "$REF_PMACCTD" ]; then
	# lossless buffers for 1.7.7 (its core does not wait for the plugins); it sleeps 2 s first
	probe_conf "$BENCH_DIR/nfprobe-ref.conf" \
		"plugin_buffer_size: 1024000
plugin_pipe_size: 102400000"
	NAP=2 via_nfcapd reference "$REF_PMACCTD" -f "$BENCH_DIR/nfprobe-ref.conf"
else
	echo "reference: $REF_PMACCTD missing; skipped"
fi
# softflowd 1.1.0 -r does not read on its own: its loop blocks in accept() on the control
# socket between batches of packets, and it does not exit at the end of the file.  So a
# client keeps asking it for statistics until it has read the whole capture (its time runs
# from the start to that moment, its CPU comes from /proc), then `shutdown` makes it export
# every flow and exit.
softflowd_run() {
	$PY - "$@" <<'EOF'
import json, os, socket, subprocess, sys, time
fig, pcap, ctl, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
size = os.path.getsize(pcap)
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
def pos():
    for fd in os.listdir(f"/proc/{p.pid}/fd"):
        try:
            if os.readlink(f"/proc/{p.pid}/fd/{fd}") == os.path.realpath(pcap):
                for line in open(f"/proc/{p.pid}/fdinfo/{fd}"):
                    if line.startswith("pos:"):
                        return int(line.split()[1])
        except OSError:
            pass
    return 0
def ask(cmd):
    s = socket.socket(socket.AF_UNIX)
    s.connect(ctl)
    s.sendall(cmd)
    while s.recv(65536):
        pass
    s.close()
time.sleep(0.05)
while pos() < size and p.poll() is None:
    try:
        ask(b"statistics\n")
    except OSError:
        time.sleep(0.001)
wall = time.monotonic() - t0
st = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
cpu = (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
rss = int(open(f"/proc/{p.pid}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
try:
    ask(b"shutdown\n")
except OSError:
    pass
while p.poll() is None:     # it exports on its way out, again between accept()s
    try:
        ask(b"statistics\n")
    except OSError:
        time.sleep(0.01)
rc = p.wait()
json.dump({"rc": rc, "wall_s": wall, "cpu_s": cpu, "peak_rss_sum_kb": rss}, open(fig, "w"))
EOF
}
if [[ $TOOLS != *" softflowd "* ]]; then
	:
elif command -v softflowd > /dev/null && command -v softflowctl > /dev/null; then
	dir=$BENCH_DIR/nfprobe-softflowd
	rm -rf "$dir"; mkdir -p "$dir/flows"
	nfcapd -l "$dir/flows" -p "$PORT" -b 127.0.0.1 -B 4000000 > "$dir/nfcapd.log" 2>&1 &
	cap=$!
	sleep 0.5
	if ! kill -0 "$cap" 2> /dev/null; then
		echo "softflowd: nfcapd did not start on port $PORT: $(tail -1 "$dir/nfcapd.log")" >&2
		exit 1
	fi
	cat "$PCAP" > /dev/null
	softflowd_run "$dir/figures.json" "$PCAP" "$BENCH_DIR/softflowd.ctl" softflowd -d \
		-r "$PCAP" -n "127.0.0.1:$PORT" -v 10 -6 -m "$MAXFLOWS" \
		-p "$BENCH_DIR/softflowd.pid" -c "$BENCH_DIR/softflowd.ctl"
	sleep 1
	kill -TERM "$cap"; wait "$cap" || true
	report softflowd "$dir/flows" "$dir/figures.json" 0
else
	echo "softflowd: not installed (apt-get install softflowd); skipped"
fi
if [[ $TOOLS != *" nfpcapd "* ]]; then
	:
elif command -v nfpcapd > /dev/null; then
	dir=$BENCH_DIR/nfprobe-nfpcapd
	rm -rf "$dir"; mkdir -p "$dir/flows"
	cat "$PCAP" > /dev/null
	TZ=UTC $MEASURE --json "$dir/figures.json" --log "$dir/run.log" -- \
		nfpcapd -r "$PCAP" -w "$dir/flows" > /dev/null 2>&1 || true
	report nfpcapd "$dir/flows" "$dir/figures.json" 0
else
	echo "nfpcapd: not installed (apt-get install nfdump); skipped"
fi
