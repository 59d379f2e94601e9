"""Field evidence (第十八条 文字和音像记录): attached by SHA-256, logged, append-only, archived."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest

from conftest import DBError, connect
from test_results import make_joint_draw, selected

from shuangsuiji.services import evidence

PNG = b"\x89PNG\r\n\x1a\n" + b"photo of the shop front" * 10
PDF = "%PDF-1.4 scanned 实地检查表 signed by the entity".encode("utf-8")


@pytest.fixture
def draw(store, tmp_path):
    return make_joint_draw(store, tmp_path)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def count(store_env, table):
    with connect(store_env) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_files_are_stored_by_sha256_logged_and_listed(draw, store, tmp_path, store_env):
    first, second = selected(store, draw)[:2]
    photo, scan = write(tmp_path, "门头.JPG", PNG), write(tmp_path, "检查表.pdf", PDF)
    result = store("results", "attach", draw, first, photo, scan, "--note", "现场照片和签字表", "--json")
    assert result.code == 0, result.err
    attached = result.json()["attached"]
    assert [(a["name"], a["sha256"], a["size"], a["media_type"]) for a in attached] == [
        ("门头.JPG", hashlib.sha256(PNG).hexdigest(), len(PNG), "image/jpeg"),
        ("检查表.pdf", hashlib.sha256(PDF).hexdigest(), len(PDF), "application/pdf")]
    [entry] = [e for e in store("audit", "log", "--json").json() if e["command"] == "results attach"]
    assert entry["payload"]["files"] == attached and entry["payload"]["entity"] == first
    listed = store("results", "evidence", draw, "--entity", first, "--json").json()
    assert [(r["name"], r["sha256"], r["note"]) for r in listed] == [(a["name"], a["sha256"], "现场照片和签字表") for a in attached]
    # The same file again is skipped; the same bytes for another entity are stored once.
    again = store("results", "attach", draw, first, photo, "--json").json()
    assert again["attached"] == [] and [a["sha256"] for a in again["already_attached"]] == [attached[0]["sha256"]]
    assert store("results", "attach", draw, second, photo).code == 0
    assert count(store_env, "result_evidence") == 3 and count(store_env, "evidence_blob") == 2


def test_bad_files_and_entities_are_refused_and_nothing_is_written(draw, store, tmp_path, store_env, monkeypatch):
    first = selected(store, draw)[0]
    good = write(tmp_path, "a.png", PNG)
    refused = store("results", "attach", draw, first, good, write(tmp_path, "x.exe", b"MZ"), write(tmp_path, "e.jpg", b""),
                    tmp_path / "missing.mp4", "--json")
    assert refused.code == 1
    problems = {p["file"]: p["message"] for p in refused.json()["problems"]}
    assert "unsupported file type" in problems[str(tmp_path / "x.exe")]
    assert "empty" in problems[str(tmp_path / "e.jpg")] and "cannot read" in problems[str(tmp_path / "missing.mp4")]
    assert store("results", "attach", draw, "91350100M000100Y43", good).code == 1  # not in the locked list
    monkeypatch.setattr(evidence, "MAX_FILE_BYTES", len(PNG) - 1)
    too_big = store("results", "attach", draw, first, good)
    assert too_big.code == 1 and "too large" in too_big.err
    assert count(store_env, "result_evidence") == count(store_env, "evidence_blob") == 0
    assert not [e for e in store("audit", "log", "--json").json() if e["command"] == "results attach"]


def test_evidence_is_append_only(draw, store, tmp_path, store_env):
    assert store("results", "attach", draw, selected(store, draw)[0], write(tmp_path, "a.png", PNG)).code == 0
    for statement in ("UPDATE result_evidence SET name = 'x'", "DELETE FROM result_evidence",
                      "UPDATE evidence_blob SET content = content", "DELETE FROM evidence_blob"):
        with connect(store_env) as conn, pytest.raises(DBError, match="frozen"):
            conn.execute(statement)


def test_the_archive_carries_every_file_in_its_manifest(draw, store, tmp_path):
    first = selected(store, draw)[0]
    assert store("results", "attach", draw, first, write(tmp_path, "a.png", PNG), write(tmp_path, "b.pdf", PDF)).code == 0
    out = tmp_path / "a.zip"
    built = store("archive", draw, "-o", out, "--json")
    assert built.code == 0, built.err
    with zipfile.ZipFile(out) as zf:
        manifest = {f["path"]: f for f in json.loads(zf.read("MANIFEST.json"))["files"]}
        for data, suffix in ((PNG, ".png"), (PDF, ".pdf")):
            path = f"evidence/{first}/{hashlib.sha256(data).hexdigest()}{suffix}"
            assert zf.read(path) == data and manifest[path]["sha256"] == hashlib.sha256(data).hexdigest()
        index = zf.read("evidence/evidence.csv").decode("utf-8-sig")
        assert "a.png" in index and "b.pdf" in index and "evidence/evidence.csv" in manifest
    assert store("archive", "verify", out).code == 0
