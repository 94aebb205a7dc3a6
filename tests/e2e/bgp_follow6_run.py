# SPDX-License-Identifier: BSD-3-Clause
"""One run of tests/e2e/test_bgp_follow.py's IPv6 case, inside a network namespace
whose loopback holds the speakers' addresses (the test creates and deletes it):
nfacctd BINARY listens on [::1], three raw iBGP speakers A, B, C (IPv6 sessions,
MP_REACH IPv6 unicast) announce a next-hop chain A -> B -> C, NetFlow v9 from A.
Prints the print plugin's JSON rows.  1.7.7 prints IPv6 peer_dst_ip (not IPv4),
so this is where its bgp_follow_nexthop can be seen.

usage: bgp_follow6_run.py BINARY WORKDIR NF_PORT BGP_PORT [EXTRA_CONFIG_LINES]
"""

import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bgp_wire as bw                      # noqa: E402
from test_bgp_oracle import v9             # noqa: E402

# the peers' first 4 bytes differ: 1.7.7 takes next hops that share them for the same one
A, B, C = "2001:db8::a", "2001:db9::b", "2001:dba::c"
ADDRS = (A, B, C)


def path(*asns):
    body = bytes([2, len(asns)]) + b"".join(struct.pack("!I", a) for a in asns) if asns else b""
    return bw.attr(0x40, 2, body)


def upd(prefix, nh, *asns):
    a = bw.origin() + path(*asns) + bw.local_pref(100)
    return bw.update(a + bw.mp_reach(2, 1, socket.inet_pton(socket.AF_INET6, nh), bw.prefix_bytes(prefix)))


ROUTES = {
    A: [upd("2001:db8:50::/48", B, 65500), upd("::/0", B), upd("2001:db8:10::/48", B, 65100)],
    B: [upd("2001:db8:50::/48", "2001:db8:ff::51", 65501), upd("2001:db8:50:1::/64", C, 65502),
        upd("::/0", C), upd("2001:db8:20::/48", "2001:db8:ff::20", 65220),
        upd("2001:db8:10::/48", C, 65200)],
    C: [upd("2001:db8:50::/48", "2001:db8:ff::52", 65503), upd("2001:db8:20::/48", "2001:db8:ff::21", 65221),
        upd("2001:db8:10::/48", "2001:db8:ff::30", 65300)],
}
FLOWS = [("2001:db8:99::1", "2001:db8:50:1::1"), ("2001:db8:99::1", "2001:db8:20::5"),
         ("2001:db8:99::1", "2001:db8:10::5")]


def listening(flag, port):
    return subprocess.run(["ss", "-H" + flag, f"sport = :{port}"], capture_output=True,
                          text=True).stdout.strip() != ""


def main():
    binary, d, nf_port, bgp_port = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    extra = sys.argv[5] if len(sys.argv) > 5 else ""
    d.mkdir(parents=True, exist_ok=True)
    (d / "nf.conf").write_text(f"""daemonize: false
nfacctd_ip: ::1
nfacctd_port: {nf_port}
bgp_daemon: true
bgp_daemon_ip: ::1
bgp_daemon_port: {bgp_port}
bgp_daemon_max_peers: 10
nfacctd_as: bgp
nfacctd_net: bgp
plugins: print[c]
aggregate[c]: src_host, dst_host, dst_as, peer_dst_as, peer_dst_ip, as_path, dst_net, dst_mask
print_output[c]: json
print_output_file[c]: {d}/out.json
print_refresh_time[c]: 3600
{extra}
""")
    with open(d / "nf.log", "w") as log:
        p = subprocess.Popen([binary, "-f", str(d / "nf.conf")], stdout=log, stderr=subprocess.STDOUT,
                             env=dict(os.environ, TZ="UTC"))
    end = time.time() + 30
    while not (listening("ltn", bgp_port) and listening("lun", nf_port)):
        if time.time() > end or p.poll() is not None:
            sys.exit(f"{binary} did not come up:\n" + (d / "nf.log").read_text()[-1500:])
        time.sleep(0.1)
    speakers = []
    try:
        for i, addr in enumerate(ADDRS):
            caps = [bw.cap(1, struct.pack("!HBB", 2, 0, 1)), bw.cap(65, struct.pack("!I", 65001))]
            sp = bw.Speaker(addr, bgp_port, 65001, f"10.0.0.{10 + i}", caps, dst="::1")
            for u in ROUTES[addr]:
                sp.send(u)
            speakers.append(sp)
        assert all(sp.alive(1.0) for sp in speakers), (d / "nf.log").read_text()[-1500:]
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind((A, 0))
            for i in range(10):
                s.sendto(v9(FLOWS, i, 1000), ("::1", nf_port))
                time.sleep(0.02)
        time.sleep(1)
    finally:
        for sp in speakers:
            sp.close()
        time.sleep(2)           # 1.7.7: no SIGINT while sessions are being torn down
        bw.stop_daemon(p, 30)
    sys.stdout.write((d / "out.json").read_text())


if __name__ == "__main__":
    main()
