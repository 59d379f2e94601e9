"""`shuangsuiji publish`: one department's publishable results (第十五条 "谁检查、谁录入、谁公开")."""

from pathlib import Path
from typing import Annotated

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import DryRun, Force, Json
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.i18n import t

HELP = t(
    "导出某部门可公示的检查结果（国家企业信用信息公示系统字段，XLSX/CSV/JSON）：只含本部门事项，"
    "不公示的和结果不全的检查对象不导出并计数；文件的 SHA-256 记入审计日志",
    "Export one department's publishable results (national credit publicity system fields; XLSX/CSV/JSON): only its own "
    "items; not-for-publication results and entities with missing results are left out and counted; the file's "
    "SHA-256 goes into the audit log",
)
SHORT_HELP = t("公示：导出某部门可公示的检查结果（第十五条 谁检查、谁录入、谁公开）",
               "Publish one department's publishable results (第十五条)")
FORMATS = {".xlsx": "xlsx", ".csv": "csv", ".json": "json"}


def publish(
    draw: Annotated[str, typer.Argument(help=t("抽取编号", "draw id"), show_default=False)],
    dept: Annotated[str, typer.Option("--dept", help=t("公示的部门代码", "publishing department code"), show_default=False)],
    out: Annotated[Path, typer.Option("-o", "--output", help=t("输出文件 .xlsx、.csv 或 .json", "output .xlsx, .csv or .json"), show_default=False)],
    force: Force = False,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.files import claim, durable, replacing
    from shuangsuiji.services import publication

    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise UserError(f"输出文件须为 .xlsx、.csv 或 .json：{out}", f"The output must be .xlsx, .csv or .json: {out}", code=ExitCode.USAGE)
    recorded = {}
    if dry_run:
        claim(out)  # what the real run would refuse, the dry run refuses too
        with context.writing(dry_run) as conn:
            prepared = _prepare(conn, draw, dept)
    else:
        # Written beside the target and flushed first, moved into place only once the record is
        # committed: a published file always has its record, and a failed record leaves no file behind.
        with replacing(out) as partial, context.writing() as conn:
            prepared = _prepare(conn, draw, dept)
            publication.write_file(partial, fmt, prepared)
            _, sha256 = durable(partial)
            recorded = {"sha256": sha256, **publication.record(conn, prepared, file=str(out), fmt=fmt, sha256=sha256,
                                                                operator=context.settings.who())}
    result = {"draw": draw, "department": prepared["department"], "file": None if dry_run else str(out), "format": fmt,
              "rows": len(prepared["rows"]), **prepared["summary"], **recorded, "dry_run": dry_run}
    if as_json:
        output.emit_json(result)
        return
    s = prepared["summary"]
    output.info(t(f"{'（试运行）' if dry_run else '已写出 ' + str(out)}：公示 {s['published']} 条；不公示 {s['withheld']} 条；"
                  f"结果不全未公示的检查对象 {s['incomplete_entities']} 个",
                  f"{'(dry run)' if dry_run else 'Wrote ' + str(out)}: {s['published']} published; {s['withheld']} withheld; "
                  f"{s['incomplete_entities']} entities with missing results left out"))
    for reason, n in s["withheld_by_reason"].items():
        output.info(t(f"  不公示（{reason}）：{n}", f"  withheld ({reason}): {n}"))
    if recorded:
        output.info(f"SHA-256 {recorded['sha256']}")



def _prepare(conn, draw: str, dept: str) -> dict:
    from shuangsuiji.services import publication

    prepared = publication.prepare(conn, draw, dept)
    if not prepared["rows"]:
        raise publication.nothing_to_publish(prepared)
    return prepared
