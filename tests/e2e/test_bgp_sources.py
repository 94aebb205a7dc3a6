# SPDX-License-Identifier: BSD-3-Clause
"""BGP enrichment in the two other daemons, each against Debian's 1.7.7 and ours,
both checked against the test's own truth (the longest prefix match over the
routes the test announced, bgp_peers.lpm, and the expected primitives of
test_bgp_oracle.expected):

- sfacctd: sFlow v5 flow samples (raw Ethernet headers) whose agent address and
  UDP source are the BGP speaker's own address (no agent map needed), and again
  from another agent address mapped to the speaker by `bgp_agent_map`;
  `sfacctd_as: bgp`, `sfacctd_net: bgp`.
- pmacctd: a pcap read with `pcap_savefile`; pmacctd has no exporter, so the
  catch-all `bgp_agent_map` row `bgp_ip=<speaker> ip=0.0.0.0/0` gives every
  packet the speaker's RIB; `pcap_savefile_delay` (-Z, 1.7.7 and ours) holds the
  capture back until the session is up and the routes in, `pcap_savefile_wait`
  keeps the daemon alive after the file so the test decides when it ends.

The speaker is the raw one of tests/e2e/bgp_wire.py (iBGP, AS 65001, MP IPv4
unicast + 4-octet AS), so both collectors see the same bytes.
"""

import json
import os
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

import bgp_wire as bw
from bgp_peers import Route
from conftest import REPO, DAEMON_ENV, csv_dicts, skip_or_fail
from helpers import free_port, wait_for
from test_bgp_oracle import CSV_KEY, JSON_KEY, expected, norm
from test_sfacctd import datagram, flow_sample, frame, raw_header


REF = {"sfacctd": Path("/usr/sbin/sfacctd"), "pmacctd": Path("/usr/sbin/pmacctd")}
OURS = {"sfacctd": Path(os.environ.get("SFACCTD", REPO / "build" / "sfacctd")),
        "pmacctd": Path(os.environ.get("PMACCTD", REPO / "build" / "pmacctd"))}
SPEAKER = "127.0.0.61"
ASN = 65001
DELAY = 6          # pcap_savefile_delay: the session and routes are in well before

AGGREGATE = ("src_host,dst_host,src_as,dst_as,peer_src_as,peer_dst_as,peer_dst_ip,as_path,"
             "std_comm,ext_comm,lrg_comm,local_pref,med,src_as_path,src_std_comm,src_ext_comm,"
             "src_lrg_comm,src_local_pref,src_med,src_net,dst_net,src_mask,dst_mask")
CHECKED = [k for k in AGGREGATE.split(",") if k in JSON_KEY]

ROUTES = [
    Route("10.40.0.0/16", "192.0.2.40", (65100, 65200, 65300), ("65000:40", "65000:100"),
          (("rt", "65000:40"),), ("65000:40:1",), 150, 20),
    Route("10.40.1.0/24", "192.0.2.41", (65100, 64512), ("65001:40",),
          (("rt", "65001:40"), ("soo", "65002:40")), (), 300, 0),
    Route("10.40.1.128/25", "192.0.2.42", (65100, 4200000000), (), (), ("4200000000:40:7",),
          400, None),
    Route("10.41.0.0/16", "192.0.2.43", (), ("65123:456",), (), (), 100, None),
]
FLOWS = [("10.40.1.200", "10.40.1.5"), ("10.40.1.5", "10.40.9.9"), ("10.40.9.9", "172.16.0.1"),
         ("172.16.0.2", "10.40.1.129"), ("10.41.3.3", "10.40.1.130"), ("172.16.0.3", "10.41.0.1")]


def conf_text(kind, d, bgp_port, extra):
    prims = "\n".join(f"{k}[{p}]: {v}" for p in ("j", "c") for k, v in (
        ("aggregate", AGGREGATE), ("print_refresh_time", 3600)))
    return f"""daemonize: false
pidfile: {d}/{kind}.pid
bgp_daemon: true
bgp_daemon_ip: 127.0.0.1
bgp_daemon_port: {bgp_port}
bgp_daemon_max_peers: 10
{kind}_as: bgp
{kind}_net: bgp
bgp_peer_src_as_type: bgp
bgp_src_as_path_type: bgp
bgp_src_std_comm_type: bgp
bgp_src_ext_comm_type: bgp
bgp_src_lrg_comm_type: bgp
bgp_src_local_pref_type: bgp
bgp_src_med_type: bgp
plugins: print[j], print[c]
print_output[j]: json
print_output_file[j]: {d}/out.json
print_output[c]: csv
print_output_file[c]: {d}/out.csv
{prims}
{extra}"""


def pcap(path, flows):
    """A pcap (Ethernet) with one UDP packet per flow (sport 1000, dport 53)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, (s, d) in enumerate(flows):
            fr = frame(s, d, proto=17, sport=1000, dport=53, payload=60)
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)) + fr)


def sflow_datagram(flows, seq, agent=SPEAKER):
    samples = [flow_sample(seq * 100 + i, 1, 1, seq * 100 + i, 1, 2,
                           [raw_header(frame(s, d, proto=17, sport=1000, dport=53, payload=60))])
               for i, (s, d) in enumerate(flows)]
    return datagram(agent, seq, samples)


def announce(bgp_port):
    caps = [bw.cap(1, struct.pack("!HBB", 1, 0, 1)), bw.cap(65, struct.pack("!I", ASN))]
    sp = bw.Speaker(SPEAKER, bgp_port, ASN, "10.0.0.61", caps)
    for r in ROUTES:
        sp.send(bw.route_update(r))
    sp.send(bw.end_of_rib(1, 1))
    assert sp.alive(1.5), "the collector ended the session"
    return sp


AGENT = "192.0.2.99"    # the sFlow agent of the agent-map run (sent from 127.0.0.1)


def run(kind, binary, d, agent_map=False):
    if not os.access(binary, os.X_OK):
        if binary == REF[kind]:
            skip_or_fail(f"{kind} 1.7.7 missing at {binary} (apt-get install pmacct)")
        pytest.skip(f"no {kind} at {binary}")
    bgp_port = free_port(socket.SOCK_STREAM)
    if kind == "sfacctd":
        sf_port = free_port()
        extra = f"sfacctd_ip: 127.0.0.1\nsfacctd_port: {sf_port}\n"
        if agent_map:
            (d / "agent.map").write_text(f"bgp_ip={SPEAKER} ip={AGENT}/32\n")
            extra += f"bgp_agent_map: {d}/agent.map\n"
    else:
        (d / "agent.map").write_text(f"bgp_ip={SPEAKER} ip=0.0.0.0/0\n")
        pcap(d / "in.pcap", FLOWS)
        extra = (f"bgp_agent_map: {d}/agent.map\npcap_savefile: {d}/in.pcap\n"
                 f"pcap_savefile_delay: {DELAY}\n")
    conf = d / f"{kind}.conf"
    conf.write_text(conf_text(kind, d, bgp_port, extra))
    log = open(d / f"{kind}.log", "w")
    t0 = time.time()
    proc = subprocess.Popen([str(binary), "-f", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                            env=DAEMON_ENV)
    sp = None
    try:
        def listening():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", bgp_port)) == 0 or proc.poll() is not None
        wait_for(listening, 15, f"{kind}: BGP listener")
        assert proc.poll() is None, (d / f"{kind}.log").read_text()[-800:]
        if kind == "sfacctd":
            wait_for(lambda: subprocess.run(["ss", "-Hlun", f"sport = :{sf_port}"],
                                            capture_output=True, text=True).stdout.strip() != "",
                     15, "sfacctd: sFlow socket bound")
            time.sleep(0.5)
        sp = announce(bgp_port)
        if kind == "sfacctd":
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1" if agent_map else SPEAKER, 0))
                u.sendto(sflow_datagram(FLOWS, 1, AGENT if agent_map else SPEAKER),
                         ("127.0.0.1", sf_port))
            time.sleep(1.5)
            assert proc.poll() is None, (d / f"{kind}.log").read_text()[-800:]
        else:
            assert time.time() - t0 < DELAY - 1, "session up too late for pcap_savefile_delay"
            proc.wait(DELAY + 20)     # it reads the file after the delay, purges and exits
    finally:
        bw.stop_daemon(proc)
        if sp:
            sp.close()
    rows_j = [json.loads(x) for x in (d / "out.json").read_text().splitlines() if x.strip()]
    rows_c = csv_dicts((d / "out.csv").read_text())
    return rows_j, rows_c


def params():
    return [pytest.param(k, b, m, id=f"{k}{'-agent-map' if m else ''}-{w}")
            for k, m in (("sfacctd", False), ("sfacctd", True), ("pmacctd", False))
            for w, b in (("1.7.7", REF[k]), ("ours", OURS[k]))]


@pytest.mark.parametrize("kind,binary,agent_map", params())
def test_bgp_enrichment(tmp_path, kind, binary, agent_map):
    """agent_map (sfacctd): the sFlow agent is another address, sent from 127.0.0.1;
    `bgp_agent_map` row `bgp_ip=<speaker> ip=<agent>/32` gives it the speaker's RIB."""
    rows_j, rows_c = run(kind, binary, tmp_path, agent_map)
    by_j = {(r["ip_src"], r["ip_dst"]): r for r in rows_j}
    by_c = {(r["SRC_IP"], r["DST_IP"]): r for r in rows_c}
    assert sorted(by_j) == sorted(FLOWS), rows_j
    assert sorted(by_c) == sorted(FLOWS), rows_c
    bad = []
    for s, dst in FLOWS:
        exp = expected(ROUTES, s, dst)
        for k in CHECKED:
            for what, row, key in (("json", by_j[(s, dst)], JSON_KEY[k]),
                                   ("csv", by_c[(s, dst)], CSV_KEY[k])):
                got = norm(k, row.get(key))
                if got != norm(k, exp[k]):
                    bad.append(f"{what} {s}->{dst} {k}: got {got!r}, want {exp[k]!r}")
    assert not bad, "\n".join(bad)
