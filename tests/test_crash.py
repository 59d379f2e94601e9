"""Crash safety: a real process killed (SIGKILL) at many points of a command leaves the store
exactly as it was before the command — or, when the kill came after the commit, exactly as a
finished run leaves it; never anything in between — and the command then reruns cleanly.

No hooks in the product: the kill points come from timing. For each command a reference run
measures when the process takes the store's write lock (a third process holds the lock, the
child waits for it, the lock is released and the time to exit is the length of the child's
transaction); the kills are then spread evenly over that transaction. Set
SHUANGSUIJI_CRASH_KILLS (default 6) for more kill points per command.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, sqlite_only

pytestmark = [
    pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs SIGKILL and /proc (Linux)"),
    # Kill points are timed from the child opening the SQLite file, stores restored by file copy and compared
    # in rowid order; on PostgreSQL a killed client's transaction is the server's to roll back (test_pg_crash.py).
    sqlite_only("kills a process inside SQLite's own file writes"),
]

KILLS = int(os.environ.get("SHUANGSUIJI_CRASH_KILLS", "6"))
ROWS = 100_000
CHECKLIST = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"
SEED = "27182818284590452353602874"


# ---------------------------------------------------------------- helpers


def run_in(db: Path, *args) -> None:
    """A command in this process against ``db`` (building the starting stores)."""
    from shuangsuiji.cli.main import main

    code = main(["--db", str(db), "--operator", "tester", *[str(a) for a in args]])
    assert code == 0, args


def dump(db: Path) -> dict:
    """The store's logical content: schema, and per table its row count and the hash of its rows.

    Rows in rowid order: a rolled-back transaction leaves every row where it was.
    """
    conn = sqlite3.connect(db)
    try:
        out = {"schema": sorted(conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))}
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in sorted(tables):
            digest, n = hashlib.sha256(), 0
            cursor = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
            while rows := cursor.fetchmany(20_000):
                digest.update(repr(rows).encode())
                n += len(rows)
            out[table] = (n, digest.hexdigest())
    finally:
        conn.close()
    return out


def counts(d: dict) -> dict:
    return {k: v[0] for k, v in d.items() if k != "schema"}


def restore(template: Path, work: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, work)


def settle(db: Path) -> None:
    """Fold the WAL into the file so that a plain copy of it is the whole store."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def start(work: Path, args) -> subprocess.Popen:
    env = {**os.environ, "SHUANGSUIJI_DB": str(work), "SHUANGSUIJI_OPERATOR": "tester", "SHUANGSUIJI_LANG": "en",
           "SHUANGSUIJI_BUSY_TIMEOUT_MS": "20000"}
    return subprocess.Popen([sys.executable, "-m", "shuangsuiji", *[str(a) for a in args]], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_until_open(proc: subprocess.Popen, db: Path) -> float:
    """The moment the child opens the store: it takes the write lock right then (BEGIN IMMEDIATE)."""
    fds = Path(f"/proc/{proc.pid}/fd")
    target = str(db)
    while True:
        try:
            for fd in os.listdir(fds):
                if os.readlink(fds / fd) == target:
                    return time.monotonic()
        except FileNotFoundError:  # an fd closed while we looked, or the process is gone
            pass
        assert proc.poll() is None, f"the command ended before opening the store: {proc.stderr.read()}"
        time.sleep(0.001)


def measure(template: Path, work: Path, args) -> float:
    """Seconds from opening the store (taking the write lock) to committing, in a free run.

    The commit is seen by polling the audit log's head as a WAL reader, which never blocks
    the writer.
    """
    restore(template, work)
    reader = sqlite3.connect(work, isolation_level=None)
    seq = reader.execute("SELECT MAX(seq) FROM audit_log").fetchone()[0]
    proc = start(work, args)
    opened = wait_until_open(proc, work)
    while reader.execute("SELECT MAX(seq) FROM audit_log").fetchone()[0] == seq:
        assert proc.poll() is None or proc.returncode == 0, proc.stderr.read()
        time.sleep(0.005)
    window = time.monotonic() - opened
    reader.close()
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    return window


def check_store(cli, monkeypatch, work: Path) -> None:
    monkeypatch.setenv("SHUANGSUIJI_DB", str(work))
    verified = cli("audit", "verify")
    assert verified.code == 0, verified.err
    checked = cli("db", "check")
    assert checked.code == 0, checked.err


def kill_at_many_points(cli, monkeypatch, template: Path, work: Path, args, kills: int = KILLS, each=None) -> dict:
    """Kill ``args`` at ``kills`` points of its transaction; every outcome is 'before' or 'after'.

    ``each(before_dump)``, if given, checks whatever else the command writes, after each kill.
    """
    settle(template)
    before = dump(template)
    window = measure(template, work, args)
    after = dump(work)
    if each:
        each(before)
    assert counts(after) != counts(before), "the command changed nothing: the test would prove nothing"
    outcomes = []
    # Latest kill point first, so that the last kill (the earliest point) most surely leaves the
    # store as it was, WAL and all, for the rerun below.
    for i in reversed(range(kills)):
        restore(template, work)
        proc = start(work, args)
        opened = wait_until_open(proc, work)
        time.sleep(max(0.0, opened + window * (i + 0.5) / kills - time.monotonic()))
        proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=60)
        state = dump(work)
        if state == before:
            outcomes.append("before")
        else:
            # The kill came after the commit: the whole command is there, with its one audit entry.
            assert counts(state) == counts(after), f"kill {i} ({code}) left a partial store: {counts(state)} vs {counts(after)}"
            outcomes.append("after")
        check_store(cli, monkeypatch, work)
        if each:
            each(before)
    assert "before" in outcomes, f"no kill landed inside the command ({outcomes}); window {window:.2f} s"
    if outcomes[-1] != "before":
        restore(template, work)
    rerun = start(work, args)
    assert rerun.wait(timeout=120) == 0, rerun.stderr.read()
    assert counts(dump(work)) == counts(after)
    check_store(cli, monkeypatch, work)
    return {"outcomes": outcomes, "window": window}


# ---------------------------------------------------------------- starting stores


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    """A 100,000-row directory file (bench/make_directory.py: valid, unique codes)."""
    path = tmp_path_factory.mktemp("crash") / "directory.csv"
    subprocess.run([sys.executable, ROOT / "bench" / "make_directory.py", path, "--rows", str(ROWS)], check=True)
    return path


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """An initialised store with the departments."""
    db = tmp_path_factory.mktemp("crash") / "base.db"
    run_in(db, "init")
    run_in(db, "departments", "import", EXAMPLES / "departments.yaml")
    settle(db)
    return db


def copy_of(template: Path, tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    shutil.copyfile(template, out)
    return out


# ---------------------------------------------------------------- the commands


def test_killed_import_into_an_empty_directory_leaves_it_empty(cli, monkeypatch, base, big_csv, tmp_path):
    template = copy_of(base, tmp_path, "template.db")
    kill_at_many_points(cli, monkeypatch, template, tmp_path / "work.db", ["objects", "import", big_csv])


def test_killed_import_into_a_full_directory_changes_nothing(cli, monkeypatch, base, big_csv, tmp_path):
    # Half the rows already there with another risk class: the import updates 50,000 (with
    # history rows) and inserts 50,000.
    with open(big_csv, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1 : 1 + ROWS // 2]
    k = header.index("risk_class")
    shifted = {"A": "B", "B": "C", "C": "D", "D": "A"}
    half = tmp_path / "half.csv"
    with open(half, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *[r[:k] + [shifted[r[k]]] + r[k + 1 :] for r in body]])
    template = copy_of(base, tmp_path, "template.db")
    run_in(template, "objects", "import", half)
    kill_at_many_points(cli, monkeypatch, template, tmp_path / "work.db", ["objects", "import", big_csv])


@pytest.fixture(scope="module")
def planned(base, big_csv, tmp_path_factory) -> Path:
    """The big directory, the officers, the joint checklist and the published 2026 plan."""
    db = tmp_path_factory.mktemp("crash") / "planned.db"
    shutil.copyfile(base, db)
    out = tmp_path_factory.mktemp("published")
    for args in (("objects", "import", big_csv), ("inspectors", "import", EXAMPLES / "inspectors.csv"),
                 ("checklists", "import", CHECKLIST), ("plans", "import", EXAMPLES / "plan-2026.yaml"),
                 ("plans", "publish", "2026", "-o", out)):
        run_in(db, *args)
    settle(db)
    return db


def test_killed_draw_leaves_no_draw_and_a_rerun_draws(cli, monkeypatch, planned, tmp_path):
    template = copy_of(planned, tmp_path, "template.db")
    run_in(template, "tasks", "create", "--from-plan", "2026", "--plan-task", "2026-09")
    kill_at_many_points(cli, monkeypatch, template, tmp_path / "work.db", ["draws", "run", "2026-09", "--seed", SEED])


def test_killed_task_creation_with_a_list_leaves_no_task(cli, monkeypatch, planned, big_csv, tmp_path):
    template = copy_of(planned, tmp_path, "template.db")
    with open(big_csv, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))[: 1 + ROWS // 5]
    listed = tmp_path / "list.csv"  # 20,000 entities: the initiating department's own list (第九条)
    with open(listed, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    args = ["tasks", "create", "--from-plan", "2026", "--plan-task", "2026-01", "--list", listed]
    kill_at_many_points(cli, monkeypatch, template, tmp_path / "work.db", args)


def test_killed_results_import_writes_no_result(cli, monkeypatch, store, store_env, tmp_path):
    from test_results import fill, make_joint_draw, template as results_template

    draw = make_joint_draw(store, tmp_path)
    filled = fill(results_template(store, tmp_path), tmp_path / "filled.xlsx")
    settle(store_env)
    template = copy_of(store_env, tmp_path, "template.db")
    args = ["results", "import", draw, filled, "--dept", "SCJG"]
    kill_at_many_points(cli, monkeypatch, template, tmp_path / "work.db", args)


def test_killed_backup_leaves_no_partial_copy(cli, monkeypatch, planned, tmp_path):
    template = copy_of(planned, tmp_path, "template.db")
    copy = tmp_path / "backup.db"

    def no_partial_copy(before: dict) -> None:
        # Either no file at PATH, or a whole copy of the store as it was before `db backup`.
        if copy.exists():
            conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.close()
            assert dump(copy) == before
            copy.unlink()

    kill_at_many_points(cli, monkeypatch, template, tmp_path / "work.db", ["db", "backup", copy], each=no_partial_copy)
