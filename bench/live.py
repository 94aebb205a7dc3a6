#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Live capture at rising packet rates: ours and pmacctd 1.7.7 on one end of a veth pair.

  bench/live.py [--build DIR] [--rates 250000,500000,1000000,1500000,2000000,max]
                [--seconds 4] [--threads N] [--mode ring|mmsg] [--packets 500000]
                [--flows 100000] [--repeat N] [--ours PMACCTD] [--no-ref] [--no-ours]
                [--pcap FILE] [--netns NAME]

A network namespace created for the run (deleted at exit, also on SIGINT/SIGTERM; or the
empty one --netns names, which bench/live.sh creates and deletes) holds
both ends of a veth pair, vtx and vrx, with IPv6 off and no addresses, so nothing but
the frames sent crosses it.  build/pktblast (tests/tools/pktblast.c) sends a capture
made by build/pcapgen (--packets over --flows, Zipf 1.1, TCP/UDP/ICMP, VLAN tags, IPv4
fragments, frames padded back to their original length) out of vtx, in a loop, at each
rate for --seconds ("max": as fast as it goes); a fresh daemon captures on vrx:

  ours      build/pmacctd, print plugin, aggregate src_host,dst_host,src_port,dst_port,proto
  pmacctd   /usr/sbin/pmacctd 1.7.7, the same, plus plugin_buffer_size 1024000 and
            plugin_pipe_size 102400000 (with its defaults it drops between its processes)

Per run it prints: the load average before it (/proc/loadavg; the machine is shared),
the target and achieved rate (vtx's tx_packets over pktblast's seconds), the veth's own
kernel counters (tx_packets of vtx, rx_packets of vrx, before/after), what the daemon
says it received and dropped (its SIGUSR1 stats line, sent 1.5 s after the traffic:
1.7.7 prints pcap_stats()' ps_recv, which counts the kernel's drops too, and ps_drop;
ours prints the packets it read, and the kernel's ps_drop plus what its plugins
dropped), what it accounted (the sum of PACKETS in its CSV, written at SIGINT), the
packets lost (rx - accounted) and its CPU seconds (user+sys from wait4(), reaped
children included, whole life: start-up, traffic, drain, exit) and its voluntary context
switches (vcsw, the same wait4(): how often its threads slept and were woken).  At the end, per
daemon, the runs without loss at each rate and the highest rate at which every run
(--repeat) lost nothing.  First, the sender alone (no
capture): what pktblast reaches into the veth.  Prints figures, asserts nothing.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REF = os.environ.get("REF_PMACCTD", "/usr/sbin/pmacctd")


class Netns:
    """A namespace with a veth pair vtx <-> vrx, both ends up, nothing else."""

    def __init__(self, name=None):
        self.name = name or "pmlive" + uuid.uuid4().hex[:6]
        self.up = False
        self.owned = name is None	# given: bench/live.sh made it and deletes it

    def sh(self, *cmd, check=True):
        return subprocess.run(["ip", "netns", "exec", self.name, *cmd], check=check,
                              capture_output=True, text=True)

    def create(self):
        if self.owned:
            subprocess.run(["ip", "netns", "add", self.name], check=True)
            self.up = True
        for k in ("all", "default"):
            self.sh("sysctl", "-q", "-w", f"net.ipv6.conf.{k}.disable_ipv6=1")
        self.sh("ip", "link", "add", "vtx", "type", "veth", "peer", "name", "vrx")
        for ifn in ("vtx", "vrx"):
            self.sh("ip", "link", "set", ifn, "up")

    def delete(self):
        if self.up:
            subprocess.run(["ip", "netns", "del", self.name], check=False)
            self.up = False

    def stats(self, ifn):
        out = self.sh("ip", "-j", "-s", "link", "show", "dev", ifn).stdout
        return json.loads(out)[0]["stats64"]


def loadavg():
    with open("/proc/loadavg") as fp:
        return fp.read().split()[0]


def conf_text(work, who):
    t = f"""pcap_interface: vrx
promisc: false
plugins: print[p]
aggregate[p]: src_host,dst_host,src_port,dst_port,proto
print_output[p]: csv
print_num_protos[p]: true
print_output_file[p]: {work}/{who}.csv
print_refresh_time[p]: 3600
logfile: {work}/{who}.log
"""
    if who == "pmacctd":
        t += "plugin_buffer_size: 1024000\nplugin_pipe_size: 102400000\n"
    return t


def wait_log(path, pattern, timeout, after=0):
    """The first match of pattern in the log past offset `after`, or None after timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(path, errors="replace") as fp:
                fp.seek(after)
                m = re.search(pattern, fp.read())
            if m:
                return m
        except OSError:
            pass
        time.sleep(0.1)
    return None


def wait4_timeout(pid, timeout):
    """(status, rusage) of pid, or None when it has not exited within timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        p, status, ru = os.wait4(pid, os.WNOHANG)
        if p == pid:
            return status, ru
        time.sleep(0.05)
    return None


def csv_packets(path):
    """Sum of the PACKETS column of a print plugin CSV file (0 when missing)."""
    try:
        with open(path) as fp:
            head = fp.readline().strip().split(",")
            col = head.index("PACKETS")
            return sum(int(ln.split(",")[col]) for ln in fp if ln.strip())
    except (OSError, ValueError):
        return 0


def blast(args, ns, pcap, rate, threads):
    cmd = [str(args.build / "pktblast"), "-i", "vtx", "-m", args.mode, "-t", str(threads)]
    if rate:
        cmd += ["-r", str(rate), "-n", str(int(rate * args.seconds))]
    else:
        cmd += ["-d", str(args.seconds)]
    out = ns.sh(*cmd, str(pcap)).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_one(args, ns, work, pcap, who, rate):
    binary = str(args.ours or args.build / "pmacctd") if who == "ours" else REF
    for f in (f"{who}.csv", f"{who}.log"):
        Path(work, f).unlink(missing_ok=True)
    Path(work, f"{who}.conf").write_text(conf_text(work, who))
    load = loadavg()
    cmd = ["ip", "netns", "exec", ns.name, binary, "-f", f"{work}/{who}.conf"]
    d = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(f"{work}/{who}.err", "w"))
    row = {"daemon": who, "target": rate, "load1": load}
    try:
        if not wait_log(f"{work}/{who}.log", r"link type is", 10):
            row["error"] = "did not start"
            return row
        time.sleep(1.5)	# the plugin up (1.7.7 forks it after the core opens the capture)
        tx0, rx0 = ns.stats("vtx")["tx"], ns.stats("vrx")["rx"]
        threads = args.threads or (1 if 0 < rate <= 500000 else 2)
        b = blast(args, ns, pcap, rate, threads)
        tx1, rx1 = ns.stats("vtx")["tx"], ns.stats("vrx")["rx"]
        row.update(tx=tx1["packets"] - tx0["packets"], rx=rx1["packets"] - rx0["packets"],
                   tx_dropped=tx1.get("dropped", 0) - tx0.get("dropped", 0),
                   seconds=b["seconds"], threads=threads)
        row["pps"] = row["tx"] / b["seconds"] if b["seconds"] > 0 else 0
        time.sleep(1.5)	# the daemon drains its ring and pipe
        size = os.path.getsize(f"{work}/{who}.log")
        os.kill(d.pid, signal.SIGUSR1)
        m = wait_log(f"{work}/{who}.log",
                     r"received_packets=(\d+) dropped_packets=(\d+)", 10, after=size)
        if m:
            row["received"], row["dropped"] = int(m.group(1)), int(m.group(2))
        os.kill(d.pid, signal.SIGINT)
        r = wait4_timeout(d.pid, 60)
        if r is None:
            row["error"] = "did not exit"
            return row
        d.returncode = 0	# reaped here: keep Popen from waiting again
        ru = r[1]
        row["cpu"] = ru.ru_utime + ru.ru_stime
        row["vcsw"] = ru.ru_nvcsw
        row["accounted"] = csv_packets(f"{work}/{who}.csv")
        row["lost"] = row["rx"] - row["accounted"]
        return row
    finally:
        if d.returncode is None:
            d.kill()
            d.wait()


def fmt_row(r):
    if "error" in r:
        return f"{r['daemon']:8} {r['target'] or 'max':>8}  {r['error']}"
    g = lambda k: r.get(k, "-")  # noqa: E731
    return (f"{r['daemon']:8} {r['target'] or 'max':>8} {r['load1']:>5} {r['threads']:>2} "
            f"{r['pps']:>9.0f} {r['tx']:>9} {r['rx']:>9} {g('received'):>9} {g('dropped'):>8} "
            f"{r['accounted']:>9} {r['lost']:>8} {r['cpu']:>6.2f} {r['vcsw']:>7}")


HEADER = (f"{'daemon':8} {'target':>8} {'load1':>5} {'th':>2} {'sent_pps':>9} {'vtx_tx':>9} "
          f"{'vrx_rx':>9} {'recv':>9} {'dropped':>8} {'accounted':>9} {'lost':>8} {'cpu_s':>6} "
          f"{'vcsw':>7}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--rates", default="250000,500000,1000000,1500000,2000000,max")
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--threads", type=int, default=0, help="sender threads (default: 1 up to "
                    "500k pps, else 2)")
    ap.add_argument("--mode", default="mmsg", choices=["ring", "mmsg"])
    ap.add_argument("--packets", type=int, default=500000)
    ap.add_argument("--flows", type=int, default=100000)
    ap.add_argument("--pcap", type=Path, help="send this capture instead of generating one")
    ap.add_argument("--ours", type=Path, help="our pmacctd (default: <build>/pmacctd)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per rate and daemon")
    ap.add_argument("--netns", help="an empty namespace to use (made and deleted by the caller)")
    ap.add_argument("--no-ref", action="store_true")
    ap.add_argument("--no-ours", action="store_true")
    args = ap.parse_args()
    args.build = args.build.resolve()
    if os.geteuid() != 0:
        sys.exit("live.py: needs root (a network namespace and a veth pair)")
    rates = [0 if x == "max" else int(float(x)) for x in args.rates.split(",")]
    daemons = ([] if args.no_ours else ["ours"]) + ([] if args.no_ref else ["pmacctd"])

    ns = Netns(args.netns)

    def bye(sig, _frame):
        ns.delete()
        sys.exit(128 + sig)

    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGINT, bye)
    with tempfile.TemporaryDirectory(prefix="pmlive.") as work:
        try:
            pcap = args.pcap
            if not pcap:
                pcap = Path(work, "mix.pcap")
                subprocess.run([str(args.build / "pcapgen"), "-n", str(args.packets), "-f",
                                str(args.flows), "-s", "7", "-d", "300", "-o", str(pcap),
                                "-t", f"{work}/mix.json"], check=True, stdout=subprocess.DEVNULL)
            ns.create()
            print(f"namespace {ns.name}, veth vtx -> vrx; capture {pcap}; "
                  f"{args.seconds} s per run; sender mode {args.mode}")
            print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
            for th in (1, 2):
                tx0 = ns.stats("vtx")["tx"]["packets"]
                b = blast(args, ns, pcap, 0, th)
                tx = ns.stats("vtx")["tx"]["packets"] - tx0
                print(f"sender alone, {th} thread(s): {tx} frames in {b['seconds']:.2f} s = "
                      f"{tx / b['seconds']:.0f} pps (load1 {loadavg()})")
            print(HEADER)
            rows = []
            for rate in rates:
                for _ in range(args.repeat):
                    for who in daemons:
                        r = run_one(args, ns, work, pcap, who, rate)
                        rows.append(r)
                        print(fmt_row(r), flush=True)
            print("loss-free runs per target rate (lost = 0 and dropped = 0), and the highest "
                  "rate at which every run was loss-free (the lowest rate achieved among them):")
            for who in daemons:
                best, cells = None, []
                for rate in rates:
                    rs = [r for r in rows if r["daemon"] == who and r["target"] == rate]
                    ok = [r for r in rs if "error" not in r and r["lost"] <= 0
                          and r.get("dropped", 1) == 0]
                    cells.append(f"{rate or 'max'}:{len(ok)}/{len(rs)}")
                    if rs and len(ok) == len(rs):
                        low = min(r["pps"] for r in ok)
                        best = low if best is None or low > best else best
                print(f"  {who:8} {' '.join(cells)}  highest: "
                      f"{f'{best:.0f} pps' if best is not None else 'none'}")
        finally:
            ns.delete()


if __name__ == "__main__":
    main()
