# SPDX-License-Identifier: BSD-3-Clause
"""Reading a capture file for more than a few seconds shows a progress line on a terminal
(percent, packets/s, ETA), and nothing when stderr is not a terminal. The runs sleep 3 s
before reading (-Z), so the line is due as soon as reading starts."""

import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

from conftest import DAEMON_ENV, PMACCTD, write_netflow_v5_pcap

NFACCTD = Path(os.environ.get("NFACCTD", PMACCTD.parent / "nfacctd"))
LINE = re.compile(r"\r\[([^\]]+)\] (\d+)%, [0-9.]+[kMG]? packets, [0-9.]+[kMG]? packets/s, ETA \d+:\d\d")


def run_on_pty(argv, timeout=60):
    """Run argv with stdin/stdout/stderr on a pseudo-terminal; returns (rc, text)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, DAEMON_ENV)
    out, deadline = b"", time.time() + timeout
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


@pytest.fixture(scope="module")
def big_capture(pcapgen):
    pcap, _ = pcapgen(400_000, 2000, seed=5)
    return pcap


def test_pmacctd_progress_on_a_terminal(big_capture, tmp_path):
    rc, text = run_on_pty([str(PMACCTD), "-I", str(big_capture), "-Z", "3", "-P", "print",
                           "-c", "proto", "-o", str(tmp_path / "o.txt")])
    assert rc == 0, text
    lines = LINE.findall(text)
    assert lines, text[-2000:]
    assert all(name == Path(big_capture).name for name, _ in lines)
    assert all(0 <= int(p) <= 100 for _, p in lines)
    assert "\r\x1b[K" in text          # cleared at the end


def test_no_progress_without_a_terminal(big_capture, tmp_path):
    r = subprocess.run([str(PMACCTD), "-I", str(big_capture), "-Z", "3", "-P", "print", "-c",
                        "proto", "-o", str(tmp_path / "o.txt")], env=DAEMON_ENV,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert "packets/s" not in r.stderr and "\x1b[K" not in r.stderr


def test_nfacctd_progress_on_a_terminal(tmp_path):
    pcap = tmp_path / "nf.pcap"
    write_netflow_v5_pcap(pcap, n_datagrams=20000, per=30)
    rc, text = run_on_pty([str(NFACCTD), "-I", str(pcap), "-Z", "3", "-P", "print", "-c",
                           "src_host", "-o", str(tmp_path / "o.txt")])
    assert rc == 0, text
    assert LINE.search(text), text[-2000:]
