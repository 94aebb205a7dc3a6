# SPDX-License-Identifier: BSD-3-Clause
"""tee with collector_workers: two receive threads call the tee plugin at once.

Eight exporters (127.0.0.2 .. 127.0.0.9, each from its own socket, so the
kernel spreads them over both SO_REUSEPORT sockets) send NetFlow v5; a tee
plugin replicates to a replicate-to-all pool, a round-robin pool and a pool
filtered on the pre_tag_map tag, beside a print plugin.  A SIGUSR2 half way
reloads the receivers map while both threads send.  Every datagram reaches
each receiver of the all pool exactly once, byte-identical and in order per
exporter; the round-robin pool splits them with nothing lost or doubled; the
tag pool gets exactly the tagged exporter's.  Run it with a ThreadSanitizer
build (NFACCTD=build-tsan/nfacctd, TSAN_OPTIONS=halt_on_error=1:exitcode=66)
to check tee's locking: a data race fails the exit status.

Environment: NFACCTD (ours, default <repo>/build/nfacctd).
"""

import collections
import os
import signal
import socket
import struct
import time
from pathlib import Path

from conftest import REPO, UdpSink, free_port, spawn_daemon, tee_map_text

NFACCTD = Path(os.environ.get("NFACCTD", REPO / "build" / "nfacctd"))
AGENTS = [f"127.0.0.{i}" for i in range(2, 10)]
ROUNDS = 40             # datagrams per exporter


def v5_datagram(agent, i):
    """A NetFlow v5 datagram with one record, distinct per exporter and i."""
    a = AGENTS.index(agent)
    hdr = struct.pack("!HHIIIIBBH", 5, 1, 100000 + i, 1700000000 + i, 0, i, 0, 0, 0)
    rec = struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", socket.inet_aton(f"10.0.{a}.{i % 250}"),
                      socket.inet_aton("10.9.9.9"), b"\0" * 4, 1, 2, 1 + i, 100 + i, 90000,
                      99000, 1000 + i, 80, 0, 0x10, 6, 0, 0, 0, 0, 0, 0)
    return hdr + rec


def bound_sockets(port):
    """UDP sockets bound to 127.0.0.1:port, from /proc/net/udp."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/udp") as f:
        return sum(1 for line in f if line.split()[1:2] == [want])


def per_agent(datagrams):
    """{exporter index: [datagrams in arrival order]} (the record's source address tells)."""
    out = collections.defaultdict(list)
    for d in datagrams:
        out[d[24 + 2]].append(d)
    return dict(out)


def test_tee_two_workers(tmp_path):
    assert os.access(NFACCTD, os.X_OK), f"our nfacctd is not built at {NFACCTD}"
    sinks = {name: UdpSink() for name in ("all_a", "all_b", "rr_a", "rr_b", "tag1")}
    tmap = tmp_path / "tee.map"
    tmap.write_text(tee_map_text(sinks, [(("all_a", "all_b"), ""),
                                         (("rr_a", "rr_b"), "balance-alg=rr"),
                                         (("tag1",), "tag=1")]))
    (tmp_path / "pretag.map").write_text("set_tag=1 ip=127.0.0.2\nset_tag=2 ip=127.0.0.3\n")
    port = free_port()
    out = tmp_path / "out.csv"
    log = tmp_path / "log"
    proc = spawn_daemon(NFACCTD, tmp_path / "nfacctd.conf",
                        f"nfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\ncollector_workers: 2\n"
                        "plugins: tee[t], print[p]\n"
                        f"tee_receivers[t]: {tmap}\npre_tag_map[t]: {tmp_path / 'pretag.map'}\n"
                        "aggregate[p]: peer_src_ip\nprint_output[p]: csv\n"
                        f"print_output_file[p]: {out}\nprint_refresh_time[p]: 3600\n", log)
    socks = {}
    sent = []
    try:
        end = time.time() + 20
        while time.time() < end and bound_sockets(port) < 2:
            time.sleep(0.05)
        assert bound_sockets(port) == 2, log.read_text()
        for a in AGENTS:
            socks[a] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks[a].bind((a, 0))
        for i in range(ROUNDS):
            if i == ROUNDS // 2:
                proc.send_signal(signal.SIGUSR2)    # reload the map while both threads send
            for a in AGENTS:
                d = v5_datagram(a, i)
                socks[a].sendto(d, ("127.0.0.1", port))
                sent.append((a, d))
            time.sleep(0.005)
        sinks["all_b"].wait_count(len(sent), timeout=20)
    finally:
        for s in socks.values():
            s.close()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    got = {k: s.datagrams() for k, s in sinks.items()}
    text = log.read_text()
    assert proc.returncode == 0, text
    assert "ThreadSanitizer" not in text, text
    assert "map successfully (re)loaded" in text, text

    want = per_agent(d for _, d in sent)
    # replicate-to-all: every datagram once to each receiver, in order per exporter
    assert per_agent(got["all_a"]) == want
    assert per_agent(got["all_b"]) == want
    # round robin: the two receivers share every datagram, none lost or doubled
    rr = got["rr_a"] + got["rr_b"]
    assert sorted(rr) == sorted(d for _, d in sent)
    assert abs(len(got["rr_a"]) - len(got["rr_b"])) <= 2
    # tag pool: exactly what pre_tag_map tagged 1 (exporter 127.0.0.2)
    assert per_agent(got["tag1"]) == {0: want[0]}
