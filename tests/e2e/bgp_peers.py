# SPDX-License-Identifier: BSD-3-Clause
"""Real BGP speakers on loopback for the BGP tests: BIRD 2, GoBGP, FRR bgpd and
ExaBGP, each in its own temporary directory with its own configuration,
control socket and pid file, peering from a chosen local address (127.0.0.x
or ::1) with a collector listening at 127.0.0.1:PORT (a non-standard port).

Every speaker announces and withdraws `Route`s at run time:

    peer = GoBgpPeer(workdir, local="127.0.0.2", asn=65001, collector_port=port)
    peer.start()
    peer.announce([Route("10.1.0.0/16", "192.0.2.1", as_path=(65010, 65020),
                         communities=("65000:1",), local_pref=200, med=50)])
    peer.wait_established()
    peer.wait_advertised(1)
    peer.withdraw([...]); peer.stop()

The session is iBGP by default (peer AS = local AS): pmacct's BGP daemon
answers an OPEN with the peer's own AS unless bgp_daemon_as is set, and
local-pref only travels over iBGP.  What each daemon can send is in its
`supports` set: "ext_comm", "vpnv4", "v6_over_v4" (IPv6 NLRI over an IPv4
session), "v4_over_v6" (RFC 8950 extended next hop), "runtime" (announce
without restarting).  Independent of pytest (bench/ can import it).
"""

import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from helpers import free_tcp_port, wait_for


@dataclass(frozen=True)
class Route:
    """One route as announced.  Communities as pmacct prints them: standard
    "A:B", extended ("rt"|"soo", "A:B"), large "A:B:C"; rd "A:B", label an
    MPLS label (VPNv4 when rd is set)."""
    prefix: str
    next_hop: str
    as_path: tuple = ()
    communities: tuple = ()
    ext_communities: tuple = ()
    large_communities: tuple = ()
    local_pref: int = None
    med: int = None
    rd: str = None
    label: int = None

    @property
    def net(self):
        return ipaddress.ip_network(self.prefix)

    @property
    def v6(self):
        return self.net.version == 6


def lpm(routes, addr, rd=None):
    """The route of `routes` whose prefix is the longest one holding addr (a
    string), or None: the lookup done independently of any collector; rd: look
    among the VPN routes of that route distinguisher only."""
    a = ipaddress.ip_address(addr)
    best = None
    for r in routes:
        if r.rd == rd and r.net.version == a.version and a in r.net:
            if best is None or r.net.prefixlen > best.net.prefixlen:
                best = r
    return best


def _which(name, *extra):
    for p in (shutil.which(name), *extra):
        if p and os.access(p, os.X_OK):
            return p
    return None


def tcp_established(local, port):
    """Whether a TCP connection from local to the collector's port is up (ss)."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"dport = :{port}"],
                         capture_output=True, text=True).stdout
    return any(local in line for line in out.splitlines())


class Peer:
    """What the four speakers share: the work directory, the process, waiting."""
    name = "peer"
    supports = frozenset()

    def __init__(self, workdir, local="127.0.0.2", asn=65001, collector_port=179,
                 collector="127.0.0.1", peer_asn=None, router_id=None):
        self.dir = Path(workdir) / f"{self.name}-{local.replace(':', '_')}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.local, self.asn, self.port, self.collector = local, asn, collector_port, collector
        self.peer_asn = peer_asn or asn
        self.router_id = router_id or (local if ":" not in local else "10.255.255.1")
        self.proc = None
        self.routes = {}          # key -> Route currently announced
        self.log = self.dir / "daemon.log"

    @staticmethod
    def available():
        return False

    def key(self, r):
        return (r.rd, r.prefix)

    # -- the process
    def _popen(self, argv, env=None):
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                     cwd=self.dir, env=env, start_new_session=True)

    def start(self):
        raise NotImplementedError

    def stop(self):
        """SIGTERM then SIGKILL after 5 s; the session goes down (NOTIFICATION or TCP close)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None
        self.logf.close()

    def restart(self):
        """Stop and start again (the routes announced so far are announced again)."""
        self.stop()
        self.start()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- the session
    def established(self):
        return tcp_established(self.local, self.port)

    def advertised(self):
        """How many routes the speaker has sent to the collector (its adj-RIB-out)."""
        return len(self.routes)

    def wait_established(self, timeout=30):
        return wait_for(self.established, timeout, f"{self.name} {self.local}: session established",
                        proc=None)

    def wait_advertised(self, n=None, timeout=30):
        """Until the speaker reports n routes sent (default: all it holds); the caller
        leaves the collector a moment to read them."""
        n = len(self.routes) if n is None else n
        wait_for(lambda: self.advertised() >= n, timeout,
                 f"{self.name} {self.local}: {n} routes advertised")

    def announce(self, routes):
        for r in routes:
            self.routes[self.key(r)] = r
        self._announce(list(routes))

    def withdraw(self, routes):
        for r in routes:
            self.routes.pop(self.key(r), None)
        self._withdraw(list(routes))

    def _announce(self, routes):
        raise NotImplementedError

    def _withdraw(self, routes):
        raise NotImplementedError

    def check(self, r):
        need = set()
        if r.ext_communities and not (r.rd and all(t == "rt" for t, _ in r.ext_communities)):
            need.add("ext_comm")          # (route targets of a VPN route: every VPN speaker)
        if r.rd:
            need.add("vpnv4")
        if r.v6 and ":" not in self.local:
            need.add("v6_over_v4")
        if not r.v6 and ":" in self.local:
            need.add("v4_over_v6")
        missing = need - self.supports
        if missing:
            raise ValueError(f"{self.name} cannot announce {r.prefix}: {sorted(missing)}")


# ---------------------------------------------------------------------------
# GoBGP: gobgpd + the gobgp CLI over its gRPC port


class GoBgpPeer(Peer):
    name = "gobgp"
    # its CLI takes no extended communities on unicast routes (route targets on VPN ones only)
    supports = frozenset({"vpnv4", "v6_over_v4", "runtime"})

    @staticmethod
    def available():
        return bool(_which("gobgpd") and _which("gobgp"))

    def start(self):
        self.api = free_tcp_port()
        conf = self.dir / "gobgpd.toml"
        fams = "".join(f'  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n'
                       f'      afi-safi-name = "{f}"\n'
                       for f in ("ipv4-unicast", "ipv6-unicast", "l3vpn-ipv4-unicast"))
        conf.write_text(f"""[global.config]
  as = {self.asn}
  router-id = "{self.router_id}"
  port = -1
  local-address-list = ["{self.local}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "{self.collector}"
    peer-as = {self.peer_asn}
  [neighbors.transport.config]
    remote-port = {self.port}
    local-address = "{self.local}"
  [neighbors.timers.config]
    connect-retry = 1
{fams}""")
        self._popen([_which("gobgpd"), "-f", str(conf), "--api-hosts", f"127.0.0.1:{self.api}",
                     "-p"])
        (self.dir / "gobgpd.pid").write_text(f"{self.proc.pid}\n")
        wait_for(lambda: self._cli("global", check=False).returncode == 0, 15,
                 "gobgpd API up", proc=None)
        if self.routes:
            self._announce(list(self.routes.values()))

    def _cli(self, *args, check=True):
        p = subprocess.run([_which("gobgp"), "-u", "127.0.0.1", "-p", str(self.api), *args],
                           capture_output=True, text=True)
        if check and p.returncode:
            raise RuntimeError(f"gobgp {' '.join(args)}: {p.stdout}{p.stderr}")
        return p

    def _rib_args(self, r):
        if r.rd:
            a = ["-a", "vpnv4", "add", r.prefix, "label", str(r.label or 0),
                 "rd", r.rd]
            rts = [v for t, v in r.ext_communities if t == "rt"]
            if rts:
                a += ["rt", *rts]
        else:
            a = ["-a", "ipv6" if r.v6 else "ipv4", "add", r.prefix]
        a += ["nexthop", r.next_hop]
        if r.as_path:
            a += ["aspath", ",".join(map(str, r.as_path))]
        if r.communities:
            a += ["community", ",".join(r.communities)]
        if r.large_communities:
            a += ["large-community", ",".join(r.large_communities)]
        if r.local_pref is not None:
            a += ["local-pref", str(r.local_pref)]
        if r.med is not None:
            a += ["med", str(r.med)]
        return a

    def _announce(self, routes):
        for r in routes:
            self.check(r)
            self._cli("global", "rib", *self._rib_args(r))

    def _withdraw(self, routes):
        for r in routes:
            if r.rd:
                self._cli("global", "rib", "-a", "vpnv4", "del", r.prefix, "label",
                          str(r.label or 0), "rd", r.rd)
            else:
                self._cli("global", "rib", "-a", "ipv6" if r.v6 else "ipv4", "del", r.prefix)

    def established(self):
        p = self._cli("neighbor", "-j", check=False)
        try:
            return any(n["state"].get("session_state") == 6 for n in json.loads(p.stdout))
        except (ValueError, KeyError, TypeError):
            return False

    def advertised(self):
        if not self.established():
            return 0
        n = 0
        for fam in ("ipv4", "ipv6", "vpnv4"):
            p = self._cli("neighbor", self.collector, "adj-out", "-a", fam, "-j", check=False)
            try:
                n += len(json.loads(p.stdout or "{}"))
            except ValueError:
                pass
        return n


# ---------------------------------------------------------------------------
# BIRD 2: static protocols rewritten and `birdc configure` at run time


class BirdPeer(Peer):
    name = "bird"
    supports = frozenset({"ext_comm", "v6_over_v4", "v4_over_v6", "runtime"})

    @staticmethod
    def available():
        return bool(_which("bird") and _which("birdc"))

    def _route_text(self, r):
        attrs = []
        if r.as_path:
            # prepend in reverse so that the first AS is the neighbour's
            attrs += [f"bgp_path.prepend({a});" for a in reversed(r.as_path)]
        for c in r.communities:
            attrs.append(f"bgp_community.add(({c.replace(':', ',')}));")
        for t, v in r.ext_communities:
            bt = {"soo": "ro"}.get(t, t)          # BIRD's word for site-of-origin
            attrs.append(f"bgp_ext_community.add(({bt}, {v.replace(':', ', ')}));")
        for c in r.large_communities:
            attrs.append(f"bgp_large_community.add(({c.replace(':', ', ')}));")
        if r.local_pref is not None:
            attrs.append(f"bgp_local_pref = {r.local_pref};")
        if r.med is not None:
            attrs.append(f"bgp_med = {r.med};")
        attrs.append(f"bgp_next_hop = {r.next_hop};")
        return f"  route {r.prefix} blackhole {{ {' '.join(attrs)} }};\n"

    def _write_conf(self):
        v4 = "".join(self._route_text(r) for r in self.routes.values() if not r.v6)
        v6 = "".join(self._route_text(r) for r in self.routes.values() if r.v6)
        nbr = self.collector if ":" not in self.local else "::1"
        ipv4_extra = "extended next hop on; " if ":" in self.local else ""
        (self.dir / "bird.conf").write_text(f"""log "{self.dir}/bird.log" all;
router id {self.router_id};
protocol device {{ }}
protocol static s4 {{ ipv4; check link off;
{v4}}}
protocol static s6 {{ ipv6; check link off;
{v6}}}
protocol bgp collector {{
  local {self.local} port {self.listen} as {self.asn};
  neighbor {nbr} port {self.port} as {self.peer_asn};
  connect retry time 1; connect delay time 1; error wait time 1, 2;
  ipv4 {{ import none; export all; next hop keep; {ipv4_extra}}};
  ipv6 {{ import none; export all; next hop keep; }};
}}
""")

    def start(self):
        self.listen = free_tcp_port()   # BIRD also listens; not on 179, maybe taken
        self._write_conf()
        self.sock = self.dir / "bird.ctl"
        self._popen([_which("bird"), "-f", "-c", str(self.dir / "bird.conf"), "-s", str(self.sock),
                     "-P", str(self.dir / "bird.pid")])
        wait_for(lambda: self._cli("show status", check=False).returncode == 0, 15, "bird up")

    def _cli(self, cmd, check=True):
        p = subprocess.run([_which("birdc"), "-s", str(self.sock), *cmd.split()],
                           capture_output=True, text=True)
        if check and (p.returncode or "syntax error" in p.stdout.lower()
                      or "error" in p.stdout.lower()):
            raise RuntimeError(f"birdc {cmd}: {p.stdout}{p.stderr}")
        return p

    def _reconfigure(self):
        self._write_conf()
        if self.proc is not None:
            self._cli("configure")

    def _announce(self, routes):
        for r in routes:
            self.check(r)
        self._reconfigure()

    def _withdraw(self, routes):
        self._reconfigure()

    def established(self):
        return "Established" in self._cli("show protocols collector", check=False).stdout

    def advertised(self):
        out = self._cli("show protocols all collector", check=False).stdout
        n = 0
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("Routes:") and "exported" in line:
                n += int(line.split(",")[1].split()[0])
        return n if self.established() else 0


# ---------------------------------------------------------------------------
# FRR bgpd alone (-Z: no zebra), route-maps per route, vtysh on its own vty socket


class FrrPeer(Peer):
    name = "frr"
    supports = frozenset({"ext_comm", "v6_over_v4", "v4_over_v6", "runtime"})
    BGPD = "/usr/lib/frr/bgpd"

    @staticmethod
    def available():
        return bool(_which("bgpd", FrrPeer.BGPD) and _which("vtysh"))

    def _conf_text(self):
        nbr = self.collector if ":" not in self.local else "::1"
        maps, nets = [], {4: [], 6: []}
        for r in self.routes.values():
            i = "R" + r.prefix.replace("/", "_").replace(":", "_").replace(".", "_")
            nets[r.net.version].append(f"  network {r.prefix} route-map {i}\n")
            maps.append(self._route_map(i, r))
        af = ""
        for v, fam in ((4, "ipv4"), (6, "ipv6")):
            af += (f" address-family {fam} unicast\n{''.join(nets[v])}"
                   f"  neighbor {nbr} activate\n exit-address-family\n")
        ext_nh = f" neighbor {nbr} capability extended-nexthop\n" if ":" in self.local else ""
        return f"""hostname frr-{self.local}
log file {self.dir}/bgpd.log
router bgp {self.asn}
 bgp router-id {self.router_id}
 no bgp default ipv4-unicast
 no bgp network import-check
 no bgp ebgp-requires-policy
 neighbor {nbr} remote-as {self.peer_asn}
 neighbor {nbr} port {self.port}
 neighbor {nbr} update-source {self.local}
 neighbor {nbr} timers connect 1
{ext_nh}{af}!
{''.join(maps)}"""

    def _route_map(self, name, r):
        s = [f"route-map {name} permit 10"]
        if r.as_path:
            s.append(" set as-path prepend " + " ".join(map(str, r.as_path)))
        if r.communities:
            s.append(" set community " + " ".join(r.communities))
        rts = [v for t, v in r.ext_communities if t == "rt"]
        soos = [v for t, v in r.ext_communities if t == "soo"]
        if rts:
            s.append(" set extcommunity rt " + " ".join(rts))
        if soos:
            s.append(" set extcommunity soo " + " ".join(soos))
        if r.large_communities:
            s.append(" set large-community " + " ".join(r.large_communities))
        if r.local_pref is not None:
            s.append(f" set local-preference {r.local_pref}")
        if r.med is not None:
            s.append(f" set metric {r.med}")
        if ":" in r.next_hop:
            s.append(f" set ipv6 next-hop global {r.next_hop}")
        else:
            s.append(f" set ip next-hop {r.next_hop}")
        return "\n".join(s) + "\n!\n"

    def start(self):
        (self.dir / "bgpd.conf").write_text(self._conf_text())
        self._sent = {r.prefix for r in self.routes.values()}   # in the config file
        self.vty = self.dir
        self._popen([_which("bgpd", self.BGPD), "-f", str(self.dir / "bgpd.conf"),
                     "-i", str(self.dir / "bgpd.pid"), "--vty_socket", str(self.dir),
                     "-Z", "-p", "0", "-P", "0", "-S", "-u", "root", "-g", "root",
                     "-N", f"h{os.getpid()}-{self.local.replace(':', '_').replace('.', '_')}"])
        wait_for(lambda: self._cli("show version", check=False).returncode == 0, 15, "bgpd up")

    def _cli(self, *cmds, check=True):
        argv = [_which("vtysh"), "--vty_socket", str(self.dir), "-d", "bgpd"]
        for c in cmds:
            argv += ["-c", c]
        p = subprocess.run(argv, capture_output=True, text=True)
        bad = ("% Unknown", "% Invalid", "% Ambiguous", "% Command incomplete")
        if check and any(b in p.stdout for b in bad):
            raise RuntimeError(f"vtysh {cmds}: {p.stdout}{p.stderr}")
        return p

    def _announce(self, routes):
        for r in routes:
            self.check(r)
        if self.proc is None:
            return
        # vtysh stops at the first failing command: what may not exist is removed apart
        cmds = ["configure terminal"]
        for r in routes:
            i = "R" + r.prefix.replace("/", "_").replace(":", "_").replace(".", "_")
            fam = f"address-family {'ipv6' if r.v6 else 'ipv4'} unicast"
            if r.prefix in self._sent:            # an update: the old statement first
                self._cli("configure terminal", f"router bgp {self.asn}", fam,
                          f"no network {r.prefix}", check=False)
                self._cli("configure terminal", f"no route-map {i}", check=False)
            self._sent.add(r.prefix)
            cmds += self._route_map(i, r).rstrip("!\n").split("\n")
            cmds += ["exit", f"router bgp {self.asn}", fam,
                     f"network {r.prefix} route-map {i}", "exit-address-family", "exit"]
        self._cli(*cmds)

    def _withdraw(self, routes):
        cmds = ["configure terminal", f"router bgp {self.asn}"]
        for r in routes:
            self._sent.discard(r.prefix)
            cmds += [f"address-family {'ipv6' if r.v6 else 'ipv4'} unicast",
                     f"no network {r.prefix}", "exit-address-family"]
        self._cli(*cmds)

    def established(self):
        p = self._cli("show bgp summary json", check=False)
        try:
            j = json.loads(p.stdout)
        except ValueError:
            return False
        return any(peer.get("state") == "Established"
                   for fam in j.values() if isinstance(fam, dict)
                   for peer in fam.get("peers", {}).values())

    def advertised(self):
        p = self._cli("show bgp summary json", check=False)
        try:
            j = json.loads(p.stdout)
        except ValueError:
            return 0
        return sum(peer.get("pfxSnt", 0) for fam in j.values() if isinstance(fam, dict)
                   for peer in fam.get("peers", {}).values()
                   if peer.get("state") == "Established")


# ---------------------------------------------------------------------------
# ExaBGP: an API process relaying the lines written to a FIFO


RELAY = r"""
import os, sys, threading
fifo, state = sys.argv[1], sys.argv[2]
def read_events():
    with open(state, "a") as f:
        for line in sys.stdin:
            f.write(line); f.flush()
threading.Thread(target=read_events, daemon=True).start()
while True:
    with open(fifo) as f:
        for line in f:
            sys.stdout.write(line); sys.stdout.flush()
"""


class ExaBgpPeer(Peer):
    name = "exabgp"
    supports = frozenset({"ext_comm", "vpnv4", "v6_over_v4", "runtime"})

    @staticmethod
    def available():
        return bool(_which("exabgp", "/usr/sbin/exabgp"))

    def start(self):
        fifo, state = self.dir / "api.fifo", self.dir / "events.jsonl"
        if not fifo.exists():
            os.mkfifo(fifo)
        state.write_text("")
        (self.dir / "relay.py").write_text(RELAY)
        nbr = self.collector if ":" not in self.local else "::1"
        (self.dir / "exabgp.conf").write_text(f"""process relay {{
  run /usr/bin/python3 -u {self.dir}/relay.py {fifo} {state};
  encoder json;
}}
neighbor {nbr} {{
  router-id {self.router_id};
  local-address {self.local};
  local-as {self.asn};
  peer-as {self.peer_asn};
  connect {self.port};
  group-updates true;
  family {{ ipv4 unicast; ipv6 unicast; ipv4 mpls-vpn; }}
  api {{ processes [ relay ]; neighbor-changes; }}
}}
""")
        env = dict(os.environ, **{
            "exabgp.daemon.user": "root", "exabgp.daemon.drop": "false",
            "exabgp.log.destination": str(self.dir / "exabgp.log"),
            "exabgp.api.ack": "false", "exabgp.tcp.bind": "",
            "exabgp.api.cli": "false", "exabgp.daemon.pid": str(self.dir / "exabgp.pid"),
            "exabgp.tcp.delay": "0"})
        self._popen([_which("exabgp", "/usr/sbin/exabgp"), str(self.dir / "exabgp.conf")],
                    env=env)
        self._fifo_w = None
        if self.routes:
            wait_for(self.established, 30, "exabgp session up")
            self._announce(list(self.routes.values()))

    def stop(self):
        if self._fifo_w_open():
            self._fifo_w.close()
        self._fifo_w = None
        super().stop()

    def _fifo_w_open(self):
        return getattr(self, "_fifo_w", None) is not None

    def _send(self, lines):
        if not self._fifo_w_open():
            self._fifo_w = open(self.dir / "api.fifo", "w")
        self._fifo_w.write("".join(line + "\n" for line in lines))
        self._fifo_w.flush()

    def _attrs(self, r):
        s = f"route {r.prefix}"
        if r.rd:
            s += f" rd {r.rd} label {r.label or 0}"
        s += f" next-hop {r.next_hop}"
        if r.as_path:
            s += " as-path [ " + " ".join(map(str, r.as_path)) + " ]"
        if r.communities:
            s += " community [ " + " ".join(r.communities) + " ]"
        if r.ext_communities:
            word = {"rt": "target", "soo": "origin"}        # ExaBGP's words
            s += " extended-community [ " + " ".join(f"{word[t]}:{v}" for t, v in r.ext_communities) + " ]"
        if r.large_communities:
            s += " large-community [ " + " ".join(r.large_communities) + " ]"
        if r.local_pref is not None:
            s += f" local-preference {r.local_pref}"
        if r.med is not None:
            s += f" med {r.med}"
        return s

    def _announce(self, routes):
        for r in routes:
            self.check(r)
        if self.proc is not None:
            self._send([f"neighbor {self.collector} announce {self._attrs(r)}" for r in routes])

    def _withdraw(self, routes):
        self._send([f"neighbor {self.collector} withdraw {self._attrs(r)}" for r in routes])

    def established(self):
        up = False
        try:
            for line in (self.dir / "events.jsonl").read_text().splitlines():
                try:
                    j = json.loads(line)
                except ValueError:
                    continue
                if j.get("type") == "state":
                    up = j["neighbor"]["state"] == "up"
        except OSError:
            return False
        return up

    def advertised(self):
        # ExaBGP reports nothing per route: once up, what it was given is sent
        return len(self.routes) if self.established() else 0


SPEAKERS = {"gobgp": GoBgpPeer, "bird": BirdPeer, "frr": FrrPeer, "exabgp": ExaBgpPeer}


def loopback_ok(addr):
    """Whether addr can be bound here (127.0.0.0/8 is local on Linux)."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        try:
            s.bind((addr, 0))
            return True
        except OSError:
            return False
