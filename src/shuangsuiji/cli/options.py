"""Options shared by many commands, declared once so they mean the same everywhere."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from shuangsuiji.i18n import t

Json = Annotated[bool, typer.Option("--json", help=t("以 JSON 输出到标准输出（供脚本使用）", "Print JSON to stdout (for scripts)"))]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help=t("只检查并报告将做的更改，不写入", "Check and report what would change; write nothing"))
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help=t("不询问，直接确认", "Confirm without asking"))]
Encoding = Annotated[
    Optional[str],
    typer.Option("--encoding", help=t("强制 CSV 编码（默认自动识别 UTF-8 / GB18030）", "Force the CSV encoding (default: detect UTF-8 / GB18030)")),
]
Sheet = Annotated[Optional[str], typer.Option("--sheet", help=t("XLSX 工作表名（默认第一个）", "XLSX sheet name (default: the first)"))]
SkipInvalid = Annotated[
    bool,
    typer.Option("--skip-invalid", help=t("跳过无效行并报告（默认：有任何无效行则不写入）", "Skip invalid rows and report them (default: any invalid row writes nothing)")),
]
Rejects = Annotated[
    Optional[Path], typer.Option("--rejects", help=t("把被拒绝的行写入此 CSV", "Write the rejected rows to this CSV"))
]
Sync = Annotated[
    bool,
    typer.Option("--sync", help=t("文件中没有的记录标记为移出名录（不删除）", "Mark records absent from the file as removed from the directory (never deleted)")),
]
Quiet = Annotated[
    bool,
    typer.Option("--quiet", "-q", help=t(
        "不显示进度（非终端时，长时间导入约每 10 秒在标准错误输出一行进度）",
        "Show no progress (when stderr is not a terminal, a long import prints a progress line about every 10 s)")),
]
InFile = Annotated[Path, typer.Argument(help=t("要导入的文件（CSV 或 XLSX）", "File to import (CSV or XLSX)"), show_default=False)]


# One name for a department everywhere: --dept. --department, which two commands used to take,
# still works (old scripts) but is not shown.
DepartmentAlias = Annotated[Optional[list[str]], typer.Option("--department", hidden=True)]


def _allow_overwrite(ctx: typer.Context, value: bool) -> bool:
    """--force holds for this one command: files.claim reads it until the command ends."""
    if value:
        from shuangsuiji import files

        ctx.with_resource(files.overwriting())
    return value


Force = Annotated[bool, typer.Option(
    "--force", callback=_allow_overwrite,
    help=t("覆盖已有的输出文件（存储导入过的文件除外）", "replace an existing output file (never one the store imported)"))]
ExpectHead = Annotated[
    Optional[str],
    typer.Option("--expect-head", help=t("此前公布的链头 SEQ:HASH，须仍在链中", "a previously published head SEQ:HASH that must still be in the chain")),
]


def choices(option: str, values: list[str] | None, known, normalise=None) -> list[str] | None:
    """A filter's values, each normalised (e.g. 高风险 → D) and known, or a usage error (exit 2)
    listing the valid ones: a typo must not read as "nothing matches"."""
    from shuangsuiji.errors import ExitCode, UserError

    if not values:
        return None
    known = list(known)
    out = []
    for value in values:
        canonical = normalise(value) if normalise else value.strip().upper()
        if canonical not in known:
            raise UserError(f"{option} {value} 无效；可用：{'、'.join(known) or '（无）'}",
                            f"{option} {value} is not valid; valid values: {', '.join(known) or '(none)'}", code=ExitCode.USAGE)
        out.append(canonical)
    return out


def existing(lookup):
    """``lookup()``'s value; a filter naming a task or draw that does not exist is a usage error
    (exit 2) with the lookup's own message (which names what does exist), not an empty list."""
    from shuangsuiji.errors import ExitCode, UserError

    try:
        return lookup()
    except UserError as exc:
        raise UserError(exc.zh, exc.en, code=ExitCode.USAGE) from None


def check_rejects(rejects: Path | None, source: Path) -> None:
    """Before an import writes anything: the --rejects file may be written (files.claim), and is
    not the file being imported (which --force would otherwise replace with its own bad rows)."""
    from shuangsuiji import files
    from shuangsuiji.errors import ExitCode, UserError

    if rejects is None:
        return
    if rejects.exists() and source.exists() and rejects.samefile(source):
        raise UserError(f"--rejects 不能是要导入的文件本身：{rejects}", f"--rejects cannot be the file being imported: {rejects}",
                        code=ExitCode.USAGE)
    files.claim(rejects)


def parse_head(value: str | None) -> tuple[int, str] | None:
    """``SEQ:HASH`` as `audit head` prints it (a usage error otherwise); None when not given."""
    from shuangsuiji.errors import ExitCode, UserError

    if not value:
        return None
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise UserError("--expect-head 应为 序号:64位哈希", "--expect-head must be SEQ:HASH (64 hex digits)", code=ExitCode.USAGE)
    return int(seq), digest
