# SPDX-License-Identifier: BSD-3-Clause
"""The examples in README.md, docs/*.md and examples/*.conf work when pasted.

Every fenced block of README.md and docs/*.md that is a config (each line a
comment or `key: value`) is checked with the daemon it belongs to and
`-T config` (rc 0, nothing refused).  A config that can run on a capture
(pcap_savefile, or no packet source at all so that -I can give one; plugins
print, memory and http only) runs for real and must produce output: print
to stdout or its files, rows from `pmacct -s` for each memory table, rows
from /api/table for each http plugin.  Shell blocks marked `run` run with
bash from the repository root and must exit 0 with some output.

Markers, an HTML comment on the last non-blank line before a block:
  <!-- docs-test: skip <reason> -->   not checked (keep these few)
  <!-- docs-test: run -->             a shell block that runs as written
  <!-- docs-test: daemon nfacctd -->  the daemon of a config block, when its
                                      keys do not say it (nfacctd_*, sfacctd_*)

The truth here is the written text itself: a config the parser refuses, or
a documented run that prints nothing, fails.  Binaries: PMACCTD, NFACCTD,
SFACCTD, PMACCT (default build/).
"""

import glob
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import DAEMON_ENV, PMACCTD, REPO, free_tcp_port, wait_for

BIN = PMACCTD.parent
DAEMONS = {
    "pmacctd": PMACCTD,
    "nfacctd": Path(os.environ.get("NFACCTD", BIN / "nfacctd")),
    "sfacctd": Path(os.environ.get("SFACCTD", BIN / "sfacctd")),
    "uacctd": Path(os.environ.get("UACCTD", BIN / "uacctd")),
}
PMACCT = Path(os.environ.get("PMACCT", BIN / "pmacct"))
CAPTURES = {"pmacctd": "examples/demo.pcap", "nfacctd": "examples/netflow-v5.pcap"}
RUNNABLE_PLUGINS = {"print", "memory", "http"}
DOCS = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))

# keys as the docs write them (lower case), so that `ERROR: ...` output is no config
KEY_LINE = re.compile(r"^\s*([a-z_][a-z0-9_.-]*)(\[([^\]]+)\])?\s*:\s*(.*?)\s*$")
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(\S+)\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    doc: Path
    line: int           # line of the opening fence, 1-based
    lang: str
    text: str
    marker: str = ""
    marker_arg: str = ""

    @property
    def name(self):
        return f"{self.doc.relative_to(REPO)}:{self.line}"


def fenced_blocks(doc):
    lines = doc.read_text().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        b = Block(doc, i + 1, m.group(1), "\n".join(lines[i + 1:end]) + "\n")
        prev = i - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        mk = MARKER.match(lines[prev]) if prev >= 0 else None
        if mk:
            b.marker, b.marker_arg = mk.group(1), mk.group(2)
        blocks.append(b)
        i = end + 1
    return blocks


def is_comment(line):
    s = line.strip()
    return not s or s[0] in "!#"


def is_config(block):
    """Untyped blocks whose every line is a comment or `key: value`, with at
    least one key (a map is `k=v` pairs; output samples and command lines
    fail the key pattern)."""
    if block.lang not in ("", "conf", "ini"):
        return False
    lines = block.text.splitlines()
    keys = [ln for ln in lines if not is_comment(ln)]
    return bool(keys) and all(KEY_LINE.match(ln) and "=" not in ln.split(":")[0]
                              for ln in keys)


ALL = [b for d in DOCS for b in fenced_blocks(d)]
CONFIGS = [b for b in ALL if is_config(b) and b.marker != "skip"]
SHELLS = [b for b in ALL if b.marker == "run"]


def keys_of(text):
    """[(key, plugin name or None, value)] in file order, keys lower-cased."""
    out = []
    for ln in text.splitlines():
        if is_comment(ln):
            continue
        m = KEY_LINE.match(ln)
        out.append((m.group(1).lower(), m.group(3), m.group(4)))
    return out


def daemon_of(block):
    if block.marker == "daemon":
        return block.marker_arg
    keys = [k for k, _, _ in keys_of(block.text)]
    plugins = plugin_list(block.text)
    if any(k.startswith("uacctd_") for k in keys):
        return "uacctd"
    if any(k.startswith("sfacctd_") for k in keys):
        return "sfacctd"
    if any(k.startswith("nfacctd_") for k in keys) or any(t == "tee" for t, _ in plugins):
        return "nfacctd"
    return "pmacctd"


def plugin_list(text):
    """[(type, name)] of the `plugins` key (the last one wins)."""
    value = None
    for k, _, v in keys_of(text):
        if k == "plugins":
            value = v
    if value is None:
        return [("memory", "default")]
    res = []
    for p in value.split(","):
        m = re.match(r"^\s*([a-z0-9_]+)(\[([^\]]+)\])?\s*$", p)
        res.append((m.group(1), m.group(3) or "default"))
    return res


def key_for(text, key, plugin):
    """The value of key for a plugin: last line wins, global or per plugin."""
    val = None
    for k, name, v in keys_of(text):
        if k == key and (name is None or name == plugin):
            val = v
    return val


def test_docs_have_config_and_run_blocks():
    """The extractor finds the documented configs (a broken pattern must not
    make every check below vacuous)."""
    assert len(CONFIGS) >= 10, [b.name for b in CONFIGS]
    assert len(SHELLS) >= 3, [b.name for b in SHELLS]
    for b in ALL:
        assert b.marker in ("", "skip", "run", "daemon"), f"{b.name}: unknown marker {b.marker}"
        if b.marker == "skip":
            assert b.marker_arg, f"{b.name}: a skip needs a reason"


def test_no_trailing_comments_in_configs():
    """pmacct 1.7.7 reads `key: value # note` as the value `value # note`
    (and `!` likewise), so a note belongs on its own line."""
    bad = []
    for b in (b for b in ALL if is_config(b)):
        for i, ln in enumerate(b.text.splitlines(), start=b.line + 1):
            if not is_comment(ln) and re.search(r"\s[!#]", KEY_LINE.match(ln).group(4)):
                bad.append(f"{b.doc.relative_to(REPO)}:{i}: {ln}")
    assert not bad, "\n".join(bad)


DOCS_NETNS = "pmng-docs"


@pytest.fixture(scope="session")
def deployed():
    """The host the docs' examples are written for, as `-T config` checks it like start-up does:
    interfaces eth0 and eth1 (a veth pair in a network namespace of the test's own), the user
    `pmacct` the Debian package creates, and /run/pmacct the systemd units create.  Yields the
    command prefix that runs a daemon there."""
    if os.geteuid() != 0:
        pytest.skip("making the examples' interfaces and user needs root")
    made_user = subprocess.run(["id", "pmacct"], capture_output=True).returncode != 0
    if made_user:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        "pmacct"], check=True)
    run_dir = Path("/run/pmacct")
    made_run = not run_dir.exists()
    run_dir.mkdir(mode=0o755, exist_ok=True)
    subprocess.run(["ip", "netns", "del", DOCS_NETNS], capture_output=True)
    subprocess.run(["ip", "netns", "add", DOCS_NETNS], check=True)
    # a veth pair: both names in one step, and no dummy module needed
    subprocess.run(["ip", "-n", DOCS_NETNS, "link", "add", "eth0", "type", "veth", "peer", "name",
                    "eth1"], check=True)
    try:
        yield ["ip", "netns", "exec", DOCS_NETNS]
    finally:
        subprocess.run(["ip", "netns", "del", DOCS_NETNS], capture_output=True)
        if made_user:
            subprocess.run(["userdel", "pmacct"], capture_output=True)
        if made_run:
            shutil.rmtree(run_dir, ignore_errors=True)


@pytest.mark.parametrize("block", CONFIGS, ids=lambda b: b.name)
def test_config_block_checks(block, tmp_path, deployed):
    conf = tmp_path / "block.conf"
    conf.write_text(block.text)
    daemon = daemon_of(block)
    res = subprocess.run(deployed + [str(DAEMONS[daemon]), "-T", "config", "-f", str(conf)],
                         cwd=REPO, env=DAEMON_ENV, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, f"{daemon} -T config on {block.name}:\n{block.text}\n{res.stderr}"
    warns = [ln for ln in res.stderr.splitlines() if "WARN" in ln
             and "No plugin has been activated" not in ln]   # a fragment: the default memory
    assert not warns, f"{block.name}: {res.stderr}"


def runnable(block):
    """Why the block cannot run here, or None when it can."""
    daemon = daemon_of(block)
    text = block.text
    keys = {k for k, _, _ in keys_of(text)}
    if daemon not in CAPTURES:
        return f"no capture for {daemon}"
    if keys & {"pcap_interface", "interface", "pcap_interfaces_map", "daemonize"}:
        return "live interface or daemonize"
    for key, db in (("user", pwd.getpwnam), ("group", grp.getgrnam)):
        name = key_for(text, key, None)
        if name and not name.isdigit():
            try:
                db(name)
            except KeyError:
                return f"no {key} {name} here"
    bad = {t for t, _ in plugin_list(text)} - RUNNABLE_PLUGINS
    if bad:
        return f"plugins {sorted(bad)} send elsewhere"
    return None


RUNS = [b for b in CONFIGS if runnable(b) is None]


def memory_rows(path):
    """Rows of `pmacct -s` on a memory table's socket (header excluded)."""
    res = subprocess.run([str(PMACCT), "-p", str(path), "-s"], capture_output=True,
                         text=True, timeout=10)
    if res.returncode != 0:
        return None
    rows = [ln for ln in res.stdout.splitlines()[1:]
            if ln.strip() and not ln.startswith("For a total of")]
    return rows or None


def http_rows(port, token):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/table")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            body = r.read().decode()
    except OSError:
        return None
    m = re.search(r'"count":\s*(\d+)', body)
    return body if m and int(m.group(1)) > 0 else None


def print_files(pattern, since):
    """Files a print_output_file pattern made since `since` (time and $
    variables as wildcards), non-empty."""
    g = re.sub(r"%[A-Za-z]|\$[a-z_0-9]+", "*", pattern)
    return [f for f in glob.glob(str(REPO / g) if not g.startswith("/") else g)
            if os.path.getmtime(f) >= since - 1 and os.path.getsize(f) > 0]


@pytest.mark.parametrize("block", RUNS, ids=lambda b: b.name)
def test_config_block_runs(block, tmp_path):
    """Run the config on a capture; every plugin shows data.  Memory sockets
    and http ports are moved (appended lines: the last one wins) so that
    the run does not meet other tests' daemons."""
    daemon = daemon_of(block)
    plugins = plugin_list(block.text)
    extra, sockets, https = [], [], []
    for ptype, name in plugins:
        scope = "" if name == "default" else f"[{name}]"
        if ptype == "memory":
            sock = tmp_path / f"{name}.pipe"
            extra.append(f"imt_path{scope}: {sock}")
            sockets.append(sock)
        if ptype == "http":
            port = free_tcp_port()
            extra.append(f"http_listen{scope}: 127.0.0.1:{port}")
            https.append((port, key_for(block.text, "http_token", name)))
    conf = tmp_path / "block.conf"
    conf.write_text(block.text + "\n".join(extra) + "\n")
    args = [str(DAEMONS[daemon]), "-f", str(conf)]
    if key_for(block.text, "pcap_savefile", None) is None:
        args += ["-I", CAPTURES[daemon]]
    stays = bool(sockets or https)
    if stays and key_for(block.text, "pcap_savefile_wait", None) is None:
        args.append("-W")
    start = time.time()
    proc = subprocess.Popen(args, cwd=REPO, env=DAEMON_ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        for sock in sockets:
            wait_for(lambda: memory_rows(sock), 20.0, proc=proc,
                     what=f"rows from pmacct -p {sock} -s")
        for port, token in https:
            wait_for(lambda: http_rows(port, token), 20.0, proc=proc, what=f"rows from port {port}")
        if stays:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, f"{block.name}: rc {proc.returncode}\n{err}"
    for ptype, name in plugins:
        if ptype != "print":
            continue
        pattern = key_for(block.text, "print_output_file", name)
        if pattern:
            assert print_files(pattern, start), f"{block.name}: no file {pattern}"
        else:
            assert out.strip(), f"{block.name}: print plugin {name} wrote nothing\n{err}"


@pytest.mark.parametrize("block", SHELLS, ids=lambda b: b.name)
def test_shell_block_runs(block):
    assert shutil.which("bash")
    res = subprocess.run(["bash", "-e", "-c", block.text], cwd=REPO, env=DAEMON_ENV,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"{block.name}:\n{block.text}\n{res.stdout}\n{res.stderr}"
    assert res.stdout.strip(), f"{block.name}: printed nothing\n{res.stderr}"
    assert "Unable to connect" not in res.stdout + res.stderr, res.stderr


def test_example_configs_check(deployed):
    """examples/*.conf: -T config with the daemon their keys name."""
    for conf in sorted((REPO / "examples").glob("*.conf")):
        b = Block(conf, 0, "", conf.read_text())
        daemon = daemon_of(b)
        res = subprocess.run(deployed + [str(DAEMONS[daemon]), "-T", "config", "-f", str(conf)],
                             cwd=REPO, env=DAEMON_ENV, capture_output=True, text=True,
                             timeout=60)
        assert res.returncode == 0, f"{conf.name}: {res.stderr}"


def http_get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return r.status, r.read().decode()


def test_dashboard_example_runs(tmp_path):
    """examples/dashboard.conf as the README runs it (its port and socket
    moved by appended lines): the page, rows in /api/table, traffic in the
    series within seconds, a second replay, and the memory table beside it."""
    port, sock = free_tcp_port(), tmp_path / "t.pipe"
    conf = tmp_path / "dashboard.conf"
    conf.write_text((REPO / "examples/dashboard.conf").read_text()
                    + f"http_listen[web]: 127.0.0.1:{port}\nimt_path[table]: {sock}\n")
    proc = subprocess.Popen([str(PMACCTD), "-f", str(conf)], cwd=REPO, env=DAEMON_ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: http_rows(port, None), 20.0, proc=proc, what="dashboard rows")
        status, page = http_get(port, "/")
        assert status == 200 and "<!DOCTYPE html>" in page
        def replays():
            _, body = http_get(port, "/api/status")
            m = re.search(r'"totals": \{"packets": (\d+)', body)
            return m and int(m.group(1)) >= 6000      # demo.pcap is 3,000 packets
        wait_for(replays, 20.0, proc=proc, what="a second replay")
        _, series = http_get(port, "/api/series?last=60")
        assert re.search(r"\[\d+, [1-9]\d*, ", series), series
        assert wait_for(lambda: memory_rows(sock), 20.0, proc=proc, what="the memory table")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
