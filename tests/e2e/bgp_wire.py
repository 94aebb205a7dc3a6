# SPDX-License-Identifier: BSD-3-Clause
"""BGP messages built byte by byte (RFC 4271 and the RFCs named at each
builder) and a raw TCP speaker that sends them, for the tests that need
exact control of the wire (tests/e2e/test_bgp_sources.py,
tests/e2e/test_bgp_replay.py).  Routes are bgp_peers.Route, so the tests'
truth (bgp_peers.lpm) and the UPDATEs come from the same objects.
Independent of pmacct-ng's code: nothing here is derived from our decoder.
"""

import ipaddress
import signal
import socket
import struct
import subprocess

MARKER = b"\xff" * 16                    # RFC 4271 4.1
OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE_REFRESH = 1, 2, 3, 4, 5

AFI_IP, AFI_IP6 = 1, 2                    # IANA address family numbers
SAFI_UNICAST, SAFI_VPN = 1, 128           # RFC 4760; RFC 4364 (128 = MPLS-labeled VPN)


def msg(t, body=b""):
    """RFC 4271 4.1: marker, length (header included), type."""
    return MARKER + struct.pack("!HB", 19 + len(body), t) + body


def cap(code, value=b""):
    """RFC 5492: one capability (code, length, value)."""
    return bytes([code, len(value)]) + value


def open_msg(asn, rid, hold, caps, one_param_each=True):
    """RFC 4271 4.2 OPEN: version 4, My AS (AS_TRANS 23456 when asn needs 4 bytes,
    RFC 6793), hold time, BGP Identifier, optional parameters of type 2
    (capabilities, RFC 5492).  one_param_each: every capability in its own
    optional parameter, as Cisco IOS XR sends them."""
    if one_param_each:
        opt = b"".join(bytes([2, len(c)]) + c for c in caps)
    else:
        body = b"".join(caps)
        opt = bytes([2, len(body)]) + body
    my_as = asn if asn < 65536 else 23456
    return msg(OPEN, struct.pack("!BHH4sB", 4, my_as, hold, socket.inet_aton(rid), len(opt)) + opt)


def parse_open(body):
    """An OPEN body -> dict(asn, hold, rid, caps=[(code, value)...]), any number of
    capabilities per optional parameter."""
    ver, asn, hold, rid, optlen = struct.unpack("!BHH4sB", body[:10])
    opt, caps, i = body[10:10 + optlen], [], 0
    while i + 2 <= len(opt):
        ptype, plen = opt[i], opt[i + 1]
        val = opt[i + 2:i + 2 + plen]
        i += 2 + plen
        if ptype != 2:
            continue
        j = 0
        while j + 2 <= len(val):
            caps.append((val[j], val[j + 2:j + 2 + val[j + 1]]))
            j += 2 + val[j + 1]
    return {"version": ver, "asn": asn, "hold": hold, "rid": socket.inet_ntoa(rid), "caps": caps}


def recv_msg(s):
    """One message (type, body), or None when the peer closed."""
    def exact(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                return None
            b += c
        return b
    h = exact(19)
    if h is None:
        return None
    ln, t = struct.unpack("!HB", h[16:19])
    body = exact(ln - 19)
    return None if body is None else (t, body)


# ---------------------------------------------------------------------------
# Path attributes (RFC 4271 4.3 / 5.1; flags 0x80 optional, 0x40 transitive,
# 0x10 extended length)


def attr(flags, code, value):
    if len(value) > 255:
        return struct.pack("!BBH", flags | 0x10, code, len(value)) + value
    return struct.pack("!BBB", flags & ~0x10, code, len(value)) + value


def origin(v=0):
    return attr(0x40, 1, bytes([v]))                    # IGP 0, EGP 1, INCOMPLETE 2


def as_path(asns):
    """AS_PATH of one AS_SEQUENCE (type 2) of 4-octet ASNs (RFC 6793: AS4 negotiated)."""
    if not asns:
        return attr(0x40, 2, b"")
    return attr(0x40, 2, bytes([2, len(asns)]) + b"".join(struct.pack("!I", a) for a in asns))


def next_hop(addr):
    return attr(0x40, 3, socket.inet_aton(addr))


def med(v):
    return attr(0x80, 4, struct.pack("!I", v))


def local_pref(v):
    return attr(0x40, 5, struct.pack("!I", v))


def communities(vals):
    """RFC 1997, "A:B" each."""
    return attr(0xc0, 8, b"".join(struct.pack("!HH", *map(int, c.split(":"))) for c in vals))


def ext_communities(vals):
    """RFC 4360: ("rt"|"soo", "AS2:N"): transitive two-octet AS type 0x00, subtype 2 / 3."""
    sub = {"rt": 2, "soo": 3}
    return attr(0xc0, 16, b"".join(struct.pack("!BBHI", 0, sub[t], *map(int, v.split(":")))
                                   for t, v in vals))


def large_communities(vals):
    """RFC 8092, "A:B:C" each."""
    return attr(0xc0, 32, b"".join(struct.pack("!III", *map(int, c.split(":"))) for c in vals))


def prefix_bytes(net):
    """RFC 4271 4.3 NLRI: length in bits, then the prefix's significant bytes."""
    n = ipaddress.ip_network(net)
    return bytes([n.prefixlen]) + n.network_address.packed[:(n.prefixlen + 7) // 8]


def rd_bytes(rd):
    """RFC 4364 4.2 route distinguisher "A:B": type 0 (2-byte AS : 4-byte number)
    or type 1 when A is an IPv4 address (IPv4 : 2-byte number)."""
    a, b = rd.rsplit(":", 1)
    if "." in a:
        return struct.pack("!H4sH", 1, socket.inet_aton(a), int(b))
    return struct.pack("!HHI", 0, int(a), int(b))


def vpn_prefix_bytes(net, rd, label):
    """RFC 8277/RFC 4364 labeled VPN NLRI: length in bits (24 label + 64 RD + prefix),
    the label (20 bits, bottom-of-stack bit set), the RD, the prefix."""
    n = ipaddress.ip_network(net)
    lab = struct.pack("!I", (label << 4) | 1)[1:]
    return (bytes([24 + 64 + n.prefixlen]) + lab + rd_bytes(rd)
            + n.network_address.packed[:(n.prefixlen + 7) // 8])


def path_id(pid):
    """RFC 7911 3: a 4-byte Path Identifier before each NLRI when ADD-PATH is in use."""
    return b"" if pid is None else struct.pack("!I", pid)


def mp_reach(afi, safi, nh, nlri):
    """RFC 4760 3: MP_REACH_NLRI (optional, 14): AFI, SAFI, next hop length + next hop,
    a reserved byte, NLRI."""
    return attr(0x80, 14, struct.pack("!HBB", afi, safi, len(nh)) + nh + b"\0" + nlri)


def mp_unreach(afi, safi, nlri=b""):
    """RFC 4760 4: MP_UNREACH_NLRI (optional, 15); empty NLRI = End-of-RIB (RFC 4724 2)."""
    return attr(0x80, 15, struct.pack("!HB", afi, safi) + nlri)


def update(attrs=b"", nlri=b"", withdrawn=b""):
    """RFC 4271 4.3 UPDATE."""
    return msg(UPDATE, struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(attrs))
               + attrs + nlri)


def route_attrs(r):
    """The attributes of a bgp_peers.Route but its NLRI and next hop."""
    a = origin() + as_path(r.as_path)
    if r.med is not None:
        a += med(r.med)
    if r.local_pref is not None:
        a += local_pref(r.local_pref)
    if r.communities:
        a += communities(r.communities)
    if r.ext_communities:
        a += ext_communities(r.ext_communities)
    if r.large_communities:
        a += large_communities(r.large_communities)
    return a


def route_update(r, pid=None, extra=b""):
    """One UPDATE announcing Route r: IPv4 unicast with an IPv4 next hop in the body
    (NEXT_HOP); IPv4 with an IPv6 next hop as MP_REACH AFI 1 (RFC 8950, next hop 16
    bytes, or 32 when next_hop is "global,link-local"); IPv6 unicast MP_REACH AFI 2;
    VPN (r.rd): MP_REACH SAFI 128, next hop = RD 0 + address (RFC 4364 4.3.2 / RFC 4659 3.2.1)."""
    hops = [ipaddress.ip_address(h) for h in r.next_hop.split(",")]
    nh = b"".join(h.packed for h in hops)
    afi = AFI_IP6 if r.v6 else AFI_IP
    a = route_attrs(r) + extra
    if r.rd:
        nlri = path_id(pid) + vpn_prefix_bytes(r.prefix, r.rd, r.label)
        return update(a + mp_reach(afi, SAFI_VPN, bytes(8) + nh, nlri))
    if r.v6 or hops[0].version == 6:
        return update(a + mp_reach(afi, SAFI_UNICAST, nh, path_id(pid) + prefix_bytes(r.prefix)))
    return update(a + next_hop(r.next_hop), path_id(pid) + prefix_bytes(r.prefix))


def end_of_rib(afi, safi):
    """RFC 4724 2: IPv4 unicast: an UPDATE with nothing in it; others: MP_UNREACH with no NLRI."""
    if (afi, safi) == (AFI_IP, SAFI_UNICAST):
        return update()
    return update(mp_unreach(afi, safi))


class Speaker:
    """A BGP speaker on a plain TCP socket from `src` to the collector: OPEN with
    `caps`, reads the collector's OPEN (kept in .their_open) and KEEPALIVE, then
    KEEPALIVE: Established.  .alive() checks the session is still up; .send()
    writes raw bytes."""

    def __init__(self, src, port, asn, rid, caps, hold=180, dst="127.0.0.1"):
        self.s = socket.socket(socket.AF_INET6 if ":" in src else socket.AF_INET)
        self.s.bind((src, 0))
        self.s.settimeout(10)
        self.s.connect((dst, port))
        self.sent_open = open_msg(asn, rid, hold, caps)
        self.s.sendall(self.sent_open)
        first = recv_msg(self.s)
        assert first and first[0] == OPEN, f"expected an OPEN, got {first}"
        self.their_open = parse_open(first[1])
        second = recv_msg(self.s)
        assert second and second[0] == KEEPALIVE, f"expected a KEEPALIVE, got {second}"
        self.s.sendall(msg(KEEPALIVE))
        self.notification = None

    def their_caps(self, code):
        return [v for c, v in self.their_open["caps"] if c == code]

    def add_path_receive(self, afi, safi):
        """Whether we send Path Identifiers for afi/safi (RFC 7911 3/4: we advertised
        send (2) or both (3) and the collector receive (1) or both (3))."""
        ours = [v for c, v in parse_open(self.sent_open[19:])["caps"] if c == 69]
        if not any(struct.unpack("!HBB", v[i:i + 4]) in ((afi, safi, 2), (afi, safi, 3))
                   for v in ours for i in range(0, len(v) - 3, 4)):
            return False
        for v in self.their_caps(69):
            for i in range(0, len(v) - 3, 4):
                a, s, sr = struct.unpack("!HBB", v[i:i + 4])
                if (a, s) == (afi, safi) and sr & 1:
                    return True
        return False

    def send(self, data):
        self.s.sendall(data)

    def alive(self, timeout=2.0):
        """Send a KEEPALIVE and read for `timeout` s: False when the collector closed
        the session or sent a NOTIFICATION.  Its KEEPALIVEs are not answered (1.7.7
        answers every KEEPALIVE with one: answering back would never end)."""
        try:
            self.s.sendall(msg(KEEPALIVE))
        except OSError:
            return False
        self.s.settimeout(timeout)
        try:
            while True:
                m = recv_msg(self.s)
                if m is None or m[0] == NOTIFICATION:
                    self.notification = m and m[1]
                    return False
        except socket.timeout:
            return True
        except OSError:
            return False
        finally:
            self.s.settimeout(10)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def stop_daemon(proc, timeout=20):
    """SIGINT (the daemon purges and exits), then SIGKILL if it is still there after timeout."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
