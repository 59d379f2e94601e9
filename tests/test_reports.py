"""Reports (第七条, 第十七条): every figure checked against the store, every format, the HTML in a real browser.

The expected figures are counted here straight from the SQLite file (or from the command that
made the data), never copied from the report.
"""

import csv
import datetime
import io
import json
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import EXAMPLES, ROOT
from conftest import rows as q
from test_results import fill, make_joint_draw

CHROMIUM = Path("/usr/bin/chromium")
CHECKLIST = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"
PLAN = EXAMPLES / "plan-2026.yaml"
SEED2, SEED3, SEED4, SEED5 = "16180339887498948482", "14142135623730950488", "17320508075688772935", "22360679774997896964"
DRAW = "2026-T1-D2"
VOID_REASON = "纪检组见证人未到场，作废重抽"
PROBLEM = "未按规定公示应当公示的信息"


def ok(cli, *args):
    result = cli(*args)
    assert result.code == 0, (args, result.err)
    return result


def fill_template(cli, tmp_path, draw, dept, values=None) -> Path:
    blank = tmp_path / f"{draw}-{dept}.xlsx"
    ok(cli, "results", "template", draw, "--dept", dept, "-o", blank)
    return fill(blank, tmp_path / f"{draw}-{dept}-filled.xlsx", values)


def selected(cli, draw):
    return [s["uscc"] for s in ok(cli, "draws", "show", draw, "--json").json()["selected"]]


@pytest.fixture
def task_draw(store, tmp_path):
    """Joint task 2026-T1: D1 voided, D2 drawn with officers, one officer replaced (健康), SCJG's
    results all in with problems in rows 2 and 5, RS's results for all but the last two
    entities (the first with a problem), one follow-up closed."""
    make_joint_draw(store, tmp_path)  # 2026-T1-D1, locked, with officers
    ok(store, "draws", "void", "2026-T1-D1", "--reason", VOID_REASON, "--yes")  # it has officers: a request
    ok(store, "--operator", "second", "draws", "void", "2026-T1-D1", "--confirm", "--yes")
    ok(store, "draws", "run", "2026-T1", "--seed", SEED2)
    ok(store, "draws", "inspectors", DRAW)
    leader = ok(store, "draws", "show", DRAW, "--json").json()["teams"][0]["members"][0]["officer"]
    replaced = ok(store, "draws", "replace", DRAW, "--officer", leader, "--reason", "健康", "--json").json()

    def values(r, item):
        if r in (2, 5):
            return {"检查结果": "发现问题已责令改正", "后续处置": "责令改正"}
        return {}

    ok(store, "results", "import", DRAW, fill_template(store, tmp_path, DRAW, "SCJG", values))
    entities = selected(store, DRAW)
    for i, uscc in enumerate(entities[:-2]):
        extra = ["--result", PROBLEM, "--followup", "责令改正"] if i == 0 else ["--result", "未发现问题"]
        ok(store, "results", "record", DRAW, "--entity", uscc, "--item", "LZ-17-2", "--date", "2026-08-03", "--signature", "签字", *extra)
    ok(store, "followups", "update", "1", "--status", "closed", "--note", "已当场改正", "--closed-on", "2026-08-10")
    return {"draw": DRAW, "replaced": replaced, "officer": leader, "entities": entities}


@pytest.fixture
def year_store(task_draw, store, tmp_path):
    """Adds the published 2026 plan: 2026-07 drawn with every result in (done), 2026-02 drawn and
    locked without results (in progress), the other plan tasks not created; and ad hoc 2026-T2
    drawing every C and D 食品销售 entity, so 2026-07's C and D entities are drawn twice."""
    ok(store, "checklists", "import", CHECKLIST)
    ok(store, "plans", "import", PLAN)
    ok(store, "plans", "publish", "2026", "-o", tmp_path)
    for plan_task in ("2026-07", "2026-02"):
        ok(store, "tasks", "create", "--from-plan", "2026", "--plan-task", plan_task)
    ok(store, "draws", "run", "2026-07", "--seed", SEED3)
    ok(store, "draws", "inspectors", "2026-07-D1")
    ok(store, "draws", "run", "2026-02", "--seed", SEED4)
    t2 = {"id": "2026-T2", "year": 2026, "checklist_version": "2026.1", "name": "食品销售较高和高风险主体全覆盖检查",
          "checklist_entry": "LZ-02", "items": ["LZ-02-1"], "initiating": "SCJG", "cooperating": [],
          "scope": {"directory": {"industry": ["食品销售"]}}, "ratios": {"C": "100%", "D": "100%"},
          "window": {"start": "2026-05-01", "end": "2026-06-30"}}
    task_file = tmp_path / "t2.yaml"
    task_file.write_text(yaml.safe_dump(t2, allow_unicode=True), encoding="utf-8")
    ok(store, "tasks", "create", "--file", task_file)
    ok(store, "draws", "run", "2026-T2", "--seed", SEED5)
    ok(store, "draws", "inspectors", "2026-T2-D1")
    day = {"检查日期": datetime.date(2026, 5, 20), "检查方式": "书面检查"}
    ok(store, "results", "import", "2026-07-D1", fill_template(store, tmp_path, "2026-07-D1", "SCJG", lambda r, i: day))
    bad = {**day, "检查结果": "发现问题待后续处理", "后续处置": "移交线索"}
    ok(store, "results", "import", "2026-T2-D1",
       fill_template(store, tmp_path, "2026-T2-D1", "SCJG", lambda r, i: bad if r % 2 == 0 else day))
    return store


# ---------------------------------------------------------------- reports task


def test_task_report_counts_drawn_inspected_missing_from_the_store(task_draw, cli, store_env):
    data = ok(cli, "reports", "task", DRAW, "--json").json()
    drawn = q(store_env, "SELECT uscc, stratum FROM draw_selection WHERE draw_id = ?", (DRAW,))
    results = q(store_env, "SELECT uscc, item_id, department, categories, problem FROM inspection_result WHERE draw_id = ?", (DRAW,))
    items = ["LZ-17-1", "LZ-17-2", "LZ-17-4"]
    per_entity = Counter(r[0] for r in results)
    s = data["summary"]
    assert s["entities_drawn"] == len(drawn) == len(task_draw["entities"])
    assert s["results_expected"] == len(drawn) * len(items)
    assert s["results_recorded"] == len(results)
    assert s["results_missing"] == len(drawn) * len(items) - len(results) == 2  # RS: the last two entities
    assert s["entities_inspected"] == len(per_entity) == len(drawn)
    assert s["entities_complete"] == sum(1 for n in per_entity.values() if n == len(items)) == len(drawn) - 2
    assert s["entities_partial"] == 2 and s["entities_not_inspected"] == 0
    problems = sum(r[4] for r in results)
    assert s["results_with_problem"] == problems == 3
    assert s["problem_rate"] == problems / len(results)  # exact in JSON; rounded once when shown
    assert s["status"] == "in_progress"
    assert sorted((m["uscc"], m["item"]) for m in data["missing"]) == sorted(
        (u, "LZ-17-2") for u in task_draw["entities"][-2:])

    by_item = {r["item"]: r for r in data["by_item"]}
    for item in items:
        mine = [r for r in results if r[1] == item]
        assert (by_item[item]["recorded"], by_item[item]["problems"]) == (len(mine), sum(r[4] for r in mine))
        assert by_item[item]["expected"] == len(drawn)
    by_dept = {r["department"]: r for r in data["by_department"]}
    assert by_dept["SCJG"]["recorded"] == sum(1 for r in results if r[2] == "SCJG") == 2 * len(drawn)
    assert by_dept["RS"]["missing"] == 2 and by_dept["RS"]["problems"] == 1

    stratum = dict(drawn)
    bad = {r[0] for r in results if r[4]}
    expected_classes = {}
    for cls in set(stratum.values()):
        members = [u for u, c in stratum.items() if c == cls]
        expected_classes[cls] = (len(members), sum(1 for u in members if u in bad))
    assert {r["risk_class"]: (r["drawn"], r["with_problem"]) for r in data["by_risk_class"]} == expected_classes

    categories = Counter(c for r in results for c in r[3].split("；"))
    assert {r["category"]: r["results"] for r in data["by_category"]} == dict(categories)
    assert categories[PROBLEM] == 1 and categories["发现问题已责令改正"] == 2


def test_task_report_lists_the_voided_draw_and_the_replacement_with_reasons(task_draw, cli, store_env):
    data = ok(cli, "reports", "task", DRAW, "--json").json()
    voided = q(store_env, "SELECT id, void_reason FROM draw WHERE task_id = '2026-T1' AND state = 'void'")
    assert [(r["draw"], r["reason"]) for r in data["redraws"]] == voided == [("2026-T1-D1", VOID_REASON)]
    assert data["redraws"][0]["was_locked"] is True and data["summary"]["redraws"] == 1
    (rep,) = data["replacements"]
    assert (rep["officer"], rep["reason"], rep["reason_name"]) == (task_draw["officer"], "health", "健康原因")
    assert rep["successors"] == sorted({o for officers in task_draw["replaced"]["successors"].values() for o in officers})
    assert rep["successors"] and task_draw["officer"] not in rep["successors"]
    name = q(store_env, "SELECT name FROM inspector WHERE cert_no = ?", (task_draw["officer"],))[0][0]
    assert rep["officer_name"] == name

    statuses = dict(q(store_env, "SELECT status, COUNT(*) FROM followup WHERE draw_id = ? GROUP BY status", (DRAW,)))
    assert {r["status"]: r["count"] for r in data["followups_by_status"] if r["count"]} == statuses == {"open": 2, "closed": 1}
    assert (data["summary"]["followups_open"], data["summary"]["followups_closed"]) == (2, 1)
    assert len(data["followups"]) == 3


def test_unknown_or_unlocked_draw_and_unknown_year_exit_1_without_traceback(task_draw, cli):
    result = cli("reports", "task", "2026-T9-D1")
    assert result.code == 1 and "No draw 2026-T9-D1" in result.err and "Traceback" not in result.err
    voided = cli("reports", "task", "2026-T1-D1")
    assert voided.code == 1 and "not locked (void)" in voided.err and f"current draw is {DRAW}" in voided.err
    assert cli("reports", "year", "2031").code == 1
    plan = cli("reports", "plan", "2031", "--json")
    assert plan.code == 1 and json.loads(plan.out)["exit_code"] == 1 and "No 2031 plan" in plan.err
    assert cli("reports", "year", "2026", "--threshold", "1.5").code == 2
    assert cli("reports", "task", DRAW, "--format", "xlsx").code == 2  # xlsx needs -o
    assert cli("reports", "task", DRAW, "-o", "report.txt").code == 2  # unknown suffix


def test_reports_write_nothing_to_the_store(task_draw, cli, store_env, tmp_path):
    before = q(store_env, "SELECT COUNT(*), MAX(seq) FROM audit_log")
    ok(cli, "reports", "task", DRAW)
    ok(cli, "reports", "task", DRAW, "-o", tmp_path / "r.html")
    assert q(store_env, "SELECT COUNT(*), MAX(seq) FROM audit_log") == before


# ---------------------------------------------------------------- formats


def read_sections(blob: bytes) -> dict[str, list[list[str]]]:
    """The documented sectioned CSV: ``[key] title`` line, header line, rows, an empty line."""
    sections: dict[str, list[list[str]]] = {}
    current = None
    for row in csv.reader(io.StringIO(blob.decode("utf-8-sig"))):
        if row and row[0].startswith("[") and "]" in row[0] and len(row) == 1:
            current = row[0][1:row[0].index("]")]
            sections[current] = []
        elif row:
            sections[current].append(row)
    return sections


def test_every_format_is_byte_stable_and_holds_the_same_figures(task_draw, cli, tmp_path):
    data = ok(cli, "reports", "task", DRAW, "--json").json()
    for fmt in ("json", "csv", "xlsx", "html"):
        a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        ok(cli, "reports", "task", DRAW, "-o", a)
        ok(cli, "reports", "task", DRAW, "--format", fmt, "-o", b)
        assert a.read_bytes() == b.read_bytes(), fmt
    assert json.loads((tmp_path / "a.json").read_bytes()) == data
    assert ok(cli, "reports", "task", DRAW, "--json").out.encode("utf-8") == (tmp_path / "a.json").read_bytes()

    sections = read_sections((tmp_path / "a.csv").read_bytes())
    assert list(sections)[:3] == ["overview", "by_department", "by_item"]
    header, *rows = sections["by_item"]
    assert header[:3] == ["item", "check item", "dept"]
    assert [(r[0], int(r[4]), int(r[6])) for r in rows] == [(i["item"], i["recorded"], i["problems"]) for i in data["by_item"]]
    assert len(sections["redraws"]) == 2 and sections["redraws"][1][0] == "2026-T1-D1"

    book = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert book.sheetnames[0] == "Overview" and len(book.sheetnames) == 1 + 9
    ws = book["By check item"]
    got = [(r[0], r[4], r[6], r[7]) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert got == [(i["item"], i["recorded"], i["problems"], i["problem_rate"]) for i in data["by_item"]]
    assert ws.cell(2, 8).number_format == "0.0%"
    assert book.properties.created == book.properties.modified == datetime.datetime(1980, 1, 1)


def test_threshold_and_min_inspections_pick_the_items_for_a_special_check(year_store, cli, store_env):
    rows = q(store_env, "SELECT r.item_id, r.problem FROM inspection_result r JOIN draw d ON d.id = r.draw_id "
                        "JOIN task t ON t.id = d.task_id WHERE t.year = 2026 AND d.state = 'locked'")
    per_item = defaultdict(lambda: [0, 0])
    for item, problem in rows:
        per_item[item][0] += 1
        per_item[item][1] += problem
    for threshold, minimum in (("20%", 5), ("0.1", 8), ("30%", 1), ("100%", 1)):
        data = ok(cli, "reports", "year", "2026", "--threshold", threshold, "--min-inspections", str(minimum), "--json").json()
        limit = Fraction(threshold[:-1]) / 100 if threshold.endswith("%") else Fraction(threshold)
        expected = sorted(i for i, (n, p) in per_item.items() if n >= minimum and Fraction(p, n) >= limit)
        assert sorted(s["item"] for s in data["special_checks"]) == expected, (threshold, minimum)
        assert data["rule"] == {"threshold": float(limit), "min_inspections": minimum}
    default = ok(cli, "reports", "year", "2026", "--json").json()
    assert default["rule"] == {"threshold": 0.2, "min_inspections": 10}


# ---------------------------------------------------------------- reports year


def test_year_report_rates_workload_and_repeated_entities_from_the_store(year_store, cli, store_env):
    data = ok(cli, "reports", "year", "2026", "--json").json()
    locked = [r[0] for r in q(store_env, "SELECT d.id FROM draw d JOIN task t ON t.id = d.task_id "
                                         "WHERE t.year = 2026 AND d.state = 'locked' ORDER BY d.id")]
    assert sorted(locked) == ["2026-02-D1", "2026-07-D1", "2026-T1-D2", "2026-T2-D1"]
    marks = ",".join("?" * len(locked))
    results = q(store_env, f"SELECT draw_id, uscc, item_id, problem FROM inspection_result WHERE draw_id IN ({marks})", locked)
    assert data["summary"]["results_recorded"] == len(results)
    assert data["summary"]["results_with_problem"] == sum(r[3] for r in results)
    by_item = {r["item"]: r for r in data["by_item"]}
    lz02 = [r for r in results if r[2] == "LZ-02-1"]
    assert (by_item["LZ-02-1"]["recorded"], by_item["LZ-02-1"]["problems"], by_item["LZ-02-1"]["tasks"]) == (
        len(lz02), sum(r[3] for r in lz02), 2)

    # risk classes: one inspection = one drawn entity of one draw with at least one result
    strata = q(store_env, f"SELECT draw_id, uscc, stratum FROM draw_selection WHERE draw_id IN ({marks})", locked)
    visits = defaultdict(list)
    for d, u, _, p in results:
        visits[(d, u)].append(p)
    expected = defaultdict(lambda: [0, 0, 0])
    for d, u, cls in strata:
        expected[cls][0] += 1
        if (d, u) in visits:
            expected[cls][1] += 1
            expected[cls][2] += any(visits[(d, u)])
    assert {r["risk_class"]: [r["drawn"], r["inspected"], r["with_problem"]] for r in data["by_risk_class"]} == dict(expected)

    # workload: the final teams (after the replacement) of every locked draw, as `draws show` prints them
    teams = Counter()
    leaders = Counter()
    for d in locked:
        for team in ok(cli, "draws", "show", d, "--json").json()["teams"]:
            teams.update(m["officer"] for m in team["members"])
            leaders[team["members"][0]["officer"]] += 1
    assert {r["officer"]: r["visits"] for r in data["workload_officers"]} == dict(teams)
    assert {r["officer"]: r["as_leader"] for r in data["workload_officers"] if r["as_leader"]} == dict(leaders)
    by_dept = {r["department"]: r["visits"] for r in data["workload_departments"]}
    assert sum(by_dept.values()) == sum(teams.values())
    assert q(store_env, "SELECT COUNT(*) FROM draw_team WHERE draw_id IN ('2026-02-D1')")[0][0] == 0  # no officers drawn

    drawn = Counter(u for _, u, _ in strata)
    repeated = {u for u, n in drawn.items() if n > 1}
    assert {r["uscc"] for r in data["repeat_entities"]} == repeated and repeated
    assert all(r["times_drawn"] == drawn[r["uscc"]] for r in data["repeat_entities"])
    assert {tuple(sorted(r["tasks"])) for r in data["repeat_entities"]} == {("2026-07", "2026-T2")}

    progress = {r["task"]: r["status"] for r in data["progress"]}
    assert progress == {"2026-02": "in_progress", "2026-07": "done", "2026-T1": "in_progress", "2026-T2": "done"}


# ---------------------------------------------------------------- reports plan


def test_plan_report_reuses_plans_check_and_counts_task_progress(year_store, cli):
    data = ok(cli, "reports", "plan", "2026", "--json").json()
    checked = ok(cli, "plans", "check", "2026", "--json").json()
    assert data["joint_share_plan"] == checked["ratios"]  # the same 第七条 table, not a second computation
    plan = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    s = data["summary"]
    # 第七条: the date `plans publish` recorded (the real clock), never the file's.
    recorded = ok(cli, "plans", "list", "--json").json()[0]["published_at"][:10]
    assert (s["plan_status"], s["published_on"], s["deadline"]) == ("published", recorded, "2026-03-31")
    assert s["timeliness"] == ("on_time" if recorded <= "2026-03-31" else "late") and s["amendments"] == 0
    assert s["plan_tasks"] == len(plan["tasks"])
    assert s["plan_tasks_not_created"] == len(plan["tasks"]) - 2
    status = {(r["task"] or r["plan_task"]): r["status"] for r in data["progress"]}
    assert status["2026-07"] == "done" and status["2026-02"] == "in_progress" and status["2026-T1"] == "in_progress"
    assert status["2026-T2"] == "done"
    assert (s["tasks_done"], s["tasks_in_progress"], s["tasks_not_started"]) == (2, 2, len(plan["tasks"]) - 2)
    assert s["tasks_total"] == len(plan["tasks"]) - 2 + 4
    assert s["completion_rate"] == 2 / s["tasks_total"]
    # 第七条 over the tasks created this year: SCJG leads 2026-07, 2026-T1, 2026-T2 (+ 25 single-department
    # tasks outside the plan); only 2026-T1 is a joint task it leads — cooperating in WJ's 2026-02 does not count.
    scjg = next(r for r in data["joint_share_tasks"] if r["department"] == "SCJG")
    assert (scjg["lead_tasks"], scjg["joint_tasks"], scjg["percent"]) == (28, 1, "3.6%")


# ---------------------------------------------------------------- the HTML, in a real browser


class Dom(HTMLParser):
    """The rendered DOM: every element with its attributes and the chart (svg id) it is in, and
    each data table as rows of {column: text}."""

    def __init__(self, text: str):
        super().__init__()
        self.elements: list[tuple[str, dict, str | None]] = []
        self.tables: dict[str, list[dict]] = {}
        self._section = self._row = self._col = self._svg = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self._svg = a.get("id")
        self.elements.append((tag, a, self._svg))
        if tag == "table" and a.get("data-section"):
            self._section = a["data-section"]
            self.tables[self._section] = []
        elif tag == "tr" and self._section:
            self._row = {}
        elif tag == "td" and self._row is not None:
            self._col = a.get("data-col")
            self._row[self._col] = ""

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg = None
        elif tag == "td":
            self._col = None
        elif tag == "tr" and self._row:
            self.tables[self._section].append(self._row)
            self._row = None
        elif tag == "table":
            self._section = None

    def handle_data(self, data):
        if self._col is not None:
            self._row[self._col] += data

    def find(self, tag, chart=None, **attrs):
        return [a for t, a, svg in self.elements if t == tag and chart in (None, svg) and all(a.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())]


def render_in_chromium(page: Path, tmp_path: Path) -> str:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")
    profile = tmp_path / "chromium-profile"
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
         "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "<svg" in proc.stdout, proc.stdout[:500]
    return proc.stdout


def assert_self_contained(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "<link" not in text and "@import" not in text and "url(" not in text
    assert " src=" not in text and " href=" not in text
    # The only URL is the SVG namespace name, which is never fetched.
    assert re.findall(r"(?:https?|ftp|file|data):", text) == ["http:"] * text.count('xmlns="http://www.w3.org/2000/svg"')


def test_task_html_renders_offline_with_its_figures_and_charts(task_draw, cli, tmp_path):
    data = ok(cli, "reports", "task", DRAW, "--json").json()
    page = tmp_path / "task.html"
    ok(cli, "reports", "task", DRAW, "--format", "html", "-o", page)
    assert_self_contained(page)
    dom = Dom(render_in_chromium(page, tmp_path))
    overview = {k: v for row in dom.tables["overview"] for k, v in row.items()}
    s = data["summary"]
    assert overview["summary.results_recorded"] == str(s["results_recorded"])
    assert overview["summary.results_missing"] == str(s["results_missing"]) == "2"
    assert overview["summary.redraws"] == "1" and overview["summary.replacements"] == "1"
    assert [(r["item"], r["recorded"], r["problems"]) for r in dom.tables["by_item"]] == [
        (i["item"], str(i["recorded"]), str(i["problems"])) for i in data["by_item"]]
    assert dom.tables["redraws"][0]["reason"] == VOID_REASON
    assert dom.tables["replacements"][0]["officer"] == task_draw["officer"]
    # charts: problem rate per item, progress per department, as SVG bars carrying their values
    assert {a["id"] for a in dom.find("svg")} >= {"chart-progress", "chart-rate-item", "chart-rate-risk", "chart-categories"}
    bars = {a["data-label"]: float(a["data-value"]) for a in dom.find("rect", "chart-rate-item", class_="bar")}
    for item in data["by_item"]:
        assert bars[f"{item['item']} {item['item_name']}"] == item["problem_rate"]
    missing = {a["data-label"]: int(a["data-value"]) for a in dom.find("rect", "chart-progress", data_segment="missing")}
    assert missing == {f"{d['department']} {d['department_name']}": d["missing"] for d in data["by_department"] if d["missing"]}


def test_year_and_plan_html_render_with_rate_workload_and_progress_charts(year_store, cli, tmp_path):
    year = ok(cli, "reports", "year", "2026", "--threshold", "20%", "--min-inspections", "3", "--json").json()
    page = tmp_path / "year.html"
    ok(cli, "reports", "year", "2026", "--threshold", "20%", "--min-inspections", "3", "-o", page)
    assert_self_contained(page)
    dom = Dom(render_in_chromium(page, tmp_path))
    assert {a["id"] for a in dom.find("svg")} >= {"chart-rate-item", "chart-rate-risk", "chart-workload-dept",
                                                   "chart-workload-officer", "chart-progress"}
    assert len(dom.find("line", class_="marker")) == 1  # the 第十七条 threshold line
    officers = {a["data-label"]: int(a["data-value"]) for a in dom.find("rect", "chart-workload-officer", class_="bar")}
    assert officers == {f"{r['name']}（{r['officer']}）": r["visits"] for r in year["workload_officers"]}
    assert [r["item"] for r in dom.tables.get("special_checks", [])] == [s["item"] for s in year["special_checks"]]
    assert [(r["uscc"], r["times_drawn"]) for r in dom.tables["repeat_entities"]] == [
        (r["uscc"], str(r["times_drawn"])) for r in year["repeat_entities"]]

    plan = ok(cli, "reports", "plan", "2026", "--json").json()
    page = tmp_path / "plan.html"
    ok(cli, "reports", "plan", "2026", "-o", page)
    assert_self_contained(page)
    dom = Dom(render_in_chromium(page, tmp_path))
    segments = {a["data-segment"]: int(a["data-value"]) for a in dom.find("rect", "chart-status") if "data-segment" in a}
    assert segments == {k: plan["summary"][f"tasks_{k}"] for k in ("done", "in_progress", "not_started")}
    shares = {a["data-label"].split()[0]: float(a["data-value"]) for a in dom.find("rect", "chart-joint-share", class_="bar")}
    assert shares == {r["department"]: r["ratio"] for r in plan["joint_share_plan"] if r["ratio"] is not None}
    assert [r["status"] for r in dom.tables["progress"]] == [
        {"done": "done", "in_progress": "in progress", "not_started": "not started"}[r["status"]] for r in plan["progress"]]


def test_a_draft_plan_is_judged_against_today(store, cli):
    ok(cli, "checklists", "import", CHECKLIST)
    ok(cli, "plans", "import", PLAN)  # not published: the store has no publication, whatever the file says
    data = ok(cli, "reports", "plan", "2026", "--json").json()
    today = datetime.date.today()
    s = data["summary"]
    assert (s["plan_status"], s["published_on"]) == ("draft", None)
    assert s["timeliness"] == ("overdue" if today > datetime.date(2026, 3, 31) else "not_yet")
    assert data["judged_on"] == today.isoformat()
    tasks = yaml.safe_load(PLAN.read_text(encoding="utf-8"))["tasks"]
    assert s["tasks_not_started"] == s["tasks_total"] == len(tasks) and s["completion_rate"] == 0


def test_every_shown_percentage_rounds_half_up_once_from_the_exact_rate():
    # One rule (domain/numbers.py): 1/7 → 14.3 %, 8/21 → 38.1 %, not 4-place-then-truncate (14.2 %).
    from shuangsuiji import reports_render
    from shuangsuiji.services.reports import rate

    assert rate(1, 7) == 1 / 7 and rate(0, 0) is None
    assert reports_render.percent(rate(1, 7)) == reports_render.display(rate(1, 7), "rate") == "14.3%"
    assert reports_render.percent(rate(8, 21)) == "38.1%" and reports_render.percent(rate(1, 16)) == "6.3%"
    assert reports_render.percent(None) == ""
GLYPHS = "联合抽查报告"  # six distinct Chinese characters
UNASSIGNED = "\u0378\u0379"  # no font has these: they render as the same missing-glyph box (tofu)


def screenshot_cells(text: str, tmp_path: Path, font_family: str) -> list[bytes]:
    """Chromium's pixels of each character, drawn alone in an 80×80 cell in ``font_family``."""
    from PIL import Image

    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")
    cells = "".join(f'<div style="position:absolute;left:{80 * i}px;top:0;width:80px;height:80px;font-size:60px;'
                    f'line-height:80px;text-align:center">{html_escape(ch)}</div>' for i, ch in enumerate(text))
    page = tmp_path / "glyphs.html"
    page.write_text(f'<!doctype html><meta charset="utf-8"><style>body{{margin:0;background:#fff;color:#000;'
                    f'font-family:{font_family}}}</style>{cells}', encoding="utf-8")
    shot, profile = tmp_path / "glyphs.png", tmp_path / "chromium-profile"
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
         "--force-device-scale-factor=1", f"--window-size={80 * len(text)},80", f"--screenshot={shot}", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    image = Image.open(shot).convert("L")
    return [image.crop((80 * i, 0, 80 * i + 80, 80)).tobytes() for i in range(len(text))]


def html_escape(text: str) -> str:
    import html

    return html.escape(text)


def test_report_fonts_render_real_chinese_glyphs_not_tofu(tmp_path):
    """The reports' font stack finds a Chinese font here: six distinct characters give six distinct,
    non-blank glyph images — while characters no font has all draw the same box, which is what a
    machine without Chinese fonts would show for every character (the test's own control)."""
    from shuangsuiji.reports_render import CSS, FONT_STACK

    assert f"font-family:{FONT_STACK}" in CSS
    for family in ("PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei"):  # macOS, Windows, Linux
        assert f'"{family}"' in FONT_STACK
    glyphs = screenshot_cells(GLYPHS + UNASSIGNED, tmp_path, FONT_STACK)
    blank = bytes([255]) * (80 * 80)
    chinese, control = glyphs[: len(GLYPHS)], glyphs[len(GLYPHS):]
    assert all(g != blank for g in chinese), "a Chinese character rendered as nothing"
    assert len(set(chinese)) == len(GLYPHS), "distinct characters drew the same image: tofu (install fonts-noto-cjk)"
    assert control[0] == control[1], "the control: two characters without a glyph should draw the same box"
    assert sum(b < 128 for b in chinese[0]) > 200  # a real glyph has ink: 联 has many dark pixels
