"""年度计划 (第七条, 第八条, 第十七条): each rule with a failing case, and the example passing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuangsuiji.domain.checklist import load_checklist
from shuangsuiji.domain.plan import (
    Plan,
    PlanReport,
    check_plan,
    joint_shares,
    load_plan,
    percent,
    publication_deadline,
    sample_size,
)
from shuangsuiji.errors import ExitCode, UserError

ROOT = Path(__file__).resolve().parents[1]
CHECKLIST_FILE = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"
EXAMPLE = ROOT / "examples" / "lianzhou" / "plan-2026.yaml"
CHECKLIST = load_checklist(CHECKLIST_FILE.read_text(encoding="utf-8"), str(CHECKLIST_FILE))
CODES = ["SCJG", "WJ", "JY", "GA", "SW", "GX", "RS", "ZJ", "FG", "WG", "STHJ", "YJ", "XF", "NY", "SWJ", "JT", "XC"]


def task(task_id: str, **fields) -> dict:
    """A valid single-department SCJG task on LZ-02 (食品销售), changed by ``fields``."""
    base = {
        "id": task_id,
        "name": f"任务 {task_id}",
        "checklist_entry": "LZ-02",
        "items": ["LZ-02-1"],
        "initiating": "SCJG",
        "scope": {"directory": {"industry": ["食品销售"]}},
        "ratios": {"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.3"},
        "window": {"start": "2026-04-01", "end": "2026-06-30"},
    }
    base.update(fields)
    return base


JOINT = {"items": None, "cooperating": ["SW"]}  # LZ-02 with 商务局: a joint task


def plan(*tasks: dict, **fields) -> Plan:
    data = {"year": 2026, "checklist_version": "2026.1", "title": "测试计划", "tasks": list(tasks)}
    data.update(fields)
    return Plan.model_validate(data)


def check(p: Plan, **kw) -> PlanReport:
    """Checked as published on 20 March (the date `plans publish` recorded) unless told otherwise."""
    return check_plan(p, CHECKLIST, CODES, "plan.yaml", **{"published": date(2026, 3, 20), **kw})


def problems(p: Plan, **kw) -> list[tuple[str | None, str]]:
    return [(x.field, x.en) for x in check(p, **kw).problems]


def warnings(p: Plan, flags: bool = False, **kw) -> list[tuple[str | None, str]]:
    """Warnings; without the 第七条 flags of entry initiators leading no task unless ``flags``."""
    return [(x.field, x.en) for x in check(p, **kw).warnings if flags or x.field != "single_department_tasks"]


# --- the example -----------------------------------------------------------------------


def test_example_plan_passes_every_check():
    p = load_plan(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE))
    report = check_plan(p, CHECKLIST, CODES, str(EXAMPLE), today=date(2026, 3, 1), published=date(2026, 3, 20))
    assert report.problems == []
    # 第七条 flags only: departments that initiate checklist entries but lead no task this year.
    assert {w.value for w in report.warnings} == {"GX", "RS", "ZJ", "WG", "STHJ", "YJ", "NY", "XC"}
    assert report.exit_code is ExitCode.OK
    assert 8 <= len(p.tasks) <= 12
    assert any(t.special for t in p.tasks)
    assert sum(1 for t in p.tasks if t.initiating == "SCJG" and not t.cooperating) >= 2
    assert all(row.ok in (True, None) for row in report.ratios)
    scjg = next(row for row in report.ratios if row.department == "SCJG")
    # 4 joint tasks led of 7 in the plan + 25 single-department tasks outside it.
    assert (scjg.lead_tasks, scjg.joint_tasks, scjg.outside_tasks, scjg.percent) == (32, 4, 25, "12.5%")
    assert p.tasks[8].ratios == {"A": Decimal("0.03"), "B": Decimal("0.03"), "C": Decimal("0.05"), "D": Decimal("0.1")}


# --- 第七条: joint tasks ≥ 10 % of lead tasks -------------------------------------------


def test_department_leading_12_tasks_with_1_joint_fails_with_its_ratio():
    tasks = [task(f"T{i:02}") for i in range(11)] + [task("T11", **JOINT)]
    names = {c: c for c in CODES} | {"SCJG": "市场监督管理局"}
    report = check_plan(plan(*tasks), CHECKLIST, names, "plan.yaml", published=date(2026, 3, 20))
    assert [(p.field, p.value, p.en) for p in report.problems] == [
        ("tasks", "1/12", "Article 7: SCJG（市场监督管理局） leads 12 spot-check task(s) (0 single-department outside the joint plan), 1 of them joint, 8.3%, below 10%")
    ]
    assert report.problems[0].zh == "第七条：SCJG（市场监督管理局） 牵头抽查任务共 12 项（其中联合计划外单部门任务 0 项），牵头部门联合任务 1 项，占 8.3%，低于 10%"
    assert report.exit_code is ExitCode.PROBLEMS
    rows = {r.department: r.to_json() for r in report.ratios}
    assert rows["SCJG"] == {"department": "SCJG", "name": "市场监督管理局", "lead_tasks": 12, "joint_tasks": 1, "outside_tasks": 0,
                            "ratio": 1 / 12, "percent": "8.3%", "ok": False, "no_lead_task": False}
    # 商务局 only cooperates, yet initiates entries LZ-21/LZ-22 of the checklist: flagged, not judged.
    assert rows["SW"] == {"department": "SW", "name": "SW", "lead_tasks": 0, "joint_tasks": 0, "outside_tasks": 0,
                          "ratio": None, "percent": None, "ok": None, "no_lead_task": True}


def test_share_is_joint_tasks_led_over_all_tasks_led_never_above_100():
    # 第七条: cooperating in other departments' joint tasks does not count. SCJG cooperates in
    # 9 joint tasks led by WJ and leads 7 single-department tasks: 0/7, not 9/7 = 128 %.
    hotels = [task(f"H{i}", checklist_entry="LZ-09", items=None, initiating="WJ", cooperating=["SCJG"]) for i in range(9)]
    singles = [task(f"S{i}") for i in range(7)]
    report = check(plan(*hotels, *singles))
    rows = {r.department: r for r in report.ratios}
    assert (rows["SCJG"].lead_tasks, rows["SCJG"].joint_tasks, rows["SCJG"].percent, rows["SCJG"].ok) == (7, 0, "0%", False)
    assert (rows["WJ"].lead_tasks, rows["WJ"].joint_tasks, rows["WJ"].percent, rows["WJ"].ok) == (9, 9, "100%", True)
    assert all(r.share is None or r.share <= 1 for r in report.ratios)


def test_single_department_tasks_outside_the_plan_are_in_the_denominator():
    # 2 joint tasks led: passes alone, fails once 20 single-department tasks are counted (2/22 = 9.1 %).
    p = plan(task("J1", **JOINT), task("J2", **JOINT))
    assert problems(p) == []
    assert problems(plan(task("J1", **JOINT), task("J2", **JOINT), single_department_tasks={"SCJG": 20})) == [
        ("tasks", "Article 7: SCJG leads 22 spot-check task(s) (20 single-department outside the joint plan), 2 of them joint, 9.1%, below 10%")
    ]
    assert problems(plan(task("J1", **JOINT), task("J2", **JOINT), single_department_tasks={"SCJG": 18})) == []  # 2/20 = 10 %
    assert problems(plan(task("J1", **JOINT), single_department_tasks={"QQ": 3, "SW": -1})) == [
        ("single_department_tasks.QQ", "unknown department code QQ (not in the department list)"),
        ("single_department_tasks.SW", "a count of single-department tasks must be 0 or more, got -1"),
        ("tasks", "Article 7: QQ leads 3 spot-check task(s) (3 single-department outside the joint plan), 0 of them joint, 0%, below 10%"),
    ]


def test_entry_initiator_leading_no_task_is_flagged():
    p = plan(task("J1", **JOINT))
    flagged = [w for w in warnings(p, flags=True) if w[0] == "single_department_tasks"]
    assert ("single_department_tasks", "Article 7: WJ initiates checklist entries but leads no task of this plan and no single-department task") in flagged
    assert not any(" SCJG " in w[1] for w in flagged)  # it leads J1
    # A department with single-department tasks only is judged instead: 0 joint of 4 fails.
    assert ("tasks", "Article 7: WJ leads 4 spot-check task(s) (4 single-department outside the joint plan), 0 of them joint, 0%, below 10%") in problems(
        plan(task("J1", **JOINT), single_department_tasks={"WJ": 4}))


def test_exactly_ten_percent_passes():
    assert problems(plan(*[task(f"T{i}") for i in range(9)], task("J", **JOINT))) == []
    assert problems(plan(*[task(f"T{i}") for i in range(10)], task("J", **JOINT))) == [
        ("tasks", "Article 7: SCJG leads 11 spot-check task(s) (0 single-department outside the joint plan), 1 of them joint, 9.1%, below 10%")
    ]


def test_shares_follow_the_department_list_order():
    p = plan(task("H", checklist_entry="LZ-09", items=None, initiating="WJ", cooperating=["SCJG"]), task("S"))
    assert [(r.department, r.lead_tasks, r.joint_tasks) for r in joint_shares(p, CODES)] == [("SCJG", 1, 0), ("WJ", 1, 1)]
    assert [r.department for r in joint_shares(p, {"WJ", "SCJG"})] == ["SCJG", "WJ"]


def test_percent_rounds_half_up_to_one_decimal_and_the_test_stays_exact():
    from fractions import Fraction

    assert percent(Fraction(1, 7)) == "14.3%" and percent(1 / 7) == "14.3%"
    assert percent(Fraction(8, 21)) == "38.1%"
    assert percent(Fraction(1, 12)) == "8.3%"
    assert percent(Fraction(1, 16)) == "6.3%" and percent(29 / 2000) == "1.5%"  # halves go up, also from a float
    assert percent(Fraction(1, 10)) == "10%"
    # 99/991 = 9.99 %: shown as 10%, yet it fails — the 是/否 verdict is the exact fraction.
    row = next(r for r in joint_shares(plan(*[task(f"T{i}") for i in range(892)], *[task(f"J{i}", **JOINT) for i in range(99)]))
               if r.department == "SCJG")
    assert (row.percent, row.ok) == ("10%", False)


# --- 第七条: published by 31 March -------------------------------------------------------


def test_publication_date_is_the_recorded_one_and_lateness_is_flagged_not_refused():
    assert publication_deadline(2026) == date(2026, 3, 31)
    late = {"start": "2026-05-01", "end": "2026-06-30"}
    p = plan(task("T", **JOINT, window=late))
    assert problems(p, published=date(2026, 4, 2)) == []
    assert warnings(p, published=date(2026, 4, 2)) == [
        ("published_on", "Article 7: the plan had to be published by 2026-03-31; it was published on 2026-04-02 (recorded by the tool), late")
    ]
    assert warnings(p, published=date(2026, 3, 31)) == []


def test_a_typed_published_on_is_only_a_claim():
    # 第七条: a plan published on 4 December that says 20 March is not "按期公布".
    claimed = plan(task("T", **JOINT, window={"start": "2026-12-10", "end": "2026-12-20"}), published_on="2026-03-20")
    assert problems(claimed, published=date(2026, 12, 4)) == []
    assert warnings(claimed, published=date(2026, 12, 4)) == [
        ("published_on", "Article 7: the plan had to be published by 2026-03-31; it was published on 2026-12-04 (recorded by the tool), late"),
        ("published_on", "the file's published_on 2026-03-20 is only a claim and is not trusted: the publication date is the day `plans publish` ran (2026-12-04)"),
    ]


def test_draft_is_a_warning_and_overdue_after_the_deadline():
    draft = plan(task("T", **JOINT))
    expected_warning = [("published_on", "the plan is not yet published (draft); 第七条 requires publication by 2026-03-31")]
    assert problems(draft, published=None) == [] and warnings(draft, published=None) == expected_warning
    assert warnings(draft, today=date(2026, 3, 31), published=None) == expected_warning
    assert problems(draft, today=date(2026, 4, 1), published=None) == []
    assert warnings(draft, today=date(2026, 4, 1), published=None) == [
        ("published_on", "Article 7: the 2026 plan had to be published by 2026-03-31; still unpublished on 2026-04-01 (it will be recorded as published late)")
    ]


def test_windows_before_a_late_publication_are_warned_with_their_line():
    text = EXAMPLE.read_text(encoding="utf-8")
    p = load_plan(text, "plan-2026.yaml")
    found = check_plan(p, CHECKLIST, CODES, "plan-2026.yaml", published=date(2026, 4, 2))
    assert found.problems == []
    late = [x for x in found.warnings if x.field == "published_on"]
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("year:"))
    assert [(x.file, x.row) for x in late] == [("plan-2026.yaml", line)]  # no published_on: the plan's first line
    assert [(x.field, x.value) for x in found.warnings if x.field.endswith("window.start")] == [
        ("tasks[4].window.start", "2026-04-01"),
        ("tasks[5].window.start", "2026-04-01"),
        ("tasks[6].window.start", "2026-04-01"),
        ("tasks[10].window.start", "2026-04-01"),
    ]


# --- ratios, frequency, window ---------------------------------------------------------


def test_ratios_must_be_in_zero_one():
    p = plan(task("T", **JOINT, ratios={"A": 0, "B": "1.5", "C": 1, "D": "5%", "E": "0.1"}))
    assert p.tasks[0].ratios["D"] == Decimal("0.05")
    assert problems(p) == [
        ("tasks[0].ratios.A", "a sampling ratio must be in (0, 1], got 0"),
        ("tasks[0].ratios.B", "a sampling ratio must be in (0, 1], got 1.5"),
        ("tasks[0].ratios.E", "unknown credit-risk class E (choose from: A, B, C, D)"),
    ]
    assert problems(plan(task("T", **JOINT, ratios={}))) == [("tasks[0].ratios", "no sampling ratio for any risk class")]
    # Another class scheme can be passed in.
    assert problems(plan(task("T", **JOINT, ratios={"E": "0.1"})), risk_classes="ABCDE") == []


def test_frequency_at_least_once():
    assert problems(plan(task("T", **JOINT, frequency=0))) == [("tasks[0].frequency", "frequency must be at least 1 per year, got 0")]


def test_window_in_order_inside_the_year_and_after_publication():
    assert problems(plan(task("T", **JOINT, window={"start": "2026-06-01", "end": "2026-05-01"}))) == [
        ("tasks[0].window.end", "window end 2026-05-01 is before its start 2026-06-01")
    ]
    assert problems(plan(task("T", **JOINT, window={"start": "2026-11-01", "end": "2027-01-15"}))) == [
        ("tasks[0].window.end", "window end 2027-01-15 is outside the plan year 2026")
    ]
    assert warnings(plan(task("T", **JOINT, window={"start": "2026-03-01", "end": "2026-05-01"}))) == [
        ("tasks[0].window.start", "window start 2026-03-01 is before the plan's publication on 2026-03-20")
    ]


def test_exclude_recent_days_at_least_one():
    assert problems(plan(task("T", **JOINT, exclude_recent={"same_item_days": 0}))) == [
        ("tasks[0].exclude_recent.same_item_days", "same_item_days must be at least 1, got 0")
    ]


# --- checklist and departments ---------------------------------------------------------


def test_checklist_version_must_match():
    assert problems(plan(task("T", **JOINT), checklist_version="2025.1")) == [
        ("checklist_version", "the plan is written against checklist version 2025.1, but the checklist given is 2026.1")
    ]


def test_unknown_entry_and_departments():
    p = plan(
        task("A", checklist_entry="LZ-99", items=None),
        task("B", initiating="SCJ", cooperating=["SW", "QQ"]),
    )
    assert problems(p) == [
        ("tasks[0].checklist_entry", "checklist 2026.1 has no entry LZ-99"),
        ("tasks[1].initiating", "unknown department code SCJ (not in the department list)"),
        ("tasks[1].cooperating[1]", "unknown department code QQ (not in the department list)"),
        ("tasks[1].items[0]", "check item LZ-02-1 is performed by SCJG, which is neither initiating nor cooperating in this task; add it to cooperating or drop the item"),
        # Each department's share is still judged: SCJ leads one joint task, SCJG one single one.
        ("tasks", "Article 7: SCJG leads 1 spot-check task(s) (0 single-department outside the joint plan), 0 of them joint, 0%, below 10%"),
    ]


def test_departments_must_match_the_checklist_entry():
    p = plan(
        task("A", initiating="WJ", items=None, cooperating=["SW"]),  # LZ-02 is led by SCJG
        task("B", items=None, cooperating=["SW", "GA", "SCJG", "SW"]),  # GA not in LZ-02; SCJG leads; SW twice
        task("C", **JOINT),
    )
    assert problems(p) == [
        ("tasks[0].initiating", "initiating department WJ differs from SCJG, the initiating department of checklist entry LZ-02 (第三条, 第八条)"),
        ("tasks[0].checklist_entry", "check item LZ-02-1 is performed by SCJG, which is neither initiating nor cooperating in this task; add it to cooperating or drop the item"),
        ("tasks[1].cooperating[1]", "GA is not a cooperating department of checklist entry LZ-02 (choose from: SW)"),
        ("tasks[1].cooperating[2]", "the initiating department SCJG must not also be cooperating"),
        ("tasks[1].cooperating[3]", "cooperating department SW is listed twice"),
    ]


def test_items_belong_to_the_entry_and_to_a_task_department():
    p = plan(
        task("A", items=["LZ-02-1", "LZ-03-1", "LZ-99-9", "LZ-02-1"], cooperating=["SW"]),
        task("B", items=None),  # single-department: LZ-02-2 is 商务局's item
        task("C", items=[], cooperating=["SW"]),
    )
    assert problems(p) == [
        ("tasks[0].items[1]", "check item LZ-03-1 belongs to entry LZ-03, not to this task's entry LZ-02"),
        ("tasks[0].items[2]", "the checklist has no check item LZ-99-9"),
        ("tasks[0].items[3]", "check item LZ-02-1 is listed twice"),
        ("tasks[1].checklist_entry", "check item LZ-02-2 is performed by SW, which is neither initiating nor cooperating in this task; add it to cooperating or drop the item"),
        ("tasks[2].items", "items is empty; leave it out to take every item of the entry"),
    ]
    # tasks[0]: SW cooperates but performs none of the listed items.
    assert ("tasks[0].cooperating[0]", "cooperating department SW performs none of this task's check items") in warnings(p)


def test_duplicate_task_ids():
    assert problems(plan(task("T", **JOINT), task("T", **JOINT))) == [("tasks[1].id", "duplicate task id T (already used by tasks[0])")]


# --- 第十七条: special checks ------------------------------------------------------------


def special(task_id: str = "S", **fields) -> dict:
    return task(task_id, **{"special": True, "targets": "R", "ratios": {"A": "0.03", "B": "0.1", "C": "0.3", "D": "1"}, **fields})


REGULAR = task("R", **JOINT)


def test_special_check_raising_ratios_or_frequency_passes():
    assert problems(plan(REGULAR, special())) == []
    same = {"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.3"}
    assert problems(plan(REGULAR, special(ratios=same, frequency=2))) == []


def test_special_check_must_name_a_regular_task():
    assert problems(plan(REGULAR, special(targets=None))) == [
        ("tasks[1].targets", "Article 17: a special check must name the regular task it targets (targets)")
    ]
    assert problems(plan(REGULAR, special(targets="X"))) == [("tasks[1].targets", "targets names task X, which is not in the plan")]
    assert problems(plan(REGULAR, special(), special("S2", targets="S"))) == [
        ("tasks[2].targets", "targets must be a regular task; S is itself a special check")
    ]
    assert problems(plan(REGULAR, task("N", targets="R"))) == [("tasks[1].targets", "targets is only for special checks (special: true)")]


def test_special_check_must_raise_and_lower_nothing():
    same = {"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.3"}
    assert problems(plan(REGULAR, special(ratios=same))) == [
        ("tasks[1]", "Article 17: a special check must raise a ratio or the frequency; neither is higher than in task R")
    ]
    assert problems(plan(REGULAR, special(ratios={"A": "0.01", "B": "0.5", "D": "1"}))) == [
        ("tasks[1].ratios.A", "Article 17: a special check must not lower class A's ratio (task R: 0.03, here: 0.01)"),
        ("tasks[1].ratios", "Article 17: a special check must not lower class C's ratio (task R: 0.1, here: not drawn)"),
    ]


def test_special_check_uses_the_entry_of_its_target():
    other = special(checklist_entry="LZ-03", items=["LZ-03-1"])
    assert problems(plan(REGULAR, other)) == [
        ("tasks[1].checklist_entry", "a special check uses the checklist entry of its target R (LZ-02), not LZ-03")
    ]


# --- scope -----------------------------------------------------------------------------


def test_scope_selecting_nothing_is_a_warning():
    p = plan(task("T", **JOINT), task("U", **JOINT))
    assert warnings(p, scope_counts={"T": 0, "U": 12}) == [("tasks[0].scope", "task T: its scope selects no entity in the directory today")]
    assert check(p, scope_counts={"T": 0}).problems == []


def test_scope_forms():
    assert plan(task("T", scope={"directory": None})).tasks[0].scope.directory.undirected
    assert plan(task("T", scope={"directory": {"region": "连州镇"}})).tasks[0].scope.directory.region == ["连州镇"]
    assert plan(task("T", scope={"imported_list": True})).tasks[0].scope.imported_list
    assert problems(plan(task("T", **JOINT, scope={"directory": {"risk_class": ["A", "Z"]}}))) == [
        ("tasks[0].scope.directory.risk_class[1]", "unknown credit-risk class Z")
    ]


PLAN_YAML = """\
year: 2026
checklist_version: "2026.1"
title: 测试
published_on: 2026-03-20
tasks:
  - id: "2026-01"
    name: 食品销售
    checklist_entry: LZ-02
    initiating: SCJG
    cooperating: [SW]
    scope:
      directory: {industry: [食品销售]}
      imported_list: true
    ratios: {A: 0.05, B: abc}
    rounding: ceil
    window: {start: 2026-04-01}
"""


def test_load_plan_lists_every_schema_problem_with_path_and_line():
    with pytest.raises(UserError) as info:
        load_plan(PLAN_YAML, "p.yaml")
    assert info.value.en == "plan p.yaml has 4 problem(s); nothing was read"
    assert [(p.row, p.field, p.en) for p in info.value.problems] == [
        (11, "tasks[0].scope", "scope is either directory (draw from the directory) or imported_list: true (第九条), not both"),
        (14, "tasks[0].ratios.B", 'must be a number (e.g. 0.05 or "5%")'),
        (15, "tasks[0].rounding", "must be one of: 'ceil_min1', 'floor', 'round_half_up' or 'ordered'"),
        (16, "tasks[0].window.end", "required field is missing"),
    ]


def test_load_plan_scope_needs_a_form_and_items_default_to_the_entry():
    text = PLAN_YAML.replace("      directory: {industry: [食品销售]}\n      imported_list: true\n", "      imported_list: false\n")
    with pytest.raises(UserError) as info:
        load_plan(text, "p.yaml")
    assert info.value.problems[0].field == "tasks[0].scope"
    assert info.value.problems[0].en.startswith("scope needs directory: {}")
    good = load_plan(
        PLAN_YAML.replace("      imported_list: true\n", "").replace("B: abc", "B: 0.1").replace("rounding: ceil", "rounding: floor").replace(
            "start: 2026-04-01}", "start: 2026-04-01, end: 2026-06-30}"
        ),
        "p.yaml",
    )
    t = good.tasks[0]
    assert t.item_ids(CHECKLIST.entry("LZ-02")) == ["LZ-02-1", "LZ-02-2"]
    assert (t.rounding, t.frequency, t.special, t.joint) == ("floor", 1, False, True)
    assert check_plan(good, CHECKLIST, CODES, "p.yaml").problems == []


# --- sample size (rounding rule) -------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "ratio", "rounding", "k"),
    [
        (0, "0.5", "ceil_min1", 0),
        (10, "0.01", "ceil_min1", 1),
        (10, "0.01", "floor", 0),
        (10, "0.05", "round_half_up", 1),
        (10, "0.04", "round_half_up", 0),
        (200, "0.035", "ceil_min1", 7),
        (201, "0.035", "ceil_min1", 8),
        (201, "0.035", "floor", 7),
        (7, "1", "ceil_min1", 7),
        (7, 0.3, "ceil_min1", 3),
    ],
)
def test_sample_size_table(n, ratio, rounding, k):
    assert sample_size(n, ratio, rounding) == k


@given(
    st.integers(min_value=0, max_value=100_000),
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1), places=4),
    st.sampled_from(["ceil_min1", "floor", "round_half_up"]),
)
def test_sample_size_bounds(n, ratio, rounding):
    k = sample_size(n, ratio, rounding)
    assert 0 <= k <= n
    assert sample_size(n, ratio, "floor") <= k <= sample_size(n, ratio, "ceil_min1")
    if n and rounding == "ceil_min1":
        assert k >= 1
    if ratio == 1:
        assert k == n


def test_a_yes_no_where_a_count_belongs_is_rejected():
    with pytest.raises(UserError) as info:
        load_plan(EXAMPLE.read_text(encoding="utf-8").replace("    frequency: 1\n", "    frequency: true\n", 1), "p.yaml")
    assert [(p.row, p.field, p.en) for p in info.value.problems] == [(30, "tasks[0].frequency", "must be a whole number, not true/false")]


def test_yaml_anchors_and_merge_keys_repeat_a_task():
    text = PLAN_YAML.replace("      imported_list: true\n", "").replace("B: abc", "B: 0.1").replace("    rounding: ceil\n", "").replace(
        "start: 2026-04-01}", "start: 2026-04-01, end: 2026-06-30}"
    ).replace('  - id: "2026-01"', '  - &food\n    id: "2026-01"') + '  - <<: *food\n    id: "2026-02"\n    frequency: 2\n'
    p = load_plan(text, "p.yaml")
    assert [(t.id, t.frequency, t.checklist_entry) for t in p.tasks] == [("2026-01", 1, "LZ-02"), ("2026-02", 2, "LZ-02")]
    assert p.line_of(("tasks", 1, "id")) == 17
