"""What the two directory imports share on the command line: progress, rejects, summary."""

import os
import sys
import time
from contextlib import contextmanager
from typing import Iterator

from shuangsuiji.cli import context, output
from shuangsuiji.cli.options import check_rejects
from shuangsuiji.i18n import t

SUMMARY = [
    ("inserted", "新增", "inserted"),
    ("updated", "更新", "updated"),
    ("unchanged", "未变", "unchanged"),
    ("removed", "移出名录", "removed"),
    ("rejected", "拒绝", "rejected"),
]


# Seconds between two plain progress lines (and before the first) when stderr is not a terminal.
# SHUANGSUIJI_PROGRESS_INTERVAL changes it for the tests only (docs/operations.md).
PLAIN_INTERVAL = 10.0


def plain_progress(label: str, interval: float):
    """A progress callback writing one plain line on stderr at most every ``interval`` seconds,
    the first only once the run has taken that long: a cron log shows a long import is alive,
    with no animation and nothing at all for a short one."""
    start = last = time.monotonic()

    def update(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < interval:
            return
        last = now
        of = f" / {total}" if total else ""
        print(t(f"{label}：{done}{of} 行，已用 {now - start:.0f} 秒", f"{label}: {done}{of} rows, {now - start:.0f} s"),
              file=sys.stderr, flush=True)

    return update


@contextmanager
def progress_bar(label: str, quiet: bool = False) -> Iterator:
    """A progress callback: a bar on stderr when it is a terminal, else a plain line now and
    then (cron logs); none with --quiet."""
    if quiet:
        yield None
        return
    console = output.err_console()
    if not console.is_terminal:
        yield plain_progress(label, float(os.environ.get("SHUANGSUIJI_PROGRESS_INTERVAL", PLAIN_INTERVAL)))
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def run_import(do_import, *, file, dry_run: bool, sync: bool, yes: bool, rejects, as_json: bool, what: tuple[str, str],
               quiet: bool = False):
    """Run a directory import in one write transaction; confirm a --sync removal first."""
    from shuangsuiji.services.importing import gc_paused, write_rejects

    context.check_file(file)
    check_rejects(rejects, file)
    if sync and not yes and not dry_run:
        # Ask before removing anything: a dry run first, so no lock is held while a person reads.
        with context.writing(dry_run=True) as conn:
            preview, _, _ = do_import(conn, None)
        if preview["removed"]:
            context.confirm(
                t(f"文件中没有的 {preview['removed']} 条{what[0]}将标记为移出名录，继续？",
                  f"{preview['removed']} {what[1]} absent from the file will be marked removed; continue?"),
                yes,
            )
    with gc_paused(), progress_bar(t("读取", "reading"), quiet) as progress, context.writing(dry_run) as conn:
        result, parsed, table = do_import(conn, progress)
    if rejects is not None and parsed.rejected:
        write_rejects(rejects, table, parsed.rejected)
        result["rejects_file"] = str(rejects)
    result["dry_run"] = dry_run
    result["rejected_rows"] = [p.to_json() for p, _ in parsed.rejected]
    if as_json:
        output.emit_json(result)
    else:
        for problem, _ in parsed.rejected[:30]:
            output.warn(str(problem))
        output.summary(result, SUMMARY)
        if dry_run:
            output.info(t("（试运行：未写入）", "(dry run: nothing written)"))
    return result
