"""`tasks`: frozen definitions, imported lists (第九条), previews by risk class, the population."""

import csv
import json
import math
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import EXAMPLES, ROOT, DBError, connect, sqlite_only

CHECKLIST = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"
PLAN = EXAMPLES / "plan-2026.yaml"
LIST = EXAMPLES / "school-canteens.csv"
ADHOC = EXAMPLES / "task-2026-canteens-adhoc.yaml"
LIVE = {"存续", "在业"}
CLASS = {"A": "A", "B": "B", "C": "C", "D": "D", "低风险": "A", "一般风险": "B", "较高风险": "C", "高风险": "D"}
CODE = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{18}(?![0-9A-Z])")


@pytest.fixture
def published(store, tmp_path):
    """The example store with the shipped checklist and the example plan, published."""
    assert store("checklists", "import", CHECKLIST).code == 0
    assert store("plans", "import", PLAN).code == 0
    result = store("plans", "publish", "2026", "-o", tmp_path)
    assert result.code == 0, result.err
    return store


def rows_of(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def expected(rows, ratios: dict[str, str], keep=lambda r: True) -> dict[str, dict[str, int]]:
    """Per class: live entities in scope and how many the default rule (ceil, at least 1) takes."""
    out = {}
    for cls, ratio in ratios.items():
        n = sum(1 for r in rows if keep(r) and r["status"] in LIVE and CLASS.get(r["risk_class"]) == cls)
        take = 0 if n == 0 else min(n, max(1, math.ceil(n * Decimal(ratio))))
        out[cls] = {"in_scope": n, "take": take}
    return out


def preview(cli, task_id):
    result = cli("tasks", "preview", task_id, "--json")
    assert result.code == 0, result.err
    data = result.json()
    return {s["risk_class"]: {"in_scope": s["in_scope"], "take": s["take"]} for s in data["strata"] if s["ratio"]}, data


def plan_task(task_id: str) -> dict:
    return next(t for t in yaml.safe_load(PLAN.read_text(encoding="utf-8"))["tasks"] if t["id"] == task_id)


@pytest.mark.parametrize("task_id", ["2026-07", "2026-04", "2026-09"])
def test_preview_counts_per_risk_class_match_the_directory(published, task_id):
    created = published("tasks", "create", "--from-plan", "2026", "--plan-task", task_id, "--json")
    assert created.code == 0, created.err
    spec = plan_task(task_id)
    scope = spec["scope"]["directory"]

    def keep(row):
        return all(row[name] in values for name, values in scope.items())

    ratios = {c: str(Decimal(str(r).rstrip("%")) / 100 if str(r).endswith("%") else r) for c, r in spec["ratios"].items()}
    want = expected(rows_of(EXAMPLES / "objects.csv"), ratios, keep)
    got, data = preview(published, task_id)
    assert got == want
    assert sum(v["in_scope"] for v in want.values()) > 0
    assert data["totals"]["take"] == sum(v["take"] for v in want.values()) == created.json()["to_draw"]
    not_live = sum(1 for r in rows_of(EXAMPLES / "objects.csv") if keep(r) and r["status"] not in LIVE)
    assert data["excluded"]["not_live"] == not_live


def test_frozen_definition_survives_a_new_plan_version(published, tmp_path, store_env):
    assert published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-07").code == 0
    before = published("tasks", "show", "2026-07", "--json")
    assert before.code == 0
    definition = before.json()["definition"]
    assert definition["source"] == {"plan_year": 2026, "plan_version": 1, "plan_task": "2026-07"}
    assert definition["ratios"] == {"A": "0.03", "B": "0.05", "C": "0.1", "D": "0.3"}
    assert definition["items"][0]["id"] == "LZ-02-1" and definition["items"][0]["basis"].startswith("《中华人民共和国食品安全法》")
    assert definition["inspectors"] == {"per_department": {}, "regions": None, "expertise": None}

    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    task = next(t for t in data["tasks"] if t["id"] == "2026-07")
    task["ratios"] = {"A": 0.03, "B": 0.08, "C": 0.2, "D": 0.5}  # still below the 专项 2026-08
    task["name"] = "食品销售者监督抽查（调整）"
    edited = tmp_path / "plan-v2.yaml"
    edited.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert published("plans", "import", edited, "--json").json()["version"] == 2
    assert published("plans", "publish", "2026", "-o", tmp_path, "--force").code == 0  # version 2 replaces version 1's documents

    after = published("tasks", "show", "2026-07", "--json")
    assert after.out == before.out
    # A new task from the plan now follows version 2; the old one still has its own copy.
    second = published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-07", "--id", "2026-07-2", "--json")
    assert second.code == 0 and second.json()["warnings"][0]["message"].startswith("plan task 2026-07 has frequency 1")
    new = published("tasks", "show", "2026-07-2", "--json").json()["definition"]
    assert new["source"]["plan_version"] == 2 and new["ratios"]["B"] == "0.08"

    with connect(store_env) as conn:
        text, sha = conn.execute("SELECT definition, sha256 FROM task WHERE id = '2026-07'").fetchone()
        import hashlib

        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == sha
        with pytest.raises(DBError, match="frozen"):
            conn.execute("UPDATE task SET definition = '{}' WHERE id = '2026-07'")


def test_task_needs_a_published_plan(store):
    assert store("checklists", "import", CHECKLIST).code == 0
    assert store("plans", "import", PLAN).code == 0
    result = store("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-07")
    assert result.code == 1 and "is not published" in result.err and "plans publish 2026" in result.err
    assert store("tasks", "list", "--json").json() == []


def test_bad_plan_task_and_duplicate_id(published):
    missing = published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-99")
    assert missing.code == 1 and "no task 2026-99" in missing.err
    assert published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-07").code == 0
    again = published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-07")
    assert again.code == 1 and "already exists" in again.err
    assert published("tasks", "create", "--from-plan", "2026").code == 2
    assert published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-07", "--file", ADHOC).code == 2


def test_imported_list_is_validated_like_the_directory(published, tmp_path, store_env):
    rows = list(csv.reader(open(LIST, encoding="utf-8", newline="")))
    bad = [list(r) for r in rows]
    code = bad[3][0]
    bad[3][0] = code[:17] + ("0" if code[17] != "0" else "1")  # a wrong check character on file row 4
    bad_file = tmp_path / "bad.csv"
    with open(bad_file, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(bad)

    # At creation: nothing is created, the row is named.
    result = published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-01", "--list", bad_file)
    assert result.code == 1
    assert f"{bad_file}, row 4, field uscc: the code's check character (GB 32100) is wrong" in result.err
    assert published("tasks", "list", "--json").json() == []

    assert published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-01").code == 0
    later = published("tasks", "import-list", "2026-01", bad_file)
    assert later.code == 1 and "row 4" in later.err and "nothing was written" in later.err
    with connect(store_env) as conn:
        assert conn.execute("SELECT COUNT(*) FROM task_list_entity").fetchone()[0] == 0

    waiting = published("tasks", "preview", "2026-01")
    assert waiting.code == 0 and "no imported list yet" in waiting.err

    ok = published("tasks", "import-list", "2026-01", LIST, "--json")
    assert ok.code == 0, ok.err
    assert ok.json()["entities"] == len(rows) - 1
    got, data = preview(published, "2026-01")
    ratios = {c: str(r) for c, r in plan_task("2026-01")["ratios"].items()}
    assert got == expected(rows_of(LIST), ratios)
    assert data["excluded"]["not_live"] == sum(1 for r in rows_of(LIST) if r["status"] not in LIVE) == 1

    refused = published("tasks", "import-list", "2026-01", LIST)
    assert refused.code == 1 and "already has its imported list" in refused.err
    directory_task = published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-07", "--list", LIST)
    assert directory_task.code == 1 and "draws from the directory" in directory_task.err
    with connect(store_env) as conn:
        with pytest.raises(DBError, match="frozen"):
            conn.execute("DELETE FROM task_list_entity WHERE task_id = '2026-01'")


def test_preview_never_prints_an_entity_code(published):
    assert published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-09").code == 0
    assert published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-01", "--list", LIST).code == 0
    codes = {r["uscc"] for r in rows_of(EXAMPLES / "objects.csv")} | {r["uscc"] for r in rows_of(LIST)}
    for task_id in ("2026-09", "2026-01"):
        for args in ((), ("--json",)):
            result = published("tasks", "preview", task_id, *args)
            assert result.code == 0
            assert "draw preview" in result.out or '"take"' in result.out  # it did print the counts
            assert not CODE.search(result.out) and not CODE.search(result.err)
            assert not any(code in result.out for code in codes)


def _lock_draw(db, task_id: str, codes: list[str], days_ago: float, state: str = "locked") -> None:
    """A locked draw of ``task_id`` that selected ``codes``, as the draw command records it."""
    at = (datetime.now(timezone.utc) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    draw_id = f"{task_id}-d{days_ago}"
    with connect(db) as conn:
        conn.execute(
            "INSERT INTO draw (id, task_id, attempt, state, algorithm, parameters, parameters_sha256, population_sha256, "
            "seed, created_at, locked_at, operator) VALUES (?, ?, ?, ?, 'x', '{}', 'p', 'q', 's', ?, ?, 'tester')",
            (draw_id, task_id, int(days_ago * 10) + 1, state, at, at if state == "locked" else None),
        )
        conn.executemany(
            "INSERT INTO draw_selection (draw_id, stratum, position, uscc, ticket) VALUES (?, 'B', ?, ?, '0.1')",
            [(draw_id, i, c) for i, c in enumerate(codes)],
        )


def test_recently_drawn_for_the_same_item_are_excluded(published, store_env):
    # 2026-08 (专项, exclude_recent 90 days) shares check item LZ-02-1 with 2026-07.
    for task_id in ("2026-07", "2026-08", "2026-09"):
        assert published("tasks", "create", "--from-plan", "2026", "--plan-task", task_id).code == 0
    food_b = sorted(r["uscc"] for r in rows_of(EXAMPLES / "objects.csv")
                    if r["industry"] == "食品销售" and r["status"] in LIVE and CLASS[r["risk_class"]] == "B")
    other_b = sorted(r["uscc"] for r in rows_of(EXAMPLES / "objects.csv")
                     if r["industry"] != "食品销售" and r["status"] in LIVE and CLASS[r["risk_class"]] == "B")
    _, before = preview(published, "2026-08")
    _lock_draw(store_env, "2026-07", food_b[:2], days_ago=10)        # same item, recent: excluded
    _lock_draw(store_env, "2026-07", food_b[2:4], days_ago=120)      # same item, too long ago
    _lock_draw(store_env, "2026-07", food_b[4:5], days_ago=5, state="void")  # voided: not a draw
    _lock_draw(store_env, "2026-09", other_b[:1] + food_b[5:6], days_ago=3)  # other items only
    _, after = preview(published, "2026-08")
    b_before = next(s for s in before["strata"] if s["risk_class"] == "B")
    b_after = next(s for s in after["strata"] if s["risk_class"] == "B")
    assert b_after["in_scope"] == b_before["in_scope"] == len(food_b)
    assert b_after["recent_same_item"] == 2 and b_after["drawable"] == len(food_b) - 2
    assert after["excluded"]["recent_same_item"] == 2
    assert after["exclude_recent"]["same_item_days"] == 90 and after["exclude_recent"]["tasks"] == ["2026-07"]
    # 2026-07 itself has no exclusion rule: nothing is left out.
    assert preview(published, "2026-07")[1]["excluded"]["recent_same_item"] == 0

    from shuangsuiji.services import population, tasks
    from shuangsuiji.store.engine import Store

    store = Store(str(store_env))
    with store.read() as conn:
        task = tasks.get_task(conn, "2026-08")
        pop = population.population(conn, task)
        assert not set(food_b[:2]) & set(pop.strata["B"]) and set(food_b[2:6]) <= set(pop.strata["B"])
        assert all(codes == sorted(codes) for codes in pop.strata.values())
        assert pop.in_scope["B"] == len(pop.strata["B"]) + 2
        # Seen from 200 days later, the 10-day-old draw is outside the 90-day window.
        later = population.population(conn, task, now=datetime.now(timezone.utc) + timedelta(days=200))
        assert later.excluded["recent_same_item"] == 0
    store.dispose()


def test_population_api_for_the_draw(published, store_env):
    assert published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-02").code == 0
    from shuangsuiji.domain.plan import sample_size
    from shuangsuiji.errors import UserError
    from shuangsuiji.services import population, tasks
    from shuangsuiji.store.engine import Store

    store = Store(str(store_env))
    with store.read() as conn:
        task = tasks.get_task(conn, "2026-02")
        assert task["definition"]["scope"] == {"directory": {"entity_type": [], "industry": ["住宿服务"], "region": [],
                                                             "status": [], "risk_class": []}}
        pop = population.population(conn, task)
        assert set(pop.strata) == set(task["definition"]["ratios"]) == set(pop.takes) == set(pop.in_scope)
        for cls, codes in pop.strata.items():
            assert pop.takes[cls] == sample_size(len(codes), task["definition"]["ratios"][cls], "ceil_min1")
        assert set(pop.excluded) == {"not_live", "removed", "unclassified", "recent_same_item", "no_ratio"}
        with pytest.raises(UserError):
            tasks.get_task(conn, "nope")
    store.dispose()


def test_removed_entities_are_counted_not_drawn(published, tmp_path):
    assert published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-07").code == 0
    rows = list(csv.reader(open(EXAMPLES / "objects.csv", encoding="utf-8", newline="")))
    header, body = rows[0], rows[1:]
    industry = header.index("industry")
    food = [r for r in body if r[industry] == "食品销售"]
    synced = tmp_path / "synced.csv"
    with open(synced, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header] + [r for r in body if r is not food[0] and r is not food[1]])
    assert published("objects", "import", synced, "--sync", "--yes").code == 0
    _, data = preview(published, "2026-07")
    assert data["excluded"]["removed"] == 2


def test_adhoc_task_from_a_file(published, tmp_path, store_env):
    created = published("tasks", "create", "--file", ADHOC, "--json")
    assert created.code == 0, created.err
    assert created.json()["id"] == "2026-L01"
    d = published("tasks", "show", "2026-L01", "--json").json()["definition"]
    assert d["source"] is None and d["checklist_version"] == "2026.1"
    assert d["ratios"] == {"A": "0.05", "B": "0.1", "C": "0.3", "D": "1"}
    assert d["inspectors"] == {"per_department": {"SCJG": 1, "STHJ": 1}, "regions": None, "expertise": {"SCJG": ["食品安全"]}}
    assert [i["department"] for i in d["items"]] == ["SCJG", "STHJ"]
    listed = published("tasks", "list", "--json").json()
    assert [(t["id"], t["source"]) for t in listed] == [("2026-L01", None)]

    data = yaml.safe_load(ADHOC.read_text(encoding="utf-8"))
    data["id"] = "2026-L02"
    data["ratios"]["B"] = 1.5
    data["inspectors"]["per_department"]["JY"] = 1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = published("tasks", "create", "--file", bad, "--json")
    assert result.code == 3
    fields = {p["field"]: p for p in result.json()["problems"]}
    assert "ratios.B" in fields and fields["ratios.B"]["row"] is not None
    assert "inspectors.per_department.JY" in fields
    dry = published("tasks", "create", "--file", ADHOC, "--id", "2026-L03", "--dry-run", "--json")
    assert dry.code == 0 and dry.json()["dry_run"] is True
    with connect(store_env) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM task")] == ["2026-L01"]
        assert conn.execute("SELECT COUNT(*) FROM audit_log WHERE command = 'tasks create'").fetchone()[0] == 1


def test_adhoc_special_check_must_raise_its_target(published, tmp_path):
    assert published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-07").code == 0
    spec = {"id": "2026-S1", "year": 2026, "checklist_version": "2026.1", "name": "节前食品销售专项检查",
            "checklist_entry": "LZ-02", "items": ["LZ-02-1"], "initiating": "SCJG",
            "scope": {"directory": {"industry": ["食品销售"]}}, "ratios": {"A": 0.03, "B": 0.05, "C": 0.1, "D": 0.3},
            "window": {"start": "2026-12-01", "end": "2026-12-20"}, "special": True, "targets": "2026-07"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    spec["targets"] = "2026-99"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    missing = published("tasks", "create", "--file", path, "--json")
    assert missing.code == 3
    assert [p["message"] for p in missing.json()["problems"] if p["field"] == "targets"] == [
        "the targeted task 2026-99 does not exist (create it first, or name an existing task)"]
    spec["targets"] = "2026-07"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    result = published("tasks", "create", "--file", path, "--json")
    assert result.code == 3 and "must raise a ratio or the frequency" in json.dumps(result.json()["problems"])
    spec["ratios"]["D"] = 1
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert published("tasks", "create", "--file", path).code == 0


# ---------------------------------------------------------------- the population, decided in SQL

FILTER_VALUES = {"industry": ["食品销售", "餐饮服务"], "region": ["连州镇", "星子镇"]}
ENTITY = st.fixed_dictionaries({
    "status": st.sampled_from(["存续", "在业", "吊销", "注销", "撤销", "迁出"]),
    "risk_class": st.sampled_from(["A", "B", "C", "D", "E", None]),  # "E": a class outside the scheme
    "in_directory": st.sampled_from([1, 1, 1, 0]),
    "industry": st.sampled_from(FILTER_VALUES["industry"]),
    "region": st.sampled_from(FILTER_VALUES["region"]),
})


def reference_population(entities, ratios, scope):
    """The population the plain way, one entity at a time, as 第九条 and docs/tasks.md describe it."""
    strata = {c: [] for c in ratios}
    excluded = dict.fromkeys(["removed", "not_live", "unclassified", "no_ratio", "recent_same_item"], 0)
    for e in entities:
        if not all(e[name] in values for name, values in scope.items() if values):
            continue
        if not e["in_directory"]:
            excluded["removed"] += 1
        elif e["status"] not in LIVE:
            excluded["not_live"] += 1
        elif e["risk_class"] is None:
            excluded["unclassified"] += 1
        elif e["risk_class"] not in ratios:
            excluded["no_ratio"] += 1
        else:
            strata[e["risk_class"]].append(e["uscc"])
    return {c: sorted(codes) for c, codes in strata.items()}, excluded


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entities=st.lists(ENTITY, max_size=60),
    classes=st.sets(st.sampled_from("ABCD"), min_size=1),
    scope=st.fixed_dictionaries({name: st.lists(st.sampled_from(v), unique=True, max_size=1) for name, v in FILTER_VALUES.items()}),
)
def test_population_from_sql_matches_the_rule_row_by_row(cli, store_env, entities, classes, scope):
    """Whatever the directory holds, the SQL that sorts it out gives what the rule gives row by row."""
    from shuangsuiji.services import population
    from shuangsuiji.store.engine import Store

    assert cli("init").code == 0
    for i, e in enumerate(entities):
        e["uscc"] = f"91441882MA{(i * 7919) % 10**8:08d}"  # distinct, in no particular order
    with connect(store_env) as conn:
        conn.execute("INSERT INTO import_permit (id) VALUES (1)")  # as an import does (migration 6)
        conn.execute("DELETE FROM entity")
        if entities:
            conn.executemany(
                "INSERT INTO entity (uscc, name, entity_type, industry, region, address, status, risk_class, "
                "attributes, in_directory, updated_at) VALUES (?, 'x', '企业', ?, ?, '', ?, ?, '{}', ?, 't')",
                [(e["uscc"], e["industry"], e["region"], e["status"], e["risk_class"], e["in_directory"]) for e in entities],
            )
        conn.execute("DELETE FROM import_permit")
    ratios = {c: "0.5" for c in sorted(classes)}
    task = {"id": "T", "definition": {"ratios": ratios, "rounding": "ceil_min1", "scope": {"directory": scope}}}
    store = Store(str(store_env))
    with store.read() as conn:
        pop = population.population(conn, task)
    store.dispose()
    strata, excluded = reference_population(entities, ratios, scope)
    assert {c: list(codes) for c, codes in pop.strata.items()} == strata  # Codes for the whole directory
    assert pop.excluded == excluded
    assert sum(b["in_scope"] for b in pop.by_class.values()) == sum(map(len, strata.values()))
    by_class_excluded = {k: sum(b[k] for b in pop.by_class.values()) for k in excluded}
    assert by_class_excluded == excluded


@sqlite_only("the query plan of SQLite's partial index")
def test_the_draw_reads_each_class_from_the_drawable_index(cli, store_env):
    """A draw over the whole directory repeats the partial index's condition word for word, or SQLite
    would scan the directory and sort the codes itself (a million entities: 1.5 s instead of 0.2 s)."""
    from shuangsuiji.services.population import DRAWABLE_SQL

    assert cli("init").code == 0
    with connect(store_env) as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'ix_entity_drawable'").fetchone()
        assert sql.endswith(f"WHERE {DRAWABLE_SQL}")
        plan = " ".join(r[-1] for r in conn.execute(
            f"EXPLAIN QUERY PLAN SELECT uscc FROM entity WHERE risk_class = 'A' AND {DRAWABLE_SQL} ORDER BY uscc"
        ).fetchall())
    assert "USING INDEX ix_entity_drawable (risk_class=?)" in plan and "TEMP B-TREE" not in plan, plan


def test_recent_exclusion_window_crosses_the_year(published, store_env, tmp_path):
    # A draw locked 10 days ago by a task of the previous year, for the same check item, is
    # inside a 90-day window: the window is days, not the plan year.
    data = yaml.safe_load(ADHOC.read_text(encoding="utf-8"))
    data.update(id="2025-L01", year=2025, checklist_entry="LZ-02", items=["LZ-02-1"], cooperating=[],
                scope={"directory": {"industry": ["食品销售"]}}, window={"start": "2025-12-01", "end": "2025-12-30"},
                exclude_recent=None, inspectors={"per_department": {"SCJG": 1}})
    last_year = tmp_path / "last-year.yaml"
    last_year.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    created = published("tasks", "create", "--file", last_year)
    assert created.code == 0, created.err
    assert published("tasks", "create", "--from-plan", "2026", "--plan-task", "2026-08").code == 0
    food_b = sorted(r["uscc"] for r in rows_of(EXAMPLES / "objects.csv")
                    if r["industry"] == "食品销售" and r["status"] in LIVE and CLASS[r["risk_class"]] == "B")
    _lock_draw(store_env, "2025-L01", food_b[:3], days_ago=10)
    _, after = preview(published, "2026-08")
    assert after["excluded"]["recent_same_item"] == 3
    assert after["exclude_recent"]["tasks"] == ["2025-L01"]
