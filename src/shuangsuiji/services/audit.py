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


def imported(conn: Connection, digest: str) -> Entry | None:
    """The last import entry (objects/inspectors/results… import, tasks import-list) that read a
    file with this SHA-256: every import records its file's digest as ``sha256`` in its payload."""
    import json

    # Canonical JSON spells it "sha256":"<hex>": LIKE finds the candidates portably, the payload decides.
    rows = conn.execute(text(f"SELECT {_COLUMNS} FROM audit_log WHERE command LIKE '%import%' AND payload LIKE :p "
                             "ORDER BY seq DESC"), {"p": f'%"sha256":"{digest}"%'})
    for row in rows:
        entry = Entry(*row)
        payload = json.loads(entry.payload)
        if isinstance(payload, dict) and payload.get("sha256") == digest:
            return entry
    return None


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


def export(conn: Connection) -> dict:
    """The whole chain as one JSON document (docs/audit-log.md), for `verify --log` and anyone
    re-checking it without this program: every entry with the fields its hash covers."""
    from shuangsuiji.domain.bundle import LOG_FORMAT

    rows = [e.to_json() for e in entries(conn)]
    last = rows[-1] if rows else None
    return {
        "format": LOG_FORMAT, "format_version": 1,
        "head": {"seq": last["seq"], "hash": last["hash"], "ts": last["ts"]} if last else {"seq": 0, "hash": GENESIS, "ts": None},
        "entries": rows,
    }


__all__ = ["append", "entries", "export", "head", "imported", "verify", "Break"]
