"""`shuangsuiji objects`: the object directory 检查对象名录库."""

from typing import Annotated, Optional

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.directory import run_import
from shuangsuiji.cli.options import DryRun, Encoding, Force, InFile, Json, Quiet, Rejects, Sheet, SkipInvalid, Sync, Yes, choices
from shuangsuiji.i18n import t

app = typer.Typer(help=t("检查对象名录库（第五条、第九条）", "Object directory 检查对象名录库 (第五条, 第九条)"), no_args_is_help=True)

COLUMNS = [
    ("uscc", "统一社会信用代码", "uscc"),
    ("name", "名称", "name"),
    ("entity_type", "主体类型", "type"),
    ("industry", "行业", "industry"),
    ("region", "所属区域", "region"),
    ("status", "登记状态", "status"),
    ("risk_class", "信用风险分类", "risk"),
]


@app.command(
    "import",
    help=t(
        "导入检查对象（CSV/XLSX，中英文表头均可），按统一社会信用代码更新",
        "Import entities (CSV/XLSX, English or Chinese headers); upsert keyed on the 统一社会信用代码",
    ),
)
def import_(
    file: InFile,
    encoding: Encoding = None,
    sheet: Sheet = None,
    sync: Sync = False,
    skip_invalid: SkipInvalid = False,
    rejects: Rejects = None,
    force: Force = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    as_json: Json = False,
    quiet: Quiet = False,
) -> None:
    from shuangsuiji.services.objects import import_objects

    def do_import(conn, progress):
        return import_objects(
            conn, file, operator=context.settings.who(), encoding=encoding, sheet=sheet,
            sync=sync, skip_invalid=skip_invalid, progress=progress,
        )

    run_import(do_import, file=file, dry_run=dry_run, sync=sync, yes=yes, rejects=rejects, as_json=as_json,
               quiet=quiet, what=("检查对象", "entities"))


Multi = Optional[list[str]]


@app.command("list", help=t("列出检查对象（可按状态、风险分类、区域、行业筛选）", "List entities (filter by status, risk class, region, industry)"))
def list_(
    status: Annotated[Multi, typer.Option("--status", help=t("登记状态，可重复", "status, repeatable"))] = None,
    risk_class: Annotated[Multi, typer.Option("--risk-class", help=t("信用风险分类 A/B/C/D，可重复", "risk class A/B/C/D, repeatable"))] = None,
    region: Annotated[Multi, typer.Option("--region", help=t("所属区域，可重复", "region, repeatable"))] = None,
    industry: Annotated[Multi, typer.Option("--industry", help=t("行业，可重复", "industry, repeatable"))] = None,
    include_removed: Annotated[bool, typer.Option("--include-removed", help=t("包括已移出名录的", "include entities removed from the directory"))] = False,
    limit: Annotated[Optional[int], typer.Option("--limit", help=t("最多显示行数（表格默认 50，JSON 默认全部）", "at most this many rows (table default 50; JSON default all)"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.domain.directory import RISK_CLASSES, STATUSES, normalise_risk, normalise_status
    from shuangsuiji.services.objects import list_objects

    statuses = choices("--status", status, STATUSES, normalise_status)
    risks = choices("--risk-class", risk_class, RISK_CLASSES, normalise_risk)
    if limit is None and not as_json:
        limit = 50
    with context.reading() as conn:
        rows, total = list_objects(
            conn, status=statuses, risk_class=risks, region=region, industry=industry,
            include_removed=include_removed, limit=limit or None,
        )
    if as_json:
        output.emit_json(rows)
        return
    output.table(rows, COLUMNS)
    if total > len(rows):
        output.info(t(f"显示 {len(rows)} / {total} 条；用 --limit 0 显示全部。", f"Showing {len(rows)} of {total}; --limit 0 shows all."))


@app.command("show", help=t("显示一个检查对象及其状态、风险分类变更历史", "Show one entity with its status and risk-class history"))
def show(
    uscc: Annotated[str, typer.Argument(help=t("统一社会信用代码", "unified social credit code"), show_default=False)],
    as_json: Json = False,
) -> None:
    from shuangsuiji.services.objects import show_object

    with context.reading() as conn:
        data = show_object(conn, uscc)
    if as_json:
        output.emit_json(data)
        return
    output.record(data, COLUMNS + [("address", "住所", "address"), ("registered_on", "成立日期", "registered on"),
                                   ("in_directory", "在名录中", "in directory"), ("attributes", "其他属性", "attributes"),
                                   ("updated_at", "更新时间", "updated at")])
    if data["history"]:
        output.table(data["history"], [("changed_at", "时间", "when"), ("field", "字段", "field"), ("old_value", "原值", "from"),
                                       ("new_value", "新值", "to"), ("operator", "操作人", "who"), ("audit_seq", "日志序号", "log seq")],
                     title=t("变更历史", "History"))
    if data["conflicts"]:
        output.table(data["conflicts"], [("cert_no", "执法证号", "certificate"), ("reason", "回避原因", "reason")],
                     title=t("申报回避", "Declared conflicts"))
