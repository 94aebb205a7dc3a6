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

/usr/bin/python3 "$ROOT/bench/gen_sflow.py" "$N" "$T/sflow.pcap"

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
