"""`plans`: import versions, check (第七条), show, list, publish (freeze, audit, XLSX + Markdown)."""

import json
from datetime import date

import openpyxl
import pytest
import yaml

from conftest import EXAMPLES, ROOT, DBError, connect

CHECKLIST = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"
PLAN = EXAMPLES / "plan-2026.yaml"


@pytest.fixture
def planning(store):
    """The example store with the shipped checklist imported."""
    assert store("checklists", "import", CHECKLIST).code == 0
    return store


def example() -> dict:
    return yaml.safe_load(PLAN.read_text(encoding="utf-8"))


def write(path, data: dict):
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def food_task(task_id: str, **fields) -> dict:
    task = {"id": task_id, "name": f"食品销售抽查 {task_id}", "checklist_entry": "LZ-02", "items": ["LZ-02-1"],
            "initiating": "SCJG", "scope": {"directory": {"industry": ["食品销售"]}},
            "ratios": {"A": 0.03, "B": 0.05, "C": 0.1, "D": 0.3}, "window": {"start": "2026-04-01", "end": "2026-06-30"}}
    task.update(fields)
    return task


def twelve_lead_one_joint() -> dict:
    """SCJG leads 12 tasks and takes part in only 1 joint task: 1/12 = 8.3 % < 10 % (第七条)."""
    tasks = [food_task(f"2026-{n:02d}") for n in range(1, 12)]
    tasks.append(food_task("2026-12", items=None, cooperating=["SW"]))
    for t in tasks:
        if t["items"] is None:
            del t["items"]
    return {"year": 2026, "checklist_version": "2026.1", "title": "测试计划", "published_on": "2026-03-20", "tasks": tasks}


def test_example_plan_imports_checks_and_publishes(planning, tmp_path, store_env):
    imported = planning("plans", "import", PLAN, "--json")
    assert imported.code == 0, imported.err
    data = imported.json()
    assert (data["year"], data["version"], data["result"], data["problems"]) == (2026, 1, "inserted", 0)

    check = planning("plans", "check", "2026", "--json")
    assert check.code == 0, check.out
    report = check.json()
    assert report["ok"] is True and report["problems"] == [] and report["warnings"] == []
    scjg = next(r for r in report["ratios"] if r["department"] == "SCJG")
    assert scjg["lead_tasks"] == 7 and scjg["ok"] is True
    table = planning("plans", "check", "2026")
    assert table.code == 0 and "no problems" in table.err and "SCJG" in table.out

    out = tmp_path / "portal"
    out.mkdir()
    published = planning("plans", "publish", "2026", "-o", out, "--json")
    assert published.code == 0, published.err
    pub = published.json()
    assert pub["result"] == "published" and pub["version"] == 1 and pub["published_on"] == "2026-03-20"

    # The document: every task with its items, scope, ratios, frequency, window, departments.
    rows = list(openpyxl.load_workbook(out / "plan-2026.xlsx").worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == ["序号", "任务编号", "任务名称", "抽查事项", "检查对象/范围", "抽查比例", "抽查频次",
                             "实施检查时间", "发起部门", "配合部门", "专项检查"]
    assert len(rows) == 1 + 12
    by_id = {r[1]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert by_id["2026-09"]["抽查比例"] == "A类 3%、B类 3%、C类 5%、D类 10%"
    assert by_id["2026-11"]["抽查频次"] == "每年 2 次"
    assert by_id["2026-08"]["专项检查"] == "是（针对任务 2026-07）"
    assert by_id["2026-01"]["配合部门"] == "连州市教育局、连州市卫生健康局"
    assert "导入的检查对象名单" in by_id["2026-01"]["检查对象/范围"]
    markdown = (out / "plan-2026.md").read_text(encoding="utf-8")
    assert markdown.startswith("# 连州市2026年度") and "| 2026-12 | 加油站成品油经营联合抽查 |" in markdown
    assert "第七条" in markdown and pub["sha256"] in markdown

    with connect(store_env) as conn:
        published_at, sha = conn.execute("SELECT published_at, sha256 FROM plan WHERE year = 2026").fetchone()
        entry = conn.execute("SELECT payload FROM audit_log WHERE command = 'plans publish'").fetchall()
        # 第七条: a published plan never changes; the store itself refuses it.
        with pytest.raises(DBError, match="frozen"):
            conn.execute("UPDATE plan SET content = '{}' WHERE year = 2026")
        with pytest.raises(DBError, match="frozen"):
            conn.execute("UPDATE plan SET published_at = NULL WHERE year = 2026")
    assert published_at == pub["published_at"]
    assert len(entry) == 1 and json.loads(entry[0][0])["sha256"] == sha == pub["sha256"]

    assert planning("plans", "publish", "2026", "-o", out).code == 1  # its documents are there: --force to write them again
    again = planning("plans", "publish", "2026", "-o", out, "--force", "--json")
    assert again.code == 0 and again.json()["result"] == "unchanged" and again.json()["published_at"] == published_at
    listed = planning("plans", "list", "--json").json()
    assert [(p["year"], p["version"], p["status"]) for p in listed] == [(2026, 1, "published")]


def test_department_leading_12_with_1_joint_fails_naming_it(planning, tmp_path, store_env):
    path = write(tmp_path / "plan.yaml", twelve_lead_one_joint())
    imported = planning("plans", "import", path, "--json")
    assert imported.code == 0 and imported.json()["problems"] == 1  # a draft is stored to be checked

    result = planning("plans", "check", "2026")
    assert result.code == 3
    assert "SCJG（连州市市场监督管理局） leads 12 task(s) but takes part in 1 joint task(s), 8.3%, below 10%" in result.out
    report = planning("plans", "check", "2026", "--json")
    assert report.code == 3
    data = report.json()
    scjg = next(r for r in data["ratios"] if r["department"] == "SCJG")
    assert (scjg["lead_tasks"], scjg["joint_tasks"], scjg["percent"], scjg["ok"]) == (12, 1, "8.3%", False)
    assert [p["value"] for p in data["problems"]] == ["1/12"]
    # The same check straight from the file, with its line numbers.
    from_file = planning("plans", "check", path, "--json")
    assert from_file.code == 3 and from_file.json()["problems"][0]["row"] is not None

    refused = planning("plans", "publish", "2026", "-o", tmp_path)
    assert refused.code == 3 and "not published" in refused.err
    with connect(store_env) as conn:
        assert conn.execute("SELECT published_at FROM plan").fetchone()[0] is None
    assert not (tmp_path / "plan-2026.xlsx").exists()


def test_published_on_2_april_fails_on_the_deadline(planning, tmp_path):
    data = example()
    data["published_on"] = date(2026, 4, 2)
    for task in data["tasks"]:  # keep the windows after publication: only the deadline is wrong
        task["window"]["start"] = max(task["window"]["start"], date(2026, 4, 2))
    path = write(tmp_path / "late.yaml", data)
    assert planning("plans", "import", path).code == 0
    result = planning("plans", "check", "2026", "--json")
    assert result.code == 3
    problems = result.json()["problems"]
    assert [(p["field"], p["value"]) for p in problems] == [("published_on", "2026-04-02")]
    assert "must be published by 2026-03-31" in problems[0]["message"]
    assert planning("plans", "publish", "2026", "-o", tmp_path).code == 3


def test_versions_per_year_and_rerun_is_unchanged(planning, tmp_path):
    assert planning("plans", "import", PLAN).code == 0
    same = planning("plans", "import", PLAN, "--json").json()
    assert (same["version"], same["result"]) == (1, "unchanged")
    data = example()
    data["tasks"][6]["ratios"]["A"] = 0.05
    edited = planning("plans", "import", write(tmp_path / "v2.yaml", data), "--json").json()
    assert (edited["version"], edited["result"]) == (2, "inserted")
    assert planning("plans", "show", "2026", "--json").json()["version"] == 2
    v1 = planning("plans", "show", "2026", "--version", "1", "--json").json()
    assert next(t for t in v1["tasks"] if t["id"] == "2026-07")["ratios"]["A"] == "0.03"
    assert planning("plans", "check", "2026", "--version", "1").code == 0
    assert planning("plans", "show", "2027").code == 1
    log = planning("audit", "log", "--command", "plans import", "--json").json()
    assert [e["payload"]["result"] for e in log] == ["inserted", "unchanged", "inserted"]


def test_plan_needs_its_checklist_version(store, tmp_path):
    result = store("plans", "import", PLAN)
    assert result.code == 1 and "checklist version 2026.1 is not in the store" in result.err


def test_scope_selecting_nothing_is_a_warning_exit_0(planning, tmp_path):
    data = example()
    data["tasks"][6]["scope"] = {"directory": {"industry": ["食品销售"], "region": ["不存在的镇"]}}
    assert planning("plans", "import", write(tmp_path / "p.yaml", data)).code == 0
    result = planning("plans", "check", "2026", "--json")
    assert result.code == 0
    assert [(w["field"], w["value"]) for w in result.json()["warnings"]] == [("tasks[6].scope", "0")]


def test_schema_problem_in_plan_is_exit_3_and_nothing_written(planning, tmp_path, store_env):
    data = example()
    data["tasks"][0]["window"].pop("end")
    result = planning("plans", "import", write(tmp_path / "p.yaml", data))
    assert result.code == 3 and "tasks[0].window.end" in result.err
    with connect(store_env) as conn:
        assert conn.execute("SELECT COUNT(*) FROM plan").fetchone()[0] == 0


def test_publish_dry_run_freezes_nothing_and_writes_nothing(planning, tmp_path, store_env):
    assert planning("plans", "import", PLAN).code == 0
    dry = planning("plans", "publish", "2026", "-o", tmp_path, "--dry-run", "--json")
    assert dry.code == 0 and dry.json()["result"] == "published" and dry.json()["dry_run"] is True
    assert list(tmp_path.glob("plan-2026.*")) == []
    with connect(store_env) as conn:
        assert conn.execute("SELECT published_at FROM plan").fetchone()[0] is None
        assert conn.execute("SELECT COUNT(*) FROM audit_log WHERE command = 'plans publish'").fetchone()[0] == 0
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    no_folder = planning("plans", "publish", "2026", "-o", tmp_path / "a-file" / "公示")  # cannot be made
    assert no_folder.code == 1 and "Cannot create the folder" in no_folder.err
    with connect(store_env) as conn:  # the failed write undid the publication
        assert conn.execute("SELECT published_at FROM plan").fetchone()[0] is None
