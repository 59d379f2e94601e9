"""The joint meeting's member departments (第六条: 联席会议成员单位)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Connection, text

from shuangsuiji.domain.audit import utc_now
from shuangsuiji.domain.directory import DEPARTMENT_HEADERS, department_code_invalid, normalise_department_code, clean
from shuangsuiji.errors import Problem, Problems, UserError
from shuangsuiji.services import audit
from shuangsuiji.domain.yaml_doc import read_yaml
from shuangsuiji.table_reader import MAX_YAML_MB, control_problem, iter_records, map_columns, read_limited, read_table


def read_departments(path: Path) -> tuple[list[tuple[str, str]], str]:
    """(code, name) pairs from a YAML (``departments: [{code, name}]``) or CSV file, and its SHA-256."""
    name = str(path)
    problems = Problems()
    pairs: list[tuple[int | None, str, str]] = []
    if path.suffix.lower() in (".yaml", ".yml"):
        data = read_limited(path, "SHUANGSUIJI_MAX_YAML_MB", MAX_YAML_MB)
        digest = hashlib.sha256(data).hexdigest()
        try:
            text_ = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UserError(f"{name}：YAML 格式错误：{exc}", f"{name}: invalid YAML: {exc}") from None
        doc = read_yaml(text_, name).data  # the one YAML reader: alias bombs refused
        items = doc.get("departments") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise UserError(
                f"{name}：应有一个 departments 列表，每项含 code 和 name",
                f"{name}: expected a `departments` list of {{code, name}}",
            )
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                problems.add(Problem("应为含 code 和 name 的映射", "expected a mapping with code and name", name, None, f"departments[{i}]"))
                continue
            pairs.append((None, str(item.get("code") or ""), str(item.get("name") or "")))
    else:
        table = read_table(path)
        digest = table.sha256
        columns = map_columns(table, DEPARTMENT_HEADERS, ("code", "name"))
        for number, fields, _ in iter_records(table, columns):
            pairs.append((number, fields["code"], fields["name"]))
    out: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for i, (row, raw_code, raw_name) in enumerate(pairs):
        where = {"row": row} if row is not None else {"field": f"departments[{i}]"}
        code = normalise_department_code(raw_code)
        bad = department_code_invalid(code)
        if bad:
            problems.add(Problem(bad.zh, bad.en, name, where.get("row"), where.get("field", "code"), raw_code))
            continue
        bad = control_problem(raw_name, name, where.get("row"), where.get("field", "name"))
        if bad:
            problems.add(bad)
            continue
        if not clean(raw_name):
            problems.add(Problem("部门名称不能为空", "department name is empty", name, where.get("row"), where.get("field", "name"), code))
            continue
        if code in seen:
            problems.add(Problem("部门代码重复", "duplicate department code", name, where.get("row"), where.get("field", "code"), code))
            continue
        seen[code] = i
        out.append((code, clean(raw_name)))
    problems.raise_if_any(f"{name}：部门文件有误，未写入任何数据。", f"{name}: invalid departments file; nothing was written.")
    return out, digest


def import_departments(conn: Connection, path: Path, operator: str) -> dict:
    rows, digest = read_departments(path)
    current = dict(conn.execute(text("SELECT code, name FROM department")).all())
    now = utc_now()
    summary = {"inserted": 0, "updated": 0, "unchanged": 0}
    for code, name in rows:
        if code not in current:
            conn.execute(text("INSERT INTO department (code, name, updated_at) VALUES (:c, :n, :t)"), {"c": code, "n": name, "t": now})
            summary["inserted"] += 1
        elif current[code] != name:
            conn.execute(text("UPDATE department SET name = :n, updated_at = :t WHERE code = :c"), {"c": code, "n": name, "t": now})
            summary["updated"] += 1
        else:
            summary["unchanged"] += 1
    entry = audit.append(conn, operator, "departments import", {"file": str(path), "sha256": digest, **summary})
    return {**summary, "file": str(path), "sha256": digest, "audit_seq": entry.seq}


def list_departments(conn: Connection) -> list[dict]:
    rows = conn.execute(
        text(
            "SELECT d.code, d.name, "
            "(SELECT COUNT(*) FROM inspector i WHERE i.department = d.code AND i.in_directory = 1) AS inspectors "
            "FROM department d ORDER BY d.code"
        )
    )
    return [dict(r._mapping) for r in rows]


def codes(conn: Connection) -> set[str]:
    return {r[0] for r in conn.execute(text("SELECT code FROM department"))}

