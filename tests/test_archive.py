"""Archive 立卷归档 (第十八条): one zip per locked draw with a MANIFEST of hashes, verifiable offline."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import shutil
import signal
import time
import zipfile
from pathlib import Path

import pytest

from conftest import run_process, sqlite_only
from test_results import audit_entries, fill, make_joint_draw, selected, template

MANIFEST = "MANIFEST.json"


# ---------------------------------------------------------------- a drawn task with results and publications


def build_draw(cli, tmp_path: Path) -> str:
    """make_joint_draw, SCJG's results all in (one withheld, one changed afterwards), RS's for all but
    the last entity; SCJG published as CSV and XLSX, RS as JSON."""
    draw = make_joint_draw(cli, tmp_path)

    def values(r, item):
        if r == 3:
            return {"是否公示": "否", "不公示理由": "涉及商业秘密"}
        if r == 4:
            return {"检查结果": "发现问题经责令已改正", "检查日期": "2026-08-20", "后续处置": "责令改正", "分次检查理由": "复查整改情况"}
        return {}

    assert cli("results", "import", draw, fill(template(cli, tmp_path), tmp_path / "scjg.xlsx", values)).code == 0
    entities = selected(cli, draw)
    for entity in entities[:-1]:
        assert cli("results", "record", draw, "--entity", entity, "--item", "LZ-17-2", "--result", "未发现问题",
                   "--date", "2026-08-03").code == 0
    # a correction: history rows
    assert cli("results", "record", draw, "--entity", entities[0], "--item", "LZ-17-2", "--result", "未发现问题",
               "--date", "2026-08-05", "--split-reason", "补充检查").code == 0
    pub = tmp_path / "published"
    pub.mkdir()
    for dept, name in (("SCJG", "SCJG.csv"), ("SCJG", "SCJG.xlsx"), ("RS", "RS.json")):
        result = cli("publish", draw, "--dept", dept, "-o", pub / name)
        assert result.code == 0, result.err
    return draw


@pytest.fixture
def draw(store, tmp_path):
    return build_draw(store, tmp_path)


def archive(cli, draw, out, *extra):
    result = cli("archive", draw, "-o", out, "--json", *extra)
    assert result.code == 0, result.err
    return result.json()


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def rewrite(path: Path, out: Path, change) -> Path:
    """A copy of the zip with ``change(files)`` applied (a dict name → bytes, edited in place); CRCs correct."""
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        files = {i.filename: zf.read(i) for i in infos}
    change(files)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out


def fix_manifest(files: dict, name: str) -> None:
    manifest = json.loads(files[MANIFEST])
    for f in manifest["files"]:
        if f["path"] == name:
            f["size"], f["sha256"] = len(files[name]), hashlib.sha256(files[name]).hexdigest()
    files[MANIFEST] = (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode()


def service_iso_time(when) -> str:
    from shuangsuiji.services.archive import iso_time

    return iso_time(when)


def verify(cli, path, *extra):
    return cli("archive", "verify", path, "--json", *extra)


def problems(result) -> list[tuple[str, str]]:
    return [(p["file"], p["field"]) for p in result.json()["problems"]]


# ---------------------------------------------------------------- archiving


def test_archive_holds_every_record_and_verifies(draw, store, tmp_path, store_env):
    out = tmp_path / "archive.zip"
    head_before = store("audit", "head", "--json").json()
    data = archive(store, draw, out)
    files = members(out)
    names = list(files)
    assert names[0] == MANIFEST and names[1] == "README.txt" and names[2:] == sorted(names[2:])
    entities = selected(store, draw)
    expected = {
        "task.json", "draw/bundle.json", "dispatch/SCJG.csv", "dispatch/SCJG.xlsx", "dispatch/RS.csv", "dispatch/RS.xlsx",
        "results/results.csv", "results/results.xlsx", "results/history.csv", "results/followups.csv",
        "publication/SCJG.csv", "publication/SCJG.xlsx", "publication/RS.json", "publication/publications.json",
        "reports/task-report.json", "reports/task-report.html", "audit/entries.jsonl", "README.txt", MANIFEST,
        *{f"forms/{kind}/{i:03d}-{u}.docx" for i, u in enumerate(entities, start=1) for kind in ("notices", "checklists")},
    }
    assert set(names) == expected

    # MANIFEST: every other file with its size and SHA-256; the head before the archive's own entry.
    manifest = json.loads(files[MANIFEST])
    assert [f["path"] for f in manifest["files"]] == sorted(expected - {MANIFEST})
    for f in manifest["files"]:
        assert f["size"] == len(files[f["path"]]) and f["sha256"] == hashlib.sha256(files[f["path"]]).hexdigest()
    assert (manifest["draw"], manifest["task"], manifest["format"]) == (draw, "2026-T1", "shuangsuiji-archive")
    assert manifest["tool"]["name"] == "shuangsuiji" and manifest["tool"]["version"]
    assert {k: manifest["audit_head"][k] for k in ("seq", "hash")} == {"seq": head_before["seq"], "hash": head_before["hash"]}

    # The audit entry: after the head, with the zip's and the manifest's SHA-256.
    entry = audit_entries(store, "archive")[-1]
    assert entry["seq"] == head_before["seq"] + 1 == data["audit_seq"]
    assert entry["payload"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() == data["sha256"]
    assert entry["payload"]["manifest_sha256"] == hashlib.sha256(files[MANIFEST]).hexdigest() == data["manifest_sha256"]
    assert entry["payload"]["audit_head"] == {"seq": head_before["seq"], "hash": head_before["hash"]}
    assert (entry["payload"]["draw"], entry["payload"]["task"], entry["payload"]["files"], data["files"]) == (
        draw, "2026-T1", len(expected), len(expected))

    # The bundle is what `draws export` writes; dispatch lists what `draws dispatch` writes.
    assert store("draws", "export", draw, "-o", tmp_path / "bundle.json").code == 0
    assert files["draw/bundle.json"] == (tmp_path / "bundle.json").read_bytes()
    for dept in ("SCJG", "RS"):
        assert store("draws", "dispatch", draw, "--dept", dept, "-o", tmp_path / f"{dept}-list.csv").code == 0
        assert files[f"dispatch/{dept}.csv"] == (tmp_path / f"{dept}-list.csv").read_bytes()

    # Publications: CSV and JSON regenerate to the recorded bytes; XLSX cannot (it carries its save time).
    pub = tmp_path / "published"
    assert files["publication/SCJG.csv"] == (pub / "SCJG.csv").read_bytes()
    assert files["publication/RS.json"] == (pub / "RS.json").read_bytes()
    records = json.loads(files["publication/publications.json"])["publications"]
    assert [(r["department"], r["format"], r["sha256_matches"]) for r in records] == [
        ("SCJG", "csv", True), ("SCJG", "xlsx", False), ("RS", "json", True)]
    assert records[0]["sha256"] == hashlib.sha256((pub / "SCJG.csv").read_bytes()).hexdigest()
    assert "saved" in records[1]["note"] and records[1]["rows"] == records[1]["regenerated_rows"]
    assert not any(r["differs"] for r in records) and data["publication_mismatches"] == 0

    # Results with their history; the task report; the task's audit entries as canonical JSON lines.
    rows = list(csv.reader(io.StringIO(files["results/results.csv"].decode("utf-8-sig"))))
    assert rows[0][:2] == ["统一社会信用代码", "企业名称"] and len(rows) - 1 == len(entities) * 3 - 1
    history = list(csv.reader(io.StringIO(files["results/history.csv"].decode("utf-8-sig"))))
    assert [r[3] for r in history[1:]] == ["inspected_on", "split_reason"] and history[1][1] == entities[0]
    assert "2026-T1" in files["reports/task-report.html"].decode("utf-8")
    report = json.loads(files["reports/task-report.json"])
    assert report["as_of"] == {"audit_seq": head_before["seq"], "audit_hash": head_before["hash"]}  # the manifest's head
    lines = files["audit/entries.jsonl"].decode("utf-8").splitlines()
    archived = [json.loads(line) for line in lines]
    log = {e["seq"]: e for e in store("audit", "log", "--json").json()}
    assert [log[e["seq"]] for e in archived] == archived
    assert {e["command"] for e in archived} >= {"tasks create", "draws run", "draws inspectors", "results import",
                                                "results record", "publish"}
    assert all(e["payload"].get("task") == "2026-T1" or e["payload"].get("draw") == draw for e in archived)
    assert not {"checklists import", "objects import"} & {e["command"] for e in archived}

    # Verified offline, and against the store.
    ok = verify(store, out)
    assert ok.code == 0, ok.out
    assert ok.json()["ok"] and ok.json()["bundle_verified"] and ok.json()["audit_entries"] == len(archived)
    human = store("archive", "verify", out)
    assert human.code == 0 and "Verified" in human.err and human.out == ""
    with_store = verify(store, out, "--db", store_env)
    assert with_store.code == 0, with_store.out
    assert with_store.json()["store"] == {"archive_entry": entry["seq"]}
    assert not list(tmp_path.glob(".*partial*"))


def test_two_archives_of_an_unchanged_store_hold_identical_files(draw, store, tmp_path, store_env):
    from conftest import ON_PG, copy_store, new_store
    from test_crash import settle

    if not ON_PG:
        settle(store_env)  # the file alone is the whole store
    copy = new_store(tmp_path, "copy")
    copy_store(store_env, copy)  # the same state, twice
    first, second, third = tmp_path / "a.zip", tmp_path / "b.zip", tmp_path / "c.zip"
    archive(store, draw, first)
    time.sleep(1.1)  # the XLSX and DOCX writers stamp the time: a second later must not matter
    made = store("--lang", "zh", "--db", copy, "archive", draw, "-o", second, "--json")  # another interface language too
    from shuangsuiji import i18n

    i18n.set_lang("en")
    assert made.code == 0, made.err
    assert second.read_bytes() == first.read_bytes()  # byte for byte, manifest and all

    # Archiving the same store again: its head has moved by the first archive's entry, so the
    # manifest, the log excerpt (which now ends with that entry, naming the task) and the task
    # report (which names the head it was computed at, as_of) differ; nothing else.
    archive(store, draw, third)
    a, c = members(first), members(third)
    assert list(a) == list(c)
    differ = [n for n in a if a[n] != c[n]]
    assert differ == [MANIFEST, "audit/entries.jsonl", "reports/task-report.html", "reports/task-report.json"]
    ma, mc = json.loads(a[MANIFEST]), json.loads(c[MANIFEST])
    assert mc["audit_head"]["seq"] == ma["audit_head"]["seq"] + 1
    assert json.loads(c["audit/entries.jsonl"].splitlines()[-1])["command"] == "archive"
    assert [f for f in ma["files"] if f["path"] not in differ] == [f for f in mc["files"] if f["path"] not in differ]
    assert {k: v for k, v in ma.items() if k not in ("audit_head", "files")} == \
        {k: v for k, v in mc.items() if k not in ("audit_head", "files")}
    # entry times are the draw's lock time, in every zip, including the XLSX/DOCX inside
    with zipfile.ZipFile(first) as zf:
        times = {i.date_time for i in zf.infolist()}
        inner = zipfile.ZipFile(io.BytesIO(zf.read("results/results.xlsx")))
        assert {i.date_time for i in inner.infolist()} == times
    assert len(times) == 1 and ma["fixed_time"] == service_iso_time(next(iter(times)))


def test_a_publication_made_before_the_results_changed_is_noted(draw, store, tmp_path):
    entity = selected(store, draw)[1]
    assert store("results", "record", draw, "--entity", entity, "--item", "LZ-17-1", "--result", "未发现问题",
                 "--date", "2026-08-21", "--method", "书面检查", "--split-reason", "补充检查").code == 0
    result = store("archive", draw, "-o", tmp_path / "a.zip", "--json")
    assert result.code == 0
    assert "SCJG" in result.err and "changed after publication" in result.err  # a warning, on stderr
    data = result.json()
    assert data["publication_mismatches"] == 1
    assert [(p["department"], p["format"], p["differs"]) for p in data["publications"]] == [
        ("SCJG", "csv", True), ("SCJG", "xlsx", False), ("RS", "json", False)]
    records = json.loads(members(tmp_path / "a.zip")["publication/publications.json"])["publications"]
    assert "changed after this publication" in records[0]["note"]
    assert verify(store, tmp_path / "a.zip").code == 0  # a note, not a defect of the archive


def test_a_change_committed_while_building_makes_it_build_again(draw, store, tmp_path, store_env):
    """The build runs without the write lock; a commit meanwhile moves the head, so it is built again."""
    from contextlib import contextmanager

    from shuangsuiji.services import archive as service
    from shuangsuiji.services import audit
    from shuangsuiji.store.engine import Store

    db = Store(str(store_env))
    reads = []

    @contextmanager
    def reading():
        with db.read() as conn:
            yield conn
        reads.append(1)
        if len(reads) == 1:  # another coordinator commits something right after the first build
            with db.write() as conn:
                audit.append(conn, "other", "results record", {"draw": draw, "task": "2026-T1", "note": "meanwhile"})

    out = tmp_path / "a.zip"
    _, recorded = service.create(reading, db.write, draw, out, force=False, dry_run=False, operator="tester")
    db.dispose()
    assert len(reads) == 2
    manifest = json.loads(members(out)[MANIFEST])
    last = json.loads(members(out)["audit/entries.jsonl"].splitlines()[-1])
    assert (last["operator"], last["seq"]) == ("other", manifest["audit_head"]["seq"])  # the second build has it
    assert recorded["audit_seq"] == manifest["audit_head"]["seq"] + 1
    assert verify(store, out, "--db", store_env).code == 0


def test_an_existing_target_is_not_overwritten_without_force(draw, store, tmp_path):
    out = tmp_path / "archive.zip"
    out.write_bytes(b"not yet")
    before = len(audit_entries(store, "archive"))
    refused = store("archive", draw, "-o", out)
    assert refused.code == 1 and "already exists" in refused.err and "--force" in refused.err
    assert out.read_bytes() == b"not yet" and len(audit_entries(store, "archive")) == before
    forced = store("archive", draw, "-o", out, "--force", "--json")
    assert forced.code == 0 and verify(store, out).code == 0
    assert forced.json()["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_dry_run_writes_nothing_and_bad_input_is_refused(draw, store, tmp_path):
    out = tmp_path / "archive.zip"
    before = store("audit", "head", "--json").json()
    dry = store("archive", draw, "-o", out, "--dry-run", "--json")
    assert dry.code == 0 and dry.json()["dry_run"] and dry.json()["file"] is None and dry.json()["files"] > 20
    assert not out.exists() and store("audit", "head", "--json").json() == before
    assert store("archive", draw, "-o", tmp_path / "a.tar").code == 2
    missing = store("archive", "2026-T1-D9", "-o", out)
    assert missing.code == 1 and "No draw 2026-T1-D9" in missing.err
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    nodir = store("archive", draw, "-o", tmp_path / "a-file" / "a.zip")  # no folder can be made there
    assert nodir.code == 1 and "Cannot create the folder" in nodir.err
    assert store("audit", "head", "--json").json() == before and not list(tmp_path.glob(".*partial*"))


def test_a_draw_that_is_not_locked_is_not_archived(store, tmp_path):
    draw = make_joint_draw(store, tmp_path)
    assert store("draws", "void", draw, "--reason", "测试作废", "--yes").code == 0  # it has officers: a request
    assert store("--operator", "second", "draws", "void", draw, "--confirm", "--yes").code == 0
    refused = store("archive", draw, "-o", tmp_path / "a.zip")
    assert refused.code == 1 and "not locked (void)" in refused.err
    assert not (tmp_path / "a.zip").exists()


def test_a_locked_draw_without_officers_or_results_is_archived(store, tmp_path):
    def no_inspectors(*args):  # make_joint_draw without its last step, `draws inspectors`
        if args[:2] == ("draws", "inspectors"):
            return type("Skipped", (), {"code": 0, "err": ""})()
        return store(*args)

    draw = make_joint_draw(no_inspectors, tmp_path)
    out = tmp_path / "early.zip"
    data = archive(store, draw, out)
    files = members(out)
    assert json.loads(files["publication/publications.json"])["publications"] == [] and data["publications"] == []
    assert files["results/results.csv"].decode("utf-8-sig").count("\n") == 1  # the header only
    assert len([n for n in files if n.startswith("forms/notices/")]) == len(selected(store, draw))
    assert verify(store, out).code == 0


def test_both_forms_and_help_through_the_real_cli(draw, store, tmp_path, store_env):
    out = tmp_path / "real.zip"
    made = run_process("--lang", "en", "archive", "--json", draw, "-o", out)  # options before DRAW work too
    assert made.code == 0, made.err
    assert json.loads(made.out)["file"] == str(out)
    checked = run_process("--lang", "en", "archive", "verify", out, env={"SHUANGSUIJI_DB": str(tmp_path / "no.db")})
    assert checked.code == 0 and "Verified" in checked.err  # offline: no store at SHUANGSUIJI_DB, none needed
    helped = run_process("--lang", "en", "archive", "--help")
    assert helped.code == 0
    assert "shuangsuiji archive DRAW -o FILE.zip" in helped.out and "shuangsuiji archive verify FILE.zip" in helped.out
    assert "--force" in helped.out and "verify" in helped.out and "create" not in helped.out
    vhelp = run_process("--lang", "en", "archive", "verify", "--help")
    assert vhelp.code == 0 and "--db" in vhelp.out and "offline" in vhelp.out
    usage = run_process("--lang", "en", "archive", draw)
    assert usage.code == 2 and "Usage: shuangsuiji archive DRAW" in usage.err and "create" not in usage.err
    assert "archive" in run_process("--lang", "en", "--help").out


# ---------------------------------------------------------------- verification finds each kind of change


@pytest.fixture
def made(draw, store, tmp_path):
    out = tmp_path / "archive.zip"
    archive(store, draw, out)
    return out


def test_a_changed_byte_in_the_results_is_named(made, store, tmp_path):
    def change(files):
        data = bytearray(files["results/results.csv"])
        data[-3] ^= 0x01
        files["results/results.csv"] = bytes(data)

    result = verify(store, rewrite(made, tmp_path / "t.zip", change))
    assert result.code == 3
    assert problems(result) == [("results/results.csv", "sha256")]
    human = store("archive", "verify", tmp_path / "t.zip")
    assert human.code == 3 and "results/results.csv" in human.err and "SHA-256 differs" in human.err


def test_a_removed_and_an_added_file_are_named(made, store, tmp_path):
    removed = verify(store, rewrite(made, tmp_path / "r.zip", lambda f: f.pop("results/history.csv")))
    assert removed.code == 3 and problems(removed) == [("results/history.csv", None)]
    assert "removed" in removed.json()["problems"][0]["message"]
    added = verify(store, rewrite(made, tmp_path / "a.zip", lambda f: f.update({"extra/note.txt": b"x"})))
    assert added.code == 3 and problems(added) == [("extra/note.txt", None)]
    assert "added" in added.json()["problems"][0]["message"]


def test_an_edited_bundle_with_a_fixed_manifest_fails_the_draw_verification(made, store, tmp_path):
    def change(files):
        bundle = json.loads(files["draw/bundle.json"])
        first = bundle["strata"][0]["selected"][0]
        bundle["strata"][0]["selected"][0], bundle["strata"][0]["selected"][1] = bundle["strata"][0]["selected"][1], first
        files["draw/bundle.json"] = (json.dumps(bundle, ensure_ascii=False, indent=1) + "\n").encode()
        fix_manifest(files, "draw/bundle.json")

    result = verify(store, rewrite(made, tmp_path / "b.zip", change))
    assert result.code == 3 and not result.json()["bundle_verified"]
    assert [f for f, _ in problems(result)] == ["draw/bundle.json"]
    assert problems(result)[0][1].startswith("strata")


def test_an_edited_audit_entry_with_a_fixed_manifest_is_named(made, store, tmp_path):
    def change(files):
        lines = files["audit/entries.jsonl"].decode().splitlines()
        entry = json.loads(lines[1])
        entry["operator"] = "someone else"
        lines[1] = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        files["audit/entries.jsonl"] = ("\n".join(lines) + "\n").encode()
        fix_manifest(files, "audit/entries.jsonl")

    result = verify(store, rewrite(made, tmp_path / "e.zip", change))
    assert result.code == 3
    assert problems(result) == [("audit/entries.jsonl", f"line 2 (seq {json.loads(members(made)['audit/entries.jsonl'].splitlines()[1])['seq']})")]
    assert "hash does not match" in result.json()["problems"][0]["message"]


def test_an_edited_manifest_head_is_caught_against_the_store(made, store, tmp_path, store_env):
    def change(files):
        manifest = json.loads(files[MANIFEST])
        manifest["audit_head"]["hash"] = "0" * 64
        files[MANIFEST] = (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode()

    edited = rewrite(made, tmp_path / "m.zip", change)
    # The head (the last `publish`) names the draw, so it is in the excerpt: caught offline.
    offline = verify(store, edited)
    head = json.loads(members(made)[MANIFEST])["audit_head"]["seq"]
    assert offline.code == 3 and problems(offline) == [("audit/entries.jsonl", f"line {head_line(made, head)} (seq {head})")]
    # Against the store: the head is not the store's entry, and no archive entry records this manifest.
    against = verify(store, edited, "--db", store_env)
    assert against.code == 3
    assert set(problems(against)) - set(problems(offline)) == {(MANIFEST, "audit_head"), (MANIFEST, "sha256")}


def head_line(path: Path, seq: int) -> int:
    lines = members(path)["audit/entries.jsonl"].splitlines()
    return next(i for i, line in enumerate(lines, start=1) if json.loads(line)["seq"] == seq)


def test_the_store_check_finds_an_archive_of_another_store(made, cli, tmp_path, monkeypatch):
    other = tmp_path / "other.db"
    monkeypatch.setenv("SHUANGSUIJI_DB", str(other))
    assert cli("init").code == 0
    result = verify(cli, made, "--db", other)
    assert result.code == 3
    assert {f for f, _ in problems(result)} == {"audit/entries.jsonl", MANIFEST}
    nostore = cli("archive", "verify", made, "--db", tmp_path / "none.db")
    assert nostore.code == 1 and "No store" in nostore.err


def test_not_a_zip_or_missing_is_an_error_not_a_finding(store, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_text("hello", encoding="utf-8")
    result = store("archive", "verify", bad)
    assert result.code == 1 and "is not a zip archive" in result.err
    missing = store("archive", "verify", tmp_path / "none.zip")
    assert missing.code == 1 and "File not found" in missing.err
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    no_manifest = verify(store, empty)
    assert no_manifest.code == 3 and problems(no_manifest) == [(MANIFEST, None)]


# ---------------------------------------------------------------- crash safety


def _dump(db: Path) -> dict:
    from test_crash import dump

    return dump(db)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs SIGKILL and /proc (Linux)")
@sqlite_only("kills the process inside SQLite's own file writes (test_crash.py's method)")
def test_killed_archive_leaves_no_half_written_zip_and_a_rerun_succeeds(draw, store, tmp_path, store_env, monkeypatch):
    """SIGKILL at random points of `archive` (test_crash.py's method): the store is as before, or has exactly
    the archive's entry; the target holds no zip, or (killed after the commit) a whole one that verifies."""
    from test_crash import check_store, measure, restore, settle, start, wait_until_open

    settle(store_env)
    template_db = tmp_path / "template.db"
    shutil.copyfile(store_env, template_db)
    before = _dump(template_db)
    work = tmp_path / "work.db"
    out = tmp_path / "killed.zip"
    args = ["archive", draw, "-o", out]
    window = measure(template_db, work, args)  # seconds from taking the write lock to the commit
    after = _dump(work)
    assert {k for k in after if after[k] != before[k]} == {"audit_log"}
    assert after["audit_log"][0] == before["audit_log"][0] + 1
    out.unlink()
    seed = int(os.environ.get("SHUANGSUIJI_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    # most kills inside the transaction, two around the commit and the rename
    delays = [rng.uniform(0.05, 0.95) * window for _ in range(4)] + [window + rng.uniform(0.0, 0.05) for _ in range(2)]
    outcomes = []
    for delay in sorted(delays, reverse=True):
        restore(template_db, work)
        proc = start(work, args)
        opened = wait_until_open(proc, work)
        time.sleep(max(0.0, opened + delay - time.monotonic()))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        state = _dump(work)
        if state == before:
            outcomes.append("before")
            assert not out.exists(), f"an archive at the target without its audit entry (seed {seed})"
        else:
            assert state == after or ({k for k in state if state[k] != before[k]} == {"audit_log"}
                                      and state["audit_log"][0] == after["audit_log"][0]), f"partial store (seed {seed})"
            outcomes.append("after" if out.exists() else "after, not renamed")
            if out.exists():  # a whole archive, recorded in the store
                assert store("archive", "verify", out, "--db", work).code == 0, f"seed {seed}"
        check_store(store, monkeypatch, work)
        out.unlink(missing_ok=True)
    assert "before" in outcomes, (outcomes, window, seed)
    restore(template_db, work)
    rerun = start(work, args)
    assert rerun.wait(timeout=120) == 0, rerun.stderr.read()
    assert store("archive", "verify", out, "--db", work).code == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".killed.zip")] == []  # the rerun removed any leftover


def test_an_archive_that_cannot_be_written_whole_keeps_the_old_file_and_records_nothing(draw, store, tmp_path, monkeypatch):
    """`archive` goes through files.replacing: --force is needed to replace, and a zip that cannot
    reach the disk leaves the earlier archive, no temporary file and no `archive` entry."""
    import shuangsuiji.files as files

    out = tmp_path / "archive.zip"
    archive(store, draw, out)
    before, head = out.read_bytes(), store("audit", "head", "--json").json()
    refused = store("archive", draw, "-o", out)
    assert refused.code == 1 and "already exists" in refused.err

    def fails(path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "_fsync", fails)
    failed = store("archive", draw, "-o", out, "--force")
    assert failed.code == 1 and f"Cannot write {out}: No space left on device" in failed.err
    assert out.read_bytes() == before and store("audit", "head", "--json").json() == head
    assert not list(tmp_path.glob(".*partial*"))
