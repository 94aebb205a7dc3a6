# SPDX-License-Identifier: BSD-3-Clause
"""The core's tables at their ceilings, end to end (docs/bounds.md, "Capture
and collector tables"): pmacctd's fragment and flow tables and the nfprobe
flow cache on a flood capture (pcapgen -z 0: nearly every packet a new
flow, fragmented UDP datagrams among them), and nfacctd's exporter and
template state under a flood of exporters (UDP from 127.0.1.x sources).

What is checked, against the generator's own tallies:
- nfprobe with a small nfprobe_maxflows: every captured packet and byte is
  in the exported NetFlow v5 records (flows past the ceiling are expired
  early and exported, never lost); the cache never held more than its
  ceiling (SIGUSR1 `table [...]` peak); the flows expired early are at
  least the distinct flows beyond the ceiling;
- a fragment table far too small for the capture's fragmented datagrams:
  every packet and byte still accounted (pmacct 1.7.7 drops the fragments
  it cannot track);
- a flow table far too small: every packet accounted, `flows` counts at
  least the ceiling and at most the distinct flows;
- nfacctd with small nfacctd_max_exporters / nfacctd_max_templates: the
  state stops at its ceilings, refusals counted exactly, the data of the
  exporters whose templates were kept decoded exactly;
- -T config lists every one of these tables in its "! memory ceilings".

Environment: PMACCTD, NFACCTD, SFACCTD (ours, default build/), PCAPGEN.
"""

import os
import re
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (DAEMON_ENV, PMACCTD, REPO, _build_pcapgen, collector_print_conf,
                      csv_dicts, free_port, spawn_daemon, wait_for, UdpSink)

NFACCTD = Path(os.environ.get("NFACCTD", REPO / "build" / "nfacctd"))
SFACCTD = Path(os.environ.get("SFACCTD", REPO / "build" / "sfacctd"))

MAXFLOWS = 300
FRAG_BYTES = 2048       # a few dozen entries
FLOW_BYTES = 16384      # a couple of hundred entries
PACKETS = 20000

TABLE = re.compile(r"table \[(?P<owner>[^\]]+)\] (?P<table>\S+) entries=(?P<entries>\d+)/"
                   r"(?P<max>\d+) bytes=(?P<bytes>\d+)/(?P<max_bytes>\d+) peak=(?P<peak>\d+) "
                   r"at_ceiling=(?P<at_ceiling>\d+) refused=(?P<refused>\d+) policy=(?P<policy>\w+)")
PLAN = re.compile(r"^!\s+(?P<owner>\S+) (?P<table>\S+): (?P<entries>\d+) entries, .*\((?P<bytes>\d+) "
                  r"bytes\)(?:, set by (?P<key>\w+))?; when full: (?P<policy>\w+)$", re.M)


def tables(log_text):
    """The last SIGUSR1 block's table lines: {(owner, table): {field: int or str}}."""
    out = {}
    for m in TABLE.finditer(log_text):
        d = {k: (v if k in ("owner", "table", "policy") else int(v)) for k, v in m.groupdict().items()}
        out[(d["owner"], d["table"])] = d
    return out


def plan(binary, conf_text, tmp_path):
    """-T config's "! memory ceilings" lines: {(owner, table): {entries, bytes, key, policy}}."""
    conf = tmp_path / "plan.conf"
    conf.write_text(conf_text)
    p = subprocess.run([str(binary), "-f", str(conf), "-T", "config"], capture_output=True,
                       text=True, env=DAEMON_ENV, timeout=60)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "! memory ceilings" in p.stdout, p.stdout[-3000:]
    return {(m["owner"], m["table"]): m.groupdict() for m in PLAN.finditer(p.stdout)}


@pytest.fixture(scope="module")
def flood(tmp_path_factory):
    """A -z 0 flood capture, IPv4 only (NetFlow v5 carries IPv4), with fragments; its tallies."""
    base = tmp_path_factory.mktemp("flood")
    exe = _build_pcapgen(base)
    pcap, tallies = base / "flood.pcap", base / "flood.json"
    subprocess.run([str(exe), "-n", str(PACKETS), "-f", str(PACKETS), "-z", "0", "--v4-only",
                    "-o", str(pcap), "-t", str(tallies)], check=True, capture_output=True)
    import json
    return pcap, json.loads(tallies.read_text())


def pm_conf(pcap, sink_port, out, log):
    return (f"pcap_savefile: {pcap}\npcap_savefile_wait: true\nlogfile: {log}\n"
            "plugins: nfprobe[np], print[pr]\n"
            f"nfprobe_receiver[np]: 127.0.0.1:{sink_port}\nnfprobe_version[np]: 5\n"
            f"nfprobe_maxflows[np]: {MAXFLOWS}\n"
            "aggregate[pr]: proto, flows\nprint_output[pr]: csv\n"
            f"print_output_file[pr]: {out}\nprint_refresh_time[pr]: 3600\n"
            f"pmacctd_frag_buffer_size: {FRAG_BYTES}\npmacctd_flow_buffer_size: {FLOW_BYTES}\n")


def v5_records(datagrams):
    """(records, packets, bytes) of NetFlow v5 datagrams."""
    n = pk = by = 0
    for d in datagrams:
        version, count = struct.unpack("!HH", d[:4])
        assert version == 5
        for i in range(count):
            p, b = struct.unpack("!II", d[24 + 48 * i + 16:24 + 48 * i + 24])
            n, pk, by = n + 1, pk + p, by + b
    return n, pk, by


@pytest.fixture(scope="module")
def pm_run(flood, tmp_path_factory):
    """pmacctd on the flood: the SIGUSR1 tables once the capture is read, the log, the
    exported v5 records and the print plugin's rows after shutdown."""
    if not os.access(PMACCTD, os.X_OK):
        pytest.skip(f"no pmacctd at {PMACCTD}")
    pcap, tallies = flood
    work = tmp_path_factory.mktemp("pm")
    sink = UdpSink()
    log, out = work / "pm.log", work / "out.csv"
    text = pm_conf(pcap, sink.port, out, log)
    proc = spawn_daemon(PMACCTD, work / "pm.conf", text, work / "stdout.log")
    try:
        wait_for(lambda: log.exists() and "link type is" in log.read_text(errors="replace"),
                 timeout=30, what="pmacctd started", proc=proc)

        def read_all():
            proc.send_signal(signal.SIGUSR1)
            time.sleep(0.3)
            t = log.read_text(errors="replace") if log.exists() else ""
            blocks = t.split("+++")
            last = blocks[-1] if len(blocks) > 1 else ""
            return (f"received_packets={PACKETS} " in last and
                    len(re.findall(rf"records={PACKETS} .*ring_used=0/", last)) == 2 and
                    "---" in last) and last
        last = wait_for(read_all, timeout=90, what="the capture read by every plugin", proc=proc)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.returncode == 0, (work / "stdout.log").read_text()[-3000:]
    return {"tables": tables(last), "log": log.read_text(errors="replace"),
            "exported": v5_records(sink.datagrams()), "rows": csv_dicts(out.read_text()),
            "conf": text, "tallies": tallies}


def test_nfprobe_exports_every_packet_past_maxflows(pm_run):
    tl = pm_run["tallies"]
    n, pk, by = pm_run["exported"]
    assert (pk, by) == (tl["packets"], tl["bytes"]), "every packet and byte exported"
    distinct = len({(f["src"], f["dst"], f["sport"], f["dport"], f["proto"]) for f in tl["flows"]})
    assert n >= distinct, "at least one record per distinct flow"
    g = pm_run["tables"][("np/nfprobe", "nfprobe")]
    assert g["max"] == MAXFLOWS and g["policy"] == "expire"
    assert 0 < g["peak"] <= MAXFLOWS, g
    forced = sum(int(x) for x in re.findall(
        r"nfprobe_maxflows \(\d+\) reached: (\d+) flows expired early", pm_run["log"]))
    assert forced >= distinct - MAXFLOWS, "the flows beyond the ceiling expired early, logged"
    assert g["at_ceiling"] <= forced


def test_fragment_table_full_loses_nothing(pm_run):
    tl = pm_run["tallies"]
    rows = pm_run["rows"]
    by_proto = {}
    for r in rows:
        p = by_proto.setdefault(r["PROTOCOL"], [0, 0])
        p[0] += int(r["PACKETS"])
        p[1] += int(r["BYTES"])
    want = {v["name"]: [v["packets"], v["bytes"]] for v in tl["by_proto"].values()}
    assert by_proto == want, "every packet accounted, fragments past the ceiling included"
    g = pm_run["tables"][("default/core", "fragments")]
    # 2-4 fragments per datagram: more datagrams within the 60 s entry lifetime than entries
    assert tl["fragments"] // 4 > g["max"], "the capture overflows the table"
    assert 0 < g["peak"] <= g["max"] and g["at_ceiling"] > 0 and g["refused"] > 0, g
    assert g["max_bytes"] <= FRAG_BYTES + 1024
    assert "Fragment buffer full" in pm_run["log"]


def test_flow_table_full_counts_within_bounds(pm_run):
    tl = pm_run["tallies"]
    g = pm_run["tables"][("default/core", "flows")]
    assert 0 < g["peak"] <= g["max"] and g["at_ceiling"] > 0, g
    flows = sum(int(r["FLOWS"]) for r in pm_run["rows"])
    distinct = len({(f["src"], f["dst"], f["sport"], f["dport"], f["proto"]) for f in tl["flows"]})
    assert g["max"] <= flows <= distinct, (flows, g["max"], distinct)
    assert "Flow buffer full" in pm_run["log"]


def test_pmacctd_plan_lists_core_tables(pm_run, tmp_path):
    p = plan(PMACCTD, pm_run["conf"], tmp_path)
    g = pm_run["tables"]
    for key, cfgkey, policy in ((("np/nfprobe", "nfprobe"), "nfprobe_maxflows", "expire"),
                                (("default/core", "fragments"), "pmacctd_frag_buffer_size", "refuse"),
                                (("default/core", "flows"), "pmacctd_flow_buffer_size", "refuse")):
        assert key in p, p
        assert (p[key]["key"], p[key]["policy"]) == (cfgkey, policy)
        assert int(p[key]["entries"]) == g[key]["max"] and int(p[key]["bytes"]) == g[key]["max_bytes"]
    assert int(p[("np/nfprobe", "nfprobe")]["entries"]) == MAXFLOWS


# ---- nfacctd: a flood of exporters and templates ---------------------------

MAX_EXP, MAX_TPL = 20, 30
N_EXP, TPL_PER_EXP, DATA_RECS = 120, 2, 3


def ipfix(seq, domain, sets):
    body = b"".join(struct.pack("!HH", sid, 4 + len(b)) + b for sid, b in sets)
    return struct.pack("!HHIII", 10, 16 + len(body), 1700000000, seq, domain) + body


def template_set(tid):
    # sourceIPv4Address, destinationIPv4Address, packetDeltaCount, octetDeltaCount
    return struct.pack("!HH", tid, 4) + struct.pack("!HHHHHHHH", 8, 4, 12, 4, 2, 8, 1, 8)


def data_set(src_last, n):
    return b"".join(socket.inet_aton(f"10.1.{src_last}.{i + 1}") + socket.inet_aton("10.2.0.1") +
                    struct.pack("!QQ", 2, 100) for i in range(n))


def test_nfacctd_exporter_template_flood(tmp_path):
    if not os.access(NFACCTD, os.X_OK):
        pytest.skip(f"no nfacctd at {NFACCTD}")
    port = free_port()
    out, log = tmp_path / "nf.csv", tmp_path / "nf.log"
    text = (collector_print_conf("nfacctd", port, "src_host", "csv", out) +
            f"nfacctd_max_exporters: {MAX_EXP}\nnfacctd_max_templates: {MAX_TPL}\n"
            f"logfile: {log}\n")
    p = plan(NFACCTD, text, tmp_path)
    assert (int(p[("default/core", "exporters")]["entries"]), p[("default/core", "exporters")]["key"]) == \
        (MAX_EXP, "nfacctd_max_exporters")
    assert (int(p[("default/core", "templates")]["entries"]), p[("default/core", "templates")]["key"]) == \
        (MAX_TPL, "nfacctd_max_templates")
    proc = spawn_daemon(NFACCTD, tmp_path / "nf.conf", text, tmp_path / "stdout.log")
    sent_dg = 0
    try:
        wait_for(lambda: log.exists() and "waiting for" in log.read_text(), timeout=30,
                 what="nfacctd ready", proc=proc)
        # each exporter: one datagram of templates, then one of data per template
        for e in range(N_EXP):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((f"127.0.1.{e + 1}", 0))
            tids = [256 + k for k in range(TPL_PER_EXP)]
            s.sendto(ipfix(0, 0, [(2, b"".join(template_set(t) for t in tids))]), ("127.0.0.1", port))
            for k, t in enumerate(tids):
                s.sendto(ipfix(1 + k, 0, [(t, data_set(e, DATA_RECS))]), ("127.0.0.1", port))
            sent_dg += 1 + TPL_PER_EXP
            s.close()
            time.sleep(0.002)

        def done():
            proc.send_signal(signal.SIGUSR1)
            time.sleep(0.3)
            t = log.read_text(errors="replace")
            m = re.findall(r"datagrams=(\d+)", t)
            # the refusals' warnings come with the once-a-second housekeeping
            return (m and int(m[-1]) == sent_dg and "key 'nfacctd_max_exporters'" in t and
                    "key 'nfacctd_max_templates'" in t and t)
        t = wait_for(done, timeout=30, what="every datagram received and the refusals logged",
                     proc=proc)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    g = tables(t)
    ge, gt = g[("default/core", "exporters")], g[("default/core", "templates")]
    assert (ge["entries"], ge["peak"], ge["max"]) == (MAX_EXP, MAX_EXP, MAX_EXP), ge
    # every datagram of an exporter past the ceiling is counted
    assert ge["refused"] == (N_EXP - MAX_EXP) * (1 + TPL_PER_EXP), ge
    assert ge["bytes"] <= ge["max_bytes"]
    assert (gt["entries"], gt["peak"], gt["max"]) == (MAX_TPL, MAX_TPL, MAX_TPL), gt
    assert gt["refused"] == N_EXP * TPL_PER_EXP - MAX_TPL, gt
    assert gt["bytes"] <= gt["max_bytes"]
    # the templates kept are the first MAX_TPL that arrived: the first exporters' data decoded
    rows = csv_dicts(out.read_text())
    pk = sum(int(r["PACKETS"]) for r in rows)
    assert pk == MAX_TPL * DATA_RECS * 2, rows[:5]


def test_sfacctd_plan_lists_agent_tables(tmp_path):
    if not os.access(SFACCTD, os.X_OK):
        pytest.skip(f"no sfacctd at {SFACCTD}")
    p = plan(SFACCTD, "sfacctd_port: 2999\nplugins: print\ncollector_workers: 2\n", tmp_path)
    for t in ("agents", "sources", "agents#1", "sources#1"):
        assert int(p[("default/core", t)]["entries"]) == 100000, p
