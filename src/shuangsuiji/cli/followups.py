"""`shuangsuiji followups`: follow-ups of results with problems (第十四条(三), 第十六条)."""

from typing import Annotated, Optional

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import DryRun, Json, choices, existing
from shuangsuiji.i18n import t

app = typer.Typer(help=t("后续处置：发现问题的结果移交主管部门或移送司法机关，直至办结（第十四条、第十六条）",
                         "Follow-ups: results with problems handed to the responsible department or the judicial "
                         "authorities, until closed (第十四条, 第十六条)"),
                  no_args_is_help=True)

IdArg = Annotated[int, typer.Argument(help=t("后续处置编号", "follow-up id"), show_default=False)]

COLUMNS = [("id", "编号", "id"), ("uscc", "统一社会信用代码", "code"), ("name", "名称", "name"), ("item", "事项", "item"),
           ("categories", "检查结果", "result"), ("measure", "处置措施", "measure"), ("handed_to", "承办", "handed to"),
           ("status_label", "状态", "status"), ("due", "应办结日期", "due"), ("closed_on", "办结日期", "closed on")]
DETAIL = [("draw", "抽取", "draw"), *COLUMNS[1:], ("department", "事项所属部门", "item's department"), ("note", "说明", "note"),
          ("opened_at", "开立时间", "opened at"), ("updated_at", "更新时间", "updated at"), ("operator", "操作人", "operator")]


def _with_due(row: dict) -> dict:
    """The due date as shown: 预计 when beyond the holiday calendar, 已逾期 when overdue."""
    mark = t("（预计）", " (estimated)") if not row["due_exact"] else ""
    late = t(" 已逾期", " overdue") if row["overdue"] else ""
    return {**row, "due": row["due_on"] + mark + late}


@app.command("list", help=t("列出后续处置（可按抽取、状态、部门筛选）", "List follow-ups (filter by draw, status, department)"))
def list_(
    draw: Annotated[Optional[str], typer.Option("--draw", help=t("只列此抽取", "only this draw"))] = None,
    status: Annotated[Optional[str], typer.Option("--status", help="open|in_progress|closed|cancelled")] = None,
    dept: Annotated[Optional[str], typer.Option("--dept", help=t("负责或承办的部门", "responsible or receiving department"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import followups

    from shuangsuiji.services import departments, draws

    with context.reading() as conn:
        if draw:
            existing(lambda: draws._draw_row(conn, draw))
        if dept:
            dept = choices("--dept", [dept], sorted(departments.codes(conn)))[0]
        rows = followups.list_followups(conn, draw_id=draw, status=status, department=dept)
    if as_json:
        output.emit_json(rows)
    elif rows:
        output.table([_with_due(r) for r in rows], COLUMNS)
    else:
        output.info(t("没有后续处置记录。", "No follow-ups."))


@app.command("show", help=t("显示一条后续处置及其变更历史", "Show one follow-up with its history"))
def show(followup: IdArg, as_json: Json = False) -> None:
    from shuangsuiji.services import followups

    with context.reading() as conn:
        data = followups.show(conn, followup)
    if as_json:
        output.emit_json(data)
        return
    output.record(_with_due(data), [COLUMNS[0], *DETAIL])
    output.table(data["history"], [("changed_at", "时间", "when"), ("field", "字段", "field"), ("old_value", "原值", "from"),
                                   ("new_value", "新值", "to"), ("operator", "操作人", "who"), ("audit_seq", "日志序号", "log seq")],
                 title=t("变更历史", "History"))


@app.command("update", help=t(
    "推进后续处置：open（待处置）→ in_progress（处置中）→ closed（已办结，须 --note，日期默认今天）；可改承办部门",
    "Move a follow-up on: open → in_progress → closed (needs --note; date defaults to today); reassign with --handed-to"))
def update(
    followup: IdArg,
    status: Annotated[Optional[str], typer.Option("--status", help="open|in_progress|closed")] = None,
    note: Annotated[Optional[str], typer.Option("--note", help=t("处置情况说明", "what was done"))] = None,
    closed_on: Annotated[Optional[str], typer.Option("--closed-on", help=t("办结日期（默认今天）", "date closed (default: today)"))] = None,
    handed_to: Annotated[Optional[str], typer.Option("--handed-to", help=t("承办部门代码或“移送司法机关”", "receiving department code, or 移送司法机关"))] = None,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import followups

    with context.writing(dry_run) as conn:
        data = followups.update(conn, followup, operator=context.settings.who(), status=status, note=note,
                                closed_on=closed_on, handed_to=handed_to)
    if as_json:
        output.emit_json({**data, "dry_run": dry_run})
        return
    output.info(t(f"后续处置 {followup}：{data['status_label']}（承办 {data['handed_to']}）",
                  f"Follow-up {followup}: {data['status']} (handed to {data['handed_to']})"))
    if dry_run:
        output.info(t("（试运行：未写入）", "(dry run: nothing written)"))
