#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run the e2e modules in N pytest processes at once (default 2), each module whole in one.

Most of an e2e test's time is spent waiting (for a daemon to start, a purge, a BGP session,
a capture replayed at its own pace), so two shards on two cores take about half the time of
one run.  Modules are dealt to the shards longest first, each to the shard with the least
time so far, by the seconds in durations.txt (a module not listed counts 30 s).  Modules
that share a fixed resource go to the first shard together: the RabbitMQ node of the
reference (pmacct 1.7.7 can only reach port 5672).

    tests/e2e/run_shards.py [-n N] [module ...] [-- pytest args]

Every shard's output is printed when all have ended, then one line per shard; the exit
status is the first non-zero status of a shard (0 when all passed).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SECONDS = 30
# the reference's RabbitMQ port 5672: one node at a time
FIRST_SHARD = {"test_brokers.py", "test_bgp_amqp.py"}


def weights():
    w = {}
    for line in (HERE / "durations.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            secs, name = line.split()
            w[name] = float(secs)
    return w


def deal(modules, n, w):
    """[(seconds, [module, ...])] per shard."""
    shards = [[0.0, []] for _ in range(n)]
    for m in modules:
        if m.name in FIRST_SHARD:
            shards[0][0] += w.get(m.name, DEFAULT_SECONDS)
            shards[0][1].append(m)
    rest = sorted((m for m in modules if m.name not in FIRST_SHARD),
                  key=lambda m: -w.get(m.name, DEFAULT_SECONDS))
    for m in rest:
        s = min(shards, key=lambda s: s[0])
        s[0] += w.get(m.name, DEFAULT_SECONDS)
        s[1].append(m)
    return shards


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=int(os.environ.get("E2E_SHARDS", "2")))
    ap.add_argument("modules", nargs="*")
    a = ap.parse_args(argv)
    modules = [Path(m).resolve() for m in a.modules] or sorted(HERE.glob("test_*.py"))
    shards = [s for s in deal(modules, max(1, a.n), weights()) if s[1]]
    work = Path(tempfile.mkdtemp(prefix="pmng-e2e-"))
    procs = []
    t0 = time.monotonic()
    for i, (_, mods) in enumerate(shards):
        out = open(work / f"shard{i}.log", "w")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               f"--basetemp={work / f'tmp{i}'}"] + extra + [str(m) for m in mods]
        procs.append((subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT), out))
    rcs = []
    for p, out in procs:
        rcs.append(p.wait())
        out.close()
    wall = time.monotonic() - t0
    for i, (secs, mods) in enumerate(shards):
        print(f"==== shard {i}: {len(mods)} modules (about {secs:.0f} s by durations.txt) ====")
        sys.stdout.write((work / f"shard{i}.log").read_text())
    for i, rc in enumerate(rcs):
        print(f"shard {i}: exit {rc}")
    print(f"{len(shards)} shards in {wall:.0f} s")
    rc = next((rc for rc in rcs if rc), 0)
    if rc == 0:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    else:
        print(f"shard logs and temporary files kept in {work}")
    sys.exit(rc)


if __name__ == "__main__":
    main()
