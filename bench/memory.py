#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""memory.py: resident memory per table entry of every table that grows with traffic, ours
beside Debian's pmacct 1.7.7 where it has the table.  Driven by bench/memory.sh (bench/README.md,
"Memory per entry").

  memory.py --build build --work /tmp/pmacct-bench/memory [--sizes 100000,400000]
            [--only print,memory] [--no-ref] [--no-fixed] [--no-ceiling] [--json out.json]

For each table, daemon and size N the daemon reads (pcap_savefile, pcap_savefile_wait) two
inputs of N packets (records, samples): a flood of up to N distinct keys, and a baseline of 64
distinct keys.  The two differ only in the table's fill: the ring between core and plugin,
pmacct's shared pipe, the mapped capture and every buffer that grows with the input's length
count in both and cancel.

  held      resident memory once the daemon has read everything and gone idle, the table full:
            for one process (ours) its VmRSS, for a tree (pmacct 1.7.7: a process per plugin
            sharing the pipe with the core) the sum of its processes' Pss (smaps_rollup),
            which counts a shared page once;
  peak      the largest of the same, sampled every 20 ms, from then until the daemon has
            exited after SIGINT: the final purge (write, export) included;
  entries   the entries the table held, counted from what the daemon wrote or answered (CSV
            rows, database rows, the memory plugin's and http plugin's entry counts, NetFlow v5
            records received from nfprobe, new flows flagged by `flows`, the purge line's
            count for kafka); for the fragment table, which nothing reports, the distinct
            first fragments offered;
  B/entry   (held or peak - its baseline) / (entries - baseline entries).

Under each table a slope, (figure at the largest N - at the smallest) / (entries at the largest
- at the smallest), is the same without the baseline runs.  Tables sized by a key at start-up
are also run with the small input under two values of their key; and the binned plugins with a
small cache, under a flood at their ceiling and one 4x over it.
"""

import argparse
import csv
import json
import os
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import tree  # noqa: E402  (the process tree of a daemon, /proc)

BASE_KEYS = 64
REF_PIPE = "plugin_buffer_size: 1024000\nplugin_pipe_size: 102400000\n"
TIMEOUT = 120


# ---------------------------------------------------------------- process tree and memory


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as fp:
            for line in fp:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pids):
    t = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as fp:
                f = fp.read().rsplit(")", 1)[1].split()
            t += int(f[11]) + int(f[12])
        except (OSError, IndexError, ValueError):
            pass
    return t


def start_time(pid):
    """Field 22 of /proc/PID/stat (start time in ticks since boot), None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as fp:
            return int(fp.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fp:
            for line in fp:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Run:
    """One daemon process tree.  now_kb(): its resident memory now, for one process (ours) its
    VmRSS, for a tree (pmacct 1.7.7: a process per plugin sharing the pipe with the core, forked
    writers sharing pages copy-on-write) the sum of its processes' Pss (smaps_rollup), which
    counts a shared page once.  After arm(), a sampler thread keeps the largest now_kb() every
    20 ms until the tree exits."""

    def __init__(self, argv, log):
        self.peak_kb = 0
        self.armed = False
        self.seen = {}
        self.logf = open(log, "wb")
        self.p = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                  env=dict(os.environ, TZ="UTC"))
        self.done = False
        self.th = threading.Thread(target=self._sample, daemon=True)
        self.th.start()

    def now_kb(self):
        pids = tree(self.p.pid)
        if len(pids) <= 1:
            return status_kb(self.p.pid, "VmRSS")
        return sum(pss_kb(p) for p in pids)

    def arm(self):
        self.peak_kb = self.now_kb()
        self.armed = True

    def _sample(self):
        while not self.done:
            for pid in tree(self.p.pid):
                if pid not in self.seen:
                    self.seen[pid] = start_time(pid)
            if self.armed:
                self.peak_kb = max(self.peak_kb, self.now_kb())
            time.sleep(0.02)

    def reap_orphans(self):
        """Kill what is left of the tree (a 1.7.7 plugin outlives a core that crashed): only
        processes seen in it, still with the start time they had."""
        for pid, st in self.seen.items():
            if pid != self.p.pid and st is not None and start_time(pid) == st:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def wait_idle(self, least=0.0):
        """Until the tree has used no CPU for 0.6 s (and `least` seconds have passed)."""
        t0 = time.time()
        last = cpu_ticks(tree(self.p.pid))
        quiet = 0
        while time.time() - t0 < TIMEOUT:
            time.sleep(0.3)
            if self.p.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.p.returncode}")
            now = cpu_ticks(tree(self.p.pid))
            quiet = quiet + 1 if now == last else 0
            last = now
            if quiet >= 2 and time.time() - t0 >= least:
                return
        raise RuntimeError("daemon never went idle")

    def finish(self, sig=None):
        if sig is not None and self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            self.p.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.done = True
        self.th.join()
        self.reap_orphans()
        self.logf.close()
        return self.p.returncode


# ---------------------------------------------------------------- inputs


def pcap_header(fp):
    fp.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))


def gen_pcapgen(pcapgen, path, n, keys):
    subprocess.run([pcapgen, "-n", str(n), "-f", str(keys), "-z", "0", "--v4-only", "--no-frag",
                    "-o", path, "-t", path + ".json"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def gen_frags(path, n, keys):
    """n IPv4 UDP first fragments (MF set, offset 0): key i % keys is (src, id) =
    (10.0.0.0 + i >> 16, i & 0xffff); one destination and port pair throughout."""
    with open(path, "wb") as fp:
        pcap_header(fp)
        for i in range(n):
            k = i % keys
            udp = struct.pack("!HHHH", 4000, 53, 8 + 64, 0) + b"\0" * 64
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 64 + 400, k & 0xffff, 0x2000, 64,
                             17, 0, struct.pack("!I", 0x0a000000 + (k >> 16)),
                             bytes((192, 0, 2, 1)))
            fr = b"\0" * 12 + b"\x08\x00" + ip + udp
            fp.write(struct.pack("<IIII", 1700000000 + i // 100000, i % 100000 * 10, len(fr),
                                 len(fr)) + fr)


NF_F = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (5, 1), (6, 1), (10, 4), (14, 4), (1, 4), (2, 4),
        (22, 4), (21, 4)]


def gen_netflow(path, n, keys):
    """NetFlow v9 from one exporter, 24 records per datagram, the template in the first datagram
    and every 20th (bench/gen_netflow.py's record layout); record i is 5-tuple i % keys:
    10.0.0.0 + k -> 172.16.0.1, ports 1024 + k % 50000 -> 80, UDP."""
    body = struct.pack("!HH", 256, len(NF_F)) + b"".join(struct.pack("!HH", t, l) for t, l in NF_F)
    tpl = struct.pack("!HH", 0, 4 + len(body)) + body
    with open(path, "wb") as fp:
        pcap_header(fp)
        seq = i = 0
        while i < n:
            recs = b""
            for _ in range(min(24, n - i)):
                k = i % keys
                recs += struct.pack("!IIHHBBBIIIIII", 0x0a000000 + k, 0xac100001,
                                    1024 + k % 50000, 80, 17, 0, 0, 1, 2, 1000, 1, 1000, 2000)
                i += 1
            sets = (tpl if seq % 20 == 0 else b"") + struct.pack("!HH", 256, 4 + len(recs)) + recs
            msg = struct.pack("!HHIIII", 9, 25, 100000, 1700000000, seq, 0) + sets
            udp = struct.pack("!HHHH", 40000, 2100, 8 + len(msg), 0) + msg
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             bytes((10, 9, 9, 1)), bytes((10, 9, 9, 100)))
            fr = b"\0" * 12 + b"\x08\x00" + ip + udp
            fp.write(struct.pack("<IIII", 1700000000 + seq // 1000, 0, len(fr), len(fr)) + fr)
            seq += 1


def gen_sflow(path, n, keys):
    """sFlow v5 from one agent, 8 flow samples per datagram (bench/gen_sflow.py's layout), raw
    Ethernet/IPv4/UDP headers; sample i is 5-tuple i % keys as in gen_netflow."""
    def u32(*v):
        return b"".join(struct.pack(">I", x & 0xffffffff) for x in v)
    with open(path, "wb") as fp:
        pcap_header(fp)
        seq = i = 0
        while i < n:
            samples = b""
            cnt = min(8, n - i)
            for _ in range(cnt):
                k = i % keys
                l4 = struct.pack(">HHHH", 1024 + k % 50000, 80, 508, 0)
                ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 500, 1, 0, 64, 17, 0,
                                 struct.pack(">I", 0x0a000000 + k), bytes((172, 16, 0, 1)))
                f = bytes.fromhex("66778899aabb001122334455") + b"\x08\x00" + ip + l4
                pad = b"\0" * ((4 - len(f) % 4) % 4)
                rb = u32(1, len(f) + 500, 4, len(f)) + f + pad
                r = u32(1, len(rb)) + rb
                s = u32(i, 3, 1, i, 0, 3, 4, 1) + r
                samples += u32(1, len(s)) + s
                i += 1
            seq += 1
            p = u32(5, 1) + bytes((192, 0, 2, 1)) + u32(0, seq, 1000, cnt) + samples
            udp = struct.pack(">HHHH", 40000, 6343, 8 + len(p), 0) + p
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             bytes((192, 0, 2, 1)), bytes((127, 0, 0, 1)))
            fr = b"\0" * 12 + b"\x08\x00" + ip + udp
            fp.write(struct.pack("<IIII", 1700000000 + seq // 10000, 0, len(fr), len(fr)) + fr)


# ---------------------------------------------------------------- entry counters


def csv_rows(path):
    try:
        with open(path) as fp:
            return max(0, sum(1 for _ in fp) - 1)
    except OSError:
        return 0


def csv_sum(path, col):
    with open(path) as fp:
        return sum(int(r[col]) for r in csv.DictReader(fp))


def purge_qn(log):
    """The entries of the last purge, from its "*** Purging cache - END (... QN: n/total" line."""
    n = 0
    with open(log, errors="replace") as fp:
        for line in fp:
            if "Purging cache - END" in line and "QN: " in line:
                n = int(line.split("QN: ")[1].split("/")[1].split(",")[0].split(")")[0])
    return n


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class V5Sink:
    """A NetFlow v5 receiver on 127.0.0.1 that counts records (the header's count)."""

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE (root)
        except OSError:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
        self.s.bind(("127.0.0.1", 0))
        self.port = self.s.getsockname()[1]
        self.records = 0
        self.s.settimeout(0.2)
        self.stop = False
        self.th = threading.Thread(target=self._loop, daemon=True)
        self.th.start()

    def _loop(self):
        while not self.stop:
            try:
                d = self.s.recv(65535)
            except socket.timeout:
                continue
            if len(d) >= 24 and d[0:2] == b"\x00\x05":
                self.records += struct.unpack("!H", d[2:4])[0]

    def close(self):
        time.sleep(1.0)
        self.stop = True
        self.th.join()
        self.s.close()
        return self.records


class KafkaMock:
    """build/kafka_mock (tests/tools/kafka_mock.c: a librdkafka mock cluster) consuming
    pmacct.acct; counts the messages it prints."""

    def __init__(self, binary):
        self.p = subprocess.Popen([binary, "pmacct.acct"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.p.stdout.readline().split()
        if not line or line[0] != "BOOTSTRAP":
            raise RuntimeError(f"kafka_mock: {line}")
        self.host, self.port = line[1].split(",")[0].rsplit(":", 1)
        self.msgs = 0
        self.th = threading.Thread(target=self._read, daemon=True)
        self.th.start()

    def _read(self):
        for line in self.p.stdout:
            if line.startswith("MSG "):
                self.msgs += 1

    def close(self):
        """The count once none arrived for 1 s."""
        n, last = -1, time.time()
        while time.time() - last < 1.0:
            if self.msgs != n:
                n, last = self.msgs, time.time()
            time.sleep(0.1)
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
            self.p.wait(timeout=10)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            self.p.kill()
            self.p.wait()
        return n


# ---------------------------------------------------------------- the cases


def run_case(args, case, daemon, inp, work, n_label, keys=0, value=None):
    """Run one (table, daemon) on one input; returns (peak_kb, entries)."""
    ours = daemon == "ours"
    d = os.path.join(work, f"{case['name']}-{daemon}-{n_label}")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    ctx = {"dir": d, "pcap": inp, "ours": ours, "keys": keys, "value": value}
    if case.get("sink"):
        ctx["sink"] = V5Sink()
    if case.get("port"):
        ctx["port"] = free_port()
    if case.get("mock"):
        ctx["mock"] = KafkaMock(os.path.join(args.build, "kafka_mock"))
    conf = f"pcap_savefile: {inp}\n" + case["conf"](ctx)
    if not ours:
        conf += REF_PIPE
    conf += "pcap_savefile_wait: true\n"
    if case.get("setup"):
        case["setup"](ctx)
    with open(os.path.join(d, "daemon.conf"), "w") as fp:
        fp.write(conf)
    prog = case["prog"]
    binary = os.path.join(args.build, prog) if ours else f"/usr/sbin/{prog}"
    r = Run([binary, "-f", os.path.join(d, "daemon.conf")], os.path.join(d, "daemon.log"))
    try:
        # 1.7.7 sleeps 2 s before it reads a savefile
        r.wait_idle(least=0.5 if ours else 3.0)
        held = r.now_kb()
        if case.get("live"):		# counted by asking the daemon; no purge at the end
            entries = case["count"](ctx)
            peak = held
            rc = r.finish(signal.SIGINT)
        else:			# the final purge (or export) runs on SIGINT
            r.arm()
            rc = r.finish(signal.SIGINT)
            peak = r.peak_kb
            if ctx.get("mock"):
                ctx["mock"].close()
            entries = ctx["sink"].close() if ctx.get("sink") else case["count"](ctx)
    except Exception:
        if r.p.poll() is None:
            r.p.kill()
        r.finish()
        if ctx.get("mock"):
            ctx["mock"].close()
        raise
    if rc not in (0, None) and rc != -signal.SIGINT:
        print(f"  ({case['name']} {daemon} exited {rc}; see {d}/daemon.log)", file=sys.stderr)
    return held, peak, entries


def sqlite_ref_setup(c):
    """pmacct 1.7.7 does not create its table: the v1 schema Debian ships."""
    if not c["ours"]:
        db = sqlite3.connect(f"{c['dir']}/acct.db")
        with open("/usr/share/doc/pmacct/sql/pmacct-create-table_v1.sqlite3") as fp:
            db.executescript(fp.read())
        db.close()


def cases(args):
    five = "src_host,dst_host,src_port,dst_port,proto"

    def print_conf(agg, extra=""):
        return lambda c: (extra(c) if callable(extra) else extra) + (f"plugins: print[p]\naggregate[p]: {agg}\nprint_output[p]: csv\n"
                          f"print_num_protos[p]: true\n"
                          f"print_output_file[p]: {c['dir']}/out.csv\nprint_refresh_time[p]: 86400\n"
                          )

    def memory_count(c):
        """The client's "For a total of: N entries" (asked again if it has none)."""
        client = os.path.join(args.build, "pmacct") if c["ours"] else "/usr/bin/pmacct"
        for _ in range(3):
            out = subprocess.run([client, "-p", f"{c['dir']}/imt.pipe", "-s"],
                                 capture_output=True, text=True, timeout=TIMEOUT).stdout
            for line in out.splitlines()[-3:]:
                if line.startswith("For a total of:"):
                    return int(line.split()[4])
            time.sleep(1)
        raise RuntimeError(f"{client} -s: no total")

    def http_count(c):
        with urllib.request.urlopen(f"http://127.0.0.1:{c['port']}/api/status", timeout=30) as f:
            st = json.load(f)
        return int(st["entries"] if "entries" in st else st["plugin"]["entries"])

    sqlite_setup = sqlite_ref_setup

    def sqlite_count(c):
        db = sqlite3.connect(f"{c['dir']}/acct.db")
        n = db.execute("SELECT COUNT(*) FROM acct").fetchone()[0]
        db.close()
        return n

    # pmacct 1.7.7 allocates print_cache_entries entries of ~4 KiB up front and purges at 11x
    # that many; ours allocates 8 bytes a bucket and purges at the same 11x (in another tree)
    def cache(c):
        return f"print_cache_entries[p]: {100000 if c['ours'] else 40000}\n"

    pkt, nf, sf, frag = "pcapgen", "netflow", "sflow", "frag"
    res = [
        {"name": "memory", "prog": "pmacctd", "input": pkt, "ref": True, "live": True,
         "conf": lambda c: (f"plugins: memory[m]\naggregate[m]: {five}\n"
                            f"imt_path[m]: {c['dir']}/imt.pipe\nimt_mem_pools_number[m]: 0\n"),
         "count": memory_count},
        {"name": "print", "prog": "pmacctd", "input": pkt, "ref": True,
         "conf": print_conf(five, cache),
         "count": lambda c: csv_rows(f"{c['dir']}/out.csv")},
        {"name": "sqlite3", "prog": "pmacctd", "input": pkt, "ref": True,
         "setup": sqlite_setup,
         "conf": lambda c: (f"plugins: sqlite3[s]\naggregate[s]: {five}\n"
                            f"sql_db[s]: {c['dir']}/acct.db\nsql_refresh_time[s]: 86400\n"
                            f"sql_history[s]: 1d\nsql_history_roundoff[s]: d\n"
                            f"sql_cache_entries[s]: 100000\nsql_table_version[s]: 1\n"),
         "count": sqlite_count},
        {"name": "http", "prog": "pmacctd", "input": pkt, "ref": False, "live": True, "port": True,
         "conf": lambda c: (f"plugins: http[h]\naggregate[h]: {five}\n"
                            f"http_listen[h]: 127.0.0.1:{c['port']}\nhttp_max_entries[h]: 0\n"),
         "count": http_count},
        {"name": "kafka", "prog": "pmacctd", "input": pkt, "ref": True, "mock": True,
         "conf": lambda c: (f"plugins: kafka[k]\naggregate[k]: {five}\n"
                            f"kafka_broker_host: {c['mock'].host}\n"
                            f"kafka_broker_port: {c['mock'].port}\n"
                            f"kafka_refresh_time[k]: 86400\n"
                            f"kafka_cache_entries[k]: {100000 if c['ours'] else 40000}\n"),
         # the mock cluster's consumer saw fewer messages than the producer had delivered
         # (it lags, and the mock keeps a bounded log): the purge's own count, "QN: n/total"
         "count": lambda c: purge_qn(f"{c['dir']}/daemon.log")},
        {"name": "nfprobe", "prog": "pmacctd", "input": pkt, "ref": True, "sink": True,
         "conf": lambda c: (f"plugins: nfprobe[n]\nnfprobe_receiver[n]: 127.0.0.1:{c['sink'].port}\n"
                            f"nfprobe_version[n]: 5\nnfprobe_maxflows[n]: 2000000\n"),
         "count": lambda c: 0},
        # pmacctd 1.7.7 dies of SIGSEGV reading a capture with `flows` in an aggregate
        {"name": "flows", "prog": "pmacctd", "input": pkt, "ref": False,
         "conf": print_conf("proto,flows", "pmacctd_flow_buffer_size: 67108864\n"),
         "count": lambda c: csv_sum(f"{c['dir']}/out.csv", "FLOWS")},
        {"name": "frag", "prog": "pmacctd", "input": frag, "ref": True,
         "conf": print_conf("dst_port", "pmacctd_frag_buffer_size: 67108864\n"),
         # not observable from outside: the first fragments of distinct (src, id) offered
         "count": lambda c: c["keys"]},
        {"name": "nfacctd", "prog": "nfacctd", "input": nf, "ref": True,
         "conf": print_conf(five, cache),
         "count": lambda c: csv_rows(f"{c['dir']}/out.csv")},
        {"name": "sfacctd", "prog": "sfacctd", "input": sf, "ref": True,
         "conf": print_conf(five, cache),
         "count": lambda c: csv_rows(f"{c['dir']}/out.csv")},
    ]
    return res


def ceiling_cases(args):
    """Binned plugins with a small cache: a flood at the ceiling and one 4x over it."""
    five = "src_host,dst_host,src_port,dst_port,proto"
    return [
        {"name": "print-ceiling", "prog": "pmacctd", "input": "pcapgen", "ceiling": 1000 * 11 - 1,
         "key": "print_cache_entries 1000",
         "conf": lambda c: (f"plugins: print[p]\naggregate[p]: {five}\nprint_output[p]: csv\n"
                            f"print_output_file[p]: {c['dir']}/out.csv\n"
                            "print_output_file_append[p]: true\n"
                            f"print_refresh_time[p]: 86400\nprint_cache_entries[p]: 1000\n"),
         "count": lambda c: csv_rows(f"{c['dir']}/out.csv")},
        {"name": "sqlite3-ceiling", "prog": "pmacctd", "input": "pcapgen", "ceiling": 1000 + 60 * 100,
         "key": "sql_cache_entries 1000, sql_refresh_time 60",
         "conf": lambda c: (f"plugins: sqlite3[s]\naggregate[s]: {five}\n"
                            f"sql_db[s]: {c['dir']}/acct.db\nsql_refresh_time[s]: 60\n"
                            f"sql_cache_entries[s]: 1000\nsql_table_version[s]: 1\n"),
         "count": lambda c: sqlite3.connect(f"{c['dir']}/acct.db").execute(
             "SELECT COUNT(*) FROM acct").fetchone()[0]},
    ]


def fixed_cases(args):
    """Tables allocated (or sized) by a key at start-up: the same small input under two values of
    the key; (resident memory at the larger - at the smaller) / (difference of the values)."""
    five = "src_host,dst_host,src_port,dst_port,proto"

    def pr(extra, agg=five):
        return lambda c: (extra(c) + f"plugins: print[p]\naggregate[p]: {agg}\nprint_output[p]: csv\n"
                          f"print_output_file[p]: {c['dir']}/out.csv\nprint_refresh_time[p]: 86400\n")

    return [
        {"name": "nfprobe", "prog": "pmacctd", "ref": True, "key": "nfprobe_maxflows",
         "values": (8192, 1000000), "unit": "B/flow slot",
         "conf": lambda c: (f"plugins: nfprobe[n]\nnfprobe_receiver[n]: 127.0.0.1:9\n"
                            f"nfprobe_version[n]: 5\nnfprobe_maxflows[n]: {c['value']}\n")},
        {"name": "flows", "prog": "pmacctd", "ref": False, "key": "pmacctd_flow_buffer_size",
         "values": (16 << 20, 64 << 20), "unit": "B/B configured", "scale": 1,
         "conf": pr(lambda c: f"pmacctd_flow_buffer_size: {c['value']}\n", "proto,flows")},
        {"name": "frag", "prog": "pmacctd", "ref": True, "key": "pmacctd_frag_buffer_size",
         "values": (4 << 20, 64 << 20), "unit": "B/B configured",
         "conf": pr(lambda c: f"pmacctd_frag_buffer_size: {c['value']}\n", "dst_port")},
        {"name": "print", "prog": "pmacctd", "ref": True, "key": "print_cache_entries",
         "values": (16411, 40000), "unit": "B/bucket",
         "conf": pr(lambda c: f"print_cache_entries[p]: {c['value']}\n")},
        {"name": "sqlite3", "prog": "pmacctd", "ref": True, "key": "sql_cache_entries",
         "values": (32771, 100000), "unit": "B/bucket", "sql": True,
         "conf": lambda c: (f"plugins: sqlite3[s]\naggregate[s]: {five}\n"
                            f"sql_db[s]: {c['dir']}/acct.db\nsql_refresh_time[s]: 86400\n"
                            f"sql_cache_entries[s]: {c['value']}\nsql_table_version[s]: 1\n")},
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--work", default="/tmp/pmacct-bench/memory")
    ap.add_argument("--sizes", default="100000,400000")
    ap.add_argument("--only", default="")
    ap.add_argument("--no-ref", action="store_true")
    ap.add_argument("--no-ceiling", action="store_true")
    ap.add_argument("--no-fixed", action="store_true")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    sizes = [int(x) for x in a.sizes.split(",")]
    os.makedirs(a.work, exist_ok=True)
    pcapgen = os.path.join(a.build, "pcapgen")
    gens = {"pcapgen": lambda p, n, k: gen_pcapgen(pcapgen, p, n, k), "netflow": gen_netflow,
            "sflow": gen_sflow, "frag": gen_frags}
    inputs = {}

    def inp(kind, n, keys):
        path = os.path.join(a.work, f"in-{kind}-{n}-{keys}.pcap")
        if (kind, n, keys) not in inputs:
            if not os.path.exists(path) or os.path.getsize(path) == 0:
                gens[kind](path + ".tmp", n, keys)
                if os.path.exists(path + ".tmp.json"):
                    os.replace(path + ".tmp.json", path + ".json")
                os.replace(path + ".tmp", path)
            with open(path, "rb") as fp:  # into the page cache
                while fp.read(1 << 20):
                    pass
            inputs[(kind, n, keys)] = path
        return path

    only = set(x for x in a.only.split(",") if x)
    results = []
    print(f"{'table':9} {'daemon':6} {'packets':>7} {'entries':>7} {'held MiB':>8} {'base':>6} "
          f"{'B/entry':>7} {'peak MiB':>8} {'base':>6} {'B/entry':>7}  (base entries)")
    for c in cases(a):
        if only and c["name"] not in only:
            continue
        if c.get("mock") and not os.access(os.path.join(a.build, "kafka_mock"), os.X_OK):
            print(f"{c['name']:9} skipped: no {a.build}/kafka_mock (meson -Dkafka=enabled)")
            continue
        daemons = ["ours"] + (["1.7.7"] if c["ref"] and not a.no_ref
                              and os.path.exists(f"/usr/sbin/{c['prog']}") else [])
        for dmn in daemons:
            pts = []
            for n in sizes:
                try:
                    bh, bp, be = run_case(a, c, dmn, inp(c["input"], n, BASE_KEYS), a.work,
                                          f"{n}-base", BASE_KEYS)
                    h, pk, ent = run_case(a, c, dmn, inp(c["input"], n, n), a.work, f"{n}", n)
                except (RuntimeError, OSError, subprocess.SubprocessError, sqlite3.Error,
                        ValueError, KeyError) as e:
                    print(f"{c['name']:9} {dmn:6} {n:7d}  failed: {e}", flush=True)
                    continue
                d = ent - be
                ph = (h - bh) * 1024 / d if d > 0 else float("nan")
                pp = (pk - bp) * 1024 / d if d > 0 else float("nan")
                print(f"{c['name']:9} {dmn:6} {n:7d} {ent:7d} {h / 1024:8.1f} {bh / 1024:6.1f} "
                      f"{ph:7.0f} {pk / 1024:8.1f} {bp / 1024:6.1f} {pp:7.0f}  ({be})", flush=True)
                pts.append((n, ent, h, pk))
                results.append({"table": c["name"], "daemon": dmn, "keys": n, "entries": ent,
                                "held_kb": h, "base_held_kb": bh, "peak_kb": pk, "base_peak_kb": bp,
                                "base_entries": be, "bytes_per_entry_held": ph,
                                "bytes_per_entry_peak": pp})
            if len(pts) >= 2 and pts[-1][1] > pts[0][1]:
                de = pts[-1][1] - pts[0][1]
                sh = (pts[-1][2] - pts[0][2]) * 1024 / de
                sp = (pts[-1][3] - pts[0][3]) * 1024 / de
                print(f"{c['name']:9} {dmn:6} slope {pts[0][0]}..{pts[-1][0]}: held {sh:.0f} "
                      f"B/entry, peak {sp:.0f} B/entry", flush=True)
                results.append({"table": c["name"], "daemon": dmn, "slope_held": sh,
                                "slope_peak": sp})
    if not a.no_fixed and (not only or only & {"fixed"}):
        n = sizes[0]
        print(f"\ntables sized at start-up: {n} packets of {BASE_KEYS} keys under two values of "
              f"the key")
        print(f"{'table':9} {'daemon':6} {'key':26} {'values':>20} {'held MiB':>15}  per unit")
        for c in fixed_cases(a):
            daemons = ["ours"] + (["1.7.7"] if c["ref"] and not a.no_ref
                                  and os.path.exists(f"/usr/sbin/{c['prog']}") else [])
            for dmn in daemons:
                c2 = dict(c, name=f"fixed-{c['name']}", count=lambda ctx: 0)
                if c.get("sql") and dmn != "ours":
                    c2["setup"] = sqlite_ref_setup
                try:
                    v0, v1 = c["values"]
                    if dmn != "ours" and c["key"] == "print_cache_entries":
                        v1 = 40000
                    h0, _, _ = run_case(a, c2, dmn, inp("pcapgen", n, BASE_KEYS), a.work,
                                        f"{v0}", BASE_KEYS, v0)
                    h1, _, _ = run_case(a, c2, dmn, inp("pcapgen", n, BASE_KEYS), a.work,
                                        f"{v1}", BASE_KEYS, v1)
                except (RuntimeError, OSError, subprocess.SubprocessError, sqlite3.Error) as e:
                    print(f"{c['name']:9} {dmn:6} failed: {e}", flush=True)
                    continue
                per = (h1 - h0) * 1024 / (v1 - v0)
                print(f"{c['name']:9} {dmn:6} {c['key']:26} {f'{v0}, {v1}':>20} "
                      f"{f'{h0 / 1024:.1f}, {h1 / 1024:.1f}':>15}  {per:.2f} {c['unit']}",
                      flush=True)
                results.append({"fixed": c["name"], "daemon": dmn, "key": c["key"],
                                "values": [v0, v1], "held_kb": [h0, h1], "per_unit": per,
                                "unit": c["unit"]})
    if not a.no_ceiling and (not only or only & {"print-ceiling", "sqlite3-ceiling"}):
        print("\nbinned plugins with a small cache, ours: a flood at the ceiling and 4x over it")
        print(f"{'table':16} {'packets':>7} {'rows':>7} {'held MiB':>8} {'peak MiB':>8} "
              f"{'base held':>9} {'base peak':>9}  setting")
        for c in ceiling_cases(a):
            if only and c["name"] not in only:
                continue
            # pcapgen -n N -f N -z 0 draws about 63% of its N flows: N = 1.6 x distinct keys
            for n in (c["ceiling"] * 16 // 10, 4 * c["ceiling"] * 16 // 10):
                try:
                    bh, bp, _ = run_case(a, c, "ours", inp(c["input"], n, BASE_KEYS), a.work,
                                         f"{n}-base")
                    h, pk, ent = run_case(a, c, "ours", inp(c["input"], n, n), a.work, f"{n}")
                except (RuntimeError, OSError, subprocess.SubprocessError, sqlite3.Error) as e:
                    print(f"{c['name']:16} {n:7d}  failed: {e}", flush=True)
                    continue
                print(f"{c['name']:16} {n:7d} {ent:7d} {h / 1024:8.1f} {pk / 1024:8.1f} "
                      f"{bh / 1024:9.1f} {bp / 1024:9.1f}  {c['key']} (ceiling {c['ceiling']})",
                      flush=True)
                results.append({"table": c["name"], "daemon": "ours", "keys": n, "rows": ent,
                                "held_kb": h, "peak_kb": pk, "base_held_kb": bh,
                                "base_peak_kb": bp, "ceiling": c["ceiling"]})
    if a.json:
        with open(a.json, "w") as fp:
            json.dump(results, fp, indent=1)


if __name__ == "__main__":
    main()
