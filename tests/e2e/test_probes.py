# SPDX-License-Identifier: BSD-3-Clause
"""nfprobe, sfprobe and tee end to end, against third-party receivers.

nfprobe: our pmacctd reads a generated capture and exports NetFlow v5, v9 or
IPFIX to nfdump's nfcapd and to Debian's nfacctd 1.7.7; the flows they
store, summed per 5-tuple, equal the generator's own tallies.  tshark
dissects the datagrams without a malformed-packet or warning expert info and
its packet count equals the capture's.
sfprobe: sFlow v5 into Debian's sfacctd 1.7.7 (1-in-1: every packet is a
sample, so per-flow packets and frame bytes are exact), checked by tshark too.
A 1.7.7 collector gets our probe's export as caught once on a local socket and
sent to it again (so that a reference run that lost some can be retried
without running our probe again).
tee: our nfacctd replicates crafted NetFlow datagrams to pools of two
receivers (round robin, hash-agent, a tag-filtered pool, transparent mode);
each receiver gets exactly its share, byte-identical, nothing lost.

Environment: PMACCTD / PCAPGEN (conftest), NFACCTD (ours, default
<repo>/build/nfacctd), REF_NFACCTD, REF_SFACCTD (Debian's), NFCAPD, NFDUMP.
"""

import ipaddress
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from conftest import (DAEMON_ENV, PMACCTD, REPO, UdpSink, collector_print_conf, free_port, needs,
                      needs_tshark, retry_reference, spawn_daemon, tee_map_text)

NFACCTD = Path(os.environ.get("NFACCTD", REPO / "build" / "nfacctd"))
REF_NFACCTD = Path(os.environ.get("REF_NFACCTD", "/usr/sbin/nfacctd"))
REF_SFACCTD = Path(os.environ.get("REF_SFACCTD", "/usr/sbin/sfacctd"))
NFCAPD = os.environ.get("NFCAPD", shutil.which("nfcapd") or "/usr/bin/nfcapd")
NFDUMP = os.environ.get("NFDUMP", shutil.which("nfdump") or "/usr/bin/nfdump")

needs_nfdump = pytest.mark.skipif(not (os.access(NFCAPD, os.X_OK) and os.access(NFDUMP, os.X_OK)),
                                  reason="nfdump not installed (apt-get install nfdump)")
needs_ref_nf = needs(os.access(REF_NFACCTD, os.X_OK), f"reference nfacctd missing at {REF_NFACCTD}")
needs_ref_sf = needs(os.access(REF_SFACCTD, os.X_OK), f"reference sfacctd missing at {REF_SFACCTD}")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="raw sockets need root")

# the reference collectors' aggregation of a probe's flows
FLOW_AGG = "src_host,dst_host,src_port,dst_port,proto,sampling_rate"

PROTO_NAMES = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMP6": 58, "IPV6-ICMP": 58}


def norm_ip(s):
    return str(ipaddress.ip_address(s.strip()))


def tally_flows(tallies, v4_only=False):
    """The generator's per-5-tuple {(src, dst, sport, dport, proto): [packets, bytes]}."""
    res = {}
    for f in tallies["flows"]:
        if v4_only and ":" in f["src"]:
            continue
        k = (norm_ip(f["src"]), norm_ip(f["dst"]), f["sport"], f["dport"], f["proto"])
        r = res.setdefault(k, [0, 0])
        r[0] += f["packets"]
        r[1] += f["bytes"]
    return res


def wait_bound(port, timeout=10):
    """Until something listens on UDP 127.0.0.1:port (our own bind fails)."""
    end = time.time() + timeout
    while time.time() < end:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        finally:
            s.close()
        time.sleep(0.05)
    return False


def run_probe(tmp, conf):
    """Our pmacctd on a capture with config text conf; returns its log (asserting exit 0)."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "pmacctd.conf").write_text(conf)
    p = subprocess.run([str(PMACCTD), "-f", str(tmp / "pmacctd.conf")], env=DAEMON_ENV,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stderr


def probe_into_reference(tmp, ref_binary, daemon, aggregate, probe, extra="", good=None):
    """Our pmacctd runs once with the probe config text probe(port), its export caught by a
    UdpSink; the datagrams are then sent, in order, to the reference collector ref_binary
    (daemon: nfacctd or sfacctd) on a free port with a print plugin writing aggregate as CSV,
    which is stopped after them: its rows as dicts.  The reference (never our probe) runs again
    (conftest.retry_reference) while its rows are not good(rows)."""
    sink = UdpSink()
    try:
        run_probe(tmp, probe(sink.port))
    finally:
        datagrams = sink.datagrams()

    def once(attempt):
        d = tmp / f"ref{attempt}"
        d.mkdir()
        port = free_port()
        out = d / "ref.csv"
        conf = d / f"{daemon}.conf"
        conf.write_text(collector_print_conf(daemon, port, aggregate, "csv", out) + extra)
        ref = subprocess.Popen([str(ref_binary), "-f", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=DAEMON_ENV)
        try:
            assert wait_bound(port), f"reference {daemon} did not start"
            time.sleep(1.0)     # 1.7.7 binds before its plugins are ready
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for dg in datagrams:
                    s.sendto(dg, ("127.0.0.1", port))
                    time.sleep(0.0005)
            time.sleep(1.0)
        finally:
            ref.send_signal(signal.SIGINT)
            ref.wait(timeout=30)
        lines = out.read_text().splitlines() if out.exists() else []
        return [dict(zip(lines[0].split(","), ln.split(","))) for ln in lines[1:]]
    return retry_reference(once, good, what=f"reference {daemon}")


def flows_of_rows(rows):
    """The reference's CSV rows summed per 5-tuple:
    {(src, dst, sport, dport, proto): [packets, bytes]}."""
    got = {}
    for r in rows:
        k = (norm_ip(r["SRC_IP"]), norm_ip(r["DST_IP"]), int(r["SRC_PORT"]), int(r["DST_PORT"]),
             int(r["PROTOCOL"]))
        g = got.setdefault(k, [0, 0])
        g[0] += int(r["PACKETS"])
        g[1] += int(r["BYTES"])
    return got


def probe_conf(pcap, port, version, extra=""):
    return (f"pcap_savefile: {pcap}\nplugins: nfprobe[n]\nnfprobe_receiver[n]: 127.0.0.1:{port}\n"
            f"nfprobe_version[n]: {version}\n{extra}")


# ---------------------------------------------------------------------------
# nfprobe

@pytest.fixture(scope="module")
def capture(pcapgen):
    return pcapgen(20000, 500, seed=7)


@needs_nfdump
@pytest.mark.parametrize("version", [5, 9, 10])
def test_nfprobe_into_nfcapd(tmp_path, capture, version):
    pcap, tallies = capture
    port = free_port()
    store = tmp_path / "nfcapd"
    store.mkdir()
    nfcapd = subprocess.Popen([NFCAPD, "-l", str(store), "-p", str(port), "-b", "127.0.0.1",
                               "-B", "4000000"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        assert wait_bound(port), "nfcapd did not start"
        log = run_probe(tmp_path, probe_conf(pcap, port, version))
        time.sleep(0.5)
    finally:
        nfcapd.send_signal(signal.SIGTERM)
        nfcapd.wait(timeout=20)
    out = subprocess.run([NFDUMP, "-R", str(store), "-q", "-o", "csv", "-A",
                          "proto,srcip,dstip,srcport,dstport"], capture_output=True, text=True,
                         check=True).stdout
    got = {}
    for line in out.splitlines():
        c = line.split(",")
        if len(c) < 13 or not c[3]:
            continue
        proto = PROTO_NAMES.get(c[7].strip().upper(), None)
        proto = proto if proto is not None else int(c[7])
        k = (norm_ip(c[3]), norm_ip(c[4]), int(c[5]), int(c[6]), proto)
        r = got.setdefault(k, [0, 0])
        r[0] += int(c[11])
        r[1] += int(c[12])
    want = tally_flows(tallies, v4_only=version == 5)
    assert got == want, log
    if version == 5:
        assert "IPv6 flows are not exported" in log


@needs_ref_nf
@pytest.mark.parametrize("version", [5, 9, 10])
def test_nfprobe_into_reference_nfacctd(tmp_path, capture, version):
    pcap, tallies = capture
    want = tally_flows(tallies, v4_only=version == 5)
    rows = probe_into_reference(tmp_path, REF_NFACCTD, "nfacctd", FLOW_AGG,
                                lambda port: probe_conf(pcap, port, version),
                                "print_num_protos[p]: true\nnfacctd_pipe_size: 4000000\n",
                                good=lambda rows: flows_of_rows(rows) == want)
    for r in rows:
        assert r["SAMPLING_RATE"] in ("0", "1"), r
    assert flows_of_rows(rows) == want


@needs_ref_nf
@pytest.mark.parametrize("version", [5, 9, 10])
def test_nfprobe_sampling_rate_exported(tmp_path, capture, version):
    """sampling_rate 10: the reference collector reads 10 from the v5 header or the v9/IPFIX
    options record, and sees about a tenth of the packets."""
    pcap, tallies = capture
    total = tallies["packets"] if version != 5 else tally_v4_packets(tallies)

    def tenth(rows):
        """1-in-10 random sampling of ~15000-20000 packets: within 25% of a tenth."""
        return (len(rows) == 1 and rows[0]["SAMPLING_RATE"] == "10"
                and 0.075 * total < int(rows[0]["PACKETS"]) < 0.125 * total)
    rows = probe_into_reference(tmp_path, REF_NFACCTD, "nfacctd", "sampling_rate",
                                lambda port: probe_conf(pcap, port, version,
                                                        "sampling_rate[n]: 10\n"), good=tenth)
    assert [r["SAMPLING_RATE"] for r in rows] == ["10"], rows
    assert tenth(rows), (rows[0]["PACKETS"], total)


def tally_v4_packets(tallies):
    return sum(v[0] for v in tally_flows(tallies, v4_only=True).values())


def write_pcap(path, datagrams, dport):
    """Datagrams (payload, (src, sport)) as Ethernet/IPv4/UDP frames of a pcap file."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, (data, (src, sport)) in enumerate(datagrams):
            udp = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                             socket.inet_aton(src), socket.inet_aton("127.0.0.1"))
            frame = b"\x00" * 12 + b"\x08\x00" + ip + udp
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(frame), len(frame)) + frame)


def tshark_fields(pcap, decode_as, fields, filt=None, opts=()):
    cmd = ["tshark", "-r", str(pcap), "-d", decode_as, *opts, "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    if filt:
        cmd += ["-Y", filt]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


@needs_tshark
@pytest.mark.parametrize("version", [5, 9, 10])
def test_nfprobe_datagrams_well_formed(tmp_path, capture, version):
    pcap, tallies = capture
    sink = UdpSink()
    run_probe(tmp_path, probe_conf(pcap, sink.port, version))
    got = sink.close()
    assert got
    dump = tmp_path / "export.pcap"
    write_pcap(dump, got, 2055)
    da = "udp.port==2055,cflow"
    bad = tshark_fields(dump, da, ["frame.number"],
                        "_ws.malformed or _ws.expert.severity >= warning")
    assert bad.strip() == "", bad
    # tshark's own reading of the records: the capture's packet count
    pk = tshark_fields(dump, da, ["cflow.packets"])
    total = sum(int(x) for x in pk.replace("\t", ",").replace("\n", ",").split(",") if x)
    want = tally_v4_packets(tallies) if version == 5 else tallies["packets"]
    assert total == want
    # sequence numbers: v5 counts flows, v9 datagrams, IPFIX data records
    seqs = [struct.unpack("!I", d[16:20] if version == 5 else d[12:16] if version == 9
                          else d[8:12])[0] for d, _ in got]
    if version == 9:
        assert seqs == list(range(len(got)))
    elif version == 5:
        n = [int(x) for x in tshark_fields(dump, da, ["cflow.count"]).split()]
        assert seqs == [sum(n[:i]) for i in range(len(n))]
    else:
        # IPFIX: data records sent before; tshark's template-based record count per message
        n = [len(x.split(",")) if x else 0
             for x in tshark_fields(dump, da, ["cflow.srcport"]).split("\n")[:len(got)]]
        assert seqs == [sum(n[:i]) for i in range(len(n))]


# ---------------------------------------------------------------------------
# sfprobe

def frame_bytes_per_flow(pcap):
    """Per 5-tuple wire length of every frame (pcap orig_len), read with tshark."""
    out = subprocess.run(["tshark", "-r", str(pcap), "-T", "fields", "-E", "separator=,",
                          "-e", "frame.len", "-e", "ip.src", "-e", "ipv6.src", "-e", "ip.dst",
                          "-e", "ipv6.dst", "-e", "tcp.srcport", "-e", "udp.srcport",
                          "-e", "tcp.dstport", "-e", "udp.dstport", "-e", "ip.proto",
                          "-e", "ipv6.nxt"], capture_output=True, text=True, check=True).stdout
    res = {}
    for line in out.splitlines():
        c = line.split(",")
        src = c[1] or c[2]
        dst = c[3] or c[4]
        sp = int(c[5] or c[6] or 0)
        dp = int(c[7] or c[8] or 0)
        proto = int((c[9] or c[10]).split(",")[-1])
        k = (norm_ip(src), norm_ip(dst), sp, dp, proto)
        r = res.setdefault(k, [0, 0])
        r[0] += 1
        r[1] += int(c[0])
    return res


@needs_ref_sf
@needs_tshark
def test_sfprobe_into_reference_sfacctd(tmp_path, pcapgen):
    pcap, tallies = pcapgen(3000, 100, seed=3, no_frag=True)
    frames = frame_bytes_per_flow(pcap)
    rows = probe_into_reference(
        tmp_path, REF_SFACCTD, "sfacctd", FLOW_AGG + ",peer_src_ip",
        lambda port: (f"pcap_savefile: {pcap}\nplugins: sfprobe[s]\n"
                      f"sfprobe_receiver[s]: 127.0.0.1:{port}\nsfprobe_agentip[s]: 192.0.2.77\n"),
        "print_num_protos[p]: true\nsfacctd_pipe_size: 4000000\n",
        good=lambda rows: flows_of_rows(rows) == frames)
    for r in rows:
        assert r["PEER_SRC_IP"] == "192.0.2.77" and r["SAMPLING_RATE"] == "1", r
    got = flows_of_rows(rows)
    # sFlow counts frames: packets per flow as the generator's, bytes the frames' wire length
    assert {k: v[0] for k, v in got.items()} == {k: v[0] for k, v in tally_flows(tallies).items()}
    assert got == frames


@needs_tshark
def test_sfprobe_datagrams_well_formed(tmp_path, pcapgen):
    pcap, tallies = pcapgen(3000, 100, seed=3, no_frag=True)
    sink = UdpSink()
    run_probe(tmp_path, f"pcap_savefile: {pcap}\nplugins: sfprobe[s]\n"
              f"sfprobe_receiver[s]: 127.0.0.1:{sink.port}\nsampling_rate[s]: 4\n"
              "sfprobe_ifindex[s]: 7\n")
    got = sink.close()
    dump = tmp_path / "export.pcap"
    write_pcap(dump, got, 6343)
    da = "udp.port==6343,sflow"
    # the sFlow structure alone: the sampled headers carry the generator's random payload,
    # which tshark's SNMP and HTTP dissectors flag (the headers themselves are checked by
    # the reference sfacctd's decoding in the test above)
    bad = tshark_fields(dump, da, ["frame.number"],
                        "_ws.malformed or _ws.expert.severity >= warning",
                        opts=("-o", "sflow.enable_dissection:FALSE"))
    assert bad.strip() == "", bad
    out = tshark_fields(dump, da, ["sflow_245.sampletype", "sflow.flow_sample.sampling_rate",
                                   "sflow.flow_sample.sample_pool",
                                   "sflow.flow_sample.index"],
                        opts=("-o", "sflow.enable_dissection:FALSE"))
    types = []
    for line in out.splitlines():
        types += line.split("\t")[0].split(",")
    flows = sum(1 for t in types if t.endswith("1"))
    counters = sum(1 for t in types if t.endswith("2"))
    # about 3000 / 4 samples, and counter samples (at the end, every 20 s of packet time)
    assert 3000 / 4 * 0.75 < flows < 3000 / 4 * 1.25, flows
    assert counters >= 1
    # rate and data source as configured; the pool counts every packet up to the sample
    def column(i):
        return [int(x) for line in out.splitlines() for x in line.split("\t")[i].split(",") if x]
    assert set(column(1)) == {4}
    assert set(column(3)) == {7}
    pools = column(2)
    assert len(pools) == flows
    assert pools == sorted(pools) and 3000 * 0.9 < pools[-1] <= 3000


# ---------------------------------------------------------------------------
# tee

def v5_datagram(i, agent_octet):
    """A NetFlow v5 datagram with one record, distinct per i."""
    hdr = struct.pack("!HHIIIIBBH", 5, 1, 100000 + i, 1700000000 + i, 0, i, 0, 0, 0)
    rec = struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", socket.inet_aton(f"10.0.{agent_octet}.{i % 250}"),
                      socket.inet_aton("10.9.9.9"), b"\0" * 4, 1, 2, 1 + i, 100 + i, 90000,
                      99000, 1000 + i, 80, 0, 0x10, 6, 0, 0, 0, 0, 0, 0)
    return hdr + rec


def send_from(agent, port, data):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((agent, 0))
    s.sendto(data, ("127.0.0.1", port))
    sport = s.getsockname()[1]
    s.close()
    return sport


def tee_conf(port, receivers):
    """Config text of nfacctd on 127.0.0.1:port with a tee plugin t to the receivers map."""
    return (f"nfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\nplugins: tee[t]\n"
            f"tee_receivers[t]: {receivers}\n")


@pytest.mark.skipif(not os.access(NFACCTD, os.X_OK), reason=f"our nfacctd not built at {NFACCTD}")
@pytest.mark.parametrize("transparent", [False, pytest.param(True, marks=needs_root)])
def test_tee_pools(tmp_path, transparent):
    sinks = {name: UdpSink() for name in ("rr_a", "rr_b", "ha_a", "ha_b", "crc_a", "crc_b",
                                       "tag1", "all_a", "all_b")}
    (tmp_path / "tee.map").write_text(
        "! pools: round robin, hash-agent, hash-crc32, a tag filter, replicate to all\n"
        + tee_map_text(sinks, [(("rr_a", "rr_b"), "balance-alg=rr"),
                               (("ha_a", "ha_b"), "balance-alg=hash-agent"),
                               (("crc_a", "crc_b"), "balance-alg=hash-crc32"),
                               (("tag1",), "tag=1"), (("all_a", "all_b"), "")]))
    (tmp_path / "pretag.map").write_text("set_tag=1 ip=127.0.0.2\nset_tag=2 ip=127.0.0.3\n")
    port = free_port()
    log = tmp_path / "log"
    proc = spawn_daemon(NFACCTD, tmp_path / "nfacctd.conf",
                        tee_conf(port, tmp_path / "tee.map")
                        + f"pre_tag_map[t]: {tmp_path / 'pretag.map'}\n"
                        f"tee_transparent[t]: {'true' if transparent else 'false'}\n"
                        + ("" if transparent else "tee_source_ip[t]: 127.0.0.9\n"), log)
    agents = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
    sent = []
    try:
        assert wait_bound(port), log.read_text()
        for i in range(80):
            agent = agents[i % 4 if i < 40 else (i * 7) % 4]
            d = v5_datagram(i, 1 + agents.index(agent))
            sport = send_from(agent, port, d)
            sent.append((d, agent, sport))
            time.sleep(0.002)
        sinks["all_b"].wait_count(len(sent))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    got = {k: s.close() for k, s in sinks.items()}
    assert proc.returncode == 0, log.read_text()

    def payloads(name):
        return [d for d, _ in got[name]]

    allsent = [d for d, _, _ in sent]
    # replicate-to-all pool: both receivers, every datagram, in order, byte-identical
    assert payloads("all_a") == allsent
    assert payloads("all_b") == allsent
    # round robin: alternate receivers
    assert payloads("rr_a") == allsent[0::2]
    assert payloads("rr_b") == allsent[1::2]

    # hash-agent: the agent's address as a number, modulo 2; hash-crc32: its CRC-32 modulo 2
    def by(fn):
        return ([d for d, a, _ in sent if fn(a) == 0], [d for d, a, _ in sent if fn(a) == 1])

    def num(a):
        return int(ipaddress.ip_address(a)) % 2

    def crc(a):
        return zlib.crc32(socket.inet_aton(a)) % 2

    assert (payloads("ha_a"), payloads("ha_b")) == by(num)
    assert (payloads("crc_a"), payloads("crc_b")) == by(crc)
    # tag filter: only what pre_tag_map tagged 1 (agent 127.0.0.2)
    assert payloads("tag1") == [d for d, a, _ in sent if a == "127.0.0.2"]
    senders = {a for _, a in got["all_a"]}
    if transparent:
        # the exporter's own address and port
        assert [a for _, a in got["all_a"]] == [(a, sp) for _, a, sp in sent]
    else:
        assert senders == {a for a in senders if a[0] == "127.0.0.9"}, senders


@pytest.mark.skipif(not os.access(NFACCTD, os.X_OK), reason=f"our nfacctd not built at {NFACCTD}")
def test_tee_map_reload(tmp_path):
    """SIGUSR2 reloads tee_receivers: datagrams after it go to the new receiver; a map that
    fails to load keeps the previous one."""
    a, b = UdpSink(), UdpSink()
    tmap = tmp_path / "tee.map"
    tmap.write_text(f"id=1 ip=127.0.0.1:{a.port}\n")
    port = free_port()
    log = tmp_path / "log"
    proc = spawn_daemon(NFACCTD, tmp_path / "nfacctd.conf", tee_conf(port, tmap), log)
    try:
        assert wait_bound(port), log.read_text()
        first = [v5_datagram(i, 1) for i in range(5)]
        for d in first:
            send_from("127.0.0.2", port, d)
        a.wait_count(5)
        tmap.write_text(f"id=1 ip=127.0.0.1:{b.port}\n")
        proc.send_signal(signal.SIGUSR2)
        time.sleep(1.0)     # the receive loop handles signals at least every 500 ms
        second = [v5_datagram(i, 2) for i in range(5, 10)]
        for d in second:
            send_from("127.0.0.2", port, d)
        b.wait_count(5)
        tmap.write_text("id=1 bogus\n")
        proc.send_signal(signal.SIGUSR2)
        time.sleep(1.0)
        third = [v5_datagram(i, 3) for i in range(10, 12)]
        for d in third:
            send_from("127.0.0.2", port, d)
        b.wait_count(7)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert [d for d, _ in a.close()] == first
    assert [d for d, _ in b.close()] == second + third
    text = log.read_text()
    assert "map successfully (re)loaded" in text
    assert "tee.map:1] tee_receivers: 'bogus' is not key=value" in text, text


@pytest.mark.parametrize("line,why", [
    ("nfprobe_timeouts[n]: tcp=10:bogus=3", "unknown timeout 'bogus'"),
    ("nfprobe_version[n]: 7", "must be 5, 9 or 10"),
    ("nfprobe_receiver[n]: ::1:2100", "write an IPv6 address as [address]:port"),
    ("nfprobe_receiver[n]: 127.0.0.1:99999", "invalid port"),
    ("nfprobe_direction[n]: sideways", "must be in, out, tag or tag2"),
    ("nfprobe_engine[n]: 300:1", "type:id"),
])
def test_nfprobe_config_errors(tmp_path, line, why):
    """A bad value stops start-up with an error naming file, line and key."""
    conf = tmp_path / "pmacctd.conf"
    conf.write_text(f"pcap_savefile: {REPO / 'examples' / 'demo.pcap'}\nplugins: nfprobe[n]\n"
                    f"{line}\n")
    p = subprocess.run([str(PMACCTD), "-f", str(conf)], env=DAEMON_ENV, capture_output=True,
                       text=True, timeout=60)
    key = line.split("[")[0]
    assert p.returncode != 0
    assert f"[{conf}:3] key '{key}[n]': " in p.stderr and why in p.stderr, p.stderr


def test_nfprobe_socket_options(tmp_path, capture):
    """nfprobe_source_ip, nfprobe_hoplimit and nfprobe_ipprec as the receiver sees them."""
    pcap, _ = capture
    ip_recvtos, ip_recvttl, ip_ttl = 13, 12, 2      # Linux <netinet/in.h>
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, ip_recvttl, 1)
    s.setsockopt(socket.IPPROTO_IP, ip_recvtos, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("127.0.0.1", 0))
    s.settimeout(2)
    run_probe(tmp_path, probe_conf(pcap, s.getsockname()[1], 10,
                                   "nfprobe_source_ip[n]: 127.0.0.3\nnfprobe_hoplimit[n]: 7\n"
                                   "nfprobe_ipprec[n]: 5\nnfprobe_engine[n]: 4242\n"))
    seen = []
    try:
        while True:
            data, anc, _, addr = s.recvmsg(65535, 256)
            opts = {t: d for lvl, t, d in anc if lvl == socket.IPPROTO_IP}
            seen.append((addr[0], opts[ip_ttl][0], opts[socket.IP_TOS][0],
                         struct.unpack("!I", data[12:16])[0]))
    except socket.timeout:
        pass
    s.close()
    assert seen and set(seen) == {("127.0.0.3", 7, 5 << 5, 4242)}, set(seen)
