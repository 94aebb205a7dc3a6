# SPDX-License-Identifier: BSD-3-Clause
"""nfacctd's BGP daemon against real speakers (GoBGP, BIRD 2, FRR bgpd, ExaBGP on
loopback, tests/e2e/bgp_peers.py), with independent truth: the test announces
the routes itself, sends NetFlow v5 (IPv4) and v9 (IPv6) records from each
speaker's own address (so each exporter maps to its BGP peer), does the longest
prefix match itself and checks every BGP primitive of every flow in the print
plugin's JSON and CSV output.

The same scenario runs for Debian's nfacctd 1.7.7 (never skipped: the oracle
must agree with the truth) and for ours ($NFACCTD, skipped only when a probe
shows it has no BGP daemon).  Phases, told apart by the flows' source port:
  1 every route announced;
  2 the /24s withdrawn and the /16s announced again with other attributes;
  3 the /24s announced again;
  4 one speaker stopped (its exporter's flows find no route);
  5 that speaker started again (its routes back).
"""

import concurrent.futures
import ipaddress
import json
import os
import socket
import struct
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from bgp_peers import SPEAKERS, Route, lpm, loopback_ok
from conftest import REPO, DAEMON_ENV, csv_dicts, retry_reference, skip_or_fail
from helpers import free_port, wait_for

REF_NFACCTD = Path(os.environ.get("REF_NFACCTD", "/usr/sbin/nfacctd"))
NFACCTD = Path(os.environ.get("NFACCTD", REPO / "build" / "nfacctd"))
ASN = 65001

# every BGP primitive 1.7.7 has, with the flow's identity (src_port = phase)
AGGREGATE = ("peer_src_ip,src_host,dst_host,src_port,src_as,dst_as,peer_src_as,peer_dst_as,"
             "peer_dst_ip,as_path,std_comm,ext_comm,lrg_comm,local_pref,med,src_as_path,"
             "src_std_comm,src_ext_comm,src_lrg_comm,src_local_pref,src_med,src_net,dst_net,"
             "src_mask,dst_mask,mpls_vpn_rd")

# speaker kind -> local address; each has its own exporter address
PEERS = {"gobgp": "127.0.0.2", "bird": "127.0.0.3", "frr": "127.0.0.4", "exabgp": "127.0.0.5"}
PEERS_INDEX = {k: i for i, k in enumerate(PEERS)}


def routes_for(kind, i, variant=0):
    """The routes speaker number i announces: a /16 and a more specific /24 and /25
    with other attributes, an IPv6 /48 and /64; `variant` changes the /16's
    attributes (phase 2)."""
    ext = "ext_comm" in SPEAKERS[kind].supports
    b = 10 + i
    v = variant
    return [
        Route(f"10.{b}.0.0/16", f"192.0.2.{b}", (65100 + i, 65200 + v, 65300 + i),
              (f"65000:{b}", f"65000:{100 + v}"), (("rt", f"65000:{b}"),) if ext else (),
              (f"65000:{b}:{v}",), 100 + v * 50, 10 + v),
        Route(f"10.{b}.1.0/24", f"192.0.2.{b + 100}", (65100 + i, 64512 + i),
              (f"65001:{b}",), (("rt", f"65001:{b}"), ("soo", f"65002:{b}")) if ext else (),
              (), 300, 0),
        Route(f"10.{b}.1.128/25", f"192.0.2.{b + 150}", (65100 + i, 4200000000 + i),
              (), (), (f"4200000000:{b}:7",), 400, None),
        Route(f"2001:db8:{b:x}::/48", f"2001:db8::{b:x}", (65100 + i, 65400 + i),
              (f"65000:{b}",), (), (f"65000:{b}:6",), 600, 6),
        Route(f"2001:db8:{b:x}:1::/64", f"2001:db8::1:{b:x}", (65100 + i, 65500 + i),
              (f"65003:{b}",), (), (), 700, 7),
    ] + ([
        # the /16 again in a VPN, other attributes (flows with this RD find it, no others)
        Route(f"10.{b}.0.0/16", f"192.0.2.{b + 50}", (65100 + i, 65600 + i), (f"65004:{b}",),
              (("rt", f"65000:{b}"),), (), 800, 8, rd=f"65000:{b}", label=100 + i),
    ] if "vpnv4" in SPEAKERS[kind].supports else [])


VPN_IFINDEX = 9     # v5 input interface of the flows flow_to_rd_map puts in the VPN


def vpn_rd(kind, i):
    """The RD of speaker i's VPN flows (None when it sends no VPNv4), as the test's RD
    map writes it and pmacct prints it (type 0)."""
    return f"65000:{10 + i}" if "vpnv4" in SPEAKERS[kind].supports else None


def flows_for(i, kind=None):
    """(src, dst, rd) of exporter i: inside each prefix, in none, across them; and
    when its speaker sends VPNv4, two flows in the VPN (rd set)."""
    b = 10 + i
    vpn = [(f"10.{b}.7.7", f"10.{b}.1.5", vpn_rd(kind, i)), ("172.16.0.3", f"10.{b}.5.5",
                                                             vpn_rd(kind, i))]
    return [(s, d, None) for s, d in flows_plain(b)] + (vpn if kind and vpn_rd(kind, i) else [])


def flows_plain(b):
    return [(f"10.{b}.1.200", f"10.{b}.1.5"), (f"10.{b}.1.5", f"10.{b}.9.9"),
            (f"10.{b}.9.9", "172.16.0.1"), ("172.16.0.2", f"10.{b}.1.129"),
            (f"2001:db8:{b:x}:1::5", f"2001:db8:{b:x}:2::9"),
            (f"2001:db8:{b:x}:2::5", "2001:db8:ffff::1")]


# ---------------------------------------------------------------------------
# NetFlow from a given source address


def v5(flows, seq, port):
    recs = b"".join(struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", socket.inet_aton(f[0]),
                                socket.inet_aton(f[1]), bytes(4),
                                VPN_IFINDEX if len(f) > 2 and f[2] else 1, 2, 1, 100, 90000,
                                99000, port, 443, 0, 0x18, 6, 0, 0, 0, 0, 0, 0) for f in flows)
    return struct.pack("!HHIIIIBBH", 5, len(flows), 100000, int(time.time()), 0, seq, 0, 0, 0) + recs


V9_FIELDS = ((27, 16), (28, 16), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4))


def v9(flows, seq, port):
    tpl = struct.pack("!HH", 260, len(V9_FIELDS)) + b"".join(struct.pack("!HH", *f) for f in V9_FIELDS)
    tset = struct.pack("!HH", 0, 4 + len(tpl)) + tpl
    recs = b"".join(socket.inet_pton(socket.AF_INET6, f[0]) + socket.inet_pton(socket.AF_INET6, f[1])
                    + struct.pack("!HHBII", port, 443, 6, 100, 1) for f in flows)
    recs += bytes(-len(recs) % 4)
    dset = struct.pack("!HH", 260, 4 + len(recs)) + recs
    return struct.pack("!HHIIII", 9, 1 + len(flows), 100000, int(time.time()), seq, 0) + tset + dset


def send_flows(src_addr, flows, port, collector_port, seq, collector="127.0.0.1"):
    with socket.socket(socket.AF_INET6 if ":" in src_addr else socket.AF_INET,
                       socket.SOCK_DGRAM) as s:
        s.bind((src_addr, 0))
        f4 = [f for f in flows if ":" not in f[0]]
        f6 = [f for f in flows if ":" in f[0]]
        for i in range(0, len(f4), 30):            # v5: at most 30 records a datagram
            s.sendto(v5(f4[i:i + 30], seq + i, port), (collector, collector_port))
        for i in range(0, len(f6), 20):
            s.sendto(v9(f6[i:i + 20], seq + len(f4) + i, port), (collector, collector_port))


# ---------------------------------------------------------------------------
# The truth: what every BGP primitive of a flow must be


def comms_text(vals):
    """Communities as pmacct prints them: sorted numerically, each once (1.7.7 does)."""
    return "_".join(sorted(set(vals), key=lambda c: tuple(map(int, c.split(":")))))


def ecomms_text(vals):
    return "_".join(f"{ {'rt': 'RT', 'soo': 'SoO'}[t]}:{v}" for t, v in vals)


def expected(routes, src, dst, rd=None):
    """The BGP primitives of flow src -> dst for an exporter whose peer holds
    `routes` (no route: zero and empty, as 1.7.7 prints them); rd: the flow's
    route distinguisher (from the RD map), looked up among that VPN's routes."""
    s, d = lpm(routes, src, rd), lpm(routes, dst, rd)
    e = {"mpls_vpn_rd": f"0:{rd}" if rd else "0:0:0"}
    for side, r in (("dst", d), ("src", s)):
        pre = "src_" if side == "src" else ""
        e[f"{side}_as"] = r.as_path[-1] if r and r.as_path else 0
        e[f"peer_{side}_as"] = r.as_path[0] if r and r.as_path else 0
        e[pre + "as_path"] = "_".join(map(str, r.as_path)) if r else ""
        e[pre + "std_comm"] = comms_text(r.communities) if r else ""
        e[pre + "ext_comm"] = ecomms_text(r.ext_communities) if r else ""
        e[pre + "lrg_comm"] = comms_text(r.large_communities) if r else ""
        e[pre + "local_pref"] = (r.local_pref or 0) if r else 0
        e[pre + "med"] = (r.med or 0) if r else 0
        e[f"{side}_net"] = str(r.net.network_address) if r else None
        e[f"{side}_mask"] = r.net.prefixlen if r else 0
    e["peer_dst_ip"] = d.next_hop if d else None
    return e


# pmacct JSON keys of the primitives (docs/COMPAT.md; checked against 1.7.7 by this test)
JSON_KEY = {"src_as": "as_src", "dst_as": "as_dst", "peer_src_as": "peer_as_src",
            "peer_dst_as": "peer_as_dst", "peer_dst_ip": "peer_ip_dst", "as_path": "as_path",
            "std_comm": "comms", "ext_comm": "ecomms", "lrg_comm": "lcomms",
            "local_pref": "local_pref", "med": "med", "src_as_path": "as_path_src",
            "src_std_comm": "comms_src", "src_ext_comm": "ecomms_src",
            "src_lrg_comm": "lcomms_src", "src_local_pref": "local_pref_src",
            "src_med": "med_src", "src_net": "net_src", "dst_net": "net_dst",
            "src_mask": "mask_src", "dst_mask": "mask_dst", "mpls_vpn_rd": "mpls_vpn_rd"}
CSV_KEY = {"src_as": "SRC_AS", "dst_as": "DST_AS", "peer_src_as": "PEER_SRC_AS",
           "peer_dst_as": "PEER_DST_AS", "peer_dst_ip": "PEER_DST_IP", "as_path": "AS_PATH",
           "std_comm": "COMMS", "ext_comm": "ECOMMS", "lrg_comm": "LCOMMS",
           "local_pref": "PREF", "med": "MED", "src_as_path": "SRC_AS_PATH",
           "src_std_comm": "SRC_COMMS", "src_ext_comm": "SRC_ECOMMS",
           "src_lrg_comm": "SRC_LCOMMS", "src_local_pref": "SRC_PREF", "src_med": "SRC_MED",
           "src_net": "SRC_NET", "dst_net": "DST_NET", "src_mask": "SRC_MASK",
           "dst_mask": "DST_MASK", "mpls_vpn_rd": "MPLS_VPN_RD"}


def oracle_deviation(binary, exp, dst):
    """1.7.7 prints peer_dst_ip empty when the destination's route is IPv4 (the
    NEXT_HOP attribute); it prints an IPv6 route's MP_REACH next hop, and upstream
    master prints both.  Only 1.7.7's expectations take this exception."""
    if binary == REF_NFACCTD and ":" not in dst:
        exp = dict(exp, peer_dst_ip=None)
    return exp


def norm(key, v):
    """One output value as the truth writes it (ints as ints; an absent address
    as None: 1.7.7 prints 0.0.0.0 or :: for it, an empty CSV field for an
    absent AS path or community list)."""
    if key in ("peer_dst_ip", "src_net", "dst_net"):
        return None if v in (None, "", "0.0.0.0", "::") else str(ipaddress.ip_address(v))
    if key in ("src_as", "dst_as", "peer_src_as", "peer_dst_as", "local_pref", "med",
               "src_local_pref", "src_med", "src_mask", "dst_mask"):
        return int(v or 0)
    return "" if v is None else str(v)


# ---------------------------------------------------------------------------
# The collector


def rd_map_text():
    """flow_to_rd_map (the 1.7.7 name): each VPN-capable speaker's exporter, input interface VPN_IFINDEX."""
    lines = []
    for i, k in enumerate(PEERS):
        if vpn_rd(k, i):
            lines.append(f"id=0:{vpn_rd(k, i)} ip={PEERS[k]} in={VPN_IFINDEX}")
    return "\n".join(lines) + "\n"


def collector_conf(d, nf_port, bgp_port, ip="127.0.0.1"):
    common = "\n".join(f"{k}[{p}]: {v}" for p in ("j", "c") for k, v in (
        ("aggregate", AGGREGATE), ("print_refresh_time", 3600)))
    return f"""daemonize: false
pidfile: {d}/nfacctd.pid
nfacctd_ip: {ip}
nfacctd_port: {nf_port}
bgp_daemon: true
bgp_daemon_ip: {ip}
bgp_daemon_port: {bgp_port}
bgp_daemon_max_peers: 10
flow_to_rd_map: {d}/rd.map
nfacctd_as: bgp
nfacctd_net: bgp
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
{common}
"""


def start_collector(binary, d, ip="127.0.0.1"):
    """binary on free ports with the config above; returns (proc, nf_port, bgp_port)
    once its BGP port accepts connections, or (proc, None, reason) when it does
    not come up (exited, or no BGP listener)."""
    nf_port, bgp_port = free_port(host=ip), free_port(socket.SOCK_STREAM, host=ip)
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    conf = d / "nfacctd.conf"
    (d / "rd.map").write_text(rd_map_text())
    conf.write_text(collector_conf(d, nf_port, bgp_port, ip))
    log = open(d / "nfacctd.log", "w")
    proc = subprocess.Popen([str(binary), "-f", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                            env=DAEMON_ENV)

    def listening():
        with socket.socket(fam) as s:
            return s.connect_ex((ip, bgp_port)) == 0 or proc.poll() is not None
    # the probe connection itself is a (short-lived) BGP peer: 1.7.7 logs and drops it
    wait_for(listening, 10)
    if proc.poll() is not None:
        return proc, None, f"exited {proc.returncode}: {(d / 'nfacctd.log').read_text()[-800:]}"
    with socket.socket(fam) as s:
        if s.connect_ex((ip, bgp_port)) != 0:
            return proc, None, "no BGP listener on bgp_daemon_port"

    def udp_bound():            # 1.7.7 binds its NetFlow socket after the BGP listener
        out = subprocess.run(["ss", "-Hlun", f"sport = :{nf_port}"], capture_output=True,
                             text=True).stdout
        return out.strip() != "" or proc.poll() is not None
    wait_for(udp_bound, 15, "the collector's NetFlow socket bound")
    time.sleep(0.5)             # and its plugins started
    return proc, nf_port, bgp_port


def stop_collector(proc):
    proc.send_signal(2)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def outputs(d):
    rows_j = [json.loads(line) for line in (d / "out.json").read_text().splitlines() if line.strip()]
    rows_c = csv_dicts((d / "out.csv").read_text())
    return rows_j, rows_c


# ---------------------------------------------------------------------------


def daemons():
    return [pytest.param(REF_NFACCTD, id="nfacctd-1.7.7"), pytest.param(NFACCTD, id="ours")]


@pytest.fixture(scope="module")
def speakers_available():
    kinds = [k for k in PEERS if SPEAKERS[k].available() and loopback_ok(PEERS[k])]
    if not kinds:
        skip_or_fail("no BGP speaker installed (apt-get install gobgpd bird2 frr exabgp)",
                     module=True)
    return kinds


@pytest.mark.parametrize("binary", daemons())
def test_bgp_primitives_follow_the_routes(tmp_path, binary, speakers_available):
    if binary == REF_NFACCTD and not os.access(binary, os.X_OK):
        skip_or_fail(f"nfacctd 1.7.7 missing at {binary} (apt-get install pmacct)")
    if not os.access(binary, os.X_OK):
        pytest.skip(f"no nfacctd at {binary}")

    def attempt(try_no):
        work = tmp_path / f"try{try_no}"
        work.mkdir()
        proc, nf_port, bgp_port = start_collector(binary, work)
        if nf_port is None:
            stop_collector(proc) if proc.poll() is None else None
            if binary == REF_NFACCTD:
                pytest.fail(f"nfacctd 1.7.7 did not start its BGP daemon: {bgp_port}")
            pytest.skip(f"{binary}: BGP daemon unsupported ({bgp_port})")
        kinds = speakers_available
        peers = {k: SPEAKERS[k](work, local=PEERS[k], asn=ASN, collector_port=bgp_port)
                 for k in kinds}
        held = {}                    # kind -> routes the collector should hold now
        truth = {}                   # (exporter, src, dst, phase) -> expected primitives
        seq = [0]

        def phase(n):
            for k in kinds:
                flows = flows_for(PEERS_INDEX[k], k)
                send_flows(PEERS[k], flows, n, nf_port, seq[0])
                seq[0] += len(flows)
                for s, dd, rd in flows:
                    truth[(PEERS[k], s, dd, n)] = oracle_deviation(
                        binary, expected(held.get(k, []), s, dd, rd), dd)
            time.sleep(0.5)

        def settle():
            for k in held:
                peers[k].wait_advertised(len(held[k]))
            time.sleep(1.0)          # the collector reads what the speakers sent

        try:
            def bring_up(k):
                peers[k].start()
                held[k] = routes_for(k, PEERS_INDEX[k])
                peers[k].announce(held[k])
            with concurrent.futures.ThreadPoolExecutor(len(kinds)) as ex:
                list(ex.map(bring_up, kinds))          # (re-raises what a start raised)
            for k in kinds:
                peers[k].wait_established()
            settle()
            phase(1)
            # 2: the /24s withdrawn, the /16s changed
            for k in kinds:
                i = PEERS_INDEX[k]
                r = routes_for(k, i)
                peers[k].withdraw([r[1]])
                peers[k].announce([routes_for(k, i, variant=1)[0]])
                held[k] = [routes_for(k, i, variant=1)[0]] + r[2:]
            settle()
            phase(2)
            # 3: the /24s back
            for k in kinds:
                i = PEERS_INDEX[k]
                r = routes_for(k, i)
                peers[k].announce([r[1]])
                held[k].append(r[1])
            settle()
            phase(3)
            # 4: one speaker down: its exporter's flows find nothing
            down = kinds[0]
            peers[down].stop()
            wait_for(lambda: not peers[down].established(), 10)
            held.pop(down)
            time.sleep(1.5)
            phase(4)
            # 5: up again with the routes it held
            peers[down].start()
            peers[down].wait_established()
            held[down] = list(peers[down].routes.values())
            settle()
            phase(5)
        finally:
            with concurrent.futures.ThreadPoolExecutor(len(peers)) as ex:
                list(ex.map(lambda p: p.stop(), peers.values()))
            time.sleep(2)           # see test_bgpgen_table_lookups: sessions down before SIGINT
            stop_collector(proc)
        rows_j, rows_c = outputs(work)
        log = (work / "nfacctd.log").read_text()[-1500:]
        for fmt, rows, keymap in (("json", rows_j, JSON_KEY), ("csv", rows_c, CSV_KEY)):
            if fmt == "json":
                got = {(r["peer_ip_src"], r["ip_src"], r["ip_dst"], int(r["port_src"])): r for r in rows}
            else:
                got = {(r["PEER_SRC_IP"], r["SRC_IP"], r["DST_IP"], int(r["SRC_PORT"])): r
                       for r in rows}
            missing = set(truth) - set(got)
            assert not missing, f"{fmt}: flows not in the output: {sorted(missing)[:5]}\n{log}"
            bad = []
            for fk, exp in truth.items():
                row = got[fk]
                for key, want in exp.items():
                    have = norm(key, row.get(keymap[key]))
                    if have != norm(key, want):
                        bad.append(f"{fk} {key}: got {row.get(keymap[key])!r}, want {want!r}")
            (work / f"wrong-{fmt}.txt").write_text("\n".join(bad))
            by_key = Counter(b.split(") ")[1].split(":")[0] for b in bad)
            assert not bad, (f"{fmt}: {len(bad)} wrong values (all in {work}/wrong-{fmt}.txt), "
                             f"by primitive {dict(by_key)}:\n" + "\n".join(bad[:30]))

    if binary == REF_NFACCTD:   # again (its own directory and ports) while it fails the checks
        retry_reference(attempt, what="nfacctd 1.7.7")
    else:
        attempt(0)              # ours: once


# ---------------------------------------------------------------------------
# A generated table (build/bgpgen): every lookup against the routes file it wrote

BGPGEN = Path(os.environ.get("BGPGEN", REPO / "build" / "bgpgen"))


def load_routes_file(path):
    """bgpgen's routes file: {network: fields} with the pmacct texts ("-" = empty)."""
    table = {}
    for line in Path(path).read_text().splitlines():
        pfx, nh, path_, comms, lcomms, lp, med = line.split(" ")
        table[ipaddress.ip_network(pfx)] = dict(
            next_hop=nh, as_path="" if path_ == "-" else path_,
            std_comm="" if comms == "-" else comms, lrg_comm="" if lcomms == "-" else lcomms,
            local_pref=int(lp), med=int(med))
    return table


def table_lpm(table, addr):
    a = ipaddress.ip_address(addr)
    for plen in range(a.max_prefixlen, -1, -1):
        net = ipaddress.ip_network(f"{a}/{plen}", strict=False)
        if net in table:
            return net, table[net]
    return None, None


def table_expected(table, dst):
    net, r = table_lpm(table, dst)
    if r is None:
        return dict(as_path="", std_comm="", lrg_comm="", local_pref=0, med=0, dst_as=0,
                    peer_dst_as=0, dst_net=None, dst_mask=0)
    asns = r["as_path"].split("_") if r["as_path"] else []
    return dict(as_path=r["as_path"], std_comm=r["std_comm"], lrg_comm=r["lrg_comm"],
                local_pref=r["local_pref"], med=r["med"], dst_as=int(asns[-1]) if asns else 0,
                peer_dst_as=int(asns[0]) if asns else 0, dst_net=str(net.network_address),
                dst_mask=net.prefixlen)


@pytest.mark.parametrize("binary", daemons())
def test_bgpgen_table_lookups(tmp_path, binary):
    """bgpgen's 3000 IPv4 + 600 IPv6 prefixes (500 AS paths), flows to hosts inside 300 of
    them and outside: every destination's BGP primitives from the routes file; then
    bgpgen withdraws everything and the same flows find nothing."""
    import random
    if not os.access(BGPGEN, os.X_OK):
        skip_or_fail(f"no bgpgen at {BGPGEN} (ninja -C build bgpgen)")
    if not os.access(binary, os.X_OK):
        if binary == REF_NFACCTD:
            skip_or_fail(f"nfacctd 1.7.7 missing at {binary}")
        pytest.skip(f"no nfacctd at {binary}")
    local = "127.0.0.6"
    if not loopback_ok(local):
        skip_or_fail(f"cannot bind {local}")

    def attempt(try_no):
        work = tmp_path / f"try{try_no}"
        work.mkdir()
        proc, nf_port, bgp_port = start_collector(binary, work)
        if nf_port is None:
            if binary == REF_NFACCTD:
                pytest.fail(f"nfacctd 1.7.7 did not start its BGP daemon: {bgp_port}")
            pytest.skip(f"{binary}: BGP daemon unsupported ({bgp_port})")
        routes = work / "routes.txt"
        gen = subprocess.Popen([str(BGPGEN), "-p", str(bgp_port), "-l", local, "-4", "3000",
                                "-6", "600", "-P", "500", "-s", "9", "-o", str(routes), "-t", "6",
                                "-w", "-j", str(work / "tallies.json")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines = []
        import threading
        threading.Thread(target=lambda: lines.extend(gen.stderr), daemon=True).start()
        truth = {}
        try:
            wait_for(lambda: any("table sent" in x for x in lines), 30, "bgpgen table sent",
                     proc=None)
            table = load_routes_file(routes)
            rnd = random.Random(4)
            nets = list(table)
            dsts = []
            for net in rnd.sample(nets, 300):
                off = rnd.randrange(net.num_addresses) if net.num_addresses > 1 else 0
                dsts.append(str(net.network_address + off))
            dsts += ["10.1.2.3", "127.1.1.1", "fd00::1"]        # bgpgen never announces these
            v4src, v6src = "198.18.0.1", "fd00::2"
            flows = [(v6src if ":" in d else v4src, d) for d in dsts]
            time.sleep(1.0)
            send_flows(local, flows, 1, nf_port, 0)
            for s, d in flows:
                truth[(local, s, d, 1)] = table_expected(table, d)
            wait_for(lambda: any("withdrawals sent" in x for x in lines), 30,
                     "bgpgen withdrawals sent")
            time.sleep(1.5)
            send_flows(local, flows, 2, nf_port, len(flows))
            for s, d in flows:
                truth[(local, s, d, 2)] = table_expected({}, d)
            time.sleep(0.5)
        finally:
            # the peer down first and time for the collector to see it: 1.7.7 dies of "double
            # free or corruption" (no output) when SIGINT meets a live or closing BGP session
            gen.terminate()
            gen.wait(10)
            time.sleep(2)
            stop_collector(proc)
        tallies = json.loads((work / "tallies.json").read_text())
        assert tallies["ipv4_prefixes"] == 3000 and tallies["ipv6_prefixes"] == 600
        assert len(table) == 3600, "bgpgen wrote duplicate prefixes"
        rows_j, _ = outputs(work)
        got = {(r["peer_ip_src"], r["ip_src"], r["ip_dst"], int(r["port_src"])): r for r in rows_j}
        missing = set(truth) - set(got)
        assert not missing, f"flows not in the output: {sorted(missing)[:5]}"
        bad = []
        for fk, exp in truth.items():
            for key, want in exp.items():
                have = norm(key, got[fk].get(JSON_KEY[key]))
                if have != norm(key, want):
                    bad.append(f"{fk} {key}: got {got[fk].get(JSON_KEY[key])!r}, want {want!r}")
        assert not bad, f"{len(bad)} wrong values:\n" + "\n".join(bad[:30])

    if binary == REF_NFACCTD:   # again (its own directory and ports) while it fails the checks
        retry_reference(attempt, what="nfacctd 1.7.7")
    else:
        attempt(0)              # ours: once


# ---------------------------------------------------------------------------
# IPv4 routes over an IPv6 session (RFC 8950 next hop) and IPv6 routes with it


@pytest.mark.parametrize("kind", ["frr", "bird"])
@pytest.mark.parametrize("binary", daemons())
def test_ipv4_routes_over_ipv6_session(tmp_path, binary, kind):
    """A speaker on ::1 peering with the collector on ::1 announces IPv4 routes with an IPv6
    next hop and IPv6 routes; NetFlow from ::1.  1.7.7 offers no extended-next-hop capability:
    BIRD then refuses to send the IPv4 routes ("mismatched address family"), so for 1.7.7 +
    BIRD the IPv4 flows find nothing; FRR sends them anyway and 1.7.7 uses them."""
    cls = SPEAKERS[kind]
    if not cls.available() or not loopback_ok("::1"):
        skip_or_fail(f"{kind} or ::1 unavailable")
    if not os.access(binary, os.X_OK):
        if binary == REF_NFACCTD:
            skip_or_fail(f"nfacctd 1.7.7 missing at {binary}")
        pytest.skip(f"no nfacctd at {binary}")

    def attempt(try_no):
        work = tmp_path / f"try{try_no}"
        work.mkdir()
        proc, nf_port, bgp_port = start_collector(binary, work, ip="::1")
        if nf_port is None:
            if binary == REF_NFACCTD:
                pytest.fail(f"nfacctd 1.7.7 did not start its BGP daemon on ::1: {bgp_port}")
            pytest.skip(f"{binary}: BGP daemon unsupported ({bgp_port})")
        routes = [Route("10.30.0.0/16", "2001:db8::30", (65030, 65031), ("65000:30",), (), (), 300, 3),
                  Route("10.30.1.0/24", "2001:db8::31", (65032,), ("65000:31",), (), (), 310, None),
                  Route("2001:db8:30::/48", "2001:db8::32", (65033,), ("65000:32",), (), (), 320, 4)]
        peer = cls(work, local="::1", asn=ASN, collector_port=bgp_port, collector="::1",
                   router_id="10.255.0.1")
        flows = [("10.1.1.1", "10.30.1.1"), ("10.1.1.1", "10.30.9.9"),
                 ("2001:db8:1::1", "2001:db8:30::1")]
        v4_refused = binary == REF_NFACCTD and kind == "bird"
        try:
            peer.start()
            peer.announce(routes)
            peer.wait_established()
            peer.wait_advertised(1 if v4_refused else 3)
            time.sleep(1.0)
            send_flows("::1", flows, 1, nf_port, 0, collector="::1")
            time.sleep(0.5)
        finally:
            peer.stop()
            time.sleep(2)
            stop_collector(proc)
        rows_j, _ = outputs(work)
        got = {(r["ip_src"], r["ip_dst"]): r for r in rows_j}
        bad = []
        for s, d in flows:
            held = [r for r in routes if r.v6] if v4_refused else routes
            exp = expected(held, s, d)
            if ":" not in d:
                exp = oracle_deviation(binary, exp, d)
            for key in ("dst_as", "peer_dst_as", "as_path", "std_comm", "local_pref", "med",
                        "dst_net", "dst_mask", "peer_dst_ip"):
                have = norm(key, got[(s, d)].get(JSON_KEY[key]))
                if have != norm(key, exp[key]):
                    bad.append(f"{s}->{d} {key}: got {got[(s, d)].get(JSON_KEY[key])!r}, want {exp[key]!r}")
        assert not bad, "\n".join(bad)

    if binary == REF_NFACCTD:   # again (its own directory and ports) while it fails the checks
        retry_reference(attempt, what="nfacctd 1.7.7")
    else:
        attempt(0)              # ours: once
