"""A task's imported object list (第九条): read and validated like the directory, frozen with the task."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, text

from shuangsuiji.domain.directory import DRAWABLE_STATUSES, ENTITY_HEADERS, ENTITY_REQUIRED, entity_parser
from shuangsuiji.domain.plan import UNCLASSIFIED
from shuangsuiji.errors import UserError
from shuangsuiji.services import audit, importing
from shuangsuiji.services.population import population
from shuangsuiji.services.tasks import get_task
from shuangsuiji.table_reader import map_columns, read_table


def _require_list_scope(definition: dict) -> None:
    if "imported_list" not in definition["scope"]:
        raise UserError(
            f"任务 {definition['id']} 的范围是名录库筛选，不是导入名单（scope: imported_list: true）",
            f"task {definition['id']} draws from the directory; only a task with `scope: {{imported_list: true}}` takes an imported list",
        )


def read_list(path: Path, *, encoding: str | None = None, sheet: str | None = None) -> tuple[list[tuple], dict]:
    """A task's own object list, validated exactly like the directory (any bad row: nothing written)."""
    if not path.is_file():
        raise UserError(f"找不到文件 {path}", f"File not found: {path}")
    table = read_table(path, encoding=encoding, sheet=sheet)
    columns = map_columns(table, ENTITY_HEADERS, ENTITY_REQUIRED)
    parsed = importing.parse_rows(table, entity_parser(columns.index, columns.extras, [v for _, v in table.rows]))
    importing.refuse_or_skip(parsed, table, skip_invalid=False)
    if not parsed.records:
        raise UserError(f"{table.file}：名单中没有任何检查对象", f"{table.file}: the list has no entities")
    by_class: dict[str, int] = {}
    live = 0
    for rec in parsed.records:
        key = rec[7] or UNCLASSIFIED
        by_class[key] = by_class.get(key, 0) + 1
        live += rec[6] in DRAWABLE_STATUSES
    meta = {"file": str(path), "sha256": table.sha256, "entities": len(parsed.records), "live": live,
            "by_risk_class": dict(sorted(by_class.items()))}
    return [(r[0], r[1], r[6], r[7]) for r in parsed.records], meta


def _insert_list(conn: Connection, task_id: str, records: list[tuple]) -> None:
    conn.execute(
        text("INSERT INTO task_list_entity (task_id, uscc, name, status, risk_class) VALUES (:t, :u, :n, :s, :r)"),
        [{"t": task_id, "u": u, "n": n, "s": s, "r": r} for u, n, s, r in records],
    )


def import_list(
    conn: Connection, task_id: str, path: Path, operator: str, *, encoding: str | None = None, sheet: str | None = None
) -> dict:
    """Attach the imported object list to a task; once set it is part of the frozen task."""
    task = get_task(conn, task_id)
    _require_list_scope(task["definition"])
    have = conn.execute(text("SELECT COUNT(*) FROM task_list_entity WHERE task_id = :t"), {"t": task_id}).scalar_one()
    if have:
        raise UserError(
            f"任务 {task_id} 已导入名单（{have} 个检查对象）；名单是任务的一部分，导入后不可更改，需要时请新建任务",
            f"task {task_id} already has its imported list ({have} entities); the list is part of the frozen task: "
            "create a new task to use another list",
        )
    records, meta = read_list(path, encoding=encoding, sheet=sheet)
    entry = audit.append(conn, operator, "tasks import-list", {"task": task_id, **meta})
    _insert_list(conn, task_id, records)
    pop = population(conn, get_task(conn, task_id))
    return {"task": task_id, **meta, "to_draw": sum(pop.takes.values()), "audit_seq": entry.seq}
