# SPDX-License-Identifier: BSD-3-Clause
"""The http plugin end to end: pmacctd on a generated capture, its JSON API
checked against the generator's own tallies, /metrics read by the
Prometheus text-format parser (python3-prometheus-client), the token rules,
and the dashboard loaded in a real headless Chromium (screenshots kept in
the pytest tmp dir, their paths printed)."""

import collections
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import DAEMON_ENV, PMACCTD, file_has, needs, needs_ours, wait_for
from conftest import free_tcp_port as free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = needs(CHROMIUM is not None, "chromium not installed (apt-get install chromium)")



class Daemon:
    """pmacctd with an http plugin on a capture file, kept up with pcap_savefile_wait."""

    def __init__(self, workdir, pcap, extra="", more_plugins=""):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        conf = workdir / "http.conf"
        conf.write_text(
            f"plugins: http[web], memory[mem]{more_plugins}\n"
            "aggregate[web]: src_host, dst_host, proto, dst_port\n"
            "aggregate[mem]: src_host\n"
            f"imt_path[mem]: {workdir}/mem.pipe\n"
            f"pcap_savefile: {pcap}\n"
            "pcap_savefile_wait: true\n"
            f"http_listen[web]: 127.0.0.1:{self.port}\n" + extra)
        self.log = open(workdir / "pmacctd.log", "w+")
        self.proc = subprocess.Popen([str(PMACCTD), "-f", str(conf)], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=DAEMON_ENV)
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.log.seek(0)
        text = self.log.read()
        self.stop()
        if "Unknown plugin type: http" in text or "plugin type 'http'" in text:
            pytest.skip("pmacctd built without libmicrohttpd (meson -Dhttp=enabled)")
        pytest.fail("the http plugin did not start:\n" + text)

    def get(self, path, token=None, method="GET"):
        req = urllib.request.Request(self.base + path, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def json(self, path, token=None):
        status, body = self.get(path, token)
        assert status == 200, (path, status, body)
        return json.loads(body)

    def wait_packets(self, want, timeout=30, token=None):
        deadline = time.time() + timeout
        st = None
        while time.time() < deadline:
            st = self.json("/api/status", token)
            if st["totals"]["packets"] >= want:
                return st
            time.sleep(0.2)
        pytest.fail(f"only {st and st['totals']['packets']} of {want} packets accounted")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def capture(pcapgen):
    return pcapgen(20000, 300, seed=11)


def ip(text):
    return str(ipaddress.ip_address(text))


def tallies_by(tallies, field):
    out = collections.defaultdict(lambda: [0, 0])
    for f in tallies["flows"]:
        out[ip(f[field])][0] += f["packets"]
        out[ip(f[field])][1] += f["bytes"]
    return out


@needs_ours
def test_api_against_tallies(tmp_path, capture):
    pcap, t = capture
    d = Daemon(tmp_path, pcap)
    try:
        st = d.wait_packets(t["packets"])
        assert st["totals"]["packets"] == t["packets"]
        assert st["totals"]["bytes"] == t["bytes"]
        assert {p["name"] for p in st["plugins"]} == {"web", "mem"}

        # top-N over one primitive of the aggregate: every source's sum from the tallies
        by_src = tallies_by(t, "src")
        top = d.json("/api/top?group=src_host&by=bytes&n=1000")
        assert top["total"]["bytes"] == t["bytes"]
        got = {ip(r["ip_src"]): [r["packets"], r["bytes"]] for r in top["rows"]}
        assert got == dict(by_src)
        want_order = sorted(by_src.values(), key=lambda v: -v[1])
        assert [v[1] for v in got.values()] == [v[1] for v in want_order]
        top5p = d.json("/api/top?group=src_host&by=packets&n=5")["rows"]
        assert [r["packets"] for r in top5p] == sorted((v[0] for v in by_src.values()),
                                                       reverse=True)[:5]

        # protocol totals, another group
        protos = d.json("/api/top?group=proto&n=50")["rows"]
        assert sum(r["bytes"] for r in protos) == t["bytes"]
        assert {r["ip_proto"]: r["packets"] for r in protos} == {
            v["name"]: v["packets"] for v in t["by_proto"].values()}

        # match: the busiest source's rows add up to its tally
        busiest = max(by_src, key=lambda k: by_src[k][1])
        tab = d.json(f"/api/table?src_host={busiest}&limit=100000")
        assert not tab["truncated"]
        assert sum(r["bytes"] for r in tab["rows"]) == by_src[busiest][1]
        assert all(ip(r["ip_src"]) == busiest for r in tab["rows"])

        # the whole table against the distinct keys of the generator
        keys = {(ip(f["src"]), ip(f["dst"]), f["dport"] if f["proto"] in (6, 17) else 0)
                for f in t["flows"]}
        whole = d.json("/api/table?limit=1000000")
        assert sum(r["packets"] for r in whole["rows"]) == t["packets"]
        assert len(whole["rows"]) <= len(keys) + len(t["flows"])

        # the time series holds the same totals
        series = d.json("/api/series")
        assert series["columns"][:3] == ["t", "packets", "bytes"]
        assert sum(p[2] for p in series["points"]) == t["bytes"]
        assert sum(p[1] for p in series["points"]) == t["packets"]

        assert d.json("/api/health")["status"] == "ok"
        status, body = d.get("/api/table?dst_mac=00:00:00:00:00:01")
        assert status == 400, body
        status, _ = d.get("/api/erase", method="POST")
        assert status == 403            # no token configured: no writes
    finally:
        d.stop()


@needs_ours
def test_metrics_parse(tmp_path, capture):
    from prometheus_client.parser import text_string_to_metric_families
    pcap, t = capture
    d = Daemon(tmp_path, pcap)
    try:
        d.wait_packets(t["packets"])
        status, text = d.get("/metrics")
        assert status == 200
        fams = {f.name: f for f in text_string_to_metric_families(text)}
        def sample(name, **labels):
            for fam in fams.values():
                for s in fam.samples:
                    if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                        return s.value
            raise AssertionError(f"{name} {labels} missing from /metrics:\n{text}")
        assert sample("pmacct_traffic_bytes_total", plugin="web") == t["bytes"]
        assert sample("pmacct_traffic_packets_total", plugin="web") == t["packets"]
        assert sample("pmacct_plugin_records_total", plugin="web") == t["packets"]
        assert sample("pmacct_plugin_records_total", plugin="mem", type="memory") == t["packets"]
        assert sample("pmacct_plugin_dropped_records_total", plugin="web", reason="ring_full") == 0
        assert sample("pmacct_plugin_ring_slots", plugin="mem") >= 2
        assert sample("pmacct_info", daemon="pmacctd") == 1
        assert fams["pmacct_plugin_records"].type == "counter"
        assert fams["pmacct_plugin_ring_used_slots"].type == "gauge"
    finally:
        d.stop()


def test_flush_metrics_and_stats(tmp_path, capture):
    """A print plugin purging every second: /metrics counts its purges and their durations,
    and SIGUSR1 logs one stats line per plugin with ring fill and purge timings."""
    from prometheus_client.parser import text_string_to_metric_families
    pcap, t = capture
    out = tmp_path / "p.txt"
    d = Daemon(tmp_path, pcap, "aggregate[p]: proto\n"
               f"print_refresh_time[p]: 1\nprint_output_file[p]: {out}\n", more_plugins=", print[p]")
    try:
        d.wait_packets(t["packets"])
        deadline = time.time() + 20
        while time.time() < deadline and not out.exists():
            time.sleep(0.2)
        time.sleep(1.5)
        status, text = d.get("/metrics")
        assert status == 200
        samples = {(s.name, s.labels.get("plugin")): s.value
                   for f in text_string_to_metric_families(text) for s in f.samples}
        flushes = samples[("pmacct_plugin_flushes_total", "p")]
        assert flushes >= 1
        assert samples[("pmacct_plugin_flush_duration_seconds_count", "p")] >= flushes
        assert samples[("pmacct_plugin_flush_duration_seconds_sum", "p")] >= 0
        assert samples[("pmacct_plugin_backend_errors_total", "p")] == 0
        assert samples[("pmacct_plugin_flushes_total", "mem")] == 0
        d.proc.send_signal(signal.SIGUSR1)
        time.sleep(1)
    finally:
        d.stop()
    log = (tmp_path / "pmacctd.log").read_text()
    line = re.search(r"stats plugin \[p/print\] records=(\d+) .*ring_used=\d+/\d+ flushes=(\d+) "
                     r"flush_errors=0 flush_last_ms=[0-9.]+ flush_max_ms=[0-9.]+", log)
    assert line, log[-3000:]
    assert int(line.group(1)) == t["packets"] and int(line.group(2)) >= 1
    assert re.search(r"stats plugin \[mem/memory\] records=%d " % t["packets"], log)


@needs_ours
def test_token(tmp_path, capture):
    pcap, t = capture
    d = Daemon(tmp_path, pcap, "http_token[web]: s3cret-token\n")
    try:
        assert d.get("/api/status")[0] == 401
        assert d.get("/api/status", token="s3cret-tokeN")[0] == 401
        assert d.get("/metrics")[0] == 401
        assert d.get("/")[0] == 200                 # the page itself holds no data
        d.wait_packets(t["packets"], token="s3cret-token")
        assert d.get("/api/erase", method="POST")[0] == 401
        status, body = d.get("/api/erase", token="s3cret-token", method="POST")
        assert status == 200 and json.loads(body)["erased"] > 0
        assert d.json("/api/status", "s3cret-token")["entries"] == 0
        # bounded requests: a body is refused, headers beyond the pool are dropped
        req = urllib.request.Request(d.base + "/api/status", data=b"x" * 10, method="POST")
        req.add_header("Authorization", "Bearer s3cret-token")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 413
        req = urllib.request.Request(d.base + "/api/status")
        req.add_header("X-Big", "a" * 100000)
        with pytest.raises((urllib.error.HTTPError, urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(req, timeout=10)
    finally:
        d.stop()
    log = (tmp_path / "pmacctd.log").read_text()
    assert "s3cret-token" not in log


def chromium(url, out, what, budget_ms=5000, size="1200,1000"):
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", f"--user-data-dir={out.parent / 'chromium-profile'}",
            f"--virtual-time-budget={budget_ms}", f"--window-size={size}"]
    if what == "dom":
        r = subprocess.run(args + ["--dump-dom", url], capture_output=True, text=True,
                           timeout=120)
        return r.stdout
    subprocess.run(args + [f"--screenshot={out}", url], capture_output=True, timeout=120)
    assert out.exists() and out.stat().st_size > 10000, "no screenshot written"
    print(f"screenshot: {out}")
    return None


def dom_total(dom, what):
    m = re.search(rf'id="total-{what}" data-value="(\d+)"', dom)
    assert m, "total not rendered:\n" + dom[:2000]
    return int(m.group(1))


@needs_ours
@needs_chromium
def test_dashboard_in_chromium(tmp_path, capture):
    pcap, t = capture
    d = Daemon(tmp_path, pcap, "http_token[web]: dash-token\n")
    try:
        d.wait_packets(t["packets"], token="dash-token")
        url = d.base + "/#token=dash-token"
        dom = chromium(url, tmp_path / "dashboard.html", "dom")
        assert dom_total(dom, "bytes") == t["bytes"]
        assert dom_total(dom, "packets") == t["packets"]
        by_src = tallies_by(t, "src")
        want = sorted(by_src, key=lambda k: -by_src[k][1])[:3]
        rows = re.findall(r'<tr data-key="([^"]*)">', dom)
        assert [ip(r) for r in rows[:3]] == want, rows[:5]
        assert 'data-plugin="mem"' in dom and 'data-plugin="web"' in dom
        chromium(url, tmp_path / "dashboard.png", "png")
        # without the token the page says why instead of showing data
        dom = chromium(d.base + "/", tmp_path / "x", "dom")
        assert "HTTP 401" in dom
    finally:
        d.stop()


@needs_ours
@needs_chromium
def test_dashboard_updates_while_traffic_flows(tmp_path, pcapgen):
    pcap, t = pcapgen(5000, 50, seed=5)
    # the file is read 4 times, 2 seconds apart: the totals grow while the page is open
    d = Daemon(tmp_path, pcap, "pcap_savefile_replay: 4\npcap_savefile_delay: 2\n")
    try:
        seen = []
        deadline = time.time() + 40
        while time.time() < deadline and (not seen or seen[-1] < 4 * t["bytes"]):
            dom = chromium(d.base + "/", tmp_path / "dom", "dom", budget_ms=3500)
            seen.append(dom_total(dom, "bytes"))
        assert seen[-1] == 4 * t["bytes"], seen
        assert len(set(seen)) >= 2, f"the page never changed: {seen}"
        assert seen == sorted(seen)
        chromium(d.base + "/", tmp_path / "dashboard-after-replays.png", "png")
    finally:
        d.stop()


# ---- exporter and capture health (/api/exporters, /api/capture, /metrics) ------------------

import random  # noqa: E402

import test_collector_workers as tcw  # noqa: E402  the NetFlow / sFlow builders


class Collector:
    """nfacctd or sfacctd with an http plugin and two receive threads."""

    def __init__(self, binary, daemon, workdir, ready):
        if not os.access(binary, os.X_OK):
            pytest.skip(f"{daemon} not built at {binary}")
        self.port = tcw.free_port()
        self.hport = free_port()
        self.base = f"http://127.0.0.1:{self.hport}"
        conf = workdir / f"{daemon}.conf"
        conf.write_text(f"{daemon}_ip: 127.0.0.1\n{daemon}_port: {self.port}\n"
                        "collector_workers: 2\nplugins: http[web]\n"
                        "aggregate[web]: peer_src_ip, src_host\n"
                        f"http_listen[web]: 127.0.0.1:{self.hport}\n")
        self.logpath = workdir / f"{daemon}.log"
        self.log = open(self.logpath, "w+")
        self.proc = subprocess.Popen([str(binary), "-f", str(conf)], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=DAEMON_ENV)
        if not wait_for(lambda: file_has(self.logpath, ready), 15):
            text = self.logpath.read_text()
            self.stop()
            if "Unknown plugin type: http" in text or "plugin type 'http'" in text:
                pytest.skip("built without libmicrohttpd (meson -Dhttp=enabled)")
            pytest.fail(f"{daemon} did not start:\n{text}")

    get = Daemon.get
    json = Daemon.json
    stop = Daemon.stop

    def wait_exporters(self, datagrams, timeout=30):
        """/api/exporters once the receive threads have published every datagram sent."""
        deadline = time.time() + timeout
        ex = None
        while time.time() < deadline:
            ex = self.json("/api/exporters")
            if ex["datagrams"] == datagrams and ex["receivers"] == 2 and \
                    sum(e["packets"] for e in ex["exporters"]) + \
                    sum(e["dropped"] for e in ex["exporters"] if e["version"] == 0) == datagrams:
                return ex
            time.sleep(0.2)
        pytest.fail(f"/api/exporters never showed {datagrams} datagrams: {ex}")

    def send_all(self, sent):
        """Send sent ({exporter: [datagram]}); /api/exporters once all are counted."""
        send_datagrams(self.port, sent)
        return self.wait_exporters(sum(len(v) for v in sent.values()))


def exporters_by_key(ex):
    """/api/exporters' exporters as {(exporter, domain, version): exporter}."""
    return {(e["exporter"], e["domain"], e["version"]): e for e in ex["exporters"]}


def send_datagrams(port, sent):
    """sent: {exporter address: [datagram, ...]}, round robin, each exporter its own socket."""
    socks = {}
    for exp in sent:
        socks[exp] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        socks[exp].bind((exp, 0))
    for n in range(max(len(v) for v in sent.values())):
        for exp, dgrams in sent.items():
            if n < len(dgrams):
                socks[exp].sendto(dgrams[n], ("127.0.0.1", port))
        time.sleep(0.004)
    for s in socks.values():
        s.close()


def metric_samples(text):
    from prometheus_client.parser import text_string_to_metric_families
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(text)
            for s in f.samples]


def metric(samples, name, **labels):
    got = [v for n, lab, v in samples
           if n == name and all(lab.get(k) == str(v2) for k, v2 in labels.items())]
    assert len(got) == 1, (name, labels, got)
    return got[0]


def netflow_plan(seed, lost):
    """The builders' NetFlow traffic with datagram `lost[exporter]` not sent (a sequence
    gap), and malformed datagrams from two exporters.  Returns the datagrams to send and
    per (exporter, domain, version) what the collector must count."""
    plan, _ = tcw.nf_traffic(random.Random(seed))
    sent, want = {}, {}
    for i, exp in enumerate(tcw.SOURCES):
        dgrams = [d for n, d in enumerate(plan[exp]) if n != lost.get(exp)]
        sent[exp] = dgrams
        want[(exp, i, 9 if i % 2 == 0 else 10)] = {
            "packets": len(dgrams), "bytes": sum(len(d) for d in dgrams),
            "records": len(dgrams) * tcw.RECORDS, "templates": 1,
            "good": len(dgrams) - (exp in lost), "forward": int(exp in lost)}
    # malformed: one byte (short), a NetFlow v8 header (counted, not decoded), version 77
    bad = {tcw.SOURCES[2]: [b"\x09"] * 3 + [b"\x00\x08" + bytes(22)] * 2,
           tcw.SOURCES[3]: [b"\x00\x4d" + bytes(30)] * 4}
    drops = {tcw.SOURCES[2]: {"short": 3, "v8": 2}, tcw.SOURCES[3]: {"bad_version": 4}}
    for exp, extra in bad.items():
        sent[exp] = sent[exp] + extra
    return sent, want, drops


@needs_ours
def test_exporters_netflow(tmp_path):
    """Eight NetFlow v9 / IPFIX exporters over two receive threads: /api/exporters and the
    per-exporter /metrics series equal what was sent (datagrams, bytes, records, templates,
    sequence gaps, drops by reason)."""
    lost = {tcw.SOURCES[0]: 35, tcw.SOURCES[1]: 25}
    sent, want, drops = netflow_plan(21, lost)
    c = Collector(tcw.NFACCTD, "nfacctd", tmp_path, "waiting for NetFlow")
    try:
        ex = c.send_all(sent)
        assert ex["kind"] == "netflow" and ex["daemon"] == "nfacctd"
        assert ex["capture"] is None and not ex["truncated"]
        assert ex["exporters_known"] == len(want) + len(drops)
        got = exporters_by_key(ex)
        assert set(got) == set(want) | {(exp, 0, 0) for exp in drops}
        for key, w in want.items():
            e = got[key]
            assert (e["packets"], e["bytes"], e["records"], e["templates"]) == \
                (w["packets"], w["bytes"], w["records"], w["templates"]), (key, e)
            assert e["sequence"] == {"good": w["good"], "jumps_forward": w["forward"],
                                     "jumps_backward": 0}, (key, e)
            assert e["dropped"] == 0 and not e["silent"] and e["idle"] < 60
            assert e["first_seen"] <= e["last_seen"] <= ex["now"]
        for exp, reasons in drops.items():
            e = got[(exp, 0, 0)]
            assert e["packets"] == 0 and e["dropped"] == sum(reasons.values())
            assert {k: v for k, v in e["drops"].items() if v} == reasons
        # most datagrams first
        assert [e["packets"] for e in ex["exporters"]] == \
            sorted((e["packets"] for e in ex["exporters"]), reverse=True)
        assert len(c.json("/api/exporters?limit=3")["exporters"]) == 3
        assert c.get("/api/exporters?limit=x")[0] == 400

        status, text = c.get("/metrics")
        assert status == 200
        s = metric_samples(text)
        for (exp, dom, ver), w in want.items():
            lab = {"exporter": exp, "domain": dom, "version": ver}
            assert metric(s, "pmacct_exporter_packets_total", **lab) == w["packets"]
            assert metric(s, "pmacct_exporter_bytes_total", **lab) == w["bytes"]
            assert metric(s, "pmacct_exporter_records_total", **lab) == w["records"]
            assert metric(s, "pmacct_exporter_templates", **lab) == 1
            assert metric(s, "pmacct_exporter_sequence_good_total", **lab) == w["good"]
            assert metric(s, "pmacct_exporter_sequence_jumps_total", direction="forward",
                          **lab) == w["forward"]
        for exp, reasons in drops.items():
            for why, n in reasons.items():
                assert metric(s, "pmacct_exporter_dropped_total", exporter=exp, domain=0,
                              version=0, reason=why) == n
        assert metric(s, "pmacct_collector_datagrams_total") == sum(len(v) for v in sent.values())
        assert metric(s, "pmacct_exporters") == len(want) + len(drops)
    finally:
        c.stop()


def sflow_plan(seed, lost):
    plan, _ = tcw.sf_traffic(random.Random(seed))
    sent, want = {}, {}
    for i, exp in enumerate(tcw.SOURCES):
        dgrams = [d for n, d in enumerate(plan[exp]) if n != lost.get(exp)]
        sent[exp] = dgrams
        want[(f"192.0.2.{i + 1}", 0, 5)] = {
            "packets": len(dgrams), "bytes": sum(len(d) for d in dgrams),
            "records": len(dgrams) * tcw.RECORDS,
            "good": len(dgrams) - (exp in lost), "forward": int(exp in lost)}
    # sFlow version 3 does not exist: counted against the sender, sub-agent 0
    sent[tcw.SOURCES[0]] = sent[tcw.SOURCES[0]] + [tcw.u32(3, 1) + bytes(24)] * 2
    return sent, want, {(tcw.SOURCES[0], 0, 0): {"unsupported_version": 2}}


@needs_ours
def test_exporters_sflow(tmp_path):
    """Eight sFlow v5 agents over two receive threads: datagrams, flow samples, sequence
    gaps and a bad datagram per agent in /api/exporters and /metrics."""
    lost = {tcw.SOURCES[1]: 10}
    sent, want, drops = sflow_plan(22, lost)
    c = Collector(tcw.SFACCTD, "sfacctd", tmp_path, "waiting for sFlow")
    try:
        ex = c.send_all(sent)
        assert ex["kind"] == "sflow"
        got = exporters_by_key(ex)
        assert set(got) == set(want) | set(drops)
        for key, w in want.items():
            e = got[key]
            assert (e["packets"], e["bytes"], e["records"], e["dropped"]) == \
                (w["packets"], w["bytes"], w["records"], 0), (key, e)
            assert e["sequence"]["good"] == w["good"], (key, e)
            assert e["sequence"]["jumps_forward"] == w["forward"], (key, e)
        for key, reasons in drops.items():
            assert {k: v for k, v in got[key]["drops"].items() if v} == reasons
        s = metric_samples(c.get("/metrics")[1])
        for (exp, dom, ver), w in want.items():
            lab = {"exporter": exp, "domain": dom, "version": ver}
            assert metric(s, "pmacct_exporter_packets_total", **lab) == w["packets"]
            assert metric(s, "pmacct_exporter_records_total", **lab) == w["records"]
        assert metric(s, "pmacct_exporter_dropped_total", exporter=tcw.SOURCES[0], domain=0,
                      version=0, reason="unsupported_version") == 2
    finally:
        c.stop()


@needs_ours
@needs_chromium
def test_exporters_dashboard_in_chromium(tmp_path):
    """The dashboard's exporter table in a real headless Chromium: one row per exporter
    with the datagrams the collector counted (screenshot kept in the tmp dir)."""
    sent, want, drops = netflow_plan(23, {})
    # twelve datagrams per exporter, and the malformed ones (drops in the table)
    sent = {exp: v[:12] + [d for d in v[tcw.DATAGRAMS:] if len(d) < 40] for exp, v in sent.items()}
    c = Collector(tcw.NFACCTD, "nfacctd", tmp_path, "waiting for NetFlow")
    try:
        ex = c.send_all(sent)
        dom = chromium(c.base + "/", tmp_path / "exporters.html", "dom")
        rows = re.findall(r'<tr data-exporter="([^"]+)" data-domain="(\d+)" data-packets="(\d+)"'
                          r' data-records="(\d+)" data-dropped="(\d+)" data-silent="(\w+)"', dom)
        assert rows, dom[:3000]
        api = {(e["exporter"], str(e["domain"])): e for e in ex["exporters"]}
        assert {(r[0], r[1]) for r in rows} == set(api)
        for exp, domain, packets, records, dropped, silent in rows:
            e = api[(exp, domain)]
            assert (int(packets), int(records), int(dropped)) == \
                (e["packets"], e["records"], e["dropped"])
            assert silent == "false"
        assert 'id="exporters-sec" class="wide"' in dom or 'class="wide" id="exporters-sec"' in dom
        chromium(c.base + "/", tmp_path / "exporters.png", "png", size="1200,1500")
    finally:
        c.stop()


@needs_ours
def test_capture_counters(tmp_path, crafted):
    """pmacctd on the crafted capture read twice: /api/capture and /metrics count every
    frame (scapy's count), the decoded ones and the one ARP frame by reason."""
    from scapy.all import IP, IPv6, rdpcap
    frames = rdpcap(str(crafted["eth"]))
    non_ip = sum(1 for p in frames if not (p.haslayer(IP) or p.haslayer(IPv6)))
    d = Daemon(tmp_path, crafted["eth"], "pcap_savefile_replay: 2\n")
    try:
        deadline = time.time() + 30
        cap = None
        while time.time() < deadline:
            cap = d.json("/api/capture")["capture"]
            if cap and cap["received"] == 2 * len(frames):
                break
            time.sleep(0.2)
        assert cap and cap["received"] == 2 * len(frames), cap
        assert cap["live"] is False and cap["pcap"] is None and cap["filtered"] == 0
        assert cap["drops"]["not_ip"] == 2 * non_ip
        assert cap["decoded"] == 2 * (len(frames) - non_ip)
        assert cap["decoded"] + cap["dropped"] == cap["received"]
        ex = d.json("/api/exporters")
        assert ex["kind"] == "capture" and ex["exporters"] == [] and ex["capture"] == cap
        s = metric_samples(d.get("/metrics")[1])
        src = str(crafted["eth"])
        assert metric(s, "pmacct_capture_packets_received_total", interface=src) == 2 * len(frames)
        assert metric(s, "pmacct_capture_packets_dropped_total", interface=src,
                      where="kernel") == 0
        assert metric(s, "pmacct_capture_packets_decoded_total", interface=src) == cap["decoded"]
        assert metric(s, "pmacct_capture_packets_undecoded_total", interface=src,
                      reason="not_ip") == 2 * non_ip
        if CHROMIUM:            # the dashboard's capture row (screenshot kept in the tmp dir)
            dom = chromium(d.base + "/", tmp_path / "capture.html", "dom")
            assert f'<tr data-received="{2 * len(frames)}">' in dom, dom[:3000]
            chromium(d.base + "/", tmp_path / "capture.png", "png", size="1200,1400")
    finally:
        d.stop()
