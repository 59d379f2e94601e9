"""Field evidence 文字和音像记录 (第十八条): photos, scans of signed forms, audio and video of a visit.

A file is attached to one drawn entity of a locked draw (its results, 第十四条). Its content is
stored once, in the store itself (table ``evidence_blob``, keyed by SHA-256: content-addressed,
so a scan attached twice is kept once and a changed byte is a different file); each attachment
is a row of ``result_evidence`` (entity, file name, media type, size, note, who, when, audit seq)
and is listed in the audit log. Both tables are append-only (migration 7): evidence is never
changed or removed. The archive (services/archive.py) carries every file under ``evidence/``
with its hash in the MANIFEST. Limits: docs/results.md#field-evidence.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Connection, text

from shuangsuiji.domain.audit import utc_now
from shuangsuiji.domain.directory import normalise_uscc
from shuangsuiji.errors import ExitCode, Problem, UserError
from shuangsuiji.services import audit

MAX_FILE_BYTES = 100 * 1024 * 1024  # one photo, scan, recording or video
MAX_FILES = 50  # per command
MAX_TOTAL_BYTES = 500 * 1024 * 1024  # per command: it is one transaction

# Suffix → media type: what a phone, a scanner or a recorder produces. Anything else is refused.
MEDIA_TYPES: dict[str, str] = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".heic": "image/heic", ".webp": "image/webp",
    ".tif": "image/tiff", ".tiff": "image/tiff", ".pdf": "application/pdf",
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".amr": "audio/amr", ".wav": "audio/wav",
    ".mp4": "video/mp4", ".mov": "video/quicktime", ".3gp": "video/3gpp",
}


def _read(paths: list[Path]) -> list[tuple[Path, bytes]]:
    """Every file read and checked first; all problems named at once, nothing written."""
    problems: list[Problem] = []
    if len(paths) > MAX_FILES:
        raise UserError(f"一次最多附加 {MAX_FILES} 个文件（给了 {len(paths)} 个）",
                        f"At most {MAX_FILES} files per command ({len(paths)} given)", code=ExitCode.USAGE)
    out, total = [], 0
    for path in paths:
        kind = MEDIA_TYPES.get(path.suffix.lower())
        if kind is None:
            problems.append(Problem(f"不支持的文件类型（可用：{' '.join(MEDIA_TYPES)}）",
                                    f"unsupported file type (allowed: {' '.join(MEDIA_TYPES)})", file=str(path)))
            continue
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                problems.append(Problem(f"文件过大：{size} 字节，上限 {MAX_FILE_BYTES} 字节",
                                        f"file too large: {size} bytes, limit {MAX_FILE_BYTES}", file=str(path)))
                continue
            data = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(f"无法读取：{exc.strerror}", f"cannot read: {exc.strerror}", file=str(path)))
            continue
        if not data:
            problems.append(Problem("文件为空", "the file is empty", file=str(path)))
            continue
        total += len(data)
        out.append((path, data))
    if total > MAX_TOTAL_BYTES:
        problems.append(Problem(f"合计 {total} 字节，一次上限 {MAX_TOTAL_BYTES} 字节：请分几次附加",
                                f"{total} bytes in all, limit {MAX_TOTAL_BYTES} per command: attach in several runs"))
    if problems:
        raise UserError("现场记录文件有误，未附加任何文件", "Evidence files refused; nothing was attached", problems=problems)
    return out


def attach(conn: Connection, draw_id: str, entity: str, paths: list[Path], *, operator: str, note: str = "") -> dict:
    """Attach files to one drawn entity's results; a file already attached to it is skipped."""
    from shuangsuiji.services import results

    ctx = results.load(conn, draw_id, need_teams=False)
    uscc = normalise_uscc(entity)
    if uscc not in {e["uscc"] for e in ctx.entities}:
        raise UserError(f"{uscc} 不在抽取 {draw_id} 锁定的检查对象名单中", f"{uscc} is not in the locked list of draw {draw_id}")
    files = _read(paths)
    have = {r[0] for r in conn.execute(
        text("SELECT sha256 FROM result_evidence WHERE draw_id = :d AND uscc = :u"), {"d": draw_id, "u": uscc})}
    attached, skipped = [], []
    for path, data in files:
        digest = hashlib.sha256(data).hexdigest()
        item = {"name": path.name, "sha256": digest, "size": len(data), "media_type": MEDIA_TYPES[path.suffix.lower()]}
        if digest in have:
            skipped.append(item)
            continue
        have.add(digest)
        attached.append((item, data))
    entry = audit.append(conn, operator, "results attach", {
        "draw": draw_id, "task": ctx.task["id"], "entity": uscc, "note": note,
        "files": [item for item, _ in attached], "already_attached": [i["sha256"] for i in skipped],
    })
    now = utc_now()
    for item, data in attached:
        conn.execute(
            text("INSERT INTO evidence_blob (sha256, size, content) VALUES (:s, :n, :c) ON CONFLICT (sha256) DO NOTHING"),
            {"s": item["sha256"], "n": item["size"], "c": data},
        )
        conn.execute(
            text("INSERT INTO result_evidence (draw_id, uscc, sha256, name, media_type, size, note, attached_at, operator, "
                 "audit_seq) VALUES (:d, :u, :s, :name, :m, :n, :note, :t, :o, :seq)"),
            {"d": draw_id, "u": uscc, "s": item["sha256"], "name": item["name"], "m": item["media_type"], "n": item["size"],
             "note": note, "t": now, "o": operator, "seq": entry.seq},
        )
    return {"draw": draw_id, "entity": uscc, "attached": [i for i, _ in attached], "already_attached": skipped,
            "audit_seq": entry.seq}


def list_evidence(conn: Connection, draw_id: str, entity: str | None = None) -> list[dict]:
    sql = ("SELECT id, uscc, name, media_type, size, sha256, note, attached_at, operator, audit_seq FROM result_evidence "
           "WHERE draw_id = :d")
    params = {"d": draw_id}
    if entity:
        sql += " AND uscc = :u"
        params["u"] = normalise_uscc(entity)
    return [dict(r._mapping) for r in conn.execute(text(sql + " ORDER BY id"), params)]


def content(conn: Connection, sha256: str) -> bytes:
    """The stored bytes of one file, checked against their address (a tampered blob is refused)."""
    data = conn.execute(text("SELECT content FROM evidence_blob WHERE sha256 = :s"), {"s": sha256}).scalar()
    data = bytes(data) if data is not None else None
    if data is None or hashlib.sha256(data).hexdigest() != sha256:
        raise UserError(f"现场记录 {sha256} 的内容缺失或与其 SHA-256 不符（存储被改动）",
                        f"evidence {sha256} is missing or does not match its SHA-256 (the store was altered)",
                        code=ExitCode.PROBLEMS)
    return data
