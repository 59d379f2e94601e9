"""Results (第十二条 to 第十四条): template, import, record, status; the rules of one row."""

import csv
import datetime
import hashlib
from pathlib import Path

import openpyxl
import pytest
import yaml

from conftest import ROOT, DBError, connect
from shuangsuiji.domain import results as rules

SEED = "27182818284590452353602874"
CHECKLIST = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"
DRAW = "2026-T1-D1"
# The shipped checklist gives every department one item per entry; a local version adds a
# second 市场监管局 item so that a department's template has entities × 2 items.
EXTRA_ITEM = {"id": "LZ-17-4", "name": "企业即时信息公示情况", "department": "SCJG",
              "basis": "《企业信息公示暂行条例》第十条", "methods": ["书面检查"]}
SCJG_ITEMS = ["LZ-17-1", "LZ-17-4"]
RS_ITEMS = ["LZ-17-2"]
COL = {zh: i for i, (_, zh) in enumerate(rules.PREFILLED + rules.INPUT + (rules.KEY,), start=1)}


def make_joint_draw(cli, tmp_path: Path) -> str:
    """A locked draw with teams of an ad hoc joint task: SCJG (2 items) initiating, RS (1 item) cooperating."""
    data = yaml.safe_load(CHECKLIST.read_text(encoding="utf-8"))
    data["version"] = "2026.2"
    next(e for e in data["entries"] if e["id"] == "LZ-17")["items"].append(EXTRA_ITEM)
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    task = {
        "id": "2026-T1", "year": 2026, "checklist_version": "2026.2", "name": "企业年报及即时信息联合抽查",
        "checklist_entry": "LZ-17", "items": ["LZ-17-1", "LZ-17-2", "LZ-17-4"], "initiating": "SCJG", "cooperating": ["RS"],
        "scope": {"directory": {"entity_type": ["有限责任公司", "股份有限公司"]}},
        "ratios": {"A": "3%", "B": "3%", "C": "5%", "D": "10%"},
        "window": {"start": "2026-07-01", "end": "2026-11-30"},
    }
    task_file = tmp_path / "task.yaml"
    task_file.write_text(yaml.safe_dump(task, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for args in (("checklists", "import", checklist), ("tasks", "create", "--file", task_file),
                 ("draws", "run", "2026-T1", "--seed", SEED), ("draws", "inspectors", DRAW)):
        result = cli(*args)
        assert result.code == 0, (args, result.err)
    return DRAW


@pytest.fixture
def draw(store, tmp_path):
    return make_joint_draw(store, tmp_path)


def selected(cli, draw_id):
    return [s["uscc"] for s in cli("draws", "show", draw_id, "--json").json()["selected"]]


def template(cli, tmp_path, dept="SCJG", name=None) -> Path:
    path = tmp_path / (name or f"{dept}.xlsx")
    result = cli("results", "template", DRAW, "--dept", dept, "-o", path, "--force")  # a fresh blank each time
    assert result.code == 0, result.err
    return path


def fill(path: Path, out: Path, values=None) -> Path:
    """Fill every row as a department would in Excel; ``values(row, item)`` overrides cells by header."""
    book = openpyxl.load_workbook(path)
    ws = book.worksheets[0]
    for r in range(2, ws.max_row + 1):
        item = ws.cell(r, COL["检查事项编号"]).value
        cells = {"检查结果": "未发现问题", "检查日期": datetime.date(2026, 8, 3), "签字情况": "签字",
                 "检查方式": "书面检查"}
        if values:
            cells.update(values(r, item))
        for header, value in cells.items():
            ws.cell(r, COL[header]).value = value
    book.save(out)
    return out


def counts(db) -> dict:
    with connect(db) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("inspection_result", "inspection_result_history", "followup", "audit_log")}


def serial(iso: str) -> str:
    """An Excel date serial, as a date validation stores its bounds."""
    return str((datetime.date.fromisoformat(iso) - datetime.date(1899, 12, 30)).days)


def audit_entries(cli, command):
    return [e for e in cli("audit", "log", "--json").json() if e["command"] == command]


# ---------------------------------------------------------------- the rules (pure)


def test_categories_are_split_into_problem_and_no_problem_exactly():
    assert rules.NOT_A_PROBLEM | rules.PROBLEM_CATEGORIES == set(rules.CATEGORIES)
    assert not rules.NOT_A_PROBLEM & rules.PROBLEM_CATEGORIES
    assert rules.NOT_A_PROBLEM == {"未发现问题", "未发现开展本次抽查涉及的经营活动"}
    assert not rules.is_problem(["未发现开展本次抽查涉及的经营活动"]) and rules.is_problem(["注销"])
    assert rules.needs_followup(["未发现问题"], "责令改正") and not rules.needs_followup(["未发现问题"], "无需处置")


def test_aliases_from_domain_md_are_normalised_and_several_categories_allowed():
    assert rules.normalise_category("发现问题经责令已改正") == "发现问题已责令改正"
    assert rules.normalise_category("不予配合情节严重") == "不配合检查情节严重"
    assert rules.normalise_category(" 通过登记的住所(经营场所)无法联系 ") == rules.UNREACHABLE  # half-width parentheses
    found, unknown = rules.parse_categories("迁出；未按规定公示应当公示的信息;查无此类")
    assert found == ("未按规定公示应当公示的信息", "迁出") and unknown == ["查无此类"]  # canonical order
    # 、 is part of a category name, never a separator
    assert rules.parse_categories("公示信息隐瞒真实情况、弄虚作假") == (("公示信息隐瞒真实情况、弄虚作假",), [])


def test_one_row_reports_every_problem_it_has():
    scope = rules.Scope("D", {"91350100M000100Y43": "x"}, {"I-1": {"id": "I-1", "department": "A", "methods": ["书面检查", "实地核查"]}},
                        ("2026-07-01", "2026-07-31"))
    at = rules.RowCheck("f.csv", 4)
    fields = {"uscc": "91350100M000100Y43", "item": "i-1", "result": "未发现问题；注销", "method": "现场检查、电话",
              "date": "2026-08-01", "signature": "无法取得", "followup": "其他", "publish": "否"}
    assert rules.check_row(fields, scope, at) is None
    assert sorted(p.field for p in at.problems) == sorted(["检查结果", "检查方式", "检查日期", "拒签原因", "备注", "不公示理由"])
    assert next(p for p in at.problems if p.field == "检查方式").value == "电话"
    assert {p.row for p in at.problems} == {4} and {p.file for p in at.problems} == {"f.csv"}
    ok = rules.check_row({**fields, "result": "注销", "method": "现场检查", "date": "2026年7月5日", "reason": "已停业",
                          "note": "告知登记机关", "no_publish_reason": "涉及个人隐私"}, scope, rules.RowCheck("f.csv", 4))
    assert ok == rules.ResultRecord(
        uscc="91350100M000100Y43", item="I-1", department="A", categories=("注销",), methods=("实地核查",),
        inspected_on="2026-07-05", signature="无法取得", signature_reason="已停业", followup="其他", publish=False,
        no_publish_reason="涉及个人隐私", note="告知登记机关",
    )


# ---------------------------------------------------------------- template


def test_template_has_entities_times_items_prefilled_and_dropdowns(draw, store, tmp_path):
    path = template(store, tmp_path)
    entities = selected(store, draw)
    teams = {t["entity"]: t["members"] for t in store("draws", "show", draw, "--json").json()["teams"]}
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["SCJG", "选项"] and book["选项"].sheet_state == "hidden"
    ws = book["SCJG"]
    assert [c.value for c in ws[1]] == list(COL)
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert [(r[COL["统一社会信用代码"] - 1], r[COL["检查事项编号"] - 1]) for r in rows] == [(e, i) for e in entities for i in SCJG_ITEMS]
    assert len(rows) == len(entities) * 2
    for r in rows:
        uscc = r[COL["统一社会信用代码"] - 1]
        assert r[COL["行键"] - 1] == f"{draw}|{uscc}|{r[COL['检查事项编号'] - 1]}"
        team = r[COL["检查小组（组长在前）"] - 1]
        certs = [m["officer"] for m in teams[uscc]]
        assert [part.split("（")[1].rstrip("）") for part in team.split("、")] == certs  # leader first
        assert all(v is None for v in r[COL["检查结果"] - 1:COL["备注"]])  # nothing to fill is pre-filled
    assert ws.cell(2, COL["企业名称"]).fill.fgColor.rgb.endswith("D9D9D9")
    assert ws.cell(2, COL["检查结果"]).fill.fill_type is None
    key_letter = ws.cell(1, COL["行键"]).column_letter
    assert ws.column_dimensions[key_letter].hidden

    last = len(rows) + 1
    letter = {h: ws.cell(1, i).column_letter for h, i in COL.items()}
    found = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    categories = found[f"{letter['检查结果']}2:{letter['检查结果']}{last}"]
    assert categories.type == "list" and categories.formula1 == f"'选项'!$A$2:$A${len(rules.CATEGORIES) + 1}"
    assert [book["选项"].cell(r, 1).value for r in range(2, len(rules.CATEGORIES) + 2)] == list(rules.CATEGORIES)
    assert found[f"{letter['签字情况']}2:{letter['签字情况']}{last}"].formula1 == '"签字,拒签,无法取得"'
    assert found[f"{letter['后续处置']}2:{letter['后续处置']}{last}"].formula1 == '"无需处置,责令改正,移交线索,抄告主管部门,移送司法机关,其他"'
    assert found[f"{letter['是否公示']}2:{letter['是否公示']}{last}"].formula1 == '"是,否"'
    dates = found[f"{letter['检查日期']}2:{letter['检查日期']}{last}"]
    assert dates.type == "date" and (dates.formula1, dates.formula2) == (serial("2026-07-01"), serial("2026-11-30"))
    # 检查方式: each row's drop-down is its own item's methods (from the hidden sheet)
    options = book["选项"]
    for dv in ws.data_validations.dataValidation:
        if str(dv.sqref).startswith(letter["检查方式"]):
            column = dv.formula1.split("!")[1].split(":")[0].strip("$")[0]
            item = options[f"{column}1"].value
            methods = [c.value for c in options[column][1:] if c.value]
            assert methods == {"LZ-17-1": ["书面检查", "网络监测", "实地核查"], "LZ-17-4": ["书面检查"]}[item]
            cells = str(dv.sqref).split()
            assert {ws[c].offset(0, COL["检查事项编号"] - COL["检查方式"]).value for c in cells} == {item}
            assert len(cells) == len(entities)

    rs = openpyxl.load_workbook(template(store, tmp_path, "RS"))["RS"]
    assert [rs.cell(r, COL["检查事项编号"]).value for r in range(2, rs.max_row + 1)] == RS_ITEMS * len(entities)


def test_template_refuses_a_department_that_does_not_execute_the_task(draw, store, tmp_path):
    result = store("results", "template", draw, "--dept", "SW", "-o", tmp_path / "x.xlsx")
    assert result.code == 1 and "does not execute task 2026-T1" in result.err
    assert not (tmp_path / "x.xlsx").exists()
    assert store("results", "template", draw, "--dept", "SCJG", "-o", tmp_path / "x.csv").code == 2


def test_results_need_a_locked_draw_with_officers(store, tmp_path):
    from test_draws import make_task

    task = make_task(store, tmp_path)
    run = store("draws", "run", task, "--seed", SEED, "--json").json()
    result = store("results", "template", run["draw"], "--dept", "SCJG", "-o", tmp_path / "t.xlsx")
    assert result.code == 1 and "draws inspectors" in result.err
    assert store("draws", "void", run["draw"], "--reason", "测试", "--yes").code == 0
    result = store("results", "status", run["draw"])
    assert result.code == 1 and "is not locked (void)" in result.err


# ---------------------------------------------------------------- import


def test_filled_template_imports_and_status_shows_nothing_missing(draw, store, tmp_path, store_env):
    path = fill(template(store, tmp_path), tmp_path / "filled.xlsx")
    before = store("results", "status", draw, "--json").json()
    assert before["overall"]["results_missing"] == before["overall"]["results_expected"] == len(selected(store, draw)) * 3
    result = store("results", "import", draw, path, "--dept", "SCJG", "--json")
    assert result.code == 0, result.err
    n = len(selected(store, draw)) * 2
    summary = result.json()
    assert (summary["inserted"], summary["updated"], summary["unchanged"], summary["rows"]) == (n, 0, 0, n)
    scjg = store("results", "status", draw, "--dept", "SCJG", "--json").json()
    assert scjg["missing"] == []
    assert scjg["departments"][0]["results_done"] == scjg["departments"][0]["results_expected"] == n
    assert store("results", "status", draw, "--dept", "SCJG", "--strict").code == 0
    overall = store("results", "status", draw, "--json").json()
    assert {(m["department"], m["item"]) for m in overall["missing"]} == {("RS", "LZ-17-2")}
    assert overall["overall"]["entities_done"] == 0  # 第十二条: RS's item is still missing for every entity
    assert store("results", "status", draw, "--strict").code == 3
    recorded = store("results", "list", draw, "--json").json()
    assert {(r["categories"][0], r["inspected_on"], r["signature"], r["entered_by"]) for r in recorded} == {
        ("未发现问题", "2026-08-03", "签字", "tester")}
    entry = audit_entries(store, "results import")[-1]
    assert entry["payload"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry["payload"]["inserted"] == n and entry["operator"] == "tester"


def test_bad_rows_are_all_named_and_nothing_is_written(draw, store, tmp_path, store_env):
    good = fill(template(store, tmp_path), tmp_path / "good.xlsx")
    assert store("results", "import", draw, good).code == 0
    before = counts(store_env)

    def bad(r, item):
        if r == 2:
            return {"统一社会信用代码": "91350100M000100Y43", "行键": None}  # an entity not in the locked list
        if r == 3:
            return {"检查结果": "发现问题待后续处理；查无此类"}  # an unknown category
        if r == 5:
            return {"签字情况": "拒签", "检查结果": "发现问题经责令已改正"}  # refusal without a reason
        return {"检查结果": "未按规定公示应当公示的信息"}  # valid changes: must not be written either

    path = fill(template(store, tmp_path), tmp_path / "bad.xlsx", bad)
    result = store("results", "import", draw, path, "--json")
    assert result.code == 1
    problems = result.json()["problems"]
    where = {(p["file"], p["row"], p["field"]) for p in problems}
    sheet = f"{path}[SCJG]"
    assert where == {(sheet, 2, "统一社会信用代码"), (sheet, 3, "检查结果"), (sheet, 5, "拒签原因")}
    by_row = {p["row"]: p for p in problems}
    assert by_row[2]["value"] == "91350100M000100Y43" and "not in the locked list" in by_row[2]["message"]
    assert by_row[3]["value"] == "查无此类" and "unknown result category" in by_row[3]["message"]
    assert "needs the reason" in by_row[5]["message"]
    assert counts(store_env) == before
    text = store("results", "import", draw, path)
    assert text.code == 1
    for line in (f"{sheet}, row 2, field 统一社会信用代码", f"{sheet}, row 3, field 检查结果", f"{sheet}, row 5, field 拒签原因"):
        assert line in text.err
    assert "nothing was written" in text.err


def test_every_rule_of_a_row_is_checked_on_import(draw, store, tmp_path, store_env):
    other = selected(store, draw)[0]

    def bad(r, item):
        return {
            2: {"检查日期": "2026-12-01"},  # after the window
            3: {"检查日期": "下周"},  # unreadable
            4: {"检查结果": "通过登记的住所(经营场所)无法联系", "签字情况": "无法取得", "拒签原因": "无人"},  # no witness
            5: {"是否公示": "否"},  # no reason
            6: {"检查方式": "检验检测"},  # not a method of the item
            7: {"检查事项编号": "LZ-17-9", "行键": None},  # not an item of the task
            8: {"行键": f"2026-09-D1|{other}|LZ-17-1"},  # another draw's row
            9: {"统一社会信用代码": other},  # the visible code edited: the key decides, the edit is named
            10: {"检查结果": "未发现问题；注销"},  # contradictory
        }.get(r, {})

    path = fill(template(store, tmp_path), tmp_path / "bad.xlsx", bad)
    result = store("results", "import", draw, path, "--json")
    assert result.code == 1
    got = {p["row"]: (p["field"], p["message"]) for p in result.json()["problems"]}
    assert {r: f for r, (f, _) in got.items()} == {
        2: "检查日期", 3: "检查日期", 4: "见证人", 5: "不公示理由", 6: "检查方式", 7: "检查事项编号", 8: "行键",
        9: "统一社会信用代码", 10: "检查结果"}
    assert "outside the task window 2026-07-01 to 2026-11-30" in got[2][1]
    assert "needs a witness" in got[4][1]
    assert counts(store_env)["inspection_result"] == 0


def test_rows_of_another_department_are_refused_with_dept(draw, store, tmp_path):
    path = fill(template(store, tmp_path, "RS"), tmp_path / "rs.xlsx")
    result = store("results", "import", draw, path, "--dept", "SCJG", "--json")
    assert result.code == 1
    assert {p["field"] for p in result.json()["problems"]} == {"检查事项编号"}
    assert "belongs to RS, not SCJG" in result.json()["problems"][0]["message"]
    assert store("results", "import", draw, path, "--dept", "RS").code == 0


def test_reimport_is_an_upsert_with_history(draw, store, tmp_path, store_env):
    path = fill(template(store, tmp_path), tmp_path / "filled.xlsx")
    assert store("results", "import", draw, path).code == 0
    again = store("results", "import", draw, path, "--json").json()
    n = len(selected(store, draw)) * 2
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, n)
    assert counts(store_env)["inspection_result_history"] == 0
    assert len(audit_entries(store, "results import")) == 2  # a rerun is logged, and says it changed nothing

    book = openpyxl.load_workbook(path)
    ws = book.worksheets[0]
    uscc, item = ws.cell(3, COL["统一社会信用代码"]).value, ws.cell(3, COL["检查事项编号"]).value
    ws.cell(3, COL["检查结果"]).value = "发现问题经责令已改正"
    ws.cell(3, COL["备注"]).value = "已当场改正"
    book.save(tmp_path / "changed.xlsx")
    changed = store("--operator", "王科长", "results", "import", draw, tmp_path / "changed.xlsx", "--json").json()
    assert (changed["inserted"], changed["updated"], changed["unchanged"]) == (0, 1, n - 1)
    history = store("results", "history", draw, "--entity", uscc, "--json").json()
    assert [(h["item"], h["field"], h["old_value"], h["new_value"], h["operator"]) for h in history] == [
        (item, "categories", "未发现问题", "发现问题已责令改正", "王科长"), (item, "note", None, "已当场改正", "王科长")]
    entry = audit_entries(store, "results import")[-1]
    assert history[0]["audit_seq"] == entry["seq"]
    assert entry["payload"]["changed"] == [{"entity": uscc, "item": item, "fields": ["categories", "note"]}]
    row = next(r for r in store("results", "list", draw, "--entity", uscc, "--json").json() if r["item"] == item)
    assert (row["entered_by"], row["updated_by"], row["categories"]) == ("tester", "王科长", ["发现问题已责令改正"])
    with connect(store_env) as conn, pytest.raises(DBError, match="frozen"):
        conn.execute("UPDATE inspection_result_history SET new_value = 'x'")


def test_csv_with_aliases_several_categories_and_blank_rows(draw, store, tmp_path):
    entities = selected(store, draw)
    path = tmp_path / "results.csv"
    with open(path, "w", encoding="gb18030", newline="") as fh:  # as Chinese Excel saves CSV
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "检查事项编号", "检查结果", "检查方式", "检查日期", "签字情况", "拒签原因", "见证人", "后续处置", "是否公示", "不公示理由"])
        w.writerow([entities[0].lower(), "lz-17-1", "未按规定公示应当公示的信息；通过登记的住所(经营场所)无法联系", "网络检查、实地核查",
                    "2026年8月5日", "无法取得签字", "住所无人", "村委会 张某", "抄告", "", ""])
        w.writerow([entities[1], "LZ-17-4", "不予配合情节严重", "", "2026/8/6", "拒绝签字", "负责人拒绝", "", "移送司法", "否", "案件尚在调查"])
        w.writerow([entities[2], "LZ-17-4", "", "", "", "", "", "", "", "", ""])  # not filled in yet
    result = store("results", "import", draw, path, "--json")
    assert result.code == 0, result.out + result.err
    assert (result.json()["inserted"], result.json()["blank_rows"]) == (2, 1)
    rows = {r["uscc"]: r for r in store("results", "list", draw, "--json").json()}
    first, second = rows[entities[0]], rows[entities[1]]
    assert first["categories"] == ["未按规定公示应当公示的信息", "通过登记的住所（经营场所）无法联系"]
    assert first["methods"] == ["网络监测", "实地核查"] and first["inspected_on"] == "2026-08-05"
    assert (first["signature"], first["signature_reason"], first["witness"], first["followup"]) == ("无法取得", "住所无人", "村委会 张某", "抄告主管部门")
    assert second["categories"] == ["不配合检查情节严重"] and second["methods"] == ["书面检查"]  # the item's only method
    assert (second["signature"], second["followup"], second["publish"], second["no_publish_reason"]) == ("拒签", "移送司法机关", False, "案件尚在调查")


def test_record_one_result_from_the_command_line(draw, store, tmp_path, store_env):
    entity = selected(store, draw)[0]
    bad = store("results", "record", draw, "--entity", "91350100M000100Y43", "--item", "LZ-17-1", "--result", "无此分类",
                "--signature", "拒签", "--json")
    assert bad.code == 1
    assert {p["field"] for p in bad.json()["problems"]} == {"--entity", "--result", "--date", "--reason", "--method"}
    assert counts(store_env)["inspection_result"] == 0
    dry = store("results", "record", draw, "--entity", entity, "--item", "LZ-17-4", "--result", "未发现问题", "--date",
                "2026-08-01", "--dry-run", "--json")
    assert dry.code == 0 and dry.json()["inserted"] == 1 and dry.json()["dry_run"] is True
    assert counts(store_env)["inspection_result"] == 0
    ok = store("results", "record", draw, "--entity", entity, "--item", "LZ-17-4", "--result", "未发现问题", "--date",
               "2026-08-01", "--no-publish", "涉及国家秘密", "--json")
    assert ok.code == 0 and ok.json()["inserted"] == 1
    [row] = store("results", "list", draw, "--json").json()
    assert (row["item"], row["publish"], row["no_publish_reason"], row["methods"]) == ("LZ-17-4", False, "涉及国家秘密", ["书面检查"])
    assert audit_entries(store, "results record")[-1]["payload"]["entity"] == entity


def test_duplicate_rows_and_dry_run(draw, store, tmp_path, store_env):
    entity = selected(store, draw)[0]
    path = tmp_path / "dup.csv"
    path.write_text(
        "uscc,item,result,method,date\n"
        f"{entity},LZ-17-4,未发现问题,,2026-08-01\n"
        f"{entity},LZ-17-1,未发现问题,网络监测,2026-08-01\n"
        f"{entity},LZ-17-4,注销,,2026-08-02\n", encoding="utf-8")
    result = store("results", "import", draw, path, "--json")
    assert result.code == 1
    [problem] = result.json()["problems"]
    assert (problem["row"], problem["field"]) == (4, "uscc") and f"first at {path} row 2" in problem["message"]
    path.write_text("uscc,item,result,method,date\n" f"{entity},LZ-17-1,注销,书面检查,2026-08-01\n", encoding="utf-8")
    dry = store("results", "import", draw, path, "--dry-run", "--json")
    assert dry.code == 0 and (dry.json()["inserted"], dry.json()["followups"]["opened"], dry.json()["dry_run"]) == (1, 1, True)
    assert counts(store_env) == {**counts(store_env), "inspection_result": 0, "followup": 0}
    assert audit_entries(store, "results import") == []
