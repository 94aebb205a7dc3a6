#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Consume the amqp plugin's messages from a RabbitMQ queue and drop replays.

Delivery to the broker is at least once: a message whose publisher confirm
was lost (connection cut, broker slow to confirm) is published again.  Each
message carries the AMQP property message_id "<writer_id>:<purge seq>:<index>"
(see docs/brokers.md); a consumer that remembers the recent ids drops the
second copy.  Messages without an id (pmacct itself, or a spool written by an
older pmacct-ng) cannot be told apart and are kept.

  python3 amqp_dedup_consumer.py [--host H] [--port P] [--queue Q] [--idle SECS]

Prints each message body once, one JSON text per line (a *_multi_values
message gives several lines); on exit, the counts on stderr.  --idle: stop
after that many seconds without a message (default: run until interrupted).
Needs pika (Debian: python3-pika).
"""

import argparse
import collections
import sys

import pika


class Dedup:
    """The last `keep` message ids seen: first_time() is False for a replay."""

    def __init__(self, keep=1_000_000):
        self.seen = collections.OrderedDict()
        self.keep = keep

    def first_time(self, message_id):
        if message_id is None:      # pmacct itself, or an old spool: cannot tell, keep it
            return True
        if message_id in self.seen:
            self.seen.move_to_end(message_id)
            return False
        self.seen[message_id] = None
        if len(self.seen) > self.keep:
            self.seen.popitem(last=False)
        return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--port", type=int, default=5672)
    ap.add_argument("--queue", default="pmacct")
    ap.add_argument("--idle", type=float, default=None)
    a = ap.parse_args()

    conn = pika.BlockingConnection(pika.ConnectionParameters(host=a.host, port=a.port))
    ch = conn.channel()
    dedup, kept, dropped = Dedup(), 0, 0
    try:
        for method, props, body in ch.consume(a.queue, inactivity_timeout=a.idle):
            if method is None:          # --idle seconds without a message
                break
            if dedup.first_time(props.message_id):
                sys.stdout.write(body.decode() + "\n")
                sys.stdout.flush()
                kept += 1
            else:
                dropped += 1
            ch.basic_ack(method.delivery_tag)
    except KeyboardInterrupt:
        pass
    ch.cancel()
    conn.close()
    print(f"{kept} messages, {dropped} replays dropped", file=sys.stderr)


if __name__ == "__main__":
    main()
