# SPDX-License-Identifier: BSD-3-Clause
"""The daemons under valgrind: a whole run, SIGTERM, and a clean shutdown.

pmacctd reads the bundled capture into print + memory + sqlite3 plugins,
nfacctd receives the bundled NetFlow v5 capture plus v9 / IPFIX datagrams
(and, run a second time, loads the templates file the first run saved).
Each stops on SIGTERM under `valgrind --leak-check=full --error-exitcode=1`:
no memory error, nothing definitely lost, and the accounting still matches
counts made here from the captures (scapy, struct).  Each run is bounded
(a small capture, a few seconds of traffic): the module takes about a
minute.  Set VALGRIND=0 to skip it.

Environment: PMACCTD, NFACCTD and PMACCT point at the binaries (build/ by
default); a build with debug info gives readable reports.
"""

import json
import os
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import DAEMON_ENV, PMACCTD, REPO, needs, wait_for

NFACCTD = Path(os.environ.get("NFACCTD", PMACCTD.parent / "nfacctd"))
PMACCT = Path(os.environ.get("PMACCT", PMACCTD.parent / "pmacct"))
DEMO = REPO / "examples" / "demo.pcap"
NF_V5 = REPO / "examples" / "netflow-v5.pcap"
NF_CORPUS = REPO / "tests" / "fuzz" / "corpus" / "netflow"

pytestmark = [
    needs(shutil.which("valgrind") is not None, "valgrind not installed (apt-get install valgrind)"),
    pytest.mark.skipif(os.environ.get("VALGRIND") == "0", reason="VALGRIND=0"),
]

VALGRIND = ["valgrind", "--leak-check=full", "--show-leak-kinds=definite",
            "--errors-for-leak-kinds=definite", "--error-exitcode=1", "--num-callers=30"]


def start(binary, conf_text, workdir, tag):
    conf = workdir / f"{tag}.conf"
    conf.write_text(conf_text)
    log = workdir / f"{tag}.valgrind"
    proc = subprocess.Popen(VALGRIND + [f"--log-file={log}", str(binary), "-f", str(conf)],
                            cwd=workdir, env=DAEMON_ENV, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace")
    return proc, log


def stop_clean(proc, log):
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("no exit within 120 s of SIGTERM under valgrind")
    report = log.read_text()
    assert proc.returncode == 0, f"rc {proc.returncode}\n{err[-2000:]}\n{report[-6000:]}"
    assert "ERROR SUMMARY: 0 errors" in report, report[-6000:]
    lost = [ln for ln in report.splitlines() if "definitely lost:" in ln]
    assert all(" 0 bytes in 0 blocks" in ln for ln in lost), report[-6000:]
    return err


def memory_totals(pipe):
    q = subprocess.run([str(PMACCT), "-p", str(pipe), "-s", "-O", "csv"], capture_output=True,
                       text=True, timeout=120)
    if q.returncode != 0:
        return None
    lines = [ln.split(",") for ln in q.stdout.splitlines()[1:] if ln]
    return sum(int(r[-2]) for r in lines), sum(int(r[-1]) for r in lines)


def demo_totals():
    from scapy.all import IP, IPv6, rdpcap
    pk = by = 0
    for p in rdpcap(str(DEMO)):
        if IP in p:
            pk, by = pk + 1, by + p[IP].len
        elif IPv6 in p:
            pk, by = pk + 1, by + p[IPv6].plen + 40
    return pk, by


def test_pmacctd_print_memory_sqlite(tmp_path):
    want = demo_totals()
    conf = f"""pcap_savefile: {DEMO}
pcap_savefile_wait: true
plugins: print[p], memory[m], sqlite3[s]
aggregate: src_host, dst_host, proto
print_output[p]: csv
print_output_file[p]: {tmp_path}/out.csv
print_output_file_append[p]: true
print_refresh_time[p]: 2
imt_path[m]: {tmp_path}/m.pipe
sql_db[s]: {tmp_path}/acct.db
sql_refresh_time[s]: 2
"""
    proc, log = start(PMACCTD, conf, tmp_path, "pmacctd")
    try:
        pipe = tmp_path / "m.pipe"
        wait_for(lambda: pipe.exists() and memory_totals(pipe) == want,
                 90, "the capture in the memory plugin", proc=proc, step=0.3)
    finally:
        if proc.poll() is None:
            stop_clean(proc, log)
    rows = [ln.split(",") for ln in (tmp_path / "out.csv").read_text().splitlines()
            if ln and not ln.startswith("SRC_IP")]
    assert (sum(int(r[-2]) for r in rows), sum(int(r[-1]) for r in rows)) == want
    db = sqlite3.connect(tmp_path / "acct.db")
    table = db.execute("select name from sqlite_master where type='table'").fetchone()[0]
    assert db.execute(f"select sum(packets), sum(bytes) from {table}").fetchone() == want


def v5_datagrams():
    from scapy.all import UDP, rdpcap
    return [bytes(p[UDP].payload) for p in rdpcap(str(NF_V5)) if UDP in p]


def v5_totals(dgrams):
    pk = by = 0
    for d in dgrams:
        count = struct.unpack(">H", d[2:4])[0]
        for i in range(count):
            rec = d[24 + 48 * i:72 + 48 * i]
            p, b = struct.unpack(">II", rec[16:24])
            pk, by = pk + p, by + b
    return pk, by


def corpus_datagrams():
    """The v9 / IPFIX datagrams of the fuzz corpus ([2-byte length][datagram] files)."""
    out = []
    for name in ("v9", "ipfix", "v9_sampling"):
        d = (NF_CORPUS / name).read_bytes()
        while len(d) >= 2:
            n = ((d[0] & 0x7f) << 8) | d[1]
            out.append(d[2:2 + n])
            d = d[2 + n:]
    return out


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nfacctd_print_memory_templates(tmp_path):
    """Only the v5 exporter (127.0.0.1) has an independent tally; the v9 / IPFIX
    exporter (127.0.0.2) must produce records and a templates file."""
    v5 = v5_datagrams()
    v5_want = v5_totals(v5)
    port = free_udp_port()
    conf = f"""nfacctd_ip: 127.0.0.1
nfacctd_port: {port}
plugins: print[p], memory[m]
aggregate: src_host, dst_host, proto, peer_src_ip
print_output[p]: json
print_output_file[p]: {tmp_path}/first.json
print_output_file_append[p]: true
print_refresh_time[p]: 2
imt_path[m]: {tmp_path}/first.pipe
nfacctd_templates_file: {tmp_path}/templates.json
"""
    proc, log = start(NFACCTD, conf, tmp_path, "first")
    pipe = tmp_path / "first.pipe"
    try:
        wait_for(lambda: pipe.exists() and memory_totals(pipe) is not None,
                 90, "the memory plugin's socket", proc=proc, step=0.3)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.2", 0))
            for d in corpus_datagrams():
                s.sendto(d, ("127.0.0.1", port))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for d in v5:
                s.sendto(d, ("127.0.0.1", port))

        def v5_seen():
            q = subprocess.run([str(PMACCT), "-p", str(pipe), "-s", "-O", "json"],
                               capture_output=True, text=True, timeout=120)
            rows = [json.loads(ln) for ln in q.stdout.splitlines() if ln.startswith("{")]
            got = [r for r in rows if r.get("peer_ip_src") == "127.0.0.1"]
            return (sum(r["packets"] for r in got), sum(r["bytes"] for r in got)) == v5_want
        wait_for(v5_seen, 90, "the v5 records in the memory plugin", proc=proc, step=0.3)
    finally:
        if proc.poll() is None:
            stop_clean(proc, log)
    rows = [json.loads(ln) for ln in (tmp_path / "first.json").read_text().splitlines() if ln]
    v5_rows = [r for r in rows if r["peer_ip_src"] == "127.0.0.1"]
    assert (sum(r["packets"] for r in v5_rows), sum(r["bytes"] for r in v5_rows)) == v5_want
    assert any(r["peer_ip_src"] == "127.0.0.2" for r in rows), "no v9 / IPFIX record decoded"
    saved = (tmp_path / "templates.json").read_text().splitlines()
    assert saved and all(json.loads(ln)["exporter"] == "127.0.0.2" for ln in saved)

    # second run: the templates come from the file; start-up and shutdown clean again
    conf2 = conf.replace("first", "second")
    proc, log = start(NFACCTD, conf2, tmp_path, "second")
    pipe = tmp_path / "second.pipe"
    try:
        wait_for(lambda: pipe.exists() and memory_totals(pipe) is not None,
                 90, "the memory plugin's socket", proc=proc, step=0.3)
    finally:
        if proc.poll() is None:
            stop_clean(proc, log)
    assert sorted((tmp_path / "templates.json").read_text().splitlines()) == sorted(saved)
