#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# live.sh: live capture at rising packet rates, ours and pmacctd 1.7.7 side by side, on one end of a
# veth pair inside a network namespace made for the run (deleted at exit), fed by build/pktblast.
#
#   bench/live.sh [build-dir] [bench/live.py options...]
#       e.g. bench/live.sh build --rates 250000,1000000,max --seconds 4
#
# Needs root.  Both veth ends live in the namespace; nothing outside it is touched (pktblast also
# refuses any interface that is not a veth).  The figures and what they mean: bench/live.py's
# docstring and bench/README.md, "bench/live.sh".
set -eu
. "$(dirname "$0")/lib.sh"
BUILD=${1:-build}
[ $# -gt 0 ] && shift
if [ "$(id -u)" -ne 0 ]; then
	echo "live.sh: needs root (a network namespace and a veth pair)" >&2
	exit 1
fi
for t in pmacctd pktblast pcapgen; do
	if [ ! -x "$BUILD/$t" ]; then
		echo "live.sh: no $BUILD/$t (meson setup $BUILD && ninja -C $BUILD)" >&2
		exit 1
	fi
done
NS=pmlive$$
ip netns add "$NS"
trap 'ip netns del "$NS" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
$PY "$ROOT/bench/live.py" --build "$BUILD" --ours "${PMACCTD_LIVE:-$BUILD/pmacctd}" --netns "$NS" "$@"
