"""联合清单 (第六条): schema errors with paths and lines, rule problems, diff, export rows."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from shuangsuiji.domain.checklist import (
    EXPORT_COLUMNS,
    METHODS,
    Checklist,
    diff_checklists,
    export_rows,
    load_checklist,
    validate_checklist,
)
from shuangsuiji.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"
CODES = {"SCJG", "WJ", "JY", "GA", "SW", "GX", "RS", "ZJ", "FG", "WG", "STHJ", "YJ", "XF", "NY", "SWJ", "JT", "XC"}

SMALL = """\
version: "2026.1"
title: 测试清单
issued_by: 连州市“双随机、一公开”监管工作联席会议
issued_on: 2026-01-20
based_on: 粤市监〔2020〕91号
entries:
  - id: LZ-01
    area: 食品安全
    object_type: 各类学校
    initiating: SCJG
    cooperating: [JY]
    items:
      - id: LZ-01-1
        name: 学校食堂食品安全
        department: SCJG
        basis: 《中华人民共和国食品安全法》第五十七条
        methods: [实地检查, 书面检查]
        key_item: true
      - id: LZ-01-2
        name: 校长负责制
        department: JY
        basis: 《学校食品安全与营养健康管理规定》
        methods: 书面检查
  - id: LZ-02
    area: 公共场所卫生
    object_type: 各类宾馆、旅店
    initiating: WJ
    cooperating: [SCJG]
    items:
      - id: LZ-02-1
        name: 宾馆卫生
        department: WJ
        basis: 《公共场所卫生管理条例》第三条
        methods: [实地核查]
"""


def load(text: str = SMALL) -> Checklist:
    return load_checklist(text, "c.yaml")


def errors(text: str) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(UserError) as info:
        load_checklist(text, "c.yaml")
    assert all(p.file == "c.yaml" for p in info.value.problems)
    return [(p.row, p.field, p.en) for p in info.value.problems]


def found(checklist: Checklist, known=CODES) -> list[tuple[int | None, str | None, str | None]]:
    return [(p.row, p.field, p.value) for p in validate_checklist(checklist, known, "c.yaml")]


# --- the shipped list ------------------------------------------------------------------


def test_shipped_checklist_is_valid_and_real_sized():
    checklist = load_checklist(SHIPPED.read_text(encoding="utf-8"), str(SHIPPED))
    assert validate_checklist(checklist, CODES, str(SHIPPED)) == []
    items = [it for e in checklist.entries for it in e.items]
    assert 20 <= len(checklist.entries) <= 25
    assert 40 <= len(items) <= 60
    assert all(it.basis.startswith("《") for it in items)
    additions = [e for e in checklist.entries if e.local_addition]
    assert 1 <= len(additions) <= 2
    assert all(e.local_addition.filed_on and e.local_addition.filed_with for e in additions)
    # The areas named by the brief are covered, with the real lead department.
    leads = {(e.object_type, e.initiating) for e in checklist.entries}
    assert ("各类宾馆、旅店", "WJ") in leads
    assert ("旅馆业经营单位", "GA") in leads
    assert ("经营性互联网文化单位", "WG") in leads


# --- schema ----------------------------------------------------------------------------


def test_methods_alias_and_single_text_are_normalised():
    c = load()
    assert c.entries[0].items[0].methods == ["实地核查", "书面检查"]
    assert c.entries[0].items[1].methods == ["书面检查"]
    assert c.entries[0].items[0].key_item is True
    assert "实地检查" not in METHODS


def test_version_keeps_the_text_as_written():
    assert load(SMALL.replace('version: "2026.1"', "version: 2026.10")).version == "2026.10"


def test_schema_problems_name_path_and_line():
    text = SMALL.replace("        basis: 《公共场所卫生管理条例》第三条\n", "").replace(
        "methods: [实地核查]", "methods: [实地核查, 飞行检查]\n        colour: red"
    )
    assert errors(text) == [
        (30, "entries[1].items[0].basis", "required field is missing"),
        (33, "entries[1].items[0].methods[1]", "must be one of: '书面检查', '网络监测', '实地核查', '检验检测', '行政部门检查结果或专业意见' or '委托专业机构辅助'"),
        (34, "entries[1].items[0].colour", "unknown field colour (misspelt?); allowed: id, name, department, basis, methods, key_item"),
    ]


def test_empty_basis_and_bad_date():
    text = SMALL.replace("basis: 《公共场所卫生管理条例》第三条", "basis:").replace("issued_on: 2026-01-20", "issued_on: 2026-02-30")
    assert errors(text) == [
        (4, "issued_on", "must be a date, YYYY-MM-DD"),
        (33, "entries[1].items[0].basis", "must not be empty (no value given)"),
    ]


def test_yaml_syntax_error_has_the_line():
    # The bracket opened on line 11 is found unclosed on line 12, where YAML notices it.
    assert errors(SMALL.replace("cooperating: [JY]", "cooperating: [JY")) == [
        (12, None, "YAML syntax error: while parsing a flow sequence expected ',' or ']', but got ':'")
    ]


def test_repeated_yaml_key_is_a_problem():
    rows = errors(SMALL.replace("    area: 食品安全\n", "    area: 食品安全\n    area: 药品\n"))
    assert rows == [(9, "entries[0].area", "key area appears twice (already on line 8)")]


def test_not_a_mapping():
    assert errors("- a\n- b\n") == [(1, None, "a checklist file must be a YAML mapping; it is empty or something else")]


# --- rules (第六条) ---------------------------------------------------------------------


def test_unknown_department_and_duplicate_id_are_both_reported():
    text = SMALL.replace("cooperating: [JY]", "cooperating: [JYJ]").replace("id: LZ-02-1", "id: LZ-01-1")
    assert found(load(text)) == [
        (11, "entries[0].cooperating[0]", "JYJ"),
        (21, "entries[0].items[1].department", "JY"),  # JY is no longer part of LZ-01
        (30, "entries[1].items[0].id", "LZ-01-1"),
    ]
    messages = [p.en for p in validate_checklist(load(text), CODES)]
    assert messages[0] == "unknown department code JYJ (not in the department list)"
    assert messages[2] == "duplicate item id LZ-01-1 (already used by entries[0].items[0])"


def test_every_rule_problem_is_listed():
    data = yaml.safe_load(SMALL)
    data["entries"][1]["id"] = "LZ-01"  # duplicate entry id
    data["entries"][1]["cooperating"] = ["SCJG", "WJ", "SCJG"]  # initiating as cooperating, listed twice
    data["entries"][1]["items"][0]["department"] = "GA"  # known, but not part of the entry
    data["entries"][0]["items"][1]["department"] = "XX"  # unknown
    data["entries"][0]["initiating"] = "ABC"  # unknown
    data["entries"].append({"id": "LZ-03", "area": "a", "object_type": "o", "initiating": "SCJG", "items": [], "local_addition": {"filed_on": "2026-01-02"}})
    checklist = Checklist.model_validate(data)
    problems = validate_checklist(checklist, CODES, "c.yaml")
    assert [(p.field, p.en) for p in problems] == [
        ("entries[0].initiating", "unknown department code ABC (not in the department list)"),
        ("entries[0].items[0].department", "department SCJG is neither the initiating nor a cooperating department of entry LZ-01"),
        ("entries[0].items[1].department", "unknown department code XX (not in the department list)"),
        ("entries[1].id", "duplicate entry id LZ-01 (already used by entries[0])"),
        ("entries[1].cooperating[1]", "the initiating department WJ must not also be cooperating"),
        ("entries[1].cooperating[2]", "cooperating department SCJG is listed twice"),
        ("entries[1].items[0].department", "department GA is neither the initiating nor a cooperating department of entry LZ-01"),
        ("entries[2].items", "entry LZ-03 has no check items"),
        ("entries[2].local_addition", "Article 6: a local addition must be filed with the joint-meeting office; missing filed_with"),
    ]
    assert all(p.row is None and p.file == "c.yaml" for p in problems)  # built in code: no lines
    assert problems[-1].zh == "第六条：增补事项须报市联席会议办公室备案，缺少备案信息 filed_with"


def test_local_addition_marked_true_without_filing():
    text = SMALL.replace("    cooperating: [SCJG]\n", "    cooperating: [SCJG]\n    local_addition: true\n")
    assert found(load(text)) == [(29, "entries[1].local_addition", None)]
    filed = SMALL.replace(
        "    cooperating: [SCJG]\n",
        "    cooperating: [SCJG]\n    local_addition:\n      filed_on: 2026-01-10\n      filed_with: 连州市联席会议办公室\n",
    )
    assert found(load(filed)) == []


def test_department_names_from_a_mapping_are_accepted():
    assert validate_checklist(load(), {c: c.lower() for c in CODES}) == []


# --- diff ------------------------------------------------------------------------------


def test_diff_reports_added_removed_and_changed():
    a = load()
    data = yaml.safe_load(SMALL)
    data["version"] = "2026.2"
    data["title"] = "测试清单（修订）"
    data["entries"][0]["cooperating"] = ["JY", "WJ"]
    data["entries"][0]["items"][0]["basis"] = "《中华人民共和国食品安全法》第五十五条、第五十七条"
    data["entries"][0]["items"][0]["methods"] = ["实地核查"]
    del data["entries"][0]["items"][1]
    data["entries"][0]["items"].append(
        {"id": "LZ-01-3", "name": "传染病防控", "department": "WJ", "basis": "《学校卫生工作条例》", "methods": ["实地核查"]}
    )
    del data["entries"][1]
    data["entries"].append(copy.deepcopy(yaml.safe_load(SMALL)["entries"][1]) | {"id": "LZ-03"})
    data["entries"][1]["items"][0]["id"] = "LZ-03-1"
    b = Checklist.model_validate(data)

    diff = diff_checklists(a, b)
    assert diff["from_version"] == "2026.1" and diff["to_version"] == "2026.2"
    assert diff["identical"] is False
    assert diff["header"] == {"title": {"old": "测试清单", "new": "测试清单（修订）"}}
    assert diff["entries"] == {
        "added": [{"id": "LZ-03", "area": "公共场所卫生", "object_type": "各类宾馆、旅店"}],
        "removed": [{"id": "LZ-02", "area": "公共场所卫生", "object_type": "各类宾馆、旅店"}],
        "changed": [
            {
                "id": "LZ-01",
                "changes": {
                    "cooperating": {"old": ["JY"], "new": ["JY", "WJ"]},
                    "items": {"old": ["LZ-01-1", "LZ-01-2"], "new": ["LZ-01-1", "LZ-01-3"]},
                },
            }
        ],
    }
    assert diff["items"] == {
        "added": [{"id": "LZ-01-3", "entry": "LZ-01", "name": "传染病防控"}, {"id": "LZ-03-1", "entry": "LZ-03", "name": "宾馆卫生"}],
        "removed": [{"id": "LZ-01-2", "entry": "LZ-01", "name": "校长负责制"}, {"id": "LZ-02-1", "entry": "LZ-02", "name": "宾馆卫生"}],
        "changed": [
            {
                "id": "LZ-01-1",
                "entry": "LZ-01",
                "changes": {
                    "basis": {"old": "《中华人民共和国食品安全法》第五十七条", "new": "《中华人民共和国食品安全法》第五十五条、第五十七条"},
                    "methods": {"old": ["实地核查", "书面检查"], "new": ["实地核查"]},
                },
            }
        ],
    }
    assert diff["summary"] == {
        "entries_added": 1,
        "entries_removed": 1,
        "entries_changed": 1,
        "items_added": 2,
        "items_removed": 2,
        "items_changed": 1,
    }


def test_diff_of_item_moved_between_entries_and_identical_lists():
    a = load()
    assert diff_checklists(a, load())["identical"] is True
    data = yaml.safe_load(SMALL)
    moved = data["entries"][0]["items"].pop(0)
    moved["department"] = "SCJG"
    data["entries"][1]["items"].append(moved)
    diff = diff_checklists(a, Checklist.model_validate(data))
    assert diff["items"]["changed"] == [{"id": "LZ-01-1", "entry": "LZ-02", "changes": {"entry": {"old": "LZ-01", "new": "LZ-02"}}}]


# --- export ----------------------------------------------------------------------------


def test_export_rows_one_per_item_with_entry_fields():
    text = SMALL.replace(
        "    cooperating: [SCJG]\n",
        "    cooperating: [SCJG]\n    local_addition:\n      filed_on: 2026-01-10\n      filed_with: 连州市联席会议办公室\n",
    )
    rows = export_rows(load(text), {"SCJG": "市场监督管理局", "JY": "教育局", "WJ": "卫生健康局"})
    assert [r["no"] for r in rows] == [1, 2, 3]
    assert list(rows[0]) == [key for key, _, _ in EXPORT_COLUMNS]
    assert rows[0] == {
        "no": 1,
        "entry_id": "LZ-01",
        "area": "食品安全",
        "item_id": "LZ-01-1",
        "item": "学校食堂食品安全",
        "object_type": "各类学校",
        "initiating": "市场监督管理局",
        "cooperating": "教育局",
        "department": "市场监督管理局",
        "basis": "《中华人民共和国食品安全法》第五十七条",
        "methods": "实地核查、书面检查",
        "key_item": "是",
        "local_addition": "",
    }
    assert rows[2]["local_addition"] == "增补，2026-01-10 报连州市联席会议办公室备案"
    assert [zh for _, zh, _ in EXPORT_COLUMNS if zh in ("序号", "抽查领域", "抽查事项", "检查对象", "发起部门", "配合部门", "检查依据", "检查方式", "增补/备案")] == [
        "序号", "抽查领域", "抽查事项", "检查对象", "发起部门", "配合部门", "检查依据", "检查方式", "增补/备案"
    ]
