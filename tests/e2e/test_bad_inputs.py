"""Careless inputs an operator makes: each one gets its exit status and its exact message,
from `-T config` and from the real start-up alike, and nothing is silently lost or wrapped.

Every row of BAD is run twice: `<daemon> -T config ...` and the daemon itself (reading a capture
file, so it would stop on its own). Both must exit 1 and print the same ERROR line, naming the
key (and file:line when the value came from a file). The configs log to syslog where a row says
so: the machine running the tests has no syslog daemon, so the message must reach stderr.

WARN_RUNS are inputs 1.7.7 accepts with a warning: ours warns the same way, keeps running, and its
output equals Debian's pmacctd 1.7.7 on the same capture.
"""
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import DAEMON_ENV, PMACCTD, REF_PMACCTD, REPO, parse_formatted, skip_or_fail

BIN = PMACCTD.parent
NFACCTD = Path(os.environ.get("NFACCTD", BIN / "nfacctd"))
SFACCTD = Path(os.environ.get("SFACCTD", BIN / "sfacctd"))
PMACCT = Path(os.environ.get("PMACCT", BIN / "pmacct"))
DAEMONS = {"pmacctd": PMACCTD, "nfacctd": NFACCTD, "sfacctd": SFACCTD}
DEMO = REPO / "examples" / "demo.pcap"
NFCAP = REPO / "examples" / "netflow-v5.pcap"

# (id, daemon, config text or None, extra argv, the ERROR line (regex, {d} = the work dir))
BAD = [
    ("syslog-imt-dir", "pmacctd",
     "syslog: daemon\nplugins: memory\nimt_path: {d}/nodir/x.pipe\n", ["-I", DEMO],
     r"ERROR \( default_memory/memory \): \[{conf}:3\] key 'imt_path': cannot create the socket "
     r"'{d}/nodir/x.pipe' in '{d}/nodir': No such file or directory\. Exiting\."),
    ("logfile-imt-dir", "pmacctd",
     "logfile: {d}/log.txt\nplugins: memory\nimt_path: {d}/nodir/x.pipe\n", ["-I", DEMO],
     r"ERROR \( default_memory/memory \): \[{conf}:3\] key 'imt_path': cannot create the socket"),
    ("imt-path-not-socket", "pmacctd", "plugins: memory\nimt_path: {d}/plain\n", ["-I", DEMO],
     r"\[{conf}:2\] key 'imt_path': '{d}/plain' exists and is not a socket\. Exiting\."),
    ("user", "pmacctd", "user: nosuchuser-17\nplugins: print\n", ["-I", DEMO],
     r"ERROR \( default/core \): \[{conf}:1\] Invalid value for key 'user': no such user "
     r"'nosuchuser-17'\. Exiting\."),
    ("group", "pmacctd", "group: nosuchgroup-17\nplugins: print\n", ["-I", DEMO],
     r"\[{conf}:1\] Invalid value for key 'group': .*nosuchgroup-17.*Exiting\."),
    ("files_uid", "nfacctd", "files_uid: nosuchuser-17\nplugins: print\n", ["-I", NFCAP],
     r"\[{conf}:1\] Invalid value for key 'files_uid': no such user 'nosuchuser-17'\. Exiting\."),
    ("sql_table_version", "pmacctd", "plugins: sqlite3\nsql_table_version: 99\n", ["-I", DEMO],
     r"\[{conf}:2\] Invalid value for key 'sql_table_version': '99' is out of range \(1\.\.9\)"),
    ("sql_table_type", "pmacctd", "plugins: sqlite3\nsql_table_type: fancy\n", ["-I", DEMO],
     r"\[{conf}:2\] sql_table_type 'fancy': expected original or bgp\. Exiting\."),
    ("allow_file", "nfacctd", "plugins: print\nnfacctd_allow_file: {d}/nosuch.allow\n", ["-I", NFCAP],
     r"\[{conf}:2\] key 'nfacctd_allow_file': cannot read '{d}/nosuch.allow': No such file"),
    ("port-range", "nfacctd", None, ["-P", "print", "-l", "70000"],
     r"\[command line:\d+\] Invalid value for key 'nfacctd_port': '70000' is out of range "
     r"\(1\.\.65535\)\. Exiting\."),
    ("port-range-sf", "sfacctd", "sfacctd_port: 0\nplugins: print\n", [],
     r"\[{conf}:1\] Invalid value for key 'sfacctd_port': '0' is out of range"),
    ("listen-ip", "nfacctd", None, ["-P", "print", "-L", "not-an-address"],
     r"key 'nfacctd_ip': invalid address 'not-an-address'\. Exiting\."),
    ("i-with-I", "pmacctd", None, ["-P", "print", "-i", "lo", "-I", DEMO],
     r"interface \(-i\) and pcap_savefile \(-I\) directives are mutually exclusive\. Exiting\."),
    ("savefile-missing", "pmacctd", None, ["-P", "print", "-I", "{d}/nosuch.pcap"],
     r"key 'pcap_savefile': cannot read '{d}/nosuch.pcap': No such file or directory\. Exiting\."),
    ("savefile-missing-nf", "nfacctd", None, ["-P", "print", "-I", "{d}/nosuch.pcap"],
     r"key 'pcap_savefile': cannot read '{d}/nosuch.pcap': .*No such file"),
    ("interface-missing", "pmacctd", None, ["-P", "print", "-i", "nosuch17"],
     r"key 'pcap_interface': no interface 'nosuch17' \(set pcap_interface_wait to wait for it\)"),
    ("networks_file", "pmacctd", None, ["-P", "print", "-c", "src_net", "-n", "{d}/nosuch.txt",
                                        "-I", DEMO],
     r"ERROR \( default_print/print \): \[command line\] key 'networks_file': cannot read "
     r"'{d}/nosuch.txt': No such file or directory\. Exiting\."),
    ("print-output-dir", "pmacctd", None, ["-P", "print", "-o", "/proc/pmacct-17/x.csv",
                                           "-I", DEMO],
     r"key 'print_output_file': cannot write '/proc/pmacct-17/x.csv'"),
    ("logfile-dir", "pmacctd", "logfile: {d}/nodir/log.txt\nplugins: print\n", ["-I", DEMO],
     r"\[{conf}:1\] key 'logfile': cannot open '{d}/nodir/log.txt': No such file or directory\. "
     r"Exiting\."),
    ("stitch-prorate", "nfacctd",
     "plugins: sqlite3\nsql_history: 5m\nnfacctd_stitching: true\nnfacctd_pro_rating: true\n",
     ["-I", NFCAP], r"are mutual exclusive\. Exiting\."),
    ("pre_tag_map", "nfacctd", "plugins: print\npre_tag_map: {d}/nosuch.map\n", ["-I", NFCAP],
     r"\[{conf}:2\] key 'pre_tag_map': \[{d}/nosuch.map\] cannot open the map: No such file"),
    ("ports_file", "pmacctd", "plugins: print\naggregate: src_port\nports_file: {d}/nosuch\n",
     ["-I", DEMO], r"\[{conf}:3\] key 'ports_file': .*cannot open the ports file: No such file"),
    ("flow_to_rd_map", "nfacctd", "plugins: print\nflow_to_rd_map: {d}/nosuch.map\n", ["-I", NFCAP],
     r"\[{conf}:2\] key 'flow_to_rd_map': \[{d}/nosuch.map\] cannot open: No such file"),
    ("sampling_map", "sfacctd", "plugins: print\nsampling_map: {d}/nosuch.map\n", [],
     r"\[{conf}:2\] key 'sampling_map': \[{d}/nosuch.map\] cannot open the sampling map"),
    ("unknown-primitive", "pmacctd", None, ["-P", "print", "-c", "src_hots", "-I", DEMO],
     r"src_hots"),
]


def _fill(v, d):
    return str(v).replace("{d}", str(d))


def _run(daemon, argv, timeout=20):
    return subprocess.run([str(DAEMONS[daemon])] + argv, capture_output=True, text=True,
                          timeout=timeout, env=DAEMON_ENV, stdin=subprocess.DEVNULL)


def _error_lines(text):
    return [l for l in text.splitlines() if l.startswith("ERROR")]


@pytest.mark.parametrize("row", BAD, ids=[r[0] for r in BAD])
def test_bad_input_refused_alike(row, tmp_path):
    rid, daemon, conf, argv, pattern = row
    if not DAEMONS[daemon].exists():
        pytest.skip(f"{daemon} not built")
    (tmp_path / "plain").write_text("not a socket\n")
    args = [_fill(a, tmp_path) for a in argv]
    conf_path = tmp_path / "bad.conf"
    if conf is not None:
        conf_path.write_text(_fill(conf, tmp_path))
        args = ["-f", str(conf_path)] + args
    rx = re.compile(pattern.replace("{d}", re.escape(str(tmp_path)))
                    .replace("{conf}", re.escape(str(conf_path))))

    dry = _run(daemon, ["-T", "config"] + args)
    real = _run(daemon, args)
    assert dry.returncode == 1, f"-T config accepted {rid}: {dry.stdout}{dry.stderr}"
    assert real.returncode == 1, f"start-up accepted {rid}: {real.stderr}"
    dry_err = [l for l in _error_lines(dry.stderr) if rx.search(l)]
    real_err = [l for l in _error_lines(real.stderr) if rx.search(l)]
    assert dry_err, f"-T config: no ERROR line matching {pattern!r} in:\n{dry.stderr}"
    assert real_err, f"start-up: no ERROR line matching {pattern!r} in:\n{real.stderr}"
    assert dry_err == real_err, "-T config and start-up say different things"
    # nothing half-started: no socket, no output file left behind
    assert not list(tmp_path.glob("nodir*"))


def test_trailing_filter_with_config_file_refused(tmp_path):
    conf = tmp_path / "x.conf"
    conf.write_text(f"plugins: print\naggregate: proto\npcap_savefile: {DEMO}\n")
    r = _run("pmacctd", ["-f", str(conf), "tcp", "port", "80"])
    assert r.returncode == 1
    assert ("ERROR: the trailing filter 'tcp port 80' is not read together with -f: put it in the "
            "configuration file as 'pcap_filter: tcp port 80'. Exiting.") in r.stderr
    assert r.stdout == ""
    r = _run("nfacctd", ["-P", "print", "stray"])
    assert r.returncode == 1 and "ERROR: unexpected argument 'stray'. Exiting." in r.stderr
    # without -f the trailing words are the filter, as in pmacct
    r = _run("pmacctd", ["-P", "print", "-c", "proto", "-I", str(DEMO), "udp"])
    assert r.returncode == 0, r.stderr
    protos = {row[0] for row in parse_formatted(r.stdout)[1]}
    assert protos == {"udp"}


def _ref_ok():
    return REF_PMACCTD.exists()


@pytest.mark.parametrize("agg,kept", [
    ("sum_host,dst_host", "sum_host"),
    ("sum_port,proto,src_host", "sum_port"),
    ("sum_mac,sum_host", "sum_mac"),
    ("sum_host,tag", "sum_host,tag"),
])
def test_sum_primitive_used_alone_as_177(agg, kept, tmp_path):
    """pmacct resets the other primitives of a sum_* aggregate with a warning (which sum wins, and
    which primitives survive, were read off 1.7.7); the output equals 1.7.7's for the same line."""
    nets = tmp_path / "nets.txt"
    # IPv4 only: 1.7.7 mis-reads IPv6 entries (docs/differences.md)
    nets.write_text("10.0.0.0/8\n192.168.0.0/16\n")
    args = ["-P", "print", "-c", agg, "-n", str(nets), "-I", str(DEMO)]
    ours = _run("pmacctd", args)
    assert ours.returncode == 0, ours.stderr
    warned = ("WARN ( default_print/print ): SUM aggregation is to be used alone. Resetting other "
              "aggregation methods.") in ours.stderr
    assert warned == (agg != kept)
    same = _run("pmacctd", ["-P", "print", "-c", kept, "-n", str(nets), "-I", str(DEMO)])
    assert sorted(parse_formatted(ours.stdout)[1]) == sorted(parse_formatted(same.stdout)[1])
    if not _ref_ok():
        skip_or_fail("pmacct 1.7.7 not installed: compared with the kept primitives only")
    h_ours, r_ours = parse_formatted(ours.stdout)
    want = sum(int(r[-2]) for r in r_ours)
    # 1.7.7's core reads the capture whether its plugin is up or not: on a loaded host the plugin
    # may see only the tail of it. A reference that accounted fewer packets is run again (ours
    # never is).
    for _ in range(3):
        ref = subprocess.run([str(REF_PMACCTD)] + args, capture_output=True, text=True,
                             timeout=60, env=DAEMON_ENV)
        h_ref, r_ref = parse_formatted(ref.stdout)
        if sum(int(r[-2]) for r in r_ref) >= want:
            break
    assert ("SUM aggregation is to be used alone" in ref.stderr) == warned
    assert h_ours == h_ref
    # 1.7.7 prints one sum_net on several rows (docs/differences.md): compare per-key totals
    assert _totals(r_ours) == _totals(r_ref)
    assert len(r_ours) == len(_totals(r_ours))


def _totals(rows):
    out = {}
    for r in rows:
        k = tuple(r[:-2])
        p, b = out.get(k, (0, 0))
        out[k] = (p + int(r[-2]), b + int(r[-1]))
    return out


def _wait_socket(path, proc, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise AssertionError(f"daemon exited {proc.returncode}: {proc.stderr.read()}")
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(str(path))
            return
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    raise AssertionError(f"{path} never served")


def _client_rows(pipe):
    r = subprocess.run([str(PMACCT), "-p", str(pipe), "-s"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    return parse_formatted(r.stdout)


def test_seed_two_memory_tables_without_imt_path(tmp_path):
    """The seed's `plugins: memory[inbound], memory[outbound]` with no imt_path: both plugins run,
    the last one listed owns the socket (as in 1.7.7, where `pmacct -s` shows the outbound
    table), one warning names both and the key; -T config says the same and exits 0."""
    pipe = tmp_path / "collect.pipe"
    conf = tmp_path / "seed.conf"
    # the seed's example, with the socket moved off /tmp/collect.pipe by the -p flag
    conf.write_text("aggregate[inbound]: dst_host\naggregate[outbound]: src_host\n"
                    "aggregate_filter[inbound]: dst net 192.168.0.0/16\n"
                    "aggregate_filter[outbound]: src net 192.168.0.0/16\n"
                    "plugins: memory[inbound], memory[outbound]\n"
                    "plugin_pipe_size:1024000\nplugin_buffer_size:8192\n"
                    "imt_buckets: 65537\nimt_mem_pools_size: 1024000\n")
    warn = (f"WARN ( outbound/memory ): memory plugins 'inbound', 'outbound' share imt_path "
            f"'{pipe}': only 'outbound' can be queried there. Give each its own socket with "
            f"imt_path[inbound], imt_path[outbound].")
    dry = _run("pmacctd", ["-T", "config", "-f", str(conf), "-p", str(pipe)])
    assert dry.returncode == 0, dry.stderr
    assert dry.stderr.count(warn) == 1, dry.stderr
    proc = subprocess.Popen([str(PMACCTD), "-f", str(conf), "-p", str(pipe), "-I", str(DEMO), "-W"],
                            stderr=subprocess.PIPE, text=True, env=DAEMON_ENV)
    try:
        _wait_socket(pipe, proc)
        time.sleep(1.0)
        header, rows = _client_rows(pipe)
        assert header[0] == "SRC_IP"
        assert rows and all(r[0].startswith("192.168.") for r in rows)
    finally:
        proc.terminate()
        err = proc.communicate(timeout=20)[1]
    assert proc.returncode == 0, err
    assert err.count(warn) == 1, err
    assert "another running daemon" not in err
    assert "INFO ( inbound/memory ): not listening: 'outbound' owns imt_path" in err


def test_imt_path_of_a_live_daemon_is_not_stolen(tmp_path):
    pipe = tmp_path / "live.pipe"
    first = subprocess.Popen([str(PMACCTD), "-P", "memory", "-p", str(pipe), "-I", str(DEMO), "-W"],
                             stderr=subprocess.PIPE, text=True, env=DAEMON_ENV)
    try:
        _wait_socket(pipe, first)
        for extra in (["-T", "config"], []):
            r = _run("pmacctd", extra + ["-P", "memory", "-p", str(pipe), "-I", str(DEMO)])
            assert r.returncode == 1
            assert (f"key 'imt_path': '{pipe}' is in use by another running daemon (a client "
                    "connects to it). Exiting.") in r.stderr
        assert _client_rows(pipe)[1], "the first daemon lost its socket"
    finally:
        first.terminate()
        first.communicate(timeout=20)


def test_stale_socket_replaced(tmp_path):
    pipe = tmp_path / "stale.pipe"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(pipe))
    s.close()     # a socket file nobody serves: left by a crashed run
    r = _run("pmacctd", ["-T", "config", "-P", "memory", "-p", str(pipe)])
    assert r.returncode == 0, r.stderr
    proc = subprocess.Popen([str(PMACCTD), "-P", "memory", "-p", str(pipe), "-I", str(DEMO), "-W"],
                            stderr=subprocess.PIPE, text=True, env=DAEMON_ENV)
    try:
        _wait_socket(pipe, proc)
        time.sleep(0.5)
        assert _client_rows(pipe)[1]
    finally:
        proc.terminate()
        err = proc.communicate(timeout=20)[1]
    assert f"removing stale socket '{pipe}'" in err
