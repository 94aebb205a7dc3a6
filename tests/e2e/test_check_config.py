# SPDX-License-Identifier: BSD-3-Clause
"""`-T config` runs every check start-up runs.

A table of configs each with one bad value for a plugin type (nfprobe,
sfprobe, tee, http, kafka, amqp).  For every row, `<daemon> -T config -f
bad.conf` and the real start-up (`<daemon> -f bad.conf -I capture`) must
both exit 1 with the same ERROR line, naming file, line and key; and the
same config with the good value must pass `-T config` (rc 0), so the row
shows the one value is what is refused.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import DAEMON_ENV, PMACCTD, REPO

BIN = {
    "pmacctd": PMACCTD,
    "nfacctd": Path(os.environ.get("NFACCTD", PMACCTD.parent / "nfacctd")),
    "sfacctd": Path(os.environ.get("SFACCTD", PMACCTD.parent / "sfacctd")),
}
# What the real start-up reads: it is refused before the first packet.
CAPTURE = {
    "pmacctd": REPO / "examples" / "demo.pcap",
    "nfacctd": REPO / "examples" / "netflow-v5.pcap",
    "sfacctd": REPO / "examples" / "netflow-v5.pcap",
}

NFP = "plugins: nfprobe[n]\nnfprobe_receiver[n]: 127.0.0.1:2100\n"
SFP = "plugins: sfprobe[s]\nsfprobe_receiver[s]: 127.0.0.1:6343\n"
TEE = "plugins: tee[t]\n"
HTTP = "plugins: http[w]\naggregate[w]: src_host\n"
KAFKA = "plugins: kafka[k]\naggregate[k]: src_host\n"
AMQP = "plugins: amqp[a]\naggregate[a]: src_host\n"
LONG = "a" * 300

# (id, daemon, config with {v} (and {d}: the test's directory), good value, bad value,
#  what the ERROR line says)
ROWS = [
    ("nfprobe_timeouts", "pmacctd", NFP + "nfprobe_timeouts[n]: {v}\n", "tcp=60:udp=30",
     "tcp=sixty", "[bad.conf:3] key 'nfprobe_timeouts[n]':"),
    ("nfprobe_version", "pmacctd", NFP + "nfprobe_version[n]: {v}\n", "5", "7",
     "[bad.conf:3] key 'nfprobe_version[n]': must be 5, 9 or 10"),
    ("nfprobe_engine", "pmacctd", NFP + "nfprobe_engine[n]: {v}\n", "1:2", "1:300",
     "[bad.conf:3] key 'nfprobe_engine[n]': must be type:id"),
    ("nfprobe_direction", "pmacctd", NFP + "nfprobe_direction[n]: {v}\n", "out", "sideways",
     "[bad.conf:3] key 'nfprobe_direction[n]': must be in, out, tag or tag2"),
    ("nfprobe_ifindex", "pmacctd", NFP + "nfprobe_ifindex[n]: {v}\n", "tag2", "eth0",
     "[bad.conf:3] key 'nfprobe_ifindex[n]': must be a number, tag or tag2"),
    ("nfprobe_ipprec", "pmacctd", NFP + "nfprobe_ipprec[n]: {v}\n", "7", "8",
     "[bad.conf:3] key 'nfprobe_ipprec[n]': must be 0-7"),
    ("nfprobe_receiver", "pmacctd", "plugins: nfprobe[n]\nnfprobe_receiver[n]: {v}\n",
     "[::1]:2100", "127.0.0.1:99999", "[bad.conf:2] key 'nfprobe_receiver[n]': "
     "'127.0.0.1:99999': invalid port"),
    ("nfprobe_receiver_v6", "pmacctd", "plugins: nfprobe[n]\nnfprobe_receiver[n]: {v}\n",
     "[::1]:2100", "::1:2100", "write an IPv6 address as [address]:port"),
    ("nfprobe_source_ip", "pmacctd", NFP + "nfprobe_source_ip[n]: {v}\n", "127.0.0.1", "::1",
     "[bad.conf:3] key 'nfprobe_source_ip[n]': source address '::1' is not of the "
     "receiver's family"),
    ("sfprobe_agentip", "pmacctd", SFP + "sfprobe_agentip[s]: {v}\n", "192.0.2.1", "300.1.1.1",
     "[bad.conf:3] key 'sfprobe_agentip[s]': not an IPv4 or IPv6 address"),
    ("sfprobe_direction", "pmacctd", SFP + "sfprobe_direction[s]: {v}\n", "tag", "up",
     "[bad.conf:3] key 'sfprobe_direction[s]':"),
    ("sfprobe_ifindex", "pmacctd", SFP + "sfprobe_ifindex[s]: {v}\n", "3", "-1",
     "[bad.conf:3] key 'sfprobe_ifindex[s]':"),
    ("sfprobe_receiver", "pmacctd", "plugins: sfprobe[s]\nsfprobe_receiver[s]: {v}\n",
     "127.0.0.1:6343", "127.0.0.1:", "[bad.conf:2] key 'sfprobe_receiver[s]':"),
    ("sfprobe_source_ip", "pmacctd", SFP + "sfprobe_source_ip[s]: {v}\n", "127.0.0.1",
     "[::1]", "[bad.conf:3] key 'sfprobe_source_ip[s]': source address"),
    ("tee_no_receivers", "nfacctd", TEE + "{v}\n", "tee_receivers[t]: {d}/good.map", "",
     "[bad.conf] key 'tee_receivers[t]': no receivers map given"),
    ("tee_missing_map", "sfacctd", TEE + "tee_receivers[t]: {v}\n", "{d}/good.map",
     "{d}/none.map", "key 'tee_receivers[t]': cannot read"),
    ("tee_bad_port", "nfacctd", TEE + "tee_receivers[t]: {d}/{v}\n", "good.map", "port.map",
     "port.map:2] tee_receivers: '127.0.0.1:70000': invalid port"),
    ("tee_bad_alg", "sfacctd", TEE + "tee_receivers[t]: {d}/{v}\n", "good.map", "alg.map",
     "alg.map:1] tee_receivers: balance-alg 'fastest'"),
    ("tee_source_ip", "nfacctd", TEE + "tee_receivers[t]: {d}/v4.map\ntee_source_ip[t]: {v}\n",
     "127.0.0.1", "::1", "tee_source_ip: source address '::1' is not of the receiver's family"),
    ("http_listen_port", "pmacctd", HTTP + "http_listen[w]: {v}\n", "127.0.0.1:0",
     "127.0.0.1:99999", "[bad.conf:3] key 'http_listen[w]': invalid value '127.0.0.1:99999'"),
    ("http_listen_syntax", "pmacctd", HTTP + "http_listen[w]: {v}\n", "[::1]:0", "[::1]8080",
     "[bad.conf:3] key 'http_listen[w]': invalid value"),
    ("http_vlen", "pmacctd", "plugins: http[w]\naggregate[w]: {v}\nhttp_listen[w]: 127.0.0.1:0\n",
     "src_host", "src_host, label", "variable-length primitives are not supported by the "
     "http plugin ('label')"),
    ("kafka_topic", "pmacctd", KAFKA + "kafka_topic[k]: {v}\n", "pmacct.$tag", "pmacct.$nope",
     "[bad.conf:3] key 'kafka_topic[k]': 'pmacct.$nope' gives 'pmacct.$nope': a Kafka topic"),
    ("kafka_config_file", "pmacctd", KAFKA + "kafka_config_file[k]: {v}\n", "{d}/kafka.good",
     "{d}/kafka.none", "[bad.conf:3] key 'kafka_config_file[k]': cannot read"),
    ("kafka_config_line", "pmacctd", KAFKA + "kafka_config_file[k]: {d}/{v}\n", "kafka.good",
     "kafka.bad", "kafka.bad' line 2: "),
    ("kafka_output", "pmacctd", KAFKA + "kafka_output[k]: {v}\n", "json", "avro",
     "[bad.conf:3] key 'kafka_output[k]': 'avro': only json is supported"),
    ("kafka_partition", "pmacctd", KAFKA + "kafka_partition[k]: {v}\n", "-1", "first",
     "[bad.conf:3] key 'kafka_partition[k]': expected -1 or a partition number"),
    ("kafka_broker_host", "pmacctd", KAFKA + "kafka_broker_host[k]: {v}\n", "::1",
     "10.0.0.1:9092", "[bad.conf:3] key 'kafka_broker_host[k]': '10.0.0.1:9092' is not an "
     "IPv6 address"),
    ("amqp_host", "nfacctd", AMQP + "amqp_host[a]: {v}\n", "rabbit.example.net",
     "rabbit/vhost", "[bad.conf:3] key 'amqp_host[a]': 'rabbit/vhost' is not a host name"),
    ("amqp_routing_key", "pmacctd", AMQP + "amqp_routing_key[a]: {v}\n", "acct.$peer_src_ip",
     LONG, "[bad.conf:3] key 'amqp_routing_key[a]': '" + LONG + "' expands to more than"),
    ("amqp_output", "pmacctd", AMQP + "amqp_output[a]: {v}\n", "json", "avro_json",
     "[bad.conf:3] key 'amqp_output[a]': 'avro_json': only json"),
    ("amqp_exchange_type", "pmacctd", AMQP + "amqp_exchange_type[a]: {v}\n", "x-consistent-hash",
     "round", "[bad.conf:3] key 'amqp_exchange_type[a]': 'round':"),
    ("amqp_frame_max", "pmacctd", AMQP + "amqp_frame_max[a]: {v}\n", "4096", "1024",
     "[bad.conf:3] key 'amqp_frame_max[a]': 1024 is below the AMQP minimum frame size"),
]

FILES = {
    "good.map": "id=1 ip=127.0.0.1:2200,[::1]:2201 balance-alg=rr\n",
    "v4.map": "id=1 ip=127.0.0.1:2200\nid=2 ip=127.0.0.2:2201\n",
    "port.map": "! receivers\nid=1 ip=127.0.0.1:70000\n",
    "alg.map": "id=1 ip=127.0.0.1:2200 balance-alg=fastest\n",
    "kafka.good": "global, client.id, pmacct-ng\ntopic, message.timeout.ms, 5000\n",
    "kafka.bad": "global, client.id, x\nglobal, no.such.setting, 1\n",
}


def run(cmd, cwd, timeout=10):
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=DAEMON_ENV, capture_output=True,
                          text=True, timeout=timeout)


def errors(r):
    return [ln for ln in r.stderr.splitlines() if ln.startswith("ERROR")]


def setup_dir(d, tpl, good, bad):
    for name, text in FILES.items():
        (d / name).write_text(text)
    fill = lambda v: tpl.replace("{v}", v).replace("{d}", str(d))
    (d / "good.conf").write_text(fill(good))
    (d / "bad.conf").write_text(fill(bad))


def skip_unless_built(r, tpl):
    """A backend left out of the build (meson feature off) cannot be tested here."""
    if r.returncode != 0 and "is not available in this daemon" in r.stderr:
        pytest.skip("plugin type not built: " + tpl.splitlines()[0])


@pytest.mark.parametrize("name,daemon,tpl,good,bad,expect", ROWS, ids=[r[0] for r in ROWS])
def test_check_matches_startup(tmp_path, name, daemon, tpl, good, bad, expect):
    setup_dir(tmp_path, tpl, good, bad)
    binary = BIN[daemon]

    ok = run([binary, "-T", "config", "-f", "good.conf"], tmp_path)
    skip_unless_built(ok, tpl)
    assert ok.returncode == 0, f"good variant refused: {ok.stderr}"
    assert not errors(ok)

    checked = run([binary, "-T", "config", "-f", "bad.conf"], tmp_path)
    started = run([binary, "-f", "bad.conf", "-I", CAPTURE[daemon]], tmp_path)
    assert checked.returncode == 1, checked.stderr
    assert started.returncode == 1, started.stderr
    assert errors(checked), checked.stderr
    assert errors(checked) == errors(started), (checked.stderr, started.stderr)
    assert any(expect in ln for ln in errors(checked)), errors(checked)


def can_drop_net_raw():
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


@pytest.mark.skipif(not can_drop_net_raw(), reason="needs root and setpriv to take CAP_NET_RAW away")
def test_tee_transparent_needs_raw_socket(tmp_path):
    """tee_transparent: -T config tries the raw socket start-up will need."""
    tpl = TEE + "tee_receivers[t]: {d}/good.map\ntee_transparent[t]: {v}\n"
    setup_dir(tmp_path, tpl, "true", "true")
    nfacctd = BIN["nfacctd"]
    drop = ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw"]

    ok = run([nfacctd, "-T", "config", "-f", "good.conf"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    checked = run(drop + [nfacctd, "-T", "config", "-f", "bad.conf"], tmp_path)
    started = run(drop + [nfacctd, "-f", "bad.conf", "-I", CAPTURE["nfacctd"]], tmp_path)
    assert checked.returncode == 1 and started.returncode == 1, (checked.stderr, started.stderr)
    assert errors(checked) == errors(started)
    assert any("key 'tee_transparent[t]': cannot open a raw socket" in ln
               for ln in errors(checked)), checked.stderr
