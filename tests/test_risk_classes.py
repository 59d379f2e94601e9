"""第四条 信用风险分类: a class scheme per task (unclassified ratio, default class for an imported
list), the risk order kept by rounding (`ordered`), and the scheme carried into the bundle."""

from __future__ import annotations

import csv
import json
import math
from fractions import Fraction

import pytest
import yaml
from hypothesis import given, strategies as st

from conftest import EXAMPLES, ROOT
from shuangsuiji.domain import uscc
from shuangsuiji.domain.draw import allocate_ordered, inversions, parse_ratio
from shuangsuiji.domain.plan import Plan, check_plan, rate_inversions, stratum_takes
from shuangsuiji.domain.checklist import load_checklist

CHECKLIST = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"
ADHOC = EXAMPLES / "task-2026-canteens-adhoc.yaml"
RATIOS = ["0.01", "0.03", "0.05", "0.1", "0.2", "0.3", "0.45", "0.5", "1"]


# ---------------------------------------------------------------- the rounding rule (pure)


def test_ceil_min1_on_small_strata_inverts_the_risk_order_and_ordered_does_not():
    sizes, ratios = {"A": 1, "C": 7}, {"A": "0.05", "C": "0.1"}
    takes = stratum_takes(sizes, ratios, "ceil_min1")
    assert takes == {"A": 1, "C": 1}  # A at 100 %, C at 14 %
    assert rate_inversions(sizes, takes) == [("A", "C")]
    ordered = stratum_takes(sizes, ratios, "ordered")
    assert ordered == {"A": 0, "C": 1} and rate_inversions(sizes, ordered) == []
    assert sum(ordered.values()) == math.ceil(1 * Fraction(5, 100) + 7 * Fraction(1, 10))


def test_ordered_worked_example_of_the_docs():
    # docs/draw-algorithm.md: A 3 × 5 %, B 40 × 10 %, C 6 × 30 %, D 1 × 50 % — nominal 6.45, so 7 in all.
    sizes, ratios = {"A": 3, "B": 40, "C": 6, "D": 1}, {"A": "0.05", "B": "0.1", "C": "0.3", "D": "0.5"}
    assert stratum_takes(sizes, ratios, "ceil_min1") == {"A": 1, "B": 4, "C": 2, "D": 1}  # 8; A 33 % > B 10 %
    assert rate_inversions(sizes, stratum_takes(sizes, ratios, "ceil_min1")) == [("A", "B")]
    assert stratum_takes(sizes, ratios, "ordered") == {"A": 0, "B": 4, "C": 2, "D": 1}


@given(st.lists(st.tuples(st.integers(0, 40), st.sampled_from(RATIOS)), min_size=1, max_size=6))
def test_ordered_keeps_the_nominal_total_and_the_order(strata):
    strata.sort(key=lambda s: Fraction(s[1]))  # the plan's ratios rise with the risk
    sizes, ratios = [n for n, _ in strata], [r for _, r in strata]
    takes = allocate_ordered(sizes, ratios)
    nominal = sum((n * parse_ratio(r) for n, r in strata), Fraction(0))
    assert sum(takes) == min(math.ceil(nominal), sum(sizes))
    assert all(0 <= k <= n for k, n in zip(takes, sizes))
    assert inversions(sizes, takes) == []


# ---------------------------------------------------------------- the scheme in a plan (pure)


def _plan(**task_fields) -> Plan:
    task = {"id": "T", "name": "学校食堂", "checklist_entry": "LZ-01", "items": ["LZ-01-1"], "initiating": "SCJG",
            "cooperating": ["JY"], "scope": {"imported_list": True}, "ratios": {"B": "0.5"},
            "window": {"start": "2026-09-01", "end": "2026-09-30"}}
    task.update(task_fields)
    return Plan.model_validate({"year": 2026, "checklist_version": "2026.1", "title": "t", "tasks": [task]})


def _problems(p: Plan) -> list[tuple[str, str]]:
    checklist = load_checklist(CHECKLIST.read_text(encoding="utf-8"), str(CHECKLIST))
    codes = ["SCJG", "JY", "WJ", "RS"]
    return [(x.field, x.en) for x in check_plan(p, checklist, codes, "p.yaml").problems if x.field != "tasks"]


def test_scheme_is_checked():
    assert _problems(_plan(risk_scheme={"default_class": "B", "unclassified": "5%"})) == []
    assert _problems(_plan(scope={"directory": {}}, risk_scheme={"default_class": "B"})) == [
        ("tasks[0].risk_scheme.default_class", "default_class applies to an imported list only (scope: imported_list: true)")]
    assert _problems(_plan(risk_scheme={"classes": ["低", "中", "高"], "default_class": "B", "unclassified": "1.5"})) == [
        ("tasks[0].risk_scheme.unclassified", "a sampling ratio must be in (0, 1], got 1.5"),
        ("tasks[0].risk_scheme.default_class", "default class B is not one of the classes"),
        ("tasks[0].ratios.B", "unknown credit-risk class B (choose from: 低, 中, 高)"),
    ]
    # A scheme of its own: the ratios name its classes.
    assert _problems(_plan(ratios={"低": "0.1", "高": "1"}, risk_scheme={"classes": ["低", "中", "高"]})) == []
    # Only unclassified entities drawn: a ratio for them is a ratio.
    assert _problems(_plan(ratios={}, risk_scheme={"unclassified": "0.2"})) == []


# ---------------------------------------------------------------- in the store


@pytest.fixture
def adhoc(store, tmp_path):
    """Store with the checklist; returns a function creating an ad hoc imported-list task and its list."""
    assert store("checklists", "import", CHECKLIST).code == 0

    def make(task_id: str, rows: list[tuple[str, str | None]], **fields):
        data = yaml.safe_load(ADHOC.read_text(encoding="utf-8"))
        data.update(id=task_id, checklist_entry="LZ-01", items=["LZ-01-1"], cooperating=["JY"], scope={"imported_list": True},
                    exclude_recent=None, inspectors={"per_department": {"SCJG": 1}}, **fields)
        path = tmp_path / f"{task_id}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        created = store("tasks", "create", "--file", path)
        assert created.code == 0, created.err
        listing = tmp_path / f"{task_id}.csv"
        with_class = any(cls is not None for _, cls in rows)
        with listing.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["uscc", "name", "status"] + (["risk_class"] if with_class else []))
            for i, (code, cls) in enumerate(rows):
                w.writerow([code, f"学校 {i}", "存续"] + ([cls or ""] if with_class else []))
        imported = store("tasks", "import-list", task_id, listing)
        assert imported.code == 0, imported.err
        return task_id

    return make


def codes(n: int, start: int = 0) -> list[str]:
    """Valid 18-character codes of 事业单位 (they start with 12, like schools)."""
    return [uscc.make(f"1244188200000{start + i:04d}") for i in range(n)]


def _preview(store, task_id):
    result = store("tasks", "preview", task_id, "--json")
    assert result.code == 0, result.err
    return result.json()


def test_imported_list_without_a_risk_column_is_drawn_at_its_default_class(store, adhoc, tmp_path):
    # Schools (codes 12…) come with no risk column: without a default class nothing can be drawn.
    rows = [(c, None) for c in codes(10)]
    none = _preview(store, adhoc("2026-S1", rows, ratios={"B": "0.3"}))
    assert none["totals"]["take"] == 0 and none["excluded"]["unclassified"] == 10
    data = _preview(store, adhoc("2026-S2", rows, ratios={"B": "0.3"}, risk_scheme={"default_class": "B"}))
    b = next(s for s in data["strata"] if s["risk_class"] == "B")
    assert (b["in_scope"], b["take"], data["excluded"]["unclassified"]) == (10, 3, 0)
    assert data["risk_scheme"] == {"classes": ["A", "B", "C", "D"], "unclassified": None, "default_class": "B"}
    shown = store("tasks", "preview", "2026-S2")
    assert "list entries without a class count as B" in shown.err
    described = store("--lang", "en", "tasks", "show", "2026-S2")
    flat = "".join(described.out.replace("│", "").split())  # the table wraps long cells
    assert described.code == 0 and "classeslowtohigh:A,B,C,D;listentrieswithoutaclasscountasB" in flat

    # The draw carries the scheme under its parameters, and verify checks it.
    run = store("draws", "run", "2026-S2", "--seed", "s", "--json")
    assert run.code == 0, run.err
    path = tmp_path / "bundle.json"
    assert store("draws", "export", run.json()["draw"], "-o", path).code == 0
    bundle = json.loads(path.read_text(encoding="utf-8"))
    assert bundle["parameters"]["risk_scheme"] == {"classes": ["A", "B", "C", "D"], "unclassified": None, "default_class": "B"}
    assert store("verify", path).code == 0
    bundle["parameters"]["risk_scheme"]["default_class"] = "A"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    failed = store("verify", path, "--json")
    assert failed.code != 0 and failed.json()["field"] == "parameters.risk_scheme"


def test_unclassified_entities_are_drawn_at_their_own_ratio(store, adhoc, tmp_path):
    rows = [(c, "A") for c in codes(4)] + [(c, None) for c in codes(6, 100)]
    data = _preview(store, adhoc("2026-U1", rows, ratios={"A": "0.5"}, risk_scheme={"unclassified": "0.5"}))
    by = {s["risk_class"]: s for s in data["strata"]}
    assert (by["unclassified"]["ratio"], by["unclassified"]["in_scope"], by["unclassified"]["take"]) == ("0.5", 6, 3)
    assert data["totals"]["take"] == 2 + 3 and data["excluded"]["unclassified"] == 0
    run = store("draws", "run", "2026-U1", "--seed", "s", "--json")
    assert run.code == 0, run.err
    assert {s["name"]: s["take"] for s in run.json()["strata"]} == {"A": 2, "unclassified": 3}
    path = tmp_path / "bundle.json"
    assert store("draws", "export", run.json()["draw"], "-o", path).code == 0
    assert store("verify", path).code == 0


def test_preview_warns_of_an_inverted_order_and_offers_the_ordered_allocation(store, adhoc, tmp_path):
    rows = [(codes(1)[0], "A")] + [(c, "C") for c in codes(7, 10)]
    data = _preview(store, adhoc("2026-R1", rows, ratios={"A": "0.05", "C": "0.1"}))
    assert data["rate_inversions"] == [{"lower": "A", "higher": "C"}]
    assert data["ordered_alternative"] == {"rounding": "ordered", "takes": {"A": 0, "C": 1}, "take": 1}
    shown = store("tasks", "preview", "2026-R1")
    assert "class A (lower risk) is checked at a higher rate than class C" in shown.err
    assert "rounding: ordered would keep the total (1)" in shown.err

    # The rule chosen for a task: no warning, and a draw whose bundle verifies with the same rule.
    ordered = _preview(store, adhoc("2026-R2", rows, ratios={"A": "0.05", "C": "0.1"}, rounding="ordered"))
    assert ordered["rate_inversions"] == [] and ordered["ordered_alternative"] is None
    assert {s["risk_class"]: s["take"] for s in ordered["strata"] if s["ratio"]} == {"A": 0, "C": 1}
    run = store("draws", "run", "2026-R2", "--seed", "s", "--json")
    assert run.code == 0, run.err
    path = tmp_path / "bundle.json"
    assert store("draws", "export", run.json()["draw"], "-o", path).code == 0
    assert store("verify", path).code == 0
    bundle = json.loads(path.read_text(encoding="utf-8"))
    stratum = next(s for s in bundle["strata"] if s["name"] == "A")
    assert stratum["take"] == 0


def test_whole_directory_task_draws_its_unclassified_entities(store, tmp_path):
    # The directory path (one query per stratum) as well: entities with no class, at their ratio.
    assert store("checklists", "import", CHECKLIST).code == 0
    extra = tmp_path / "unclassified.csv"
    with extra.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["uscc", "name", "industry", "status", "risk_class"])
        for i, code in enumerate(codes(5, 200)):
            w.writerow([code, f"新设主体 {i}", "食品销售", "存续", ""])
    imported = store("objects", "import", extra)
    assert imported.code == 0, imported.err
    data = yaml.safe_load(ADHOC.read_text(encoding="utf-8"))
    data.update(id="2026-W1", scope={"directory": {}}, ratios={"D": "0.01"}, risk_scheme={"unclassified": "0.4"},
                exclude_recent=None)
    path = tmp_path / "w1.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert store("tasks", "create", "--file", path).code == 0
    preview = _preview(store, "2026-W1")
    by = {s["risk_class"]: s for s in preview["strata"]}
    assert (by["unclassified"]["in_scope"], by["unclassified"]["take"]) == (5, 2)
    assert preview["excluded"]["unclassified"] == 0 and by["D"]["take"] >= 1
