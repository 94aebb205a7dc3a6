#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# compare.sh: every side-by-side comparison of bench/README.md (ours beside Debian's pmacct 1.7.7,
# and nfdump / softflowd where a bench has them) in one run, one after the other, each under a
# header with its command, the UTC time and the load average, into one log.  Prints figures and
# asserts nothing; bench/README.md quotes the log of a run with its date.
#
#   bench/compare.sh [build-dir]          (default build; log: $BENCH_DIR/compare-<UTC time>.log)
#   ONLY="nf_replay collector_nf" bench/compare.sh build     # some steps only
#   SKIP="sql brokers" bench/compare.sh build                # all but these
#
# Steps, in order (names for ONLY / SKIP): run (pmacctd throughput and memory, with geoip and
# class), nfacctd, sfacctd, nf_replay, collector_nf, collector_sf, live, memory, networks,
# imt_query, nfprobe, sql, brokers, bgp.  Run it on an otherwise idle machine: about 30 minutes
# with every step on the development machine; the live step needs root (it makes a network namespace).
set -uo pipefail

. "$(dirname "$0")/lib.sh"
B=${1:-build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
export PMACCTD=$B/pmacctd NFACCTD=$B/nfacctd SFACCTD=$B/sfacctd PCAPGEN=$B/pcapgen
mkdir -p "$BENCH_DIR"
LOG=${LOG:-$BENCH_DIR/compare-$(date -u +%Y%m%dT%H%M%SZ).log}
STEPS="run nfacctd sfacctd nf_replay collector_nf collector_sf live memory networks imt_query nfprobe sql brokers bgp"

for s in ${ONLY:-} ${SKIP:-}; do
	case " $STEPS " in *" $s "*) ;; *) echo "compare.sh: no step '$s' (steps: $STEPS)" >&2; exit 2 ;; esac
done

wanted() {
	local s
	if [ -n "${ONLY:-}" ]; then
		for s in $ONLY; do [ "$s" = "$1" ] && return 0; done
		return 1
	fi
	for s in ${SKIP:-}; do [ "$s" = "$1" ] && return 1; done
	return 0
}

# $1 step name, then the command (run from the repository's root)
step() {
	local name=$1 t0 rc
	shift
	wanted "$name" || return 0
	t0=$(date +%s)
	{
		echo
		echo "=== $name: $*"
		echo "=== start $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	} | tee -a "$LOG"
	(cd "$ROOT" && "$@") 2>&1 | tee -a "$LOG"
	rc=${PIPESTATUS[0]}
	echo "=== end $(date -u '+%H:%M:%S UTC') ($(($(date +%s) - t0)) s), exit $rc, load average $(cut -d' ' -f1-3 /proc/loadavg)" |
	    tee -a "$LOG"
}

{
	echo "bench/compare.sh $B: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "tree: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r)"
	echo "reference: $(dpkg-query -W -f '${Package} ${Version}' pmacct 2>/dev/null || echo 'pmacct not installed')"
} | tee "$LOG"

step run bench/run.sh
step nfacctd bench/nfacctd.sh "$B"
step sfacctd bench/sfacctd.sh
step nf_replay bench/nf_replay.sh "$B"
step collector_nf bench/collector_rate.py --build "$B" --proto nf --trial 10 --workers 1 \
    --rates 10000,40000,80000,150000
step collector_sf bench/collector_rate.py --build "$B" --proto sf --trial 10 --workers 1 \
    --rates 10000,40000,100000,150000
step live bench/live.sh "$B" --rates 100000,150000,250000,500000,1000000,max --seconds 4 --repeat 2
step memory bench/memory.sh "$B"
step networks bench/networks.sh
step imt_query bench/imt_query.sh "$B"
step nfprobe bench/nfprobe.sh
step sql bench/sql.sh
step brokers bench/brokers.sh
step bgp env PEERS="1 4" bench/bgp.sh "$B"
echo "log: $LOG"
