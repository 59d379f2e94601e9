"""Reading users' files: encodings Chinese Excel writes, XLSX cells, headers in two languages."""

from datetime import date, datetime

import openpyxl
import pytest

from shuangsuiji.domain.directory import ENTITY_HEADERS, ENTITY_REQUIRED
from shuangsuiji.errors import UserError
from shuangsuiji.table_reader import map_columns, read_table

ROWS = [["91350100M000100Y43", "连州市测试餐馆", "存续"]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "a.csv"
    path.write_bytes("统一社会信用代码,名称,登记状态\n91350100M000100Y43,连州市测试餐馆,存续\n".encode(encoding))
    table = read_table(path)
    assert table.headers == ["统一社会信用代码", "名称", "登记状态"]
    assert [v for _, v in table.rows] == ROWS


def test_forced_wrong_encoding_names_the_file_and_suggests_the_flag(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("名称\n测试\n".encode("gb18030"))
    with pytest.raises(UserError) as err:
        read_table(path, encoding="utf-8")
    assert "a.csv" in err.value.en and "--encoding" in err.value.en


def test_row_numbers_are_the_lines_the_user_sees(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('uscc,name,status\n\n91350100M000100Y43,"two\nlines",存续\n914403001922038216,x,存续\n', encoding="utf-8")
    table = read_table(path)
    assert [n for n, _ in table.rows] == [4, 5]  # a blank line is skipped, a quoted newline counts


def test_xlsx_cells_become_text(tmp_path):
    path = tmp_path / "a.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["uscc", "name", "status", "registered_on", "employees"])
    sheet.append(["91350100M000100Y43", "A", "存续", datetime(2020, 1, 5), 12.0])
    sheet.append(["914403001922038216", "B", "存续", date(2019, 3, 1), 7])
    book.save(path)
    table = read_table(path)
    assert [v for _, v in table.rows] == [
        ["91350100M000100Y43", "A", "存续", "2020-01-05", "12"],
        ["914403001922038216", "B", "存续", "2019-03-01", "7"],
    ]
    assert [n for n, _ in table.rows] == [2, 3]


def test_missing_required_column_is_named(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("uscc,名称\n91350100M000100Y43,x\n", encoding="utf-8")
    with pytest.raises(UserError) as err:
        map_columns(read_table(path), ENTITY_HEADERS, ENTITY_REQUIRED)
    assert [p.field for p in err.value.problems] == ["status"]


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(UserError, match="empty"):
        read_table(path)


def test_damaged_xlsx_is_an_error_not_a_traceback(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(UserError, match="XLSX"):
        read_table(path)


@pytest.mark.parametrize("batch", [1, 2, 3, 50_000])
def test_row_numbers_hold_across_batches_quoted_line_breaks_and_blank_rows(tmp_path, monkeypatch, batch):
    """Each row is numbered by the line it ends on, as csv.reader counts them, whatever the batch."""
    import csv
    import io

    from shuangsuiji import table_reader

    monkeypatch.setattr(table_reader, "BATCH_ROWS", batch)
    text = ('uscc,name,status\r\n\r\n91350100M000100Y43,"two\r\nlines\rand\nmore",存续\r\n,,\n'
            '914403001922038216,x,存续\n\n"a\n\n",b,c\r\nlast,row,here')
    path = tmp_path / "a.csv"
    path.write_bytes(text.encode("utf-8"))
    reader = csv.reader(io.StringIO(text, newline=""))
    expected = [(reader.line_num, row) for row in reader if row and any(row)][1:]
    assert read_table(path).rows == expected
