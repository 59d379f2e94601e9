"""The hash-chained audit log: append-only in the store, every edit detected (第五条)."""

import hashlib
import json

import pytest

from conftest import DBError, connect, new_store
from shuangsuiji.domain.audit import GENESIS, canonical_json, make_entry, verify_chain


def test_chain_is_specified_exactly_as_documented():
    entry = make_entry(1, "2026-01-01T00:00:00.000000Z", "张三", "init", {"applied": [1]}, GENESIS)
    body = '{"command":"init","operator":"张三","payload":{"applied":[1]},"prev_hash":"' + GENESIS + '","seq":1,"ts":"2026-01-01T00:00:00.000000Z"}'
    assert entry.hash == hashlib.sha256(body.encode("utf-8")).hexdigest()
    assert entry.payload == canonical_json({"applied": [1]}) == '{"applied":[1]}'


def test_verify_names_the_first_edited_entry():
    entries = []
    prev = GENESIS
    for seq in range(1, 6):
        entry = make_entry(seq, f"t{seq}", "op", "cmd", {"n": seq}, prev)
        entries.append(entry)
        prev = entry.hash
    assert verify_chain(entries)[2] is None
    forged = list(entries)
    forged[2] = entries[2].__class__(**{**entries[2].__dict__, "payload": '{"n":99}'})
    broken = verify_chain(forged)[2]
    assert (broken.seq, broken.reason) == (3, "hash")
    missing = entries[:2] + entries[3:]
    assert verify_chain(missing)[2].seq == 4


def test_update_and_delete_of_log_entries_are_refused(store, store_env):
    with connect(store_env) as conn:
        with pytest.raises(DBError, match="append-only"):
            conn.execute("UPDATE audit_log SET operator = 'someone else' WHERE seq = 2")
        with pytest.raises(DBError, match="append-only"):
            conn.execute("DELETE FROM audit_log WHERE seq = 2")


def test_editing_a_payload_directly_is_detected_and_named(store, store_env):
    assert store("audit", "verify").code == 0
    with connect(store_env) as conn:
        conn.drop_trigger("audit_log_no_update", "audit_log")  # what a determined administrator could do
        payload = json.loads(conn.execute("SELECT payload FROM audit_log WHERE seq = 3").fetchone()[0])
        payload["inserted"] = 1
        conn.execute("UPDATE audit_log SET payload = ? WHERE seq = 3", (canonical_json(payload),))
    result = store("audit", "verify")
    assert result.code == 3
    assert "entry 3" in result.err and "edited" in result.err
    as_json = store("audit", "verify", "--json").json()
    assert as_json["ok"] is False and as_json["broken"]["seq"] == 3


def test_deleted_entry_is_detected(store, store_env):
    with connect(store_env) as conn:
        conn.drop_trigger("audit_log_no_delete", "audit_log")
        conn.execute("DELETE FROM audit_log WHERE seq = 2")
    result = store("audit", "verify", "--json")
    assert result.code == 3
    assert result.json()["broken"] == {**result.json()["broken"], "seq": 3, "reason": "sequence"}


def test_head_and_a_store_rewritten_from_scratch(store, cli, tmp_path, monkeypatch):
    head = store("audit", "head").out.strip()
    seq, digest = head.split(":")
    assert int(seq) == len(store("audit", "log", "--json").json())
    assert store("audit", "verify", "--expect-head", head).code == 0
    # A new store with the same content has a different chain (times differ): the published head exposes it.
    monkeypatch.setenv("SHUANGSUIJI_DB", str(new_store(tmp_path, "rewritten")))
    assert cli("init").code == 0
    result = cli("audit", "verify", "--expect-head", head)
    assert result.code == 3
    assert "published head" in result.err


def test_every_changing_command_is_logged_with_operator_and_file_digest(store):
    entries = store("audit", "log", "--json").json()
    assert [e["command"] for e in entries] == [
        "init", "departments import", "objects import", "inspectors import", "conflicts import",
    ]
    assert all(e["operator"] == "tester" for e in entries)
    assert all(len(e["payload"]["sha256"]) == 64 for e in entries[1:])
    assert entries[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(entries, entries[1:]))
