# SPDX-License-Identifier: BSD-3-Clause
"""build/pktblast (tests/tools/pktblast.c), the sender of bench/live.sh: in a
network namespace made for the test (both ends of a veth pair in it, IPv6
off, no addresses: nothing but what pktblast sends crosses the link), the
veth's own kernel counters and tcpdump on the receiving end are the truth:
a paced count arrives whole, and the frames are the capture's (as captured
with -T; padded with zeros to their original length by default).  It must
refuse an interface that is not a veth.  Skipped when not root."""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import PCAPGEN, REPO, needs, wait_for

PKTBLAST = Path(os.environ.get("PKTBLAST", REPO / "build" / "pktblast"))

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (a network namespace and a veth pair)"),
    pytest.mark.skipif(not os.access(PKTBLAST, os.X_OK), reason=f"no pktblast at {PKTBLAST}"),
    needs(shutil.which("ip") is not None, "iproute2 missing"),
]


@pytest.fixture
def ns():
    name = "pmpkb" + uuid.uuid4().hex[:6]
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        def sh(*cmd, **kw):
            return subprocess.run(["ip", "netns", "exec", name, *cmd], check=True,
                                  capture_output=True, text=True, **kw)
        for k in ("all", "default"):
            sh("sysctl", "-q", "-w", f"net.ipv6.conf.{k}.disable_ipv6=1")
        sh("ip", "link", "add", "vtx", "type", "veth", "peer", "name", "vrx")
        sh("ip", "link", "set", "vtx", "up")
        sh("ip", "link", "set", "vrx", "up")
        yield name, sh
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    d = tmp_path_factory.mktemp("pkb")
    pcap = d / "mix.pcap"
    subprocess.run([str(PCAPGEN), "-n", "400", "-f", "60", "-s", "3", "-o", str(pcap)],
                   check=True, capture_output=True)
    return pcap


def counter(sh, ifn, which):
    return int(sh("cat", f"/sys/class/net/{ifn}/statistics/{which}").stdout)


def read_pcap(path):
    """[(caplen bytes, original length)] of a little- or big-endian microsecond pcap file."""
    import struct
    data = Path(path).read_bytes()
    magic = data[:4]
    e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out, off = [], 24
    while off + 16 <= len(data):
        _s, _u, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        out.append((data[off + 16:off + 16 + incl], orig))
        off += 16 + incl
    return out


def test_paced_count_arrives_whole(ns, capture):
    name, sh = ns
    tx0, rx0 = counter(sh, "vtx", "tx_packets"), counter(sh, "vrx", "rx_packets")
    out = sh(str(PKTBLAST), "-i", "vtx", "-r", "5000", "-n", "1000", "-t", "2", str(capture)).stdout
    rep = json.loads(out)
    assert rep["packets"] == 1000 and rep["errors"] == 0 and rep["target_pps"] == 5000
    assert counter(sh, "vtx", "tx_packets") - tx0 == 1000
    assert counter(sh, "vrx", "rx_packets") - rx0 == 1000


@pytest.mark.parametrize("mode", ["ring", "mmsg"])
@pytest.mark.parametrize("truncated", [True, False])
def test_frames_are_the_capture(ns, capture, tmp_path, mode, truncated):
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump missing")
    name, sh = ns
    frames = read_pcap(capture)
    got = tmp_path / "got.pcap"
    err = tmp_path / "tcpdump.err"
    td = subprocess.Popen(["ip", "netns", "exec", name, "tcpdump", "-i", "vrx", "-n", "-s", "0",
                           "-U", "-c", str(len(frames)), "-w", str(got)],
                          stdout=subprocess.DEVNULL, stderr=open(err, "w"))
    try:
        assert wait_for(lambda: "listening on" in err.read_text(), 10)
        cmd = [str(PKTBLAST), "-i", "vtx", "-m", mode, "-r", "20000"]
        if truncated:
            cmd.append("-T")
        rep = json.loads(sh(*cmd, str(capture)).stdout)
        assert rep["packets"] == len(frames)
        td.wait(timeout=20)
    finally:
        if td.poll() is None:
            td.kill()
            td.wait()
    mtu_frame = 1500 + 14
    want = []
    for b, orig in frames:
        most = mtu_frame + (4 if b[12:14] == b"\x81\x00" else 0)
        if truncated:
            want.append(b[:most])
        else:
            n = min(orig, most)
            want.append(b[:n] + bytes(n - min(len(b), n)))
    assert sorted(want) == sorted(b for b, _ in read_pcap(got))


def test_refuses_what_is_not_a_veth(ns, capture):
    name, sh = ns
    for ifn in ("lo", "nosuchif0"):
        r = subprocess.run(["ip", "netns", "exec", name, str(PKTBLAST), "-i", ifn, str(capture)],
                           capture_output=True, text=True)
        assert r.returncode == 2 and "pktblast" in r.stderr
    r = subprocess.run([str(PKTBLAST), str(capture)], capture_output=True, text=True)
    assert r.returncode == 2	# no -i: no default interface
