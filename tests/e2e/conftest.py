# SPDX-License-Identifier: BSD-3-Clause
"""Shared helpers for the end-to-end tests: where the binaries are, running a
daemon on a capture with a temporary config, generating and crafting
captures, parsing the print plugin's formatted / CSV / JSON output, and a
per-session cache of the reference pmacctd's outputs (run in parallel).

Environment:
  PMACCTD      our daemon (default <repo>/build/pmacctd).  Point it at
               /usr/sbin/pmacctd to run the suite against the reference.
  PCAPGEN      the capture generator (default <repo>/build/pcapgen; when
               missing it is compiled from tests/tools/pcapgen.c with cc).
  REF_PMACCTD  the reference daemon (default /usr/sbin/pmacctd).
  CI           set: a test that cannot run because the reference or a tool
               `make test-deps` installs is missing, or because the
               reference answered wrong, fails instead of skipping
               (skip_or_fail(), needs()).
"""

import concurrent.futures
import contextlib
import csv
import importlib
import io
import json
import os
import pwd
import re
import shutil
import socket
import struct
import subprocess
import signal
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers import file_has, free_port, free_tcp_port, wait_for  # noqa: F401  (for the modules)

REPO = Path(__file__).resolve().parents[2]
PMACCTD = Path(os.environ.get("PMACCTD", REPO / "build" / "pmacctd"))
PCAPGEN = Path(os.environ.get("PCAPGEN", REPO / "build" / "pcapgen"))
REF_PMACCTD = Path(os.environ.get("REF_PMACCTD", "/usr/sbin/pmacctd"))

# Every daemon runs with the same environment: UTC so that time-bins, file
# names and timestamp_* print the same everywhere.
DAEMON_ENV = dict(os.environ, TZ="UTC", LC_ALL="C")

# The reference pmacctd (1.7.7) drops packets when reading a large capture
# with its default 8 KB buffers: its core does not wait for the plugins.
# These settings (also pmacct keys our daemon accepts) make it lossless on
# the generator captures used here.
BIG_BUFFERS = "plugin_buffer_size: 1024000\nplugin_pipe_size: 102400000\n"


def pytest_sessionstart(session):
    """Our daemon missing is a failure, never a silent skip; under CI the
    reference and tshark must be there too (make test installs them)."""
    missing = []
    if not os.access(PMACCTD, os.X_OK):
        missing.append(f"our pmacctd at {PMACCTD} (make build, or set PMACCTD)")
    if os.environ.get("CI"):
        if not os.access(REF_PMACCTD, os.X_OK):
            missing.append(f"reference pmacctd at {REF_PMACCTD} (apt-get install pmacct)")
        if shutil.which("tshark") is None:
            missing.append("tshark (apt-get install tshark)")
    if missing:
        pytest.exit("cannot run the end-to-end suite, missing: " + "; ".join(missing),
                    returncode=3)


def skip_or_fail(reason, module=False):
    """The one rule for a test that cannot run because the reference pmacct
    1.7.7 or a tool that `make test-deps` installs is missing, or because the
    reference answered wrong: under CI (the CI environment variable set)
    everything must run, so the test fails; elsewhere it is skipped.
    module: called at module level (a whole module skipped)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: this must run)", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


def needs(available, reason):
    """A mark: a test that runs only when `available`; otherwise
    skip_or_fail(reason) at its set-up."""
    return pytest.mark.needs_tool(available=bool(available), reason=reason)


def import_or_skip(name, module=False):
    """importlib.import_module(name), or skip_or_fail() when it is missing."""
    try:
        return importlib.import_module(name)
    except ImportError:
        skip_or_fail(f"python module {name} missing", module=module)


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_tool(available, reason): runs only when "
                            "available, else skip_or_fail(reason)")


def pytest_runtest_setup(item):
    for m in item.iter_markers("needs_tool"):
        if not m.kwargs["available"]:
            skip_or_fail(m.kwargs["reason"])


def is_reference(binary):
    try:
        return Path(binary).resolve() == REF_PMACCTD.resolve()
    except OSError:
        return False


needs_ours = pytest.mark.skipif(
    not os.access(PMACCTD, os.X_OK),
    reason=f"our pmacctd not built at {PMACCTD} (run `meson setup build && "
    "ninja -C build`, or set PMACCTD)")
needs_ref = needs(
    os.access(REF_PMACCTD, os.X_OK),
    f"reference pmacctd missing at {REF_PMACCTD} (apt-get install pmacct); "
    "differential tests need it")
needs_tshark = needs(shutil.which("tshark") is not None,
                     "tshark not installed (apt-get install tshark)")


# ---------------------------------------------------------------------------
# Running a daemon


@dataclass
class Run:
    """The result of one daemon run in `workdir`."""
    rc: int
    stdout: str
    stderr: str
    workdir: Path
    conf: Path = None
    files: dict = field(default_factory=dict)   # relpath under out/ -> text
    modes: dict = field(default_factory=dict)   # relpath -> permission bits

    def text(self, rel):
        return self.files[rel]


def demo_src_hosts():
    """Packets and bytes per source address of examples/demo.pcap, counted by scapy."""
    from scapy.all import IP, IPv6, rdpcap
    pk, by = Counter(), Counter()
    for p in rdpcap(str(REPO / "examples" / "demo.pcap")):
        if IP in p:
            pk[p[IP].src] += 1
            by[p[IP].src] += p[IP].len
        elif IPv6 in p:
            pk[p[IPv6].src] += 1
            by[p[IPv6].src] += p[IPv6].plen + 40
    return {k: (pk[k], by[k]) for k in pk}


def collect_files(outdir):
    """Every file under outdir as ({relative path: text}, {relative path:
    mode}); a symlink becomes '-> <target basename>' so that
    print_latest_file can be compared."""
    res, modes = {}, {}
    outdir = Path(outdir)
    if not outdir.exists():
        return res, modes
    for p in sorted(outdir.rglob("*")):
        rel = str(p.relative_to(outdir))
        if p.is_symlink():
            res[rel] = "-> " + os.path.basename(os.readlink(p))
        elif p.is_file():
            res[rel] = p.read_text(errors="replace")
            modes[rel] = oct(p.stat().st_mode & 0o7777)
    return res, modes


def run_pmacctd(binary, workdir, conf=None, args=(), timeout=180, runs=1):
    """Run `binary` in workdir (created), with config text `conf` (written
    to workdir/pmacctd.conf and passed with -f) and extra `args`.  In conf
    and args, {out} is replaced by workdir/out (created) and {work} by
    workdir.  `runs` > 1 runs it that many times in a row (for the append
    tests); the last run's rc and stdout are kept, stderr is every run's,
    and a failing run stops the series.
    Returns a Run with every file left under out/."""
    workdir = Path(workdir)
    out = workdir / "out"
    out.mkdir(parents=True, exist_ok=True)
    subst = {"{out}": str(out), "{work}": str(workdir)}

    def fill(s):
        for k, v in subst.items():
            s = s.replace(k, v)
        return s

    cmd = [str(binary)]
    conf_path = None
    if conf is not None:
        conf_path = workdir / "pmacctd.conf"
        conf_path.write_text(fill(conf))
        cmd += ["-f", str(conf_path)]
    cmd += [fill(a) for a in args]
    stderr = ""
    for _ in range(runs):
        p = subprocess.run(cmd, cwd=workdir, env=DAEMON_ENV, timeout=timeout,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, errors="replace")
        stderr += p.stderr
        if p.returncode != 0:
            break
    return Run(p.returncode, p.stdout, stderr, workdir, conf_path,
               *collect_files(out))


def spawn_daemon(binary, conf, text, log, env=DAEMON_ENV, args=()):
    """Write config text to the file conf and start `binary -f conf args` in the
    background, its stdout and stderr into the file log; returns the Popen
    (the caller stops it and waits)."""
    conf.write_text(text)
    with open(log, "w") as lf:
        return subprocess.Popen([str(binary), "-f", str(conf), *args], stdout=lf,
                                stderr=subprocess.STDOUT, env=env)


def collector_print_conf(daemon, port, aggregate, fmt, out, ip="127.0.0.1"):
    """Config text of a collector (daemon: nfacctd or sfacctd) on ip:port with
    one print plugin p writing aggregate as fmt to the file out, purged only
    at the end."""
    return (f"{daemon}_ip: {ip}\n{daemon}_port: {port}\nplugins: print[p]\n"
            f"aggregate[p]: {aggregate}\nprint_output[p]: {fmt}\n"
            f"print_output_file[p]: {out}\nprint_refresh_time[p]: 3600\n")


def assert_clean_exit(run, what="pmacctd"):
    assert run.rc == 0, (f"{what} exited {run.rc}\n--- stderr:\n"
                         f"{run.stderr[-4000:]}\n--- stdout:\n{run.stdout[-2000:]}")


# ---------------------------------------------------------------------------
# Output parsers: each returns (header, rows) with rows sorted, so that the
# hash-table order of the daemon does not matter.


def parse_csv(text, sep=","):
    """CSV as written by the print plugin: header line then rows.  Marker
    lines (--START/--END) are skipped.  Returns (header, sorted rows)."""
    lines = [ln for ln in text.splitlines()
             if ln and not ln.startswith("--START") and not ln.startswith("--END")]
    if not lines:
        return [], []
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=sep)
    header = next(reader)
    rows = [r for r in reader if r != header]
    return header, sorted(rows)


def parse_formatted(text):
    """Fixed-width table: columns start where the header names start (values
    such as timestamps contain spaces, so no whitespace split).  Returns
    (header, sorted rows of stripped strings)."""
    header_line = None
    rows = []
    for ln in text.splitlines():
        if not ln.strip() or ln.startswith("--START") or ln.startswith("--END") \
                or ln.startswith("For a total of"):
            continue
        if header_line is None:
            header_line = ln
            starts = [m.start() for m in re.finditer(r"\S+", ln)]
            header = ln.split()
            continue
        if ln == header_line:
            continue
        bounds = starts[1:] + [None]
        rows.append([ln[a:b].strip() for a, b in zip(starts, bounds)])
    if header_line is None:
        return [], []
    return header, sorted(rows)


def parse_json_lines(text):
    """One JSON object per line; returns the list of dicts in file order."""
    return [json.loads(ln) for ln in text.splitlines() if ln.strip()]


def rows_to_dicts(header, rows):
    return [dict(zip(header, r)) for r in rows]


def csv_dicts(text, sep=","):
    return rows_to_dicts(*parse_csv(text, sep))


# ---------------------------------------------------------------------------
# Normalising outputs for differential comparison


_NORMALISE = [
    (re.compile(r"^--(START|END) \(\d+\)--$"), r"--\1 (PID)--"),
    (re.compile(r'"writer_id": "([^"/]*)/\d+"'), r'"writer_id": "\1/PID"'),
    (re.compile(r'"duration": [0-9.]+'), r'"duration": 0'),
    (re.compile(r'"stamp_updated": "[^"]*"(, )?'), r""),
    (re.compile(r'"stamp_updated": null(, )?'), r""),
]


def normalise_text(text, outdir=None):
    """Strip what legitimately differs between two runs: writer PIDs in
    markers, the purge duration, the wall-clock stamp_updated and the
    output directory's path.  Returns (first line, sorted lines)."""
    if outdir is not None:
        text = text.replace(str(outdir), "<OUT>")
    lines = []
    for ln in text.splitlines():
        for rx, rep in _NORMALISE:
            ln = rx.sub(rep, ln)
        lines.append(ln)
    return (lines[0] if lines else None), sorted(lines)


# ---------------------------------------------------------------------------
# Captures


def _build_pcapgen(tmpdir):
    """Our meson build makes build/pcapgen; without a build, compile it."""
    if os.access(PCAPGEN, os.X_OK):
        return PCAPGEN
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        skip_or_fail(f"no pcapgen at {PCAPGEN} and no C compiler")
    exe = Path(tmpdir) / "pcapgen"
    subprocess.run([cc, "-O2", "-std=c11", "-D_GNU_SOURCE", "-o", str(exe),
                    str(REPO / "tests/tools/pcapgen.c"), "-lm"], check=True)
    return exe


@pytest.fixture(scope="session")
def pcapgen(tmp_path_factory):
    """A function gen(n, flows, seed=1, **opts) -> (pcap path, tallies dict),
    memoised for the session.  opts: snaplen, duration, no_icmp, no_frag,
    v4_only."""
    base = tmp_path_factory.mktemp("pcapgen")
    exe = _build_pcapgen(base)
    cache = {}
    lock = threading.Lock()

    def gen(n, flows, seed=1, snaplen=128, duration=60, no_icmp=False,
            no_frag=False, v4_only=False):
        key = (n, flows, seed, snaplen, duration, no_icmp, no_frag, v4_only)
        with lock:
            if key in cache:
                return cache[key]
            stem = base / ("g_%d_%d_%d_%d_%s%s%s%s" % (
                n, flows, seed, snaplen, duration, "I" if no_icmp else "",
                "F" if no_frag else "", "4" if v4_only else ""))
            cmd = [str(exe), "-n", str(n), "-f", str(flows), "-s", str(seed),
                   "-S", str(snaplen), "-d", str(duration),
                   "-o", f"{stem}.pcap", "-t", f"{stem}.json"]
            cmd += ["--no-icmp"] * no_icmp + ["--no-frag"] * no_frag + \
                ["--v4-only"] * v4_only
            subprocess.run(cmd, check=True)
            with open(f"{stem}.json") as fp:
                cache[key] = (Path(f"{stem}.pcap"), json.load(fp))
            return cache[key]

    return gen


# A small hand-made capture covering what pmacct decodes: IPv4 and IPv6,
# TCP (flags varied), UDP, ICMP/ICMPv6, 802.1Q with priority, QinQ, MPLS
# (one label), IPv4 fragments, ToS, ARP (not accounted), spread over
# three minutes so that 1-minute time-bins split it.  Built with scapy.

CRAFT_T0 = 1700000000      # 2023-11-14 22:13:20 UTC


def craft_packets(icmp=True):
    from scapy.all import (ARP, Dot1Q, Ether, ICMP, ICMPv6EchoRequest, IP,
                           IPv6, Raw, TCP, UDP, fragment)
    from scapy.contrib.mpls import MPLS

    m1, m2, m3 = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"
    pk = []

    def add(p, n=1):
        for _ in range(n):
            pk.append(p.copy())

    e12 = Ether(src=m1, dst=m2)
    e21 = Ether(src=m2, dst=m1)
    # TCP conversation, both directions, flags varied, payload 100 -> 140 B
    add(e12 / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=12345, dport=80, flags="S"))
    add(e21 / IP(src="10.0.0.2", dst="10.0.0.1") / TCP(sport=80, dport=12345, flags="SA"))
    add(e12 / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=12345, dport=80, flags="A"))
    add(e12 / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=12345, dport=80, flags="PA") / Raw(b"x" * 100), 3)
    add(e21 / IP(src="10.0.0.2", dst="10.0.0.1", tos=0x28) / TCP(sport=80, dport=12345, flags="PA") / Raw(b"y" * 1200), 2)
    add(e12 / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=12345, dport=80, flags="FA"))
    add(e12 / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=12345, dport=80, flags="R"))
    # UDP, DNS-like, and a second host pair with ToS
    add(e12 / IP(src="10.0.0.1", dst="8.8.8.8") / UDP(sport=5353, dport=53) / Raw(b"q" * 30), 2)
    add(Ether(src=m3, dst=m2) / IP(src="192.168.1.5", dst="10.0.0.2", tos=0xb8) / UDP(sport=1000, dport=2000) / Raw(b"r" * 50))
    # IPv6 TCP and UDP
    add(e12 / IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=4000, dport=443, flags="S"))
    add(e21 / IPv6(src="2001:db8::2", dst="2001:db8::1", tc=0x20) / TCP(sport=443, dport=4000, flags="SA") / Raw(b"z" * 300))
    add(e12 / IPv6(src="2001:db8:0:1::10", dst="2001:db8::2") / UDP(sport=546, dport=547) / Raw(b"d" * 20))
    # 802.1Q with priority, and QinQ (two 0x8100 tags)
    add(e12 / Dot1Q(vlan=100, prio=5) / IP(src="10.1.0.1", dst="10.1.0.2") / UDP(sport=7000, dport=7001) / Raw(b"v" * 64), 2)
    add(e21 / Dot1Q(vlan=100, prio=5) / IP(src="10.1.0.2", dst="10.1.0.1") / TCP(sport=22, dport=50000, flags="PA") / Raw(b"s" * 48))
    add(e12 / Dot1Q(vlan=200, prio=1) / IPv6(src="2001:db8:200::1", dst="2001:db8:200::2") / UDP(sport=9, dport=9) / Raw(b"w" * 10))
    add(e12 / Dot1Q(vlan=300, prio=3) / Dot1Q(vlan=301) / IP(src="10.3.0.1", dst="10.3.0.2") / TCP(sport=1111, dport=2222, flags="S"), 2)
    # MPLS, one label (pmacct 1.7.7 drops frames with a deeper stack, so
    # those are tested on our daemon alone, in test_pmacctd_files.py)
    add(Ether(src=m1, dst=m3, type=0x8847) / MPLS(label=1000, cos=2, s=1, ttl=64) / IP(src="10.4.0.1", dst="10.4.0.2") / UDP(sport=3000, dport=4000) / Raw(b"m" * 80))
    add(Ether(src=m1, dst=m3, type=0x8847) / MPLS(label=17, s=1, ttl=64) / IP(src="10.4.0.1", dst="10.4.0.3") / TCP(sport=3001, dport=179, flags="A"))
    # IPv4 fragments of one UDP datagram (first carries the ports)
    big = IP(src="10.5.0.1", dst="10.5.0.2", id=4242) / UDP(sport=6000, dport=6001) / Raw(b"f" * 3000)
    for f in fragment(big, fragsize=1480):
        add(e12 / f)
    # not accounted: ARP
    add(Ether(src=m1, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.0.1", pdst="10.0.0.9"))
    if icmp:
        add(e12 / IP(src="10.0.0.3", dst="10.0.0.2") / ICMP(type=8) / Raw(b"p" * 20))
        add(e21 / IP(src="10.0.0.2", dst="10.0.0.3") / ICMP(type=0) / Raw(b"p" * 20))
        add(e12 / IPv6(src="2001:db8::1", dst="2001:db8::2") / ICMPv6EchoRequest(data=b"e" * 16))
    # spread over three minutes, strictly increasing
    step = 180.0 / len(pk)
    for i, p in enumerate(pk):
        p.time = CRAFT_T0 + i * step
    return pk


def write_pcap(path, pkts, linktype=None):
    from scapy.all import wrpcap
    if linktype is None:
        wrpcap(str(path), pkts)
    else:
        wrpcap(str(path), pkts, linktype=linktype)
    return Path(path)


@pytest.fixture(scope="session")
def crafted(tmp_path_factory):
    """Paths of the crafted captures: 'eth' (with ICMP), 'eth_noicmp', and
    'sll' (the same IP packets in Linux cooked capture, DLT 113)."""
    from scapy.all import CookedLinux, Ether
    d = tmp_path_factory.mktemp("crafted")
    res = {"eth": write_pcap(d / "eth.pcap", craft_packets(icmp=True)),
           "eth_noicmp": write_pcap(d / "eth_noicmp.pcap", craft_packets(icmp=False))}
    sll = []
    for p in craft_packets(icmp=True):
        if p.haslayer(Ether):
            e = p[Ether]
            q = CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6,
                            src=bytes.fromhex(e.src.replace(":", "")) + b"\0\0",
                            proto=e.type) / e.payload
            q.time = p.time
            sll.append(q)
    res["sll"] = write_pcap(d / "sll.pcap", sll, linktype=113)
    # a ports_file for the differential cases ({pcap_ports} in a config):
    # ports of the crafted traffic, a comment and a bad line pmacct skips
    ports = d / "ports.lst"
    ports.write_text("! web and dns\n80\n53\n443\nbogus\n7001\n")
    res["ports"] = ports
    # a pre_tag_map setting labels ({pcap_labels}): web over TCP port 80, dns
    labels = d / "labels.map"
    labels.write_text("set_label=web filter='tcp port 80'\nset_label=dns filter='udp port 53'\n"
                      "set_tag=7 filter='ip6'\n")
    res["labels"] = labels
    return res


# ---------------------------------------------------------------------------
# The reference's outputs, run in parallel and cached for the session


# Signs that a reference run lost its traffic: pmacct 1.7.7's core starts
# reading 2 s after forking the plugins whether they are ready or not, so on
# a loaded machine a plugin may miss everything ("QN: 0/0") or be gone.
_REF_SUSPECT = re.compile(r"QN: 0/0|seems\* gone")
# ... and at the end of a capture its core may see a plugin that already purged and exited as
# lost ("connection lost to 'p-print'", "no more plugins active") and exit 1.
REF_EXIT_RACE = re.compile(r"connection lost to '[^']+'; closing connection")


def _ref_lost_traffic(run, conf, runs):
    if _REF_SUSPECT.search(run.stderr):
        return True
    m = re.search(r"^plugins:(.*)$", conf or "", re.M)
    nplugins = m.group(1).count("[") if m else 1
    return run.stderr.count("Purging cache - END") < nplugins * runs


def ref_pause(attempt):
    """Before retry `attempt` (1, 2, ...) of a reference run: 0, 2, 4, 6 s.  The load that
    kept 1.7.7's plugin from coming up (both e2e shards starting at once) can last for several
    quick tries in a row."""
    time.sleep(2 * (attempt - 1))


def retry_reference(run, good=None, attempts=4, what="reference"):
    """The one retry of a reference run (1.7.7 or master; never ours, which runs once: a
    retry would hide its bugs).  run(attempt), attempt 0, 1, ..., performs one complete
    reference run (its own directory and ports each time) and returns its result; the first
    result for which good(result) is true (good None: any result) is returned.  A run that
    raises (a check or a wait that timed out inside the scenario, a row missing) is not good
    either.  Before retry i, ref_pause(i).  When no try is good, the last result is returned
    (or the last try's exception raised), so that the test fails on its own assertion with
    the real output, never passes silently.  (A skip or pytest.fail inside run() is not
    retried.)"""
    for i in range(attempts):
        if i:
            ref_pause(i)
        try:
            result = run(i)
        except Exception as e:
            if i + 1 == attempts:
                raise
            print(f"{what}: try {i + 1} of {attempts} failed, retried: {e!r:.300}")
            continue
        if good is None or good(result):
            return result
        print(f"{what}: try {i + 1} of {attempts} not good"
              + (", retried" if i + 1 < attempts else ""))
    return result


def run_reference(workdir, attempts=4, good=None, **kwargs):
    """run_pmacctd with the reference, retried (retry_reference, in a fresh workdir) when
    the run shows the start-up or the exit race above, or (good given) when a clean run
    is not good(run)."""
    def once(_):
        shutil.rmtree(workdir, ignore_errors=True)
        return run_pmacctd(REF_PMACCTD, workdir, **kwargs)

    def ok(run):
        if run.rc != 0:
            return not REF_EXIT_RACE.search(run.stderr)
        return (not _ref_lost_traffic(run, kwargs.get("conf"), kwargs.get("runs", 1))
                and (good is None or good(run)))
    return retry_reference(once, ok, attempts, "reference pmacctd")


class RefCache:
    """Runs the reference pmacctd for a set of cases at once (threads: each
    run mostly sleeps) and keeps the results for the session."""

    def __init__(self, base):
        self.base = Path(base)
        self.results = {}
        self.lock = threading.Lock()

    def prefetch(self, jobs, workers=6):
        """jobs: {name: kwargs for run_pmacctd (without binary/workdir)}."""
        todo = {k: v for k, v in jobs.items() if k not in self.results}
        if not todo:
            return
        with concurrent.futures.ThreadPoolExecutor(workers) as ex:
            futs = {k: ex.submit(run_reference, self.base / k, **v)
                    for k, v in todo.items()}
            for k, f in futs.items():
                self.results[k] = f.result()

    def get(self, name, good=None, **kwargs):
        """The reference's run of case `name`; with `good`, a kept run that is not good(run)
        is run again (run_reference, its retries) and the new run kept."""
        with self.lock:
            run = self.results.get(name)
            if run is None or (good is not None and run.rc == 0 and not good(run)):
                run = self.results[name] = run_reference(self.base / name, good=good, **kwargs)
            return run


@pytest.fixture(scope="session")
def ref_cache(tmp_path_factory):
    return RefCache(tmp_path_factory.mktemp("ref"))


# ---------------------------------------------------------------------------
# NetFlow v5 exports for replays (nfacctd into SQL, Kafka, ...)


def netflow_v5_datagrams(n_datagrams=40, per=30, seed=11):
    """NetFlow v5 export datagrams (24-byte header, 48-byte records, as in
    as Cisco defines them); returns ([(unix_secs, payload)], {(src, dst, proto):
    (packets, bytes)}) with the totals the records carry."""
    import random
    import struct
    rnd = random.Random(seed)
    hosts = [f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
             for _ in range(25)]
    exp, out = {}, []
    for d in range(n_datagrams):
        recs = b""
        for _ in range(per):
            src, dst = rnd.choice(hosts), rnd.choice(hosts)
            proto = rnd.choice((6, 17))
            pkts, octets = rnd.randrange(1, 50), rnd.randrange(40, 60000)
            recs += struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", socket.inet_aton(src),
                                socket.inet_aton(dst), bytes(4), 1, 2, pkts, octets,
                                90000, 99000, rnd.randrange(1024, 65535), 443, 0, 0x18,
                                proto, 0, 0, 0, 24, 24, 0)
            k = (src, dst, proto)
            p, b = exp.get(k, (0, 0))
            exp[k] = (p + pkts, b + octets)
        hdr = struct.pack("!HHIIIIBBH", 5, per, 100000, 1700000000 + d, 0, d * per, 0, 0, 0)
        out.append((1700000000 + d, hdr + recs))
    return out, exp


def write_netflow_v5_pcap(path, **kw):
    """The datagrams of netflow_v5_datagrams() in UDP frames of a pcap."""
    import struct
    grams, exp = netflow_v5_datagrams(**kw)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for ts, msg in grams:
            udp = struct.pack("!HHHH", 40000, 2100, 8 + len(msg), 0) + msg
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             bytes((192, 0, 2, 1)), bytes((192, 0, 2, 100)))
            frame = b"\0" * 12 + b"\x08\x00" + ip + udp
            f.write(struct.pack("<IIII", ts, 0, len(frame), len(frame)) + frame)
    return exp


def u32(*v):
    """Big-endian 32-bit words (sFlow is made of them)."""
    return b"".join(struct.pack(">I", x & 0xffffffff) for x in v)


def sf_frame(src, dst, sport, payload):
    """Ethernet + IPv4 + UDP (to port 53) headers of a frame with `payload` bytes,
    as an sFlow sample carries them."""
    l4 = struct.pack(">HHHH", sport, 53, 8 + payload, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28 + payload, 1, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return bytes.fromhex("66778899aabb001122334455") + b"\x08\x00" + ip + l4


class UdpSink:
    """A UDP receiver on 127.0.0.1:port (0: one the kernel picks, in .port)
    collecting (datagram, sender) pairs in a thread until close()."""

    def __init__(self, port=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.got = []
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_flag:
            try:
                self.got.append(self.sock.recvfrom(65535))
            except socket.timeout:
                pass

    def wait_count(self, n, timeout=10):
        """Wait until n datagrams arrived (at most timeout seconds); how many did."""
        end = time.time() + timeout
        while time.time() < end and len(self.got) < n:
            time.sleep(0.02)
        return len(self.got)

    def close(self):
        """Stop receiving (after a short grace for datagrams in flight); all (datagram, sender)."""
        time.sleep(0.2)
        self.stop_flag = True
        self.thread.join()
        self.sock.close()
        return self.got

    def datagrams(self):
        """close(), keeping only the datagrams."""
        return [d for d, _ in self.close()]


def tee_map_text(sinks, pools):
    """A tee_receivers map: pool id i (from 1) is pools[i - 1] = (names, options),
    the UdpSinks sinks[name] for each name, then the options ("" for none)."""
    lines = []
    for i, (names, opts) in enumerate(pools, 1):
        ips = ",".join(f"127.0.0.1:{sinks[n].port}" for n in names)
        lines.append(f"id={i} ip={ips}" + (f" {opts}" if opts else "") + "\n")
    return "".join(lines)


# ---------------------------------------------------------------------------
# SQL servers of our own (PostgreSQL, MariaDB), started for a module and thrown away


PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
PG_BIN = PG_BIN[-1] if PG_BIN else None
MARIADBD = shutil.which("mariadbd") or (
    "/usr/sbin/mariadbd" if os.path.exists("/usr/sbin/mariadbd") else None)


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class Postgres:
    """A throw-away PostgreSQL cluster owned by the postgres user."""

    def __init__(self, base):
        self.dir = Path(base) / "pg"
        self.dir.mkdir(parents=True)
        shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_tcp_port()
        self.data = self.dir / "data"

    def _as_pg(self, *cmd, check=True):
        return subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=check,
                              capture_output=True, text=True, env=dict(DAEMON_ENV))

    def init(self):
        self._as_pg(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust",
                    "-U", "postgres", "--no-sync")
        self.start()
        self.psql("CREATE USER pmacct PASSWORD 'arealsmartpwd'")
        self.psql("CREATE DATABASE pmacct OWNER pmacct")

    def start(self):
        self._as_pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
                    "-w", "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c timezone=UTC", "start")

    def stop(self, mode="fast"):
        self._as_pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop",
                    check=False)

    def psql(self, sql, db="postgres", user="postgres"):
        r = self._as_pg(str(PG_BIN / "psql"), "-h", str(self.dir), "-p", str(self.port),
                        "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "|",
                        "-c", sql)
        return [ln.split("|") for ln in r.stdout.splitlines() if ln]

    def conf(self):
        return f"sql_host: 127.0.0.1\nsql_port: {self.port}\n"


class Mariadb:
    """A throw-away MariaDB server run as the mysql user."""

    def __init__(self, base):
        self.dir = Path(base) / "my"
        self.dir.mkdir(parents=True)
        shutil.chown(self.dir, "mysql", "mysql")
        self.port = free_tcp_port()
        self.sock = self.dir / "sock"
        self.proc = None

    def init(self):
        subprocess.run(["mariadb-install-db", f"--datadir={self.dir}/data", "--user=mysql",
                        "--auth-root-authentication-method=socket", "--skip-test-db"],
                       check=True, capture_output=True)
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [MARIADBD, "--no-defaults", f"--datadir={self.dir}/data", "--user=mysql",
             f"--socket={self.sock}", f"--port={self.port}", "--bind-address=127.0.0.1",
             f"--pid-file={self.dir}/pid", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0",
             f"--log-error={self.dir}/err.log", "--default-time-zone=+00:00"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(self.sock.exists, 60):
            raise RuntimeError("mariadbd did not start: " +
                               (self.dir / "err.log").read_text(errors="replace")[-2000:])

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(60)
            self.proc = None

    def sql(self, sql, db=None):
        cmd = ["mariadb", "-S", str(self.sock), "-u", "root", "-N", "-B", "-e", sql]
        if db:
            cmd.insert(1, db)
        r = subprocess.run(cmd, check=True, capture_output=True, text=True)
        return [ln.split("\t") for ln in r.stdout.splitlines() if ln]


@contextlib.contextmanager
def postgres_server(prefix):
    """A PostgreSQL server of our own on loopback for the block (skips without one)."""
    if PG_BIN is None or not user_exists("postgres"):
        skip_or_fail("PostgreSQL server binaries missing (apt-get install postgresql)")
    base = tempfile.mkdtemp(prefix=prefix)   # pytest's own tmp is root-only
    os.chmod(base, 0o755)
    srv = Postgres(base)
    try:
        srv.init()
        yield srv
    finally:
        srv.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    with postgres_server("pmng-sql-") as srv:
        yield srv


@pytest.fixture(scope="module")
def my(tmp_path_factory):
    if MARIADBD is None or not user_exists("mysql"):
        skip_or_fail("MariaDB server binaries missing (apt-get install mariadb-server)")
    base = tempfile.mkdtemp(prefix="pmng-sql-")
    os.chmod(base, 0o755)
    srv = Mariadb(base)
    try:
        srv.init()
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------------------
# Servers and daemons several modules use: the Kafka mock cluster, a
# throw-away RabbitMQ node, a pair of network namespaces, a memory-plugin
# pmacctd and its client.

PMACCT = Path(os.environ.get("PMACCT", REPO / "build" / "pmacct"))
KAFKA_MOCK = Path(os.environ.get("KAFKA_MOCK", PMACCTD.parent / "kafka_mock"))
RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def plugin_supported(ptype):
    """Our pmacctd was built with this plugin (meson feature on)."""
    conf = f"plugins: {ptype}[x]\n"
    r = subprocess.run([str(PMACCTD), "-f", "/dev/stdin", "-I", "/dev/null"], input=conf,
                       capture_output=True, text=True, timeout=30, env=DAEMON_ENV)
    return "is not available" not in r.stderr + r.stdout


# --------------------------------------------------------------------------------------------
# Kafka (librdkafka mock cluster)

class KafkaMock:
    def __init__(self, topics):
        self.p = subprocess.Popen([str(KAFKA_MOCK)] + topics, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True, bufsize=1)
        line = self.p.stdout.readline().split()
        assert line and line[0] == "BOOTSTRAP", line
        self.host, self.port = line[1].split(",")[0].rsplit(":", 1)
        self.msgs = []    # (topic, key, payload)
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        """(topic, key, payload, message_id header)"""
        for line in self.p.stdout:
            parts = line.rstrip("\n").split(" ", 4)
            if parts[0] == "MSG":
                with self.lock:
                    self.msgs.append((parts[1], parts[2], parts[4].replace("\x1e", "\n"),
                                      None if parts[3] == "-" else parts[3]))

    def cmd(self, c):
        self.p.stdin.write(c + "\n")
        self.p.stdin.flush()

    def payloads(self, settle=2.0, want=None, timeout=30):
        """Messages consumed so far, after none arrived for `settle` seconds."""
        end = time.time() + timeout
        last, n = time.time(), -1
        while time.time() < end:
            with self.lock:
                cur = len(self.msgs)
            if cur != n:
                n, last = cur, time.time()
            elif time.time() - last >= settle and (want is None or cur >= want):
                break
            time.sleep(0.2)
        with self.lock:
            return list(self.msgs)

    def stop(self):
        try:
            self.cmd("quit")
        except BrokenPipeError:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()


@pytest.fixture
def kafka():
    if not os.access(KAFKA_MOCK, os.X_OK):
        pytest.skip(f"no {KAFKA_MOCK} (meson -Dkafka=enabled)")
    if not plugin_supported("kafka"):
        pytest.skip("pmacctd built without the kafka plugin")
    k = KafkaMock(["pmacct.acct", "t42"])
    yield k
    k.stop()


# --------------------------------------------------------------------------------------------
# RabbitMQ (throw-away node)

class Rabbit:
    def __init__(self, base):
        self.base = Path(base)
        self.port = free_tcp_port()
        self.dist = free_tcp_port()
        self.ref_port = not port_open(5672)     # pmacct 1.7.7 can only use 5672
        defs = {
            "users": [{"name": "guest", "password": "guest", "tags": "administrator"}],
            "vhosts": [{"name": "/"}],
            "permissions": [{"user": "guest", "vhost": "/", "configure": ".*",
                             "write": ".*", "read": ".*"}],
            "exchanges": [{"name": "pmacct", "vhost": "/", "type": "direct", "durable": False,
                           "auto_delete": False, "internal": False, "arguments": {}}],
            "queues": [{"name": "q", "vhost": "/", "durable": True, "auto_delete": False,
                        "arguments": {}}],
            "bindings": [{"source": "pmacct", "vhost": "/", "destination": "q",
                          "destination_type": "queue", "routing_key": "acct",
                          "arguments": {}}],
        }
        (self.base / "defs.json").write_text(json.dumps(defs))
        conf = (f"load_definitions = {self.base}/defs.json\nloopback_users = none\n"
                f"listeners.tcp.1 = 127.0.0.1:{self.port}\n")
        if self.ref_port:
            conf += "listeners.tcp.2 = 127.0.0.1:5672\n"
        (self.base / "rabbitmq.conf").write_text(conf)
        (self.base / "enabled_plugins").write_text("[].\n")
        self.env = dict(os.environ, HOME=str(self.base),
                        RABBITMQ_NODENAME=f"pmng{self.port}@localhost",
                        RABBITMQ_NODE_PORT=str(self.port), RABBITMQ_DIST_PORT=str(self.dist),
                        RABBITMQ_MNESIA_BASE=str(self.base / "mnesia"),
                        RABBITMQ_LOG_BASE=str(self.base / "log"),
                        RABBITMQ_CONFIG_FILE=str(self.base / "rabbitmq.conf"),
                        RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base / "enabled_plugins"),
                        RABBITMQ_PID_FILE=str(self.base / "pid"))
        self.p = None

    def start(self):
        out = open(self.base / "server.log", "a")
        self.p = subprocess.Popen([str(RABBIT_BIN / "rabbitmq-server")], env=self.env,
                                  stdout=out, stderr=subprocess.STDOUT)
        for _ in range(240):
            if port_open(self.port):
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.5)
        raise RuntimeError("rabbitmq-server did not start: " +
                           (self.base / "server.log").read_text()[-2000:])

    def stop(self):
        subprocess.run([str(RABBIT_BIN / "rabbitmqctl"), "stop"], env=self.env,
                       capture_output=True, timeout=60)
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()

    def channel(self):
        import pika
        conn = pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1",
                                                                 port=self.port))
        return conn, conn.channel()

    def tap(self, name):
        """A second queue bound like q (a direct exchange copies each message to both)."""
        conn, ch = self.channel()
        ch.queue_declare(name, durable=True)
        ch.queue_purge(name)
        ch.queue_bind(name, "pmacct", routing_key="acct")
        conn.close()

    def untap(self, name):
        conn, ch = self.channel()
        ch.queue_delete(name)
        conn.close()

    def drain(self, settle=2.0, queue="q"):
        """Every message in the queue: [(properties, body)]."""
        conn, ch = self.channel()
        out = []
        for m, props, body in ch.consume(queue, inactivity_timeout=settle):
            if m is None:
                break
            out.append((props, body.decode()))
            ch.basic_ack(m.delivery_tag)
        ch.cancel()
        conn.close()
        return out


@pytest.fixture(scope="module")
def rabbit(tmp_path_factory):
    if not (RABBIT_BIN / "rabbitmq-server").exists():
        skip_or_fail("rabbitmq-server not installed")
    import_or_skip("pika")
    if not plugin_supported("amqp"):
        pytest.skip("pmacctd built without the amqp plugin")
    r = Rabbit(tmp_path_factory.mktemp("rabbit"))
    r.start()
    yield r
    r.stop()


def netns_sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


@pytest.fixture
def netns_pair():
    """Two fresh namespaces joined by a veth pair, removed afterwards.
    Yields (capture ns, capture if, sender ns, sender if, sender MAC,
    capture MAC)."""
    tag = uuid.uuid4().hex[:6]
    ns_cap, ns_snd = f"pmtc{tag}", f"pmts{tag}"
    if_cap, if_snd = f"vc{tag}", f"vs{tag}"
    created = []

    def cleanup():
        for ns in created:
            netns_sh("ip", "netns", "del", ns, check=False)

    try:
        for ns in (ns_cap, ns_snd):
            netns_sh("ip", "netns", "add", ns)
            created.append(ns)
        netns_sh("ip", "link", "add", if_cap, "netns", ns_cap, "type", "veth",
           "peer", "name", if_snd, "netns", ns_snd)
        for ns, ifn, a4, a6 in ((ns_cap, if_cap, "10.203.0.1/24", "fd00:203::1/64"),
                                (ns_snd, if_snd, "10.203.0.2/24", "fd00:203::2/64")):
            netns_sh("ip", "-n", ns, "link", "set", "lo", "up")
            netns_sh("ip", "-n", ns, "addr", "add", a4, "dev", ifn)
            netns_sh("ip", "-n", ns, "addr", "add", a6, "dev", ifn, "nodad")
            # no router solicitations / DAD noise on the captured link
            netns_sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w",
               f"net.ipv6.conf.{ifn}.accept_ra=0", check=False)
            netns_sh("ip", "-n", ns, "link", "set", ifn, "up")
    except (subprocess.CalledProcessError, OSError) as e:
        cleanup()
        pytest.skip(f"cannot create network namespaces / veth: {e}")
    mac = {}
    for ns, ifn in ((ns_cap, if_cap), (ns_snd, if_snd)):
        out = netns_sh("ip", "-n", ns, "-o", "link", "show", ifn).stdout
        mac[ifn] = out.split("link/ether ")[1].split()[0]
    try:
        yield ns_cap, if_cap, ns_snd, if_snd, mac[if_snd], mac[if_cap]
    finally:
        cleanup()


class MemoryDaemon:
    """pmacctd on a capture with pcap_savefile_wait, memory plugins named in
    `plugins` ({name: aggregate}); sockets are workdir/<name>.pipe."""

    def __init__(self, binary, workdir, pcap, plugins, extra=""):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sock = {n: str(self.workdir / f"{n}.pipe") for n in plugins}
        lines = ["plugins: " + ", ".join(f"memory[{n}]" for n in plugins)]
        for n, agg in plugins.items():
            lines += [f"aggregate[{n}]: {agg}", f"imt_path[{n}]: {self.sock[n]}"]
        lines += [f"pcap_savefile: {pcap}", "pcap_savefile_wait: true", BIG_BUFFERS + extra]
        self.conf = self.workdir / "pmacctd.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.log = open(self.workdir / "pmacctd.log", "w")
        self.proc = subprocess.Popen([str(binary), "-f", str(self.conf)], cwd=self.workdir,
                                     env=DAEMON_ENV, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    def wait(self, client, name, total_bytes=None, timeout=60):
        """Until the socket answers (and holds total_bytes, when given)."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if os.path.exists(self.sock[name]):
                rc, out = run_client(client, self.sock[name], "-c", "src_host", "-N", "*")
                if rc == 0 and out.strip().isdigit():
                    last = int(out)
                    if total_bytes is None or last == total_bytes:
                        return last
            time.sleep(0.1)
        raise AssertionError(f"{self.sock[name]}: not ready (last total {last})\n" + self.logtext())

    def wait_log(self, text, timeout=60):
        """Until the daemon's log says `text` (the reference must not be
        queried while it reads the capture: its plugins then stop taking
        data, as seen with 1.7.7)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.logtext():
                return
            time.sleep(0.2)
        raise AssertionError(f"no '{text}' in the log\n" + self.logtext())

    def logtext(self):
        self.log.flush()
        return (self.workdir / "pmacctd.log").read_text()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def run_client(binary, sock, *args, timeout=60):
    p = subprocess.run([str(binary), "-p", str(sock), *args], capture_output=True, text=True,
                       timeout=timeout, env=DAEMON_ENV)
    return p.returncode, p.stdout
