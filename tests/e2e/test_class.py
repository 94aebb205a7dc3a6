# SPDX-License-Identifier: BSD-3-Clause
"""The class primitive.

pmacctd classifies with nDPI: captures of known applications written with scapy
(app_captures.py: DNS, TLS with SNI, HTTP, QUIC, SSH, BitTorrent) are classified by our
pmacctd and by nDPI's own ndpiReader (Debian libndpi-bin), and both must agree with the
generator's labels.  pmacct prints an nDPI class as "<master>/<app>" of nDPI's protocol
names ("Unknown/SSH", "TLS/Google"; pmacct's print plugin and issues #177, #525 show it),
made here from ndpiReader's protocol ids.  pmacct accounts a packet with its flow's class
as known so far, so the packets before nDPI names the flow (the TCP handshake) are
"Unknown/Unknown": every flow's packets are all accounted, under that or its one class.  Debian's pmacctd 1.7.7 is
built without nDPI (it refuses `class`), so there is no differential for this side.

nfacctd fills class from applicationId (IE 95) with the names options data give
(IE 96): compared with pmacct master (print JSON, CSV, formatted); Debian's 1.7.7 prints
"unknown" for every record (compared where no names are given, memory client included).
sfacctd: class is dropped from the aggregate with a warning, as 1.7.7 does.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import pytest

import app_captures
import router_exports as rx
import test_sfacctd as sf
from conftest import (file_has, free_port, needs, retry_reference, skip_or_fail, spawn_daemon,
                      wait_for)

REPO = Path(__file__).resolve().parents[2]
PMACCTD = Path(os.environ.get("PMACCTD", REPO / "build" / "pmacctd"))
NFACCTD = Path(os.environ.get("NFACCTD", REPO / "build" / "nfacctd"))
SFACCTD = Path(os.environ.get("SFACCTD", REPO / "build" / "sfacctd"))
PMACCT = Path(os.environ.get("PMACCT", REPO / "build" / "pmacct"))
REF_NFACCTD = Path(os.environ.get("REF_NFACCTD", "/usr/sbin/nfacctd"))
REF_PMACCT = Path(os.environ.get("REF_PMACCT", "/usr/bin/pmacct"))
MASTER_NFACCTD = Path(os.environ.get("MASTER_NFACCTD",
                                     "/work/shared/reference/pmacct-master/nfacctd"))
MASTER_PMACCT = MASTER_NFACCTD.parent / "pmacct"
NDPI_READER = shutil.which("ndpiReader")
ENV = dict(os.environ, TZ="UTC", LC_ALL="C")

needs_ndpi_reader = needs(NDPI_READER, "ndpiReader missing (apt-get install libndpi-bin)")
needs_ref = needs(os.access(REF_NFACCTD, os.X_OK) and os.access(REF_PMACCT, os.X_OK),
                  "no reference nfacctd/pmacct 1.7.7")
needs_master = needs(os.access(MASTER_NFACCTD, os.X_OK), "no pmacct master nfacctd")


# ---- pmacctd and nDPI --------------------------------------------------------------


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    d = tmp_path_factory.mktemp("apps")
    pcap = d / "apps.pcap"
    flows = app_captures.write(pcap)
    return pcap, flows


def print_run(binary, tmp, pcap, agg, fmt="csv", extra=""):
    tmp.mkdir(parents=True, exist_ok=True)
    out = tmp / f"out.{fmt}"
    conf = tmp / "c.conf"
    conf.write_text(f"plugins: print[p]\naggregate[p]: {agg}\nprint_output[p]: {fmt}\n"
                    f"print_output_file[p]: {out}\n{extra}")
    r = subprocess.run([str(binary), "-f", str(conf), "-I", str(pcap)], env=ENV,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return out.read_text(), r.stdout + r.stderr


def csv_rows(text):
    lines = [x for x in text.splitlines() if x.strip()]
    head = lines[0].split(",")
    return [dict(zip(head, x.split(","))) for x in lines[1:]]


def per_connection(rows):
    """{frozenset(addresses): {class: packets}} from rows with SRC_IP, DST_IP, CLASS."""
    out = defaultdict(lambda: defaultdict(int))
    for r in rows:
        out[frozenset((r["SRC_IP"], r["DST_IP"]))][r["CLASS"]] += int(r["PACKETS"])
    return out


UNK = "Unknown/Unknown"


def pm_class(label):
    """pmacct's text of an nDPI label: "TLS.Google" -> "TLS/Google", "SSH" (no master)
    -> "Unknown/SSH"."""
    return label.replace(".", "/", 1) if "." in label else f"Unknown/{label}"


def ndpi_reader_labels(pcap):
    """{frozenset(addresses): (nDPI's label, pmacct's class)} as ndpiReader prints its
    flows: "[proto: M.A/Master.App]" or "[proto: A/App]" (no master)."""
    r = subprocess.run([NDPI_READER, "-i", str(pcap), "-v", "2"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = {}
    for m in re.finditer(r"(?:TCP|UDP) ([\d.]+):\d+ <?-> ([\d.]+):\d+ \[proto: ([\d.]+)/([^\]]+)\]",
                         r.stdout):
        ids, name = m.group(3), m.group(4)
        pm = name.replace(".", "/", 1) if "." in ids else f"Unknown/{name}"
        out[frozenset((m.group(1), m.group(2)))] = (name, pm)
    return out


@needs_ndpi_reader
def test_pmacctd_matches_ndpi_reader(apps, tmp_path):
    pcap, flows = apps
    truth = ndpi_reader_labels(pcap)
    text, _ = print_run(PMACCTD, tmp_path, pcap, "src_host,dst_host,class")
    got = per_connection(csv_rows(text))
    assert len(got) == len(flows)
    for label, c, s, pkts in flows:
        key = frozenset((c, s))
        assert truth[key][0] == label, f"ndpiReader and the generator disagree on {label}"
        classes = {k for k in got[key] if k != UNK}
        assert classes == {truth[key][1]}, (label, dict(got[key]))
        assert sum(got[key].values()) == len(pkts), "every packet accounted once"
        # the packets before detection: the handshake of a TCP connection, nothing for UDP
        unknown = got[key].get(UNK, 0)
        assert unknown == (3 if pkts[0].haslayer("TCP") else 0), (label, dict(got[key]))


def test_pmacctd_formats(apps, tmp_path):
    """class alone: one row per class, in JSON and formatted (the CLASS column of 18)."""
    pcap, flows = apps
    text, _ = print_run(PMACCTD, tmp_path / "j", pcap, "class", "json")
    got = {json.loads(x)["class"]: json.loads(x)["packets"] for x in text.splitlines() if x}
    want = defaultdict(int)
    for label, c, s, pkts in flows:
        tcp = pkts[0].haslayer("TCP")
        want[pm_class(label)] += len(pkts) - (3 if tcp else 0)
        want[UNK] += 3 if tcp else 0
    assert got == dict(want)
    text, _ = print_run(PMACCTD, tmp_path / "f", pcap, "class,proto", "formatted")
    lines = text.splitlines()
    assert lines[0].startswith("CLASS             PROTOCOL    ")
    assert any(x.startswith("Unknown/SSH       tcp ") for x in lines), text
    assert any(x.startswith("Unknown/BitTorrent  tcp ") for x in lines), text	# "%-16s  "


def test_pmacctd_snaplen_128(tmp_path):
    """Frames cut at 128 bytes: nDPI still sees their first payload bytes (the IP length is
    made the captured one), so all but QUIC (a whole 1200-byte Initial) are named."""
    pcap = tmp_path / "cut.pcap"
    flows = app_captures.write(pcap, snaplen=128)
    text, log = print_run(PMACCTD, tmp_path, pcap, "src_host,dst_host,class")
    got = per_connection(csv_rows(text))
    for label, c, s, pkts in flows:
        classes = set(got[frozenset((c, s))]) - {UNK}
        assert classes == (set() if label == "QUIC" else {pm_class(label)}), \
            (label, dict(got[frozenset((c, s))]))
    assert "snaplen 128 leaves nDPI little payload" in log


def test_pmacctd_max_flows(apps, tmp_path):
    """classifier_max_flows bounds the table: later connections stay unknown, counted."""
    pcap, flows = apps
    text, log = print_run(PMACCTD, tmp_path, pcap, "src_host,dst_host,class",
                          extra="classifier_max_flows: 2\n")
    got = per_connection(csv_rows(text))
    named = [f for f in flows if set(got[frozenset((f[1], f[2]))]) - {UNK}]
    assert [f[0] for f in named] == [f[0] for f in flows[:2]]
    assert sum(sum(v.values()) for v in got.values()) == sum(len(f[3]) for f in flows)
    assert "classifier_max_flows (2) reached" in log


def test_pmacctd_memory_client(apps, tmp_path):
    """The memory table keeps class; the client prints and matches it (-c class -M)."""
    pcap, flows = apps
    sock = tmp_path / "imt.pipe"
    log = tmp_path / "log"
    proc = spawn_daemon(PMACCTD, tmp_path / "c.conf",
                        f"plugins: memory[m]\naggregate[m]: class\nimt_path[m]: {sock}\n"
                        f"pcap_savefile: {pcap}\npcap_savefile_wait: true\n", log, ENV)
    try:
        assert wait_for(lambda: sock.exists(), 10), log.read_text()
        want = {pm_class(f[0]) for f in flows} | {UNK}
        got = {}
        for _ in range(100):
            r = subprocess.run([str(PMACCT), "-p", str(sock), "-s", "-O", "json"],
                               capture_output=True, text=True, timeout=10)
            rows = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
            got = {x["class"]: x["packets"] for x in rows}
            nbytes = {x["class"]: x["bytes"] for x in rows}
            if set(got) == want and sum(got.values()) == sum(len(f[3]) for f in flows):
                break
            time.sleep(0.1)
        assert set(got) == want, r.stdout + r.stderr
        r = subprocess.run([str(PMACCT), "-p", str(sock), "-c", "class", "-M", "Unknown/SSH"],
                           capture_output=True, text=True, timeout=10)
        lines = r.stdout.splitlines()
        assert lines[0].split()[0] == "CLASS" and lines[1].split()[0] == "Unknown/SSH", r.stdout
        r = subprocess.run([str(PMACCT), "-p", str(sock), "-c", "class", "-N", UNK],
                           capture_output=True, text=True, timeout=10)
        assert r.stdout.split() == [str(nbytes[UNK])], r.stdout + r.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


@pytest.mark.parametrize("key,value", [("classifier_giveup_proto_udp", "eight"),
                                       ("classifier_max_flows", "0")])
def test_bad_classifier_key(tmp_path, key, value):
    conf = tmp_path / "c.conf"
    conf.write_text(f"plugins: print\naggregate: class\n{key}: {value}\n")
    r = subprocess.run([str(PMACCTD), "-f", str(conf), "-T", "config"], env=ENV,
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert f"[{conf}:3]" in r.stderr + r.stdout and key in r.stderr + r.stdout


# ---- nfacctd: applicationId and options names ----------------------------------------

BASE = [(8, 4), (12, 4), (4, 1), (7, 2), (11, 2), (1, 4), (2, 4)]
APPS = [(0x0d000050, "http"), (0x0d0001bb, "https"), (0x03000035, "dns"), (0x0d00dead, None),
        (0x0d000016, "a-name-longer-than-thirty-one-bytes")]


def nf_export(v9, names=True, idlen=4):
    """Data records with IE 95 (one per application, source 10.0.0.<n>) after an options
    record naming all but one of them (IE 95 scope, IE 96 of 40 bytes)."""
    fields = BASE + [(95, idlen)]
    data = b"".join(rx.record(fields, {8: f"10.0.0.{i + 1}", 12: "10.9.9.9", 4: 6, 7: 1000 + i,
                                       11: 80, 1: 100 * (i + 1), 2: i + 1,
                                       95: aid.to_bytes(4, "big")[-idlen:]})
                    for i, (aid, _) in enumerate(APPS))
    opt = b"".join(rx.record([(95, idlen), (96, 40)], {95: aid.to_bytes(4, "big")[-idlen:], 96: n})
                   for aid, n in APPS if n)
    if v9:
        sets = ([rx.set_(1, rx.v9_otpl(300, [(95, idlen)], [(96, 40)])), rx.set_(300, opt)]
                if names else [])
        sets += [rx.set_(0, rx.v9_tpl(256, fields)), rx.set_(256, data)]
        return [("10.255.0.9", rx.v9(sets, 1, 7, 100000))]
    sets = ([rx.set_(3, rx.ipfix_otpl(300, [(95, idlen)], [(96, 40)])), rx.set_(300, opt)]
            if names else [])
    sets += [rx.set_(2, rx.ipfix_tpl(256, fields)), rx.set_(256, data)]
    return [("10.255.0.9", rx.ipfix(sets, 1, 7))]


def nf_print(binary, tmp, dgs, agg, fmt):
    """binary reads the datagrams (-I), once; its print output."""
    tmp.mkdir(parents=True, exist_ok=True)
    rx.write_pcap(tmp / "in.pcap", dgs)
    out = tmp / f"out.{fmt}"
    (tmp / "c.conf").write_text(f"plugins: print[p]\naggregate[p]: {agg}\nprint_output[p]: {fmt}\n"
                                f"print_output_file[p]: {out}\n")
    r = subprocess.run([str(binary), "-f", str(tmp / "c.conf"), "-I", str(tmp / "in.pcap")],
                       env=ENV, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return out.read_text() if out.exists() else ""


def ref_print(binary, tmp, dgs, agg, fmt, ours):
    """nf_print() with a reference, in tmp/try<n>, again (conftest.retry_reference) while its
    output differs from ours (a reference may start its plugin late)."""
    return retry_reference(lambda i: nf_print(binary, tmp / f"try{i}", dgs, agg, fmt),
                           lambda ref: canon(ref, fmt) == canon(ours, fmt), what=str(binary))


def canon(text, fmt):
    if fmt == "json":
        return sorted(json.dumps({k: v for k, v in json.loads(x).items() if k != "event_type"},
                                 sort_keys=True) for x in text.splitlines() if x.strip())
    lines = text.splitlines()
    return lines[:1] + sorted(lines[1:])


@needs_master
@pytest.mark.parametrize("v9", [False, True])
@pytest.mark.parametrize("fmt", ["json", "csv", "formatted"])
def test_nfacctd_names_like_master(tmp_path, v9, fmt):
    dgs = nf_export(v9)
    ours = nf_print(NFACCTD, tmp_path / "ours", dgs, "src_host,class", fmt)
    ref = ref_print(MASTER_NFACCTD, tmp_path / "ref", dgs, "src_host,class", fmt, ours)
    assert ref, "master printed nothing"
    assert canon(ours, fmt) == canon(ref, fmt)
    if fmt == "json":	# and independently: the names the options gave
        got = {json.loads(x)["ip_src"]: json.loads(x)["class"] for x in ours.splitlines() if x}
        want = {f"10.0.0.{i + 1}": (n or "unknown")[:31] for i, (_, n) in enumerate(APPS)}
        assert got == want


@needs_master
@pytest.mark.parametrize("idlen", [2, 3])
def test_nfacctd_short_ids_like_master(tmp_path, idlen):
    dgs = nf_export(False, idlen=idlen)
    ours = nf_print(NFACCTD, tmp_path / "ours", dgs, "src_host,class", "json")
    ref = ref_print(MASTER_NFACCTD, tmp_path / "ref", dgs, "src_host,class", "json", ours)
    assert ref and canon(ours, "json") == canon(ref, "json")


@needs_ref
@pytest.mark.parametrize("fmt", ["json", "csv", "formatted"])
def test_nfacctd_without_names_like_177(tmp_path, fmt):
    """No options: every record "unknown", as 1.7.7 prints (it prints that with names too)."""
    dgs = nf_export(False, names=False)
    ours = nf_print(NFACCTD, tmp_path / "ours", dgs, "src_host,class,proto", fmt)
    ref = ref_print(REF_NFACCTD, tmp_path / "ref", dgs, "src_host,class,proto", fmt, ours)
    assert ref, "1.7.7 printed nothing"
    assert canon(ours, fmt) == canon(ref, fmt)


def memory_table(daemon, client, tmp, dgs, args):
    """The client's answer (args) from daemon's memory plugin after the datagrams, once."""
    tmp.mkdir(parents=True, exist_ok=True)
    sock, log, port = tmp / "imt.pipe", tmp / "log", free_port()
    proc = spawn_daemon(daemon, tmp / "c.conf",
                        f"nfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\nplugins: memory[m]\n"
                        f"aggregate[m]: src_host,class\nimt_path[m]: {sock}\n", log, ENV)
    try:
        assert wait_for(lambda: file_has(log, "waiting for NetFlow"), 10), log.read_text()
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _, d in dgs:
            s.sendto(d, ("127.0.0.1", port))
        out = ""
        for _ in range(100):
            r = subprocess.run([str(client), "-p", str(sock)] + args, capture_output=True,
                               text=True, timeout=10)
            out = r.stdout
            if len([x for x in out.splitlines() if "10.0.0." in x]) == len(APPS):
                break
            time.sleep(0.1)
        return out
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


@needs_ref
@pytest.mark.parametrize("args", [["-s"], ["-s", "-O", "csv"], ["-s", "-O", "json"]])
def test_nfacctd_memory_client_like_177(tmp_path, args):
    dgs = nf_export(False, names=False)
    ours = memory_table(NFACCTD, PMACCT, tmp_path / "ours", dgs, args)
    fmt = "json" if "json" in args else "text"
    # 1.7.7 drops what comes before its plugin is up: its daemon again while it differs from ours
    ref = retry_reference(lambda i: memory_table(REF_NFACCTD, REF_PMACCT, tmp_path / f"ref{i}",
                                                 dgs, args),
                          lambda ref: canon(ref, fmt) == canon(ours, fmt))
    if fmt == "json":
        assert canon(ours, "json") == canon(ref, "json")
    else:
        assert canon(ours, fmt) == canon(ref, fmt)
    assert "unknown" in ours


@needs_master
@pytest.mark.parametrize("args", [["-s"], ["-s", "-O", "json"]])
def test_nfacctd_memory_client_like_master(tmp_path, args):
    """Names in the memory table and the client's columns, as master's nfacctd and client."""
    if not os.access(MASTER_PMACCT, os.X_OK):
        skip_or_fail(f"no pmacct master client at {MASTER_PMACCT}")
    dgs = nf_export(False)
    ours = memory_table(NFACCTD, PMACCT, tmp_path / "ours", dgs, args)
    fmt = "json" if "json" in args else "text"
    ref = retry_reference(lambda i: memory_table(MASTER_NFACCTD, MASTER_PMACCT,
                                                 tmp_path / f"ref{i}", dgs, args),
                          lambda ref: canon(ref, fmt) == canon(ours, fmt))
    assert canon(ours, fmt) == canon(ref, fmt)
    assert "https" in ours


# ---- sfacctd ----------------------------------------------------------------------------


@needs(os.access(sf.REF_SFACCTD, os.X_OK), "no reference sfacctd")
def test_sfacctd_class_like_177(tmp_path):
    pcap = tmp_path / "sf.pcap"
    sf.write_pcap(pcap, sf.crafted_datagrams())
    ours, r = sf.run_file(SFACCTD, tmp_path / "ours", "src_host,dst_host,class", pcap)
    ref, _ = sf.run_file(sf.REF_SFACCTD, tmp_path / "ref", "src_host,dst_host,class", pcap,
                         good=lambda ref: ref == ours)
    if not ref:
        skip_or_fail("reference sfacctd printed nothing")
    assert ours == ref
    # 1.7.7 drops class from the aggregate (it says so): no column, the rest as without it
    assert all("class" not in json.loads(k) for k in ours)
    assert "class: sfacctd does not classify" in r.stdout + r.stderr
