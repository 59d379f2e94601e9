"""Tampering by someone with the database file: refused by the store, or detected.

The store refuses UPDATE and DELETE of the log and of every frozen record (triggers). An
administrator can drop the triggers; then `draws verify` catches an edit that breaks the draw,
`db check` catches the missing trigger and any record that no longer matches the audit entry
that created it, `audit verify` catches any edit of the log, and a published `audit head`
catches a log rewritten from the edit onwards — or a store rebuilt from scratch.

On PostgreSQL the same, with its own means: DROP TRIGGER … ON, ctid for SQLite's rowid.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from conftest import ON_PG, DBError, connect, copy_store, create_database, rows
from shuangsuiji.domain.audit import GENESIS, make_entry
from shuangsuiji.domain.draw import sample
from shuangsuiji.store import migrations
from shuangsuiji.store.engine import url_for

SEED = "31415926535897932384626433"
ROWID = "ctid" if ON_PG else "rowid"  # a row's physical address, to name "the first row" of a table


def demo(out: Path):
    """The bundled demo's store, in ``out``: every step of the cycle, with a committed, drawn, staffed draw and results.

    On PostgreSQL the demo's steps are run against a new database of the test server.
    """
    if not ON_PG:
        subprocess.run([sys.executable, "-m", "shuangsuiji", "--lang", "en", "demo", "--dir", out],
                       check=True, capture_output=True)
        return out / "demo.db"
    from shuangsuiji.cli.demo import example_dir, steps
    from shuangsuiji.cli.main import main

    db = create_database()
    for _, _, args in steps(example_dir(), out):
        if callable(args):
            args(db)
        else:
            assert main(["--db", db, "--lang", "en", *args]) == 0, args
    return db


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = demo(tmp_path_factory.mktemp("demo"))
    if not ON_PG:
        sql(db, "PRAGMA wal_checkpoint(TRUNCATE)")  # the file alone is the whole store
    return db


@pytest.fixture
def db(demo_db, store_env, cli):
    """A copy of the demo store as this test's store, with one more draw (no officers) of task 2026-07."""
    copy_store(demo_db, store_env)
    result = cli("draws", "run", "2026-07", "--seed", SEED, "--json")
    assert result.code == 0, result.err
    return store_env


def sql(db, *statements: str, params=()) -> None:
    with connect(db) as conn:
        for statement in statements:
            conn.execute(statement, params)


def one(db, query: str, params=()):
    with connect(db) as conn:
        return conn.execute(query, params).fetchone()


def drop_triggers(db, *tables: str) -> None:
    with connect(db) as conn:
        for table in tables:
            if ON_PG:
                names = conn.execute("SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                     "WHERE c.relname = ? AND NOT t.tgisinternal", (table,)).fetchall()
            else:
                names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)).fetchall()
            for (name,) in names:
                conn.drop_trigger(name, table)


def restore_triggers(db, *tables: str) -> None:
    """Put the triggers back exactly as the migrations create them (a careful administrator)."""
    statements = [s for m in migrations.MIGRATIONS for s in (m.postgresql if ON_PG else m.sqlite)
                  if s.lstrip().startswith("CREATE TRIGGER")
                  and any(re.search(rf"\sON {t}\s", s.split("BEGIN")[0]) for t in tables)]
    sql(db, *statements)


def columns(db, table: str) -> list[tuple[str, bool, int | None]]:
    """(name, is an integer, maximum length) of each column of ``table``."""
    engine = create_engine(url_for(str(db)))
    try:
        cols = inspect(engine).get_columns(table)
    finally:
        engine.dispose()
    return [(c["name"], "INT" in str(c["type"]).upper(), getattr(c["type"], "length", None)) for c in cols]


def problems(cli, *args) -> list[dict]:
    result = cli("db", "check", "--json", *args)
    assert result.code == 3, result.out
    return result.json()["problems"]


def where(found: list[dict]) -> set[tuple]:
    return {(p["check"], p["table"], p["row"]) for p in found}


def locked_draw(db: Path, task: str = "2026-07") -> str:
    return one(db, "SELECT id FROM draw WHERE task_id = ? AND state = 'locked'", (task,))[0]


# ---------------------------------------------------------------- refused by the store


# (table, "update" | "delete") for every refusal trigger the migrations create.
FROZEN = sorted(
    (m.group(2), m.group(1).rsplit("_no_", 1)[1])
    for m in (re.search(r"CREATE TRIGGER (\w+) BEFORE \w+ ON (\w+)", st) for mig in migrations.MIGRATIONS for st in mig.sqlite)
    if m
)


@pytest.mark.parametrize("table,change", FROZEN, ids=[f"{t}-{c}" for t, c in FROZEN])
def test_the_store_refuses_changing_frozen_rows(db, table, change):
    """Every trigger of the migrations refuses its change on a row of the demo store."""
    info = columns(db, table)
    if one(db, f"SELECT COUNT(*) FROM {table}")[0] == 0:  # the demo left none: add one (INSERT is allowed)
        values = [1 if is_int else "2026-01-01T00:00:00.000000Z"[:length] for _, is_int, length in info]
        with connect(db) as conn:
            if ON_PG:  # a dummy row whose keys point nowhere: foreign keys off, as in a bare sqlite3 session
                conn.execute("SET session_replication_role = replica")
            conn.execute(f"INSERT INTO {table} ({', '.join(c[0] for c in info)}) VALUES ({', '.join('?' * len(info))})", values)
    column = info[-1][0]
    statement = {
        "update": f"UPDATE {table} SET {column} = {column} WHERE {ROWID} = (SELECT MIN({ROWID}) FROM {table})",
        "delete": f"DELETE FROM {table} WHERE {ROWID} = (SELECT MIN({ROWID}) FROM {table})",
        # a copy of a row: refused before its key could clash
        "insert": f"INSERT INTO {table} ({', '.join(c[0] for c in info if c[0] != 'id')}) "
                  f"SELECT {', '.join(c[0] for c in info if c[0] != 'id')} FROM {table} LIMIT 1",
    }[change]
    if table == "draw":
        statement = statement.replace(f"SELECT MIN({ROWID}) FROM draw", f"SELECT MIN({ROWID}) FROM draw WHERE state = 'locked'")
    with pytest.raises(DBError, match="append-only|frozen|never changes"):
        sql(db, statement)


def test_the_store_refuses_redrawing_a_locked_draw_in_place(db):
    draw = locked_draw(db)
    for statement in (
        f"UPDATE draw SET seed = 'chosen later' WHERE id = '{draw}'",
        f"UPDATE draw SET state = 'committed', seed = NULL WHERE id = '{draw}'",
        f"UPDATE draw_selection SET uscc = '91441882MA4UXXXXX1' WHERE draw_id = '{draw}'",
        f"DELETE FROM draw_selection WHERE draw_id = '{draw}'",
        f"UPDATE draw_stratum SET ids = '' WHERE draw_id = '{draw}'",
        "UPDATE task SET definition = '{}' WHERE id = '2026-07'",
        "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)",
        "UPDATE audit_log SET operator = 'someone else' WHERE seq = 1",
    ):
        with pytest.raises(DBError):
            sql(db, statement)


# ---------------------------------------------------------------- detected after the triggers are dropped


def test_an_edited_selection_is_detected_by_draws_verify_and_db_check(db, cli):
    draw = locked_draw(db)
    drop_triggers(db, "draw_selection")
    sql(db, f"UPDATE draw_selection SET uscc = (SELECT uscc FROM entity WHERE uscc NOT IN "
            f"(SELECT uscc FROM draw_selection) LIMIT 1) WHERE draw_id = '{draw}' AND position = 1")
    verified = cli("draws", "verify", draw, "--json")
    assert verified.code == 3 and "selected" in verified.json()["field"]
    found = where(problems(cli))
    assert ("triggers", "draw_selection", "draw_selection_no_update") in found
    assert ("draws", "draw_selection", draw) in found  # differs from its `draws run` audit entry
    assert ("draws", "draw", draw) in found  # recomputing it fails
    assert cli("audit", "verify").code == 0  # the log itself was not touched


def test_an_edited_population_is_detected(db, cli):
    draw = locked_draw(db)
    stratum, ids = one(db, "SELECT stratum, ids FROM draw_stratum WHERE draw_id = ? ORDER BY size DESC", (draw,))
    drop_triggers(db, "draw_stratum")
    sql(db, "UPDATE draw_stratum SET ids = ? WHERE draw_id = ? AND stratum = ?", params=("\n".join(ids.split("\n")[1:]), draw, stratum))
    verified = cli("draws", "verify", draw, "--json")
    assert verified.code == 3 and verified.json()["field"] == f"strata[{stratum}].population_sha256"
    found = problems(cli)
    assert ("draws", "draw_stratum", f"({draw}, {stratum})") in where(found)
    assert any("population" in p["message"] for p in found)


def test_an_edited_task_definition_is_detected_even_with_its_hash_updated(db, cli):
    drop_triggers(db, "task")
    definition = json.loads(one(db, "SELECT definition FROM task WHERE id = '2026-01'")[0])
    definition["ratios"]["A"] = "1"
    text = json.dumps(definition, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    sql(db, "UPDATE task SET definition = ? WHERE id = '2026-01'", params=(text,))
    assert ("frozen_rows", "task", "2026-01") in where(problems(cli))
    # The careful forger also updates the row's sha256: the `tasks create` audit entry still disagrees.
    sql(db, "UPDATE task SET sha256 = ? WHERE id = '2026-01'", params=(hashlib.sha256(text.encode()).hexdigest(),))
    restore_triggers(db, "task")
    found = problems(cli)
    assert where(found) == {("frozen_rows", "task", "2026-01")}
    assert "audit entry" in found[0]["message"]


def test_a_consistently_redrawn_draw_passes_draws_verify_but_not_db_check(db, cli):
    """The forger re-draws with a seed of their choosing and rewrites selection and seed together:
    the draw is self-consistent, so only the audit entry that recorded the real draw exposes it."""
    draw = locked_draw(db)
    head = cli("audit", "head").out.strip()
    drop_triggers(db, "draw_selection", "draw")
    conn = connect(db)
    conn.execute("DELETE FROM draw_selection WHERE draw_id = ?", (draw,))
    for stratum, ids, take in conn.execute("SELECT stratum, ids, take FROM draw_stratum WHERE draw_id = ?", (draw,)).fetchall():
        for i, s in enumerate(sample(ids.split("\n") if ids else [], "a seed I like", take), start=1):
            conn.execute("INSERT INTO draw_selection VALUES (?, ?, ?, ?, ?)", (draw, stratum, i, s.id, s.ticket))
    conn.execute("UPDATE draw SET seed = 'a seed I like' WHERE id = ?", (draw,))
    conn.close()
    restore_triggers(db, "draw_selection", "draw")
    assert cli("draws", "verify", draw).code == 0  # self-consistent
    assert cli("audit", "verify").code == 0  # the log was not touched
    found = problems(cli)
    assert {("draws", "draw", draw), ("draws", "draw_selection", draw)} <= where(found)
    assert any("seed differs from what its `draws run` audit entry recorded" in p["message"] for p in found)

    # The forger then rewrites the log entry too and re-hashes the chain from there on: the
    # store is consistent again, and only a head published before the forgery exposes it.
    rewrite_log(db, lambda e: e["command"] == "draws run" and e["payload"]["draw"] == draw,
                lambda p: {**p, "seed": "a seed I like", "selected_sha256": selected_sha256(db, draw)})
    assert cli("audit", "verify").code == 0
    assert cli("db", "check").code == 0
    expect = cli("audit", "verify", "--expect-head", head, "--json")
    assert expect.code == 3 and expect.json()["broken"]["reason"] == "head_mismatch"
    found = problems(cli, "--expect-head", head)
    assert where(found) == {("audit_chain", "audit_log", head.split(":")[0])}


def selected_sha256(db, draw: str) -> str:
    conn = connect(db)
    rows = conn.execute("SELECT stratum, position, uscc, ticket FROM draw_selection WHERE draw_id = ? ORDER BY stratum, position",
                        (draw,)).fetchall()
    conn.close()
    return hashlib.sha256("\n".join("\t".join(map(str, r)) for r in rows).encode()).hexdigest()


def rewrite_log(db, match, change) -> None:
    """Edit the matching entries' payloads and recompute every hash after them (a forger's tool)."""
    drop_triggers(db, "audit_log")
    conn = connect(db)
    prev = GENESIS
    for seq, ts, operator, command, payload, _prev, digest in conn.execute("SELECT * FROM audit_log ORDER BY seq").fetchall():
        value = json.loads(payload)
        if match({"command": command, "payload": value}):
            value = change(value)
        entry = make_entry(seq, ts, operator, command, value, prev)
        conn.execute("UPDATE audit_log SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                     (entry.payload, entry.prev_hash, entry.hash, seq))
        prev = entry.hash
    conn.close()
    restore_triggers(db, "audit_log")


def test_an_edited_log_entry_is_named_by_audit_verify_and_db_check(db, cli):
    seq = one(db, "SELECT seq FROM audit_log WHERE command = 'draws run' ORDER BY seq LIMIT 1")[0]
    drop_triggers(db, "audit_log")
    sql(db, "UPDATE audit_log SET operator = 'somebody else' WHERE seq = ?", params=(seq,))
    verified = cli("audit", "verify", "--json")
    assert verified.code == 3
    assert verified.json()["broken"]["seq"] == seq and verified.json()["broken"]["reason"] == "hash"
    assert {("audit_chain", "audit_log", str(seq)), ("triggers", "audit_log", "audit_log_no_update")} <= where(problems(cli))


def test_a_removed_log_entry_is_detected(db, cli):
    seq = one(db, "SELECT seq FROM audit_log WHERE command = 'tasks create' ORDER BY seq LIMIT 1")[0]
    drop_triggers(db, "audit_log")
    sql(db, "DELETE FROM audit_log WHERE seq = ?", params=(seq,))
    verified = cli("audit", "verify", "--json")
    assert verified.code == 3
    assert (verified.json()["broken"]["seq"], verified.json()["broken"]["reason"]) == (seq + 1, "sequence")
    found = where(problems(cli))
    assert ("audit_chain", "audit_log", str(seq + 1)) in found
    assert ("audit_references", "task", one(db, "SELECT id FROM task WHERE audit_seq = ?", (seq,))[0]) in found


def test_a_truncated_log_is_detected_against_the_published_head(db, cli):
    head = cli("audit", "head").out.strip()
    drop_triggers(db, "audit_log")
    sql(db, "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")  # the last draw's entry
    restore_triggers(db, "audit_log")
    assert cli("audit", "verify").code == 0  # a shorter chain is still a chain
    assert cli("audit", "verify", "--expect-head", head).code == 3
    found = where(problems(cli, "--expect-head", head))
    assert ("audit_chain", "audit_log", head.split(":")[0]) in found
    assert ("draws", "draw", locked_draw(db)) in found  # and the draw has lost its `draws run` entry


def test_a_replaced_trigger_is_detected(db, cli):
    if ON_PG:
        sql(db, "DROP TRIGGER draw_selection_no_update ON draw_selection",
            "CREATE FUNCTION let_it_be() RETURNS trigger AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql",
            "CREATE TRIGGER draw_selection_no_update BEFORE UPDATE ON draw_selection FOR EACH ROW EXECUTE FUNCTION let_it_be()")
    else:
        sql(db, "DROP TRIGGER draw_selection_no_update",
            "CREATE TRIGGER draw_selection_no_update BEFORE UPDATE ON draw_selection BEGIN SELECT 1; END")
    found = problems(cli)
    assert where(found) == {("triggers", "draw_selection", "draw_selection_no_update")}
    assert "altered" in found[0]["message"]


def test_a_store_rebuilt_from_scratch_is_detected_against_the_published_head(db, cli, tmp_path, monkeypatch, demo_db):
    head = cli("audit", "head").out.strip()
    assert cli("db", "check", "--expect-head", head).code == 0
    # The same commands replayed into a new store (the demo again): a perfect chain of its own.
    out = tmp_path / "again"
    out.mkdir()
    monkeypatch.setenv("SHUANGSUIJI_DB", str(demo(out)))
    assert cli("draws", "run", "2026-07", "--seed", SEED).code == 0
    assert cli("audit", "verify").code == 0 and cli("db", "check").code == 0
    assert cli("audit", "head").out.strip().split(":")[0] == head.split(":")[0]  # same length, other hashes
    expect = cli("audit", "verify", "--expect-head", head, "--json")
    assert expect.code == 3 and expect.json()["broken"]["reason"] == "head_mismatch"
    assert where(problems(cli, "--expect-head", head)) == {("audit_chain", "audit_log", head.split(":")[0])}


@pytest.mark.parametrize("edit", [
    f"UPDATE inspection_result SET categories = '未发现问题', problem = 0 WHERE {ROWID} = "
    f"(SELECT MIN({ROWID}) FROM inspection_result WHERE problem = 1)",
    f"DELETE FROM inspection_result WHERE {ROWID} = (SELECT MAX({ROWID}) FROM inspection_result)",
    f"UPDATE inspection_result SET note = 'x' WHERE {ROWID} = (SELECT MIN({ROWID}) FROM inspection_result)",
])
def test_an_edited_result_is_detected(db, cli, edit):
    assert cli("db", "check").code == 0
    (drawn,) = {r[0] for r in rows(db, "SELECT DISTINCT draw_id FROM inspection_result")}
    sql(db, edit)
    assert where(problems(cli)) == {("results", "inspection_result", drawn)}
