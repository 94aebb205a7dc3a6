# SPDX-License-Identifier: BSD-3-Clause
"""One nfacctd (ours or Debian's 1.7.7) with its BGP daemon, fed by raw BGP
speakers (tests/e2e/bgp_wire.py) and NetFlow v5 datagrams sent from the
speakers' own addresses, for the differential BGP tests
(test_bgp_sql.py, test_bgp_amqp.py, test_bgp_follow.py): both binaries get
the same bytes, so their outputs can be compared row for row.

Stopping: the speakers' sessions are closed first and the daemon gets SIGINT
2 s later (1.7.7 can die of "double free or corruption" when SIGINT meets a
live or just-closed BGP session: /work/brief/bgp-oracle.md).
"""

import os
import socket
import struct
import subprocess
import time
from pathlib import Path

import bgp_wire as bw
from conftest import DAEMON_ENV, REPO
from helpers import free_port, wait_for

NFACCTD = Path(os.environ.get("NFACCTD", REPO / "build" / "nfacctd"))
REF_NFACCTD = Path(os.environ.get("REF_NFACCTD", "/usr/sbin/nfacctd"))


def v5_datagram(flows, unix_secs=None):
    """NetFlow v5, one record per (src, dst, next_hop, packets, bytes); masks /8 and
    AS 111/222 (which `*_as: bgp` / `*_net: bgp` must replace); the export time
    `unix_secs` (default now: give both daemons the same one when times are compared)."""
    from scapy.all import raw
    from scapy.layers.netflow import NetflowHeader, NetflowHeaderV5, NetflowRecordV5
    pkt = NetflowHeader(version=5) / NetflowHeaderV5(count=len(flows), sysUptime=10000,
                                                    unixSecs=int(unix_secs or time.time()))
    for s, d, nh, p, b in flows:
        pkt = pkt / NetflowRecordV5(src=s, dst=d, nexthop=nh, input=1, output=2, dpkts=p,
                                    dOctets=b, first=1000, last=2000, srcport=1234, dstport=80,
                                    prot=6, src_as=111, dst_as=222, src_mask=8, dst_mask=8)
    return raw(pkt)


def udp_bound(port):
    return subprocess.run(["ss", "-Hlun", f"sport = :{port}"], capture_output=True, text=True,
                          timeout=10).stdout.strip() != ""


class Collector:
    """nfacctd `binary` in `d` with config `body` (the collector's own lines are added:
    NetFlow on 127.0.0.1:nf_port, the BGP daemon on 127.0.0.1:bgp_port)."""

    def __init__(self, binary, d, body, max_peers=10):
        self.binary, self.d = Path(binary), Path(d)
        self.d.mkdir(parents=True, exist_ok=True)
        self.nf_port, self.bgp_port = free_port(), free_port(socket.SOCK_STREAM)
        conf = (f"daemonize: false\nnfacctd_ip: 127.0.0.1\nnfacctd_port: {self.nf_port}\n"
                f"bgp_daemon: true\nbgp_daemon_ip: 127.0.0.1\nbgp_daemon_port: {self.bgp_port}\n"
                f"bgp_daemon_max_peers: {max_peers}\n" + body)
        (self.d / "nf.conf").write_text(conf)
        self.logf = open(self.d / "nf.log", "w")
        self.proc = subprocess.Popen([str(self.binary), "-f", str(self.d / "nf.conf")],
                                     stdout=self.logf, stderr=subprocess.STDOUT, env=DAEMON_ENV)
        self.speakers = []

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.binary} exited {self.proc.returncode}:\n{self.log()[-2000:]}")
            listening = subprocess.run(["ss", "-Hltn", f"sport = :{self.bgp_port}"],
                                       capture_output=True, text=True, timeout=10).stdout.strip()
            # 1.7.7 binds the NetFlow socket after the BGP listener and the plugins
            return listening and udp_bound(self.nf_port)
        wait_for(up, 30, f"{self.binary}: BGP listener and NetFlow socket")

    def log(self):
        return (self.d / "nf.log").read_text(errors="replace")

    def speak(self, src, routes, asn=65001, rid=None, hold=180):
        """A raw iBGP speaker from `src` announcing `routes` (bgp_peers.Route, or an UPDATE's
        bytes), then End-of-RIB; kept open until stop()."""
        caps = [bw.cap(1, struct.pack("!HBB", 1, 0, 1)), bw.cap(65, struct.pack("!I", asn))]
        sp = bw.Speaker(src, self.bgp_port, asn, rid or src, caps, hold=hold)
        for r in routes:
            sp.send(r if isinstance(r, bytes) else bw.route_update(r))
        sp.send(bw.end_of_rib(1, 1))
        assert sp.alive(1.0), f"{self.binary} ended the session of {src}:\n{self.log()[-1500:]}"
        self.speakers.append(sp)
        return sp

    def send_v5(self, src, flows, times=1, gap=0.02, unix_secs=None):
        dg = v5_datagram(flows, unix_secs)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((src, 0))
            for _ in range(times):
                s.sendto(dg, ("127.0.0.1", self.nf_port))
                time.sleep(gap)

    def close_sessions(self):
        for sp in self.speakers:
            sp.close()
        self.speakers = []

    def stop(self, settle=2.0):
        """Sessions closed, `settle` s, then SIGINT (the plugins purge) and wait."""
        if self.speakers:
            self.close_sessions()
            time.sleep(settle)
        bw.stop_daemon(self.proc, 40)
        self.logf.close()
        return self.proc.returncode


def binaries():
    """[(name, path)] of the two nfacctd compared: 1.7.7 first."""
    return [("ref", REF_NFACCTD), ("ours", NFACCTD)]
