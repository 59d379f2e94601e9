"""`shuangsuiji reports`: plan compliance (第七条), a task's results, the year (第十七条).

Read-only. A table on the terminal by default; ``--json`` prints the report's JSON;
``--format csv|xlsx|html -o FILE`` writes a file (the format can also come from FILE's suffix).
docs/reports.md describes every section and key.
"""

import hashlib
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import Force, Json
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.i18n import t

app = typer.Typer(help=t("报告：年度计划执行（第七条）、任务检查结果、年度问题发现率和工作量（第十七条）",
                         "Reports: plan compliance (第七条), a task's results, the year's problem rates and workload (第十七条)"),
                  no_args_is_help=True)

Year = Annotated[int, typer.Argument(metavar="YEAR", help=t("年度", "year"), show_default=False)]
Format = Annotated[Optional[str], typer.Option(
    "--format", "-f", metavar="table|json|csv|xlsx|html",
    help=t("输出格式（默认：终端表格；给出 -o 时按文件后缀）", "output format (default: a table; with -o, from the file's suffix)"))]
Out = Annotated[Optional[Path], typer.Option(
    "-o", "--output", help=t("写入此文件（xlsx 必须给出）", "write to this file (required for xlsx)"), show_default=False)]

SUFFIXES = {".json": "json", ".csv": "csv", ".xlsx": "xlsx", ".html": "html", ".htm": "html"}


def _usage(zh: str, en: str) -> UserError:
    return UserError(zh, en, code=ExitCode.USAGE)


def _format(fmt: str | None, out: Path | None, as_json: bool) -> str:
    """The format to produce, from --format, -o's suffix and --json; usage errors exit 2."""
    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in ("table", "json", "csv", "xlsx", "html"):
            raise _usage(f"--format 应为 table、json、csv、xlsx 或 html，当前为 {fmt}",
                         f"--format must be table, json, csv, xlsx or html; got {fmt}")
    elif out is not None:
        fmt = SUFFIXES.get(out.suffix.lower())
        if fmt is None:
            raise _usage(f"无法从文件后缀判断格式：{out}（用 --format 指定）",
                         f"Cannot tell the format from the suffix of {out} (give --format)")
    else:
        fmt = "json" if as_json else "table"
    if fmt == "table" and out is not None:
        raise _usage("终端表格不能写入文件：用 --format csv|xlsx|html|json", "A table is for the terminal: use --format csv|xlsx|html|json with -o")
    if fmt == "xlsx" and out is None:
        raise _usage("XLSX 须用 -o 写入文件", "XLSX needs -o FILE")
    return fmt


def _emit(data: dict, fmt: str, out: Path | None, as_json: bool) -> None:
    from shuangsuiji.services import reports

    if fmt == "table":
        _print_tables(data)
        return
    blob = reports.render(data, fmt)
    if out is None:
        sys.stdout.write(blob.decode("utf-8").lstrip("\ufeff"))  # the BOM is for Excel, not for a pipe
        return
    from shuangsuiji.files import replacing

    with replacing(out) as partial:
        partial.write_bytes(blob)
    result = {"report": data["report"], "file": str(out), "format": fmt, "bytes": len(blob),
              "sha256": hashlib.sha256(blob).hexdigest()}
    if as_json:
        output.emit_json(result)
    else:
        output.info(t(f"已写出 {out}（{fmt}，{len(blob)} 字节）", f"Wrote {out} ({fmt}, {len(blob)} bytes)"))


def _print_tables(data: dict) -> None:
    from shuangsuiji import reports_render

    title, overview, sections = reports_render.terminal(data)
    output.table([{"field": k, "value": v} for k, v in overview], [("field", "项目", "field"), ("value", "值", "value")],
                 title=title)
    empty = []
    for section, rows in sections:
        if rows:
            output.table(rows, [(c.key, c.zh, c.en) for c in section.columns], title=section.title)
        else:
            empty.append(section.title)
    if empty:
        output.info(t("无内容：", "Empty: ") + t("、", ", ").join(empty))


@app.command("plan", short_help=t("年度计划执行（第七条）与任务进度", "Plan compliance (第七条) and task progress"), help=t(
    "年度计划执行报告：第七条（3 月底前公布、各部门联合任务占牵头任务 ≥10%，同 plans check），"
    "以及各任务已完成 / 进行中 / 未开始",
    "Plan report: 第七条 (published by 31 March, each department's joint tasks ≥ 10 % of its lead tasks, as "
    "`plans check`), and the tasks done / in progress / not started"))
def plan(year: Year, fmt: Format = None, out: Out = None, force: Force = False, as_json: Json = False) -> None:
    from shuangsuiji.services import reports

    kind = _format(fmt, out, as_json)
    with context.reading() as conn:
        data = reports.plan_report(conn, year)
    _emit(data, kind, out, as_json)


@app.command("task", short_help=t("一次抽取的检查结果、重抽、更换和后续处置", "One draw's results, re-draws, replacements, follow-ups"), help=t(
    "任务报告（一次锁定的抽取）：抽中 / 已检查 / 缺少，按结果分类、检查事项、信用风险分类、部门统计，"
    "作废重抽和执法人员更换及理由，后续处置",
    "Task report (one locked draw): drawn / inspected / missing; results by category, item, risk class and department; "
    "voided re-draws and officer replacements with reasons; follow-ups"))
def task(
    draw: Annotated[str, typer.Argument(help=t("抽取编号（如 2026-09-D1）", "draw id (e.g. 2026-09-D1)"), show_default=False)],
    fmt: Format = None,
    out: Out = None,
    force: Force = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import reports

    kind = _format(fmt, out, as_json)
    with context.reading() as conn:
        data = reports.task_report(conn, draw.strip())
    _emit(data, kind, out, as_json)


@app.command("year", short_help=t("年度问题发现率、工作量和专项检查建议（第十七条）", "The year's problem rates, workload, special-check suggestions (第十七条)"), help=t(
    "年度报告：按检查事项和信用风险分类的问题发现率、各执法人员和部门工作量、年内多次被抽中的检查对象，"
    "以及问题发现率达到阈值、建议开展专项检查的事项（第十七条）",
    "Annual report: problem rates by item and risk class, workload per officer and department, entities drawn more "
    "than once, and the items whose problem rate suggests a special check (第十七条)"))
def year(
    year_: Year,
    threshold: Annotated[Optional[str], typer.Option(
        "--threshold", help=t("专项检查建议：问题发现率不低于此值（默认 20%）", "suggest a special check at this problem rate or above (default 20%)"),
    )] = None,
    min_inspections: Annotated[Optional[int], typer.Option(
        "--min-inspections", help=t("且该事项检查结果不少于此数（默认 10）", "and at least this many results for the item (default 10)"),
    )] = None,
    fmt: Format = None,
    out: Out = None,
    force: Force = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import reports

    kind = _format(fmt, out, as_json)
    limit = reports.parse_threshold(threshold)  # a bad value is a usage error before the store is opened
    with context.reading() as conn:
        data = reports.year_report(conn, year_, threshold=limit, min_inspections=min_inspections)
    _emit(data, kind, out, as_json)
