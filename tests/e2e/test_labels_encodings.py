# SPDX-License-Identifier: BSD-3-Clause
"""Newer pmacct output keys, byte for byte against upstream master's print plugin on the
router exports of router_exports.py: pre_tag_label_encode_as_map and set_label with commas,
tcpflags_encode_as_array, fwd_status_encode_as_string, mpls_label_stack_encode_as_array,
writer_id_string (ignored by master's print plugin) and nfacctd_pre_processing_checks."""
import os
import struct
import subprocess
from pathlib import Path

import pytest

import router_exports as rx
import test_nfacctd as nf
from conftest import retry_reference

NFACCTD = nf.NFACCTD
MASTER = Path(os.environ.get("MASTER_NFACCTD", "/work/shared/reference/pmacct-master/nfacctd"))
ENV = nf.ENV
needs_both = pytest.mark.skipif(not (os.access(NFACCTD, os.X_OK) and os.access(MASTER, os.X_OK)),
                                reason="our nfacctd or master's missing")


def run(binary, tmp, dgs, conf, maptext=None, fmt="json"):
    tmp.mkdir(parents=True, exist_ok=True)
    rx.write_pcap(tmp / "in.pcap", dgs)
    out = tmp / "out.txt"
    text = f"plugins: print[p]\nprint_output[p]: {fmt}\nprint_output_file[p]: {out}\n{conf}\n"
    if maptext is not None:
        (tmp / "pretag.map").write_text(maptext)
        text += f"pre_tag_map: {tmp}/pretag.map\n"
    (tmp / "c.conf").write_text(text)
    r = subprocess.run([str(binary), "-f", str(tmp / "c.conf"), "-I", str(tmp / "in.pcap")],
                       env=ENV, capture_output=True, text=True, timeout=60)
    return (out.read_text() if out.exists() else ""), r.stdout + r.stderr


def same_as_master(tmp, dgs, conf, maptext=None, fmt="json"):
    ours, olog = run(NFACCTD, tmp / "ours", dgs, conf, maptext, fmt)
    # master again (conftest.retry_reference) while its lines are not ours
    ref, rlog = retry_reference(lambda i: run(MASTER, tmp / f"master{i}", dgs, conf, maptext, fmt),
                                lambda r: sorted(r[0].splitlines()) == sorted(ours.splitlines()),
                                what="master nfacctd")
    assert ref.strip(), rlog
    assert sorted(ours.splitlines()) == sorted(ref.splitlines())
    return ours, olog, rlog


ENC = ("tcpflags_encode_as_array: true\nfwd_status_encode_as_string: true\n"
       "mpls_label_stack_encode_as_array: true\n")


@needs_both
@pytest.mark.parametrize("router", ["ios_xr", "junos", "huawei"])
def test_encodings_equal_master(tmp_path, router):
    dgs, _ = getattr(rx, router)()
    same_as_master(tmp_path, dgs, "aggregate[p]: src_host, dst_host, tcpflags, fwd_status, "
                   "mpls_label_stack\n" + ENC)


MAPS = {
    "pairs": "set_label=k1%v1,k2%v2 ip=2001:db8:ffff::1\n",
    "odd_and_empty": "set_label=k1%,k2%v2,,x ip=2001:db8:ffff::1\n",
    "repeated_key": "set_label=k1%v1,k2%v2,k1%v3 ip=2001:db8:ffff::1\n",
    "no_sep": "set_label=abc ip=2001:db8:ffff::1\n",
    "jeq_join": "set_label=a,b ip=2001:db8:ffff::1 jeq=n2\nset_label=c%d,e%f ip=2001:db8:ffff::1 label=n2\n",
    "jeq_stack": "set_label=x1 ip=2001:db8:ffff::1 jeq=n2\nset_label=x2 ip=2001:db8:ffff::1 label=n2 stack=+\n",
    "no_match": "set_label=k%v ip=192.0.2.99\n",
}


@needs_both
@pytest.mark.parametrize("enc", ["false", "true"])
@pytest.mark.parametrize("name", sorted(MAPS))
def test_labels_equal_master(tmp_path, name, enc):
    dgs, _ = rx.huawei()
    ours, _, _ = same_as_master(tmp_path, dgs, "aggregate[p]: tag, label, src_host\n"
                                f"pre_tag_label_encode_as_map: {enc}\n", MAPS[name])
    if name == "pairs":
        want = '"label": {"k1": "v1", "k2": "v2"}' if enc == "true" else '"label": "k1%v1,k2%v2"'
        assert all(want in x for x in ours.splitlines())


@needs_both
def test_label_map_csv_warns_and_prints_text(tmp_path):
    dgs, _ = rx.huawei()
    ours, olog, rlog = same_as_master(tmp_path, dgs, "aggregate[p]: label, src_host\n"
                                      "pre_tag_label_encode_as_map: true\n", MAPS["pairs"], "csv")
    warn = "Complex data types (ie. pre_tag_label_encode_as_map) not supported by the selected print_output"
    assert warn in olog and warn in rlog
    assert ours.splitlines()[1].startswith("k1%v1,k2%v2,")


@needs_both
def test_writer_id_string_ignored_by_print_as_master(tmp_path):
    dgs, _ = rx.huawei()

    def check(binary, d):
        out, _ = run(binary, d, dgs, "aggregate[p]: src_host\nprint_markers: true\n"
                     "writer_id_string: abc-$proc_name\n")
        first = out.splitlines()[0] if out else ""
        assert '"writer_id": "' in first, out
        name, pid = first.split('"writer_id": "')[1].split('"')[0].split("/")
        assert name == "p" and pid.isdigit(), first
    check(NFACCTD, tmp_path / "o")
    retry_reference(lambda i: check(MASTER, tmp_path / f"m{i}"), what="master nfacctd")


# ---- nfacctd_pre_processing_checks: non-zero padding after the last record -----------

F = [(8, 4), (12, 4), (1, 8), (2, 8)]


def recs(n, base):
    return b"".join(rx.record(F, {8: f"10.0.0.{i + base}", 12: "10.9.9.9", 1: 100 * (i + 1),
                                  2: i + 1}) for i in range(n))


def padset(sid, body, pad):
    return struct.pack("!HH", sid, len(body) + 4 + len(pad)) + body + pad


def padding_datagrams():
    tpl = rx.set_(2, rx.ipfix_tpl(256, F))
    return [("10.1.1.1", rx.ipfix([tpl, padset(256, recs(2, 1), b"\0\0\0")], 0, 1)),   # clean
            ("10.1.1.1", rx.ipfix([padset(256, recs(2, 20), b"\x07"),                   # dirty
                                   rx.set_(256, recs(1, 77))], 2, 1)),
            ("10.1.1.2", rx.v9([rx.set_(0, rx.v9_tpl(256, F)),
                                padset(256, recs(2, 40), b"\x01\x02")], 0, 1, 100000))]


@needs_both
@pytest.mark.parametrize("checks", ["false", "true"])
def test_pre_processing_checks_equal_master(tmp_path, checks):
    ours, _, _ = same_as_master(tmp_path, padding_datagrams(), "aggregate[p]: src_host\n"
                                f"nfacctd_pre_processing_checks: {checks}\n")
    srcs = {x.split('"ip_src": "')[1].split('"')[0] for x in ours.splitlines()}
    dirty = {"10.0.0.20", "10.0.0.21", "10.0.0.40", "10.0.0.41"}
    assert {"10.0.0.1", "10.0.0.2", "10.0.0.77"} <= srcs
    assert (dirty & srcs) == (set() if checks == "true" else dirty)
