"""Write tests/schema/<backend>.json: the schema a fresh store has after every migration.

tests/test_schema.py migrates a new store on each backend and compares it with these files, so a
change of a migration (a column, a type, NOT NULL, a key, an index, a trigger) shows up as a
reviewed diff of the snapshot, never silently. After changing a migration on purpose:

    python scripts/schema_snapshot.py                      # rewrite tests/schema/sqlite.json
    python scripts/schema_snapshot.py --pg postgresql://pg@127.0.0.1:55432/postgres
                                                           # and tests/schema/postgresql.json
    python scripts/schema_snapshot.py --check [--pg URL]   # exit 1 if a snapshot is out of date

``--pg`` (or SHUANGSUIJI_TEST_PG) names a server where a scratch database may be created and dropped.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import Connection, create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "schema"


def describe(conn: Connection) -> dict:
    """Tables (columns with type, NOT NULL, default or identity; primary key; unique constraints;
    foreign keys; indexes with their WHERE) and triggers (name, table, events) of the store."""
    found = inspect(conn)
    tables = {}
    for table in sorted(found.get_table_names()):
        columns = []
        for c in found.get_columns(table):
            column = {"name": c["name"], "type": str(c["type"]), "not_null": not c["nullable"]}
            if c.get("default") is not None:
                column["default"] = str(c["default"])
            if c.get("identity"):
                column["identity"] = True
            columns.append(column)
        uniques = _sqlite_uniques(conn, table) if conn.dialect.name == "sqlite" else found.get_unique_constraints(table)
        unique_names = {u["name"] for u in uniques}
        indexes = []
        for ix in found.get_indexes(table):
            if ix.get("duplicates_constraint") in unique_names:  # PostgreSQL's index behind a UNIQUE constraint
                continue
            index = {"name": ix["name"], "columns": list(ix["column_names"]), "unique": bool(ix["unique"])}
            where = next((v for k, v in ix.get("dialect_options", {}).items() if k.endswith("_where")), None)
            if where is not None:
                index["where"] = " ".join(str(where).split())
            indexes.append(index)
        tables[table] = {
            "columns": columns,
            "primary_key": found.get_pk_constraint(table)["constrained_columns"],
            "unique": sorted(u["column_names"] for u in uniques),
            "foreign_keys": sorted(
                f"({', '.join(fk['constrained_columns'])}) -> {fk['referred_table']} ({', '.join(fk['referred_columns'])})"
                for fk in found.get_foreign_keys(table)
            ),
            "indexes": sorted(indexes, key=lambda i: i["name"]),
        }
    return {"tables": tables, "triggers": _triggers(conn)}


def _sqlite_uniques(conn: Connection, table: str) -> list[dict]:
    """Every UNIQUE constraint, a column's own included (SQLAlchemy reads only the table-level ones)."""
    out = []
    for _, name, _, origin, _ in conn.exec_driver_sql(f"PRAGMA index_list({table})"):
        if origin == "u":
            columns = [r[2] for r in conn.exec_driver_sql(f"PRAGMA index_info({name})")]
            out.append({"name": None, "column_names": columns})
    return out


def _triggers(conn: Connection) -> list[dict]:
    """[{name, table, events}] sorted by name: SQLite keeps each trigger's text, PostgreSQL a bit mask."""
    out = []
    if conn.dialect.name == "sqlite":
        for name, table, sql in conn.exec_driver_sql("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"):
            events = re.search(r"\b(?:BEFORE|AFTER|INSTEAD\s+OF)\s+(\w+(?:\s+OR\s+\w+)*)\s+ON\b", sql, re.IGNORECASE)
            out.append({"name": name, "table": table, "events": events.group(1).upper().split(" OR ")})
    else:
        for name, table, kind in conn.exec_driver_sql(
            "SELECT t.tgname, c.relname, t.tgtype FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = to_regnamespace(current_schema())"
        ):
            # tgtype bits: 1 row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate
            events = [e for bit, e in ((4, "INSERT"), (16, "UPDATE"), (8, "DELETE"), (32, "TRUNCATE")) if kind & bit]
            out.append({"name": name, "table": table, "events": events})
    return sorted(out, key=lambda t: t["name"])


def render(snapshot: dict) -> str:
    """JSON with one line per column, index, trigger and key, so a migration's change is a short diff."""
    return _render(snapshot, "") + "\n"


def _render(value, indent: str) -> str:
    if _flat(value):
        return json.dumps(value, ensure_ascii=False)
    inner = indent + " "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_render(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    return "[\n" + ",\n".join(inner + _render(v, inner) for v in value) + "\n" + indent + "]"


def _flat(value) -> bool:
    """Written on one line: a scalar, a list of scalars or of such lists, a dict of scalars and lists of scalars."""
    if isinstance(value, dict):
        return all(not isinstance(v, (dict, list)) or (isinstance(v, list) and _flat(v)) for v in value.values())
    if isinstance(value, list):
        return all(not isinstance(v, (dict, list)) or (isinstance(v, list) and _flat(v)) for v in value)
    return True


def migrated(url: str) -> dict:
    """``describe`` of a store at ``url`` just migrated by the tool's own migrations."""
    from shuangsuiji.store import migrations
    from shuangsuiji.store.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            migrations.upgrade(conn)
        with engine.connect() as conn:
            return describe(conn)
    finally:
        engine.dispose()


def sqlite_snapshot() -> dict:
    with tempfile.TemporaryDirectory() as folder:
        return migrated(str(Path(folder) / "store.db"))


def postgresql_snapshot(server: str) -> dict:
    from shuangsuiji.store.dialect import url_for

    admin = create_engine(url_for(server), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"schema_{uuid.uuid4().hex[:16]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    try:
        return migrated(make_url(server).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("SHUANGSUIJI_TEST_PG"), help="PostgreSQL server URL")
    parser.add_argument("--check", action="store_true", help="exit 1 if a snapshot is out of date; write nothing")
    args = parser.parse_args(argv)
    made = {"sqlite": sqlite_snapshot()}
    if args.pg:
        made["postgresql"] = postgresql_snapshot(args.pg)
    stale = []
    for backend, snapshot in made.items():
        path = SNAPSHOTS / f"{backend}.json"
        text = render(snapshot)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{path.relative_to(ROOT)}: {'out of date' if args.check else 'written'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
