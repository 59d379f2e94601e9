"""联合清单 in the store (第六条): import versions, list, show, diff, export for publication.

Each version is stored once, keyed by its ``version`` label, as the canonical JSON of the
validated checklist (``model_dump(mode="json")``) with the SHA-256 of the file it came from.
A version never changes (the store refuses UPDATE/DELETE of ``checklist`` rows); a changed
list is a new version, and the old ones stay for the plans and tasks written against them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import Connection, text

from shuangsuiji.domain.audit import canonical_json, utc_now
from shuangsuiji.domain.checklist import (
    EXPORT_COLUMNS,
    Checklist,
    diff_checklists,
    export_rows,
    load_checklist,
    validate_checklist,
)
from shuangsuiji.errors import ExitCode, Problem, UserError
from shuangsuiji.files import replacing
from shuangsuiji import table_writer
from shuangsuiji.services import audit
from shuangsuiji.table_reader import MAX_YAML_MB, decode, read_limited

FORMATS = ("xlsx", "csv", "json")


# ---------------------------------------------------------------- shared by the planning services


def read_text(path: Path) -> tuple[str, str]:
    """A text file (UTF-8, else GB18030) and the SHA-256 of its bytes; UserError naming the file."""
    name = str(path)
    data = read_limited(path, "SHUANGSUIJI_MAX_YAML_MB", MAX_YAML_MB)
    text_, _ = decode(data, name)
    return text_, hashlib.sha256(data).hexdigest()


def sha256_text(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def as_problems(exc: UserError) -> UserError:
    """The same error with exit code 3: the file was read and its content has problems."""
    return UserError(exc.zh, exc.en, code=ExitCode.PROBLEMS, problems=exc.problems)


def department_names(conn: Connection, *, required: bool = True) -> dict[str, str]:
    """code → name of the joint meeting's departments, ordered by code."""
    names = {r[0]: r[1] for r in conn.execute(text("SELECT code, name FROM department ORDER BY code"))}
    if required and not names:
        raise UserError(
            "存储中还没有部门：先运行 shuangsuiji departments import departments.yaml",
            "The store has no departments yet: run `shuangsuiji departments import departments.yaml` first",
        )
    return names


# ---------------------------------------------------------------- reading and checking files


def read_checklist(path: Path) -> tuple[Checklist, str]:
    """Parse a checklist file; syntax and schema problems raise UserError with exit code 3."""
    text_, digest = read_text(path)
    try:
        return load_checklist(text_, str(path)), digest
    except UserError as exc:
        raise as_problems(exc) from None


def validate_file(conn: Connection | None, path: Path) -> dict:
    """Every problem of a checklist file: schema, then 第六条 rules, against the store's
    departments when there is a store (``conn``); without one the codes are not checked."""
    names = department_names(conn) if conn is not None else None
    text_, digest = read_text(path)
    try:
        checklist = load_checklist(text_, str(path))
    except UserError as exc:
        return {"file": str(path), "sha256": digest, "version": None, "ok": False, "entries": None, "items": None,
                "departments_checked": names is not None, "problems": exc.problems}
    problems = validate_checklist(checklist, names, str(path))
    return {
        "file": str(path),
        "sha256": digest,
        "version": checklist.version,
        "ok": not problems,
        "entries": len(checklist.entries),
        "items": sum(len(e.items) for e in checklist.entries),
        "departments_checked": names is not None,
        "problems": problems,
    }


def content_of(checklist: Checklist) -> str:
    """The stored form: canonical JSON of the validated model."""
    return canonical_json(checklist.model_dump(mode="json"))


def import_checklist(conn: Connection, path: Path, operator: str) -> dict:
    """Store a new checklist version; the same label with the same content is 'unchanged'.

    Refuses (exit 3) a list with any problem; refuses (exit 1) a label already imported with
    different content: a changed list needs a new ``version``.
    """
    names = department_names(conn)
    checklist, digest = read_checklist(path)
    problems = validate_checklist(checklist, names, str(path))
    if problems:
        raise UserError(
            f"{path}：联合清单有 {len(problems)} 处问题，未导入",
            f"{path}: the checklist has {len(problems)} problem(s); nothing was imported",
            code=ExitCode.PROBLEMS,
            problems=problems,
        )
    content = content_of(checklist)
    summary = {
        "version": checklist.version,
        "title": checklist.title,
        "file": str(path),
        "sha256": digest,
        "content_sha256": sha256_text(content),
        "entries": len(checklist.entries),
        "items": sum(len(e.items) for e in checklist.entries),
    }
    old = conn.execute(
        text("SELECT content, sha256, imported_at FROM checklist WHERE version = :v"), {"v": checklist.version}
    ).first()
    if old is not None:
        if old.content != content:
            raise UserError(
                f"联合清单版本 {checklist.version} 已于 {old.imported_at} 导入，内容不同；已导入的版本不可更改，"
                f"请在文件中把 version 改为新的版本号后再导入",
                f"checklist version {checklist.version} was imported on {old.imported_at} with different content; "
                f"an imported version never changes: give the file a new `version` and import it again",
            )
        entry = audit.append(conn, operator, "checklists import", {**summary, "result": "unchanged"})
        return {**summary, "result": "unchanged", "inserted": 0, "unchanged": 1, "audit_seq": entry.seq}
    entry = audit.append(conn, operator, "checklists import", {**summary, "result": "inserted"})
    conn.execute(
        text(
            "INSERT INTO checklist (version, title, content, source_file, sha256, imported_at, operator, audit_seq) "
            "VALUES (:version, :title, :content, :file, :sha, :at, :op, :seq)"
        ),
        {"version": checklist.version, "title": checklist.title, "content": content, "file": str(path),
         "sha": digest, "at": utc_now(), "op": operator, "seq": entry.seq},
    )
    return {**summary, "result": "inserted", "inserted": 1, "unchanged": 0, "audit_seq": entry.seq}


# ---------------------------------------------------------------- reading the store


def _row_model(row: Any) -> Checklist:
    return Checklist.model_validate(json.loads(row.content))


def latest_version(conn: Connection) -> str | None:
    row = conn.execute(text("SELECT version FROM checklist ORDER BY imported_at DESC, audit_seq DESC LIMIT 1")).first()
    return row[0] if row else None


def get_checklist(conn: Connection, version: str | None = None) -> tuple[dict, Checklist]:
    """(stored row without content, model) of a version, or of the latest imported one."""
    if version is None:
        version = latest_version(conn)
        if version is None:
            raise UserError(
                "存储中还没有联合清单：先运行 shuangsuiji checklists import FILE",
                "No checklist in the store yet: run `shuangsuiji checklists import FILE` first",
            )
    row = conn.execute(text("SELECT * FROM checklist WHERE version = :v"), {"v": version}).first()
    if row is None:
        known = [r[0] for r in conn.execute(text("SELECT version FROM checklist ORDER BY imported_at"))]
        raise UserError(
            f"没有联合清单版本 {version}（已导入：{'、'.join(known) or '无'}）",
            f"No checklist version {version} (imported: {', '.join(known) or 'none'})",
        )
    meta = {k: v for k, v in row._mapping.items() if k != "content"}
    return meta, _row_model(row)


def list_checklists(conn: Connection) -> list[dict]:
    latest = latest_version(conn)
    plans = dict(conn.execute(text("SELECT checklist_version, COUNT(*) FROM plan GROUP BY checklist_version")).all())
    out = []
    for row in conn.execute(text("SELECT * FROM checklist ORDER BY imported_at, audit_seq")):
        model = _row_model(row)
        out.append({
            "version": row.version,
            "title": row.title,
            "issued_on": model.issued_on.isoformat(),
            "entries": len(model.entries),
            "items": sum(len(e.items) for e in model.entries),
            "latest": row.version == latest,
            "plans": plans.get(row.version, 0),
            "imported_at": row.imported_at,
            "operator": row.operator,
            "source_file": row.source_file,
            "sha256": row.sha256,
            "audit_seq": row.audit_seq,
        })
    return out


def show(conn: Connection, ident: str, version: str | None = None) -> dict:
    """A version (by label), or an entry or item (by id) of ``version`` / the latest version."""
    if version is None and conn.execute(text("SELECT 1 FROM checklist WHERE version = :v"), {"v": ident}).first():
        meta, model = get_checklist(conn, ident)
        data = model.model_dump(mode="json")
        return {"kind": "version", **meta, **{k: data[k] for k in ("issued_by", "issued_on", "based_on")},
                "entries": data["entries"]}
    meta, model = get_checklist(conn, version)
    entry = model.entry(ident)
    if entry is not None:
        return {"kind": "entry", "version": model.version, **entry.model_dump(mode="json")}
    found = model.item(ident)
    if found is not None:
        e, item = found
        return {"kind": "item", "version": model.version, "entry": e.id, "area": e.area, "object_type": e.object_type,
                "initiating": e.initiating, "cooperating": list(e.cooperating), **item.model_dump(mode="json")}
    raise UserError(
        f"联合清单 {model.version} 中没有版本、条目或检查事项 {ident}",
        f"Checklist {model.version} has no version, entry or item {ident}",
    )


def diff(conn: Connection, version_a: str, version_b: str) -> dict:
    _, a = get_checklist(conn, version_a)
    _, b = get_checklist(conn, version_b)
    return diff_checklists(a, b)


# ---------------------------------------------------------------- export for publication (第六条: 向社会公示)


def export(conn: Connection, version: str | None, fmt: str, out: Path | None) -> tuple[dict, str | None]:
    """Write the list as XLSX / CSV / JSON (one row per 抽查事项, departments by name).

    Returns (summary, text): ``text`` is the CSV/JSON document when ``out`` is None (stdout).
    """
    if fmt not in FORMATS:
        raise UserError(f"未知格式 {fmt}（可选：xlsx、csv、json）", f"Unknown format {fmt} (xlsx, csv or json)", code=ExitCode.USAGE)
    if fmt == "xlsx" and out is None:
        raise UserError("XLSX 须用 -o 指定输出文件", "XLSX needs an output file: -o FILE", code=ExitCode.USAGE)
    meta, model = get_checklist(conn, version)
    names = department_names(conn, required=False)
    rows = export_rows(model, names)
    summary = {"version": model.version, "format": fmt, "file": str(out) if out else None, "rows": len(rows),
               "sha256": meta["sha256"]}
    headers = [zh for _, zh, _ in EXPORT_COLUMNS]
    keys = [key for key, _, _ in EXPORT_COLUMNS]
    document: str | None = None
    if fmt == "xlsx":
        info = [
            ("版本", model.version), ("名称", model.title), ("制定", model.issued_by),
            ("印发日期", model.issued_on.isoformat()), ("依据", model.based_on),
            ("事项数", len(rows)), ("来源文件 SHA-256", meta["sha256"]),
        ]
        table_writer.write_book(out, [("联合抽查事项清单", headers, ([r[k] for k in keys] for r in rows)), ("说明", ["项目", "内容"], info)])
    elif fmt == "csv":
        import io

        buf = io.StringIO()
        writer = table_writer.CsvWriter(buf, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows([r[k] for k in keys] for r in rows)
        document = buf.getvalue()
    else:
        data = model.model_dump(mode="json")
        document = json.dumps(
            {
                "version": model.version,
                **{k: data[k] for k in ("title", "issued_by", "issued_on", "based_on")},
                "columns": [{"key": k, "zh": zh, "en": en} for k, zh, en in EXPORT_COLUMNS],
                "rows": rows,
            },
            ensure_ascii=False,
            indent=2,
        ) + "\n"
    if out is not None and document is not None:
        with replacing(out) as partial:
            # utf-8-sig for CSV: Excel on Chinese Windows then opens it without garbling.
            partial.write_text(document, encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
        document = None
    return summary, document


def problems_json(problems: Sequence[Problem]) -> list[dict]:
    return [p.to_json() for p in problems]

