"""A task's schema (第八条, 第九条, 第十条): the ad hoc task file, the frozen definition, its strata.

Pure: no store. ``services/tasks.py`` creates tasks from these; ``docs/tasks.md`` documents
the definition.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict

from shuangsuiji.domain.checklist import Checklist, Path as DocPath, Text, TextList, YamlModel, format_path
from shuangsuiji.domain.directory import RISK_CLASSES
from shuangsuiji.domain.plan import UNCLASSIFIED, Count, Plan, Task as PlanTask, check_plan, normalise_scope
from shuangsuiji.errors import Problem, UserError


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
