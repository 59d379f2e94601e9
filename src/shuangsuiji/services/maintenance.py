"""Keeping a store safe: a consistent backup of a live store, and one check of everything
the store promises (第五条 "全程留痕、责任可溯", 第九条 "一经锁定不得更改", 第十八条 归档).

``backup`` copies the store while holding its write lock, so the copy is exactly the state
after the last committed change; the ``db backup`` audit entry is then written in the live
store only — the copy ends at the entry before it, and that entry names the copy's head and
SHA-256 (docs/reliability.md explains why). A SQLite store is copied with ``VACUUM INTO``; a
PostgreSQL store is written out as a SQLite store file (the same migrations, every row), so
every backup is one portable file that ``db check`` verifies (docs/operations.md).

``check`` re-checks, in one read transaction: the schema version and the store's refusal
triggers, the database's own integrity, the audit chain, that every audit reference points
at a real entry, that every frozen row (checklist, plan, task, draw) still hashes to what
its audit entry recorded, and every drawn draw recomputed from its seed. Each problem names
the table and the row (or the log entry), so an administrator's direct edit is found.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import Connection, inspect, text

from shuangsuiji import files
from shuangsuiji.domain import bundle as bundles
from shuangsuiji.domain.audit import canonical_json
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.services import audit
from shuangsuiji.store import migrations


# ---------------------------------------------------------------- backup


def backup(store, dest: Path, *, force: bool, operator: str) -> dict:
    """Copy the live store to ``dest`` (never half-written), and log the copy in the store.

    The copy is made while this process holds the write lock, so no change can fall between
    the copy and its audit entry: the copy's head is the entry just before ``db backup``.
    """
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]+:/", str(dest)):  # a URL (a Path folds its //): not a file to create
        raise UserError(f"备份须为文件路径，不是数据库 URL：{dest}", f"The backup must be a file path, not a database URL: {dest}",
                        code=ExitCode.USAGE)
    dest = Path(dest).expanduser().resolve()
    if store.is_sqlite:
        live = Path(store.engine.url.database).resolve()
        if dest in (live, Path(f"{live}-wal"), Path(f"{live}-shm"), Path(f"{live}-journal")):
            raise UserError(f"备份文件不能是存储本身：{dest}", f"The backup cannot be the store itself: {dest}", code=ExitCode.USAGE)
    if dest.is_dir():
        raise UserError(f"{dest} 是目录，请给出备份文件名", f"{dest} is a directory; give the backup's file name", code=ExitCode.USAGE)
    files.claim(dest, force)  # the rule for every output file
    files.make_folder(dest)
    # Written beside the target and renamed over it: a crash never leaves a half-written backup at dest.
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    tmp.unlink(missing_ok=True)
    replaced = False
    try:
        with store.write() as conn:
            version = migrations.current_version(conn)
            if version == 0:
                raise UserError(f"{store.db} 不是已初始化的存储", f"{store.db} is not an initialised store")
            head = audit.head(conn)
            if store.is_sqlite:
                _vacuum_into(store, tmp)
            else:
                _copy_into_sqlite(conn, version, tmp)
            copy = _describe_copy(tmp)
            want = (head.seq, head.hash) if head else (0, None)
            if (copy["head"]["seq"], copy["head"]["hash"]) != want or copy["quick_check"] != "ok":
                raise UserError(
                    f"备份副本校验失败（{copy['quick_check']}，链头 {copy['head']}），未保留副本",
                    f"The copy did not check out ({copy['quick_check']}, head {copy['head']}); it was not kept",
                )
            os.replace(tmp, dest)
            replaced = True
            payload = {"file": str(dest), "bytes": copy["bytes"], "sha256": copy["sha256"],
                       "schema_version": version, "head": copy["head"]}
            entry = audit.append(conn, operator, "db backup", payload)
    except BaseException:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)
        if replaced:  # the entry naming it was not committed: do not leave an unrecorded copy
            dest.unlink(missing_ok=True)
        raise
    return {**payload, "audit_seq": entry.seq}


def _vacuum_into(store, path: Path) -> None:
    """SQLite's own consistent copy (``VACUUM INTO``), on a second connection of the store's engine.

    VACUUM cannot run inside a transaction, so it uses the bare driver connection (the engine's
    pragmas applied, no BEGIN); it reads the last committed state while our write lock is held.
    """
    raw = store.engine.raw_connection()
    try:
        raw.driver_connection.execute("VACUUM INTO ?", (str(path),))
    except sqlite3.Error as exc:
        raise UserError(f"备份失败：{exc}", f"Backup failed: {exc}") from None
    finally:
        raw.close()


def _copy_into_sqlite(conn: Connection, version: int, path: Path) -> None:
    """Write the store behind ``conn`` (PostgreSQL) as a new SQLite store file at ``path``.

    The schema comes from the same migrations (so the copy has the same tables, indexes and
    refusal triggers); then every row of every table, ``schema_migrations`` included, in
    creation order so that each row's parents are there first. ``conn`` holds the write lock,
    so no command's change can fall between two tables.
    """
    from shuangsuiji.services.upsert import _executemany, close_permit, open_permit
    from shuangsuiji.store.engine import make_engine

    if version != migrations.LATEST:
        raise UserError(
            f"存储结构版本 {version} 不是当前的 {migrations.LATEST}：先运行 shuangsuiji init 再备份",
            f"The store's schema version {version} is not the current {migrations.LATEST}: run `shuangsuiji init`, then back up",
        )
    engine = make_engine(str(path))
    try:
        with engine.connect() as copy, copy.begin():
            migrations.upgrade(copy)
            copy.exec_driver_sql("DELETE FROM schema_migrations")
            open_permit(copy)  # the copy takes the directories as they are (migration 6)
            tables = [r[0] for r in copy.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
            found = inspect(conn)
            for table in tables:
                columns = [r[1] for r in copy.exec_driver_sql(f"PRAGMA table_info({table})")]
                keys = found.get_pk_constraint(table)["constrained_columns"]
                order = f" ORDER BY {', '.join(keys)}" if keys else ""
                insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                rows = conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM {table}{order}",
                                            execution_options={"yield_per": 20_000})
                for batch in rows.partitions():
                    _executemany(copy, insert, [tuple(r) for r in batch])
            close_permit(copy)
    except sqlite3.Error as exc:
        raise UserError(f"备份失败：{exc}", f"Backup failed: {exc}") from None
    finally:
        engine.dispose()


def _describe_copy(path: Path) -> dict:
    """Check the copy, read its head, make it a WAL file like the store, and hash it."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        quick = conn.execute("PRAGMA quick_check").fetchone()[0]
        row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    # VACUUM INTO writes a rollback-journal file; the store switches every file it opens to WAL,
    # which rewrites the header. Switch it now, so that opening the copy later keeps its SHA-256.
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
        os.fsync(fh.fileno())  # durable before it is renamed into place and logged
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest(), "quick_check": quick,
            "head": {"seq": row[0], "hash": row[1]} if row else {"seq": 0, "hash": None}}


# ---------------------------------------------------------------- check


@dataclass(frozen=True)
class Finding:
    """One problem: which check found it, in which table and row (or log entry), and what."""

    check: str
    table: str | None
    row: str | None
    en: str
    zh: str

    def to_json(self) -> dict:
        return {"check": self.check, "table": self.table, "row": self.row, "message": self.en, "message_zh": self.zh}


CHECKS = ("schema", "triggers", "integrity", "foreign_keys", "audit_chain", "audit_references", "frozen_rows", "draws", "teams",
          "directories")


class _Report:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.checks: dict[str, dict] = {}

    def add(self, check: str, table: str | None, row: Any, en: str, zh: str) -> None:
        self.findings.append(Finding(check, table, None if row is None else str(row), en, zh))

    def run(self, name: str, fn: Callable[[], int | None], skip: str | None = None) -> None:
        """Run one check; a check that cannot even read its rows is a finding, not a crash."""
        if skip:
            self.checks[name] = {"ok": None, "checked": 0, "skipped": skip}
            return
        before = len(self.findings)
        try:
            checked = fn()
        except Exception as exc:  # a damaged store must be reported, whatever it looks like
            self.add(name, None, None, f"the check could not complete: {exc!r}", f"检查无法完成：{exc!r}")
            checked = None
        self.checks[name] = {"ok": len(self.findings) == before, "checked": checked}


def check_store(store, expect_head: tuple[int, str] | None = None) -> dict:
    """``check`` in one read transaction of ``store``, rolled back rather than committed: on a
    damaged file even ending a read can fail, and the findings must still be reported."""
    from sqlalchemy.exc import DBAPIError

    from shuangsuiji.store.engine import _busy_as_exit

    with _busy_as_exit(), store.engine.connect() as conn:
        if not store.is_sqlite:  # one snapshot for every check, as a SQLite read transaction has
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        trans = conn.begin()
        try:
            return check(conn, expect_head)
        finally:
            try:
                trans.rollback()
            except DBAPIError:
                conn.invalidate()


def check(conn: Connection, expect_head: tuple[int, str] | None = None) -> dict:
    """Every check of the store; ``ok`` is False when any finds a problem (exit 3)."""
    version = migrations.current_version(conn)
    if version == 0:
        raise UserError("这不是已初始化的存储（没有结构版本），请先运行 shuangsuiji init",
                        "This is not an initialised store (no schema version); run `shuangsuiji init` first")
    report = _Report()
    sqlite = conn.dialect.name == "sqlite"
    current = version == migrations.LATEST
    audit_result: dict = {}

    def schema() -> int:
        if version != migrations.LATEST:
            report.add("schema", "schema_migrations", version,
                       f"schema version {version}, this program's is {migrations.LATEST} (run `shuangsuiji init`)",
                       f"结构版本 {version}，本程序为 {migrations.LATEST}（运行 shuangsuiji init）")
        return 1

    def chain() -> int:
        audit_result.update(audit.verify(conn, expect_head))
        broken = audit_result["broken"]
        if broken:
            report.add("audit_chain", "audit_log", broken["seq"], broken["message"], broken["message_zh"])
        return audit_result["entries"]

    not_current = None if current else "schema not current"
    report.run("schema", schema)
    report.run("triggers", lambda: _triggers(conn, version, report))
    # PostgreSQL checks its own pages (checksums, pg_amcheck): see docs/operations.md.
    report.run("integrity", lambda: _integrity(conn, report), None if sqlite else "SQLite's integrity_check; not on PostgreSQL")
    report.run("foreign_keys", lambda: (_foreign_keys if sqlite else _foreign_keys_by_query)(conn, report))
    report.run("audit_chain", chain)
    report.run("audit_references", lambda: _audit_references(conn, report), not_current)
    report.run("frozen_rows", lambda: _frozen_rows(conn, report), not_current)
    report.run("draws", lambda: _draws(conn, report), not_current)
    report.run("teams", lambda: _teams(conn, report), not_current)
    report.run("results", lambda: _results(conn, report), not_current)
    report.run("directories", lambda: _directories(conn, report), not_current)
    return {
        "ok": not report.findings,
        "schema_version": version,
        "latest_version": migrations.LATEST,
        "audit": {"entries": audit_result.get("entries"), "head_hash": audit_result.get("head_hash")},
        "checks": report.checks,
        "problems": [f.to_json() for f in report.findings],
    }


_TRIGGER_NAME = re.compile(r"CREATE\s+TRIGGER\s+(\w+)\s+BEFORE\s+\w+(?:\s+OR\s+\w+)?\s+ON\s+(\w+)", re.IGNORECASE)


def _expected_triggers(dialect: str, version: int) -> dict[str, tuple[str, str]]:
    """{trigger name: (table, creating statement)} of every migration applied so far."""
    out = {}
    for migration in migrations.MIGRATIONS:
        if migration.version > version:
            continue
        for statement in migration.sqlite if dialect == "sqlite" else migration.postgresql:
            match = _TRIGGER_NAME.search(statement)
            if match:
                out[match.group(1)] = (match.group(2), statement)
    return out


def _triggers(conn: Connection, version: int, report: _Report) -> int:
    """The store refuses changes through its triggers: each must be there, and unaltered."""
    dialect = conn.dialect.name
    expected = _expected_triggers(dialect, version)
    if dialect == "sqlite":
        found = {name: " ".join((sql or "").split())
                 for name, sql in conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}
    else:
        found = _postgres_triggers(conn)
    for name, (table, statement) in sorted(expected.items()):
        if name not in found:
            report.add("triggers", table, name, f"trigger {name} is missing: the store no longer refuses these changes",
                       f"触发器 {name} 缺失：存储不再拒绝此类更改")
        elif found[name] == "disabled":
            report.add("triggers", table, name, f"trigger {name} is disabled: the store no longer refuses these changes",
                       f"触发器 {name} 被停用：存储不再拒绝此类更改")
        elif found[name] != _trigger_signature(statement, dialect, table):
            report.add("triggers", table, name, f"trigger {name} was altered", f"触发器 {name} 被改动")
    functions = [("shuangsuiji_refuse_change", migrations._POSTGRES_REFUSE)]
    if version >= 6:
        functions.append(("shuangsuiji_import_only", migrations._POSTGRES_IMPORT_ONLY))
    for function, created in functions if dialect != "sqlite" else ():
        body = conn.exec_driver_sql(f"SELECT prosrc FROM pg_proc WHERE proname = '{function}'").scalar()
        want = created.split("$$")[1]
        if body is None or " ".join(body.split()) != " ".join(want.split()):
            report.add("triggers", None, f"{function}()",
                       "the function the triggers call was altered or removed: the store may no longer refuse changes",
                       "触发器调用的函数被改动或删除：存储可能不再拒绝更改")
    return len(expected)


def _trigger_signature(statement: str, dialect: str, table: str) -> str:
    """What ``_postgres_triggers`` reads back for a trigger created by ``statement`` (SQLite: its text)."""
    if dialect == "sqlite":
        return " ".join(statement.split())
    timing = re.search(r"BEFORE\s+(\w+(?:\s+OR\s+\w+)?)\s+ON", statement).group(1)
    level = "ROW" if "FOR EACH ROW" in statement else "STATEMENT"
    when = "WHEN" if re.search(r"FOR EACH ROW\s+WHEN", statement) else ""
    call = re.search(r"EXECUTE FUNCTION (\w+)\((.*)\)\s*$", statement, re.DOTALL)
    return " ".join([table, " ".join(timing.split()), level, when, call.group(1), call.group(2).strip("'")])


def _postgres_triggers(conn: Connection) -> dict[str, str]:
    """{name: "disabled", or a signature of table, events, level, WHEN or not, function and argument}.

    PostgreSQL does not keep a trigger's text; what a replaced or re-pointed trigger changes is here.
    """
    out = {}
    for name, table, enabled, kind, function, args, has_when in conn.exec_driver_sql(
        "SELECT t.tgname, c.relname, t.tgenabled, t.tgtype, p.proname, "
        "encode(t.tgargs, 'escape'), t.tgqual IS NOT NULL "
        "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE NOT t.tgisinternal AND c.relnamespace = to_regnamespace(current_schema())"
    ):
        if enabled == "D":
            out[name] = "disabled"
            continue
        # tgtype bits: 1 row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate
        events = " OR ".join(e for bit, e in ((4, "INSERT"), (16, "UPDATE"), (8, "DELETE"), (32, "TRUNCATE")) if kind & bit)
        timing = "" if kind & 2 else "AFTER "
        level = "ROW" if kind & 1 else "STATEMENT"
        argument = args.replace("\\000", "")  # each argument ends in a NUL byte
        out[name] = " ".join([table, timing + events, level, "WHEN" if has_when else "", function, argument])
    return out


def _integrity(conn: Connection, report: _Report) -> int:
    rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
    for message in rows:
        if message != "ok":
            report.add("integrity", None, None, f"integrity_check: {message}", f"完整性检查：{message}")
    return 1


def _foreign_keys(conn: Connection, report: _Report) -> int:
    n = 0
    for table, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check"):
        n += 1
        report.add("foreign_keys", table, f"rowid {rowid}", f"refers to a {parent} row that does not exist",
                   f"引用的 {parent} 记录不存在")
    return n


def _foreign_keys_by_query(conn: Connection, report: _Report) -> int:
    """Every foreign key, checked row by row with a query (PostgreSQL enforces them, but an
    administrator can switch that off: ``session_replication_role = replica``)."""
    found = inspect(conn)
    n = 0
    for table in sorted(found.get_table_names()):
        keys = found.get_pk_constraint(table)["constrained_columns"]
        for fk in found.get_foreign_keys(table):
            cols, parent, parent_cols = fk["constrained_columns"], fk["referred_table"], fk["referred_columns"]
            name_cols = keys or cols
            orphans = conn.exec_driver_sql(
                f"SELECT {', '.join(name_cols)} FROM {table} t WHERE "
                + " AND ".join(f"t.{c} IS NOT NULL" for c in cols)
                + f" AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE "
                + " AND ".join(f"p.{pc} = t.{c}" for c, pc in zip(cols, parent_cols)) + ")"
            )
            for row in orphans:
                n += 1
                report.add("foreign_keys", table, _row_name(row, name_cols), f"refers to a {parent} row that does not exist",
                           f"引用的 {parent} 记录不存在")
    return n


def _row_name(row, keys: list[str]) -> str:
    values = [str(row._mapping[k]) for k in keys]
    return values[0] if len(values) == 1 else "(" + ", ".join(values) + ")"


def _audit_references(conn: Connection, report: _Report) -> int:
    """Every row that names the audit entry recording it (``audit_seq``) names one that exists."""
    found = inspect(conn)
    checked = 0
    for table in sorted(found.get_table_names()):
        if "audit_seq" not in {c["name"] for c in found.get_columns(table)}:
            continue
        keys = found.get_pk_constraint(table)["constrained_columns"] or ["audit_seq"]
        rows = conn.execute(text(
            f"SELECT {', '.join(keys)}, audit_seq FROM {table} t "
            "WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.seq = t.audit_seq)"
        ))
        for row in rows:
            report.add("audit_references", table, _row_name(row, keys),
                       f"names audit entry {row.audit_seq}, which does not exist",
                       f"所记审计条目 {row.audit_seq} 不存在")
        checked += 1
    return checked


def _payload(conn: Connection, seq: int) -> tuple[str, dict] | None:
    row = conn.execute(text("SELECT command, payload FROM audit_log WHERE seq = :s"), {"s": seq}).first()
    if row is None:
        return None
    try:
        return row.command, json.loads(row.payload)
    except ValueError:
        return row.command, {}


def _frozen_rows(conn: Connection, report: _Report) -> int:
    """Checklists, plans and tasks still hash to what the audit entry that created them recorded."""
    n = 0
    specs = (  # table, key columns, content column, creating command, payload key of the content's digest
        ("checklist", ["version"], "content", "checklists import", "content_sha256"),
        ("plan", ["year", "version"], "content", "plans import", "content_sha256"),
        ("task", ["id"], "definition", "tasks create", "sha256"),
    )
    for table, keys, column, command, key in specs:
        extra = ", sha256" if table == "task" else ""
        for row in conn.execute(text(f"SELECT {', '.join(keys)}, {column}{extra}, audit_seq FROM {table}")):
            n += 1
            name = _row_name(row, keys)
            digest = bundles.sha256_text(getattr(row, column))
            if table == "task" and digest != row.sha256:
                report.add("frozen_rows", "task", name, "sha256 is not the SHA-256 of its definition (the definition was edited)",
                           "sha256 与定义内容不符（定义被修改）")
            entry = _payload(conn, row.audit_seq)
            if entry is None:
                continue  # reported by audit_references
            got_command, payload = entry
            recorded = [payload.get("task" if k == "id" else k) for k in keys]
            if got_command != command or recorded != [row._mapping[k] for k in keys]:
                report.add("frozen_rows", table, name, f"audit entry {row.audit_seq} is not the `{command}` of this row",
                           f"审计条目 {row.audit_seq} 不是本记录的 {command}")
            elif payload.get(key) != digest:
                report.add("frozen_rows", table, name,
                           f"{column} does not hash to the {key} recorded by audit entry {row.audit_seq} (edited after it was stored)",
                           f"{column} 与审计条目 {row.audit_seq} 记录的 {key} 不符（存入后被修改）")
    return n


def _results(conn: Connection, report: _Report) -> int:
    """Each draw's results still hash to the results_sha256 its last results entry recorded."""
    from shuangsuiji.services import results

    recorded: dict[str, tuple[int, str]] = {}
    for entry in audit.entries(conn, command="results "):
        try:
            payload = json.loads(entry.payload)
        except ValueError:
            continue  # reported by audit_chain
        if isinstance(payload, dict) and "results_sha256" in payload:
            recorded[payload.get("draw")] = (entry.seq, payload["results_sha256"])
    stored = [r[0] for r in conn.execute(text("SELECT DISTINCT draw_id FROM inspection_result ORDER BY draw_id"))]
    for draw_id in sorted(set(stored) | set(recorded)):
        digest = results.results_digest(results.stored_results(conn, draw_id))
        if draw_id not in recorded:
            report.add("results", "inspection_result", draw_id, "results stored without any `results` audit entry",
                       "存有检查结果，但没有任何录入结果的审计条目")
        elif recorded[draw_id][1] != digest:
            seq = recorded[draw_id][0]
            report.add("results", "inspection_result", draw_id,
                       f"the results differ from the results_sha256 recorded by audit entry {seq} (edited, added or deleted since)",
                       f"检查结果与审计条目 {seq} 记录的 results_sha256 不符（此后被修改、增加或删除）")
    return len(stored)


def _draw_entries(conn: Connection) -> dict[str, list[tuple[int, str, dict]]]:
    out: dict[str, list] = {}
    for entry in audit.entries(conn, command="draws"):
        try:
            payload = json.loads(entry.payload)
        except ValueError:
            continue  # reported by audit_chain
        if isinstance(payload, dict) and isinstance(payload.get("draw"), str):
            out.setdefault(payload["draw"], []).append((entry.seq, entry.command, payload))
    return out


def _draws(conn: Connection, report: _Report) -> int:
    """Every draw's frozen population and parameters, its log entries, and every drawn draw recomputed."""
    logged = _draw_entries(conn)
    ids = [r[0] for r in conn.execute(text("SELECT id FROM draw ORDER BY task_id, attempt"))]
    for draw_id in ids:
        try:
            _one_draw(conn, draw_id, logged.get(draw_id, []), report)
        except UserError as exc:  # a row that names what does not fit, as `draws verify` says it
            report.add("draws", "draw", draw_id, exc.en, exc.zh)
        except Exception as exc:  # unreadable rows are themselves the finding
            report.add("draws", "draw", draw_id, f"cannot be read: {exc!r}", f"无法读取：{exc!r}")
    return len(ids)


def _teams(conn: Connection, report: _Report) -> int:
    """第十一条: members of locked draws' teams who may no longer serve (调离, 执法证 lapsed, a
    conflict declared since): each needs `draws replace`."""
    from shuangsuiji.services.teams import team_problems

    ids = [r[0] for r in conn.execute(text("SELECT id FROM draw WHERE state = 'locked' ORDER BY task_id, attempt"))]
    for draw_id in ids:
        for p in team_problems(conn, draw_id):
            key = f"({draw_id}, {p['entity']}, {p['officer']})"
            if p["problem"] == "unavailable":
                report.add("teams", "draw_team", key, "the officer is no longer available (not 在岗, out of the directory or 执法证 "
                           "lapsed): replace them with `draws replace`", "该执法人员已不能参加检查（非在岗、已移出名录或执法证过期）：请用 draws replace 更换")
            else:
                report.add("teams", "draw_team", key, "a conflict (回避) with this entity was declared after the draw: replace "
                           "them with `draws replace --entity`", "抽取后登记了与该对象的回避关系：请用 draws replace --entity 更换")
    return len(ids)


def _one_draw(conn: Connection, draw_id: str, entries: list, report: _Report) -> None:
    from shuangsuiji.services.bundle_export import verify_stored
    from shuangsuiji.services.teams import initial_teams

    row = conn.execute(text("SELECT * FROM draw WHERE id = :d"), {"d": draw_id}).first()

    def add(table: str, en: str, zh: str, key: str | None = None) -> None:
        report.add("draws", table, key or draw_id, en, zh)

    parameters = json.loads(row.parameters)
    if bundles.parameters_digest(parameters) != row.parameters_sha256:
        add("draw", "parameters_sha256 does not match its parameters", "parameters_sha256 与参数不符")
    strata = {s.stratum: s for s in conn.execute(
        text("SELECT stratum, size, take, population_sha256, ids FROM draw_stratum WHERE draw_id = :d"), {"d": draw_id})}
    digests = {}
    for name, s in sorted(strata.items()):
        key = f"({draw_id}, {name})"
        ids = s.ids.split("\n") if s.ids else []
        digests[name] = bundles.population_digest(ids)
        if digests[name] != s.population_sha256:
            add("draw_stratum", "ids do not hash to its population_sha256 (the population was edited)",
                "ids 与 population_sha256 不符（检查对象范围被修改）", key)
        if len(ids) != s.size or len(set(ids)) != len(ids):
            add("draw_stratum", f"size {s.size} but {len(ids)} ids ({len(set(ids))} distinct)",
                f"size 为 {s.size}，实有 {len(ids)} 个（不同的 {len(set(ids))} 个）", key)
    declared = {p["name"]: p for p in parameters["strata"]}
    if set(declared) != set(strata) or any(
        (declared[n]["size"], declared[n]["take"], declared[n]["population_sha256"]) != (s.size, s.take, s.population_sha256)
        for n, s in strata.items() if n in declared
    ):
        add("draw_stratum", "the strata differ from the draw's frozen parameters", "分层与冻结的抽取参数不符")
    if bundles.combined_digest(digests) != row.population_sha256:
        add("draw", "population_sha256 does not match its strata's populations", "population_sha256 与各层检查对象不符")
    task = conn.execute(text("SELECT sha256 FROM task WHERE id = :t"), {"t": row.task_id}).first()
    if task is None or parameters["task"]["definition_sha256"] != task.sha256:
        add("draw", "the frozen parameters name a task definition that is not the stored task's",
            "冻结参数中的任务定义摘要与存储的任务不符")
    by_command: dict[str, list[dict]] = {}
    for _, command, payload in entries:
        by_command.setdefault(command, []).append(payload)
    if row.commitment is not None:
        commitment = json.loads(row.commitment)
        if [p.get("commitment") for p in by_command.get("draws commit", [])] != [commitment]:
            add("draw", "its commitment is not the one recorded by its `draws commit` audit entry",
                "承诺与 draws commit 审计条目记录的不符")
        for k in ("population_sha256", "parameters_sha256"):
            if commitment.get(k) != getattr(row, k):
                add("draw", f"{k} differs from the commitment", f"{k} 与承诺不符")
    if row.state == "void" and [p.get("reason") for p in by_command.get("draws void", [])] != [row.void_reason]:
        add("draw", "its void reason is not the one recorded by its `draws void` audit entry",
            "作废理由与 draws void 审计条目记录的不符")
    drawn = row.locked_at is not None or row.state == "locked"
    if not drawn:
        if not entries:
            add("draw", "no audit entry records this draw", "没有审计条目记录此次抽取")
        return
    runs = by_command.get("draws run", [])
    if len(runs) != 1:
        add("draw", f"{len(runs)} `draws run` audit entries record this draw (expected 1)",
            f"记录此次抽取的 draws run 审计条目有 {len(runs)} 条（应为 1 条）")
    else:
        run = runs[0]
        selection = conn.execute(text(
            "SELECT stratum, position, uscc, ticket FROM draw_selection WHERE draw_id = :d ORDER BY stratum, position"
        ), {"d": draw_id}).all()
        selected = bundles.selection_digest(selection)
        for key, stored in (("seed", row.seed), ("population_sha256", row.population_sha256),
                            ("parameters_sha256", row.parameters_sha256), ("selected_sha256", selected)):
            if run.get(key) != stored:
                what = "the selection (draw_selection)" if key == "selected_sha256" else key
                add("draw_selection" if key == "selected_sha256" else "draw",
                    f"{what} differs from what its `draws run` audit entry recorded",
                    f"{what} 与 draws run 审计条目记录的不符")
    teams_logged = by_command.get("draws inspectors", [])
    teams = initial_teams(conn, draw_id)
    if teams is not None or teams_logged:
        digest = bundles.teams_digest(teams.to_dict()) if teams is not None else None
        if [p.get("teams_sha256") for p in teams_logged] != [digest]:
            add("draw_team", "the teams differ from what its `draws inspectors` audit entry recorded",
                "检查小组与 draws inspectors 审计条目记录的不符")
    replaced = conn.execute(text("SELECT COUNT(*) FROM draw_replacement WHERE draw_id = :d"), {"d": draw_id}).scalar_one()
    if replaced != len(by_command.get("draws replace", [])):
        add("draw_replacement", f"{replaced} replacements stored, {len(by_command.get('draws replace', []))} in the audit log",
            f"存有 {replaced} 次更换，审计日志记录 {len(by_command.get('draws replace', []))} 次")
    result = verify_stored(conn, draw_id)
    if not result["ok"]:
        add("draw", f"recomputing the draw fails at {result['field']}: {result['message']}",
            f"重新计算抽取不符：{result['field']}：{result['message']}")


# ---------------------------------------------------------------- directories (第五条, 第九条, 第十条)

# table, key, history table, tracked fields, the import command that writes its history
_DIRECTORIES = (
    ("entity", "uscc", "entity_history", ("status", "risk_class", "in_directory"), "objects import"),
    ("inspector", "cert_no", "inspector_history", ("department", "status", "cert_expires_on", "in_directory"), "inspectors import"),
)


def _directories(conn: Connection, report: _Report) -> int:
    """Entities, officers and conflicts agree with their history, the log and every draw.

    Migration 6 refuses direct edits; these find one made with the triggers dropped (and put
    back): a permit left behind, a row whose tracked fields are not its history's last values,
    history no import wrote, and — for an edit reverted after a draw — a draw whose frozen
    population, officer pools or conflicts differ from what the directories held at that moment
    (each row unchanged since the draw must have been drawn, pooled or recused as it is now).
    """
    n = 0
    for (permit,) in conn.execute(text("SELECT id FROM import_permit")):
        report.add("directories", "import_permit", permit,
                   "an import permit was left behind: entities, officers or conflicts were written outside an import",
                   "遗留导入许可：检查对象、执法人员或回避关系曾在导入之外被写入")
    for table, key, history, tracked, command in _DIRECTORIES:
        current = {r[0]: r[1:] for r in conn.execute(text(f"SELECT {key}, {', '.join(tracked)} FROM {table}"))}
        n += len(current)
        last: dict[tuple[str, str], str | None] = {}
        for code, field, new_value, seq, logged in conn.execute(text(
            f"SELECT h.{key}, h.field, h.new_value, h.audit_seq, a.command FROM {history} h "
            f"LEFT JOIN audit_log a ON a.seq = h.audit_seq ORDER BY h.id"
        )):
            last[code, field] = new_value
            if logged is not None and logged != command:
                report.add("directories", history, code,
                           f"a change of {field} names audit entry {seq}, which is a `{logged}`, not an `{command}`",
                           f"{field} 的变更记录指向审计条目 {seq}，该条目是 {logged} 而非 {command}")
        for (code, field), value in sorted(last.items()):
            if code not in current or field not in tracked:
                continue
            now = current[code][tracked.index(field)]
            if (None if now is None else str(now)) != value:
                report.add("directories", table, code,
                           f"{field} is {now!r}, but its history's last change set it to {value!r} (edited outside an import)",
                           f"{field} 为 {now!r}，但变更记录最后一次将其设为 {value!r}（在导入之外被修改）")
    scopes: dict[str, list] = {}  # the directory's rows per task scope, read once for every draw of that scope
    for draw_id, task_id, locked_at in conn.execute(text(
        "SELECT id, task_id, locked_at FROM draw WHERE locked_at IS NOT NULL ORDER BY task_id, attempt"
    )).all():
        _draw_population_then(conn, report, draw_id, task_id, locked_at, scopes)
        _draw_officers_then(conn, report, draw_id, task_id)
    return n


def _draw_population_then(conn: Connection, report: _Report, draw_id: str, task_id: str, locked_at: str,
                          scopes: dict[str, list]) -> None:
    """Every entity unchanged since the draw is in its frozen population exactly when it was drawable then."""
    from datetime import datetime, timezone

    from shuangsuiji.domain.directory import DRAWABLE_STATUSES
    from shuangsuiji.services import population, tasks

    task = tasks.get_task(conn, task_id)
    definition = task["definition"]
    if "directory" not in definition["scope"]:
        return  # an imported list: frozen with the task (task_list_entity)
    frozen = {uscc: stratum for stratum, ids in conn.execute(
        text("SELECT stratum, ids FROM draw_stratum WHERE draw_id = :d"), {"d": draw_id}
    ) for uscc in (ids.split("\n") if ids else [])}
    at = datetime.strptime(locked_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    recent, _ = population.recently_drawn(conn, task, at)
    where, params = population.directory_where(definition["scope"]["directory"])
    ratios = definition["ratios"]
    key = canonical_json([where, params])
    if key not in scopes:
        scopes[key] = population._fetch(conn, "SELECT uscc, risk_class, in_directory, status, updated_at FROM entity"
                                        + (f" WHERE {' AND '.join(where)}" if where else ""), params)
    rows = scopes[key]
    seen = set()
    for uscc, risk, in_directory, status, updated_at in rows:
        seen.add(uscc)
        if updated_at > locked_at:
            continue  # changed by an import since the draw: its state then is not this row's
        drawable = (bool(in_directory) and status in DRAWABLE_STATUSES and risk in ratios and uscc not in recent)
        if drawable and frozen.get(uscc) != risk:
            report.add("directories", "entity", uscc,
                       f"draw {draw_id}: drawable in class {risk} when it was drawn (unchanged since, by its history), "
                       "but not so in its frozen population (the directory was edited around the draw)",
                       f"抽取 {draw_id}：抽取时属 {risk} 类、可被抽取（此后未变），但不在冻结的检查对象范围中（名录在抽取前后被改动）")
        elif not drawable and uscc in frozen:
            report.add("directories", "entity", uscc,
                       f"draw {draw_id}: in its frozen population, but not drawable when it was drawn "
                       f"({status}, class {risk}; unchanged since, by its history)",
                       f"抽取 {draw_id}：在冻结的检查对象范围中，但抽取时不可被抽取（{status}，{risk} 类；此后未变）")
    if not where:
        for uscc in sorted(set(frozen) - seen):
            report.add("directories", "entity", uscc, f"draw {draw_id}: in its frozen population, but not in the directory",
                       f"抽取 {draw_id}：在冻结的检查对象范围中，但名录库中没有")


def _draw_officers_then(conn: Connection, report: _Report, draw_id: str, task_id: str) -> None:
    """Every officer unchanged since the inspector draw is in its pools exactly when eligible then,
    and every conflict declared by then between a pooled officer and a drawn entity was recused."""
    from shuangsuiji.services import tasks
    from shuangsuiji.services.teams import _eligible_pools

    logged = conn.execute(text(
        "SELECT ts, payload FROM audit_log WHERE command = 'draws inspectors' ORDER BY seq"
    )).all()
    at = next((ts for ts, payload in logged if json.loads(payload).get("draw") == draw_id), None)
    if at is None:
        return
    pooled = {c for (c,) in conn.execute(text("SELECT cert_no FROM draw_inspector_pool WHERE draw_id = :d"), {"d": draw_id})}
    definition = tasks.get_task(conn, task_id)["definition"]
    eligible = {c for pool in _eligible_pools(conn, definition).values() for c in pool}
    for cert, updated_at in conn.execute(text("SELECT cert_no, updated_at FROM inspector")):
        if updated_at > at or (cert in eligible) == (cert in pooled):
            continue
        en, zh = (("eligible when the officers were drawn (unchanged since), but not in its pools", "抽取执法人员时符合条件（此后未变），但不在人员池中")
                  if cert in eligible else
                  ("in its pools, but not eligible when the officers were drawn (unchanged since)", "在人员池中，但抽取执法人员时不符合条件（此后未变）"))
        report.add("directories", "inspector", cert, f"draw {draw_id}: {en} (the officer directory was edited around the draw)",
                   f"抽取 {draw_id}：{zh}（执法人员名录在抽取前后被改动）")
    drawn = {u for (u,) in conn.execute(text("SELECT uscc FROM draw_selection WHERE draw_id = :d"), {"d": draw_id})}
    declared = {(c, u) for c, u, t in conn.execute(text("SELECT cert_no, uscc, declared_at FROM conflict"))
                if t <= at and c in pooled and u in drawn}
    recused = {(c, u) for c, u in conn.execute(text("SELECT cert_no, uscc FROM draw_conflict WHERE draw_id = :d"), {"d": draw_id})}
    for c, u in sorted(declared ^ recused):
        en, zh = (("declared before the officers were drawn, but not recused", "抽取执法人员前已申报，但未回避")
                  if (c, u) in declared else ("recused, but no such conflict was declared by then", "已回避，但当时并无此申报"))
        report.add("directories", "conflict", f"({c}, {u})", f"draw {draw_id}: {en} (conflicts edited around the draw)",
                   f"抽取 {draw_id}：{zh}（回避关系在抽取前后被改动）")
