"""Upserting a whole directory file in one transaction, keeping the history of changes.

Shared by the object and inspector directories (第五条: 根据市场主体设立、吊销、注销等情况和
执法检查人员变动情况进行动态调整). Rows are staged in a temporary table and merged with
set-based SQL, so a million-row file costs a few passes in the database, not a million
round trips; an empty directory takes the rows directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import Connection, text

from shuangsuiji.domain.audit import utc_now
from shuangsuiji.services import audit
from shuangsuiji.store.dialect import is_distinct, is_postgresql, placeholders

@dataclass(frozen=True)
class Directory:
    table: str
    key: str
    columns: tuple[str, ...]  # the record's columns, key first, in record order
    history_table: str
    history_key: str
    tracked: tuple[str, ...]  # fields whose every change is kept in the history (who, when, from, to)


def open_permit(conn: Connection) -> None:
    """Let this transaction write entities, officers and conflicts (migration 6 refuses it otherwise)."""
    conn.exec_driver_sql("INSERT INTO import_permit (id) VALUES (1)")


def close_permit(conn: Connection) -> None:
    """Give the permit back before the transaction commits: no one else ever sees it."""
    conn.exec_driver_sql("DELETE FROM import_permit")


def _executemany(conn: Connection, sql: str, rows: Sequence[tuple]) -> None:
    """Bulk insert through the driver's own cursor, in the caller's transaction.

    SQLAlchemy's executemany inspects every parameter row; the driver takes them as they are.
    """
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def copy_rows(conn: Connection, table: str, columns: str, rows: Sequence[tuple], extra: tuple = ()) -> None:
    """PostgreSQL's bulk load (``COPY … FROM STDIN`` through psycopg), each row followed by ``extra``."""
    cursor = conn.connection.cursor()
    try:
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row + extra if extra else row)
    finally:
        cursor.close()


def merge(
    conn: Connection,
    d: Directory,
    records: Sequence[tuple],
    *,
    operator: str,
    command: str,
    payload: dict[str, Any],
    sync: bool = False,
) -> tuple[dict[str, int], audit.Entry]:
    """Upsert ``records`` keyed on ``d.key``; with ``sync``, mark absent rows as removed.

    Returns the summary {inserted, updated, unchanged, removed} and the audit entry that
    records it (written in the same transaction; history rows point at its sequence number).
    """
    load = Load(conn, d)
    load.add(records)
    return load.finish(operator=operator, command=command, payload=payload, sync=sync)


def _as_migrated(index: str, table: str) -> str | None:
    """The statement a migration made ``index`` with: PostgreSQL's own text of a partial index
    (pg_get_indexdef) reads differently, and the store's schema should stay word for word."""
    from shuangsuiji.store.migrations import MIGRATIONS

    for m in MIGRATIONS:
        for sql in (*m.statements, *m.postgresql):
            if f"INDEX {index} ON {table} " in sql:
                return sql
    return None


class Load:
    """``merge`` in steps, for a file read in batches: ``add`` each batch, then ``finish``.

    All of it runs in the caller's transaction: a batch added and then an error (a bad row
    found later, a killed process) leaves the store as it was.

    Given ``seen`` (the file's keys, as ``importing.CodeKeys`` keeps them) and ``operator``, a
    directory that already has rows is merged a batch at a time, so the staged rows never grow
    past one batch (SQLite keeps temporary tables in memory): each batch's history rows carry
    the sequence number its log entry will get in ``finish`` (the write lock is held, so no one
    else appends), and ``--sync`` finds the absent rows by looking their keys up in ``seen``.
    """

    def __init__(self, conn: Connection, d: Directory, seen=None, operator: str | None = None):
        self.conn, self.d = conn, d
        self.now = utc_now()
        self.count = 0
        self.seen, self.operator = seen, operator
        self.ops = {"I": 0, "U": 0}
        open_permit(conn)
        cols = ", ".join(d.columns)
        marks = placeholders(conn, len(d.columns))
        self.empty = conn.execute(text(f"SELECT 1 FROM {d.table} LIMIT 1")).first() is None
        self.pg = is_postgresql(conn)
        self.dropped: list[str] = []  # CREATE INDEX, then CREATE TRIGGER / ADD CONSTRAINT statements run again in ``finish``
        if self.empty:
            # Building the table's indexes once after the rows are in is faster than growing them row by
            # row (measured: 1.3 s of a million-row import for the key index on SQLite; on PostgreSQL a
            # COPY of 200,000 rows 1.24 s with them, 0.39 s + 0.21 s to build them after); keys are
            # already unique within the file, and the unique index built afterwards checks that again.
            # On PostgreSQL DROP INDEX locks readers out of the table until COMMIT: only for the first
            # load of an empty directory, when there is nothing to read yet (docs/scale.md).
            self._drop_pg_indexes() if self.pg else self._drop("index")
            if not self.pg:
                # Rows are appended in rowid order, which needs few cached pages, and an index build's
                # sort holds as much memory as the cache may: 32 MB each, not the store's 128 MB, keep the
                # peak of an 18-million-row first import flat (docs/scale.md, "Import at scale").
                self.cache = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
                conn.exec_driver_sql("PRAGMA cache_size = -32768")
        if not self.pg:
            # The INSERT refusal trigger (migration 6) goes too, for this transaction only, so new rows
            # cost no permit lookup each (measured: 100,000 new rows into a directory, 3.5 s -> 3.9 s
            # with it); SQLite could not even compile an INSERT into the table with a trigger while its
            # unique key is dropped. PostgreSQL checks the permit once per statement.
            self._drop("trigger", f"{d.table}_no_insert")
        if self.empty:
            # Constants inlined (``now`` is our own timestamp text), so rows go in as parsed.
            self.insert = f"INSERT INTO {d.table} ({cols}, in_directory, updated_at) VALUES ({marks}, 1, '{self.now}')"
        else:
            conn.exec_driver_sql("DROP TABLE IF EXISTS stage")
            conn.exec_driver_sql("DROP TABLE IF EXISTS stage_op")
            col_defs = ", ".join(f"{c} TEXT" + (" PRIMARY KEY" if c == d.key else "") for c in d.columns)
            conn.exec_driver_sql(f"CREATE TEMP TABLE stage ({col_defs})")
            self.insert = f"INSERT INTO stage ({cols}) VALUES ({marks})"
            self.seq = conn.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log").scalar_one()

    def _drop(self, kind: str, name: str | None = None) -> None:
        """Drop the table's indexes (or the named trigger), keeping their statements for ``finish``."""
        for found, sql in self.conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = ? AND type = ? AND sql IS NOT NULL AND (? IS NULL OR name = ?)",
            (self.d.table, kind, name, name),
        ).all():
            self.conn.exec_driver_sql(f"DROP {kind.upper()} {found}")
            self.dropped.append(sql)

    def _drop_pg_indexes(self) -> None:
        """PostgreSQL: drop the table's indexes (but its primary key) and the foreign keys that
        need them (entity_history's on the code), keeping the statements that make them again."""
        conn, table = self.conn, self.d.table
        keys = conn.exec_driver_sql(
            "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = %(t)s::regclass", {"t": table}
        ).all()
        indexes = conn.exec_driver_sql(
            "SELECT quote_ident(i.relname), pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %(t)s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)",
            {"t": table},
        ).all()
        for owner, name, _ in keys:
            conn.exec_driver_sql(f"ALTER TABLE {owner} DROP CONSTRAINT {name}")
        for name, sql in indexes:
            conn.exec_driver_sql(f"DROP INDEX {name}")
            self.dropped.append(_as_migrated(name, table) or sql)
        self.dropped += [f"ALTER TABLE {owner} ADD CONSTRAINT {name} {sql}" for owner, name, sql in keys]

    def add(self, records: Sequence[tuple]) -> None:
        """Write a batch of records (an empty directory takes them directly, else they are staged)."""
        if self.pg:
            cols = ", ".join(self.d.columns)
            if self.empty:
                copy_rows(self.conn, self.d.table, f"{cols}, in_directory, updated_at", records, (1, self.now))
            else:
                copy_rows(self.conn, "stage", cols, records)
        else:
            _executemany(self.conn, self.insert, records)
        self.count += len(records)
        if self.seen is not None and not self.empty:
            self._merge_staged(self.operator)
            self.conn.exec_driver_sql("TRUNCATE stage" if self.pg else "DELETE FROM stage")

    def finish(
        self, *, operator: str, command: str, payload: dict[str, Any], sync: bool = False
    ) -> tuple[dict[str, int], audit.Entry]:
        """Merge what was added, log it, and return (summary, audit entry) as ``merge`` does."""
        conn, d = self.conn, self.d
        if self.empty:
            summary = {"inserted": self.count, "updated": 0, "unchanged": 0, "removed": 0}
            entry = audit.append(conn, operator, command, {**payload, **summary})
        else:
            summary, entry = self._merge_stage(operator, command, payload, sync)
        for sql in self.dropped:
            conn.exec_driver_sql(sql)
        if self.empty and not self.pg:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(self.cache)}")
        close_permit(conn)
        return summary, entry

    def _merge_stage(self, operator: str, command: str, payload: dict[str, Any], sync: bool):
        conn, d, now = self.conn, self.d, self.now
        if self.seen is None:
            self._merge_staged(operator)  # the whole file is staged: it decides what is absent
            absent_from = "stage"
        else:
            absent_from = self._absent() if sync else None
        def absent(t: str) -> str:
            if absent_from == "stage":
                return f"{t}.in_directory = 1 AND NOT EXISTS (SELECT 1 FROM stage s WHERE s.{d.key} = {t}.{d.key})"
            return f"{t}.{d.key} IN (SELECT k FROM absent)"

        removed = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {d.table} t WHERE {absent('t')}").scalar_one() if sync else 0
        inserted, updated = self.ops["I"], self.ops["U"]
        summary = {
            "inserted": inserted,
            "updated": updated,
            "unchanged": self.count - inserted - updated,
            "removed": removed,
        }
        entry = audit.append(conn, operator, command, {**payload, **summary})
        assert entry.seq == self.seq, "the log entry is the one the history rows point at"
        params = {"now": now, "op": operator, "seq": entry.seq}
        history_cols = f"{d.history_key}, field, old_value, new_value, changed_at, operator, audit_seq"
        if sync and removed:
            # 第五条: removed from the directory, never deleted — the history and past draws keep it.
            conn.execute(
                text(
                    f"INSERT INTO {d.history_table} ({history_cols}) "
                    f"SELECT t.{d.key}, 'in_directory', '1', '0', :now, :op, :seq FROM {d.table} t WHERE {absent('t')}"
                ),
                params,
            )
            conn.execute(
                text(f"UPDATE {d.table} SET in_directory = 0, updated_at = :now WHERE {absent(d.table)}"),
                {"now": now},
            )
        if absent_from == "absent":
            conn.exec_driver_sql("DROP TABLE absent")
        conn.exec_driver_sql("DROP TABLE stage")
        return summary, entry

    def _absent(self) -> str:
        """The keys in the directory but not in the file, into the temporary table ``absent``:
        the directory's keys read in chunks and looked up in ``seen``."""
        conn, d = self.conn, self.d
        conn.exec_driver_sql("DROP TABLE IF EXISTS absent")
        conn.exec_driver_sql("CREATE TEMP TABLE absent (k TEXT PRIMARY KEY)")
        listed = conn.exec_driver_sql(  # streamed: never the whole directory's keys at once
            f"SELECT {d.key} FROM {d.table} WHERE in_directory = 1", execution_options={"stream_results": True}
        )
        for chunk in listed.partitions(50_000):
            keys = [k for (k,) in chunk]
            gone = [(k,) for k, found in zip(keys, self.seen.contains(keys)) if not found]
            if gone:
                _executemany(conn, f"INSERT INTO absent (k) VALUES ({placeholders(conn, 1)})", gone)
        return "absent"

    def _merge_staged(self, operator: str) -> None:
        """Apply what is staged: new rows inserted, changed rows updated with their history (under
        the log entry ``finish`` will write, ``self.seq``); counts added to ``self.ops``."""
        conn, d, now = self.conn, self.d, self.now
        differs = " OR ".join(is_distinct(conn, f"t.{c}", f"s.{c}") for c in d.columns[1:])
        if self.pg and not getattr(self, "analysed", False):
            conn.exec_driver_sql("ANALYZE stage")  # temporary tables are never analysed automatically
            self.analysed = True  # one batch is like the next: the first one's statistics serve
        # One pass decides what happens to each staged row: I(nsert), U(pdate); unchanged rows are left out.
        conn.exec_driver_sql("DROP TABLE IF EXISTS stage_op")
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE stage_op AS SELECT s.{d.key} AS k, "
            f"CASE WHEN t.{d.key} IS NULL THEN 'I' ELSE 'U' END AS op "
            f"FROM stage s LEFT JOIN {d.table} t ON t.{d.key} = s.{d.key} "
            f"WHERE t.{d.key} IS NULL OR t.in_directory = 0 OR {differs}"
        )
        counts = dict(conn.exec_driver_sql("SELECT op, COUNT(*) FROM stage_op GROUP BY op").all())
        for op, n in counts.items():
            self.ops[op] += n
        if not counts:
            conn.exec_driver_sql("DROP TABLE stage_op")
            return
        params = {"now": now, "op": operator, "seq": self.seq}
        cols = ", ".join(d.columns)
        history_cols = f"{d.history_key}, field, old_value, new_value, changed_at, operator, audit_seq"
        for field in d.tracked:
            conn.execute(
                text(
                    f"INSERT INTO {d.history_table} ({history_cols}) "
                    f"SELECT t.{d.key}, '{field}', t.{field}, s.{field}, :now, :op, :seq "
                    f"FROM stage_op o JOIN stage s ON s.{d.key} = o.k JOIN {d.table} t ON t.{d.key} = o.k "
                    f"WHERE o.op = 'U' AND {is_distinct(conn, f't.{field}', f's.{field}')}"
                ),
                params,
            )
        # Back in the file after a --sync removed it: that is a change of directory membership too.
        conn.execute(
            text(
                f"INSERT INTO {d.history_table} ({history_cols}) "
                f"SELECT t.{d.key}, 'in_directory', '0', '1', :now, :op, :seq "
                f"FROM stage_op o JOIN {d.table} t ON t.{d.key} = o.k WHERE o.op = 'U' AND t.in_directory = 0"
            ),
            params,
        )
        assignments = ", ".join(f"{c} = s.{c}" for c in d.columns[1:])
        conn.execute(
            text(
                f"UPDATE {d.table} SET {assignments}, in_directory = 1, updated_at = :now "
                f"FROM stage s JOIN stage_op o ON o.k = s.{d.key} WHERE o.op = 'U' AND {d.table}.{d.key} = s.{d.key}"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                f"INSERT INTO {d.table} ({cols}, in_directory, updated_at) "
                f"SELECT {', '.join('s.' + c for c in d.columns)}, 1, :now "
                f"FROM stage s JOIN stage_op o ON o.k = s.{d.key} WHERE o.op = 'I'"
            ),
            {"now": now},
        )
        conn.exec_driver_sql("DROP TABLE stage_op")
