"""Archive 立卷归档 (第十八条): one zip per locked draw, with a MANIFEST of hashes, verifiable offline.

第十八条 makes the records of a joint check administrative-enforcement records, to be filed
(立卷、归档) and kept. ``build`` gathers, in the caller's transaction, everything the store
knows about one locked draw — the frozen task, the draw bundle (as ``draws export`` writes
it), each executing department's dispatch list (as ``draws dispatch`` writes it), the results
with their history and follow-ups, the publication files regenerated as ``publish`` writes
them (with the recorded publications and their SHA-256), the task report, the notice and
checklist forms, and the audit-log entries of the task — and a ``MANIFEST.json`` naming each
file's size and SHA-256 and the audit head at that moment. ``zip_bytes`` makes them a deterministic
zip and ``create`` records and writes it; ``verify_zip`` re-checks one with no store (docs/archive.md).

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
import os
import re
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from sqlalchemy import Connection, text

from shuangsuiji.domain import bundle as bundles
from shuangsuiji.domain.audit import GENESIS, Entry, canonical_json, entry_hash
from shuangsuiji.errors import ExitCode, Problem, UserError
from shuangsuiji.files import claim, iso_time, make_folder, normalise_ooxml, zip_entry

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

        return self.capture(suffix, lambda p: table_writer.write(p, rows, columns, title=title))


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
    store changed meanwhile and the archive is built again), writes the zip beside the target,
    appends the ``archive`` entry and commits; the zip is then renamed into place. So the target
    never holds a half-written archive, nor one whose entry was not committed.
    """
    refuse_existing(out, force)
    partial = out.with_name(f".{out.name}.partial")
    for _ in range(ATTEMPTS):
        with reading() as conn:
            built = build(conn, draw_id)
        if dry_run:
            return built, {}
        blob = zip_bytes(built.files, built.when)
        make_folder(out)  # missing folders are created, as for every output
        try:
            with writing() as conn:
                if _head(conn) != (built.manifest["audit_head"]["seq"], built.manifest["audit_head"]["hash"]):
                    continue  # something was committed after the build: build again
                refuse_existing(out, force)
                partial.unlink(missing_ok=True)  # a killed run's leftover (we hold the write lock)
                _write_synced(partial, blob)
                zip_sha = sha256(blob)
                entry = record(conn, built, file=str(out), zip_sha256=zip_sha, size=len(blob), operator=operator)
            try:
                os.replace(partial, out)
            except OSError as exc:
                raise UserError(
                    f"无法把归档移到 {out}：{exc.strerror or exc}（审计日志第 {entry.seq} 条已记录此归档；请重新运行）",
                    f"Cannot move the archive to {out}: {exc.strerror or exc} (audit entry {entry.seq} records it; run again)",
                ) from None
        finally:
            partial.unlink(missing_ok=True)
        return built, {"sha256": zip_sha, "bytes": len(blob), "audit_seq": entry.seq}
    raise UserError(
        f"归档期间存储一直在变动（试了 {ATTEMPTS} 次），请稍后重试",
        f"The store kept changing while the archive was being built ({ATTEMPTS} tries); try again later",
        code=ExitCode.BUSY,
    )


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


def _write_synced(path: Path, data: bytes) -> None:
    try:
        with open(path, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # on disk before the entry naming it is committed
    except OSError as exc:
        raise UserError(f"无法写入 {path}：{exc.strerror or exc}", f"Cannot write {path}: {exc.strerror or exc}") from None


def refuse_existing(out: Path, force: bool) -> None:
    """The rule for every output file (files.claim)."""
    claim(out, force)


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


# ---------------------------------------------------------------- verification (no store needed)


def _p(zh: str, en: str, file: str | None = None, field: str | None = None, value: str | None = None) -> Problem:
    return Problem(zh, en, file=file, field=field, value=value)


@dataclass
class Report:
    file: str
    problems: list[Problem] = field(default_factory=list)
    draw: str | None = None
    task: str | None = None
    files: int = 0
    audit_entries: int = 0
    audit_head: dict | None = None
    bundle_ok: bool | None = None
    store: dict | None = None

    def add(self, *args, **kwargs) -> None:
        self.problems.append(_p(*args, **kwargs))

    def to_json(self) -> dict:
        return {
            "ok": not self.problems, "file": self.file, "draw": self.draw, "task": self.task, "files": self.files,
            "audit_entries": self.audit_entries, "audit_head": self.audit_head, "bundle_verified": self.bundle_ok,
            "store": self.store, "problems": [p.to_json() for p in self.problems],
        }


def open_zip(path: Path) -> zipfile.ZipFile:
    """The archive opened for reading, or UserError (exit 1) when it is missing or not a zip."""
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise UserError(f"找不到文件 {path}", f"File not found: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} 是目录，不是归档文件", f"{path} is a directory, not an archive") from None
    except OSError as exc:
        raise UserError(f"无法读取 {path}：{exc.strerror or exc}", f"Cannot read {path}: {exc.strerror or exc}") from None
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise UserError(f"{path} 不是 zip 归档文件（{exc}）", f"{path} is not a zip archive ({exc})") from None


# A member is refused, before a byte of it is inflated, when it declares more than these sizes
# (docs/reliability.md, "Limits"): the JSON read whole (manifest, bundle, task, audit excerpt),
# and any member hashed, which the tool never writes near this large. A member that inflates past
# its declared size fails its CRC check. Encrypted members and corrupt deflate streams are damage.
MAX_JSON_MEMBER_MB = 64
MAX_MEMBER_MB = 2048
_DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError, zlib.error)


def _too_large(zf: zipfile.ZipFile, name: str | zipfile.ZipInfo, variable: str, default_mb: int, report: Report) -> bool:
    from shuangsuiji.table_reader import limit

    info = name if isinstance(name, zipfile.ZipInfo) else zf.getinfo(name)
    cap = limit(variable, default_mb)
    if info.file_size <= cap << 20:
        return False
    report.add(f"解压后 {info.file_size >> 20} MB，超过上限 {cap} MB（{variable}）：未读取，疑为压缩炸弹",
               f"{info.file_size >> 20} MB uncompressed, over the limit of {cap} MB ({variable}): not read (a zip bomb?)",
               file=info.filename)
    return True


def _read(zf: zipfile.ZipFile, name: str, report: Report) -> bytes | None:
    """A JSON member whole, if it declares no more than SHUANGSUIJI_MAX_ARCHIVE_JSON_MB."""
    try:
        if _too_large(zf, name, "SHUANGSUIJI_MAX_ARCHIVE_JSON_MB", MAX_JSON_MEMBER_MB, report):
            return None
        return zf.read(name)
    except _DAMAGED as exc:
        report.add(f"无法读取（文件已损坏：{exc}）", f"cannot be read (damaged: {exc})", file=name)
        return None


def _digest(zf: zipfile.ZipFile, info: zipfile.ZipInfo, report: Report) -> tuple[int, str] | None:
    """Size and SHA-256 of a member, hashed a megabyte at a time."""
    if _too_large(zf, info, "SHUANGSUIJI_MAX_ARCHIVE_MEMBER_MB", MAX_MEMBER_MB, report):
        return None
    h, n = hashlib.sha256(), 0
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
                n += len(chunk)
    except _DAMAGED as exc:
        report.add(f"无法读取（文件已损坏：{exc}）", f"cannot be read (damaged: {exc})", file=info.filename)
        return None
    return n, h.hexdigest()


def _manifest(data: bytes, report: Report) -> dict | None:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        report.add(f"不是有效的 JSON（{exc}）", f"not valid JSON ({exc})", file=MANIFEST)
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        report.add(f"不是 {FORMAT} 清单", f"not a {FORMAT} manifest", file=MANIFEST, field="format")
        return None
    if manifest.get("format_version") != FORMAT_VERSION:
        report.add(f"格式版本 {manifest.get('format_version')!r} 不受支持（本工具：{FORMAT_VERSION}）",
                   f"format_version {manifest.get('format_version')!r} is not supported (this tool: {FORMAT_VERSION})",
                   file=MANIFEST, field="format_version")
        return None
    missing = sorted(MANIFEST_KEYS - set(manifest))
    if missing:
        report.add(f"缺少字段 {', '.join(missing)}", f"missing field(s) {', '.join(missing)}", file=MANIFEST)
        return None
    files = manifest["files"]
    ok = isinstance(files, list) and all(
        isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("size"), int)
        and isinstance(f.get("sha256"), str) and re.fullmatch(r"[0-9a-f]{64}", f["sha256"]) for f in files)
    head = manifest["audit_head"]
    if not ok:
        report.add("files 须为 {path, size, sha256} 的列表", "files must be a list of {path, size, sha256}", file=MANIFEST, field="files")
        return None
    if not (isinstance(head, dict) and isinstance(head.get("seq"), int) and isinstance(head.get("hash"), str)):
        report.add("audit_head 须含 seq 和 hash", "audit_head must have seq and hash", file=MANIFEST, field="audit_head")
        return None
    return manifest


def verify_zip(path: Path, store_conn: Connection | None = None) -> Report:
    """Every check of docs/archive.md on the zip at ``path``; with ``store_conn``, also against that store."""
    report = Report(str(path))
    with open_zip(path) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        for name in sorted({n for n in names if names.count(n) > 1}):
            report.add("在归档中出现不止一次", "appears more than once in the archive", file=name)
        if MANIFEST not in names:
            report.add("归档中没有清单文件", "the archive has no manifest", file=MANIFEST)
            return report
        data = _read(zf, MANIFEST, report)
        manifest = _manifest(data, report) if data is not None else None
        if manifest is None:
            return report
        report.draw, report.task, report.audit_head = manifest["draw"], manifest["task"], manifest["audit_head"]
        listed = {f["path"]: f for f in manifest["files"]}
        if len(listed) != len(manifest["files"]):
            report.add("同一路径在清单中出现不止一次", "a path is listed more than once", file=MANIFEST, field="files")
        present = {i.filename: i for i in infos}
        for name in sorted(set(present) - set(listed) - {MANIFEST}):
            report.add("在归档中，但不在清单中（被添加）", "in the archive but not in the manifest (added)", file=name)
        for name in sorted(set(listed) - set(present)):
            report.add("在清单中，但不在归档中（被删除）", "in the manifest but not in the archive (removed)", file=name)
        intact: set[str] = set()
        for name in sorted(set(listed) & set(present)):
            got = _digest(zf, present[name], report)
            if got is None:
                continue
            size, digest = got
            want = listed[name]
            if size != want["size"]:
                report.add(f"大小 {size} 字节，清单记录 {want['size']} 字节", f"size {size} bytes; the manifest says {want['size']}",
                           file=name, field="size")
            if digest != want["sha256"]:
                report.add("SHA-256 与清单不符（内容被改动）", "SHA-256 differs from the manifest (the content was changed)",
                           file=name, field="sha256", value=digest)
            if size == want["size"] and digest == want["sha256"]:
                intact.add(name)
        report.files = len(intact)

        bundle = _check_bundle(zf, manifest, report) if BUNDLE in present else None
        if BUNDLE not in present and BUNDLE not in listed:
            report.add("归档中没有抽取证据包", "the archive has no draw bundle", file=BUNDLE)
        if TASK in present:
            _check_task(zf, bundle, report)
        entries = _check_audit(zf, manifest, bundle, report) if AUDIT in present else []
        report.audit_entries = len(entries)
        if report.bundle_ok and entries:
            _cross_check(bundle, entries, report)
        if store_conn is not None:
            data = _read(zf, MANIFEST, report) or b""
            _check_store(store_conn, manifest, sha256(data), entries, report)
    return report


def _load_json(zf: zipfile.ZipFile, name: str, report: Report) -> Any:
    data = _read(zf, name, report)
    if data is None:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        report.add(f"不是有效的 JSON（{exc}）", f"not valid JSON ({exc})", file=name)
        return None


def _check_bundle(zf: zipfile.ZipFile, manifest: dict, report: Report) -> dict | None:
    """The draw recomputed from the bundle by the same code as `shuangsuiji verify`."""
    from shuangsuiji.domain import bundle as bundles

    raw = _read(zf, BUNDLE, report)
    if raw is None:
        report.bundle_ok = False
        return None
    try:
        data = bundles.parse(raw.decode("utf-8"))
    except bundles.Mismatch as exc:
        report.bundle_ok = False
        report.add(f"嵌套超过 {bundles.MAX_DEPTH} 层，未读取", exc.message, file=BUNDLE, field=exc.field)
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        report.bundle_ok = False
        report.add(f"不是有效的 JSON（{exc}）", f"not valid JSON ({exc})", file=BUNDLE)
        return None
    try:
        bundles.verify(data)
        report.bundle_ok = True
    except bundles.Mismatch as exc:
        report.bundle_ok = False
        report.add(f"复核不通过：{exc.message}", f"verification failed: {exc.message}", file=BUNDLE, field=exc.field)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # malformed deep inside, as `verify` reports it
        report.bundle_ok = False
        report.add(f"证据包格式错误：{exc!r}", f"malformed bundle: {exc!r}", file=BUNDLE, field="bundle")
    if not isinstance(data, dict):
        return None
    draw = data.get("draw") if isinstance(data.get("draw"), dict) else {}
    task = data.get("task") if isinstance(data.get("task"), dict) else {}
    if draw.get("id") != manifest["draw"]:
        report.add(f"证据包是抽取 {draw.get('id')} 的，清单写的是 {manifest['draw']}",
                   f"the bundle is of draw {draw.get('id')}; the manifest names {manifest['draw']}", file=BUNDLE, field="draw.id")
    if task.get("id") != manifest["task"]:
        report.add(f"证据包是任务 {task.get('id')} 的，清单写的是 {manifest['task']}",
                   f"the bundle is of task {task.get('id')}; the manifest names {manifest['task']}", file=BUNDLE, field="task.id")
    return data


def _cross_check(bundle: dict, entries: list[dict], report: Report) -> None:
    """What the bundle only asserts (seed and its label, commitment, locked_at, teams, void,
    earlier attempts) against the archive's own audit entries, as `verify --log` does against a
    whole log: a bundle forged and re-sealed with a recomputed MANIFEST no longer passes unless
    the entries are forged too — and those chain to the head, which `--expect-head` checks."""
    from shuangsuiji.domain import bundle as bundles

    try:
        bundles.cross_check(bundle, entries)
    except bundles.Mismatch as exc:
        report.bundle_ok = False
        report.add(f"与 {AUDIT} 不符：{exc.message}", f"disagrees with {AUDIT}: {exc.message}", file=BUNDLE, field=exc.field)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # an entry's payload malformed deep inside
        report.bundle_ok = False
        report.add(f"无法与 {AUDIT} 核对：{exc!r}", f"cannot be cross-checked with {AUDIT}: {exc!r}", file=BUNDLE, field="audit")


def _check_task(zf: zipfile.ZipFile, bundle: dict | None, report: Report) -> None:
    """task.json is the frozen task: its definition hashes to its sha256, which is the bundle's."""
    task = _load_json(zf, TASK, report)
    if not isinstance(task, dict) or not isinstance(task.get("definition"), dict):
        if task is not None:
            report.add("缺少任务定义", "no task definition", file=TASK, field="definition")
        return
    if sha256(canonical_json(task["definition"]).encode("utf-8")) != task.get("sha256"):
        report.add("任务定义与其 SHA-256 不符", "the definition does not hash to its sha256", file=TASK, field="sha256")
    if task.get("id") != report.task:
        report.add(f"任务编号 {task.get('id')} 与清单的 {report.task} 不同", f"task id {task.get('id')} is not the manifest's {report.task}",
                   file=TASK, field="id")
    bundle_task = bundle.get("task") if isinstance(bundle, dict) else None
    if isinstance(bundle_task, dict) and bundle_task.get("definition_sha256") != task.get("sha256"):
        report.add("任务定义的 SHA-256 与证据包中的不同", "the definition's sha256 differs from the bundle's", file=TASK, field="sha256")


def _check_audit(zf: zipfile.ZipFile, manifest: dict, bundle: dict | None, report: Report) -> list[dict]:
    """Each entry's hash recomputes (domain/audit.py); consecutive entries chain; none is past the head."""
    data = _read(zf, AUDIT, report)
    if data is None:
        return []
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        report.add(f"不是 UTF-8 文本（{exc}）", f"not UTF-8 text ({exc})", file=AUDIT)
        return []
    head = manifest["audit_head"]
    entries: list[dict] = []
    prev: dict | None = None
    for number, line in enumerate(lines, start=1):
        where = {"file": AUDIT, "field": f"line {number}"}
        try:
            entry = json.loads(line)
        except ValueError as exc:
            report.add(f"不是有效的 JSON（{exc}）", f"not valid JSON ({exc})", **where)
            continue
        if not isinstance(entry, dict) or set(entry) != ENTRY_KEYS:
            report.add("须恰好含 seq、ts、operator、command、payload、prev_hash、hash", "must have exactly seq, ts, operator, "
                       "command, payload, prev_hash, hash", **where)
            continue
        if type(entry["seq"]) is not int:
            report.add("seq 须为整数", "seq must be an integer", **where)
            continue
        where["field"] = f"line {number} (seq {entry['seq']})"
        try:
            if canonical_json(entry) != line:
                report.add("不是规范 JSON（被直接修改）", "not canonical JSON (edited directly)", **where)
            recomputed = entry_hash(entry["seq"], entry["ts"], entry["operator"], entry["command"], entry["payload"], entry["prev_hash"])
        except (TypeError, ValueError) as exc:  # NaN and the like: not canonical JSON
            report.add(f"无法计算哈希（{exc}）", f"cannot hash it ({exc})", **where)
            continue
        if recomputed != entry["hash"]:
            report.add("条目哈希与内容不符（内容被修改）", "the entry's hash does not match its content (the entry was edited)", **where)
        if prev is not None:
            if entry["seq"] <= prev["seq"]:
                report.add("序号未按升序排列", "sequence numbers are not increasing", **where)
            elif entry["seq"] == prev["seq"] + 1 and entry["prev_hash"] != prev["hash"]:
                report.add(f"与第 {prev['seq']} 条不相链接（prev_hash 不符）",
                           f"does not chain to entry {prev['seq']} (prev_hash differs)", **where)
        if entry["seq"] > head["seq"]:
            report.add(f"在清单的链头（第 {head['seq']} 条）之后", f"after the manifest's audit head (seq {head['seq']})", **where)
        if entry["seq"] == head["seq"] and entry["hash"] != head["hash"]:
            report.add("与清单记录的链头哈希不同", "differs from the manifest's audit head hash", **where)
        entries.append(entry)
        prev = entry
    # The bundle names the audit entries of its draw: they are these.
    by_seq = {e["seq"]: e for e in entries}
    if isinstance(bundle, dict) and isinstance(bundle.get("audit"), list):
        for ref in bundle["audit"]:
            if not isinstance(ref, dict):
                continue
            mine = by_seq.get(ref.get("seq"))
            if mine is None:
                report.add(f"证据包引用的第 {ref.get('seq')} 条审计日志不在 {AUDIT} 中",
                           f"audit entry {ref.get('seq')} named by the bundle is not in {AUDIT}", file=BUNDLE, field="audit")
            elif mine["hash"] != ref.get("hash"):
                report.add(f"证据包中第 {ref.get('seq')} 条审计日志的哈希与 {AUDIT} 不同",
                           f"the bundle's hash of audit entry {ref.get('seq')} differs from {AUDIT}", file=BUNDLE, field="audit")
    return entries


def _check_store(conn: Connection, manifest: dict, manifest_sha256: str, entries: list[dict], report: Report) -> None:
    """With a store: the archived entries and head are still in its log, and its log records this manifest."""
    from shuangsuiji.services import audit

    stored = {e.seq: e for e in _entries_at(conn, [e["seq"] for e in entries])}
    for entry in entries:
        mine = stored.get(entry["seq"])
        if mine is None:
            report.add("存储的审计日志中没有此条目", "not in the store's audit log", file=AUDIT, field=f"seq {entry['seq']}")
        elif mine.to_json() != entry:
            report.add("与存储的审计日志条目不同", "differs from the store's audit-log entry", file=AUDIT, field=f"seq {entry['seq']}")
    head = manifest["audit_head"]
    if head["seq"]:
        row = next(iter(_entries_at(conn, [head["seq"]])), None)
        if row is None or row.hash != head["hash"]:
            report.add(f"存储的审计日志第 {head['seq']} 条不是清单记录的链头（存储被改写或不是同一存储）",
                       f"the store's audit entry {head['seq']} is not the manifest's head (the store was rewritten, or is another one)",
                       file=MANIFEST, field="audit_head")
    recorded = None
    for e in audit.entries(conn, since=head["seq"], command="archive"):
        payload = json.loads(e.payload)
        if e.command == "archive" and payload.get("manifest_sha256") == manifest_sha256:
            recorded = e
            break
    report.store = {"archive_entry": recorded.seq if recorded else None}
    if recorded is None:
        report.add("存储的审计日志中没有记录此清单的归档条目", "no archive entry in the store's audit log records this manifest",
                   file=MANIFEST, field="sha256", value=manifest_sha256)
    elif recorded.seq != head["seq"] + 1:
        report.add(f"记录此归档的是第 {recorded.seq} 条，不是链头之后的第 {head['seq'] + 1} 条",
                   f"the archive is recorded by entry {recorded.seq}, not by the one after the head ({head['seq'] + 1})",
                   file=MANIFEST, field="audit_head")


def _entries_at(conn: Connection, seqs: list[int]) -> list[Entry]:
    out = []
    for i in range(0, len(seqs), 500):
        chunk = seqs[i : i + 500]
        params = {f"s{j}": s for j, s in enumerate(chunk)}
        sql = ("SELECT seq, ts, operator, command, payload, prev_hash, hash FROM audit_log WHERE seq IN ("
               + ", ".join(f":s{j}" for j in range(len(chunk))) + ")")
        out += [Entry(*r) for r in conn.execute(text(sql), params)]
    return out
