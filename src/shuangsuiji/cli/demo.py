"""`shuangsuiji demo`: the whole cycle so far, on the bundled 连州市 example data, into a fresh store."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.i18n import t
from shuangsuiji import i18n

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


def steps(data: Path) -> list[tuple[str, str, list[str]]]:
    """(Chinese title, English title, arguments) of each step."""
    return [
        ("创建存储", "create the store", ["init"]),
        ("导入联席会议成员部门", "import the joint meeting's departments", ["departments", "import", str(data / "departments.yaml")]),
        ("导入检查对象名录库", "import the object directory", ["objects", "import", str(data / "objects.csv")]),
        ("导入执法检查人员名录库", "import the inspector directory", ["inspectors", "import", str(data / "inspectors.csv")]),
        ("导入回避关系", "import declared conflicts", ["conflicts", "import", str(data / "conflicts.csv")]),
        ("再次导入同一文件：全部未变，记一条日志", "re-import the same file: all unchanged, one log entry",
         ["objects", "import", str(data / "objects.csv")]),
        ("高风险（D 类）检查对象", "high-risk (class D) entities", ["objects", "list", "--risk-class", "D", "--limit", "5"]),
        ("各部门及执法人员数", "departments and their officers", ["departments", "list"]),
        ("校验审计日志哈希链", "verify the audit log's hash chain", ["audit", "verify"]),
        ("可公布的链头", "the head to publish", ["audit", "head"]),
    ]


def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help=t("演示存储和输出所在目录", "Directory for the demo store and outputs"))
    ] = Path("shuangsuiji-demo"),
) -> None:
    from shuangsuiji.cli.main import main

    data = example_dir()
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "demo.db"
    for suffix in ("", "-wal", "-shm"):  # a fresh store every time
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    lang = ["--lang", i18n.LANG]
    for number, (zh, en, args) in enumerate(steps(data), start=1):
        argv = ["--db", str(db), *lang, *args]
        output.info("")
        output.info(f"[{number}] {t(zh, en)}")
        output.info("$ shuangsuiji " + " ".join(shlex.quote(a) for a in ["--db", str(db), *args]))
        code = main(argv)
        if code != 0:
            raise UserError(f"演示第 {number} 步失败", f"demo step {number} failed", code=ExitCode(code))
    output.info("")
    output.info(t(f"完成。演示存储：{db}（可用 --db {db} 继续试用各命令）",
                  f"Done. Demo store: {db} (try any command with --db {db})"))


