"""Turning a report dict (services/reports.py) into a terminal table, JSON, CSV, XLSX or HTML.

One layout per report kind says which fields make the overview and which lists become
sections, with their Chinese and English headers; every format walks the same layout, so the
formats cannot disagree. Output is deterministic: the same report gives the same bytes (no
clock; the XLSX carries fixed document and zip timestamps). The HTML file is self-contained —
inline CSS, inline SVG charts drawn here, a Content-Security-Policy that forbids loading
anything — so it opens offline and can be filed with a task (第十八条).
"""

from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

from shuangsuiji import table_writer
from shuangsuiji.domain import numbers
from shuangsuiji.i18n import local_time, t

FORMATS = ("json", "csv", "xlsx", "html")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


# ---------------------------------------------------------------- layouts


@dataclass(frozen=True)
class Col:
    key: str  # a key of the row, or a dotted path into the report for the overview
    zh: str
    en: str
    kind: str = "text"  # text | int | rate | bool | list | window | time | and the enumerations in LABELS
    zh_key: str | None = None  # read this key instead when the interface is Chinese

    @property
    def header(self) -> str:
        return t(self.zh, self.en)


@dataclass(frozen=True)
class Section:
    key: str
    zh: str
    en: str
    columns: tuple[Col, ...]

    @property
    def title(self) -> str:
        return t(self.zh, self.en)


@dataclass(frozen=True)
class Layout:
    title: Callable[[dict], tuple[str, str]]
    overview: tuple[Col, ...]
    sections: tuple[Section, ...]
    charts: Callable[[dict], list[str]] = field(default=lambda d: [])


LABELS: dict[str, dict[Any, tuple[str, str]]] = {
    "task_status": {"done": ("已完成", "done"), "in_progress": ("进行中", "in progress"), "not_started": ("未开始", "not started")},
    "followup_status": {"open": ("待处置", "open"), "in_progress": ("处置中", "in progress"), "closed": ("已办结", "closed"),
                        "cancelled": ("已撤销", "cancelled")},
    "draw_state": {"locked": ("已锁定", "locked"), "committed": ("已承诺，未抽取", "committed, not drawn"), "void": ("已作废", "void")},
    "plan_status": {"published": ("已公布", "published"), "draft": ("草稿", "draft")},
    "timeliness": {"on_time": ("按期公布", "published on time"), "late": ("逾期公布", "published late"),
                   "not_yet": ("尚未公布（未过期限）", "not yet published (deadline not passed)"),
                   "overdue": ("逾期未公布", "not published, deadline passed")},
    "verdict": {True: ("是", "yes"), False: ("否", "NO"), None: ("—", "—")},
    "risk": {"A": ("A 类（低风险）", "A (low)"), "B": ("B 类（一般风险）", "B (normal)"), "C": ("C 类（较高风险）", "C (higher)"),
             "D": ("D 类（高风险）", "D (high)"), "unclassified": ("未分类", "unclassified")},
    "replacement_reason": {"post_change": ("岗位调整", "post change"), "work": ("工作原因", "work"), "health": ("健康原因", "health"),
                           "conflict": ("回避", "conflict of interest"), "other": ("其他特殊情况", "other")},
}


def _C(key: str, zh: str, en: str, kind: str = "text", zh_key: str | None = None) -> Col:
    return Col(key, zh, en, kind, zh_key)


DEPT = _C("department", "部门", "dept")
DEPT_NAME = _C("department_name", "部门名称", "department")
ITEM = _C("item", "事项", "item")
ITEM_NAME = _C("item_name", "检查事项", "check item")
RATE = _C("problem_rate", "问题发现率", "problem rate", "rate")
AS_OF = _C("as_of.audit_seq", "数据截至审计日志序号", "as of audit-log seq", "int")
PROGRESS_COLS = (
    _C("draw", "抽取编号", "draw"), _C("draw_state", "抽取状态", "draw state", "draw_state"),
    _C("voided_draws", "作废重抽", "voided draws", "int"), _C("entities", "抽中对象", "entities", "int"),
    _C("results_expected", "应录结果", "results due", "int"), _C("results_recorded", "已录", "recorded", "int"),
    _C("results_missing", "缺少", "missing", "int"), _C("status", "进度", "status", "task_status"),
)
SHARE_COLS = (
    DEPT, _C("name", "部门名称", "department"), _C("lead_tasks", "牵头抽查任务", "lead tasks", "int"),
    _C("joint_tasks", "牵头联合任务", "joint tasks led", "int"), _C("percent", "占比", "share"),
    _C("ok", "第七条 ≥10%", "第七条 ≥10%", "verdict"),
)
RISK_COLS = (
    _C("risk_class", "信用风险分类", "risk class", "risk"), _C("drawn", "抽中", "drawn", "int"),
    _C("inspected", "已检查", "inspected", "int"),
)

TASK = Layout(
    title=lambda d: (f"任务报告 {d['draw']}：{d['task_name']}", f"Task report {d['draw']}: {d['task_name']}"),
    overview=(
        _C("draw", "抽取编号", "draw"), _C("task", "任务编号", "task"), _C("task_name", "任务名称", "task name"),
        _C("year", "年度", "year"), _C("special", "专项检查（第十七条）", "special check (第十七条)", "bool"),
        _C("initiating_name", "发起部门", "initiating department"), _C("cooperating", "配合部门", "cooperating", "list"),
        _C("window", "实施时间", "window", "window"), _C("locked_at", "锁定时间", "locked at", "time"),
        _C("summary.status", "进度", "status", "task_status"),
        _C("summary.entities_drawn", "抽中检查对象", "entities drawn", "int"),
        _C("summary.entities_inspected", "已检查（至少一项有结果）", "inspected (any result)", "int"),
        _C("summary.entities_complete", "全部事项已录入并签字", "all items recorded and signed", "int"),
        _C("summary.entities_partial", "部分事项已录入", "partly recorded", "int"),
        _C("summary.entities_not_inspected", "尚无结果", "no result yet", "int"),
        _C("summary.results_expected", "应录结果（对象×事项）", "results due (entity × item)", "int"),
        _C("summary.results_recorded", "已录结果", "results recorded", "int"),
        _C("summary.results_missing", "缺少结果", "results missing", "int"),
        _C("summary.results_with_problem", "发现问题的结果", "results with a problem", "int"),
        _C("summary.problem_rate", "问题发现率（按结果）", "problem rate (results)", "rate"),
        _C("summary.entities_with_problem", "发现问题的检查对象", "entities with a problem", "int"),
        _C("summary.entity_problem_rate", "问题发现率（按对象）", "problem rate (entities)", "rate"),
        _C("summary.redraws", "作废重抽", "voided draws (re-draws)", "int"),
        _C("summary.replacements", "执法人员更换", "officer replacements", "int"),
        _C("summary.followups_open", "后续处置未办结", "follow-ups open", "int"),
        _C("summary.followups_closed", "后续处置已办结", "follow-ups closed", "int"),
        _C("summary.followups_cancelled", "后续处置已撤销", "follow-ups cancelled", "int"),
        _C("summary.publication_working_days", "公示期限（检查后工作日）", "publication due (working days)", "int"),
        _C("summary.published_on_time", "按期公示", "published on time", "int"),
        _C("summary.published_late", "逾期公示", "published late", "int"),
        _C("summary.publication_overdue", "逾期未公示", "overdue, not published", "int"),
        _C("summary.publication_timeliness", "公示及时率", "published on time (share)", "rate"),
        AS_OF,
    ),
    sections=(
        Section("by_department", "按部门", "By department", (
            DEPT, DEPT_NAME, _C("items", "事项数", "items", "int"), _C("expected", "应录", "due", "int"),
            _C("recorded", "已录", "recorded", "int"), _C("missing", "缺少", "missing", "int"),
            _C("problems", "发现问题", "problems", "int"), RATE)),
        Section("by_item", "按检查事项", "By check item", (
            ITEM, ITEM_NAME, DEPT, _C("expected", "应录", "due", "int"), _C("recorded", "已录", "recorded", "int"),
            _C("missing", "缺少", "missing", "int"), _C("problems", "发现问题", "problems", "int"), RATE)),
        Section("by_risk_class", "按信用风险分类（抽取时的分层）", "By credit-risk class (stratum when drawn)", (
            *RISK_COLS, _C("complete", "全部已录", "complete", "int"),
            _C("with_problem", "发现问题的对象", "with a problem", "int"), RATE)),
        Section("by_category", "按检查结果分类", "By result category", (
            _C("category", "检查结果", "result category"), _C("results", "结果数", "results", "int"),
            _C("share", "占已录结果", "share of results", "rate"))),
        Section("missing", "缺少的结果（第十二条）", "Missing results (第十二条)", (
            DEPT, _C("uscc", "统一社会信用代码", "code"), _C("name", "名称", "name"), ITEM, ITEM_NAME)),
        Section("redraws", "作废的抽取（重抽）及理由", "Voided draws (re-draws) and reasons", (
            _C("draw", "抽取编号", "draw"), _C("attempt", "次序", "attempt", "int"),
            _C("was_locked", "作废前已锁定", "locked before void", "bool"), _C("created_at", "创建时间", "created", "time"),
            _C("voided_at", "作废时间", "voided", "time"), _C("reason", "作废理由", "reason"), _C("operator", "操作人", "operator"),
            _C("requested_by", "申请作废", "void requested by"), _C("voided_by", "作废（确认）人", "voided (confirmed) by"))),
        Section("replacements", "执法人员更换及理由（第十一条）", "Officer replacements and reasons (第十一条)", (
            _C("seq", "序号", "seq", "int"), _C("officer", "被更换人员", "officer"), _C("officer_name", "姓名", "name"),
            DEPT, _C("reason", "理由", "reason", "replacement_reason"), _C("note", "说明", "note"),
            _C("entity", "仅限检查对象", "only entity"), _C("successors", "接替人员", "successors", "list"),
            _C("successor_names", "接替人员姓名", "successor names", "list"), _C("replaced_at", "时间", "when", "time"),
            _C("operator", "操作人", "operator"))),
        Section("followups_by_status", "后续处置（第十六条）", "Follow-ups (第十六条)", (
            _C("status", "状态", "status", "followup_status"), _C("count", "数量", "count", "int"))),
        Section("followups", "后续处置明细", "Follow-up list", (
            _C("id", "编号", "id", "int"), _C("uscc", "统一社会信用代码", "code"), _C("name", "名称", "name"), ITEM, DEPT,
            _C("handed_to", "移交", "handed to"), _C("measure", "处置措施", "measure"),
            _C("status", "状态", "status", "followup_status"), _C("closed_on", "办结日期", "closed on"))),
    ),
)

PLAN = Layout(
    title=lambda d: (f"{d['year']} 年度计划执行报告（第七条）", f"{d['year']} plan report (第七条)"),
    overview=(
        _C("year", "年度", "year"), _C("title", "计划名称", "title"), _C("plan_version", "计划版本", "plan version", "int"),
        _C("summary.plan_status", "状态", "status", "plan_status"), _C("checklist_version", "联合清单版本", "checklist version"),
        _C("summary.published_on", "公布日期", "published on"), _C("summary.deadline", "公布期限（第七条）", "deadline (第七条)"),
        _C("summary.timeliness", "按期公布", "publication", "timeliness"),
        _C("summary.amendments", "公布后修订次数", "amendments after publication", "int"),
        _C("judged_on", "按此日期判断（未公布时）", "judged on (while unpublished)"),
        _C("summary.plan_ok", "计划检查通过", "plan check passed", "verdict"),
        _C("summary.problems", "问题", "problems", "int"), _C("summary.warnings", "警告", "warnings", "int"),
        _C("summary.departments_below_10_percent", "联合任务占比低于 10% 的部门", "departments below 10 % joint tasks", "int"),
        _C("summary.plan_tasks", "计划任务", "plan tasks", "int"),
        _C("summary.plan_tasks_not_created", "尚未创建的计划任务", "plan tasks not created", "int"),
        _C("summary.tasks_created", "已创建任务（含临时任务）", "tasks created (incl. ad hoc)", "int"),
        _C("summary.tasks_total", "统计任务数", "tasks counted", "int"),
        _C("summary.tasks_done", "已完成", "done", "int"), _C("summary.tasks_in_progress", "进行中", "in progress", "int"),
        _C("summary.tasks_not_started", "未开始", "not started", "int"),
        _C("summary.completion_rate", "完成率", "completion rate", "rate"),
        AS_OF,
    ),
    sections=(
        Section("publications", "公布与修订（第七条，工具记录的日期）", "Publication and amendments (第七条, recorded dates)", (
            _C("amendment", "修订次序（0 为首次公布）", "amendment (0: first publication)", "int"),
            _C("version", "计划版本", "plan version", "int"), _C("published_on", "公布日期", "published on"),
            _C("on_time", "3月底前", "by 31 March", "bool"))),
        Section("joint_share_plan", "计划：各部门联合抽查任务占比（第七条）", "Plan: joint-task share per department (第七条)", SHARE_COLS),
        Section("joint_share_tasks", "已创建任务：各部门联合抽查任务占比", "Created tasks: joint-task share per department", SHARE_COLS),
        Section("problems", "计划检查问题", "Plan check problems", (
            _C("row", "行", "row", "int"), _C("field", "字段", "field"),
            _C("message", "说明", "message", zh_key="message_zh"), _C("value", "值", "value"))),
        Section("warnings", "计划检查警告", "Plan check warnings", (
            _C("row", "行", "row", "int"), _C("field", "字段", "field"),
            _C("message", "说明", "message", zh_key="message_zh"), _C("value", "值", "value"))),
        Section("progress", "任务进度", "Task progress", (
            _C("task", "任务编号", "task"), _C("plan_task", "计划任务", "plan task"), _C("name", "任务名称", "name"),
            _C("special", "专项", "special", "bool"), _C("initiating", "发起", "initiating"),
            _C("cooperating", "配合", "cooperating", "list"), _C("window_start", "开始", "start"),
            _C("window_end", "结束", "end"), *PROGRESS_COLS)),
    ),
)

YEAR = Layout(
    title=lambda d: (f"{d['year']} 年度抽查报告", f"{d['year']} annual spot-check report"),
    overview=(
        _C("year", "年度", "year"),
        _C("rule.threshold", "专项检查建议：问题发现率不低于", "special-check rule: problem rate at least", "rate"),
        _C("rule.min_inspections", "专项检查建议：且检查结果不少于", "special-check rule: and at least results", "int"),
        _C("summary.tasks", "任务", "tasks", "int"), _C("summary.tasks_done", "已完成", "done", "int"),
        _C("summary.tasks_in_progress", "进行中", "in progress", "int"),
        _C("summary.tasks_not_started", "未开始", "not started", "int"),
        _C("summary.locked_draws", "锁定的抽取", "locked draws", "int"),
        _C("summary.entities_drawn", "抽中检查对象（人次）", "entities drawn (visits)", "int"),
        _C("summary.entities_inspected", "已检查（人次）", "inspected (visits)", "int"),
        _C("summary.results_recorded", "已录结果", "results recorded", "int"),
        _C("summary.results_with_problem", "发现问题的结果", "results with a problem", "int"),
        _C("summary.problem_rate", "问题发现率（按结果）", "problem rate (results)", "rate"),
        _C("summary.officers", "参加检查的执法人员", "officers in teams", "int"),
        _C("summary.entities_drawn_more_than_once", "年内多次被抽中的检查对象", "entities drawn more than once", "int"),
        _C("summary.special_check_suggestions", "建议专项检查的事项（第十七条）", "items suggested for a special check (第十七条)", "int"),
        AS_OF,
    ),
    sections=(
        Section("special_checks", "建议开展专项检查的事项（第十七条）", "Items suggested for a special check (第十七条)", (
            ITEM, ITEM_NAME, DEPT, _C("inspections", "检查结果", "results", "int"), _C("problems", "发现问题", "problems", "int"),
            RATE, _C("special_tasks", "本年已有专项任务", "special tasks this year", "list"))),
        Section("by_item", "按检查事项的问题发现率", "Problem rate by check item", (
            ITEM, ITEM_NAME, DEPT, _C("tasks", "任务数", "tasks", "int"), _C("expected", "应录", "due", "int"),
            _C("recorded", "已录", "recorded", "int"), _C("problems", "发现问题", "problems", "int"), RATE,
            _C("suggest_special", "建议专项", "suggest special", "bool"))),
        Section("by_risk_class", "按信用风险分类的问题发现率", "Problem rate by credit-risk class", (
            *RISK_COLS, _C("with_problem", "发现问题的对象", "with a problem", "int"), RATE)),
        Section("by_department", "按部门的问题发现率", "Problem rate by department", (
            DEPT, DEPT_NAME, _C("expected", "应录", "due", "int"), _C("recorded", "已录", "recorded", "int"),
            _C("missing", "缺少", "missing", "int"), _C("problems", "发现问题", "problems", "int"), RATE)),
        Section("workload_departments", "各部门执法人员工作量", "Inspector workload per department", (
            DEPT, DEPT_NAME, _C("officers", "人员", "officers", "int"), _C("visits", "检查户次", "visits", "int"),
            _C("as_leader", "任组长", "as leader", "int"), _C("mean_per_officer", "人均", "mean", "text"),
            _C("max_per_officer", "最多", "max", "int"), _C("min_per_officer", "最少", "min", "int"))),
        Section("workload_officers", "执法人员工作量", "Inspector workload per officer", (
            _C("officer", "执法证号", "certificate"), _C("name", "姓名", "name"), DEPT,
            _C("visits", "检查户次", "visits", "int"), _C("as_leader", "任组长", "as leader", "int"),
            _C("draws", "抽取数", "draws", "int"), _C("tasks", "任务数", "tasks", "int"))),
        Section("voids", "年内作废的抽取及理由", "Draws voided in the year, with reasons", (
            _C("task", "任务编号", "task"), _C("draw", "抽取编号", "draw"), _C("was_locked", "作废前已锁定", "locked before void", "bool"),
            _C("voided_at", "作废(UTC)", "voided (UTC)"), _C("reason", "作废理由", "reason"),
            _C("requested_by", "申请作废", "void requested by"), _C("voided_by", "作废（确认）人", "voided (confirmed) by"))),
        Section("repeat_entities", "年内多次被抽中的检查对象", "Entities drawn more than once in the year", (
            _C("uscc", "统一社会信用代码", "code"), _C("name", "名称", "name"),
            _C("times_drawn", "抽中次数", "times drawn", "int"), _C("times_inspected", "已检查次数", "times inspected", "int"),
            _C("draws", "抽取", "draws", "list"), _C("tasks", "任务", "tasks", "list"))),
        Section("progress", "任务进度", "Task progress", (
            _C("task", "任务编号", "task"), _C("name", "任务名称", "name"), _C("special", "专项", "special", "bool"),
            *PROGRESS_COLS)),
    ),
)

LAYOUTS = {"task": TASK, "plan": PLAN, "year": YEAR}


# ---------------------------------------------------------------- values


def layout_of(data: dict) -> Layout:
    try:
        return LAYOUTS[data["report"]]
    except (KeyError, TypeError):
        raise ValueError("not a shuangsuiji report (no known 'report' key)") from None


def title_of(data: dict) -> str:
    return t(*layout_of(data).title(data))


def get(data: dict, col: Col) -> Any:
    """The value a column shows: a key of a row, or a dotted path into the report."""
    key = col.zh_key if col.zh_key and t("zh", "en") == "zh" else col.key
    value: Any = data
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def percent(value: float | None) -> str:
    """1/7 → "14.3%": the one rule of domain/numbers.py (half up, one decimal); "" for none."""
    return "" if value is None else numbers.percent(value)


def display(value: Any, kind: str) -> str:
    """The text of one cell in the interface language."""
    if kind in LABELS and not isinstance(value, (list, dict)) and value in LABELS[kind]:
        return t(*LABELS[kind][value])
    if value is None:
        return ""
    if kind == "rate":
        return percent(value)
    if kind == "bool" or isinstance(value, bool):
        return t("是", "yes") if value else t("否", "no")
    if kind == "time":  # stored in UTC; people read local time (SHUANGSUIJI_TZ, default Asia/Shanghai)
        return local_time(value)
    if kind == "window" and isinstance(value, dict):
        return f"{value.get('start')} ~ {value.get('end')}"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


def overview(data: dict) -> list[tuple[str, str]]:
    """(label, text) of every overview field."""
    return [(c.header, display(get(data, c), c.kind)) for c in layout_of(data).overview]


def section_rows(data: dict, section: Section) -> list[list[str]]:
    return [[display(get(row, c), c.kind) for c in section.columns] for row in data.get(section.key) or []]


def terminal(data: dict) -> tuple[str, list[tuple[str, str]], list[tuple[Section, list[dict]]]]:
    """What the CLI prints as tables: the title, the overview, and each section as rows of texts
    keyed like the columns (for ``cli.output.table``)."""
    layout = layout_of(data)
    sections = []
    for section in layout.sections:
        keys = [c.key for c in section.columns]
        sections.append((section, [dict(zip(keys, row)) for row in section_rows(data, section)]))
    return title_of(data), overview(data), sections


# ---------------------------------------------------------------- formats


def render(data: dict, fmt: str) -> bytes:
    """The report as the bytes of a file in ``fmt`` (json, csv, xlsx, html)."""
    writers = {"json": to_json, "csv": to_csv, "xlsx": to_xlsx, "html": to_html}
    if fmt not in writers:
        raise ValueError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")
    return writers[fmt](data)


def to_json(data: dict) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def to_csv(data: dict) -> bytes:
    """Sectioned CSV (docs/reports.md): each block is a line ``[key] title``, a header line, the
    rows and an empty line; the overview comes first as ``[overview]`` with 字段/值 columns.
    UTF-8 with BOM so that Excel shows the Chinese text."""
    buf = io.StringIO()
    w = table_writer.CsvWriter(buf, lineterminator="\r\n")
    w.writerow([f"[overview] {title_of(data)}"])
    w.writerow([t("字段", "field"), t("值", "value")])
    w.writerows(overview(data))
    for section in layout_of(data).sections:
        w.writerow([])
        w.writerow([f"[{section.key}] {section.title}"])
        w.writerow([c.header for c in section.columns])
        w.writerows(section_rows(data, section))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _sheet_name(text: str, used: set[str]) -> str:
    name = "".join("_" if ch in '[]:*?/\\' else ch for ch in text)[:31]
    base, n = name, 2
    while name in used:
        name = f"{base[:28]}~{n}"
        n += 1
    used.add(name)
    return name


def to_xlsx(data: dict) -> bytes:
    """One sheet for the overview, then one per section; rates are numbers shown as percents.
    Document properties and zip entry times are fixed, so the bytes depend only on the report."""
    from openpyxl.styles import Font

    layout = layout_of(data)
    book = table_writer.new_book()
    used: set[str] = set()
    ws = book.active
    ws.title = _sheet_name(t("概况", "Overview"), used)
    ws.append(table_writer.xlsx_row([title_of(data)]))
    ws["A1"].font = Font(bold=True, size=13)
    for col in layout.overview:
        ws.append(table_writer.xlsx_row([col.header, _xlsx_value(get(data, col), col.kind)]))
        if col.kind == "rate":
            ws.cell(ws.max_row, 2).number_format = "0.0%"
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 60
    for section in layout.sections:
        sheet = book.create_sheet(_sheet_name(section.title, used))
        sheet.append([c.header for c in section.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in data.get(section.key) or []:
            sheet.append(table_writer.xlsx_row(_xlsx_value(get(row, c), c.kind) for c in section.columns))
        for j, c in enumerate(section.columns, start=1):
            letter = sheet.cell(1, j).column_letter
            sheet.column_dimensions[letter].width = 40 if c.key.endswith("name") or c.key in ("message", "note", "reason") else 14
            if c.kind == "rate":
                for r in range(2, sheet.max_row + 1):
                    sheet.cell(r, j).number_format = "0.0%"
        sheet.freeze_panes = "A2"
    book.properties.creator = "shuangsuiji"
    book.properties.title = table_writer.xml_text(title_of(data))
    return table_writer.book_bytes(book, FIXED_TIME)  # no clock in the bytes: same report, same file


def _xlsx_value(value: Any, kind: str) -> Any:
    if kind in ("rate", "int") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = display(value, kind)
    return text if text != "" else None


# ---------------------------------------------------------------- HTML and its charts

# Chinese fonts of every desktop, then the common Linux ones (a server needs one of them installed to
# print or screenshot a report: fonts-noto-cjk on Debian/Ubuntu, see docs/reports.md).
FONT_STACK = ('"PingFang SC","Hiragino Sans GB","Microsoft YaHei","微软雅黑","Noto Sans CJK SC","Noto Sans SC",'
              '"Source Han Sans SC","Source Han Sans CN","WenQuanYi Micro Hei","WenQuanYi Zen Hei","Droid Sans Fallback",'
              '"SimHei","SimSun",sans-serif')
CSS = """
body{font-family:""" + FONT_STACK + """;margin:24px auto;
max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666;font-size:12px;word-break:break-all}
table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.overview th{width:280px;font-weight:normal;background:#fafafa}.empty{color:#888;font-size:13px}
.charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;border:1px solid #e5e5e5;padding:8px;background:#fff}
figcaption{font-size:14px;font-weight:bold;margin-bottom:4px}svg text{font-size:12px;fill:#333}
@media print{.charts{display:block}figure{break-inside:avoid;margin-bottom:12px}}
"""

COLORS = {"bar": "#1565c0", "problem": "#c62828", "done": "#2e7d32", "in_progress": "#f9a825", "not_started": "#bdbdbd",
          "recorded": "#2e7d32", "missing": "#f9a825", "pending": "#bdbdbd", "marker": "#000"}
LABEL_W, BAR_W, VALUE_W, ROW_H, TOP = 210, 330, 170, 22, 26


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _short(text: str, n: int = 16) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def bar_chart(chart_id: str, title: str, bars: list[tuple[str, float, str]], *, scale: float | None = None,
              color: str = COLORS["bar"], marker: tuple[float, str] | None = None) -> str:
    """A horizontal bar chart as inline SVG: (label, value, shown text) per bar; ``scale`` is the
    value of a full-width bar (default: the largest value); ``marker`` draws a dashed line (e.g. a threshold)."""
    top = max([b[1] for b in bars] + [marker[0] if marker else 0])
    full = scale or top or 1
    full = max(full, top)
    height = TOP + ROW_H * max(len(bars), 1) + 8
    width = LABEL_W + BAR_W + VALUE_W
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{_esc(chart_id)}" role="img" '
             f'aria-label="{_esc(title)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    if not bars:
        parts.append(f'<text x="{LABEL_W}" y="{TOP + 14}">{_esc(t("（无数据）", "(no data)"))}</text>')
    for i, (label, value, shown) in enumerate(bars):
        y = TOP + i * ROW_H
        w = BAR_W * value / full if full else 0
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + 14}" text-anchor="end"><title>{_esc(label)}</title>{_esc(_short(label))}</text>')
        parts.append(f'<rect class="bar" x="{LABEL_W}" y="{y + 3}" width="{_num(w)}" height="{ROW_H - 6}" fill="{color}" '
                     f'data-label="{_esc(label)}" data-value="{_esc(value)}"><title>{_esc(label)}: {_esc(shown)}</title></rect>')
        parts.append(f'<text class="value" x="{_num(LABEL_W + w + 4)}" y="{y + 14}">{_esc(shown)}</text>')
    if marker is not None:
        x = LABEL_W + BAR_W * marker[0] / full
        parts.append(f'<line class="marker" x1="{_num(x)}" y1="{TOP - 6}" x2="{_num(x)}" y2="{height - 4}" '
                     f'stroke="{COLORS["marker"]}" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{_num(x + 3)}" y="{TOP - 10}">{_esc(marker[1])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def stacked_chart(chart_id: str, title: str, rows: list[tuple[str, list[tuple[str, int]]]],
                  names: dict[str, str]) -> str:
    """Each row a full-width bar split by segment (name, count); a legend of ``names`` on top."""
    height = TOP + ROW_H * max(len(rows), 1) + 8
    width = LABEL_W + BAR_W + VALUE_W
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{_esc(chart_id)}" role="img" '
             f'aria-label="{_esc(title)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    x = LABEL_W
    for key, label in names.items():
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{COLORS[key]}"/>'
                     f'<text x="{x + 14}" y="13">{_esc(label)}</text>')
        x += 24 + 13 * len(label)
    if not rows:
        parts.append(f'<text x="{LABEL_W}" y="{TOP + 14}">{_esc(t("（无数据）", "(no data)"))}</text>')
    for i, (label, segments) in enumerate(rows):
        y = TOP + i * ROW_H
        total = sum(n for _, n in segments) or 1
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + 14}" text-anchor="end"><title>{_esc(label)}</title>{_esc(_short(label))}</text>')
        x = float(LABEL_W)
        for key, n in segments:
            if not n:
                continue
            w = BAR_W * n / total
            parts.append(f'<rect class="seg seg-{key}" x="{_num(x)}" y="{y + 3}" width="{_num(w)}" height="{ROW_H - 6}" '
                         f'fill="{COLORS[key]}" data-label="{_esc(label)}" data-segment="{key}" data-value="{n}">'
                         f'<title>{_esc(label)}: {_esc(names.get(key, key))} {n}</title></rect>')
            x += w
        # "pending" (a task with no locked draw yet) is a state, not a count.
        shown = "、".join(names.get(k, k) if k == "pending" else f"{names.get(k, k)} {n}" for k, n in segments if n)
        parts.append(f'<text class="value" x="{LABEL_W + BAR_W + 4}" y="{y + 14}"><title>{_esc(shown)}</title>'
                     f'{_esc(_short(shown, 13))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _figure(svg: str, caption: str) -> str:
    return f"<figure><figcaption>{_esc(caption)}</figcaption>{svg}</figure>"


def _rate_bars(rows: list[dict], label: Callable[[dict], str], key: str = "problem_rate") -> list[tuple[str, float, str]]:
    return [(label(r), r[key] or 0.0, percent(r[key]) if r[key] is not None else "—") for r in rows]


def _progress_rows(rows: list[dict], label: Callable[[dict], str]) -> list[tuple[str, list[tuple[str, int]]]]:
    out = []
    for r in rows:
        if r.get("results_expected") is None:
            out.append((label(r), [("pending", 1)]))
        else:
            out.append((label(r), [("recorded", r["results_recorded"]), ("missing", r["results_missing"])]))
    return out


def RESULT_NAMES() -> dict[str, str]:
    return {"recorded": t("已录入", "recorded"), "missing": t("缺少", "missing"), "pending": t("未开始", "not started")}


def _task_charts(d: dict) -> list[str]:
    return [
        _figure(stacked_chart("chart-progress", t("录入进度（按部门）", "Progress by department"),
                              [(f"{r['department']} {r['department_name']}", [("recorded", r["recorded"]), ("missing", r["missing"])])
                               for r in d["by_department"]], {k: v for k, v in RESULT_NAMES().items() if k != "pending"}),
                t("录入进度（按部门）", "Progress by department")),
        _figure(bar_chart("chart-rate-item", t("问题发现率（按检查事项）", "Problem rate by item"),
                          _rate_bars(d["by_item"], lambda r: f"{r['item']} {r['item_name']}"), scale=1.0, color=COLORS["problem"]),
                t("问题发现率（按检查事项）", "Problem rate by item")),
        _figure(bar_chart("chart-rate-risk", t("问题发现率（按信用风险分类）", "Problem rate by risk class"),
                          _rate_bars(d["by_risk_class"], lambda r: display(r["risk_class"], "risk")), scale=1.0,
                          color=COLORS["problem"]),
                t("问题发现率（按信用风险分类）", "Problem rate by risk class")),
        _figure(bar_chart("chart-categories", t("检查结果分类", "Result categories"),
                          [(r["category"], r["results"], str(r["results"])) for r in d["by_category"]]),
                t("检查结果分类", "Result categories")),
    ]


def _plan_charts(d: dict) -> list[str]:
    s = d["summary"]
    names = {"done": t("已完成", "done"), "in_progress": t("进行中", "in progress"), "not_started": t("未开始", "not started")}
    share = [r for r in d["joint_share_plan"] if r["ratio"] is not None]
    return [
        _figure(stacked_chart("chart-status", t("任务进度", "Task progress"),
                              [(t("全部任务", "all tasks"), [(k, s[f"tasks_{k}"]) for k in names])], names),
                t("任务进度：已完成 / 进行中 / 未开始", "Task progress: done / in progress / not started")),
        _figure(stacked_chart("chart-progress", t("各任务结果录入", "Results per task"),
                              _progress_rows(d["progress"], lambda r: f"{r['task'] or r['plan_task']} {r['name']}"), RESULT_NAMES()),
                t("各任务结果录入", "Results per task")),
        _figure(bar_chart("chart-joint-share", t("联合任务占比（第七条）", "Joint-task share (第七条)"),
                          [(f"{r['department']} {r['name'] or ''}", r["ratio"], r["percent"]) for r in share],
                          scale=1.0, marker=(0.1, "10%")),
                t("各部门联合抽查任务占牵头任务的比例（第七条 ≥10%）", "Joint tasks / lead tasks per department (第七条 ≥ 10 %)")),
    ]


def _year_charts(d: dict) -> list[str]:
    threshold = d["rule"]["threshold"]
    return [
        _figure(bar_chart("chart-rate-item", t("问题发现率（按检查事项）", "Problem rate by item"),
                          _rate_bars(d["by_item"], lambda r: f"{r['item']} {r['item_name']}"), scale=1.0,
                          color=COLORS["problem"], marker=(threshold, percent(threshold))),
                t(f"问题发现率（按检查事项；虚线为专项检查建议线 {percent(threshold)}）",
                  f"Problem rate by item (dashed: special-check line {percent(threshold)})")),
        _figure(bar_chart("chart-rate-risk", t("问题发现率（按信用风险分类）", "Problem rate by risk class"),
                          _rate_bars(d["by_risk_class"], lambda r: display(r["risk_class"], "risk")), scale=1.0,
                          color=COLORS["problem"]),
                t("问题发现率（按信用风险分类）", "Problem rate by risk class")),
        _figure(bar_chart("chart-workload-dept", t("工作量（按部门）", "Workload by department"),
                          [(f"{r['department']} {r['department_name']}", r["visits"], str(r["visits"])) for r in d["workload_departments"]]),
                t("检查户次（按部门）", "Visits per department")),
        _figure(bar_chart("chart-workload-officer", t("工作量（按执法人员）", "Workload by officer"),
                          [(f"{r['name']}（{r['officer']}）", r["visits"], str(r["visits"])) for r in d["workload_officers"]]),
                t("检查户次（按执法人员）", "Visits per officer")),
        _figure(stacked_chart("chart-progress", t("各任务结果录入", "Results per task"),
                              _progress_rows(d["progress"], lambda r: f"{r['task']} {r['name']}"), RESULT_NAMES()),
                t("各任务结果录入", "Results per task")),
    ]


CHARTS = {"task": _task_charts, "plan": _plan_charts, "year": _year_charts}


def _table(section: Section, data: dict) -> str:
    rows = data.get(section.key) or []
    head = f'<section id="{_esc(section.key)}"><h2>{_esc(section.title)}</h2>'
    if not rows:
        return head + f'<p class="empty" data-section="{_esc(section.key)}">{_esc(t("（无）", "(none)"))}</p></section>'
    out = [head, f'<table data-section="{_esc(section.key)}"><thead><tr>']
    out += [f'<th data-col="{_esc(c.key)}">{_esc(c.header)}</th>' for c in section.columns]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for c in section.columns:
            cls = ' class="n"' if c.kind in ("int", "rate") else ""
            out.append(f'<td data-col="{_esc(c.key)}"{cls}>{_esc(display(get(row, c), c.kind))}</td>')
        out.append("</tr>")
    out.append("</tbody></table></section>")
    return "".join(out)


def to_html(data: dict) -> bytes:
    """One self-contained HTML page: overview, charts (inline SVG) and every section as a table."""
    layout = layout_of(data)
    title = title_of(data)
    lang = "zh-CN" if t("zh", "en") == "zh" else "en"
    as_of = data.get("as_of") or {}
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        # Nothing may be fetched: the page must read the same offline, in an archive, years later.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>",
        f'<h1 id="title">{_esc(title)}</h1>',
        f'<p class="meta">{_esc(t("由 shuangsuiji 生成；数据截至审计日志", "Made by shuangsuiji from the store as of audit-log entry"))} '
        f'#{_esc(as_of.get("audit_seq"))} {_esc(as_of.get("audit_hash") or "")}</p>',
        f'<section id="overview"><h2>{_esc(t("概况", "Overview"))}</h2><table class="overview" data-section="overview"><tbody>',
    ]
    for col in layout.overview:
        out.append(f'<tr><th>{_esc(col.header)}</th><td data-col="{_esc(col.key)}">{_esc(display(get(data, col), col.kind))}</td></tr>')
    out.append("</tbody></table></section>")
    out.append(f'<section id="charts"><h2>{_esc(t("图表", "Charts"))}</h2><div class="charts">')
    out += CHARTS[data["report"]](data)
    out.append("</div></section>")
    out += [_table(section, data) for section in layout.sections]
    out.append("</body></html>\n")
    return "\n".join(out).encode("utf-8")
