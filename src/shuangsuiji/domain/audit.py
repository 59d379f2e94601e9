"""The hash-chained audit log (第五条: 全程留痕、责任可溯), as pure functions.

Each entry's hash is SHA-256 over the canonical JSON of the entry with the previous
entry's hash inside it, so changing, removing or reordering any entry breaks every
hash after it. ``docs/audit-log.md`` specifies this precisely enough to re-check a
chain without this program.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text kept as is: one byte string per value."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def utc_now() -> str:
    """UTC time as sortable ISO 8601 text with microseconds and a Z."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Entry:
    seq: int
    ts: str
    operator: str
    command: str
    payload: str  # canonical JSON text, exactly as stored
    prev_hash: str
    hash: str

    def to_json(self) -> dict:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "operator": self.operator,
            "command": self.command,
            "payload": json.loads(self.payload),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def entry_hash(seq: int, ts: str, operator: str, command: str, payload: Any, prev_hash: str) -> str:
    """SHA-256 hex of the canonical JSON of the entry's six fields (payload as a JSON value)."""
    body = {
        "seq": seq,
        "ts": ts,
        "operator": operator,
        "command": command,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def make_entry(seq: int, ts: str, operator: str, command: str, payload: Any, prev_hash: str) -> Entry:
    return Entry(
        seq, ts, operator, command, canonical_json(payload), prev_hash,
        entry_hash(seq, ts, operator, command, payload, prev_hash),
    )


@dataclass(frozen=True)
class Break:
    """The first entry at which the chain does not hold, and why."""

    seq: int
    reason: str  # English key: sequence, prev_hash, payload, hash

    def describe(self) -> tuple[str, str]:
        zh = {
            "sequence": "序号不连续（有条目被删除或插入）",
            "prev_hash": "前一条目哈希不符（链条被改写）",
            "payload": "内容不是规范 JSON（被直接修改）",
            "hash": "条目哈希与内容不符（内容被修改）",
        }[self.reason]
        en = {
            "sequence": "sequence number out of order (an entry was removed or inserted)",
            "prev_hash": "previous-hash link does not match (the chain was rewritten)",
            "payload": "payload is not canonical JSON (edited directly)",
            "hash": "entry hash does not match its content (the entry was edited)",
        }[self.reason]
        return (f"第 {self.seq} 条：{zh}", f"entry {self.seq}: {en}")


def verify_chain(entries: Iterable[Entry]) -> tuple[int, str, Break | None]:
    """Walk the chain in order; return (entries checked, last good hash, first break or None)."""
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    for entry in entries:
        if entry.seq != expected_seq:
            return count, prev_hash, Break(entry.seq, "sequence")
        if entry.prev_hash != prev_hash:
            return count, prev_hash, Break(entry.seq, "prev_hash")
        try:
            payload = json.loads(entry.payload)
        except ValueError:
            return count, prev_hash, Break(entry.seq, "payload")
        if canonical_json(payload) != entry.payload:
            return count, prev_hash, Break(entry.seq, "payload")
        if entry_hash(entry.seq, entry.ts, entry.operator, entry.command, payload, prev_hash) != entry.hash:
            return count, prev_hash, Break(entry.seq, "hash")
        prev_hash = entry.hash
        expected_seq += 1
        count += 1
    return count, prev_hash, None
