# SPDX-License-Identifier: BSD-3-Clause
# bench/lib.sh: what the benchmark scripts share, sourced (POSIX sh): default paths, the capture
# generator (compiled when not built), a cached generated capture, CPU seconds of repeated runs,
# instructions of one run.
#
# Sourcing sets, unless the environment already does: ROOT (the source tree), PMACCTD,
# REF_PMACCTD, PCAPGEN, BENCH_DIR (created), PY, MEASURE (bench/measure.py).

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PMACCTD=${PMACCTD:-$ROOT/build/pmacctd}
REF_PMACCTD=${REF_PMACCTD:-/usr/sbin/pmacctd}
PCAPGEN=${PCAPGEN:-$ROOT/build/pcapgen}
BENCH_DIR=${BENCH_DIR:-/tmp/pmacct-bench}
PY=/usr/bin/python3
MEASURE="$PY $ROOT/bench/measure.py"
mkdir -p "$BENCH_DIR"

# PCAPGEN, compiled from tests/tools/pcapgen.c into BENCH_DIR when it is not built.
bench_pcapgen() {
	if [ ! -x "$PCAPGEN" ]; then
		echo "no pcapgen at $PCAPGEN: compiling tests/tools/pcapgen.c" >&2
		PCAPGEN=$BENCH_DIR/pcapgen
		cc -O2 -std=c11 -D_GNU_SOURCE -o "$PCAPGEN" "$ROOT/tests/tools/pcapgen.c" -lm
	fi
}

# bench_capture <packets> <flows> <seed>: PCAP and TALLIES, BENCH_DIR/bench-P-F-S.{pcap,json},
# generated (snaplen 128, over 300 s) unless already there.
bench_capture() {
	bench_pcapgen
	PCAP=$BENCH_DIR/bench-$1-$2-$3.pcap
	TALLIES=$BENCH_DIR/bench-$1-$2-$3.json
	if [ ! -s "$PCAP" ] || [ ! -s "$TALLIES" ]; then
		echo "generating $1 packets over $2 flows (snaplen 128) ..." >&2
		"$PCAPGEN" -n "$1" -f "$2" -s "$3" -S 128 -d 300 -o "$PCAP" -t "$TALLIES"
	fi
}

# bench_cpu <time file> <command...>: CPU seconds (user + sys) of the command, "least median" of
# RUNS runs (default 5; the first also warms the page cache).  /usr/bin/time, not a Python
# wrapper: pyenv's python3 on PATH made the same runs read 60% higher.
bench_cpu() {
	_tf=$1
	shift
	for _ in $(seq "${RUNS:-5}"); do
		/usr/bin/time -f "%U %S" -o "$_tf" "$@" >/dev/null 2>&1 || true
		awk '{ printf "%.3f\n", $1 + $2 }' "$_tf"
	done | sort -n | awk '{ v[NR] = $1 } END { printf "%s %s", v[1], v[int((NR + 1) / 2)] }'
}

# bench_ir <command...>: user-space instructions of the whole command (valgrind callgrind's
# "Collected"), into and from files under W (the caller's work directory).
bench_ir() {
	valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" "$@" >/dev/null 2>"$W/vg.txt" || true
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$W/vg.txt"
}
