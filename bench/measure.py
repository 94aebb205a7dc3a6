#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run a command and measure it as a process TREE (pmacct forks a process
per plugin and one per purge): wall seconds, CPU seconds and peak memory.

  measure.py --json out.json -- cmd args...

CPU: user+sys from wait4() of the command plus its reaped descendants
(RUSAGE_CHILDREN after the wait), cross-checked against the per-process
utime+stime last seen in /proc/<pid>/stat (a lower bound: ticks after the
last sample are missed) -- the larger is reported.
Memory: every 50 ms the tree (/proc/<pid>/task/*/children, recursively) is
walked; the sums of VmRSS and of Pss (/proc/<pid>/smaps_rollup) over its
processes are taken and their peaks kept.  Peak PSS is the honest figure:
shared memory (pmacct's core-to-plugin pipes, copy-on-write pages of the
forked writers) is split between the processes that map it instead of
being counted once per process as RSS sums do.  A 50 ms sampler can miss
a spike shorter than that.

Also: compare.py-style "rows" helper: `measure.py --compare a.csv b.csv
[--tallies t.json]` prints whether two print-plugin CSV files hold the same
rows (sorted), and whether they match the generator's tallies.
"""

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


def children(pid):
    res = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as fp:
                    res += [int(x) for x in fp.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return res


def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


def read_kb(path, key):
    try:
        with open(path) as fp:
            for ln in fp:
                if ln.startswith(key):
                    return int(ln.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as fp:
            f = fp.read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])      # utime, stime (fields 14, 15)
    except (OSError, IndexError, ValueError):
        return None


class Sampler(threading.Thread):
    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.stop = threading.Event()
        self.peak_rss = self.peak_pss = 0
        self.max_procs = 0
        self.ticks = {}         # pid -> last seen utime+stime

    def run(self):
        while not self.stop.is_set():
            pids = tree(self.pid)
            rss = sum(read_kb(f"/proc/{p}/status", "VmRSS:") for p in pids)
            pss = sum(read_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
            for p in pids:
                t = cpu_ticks(p)
                if t is not None:
                    self.ticks[p] = t
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.max_procs = max(self.max_procs, len(pids))
            self.stop.wait(self.interval)


def measure(cmd, stdout, stderr):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr,
                            stdin=subprocess.DEVNULL)
    s = Sampler(proc.pid)
    s.start()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    s.stop.set()
    s.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_wait = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu_proc = sum(s.ticks.values()) / TICK
    return {
        "rc": proc.returncode,
        "wall_s": round(wall, 3),
        "cpu_s": round(max(cpu_wait, cpu_proc), 3),
        "cpu_wait4_s": round(cpu_wait, 3),
        "cpu_proc_sampled_s": round(cpu_proc, 3),
        "peak_rss_sum_kb": s.peak_rss,
        "peak_pss_sum_kb": s.peak_pss,
        "max_rss_single_kb": ru.ru_maxrss,
        "max_processes": s.max_procs,
    }


def csv_rows(path):
    with open(path) as fp:
        rows = [r for r in csv.reader(fp) if r and not r[0].startswith("--")]
    return rows[0], sorted(tuple(r) for r in rows[1:])


def compare(a, b, tallies=None):
    ha, ra = csv_rows(a)
    hb, rb = csv_rows(b)
    res = {"identical": ha == hb and ra == rb, "rows_a": len(ra), "rows_b": len(rb)}
    if tallies:
        with open(tallies) as fp:
            t = json.load(fp)
        exp = sorted((f["src"], f["dst"], str(f["sport"]), str(f["dport"]),
                      str(f["proto"]), str(f["packets"]), str(f["bytes"]))
                     for f in t["flows"])
        for name, h, r in (("a", ha, ra), ("b", hb, rb)):
            want = ["SRC_IP", "DST_IP", "SRC_PORT", "DST_PORT", "PROTOCOL", "PACKETS", "BYTES"]
            if h == want:
                res[f"{name}_matches_tallies"] = r == exp
                res[f"{name}_packets"] = sum(int(x[5]) for x in r)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", help="write the figures here too")
    ap.add_argument("--log", help="daemon stdout+stderr go here")
    ap.add_argument("--compare", nargs=2, metavar=("A_CSV", "B_CSV"))
    ap.add_argument("--tallies")
    ap.add_argument("--summary", metavar="NAME",
                    help="with --compare: print one human line, not JSON")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.compare:
        res = compare(*a.compare, tallies=a.tallies)
    else:
        cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
        if not cmd:
            ap.error("no command")
        log = open(a.log, "w") if a.log else subprocess.DEVNULL
        res = measure(cmd, log, subprocess.STDOUT if a.log else subprocess.DEVNULL)
    if a.json:
        with open(a.json, "w") as fp:
            json.dump(res, fp, indent=1)
    if a.compare and a.summary == "identical":
        print("outputs identical (sorted rows):",
              "yes" if res["identical"] else "NO",
              f"({res['rows_a']} vs {res['rows_b']} rows)")
    elif a.compare and a.summary:
        print(f"{a.summary:10} rows {res['rows_a']}, packets "
              f"{res.get('a_packets')}, matches generator tallies: "
              f"{res.get('a_matches_tallies')}")
    else:
        print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
