#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""gen_sflow.py SAMPLES OUT.pcap: sFlow v5 flow samples (8 per datagram) with raw Ethernet/IPv4/IPv6
TCP/UDP headers over 4096 distinct flows from two agents, seeded, for bench/sfacctd.sh and
bench/instructions.sh."""
import random, socket, struct, sys
n, out = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(1)
def u32(*v): return b"".join(struct.pack(">I", x & 0xffffffff) for x in v)
def frame(i):
    v6 = i % 4 == 0
    proto = 6 if i % 3 else 17
    sp, dp = 1024 + i % 5000, (80, 443, 53, 22)[i % 4]
    l4 = struct.pack(">HHIIBBHHH", sp, dp, 1, 0, 0x50, 0x18, 1000, 0, 0) if proto == 6 else struct.pack(">HHHH", sp, dp, 500, 0)
    if v6:
        ip = struct.pack(">IHBB", 0x60000000, len(l4) + 400, proto, 64) + bytes([0x20, 1, 0xd, 0xb8] + [0] * 10 + [i >> 8 & 255, i & 255]) + bytes([0x20, 1, 0xd, 0xb8] + [1] * 10 + [i & 255, 9])
        et = b"\x86\xdd"
    else:
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4) + 400, 1, 0, 64, proto, 0, bytes([10, 0, i >> 8 & 255, i & 255]), bytes([10, 1, i & 255, 7]))
        et = b"\x08\x00"
    f = bytes.fromhex("66778899aabb001122334455") + et + ip + l4
    return f[:128] if len(f) > 128 else f
frames = [frame(i) for i in range(4096)]
recs = []
for f in frames:
    pad = b"\0" * ((4 - len(f) % 4) % 4)
    body = u32(1, len(f) + 420, 4, len(f)) + f + pad
    recs.append(u32(1, len(body)) + body)
per = 8
with open(out, "wb") as fp:
    fp.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    seq = {}
    for d in range(n // per):
        agent = 1 + d % 2
        seq[agent] = seq.get(agent, 0) + 1
        samples = b""
        for k in range(per):
            r = recs[rnd.randrange(4096)]
            s = u32(seq[agent] * per + k, 3, 100, (seq[agent] * per + k) * 100, 0, 3, 4, 1) + r
            samples += u32(1, len(s)) + s
        p = u32(5, 1) + bytes([192, 0, 2, agent]) + u32(0, seq[agent], 1000, per) + samples
        udp = struct.pack(">HHHH", 40000, 6343, 8 + len(p), 0) + p
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([192, 0, 2, agent]), bytes([127, 0, 0, 1]))
        fr = b"\0" * 12 + b"\x08\x00" + ip + udp
        fp.write(struct.pack("<IIII", 1700000000 + d // 10000, d % 10000 * 100, len(fr), len(fr)) + fr)
