"""`shuangsuiji demo`: the whole cycle so far, on the bundled 连州市 example data, into a fresh store."""

import shlex
from pathlib import Path
from typing import Annotated

import typer

from shuangsuiji.cli import output
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.i18n import t
from shuangsuiji import files, i18n

HELP = t(
    "用内置的连州市示例数据在一个全新的存储上演示全流程，并打印每一步的命令",
    "Run the cycle on the bundled 连州市 example data in a fresh store, printing each command",
)


def example_dir() -> Path:
    """The example data: inside the installed package, or examples/ of a source checkout."""
    packaged = Path(__file__).resolve().parent.parent / "examples" / "lianzhou"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "examples" / "lianzhou"
    if checkout.is_dir():
        return checkout
    raise UserError("找不到示例数据 examples/lianzhou", "Example data examples/lianzhou not found")


def checklist_dir() -> Path:
    """The shipped joint checklists: inside the installed package, or checklists/ of a source checkout."""
    packaged = Path(__file__).resolve().parent.parent / "checklists"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "checklists"
    if checkout.is_dir():
        return checkout
    raise UserError("找不到联合清单目录 checklists", "Joint checklists (checklists/) not found")


def steps(data: Path, out: Path = Path(".")) -> list[tuple[str, str, object]]:
    """(Chinese title, English title, arguments or a callable(db)) of each step; files go to ``out``."""
    checklist = str(checklist_dir() / "lianzhou-joint-checklist.yaml")
    return [
        ("创建存储", "create the store", ["init"]),
        ("导入联席会议成员部门", "import the joint meeting's departments", ["departments", "import", str(data / "departments.yaml")]),
        ("导入检查对象名录库", "import the object directory", ["objects", "import", str(data / "objects.csv")]),
        ("导入执法检查人员名录库", "import the inspector directory", ["inspectors", "import", str(data / "inspectors.csv")]),
        ("导入回避关系", "import declared conflicts", ["conflicts", "import", str(data / "conflicts.csv")]),
        ("校验联合清单（第六条）", "validate the joint checklist (第六条)", ["checklists", "validate", checklist]),
        ("导入联合清单", "import the joint checklist", ["checklists", "import", checklist]),
        ("导入年度计划（草稿）", "import the annual plan (draft)", ["plans", "import", str(data / "plan-2026.yaml")]),
        ("检查年度计划（第七条）", "check the annual plan (第七条)", ["plans", "check", "2026"]),
        ("公布年度计划：冻结并写出 XLSX 和 Markdown", "publish the plan: freeze it, write XLSX and Markdown",
         ["plans", "publish", "2026", "-o", str(out)]),
        ("依据计划创建任务", "create a task from the plan", ["tasks", "create", "--from-plan", "2026", "--plan-task", "2026-07"]),
        ("创建任务，导入发起部门的检查对象名单（第九条）", "create a task with the initiating department's own list (第九条)",
         ["tasks", "create", "--from-plan", "2026", "--plan-task", "2026-01", "--list", str(data / "school-canteens.csv")]),
        ("创建临时任务", "create an ad hoc task", ["tasks", "create", "--file", str(data / "task-2026-canteens-adhoc.yaml")]),
        ("抽取预览：只显示数量", "preview the draw: counts only", ["tasks", "preview", "2026-07"]),
        *draw_steps(out),
        ("再次导入同一文件：全部未变，记一条日志", "re-import the same file: all unchanged, one log entry",
         ["objects", "import", str(data / "objects.csv")]),
        ("高风险（D 类）检查对象", "high-risk (class D) entities", ["objects", "list", "--risk-class", "D", "--limit", "5"]),
        ("各部门及执法人员数", "departments and their officers", ["departments", "list"]),
        ("校验审计日志哈希链", "verify the audit log's hash chain", ["audit", "verify"]),
        ("可公布的链头", "the head to publish", ["audit", "head"]),
    ]


DEMO_TASK, DEMO_SECRET, DEMO_DICE = "2026-L01", "SCJG 会前密封的随机口令 7f3a", "31415926535897932384"


def draw_steps(out: Path) -> list[tuple[str, str, list[str]]]:
    """A committed draw (第九条): freeze and commit, a department's secret committed and
    revealed, witnessed dice, draw and lock, officers (第十条/第十一条), dispatch, bundle, verify."""
    from shuangsuiji.domain.seed import commit_hash

    draw = f"{DEMO_TASK}-D1"
    bundle = str(out / f"bundle-{draw}.json")
    return [
        ("承诺：冻结范围和参数，约定种子来源（部门秘密 + 见证掷骰）",
         "commit: freeze population and parameters, name the seed sources (a department's secret + witnessed dice)",
         ["draws", "commit", DEMO_TASK, "--dept", "SCJG", "--dice", "2026-12-01 连州市市场监管局会议室，纪检组见证"]),
        ("市场监管局提交秘密的哈希", "the bureau commits to its secret by hash",
         ["draws", "contribute", DEMO_TASK, "--dept", "SCJG", "--commit", commit_hash(DEMO_SECRET)]),
        ("揭示秘密（须与哈希一致）", "reveal the secret (it must match the hash)",
         ["draws", "reveal", DEMO_TASK, "--dept", "SCJG", "--secret", DEMO_SECRET]),
        ("掷骰后抽取并锁定名单", "after the dice roll: draw and lock the list", ["draws", "run", DEMO_TASK, "--dice", DEMO_DICE]),
        ("抽取执法人员、组成检查小组", "draw the officers and form the teams", ["draws", "inspectors", draw]),
        ("锁定的名单（含号签和小组）", "the locked list (tickets and teams)", ["draws", "show", draw]),
        ("下发生态环境分局的名单", "dispatch the environment bureau's list",
         ["draws", "dispatch", draw, "--dept", "STHJ", "-o", str(out / f"dispatch-{draw}-STHJ.xlsx")]),
        ("导出证据包", "export the bundle", ["draws", "export", draw, "-o", bundle]),
        ("离线复核证据包（不需要存储）", "verify the bundle offline (no store needed)", ["verify", bundle]),
        *result_steps(out, draw),
    ]


def result_steps(out: Path, draw: str) -> list[tuple[str, str, object]]:
    """Results (第十二条 to 第十六条): each department's template, filled in as its officers would
    (the demo does it itself), imported; the status, the follow-up, each department's publication."""
    steps: list[tuple[str, str, object]] = []
    for dept in ("SCJG", "STHJ"):
        blank, filled = out / f"results-{draw}-{dept}.xlsx", out / f"results-{draw}-{dept}-filled.xlsx"
        steps += [
            (f"{dept} 的检查结果表（含下拉选项）", f"{dept}'s results template (with drop-downs)",
             ["results", "template", draw, "--dept", dept, "-o", str(blank)]),
            (f"演示自动填写 {dept} 的结果表（第一户发现问题并责令改正）",
             f"the demo fills in {dept}'s template (a problem ordered corrected at the first entity)",
             lambda db, blank=blank, filled=filled: fill_results(db, draw, blank, filled)),
            (f"导入 {dept} 的检查结果", f"import {dept}'s results", ["results", "import", draw, str(filled)]),
        ]
    steps += [
        ("检查进度：每户一次检查覆盖全部事项（第十二条）", "progress: one inspection per entity covers every item (第十二条)",
         ["results", "status", draw]),
        ("后续监管（第十六条）", "follow-ups (第十六条)", ["followups", "list", "--draw", draw]),
    ]
    for dept in ("SCJG", "STHJ"):
        steps.append((f"{dept} 公示本部门的检查结果（第十五条 谁检查、谁录入、谁公开）",
                      f"{dept} publishes its own results (第十五条)",
                      ["publish", draw, "--dept", dept, "-o", str(out / f"publish-{draw}-{dept}.xlsx")]))
    archive = str(out / f"archive-{draw}.zip")
    steps += [
        ("任务报告：抽取、检查、缺失、结果分类、后续监管", "task report: drawn, inspected, missing, results, follow-ups",
         ["reports", "task", draw]),
        ("任务报告（含图表的单个 HTML 文件，可离线打开）", "the task report as one self-contained HTML file with charts",
         ["reports", "task", draw, "--format", "html", "-o", str(out / f"report-{draw}.html")]),
        ("年度计划执行情况（第七条）", "the plan's compliance and progress (第七条)",
         ["reports", "plan", "2026", "--format", "html", "-o", str(out / "report-plan-2026.html")]),
        ("年度报告：问题发现率、执法人员工作量、专项检查建议（第十七条）",
         "the year: problem rates, officers' workload, special checks suggested (第十七条)",
         ["reports", "year", "2026", "--format", "xlsx", "-o", str(out / "report-year-2026.xlsx")]),
        ("执法文书：联合抽查通知书和实地检查表（DOCX）", "forms: joint-check notices and on-site checklists (DOCX)",
         ["forms", "checklist", draw, "-o", str(out / "forms")]),
        ("立卷归档（第十八条）", "archive the task (第十八条)", ["archive", draw, "-o", archive]),
        ("离线核对归档包（不需要存储）", "verify the archive offline (no store needed)", ["archive", "verify", archive]),
    ]
    return steps


def fill_results(db: Path, draw: str, blank: Path, filled: Path) -> str:
    """Fill a results template as a department would in Excel: every row inspected on the second
    day of the window with the item's first method and signed; the first entity has a problem."""
    import datetime

    from openpyxl import load_workbook

    from shuangsuiji.services import tasks
    from shuangsuiji.store.engine import Store

    store = Store(str(db))
    with store.read() as conn:
        definition = tasks.get_task(conn, draw.rsplit("-D", 1)[0])["definition"]
    store.dispose()
    methods = {item["id"]: item["methods"][0] for item in definition["items"]}
    # the second day of the window, but never after today (第十四条: only inspections that took place)
    day = min(datetime.date.fromisoformat(definition["window"]["start"]) + datetime.timedelta(days=1), datetime.date.today())
    book = load_workbook(blank)
    ws = book.worksheets[0]
    col = {ws.cell(1, c).value: c for c in range(1, ws.max_column + 1)}
    first = ws.cell(2, col["统一社会信用代码"]).value
    for r in range(2, ws.max_row + 1):
        problem = ws.cell(r, col["统一社会信用代码"]).value == first
        values = {
            "检查结果": "发现问题已责令改正" if problem else "未发现问题",
            "检查方式": methods[ws.cell(r, col["检查事项编号"]).value],
            "检查日期": day, "签字情况": "签字", "后续处置": "责令改正" if problem else "无需处置", "是否公示": "是",
        }
        for header, value in values.items():
            ws.cell(r, col[header]).value = value
    book.save(filled)
    return f"{filled} ({ws.max_row - 1} rows)"


def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help=t("演示存储和输出所在目录", "Directory for the demo store and outputs"))
    ] = Path("shuangsuiji-demo"),
) -> None:
    data = example_dir()
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "demo.db"
    for suffix in ("", "-wal", "-shm"):  # a fresh store every time
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    lang = ["--lang", i18n.LANG]
    with files.overwriting():  # the demo's folder is its own: a rerun replaces its earlier outputs
        _run_steps(steps(data, directory), db, lang)
    output.info("")
    output.info(t(f"完成。演示存储：{db}（可用 --db {db} 继续试用各命令）",
                  f"Done. Demo store: {db} (try any command with --db {db})"))


def _run_steps(steps_: list, db: Path, lang: list[str]) -> None:
    from shuangsuiji.cli.main import main

    for number, (zh, en, args) in enumerate(steps_, start=1):
        output.info("")
        output.info(f"[{number}] {t(zh, en)}")
        if callable(args):  # a step a person would do by hand, e.g. filling in a spreadsheet
            output.info("→ " + args(db))
            continue
        argv = ["--db", str(db), *lang, *args]
        output.info("$ shuangsuiji " + " ".join(shlex.quote(a) for a in ["--db", str(db), *args]))
        code = main(argv)
        if code != 0:
            raise UserError(f"演示第 {number} 步失败", f"demo step {number} failed", code=ExitCode(code))


