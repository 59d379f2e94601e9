"""The one writer of every CSV and XLSX file the tool hands on (lists, templates, reports, exports).

Every openpyxl workbook is made (``new_book``) and saved here: ``save_book``, ``write`` and
``write_book`` to an output file through files.replacing, ``write_to`` into a caller's own
temporary file, ``book_bytes`` for an archive or a report's bytes. A module with its own layout
(the results template, a report) fills in the sheets between ``new_book`` and saving.

These files go to other departments and the public, and their text comes from imported lists a
clerk could have typed anything into (docs/reliability.md, "Hostile content"). So, here and
only here:

- XLSX: user text is always a string cell, never a formula (``finish_book`` turns every cell
  openpyxl took for a formula back into text), and characters XML cannot carry (C0 controls)
  are written as U+FFFD instead of failing the whole file (``xlsx_value``);
- CSV: a text cell that a spreadsheet would run as a formula (it begins with ``= + - @``, a tab
  or a CR) gets a leading apostrophe, as OWASP's CSV-injection guidance says; a number such
  as ``-13800000000``, ``-5.5`` or ``+86 138 0000 0000`` is left exactly as it is;
- Markdown (the plan publication): text is escaped for HTML and for Markdown's own syntax
  (``markdown_text``), so a name cannot become markup, a link or an extra table column;
- XLSX print setup: the header row repeated on every page, fitted to the page width,
  landscape when the sheet is wide.
"""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.files import normalise_ooxml, replacing

Column = tuple[str, str, str]  # (key, Chinese header, English header), as cli/output.py shows them

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A sign, digits (groups separated by one space or comma), an optional decimal part and percent
# sign: a number or a phone number, which no spreadsheet can turn into a call or a reference.
_SIGNED_NUMBER = re.compile(r"[+-]\d+(?:[ ,]\d+)*(?:\.\d+)?%?")
# What XML 1.0 (so openpyxl and python-docx) cannot hold: C0 controls other than tab, LF, CR.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Markdown's inline syntax and the table separator: backslash-escaped (CommonMark §2.4).
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]|~!#])")
WIDE_COLUMNS = 6  # a sheet with more columns than this prints landscape


def csv_value(value: Any) -> Any:
    """``value`` as a CSV cell that no spreadsheet runs as a formula (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _SIGNED_NUMBER.fullmatch(value):
        return "'" + value
    return value


def xml_text(value: str) -> str:
    """Text with the characters XML cannot carry shown as U+FFFD (a store that holds them still writes)."""
    return _XML_ILLEGAL.sub("\ufffd", value)


def xlsx_value(value: Any) -> Any:
    """A value openpyxl can store: text cleaned by ``xml_text``, anything else unchanged."""
    return xml_text(value) if isinstance(value, str) else value


def sheet_title(text: str) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of ``[ ] : * ? / \\``."""
    return re.sub(r"[\[\]:*?/\\]", "-", xml_text(text))[:31] or "sheet"


def xlsx_row(values: Iterable[Any]) -> list[Any]:
    return [xlsx_value(v) for v in values]


def markdown_text(value: Any, newline: str = " ") -> str:
    """``value`` as Markdown that renders as exactly this text: HTML escaped (``& < >``), Markdown
    syntax backslash-escaped, line breaks as ``newline`` (``<br>`` inside a table cell)."""
    text = html.escape(xml_text(str(value)), quote=False)
    text = _MARKDOWN_SYNTAX.sub(r"\\\1", text)
    return re.sub(r"\r\n|[\r\n\u2028\u2029\x85]", newline, text)


class CsvWriter:
    """``csv.writer`` whose every text cell passes ``csv_value``."""

    def __init__(self, fh, **kwargs):
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_value(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def finish_book(book) -> None:
    """Every sheet of ``book`` made safe and printable just before it is saved.

    The tool itself writes no formulas, so a cell openpyxl took for one (text beginning with
    ``=``) is user text and becomes a string cell again.
    """
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
        if ws.sheet_state != "visible" or ws.max_row < 2:
            continue
        ws.print_title_rows = "1:1"
        ws.page_setup.orientation = "landscape" if ws.max_column > WIDE_COLUMNS else "portrait"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True


def new_book():
    """An empty openpyxl workbook (one blank sheet), to be saved by ``save_book`` or ``book_bytes``."""
    from openpyxl import Workbook

    return Workbook()


def save_book(book, path: Path) -> None:
    finish_book(book)
    with replacing(path) as partial:
        book.save(partial)


def book_bytes(book, when: tuple) -> bytes:
    """The XLSX bytes of ``book``, every time in them set to ``when``: the same content, the same bytes."""
    finish_book(book)
    buf = io.BytesIO()
    book.save(buf)
    return normalise_ooxml(buf.getvalue(), when)


def display_width(value: Any) -> int:
    """Columns a value takes on screen or paper: a CJK character is two wide; the longest line counts."""
    text = "" if value is None else str(value)
    line = max(text.split("\n"), key=len) if text else ""
    return sum(2 if ord(c) > 0x2E7F else 1 for c in line)


def fit_widths(ws, sample: int = 200, minimum: int = 6, maximum: int = 60) -> None:
    """Column widths from the header and the first ``sample`` rows, within sane bounds."""
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, sample + 1)):
        for cell in row:
            widths[cell.column] = max(widths.get(cell.column, 0), display_width(cell.value))
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = min(max(width + 2, minimum), maximum)


def write(path: Path, rows: Sequence[dict], columns: Sequence[Column], title: str | None = None) -> None:
    """A table as the output file ``path`` (.xlsx or .csv), through files.replacing."""
    _suffix(path)
    with replacing(path) as partial:
        write_to(partial, rows, columns, title)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise UserError(f"输出文件须为 .xlsx 或 .csv：{path}", f"The output must be .xlsx or .csv: {path}", code=ExitCode.USAGE)
    return suffix


def write_to(path: Path, rows: Sequence[dict], columns: Sequence[Column], title: str | None = None) -> None:
    """A table written straight to ``path``: the temporary file of a caller's files.replacing (a
    publication recorded with its file), or a scratch file read back into an archive.
    Chinese headers always: these files go to bureaus and portals."""
    suffix = _suffix(path)
    headers = [zh for _, zh, _ in columns]
    values = [[row.get(key, "") for key, _, _ in columns] for row in rows]
    if suffix == ".csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel reads UTF-8
            writer = CsvWriter(fh)
            writer.writerow(headers)
            writer.writerows(values)
        return
    from openpyxl.styles import Font

    book = new_book()
    sheet = book.active
    sheet.title = sheet_title(title or "sheet")
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in values:
        sheet.append(xlsx_row(row))
    fit_widths(sheet)
    sheet.freeze_panes = "A2"
    finish_book(book)
    book.save(path)


def write_book(path: Path, sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> None:
    """A publishable workbook: one sheet per (title, headers, rows); bold frozen header, fitted widths."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = new_book()
    book.remove(book.active)
    for title, headers, rows in sheets:
        ws = book.create_sheet(title[:31])
        ws.append(xlsx_row(headers))
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        widths = [display_width(h) for h in headers]
        for row in rows:
            row = xlsx_row("" if v is None else v for v in row)
            ws.append(row)
            for i, value in enumerate(row):
                widths[i] = max(widths[i], display_width(str(value)))
        for i, w in enumerate(widths):
            ws.column_dimensions[get_column_letter(i + 1)].width = min(max(w + 2, 6), 60)
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(vertical="top", wrap_text=True)
        ws.freeze_panes = "A2"
    save_book(book, path)
