"""Forms 执法文书 (第十四条): the 联合抽查通知书 and the 实地检查表 of a locked draw, as DOCX."""

from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from test_draws import SEED, make_task

from shuangsuiji.domain.directory import RISK_NAMES

RIGHTS = ("出示执法证件", "申请其回避", "如实提供", "不得拒绝、阻碍检查")


@pytest.fixture
def drawn(store, tmp_path):
    """A locked draw of task 2026-09 (SCJG with RS and SW), officers not drawn yet."""
    task = make_task(store, tmp_path)
    return store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]


@pytest.fixture
def locked(store, drawn):
    """The same draw with its teams drawn (第十条, 第十一条)."""
    assert store("draws", "inspectors", drawn).code == 0
    return drawn


@pytest.fixture
def facts(store, drawn):
    """What the forms must say, read through the CLI rather than the code under test."""
    shown = store("draws", "show", drawn, "--json").json()
    task = store("tasks", "show", shown["task_id"], "--json").json()
    return {
        "entities": shown["selected"],
        "definition": task["definition"],
        "officers": {o["cert_no"]: o for o in store("inspectors", "list", "--json").json()},
        "departments": {d["code"]: d["name"] for d in store("departments", "list", "--json").json()},
    }


def teams_of(store, draw):
    return {t["entity"]: t["members"] for t in store("draws", "show", draw, "--json").json()["teams"]}


def text_of(path: Path) -> str:
    doc = Document(path)
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def rows_of(path: Path) -> list[list[str]]:
    return [[c.text for c in row.cells] for table in Document(path).tables for row in table.rows]


def files_for(result, uscc: str) -> list[Path]:
    return [Path(f) for f in result["files"] if f"-{uscc}-" in Path(f).name]


def test_one_notice_per_entity_with_items_team_rights_and_blanks(store, locked, facts, tmp_path):
    out = tmp_path / "notices"
    result = store("forms", "notice", locked, "-o", out, "--json")
    assert result.code == 0, result.err
    summary = result.json()
    entities = facts["entities"]
    assert summary["draw"] == locked and summary["count"] == len(entities) == len(summary["files"])
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(f).name for f in summary["files"])
    definition, names = facts["definition"], facts["departments"]
    teams = teams_of(store, locked)
    for n, entity in enumerate(entities, start=1):
        [path] = files_for(summary, entity["uscc"])
        assert path.name.startswith(f"{locked}-{n:03d}-") and path.name.endswith("联合抽查通知书.docx")
        body = text_of(path)
        assert f"{entity['name']}：" in body and entity["uscc"] in body
        assert "风险" not in body + "".join("".join(r) for r in rows_of(path))  # internal data stays off (第四条)
        assert "市场监管领域部门联合抽查通知书" in body and "〔　　　　〕" in body and "号" in body
        assert "《连州市市场监管领域部门联合“双随机、一公开”抽查工作细则》" in body
        assert definition["name"] in body and definition["id"] in body
        assert "2026年7月1日至2026年11月30日" in body
        for item in definition["items"]:
            assert item["name"] in body and item["basis"] in body
        assert f"发起部门：{names['SCJG']}" in body
        assert f"配合部门：{names['RS']}、{names['SW']}" in body
        # Items grouped under their department, initiating first.
        assert body.index(names["SCJG"] + "（发起部门）") < body.index(definition["items"][0]["name"]) \
            < body.index(names["RS"] + "（配合部门）")
        for phrase in RIGHTS:
            assert phrase in body
        assert "（盖章）" in body and "联系人：____" in body and "年____月____日" in body
        team = rows_of(path)
        members = teams[entity["uscc"]]
        for i, m in enumerate(members):
            officer = facts["officers"][m["officer"]]
            assert [str(i + 1), "组长" if i == 0 else "组员", officer["name"], names[m["department"]], m["officer"]] in team
        assert members[0]["department"] == "SCJG"


def test_one_checklist_per_entity_with_every_item_the_team_and_signature_lines(store, locked, facts, tmp_path):
    out = tmp_path / "checklists"
    result = store("forms", "checklist", locked, "-o", out, "--json")
    assert result.code == 0, result.err
    summary = result.json()
    assert summary["count"] == len(facts["entities"]) == len(list(out.iterdir()))
    names = facts["departments"]
    teams = teams_of(store, locked)
    objects = {e["uscc"]: e for e in facts["entities"]}
    for uscc, entity in objects.items():
        [path] = files_for(summary, uscc)
        assert path.name.endswith("实地检查表.docx")
        body, rows = text_of(path), rows_of(path)
        assert "市场监管领域部门联合抽查实地检查表" in body
        assert ["检查对象名称", entity["name"], entity["name"], entity["name"]] in rows
        assert ["统一社会信用代码", uscc, uscc, uscc] in rows
        # The entity signs this form: the credit-risk class (internal supervisory data) is not on it.
        assert "风险" not in body + "".join("".join(r) for r in rows)
        assert RISK_NAMES[entity["stratum"]] not in body + "".join("".join(r) for r in rows)
        assert entity["address"] in body and entity["region"] in body
        assert ["序号", "检查事项", "检查依据", "检查方式", "检查情况", "结果"] in rows
        for item in facts["definition"]["items"]:
            [row] = [r for r in rows if r[1] == item["name"]]
            assert row[2] == item["basis"]
            assert row[3].split("\n") == ["□" + m for m in item["methods"]]
            assert row[4] == "" and row[5] == "□符合\n□不符合\n□不适用"
        section, under = None, {}
        for r in rows:  # each item sits in its own department's section
            if r[:2] == ["序号", "职责"]:
                break  # the team table
            if len(set(r)) == 1 and r[0].endswith("部门）"):
                section = r[0]
            elif r[0].isdigit() and section:
                under[r[1]] = section
        assert {i["name"]: f"{names[i['department']]}（{'发起部门' if i['department'] == 'SCJG' else '配合部门'}）"
                for i in facts["definition"]["items"]} == under
        assert ["序号", "职责", "姓名", "所属部门", "执法证号", "执法人员签名"] in rows
        for i, m in enumerate(teams[uscc]):
            officer = facts["officers"][m["officer"]]
            assert [str(i + 1), "组长" if i == 0 else "组员", officer["name"], names[m["department"]], m["officer"], ""] in rows
        for line in ("检查对象签字（盖章）：____", "拒签原因（无法取得签字或者盖章的，注明原因）：____", "见证人（签名）：____",
                     "□签字（盖章）确认", "□拒签", "检查日期"):
            assert line in body
        assert "尚未抽取" not in body


def test_entity_option_limits_to_one_file(store, locked, facts, tmp_path):
    target = facts["entities"][2]
    for form in ("notice", "checklist"):
        out = tmp_path / form
        result = store("forms", form, locked, "--entity", target["uscc"].lower(), "-o", out, "--json")
        assert result.code == 0, result.err
        assert result.json()["count"] == 1
        [path] = list(out.iterdir())
        assert path.name.startswith(f"{locked}-003-{target['uscc']}-")
        assert target["name"] in text_of(path)


def test_without_teams_the_team_part_is_blank_with_a_note(store, drawn, facts, tmp_path):
    result = store("forms", "checklist", drawn, "-o", tmp_path / "out", "--json")
    assert result.code == 0, result.err
    assert "no officers yet" in result.err
    for path in map(Path, result.json()["files"]):
        body = text_of(path)
        assert "检查小组尚未抽取" in body
        assert not any(cert in body for cert in facts["officers"])
        assert "执法人员签名" in body and "拒签原因" in body


def test_fonts_and_page_are_set_for_chinese_print(store, locked, tmp_path):
    paths = store("forms", "notice", locked, "-o", tmp_path, "--json").json()["files"]
    doc = Document(paths[0])
    normal = doc.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "宋体" and normal.get(qn("w:asciiTheme")) is None
    title = doc.paragraphs[0].runs[0]._r.rPr.rFonts
    assert doc.paragraphs[0].text == "市场监管领域部门联合抽查通知书" and title.get(qn("w:eastAsia")) == "黑体"
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)


def test_bad_inputs_exit_1_with_a_message_and_write_nothing(store, drawn, tmp_path):
    out = tmp_path / "out"
    unknown = store("forms", "notice", "2026-99-D1", "-o", out)
    assert unknown.code == 1 and "No draw 2026-99-D1" in unknown.err
    assert store("draws", "void", drawn, "--reason", "测试", "--yes").code == 0
    void = store("forms", "checklist", drawn, "-o", out)
    assert void.code == 1 and f"{drawn} is not locked (void)" in void.err
    again = store("draws", "run", drawn.rsplit("-", 1)[0], "--seed", SEED, "--json").json()["draw"]
    outsider = "91350100M000100Y43"
    stranger = store("forms", "notice", again, "--entity", outsider, "-o", out, "--json")
    assert stranger.code == 1
    assert stranger.json()["error"].startswith(f"Entity {outsider} is not in the locked list of {again}")
    assert not out.exists()
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for target in (a_file, a_file / "sub"):
        blocked = store("forms", "checklist", again, "-o", target)
        assert blocked.code == 1 and "Cannot create the output directory" in blocked.err
    assert a_file.read_text() == "x"


def test_a_failed_write_removes_the_files_of_the_run(store, locked, tmp_path, monkeypatch):
    import os

    from shuangsuiji import files

    out = tmp_path / "out"
    first = store("forms", "notice", locked, "-o", out, "--json").json()["files"]
    for f in first:
        Path(f).unlink()
    Path(first[2]).mkdir()  # a directory where a file should go: refused before any file is written
    refused = store("forms", "notice", locked, "-o", out)
    assert refused.code == 2 and "is a directory" in refused.err
    assert [p.name for p in out.iterdir()] == [Path(first[2]).name]
    Path(first[2]).rmdir()
    moves = []

    def third_fails(src, dst):  # the disk fills up at the third file
        moves.append(dst)
        if len(moves) == 3:
            raise OSError(28, "No space left on device")
        os.rename(src, dst)

    monkeypatch.setattr(files.os, "replace", third_fails)
    failed = store("forms", "notice", locked, "-o", out)
    assert failed.code == 1 and "no form was written" in failed.err
    assert list(out.iterdir()) == []


def test_rendering_needs_no_store():
    from shuangsuiji.services import forms

    data = forms.FormData(
        draw="T-D1", task_id="T", task_name="单部门检查", window=("2026-04-01", "2026-06-30"),
        initiating="连州市市场监督管理局", cooperating=(),
        departments=(forms.Department("SCJG", "连州市市场监督管理局", "发起部门",
                                      (forms.Item("X-1", "事项甲", "《某条例》第一条", ("书面检查",)),)),),
        entities=(forms.Entity(1, "91350100M000100Y43", "某公司", "", "", None),),
    )
    notice = forms.render_notice(data, data.entities[0])
    body = "\n".join(p.text for p in notice.paragraphs)
    assert "连州市市场监督管理局开展“单部门检查”" in body and "会同" not in body
    assert "配合部门：无" in body and "2026年4月1日至2026年6月30日" in body
    checklist = forms.render_checklist(data, data.entities[0])
    cells = [[c.text for c in row.cells] for t in checklist.tables for row in t.rows]
    assert ["住所（经营场所）", "_" * 30, "_" * 30, "_" * 30] in cells  # unknown address: a blank to fill
    assert ["统一社会信用代码", "91350100M000100Y43", "91350100M000100Y43", "91350100M000100Y43"] in cells
    assert "风险" not in body + "\n".join(p.text for p in checklist.paragraphs) + str(cells)
