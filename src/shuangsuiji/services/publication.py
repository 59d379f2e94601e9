"""Publication 公示 (第十五条 "谁检查、谁录入、谁公开"): one department's publishable results.

Each department publishes only the results of its own check items, in the fields of the
national enterprise credit publicity system (国家企业信用信息公示系统; docs/results.md "Publication"). Left out, and
counted in the summary: results marked not for publication (by reason), and entities whose
results for the department are not all recorded (第十二条: one inspection covers every item,
so half an inspection is not published). Each export is recorded in ``publication`` and the
audit log with the SHA-256 of the file as written.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import Connection, text

from shuangsuiji.domain.audit import canonical_json, utc_now
from shuangsuiji.errors import UserError
from shuangsuiji.services import audit
from shuangsuiji.services import results as results_service

# (key, Chinese header as in the publicity system, English) — file column order.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("uscc", "统一社会信用代码", "unified social credit code"),
    ("name", "企业名称", "name"),
    ("task_id", "抽查任务编号", "task id"),
    ("task_name", "抽查任务名称", "task name"),
    ("check_type", "抽查类型", "check type"),
    ("authority", "抽查机关", "inspecting authority"),
    ("completed_on", "抽查完成日期", "completed on"),
    ("item", "检查事项", "check item"),
    ("result", "抽查结果", "result"),
)

JOINT = "部门联合抽查"
SINGLE = "部门抽查"


def prepare(conn: Connection, draw_id: str, department: str) -> dict:
    """The rows to publish and what was left out; nothing is written."""
    ctx = results_service.load(conn, draw_id, need_teams=False)
    department = results_service.check_department(ctx, department)
    items = ctx.department_items(department)
    authority = conn.execute(text("SELECT name FROM department WHERE code = :c"), {"c": department}).scalar() or department
    recorded = {
        (r.uscc, r.item_id): r._mapping
        for r in conn.execute(
            text("SELECT * FROM inspection_result WHERE draw_id = :d AND department = :dep"), {"d": draw_id, "dep": department}
        )
    }
    check_type = JOINT if ctx.definition["cooperating"] else SINGLE
    rows, withheld, incomplete = [], Counter(), []
    for entity in ctx.entities:
        mine = [recorded.get((entity["uscc"], i["id"])) for i in items]
        if any(r is None for r in mine):
            incomplete.append({"uscc": entity["uscc"], "name": entity["name"],
                               "missing": [i["id"] for i, r in zip(items, mine) if r is None]})
            continue
        completed_on = max(r["inspected_on"] for r in mine)  # the day this department's check of it ended
        for item, r in zip(items, mine):
            if not r["publish"]:
                withheld[r["no_publish_reason"] or ""] += 1
                continue
            rows.append({
                "uscc": entity["uscc"], "name": entity["name"], "task_id": ctx.task["id"], "task_name": ctx.task["name"],
                "check_type": check_type, "authority": authority, "completed_on": completed_on,
                "item": item["name"], "result": r["categories"],
            })
    return {
        "draw": draw_id, "task": ctx.task["id"], "department": department, "authority": authority,
        "rows": rows,
        "summary": {
            "published": len(rows),
            "withheld": sum(withheld.values()),
            "withheld_by_reason": dict(sorted(withheld.items())),
            "incomplete_entities": len(incomplete),
            "incomplete": incomplete,
        },
    }


def record(conn: Connection, prepared: dict, *, file: str, fmt: str, sha256: str, operator: str) -> dict:
    """Record one written publication file: the ``publication`` row and its audit entry."""
    summary = {k: v for k, v in prepared["summary"].items() if k != "incomplete"}
    summary["incomplete"] = [e["uscc"] for e in prepared["summary"]["incomplete"]]
    entry = audit.append(conn, operator, "publish", {
        "draw": prepared["draw"], "task": prepared["task"], "department": prepared["department"], "file": file,
        "format": fmt, "sha256": sha256, "rows": len(prepared["rows"]), **summary,
    })
    now = utc_now()
    publication_id = conn.execute(
        text(
            "INSERT INTO publication (draw_id, department, file, format, sha256, row_count, summary, published_at, operator, "
            "audit_seq) VALUES (:d, :dep, :f, :fmt, :sha, :n, :s, :t, :op, :seq) RETURNING id"
        ),
        {"d": prepared["draw"], "dep": prepared["department"], "f": file, "fmt": fmt, "sha": sha256,
         "n": len(prepared["rows"]), "s": canonical_json(summary), "t": now, "op": operator, "seq": entry.seq},
    ).scalar_one()
    return {"publication": publication_id, "published_at": now, "audit_seq": entry.seq}


def list_publications(conn: Connection, draw_id: str | None = None) -> list[dict]:
    sql = "SELECT * FROM publication"
    params = {}
    if draw_id:
        sql += " WHERE draw_id = :d"
        params["d"] = draw_id
    out = []
    for r in conn.execute(text(sql + " ORDER BY id"), params):
        row = dict(r._mapping)
        row["summary"] = json.loads(row["summary"])
        out.append(row)
    return out


def nothing_to_publish(prepared: dict) -> UserError:
    s = prepared["summary"]
    return UserError(
        f"{prepared['draw']} 中没有 {prepared['department']} 可公示的结果（不公示 {s['withheld']} 条，结果不全的检查对象 {s['incomplete_entities']} 个）",
        f"{prepared['draw']} has no publishable results of {prepared['department']} "
        f"(withheld {s['withheld']}, entities with missing results {s['incomplete_entities']})",
    )


def write_file(path: Path, fmt: str, prepared: dict) -> None:
    """The publication file (xlsx, csv or json) of a ``prepare`` result: `publish` and the archive
    write it with this one function, so an archived copy is the published file."""
    from shuangsuiji import table_writer

    try:
        if fmt == "json":
            body = {
                "draw": prepared["draw"], "task": prepared["task"], "department": prepared["department"],
                "authority": prepared["authority"], "fields": {k: zh for k, zh, _ in FIELDS}, "rows": prepared["rows"],
            }
            path.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        else:
            table_writer.write_to(path, prepared["rows"], FIELDS, title=f"{prepared['department']} 抽查结果公示")
    except OSError as exc:
        raise UserError(f"无法写入 {path}：{exc.strerror}", f"Cannot write {path}: {exc.strerror}") from None
