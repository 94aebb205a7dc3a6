# SPDX-License-Identifier: BSD-3-Clause
"""The BGP daemon of nfacctd (bgp_daemon: true) against real peers on loopback:
BIRD 2 peering with it (routes counted against what BIRD exports), peer restart,
bgp_daemon_max_peers, bgp_daemon_allow_file (and its SIGUSR2 reload), TCP MD5
(matching and mismatching passwords), hold timer expiry (BIRD stopped with
SIGSTOP), and a raw Python speaker sending malformed UPDATEs (RFC 7606: counted,
session kept, or reset with the RFC's NOTIFICATION).  Log lines are compared
with pmacct 1.7.7's where both do the same thing."""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from bgp_wire import msg, open_msg, recv_msg
from conftest import (REPO, DAEMON_ENV, file_has, free_port, needs, retry_reference, skip_or_fail,
                      wait_for)

NFACCTD = Path(os.environ.get("NFACCTD", REPO / "build" / "nfacctd"))
REF_NFACCTD = Path(os.environ.get("REF_NFACCTD", "/usr/sbin/nfacctd"))
BIRD = shutil.which("bird")
BIRDC = shutil.which("birdc")

needs_ours = pytest.mark.skipif(not os.access(NFACCTD, os.X_OK), reason=f"{NFACCTD} not built")
needs_bird = needs(BIRD and BIRDC, "bird2 (bird, birdc) not installed")
needs_ref = needs(os.access(REF_NFACCTD, os.X_OK), "no reference nfacctd")

# What BIRD announces: static routes whose count the tests compare with ours.
ROUTES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/25", "203.0.113.128/26", "10.20.0.0/16"]


def tcp_port():
    return free_port(socket.SOCK_STREAM)


# ---- our daemon ----

class Daemon:
    def __init__(self, binary, tmp, extra="", name="nf"):
        self.tmp = Path(tmp)
        self.port = tcp_port()
        self.log = self.tmp / f"{name}.log"
        self.nbr = self.tmp / f"{name}.neighbors"
        conf = self.tmp / f"{name}.conf"
        conf.write_text(
            f"bgp_daemon: true\nbgp_daemon_ip: 127.0.0.1\nbgp_daemon_port: {self.port}\n"
            f"bgp_daemon_as: 65000\nbgp_daemon_id: 10.9.9.9\nbgp_neighbors_file: {self.nbr}\n"
            f"nfacctd_ip: 127.0.0.1\nnfacctd_port: {free_port()}\nplugins: print\n"
            f"print_output_file: {self.tmp / (name + '.out')}\nprint_refresh_time: 3600\n"
            f"logfile: {self.log}\n{extra}")
        self.proc = subprocess.Popen([str(binary), "-f", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, env=DAEMON_ENV)
        wait_for(lambda: file_has(self.log, "waiting for BGP data"), 20, "the BGP listener",
                 proc=self.proc)

    def text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stats(self):
        """SIGUSR1, then the BGP lines it logged (the last of each peer)."""
        before = self.text().count("BGP sessions:")
        self.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: self.text().count("BGP sessions:") > before and "BGP RIB:" in
                 self.text().split("BGP sessions:")[-1], 10, "SIGUSR1 BGP stats")
        return self.text().split("BGP sessions:")[-1]

    def prefixes(self, peer_ip):
        m = re.findall(rf"BGP peer {re.escape(peer_ip)} \(.*?\).*?prefixes (\d+)", self.stats())
        return int(m[-1]) if m else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def daemons():
    started = []

    def start(tmp, extra="", binary=NFACCTD, name="nf"):
        d = Daemon(binary, tmp, extra, name)
        started.append(d)
        return d
    yield start
    for d in started:
        d.stop()


# ---- BIRD ----

class Bird:
    """BIRD 2 on loopback with its own config, socket and pid file, speaking from
    local_ip (not 127.0.0.1: BIRD refuses a NEXT_HOP equal to the neighbour's
    address) to our daemon on 127.0.0.1:port."""

    def __init__(self, tmp, port, local_ip="127.0.0.2", hold=30, password=None, routes=ROUTES,
                 name="b"):
        self.tmp = Path(tmp)
        self.sock = self.tmp / f"{name}.sock"
        self.pidf = self.tmp / f"{name}.pid"
        self.conf = self.tmp / f"{name}.conf"
        statics = "".join(f"  route {r} via \"lo\";\n" for r in routes)
        pw = f'  password "{password}";\n' if password else ""
        self.conf.write_text(
            f"router id 10.0.0.9;\nlog \"{self.tmp / (name + '.log')}\" all;\n"
            "protocol device {}\n"
            f"protocol static s4 {{ ipv4;\n{statics}}}\n"
            "protocol bgp b1 {\n"
            f"  local {local_ip} port {tcp_port()} as 65001;\n"
            f"  neighbor 127.0.0.1 port {port} as 65000;\n"
            f"  multihop;\n  hold time {hold};\n  connect retry time 1;\n"
            "  error wait time 1, 2;\n"
            f"{pw}"
            "  ipv4 { import none; export all; next hop self; };\n}\n")
        r = subprocess.run([BIRD, "-c", str(self.conf), "-s", str(self.sock), "-P", str(self.pidf)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            skip_or_fail(f"bird did not start: {r.stderr}")
        self.pid = int(wait_for(lambda: self.pidf.exists() and self.pidf.read_text().strip(), 10,
                                "bird's pid file"))

    def cmd(self, *args):
        return subprocess.run([BIRDC, "-s", str(self.sock), *args], capture_output=True,
                              text=True, timeout=10).stdout

    def show(self):
        return self.cmd("show", "protocols", "all", "b1")

    def established(self):
        return "Established" in self.show()

    def exported(self):
        m = re.search(r"Routes:\s+\d+ imported, (\d+) exported", self.show())
        return int(m.group(1)) if m else None

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGCONT)
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        wait_for(lambda: not Path(f"/proc/{self.pid}").exists(), 10)


@pytest.fixture
def birds():
    started = []

    def start(*a, **kw):
        b = Bird(*a, **kw)
        started.append(b)
        return b
    yield start
    for b in started:
        b.stop()


# ---- a raw BGP speaker ----

bgp_msg = msg


def bgp_open(asn, rid, hold, caps=b""):
    """An OPEN with the capability bytes caps in one optional parameter (none when empty)."""
    return open_msg(asn, rid, hold, [caps] if caps else [])


CAPS = bytes([1, 4, 0, 1, 0, 1]) + bytes([65, 4]) + struct.pack("!I", 65002)


def raw_session(port, src="127.0.0.3", hold=30, rid="10.0.0.7"):
    """Connect from src, OPEN, read the daemon's OPEN and KEEPALIVE, send a KEEPALIVE."""
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.sendall(bgp_open(65002, rid, hold, CAPS))
    first = recv_msg(s)
    assert first and first[0] == 1, f"expected an OPEN, got {first}"
    second = recv_msg(s)
    assert second and second[0] == 4, f"expected a KEEPALIVE, got {second}"
    s.sendall(bgp_msg(4))
    return s, first[1]


def attrs(origin=b"\x40\x01\x01\x00"):
    """ORIGIN (given), AS_PATH 65002 (4-byte), NEXT_HOP 10.0.0.7."""
    return origin + bytes([0x40, 2, 6, 2, 1]) + struct.pack("!I", 65002) + bytes([0x40, 3, 4, 10, 0, 0, 7])


def update(attr, nlri):
    return bgp_msg(2, struct.pack("!H", 0) + struct.pack("!H", len(attr)) + attr + nlri)


def refused_before_open(port, src):
    """Connect from src and send an OPEN: True when the daemon closes without answering."""
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(bgp_open(65002, "10.0.0.8", 30, CAPS))
        return recv_msg(s) is None
    except (ConnectionResetError, BrokenPipeError):
        return True
    finally:
        s.close()


def log_body(line):
    """A log line without its timestamp."""
    return line.split(" ", 1)[1] if " " in line else line


# ---- the tests ----

@needs_ours
@needs_bird
def test_bird_session_routes_and_restart(tmp_path, daemons, birds):
    d = daemons(tmp_path)
    b = birds(tmp_path, d.port)
    wait_for(b.established, 30, "BIRD Established with our nfacctd")
    show = b.show()
    assert "Neighbor ID:      10.9.9.9" in show, show       # bgp_daemon_id
    assert "4-octet AS numbers" in show.split("Neighbor capabilities")[1], show
    exported = wait_for(lambda: b.exported() == len(ROUTES) and b.exported(), 20,
                        "BIRD exporting its static routes")
    assert wait_for(lambda: d.prefixes("127.0.0.2") == exported, 20) == True, d.stats()
    assert d.nbr.read_text() == "127.0.0.2\n"
    assert "[10.0.0.9] BGP_OPEN: Local AS: 65000 Remote AS: 65001 HoldTime: 30" in d.text()
    assert "[127.0.0.2] BGP peers usage: 1/4" in d.text()   # the default max_peers, as 1.7.7

    # the peer restarts its session: Cease received, routes dropped, then back with all routes
    b.cmd("restart", "b1")
    wait_for(lambda: "BGP_NOTIFICATION received (6, " in d.text(), 20, "the Cease of the restart")
    wait_for(b.established, 30, "the session back after the restart")
    assert wait_for(lambda: d.prefixes("127.0.0.2") == len(ROUTES), 20) == True, d.stats()
    assert "1 established" in d.stats()

    # the peer goes away for good: its routes leave the RIB, the neighbours file empties
    b.stop()
    wait_for(lambda: d.nbr.read_text() == "", 20, "the neighbours file emptied")
    assert "BGP RIB: 0 peers, 0 routes" in d.stats()


@needs_ours
@needs_bird
def test_max_peers(tmp_path, daemons, birds):
    d = daemons(tmp_path, "bgp_daemon_max_peers: 1\n")
    b = birds(tmp_path, d.port)
    wait_for(b.established, 30, "BIRD Established")
    assert refused_before_open(d.port, "127.0.0.3"), "a second peer beyond max_peers was answered"
    line = "WARN ( default/core/BGP ): Insufficient number of BGP peers has been configured by " \
        "'bgp_daemon_max_peers' (1)."
    wait_for(lambda: line in d.text(), 10, "the max_peers refusal logged as 1.7.7 does")
    assert b.established(), "the established peer was disturbed"
    assert "refused 1 (max_peers)" in d.stats()


@needs_ours
def test_allow_file_and_reload(tmp_path, daemons):
    allow = tmp_path / "allow.lst"
    allow.write_text("127.0.0.2\n")
    d = daemons(tmp_path, f"bgp_daemon_allow_file: {allow}\n")
    assert refused_before_open(d.port, "127.0.0.3"), "a peer outside the allow file was answered"
    wait_for(lambda: re.search(rf"INFO \( default/core/BGP \): \[{re.escape(str(allow))}\] peer "
                               r"'127\.0\.0\.3:\d+' not allowed\. close\(\)", d.text()), 10,
             "the refusal logged as 1.7.7 does")
    allow.write_text("127.0.0.2\n127.0.0.0/29\n")
    d.proc.send_signal(signal.SIGUSR2)
    wait_for(lambda: "bgp_daemon_allow_file reloaded" in d.text(), 10, "the reload")
    s, _ = raw_session(d.port, "127.0.0.3")
    s.close()


def md5_supported():
    s = socket.socket()
    try:
        sig = struct.pack("=HHI", socket.AF_INET, 0, 0x0300007f) + b"\0" * 120 + struct.pack("=HHI", 0, 3, 0) + b"abc".ljust(80, b"\0")
        s.setsockopt(socket.IPPROTO_TCP, 14, sig)  # TCP_MD5SIG
        return True
    except OSError:
        return False
    finally:
        s.close()


@needs_ours
@needs_bird
@pytest.mark.parametrize("bird_pw,ok", [("s3cret-pw", True), ("wrong-pw", False)])
def test_md5(tmp_path, daemons, birds, bird_pw, ok):
    if not md5_supported():
        skip_or_fail("this kernel has no TCP MD5 signatures (CONFIG_TCP_MD5SIG)")
    md5 = tmp_path / "md5.lst"
    md5.write_text("! peers and passwords\n127.0.0.2, s3cret-pw\nnot-an-address, x\n")
    d = daemons(tmp_path, f"bgp_daemon_md5_file: {md5}\n")
    assert re.search(rf"\[{re.escape(str(md5))}:3\] invalid address 'not-an-address'", d.text()), d.text()
    assert "TCP MD5 keys set for 1 peer(s)" in d.text()
    b = birds(tmp_path, d.port, password=bird_pw)
    if ok:
        wait_for(b.established, 30, "BIRD Established with a matching MD5 password")
        assert wait_for(lambda: d.prefixes("127.0.0.2") == len(ROUTES), 20) == True, d.stats()
    else:
        # the kernel drops segments with a bad signature: no connection ever reaches the daemon
        assert not wait_for(b.established, 8), "established despite a wrong MD5 password"
        assert "BGP peers usage" not in d.text()


@needs_ours
@needs_bird
def test_hold_timer_expiry(tmp_path, daemons, birds):
    d = daemons(tmp_path)
    b = birds(tmp_path, d.port, hold=3)
    wait_for(b.established, 30, "BIRD Established (hold 3)")
    assert "HoldTime: 3" in d.text()
    os.kill(b.pid, signal.SIGSTOP)
    try:
        wait_for(lambda: "NOTIFICATION sent: 4/0 (hold timer expired" in d.text(), 15,
                 "hold timer expiry of a stopped peer")
        wait_for(lambda: d.nbr.read_text() == "", 10, "the peer gone from the neighbours file")
    finally:
        os.kill(b.pid, signal.SIGCONT)
    wait_for(b.established, 30, "the session back once the peer runs again")


@needs_ours
def test_raw_speaker_malformed_updates(tmp_path, daemons):
    d = daemons(tmp_path)
    s, their_open = raw_session(d.port, "127.0.0.3", hold=9)
    # our OPEN: version 4, AS 65000, hold 9 (the peer's), Router-ID 10.9.9.9, caps MP 1/1 and AS4 65000
    assert their_open[:10] == bytes([4, 0xfd, 0xe8, 0, 9, 10, 9, 9, 9, len(their_open) - 10])
    assert bytes([1, 4, 0, 1, 0, 1]) in their_open and bytes([65, 4, 0, 0, 0xfd, 0xe8]) in their_open
    wait_for(lambda: "BGP session established with 127.0.0.3" in d.text(), 10, "established")

    # ORIGIN of length 2: RFC 7606 7.1 treat-as-withdraw; the session stays
    s.sendall(update(attrs(bytes([0x40, 1, 2, 0, 0])), bytes([24, 10, 1, 2])))
    # a good UPDATE: two prefixes
    s.sendall(update(attrs(), bytes([24, 10, 1, 3, 16, 10, 2])))
    wait_for(lambda: d.prefixes("127.0.0.3") == 2, 10, "two routes from the good UPDATE")
    st = d.stats()
    assert "treat-as-withdraw 1" in st, st
    assert "treated as withdraw (RFC 7606)" in d.text()
    # a KEEPALIVE comes within hold/3 (3 s): the session is alive and timed
    s.settimeout(8)
    m = recv_msg(s)
    assert m is not None and m[0] == 4, f"expected a KEEPALIVE, got {m}"

    s.sendall(bgp_msg(4))

    # an attribute overrunning the attributes field: RFC 7606 4, treat-as-withdraw, session kept
    s.sendall(update(bytes([0x40, 1, 1, 0, 0x40, 2, 40, 2, 1, 0, 0]), bytes([24, 10, 1, 4])))
    wait_for(lambda: "treat-as-withdraw 2" in d.stats(), 10, "the overrun treated as withdraw")
    # Total Path Attribute Length past the message: RFC 7606 4, session reset with 3/1
    s.sendall(bgp_msg(2, struct.pack("!HH", 0, 200) + attrs() + bytes([24, 10, 1, 5])))
    got = None
    while True:
        m = recv_msg(s)
        if m is None or m[0] == 3:
            got = m
            break
    assert got is not None and got[1][0] == 3 and got[1][1] == 1, f"expected NOTIFICATION 3/1, got {got}"
    assert recv_msg(s) is None, "the session was not closed after the NOTIFICATION"
    wait_for(lambda: d.prefixes("127.0.0.3") is None, 10, "the peer's routes dropped")
    assert "BGP RIB: 0 peers, 0 routes" in d.stats()
    s.close()

    # a NOTIFICATION from the peer with an RFC 8203 shutdown text is logged with it
    s, _ = raw_session(d.port, "127.0.0.3")
    txt = b"maintenance window"
    s.sendall(bgp_msg(3, bytes([6, 2, len(txt)]) + txt))
    wait_for(lambda: "BGP_NOTIFICATION received (6, 2). Shutdown Message: 'maintenance window'" in d.text(),
             10, "the shutdown text logged")
    s.close()


@needs_ours
def test_reconnect_replaces_and_router_id_collision(tmp_path, daemons):
    d = daemons(tmp_path)
    s1, _ = raw_session(d.port, "127.0.0.3", rid="10.0.0.7")
    s1.sendall(update(attrs(), bytes([24, 10, 1, 3])))
    wait_for(lambda: d.prefixes("127.0.0.3") == 1, 10, "one route")
    # the same peer connects again: the old session is closed with Cease 6/7, the new one lives
    s2, _ = raw_session(d.port, "127.0.0.3", rid="10.0.0.7")
    m = recv_msg(s1)
    assert m is not None and m[0] == 3 and m[1][:2] == bytes([6, 7]), f"old session: {m}"
    wait_for(lambda: "1 established" in d.stats(), 10, "one session after the reconnect")
    # another address with the same Router-ID: refused with 2/3 (Bad BGP Identifier)
    s3 = socket.socket()
    s3.bind(("127.0.0.4", 0))
    s3.settimeout(10)
    s3.connect(("127.0.0.1", d.port))
    s3.sendall(bgp_open(65002, "10.0.0.7", 30, CAPS))
    m = recv_msg(s3)
    assert m is not None and m[0] == 3 and m[1][:2] == bytes([2, 3]), f"collision: {m}"
    s1.close()
    s2.close()
    s3.close()


@needs_ours
@needs_ref
def test_log_lines_as_reference(tmp_path, daemons):
    """The refusals (max_peers, allow file), the OPEN lines and the OPEN sent are 1.7.7's."""
    allow = tmp_path / "allow.lst"
    allow.write_text("127.0.0.3\n")
    extra = f"bgp_daemon_max_peers: 1\nbgp_daemon_allow_file: {allow}\n"

    def session(name, binary):
        """(the wanted log lines, the OPEN it sent) of one daemon."""
        allow.write_text("127.0.0.3\n")
        d = daemons(tmp_path, extra, binary=binary, name=name)
        try:
            s, their_open = raw_session(d.port, "127.0.0.3")
            assert refused_before_open(d.port, "127.0.0.4")      # allow file
            allow.write_text("127.0.0.3\n127.0.0.5\n")
            d.proc.send_signal(signal.SIGUSR2)
            time.sleep(1)
            assert refused_before_open(d.port, "127.0.0.5")      # max_peers
            wait_for(lambda: "Insufficient number" in d.text(), 10, f"{name}: max_peers line")
            allow.write_text("127.0.0.3\n")
            s.sendall(bgp_msg(3, bytes([6, 2, 4]) + b"bye!"))
            wait_for(lambda: "BGP_NOTIFICATION" in d.text(), 10, f"{name}: the NOTIFICATION logged")
            s.close()
            wanted = ("BGP peers usage", "BGP_OPEN:", "Capability:", "not allowed", "Insufficient",
                      "BGP_NOTIFICATION")
            return [re.sub(r":\d+'", ":PORT'", log_body(ln)) for ln in d.text().splitlines()
                    if any(w in ln for w in wanted)], their_open
        finally:
            d.stop()
    out, opens = {}, {}
    out["ours"], opens["ours"] = session("ours", NFACCTD)
    # 1.7.7 again (conftest.retry_reference) while its lines or its OPEN are not ours
    out["ref"], opens["ref"] = retry_reference(lambda i: session(f"ref{i}", REF_NFACCTD),
                                               lambda r: r == (out["ours"], opens["ours"]),
                                               what="nfacctd 1.7.7")
    assert len(out["ref"]) >= 5, out["ref"]
    assert out["ours"] == out["ref"]
    # to a peer offering MP IPv4 unicast and AS4 both answer with the same OPEN, byte for byte
    assert opens["ours"] == opens["ref"], (opens["ours"].hex(), opens["ref"].hex())


PMBGPD = Path(os.environ.get("PMBGPD", REPO / "build" / "pmbgpd"))


@pytest.mark.skipif(not os.access(PMBGPD, os.X_OK), reason=f"{PMBGPD} not built")
def test_pmbgpd_flags_ibgp_and_dual_stack(tmp_path):
    """pmbgpd -L/-l as master's; bgp_daemon_as unset: our OPEN carries the peer's AS (iBGP) and
    the Router-ID is bgp_daemon_ip; on :: (no -L) an IPv6 peer and an IPv4 one both connect."""
    port = tcp_port()
    log = tmp_path / "pm.log"
    with open(log, "w") as lf:
        p = subprocess.Popen([str(PMBGPD), "-L", "127.0.0.1", "-l", str(port)], stdout=lf,
                             stderr=subprocess.STDOUT, env=DAEMON_ENV)
    try:
        wait_for(lambda: file_has(log, f"waiting for BGP data on 127.0.0.1:{port}"), 20, "listener",
                 proc=p)
        s, o = raw_session(port, "127.0.0.3")
        assert o[:9] == bytes([4, 0xfd, 0xea, 0, 30, 127, 0, 0, 1]), o.hex()   # AS 65002, 127.0.0.1
        s.close()
    finally:
        p.terminate()
        p.wait(15)
    assert "OK, Exiting" in log.read_text()

    port = tcp_port()
    conf = tmp_path / "pm6.conf"
    conf.write_text(f"bgp_daemon_port: {port}\nbgp_daemon_as: 65000\nlogfile: {tmp_path / 'pm6.log'}\n")
    p = subprocess.Popen([str(PMBGPD), "-f", str(conf)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=DAEMON_ENV)
    try:
        wait_for(lambda: file_has(tmp_path / "pm6.log", f"waiting for BGP data on :::{port}"), 20,
                 "dual-stack listener", proc=p)
        s6 = socket.socket(socket.AF_INET6)
        s6.settimeout(10)
        try:
            s6.connect(("::1", port))
        except OSError:
            pytest.skip("no IPv6 loopback")
        s6.sendall(bgp_open(65002, "10.0.0.7", 30, CAPS))
        m = recv_msg(s6)
        assert m and m[0] == 1 and m[1][5:9] == bytes([1, 2, 3, 4]), m   # Router-ID 1.2.3.4
        s4, _ = raw_session(port, "127.0.0.3", rid="10.0.0.8")
        wait_for(lambda: "[127.0.0.3] BGP peers usage: 2/4" in (tmp_path / "pm6.log").read_text(), 10,
                 "the IPv4 peer on the dual-stack socket, as an IPv4 address")
        s6.close()
        s4.close()
    finally:
        p.terminate()
        p.wait(15)


GOBGPD = shutil.which("gobgpd")
GOBGP = shutil.which("gobgp")


@needs_ours
@needs(GOBGPD and GOBGP, "gobgpd/gobgp not installed")
def test_gobgp_addpath_ipv6_withdraw(tmp_path, daemons):
    """GoBGP (IPv4+IPv6 unicast, ADD-PATH send, extended next hop): our prefix count follows
    what GoBGP says it advertised, through two paths of one prefix and a withdrawal."""
    d = daemons(tmp_path)
    api = tcp_port()
    conf = tmp_path / "gobgp.toml"
    conf.write_text(
        '[global.config]\n  as = 65003\n  router-id = "10.0.0.3"\n  port = -1\n'
        '[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "127.0.0.1"\n    peer-as = 65000\n'
        f'  [neighbors.transport.config]\n    remote-port = {d.port}\n    local-address = "127.0.0.4"\n'
        '  [neighbors.timers.config]\n    connect-retry = 1\n'
        '  [neighbors.add-paths.config]\n    send-max = 4\n'
        '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "ipv4-unicast"\n'
        '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "ipv6-unicast"\n')
    g = subprocess.Popen([GOBGPD, "-f", str(conf), "--api-hosts", f"127.0.0.1:{api}", "-l", "warn"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def cli(*args):
        return subprocess.run([GOBGP, "-u", "127.0.0.1", "-p", str(api), *args], capture_output=True,
                              text=True, timeout=10).stdout

    def advertised():
        m = re.search(r"Advertised:\s+(\d+)", cli("neighbor", "127.0.0.1"))
        return int(m.group(1)) if m else None
    try:
        wait_for(lambda: "Establ" in cli("neighbor"), 30, "GoBGP Established")
        caps = cli("neighbor", "127.0.0.1")
        assert re.search(r"add-path:\s+advertised and received", caps), caps
        assert re.search(r"Remote:\s+ipv4-unicast:\s+receive", caps), caps
        cli("global", "rib", "add", "10.30.0.0/16", "-a", "ipv4")
        cli("global", "rib", "add", "10.31.0.0/16", "nexthop", "10.0.0.33", "-a", "ipv4")
        cli("global", "rib", "add", "2001:db8:30::/48", "nexthop", "2001:db8::1", "-a", "ipv6")
        cli("global", "rib", "add", "10.40.0.0/16", "nexthop", "10.0.0.41", "identifier", "1", "-a", "ipv4")
        cli("global", "rib", "add", "10.40.0.0/16", "nexthop", "10.0.0.42", "identifier", "2", "-a", "ipv4")
        wait_for(lambda: advertised() == 5, 20, "GoBGP advertising 5 paths")
        assert wait_for(lambda: d.prefixes("127.0.0.4") == 5, 20) == True, d.stats()
        cli("global", "rib", "del", "10.30.0.0/16", "-a", "ipv4")
        wait_for(lambda: advertised() == 4, 20, "GoBGP advertising 4 paths")
        assert wait_for(lambda: d.prefixes("127.0.0.4") == 4, 20) == True, d.stats()
    finally:
        g.terminate()
        g.wait(10)


@needs_ours
def test_ipprec_and_pipe_size(tmp_path, daemons):
    """bgp_daemon_ipprec 6 marks what we send with TOS 0xc0 (seen on the wire, AF_PACKET on lo);
    bgp_daemon_pipe_size sets the sessions' receive buffer (the kernel's skmem rb, doubled)."""
    try:
        sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
        sniff.bind(("lo", 0))
        sniff.settimeout(0.5)
    except (PermissionError, OSError) as e:
        skip_or_fail(f"no AF_PACKET socket on lo: {e}")
    d = daemons(tmp_path, "bgp_daemon_ipprec: 6\nbgp_daemon_pipe_size: 262144\n")
    s, _ = raw_session(d.port, "127.0.0.3")
    tos = set()
    end = time.monotonic() + 5
    while time.monotonic() < end and not tos:
        try:
            frame = sniff.recv(65535)
        except socket.timeout:
            continue
        ip = frame[14:]
        if len(ip) < 24 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        sport = struct.unpack("!H", ip[ihl:ihl + 2])[0]
        if sport == d.port and len(ip) > ihl + 20:      # a segment with data, from us
            tos.add(ip[1])
    sniff.close()
    assert tos == {0xc0}, f"TOS of our segments: {tos}"
    ss = subprocess.run(["ss", "-tmnH", "state", "established", f"sport = :{d.port}"],
                        capture_output=True, text=True).stdout
    m = re.search(r"rb(\d+)", ss)
    assert m and int(m.group(1)) == 2 * 262144, ss
    s.close()


@needs_ours
def test_privileged_port_and_md5_then_user_nobody(daemons):
    """The listener (a port below 1024) and its MD5 keys are set up before `user: nobody`
    takes effect: the daemon then runs as nobody and still accepts sessions."""
    import pwd
    import tempfile
    if os.geteuid() != 0:
        pytest.skip("needs root to switch user")
    nobody = pwd.getpwnam("nobody")
    tmp = Path(tempfile.mkdtemp(prefix="bgp-privs-", dir="/tmp"))
    tmp.chmod(0o777)
    port = None
    for cand in range(1000, 1023):
        with socket.socket() as t:
            try:
                t.bind(("127.0.0.1", cand))
                port = cand
                break
            except OSError:
                continue
    if port is None:
        pytest.skip("no free port below 1024")
    md5 = tmp / "md5.lst"
    md5.write_text("127.0.0.9, pw\n")
    d = daemons(tmp, f"user: nobody\nbgp_daemon_md5_file: {md5}\n")
    d.stop()
    conf = (tmp / "nf.conf").read_text().replace(f"bgp_daemon_port: {d.port}", f"bgp_daemon_port: {port}")
    (tmp / "nf.conf").write_text(conf)
    d.proc = subprocess.Popen([str(NFACCTD), "-f", str(tmp / "nf.conf")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, env=DAEMON_ENV)
    d.port = port
    wait_for(lambda: file_has(d.log, f"waiting for BGP data on 127.0.0.1:{port}"), 20, "listener",
             proc=d.proc)
    wait_for(lambda: file_has(d.log, "running as uid"), 20, "the privilege drop", proc=d.proc)
    status = Path(f"/proc/{d.proc.pid}/status").read_text()
    assert re.search(rf"^Uid:\s+{nobody.pw_uid}\s", status, re.M), status
    s, _ = raw_session(port, "127.0.0.3")
    wait_for(lambda: d.nbr.read_text() == "127.0.0.3\n", 10, "the neighbours file, written as nobody")
    s.close()
    shutil.rmtree(tmp, ignore_errors=True)


@needs_ours
def test_check_config_names_bgp_keys(tmp_path):
    """-T config refuses a bad bgp_daemon_id and an unreadable md5 file, naming file:line and key."""
    conf = tmp_path / "t.conf"
    conf.write_text("bgp_daemon: true\nbgp_daemon_id: 1.2.3\nbgp_daemon_md5_file: /nonexistent/md5\n")
    r = subprocess.run([str(NFACCTD), "-T", "config", "-f", str(conf)], capture_output=True, text=True,
                       env=DAEMON_ENV, timeout=30)
    assert r.returncode != 0
    assert f"[{conf}:2] Invalid value for key 'bgp_daemon_id': '1.2.3'" in r.stderr, r.stderr
    assert f"[{conf}:3] key 'bgp_daemon_md5_file': cannot read '/nonexistent/md5'" in r.stderr, r.stderr


@needs_ours
@pytest.mark.parametrize("ext", [True, False])
def test_extended_messages(tmp_path, daemons, ext):
    """RFC 8654: offered back when the peer offers it, then an UPDATE of ~6 KB is taken whole;
    without it the same UPDATE is a bad message length (NOTIFICATION 1/2)."""
    d = daemons(tmp_path)
    s = socket.socket()
    s.bind(("127.0.0.3", 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", d.port))
    s.sendall(bgp_open(65002, "10.0.0.7", 30, CAPS + (bytes([6, 0]) if ext else b"")))
    t, body = recv_msg(s)
    assert t == 1
    assert (bytes([6, 0]) in body[10:]) == ext, body.hex()
    assert recv_msg(s)[0] == 4
    s.sendall(bgp_msg(4))
    n = 1500
    nlri = b"".join(bytes([24, 10, i >> 8, i & 255]) for i in range(n))
    msg = update(attrs(), nlri)
    assert len(msg) > 4096
    s.sendall(msg)
    if ext:
        wait_for(lambda: d.prefixes("127.0.0.3") == n, 10, f"{n} routes from one extended UPDATE")
    else:
        m = recv_msg(s)
        assert m is not None and m[0] == 3 and m[1][:2] == bytes([1, 2]), m
        assert m[1][2:4] == struct.pack("!H", len(msg)), m    # RFC 4271 6.1: the bad length as data
    s.close()


@pytest.mark.skipif(not os.access(PMBGPD, os.X_OK), reason=f"{PMBGPD} not built")
def test_pmbgpd_ipv6_only(tmp_path):
    """bgp_daemon_ipv6_only on ::: an IPv4 peer cannot connect, an IPv6 one can."""
    port = tcp_port()
    conf = tmp_path / "pm.conf"
    conf.write_text(f"bgp_daemon_port: {port}\nbgp_daemon_ipv6_only: true\nlogfile: {tmp_path / 'pm.log'}\n")
    p = subprocess.Popen([str(PMBGPD), "-f", str(conf)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=DAEMON_ENV)
    try:
        wait_for(lambda: file_has(tmp_path / "pm.log", "waiting for BGP data"), 20, "listener", proc=p)
        with socket.socket() as s4:
            with pytest.raises(ConnectionRefusedError):
                s4.connect(("127.0.0.1", port))
        with socket.socket(socket.AF_INET6) as s6:
            try:
                s6.connect(("::1", port))
            except OSError as e:
                pytest.skip(f"no IPv6 loopback: {e}")
    finally:
        p.terminate()
        p.wait(15)


@needs_ours
def test_batch(tmp_path, daemons):
    """bgp_daemon_batch 1 every 60 s: the first peer is answered, the second waits in the
    listen queue (its OPEN unanswered for the 3 s we look)."""
    d = daemons(tmp_path, "bgp_daemon_batch: 1\nbgp_daemon_batch_interval: 60\n")
    s1, _ = raw_session(d.port, "127.0.0.3")
    s2 = socket.socket()
    s2.bind(("127.0.0.4", 0))
    s2.settimeout(3)
    s2.connect(("127.0.0.1", d.port))
    s2.sendall(bgp_open(65002, "10.0.0.8", 30, CAPS))
    with pytest.raises(socket.timeout):
        recv_msg(s2)
    assert d.text().count("BGP peers usage") == 1
    s1.close()
    s2.close()


PMACCTD_BIN = Path(os.environ.get("PMACCTD", REPO / "build" / "pmacctd"))
REF_PMACCTD = Path(os.environ.get("REF_PMACCTD", "/usr/sbin/pmacctd"))


@pytest.mark.skipif(not os.access(PMACCTD_BIN, os.X_OK), reason=f"{PMACCTD_BIN} not built")
@needs(os.access(REF_PMACCTD, os.X_OK), "no reference pmacctd")
def test_pmacctd_needs_agent_map_and_two_peers(tmp_path):
    """pmacctd as 1.7.7: bgp_daemon without bgp_agent_map is refused; with it, two peers at most
    whatever bgp_daemon_max_peers says.  The lines are compared with 1.7.7's."""
    agent = tmp_path / "agent.map"
    agent.write_text("bgp_ip=127.0.0.2 ip=0.0.0.0/0\n")

    def agent_lines(name, binary):
        """{with_map: the daemon's bgp_agent_map and max peers lines}, without and with the map."""
        lines = {}
        for with_map in (False, True):
            log = tmp_path / f"{name}{with_map}.log"
            conf = tmp_path / f"{name}{with_map}.conf"
            conf.write_text(
                f"bgp_daemon: true\nbgp_daemon_ip: 127.0.0.1\nbgp_daemon_port: {tcp_port()}\n"
                f"bgp_daemon_max_peers: 10\npcap_savefile: {REPO / 'examples' / 'demo.pcap'}\n"
                f"pcap_savefile_wait: true\nplugins: print\nprint_output_file: {tmp_path / 'o.txt'}\n"
                f"logfile: {log}\n" + (f"bgp_agent_map: {agent}\n" if with_map else ""))
            p = subprocess.Popen([str(binary), "-f", str(conf)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=DAEMON_ENV)
            try:
                if with_map:
                    wait_for(lambda: file_has(log, "waiting for BGP data"), 20, f"{name}: listener")
                else:
                    assert p.wait(20) != 0
            finally:
                if p.poll() is None:
                    p.terminate()
                    p.wait(15)
            lines[with_map] = [log_body(ln) for ln in log.read_text().splitlines()
                               if "bgp_agent_map" in ln or "maximum BGP peers" in ln]
        return lines
    ours = agent_lines("ours", PMACCTD_BIN)
    # 1.7.7 again (conftest.retry_reference) while its lines are not ours
    ref = retry_reference(lambda i: agent_lines(f"ref{i}", REF_PMACCTD), lambda r: r == ours,
                          what="pmacctd 1.7.7")
    assert ours[False] == ref[False] != []
    assert ours[True] == ref[True] == ["INFO ( default/core/BGP ): maximum BGP peers allowed: 2"]
