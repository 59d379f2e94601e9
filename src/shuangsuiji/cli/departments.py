"""`shuangsuiji departments`: the joint meeting's member departments."""

from pathlib import Path
from typing import Annotated

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import DryRun, Json
from shuangsuiji.i18n import t

app = typer.Typer(help=t("联席会议成员部门（第六条）", "Member departments of the joint meeting (第六条)"), no_args_is_help=True)

SUMMARY = [("inserted", "新增", "inserted"), ("updated", "更新", "updated"), ("unchanged", "未变", "unchanged")]


@app.command("import", help=t("从 YAML 或 CSV 导入部门（代码、名称）", "Import departments (code, name) from YAML or CSV"))
def import_(
    file: Annotated[Path, typer.Argument(help=t("departments.yaml 或 CSV", "departments.yaml or a CSV"), show_default=False)],
    as_json: Json = False,
    dry_run: DryRun = False,
) -> None:
    from shuangsuiji.services import departments

    context.check_file(file)
    with context.writing(dry_run) as conn:
        result = departments.import_departments(conn, file, context.settings.who())
    result["dry_run"] = dry_run
    if as_json:
        output.emit_json(result)
    else:
        output.summary(result, SUMMARY)


@app.command("list", help=t("列出部门", "List departments"))
def list_(as_json: Json = False) -> None:
    from shuangsuiji.services import departments

    with context.reading() as conn:
        rows = departments.list_departments(conn)
    if as_json:
        output.emit_json(rows)
    else:
        output.table(rows, [("code", "代码", "code"), ("name", "名称", "name"), ("inspectors", "执法人员数", "officers")])
