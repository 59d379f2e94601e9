"""The inspector directory 执法检查人员名录库 (第五条, 第十条) and declared conflicts (回避)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from shuangsuiji.domain.audit import utc_now
from shuangsuiji.domain.directory import (
    CONFLICT_HEADERS,
    CONFLICT_REQUIRED,
    INSPECTOR_HEADERS,
    INSPECTOR_REQUIRED,
    Invalid,
    clean,
    cert_invalid,
    normalise_cert,
    normalise_uscc,
    parse_inspector,
    uscc_invalid,
)
from shuangsuiji.errors import UserError
from shuangsuiji.services import audit, departments, importing, upsert
from shuangsuiji.services.upsert import Directory, merge
from shuangsuiji.table_reader import map_columns, read_table

if TYPE_CHECKING:
    from shuangsuiji.store.models import Inspector

INSPECTORS = Directory(
    table="inspector",
    key="cert_no",
    columns=("cert_no", "name", "department", "cert_expires_on", "expertise", "region", "status", "attributes"),
    history_table="inspector_history",
    history_key="cert_no",
    # 第十一条: changes of post, availability and certificate are what later justify a replacement.
    tracked=("department", "status", "cert_expires_on"),
)


def import_inspectors(
    conn: Connection,
    path: Path,
    *,
    operator: str,
    encoding: str | None = None,
    sheet: str | None = None,
    sync: bool = False,
    skip_invalid: bool = False,
    progress: importing.Progress | None = None,
) -> tuple[dict, importing.Parsed, object]:
    table = read_table(path, encoding=encoding, sheet=sheet)
    columns = map_columns(table, INSPECTOR_HEADERS, INSPECTOR_REQUIRED)
    known = departments.codes(conn)
    parsed = importing.parse_rows(table, importing.by_fields(columns, lambda f, a: parse_inspector(f, a, known)), progress)
    importing.refuse_or_skip(parsed, table, skip_invalid)
    payload = {
        "file": str(path),
        "sha256": table.sha256,
        "encoding": table.encoding,
        "rows": len(table.rows),
        "rejected": len(parsed.rejected),
        "sync": sync,
    }
    summary, entry = merge(
        conn, INSPECTORS, parsed.records, operator=operator, command="inspectors import", payload=payload, sync=sync
    )
    return {**payload, **summary, "audit_seq": entry.seq}, parsed, table


def list_inspectors(
    conn: Connection,
    *,
    department: list[str] | None = None,
    status: list[str] | None = None,
    include_removed: bool = False,
) -> list[dict]:
    where, params = [], {}
    if not include_removed:
        where.append("in_directory = 1")
    for name, values in (("department", department), ("status", status)):
        if values:
            keys = [f"{name}{i}" for i in range(len(values))]
            where.append(f"{name} IN ({', '.join(':' + k for k in keys)})")
            params.update(zip(keys, values))
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    rows = conn.execute(text(f"SELECT * FROM inspector{clause} ORDER BY department, cert_no"), params)
    return [_inspector_json(r._mapping) for r in rows]


def officer_rows(conn: Connection, department: str | None = None, *, include_removed: bool = False) -> list[Inspector]:
    """The officers (of one department) as typed rows, by department and certificate, as `inspectors list`."""
    from sqlmodel import select

    from shuangsuiji.store.models import Inspector, rows

    query = select(Inspector).order_by(Inspector.department, Inspector.cert_no)
    if department is not None:
        query = query.where(Inspector.department == department.upper())
    if not include_removed:
        query = query.where(Inspector.in_directory == 1)
    return rows(conn, query)


def officer_labels(conn: Connection) -> dict[str, str]:
    """Certificate number → 姓名（证号）, as lists and teams show an officer (the forms do too)."""
    return {cert: f"{name}（{cert}）" if name else cert
            for cert, name in conn.execute(text("SELECT cert_no, name FROM inspector"))}


def show_inspector(conn: Connection, cert: str) -> dict:
    cert = normalise_cert(cert)
    row = conn.execute(text("SELECT * FROM inspector WHERE cert_no = :c"), {"c": cert}).first()
    if row is None:
        raise UserError(f"名录库中没有执法证号 {cert}", f"No officer with certificate {cert} in the directory")
    out = _inspector_json(row._mapping)
    out["history"] = [
        dict(r._mapping)
        for r in conn.execute(
            text(
                "SELECT field, old_value, new_value, changed_at, operator, audit_seq "
                "FROM inspector_history WHERE cert_no = :c ORDER BY id"
            ),
            {"c": cert},
        )
    ]
    out["conflicts"] = list_conflicts(conn, cert)
    return out


def _inspector_json(row) -> dict:
    out = dict(row)
    out["expertise"] = json.loads(out["expertise"])
    out["attributes"] = json.loads(out["attributes"])
    out["in_directory"] = bool(out["in_directory"])
    return out


# ---------------------------------------------------------------- conflicts (回避)


def import_conflicts(
    conn: Connection, path: Path, *, operator: str, encoding: str | None = None, skip_invalid: bool = False
) -> tuple[dict, importing.Parsed, object]:
    """Declared conflicts of interest (officer ↔ entity code); upsert on the pair."""
    table = read_table(path, encoding=encoding)
    columns = map_columns(table, CONFLICT_HEADERS, CONFLICT_REQUIRED)
    officers = {r[0] for r in conn.execute(text("SELECT cert_no FROM inspector"))}

    def parse(fields: dict[str, str], _attrs: dict[str, str]) -> tuple | Invalid:
        cert = normalise_cert(fields["cert_no"])
        bad = cert_invalid(cert)
        if bad:
            return bad
        if cert not in officers:
            return Invalid("cert_no", "执法人员名录库中没有该执法证号", "no officer with this certificate in the directory", cert)
        code = normalise_uscc(fields["uscc"])
        bad = uscc_invalid(code)
        if bad:
            return bad
        return (f"{cert}|{code}", cert, code, clean(fields.get("reason", "")))

    parsed = importing.parse_rows(table, importing.by_fields(columns, parse))
    importing.refuse_or_skip(parsed, table, skip_invalid)
    current = {(c, u): r for c, u, r in conn.execute(text("SELECT cert_no, uscc, reason FROM conflict"))}
    summary = {"inserted": 0, "updated": 0, "unchanged": 0}
    now = utc_now()
    upsert.open_permit(conn)
    for _, cert, code, reason in parsed.records:
        old = current.get((cert, code))
        if old is None:
            conn.execute(
                text("INSERT INTO conflict (cert_no, uscc, reason, declared_at) VALUES (:c, :u, :r, :t)"),
                {"c": cert, "u": code, "r": reason, "t": now},
            )
            summary["inserted"] += 1
        elif old != reason:
            conn.execute(
                text("UPDATE conflict SET reason = :r WHERE cert_no = :c AND uscc = :u"), {"c": cert, "u": code, "r": reason}
            )
            summary["updated"] += 1
        else:
            summary["unchanged"] += 1
    upsert.close_permit(conn)
    payload = {"file": str(path), "sha256": table.sha256, "rows": len(table.rows), "rejected": len(parsed.rejected)}
    entry = audit.append(conn, operator, "conflicts import", {**payload, **summary})
    return {**payload, **summary, "audit_seq": entry.seq}, parsed, table


def list_conflicts(conn: Connection, cert: str | None = None) -> list[dict]:
    sql = (
        "SELECT c.cert_no, i.name AS officer, i.department, c.uscc, e.name AS entity, c.reason, c.declared_at "
        "FROM conflict c JOIN inspector i ON i.cert_no = c.cert_no LEFT JOIN entity e ON e.uscc = c.uscc"
    )
    params = {}
    if cert:
        sql += " WHERE c.cert_no = :c"
        params["c"] = cert
    return [dict(r._mapping) for r in conn.execute(text(sql + " ORDER BY c.cert_no, c.uscc"), params)]
