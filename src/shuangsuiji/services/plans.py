"""年度计划 in the store (第七条): versions per year, checks, publication.

``plans import`` stores each new content of a year's plan as the next version (1, 2, …), even
with problems, so that drafts can be checked; ``plans publish`` freezes a version that has no
problem (the store then refuses any change of that row) and writes the publishable document.
Tasks are created from the latest *published* version (services/tasks.py).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from shuangsuiji.domain.audit import canonical_json, utc_now
from shuangsuiji.domain.checklist import Checklist
from shuangsuiji.domain.directory import DRAWABLE_STATUSES, RISK_NAMES
from shuangsuiji.domain.numbers import ratio_percent
from shuangsuiji.domain.plan import (
    Plan,
    PlanReport,
    Task,
    check_plan,
    joint_shares,
    load_plan,
    normalise_scope,
    publication_deadline,
)
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.files import claim, replacing
from shuangsuiji.services import audit
from shuangsuiji.services.checklists import (
    as_problems,
    department_names,
    get_checklist,
    read_text,
    sha256_text,
    write_xlsx,
)
from shuangsuiji.table_reader import decode
from shuangsuiji.table_writer import markdown_text

ROUNDING_ZH = {"ceil_min1": "向上取整，至少 1 家", "floor": "向下取整", "round_half_up": "四舍五入",
               "ordered": "保持总数和风险高低顺序的分配"}


# ---------------------------------------------------------------- files and checks


def plan_from_content(content: str) -> Plan:
    """A plan from its stored canonical JSON (an imported-list scope is dumped with ``directory: null``)."""
    data = json.loads(content)
    for task in data.get("tasks", []):
        scope = task.get("scope")
        if isinstance(scope, dict) and scope.get("directory") is None:
            scope.pop("directory", None)
    return Plan.model_validate(data)


def read_plan(path: Path) -> tuple[Plan, str]:
    """Parse a plan file; syntax and schema problems raise UserError with exit code 3."""
    text_, digest = read_text(path)
    try:
        return load_plan(text_, str(path)), digest
    except UserError as exc:
        raise as_problems(exc) from None


def scope_counts(conn: Connection, plan: Plan) -> dict[str, int]:
    """Task id → live entities in the directory its scope selects today, in a class it draws.

    One GROUP BY over the directory, then each task's filters over the (few) groups.
    """
    tasks = [t for t in plan.tasks if t.scope.directory is not None]
    if not tasks:
        return {}
    keys = [f"s{i}" for i in range(len(DRAWABLE_STATUSES))]
    groups = conn.execute(
        text(
            "SELECT entity_type, industry, region, status, risk_class, COUNT(*) FROM entity "
            f"WHERE in_directory = 1 AND status IN ({', '.join(':' + k for k in keys)}) "
            "GROUP BY entity_type, industry, region, status, risk_class"
        ),
        dict(zip(keys, DRAWABLE_STATUSES)),
    ).all()
    out: dict[str, int] = {}
    for task in tasks:
        f = {k: set(v) for k, v in normalise_scope(task.scope.directory.model_dump()).items()}
        classes: set[str | None] = set(task.ratios)
        if task.risk_scheme is not None and task.risk_scheme.unclassified is not None:
            classes.add(None)  # 第四条: entities without a class are drawn at their own ratio
        out[task.id] = sum(
            n
            for entity_type, industry, region, status, risk, n in groups
            if risk in classes
            and (not f["entity_type"] or entity_type in f["entity_type"])
            and (not f["industry"] or industry in f["industry"])
            and (not f["region"] or region in f["region"])
            and (not f["status"] or status in f["status"])
            and (not f["risk_class"] or risk in f["risk_class"])
        )
    return out


def _checklist_for(conn: Connection, plan: Plan) -> Checklist:
    if conn.execute(text("SELECT 1 FROM checklist WHERE version = :v"), {"v": plan.checklist_version}).first() is None:
        raise UserError(
            f"计划依据的联合清单版本 {plan.checklist_version} 尚未导入：先运行 shuangsuiji checklists import FILE",
            f"the plan's checklist version {plan.checklist_version} is not in the store: run `shuangsuiji checklists import FILE` first",
        )
    return get_checklist(conn, plan.checklist_version)[1]


def check(conn: Connection, plan: Plan, file: str | None, today: date, published: date | None = None) -> PlanReport:
    """``check_plan`` against the store: its checklist version, departments and directory."""
    checklist = _checklist_for(conn, plan)
    return check_plan(plan, checklist, department_names(conn), file, scope_counts(conn, plan), today=today, published=published)


def publications(conn: Connection, year: int) -> list[dict]:
    """The year's published versions in order: the original publication, then amendments 1, 2, ….

    The date of each is the UTC date `plans publish` recorded (``published_at``), never a date
    typed in the file (第七条: 3月底前……公布; a later change is an amendment with its own date).
    """
    rows = conn.execute(
        text("SELECT version, published_at FROM plan WHERE year = :y AND published_at IS NOT NULL ORDER BY published_at, version"),
        {"y": year},
    ).all()
    deadline = publication_deadline(year)
    return [{"version": r.version, "amendment": n, "published_on": r.published_at[:10], "published_at": r.published_at,
             "on_time": date.fromisoformat(r.published_at[:10]) <= deadline} for n, r in enumerate(rows)]


def original_publication(conn: Connection, year: int) -> date | None:
    """The recorded date of the year's first publication, or None while nothing is published."""
    first = publications(conn, year)[:1]
    return date.fromisoformat(first[0]["published_on"]) if first else None


def check_file(conn: Connection, path: Path, today: date) -> dict:
    plan, digest = read_plan(path)
    report = check(conn, plan, str(path), today)
    return {**report.to_json(), "year": plan.year, "version": None, "checklist_version": plan.checklist_version,
            "file": str(path), "sha256": digest, "_report": report}


# ---------------------------------------------------------------- import


def content_of(plan: Plan) -> str:
    """The stored text of a plan. Fields added later (第七条 ``single_department_tasks``, 第四条
    ``risk_scheme``) are left out while unused, so a plan stored before keeps its bytes and its
    re-import is "unchanged"."""
    data = plan.model_dump(mode="json")
    if not data["single_department_tasks"]:
        del data["single_department_tasks"]
    for task in data["tasks"]:
        if task["risk_scheme"] is None:
            del task["risk_scheme"]
    return canonical_json(data)


def import_plan(conn: Connection, path: Path, operator: str, today: date) -> dict:
    """Store the file as the next version of its year (unless it equals the latest version)."""
    plan, digest = read_plan(path)
    report = check(conn, plan, str(path), today)  # also refuses an unknown checklist version
    content = content_of(plan)
    summary: dict[str, Any] = {
        "year": plan.year,
        "file": str(path),
        "sha256": digest,
        "content_sha256": sha256_text(content),
        "checklist_version": plan.checklist_version,
        "tasks": len(plan.tasks),
        "problems": len(report.problems),
        "warnings": len(report.warnings),
    }
    latest = conn.execute(
        text("SELECT version, content, published_at FROM plan WHERE year = :y ORDER BY version DESC LIMIT 1"), {"y": plan.year}
    ).first()
    if latest is not None and latest.content == content:
        summary.update(version=latest.version, result="unchanged", published=latest.published_at is not None)
        entry = audit.append(conn, operator, "plans import", summary)
        return {**summary, "inserted": 0, "unchanged": 1, "audit_seq": entry.seq, "report": report}
    version = latest.version + 1 if latest is not None else 1
    summary.update(version=version, result="inserted", published=False)
    entry = audit.append(conn, operator, "plans import", summary)
    conn.execute(
        text(
            "INSERT INTO plan (year, version, checklist_version, content, source_file, sha256, imported_at, operator, audit_seq) "
            "VALUES (:y, :v, :cv, :content, :file, :sha, :at, :op, :seq)"
        ),
        {"y": plan.year, "v": version, "cv": plan.checklist_version, "content": content, "file": str(path),
         "sha": digest, "at": utc_now(), "op": operator, "seq": entry.seq},
    )
    return {**summary, "inserted": 1, "unchanged": 0, "audit_seq": entry.seq, "report": report}


# ---------------------------------------------------------------- reading the store


def get_plan(conn: Connection, year: int, version: int | None = None):
    """The stored row of a year's plan: ``version``, or the latest."""
    if version is None:
        row = conn.execute(text("SELECT * FROM plan WHERE year = :y ORDER BY version DESC LIMIT 1"), {"y": year}).first()
    else:
        row = conn.execute(text("SELECT * FROM plan WHERE year = :y AND version = :v"), {"y": year, "v": version}).first()
    if row is None:
        versions = [r[0] for r in conn.execute(text("SELECT version FROM plan WHERE year = :y ORDER BY version"), {"y": year})]
        if versions:
            raise UserError(f"{year} 年度计划没有版本 {version}（有：{versions}）", f"The {year} plan has no version {version} (it has: {versions})")
        raise UserError(f"没有 {year} 年度计划：先运行 shuangsuiji plans import FILE", f"No {year} plan: run `shuangsuiji plans import FILE` first")
    return row


def model_of(row: Any) -> Plan:
    """The stored plan; with its YAML line numbers when the imported file is still there, unchanged."""
    path = Path(row.source_file)
    try:
        if path.is_file():
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() == row.sha256:
                return load_plan(decode(data, str(path))[0], str(path))
    except (OSError, UserError):
        pass
    return plan_from_content(row.content)


def check_stored(conn: Connection, year: int, version: int | None, today: date) -> dict:
    row = get_plan(conn, year, version)
    plan = model_of(row)
    report = check(conn, plan, row.source_file, today, original_publication(conn, year))
    return {**report.to_json(), "year": year, "version": row.version, "checklist_version": row.checklist_version,
            "file": row.source_file, "sha256": row.sha256, "published_at": row.published_at,
            "publications": publications(conn, year), "_report": report}


def _meta(row: Any) -> dict:
    return {k: v for k, v in row._mapping.items() if k not in ("content", "id")}


def list_plans(conn: Connection) -> list[dict]:
    out = []
    for row in conn.execute(text("SELECT * FROM plan ORDER BY year, version")):
        content = json.loads(row.content)
        out.append({**_meta(row), "title": content["title"], "tasks": len(content["tasks"]),
                    "status": "published" if row.published_at else "draft"})
    return out


def show_plan(conn: Connection, year: int, version: int | None = None) -> dict:
    row = get_plan(conn, year, version)
    content = json.loads(row.content)
    tasks = conn.execute(text("SELECT plan_task, id FROM task WHERE plan_id = :p ORDER BY id"), {"p": row.id}).all()
    created: dict[str, list[str]] = {}
    for plan_task, task_id in tasks:
        created.setdefault(plan_task, []).append(task_id)
    return {**_meta(row), "status": "published" if row.published_at else "draft", "title": content["title"],
            "published_on": row.published_at[:10] if row.published_at else None,
            "claimed_published_on": content.get("published_on"), "publications": publications(conn, year), "tasks": [{**t, "created_tasks": created.get(t["id"], [])} for t in content["tasks"]]}


# ---------------------------------------------------------------- publication (第七条: 制订并公布)


def publish(
    conn: Connection, year: int, version: int | None, operator: str, out_dir: Path, today: date, *, write: bool = True
) -> dict:
    """Freeze a plan version with no problem, log it, and write plan-YEAR.xlsx / plan-YEAR.md.

    第七条: the publication date is the (UTC) date this command runs, recorded in ``published_at``;
    a ``published_on`` typed in the file is only a claim, shown as such. The year's first
    published version is its publication; a later version published afterwards is amendment
    N with its own date — after 31 March too: recorded as it happened, never refused into
    backdating. ``write=False`` (dry run) writes no document. Publishing a version that is
    already published changes nothing (one log entry says so) and writes the documents again.
    """
    row = get_plan(conn, year, version)
    plan = model_of(row)
    before = publications(conn, year)
    result = "unchanged" if row.published_at is not None else "published"
    if result == "published" and before and before[-1]["version"] > row.version:
        raise UserError(
            f"{year} 年度计划版本 {before[-1]['version']} 已公布；较早的版本 {row.version} 不能再公布（修改请导入新版本）",
            f"the {year} plan version {before[-1]['version']} is already published; the older version {row.version} "
            f"cannot be published after it (import a new version to amend)",
        )
    published_at = row.published_at or utc_now()
    published_on = date.fromisoformat(published_at[:10])
    checklist = _checklist_for(conn, plan)
    names = department_names(conn)
    original = date.fromisoformat(before[0]["published_on"]) if before else published_on
    report = check_plan(plan, checklist, names, row.source_file, scope_counts(conn, plan), today=today, published=original)
    if result == "published" and report.problems:
        raise UserError(
            f"{year} 年度计划版本 {row.version} 有 {len(report.problems)} 处问题，未公布（用 plans check {year} 查看）",
            f"the {year} plan version {row.version} has {len(report.problems)} problem(s); not published "
            f"(see `plans check {year}`)",
            code=ExitCode.PROBLEMS,
            problems=report.problems,
        )
    history = before if result == "unchanged" else [
        *before, {"version": row.version, "amendment": len(before), "published_on": published_on.isoformat(),
                  "published_at": published_at, "on_time": published_on <= publication_deadline(year)}]
    this = next(p for p in history if p["version"] == row.version)
    files = [str(out_dir / f"{document_stem(year, this['amendment'])}{ext}") for ext in (".xlsx", ".md")]
    summary = {
        "year": year,
        "version": row.version,
        "result": result,
        "published_on": published_on.isoformat(),
        "published_at": published_at,
        "amendment": this["amendment"],  # 0: the original publication; N: the Nth amendment
        "original_published_on": history[0]["published_on"],
        "on_time": history[0]["on_time"],  # 第七条: the year's plan published by 31 March
        "claimed_published_on": plan.published_on.isoformat() if plan.published_on else None,
        "sha256": row.sha256,
        "content_sha256": sha256_text(row.content),
        "checklist_version": row.checklist_version,
        "tasks": len(plan.tasks),
        "files": files,
    }
    entry = audit.append(conn, operator, "plans publish", summary)
    if result == "published":
        conn.execute(text("UPDATE plan SET published_at = :at WHERE id = :id AND published_at IS NULL"), {"at": published_at, "id": row.id})
    if write:
        write_documents(out_dir, plan, row, checklist, names, history, this)
    return {**summary, "audit_seq": entry.seq, "warnings": [{"field": p.field, "value": p.value, "message": p.en, "message_zh": p.zh}
                                                  for p in report.warnings if p.field == "published_on"]}


def _scope_text(task: Task) -> str:
    if task.scope.imported_list:
        return "发起部门导入的检查对象名单（第九条）"
    f = task.scope.directory
    parts = []
    for label, values in (("主体类型", f.entity_type), ("行业", f.industry), ("区域", f.region),
                          ("登记状态", f.status), ("信用风险分类", f.risk_class)):
        if values:
            parts.append(f"{label}：{'、'.join(values)}")
    return "定向：" + "；".join(parts) if parts else "不定向：名录库全部检查对象"


def plan_rows(plan: Plan, checklist: Checklist, names: dict[str, str]) -> list[dict[str, Any]]:
    """One row per task, as published: items, objects/scope, ratios, frequency, window, departments."""
    rows = []
    for n, task in enumerate(plan.tasks, start=1):
        entry = checklist.entry(task.checklist_entry)
        items = []
        for item_id in task.item_ids(entry) if entry else task.items or []:
            found = checklist.item(item_id)
            items.append(f"{found[1].name}" if found else item_id)
        ratios = "、".join(f"{cls}类 {ratio_percent(r)}" for cls, r in task.ratios.items())
        scheme = task.risk_scheme
        if scheme is not None and scheme.unclassified is not None:
            ratios += f"、未分类 {ratio_percent(scheme.unclassified)}"
        if scheme is not None and scheme.default_class is not None:
            ratios += f"；名单中无风险分类的按 {scheme.default_class} 类"
        if task.rounding != "ceil_min1":
            ratios += f"（{ROUNDING_ZH[task.rounding]}）"
        rows.append({
            "no": n,
            "id": task.id,
            "name": task.name,
            "items": items,
            "objects": f"{entry.object_type if entry else task.checklist_entry}；{_scope_text(task)}",
            "ratios": ratios,
            "frequency": f"每年 {task.frequency} 次",
            "window": f"{task.window.start.isoformat()} 至 {task.window.end.isoformat()}",
            "initiating": names.get(task.initiating, task.initiating),
            "cooperating": "、".join(names.get(c, c) for c in task.cooperating) or "—",
            "special": f"是（针对任务 {task.targets}）" if task.special else "否",
        })
    return rows


PLAN_COLUMNS = (
    ("no", "序号"), ("id", "任务编号"), ("name", "任务名称"), ("items", "抽查事项"), ("objects", "检查对象/范围"),
    ("ratios", "抽查比例"), ("frequency", "抽查频次"), ("window", "实施检查时间"), ("initiating", "发起部门"),
    ("cooperating", "配合部门"), ("special", "专项检查"),
)


def publication_facts(plan: Plan, history: list[dict], this: dict) -> list[tuple[str, str]]:
    """第七条 dates as published: the recorded original date (按期/逾期), each amendment, a claim."""
    deadline = publication_deadline(plan.year)
    first = history[0]
    facts = [("公布日期", f"{first['published_on']}（{'按期公布' if first['on_time'] else f'逾期公布，应于 {deadline} 前'}；工具记录）")]
    for p in history[1:]:
        facts.append((f"第 {p['amendment']} 次修订", f"{p['published_on']} 公布（计划版本 {p['version']}）"))
    if this["amendment"]:
        facts.append(("本文件", f"第 {this['amendment']} 次修订后的计划（版本 {this['version']}）"))
    if plan.published_on is not None and plan.published_on.isoformat() != first["published_on"]:
        facts.append(("文件所写公布日期", f"{plan.published_on}（仅为声称，未采信）"))
    return facts


def document_stem(year: int, amendment: int) -> str:
    """plan-YEAR for the publication, plan-YEAR-amendment-N for the Nth amendment: an amendment
    never writes over the documents published before it (第七条)."""
    return f"plan-{year}" if amendment == 0 else f"plan-{year}-amendment-{amendment}"


def write_documents(
    out_dir: Path, plan: Plan, row: Any, checklist: Checklist, names: dict[str, str], history: list[dict], this: dict
) -> None:
    """plan-YEAR.xlsx and plan-YEAR.md (an amendment's: document_stem): the tasks, the 第七条
    shares, and how to read the ratios."""
    stem = document_stem(plan.year, this["amendment"])
    for name in (f"{stem}.xlsx", f"{stem}.md"):
        claim(out_dir / name)  # both refused before either is written
    rows = plan_rows(plan, checklist, names)
    shares = joint_shares(plan, names, {e.initiating for e in checklist.entries})
    headers = [zh for _, zh in PLAN_COLUMNS]
    notes = [
        f"抽查比例按信用风险分类确定（第四条）：{'、'.join(f'{c}类 {n}' for c, n in RISK_NAMES.items())}。",
        "只抽取登记状态为存续、在业的检查对象（第九条）。",
        "抽取家数 = 范围内该类检查对象数 × 抽查比例，除另有注明外向上取整，该类有检查对象时至少抽取 1 家。",
        "各部门牵头的部门联合抽查任务占其牵头抽查任务总数（含联合计划外的单部门任务）的比例应在 10% 以上（第七条）；占比四舍五入到一位小数，是否达到 10% 按精确比值判断。",
    ]
    write_xlsx(out_dir / f"{stem}.xlsx", [
        ("年度计划", headers, ([_cell(r[k], "\n") for k, _ in PLAN_COLUMNS] for r in rows)),
        ("联合抽查占比", ["部门", "牵头抽查任务总数", "其中计划外单部门任务", "牵头联合任务数", "占比", "是否达到 10%"],
         ([s.name or s.department, s.lead_tasks, s.outside_tasks, s.joint_tasks, s.percent or "—", _verdict(s)] for s in shares)),
        ("说明", ["项目", "内容"], [
            ("计划名称", plan.title), ("年度", plan.year), ("计划版本", row.version),
            *publication_facts(plan, history, this),
            ("公布期限（第七条）", publication_deadline(plan.year).isoformat()),
            ("依据联合清单版本", plan.checklist_version), ("来源文件 SHA-256", row.sha256),
            *((f"说明 {i}", note) for i, note in enumerate(notes, start=1)),
        ]),
    ])
    lines = [
        f"# {markdown_text(plan.title)}",
        "",
        f"- 年度：{plan.year}",
        f"- 计划版本：{row.version}（依据联合清单 {markdown_text(plan.checklist_version)}）",
        *(f"- {label}：{markdown_text(str(value))}" for label, value in publication_facts(plan, history, this)),
        f"- 来源文件 SHA-256：`{row.sha256}`",
        "",
        "## 抽查任务",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    for r in rows:
        lines.append("| " + " | ".join(_md(r[k]) for k, _ in PLAN_COLUMNS) + " |")
    lines += [
        "",
        "## 各部门联合抽查任务占比（第七条）",
        "",
        "| 部门 | 牵头抽查任务总数 | 其中计划外单部门任务 | 牵头联合任务数 | 占比 | 是否达到 10% |",
        "|---|---|---|---|---|---|",
    ]
    for s in shares:
        lines.append(f"| {_md(s.name or s.department)} | {s.lead_tasks} | {s.outside_tasks} | {s.joint_tasks} | {s.percent or '—'} | {_verdict(s)} |")
    lines += ["", "## 说明", ""] + [f"{i}. {note}" for i, note in enumerate(notes, start=1)] + [""]
    with replacing(out_dir / f"{stem}.md") as partial:
        partial.write_text("\n".join(lines), encoding="utf-8")


def _verdict(share: Any) -> str:
    """是/否 from the exact fraction (第七条); a 发起部门 leading no task is named, not left blank."""
    if share.ok is None:
        return "发起部门，未牵头任务" if share.no_lead_task else "—"
    return "是" if share.ok else "否"


def _cell(value: Any, sep: str) -> Any:
    return sep.join(value) if isinstance(value, list) else value


def _md(value: Any) -> str:
    """A Markdown table cell: every text escaped (tables.markdown_text), a list's items one per line."""
    items = value if isinstance(value, list) else [value]
    return "<br>".join(markdown_text(item, "<br>") for item in items)
