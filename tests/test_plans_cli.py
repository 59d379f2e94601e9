"""`plans`: import versions, check (第七条), show, list, publish (freeze, audit, XLSX + Markdown)."""

import json
from datetime import date

import openpyxl
import pytest
import yaml

from conftest import EXAMPLES, ROOT, DBError, connect
from shuangsuiji.domain.plan import Plan

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
    return {"year": 2026, "checklist_version": "2026.1", "title": "测试计划", "tasks": tasks}


def test_example_plan_imports_checks_and_publishes(planning, tmp_path, store_env):
    imported = planning("plans", "import", PLAN, "--json")
    assert imported.code == 0, imported.err
    data = imported.json()
    assert (data["year"], data["version"], data["result"], data["problems"]) == (2026, 1, "inserted", 0)

    check = planning("plans", "check", "2026", "--json")
    assert check.code == 0, check.out
    report = check.json()
    assert report["ok"] is True and report["problems"] == []
    # Warnings only: not yet published (31 March has passed by the real clock) and the 第七条 flags.
    assert {w["field"] for w in report["warnings"]} <= {"published_on", "single_department_tasks"}
    scjg = next(r for r in report["ratios"] if r["department"] == "SCJG")
    assert scjg["lead_tasks"] == 32 and scjg["outside_tasks"] == 25 and scjg["ok"] is True
    table = planning("plans", "check", "2026")
    assert table.code == 0 and "no problems" in table.err and "SCJG" in table.out

    out = tmp_path / "portal"
    out.mkdir()
    published = planning("plans", "publish", "2026", "-o", out, "--json")
    assert published.code == 0, published.err
    pub = published.json()
    assert pub["result"] == "published" and pub["version"] == 1 and pub["amendment"] == 0
    assert pub["published_on"] == pub["published_at"][:10] == pub["original_published_on"]  # the day it ran

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
    assert "SCJG（连州市市场监督管理局） leads 12 spot-check task(s) (0 single-department outside the joint plan), 1 of them joint, 8.3%, below 10%" in result.out
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


def test_publication_date_is_recorded_a_typed_one_is_a_claim_and_amendments_are_recorded(planning, tmp_path, store_env):
    # 第七条: the date is the day `plans publish` runs (here the real clock, after 31 March):
    # recorded as late, not refused; a typed published_on is shown as a claim, never trusted.
    data = example()
    data["published_on"] = date(2026, 3, 20)
    assert planning("plans", "import", write(tmp_path / "v1.yaml", data)).code == 0
    published = planning("plans", "publish", "2026", "-o", tmp_path, "--json")
    assert published.code == 0, published.err
    pub = published.json()
    today = pub["published_at"][:10]
    assert (pub["published_on"], pub["claimed_published_on"], pub["amendment"]) == (today, "2026-03-20", 0)
    assert pub["on_time"] is (today <= "2026-03-31")
    assert any("only a claim" in w["message"] for w in pub["warnings"])
    markdown = (tmp_path / "plan-2026.md").read_text(encoding="utf-8")
    assert f"- 公布日期：{today}（{'按期公布' if pub['on_time'] else '逾期公布，应于 2026-03-31 前'}；工具记录）" in markdown
    assert "- 文件所写公布日期：2026-03-20（仅为声称，未采信）" in markdown
    assert planning("plans", "publish", "2026", "-o", tmp_path).code == 1  # its documents are there
    text_out = planning("plans", "publish", "2026", "-o", tmp_path, "--force")
    assert text_out.code == 0 and "unchanged" in text_out.err
    original = (tmp_path / "plan-2026.md").read_text(encoding="utf-8")

    # A changed plan published afterwards is amendment 1, with its own recorded date.
    data["tasks"][1]["ratios"]["A"] = 0.06
    assert planning("plans", "import", write(tmp_path / "v2.yaml", data)).code == 0
    amended = planning("plans", "publish", "2026", "-o", tmp_path, "--json")
    assert amended.code == 0, amended.err
    amended = amended.json()
    assert (amended["version"], amended["amendment"], amended["original_published_on"]) == (2, 1, today)
    shown = planning("plans", "show", "2026", "--json").json()
    assert [(p["version"], p["amendment"]) for p in shown["publications"]] == [(1, 0), (2, 1)]
    assert shown["published_on"] == amended["published_on"] and shown["claimed_published_on"] == "2026-03-20"
    # The amendment has its own documents; the ones published before are left as they were.
    assert "- 第 1 次修订：" in (tmp_path / "plan-2026-amendment-1.md").read_text(encoding="utf-8")
    assert (tmp_path / "plan-2026.md").read_text(encoding="utf-8") == original
    assert amended["files"] == [str(tmp_path / "plan-2026-amendment-1.xlsx"), str(tmp_path / "plan-2026-amendment-1.md")]
    report = planning("reports", "plan", "2026", "--json").json()
    assert report["summary"]["published_on"] == today and report["summary"]["amendments"] == 1
    assert report["summary"]["timeliness"] == ("on_time" if pub["on_time"] else "late")
    # An older version cannot be published after a newer one.
    data["tasks"][1]["ratios"]["A"] = 0.07
    assert planning("plans", "import", write(tmp_path / "v3.yaml", data)).code == 0
    data["tasks"][1]["ratios"]["A"] = 0.08
    assert planning("plans", "import", write(tmp_path / "v4.yaml", data)).code == 0
    assert planning("plans", "publish", "2026", "--version", "4", "-o", tmp_path).code == 0
    older = planning("plans", "publish", "2026", "--version", "3", "-o", tmp_path)
    assert older.code == 1 and "cannot be published after it" in older.err


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
    assert [(w["field"], w["value"]) for w in result.json()["warnings"] if w["field"].startswith("tasks")] == [("tasks[6].scope", "0")]


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


def test_show_names_the_claimed_date_and_lists_amendments(planning, tmp_path):
    data = example()
    data["published_on"] = date(2026, 3, 20)
    assert planning("plans", "import", write(tmp_path / "v1.yaml", data)).code == 0
    assert planning("plans", "publish", "2026", "-o", tmp_path).code == 0
    data["tasks"][1]["ratios"]["A"] = 0.06
    assert planning("plans", "import", write(tmp_path / "v2.yaml", data)).code == 0
    assert planning("plans", "publish", "2026", "-o", tmp_path).code == 0  # amendment 1: files of its own
    shown = planning("--lang", "en", "plans", "show", "2026")
    assert shown.code == 0
    assert "a claim" in shown.out and "2026-03-20" in shown.out and "Publication and amendments" in shown.out


def test_stored_content_leaves_out_unused_new_fields():
    # A plan stored before single_department_tasks / risk_scheme existed keeps its bytes.
    from shuangsuiji.services.plans import content_of, plan_from_content

    data = example()
    data.pop("single_department_tasks")
    plan = Plan.model_validate(data)
    content = json.loads(content_of(plan))
    assert "single_department_tasks" not in content and all("risk_scheme" not in t for t in content["tasks"])
    assert plan_from_content(content_of(plan)) == plan
    with_fields = Plan.model_validate(example())
    assert json.loads(content_of(with_fields))["single_department_tasks"]["SCJG"] == 25
