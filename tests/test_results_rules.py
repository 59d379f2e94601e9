"""Rules of 第十二条 to 第十四条 beyond one row: one visit per entity, signatures, dates; and the
publication deadline in working days (practice, domain/deadlines.py)."""

from __future__ import annotations

import datetime

import pytest

from conftest import connect
from test_results import COL, DRAW, fill, make_joint_draw, selected, template

from shuangsuiji.domain import deadlines
from shuangsuiji.domain import results as rules


@pytest.fixture
def draw(store, tmp_path):
    return make_joint_draw(store, tmp_path)


def count_results(store_env) -> int:
    with connect(store_env) as conn:
        return conn.execute("SELECT COUNT(*) FROM inspection_result").fetchone()[0]


def record(store, uscc, item, date, *extra):
    return store("results", "record", DRAW, "--entity", uscc, "--item", item, "--result", "未发现问题",
                 "--date", date, "--method", "书面检查", *extra, "--json")


# ---------------------------------------------------------------- 第十二条 one visit


def test_a_split_visit_is_refused_unless_a_reason_is_given(draw, store, tmp_path, store_env):
    first = selected(store, draw)[0]

    def later(r, item):  # the second SCJG item of the first entity, two days after the first
        return {"检查日期": datetime.date(2026, 8, 5)} if r == 3 else {}

    path = fill(template(store, tmp_path), tmp_path / "split.xlsx", later)
    result = store("results", "import", draw, path, "--json")
    assert result.code == 1
    [problem] = result.json()["problems"]
    assert (problem["row"], problem["field"], problem["value"]) == (3, "检查日期", "2026-08-05")
    assert f"{first} was inspected on 2026-08-03" in problem["message"] and "第十二条" in problem["message"]
    assert count_results(store_env) == 0

    def with_reason(r, item):
        return {"检查日期": datetime.date(2026, 8, 5), "分次检查理由": "需调取银行流水 次日补查"} if r == 3 else {}

    path = fill(template(store, tmp_path), tmp_path / "split-ok.xlsx", with_reason)
    assert store("results", "import", draw, path).code == 0
    listed = {r["item"]: r for r in store("results", "list", draw, "--entity", first, "--json").json()}
    assert listed["LZ-17-4"]["split_reason"] == "需调取银行流水 次日补查"
    # 进一次门、查多项事: the cooperating department's result belongs to the same visit.
    refused = record(store, first, "LZ-17-2", "2026-08-10", "--signature", "签字")
    assert refused.code == 1 and "2026-08-03" in refused.err and "--split-reason" in refused.err
    assert record(store, first, "LZ-17-2", "2026-08-03", "--signature", "签字").code == 0
    second = record(store, selected(store, draw)[1], "LZ-17-2", "2026-08-10", "--signature", "签字",
                    "--split-reason", "企业负责人当日不在")
    assert second.code == 0, second.err


def test_split_visits_rule():
    def r(uscc, item, day, reason=None):
        return rules.ResultRecord(uscc, item, "SCJG", ("未发现问题",), ("书面检查",), day, split_reason=reason)

    stored = {("E1", "A"): "2026-08-03", ("E2", "A"): "2026-08-04"}
    new = [r("E1", "B", "2026-08-03"), r("E1", "C", "2026-08-02"), r("E2", "A", "2026-08-09"), r("E3", "A", "2026-08-07"),
           r("E3", "B", "2026-08-06", "补查")]
    # E1: visit 08-03 (stored), C off it; E2: its only stored result is replaced, so 08-09 is the visit;
    # E3: the earliest new date (08-06) is the visit, so 08-07 needs a reason.
    assert rules.split_visits(new, stored) == [(1, "2026-08-03"), (3, "2026-08-06")]


# ---------------------------------------------------------------- 第十四条 signatures


def test_a_result_without_signature_is_not_complete(draw, store, tmp_path):
    first = selected(store, draw)[0]

    def unsigned(r, item):
        return {"签字情况": None} if r == 2 else {}

    assert store("results", "import", draw, fill(template(store, tmp_path), tmp_path / "s.xlsx", unsigned)).code == 0
    assert store("results", "import", draw, fill(template(store, tmp_path, "RS"), tmp_path / "r.xlsx")).code == 0
    status = store("results", "status", draw, "--json").json()
    assert status["overall"]["results_missing"] == 0 and status["overall"]["results_unsigned"] == 1
    assert status["overall"]["entities_done"] == status["overall"]["entities"] - 1
    assert [(u["uscc"], u["item"]) for u in status["unsigned"]] == [(first, "LZ-17-1")]
    assert store("results", "status", draw, "--strict").code == 3
    # A refusal counts once its reason and a witness are recorded.
    refused = record(store, first, "LZ-17-1", "2026-08-03", "--signature", "拒签", "--reason", "负责人拒绝签字")
    assert refused.code == 0, refused.err
    assert store("results", "status", draw, "--json").json()["overall"]["results_unsigned"] == 1
    witnessed = record(store, first, "LZ-17-1", "2026-08-03", "--signature", "拒签", "--reason", "负责人拒绝签字",
                       "--witness", "社区网格员 李明")
    assert witnessed.code == 0, witnessed.err
    status = store("results", "status", draw, "--json").json()
    assert status["unsigned"] == [] and status["overall"]["entities_done"] == status["overall"]["entities"]
    assert store("results", "status", draw, "--strict").code == 0


def test_signed_rule():
    assert rules.signed("签字", None, None)
    assert not rules.signed(None, None, None)
    assert not rules.signed("拒签", "拒绝", None) and not rules.signed("拒签", None, "李明")
    assert rules.signed("拒签", "拒绝", "李明") and rules.signed("无法取得", "负责人外出", "李明")


# ---------------------------------------------------------------- dates


def test_an_inspection_date_in_the_future_is_refused(draw, store):
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    result = record(store, selected(store, draw)[0], "LZ-17-1", tomorrow, "--signature", "签字")
    assert result.code == 1
    messages = [p["message"] for p in result.json()["problems"]]
    assert any(f"after today ({datetime.date.today().isoformat()})" in m for m in messages), messages
    scope = rules.Scope("D", {"91441882MA5000001X": "x"}, {"I": {"id": "I", "department": "SCJG", "methods": ["书面检查"]}},
                        ("2026-01-01", "2026-12-31"), today="2026-06-30")
    fields = {"uscc": "91441882MA5000001X", "item": "I", "result": "未发现问题", "date": "2026-07-01"}
    at = rules.RowCheck(None, None)
    assert rules.check_row(fields, scope, at) is None and "after today (2026-06-30)" in at.problems[0].en
    assert rules.check_row({**fields, "date": "2026-06-30"}, scope, rules.RowCheck(None, None)) is not None


# ---------------------------------------------------------------- deadlines (practice)


def test_working_days_follow_the_holiday_calendar():
    assert deadlines.add_working_days("2026-09-30", 1) == deadlines.Due("2026-10-08", True)  # 国庆 1–7 October
    assert deadlines.add_working_days("2026-09-30", 3) == deadlines.Due("2026-10-10", True)  # a Saturday worked (调休)
    assert deadlines.add_working_days("2026-08-03", 20) == deadlines.Due("2026-08-31", True)
    # Beyond the calendar's years: Monday to Friday, marked estimated, never an error.
    assert deadlines.add_working_days("2026-12-20", 20) == deadlines.Due("2027-01-15", False)
    assert deadlines.add_working_days("2099-06-01", 1) == deadlines.Due("2099-06-02", False)
    assert deadlines.configured_days({}) == 20
    assert deadlines.configured_days({deadlines.ENV: "15"}) == 15
    for bad in ("0", "twenty", "-3", "400"):
        with pytest.raises(deadlines.WorkingDaysError, match=deadlines.ENV):
            deadlines.configured_days({deadlines.ENV: bad})


def test_status_shows_publication_due_dates_and_timeliness(draw, store, tmp_path, monkeypatch):
    assert store("results", "import", draw, fill(template(store, tmp_path), tmp_path / "s.xlsx")).code == 0
    publication = store("results", "status", draw, "--json").json()["publication"]
    assert publication["working_days"] == 20
    scjg = [e for e in publication["entities"] if e["department"] == "SCJG"]
    assert len(scjg) == len(selected(store, draw))
    # inspected 2026-08-03, due 20 working days later, not published by today (after it): overdue
    assert {(e["inspected_on"], e["due_on"], e["state"]) for e in scjg} == {("2026-08-03", "2026-08-31", "overdue")}
    assert publication["timely_share"] == [0, len(scjg)]
    assert store("publish", draw, "--dept", "SCJG", "-o", tmp_path / "pub.csv").code == 0
    publication = store("results", "status", draw, "--json").json()["publication"]
    today = datetime.date.today().isoformat()
    assert {(e["published_on"], e["state"]) for e in publication["entities"]} == {(today, "late")}
    monkeypatch.setenv(deadlines.ENV, "500")
    refused = store("results", "status", draw)
    assert refused.code == 1 and deadlines.ENV in refused.err
    monkeypatch.setenv(deadlines.ENV, "250")
    publication = store("results", "status", draw, "--json").json()["publication"]
    assert publication["working_days"] == 250 and {e["state"] for e in publication["entities"]} == {"on_time"}
    summary = store("reports", "task", draw, "--json").json()["summary"]
    assert (summary["publication_working_days"], summary["published_on_time"], summary["published_late"]) == (250, len(scjg), 0)
    assert summary["publication_timeliness"] == 1.0
    monkeypatch.delenv(deadlines.ENV)
    summary = store("reports", "task", draw, "--json").json()["summary"]
    assert (summary["published_on_time"], summary["published_late"], summary["publication_timeliness"]) == (0, len(scjg), 0.0)


def test_followups_show_their_due_date_in_working_days(draw, store, tmp_path):
    def problem(r, item):
        return {"检查结果": "发现问题待后续处理", "后续处置": "责令改正"} if r == 2 else {}

    assert store("results", "import", draw, fill(template(store, tmp_path), tmp_path / "p.xlsx", problem)).code == 0
    [followup] = store("followups", "list", "--draw", draw, "--json").json()
    assert (followup["inspected_on"], followup["due_on"], followup["due_exact"]) == ("2026-08-03", "2026-08-31", True)
    assert followup["overdue"] is (datetime.date.today().isoformat() > "2026-08-31")
    assert store("followups", "list", "--draw", draw).code == 0
    closed = store("followups", "update", str(followup["id"]), "--status", "closed", "--note", "已改正", "--closed-on", "2026-08-20")
    assert closed.code == 0, closed.err
    assert store("followups", "show", str(followup["id"]), "--json").json()["overdue"] is False
