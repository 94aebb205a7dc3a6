# SPDX-License-Identifier: BSD-3-Clause
"""collector_workers: nfacctd and sfacctd with two receive threads on SO_REUSEPORT
sockets.  Eight exporters (127.0.0.2 .. 127.0.0.9, each sending from its own
bound socket, so the kernel spreads them over both sockets) send NetFlow v9,
IPFIX (each exporter its own template) or sFlow v5 at a modest rate; the print
plugin's totals per exporter and flow must equal the sender's own tallies
exactly: nothing lost, nothing counted twice.  SIGUSR1 must report every
exporter (each receive thread logs its own), and two sockets must be bound.

Environment: NFACCTD, SFACCTD (ours, default <repo>/build/...).
"""

import collections
import csv
import json
import os
import random
import signal
import socket
import struct
import time
from pathlib import Path

import pytest
from conftest import (collector_print_conf, file_has, free_port, sf_frame, spawn_daemon, u32,
                      wait_for)

REPO = Path(__file__).resolve().parents[2]
NFACCTD = Path(os.environ.get("NFACCTD", REPO / "build" / "nfacctd"))
SFACCTD = Path(os.environ.get("SFACCTD", REPO / "build" / "sfacctd"))
ENV = dict(os.environ, TZ="UTC", LC_ALL="C")
SOURCES = [f"127.0.0.{i}" for i in range(2, 10)]
DATAGRAMS = 60          # per exporter
RECORDS = 10            # per datagram


def bound_sockets(port):
    """UDP sockets bound to 127.0.0.1:port, from /proc/net/udp."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/udp") as f:
        return sum(1 for line in f if line.split()[1:2] == [want])


# ---- NetFlow v9 / IPFIX -------------------------------------------------------

# sourceIPv4Address, destinationIPv4Address, ports, protocol, octets, packets
NF_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4)]
NF_FMT = "!4s4sHHBII"


def nf_datagram(version, seq, domain, recs, with_template):
    sets = b""
    if with_template:
        body = struct.pack("!HH", 256, len(NF_FIELDS)) + b"".join(
            struct.pack("!HH", t, n) for t, n in NF_FIELDS)
        sets += struct.pack("!HH", 0 if version == 9 else 2, 4 + len(body)) + body
    data = b"".join(struct.pack(NF_FMT, socket.inet_aton(s), socket.inet_aton(d), sp, dp, 6, o, p)
                    for s, d, sp, dp, o, p in recs)
    sets += struct.pack("!HH", 256, 4 + len(data)) + data
    if version == 9:
        return struct.pack("!HHIIII", 9, len(recs) + with_template, 100000, 1700000000, seq,
                           domain) + sets
    return struct.pack("!HHIII", 10, 16 + len(sets), 1700000000, seq, domain) + sets


def nf_traffic(rnd, templates=True):
    """Per exporter: its datagrams and the tallies {(exporter, src): [packets, bytes]}."""
    plan, tally = {}, collections.defaultdict(lambda: [0, 0])
    for i, exp in enumerate(SOURCES):
        version = 9 if i % 2 == 0 else 10
        dgrams, seq = [], 0
        for n in range(DATAGRAMS):
            recs = []
            for _ in range(RECORDS):
                src = f"10.{i}.0.{rnd.randrange(1, 6)}"
                octs, pkts = rnd.randrange(40, 9000), rnd.randrange(1, 20)
                recs.append((src, "192.168.0.1", rnd.randrange(1024, 65535), 443, octs, pkts))
                tally[(exp, src)][0] += pkts
                tally[(exp, src)][1] += octs
            dgrams.append(nf_datagram(version, seq if version == 10 else n, i, recs,
                                      templates and n % 10 == 0))
            seq += RECORDS
        plan[exp] = dgrams
    return plan, tally


# ---- sFlow v5 -----------------------------------------------------------------

def sf_sample(seq, frame, frame_len):
    hdr = frame + b"\0" * ((4 - len(frame) % 4) % 4)
    rec = u32(1, 16 + len(hdr), 1, frame_len, 4, len(frame)) + hdr
    body = u32(seq, 3, 1, seq, 0, 3, 4, 1) + rec
    return u32(1, len(body)) + body


def sf_traffic(rnd):
    plan, tally = {}, collections.defaultdict(lambda: [0, 0])
    for i, exp in enumerate(SOURCES):
        agent = f"192.0.2.{i + 1}"
        dgrams = []
        for n in range(DATAGRAMS):
            samples = []
            for k in range(RECORDS):
                src = f"10.{i}.0.{rnd.randrange(1, 6)}"
                payload = rnd.randrange(10, 1000)
                fr = sf_frame(src, "192.168.0.1", rnd.randrange(1024, 65535), payload)
                frame_len = 14 + 28 + payload + 4
                samples.append(sf_sample(n * RECORDS + k, fr, frame_len))
                tally[(agent, src)][0] += 1
                tally[(agent, src)][1] += frame_len
            dgrams.append(u32(5, 1) + socket.inet_aton(agent) + u32(0, n + 1, 1000, len(samples))
                          + b"".join(samples))
        plan[exp] = dgrams
    return plan, tally


# ---- running ------------------------------------------------------------------

def send(port, plan):
    """Round robin over the exporters, each from its own bound socket."""
    socks = {}
    for exp in plan:
        socks[exp] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        socks[exp].bind((exp, 0))
    for n in range(DATAGRAMS):
        for exp, dgrams in plan.items():
            socks[exp].sendto(dgrams[n], ("127.0.0.1", port))
        time.sleep(0.004)
    for s in socks.values():
        s.close()


def run(binary, tmp, daemon, plan, ready, extra=""):
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    out, log = tmp / "out.csv", tmp / "log"
    proc = spawn_daemon(binary, tmp / "c.conf",
                        collector_print_conf(daemon, port, "peer_src_ip, src_host", "csv", out)
                        + f"collector_workers: 2\n{extra}", log, ENV)
    try:
        assert wait_for(lambda: file_has(log, ready), 10), log.read_text()
        sockets = bound_sockets(port)
        send(port, plan)
        time.sleep(0.5)
        proc.send_signal(signal.SIGUSR1)
        time.sleep(1.0)         # each receive thread logs its exporters within its 0.5 s wake-up
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    text = log.read_text()
    assert proc.returncode == 0, text
    got = {}
    with open(out) as f:
        for r in csv.DictReader(f):
            got[(r["PEER_SRC_IP"], r["SRC_IP"])] = [int(r["PACKETS"]), int(r["BYTES"])]
    return sockets, got, text


def assert_exact_totals(sockets, got, tally, log):
    """Both receive sockets were bound, the totals are exact and SIGUSR1 logged every datagram."""
    assert sockets == 2, log
    assert got == dict(tally), log
    assert f"datagrams={len(SOURCES) * DATAGRAMS}" in log, log


@pytest.mark.skipif(not os.access(NFACCTD, os.X_OK), reason=f"nfacctd not built at {NFACCTD}")
def test_nfacctd_two_workers_exact_totals(tmp_path):
    plan, tally = nf_traffic(random.Random(7))
    sockets, got, log = run(NFACCTD, tmp_path, "nfacctd", plan, "waiting for NetFlow")
    assert_exact_totals(sockets, got, tally, log)
    assert "2 receive threads" in log
    # SIGUSR1: every exporter once, from whichever thread serves it
    for i, exp in enumerate(SOURCES):
        lines = [ln for ln in log.splitlines() if f"agent={exp}:{i} " in ln]
        assert len(lines) == 1, log
        assert f"packets={DATAGRAMS} " in lines[0] and f"records={DATAGRAMS * RECORDS}" in lines[0]


@pytest.mark.skipif(not os.access(SFACCTD, os.X_OK), reason=f"sfacctd not built at {SFACCTD}")
def test_sfacctd_two_workers_exact_totals(tmp_path):
    plan, tally = sf_traffic(random.Random(8))
    sockets, got, log = run(SFACCTD, tmp_path, "sfacctd", plan, "waiting for sFlow")
    assert_exact_totals(sockets, got, tally, log)


@pytest.mark.skipif(not os.access(NFACCTD, os.X_OK), reason=f"nfacctd not built at {NFACCTD}")
def test_nfacctd_workers_templates_file(tmp_path):
    """Each thread's templates end up in the one file; after a restart, data without
    templates decodes in whichever thread the kernel now hands each exporter to."""
    tf = tmp_path / "templates.json"
    plan, tally = nf_traffic(random.Random(9))
    _, got, log = run(NFACCTD, tmp_path / "a", "nfacctd", plan, "waiting for NetFlow",
                      f"nfacctd_templates_file: {tf}\n")
    assert got == dict(tally), log
    lines = tf.read_text().splitlines()
    keys = sorted((json.loads(ln)["exporter"], json.loads(ln)["domain"]) for ln in lines)
    assert keys == sorted((exp, i) for i, exp in enumerate(SOURCES)), tf.read_text()
    plan, tally = nf_traffic(random.Random(10), templates=False)
    _, got, log = run(NFACCTD, tmp_path / "b", "nfacctd", plan, "waiting for NetFlow",
                      f"nfacctd_templates_file: {tf}\n")
    assert got == dict(tally), log
    assert len(tf.read_text().splitlines()) == len(SOURCES), tf.read_text()


@pytest.mark.skipif(not os.access(NFACCTD, os.X_OK), reason=f"nfacctd not built at {NFACCTD}")
def test_nfacctd_workers_allow_file_reload(tmp_path):
    """The allow file holds half of the exporters; after it is rewritten and SIGUSR2 is
    sent, every receive thread lets all of them in."""
    allow = tmp_path / "allow"
    allow.write_text("".join(f"{exp}\n" for exp in SOURCES[:4]))
    first, t1 = nf_traffic(random.Random(11))
    second, t2 = nf_traffic(random.Random(12))
    port = free_port()
    out, log = tmp_path / "out.csv", tmp_path / "log"
    proc = spawn_daemon(NFACCTD, tmp_path / "c.conf",
                        collector_print_conf("nfacctd", port, "peer_src_ip, src_host", "csv", out)
                        + f"collector_workers: 2\nnfacctd_allow_file: {allow}\n", log, ENV)
    try:
        assert wait_for(lambda: file_has(log, "waiting for NetFlow"), 10), log.read_text()
        send(port, first)
        time.sleep(0.3)
        allow.write_text("".join(f"{exp}\n" for exp in SOURCES))
        proc.send_signal(signal.SIGUSR2)
        time.sleep(1.0)         # each receive thread reloads within its 0.5 s wake-up
        send(port, second)
        time.sleep(0.5)
        proc.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    text = log.read_text()
    want = collections.defaultdict(lambda: [0, 0])
    for (exp, src), (p, b) in t1.items():
        if exp in SOURCES[:4]:
            want[(exp, src)][0] += p
            want[(exp, src)][1] += b
    for (exp, src), (p, b) in t2.items():
        want[(exp, src)][0] += p
        want[(exp, src)][1] += b
    got = {}
    with open(out) as f:
        for r in csv.DictReader(f):
            got[(r["PEER_SRC_IP"], r["SRC_IP"])] = [int(r["PACKETS"]), int(r["BYTES"])]
    assert got == dict(want), text
    assert f"denied={4 * DATAGRAMS}" in text, text
