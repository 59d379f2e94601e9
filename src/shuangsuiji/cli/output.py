"""One output path: JSON for scripts, tables for people; data to stdout, messages to stderr."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable, Sequence

from shuangsuiji.errors import Problem
from shuangsuiji.i18n import t

_err = None
_out = None


def err_console():
    global _err
    if _err is None:
        from rich.console import Console

        _err = Console(stderr=True, highlight=False, soft_wrap=True)
    return _err


def out_console():
    global _out
    if _out is None:
        from rich.console import Console

        _out = Console(highlight=False, soft_wrap=True)
    return _out


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def info(message: str) -> None:
    err_console().print(message, markup=False)


def warn(message: str) -> None:
    err_console().print(t("警告：", "warning: ") + message, style="yellow", markup=False)


def error(message: str, problems: Sequence[Problem] = (), limit: int = 30) -> None:
    console = err_console()
    console.print(t("错误：", "error: ") + message, style="bold red", markup=False)
    for problem in problems[:limit]:
        console.print("  " + str(problem), markup=False)
    if len(problems) > limit:
        console.print(
            t(f"  ……另有 {len(problems) - limit} 处问题（--json 可列出全部）",
              f"  … and {len(problems) - limit} more (--json lists them all)"),
            markup=False,
        )


Column = tuple[str, str, str]  # (key, Chinese header, English header)


def table(rows: Iterable[dict], columns: Sequence[Column], title: str | None = None) -> None:
    from rich.table import Table

    grid = Table(title=title, show_lines=False, header_style="bold")
    for i, (_, zh, en) in enumerate(columns):
        grid.add_column(t(zh, en), overflow="fold", no_wrap=(i == 0))  # keys (codes) stay whole
    for row in rows:
        grid.add_row(*[_cell(row.get(key)) for key, _, _ in columns])
    out_console().print(grid)


def record(data: dict, labels: Sequence[Column]) -> None:
    """One object as aligned "label: value" lines."""
    width = max(len(t(zh, en)) for _, zh, en in labels)
    for key, zh, en in labels:
        out_console().print(f"{t(zh, en):<{width}}  {_cell(data.get(key))}", markup=False)


def summary(data: dict, labels: Sequence[Column]) -> None:
    """A changing command's summary, for people (stderr: it is a message, not data)."""
    parts = [f"{t(zh, en)} {data[key]}" for key, zh, en in labels if key in data]
    info("，".join(parts) if t("zh", "en") == "zh" else ", ".join(parts))


def canonical_short(payload: Any, width: int = 60) -> str:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return t("是", "yes") if value else t("否", "no")
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return str(value)
