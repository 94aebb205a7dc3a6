# SPDX-License-Identifier: BSD-3-Clause
"""nfacctd on exports written as real routers write them (router_exports.py:
IOS-XR IPFIX with VRF, RD, interface and sampler options tables and a
template withdrawn and redefined mid-stream; Junos IPFIX with sampling in
options data, label stacks, IE 160 uptime times, IPv6 flow labels; Huawei
v9 from IPv6 exporters).

Truth comes from three places, none of them our code:
- tshark's IPFIX/NetFlow dissector on the same capture: per-record
  addresses and counters, the options tables' VRF names and ids;
- upstream pmacct master (../shared/reference/pmacct-master/nfacctd), for
  every primitive, on the same capture and config: our JSON must equal its
  JSON row for row.  Ours is asked for `mpls_vpn_rd_origin` where master
  prints it unasked (with mpls_vpn_rd), and tcpflags are compared with
  Debian 1.7.7 instead (master prints them as a number, 1.7.7 as a string,
  and 1.7.7's string is our default);
- Debian's nfacctd 1.7.7 with the primitives it has, where its output is our
  default (route distinguishers mapped by options data are newer than 1.7.7).

Environment: NFACCTD, REF_NFACCTD (Debian 1.7.7), MASTER_NFACCTD.
"""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

import router_exports as rx
from conftest import (collector_print_conf, file_has, free_port, needs_tshark, retry_reference,
                      spawn_daemon, wait_for)
import test_nfacctd as nf
import test_nfacctd_features as ff

REPO = Path(__file__).resolve().parents[2]
NFACCTD = nf.NFACCTD
REF_NFACCTD = nf.REF_NFACCTD
ENV = nf.ENV


def _master():
    env = os.environ.get("MASTER_NFACCTD")
    if env:
        return Path(env)
    for base in (REPO.parent / "shared", Path("/work/shared")):
        p = base / "reference" / "pmacct-master" / "nfacctd"
        if os.access(p, os.X_OK):
            return p
    return Path("/nonexistent/pmacct-master/nfacctd")


MASTER = _master()
needs_ours = nf.needs_ours
needs_ref = nf.needs_ref
needs_master = pytest.mark.skipif(not os.access(MASTER, os.X_OK),
                                  reason=f"pmacct master nfacctd missing at {MASTER}")

EXPORTS = {"ios_xr": rx.ios_xr, "junos": rx.junos, "huawei": rx.huawei}

# Every primitive these exports fill that both master and ours have (tcpflags aside).
COMMON = ("src_host,dst_host,src_port,dst_port,proto,tos,in_iface,out_iface,src_mask,dst_mask,"
          "src_net,dst_net,"
          "src_as,dst_as,peer_src_ip,peer_dst_ip,sampling_rate,export_proto_seqno,"
          "export_proto_version,export_proto_sysid,timestamp_start,timestamp_end,"
          "timestamp_export,vlan")
MPLS = "src_host,dst_host,mpls_label_top,mpls_label_bottom,mpls_label_stack,fwd_status"
NAMES = ("src_host,dst_host,in_iface_name,out_iface_name,vrf_name,ingress_vrf_name,"
         "egress_vrf_name,mpls_vpn_rd")


def run(binary, tmp, datagrams, aggregate, fmt="json", extra=""):
    """Read the datagrams from a capture (IPv4 and IPv6 exporters) with `binary` (-I), once."""
    return ff.run(binary, tmp, datagrams, aggregate, fmt, extra, write=rx.write_pcap)


def ref_run(binary, tmp, datagrams, aggregate, ours, fmt="json", extra=""):
    """run() with a reference, again (conftest.retry_reference) while its output is not the
    same as ours: JSON rows, or the CSV / formatted header and rows."""
    def same(ref):
        if fmt == "json":
            return canon(jrows(ref)) == canon(jrows(ours))
        return ff.lines(ref) == ff.lines(ours)
    return ff.ref_run(binary, tmp, datagrams, aggregate, fmt, extra, good=same,
                      write=rx.write_pcap)


def jrows(text, drop=("event_type", "timestamp_arrival")):
    res = [json.loads(x) for x in text.splitlines() if x.strip()]
    return [{k: v for k, v in r.items() if k not in drop} for r in res]


def canon(rows):
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


def ours_aggregate(aggregate):
    """Master prints mpls_vpn_rd_origin with mpls_vpn_rd: ours when asked."""
    return aggregate + (",mpls_vpn_rd_origin" if "mpls_vpn_rd" in aggregate.split(",") else "")


def assert_same(ours, ref, what):
    o, r = canon(jrows(ours)), canon(jrows(ref))
    assert r, f"{what}: the reference printed nothing"
    missing = sorted(set(r) - set(o))[:5]
    extra = sorted(set(o) - set(r))[:5]
    assert o == r, f"{what}: {len(o)} rows vs {len(r)}\nonly reference: {missing}\nonly ours: {extra}"


# ---- against pmacct master -------------------------------------------------------

@needs_ours
@needs_master
@pytest.mark.parametrize("export", sorted(EXPORTS))
@pytest.mark.parametrize("aggregate", [COMMON, MPLS, NAMES], ids=["common", "mpls", "names"])
def test_equals_master(tmp_path, export, aggregate):
    dgs, _ = EXPORTS[export]()
    ours = run(NFACCTD, tmp_path / "ours", dgs, ours_aggregate(aggregate))
    ref = ref_run(MASTER, tmp_path / "master", dgs, aggregate, ours)
    assert_same(ours, ref, f"{export} [{aggregate}]")


@needs_ours
@needs_master
@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_equals_master_renormalized(tmp_path, export):
    """Counters scaled by each record's sampling rate: the options' samplers
    (IOS-XR selectorId with interval + space), samplingSize/Population (Junos)
    and a system-scoped v9 interval (Huawei)."""
    dgs, _ = EXPORTS[export]()
    agg = "src_host,dst_host,sampling_rate"
    ours = run(NFACCTD, tmp_path / "ours", dgs, agg, extra="nfacctd_renormalize: true\n")
    ref = ref_run(MASTER, tmp_path / "master", dgs, agg, ours, extra="nfacctd_renormalize: true\n")
    assert_same(ours, ref, f"{export} renormalized")


@needs_ours
@needs_master
def test_encodings_equal_master(tmp_path):
    """The newer JSON encodings, each asked for by its key, as master writes them."""
    keys = ("mpls_label_stack_encode_as_array: true\nfwd_status_encode_as_string: true\n"
            "tcpflags_encode_as_array: true\n")
    for export in ("ios_xr", "junos"):
        dgs, _ = EXPORTS[export]()
        agg = MPLS + ",tcpflags"
        ours = run(NFACCTD, tmp_path / export / "ours", dgs, agg, extra=keys)
        ref = ref_run(MASTER, tmp_path / export / "master", dgs, agg, ours, extra=keys)
        assert_same(ours, ref, f"{export} encodings")


@needs_ours
@needs_master
def test_flow_to_rd_map_origin_equals_master(tmp_path):
    """flow_to_rd_map wins over the flow's RD and says so: origin "map"."""
    rdmap = tmp_path / "rd.map"
    rdmap.write_text("id=0:65000:7 ip=10.255.0.1 in=3\nid=1:192.0.2.9:8 ip=10.255.0.1 out=9\n")
    dgs, _ = rx.ios_xr()
    agg = "src_host,in_iface,out_iface,mpls_vpn_rd"
    extra = f"flow_to_rd_map: {rdmap}\n"
    ours = run(NFACCTD, tmp_path / "ours", dgs, ours_aggregate(agg), extra=extra)
    ref = ref_run(MASTER, tmp_path / "master", dgs, agg, ours, extra=extra)
    assert_same(ours, ref, "flow_to_rd_map")
    origins = {r["mpls_vpn_rd_origin"] for r in jrows(ours)}
    assert origins == {"map", "flow", "unknown"}, origins


# ---- against Debian's 1.7.7: the defaults --------------------------------------------

@needs_ours
@needs_ref
@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_defaults_equal_1_7_7(tmp_path, export):
    """tcp_flags as 1.7.7's string, and everything 1.7.7 has.  Left out:
    the IOS-XR RDs (1.7.7 does not map VRF ids through options: it prints
    vrfid:<id> where master and ours print the mapped RD), and the sampling
    rate of the Junos export (1.7.7 ignores samplingSize/Population, IEs
    309/310, which master reads) and of IOS-XR's second round (1.7.7 keeps
    the withdrawn layout's selectorId offset for the redefined template and
    finds no sampler; master and ours take the last announced rate), and
    IOS-XR's two-byte tcpControlBits, which 1.7.7 reads as 0 (master and
    ours: the low byte, RFC 7012 and RFC 7011 6.2)."""
    dgs, _ = EXPORTS[export]()
    agg = COMMON + ",tcpflags,mpls_label_top,mpls_label_bottom"
    if export in ("ios_xr", "junos"):
        agg = agg.replace(",sampling_rate", "")
    if export == "ios_xr":
        agg = agg.replace(",tcpflags", "")
    ours = run(NFACCTD, tmp_path / "ours", dgs, agg)
    ref = ref_run(REF_NFACCTD, tmp_path / "ref", dgs, agg, ours)
    assert_same(ours, ref, f"{export} 1.7.7 defaults")
    assert all(isinstance(r["tcp_flags"], str) for r in jrows(ours) if "tcp_flags" in r)


# ---- the values, from the crafted fields and tshark ------------------------------

def tshark_fields(pcap, fields):
    """One list per field per packet (tshark joins repeated occurrences with ',')."""
    args = ["tshark", "-r", str(pcap), "-d", "udp.port==2100,cflow", "-T", "fields",
            "-E", "occurrence=a", "-E", "aggregator=;"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    return [[col.split(";") if col else [] for col in line.split("\t")]
            for line in out.splitlines()]


@needs_ours
@needs_tshark
@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_counters_and_addresses_equal_tshark(tmp_path, export):
    """Every flow record tshark dissects is accounted once, with its bytes
    and packets, under its source address (the exports give each flow its
    own source)."""
    dgs, flows = EXPORTS[export]()
    if export == "ios_xr":
        # tshark keeps decoding with a template after its withdrawal (RFC 7011 8.1):
        # its truth stops before IOS-XR's second round
        dgs, flows = dgs[:3], [f for f in flows if f["tpl"] != "v4b"]
    ours = {r["ip_src"]: r for r in jrows(run(NFACCTD, tmp_path / "ours", dgs,
                                                 "src_host,peer_src_ip"))}
    pcap = tmp_path / "ours" / "in.pcap"
    want = {}
    for srcs4, srcs6, octets, packets in tshark_fields(
            pcap, ["cflow.srcaddr", "cflow.srcaddrv6", "cflow.octets", "cflow.packets"]):
        srcs = srcs4 + srcs6
        assert len(srcs) == len(octets) == len(packets)
        for s, o, p in zip(srcs, octets, packets):
            want[socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, s))
                 if ":" in s else s] = (int(o), int(p))
    assert len(want) == len(flows)
    got = {s: (r["bytes"], r["packets"]) for s, r in ours.items()}
    assert got == want
    exporter = dgs[0][0]
    assert {r["peer_ip_src"] for r in ours.values()} == {exporter}


@needs_ours
@needs_tshark
def test_vrf_names_equal_tshark_options(tmp_path):
    """IOS-XR's VRF table as tshark reads it from the options data, applied
    to each record's ingress VRF id."""
    dgs, flows = rx.ios_xr()
    dgs, flows = dgs[:3], [f for f in flows if f["tpl"] != "v4b"]	# see above: tshark
    out = run(NFACCTD, tmp_path, dgs, "src_host,ingress_vrf_name,egress_vrf_name")
    table = {}
    for ids, names in tshark_fields(tmp_path / "in.pcap", ["cflow.ingress_vrfid", "cflow.vrfname"]):
        if names:
            # the options records of the VRF table: one id per name, in order
            table.update({int(i): n for i, n in zip(ids[:len(names)], names)})
    assert table == rx.XR_VRFS
    src_key = {"v4": 8, "v4b": 8, "v6": 27}
    for r in jrows(out):
        f = next(f for f in flows if f[src_key[f["tpl"]]] == r["ip_src"])
        assert r["ingress_vrf_name"] == table.get(f[234], "")
        assert r["egress_vrf_name"] == table.get(f[235], "")


@needs_ours
def test_rd_from_vrf_ids(tmp_path):
    """mpls_vpn_rd by pmacct master's rule, computed from the crafted fields:
    egress flows (IE 61 = 1) with an egress VRF use it, others the ingress
    VRF (else the egress one); the RD the options mapped to that VRF id as
    ingress VRF (the IOS-XR table maps ingress ids only), else vrfid:<id>."""
    dgs, flows = rx.ios_xr()
    out = jrows(run(NFACCTD, tmp_path, dgs, "src_host,mpls_vpn_rd,mpls_vpn_rd_origin"))
    src_key = {"v4": 8, "v4b": 8, "v6": 27}
    rd_text = {k: _rd_text(v) for k, v in rx.XR_RDS.items()}
    seen = set()
    for r in out:
        f = next(f for f in flows if f[src_key[f["tpl"]]] == r["ip_src"])
        iv, ev, egress = f[234], f[235], f.get(61) == 1
        if egress and ev:
            want = f"vrfid:{ev}"		# no options mapped an egress VRF id
        elif iv or ev:
            vid = iv or ev
            want = rd_text.get(vid, f"vrfid:{vid}") if iv else f"vrfid:{vid}"
        else:
            want = "0:0:0"
        assert r["mpls_vpn_rd"] == want, (r, f)
        assert r["mpls_vpn_rd_origin"] == ("unknown" if want == "0:0:0" else "flow")
        seen.add(want.split(":")[0])
    assert seen == {"0", "1", "2", "vrfid"}


def _rd_text(rd):
    t = int.from_bytes(rd[:2], "big")
    if t == 0:
        return f"0:{int.from_bytes(rd[2:4], 'big')}:{int.from_bytes(rd[4:], 'big')}"
    if t == 1:
        return f"1:{socket.inet_ntoa(rd[2:6])}:{int.from_bytes(rd[6:], 'big')}"
    return f"2:{int.from_bytes(rd[2:6], 'big')}:{int.from_bytes(rd[6:], 'big')}"


@needs_ours
def test_sampling_from_options(tmp_path):
    """Renormalized counters from the rates each export's options give."""
    for export, rate_of in (
            ("ios_xr", lambda f: rx.XR_SAMPLERS.get(f.get(302), 0) if 302 in f
             else rx.XR_SAMPLERS[max(rx.XR_SAMPLERS)]),
            ("junos", lambda f: 2000),
            ("huawei", lambda f: 512)):
        dgs, flows = EXPORTS[export]()
        out = jrows(run(NFACCTD, tmp_path / export, dgs, "src_host,sampling_rate",
                        extra="nfacctd_renormalize: true\n"))
        src = {f.get(8) or f.get(27): f for f in flows}
        for r in out:
            f = src[r["ip_src"]]
            rate = rate_of(f)
            assert r["bytes"] == f[1] * (rate or 1), (export, r, rate)
            assert r["packets"] == f[2] * (rate or 1)
            assert r["sampling_rate"] == (1 if rate else 0)


@needs_ours
def test_template_redefined_mid_stream(tmp_path):
    """Round 2 of the IOS-XR export withdraws template 260 and sends it again
    with another layout: the later records decode with the new one, and no
    record of either round is lost."""
    dgs, flows = rx.ios_xr()
    out = jrows(run(NFACCTD, tmp_path, dgs, "src_host,src_mask,tcpflags"))
    got = {r["ip_src"]: r for r in out}
    for f in flows:
        s = f.get(8) or f.get(27)
        assert got[s]["bytes"] == f[1] and got[s]["packets"] == f[2]
        if f["tpl"] == "v4b":
            assert got[s]["mask_src"] == 0 and got[s]["tcp_flags"] == str(f[6])
        elif f["tpl"] == "v4":
            assert got[s]["mask_src"] == f[9] and got[s]["tcp_flags"] == str(f[6] & 0xff)


# ---- live: IPv6 exporters and v4-mapped peers on a dual-stack socket ------------------


def _live(binary, tmp, port, sends, aggregate):
    tmp.mkdir(parents=True, exist_ok=True)
    out = tmp / "out.json"
    log = tmp / "log"
    proc = spawn_daemon(binary, tmp / "c.conf",
                        collector_print_conf("nfacctd", port, aggregate, "json", out, ip="::"),
                        log, ENV)
    try:
        assert wait_for(lambda: file_has(log, "waiting for NetFlow"), 10), log.read_text()
        time.sleep(1.0)
        for family, src, data in sends:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.bind((src, 0))
                s.sendto(data, ("::1" if family == socket.AF_INET6 else "127.0.0.1", port))
            time.sleep(0.01)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    return out.read_text() if out.exists() else ""


@needs_ours
@needs_master
def test_huawei_ipv6_and_v4_mapped_live_equal_master(tmp_path):
    """The Huawei v9 export sent live from ::1 (an IPv6 exporter) and from
    127.0.0.7 (an IPv4 exporter that the dual-stack socket sees as
    ::ffff:127.0.0.7): peer_src_ip is ::1 and the plain 127.0.0.7."""
    v6, _ = rx.huawei(exporter="::1")
    v4, _ = rx.huawei(exporter="127.0.0.7", source_id=7, rate=64)
    sends = [(socket.AF_INET6, "::1", d) for _, d in v6] + \
            [(socket.AF_INET, "127.0.0.7", d) for _, d in v4]
    agg = "peer_src_ip,src_host,dst_host,src_net,dst_net,sampling_rate,peer_dst_ip"
    ours = _live(NFACCTD, tmp_path / "ours", free_port(host="::"), sends, agg)
    assert {r["peer_ip_src"] for r in jrows(ours)} == {"::1", "127.0.0.7"}
    ref = retry_reference(
        lambda i: _live(MASTER, tmp_path / f"master{i}", free_port(host="::"), sends, agg),
        lambda ref: canon(jrows(ref)) == canon(jrows(ours)), what="master live")
    assert_same(ours, ref, "huawei live")


@needs_ours
@needs_master
@pytest.mark.parametrize("fmt", ["csv", "formatted"])
def test_columns_equal_master(tmp_path, fmt):
    """CSV and formatted output, header and rows, in master's column order
    (names and forwarding status are newer than 1.7.7: master's order is the
    only one)."""
    dgs, _ = rx.ios_xr()
    agg = ",".join(dict.fromkeys((COMMON + "," + MPLS + "," + NAMES + ",tcpflags").split(",")))
    if fmt == "formatted":	# variable length in master, which refuses them in formatted output
        for p in ("mpls_label_stack", "in_iface_name", "out_iface_name", "vrf_name",
                  "ingress_vrf_name", "egress_vrf_name"):
            agg = agg.replace("," + p, "")
    ours = run(NFACCTD, tmp_path / "ours", dgs, agg, fmt=fmt)
    ref = ref_run(MASTER, tmp_path / "master", dgs, agg, ours, fmt=fmt)
    r, o = ref.splitlines(), ours.splitlines()
    assert r and o[0] == r[0]
    assert sorted(o[1:]) == sorted(r[1:])


@needs_ours
@needs_master
def test_account_options_equals_master(tmp_path):
    """nfacctd_account_options: IOS-XR's options tables accounted as records,
    keyed by their scope and custom primitives (VRF and interface names).
    Master leaves the counters of these records out of its JSON; ours prints
    them, 0 (docs/differences.md): the rows are compared without them."""
    (tmp_path / "p.lst").write_text("name=vrfnm field_type=236 len=32 semantics=str\n"
                                    "name=ifnm field_type=82 len=vlen semantics=str\n")
    extra = f"aggregate_primitives: {tmp_path / 'p.lst'}\nnfacctd_account_options: true\n"
    dgs, _ = rx.ios_xr()
    agg = "peer_src_ip,in_iface,vrfnm,ifnm"
    ours = jrows(run(NFACCTD, tmp_path / "ours", dgs, agg, extra=extra))
    options = [r for r in ours if not r["packets"]]
    assert {r["vrfnm"] for r in options} >= set(rx.XR_VRFS.values())
    assert {r["ifnm"] for r in options} >= set(rx.XR_IFS.values())
    for r in ours:
        if not r["packets"] and not r["bytes"]:
            del r["packets"], r["bytes"]
    ref = jrows(ff.ref_run(MASTER, tmp_path / "master", dgs, agg, extra=extra, write=rx.write_pcap,
                           good=lambda ref: canon(jrows(ref)) == canon(ours)))
    assert canon(ours) == canon(ref)


@needs_ours
def test_memory_client_rd_and_origin(tmp_path):
    """The memory plugin and the client: mpls_vpn_rd (an RD, or vrfid:<id>) and
    mpls_vpn_rd_origin listed and matched, with the values the print plugin gives."""
    pmacct = NFACCTD.parent / "pmacct"
    dgs, _ = rx.ios_xr()
    dgs = [("127.0.0.1", d) for _, d in dgs]
    agg = "src_host,mpls_vpn_rd,mpls_vpn_rd_origin"
    printed = {r["ip_src"]: r for r in jrows(run(NFACCTD, tmp_path / "print", dgs, agg))}
    d = ff.MemoryDaemon(NFACCTD, tmp_path / "mem", agg, datagrams=dgs)
    try:
        d.feed_until(pmacct, len(printed))
        listed = {r["ip_src"]: r for r in jrows(d.client(pmacct, "-s", "-O", "json").stdout)}
        assert listed == printed
        vrfid = next(r["mpls_vpn_rd"] for r in printed.values()
                     if r["mpls_vpn_rd"].startswith("vrfid:"))
        got = jrows(d.client(pmacct, "-c", "mpls_vpn_rd", "-M", vrfid, "-O", "json").stdout)
        assert got and sorted(r["ip_src"] for r in got) == sorted(
            s for s, r in printed.items() if r["mpls_vpn_rd"] == vrfid)
        out = d.client(pmacct, "-c", "mpls_vpn_rd_origin", "-N", "flow;unknown").stdout.split()
        assert [int(x) for x in out] == [
            sum(r["bytes"] for r in printed.values() if r["mpls_vpn_rd_origin"] == o)
            for o in ("flow", "unknown")]
    finally:
        d.stop()
