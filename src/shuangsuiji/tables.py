"""Writing a list for people who live in Excel: XLSX (bold header, widths, frozen pane) or CSV."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.files import replacing

Column = tuple[str, str, str]  # (key, Chinese header, English header), as cli/output.py shows them


def write(path: Path, rows: Sequence[dict], columns: Sequence[Column], title: str | None = None) -> None:
    """Chinese headers always: these files go to bureaus and portals."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise UserError(f"输出文件须为 .xlsx 或 .csv：{path}", f"The output must be .xlsx or .csv: {path}", code=ExitCode.USAGE)
    headers = [zh for _, zh, _ in columns]
    values = [[row.get(key, "") for key, _, _ in columns] for row in rows]
    if suffix == ".csv":
        with replacing(path) as partial, open(partial, "w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel reads UTF-8
            writer = csv.writer(fh)
            writer.writerow(headers)
            writer.writerows(values)
        return
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = (title or "sheet")[:31].replace("/", "-")
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in values:
        sheet.append(row)
    for i, header in enumerate(headers, start=1):
        width = max([len(str(header)) * 2] + [len(str(r[i - 1])) * 1.6 for r in values[:200]])
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(60, max(8, width))
    sheet.freeze_panes = "A2"
    with replacing(path) as partial:
        book.save(partial)
