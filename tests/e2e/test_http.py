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

from conftest import DAEMON_ENV, PMACCTD, needs_ours

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="chromium not installed (apt-get install chromium)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def chromium(url, out, what, budget_ms=5000):
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", f"--user-data-dir={out.parent / 'chromium-profile'}",
            f"--virtual-time-budget={budget_ms}", "--window-size=1200,1000"]
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
