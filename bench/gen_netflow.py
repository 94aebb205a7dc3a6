#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""gen_netflow.py OUT.pcap RECORDS: a capture of NetFlow v9 and IPFIX datagrams of 24 records from
4 exporters (each exporter's first datagram and every 20th after carry its template; flows drawn
from 50000 distinct 5-tuples, seeded: the same file every time), for bench/nfacctd.sh and
bench/instructions.sh."""
import random, struct, sys
path, total = sys.argv[1], int(sys.argv[2])
random.seed(1)
F = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (5, 1), (6, 1), (10, 4), (14, 4), (1, 4), (2, 4),
     (22, 4), (21, 4)]
def tpl_set(sid):
    body = struct.pack("!HH", 256, len(F)) + b"".join(struct.pack("!HH", t, l) for t, l in F)
    return struct.pack("!HH", sid, 4 + len(body)) + body
flows = [struct.pack("!IIHHBBBIIII", 0x0a000000 + random.randrange(1 << 16),
                     0xac100000 + random.randrange(1 << 12), random.randrange(1024, 65535),
                     random.choice((80, 443, 53, 22)), random.choice((6, 17)), 0, 0x1b, 1, 2,
                     random.randrange(40, 150000), random.randrange(1, 100)) for _ in range(50000)]
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    n = seq = 0
    while n < total:
        ipfix = (seq // 1000) % 2 == 1
        recs = b"".join(random.choice(flows) + struct.pack("!II", 1000, 2000) for _ in range(24))
        # seq % 4 is the exporter; a template in its every 20th datagram and its first after
        # each switch between v9 and IPFIX
        tpl = (seq // 4) % 20 == 0 or seq % 1000 < 4
        sets = (tpl_set(2 if ipfix else 0) if tpl else b"") + \
            struct.pack("!HH", 256, 4 + len(recs)) + recs
        if ipfix:
            msg = struct.pack("!HHIII", 10, 16 + len(sets), 1700000000, n, 1) + sets
        else:
            msg = struct.pack("!HHIIII", 9, 25, 100000, 1700000000, seq, 0) + sets
        udp = struct.pack("!HHHH", 40000, 2100, 8 + len(msg), 0) + msg
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes((10, 9, 9, 1 + seq % 4)), bytes((10, 9, 9, 100)))
        frame = b"\0" * 12 + b"\x08\x00" + ip + udp
        f.write(struct.pack("<IIII", 1700000000 + seq // 1000, 0, len(frame), len(frame)) + frame)
        n += 24
        seq += 1
print(f"capture: {seq} datagrams, {n} records", file=sys.stderr)
