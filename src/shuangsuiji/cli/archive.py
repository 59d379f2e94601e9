"""`shuangsuiji archive DRAW -o FILE.zip` and `shuangsuiji archive verify FILE.zip` (第十八条 立卷归档).

Two forms under one name: ``archive verify …`` is the ``verify`` command; anything else is the
archive command itself, run as a hidden ``create`` command that the group puts in front of the
arguments (so ``archive DRAW -o FILE``, ``archive -o FILE DRAW`` and ``archive create DRAW -o
FILE`` are the same).
"""

from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import DryRun, Force, Json
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.i18n import t

HELP = t(
    "立卷归档（第十八条）：把一次锁定的抽取的全部资料——冻结的任务、抽取证据包、各部门名单、检查结果及其变更历史、"
    "公示文件、任务报告、通知书和检查表、本任务的审计日志条目——写成一个 zip，附 MANIFEST.json（每个文件的大小和 SHA-256、"
    "归档时的审计日志链头）；归档的 SHA-256 记入审计日志。archive verify 离线核对归档，一致退出 0，否则 3 并指出每处差异",
    "File a locked draw's records (第十八条 立卷归档) as one zip: the frozen task, the draw bundle, each department's "
    "list, the results and their history, the publication files, the task report, the notices and checklists, and the "
    "task's audit-log entries, with MANIFEST.json (each file's size and SHA-256, the audit head at archiving time); the "
    "zip's SHA-256 goes into the audit log. `archive verify` checks an archive offline: exit 0, or 3 naming each "
    "difference",
)
SHORT_HELP = t("立卷归档：一次抽取的全部资料写成带哈希清单的 zip，并可离线核对（第十八条）",
               "File a draw's records as a zip with a manifest of hashes, and verify it (第十八条)")
CREATE = "create"


class _ArchiveCommand(TyperCommand):
    """The archive command's usage names the form users type (`archive DRAW -o FILE.zip`)."""

    def make_context(self, info_name, args, parent=None, **extra):
        # Its context stands in for the group's, so usage errors say "shuangsuiji archive", not "… archive create".
        if parent is not None and parent.parent is not None:
            info_name, parent = parent.info_name, parent.parent
        return super().make_context(info_name, args, parent=parent, **extra)

    def format_usage(self, ctx, formatter) -> None:
        formatter.write_usage(ctx.command_path, "DRAW -o FILE.zip [--force] [--dry-run] [--json]")


class _ArchiveGroup(TyperGroup):
    """`archive verify …` runs verify; any other arguments go to the archive command itself."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [CREATE, *args]
        return super().parse_args(ctx, args)

    def format_help(self, ctx, formatter) -> None:
        from typer.core import _typer_format_options

        formatter.write_usage(ctx.command_path, "DRAW -o FILE.zip [--force] [--dry-run] [--json]")
        formatter.write_usage(ctx.command_path, "verify FILE.zip [--db STORE] [--json]", prefix=t("    或：", "    or: "))
        self.format_help_text(ctx, formatter)
        create = self.commands[CREATE]
        sub = type(ctx)(create, info_name=ctx.info_name, parent=ctx.parent)
        _typer_format_options(create, ctx=sub, formatter=formatter)
        self.format_commands(ctx, formatter)
        formatter.write_paragraph()
        formatter.write_text(t("退出码：0 成功；1 错误（无存储、非 zip 文件、目标已存在）；3 核对发现问题；4 存储忙。详见 docs/archive.md。",
                               "Exit codes: 0 ok; 1 error (no store, not a zip, target exists); 3 verification found "
                               "problems; 4 store busy. See docs/archive.md."))
        self.format_epilog(ctx, formatter)


app = typer.Typer(cls=_ArchiveGroup, help=HELP, short_help=SHORT_HELP, no_args_is_help=True)

DrawArg = Annotated[str, typer.Argument(metavar="DRAW", help=t("抽取编号（须已锁定）", "draw id (locked)"), show_default=False)]


@app.command(CREATE, cls=_ArchiveCommand, hidden=True, help=HELP)
def create(
    draw: DrawArg,
    out: Annotated[Path, typer.Option("-o", "--output", metavar="FILE.zip", help=t("输出的 .zip 文件", "the .zip to write"), show_default=False)],
    force: Force = False,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services import archive

    if out.suffix.lower() != ".zip":
        raise UserError(f"输出文件须为 .zip：{out}", f"The output must be a .zip file: {out}", code=ExitCode.USAGE)
    if out.is_dir():
        raise UserError(f"{out} 是目录，请给出归档文件名", f"{out} is a directory; give the archive's file name", code=ExitCode.USAGE)
    built, recorded = archive.create(context.reading, context.writing, draw, out, force=force, dry_run=dry_run,
                                     operator=context.settings.who())
    mismatched = [p for p in built.publications if p["differs"]]
    result = {
        "draw": built.draw, "task": built.task, "file": None if dry_run else str(out),
        **({"sha256": None, "bytes": None, "audit_seq": None} if dry_run else recorded),
        "manifest_sha256": built.manifest_sha256, "files": built.file_count,
        "audit_head": {k: built.manifest["audit_head"][k] for k in ("seq", "hash")},
        "publications": [{k: p[k] for k in ("department", "format", "sha256", "regenerated_sha256", "sha256_matches", "differs")}
                         for p in built.publications],
        "publication_mismatches": len(mismatched),
        "warnings": [en for _, en in built.warnings],
        "dry_run": dry_run,
    }
    for zh, en in built.warnings:
        output.warn(t(zh, en))
    if as_json:
        output.emit_json(result)
        return
    head = result["audit_head"]
    if dry_run:
        output.info(t(f"（试运行）{draw} 的归档将含 {result['files']} 个文件；未写入", f"(dry run) {draw}'s archive would hold "
                      f"{result['files']} files; nothing written"))
    else:
        output.info(t(f"已写出 {out}：{result['files']} 个文件，{result['bytes']} 字节", f"Wrote {out}: {result['files']} files, "
                      f"{result['bytes']} bytes"))
        output.info(f"SHA-256 {result['sha256']}")
    output.info(t(f"清单 SHA-256 {result['manifest_sha256']}；审计日志链头：第 {head['seq']} 条 {head['hash']}",
                  f"manifest SHA-256 {result['manifest_sha256']}; audit head: entry {head['seq']} {head['hash']}"))


@app.command("verify", help=t(
    "离线核对归档：按 MANIFEST.json 核对每个文件的大小和 SHA-256，找出多出或缺少的文件，用与 shuangsuiji verify 相同的代码"
    "重新计算抽取证据包，并核对审计日志条目的哈希和链接。不需要存储；给出 --db 时还核对条目和链头仍在该存储的审计日志中、"
    "且该日志记录了此清单。一致退出 0，否则 3 并列出每处差异；不是 zip 或无法读取时退出 1",
    "Verify an archive offline: each file's size and SHA-256 against MANIFEST.json, files added or missing, the draw "
    "bundle recomputed by the same code as `shuangsuiji verify`, the audit entries' hashes and links. No store needed; "
    "with --db, also that the entries and the head are still in that store's log and that it recorded this manifest. "
    "Exit 0, or 3 listing each difference; 1 when the file is not a zip or cannot be read"),
    short_help=t("离线核对归档（不需要存储）", "Verify an archive offline (no store needed)"))
def verify(
    file: Annotated[Path, typer.Argument(metavar="FILE.zip", help=t("归档 zip", "the archive zip"), show_default=False)],
    db: Annotated[Optional[str], typer.Option("--db", metavar="STORE", help=t(
        "同时与此存储的审计日志核对（SQLite 路径或数据库 URL；不给则完全离线，不读取全局 --db 和 SHUANGSUIJI_DB）",
        "also check against this store's audit log (SQLite path or database URL; without it the check is fully offline "
        "and ignores the global --db and SHUANGSUIJI_DB)"))] = None,
    as_json: Json = False,
) -> None:
    from shuangsuiji.services.archive_verify import verify_zip

    if db is None:
        report = verify_zip(file)
    else:
        context.reset_store()
        context.settings.db = db
        with context.reading() as conn:
            report = verify_zip(file, conn)
    result = report.to_json()
    if as_json:
        output.emit_json(result)
    elif not report.problems:
        extra = t("；与存储一致", "; consistent with the store") if db else ""
        output.info(t(f"核对通过：{file}（抽取 {report.draw}）的 {report.files} 个文件与清单一致，证据包复核通过，"
                      f"{report.audit_entries} 条审计日志条目完好{extra}。",
                      f"Verified: {file} (draw {report.draw}): {report.files} files match the manifest, the bundle "
                      f"re-verifies, {report.audit_entries} audit entries are intact{extra}."))
    else:
        output.error(t(f"核对不通过：{file} 有 {len(report.problems)} 处问题", f"verification failed: {file} has "
                       f"{len(report.problems)} problem(s)"), report.problems, limit=200)
    if report.problems:
        raise typer.Exit(ExitCode.PROBLEMS)
