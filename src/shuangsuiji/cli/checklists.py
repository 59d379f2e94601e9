"""`shuangsuiji checklists`: the joint checklist 联合清单 (第六条)."""

from pathlib import Path
from typing import Annotated, Optional, Sequence

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import DryRun, Force, Json
from shuangsuiji.errors import ExitCode, Problem
from shuangsuiji.i18n import t

app = typer.Typer(help=t("联合抽查事项清单（第六条）", "Joint checklist 联合清单 (第六条)"), no_args_is_help=True)

YamlFile = Annotated[Path, typer.Argument(help=t("联合清单 YAML 文件", "checklist YAML file"), show_default=False)]
Version = Annotated[Optional[str], typer.Option("--version", help=t("清单版本（默认：最近导入的）", "checklist version (default: the latest imported)"))]

SUMMARY = [("version", "版本", "version"), ("entries", "条目", "entries"), ("items", "事项", "items"),
           ("inserted", "新增", "inserted"), ("unchanged", "未变", "unchanged")]

ENTRY_COLUMNS = [
    ("id", "编号", "id"),
    ("area", "抽查领域", "area"),
    ("object_type", "检查对象", "objects"),
    ("initiating", "发起部门", "initiating"),
    ("cooperating", "配合部门", "cooperating"),
    ("item_count", "事项数", "items"),
    ("local", "增补", "local"),
]
ITEM_COLUMNS = [
    ("id", "编号", "id"),
    ("name", "抽查事项", "check item"),
    ("department", "实施部门", "by"),
    ("basis", "检查依据", "legal basis"),
    ("methods", "检查方式", "methods"),
    ("key_item", "重点", "key"),
]


def print_problems(problems: Sequence[Problem], title_zh: str, title_en: str) -> None:
    """A check command's findings are its data: one line each on stdout."""
    if not problems:
        return
    console = output.out_console()
    console.print(t(f"{title_zh}（{len(problems)}）：", f"{title_en} ({len(problems)}):"), markup=False)
    for problem in problems:
        console.print("  " + str(problem), markup=False)


@app.command("validate", help=t(
    "校验联合清单文件（结构及第六条规则；有存储时还核对部门代码）；有问题时列出全部并以退出码 3 结束；不写入",
    "Check a checklist file (schema and 第六条 rules; department codes too when there is a store); exit 3 listing every "
    "problem; writes nothing",
))
def validate(file: YamlFile, as_json: Json = False) -> None:
    from shuangsuiji.services.checklists import validate_file
    from shuangsuiji.store.dialect import sqlite_path

    context.check_file(file)
    db = sqlite_path(context.settings.db)
    if db is not None and not db.exists():  # no store: the file alone (a department drafting its list has none)
        report = validate_file(None, file)
    else:
        with context.reading() as conn:
            report = validate_file(conn, file)
    if not report["departments_checked"]:  # stderr: a script reading --json sees it too
        output.warn(t(f"没有存储 {db}：未核对部门代码（用 --db 指定存储即可核对）",
                      f"No store at {db}: department codes were not checked (point --db at a store to check them)"))
    if as_json:
        output.emit_json({**report, "problems": [p.to_json() for p in report["problems"]]})
    else:
        print_problems(report["problems"], "问题", "Problems")
        if report["ok"]:
            output.info(t(f"{file}：联合清单 {report['version']} 有效（{report['entries']} 个条目，{report['items']} 个事项）",
                          f"{file}: checklist {report['version']} is valid ({report['entries']} entries, {report['items']} items)"))
        else:
            output.error(t(f"{file}：发现 {len(report['problems'])} 处问题", f"{file}: {len(report['problems'])} problem(s) found"))
    if not report["ok"]:
        raise typer.Exit(ExitCode.PROBLEMS)


@app.command("import", help=t(
    "导入联合清单的一个版本（以 version 为键；旧版本保留；同一版本内容不同则拒绝）",
    "Import a checklist version (keyed by `version`; older versions stay; the same version with other content is refused)",
))
def import_(file: YamlFile, dry_run: DryRun = False, as_json: Json = False) -> None:
    from shuangsuiji.services.checklists import import_checklist

    context.check_file(file)
    with context.writing(dry_run) as conn:
        result = import_checklist(conn, file, context.settings.who())
    result["dry_run"] = dry_run
    if as_json:
        output.emit_json(result)
        return
    output.summary(result, SUMMARY)
    if result["result"] == "unchanged":
        output.info(t(f"版本 {result['version']} 已导入且内容相同：未变（已记入审计日志）",
                      f"version {result['version']} is already imported with the same content: unchanged (logged)"))
    if dry_run:
        output.info(t("（试运行：未写入）", "(dry run: nothing written)"))


@app.command("list", help=t("列出已导入的联合清单版本", "List the imported checklist versions"))
def list_(as_json: Json = False) -> None:
    from shuangsuiji.services.checklists import list_checklists

    with context.reading() as conn:
        rows = list_checklists(conn)
    if as_json:
        output.emit_json(rows)
        return
    output.table(rows, [("version", "版本", "version"), ("title", "名称", "title"), ("issued_on", "印发日期", "issued"),
                        ("entries", "条目", "entries"), ("items", "事项", "items"), ("latest", "最新", "latest"),
                        ("plans", "计划数", "plans"), ("imported_at", "导入时间", "imported"),
                        ("operator", "操作人", "operator")])


@app.command("show", help=t(
    "显示一个版本（按版本号），或最新版本（或 --version 指定版本）中的一个条目或检查事项（按编号）",
    "Show a version (by label), or an entry or check item (by id) of the latest version or of --version",
))
def show(
    ident: Annotated[str, typer.Argument(metavar="ID", help=t("版本号、条目编号或事项编号", "version label, entry id or item id"), show_default=False)],
    version: Version = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services.checklists import show as show_

    with context.reading() as conn:
        data = show_(conn, ident, version)
    if as_json:
        output.emit_json(data)
        return
    if data["kind"] == "version":
        output.record(data, [("version", "版本", "version"), ("title", "名称", "title"), ("issued_by", "制定", "issued by"),
                             ("issued_on", "印发日期", "issued on"), ("based_on", "依据", "based on"),
                             ("source_file", "来源文件", "source file"), ("sha256", "SHA-256", "SHA-256"),
                             ("imported_at", "导入时间", "imported"), ("operator", "操作人", "operator")])
        rows = [{**e, "item_count": len(e["items"]), "local": e["local_addition"] is not None} for e in data["entries"]]
        output.table(rows, ENTRY_COLUMNS, title=t("条目", "Entries"))
    elif data["kind"] == "entry":
        output.record(data, [("version", "版本", "version"), ("id", "编号", "id"), ("area", "抽查领域", "area"),
                             ("object_type", "检查对象", "objects"), ("initiating", "发起部门", "initiating"),
                             ("cooperating", "配合部门", "cooperating"), ("local_addition", "增补/备案", "local addition")])
        output.table(data["items"], ITEM_COLUMNS, title=t("抽查事项", "Check items"))
    else:
        output.record(data, [("version", "版本", "version"), ("entry", "条目", "entry"), ("id", "编号", "id"),
                             ("name", "抽查事项", "check item"), ("department", "实施部门", "performed by"),
                             ("basis", "检查依据", "legal basis"), ("methods", "检查方式", "methods"),
                             ("key_item", "重点事项", "key item"), ("object_type", "检查对象", "objects"),
                             ("initiating", "发起部门", "initiating"), ("cooperating", "配合部门", "cooperating")])


@app.command("diff", help=t("比较两个版本：条目和事项的新增、删除、修改", "Compare two versions: entries and items added, removed, changed"))
def diff(
    version_a: Annotated[str, typer.Argument(metavar="VERSION_A", show_default=False)],
    version_b: Annotated[str, typer.Argument(metavar="VERSION_B", show_default=False)],
    as_json: Json = False,
) -> None:
    from shuangsuiji.services.checklists import diff as diff_

    with context.reading() as conn:
        data = diff_(conn, version_a, version_b)
    if as_json:
        output.emit_json(data)
        return
    if data["identical"]:
        output.info(t(f"{version_a} 与 {version_b} 内容相同", f"{version_a} and {version_b} are identical"))
        return
    s = data["summary"]
    output.info(t(
        f"{version_a} → {version_b}：条目 新增 {s['entries_added']}、删除 {s['entries_removed']}、修改 {s['entries_changed']}；"
        f"事项 新增 {s['items_added']}、删除 {s['items_removed']}、修改 {s['items_changed']}",
        f"{version_a} → {version_b}: entries +{s['entries_added']} -{s['entries_removed']} ~{s['entries_changed']}; "
        f"items +{s['items_added']} -{s['items_removed']} ~{s['items_changed']}",
    ))
    rows = []
    for part, zh_part, en_part in (("entries", "条目", "entry"), ("items", "事项", "item")):
        for kind, zh_kind, en_kind in (("added", "新增", "added"), ("removed", "删除", "removed")):
            for x in data[part][kind]:
                rows.append({"change": t(f"{zh_part}{zh_kind}", f"{en_part} {en_kind}"), "id": x["id"],
                             "detail": x.get("name") or f"{x.get('area')} / {x.get('object_type')}"})
        for x in data[part]["changed"]:
            for name, change in x["changes"].items():
                rows.append({"change": t(f"{zh_part}修改", f"{en_part} changed"), "id": x["id"],
                             "detail": f"{name}: {_short(change['old'])} → {_short(change['new'])}"})
    for name, change in data["header"].items():
        rows.append({"change": t("清单信息", "header"), "id": name, "detail": f"{_short(change['old'])} → {_short(change['new'])}"})
    output.table(rows, [("change", "变化", "change"), ("id", "编号", "id"), ("detail", "内容", "detail")])


def _short(value, width: int = 60) -> str:
    if isinstance(value, list):
        value = "、".join(map(str, value))
    elif isinstance(value, dict):
        value = output.canonical_short(value, width)
    value = "" if value is None else str(value)
    return value if len(value) <= width else value[: width - 1] + "…"


@app.command("export", help=t(
    "导出联合清单用于公示（XLSX 中文表头 / CSV / JSON，每个抽查事项一行）",
    "Export the checklist for publication (XLSX with Chinese headers / CSV / JSON, one row per check item)",
))
def export(
    version: Version = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help=t("xlsx、csv 或 json（默认按 -o 的扩展名，否则 json）", "xlsx, csv or json (default: from the -o suffix, else json)"))] = None,
    out: Annotated[Optional[Path], typer.Option("-o", "--output", help=t("输出文件（CSV/JSON 默认输出到标准输出）", "output file (CSV/JSON default to stdout)"))] = None,
    force: Force = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services.checklists import FORMATS, export as export_

    if fmt is None:
        suffix = out.suffix.lower().lstrip(".") if out else ""
        fmt = suffix if suffix in FORMATS else "json"
    fmt = fmt.lower()
    with context.reading() as conn:
        summary, document = export_(conn, version, fmt, out)
    if document is not None:
        import sys

        sys.stdout.write(document)
        return
    if as_json:
        output.emit_json(summary)
    else:
        output.info(t(f"已导出联合清单 {summary['version']}（{summary['rows']} 个事项）到 {out}",
                      f"Exported checklist {summary['version']} ({summary['rows']} items) to {out}"))
