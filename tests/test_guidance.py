"""What a new user hits (issue 13): the wrong order named with the command to run, bad filter
values refused with the valid ones, hints for a wrong draw id, exit codes a cron loop can act
on, one name for a department option, officers by name, a checklist checked with no store."""

from __future__ import annotations

import json
import re

import openpyxl
import pytest

from conftest import EXAMPLES, ROOT, run_process
from test_draws import make_task
from test_results import make_joint_draw

CHECKLIST = ROOT / "checklists" / "lianzhou-joint-checklist.yaml"


def without_inspectors(store):
    """The store's cli, with `draws inspectors` skipped (make_joint_draw's last step)."""
    def run(*args):
        if args[:2] == ("draws", "inspectors"):
            return type("Skipped", (), {"code": 0, "err": ""})()
        return store(*args)
    return run


# ---------------------------------------------------------------- 2. the wrong order


def test_dispatch_before_inspectors_warns_naming_the_command(store, tmp_path):
    draw = make_joint_draw(without_inspectors(store), tmp_path)
    out = tmp_path / "名单.csv"
    early = store("draws", "dispatch", draw, "--dept", "SCJG", "-o", out)
    assert early.code == 0  # 第九条 sends the list before 第十条's officers are drawn
    assert f"draws inspectors {draw}" in early.err and "no officers yet" in early.err
    assert store("draws", "inspectors", draw).code == 0
    later = store("draws", "dispatch", draw, "--dept", "SCJG", "-o", out, "--force")
    assert later.code == 0 and "no officers" not in later.err


def test_an_early_archive_warns_naming_what_to_run(store, tmp_path):
    draw = make_joint_draw(without_inspectors(store), tmp_path)
    early = store("archive", draw, "-o", tmp_path / "early.zip", "--json")
    assert early.code == 0
    warnings = early.json()["warnings"]
    assert any(f"`shuangsuiji draws inspectors {draw}`" in w for w in warnings)
    assert any(f"`shuangsuiji results template {draw}" in w for w in warnings)
    assert f"draws inspectors {draw}" in early.err
    assert store("draws", "inspectors", draw).code == 0
    entity = store("draws", "show", draw, "--json").json()["selected"][0]["uscc"]
    assert store("results", "record", draw, "--entity", entity, "--item", "LZ-17-2", "--result", "未发现问题",
                 "--date", "2026-08-04").code == 0
    partial = store("archive", draw, "-o", tmp_path / "partial.zip", "--json").json()["warnings"]
    assert len(partial) == 1 and re.search(rf"still lacks \d+ result\(s\) \(`shuangsuiji results status {draw}`\)", partial[0])


# ---------------------------------------------------------------- 6. bad filter values


@pytest.mark.parametrize("args, valid", [
    (["objects", "list", "--risk-class", "E"], "A, B, C, D"),
    (["objects", "list", "--status", "营业"], "存续, 在业, 吊销, 注销, 撤销, 迁出"),
    (["inspectors", "list", "--dept", "XX"], "SCJG"),
    (["inspectors", "list", "--department", "XX"], "SCJG"),
    (["inspectors", "list", "--status", "出差"], "在岗, 休假"),
    (["followups", "list", "--dept", "XX"], "SCJG"),
], ids=["risk-class", "status", "dept", "department-alias", "inspector-status", "followups-dept"])
def test_a_bad_filter_value_exits_2_listing_the_valid_ones(store, args, valid):
    result = store(*args, "--json")
    assert result.code == 2, result.err
    assert "is not valid; valid values:" in result.err and valid in result.err
    assert json.loads(result.out)["exit_code"] == 2  # no empty list on stdout


def test_valid_filter_values_and_their_aliases_still_work(store):
    high = store("objects", "list", "--risk-class", "高风险", "--json").json()
    assert high and {r["risk_class"] for r in high} == {"D"}
    assert store("objects", "list", "--status", "存续", "--risk-class", "d", "--json").code == 0
    assert store("inspectors", "list", "--dept", "scjg", "--json").json()


def test_a_filter_naming_an_unknown_task_or_draw_exits_2_with_a_hint(store, tmp_path):
    task = make_task(store, tmp_path)
    no_task = store("draws", "list", "--task", "2099-01")
    assert no_task.code == 2 and "No task 2099-01" in no_task.err
    no_draw = store("followups", "list", "--draw", f"{task}-D1")
    assert no_draw.code == 2 and f"`shuangsuiji draws run {task}`" in no_draw.err


def test_results_filters_that_no_result_can_match_exit_2(store, tmp_path):
    draw = make_joint_draw(store, tmp_path)
    dept = store("results", "list", draw, "--dept", "XX")
    assert dept.code == 2 and "does not execute task" in dept.err and "SCJG, RS" in dept.err
    entity = store("results", "history", draw, "--entity", "92441882MA5RY0380E")
    assert entity.code == 2 and f"not in the locked list of {draw}" in entity.err
    item = store("results", "history", draw, "--item", "LZ-99-9")
    assert item.code == 2 and "valid values: LZ-17-1, LZ-17-2, LZ-17-4" in item.err
    assert store("results", "list", draw, "--dept", "rs", "--json").json() == []  # valid, nothing recorded yet


# ---------------------------------------------------------------- 8. a task id, or a draw not made yet


def test_a_task_id_or_an_undrawn_draw_id_names_the_draws_or_draws_run(store, tmp_path):
    task = make_task(store, tmp_path)
    undrawn = store("draws", "show", f"{task}-D1")
    assert undrawn.code == 1
    assert f"No draw {task}-D1: task {task} has not been drawn yet (`shuangsuiji draws run {task}`)" in undrawn.err
    as_task = store("draws", "show", task)
    assert f"No draw {task}: that is a task id; it has not been drawn yet (`shuangsuiji draws run {task}`)" in as_task.err
    drawn = store("draws", "run", task, "--json").json()["draw"]
    assert store("draws", "void", drawn, "--reason", "测试", "--yes").code == 0
    second = store("draws", "run", task, "--json").json()["draw"]
    hint = store("draws", "show", task)
    assert f"that is a task id; its draws: {drawn} (void), {second} (locked)" in hint.err
    assert f"task {task} has the draws {drawn} (void), {second} (locked)" in store("draws", "export", f"{task}-D7", "-o",
                                                                                   tmp_path / "b.json").err
    assert "(`shuangsuiji draws list` lists them)" in store("draws", "show", "nothing-like-it").err


def test_the_hint_is_in_chinese_too(store, tmp_path):
    task = make_task(store, tmp_path)
    result = store("--lang", "zh", "draws", "show", task)
    assert f"没有抽取记录 {task}：这是任务编号，它尚未抽取（shuangsuiji draws run {task}）" in result.err


# ---------------------------------------------------------------- 9. exit codes a script can act on


def test_verify_of_an_unreadable_file_is_1_and_a_bad_bundle_is_3(store, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("this is not a bundle", encoding="utf-8")
    assert run_process("verify", text).code == 1
    binary = tmp_path / "photo.json"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not utf-8")
    assert run_process("verify", binary).code == 1
    assert run_process("verify", tmp_path / "missing.json").code == 1
    draw = make_joint_draw(store, tmp_path)
    bundle = tmp_path / "bundle.json"
    assert store("draws", "export", draw, "-o", bundle).code == 0
    assert run_process("verify", bundle).code == 0
    data = json.loads(bundle.read_text(encoding="utf-8"))
    data["strata"][0]["selected"][0]["ticket"] = "0.1"  # one ticket changed
    bundle.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert run_process("verify", bundle).code == 3


def test_already_done_is_exit_5_not_busy_4(store, tmp_path):
    draw = make_joint_draw(store, tmp_path)  # drawn, locked, officers drawn
    task = draw.rsplit("-D", 1)[0]
    again = run_process("draws", "run", task)
    assert again.code == 5 and "already has a locked draw" in again.err
    assert store("draws", "inspectors", draw).code == 5
    assert store("draws", "commit", task, "--dept", "SCJG").code == 5
    from shuangsuiji.errors import ExitCode

    assert (ExitCode.BUSY, ExitCode.ALREADY_DONE) == (4, 5)
    cli_doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "| 5 | ALREADY_DONE |" in cli_doc and "5 already done" in (ROOT / "README.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------- 10. --dept everywhere


def test_dept_is_the_one_name_and_department_a_hidden_alias(store, tmp_path):
    by_dept = store("inspectors", "list", "--dept", "SCJG", "--json").json()
    assert by_dept and by_dept == store("inspectors", "list", "--department", "SCJG", "--json").json()
    for command in (["inspectors", "list"], ["draws", "commit"]):
        shown = run_process(*command, "--help", env={"COLUMNS": "200"})
        assert "--dept" in shown.out and "--department" not in shown.out, command
    task = make_task(store, tmp_path)
    committed = store("draws", "commit", task, "--dept", "SCJG", "--department", "RS", "--json").json()
    assert sorted(s["label"] for s in committed["commitment"]["sources"] if s["kind"] == "department") == ["RS", "SCJG"]


# ---------------------------------------------------------------- 11. officers by name


def test_officers_are_shown_as_name_and_certificate(store, tmp_path):
    officers = {o["cert_no"]: o["name"] for o in store("inspectors", "list", "--json").json()}
    draw = make_joint_draw(without_inspectors(store), tmp_path)
    drawn = store("--lang", "zh", "draws", "inspectors", draw)
    assert drawn.code == 0
    teams = store("draws", "show", draw, "--json").json()["teams"]
    flat = re.sub(r"\s+", "", drawn.out)  # a narrow table may fold a cell over lines
    for member in teams[0]["members"]:
        assert f"{officers[member['officer']]}（{member['officer']}）" in flat
    out = tmp_path / "名单.xlsx"
    assert store("draws", "dispatch", draw, "--dept", "RS", "-o", out).code == 0
    sheet = openpyxl.load_workbook(out).worksheets[0]
    header = [c.value for c in sheet[1]]
    leader = sheet.cell(2, header.index("组长") + 1).value
    cert = re.fullmatch(r"(.+)（(.+)）", leader).group(2)
    assert leader == f"{officers[cert]}（{cert}）"
    for member in sheet.cell(2, header.index("检查小组") + 1).value.split("、"):
        name, cert = re.fullmatch(r"(.+)（(.+)）", member).groups()
        assert officers[cert] == name


# ---------------------------------------------------------------- 12. a checklist with no store


def test_checklists_validate_needs_no_store_and_checks_departments_with_one(store, tmp_path, store_env):
    text = CHECKLIST.read_text(encoding="utf-8").replace("SCJG", "XXJG")  # consistent, but not a department of the store
    unknown = tmp_path / "draft.yaml"
    unknown.write_text(text, encoding="utf-8")
    alone = run_process("checklists", "validate", CHECKLIST, "--json", cwd=tmp_path,
                        env={"SHUANGSUIJI_DB": str(tmp_path / "none.db")})
    assert alone.code == 0, alone.err
    assert alone.json()["ok"] and alone.json()["departments_checked"] is False
    assert "department codes were not checked" in alone.err and not (tmp_path / "none.db").exists()
    assert run_process("checklists", "validate", unknown, cwd=tmp_path, env={"SHUANGSUIJI_DB": str(tmp_path / "none.db")}).code == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("version:", "versio:", 1), encoding="utf-8")
    assert run_process("checklists", "validate", broken, env={"SHUANGSUIJI_DB": str(tmp_path / "none.db")}).code == 3
    checked = store("checklists", "validate", unknown, "--json")  # the store: the codes are checked
    assert checked.code == 3 and checked.json()["departments_checked"] is True
    assert any(p["value"] == "XXJG" for p in checked.json()["problems"])


# ---------------------------------------------------------------- 4. the README's nightly line, as cron runs it


def test_the_readme_nightly_sync_runs_without_a_terminal(store, tmp_path, store_env):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(ln for ln in readme.splitlines() if ln.startswith("shuangsuiji objects import") and "--sync" in ln)
    args = line.split("#")[0].split()[1:]
    assert args[:3] == ["objects", "import", "名录库.csv"] and "--yes" in args
    lines = (EXAMPLES / "objects.csv").read_text(encoding="utf-8-sig").splitlines()
    (tmp_path / "名录库.csv").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # one entity has left
    env = {"SHUANGSUIJI_DB": str(store_env)}
    without_yes = run_process(*[a for a in args if a != "--yes"], cwd=tmp_path, env=env, stdin="")
    assert without_yes.code == 2 and "--yes" in without_yes.err
    nightly = run_process(*args, "--json", cwd=tmp_path, env=env, stdin="")
    assert nightly.code == 0, nightly.err
    assert nightly.json()["removed"] == 1
