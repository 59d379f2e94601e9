"""What the root options set for every command: the store, the operator, debug."""

import getpass
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from shuangsuiji.errors import ExitCode, UserError


@dataclass
class Settings:
    db: str = "shuangsuiji.db"
    operator: str | None = None
    debug: bool = False

    def who(self) -> str:
        """--operator, else SHUANGSUIJI_OPERATOR, else the OS user (第五条: 责任可溯)."""
        if self.operator:
            return self.operator
        try:
            return getpass.getuser()
        except Exception:  # no user name in some containers
            return f"uid:{os.getuid()}"


settings = Settings()
_store = None


def store(must_exist: bool = True):
    """The store for this process (one engine per process)."""
    global _store
    if _store is None:
        from shuangsuiji.store.dialect import sqlite_path
        from shuangsuiji.store.engine import Store

        path = sqlite_path(settings.db)
        if must_exist and path is not None and not path.exists():
            raise UserError(
                f"存储 {path} 不存在：先运行 shuangsuiji init（或用 --db 指定已有的存储）。",
                f"No store at {path}: run `shuangsuiji init` first (or point --db at an existing store).",
            )
        if path is not None and not path.parent.exists():
            raise UserError(f"目录 {path.parent} 不存在", f"Directory {path.parent} does not exist")
        _store = Store(settings.db)
        from shuangsuiji import files

        files.imported = _imported  # outputs never replace a file this store imported
    return _store


def _imported(digest: str) -> tuple[int, str] | None:
    from shuangsuiji.services import audit

    with reading() as conn:
        entry = audit.imported(conn, digest)
    return (entry.seq, entry.command) if entry else None


def reset_store() -> None:
    """Forget the engine (tests run many commands in one process)."""
    global _store
    if _store is not None:
        _store.dispose()
    _store = None
    from shuangsuiji import files

    files.imported = None


def confirm(question: str, yes: bool) -> None:
    """Ask on a terminal; without one, only --yes confirms (scripts never hang on a prompt)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UserError(
            f"{question} 非交互运行时请加 --yes 确认。",
            f"{question} Not a terminal: add --yes to confirm.",
            code=ExitCode.USAGE,
        )
    import typer

    if not typer.confirm(question, default=False):
        raise UserError("已取消，未做任何更改。", "Cancelled; nothing was changed.")


def check_file(path: Path) -> Path:
    if not path.is_file():
        raise UserError(f"找不到文件 {path}", f"File not found: {path}")
    return path


@contextmanager
def reading() -> Iterator:
    """A read transaction on an initialised, current store."""
    from shuangsuiji.store.migrations import require_current

    with store().read() as conn:
        require_current(conn, settings.db)
        yield conn


@contextmanager
def writing(dry_run: bool = False) -> Iterator:
    """A write transaction (holding the lock) on an initialised, current store."""
    from shuangsuiji.store.migrations import require_current

    with store().write(dry_run=dry_run) as conn:
        require_current(conn, settings.db)
        yield conn
