# SPDX-License-Identifier: BSD-3-Clause
"""Soak and fault tests: nfacctd and sfacctd fed over loopback for a bounded time
(SOAK_SECONDS, default 50 s for nfacctd, half that for sfacctd) at a high paced rate
(SOAK_RATE valid datagrams per second, the denied exporter's included, default 10000;
invalid ones come on top) with a known mix of datagrams
from several 127.0.0.x exporters (NetFlow v5, v9 and IPFIX; sFlow v5), one denied
exporter (not in the allow file) and, interleaved, invalid datagrams of every kind
the decoders must refuse (truncated, bad and zero set or sample lengths, absurd
templates, bad IPFIX message lengths, short headers, unknown versions, garbage),
each built with the drop reason the daemon must count for it.

While it runs: SIGUSR2 several times (pre_tag_map and allow file rewritten in an
equivalent form each time: the "map successfully (re)loaded" lines must follow),
SIGHUP several times after renaming the log file as logrotate does (the daemon must
write to the new file), SIGUSR1; for nfacctd, the PostgreSQL server behind its pgsql
plugin is killed (`pg_ctl -m immediate`: no clean shutdown) and restarted twice.

Then SIGTERM: the daemon must exit 0 and flush everything.  The totals per key in
the print plugin's CSV (and, nfacctd, in the database) must equal the generator's
own tallies (computed here from what was sent, independently of the daemon).  The
kernel must have dropped nothing on the daemon's socket (/proc/net/udp `drops`; the
sender throttles on the socket's receive queue so that it does not overflow, and a
drop fails the test rather than being taken as a different total).  The daemon's
SIGUSR1 stats must count the denied datagrams and every drop reason exactly, and no
record lost between core and plugins; its RSS must plateau after warm-up; the log
must hold no error but the pgsql plugin's own while its server was down.

Environment: NFACCTD, SFACCTD (ours, default <repo>/build/...), SOAK_SECONDS,
SOAK_RATE.  A summary line is printed (pytest -s shows it); SOAK_RSS=1 adds the RSS
samples.
"""

import collections
import csv
import os
import random
import re
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import free_port, postgres_server, sf_frame, u32, wait_for

REPO = Path(__file__).resolve().parents[2]
NFACCTD = Path(os.environ.get("NFACCTD", REPO / "build" / "nfacctd"))
SFACCTD = Path(os.environ.get("SFACCTD", REPO / "build" / "sfacctd"))
ENV = dict(os.environ, TZ="UTC", LC_ALL="C")
SECONDS = os.environ.get("SOAK_SECONDS")
RATE = float(os.environ.get("SOAK_RATE", "10000"))

# NetFlow exporter address -> (export version, observation domain / engine id, tag)
EXPORTERS = {
    "127.0.0.2": (9, 0, 11),
    "127.0.0.3": (9, 7, 12),
    "127.0.0.4": (10, 1, 13),
    "127.0.0.5": (10, 2, 14),
    "127.0.0.6": (5, 0, 15),
    "127.0.0.7": (5, 3, 16),
}
DENIED = "127.0.0.9"            # valid traffic, not in the allow file
GARBAGE = "127.0.0.10"          # only invalid datagrams
CYCLE = 40                      # distinct valid datagrams per exporter, sent in a loop
RECORDS = 20                    # records per valid datagram
INVALID_EVERY = 6               # one invalid datagram after every 6 valid ones
SECS = 1700000000


# ---- the generator ------------------------------------------------------------
# NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) with one template: source and destination
# address, ports, protocol, octets, packets.

NF_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4)]
NF_REC = "!4s4sHHBII"
TPL_ID = 256


def nf_template_set(version, tid=TPL_ID, fields=NF_FIELDS, count=None):
    body = struct.pack("!HH", tid, len(fields) if count is None else count) + b"".join(
        struct.pack("!HH", t, n) for t, n in fields)
    return struct.pack("!HH", 0 if version == 9 else 2, 4 + len(body)) + body


def nf_message(version, domain, seq, sets, count=1):
    body = b"".join(sets)
    if version == 9:
        return struct.pack("!HHIIII", 9, count, 100000, SECS, seq, domain) + body
    return struct.pack("!HHIII", 10, 16 + len(body), SECS, seq, domain) + body


def nf_data_set(recs, tid=TPL_ID):
    data = b"".join(struct.pack(NF_REC, socket.inet_aton(s), socket.inet_aton(d), sp, dp, pr,
                                o, p) for s, d, sp, dp, pr, o, p in recs)
    return struct.pack("!HH", tid, 4 + len(data)) + data


def v5_message(engine, seq, recs):
    body = b"".join(struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", socket.inet_aton(s),
                                socket.inet_aton(d), bytes(4), 1, 2, p, o, 90000, 99000,
                                sp, dp, 0, 0x18, pr, 0, 0, 0, 24, 24, 0)
                    for s, d, sp, dp, pr, o, p in recs)
    return struct.pack("!HHIIIIBBH", 5, len(recs), 100000, SECS, 0, seq, 0, engine, 0) + body


def records(rnd, i):
    """RECORDS flow records of exporter number i, over a fixed set of keys."""
    recs = []
    for _ in range(RECORDS):
        src = f"10.{i}.{rnd.randrange(2)}.{rnd.randrange(1, 9)}"
        dst = f"172.16.0.{rnd.randrange(1, 5)}"
        recs.append((src, dst, rnd.randrange(1024, 65535), rnd.choice((53, 80, 443)),
                     rnd.choice((6, 17)), rnd.randrange(40, 100000), rnd.randrange(1, 100)))
    return recs


def valid_cycle(rnd, i, version, domain):
    """CYCLE datagrams (a template in every 10th for v9 / IPFIX) and, per datagram, its
    contribution {(src, dst, proto): [packets, bytes]}."""
    grams, contrib = [], []
    for n in range(CYCLE):
        recs = records(rnd, i)
        if version == 5:
            grams.append(v5_message(domain, n * RECORDS, recs))
        else:
            sets = [nf_template_set(version)] if n % 10 == 0 else []
            sets.append(nf_data_set(recs))
            grams.append(nf_message(version, domain, n if version == 9 else n * RECORDS, sets,
                                    len(sets)))
        c = collections.defaultdict(lambda: [0, 0])
        for s, d, _, _, pr, o, p in recs:
            c[(s, d, pr)][0] += p
            c[(s, d, pr)][1] += o
        contrib.append(dict(c))
    return grams, contrib


def invalid_datagrams(rnd, domain):
    """Datagrams that must change no total, each (payload, the drop reasons the
    daemon's SIGUSR1 stats must count for it).  They carry no decodable record:
    a data set is only ever cut short, or follows a template that must be
    refused.  v9 and IPFIX ones use `domain`, so that they hit the state of an
    exporter that sends valid traffic with the valid template (id 256) too."""
    rec = records(rnd, 0)
    data = nf_data_set(rec)
    bad = []
    for v in (9, 10):
        tset = 0 if v == 9 else 2
        whole = nf_message(v, domain, 1, [data])
        bad += [
            # truncated: the set (v9) or the IPFIX message runs beyond the datagram
            (whole[:len(whole) // 2], ["bad_set_length" if v == 9 else "bad_length"]),
            (whole[:12], ["short"]),                                    # within the header
            (nf_message(v, domain, 1, [struct.pack("!HH", TPL_ID, 2) + data[4:]]),
             ["bad_set_length"]),
            (nf_message(v, domain, 1, [struct.pack("!HH", TPL_ID, 0) + data[4:]]),
             ["bad_set_length"]),                                       # zero-length set
            (nf_message(v, domain, 1, [struct.pack("!HH", TPL_ID, len(data) + 40) + data[4:]]),
             ["bad_set_length"]),                                       # beyond the message
            (nf_message(v, domain, 1, [struct.pack("!HH", tset, 0) + bytes(64)]),
             ["bad_set_length"]),                                       # zero-length templates
            # a template claiming 65535 fields (id 300, never valid), then data for it
            (nf_message(v, domain, 1, [nf_template_set(v, 300, NF_FIELDS, 65535),
                                       nf_data_set(rec, 300)], 2),
             ["bad_template", "unknown_template"]),
            (nf_message(v, domain, 1, [nf_template_set(v, 301, [(8, 4), (1, 0)]),
                                       nf_data_set(rec, 301)], 2),
             ["bad_template", "unknown_template"]),                     # field length 0
            (nf_message(v, domain, 1, [nf_template_set(v, 5, NF_FIELDS)]), ["bad_template"]),
            (nf_message(v, domain, 1, [nf_data_set(rec, 999)]), ["unknown_template"]),
        ]
    ipfix = nf_message(10, domain, 1, [data])
    bad.append((ipfix[:2] + struct.pack("!H", len(ipfix) + 100) + ipfix[4:], ["bad_length"]))
    bad.append((ipfix[:2] + struct.pack("!H", 8) + ipfix[4:], ["bad_length"]))
    v5 = v5_message(0, 0, rec[:10])
    bad.append((v5[:2] + struct.pack("!H", 30) + v5[4:], ["bad_count"]))
    bad.append((v5[:2] + struct.pack("!H", 0) + v5[4:], ["bad_count"]))
    bad.append((v5[:20], ["short"]))
    for ver in (0, 2, 6, 8, 11, 0xffff):
        bad.append((struct.pack("!H", ver) + bytes(rnd.randrange(256) for _ in range(200)),
                    ["v8" if ver == 8 else "bad_version"]))
    bad.append((b"", ["short"]))
    bad.append((b"\x09", ["short"]))
    for _ in range(8):                  # garbage, whatever its first two bytes but a version
        body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(2, 1400)))
        while struct.unpack("!H", body[:2])[0] in (1, 5, 7, 8, 9, 10):
            body = bytes([rnd.randrange(256)]) + body[1:]
        bad.append((body, ["bad_version"]))
    return bad


class NfPlan:
    """Everything the sender sends to nfacctd, and the tallies of what it sent."""
    daemon = "nfacctd"

    def __init__(self, seed=1):
        rnd = random.Random(seed)
        self.exporters = {a: tag for a, (_, _, tag) in EXPORTERS.items()}
        self.grams, self.contrib = {}, {}
        for i, (addr, (version, domain, _)) in enumerate(EXPORTERS.items()):
            self.grams[addr], self.contrib[addr] = valid_cycle(rnd, i, version, domain)
        self.denied, _ = valid_cycle(rnd, 9, 9, 0)
        # per source: the exporters' own domains, 0 for the v5 ones and the garbage source
        self.invalid = {a: invalid_datagrams(rnd, domain if version != 5 else 0)
                        for a, (version, domain, _) in EXPORTERS.items()}
        self.invalid[GARBAGE] = invalid_datagrams(rnd, 0)
        self.drops = collections.Counter()      # reason -> datagrams the daemon must refuse
        self.sent = {a: [0] * CYCLE for a in self.exporters}
        self.sent_denied = self.sent_invalid = self.sent_total = 0

    def tallies(self):
        """{(tag, exporter, src, dst, proto): [packets, bytes]} of the valid traffic sent."""
        t = collections.defaultdict(lambda: [0, 0])
        for addr, counts in self.sent.items():
            tag = self.exporters[addr]
            for n, times in enumerate(counts):
                for (s, d, pr), (p, b) in self.contrib[addr][n].items():
                    t[(tag, addr, s, d, pr)][0] += p * times
                    t[(tag, addr, s, d, pr)][1] += b * times
        return dict(t)

    def records_sent(self):
        return sum(sum(c) for c in self.sent.values()) * RECORDS

    def stats(self, block):
        """From a SIGUSR1 block of the log: ({agent:domain: records}, {drop reason: count}),
        summed over every exporter and version."""
        recs, drops = collections.Counter(), collections.Counter()
        for m in re.finditer(r"stats \[\S+\] agent=(\S+) .* records=(\d+)(.*)$", block, re.M):
            recs[m.group(1)] += int(m.group(2))     # one line per version too
            for reason, n in re.findall(r"drop_(\w+)=(\d+)", m.group(3)):
                drops[reason] += int(n)
        return recs, drops

    def check_stats(self, block):
        recs, drops = self.stats(block)
        for a, (_, domain, _) in EXPORTERS.items():
            assert recs.get(f"{a}:{domain}") == sum(self.sent[a]) * RECORDS, (a, block[:3000])
        # every invalid datagram refused, for the reason it was built with
        assert drops == self.drops, (drops, self.drops)


# ---- sFlow v5 (sflow.org, sFlow version 5): flow samples of one raw Ethernet header each

SF_AGENTS = {"127.0.0.2": (0, 21), "127.0.0.3": (1, 22), "127.0.0.4": (7, 23),
             "127.0.0.5": (2, 24)}         # agent address -> (sub-agent id, tag)
SF_SAMPLES = 10                             # flow samples per valid datagram


def sf_flow_sample(seq, frame, frame_len, nrec=1, rec_len=None):
    hdr = frame + b"\0" * ((4 - len(frame) % 4) % 4)
    rec = u32(1, 16 + len(hdr) if rec_len is None else rec_len, 1, frame_len, 4,
              len(frame)) + hdr
    body = u32(seq, 3, 1, seq, 0, 3, 4, nrec) + rec
    return u32(1, len(body)) + body


def sf_datagram(agent, sub, seq, samples, nsamples=None, version=5, af=1):
    return (u32(version, af) + socket.inet_aton(agent) +
            u32(sub, seq, 1000, len(samples) if nsamples is None else nsamples) +
            b"".join(samples))


def sf_valid_cycle(rnd, i, agent, sub):
    grams, contrib = [], []
    for n in range(CYCLE):
        samples, c = [], collections.defaultdict(lambda: [0, 0])
        for k in range(SF_SAMPLES):
            src = f"10.{i}.{rnd.randrange(2)}.{rnd.randrange(1, 9)}"
            dst = f"172.16.0.{rnd.randrange(1, 5)}"
            payload = rnd.randrange(10, 1000)
            frame_len = 14 + 28 + payload + 4
            samples.append(sf_flow_sample(n * SF_SAMPLES + k,
                                          sf_frame(src, dst, rnd.randrange(1024, 65535), payload),
                                          frame_len))
            c[(src, dst, 17)][0] += 1
            c[(src, dst, 17)][1] += frame_len
        grams.append(sf_datagram(agent, sub, n + 1, samples))
        contrib.append(dict(c))
    return grams, contrib


def sf_invalid_datagrams(rnd, agent, sub):
    """sFlow datagrams that must change no total, each with its drop reason (the names
    of sfacctd's SIGUSR1 "discarded:" lines).  None holds a good sample before its
    fault (those samples would be kept, as pmacct keeps them)."""
    fr = sf_frame("10.99.0.1", "172.16.0.1", 1000, 100)
    good = sf_flow_sample(1, fr, 146)
    whole = sf_datagram(agent, sub, 1, [good])
    bad = [
        (whole[:20], "short datagram header"),
        (b"", "short datagram header"),
        (b"\x05", "short datagram header"),
        (sf_datagram(agent, sub, 1, [good], version=3), "unsupported version"),
        (sf_datagram(agent, sub, 1, [good], version=6), "unsupported version"),
        (sf_datagram(agent, sub, 1, [good], version=0), "unsupported version"),
        (sf_datagram(agent, sub, 1, [good], af=7), "bad agent address type"),
        (sf_datagram(agent, sub, 1, [], nsamples=3), "sample count past the end"),
        (whole[:len(whole) - 30], "sample length past the end"),     # truncated
        (sf_datagram(agent, sub, 1, [u32(1, 1000) + bytes(40)]), "sample length past the end"),
        (sf_datagram(agent, sub, 1, [u32(1, 8) + u32(1, 3)]), "sample shorter than its fields"),
        (sf_datagram(agent, sub, 1, [sf_flow_sample(1, fr, 146, nrec=5)]),
         "record count past the sample"),
        (sf_datagram(agent, sub, 1, [sf_flow_sample(1, fr, 146, rec_len=4000)]),
         "record length past the sample"),
        (sf_datagram(agent, sub, 1, [u32(1, 48, 1, 3, 1, 1, 0, 3, 4, 1, 1, 8, 1, 146)]),
         "record shorter than its fields"),
    ]
    for _ in range(6):                  # garbage, whatever its first word but a version
        body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(4, 1400)))
        while struct.unpack(">I", body[:4])[0] in (2, 4, 5):
            body = bytes([rnd.randrange(256)]) + body[1:]
        bad.append((body, "unsupported version"))
    return [(payload, [reason]) for payload, reason in bad]


class SfPlan:
    """Everything the sender sends to sfacctd, and the tallies of what it sent.  Each
    agent sends from its own address, so the pre_tag_map and allow file see the same."""
    daemon = "sfacctd"

    def __init__(self, seed=2):
        rnd = random.Random(seed)
        self.exporters = {a: tag for a, (_, tag) in SF_AGENTS.items()}
        self.grams, self.contrib = {}, {}
        for i, (addr, (sub, _)) in enumerate(SF_AGENTS.items()):
            self.grams[addr], self.contrib[addr] = sf_valid_cycle(rnd, i, addr, sub)
        self.denied, _ = sf_valid_cycle(rnd, 9, DENIED, 0)
        self.invalid = {a: sf_invalid_datagrams(rnd, a, sub) for a, (sub, _) in SF_AGENTS.items()}
        self.invalid[GARBAGE] = sf_invalid_datagrams(rnd, GARBAGE, 0)
        self.drops = collections.Counter()
        self.sent = {a: [0] * CYCLE for a in self.exporters}
        self.sent_denied = self.sent_invalid = self.sent_total = 0

    tallies = NfPlan.tallies

    def records_sent(self):
        return sum(sum(c) for c in self.sent.values()) * SF_SAMPLES

    def check_stats(self, block):
        drops = collections.Counter({m.group(1): int(m.group(2)) for m in re.finditer(
            r"stats \[\S+\] discarded: (.+)=(\d+)$", block, re.M)})
        assert drops == self.drops, (drops, self.drops)
        m = re.search(r"discarded_packets=(\d+)", block)
        assert m and int(m.group(1)) == self.sent_invalid, block[:3000]
        m = re.search(r"flow_samples=(\d+)", block)
        assert m and int(m.group(1)) == self.records_sent(), block[:3000]


# ---- the kernel's view of the daemon's socket ------------------------------------

def udp_socket_line(port):
    """(rx_queue bytes, drops) of the UDP socket bound to 127.0.0.1:port, or None."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/udp") as f:
        for line in f:
            p = line.split()
            if len(p) > 12 and p[1] == want:
                return int(p[4].split(":")[1], 16), int(p[12])
    return None


def snmp_udp():
    with open("/proc/net/snmp") as f:
        rows = [ln.split() for ln in f if ln.startswith("Udp:")]
    return dict(zip(rows[0][1:], map(int, rows[1][1:])))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sender(threading.Thread):
    """Paced round robin over the exporters, one invalid datagram after every
    INVALID_EVERY valid ones.  Each exporter sends from its own bound socket.
    Throttles (sleeps) while the daemon's socket holds more than `high` bytes,
    so the kernel never has to drop: the rate is what the daemon sustains, up
    to RATE."""

    def __init__(self, plan, port, high):
        super().__init__(daemon=True)
        self.plan, self.port, self.high = plan, port, high
        self.stop = threading.Event()
        self.throttled = 0.0
        self.error = None

    def run(self):
        try:
            self._run()
        except Exception as e:          # reported by the test
            self.error = e

    def _run(self):
        plan, dest = self.plan, ("127.0.0.1", self.port)
        addrs = list(plan.exporters) + [DENIED, GARBAGE]
        socks = {}
        for a in addrs:
            socks[a] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks[a].bind((a, 0))
        rnd = random.Random(5)
        exporters = list(plan.exporters)
        cursor = dict.fromkeys(exporters, 0)
        dcur = 0
        n = 0
        start = time.monotonic()
        next_check = start
        try:
            while not self.stop.is_set():
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + 0.01
                    q = udp_socket_line(self.port)
                    if q and q[0] > self.high:
                        t0 = time.monotonic()
                        while not self.stop.is_set():
                            time.sleep(0.002)
                            q = udp_socket_line(self.port)
                            if not q or q[0] <= self.high // 2:
                                break
                        self.throttled += time.monotonic() - t0
                        start += time.monotonic() - t0      # no catching up afterwards
                due = int((time.monotonic() - start) * RATE)
                if n >= due:
                    time.sleep(0.001)
                    continue
                for _ in range(min(due - n, 64)):
                    k = n % (len(exporters) + 1)
                    if k < len(exporters):
                        a = exporters[k]
                        c = cursor[a]
                        socks[a].sendto(plan.grams[a][c], dest)
                        plan.sent[a][c] += 1
                        cursor[a] = (c + 1) % CYCLE
                    else:
                        socks[DENIED].sendto(plan.denied[dcur], dest)
                        plan.sent_denied += 1
                        dcur = (dcur + 1) % CYCLE
                    n += 1
                    plan.sent_total += 1
                    if n % INVALID_EVERY == 0:
                        src = rnd.choice(exporters + [GARBAGE])
                        payload, reasons = rnd.choice(plan.invalid[src])
                        socks[src].sendto(payload, dest)
                        plan.drops.update(reasons)
                        plan.sent_invalid += 1
                        plan.sent_total += 1
        finally:
            for s in socks.values():
                s.close()


# ---- the run ---------------------------------------------------------------------

@pytest.fixture
def pg():
    with postgres_server("pmng-soak-") as srv:
        yield srv


def pretag_text(plan, order):
    lines = [f"set_tag={tag} ip={a}\n" for a, tag in plan.exporters.items()]
    return "".join(lines if order % 2 == 0 else reversed(lines))


def allow_text(plan, order):
    lines = [f"{a}\n" for a in plan.exporters] + [f"{GARBAGE}\n"]
    return "".join(lines if order % 2 == 0 else reversed(lines))


def write_atomic(path, text):
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text)
    os.replace(tmp, path)


PROTOS = {"tcp": 6, "udp": 17}


def print_totals(path):
    got = collections.defaultdict(lambda: [0, 0])
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["TAG"] == "TAG":       # the header again, each purge appends one
                continue
            k = (int(r["TAG"]), r["PEER_SRC_IP"], r["SRC_IP"], r["DST_IP"],
                 PROTOS[r["PROTOCOL"]])
            got[k][0] += int(r["PACKETS"])
            got[k][1] += int(r["BYTES"])
    return dict(got)


def pg_totals(pg):
    try:
        rows = pg.psql("SELECT tag, ip_src, ip_dst, ip_proto, SUM(packets), SUM(bytes) "
                       "FROM acct_soak GROUP BY tag, ip_src, ip_dst, ip_proto",
                       db="pmacct", user="pmacct")
    except subprocess.CalledProcessError as e:
        raise AssertionError(f"psql: {e.stderr}") from None
    return {(int(t), s, d, int(pr)): [int(p), int(b)] for t, s, d, pr, p, b in rows}


PGSQL_WHO = "( soak/pgsql )"


class Soak:
    """One soak run of `binary` fed by `plan` for `seconds`; with `pg`, a pgsql plugin
    too and its server killed and restarted twice.  Keeps everything to check."""

    def __init__(self, binary, plan, tmp, seconds, pg=None):
        self.binary, self.plan, self.tmp, self.seconds, self.pg = binary, plan, tmp, seconds, pg
        self.port = free_port()
        self.pretag, self.allow = tmp / "pretag.map", tmp / "allow.lst"
        self.csv, self.log, self.conf = tmp / "out.csv", tmp / "daemon.log", tmp / "daemon.conf"
        self.stderr = tmp / "stderr"
        self.logs = [self.log]          # every log file, oldest first (renamed as logrotate does)
        self.rss, self.events = [], []
        self.rcvbuf = 8 << 20
        d = plan.daemon
        write_atomic(self.pretag, pretag_text(plan, 0))
        write_atomic(self.allow, allow_text(plan, 0))
        conf = f"""{d}_ip: 127.0.0.1
{d}_port: {self.port}
{d}_pipe_size: {self.rcvbuf}
{d}_allow_file: {self.allow}
pre_tag_map: {self.pretag}
logfile: {self.log}
plugin_buffer_size: 65536
plugin_pipe_size: 33554432
plugins: print[csv]{", pgsql[soak]" if pg else ""}
aggregate[csv]: tag, peer_src_ip, src_host, dst_host, proto
print_output[csv]: csv
print_output_file[csv]: {self.csv}
print_output_file_append[csv]: true
print_refresh_time[csv]: 5
"""
        if pg:
            conf += f"""aggregate[soak]: tag, src_host, dst_host, proto
{pg.conf()}sql_table[soak]: acct_soak
sql_table_version[soak]: 9
sql_num_protos[soak]: true
sql_refresh_time[soak]: 2
sql_history[soak]: 1h
sql_history_roundoff[soak]: h
"""
        self.conf.write_text(conf)

    def text(self, path=None):
        path = path or self.log
        return path.read_text(errors="replace") if path.exists() else ""

    def schedule(self):
        todo = ([(f, "usr2") for f in (0.1, 0.3, 0.5, 0.7, 0.9)] +
                [(f, "hup") for f in (0.2, 0.6, 0.8)] + [(f, "usr1") for f in (0.25, 0.55)])
        if self.pg:
            todo += [(0.3, "pg_kill"), (0.42, "pg_start"), (0.65, "pg_kill"), (0.75, "pg_start")]
        return sorted(todo)

    def event(self, what, proc):
        if what == "usr2":
            self.reloads += 1
            write_atomic(self.pretag, pretag_text(self.plan, self.reloads))
            write_atomic(self.allow, allow_text(self.plan, self.reloads))
            proc.send_signal(signal.SIGUSR2)
        elif what == "hup":
            old = self.tmp / f"daemon.log.{len(self.logs)}"
            os.rename(self.log, old)
            self.logs.insert(-1, old)
            proc.send_signal(signal.SIGHUP)
            # the daemon opens a new file at the configured path, and writes there
            assert wait_for(self.log.exists), self.text(old)[-3000:]
            proc.send_signal(signal.SIGUSR1)
            assert wait_for(lambda: "stats [" in self.text()), self.text(old)[-3000:]
        elif what == "usr1":
            proc.send_signal(signal.SIGUSR1)
        elif what == "pg_kill":
            self.pg.stop("immediate")
            self.pg_down = True
        elif what == "pg_start":
            self.pg.start()
            self.pg_down = False

    def run(self):
        plan = self.plan
        self.snmp0 = snmp_udp()
        with open(self.stderr, "w") as ef:
            proc = subprocess.Popen([str(self.binary), "-f", str(self.conf)], stdout=ef,
                                    stderr=ef, env=ENV, start_new_session=True)
        # the socket's buffer: as asked when root (SO_RCVBUFFORCE), else capped by rmem_max
        with open("/proc/sys/net/core/rmem_max") as f:
            eff = self.rcvbuf if os.geteuid() == 0 else min(self.rcvbuf, int(f.read()))
        self.sender = sender = Sender(plan, self.port, eff // 4)
        self.pg_down, self.reloads = False, 0
        try:
            ready = "waiting for NetFlow" if plan.daemon == "nfacctd" else "waiting for sFlow"
            assert wait_for(lambda: ready in self.text()), self.text() + self.stderr.read_text()
            drops0 = udp_socket_line(self.port)[1]
            t0 = time.monotonic()
            sender.start()
            todo = self.schedule()
            while time.monotonic() - t0 < self.seconds:
                el = time.monotonic() - t0
                self.rss.append((el, rss_kb(proc.pid)))
                while todo and el >= todo[0][0] * self.seconds:
                    _, what = todo.pop(0)
                    self.events.append((round(el, 1), what))
                    self.event(what, proc)
                assert proc.poll() is None, self.text()[-3000:] + self.stderr.read_text()[-3000:]
                assert sender.is_alive(), sender.error
                time.sleep(0.5)
            sender.stop.set()
            sender.join(10)
            assert sender.error is None, sender.error
            self.elapsed = time.monotonic() - t0
            # drained: nothing left in the socket; what the kernel dropped on it
            assert wait_for(lambda: udp_socket_line(self.port)[0] == 0, 30)
            self.kernel_drops = udp_socket_line(self.port)[1] - drops0
            mark = len(self.text())
            proc.send_signal(signal.SIGUSR1)

            def settled():      # per-exporter lines follow from the receive thread's wake-up
                block = self.text()[mark:]
                try:
                    plan.check_stats(block)
                except AssertionError:
                    return False
                return "denied=" in block and block.count("stats plugin") == 1 + bool(self.pg)
            wait_for(settled, 20, step=0.2)
            time.sleep(0.2)
            self.final = self.text()[mark:]
            self.rss.append((time.monotonic() - t0, rss_kb(proc.pid)))
            proc.send_signal(signal.SIGTERM)
            proc.wait(90)
        finally:
            sender.stop.set()
            if self.pg_down:
                self.pg.start()
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.rc = proc.returncode
        self.snmp1 = snmp_udp()
        self.alllog = "".join(self.text(p) for p in self.logs)
        self.err = self.stderr.read_text(errors="replace")
        return self

    def check(self):
        """What every soak must show; returns the generator's tallies."""
        plan, alllog, final = self.plan, self.alllog, self.final
        # no crash, no sanitizer report, no error but the pgsql plugin's while its server was away
        assert self.rc == 0, alllog[-3000:] + self.err[-3000:]
        assert not re.search(r"Sanitizer|runtime error", self.err + alllog), self.err[-3000:]
        others = [ln for ln in alllog.splitlines() if "ERROR" in ln and PGSQL_WHO not in ln]
        assert not others, "\n".join(others[:20])
        # the kernel dropped nothing on the daemon's socket (else the totals could not be
        # compared: lower SOAK_RATE)
        assert self.kernel_drops == 0, (self.kernel_drops, self.snmp0, self.snmp1)
        # every log file got lines: the daemon wrote to each one after its SIGHUP
        assert len(self.logs) == 4
        for p in self.logs[1:]:
            assert "stats [" in self.text(p), p
        # SIGUSR2: each reload of both maps succeeded
        for path in (self.pretag, self.allow):
            assert alllog.count(f"[{path}] map successfully (re)loaded") >= 5, alllog[-3000:]
        # the last stats: the denied exporter's datagrams, every one; the decoders' own
        # counters; no record dropped between the core and the plugins
        assert f"denied={plan.sent_denied} " in final, final[:3000]
        plan.check_stats(final)
        stats = re.findall(r"stats plugin \[(\S+)\] records=(\d+) \S+ dropped_records=(\d+)",
                           final)
        assert sorted(p for p, _, _ in stats) == ["csv/print"] + ["soak/pgsql"] * bool(self.pg)
        assert all(r == str(plan.records_sent()) and d == "0" for _, r, d in stats), stats
        # the totals per key in the CSV
        want = plan.tallies()
        got = print_totals(self.csv)
        assert sum(v[1] for v in got.values()) == sum(v[1] for v in want.values())
        assert got == want, (len(got), len(want))
        # memory plateaus: after a warm-up of a fifth of the run, the second half's peak is
        # within 4 MiB (or 5 %) of the first half's
        # (not under AddressSanitizer: its quarantine of freed memory grows by design)
        steady = [(t, kb) for t, kb in self.rss if t >= self.seconds / 5]
        half = len(steady) // 2
        self.rss_first = max(kb for _, kb in steady[:half])
        self.rss_second = max(kb for _, kb in steady[half:])
        self.rss_warm = steady[0][1]
        self.asan = b"__asan_init" in self.binary.read_bytes()
        if not self.asan:
            assert self.rss_second <= self.rss_first + max(4096, self.rss_first // 20), self.rss
        return want

    def summary(self):
        plan, el, rec = self.plan, self.elapsed, self.plan.records_sent()
        valid = sum(map(sum, plan.sent.values()))
        print(f"\nsoak {plan.daemon}: {el:.1f} s, sent {plan.sent_total} datagrams "
              f"({plan.sent_total / el:.0f}/s; target {RATE:.0f}/s valid+denied, throttled "
              f"{self.sender.throttled:.1f} s): {valid} valid with {rec} records "
              f"({rec / el:.0f}/s), {plan.sent_denied} denied, {plan.sent_invalid} invalid; "
              f"keys {len(plan.tallies())}; kernel drops {self.kernel_drops}, records lost 0; "
              f"RSS start {self.rss[0][1]} kB, after warm-up {self.rss_warm} kB, first-half "
              f"max {self.rss_first} kB, second-half max {self.rss_second} kB, end "
              f"{self.rss[-1][1]} kB{' (ASan: not checked)' if self.asan else ''}; "
              f"events {self.events}")
        if os.environ.get("SOAK_RSS"):
            print("rss:", " ".join(f"{t:.0f}:{kb}" for t, kb in self.rss[::4]))


# ---- the tests -------------------------------------------------------------------

@pytest.mark.skipif(not os.access(NFACCTD, os.X_OK), reason=f"nfacctd not built at {NFACCTD}")
def test_nfacctd_soak_signals_and_db_restarts(tmp_path, pg):
    soak = Soak(NFACCTD, NfPlan(), tmp_path, float(SECONDS or 50), pg).run()
    want = soak.check()
    assert "ERROR" in soak.alllog, "the pgsql plugin never noticed its server was killed"
    want_db = {(t, s, d, pr): v for (t, _, s, d, pr), v in want.items()}
    got_db = pg_totals(pg)
    assert sum(v[1] for v in got_db.values()) == sum(v[1] for v in want_db.values())
    assert got_db == want_db
    soak.summary()


@pytest.mark.skipif(not os.access(SFACCTD, os.X_OK), reason=f"sfacctd not built at {SFACCTD}")
def test_sfacctd_soak_signals(tmp_path):
    soak = Soak(SFACCTD, SfPlan(), tmp_path, float(SECONDS or 25)).run()
    soak.check()
    soak.summary()
