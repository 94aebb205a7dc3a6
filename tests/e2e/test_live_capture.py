# SPDX-License-Identifier: BSD-3-Clause
"""Live capture: pmacctd on one end of a veth pair between two network
namespaces created for the test, scapy sending a known set of frames from
the other end, counts compared after SIGINT (which must flush the print
plugin).  Addresses (10.203.x, fd00:203::/64) exist only on the veth ends
inside those namespaces; nothing is routed anywhere else.  Skipped when not
root or when `ip netns` is unavailable."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import (DAEMON_ENV, PMACCTD, csv_dicts, needs_ours,
                      is_reference, needs, wait_for)

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="live capture needs root "
                       "(network namespaces and a veth pair)"),
    needs(shutil.which("ip") is not None, "iproute2 missing"),
    needs_ours,
]


SENDER = r"""
import sys
from scapy.all import Ether, IP, IPv6, TCP, UDP, ICMP, Dot1Q, Raw, sendp
iface, smac, dmac = sys.argv[1:4]
e = Ether(src=smac, dst=dmac)
pk = []
for i in range(200):
    pk.append(e / IP(src="10.203.0.2", dst="10.203.0.1") / UDP(sport=5000, dport=6000) / Raw(b"u" * 100))
for i in range(50):
    pk.append(e / IP(src="10.203.0.2", dst="10.203.0.1") / TCP(sport=40000, dport=80, flags="PA") / Raw(b"t" * 1000))
for i in range(30):
    pk.append(e / IPv6(src="fd00:203::2", dst="fd00:203::1") / UDP(sport=7000, dport=7001) / Raw(b"6" * 60))
for i in range(20):
    pk.append(e / Dot1Q(vlan=42) / IP(src="10.203.1.2", dst="10.203.1.1") / UDP(sport=1, dport=2) / Raw(b"v" * 10))
sendp(pk, iface=iface, verbose=False, inter=0.001)
"""

OTHER_MAC = "02:00:00:00:99:99"

EXPECTED = {
    # (src, dst, sport, dport, proto): (packets, bytes)
    ("10.203.0.2", "10.203.0.1", 5000, 6000, 17): (200, 200 * 128),
    ("10.203.0.2", "10.203.0.1", 40000, 80, 6): (50, 50 * 1040),
    ("fd00:203::2", "fd00:203::1", 7000, 7001, 17): (30, 30 * 108),
    ("10.203.1.2", "10.203.1.1", 1, 2, 17): (20, 20 * 38),
}


@pytest.mark.parametrize("stop", ["sigint", "refresh"])
def test_live_capture_counts(netns_pair, tmp_path, stop):
    ns_cap, if_cap, ns_snd, if_snd, smac, dmac = netns_pair
    out = tmp_path / "live.csv"
    # "refresh": purges every 2 s append to the file, which must add up to
    # the traffic before any signal; "sigint": only the SIGINT flush writes
    refresh = 2 if stop == "refresh" else 300
    conf = tmp_path / "live.conf"
    # the frames go to a MAC that is not the capture end's (seen in promisc
    # mode, ignored by its kernel: no RST / port unreachable replies); the
    # filter keeps neighbour discovery and MLD noise out of the counts
    conf.write_text(f"""interface: {if_cap}
promisc: true
pcap_filter: udp or tcp or (vlan and (udp or tcp))
plugins: print[p]
aggregate[p]: src_host,dst_host,src_port,dst_port,proto
print_output[p]: csv
print_num_protos[p]: true
print_output_file[p]: {out}
print_refresh_time[p]: {refresh}
print_output_file_append[p]: true
""")
    log = open(tmp_path / "pmacctd.log", "w")
    d = subprocess.Popen(["ip", "netns", "exec", ns_cap, str(PMACCTD), "-f", str(conf)],
                         env=DAEMON_ENV, stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    try:
        # the reference sleeps before it captures; ours should be ready fast
        time.sleep(3 if is_reference(PMACCTD) else 1)
        assert d.poll() is None, (tmp_path / "pmacctd.log").read_text()
        snd = subprocess.run(["ip", "netns", "exec", ns_snd, "/usr/bin/python3",
                              "-c", SENDER, if_snd, smac, OTHER_MAC],
                             capture_output=True, text=True, timeout=120)
        assert snd.returncode == 0, snd.stderr
        if stop == "refresh":
            assert wait_for(lambda: out.exists() and rows(out) == EXPECTED,
                            3 * refresh + 5), \
                f"timed purges did not write the traffic: " \
                f"{rows(out) if out.exists() else 'no file'}"
        # libpcap hands packets over per buffer timeout (1 s in pmacct):
        # leave time for the last ones to reach the daemon before stopping
        time.sleep(2.5)
        d.send_signal(signal.SIGINT)
        rc = d.wait(timeout=30)
    finally:
        if d.poll() is None:
            d.kill()
            d.wait()
        log.close()
    logtext = (tmp_path / "pmacctd.log").read_text()
    assert rc == 0, logtext
    assert out.exists(), "no output written on SIGINT\n" + logtext
    got = rows(out)
    assert got == EXPECTED, f"{got}\n{logtext}"


def rows(path):
    res = {}
    for r in csv_dicts(path.read_text()):
        k = (r["SRC_IP"], r["DST_IP"], int(r["SRC_PORT"]), int(r["DST_PORT"]),
             int(r["PROTOCOL"]))
        p, b = res.get(k, (0, 0))
        res[k] = (p + int(r["PACKETS"]), b + int(r["BYTES"]))
    return res


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
