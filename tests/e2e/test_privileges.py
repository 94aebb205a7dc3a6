# SPDX-License-Identifier: BSD-3-Clause
"""Privileges and created files, end to end.

pmacctd reads the bundled capture as root with `user: nobody`: once the
capture and the memory plugin's socket are open it must run as nobody
(/proc/<pid>/status: every uid and gid, no other group, no capability),
still account every packet (checked against scapy's own count of the
capture, through the print plugin and the memory plugin's client), and
leave its files (print output, socket, pidfiles) with the owner and the
permissions files_uid / files_gid / files_umask ask for.  Secrets
(sql_passwd, amqp_passwd, http_token) never reach `-T config`, the log or
the process title.

Environment: PMACCTD and PMACCT (the client, default <repo>/build/pmacct).
"""

import grp
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from conftest import demo_src_hosts, DAEMON_ENV, PMACCTD, REPO, needs_ours, wait_for

PMACCT = Path(os.environ.get("PMACCT", PMACCTD.parent / "pmacct"))
DEMO = REPO / "examples" / "demo.pcap"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
NOBODY = pwd.getpwnam("nobody")
SECRETS = ("S3cretSqlPw", "S3cretAmqpPw", "S3cretHttpTok")


def csv_src_hosts(text):
    """Packets and bytes per SRC_IP, summed over every purge of the file."""
    pk, by = Counter(), Counter()
    for line in text.splitlines():
        if line and not line.startswith("SRC_IP"):
            r = line.split(",")
            pk[r[0]] += int(r[1])
            by[r[0]] += int(r[2])
    return {k: (pk[k], by[k]) for k in pk}


def proc_status(pid):
    st = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        st[k] = v.split()
    return st


@pytest.fixture
def shared_dir():
    """A directory nobody can write to (tmp_path's parents are root's only)."""
    d = Path(tempfile.mkdtemp(prefix="privs-", dir="/tmp"))
    d.chmod(0o755)
    out = d / "out"
    out.mkdir()
    os.chown(out, NOBODY.pw_uid, NOBODY.pw_gid)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def start(conf_text, workdir):
    conf = workdir / "pmacctd.conf"
    conf.write_text(conf_text)
    return subprocess.Popen([str(PMACCTD), "-f", str(conf)], cwd=workdir, env=DAEMON_ENV,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace")


def stop(proc, expect=0):
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail("daemon did not stop on SIGTERM:\n" + err[-3000:])
    assert proc.returncode == expect, err[-3000:]
    return out + err


def run_as_test(shared_dir, keys, want_uid, want_gid, want_mode):
    out = shared_dir / "out"
    conf = f"""pcap_savefile: {DEMO}
pcap_savefile_wait: true
plugins: print[p], memory[m]
aggregate: src_host
print_output[p]: csv
print_output_file[p]: {out}/acct.csv
print_output_file_append[p]: true
print_refresh_time[p]: 1
imt_path[m]: {out}/m.pipe
pidfile: {out}/pmacctd.pid
{keys}
"""
    proc = start(conf, shared_dir)
    try:
        wait_for(lambda: (out / "acct.csv").exists() and (out / "acct.csv").stat().st_size > 0,
                 60, "the print output", proc=proc, step=0.2)
        st = proc_status(proc.pid)
        assert st["Uid"] == [str(want_uid)] * 4
        assert st["Gid"] == [str(want_gid)] * 4
        assert st["Groups"] == [str(want_gid)]
        for cap in ("CapPrm", "CapEff", "CapAmb"):
            assert int(st[cap][0], 16) == 0, f"{cap} {st[cap]}"
        for t in Path(f"/proc/{proc.pid}/task").iterdir():   # every thread, not just main
            tst = proc_status(f"{proc.pid}/task/{t.name}")
            assert tst["Uid"][1] == str(want_uid) and tst["Gid"][1] == str(want_gid)
        # the memory plugin still answers on the socket it opened as root
        want = demo_src_hosts()
        total = sum(v[0] for v in want.values())

        def query():
            q = subprocess.run([str(PMACCT), "-p", str(out / "m.pipe"), "-s", "-O", "csv"],
                               capture_output=True, text=True, timeout=60)
            assert q.returncode == 0, q.stderr
            return csv_src_hosts(q.stdout)
        wait_for(lambda: sum(v[0] for v in query().values()) >= total,
                 60, "the whole capture in the memory plugin", proc=proc, step=0.2)
        assert query() == want
        files = {p.name: p.stat() for p in out.iterdir()}
        for name in ("m.pipe", "pmacctd.pid", "pmacctd.pid-print-p", "pmacctd.pid-memory-m"):
            assert (files[name].st_uid, files[name].st_gid) == (want_uid, want_gid), name
        for name in ("pmacctd.pid", "pmacctd.pid-print-p"):
            assert files[name].st_mode & 0o777 == want_mode, (name, oct(files[name].st_mode))
        assert int((out / "pmacctd.pid").read_text()) == proc.pid
    finally:
        if proc.poll() is None:
            stop(proc)
    st = (out / "acct.csv").stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (want_uid, want_gid, want_mode)
    assert csv_src_hosts((out / "acct.csv").read_text()) == demo_src_hosts()
    # files it owns are removed at exit, as nobody
    assert not (out / "pmacctd.pid").exists() and not (out / "m.pipe").exists()


@needs_ours
@needs_root
def test_user_nobody(shared_dir):
    run_as_test(shared_dir, "user: nobody\nfiles_umask: 027", NOBODY.pw_uid, NOBODY.pw_gid,
                0o640)


@needs_ours
@needs_root
def test_user_and_group(shared_dir):
    gid = grp.getgrnam("daemon").gr_gid
    run_as_test(shared_dir, "user: nobody\ngroup: daemon", NOBODY.pw_uid, gid, 0o600)


@needs_ours
@needs_root
def test_files_uid_gid_without_user(shared_dir):
    """pmacct's keys alone: the daemon becomes files_uid / files_gid (numbers here)."""
    gid = grp.getgrnam("daemon").gr_gid
    run_as_test(shared_dir, f"files_uid: {NOBODY.pw_uid}\nfiles_gid: {gid}\nfiles_umask: 022",
                NOBODY.pw_uid, gid, 0o644)


@needs_ours
@pytest.mark.parametrize("key,value", [("user", "no_such_user_h6"), ("group", "no_such_group_h6"),
                                       ("files_uid", "no_such_user_h6"), ("files_umask", "999")])
def test_bad_values_name_file_line_key(tmp_path, key, value):
    conf = tmp_path / "bad.conf"
    conf.write_text(f"pcap_savefile: {DEMO}\nplugins: print\n{key}: {value}\n")
    p = subprocess.run([str(PMACCTD), "-f", str(conf)], capture_output=True, text=True,
                       timeout=60, env=DAEMON_ENV, cwd=tmp_path)
    assert p.returncode != 0
    assert f"{conf}:3" in p.stderr and key in p.stderr, p.stderr


def secret_conf(tmp_path):
    return f"""pcap_savefile: {DEMO}
pcap_savefile_wait: true
debug: true
logfile: {tmp_path}/daemon.log
plugins: print[p], amqp[a]
print_output_file[p]: {tmp_path}/out.txt
amqp_host[a]: 127.0.0.1
amqp_port[a]: 1
amqp_user[a]: someone
amqp_passwd[a]: {SECRETS[1]}
sql_passwd: {SECRETS[0]}
http_token: {SECRETS[2]}
"""


@needs_ours
def test_secrets_not_dumped(tmp_path):
    conf = tmp_path / "s.conf"
    conf.write_text(secret_conf(tmp_path))
    p = subprocess.run([str(PMACCTD), "-f", str(conf), "-T", "config"], capture_output=True,
                       text=True, timeout=60, env=DAEMON_ENV)
    assert p.returncode == 0, p.stderr
    text = p.stdout + p.stderr
    for s in SECRETS:
        assert s not in text
    # the keys are still shown as set
    assert "amqp_passwd[a]: ********" in p.stdout and "sql_passwd[p]: ********" in p.stdout


@needs_ours
def test_secrets_not_logged_nor_in_process_title(tmp_path):
    conf = tmp_path / "s.conf"
    conf.write_text(secret_conf(tmp_path))
    proc = start(conf.read_text(), tmp_path)
    try:
        log = tmp_path / "daemon.log"
        wait_for(lambda: log.exists() and "amqp" in log.read_text(),
                 60, "the amqp plugin's log", proc=proc, step=0.2)
        seen = [Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode(errors="replace")]
        for t in Path(f"/proc/{proc.pid}/task").iterdir():
            seen.append((t / "comm").read_text())
        seen.append(Path(f"/proc/{proc.pid}/environ").read_bytes().decode(errors="replace"))
    finally:
        # the amqp broker is unreachable on purpose: its messages stay spooled, exit status 2
        err = stop(proc, expect=2)
    seen += [err, (tmp_path / "daemon.log").read_text()]
    for s in SECRETS:
        assert not any(s in x for x in seen), s


@needs_ours
@needs_root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) missing")
def test_user_without_root_is_an_error(shared_dir):
    """Started as nobody, `user: daemon` cannot be honoured: a config error, before any file."""
    conf = shared_dir / "nr.conf"
    conf.write_text(f"pcap_savefile: {DEMO}\nplugins: print\npidfile: {shared_dir}/out/p.pid\n"
                    "user: daemon\n")
    conf.chmod(0o644)
    p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        str(PMACCTD), "-f", str(conf)], capture_output=True, text=True,
                       timeout=60, env=DAEMON_ENV, cwd="/tmp")
    assert p.returncode != 0
    assert f"[{conf}:4]" in p.stderr and "'user'" in p.stderr and "needs root" in p.stderr
    assert not (shared_dir / "out" / "p.pid").exists()


@needs_ours
@needs_root
def test_nfacctd_user_templates_file(shared_dir):
    """nfacctd switches too (after binding its socket); the templates file it saves at exit
    is the user's, with files_umask."""
    import socket
    nfacctd = Path(os.environ.get("NFACCTD", PMACCTD.parent / "nfacctd"))
    out = shared_dir / "out"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = shared_dir / "nf.conf"
    conf.write_text(f"""nfacctd_ip: 127.0.0.1
nfacctd_port: {port}
plugins: print[p]
print_output_file[p]: {out}/nf.txt
print_refresh_time[p]: 1
nfacctd_templates_file: {out}/templates.json
user: nobody
files_umask: 026
""")
    proc = subprocess.Popen([str(nfacctd), "-f", str(conf)], cwd=shared_dir, env=DAEMON_ENV,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace")
    try:
        wait_for(lambda: proc_status(proc.pid)["Uid"][0] == str(NOBODY.pw_uid),
                 60, "the switch to nobody", proc=proc, step=0.2)
        d = (REPO / "tests" / "fuzz" / "corpus" / "netflow" / "v9").read_bytes()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while len(d) >= 2:
                n = ((d[0] & 0x7f) << 8) | d[1]
                s.sendto(d[2:2 + n], ("127.0.0.1", port))
                d = d[2 + n:]
        wait_for(lambda: (out / "nf.txt").exists() and (out / "nf.txt").stat().st_size > 0,
                 60, "the print output", proc=proc, step=0.2)
        st = proc_status(proc.pid)
        assert st["Uid"] == [str(NOBODY.pw_uid)] * 4 and st["Gid"] == [str(NOBODY.pw_gid)] * 4
        assert st["Groups"] == [str(NOBODY.pw_gid)] and int(st["CapEff"][0], 16) == 0
    finally:
        if proc.poll() is None:
            stop(proc)
    for name in ("templates.json", "nf.txt"):
        fs = (out / name).stat()
        assert (fs.st_uid, fs.st_gid, fs.st_mode & 0o777) == (NOBODY.pw_uid, NOBODY.pw_gid,
                                                              0o640), name
    assert '"version": 9' in (out / "templates.json").read_text()
