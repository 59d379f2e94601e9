"""Reading the tables users bring: CSV in any of the encodings Chinese Excel writes, or XLSX.

Rows come out as lists of text with the row number the user sees in the file, so every
error can name file, row and column. ``open_table`` gives them in batches as the file is
read, so a million-row directory is never held as one list of rows (``read_table`` collects
the batches, for the small files of the other imports). A CSV is read twice, a megabyte at a
time: once to settle its encoding (the whole file must decode) and to look for control
characters, once to parse it, hashing it as it goes; so memory does not grow with the file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import unicodedata
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, islice
from pathlib import Path
from typing import Iterator

from shuangsuiji.errors import Problem, UserError

# Tried in order when --encoding is not given: UTF-8 (with or without BOM), then GB18030,
# the superset of GBK/GB2312 that Excel on Chinese Windows writes.
AUTO_ENCODINGS = ("utf-8-sig", "gb18030")

BATCH_ROWS = 50_000  # rows per batch from open_table: a few tens of MB of row lists at a time
_PIECE_BYTES = 1 << 20  # a CSV is read, hashed, decoded and split into lines a megabyte at a time
_WHOLE_BYTES = 64 << 20  # a smaller CSV that will not decode piece by piece is decoded whole, for the exact message

Rows = list[tuple[int, list[str]]]  # (row number in the file, values)


def limit(name: str, default: int) -> int:
    """A size limit of docs/reliability.md, raised by the environment variable ``name`` where a province needs more."""
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise UserError(f"环境变量 {name} 须为整数：{value!r}", f"{name} must be a whole number: {value!r}") from None


# Refused before any reading (docs/reliability.md, "Limits"): an imported file larger than
# this; an XLSX whose parts uncompress to more than this, or that is a zip bomb (a part over
# 10 MB that is more than 100 times its compressed size; real sheets compress 5-20 times).
MAX_FILE_MB = 1024
MAX_XLSX_MB = 2048
MAX_XLSX_RATIO = 100
MAX_YAML_MB = 16  # a YAML file is parsed whole into nodes, tens of times its size in memory
MAX_ROWS = 1_048_576  # Excel's own limit of a sheet, also for a CSV
# Characters no list has a use for and that XML outputs cannot carry: C0 controls other than
# tab, line feed and carriage return (a quoted CSV field or an XLSX cell may hold line breaks).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PLAIN = bytes([9, 10, 13, *range(32, 256)])  # deleted from a chunk of UTF-8 or GB18030, what is left is control characters


def read_limited(path: Path, variable: str = "SHUANGSUIJI_MAX_FILE_MB", default_mb: int = MAX_FILE_MB) -> bytes:
    """The bytes of an imported file, refused (named) when it is larger than the limit ``variable`` sets."""
    with _unreadable(path):
        _check_size(path, variable, default_mb)
        return path.read_bytes()


def _check_size(path: Path, variable: str = "SHUANGSUIJI_MAX_FILE_MB", default_mb: int = MAX_FILE_MB) -> None:
    cap = limit(variable, default_mb)
    size = path.stat().st_size
    if size > cap << 20:
        raise UserError(
            f"{path}：文件大小 {size >> 20} MB 超过上限 {cap} MB（可用 {variable} 调整）",
            f"{path}: {size >> 20} MB is over the limit of {cap} MB (raise it with {variable})",
        )


@contextmanager
def _unreadable(path: Path) -> Iterator[None]:
    """An OSError while reading ``path``, as the named error a user can act on."""
    try:
        yield
    except OSError as exc:
        raise UserError(f"无法读取文件 {path}：{exc.strerror}", f"Cannot read {path}: {exc.strerror}") from exc


class EmptyTable(UserError):
    """A file or sheet with no header row (a results workbook skips such sheets)."""


@dataclass
class Table:
    file: str  # the name used in messages
    sha256: str
    encoding: str | None  # None for XLSX
    headers: list[str]
    rows: Rows  # empty when the rows come in batches from open_table
    lines: int | None = None  # lines in the file, when open_table was asked to count them (a progress total)


def read_table(path: str | Path, encoding: str | None = None, sheet: str | None = None) -> Table:
    """Read a CSV or XLSX file whole; raise UserError naming the file on any read failure."""
    table, batches = open_table(path, encoding, sheet)
    table.rows = [row for batch in batches for row in batch]
    return table


def open_table(
    path: str | Path, encoding: str | None = None, sheet: str | None = None, *, count_lines: bool = False
) -> tuple[Table, Iterator[Rows]]:
    """The table's headers now, and its rows in batches of ``BATCH_ROWS`` as they are read.

    Every read, encoding and empty-file error is raised here, exactly as ``read_table`` raises
    it; a malformed CSV line is raised by the batches when they reach it. A CSV's SHA-256 is
    set on the table once its batches have all been read (it is hashed as it is parsed).
    """
    path = Path(path)
    name = str(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        data = read_limited(path)
        headers, batches, lines = _read_xlsx(data, name, sheet)
        return Table(name, hashlib.sha256(data).hexdigest(), None, headers, [], lines), _checked(batches, name, headers)
    used, control, lines = _survey(path, encoding)
    table = Table(name, "", used, headers=[], rows=[], lines=lines if count_lines else None)
    headers, batches = _read_csv(_pieces(path, used, table), name)
    table.headers = headers
    return table, _checked(batches, name, headers, control)


def _survey(path: Path, encoding: str | None) -> tuple[str, bool, int]:
    """The first reading of a CSV: the encoding that decodes all of it (as ``decode`` chooses),
    whether its text holds a control character anywhere, and its count of lines.

    On a decoding error ``decode`` gives the answer for a small file, so the messages (and the
    byte they name) are exactly its own; a large one is named with the byte counted here.
    """
    with _unreadable(path):
        _check_size(path)
        for enc in (encoding,) if encoding else AUTO_ENCODINGS:
            try:
                decoder = codecs.getincrementaldecoder(enc)()
            except LookupError:
                raise UserError(f"未知的编码 {enc}", f"Unknown encoding {enc}") from None
            control, lines, done = False, 0, 0
            plain = codecs.lookup(enc).name in ("utf-8", "utf-8-sig", "gb18030", "gbk")
            try:
                with open(path, "rb") as fh:
                    while chunk := fh.read(_PIECE_BYTES):
                        start = done - len(decoder.getstate()[0])
                        done += len(chunk)
                        text = decoder.decode(chunk)
                        if not control:  # bytes below 0x20 are those characters themselves in these encodings
                            control = bool(chunk.translate(None, _PLAIN)) if plain else _CONTROL.search(text) is not None
                        lines += text.count("\n")
                    start = done - len(decoder.getstate()[0])
                    text = decoder.decode(b"", final=True)
                return enc, control or _CONTROL.search(text) is not None, lines + text.count("\n")
            except UnicodeError as exc:  # not this encoding (or, as UTF-16 without a BOM, only readable whole)
                if encoding and path.stat().st_size > _WHOLE_BYTES:
                    at = start + exc.start if isinstance(exc, UnicodeDecodeError) else done
                    raise UserError(
                        f"{path}：不是 {enc} 编码（第 {at} 字节），请改用 --encoding 指定正确的编码。",
                        f"{path}: not valid {enc} (byte {at}); give the right one with --encoding.",
                    ) from None
        if path.stat().st_size > _WHOLE_BYTES:
            raise _no_encoding(str(path))
        text, used = decode(path.read_bytes(), str(path), encoding)  # the usual message, or the text decoded whole
        return used, _CONTROL.search(text) is not None, text.count("\n")


def _pieces(path: Path, encoding: str, table: Table) -> Iterator[str]:
    """The second reading: the file's text a piece at a time, its SHA-256 set on ``table`` at the end."""
    digest = hashlib.sha256()
    with _unreadable(path), open(path, "rb") as fh:
        try:
            decoder = codecs.getincrementaldecoder(encoding)()
            while chunk := fh.read(_PIECE_BYTES):
                digest.update(chunk)
                yield decoder.decode(chunk)
            yield decoder.decode(b"", final=True)
        except UnicodeError:  # read whole by _survey (UTF-16 without a BOM), or changed since
            fh.seek(0)
            data = fh.read()
            digest = hashlib.sha256(data)
            yield decode(data, str(path), encoding)[0]
    table.sha256 = digest.hexdigest()


def _checked(batches: Iterator[Rows], name: str, headers: list[str], control: bool = True) -> Iterator[Rows]:
    """The batches, refused at the first one holding a control character (every such cell of it
    named by row and column) or past ``MAX_ROWS`` rows: the same refusal on SQLite and PostgreSQL,
    before anything reaches the store. ``control`` False: the whole text was found free of them."""
    max_rows = limit("SHUANGSUIJI_MAX_ROWS", MAX_ROWS)
    seen = 0
    for batch in batches:
        seen += len(batch)
        if seen > max_rows:
            raise UserError(
                f"{name}：超过 {max_rows} 行上限（可用 SHUANGSUIJI_MAX_ROWS 调整）",
                f"{name}: more than {max_rows} rows (raise the limit with SHUANGSUIJI_MAX_ROWS)",
            )
        if control and _CONTROL.search("\t".join("\t".join(values) for _, values in batch)):  # one scan; locate only on a hit
            raise UserError(f"{name}：含控制字符，未写入任何数据", f"{name}: control characters; nothing was written",
                            problems=_control_problems(batch, name, headers))
        yield batch


def control_problem(value: str, file: str | None, row: int | None, field: str | None) -> Problem | None:
    """The problem of a text holding a C0 control character (tab and line breaks aside), or None."""
    found = _CONTROL.search(value)
    if not found:
        return None
    code = f"U+{ord(found.group()):04X}"
    return Problem(f"含控制字符 {code}（不可见字符，请删除）", f"contains control character {code} (invisible; remove it)",
                   file=file, row=row, field=field, value=repr(value)[1:-1])


def _control_problems(batch: Rows, name: str, headers: list[str]) -> list[Problem]:
    problems = []
    for number, values in batch:
        for i, value in enumerate(values):
            bad = control_problem(value, name, number, headers[i] if i < len(headers) else f"#{i + 1}")
            if bad and len(problems) < 100:
                problems.append(bad)
    return problems


def decode(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    candidates = (encoding,) if encoding else AUTO_ENCODINGS
    for enc in candidates:
        try:
            return data.decode(enc), enc
        except LookupError:
            raise UserError(f"未知的编码 {enc}", f"Unknown encoding {enc}") from None
        except UnicodeDecodeError as exc:
            if encoding:
                raise UserError(
                    f"{name}：不是 {enc} 编码（第 {exc.start} 字节），请改用 --encoding 指定正确的编码。",
                    f"{name}: not valid {enc} (byte {exc.start}); give the right one with --encoding.",
                ) from None
    raise _no_encoding(name)


def _no_encoding(name: str) -> UserError:
    return UserError(
        f"{name}：既不是 UTF-8 也不是 GB18030/GBK 编码，请用 --encoding 指定。",
        f"{name}: neither UTF-8 nor GB18030/GBK; give the encoding with --encoding (e.g. --encoding big5).",
    )


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_BREAK = re.compile(r"\r\n|\r|\n")  # where _LINE ends a line


def _lines(pieces: Iterator[str]) -> Iterator[list[str]]:
    """The lines of the text, with their endings: split only at CR, LF and CRLF, where the csv
    module ends a record (``str.splitlines`` also splits at \\x0b, \\x0c, \\x1c-\\x1e, \\x85,
    U+2028 and U+2029, which csv.writer leaves unquoted inside a field).

    Each piece's last line waits for the next piece: it may be cut short, or be a "\r" whose
    "\n" starts the next piece.
    """
    carry = ""
    for piece in pieces:
        lines = _LINE.findall(carry + piece)
        carry = lines.pop() if lines else ""
        yield lines
    if carry:
        yield [carry]


def _read_csv(pieces: Iterator[str], name: str) -> tuple[list[str], Iterator[Rows]]:
    # A flat iterator over lists of lines: the reader still joins quoted fields that span
    # lines (and pieces), and iterating lists is much faster than a StringIO.
    reader = csv.reader(chain.from_iterable(_lines(pieces)))
    headers: list[str] | None = None
    try:
        for values in reader:
            if any(v.strip() for v in values):
                headers = values
                break
    except csv.Error as exc:
        raise _malformed(name, reader, exc) from None
    if headers is None:
        raise EmptyTable(f"{name}：文件为空，没有表头。", f"{name}: the file is empty (no header row).")
    return headers, _csv_batches(reader, name)


def _csv_batches(reader, name: str) -> Iterator[Rows]:
    """Rows a batch at a time, each with the line it ends on (``reader.line_num`` after it).

    A batch is read in C (``islice``); when it spans exactly one line a row and has no blank
    row, the numbers are a range; otherwise each row counts one line plus the line breaks
    inside its quoted fields (the lines ``_lines`` cut), and blank rows are dropped.
    """
    try:
        while True:
            start = reader.line_num
            rows = list(islice(reader, BATCH_ROWS))
            if not rows:
                return
            if reader.line_num - start == len(rows) and all(map(any, rows)):
                yield list(zip(range(start + 1, reader.line_num + 1), rows))
                continue
            batch: Rows = []
            line = start
            for values in rows:
                line += 1 + sum(len(_BREAK.findall(v)) for v in values if "\n" in v or "\r" in v)
                if values and any(values):
                    batch.append((line, values))
            if batch:
                yield batch
    except csv.Error as exc:
        raise _malformed(name, reader, exc) from None


def _malformed(name: str, reader, exc: csv.Error) -> UserError:
    return UserError(
        f"{name} 第 {reader.line_num} 行：CSV 格式错误（{exc}）",
        f"{name} row {reader.line_num}: malformed CSV ({exc})",
    )


def check_zip(data: bytes, name: str) -> None:
    """Refuse a zip bomb before a byte is inflated: the parts' declared sizes, as the central
    directory gives them (a part that inflates past its declared size fails its CRC check)."""
    cap = limit("SHUANGSUIJI_MAX_XLSX_MB", MAX_XLSX_MB) << 20
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UserError(f"{name}：无法作为 XLSX 打开（{exc}）", f"{name}: cannot open as XLSX ({exc})") from None
    total = sum(i.file_size for i in infos)
    bomb = [i for i in infos if i.file_size > 10 << 20 and i.file_size > MAX_XLSX_RATIO * max(i.compress_size, 1)]
    if total > cap or bomb:
        shape = (f"（压缩了 {MAX_XLSX_RATIO} 倍以上，疑为压缩炸弹）", f" (compressed over {MAX_XLSX_RATIO} times: a zip bomb)") if bomb else ("", "")
        raise UserError(
            f"{name}：解压后 {total >> 20} MB{shape[0]}，上限 {cap >> 20} MB（SHUANGSUIJI_MAX_XLSX_MB）；未读取",
            f"{name}: {total >> 20} MB uncompressed{shape[1]}; the limit is {cap >> 20} MB (SHUANGSUIJI_MAX_XLSX_MB); not read",
        )


def _read_xlsx(data: bytes, name: str, sheet: str | None) -> tuple[list[str], Iterator[Rows], int | None]:
    """Headers, row batches read streaming (openpyxl read-only), and the sheet's declared last row."""
    check_zip(data, name)
    from openpyxl import load_workbook  # heavy: only when an XLSX is read

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise UserError(f"{name}：无法作为 XLSX 打开（{exc}）", f"{name}: cannot open as XLSX ({exc})") from None
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
    except (KeyError, IndexError):
        book.close()
        raise UserError(f"{name}：没有工作表 {sheet}", f"{name}: no sheet named {sheet}") from None
    try:
        lines = ws.max_row
        ws.reset_dimensions()  # a declared A1:XFD1048576 must not pad every row to 16,384 cells
        rows = enumerate(ws.iter_rows(values_only=True), start=1)
        headers: list[str] | None = None
        for number, cells in rows:
            values = [_cell_text(v) for v in cells]
            if any(v.strip() for v in values):
                headers = values
                break
    except Exception as exc:
        book.close()
        raise UserError(f"{name}：无法作为 XLSX 读取（{exc}）", f"{name}: cannot read as XLSX ({exc})") from None
    if headers is None:
        book.close()
        raise EmptyTable(f"{name}：工作表为空，没有表头。", f"{name}: the sheet is empty (no header row).")
    while headers and not headers[-1].strip():
        headers.pop()

    def batches() -> Iterator[Rows]:
        batch: Rows = []
        try:
            for number, cells in rows:
                values = [_cell_text(v) for v in cells]
                if any(values):
                    batch.append((number, values))
                    if len(batch) == BATCH_ROWS:
                        yield batch
                        batch = []
        except UserError:
            raise
        except Exception as exc:  # a damaged part found while streaming
            raise UserError(f"{name}：无法作为 XLSX 读取（{exc}）", f"{name}: cannot read as XLSX ({exc})") from None
        finally:
            book.close()
        if batch:
            yield batch

    return headers, batches(), lines if isinstance(lines, int) else None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def header_key(header: str) -> str:
    """Headers compared without width, case or surrounding spaces (全角/半角 alike)."""
    return unicodedata.normalize("NFKC", header).strip().lower()


@dataclass
class Columns:
    """Where each known field is in a table, and which columns are extra attributes."""

    index: dict[str, int]  # canonical field -> column index
    extras: list[tuple[str, int]]  # (header as written, column index)


def map_columns(table: Table, aliases: dict[str, str], required: tuple[str, ...]) -> Columns:
    """Match headers (English or Chinese) to fields; extra columns are kept as attributes."""
    index: dict[str, int] = {}
    extras: list[tuple[str, int]] = []
    problems: list[Problem] = []
    for i, header in enumerate(table.headers):
        key = header_key(header)
        if not key:
            continue
        field = aliases.get(key)
        if field is None:
            extras.append((header.strip(), i))
        elif field in index:
            problems.append(
                Problem("列重复", "duplicate column", file=table.file, row=1, field=header.strip())
            )
        else:
            index[field] = i
    for field in required:
        if field not in index:
            names = "/".join(h for h, f in aliases.items() if f == field)
            problems.append(
                Problem(f"缺少必需的列（{names}）", f"required column missing ({names})", file=table.file, row=1, field=field)
            )
    if problems:
        raise UserError(f"{table.file}：表头有误", f"{table.file}: bad header row", problems=problems)
    return Columns(index, extras)


def row_fields(values: list[str], columns: Columns) -> tuple[dict[str, str], dict[str, str]]:
    """(known fields, extra attributes) of one row; missing cells read as empty."""
    n = len(values)
    fields = {f: (values[i] if i < n else "") for f, i in columns.index.items()}
    attrs = {h: values[i] for h, i in columns.extras if i < n and values[i] != ""}
    return fields, attrs


def iter_records(table: Table, columns: Columns) -> Iterator[tuple[int, dict[str, str], dict[str, str]]]:
    """(row number, known fields, extra attributes) per row."""
    for number, values in table.rows:
        yield number, *row_fields(values, columns)
