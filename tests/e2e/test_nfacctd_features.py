# SPDX-License-Identifier: BSD-3-Clause
"""nfacctd features beyond the basics: NAT primitives, forwarding status, the
MPLS label stack, route distinguishers (IE 90, options, flow_to_rd_map),
interface and VRF names learned from options, peer_src_ip from the
exporterIPv4Address option, custom primitives (aggregate_primitives), the
JSON encodings (tcpflags_encode_as_array, mpls_label_stack_encode_as_array,
fwd_status_encode_as_string), writer_id_string and the timestamps_* keys.

IPFIX and v9 datagrams are built here with struct (RFC 7011 / RFC 3954) and
read from a capture (-I) by our nfacctd and, where Debian's nfacctd 1.7.7
has the feature, by it too: the outputs must match.  Where 1.7.7 lacks the
feature, the expected values are computed here from the crafted fields.

Environment: NFACCTD (ours, default <repo>/build/nfacctd), REF_NFACCTD
(default /usr/sbin/nfacctd), PMACCT (our client, default <repo>/build/pmacct).
"""

import json
import os
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

import test_nfacctd as nf
from conftest import file_has, free_port, retry_reference, spawn_daemon, wait_for

REPO = Path(__file__).resolve().parents[2]
NFACCTD = nf.NFACCTD
REF_NFACCTD = nf.REF_NFACCTD
PMACCT = Path(os.environ.get("PMACCT", NFACCTD.parent / "pmacct"))
ENV = nf.ENV
needs_ours = nf.needs_ours
needs_ref = nf.needs_ref

# ---- crafting ---------------------------------------------------------------


def tpl(tid, fields):
    """IPFIX template record; a field is (id, len) or (id, len, pen)."""
    out = struct.pack("!HH", tid, len(fields))
    for f in fields:
        if len(f) == 3:
            out += struct.pack("!HHI", f[0] | 0x8000, f[1], f[2])
        else:
            out += struct.pack("!HH", f[0], f[1])
    return out


def otpl(tid, scope, fields):
    """IPFIX options template record (RFC 7011 3.4.2.2)."""
    out = struct.pack("!HHH", tid, len(scope) + len(fields), len(scope))
    for f, n in scope + fields:
        out += struct.pack("!HH", f, n)
    return out


def v9otpl(tid, scope, fields):
    """NetFlow v9 options template (RFC 3954 6.1): lengths in bytes."""
    body = struct.pack("!HHH", tid, 4 * len(scope), 4 * len(fields))
    for f, n in scope + fields:
        body += struct.pack("!HH", f, n)
    return body


def label(value, bos=False):
    """An MPLS label stack entry (RFC 3032 2.1) as IEs 70-79 carry it: 3 bytes."""
    return ((value << 4) | (1 if bos else 0)).to_bytes(3, "big")


def varstr(s):
    b = s.encode()
    return bytes([len(b)]) + b


def rd_type0(asn, num):
    return struct.pack("!HHI", 0, asn, num)


def rd_type1(ipaddr, num):
    return struct.pack("!H", 1) + nf.ip4(ipaddr) + struct.pack("!H", num)


def run(binary, tmp, datagrams, aggregate, fmt="json", extra="", name="out", write=None):
    """Read the datagrams from a capture (made by `write`, default nf.write_pcap: IPv4
    exporters only) with `binary`, once; returns the print output.  A reference: ref_run."""
    tmp.mkdir(parents=True, exist_ok=True)
    pcap = tmp / "in.pcap"
    (write or nf.write_pcap)(pcap, datagrams)
    out = tmp / f"{name}.{fmt}"
    conf = tmp / f"{name}.conf"
    conf.write_text(f"plugins: print[p]\naggregate[p]: {aggregate}\nprint_output[p]: {fmt}\n"
                    f"print_output_file[p]: {out}\n{extra}")
    out.unlink(missing_ok=True)
    r = subprocess.run([str(binary), "-f", str(conf), "-I", str(pcap)], env=ENV, timeout=60,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return out.read_text() if out.exists() else ""


def ref_run(binary, tmp, datagrams, aggregate, fmt="json", extra="", good=None, write=None):
    """run() with a reference (1.7.7 or master), in tmp/try<n>: pmacct may read the file before
    its plugins attach on a loaded machine, so it is run again (conftest.retry_reference)
    until it printed something and, with `good`, good(output)."""
    return retry_reference(
        lambda i: run(binary, tmp / f"try{i}", datagrams, aggregate, fmt, extra, write=write),
        lambda out: bool(out.strip()) and (good is None or good(out)), what=str(binary))


def jrows(text, drop=("event_type",)):
    res = [json.loads(x) for x in text.splitlines() if x.strip()]
    return [{k: v for k, v in r.items() if k not in drop} for r in res]


def canon(rows):
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


def lines(text):
    t = text.splitlines()
    return t[:1] + sorted(t[1:])


def run_both(tmp, datagrams, aggregate, fmt="json", extra=""):
    """Our nfacctd (once) and the reference (ref_run: again while it printed fewer lines than
    ours) on the same datagrams: (ours, ref), their print output."""
    ours = run(NFACCTD, tmp / "ours", datagrams, aggregate, fmt, extra)
    return ours, ref_run(REF_NFACCTD, tmp / "ref", datagrams, aggregate, fmt, extra,
                         good=lambda ref: len(ref.splitlines()) >= len(ours.splitlines()))


def assert_same_output(ours, ref, fmt):
    """The reference printed something and ours the same records, in any order (JSON
    compared as objects, CSV and formatted the header and then the lines)."""
    assert ref, "reference printed nothing"
    if fmt == "json":
        assert canon(jrows(ours)) == canon(jrows(ref))
    else:
        assert lines(ours) == lines(ref)


# ---- NAT, forwarding status, RD, label stack --------------------------------

NAT_F = [(8, 4), (12, 4), (1, 8), (2, 8), (6, 1), (225, 4), (226, 4), (227, 2), (228, 2),
         (230, 1), (89, 1), (90, 8), (70, 3), (71, 3), (72, 3)]
# (src, dst, bytes, packets, tcp flags, post src, post dst, post sport, post dport, nat event,
#  fwd status, rd, labels)
NAT_RECS = [
    ("10.0.0.1", "10.9.0.1", 1000, 10, 0x12, "192.0.2.1", "198.51.100.2", 40000, 443, 1, 64,
     rd_type0(65000, 42), (100, 200, 300)),
    ("10.0.0.2", "10.9.0.2", 2000, 20, 0x02, "192.0.2.2", "198.51.100.3", 40001, 80, 2, 130,
     rd_type1("192.0.2.254", 7), (16, 17, 0)),
    ("10.0.0.3", "10.9.0.3", 3000, 30, 0x3f, "192.0.2.3", "198.51.100.4", 40002, 53, 1, 195,
     rd_type0(1, 1), (1048575, 5, 6)),
]


def nat_datagrams():
    body = b""
    for (s, d, octs, pkts, flags, ps, pd, psp, pdp, ev, fwd, rd, lab) in NAT_RECS:
        body += (nf.ip4(s) + nf.ip4(d) + struct.pack("!QQB", octs, pkts, flags) + nf.ip4(ps) +
                 nf.ip4(pd) + struct.pack("!HHBB", psp, pdp, ev, fwd) + rd +
                 label(lab[0]) + label(lab[1], bos=(lab[2] == 0)) + label(lab[2], bos=True))
    return [("127.0.0.1", nf.ipfix([nf.set_(2, tpl(256, NAT_F)), nf.set_(256, body)]))]


NAT_PRIMS = ("src_host,dst_host,post_nat_src_host,post_nat_dst_host,post_nat_src_port,"
             "post_nat_dst_port,nat_event,mpls_vpn_rd,tcpflags,mpls_label_top,mpls_label_bottom")


@needs_ours
@needs_ref
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_nat_rd_differential(tmp_path, fmt):
    dg = nat_datagrams()
    ours, ref = run_both(tmp_path, dg, NAT_PRIMS, fmt)
    assert ref, "reference printed nothing"
    if fmt == "csv":
        assert lines(ours) == lines(ref)
        return
    # pmacct 1.7.7 leaves packets/bytes out of the JSON of NAT event records (docs/nfacctd.md)
    strip = ("event_type", "packets", "bytes")
    assert canon(jrows(ours, strip)) == canon(jrows(ref, strip))
    got = {r["ip_src"]: (r["packets"], r["bytes"]) for r in jrows(ours)}
    assert got == {r[0]: (r[3], r[2]) for r in NAT_RECS}


@needs_ours
def test_label_stack_fwd_status_encodings(tmp_path):
    dg = nat_datagrams()
    prims = "src_host,mpls_label_stack,fwd_status,tcpflags"
    plain = {r["ip_src"]: r for r in jrows(run(NFACCTD, tmp_path / "a", dg, prims))}
    arr = {r["ip_src"]: r for r in jrows(run(
        NFACCTD, tmp_path / "b", dg, prims, extra="mpls_label_stack_encode_as_array: true\n"
        "fwd_status_encode_as_string: true\ntcpflags_encode_as_array: true\n"))}
    names = {64: "FORWARDED Unknown", 130: "DROPPED ACL drop", 195: "CONSUMED For us"}
    flag_names = ["URG", "ACK", "PSH", "RST", "SYN", "FIN"]
    for (s, _, _, _, flags, _, _, _, _, _, fwd, _, lab) in NAT_RECS:
        # the stack ends at the entry with the bottom-of-stack bit (crafted above)
        stack = [lab[0], lab[1]] if lab[2] == 0 else list(lab)
        assert plain[s]["mpls_label_stack"] == "_".join(str(x) for x in stack)
        assert plain[s]["fwd_status"] == str(fwd)
        assert plain[s]["tcp_flags"] == str(flags)
        assert arr[s]["mpls_label_stack"] == [f"{i}-{x}" for i, x in enumerate(stack)]
        assert arr[s]["fwd_status"] == names[fwd]
        assert arr[s]["tcp_flags"] == [n for i, n in enumerate(flag_names)
                                       if flags & (1 << (5 - i))]


@needs_ours
def test_formatted_titles(tmp_path):
    dg = nat_datagrams()
    text = run(NFACCTD, tmp_path, dg, "src_host,post_nat_src_host,post_nat_src_port,nat_event,"
               "mpls_vpn_rd,fwd_status", "formatted")
    head = text.splitlines()[0]
    for title in ("MPLS_VPN_RD", "SRC_IP", "FWD_STATUS", "POST_NAT_SRC_IP", "POST_NAT_SRC_PORT",
                  "NAT_EVENT", "PACKETS", "BYTES"):
        assert title in head
    assert head.index("MPLS_VPN_RD") < head.index("SRC_IP") < head.index("POST_NAT_SRC_IP")


# ---- names and RDs from options, exporter address -----------------------------

def options_datagrams(v9=False):
    """Interface names (IE 82 by IE 10), VRF names and RDs (IE 234 + 236 + 90), IE 130."""
    ifnames = {3: "ge-0/0/1", 4: "xe-1/0/0", 7: "ae0"}
    vrfs = {5: ("blue", rd_type0(65000, 5)), 6: ("red", rd_type1("192.0.2.1", 6)),
            0: ("default", b"\0" * 8)}
    recs = [("10.0.0.1", 3, 4, 5, 0), ("10.0.0.2", 4, 7, 0, 6), ("10.0.0.3", 7, 99, 6, 5),
            ("10.0.0.4", 99, 3, 0, 0)]
    data = b"".join(nf.ip4(s) + struct.pack("!IIIIQQ", i, o, iv, ev, 100 * n, n)
                    for n, (s, i, o, iv, ev) in enumerate(recs, 1))
    dtpl = [(8, 4), (10, 4), (14, 4), (234, 4), (235, 4), (1, 8), (2, 8)]
    vrf_rows = b"".join(struct.pack("!I", k) + v[0].encode().ljust(32, b"\0") + v[1]
                        for k, v in vrfs.items())
    if v9:
        if_rows = b"".join(struct.pack("!I", k) + v.encode().ljust(16, b"\0")
                           for k, v in ifnames.items())
        sets = [nf.set_(1, v9otpl(300, [(2, 4)], [(82, 16)]) + v9otpl(301, [(2, 4)],
                                                                    [(234, 4), (236, 32), (90, 8)])),
                nf.set_(0, tpl(256, dtpl)), nf.set_(300, if_rows),
                nf.set_(301, b"".join(struct.pack("!I", 0) + r for r in
                                      [vrf_rows[i:i + 44] for i in range(0, len(vrf_rows), 44)])),
                nf.set_(256, data)]
        return [("127.0.0.1", nf.v9(sets))], ifnames, vrfs, recs
    if_rows = b"".join(struct.pack("!I", k) + varstr(v) for k, v in ifnames.items())
    sets = [nf.set_(3, otpl(300, [(10, 4)], [(82, 0xffff)]) +
                    otpl(301, [(234, 4)], [(236, 32), (90, 8)]) +
                    otpl(302, [(149, 4)], [(130, 4)])),
            nf.set_(2, tpl(256, dtpl)), nf.set_(300, if_rows), nf.set_(301, vrf_rows),
            nf.set_(302, struct.pack("!I", 0) + nf.ip4("192.0.2.200")), nf.set_(256, data)]
    return [("127.0.0.1", nf.ipfix(sets))], ifnames, vrfs, recs


def expected_vrf_name(vrfs, iv, ev):
    ing = vrfs.get(iv, ("", b""))[0]
    eg = vrfs.get(ev, ("", b""))[0]
    if (iv == 0 or ing in ("", "default")) and eg not in ("", "default"):
        return eg
    return ing


def rd_text(rd):
    t = struct.unpack("!H", rd[:2])[0]
    if t == 0:
        return "0:%d:%d" % struct.unpack("!HI", rd[2:])
    return "1:%s:%d" % (socket.inet_ntoa(rd[2:6]), struct.unpack("!H", rd[6:])[0])


@needs_ours
@pytest.mark.parametrize("v9", [False, True])
def test_names_from_options(tmp_path, v9):
    dg, ifnames, vrfs, recs = options_datagrams(v9)
    prims = ("src_host,in_iface_name,out_iface_name,vrf_name,ingress_vrf_name,egress_vrf_name,"
             "mpls_vpn_rd")
    got = {r["ip_src"]: r for r in jrows(run(NFACCTD, tmp_path, dg, prims))}
    assert len(got) == len(recs)
    for (s, i, o, iv, ev) in recs:
        r = got[s]
        assert r["iface_name_in"] == ifnames.get(i, "")
        assert r["iface_name_out"] == ifnames.get(o, "")
        assert r["ingress_vrf_name"] == vrfs.get(iv, ("",))[0]
        assert r["egress_vrf_name"] == vrfs.get(ev, ("",))[0]
        assert r["vrf_name"] == expected_vrf_name(vrfs, iv, ev)
        # pmacct master's rule: the ingress VRF (else the egress one), by the RDs the options
        # mapped to ingress VRF ids (these options name no egress VRF), else "vrfid:<id>"
        vid = iv or ev
        if not vid:
            assert r["mpls_vpn_rd"] == "0:0:0"
        elif iv and iv in vrfs:
            assert r["mpls_vpn_rd"] == rd_text(vrfs[iv][1])
        else:
            assert r["mpls_vpn_rd"] == f"vrfid:{vid}"


@needs_ours
@needs_ref
def test_exporter_address_differential(tmp_path):
    data = nf.ip4("10.0.0.1") + struct.pack("!QQ", 100, 1)
    dg = [("127.0.0.1", nf.ipfix([nf.set_(3, otpl(302, [(149, 4)], [(130, 4)])),
                                  nf.set_(2, tpl(256, [(8, 4), (1, 8), (2, 8)])),
                                  nf.set_(302, struct.pack("!I", 0) + nf.ip4("192.0.2.200")),
                                  nf.set_(256, data)]))]
    # a second exporter without the option keeps its own address
    dg = dg + [("127.0.0.2", nf.ipfix([nf.set_(2, tpl(256, [(8, 4), (1, 8), (2, 8)])),
                                       nf.set_(256, nf.ip4("10.1.1.1") + struct.pack("!QQ", 5, 1))]))]
    ours, ref = run_both(tmp_path, dg, "peer_src_ip,src_host")
    assert canon(jrows(ours)) == canon(jrows(ref))
    peers = {r["ip_src"]: r["peer_ip_src"] for r in jrows(ours)}
    assert peers["10.0.0.1"] == "192.0.2.200" and peers["10.1.1.1"] == "127.0.0.2"
    off = run(NFACCTD, tmp_path / "off", dg, "peer_src_ip,src_host",
              extra="nfacctd_ignore_exporter_address: true\n")
    assert {r["peer_ip_src"] for r in jrows(off)} == {"127.0.0.1", "127.0.0.2"}


@needs_ours
@needs_ref
def test_flow_to_rd_map_differential(tmp_path):
    rdmap = tmp_path / "rd.map"
    rdmap.write_text("! first match wins\nid=0:65000:7 ip=127.0.0.1 in=3\n"
                     "id=1:192.0.2.1:9 ip=127.0.0.0/8 in=1\n"
                     "id=2:4200000000:3 ip=127.0.0.2\n")
    # records that match no line, after one that did, keep no RD (IPFIX and v5)
    recs = b"".join(nf.ip4(f"10.0.0.{i}") + struct.pack("!IQQ", i, 1000 * i, i) for i in (1, 2, 3, 4))
    dg = [("127.0.0.1", nf.ipfix([nf.set_(2, tpl(256, [(8, 4), (10, 4), (1, 8), (2, 8)])),
                                  nf.set_(256, recs)])),
          ("127.0.0.1", nf.v5([dict(src="10.5.0.1", inif=3), dict(src="10.5.0.2", inif=9)])),
          ("127.0.0.2", nf.v5([dict(src="10.6.0.1", inif=9)]))]
    extra = f"flow_to_rd_map: {rdmap}\n"
    ours, ref = run_both(tmp_path, dg, "src_host,in_iface,mpls_vpn_rd", extra=extra)
    assert canon(jrows(ours)) == canon(jrows(ref))
    assert {r["ip_src"]: r["mpls_vpn_rd"] for r in jrows(ours)} == {
        "10.0.0.1": "1:192.0.2.1:9", "10.0.0.2": "0:0:0", "10.0.0.3": "0:65000:7",
        "10.0.0.4": "0:0:0", "10.5.0.1": "0:65000:7", "10.5.0.2": "0:0:0",
        "10.6.0.1": "2:4200000000:3"}


@needs_ours
def test_flow_to_rd_map_error_names_line(tmp_path):
    rdmap = tmp_path / "rd.map"
    rdmap.write_text("id=0:65000:7 ip=127.0.0.1\nid=9:1:1 ip=127.0.0.1\n")
    conf = tmp_path / "c.conf"
    conf.write_text(f"flow_to_rd_map: {rdmap}\nplugins: print\n")
    r = subprocess.run([str(NFACCTD), "-f", str(conf), "-I", "/dev/null"], env=ENV,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert f"{rdmap}:2]" in r.stdout + r.stderr


@needs_ours
def test_flow_to_rd_map_reloads_on_sigusr2(tmp_path):
    """SIGUSR2 reloads flow_to_rd_map on a running collector; a map that no longer loads
    keeps the previous one."""
    rdmap = tmp_path / "rd.map"
    rdmap.write_text("id=0:65000:1 ip=127.0.0.1\n")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    out, log = tmp_path / "out.json", tmp_path / "log"
    conf = tmp_path / "c.conf"
    conf.write_text(f"nfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\nflow_to_rd_map: {rdmap}\n"
                    f"plugins: print[p]\naggregate[p]: src_host, mpls_vpn_rd\nprint_output[p]: json\n"
                    f"print_output_file[p]: {out}\nprint_output_file_append[p]: true\n"
                    f"logfile: {log}\n")
    proc = subprocess.Popen([str(NFACCTD), "-f", str(conf)], env=ENV)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and "waiting for NetFlow" not in (log.read_text() if log.exists() else ""):
            time.sleep(0.1)
        tx.sendto(nf.v5([dict(src="10.9.0.1")]), ("127.0.0.1", port))
        time.sleep(0.5)
        rdmap.write_text("id=0:65000:2 ip=127.0.0.1\n")
        proc.send_signal(signal.SIGUSR2)
        time.sleep(1)
        tx.sendto(nf.v5([dict(src="10.9.0.2")]), ("127.0.0.1", port))
        time.sleep(0.5)
        rdmap.write_text("id=bogus ip=127.0.0.1\n")
        proc.send_signal(signal.SIGUSR2)
        time.sleep(1)
        tx.sendto(nf.v5([dict(src="10.9.0.3")]), ("127.0.0.1", port))
        time.sleep(0.5)
    finally:
        tx.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    got = {r["ip_src"]: r["mpls_vpn_rd"] for r in jrows(out.read_text())}
    assert got == {"10.9.0.1": "0:65000:1", "10.9.0.2": "0:65000:2", "10.9.0.3": "0:65000:2"}
    text = log.read_text()
    assert "map successfully (re)loaded" in text and "keeping the previous map" in text


# ---- custom primitives -------------------------------------------------------

PRIMS_LST = """! custom primitives
name=mtla\tfield_type=47\tlen=4\tsemantics=ip
name=mtlpl\tfield_type=91\tlen=1\tsemantics=u_int
name=alu_91\tfield_type=637:91\tlen=2\tsemantics=hex
name=fulltop\tfield_type=70\tlen=3\tsemantics=raw
name=big\tfield_type=999\tlen=8\tsemantics=u_int
name=smac\tfield_type=56\tlen=6\tsemantics=mac
name=ifn\tfield_type=82\tlen=vlen\tsemantics=str
"""
CUST_F = [(8, 4), (1, 8), (2, 8), (47, 4), (91, 1), (91, 2, 637), (70, 3), (999, 8), (56, 6),
          (82, 0xffff)]
CUST_RECS = [("10.0.0.1", 1000, 10, "192.0.2.9", 24, 0xbeef, 100, 2 ** 40 + 5, "0a0b0c0d0e0f", "ge-0"),
             ("10.0.0.2", 2000, 20, "192.0.2.10", 16, 0x0001, 1048575, 7, "000000000001", "xe-1/1")]


def custom_datagrams():
    body = b"".join(nf.ip4(s) + struct.pack("!QQ", b, p) + nf.ip4(m) + struct.pack("!BH", pl, alu)
                    + label(top, bos=True) + struct.pack("!Q", big) + bytes.fromhex(mac) +
                    varstr(ifn)
                    for (s, b, p, m, pl, alu, top, big, mac, ifn) in CUST_RECS)
    return [("127.0.0.1", nf.ipfix([nf.set_(2, tpl(256, CUST_F)), nf.set_(256, body)]))]


FIXED_CUSTOM = "src_host,mtla,mtlpl,alu_91,fulltop,big,smac"


@needs_ours
@needs_ref
@pytest.mark.parametrize("fmt", ["json", "csv", "formatted"])
def test_custom_primitives_differential(tmp_path, fmt):
    (tmp_path / "p.lst").write_text(PRIMS_LST)
    extra = f"aggregate_primitives: {tmp_path / 'p.lst'}\n"
    ours, ref = run_both(tmp_path, custom_datagrams(), FIXED_CUSTOM, fmt, extra)
    assert_same_output(ours, ref, fmt)


@needs_ours
def test_custom_primitives_values(tmp_path):
    (tmp_path / "p.lst").write_text(PRIMS_LST)
    extra = f"aggregate_primitives: {tmp_path / 'p.lst'}\n"
    got = {r["ip_src"]: r for r in jrows(run(NFACCTD, tmp_path, custom_datagrams(),
                                             FIXED_CUSTOM + ",ifn", "json", extra))}
    for (s, b, p, m, pl, alu, top, big, mac, ifn) in CUST_RECS:
        r = got[s]
        wire = label(top, bos=True)
        assert r["mtla"] == m and r["mtlpl"] == str(pl) and r["alu_91"] == format(alu, "x")
        assert r["fulltop"] == "-".join(f"{x:02X}" for x in wire)
        assert r["big"] == str(big) and r["smac"] == ":".join(mac[i:i + 2] for i in range(0, 12, 2))
        assert r["ifn"] == ifn and (r["packets"], r["bytes"]) == (p, b)


@needs_ours
def test_custom_primitives_sqlite(tmp_path):
    (tmp_path / "p.lst").write_text(PRIMS_LST)
    db = tmp_path / "t.db"
    import sqlite3
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE acct (ip_src TEXT, mtla TEXT, big BIGINT, alu_91 TEXT, "
                "packets INT, bytes INT, stamp_inserted INT, stamp_updated INT)")
    con.commit()
    con.close()
    nf.write_pcap(tmp_path / "in.pcap", custom_datagrams())
    conf = tmp_path / "c.conf"
    conf.write_text(f"aggregate_primitives: {tmp_path / 'p.lst'}\nplugins: sqlite3[s]\n"
                    f"aggregate[s]: src_host,mtla,big,alu_91\nsql_db[s]: {db}\n"
                    "sql_table[s]: acct\nsql_optimize_clauses[s]: true\n"
                    "sql_refresh_time[s]: 3600\n")
    r = subprocess.run([str(NFACCTD), "-f", str(conf), "-I", str(tmp_path / "in.pcap")],
                       env=ENV, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    con = sqlite3.connect(db)
    rows = sorted(con.execute("SELECT ip_src, mtla, big, alu_91, packets, bytes FROM acct"))
    con.close()
    assert rows == sorted((s, m, big, format(alu, "x"), p, b)
                          for (s, b, p, m, pl, alu, top, big, mac, ifn) in CUST_RECS)


@needs_ours
@pytest.mark.parametrize("lst,why", [
    ("name=a field_type=1 len=3 semantics=u_int\n", ":1]"),
    ("name=ok field_type=1 len=4 semantics=u_int\nname=src_host field_type=8 len=4 semantics=ip\n",
     ":2]"),
    ("".join(f"name=s{i} field_type={300 + i} len=100 semantics=str\n" for i in range(3)),
     "bytes reserved"),
])
def test_custom_primitives_errors(tmp_path, lst, why):
    (tmp_path / "p.lst").write_text(lst)
    conf = tmp_path / "c.conf"
    conf.write_text(f"plugins: print\n\naggregate_primitives: {tmp_path / 'p.lst'}\n")
    r = subprocess.run([str(NFACCTD), "-f", str(conf), "-I", "/dev/null"], env=ENV,
                       capture_output=True, text=True, timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert f"{conf}:3]" in out and why in out, out



@needs_ours
def test_custom_primitives_memory_client(tmp_path):
    if not os.access(PMACCT, os.X_OK):
        pytest.skip(f"our pmacct client missing at {PMACCT}")
    (tmp_path / "p.lst").write_text(PRIMS_LST)
    sock = tmp_path / "imt.pipe"
    port = free_port()
    conf = tmp_path / "c.conf"
    conf.write_text(f"aggregate_primitives: {tmp_path / 'p.lst'}\nnfacctd_ip: 127.0.0.1\n"
                    f"nfacctd_port: {port}\nplugins: memory[m]\naggregate[m]: src_host,mtla,big\n"
                    f"imt_path[m]: {sock}\n")
    log = tmp_path / "log"
    with open(log, "w") as lf:
        proc = subprocess.Popen([str(NFACCTD), "-f", str(conf)], stdout=lf,
                                stderr=subprocess.STDOUT, env=ENV)
    try:
        assert wait_for(lambda: file_has(log, "waiting for NetFlow"), 10), log.read_text()
        nf.send_all(port, custom_datagrams())
        want = sorted((s, m, str(big)) for (s, b, p, m, pl, alu, top, big, mac, ifn) in CUST_RECS)
        got = []
        for _ in range(50):
            r = subprocess.run([str(PMACCT), "-p", str(sock), "-s", "-O", "json"],
                               capture_output=True, text=True, timeout=10)
            got = sorted((x["ip_src"], x["mtla"], x["big"]) for x in jrows(r.stdout))
            if got == want:
                break
            time.sleep(0.1)
        assert got == want, r.stdout + r.stderr
        r = subprocess.run([str(PMACCT), "-p", str(sock), "-s"], capture_output=True, text=True,
                           timeout=10)
        assert "mtla" in r.stdout.splitlines()[0] and "192.0.2.9" in r.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


# ---- tcp flags, timestamps, writer_id ------------------------------------------

TS_F = [(8, 4), (1, 8), (2, 8), (6, 1), (152, 8), (153, 8)]
TS_RECS = [("10.0.0.%d" % i, 100 * i, i, flags, 1700000000123 + 1001 * i, 1700000005456 + 7 * i)
           for i, flags in enumerate([0x02, 0x12, 0x11, 0x3f, 0x40, 0xc2], 1)]


def ts_datagrams():
    body = b"".join(nf.ip4(s) + struct.pack("!QQBQQ", b, p, f, t0, t1) for (s, b, p, f, t0, t1) in TS_RECS)
    return [("127.0.0.1", nf.ipfix([nf.set_(2, tpl(256, TS_F)), nf.set_(256, body)]))]


TS_PRIMS = "src_host,tcpflags,timestamp_start,timestamp_end,timestamp_export"


@needs_ours
@needs_ref
@pytest.mark.parametrize("keys", [
    "", "timestamps_secs: true\n", "timestamps_since_epoch: true\n",
    "timestamps_utc: true\ntimestamps_rfc3339: true\n",
    "timestamps_rfc3339: true\ntimestamps_secs: true\n",
    "timestamps_since_epoch: true\ntimestamps_secs: true\n"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_timestamps_differential(tmp_path, keys, fmt):
    assert_same_output(*run_both(tmp_path, ts_datagrams(), TS_PRIMS, fmt, keys), fmt)


@needs_ours
def test_tcpflags_array(tmp_path):
    got = {r["ip_src"]: r["tcp_flags"] for r in jrows(run(
        NFACCTD, tmp_path, ts_datagrams(), "src_host,tcpflags",
        extra="tcpflags_encode_as_array: true\n"))}
    names = ["URG", "ACK", "PSH", "RST", "SYN", "FIN"]
    for (s, _, _, f, _, _) in TS_RECS:
        # as pmacct: flags are named only for values 1..63 (no ECE/CWR)
        want = [n for i, n in enumerate(names) if f & (1 << (5 - i))] if 1 <= f <= 63 else []
        assert got[s] == want


@needs_ours
def test_writer_id_string_markers(tmp_path):
    # as pmacct master: the print plugin's markers ignore writer_id_string (Kafka / AMQP only)
    out = run(NFACCTD, tmp_path, ts_datagrams(), "src_host", "json",
              "print_markers: true\nwriter_id_string: $proc_name-x-$writer_pid\n")
    rows = [json.loads(x) for x in out.splitlines()]
    assert rows[0]["event_type"] == "purge_init" and rows[-1]["event_type"] == "purge_close"
    name, pid = rows[0]["writer_id"].split("/")
    assert name == "p" and pid.isdigit()
    assert rows[-1]["writer_id"] == rows[0]["writer_id"]


# ---- dual stack ----------------------------------------------------------------

@needs_ours
def test_v4_mapped_exporter_is_plain_ipv4(tmp_path):
    dg = [("127.0.0.3", nf.ipfix([nf.set_(2, tpl(256, [(8, 4), (1, 8), (2, 8)])),
                                  nf.set_(256, nf.ip4("10.2.2.2") + struct.pack("!QQ", 50, 5))]))]
    out, log = nf.run_collector(NFACCTD, tmp_path, free_port(), dg, "json",
                                extra="nfacctd_ip: ::\n", aggregate="peer_src_ip,src_host")
    assert [r["peer_ip_src"] for r in jrows(out)] == ["127.0.0.3"], log


# ---- SQL: timestamps as pmacct writes them ---------------------------------------

@needs_ours
@needs_ref
@pytest.mark.parametrize("keys", ["", "timestamps_since_epoch: true\n"])
def test_sql_timestamps_differential(tmp_path, keys):
    """timestamp_* columns hold whole seconds (a DATETIME, or the epoch with
    timestamps_since_epoch) and <name>_residual the microseconds."""
    import sqlite3
    recs = b"".join(nf.ip4(f"10.0.0.{i}") + struct.pack("!QQQQ", 1000 * i, i, 1700000000123 + i,
                                                      1700000005456 + 1000 * i)
                    for i in range(1, 21))
    dg = [("127.0.0.1", nf.ipfix([nf.set_(2, tpl(256, [(8, 4), (1, 8), (2, 8), (152, 8), (153, 8)])),
                                  nf.set_(256, recs)]))]

    def table(binary, d):
        d.mkdir()
        db = d / "t.db"
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE acct (ip_src TEXT, timestamp_start TEXT, timestamp_start_residual "
                    "INT, timestamp_end TEXT, timestamp_end_residual INT, packets INT, bytes INT)")
        con.commit()
        con.close()
        nf.write_pcap(d / "in.pcap", dg)
        (d / "c.conf").write_text(f"plugins: sqlite3[s]\naggregate[s]: src_host,timestamp_start,"
                                  f"timestamp_end\nsql_db[s]: {db}\nsql_table[s]: acct\n"
                                  "sql_optimize_clauses[s]: true\nsql_refresh_time[s]: 3600\n" + keys)
        r = subprocess.run([str(binary), "-f", str(d / "c.conf"), "-I", str(d / "in.pcap")],
                           env=ENV, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        con = sqlite3.connect(db)
        rows = sorted(con.execute("SELECT * FROM acct"))
        con.close()
        return rows
    tables = {"ours": table(NFACCTD, tmp_path / "ours")}
    tables["ref"] = retry_reference(lambda i: table(REF_NFACCTD, tmp_path / f"ref{i}"),
                                    lambda rows: len(rows) == 20)
    assert len(tables["ref"]) == 20
    assert tables["ours"] == tables["ref"]


@needs_ours
def test_names_memory_client_match(tmp_path):
    """Interface names in the memory table, matched with pmacct -c in_iface_name -M."""
    if not os.access(PMACCT, os.X_OK):
        pytest.skip(f"our pmacct client missing at {PMACCT}")
    dg, ifnames, vrfs, recs = options_datagrams()
    sock = tmp_path / "imt.pipe"
    port = free_port()
    log = tmp_path / "log"
    proc = spawn_daemon(NFACCTD, tmp_path / "c.conf",
                        f"nfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\nplugins: memory[m]\n"
                        f"aggregate[m]: src_host,in_iface_name,mpls_vpn_rd\nimt_path[m]: {sock}\n",
                        log, ENV)
    try:
        assert wait_for(lambda: file_has(log, "waiting for NetFlow"), 10), log.read_text()
        nf.send_all(port, dg)
        want = sorted((s, ifnames.get(i, "")) for (s, i, o, iv, ev) in recs)
        for _ in range(50):
            r = subprocess.run([str(PMACCT), "-p", str(sock), "-s", "-O", "json"],
                               capture_output=True, text=True, timeout=10)
            got = sorted((x["ip_src"], x["iface_name_in"]) for x in jrows(r.stdout))
            if got == want:
                break
            time.sleep(0.1)
        assert got == want, r.stdout + r.stderr
        r = subprocess.run([str(PMACCT), "-p", str(sock), "-c", "in_iface_name", "-M", "xe-1/0/0",
                            "-O", "json"], capture_output=True, text=True, timeout=10)
        assert sorted(x["ip_src"] for x in jrows(r.stdout)) == sorted(
            s for (s, i, o, iv, ev) in recs if ifnames.get(i) == "xe-1/0/0"), r.stdout + r.stderr
        r = subprocess.run([str(PMACCT), "-p", str(sock), "-c", "mpls_vpn_rd", "-N", "0:65000:5"],
                           capture_output=True, text=True, timeout=10)
        n_blue = sum(n for n, (s, i, o, iv, ev) in enumerate(recs, 1) if iv == 5)
        assert r.stdout.split() == [str(100 * n_blue)], r.stdout + r.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


# ---- early data: data sets that arrive before their template -------------------

EARLY_F = [8, 12, 7, 11, 4, 1, 2, 152, 153]


def early_datagrams(filler=0):
    """Two exporters whose first datagrams carry data for templates not yet sent
    (IPFIX template 300 from 127.0.0.1, v9 template 301 from 127.0.0.2), then
    the templates with one more record each.  Returns (datagrams, tallies by
    (exporter, src) of (packets, bytes), the tallies of the records sent after
    their template only).  `filler` v5 datagrams from 127.0.0.9 follow, whose
    own record (src 10.99.0.1) is in the tallies too."""
    def rec(src, i):
        return nf.pack_rec(EARLY_F, [src, "10.8.0.1", 2000 + i, 80, 6, 1000 + i, 1 + i,
                                     1699999990000 + i, 1699999995000 + i])
    dg, every, after = [], {}, {}

    def count(tally, exp, src, i):
        p, b = tally.get((exp, src), (0, 0))
        tally[(exp, src)] = (p + 1 + i, b + 1000 + i)

    for seq in range(3):
        srcs = [f"10.7.{seq}.{k}" for k in range(1, 4)]
        dg.append(("127.0.0.1", nf.ipfix([nf.set_(300, b"".join(rec(s, k) for k, s in
                                                           enumerate(srcs)))], seq=seq * 3, odid=5)))
        dg.append(("127.0.0.2", nf.v9([nf.set_(301, b"".join(rec(s, k) for k, s in enumerate(srcs)))],
                                      seq=seq, source_id=6)))
        for k, s in enumerate(srcs):
            count(every, "127.0.0.1", s, k)
            count(every, "127.0.0.2", s, k)
    dg.append(("127.0.0.1", nf.ipfix([nf.set_(2, nf.tpl_record(300, EARLY_F)),
                                      nf.set_(300, rec("10.7.9.9", 0))], seq=9, odid=5)))
    dg.append(("127.0.0.2", nf.v9([nf.set_(0, nf.tpl_record(301, EARLY_F)),
                                   nf.set_(301, rec("10.7.9.9", 0))], seq=3, source_id=6)))
    for exp in ("127.0.0.1", "127.0.0.2"):
        count(every, exp, "10.7.9.9", 0)
        count(after, exp, "10.7.9.9", 0)
    if filler:
        v5 = nf.v5([{"src": "10.99.0.1", "octs": 10, "pkts": 1}])
        dg += [("127.0.0.9", v5)] * filler
        every[("127.0.0.9", "10.99.0.1")] = (filler, 10 * filler)
        after[("127.0.0.9", "10.99.0.1")] = (filler, 10 * filler)
    return dg, every, after


def tallies(text):
    got = {}
    for r in jrows(text):
        k = (r["peer_ip_src"], r["ip_src"])
        p, b = got.get(k, (0, 0))
        got[k] = (p + r["packets"], b + r["bytes"])
    return got


@needs_ours
def test_early_data_held_then_decoded(tmp_path):
    """nfacctd_early_data_hold: every record counts, as if the templates had come first."""
    dg, every, _ = early_datagrams()
    out = run(NFACCTD, tmp_path, dg, "peer_src_ip,src_host",
              extra="nfacctd_early_data_hold: 30\n")
    assert tallies(out) == every


@needs_ours
def test_early_data_default_as_pmacct(tmp_path):
    """Off by default: the early sets are counted as unknown_template and skipped, as
    pmacct does, and one rate-limited warning says so."""
    dg, _, after = early_datagrams()
    pcap = tmp_path / "in.pcap"
    nf.write_pcap(pcap, dg)
    conf = tmp_path / "c.conf"
    conf.write_text(f"plugins: print[p]\naggregate[p]: peer_src_ip,src_host\n"
                    f"print_output[p]: json\nprint_output_file[p]: {tmp_path}/o.json\n")
    r = subprocess.run([str(NFACCTD), "-f", str(conf), "-I", str(pcap)], env=ENV, timeout=60,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert tallies((tmp_path / "o.json").read_text()) == after


@needs_ours
@needs_ref
def test_early_data_default_matches_reference(tmp_path):
    dg, _, after = early_datagrams()
    ours, ref = run_both(tmp_path, dg, "peer_src_ip,src_host")
    assert tallies(ours) == tallies(ref) == after


@needs_ours
def test_early_data_expires_and_warns_once(tmp_path):
    """A set whose template never comes is given up after the hold time (counted as
    unknown_template, in one warning line, not one per set); the bytes held are bounded."""
    dg, every, after = early_datagrams(filler=0)
    # template 302 never comes; then 9000 v5 datagrams, one second of capture time apart
    never = nf.pack_rec(EARLY_F, ["10.6.0.1", "10.8.0.1", 1, 80, 6, 5, 1, 1699999990000,
                                  1699999995000])
    dg = [("127.0.0.3", nf.ipfix([nf.set_(302, never)], seq=k, odid=1)) for k in range(50)] + dg
    v5 = nf.v5([{"src": "10.99.0.1", "octs": 10, "pkts": 1}])
    dg += [("127.0.0.9", v5)] * 9000
    every[("127.0.0.9", "10.99.0.1")] = (9000, 90000)
    pcap = tmp_path / "in.pcap"
    nf.write_pcap(pcap, dg)
    conf = tmp_path / "c.conf"
    conf.write_text(f"plugins: print[p]\naggregate[p]: peer_src_ip,src_host\n"
                    f"print_output[p]: json\nprint_output_file[p]: {tmp_path}/o.json\n"
                    "nfacctd_early_data_hold: 120\n")
    r = subprocess.run([str(NFACCTD), "-f", str(conf), "-I", str(pcap)], env=ENV, timeout=60,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert tallies((tmp_path / "o.json").read_text()) == every
    warn = [x for x in r.stderr.splitlines() if "not decoded since" in x]
    # the capture spans ~9000 s: the 50 sets expire at once, 120 s in, and are reported
    # together; nothing else is dropped
    assert len(warn) == 1, r.stderr
    assert "unknown_template=50" in warn[0], warn


# ---- custom primitives in the aggregate's order; the client's -U, -M and -N -------

@needs_ours
@needs_ref
@pytest.mark.parametrize("fmt", ["json", "csv", "formatted"])
def test_custom_columns_in_aggregate_order(tmp_path, fmt):
    """Columns follow the aggregate's order, not the definition file's (as 1.7.7)."""
    (tmp_path / "p.lst").write_text(PRIMS_LST)
    extra = f"aggregate_primitives: {tmp_path / 'p.lst'}\n"
    agg = "src_host,mtla,big,smac,mtlpl"
    ours, ref = run_both(tmp_path, custom_datagrams(), agg, fmt, extra)
    assert_same_output(ours, ref, fmt)
    if fmt == "json":
        assert [list(r) for r in jrows(ours)] == [list(r) for r in jrows(ref)]


class MemoryDaemon:
    """A collector with a memory plugin on a loopback port, fed `datagrams`
    (default: the custom-primitive ones, with their aggregate_primitives)."""

    def __init__(self, binary, tmp, agg, datagrams=None):
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "p.lst").write_text(PRIMS_LST)
        self.datagrams = datagrams
        self.sock = tmp / "imt.pipe"
        self.port = free_port()
        conf = tmp / "c.conf"
        conf.write_text(f"aggregate_primitives: {tmp / 'p.lst'}\nnfacctd_ip: 127.0.0.1\n"
                        f"nfacctd_port: {self.port}\nplugins: memory[m]\naggregate[m]: {agg}\n"
                        f"imt_path[m]: {self.sock}\n")
        self.log = tmp / "log"
        with open(self.log, "w") as lf:
            self.proc = subprocess.Popen([str(binary), "-f", str(conf)], stdout=lf,
                                         stderr=subprocess.STDOUT, env=ENV)
        assert wait_for(lambda: file_has(self.log, "waiting for NetFlow"), 10), self.log.read_text()

    def feed_until(self, client, entries):
        nf.send_all(self.port, self.datagrams or custom_datagrams())
        for _ in range(100):
            r = self.client(client, "-s", "-O", "json")
            if len(jrows(r.stdout)) == entries:
                return
            time.sleep(0.1)
        raise AssertionError(r.stdout + r.stderr + self.log.read_text())

    def client(self, client, *args):
        return subprocess.run([str(client), "-p", str(self.sock), *args], capture_output=True,
                              text=True, timeout=10)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=20)
        self.proc.wait(timeout=20)


REF_PMACCT = Path(os.environ.get("REF_PMACCT", "/usr/bin/pmacct"))


@needs_ours
@needs_ref
def test_client_custom_listing_matches_reference(tmp_path):
    """-s columns and -U (names, lengths, offsets) as 1.7.7's client shows them."""
    if not (os.access(PMACCT, os.X_OK) and os.access(REF_PMACCT, os.X_OK)):
        pytest.skip("a pmacct client is missing")
    agg = "src_host,mtla,smac,mtlpl"
    queries = (("-U",), ("-s",), ("-s", "-O", "csv"))

    def replies(binary, client, tmp):
        d = MemoryDaemon(binary, tmp, agg)
        try:
            d.feed_until(client, 2)
            return {q: d.client(client, *q) for q in queries}
        finally:
            d.stop()
    ours = replies(NFACCTD, PMACCT, tmp_path / "ours")
    # the reference's daemon and client again while a reply differs from ours
    ref = retry_reference(lambda i: replies(REF_NFACCTD, REF_PMACCT, tmp_path / f"ref{i}"),
                          lambda ref: all(lines(ref[q].stdout) == lines(ours[q].stdout)
                                          for q in queries))
    for q in queries:
        assert ours[q].returncode == ref[q].returncode, q
        assert lines(ours[q].stdout) == lines(ref[q].stdout), q
    assert "mtla" in ours[("-U",)].stdout


@needs_ours
@pytest.mark.parametrize("prims,value,want", [
    ("mtla", "192.0.2.9", {"10.0.0.1"}),
    ("big,src_host", f"{2 ** 40 + 5},10.0.0.1", {"10.0.0.1"}),
    ("big", "7", {"10.0.0.2"}),
    ("smac", "00:00:00:00:00:01", {"10.0.0.2"}),
    ("mtlpl", "16", {"10.0.0.2"}),
    ("mtla", "192.0.2.77", set()),
])
def test_client_matches_custom(tmp_path, prims, value, want):
    """Beyond 1.7.7 (which refuses -M/-N against custom primitives): they match."""
    if not os.access(PMACCT, os.X_OK):
        pytest.skip(f"our pmacct client missing at {PMACCT}")
    d = MemoryDaemon(NFACCTD, tmp_path, "src_host,mtla,big,smac,mtlpl")
    try:
        d.feed_until(PMACCT, 2)
        r = d.client(PMACCT, "-c", prims, "-M", value, "-O", "json")
        assert r.returncode == 0, r.stdout + r.stderr
        assert {x["ip_src"] for x in jrows(r.stdout)} == want
        r = d.client(PMACCT, "-c", prims, "-N", value)
        bytes_ = {"10.0.0.1": 1000, "10.0.0.2": 2000}
        assert r.stdout.strip() == str(sum(bytes_[s] for s in want))
    finally:
        d.stop()
