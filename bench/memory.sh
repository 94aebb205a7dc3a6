#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# memory.sh: resident memory per table entry of every table that grows with traffic (memory,
# print, sqlite3 and http plugins, nfprobe, pmacctd's flow and fragment tables, nfacctd and
# sfacctd aggregating NetFlow v9 / sFlow v5), ours beside Debian's pmacct 1.7.7 where it has the
# table, for planning memory.  Prints figures; never asserts.  See bench/README.md.
#
#   bench/memory.sh [build-dir]                 (default build)
#   SIZES=100000,200000,400000 ONLY=print,memory bench/memory.sh
#
# Environment: SIZES (packets, records or samples of each flood, default
# 100000,400000), ONLY (tables: memory print sqlite3 http kafka nfprobe flows frag nfacctd
# sfacctd fixed print-ceiling sqlite3-ceiling; default all), NO_REF=1 (ours only), BENCH_DIR
# (work files under BENCH_DIR/memory, default /tmp/pmacct-bench).  bench/memory.py does the work.
set -eu
. "$(dirname "$0")/lib.sh"
BUILD=${1:-$ROOT/build}
for b in pmacctd nfacctd sfacctd pmacct pcapgen; do
	[ -x "$BUILD/$b" ] || { echo "memory.sh: no $BUILD/$b (meson setup build && ninja -C build)" >&2; exit 1; }
done
mkdir -p "$BENCH_DIR/memory"
date -u
exec $PY "$ROOT/bench/memory.py" --build "$BUILD" --work "$BENCH_DIR/memory" \
	--sizes "${SIZES:-100000,400000}" --only "${ONLY:-}" \
	--json "$BENCH_DIR/memory/results.json" ${NO_REF:+--no-ref}
