"""Follow-ups of results with problems (第十四条(三), 第十六条): open → in_progress → closed.

A follow-up is opened by the results themselves, in the transaction that records them: a
result whose category is a problem, or whose measure is not 无需处置, gets one, handed to the
item's department ("谁主管、谁监管") or to the judicial authorities when the measure is
移送司法机关. A corrected result updates an unfinished follow-up, or cancels it when nothing is
left to follow up (it re-opens if the result changes back); a closed one is never touched by a
later import. People move follow-ups on with ``followups update``; every change is kept in
``followup_history`` and the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, text

from shuangsuiji.domain import deadlines
from shuangsuiji.domain import results as rules
from shuangsuiji.domain.audit import utc_now
from shuangsuiji.domain.directory import parse_date
from shuangsuiji.domain.results import FOLLOWUP_STATUSES, JUDICIAL, ResultRecord
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.services import audit

CANCEL_NOTE = "检查结果已更正，无需后续处置"
_TRACKED = ("status", "handed_to", "measure", "categories", "closed_on", "note")


@dataclass
class Change:
    kind: str  # open | reopen | update | cancel
    record: ResultRecord
    existing: dict | None
    values: dict  # the tracked fields to set


@dataclass
class Plan:
    draw_id: str
    changes: list[Change] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {"opened": 0, "reopened": 0, "updated": 0, "cancelled": 0}
        for c in self.changes:
            out[{"open": "opened", "reopen": "reopened", "update": "updated", "cancel": "cancelled"}[c.kind]] += 1
        return out


def plan(conn: Connection, draw_id: str, records: list[ResultRecord]) -> Plan:
    """What the new or changed results do to follow-ups (nothing is written here)."""
    existing = {
        (r.uscc, r.item_id): dict(r._mapping)
        for r in conn.execute(text("SELECT * FROM followup WHERE draw_id = :d"), {"d": draw_id})
    }
    out = Plan(draw_id)
    for record in records:
        current = existing.get((record.uscc, record.item))
        needs = record.needs_followup
        categories = "；".join(record.categories)
        if current is None:
            if needs:
                out.changes.append(Change("open", record, None, {
                    "status": "open", "handed_to": rules.handed_to(record.followup, record.department),
                    "measure": record.followup, "categories": categories, "closed_on": None, "note": None,
                }))
            continue
        if current["status"] == "closed":
            continue  # done is done; a later correction does not reopen it silently
        if current["status"] == "cancelled":
            if needs:
                out.changes.append(Change("reopen", record, current, {
                    "status": "open", "handed_to": rules.handed_to(record.followup, record.department),
                    "measure": record.followup, "categories": categories, "note": None,
                }))
            continue
        if not needs:
            out.changes.append(Change("cancel", record, current, {"status": "cancelled", "note": CANCEL_NOTE}))
            continue
        if record.followup == JUDICIAL:
            handed = JUDICIAL
        elif current["handed_to"] == JUDICIAL:
            handed = record.department
        else:
            handed = current["handed_to"]  # keep a reassignment made by `followups update --handed-to`
        values = {"handed_to": handed, "measure": record.followup, "categories": categories}
        if any(current[k] != v for k, v in values.items()):
            out.changes.append(Change("update", record, current, values))
    return out


def _history(conn: Connection, followup_id: int, diff: list[tuple[str, object, object]], operator: str, seq: int, now: str) -> None:
    for name, old, new in diff:
        conn.execute(
            text(
                "INSERT INTO followup_history (followup_id, field, old_value, new_value, changed_at, operator, audit_seq) "
                "VALUES (:i, :f, :o, :n, :t, :op, :s)"
            ),
            {"i": followup_id, "f": name, "o": old, "n": new, "t": now, "op": operator, "s": seq},
        )


def _set(conn: Connection, current: dict, values: dict, operator: str, seq: int, now: str) -> None:
    diff = [(k, current[k], v) for k, v in values.items() if current[k] != v]
    if not diff:
        return
    assignments = ", ".join(f"{k} = :{k}" for k, _, _ in diff)
    conn.execute(
        text(f"UPDATE followup SET {assignments}, updated_at = :now, operator = :op, audit_seq = :seq WHERE id = :id"),
        {**{k: v for k, _, v in diff}, "now": now, "op": operator, "seq": seq, "id": current["id"]},
    )
    _history(conn, current["id"], diff, operator, seq, now)


def apply(conn: Connection, todo: Plan, *, operator: str, seq: int, now: str) -> None:
    for change in todo.changes:
        if change.kind == "open":
            r = change.record
            new_id = conn.execute(
                text(
                    "INSERT INTO followup (draw_id, uscc, item_id, department, handed_to, measure, categories, status, "
                    "opened_at, updated_at, operator, audit_seq) VALUES (:d, :u, :i, :dep, :h, :m, :c, 'open', :now, :now, "
                    ":op, :seq) RETURNING id"
                ),
                {"d": todo.draw_id, "u": r.uscc, "i": r.item, "dep": r.department, "h": change.values["handed_to"],
                 "m": change.values["measure"], "c": change.values["categories"], "now": now, "op": operator, "seq": seq},
            ).scalar_one()
            _history(conn, new_id, [("status", None, "open"), ("handed_to", None, change.values["handed_to"])], operator, seq, now)
        else:
            _set(conn, change.existing, change.values, operator, seq, now)


# ---------------------------------------------------------------- people moving follow-ups on


def _get(conn: Connection, followup_id: int) -> dict:
    row = conn.execute(text("SELECT * FROM followup WHERE id = :i"), {"i": followup_id}).first()
    if row is None:
        raise UserError(f"没有后续处置记录 {followup_id}（用 followups list 查看）", f"No follow-up {followup_id} (see `followups list`)")
    return dict(row._mapping)


def normalise_handed_to(conn: Connection, value: str) -> str:
    if rules.normalise_measure(value) == JUDICIAL or value.strip().lower() == "judicial":
        return JUDICIAL
    code = value.strip().upper()
    if conn.execute(text("SELECT 1 FROM department WHERE code = :c"), {"c": code}).first() is None:
        raise UserError(f"没有部门 {code}（或填 移送司法机关）", f"No department {code} (or give 移送司法机关)", code=ExitCode.USAGE)
    return code


def update(
    conn: Connection,
    followup_id: int,
    *,
    operator: str,
    status: str | None = None,
    note: str | None = None,
    closed_on: str | None = None,
    handed_to: str | None = None,
    today: date | None = None,
) -> dict:
    """Move a follow-up on: open → in_progress → closed (with the date and a note); re-open with a note."""
    current = _get(conn, followup_id)
    today = today or date.today()
    note = note.strip() if note and note.strip() else None
    values: dict = {}
    new_status = current["status"]
    if status is not None:
        new_status = rules.normalise_status(status)
        if new_status is None or new_status == "cancelled":
            raise UserError("--status 应为 open（待处置）、in_progress（处置中）或 closed（已办结）",
                            "--status must be open (待处置), in_progress (处置中) or closed (已办结)", code=ExitCode.USAGE)
        if new_status != current["status"]:
            if new_status not in rules.TRANSITIONS[current["status"]]:
                raise UserError(
                    f"后续处置 {followup_id} 当前为“{FOLLOWUP_STATUSES[current['status']]}”，不能改为“{FOLLOWUP_STATUSES[new_status]}”",
                    f"follow-up {followup_id} is {current['status']}; it cannot become {new_status}",
                )
            values["status"] = new_status
    if new_status == "closed" and current["status"] != "closed":
        if not note:
            raise UserError("办结须用 --note 说明处置结果", "closing needs a --note saying what was done", code=ExitCode.USAGE)
        when = parse_date(closed_on) if closed_on else today.isoformat()
        if when is None:
            raise UserError(f"无法识别的办结日期 {closed_on}", f"unreadable --closed-on date {closed_on}", code=ExitCode.USAGE)
        inspected = conn.execute(
            text("SELECT inspected_on FROM inspection_result WHERE draw_id = :d AND uscc = :u AND item_id = :i"),
            {"d": current["draw_id"], "u": current["uscc"], "i": current["item_id"]},
        ).scalar()
        if inspected and when < inspected:
            raise UserError(f"办结日期 {when} 早于检查日期 {inspected}", f"--closed-on {when} is before the inspection date {inspected}",
                            code=ExitCode.USAGE)
        if when > today.isoformat():
            raise UserError(f"办结日期 {when} 晚于今天", f"--closed-on {when} is in the future", code=ExitCode.USAGE)
        values["closed_on"] = when
    elif closed_on:
        raise UserError("--closed-on 只用于办结（--status closed）", "--closed-on is only for closing (--status closed)", code=ExitCode.USAGE)
    if current["status"] == "closed" and new_status != "closed":
        if not note:
            raise UserError("重新打开已办结的处置须用 --note 说明理由", "re-opening a closed follow-up needs a --note saying why",
                            code=ExitCode.USAGE)
        values["closed_on"] = None
    if current["status"] == "cancelled" and (note or handed_to):
        raise UserError(f"后续处置 {followup_id} 已撤销（检查结果已更正），不能再修改",
                        f"follow-up {followup_id} was cancelled (its result was corrected); it cannot be changed")
    if handed_to:
        values["handed_to"] = normalise_handed_to(conn, handed_to)
    if note:
        values["note"] = note
    changed = {k: v for k, v in values.items() if current[k] != v}
    if not changed:
        raise UserError(f"后续处置 {followup_id} 没有需要更改的内容", f"nothing to change in follow-up {followup_id}", code=ExitCode.USAGE)
    entry = audit.append(conn, operator, "followups update", {
        "followup": followup_id, "draw": current["draw_id"], "entity": current["uscc"], "item": current["item_id"],
        "changes": {k: {"from": current[k], "to": v} for k, v in changed.items()},
    })
    _set(conn, current, changed, operator, entry.seq, utc_now())
    return {**show(conn, followup_id), "audit_seq": entry.seq}


# ---------------------------------------------------------------- reading

_SELECT = (
    "SELECT f.*, COALESCE(e.name, l.name) AS name, r.inspected_on FROM followup f JOIN draw d ON d.id = f.draw_id "
    "JOIN inspection_result r ON r.draw_id = f.draw_id AND r.uscc = f.uscc AND r.item_id = f.item_id "
    "LEFT JOIN entity e ON e.uscc = f.uscc LEFT JOIN task_list_entity l ON l.task_id = d.task_id AND l.uscc = f.uscc"
)


def _working_days() -> int:
    try:
        return deadlines.configured_days()
    except deadlines.WorkingDaysError as exc:
        raise UserError(f"期限设置有误：{exc}", f"Deadline setting: {exc}") from None


def _out(row: dict, days: int) -> dict:
    """A follow-up as listed; due N working days after the inspection (practice, domain/deadlines.py)."""
    due = deadlines.add_working_days(row["inspected_on"], days)
    unfinished = row["status"] in ("open", "in_progress")
    return {
        "id": row["id"], "draw": row["draw_id"], "uscc": row["uscc"], "name": row["name"], "item": row["item_id"],
        "department": row["department"], "handed_to": row["handed_to"], "measure": row["measure"],
        "categories": row["categories"].split("；") if row["categories"] else [], "status": row["status"],
        "status_label": FOLLOWUP_STATUSES[row["status"]], "closed_on": row["closed_on"], "note": row["note"],
        "opened_at": row["opened_at"], "updated_at": row["updated_at"], "operator": row["operator"], "audit_seq": row["audit_seq"],
        "inspected_on": row["inspected_on"], "due_on": due.on, "due_exact": due.exact,
        "overdue": unfinished and date.today().isoformat() > due.on,
    }


def list_followups(conn: Connection, *, draw_id: str | None = None, status: str | None = None,
                   department: str | None = None) -> list[dict]:
    sql, params, where = _SELECT, {}, []
    if draw_id:
        where.append("f.draw_id = :d")
        params["d"] = draw_id
    if status:
        key = rules.normalise_status(status)
        if key is None:
            raise UserError("--status 应为 open、in_progress、closed 或 cancelled",
                            "--status must be open, in_progress, closed or cancelled", code=ExitCode.USAGE)
        where.append("f.status = :s")
        params["s"] = key
    if department:
        where.append("(f.department = :dep OR f.handed_to = :dep)")
        params["dep"] = department.strip().upper()
    if where:
        sql += " WHERE " + " AND ".join(where)
    days = _working_days()
    return [_out(dict(r._mapping), days) for r in conn.execute(text(sql + " ORDER BY f.id"), params)]


def show(conn: Connection, followup_id: int) -> dict:
    _get(conn, followup_id)
    row = conn.execute(text(_SELECT + " WHERE f.id = :i"), {"i": followup_id}).first()
    out = _out(dict(row._mapping), _working_days())
    out["history"] = [
        dict(r._mapping) for r in conn.execute(
            text("SELECT field, old_value, new_value, changed_at, operator, audit_seq FROM followup_history "
                 "WHERE followup_id = :i ORDER BY id"),
            {"i": followup_id},
        )
    ]
    return out
