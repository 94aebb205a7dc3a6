# SPDX-License-Identifier: BSD-3-Clause
"""uacctd: packets netfilter logs to an NFLOG group, accounted by our uacctd
and then by Debian's 1.7.7 (run again when it missed some: conftest.retry_reference).

Two network namespaces made for the module, joined by a veth pair (10.204.0.x,
fd00:204::/64 exist only on its ends).  In the accounting namespace an
nftables table logs the test's UDP traffic twice, to group G_OURS and to
group G_REF (a group has one listener at a time, so each daemon gets its own
copy of every packet; the traffic is sent again for each daemon's run):
inbound IPv4 and IPv6 from the sender (input hook: the packets carry the
veth's Ethernet header) and outbound IPv4 to it (output hook: no link
header).  The sender's own script tallies what it sent; the print CSV and
the memory table (queried with each daemon's client) of both daemons are
compared with each other and with those tallies.  The namespaces, and with
them the nftables table, are deleted at the end, also on failure.
Skipped when not root, or without `ip netns` / `nft`."""

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import (DAEMON_ENV, PMACCT, REPO, csv_dicts, needs, retry_reference, skip_or_fail,
                      wait_for)

UACCTD = Path(os.environ.get("UACCTD", REPO / "build" / "uacctd"))
REF_UACCTD = Path(os.environ.get("REF_UACCTD", "/usr/sbin/uacctd"))
REF_PMACCT = Path("/usr/bin/pmacct")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="NFLOG needs root (network namespaces, "
                       "nftables, CAP_NET_ADMIN)"),
    needs(shutil.which("ip") is not None, "iproute2 missing"),
    needs(shutil.which("nft") is not None, "nftables missing (apt-get install nftables)"),
    pytest.mark.skipif(not os.access(UACCTD, os.X_OK), reason=f"our uacctd not built at {UACCTD}"),
]

G_OURS, G_REF = 21, 22

# The traffic: (family, direction, dport, packets, payload bytes); source port 5555 (inbound)
# or 5556 (outbound) so each line is one aggregate.
TRAFFIC = [
    (4, "in", 6000, 40, 100),
    (4, "in", 6001, 25, 1000),
    (6, "in", 6002, 30, 60),
    (4, "out", 7000, 20, 200),
]

SENDER = r"""
import json, socket, sys
fam, src, dst, sport, dport, n, size = sys.argv[1:8]
af = socket.AF_INET if fam == "4" else socket.AF_INET6
s = socket.socket(af, socket.SOCK_DGRAM)
s.bind((src, int(sport)))
for i in range(int(n)):
    s.sendto(b"u" * int(size), (dst, int(dport)))
# the sender's tally: IP total length = IP header + UDP header + payload
hdr = 20 if fam == "4" else 40
print(json.dumps({"packets": int(n), "bytes": int(n) * (hdr + 8 + int(size))}))
"""


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=30)


class Net:
    """The namespaces, addresses, MACs and the accounting end's ifindex."""


@pytest.fixture(scope="module")
def net():
    tag = uuid.uuid4().hex[:6]
    n = Net()
    n.acct, n.snd = f"pmua{tag}", f"pmus{tag}"
    n.if_acct, n.if_snd = f"ua{tag}", f"us{tag}"
    created = []

    def cleanup():
        for ns in created:
            # the table first (explicitly), then the namespace and the veth pair with it
            sh("ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "uacct_test",
               check=False)
            sh("ip", "netns", "del", ns, check=False)

    try:
        for ns in (n.acct, n.snd):
            sh("ip", "netns", "add", ns)
            created.append(ns)
        sh("ip", "link", "add", n.if_acct, "netns", n.acct, "type", "veth", "peer", "name",
           n.if_snd, "netns", n.snd)
        for ns, ifn, a4, a6 in ((n.acct, n.if_acct, "10.204.0.1/24", "fd00:204::1/64"),
                                (n.snd, n.if_snd, "10.204.0.2/24", "fd00:204::2/64")):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "addr", "add", a4, "dev", ifn)
            sh("ip", "-n", ns, "addr", "add", a6, "dev", ifn, "nodad")
            sh("ip", "-n", ns, "link", "set", ifn, "up")
        rules = f"""table inet uacct_test {{
  chain in {{
    type filter hook input priority 0;
    ip saddr 10.204.0.2 udp sport 5555 log group {G_OURS}
    ip saddr 10.204.0.2 udp sport 5555 log group {G_REF}
    ip6 saddr fd00:204::2 udp sport 5555 log group {G_OURS}
    ip6 saddr fd00:204::2 udp sport 5555 log group {G_REF}
  }}
  chain out {{
    type filter hook output priority 0;
    ip daddr 10.204.0.2 udp sport 5556 log group {G_OURS}
    ip daddr 10.204.0.2 udp sport 5556 log group {G_REF}
  }}
}}
"""
        subprocess.run(["ip", "netns", "exec", n.acct, "nft", "-f", "-"], input=rules,
                       check=True, capture_output=True, text=True, timeout=30)
    except (subprocess.CalledProcessError, OSError) as e:
        cleanup()
        pytest.skip(f"cannot set up namespaces / veth / nftables: {getattr(e, 'stderr', e)}")
    links = {}
    for ns, ifn in ((n.acct, n.if_acct), (n.snd, n.if_snd)):
        out = sh("ip", "-n", ns, "-o", "link", "show", ifn).stdout
        links[ifn] = (out.split("link/ether ")[1].split()[0], int(out.split(":")[0]))
    n.mac_acct, n.ifindex = links[n.if_acct]
    n.mac_snd = links[n.if_snd][0]
    try:
        yield n
    finally:
        cleanup()


def send_traffic(n):
    """Send TRAFFIC; return {(src, dst, sport, dport): (packets, bytes)} from the senders' tallies."""
    tallies = {}
    for fam, direction, dport, count, size in TRAFFIC:
        if direction == "in":
            ns, sport = n.snd, 5555
            src, dst = ("10.204.0.2", "10.204.0.1") if fam == 4 else ("fd00:204::2", "fd00:204::1")
        else:
            ns, sport, src, dst = n.acct, 5556, "10.204.0.1", "10.204.0.2"
        r = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", SENDER, str(fam),
                            src, dst, str(sport), str(dport), str(count), str(size)],
                           capture_output=True, text=True, timeout=60, check=True)
        t = json.loads(r.stdout)
        tallies[(src, dst, sport, dport)] = (t["packets"], t["bytes"])
    return tallies


AGGREGATE = "src_mac,dst_mac,etype,in_iface,out_iface,src_host,dst_host,src_port,dst_port,proto"


def conf_text(group, workdir):
    return f"""uacctd_group: {group}
uacctd_threshold: 4
uacctd_nl_size: 262144
snaplen: 200
plugins: print[p], memory[m]
aggregate: {AGGREGATE}
print_output[p]: csv
print_num_protos[p]: true
print_output_file[p]: {workdir}/out.csv
print_output_file_append[p]: true
print_refresh_time[p]: 1
imt_path[m]: {workdir}/mem.pipe
"""


def start(binary, netns, workdir, group):
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "u.conf"
    conf.write_text(conf_text(group, workdir))
    log = open(workdir / "daemon.log", "w")
    # its own process group: 1.7.7's plugins are processes, stopped with it
    p = subprocess.Popen(["ip", "netns", "exec", netns, str(binary), "-f", str(conf)],
                         env=DAEMON_ENV, stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    return p


def stop(p, graceful):
    """Ours: SIGTERM, which must flush and exit 0.  1.7.7's core blocks SIGTERM while it waits
    for a packet: its process group is killed once its output is read."""
    if p.poll() is not None:
        return p.returncode
    if graceful:
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait(timeout=30)
    return None


def csv_totals(text):
    """{key tuple: [packets, bytes]} summed over the appended purges, keys from every column."""
    res = {}
    for r in csv_dicts(text):
        k = (r["SRC_MAC"], r["DST_MAC"], r["ETYPE"], int(r["IN_IFACE"]), int(r["OUT_IFACE"]),
             r["SRC_IP"], r["DST_IP"], int(r["SRC_PORT"]), int(r["DST_PORT"]), int(r["PROTOCOL"]))
        t = res.setdefault(k, [0, 0])
        t[0] += int(r["PACKETS"])
        t[1] += int(r["BYTES"])
    return {k: tuple(v) for k, v in res.items()}


def expected_rows(n, tallies):
    """What each packet's NFLOG attributes say, as 1.7.7 accounts them (independent of both daemons)."""
    exp = {}
    for (src, dst, sport, dport), (pk, by) in tallies.items():
        v6 = ":" in src
        if sport == 5555:	# input hook: the veth's Ethernet header, the input device
            k = (n.mac_snd, n.mac_acct, "86dd" if v6 else "800", n.ifindex, 0)
        else:			# output hook: no link header, the output device
            k = ("00:00:00:00:00:00", "00:00:00:00:00:00", "800", 0, n.ifindex)
        exp[k + (src, dst, sport, dport, 17)] = (pk, by)
    return exp


def memory_rows(client, pipe):
    r = subprocess.run([str(client), "-p", str(pipe), "-s", "-O", "csv", "-u"], capture_output=True,
                       text=True, timeout=30, env=DAEMON_ENV)
    assert r.returncode == 0, r.stderr
    return csv_totals(r.stdout)


def account(net, binary, client, workdir, group, ours):
    """One daemon on its own NFLOG group (the other group has no listener then): started, the
    traffic sent, its print CSV and memory table read once they hold the senders' tallies (at
    most 20 and 10 s), stopped.  Ours: SIGUSR1 stats first, SIGTERM (1.7.7's process group is
    killed).  Returns a dict: tallies, exp, csv, mem, rc, log."""
    p = start(binary, net.acct, workdir, group)
    log = workdir / "daemon.log"
    res = {}
    try:
        assert wait_for(lambda: "Successfully connected Netlink NFLOG socket" in log.read_text(),
                        15, proc=p), log.read_text()
        time.sleep(1)	# the group joined and the plugins up: 1.7.7 logs the line before both
        res["tallies"] = send_traffic(net)
        exp = res["exp"] = expected_rows(net, res["tallies"])
        out = workdir / "out.csv"
        wait_for(lambda: out.exists() and csv_totals(out.read_text()) == exp, 20)
        res["csv"] = csv_totals(out.read_text()) if out.exists() else {}
        pipe = workdir / "mem.pipe"
        wait_for(lambda: memory_rows(client, pipe) == exp, 10)
        res["mem"] = memory_rows(client, pipe)
        if ours:	# SIGUSR1: every logged packet received, none skipped or dropped
            p.send_signal(signal.SIGUSR1)
            wait_for(lambda: f"stats [nflog,{group}] " in log.read_text(), 10)
    finally:
        res["rc"] = stop(p, graceful=ours)
    res["log"] = log.read_text()
    return res


def test_uacctd_against_reference_and_tallies(net, tmp_path):
    if not os.access(REF_UACCTD, os.X_OK):
        skip_or_fail(f"Debian's uacctd missing at {REF_UACCTD} (apt-get install pmacct)")
    ours = account(net, UACCTD, PMACCT, tmp_path / "ours", G_OURS, ours=True)
    # 1.7.7 (its own run, after ours) again while it did not account what the senders sent
    ref = retry_reference(
        lambda i: account(net, REF_UACCTD, REF_PMACCT, tmp_path / f"ref{i}", G_REF, ours=False),
        lambda ref: ref["csv"] == ref["mem"] == ref["exp"], what="uacctd 1.7.7")
    exp, ours_log = ours["exp"], ours["log"]
    assert ref["exp"] == exp
    assert ref["csv"] == exp, f"1.7.7 differs from the senders' tallies: {ref['csv']}"
    assert ours["csv"] == ref["csv"], f"print CSV: ours {ours['csv']}\nref {ref['csv']}\n{ours_log}"
    assert ours["mem"] == ref["mem"] == exp, f"memory: ours {ours['mem']}\nref {ref['mem']}"
    assert ours["rc"] == 0, ours_log
    assert "OK, Exiting" in ours_log
    total = sum(p for p, _ in ours["tallies"].values())
    stats = [ln for ln in ours_log.splitlines() if f"stats [nflog,{G_OURS}] " in ln]
    assert stats and f"received_packets={total} dropped_packets=0" in stats[0], ours_log
    assert "skipped" not in ours_log, ours_log


def test_group_taken_is_an_error(net, tmp_path):
    """One listener per group: a second uacctd on the same group fails clearly."""
    first = start(UACCTD, net.acct, tmp_path / "a", 23)
    try:
        log = tmp_path / "a" / "daemon.log"
        assert wait_for(lambda: "link type is" in log.read_text(), 15, proc=first), log.read_text()
        conf = tmp_path / "b.conf"
        conf.write_text("uacctd_group: 23\nplugins: print\nprint_output_file: /dev/null\n")
        r = subprocess.run(["ip", "netns", "exec", net.acct, str(UACCTD), "-f", str(conf)],
                           capture_output=True, text=True, timeout=30, env=DAEMON_ENV)
        assert r.returncode != 0
        assert f"[{conf}:1] key 'uacctd_group': cannot join NFLOG group 23" in r.stderr + r.stdout
    finally:
        assert stop(first, graceful=True) == 0


@pytest.mark.parametrize("line,want", [
    ("uacctd_group: 70000", "uacctd_group"),
    ("uacctd_nl_size: 12", "uacctd_nl_size"),
    ("uacctd_threshold: x", "uacctd_threshold"),
    ("aggregate: peer_src_ip_nope", "peer_src_ip_nope"),
])
def test_bad_keys_named(tmp_path, line, want):
    conf = tmp_path / "bad.conf"
    conf.write_text(f"plugins: print\n{line}\n")
    r = subprocess.run([str(UACCTD), "-f", str(conf), "-T", "config"], capture_output=True,
                       text=True, timeout=30, env=DAEMON_ENV)
    assert r.returncode != 0
    err = r.stderr + r.stdout
    assert want in err and str(conf) in err, err
    if "aggregate" not in line:
        assert f"{conf}:2" in err, err


def test_pcap_keys_warned_not_applied(tmp_path):
    conf = tmp_path / "p.conf"
    conf.write_text("plugins: print\npcap_filter: udp\n")
    r = subprocess.run([str(UACCTD), "-f", str(conf), "-T", "config"], capture_output=True,
                       text=True, timeout=30, env=DAEMON_ENV)
    assert r.returncode == 0, r.stderr
    assert f"[{conf}:2] key 'pcap_filter' does not apply to uacctd" in r.stderr + r.stdout


def body(text):
    return text.split("\n", 1)[1]


def test_primitives_list():
    """-a: pmacctd's list under uacctd's banner, as 1.7.7's uacctd lists exactly its pmacctd's;
    every line is one of 1.7.7's uacctd -a lines, in its order."""
    ours = subprocess.run([str(UACCTD), "-a"], capture_output=True, text=True, timeout=30).stdout
    ours_pm = subprocess.run([str(UACCTD.parent / "pmacctd"), "-a"], capture_output=True, text=True,
                             timeout=30).stdout
    assert ours.startswith("Linux NetFilter NFLOG Accounting Daemon, uacctd ")
    assert body(ours) == body(ours_pm)
    if not os.access(REF_UACCTD, os.X_OK):
        skip_or_fail(f"Debian's uacctd missing at {REF_UACCTD}")
    ref = subprocess.run([str(REF_UACCTD), "-a"], capture_output=True, text=True, timeout=30).stdout
    ref_pm = subprocess.run(["/usr/sbin/pmacctd", "-a"], capture_output=True, text=True,
                            timeout=30).stdout
    assert ref.split(", uacctd ")[0] == ours.split(", uacctd ")[0]
    assert body(ref) == body(ref_pm)
    # ours is 1.7.7's list, in 1.7.7's order and groups, less what is not built yet
    ref_lines = [line for line in body(ref).splitlines() if line.strip()]
    ours_lines = [line for line in body(ours).splitlines() if line.strip()]
    extra = [line for line in ours_lines if line not in ref_lines]
    assert not extra, extra
    assert ours_lines == [line for line in ref_lines if line in ours_lines]


def test_usage_flags():
    r = subprocess.run([str(UACCTD), "-h"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    for flag in ("-g  \tNetlink NFLOG group", "-L  \tSnapshot length", "-R  \tRenormalize"):
        assert flag in r.stdout
    # pmacctd's capture flags are not uacctd's (1.7.7: "invalid option")
    for bad in ("-i", "-I"):
        r = subprocess.run([str(UACCTD), bad, "x"], capture_output=True, text=True, timeout=30)
        assert r.returncode != 0
