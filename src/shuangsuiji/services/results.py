"""Inspection results of a locked draw (第十二条 to 第十四条): templates, imports, status.

Every result is keyed on (draw, entity, check item). ``results import`` checks every row of
the file first (domain/results.py) and writes nothing when any row is wrong; otherwise the rows
are upserted in one transaction with the history of every changed field, the follow-ups the
results call for (services/followups.py) and one audit entry carrying the file's SHA-256.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from shuangsuiji.domain import results as rules
from shuangsuiji.domain.audit import canonical_json, utc_now
from shuangsuiji.domain.bundle import sha256_text
from shuangsuiji.domain.results import ResultRecord, RowCheck, Scope
from shuangsuiji.errors import Problem, UserError
from shuangsuiji import table_writer
from shuangsuiji.services import audit, draws, followups, tasks
from shuangsuiji.services.teams import final_teams, team_problems
from shuangsuiji.table_reader import EmptyTable, Table, check_zip, header_key, map_columns, read_limited, read_table, row_fields

# ---------------------------------------------------------------- what a draw's results are checked against


@dataclass
class DrawContext:
    draw: dict
    task: dict
    entities: list[dict]  # the locked list in draw order: uscc, name, address, stratum…
    items: dict[str, dict]  # item id → the task's item, in the task's order
    teams: dict  # uscc → domain.teams.Team (after replacements)

    @property
    def draw_id(self) -> str:
        return self.draw["id"]

    @property
    def definition(self) -> dict:
        return self.task["definition"]

    @property
    def window(self) -> tuple[str, str]:
        return self.definition["window"]["start"], self.definition["window"]["end"]

    def scope(self, department: str | None = None) -> Scope:
        """What rows are checked against; today's date (local) bounds the inspection date."""
        from datetime import date

        return Scope(self.draw_id, {e["uscc"]: e["name"] for e in self.entities}, self.items, self.window, department,
                     date.today().isoformat())

    def department_items(self, department: str) -> list[dict]:
        return [i for i in self.items.values() if i["department"] == department]

    def departments(self) -> list[str]:
        """Executing departments with items, initiating first (第八条)."""
        order = [self.definition["initiating"], *self.definition["cooperating"]]
        have = {i["department"] for i in self.items.values()}
        return [d for d in order if d in have] + sorted(have - set(order))


def load(conn: Connection, draw_id: str, *, need_teams: bool = True) -> DrawContext:
    """A locked draw with its task, list and teams; results need officers drawn (第十条)."""
    draw = draws._locked(conn, draw_id)
    task = tasks.get_task(conn, draw["task_id"])
    teams = final_teams(conn, draw_id)
    if need_teams and teams is None:
        raise UserError(
            f"{draw_id} 尚未抽取执法人员：先运行 shuangsuiji draws inspectors {draw_id}（第十条）",
            f"{draw_id} has no officers yet: run `shuangsuiji draws inspectors {draw_id}` first (第十条)",
        )
    items = {i["id"]: i for i in task["definition"]["items"]}
    return DrawContext(draw, task, draws.selection(conn, draw_id), items, {t.entity: t for t in teams.teams} if teams else {})


def check_department(ctx: DrawContext, department: str) -> str:
    department = department.strip().upper()
    executing = [ctx.definition["initiating"], *ctx.definition["cooperating"]]
    if department not in executing:
        raise UserError(
            f"部门 {department} 不是任务 {ctx.task['id']} 的执行部门（{'、'.join(executing)}）",
            f"Department {department} does not execute task {ctx.task['id']} ({', '.join(executing)})",
        )
    if not ctx.department_items(department):
        raise UserError(f"任务 {ctx.task['id']} 中没有部门 {department} 的检查事项",
                        f"Task {ctx.task['id']} has no check items of department {department}")
    return department


# ---------------------------------------------------------------- template


def template(conn: Connection, draw_id: str, department: str) -> dict:
    """The rows of a department's results template: each drawn entity × each of its items."""
    ctx = load(conn, draw_id)
    department = check_department(ctx, department)
    items = ctx.department_items(department)
    names = dict(conn.execute(text("SELECT cert_no, name FROM inspector")).all())
    dept_name = conn.execute(text("SELECT name FROM department WHERE code = :c"), {"c": department}).scalar()
    rows = []
    for entity in ctx.entities:
        team = ctx.teams.get(entity["uscc"])
        members = "、".join(f"{names.get(m.officer, '')}（{m.officer}）" for m in team.members) if team else ""
        for item in items:
            rows.append({
                "no": len(rows) + 1, "uscc": entity["uscc"], "name": entity["name"] or "", "address": entity["address"] or "",
                "item": item["id"], "item_name": item["name"], "team": members,
                "key": rules.make_key(draw_id, entity["uscc"], item["id"]),
            })
    return {
        "draw": draw_id, "task": ctx.task["id"], "task_name": ctx.task["name"], "department": department,
        "department_name": dept_name or department, "window": ctx.window, "items": items, "rows": rows,
        "team_problems": team_problems(conn, draw_id),
    }


def write_template(data: dict, path: Path) -> None:
    """The XLSX a department fills in: pre-filled grey columns, drop-downs, a hidden row key.

    The category list is long, so it lives on a hidden sheet (选项) and the drop-down refers
    to its range; so do each item's methods. Several categories can be typed separated by
    ；, so the category drop-down only warns about a value not in the list.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    ws = book.active
    ws.title = table_writer.sheet_title(data["department"])
    lists = book.create_sheet("选项")
    lists.sheet_state = "hidden"
    columns = list(rules.PREFILLED + rules.INPUT + (rules.KEY,))
    col = {name: i for i, (name, _) in enumerate(columns, start=1)}
    letter = {name: get_column_letter(i) for name, i in col.items()}
    n = len(data["rows"])
    last = n + 1

    ws.append(table_writer.xlsx_row(zh for _, zh in columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    grey = PatternFill("solid", fgColor="D9D9D9")
    for row in data["rows"]:
        ws.append(table_writer.xlsx_row([row.get(name, "") for name, _ in rules.PREFILLED] + [None] * len(rules.INPUT) + [row["key"]]))
    for r in range(1, last + 1):
        for name, _ in rules.PREFILLED:
            ws.cell(r, col[name]).fill = grey
    for r in range(2, last + 1):
        ws.cell(r, col["date"]).number_format = "yyyy-mm-dd"
    ws.cell(1, col["result"]).comment = Comment("从下拉列表选择；多个结果用“；”分隔", "shuangsuiji")
    ws.cell(1, col["key"]).comment = Comment("行键：导入时据此对应检查对象和检查事项，请勿修改", "shuangsuiji")

    # The hidden lists: A categories, B… each item's methods.
    lists.append(["检查结果分类"] + [item["id"] for item in data["items"]])
    methods = [list(item.get("methods") or []) for item in data["items"]]
    for i in range(max([len(rules.CATEGORIES)] + [len(m) for m in methods])):
        lists.append(table_writer.xlsx_row([rules.CATEGORIES[i] if i < len(rules.CATEGORIES) else None] + [m[i] if i < len(m) else None for m in methods]))
    sheet = quote_sheetname(lists.title)

    def validation(formula: str, *, warn: bool = False, prompt: str | None = None) -> DataValidation:
        dv = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False)
        dv.error = "请从下拉列表中选择" if not warn else "不在标准列表中：确认无误（多个用“；”分隔）再保留"
        dv.errorStyle = "warning" if warn else "stop"
        dv.showErrorMessage = True
        if prompt:
            dv.prompt, dv.showInputMessage = prompt, True
        ws.add_data_validation(dv)
        return dv

    def rng(name: str) -> str:
        return f"{letter[name]}2:{letter[name]}{last}"

    if n:
        validation(f"{sheet}!$A$2:$A${len(rules.CATEGORIES) + 1}", warn=True,
                   prompt="标准检查结果分类；多个用“；”分隔").add(rng("result"))
        for j, item in enumerate(data["items"]):
            rows = [i for i, row in enumerate(data["rows"], start=2) if row["item"] == item["id"]]
            if not rows or not methods[j]:
                continue
            c = get_column_letter(j + 2)
            dv = validation(f"{sheet}!${c}$2:${c}${len(methods[j]) + 1}", warn=True,
                            prompt="本事项的检查方式；多个用“；”分隔")
            for r in rows:
                dv.add(f"{letter['method']}{r}")
        validation('"' + ",".join(rules.SIGNATURES) + '"').add(rng("signature"))
        validation('"' + ",".join(rules.MEASURES) + '"').add(rng("followup"))
        validation('"是,否"').add(rng("publish"))
        start, end = data["window"]
        dates = DataValidation(type="date", operator="between", allow_blank=True,
                               formula1=_excel_date(start), formula2=_excel_date(end))
        dates.error, dates.showErrorMessage = f"检查日期须在任务实施期间 {start} 至 {end} 内", True
        ws.add_data_validation(dates)
        dates.add(rng("date"))

    widths = {"no": 6, "uscc": 22, "name": 28, "address": 28, "item": 12, "item_name": 36, "team": 36, "result": 30,
              "method": 14, "date": 12, "signature": 10, "reason": 18, "witness": 12, "followup": 14, "publish": 9,
              "no_publish_reason": 18, "note": 24, "split_reason": 18, "key": 10}
    for name, width in widths.items():
        ws.column_dimensions[letter[name]].width = width
    ws.column_dimensions[letter["key"]].hidden = True
    ws.freeze_panes = ws.cell(2, col["result"])
    lists.column_dimensions["A"].width = 36
    book.properties.title = table_writer.xml_text(f"{data['draw']} {data['department']} 检查结果")
    table_writer.save_book(book, path)


def _excel_date(iso: str) -> str:
    """An Excel date serial (days since 1899-12-30), as a date validation's bounds are stored."""
    from datetime import date

    return str((date.fromisoformat(iso) - date(1899, 12, 30)).days)


# ---------------------------------------------------------------- reading a filled-in file


def read_tables(path: Path, encoding: str | None = None) -> list[Table]:
    """The tables of a results file: a CSV, or every visible sheet of an XLSX that has result columns."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return [read_table(path, encoding=encoding)]
    from openpyxl import load_workbook

    data = read_limited(path)
    check_zip(data, str(path))  # a decompression bomb is refused before openpyxl inflates anything
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged file raises many types
        raise UserError(f"{path}：无法作为 XLSX 打开（{exc}）", f"{path}: cannot open as XLSX ({exc})") from None
    sheets = [ws.title for ws in book.worksheets if ws.sheet_state == "visible"]
    book.close()
    del data
    out = []
    for name in sheets:
        try:
            table = read_table(path, sheet=name)
        except EmptyTable:
            continue
        if not any(header_key(h) in _IMPORT_KEYS for h in table.headers):
            continue  # a sheet of notes, not of results
        table.file = f"{path}[{name}]"
        out.append(table)
    if not out:
        raise UserError(f"{path}：没有含检查结果列的工作表", f"{path}: no sheet has results columns")
    return out


_IMPORT_KEYS = {header_key(h): f for h, f in rules.IMPORT_HEADERS.items()}


def parse_file(ctx: DrawContext, path: Path, department: str | None, encoding: str | None,
               stored: dict[tuple[str, str], str] | None = None) -> tuple[list[ResultRecord], dict]:
    """Every row checked; UserError listing every problem (sheet, row, column) if any.
    ``stored``: (entity, item) → inspection date of the results already in the store."""
    tables = read_tables(path, encoding)
    scope = ctx.scope(department)
    records: list[ResultRecord] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    where: list[tuple[str, int, dict]] = []  # per record: file, row, column labels
    blank = 0
    for table in tables:
        columns = map_columns(table, _IMPORT_KEYS, rules.IMPORT_REQUIRED)
        has_key = "key" in columns.index
        if not has_key and not {"uscc", "item"} <= columns.index.keys():
            raise UserError(
                f"{table.file}：缺少“统一社会信用代码”和“检查事项编号”列（或模板的行键列）",
                f"{table.file}: needs the columns 统一社会信用代码 and 检查事项编号 (or the template's row key)",
            )
        labels = {f: table.headers[i].strip() for f, i in columns.index.items()}
        for number, values in table.rows:
            fields, _ = row_fields(values, columns)
            if rules.is_blank(fields):
                blank += 1
                continue
            at = RowCheck(table.file, number, labels)
            record = rules.check_row(fields, scope, at)
            problems += at.problems
            if record is None:
                continue
            first = seen.get((record.uscc, record.item))
            if first is not None:
                problems.append(Problem(
                    f"同一检查对象和事项出现两次（先见于 {first[0]} 第 {first[1]} 行）",
                    f"the same entity and item appear twice (first at {first[0]} row {first[1]})",
                    file=table.file, row=number, field=labels.get("uscc") or labels.get("key"), value=f"{record.uscc} {record.item}",
                ))
                continue
            seen[(record.uscc, record.item)] = (table.file, number)
            records.append(record)
            where.append((table.file, number, labels))
    if not problems:
        for i, visit in rules.split_visits(records, stored or {}):
            file, number, labels = where[i]
            problems.append(_split_problem(records[i], visit, file, number, labels.get("date", "检查日期"),
                                           labels.get("split_reason", "分次检查理由")))
    if problems:
        raise UserError(
            f"{path}：{len(problems)} 处问题，未写入任何数据（改正后重新导入）",
            f"{path}: {len(problems)} problem(s); nothing was written (fix them and import again)",
            problems=problems,
        )
    return records, {"sha256": tables[0].sha256, "sheets": [t.file for t in tables], "blank": blank}


# ---------------------------------------------------------------- writing


def _split_problem(record: ResultRecord, visit: str, file: str | None, row: int | None, label: str,
                   reason: str = "分次检查理由") -> Problem:
    return Problem(
        f"{record.uscc} 已于 {visit} 检查；同一检查对象应一次性完成全部事项的检查（第十二条，进一次门、查多项事）："
        f"分次检查须在“{reason}”中说明理由",
        f"{record.uscc} was inspected on {visit}; one entity is inspected for all items in one visit (第十二条): a "
        f"split visit needs its reason in {reason}",
        file=file, row=row, field=label, value=record.inspected_on,
    )


def _stored_dates(conn: Connection, draw_id: str) -> dict[tuple[str, str], str]:
    return {(r[0], r[1]): r[2] for r in conn.execute(
        text("SELECT uscc, item_id, inspected_on FROM inspection_result WHERE draw_id = :d"), {"d": draw_id})}


def import_results(conn: Connection, draw_id: str, path: Path, *, operator: str, department: str | None = None,
                   encoding: str | None = None) -> dict:
    ctx = load(conn, draw_id)
    if department:
        department = check_department(ctx, department)
    records, info = parse_file(ctx, path, department, encoding, _stored_dates(conn, draw_id))
    summary = apply(conn, ctx, records, operator, "results import",
                    {"file": str(path), "sha256": info["sha256"], "department": department, "blank_rows": info["blank"]})
    return {"draw": draw_id, "file": str(path), "sha256": info["sha256"], "department": department,
            "rows": len(records), "blank_rows": info["blank"], **summary}


# `results record` options, named in messages as the user typed them
OPTION_LABELS = {
    "uscc": "--entity", "item": "--item", "result": "--result", "method": "--method", "date": "--date",
    "signature": "--signature", "reason": "--reason", "witness": "--witness", "followup": "--followup",
    "publish": "--no-publish", "no_publish_reason": "--no-publish", "note": "--note", "key": "key",
    "split_reason": "--split-reason",
}


def record_result(conn: Connection, draw_id: str, fields: dict[str, str], *, operator: str) -> dict:
    """One result from the command line, checked by the same rules as a file row."""
    ctx = load(conn, draw_id)
    at = RowCheck(None, None, OPTION_LABELS)
    record = rules.check_row(fields, ctx.scope(), at)
    if record is None:
        raise UserError("结果有误，未写入任何数据", "the result is not valid; nothing was written", problems=at.problems)
    for _, visit in rules.split_visits([record], _stored_dates(conn, draw_id)):
        raise UserError("结果有误，未写入任何数据", "the result is not valid; nothing was written",
                        problems=[_split_problem(record, visit, None, None, "--date", "--split-reason")])
    summary = apply(conn, ctx, [record], operator, "results record", {"entity": record.uscc, "item": record.item})
    return {"draw": draw_id, "entity": record.uscc, "item": record.item, "department": record.department,
            "categories": list(record.categories), **summary}


def _history_text(name: str, value) -> str | None:
    if value is None:
        return None
    if name == "publish":
        return "是" if value else "否"
    return str(value)


DIGEST_FIELDS = ("uscc", "item_id", "department", "problem", *(f for f in rules.STORED_FIELDS if f != "split_reason"))


def results_digest(rows) -> str:
    """SHA-256 of a draw's results as stored: every changing command records it in its audit
    entry, so `db check` finds a result edited, added or deleted behind the tool's back
    (第五条 全程留痕; docs/reliability.md). A split reason (migration 7) is appended only when
    given, so digests recorded before it still match."""
    def values(row) -> list:
        out = [row[f] for f in DIGEST_FIELDS]
        return out + [row["split_reason"]] if row.get("split_reason") is not None else out

    return sha256_text(canonical_json(sorted(values(row) for row in rows)))


def stored_results(conn: Connection, draw_id: str) -> list:
    return [r._mapping for r in conn.execute(text("SELECT * FROM inspection_result WHERE draw_id = :d"), {"d": draw_id})]


def apply(conn: Connection, ctx: DrawContext, records: list[ResultRecord], operator: str, command: str, extra: dict) -> dict:
    """Upsert checked records on (draw, entity, item): history of changed fields, follow-ups, one audit entry."""
    draw_id = ctx.draw_id
    existing = {(r["uscc"], r["item_id"]): r for r in stored_results(conn, draw_id)}
    inserts, updates, changes = [], [], []
    for record in records:
        new = record.stored()
        old = existing.get((record.uscc, record.item))
        if old is None:
            inserts.append(record)
            continue
        diff = [(f, old[f], new[f]) for f in rules.STORED_FIELDS if old[f] != new[f]]
        if diff:
            updates.append(record)
            changes.append((record, diff))
    plan = followups.plan(conn, draw_id, inserts + updates)
    counts = {"inserted": len(inserts), "updated": len(updates), "unchanged": len(records) - len(inserts) - len(updates)}
    after = {**existing, **{
        (r.uscc, r.item): {"uscc": r.uscc, "item_id": r.item, "department": r.department, **r.stored(), "problem": int(r.problem)}
        for r in inserts + updates
    }}
    entry = audit.append(conn, operator, command, {
        "draw": draw_id, "task": ctx.task["id"], **extra, **counts, "followups": plan.counts(),
        "results_sha256": results_digest(after.values()),
        "changed": [{"entity": r.uscc, "item": r.item, "fields": [f for f, _, _ in d]} for r, d in changes][:200],
    })
    now = utc_now()
    for record in inserts:
        conn.execute(
            text(
                "INSERT INTO inspection_result (draw_id, uscc, item_id, department, categories, problem, methods, inspected_on, "
                "signature, signature_reason, witness, followup, publish, no_publish_reason, note, split_reason, entered_at, "
                "entered_by, updated_at, updated_by, audit_seq) VALUES (:draw_id, :uscc, :item_id, :department, :categories, "
                ":problem, :methods, :inspected_on, :signature, :signature_reason, :witness, :followup, :publish, "
                ":no_publish_reason, :note, :split_reason, :now, :op, :now, :op, :seq)"
            ),
            {"draw_id": draw_id, "uscc": record.uscc, "item_id": record.item, "department": record.department,
             "problem": int(record.problem), **record.stored(), "now": now, "op": operator, "seq": entry.seq},
        )
    for record, diff in changes:
        key = {"draw_id": draw_id, "uscc": record.uscc, "item_id": record.item}
        conn.execute(
            text(
                "UPDATE inspection_result SET categories = :categories, problem = :problem, methods = :methods, "
                "inspected_on = :inspected_on, signature = :signature, signature_reason = :signature_reason, witness = :witness, "
                "followup = :followup, publish = :publish, no_publish_reason = :no_publish_reason, note = :note, "
                "split_reason = :split_reason, updated_at = :now, updated_by = :op, audit_seq = :seq "
                "WHERE draw_id = :draw_id AND uscc = :uscc AND item_id = :item_id"
            ),
            {**key, "problem": int(record.problem), **record.stored(), "now": now, "op": operator, "seq": entry.seq},
        )
        for name, before, after in diff:
            conn.execute(
                text(
                    "INSERT INTO inspection_result_history (draw_id, uscc, item_id, field, old_value, new_value, changed_at, "
                    "operator, audit_seq) VALUES (:draw_id, :uscc, :item_id, :f, :o, :n, :now, :op, :seq)"
                ),
                {**key, "f": name, "o": _history_text(name, before), "n": _history_text(name, after), "now": now,
                 "op": operator, "seq": entry.seq},
            )
    followups.apply(conn, plan, operator=operator, seq=entry.seq, now=now)
    return {**counts, "followups": plan.counts(), "audit_seq": entry.seq}


# ---------------------------------------------------------------- reading


def list_results(conn: Connection, draw_id: str, *, department: str | None = None, entity: str | None = None) -> list[dict]:
    ctx = load(conn, draw_id, need_teams=False)
    sql = "SELECT * FROM inspection_result WHERE draw_id = :d"
    params: dict = {"d": draw_id}
    if department:
        sql += " AND department = :dep"
        params["dep"] = department.strip().upper()
    if entity:
        sql += " AND uscc = :u"
        params["u"] = entity
    order = {e["uscc"]: i for i, e in enumerate(ctx.entities)}
    items = list(ctx.items)
    names = {e["uscc"]: e["name"] for e in ctx.entities}
    rows = [dict(r._mapping) for r in conn.execute(text(sql), params)]
    rows.sort(key=lambda r: (order.get(r["uscc"], 1 << 30), items.index(r["item_id"]) if r["item_id"] in items else 1 << 30))
    out = []
    for r in rows:
        out.append({
            "uscc": r["uscc"], "name": names.get(r["uscc"]), "item": r["item_id"],
            "item_name": ctx.items.get(r["item_id"], {}).get("name"), "department": r["department"],
            "categories": r["categories"].split("；"), "problem": bool(r["problem"]), "methods": r["methods"].split("；"),
            "inspected_on": r["inspected_on"], "signature": r["signature"], "signature_reason": r["signature_reason"],
            "witness": r["witness"], "followup": r["followup"], "publish": bool(r["publish"]),
            "no_publish_reason": r["no_publish_reason"], "note": r["note"], "split_reason": r["split_reason"],
            "complete": rules.signed(r["signature"], r["signature_reason"], r["witness"]), "entered_at": r["entered_at"],
            "entered_by": r["entered_by"], "updated_at": r["updated_at"], "updated_by": r["updated_by"],
            "audit_seq": r["audit_seq"],
        })
    return out


def history(conn: Connection, draw_id: str, *, entity: str | None = None, item: str | None = None) -> list[dict]:
    draws._draw_row(conn, draw_id)
    sql = ("SELECT uscc, item_id AS item, field, old_value, new_value, changed_at, operator, audit_seq "
           "FROM inspection_result_history WHERE draw_id = :d")
    params: dict = {"d": draw_id}
    if entity:
        sql += " AND uscc = :u"
        params["u"] = entity
    if item:
        sql += " AND item_id = :i"
        params["i"] = item.strip().upper()
    return [dict(r._mapping) for r in conn.execute(text(sql + " ORDER BY id"), params)]


def status(conn: Connection, draw_id: str, department: str | None = None) -> dict:
    """第十二条: one inspection per entity covers all its items — what is done and what is missing.

    An entity is done only when every item has a result the entity signed, or whose refusal is
    recorded with the reason and a witness (第十四条); recorded but unsigned results are listed
    under ``unsigned``. ``publication``: per department, when each entity's results are due to be
    public (working days after the inspection, domain/deadlines.py) and whether they were."""
    ctx = load(conn, draw_id, need_teams=False)
    wanted = [check_department(ctx, department)] if department else ctx.departments()
    stored = {(r.uscc, r.item_id): r for r in conn.execute(
        text("SELECT uscc, item_id, department, inspected_on, signature, signature_reason, witness FROM inspection_result "
             "WHERE draw_id = :d"), {"d": draw_id})}
    names = dict(conn.execute(text("SELECT code, name FROM department")).all())
    per_department, missing_all, unsigned_all = [], [], []
    complete_everywhere = {e["uscc"] for e in ctx.entities}
    for dept in wanted:
        items = ctx.department_items(dept)
        missing, unsigned = [], []
        for e in ctx.entities:
            for i in items:
                row = {"department": dept, "uscc": e["uscc"], "name": e["name"], "item": i["id"], "item_name": i["name"]}
                r = stored.get((e["uscc"], i["id"]))
                if r is None:
                    missing.append(row)
                elif not rules.signed(r.signature, r.signature_reason, r.witness):
                    unsigned.append({**row, "signature": r.signature, "witness": r.witness})
        incomplete = {m["uscc"] for m in missing + unsigned}
        complete_everywhere -= incomplete
        expected = len(ctx.entities) * len(items)
        per_department.append({
            "department": dept, "department_name": names.get(dept, dept), "items": len(items),
            "entities": len(ctx.entities), "entities_done": len(ctx.entities) - len(incomplete),
            "entities_missing": len(incomplete), "results_expected": expected, "results_done": expected - len(missing),
            "results_unsigned": len(unsigned), "results_missing": len(missing),
        })
        missing_all += missing
        unsigned_all += unsigned
    expected = sum(d["results_expected"] for d in per_department)
    return {
        "draw": draw_id, "task": ctx.task["id"], "department": department.strip().upper() if department else None,
        "departments": per_department,
        "overall": {
            "entities": len(ctx.entities), "entities_done": len(complete_everywhere),
            "entities_missing": len(ctx.entities) - len(complete_everywhere),
            "results_expected": expected, "results_done": expected - len(missing_all),
            "results_unsigned": len(unsigned_all), "results_missing": len(missing_all),
        },
        "missing": missing_all,
        "unsigned": unsigned_all,
        "publication": publication_deadlines(conn, ctx, wanted, stored),
    }


def publication_deadlines(conn: Connection, ctx: DrawContext, departments: list[str], stored: dict) -> dict:
    """Per department and entity whose results for it are all recorded: the inspection date (the
    last of its items), the date they are due to be public, the first publication that carried
    them, and on_time / late / overdue / pending; 公示及时率 = on time ÷ (on time + late + overdue)."""
    from datetime import date

    from shuangsuiji.domain import deadlines

    try:
        days = deadlines.configured_days()
    except deadlines.WorkingDaysError as exc:
        raise UserError(f"公示期限设置有误：{exc}", f"Publication deadline setting: {exc}") from None
    today = date.today().isoformat()
    publications: dict[str, list[tuple[str, set[str]]]] = {}
    for dep, at, summary in conn.execute(
        text("SELECT department, published_at, summary FROM publication WHERE draw_id = :d ORDER BY id"), {"d": ctx.draw_id}
    ):
        publications.setdefault(dep, []).append((at[:10], set(json.loads(summary).get("incomplete", []))))
    entities, counts = [], {"on_time": 0, "late": 0, "overdue": 0, "pending": 0}
    for dept in departments:
        items = ctx.department_items(dept)
        for e in ctx.entities:
            rows = [stored.get((e["uscc"], i["id"])) for i in items]
            if not items or any(r is None for r in rows):
                continue
            inspected = max(r.inspected_on for r in rows)
            due = deadlines.add_working_days(inspected, days)
            published = next((at for at, left_out in publications.get(dept, []) if e["uscc"] not in left_out), None)
            state = deadlines.timeliness(due, published, today)
            counts[state] += 1
            entities.append({"department": dept, "uscc": e["uscc"], "inspected_on": inspected, "due_on": due.on,
                             "due_exact": due.exact, "published_on": published, "state": state})
    decided = counts["on_time"] + counts["late"] + counts["overdue"]
    return {"working_days": days, **counts, "timely_share": [counts["on_time"], decided], "entities": entities}
