# SPDX-License-Identifier: BSD-3-Clause
"""Correlation of NetFlow records with the BGP RIB, end to end: BIRD 2 on a
private loopback address announces routes to nfacctd's BGP daemon, NetFlow v5
from that address (the exporter is the BGP peer) is printed as CSV, and every
BGP column is checked against what the routes give (lpm() over the announced
routes) and against what Debian's 1.7.7 printed for the same routes and keys
(community patterns, radius, pattern_to_asn: /work/brief/bgp-oracle.md,
docs/bgp.md "Correlation").  peer_dst_ip is the BGP next hop, as pmacct master
prints it (1.7.7 leaves it empty).

Needs the BGP daemon (bgp_daemon), the BGP primitives and BIRD; skipped (failed
under CI) otherwise.
"""

import csv
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import skip_or_fail
from helpers import free_port, free_tcp_port, wait_for

try:
    from bgp_peers import BirdPeer, Route, lpm
except ImportError:  # the BGP fixtures are not in this tree
    BirdPeer = None

LOCAL = "127.0.0.46"   # a loopback address of its own: other BGP tests use .2-.5

ROUTES = [
    Route("10.1.0.0/16", "192.0.2.1", as_path=(65010, 65020, 65030),
          communities=("65000:1", "65000:12", "65001:100", "64999:1", "1:65000"),
          large_communities=("65000:1:2",), ext_communities=(("rt", "65000:100"),),
          local_pref=200, med=50),
    Route("10.1.2.0/24", "192.0.2.2", as_path=(65011,), communities=("65000:2",)),
    Route("10.3.0.0/16", "192.0.2.3", communities=("65123:456",)),
    Route("10.9.0.0/16", "192.0.2.9", as_path=(65090, 65091)),
] if BirdPeer else []
DSTS = ["10.1.2.3", "10.1.5.5", "10.7.7.7", "10.3.1.1"]
SRC = "10.9.9.9"
AGG = ("src_host, dst_host, src_as, dst_as, peer_dst_as, peer_dst_ip, dst_net, dst_mask, "
       "src_net, src_mask, as_path, std_comm, ext_comm, lrg_comm, local_pref, med")


def nfacctd():
    return os.environ.get("NFACCTD", "build/nfacctd")


@pytest.fixture(scope="module")
def bird(tmp_path_factory):
    if BirdPeer is None or not BirdPeer.available():
        skip_or_fail("BIRD or the BGP fixtures (tests/e2e/bgp_peers.py) missing", module=True)
    out = subprocess.run([nfacctd(), "-a"], capture_output=True, text=True).stdout
    if "as_path" not in out:
        skip_or_fail("nfacctd without the BGP primitives", module=True)
    port = free_tcp_port()
    peer = BirdPeer(tmp_path_factory.mktemp("bird"), local=LOCAL, asn=65001, collector_port=port)
    peer.start()
    peer.announce(ROUTES)
    yield peer
    peer.stop()


def v5(dsts):
    """A NetFlow v5 datagram: SRC to each of dsts, masks /8, AS 111/222, next hop 172.16.0.1."""
    from scapy.all import raw
    from scapy.layers.netflow import NetflowHeader, NetflowHeaderV5, NetflowRecordV5
    pkt = NetflowHeader() / NetflowHeaderV5(count=len(dsts), sysUptime=1000, unixSecs=int(time.time()))
    for d in dsts:
        pkt = pkt / NetflowRecordV5(src=SRC, dst=d, nexthop="172.16.0.1", input=1, output=2,
                                    dpkts=1, dOctets=100, src_as=111, dst_as=222, src_mask=8,
                                    dst_mask=8, prot=6, srcport=1000, dstport=80)
    return raw(pkt)


def run(bird, tmp_path, extra=""):
    """nfacctd with `extra` keys until every destination is printed; the rows by DST_IP."""
    uport = free_port()
    out = tmp_path / "out.csv"
    conf = tmp_path / "nf.conf"
    conf.write_text(f"""daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: {uport}
bgp_daemon: true
bgp_daemon_ip: 127.0.0.1
bgp_daemon_port: {bird.port}
nfacctd_as: bgp
nfacctd_net: bgp
plugins: print[p]
aggregate[p]: {AGG}
print_output[p]: csv
print_output_file[p]: {out}
print_refresh_time[p]: 1
{extra}
""")
    log = open(tmp_path / "log", "w")
    p = subprocess.Popen([nfacctd(), "-f", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    try:
        bird.wait_established()
        bird.wait_advertised(len(ROUTES))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((LOCAL, 0))
        dgram = v5(DSTS)

        # BIRD's "advertised" count runs ahead of the collector's RIB: a datagram may come
        # before the routes are in.  Done when every destination with a route (the test's own
        # LPM) prints its prefix; the file is rewritten every second, flows keep coming.
        routed = [d for d in DSTS if lpm(ROUTES, d) is not None]

        def rows():
            s.sendto(dgram, ("127.0.0.1", uport))
            if not out.exists():
                return None
            got = {r["DST_IP"]: r for r in csv.DictReader(out.open())}
            if len(got) != len(DSTS) or any(got[d]["DST_NET"] == "0.0.0.0" for d in routed):
                return None
            return got
        return wait_for(rows, 30, "every destination printed", proc=p, step=0.2)
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


def expect(dst):
    """The BGP columns the announced routes give dst (independent LPM)."""
    r = lpm(ROUTES, dst)
    if r is None:
        return {"AS_PATH": "", "COMMS": "", "LCOMMS": "", "PREF": "0", "MED": "0",
                "DST_AS": "0", "PEER_DST_AS": "0", "DST_NET": "0.0.0.0", "DST_MASK": "0",
                "PEER_DST_IP": ""}
    return {"AS_PATH": "_".join(map(str, r.as_path)),
            "COMMS": "_".join(sorted(r.communities, key=lambda c: tuple(map(int, c.split(":"))))),
            "LCOMMS": "_".join(r.large_communities),
            "PREF": str(r.local_pref if r.local_pref is not None else 100),   # BIRD iBGP default
            "MED": str(r.med or 0),
            "DST_AS": str(r.as_path[-1] if r.as_path else 0),
            "PEER_DST_AS": str(r.as_path[0] if r.as_path else 0),
            "DST_NET": str(r.net.network_address), "DST_MASK": str(r.net.prefixlen),
            "PEER_DST_IP": r.next_hop}


def test_fields(bird, tmp_path):
    got = run(bird, tmp_path)
    for d in DSTS:
        for col, want in expect(d).items():
            assert got[d][col] == want, (d, col)
        src = lpm(ROUTES, SRC)
        assert got[d]["SRC_AS"] == str(src.as_path[-1])
        assert (got[d]["SRC_NET"], got[d]["SRC_MASK"]) == (str(src.net.network_address),
                                                           str(src.net.prefixlen))


# What 1.7.7 printed for these keys over the same routes (bgp-oracle.md), by destination.
ORACLE = [
    ("bgp_stdcomm_pattern: 00:1\nbgp_aspath_radius: 2",
     {"10.1.5.5": {"COMMS": "00:1_00:12", "AS_PATH": "65010_65020"}, "10.1.2.3": {"COMMS": ""}}),
    ("bgp_stdcomm_pattern: 65000:1.,64999\nbgp_stdcomm_pattern_to_asn: 65123:",
     {"10.1.5.5": {"COMMS": "64999:1"}, "10.3.1.1": {"DST_AS": "456", "PEER_DST_AS": "65123"}}),
    ("bgp_stdcomm_pattern: 65.00", {"10.1.5.5": {"COMMS": "65000"}}),
    ("bgp_extcomm_pattern: 100", {"10.1.5.5": {"ECOMMS": "100"}}),
]


@pytest.mark.parametrize("extra,want", ORACLE, ids=["pattern+radius", "dot+to_asn", "mid-dot", "ext"])
def test_as_1_7_7(bird, tmp_path, extra, want):
    got = run(bird, tmp_path, extra)
    for d, cols in want.items():
        for col, v in cols.items():
            assert got[d][col] == v, (d, col)
