# SPDX-License-Identifier: BSD-3-Clause
"""What an operator installs: `meson install` into a DESTDIR (binaries, manual pages, SQL
scripts, examples, systemd units), the pages rendered with man, the units checked by
systemd-analyze, and the Debian package built with dpkg-buildpackage, unpacked into a temporary
root and run from there."""

import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import DAEMON_ENV, PMACCTD, REPO, needs, skip_or_fail

BUILD = PMACCTD.parent
PAGES = ["man8/pmacctd.8", "man8/nfacctd.8", "man8/sfacctd.8", "man8/uacctd.8", "man1/pmacct.1",
         "man5/pmacct.conf.5"]
DAEMONS = ["pmacctd", "nfacctd", "sfacctd", "uacctd"]


def demo_rows(out):
    """The data rows of the demo's formatted tables (fields ending in packets, bytes)."""
    rows = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 3 and f[-1].isdigit() and f[-2].isdigit():
            rows.append(tuple(f))
    return sorted(rows)


@pytest.fixture(scope="module")
def destdir(tmp_path_factory):
    if not (BUILD / "build.ninja").exists():
        pytest.fail(f"{BUILD} is not a meson build directory")
    root = tmp_path_factory.mktemp("destdir")
    subprocess.run(["meson", "install", "-C", str(BUILD), "--destdir", str(root), "--no-rebuild",
                    "--quiet"], check=True, capture_output=True)
    prefix = subprocess.run(["meson", "introspect", "--buildoptions", str(BUILD)],
                            check=True, capture_output=True, text=True).stdout
    m = re.search(r'"name": "prefix", "value": "([^"]+)"', prefix)
    return root, Path(m.group(1) if m else "/usr/local")


def test_install_puts_everything_in_place(destdir):
    root, prefix = destdir
    base = root / prefix.relative_to("/")
    for d in DAEMONS:
        assert os.access(base / "sbin" / d, os.X_OK), d
    assert os.access(base / "bin" / "pmacct", os.X_OK)
    for p in PAGES:
        assert (base / "share/man" / p).is_file(), p
    sql = base / "share/pmacct-ng/sql"
    assert sorted(f.name for f in sql.iterdir()) == sorted(f.name for f in (REPO / "sql").iterdir())
    for u in DAEMONS:
        assert (base / "lib/systemd/system" / f"{u}@.service").is_file(), u


def test_installed_daemon_runs_the_installed_example(destdir):
    """The installed pmacctd on the installed demo example gives the repo build's output."""
    root, prefix = destdir
    base = root / prefix.relative_to("/")
    share = base / "share/pmacct-ng"
    ours = subprocess.run([str(base / "sbin/pmacctd"), "-f", "examples/demo.conf"], cwd=share,
                          env=DAEMON_ENV, capture_output=True, text=True, timeout=60)
    assert ours.returncode == 0, ours.stderr
    ref = subprocess.run([str(PMACCTD), "-f", "examples/demo.conf"], cwd=REPO, env=DAEMON_ENV,
                         capture_output=True, text=True, timeout=60)
    assert demo_rows(ours.stdout) and demo_rows(ours.stdout) == demo_rows(ref.stdout)
    v = subprocess.run([str(base / "sbin/nfacctd"), "-V"], capture_output=True, text=True)
    assert v.returncode == 0 and "Plugins:" in v.stdout and "\nprint\n" in v.stdout


@pytest.mark.parametrize("page", PAGES)
def test_man_pages_render_without_warnings(destdir, page):
    root, prefix = destdir
    path = root / prefix.relative_to("/") / "share/man" / page
    r = subprocess.run(["man", "--warnings", "-l", str(path)], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="100", LC_ALL="C.UTF-8", MANPAGER="cat",
                                PAGER="cat"))
    assert r.returncode == 0
    assert r.stderr.strip() == "", r.stderr
    name = page.split("/")[1].rsplit(".", 1)[0].upper()
    assert r.stdout.lstrip().startswith(name), r.stdout[:80]
    assert "SEE ALSO" in r.stdout


def test_config_page_lists_every_key_and_primitive(destdir):
    """pmacct.conf(5) is generated from the tables: every key of docs/config-keys.md and every
    primitive of `pmacctd -a` appears in it."""
    root, prefix = destdir
    page = subprocess.run(["man", "-l", str(root / prefix.relative_to("/") / "share/man/man5/pmacct.conf.5")],
                          capture_output=True, text=True,
                          env=dict(os.environ, MANWIDTH="200", LC_ALL="C", MANPAGER="cat")).stdout
    page = page.replace("\u2010", "-")
    keys = re.findall(r"^\| `([a-z0-9_]+)` \|", (REPO / "docs/config-keys.md").read_text(), re.M)
    assert len(keys) > 100
    missing = [k for k in keys if not re.search(rf"^\s+{re.escape(k)}(\s|$)", page, re.M)]
    assert missing == []
    prims = subprocess.run([str(PMACCTD), "-a"], capture_output=True, text=True).stdout
    names = re.findall(r"^([a-z0-9_]+)\s+:", prims, re.M)
    assert len(names) > 20
    assert [n for n in names if n not in page] == []


@needs(shutil.which("systemd-analyze") is not None, "systemd-analyze absent")
@pytest.mark.parametrize("daemon", DAEMONS)
def test_units_pass_systemd_analyze_verify(destdir, tmp_path, daemon):
    """The installed template unit, instantiated for the demo config, verifies cleanly
    (paths pointed into the DESTDIR so the binaries it names exist)."""
    root, prefix = destdir
    unit = (root / prefix.relative_to("/") / "lib/systemd/system" / f"{daemon}@.service").read_text()
    for key in ("ExecReload=/bin/kill -USR2 $MAINPID", "NoNewPrivileges=yes",
                "ProtectSystem=strict", "User=pmacct", "RuntimeDirectory=pmacct",
                "StateDirectory=pmacct", "ReadWritePaths=/tmp"):
        assert key in unit, key
    # pmacct's defaults (/tmp/collect.pipe, spools) must be the host's, seen by `pmacct`
    assert "PrivateTmp=yes" not in unit
    confs = re.findall(r"^Exec\S+=\S+ .*-f (\S+)", unit, re.M)
    assert len(confs) == 2 and all(c.startswith("/") for c in confs), confs
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M).group(1).split()
    assert ("CAP_NET_RAW" in caps) == (daemon == "pmacctd")
    unit = unit.replace(str(prefix / "sbin"), str(root / prefix.relative_to("/") / "sbin"))
    path = tmp_path / f"{daemon}@demo.service"
    path.write_text(unit)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(path)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr


def test_check_mode_validates_a_config(tmp_path):
    """-T config (ExecStartPre of the units) loads filters and maps as start-up does and
    refuses a bad one with file, line and key named, without opening anything."""
    # the seed captures on eth1, which this host may lack (start-up and -T config refuse that)
    seed = (REPO / "examples/mysql-multi.conf").read_text().replace("interface: eth1",
                                                                     "interface: lo")
    assert "interface: lo" in seed
    typo = tmp_path / "typo.conf"
    typo.write_text(seed.replace("src net 192.168.50.0/23", "src net 192.2168.50/23"))
    r = subprocess.run([str(PMACCTD), "-f", str(typo), "-T", "config"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0
    line = next(i for i, l in enumerate(typo.read_text().splitlines(), 1)
                if l.startswith("aggregate_filter[outbound2]"))
    assert f"[{typo}:{line}] key 'aggregate_filter[outbound2]'" in r.stderr, r.stderr
    good = tmp_path / "seed.conf"
    good.write_text(seed)
    r = subprocess.run([str(PMACCTD), "-f", str(good), "-T", "config"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr       # no MySQL server needed: nothing is opened
    nomap = tmp_path / "nomap.conf"
    nomap.write_text(f"plugins: print\naggregate: tag, src_host\npre_tag_map: {tmp_path}/absent.map\n")
    for daemon in (PMACCTD, PMACCTD.parent / "nfacctd", PMACCTD.parent / "sfacctd"):
        r = subprocess.run([str(daemon), "-f", str(nomap), "-T", "config"], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode != 0 and "absent.map" in r.stderr, (daemon, r.stderr)
    bad = tmp_path / "bad.conf"
    bad.write_text("plugins: print\naggregate: src_host,no_such_primitive\n")
    r = subprocess.run([str(PMACCTD), "-f", str(bad), "-T", "config"], capture_output=True,
                       text=True)
    assert r.returncode != 0 and f"{bad}" in r.stderr + r.stdout


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    """Build the .deb from a copy of the tree (no tests: `make test` runs them)."""
    if shutil.which("dpkg-buildpackage") is None or not Path("/usr/bin/dh").exists():
        skip_or_fail("dpkg-buildpackage / debhelper absent (make test installs them)")
    work = tmp_path_factory.mktemp("deb")
    src = work / "pmacct-ng"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                           check=True, capture_output=True, text=True).stdout.split("\n")
    with tarfile.open(work / "src.tar", "w") as t:
        for f in files:
            if f and (REPO / f).exists():
                t.add(REPO / f, arcname=f)
    with tarfile.open(work / "src.tar") as t:
        t.extractall(src)
    r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src,
                       env=dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2"),
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    debs = sorted(work.glob("pmacct-ng_*.deb"))
    assert len(debs) == 1, list(work.iterdir())
    return debs[0]


def test_deb_installs_into_a_root_and_runs(deb, tmp_path):
    info = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Depends", "Conflicts"],
                          check=True, capture_output=True, text=True).stdout
    assert "Package: pmacct-ng" in info and "libpcap" in info
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], check=True, capture_output=True,
                             text=True).stdout
    for f in ["./usr/sbin/pmacctd", "./usr/sbin/nfacctd", "./usr/sbin/sfacctd", "./usr/bin/pmacct",
              "./usr/share/man/man8/pmacctd.8.gz", "./usr/share/man/man5/pmacct.conf.5.gz",
              "./lib/systemd/system/nfacctd@.service",
              "./usr/share/pmacct-ng/sql/pmacct-create-table_v1.sqlite3"]:
        assert f in listing, f
    root = tmp_path / "root"
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    r = subprocess.run([str(root / "usr/sbin/pmacctd"), "-f", "examples/demo.conf"],
                       cwd=root / "usr/share/pmacct-ng", env=DAEMON_ENV, capture_output=True,
                       text=True, timeout=60)
    ref = subprocess.run([str(PMACCTD), "-f", "examples/demo.conf"], cwd=REPO, env=DAEMON_ENV,
                         capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert demo_rows(r.stdout) and demo_rows(r.stdout) == demo_rows(ref.stdout)


@needs(shutil.which("lintian") is not None, "lintian absent")
def test_deb_has_no_lintian_errors(deb):
    r = subprocess.run(["lintian", "--no-tag-display-limit", str(deb)], capture_output=True,
                       text=True, timeout=600)
    errors = [l for l in r.stdout.splitlines() if l.startswith("E:")]
    assert errors == [], r.stdout
