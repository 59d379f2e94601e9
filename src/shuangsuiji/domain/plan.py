"""年度计划 — the annual joint-check plan (第七条, 第八条, 第十七条): YAML schema and checks.

A plan lists the year's tasks written against one version of the joint checklist: for each
task the checklist entry and items, the initiating and cooperating departments, the object
scope (directory filters, or a list the initiating department imports, 第九条), the sampling
ratio per credit-risk class (第四条), the rounding rule, the frequency and the window.

``check_plan`` applies the rules; each rule cites its article where it is applied. Pure
functions: no store, no CLI, no file I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from shuangsuiji.domain.draw import allocate, allocate_ordered, inversions
from shuangsuiji.domain.checklist import (
    Checklist,
    Entry,
    Path,
    Text,
    TextList,
    YamlModel,
    custom_error,
    department_label,
    format_path,
    load_model,
)
from shuangsuiji.domain.numbers import percent  # one rounding rule for every shown share
from shuangsuiji.domain.directory import RISK_CLASSES  # A–D (国市监信发〔2022〕6号); other schemes are passed in
from shuangsuiji.domain.directory import clean, normalise_risk, normalise_status  # as the directory stores filter values
from shuangsuiji.errors import ExitCode, Problem

# 第七条: "年度部门联合抽查任务占对应牵头抽查事项任务总数的10%以上" — 以上 includes 10 %.
JOINT_SHARE_MIN = Fraction(1, 10)

Rounding = Literal["ceil_min1", "floor", "round_half_up", "ordered"]


def publication_deadline(year: int) -> date:
    """第七条: the annual plan is drawn up and published 每年3月底前, i.e. by 31 March."""
    return date(year, 3, 31)


# ---------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------


def _percent(value: Any) -> Any:
    """``"5%"`` → Decimal("0.05"); anything else is left for pydantic to parse."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return Decimal(value.strip()[:-1].strip()) / 100
        except ArithmeticError:
            return value
    return value


Ratio = Annotated[Decimal, BeforeValidator(_percent), Field(allow_inf_nan=False)]


def _not_bool(value: Any) -> Any:
    # pydantic would read `frequency: true` as 1; a yes/no where a count belongs is a slip.
    if isinstance(value, bool):
        raise custom_error("应为整数，不是 true/false", "must be a whole number, not true/false")
    return value


Count = Annotated[int, BeforeValidator(_not_bool)]


class DirectoryScope(BaseModel):
    """定向 filters over the object directory; every list means "any of"; none = 不定向."""

    model_config = ConfigDict(extra="forbid")

    entity_type: TextList = []
    industry: TextList = []
    region: TextList = []
    status: TextList = []
    risk_class: TextList = []

    @property
    def undirected(self) -> bool:
        """不定向: no filter at all, the whole directory."""
        return not any((self.entity_type, self.industry, self.region, self.status, self.risk_class))


FILTERS = ("entity_type", "industry", "region", "status", "risk_class")


def normalise_scope(directory: dict[str, list[str]]) -> dict[str, list[str]]:
    """Filter values as the directory stores them: NFKC text, canonical status and risk class."""
    out: dict[str, list[str]] = {}
    for name in FILTERS:
        values = [clean(v) for v in directory.get(name) or []]
        if name == "status":
            values = [normalise_status(v) or v for v in values]
        elif name == "risk_class":
            values = [normalise_risk(v) or v for v in values]
        out[name] = list(dict.fromkeys(values))
    return out


class Scope(BaseModel):
    """The object scope: ``{directory: {...}}`` or ``{imported_list: true}`` (第九条)."""

    model_config = ConfigDict(extra="forbid")

    directory: DirectoryScope | None = None
    imported_list: bool = False

    @model_validator(mode="before")
    @classmethod
    def _bare_directory(cls, data: Any) -> Any:
        # `directory:` with nothing under it means the whole directory (不定向).
        if isinstance(data, dict) and "directory" in data and data["directory"] is None:
            return {**data, "directory": {}}
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> Scope:
        if self.imported_list and self.directory is not None:
            raise custom_error(
                "范围只能二选一：directory（从名录库抽取）或 imported_list: true（发起部门导入名单，第九条）",
                "scope is either directory (draw from the directory) or imported_list: true (第九条), not both",
            )
        if not self.imported_list and self.directory is None:
            raise custom_error(
                "缺少抽查范围：写 directory: {}（全部名录，不定向）、directory 筛选条件，或 imported_list: true",
                "scope needs directory: {} (whole directory), directory filters, or imported_list: true",
            )
        return self


class Window(BaseModel):
    """实施检查时间 (第七条, 第八条)."""

    model_config = ConfigDict(extra="forbid")

    start: date
    end: date


class ExcludeRecent(BaseModel):
    """Avoid 重复检查: skip entities drawn for the same check item in another task recently."""

    model_config = ConfigDict(extra="forbid")

    same_item_days: Count


class RiskScheme(BaseModel):
    """第四条 信用风险分类 as a task uses it: the classes from lowest to highest risk, a ratio for
    entities without a class, and the class of an imported list's entities that have none."""

    model_config = ConfigDict(extra="forbid")

    classes: TextList = list(RISK_CLASSES)  # lowest risk first: the order `ordered` rounding keeps
    unclassified: Ratio | None = None  # None: entities without a class are not drawn
    default_class: Text | None = None  # imported list only (e.g. schools, codes 12…, no risk column)


UNCLASSIFIED = "unclassified"  # the stratum of entities without a class, when it has a ratio


class Task(BaseModel):
    """One task of the annual plan (第七条: 任务、范围、比例和频次、时间、发起和配合部门)."""

    model_config = ConfigDict(extra="forbid")

    id: Text
    name: Text
    checklist_entry: Text
    items: TextList | None = None  # None: every item of the entry
    initiating: Text
    cooperating: TextList = []  # empty: a single-department task
    scope: Scope
    ratios: dict[Text, Ratio]
    rounding: Rounding = "ceil_min1"
    frequency: Count = 1
    window: Window
    special: bool = False  # 专项检查 (第十七条)
    targets: Text | None = None
    exclude_recent: ExcludeRecent | None = None
    risk_scheme: RiskScheme | None = None  # None: A–D, unclassified not drawn (第四条)

    @property
    def joint(self) -> bool:
        """A 部门联合 task: at least one cooperating department other than the initiating one."""
        return any(c != self.initiating for c in self.cooperating)

    @property
    def departments(self) -> list[str]:
        """任务执行部门: initiating first, then cooperating."""
        return list(dict.fromkeys([self.initiating, *self.cooperating]))

    def item_ids(self, entry: Entry) -> list[str]:
        """The check items of this task: as listed, or every item of its entry."""
        return list(self.items) if self.items is not None else [it.id for it in entry.items]


class Plan(YamlModel):
    """An annual joint-check plan (年度计划)."""

    year: Count
    checklist_version: Text
    title: Text
    published_on: date | None = None  # absent while a draft
    # 第七条's denominator: single-department spot-check tasks each department leads outside
    # this joint plan (its own 部门双随机 plan), by department code.
    single_department_tasks: dict[Text, Count] = {}
    tasks: list[Task] = []

    def task(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.id == task_id), None)


def load_plan(text: str, file: str | None = None) -> Plan:
    """Parse plan YAML; raise UserError listing every syntax and schema problem."""
    return load_model(Plan, text, file, what_zh="年度计划", what_en="plan")


# ---------------------------------------------------------------------------------------
# Sample size (the rounding rule, documented in docs/plans.md)
# ---------------------------------------------------------------------------------------


_DRAW_RULES = {"ceil_min1": "ceil", "floor": "floor", "round_half_up": "round-half-up"}


def sample_size(stratum_size: int, ratio: Decimal | str | float, rounding: Rounding = "ceil_min1") -> int:
    """How many entities to draw from a stratum of ``stratum_size`` at ``ratio``.

    - ``ceil_min1`` (default): round up; at least 1 when the stratum is non-empty;
    - ``floor``: round down (a small stratum may give 0);
    - ``round_half_up``: nearest whole number, halves up;
    (``ordered`` allocates all strata together: ``stratum_takes``.)
    Never more than the stratum. Exact arithmetic (draw.allocate): 200 × 0.035 is 7, not 7.000000001.
    """
    if rounding not in _DRAW_RULES:
        raise ValueError(f"unknown rounding {rounding!r}" + (" (it allocates strata jointly: stratum_takes)" if rounding == "ordered" else ""))
    if stratum_size <= 0:
        return 0
    return allocate(stratum_size, ratio if isinstance(ratio, str | Decimal) else str(ratio), _DRAW_RULES[rounding])


def stratum_takes(
    sizes: Mapping[str, int], ratios: Mapping[str, Any], rounding: str, classes: Collection[str] = RISK_CLASSES
) -> dict[str, int]:
    """How many to draw from each stratum (name → size) at its ratio.

    ``ceil_min1``, ``floor``, ``round_half_up``: each stratum on its own (``sample_size``).
    ``ordered``: the strata of ``classes`` (lowest risk first) together, keeping the task's
    nominal total and the risk order (``draw.allocate_ordered``, 第四条); any other stratum
    (``unclassified``) on its own, rounded up, at least 1.
    """
    if rounding != "ordered":
        return {c: sample_size(n, ratios[c], rounding) for c, n in sizes.items()}
    ranked = [c for c in classes if c in sizes]
    out = dict(zip(ranked, allocate_ordered([sizes[c] for c in ranked], [_exact(ratios[c]) for c in ranked])))
    return {c: out[c] if c in out else sample_size(n, ratios[c]) for c, n in sizes.items()}


def _exact(ratio: Any) -> str | Decimal:
    return ratio if isinstance(ratio, str | Decimal) else str(ratio)


def rate_inversions(sizes: Mapping[str, int], takes: Mapping[str, int], classes: Collection[str] = RISK_CLASSES) -> list[tuple[str, str]]:
    """(lower, higher) class pairs where rounding checks the lower-risk class at a higher rate (第四条)."""
    ranked = [c for c in classes if c in sizes]
    return [(ranked[i], ranked[j]) for i, j in inversions([sizes[c] for c in ranked], [takes[c] for c in ranked])]


# ---------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------


@dataclass
class DepartmentShare:
    """第七条 for one department: joint tasks it leads / all spot-check tasks it leads.

    ``lead_tasks`` counts the plan's tasks it initiates (joint or not) plus the single-department
    tasks it leads outside the joint plan (``outside_tasks``, from ``single_department_tasks``).
    """

    department: str
    lead_tasks: int
    joint_tasks: int
    name: str | None = None
    outside_tasks: int = 0
    initiates_entries: bool = False  # 发起部门 of at least one entry of the checklist

    @property
    def share(self) -> Fraction | None:
        return Fraction(self.joint_tasks, self.lead_tasks) if self.lead_tasks else None

    @property
    def ratio(self) -> float | None:
        return None if self.share is None else float(self.share)  # exact; the text rounds once (domain/numbers.py)

    @property
    def ok(self) -> bool | None:
        """None when the department leads no task (第七条 does not judge it)."""
        return None if self.share is None else self.share >= JOINT_SHARE_MIN

    @property
    def no_lead_task(self) -> bool:
        """发起部门 of checklist entries yet leading no task at all: flagged (第六条, 第七条)."""
        return self.initiates_entries and self.lead_tasks == 0

    @property
    def percent(self) -> str | None:
        return None if self.share is None else percent(self.share)

    def to_json(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "name": self.name,
            "lead_tasks": self.lead_tasks,
            "joint_tasks": self.joint_tasks,
            "outside_tasks": self.outside_tasks,
            "ratio": self.ratio,
            "percent": self.percent,
            "ok": self.ok,
            "no_lead_task": self.no_lead_task,
        }


@dataclass
class PlanReport:
    """What ``check_plan`` found: problems (exit 3), warnings, and the 第七条 table."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    ratios: list[DepartmentShare] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.ok else ExitCode.PROBLEMS

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": [p.to_json() for p in self.problems],
            "warnings": [p.to_json() for p in self.warnings],
            "ratios": [r.to_json() for r in self.ratios],
        }


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


class _Report:
    """Collects problems/warnings located in the plan file."""

    def __init__(self, plan: Plan, file: str | None):
        self.plan, self.file = plan, file
        self.report = PlanReport()

    def _make(self, path: Path, zh: str, en: str, value: Any) -> Problem:
        return Problem(
            zh,
            en,
            file=self.file,
            row=self.plan.line_of(path) if path else None,
            field=format_path(path) or None,
            value=None if value is None else str(value),
        )

    def problem(self, path: Path, zh: str, en: str, value: Any = None) -> None:
        self.report.problems.append(self._make(path, zh, en, value))

    def warn(self, path: Path, zh: str, en: str, value: Any = None) -> None:
        self.report.warnings.append(self._make(path, zh, en, value))


def check_plan(
    plan: Plan,
    checklist: Checklist,
    known_departments: Collection[str],
    file: str | None = None,
    scope_counts: Mapping[str, int] | None = None,
    *,
    today: date | None = None,
    published: date | None = None,
    risk_classes: Collection[str] = RISK_CLASSES,
) -> PlanReport:
    """Check an annual plan against the checklist and the rules; list every problem.

    ``known_departments``: department codes (a mapping code → name gives names in
    messages). ``scope_counts``: task id → entities its scope selects today (warn on 0).
    ``today``: when given, an unpublished plan past 31 March is flagged as overdue.
    ``published``: the date the tool recorded for the plan's (first) publication, if any.
    """
    r = _Report(plan, file)
    _check_publication(r, plan, today, published)
    if plan.checklist_version != checklist.version:
        r.problem(
            ("checklist_version",),
            f"计划依据的联合清单版本 {plan.checklist_version} 与所给清单版本 {checklist.version} 不一致",
            f"the plan is written against checklist version {plan.checklist_version}, but the checklist given is {checklist.version}",
            plan.checklist_version,
        )
    if not plan.tasks:
        r.problem(("tasks",), "年度计划没有任何抽查任务（第七条）", "the plan has no tasks (第七条)")

    first_index: dict[str, int] = {}
    for i, task in enumerate(plan.tasks):
        if task.id in first_index:
            r.problem(
                ("tasks", i, "id"),
                f"任务编号 {task.id} 重复（tasks[{first_index[task.id]}] 已使用）",
                f"duplicate task id {task.id} (already used by tasks[{first_index[task.id]}])",
                task.id,
            )
        else:
            first_index[task.id] = i
        _check_task(r, plan, i, task, checklist, known_departments, risk_classes, published)
    for i, task in enumerate(plan.tasks):
        _check_special(r, plan, i, task)
        if scope_counts is not None and scope_counts.get(task.id) == 0:
            r.warn(
                ("tasks", i, "scope"),
                f"任务 {task.id} 的抽查范围目前在名录库中选不到任何检查对象",
                f"task {task.id}: its scope selects no entity in the directory today",
                0,
            )
    for code, n in plan.single_department_tasks.items():
        if code not in known_departments:
            r.problem(("single_department_tasks", code), f"未知部门代码 {code}（不在部门名录中）", f"unknown department code {code} (not in the department list)", code)
        if n < 0:
            r.problem(("single_department_tasks", code), f"单部门任务数应为 0 或以上，当前为 {n}", f"a count of single-department tasks must be 0 or more, got {n}", n)
    r.report.ratios = joint_shares(plan, known_departments, {e.initiating for e in checklist.entries})
    for row in r.report.ratios:
        label = department_label(row.department, known_departments)
        if row.ok is False:
            # 第七条: 年度部门联合抽查任务占对应牵头抽查事项任务总数的10%以上
            r.problem(
                ("tasks",),
                f"第七条：{label} 牵头抽查任务共 {row.lead_tasks} 项（其中联合计划外单部门任务 {row.outside_tasks} 项），"
                f"牵头部门联合任务 {row.joint_tasks} 项，占 {row.percent}，低于 10%",
                f"Article 7: {label} leads {row.lead_tasks} spot-check task(s) ({row.outside_tasks} single-department "
                f"outside the joint plan), {row.joint_tasks} of them joint, {row.percent}, below 10%",
                f"{row.joint_tasks}/{row.lead_tasks}",
            )
        elif row.no_lead_task:
            # 第六条 names the 发起部门 of each entry; 第七条: 发起部门应当……制订并公布联合抽查年度计划
            r.warn(
                ("single_department_tasks",),
                f"第七条：{label} 是联合清单条目的发起部门，但不牵头本计划的任何任务，单部门任务数也为 0",
                f"Article 7: {label} initiates checklist entries but leads no task of this plan and no "
                f"single-department task",
                row.department,
            )
    return r.report


def joint_shares(
    plan: Any,
    known_departments: Collection[str] = (),
    initiators: Collection[str] = (),
    outside: Mapping[str, int] | None = None,
) -> list[DepartmentShare]:
    """第七条 table: for each department, joint tasks it leads ÷ all spot-check tasks it leads.

    "年度部门联合抽查任务占对应牵头抽查事项任务总数的10%以上": the numerator is the joint tasks
    the department leads (initiates, with at least one cooperating department); the
    denominator is every spot-check task it leads — the plan's tasks it initiates plus the
    single-department tasks it leads outside the joint plan (``outside``, default the plan's
    ``single_department_tasks``). Cooperating in another department's task counts for neither,
    so the share never exceeds 100 %. Each task counts once, whatever its frequency.
    ``initiators``: 发起部门 of checklist entries, listed (and flagged) even when leading nothing.
    """
    outside = dict(getattr(plan, "single_department_tasks", {}) if outside is None else outside)
    lead: dict[str, int] = {}
    joint: dict[str, int] = {}
    for task in plan.tasks:
        lead[task.initiating] = lead.get(task.initiating, 0) + 1
        if task.joint:
            joint[task.initiating] = joint.get(task.initiating, 0) + 1
        for code in task.departments:
            lead.setdefault(code, 0)
    for code in [*outside, *initiators]:
        lead.setdefault(code, 0)
    # The department list's order when it has one (a mapping or list), else by code.
    if isinstance(known_departments, (set, frozenset)):
        order = sorted(lead)
    else:
        order = [c for c in known_departments if c in lead] + sorted(c for c in lead if c not in known_departments)
    names = known_departments if isinstance(known_departments, Mapping) else {}
    return [
        DepartmentShare(c, lead[c] + max(outside.get(c, 0), 0), joint.get(c, 0), names.get(c), max(outside.get(c, 0), 0), c in initiators)
        for c in order
    ]


def _check_publication(r: _Report, plan: Plan, today: date | None, published: date | None) -> None:
    # 第七条: 发起部门应当在每年3月底前制订并公布联合抽查年度计划. The publication date is the
    # one the tool recorded when `plans publish` ran, never a date typed in the file: a typed
    # ``published_on`` is only a claim, shown as such. Lateness is reported, not refused — a plan
    # published late (or amended after 31 March) is recorded with its true date, not backdated.
    deadline = publication_deadline(plan.year)
    if published is None:
        if today is not None and today > deadline:
            r.warn(
                ("published_on",),
                f"第七条：{plan.year} 年度计划应于 {deadline} 前公布，截至 {today} 仍未公布；公布后记为逾期公布",
                f"Article 7: the {plan.year} plan had to be published by {deadline}; still unpublished on {today} "
                f"(it will be recorded as published late)",
            )
        else:
            r.warn(
                ("published_on",),
                f"年度计划尚未公布（草稿）；第七条要求于 {deadline} 前公布",
                f"the plan is not yet published (draft); 第七条 requires publication by {deadline}",
            )
    elif published > deadline:
        r.warn(
            ("published_on",),
            f"第七条：年度计划应于 {deadline} 前公布，实际于 {published} 公布（工具记录），逾期",
            f"Article 7: the plan had to be published by {deadline}; it was published on {published} (recorded by the tool), late",
            published,
        )
    if plan.published_on is not None and plan.published_on != published:
        r.warn(
            ("published_on",),
            f"文件所写公布日期 {plan.published_on} 仅为声称，不予采信：公布日期以 plans publish 运行之日为准"
            + (f"（{published}）" if published else ""),
            f"the file's published_on {plan.published_on} is only a claim and is not trusted: the publication date is "
            f"the day `plans publish` ran" + (f" ({published})" if published else ""),
            plan.published_on,
        )


def _check_departments(r: _Report, at: Path, task: Task, known: Collection[str], entry: Entry | None) -> None:
    if task.initiating not in known:
        r.problem(at + ("initiating",), f"未知部门代码 {task.initiating}（不在部门名录中）", f"unknown department code {task.initiating} (not in the department list)", task.initiating)
    elif entry is not None and task.initiating != entry.initiating:
        # 第三条 谁监管、谁牵头、谁发起 and 第八条: the entry's initiating department leads the task.
        r.problem(
            at + ("initiating",),
            f"发起部门 {task.initiating} 与联合清单条目 {entry.id} 的发起部门 {entry.initiating} 不一致（第三条、第八条）",
            f"initiating department {task.initiating} differs from {entry.initiating}, the initiating department of checklist entry {entry.id} (第三条, 第八条)",
            task.initiating,
        )
    seen: set[str] = set()
    for j, code in enumerate(task.cooperating):
        path = at + ("cooperating", j)
        if code == task.initiating:
            r.problem(path, f"发起部门 {code} 不应同时列为配合部门", f"the initiating department {code} must not also be cooperating", code)
        elif code in seen:
            r.problem(path, f"配合部门 {code} 重复列出", f"cooperating department {code} is listed twice", code)
        elif code not in known:
            r.problem(path, f"未知部门代码 {code}（不在部门名录中）", f"unknown department code {code} (not in the department list)", code)
        elif entry is not None and code not in entry.cooperating:
            # 第六条: the checklist fixes who cooperates on an entry; a task picks among them.
            r.problem(
                path,
                f"{code} 不是联合清单条目 {entry.id} 的配合部门（可选：{'、'.join(entry.cooperating) or '无'}）",
                f"{code} is not a cooperating department of checklist entry {entry.id} (choose from: {', '.join(entry.cooperating) or 'none'})",
                code,
            )
        seen.add(code)


def _check_items(r: _Report, at: Path, task: Task, checklist: Checklist, entry: Entry) -> None:
    if task.items is not None and not task.items:
        r.problem(at + ("items",), "检查事项列表为空；不写 items 即包含条目全部事项", "items is empty; leave it out to take every item of the entry")
    performers: dict[str, str] = {}
    seen: set[str] = set()
    for k, item_id in enumerate(task.item_ids(entry)):
        path = at + ("items", k) if task.items is not None else at + ("checklist_entry",)
        found = checklist.item(item_id)
        if item_id in seen:
            r.problem(path, f"检查事项 {item_id} 重复列出", f"check item {item_id} is listed twice", item_id)
        elif found is None:
            r.problem(path, f"联合清单中没有检查事项 {item_id}", f"the checklist has no check item {item_id}", item_id)
        elif found[0].id != entry.id:
            r.problem(
                path,
                f"检查事项 {item_id} 属于条目 {found[0].id}，不属于本任务的条目 {entry.id}",
                f"check item {item_id} belongs to entry {found[0].id}, not to this task's entry {entry.id}",
                item_id,
            )
        else:
            dept = found[1].department
            performers[item_id] = dept
            if dept not in task.departments:
                # 第十二条: all items are done in one visit, so each needs a department in the team.
                r.problem(
                    path,
                    f"检查事项 {item_id} 由 {dept} 实施，但 {dept} 不是本任务的发起或配合部门；请加入配合部门或去掉该事项",
                    f"check item {item_id} is performed by {dept}, which is neither initiating nor cooperating in this task; add it to cooperating or drop the item",
                    item_id,
                )
        seen.add(item_id)
    for j, code in enumerate(task.cooperating):
        if code != task.initiating and code in entry.cooperating and code not in performers.values():
            r.warn(
                at + ("cooperating", j),
                f"配合部门 {code} 在本任务中没有要实施的检查事项",
                f"cooperating department {code} performs none of this task's check items",
                code,
            )


def _check_task(
    r: _Report,
    plan: Plan,
    i: int,
    task: Task,
    checklist: Checklist,
    known: Collection[str],
    risk_classes: Collection[str],
    published: date | None = None,
) -> None:
    at: Path = ("tasks", i)
    entry = checklist.entry(task.checklist_entry)
    if entry is None:
        r.problem(
            at + ("checklist_entry",),
            f"联合清单 {checklist.version} 中没有条目 {task.checklist_entry}",
            f"checklist {checklist.version} has no entry {task.checklist_entry}",
            task.checklist_entry,
        )
    _check_departments(r, at, task, known, entry)
    if entry is not None:
        _check_items(r, at, task, checklist, entry)

    # 第四条, 第七条: 抽查比例 per credit-risk class, each in (0, 1]; the task's own class scheme.
    if task.risk_scheme is not None:
        risk_classes = _check_scheme(r, at + ("risk_scheme",), task)
    if not task.ratios and not (task.risk_scheme and task.risk_scheme.unclassified):
        r.problem(at + ("ratios",), "没有任何风险类别的抽查比例", "no sampling ratio for any risk class")
    for cls, ratio in task.ratios.items():
        path = at + ("ratios", cls)
        if cls not in risk_classes:
            r.problem(path, f"未知信用风险类别 {cls}（可选：{'、'.join(risk_classes)}）", f"unknown credit-risk class {cls} (choose from: {', '.join(risk_classes)})", cls)
        if not (0 < ratio <= 1):
            r.problem(path, f"抽查比例应大于 0 且不超过 1（100%），当前为 {_num(ratio)}", f"a sampling ratio must be in (0, 1], got {_num(ratio)}", _num(ratio))
    if task.scope.directory is not None:
        for j, cls in enumerate(task.scope.directory.risk_class):
            if cls not in risk_classes:
                r.problem(at + ("scope", "directory", "risk_class", j), f"未知信用风险类别 {cls}", f"unknown credit-risk class {cls}", cls)

    # 第七条: 抽查频次
    if task.frequency < 1:
        r.problem(at + ("frequency",), f"抽查频次应为每年至少 1 次，当前为 {task.frequency}", f"frequency must be at least 1 per year, got {task.frequency}", task.frequency)

    # 第七条, 第八条: 实施检查时间, inside the plan's year; starting before the (recorded)
    # publication is flagged, not refused, so that a late plan can still be published truthfully.
    w = task.window
    if w.start > w.end:
        r.problem(at + ("window", "end"), f"检查时间结束日 {w.end} 早于开始日 {w.start}", f"window end {w.end} is before its start {w.start}", w.end)
    for name, day in (("start", w.start), ("end", w.end)):
        if day.year != plan.year:
            r.problem(at + ("window", name), f"检查时间 {day} 不在计划年度 {plan.year} 内", f"window {name} {day} is outside the plan year {plan.year}", day)
    if published is not None and w.start < published:
        r.warn(
            at + ("window", "start"),
            f"检查开始日 {w.start} 早于计划公布日 {published}",
            f"window start {w.start} is before the plan's publication on {published}",
            w.start,
        )
    if task.exclude_recent is not None and task.exclude_recent.same_item_days < 1:
        r.problem(
            at + ("exclude_recent", "same_item_days"),
            f"same_item_days 应为至少 1 天，当前为 {task.exclude_recent.same_item_days}",
            f"same_item_days must be at least 1, got {task.exclude_recent.same_item_days}",
            task.exclude_recent.same_item_days,
        )


def _check_scheme(r: _Report, at: Path, task: Task) -> list[str]:
    """A task's 第四条 class scheme; returns its classes (for the ratios' check)."""
    scheme = task.risk_scheme
    classes = list(scheme.classes)
    if not classes:
        r.problem(at + ("classes",), "信用风险类别列表为空", "the list of credit-risk classes is empty")
    for j, cls in enumerate(classes):
        if cls in classes[:j]:
            r.problem(at + ("classes", j), f"信用风险类别 {cls} 重复列出", f"credit-risk class {cls} is listed twice", cls)
        if cls == UNCLASSIFIED:
            r.problem(at + ("classes", j), f"{UNCLASSIFIED} 不是类别名：未分类的比例写在 unclassified", f"{UNCLASSIFIED} is not a class name: give its ratio as unclassified", cls)
    if scheme.unclassified is not None and not (0 < scheme.unclassified <= 1):
        r.problem(at + ("unclassified",), f"抽查比例应大于 0 且不超过 1（100%），当前为 {_num(scheme.unclassified)}",
                  f"a sampling ratio must be in (0, 1], got {_num(scheme.unclassified)}", _num(scheme.unclassified))
    if scheme.default_class is not None:
        if scheme.default_class not in classes:
            r.problem(at + ("default_class",), f"默认类别 {scheme.default_class} 不在 classes 中", f"default class {scheme.default_class} is not one of the classes", scheme.default_class)
        if not task.scope.imported_list:
            # 第九条: only a list the initiating department imports may lack the risk column.
            r.problem(at + ("default_class",), "default_class 只用于导入名单（scope: imported_list: true）",
                      "default_class applies to an imported list only (scope: imported_list: true)", scheme.default_class)
    return classes


def _check_special(r: _Report, plan: Plan, i: int, task: Task) -> None:
    # 第十七条: a special check targets a found common problem and 提高抽查比例和检查频次.
    at: Path = ("tasks", i)
    if not task.special:
        if task.targets is not None:
            r.problem(at + ("targets",), "只有专项检查（special: true）才写 targets", "targets is only for special checks (special: true)", task.targets)
        return
    if task.targets is None:
        r.problem(
            at + ("targets",),
            "第十七条：专项检查须用 targets 指明其针对的常规任务",
            "Article 17: a special check must name the regular task it targets (targets)",
        )
        return
    target = plan.task(task.targets)
    if target is None:
        r.problem(at + ("targets",), f"targets 指向的任务 {task.targets} 不存在", f"targets names task {task.targets}, which is not in the plan", task.targets)
        return
    if target.special:
        r.problem(at + ("targets",), f"targets 应指向常规任务，{task.targets} 本身是专项检查", f"targets must be a regular task; {task.targets} is itself a special check", task.targets)
        return
    if target.checklist_entry != task.checklist_entry:
        r.problem(
            at + ("checklist_entry",),
            f"专项检查的联合清单条目 {task.checklist_entry} 应与其针对的任务 {target.id} 相同（{target.checklist_entry}）",
            f"a special check uses the checklist entry of its target {target.id} ({target.checklist_entry}), not {task.checklist_entry}",
            task.checklist_entry,
        )
    lowered = [c for c, old in target.ratios.items() if task.ratios.get(c, Decimal(0)) < old]
    raised = [c for c, new in task.ratios.items() if new > target.ratios.get(c, Decimal(0))]
    for cls in lowered:
        new = task.ratios.get(cls)
        r.problem(
            at + ("ratios", cls) if new is not None else at + ("ratios",),
            f"第十七条：专项检查不得降低 {cls} 类抽查比例（任务 {target.id} 为 {_num(target.ratios[cls])}，此处为 {_num(new) if new is not None else '不抽取'}）",
            f"Article 17: a special check must not lower class {cls}'s ratio (task {target.id}: {_num(target.ratios[cls])}, here: {_num(new) if new is not None else 'not drawn'})",
            cls,
        )
    if not raised and task.frequency <= target.frequency:
        r.problem(
            at,
            f"第十七条：专项检查应提高抽查比例或检查频次，但与任务 {target.id} 相比均未提高",
            f"Article 17: a special check must raise a ratio or the frequency; neither is higher than in task {target.id}",
            task.id,
        )
