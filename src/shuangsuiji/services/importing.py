"""Turning a user's table into canonical records: every bad row named, or nothing written."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from shuangsuiji.domain.directory import Invalid
from shuangsuiji.errors import ExitCode, Problem, UserError
from shuangsuiji.tabular import Columns, Table, iter_records

Progress = Callable[[int, int], None]


@dataclass
class Parsed:
    records: list[tuple] = field(default_factory=list)
    rejected: list[tuple[Problem, list[str]]] = field(default_factory=list)  # (problem, raw row)


def parse_rows(
    table: Table,
    columns: Columns,
    parse: Callable[[dict[str, str], dict[str, str]], tuple | Invalid],
    progress: Progress | None = None,
) -> Parsed:
    """Parse every row; a record's first element is its key, unique within the file."""
    out = Parsed()
    seen: dict[str, int] = {}
    raw_rows = dict(table.rows) if table.rows else {}
    total = len(table.rows)
    for i, (number, fields, attrs) in enumerate(iter_records(table, columns)):
        result = parse(fields, attrs)
        if isinstance(result, Invalid):
            out.rejected.append(
                (Problem(result.zh, result.en, table.file, number, result.field, result.value), raw_rows[number])
            )
        else:
            key = result[0]
            first = seen.setdefault(key, number)
            if first != number:
                out.rejected.append(
                    (
                        Problem(f"与第 {first} 行重复", f"duplicate of row {first}", table.file, number, "key", key),
                        raw_rows[number],
                    )
                )
            else:
                out.records.append(result)
        if progress and i % 20_000 == 0:
            progress(i, total)
    if progress:
        progress(total, total)
    return out


def refuse_or_skip(parsed: Parsed, table: Table, skip_invalid: bool) -> None:
    """Without --skip-invalid, any bad row stops the import before anything is written."""
    if parsed.rejected and not skip_invalid:
        n = len(parsed.rejected)
        raise UserError(
            f"{table.file}：{n} 行有误，未写入任何数据（修正后重试，或用 --skip-invalid 跳过这些行）。",
            f"{table.file}: {n} invalid row(s); nothing was written (fix them, or use --skip-invalid to skip them).",
            code=ExitCode.ERROR,
            problems=[p for p, _ in parsed.rejected],
        )


def write_rejects(path: Path, table: Table, rejected: Iterable[tuple[Problem, list[str]]]) -> None:
    """The rejected rows as they were, with their row number and the reason, for fixing in Excel."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["row", "field", "error", *table.headers])
        for problem, raw in rejected:
            writer.writerow([problem.row, problem.field, problem.en, *raw])
