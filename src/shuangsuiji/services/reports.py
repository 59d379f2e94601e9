"""Reports (第七条, 第十七条): plan compliance, task progress, problem rates, inspector workload.

Read-only: every report is a JSON-serialisable dict computed from the store, with English keys
that scripts can rely on (docs/reports.md lists them); ``render`` turns one into the bytes of
a file (reports_render.py). The SQL is plain ``text()`` with named parameters and no
dialect-specific function, so the same code runs on SQLite and PostgreSQL; the arithmetic is
done in Python over the rows of one year, which stay small.

Definitions used throughout (docs/reports.md):
- a *result* is one drawn entity × one check item (第十二条: every item at every entity);
- a result *has a problem* when one of its categories is a problem category
  (``domain.results.PROBLEM_CATEGORIES``); a problem rate is results with a problem / results
  recorded, or for risk classes entities with a problem / entities inspected;
- only **locked** draws count; a void draw is listed as a re-draw with its reason, never counted.

Every report carries ``as_of`` (the audit-log head it was computed at), so two reports of the
same store state are byte-identical and a reader can tell which state a report describes.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

from sqlalchemy import Connection, text

from shuangsuiji.errors import ExitCode, UserError

SCHEMA_VERSION = 1

# 第十七条 gives no figure for a 普遍性问题, so the rule is ours and configurable (docs/reports.md):
# an item is suggested for a special check when at least MIN_INSPECTIONS results were recorded
# for it in the year and at least THRESHOLD of them found a problem.
DEFAULT_THRESHOLD = Decimal("0.2")
DEFAULT_MIN_INSPECTIONS = 10

FOLLOWUP_ORDER = ("open", "in_progress", "closed", "cancelled")
STATUS_ORDER = ("done", "in_progress", "not_started")


# ---------------------------------------------------------------- small helpers


def rate(part: int, whole: int) -> float | None:
    """A share as an exact float (rounded once, when shown: domain/numbers.py); None when nothing was counted."""
    return part / whole if whole else None


def parse_threshold(value: str | float | Decimal | None) -> Decimal:
    """``"20%"``, ``"0.2"`` or ``0.2`` → Decimal("0.2"); must be in (0, 1]."""
    if value is None:
        return DEFAULT_THRESHOLD
    raw = str(value).strip()
    try:
        number = Decimal(raw[:-1]) / 100 if raw.endswith("%") else Decimal(raw)
        valid = 0 < number <= 1  # NaN raises here too
    except InvalidOperation:
        valid = False
    if not valid:
        raise UserError(f"--threshold 应为 (0, 1] 内的比例，如 20% 或 0.2，当前为 {raw}",
                        f"--threshold must be a share in (0, 1], e.g. 20% or 0.2; got {raw}", code=ExitCode.USAGE)
    return number.normalize()


def _as_of(conn: Connection) -> dict:
    from shuangsuiji.services import audit

    head = audit.head(conn)
    return {"audit_seq": head.seq if head else 0, "audit_hash": head.hash if head else None}


def _departments(conn: Connection) -> dict[str, str]:
    from shuangsuiji.services.checklists import department_names

    return department_names(conn, required=False)


def _officers(conn: Connection) -> dict[str, tuple[str, str]]:
    return {r[0]: (r[1], r[2]) for r in conn.execute(text("SELECT cert_no, name, department FROM inspector"))}


def _categories(stored: str) -> list[str]:
    return [c for c in stored.split("；") if c]


def _category_order(found: Iterable[str]) -> list[str]:
    from shuangsuiji.domain.results import CATEGORIES

    found = set(found)
    return [c for c in CATEGORIES if c in found] + sorted(found - set(CATEGORIES))


def _current_draw(conn: Connection, task_id: str) -> dict | None:
    """The task's draw that is not void (committed or locked), if any."""
    row = conn.execute(
        text("SELECT id, state, attempt FROM draw WHERE task_id = :t AND state != 'void' ORDER BY attempt DESC"),
        {"t": task_id},
    ).first()
    return dict(row._mapping) if row else None


def _voided(conn: Connection, task_id: str) -> list[dict]:
    from shuangsuiji.services import audit

    rows = conn.execute(
        text("SELECT id, attempt, created_at, locked_at, voided_at, void_reason, operator FROM draw "
             "WHERE task_id = :t AND state = 'void' ORDER BY attempt"),
        {"t": task_id},
    )
    rows = rows.all()
    # Who voided it, and who requested a two-operator void (services/draws.void), from the log.
    logged = {}
    for e in audit.entries(conn, command="draws void"):
        payload = json.loads(e.payload)
        if e.command == "draws void" and any(payload.get("draw") == r.id for r in rows):
            logged[payload["draw"]] = (e.operator, payload.get("requested_by"))
    return [{"task": task_id, "draw": r.id, "attempt": r.attempt, "created_at": r.created_at, "locked_at": r.locked_at,
             "was_locked": r.locked_at is not None, "voided_at": r.voided_at, "reason": r.void_reason,
             "operator": r.operator, "voided_by": logged.get(r.id, (None, None))[0],
             "requested_by": logged.get(r.id, (None, None))[1]} for r in rows]


def _progress(conn: Connection, task_id: str) -> dict:
    """Where a task stands (docs/reports.md): not started = no locked draw; in progress = a
    locked draw whose results are incomplete; done = every drawn entity × item has a result."""
    from shuangsuiji.services import results

    current = _current_draw(conn, task_id)
    out = {"draw": current["id"] if current else None, "draw_state": current["state"] if current else None,
           "voided_draws": len(_voided(conn, task_id)), "entities": None, "results_expected": None,
           "results_recorded": None, "results_missing": None, "status": "not_started"}
    if current and current["state"] == "locked":
        overall = results.status(conn, current["id"])["overall"]
        out.update(entities=overall["entities"], results_expected=overall["results_expected"],
                   results_recorded=overall["results_done"], results_missing=overall["results_missing"],
                   status="done" if overall["results_missing"] == 0 else "in_progress")
    return out


def _status_counts(rows: list[dict]) -> dict[str, int]:
    counts = Counter(r["status"] for r in rows)
    return {s: counts.get(s, 0) for s in STATUS_ORDER}


# ---------------------------------------------------------------- reports task DRAW


def task_report(conn: Connection, draw_id: str) -> dict:
    """One locked draw: drawn / inspected / missing, results by category, item, risk class and
    department, re-draws of the task and officer replacements with their reasons, follow-ups."""
    from shuangsuiji.services import draws, results

    draw = draws._draw_row(conn, draw_id)  # "No draw X" for an unknown id
    if draw["state"] != "locked":
        current = _current_draw(conn, draw["task_id"])
        hint_zh = f"；任务 {draw['task_id']} 当前的抽取为 {current['id']}" if current and current["id"] != draw_id else ""
        hint_en = f"; task {draw['task_id']}'s current draw is {current['id']}" if current and current["id"] != draw_id else ""
        raise UserError(f"{draw_id} 不是锁定状态（{draw['state']}），没有检查结果可报告{hint_zh}",
                        f"{draw_id} is not locked ({draw['state']}): there are no results to report{hint_en}")
    ctx = results.load(conn, draw_id, need_teams=False)
    status = results.status(conn, draw_id)
    names = _departments(conn)
    d = ctx.definition
    rows = [dict(r._mapping) for r in conn.execute(
        text("SELECT uscc, item_id, department, categories, problem FROM inspection_result WHERE draw_id = :d"),
        {"d": draw_id})]
    n_items = len(ctx.items)
    stratum = {e["uscc"]: e["stratum"] for e in ctx.entities}

    per_entity: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        per_entity[r["uscc"]].append(r)
    with_problem = {u for u, rs in per_entity.items() if any(r["problem"] for r in rs)}
    complete = {u for u, rs in per_entity.items() if len(rs) >= n_items}
    problems = sum(1 for r in rows if r["problem"])

    categories = Counter(c for r in rows for c in _categories(r["categories"]))
    by_category = [{"category": c, "results": categories[c], "share": rate(categories[c], len(rows))}
                   for c in _category_order(categories)]

    by_item = []
    for item in ctx.items.values():
        mine = [r for r in rows if r["item_id"] == item["id"]]
        p = sum(1 for r in mine if r["problem"])
        by_item.append({"item": item["id"], "item_name": item["name"], "department": item["department"],
                        "expected": len(ctx.entities), "recorded": len(mine), "missing": len(ctx.entities) - len(mine),
                        "problems": p, "problem_rate": rate(p, len(mine))})

    by_risk_class = []
    for cls in sorted(set(stratum.values())):
        drawn = [u for u, s in stratum.items() if s == cls]
        inspected = [u for u in drawn if u in per_entity]
        bad = [u for u in inspected if u in with_problem]
        by_risk_class.append({"risk_class": cls, "drawn": len(drawn), "inspected": len(inspected),
                              "complete": sum(1 for u in drawn if u in complete), "with_problem": len(bad),
                              "problem_rate": rate(len(bad), len(inspected))})

    by_department = []
    for dep in status["departments"]:
        p = sum(1 for r in rows if r["department"] == dep["department"] and r["problem"])
        by_department.append({"department": dep["department"], "department_name": dep["department_name"],
                              "items": dep["items"], "expected": dep["results_expected"], "recorded": dep["results_done"],
                              "missing": dep["results_missing"], "problems": p, "problem_rate": rate(p, dep["results_done"])})

    redraws = _voided(conn, draw["task_id"])
    replacements = _replacements(conn, draw)
    followups = _followups(conn, draw_id, {e["uscc"]: e["name"] for e in ctx.entities})
    f_counts = Counter(f["status"] for f in followups)
    overall = status["overall"]
    summary = {
        "entities_drawn": len(ctx.entities),
        "entities_inspected": len(per_entity),
        "entities_complete": overall["entities_done"],
        "entities_partial": len(per_entity) - len(complete),
        "entities_not_inspected": len(ctx.entities) - len(per_entity),
        "results_expected": overall["results_expected"],
        "results_recorded": overall["results_done"],
        "results_missing": overall["results_missing"],
        "results_with_problem": problems,
        "problem_rate": rate(problems, len(rows)),
        "entities_with_problem": len(with_problem),
        "entity_problem_rate": rate(len(with_problem), len(per_entity)),
        "status": "done" if overall["results_missing"] == 0 else "in_progress",
        "redraws": len(redraws),
        "replacements": len(replacements),
        "followups_open": f_counts["open"] + f_counts["in_progress"],
        "followups_closed": f_counts["closed"],
        "followups_cancelled": f_counts["cancelled"],
        # Practice, not regulation: due N working days after the inspection (domain/deadlines.py).
        "publication_working_days": status["publication"]["working_days"],
        "published_on_time": status["publication"]["on_time"],
        "published_late": status["publication"]["late"],
        "publication_overdue": status["publication"]["overdue"],
        "publication_pending": status["publication"]["pending"],
        "publication_timeliness": rate(*status["publication"]["timely_share"]),
    }
    return {
        "report": "task",
        "schema_version": SCHEMA_VERSION,
        "as_of": _as_of(conn),
        "draw": draw_id,
        "task": ctx.task["id"],
        "task_name": ctx.task["name"],
        "year": ctx.task["year"],
        "special": d["special"],
        "initiating": d["initiating"],
        "initiating_name": names.get(d["initiating"], d["initiating"]),
        "cooperating": list(d["cooperating"]),
        "window": {"start": d["window"]["start"], "end": d["window"]["end"]},
        "locked_at": draw["locked_at"],
        "summary": summary,
        "by_category": by_category,
        "by_item": by_item,
        "by_risk_class": by_risk_class,
        "by_department": by_department,
        "missing": status["missing"],
        "redraws": redraws,
        "replacements": replacements,
        "followups_by_status": [{"status": s, "count": f_counts.get(s, 0)} for s in FOLLOWUP_ORDER],
        "followups": followups,
    }


def _replacements(conn: Connection, draw: dict) -> list[dict]:
    """第十一条: each recorded replacement with its reason and the successor(s) it brought in,
    found by replaying the replacements one by one on the locked initial teams."""
    from shuangsuiji.domain.teams import REPLACEMENT_REASONS, rebuild_assignment
    from shuangsuiji.services.teams import _as_replacements, _frozen_team_draw, initial_teams, replacements

    recorded = replacements(conn, draw["id"])
    if not recorded:
        return []
    officers = _officers(conn)
    team_draw, entities = _frozen_team_draw(conn, draw)
    before = {t.entity: {m.officer for m in t.members} for t in initial_teams(conn, draw["id"]).teams}
    out = []
    for i, r in enumerate(recorded):
        after_assignment = rebuild_assignment(entities, team_draw, _as_replacements(recorded[: i + 1]))
        after = {t.entity: {m.officer for m in t.members} for t in after_assignment.teams}
        successors = sorted({o for e, members in after.items() for o in members - before.get(e, set())})
        name, dept = officers.get(r["cert_no"], ("", ""))
        out.append({
            "seq": r["seq"], "officer": r["cert_no"], "officer_name": name, "department": dept,
            "reason": r["reason"], "reason_name": REPLACEMENT_REASONS.get(r["reason"], r["reason"]), "note": r["note"],
            "entity": r["entity"], "successors": successors,
            "successor_names": [officers.get(s, ("", ""))[0] for s in successors],
            "replaced_at": r["replaced_at"], "operator": r["operator"],
        })
        before = after
    return out


def _followups(conn: Connection, draw_id: str, names: dict[str, str]) -> list[dict]:
    rows = conn.execute(
        text("SELECT id, uscc, item_id, department, handed_to, measure, status, closed_on, opened_at FROM followup "
             "WHERE draw_id = :d ORDER BY id"),
        {"d": draw_id},
    )
    return [{"id": r.id, "uscc": r.uscc, "name": names.get(r.uscc), "item": r.item_id, "department": r.department,
             "handed_to": r.handed_to, "measure": r.measure, "status": r.status, "closed_on": r.closed_on,
             "opened_at": r.opened_at} for r in rows]


# ---------------------------------------------------------------- reports plan YEAR


def _plan_row(conn: Connection, year: int):
    """The year's latest published plan version, else its latest draft (UserError if none)."""
    from shuangsuiji.services import plans

    row = conn.execute(
        text("SELECT version FROM plan WHERE year = :y AND published_at IS NOT NULL ORDER BY version DESC"), {"y": year}
    ).first()
    return plans.get_plan(conn, year, row.version if row else None)


def _year_tasks(conn: Connection, year: int) -> list[dict]:
    rows = conn.execute(text("SELECT id, name, plan_task, definition FROM task WHERE year = :y ORDER BY id"), {"y": year})
    return [{"id": r.id, "name": r.name, "plan_task": r.plan_task, "definition": json.loads(r.definition)} for r in rows]


def plan_report(conn: Connection, year: int, today: date | None = None) -> dict:
    """第七条 compliance of the year's plan (``plans check``: published by 31 March, each
    department's joint tasks ≥ 10 % of the tasks it leads) and the progress of its tasks."""
    from shuangsuiji.domain.plan import joint_shares, publication_deadline
    from shuangsuiji.services import plans
    from shuangsuiji.domain.task import plan_task_of

    today = today or date.today()
    row = _plan_row(conn, year)
    checked = plans.check_stored(conn, year, row.version, today)
    report = checked.pop("_report")
    content = json.loads(row.content)
    deadline = publication_deadline(year)
    # 第七条: the publication date is the one `plans publish` recorded for the year's first
    # published version (never the file's published_on); later published versions are amendments.
    history = plans.publications(conn, year)
    if history:
        published_on = history[0]["published_on"]
        timeliness = "on_time" if history[0]["on_time"] else "late"
    else:
        published_on = None
        timeliness = "overdue" if today > deadline else "not_yet"
    names = _departments(conn)

    tasks = _year_tasks(conn, year)
    # 第七条 for the tasks actually created this year (plan and ad hoc), by the same rule as the plan.
    created = SimpleNamespace(tasks=[plan_task_of(t["definition"]) for t in tasks])
    # The single-department tasks led outside the joint plan come from the plan (第七条's denominator).
    outside = content.get("single_department_tasks") or {}
    shares_tasks = [s.to_json() for s in joint_shares(created, names, outside=outside)]

    progress = []
    for t in tasks:
        d = t["definition"]
        progress.append({"task": t["id"], "name": t["name"], "plan_task": t["plan_task"], "created": True,
                         "special": d["special"], "initiating": d["initiating"], "cooperating": list(d["cooperating"]),
                         "window_start": d["window"]["start"], "window_end": d["window"]["end"], **_progress(conn, t["id"])})
    made = {t["plan_task"] for t in tasks if t["plan_task"]}
    plan_task_ids = [pt["id"] for pt in content["tasks"]]
    from_this_plan = conn.execute(text("SELECT COUNT(*) FROM task WHERE plan_id = :p"), {"p": row.id}).scalar_one()
    for pt in content["tasks"]:
        if pt["id"] in made:
            continue
        progress.append({"task": None, "name": pt["name"], "plan_task": pt["id"], "created": False,
                         "special": pt.get("special", False), "initiating": pt["initiating"],
                         "cooperating": list(pt.get("cooperating") or []), "window_start": pt["window"]["start"],
                         "window_end": pt["window"]["end"], "draw": None, "draw_state": None, "voided_draws": 0,
                         "entities": None, "results_expected": None, "results_recorded": None, "results_missing": None,
                         "status": "not_started"})
    counts = _status_counts(progress)
    summary = {
        "plan_version": row.version,
        "plan_status": "published" if row.published_at else "draft",
        "published_on": published_on,
        "amendments": len(history[1:]),
        "deadline": deadline.isoformat(),
        "timeliness": timeliness,
        "plan_ok": report.ok,
        "problems": len(report.problems),
        "warnings": len(report.warnings),
        "departments_below_10_percent": sum(1 for s in report.ratios if s.ok is False),
        "plan_tasks": len(plan_task_ids),
        "plan_tasks_not_created": sum(1 for p in progress if not p["created"]),
        "tasks_created": len(tasks),
        "tasks_from_this_plan_version": from_this_plan,
        "tasks_total": len(progress),
        **{f"tasks_{s}": counts[s] for s in STATUS_ORDER},
        "completion_rate": rate(counts["done"], len(progress)),
    }
    return {
        "report": "plan",
        "schema_version": SCHEMA_VERSION,
        "as_of": _as_of(conn),
        # The date only matters while the plan is unpublished (31 March passed or not).
        "judged_on": None if row.published_at else today.isoformat(),
        "year": year,
        "title": content["title"],
        "plan_version": row.version,
        "checklist_version": row.checklist_version,
        "summary": summary,
        "publications": history,
        "joint_share_plan": [s.to_json() for s in report.ratios],
        "joint_share_tasks": shares_tasks,
        "problems": [_problem(p) for p in report.problems],
        "warnings": [_problem(p) for p in report.warnings],
        "progress": progress,
    }


def _problem(p) -> dict:
    return {"field": p.field, "row": p.row, "value": p.value, "message": p.en, "message_zh": p.zh}


# ---------------------------------------------------------------- reports year YEAR


def year_report(conn: Connection, year: int, threshold: str | float | Decimal | None = None,
                min_inspections: int | None = None) -> dict:
    """The year across its tasks' locked draws: problem rates by item, risk class and
    department, inspector workload, entities drawn more than once, and the items whose problem
    rate suggests a special check (第十七条; rule in DEFAULT_THRESHOLD / DEFAULT_MIN_INSPECTIONS)."""
    from shuangsuiji.services import draws

    limit = parse_threshold(threshold)
    minimum = DEFAULT_MIN_INSPECTIONS if min_inspections is None else min_inspections
    if minimum < 1:
        raise UserError("--min-inspections 应至少为 1", "--min-inspections must be at least 1", code=ExitCode.USAGE)
    tasks = _year_tasks(conn, year)
    if not tasks:
        raise UserError(f"{year} 年度没有任何抽查任务（用 shuangsuiji tasks list 查看）",
                        f"No task in {year} (see `shuangsuiji tasks list`)")
    by_task = {t["id"]: t for t in tasks}
    names = _departments(conn)
    officers = _officers(conn)
    params = {"y": year}
    locked = [dict(r._mapping) for r in conn.execute(text(
        "SELECT d.id, d.task_id FROM draw d JOIN task t ON t.id = d.task_id "
        "WHERE t.year = :y AND d.state = 'locked' ORDER BY d.task_id, d.attempt"), params)]
    results = [dict(r._mapping) for r in conn.execute(text(
        "SELECT r.draw_id, r.uscc, r.item_id, r.department, r.problem FROM inspection_result r "
        "JOIN draw d ON d.id = r.draw_id JOIN task t ON t.id = d.task_id "
        "WHERE t.year = :y AND d.state = 'locked' ORDER BY r.draw_id, r.uscc, r.item_id"), params)]

    selections = {d["id"]: draws.selection(conn, d["id"]) for d in locked}
    entity_names = {e["uscc"]: e["name"] for sel in selections.values() for e in sel}
    task_of = {d["id"]: d["task_id"] for d in locked}

    # Items: every item of a task with a locked draw, in task order.
    items: dict[str, dict] = {}
    for d in locked:
        drawn = len(selections[d["id"]])
        for item in by_task[d["task_id"]]["definition"]["items"]:
            row = items.setdefault(item["id"], {"item": item["id"], "item_name": item["name"], "department": item["department"],
                                                "tasks": set(), "expected": 0, "recorded": 0, "problems": 0})
            row["tasks"].add(d["task_id"])
            row["expected"] += drawn
    for r in results:
        row = items.get(r["item_id"])
        if row is not None:
            row["recorded"] += 1
            row["problems"] += r["problem"]
    special_tasks = defaultdict(list)  # item → the year's special checks (第十七条) that cover it
    for t in tasks:
        if t["definition"]["special"]:
            for item in t["definition"]["items"]:
                special_tasks[item["id"]].append(t["id"])
    by_item, suggestions = [], []
    for row in items.values():
        row["tasks"] = len(row["tasks"])
        row["problem_rate"] = rate(row["problems"], row["recorded"])
        # Exact comparison: problems / recorded ≥ threshold, without float rounding.
        row["suggest_special"] = row["recorded"] >= minimum and Decimal(row["problems"]) >= limit * row["recorded"]
        by_item.append(row)
        if row["suggest_special"]:
            suggestions.append({"item": row["item"], "item_name": row["item_name"], "department": row["department"],
                                "inspections": row["recorded"], "problems": row["problems"], "problem_rate": row["problem_rate"],
                                "special_tasks": special_tasks.get(row["item"], [])})

    # Risk classes (the stratum the entity was drawn in): an inspection is one entity of one draw.
    per_visit: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in results:
        per_visit[(r["draw_id"], r["uscc"])].append(r["problem"])
    classes: dict[str, dict] = {}
    for draw_id, sel in selections.items():
        for e in sel:
            row = classes.setdefault(e["stratum"], {"risk_class": e["stratum"], "drawn": 0, "inspected": 0, "with_problem": 0})
            row["drawn"] += 1
            found = per_visit.get((draw_id, e["uscc"]))
            if found:
                row["inspected"] += 1
                row["with_problem"] += 1 if any(found) else 0
    by_risk_class = [{**row, "problem_rate": rate(row["with_problem"], row["inspected"])}
                     for _, row in sorted(classes.items())]

    deps: dict[str, dict] = {}
    for row in items.values():
        dep = deps.setdefault(row["department"], {"department": row["department"],
                                                  "department_name": names.get(row["department"], row["department"]),
                                                  "expected": 0, "recorded": 0, "problems": 0})
        for k in ("expected", "recorded", "problems"):
            dep[k] += row[k]
    by_department = [{**dep, "missing": dep["expected"] - dep["recorded"], "problem_rate": rate(dep["problems"], dep["recorded"])}
                     for _, dep in sorted(deps.items())]

    workload_officers, workload_departments = _workload(conn, locked, officers, names)

    seen: dict[str, list[str]] = defaultdict(list)
    for d in locked:
        for e in selections[d["id"]]:
            seen[e["uscc"]].append(d["id"])
    repeated = [{"uscc": u, "name": entity_names.get(u), "times_drawn": len(ds),
                 "times_inspected": sum(1 for d in ds if (d, u) in per_visit),
                 "draws": ds, "tasks": [task_of[d] for d in ds]}
                for u, ds in sorted(seen.items(), key=lambda kv: (-len(kv[1]), kv[0])) if len(ds) > 1]

    progress = [{"task": t["id"], "name": t["name"], "special": t["definition"]["special"], **_progress(conn, t["id"])}
                for t in tasks]
    counts = _status_counts(progress)
    problems = sum(r["problem"] for r in results)
    summary = {
        "tasks": len(tasks),
        **{f"tasks_{s}": counts[s] for s in STATUS_ORDER},
        "locked_draws": len(locked),
        "entities_drawn": sum(len(s) for s in selections.values()),
        "entities_inspected": len(per_visit),
        "results_recorded": len(results),
        "results_with_problem": problems,
        "problem_rate": rate(problems, len(results)),
        "officers": len(workload_officers),
        "entities_drawn_more_than_once": len(repeated),
        "special_check_suggestions": len(suggestions),
    }
    return {
        "report": "year",
        "schema_version": SCHEMA_VERSION,
        "as_of": _as_of(conn),
        "year": year,
        "rule": {"threshold": float(limit), "min_inspections": minimum},
        "summary": summary,
        "progress": progress,
        "by_item": by_item,
        "by_risk_class": by_risk_class,
        "by_department": by_department,
        "workload_officers": workload_officers,
        "workload_departments": workload_departments,
        "repeat_entities": repeated,
        "special_checks": suggestions,
        "voids": [v for t in tasks for v in _voided(conn, t["id"])],  # every void of the year, with its reason
    }


def _workload(conn: Connection, locked: list[dict], officers: dict, names: dict) -> tuple[list[dict], list[dict]]:
    """Teams per officer over the year's locked draws, after replacements (who actually goes)."""
    from shuangsuiji.services.teams import final_teams

    per: dict[str, dict] = {}
    for d in locked:
        teams = final_teams(conn, d["id"])
        for team in teams.teams if teams else ():
            for i, m in enumerate(team.members):
                name = officers.get(m.officer, ("", ""))[0]
                row = per.setdefault(m.officer, {"officer": m.officer, "name": name, "department": m.department,
                                                 "visits": 0, "as_leader": 0, "draws": set(), "tasks": set()})
                row["visits"] += 1
                row["as_leader"] += 1 if i == 0 else 0
                row["draws"].add(d["id"])
                row["tasks"].add(d["task_id"])
    rows = []
    for row in sorted(per.values(), key=lambda r: (r["department"], -r["visits"], r["officer"])):
        rows.append({**row, "draws": len(row["draws"]), "tasks": len(row["tasks"])})
    deps: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        deps[row["department"]].append(row)
    dep_rows = []
    for code, mine in sorted(deps.items()):
        visits = [r["visits"] for r in mine]
        dep_rows.append({"department": code, "department_name": names.get(code, code), "officers": len(mine),
                         "visits": sum(visits), "as_leader": sum(r["as_leader"] for r in mine),
                         "mean_per_officer": round(sum(visits) / len(mine), 2), "max_per_officer": max(visits),
                         "min_per_officer": min(visits)})
    return rows, dep_rows


# ---------------------------------------------------------------- output


def render(data: dict, fmt: str) -> bytes:
    """A report as the bytes of a ``json``, ``csv``, ``xlsx`` or ``html`` file (reports_render.py)."""
    from shuangsuiji import reports_render

    return reports_render.render(data, fmt)
