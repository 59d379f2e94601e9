"""Publication 公示 (第十五条 谁检查、谁录入、谁公开): one department's publishable results."""

import csv
import hashlib
import json

import openpyxl
import pytest

from conftest import DBError, connect
from test_results import audit_entries, fill, make_joint_draw, selected, template


HEADERS = ["统一社会信用代码", "企业名称", "抽查任务编号", "抽查任务名称", "抽查类型", "抽查机关", "抽查完成日期", "检查事项", "抽查结果"]


@pytest.fixture
def draw(store, tmp_path):
    """SCJG's results all in, one withheld; RS's results in for all but the last entity."""
    draw = make_joint_draw(store, tmp_path)

    def values(r, item):
        if r == 3:
            return {"是否公示": "否", "不公示理由": "涉及商业秘密"}
        if r == 4:
            return {"检查结果": "发现问题经责令已改正", "检查日期": "2026-08-20", "分次检查理由": "复查整改情况"}
        return {}

    assert store("results", "import", draw, fill(template(store, tmp_path), tmp_path / "scjg.xlsx", values)).code == 0
    for entity in selected(store, draw)[:-1]:
        assert store("results", "record", draw, "--entity", entity, "--item", "LZ-17-2", "--result", "未发现问题",
                     "--date", "2026-08-03").code == 0
    return draw


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_publish_writes_only_the_departments_rows_and_withholds_with_reason(draw, store, tmp_path, store_env):
    entities = selected(store, draw)
    out = tmp_path / "SCJG-公示.csv"
    result = store("publish", draw, "--dept", "SCJG", "-o", out, "--json")
    assert result.code == 0, result.err
    data = result.json()
    rows = read_csv(out)
    assert rows[0] == HEADERS
    body = [dict(zip(HEADERS, r)) for r in rows[1:]]
    assert len(body) == len(entities) * 2 - 1 == data["rows"] == data["published"]
    assert {r["检查事项"] for r in body} == {"年度报告公示信息真实性（住所、出资、股东股权、网站网店等）", "企业即时信息公示情况"}
    assert {r["抽查机关"] for r in body} == {"连州市市场监督管理局"}
    assert {(r["抽查任务编号"], r["抽查类型"]) for r in body} == {("2026-T1", "部门联合抽查")}
    # the withheld result (row 3: the first entity's second item) is not in the file
    assert [r["检查事项"] for r in body if r["统一社会信用代码"] == entities[0]] == ["年度报告公示信息真实性（住所、出资、股东股权、网站网店等）"]
    second = [r for r in body if r["统一社会信用代码"] == entities[1]]
    assert {r["抽查完成日期"] for r in second} == {"2026-08-20"}  # the day its last item was checked
    assert "发现问题已责令改正" in {r["抽查结果"] for r in second}
    assert (data["withheld"], data["withheld_by_reason"], data["incomplete_entities"]) == (1, {"涉及商业秘密": 1}, 0)

    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    assert data["sha256"] == sha
    entry = audit_entries(store, "publish")[-1]
    assert entry["payload"]["sha256"] == sha and entry["payload"]["department"] == "SCJG"
    assert entry["payload"]["withheld_by_reason"] == {"涉及商业秘密": 1}
    with connect(store_env) as conn:
        assert conn.execute("SELECT draw_id, department, sha256, row_count, operator, audit_seq FROM publication").fetchall() == [
            (draw, "SCJG", sha, len(body), "tester", entry["seq"])]
        with pytest.raises(DBError, match="frozen"):
            conn.execute("UPDATE publication SET sha256 = 'x'")
    assert not list(tmp_path.glob(".*partial*"))


def test_each_department_publishes_its_own_and_incomplete_entities_are_counted(draw, store, tmp_path):
    entities = selected(store, draw)
    out = tmp_path / "RS.json"
    data = store("publish", draw, "--dept", "RS", "-o", out, "--json").json()
    body = json.loads(out.read_text(encoding="utf-8"))
    assert body["department"] == "RS" and body["authority"] == "连州市人力资源和社会保障局"
    assert [r["uscc"] for r in body["rows"]] == entities[:-1]
    assert {r["item"] for r in body["rows"]} == {"年度报告中社会保险信息与参保缴费情况一致性"}
    assert (data["incomplete_entities"], data["incomplete"][0]["uscc"], data["incomplete"][0]["missing"]) == (1, entities[-1], ["LZ-17-2"])
    assert audit_entries(store, "publish")[-1]["payload"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()

    xlsx = tmp_path / "SCJG-公示.xlsx"
    assert store("publish", draw, "--dept", "SCJG", "-o", xlsx).code == 0
    sheet = openpyxl.load_workbook(xlsx).worksheets[0]
    assert [c.value for c in sheet[1]] == HEADERS and sheet.max_row == len(entities) * 2  # header + 2n − 1 rows
    assert [e["payload"]["sha256"] for e in audit_entries(store, "publish")][-1] == hashlib.sha256(xlsx.read_bytes()).hexdigest()


def test_nothing_publishable_and_dry_run_write_nothing(draw, store, tmp_path, store_env):
    before = len(store("audit", "log", "--json").json())
    dry = store("publish", draw, "--dept", "SCJG", "-o", tmp_path / "x.csv", "--dry-run", "--json")
    assert dry.code == 0 and dry.json()["rows"] > 0 and dry.json()["file"] is None
    assert not (tmp_path / "x.csv").exists()
    wrong = store("publish", draw, "--dept", "SW", "-o", tmp_path / "y.csv")
    assert wrong.code == 1 and "does not execute" in wrong.err
    assert store("publish", draw, "--dept", "SCJG", "-o", tmp_path / "y.txt").code == 2
    assert len(store("audit", "log", "--json").json()) == before
    with connect(store_env) as conn:
        assert conn.execute("SELECT COUNT(*) FROM publication").fetchone()[0] == 0


def test_a_department_with_no_results_has_nothing_to_publish(store, tmp_path, store_env):
    draw = make_joint_draw(store, tmp_path)
    result = store("publish", draw, "--dept", "RS", "-o", tmp_path / "rs.csv")
    assert result.code == 1 and "no publishable results" in result.err
    assert not (tmp_path / "rs.csv").exists() and not list(tmp_path.glob(".*partial*"))
    with connect(store_env) as conn:
        assert conn.execute("SELECT COUNT(*) FROM publication").fetchone()[0] == 0


def test_a_publication_that_cannot_be_written_whole_keeps_the_old_file_and_records_nothing(draw, store, tmp_path, monkeypatch):
    """`publish` goes through files.replacing: --force is needed to replace, and a write that cannot
    reach the disk leaves the earlier publication, no temporary file and no second record."""
    import shuangsuiji.files as files

    out = tmp_path / "SCJG-公示.csv"
    assert store("publish", draw, "--dept", "SCJG", "-o", out).code == 0
    before, records = out.read_bytes(), len(audit_entries(store, "publish"))
    refused = store("publish", draw, "--dept", "SCJG", "-o", out)
    assert refused.code == 1 and "already exists" in refused.err and "--force" in refused.err

    def fails(path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "_fsync", fails)
    failed = store("publish", draw, "--dept", "SCJG", "-o", out, "--force")
    assert failed.code == 1 and f"Cannot write {out}: No space left on device" in failed.err
    assert out.read_bytes() == before and len(audit_entries(store, "publish")) == records
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
