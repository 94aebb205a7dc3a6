#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""What softflowd exports from a capture, repeated into one pcap.

  bench/softflowd_export.py CAPTURE OUT.pcap [--version 9] [--repeat 4000] [--stats STATS.json]

softflowd (-r CAPTURE -v VERSION) exports to a UDP socket on 127.0.0.1; the datagrams it
sent are written REPEAT times, in order, as Ethernet/IPv4/UDP frames from 127.0.0.1 to port
2100 (one second further on per repetition, so that each copy is a later export of the same
flows).  STATS gets the datagram and record counts read from the NetFlow v9 / IPFIX templates and
set lengths, and the sum of the records' packet counters, over all copies: independent of
any collector.
"""

import argparse
import json
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def collect(capture, version, tmp):
    sfd = shutil.which("softflowd") or "/usr/sbin/softflowd"
    ctl = shutil.which("softflowctl") or "/usr/sbin/softflowctl"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    grams, last, stop = [], [time.time()], threading.Event()

    def rx():
        while not stop.is_set():
            try:
                d, _ = sock.recvfrom(65535)
            except socket.timeout:
                continue
            last[0] = time.time()
            grams.append(d)

    t = threading.Thread(target=rx, daemon=True)
    t.start()
    c, pid = Path(tmp) / "sfd.ctl", Path(tmp) / "sfd.pid"
    p = subprocess.Popen([sfd, "-d", "-r", str(capture), "-n", f"127.0.0.1:{sock.getsockname()[1]}",
                          "-v", str(version), "-p", str(pid), "-c", str(c)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.time() + 120
    # with -r softflowd reads 8192 packets per wake-up of its poll loop: poke it via the
    # control socket until it has read the file and exited (it exports every flow on exit)
    while p.poll() is None and time.time() < end:
        subprocess.run([ctl, "-c", str(c), "statistics"], capture_output=True)
        time.sleep(0.1)
    if p.poll() is None:
        p.kill()
        sys.exit("softflowd did not finish reading the capture")
    while time.time() - last[0] < 1.0:
        time.sleep(0.1)
    stop.set()
    t.join()
    sock.close()
    return grams


def records(gram):
    """Data records in one v9 / IPFIX datagram, from its sets and the templates it carries,
    and the sum of their packet counters (IE 2); PACKETS adds that sum up."""
    ver = struct.unpack_from("!H", gram)[0]
    off = 20 if ver == 9 else 16
    n = 0
    while off + 4 <= len(gram):
        sid, slen = struct.unpack_from("!HH", gram, off)
        if slen < 4:
            break
        if sid in (0, 2):
            o = off + 4
            while o + 4 <= off + slen:
                tid, cnt = struct.unpack_from("!HH", gram, o)
                size, pk = 0, None
                for i in range(cnt):
                    ft, fl = struct.unpack_from("!HH", gram, o + 4 + 4 * i)
                    if ft == 2:
                        pk = (size, fl)
                    size += fl
                TEMPLATES[tid] = (size, pk)
                o += 4 + 4 * cnt
        elif sid >= 256 and sid in TEMPLATES and TEMPLATES[sid][0]:
            size, pk = TEMPLATES[sid]
            k = (slen - 4) // size
            n += k
            for i in range(k if pk else 0):
                at = off + 4 + i * size + pk[0]
                PACKETS[0] += int.from_bytes(gram[at:at + pk[1]], "big")
        off += slen
    return n


TEMPLATES = {}
PACKETS = [0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("capture")
    ap.add_argument("out")
    ap.add_argument("--version", type=int, default=9)
    ap.add_argument("--repeat", type=int, default=4000)
    ap.add_argument("--stats")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        grams = collect(a.capture, a.version, tmp)
    if not grams:
        sys.exit("softflowd exported nothing")
    recs = sum(records(g) for g in grams)
    frames = []
    for i, g in enumerate(grams):
        udp = struct.pack("!HHHH", 40000, 2100, 8 + len(g), 0) + g
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                         socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1"))
        frames.append(b"\0" * 12 + b"\x08\x00" + ip + udp)
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for r in range(a.repeat):
            ts = 1700000000 + r
            hdr = [struct.pack("<IIII", ts, i, len(fr), len(fr)) for i, fr in enumerate(frames)]
            f.write(b"".join(h + fr for h, fr in zip(hdr, frames)))
    st = {"datagrams_per_copy": len(grams), "records_per_copy": recs, "repeat": a.repeat,
          "records": recs * a.repeat, "packets": PACKETS[0] * a.repeat}
    if a.stats:
        Path(a.stats).write_text(json.dumps(st) + "\n")
    print(json.dumps(st))


if __name__ == "__main__":
    main()
