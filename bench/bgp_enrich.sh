#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bgp_enrich.sh: micro-benchmark of the BGP correlation of records (bench/bgp_enrich_bench.c):
# ns per record against one peer's table of N IPv4 prefixes (default 500000), M records (2000000).
# Needs a built tree (meson setup build && ninja -C build); links its layer libraries.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=${BENCH_DIR:-/tmp}/bgp_enrich_bench
L=$BUILD
cc -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT/src" -o "$OUT" "$ROOT/bench/bgp_enrich_bench.c" \
	"$L/libpmpipeline.a" "$L/libpmhttp.a" "$L/libpmplugins.a" "$L/libpmmaps.a" "$L/libpmencode.a" \
	"$L/libpmdecode.a" "$L/libpmconfig.a" "$L/libpmmodel.a" "$L/libpmlib.a" \
	-lpcap -lxxhash -ljansson -lpthread -lm
"$OUT" "${1:-500000}" "${2:-2000000}"
