#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bgp.sh: nfacctd's BGP daemon under generated full tables (build/bgpgen): convergence time,
# RSS after convergence and its growth over the same daemon without BGP, bytes per route,
# and NetFlow records per CPU second with and without BGP lookups; Debian's nfacctd 1.7.7,
# and ours when it has a BGP daemon.  What each column means: bench/bgp.py.
#
#   bench/bgp.sh [build-dir]          (env: V4, V6 prefixes per peer; PEERS "1 4"; RECORDS)
set -eu
. "$(dirname "$0")/lib.sh"
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac	# relative to the tree, or absolute
BGPGEN=${BGPGEN:-$BUILD/bgpgen}
if [ ! -x "$BGPGEN" ]; then
	echo "no bgpgen at $BGPGEN: building it" >&2
	ninja -C "$BUILD" bgpgen >/dev/null
fi
export BGPGEN
export NFACCTD=${NFACCTD:-$BUILD/nfacctd}
exec $PY "$ROOT/bench/bgp.py"
