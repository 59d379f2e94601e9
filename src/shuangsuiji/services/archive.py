"""Archive 立卷归档 (第十八条): one zip per locked draw, with a MANIFEST of hashes, verifiable offline.

第十八条 makes the records of a joint check administrative-enforcement records, to be filed
(立卷、归档) and kept. ``build`` gathers, in the caller's transaction, everything the store
knows about one locked draw — the frozen task, the draw bundle (as ``draws export`` writes
it), each executing department's dispatch list (as ``draws dispatch`` writes it), the results
with their history and follow-ups, the publication files regenerated as ``publish`` writes
them (with the recorded publications and their SHA-256), the task report, the notice and
checklist forms, and the audit-log entries of the task — and a ``MANIFEST.json`` naming each
file's size and SHA-256 and the audit head at that moment. ``zip_bytes`` makes them a deterministic
zip and ``create`` records and writes it; services/archive_verify.py re-checks one with no store
(docs/archive.md).

Determinism: the zip's entries are sorted (``MANIFEST.json`` and ``README.txt`` first) and
carry one fixed time, the draw's lock time; the XLSX and DOCX files inside, which openpyxl and
python-docx stamp with the time they were written, are rewritten with that same time. Two
archives of an unchanged store therefore hold identical files. (A second archive of the same
draw differs in ``MANIFEST.json``, whose head has moved by the first archive's own audit entry,
and in the log excerpt, which now holds that entry.)
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from sqlalchemy import Connection, text

from shuangsuiji.domain import bundle as bundles
from shuangsuiji.domain.audit import GENESIS, Entry, canonical_json
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.files import claim, durable, iso_time, normalise_ooxml, replacing, zip_entry

FORMAT = "shuangsuiji-archive"
FORMAT_VERSION = 1
MANIFEST = "MANIFEST.json"
README = "README.txt"
BUNDLE = "draw/bundle.json"
TASK = "task.json"
AUDIT = "audit/entries.jsonl"
PUBLICATIONS = "publication/publications.json"
ENTRY_KEYS = {"seq", "ts", "operator", "command", "payload", "prev_hash", "hash"}
MANIFEST_KEYS = {"format", "format_version", "tool", "draw", "task", "fixed_time", "audit_head", "audit_head_note", "files"}
HEAD_NOTE = ("the last audit-log entry when this archive was built; the entry that records the archive itself "
             "(command \"archive\", with the SHA-256 of this manifest and of the zip) is the next one, seq + 1, "
             "and is not in the archive")

Column = tuple[str, str, str]  # (key, Chinese header, English header), as cli/output.py

RESULT_COLUMNS: tuple[Column, ...] = (
    ("uscc", "统一社会信用代码", "code"), ("name", "企业名称", "name"), ("department", "部门", "department"),
    ("item", "检查事项编号", "item"), ("item_name", "检查事项", "check item"), ("categories", "检查结果", "result"),
    ("problem", "发现问题", "problem found"), ("methods", "检查方式", "method"), ("inspected_on", "检查日期", "date"),
    ("signature", "签字情况", "signature"), ("signature_reason", "拒签原因", "reason"), ("witness", "见证人", "witness"),
    ("followup", "后续处置", "follow-up"), ("publish", "是否公示", "publish"),
    ("no_publish_reason", "不公示理由", "not published because"), ("note", "备注", "note"),
    ("split_reason", "分次检查理由", "split visit reason"), ("entered_at", "录入时间", "entered at"), ("entered_by", "录入人", "entered by"),
    ("updated_at", "更新时间", "updated at"), ("updated_by", "更新人", "updated by"), ("audit_seq", "日志序号", "log seq"),
)
HISTORY_COLUMNS: tuple[Column, ...] = (
    ("changed_at", "时间", "when"), ("uscc", "统一社会信用代码", "code"), ("item", "检查事项编号", "item"),
    ("field", "字段", "field"), ("old_value", "原值", "from"), ("new_value", "新值", "to"),
    ("operator", "操作人", "who"), ("audit_seq", "日志序号", "log seq"),
)
EVIDENCE_COLUMNS: tuple[Column, ...] = (
    ("uscc", "统一社会信用代码", "code"), ("name", "文件名", "file name"), ("path", "归档路径", "path in the archive"),
    ("media_type", "类型", "media type"), ("size", "字节", "bytes"), ("sha256", "SHA-256", "SHA-256"), ("note", "说明", "note"),
    ("attached_at", "附加时间", "attached at"), ("operator", "操作人", "operator"), ("audit_seq", "日志序号", "log seq"),
)
FOLLOWUP_COLUMNS: tuple[Column, ...] = (
    ("id", "编号", "id"), ("uscc", "统一社会信用代码", "code"), ("name", "企业名称", "name"), ("item", "检查事项编号", "item"),
    ("department", "部门", "department"), ("measure", "后续处置", "measure"), ("handed_to", "移交部门", "handed to"),
    ("categories", "检查结果", "result"), ("status_label", "状态", "status"), ("closed_on", "办结日期", "closed on"),
    ("note", "备注", "note"), ("opened_at", "开启时间", "opened at"), ("updated_at", "更新时间", "updated at"),
    ("operator", "操作人", "operator"), ("audit_seq", "日志序号", "log seq"),
)


# ---------------------------------------------------------------- deterministic zips


def zip_time(iso: str) -> tuple[int, int, int, int, int, int]:
    """A zip entry's date_time from ISO UTC text (zip times have no zone; these are UTC).

    Seconds are rounded down to even: a zip stores them in 2-second steps, and ``fixed_time`` in
    the manifest should be exactly the time the entries carry.
    """
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})", iso or "")
    if not m or int(m.group(1)) < 1980:
        return (1980, 1, 1, 0, 0, 0)
    year, month, day, hour, minute, second = (int(g) for g in m.groups())
    return (year, month, day, hour, minute, second - second % 2)


def zip_bytes(files: dict[str, bytes], when: tuple) -> bytes:
    """The archive: MANIFEST.json and README.txt first, then every other file by path, one fixed time."""
    order = [n for n in (MANIFEST, README) if n in files] + sorted(n for n in files if n not in (MANIFEST, README))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in order:
            zf.writestr(zip_entry(name, when), files[name])
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- gathering (read from the store)


@dataclass
class Built:
    """An archive ready to write: every file's bytes (MANIFEST.json included) and what the command reports."""

    draw: str
    task: str
    files: dict[str, bytes]
    manifest: dict
    when: tuple
    publications: list[dict] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (zh, en)

    @property
    def manifest_sha256(self) -> str:
        return sha256(self.files[MANIFEST])

    @property
    def file_count(self) -> int:
        """Files in the zip, MANIFEST.json included."""
        return len(self.files)


def _json_file(value: Any) -> bytes:
    """The archive's JSON files are written byte for byte as a bundle file is."""
    return bundles.bundle_bytes(value)


class _Writer:
    """Runs the project's own file writers (they take a path) in a scratch directory and keeps the bytes."""

    def __init__(self, scratch: Path, when: tuple):
        self.scratch = scratch
        self.when = when
        self.n = 0

    def capture(self, suffix: str, write: Callable[[Path], None]) -> bytes:
        self.n += 1
        path = self.scratch / f"f{self.n}{suffix}"
        write(path)
        data = path.read_bytes()
        path.unlink()
        return normalise_ooxml(data, self.when) if suffix in (".xlsx", ".docx") else data

    def table(self, suffix: str, rows: Sequence[dict], columns: Sequence[Column], title: str) -> bytes:
        from shuangsuiji import table_writer

        return self.capture(suffix, lambda p: table_writer.write_to(p, rows, columns, title=title))


def _yes_no(value: Any) -> Any:
    return ("是" if value else "否") if isinstance(value, bool) else value


def _flat(row: dict) -> dict:
    return {k: "；".join(v) if isinstance(v, list) else _yes_no(v) for k, v in row.items()}


def task_entries(conn: Connection, task_id: str, draw_ids: Sequence[str]) -> list[Entry]:
    """The audit entries whose payload names the task, or one of its draws (voided attempts too)."""
    names = [task_id, *draw_ids]
    # Canonical JSON spells a top-level "task"/"draw" as "key":"value": a LIKE finds the candidates
    # in SQL (portable), the parsed payload decides.
    clauses = " OR ".join(f"payload LIKE :p{i}" for i in range(len(names)))
    params = {f"p{i}": f"%{json.dumps(n, ensure_ascii=False)}%" for i, n in enumerate(names)}
    rows = conn.execute(text("SELECT seq, ts, operator, command, payload, prev_hash, hash FROM audit_log "
                             f"WHERE {clauses} ORDER BY seq"), params)
    out = []
    for row in rows:
        entry = Entry(*row)
        payload = json.loads(entry.payload)
        if isinstance(payload, dict) and (payload.get("task") == task_id or payload.get("draw") in draw_ids):
            out.append(entry)
    return out


def entry_line(entry: Entry) -> str:
    """One audit entry as a canonical JSON line: exactly the fields its hash covers, and the hash."""
    return canonical_json(entry.to_json())


def build(conn: Connection, draw_id: str) -> Built:
    """Everything of one locked draw, as the files of its archive; nothing is written."""
    from shuangsuiji import __version__
    from shuangsuiji.services import audit, draws, evidence, followups, forms, publication, reports, results, tasks
    from shuangsuiji.services.bundle_export import export_bundle
    from shuangsuiji.services.dispatch import DISPATCH_COLUMNS, dispatch_rows

    # The head first: every change appends an entry, so if the head is still this one when the
    # archive is recorded, everything read below is the store as of this head (even where a read
    # transaction does not give one snapshot, as PostgreSQL's READ COMMITTED).
    head = audit.head(conn)
    draw = draws._draw_row(conn, draw_id)
    if draw["state"] != "locked":
        raise UserError(
            f"{draw_id} 不是锁定状态（{draw['state']}），只有锁定的抽取可以归档；作废的抽取记录在其任务的审计日志中，"
            "随该任务锁定的抽取一并归档",
            f"{draw_id} is not locked ({draw['state']}); only a locked draw is archived. A void draw's records are in its "
            "task's audit-log entries, which go into the archive of the task's locked draw",
        )
    task = tasks.get_task(conn, draw["task_id"])
    definition = task["definition"]
    when = zip_time(draw["locked_at"])
    files: dict[str, bytes] = {}
    built = Built(draw_id, task["id"], files, {}, when)

    # The frozen task (第八条) and the draw bundle, exactly as `draws export` writes it.
    files[TASK] = _json_file({k: task[k] for k in ("id", "year", "name", "plan_id", "plan_task", "definition", "sha256",
                                                   "created_at", "operator", "audit_seq") if k in task})
    files[BUNDLE] = bundles.bundle_bytes(export_bundle(conn, draw_id))

    with tempfile.TemporaryDirectory(prefix="shuangsuiji-archive-") as scratch:
        writer = _Writer(Path(scratch), when)
        # 第九条: the list each executing department received.
        for dept in [definition["initiating"], *definition["cooperating"]]:
            rows = dispatch_rows(conn, draw_id, dept)
            for suffix in (".csv", ".xlsx"):
                files[f"dispatch/{dept}{suffix}"] = writer.table(suffix, rows, DISPATCH_COLUMNS, f"{draw_id} 抽查名单（{dept}）")

        # 第十二条 to 第十四条, 第十六条: results, every change to them, follow-ups.
        rows = [_flat(r) for r in results.list_results(conn, draw_id)]
        for suffix in (".csv", ".xlsx"):
            files[f"results/results{suffix}"] = writer.table(suffix, rows, RESULT_COLUMNS, f"{draw_id} 检查结果")
        files["results/history.csv"] = writer.table(".csv", results.history(conn, draw_id), HISTORY_COLUMNS, "")
        files["results/followups.csv"] = writer.table(
            ".csv", [_flat(r) for r in followups.list_followups(conn, draw_id=draw_id)], FOLLOWUP_COLUMNS, "")

        # 第十八条 文字和音像记录: every attached file, by entity and SHA-256, and their index.
        attached = evidence.list_evidence(conn, draw_id)
        for r in attached:
            r["path"] = f"evidence/{r['uscc']}/{r['sha256']}{Path(r['name']).suffix.lower()}"
            files[r["path"]] = evidence.content(conn, r["sha256"])
        if attached:
            files["evidence/evidence.csv"] = writer.table(".csv", attached, EVIDENCE_COLUMNS, "")

        # 第十五条: each recorded publication's department and format, regenerated as `publish` writes it.
        recorded = publication.list_publications(conn, draw_id)
        regenerated: dict[tuple[str, str], dict] = {}
        for dept, fmt in sorted({(r["department"], r["format"]) for r in recorded}):
            prepared = publication.prepare(conn, draw_id, dept)
            data = writer.capture(f".{fmt}", lambda p, f=fmt, d=prepared: publication.write_file(p, f, d))
            regenerated[(dept, fmt)] = {"path": f"publication/{dept}.{fmt}", "sha256": sha256(data), "rows": len(prepared["rows"])}
            files[f"publication/{dept}.{fmt}"] = data
        records = []
        for r in recorded:
            again = regenerated[(r["department"], r["format"])]
            same = again["sha256"] == r["sha256"]
            # An XLSX holds the time it was saved: its bytes are never reproduced, only its row count is compared.
            changed = (not same and r["format"] != "xlsx") or again["rows"] != r["row_count"]
            note = None
            if changed:
                note = ("the results changed after this publication: the regenerated file (from the current results) "
                        "differs from the recorded one")
                built.warnings.append((
                    f"{r['department']} 于 {r['published_at']} 公示的 {r['format']} 文件与按当前结果重新生成的不同（公示后结果有变动）",
                    f"the {r['format']} file {r['department']} published at {r['published_at']} differs from the one "
                    "regenerated from the current results (the results changed after publication)",
                ))
            elif not same:
                note = ("XLSX files carry the time they were saved, so a regenerated XLSX never has the recorded bytes; "
                        "the row counts agree")
            records.append({
                "publication": r["id"], "department": r["department"], "format": r["format"], "file": r["file"],
                "published_at": r["published_at"], "operator": r["operator"], "audit_seq": r["audit_seq"],
                "sha256": r["sha256"], "rows": r["row_count"], "regenerated": again["path"],
                "regenerated_sha256": again["sha256"], "regenerated_rows": again["rows"], "sha256_matches": same,
                "differs": changed, "note": note,
            })
        built.publications = records
        files[PUBLICATIONS] = _json_file({"draw": draw_id, "publications": records})

        # 第十四条: the notice and the on-site checklist of each entity.
        data = forms.gather(conn, draw_id)
        for entity in data.entities:
            stem = f"{entity.position:03d}-{entity.uscc}.docx"
            files[f"forms/notices/{stem}"] = normalise_ooxml(forms.to_bytes(forms.render_notice(data, entity)), when)
            files[f"forms/checklists/{stem}"] = normalise_ooxml(forms.to_bytes(forms.render_checklist(data, entity)), when)

    # 第七条, 第十七条: the task report.
    report = reports.task_report(conn, draw_id)
    built.warnings += incomplete(draw_id, any(e.team is None for e in data.entities), report["summary"])
    with _chinese():  # the report's headings follow the interface language; an archive is filed in Chinese
        files["reports/task-report.json"] = reports.render(report, "json")
        files["reports/task-report.html"] = reports.render(report, "html")

    # 第五条 全程留痕: the task's audit entries, each re-checkable on its own.
    draw_ids = [r[0] for r in conn.execute(text("SELECT id FROM draw WHERE task_id = :t ORDER BY attempt"), {"t": task["id"]})]
    files[AUDIT] = "".join(entry_line(e) + "\n" for e in task_entries(conn, task["id"], draw_ids)).encode("utf-8")

    files[README] = readme(draw_id, task["id"], task["name"]).encode("utf-8")
    built.manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tool": {"name": "shuangsuiji", "version": __version__},
        "draw": draw_id,
        "task": task["id"],
        "fixed_time": iso_time(when),
        "audit_head": {"seq": head.seq, "hash": head.hash, "ts": head.ts} if head else {"seq": 0, "hash": GENESIS, "ts": None},
        "audit_head_note": HEAD_NOTE,
        "files": [{"path": p, "size": len(files[p]), "sha256": sha256(files[p])} for p in sorted(files)],
    }
    files[MANIFEST] = _json_file(built.manifest)
    return built


ATTEMPTS = 3  # builds tried while other commands keep changing the store


def create(reading: Callable, writing: Callable, draw_id: str, out: Path, *, force: bool, dry_run: bool,
           operator: str) -> tuple[Built, dict]:
    """Build the archive in a read transaction, then record and write it in a short write transaction.

    Rendering a large draw's forms takes a while, so the write lock is not held for it; the write
    transaction only checks that the audit head is still the one the manifest names (else the
    store changed meanwhile and the archive is built again), writes the zip beside the target and
    flushes it, appends the ``archive`` entry and commits; the zip is then renamed into place
    (files.replacing, the path of every output file). So the target never holds a half-written
    archive, nor one whose entry was not committed.
    """
    claim(out, force)  # refused before the long build
    for _ in range(ATTEMPTS):
        with reading() as conn:
            built = build(conn, draw_id)
        if dry_run:
            return built, {}
        blob = zip_bytes(built.files, built.when)
        try:
            with replacing(out, force) as partial, writing() as conn:
                if _head(conn) != (built.manifest["audit_head"]["seq"], built.manifest["audit_head"]["hash"]):
                    raise _Moved  # something was committed after the build: build again
                claim(out, force)  # again, under the write lock
                partial.write_bytes(blob)
                size, zip_sha = durable(partial)
                entry = record(conn, built, file=str(out), zip_sha256=zip_sha, size=size, operator=operator)
        except _Moved:
            continue
        return built, {"sha256": zip_sha, "bytes": size, "audit_seq": entry.seq}
    raise UserError(
        f"归档期间存储一直在变动（试了 {ATTEMPTS} 次），请稍后重试",
        f"The store kept changing while the archive was being built ({ATTEMPTS} tries); try again later",
        code=ExitCode.BUSY,
    )


class _Moved(Exception):
    """The audit head moved between the build and the write: nothing written, build again."""


def incomplete(draw_id: str, no_officers: bool, summary: dict) -> list[tuple[str, str]]:
    """What an archive made now would lack, each with the command to run. An early archive is
    allowed (it files the draw proof; a later one supersedes it), but never silently."""
    out = []
    if no_officers:
        out.append((f"{draw_id} 尚未抽取执法人员，归档中没有检查小组（shuangsuiji draws inspectors {draw_id}）",
                    f"{draw_id} has no officers yet: the archive holds no teams (`shuangsuiji draws inspectors {draw_id}`)"))
    if summary["results_recorded"] == 0:
        out.append((f"{draw_id} 尚未录入检查结果，归档中没有结果（shuangsuiji results template {draw_id} --dept 部门 -o 结果.xlsx，"
                    f"填写后 shuangsuiji results import {draw_id} 结果.xlsx）",
                    f"{draw_id} has no results yet: the archive holds none (`shuangsuiji results template {draw_id} --dept DEPT "
                    f"-o results.xlsx`, filled in, then `shuangsuiji results import {draw_id} results.xlsx`)"))
    elif summary["results_missing"]:
        out.append((f"{draw_id} 还缺 {summary['results_missing']} 条检查结果（shuangsuiji results status {draw_id}）",
                    f"{draw_id} still lacks {summary['results_missing']} result(s) (`shuangsuiji results status {draw_id}`)"))
    return out


def _head(conn: Connection) -> tuple[int, str]:
    from shuangsuiji.services import audit

    entry = audit.head(conn)
    return (entry.seq, entry.hash) if entry else (0, GENESIS)


def record(conn: Connection, built: Built, *, file: str, zip_sha256: str, size: int, operator: str) -> Entry:
    """The archiving in the audit log, after the head the manifest names (so that entry is head + 1)."""
    from shuangsuiji.services import audit

    return audit.append(conn, operator, "archive", {
        "draw": built.draw, "task": built.task, "file": file, "sha256": zip_sha256, "bytes": size,
        "manifest_sha256": built.manifest_sha256, "files": built.file_count,
        "audit_head": {"seq": built.manifest["audit_head"]["seq"], "hash": built.manifest["audit_head"]["hash"]},
    })


@contextmanager
def _chinese() -> Iterator[None]:
    from shuangsuiji import i18n

    lang = i18n.LANG
    i18n.set_lang("zh")
    try:
        yield
    finally:
        i18n.set_lang(lang)


def readme(draw_id: str, task_id: str, task_name: str) -> str:
    return f"""立卷归档（第十八条）：任务 {task_id}「{task_name}」的抽取 {draw_id}
Archive (第十八条) of draw {draw_id} of task {task_id}

MANIFEST.json                 每个文件的路径、大小、SHA-256，归档时审计日志的链头 / every file's path, size, SHA-256; the audit head
task.json                     冻结的任务定义 / the frozen task definition
draw/bundle.json              抽取证据包（与 draws export 相同），可用 shuangsuiji verify 离线复核 / the draw bundle
dispatch/<部门>.csv|.xlsx      下发各执行部门的名单（第九条） / each executing department's list
results/results.csv|.xlsx     检查结果（第十二条至第十四条） / the results
results/history.csv           检查结果变更历史 / every change to a result
results/followups.csv         后续处置（第十六条） / follow-ups
evidence/<代码>/<SHA-256>.<后缀> 现场记录（照片、扫描件、录音录像，第十八条），evidence.csv 为索引 / field evidence and its index
publication/                  按公示命令重新生成的公示文件，及已记录的公示与其 SHA-256（第十五条） / publication files
reports/task-report.json|html 任务报告 / the task report
forms/notices/*.docx          联合抽查通知书 / notices
forms/checklists/*.docx       实地检查表 / on-site checklists
audit/entries.jsonl           本任务的审计日志条目（规范 JSON，每行一条） / the task's audit-log entries

复核 / verify:  shuangsuiji archive verify <本文件.zip>
说明 / documentation: docs/archive.md
"""
