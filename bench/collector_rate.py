#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Zero-loss receive rate of the collectors over loopback UDP.

  bench/collector_rate.py [--build DIR] [--proto nf|sf|both] [--rates 20000,50000,...]
                          [--trial 5] [--workers 1,2] [--sources 8] [--pipe-size BYTES]
                          [--no-ref]

For each protocol a capture is synthesized (NetFlow v9: 8 exporters, 24 records per
datagram, every record 1 packet, a template in each exporter's first datagram and every
20th after; sFlow v5: 8 agents, 8 flow samples per datagram).  For each rate (datagrams
per second) and daemon, a fresh daemon listens on 127.0.0.1, tests/tools/udpreplay
(built as <build>/udpreplay) sends the capture in a loop for --trial seconds from 8
loopback addresses (127.0.0.2..9, one per exporter), the daemon is given 2 s to drain
and is stopped with SIGINT, and the records it accounted are counted from its print
plugin's CSV (aggregate peer_src_ip: the sum of PACKETS is the number of records, as
every record or sample counts 1 packet).  nfdump's nfcapd is counted with
`nfdump -R dir -q -o fmt:%pkt`.

Printed per trial: the sender's achieved rate, records sent and received, loss, the
daemon's CPU seconds (user+sys of its process and reaped children), CPU seconds per
million records received, and its voluntary context switches (each a sleep and a wake-up
of one of its threads or reaped children; getrusage ru_nvcsw) per datagram sent.  At
the end, per daemon, the highest rate with no loss.

Ours runs with its default plugin buffers and `collector_workers` from --workers; the
reference pmacct 1.7.7 gets plugin_buffer_size 1024000 / plugin_pipe_size 102400000
(with its defaults it drops inside, between its core and plugin).  Every daemon asks
for the same socket receive buffer (--pipe-size, default 4 MiB: nfacctd_pipe_size /
sfacctd_pipe_size, nfcapd -B).  pmacct and nfcapd use SO_RCVBUF, which the kernel caps
at net.core.rmem_max; ours uses SO_RCVBUFFORCE when root, so keep --pipe-size within
rmem_max for a like-for-like comparison.
"""

import argparse
import os
import random
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from helpers import file_has, free_port, wait_for  # noqa: E402  (tests/e2e/helpers.py)

NF_RECS = 24
SF_SAMPLES = 8
EXPORTERS = 8


def pcap_header():
    return struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)


def frame(src_ip, dport, payload, seq):
    udp = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(src_ip), socket.inet_aton("127.0.0.1"))
    fr = b"\0" * 12 + b"\x08\x00" + ip + udp
    return struct.pack("<IIII", 1700000000 + seq // 1000, 0, len(fr), len(fr)) + fr


def nf_capture(path, datagrams):
    rnd = random.Random(1)
    fields = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4), (22, 4), (21, 4)]
    tpl = struct.pack("!HH", 256, len(fields)) + b"".join(struct.pack("!HH", *f) for f in fields)
    tpl_set = struct.pack("!HH", 0, 4 + len(tpl)) + tpl
    flows = [struct.pack("!IIHHB", 0x0a000000 + rnd.randrange(1 << 16),
                         0xac100000 + rnd.randrange(1 << 12), rnd.randrange(1024, 65535),
                         rnd.choice((80, 443, 53)), rnd.choice((6, 17))) for _ in range(20000)]
    seq = [0] * EXPORTERS
    with open(path, "wb") as f:
        f.write(pcap_header())
        for n in range(datagrams):
            e = n % EXPORTERS
            recs = b"".join(rnd.choice(flows) + struct.pack("!IIII", rnd.randrange(40, 1500), 1,
                                                             98000, 99000) for _ in range(NF_RECS))
            sets = (tpl_set if seq[e] % 20 == 0 else b"") + struct.pack("!HH", 256, 4 + len(recs)) + recs
            msg = struct.pack("!HHIIII", 9, NF_RECS + (seq[e] % 20 == 0), 100000, 1700000000,
                              seq[e], 0) + sets
            seq[e] += 1
            f.write(frame(f"10.9.9.{e + 1}", 2100, msg, n))


def sf_capture(path, datagrams):
    rnd = random.Random(2)

    def u32(*v):
        return b"".join(struct.pack(">I", x & 0xffffffff) for x in v)
    frames = []
    for i in range(4096):
        l4 = struct.pack(">HHHH", 1024 + i, 53, 108, 0)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 128, 1, 0, 64, 17, 0,
                         bytes([10, 0, i >> 8, i & 255]), bytes([10, 1, i & 255, 7]))
        frames.append(bytes.fromhex("66778899aabb001122334455") + b"\x08\x00" + ip + l4)
    seq = [0] * EXPORTERS
    with open(path, "wb") as f:
        f.write(pcap_header())
        for n in range(datagrams):
            e = n % EXPORTERS
            seq[e] += 1
            samples = b""
            for k in range(SF_SAMPLES):
                fr = rnd.choice(frames)  # 42 bytes, padded to 44 (XDR)
                rec = u32(1, 16 + len(fr) + 2, 1, 146, 4, len(fr)) + fr + b"\0\0"
                s = u32(seq[e] * SF_SAMPLES + k, 3, 1, 0, 0, 3, 4, 1) + rec
                samples += u32(1, len(s)) + s
            p = u32(5, 1) + bytes([192, 0, 2, e + 1]) + u32(0, seq[e], 1000, SF_SAMPLES) + samples
            f.write(frame(f"10.9.9.{e + 1}", 6343, p, n))


def pmacct_conf(w, proto, port, out, pipe, workers, ref):
    d = "nfacctd" if proto == "nf" else "sfacctd"
    c = (f"{d}_ip: 127.0.0.1\n{d}_port: {port}\n{d}_pipe_size: {pipe}\n"
         f"plugins: print[p]\naggregate[p]: peer_src_ip\nprint_output[p]: csv\n"
         f"print_output_file[p]: {out}\nprint_refresh_time[p]: 3600\n")
    if ref:
        c += "plugin_buffer_size: 1024000\nplugin_pipe_size: 102400000\n"
    else:
        c += f"collector_workers: {workers}\n"
    path = w / "c.conf"
    path.write_text(c)
    return path


def csv_packets(path):
    if not path.exists():
        return 0
    lines = path.read_text().splitlines()
    if not lines:
        return 0
    head = [h.strip().upper() for h in lines[0].split(",")]
    i = head.index("PACKETS")
    return sum(int(ln.split(",")[i]) for ln in lines[1:] if ln.strip())


def trial(args, daemon, proto, pcap, rate, workdir):
    """One daemon at one rate: (sender line dict, records received, cpu seconds, voluntary
    context switches)."""
    name, binary, kind, workers = daemon
    w = Path(tempfile.mkdtemp(dir=workdir))
    port = free_port()
    out, log = w / "out.csv", w / "log"
    if kind == "nfcapd":
        (w / "flows").mkdir()
        cmd = [binary, "-b", "127.0.0.1", "-p", str(port), "-w", str(w / "flows"),
               "-B", str(args.pipe_size), "-t", "3600"]
        ready = None
    else:
        conf = pmacct_conf(w, proto, port, out, args.pipe_size, workers, kind == "ref")
        cmd = [binary, "-f", str(conf)]
        ready = "waiting for"
    with open(log, "w") as lf:
        proc = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT,
                                env=dict(os.environ, TZ="UTC", LC_ALL="C"))
    try:
        if ready:
            if not wait_for(lambda: file_has(log, ready), 15, step=0.05):
                raise RuntimeError(f"{name} did not start:\n{log.read_text()}")
        # pmacct 1.7.7 announces itself before its plugins are up
        time.sleep(2.5 if kind == "ref" else 0.5 if ready else 1.0)
        snd = subprocess.run([str(args.replay), "-p", str(port), "-r", str(rate), "-t",
                              str(args.trial), "-a", str(EXPORTERS), str(pcap)],
                             capture_output=True, text=True, check=True).stdout
        time.sleep(2.0)
    finally:
        proc.send_signal(signal.SIGTERM if kind == "nfcapd" else signal.SIGINT)
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = ru.ru_utime + ru.ru_stime
    wakeups = ru.ru_nvcsw	# voluntary context switches: its threads' (and reaped children's) sleeps
    sent = dict(kv.split("=") for kv in snd.split())
    if kind == "nfcapd":
        q = subprocess.run([args.nfdump, "-R", str(w / "flows"), "-q", "-o", "fmt:%pkt"],
                           capture_output=True, text=True).stdout
        got = sum(int(x) for x in q.split() if x.isdigit())
    else:
        got = csv_packets(out)
    shutil.rmtree(w, ignore_errors=True)
    return sent, got, cpu, wakeups


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=str(REPO / "build"))
    ap.add_argument("--proto", default="both", choices=("nf", "sf", "both"))
    ap.add_argument("--rates", default="10000,20000,40000,80000,160000")
    ap.add_argument("--trial", type=float, default=5.0)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--pipe-size", type=int, default=4 * 1024 * 1024)
    ap.add_argument("--no-ref", action="store_true")
    args = ap.parse_args()
    build = Path(args.build)
    args.replay = build / "udpreplay"
    args.nfdump = shutil.which("nfdump")
    if not os.access(args.replay, os.X_OK):
        sys.exit(f"{args.replay} missing: meson compile -C {build}")
    rates = [int(r) for r in args.rates.split(",")]
    workdir = tempfile.mkdtemp(prefix="colrate.")
    try:
        for proto in (("nf", "sf") if args.proto == "both" else (args.proto,)):
            d = "nfacctd" if proto == "nf" else "sfacctd"
            per = NF_RECS if proto == "nf" else SF_SAMPLES
            pcap = Path(workdir) / f"{proto}.pcap"
            (nf_capture if proto == "nf" else sf_capture)(pcap, 20000)
            daemons = [(f"ours {d} workers={n}", str(build / d), "ours", int(n))
                       for n in args.workers.split(",")]
            if not args.no_ref and os.access(f"/usr/sbin/{d}", os.X_OK):
                daemons.append((f"{d} 1.7.7", f"/usr/sbin/{d}", "ref", 1))
            if proto == "nf" and not args.no_ref and shutil.which("nfcapd") and args.nfdump:
                daemons.append(("nfdump nfcapd", shutil.which("nfcapd"), "nfcapd", 1))
            print(f"\n{d}: {per} records per datagram, {EXPORTERS} exporters, trials of "
                  f"{args.trial:g} s, socket buffer {args.pipe_size} bytes requested")
            print(f"{'daemon':<26} {'target/s':>9} {'sent/s':>9} {'rec sent':>10} "
                  f"{'rec got':>10} {'loss %':>7} {'cpu s':>6} {'cpu/1M':>7} {'wake/dg':>7}")
            best = {}
            for rate in rates:
                for dm in daemons:
                    sent, got, cpu, wakeups = trial(args, dm, proto, pcap, rate, workdir)
                    rec_sent = int(sent["sent"]) * per
                    loss = rec_sent - got
                    pct = 100.0 * loss / rec_sent if rec_sent else 0.0
                    print(f"{dm[0]:<26} {rate:>9} {sent['rate']:>9} {rec_sent:>10} {got:>10} "
                          f"{pct:>7.3f} {cpu:>6.2f} "
                          f"{(cpu * 1e6 / got if got else 0):>7.3f} "
                          f"{(wakeups / int(sent['sent']) if int(sent['sent']) else 0):>7.3f}",
                          flush=True)
                    if loss == 0:
                        best[dm[0]] = max(best.get(dm[0], 0), float(sent["rate"]))
            for dm in daemons:
                b = best.get(dm[0])
                print(f"highest zero-loss rate, {dm[0]}: "
                      + (f"{b:.0f} datagrams/s = {b * per:.0f} records/s" if b else "none of the rates tried"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
