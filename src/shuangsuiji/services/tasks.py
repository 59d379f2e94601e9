"""联合抽查任务 (第八条, 第九条, 第十七条): tasks frozen at creation, imported lists, populations.

A task is created from a task of a *published* annual plan, or ad hoc from a YAML file. All
it depends on — the plan version, the checklist version and the check items themselves, the
scope, the ratios, the rounding rule, the window, the exclusion rule — is copied into
``task.definition`` (canonical JSON; ``task.sha256`` is the SHA-256 of that text), and the
store refuses any UPDATE or DELETE of the row: a later plan or checklist version never changes
a task. ``docs/tasks.md`` documents the definition.

``population()`` computes, for the draw and for ``tasks preview``, who can be drawn today:
per credit-risk class the sorted codes, and the counts of everything excluded and why.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, text

from shuangsuiji.domain.audit import canonical_json, utc_now
from shuangsuiji.domain.checklist import Checklist, Path as DocPath, Text, TextList, YamlModel, format_path, load_model
from shuangsuiji.domain.directory import DRAWABLE_STATUSES, ENTITY_HEADERS, ENTITY_REQUIRED, RISK_CLASSES, entity_parser
from shuangsuiji.domain.plan import Count, Plan, Task as PlanTask, check_plan, rate_inversions, stratum_takes
from shuangsuiji.errors import ExitCode, Problem, UserError
from shuangsuiji.services import audit, importing
from shuangsuiji.services.checklists import as_problems, department_names, get_checklist, read_text, sha256_text
from shuangsuiji.services.plans import normalise_scope, plan_from_content
from shuangsuiji.store.dialect import lines_agg, table_scan
from shuangsuiji.table_reader import map_columns, read_table

TASK_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,63}$")
EXCLUSIONS = ("removed", "not_live", "unclassified", "no_ratio", "recent_same_item")
UNCLASSIFIED = "unclassified"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # as domain.audit.utc_now: sortable text


# ---------------------------------------------------------------- ad hoc task files (pure)


class InspectorRule(BaseModel):
    """Who may be drawn as officers for the task (第十条): per-department team sizes, regions, expertise."""

    model_config = ConfigDict(extra="forbid")

    per_department: dict[Text, Count] = {}
    regions: TextList | None = None
    expertise: dict[Text, TextList] | None = None


DEFAULT_INSPECTORS = {"per_department": {}, "regions": None, "expertise": None}


class AdHocTask(YamlModel, PlanTask):
    """An ad hoc task file: the fields of a plan task, plus ``year``, ``checklist_version``, ``inspectors``."""

    year: Count
    checklist_version: Text
    inspectors: InspectorRule = InspectorRule()


def load_adhoc(text_: str, file: str | None) -> AdHocTask:
    """Parse an ad hoc task YAML; syntax and schema problems raise UserError (exit 3)."""
    try:
        return load_model(AdHocTask, text_, file, what_zh="任务", what_en="task")
    except UserError as exc:
        raise as_problems(exc) from None


def build_definition(
    task_id: str,
    year: int,
    source: dict | None,
    checklist: Checklist,
    task: PlanTask,
    inspectors: dict | None = None,
) -> dict:
    """The frozen definition of a task (see docs/tasks.md); ``task`` must have passed its checks."""
    entry = checklist.entry(task.checklist_entry)
    if entry is None:  # checked before; a clear error rather than an AttributeError
        raise UserError(f"联合清单 {checklist.version} 中没有条目 {task.checklist_entry}",
                        f"checklist {checklist.version} has no entry {task.checklist_entry}")
    dumped = task.model_dump(mode="json")
    items = []
    for item_id in task.item_ids(entry):
        found = checklist.item(item_id)
        if found is None:
            raise UserError(f"联合清单 {checklist.version} 中没有检查事项 {item_id}",
                            f"checklist {checklist.version} has no check item {item_id}")
        items.append(found[1].model_dump(mode="json"))
    if task.scope.directory is not None:
        scope: dict[str, Any] = {"directory": normalise_scope(dumped["scope"]["directory"])}
    else:
        scope = {"imported_list": True}
    return {
        "id": task_id,
        "name": task.name,
        "year": year,
        "source": source,
        "checklist_version": checklist.version,
        "checklist_entry": entry.id,
        "object_type": entry.object_type,
        "initiating": task.initiating,
        "cooperating": list(task.cooperating),
        "items": items,
        "scope": scope,
        "ratios": dumped["ratios"],  # decimal strings, as plan.py normalised them ("5%" → "0.05")
        "rounding": task.rounding,
        "frequency": task.frequency,
        "window": dumped["window"],
        "special": task.special,
        "targets": task.targets,
        "exclude_recent": dumped["exclude_recent"],
        "inspectors": inspectors or dict(DEFAULT_INSPECTORS),
        # 第四条: only when the task has its own class scheme, so other definitions keep their bytes.
        **({"risk_scheme": dumped["risk_scheme"]} if task.risk_scheme is not None else {}),
    }


def classes_of(definition: dict) -> list[str]:
    """The task's credit-risk classes, lowest risk first (第四条)."""
    scheme = definition.get("risk_scheme")
    return list(scheme["classes"]) if scheme else list(RISK_CLASSES)


def stratum_ratios(definition: dict) -> dict[str, str]:
    """Ratio per stratum: the classes' ratios, and ``unclassified`` when the scheme gives it one."""
    scheme = definition.get("risk_scheme") or {}
    unclassified = scheme.get("unclassified")
    return {**definition["ratios"], **({UNCLASSIFIED: unclassified} if unclassified is not None else {})}


def plan_task_of(definition: dict) -> PlanTask:
    """A plan-task model rebuilt from a frozen definition (to check a special check against its target)."""
    scope = definition["scope"]
    return PlanTask.model_validate({
        "id": definition["id"],
        "name": definition["name"],
        "checklist_entry": definition["checklist_entry"],
        "items": [it["id"] for it in definition["items"]],
        "initiating": definition["initiating"],
        "cooperating": definition["cooperating"],
        "scope": {"directory": scope["directory"]} if "directory" in scope else {"imported_list": True},
        "ratios": definition["ratios"],
        "rounding": definition["rounding"],
        "frequency": definition["frequency"],
        "window": definition["window"],
        "special": definition["special"],
        "targets": definition["targets"],
        "exclude_recent": definition["exclude_recent"],
        "risk_scheme": definition.get("risk_scheme"),
    })


def check_adhoc(
    task: AdHocTask,
    checklist: Checklist,
    departments: dict[str, str],
    file: str | None,
    target: PlanTask | None = None,
) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings) of an ad hoc task: the plan rules that apply to one task.

    The task is checked as the only task of a one-task plan of its year (``check_plan``); the
    plan-wide rules (第七条 publication date, joint-task share) do not apply to an ad hoc task
    and are dropped. A special check (第十七条) is checked against ``target``, the existing task
    it names. The officer rule's departments must be departments of the task.
    """
    tasks = [task] + ([target] if target is not None else [])
    plan = Plan.model_validate({
        "year": task.year,
        "checklist_version": task.checklist_version,
        "title": task.name,
        "tasks": [t.model_dump(include=set(PlanTask.model_fields), exclude_none=True) for t in tasks],
    })
    plan._lines = {("tasks", 0, *path): line for path, line in task._lines.items()}
    report = check_plan(plan, checklist, departments, file)

    def own(problems: list[Problem]) -> list[Problem]:
        out = []
        for p in problems:
            if p.field and (p.field == "tasks[0]" or p.field.startswith("tasks[0].")):
                rest = p.field[len("tasks[0]."):] if p.field.startswith("tasks[0].") else None
                out.append(replace(p, field=rest))
        return out

    problems, warnings = own(report.problems), own(report.warnings)
    rule = task.inspectors
    departments_of_task = set(task.departments)

    def add(path: DocPath, zh: str, en: str, value: str) -> None:
        problems.append(Problem(zh, en, file=file, row=task.line_of(path), field=format_path(path), value=value))

    for code, n in rule.per_department.items():
        if code not in departments_of_task:
            add(("inspectors", "per_department", code), f"{code} 不是本任务的发起或配合部门", f"{code} is neither initiating nor cooperating in this task", code)
        if n < 1:
            add(("inspectors", "per_department", code), f"每个检查对象的执法人员数应至少为 1，当前为 {n}", f"officers per entity must be at least 1, got {n}", str(n))
    for code in (rule.expertise or {}):
        if code not in departments_of_task:
            add(("inspectors", "expertise", code), f"{code} 不是本任务的发起或配合部门", f"{code} is neither initiating nor cooperating in this task", code)
    return problems, warnings


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


# ---------------------------------------------------------------- imported lists (第九条)


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


# ---------------------------------------------------------------- the population (第九条)


@dataclass
class Population:
    """Who a task can draw today, per credit-risk class, and how many were left out and why.

    ``strata``: risk class → sorted canonical codes, for the classes with a ratio only, after
    every exclusion. ``in_scope``: per class with a ratio, entities in scope before the
    exclusion that depends on earlier draws (``recent_same_item``). ``takes``: per class,
    ``plan.stratum_takes`` of the sizes (the task's rounding rule). ``excluded``: totals of
    ``removed``, ``not_live``, ``unclassified``, ``no_ratio``, ``recent_same_item``.
    ``by_class``: the same counts per class (``unclassified`` for entities without one).
    ``recent``: the exclusion rule as applied (days, since, other tasks), or None.
    """

    strata: dict[str, list[str]]
    in_scope: dict[str, int]
    takes: dict[str, int]
    excluded: dict[str, int]
    by_class: dict[str, dict[str, int]] = field(default_factory=dict)
    recent: dict | None = None
    list_imported: bool | None = None  # None: a directory task


def directory_where(directory: dict[str, list[str]]) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions for a task's directory filters (each list means "any of"); params by name."""
    where, params = [], {}
    for name, values in normalise_scope(directory).items():
        if values:
            keys = [f"{name}_{i}" for i in range(len(values))]
            where.append(f"{name} IN ({', '.join(':' + k for k in keys)})")
            params.update(zip(keys, values))
    return where, params


def _fetch(conn: Connection, sql: str, params: dict[str, Any]) -> list[tuple]:
    """All rows as plain tuples through the driver's cursor: no Row objects for a million rows."""
    compiled = text(sql).compile(dialect=conn.dialect)
    bound = compiled.construct_params(params)
    args: Any = tuple(bound[k] for k in compiled.positiontup) if compiled.positional else bound
    cursor = conn.connection.cursor()
    try:
        cursor.execute(compiled.string, args)
        return cursor.fetchall()
    finally:
        cursor.close()


def recently_drawn(conn: Connection, task: dict, now: datetime) -> tuple[set[str], dict | None]:
    """Codes locked in the last ``same_item_days`` days by other tasks sharing a check item.

    The window is a number of days back from now, so it crosses the turn of the year: a draw of
    December 2025 counts for a task of January 2026 (no task's year is compared, only dates).
    """
    d = task["definition"]
    rule = d.get("exclude_recent")
    if not rule:
        return set(), None
    items = {it["id"] for it in d["items"]}
    others = []
    for other_id, other_def in conn.execute(
        text("SELECT id, definition FROM task WHERE id != :id ORDER BY id"), {"id": task["id"]}
    ):
        if items & {it["id"] for it in json.loads(other_def)["items"]}:
            others.append(other_id)
    since = (now - timedelta(days=rule["same_item_days"])).strftime(_TIME_FORMAT)
    until = now.strftime(_TIME_FORMAT)
    info = {"same_item_days": rule["same_item_days"], "since": since, "tasks": others}
    if not others:
        return set(), info
    keys = [f"t{i}" for i in range(len(others))]
    rows = _fetch(
        conn,
        "SELECT DISTINCT s.uscc FROM draw_selection s JOIN draw d ON d.id = s.draw_id "
        f"WHERE d.state = 'locked' AND d.task_id IN ({', '.join(':' + k for k in keys)}) "
        "AND d.locked_at >= :since AND d.locked_at <= :until",
        {**dict(zip(keys, others)), "since": since, "until": until},
    )
    return {r[0] for r in rows}, info


# 第九条: only entities still in the directory and 存续/在业 are drawn. Spelt out as SQL, with the
# statuses as literals, because SQLite uses the partial index ix_entity_drawable (migration 5,
# (risk_class, uscc) over exactly these rows) only for a query that repeats its condition word for word.
DRAWABLE_SQL = "in_directory = 1 AND status IN (" + ", ".join(f"'{s}'" for s in DRAWABLE_STATUSES) + ")"


def _sort_out(rows, ratios: dict[str, str]) -> tuple[dict[str, list[str]], list[tuple]]:
    """(risk_class, in_directory, status, code) rows -> the drawable codes of each class with a ratio,
    and the rest counted by (risk_class, in_directory, status)."""
    strata: dict[str, list[str]] = {c: [] for c in ratios}
    rest: Counter = Counter()
    for risk, in_directory, status, code in rows:
        stratum = UNCLASSIFIED if risk is None else risk  # a stratum only when unclassified has a ratio
        if in_directory and status in DRAWABLE_STATUSES and stratum in strata:
            strata[stratum].append(code)
        else:
            rest[risk, in_directory, status] += 1
    return strata, [(*key, n) for key, n in rest.items()]


def _sort_out_whole_directory(conn: Connection, ratios: dict[str, str]) -> tuple[dict[str, list[str]], list[tuple]]:
    """``_sort_out`` of the whole directory, done by the database: each class's drawable codes as one
    text, in code order, from the partial index alone; the rest counted by one GROUP BY."""
    joined = lines_agg(conn, "uscc")
    strata = {}
    for c in ratios:
        which = "risk_class IS NULL" if c == UNCLASSIFIED else "risk_class = :cls"
        codes = conn.execute(
            text(f"SELECT {joined} FROM (SELECT uscc FROM entity WHERE {which} AND {DRAWABLE_SQL} ORDER BY uscc) AS s"),
            {"cls": c},
        ).scalar_one()
        strata[c] = codes.split("\n") if codes else []  # codes are [0-9A-Z]{18}: never a newline
    classes = [c for c in ratios if c != UNCLASSIFIED]
    keys = [f"ratio_{i}" for i in range(len(classes))]
    with_ratio = f"risk_class IS NOT NULL AND risk_class IN ({', '.join(':' + k for k in keys) or 'NULL'})"
    if UNCLASSIFIED in ratios:
        with_ratio = f"({with_ratio} OR risk_class IS NULL)"
    groups = conn.execute(
        text(f"SELECT risk_class, in_directory, status, COUNT(*) FROM entity WHERE NOT ({DRAWABLE_SQL} AND {with_ratio}) "
             "GROUP BY risk_class, in_directory, status"),
        dict(zip(keys, classes)),
    ).all()
    return strata, groups


def population(conn: Connection, task: dict, *, now: datetime | None = None) -> Population:
    """The drawable population of ``task`` (a ``get_task`` result) today.

    Directory scope: entities matching the filters; imported list: the task's list. In that
    order, an entity is left out when it was removed from the directory, is not live (only
    存续/在业 are drawn, 第九条), has no credit-risk class, is in a class without a ratio, or was
    drawn for one of the task's check items by another task of the year within
    ``exclude_recent.same_item_days`` days (locked draws only).

    For the whole directory the database does the sorting out: per class with a ratio, one query
    returns the drawable codes as one newline-joined text, read in code order from the partial
    index ix_entity_drawable, and one GROUP BY counts the rest (a million entities: 0.75 s,
    against 1.3 s for fetching every row and sorting the codes here). With filters, or from an
    imported list, the rows in scope are fetched in one pass and sorted out here. The codes are
    sorted in the end either way: on sorted input that costs a millisecond, and the order never
    depends on a query plan or a collation.
    """
    now = now or datetime.now(timezone.utc)
    d = task["definition"]
    ratios = stratum_ratios(d)
    list_imported = None
    if "imported_list" in d["scope"]:
        # 第四条: a list without a risk column takes the scheme's default class, if it names one.
        default = (d.get("risk_scheme") or {}).get("default_class")
        rows = _fetch(conn, "SELECT COALESCE(risk_class, :default), 1, status, uscc FROM task_list_entity WHERE task_id = :task",
                      {"task": task["id"], "default": default})
        list_imported = bool(rows)
        strata, groups = _sort_out(rows, ratios)
    else:
        where, params = directory_where(d["scope"]["directory"])
        if where:
            # One pass over the table: SQLite has no statistics to tell it that this beats looking every
            # drawable entity up from the index (an industry filter on a million entities: 0.2 s against 1.5 s).
            hint = table_scan(conn)
            sql = f"SELECT risk_class, in_directory, status, uscc FROM entity{hint} WHERE {' AND '.join(where)}"
            strata, groups = _sort_out(_fetch(conn, sql, params), ratios)
        else:
            strata, groups = _sort_out_whole_directory(conn, ratios)

    classes = list(dict.fromkeys([*classes_of(d), *ratios]))
    counts = {c: dict.fromkeys(EXCLUSIONS + ("in_scope",), 0) for c in [*classes, UNCLASSIFIED]}
    for risk, in_directory, status, n in groups:
        # a class outside the scheme is counted as such
        bucket = counts.setdefault(risk or UNCLASSIFIED, dict.fromkeys(EXCLUSIONS + ("in_scope",), 0))
        if not in_directory:
            bucket["removed"] += n
        elif status not in DRAWABLE_STATUSES:
            bucket["not_live"] += n
        elif risk is None:
            bucket["unclassified"] += n
        else:
            bucket["no_ratio"] += n

    recent, recent_info = recently_drawn(conn, task, now)
    for c, codes in strata.items():
        counts[c]["in_scope"] = len(codes)
        if recent:
            kept = [code for code in codes if code not in recent]
            counts[c]["recent_same_item"] = len(codes) - len(kept)
            codes = strata[c] = kept
        codes.sort()
    in_scope = {c: counts[c]["in_scope"] for c in ratios}
    takes = stratum_takes({c: len(strata[c]) for c in ratios}, ratios, d["rounding"], classes_of(d))
    excluded = {k: sum(b[k] for b in counts.values()) for k in EXCLUSIONS}
    by_class = {c: b for c, b in counts.items() if c in ratios or any(b.values())}
    return Population(strata, in_scope, takes, excluded, by_class, recent_info, list_imported)


def preview(conn: Connection, task_id: str, *, now: datetime | None = None) -> dict:
    """Counts per risk class for ``tasks preview``: in scope, excluded and why, to draw. Never codes."""
    task = get_task(conn, task_id)
    d = task["definition"]
    pop = population(conn, task, now=now)
    ratios = stratum_ratios(d)
    strata = []
    for cls, b in pop.by_class.items():
        ratio = ratios.get(cls)
        strata.append({
            "risk_class": cls,
            "ratio": ratio,
            "in_scope": b["in_scope"] if ratio is not None else b["no_ratio"],
            "recent_same_item": b["recent_same_item"],
            "drawable": len(pop.strata[cls]) if ratio is not None else 0,
            "take": pop.takes.get(cls, 0),
            "not_live": b["not_live"],
            "removed": b["removed"],
            "unclassified": b["unclassified"],
        })
    return {
        "task": task_id,
        "name": d["name"],
        "year": d["year"],
        "scope": d["scope"],
        "list_imported": pop.list_imported,
        "rounding": d["rounding"],
        "risk_scheme": {"classes": classes_of(d), "unclassified": ratios.get(UNCLASSIFIED),
                        "default_class": (d.get("risk_scheme") or {}).get("default_class")},
        **_order_check(pop, ratios, d),
        "exclude_recent": pop.recent,
        "strata": strata,
        "excluded": pop.excluded,
        "totals": {
            "in_scope": sum(pop.in_scope.values()),
            "drawable": sum(len(v) for v in pop.strata.values()),
            "take": sum(pop.takes.values()),
        },
        "computed_at": (now or datetime.now(timezone.utc)).strftime(_TIME_FORMAT),
    }


def _order_check(pop: Population, ratios: dict[str, str], d: dict) -> dict:
    """第四条 差异化监管: pairs of classes the rounding checks in the wrong order (a lower-risk class
    at a higher rate), and the ``ordered`` allocation that keeps the nominal total and the order."""
    sizes = {c: len(pop.strata[c]) for c in ratios}
    inverted = rate_inversions(sizes, pop.takes, classes_of(d))
    alternative = None
    if inverted and d["rounding"] != "ordered":
        takes = stratum_takes(sizes, ratios, "ordered", classes_of(d))
        alternative = {"rounding": "ordered", "takes": takes, "take": sum(takes.values())}
    return {"rate_inversions": [{"lower": lo, "higher": hi} for lo, hi in inverted], "ordered_alternative": alternative}
