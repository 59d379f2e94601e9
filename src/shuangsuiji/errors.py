"""Exit codes and user-facing errors: one place, so scripts can rely on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from shuangsuiji.i18n import t


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # bad input or a failed operation; nothing was written
    USAGE = 2  # wrong command-line usage
    PROBLEMS = 3  # a check ran and found problems
    BUSY = 4  # the store is locked by another process: retry later
    ALREADY_DONE = 5  # the work was already done (a task drawn and locked, officers drawn): a retry changes nothing


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located precisely enough to fix it."""

    zh: str
    en: str
    file: str | None = None
    row: int | None = None  # 1-based line/row number as the user sees it in the file
    field: str | None = None  # column or key as it is named in the file
    value: str | None = None

    @property
    def message(self) -> str:
        return t(self.zh, self.en)

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(t(f"第 {self.row} 行", f"row {self.row}"))
        if self.field:
            parts.append(t(f"字段 {self.field}", f"field {self.field}"))
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        value = f" [{self.value}]" if self.value is not None else ""
        return f"{where}: {self.message}{value}" if where else f"{self.message}{value}"

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "row": self.row,
            "field": self.field,
            "value": self.value,
            "message": self.en,
        }


class UserError(Exception):
    """A mistake the user can fix: printed as one or two lines, never a traceback."""

    def __init__(
        self,
        zh: str,
        en: str,
        code: ExitCode = ExitCode.ERROR,
        problems: list[Problem] | None = None,
    ):
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.code = code
        self.problems = problems or []

    @property
    def message(self) -> str:
        return t(self.zh, self.en)


@dataclass
class Problems:
    """Collects every problem of an input so the user sees them all at once."""

    items: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.items.append(problem)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, zh: str, en: str, code: ExitCode = ExitCode.ERROR) -> None:
        if self.items:
            raise UserError(zh, en, code=code, problems=list(self.items))
