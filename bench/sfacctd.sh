#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bench/sfacctd.sh: CPU seconds per million sFlow samples read with -I, ours vs sfacctd 1.7.7
# (and nfdump's sfcapd when it can be installed).
#
#   bench/sfacctd.sh [samples]        default 2000000 samples, 8 per datagram
#
# The capture is synthesized (sFlow v5 flow samples with raw Ethernet/IPv4/
# IPv6 TCP/UDP headers, 4096 distinct flows, two agents) so the run needs
# nothing but python3.  Both daemons aggregate the same 5-tuple + agent and
# write JSON; CPU time is user+sys of the whole process.
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-2000000}

OURS=${SFACCTD:-$ROOT/build/sfacctd}
REF=${REF_SFACCTD:-/usr/sbin/sfacctd}
T=$(mktemp -d /tmp/sfbench.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$T"' EXIT

/usr/bin/python3 - "$N" "$T/sflow.pcap" <<'PY'
import random, socket, struct, sys
n, out = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(1)
def u32(*v): return b"".join(struct.pack(">I", x & 0xffffffff) for x in v)
def frame(i):
    v6 = i % 4 == 0
    proto = 6 if i % 3 else 17
    sp, dp = 1024 + i % 5000, (80, 443, 53, 22)[i % 4]
    l4 = struct.pack(">HHIIBBHHH", sp, dp, 1, 0, 0x50, 0x18, 1000, 0, 0) if proto == 6 else struct.pack(">HHHH", sp, dp, 500, 0)
    if v6:
        ip = struct.pack(">IHBB", 0x60000000, len(l4) + 400, proto, 64) + bytes([0x20, 1, 0xd, 0xb8] + [0] * 10 + [i >> 8 & 255, i & 255]) + bytes([0x20, 1, 0xd, 0xb8] + [1] * 10 + [i & 255, 9])
        et = b"\x86\xdd"
    else:
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4) + 400, 1, 0, 64, proto, 0, bytes([10, 0, i >> 8 & 255, i & 255]), bytes([10, 1, i & 255, 7]))
        et = b"\x08\x00"
    f = bytes.fromhex("66778899aabb001122334455") + et + ip + l4
    return f[:128] if len(f) > 128 else f
frames = [frame(i) for i in range(4096)]
recs = []
for f in frames:
    pad = b"\0" * ((4 - len(f) % 4) % 4)
    body = u32(1, len(f) + 420, 4, len(f)) + f + pad
    recs.append(u32(1, len(body)) + body)
per = 8
with open(out, "wb") as fp:
    fp.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    seq = {}
    for d in range(n // per):
        agent = 1 + d % 2
        seq[agent] = seq.get(agent, 0) + 1
        samples = b""
        for k in range(per):
            r = recs[rnd.randrange(4096)]
            s = u32(seq[agent] * per + k, 3, 100, (seq[agent] * per + k) * 100, 0, 3, 4, 1) + r
            samples += u32(1, len(s)) + s
        p = u32(5, 1) + bytes([192, 0, 2, agent]) + u32(0, seq[agent], 1000, per) + samples
        udp = struct.pack(">HHHH", 40000, 6343, 8 + len(p), 0) + p
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([192, 0, 2, agent]), bytes([127, 0, 0, 1]))
        fr = b"\0" * 12 + b"\x08\x00" + ip + udp
        fp.write(struct.pack("<IIII", 1700000000 + d // 10000, d % 10000 * 100, len(fr), len(fr)) + fr)
PY

# the capture on disk before measuring: its writeback would otherwise overlap the first run
sync "$T/sflow.pcap"

conf() {
	cat <<CONF
plugins: print[p]
aggregate[p]: peer_src_ip, src_host, dst_host, src_port, dst_port, proto
print_output[p]: json
print_output_file[p]: $T/out-$1.json
print_refresh_time[p]: 3600
pcap_savefile: $T/sflow.pcap
CONF
	# ours runs with its default plugin buffers; 1.7.7 drops records with its own
	if [ "$1" = ref ]; then
		printf 'plugin_buffer_size: 1024000\nplugin_pipe_size: 102400000\n'
	fi
}

# CPU seconds (user + sys) of one command: the least and the median of $RUNS runs (default 5)
RUNS=${RUNS:-5}
cpu() { bench_cpu "$T/time" "$@"; }
per_m() { echo "$1 $N" | awk '{ printf "%.3f", $1 / ($2 / 1e6) }'; }

printf 'samples: %s (%s), CPU-s of %s runs each\n' "$N" "$(du -h "$T/sflow.pcap" | cut -f1)" "$RUNS"
printf '%-14s %9s %9s %16s %16s\n' daemon cpu_min cpu_med per_1M_min per_1M_med
conf ours > "$T/ours.conf"
set -- $(cpu "$OURS" -f "$T/ours.conf")
printf '%-14s %9s %9s %16s %16s\n' ours "$1" "$2" "$(per_m "$1")" "$(per_m "$2")"
if [ -x "$REF" ]; then
	conf ref > "$T/ref.conf"
	# its 2 s start sleep is wall time only; fewer runs, it is slow
	RUNS=$(( RUNS > 3 ? 3 : RUNS ))
	set -- $(cpu "$REF" -f "$T/ref.conf")
	printf '%-14s %9s %9s %16s %16s\n' "sfacctd 1.7.7" "$1" "$2" "$(per_m "$1")" "$(per_m "$2")"
fi
# nfdump's sfcapd reads only from a socket (no pcap input in Debian's build): replay with tcpreplay-less
# python over loopback would measure the sender too, so it is reported only when asked.
if [ "${WITH_SFCAPD:-0}" = 1 ]; then
	if ! command -v sfcapd >/dev/null 2>&1 && apt-cache policy nfdump 2>/dev/null | grep -q 'Candidate: [0-9]'; then
		apt-get install -y nfdump >/dev/null 2>&1 || true
	fi
	command -v sfcapd >/dev/null 2>&1 && echo "sfcapd: installed; see docs/sfacctd.md for the loopback method" || echo "sfcapd: not installable here"
fi
