"""The BGP RIB in the table registry (docs/bounds.md): our pmbgpd peers with BIRD 2
(tests/data/bgp_log/bird.conf); SIGUSR1's `table [default/core/BGP] bgp_rib ...` line counts the
routes BIRD says it exported (`show protocols all`), and -T config lists the ceiling
(bgp_table_max_memory). A ceiling too small for the routes refuses them, counted."""
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, skip_or_fail, spawn_daemon
from helpers import free_tcp_port, wait_for

PMBGPD = Path(os.environ.get("PMBGPD", REPO / "build" / "pmbgpd"))
NFACCTD = Path(os.environ.get("NFACCTD", REPO / "build" / "nfacctd"))
DATA = REPO / "tests" / "data" / "bgp_log"
TABLE = re.compile(r"table \[default/core/BGP\] bgp_rib entries=(\d+)/(\d+) bytes=(\d+)/(\d+) "
                   r"peak=(\d+) at_ceiling=(\d+) refused=(\d+) policy=refuse")


class Run:
    def __init__(self, d, max_bytes, binary=PMBGPD, extra=""):
        self.d = d
        d.mkdir()
        self.port = free_tcp_port()
        self.conf = (f"daemonize: false\nbgp_daemon: true\nbgp_daemon_ip: 127.0.0.1\n"
                     f"bgp_daemon_port: {self.port}\nbgp_table_max_memory: {max_bytes}\n{extra}")
        self.p = spawn_daemon(binary, d / "bgp.conf", self.conf, d / "bgp.log")
        time.sleep(0.5)
        conf = (DATA / "bird.conf").read_text()
        conf = re.sub(r'log "[^"]*" all;', f'log "{d}/bird.log" all;', conf)
        conf = re.sub(r"local 127\.0\.0\.2 port \d+", f"local 127.0.0.2 port {free_tcp_port()}", conf)
        conf = re.sub(r"neighbor 127\.0\.0\.1 port \d+", f"neighbor 127.0.0.1 port {self.port}", conf)
        conf = conf.replace("hold time 30;", "hold time 30; connect delay time 1; connect retry time 2;")
        (d / "bird.conf").write_text(conf)
        subprocess.run(["bird", "-c", str(d / "bird.conf"), "-s", str(d / "bird.sock"),
                        "-P", str(d / "bird.pid")], check=True)

    def exported(self):
        """Routes BIRD exported to us, from its own counters (0 until Established)."""
        out = subprocess.run(["birdc", "-s", str(self.d / "bird.sock"), "show", "protocols", "all", "pm"],
                             capture_output=True, text=True).stdout
        if "Established" not in out:
            return 0
        return sum(int(x.split(",")[1].split()[0]) for x in
                   (l.strip() for l in out.splitlines()) if x.startswith("Routes:") and "exported" in x)

    def table_line(self):
        self.p.send_signal(signal.SIGUSR1)
        time.sleep(0.5)
        found = TABLE.findall((self.d / "bgp.log").read_text())
        return tuple(map(int, found[-1])) if found else None

    def stop(self):
        pid = self.d / "bird.pid"
        if pid.exists():
            try:
                os.kill(int(pid.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


@pytest.fixture
def tools():
    for tool in ("bird", "birdc"):
        if not shutil.which(tool):
            skip_or_fail(f"{tool} missing")
    if not os.access(PMBGPD, os.X_OK):
        skip_or_fail(f"{PMBGPD} not built")


def test_rib_table_counts_birds_routes(tmp_path, tools):
    r = Run(tmp_path / "big", 64 << 20)
    try:
        wait_for(lambda: r.exported() == 5, timeout=30, what="BIRD exporting its 5 routes")
        wait_for(lambda: (t := r.table_line()) and t[0] == r.exported(), timeout=10,
                 what="the bgp_rib line counting BIRD's routes")
        entries, max_e, nbytes, max_b, peak, at_ceiling, refused = r.table_line()
        assert (entries, max_e, max_b, peak, at_ceiling, refused) == (5, 0, 64 << 20, 5, 0, 0)
        assert 0 < nbytes < 64 << 20
        # BIRD withdraws its two IPv6 routes: the next SIGUSR1 says 3, the peak stays 5
        subprocess.run(["birdc", "-s", str(r.d / "bird.sock"), "disable", "s6"], check=True,
                       stdout=subprocess.DEVNULL)
        wait_for(lambda: r.exported() == 3, timeout=10, what="BIRD exporting 3 routes")
        wait_for(lambda: (t := r.table_line()) and t[0] == 3, timeout=10, what="entries=3")
        assert r.table_line()[4] == 5
    finally:
        r.stop()


def test_rib_table_refuses_at_its_ceiling(tmp_path, tools):
    r = Run(tmp_path / "small", 1)
    try:
        wait_for(lambda: r.exported() == 5, timeout=30, what="BIRD exporting its 5 routes")
        wait_for(lambda: (t := r.table_line()) and t[0] + t[6] == 5, timeout=10,
                 what="every route BIRD sent kept or refused")
        entries, _, _, max_b, _, at_ceiling, refused = r.table_line()
        assert max_b == 1 and refused == 5 - entries and refused > 0 and at_ceiling >= 1
    finally:
        r.stop()


def test_t_config_lists_the_ceiling(tmp_path):
    if not os.access(NFACCTD, os.X_OK):
        skip_or_fail(f"{NFACCTD} not built")
    conf = tmp_path / "nf.conf"
    for binary in (NFACCTD, PMBGPD):
        conf.write_text("bgp_daemon: true\nbgp_daemon_ip: 127.0.0.1\nbgp_table_max_memory: 67108864\n")
        out = subprocess.run([str(binary), "-f", str(conf), "-T", "config"], capture_output=True,
                             text=True, timeout=30).stdout
        assert ("!   default/core/BGP bgp_rib: 64.0 MiB (67108864 bytes), set by bgp_table_max_memory; "
                "when full: refuse") in out, out
        conf.write_text("bgp_daemon: true\nbgp_daemon_ip: 127.0.0.1\n")
        out = subprocess.run([str(binary), "-f", str(conf), "-T", "config"], capture_output=True,
                             text=True, timeout=30).stdout
        assert "!   default/core/BGP bgp_rib: unbounded (bgp_table_max_memory: 0)" in out, out


def test_metrics_has_the_rib(tmp_path, tools):
    """nfacctd with the http plugin: /metrics pmacct_tables_* of bgp_rib count BIRD's routes."""
    if not os.access(NFACCTD, os.X_OK):
        skip_or_fail(f"{NFACCTD} not built")
    from helpers import free_port
    hport = free_tcp_port()
    r = Run(tmp_path / "nf", 64 << 20, NFACCTD,
            f"nfacctd_ip: 127.0.0.1\nnfacctd_port: {free_port()}\nplugins: http[h]\n"
            f"aggregate[h]: src_host\nhttp_listen[h]: 127.0.0.1:{hport}\n")
    import urllib.request

    def sample(name):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{hport}/metrics", timeout=5) as f:
                text = f.read().decode()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(name + "{") and 'table="bgp_rib"' in line and \
                    'owner="default/core/BGP"' in line and 'policy="refuse"' in line:
                return float(line.rsplit(" ", 1)[1])
        return None
    try:
        if r.p.poll() is not None or "http" in (r.d / "bgp.log").read_text() and \
                "not built" in (r.d / "bgp.log").read_text():
            pytest.skip("no http plugin in this build")
        wait_for(lambda: r.exported() == 5, timeout=30, what="BIRD exporting its 5 routes")
        wait_for(lambda: sample("pmacct_tables_entries") == r.exported(), timeout=10,
                 what="pmacct_tables_entries of bgp_rib = BIRD's routes")
        assert sample("pmacct_tables_max_bytes") == 64 << 20
        assert sample("pmacct_tables_max_entries") == 0
        assert 0 < sample("pmacct_tables_bytes") < 64 << 20
        assert sample("pmacct_tables_refused_total") == 0
    finally:
        r.stop()
