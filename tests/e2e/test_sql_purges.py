# SPDX-License-Identifier: BSD-3-Clause
"""Purge ids: a purge retried after its COMMIT went unacknowledged is counted once.

A TCP proxy on loopback sits between the plugin and PostgreSQL / MariaDB
(the servers test_sql.py starts).  It forwards both ways until the client
sends the COMMIT of a transaction that inserted rows (table creation's
own transactions pass); then, once, it either forwards the COMMIT, lets the server
commit and cuts the connection before the answer comes back ("after": the
rows landed, the plugin cannot know), or cuts without forwarding it
("before": nothing landed).  The database's totals are compared with the
capture generator's tallies: exactly once in both cases; with the
bookkeeping table turned off the landed purge is written again (pmacct's
at-least-once), which shows the cut does what it says.
"""

import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import DAEMON_ENV, PMACCTD, wait_for


class CutProxy:
    """Forwards 127.0.0.1:port to the server; cuts `cuts` connections at a COMMIT."""

    def __init__(self, upstream, mode="after", cuts=1):
        self.upstream, self.mode, self.cuts, self.cut = upstream, mode, cuts, 0
        self.lock = threading.Lock()
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                cli, _ = self.lsock.accept()
            except OSError:
                return
            srv = socket.create_connection(("127.0.0.1", self.upstream))
            state = {"cutting": False}
            self.conns += [cli, srv]
            threading.Thread(target=self._up, args=(cli, srv, state), daemon=True).start()
            threading.Thread(target=self._down, args=(cli, srv, state), daemon=True).start()

    def _take_cut(self):
        with self.lock:
            if self.cut < self.cuts:
                self.cut += 1
                return True
            return False

    def _up(self, cli, srv, state):
        try:
            while True:
                data = cli.recv(65536)
                if not data:
                    break
                if b"INSERT" in data:
                    state["wrote"] = True
                if b"COMMIT" in data and state.get("wrote") and self._take_cut():
                    state["cutting"] = True      # the server's answer is not passed on
                    if self.mode == "after":
                        srv.sendall(data)
                        time.sleep(0.5)          # the server commits meanwhile
                    break
                if b"COMMIT" in data:
                    state["wrote"] = False
                srv.sendall(data)
        except OSError:
            pass
        for s in (cli, srv):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _down(self, cli, srv, state):
        try:
            while True:
                data = srv.recv(65536)
                if not data or state["cutting"]:
                    break
                cli.sendall(data)
        except OSError:
            pass

    def close(self):
        self.lsock.close()
        for s in self.conns:
            s.close()


def backend(kind, request, db):
    """(server, config lines without host/port, sums(table) -> (packets, bytes))."""
    if kind == "pgsql":
        srv = request.getfixturevalue("pg")
        srv.psql(f"CREATE DATABASE {db} OWNER pmacct")

        def sums(table):
            r = srv.psql(f"SELECT COALESCE(SUM(packets),0), COALESCE(SUM(bytes),0) FROM {table}",
                         db=db, user="pmacct")
            return int(r[0][0]), int(r[0][1])
        return srv, f"sql_db: {db}\n", sums
    srv = request.getfixturevalue("my")
    srv.sql(f"CREATE DATABASE {db}; CREATE USER IF NOT EXISTS purges@'%' IDENTIFIED BY 'pw'; "
            f"GRANT ALL ON {db}.* TO purges@'%'")

    def sums(table):
        r = srv.sql(f"SELECT COALESCE(SUM(packets),0), COALESCE(SUM(bytes),0) FROM {table}", db=db)
        return int(r[0][0]), int(r[0][1])
    return srv, f"sql_db: {db}\nsql_user: purges\nsql_passwd: pw\n", sums


def purges_rows(kind, srv, db):
    sql = "SELECT writer_id, seq, table_name, entries FROM pmacct_purges ORDER BY writer_id, seq"
    if kind == "pgsql":
        return srv.psql(sql, db=db, user="pmacct")
    return srv.sql(sql, db=db)


def run_until(workdir, conf, pred, timeout=40):
    """pmacctd with `conf` until pred(log) holds (or timeout), then SIGINT; returns the log."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "pmacctd.conf").write_text(conf)
    log = workdir / "log"
    with open(log, "w") as lf:
        proc = subprocess.Popen([str(PMACCTD), "-f", str(workdir / "pmacctd.conf")], stdout=lf,
                                stderr=subprocess.STDOUT, env=DAEMON_ENV, start_new_session=True)
    try:
        wait_for(lambda: pred(log.read_text(errors="replace")), timeout)
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text(errors="replace")
    assert proc.returncode == 0, text
    return text


def base_conf(pcap, port, dbconf, table, tmp_path, extra=""):
    return (f"pcap_savefile: {pcap}\nplugins: {{kind}}[once]\nsql_host: 127.0.0.1\n"
            f"sql_port: {port}\n{dbconf}aggregate: src_host, dst_host\nsql_table: {table}\n"
            f"sql_history: 5m\nsql_history_roundoff: m\nsql_spool_file: {tmp_path}/once.spool\n"
            + extra)


@pytest.mark.parametrize("mode", ["after", "before"])
@pytest.mark.parametrize("kind", ["pgsql", "mysql"])
def test_commit_unacknowledged_counted_once(tmp_path, pcapgen, request, kind, mode):
    """The first purge's connection is cut at its COMMIT; the purge is kept
    apart and retried under its id at the next purge: skipped when the
    COMMIT had landed ("after"), written when it had not ("before").  The
    table holds the capture's totals exactly once."""
    pcap, tal = pcapgen(3000, 60, seed=3)
    db = f"once_{mode}"
    srv, dbconf, sums = backend(kind, request, db)
    proxy = CutProxy(srv.port, mode)
    want = "had landed before" if mode == "after" else "had not landed"
    try:
        conf = base_conf(pcap, proxy.port, dbconf, "acct_once", tmp_path,
                         "pcap_savefile_wait: true\nsql_refresh_time: 1\n").replace("{kind}", kind)
        log = run_until(tmp_path / "run", conf, lambda t: want in t)
    finally:
        proxy.close()
    assert proxy.cut == 1, log
    assert sums("acct_once") == (tal["packets"], tal["bytes"]), log
    assert "COMMIT failed" in log and want in log, log
    rows = purges_rows(kind, srv, db)
    assert rows and all(r[0].startswith("once/") and r[2] == "acct_once" for r in rows), rows
    assert not list(tmp_path.glob("once.spool*")), log


@pytest.mark.parametrize("books", ["on", "none"])
@pytest.mark.parametrize("kind", ["pgsql", "mysql"])
def test_unacknowledged_at_shutdown_resolved_by_next_run(tmp_path, pcapgen, request, kind, books):
    """Two runs on the same capture; the first one's only purge (at exit)
    loses its COMMIT acknowledgement after the COMMIT landed.  With the
    purges table the purge is saved with its id to <spool>.doubt and the
    next run finds the id recorded: the table holds the capture twice.
    With sql_purge_table: none it goes to the plain spool and is written
    again (pmacct's at-least-once, with a warning): three times."""
    pcap, tal = pcapgen(3000, 60, seed=4)
    db = f"atexit_{books}"
    srv, dbconf, sums = backend(kind, request, db)
    extra = "sql_purge_table: none\n" if books == "none" else ""
    conf_tpl = base_conf(pcap, "{port}", dbconf, "acct_exit", tmp_path, extra)
    conf_tpl = conf_tpl.replace("{kind}", kind)
    logs = []
    for cuts in (1, 0):
        proxy = CutProxy(srv.port, "after", cuts)
        try:
            r = subprocess.run([str(PMACCTD), "-f", "/dev/stdin"], text=True, capture_output=True,
                               input=conf_tpl.replace("{port}", str(proxy.port)),
                               env=DAEMON_ENV, timeout=120)
        finally:
            proxy.close()
        # the first run's purge is not confirmed: kept for the next run, exit status 2
        assert r.returncode == (2 if cuts else 0), r.stderr
        assert proxy.cut == cuts
        assert "not implemented" not in r.stderr, r.stderr
        logs.append(r.stderr)
        if cuts and books == "on":
            assert "saved to" in r.stderr and (tmp_path / "once.spool.doubt").exists(), r.stderr
    if books == "on":
        assert "read back from" in logs[1] and "had landed before" in logs[1], logs[1]
        assert "ERROR" not in logs[1], logs[1]
        assert sums("acct_exit") == (2 * tal["packets"], 2 * tal["bytes"])
    else:
        assert "may be counted twice" in logs[0], logs[0]
        assert "spooled entries read back" in logs[1], logs[1]
        assert sums("acct_exit") == (3 * tal["packets"], 3 * tal["bytes"])
    assert not list(tmp_path.glob("once.spool*"))


@pytest.mark.parametrize("purges", ["missing", "read_only", "no_delete"])
@pytest.mark.parametrize("kind", ["pgsql", "mysql"])
def test_no_create_privilege_falls_back(tmp_path, pcapgen, request, kind, purges):
    """A user that may write the accounting table but create nothing (an
    operator's existing database), a purges table it may only read, or
    not delete from: one clear warning, every row lands (and with INSERT
    on the purges table, the purges are recorded all the same)."""
    pcap, tal = pcapgen(2000, 40, seed=6)
    db = f"nocreate_{purges}"
    user = f"np_{purges}"
    ro = ("CREATE TABLE pmacct_purges (writer_id VARCHAR(255) NOT NULL, seq BIGINT NOT NULL, "
          "table_name VARCHAR(255) NOT NULL DEFAULT '', entries BIGINT NOT NULL DEFAULT 0, "
          "purged_at BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (writer_id, seq))")
    grant = "SELECT" if purges == "read_only" else "SELECT, INSERT"
    ddl = ("CREATE TABLE acct_np (ip_dst VARCHAR(45) NOT NULL, packets BIGINT NOT NULL, "
           "bytes BIGINT NOT NULL, stamp_inserted {ts} NOT NULL, stamp_updated {ts}, "
           "PRIMARY KEY (ip_dst, stamp_inserted))")
    if kind == "pgsql":
        srv = request.getfixturevalue("pg")
        srv.psql(f"CREATE DATABASE {db}")           # owned by postgres
        srv.psql(f"CREATE USER {user}")
        srv.psql(ddl.format(ts="timestamp without time zone"), db=db)
        srv.psql("REVOKE CREATE ON SCHEMA public FROM PUBLIC; "
                 f"GRANT SELECT, INSERT, UPDATE ON acct_np TO {user}", db=db)
        if purges != "missing":
            srv.psql(ro, db=db)
            srv.psql(f"GRANT {grant} ON pmacct_purges TO {user}", db=db)
        dbconf = f"sql_host: 127.0.0.1\nsql_port: {srv.port}\nsql_db: {db}\nsql_user: {user}\n"

        def sums():
            r = srv.psql("SELECT SUM(packets), SUM(bytes) FROM acct_np", db=db)
            return int(r[0][0]), int(r[0][1])

        def recorded():
            return int(srv.psql("SELECT COUNT(*) FROM pmacct_purges", db=db)[0][0])
    else:
        srv = request.getfixturevalue("my")
        srv.sql(f"CREATE DATABASE {db}")
        srv.sql(ddl.format(ts="DATETIME"), db=db)
        srv.sql(f"CREATE USER {user}@'%' IDENTIFIED BY 'pw'; "
                f"GRANT SELECT, INSERT, UPDATE ON {db}.acct_np TO {user}@'%'")
        if purges != "missing":
            srv.sql(ro, db=db)
            srv.sql(f"GRANT {grant} ON {db}.pmacct_purges TO {user}@'%'")
        dbconf = (f"sql_host: 127.0.0.1\nsql_port: {srv.port}\nsql_db: {db}\n"
                  f"sql_user: {user}\nsql_passwd: pw\n")

        def sums():
            r = srv.sql("SELECT SUM(packets), SUM(bytes) FROM acct_np", db=db)
            return int(r[0][0]), int(r[0][1])

        def recorded():
            return int(srv.sql("SELECT COUNT(*) FROM pmacct_purges", db=db)[0][0])
    conf = (f"pcap_savefile: {pcap}\nplugins: {kind}[np]\n{dbconf}aggregate: dst_host\n"
            "sql_optimize_clauses: true\nsql_table: acct_np\nsql_history: 5m\n"
            f"sql_history_roundoff: m\nsql_spool_file: {tmp_path}/np.spool\n")
    r = subprocess.run([str(PMACCTD), "-f", "/dev/stdin"], input=conf, text=True,
                       capture_output=True, env=DAEMON_ENV, timeout=120)
    assert r.returncode == 0 and "ERROR" not in r.stderr, r.stderr
    warning = {"missing": "cannot create the purges table 'pmacct_purges'",
               "read_only": "cannot record purge ids in 'pmacct_purges'",
               "no_delete": "cannot delete earlier purge ids from 'pmacct_purges'"}[purges]
    assert r.stderr.count(warning) == 1 and r.stderr.count("WARN") == 1, r.stderr
    assert sums() == (tal["packets"], tal["bytes"])
    if purges != "missing":
        assert recorded() == (1 if purges == "no_delete" else 0)
    assert not (tmp_path / "np.spool").exists()
