"""Follow-ups (第十四条(三), 第十六条): opened by problem results, moved on until closed, logged."""

import datetime

import pytest

from conftest import DBError, connect
from test_results import audit_entries, fill, make_joint_draw, selected, template


@pytest.fixture
def draw(store, tmp_path):
    return make_joint_draw(store, tmp_path)


def followups(cli, *args):
    result = cli("followups", "list", *args, "--json")
    assert result.code == 0, result.err
    return result.json()


def test_problem_results_open_followups_handed_to_the_responsible_department(draw, store, tmp_path):
    entities = selected(store, draw)

    def values(r, item):
        return {
            2: {"检查结果": "未按规定公示应当公示的信息", "后续处置": "责令改正"},  # a problem
            3: {"检查结果": "未发现问题", "后续处置": "抄告主管部门"},  # no problem, but a measure
            4: {"检查结果": "公示信息隐瞒真实情况、弄虚作假", "后续处置": "移送司法机关"},  # 第十六条 涉嫌犯罪
            5: {"检查结果": "未发现问题", "后续处置": "无需处置"},  # nothing to follow up
            6: {"检查结果": "未发现开展本次抽查涉及的经营活动"},  # not a problem either
        }.get(r, {})

    assert store("results", "import", draw, fill(template(store, tmp_path), tmp_path / "f.xlsx", values), "--json").json()[
        "followups"] == {"opened": 3, "reopened": 0, "updated": 0, "cancelled": 0}
    rs = store("results", "record", draw, "--entity", entities[4], "--item", "LZ-17-2", "--result", "发现问题待后续处理",
               "--date", "2026-08-03", "--json")
    assert rs.code == 0 and rs.json()["followups"]["opened"] == 1
    got = [(f["uscc"], f["item"], f["handed_to"], f["measure"], f["status"]) for f in followups(store, "--draw", draw)]
    assert got == [
        (entities[0], "LZ-17-1", "SCJG", "责令改正", "open"),
        (entities[0], "LZ-17-4", "SCJG", "抄告主管部门", "open"),
        (entities[1], "LZ-17-1", "移送司法机关", "移送司法机关", "open"),
        (entities[4], "LZ-17-2", "RS", None, "open"),  # the item's department: 谁主管、谁监管
    ]
    assert [f["item"] for f in followups(store, "--dept", "RS")] == ["LZ-17-2"]


def test_update_to_closed_is_kept_in_history_and_logged(draw, store, tmp_path):
    entity = selected(store, draw)[0]
    assert store("results", "record", draw, "--entity", entity, "--item", "LZ-17-4", "--result", "发现问题待后续处理",
                 "--date", "2026-08-03", "--followup", "责令改正").code == 0
    [opened] = followups(store)
    fid = str(opened["id"])
    no_note = store("followups", "update", fid, "--status", "closed")
    assert no_note.code == 2 and "needs a --note" in no_note.err
    early = store("followups", "update", fid, "--status", "closed", "--note", "已改正", "--closed-on", "2026-08-01")
    assert early.code == 2 and "before the inspection date 2026-08-03" in early.err
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    assert store("followups", "update", fid, "--status", "closed", "--note", "x", "--closed-on", future).code == 2
    assert store("followups", "update", fid, "--status", "in_progress", "--note", "已下达责令改正通知书").code == 0
    closed = store("--operator", "李股长", "followups", "update", fid, "--status", "已办结", "--note", "复查已改正",
                   "--closed-on", "2026-09-15", "--json")
    assert closed.code == 0, closed.err
    data = closed.json()
    assert (data["status"], data["closed_on"], data["note"]) == ("closed", "2026-09-15", "复查已改正")
    assert [f["id"] for f in followups(store, "--status", "closed")] == [opened["id"]]
    assert followups(store, "--status", "open") == []
    history = store("followups", "show", fid, "--json").json()["history"]
    assert [(h["field"], h["old_value"], h["new_value"]) for h in history] == [
        ("status", None, "open"), ("handed_to", None, "SCJG"),
        ("status", "open", "in_progress"), ("note", None, "已下达责令改正通知书"),
        ("status", "in_progress", "closed"), ("closed_on", None, "2026-09-15"), ("note", "已下达责令改正通知书", "复查已改正"),
    ]
    assert history[-1]["operator"] == "李股长"
    entries = audit_entries(store, "followups update")
    assert len(entries) == 2  # refused updates are not logged
    assert entries[-1]["operator"] == "李股长" and history[-1]["audit_seq"] == entries[-1]["seq"]
    assert entries[-1]["payload"]["changes"]["status"] == {"from": "in_progress", "to": "closed"}
    again = store("followups", "update", fid, "--status", "open", "--note", "x")
    assert again.code == 1 and "cannot become open" in again.err
    reopen = store("followups", "update", fid, "--status", "in_progress")
    assert reopen.code == 2 and "needs a --note" in reopen.err


def test_corrected_result_cancels_an_open_followup_but_never_a_closed_one(draw, store, tmp_path, store_env):
    a, b = selected(store, draw)[:2]
    for entity in (a, b):
        assert store("results", "record", draw, "--entity", entity, "--item", "LZ-17-4", "--result", "发现问题待后续处理",
                     "--date", "2026-08-03").code == 0
    _, fb = followups(store)
    assert store("followups", "update", str(fb["id"]), "--status", "closed", "--note", "已处理",
                 "--closed-on", "2026-08-20").code == 0
    for entity in (a, b):
        result = store("results", "record", draw, "--entity", entity, "--item", "LZ-17-4", "--result", "未发现问题",
                       "--date", "2026-08-03", "--json")
        assert result.code == 0 and result.json()["updated"] == 1
    after = {f["uscc"]: f for f in followups(store)}
    assert after[a]["status"] == "cancelled" and after[b]["status"] == "closed"
    back = store("results", "record", draw, "--entity", a, "--item", "LZ-17-4", "--result", "注销", "--date",
                 "2026-08-03", "--json").json()
    assert back["followups"]["reopened"] == 1
    assert {f["uscc"]: f["status"] for f in followups(store)} == {a: "open", b: "closed"}
    assert store("followups", "update", "99", "--status", "closed").code == 1
    with connect(store_env) as conn, pytest.raises(DBError, match="frozen"):
        conn.execute("DELETE FROM followup_history")
