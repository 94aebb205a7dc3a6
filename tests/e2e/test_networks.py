# SPDX-License-Identifier: BSD-3-Clause
"""networks_file, networks_mask, networks_file_filter and pmacctd_as/_net:
our pmacctd against the reference pmacctd 1.7.7 on crafted captures, with
several print plugins each with its own networks_file.

Where 1.7.7 is wrong (docs/differences.md: IPv6 entries, duplicate
prefixes, networks_mask without the mask primitive, sum_net) our output is
checked against a longest-prefix match computed here with `ipaddress`.
"""

import collections
import ipaddress
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (DAEMON_ENV, PMACCTD, assert_clean_exit, csv_dicts,
                      needs_ours, needs_ref, run_pmacctd, run_reference,
                      write_pcap)

T0 = 1700000000

V4 = ["10.0.0.1", "10.0.1.5", "10.1.2.3", "192.168.1.1", "172.16.5.5",
      "1.2.3.4", "8.8.8.8", "8.8.4.4", "10.10.10.10", "100.64.1.1",
      "10.0.0.200", "203.0.113.9", "0.0.0.0"]
V6 = ["2001:db8::1", "2001:db8:1::5", "2001:db8:ffff::1", "fe80::1",
      "2a00::1", "::1", "2001:db8:0:1::10"]

# Map A: comments, blanks inside lines, nesting, every field layout, one
# bad line (line 9).  No duplicate prefix: 1.7.7 corrupts its table then.
MAP_A = """! customers
# a hash line is a comment too

10.0.0.0/8
65010,10.0.0.0/16
65011,10.0.0.0/24
65012 , 10.0.0.128 / 25
100_200,8.8.8.0/24
10.1.0.0/abc
192.0.2.1,300,8.8.4.0/24
lbl,192.0.2.1,400,100.64.0.0/10
65020,172.16.0.0/12
"""
MAP_B = """64500,0.0.0.0/0
64501,8.0.0.0/7
64502,203.0.113.0/24
64503,10.1.0.0/16
"""
MAP_V6 = """65030,2001:db8::/32
65031,2001:db8:ffff::/48
2001:db8:0:1::/64
65032,::/0
65033,10.0.0.0/8
"""


def parse_map(text):
    """[(network, asn)] as pmacct reads the lines (blanks removed, comma
    fields: [label,][nexthop,][[peer_]asn,]prefix)."""
    out = []
    for line in text.splitlines():
        s = "".join(line.split())
        if not s or s[0] in "!#":
            continue
        f = s.split(",")
        asn = f[-2].split("_")[-1] if len(f) >= 2 else "0"
        try:
            net = ipaddress.ip_network(f[-1], strict=False)
        except ValueError:
            continue
        out.append((net, int(asn) if asn.isdigit() else 0))
    return out


def lookup(entries, addr):
    a = ipaddress.ip_address(addr)
    best = None
    for net, asn in entries:
        if net.version == a.version and a in net and (best is None or net.prefixlen > best[0].prefixlen):
            best = (net, asn)
    return best


def packets(addrs, version):
    from scapy.all import IP, UDP, Ether, IPv6, Raw
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    pk = []
    for s, d in zip(addrs, addrs[1:] + addrs[:1]):
        ip = IP(src=s, dst=d) if version == 4 else IPv6(src=s, dst=d)
        pk.append(e / ip / UDP(sport=1000, dport=2000) / Raw(b"x" * 10))
    return pk


@pytest.fixture(scope="module")
def caps(tmp_path_factory):
    d = tmp_path_factory.mktemp("netcaps")
    v4, v6 = packets(V4, 4), packets(V6, 6)
    allp = v4 + v6
    for i, p in enumerate(allp):
        p.time = T0 + i
    maps = {}
    for name, text in (("a", MAP_A), ("b", MAP_B), ("v6", MAP_V6)):
        maps[name] = d / f"{name}.txt"
        maps[name].write_text(text)
    return {"v4": write_pcap(d / "v4.pcap", v4[:]), "all": write_pcap(d / "all.pcap", allp),
            "maps": maps, "dir": d}


def conf(pcap, plugins, extra=""):
    """plugins: {name: [config lines for that plugin, without [name]]}."""
    lines = [f"pcap_savefile: {pcap}", "print_output: csv", "print_refresh_time: 300",
             "plugins: " + ", ".join(f"print[{n}]" for n in plugins)]
    for n, keys in plugins.items():
        lines.append(f"print_output_file[{n}]: {{out}}/{n}.csv")
        lines += [k.replace(":", f"[{n}]:", 1) for k in keys]
    return "\n".join(lines) + "\n" + extra


def rows(run, name):
    return sorted(tuple(sorted(r.items())) for r in csv_dicts(run.text(f"{name}.csv")))


def summed(run, name, key):
    tot = collections.Counter()
    for r in csv_dicts(run.text(f"{name}.csv")):
        tot[r[key]] += int(r["PACKETS"])
    return dict(tot)


@needs_ours
@needs_ref
def test_against_reference(caps, tmp_path):
    """IPv4: every net/mask/AS primitive, sum_as, the filter, networks_mask
    with and without a file, one networks_file per plugin."""
    m = caps["maps"]
    plugins = {
        "all": ["aggregate: src_host,dst_host,src_net,dst_net,src_mask,dst_mask,src_as,dst_as",
                f"networks_file: {m['a']}"],
        "other": ["aggregate: src_net,dst_as,dst_mask", f"networks_file: {m['b']}"],
        "sumas": ["aggregate: sum_as", f"networks_file: {m['a']}"],
        "filter": ["aggregate: src_host,dst_host", f"networks_file: {m['a']}",
                   "networks_file_filter: true"],
        "mask": ["aggregate: src_net,dst_net,src_mask,dst_mask", "networks_mask: 20"],
        "both": ["aggregate: src_net,src_mask,src_as", f"networks_file: {m['b']}",
                 "networks_mask: 12"],
    }
    c = conf(caps["v4"], plugins, "pmacctd_as: file\n")
    ours = run_pmacctd(PMACCTD, tmp_path / "ours", conf=c)
    ref = run_reference(tmp_path / "ref", conf=c)
    assert_clean_exit(ours)
    assert_clean_exit(ref, "reference")
    for name in plugins:
        assert rows(ours, name) == rows(ref, name), name
    # the bad map line is reported with the file and its line, the rest loads
    assert f"[{m['a']}:9] Invalid network mask 'abc'." in ours.stderr


@needs_ours
def test_ipv6_and_sums(caps, tmp_path):
    """Where 1.7.7 is wrong: IPv6 entries, sum_net, networks_mask alone.
    Checked against the longest-prefix match computed here."""
    m = caps["maps"]
    plugins = {
        "v6": ["aggregate: src_host,src_net,src_mask,src_as", f"networks_file: {m['v6']}"],
        "sumnet": ["aggregate: sum_net", f"networks_file: {m['a']}"],
        "maskonly": ["aggregate: dst_net", "networks_mask: 16"],
    }
    run = run_pmacctd(PMACCTD, tmp_path, conf=conf(caps["all"], plugins, "pmacctd_as: file\n"))
    assert_clean_exit(run)
    ents = parse_map(MAP_V6)
    for r in csv_dicts(run.text("v6.csv")):
        hit = lookup(ents, r["SRC_IP"]) or (ipaddress.ip_network("0.0.0.0/0"), 0)
        assert r["SRC_NET"] == str(hit[0].network_address), r
        assert int(r["SRC_MASK"]) == hit[0].prefixlen and int(r["SRC_AS"]) == hit[1], r
    ents = parse_map(MAP_A)
    want = collections.Counter()
    for addrs, ver in ((V4, 4), (V6, 6)):
        for s, d in zip(addrs, addrs[1:] + addrs[:1]):
            for a in (s, d):
                hit = lookup(ents, a)
                want[str(hit[0].network_address) if hit else ("0.0.0.0" if ver == 4 else "::")] += 1
    assert summed(run, "sumnet", "SRC_NET") == dict(want)
    got = summed(run, "maskonly", "DST_NET")
    want = collections.Counter(str(ipaddress.ip_network(f"{a}/16", strict=False).network_address)
                               for a in V4 + V6)
    assert got == dict(want)


@needs_ours
@needs_ref
@pytest.mark.parametrize("keys,msg", [
    (["aggregate: src_as"], "AS aggregation selected but NO 'networks_file' or 'pmacctd_as' are specified. Exiting..."),
    (["aggregate: dst_mask"], "network aggregation selected but none of 'pmacctd_net', 'networks_file', 'networks_mask' is specified. Exiting ..."),
])
def test_missing_source(caps, tmp_path, keys, msg):
    c = conf(caps["v4"], {"p": keys})
    ours = run_pmacctd(PMACCTD, tmp_path / "ours", conf=c)
    ref = run_pmacctd(Path("/usr/sbin/pmacctd"), tmp_path / "ref", conf=c)
    assert ours.rc != 0 and ref.rc != 0
    assert f"ERROR ( p/print ): {msg}" in ref.stderr
    assert f"ERROR ( p/print ): {msg}" in ours.stderr


@needs_ours
def test_sigusr2_reload(caps, tmp_path):
    """The capture is read twice with a pause between; the map is rewritten
    and SIGUSR2 sent in the pause: the second pass uses the new map.  A
    one-record plugin buffer hands the first pass over before the pause."""
    nets = tmp_path / "nets.txt"
    nets.write_text("64999,10.0.0.0/8\n")
    out = tmp_path / "out"
    out.mkdir()
    cfile = tmp_path / "p.conf"
    cfile.write_text(conf(caps["v4"], {"p": ["aggregate: src_as", f"networks_file: {nets}"]},
                          "pmacctd_as: file\npcap_savefile_replay: 2\npcap_savefile_delay: 3\n"
                          "plugin_buffer_size: 1\nprint_refresh_time[p]: 3600\n")
                     .replace("{out}", str(out)))
    p = subprocess.Popen([str(PMACCTD), "-f", str(cfile)], env=DAEMON_ENV, cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4.5)         # start-up delay + first pass, inside the second delay
    nets.write_text("65000,10.0.0.0/8\n")
    p.send_signal(signal.SIGUSR2)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    got = {r["SRC_AS"]: int(r["PACKETS"]) for r in csv_dicts((out / "p.csv").read_text())}
    n10 = sum(1 for a in V4 if a.startswith("10."))
    assert got == {"64999": n10, "65000": n10, "0": 2 * (len(V4) - n10)}
