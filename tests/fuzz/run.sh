#!/bin/sh
# Run libFuzzer targets one after another, politely (nice 19), for a while each.
# Usage: tests/fuzz/run.sh BUILDDIR SECONDS TARGET...   (BUILDDIR set up with -Dlibfuzzer=true)
# New inputs go to a scratch corpus under $FUZZ_WORK (default /tmp/fuzz-work); the seed corpus in
# tests/fuzz/corpus/<target> is only read.  Crashes land in $FUZZ_WORK/<target>-crash-*; the last
# line of each log has libFuzzer's figures (execs, cov).
set -eu
build=$1 secs=$2
shift 2
work=${FUZZ_WORK:-/tmp/fuzz-work}
src=$(cd "$(dirname "$0")" && pwd)
for t in "$@"; do
	mkdir -p "$work/$t"
	log="$work/$t.log"
	nice -n 19 "$build/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$work/$t-" "$work/$t" "$src/corpus/$t" \
	    >"$log" 2>&1 || echo "$t: stopped early (see $log)"
	printf '%s: ' "$t"
	grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -1 || true
	grep -E 'stat::(number_of_executed_units|peak_rss_mb)' "$log" | tr '\n' ' '
	echo
done
