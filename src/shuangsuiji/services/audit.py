"""Appending to and reading the audit log in the store."""

from __future__ import annotations

from typing import Any, Iterator

from sqlalchemy import Connection, text

from shuangsuiji.domain.audit import GENESIS, Break, Entry, make_entry, utc_now, verify_chain

_COLUMNS = "seq, ts, operator, command, payload, prev_hash, hash"


def append(conn: Connection, operator: str, command: str, payload: Any) -> Entry:
    """Add one entry in the caller's (write) transaction, chained to the current head."""
    last = conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    entry = make_entry(seq, utc_now(), operator, command, payload, prev_hash)
    conn.execute(
        text(
            f"INSERT INTO audit_log ({_COLUMNS}) "
            "VALUES (:seq, :ts, :operator, :command, :payload, :prev_hash, :hash)"
        ),
        entry.__dict__,
    )
    return entry


def entries(conn: Connection, since: int = 0, limit: int | None = None, command: str | None = None) -> Iterator[Entry]:
    sql = f"SELECT {_COLUMNS} FROM audit_log WHERE seq > :since"
    params: dict[str, Any] = {"since": since}
    if command:
        sql += " AND command LIKE :command ESCAPE '\\'"  # a prefix, matched literally: % and _ are text
        params["command"] = command.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    sql += " ORDER BY seq"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    for row in conn.execute(text(sql), params):
        yield Entry(*row)


def head(conn: Connection) -> Entry | None:
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1")).first()
    return Entry(*row) if row else None


def verify(conn: Connection, expect_head: tuple[int, str] | None = None) -> dict:
    """Walk the whole chain; optionally check that a previously published head is still in it."""
    count, last_hash, broken = verify_chain(entries(conn))
    result: dict[str, Any] = {"ok": broken is None, "entries": count, "head_hash": last_hash, "broken": None}
    if broken is not None:
        zh, en = broken.describe()
        result["broken"] = {"seq": broken.seq, "reason": broken.reason, "message": en, "message_zh": zh}
        return result
    if expect_head is not None:
        seq, want = expect_head
        row = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": seq}).first()
        if row is None or row[0] != want.lower():
            result["ok"] = False
            reason = "missing" if row is None else "head_mismatch"
            result["broken"] = {
                "seq": seq,
                "reason": reason,
                "message": f"entry {seq}: the published head {want} is not in this store's chain "
                "(the store was rewritten or replaced)",
                "message_zh": f"第 {seq} 条：已公布的链头 {want} 不在本存储的链中（存储被重写或替换）",
            }
    return result


__all__ = ["append", "entries", "head", "verify", "Break"]
