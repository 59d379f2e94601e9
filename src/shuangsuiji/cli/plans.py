"""`shuangsuiji plans`: the annual joint-check plan 年度计划 (第七条)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.checklists import print_problems
from shuangsuiji.cli.options import DryRun, Force, Json
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.i18n import t

app = typer.Typer(help=t("联合抽查年度计划（第七条）", "Annual joint-check plan 年度计划 (第七条)"), no_args_is_help=True)

Year = Annotated[int, typer.Argument(metavar="YEAR", help=t("计划年度", "plan year"), show_default=False)]
VersionOpt = Annotated[Optional[int], typer.Option("--version", help=t("计划版本（默认：最新）", "plan version (default: the latest)"))]

SHARE_COLUMNS = [
    ("department", "部门", "department"),
    ("name", "名称", "name"),
    ("lead_tasks", "牵头抽查任务", "lead tasks"),
    ("outside_tasks", "其中计划外单部门", "of which outside the plan"),
    ("joint_tasks", "牵头联合任务", "joint tasks led"),
    ("percent", "占比", "share"),
    ("verdict", "第七条 ≥10%", "第七条 ≥10%"),
]


def _today():
    from datetime import date

    return date.today()


@app.command("import", help=t(
    "导入年度计划 YAML，作为该年度的新版本（1、2、……）；草稿有问题也保存，以便检查",
    "Import a plan YAML as the year's next version (1, 2, …); a draft is stored even with problems, so it can be checked",
))
def import_(
    file: Annotated[Path, typer.Argument(help=t("年度计划 YAML 文件", "plan YAML file"), show_default=False)],
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services.plans import import_plan

    context.check_file(file)
    with context.writing(dry_run) as conn:
        result = import_plan(conn, file, context.settings.who(), _today())
    report = result.pop("report")
    result["dry_run"] = dry_run
    if as_json:
        output.emit_json({**result, "report": report.to_json()})
        return
    if result["result"] == "unchanged":
        output.info(t(f"{result['year']} 年度计划与最新版本 {result['version']} 相同：未变（已记入审计日志）",
                      f"the {result['year']} plan equals its latest version {result['version']}: unchanged (logged)"))
    else:
        output.info(t(f"已导入 {result['year']} 年度计划版本 {result['version']}（{result['tasks']} 个任务，草稿）",
                      f"imported the {result['year']} plan as version {result['version']} ({result['tasks']} tasks, draft)"))
    if report.problems:
        output.warn(t(f"计划有 {len(report.problems)} 处问题，公布前须修正（shuangsuiji plans check {result['year']}）",
                      f"the plan has {len(report.problems)} problem(s) to fix before publication (shuangsuiji plans check {result['year']})"))
    if dry_run:
        output.info(t("（试运行：未写入）", "(dry run: nothing written)"))


@app.command("check", help=t(
    "检查年度计划（存储中的某年度，或一个 YAML 文件）：第七条公布期限和联合任务占比、比例、时间、部门和事项等；"
    "有问题时退出码 3，只有警告时为 0",
    "Check a plan (a year in the store, or a YAML file): 第七条 deadline and joint-task share, ratios, windows, "
    "departments and items…; exit 3 on any problem, 0 with warnings only",
))
def check(
    target: Annotated[str, typer.Argument(metavar="YEAR|FILE", help=t("计划年度，或计划文件", "plan year, or a plan file"), show_default=False)],
    version: VersionOpt = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services.plans import check_file, check_stored

    with context.reading() as conn:
        if target.isdigit():
            result = check_stored(conn, int(target), version, _today())
        else:
            context.check_file(Path(target))
            if version is not None:
                raise UserError("--version 只用于存储中的年度计划", "--version applies to a year in the store, not a file", code=ExitCode.USAGE)
            result = check_file(conn, Path(target), _today())
    report = result.pop("_report")
    if as_json:
        output.emit_json(result)
    else:
        rows = [{**r, "verdict": (t("发起部门，未牵头任务", "initiator, leads none") if r["no_lead_task"] else "—") if r["ok"] is None
                 else t("是", "yes") if r["ok"] else t("否", "NO")} for r in result["ratios"]]
        label = t(f"{result['year']} 年度计划", f"{result['year']} plan") + (
            t(f" 版本 {result['version']}", f" version {result['version']}") if result["version"] else f" ({result['file']})")
        output.table(rows, SHARE_COLUMNS, title=t(f"{label}：各部门联合抽查任务占比（第七条）", f"{label}: joint-task share per department (第七条)"))
        print_problems(report.problems, "问题", "Problems")
        print_problems(report.warnings, "警告", "Warnings")
        if report.problems:
            output.error(t(f"{label}：{len(report.problems)} 处问题，{len(report.warnings)} 条警告",
                           f"{label}: {len(report.problems)} problem(s), {len(report.warnings)} warning(s)"))
        else:
            output.info(t(f"{label}：没有问题（{len(report.warnings)} 条警告）", f"{label}: no problems ({len(report.warnings)} warning(s))"))
    if report.problems:
        raise typer.Exit(ExitCode.PROBLEMS)


@app.command("list", help=t("列出各年度计划的版本", "List the plan versions of every year"))
def list_(as_json: Json = False) -> None:
    from shuangsuiji.services.plans import list_plans

    with context.reading() as conn:
        rows = list_plans(conn)
    if as_json:
        output.emit_json(rows)
        return
    for row in rows:
        row["state"] = t("已公布", "published") if row["status"] == "published" else t("草稿", "draft")
    output.table(rows, [("year", "年度", "year"), ("version", "版本", "version"), ("title", "名称", "title"),
                        ("checklist_version", "清单版本", "checklist"), ("tasks", "任务数", "tasks"),
                        ("state", "状态", "status"), ("imported_at", "导入时间", "imported"),
                        ("published_at", "公布时间", "published"), ("operator", "操作人", "operator")])


@app.command("show", help=t("显示某年度计划（默认最新版本）及其任务", "Show a year's plan (default: the latest version) and its tasks"))
def show(year: Year, version: VersionOpt = None, as_json: Json = False) -> None:
    from shuangsuiji.services.plans import show_plan

    with context.reading() as conn:
        data = show_plan(conn, year, version)
    if as_json:
        output.emit_json(data)
        return
    data["state"] = t("已公布", "published") if data["status"] == "published" else t("草稿", "draft")
    output.record(data, [("year", "年度", "year"), ("version", "版本", "version"), ("title", "名称", "title"),
                         ("checklist_version", "联合清单版本", "checklist version"), ("state", "状态", "status"),
                         ("published_on", "公布日期（工具记录）", "published on (recorded)"),
                         ("claimed_published_on", "文件所写公布日期（仅为声称）", "published_on in the file (a claim)"),
                         ("published_at", "冻结时间", "frozen at"),
                         ("source_file", "来源文件", "source file"), ("sha256", "SHA-256", "SHA-256"),
                         ("imported_at", "导入时间", "imported"), ("operator", "操作人", "operator")])
    if len(data["publications"]) > 1:  # 第七条: the original publication, then each amendment
        output.table(data["publications"], [("amendment", "修订次序（0 为首次公布）", "amendment (0: first)"),
                                             ("version", "版本", "version"), ("published_on", "公布日期", "published on")],
                     title=t("公布与修订", "Publication and amendments"))
    rows = []
    for task in data["tasks"]:
        scope = task["scope"]
        if scope.get("imported_list"):
            where = t("导入名单", "imported list")
        else:
            filters = {k: v for k, v in (scope.get("directory") or {}).items() if v}
            where = "; ".join(f"{k}={'、'.join(v)}" for k, v in filters.items()) or t("不定向", "whole directory")
        rows.append({**task, "where": where, "ratio_text": " ".join(f"{c}:{r}" for c, r in task["ratios"].items()),
                     "window_text": f"{task['window']['start']}~{task['window']['end']}"})
    output.table(rows, [("id", "任务", "task"), ("name", "名称", "name"), ("checklist_entry", "条目", "entry"),
                        ("initiating", "发起", "lead"), ("cooperating", "配合", "cooperating"), ("where", "范围", "scope"),
                        ("ratio_text", "比例", "ratios"), ("frequency", "频次", "freq."), ("window_text", "时间", "window"),
                        ("special", "专项", "special"), ("created_tasks", "已建任务", "tasks created")],
                 title=t("抽查任务", "Tasks"))


@app.command("publish", help=t(
    "公布年度计划：仅限没有问题的版本；冻结该版本（存储拒绝再修改），记入审计日志，并在目录中写出 plan-YEAR.xlsx 和 plan-YEAR.md",
    "Publish a plan: only a version with no problem; freezes it (the store refuses changes), logs it, and writes "
    "plan-YEAR.xlsx and plan-YEAR.md into the directory",
))
def publish(
    year: Year,
    version: VersionOpt = None,
    out_dir: Annotated[Path, typer.Option("-o", "--output", help=t("公布文件写入的目录（不存在则创建）", "directory for the published documents (created if missing)"))] = Path("."),
    force: Force = False,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services.plans import publish as publish_

    with context.writing(dry_run) as conn:
        result = publish_(conn, year, version, context.settings.who(), out_dir, _today(), write=not dry_run)
    result["dry_run"] = dry_run
    if as_json:
        output.emit_json(result)
        return
    if result["result"] == "unchanged":
        output.info(t(f"{year} 年度计划版本 {result['version']} 已于 {result['published_at']} 公布：未变",
                      f"the {year} plan version {result['version']} was already published at {result['published_at']}: unchanged"))
    elif result["amendment"]:
        output.info(t(f"已公布 {year} 年度计划第 {result['amendment']} 次修订（版本 {result['version']}，修订日期 {result['published_on']}；"
                      f"首次公布 {result['original_published_on']}），该版本已冻结",
                      f"published amendment {result['amendment']} of the {year} plan (version {result['version']}, on "
                      f"{result['published_on']}; first published {result['original_published_on']}); the version is frozen"))
    else:
        output.info(t(f"已公布 {year} 年度计划版本 {result['version']}（公布日期 {result['published_on']}，工具记录），该版本已冻结",
                      f"published the {year} plan version {result['version']} (publication date {result['published_on']}, "
                      f"recorded by the tool); the version is frozen"))
    for w in result["warnings"]:
        output.warn(t(w["message_zh"], w["message"]))
    for f in result["files"]:
        output.info(t(f"将写出 {f}", f"would write {f}") if dry_run else t(f"已写出 {f}", f"wrote {f}"))
    if dry_run:
        output.info(t("（试运行：未写入）", "(dry run: nothing written)"))
