"""`shuangsuiji db`: back up a live store, and check everything it promises (第五条, 第九条, 第十八条)."""

from pathlib import Path
from typing import Annotated

import typer

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import ExpectHead, Force, Json, parse_head
from shuangsuiji.errors import ExitCode
from shuangsuiji.i18n import t

app = typer.Typer(help=t("存储维护：一致备份、全面检查", "Store maintenance: consistent backup, full check"), no_args_is_help=True)


@app.command("backup", help=t(
    "把正在使用的存储一致地复制到 PATH（持有写锁；SQLite 用 VACUUM INTO，PostgreSQL 存储写成同样结构的 SQLite 文件）；"
    "已有文件不覆盖，除非 --force。审计日志记录副本的 SHA-256 和它所含的链头",
    "Copy the live store consistently to PATH (under the write lock; SQLite by VACUUM INTO, a PostgreSQL store "
    "written as a SQLite store file of the same schema); an existing file is never overwritten without --force. "
    "The audit log records the copy's SHA-256 and the head it contains"))
def backup(
    path: Annotated[Path, typer.Argument(help=t("备份文件", "the backup file"), show_default=False)],
    force: Force = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import maintenance

    result = maintenance.backup(context.store(), path, force=force, operator=context.settings.who())
    if as_json:
        output.emit_json(result)
        return
    head = f"{result['head']['seq']}:{result['head']['hash']}"
    output.info(t(f"已备份到 {result['file']}（{result['bytes']} 字节，SHA-256 {result['sha256']}），副本链头 {head}",
                  f"Backed up to {result['file']} ({result['bytes']} bytes, SHA-256 {result['sha256']}); the copy's head is {head}"))
    output.info(t(f"核对副本：shuangsuiji --db {result['file']} db check --expect-head {head}",
                  f"Check the copy: shuangsuiji --db {result['file']} db check --expect-head {head}"))


@app.command("check", help=t(
    "检查存储：结构版本、拒绝更改的触发器、数据库完整性和外键、审计哈希链、冻结记录与其审计条目、"
    "每次已抽取的结果重新计算；无问题退出 0，否则 3 并逐条列出（表和记录）",
    "Check the store: schema version, the triggers that refuse changes, database integrity and foreign keys, "
    "the audit hash chain, frozen rows against their audit entries, every drawn draw recomputed; exit 0, "
    "or 3 listing each problem with its table and row"))
def check(
    expect_head: ExpectHead = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import maintenance

    head = parse_head(expect_head)
    result = maintenance.check_store(context.store(), head)
    if as_json:
        output.emit_json(result)
    else:
        for problem in result["problems"]:
            where = " ".join(x for x in (problem["table"], problem["row"]) if x)
            output.error(f"[{problem['check']}] " + (f"{where}: " if where else "") + t(problem["message_zh"], problem["message"]))
        skipped = [name for name, c in result["checks"].items() if c.get("skipped")]
        if result["ok"]:
            output.info(t(f"存储完好：结构版本 {result['schema_version']}，审计日志 {result['audit']['entries']} 条，"
                          f"链头 {result['audit']['head_hash']}",
                          f"Store intact: schema version {result['schema_version']}, {result['audit']['entries']} audit entries, "
                          f"head {result['audit']['head_hash']}"))
        else:
            output.info(t(f"发现 {len(result['problems'])} 处问题", f"{len(result['problems'])} problem(s) found"))
        if skipped:
            output.info(t(f"未运行的检查：{'、'.join(skipped)}", f"checks not run: {', '.join(skipped)}"))
    if not result["ok"]:
        raise typer.Exit(ExitCode.PROBLEMS)
