# SPDX-License-Identifier: BSD-3-Clause
"""nfacctd and sfacctd against real exporters.

A generator capture (pcapgen) is exported by real probes over loopback:
softflowd (NetFlow v5, v9, IPFIX; with and without its periodic sampling),
Debian's pmacctd 1.7.7 with its nfprobe plugin (v5, v9, IPFIX) and with its
sfprobe plugin (sFlow v5, sampling 1 and 10).  The test owns the UDP socket
the probes send to, and writes every datagram it receives into a pcap (as
sent by a chosen 127.0.0.x exporter), so that the collectors then read the
exports with -I, deterministically.

Checked:
  interop       our totals per flow (src, dst, ports, proto) equal tshark's
                NetFlow/IPFIX dissection of the same datagrams (sFlow: its
                sample count and frame lengths); at sampling rate 1 they
                equal the capture's own totals (tshark on the capture)
  differential  our print plugin JSON rows equal Debian's nfacctd/sfacctd
                1.7.7 on the same datagrams and config, as multisets, with
                several exporters (127.0.0.11..) at once, with v5 header
                sampling, v9 options-template sampling and sFlow sampling,
                renormalized (-R) or not, and with a sampling_map
  live          the same exports sent over loopback UDP from distinct bound
                source addresses give the rows the -I replay gives, and a
                probe exporting straight to our running daemon matches its
                own capture

The capture is filtered with tcpdump: no QinQ frames (softflowd and 1.7.7
do not parse them) and no frame of 64 bytes or less (softflowd counts a
short frame's Ethernet padding as IP bytes, which would make the capture's
own IP totals differ from its export by the padding).

Environment: NFACCTD, SFACCTD (ours, default <repo>/build/...), REF_NFACCTD,
REF_SFACCTD, REF_PMACCTD (default /usr/sbin/...), PCAPGEN; softflowd,
softflowctl, tshark and tcpdump from PATH (make test-deps installs them).
"""

import concurrent.futures
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from conftest import REF_EXIT_RACE, free_port, needs, skip_or_fail

REPO = Path(__file__).resolve().parents[2]
NFACCTD = Path(os.environ.get("NFACCTD", REPO / "build" / "nfacctd"))
SFACCTD = Path(os.environ.get("SFACCTD", REPO / "build" / "sfacctd"))
REF_NFACCTD = Path(os.environ.get("REF_NFACCTD", "/usr/sbin/nfacctd"))
REF_SFACCTD = Path(os.environ.get("REF_SFACCTD", "/usr/sbin/sfacctd"))
REF_PMACCTD = Path(os.environ.get("REF_PMACCTD", "/usr/sbin/pmacctd"))
PCAPGEN = Path(os.environ.get("PCAPGEN", REPO / "build" / "pcapgen"))
SOFTFLOWD = shutil.which("softflowd") or ("/usr/sbin/softflowd"
                                          if os.access("/usr/sbin/softflowd", os.X_OK) else None)
SOFTFLOWCTL = shutil.which("softflowctl") or ("/usr/sbin/softflowctl"
                                              if os.access("/usr/sbin/softflowctl", os.X_OK)
                                              else None)
ENV = dict(os.environ, TZ="UTC", LC_ALL="C")
BIG = "plugin_buffer_size: 1024000\nplugin_pipe_size: 102400000\n"


needs_base = needs(
    os.access(NFACCTD, os.X_OK) and os.access(SFACCTD, os.X_OK)
    and os.access(PCAPGEN, os.X_OK) and shutil.which("tshark") is not None
    and shutil.which("tcpdump") is not None,
    "needs our nfacctd/sfacctd and pcapgen built, tshark and tcpdump")
needs_softflowd = needs(
    SOFTFLOWD is not None and SOFTFLOWCTL is not None,
    "softflowd not installed (apt-get install softflowd; make test-deps does)")
needs_ref = needs(
    all(os.access(p, os.X_OK) for p in (REF_PMACCTD, REF_NFACCTD, REF_SFACCTD)),
    "Debian pmacct 1.7.7 not installed (apt-get install pmacct)")

pytestmark = needs_base

# ---- capture and exports ----------------------------------------------------


def make_capture(tmp, name, v4_only):
    """A pcapgen capture without QinQ and without padded frames; returns its path."""
    gen, out = tmp / f"{name}-gen.pcap", tmp / f"{name}.pcap"
    cmd = [str(PCAPGEN), "-n", "12000", "-f", "300", "-s", "5", "-d", "4", "--no-frag",
           "-o", str(gen)]
    subprocess.run(cmd + (["--v4-only"] if v4_only else []), check=True, capture_output=True)
    subprocess.run(["tcpdump", "-r", str(gen), "-w", str(out), "not (vlan and vlan) and len > 64"],
                   check=True, capture_output=True)
    return out


class Receiver:
    """A UDP socket on 127.0.0.1 collecting every datagram sent to it."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.grams = []
        self.last = time.time()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            self.last = time.time()
            self.grams.append((self.last, data))

    def finish(self, idle=1.5, limit=15):
        """Wait until nothing arrived for `idle` seconds (at most `limit`)."""
        end = time.time() + limit
        while time.time() < end and time.time() - self.last < idle:
            time.sleep(0.1)
        self.stop.set()
        self.thread.join()
        self.sock.close()
        return self.grams


def write_pcap(path, grams, dport=2100):
    """grams: [(time, source address, payload)] as Ethernet/IPv4/UDP frames."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, (ts, src, data) in enumerate(grams):
            udp = struct.pack("!HHHH", 40000, dport, 8 + len(data), 0) + data
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                             socket.inet_aton(src), socket.inet_aton("127.0.0.1"))
            fr = b"\0" * 12 + b"\x08\x00" + ip + udp
            f.write(struct.pack("<IIII", int(ts), int(ts * 1e6) % 1000000, len(fr), len(fr)) + fr)
    return path


def run_softflowd(tmp, capture, port, version, rate=None):
    """softflowd reading `capture`, exporting to 127.0.0.1:port.  With -r it
    reads 8192 packets per wake-up of its poll loop, which a control-socket
    request provides: poke it until it has read the file and exited (it
    exports every flow on exit)."""
    ctl, pid = tmp / f"sfd{port}.ctl", tmp / f"sfd{port}.pid"
    cmd = [SOFTFLOWD, "-d", "-r", str(capture), "-n", f"127.0.0.1:{port}", "-v", str(version),
           "-p", str(pid), "-c", str(ctl)]
    if rate:
        cmd += ["-s", str(rate)]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.time() + 90
        while p.poll() is None and time.time() < end:
            subprocess.run([SOFTFLOWCTL, "-c", str(ctl), "statistics"], capture_output=True)
            time.sleep(0.2)
        assert p.poll() == 0, "softflowd did not finish reading the capture"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def run_pmacctd_probe(tmp, capture, port, probe, **keys):
    """Debian's pmacctd with one nfprobe/sfprobe plugin reading `capture`."""
    conf = tmp / f"probe{port}.conf"
    lines = [f"plugins: {probe}[x]", f"{probe}_receiver[x]: 127.0.0.1:{port}",
             f"pcap_savefile: {capture}"] + [f"{k}[x]: {v}" for k, v in keys.items()]
    conf.write_text("\n".join(lines) + "\n" + BIG)
    r = subprocess.run([str(REF_PMACCTD), "-f", str(conf)], env=ENV, capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0 and REF_EXIT_RACE.search(r.stderr):
        raise RefExitRace(r.stderr)
    assert r.returncode == 0, r.stderr


class RefExitRace(Exception):
    """pmacct 1.7.7's core saw its probe plugin exit first (conftest.REF_EXIT_RACE): run again."""


class Export:
    """The datagrams one exporter sent, and where they are on disk."""

    def __init__(self, name, grams, pcap):
        self.name, self.grams, self.pcap = name, grams, pcap


def export(tmp, name, run, expect_packets=None, attempts=3):
    """Run an exporter against a fresh Receiver; returns an Export whose pcap
    holds its datagrams as sent by 127.0.0.1.  The reference pmacctd starts
    reading 2 s after forking its plugins, ready or not: on a loaded machine
    the probe can miss the capture, so a run exporting fewer than
    `expect_packets` packets (known only at rate 1) is retried."""
    for i in range(attempts):
        rx = Receiver()
        try:
            run(rx.port)
        except RefExitRace:
            rx.finish()
            if i + 1 == attempts:
                raise
            continue
        grams = rx.finish()
        pcap = write_pcap(tmp / f"{name}.pcap", [(t, "127.0.0.1", d) for t, d in grams])
        if expect_packets is None or exported_packets(pcap, name) >= expect_packets:
            break
    assert grams, f"{name}: the exporter sent nothing"
    return Export(name, grams, pcap)


# ---- independent counts (tshark) --------------------------------------------


def _walk(node, out):
    if isinstance(node, dict):
        if "cflow.packets" in node or "cflow.packets64" in node:
            out.append(node)
            return
        for v in node.values():
            _walk(v, out)
    elif isinstance(node, list):
        for v in node:
            _walk(v, out)


def tshark_flows(pcap, port=2100):
    """NetFlow/IPFIX records as tshark dissects them: {(src, dst, sport,
    dport, proto): [packets, bytes]}."""
    out = subprocess.run(["tshark", "-r", str(pcap), "-d", f"udp.port=={port},cflow", "-T", "json"],
                         capture_output=True, text=True, check=True).stdout
    recs = []
    _walk(json.loads(out), recs)
    flows = defaultdict(lambda: [0, 0])
    for r in recs:
        def g(*names):
            for n in names:
                if n in r:
                    return r[n]
            return "0"
        k = (g("cflow.srcaddr", "cflow.srcaddrv6"), g("cflow.dstaddr", "cflow.dstaddrv6"),
             int(g("cflow.srcport")), int(g("cflow.dstport")), int(g("cflow.protocol")))
        flows[k][0] += int(g("cflow.packets", "cflow.packets64"))
        flows[k][1] += int(g("cflow.octets", "cflow.octets64"))
    return dict(flows)


def exported_packets(pcap, name):
    if name.startswith("sfprobe"):
        return tshark_sflow(pcap)[0]
    return sum(v[0] for v in tshark_flows(pcap).values())


def tshark_sflow(pcap, port=2100):
    """sFlow flow samples: (count, sum of the sampled frames' lengths)."""
    out = subprocess.run(["tshark", "-r", str(pcap), "-d", f"udp.port=={port},sflow", "-T",
                          "fields", "-e", "sflow_245.header.frame_length"],
                         capture_output=True, text=True, check=True).stdout
    vals = [int(x) for line in out.splitlines() for x in line.split(",") if x]
    return len(vals), sum(vals)


def capture_totals(pcap):
    """The capture's own counts: (packets, IP bytes, frame bytes, {TCP/UDP
    5-tuple: [packets, IP bytes]}, length of the last frame)."""
    out = subprocess.run(["tshark", "-r", str(pcap), "-T", "fields", "-E", "occurrence=f",
                          "-e", "frame.len", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src",
                          "-e", "ipv6.dst", "-e", "ip.len", "-e", "ipv6.plen", "-e", "ip.proto",
                          "-e", "ipv6.nxt", "-e", "tcp.srcport", "-e", "tcp.dstport",
                          "-e", "udp.srcport", "-e", "udp.dstport"],
                         capture_output=True, text=True, check=True).stdout
    n = ipb = frb = 0
    flows = defaultdict(lambda: [0, 0])
    for line in out.splitlines():
        f = line.split("\t")
        flen, s4, d4, s6, d6, l4, pl6, p4, p6, ts, td, us, ud = f + [""] * (13 - len(f))
        ln = int(l4) if l4 else int(pl6) + 40
        proto = int(p4 or p6)
        n, ipb, frb, last = n + 1, ipb + ln, frb + int(flen), int(flen)
        if proto in (6, 17):
            k = (s4 or s6, d4 or d6, int(ts or us), int(td or ud), proto)
            flows[k][0] += 1
            flows[k][1] += ln
    return n, ipb, frb, dict(flows), last


# ---- running the collectors -------------------------------------------------

FLOW_AGG = "src_host, dst_host, src_port, dst_port, proto"
NF_AGG = ("src_host, dst_host, src_port, dst_port, proto, tos, tcpflags, peer_src_ip, in_iface, "
          "out_iface, src_mask, dst_mask, src_as, dst_as, sampling_rate, timestamp_start, "
          "timestamp_end, export_proto_version, export_proto_sysid")
SF_AGG = ("src_host, dst_host, src_port, dst_port, proto, tos, peer_src_ip, in_iface, out_iface, "
          "sampling_rate, src_mac, dst_mac, vlan, export_proto_version, export_proto_sysid")


def conf_text(out, agg, extra=""):
    return (f"plugins: print[p]\naggregate[p]: {agg}\nprint_output[p]: json\n"
            f"print_output_file[p]: {out}\nprint_refresh_time[p]: 3600\n{BIG}{extra}")


def rows(path):
    """Print plugin JSON as a multiset of rows (event_type dropped)."""
    out = Counter()
    if not Path(path).exists():
        return out
    for line in Path(path).read_text().splitlines():
        if line.strip():
            d = json.loads(line)
            d.pop("event_type", None)
            out[json.dumps(d, sort_keys=True)] += 1
    return out


def run_file(binary, tmp, pcap, agg, extra=""):
    """`binary` -I pcap with a print plugin; returns the rows.  1.7.7 starts
    reading 2 s after forking its plugins, ready or not, so on a loaded
    machine its plugin can miss everything: an empty reference run is
    retried (ours runs once)."""
    tmp.mkdir(parents=True, exist_ok=True)
    conf = tmp / "c.conf"
    conf.write_text(conf_text(tmp / "out.json", agg, extra + f"pcap_savefile: {pcap}\n"))
    for _ in range(1 if binary in (NFACCTD, SFACCTD) else 3):
        r = subprocess.run([str(binary), "-f", str(conf)], env=ENV, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr + r.stdout
        got = rows(tmp / "out.json")
        if got:
            break
    return got



class Live:
    """A collector listening on 127.0.0.1 with a print plugin; stop() returns its rows."""

    def __init__(self, binary, tmp, agg, extra=""):
        tmp.mkdir(parents=True, exist_ok=True)
        self.tmp, self.port = tmp, free_port()
        conf = tmp / "live.conf"
        d = "sfacctd" if "sfacctd" in Path(binary).name else "nfacctd"
        conf.write_text(conf_text(tmp / "out.json", agg, extra + f"{d}_ip: 127.0.0.1\n"
                                  f"{d}_port: {self.port}\n{d}_pipe_size: 16777216\n"))
        self.log = open(tmp / "log", "w")
        self.proc = subprocess.Popen([str(binary), "-f", str(conf)], env=ENV, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        end = time.time() + 15
        while time.time() < end and "waiting for" not in (tmp / "log").read_text():
            time.sleep(0.05)
        # pmacct 1.7.7 says it is ready before its plugins are
        time.sleep(0.5 if binary in (NFACCTD, SFACCTD) else 2.5)

    def stop(self):
        time.sleep(0.8)
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.log.close()
        assert self.proc.returncode == 0, (self.tmp / "log").read_text()
        return rows(self.tmp / "out.json")


def send(port, grams):
    """grams: [(source address, payload)], each sent from a socket bound to its source."""
    socks = {}
    try:
        for i, (src, data) in enumerate(grams):
            if src not in socks:
                socks[src] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks[src].bind((src, 0))
            socks[src].sendto(data, ("127.0.0.1", port))
            if i % 8 == 7:
                time.sleep(0.003)
    finally:
        for s in socks.values():
            s.close()


# protocol names as the print plugin writes them (pmacct's table)
PROTO_NUM = {"tcp": 6, "udp": 17, "icmp": 1, "ipv6-icmp": 58, "icmpv6": 58}


def by_flow(counter):
    """Rows aggregated by FLOW_AGG -> {5-tuple: [packets, bytes]}."""
    out = defaultdict(lambda: [0, 0])
    for k, n in counter.items():
        d = json.loads(k)
        p = d["ip_proto"]
        key = (d["ip_src"], d["ip_dst"], d["port_src"], d["port_dst"],
               int(p) if str(p).isdigit() else PROTO_NUM[p])
        out[key][0] += d["packets"] * n
        out[key][1] += d["bytes"] * n
    return dict(out)


def totals(flows):
    return (sum(v[0] for v in flows.values()), sum(v[1] for v in flows.values()))


# ---- the exports, made once per module ----------------------------------------

NF_EXPORTERS = {
    # name: (exporter, capture, version, sampling rate)
    "softflowd-v5": ("softflowd", "v4", 5, None),
    "softflowd-v9": ("softflowd", "dual", 9, None),
    "softflowd-v10": ("softflowd", "dual", 10, None),
    "softflowd-v5-s10": ("softflowd", "v4", 5, 10),
    "softflowd-v9-s10": ("softflowd", "dual", 9, 10),
    "nfprobe-v5": ("nfprobe", "v4", 5, None),
    "nfprobe-v9": ("nfprobe", "dual", 9, None),
    "nfprobe-v10": ("nfprobe", "dual", 10, None),
}
SF_EXPORTERS = {"sfprobe-1": (1, "192.0.2.50"), "sfprobe-10": (10, "192.0.2.60")}


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("interop-cap")
    return {"v4": make_capture(tmp, "v4", True), "dual": make_capture(tmp, "dual", False)}


@pytest.fixture(scope="module")
def cap_totals(captures):
    return {k: capture_totals(v) for k, v in captures.items()}


@pytest.fixture(scope="module")
def exports(tmp_path_factory, captures, cap_totals):
    """Every exporter run once, several at a time (they mostly sleep).  An
    exporter whose tool is missing is absent from the result."""
    tmp = tmp_path_factory.mktemp("interop-exp")
    jobs = {}
    have_ref = os.access(REF_PMACCTD, os.X_OK)
    for name, (tool, cap, ver, rate) in NF_EXPORTERS.items():
        if tool == "softflowd" and SOFTFLOWD and SOFTFLOWCTL:
            jobs[name] = (lambda port, c=captures[cap], v=ver, r=rate:
                          run_softflowd(tmp, c, port, v, r), None)
        elif tool == "nfprobe" and have_ref:
            keys = {"nfprobe_version": ver}
            jobs[name] = (lambda port, c=captures[cap], k=keys:
                          run_pmacctd_probe(tmp, c, port, "nfprobe", **k), cap_totals[cap][0])
    if have_ref:
        for name, (rate, agent) in SF_EXPORTERS.items():
            keys = {"sampling_rate": rate, "sfprobe_agentip": agent}
            jobs[name] = (lambda port, k=keys: run_pmacctd_probe(
                tmp, captures["dual"], port, "sfprobe", **k),
                cap_totals["dual"][0] - 1 if rate == 1 else None)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        futs = {n: ex.submit(export, tmp, n, run, expect) for n, (run, expect) in jobs.items()}
        return {n: f.result() for n, f in futs.items()}


def need(exports, name):
    if name not in exports:
        tool = NF_EXPORTERS.get(name, ("pmacctd",))[0]
        skip_or_fail(f"{name}: {tool} not installed")
    return exports[name]


# ---- interop: ours against tshark and the capture --------------------------------


@pytest.mark.parametrize("name", list(NF_EXPORTERS))
def test_nfacctd_matches_tshark(exports, cap_totals, tmp_path, name):
    exp = need(exports, name)
    tool, cap, _, rate = NF_EXPORTERS[name]
    want = tshark_flows(exp.pcap)
    assert want, "tshark found no flow records"
    got = by_flow(run_file(NFACCTD, tmp_path, exp.pcap, FLOW_AGG))
    assert got == want
    if rate is None:
        # every packet of the capture, once: TCP/UDP flow by flow, ICMP in the totals
        n, ipb, _, flows, _ = cap_totals[cap]
        assert totals(got) == (n, ipb)
        assert {k: v for k, v in got.items() if k[4] in (6, 17)} == flows


@pytest.mark.parametrize("name", list(SF_EXPORTERS))
def test_sfacctd_matches_tshark(exports, cap_totals, tmp_path, name):
    exp = need(exports, name)
    samples, frame_bytes = tshark_sflow(exp.pcap)
    got = run_file(SFACCTD, tmp_path, exp.pcap, "peer_src_ip, sampling_rate")
    assert totals(by_peer(got)) == (samples, frame_bytes)
    rate, agent = SF_EXPORTERS[name]
    for k in got:
        d = json.loads(k)
        assert (d["peer_ip_src"], d["sampling_rate"]) == (agent, rate)
    if rate == 1:
        n, _, frb, _, last = cap_totals["dual"]
        # a sampled frame's length counts its 4-byte FCS (sFlow v5, sampled_header);
        # 1.7.7's sfprobe may leave out the capture's last packet
        assert (samples, frame_bytes) in ((n, frb + 4 * n), (n - 1, frb + 4 * n - last - 4))


def by_peer(counter):
    out = defaultdict(lambda: [0, 0])
    for k, n in counter.items():
        d = json.loads(k)
        out[d.get("peer_ip_src")][0] += d["packets"] * n
        out[d.get("peer_ip_src")][1] += d["bytes"] * n
    return dict(out)


# ---- differential against 1.7.7 -----------------------------------------------


def merged(tmp, exports, names, first=11):
    """The exports of `names` interleaved by time, exporter i sending from
    127.0.0.(first+i); returns ([(src, payload)], pcap)."""
    grams = []
    for i, n in enumerate(names):
        src = f"127.0.0.{first + i}"
        grams += [(t, src, d) for t, d in exports[n].grams]
    grams.sort(key=lambda g: g[0])
    pcap = write_pcap(tmp / "merged.pcap", grams)
    return [(s, d) for _, s, d in grams], pcap


NF_DIFF = {
    "plain": "",
    "renormalize": "nfacctd_renormalize: true\n",
    "sampling_map": "sampling_map: {nfmap}\n",
    "sampling_map_renormalize": "sampling_map: {nfmap}\nnfacctd_renormalize: true\n",
    "ext_rate_renormalize": "nfacctd_ext_sampling_rate: 7\nnfacctd_renormalize: true\n",
    "ext_rate_map_renormalize": "nfacctd_ext_sampling_rate: 7\nnfacctd_renormalize: true\n"
                                "sampling_map: {nfmap}\n",
}
SF_DIFF = {
    "plain": "",
    "renormalize": "sfacctd_renormalize: true\n",
    "sampling_map": "sampling_map: {sfmap}\n",
    "sampling_map_renormalize": "sampling_map: {sfmap}\nsfacctd_renormalize: true\n",
    "ext_rate_renormalize": "sfacctd_ext_sampling_rate: 4\nsfacctd_renormalize: true\n",
    "ext_rate": "sfacctd_ext_sampling_rate: 4\n",
}

# NetFlow exporters are 127.0.0.11.. in NF_EXPORTERS order: the map gives
# some of them (and some interfaces) a rate of their own, others keep what
# they export
NF_MAP = """! rates per exporter, as pmacct's sampling.map
id=100 ip=127.0.0.11
id=3 ip=127.0.0.15 in=0
id=5 ip=127.0.0.16/32 out=-7
id=20 ip=127.0.0.8/29
"""
SF_MAP = "id=7 ip=192.0.2.50 in=-1\nid=2 ip=192.0.2.0/24\n"


@pytest.fixture(scope="module")
def diffs(exports, tmp_path_factory):
    """Every differential case, ours and 1.7.7 on the same merged exports,
    run side by side (the reference mostly sleeps): {(daemon, case): (ours,
    ref)}; a daemon whose exports are missing has no entries."""
    if not all(os.access(p, os.X_OK) for p in (REF_NFACCTD, REF_SFACCTD)):
        return {}
    tmp = tmp_path_factory.mktemp("interop-diff")
    (tmp / "nf.map").write_text(NF_MAP)
    (tmp / "sf.map").write_text(SF_MAP)
    maps = {"nfmap": tmp / "nf.map", "sfmap": tmp / "sf.map"}
    jobs = {}
    nf_names = [n for n in NF_EXPORTERS if n in exports]
    if len(nf_names) >= 2:
        (tmp / "nf").mkdir()
        _, pcap = merged(tmp / "nf", exports, nf_names)
        for case, extra in NF_DIFF.items():
            jobs[("nf", case)] = (NFACCTD, REF_NFACCTD, pcap, NF_AGG, extra.format(**maps))
    if all(n in exports for n in SF_EXPORTERS):
        (tmp / "sf").mkdir()
        _, pcap = merged(tmp / "sf", exports, list(SF_EXPORTERS))
        for case, extra in SF_DIFF.items():
            jobs[("sf", case)] = (SFACCTD, REF_SFACCTD, pcap, SF_AGG, extra.format(**maps))
    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        futs = {k: (ex.submit(run_file, o, tmp / f"{k[0]}-{k[1]}-ours", pcap, agg, extra),
                    ex.submit(run_file, r, tmp / f"{k[0]}-{k[1]}-ref", pcap, agg, extra))
                for k, (o, r, pcap, agg, extra) in jobs.items()}
        return {k: (a.result(), b.result()) for k, (a, b) in futs.items()}


@needs_ref
@pytest.mark.parametrize("case", list(NF_DIFF))
def test_nfacctd_differential(diffs, case):
    if ("nf", case) not in diffs:
        skip_or_fail("needs softflowd and pmacctd's nfprobe exports")
    ours, ref = diffs[("nf", case)]
    assert sum(ref.values()) > 100
    assert ours == ref
    if "sampling_map" in NF_DIFF[case]:
        rates = {json.loads(k)["peer_ip_src"]: json.loads(k)["sampling_rate"] for k in ours}
        renorm = "renormalize" in case
        assert rates["127.0.0.11"] == (1 if renorm else 100)
        assert rates["127.0.0.12"] == (1 if renorm else 20)


@needs_ref
@pytest.mark.parametrize("case", list(SF_DIFF))
def test_sfacctd_differential(diffs, case):
    if ("sf", case) not in diffs:
        skip_or_fail("needs pmacctd's sfprobe exports")
    ours, ref = diffs[("sf", case)]
    assert sum(ref.values()) > 100
    assert ours == ref
    if case == "sampling_map":
        rates = {json.loads(k)["peer_ip_src"]: json.loads(k)["sampling_rate"] for k in ours}
        assert rates["192.0.2.60"] == 2


# ---- live loopback ---------------------------------------------------------------


@needs_ref
def test_nfacctd_live_multi_exporter(exports, tmp_path):
    """The merged exports over UDP from 127.0.0.11.. to ours and to 1.7.7:
    the rows the -I replay gives, on both."""
    names = [n for n in NF_EXPORTERS if n in exports]
    if len(names) < 2:
        skip_or_fail("needs softflowd and pmacctd's nfprobe exports")
    grams, pcap = merged(tmp_path, exports, names)
    agg = NF_AGG.replace("timestamp_start, timestamp_end, ", "")
    replay = run_file(NFACCTD, tmp_path / "replay", pcap, agg)
    results = {}
    for who, binary in (("ours", NFACCTD), ("ref", REF_NFACCTD)):
        live = Live(binary, tmp_path / who, agg)
        send(live.port, grams)
        results[who] = live.stop()
    assert results["ours"] == replay
    assert results["ref"] == replay


@needs_softflowd
def test_softflowd_live_to_nfacctd(captures, cap_totals, tmp_path):
    """softflowd exporting IPFIX straight to our running nfacctd."""
    live = Live(NFACCTD, tmp_path / "live", FLOW_AGG)
    run_softflowd(tmp_path, captures["dual"], live.port, 10)
    got = by_flow(live.stop())
    n, ipb, _, flows, _ = cap_totals["dual"]
    assert totals(got) == (n, ipb)
    assert {k: v for k, v in got.items() if k[4] in (6, 17)} == flows


@needs_ref
def test_sfprobe_live_to_sfacctd(captures, cap_totals, tmp_path):
    """pmacctd's sfprobe (rate 1) exporting straight to our running sfacctd.
    A run where the probe lost the capture to 1.7.7's start-up race (fewer
    samples than the capture less one) is retried once."""
    n, _, frb, _, last = cap_totals["dual"]
    for attempt in range(2):
        live = Live(SFACCTD, tmp_path / f"live{attempt}", "peer_src_ip, sampling_rate")
        run_pmacctd_probe(tmp_path, captures["dual"], live.port, "sfprobe", sampling_rate=1,
                          sfprobe_agentip="192.0.2.51")
        got = by_peer(live.stop())
        if got.get("192.0.2.51", [0])[0] >= n - 1:
            break
    assert got in ({"192.0.2.51": [n, frb + 4 * n]},
                   {"192.0.2.51": [n - 1, frb + 4 * n - last - 4]})


# ---- sampling_map on crafted NetFlow: interfaces, negation, bad lines ------------

CRAFTED_MAP = """! the first full match wins; bad lines are skipped
id=1000 ip=127.0.0.1 in=-7
bogus line here
id=abc ip=127.0.0.2
id=6 foo=1 ip=127.0.0.2
id=3 ip=127.0.0.0/30 out=2
id=50 ip=127.0.0.4
id=77 ip=127.0.0.5 in=3 out=9
"""


def crafted_netflow():
    """v5 with header sampling, v5 unsampled, v5 with interfaces, v9 with an
    options-template sampler (test_nfacctd.py's byte-exact builders)."""
    from test_nfacctd import V4F, pack_rec, set_, tpl_record, v5, v9, v9_options_tpl
    f = V4F + [48]
    rec = pack_rec(f, ["10.1.0.1", "10.2.0.1", 1, 2, 17, 0, 0, 1, 2, 3, 4, 8, 8, 100, 5, 99000,
                       99500, 5])
    return [("127.0.0.1", v5([{"inif": 1}, {"inif": 7, "src": "10.0.0.9"}], samp=0x4000 | 10)),
            ("127.0.0.2", v5([{"inif": 1}, {"inif": 7, "src": "10.0.0.9"}])),
            ("127.0.0.5", v5([{"inif": 3, "outif": 9}, {"inif": 3, "outif": 8}],
                             samp=0x4000 | 20)),
            ("127.0.0.4", v9([set_(1, v9_options_tpl(300, [1], [48, 34])),
                              set_(0, tpl_record(257, f))], seq=1)),
            ("127.0.0.4", v9([set_(300, struct.pack("!IBI", 0, 5, 100))], seq=2)),
            ("127.0.0.4", v9([set_(257, rec)], seq=3))]


@needs_ref
@pytest.mark.parametrize("extra", ["", "nfacctd_renormalize: true\n",
                                   "nfacctd_ext_sampling_rate: 4\nnfacctd_renormalize: true\n",
                                   "nfacctd_ext_sampling_rate: 4\n"])
def test_nfacctd_sampling_map_crafted(tmp_path, extra):
    smap = tmp_path / "sampling.map"
    smap.write_text(CRAFTED_MAP)
    pcap = write_pcap(tmp_path / "nf.pcap", [(1700000100 + i, s, d)
                                              for i, (s, d) in enumerate(crafted_netflow())])
    agg = "peer_src_ip, src_host, in_iface, out_iface, sampling_rate"
    extra += f"sampling_map: {smap}\n"
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        a = ex.submit(run_file, NFACCTD, tmp_path / "ours", pcap, agg, extra)
        b = ex.submit(run_file, REF_NFACCTD, tmp_path / "ref", pcap, agg, extra)
        ours, ref = a.result(), b.result()
    assert len(ref) == 7
    assert ours == ref
    if not extra.startswith("nfacctd"):
        got = {(json.loads(k)["peer_ip_src"], json.loads(k)["iface_in"],
                json.loads(k)["iface_out"]): json.loads(k)["sampling_rate"] for k in ours}
        assert got == {("127.0.0.1", 1, 2): 1000, ("127.0.0.1", 7, 2): 3,
                       ("127.0.0.2", 1, 2): 3, ("127.0.0.2", 7, 2): 3,
                       ("127.0.0.5", 3, 9): 77, ("127.0.0.5", 3, 8): 20,
                       ("127.0.0.4", 1, 2): 50}
