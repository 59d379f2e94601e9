"""Verify an archive (第十八条) with no store: the zip's MANIFEST, every file's size and SHA-256,
the draw bundle recomputed, the audit excerpt's chain; against a store too when one is given
(docs/archive.md). The archive is built by services/archive.py."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from shuangsuiji.domain.audit import Entry, canonical_json, entry_hash
from shuangsuiji.errors import Problem, UserError
from shuangsuiji.services.archive import AUDIT, BUNDLE, ENTRY_KEYS, FORMAT, FORMAT_VERSION, MANIFEST, MANIFEST_KEYS, TASK, sha256


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
