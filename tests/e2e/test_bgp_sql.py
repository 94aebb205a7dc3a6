# SPDX-License-Identifier: BSD-3-Clause
"""BGP primitives into pmacct's bgp SQL table (sqlite3, PostgreSQL, MariaDB),
differential: our nfacctd and Debian's 1.7.7 get the same routes (a raw iBGP
speaker, tests/e2e/bgp_wire.py) and the same NetFlow v5, each into tables made
from Debian's own scripts (/usr/share/doc/pmacct/sql/pmacct-create-table_bgp_v1
.sqlite3, .pgsql, pmacct-create-db_bgp_v1.mysql), and must leave the same rows.

Three plugins per backend and daemon:
- "auto": no sql_table_type, the aggregate holds BGP primitives: both switch to the
  bgp table type by themselves ("sql_table_type set to 'bgp' ..."); the table as
  pmacct's script makes it, the aggregate its columns.
- "xauto": the same with ext_comm, lrg_comm and the src_* twins aggregated too, into
  the script's table with the columns it lacks added (ecomms, lcomms, comms_src, ...:
  docs/bgp.md): which of them 1.7.7 writes without sql_optimize_clauses.
- "full": `sql_table_type: bgp`, `sql_optimize_clauses: true`, every BGP primitive
  (ext_comm, lrg_comm and the src_* twins too, tag and peer_src_ip: the MySQL table's
  NOT NULL columns without defaults) into the extended table.
Rows are compared whole (stamp_updated aside), counters included.  peer_ip_dst is
compared apart: 1.7.7's nfacctd never fills it for IPv4 (/work/brief/bgp-oracle.md,
docs/bgp.md "peer_dst_ip and 1.7.7"), so ours is checked against the routes' next
hops and both sides' rows are then compared with it set aside.
"""

import ipaddress
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from bgp_peers import Route, lpm
from bgp_xrun import Collector, binaries
from conftest import skip_or_fail

pytest.importorskip("scapy.layers.netflow")

SQL = Path("/usr/share/doc/pmacct/sql")
SPEAKER = "127.0.0.81"        # a loopback address of its own (other BGP tests use others)
ASN = 65001

ROUTES = [
    Route("10.1.0.0/16", "192.0.2.1", (65020, 65010), ("65000:1", "65000:2"),
          (("rt", "65000:100"),), ("65000:1:2",), 200, 50),
    Route("10.2.0.0/16", "192.0.2.2", (65030,), ("65000:3",), (("soo", "65000:7"),),
          ("65000:5:6",), 300, 70),
    Route("10.3.0.0/16", "192.0.2.3"),                 # no attribute but the path (empty)
]
# (src, dst, next hop, packets, bytes): both ways known, the attribute-less route,
# no route either side, a route on the source side only
FLOWS = [("10.2.0.1", "10.1.0.1", "0.0.0.0", 10, 1000), ("10.3.0.1", "10.3.0.2", "0.0.0.0", 20, 2000),
         ("192.168.0.1", "192.168.0.2", "0.0.0.0", 30, 3000), ("10.1.0.5", "10.2.0.5", "0.0.0.0", 50, 5000),
         ("10.1.0.9", "192.168.1.1", "0.0.0.0", 70, 7000)]
EXPORT_TIME = int(time.time()) // 3600 * 3600 + 1800   # one sql_history bin for both runs
TIMES = 40                    # datagrams sent (the core hands over full buffers)

AGG_AUTO = ("src_as, dst_as, peer_src_as, peer_dst_as, peer_src_ip, peer_dst_ip, std_comm, "
            "as_path, local_pref, med")
AGG_XAUTO = AGG_AUTO + (", ext_comm, lrg_comm, src_std_comm, src_ext_comm, src_lrg_comm, "
                        "src_as_path, src_local_pref, src_med")
AGG_FULL = ("tag, peer_src_ip, src_as, dst_as, peer_src_as, peer_dst_as, peer_dst_ip, std_comm, ext_comm, lrg_comm, "
            "as_path, local_pref, med, src_std_comm, src_ext_comm, src_lrg_comm, src_as_path, "
            "src_local_pref, src_med")
EXTRA_TEXT = ("ecomms", "lcomms", "comms_src", "ecomms_src", "lcomms_src", "as_path_src")
EXTRA_NUM = ("local_pref_src", "med_src")
BACKENDS = ("sqlite3", "pgsql", "mysql")
VARIANTS = ("auto", "xauto", "full")


def script(name):
    """Debian's script's CREATE TABLE (and the pgsql GRANT), without its
    database-level statements."""
    text = (SQL / name).read_text()
    text = "\n".join(x for x in text.splitlines() if not x.lstrip().startswith("--"))
    stmts = [s.strip() for s in text.split(";") if s.strip()]
    return [s for s in stmts if re.match(r"(?i)(create table|grant)", s)]


def table_sql(kind, table, full):
    src = {"sqlite3": "pmacct-create-table_bgp_v1.sqlite3", "pgsql": "pmacct-create-table_bgp_v1.pgsql",
           "mysql": "pmacct-create-db_bgp_v1.mysql"}[kind]
    stmts = [s.replace("acct_bgp", table) for s in script(src)]
    if full:
        num = {"sqlite3": "INT(8)", "pgsql": "BIGINT", "mysql": "INT(4) UNSIGNED"}[kind]
        stmts += [f"ALTER TABLE {table} ADD COLUMN {c} CHAR(64) NOT NULL DEFAULT ' '" for c in EXTRA_TEXT]
        stmts += [f"ALTER TABLE {table} ADD COLUMN {c} {num} NOT NULL DEFAULT 0" for c in EXTRA_NUM]
    return stmts


class Dbs:
    """The three backends: sqlite3 files, the module's PostgreSQL and MariaDB."""

    def __init__(self, pg, my, tmp):
        self.pg, self.my, self.tmp = pg, my, tmp
        my.sql("CREATE DATABASE IF NOT EXISTS pmacct; "
               "CREATE USER IF NOT EXISTS bgptest@'%' IDENTIFIED BY 'arealsmartpwd'; "
               "GRANT ALL ON pmacct.* TO bgptest@'%'")

    def sqlite_file(self, who, table):
        return self.tmp / f"{table}.db"       # one file a plugin: 1.7.7 gets "database is locked"

    def create(self, kind, who, table, full):
        stmts = table_sql(kind, table, full)
        if kind == "sqlite3":
            con = sqlite3.connect(self.sqlite_file(who, table))
            for s in stmts:
                con.execute(s)
            con.commit()
            con.close()
        elif kind == "pgsql":
            for s in stmts:
                self.pg.psql(s, db="pmacct")
        else:
            self.my.sql("; ".join(stmts), db="pmacct")

    def conf(self, kind, who, name, table):
        if kind == "sqlite3":
            return f"sql_db[{name}]: {self.sqlite_file(who, table)}\n"
        if kind == "pgsql":
            return f"sql_host[{name}]: 127.0.0.1\nsql_port[{name}]: {self.pg.port}\n"
        return (f"sql_host[{name}]: 127.0.0.1\nsql_port[{name}]: {self.my.port}\n"
                f"sql_user[{name}]: bgptest\nsql_passwd[{name}]: arealsmartpwd\n")

    def rows(self, kind, who, table):
        """[{column: text}] of the table, every value as text (NULL: None)."""
        if kind == "sqlite3":
            con = sqlite3.connect(self.sqlite_file(who, table))
            cur = con.execute(f"SELECT * FROM {table}")
            names = [c[0] for c in cur.description]
            out = [{n: None if v is None else str(v) for n, v in zip(names, r)} for r in cur]
            con.close()
            return out
        if kind == "pgsql":
            names = [r[0] for r in self.pg.psql(
                "SELECT column_name FROM information_schema.columns WHERE table_name = "
                f"'{table}' ORDER BY ordinal_position", db="pmacct")]
            vals = self.pg.psql(f"SELECT {', '.join(names)} FROM {table}", db="pmacct")
            return [dict(zip(names, r)) for r in vals]
        names = [r[0] for r in self.my.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'pmacct' "
            f"AND table_name = '{table}' ORDER BY ordinal_position")]
        vals = self.my.sql(f"SELECT {', '.join(names)} FROM {table}", db="pmacct")
        return [dict(zip(names, r)) for r in vals]


def plugin_name(kind, variant):
    return f"{kind[0]}{variant[0]}"       # sa, sx, sf, pa, px, ...


def body(dbs, who):
    text = f"""nfacctd_as: bgp
nfacctd_net: bgp
bgp_peer_src_as_type: bgp
bgp_src_std_comm_type: bgp
bgp_src_ext_comm_type: bgp
bgp_src_lrg_comm_type: bgp
bgp_src_as_path_type: bgp
bgp_src_local_pref_type: bgp
bgp_src_med_type: bgp
plugin_buffer_size: 12000
plugin_pipe_size: 12000000
plugins: {", ".join(f"{k}[{plugin_name(k, v)}]" for k in BACKENDS for v in VARIANTS)}
sql_refresh_time: 2
sql_history: 1h
sql_history_roundoff: h
"""
    for k in BACKENDS:
        for v in VARIANTS:
            n = plugin_name(k, v)
            text += f"sql_table[{n}]: bgp_{who}_{n}\n" + dbs.conf(k, who, n, f"bgp_{who}_{n}")
            if who == "ours":     # our key (1.7.7 has none): the spool of this run only
                text += f"sql_spool_file[{n}]: {dbs.tmp}/{n}.spool\n"
            if v != "full":
                text += f"aggregate[{n}]: {AGG_AUTO if v == 'auto' else AGG_XAUTO}\n"
            else:
                text += (f"aggregate[{n}]: {AGG_FULL}\nsql_table_type[{n}]: bgp\n"
                         f"sql_optimize_clauses[{n}]: true\n")
    return text


def run(binary, who, dbs, d):
    for k in BACKENDS:
        for v in VARIANTS:
            n = plugin_name(k, v)
            dbs.create(k, who, f"bgp_{who}_{n}", v != "auto")
    c = Collector(binary, d, body(dbs, who))
    try:
        c.speak(SPEAKER, ROUTES, ASN, rid="10.0.0.81")
        c.send_v5(SPEAKER, FLOWS, times=TIMES, unix_secs=EXPORT_TIME)
        time.sleep(3)             # a purge (sql_refresh_time 2) after the last datagram
    finally:
        c.stop()
    out = {(k, v): dbs.rows(k, who, f"bgp_{who}_{plugin_name(k, v)}") for k in BACKENDS for v in VARIANTS}
    return out, c.log()


@pytest.fixture(scope="module")
def runs(pg, my, tmp_path_factory):
    res = {}
    for who, binary in binaries():
        if not binary.exists():
            skip_or_fail(f"{binary} missing", module=True)
        tmp = tmp_path_factory.mktemp(who)
        res[who] = run(binary, who, Dbs(pg, my, tmp), tmp)
    return res


def truth_next_hop(dst):
    r = lpm(ROUTES, dst)
    return r.next_hop if r else None


def want_peer_ip_dst():
    """{peer_ip_dst: packets}: each flow's BGP next hop (no route: 0.0.0.0, the column's
    default for an unset address) times the datagrams."""
    c = Counter()
    for s, d, _, p, _ in FLOWS:
        c[truth_next_hop(d) or "0.0.0.0"] += p * TIMES
    return c


def regroup(rows, kind, drop=("stamp_updated", "peer_ip_dst")):
    """The rows with `drop` columns removed and rows then equal merged, counters summed.
    PostgreSQL pads CHAR(n) and MySQL strips its trailing blanks: there ' ' (the bgp
    script's default) and '' are one value; sqlite3 keeps them apart."""
    acc = Counter()
    strip = (lambda v: (v or "").rstrip()) if kind != "sqlite3" else (lambda v: v)
    for r in rows:
        key = tuple(sorted((k, strip(v)) for k, v in r.items()
                           if k not in drop and k not in ("packets", "bytes")))
        acc[key + (("packets",),)] += int(r["packets"])
        acc[key + (("bytes",),)] += int(r["bytes"])
    return dict(acc)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kind", BACKENDS)
def test_rows_as_1_7_7(runs, kind, variant):
    """Every column 1.7.7 writes, ours writes the same: with the script's table (no flows
    column), the src_* twins 1.7.7 adds when aggregated (comms_src, as_path_src,
    local_pref_src, med_src), every BGP primitive under sql_optimize_clauses."""
    ref, ours = runs["ref"][0][(kind, variant)], runs["ours"][0][(kind, variant)]
    assert ref, f"1.7.7 wrote no {kind} rows:\n{runs['ref'][1][-3000:]}"
    sent = TIMES * sum(f[3] for f in FLOWS)
    assert sum(int(r["packets"]) for r in ours) == sent, "ours counted every datagram"
    if sum(int(r["packets"]) for r in ref) == sent:
        assert regroup(ours, kind) == regroup(ref, kind)
    else:   # 1.7.7 lost datagrams (a loaded host): the rows without their counters
        keys = lambda rows: {k[:-1] for k in regroup(rows, kind)}
        assert keys(ours) == keys(ref)


@pytest.mark.parametrize("kind", BACKENDS)
def test_auto_switch_logged(runs, kind):
    """Both switch the auto plugins to the bgp table, saying so once, as 1.7.7."""
    line = "sql_table_type set to 'bgp' (aggregate includes one or more BGP primitives)."
    for who in ("ref", "ours"):
        log = runs[who][1]
        n = plugin_name(kind, "auto")
        assert log.count(f"INFO ( {n}/{kind} ): {line}") == 1, (who, log[-2000:])
        assert f"( {plugin_name(kind, 'full')}/{kind} ): {line}" not in log


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kind", BACKENDS)
def test_peer_ip_dst(runs, kind, variant):
    """1.7.7's nfacctd writes 0.0.0.0 for every IPv4 flow (its bug); ours the route's BGP
    next hop, 0.0.0.0 without a route: what pmacct master's nfacctd writes (verified with
    its sqlite3 plugin, same routes and flows)."""
    ref = Counter()
    for r in runs["ref"][0][(kind, variant)]:
        ref[str(ipaddress.ip_address(r["peer_ip_dst"].strip()))] += int(r["packets"])
    assert set(ref) == {"0.0.0.0"}, ref
    ours = Counter()
    for r in runs["ours"][0][(kind, variant)]:
        ours[r["peer_ip_dst"].strip()] += int(r["packets"])
    assert ours == want_peer_ip_dst()
