# SPDX-License-Identifier: BSD-3-Clause
"""kafka and amqp plugins end to end (issue 9).

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

from conftest import DAEMON_ENV, PMACCTD, REF_PMACCTD, BIG_BUFFERS, write_netflow_v5_pcap
from conftest import free_tcp_port as free_port

KAFKA_MOCK = Path(os.environ.get("KAFKA_MOCK", PMACCTD.parent / "kafka_mock"))
RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")



def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def plugin_supported(ptype):
    """Our pmacctd was built with this plugin (meson feature on)."""
    conf = f"plugins: {ptype}[x]\n"
    r = subprocess.run([str(PMACCTD), "-f", "/dev/stdin", "-I", "/dev/null"], input=conf,
                       capture_output=True, text=True, timeout=30, env=DAEMON_ENV)
    return "is not available" not in r.stderr + r.stdout


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


# --------------------------------------------------------------------------------------------
# Kafka (librdkafka mock cluster)

class KafkaMock:
    def __init__(self, topics):
        self.p = subprocess.Popen([str(KAFKA_MOCK)] + topics, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True, bufsize=1)
        line = self.p.stdout.readline().split()
        assert line and line[0] == "BOOTSTRAP", line
        self.host, self.port = line[1].split(",")[0].rsplit(":", 1)
        self.msgs = []    # (topic, key, payload)
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            parts = line.rstrip("\n").split(" ", 3)
            if parts[0] == "MSG":
                with self.lock:
                    self.msgs.append((parts[1], parts[2], parts[3].replace("\x1e", "\n")))

    def cmd(self, c):
        self.p.stdin.write(c + "\n")
        self.p.stdin.flush()

    def payloads(self, settle=2.0, want=None, timeout=30):
        """Messages consumed so far, after none arrived for `settle` seconds."""
        end = time.time() + timeout
        last, n = time.time(), -1
        while time.time() < end:
            with self.lock:
                cur = len(self.msgs)
            if cur != n:
                n, last = cur, time.time()
            elif time.time() - last >= settle and (want is None or cur >= want):
                break
            time.sleep(0.2)
        with self.lock:
            return list(self.msgs)

    def stop(self):
        try:
            self.cmd("quit")
        except BrokenPipeError:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()


@pytest.fixture
def kafka():
    if not os.access(KAFKA_MOCK, os.X_OK):
        pytest.skip(f"no {KAFKA_MOCK} (meson -Dkafka=enabled)")
    if not plugin_supported("kafka"):
        pytest.skip("pmacctd built without the kafka plugin")
    k = KafkaMock(["pmacct.acct", "t42"])
    yield k
    k.stop()


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


def test_kafka_shutdown_reports_undelivered(kafka, pcapgen, tmp_path):
    pcap, tallies = gen_capture(pcapgen)
    kafka.cmd("down")
    time.sleep(0.5)
    conf = kafka_conf(kafka, pcap, tmp_path, "kafka_shutdown_wait: 2\n")
    p = start_daemon(tmp_path, conf)
    assert finish_daemon(p) == 0
    log = (tmp_path / "pm.log").read_text()
    n = len(expected(tallies))
    assert f"{n} messages not delivered" in log and (tmp_path / "k.spool").stat().st_size > 0
    # the next run delivers the spool first
    kafka.cmd("up")
    p = start_daemon(tmp_path, kafka_conf(kafka, pcap, tmp_path))
    assert finish_daemon(p) == 0
    msgs = kafka.payloads(want=2 * n)
    assert summed(m[2] for m in msgs) == {k: (2 * v[0], 2 * v[1])
                                          for k, v in expected(tallies).items()}
    assert not (tmp_path / "k.spool").exists()


# --------------------------------------------------------------------------------------------
# RabbitMQ (throw-away node)

class Rabbit:
    def __init__(self, base):
        self.base = Path(base)
        self.port = free_port()
        self.dist = free_port()
        self.ref_port = not port_open(5672)     # pmacct 1.7.7 can only use 5672
        defs = {
            "users": [{"name": "guest", "password": "guest", "tags": "administrator"}],
            "vhosts": [{"name": "/"}],
            "permissions": [{"user": "guest", "vhost": "/", "configure": ".*",
                             "write": ".*", "read": ".*"}],
            "exchanges": [{"name": "pmacct", "vhost": "/", "type": "direct", "durable": False,
                           "auto_delete": False, "internal": False, "arguments": {}}],
            "queues": [{"name": "q", "vhost": "/", "durable": True, "auto_delete": False,
                        "arguments": {}}],
            "bindings": [{"source": "pmacct", "vhost": "/", "destination": "q",
                          "destination_type": "queue", "routing_key": "acct",
                          "arguments": {}}],
        }
        (self.base / "defs.json").write_text(json.dumps(defs))
        conf = (f"load_definitions = {self.base}/defs.json\nloopback_users = none\n"
                f"listeners.tcp.1 = 127.0.0.1:{self.port}\n")
        if self.ref_port:
            conf += "listeners.tcp.2 = 127.0.0.1:5672\n"
        (self.base / "rabbitmq.conf").write_text(conf)
        (self.base / "enabled_plugins").write_text("[].\n")
        self.env = dict(os.environ, HOME=str(self.base),
                        RABBITMQ_NODENAME=f"pmng{self.port}@localhost",
                        RABBITMQ_NODE_PORT=str(self.port), RABBITMQ_DIST_PORT=str(self.dist),
                        RABBITMQ_MNESIA_BASE=str(self.base / "mnesia"),
                        RABBITMQ_LOG_BASE=str(self.base / "log"),
                        RABBITMQ_CONFIG_FILE=str(self.base / "rabbitmq.conf"),
                        RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base / "enabled_plugins"),
                        RABBITMQ_PID_FILE=str(self.base / "pid"))
        self.p = None

    def start(self):
        out = open(self.base / "server.log", "a")
        self.p = subprocess.Popen([str(RABBIT_BIN / "rabbitmq-server")], env=self.env,
                                  stdout=out, stderr=subprocess.STDOUT)
        for _ in range(240):
            if port_open(self.port):
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.5)
        raise RuntimeError("rabbitmq-server did not start: " +
                           (self.base / "server.log").read_text()[-2000:])

    def stop(self):
        subprocess.run([str(RABBIT_BIN / "rabbitmqctl"), "stop"], env=self.env,
                       capture_output=True, timeout=60)
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()

    def drain(self, settle=2.0):
        """Every message in queue q: [(properties, body)]."""
        import pika
        conn = pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1",
                                                                 port=self.port))
        ch = conn.channel()
        out = []
        for m, props, body in ch.consume("q", inactivity_timeout=settle):
            if m is None:
                break
            out.append((props, body.decode()))
            ch.basic_ack(m.delivery_tag)
        ch.cancel()
        conn.close()
        return out


@pytest.fixture(scope="module")
def rabbit(tmp_path_factory):
    if not (RABBIT_BIN / "rabbitmq-server").exists():
        pytest.skip("rabbitmq-server not installed")
    pytest.importorskip("pika")
    if not plugin_supported("amqp"):
        pytest.skip("pmacctd built without the amqp plugin")
    r = Rabbit(tmp_path_factory.mktemp("rabbit"))
    r.start()
    yield r
    r.stop()


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
    if not rabbit.ref_port or not os.access(REF_PMACCTD, os.X_OK):
        pytest.skip("reference pmacctd or port 5672 unavailable")
    pcap, _ = pcapgen(2_000, 50, seed=3)
    conf = (f"pcap_savefile: {pcap}\nplugins: amqp[a]\n"
            "aggregate[a]: src_host, dst_host, proto, src_port, tos\namqp_host[a]: 127.0.0.1\n"
            "amqp_markers[a]: true\namqp_history[a]: 5m\namqp_history_roundoff[a]: m\n"
            "amqp_refresh_time[a]: 3600\n" + BIG_BUFFERS)
    outs = []
    for binary in (REF_PMACCTD, PMACCTD):
        # purges fall on wall-clock multiples of the refresh time: a run that straddles one
        # purges twice (two writer ids), so such a run is made again
        for attempt in range(2):
            rabbit.drain(0.5)
            (tmp_path / "c.conf").write_text(conf)
            p = subprocess.run([str(binary), "-f", str(tmp_path / "c.conf")], env=DAEMON_ENV,
                               capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, p.stderr
            msgs, wids = rabbit.drain(), set()
            bodies = [norm(b, wids) for _, b in msgs]
            if len(wids) == 1:
                break
        outs.append((bodies, [(pr.content_type, pr.delivery_mode) for pr, _ in msgs]))
        assert len(wids) == 1       # one writer_id per purge
    (ref, ref_props), (ours, our_props) = outs
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
