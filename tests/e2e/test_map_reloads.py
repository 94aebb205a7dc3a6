# SPDX-License-Identifier: BSD-3-Clause
"""Map reloads on a live collector (loopback): pre_tag_map, flow_to_rd_map and sampling_map
are reloaded on SIGUSR2 (maps_refresh) as pmacct does.  Every record is tagged by the maps in
force when its datagram arrives: round 1 (accounted before the reload) keeps the old tag,
label, RD and sampling rate, round 2 (sent after it) carries the new ones; a map that no longer
loads keeps the previous one.  Checked on our nfacctd (one and two receive threads), our
sfacctd, and Debian's pmacct 1.7.7 nfacctd as the reference."""
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

import test_nfacctd as nf
import test_sfacctd as sf
from conftest import file_has, free_port, wait_for

NFACCTD = nf.NFACCTD
REF_NFACCTD = nf.REF_NFACCTD
SFACCTD = sf.SFACCTD
ENV = nf.ENV

OLD = {"pretag": "set_tag=1 ip=127.0.0.1 jeq=lab\nset_label=old ip=127.0.0.1 label=lab\n",
       "rd": "id=0:65000:1 ip=127.0.0.1\n", "samp": "id=10 ip=127.0.0.1\n"}
NEW = {"pretag": "set_tag=2 ip=127.0.0.1 jeq=lab\nset_label=new ip=127.0.0.1 label=lab\n",
       "rd": "id=0:65000:2 ip=127.0.0.1\n", "samp": "id=20 ip=127.0.0.1\n"}
# the values each round's records must carry (computed from the maps above)
WANT_OLD = {"tag": 1, "label": "old", "mpls_vpn_rd": "0:65000:1", "sampling_rate": 10}
WANT_NEW = {"tag": 2, "label": "new", "mpls_vpn_rd": "0:65000:2", "sampling_rate": 20}



WARM_UP = "10.9.0.1"


def write_maps(tmp, maps):
    for name, text in maps.items():
        (tmp / f"{name}.map").write_text(text)


class Collector:
    """A collector on loopback with print to an appended JSON file, refreshed every second."""

    def __init__(self, binary, tmp, extra="", sflow=False):
        self.tmp, self.port, self.sflow = tmp, free_port(), sflow
        self.out, self.log = tmp / "out.json", tmp / "log"
        d = "sfacctd" if sflow else "nfacctd"
        agg = "src_host, tag, label, sampling_rate" + ("" if sflow else ", mpls_vpn_rd")
        rd = "" if sflow else f"flow_to_rd_map: {tmp}/rd.map\n"
        conf = tmp / "c.conf"
        conf.write_text(f"{d}_ip: 127.0.0.1\n{d}_port: {self.port}\nlogfile: {self.log}\n"
                        f"pre_tag_map: {tmp}/pretag.map\nsampling_map: {tmp}/samp.map\n{rd}"
                        f"plugins: print[p]\naggregate[p]: {agg}\nprint_output[p]: json\n"
                        f"print_output_file[p]: {self.out}\nprint_output_file_append[p]: true\n"
                        f"print_refresh_time[p]: 1\n{extra}")
        self.proc = subprocess.Popen([str(binary), "-f", str(conf)], env=ENV,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # several source ports: SO_REUSEPORT spreads them over the receive threads
        self.tx = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(8)]
        assert (wait_for(lambda: file_has(self.log, "waiting for"), 15)
                or wait_for(lambda: file_has(self.log, "INFO"), 5))
        time.sleep(0.5)
        # one record of a source no round uses, until it is accounted: on a loaded machine
        # 1.7.7's plugin can come up after the first datagrams and drop them (seen in CI)
        for _ in range(5):
            self.send([WARM_UP])
            if self.wait_rows([WARM_UP], timeout=4):
                break

    def send(self, srcs):
        for i, s in enumerate(srcs):
            if self.sflow:
                smp = sf.flow_sample(i + 1, 3, 1, 1, 3, 4, [sf.raw_header(sf.frame(src=s))])
                dg = sf.datagram("127.0.0.1", i + 1, [smp])
            else:
                dg = nf.v5([dict(src=s)], seq=i + 1)
            self.tx[i % len(self.tx)].sendto(dg, ("127.0.0.1", self.port))

    def rows(self):
        text = self.out.read_text() if self.out.exists() else ""
        return [json.loads(x) for x in text.splitlines() if x.strip().startswith("{")]

    def wait_rows(self, srcs, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            if set(srcs) <= {r.get("ip_src") for r in self.rows()}:
                return True
            time.sleep(0.1)
        return False

    def reloads(self):
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text.count("pretag.map] map successfully (re)loaded")

    def reload(self, threads=1):
        before = self.reloads()
        self.proc.send_signal(signal.SIGUSR2)
        end = time.time() + 10
        while time.time() < end and self.reloads() < before + threads:
            time.sleep(0.05)
        time.sleep(0.2)

    def stop(self):
        for s in self.tx:
            s.close()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:	# 1.7.7 may hang on exit; the output is written
            self.proc.kill()
            self.proc.wait(timeout=10)


def check(rows, srcs, want, sflow, first_unlabelled=False):
    got = {}
    for r in rows:
        if first_unlabelled and r.get("ip_src") == srcs[0]:
            # 1.7.7 accounts the very first record of a run unlabelled (its bug, not ours)
            r = dict(r, label=want["label"]) if r["label"] == "" else r
        if r.get("ip_src") in srcs:
            got.setdefault(r["ip_src"], set()).add(
                tuple(r[k] for k in sorted(want) if not (sflow and k == "mpls_vpn_rd")))
    exp = tuple(want[k] for k in sorted(want) if not (sflow and k == "mpls_vpn_rd"))
    assert got == {s: {exp} for s in srcs}


def run_rounds(binary, tmp, workers=1, sflow=False, bad_round=True, ref=False):
    write_maps(tmp, OLD)
    extra = f"collector_workers: {workers}\n" if workers > 1 else ""
    c = Collector(binary, tmp, extra, sflow)
    r1 = [f"10.9.1.{i}" for i in range(1, 17)]
    r2 = [f"10.9.2.{i}" for i in range(1, 17)]
    r3 = [f"10.9.3.{i}" for i in range(1, 17)]
    try:
        c.send(r1)
        assert c.wait_rows(r1), "round 1 not accounted"
        write_maps(tmp, NEW)
        c.reload(workers)
        c.send(r2)
        assert c.wait_rows(r2), "round 2 not accounted"
        if bad_round:
            # maps that no longer load: the previous ones stay in force
            (tmp / "pretag.map").unlink()
            (tmp / "samp.map").unlink()
            if not sflow:
                (tmp / "rd.map").write_text("id=0:65000:2 ip=127.0.0.1\nid=bogus ip=127.0.0.1\n")
            c.proc.send_signal(signal.SIGUSR2)
            time.sleep(1.5)
            c.send(r3)
            assert c.wait_rows(r3), "round 3 not accounted"
    finally:
        c.stop()
    rows = c.rows()
    check(rows, r1, WANT_OLD, sflow, first_unlabelled=ref)
    if ref:
        # 1.7.7 reloads after reading the next datagram: the first one sent after SIGUSR2 is
        # tagged by the stale maps (docs/differences.md); ours never does this
        check(rows, r2[:1], WANT_OLD, sflow)
        # (the second is half-reloaded: new RD and rate, old tag, no label; not checked)
        check(rows, r2[2:], WANT_NEW, sflow)
    else:
        check(rows, r2, WANT_NEW, sflow)
    if bad_round:
        check(rows, r3, WANT_NEW, sflow)
    return c.log.read_text(errors="replace")


needs_ours = nf.needs_ours


@needs_ours
@pytest.mark.parametrize("workers", [1, 2])
def test_nfacctd_reload_rounds(tmp_path, workers):
    log = run_rounds(NFACCTD, tmp_path, workers)
    # the failed loads are logged with their file (and line for the bad rd.map row)
    assert f"{tmp_path}/pretag.map" in log and "Rolling back" in log
    assert f"{tmp_path}/rd.map:2]" in log


@pytest.mark.skipif(not os.access(SFACCTD, os.X_OK), reason="our sfacctd not built")
def test_sfacctd_reload_rounds(tmp_path):
    run_rounds(SFACCTD, tmp_path, sflow=True)


@nf.needs_ref
def test_reference_177_reload_rounds(tmp_path):
    """The same two rounds on pmacct 1.7.7: the behaviour the test above holds ours to."""
    run_rounds(REF_NFACCTD, tmp_path, bad_round=False, ref=True)


@pytest.mark.parametrize("binary", [pytest.param(NFACCTD, marks=needs_ours),
                                    pytest.param(REF_NFACCTD, marks=nf.needs_ref)])
def test_no_reload_without_signal_or_with_maps_refresh_false(tmp_path, binary):
    """A map rewritten (mtime changed) without SIGUSR2 is not reloaded, and with
    maps_refresh: false SIGUSR2 is ignored: round 2 keeps the old values, as pmacct 1.7.7."""
    write_maps(tmp_path, OLD)
    c = Collector(binary, tmp_path, "maps_refresh: false\n")
    r1 = [f"10.9.1.{i}" for i in range(1, 5)]
    r2 = [f"10.9.2.{i}" for i in range(1, 5)]
    try:
        c.send(r1)
        assert c.wait_rows(r1)
        write_maps(tmp_path, NEW)
        later = time.time() + 5
        for name in NEW:
            os.utime(tmp_path / f"{name}.map", (later, later))
        time.sleep(1.5)
        c.proc.send_signal(signal.SIGUSR2)
        time.sleep(1.5)
        c.send(r2)
        assert c.wait_rows(r2)
    finally:
        c.stop()
    check(c.rows(), r1 + r2, WANT_OLD, False, first_unlabelled=binary == REF_NFACCTD)
