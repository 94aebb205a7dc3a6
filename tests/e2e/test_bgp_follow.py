# SPDX-License-Identifier: BSD-3-Clause
"""bgp_follow_default, bgp_follow_nexthop (+ _external) and bgp_peer_as_skip_subas,
differential: three raw iBGP speakers (tests/e2e/bgp_wire.py) A, B, C peer with
the collector; NetFlow v5 comes from A (the exporter is A, no agent map).
A has a default route pointing at B, B one pointing at C; next hops chain
A -> B -> C for 10.10.0.0/16; A also holds paths with confederation segments
(AS_CONFED_SEQUENCE "(..)", AS_CONFED_SET "[..]", built byte by byte).

Each configuration runs Debian's nfacctd 1.7.7, pmacct master's nfacctd
(/work/shared/reference/pmacct-master) and ours on the same bytes; the print
plugin's JSON rows (JSON: 1.7.7's CSV does not quote the commas of "{65441,65442}")
must be 1.7.7's, field by field (as_path, dst_as, peer_dst_as, src_as,
peer_src_as, src_as_path, nets, masks).  peer_dst_ip: 1.7.7's nfacctd never
prints it for IPv4 (docs/bgp.md "peer_dst_ip and 1.7.7"), so it is compared with
master's (which prints the BGP next hop and agrees with 1.7.7 on every other
field: checked here too).  Where pmacct is plainly wrong (KNOWN: its
skip_subas text parser, the next hop its default-route follow takes, a second
follow that never resolves) both its value and ours are asserted, and
docs/differences.md has the evidence.

IPv6 (test_follow_nexthop_ipv6_as_1_7_7): 1.7.7 does print peer_dst_ip for IPv6
destinations, so bgp_follow_nexthop(_external) is compared with 1.7.7 itself there,
in a network namespace whose loopback holds the speakers' IPv6 addresses
(tests/e2e/bgp_follow6_run.py runs inside it).

pmacct also spoils the record that follows one whose default-route follow ran
out (every BGP field empty): each compared flow is sent after a sacrificial one
(SPARE), and a flow with two outcomes fails the run.
"""

import concurrent.futures
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import bgp_wire as bw
from bgp_xrun import Collector, binaries
from conftest import retry_reference, skip_or_fail

pytest.importorskip("scapy.layers.netflow")

MASTER = Path(os.environ.get("MASTER_NFACCTD", "/work/shared/reference/pmacct-master/nfacctd"))
A, B, C = "127.0.0.83", "127.0.0.84", "127.0.0.85"     # loopback addresses of their own
ASN = 65001
SET, SEQ, CONFED_SEQ, CONFED_SET = 1, 2, 3, 4          # RFC 4271 4.3, RFC 5065 3


def path_attr(segments):
    """AS_PATH of (type, [ASN...]) segments, 4-octet ASNs (AS4 negotiated)."""
    body = b"".join(bytes([t, len(asns)]) + b"".join(struct.pack("!I", a) for a in asns)
                    for t, asns in segments)
    return bw.attr(0x40, 2, body)


def upd(prefix, nh, segments=(), local_pref=100):
    """An IPv4 unicast UPDATE: ORIGIN IGP, the AS_PATH, NEXT_HOP, LOCAL_PREF."""
    attrs = bw.origin() + path_attr(segments) + bw.next_hop(nh) + bw.local_pref(local_pref)
    return bw.update(attrs, bw.prefix_bytes(prefix))


def seq(*asns):
    return [(SEQ, list(asns))]


ROUTES = {
    A: [upd("0.0.0.0/0", B),
        upd("10.10.0.0/16", B, seq(65100, 65101)),
        upd("10.11.0.0/16", "192.0.2.11", seq(65110)),
        upd("10.12.0.0/16", C, seq(65120)),
        upd("10.50.0.0/16", B, seq(65500)),
        upd("10.40.0.0/16", "192.0.2.40", [(CONFED_SEQ, [64512, 64513]), (SEQ, [65400, 65401])]),
        upd("10.41.0.0/16", "192.0.2.41", [(CONFED_SEQ, [64512])]),
        upd("10.42.0.0/16", "192.0.2.42", [(CONFED_SET, [64515, 64514]), (SEQ, [65420])]),
        upd("10.43.0.0/16", "192.0.2.43", [(SEQ, [65430]), (CONFED_SEQ, [64516])]),
        upd("10.44.0.0/16", "192.0.2.44", [(CONFED_SEQ, [64517]), (CONFED_SET, [64519, 64518]),
                                           (SEQ, [65440]), (SET, [65442, 65441])])],
    B: [upd("0.0.0.0/0", C),
        upd("10.10.0.0/16", C, seq(65200)),
        upd("10.20.0.0/16", "192.0.2.20", seq(65220, 65221)),
        upd("10.50.0.0/16", "192.0.2.51", seq(65501)),
        upd("10.50.1.0/24", C, seq(65502))],
    C: [upd("10.10.0.0/16", "192.0.2.30", seq(65300)),
        upd("10.30.0.0/16", "192.0.2.31", seq(65330)),
        upd("10.50.0.0/16", "192.0.2.52", seq(65503))],
}

# (src, dst, next hop, packets, bytes), all exported by A
FLOWS = [("10.10.1.1", "10.10.2.2"), ("10.20.1.1", "10.30.1.1"), ("10.11.1.1", "10.20.2.2"),
         ("10.99.0.1", "10.99.0.2"), ("10.40.0.1", "10.40.1.1"), ("10.41.0.1", "10.41.1.1"),
         ("10.42.0.1", "10.42.1.1"), ("10.43.0.1", "10.43.1.1"), ("10.44.0.1", "10.44.1.1"),
         ("10.30.7.7", "10.10.3.3"), ("10.30.7.7", "10.12.1.1"), ("10.9.9.9", "10.50.1.1")]
# 1.7.7 (and master) spoil the record after one whose default-route follow ran out
# (docs/differences.md): each compared flow comes after a sacrificial one
SPARE = ("10.41.0.1", "10.41.9.9")
DATAGRAM = [(x, "0.0.0.0", 1, 100) for f in FLOWS for x in (f, SPARE)]
DATAGRAM = [(f[0], f[1], nh, p, b) for f, nh, p, b in DATAGRAM]

AGG = ("src_host, dst_host, src_as, dst_as, peer_src_as, peer_dst_as, peer_dst_ip, as_path, "
       "src_as_path, src_net, dst_net, src_mask, dst_mask")

CONFIGS = {
    "default1": "bgp_follow_default: 1\n",
    "default2_subas": "bgp_follow_default: 2\nbgp_peer_as_skip_subas: true\n",
    "nexthop": "bgp_follow_nexthop: 127.0.0.0/24\n",
    "nexthop_external_subas": ("bgp_follow_nexthop: 127.0.0.0/24\nbgp_follow_nexthop_external: true\n"
                               "bgp_peer_as_skip_subas: true\n"),
}


def body(d, extra):
    return f"""nfacctd_as: bgp
nfacctd_net: bgp
bgp_peer_src_as_type: bgp
bgp_src_as_path_type: bgp
plugin_buffer_size: 12000
plugins: print[c]
aggregate[c]: {AGG}
print_output[c]: json
print_output_file[c]: {d}/out.json
print_refresh_time[c]: 3600
{extra}"""


def run(binary, d, extra):
    c = Collector(binary, d, body(d, extra))
    try:
        for addr in (A, B, C):
            c.speak(addr, ROUTES[addr], ASN, rid=addr)
        c.send_v5(A, DATAGRAM, times=20)
    finally:
        rc = c.stop()
    out = d / "out.json"
    assert out.exists(), f"{binary} (rc {rc}) wrote nothing:\n{c.log()[-2000:]}"
    rows = [json.loads(x) for x in out.read_text().splitlines() if x.strip()]
    keys = [(r["ip_src"], r["ip_dst"]) for r in rows if (r["ip_src"], r["ip_dst"]) != SPARE]
    assert len(keys) == len(set(keys)), f"{binary}: a flow with two outcomes: {rows}"
    return {(r["ip_src"], r["ip_dst"]): r for r in rows if (r["ip_src"], r["ip_dst"]) != SPARE}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    bins = dict(binaries())
    bins["master"] = MASTER
    for who, b in bins.items():
        if not b.exists():
            skip_or_fail(f"{who} nfacctd missing at {b}", module=True)

    def one(who, b, base, extra):
        """Ours once; 1.7.7 and master again (conftest.retry_reference) while a flow has no row."""
        def attempt(i):
            return run(b, base / f"try{i}", extra)
        if who == "ours":
            return attempt(0)
        return retry_reference(attempt, lambda rows: set(rows) == set(FLOWS), what=f"{who} {base.name}")
    res = {}
    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        for name, extra in CONFIGS.items():
            futs = {who: ex.submit(one, who, b, tmp_path_factory.mktemp(f"{name}-{who}"), extra)
                    for who, b in bins.items()}
            res[name] = {who: f.result() for who, f in futs.items()}
    return res


# Where pmacct (1.7.7 and master alike) is wrong and ours is kept (docs/differences.md):
# (flow) -> {field: (pmacct's value, ours)}.  Every other field of every flow is compared.
SUBAS = {   # bgp_peer_as_skip_subas: pmacct's path-text parser
    ("10.40.0.1", "10.40.1.1"): {"peer_as_dst": (64513, 65400), "peer_as_src": (64513, 65400)},
    ("10.42.0.1", "10.42.1.1"): {"peer_as_dst": (0, 65420), "peer_as_src": (0, 65420)},
    ("10.44.0.1", "10.44.1.1"): {"peer_as_dst": (64517, 65440), "peer_as_src": (64517, 65440)},
}
WRONG_HOP = {   # follow_default: pmacct follows the destination route's next hop (C), not the default's (B)
    ("10.30.7.7", "10.12.1.1"): {"as_src": (65330, 0), "peer_as_src": (65330, 0),
                                 "as_path_src": ("65330", ""), "net_src": ("10.30.0.0", "0.0.0.0"),
                                 "mask_src": (16, 0)},
}
SECOND_HOP = {  # follow_default 2: pmacct never resolves at the second peer followed (C)
    ("10.20.1.1", "10.30.1.1"): {"as_path": ("", "65330"), "as_dst": (0, 65330), "peer_as_dst": (0, 65330),
                                 "net_dst": ("0.0.0.0", "10.30.0.0"), "mask_dst": (0, 16),
                                 "peer_ip_dst": ("", "192.0.2.31")},
    ("10.30.7.7", "10.10.3.3"): {"as_src": (0, 65330), "peer_as_src": (0, 65330),
                                 "as_path_src": ("", "65330"), "net_src": ("0.0.0.0", "10.30.0.0"),
                                 "mask_src": (0, 16)},
}
KNOWN = {"default1": WRONG_HOP, "default2_subas": {**SECOND_HOP, **SUBAS}, "nexthop": {},
         "nexthop_external_subas": SUBAS}


def compare(ours, theirs, known, fields):
    """Lines naming every field where ours differs from theirs outside `known`, and every
    known field where either side is not the value noted."""
    bad = []
    assert set(ours) == set(theirs), (sorted(ours), sorted(theirs))
    for flow in sorted(theirs):
        for f in fields:
            want_them, want_ours = known.get(flow, {}).get(f, (theirs[flow][f],) * 2)
            if (theirs[flow][f], ours[flow][f]) != (want_them, want_ours):
                bad.append(f"{flow} {f}: ours {ours[flow][f]!r} (want {want_ours!r}), "
                           f"pmacct {theirs[flow][f]!r} (want {want_them!r})")
    return bad


@pytest.mark.parametrize("name", CONFIGS)
def test_rows_as_1_7_7(results, name):
    """Every column but peer_dst_ip: ours as 1.7.7's (and master's, the same), but where
    pmacct is wrong (KNOWN)."""
    r = results[name]
    assert set(r["ref"]) == set(FLOWS)
    fields = [f for f in r["ref"][FLOWS[0]] if f not in ("packets", "bytes", "peer_ip_dst")]
    assert not compare(r["master"], r["ref"], {}, fields), "master and 1.7.7 disagree"
    bad = compare(r["ours"], r["ref"], KNOWN[name], fields)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", CONFIGS)
def test_peer_dst_ip_as_master(results, name):
    r = results[name]
    assert {k: v["peer_ip_dst"] for k, v in r["ref"].items()} == {k: "" for k in r["ref"]}, \
        "1.7.7 prints no IPv4 peer_dst_ip"
    bad = compare(r["ours"], r["master"], KNOWN[name], ["peer_ip_dst"])
    assert not bad, "\n".join(bad)


# ---------------------------------------------------------------------------
# IPv6: 1.7.7 prints peer_dst_ip for IPv6 destinations, so its bgp_follow_nexthop is
# compared directly.  The speakers need addresses of their own: a network namespace
# (created and deleted here, root only) whose loopback holds them.

RUN6 = Path(__file__).resolve().parent / "bgp_follow6_run.py"
NS6_ADDRS = ("2001:db8::a", "2001:db9::b", "2001:dba::c")
NH6 = "bgp_follow_nexthop: 2001:db8::a/128, 2001:db9::b/128, 2001:dba::c/128\n"
CONFIGS6 = {"nexthop6": NH6, "nexthop6_external": NH6 + "bgp_follow_nexthop_external: true\n"}


@pytest.fixture(scope="module")
def netns6():
    if os.geteuid() != 0 or subprocess.run(["ip", "netns", "list"], capture_output=True).returncode:
        pytest.skip("needs root and `ip netns` for the IPv6 speakers' addresses")
    ns = f"pmng-bgpf-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        for a in NS6_ADDRS:
            subprocess.run(["ip", "-n", ns, "addr", "add", f"{a}/128", "dev", "lo", "nodad"], check=True)
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


@pytest.fixture(scope="module")
def results6(netns6, tmp_path_factory):
    def one(binary, d, port, extra):
        r = subprocess.run(["ip", "netns", "exec", netns6, sys.executable, str(RUN6), str(binary), str(d),
                            str(port), str(port + 1), extra], capture_output=True, text=True, timeout=90)
        assert r.returncode == 0, r.stderr[-2000:]
        return {(o["ip_src"], o["ip_dst"]): o for o in map(json.loads, r.stdout.splitlines())}

    def job(who, b, base, port, extra):
        """Ours once; 1.7.7 again (conftest.retry_reference, other ports) while it misses a row
        or a peer_dst_ip."""
        def attempt(i):
            d = base / f"try{i}"
            d.mkdir()
            return one(b, d, port + 1000 * i, extra)
        if who == "ours":
            return attempt(0)
        return retry_reference(attempt, lambda rows: len(rows) == 3 and all(
            r["peer_ip_dst"] for r in rows.values()), what=f"1.7.7 {base.name}")
    jobs, port = {}, 20000
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        for name, extra in CONFIGS6.items():
            for who, b in binaries():
                if not b.exists():
                    skip_or_fail(f"{who} nfacctd missing at {b}", module=True)
                jobs[(name, who)] = ex.submit(job, who, b, tmp_path_factory.mktemp(f"{name}-{who}"),
                                              port, extra)
                port += 2
        return {k: f.result() for k, f in jobs.items()}


@pytest.mark.parametrize("name", CONFIGS6)
def test_follow_nexthop_ipv6_as_1_7_7(results6, name):
    """peer_dst_ip and every other field as 1.7.7: the route's prefix is followed (B's /64 for
    the record's address is not taken), a default route leads to the next peer's default."""
    ref, ours = results6[(name, "ref")], results6[(name, "ours")]
    assert len(ref) == 3 and all(r["peer_ip_dst"] for r in ref.values()), ref
    strip = lambda rows: {k: {f: v for f, v in r.items() if f not in ("packets", "bytes")}
                          for k, r in rows.items()}
    assert strip(ours) == strip(ref)
