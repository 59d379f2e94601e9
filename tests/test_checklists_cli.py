"""`checklists`: validate, import (versions never change), list, show, diff, export (第六条)."""

import csv
import io
import json

import openpyxl
import yaml

from conftest import EXAMPLES, ROOT, DBError, connect

SHIPPED = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"
EXPORT_HEADER = ["序号", "清单编号", "抽查领域", "事项编号", "抽查事项", "检查对象", "发起部门", "配合部门", "实施部门",
                 "检查依据", "检查方式", "重点事项", "增补/备案"]

BAD = """\
version: "bad.1"
title: 有问题的清单
issued_by: 测试
issued_on: 2026-01-20
based_on: 测试
entries:
  - id: LZ-01
    area: 食品安全
    object_type: 各类学校食堂
    initiating: SCJG
    cooperating: [JYJ]
    items:
      - id: LZ-01-1
        name: 学校食堂食品安全
        department: SCJG
        basis: 《中华人民共和国食品安全法》
        methods: [实地核查]
  - id: LZ-01
    area: 食品安全
    object_type: 食品销售者
    initiating: SCJG
    items:
      - id: LZ-02-1
        name: 进货查验
        department: SCJG
        basis: 《中华人民共和国食品安全法》
        methods: [书面检查]
"""


def shipped_data() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def write(path, data: dict):
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def count(db, sql):
    with connect(db) as conn:
        return conn.execute(sql).fetchone()[0]


def test_shipped_checklist_validates_and_imports(store, store_env):
    result = store("checklists", "validate", SHIPPED)
    assert result.code == 0, result.out + result.err
    assert "checklist 2026.1 is valid (25 entries, 60 items)" in result.err
    report = store("checklists", "validate", SHIPPED, "--json").json()
    assert report["ok"] is True and report["problems"] == [] and report["items"] == 60
    assert count(store_env, "SELECT COUNT(*) FROM checklist") == 0  # validate writes nothing

    imported = store("checklists", "import", SHIPPED, "--json")
    assert imported.code == 0, imported.err
    data = imported.json()
    assert data["result"] == "inserted" and data["version"] == "2026.1" and data["items"] == 60
    assert len(data["sha256"]) == 64
    with connect(store_env) as conn:
        content, sha, seq = conn.execute("SELECT content, sha256, audit_seq FROM checklist").fetchone()
        logged = conn.execute("SELECT command, payload FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    assert json.loads(content)["version"] == "2026.1" and len(json.loads(content)["entries"]) == 25
    assert logged[0] == "checklists import" and json.loads(logged[1])["sha256"] == sha == data["sha256"]

    listed = store("checklists", "list", "--json").json()
    assert [(r["version"], r["entries"], r["items"], r["latest"]) for r in listed] == [("2026.1", 25, 60, True)]


def test_unknown_department_and_duplicate_id_both_named_exit_3(store, tmp_path, store_env):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    before = count(store_env, "SELECT COUNT(*) FROM audit_log")
    result = store("checklists", "validate", bad)
    assert result.code == 3
    assert "field entries[0].cooperating[0]: unknown department code JYJ" in result.out
    assert "field entries[1].id: duplicate entry id LZ-01" in result.out
    assert "row 11" in result.out and "row 18" in result.out  # the lines of the file
    problems = store("checklists", "validate", bad, "--json")
    assert problems.code == 3
    found = {(p["field"], p["value"]) for p in problems.json()["problems"]}
    assert {("entries[0].cooperating[0]", "JYJ"), ("entries[1].id", "LZ-01")} <= found

    refused = store("checklists", "import", bad)
    assert refused.code == 3 and "nothing was imported" in refused.err and "JYJ" in refused.err
    assert count(store_env, "SELECT COUNT(*) FROM checklist") == 0
    assert count(store_env, "SELECT COUNT(*) FROM audit_log") == before


def test_schema_problems_are_listed_with_exit_3(store, tmp_path):
    data = shipped_data()
    del data["entries"][0]["items"][0]["basis"]
    data["entries"][1]["items"][0]["methods"] = ["飞行检查"]
    result = store("checklists", "validate", write(tmp_path / "x.yaml", data), "--json")
    assert result.code == 3
    fields = [p["field"] for p in result.json()["problems"]]
    assert "entries[0].items[0].basis" in fields and "entries[1].items[0].methods[0]" in fields


def test_validate_needs_the_departments(cli):
    assert cli("init").code == 0
    result = cli("checklists", "validate", SHIPPED)
    assert result.code == 1 and "departments import" in result.err


def test_same_version_same_content_unchanged_other_content_refused(store, tmp_path, store_env):
    assert store("checklists", "import", SHIPPED).code == 0
    # The same content from a file with other comments and layout is still the same version.
    same = write(tmp_path / "same.yaml", shipped_data())
    again = store("checklists", "import", same, "--json")
    assert again.code == 0 and again.json()["result"] == "unchanged"
    assert count(store_env, "SELECT COUNT(*) FROM checklist") == 1
    log = store("audit", "log", "--command", "checklists import", "--json").json()
    assert [e["payload"]["result"] for e in log] == ["inserted", "unchanged"]

    data = shipped_data()
    data["entries"][0]["items"][0]["basis"] = "《中华人民共和国食品安全法》"
    changed = store("checklists", "import", write(tmp_path / "changed.yaml", data))
    assert changed.code == 1
    assert "checklist version 2026.1 was imported" in changed.err and "new `version`" in changed.err
    assert count(store_env, "SELECT COUNT(*) FROM audit_log WHERE command = 'checklists import'") == 2
    with connect(store_env) as conn:  # and the store itself refuses to rewrite a version
        try:
            conn.execute("UPDATE checklist SET title = 'x'")
            raise AssertionError("UPDATE of a checklist version was allowed")
        except DBError as exc:
            assert "frozen" in str(exc)


def test_diff_of_two_versions(store, tmp_path):
    assert store("checklists", "import", SHIPPED).code == 0
    data = shipped_data()
    data["version"] = "2026.2"
    entry = data["entries"][1]  # LZ-02
    removed = entry["items"].pop()  # LZ-02-2
    entry["items"][0]["basis"] = "《中华人民共和国食品安全法》第五十三条"
    entry["items"].append({"id": "LZ-02-3", "name": "散装食品标签标识情况", "department": "SCJG",
                           "basis": "《中华人民共和国食品安全法》第六十八条", "methods": ["实地核查"]})
    assert store("checklists", "import", write(tmp_path / "v2.yaml", data)).code == 0
    assert [r["version"] for r in store("checklists", "list", "--json").json()] == ["2026.1", "2026.2"]

    diff = store("checklists", "diff", "2026.1", "2026.2", "--json").json()
    assert diff["identical"] is False
    assert diff["summary"] == {"entries_added": 0, "entries_removed": 0, "entries_changed": 1,
                               "items_added": 1, "items_removed": 1, "items_changed": 1}
    assert [i["id"] for i in diff["items"]["added"]] == ["LZ-02-3"]
    assert [i["id"] for i in diff["items"]["removed"]] == [removed["id"]]
    assert diff["items"]["changed"][0]["changes"]["basis"]["new"].endswith("第五十三条")
    table = store("checklists", "diff", "2026.1", "2026.2")
    assert table.code == 0 and "LZ-02-3" in table.out and "items +1 -1 ~1" in table.err
    assert store("checklists", "diff", "2026.1", "2026.1", "--json").json()["identical"] is True
    assert store("checklists", "diff", "2026.1", "9.9").code == 1


def test_show_version_entry_and_item(store):
    assert store("checklists", "import", SHIPPED).code == 0
    version = store("checklists", "show", "2026.1", "--json").json()
    assert version["kind"] == "version" and len(version["entries"]) == 25
    entry = store("checklists", "show", "LZ-09", "--json").json()
    assert entry["kind"] == "entry" and entry["initiating"] == "WJ" and entry["cooperating"] == ["SCJG"]
    item = store("checklists", "show", "LZ-02-1", "--version", "2026.1", "--json").json()
    assert item["kind"] == "item" and item["entry"] == "LZ-02" and item["key_item"] is True
    missing = store("checklists", "show", "LZ-99")
    assert missing.code == 1 and "LZ-99" in missing.err


def test_export_xlsx_csv_json(store, tmp_path):
    assert store("checklists", "import", SHIPPED).code == 0
    xlsx = tmp_path / "清单.xlsx"
    result = store("checklists", "export", "--format", "xlsx", "-o", xlsx)
    assert result.code == 0, result.err
    book = openpyxl.load_workbook(xlsx)
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == EXPORT_HEADER
    assert len(rows) == 1 + 60
    assert sheet["A1"].font.bold and sheet.column_dimensions["E"].width > 20
    first = dict(zip(EXPORT_HEADER, rows[1]))
    assert first["发起部门"] == "连州市市场监督管理局" and first["事项编号"] == "LZ-01-1"

    printed = store("checklists", "export", "--format", "csv")
    table = list(csv.reader(io.StringIO(printed.out)))
    assert table[0] == EXPORT_HEADER and len(table) == 61
    out = tmp_path / "list.csv"
    assert store("checklists", "export", "--version", "2026.1", "-o", out).code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    data = json.loads(store("checklists", "export", "--format", "json").out)
    assert data["version"] == "2026.1" and len(data["rows"]) == 60 and data["columns"][0]["zh"] == "序号"

    assert store("checklists", "export", "--format", "xlsx").code == 2  # XLSX needs -o
    assert store("checklists", "export", "--format", "pdf", "-o", tmp_path / "x.pdf").code == 2


def test_dry_run_writes_nothing(store, store_env):
    result = store("checklists", "import", SHIPPED, "--dry-run", "--json")
    assert result.code == 0 and result.json()["result"] == "inserted" and result.json()["dry_run"] is True
    assert count(store_env, "SELECT COUNT(*) FROM checklist") == 0


def test_example_departments_cover_the_shipped_list():
    codes = {d["code"] for d in yaml.safe_load((EXAMPLES / "departments.yaml").read_text(encoding="utf-8"))["departments"]}
    data = shipped_data()
    used = {e["initiating"] for e in data["entries"]} | {c for e in data["entries"] for c in e.get("cooperating", [])}
    assert used <= codes
