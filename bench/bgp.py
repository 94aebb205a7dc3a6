#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench/bgp.py: nfacctd's BGP daemon under full tables from build/bgpgen (bench/bgp.sh runs it).

For each daemon (Debian's nfacctd 1.7.7; ours when a probe shows it has a BGP daemon) and each
peer count (1..4 bgpgen speakers on 127.0.0.2 .. 127.0.0.5, the same generated table with its
own AS and next hop each):

  cpu_s        CPU seconds the core process used meanwhile (steadier than converge_s on a
               busy machine)
  converge_s   from the first session established until the collector has read every route:
               the moment its core process last used CPU, once every bgpgen has sent its whole
               table and the process then stayed idle for IDLE seconds (sampled every 50 ms)
  rss_mib      VmRSS of the core process (the one holding the RIB) after convergence, and
  delta_mib    its growth over the same daemon and config without BGP
  B/route      delta / routes held (prefixes x peers)
  found        the share of replayed flows whose destination got an AS path (the flows are
               drawn inside the announced prefixes: a check that the table is all there)
  krec/cpu-s   NetFlow v5 records per CPU second of all the daemon's processes, replaying
               RECORDS records from 127.0.0.2 (the first peer), with BGP lookups (src_as,
               dst_as, as_path, std_comm, local_pref in the aggregate) and, on the baseline
               daemon without BGP, the same replay and aggregate

Environment: BGPGEN (build/bgpgen), NFACCTD (ours, build/nfacctd), REF_NFACCTD
(/usr/sbin/nfacctd; another build of ours to compare two trees), REF_NAME (its row's name,
nfacctd-1.7.7), V4 / V6 prefixes per peer (1000000 / 200000), PEERS ("1 4"),
RECORDS (300000), IDLE (2).
"""

import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from helpers import free_port  # noqa: E402

BGPGEN = Path(os.environ.get("BGPGEN", ROOT / "build" / "bgpgen"))
OURS = Path(os.environ.get("NFACCTD", ROOT / "build" / "nfacctd"))
REF = Path(os.environ.get("REF_NFACCTD", "/usr/sbin/nfacctd"))
V4 = int(os.environ.get("V4", 1000000))
V6 = int(os.environ.get("V6", 200000))
PEERS = [int(x) for x in os.environ.get("PEERS", "1 4").split()]
RECORDS = int(os.environ.get("RECORDS", 300000))
IDLE = float(os.environ.get("IDLE", 2))
HZ = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    """utime + stime of a process (all its threads) and of its reaped children (pmacct's
    purge writers), in clock ticks; None once it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return sum(int(x) for x in fields[11:15])


def ticks_spent(pids, before):
    """CPU ticks spent since `before` (pid -> ticks) by the pids alive at both ends."""
    spent = 0
    for p in pids:
        now = cpu_ticks(p)
        if now is not None and before.get(p) is not None:
            spent += now - before[p]
    return spent


def vmrss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def family(pid):
    """pid and its descendants (1.7.7 forks one process per plugin)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    kids = {}
    for line in out.split("\n"):
        if line.strip():
            p, pp = map(int, line.split())
            kids.setdefault(pp, []).append(p)
    res, todo = [], [pid]
    while todo:
        p = todo.pop()
        res.append(p)
        todo += kids.get(p, [])
    return res


def conf_text(d, nf_port, bgp_port, bgp):
    s = f"""daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: {nf_port}
nfacctd_pipe_size: 33554432
plugin_buffer_size: 1024000
plugin_pipe_size: 102400000
plugins: print[p]
aggregate[p]: peer_src_ip,src_as,dst_as,as_path,std_comm,local_pref
print_output[p]: csv
print_output_file[p]: {d}/out.csv
print_refresh_time[p]: 2
print_output_file_append[p]: true
"""
    if bgp:
        s += f"""bgp_daemon: true
bgp_daemon_ip: 127.0.0.1
bgp_daemon_port: {bgp_port}
bgp_daemon_max_peers: 8
nfacctd_as: bgp
nfacctd_net: bgp
"""
    return s


def start(binary, d, bgp):
    nf_port, bgp_port = free_port(), free_port(socket.SOCK_STREAM)
    (d / "nf.conf").write_text(conf_text(d, nf_port, bgp_port, bgp))
    log = open(d / "nf.log", "w")
    p = subprocess.Popen([str(binary), "-f", str(d / "nf.conf")], stdout=log,
                         stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if p.poll() is not None:
            return p, None, None
        if "waiting for NetFlow" in (d / "nf.log").read_text(errors="replace"):
            break
        time.sleep(0.1)
    time.sleep(1.0)
    return p, nf_port, bgp_port


def stop(p):
    p.send_signal(2)
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def sample_routes(routes_file, n, seed=7):
    """n IPv4 prefixes of the file, drawn uniformly (reservoir), with their AS path."""
    rnd = random.Random(seed)
    pick = []
    with open(routes_file) as f:
        for i, line in enumerate(f):
            pfx = line.split(" ", 1)[0]
            if ":" in pfx:
                continue
            if len(pick) < n:
                pick.append(pfx)
            else:
                j = rnd.randrange(i + 1)
                if j < n:
                    pick[j] = pfx
    return pick


def host_in(pfx, rnd):
    a, l = pfx.split("/")
    base = struct.unpack("!I", socket.inet_aton(a))[0]
    span = 1 << (32 - int(l))
    return socket.inet_ntoa(struct.pack("!I", base + rnd.randrange(span)))


def netflow_datagrams(prefixes, records, per=30, seed=5):
    """NetFlow v5 datagrams of `records` records, 1 packet each, src and dst inside
    the given prefixes (5000 distinct flows reused)."""
    rnd = random.Random(seed)
    flows = [struct.pack("!4s4s", socket.inet_aton(host_in(rnd.choice(prefixes), rnd)),
                         socket.inet_aton(host_in(rnd.choice(prefixes), rnd)))
             for _ in range(5000)]
    out, seq = [], 0
    while seq < records:
        k = min(per, records - seq)
        recs = b"".join(rnd.choice(flows) + struct.pack("!4sHHIIIIHHBBBBHHBBH", bytes(4), 1, 2, 1, 64,
                                                         0, 0, 1234, 80, 0, 0x18, 6, 0, 0, 0, 0, 0, 0)
                        for _ in range(k))
        out.append(struct.pack("!HHIIIIBBH", 5, k, 0, int(time.time()), 0, seq, 0, 0, 0) + recs)
        seq += k
    return out


def replay(grams, nf_port, pids, rate=4000):
    """Send the datagrams from 127.0.0.2 at `rate` per second; CPU ticks of pids spent."""
    before = {p: cpu_ticks(p) for p in pids}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.2", 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        t0 = time.monotonic()
        for i, g in enumerate(grams):
            due = t0 + i / rate
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            s.sendto(g, ("127.0.0.1", nf_port))
    time.sleep(2.0)
    return ticks_spent(pids, before)


def processed(d):
    """(records, records whose destination had an AS path) from the CSV (1 packet each)."""
    import csv
    lines = (d / "out.csv").read_text().splitlines()
    rows = [r for r in csv.DictReader(lines) if r.get("PACKETS") not in (None, "PACKETS")]
    n = sum(int(r["PACKETS"]) for r in rows)
    found = sum(int(r["PACKETS"]) for r in rows if r.get("AS_PATH"))
    return n, found


def run_bgpgen(i, bgp_port, d, events):
    local = f"127.0.0.{2 + i}"
    argv = [str(BGPGEN), "-p", str(bgp_port), "-l", local, "-a", str(65001 + i), "-4", str(V4),
            "-6", str(V6), "-t", "100000", "-j", str(d / f"bgpgen{i}.json")]
    if i == 0:
        argv += ["-o", str(d / "routes.txt")]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def watch():
        for line in p.stderr:
            events.append((time.monotonic(), i, line.strip()))
    threading.Thread(target=watch, daemon=True).start()
    return p


def bench(binary, name, npeers, baseline_kib, baseline_rate, w):
    d = Path(tempfile.mkdtemp(prefix=f"bgp-{name}-{npeers}-", dir=w))
    p, nf_port, bgp_port = start(binary, d, True)
    if nf_port is None:
        return {"name": name, "peers": npeers, "error": (d / "nf.log").read_text()[-300:]}
    core = p.pid
    events, gens = [], []
    for i in range(npeers):
        gens.append(run_bgpgen(i, bgp_port, d, events))
    # established: bgpgen's table generation comes first; its session starts after
    t_first = None
    cpu0 = cpu_ticks(core)
    last_cpu, last_change = cpu0, time.monotonic()
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = time.monotonic()
        c = cpu_ticks(core)
        if c != last_cpu:
            last_cpu, last_change = c, now
        if t_first is None:
            est = [t for t, _, line in events if "established" in line]
            if est:
                t_first = min(est)
        sent = sum(1 for _, _, line in events if "table sent" in line)
        if sent == npeers and now - last_change >= IDLE:
            break
        if any(g.poll() is not None for g in gens):
            break
    converge = last_change - (t_first or last_change)
    converge_cpu = (last_cpu - cpu0) / HZ
    rss = vmrss_kib(core)
    rss_all = sum(vmrss_kib(x) for x in family(core))
    routes = (V4 + V6) * npeers
    prefixes = sample_routes(d / "routes.txt", 2000)
    grams = netflow_datagrams(prefixes, RECORDS)
    pids = family(core)
    ticks = replay(grams, nf_port, pids)
    # the counts are read from the appended CSV (every 2 s), not from a purge at exit:
    # 1.7.7 dies of "double free or corruption" when SIGINT meets a live or closing session
    time.sleep(4)
    for g in gens:
        g.terminate()
    for g in gens:
        g.wait(30)
    time.sleep(2)
    stop(p)
    n, found = processed(d)
    return {"name": name, "peers": npeers, "routes": routes, "converge_s": converge, "converge_cpu": converge_cpu,
            "rss_mib": rss / 1024, "rss_all_mib": rss_all / 1024,
            "delta_mib": (rss - baseline_kib) / 1024,
            "b_per_route": (rss - baseline_kib) * 1024 / routes,
            "found": found / n if n else 0, "records": n,
            "krec_cpu": n / (ticks / HZ) / 1000 if ticks else 0, "base_krec_cpu": baseline_rate}


def baseline(binary, name, w):
    """RSS of the core without BGP, and its replay rate on the same flows (no routes:
    random addresses)."""
    d = Path(tempfile.mkdtemp(prefix=f"nobgp-{name}-", dir=w))
    p, nf_port, _ = start(binary, d, False)
    if nf_port is None:
        return None, None
    rss = vmrss_kib(p.pid)
    rnd = random.Random(3)
    prefixes = [f"{rnd.randrange(1, 224)}.{rnd.randrange(256)}.{rnd.randrange(256)}.0/24"
                for _ in range(2000)]
    grams = netflow_datagrams(prefixes, RECORDS)
    ticks = replay(grams, nf_port, family(p.pid))
    time.sleep(4)
    stop(p)
    n, _ = processed(d)
    return rss, (n / (ticks / HZ) / 1000 if ticks else 0)


def ours_has_bgp(w):
    if not os.access(OURS, os.X_OK):
        return False, f"no {OURS}"
    d = Path(tempfile.mkdtemp(prefix="probe-", dir=w))
    p, nf_port, bgp_port = start(OURS, d, True)
    if nf_port is None:
        return False, (d / "nf.log").read_text().strip().splitlines()[-1:]
    ok = socket.socket().connect_ex(("127.0.0.1", bgp_port)) == 0
    stop(p)
    return ok, "" if ok else "no BGP listener"


def main():
    if not os.access(BGPGEN, os.X_OK):
        sys.exit(f"no bgpgen at {BGPGEN} (ninja -C build bgpgen)")
    w = tempfile.mkdtemp(prefix="bgpbench-")
    daemons = [(os.environ.get("REF_NAME", "nfacctd-1.7.7"), REF)]
    ok, why = ours_has_bgp(w)
    if ok:
        daemons.append(("ours", OURS))
    else:
        print(f"ours: not measured (BGP unsupported: {why})")
    print(f"table per peer: {V4} IPv4 + {V6} IPv6 prefixes; replay {RECORDS} NetFlow v5 records; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    hdr = (f"{'daemon':14} {'peers':>5} {'routes':>8} {'conv_s':>7} {'cpu_s':>6} {'rss_MiB':>8} "
           f"{'all_MiB':>8} {'delta_MiB':>9} {'B/route':>8} {'found':>6} {'krec/cpu-s':>10} "
           f"{'no-bgp':>8}")
    rows = []
    for name, binary in daemons:
        base_kib, base_rate = baseline(binary, name, w)
        if base_kib is None:
            print(f"{name}: does not start without BGP")
            continue
        for n in PEERS:
            r = bench(binary, name, n, base_kib, base_rate, w)
            rows.append(r)
            if "error" in r:
                print(f"{name} {n} peers: {r['error']}")
                continue
            print(hdr if len(rows) == 1 else "", end="\n" if len(rows) == 1 else "")
            print(f"{name:14} {n:5} {r['routes']:8} {r['converge_s']:7.2f} "
                  f"{r['converge_cpu']:6.2f} {r['rss_mib']:8.1f} "
                  f"{r['rss_all_mib']:8.1f} {r['delta_mib']:9.1f} {r['b_per_route']:8.1f} "
                  f"{r['found']:6.3f} {r['krec_cpu']:10.1f} {r['base_krec_cpu']:8.1f}",
                  flush=True)
    subprocess.run(["rm", "-rf", w])


if __name__ == "__main__":
    main()
