"""A BGP collector under test with its own BIRD 2, for the message-log and dump tests
(test_bgp_log, test_bgp_tagmap): the daemon (ours or a reference binary) runs a config the test
gives; BIRD speaks the routes of tests/data/bgp_log/bird.conf from 127.0.0.2 to it.  Also the
JSON-lines reader and the line-by-line comparison both tests use."""
import json
import os
import re
import signal
import subprocess
from pathlib import Path

from conftest import REPO, spawn_daemon
from helpers import free_tcp_port

DATA = REPO / "tests" / "data" / "bgp_log"


def lines(path):
    """The JSON objects of a JSON-lines file ([] while it is missing or half written)."""
    try:
        return [json.loads(x) for x in Path(path).read_text().splitlines() if x.strip()]
    except (OSError, ValueError):
        return []


def route_key(o):
    return (o.get("event_type"), o.get("log_type"), o.get("afi"), o.get("safi"), o.get("ip_prefix"))


def same(ours, ref, what, who):
    """Our lines against the reference's (`who` names it), matched by route: keys in order and
    values, timestamp, peer port and seq aside (a dump between two lines moves seq, and the two
    daemons may meet a dump deadline at different points)."""
    assert len(ours) == len(ref), f"{what}: {len(ours)} lines, {who} wrote {len(ref)}"
    by_key = {route_key(r): r for r in ref}
    for o in ours:
        r = by_key.get(route_key(o))
        assert r is not None, f"{what}: {who} has no line for {route_key(o)}"
        assert list(o) == list(r), f"{what} {route_key(o)}: keys {list(o)} != {who}'s {list(r)}"
        for k in r:
            if k not in ("timestamp", "peer_tcp_port", "seq"):
                assert o[k] == r[k], f"{what} {route_key(o)} {k}: {o[k]!r} != {who}'s {r[k]!r}"


class LogSide:
    """One daemon (binary, config text with {d} and {bgp_port} to fill) in base/name, and its BIRD;
    `files` (name -> text) are written into its directory before it starts."""

    def __init__(self, name, binary, base, conf, conf_name, fast_retry=False, files=None):
        self.d = base / name
        self.d.mkdir()
        for fname, text in (files or {}).items():
            (self.d / fname).write_text(text)
        self.bgp_port = free_tcp_port()
        self.fast_retry = fast_retry
        self.daemon = spawn_daemon(binary, self.d / conf_name, conf.format(d=self.d, bgp_port=self.bgp_port),
                                   self.d / (Path(conf_name).stem + ".log"))

    def start_bird(self):
        conf = (DATA / "bird.conf").read_text()
        conf = re.sub(r'log "[^"]*" all;', f'log "{self.d}/bird.log" all;', conf)
        conf = re.sub(r"local 127\.0\.0\.2 port \d+", f"local 127.0.0.2 port {free_tcp_port()}", conf)
        conf = re.sub(r"neighbor 127\.0\.0\.1 port \d+", f"neighbor 127.0.0.1 port {self.bgp_port}", conf)
        if self.fast_retry:	# reconnect soon after a restart
            conf = conf.replace("hold time 30;", "hold time 30; connect delay time 1; connect retry time 2;")
        (self.d / "bird.conf").write_text(conf)
        subprocess.run(["bird", "-c", str(self.d / "bird.conf"), "-s", str(self.d / "bird.sock"),
                        "-P", str(self.d / "bird.pid")], check=True)

    def first_dump(self, pattern, entries=5):
        """The lines of the first complete dump file (by name) matching pattern in our directory
        whose dump_close counts `entries` routes (BIRD's five), or []."""
        for f in sorted(self.d.glob(pattern)):
            ls = lines(f)
            if ls and ls[-1].get("event_type") == "dump_close" and ls[-1].get("entries") == entries:
                return ls
        return []

    def birdc(self, *cmd):
        subprocess.run(["birdc", "-s", str(self.d / "bird.sock"), *cmd], check=True,
                       stdout=subprocess.DEVNULL)

    def stop_bird(self):
        pid = self.d / "bird.pid"
        if pid.exists():
            try:
                os.kill(int(pid.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass

    def stop(self):
        self.stop_bird()
        if self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
