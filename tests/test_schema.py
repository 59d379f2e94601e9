"""The migrated schema, pinned: a fresh store on this backend has exactly the checked-in snapshot
(tests/schema/<backend>.json: tables, columns, types, NOT NULL, keys, indexes, triggers), and the
SQLModel rows of store/models.py agree with it. A migration changed on purpose is followed by
`python scripts/schema_snapshot.py [--pg URL]` and the snapshot's diff is reviewed with it."""

import json
import sys

from sqlalchemy import create_engine
from sqlmodel import SQLModel

from conftest import BACKEND, ROOT
from shuangsuiji.store import models  # noqa: F401  (registers the tables)
from shuangsuiji.store.dialect import url_for

sys.path.insert(0, str(ROOT / "scripts"))
import schema_snapshot  # noqa: E402


def migrated(cli, db) -> dict:
    assert cli("init").code == 0
    engine = create_engine(url_for(str(db)))
    try:
        with engine.connect() as conn:
            return schema_snapshot.describe(conn)
    finally:
        engine.dispose()


def test_a_migrated_store_has_exactly_the_snapshot_schema(cli, store_env):
    found = migrated(cli, store_env)
    path = ROOT / "tests" / "schema" / f"{BACKEND}.json"
    want = json.loads(path.read_text(encoding="utf-8"))
    hint = f"the migrated schema differs from {path.name}: review, then `python scripts/schema_snapshot.py` (see its docstring)"
    assert sorted(found["tables"]) == sorted(want["tables"]), hint
    for table, shape in want["tables"].items():
        for part in ("columns", "primary_key", "unique", "foreign_keys", "indexes"):
            assert found["tables"][table][part] == shape[part], f"{table} {part}: {hint}"
    assert found["triggers"] == want["triggers"], hint
    # The snapshot is what the script writes, byte for byte (so regenerating it is the only edit).
    assert schema_snapshot.render(found) == path.read_text(encoding="utf-8")


def test_the_snapshot_holds_the_partial_index_and_the_refusal_triggers(cli, store_env):
    """What the snapshot must never lose unnoticed: the draw's partial index (第九条) and the log's refusals (第五条)."""
    found = migrated(cli, store_env)
    drawable = next(i for i in found["tables"]["entity"]["indexes"] if i["name"] == "ix_entity_drawable")
    assert drawable["columns"] == ["risk_class", "uscc"] and "in_directory = 1" in drawable["where"]
    triggers = {t["name"]: (t["table"], t["events"]) for t in found["triggers"]}
    assert triggers["audit_log_no_update"] == ("audit_log", ["UPDATE"])
    assert triggers["audit_log_no_delete"] == ("audit_log", ["DELETE"])


def test_the_models_agree_with_the_migrated_schema(cli, store_env):
    """store/models.py's rows (what the Python API returns) name every table and column the migrations
    create, with the same NOT NULL and the same primary key."""
    found = migrated(cli, store_env)["tables"]
    assert sorted(SQLModel.metadata.tables) == sorted(found)
    for name, table in SQLModel.metadata.tables.items():
        columns = {c["name"]: c for c in found[name]["columns"]}
        assert sorted(c.name for c in table.columns) == sorted(columns), name
        assert [c.name for c in table.primary_key.columns] == found[name]["primary_key"], name
        for column in table.columns:
            if column.primary_key:  # SQLite lets a non-integer key be NULL; neither backend stores one
                continue
            assert column.nullable == (not columns[column.name]["not_null"]), f"{name}.{column.name}"
