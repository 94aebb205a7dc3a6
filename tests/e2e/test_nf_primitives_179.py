# SPDX-License-Identifier: BSD-3-Clause
"""pmacct 1.7.9 NetFlow/IPFIX primitives: in_vlan, out_vlan, in_cvlan, out_cvlan,
flow_label, path_delay_{avg,min,max}_usec and srv6_seg_ipv6_list.

IPFIX and v9 exports carrying IEs 58/59/243/254 (VLANs), 245/255 (customer VLANs),
61 (direction), 31 (flow label), 600-603 and Huawei 2011.521-527 (path delays) and
Huawei 2011.505 (SRv6 segments) are read from a capture (-I) by our nfacctd and by
upstream pmacct master; JSON and CSV must match row for row.  The `vlan` primitive
must match Debian's 1.7.7 for every combination of the four VLAN elements, with and
without flowDirection.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

import router_exports as rx
import test_nfacctd as nf
import test_nfacctd_features as ff
from conftest import retry_reference

NFACCTD = nf.NFACCTD
REF_NFACCTD = nf.REF_NFACCTD
MASTER = Path(os.environ.get("MASTER_NFACCTD", "/work/shared/reference/pmacct-master/nfacctd"))
ENV = nf.ENV
needs_ours = nf.needs_ours
needs_ref = nf.needs_ref
needs_master = pytest.mark.skipif(not os.access(MASTER, os.X_OK),
                                  reason=f"pmacct master nfacctd missing at {MASTER}")

BASE = [(8, 4), (12, 4), (4, 1), (7, 2), (11, 2), (1, 4), (2, 4)]
VLAN_IES = [58, 59, 243, 254, 245, 255]
VLAN_VAL = {58: 101, 59: 200, 243: 300, 254: 3000, 245: 400, 255: 500}
SEGS = [f"2001:db8::{i + 1}" for i in range(3)]
DROP = ("event_type", "timestamp_arrival")



def vlan_export(v9, direction):
    """One datagram: a template per non-empty subset of the VLAN elements, one record
    each (source port 1000 + subset index), with flowDirection if not None."""
    tpls, sets, combos = b"", [], []
    for mask in range(1, 64):
        present = [ie for i, ie in enumerate(VLAN_IES) if mask >> i & 1]
        fields = BASE + [(ie, 2) for ie in present] + ([(61, 1)] if direction is not None else [])
        vals = {8: "10.0.0.1", 12: "10.9.9.9", 4: 6, 7: 1000 + len(combos), 11: 80, 1: 100, 2: 1,
                61: direction}
        vals.update({ie: VLAN_VAL[ie] for ie in present})
        tpls += rx.ipfix_tpl(300 + len(combos), fields)
        sets.append(rx.set_(300 + len(combos), rx.record(fields, vals)))
        combos.append(present)
    if v9:
        dg = rx.v9([rx.set_(0, tpls)] + sets, 1, 7, 100000)
    else:
        dg = rx.ipfix([rx.set_(2, tpls)] + sets, 1, 7)
    return [("10.255.0.9", dg)], combos


def telemetry_export(v9):
    """Records with flow labels, path delays and SRv6 segment lists, IANA and Huawei."""
    seg = b"".join(rx._addr(a) for a in SEGS)
    recs = [
        # (fields beyond BASE, values)
        ([(31, 4), (600, 4), (601, 4), (602, 4), (58, 2), (245, 2)],
         {31: 0x12345, 600: 10, 601: 5, 602: 20, 58: 11, 245: 12}),
        ([(31, 4), (600, 4), (603, 8), (59, 2), (255, 2)],
         {31: 0xfffff, 600: 7, 603: 1000, 59: 21, 255: 22}),
        ([(521, 4, 2011), (523, 4, 2011), (525, 4, 2011), (527, 8, 2011), (243, 2), (254, 2)],
         {521: 9, 523: 1, 525: 30, 527: 900, 243: 31, 254: 32}),
        ([(505, len(seg), 2011), (31, 4)], {505: seg, 31: 77}),
        ([(505, rx.VARLEN, 2011)], {505: seg[:32]}),
    ]
    if v9:   # v9 has no enterprise elements: the IANA ones only
        recs = [r for r in recs if all(len(f) == 2 for f in r[0])]
    tpls, sets = b"", []
    for i, (extra, v) in enumerate(recs):
        fields = BASE + extra
        vals = {8: f"10.0.{i}.1", 12: "10.9.9.9", 4: 6, 7: 2000 + i, 11: 80, 1: 100 * (i + 1),
                2: 4}
        vals.update(v)
        tpls += ff.tpl(400 + i, fields)	# (ie, len) or (ie, len, enterprise)
        body = b"".join(rx.encode(vals[f[0]], f[1]) for f in fields)
        sets.append(rx.set_(400 + i, body))
    if v9:
        return [("10.255.0.8", rx.v9([rx.set_(0, tpls)] + sets, 1, 7, 100000))]
    return [("10.255.0.8", rx.ipfix([rx.set_(2, tpls)] + sets, 1, 7))]



def run(binary, d, dgs, agg, fmt):
    """binary reads the datagrams (-I), once; its print output (asserted not empty)."""
    d.mkdir(parents=True, exist_ok=True)
    rx.write_pcap(d / "in.pcap", dgs)
    out = d / f"out.{fmt}"
    (d / "c.conf").write_text(f"plugins: print[p]\naggregate[p]: {agg}\nprint_output[p]: {fmt}\n"
                              f"print_output_file[p]: {out}\n")
    r = subprocess.run([str(binary), "-f", str(d / "c.conf"), "-I", str(d / "in.pcap")],
                       env=ENV, capture_output=True, text=True, timeout=60)
    assert out.exists() and out.read_text().strip(), r.stdout + r.stderr
    return out.read_text()


def canon(text, fmt):
    """The output as compared: JSON rows, or the header and the sorted rows."""
    if fmt == "json":
        return json_rows(text)
    if fmt == "csv":
        return csv_rows(text)
    lines = text.splitlines()
    return lines[:1], sorted(lines[1:])


def ref_run(binary, d, dgs, agg, fmt, ours):
    """run() with a reference (master or 1.7.7), in d/try<n>, again (conftest.retry_reference)
    while its output differs from ours (or it printed nothing)."""
    return retry_reference(lambda i: run(binary, d / f"try{i}", dgs, agg, fmt),
                           lambda ref: canon(ref, fmt) == canon(ours, fmt), what=str(binary))


def json_rows(text):
    return sorted(json.dumps({k: v for k, v in json.loads(line).items() if k not in DROP},
                             sort_keys=True) for line in text.splitlines() if line.strip())


def csv_rows(text):
    lines = text.splitlines()
    head = lines[0].split(",")
    keep = [i for i, h in enumerate(head) if h not in ("TIMESTAMP_ARRIVAL",)]
    return [head[i] for i in keep], sorted(",".join(r.split(",")[i] for i in keep)
                                           for r in lines[1:] if r)


def rows_as_reference(tmp, reference, dgs, combos, aggregate):
    """Our nfacctd's JSON rows for dgs, asserted equal to the reference's, which
    has one row per combination of VLAN elements sent; our rows."""
    text = run(NFACCTD, tmp / "o", dgs, aggregate, "json")
    ours = json_rows(text)
    ref = json_rows(ref_run(reference, tmp / "ref", dgs, aggregate, "json", text))
    assert len(ref) == len(combos)
    assert ours == ref
    return ours


VLAN_PRIMS = "src_port,in_vlan,out_vlan,in_cvlan,out_cvlan"
TELE_PRIMS = ("src_host,src_port,in_vlan,out_vlan,in_cvlan,out_cvlan,flow_label,"
              "path_delay_avg_usec,path_delay_min_usec,path_delay_max_usec")


@needs_ours
@needs_master
@pytest.mark.parametrize("v9", [False, True], ids=["ipfix", "v9"])
@pytest.mark.parametrize("direction", [None, 0, 1, 2])
def test_in_out_vlans_match_master(tmp_path, v9, direction):
    dgs, combos = vlan_export(v9, direction)
    ours = rows_as_reference(tmp_path, MASTER, dgs, combos, VLAN_PRIMS)
    # independently of either collector: in_vlan is 58, else 243; out_vlan 59, else 254
    for row in map(json.loads, ours):
        present = combos[row["port_src"] - 1000]
        want_in = VLAN_VAL[58] if 58 in present else VLAN_VAL[243] if 243 in present else 0
        want_out = VLAN_VAL[59] if 59 in present else VLAN_VAL[254] if 254 in present else 0
        assert (row["vlan_in"], row["vlan_out"]) == (want_in, want_out), present
        assert row["cvlan_in"] == (400 if 245 in present else 0)
        assert row["cvlan_out"] == (500 if 255 in present else 0)


@needs_ours
@needs_ref
@pytest.mark.parametrize("v9", [False, True], ids=["ipfix", "v9"])
@pytest.mark.parametrize("direction", [None, 0, 1, 2])
def test_vlan_precedence_matches_177(tmp_path, v9, direction):
    dgs, combos = vlan_export(v9, direction)
    ours = rows_as_reference(tmp_path, REF_NFACCTD, dgs, combos, "src_port,vlan")
    rows = {r["port_src"]: r["vlan"] for r in map(json.loads, ours)}
    if direction is None:
        assert rows[1000 + combos.index([243, 254])] == 300
        assert rows[1000 + combos.index([58, 59])] == 101
        assert rows[1000 + combos.index([59, 243])] == 200
    elif direction == 1:
        assert rows[1000 + combos.index([243, 254])] == 3000


@needs_ours
@needs_master
@pytest.mark.parametrize("v9", [False, True], ids=["ipfix", "v9"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_telemetry_prims_match_master(tmp_path, v9, fmt):
    dgs = telemetry_export(v9)
    # master reads a v9 flowLabelIPv6 as three bytes shifted up by 8 (0x12345 -> 0x12300):
    # compared there against the exported value (docs/differences.md) instead of master's
    prims = TELE_PRIMS.replace("flow_label,", "") if v9 else TELE_PRIMS
    ours = run(NFACCTD, tmp_path / "o", dgs, prims, fmt)
    ref = ref_run(MASTER, tmp_path / "m", dgs, prims, fmt, ours)
    if fmt == "json":
        assert json_rows(ours) == json_rows(ref)
        got = {r["port_src"]: r for r in map(json.loads, ours.splitlines())}
        assert got[2000]["path_delay_min_usec"] == 5
        assert got[2001]["path_delay_avg_usec"] == 1000 // 4
        if not v9:
            assert got[2002]["path_delay_avg_usec"] == 900 // 4
            assert got[2002]["path_delay_max_usec"] == 30
    else:
        assert csv_rows(ours) == csv_rows(ref)


@needs_ours
@pytest.mark.parametrize("v9", [False, True], ids=["ipfix", "v9"])
def test_flow_label_value(tmp_path, v9):
    got = {r["port_src"]: r for r in map(json.loads, run(
        NFACCTD, tmp_path / "o", telemetry_export(v9), "src_port,flow_label", "json").splitlines())}
    assert got[2000]["flow_label"] == 0x12345
    assert got[2001]["flow_label"] == 0xfffff


@needs_ours
@needs_master
def test_srv6_list_json_matches_master(tmp_path):
    dgs = telemetry_export(False)
    agg = "src_port,srv6_seg_ipv6_list,flow_label"
    ours = run(NFACCTD, tmp_path / "o", dgs, agg, "json")
    ref = ref_run(MASTER, tmp_path / "m", dgs, agg, "json", ours)
    assert json_rows(ours) == json_rows(ref)
    got = {r["port_src"]: r for r in map(json.loads, ours.splitlines())}
    assert got[2003]["srv6_seg_ipv6_list"] == [f"{i}-{a}" for i, a in enumerate(SEGS)]
    assert got[2004]["srv6_seg_ipv6_list"] == [f"{i}-{a}" for i, a in enumerate(SEGS[:2])]
    # JSON only: CSV leaves the column out, as master
    ours = run(NFACCTD, tmp_path / "oc", dgs, agg, "csv")
    ref = ref_run(MASTER, tmp_path / "mc", dgs, agg, "csv", ours)
    assert ours.splitlines()[0] == ref.splitlines()[0] == "SRC_PORT,FLOW_LABEL,PACKETS,BYTES"
    assert csv_rows(ours) == csv_rows(ref)


@needs_ours
@needs_master
def test_formatted_columns_match_master(tmp_path):
    dgs = telemetry_export(False)
    agg = TELE_PRIMS.replace("src_host,", "")
    ours = run(NFACCTD, tmp_path / "o", dgs, agg, "formatted")
    ref = ref_run(MASTER, tmp_path / "m", dgs, agg, "formatted", ours)
    assert ours.splitlines()[0] == ref.splitlines()[0]
    assert sorted(ours.splitlines()[1:]) == sorted(ref.splitlines()[1:])


@needs_ours
def test_list_and_memory_client(tmp_path):
    """-a lists the new primitives where master does; the memory client prints them."""
    out = subprocess.run([str(NFACCTD), "-a"], capture_output=True, text=True, env=ENV).stdout
    names = [line.split()[0] for line in out.splitlines() if " : " in line]
    for p in ("in_vlan", "out_vlan", "in_cvlan", "out_cvlan", "flow_label",
              "path_delay_avg_usec", "path_delay_min_usec", "path_delay_max_usec"):
        assert p in names
    assert names.index("vlan") < names.index("in_vlan") < names.index("out_cvlan")
    assert names.index("timestamp_export") < names.index("path_delay_avg_usec")
    assert "srv6_seg_ipv6_list" not in names   # master does not list it either


@needs_ours
def test_memory_client(tmp_path):
    """pmacct -s shows the new columns and -c in_vlan -N matches on them (memory plugin)."""
    pmacct = Path(os.environ.get("PMACCT", NFACCTD.parent / "pmacct"))
    if not os.access(pmacct, os.X_OK):
        pytest.skip(f"our pmacct client missing at {pmacct}")
    dgs = [("127.0.0.1", d) for _, d in telemetry_export(False)]
    d = ff.MemoryDaemon(NFACCTD, tmp_path, "src_port,in_vlan,out_vlan,in_cvlan,out_cvlan,"
                        "flow_label,path_delay_avg_usec", datagrams=dgs)
    try:
        d.feed_until(pmacct, 5)
        want = {2000: (11, 0, 12, 0, 0x12345, 10), 2001: (0, 21, 0, 22, 0xfffff, 250),
                2002: (31, 32, 0, 0, 0, 225)}
        r = d.client(pmacct, "-s", "-O", "json")
        got = {x["port_src"]: (x["vlan_in"], x["vlan_out"], x["cvlan_in"], x["cvlan_out"],
                               x["flow_label"], x["path_delay_avg_usec"])
               for x in map(json.loads, r.stdout.splitlines()) if x["port_src"] in want}
        assert got == want, r.stdout + r.stderr
        r = d.client(pmacct, "-s")
        assert r.stdout.split("\n")[0].split()[:7] == [
            "IN_VLAN", "OUT_VLAN", "IN_CVLAN", "OUT_CVLAN", "SRC_PORT", "FLOW_LABEL",
            "PATH_DELAY_AVG_USEC"], r.stdout
        r = d.client(pmacct, "-c", "in_vlan", "-N", "31")
        assert r.stdout.split() == ["300"], r.stdout + r.stderr
    finally:
        d.stop()
