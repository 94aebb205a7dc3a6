# SPDX-License-Identifier: BSD-3-Clause
"""The operator's first contact: -h of the daemons and of pmacct, `pmacct -s
-a` column layout, and what pmacct says when it cannot reach a table.

Truth: the reference binaries (Debian pmacct 1.7.7) for the plugin types and
the column widths, the CSV header of the same query for the formatted one,
and sockets this test makes itself for the connect errors.
"""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import DAEMON_ENV, PMACCTD, REPO, needs_ref, retry_reference

BIN = PMACCTD.parent
OURS = {d: Path(os.environ.get(d.upper(), BIN / d)) for d in ("pmacctd", "nfacctd", "sfacctd")}
PMACCT = Path(os.environ.get("PMACCT", BIN / "pmacct"))
REF = {d: Path(f"/usr/sbin/{d}") for d in OURS}
REF_PMACCT = Path("/usr/bin/pmacct")
DEMO = REPO / "examples" / "demo.pcap"
AGGREGATE = "src_host, dst_host, proto, src_port, dst_port, tag, tag2, vlan, src_mac, dst_mac, tos"


def help_plugin_types(binary):
    out = subprocess.run([str(binary), "-h"], capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"^  -P  \t\[ (.*?) \] \n\tActivate plugin$", out, re.M)
    assert m, out
    return m.group(1).split(" | ")


def built_plugin_types(binary):
    out = subprocess.run([str(binary), "-V"], capture_output=True, text=True, timeout=10).stdout
    return set(out.split("Plugins:\n", 1)[1].split("\n\n", 1)[0].split())


@pytest.mark.parametrize("daemon", sorted(OURS))
def test_help_lists_every_plugin_type(daemon):
    """-P names every type the daemon accepts: each one passes -T config on
    the command line; and every type 1.7.7 lists that this build has."""
    types = help_plugin_types(OURS[daemon])
    assert {"memory", "print"} <= set(types)
    for t in types:
        res = subprocess.run([str(OURS[daemon]), "-P", t, "-T", "config"], capture_output=True,
                             text=True, timeout=20, env=DAEMON_ENV)
        assert "not supported" not in res.stderr and "nknown plugin" not in res.stderr, res.stderr
    if os.access(REF[daemon], os.X_OK):
        ref = set(help_plugin_types(REF[daemon])) - {"zmq"}   # pmacct's own transport
        missing = ref - set(types)
        assert missing <= ref - built_plugin_types(OURS[daemon]), missing


def test_help_rejects_other_daemons_types():
    """A type -h leaves out is refused with a clear error (tee is a collector's)."""
    assert "tee" not in help_plugin_types(OURS["pmacctd"])
    res = subprocess.run([str(OURS["pmacctd"]), "-P", "tee", "-T", "config"],
                         capture_output=True, text=True, timeout=20)
    assert res.returncode != 0 and "'tee' plugin not supported in 'pmacctd'" in res.stderr


def test_client_help():
    out = subprocess.run([str(PMACCT), "-h"], capture_output=True, text=True, timeout=10).stdout
    clist = out.split("  -c\t< ", 1)[1].split(">", 1)[0]
    names = [n.strip() for n in clist.replace("\n\t", " ").split("|")]
    assert all(names), f"empty entries in -c: {clist!r}"
    assert {"src_host", "dst_port", "tag", "flows"} <= set(names)
    assert "QUICKSTART" not in out
    assert "pmacct(1)" in out


class Table:
    """A daemon with one memory table on the demo capture, kept running."""

    def __init__(self, daemon, tmp_path, tag):
        self.sock = tmp_path / f"{tag}.pipe"
        conf = tmp_path / f"{tag}.conf"
        conf.write_text(f"pcap_savefile: {DEMO}\npcap_savefile_wait: true\nplugins: memory\n"
                        f"aggregate: {AGGREGATE}\nimt_path: {self.sock}\n")
        self.proc = subprocess.Popen([str(daemon), "-f", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=DAEMON_ENV)

    def query(self, client, *args):
        end = time.monotonic() + 20
        while time.monotonic() < end:
            res = subprocess.run([str(client), "-p", str(self.sock), *args],
                                 capture_output=True, text=True, timeout=10)
            if res.returncode == 0 and len(res.stdout.splitlines()) > 3:
                return res.stdout
            time.sleep(0.3)    # 1.7.7 sleeps 2 s before reading a capture
        raise AssertionError(f"no rows from {client} on {self.sock}")

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def ref_header(tmp_path, want, *args):
    """The first line of 1.7.7's answer to `pmacct -p <table> args` on its table of the demo
    capture; its daemon again (conftest.retry_reference) while it has no rows or that line is
    not `want` (ours)."""
    def once(i):
        t = Table(REF["pmacctd"], tmp_path, f"ref{i}")
        try:
            return t.query(REF_PMACCT, *args).splitlines()[0]
        finally:
            t.stop()
    return retry_reference(once, lambda h: h.rstrip() == want.rstrip(), what="pmacctd 1.7.7 table")


def column_starts(header):
    return {m.group(): m.start() for m in re.finditer(r"\S+", header)}


def column_widths(header):
    ms = list(re.finditer(r"\S+", header))
    return {m.group(): ms[i + 1].start() - m.start() for i, m in enumerate(ms[:-1])}


def test_s_a_header_not_glued(tmp_path):
    """Formatted `-s -a` has one title per column: the same titles, in the
    same order, as the CSV header of the same query (which cannot glue), but
    for CSV's LABEL (1.7.7 has it in CSV only)."""
    t = Table(OURS["pmacctd"], tmp_path, "ours")
    try:
        fmt = t.query(PMACCT, "-s", "-a").splitlines()[0]
        csv = t.query(PMACCT, "-s", "-a", "-O", "csv").splitlines()[0]
    finally:
        t.stop()
    assert fmt.split() == [c for c in csv.split(",") if c != "LABEL"], (fmt, csv)


@needs_ref
def test_s_a_csv_columns_match_reference(tmp_path):
    """`-s -a -O csv` has 1.7.7's title, LABEL included; every row has one value per title, and
    the aggregated columns hold the values plain `-s -O csv` prints (1.7.7's own rows are
    shifted against its title, so only its title is compared)."""
    ours = Table(OURS["pmacctd"], tmp_path, "ours")
    try:
        all_o = ours.query(PMACCT, "-s", "-a", "-O", "csv").splitlines()
        plain = ours.query(PMACCT, "-s", "-O", "csv").splitlines()
    finally:
        ours.stop()
    assert all_o[0] == ref_header(tmp_path, all_o[0], "-s", "-a", "-O", "csv")
    title = all_o[0].split(",")
    assert title[:4] == ["TAG", "TAG2", "LABEL", "CLASS"]
    assert all(len(r.split(",")) == len(title) for r in all_o[1:])
    ptitle = plain[0].split(",")
    want = sorted(tuple(r.split(",")) for r in plain[1:])
    got = sorted(tuple(dict(zip(title, r.split(",")))[c] for c in ptitle) for r in all_o[1:])
    assert got == want and len(want) > 0
    assert all(dict(zip(title, r.split(",")))["LABEL"] == "" for r in all_o[1:])


@needs_ref
def test_s_a_widths_match_reference(tmp_path):
    """-s -a prints 1.7.7's columns, titles and widths: the header lines are equal (columns
    of primitives 1.7.7 lacks show only when the table aggregates them)."""
    ours = Table(OURS["pmacctd"], tmp_path, "ours")
    try:
        ho = ours.query(PMACCT, "-s", "-a").splitlines()[0]
    finally:
        ours.stop()
    hr = ref_header(tmp_path, ho, "-s", "-a")
    wo, wr = column_widths(ho), column_widths(hr)
    shared = set(wo) & set(wr)
    assert len(shared) >= 60, shared
    assert {k: wo[k] for k in shared} == {k: wr[k] for k in shared}
    assert ho.split() == hr.split()
    assert ho.rstrip() == hr.rstrip()


def client_error(path):
    res = subprocess.run([str(PMACCT), "-p", str(path), "-s"], capture_output=True, text=True,
                         timeout=10)
    assert res.returncode == 1
    assert res.stdout.startswith(f"ERROR: Unable to connect to '{path}': "), res.stdout
    return res.stdout


def test_connect_error_no_file(tmp_path):
    assert "no such file" in client_error(tmp_path / "nosuch.pipe")


def test_connect_error_daemon_down(tmp_path):
    """A socket file nobody listens on: what a killed daemon leaves."""
    path = tmp_path / "stale.pipe"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()
    assert "connection refused" in client_error(path)


def test_connect_error_not_a_socket(tmp_path):
    path = tmp_path / "plain.conf"
    path.write_text("x\n")
    assert "not a socket" in client_error(path)
