"""`shuangsuiji inspectors` and `shuangsuiji conflicts`: the 执法检查人员名录库 and 回避."""

from typing import Annotated, Optional

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.directory import SUMMARY, run_import
from shuangsuiji.cli.options import (
    DepartmentAlias, DryRun, Encoding, Force, InFile, Json, Quiet, Rejects, Sheet, SkipInvalid, Sync, Yes, check_rejects, choices,
)
from shuangsuiji.i18n import t

app = typer.Typer(help=t("执法检查人员名录库（第五条、第十条）", "Inspector directory 执法检查人员名录库 (第五条, 第十条)"), no_args_is_help=True)
conflicts_app = typer.Typer(help=t("执法人员申报的回避关系", "Officers' declared conflicts of interest (回避)"), no_args_is_help=True)

COLUMNS = [
    ("cert_no", "执法证号", "certificate"),
    ("name", "姓名", "name"),
    ("department", "部门", "department"),
    ("cert_expires_on", "执法证有效期", "expires"),
    ("expertise", "业务专长", "expertise"),
    ("region", "管辖片区", "region"),
    ("status", "状态", "status"),
]


@app.command("import", help=t("导入执法检查人员（CSV/XLSX），按执法证号更新", "Import officers (CSV/XLSX); upsert keyed on the certificate number"))
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
    from shuangsuiji.services.inspectors import import_inspectors

    def do_import(conn, progress):
        return import_inspectors(
            conn, file, operator=context.settings.who(), encoding=encoding, sheet=sheet,
            sync=sync, skip_invalid=skip_invalid, progress=progress,
        )

    run_import(do_import, file=file, dry_run=dry_run, sync=sync, yes=yes, rejects=rejects, as_json=as_json,
               quiet=quiet, what=("执法人员", "officers"))


@app.command("list", help=t("列出执法检查人员", "List officers"))
def list_(
    dept: Annotated[Optional[list[str]], typer.Option("--dept", help=t("部门代码，可重复", "department code, repeatable"))] = None,
    status: Annotated[Optional[list[str]], typer.Option("--status", help=t("状态，可重复", "status, repeatable"))] = None,
    include_removed: Annotated[bool, typer.Option("--include-removed", help=t("包括已移出名录的", "include officers removed from the directory"))] = False,
    department: DepartmentAlias = None,
    as_json: Json = False,
) -> None:
    department = [*(dept or []), *(department or [])]
    from shuangsuiji.domain.directory import INSPECTOR_STATUSES, normalise_inspector_status
    from shuangsuiji.services import departments
    from shuangsuiji.services.inspectors import list_inspectors

    statuses = choices("--status", status, INSPECTOR_STATUSES, normalise_inspector_status)
    with context.reading() as conn:
        depts = choices("--dept", department, sorted(departments.codes(conn)))
        rows = list_inspectors(conn, department=depts, status=statuses, include_removed=include_removed)
    if as_json:
        output.emit_json(rows)
    else:
        output.table(rows, COLUMNS)


@app.command("show", help=t("显示一名执法人员及其变更历史和回避关系", "Show one officer with history and declared conflicts"))
def show(
    cert: Annotated[str, typer.Argument(help=t("执法证号", "certificate number"), show_default=False)],
    as_json: Json = False,
) -> None:
    from shuangsuiji.services.inspectors import show_inspector

    with context.reading() as conn:
        data = show_inspector(conn, cert)
    if as_json:
        output.emit_json(data)
        return
    output.record(data, COLUMNS + [("in_directory", "在名录中", "in directory"), ("attributes", "其他属性", "attributes"),
                                   ("updated_at", "更新时间", "updated at")])
    if data["history"]:
        output.table(data["history"], [("changed_at", "时间", "when"), ("field", "字段", "field"), ("old_value", "原值", "from"),
                                       ("new_value", "新值", "to"), ("operator", "操作人", "who"), ("audit_seq", "日志序号", "log seq")],
                     title=t("变更历史", "History"))
    if data["conflicts"]:
        output.table(data["conflicts"], [("uscc", "统一社会信用代码", "entity code"), ("entity", "名称", "entity"),
                                         ("reason", "回避原因", "reason")], title=t("申报回避", "Declared conflicts"))


@conflicts_app.command("import", help=t("导入回避关系（执法证号、统一社会信用代码、原因）", "Import declared conflicts (certificate, entity code, reason)"))
def conflicts_import(
    file: InFile,
    encoding: Encoding = None,
    skip_invalid: SkipInvalid = False,
    rejects: Rejects = None,
    force: Force = False,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services.importing import write_rejects
    from shuangsuiji.services.inspectors import import_conflicts

    context.check_file(file)
    check_rejects(rejects, file)
    with context.writing(dry_run) as conn:
        result, parsed, table = import_conflicts(
            conn, file, operator=context.settings.who(), encoding=encoding, skip_invalid=skip_invalid
        )
    if rejects is not None and parsed.rejected:
        write_rejects(rejects, table, parsed.rejected)
    result["dry_run"] = dry_run
    result["rejected_rows"] = [p.to_json() for p, _ in parsed.rejected]
    if as_json:
        output.emit_json(result)
    else:
        output.summary(result, SUMMARY)


@conflicts_app.command("list", help=t("列出回避关系", "List declared conflicts"))
def conflicts_list(as_json: Json = False) -> None:
    from shuangsuiji.services.inspectors import list_conflicts

    with context.reading() as conn:
        rows = list_conflicts(conn)
    if as_json:
        output.emit_json(rows)
    else:
        output.table(rows, [("cert_no", "执法证号", "certificate"), ("officer", "姓名", "officer"), ("department", "部门", "dept"),
                            ("uscc", "统一社会信用代码", "entity code"), ("entity", "名称", "entity"), ("reason", "回避原因", "reason")])
