# SPDX-License-Identifier: BSD-3-Clause
"""Stitching ([nf|sf|pm]acctd_stitching: timestamp_min / timestamp_max per
aggregate) and nfacctd_pro_rating (a flow's counters split across the
time-bins it spans), end to end.  NetFlow v5/v9 and IPFIX datagrams are
crafted here (tests/e2e/test_nfacctd.py's builders), written into a capture
and replayed with pcap_savefile by our nfacctd and by Debian's nfacctd 1.7.7;
outputs must hold the same rows (stamp_updated, the wall clock, left out).
Where 1.7.7 is wrong (docs/differences.md) the expected values are computed
here from the crafted records instead.

Environment: NFACCTD, PMACCTD (ours, default <repo>/build/...),
REF_NFACCTD (default /usr/sbin/nfacctd).
"""

import json
import os
import random
import sqlite3
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import retry_reference
from test_nfacctd import (EXPORT_SECS, NFACCTD, REF_NFACCTD, UPTIME, ipfix, needs_ours, needs_ref,
                          pack_rec, set_, tpl_record, v5, v9, write_pcap)

REPO = Path(__file__).resolve().parents[2]
PMACCTD = Path(os.environ.get("PMACCTD", REPO / "build" / "pmacctd"))
ENV = dict(os.environ, TZ="UTC", LC_ALL="C")

MS = EXPORT_SECS * 1000          # IPFIX flowStart/EndMilliseconds base
IPFIX_F = [8, 12, 1, 2, 152, 153]   # src, dst, octets, packets, start ms, end ms


def ipfix_flows(flows, tid=257):
    """IPFIX with absolute millisecond times: flows = [(src, bytes, pkts, start_ms, end_ms)]."""
    body = b"".join(pack_rec(IPFIX_F, [s, "10.0.0.2", o, p, MS + a, MS + b])
                    for s, o, p, a, b in flows)
    return ipfix([set_(2, tpl_record(tid, IPFIX_F)), set_(tid, body)])


def ts_text(ms):
    """pmacct's default timestamp text of an absolute time in ms (UTC)."""
    import datetime
    sec, rest = divmod(ms, 1000)
    d = datetime.datetime.fromtimestamp(sec, datetime.timezone.utc)
    return d.strftime("%Y-%m-%d %H:%M:%S") + ".%06d" % (rest * 1000)


def run_nf(binary, tmp, datagrams, aggregate, fmt="json", extra="", plugin="print"):
    tmp.mkdir(parents=True, exist_ok=True)
    pcap = tmp / "in.pcap"
    write_pcap(pcap, datagrams)
    out = tmp / f"out.{fmt}"
    conf = tmp / "nf.conf"
    if plugin == "print":
        body = (f"plugins: print[p]\naggregate[p]: {aggregate}\nprint_output[p]: {fmt}\n"
                f"print_output_file[p]: {out}\n")
    else:
        body = (f"plugins: sqlite3[p]\naggregate[p]: {aggregate}\nsql_db[p]: {out}\n"
                f"sql_table[p]: acct\nsql_optimize_clauses[p]: true\n"
                f"sql_refresh_time[p]: 3600\n")
    conf.write_text(f"{body}pcap_savefile: {pcap}\n{extra}")
    run = subprocess.run([str(binary), "-f", str(conf)], env=ENV, capture_output=True, text=True,
                         timeout=60)
    return out, run


def rows(path, fmt):
    text = path.read_text() if path.exists() else ""
    if fmt == "json":
        res = [json.loads(line) for line in text.splitlines() if line.strip()]
        for r in res:
            r.pop("stamp_updated", None)
        return sorted(json.dumps(r, sort_keys=True) for r in res)
    lines = text.splitlines()
    return lines[:1] + sorted(lines[1:])


def same_as_reference(tmp, datagrams, aggregate, fmt="json", extra=""):
    ours, orun = run_nf(NFACCTD, tmp / "ours", datagrams, aggregate, fmt, extra)
    # 1.7.7 again (conftest.retry_reference) while its rows are not ours
    ref, rrun = retry_reference(
        lambda i: run_nf(REF_NFACCTD, tmp / f"ref{i}", datagrams, aggregate, fmt, extra),
        lambda r: rows(r[0], fmt) == rows(ours, fmt), what="nfacctd 1.7.7")
    assert rows(ref, fmt), "reference printed nothing:\n" + rrun.stderr + rrun.stdout
    assert rows(ours, fmt) == rows(ref, fmt), orun.stderr + orun.stdout
    return rows(ours, fmt)


# ---- stitching ---------------------------------------------------------------

def stitch_case():
    """Records whose min/max 1.7.7 also gets right (see docs/differences.md):
    a later record widens [min, max] with both seconds and microseconds moving."""
    dg = [("127.0.0.2", ipfix_flows([("10.0.3.1", 100, 1, 20500, 30500),
                                     ("10.0.3.2", 700, 7, 1000, 2000)])),
          ("127.0.0.2", ipfix_flows([("10.0.3.1", 200, 2, 10200, 40700),
                                     ("10.0.3.3", 50, 1, 5123, 5123)]))]
    # v9 with sysUptime-relative times (IEs 22/21), whole-second offsets
    f9 = [8, 12, 1, 2, 22, 21]
    recs = b"".join(pack_rec(f9, [f"10.0.2.{i}", "10.0.0.2", 100, 1, UPTIME - d - 2000, UPTIME - d])
                    for i, d in enumerate((0, 1000, 7000)))
    dg.append(("127.0.0.1", v9([set_(0, tpl_record(256, f9)), set_(256, recs)])))
    # v5: the first record of an aggregate holds its extremes, offsets in whole seconds
    dg.append(("127.0.0.3", v5([dict(src="10.0.5.1", first=50000, last=99000),
                                dict(src="10.0.5.1", first=60000, last=70000)], nsecs=0)))
    return dg


@needs_ours
@needs_ref
@pytest.mark.parametrize("fmt", ["json", "csv", "formatted"])
def test_stitching_print_matches_reference(tmp_path, fmt):
    got = same_as_reference(tmp_path, stitch_case(), "src_host,dst_host,timestamp_start", fmt,
                            "nfacctd_stitching: true\n")
    if fmt == "json":
        by = {json.loads(r)["ip_src"]: json.loads(r) for r in got}
        # independently: the earliest start and the latest end of the crafted records
        assert by["10.0.3.1"]["timestamp_min"] == ts_text(MS + 10200)
        assert by["10.0.3.1"]["timestamp_max"] == ts_text(MS + 40700)
        assert by["10.0.5.1"]["timestamp_min"] == ts_text(MS - 50000)
        assert by["10.0.5.1"]["timestamp_max"] == ts_text(MS - 1000)
    else:
        assert "TIMESTAMP_MIN" in got[0] and "TIMESTAMP_MAX" in got[0]


@needs_ours
@needs_ref
@pytest.mark.parametrize("extra", ["timestamps_since_epoch: true", "timestamps_rfc3339: true",
                                   "timestamps_secs: true", "print_history: 5m"])
def test_stitching_timestamp_keys_match_reference(tmp_path, extra):
    same_as_reference(tmp_path, stitch_case(), "src_host,timestamp_end", "json",
                      f"nfacctd_stitching: true\n{extra}\n")


@needs_ours
def test_stitching_min_max_computed(tmp_path):
    """Many records per aggregate in random order: min of starts, max of ends
    (timeval order), counters summed; a record without an end time stitches
    its arrival (the capture's timestamp for that datagram)."""
    rnd = random.Random(7)
    flows, want = [], {}
    for i in range(300):
        src = f"10.1.0.{rnd.randrange(12)}"
        a = rnd.randrange(0, 600000)
        b = a + rnd.randrange(0, 90000)
        flows.append((src, 100 + i, 1 + i % 5, a, b))
        w = want.setdefault(src, [a, b, 0, 0])
        w[0], w[1] = min(w[0], a), max(w[1], b)
        w[2] += 100 + i
        w[3] += 1 + i % 5
    dg = [("127.0.0.2", ipfix_flows(flows[i:i + 20])) for i in range(0, len(flows), 20)]
    f = [8, 12, 1, 2, 152]       # no end time
    noend = pack_rec(f, ["10.1.1.1", "10.0.0.2", 10, 1, MS + 5000])
    dg.append(("127.0.0.2", ipfix([set_(2, tpl_record(258, f)), set_(258, noend)])))
    arrival = (1700000100 + len(dg) - 1) * 1000     # write_pcap's timestamp of that frame
    out, run = run_nf(NFACCTD, tmp_path, dg, "src_host", "json", "nfacctd_stitching: true\n")
    got = {json.loads(r)["ip_src"]: json.loads(r) for r in rows(out, "json")}
    assert set(got) == set(want) | {"10.1.1.1"}, run.stderr
    for src, (a, b, byt, pk) in want.items():
        assert got[src]["timestamp_min"] == ts_text(MS + a), src
        assert got[src]["timestamp_max"] == ts_text(MS + b), src
        assert (got[src]["bytes"], got[src]["packets"]) == (byt, pk)
    assert got["10.1.1.1"]["timestamp_min"] == ts_text(MS + 5000)
    assert got["10.1.1.1"]["timestamp_max"] == ts_text(arrival)


@needs_ours
@needs_ref
def test_stitching_sqlite_matches_reference(tmp_path):
    schema = ("CREATE TABLE acct (ip_src CHAR(45) NOT NULL DEFAULT '0.0.0.0', packets INT, "
              "bytes BIGINT, stamp_inserted DATETIME, stamp_updated DATETIME, "
              "timestamp_min DATETIME, timestamp_min_residual INT, timestamp_max DATETIME, "
              "timestamp_max_residual INT)")

    def table(binary, d):
        d.mkdir()
        db = d / "out.sqlite"
        with sqlite3.connect(db) as c:
            c.execute(schema)
        # twice: the second run updates the rows the first inserted
        for _ in range(2):
            run_nf(binary, d, stitch_case(), "src_host", "sqlite", "nfacctd_stitching: true\n",
                   plugin="sqlite3")
        with sqlite3.connect(db) as c:
            return sorted(c.execute("SELECT * FROM acct").fetchall())

    # 1.7.7's SQL cache keeps the first record's timestamp_min (docs/differences.md):
    # the aggregate made of two records is checked against the crafted times instead
    def others(rows):
        return [r for r in rows if r[0] != "10.0.3.1"]
    got = {"ours": table(NFACCTD, tmp_path / "ours")}
    # 1.7.7 again (conftest.retry_reference) while its other rows are not ours
    got["ref"] = retry_reference(lambda i: table(REF_NFACCTD, tmp_path / f"ref{i}"),
                                 lambda rows: rows and others(rows) == others(got["ours"]),
                                 what="nfacctd 1.7.7 (sqlite3)")
    assert got["ref"], "reference wrote nothing"
    assert others(got["ours"]) == others(got["ref"])
    row = [r for r in got["ours"] if r[0] == "10.0.3.1"][0]
    assert row[1:3] == (6, 600)                      # 2 runs x (1 + 2 packets, 100 + 200 bytes)
    assert row[5:] == (ts_text(MS + 10200)[:19], 200000, ts_text(MS + 40700)[:19], 700000)


def stitched_by_src(tmp, binary, daemon, pcap):
    """binary (daemon: pmacctd or sfacctd) reading pcap with {daemon}_stitching on
    and a print plugin per src_host in JSON: {ip_src: row}."""
    out = tmp / "out.json"
    conf = tmp / f"{daemon}.conf"
    conf.write_text(f"plugins: print[p]\naggregate[p]: src_host\nprint_output[p]: json\n"
                    f"print_output_file[p]: {out}\npcap_savefile: {pcap}\n"
                    f"{daemon}_stitching: true\n")
    subprocess.run([str(binary), "-f", str(conf)], env=ENV, check=True, timeout=60,
                   capture_output=True)
    return {json.loads(r)["ip_src"]: json.loads(r) for r in rows(out, "json")}


@pytest.mark.skipif(not os.access(PMACCTD, os.X_OK), reason="our pmacctd not built")
def test_pmacctd_stitching_packet_times(tmp_path):
    """pmacctd: the first and last packet's capture time of each aggregate."""
    pcap = tmp_path / "p.pcap"
    rnd = random.Random(3)
    want = {}
    with open(pcap, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        t = 1700000000 * 10**6
        for i in range(200):
            t += rnd.randrange(1, 3000000)
            src = bytes([10, 9, 0, rnd.randrange(1, 6)])
            iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, i, 0, 64, 17, 0, src,
                              bytes([10, 9, 1, 1])) + struct.pack("!HHHH", 1000, 2000, 8, 0)
            frame = b"\0" * 12 + b"\x08\x00" + iph
            f.write(struct.pack("<IIII", t // 10**6, t % 10**6, len(frame), len(frame)) + frame)
            w = want.setdefault(".".join(map(str, src)), [t, t])
            w[1] = t
    got = stitched_by_src(tmp_path, PMACCTD, "pmacctd", pcap)
    assert set(got) == set(want)
    for src, (a, b) in want.items():
        assert got[src]["timestamp_min"] == _us_text(a)
        assert got[src]["timestamp_max"] == _us_text(b)


def _us_text(us):
    import datetime
    d = datetime.datetime.fromtimestamp(us // 10**6, datetime.timezone.utc)
    return d.strftime("%Y-%m-%d %H:%M:%S") + ".%06d" % (us % 10**6)


# ---- pro-rating --------------------------------------------------------------

def f32_share(counter, interval, delta):
    """1.7.7's arithmetic: single precision, truncated, at least 1."""
    import numpy as np
    v = int(np.float32(np.float32(counter) * np.float32(interval)) / np.float32(delta))
    return max(v, 1) if counter else 0


PRO_FLOWS = [("10.0.9.1", 1000, 7, 10500, 200500), ("10.0.9.2", 999, 10, 10000, 130000),
             ("10.0.9.3", 1000, 7, 5000, 6000), ("10.0.9.5", 100, 3, 0, 300000),
             ("10.0.9.6", 1000, 7, 70000, 50000), ("10.0.8.3", 1000000007, 3333, 10000, 400000),
             ("10.0.8.2", 1, 1, 10000, 200000), ("10.0.7.1", 600, 600, 41000, 101000)]


def pro_expected(flows, slot=60):
    """Expected (src, bin, packets, bytes) rows, computed from the crafted flows."""
    out = {}
    for src, byt, pk, a, b in flows:
        s, e = EXPORT_SECS + a // 1000, EXPORT_SECS + b // 1000
        b0 = s - s % slot
        if e <= s or e <= b0 + slot:
            key = (src, b0)
            p0, y0 = out.get(key, (0, 0))
            out[key] = (p0 + pk, y0 + byt)
            continue
        lo = b0
        while lo < e:
            iv = min(e, lo + slot) - max(s, lo)
            if iv > 0:
                key = (src, lo)
                p0, y0 = out.get(key, (0, 0))
                out[key] = (p0 + f32_share(pk, iv, e - s), y0 + f32_share(byt, iv, e - s))
            lo += slot
    return out


@needs_ours
@needs_ref
def test_pro_rating_matches_reference(tmp_path):
    pytest.importorskip("numpy")
    got = same_as_reference(tmp_path, [("127.0.0.2", ipfix_flows(PRO_FLOWS))], "src_host",
                            "json", "nfacctd_pro_rating: true\nprint_history: 1m\n")
    import calendar
    import time as _t
    seen = {}
    for r in map(json.loads, got):
        b = calendar.timegm(_t.strptime(r["stamp_inserted"], "%Y-%m-%d %H:%M:%S"))
        seen[(r["ip_src"], b)] = (r["packets"], r["bytes"])
    assert seen == pro_expected(PRO_FLOWS)


@needs_ours
def test_pro_rating_bin_boundary(tmp_path):
    """A flow starting exactly on a bin edge: its bins only (1.7.7 also adds the
    whole flow to the bin before, docs/differences.md)."""
    pytest.importorskip("numpy")
    flows = [("10.0.7.0", 600, 600, 40000, 160000), ("10.0.7.4", 600, 600, 40000, 41000)]
    out, run = run_nf(NFACCTD, tmp_path, [("127.0.0.2", ipfix_flows(flows))], "src_host", "json",
                      "nfacctd_pro_rating: true\nprint_history: 1m\n")
    got = [json.loads(r) for r in rows(out, "json")]
    assert sum(r["bytes"] for r in got if r["ip_src"] == "10.0.7.0") == 600, run.stderr
    assert len([r for r in got if r["ip_src"] == "10.0.7.0"]) == 2
    assert [r["bytes"] for r in got if r["ip_src"] == "10.0.7.4"] == [600]


@needs_ours
def test_pro_rating_and_stitching_refused(tmp_path):
    out, run = run_nf(NFACCTD, tmp_path, stitch_case(), "src_host", "json",
                      "nfacctd_pro_rating: true\nprint_history: 1m\nnfacctd_stitching: true\n")
    assert run.returncode != 0
    assert "mutual exclusive" in run.stdout + run.stderr


@needs_ours
def test_stitching_sqlite_spool(tmp_path):
    """The database is away on the first run: rows go to the spool with their
    timestamp_min/max, and the second run writes them with its own."""
    schema = ("CREATE TABLE acct (ip_src CHAR(45) NOT NULL DEFAULT '0.0.0.0', packets INT, "
              "bytes BIGINT, timestamp_min DATETIME, timestamp_min_residual INT, "
              "timestamp_max DATETIME, timestamp_max_residual INT)")
    spool = tmp_path / "s.spool"
    extra = f"nfacctd_stitching: true\nsql_dont_try_update: true\nsql_spool_file: {spool}\n"
    d = tmp_path / "run"
    away = f"sql_db[p]: {tmp_path}/missing-dir/db.sqlite\n"     # cannot be opened
    out, run = run_nf(NFACCTD, d, stitch_case(), "src_host", "sqlite", extra + away,
                      plugin="sqlite3")
    assert spool.exists(), run.stdout + run.stderr
    with sqlite3.connect(out) as c:
        c.execute(schema)
    out, run = run_nf(NFACCTD, d, stitch_case(), "src_host", "sqlite", extra, plugin="sqlite3")
    assert "spooled entries read back" in run.stdout + run.stderr
    with sqlite3.connect(out) as c:
        got = c.execute("SELECT packets, bytes, timestamp_min, timestamp_min_residual, "
                        "timestamp_max, timestamp_max_residual FROM acct WHERE ip_src = "
                        "'10.0.3.1'").fetchall()
    # spooled and fresh rows have the same identity: one row, or two equal ones
    assert sum(r[0] for r in got) == 6 and sum(r[1] for r in got) == 600, got
    for r in got:
        assert r[2:] == (ts_text(MS + 10200)[:19], 200000, ts_text(MS + 40700)[:19], 700000)


@pytest.mark.skipif(not os.access(Path(os.environ.get("SFACCTD", REPO / "build" / "sfacctd")),
                                  os.X_OK), reason="our sfacctd not built")
def test_sfacctd_stitching_arrival(tmp_path):
    """sFlow has no flow times: each sample stitches its datagram's arrival
    (the capture's timestamp with pcap_savefile)."""
    import test_sfacctd as sf
    sfacctd = Path(os.environ.get("SFACCTD", REPO / "build" / "sfacctd"))
    dgs = [sf.datagram("192.0.2.1", seq, [sf.flow_sample(seq, 3, 1, seq, 3, 4, [
        sf.sampled_ipv4(1000, 17, f"10.1.1.{1 + seq % 2}", "10.2.2.2", 53, 5353)])])
        for seq in range(1, 7)]
    pcap = tmp_path / "sf.pcap"
    sf.write_pcap(pcap, dgs)                  # datagram i at 1700000000 + i
    got = stitched_by_src(tmp_path, sfacctd, "sfacctd", pcap)
    # seq 1..6 at indexes 0..5: odd seqs from 10.1.1.2, even from 10.1.1.1
    assert got["10.1.1.2"]["timestamp_min"] == _us_text(1700000000 * 10**6)
    assert got["10.1.1.2"]["timestamp_max"] == _us_text(1700000004 * 10**6)
    assert got["10.1.1.1"]["timestamp_min"] == _us_text(1700000001 * 10**6)
    assert got["10.1.1.1"]["timestamp_max"] == _us_text(1700000005 * 10**6)


@needs_ours
def test_stitching_kafka_same_as_print(tmp_path):
    """The Kafka plugin's JSON carries the same timestamp_min/max as print's."""
    from conftest import KAFKA_MOCK, KafkaMock
    if not os.access(KAFKA_MOCK, os.X_OK):
        pytest.skip(f"no {KAFKA_MOCK} (meson -Dkafka=enabled)")
    k = KafkaMock(["pmacct.acct"])
    try:
        d = tmp_path / "k"
        d.mkdir()
        pcap = d / "in.pcap"
        write_pcap(pcap, stitch_case())
        conf = d / "k.conf"
        conf.write_text(f"pcap_savefile: {pcap}\nplugins: kafka[k]\naggregate[k]: src_host\n"
                        f"kafka_broker_host: {k.host}\nkafka_broker_port: {k.port}\n"
                        f"kafka_spool_file: {d}/k.spool\nnfacctd_stitching: true\n")
        r = subprocess.run([str(NFACCTD), "-f", str(conf)], env=ENV, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        msgs = [json.loads(m[2]) for m in k.payloads(want=1)]
    finally:
        k.stop()
    for m in msgs:
        m.pop("writer_id", None)
    printed, _ = run_nf(NFACCTD, tmp_path / "p", stitch_case(), "src_host", "json",
                        "nfacctd_stitching: true\n")
    assert sorted(json.dumps(m, sort_keys=True) for m in msgs) == rows(printed, "json")
    assert all("timestamp_min" in m and "timestamp_max" in m for m in msgs)
