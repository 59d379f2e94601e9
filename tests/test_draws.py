"""Draws: seeded, locked, verifiable offline; commit-reveal; inspector teams (第九条 to 第十一条)."""

import csv
import json
import random
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest

from conftest import EXAMPLES, ROOT, DBError, connect, new_store
from shuangsuiji.domain.draw import sample, ticket
from shuangsuiji.domain.seed import combine, commit_hash

SEED = "31415926535897932384626433"


def make_task(cli, out_dir: Path, plan_task="2026-09"):
    """The example checklist and plan, published; one task created from the plan."""
    assert cli("checklists", "import", ROOT / "checklists" / "lianzhou-joint-checklist.yaml").code == 0
    assert cli("plans", "import", EXAMPLES / "plan-2026.yaml").code == 0
    published = cli("plans", "publish", "2026", "-o", out_dir, "--force")  # a second store may publish here too
    assert published.code == 0, published.err
    created = cli("tasks", "create", "--from-plan", "2026", "--plan-task", plan_task, "--json")
    assert created.code == 0, created.err
    return created.json()["id"]


@pytest.fixture
def task(store, tmp_path):
    return make_task(store, tmp_path)


def test_run_draws_locks_and_shows_tickets(store, task):
    result = store("draws", "run", task, "--seed", SEED, "--json")
    assert result.code == 0, result.err
    run = result.json()
    assert run["state"] == "locked" and run["seed"] == SEED and run["seed_provenance"] == {"kind": "given"}
    shown = store("draws", "show", run["draw"], "--json").json()
    by_stratum = {}
    for s in shown["selected"]:
        assert s["ticket"] == ticket(SEED, s["uscc"])
        by_stratum.setdefault(s["stratum"], []).append(s)
    for stratum in run["strata"]:
        chosen = by_stratum.get(stratum["name"], [])
        assert len(chosen) == stratum["take"] == stratum["selected"]
        assert [c["ticket"] for c in chosen] == sorted(c["ticket"] for c in chosen)


def test_result_depends_only_on_seed_and_the_set_of_ids(store, task, tmp_path, cli, monkeypatch):
    first = store("draws", "run", task, "--seed", SEED, "--json").json()
    chosen = [s["uscc"] for s in store("draws", "show", first["draw"], "--json").json()["selected"]]
    # Another store: the same directory in another row order (so other database ids).
    with open(EXAMPLES / "objects.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    random.Random(7).shuffle(body)
    shuffled = tmp_path / "shuffled.csv"
    with open(shuffled, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *body])
    monkeypatch.setenv("SHUANGSUIJI_DB", str(new_store(tmp_path, "other")))
    assert cli("init").code == 0
    assert cli("departments", "import", EXAMPLES / "departments.yaml").code == 0
    assert cli("objects", "import", shuffled).code == 0
    other_task = make_task(cli, tmp_path)
    second = cli("draws", "run", other_task, "--seed", SEED, "--json").json()
    assert [s["uscc"] for s in cli("draws", "show", second["draw"], "--json").json()["selected"]] == chosen


def test_no_second_draw_and_void_keeps_history(store, task, store_env):
    first = store("draws", "run", task, "--json").json()
    assert first["seed_provenance"]["kind"] == "csprng" and re.fullmatch(r"[0-9a-f]{64}", first["seed"])
    again = store("draws", "run", task, "--seed", "another")
    assert again.code == 5 and "already has a locked draw" in again.err
    assert store("draws", "void", first["draw"], "--reason", "名录库数据有误", "--yes").code == 0
    second = store("draws", "run", task, "--seed", SEED, "--json").json()
    assert second["draw"].endswith("-D2")
    listed = store("draws", "list", "--json").json()
    assert [(d["id"], d["state"], d["void_reason"]) for d in listed] == [
        (first["draw"], "void", "名录库数据有误"), (second["draw"], "locked", None)]
    commands = [e["command"] for e in store("audit", "log", "--json").json()]
    assert commands.count("draws run") == 2 and commands.count("draws void") == 1


def test_store_refuses_changes_to_a_locked_draw(store, task, store_env):
    draw = store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]
    with connect(store_env) as conn:
        for sql in (
            "UPDATE draw_selection SET uscc = '91350100M000100Y43' WHERE position = 1",
            "DELETE FROM draw_selection",
            "UPDATE draw_stratum SET ids = ''",
            f"UPDATE draw SET seed = 'other' WHERE id = '{draw}'",
            f"UPDATE draw SET state = 'committed' WHERE id = '{draw}'",
            f"DELETE FROM draw WHERE id = '{draw}'",
        ):
            with pytest.raises(DBError, match="frozen|never changes"):
                conn.execute(sql)
    assert store("draws", "verify", draw).code == 0


def test_bundle_verifies_offline_and_every_edit_is_named(store, task, tmp_path):
    draw = store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]
    assert store("draws", "inspectors", draw).code == 0
    path = tmp_path / "bundle.json"
    assert store("draws", "export", draw, "-o", path).code == 0
    ok = store("verify", path, "--json")
    assert ok.code == 0 and ok.json() == {"ok": True, "draw": draw, "state": "locked", "void": None, "earlier_attempts": 0}
    original = json.loads(path.read_text(encoding="utf-8"))
    big = max(original["strata"], key=lambda s: s["size"])
    i = original["strata"].index(big)

    def edited(change):
        data = json.loads(json.dumps(original))
        change(data)
        target = tmp_path / "edited.json"
        target.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        result = store("verify", target, "--json")
        assert result.code == 3, result.out
        return result.json()

    assert edited(lambda b: b["seed"].update(value="0")) ["field"].startswith(f"strata[{big['name']}].selected")
    assert edited(lambda b: b["strata"][i]["population"].append("91350100M000100Y43"))["field"] == f"strata[{big['name']}].population_sha256"
    assert "ticket" in edited(lambda b: b["strata"][i]["selected"][0].update(ticket="0.1"))["message"]
    assert edited(lambda b: b["strata"][i]["selected"].reverse())["field"].startswith(f"strata[{big['name']}].selected")
    assert edited(lambda b: b["strata"][i].update(take=big["take"] + 1))["field"] == f"strata[{big['name']}].take"
    assert "unexpected field" in edited(lambda b: b.update(extra=1))["message"]
    assert "missing field" in edited(lambda b: b["strata"][i].pop("ratio"))["message"]
    other = next(s for s in original["strata"] if s is not big and s["population"])
    j = original["strata"].index(other)
    two = edited(lambda b: b["strata"][i]["population"].append(b["strata"][j]["population"][0]))
    assert "population" in two["field"]
    assert edited(lambda b: b["inspectors"]["assignment"]["teams"][0]["members"].reverse())["field"] == "inspectors.assignment"


def test_commit_reveal_end_to_end(store, task, tmp_path):
    committed = store("draws", "commit", task, "--department", "SCJG", "--department", "RS",
                      "--dice", "2026-04-01 连州市市场监管局会议室", "--json")
    assert committed.code == 0, committed.err
    draw = committed.json()["draw"]
    assert store("draws", "run", task, "--dice", "31415926535897932384").code == 1  # secrets not yet revealed
    assert store("draws", "contribute", task, "--dept", "SCJG", "--commit", commit_hash("scjg-secret")).code == 0
    assert store("draws", "contribute", task, "--dept", "RS", "--commit", commit_hash("rs-secret")).code == 0
    wrong = store("draws", "reveal", task, "--dept", "RS", "--secret", "not-it")
    assert wrong.code == 3 and "does not match" in wrong.err
    assert store("draws", "reveal", task, "--dept", "RS", "--secret", "rs-secret").code == 0
    assert store("draws", "reveal", task, "--dept", "SCJG", "--secret", "scjg-secret").code == 0
    assert store("draws", "run", task, "--seed", "shopping").code == 2  # no seed of one's choosing
    result = store("draws", "run", task, "--dice", "31415926535897932384", "--json")
    assert result.code == 0, result.err
    expected = combine([("department", "SCJG", "scjg-secret"), ("department", "RS", "rs-secret"),
                        ("dice", "2026-04-01 连州市市场监管局会议室", "31415926535897932384")])
    assert result.json()["seed"] == expected and result.json()["draw"] == draw
    path = tmp_path / "b.json"
    assert store("draws", "export", draw, "-o", path).code == 0
    assert store("verify", path).code == 0
    data = json.loads(path.read_text(encoding="utf-8"))
    data["seed"]["contributions"][0]["secret"] = "forged"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert "does not match its commitment" in store("verify", path, "--json").json()["message"]


def test_changed_population_after_commit_is_refused(store, task, tmp_path, store_env):
    assert store("draws", "commit", task, "--dice", "ceremony", "--json").code == 0
    with open(EXAMPLES / "objects.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    live = next(r for r in rows[1:] if r[6] in ("存续", "在业") and r[2] == "有限责任公司")  # in the task's scope
    live[6] = "注销"
    changed = tmp_path / "changed.csv"
    with open(changed, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    assert store("objects", "import", changed).code == 0
    with connect(store_env) as conn:
        before = conn.execute("SELECT COUNT(*) FROM draw_selection").fetchone()[0]
    refused = store("draws", "run", task, "--dice", "1234567890123")
    assert refused.code == 3 and "population changed since the commitment" in refused.err
    with connect(store_env) as conn:
        assert conn.execute("SELECT COUNT(*) FROM draw_selection").fetchone()[0] == before == 0


def test_teams_follow_the_rules_and_replacement_is_reproducible(store, task, tmp_path):
    draw = store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]
    teams = store("draws", "inspectors", draw, "--json")
    assert teams.code == 0, teams.err
    data = teams.json()
    officers = {o["cert_no"]: o for o in store("inspectors", "list", "--json").json()}
    conflicts = {(c["cert_no"], c["uscc"]) for c in store("conflicts", "list", "--json").json()}
    for team in data["teams"]:
        members = team["members"]
        assert len(members) >= 2
        assert members[0]["department"] == "SCJG"  # 第十一条: the leader is from the initiating department
        assert {m["department"] for m in members} >= {"RS", "SW"}
        for m in members:
            officer = officers[m["officer"]]
            assert officer["status"] == "在岗" and officer["cert_expires_on"] >= "2026-11-30"
            assert (m["officer"], team["entity"]) not in conflicts
    for dept in ("SCJG", "RS", "SW"):
        loads = [n for cert, n in data["loads"].items() if officers[cert]["department"] == dept]
        assert max(loads) - min(loads) <= 1
    leaving = data["teams"][0]["members"][1]["officer"]
    replaced = store("draws", "replace", draw, "--officer", leaving, "--reason", "健康", "--json")
    assert replaced.code == 0, replaced.err
    shown = store("draws", "show", draw, "--json").json()
    assert all(leaving not in [m["officer"] for m in t["members"]] for t in shown["teams"])
    path = tmp_path / "bundle.json"
    assert store("draws", "export", draw, "-o", path).code == 0
    assert store("verify", path).code == 0  # the replacement is recomputed from the bundle alone
    bad = store("draws", "replace", draw, "--officer", leaving, "--reason", "心情")
    assert bad.code == 2


def test_dispatch_lists_for_each_department(store, task, tmp_path):
    draw = store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]
    assert store("draws", "inspectors", draw).code == 0
    out = tmp_path / "RS.xlsx"
    assert store("draws", "dispatch", draw, "--dept", "RS", "-o", out).code == 0
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "统一社会信用代码", "名称")
    selected = store("draws", "show", draw, "--json").json()["selected"]
    assert [r[1] for r in rows[1:]] == [s["uscc"] for s in selected]
    assert store("draws", "dispatch", draw, "--dept", "WJ", "-o", tmp_path / "x.csv").code == 1


def test_documented_seed_vector():
    seed = combine([
        ("dice", "2026-04-01 连州市市场监管局会议室", "31415926535897932384"), ("department", "WJ", "wj-2026-secret"),
        ("beacon", "drand quicknet round 12345678", "8f2e5c"), ("department", "SCJG", "lz-scjg-7f3a"),
    ])
    doc = (ROOT / "docs" / "verifying.md").read_text(encoding="utf-8")
    assert f"seed:  {seed}" in doc
    assert commit_hash("lz-scjg-7f3a") in doc and commit_hash("wj-2026-secret") in doc
    drawn = sample(["914418823019003011", "91441882MA4UXXXX1", "92441882MA0MWNW24Q"], seed, 2)
    assert [d.id for d in drawn] == ["92441882MA0MWNW24Q", "91441882MA4UXXXX1"]
    assert drawn[0].ticket.startswith("0.46473615") and drawn[1].ticket.startswith("0.57547476")


def test_documented_stdlib_script_and_consistent_sampler_check_a_bundle(store, task, tmp_path):
    draw = store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]
    path = tmp_path / "bundle.json"
    assert store("draws", "export", draw, "-o", path).code == 0
    doc = (ROOT / "docs" / "verifying.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    script = tmp_path / "check.py"
    script.write_text(blocks[0], encoding="utf-8")
    assert len(blocks[0].strip().splitlines()) <= 30
    done = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and "selection verified" in done.stdout, done.stderr
    other = tmp_path / "cs.py"
    other.write_text(blocks[1].replace('"bundle.json"', repr(str(path))), encoding="utf-8")
    done = subprocess.run([sys.executable, str(other)], capture_output=True, text=True)
    assert done.returncode == 0 and "identical to consistent_sampler" in done.stdout, done.stderr


def test_impossible_team_rule_names_entity_and_rule_and_changes_nothing(store, tmp_path, store_env):
    assert store("checklists", "import", ROOT / "checklists" / "lianzhou-joint-checklist.yaml").code == 0
    text = (EXAMPLES / "task-2026-canteens-adhoc.yaml").read_text(encoding="utf-8")
    text = text.replace("expertise: {SCJG: [食品安全]}", "expertise: {SCJG: [没有人有的专长]}")
    path = tmp_path / "task.yaml"
    path.write_text(text, encoding="utf-8")
    assert store("tasks", "create", "--file", path).code == 0
    draw = store("draws", "run", "2026-L01", "--seed", SEED, "--json").json()["draw"]
    first = store("draws", "show", draw, "--json").json()["selected"][0]["uscc"]
    with connect(store_env) as conn:
        log_before = conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    result = store("draws", "inspectors", draw)
    assert result.code == 3
    assert f"entity '{first}'" in result.err and "rule leader" in result.err and "'SCJG'" in result.err
    with connect(store_env) as conn:
        assert conn.execute("SELECT COUNT(*) FROM draw_team").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM draw_inspector_pool").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == log_before


def test_a_stored_conflict_with_a_drawn_entity_keeps_that_officer_off_its_team(store, task, tmp_path):
    """第十条 回避: the example conflicts touch no drawn entity, so declare one that does. The same
    seed draws the same teams; with the conflict, the officer first drawn for the entity is not."""
    first = store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]
    assert store("draws", "inspectors", first).code == 0
    team = store("draws", "show", first, "--json").json()["teams"][0]
    entity, officer = team["entity"], team["members"][1]["officer"]
    assert store("--operator", "alice", "draws", "void", first, "--reason", "回避未录入", "--yes").code == 0
    assert store("--operator", "bob", "draws", "void", first, "--confirm", "--yes").code == 0
    declared = tmp_path / "conflict.csv"
    declared.write_text(f"cert_no,uscc,reason\n{officer},{entity},近亲属经营\n", encoding="utf-8")
    assert store("conflicts", "import", declared).code == 0
    second = store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]
    assert second != first
    drawn = store("draws", "inspectors", second, "--json").json()
    [again] = [t for t in drawn["teams"] if t["entity"] == entity]
    assert officer not in [m["officer"] for m in again["members"]]
    [logged] = [e for e in store("audit", "log", "--command", "draws inspectors", "--json").json() if e["payload"]["draw"] == second]
    assert logged["payload"]["conflicts"] == 1
    assert store("db", "check").code == 0


def test_a_certificate_expiring_on_the_last_day_of_the_window_is_eligible(store, task, tmp_path):
    """第十条: the 执法证 must be valid through the task's window; its last day counts, the day before not."""
    end = date.fromisoformat(store("tasks", "show", task, "--json").json()["definition"]["window"]["end"])
    extra = tmp_path / "officers.csv"
    extra.write_text("cert_no,name,department,cert_expires_on,expertise,region,status\n"
                     f"44188201901,边界甲,SCJG,{end},食品安全;企业年报,全市,在岗\n"
                     f"44188201902,边界乙,SCJG,{end - timedelta(days=1)},食品安全;企业年报,全市,在岗\n", encoding="utf-8")
    assert store("inspectors", "import", extra).code == 0
    draw = store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]
    assert store("draws", "inspectors", draw).code == 0
    out = tmp_path / "bundle.json"
    assert store("draws", "export", draw, "-o", out).code == 0
    pool = [o["id"] for o in json.loads(out.read_text(encoding="utf-8"))["inspectors"]["pools"]["SCJG"]]
    assert "44188201901" in pool and "44188201902" not in pool
