# SPDX-License-Identifier: BSD-3-Clause
"""kafka and amqp plugins end to end.

Kafka: tests/tools/kafka_mock (built next to pmacctd) runs a librdkafka
mock cluster and prints what it consumes.  RabbitMQ: a throw-away
rabbitmq-server node on loopback, in a temporary directory, with a durable
queue bound to the exchange from a definitions file; consumed with pika.

  A. a generated capture published as JSON: the consumed messages summed
     equal the generator's tallies (per src, dst, proto);
  B. *_multi_values, markers, writer_id, partition key;
  C. the JSON matches Debian's pmacctd 1.7.7 for the same capture on the
     same RabbitMQ (field names and order, event_type, writer_id, markers);
  D. faults: broker down at start, broker restarted mid-run: nothing lost.
  E. message ids: every message carries "<writer_id>:<purge seq>:
     <index>" outside the payload (AMQP message_id and headers, Kafka
     headers), unique; a broker that confirms late or loses the confirms with
     the connection (a proxy in between) makes the plugin publish again, and
     a consumer that drops replays by id (examples/amqp_dedup_consumer.py)
     sums exactly the capture; started together with a fresh broker, a
     50,000-packet capture arrives exactly once.
"""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import (DAEMON_ENV, PMACCTD, RABBIT_BIN, REF_PMACCTD, BIG_BUFFERS, Rabbit,
                      import_or_skip, plugin_supported, retry_reference, skip_or_fail,
                      write_netflow_v5_pcap)

DEDUP_CONSUMER = Path(__file__).resolve().parents[2] / "examples" / "amqp_dedup_consumer.py"
ID_RE = re.compile(r"(.+):(\d+):(\d+)")



def start_daemon(workdir, conf):
    path = Path(workdir) / "pm.conf"
    path.write_text(conf)
    log = open(Path(workdir) / "pm.log", "w")
    return subprocess.Popen([str(PMACCTD), "-f", str(path)], stdout=log,
                            stderr=subprocess.STDOUT, env=DAEMON_ENV)


def finish_daemon(p, stop=False, timeout=120):
    """Wait for the daemon to end (capture read); with stop, ask it to (SIGINT) first."""
    if stop and p.poll() is None:
        p.send_signal(signal.SIGINT)
    return p.wait(timeout=timeout)


def gen_capture(pcapgen):
    return pcapgen(20_000, 300, seed=7)


def expected(tallies):
    exp = {}
    for f in tallies["flows"]:
        k = (f["src"], f["dst"], int(f["proto"]))
        p, b = exp.get(k, (0, 0))
        exp[k] = (p + f["packets"], b + f["bytes"])
    return exp


def summed(messages):
    """Purge events of JSON messages (one or several per message) summed per key."""
    got = {}
    for m in messages:
        for line in m.split("\n"):
            o = json.loads(line)
            if o["event_type"] != "purge":
                continue
            k = (o["ip_src"], o["ip_dst"], int(o["ip_proto"]))
            p, b = got.get(k, (0, 0))
            got[k] = (p + o["packets"], b + o["bytes"])
    return got


def check_ids(msgs):
    """msgs: [(message id, payload)].  Every message has an id naming the writer_id of its
    JSON; the ids are unique; within a purge (writer, seq) the indexes run 0, 1, 2, ...
    in publishing order.  Returns the purges: {(writer, seq): count}."""
    ids = [i for i, _ in msgs]
    assert None not in ids and len(set(ids)) == len(ids)
    purges = {}
    for mid, body in msgs:
        wid, seq, idx = ID_RE.fullmatch(mid).groups()
        assert all(json.loads(line)["writer_id"] == wid for line in body.split("\n"))
        n = purges.get((wid, int(seq)), 0)
        assert int(idx) == n, (mid, n)
        purges[(wid, int(seq))] = n + 1
    return purges


def kafka_conf(k, pcap, workdir, extra=""):
    return (f"pcap_savefile: {pcap}\nplugins: kafka[k]\n"
            "aggregate[k]: src_host, dst_host, proto\nkafka_num_protos: true\n"
            f"kafka_broker_host: {k.host}\nkafka_broker_port: {k.port}\n"
            f"kafka_spool_file: {workdir}/k.spool\n" + BIG_BUFFERS + extra)


def test_kafka_totals(kafka, pcapgen, tmp_path):
    pcap, tallies = gen_capture(pcapgen)
    p = start_daemon(tmp_path, kafka_conf(kafka, pcap, tmp_path, "kafka_markers: true\n"))
    assert finish_daemon(p) == 0, (tmp_path / "pm.log").read_text()
    msgs = kafka.payloads(want=1)
    assert summed(m[2] for m in msgs) == expected(tallies)
    events = [json.loads(m[2])["event_type"] for m in msgs]
    assert events[0] == "purge_init" and events[-1] == "purge_close"
    close = json.loads(msgs[-1][2])
    assert close["purged_entries"] == len(expected(tallies)) == len(msgs) - 2
    assert close["writer_id"] == f"k/{p.pid}"
    first = json.loads(msgs[1][2])
    assert list(first)[0] == "event_type" and list(first)[-1] == "writer_id"
    assert all(m[0] == "pmacct.acct" for m in msgs)
    # one purge, every message with its id in the headers
    assert list(check_ids([(m[3], m[2]) for m in msgs]).values()) == [len(msgs)]


def test_kafka_multi_values_topic_key(kafka, pcapgen, tmp_path):
    pcap, tallies = gen_capture(pcapgen)
    conf = kafka_conf(kafka, pcap, tmp_path, "kafka_multi_values: 50\nkafka_topic: t$post_tag\n"
                      "post_tag: 42\nkafka_partition_key: key$post_tag\n")
    p = start_daemon(tmp_path, conf)
    assert finish_daemon(p) == 0, (tmp_path / "pm.log").read_text()
    msgs = kafka.payloads(want=1)
    n = len(expected(tallies))
    assert len(msgs) == (n + 49) // 50
    assert all(m[0] == "t42" and m[1] == "key42" for m in msgs)
    assert summed(m[2] for m in msgs) == expected(tallies)
    assert list(check_ids([(m[3], m[2]) for m in msgs]).values()) == [len(msgs)]


def test_kafka_outage(kafka, pcapgen, tmp_path):
    """Brokers down at start and while the data is purged; back later: nothing lost."""
    pcap, tallies = gen_capture(pcapgen)
    kafka.cmd("down")
    time.sleep(0.5)
    conf = kafka_conf(kafka, pcap, tmp_path, "kafka_shutdown_wait: 60\nkafka_queue_max: 100\n")
    p = start_daemon(tmp_path, conf)
    time.sleep(8)                   # purged at the end of the capture, queued / spooled
    assert kafka.payloads(settle=0.5) == []
    kafka.cmd("up")
    assert finish_daemon(p) == 0
    log = (tmp_path / "pm.log").read_text()
    assert "broker unavailable" in log and "spooled" in log
    msgs = kafka.payloads(want=1)
    assert summed(m[2] for m in msgs) == expected(tallies)
    assert len(msgs) == len(expected(tallies))      # once each
    check_ids([(m[3], m[2]) for m in msgs])         # ids kept through the spool


def test_kafka_shutdown_reports_undelivered(kafka, pcapgen, tmp_path):
    pcap, tallies = gen_capture(pcapgen)
    kafka.cmd("down")
    time.sleep(0.5)
    conf = kafka_conf(kafka, pcap, tmp_path, "kafka_shutdown_wait: 2\n")
    p = start_daemon(tmp_path, conf)
    assert finish_daemon(p) == 2            # kept in the spool, not delivered: status 2
    log = (tmp_path / "pm.log").read_text()
    n = len(expected(tallies))
    assert f"{n} messages not delivered" in log and (tmp_path / "k.spool").stat().st_size > 0
    assert "Exiting with status 2: some data was not delivered" in log
    # the next run delivers the spool first
    kafka.cmd("up")
    p = start_daemon(tmp_path, kafka_conf(kafka, pcap, tmp_path))
    assert finish_daemon(p) == 0
    msgs = kafka.payloads(want=2 * n)
    assert summed(m[2] for m in msgs) == {k: (2 * v[0], 2 * v[1])
                                          for k, v in expected(tallies).items()}
    assert not (tmp_path / "k.spool").exists()
    # two runs, two writers (pids): the first run's messages keep their ids through the spool
    assert len(check_ids([(m[3], m[2]) for m in msgs])) == 2


def amqp_conf(r, pcap, workdir, extra=""):
    return (f"pcap_savefile: {pcap}\nplugins: amqp[a]\n"
            "aggregate[a]: src_host, dst_host, proto\namqp_num_protos: true\n"
            f"amqp_host: 127.0.0.1\namqp_port: {r.port}\n"
            f"amqp_spool_file: {workdir}/a.spool\n" + BIG_BUFFERS + extra)


def test_amqp_totals(rabbit, pcapgen, tmp_path):
    pcap, tallies = gen_capture(pcapgen)
    rabbit.drain(0.5)
    p = start_daemon(tmp_path, amqp_conf(rabbit, pcap, tmp_path, "amqp_markers: true\n"))
    assert finish_daemon(p) == 0, (tmp_path / "pm.log").read_text()
    msgs = rabbit.drain()
    assert summed(b for _, b in msgs) == expected(tallies)
    assert all(pr.content_type == "application/json" for pr, _ in msgs)
    assert json.loads(msgs[0][1]) == {"event_type": "purge_init", "writer_id": f"a/{p.pid}"}
    assert json.loads(msgs[-1][1])["purged_entries"] == len(msgs) - 2
    # the ids: message_id, and the same in headers
    assert list(check_ids([(pr.message_id, b) for pr, b in msgs]).values()) == [len(msgs)]
    for pr, _ in msgs:
        wid, seq, idx = ID_RE.fullmatch(pr.message_id).groups()
        assert pr.headers == {"writer_id": wid, "purge_seq": int(seq), "msg_index": int(idx)}


def norm(body, wids):
    o = json.loads(body)
    o.pop("stamp_updated", None)
    if "writer_id" in o:
        assert re.fullmatch(r"a/\d+", o["writer_id"])
        wids.add(o["writer_id"])
        o["writer_id"] = "a/PID"
    return json.dumps(o)        # keeps the field order


def test_amqp_same_json_as_pmacct(rabbit, pcapgen, tmp_path):
    """Debian's pmacctd 1.7.7 and ours publish the same messages for the same capture."""
    if not os.access(REF_PMACCTD, os.X_OK):
        skip_or_fail(f"reference pmacctd missing at {REF_PMACCTD}")
    if not rabbit.ref_port:
        pytest.skip("port 5672 (the reference's fixed AMQP port) unavailable")
    pcap, _ = pcapgen(2_000, 50, seed=3)
    conf = (f"pcap_savefile: {pcap}\nplugins: amqp[a]\n"
            "aggregate[a]: src_host, dst_host, proto, src_port, tos\namqp_host[a]: 127.0.0.1\n"
            "amqp_markers[a]: true\namqp_history[a]: 5m\namqp_history_roundoff[a]: m\n"
            "amqp_refresh_time[a]: 3600\n" + BIG_BUFFERS)

    def publish(binary):
        """(normalised bodies, their properties, the writer ids) of one run."""
        rabbit.drain(0.5)
        (tmp_path / "c.conf").write_text(conf)
        p = subprocess.run([str(binary), "-f", str(tmp_path / "c.conf")], env=DAEMON_ENV,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        msgs, wids = rabbit.drain(), set()
        bodies = [norm(b, wids) for _, b in msgs]
        return bodies, [(pr.content_type, pr.delivery_mode) for pr, _ in msgs], wids
    # purges fall on wall-clock multiples of the refresh time: a run that straddles one
    # purges twice (two writer ids), so such a run of ours is made again (once)
    ours, our_props, wids = publish(PMACCTD)
    if len(wids) != 1:
        ours, our_props, wids = publish(PMACCTD)
    assert len(wids) == 1       # one writer_id per purge
    # 1.7.7 again (conftest.retry_reference) while it straddled one or its messages are not ours
    ref, ref_props, ref_wids = retry_reference(
        lambda i: publish(REF_PMACCTD), lambda r: len(r[2]) == 1 and sorted(r[0]) == sorted(ours),
        what="pmacctd 1.7.7 (amqp)")
    assert len(ref_wids) == 1
    assert ref[0] == ours[0] and ref[-1] == ours[-1]         # markers
    assert sorted(ref) == sorted(ours)
    assert set(ref_props) == set(our_props) == {("application/json", None)}


def test_amqp_restart_mid_run(rabbit, pcapgen, tmp_path):
    """The broker goes away after delivery started and the data is purged while it is
    down; it comes back: every entry arrives."""
    pcap, tallies = gen_capture(pcapgen)
    rabbit.drain(0.5)
    conf = amqp_conf(rabbit, pcap, tmp_path,
                     "pcap_savefile_wait: true\npcap_savefile_delay: 8\namqp_refresh_time: 2\n"
                     "amqp_markers: true\namqp_persistent_msg: true\namqp_queue_max: 100\n"
                     "amqp_shutdown_wait: 60\n")
    p = start_daemon(tmp_path, conf)
    time.sleep(4.5)            # connected, a purge or two (markers only) delivered
    rabbit.stop()
    time.sleep(8)              # the capture is read and purged while the broker is down
    rabbit.start()
    time.sleep(6)
    assert finish_daemon(p, stop=True) == 0
    log = (tmp_path / "pm.log").read_text()
    assert "broker unavailable" in log
    msgs = rabbit.drain()
    assert summed(b for _, b in msgs) == expected(tallies)
    # each message once: the purges' markers count exactly the entries received
    events = [json.loads(b) for _, b in msgs]
    purged = sum(e["purged_entries"] for e in events if e["event_type"] == "purge_close")
    assert purged == sum(e["event_type"] == "purge" for e in events)
    check_ids([(pr.message_id, b) for pr, b in msgs])




# --------------------------------------------------------------------------------------------
# Replays: a broker that confirms late, or whose confirms are lost with the connection

class FaultyProxy:
    """A TCP proxy on loopback between the plugin and RabbitMQ that misbehaves on its
    first connection only, once the plugin has sent `after` bytes (the login is a few
    hundred, then the publishes of the first batch):

      cut   the broker gets those bytes, 1 s later (time to route them) both sides are
            closed: what the broker answered after that point (the confirms) never
            reaches the plugin;
      late  the broker's answers from that point on reach the plugin `delay` seconds late.

    Later connections are passed through untouched."""

    def __init__(self, upstream, mode, after, delay=0.0):
        self.upstream, self.mode, self.after, self.delay = upstream, mode, after, delay
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.conns = 0
        self.tripped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            self.conns += 1
            u = socket.create_connection(("127.0.0.1", self.upstream))
            first = self.conns == 1
            threading.Thread(target=self._up, args=(c, u, first), daemon=True).start()
            threading.Thread(target=self._down, args=(c, u, first), daemon=True).start()

    @staticmethod
    def _close(*socks):
        for x in socks:
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            x.close()

    def _up(self, c, u, first):
        """plugin -> broker"""
        sent = 0
        try:
            while (d := c.recv(65536)):
                u.sendall(d)
                sent += len(d)
                if first and sent >= self.after and not self.tripped.is_set():
                    self.trip_time = time.time()
                    self.tripped.set()
                    if self.mode == "cut":
                        time.sleep(1.0)
                        break
        except OSError:
            pass
        self._close(c, u)

    def _down(self, c, u, first):
        """broker -> plugin"""
        try:
            while (d := u.recv(65536)):
                if first and self.tripped.is_set():
                    if self.mode == "cut":
                        continue
                    time.sleep(max(0.0, self.trip_time + self.delay - time.time()))
                c.sendall(d)
        except OSError:
            pass
        self._close(c, u)

    def stop(self):
        self.ls.close()


def test_docs_dedup_is_the_example():
    """docs/brokers.md shows the example consumer's Dedup class as it is in the file."""
    doc = (DEDUP_CONSUMER.parents[1] / "docs" / "brokers.md").read_text()
    cls = re.search(r"```python\nimport collections\n\n(class Dedup:.*?\n)\n# ", doc, re.S).group(1)
    assert cls in DEDUP_CONSUMER.read_text()


def dedup_consumer(rabbit, queue):
    """examples/amqp_dedup_consumer.py as documented, on `queue`: its output lines."""
    r = subprocess.run(["/usr/bin/python3", str(DEDUP_CONSUMER), "--host", "127.0.0.1",
                        "--port", str(rabbit.port), "--queue", queue, "--idle", "3"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines(), r.stderr.strip()


def run_through_proxy(rabbit, pcapgen, tmp_path, proxy):
    """The capture through `proxy`: (tallies, raw messages of q, dedup consumer's lines and
    summary, daemon log)."""
    pcap, tallies = gen_capture(pcapgen)
    rabbit.drain(0.5)
    rabbit.tap("dedup")
    conf = (f"pcap_savefile: {pcap}\nplugins: amqp[a]\n"
            "aggregate[a]: src_host, dst_host, proto\namqp_num_protos: true\namqp_markers: true\n"
            f"amqp_host: 127.0.0.1\namqp_port: {proxy.port}\namqp_shutdown_wait: 60\n"
            f"amqp_spool_file: {tmp_path}/a.spool\n" + BIG_BUFFERS)
    try:
        p = start_daemon(tmp_path, conf)
        assert finish_daemon(p) == 0, (tmp_path / "pm.log").read_text()
        raw = rabbit.drain()
        lines, summary = dedup_consumer(rabbit, "dedup")
    finally:
        proxy.stop()
        rabbit.untap("dedup")
    assert proxy.tripped.is_set() and proxy.conns >= 2      # the fault happened, then a retry
    return tallies, raw, lines, summary, (tmp_path / "pm.log").read_text()


def check_replayed(tallies, raw, lines, summary, log):
    """The plugin published part of its messages twice, and said so.  A consumer that does
    not drop replays sums more packets than the capture holds; dropping them by message_id
    gives exactly the capture, and every message once."""
    exp = expected(tallies)
    ids = [pr.message_id for pr, _ in raw]
    replays = len(ids) - len(set(ids))
    assert replays > 0, "no message was published twice: the fault did not bite"
    said = re.findall(r"(\d+) messages went out without the broker's acknowledgement: "
                      r"publishing them again, a consumer may get them twice", log)
    assert said and sum(map(int, said)) >= replays
    assert len(set(ids)) == len(exp) + 2                    # entries and two markers
    # what a consumer that does not deduplicate sees: more than the capture
    raw_sum = sum(v[0] for v in summed(b for _, b in raw).values())
    assert raw_sum > sum(v[0] for v in exp.values())
    # the same messages, twice over, nothing else: once deduplicated, exactly the capture
    first = {}
    for pr, b in raw:
        assert first.setdefault(pr.message_id, b) == b
    assert summed(first.values()) == exp
    assert summed(lines) == exp and len(lines) == len(exp) + 2
    assert summary == f"{len(exp) + 2} messages, {replays} replays dropped"


def test_amqp_confirms_lost_with_the_connection(rabbit, pcapgen, tmp_path):
    """The broker routes the first ~100 publishes, then the connection breaks before their
    confirms reach the plugin: it publishes the unconfirmed batch again (at least once)."""
    proxy = FaultyProxy(rabbit.port, "cut", after=40_000)
    tallies, raw, lines, summary, log = run_through_proxy(rabbit, pcapgen, tmp_path, proxy)
    assert "waiting for confirms: connection closed unexpectedly" in log
    check_replayed(tallies, raw, lines, summary, log)


def test_amqp_confirms_too_late(rabbit, pcapgen, tmp_path):
    """The broker confirms 13 s late, past the plugin's 10 s wait: it gives the connection
    up and publishes the batch again."""
    proxy = FaultyProxy(rabbit.port, "late", after=40_000, delay=13)
    tallies, raw, lines, summary, log = run_through_proxy(rabbit, pcapgen, tmp_path, proxy)
    assert re.search(r"amqp: \d+ of \d+ messages not confirmed by the broker within 10 s", log)
    check_replayed(tallies, raw, lines, summary, log)


def test_amqp_confirms_late_within_the_wait(rabbit, pcapgen, tmp_path):
    """Confirms 4 s late, within the plugin's wait: nothing is published twice."""
    proxy = FaultyProxy(rabbit.port, "late", after=40_000, delay=4)
    pcap, tallies = gen_capture(pcapgen)
    rabbit.drain(0.5)
    conf = amqp_conf(rabbit, pcap, tmp_path, f"amqp_port: {proxy.port}\namqp_markers: true\n"
                     "amqp_shutdown_wait: 60\n")
    p = start_daemon(tmp_path, conf)
    assert finish_daemon(p) == 0, (tmp_path / "pm.log").read_text()
    proxy.stop()
    assert proxy.tripped.is_set() and proxy.conns == 1
    msgs = rabbit.drain()
    check_ids([(pr.message_id, b) for pr, b in msgs])
    assert summed(b for _, b in msgs) == expected(tallies)


def test_amqp_started_with_the_broker(pcapgen, tmp_path):
    """The report behind the message ids: a consumer summed 53,000 packets for a 50,000-packet
    capture, right after a broker start.  A fresh broker and the daemon started together
    (the daemon first waits for it, backing off): the capture arrives exactly once,
    checked without deduplication, and every id is unique."""
    if not (RABBIT_BIN / "rabbitmq-server").exists():
        skip_or_fail("rabbitmq-server not installed")
    import_or_skip("pika")
    if not plugin_supported("amqp"):
        pytest.skip("pmacctd built without the amqp plugin")
    pcap, tallies = pcapgen(50_000, 5_000, seed=11)
    assert sum(f["packets"] for f in tallies["flows"]) == 50_000
    base = tmp_path / "rabbit"
    base.mkdir()
    r = Rabbit(base)
    r.ref_port = False
    (base / "rabbitmq.conf").write_text((base / "rabbitmq.conf").read_text().replace(
        "listeners.tcp.2 = 127.0.0.1:5672\n", ""))
    conf = amqp_conf(r, pcap, tmp_path, "amqp_markers: true\namqp_persistent_msg: true\n"
                     "amqp_shutdown_wait: 120\n")
    starter = threading.Thread(target=r.start)
    starter.start()
    try:
        p = start_daemon(tmp_path, conf)
        assert finish_daemon(p, timeout=240) == 0, (tmp_path / "pm.log").read_text()
        starter.join()
        msgs = r.drain()
    finally:
        starter.join()
        r.stop()
    check_ids([(pr.message_id, b) for pr, b in msgs])
    got = summed(b for _, b in msgs)
    assert sum(v[0] for v in got.values()) == 50_000
    assert got == expected(tallies)


# --------------------------------------------------------------------------------------------
# NetFlow replay: nfacctd -I into Kafka, summed against the records written


NFACCTD = PMACCTD.parent / "nfacctd"


def test_kafka_netflow_replay(kafka, tmp_path):
    if not os.access(NFACCTD, os.X_OK):
        pytest.fail(f"nfacctd not built at {NFACCTD}")
    pcap = tmp_path / "v5.pcap"
    exp = write_netflow_v5_pcap(pcap)
    conf = tmp_path / "nf.conf"
    conf.write_text(kafka_conf(kafka, pcap, tmp_path))
    r = subprocess.run([str(NFACCTD), "-f", str(conf)], capture_output=True, text=True,
                       timeout=120, env=DAEMON_ENV)
    assert r.returncode == 0, r.stderr
    msgs = kafka.payloads(want=1)
    assert summed(m[2] for m in msgs) == exp
