# SPDX-License-Identifier: BSD-3-Clause
"""The BGP message log and table dumps into RabbitMQ (`bgp_daemon_msglog_amqp_*`,
`bgp_table_dump_amqp_*`), differential: our nfacctd and Debian's 1.7.7, each with
its own session from the same raw iBGP speaker (tests/e2e/bgp_wire.py: the same
UPDATEs byte for byte), publish to one throw-away RabbitMQ node (conftest.rabbit);
each stream goes to a routing key of its own, read back from a queue bound to it.
Every message must be the JSON object 1.7.7 publishes: same keys in the same order,
same values, timestamp, seq and the session's TCP port aside (as test_bgp_log.py
does for the files).  The session's life: announcements, a withdrawal, a table dump
(at the next whole minute: bgp_table_dump_refresh_time 60), the session closed
(every route "delete", then log_close).

1.7.7 can only reach a broker on port 5672: the node listens there too when it is
free (conftest.Rabbit), else the test skips.
"""

import json
import re
import threading
import time

import pytest

import bgp_wire as bw
from bgp_logside import same
from bgp_peers import Route
from bgp_xrun import Collector, binaries
from conftest import skip_or_fail

SPEAKER = "127.0.0.82"        # a loopback address of its own
ASN = 65001

ROUTES = [
    Route("10.1.0.0/16", "192.0.2.1", (65020, 65010), ("65000:2", "65000:1", "65535:65281"),
          (("rt", "65000:100"), ("soo", "65000:7")), ("65000:1:2",), 200, 50),
    Route("10.1.2.0/24", "192.0.2.2", (65030, 4200000000), ("65000:3",), (), ("65000:5:6",), 300, 0),
    Route("10.2.0.0/16", "192.0.2.3", (65040,), (), (), (), 100, None),
    Route("10.3.0.0/16", "192.0.2.4"),
]
WITHDRAWN = "10.2.0.0/16"


def body(who):
    return f"""plugins: print
print_output_file: /dev/null
print_refresh_time: 3600
aggregate: src_host
bgp_daemon_msglog_amqp_host: 127.0.0.1
bgp_daemon_msglog_amqp_user: guest
bgp_daemon_msglog_amqp_passwd: guest
bgp_daemon_msglog_amqp_vhost: /
bgp_daemon_msglog_amqp_exchange: pmacct
bgp_daemon_msglog_amqp_routing_key: bgpx.{who}.msglog
bgp_daemon_msglog_output: json
bgp_table_dump_amqp_host: 127.0.0.1
bgp_table_dump_amqp_user: guest
bgp_table_dump_amqp_passwd: guest
bgp_table_dump_amqp_vhost: /
bgp_table_dump_amqp_exchange: pmacct
bgp_table_dump_amqp_routing_key: bgpx.{who}.dump
bgp_table_dump_output: json
bgp_table_dump_refresh_time: 60
"""


def queues(rabbit, whos):
    conn, ch = rabbit.channel()
    for who in whos:
        for stream in ("msglog", "dump"):
            q = f"bgpx.{who}.{stream}"
            ch.queue_declare(q, durable=False, auto_delete=False)
            ch.queue_purge(q)
            ch.queue_bind(q, "pmacct", routing_key=q)
    conn.close()


def messages(rabbit, who, stream):
    return [json.loads(b) for _, b in rabbit.drain(1.0, queue=f"bgpx.{who}.{stream}")]


def session(c):
    sp = c.speak(SPEAKER, ROUTES, ASN, rid="10.0.0.82")
    sp.send(bw.update(withdrawn=bw.prefix_bytes(WITHDRAWN)))
    assert sp.alive(1.0)
    return sp


@pytest.fixture(scope="module")
def streams(rabbit, tmp_path_factory):
    if not rabbit.ref_port:
        skip_or_fail("port 5672 is taken: 1.7.7 publishes there only", module=True)
    whos = [w for w, _ in binaries()]
    queues(rabbit, whos)
    cols = {}
    try:
        for who, binary in binaries():
            if not binary.exists():
                skip_or_fail(f"{binary} missing", module=True)
            cols[who] = Collector(binary, tmp_path_factory.mktemp(who), body(who))
        threads = [threading.Thread(target=session, args=(c,)) for c in cols.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deadline = (time.time() // 60 + 1) * 60
        time.sleep(max(0.0, deadline - time.time()) + 3)      # the dump and its publishing
        for c in cols.values():
            c.close_sessions()
        time.sleep(3)                                          # deletes and log_close
    finally:
        for c in cols.values():
            c.stop()
    out = {who: {s: messages(rabbit, who, s) for s in ("msglog", "dump")} for who in cols}
    out["logs"] = {who: c.log() for who, c in cols.items()}
    return out



def without_writer_id(msgs):
    return [{k: v for k, v in m.items() if k != "writer_id"} for m in msgs]


def last_dump(msgs):
    """The messages of the last dump (dump_init .. dump_close): when the sessions came up
    across a minute's turn, an earlier dump may hold fewer routes."""
    starts = [i for i, m in enumerate(msgs) if m["event_type"] == "dump_init"]
    return msgs[starts[-1]:] if starts else []


def test_writer_id(streams):
    """Every broker message ends with "writer_id": "<core_proc_name>/<pid>", as 1.7.7's."""
    ref = streams["ref"]["msglog"] + streams["ref"]["dump"]
    assert ref and all(list(m)[-1] == "writer_id" and re.fullmatch(r"default/\d+", m["writer_id"])
                       for m in ref), ref
    ours = streams["ours"]["msglog"] + streams["ours"]["dump"]
    assert ours and all(list(m)[-1] == "writer_id" and re.fullmatch(r"default/\d+", m["writer_id"])
                        for m in ours)


def test_msglog_as_1_7_7(streams):
    """Key for key; writer_id apart (test_writer_id)."""
    ref, ours = without_writer_id(streams["ref"]["msglog"]), without_writer_id(streams["ours"]["msglog"])
    assert ref, f"1.7.7 published no msglog message:\n{streams['logs']['ref'][-2000:]}"
    kinds = [(o["event_type"], o.get("log_type")) for o in ref]
    # the life of the session as 1.7.7 tells it: the oracle shows what is compared
    assert kinds[0] == ("log_init", None) and kinds[-1] == ("log_close", None), kinds
    assert kinds.count(("log", "update")) == len(ROUTES)
    assert kinds.count(("log", "withdraw")) == 1
    assert kinds.count(("log", "delete")) == len(ROUTES) - 1
    same(ours, ref, "msglog", "1.7.7")
    assert [(o["event_type"], o.get("log_type")) for o in ours] == kinds


def test_dump_as_1_7_7(streams):
    """Key for key; writer_id apart (test_writer_id)."""
    ref = last_dump(without_writer_id(streams["ref"]["dump"]))
    ours = last_dump(without_writer_id(streams["ours"]["dump"]))
    assert ref, f"1.7.7 published no dump message:\n{streams['logs']['ref'][-2000:]}"
    assert ref[0]["event_type"] == "dump_init" and ref[-1]["event_type"] == "dump_close"
    assert ref[-1]["entries"] == len(ROUTES) - 1
    same(ours, ref, "dump", "1.7.7")
    assert [o["event_type"] for o in ours] == [o["event_type"] for o in ref]
    assert len({o["seq"] for o in ours}) == 1, "one seq for every message of a dump"
