"""`db backup` (a consistent copy of a live store) and `db check` (everything the store promises)."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, inspect

from conftest import EXAMPLES, ON_PG, WriteLock, connect, new_store, rows, sqlite_only
from shuangsuiji.store.engine import url_for
from test_draws import SEED, make_task


@pytest.fixture
def drawn(store, tmp_path):
    """A store with a committed-and-revealed draw, a plain draw with officers and a replacement, and a voided draw."""
    task = make_task(store, tmp_path, "2026-09")
    assert store("draws", "run", task, "--seed", SEED).code == 0
    draw = f"{task}-D1"
    assert store("draws", "inspectors", draw).code == 0
    officer = store("draws", "show", draw, "--json").json()["teams"][0]["members"][-1]["officer"]
    assert store("draws", "replace", draw, "--officer", officer, "--reason", "健康").code == 0
    assert store("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-07").code == 0
    assert store("draws", "run", "2026-07", "--seed", "1").code == 0
    assert store("draws", "void", "2026-07-D1", "--reason", "名录库数据有误", "--yes").code == 0
    assert store("draws", "commit", "2026-07", "--department", "SCJG").code == 0
    secret = "lz-scjg-7f3a"
    assert store("draws", "contribute", "2026-07", "--dept", "SCJG", "--commit", hashlib.sha256(secret.encode()).hexdigest()).code == 0
    assert store("draws", "reveal", "2026-07", "--dept", "SCJG", "--secret", secret).code == 0
    assert store("draws", "run", "2026-07").code == 0
    return store


# ---------------------------------------------------------------- check


def test_check_passes_on_a_store_with_every_kind_of_draw(drawn):
    result = drawn("db", "check", "--json")
    assert result.code == 0, result.out
    data = result.json()
    assert data["ok"] is True and data["problems"] == []
    assert data["schema_version"] == data["latest_version"]
    assert set(data["checks"]) == {"schema", "triggers", "integrity", "foreign_keys", "audit_chain", "audit_references",
                                   "frozen_rows", "draws", "teams", "results", "directories"}
    skipped = {name for name, c in data["checks"].items() if c.get("skipped")}
    assert skipped == ({"integrity"} if ON_PG else set())  # SQLite's integrity_check has no PostgreSQL twin
    assert all(c["ok"] for name, c in data["checks"].items() if name not in skipped)
    assert data["checks"]["draws"]["checked"] == 3 and data["checks"]["frozen_rows"]["checked"] >= 4
    head = drawn("audit", "head", "--json").json()
    assert data["audit"] == {"entries": head["seq"], "head_hash": head["hash"]}
    human = drawn("db", "check")
    assert human.code == 0 and human.out == "" and "Store intact" in human.err


def test_check_with_the_published_head(drawn):
    head = drawn("audit", "head").out.strip()
    assert drawn("db", "check", "--expect-head", head).code == 0
    seq, digest = head.split(":")
    wrong = drawn("db", "check", "--expect-head", f"{seq}:{'0' * 64}")
    assert wrong.code == 3 and f"[audit_chain] audit_log {seq}: entry {seq}: the published head" in wrong.err
    missing = drawn("db", "check", "--expect-head", f"{int(seq) + 5}:{digest}", "--json")
    assert missing.code == 3 and missing.json()["problems"][0]["row"] == str(int(seq) + 5)
    assert drawn("db", "check", "--expect-head", "12").code == 2


def test_check_reports_an_old_schema_and_an_uninitialised_store(cli, store_env, tmp_path, monkeypatch):
    assert cli("init").code == 0
    with connect(store_env) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)")
    result = cli("db", "check", "--json")
    assert result.code == 3
    data = result.json()
    assert [(p["check"], p["table"]) for p in data["problems"]] == [("schema", "schema_migrations")]
    assert data["checks"]["draws"]["skipped"] and data["checks"]["audit_chain"]["ok"]
    monkeypatch.setenv("SHUANGSUIJI_DB", str(new_store(tmp_path, "nothing")))
    absent = cli("db", "check")
    assert absent.code == 1 and "shuangsuiji init" in absent.err


def test_check_reports_foreign_key_damage(store, store_env):
    with connect(store_env) as conn:
        # Foreign keys are off in a bare sqlite3 session; a PostgreSQL superuser can switch them off too.
        if ON_PG:
            conn.execute("SET session_replication_role = replica")
        conn.execute("INSERT INTO inspector_history (cert_no, field, old_value, new_value, changed_at, operator, audit_seq) "
                     "VALUES ('NOBODY', 'status', 'a', 'b', 'now', 'x', 1)")
    found = store("db", "check", "--json").json()["problems"]
    # (and the history row names audit entry 1, which no `inspectors import` is)
    assert [(p["check"], p["table"]) for p in found] == [("foreign_keys", "inspector_history"), ("directories", "inspector_history")]
    assert "inspector row that does not exist" in found[0]["message"]


@sqlite_only("damages a page of the SQLite file; PostgreSQL checks its own pages (pg_amcheck)")
def test_check_reports_integrity_damage(store, store_env):
    # Damage a page of the file itself (a disk or a careless copy): integrity_check finds it.
    with sqlite3.connect(store_env) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ux_entity_uscc'").fetchone()[0]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    with open(store_env, "r+b") as fh:
        fh.seek((root - 1) * page + 8)
        fh.write(b"\xff" * 64)
    result = store("db", "check", "--json")
    assert result.code == 3
    assert "integrity" in {p["check"] for p in result.json()["problems"]}
    assert "Traceback" not in result.err


# ---------------------------------------------------------------- backup


def test_backup_is_a_checked_copy_whose_entry_names_its_head_and_hash(drawn, store_env, tmp_path, monkeypatch):
    head = drawn("audit", "head").out.strip()
    target = tmp_path / "copies" / "backup.db"
    target.parent.mkdir()
    result = drawn("db", "backup", target, "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["file"] == str(target) and data["bytes"] == target.stat().st_size
    assert data["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert f"{data['head']['seq']}:{data['head']['hash']}" == head
    # The live store logged the copy as the entry right after the copy's head.
    entry = drawn("audit", "log", "--json").json()[-1]
    assert entry["command"] == "db backup" and entry["seq"] == data["audit_seq"] == data["head"]["seq"] + 1
    assert entry["payload"]["sha256"] == data["sha256"] and entry["payload"]["head"] == data["head"]
    assert list(target.parent.iterdir()) == [target]  # no partial file left beside it
    # The copy is the whole store as it was, checks out against the head, and opening it keeps its hash.
    # (On PostgreSQL the copy is a SQLite store file of the same content.)
    engine = create_engine(url_for(str(store_env)))
    tables = inspect(engine).get_table_names()
    engine.dispose()
    for table in tables:
        columns = ", ".join(r[1] for r in rows(target, f"PRAGMA table_info({table})"))
        expected = rows(store_env, f"SELECT {columns} FROM {table}" + (" WHERE seq < ?" if table == "audit_log" else ""),
                        (entry["seq"],) if table == "audit_log" else ())
        assert sorted(rows(target, f"SELECT {columns} FROM {table}"), key=repr) == sorted(expected, key=repr), table
    monkeypatch.setenv("SHUANGSUIJI_DB", str(target))
    assert drawn("db", "check", "--expect-head", head).code == 0
    assert drawn("draws", "list").code == 0
    assert hashlib.sha256(target.read_bytes()).hexdigest() == data["sha256"]


def test_backup_never_overwrites_without_force(store, tmp_path):
    target = tmp_path / "backup.db"
    target.write_text("an older backup")
    entries = len(store("audit", "log", "--json").json())
    refused = store("db", "backup", target)
    assert refused.code == 1 and "--force" in refused.err
    assert target.read_text() == "an older backup"
    assert len(store("audit", "log", "--json").json()) == entries
    assert store("db", "backup", target, "--force").code == 0
    assert rows(target, "SELECT COUNT(*) FROM entity") == [(400,)]


def test_a_backup_that_cannot_be_written_whole_keeps_the_older_one_and_logs_nothing(store, tmp_path, monkeypatch):
    """`db backup` goes through files.replacing: a copy that cannot reach the disk leaves the older
    backup exactly as it was (it used to be deleted), no temporary file and no `db backup` entry."""
    import shuangsuiji.files as files

    target = tmp_path / "backup.db"
    target.write_text("an older backup")
    entries = len(store("audit", "log", "--json").json())

    def fails(path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "_fsync", fails)
    failed = store("db", "backup", target, "--force")
    assert failed.code == 1 and f"Cannot write {target}: No space left on device" in failed.err
    assert target.read_text() == "an older backup"
    assert len(store("audit", "log", "--json").json()) == entries
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("bad", ["store", "directory", "parent-is-a-file"])
def test_backup_refuses_impossible_targets(store, store_env, tmp_path, bad):
    (tmp_path / "a-file").write_text("x")
    target = {"store": store_env, "directory": tmp_path, "parent-is-a-file": tmp_path / "a-file" / "b.db"}[bad]
    result = store("db", "backup", target)
    assert result.code in (1, 2) and "Traceback" not in result.err
    assert rows(store_env, "SELECT COUNT(*) FROM audit_log WHERE command = 'db backup'") == [(0,)]


def test_backup_of_a_busy_store_exits_4_and_leaves_nothing(store, store_env, tmp_path, monkeypatch):
    import shuangsuiji.store.engine as engine

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)
    holder = WriteLock(store_env)  # another writer, in the middle of its transaction
    try:
        result = store("db", "backup", tmp_path / "b.db")
        assert result.code == 4 and "busy" in result.err
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((".b.db", "b.db"))) == []
    finally:
        holder.release()


def test_backup_while_another_process_writes_is_consistent(store, store_env, tmp_path):
    """A backup taken while an import runs is the store before or after that import, never half of it."""
    big = tmp_path / "big.csv"
    subprocess.run([sys.executable, EXAMPLES.parents[1] / "bench" / "make_directory.py", big, "--rows", "20000"], check=True)
    writer = subprocess.Popen([sys.executable, "-m", "shuangsuiji", "objects", "import", big],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    result = store("db", "backup", tmp_path / "during.db", "--json")
    assert writer.wait(timeout=60) == 0, writer.stderr.read()
    assert result.code == 0, result.err
    count = rows(tmp_path / "during.db", "SELECT COUNT(*) FROM entity")[0][0]
    imports = rows(tmp_path / "during.db", "SELECT COUNT(*) FROM audit_log WHERE command = 'objects import'")[0][0]
    assert (count, imports) in ((400, 1), (20400, 2))


# ---------------------------------------------------------------- the store's refusals, by name

_TABLES_NO_UPDATE_DELETE = (
    "audit_log", "checklist", "draw_conflict", "draw_contribution", "draw_inspector_pool", "draw_replacement",
    "draw_replacement_exclusion", "draw_selection", "draw_stratum", "draw_team", "draw_team_rule", "evidence_blob",
    "followup_history", "inspection_result_history", "plan", "publication", "result_evidence", "task", "task_list_entity",
)
_DIRECTORIES = ("conflict", "entity", "inspector")  # written only by an import (migration 6)
# Written out, not derived from MIGRATIONS: a trigger removed from a migration fails here.
EXPECTED_TRIGGERS = {
    *(f"{t}_no_{c}" for t in _TABLES_NO_UPDATE_DELETE for c in ("update", "delete")),
    "draw_locked_no_update", "draw_no_delete", *(f"{t}_no_delete" for t in _DIRECTORIES),
}
# SQLite: one trigger per refused change; PostgreSQL: one for INSERT OR UPDATE outside an import,
# and (TRUNCATE skips row triggers) a statement trigger on each append-only table.
EXPECTED_SQLITE_ONLY = {f"{t}_no_{c}" for t in _DIRECTORIES for c in ("insert", "update")}
EXPECTED_POSTGRES_ONLY = {
    *(f"{t}_no_truncate" for t in (*_TABLES_NO_UPDATE_DELETE, "draw")), *(f"{t}_no_write" for t in _DIRECTORIES),
}


def test_the_store_has_exactly_the_expected_triggers_and_db_check_expects_them(store, store_env):
    from shuangsuiji.services.maintenance import _expected_triggers
    from shuangsuiji.store.migrations import MIGRATIONS

    expected = EXPECTED_TRIGGERS | (EXPECTED_POSTGRES_ONLY if ON_PG else EXPECTED_SQLITE_ONLY)
    with connect(store_env) as conn:
        if ON_PG:
            found = {n for (n,) in conn.execute("SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                                "JOIN pg_namespace s ON s.oid = c.relnamespace "
                                                "WHERE NOT t.tgisinternal AND s.nspname = current_schema()")}
        else:
            found = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert found == expected
    latest = max(m.version for m in MIGRATIONS)
    assert set(_expected_triggers("postgresql" if ON_PG else "sqlite", latest)) == expected
    # and one missing is what `db check` reports (exit 3, the trigger named)
    with connect(store_env) as conn:
        conn.drop_trigger("draw_team_no_update", "draw_team")
    result = store("db", "check", "--json")
    assert result.code == 3
    assert [(p["check"], p["table"], p["row"]) for p in result.json()["problems"]] == [("triggers", "draw_team", "draw_team_no_update")]
