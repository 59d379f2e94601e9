"""Crash safety on PostgreSQL: a writer killed (SIGKILL) at several points of its transaction
leaves the store as it was before the command, or as a finished run leaves it; never anything
in between, and the lock is free again for the rerun.

test_crash.py does this for SQLite, inside the file writes. Here the server rolls back a dead
client's transaction; what is tested is that the tool's work really is one transaction (the
bulk COPY, the merge, the audit entry) and that the write lock goes with the dead process.
The kill points are spread over the time the child holds the write lock (the advisory lock,
seen in pg_locks) until its commit (the audit head moves), measured in a free run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import EXAMPLES, ON_PG, ROOT, copy_store, create_database, rows
from shuangsuiji.store.engine import PG_WRITE_LOCK

pytestmark = pytest.mark.skipif(not ON_PG, reason="PostgreSQL only: test_crash.py kills SQLite writers")

KILLS = int(os.environ.get("SHUANGSUIJI_CRASH_KILLS", "6"))
ROWS = 20_000
SEED = "27182818284590452353602874"


def start(db: str, args) -> subprocess.Popen:
    env = {**os.environ, "SHUANGSUIJI_DB": db, "SHUANGSUIJI_OPERATOR": "tester", "SHUANGSUIJI_LANG": "en"}
    return subprocess.Popen([sys.executable, "-m", "shuangsuiji", *[str(a) for a in args]], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def holding_the_lock(db: str) -> bool:
    """Some session of ``db``'s database holds the store's write lock (pg_locks shows the advisory key's halves)."""
    found = rows(db, "SELECT COUNT(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                     "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database() "
                     "AND l.classid::bigint = ? AND l.objid::bigint = ?", (PG_WRITE_LOCK >> 32, PG_WRITE_LOCK & 0xFFFFFFFF))
    return found[0][0] > 0


def wait_for_lock(proc: subprocess.Popen, db: str) -> float:
    while not holding_the_lock(db):
        assert proc.poll() is None, f"the command ended before taking the lock: {proc.stderr.read()}"
        time.sleep(0.002)
    return time.monotonic()


def state(db: str) -> dict:
    tables = [r[0] for r in rows(db, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
    return {t: rows(db, f"SELECT COUNT(*) FROM {t}")[0][0] for t in sorted(tables)}


def kill_at_many_points(cli, monkeypatch, template: str, work: str, args) -> list[str]:
    copy_store(template, work)
    before = state(work)
    proc = start(work, args)
    locked = wait_for_lock(proc, work)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    window = time.monotonic() - locked  # an upper bound: the exit comes shortly after the commit
    after = state(work)
    assert after != before, "the command changed nothing: the test would prove nothing"
    outcomes = []
    for i in reversed(range(KILLS)):
        copy_store(template, work)
        proc = start(work, args)
        locked = wait_for_lock(proc, work)
        time.sleep(max(0.0, locked + window * (i + 0.5) / KILLS - time.monotonic()))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 10
        while holding_the_lock(work):  # the server ends the dead client's session and its lock with it
            assert time.monotonic() < deadline, "the write lock outlived the killed process"
            time.sleep(0.01)
        now = state(work)
        assert now in (before, after), f"kill {i} left a partial store: {now} (before {before}, after {after})"
        outcomes.append("before" if now == before else "after")
        monkeypatch.setenv("SHUANGSUIJI_DB", work)
        assert cli("db", "check").code == 0
    assert "before" in outcomes, f"no kill landed inside the command ({outcomes}); window {window:.2f} s"
    copy_store(template, work)
    assert start(work, args).wait(timeout=120) == 0
    assert state(work) == after
    return outcomes


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("pgcrash") / "directory.csv"
    subprocess.run([sys.executable, ROOT / "bench" / "make_directory.py", path, "--rows", str(ROWS)], check=True)
    return path


def _run(db: str, *args) -> None:
    from shuangsuiji.cli.main import main

    assert main(["--db", db, "--operator", "tester", *[str(a) for a in args]]) == 0, args


def test_killed_import_into_an_empty_directory(cli, monkeypatch, store_env, big_csv):
    template = create_database()
    _run(template, "init")
    _run(template, "departments", "import", EXAMPLES / "departments.yaml")
    kill_at_many_points(cli, monkeypatch, template, store_env, ["objects", "import", big_csv])


def test_killed_merge_into_a_full_directory(cli, monkeypatch, store_env, big_csv, tmp_path):
    template = create_database()
    _run(template, "init")
    _run(template, "departments", "import", EXAMPLES / "departments.yaml")
    _run(template, "objects", "import", EXAMPLES / "objects.csv")
    kill_at_many_points(cli, monkeypatch, template, store_env, ["objects", "import", big_csv, "--sync", "--yes"])


def test_killed_draw(cli, monkeypatch, store_env, big_csv, tmp_path):
    from test_draws import make_task

    template = create_database()
    _run(template, "init")
    _run(template, "departments", "import", EXAMPLES / "departments.yaml")
    _run(template, "objects", "import", big_csv)
    monkeypatch.setenv("SHUANGSUIJI_DB", template)
    task = make_task(cli, tmp_path)
    kill_at_many_points(cli, monkeypatch, template, store_env, ["draws", "run", task, "--seed", SEED])
