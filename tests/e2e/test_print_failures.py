# SPDX-License-Identifier: BSD-3-Clause
"""The print plugin when its output cannot be written.

A print_output_file / print_latest_file that cannot be written is a
start-up error naming the key, its origin and the path (also under
-T config); at run time a purge that cannot be written (disk full, file
system made read-only, broken pipe) keeps its rows for the next purge, and
rows still undelivered at exit make the daemon exit 2.

Disks are small tmpfs mounts made by the tests (root with CAP_SYS_ADMIN),
permissions are tested as `nobody` (root passes every permission check).
Expected counters come from the NetFlow generator's tallies and scapy.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import (demo_src_hosts, BIG_BUFFERS, DAEMON_ENV, PMACCTD, REPO, needs_ours, needs_ref,
                      netflow_v5_datagrams, run_reference)

NFACCTD = Path(os.environ.get("NFACCTD", PMACCTD.parent / "nfacctd"))
DEMO = REPO / "examples" / "demo.pcap"
WHO = "default_print/print"


def can_mount():
    if os.geteuid() != 0:
        return False
    d = tempfile.mkdtemp(prefix="print-mnt-")
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", d], check=True)
        return ok
    finally:
        os.rmdir(d)


needs_mount = pytest.mark.skipif(not can_mount(), reason="mounting a tmpfs needs root")


@contextmanager
def tmpfs(size="1m"):
    """A fresh tmpfs of `size`, unmounted at the end."""
    d = Path(tempfile.mkdtemp(prefix="print-fs-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=1777", "tmpfs", str(d)],
                   check=True)
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)])
        d.rmdir()


def remount(d, mode):
    subprocess.run(["mount", "-o", f"remount,{mode}", str(d)], check=True)


def fill(d, leave=0):
    """Fill the file system of d up to `leave` bytes free; returns the filler."""
    filler = d / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def csv_sums(text, nkey):
    """{key tuple: (packets, bytes)} summed over every row of a CSV print file,
    and how many rows each key had."""
    sums, seen = {}, Counter()
    for line in text.splitlines():
        r = line.split(",")
        if not line or r[0] in ("SRC_IP", "TAG") or line.startswith("--"):
            continue
        k = tuple(r[:nkey])
        p, b = sums.get(k, (0, 0))
        sums[k] = (p + int(r[nkey]), b + int(r[nkey + 1]))
        seen[k] += 1
    return sums, seen


def by_name(exp):
    """The generator's {(src, dst, proto number)} as the CSV prints it (tcp, udp)."""
    return {(s, d, {6: "tcp", 17: "udp"}[p]): v for (s, d, p), v in exp.items()}


class Collector:
    """nfacctd (or pmacctd on a capture, kept running with pcap_savefile_wait)
    with a CSV print plugin purging every second, its log in a file, stopped
    with SIGINT."""

    def __init__(self, workdir, out, extra="", pcap=None):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = workdir / "daemon.log"
        conf = workdir / "daemon.conf"
        if pcap:
            source = f"pcap_savefile: {pcap}\npcap_savefile_wait: true\n"
        else:
            source = f"nfacctd_ip: 127.0.0.1\nnfacctd_port: {self.port}\n"
        conf.write_text(source + "plugins: print\naggregate: src_host, dst_host, proto\n"
                        f"print_output: csv\nprint_output_file: {out}\nprint_refresh_time: 1\n"
                        + extra)
        self.proc = subprocess.Popen([str(PMACCTD if pcap else NFACCTD), "-f", str(conf)],
                                     cwd=workdir, env=DAEMON_ENV, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        self.wait_log("Purging cache - END" if pcap else "waiting for NetFlow")

    def text(self):
        return self.log.read_text(errors="replace")

    def wait_log(self, pattern, count=1, limit=60, pred=None):
        """Wait until the log matches `pattern` `count` times (and pred(matches)
        holds); returns the matches."""
        deadline = time.monotonic() + limit
        while True:
            found = re.findall(pattern, self.text())
            if len(found) >= count and (pred is None or pred(found)):
                return found
            if self.proc.poll() is not None:
                pytest.fail(f"nfacctd exited {self.proc.returncode}:\n{self.text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {pattern!r} in the log:\n{self.text()[-3000:]}")
            time.sleep(0.1)

    def send(self, grams):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, msg in grams:
                s.sendto(msg, ("127.0.0.1", self.port))
                time.sleep(0.002)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail("nfacctd did not stop on SIGINT")
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def collector():
    made = []

    def make(*a, **kw):
        c = Collector(*a, **kw)
        made.append(c)
        return c
    yield make
    for c in made:
        c.kill()


# ---------------------------------------------------------------------------
# Start-up: the output cannot be written


@pytest.fixture
def nobody_dir():
    """A directory nobody may read, holding a copy of the demo capture and a
    directory nobody may not write."""
    d = Path(tempfile.mkdtemp(prefix="print-nobody-", dir="/tmp"))
    d.chmod(0o755)
    shutil.copy(DEMO, d / "demo.pcap")
    (d / "demo.pcap").chmod(0o644)
    (d / "locked").mkdir(mode=0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def as_nobody(args, cwd):
    nobody = pwd.getpwnam("nobody")
    return subprocess.run(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                           "--clear-groups", *map(str, args)], capture_output=True, text=True,
                          timeout=60, env=DAEMON_ENV, cwd=cwd, stdin=subprocess.DEVNULL)


@needs_ours
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="running as nobody needs root and setpriv")
@pytest.mark.parametrize("dry_run", [False, True], ids=["start-up", "-T config"])
def test_unwritable_directory_is_a_config_error(nobody_dir, dry_run):
    """-o under a directory the user may not write: exit 1 naming key, origin and path,
    before any purge (1.7.7 logs the failed open at each purge and exits 0)."""
    out = nobody_dir / "locked" / "dir" / "x-%Y%m%d.csv"
    conf = nobody_dir / "p.conf"
    conf.write_text(f"pcap_savefile: {nobody_dir}/demo.pcap\nplugins: print\n"
                    f"aggregate: src_host\nprint_output_file: {out}\n")
    conf.chmod(0o644)
    p = as_nobody([PMACCTD, "-f", conf] + (["-T", "config"] if dry_run else []), nobody_dir)
    assert p.returncode == 1, p.stderr
    want = (f"ERROR ( {WHO} ): [{conf}:4] key 'print_output_file': "
            f"cannot write '{out}': Permission denied")
    assert want in p.stderr.splitlines(), p.stderr
    assert "Purging cache" not in p.stderr
    assert not (nobody_dir / "locked" / "dir").exists()

    # the same on the command line (-o), where the origin is the command line
    p = as_nobody([PMACCTD, "-I", nobody_dir / "demo.pcap", "-P", "print", "-c", "src_host",
                   "-o", nobody_dir / "locked" / "x.csv"] + (["-T", "config"] if dry_run else []),
                  nobody_dir)
    assert p.returncode == 1, p.stderr
    assert (f"ERROR ( {WHO} ): [command line] key 'print_output_file': cannot write "
            f"'{nobody_dir}/locked/x.csv': Permission denied") in p.stderr.splitlines()


@needs_ours
@needs_mount
def test_read_only_file_system_is_a_config_error(tmp_path):
    """Root too: print_output_file or print_latest_file on a read-only mount, or under a
    file, stops start-up with the key that names it."""
    with tmpfs("64k") as ro:
        remount(ro, "ro")
        cases = [
            (f"print_output_file: {ro}/%Y/$peer_src_ip.csv\n", "print_output_file",
             f"{ro}/%Y/$peer_src_ip.csv", "Read-only file system"),
            (f"print_output_file: {tmp_path}/out/x.csv\nprint_latest_file: {ro}/latest\n",
             "print_latest_file", f"{ro}/latest", "Read-only file system"),
            (f"print_output_file: {DEMO}/x.csv\n", "print_output_file", f"{DEMO}/x.csv",
             "Not a directory"),
        ]
        for keys, key, path, why in cases:
            conf = tmp_path / "p.conf"
            conf.write_text(f"pcap_savefile: {DEMO}\nplugins: print\n" + keys)
            line = 3 if key == "print_output_file" else 4
            for dry in ([], ["-T", "config"]):
                p = subprocess.run([str(PMACCTD), "-f", str(conf), *dry], capture_output=True,
                                   text=True, timeout=60, env=DAEMON_ENV, cwd=tmp_path)
                assert p.returncode == 1, p.stderr
                assert (f"ERROR ( {WHO} ): [{conf}:{line}] key '{key}': cannot write "
                        f"'{path}': {why}") in p.stderr.splitlines(), p.stderr
        assert not (tmp_path / "out").exists(), "the check creates nothing"


@needs_ours
def test_closed_stdout_is_an_error(tmp_path):
    """No print_output_file and stdout closed: nowhere to write, exit 1 at start-up."""
    p = subprocess.run([str(PMACCTD), "-I", str(DEMO), "-P", "print", "-c", "src_host"],
                       stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60,
                       env=DAEMON_ENV, cwd=tmp_path, preexec_fn=lambda: os.close(1))
    assert p.returncode == 1, p.stderr
    assert "no print_output_file and standard output is closed" in p.stderr


# ---------------------------------------------------------------------------
# Run time: rows are kept until they are written


@needs_ours
@needs_mount
def test_disk_full_rows_kept_merged_and_written(tmp_path, collector):
    """A full disk (a partial write included): rows stay in the cache, records
    arriving meanwhile are added to them, and once space is freed one purge
    writes every aggregate once, with the generator's totals."""
    grams, exp = netflow_v5_datagrams(n_datagrams=40, per=30, seed=5)
    with tmpfs("1m") as fs:
        filler = fill(fs, leave=8192)	# the output (~30 KiB) is cut short mid-write
        c = collector(tmp_path, fs / "out.csv", "print_output_file_append: true\n")
        c.send(grams[:20])
        first = c.wait_log(r"cannot write print_output_file '[^']*out\.csv': "
                           r"No space left on device: (\d+) rows kept")
        c.send(grams[20:])
        # a failed purge holding the second half too (more aggregates kept)
        c.wait_log(r"No space left on device: (\d+) rows kept",
                   pred=lambda kept: int(kept[-1]) > int(first[0]))
        # a failed purge leaves no partial rows: not looked at here, where the next purge (every
        # second) may be half way through its own failing write, but at the end, where a row
        # left behind by any failed purge would stand twice in the file
        filler.unlink()
        c.wait_log(r"output delivered again: \d+ rows written")
        assert c.stop() == 0, c.text()[-3000:]
        got, rows = csv_sums((fs / "out.csv").read_text(), 3)
    assert got == by_name(exp)
    # a purge that got its rows out before the disk filled up (the first datagrams can make a
    # purge small enough for the 8 KiB left) wrote those aggregates once more, legitimately
    log = c.text()
    before = log[:log.index("No space left on device")]
    early = len([q for q in re.findall(r"QN: (\d+)/\1,", before) if int(q) > 0])
    assert max(rows.values()) <= 1 + early and (early or set(rows.values()) == {1}), \
        f"one purge wrote each aggregate once, besides {early} that fit before the disk was full"
    assert re.search(r"QN: 0/\d+", log), "failed purges do not claim rows written"


@needs_ours
@needs_mount
def test_read_only_after_start_then_writable(tmp_path, collector):
    """The file system turns read-only between purges: nothing is lost and
    nothing is written twice once it is writable again."""
    grams, exp = netflow_v5_datagrams(n_datagrams=40, per=30, seed=6)
    with tmpfs("1m") as fs:
        c = collector(tmp_path, fs / "out.csv", "print_output_file_append: true\n")
        c.send(grams[:20])
        c.wait_log(r"QN: ([1-9]\d*)/\1,")
        remount(fs, "ro")
        c.send(grams[20:])
        c.wait_log(r"cannot write print_output_file '[^']*': Read-only file system: "
                   r"\d+ rows kept for the next purge")
        remount(fs, "rw")
        c.wait_log(r"output delivered again")
        assert c.stop() == 0, c.text()[-3000:]
        got, _ = csv_sums((fs / "out.csv").read_text(), 3)
    assert got == by_name(exp)


@needs_ours
@needs_ref
@needs_mount
def test_time_bins_go_to_their_own_files(tmp_path, collector, pcapgen):
    """print_history with %H%M file names: after a full disk, each minute's rows
    go to that minute's file, as the reference pmacctd 1.7.7 writes them on a
    disk with room."""
    pcap, _ = pcapgen(3000, 300, seed=3, duration=60)
    keys = ("plugins: print\naggregate: src_host, dst_host, proto\nprint_output: csv\n"
            "print_output_file: {out}/%H%M.csv\nprint_history: 1m\nprint_history_roundoff: m\n")
    ref = run_reference(tmp_path / "ref", conf=f"pcap_savefile: {pcap}\n" + BIG_BUFFERS + keys)
    assert ref.rc == 0 and len(ref.files) == 2, ref.stderr[-2000:]
    with tmpfs("1m") as fs:
        filler = fill(fs)
        c = collector(tmp_path, fs / "%H%M.csv", "print_history: 1m\n"
                      "print_history_roundoff: m\n", pcap=pcap)
        c.wait_log(r"No space left on device: \d+ rows kept", count=4)
        filler.unlink()
        c.wait_log(r"output delivered again")
        assert c.stop() == 0, c.text()[-3000:]
        files = {f.name: f.read_text() for f in fs.iterdir()}
    assert sorted(files) == sorted(ref.files)
    for name, text in files.items():
        assert csv_sums(text, 3) == csv_sums(ref.files[name], 3), name


# ---------------------------------------------------------------------------
# Exit: what could not be written is reported


@needs_ours
@needs_mount
def test_undelivered_at_exit_is_exit_status_2(tmp_path):
    """The capture's last purge cannot be written: exit 2, and the log says how many
    rows were not delivered and where they were meant to go."""
    want = demo_src_hosts()
    with tmpfs("64k") as fs:
        fill(fs)
        out = fs / "hosts.csv"
        p = subprocess.run([str(PMACCTD), "-I", str(DEMO), "-P", "print", "-c", "src_host",
                            "-O", "csv", "-o", str(out)], capture_output=True, text=True,
                           timeout=120, env=DAEMON_ENV, cwd=tmp_path)
        assert not out.exists()
    assert p.returncode == 2, p.stderr
    lines = p.stderr.splitlines()
    n = len(want)
    assert f"ERROR ( {WHO} ): cannot write print_output_file '{out}': No space left on " \
           f"device: {n} rows kept for the next purge" in lines
    assert any(f"QN: 0/{n}," in ln for ln in lines), p.stderr
    assert f"ERROR ( {WHO} ): {n} rows not delivered: they were meant for " \
           f"print_output_file '{out}'" in lines
    assert "ERROR ( default/core ): Exiting with status 2: some data was not delivered" in lines
    assert "OK, Exiting" not in p.stderr


@needs_ours
@pytest.mark.parametrize("sink", ["pipe", "/dev/full"])
def test_stdout_failure_is_undelivered(tmp_path, sink):
    """stdout is a pipe nobody reads, or /dev/full: the purge fails, QN says 0 rows,
    exit 2."""
    if sink == "pipe":
        r, w = os.pipe()
        os.close(r)
        why = "Broken pipe"
    else:
        w = os.open(sink, os.O_WRONLY)
        why = "No space left on device"
    p = subprocess.run([str(PMACCTD), "-I", str(DEMO), "-P", "print", "-c", "src_host"],
                       stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.PIPE, text=True,
                       timeout=60, env=DAEMON_ENV, cwd=tmp_path)
    os.close(w)
    n = len(demo_src_hosts())
    assert p.returncode == 2, p.stderr
    assert f"cannot write standard output: {why}: {n} rows kept" in p.stderr
    assert f"QN: 0/{n}," in p.stderr
    assert f"{n} rows not delivered: they were meant for standard output" in p.stderr
