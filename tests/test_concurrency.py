"""Concurrency: real processes writing the same store at the same moment.

Writers serialise on the store's write lock (SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory
lock; the tests run on both): a second writer waits for the
first (up to SHUANGSUIJI_BUSY_TIMEOUT_MS) and then does its own work on what the first
committed — so a task is drawn once and a second draw is refused (exit 5, "already has a
locked draw"), and a second import of the same file finds everything unchanged. A writer that
waits longer than the timeout exits 4 ("busy") having written nothing.

The processes start together: each imports the program, says it is ready, and waits for a
go file; or they queue behind a lock held by this test and are let go at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, WriteLock, rows
from test_draws import make_task

SEED = "31415926535897932384626433"

# Imports the program first (so start-up time does not decide who wins), then waits for the go file.
RACER = """
import sys, time
from pathlib import Path
from shuangsuiji.cli.main import main
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
ready.write_text("ready")
while not go.exists():
    time.sleep(0.0005)
sys.exit(int(main(sys.argv[3:])))
"""


def race(tmp_path: Path, commands: list[list], *, busy_ms: int = 20000, hold: float | None = None,
         hold_until_done: bool = False) -> list[tuple[int, str, str]]:
    """Run ``commands`` in separate processes released at the same moment; (exit code, stdout, stderr) each.

    With ``hold``, this process holds the store's write lock while they start, and for ``hold``
    seconds after they are all ready, so that they all queue for the lock; with
    ``hold_until_done``, until every one has ended (however slowly a loaded machine starts them).
    """
    env = {**os.environ, "SHUANGSUIJI_BUSY_TIMEOUT_MS": str(busy_ms), "SHUANGSUIJI_LANG": "en"}
    go = tmp_path / "go"
    go.unlink(missing_ok=True)
    holder = None
    if hold is not None:
        holder = WriteLock(os.environ["SHUANGSUIJI_DB"])
    procs, readies = [], []
    for i, command in enumerate(commands):
        ready = tmp_path / f"ready-{i}"
        ready.unlink(missing_ok=True)
        readies.append(ready)
        procs.append(subprocess.Popen(
            [sys.executable, "-c", RACER, ready, go, *[str(a) for a in command]],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    try:
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in readies):
            assert time.monotonic() < deadline, "the processes did not start"
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.005)
        go.write_text("go")
        if holder is not None:
            time.sleep(hold)  # they are all waiting for the lock now
            if hold_until_done:
                for p in procs:
                    p.wait(timeout=120)
            holder.release()
        return [(p.wait(timeout=120), *p.communicate()) for p in procs]
    finally:
        if holder is not None:
            holder.release()
        for p in procs:
            if p.poll() is None:
                p.kill()


def commands_logged(db: Path, command: str) -> list[dict]:
    return [json.loads(p) for (p,) in rows(db, f"SELECT payload FROM audit_log WHERE command = '{command}' ORDER BY seq")]


def assert_store_checks(cli) -> None:
    checked = cli("db", "check")
    assert checked.code == 0, checked.err


@pytest.fixture
def task(store, tmp_path):
    return make_task(store, tmp_path)


@pytest.mark.parametrize("hold", [None, 0.5], ids=["released-together", "queued-behind-a-lock"])
def test_two_simultaneous_draws_of_one_task_lock_exactly_one(store, task, tmp_path, store_env, hold):
    before = len(rows(store_env, "SELECT seq FROM audit_log"))
    results = race(tmp_path, [["draws", "run", task, "--seed", SEED, "--json"],
                              ["draws", "run", task, "--seed", "27182818284590452353602874", "--json"]], hold=hold)
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 5], results  # 5: already done, not 4: busy (a retry loop on 4 would spin)
    winner = next(out for code, out, _ in results if code == 0)
    loser = next(err for code, _, err in results if code == 5)
    assert "already has a locked draw" in loser, loser
    draws = rows(store_env, "SELECT id, state FROM draw")
    assert draws == [(json.loads(winner)["draw"], "locked")]
    assert len(commands_logged(store_env, "draws run")) == 1
    assert len(rows(store_env, "SELECT seq FROM audit_log")) == before + 1
    assert store("draws", "verify", draws[0][0]).code == 0
    assert_store_checks(store)


def test_a_draw_waiting_longer_than_the_busy_timeout_exits_4_and_writes_nothing(store, task, tmp_path, store_env):
    before = rows(store_env, "SELECT COUNT(*) FROM audit_log")
    results = race(tmp_path, [["draws", "run", task, "--seed", SEED], ["draws", "run", task, "--seed", SEED]],
                   busy_ms=200, hold=0.5, hold_until_done=True)
    assert [code for code, _, _ in results] == [4, 4], results
    for _, out, err in results:
        assert "busy" in err and "Traceback" not in err
    assert rows(store_env, "SELECT COUNT(*) FROM draw") == [(0,)]
    assert rows(store_env, "SELECT COUNT(*) FROM audit_log") == before


@pytest.fixture
def big_directory(tmp_path) -> tuple[Path, int]:
    """A 20,000-row directory file: an import holds the write lock for a good fraction of a second."""
    path = tmp_path / "directory.csv"
    n = 20_000
    subprocess.run([sys.executable, ROOT / "bench" / "make_directory.py", path, "--rows", str(n)], check=True)
    return path, n


@pytest.mark.parametrize("existing", [False, True], ids=["empty-directory", "full-directory"])
def test_two_simultaneous_imports_of_one_file_both_succeed_once_each(cli, tmp_path, store_env, big_directory, existing):
    path, n = big_directory
    assert cli("init").code == 0
    assert cli("departments", "import", EXAMPLES / "departments.yaml").code == 0
    base = 0
    if existing:
        assert cli("objects", "import", EXAMPLES / "objects.csv").code == 0
        base = 400
    results = race(tmp_path, [["objects", "import", path, "--json"], ["objects", "import", path, "--json"]])
    assert [code for code, _, _ in results] == [0, 0], results
    summaries = sorted((json.loads(out) for _, out, _ in results), key=lambda s: s["audit_seq"])
    # The second waited for the first and found every row already there.
    assert (summaries[0]["inserted"], summaries[0]["unchanged"]) == (n, 0)
    assert (summaries[1]["inserted"], summaries[1]["updated"], summaries[1]["unchanged"]) == (0, 0, n)
    logged = commands_logged(store_env, "objects import")
    assert [(e["inserted"], e["unchanged"]) for e in logged[-2:]] == [(n, 0), (0, n)]
    assert rows(store_env, "SELECT COUNT(*), COUNT(DISTINCT uscc) FROM entity") == [(base + n, base + n)]
    assert rows(store_env, "SELECT COUNT(*) FROM entity_history") == [(0,)]
    assert_store_checks(cli)


def test_an_import_waiting_longer_than_the_busy_timeout_exits_4_and_the_other_imports(cli, tmp_path, store_env, big_directory):
    path, n = big_directory
    assert cli("init").code == 0
    assert cli("departments", "import", EXAMPLES / "departments.yaml").code == 0
    # The first to take the lock holds it while it reads and writes 20,000 rows: far longer than 50 ms.
    results = race(tmp_path, [["objects", "import", path], ["objects", "import", path]], busy_ms=50)
    assert sorted(code for code, _, _ in results) == [0, 4], results
    loser = next(err for code, _, err in results if code == 4)
    assert "busy" in loser and "Traceback" not in loser
    assert len(commands_logged(store_env, "objects import")) == 1
    assert rows(store_env, "SELECT COUNT(*) FROM entity") == [(n,)]
    assert_store_checks(cli)


def test_readers_are_never_blocked_by_a_writer(store, tmp_path, store_env):
    """WAL / MVCC: listing and checking while a writer holds the lock works and sees the last commit."""
    holder = WriteLock(store_env)
    holder.execute("INSERT INTO department (code, name, updated_at) VALUES ('ZZ', 'uncommitted', 'now')")
    try:
        started = time.monotonic()
        listed = store("departments", "list", "--json")
        assert listed.code == 0 and "ZZ" not in {d["code"] for d in listed.json()}
        assert store("audit", "verify").code == 0
        assert time.monotonic() - started < 3
    finally:
        holder.release()
