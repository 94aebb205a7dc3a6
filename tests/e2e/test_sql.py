# SPDX-License-Identifier: BSD-3-Clause
"""The SQL plugins end to end: sqlite3, pgsql and mysql on generated captures.

Servers are started here, never installed: PostgreSQL (initdb + pg_ctl as
the postgres user) and MariaDB (mariadb-install-db + mariadbd as the mysql
user) in throw-away directories, on loopback ports, and stopped at the end.
A backend whose server binaries are missing is skipped, saying so.

Totals in the database are checked against the generator's tallies or
tcpdump counts with the same BPF filters; the differential part runs
Debian's pmacctd 1.7.7 on the same capture and config into the same kind of
database and compares the rows (stamp_updated aside).

Reference quirk (see test_memory_client.py): pmacct 1.7.7 reading a capture
with pcap_savefile_wait delivers its final buffer twice at shutdown, and
its SQL plugins see nothing but the first buffers unless the whole capture
fits one buffer.  The reference therefore runs with one 4 MB buffer holding
the whole capture, which it accounts exactly twice: its counters are halved
before comparing (and checked to be even).
"""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (DAEMON_ENV, PMACCTD, REF_PMACCTD, needs_ref, netflow_v5_datagrams,
                      retry_reference, skip_or_fail, wait_for, write_netflow_v5_pcap)
from conftest import free_tcp_port as free_port

REPO = Path(__file__).resolve().parents[2]
REF_SQL = Path("/usr/share/doc/pmacct/sql")
# ---------------------------------------------------------------------------
# Running the daemons


def run_until_flushed(binary, workdir, conf, purges=1, timeout=60, before_stop=None):
    """pmacctd with pcap_savefile_wait: wait for `purges` purges that wrote
    something after the capture was read, then SIGINT and wait."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "pmacctd.conf"
    cfg.write_text(conf)
    log = workdir / "log"
    with open(log, "w") as lf:
        proc = subprocess.Popen([str(binary), "-f", str(cfg)], stdout=lf, stderr=subprocess.STDOUT,
                                env=DAEMON_ENV, cwd=workdir, start_new_session=True)
    try:
        def flushed():
            text = log.read_text(errors="replace")
            done = text.split("finished reading", 1)
            body = done[1] if len(done) > 1 else text
            return sum(1 for ln in body.splitlines() if "QN:" in ln and "QN: 0/0" not in ln) >= purges
        ok = wait_for(flushed, timeout)
        if before_stop:
            before_stop()
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return ok, proc.returncode, log.read_text(errors="replace")


def ours(tmp, conf, **kw):
    ok, rc, log = run_until_flushed(PMACCTD, tmp, conf, **kw)
    assert rc == 0, log
    assert "ERROR" not in log, log
    return log


def sqlite_rows(db, table, cols):
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT {cols} FROM {table}").fetchall()
    finally:
        con.close()


def totals(rows):
    return sum(int(r[-2]) for r in rows), sum(int(r[-1]) for r in rows)


# ---------------------------------------------------------------------------
# SQLite


def flows_in(tallies, pred):
    p = b = 0
    for f in tallies["flows"]:
        if pred(f):
            p += f["packets"]
            b += f["bytes"]
    return p, b


def test_sqlite_totals_auto_create_and_bins(tmp_path, pcapgen):
    """v1 and v9 tables created on the fly; totals equal the generator's;
    5-tuples of v9 rows equal its flows; 5m bins rounded to the minute."""
    pcap, tal = pcapgen(3000, 40, duration=600)
    db = tmp_path / "a.db"
    conf = f"""pcap_savefile: {pcap}
plugins: sqlite3[v1], sqlite3[v9]
sql_db: {db}
sql_history: 5m
sql_history_roundoff: m
sql_refresh_time: 60
aggregate[v1]: dst_host
sql_table_version[v1]: 1
aggregate[v9]: src_host, dst_host, src_port, dst_port, proto, tcpflags, flows
sql_table_version[v9]: 9
sql_table[v9]: acct_v9
"""
    r = subprocess.run([str(PMACCTD), "-f", "/dev/stdin"], input=conf, text=True,
                       capture_output=True, env=DAEMON_ENV, timeout=120)
    assert r.returncode == 0, r.stderr
    v1 = sqlite_rows(db, "acct", "ip_dst, stamp_inserted, packets, bytes")
    assert totals(v1) == (tal["packets"], tal["bytes"])
    bins = sorted({row[1] for row in v1})
    assert bins == ["2023-11-14 22:10:00", "2023-11-14 22:15:00", "2023-11-14 22:20:00"]
    v9 = sqlite_rows(db, "acct_v9", "ip_src, ip_dst, port_src, port_dst, ip_proto, packets, bytes")
    got = {}
    for s, d, sp, dp, pr, p, b in v9:
        k = (s, d, sp, dp, pr)
        got[k] = (got.get(k, (0, 0))[0] + p, got.get(k, (0, 0))[1] + b)
    names = {1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icm"}
    want = {}
    for f in tal["flows"]:
        k = (f["src"], f["dst"], f["sport"], f["dport"], names.get(f["proto"], str(f["proto"])))
        want[k] = (want.get(k, (0, 0))[0] + f["packets"], want.get(k, (0, 0))[1] + f["bytes"])
    assert {k: v for k, v in got.items()} == want


def test_sqlite_upsert_twice_doubles(tmp_path, pcapgen):
    """A second run on the same data adds to the same rows (pmacct's UPDATE)."""
    pcap, tal = pcapgen(2000, 50)
    db = tmp_path / "a.db"
    conf = f"pcap_savefile: {pcap}\nplugins: sqlite3[a]\nsql_db: {db}\naggregate: dst_host\n" \
           "sql_history: 5m\nsql_history_roundoff: m\n"
    for _ in range(2):
        r = subprocess.run([str(PMACCTD), "-f", "/dev/stdin"], input=conf, text=True,
                           capture_output=True, env=DAEMON_ENV, timeout=120)
        assert r.returncode == 0, r.stderr
    rows = sqlite_rows(db, "acct", "ip_dst, packets, bytes")
    assert totals(rows) == (2 * tal["packets"], 2 * tal["bytes"])
    assert len(rows) == len({row[0] for row in rows})


def test_sqlite_no_unique_key_update_then_insert(tmp_path, pcapgen):
    """A custom table without a key (sql_optimize_clauses): UPDATE-then-INSERT;
    sql_multi_values with sql_dont_try_update: plain multi-row INSERTs."""
    pcap, tal = pcapgen(2000, 50)
    db = tmp_path / "a.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE custom (ip_dst CHAR(45), ip_proto CHAR(6), packets INT, bytes INT, "
                "stamp_inserted DATETIME, stamp_updated DATETIME)")
    con.execute("CREATE TABLE multi (ip_dst CHAR(45), packets INT, bytes INT)")
    con.commit()
    con.close()
    conf = f"""pcap_savefile: {pcap}
plugins: sqlite3[c], sqlite3[m]
sql_db: {db}
sql_optimize_clauses: true
aggregate[c]: dst_host, proto
sql_table[c]: custom
sql_history[c]: 1m
aggregate[m]: dst_host
sql_table[m]: multi
sql_dont_try_update[m]: true
sql_multi_values[m]: 4096
"""
    for _ in range(2):
        r = subprocess.run([str(PMACCTD), "-f", "/dev/stdin"], input=conf, text=True,
                           capture_output=True, env=DAEMON_ENV, timeout=120)
        assert r.returncode == 0, r.stderr
    c = sqlite_rows(db, "custom", "ip_dst, ip_proto, stamp_inserted, packets, bytes")
    assert totals(c) == (2 * tal["packets"], 2 * tal["bytes"])
    assert len(c) == len({row[:3] for row in c})      # updated, not inserted twice
    m = sqlite_rows(db, "multi", "ip_dst, packets, bytes")
    assert totals(m) == (2 * tal["packets"], 2 * tal["bytes"])


def test_sqlite_dynamic_table_trigger_env(tmp_path, pcapgen):
    """Table names with time variables (one table per bin), created from
    sql_table_schema; sql_trigger_exec sees pmacct's environment."""
    pcap, tal = pcapgen(2000, 30, duration=600)
    db = tmp_path / "a.db"
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE acct_%Y%m%d_%H%M (ip_dst CHAR(45) NOT NULL, packets INT, "
                      "bytes INT, stamp_inserted DATETIME NOT NULL, stamp_updated DATETIME, "
                      "PRIMARY KEY (ip_dst, stamp_inserted));\n")
    trig = tmp_path / "trig.sh"
    trig.write_text(f"#!/bin/sh\nenv | grep -E '^(SQL_|EFFECTIVE_|TOTAL_|INSERT_|ELAPSED)' "
                    f">> {tmp_path}/env.txt\n")
    trig.chmod(0o755)
    conf = f"""pcap_savefile: {pcap}
plugins: sqlite3[d]
sql_db: {db}
aggregate: dst_host
sql_optimize_clauses: true
sql_table: acct_%Y%m%d_%H%M
sql_table_schema: {schema}
sql_history: 5m
sql_history_roundoff: m
sql_trigger_exec: {trig}
"""
    r = subprocess.run([str(PMACCTD), "-f", "/dev/stdin"], input=conf, text=True,
                       capture_output=True, env=DAEMON_ENV, timeout=120)
    assert r.returncode == 0, r.stderr
    names = ["acct_20231114_2210", "acct_20231114_2215", "acct_20231114_2220"]
    got = [0, 0]
    for n in names:
        for row in sqlite_rows(db, n, "ip_dst, stamp_inserted, packets, bytes"):
            assert row[1] == f"2023-11-14 {n[-4:-2]}:{n[-2:]}:00"
            got[0] += row[2]
            got[1] += row[3]
    assert tuple(got) == (tal["packets"], tal["bytes"])
    assert wait_for(lambda: (tmp_path / "env.txt").exists(), 10)
    env = (tmp_path / "env.txt").read_text()
    for k in ("SQL_DB=", "SQL_TABLE=acct_%Y%m%d_%H%M", "EFFECTIVE_SQL_TABLE=acct_2023",
              "TOTAL_ELEM_NUMBER=", "SQL_HISTORY_TIMESLOT=300", "SQL_REFRESH_TIME=60"):
        assert k in env, env


@needs_ref
@pytest.mark.parametrize("version", [1, 9])
def test_sqlite_differential(tmp_path, pcapgen, version):
    """Rows written by pmacct 1.7.7 and by us (same config, capture, table
    from the reference's own create script) are the same, stamp_updated aside."""
    pcap, tal = pcapgen(1500, 40, duration=600, v4_only=True)
    agg = "dst_host" if version == 1 else "src_host, dst_host, src_port, dst_port, proto, tos"
    table = "acct" if version == 1 else "acct_v9"

    def written(binary, d):
        """(the columns but stamp_updated, the rows binary wrote into a new table in d)."""
        d.mkdir()
        db = d / "t.db"
        subprocess.run(["sqlite3", str(db)], stdin=open(REF_SQL / f"pmacct-create-table_v{version}.sqlite3"),
                       check=True)
        conf = f"""pcap_savefile: {pcap}
pcap_savefile_wait: true
plugin_buffer_size: 4096000
plugin_pipe_size: 40960000
plugins: sqlite3[a]
sql_db: {db}
sql_table: {table}
sql_table_version: {version}
aggregate: {agg}
sql_history: 5m
sql_history_roundoff: m
sql_refresh_time: 3600
"""
        if binary == REF_PMACCTD:
            (d / "pmacctd.conf").write_text(conf)
            with open(d / "log", "w") as lf:
                proc = subprocess.Popen([str(binary), "-f", str(d / "pmacctd.conf")],
                                        stdout=lf, stderr=subprocess.STDOUT, env=DAEMON_ENV)
            wait_for(lambda: "finished reading" in (d / "log").read_text(), 30)
            time.sleep(1)
            proc.send_signal(signal.SIGINT)
            proc.wait(60)
        else:
            r = subprocess.run([str(binary), "-f", "/dev/stdin"], text=True, capture_output=True,
                               input=conf.replace("pcap_savefile_wait: true\n", ""),
                               env=DAEMON_ENV, timeout=120)
            assert r.returncode == 0 and "ERROR" not in r.stderr, r.stderr
        cols = [c for c in (r[1] for r in sqlite3.connect(db).execute(
            f"PRAGMA table_info({table})")) if c != "stamp_updated"]
        got = sqlite_rows(db, table, ", ".join(cols))
        if binary == REF_PMACCTD:
            assert all(r[-3] % 2 == 0 and r[-2] % 2 == 0 for r in got) if version == 9 else True
            pi, bi = cols.index("packets"), cols.index("bytes")
            got = [tuple(v // 2 if i in (pi, bi) else v for i, v in enumerate(r)) for r in got]
        return cols, sorted(got, key=repr)

    def totals_of(res):
        cols, got = res
        return (sum(r[cols.index("packets")] for r in got), sum(r[cols.index("bytes")] for r in got))
    rows = {"ours": written(PMACCTD, tmp_path / "ours")[1]}
    # 1.7.7 again (conftest.retry_reference) while it lost data
    ref = retry_reference(lambda i: written(REF_PMACCTD, tmp_path / f"ref{i}"),
                          lambda res: totals_of(res) == (tal["packets"], tal["bytes"]),
                          what="pmacctd 1.7.7 (sqlite3)")
    rows["ref"], ref_tot = ref[1], totals_of(ref)
    if ref_tot != (tal["packets"], tal["bytes"]):
        skip_or_fail(f"reference lost data on this capture: {ref_tot} vs generator "
                     f"{(tal['packets'], tal['bytes'])}")
    assert rows["ours"] == rows["ref"]


# ---------------------------------------------------------------------------
# MariaDB: the seed's example


SEED_FILTERS = {   # plugin -> (direction, network) as in the seed
    "inbound1": ("dst", "192.168.0.0/19"), "outbound1": ("src", "192.168.0.0/19"),
    "inbound2": ("dst", "192.168.50.0/23"), "outbound2": ("src", "192.168.50.0/23"),
    "inbound3": ("dst", "192.168.100.0/22"), "outbound3": ("src", "192.168.100.0/22"),
    "inbound4": ("dst", "192.168.200.0/21"), "outbound4": ("src", "192.168.200.0/21"),
}


def seed_conf(pcap, port, typo=False):
    text = (REPO / "tests/golden/seed_mysql.conf").read_text()
    text = text.replace("interface: eth1", f"pcap_savefile: {pcap}")
    text = text.replace("daemonize: true", "daemonize: false")
    text = text.replace("syslog:daemon", "")
    if not typo:
        text = text.replace("src net 192.2168.50/23", "src net 192.168.50.0/23")
    # `net 192.168.1.0/19` stays as written: today's libpcap refuses host bits in a
    # prefix, and the daemon clears them (192.168.0.0/19) with a warning
    return text + f"sql_host: 127.0.0.1\nsql_port: {port}\n"


def test_mysql_seed_example(tmp_path, pcapgen, my):
    import ipaddress
    pcap, tal = pcapgen(4000, 400, v4_only=True)
    my.sql("CREATE DATABASE pmacctdb; CREATE USER pmacct@'%' IDENTIFIED BY 'pmacctpassword'; "
           "GRANT ALL ON pmacctdb.* TO pmacct@'%'")
    bad = subprocess.run([str(PMACCTD), "-f", "/dev/stdin"], input=seed_conf(pcap, my.port, True),
                         text=True, capture_output=True, env=DAEMON_ENV, timeout=60)
    assert bad.returncode != 0 and "192.2168.50/23" in bad.stderr, bad.stderr
    r = subprocess.run([str(PMACCTD), "-f", "/dev/stdin"], input=seed_conf(pcap, my.port),
                       text=True, capture_output=True, env=DAEMON_ENV, timeout=120)
    assert r.returncode == 0 and "ERROR" not in r.stderr, r.stderr
    assert "using 'dst net 192.168.0.0/19'" in r.stderr, "the /19 with host bits is masked, with a warning"
    assert "192.2168" not in r.stderr
    for table, direction in (("acct_ineth1", "dst"), ("acct_outeth1", "src")):
        rows = my.sql(f"SELECT ip_src, ip_dst, stamp_inserted, SUM(packets), SUM(bytes) FROM {table} "
                      "GROUP BY ip_src, ip_dst, stamp_inserted", db="pmacctdb")
        want_p = want_b = 0
        for name, (d, net) in SEED_FILTERS.items():
            if d != direction:
                continue
            n = ipaddress.ip_network(net)
            p, b = flows_in(tal, lambda f: f["vlan"] == 0 and f["cvlan"] == 0 and
                            ipaddress.ip_address(f[direction]) in n)
            want_p += p
            want_b += b
        assert want_p > 0
        assert (sum(int(x[3]) for x in rows), sum(int(x[4]) for x in rows)) == (want_p, want_b)
        assert {x[2][-5:] for x in rows} == {"00:00"} or all(x[2][-2:] == "00" for x in rows)


# ---------------------------------------------------------------------------
# PostgreSQL: totals, COPY, and a server that goes away


def pg_totals(pg, table):
    r = pg.psql(f"SELECT COALESCE(SUM(packets),0), COALESCE(SUM(bytes),0) FROM {table}",
                db="pmacct", user="pmacct")
    return int(r[0][0]), int(r[0][1])


def test_pgsql_upsert_and_copy(tmp_path, pcapgen, pg):
    pcap, tal = pcapgen(3000, 60)
    conf = f"""pcap_savefile: {pcap}
plugins: pgsql[u], pgsql[c]
{pg.conf()}sql_history: 5m
sql_history_roundoff: m
aggregate: src_host, dst_host, proto
sql_table_version: 9
sql_table[u]: acct_up
sql_table[c]: acct_copy
sql_dont_try_update[c]: true
sql_use_copy[c]: true
sql_spool_file[u]: {tmp_path}/u.spool
sql_spool_file[c]: {tmp_path}/c.spool
"""
    for run in range(2):
        text = conf if run == 0 else conf.replace("pgsql[u], pgsql[c]", "pgsql[u]")
        r = subprocess.run([str(PMACCTD), "-f", "/dev/stdin"], input=text, text=True,
                           capture_output=True, env=DAEMON_ENV, timeout=120)
        assert r.returncode == 0 and "ERROR" not in r.stderr, r.stderr
    assert pg_totals(pg, "acct_up") == (2 * tal["packets"], 2 * tal["bytes"])
    n = pg.psql("SELECT COUNT(*), COUNT(DISTINCT (ip_src, ip_dst, ip_proto, stamp_inserted)) "
                "FROM acct_up", db="pmacct", user="pmacct")
    assert n[0][0] == n[0][1]
    assert pg_totals(pg, "acct_copy") == (tal["packets"], tal["bytes"])


def test_pgsql_server_down_then_back(tmp_path, pcapgen, pg):
    """The server is stopped before the daemon starts and while it runs:
    purges fail (logged with libpq's message), rows stay in the cache, then
    spill to the spool file; the server comes back and every byte arrives."""
    pcap, tal = pcapgen(3000, 60, seed=7)
    spool = tmp_path / "spool"
    conf = f"""pcap_savefile: {pcap}
pcap_savefile_wait: true
plugins: pgsql[f]
{pg.conf()}aggregate: src_host, dst_host
sql_table: acct_fault
sql_table_version: 9
sql_optimize_clauses: true
sql_history: 1m
sql_refresh_time: 1
sql_spool_file: {spool}
sql_spool_threshold: 10
"""
    pg.stop()
    logs = []

    def restart():
        pg.start()
        logs.append(time.time())

    try:
        ok, rc, log = run_until_flushed(PMACCTD, tmp_path / "run", conf, purges=1, timeout=8)
    finally:
        pass
    # the first run only saw failures: it spooled at shutdown
    assert "cannot connect to pgsql database 'pmacct'" in log, log
    assert "arealsmartpwd" not in log
    assert spool.exists()
    # kept, not delivered: the exit status says so (2), and the log says where the rows are
    assert rc == 2, log
    assert re.search(r"the last purge \(\d+ rows\) was not confirmed by the database: kept for "
                     r"the next run \(spool " + re.escape(f"'{spool}'") + r"\)", log), log
    assert "Exiting with status 2: some data was not delivered" in log
    restart()
    ok, rc, log2 = run_until_flushed(PMACCTD, tmp_path / "run2",
                                     conf.replace(str(pcap), str(pcap)), purges=1, timeout=30)
    assert rc == 0, log2
    assert "spooled entries read back" in log2, log2
    # both runs read the capture: everything twice, nothing lost
    assert pg_totals(pg, "acct_fault") == (2 * tal["packets"], 2 * tal["bytes"])
    assert not spool.exists()


# ---------------------------------------------------------------------------
# NetFlow v5 replays (nfacctd) into every backend, and a server that goes
# away while the daemon runs

NFACCTD = PMACCTD.parent / "nfacctd"


def my_prepare(my):
    # a user of its own: test_mysql_seed_example creates pmacct@'%' with another password
    my.sql("CREATE DATABASE IF NOT EXISTS pmacct; "
           "CREATE USER IF NOT EXISTS nftest@'%' IDENTIFIED BY 'arealsmartpwd'; "
           "GRANT ALL ON pmacct.* TO nftest@'%'")


class Backend:
    """Where a test's rows go, and how to read them back summed per
    (src, dst, proto)."""

    def __init__(self, kind, request, tmp_path):
        self.kind = kind
        self.srv = None
        if kind == "sqlite3":
            self.db = tmp_path / "nf.db"
            self.conf = f"sql_db: {self.db}\n"
        elif kind == "pgsql":
            self.srv = request.getfixturevalue("pg")
            self.conf = self.srv.conf()
        else:
            self.srv = request.getfixturevalue("my")
            my_prepare(self.srv)
            self.conf = (f"sql_host: 127.0.0.1\nsql_port: {self.srv.port}\nsql_user: nftest\n"
                         "sql_passwd: arealsmartpwd\n")

    def query(self, sql):
        if self.kind == "sqlite3":
            con = sqlite3.connect(self.db)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        if self.kind == "pgsql":
            return self.srv.psql(sql, db="pmacct", user="pmacct")
        return self.srv.sql(sql, db="pmacct")

    def sums(self, table):
        rows = self.query(f"SELECT ip_src, ip_dst, ip_proto, SUM(packets), SUM(bytes) "
                          f"FROM {table} GROUP BY ip_src, ip_dst, ip_proto")
        return {(str(s), str(d), int(pr)): (int(p), int(b)) for s, d, pr, p, b in rows}

    def drop(self, table):
        if self.kind != "sqlite3":
            self.query(f"DROP TABLE IF EXISTS {table}")


def nf_conf(backend, table, tmp_path, extra=""):
    return (f"plugins: {backend.kind}[nf]\n{backend.conf}aggregate: src_host, dst_host, proto\n"
            f"sql_table: {table}\nsql_table_version: 9\nsql_num_protos: true\n"
            "sql_history: 1h\nsql_history_roundoff: h\n"
            f"sql_spool_file: {tmp_path}/nf.spool\n" + extra)


@pytest.mark.parametrize("kind", ["sqlite3", "pgsql", "mysql"])
def test_netflow_replay_into_backend(tmp_path, request, kind):
    """nfacctd reads a capture of NetFlow v5 exports (pcap_savefile) into
    each backend: per (src, dst, proto) the sums in the database equal the
    records the generator wrote."""
    if not os.access(NFACCTD, os.X_OK):
        pytest.fail(f"nfacctd not built at {NFACCTD}")
    be = Backend(kind, request, tmp_path)
    table = "acct_nf_replay"
    be.drop(table)
    pcap = tmp_path / "v5.pcap"
    exp = write_netflow_v5_pcap(pcap)
    cfg = tmp_path / "nf.conf"
    cfg.write_text(f"pcap_savefile: {pcap}\n" + nf_conf(be, table, tmp_path))
    r = subprocess.run([str(NFACCTD), "-f", str(cfg)], capture_output=True, text=True,
                       timeout=60, env=DAEMON_ENV)
    assert r.returncode == 0 and "ERROR" not in r.stderr, r.stderr
    assert be.sums(table) == exp
    assert not (tmp_path / "nf.spool").exists()


@pytest.mark.parametrize("kind", ["pgsql", "mysql"])
def test_server_stopped_mid_run(tmp_path, request, kind):
    """nfacctd on a UDP socket, purging every second: the test sends a
    third of the exports, stops the database server while the daemon runs,
    sends another third (purges fail, logged, entries kept; the daemon
    keeps accounting), restarts the server, sends the rest, and at the end
    every byte is in the table."""
    if not os.access(NFACCTD, os.X_OK):
        pytest.fail(f"nfacctd not built at {NFACCTD}")
    be = Backend(kind, request, tmp_path)
    table = "acct_nf_fault"
    be.drop(table)
    grams, exp = netflow_v5_datagrams(n_datagrams=60, seed=23)
    port = free_port()
    cfg = tmp_path / "nf.conf"
    cfg.write_text(f"nfacctd_ip: 127.0.0.1\nnfacctd_port: {port}\n"
                   + nf_conf(be, table, tmp_path, "sql_refresh_time: 1\n"))
    log = tmp_path / "log"
    with open(log, "w") as lf:
        proc = subprocess.Popen([str(NFACCTD), "-f", str(cfg)], stdout=lf,
                                stderr=subprocess.STDOUT, env=DAEMON_ENV, start_new_session=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stopped = False

    def text():
        return log.read_text(errors="replace")

    def purges_ok():
        return sum(1 for ln in text().splitlines() if "QN:" in ln and "QN: 0/0" not in ln)

    def send(part):
        for _, msg in part:
            sock.sendto(msg, ("127.0.0.1", port))
            time.sleep(0.002)

    try:
        assert wait_for(lambda: "waiting for NetFlow" in text(), 15), text()
        third = len(grams) // 3
        send(grams[:third])
        assert wait_for(lambda: purges_ok() >= 1, 15), text()
        be.srv.stop()
        stopped = True
        send(grams[third:2 * third])
        # at least one purge fails while the server is down, logged with its message
        assert wait_for(lambda: "ERROR" in text(), 15), text()
        time.sleep(1.5)
        assert proc.poll() is None, text()
        be.srv.start()
        stopped = False
        send(grams[2 * third:])
        got = {}

        def all_in():
            nonlocal got
            try:
                got = be.sums(table)
            except subprocess.CalledProcessError:
                return False
            return got == exp
        wait_for(all_in, 30, step=0.5)
        assert proc.poll() is None, text()
    finally:
        sock.close()
        if stopped:
            be.srv.start()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode == 0, text()
    assert "arealsmartpwd" not in text()
    got = be.sums(table)
    assert sum(v[1] for v in got.values()) == sum(v[1] for v in exp.values()), text()[-3000:]
    assert got == exp


# ---------------------------------------------------------------------------
# The seed's multi-plugin example on an empty database, every back end:
# eight plugins share two tables and race to create them at their first
# purge; every row must land on the first run.

def multi_conf(kind, pcap, dbconf):
    """examples/mysql-multi.conf on a capture, its plugins of type `kind`,
    its connection keys replaced by the test database's."""
    text = (REPO / "examples/mysql-multi.conf").read_text()
    text = text.replace("interface: eth1", f"pcap_savefile: {pcap}")
    text = text.replace("daemonize: true", "daemonize: false")
    text = text.replace("syslog: daemon\n", "")
    text = "\n".join(ln for ln in text.splitlines()
                     if not ln.startswith(("sql_host:", "sql_user:", "sql_passwd:", "sql_db:")))
    return text.replace("mysql[", f"{kind}[") + "\n" + dbconf


def seed_tallies(tal):
    """Per table, per plugin: the generator's packets and bytes inside its filter."""
    import ipaddress
    want = {}
    for name, (d, net) in SEED_FILTERS.items():
        n = ipaddress.ip_network(net)
        table = "acct_ineth1" if d == "dst" else "acct_outeth1"
        p, b = flows_in(tal, lambda f: f["vlan"] == 0 and f["cvlan"] == 0 and
                        ipaddress.ip_address(f[d]) in n)
        assert p > 0, f"the capture has nothing for {name}: the race would not be tested"
        t = want.setdefault(table, [0, 0])
        t[0] += p
        t[1] += b
    return {k: tuple(v) for k, v in want.items()}


@pytest.mark.parametrize("kind", ["sqlite3", "pgsql", "mysql"])
def test_multi_example_first_run_lands_everything(tmp_path, pcapgen, request, kind):
    """Three rounds, each on an empty database: the example's eight plugins
    flush together at the end of the capture and create their two tables
    concurrently; on that first and only run every row is in its table
    (sums per table equal the generator's), nothing waits in a spool."""
    pcap, tal = pcapgen(40000, 8000, seed=2, v4_only=True)
    want = seed_tallies(tal)
    for rnd in range(3):
        db = f"multi{rnd}"
        if kind == "sqlite3":
            path = tmp_path / f"{db}.db"
            dbconf = f"sql_db: {path}\n"

            def sums(table):
                return sqlite_rows(path, table, "COALESCE(SUM(packets),0), COALESCE(SUM(bytes),0)")[0]

            def writers():
                return sqlite_rows(path, "pmacct_purges", "writer_id, seq, table_name")
        elif kind == "pgsql":
            srv = request.getfixturevalue("pg")
            srv.psql(f"CREATE DATABASE {db} OWNER pmacct")
            dbconf = srv.conf() + f"sql_db: {db}\n"

            def sums(table):
                r = srv.psql(f"SELECT SUM(packets), SUM(bytes) FROM {table}", db=db, user="pmacct")
                return int(r[0][0]), int(r[0][1])

            def writers():
                return srv.psql("SELECT writer_id, seq, table_name FROM pmacct_purges", db=db,
                                user="pmacct")
        else:
            srv = request.getfixturevalue("my")
            srv.sql(f"CREATE DATABASE {db}; CREATE USER IF NOT EXISTS multi@'%' IDENTIFIED BY "
                    f"'multipw'; GRANT ALL ON {db}.* TO multi@'%'")
            dbconf = (f"sql_host: 127.0.0.1\nsql_port: {srv.port}\nsql_db: {db}\n"
                      "sql_user: multi\nsql_passwd: multipw\n")

            def sums(table):
                r = srv.sql(f"SELECT SUM(packets), SUM(bytes) FROM {table}", db=db)
                return int(r[0][0]), int(r[0][1])

            def writers():
                return srv.sql("SELECT writer_id, seq, table_name FROM pmacct_purges", db=db)
        # one purge per plugin, at the end of the capture: an hour-long refresh keeps a run
        # that straddles a minute boundary (the example's sql_history_roundoff: m) from
        # purging early on a loaded machine
        conf = multi_conf(kind, pcap, dbconf + f"sql_spool_file: {tmp_path}/{db}.spool\n"
                          "sql_refresh_time: 3600\n")
        r = subprocess.run([str(PMACCTD), "-f", "/dev/stdin"], input=conf, text=True,
                           capture_output=True, env=DAEMON_ENV, timeout=120)
        assert r.returncode == 0, r.stderr
        assert "ERROR" not in r.stderr and "already exists" not in r.stderr, r.stderr
        assert r.stderr.count("QN: ") >= 8, r.stderr
        for table, tot in want.items():
            assert tuple(int(x) for x in sums(table)) == tot, (table, r.stderr)
        assert not list(tmp_path.glob(f"{db}.spool*")), r.stderr
        # each plugin's one purge is recorded under its own writer id (docs/sql.md)
        got = sorted((w.split("/")[0], int(q), t) for w, q, t in writers())
        assert got == sorted((n, 1, "acct_ineth1" if d == "dst" else "acct_outeth1")
                             for n, (d, _) in SEED_FILTERS.items()), got
