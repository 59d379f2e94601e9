"""联合抽查任务 (第八条, 第九条, 第十七条): tasks frozen at creation; reading and listing them.

A task is created from a task of a *published* annual plan, or ad hoc from a YAML file. All
it depends on — the plan version, the checklist version and the check items themselves, the
scope, the ratios, the rounding rule, the window, the exclusion rule — is copied into
``task.definition`` (canonical JSON; ``task.sha256`` is the SHA-256 of that text), and the
store refuses any UPDATE or DELETE of the row: a later plan or checklist version never changes
a task. ``docs/tasks.md`` documents the definition.

The task's schema is domain/task.py, its imported list services/task_lists.py, and who it can
draw today (第九条) services/population.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from shuangsuiji.domain.audit import canonical_json, utc_now
from shuangsuiji.domain.checklist import load_model
from shuangsuiji.domain.directory import DRAWABLE_STATUSES
from shuangsuiji.domain.plan import UNCLASSIFIED
from shuangsuiji.domain.task import AdHocTask, build_definition, check_adhoc, plan_task_of
from shuangsuiji.errors import ExitCode, Problem, UserError
from shuangsuiji.services import audit
from shuangsuiji.services.checklists import as_problems, department_names, get_checklist, read_text, sha256_text
from shuangsuiji.services.plans import plan_from_content

TASK_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,63}$")


def load_adhoc(text_: str, file: str | None) -> AdHocTask:
    """Parse an ad hoc task YAML; syntax and schema problems raise UserError (exit 3)."""
    try:
        return load_model(AdHocTask, text_, file, what_zh="任务", what_en="task")
    except UserError as exc:
        raise as_problems(exc) from None


# ---------------------------------------------------------------- reading the store


def _row(conn: Connection, task_id: str):
    return conn.execute(text("SELECT * FROM task WHERE id = :id"), {"id": task_id}).first()


def get_task(conn: Connection, task_id: str) -> dict:
    """The task row with ``definition`` parsed; UserError if there is no such task."""
    row = _row(conn, task_id)
    if row is None:
        raise UserError(f"没有任务 {task_id}（用 shuangsuiji tasks list 查看）", f"No task {task_id} (see `shuangsuiji tasks list`)")
    out = dict(row._mapping)
    out["definition"] = json.loads(out["definition"])
    return out


def list_summary(conn: Connection, task_id: str) -> dict | None:
    """The imported list of a task, as counts (never codes): entities per risk class and status."""
    rows = conn.execute(
        text("SELECT risk_class, status, COUNT(*) FROM task_list_entity WHERE task_id = :t GROUP BY risk_class, status"),
        {"t": task_id},
    ).all()
    if not rows:
        return None
    by_class: dict[str, int] = {}
    live = 0
    for risk, status, n in rows:
        by_class[risk or UNCLASSIFIED] = by_class.get(risk or UNCLASSIFIED, 0) + n
        live += n if status in DRAWABLE_STATUSES else 0
    return {"entities": sum(by_class.values()), "live": live, "by_risk_class": dict(sorted(by_class.items()))}


def show_task(conn: Connection, task_id: str) -> dict:
    task = get_task(conn, task_id)
    if "imported_list" in task["definition"]["scope"]:
        task["list"] = list_summary(conn, task_id)
    return task


def list_tasks(conn: Connection, year: int | None = None) -> list[dict]:
    sql = "SELECT id, year, name, plan_task, definition, sha256, created_at, operator, audit_seq FROM task"
    params: dict[str, Any] = {}
    if year is not None:
        sql += " WHERE year = :y"
        params["y"] = year
    lists = dict(conn.execute(text("SELECT task_id, COUNT(*) FROM task_list_entity GROUP BY task_id")).all())
    out = []
    for row in conn.execute(text(sql + " ORDER BY year, id"), params):
        d = json.loads(row.definition)
        src = d["source"]
        out.append({
            "id": row.id,
            "year": row.year,
            "name": row.name,
            "source": src,
            "initiating": d["initiating"],
            "cooperating": d["cooperating"],
            "scope": "imported_list" if "imported_list" in d["scope"] else "directory",
            "list_entities": lists.get(row.id) if "imported_list" in d["scope"] else None,
            "special": d["special"],
            "window": f"{d['window']['start']}~{d['window']['end']}",
            "sha256": row.sha256,
            "created_at": row.created_at,
            "operator": row.operator,
        })
    return out


# ---------------------------------------------------------------- creating tasks


def _check_task_id(task_id: str, conn: Connection) -> None:
    if not TASK_ID.match(task_id):
        raise UserError(
            f"任务编号 {task_id} 无效：应为 1–64 位字母、数字、点、下划线或连字符，以字母或数字开头",
            f"invalid task id {task_id}: 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    existing = _row(conn, task_id)
    if existing is not None:
        raise UserError(
            f"任务 {task_id} 已于 {existing.created_at} 创建；任务一经创建不可更改，请用 --id 指定新的编号",
            f"task {task_id} already exists (created {existing.created_at}); tasks never change: choose another id with --id",
        )


def latest_published_plan(conn: Connection, year: int):
    row = conn.execute(
        text("SELECT * FROM plan WHERE year = :y AND published_at IS NOT NULL ORDER BY version DESC LIMIT 1"), {"y": year}
    ).first()
    if row is not None:
        return row
    draft = conn.execute(text("SELECT version FROM plan WHERE year = :y ORDER BY version DESC LIMIT 1"), {"y": year}).first()
    if draft is None:
        raise UserError(f"没有 {year} 年度计划：先运行 shuangsuiji plans import FILE",
                        f"No {year} plan: run `shuangsuiji plans import FILE` first")
    raise UserError(
        f"{year} 年度计划（版本 {draft[0]}）尚未公布：第七条要求年度计划先公布，任务依据已公布的计划创建；"
        f"先运行 shuangsuiji plans check {year} 和 shuangsuiji plans publish {year}，或用 tasks create --file 创建临时任务",
        f"the {year} plan (version {draft[0]}) is not published: tasks follow the published plan (第七条); run "
        f"`shuangsuiji plans check {year}` and `shuangsuiji plans publish {year}` first, or create an ad hoc task with --file",
    )


def create_from_plan(
    conn: Connection,
    year: int,
    plan_task: str,
    operator: str,
    *,
    task_id: str | None = None,
    list_file: Path | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> dict:
    """A task from a task of the latest published plan of ``year``; optionally with its imported list."""
    row = latest_published_plan(conn, year)
    plan = plan_from_content(row.content)
    task = plan.task(plan_task)
    if task is None:
        raise UserError(
            f"{year} 年度计划版本 {row.version} 中没有任务 {plan_task}（有：{'、'.join(t.id for t in plan.tasks)}）",
            f"the {year} plan version {row.version} has no task {plan_task} (it has: {', '.join(t.id for t in plan.tasks)})",
        )
    if task_id is None:
        task_id = plan_task if plan_task.startswith(str(year)) else f"{year}-{plan_task}"
    _check_task_id(task_id, conn)
    _, checklist = get_checklist(conn, plan.checklist_version)
    source = {"plan_year": year, "plan_version": row.version, "plan_task": plan_task}
    definition = build_definition(task_id, year, source, checklist, task)
    earlier = [r[0] for r in conn.execute(
        text("SELECT id FROM task WHERE plan_id IN (SELECT id FROM plan WHERE year = :y) AND plan_task = :p ORDER BY created_at"),
        {"y": year, "p": plan_task},
    )]
    warnings: list[Problem] = []
    if len(earlier) >= task.frequency:
        warnings.append(Problem(
            f"计划任务 {plan_task} 的频次为每年 {task.frequency} 次，已创建任务 {'、'.join(earlier)}；本任务为第 {len(earlier) + 1} 次",
            f"plan task {plan_task} has frequency {task.frequency} a year and already has task(s) {', '.join(earlier)}; "
            f"this is round {len(earlier) + 1}",
        ))
    return _insert(conn, definition, operator, plan_id=row.id, plan_task=plan_task, list_file=list_file,
                   encoding=encoding, sheet=sheet, warnings=warnings, command_extra={"plan_sha256": row.sha256})


def create_adhoc(
    conn: Connection,
    path: Path,
    operator: str,
    *,
    task_id: str | None = None,
    list_file: Path | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> dict:
    """An ad hoc task from a YAML file (第八条), checked like a plan task; exit 3 on any problem."""
    text_, digest = read_text(path)
    task = load_adhoc(text_, str(path))
    task_id = task_id or task.id
    _check_task_id(task_id, conn)
    names = department_names(conn)
    _, checklist = get_checklist(conn, task.checklist_version)
    target = None
    if task.special and task.targets is not None:
        target_row = _row(conn, task.targets)
        if target_row is not None:
            if target_row.year != task.year:
                raise UserError(
                    f"专项检查针对的任务 {task.targets} 属于 {target_row.year} 年，不是 {task.year} 年",
                    f"the targeted task {task.targets} is of {target_row.year}, not {task.year}",
                    code=ExitCode.PROBLEMS,
                )
            target = plan_task_of(json.loads(target_row.definition))
    problems, warnings = check_adhoc(task, checklist, names, str(path), target)
    if task.special and task.targets is not None and target is None:
        # 第十七条: an ad hoc special check targets an existing task, not a task of this file.
        problems = [p for p in problems if p.field != "targets"] + [Problem(
            f"专项检查针对的任务 {task.targets} 不存在（先创建该任务，或改为已有任务的编号）",
            f"the targeted task {task.targets} does not exist (create it first, or name an existing task)",
            file=str(path), row=task.line_of(("targets",)), field="targets", value=task.targets,
        )]
    if problems:
        raise UserError(
            f"{path}：任务有 {len(problems)} 处问题，未创建",
            f"{path}: the task has {len(problems)} problem(s); nothing was created",
            code=ExitCode.PROBLEMS,
            problems=problems,
        )
    definition = build_definition(task_id, task.year, None, checklist, task, task.inspectors.model_dump(mode="json"))
    return _insert(conn, definition, operator, plan_id=None, plan_task=None, list_file=list_file, encoding=encoding,
                   sheet=sheet, warnings=warnings, command_extra={"file": str(path), "file_sha256": digest})


def _insert(
    conn: Connection,
    definition: dict,
    operator: str,
    *,
    plan_id: int | None,
    plan_task: str | None,
    list_file: Path | None,
    encoding: str | None,
    sheet: str | None,
    warnings: list[Problem],
    command_extra: dict,
) -> dict:
    from shuangsuiji.services.population import population  # here: both import this module
    from shuangsuiji.services.task_lists import _insert_list, _require_list_scope, read_list

    records, list_meta = None, None
    if list_file is not None:
        _require_list_scope(definition)
        records, list_meta = read_list(list_file, encoding=encoding, sheet=sheet)
    body = canonical_json(definition)
    digest = sha256_text(body)
    payload = {"task": definition["id"], "year": definition["year"], "sha256": digest, "source": definition["source"],
               **command_extra}
    if list_meta is not None:
        payload["list"] = list_meta
    entry = audit.append(conn, operator, "tasks create", payload)
    conn.execute(
        text(
            "INSERT INTO task (id, year, name, plan_id, plan_task, definition, sha256, created_at, operator, audit_seq) "
            "VALUES (:id, :year, :name, :plan_id, :plan_task, :definition, :sha, :at, :op, :seq)"
        ),
        {"id": definition["id"], "year": definition["year"], "name": definition["name"], "plan_id": plan_id,
         "plan_task": plan_task, "definition": body, "sha": digest, "at": utc_now(), "op": operator, "seq": entry.seq},
    )
    if records is not None:
        _insert_list(conn, definition["id"], records)
    task = get_task(conn, definition["id"])
    pop = population(conn, task)
    return {
        "id": definition["id"],
        "name": definition["name"],
        "year": definition["year"],
        "source": definition["source"],
        "sha256": digest,
        "list": list_meta,
        "to_draw": sum(pop.takes.values()),
        "in_scope": sum(pop.in_scope.values()),
        "warnings": warnings,
        "audit_seq": entry.seq,
    }
