# SPDX-License-Identifier: BSD-3-Clause
"""Exports written the way real routers write them, byte for byte with struct
(RFC 7011 IPFIX, RFC 3954 NetFlow v9), for the router-export tests.

Three exporters, each modelled on what the vendor's documentation and public
captures show:

- ios_xr(): IOS-XR style IPFIX.  Data templates with masks, ingress/egress
  VRF ids (IE 234/235), forwardingStatus (IE 89), two-byte tcpControlBits,
  flowStart/EndMilliseconds, selectorId (IE 302); options tables mapping
  VRF id -> VRF name (IE 236), VRF id -> RD (IE 90), ifIndex -> interface name
  (IE 82, variable length) and selectorId -> sampling interval (IE 305).
  Round 2 withdraws the IPv4 template and redefines it with another layout.
- junos(): Junos (inline J-Flow) style IPFIX.  Sampling only in options data
  as samplingSize / samplingPopulation (IE 309/310) scoped to the observation
  domain, flowStart/EndSysUpTime (IE 22/21) with systemInitTimeMilliseconds
  (IE 160) in the data records, MPLS label stacks (IE 70-72, bottom-of-stack
  bits), IPv6 flows with flow labels (IE 31), VLANs in and out (IE 58/59,
  243/254), no masks in some records.
- huawei(): Huawei style NetFlow v9 from IPv6 exporters.  IPv4 and IPv6
  templates, uptime-relative times (IE 21/22), sampling interval in a
  system-scoped options record (IE 34/35), IPv6 masks (IE 29/30), IPv6 next
  hops (IE 62/63).  One exporter speaks from a plain IPv6 address, another
  from a v4-mapped one (as a dual-stack socket sees an IPv4 exporter).

Every builder returns (datagrams, flows): datagrams is a list of
(exporter address, UDP payload) pairs, flows the list of dicts the records
were made from, so tests can check values independently of any collector.
"""

import socket
import struct

EXPORT_SECS = 1700000000
VARLEN = 0xFFFF


def _addr(s):
    if ":" in s:
        return socket.inet_pton(socket.AF_INET6, s)
    return socket.inet_aton(s)


def ip6(s):
    """The canonical text of an IPv6 address (RFC 5952), as collectors print it."""
    return socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, s))


def encode(value, length):
    """One field value: int, address string, bytes or text, in `length` bytes
    (VARLEN: RFC 7011 7 variable-length encoding)."""
    if isinstance(value, int):
        return value.to_bytes(length, "big")
    if isinstance(value, str) and length in (4, 16) and (value.count(".") == 3 or ":" in value):
        return _addr(value)
    raw = value.encode() if isinstance(value, str) else bytes(value)
    if length == VARLEN:
        if len(raw) < 255:
            return bytes([len(raw)]) + raw
        return b"\xff" + struct.pack("!H", len(raw)) + raw
    return raw[:length].ljust(length, b"\0")


def record(fields, values):
    return b"".join(encode(values[ie], ln) for ie, ln in fields)


def set_(sid, body):
    """A set / flowset, padded to four bytes."""
    pad = (-(len(body) + 4)) % 4
    return struct.pack("!HH", sid, len(body) + 4 + pad) + body + b"\0" * pad


def ipfix_tpl(tid, fields):
    out = struct.pack("!HH", tid, len(fields))
    for ie, ln in fields:
        out += struct.pack("!HH", ie, ln)
    return out


def ipfix_withdraw(tid):
    return struct.pack("!HH", tid, 0)


def ipfix_otpl(tid, scope, fields):
    out = struct.pack("!HHH", tid, len(scope) + len(fields), len(scope))
    for ie, ln in scope + fields:
        out += struct.pack("!HH", ie, ln)
    return out


def v9_tpl(tid, fields):
    return ipfix_tpl(tid, fields)


def v9_otpl(tid, scope, fields):
    """RFC 3954 6.1: scope and option lengths are byte counts."""
    out = struct.pack("!HHH", tid, 4 * len(scope), 4 * len(fields))
    for ie, ln in scope + fields:
        out += struct.pack("!HH", ie, ln)
    return out


def ipfix(sets, seq, odid, secs=EXPORT_SECS):
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), secs, seq, odid) + body


def v9(sets, seq, source_id, uptime, secs=EXPORT_SECS):
    return struct.pack("!HHIIII", 9, len(sets), uptime, secs, seq, source_id) + b"".join(sets)


def label_entry(value, exp=0, bos=False):
    """RFC 3032 2.1 label stack entry without TTL, as IEs 70-79 carry it."""
    return ((value << 4) | (exp << 1) | (1 if bos else 0)).to_bytes(3, "big")


def rd0(asn, num):
    return struct.pack("!HHI", 0, asn, num)


def rd1(addr, num):
    return struct.pack("!H", 1) + socket.inet_aton(addr) + struct.pack("!H", num)


def rd2(asn, num):
    return struct.pack("!HIH", 2, asn, num)


# ---- IOS-XR ------------------------------------------------------------------

XR_V4 = [(8, 4), (12, 4), (5, 1), (4, 1), (7, 2), (11, 2), (10, 4), (14, 4), (9, 1), (13, 1),
         (16, 4), (17, 4), (15, 4), (18, 4), (6, 2), (61, 1), (302, 8), (234, 4), (235, 4),
         (1, 8), (2, 8), (152, 8), (153, 8), (89, 1)]
# round 2: the same template id withdrawn and redefined: no masks, one-byte flags, no 302
XR_V4_B = [(8, 4), (12, 4), (4, 1), (7, 2), (11, 2), (10, 4), (14, 4), (6, 1), (234, 4),
           (235, 4), (2, 4), (1, 4), (152, 8), (153, 8), (89, 1)]
XR_V6 = [(27, 16), (28, 16), (5, 1), (4, 1), (7, 2), (11, 2), (10, 4), (14, 4), (29, 1),
         (30, 1), (16, 4), (17, 4), (62, 16), (6, 2), (302, 8), (234, 4), (235, 4), (1, 8),
         (2, 8), (152, 8), (153, 8), (89, 1)]
XR_VRF_OPT = ([(234, 4)], [(236, 32)])
XR_RD_OPT = ([(234, 4)], [(90, 8)])
XR_IF_OPT = ([(10, 4)], [(82, VARLEN)])
XR_SAMP_OPT = ([(302, 8)], [(304, 2), (305, 4), (306, 4)])

XR_VRFS = {0: "default", 0x60000001: "CUST-A", 0x60000002: "CUST-B", 0x60000003: "MGMT"}
XR_RDS = {0x60000001: rd0(65000, 101), 0x60000002: rd1("192.0.2.1", 102),
          0x60000004: rd2(4200000000, 104)}
XR_IFS = {3: "HundredGigE0/0/0/1", 5: "Bundle-Ether10.200", 9: "TenGigE0/1/0/3"}
XR_SAMPLERS = {1: 1000, 2: 100}
XR_T0 = (EXPORT_SECS - 30) * 1000


def ios_xr(exporter="10.255.0.1", odid=2048):
    """IOS-XR IPFIX: options tables first, then flows; round 2 redefines 260."""
    flows = []
    v4 = []
    combos = [(0x60000001, 0x60000001, 3, 5, 1, 64), (0x60000002, 0, 5, 9, 2, 66),
              (0x60000003, 0x60000002, 9, 3, 1, 130), (0x60000004, 0x60000004, 3, 7, 2, 131),
              (0, 0, 7, 3, 9, 0)]
    for n in range(10):
        iv, ev, i, o, sel, fwd = combos[n % len(combos)]
        f = {8: f"10.1.{n}.10", 12: f"172.16.{n % 3}.20", 5: (n * 8) & 0xFF, 4: 6 if n % 2 else 17,
             7: 1024 + n, 11: 443 if n % 2 else 53, 10: i, 14: o, 9: 24, 13: 16 + n % 3,
             16: 65000 + n, 17: 64500 + n % 2, 15: "10.0.0.254", 18: "192.0.2.254",
             6: 0x0112 if n % 2 else 0, 61: n % 2, 302: sel, 234: iv, 235: ev,
             1: 1500 * (n + 1), 2: n + 1, 152: XR_T0 + n * 1000, 153: XR_T0 + n * 1000 + 999,
             89: fwd}
        v4.append(f)
    v6 = []
    for n in range(4):
        iv, ev, i, o, sel, fwd = combos[n]
        f = {27: ip6(f"2001:db8:{n}::10"), 28: f"2001:db8:ff::{n + 1}", 5: 0, 4: 6, 7: 2000 + n,
             11: 80, 10: i, 14: o, 29: 48, 30: 64, 16: 65100, 17: 65200 + n,
             62: "2001:db8::fe", 6: 0x18, 302: sel, 234: iv, 235: ev, 1: 900 * (n + 1),
             2: 3 * (n + 1), 152: XR_T0 + 5000, 153: XR_T0 + 6000, 89: 64}
        v6.append(f)
    opts = [set_(3, ipfix_otpl(256, *XR_VRF_OPT) + ipfix_otpl(257, *XR_IF_OPT) +
                 ipfix_otpl(258, *XR_SAMP_OPT) + ipfix_otpl(259, *XR_RD_OPT)),
            set_(256, b"".join(record(XR_VRF_OPT[0] + XR_VRF_OPT[1], {234: k, 236: v})
                               for k, v in XR_VRFS.items())),
            set_(257, b"".join(record(XR_IF_OPT[0] + XR_IF_OPT[1], {10: k, 82: v})
                               for k, v in XR_IFS.items())),
            set_(258, b"".join(record(XR_SAMP_OPT[0] + XR_SAMP_OPT[1],
                                      {302: k, 304: 2, 305: 1, 306: v - 1})
                               for k, v in XR_SAMPLERS.items())),
            set_(259, b"".join(record(XR_RD_OPT[0] + XR_RD_OPT[1], {234: k, 90: v})
                               for k, v in XR_RDS.items()))]
    seq = 0
    dgs = [(exporter, ipfix(opts, seq, odid))]
    sets = [set_(2, ipfix_tpl(260, XR_V4) + ipfix_tpl(261, XR_V6)),
            set_(260, b"".join(record(XR_V4, f) for f in v4[:6])),
            set_(261, b"".join(record(XR_V6, f) for f in v6))]
    dgs.append((exporter, ipfix(sets, seq, odid)))
    seq += 10
    dgs.append((exporter, ipfix([set_(260, b"".join(record(XR_V4, f) for f in v4[6:]))],
                                seq, odid)))
    seq += 4
    flows += [dict(f, tpl="v4") for f in v4] + [dict(f, tpl="v6") for f in v6]
    # round 2: template 260 withdrawn, then redefined with another layout
    v4b = []
    for n in range(4):
        iv, ev, i, o, sel, fwd = combos[n]
        v4b.append({8: f"10.2.{n}.10", 12: "172.16.9.9", 4: 6, 7: 3000 + n, 11: 22, 10: i,
                    14: o, 6: 0x1b, 234: iv, 235: ev, 2: 2, 1: 120 * (n + 1),
                    152: XR_T0 + 20000, 153: XR_T0 + 21000, 89: fwd})
    dgs.append((exporter, ipfix([set_(2, ipfix_withdraw(260))], seq, odid)))
    dgs.append((exporter, ipfix([set_(2, ipfix_tpl(260, XR_V4_B)),
                                 set_(260, b"".join(record(XR_V4_B, f) for f in v4b))],
                                seq, odid)))
    flows += [dict(f, tpl="v4b") for f in v4b]
    return dgs, flows


# ---- Junos -------------------------------------------------------------------

JU_INIT_MS = (EXPORT_SECS - 86400) * 1000
JU_MPLS = [(8, 4), (12, 4), (4, 1), (5, 1), (7, 2), (11, 2), (10, 4), (14, 4), (9, 1), (13, 1),
           (70, 3), (71, 3), (72, 3), (61, 1), (136, 1), (160, 8), (22, 4), (21, 4), (1, 8),
           (2, 8), (6, 1), (58, 2), (59, 2)]
JU_V6 = [(27, 16), (28, 16), (31, 4), (4, 1), (5, 1), (7, 2), (11, 2), (10, 4), (14, 4),
         (61, 1), (160, 8), (22, 4), (21, 4), (1, 8), (2, 8), (6, 1), (243, 2), (254, 2),
         (89, 1)]
JU_OPT = ([(149, 4)], [(160, 8), (214, 1), (215, 1), (309, 4), (310, 4)])


def junos(exporter="10.255.0.2", odid=524288, size=1, population=2000):
    flows = []
    stacks = [(299776, 16), (299792, 17, 18), (3,), (), (1048575, 100, 200)]
    mpls = []
    for n in range(10):
        st = stacks[n % len(stacks)]
        f = {8: f"192.168.{n}.1", 12: f"198.51.100.{n + 1}", 4: 6 if n % 3 else 17, 5: 0,
             7: 40000 + n, 11: 179 if n % 3 else 4789, 10: 500 + n % 2, 14: 600,
             9: 0 if n % 4 == 3 else 24, 13: 0 if n % 4 == 3 else 28,
             61: 0, 136: 2, 160: JU_INIT_MS, 22: 86300000 + n, 21: 86310000 + n,
             1: 64 * (n + 1), 2: n + 1, 6: 0x10, 58: 100 + n % 2, 59: 200}
        for k in range(3):
            if k < len(st):
                f[70 + k] = label_entry(st[k], exp=k % 8, bos=(k == len(st) - 1))
            else:
                f[70 + k] = b"\0\0\0"
        f["stack"] = list(st)
        mpls.append(f)
    v6 = []
    for n in range(5):
        f = {27: f"2001:db8:a::{n + 1}", 28: f"2001:db8:b::{n + 1}", 31: 0x12345 + n, 4: 58 if n == 4
             else 6, 5: 0x20, 7: 0 if n == 4 else 50000 + n, 11: 0x8000 if n == 4 else 443, 10: 501,
             14: 601, 61: 1, 160: JU_INIT_MS, 22: 86305000, 21: 86306000, 1: 1280 * (n + 1),
             2: 10 + n, 6: 0x02 if n != 4 else 0, 243: 300 + n, 254: 3000 + n, 89: 64}
        v6.append(f)
    opt = set_(3, ipfix_otpl(512, *JU_OPT))
    optdata = set_(512, record(JU_OPT[0] + JU_OPT[1], {149: odid, 160: JU_INIT_MS, 214: 10,
                                                       215: 1, 309: size, 310: population}))
    tpls = set_(2, ipfix_tpl(320, JU_MPLS) + ipfix_tpl(321, JU_V6))
    seq = 100
    dgs = [(exporter, ipfix([tpls, opt, optdata], seq, odid))]
    dgs.append((exporter, ipfix([set_(320, b"".join(record(JU_MPLS, f) for f in mpls))],
                                seq, odid)))
    seq += len(mpls)
    dgs.append((exporter, ipfix([set_(321, b"".join(record(JU_V6, f) for f in v6))], seq, odid)))
    flows += [dict(f, tpl="mpls") for f in mpls] + [dict(f, tpl="v6") for f in v6]
    return dgs, flows


# ---- Huawei --------------------------------------------------------------------

HW_UPTIME = 3600000
HW_V4 = [(8, 4), (12, 4), (4, 1), (5, 1), (6, 1), (7, 2), (11, 2), (10, 2), (14, 2), (9, 1),
         (13, 1), (16, 2), (17, 2), (15, 4), (1, 4), (2, 4), (21, 4), (22, 4), (48, 1), (61, 1)]
HW_V6 = [(27, 16), (28, 16), (4, 1), (5, 1), (6, 1), (7, 2), (11, 2), (10, 2), (14, 2),
         (29, 1), (30, 1), (16, 4), (17, 4), (62, 16), (63, 16), (1, 4), (2, 4), (21, 4),
         (22, 4), (31, 3), (48, 1)]
HW_SAMP = ([(1, 4)], [(48, 1), (34, 4), (35, 1)])


def huawei(exporter="2001:db8:ffff::1", source_id=0x0100, rate=512):
    flows = []
    v4 = []
    for n in range(8):
        v4.append({8: f"100.64.{n}.1", 12: f"203.0.113.{n + 10}", 4: 6 if n % 2 else 17, 5: 0,
                   6: 0x12 if n % 2 else 0, 7: 33000 + n, 11: 8080, 10: 17 + n % 2, 14: 33,
                   9: 10, 13: 24, 16: 64512, 17: 64513 + n % 3, 15: "100.64.255.1",
                   1: 700 * (n + 1), 2: 7 * (n + 1), 21: HW_UPTIME - 60000 + n * 100,
                   22: HW_UPTIME - 1000, 48: 1, 61: 0})
    v6 = []
    for n in range(4):
        v6.append({27: f"2001:db8:100::{n + 1}", 28: f"2001:db8:200::{n + 1}", 4: 6, 5: 0,
                   6: 0x18, 7: 443, 11: 52000 + n, 10: 17, 14: 34, 29: 56, 30: 48,
                   16: 4200000001, 17: 4200000002, 62: "2001:db8:ffff::fe",
                   63: "2001:db8:ffff::bb", 1: 1400 * (n + 1), 2: n + 1,
                   21: HW_UPTIME - 30000, 22: HW_UPTIME - 2000, 31: 0xABCDE + n, 48: 1})
    samp_tpl = set_(1, v9_otpl(257, *HW_SAMP))
    samp = set_(257, record(HW_SAMP[0] + HW_SAMP[1], {1: 0, 48: 1, 34: rate, 35: 2}))
    tpls = set_(0, v9_tpl(1024, HW_V4) + v9_tpl(1025, HW_V6))
    dgs = [(exporter, v9([samp_tpl, samp, tpls], 1, source_id, HW_UPTIME)),
           (exporter, v9([set_(1024, b"".join(record(HW_V4, f) for f in v4))], 2, source_id,
                         HW_UPTIME)),
           (exporter, v9([set_(1025, b"".join(record(HW_V6, f) for f in v6))], 3, source_id,
                         HW_UPTIME))]
    flows += [dict(f, tpl="v4") for f in v4] + [dict(f, tpl="v6") for f in v6]
    return dgs, flows


# ---- capture files -------------------------------------------------------------

def write_pcap(path, datagrams, dport=2100, collector4="127.0.0.1", collector6="::1",
               t0=EXPORT_SECS + 1):
    """Ethernet/IP/UDP frames around the datagrams; an IPv6 exporter address is
    sent over IPv6, an IPv4 one over IPv4 (checksums left 0)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, (src, data) in enumerate(datagrams):
            udp = struct.pack("!HHHH", 40000, dport, 8 + len(data), 0) + data
            if ":" in src:
                iph = struct.pack("!IHBB16s16s", 0x60000000, len(udp), 17, 64, _addr(src),
                                  _addr(collector6))
                frame = b"\0" * 12 + b"\x86\xdd" + iph + udp
            else:
                iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                                  _addr(src), _addr(collector4))
                frame = b"\0" * 12 + b"\x08\x00" + iph + udp
            f.write(struct.pack("<IIII", t0 + i, 0, len(frame), len(frame)) + frame)
