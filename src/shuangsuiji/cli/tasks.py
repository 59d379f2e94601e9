"""`shuangsuiji tasks`: joint-check tasks 联合抽查任务 (第八条, 第九条, 第十七条)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import DryRun, Encoding, Json, Sheet
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.i18n import t

app = typer.Typer(help=t("联合抽查任务（第八条、第九条、第十七条）", "Joint-check tasks 联合抽查任务 (第八条, 第九条, 第十七条)"), no_args_is_help=True)

TaskArg = Annotated[str, typer.Argument(metavar="TASK", help=t("任务编号", "task id"), show_default=False)]
ListFile = Annotated[
    Optional[Path],
    typer.Option("--list", help=t("发起部门导入的检查对象名单（CSV/XLSX，格式同名录库，第九条）", "the initiating department's own object list (CSV/XLSX, directory format, 第九条)")),
]

PREVIEW_COLUMNS = [
    ("class_label", "信用风险分类", "risk class"),
    ("ratio_text", "抽查比例", "ratio"),
    ("in_scope", "范围内", "in scope"),
    ("recent_same_item", "近期已抽同一事项", "recently drawn"),
    ("drawable", "可抽取", "drawable"),
    ("take", "拟抽取", "to draw"),
    ("not_live", "非存续/在业", "not live"),
    ("removed", "已移出名录", "removed"),
]


def _summary(result: dict, dry_run: bool, as_json: bool, done_zh: str, done_en: str) -> None:
    warnings = result.pop("warnings", [])
    result["warnings"] = [w.to_json() for w in warnings]
    result["dry_run"] = dry_run
    if as_json:
        output.emit_json(result)
        return
    for w in warnings:
        output.warn(str(w))
    output.info(t(f"{done_zh}（范围内 {result.get('in_scope', '—')}，按比例拟抽取 {result['to_draw']}；SHA-256 {result.get('sha256', '')[:16]}…）",
                  f"{done_en} (in scope {result.get('in_scope', '—')}, to draw {result['to_draw']}; SHA-256 {result.get('sha256', '')[:16]}…)"))
    if result["to_draw"] == 0:
        output.warn(t("按当前名录库和名单，本任务没有可抽取的检查对象（见 tasks preview）",
                      "with today's directory and list this task has nothing to draw (see tasks preview)"))
    if dry_run:
        output.info(t("（试运行：未写入）", "(dry run: nothing written)"))


@app.command("create", help=t(
    "创建任务：依据已公布的年度计划中的任务（--from-plan YEAR --plan-task ID），或临时任务（--file task.yaml）；"
    "任务依赖的一切在创建时冻结",
    "Create a task from a task of the published plan (--from-plan YEAR --plan-task ID) or ad hoc (--file task.yaml); "
    "everything it depends on is frozen at creation",
))
def create(
    from_plan: Annotated[Optional[int], typer.Option("--from-plan", metavar="YEAR", help=t("年度计划的年度（使用最新的已公布版本）", "plan year (its latest published version is used)"))] = None,
    plan_task: Annotated[Optional[str], typer.Option("--plan-task", metavar="ID", help=t("计划中的任务编号", "task id in the plan"))] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help=t("临时任务 YAML 文件（见 docs/tasks.md）", "ad hoc task YAML file (see docs/tasks.md)"))] = None,
    task_id: Annotated[Optional[str], typer.Option("--id", help=t("任务编号（默认：计划任务编号，或文件中的 id）", "task id (default: the plan task id, or the file's id)"))] = None,
    list_file: ListFile = None,
    encoding: Encoding = None,
    sheet: Sheet = None,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import tasks

    if (from_plan is None) == (file is None):
        raise UserError("请指定 --from-plan YEAR --plan-task ID 或 --file task.yaml（二选一）",
                        "give either --from-plan YEAR --plan-task ID or --file task.yaml", code=ExitCode.USAGE)
    if from_plan is not None and not plan_task:
        raise UserError("--from-plan 需要 --plan-task ID", "--from-plan needs --plan-task ID", code=ExitCode.USAGE)
    if file is not None and plan_task:
        raise UserError("--plan-task 只与 --from-plan 一起使用", "--plan-task goes with --from-plan", code=ExitCode.USAGE)
    if file is not None:
        context.check_file(file)
    if list_file is not None:
        context.check_file(list_file)
    with context.writing(dry_run) as conn:
        if from_plan is not None:
            result = tasks.create_from_plan(conn, from_plan, plan_task, context.settings.who(), task_id=task_id,
                                            list_file=list_file, encoding=encoding, sheet=sheet)
        else:
            result = tasks.create_adhoc(conn, file, context.settings.who(), task_id=task_id, list_file=list_file,
                                        encoding=encoding, sheet=sheet)
    _summary(result, dry_run, as_json, f"已创建任务 {result['id']}", f"created task {result['id']}")


@app.command("import-list", help=t(
    "为“导入名单”任务导入发起部门自行确定的检查对象名单（第九条；校验同名录库；导入后不可更改）",
    "Import the initiating department's own object list for an imported-list task (第九条; validated like the directory; frozen once set)",
))
def import_list(
    task_id: TaskArg,
    file: Annotated[Path, typer.Argument(help=t("名单文件（CSV 或 XLSX）", "list file (CSV or XLSX)"), show_default=False)],
    encoding: Encoding = None,
    sheet: Sheet = None,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import task_lists

    context.check_file(file)
    with context.writing(dry_run) as conn:
        result = task_lists.import_list(conn, task_id, file, context.settings.who(), encoding=encoding, sheet=sheet)
    result["in_scope"] = result["live"]
    _summary(result, dry_run, as_json, f"已为任务 {task_id} 导入名单 {result['entities']} 个检查对象",
             f"imported a list of {result['entities']} entities for task {task_id}")


@app.command("list", help=t("列出任务", "List tasks"))
def list_(
    year: Annotated[Optional[int], typer.Option("--year", help=t("只列出该年度的任务", "only tasks of this year"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services.tasks import list_tasks

    with context.reading() as conn:
        rows = list_tasks(conn, year)
    if as_json:
        output.emit_json(rows)
        return
    for row in rows:
        src = row["source"]
        row["source_text"] = f"{src['plan_year']} v{src['plan_version']} {src['plan_task']}" if src else t("临时任务", "ad hoc")
    output.table(rows, [("id", "任务", "task"), ("name", "名称", "name"), ("source_text", "来源", "source"),
                        ("initiating", "发起", "lead"), ("cooperating", "配合", "cooperating"), ("scope", "范围", "scope"),
                        ("list_entities", "名单", "list"), ("special", "专项", "special"), ("window", "时间", "window"),
                        ("created_at", "创建时间", "created")])


@app.command("show", help=t("显示任务及其冻结的定义", "Show a task and its frozen definition"))
def show(task_id: TaskArg, as_json: Json = False) -> None:
    from shuangsuiji.services.tasks import show_task

    with context.reading() as conn:
        task = show_task(conn, task_id)
    if as_json:
        output.emit_json(task)
        return
    d = task["definition"]
    src = d["source"]
    scope = d["scope"]
    if "imported_list" in scope:
        lst = task.get("list")
        where = t("发起部门导入的名单（第九条）", "imported list (第九条)") + (
            t(f"：{lst['entities']} 个检查对象", f": {lst['entities']} entities") if lst else t("：尚未导入", ": not imported yet"))
    else:
        filters = {k: v for k, v in scope["directory"].items() if v}
        where = "; ".join(f"{k}={'、'.join(v)}" for k, v in filters.items()) or t("名录库全部（不定向）", "whole directory (不定向)")
    data = {
        **task,
        "source_text": t(f"{src['plan_year']} 年度计划 版本 {src['plan_version']} 任务 {src['plan_task']}",
                         f"{src['plan_year']} plan version {src['plan_version']} task {src['plan_task']}") if src else t("临时任务", "ad hoc"),
        "checklist": f"{d['checklist_version']} / {d['checklist_entry']}",
        "object_type": d["object_type"],
        "initiating": d["initiating"],
        "cooperating": d["cooperating"],
        "where": where,
        "ratios": " ".join(f"{c}:{r}" for c, r in d["ratios"].items()) + _scheme_text(d.get("risk_scheme")),
        "rounding": d["rounding"],
        "frequency": d["frequency"],
        "window": f"{d['window']['start']} ~ {d['window']['end']}",
        "special": d["special"],
        "targets": d["targets"],
        "exclude": t(f"{d['exclude_recent']['same_item_days']} 天内同一事项已抽中的不再抽取", f"drawn for the same item within {d['exclude_recent']['same_item_days']} days")
        if d["exclude_recent"] else "",
    }
    output.record(data, [("id", "任务", "task"), ("name", "名称", "name"), ("year", "年度", "year"),
                         ("source_text", "来源", "source"), ("checklist", "联合清单", "checklist"), ("object_type", "检查对象", "objects"),
                         ("initiating", "发起部门", "initiating"), ("cooperating", "配合部门", "cooperating"),
                         ("where", "范围", "scope"), ("ratios", "抽查比例", "ratios"), ("rounding", "取整规则", "rounding"),
                         ("frequency", "频次", "frequency"), ("window", "实施时间", "window"), ("special", "专项", "special"),
                         ("targets", "针对任务", "targets"), ("exclude", "避免重复检查", "exclude recent"),
                         ("sha256", "SHA-256", "SHA-256"), ("created_at", "创建时间", "created"),
                         ("operator", "操作人", "operator")])
    output.table(d["items"], [("id", "编号", "id"), ("name", "检查事项", "check item"), ("department", "实施部门", "by"),
                              ("methods", "检查方式", "methods"), ("key_item", "重点", "key")], title=t("检查事项", "Check items"))


@app.command("preview", help=t(
    "预览抽取：按信用风险分类显示范围内、排除（及原因）和按比例拟抽取的数量——只显示数量，不显示任何检查对象",
    "Preview the draw: per risk class, how many are in scope, excluded (and why) and to be drawn — counts only, never which entities",
))
def preview(task_id: TaskArg, as_json: Json = False) -> None:
    from shuangsuiji.domain.directory import RISK_NAMES
    from shuangsuiji.domain.numbers import ratio_percent
    from shuangsuiji.services.population import preview as preview_

    with context.reading() as conn:
        data = preview_(conn, task_id)
    if as_json:
        output.emit_json(data)
        return
    rows = []
    for s in data["strata"]:
        cls = s["risk_class"]
        label = t("未分类", "unclassified") if cls == "unclassified" else f"{cls} {RISK_NAMES.get(cls, '')}".strip()
        ratio = s["ratio"]
        rows.append({**s, "class_label": label,
                     "ratio_text": t("不抽取", "not drawn") if ratio is None else ratio_percent(ratio)})
    totals = data["totals"]
    rows.append({"class_label": t("合计", "total"), "ratio_text": "", "in_scope": totals["in_scope"],
                 "recent_same_item": data["excluded"]["recent_same_item"], "drawable": totals["drawable"],
                 "take": totals["take"], "not_live": data["excluded"]["not_live"], "removed": data["excluded"]["removed"]})
    rounding = {"ceil_min1": t("向上取整，非空时至少 1", "round up, at least 1 when non-empty"),
                "floor": t("向下取整", "round down"), "round_half_up": t("四舍五入", "round half up"),
                "ordered": t("保持总数和风险顺序", "keep the total and the risk order")}[data["rounding"]]
    output.table(rows, PREVIEW_COLUMNS, title=t(f"任务 {task_id} {data['name']}：抽取预览（取整：{rounding}）",
                                                f"task {task_id} {data['name']}: draw preview (rounding: {rounding})"))
    ex = data["excluded"]
    if ex["unclassified"] or ex["no_ratio"]:
        output.info(t(f"另有未分类（无信用风险分类）{ex['unclassified']} 个、所属分类无抽查比例 {ex['no_ratio']} 个，不抽取",
                      f"also left out: {ex['unclassified']} without a risk class, {ex['no_ratio']} in a class with no ratio"))
    scheme = data["risk_scheme"]
    output.info(t(f"信用风险分类（第四条，由低到高）：{'、'.join(scheme['classes'])}；未分类："
                  f"{ratio_percent(scheme['unclassified']) if scheme['unclassified'] else '不抽取'}"
                  + (f"；名单中无分类的按 {scheme['default_class']} 类" if scheme["default_class"] else ""),
                  f"credit-risk classes (第四条, low to high): {', '.join(scheme['classes'])}; unclassified: "
                  f"{ratio_percent(scheme['unclassified']) if scheme['unclassified'] else 'not drawn'}"
                  + (f"; list entries without a class count as {scheme['default_class']}" if scheme["default_class"] else "")))
    for pair in data["rate_inversions"]:
        output.warn(t(f"第四条：取整后 {pair['lower']} 类（风险较低）的抽查率高于 {pair['higher']} 类（风险较高）",
                      f"第四条: after rounding, class {pair['lower']} (lower risk) is checked at a higher rate than class {pair['higher']} (higher risk)"))
    alt = data["ordered_alternative"]
    if alt:
        takes = "、".join(f"{c} {k}" for c, k in alt["takes"].items())
        output.info(t(f"可改用 rounding: ordered（保持总数 {alt['take']} 和风险顺序）：{takes}（见 docs/draw-algorithm.md）",
                      f"rounding: ordered would keep the total ({alt['take']}) and the risk order: {takes} (see docs/draw-algorithm.md)"))
    rule = data["exclude_recent"]
    if rule:
        others = "、".join(rule["tasks"]) or t("无", "none")
        output.info(t(f"避免重复检查：排除 {rule['since'][:10]} 以来（{rule['same_item_days']} 天内）其他任务（含上一年度，共有检查事项：{others}）已锁定抽中的检查对象",
                      f"avoid repeated checks: excluded entities locked since {rule['since'][:10]} ({rule['same_item_days']} days) "
                      f"by other tasks (previous year included) sharing a check item ({others})"))
    if data["list_imported"] is False:
        output.warn(t(f"任务 {task_id} 尚未导入检查对象名单：shuangsuiji tasks import-list {task_id} FILE",
                      f"task {task_id} has no imported list yet: shuangsuiji tasks import-list {task_id} FILE"))
    elif totals["take"] == 0:
        output.warn(t("本任务目前没有可抽取的检查对象", "this task has nothing to draw today"))


def _scheme_text(scheme: dict | None) -> str:
    """第四条: the task's own class scheme, after its ratios (nothing for the default A–D)."""
    if not scheme:
        return ""
    parts = [t(f"（类别由低到高：{'、'.join(scheme['classes'])}", f" (classes low to high: {', '.join(scheme['classes'])}")]
    if scheme["unclassified"] is not None:
        parts.append(t(f"；未分类:{scheme['unclassified']}", f"; unclassified:{scheme['unclassified']}"))
    if scheme["default_class"] is not None:
        parts.append(t(f"；名单中无分类的按 {scheme['default_class']} 类", f"; list entries without a class count as {scheme['default_class']}"))
    return "".join(parts) + t("）", ")")
