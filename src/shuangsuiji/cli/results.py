"""`shuangsuiji results`: inspection results of a locked draw (第十二条 to 第十四条)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import DryRun, Encoding, Force, InFile, Json, choices, existing
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.i18n import t

app = typer.Typer(help=t("检查结果：模板、导入、录入、完成情况（第十二条至第十四条）",
                         "Inspection results: template, import, record, status (第十二条 to 第十四条)"),
                  no_args_is_help=True)

DrawArg = Annotated[str, typer.Argument(help=t("抽取编号（如 2026-09-D1）", "draw id (e.g. 2026-09-D1)"), show_default=False)]
Dept = Annotated[Optional[str], typer.Option("--dept", help=t("部门代码", "department code"))]

SUMMARY = [("inserted", "新增", "inserted"), ("updated", "更新", "updated"), ("unchanged", "未变", "unchanged"),
           ("blank_rows", "未填行", "blank rows")]
FOLLOWUPS = [("opened", "新开后续处置", "follow-ups opened"), ("reopened", "重新打开", "reopened"),
             ("updated", "更新", "updated"), ("cancelled", "撤销", "cancelled")]


@app.command("template", help=t(
    "生成某部门的检查结果模板（XLSX）：每个检查对象 × 本部门每个检查事项一行，检查对象和检查小组已填（灰色），"
    "检查结果、方式、签字情况、后续处置为下拉选项",
    "Write a department's results template (XLSX): one row per drawn entity × the department's items, entity and "
    "team pre-filled (grey), drop-downs for result, method, signature, follow-up"))
def template(
    draw: DrawArg,
    dept: Annotated[str, typer.Option("--dept", help=t("部门代码", "department code"), show_default=False)],
    out: Annotated[Path, typer.Option("-o", "--output", help=t("输出 .xlsx 文件", "output .xlsx file"), show_default=False)],
    force: Force = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import results

    if out.suffix.lower() != ".xlsx":
        raise UserError(f"模板须为 .xlsx 文件：{out}", f"The template must be an .xlsx file: {out}", code=ExitCode.USAGE)
    with context.reading() as conn:
        data = results.template(conn, draw, dept)
    try:
        results.write_template(data, out)
    except OSError as exc:
        raise UserError(f"无法写入 {out}：{exc.strerror}", f"Cannot write {out}: {exc.strerror}") from None
    result = {"draw": draw, "department": data["department"], "file": str(out), "rows": len(data["rows"]),
              "entities": len({r["uscc"] for r in data["rows"]}), "items": [i["id"] for i in data["items"]],
              "team_problems": data["team_problems"]}
    from shuangsuiji.cli.draws import warn_team_problems

    warn_team_problems(data["team_problems"])
    if as_json:
        output.emit_json(result)
    else:
        output.info(t(f"已写出 {out}：{result['entities']} 个检查对象 × {len(result['items'])} 个事项 = {result['rows']} 行",
                      f"Wrote {out}: {result['entities']} entities × {len(result['items'])} items = {result['rows']} rows"))


def _report(result: dict, as_json: bool, dry_run: bool) -> None:
    if as_json:
        output.emit_json({**result, "dry_run": dry_run})
        return
    output.summary(result, SUMMARY)
    if any(result["followups"].values()):
        output.summary(result["followups"], FOLLOWUPS)
    if dry_run:
        output.info(t("（试运行：未写入）", "(dry run: nothing written)"))


@app.command("import", help=t(
    "导入填好的检查结果（XLSX 模板或同表头的 CSV）：逐行检查，任何一行有误则不写入；按（抽取、检查对象、事项）更新并保留变更历史",
    "Import filled-in results (the XLSX template or a CSV with its headers): every row checked, nothing written on any "
    "error; upsert on (draw, entity, item) with the history of changes"))
def import_(
    draw: DrawArg,
    file: InFile,
    dept: Dept = None,
    encoding: Encoding = None,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import results

    context.check_file(file)
    with context.writing(dry_run) as conn:
        result = results.import_results(conn, draw, file, operator=context.settings.who(), department=dept, encoding=encoding)
    _report(result, as_json, dry_run)


@app.command("record", help=t("在命令行录入一条检查结果（与导入相同的检查）", "Record one result from the command line (same checks as an import)"))
def record(
    draw: DrawArg,
    entity: Annotated[str, typer.Option("--entity", help=t("统一社会信用代码", "unified social credit code"), show_default=False)],
    item: Annotated[str, typer.Option("--item", help=t("检查事项编号", "check item id"), show_default=False)],
    result_: Annotated[str, typer.Option("--result", help=t("检查结果分类，多个用；分隔", "result category; several separated by ；"), show_default=False)],
    date: Annotated[Optional[str], typer.Option("--date", help=t("检查日期", "inspection date"))] = None,
    method: Annotated[Optional[str], typer.Option("--method", help=t("检查方式（事项只有一种时可省略）", "check method (may be left out when the item has one)"))] = None,
    signature: Annotated[Optional[str], typer.Option("--signature", help="签字|拒签|无法取得")] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", help=t("拒签或无法取得签字的原因", "why the signature is missing"))] = None,
    witness: Annotated[Optional[str], typer.Option("--witness", help=t("见证人", "witness"))] = None,
    followup: Annotated[Optional[str], typer.Option("--followup", help="无需处置|责令改正|移交线索|抄告主管部门|移送司法机关|其他")] = None,
    no_publish: Annotated[Optional[str], typer.Option("--no-publish", help=t("不公示，并写明理由", "do not publish, giving the reason"))] = None,
    note: Annotated[Optional[str], typer.Option("--note", help=t("备注", "note"))] = None,
    split_reason: Annotated[Optional[str], typer.Option("--split-reason", help=t(
        "分次检查理由：本对象其他事项已在另一日期检查时必填（第十二条）",
        "why this entity is inspected on another date than its other items (第十二条)"))] = None,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import results

    fields = {"uscc": entity, "item": item, "result": result_, "date": date or "", "method": method or "",
              "signature": signature or "", "reason": reason or "", "witness": witness or "", "followup": followup or "",
              "publish": "否" if no_publish is not None else "", "no_publish_reason": no_publish or "", "note": note or "",
              "split_reason": split_reason or ""}
    with context.writing(dry_run) as conn:
        result = results.record_result(conn, draw, fields, operator=context.settings.who())
    _report(result, as_json, dry_run)


@app.command("status", help=t(
    "完成情况（第十二条：一次检查完成全部事项）：各部门及总体已录入和缺少的检查对象、事项，并列出缺少的（对象 × 事项）",
    "Progress (第十二条: one inspection covers every item): entities and items done / missing per department and "
    "overall, listing the missing (entity × item) pairs"))
def status(
    draw: DrawArg,
    dept: Dept = None,
    strict: Annotated[bool, typer.Option("--strict", help=t("仍有缺少或未签字的结果时以退出码 3 结束", "exit 3 while any result is missing or unsigned"))] = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import results

    with context.reading() as conn:
        data = results.status(conn, draw, dept)
    if as_json:
        output.emit_json(data)
    else:
        rows = [*data["departments"], {"department": t("合计", "all"), **data["overall"]}]
        output.table(rows, [("department", "部门", "department"), ("entities", "检查对象", "entities"),
                            ("entities_done", "已完成", "done"), ("entities_missing", "未完成", "missing"),
                            ("results_expected", "应录结果", "results due"), ("results_done", "已录", "recorded"),
                            ("results_unsigned", "未签字", "unsigned"), ("results_missing", "缺少", "missing")],
                     title=t(f"{draw} 检查结果完成情况", f"{draw} results"))
        columns = [("department", "部门", "department"), ("uscc", "统一社会信用代码", "code"), ("name", "名称", "name"),
                   ("item", "事项", "item"), ("item_name", "检查事项", "check item")]
        if data["missing"]:
            output.table(data["missing"], columns, title=t("缺少的结果", "Missing results"))
        if data["unsigned"]:
            output.table(data["unsigned"], columns + [("signature", "签字情况", "signature"), ("witness", "见证人", "witness")],
                         title=t("未完成签字的结果（第十四条：须被检查对象签字，或记录拒签原因并有见证人）",
                                 "Results not signed (第十四条: the entity signs, or the refusal is recorded with reason and witness)"))
        if not data["missing"] and not data["unsigned"]:
            output.info(t("全部检查对象的全部事项均已录入结果，并已签字（第十四条）。", "Every entity has a result for every item. All are signed (第十四条)."))
        _publication(data["publication"])
    if strict and (data["missing"] or data["unsigned"]):
        raise typer.Exit(ExitCode.PROBLEMS)


PUBLICATION_STATES = {"on_time": ("按期公示", "on time"), "late": ("逾期公示", "late"), "overdue": ("已逾期未公示", "overdue"),
                      "pending": ("待公示", "pending")}


def _publication(data: dict) -> None:
    """Publication due dates (practice: N working days after the inspection, docs/results.md)."""
    if not data["entities"]:
        return
    rows = [{**e, "due": e["due_on"] + ("" if e["due_exact"] else t("（预计）", " (estimated)")),
             "state_text": t(*PUBLICATION_STATES[e["state"]])} for e in data["entities"]]
    output.table(rows, [("department", "部门", "department"), ("uscc", "统一社会信用代码", "code"),
                        ("inspected_on", "检查日期", "inspected"), ("due", "应公示日期", "due"),
                        ("published_on", "公示日期", "published"), ("state_text", "状态", "state")],
                 title=t(f"公示期限（检查后 {data['working_days']} 个工作日）", f"Publication due ({data['working_days']} working days after the inspection)"))
    on_time, decided = data["timely_share"]
    output.info(t(f"公示及时率：{on_time}/{decided}（按期 {data['on_time']}，逾期公示 {data['late']}，逾期未公示 {data['overdue']}，待公示 {data['pending']}）",
                  f"published on time: {on_time}/{decided} (on time {data['on_time']}, late {data['late']}, overdue {data['overdue']}, pending {data['pending']})"))


@app.command("list", help=t("列出已录入的检查结果", "List the recorded results"))
def list_(
    draw: DrawArg,
    dept: Dept = None,
    entity: Annotated[Optional[str], typer.Option("--entity", help=t("只列此检查对象", "only this entity"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.domain.directory import normalise_uscc
    from shuangsuiji.services import results

    entity = normalise_uscc(entity) if entity else None
    with context.reading() as conn:
        _check_filters(conn, draw, dept=dept, entity=entity)
        rows = results.list_results(conn, draw, department=dept, entity=entity)
    if as_json:
        output.emit_json(rows)
        return
    output.table(rows, [("uscc", "统一社会信用代码", "code"), ("name", "名称", "name"), ("item", "事项", "item"),
                        ("categories", "检查结果", "result"), ("methods", "检查方式", "method"), ("inspected_on", "检查日期", "date"),
                        ("signature", "签字情况", "signature"), ("followup", "后续处置", "follow-up"), ("publish", "公示", "publish"),
                        ("updated_by", "录入人", "entered by")])


@app.command("history", help=t("检查结果的变更历史（谁、何时、原值、新值）", "History of result changes (who, when, old, new)"))
def history(
    draw: DrawArg,
    entity: Annotated[Optional[str], typer.Option("--entity", help=t("只列此检查对象", "only this entity"))] = None,
    item: Annotated[Optional[str], typer.Option("--item", help=t("只列此事项", "only this item"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.domain.directory import normalise_uscc
    from shuangsuiji.services import results

    entity = normalise_uscc(entity) if entity else None
    with context.reading() as conn:
        _check_filters(conn, draw, entity=entity, item=item)
        rows = results.history(conn, draw, entity=entity, item=item)
    if as_json:
        output.emit_json(rows)
        return
    output.table(rows, [("changed_at", "时间", "when"), ("uscc", "统一社会信用代码", "code"), ("item", "事项", "item"),
                        ("field", "字段", "field"), ("old_value", "原值", "from"), ("new_value", "新值", "to"),
                        ("operator", "操作人", "who"), ("audit_seq", "日志序号", "log seq")])


@app.command("attach", help=t(
    "为检查对象附加现场记录（照片、签字表扫描件、录音录像，第十八条）：按 SHA-256 存入存储，记入审计日志，随归档包保存",
    "Attach field evidence to an entity's results (photos, scans of signed forms, audio, video; 第十八条): stored by "
    "SHA-256 in the store, logged, carried into the archive"))
def attach(
    draw: DrawArg,
    entity: Annotated[str, typer.Argument(help=t("统一社会信用代码", "unified social credit code"), show_default=False)],
    files: Annotated[list[Path], typer.Argument(help=t("文件（jpg png pdf mp3 mp4 等）", "files (jpg png pdf mp3 mp4 …)"), show_default=False)],
    note: Annotated[str, typer.Option("--note", help=t("说明", "note"))] = "",
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import evidence

    with context.writing(dry_run) as conn:
        result = evidence.attach(conn, draw, entity, files, operator=context.settings.who(), note=note)
    if as_json:
        output.emit_json({**result, "dry_run": dry_run})
        return
    for item in result["attached"]:
        output.info(t(f"已附加 {item['name']}（{item['size']} 字节，SHA-256 {item['sha256']}）",
                      f"attached {item['name']} ({item['size']} bytes, SHA-256 {item['sha256']})"))
    for item in result["already_attached"]:
        output.info(t(f"已附加过，跳过 {item['name']}（SHA-256 {item['sha256']}）",
                      f"already attached, skipped {item['name']} (SHA-256 {item['sha256']})"))
    if dry_run:
        output.info(t("（试运行：未写入）", "(dry run: nothing written)"))


@app.command("evidence", help=t("列出附加的现场记录", "List the attached field evidence"))
def evidence_(
    draw: DrawArg,
    entity: Annotated[Optional[str], typer.Option("--entity", help=t("只列此检查对象", "only this entity"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import evidence

    with context.reading() as conn:
        rows = evidence.list_evidence(conn, draw, entity)
    if as_json:
        output.emit_json(rows)
        return
    output.table(rows, [("uscc", "统一社会信用代码", "code"), ("name", "文件", "file"), ("media_type", "类型", "type"),
                        ("size", "字节", "bytes"), ("sha256", "SHA-256", "SHA-256"), ("note", "说明", "note"),
                        ("attached_at", "附加时间", "attached at"), ("operator", "操作人", "by")])


def _check_filters(conn, draw: str, *, dept: str | None = None, entity: str | None = None, item: str | None = None) -> None:
    """A filter that no result of the draw can match is a usage error (exit 2) naming what is valid."""
    from shuangsuiji.services import results

    if not (dept or entity or item):
        return
    ctx = existing(lambda: results.load(conn, draw, need_teams=False))
    if dept:
        existing(lambda: results.check_department(ctx, dept))
    if entity and entity not in {e["uscc"] for e in ctx.entities}:
        raise UserError(f"--entity {entity} 不在 {draw} 的锁定名单中（shuangsuiji draws show {draw}）",
                        f"--entity {entity} is not in the locked list of {draw} (`shuangsuiji draws show {draw}`)",
                        code=ExitCode.USAGE)
    if item:
        choices("--item", [item], list(ctx.items))
