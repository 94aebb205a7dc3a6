# SPDX-License-Identifier: BSD-3-Clause
"""Captures of known applications, written with scapy, for the class (nDPI) tests.

Each application is one bidirectional connection between its own pair of addresses
(client 10.1.<n>.1, server 10.2.<n>.1), so a test can tell the flows apart by address;
`APPS` lists them with the label the generator gives them.  TCP connections open with a
three-way handshake; payloads are what the protocol's client and server send first.
"""

import os
import struct

from scapy.all import IP, TCP, UDP, Ether, Raw, wrpcap  # noqa: F401
from scapy.layers.dns import DNS, DNSQR, DNSRR

T0 = 1700000000.0


def _tcp_conn(n, sport, dport, exchanges):
    """A TCP connection: handshake, then (from_client, payload) segments, each acked."""
    c, s = f"10.1.{n}.1", f"10.2.{n}.1"
    cseq, sseq = 1000, 5000
    pkts = [IP(src=c, dst=s) / TCP(sport=sport, dport=dport, flags="S", seq=cseq),
            IP(src=s, dst=c) / TCP(sport=dport, dport=sport, flags="SA", seq=sseq, ack=cseq + 1),
            IP(src=c, dst=s) / TCP(sport=sport, dport=dport, flags="A", seq=cseq + 1,
                                   ack=sseq + 1)]
    cseq += 1
    sseq += 1
    for from_client, data in exchanges:
        if from_client:
            pkts.append(IP(src=c, dst=s) / TCP(sport=sport, dport=dport, flags="PA", seq=cseq,
                                               ack=sseq) / Raw(data))
            cseq += len(data)
            pkts.append(IP(src=s, dst=c) / TCP(sport=dport, dport=sport, flags="A", seq=sseq,
                                               ack=cseq))
        else:
            pkts.append(IP(src=s, dst=c) / TCP(sport=dport, dport=sport, flags="PA", seq=sseq,
                                               ack=cseq) / Raw(data))
            sseq += len(data)
            pkts.append(IP(src=c, dst=s) / TCP(sport=sport, dport=dport, flags="A", seq=cseq,
                                               ack=sseq))
    return pkts


def _tls_client_hello(sni):
    """A TLS 1.2 ClientHello (RFC 5246 7.4.1.2) with server_name (RFC 6066 3)."""
    name = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    groups = struct.pack("!HHH", 10, 4, 2) + struct.pack("!H", 23)
    pf = struct.pack("!HHB", 11, 2, 1) + b"\x00"
    sigs = struct.pack("!HHH", 13, 4, 2) + struct.pack("!H", 0x0401)
    exts = sni_ext + groups + pf + sigs
    suites = struct.pack("!HHHH", 6, 0xc02f, 0xc030, 0x009c)
    body = (b"\x03\x03" + bytes(range(32)) + b"\x00" + suites + b"\x01\x00" +
            struct.pack("!H", len(exts)) + exts)
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def _tls_server_hello():
    body = b"\x03\x03" + bytes(32) + b"\x00" + struct.pack("!H", 0xc02f) + b"\x00" + b"\x00\x00"
    hs = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs


def _quic_initial():
    """A QUIC version 1 long-header Initial (RFC 9000 17.2.2), padded to 1200 bytes."""
    dcid, scid = bytes(range(8)), bytes(range(8, 16))
    hdr = bytes([0xc3]) + struct.pack("!I", 1) + bytes([8]) + dcid + bytes([8]) + scid + b"\x00"
    payload = os.urandom(1200 - len(hdr) - 2 - 4)
    length = len(payload) + 4
    return hdr + struct.pack("!H", 0x4000 | length) + b"\x00\x00\x00\x01" + payload


BT_HS = (b"\x13BitTorrent protocol" + bytes(8) + bytes(range(20)) + b"-qB4450-" +
         bytes(range(12)))


def app_flows():
    """[(label, client, server, packets)] with the nDPI name each application should get."""
    flows = []
    # DNS: a query and its answer
    c, s = "10.1.1.1", "10.2.1.1"
    q = IP(src=c, dst=s) / UDP(sport=33000, dport=53) / DNS(id=7, rd=1, qd=DNSQR(qname="example.org"))
    a = IP(src=s, dst=c) / UDP(sport=53, dport=33000) / DNS(
        id=7, qr=1, rd=1, ra=1, qd=DNSQR(qname="example.org"),
        an=DNSRR(rrname="example.org", ttl=300, rdata="192.0.2.80"))
    flows.append(("DNS", c, s, [q, a]))
    flows.append(("TLS", "10.1.2.1", "10.2.2.1",
                  _tcp_conn(2, 40002, 443, [(True, _tls_client_hello("www.example.org")),
                                            (False, _tls_server_hello())])))
    flows.append(("HTTP", "10.1.3.1", "10.2.3.1",
                  _tcp_conn(3, 40003, 80, [
                      (True, b"GET /index.html HTTP/1.1\r\nHost: www.example.org\r\n"
                             b"User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"),
                      (False, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                              b"Content-Length: 5\r\n\r\nhello")])))
    c, s = "10.1.4.1", "10.2.4.1"
    flows.append(("QUIC", c, s,
                  [IP(src=c, dst=s) / UDP(sport=40004, dport=443) / Raw(_quic_initial())]))
    flows.append(("SSH", "10.1.5.1", "10.2.5.1",
                  _tcp_conn(5, 40005, 22, [(False, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
                                           (True, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")])))
    flows.append(("BitTorrent", "10.1.6.1", "10.2.6.1",
                  _tcp_conn(6, 40006, 51413, [(True, BT_HS), (False, BT_HS)])))
    return flows


def write(path, flows=None, copies=1, snaplen=None):
    """Write the flows' packets (each flow `copies` times with new client ports) one after
    another, a millisecond apart, as Ethernet frames; returns the flows written.  snaplen:
    frames cut to that many bytes, as a capture with that snaplen holds them."""
    flows = flows or app_flows()
    frames, t = [], T0
    for k in range(copies):
        for label, c, s, pkts in flows:
            for p in pkts:
                p = p.copy()
                if k and p.haslayer(TCP):
                    if p[IP].src == c:
                        p[TCP].sport += k
                    else:
                        p[TCP].dport += k
                elif k and p.haslayer(UDP):
                    if p[IP].src == c:
                        p[UDP].sport += k
                    else:
                        p[UDP].dport += k
                f = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / p
                f.time = t
                t += 0.001
                frames.append(f)
    if snaplen is None:
        wrpcap(str(path), frames)
        return flows
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, snaplen, 1))
        for fr in frames:
            raw = bytes(fr)
            sec = int(fr.time)
            f.write(struct.pack("<IIII", sec, int(round((float(fr.time) - sec) * 1e6)),
                                min(len(raw), snaplen), len(raw)) + raw[:snaplen])
    return flows
