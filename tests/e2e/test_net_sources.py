# SPDX-License-Identifier: BSD-3-Clause
"""Where nets, masks and ASNs come from in nfacctd and sfacctd:
nfacctd_net / sfacctd_net (unset, netflow|sflow, file, mask, longest,
fallback, bgp, bmp, igp) x nfacctd_as / sfacctd_as x networks_file present
or not x networks_mask set or not x records with or without masks.

Crafted input: IPFIX and NetFlow v9 datagrams (router_exports builders)
with IPv4 and IPv6 templates with masks (IEs 9/13, 29/30) and without, and
sFlow v5 flow samples with and without extended router data (masks) and
extended gateway data (ASNs).  Every configuration runs in our daemon and
in Debian's 1.7.7; JSON rows must be equal (timestamp_arrival and
event_type left out).  IPv6 rows of a plugin with a networks_file are
compared with master instead: 1.7.7's IPv6 networks_file lookups are wrong
(docs/differences.md).  Configurations 1.7.7 refuses must be refused by
ours with the same error line.

Environment: NFACCTD, SFACCTD (default build/), REF_NFACCTD, REF_SFACCTD
(/usr/sbin), MASTER_DIR (/work/shared/reference/pmacct-master).
"""

import concurrent.futures
import json
import os
import re
import socket
import struct
import subprocess
from pathlib import Path

import pytest

import router_exports as rx
from conftest import retry_reference
from test_sfacctd import datagram, ext_gateway, ext_router, flow_sample, raw_header
from test_sfacctd import frame as frame4
from test_sfacctd import write_pcap as sf_write_pcap

REPO = Path(__file__).resolve().parents[2]
MASTER = Path(os.environ.get("MASTER_DIR", "/work/shared/reference/pmacct-master"))
BINS = {
    "nfacctd": {"ours": Path(os.environ.get("NFACCTD", REPO / "build" / "nfacctd")),
                "177": Path(os.environ.get("REF_NFACCTD", "/usr/sbin/nfacctd")),
                "master": MASTER / "nfacctd"},
    "sfacctd": {"ours": Path(os.environ.get("SFACCTD", REPO / "build" / "sfacctd")),
                "177": Path(os.environ.get("REF_SFACCTD", "/usr/sbin/sfacctd")),
                "master": MASTER / "sfacctd"},
}
ENV = dict(os.environ, TZ="UTC", LC_ALL="C")

pytestmark = pytest.mark.skipif(
    not all(os.access(b, os.X_OK) for d in BINS.values() for b in d.values()),
    reason="needs our nfacctd/sfacctd, Debian's 1.7.7 and master's")

# ---- input -------------------------------------------------------------------

# (src, dst, src mask, dst mask, src AS, dst AS): every case of record mask
# against file prefix (longer, shorter, equal, no match, mask 0)
V4_MASKS = [("10.1.2.3", "192.168.7.9", 16, 24, 100, 200),
            ("10.5.0.1", "172.16.5.9", 8, 24, 101, 201),
            ("203.0.113.5", "10.1.2.200", 20, 0, 102, 202),
            ("198.51.100.1", "8.8.8.8", 0, 0, 103, 203),
            ("172.16.9.9", "10.200.1.1", 30, 12, 104, 204)]
V4_NO_MASKS = [("10.1.2.77", "192.168.1.1", 0, 0, 110, 210),
               ("198.51.100.99", "10.9.9.9", 0, 0, 111, 211)]
V6_MASKS = [("2001:db8:1::5", "2001:db8:2::9", 64, 0, 120, 220),
            ("2001:db9::1", "2001:db8::1", 0, 48, 121, 221),
            ("2001:db8:1::6", "2001:db8:1::7", 40, 56, 122, 222)]
V6_NO_MASKS = [("2001:db8:1::77", "2001:dba::1", 0, 0, 130, 230)]
GROUPS = [(V4_MASKS, True), (V4_NO_MASKS, False), (V6_MASKS, True), (V6_NO_MASKS, False)]

NETWORKS = """65001,10.0.0.0/8
65002,10.1.2.0/24
65003,192.168.0.0/16
65004,172.16.5.0/24
65010,2001:db8::/32
65011,2001:db8:1::/48
"""

T4_MASKS = [(8, 4), (12, 4), (9, 1), (13, 1), (16, 4), (17, 4), (4, 1), (7, 2), (11, 2),
            (1, 8), (2, 8)]
T4 = [(8, 4), (12, 4), (16, 4), (17, 4), (4, 1), (7, 2), (11, 2), (1, 8), (2, 8)]
T6_MASKS = [(27, 16), (28, 16), (29, 1), (30, 1), (16, 4), (17, 4), (4, 1), (7, 2), (11, 2),
            (1, 8), (2, 8)]
T6 = [(27, 16), (28, 16), (16, 4), (17, 4), (4, 1), (7, 2), (11, 2), (1, 8), (2, 8)]
TEMPLATES = [(256, T4_MASKS), (257, T4), (258, T6_MASKS), (259, T6)]


def nf_values(flow, i, v6):
    s, d, sm, dm, sa, da = flow
    return {27 if v6 else 8: s, 28 if v6 else 12: d, 29 if v6 else 9: sm,
            30 if v6 else 13: dm, 16: sa, 17: da, 4: 6, 7: 1000 + i, 11: 80,
            1: 100 * (i + 1), 2: i + 1}


def nf_datagrams():
    """One IPFIX and one NetFlow v9 export of every flow (two exporters)."""
    out = []
    for v9 in (False, True):
        sets = [rx.set_(0 if v9 else 2, b"".join(rx.ipfix_tpl(t, f) for t, f in TEMPLATES))]
        for (tid, fields), (flows, _) in zip(TEMPLATES, GROUPS):
            v6 = ":" in flows[0][0]
            sets.append(rx.set_(tid, b"".join(rx.record(fields, nf_values(f, i, v6))
                                              for i, f in enumerate(flows))))
        out.append(("10.255.0.9", rx.v9(sets, 1, 7, 3600000)) if v9
                   else ("10.255.0.8", rx.ipfix(sets, 1, 5)))
    return out


def frame6(src, dst, sport, dport, payload=50):
    l4 = struct.pack(">HHIIBBHHH", sport, dport, 1, 0, 0x50, 0x18, 1000, 0, 0)
    ip = struct.pack(">IHBB16s16s", 0x60000000, len(l4) + payload, 6, 64,
                     socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst))
    return bytes.fromhex("66778899aabb001122334455") + b"\x86\xdd" + ip + l4 + b"\0" * payload


def sf_datagrams():
    """One flow sample per flow: raw header, extended router data (the masks)
    for the groups with masks, extended gateway data (the ASNs) for all."""
    samples = []
    for flows, masks in GROUPS:
        for i, (s, d, sm, dm, sa, da) in enumerate(flows):
            v6 = ":" in s
            recs = [raw_header(frame6(s, d, 1000 + i, 80) if v6
                               else frame4(s, d, 6, 1000 + i, 80, 60))]
            if masks:
                recs.append(ext_router("2001:db8::fe" if v6 else "10.255.255.1", sm, dm))
            recs.append(ext_gateway("10.255.255.2", sa, 0, [da]))
            samples.append(flow_sample(len(samples) + 1, 3, 1, 10 * (len(samples) + 1), 1, 2,
                                       recs))
    return [datagram("192.0.2.1", 1, samples)]


# ---- configurations ----------------------------------------------------------

# Plugins of one run: networks_file and networks_mask present or not, each
# with three aggregates: everything; dst side only for nets (src_mask alone);
# src side only with dst_as (no dst_mask: networks_mask then never beats the
# file for _as longest).  No net without its mask under networks_mask: 1.7.7
# prints 0.0.0.0 there (a documented difference).
AGGS = {"all": "src_host,dst_host,src_net,dst_net,src_mask,dst_mask,src_as,dst_as",
        "dst": "src_mask,dst_net,dst_mask,src_as,dst_as",
        "src": "src_net,src_mask,dst_as"}
COMBOS = {"none": (False, False), "mask": (False, True), "file": (True, False),
          "both": (True, True)}
NETS = [None, "REC", "file", "mask", "longest", "fallback", "OTHER", "NetFlow"]
ASES = [None, "REC", "file", "true", "false", "longest", "fallback"]


def word(value, daemon):
    """REC: the daemon's own word; OTHER: the other collector's, which pmacct takes too."""
    rec, other = ("netflow", "sflow") if daemon == "nfacctd" else ("sflow", "netflow")
    return {"REC": rec, "OTHER": other}.get(value, value)


def combos_for(net, asv):
    """The plugin set a (net, as) pair runs with: only those 1.7.7 starts with."""
    out = []
    for name, (f, m) in COMBOS.items():
        if (net == "file" or asv in ("file", "true")) and not f:
            continue
        if net == "mask" and not m:
            continue
        out.append(name)
    return out


CASES = [(d, n, a) for d in ("nfacctd", "sfacctd") for n in NETS for a in ASES
         if n in (None, "REC", "file", "mask", "longest") or a in (None, "longest")]

# pmacct refuses these (no source for the primitives): (net, as, combo)
REFUSED = [("file", None, "mask"), ("mask", None, "file"), ("bgp", None, "both"),
           ("bmp", None, "both"), ("igp", None, "both"), (None, "file", "mask"),
           (None, "true", "none"), (None, "bgp", "both"), ("longest", "bmp", "file")]


def write_conf(d, daemon, which, net, asv, combos, pcap, nets):
    prefix = daemon
    lines = [f"pcap_savefile: {pcap}", "print_output: json", "print_refresh_time: 3600",
             "print_cache_entries: 1024",
             "plugins: " + ", ".join(f"print[{c}_{a}]" for c in combos for a in AGGS)]
    if net:
        lines.append(f"{prefix}_net: {word(net, daemon)}")
    if asv:
        lines.append(f"{prefix}_as: {word(asv, daemon)}")
    for c in combos:
        f, m = COMBOS[c]
        for a, agg in AGGS.items():
            p = f"{c}_{a}"
            lines += [f"aggregate[{p}]: {agg}", f"print_output_file[{p}]: {d}/{p}.json"]
            if f:
                lines.append(f"networks_file[{p}]: {nets}")
            if m:
                lines.append(f"networks_mask[{p}]: 20")
    (d / "c.conf").write_text("\n".join(lines) + "\n")
    return d / "c.conf"


def read_rows(path):
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            j = json.loads(line)
            j.pop("event_type", None)
            j.pop("timestamp_arrival", None)
            out.append(json.dumps(j, sort_keys=True))
    return sorted(out)


def run(work, daemon, which, net, asv, combos):
    tag = f"{daemon}-{which}-{net}-{asv}-{'+'.join(combos)}"
    d = work / tag
    d.mkdir(parents=True, exist_ok=True)
    pcap = work / ("nf.pcap" if daemon == "nfacctd" else "sf.pcap")
    conf = write_conf(d, daemon, which, net, asv, combos, pcap, work / "networks.txt")
    outs = [d / f"{c}_{a}.json" for c in combos for a in AGGS]

    def once(_):
        for o in outs:
            o.unlink(missing_ok=True)
        r = subprocess.run([str(BINS[daemon][which]), "-f", str(conf)], env=ENV,
                           capture_output=True, text=True, timeout=120)
        return {o.stem: read_rows(o) for o in outs}, r.returncode, r.stdout + r.stderr
    if which == "ours":
        return once(0)
    # 1.7.7 (and master) now and then lose a -I capture's traffic: run again while a plugin
    # printed nothing (conftest.retry_reference)
    return retry_reference(once, lambda res: res[1] != 0 or all(res[0].values()), attempts=5,
                           what=tag)


def errors(log):
    return [re.sub(r"^.*?\): ", "", line) for line in log.splitlines() if "ERROR" in line]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    work = tmp_path_factory.mktemp("netsrc")
    (work / "networks.txt").write_text(NETWORKS)
    rx.write_pcap(work / "nf.pcap", nf_datagrams())
    sf_write_pcap(work / "sf.pcap", sf_datagrams())
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(24) as ex:
        for daemon, net, asv in CASES:
            for which in ("ours", "177", "master"):
                jobs[(daemon, net, asv, which)] = ex.submit(
                    run, work, daemon, which, net, asv, combos_for(net, asv))
        for daemon in ("nfacctd", "sfacctd"):
            for net, asv, combo in REFUSED:
                for which in ("ours", "177"):
                    jobs[(daemon, net, asv, combo, which)] = ex.submit(
                        run, work, daemon, which, net, asv, [combo])
        return {k: j.result() for k, j in jobs.items()}


def is_v6(row):
    j = json.loads(row)
    return ":" in (j.get("net_src") or j.get("net_dst") or "")


@pytest.mark.parametrize("daemon,net,asv", CASES,
                         ids=[f"{d}-net_{n or 'unset'}-as_{a or 'unset'}" for d, n, a in CASES])
def test_rows_equal_reference(results, daemon, net, asv):
    ours, rc, log = results[(daemon, net, asv, "ours")]
    ref, rrc, rlog = results[(daemon, net, asv, "177")]
    mst, mrc, _ = results[(daemon, net, asv, "master")]
    assert rrc == 0 and mrc == 0, rlog[-2000:]
    assert rc == 0, log[-2000:]
    for plugin, rows in ours.items():
        assert ref[plugin], f"{plugin}: the reference printed nothing"
        with_file = COMBOS[plugin.split("_")[0]][0]
        want = [r for r in ref[plugin] if not is_v6(r)]
        want += [r for r in (mst if with_file else ref)[plugin] if is_v6(r)]
        assert rows == sorted(want), plugin


@pytest.mark.parametrize("daemon", ["nfacctd", "sfacctd"])
@pytest.mark.parametrize("net,asv,combo", REFUSED,
                         ids=[f"net_{n}-as_{a}-{c}" for n, a, c in REFUSED])
def test_refused_as_reference(results, daemon, net, asv, combo):
    ours, rc, log = results[(daemon, net, asv, combo, "ours")]
    ref, rrc, rlog = results[(daemon, net, asv, combo, "177")]
    assert rrc != 0, rlog[-2000:]
    assert rc != 0, log[-2000:]
    assert errors(rlog)[:1] == errors(log)[:1]


def test_net_of_a_record_without_mask(results):
    """The issue's case, checked from the crafted fields: a record without
    masks and no *_net key prints 0.0.0.0/0 (:: for IPv6) even with a
    networks_file, and its own ASNs."""
    for daemon in ("nfacctd", "sfacctd"):
        rows = [json.loads(r) for r in results[(daemon, None, None, "ours")][0]["both_all"]]
        for s, d, _, _, sa, da in V4_NO_MASKS + V6_NO_MASKS:
            row = next(r for r in rows if r["ip_src"] == s and r["ip_dst"] == d)
            zero = "::" if ":" in s else "0.0.0.0"
            assert (row["net_src"], row["net_dst"], row["mask_src"], row["mask_dst"]) == \
                (zero, zero, 0, 0), daemon
            assert (row["as_src"], row["as_dst"]) == (sa, da), daemon
        for s, d, sm, dm, _, _ in V4_MASKS[:1]:
            row = next(r for r in rows if r["ip_src"] == s and r["ip_dst"] == d)
            assert (row["mask_src"], row["mask_dst"]) == (sm, dm), daemon


def test_unknown_value_warned_and_ignored(tmp_path, results):
    """An unknown value is warned about and the default used, as pmacct."""
    for daemon in ("nfacctd", "sfacctd"):
        work = tmp_path / daemon
        work.mkdir()
        (work / "networks.txt").write_text(NETWORKS)
        if daemon == "nfacctd":
            rx.write_pcap(work / "nf.pcap", nf_datagrams())
        else:
            sf_write_pcap(work / "sf.pcap", sf_datagrams())
        rows, rc, log = run(work, daemon, "ours", "bogus", None, ["both"])
        assert rc == 0, log[-2000:]
        assert "Invalid network aggregation value 'bogus'" in log
        default = results[(daemon, None, None, "ours")][0]
        assert rows == {k: v for k, v in default.items() if k.startswith("both_")}
