"""Teams after the draw (第十一条): replacement from today's directory, invalid teams flagged,
the team algorithm named in the bundle."""

from __future__ import annotations

import json

from conftest import connect
from test_draws import SEED, make_task

from shuangsuiji.domain import bundle as bundles
from shuangsuiji.domain.teams import Replacement, rebuild_assignment


def drawn(store, tmp_path):
    task = make_task(store, tmp_path)
    draw = store("draws", "run", task, "--seed", SEED, "--json").json()["draw"]
    result = store("draws", "inspectors", draw, "--json")
    assert result.code == 0, result.err
    assert result.json()["algorithm"] == "teams/2"
    assert result.json()["in_every_team"] == [] and "在全部" not in result.err and "is in all" not in result.err
    return draw


def bundle_of(store, draw, tmp_path):
    path = tmp_path / f"{draw}.json"
    assert store("draws", "export", draw, "-o", path, "--force").code == 0
    return path, json.loads(path.read_text(encoding="utf-8"))


def would_succeed(bundle, replacement: Replacement, entity: str) -> str:
    """Who the frozen pool alone would put in `entity`'s team for this replacement."""
    inspectors = bundle["inspectors"]
    entities = bundles.entities_in_order(bundle["strata"])
    previous = [Replacement.from_dict(r) for r in inspectors["replacements"]]
    after = rebuild_assignment(entities, bundles.team_draw(bundle["seed"]["value"], inspectors), [*previous, replacement])
    before = {t.entity: t for t in rebuild_assignment(entities, bundles.team_draw(bundle["seed"]["value"], inspectors), previous).teams}
    team = next(t for t in after.teams if t.entity == entity)
    return next(m.officer for m in team.members if m.officer not in {x.officer for x in before[entity].members})


def set_status(store, tmp_path, cert, status):
    officer = store("inspectors", "show", cert, "--json").json()
    path = tmp_path / f"{cert}.csv"
    path.write_text(
        "cert_no,name,department,cert_expires_on,expertise,region,status\n"
        f"{cert},{officer['name']},{officer['department']},{officer['cert_expires_on']},"
        f"{';'.join(officer['expertise'])},{officer['region']},{status}\n",
        encoding="utf-8",
    )
    assert store("inspectors", "import", path).code == 0


def declare_conflict(store, tmp_path, cert, uscc):
    path = tmp_path / f"c-{cert}.csv"
    path.write_text(f"cert_no,uscc,reason\n{cert},{uscc},近亲属经营\n", encoding="utf-8")
    result = store("conflicts", "import", path)
    assert result.code == 0, result.err


def test_replacement_skips_officers_who_left_and_conflicts_declared_since(store, tmp_path, store_env):
    draw = drawn(store, tmp_path)
    _, bundle = bundle_of(store, draw, tmp_path)
    teams = bundle["inspectors"]["teams"]["teams"]
    first = teams[0]
    leaving = first["members"][0]["officer"]  # the leader, from the initiating department
    # Whom the pool frozen at the draw would choose: that officer has been transferred (调离) since.
    gone = would_succeed(bundle, Replacement(leaving, "health"), first["entity"])
    set_status(store, tmp_path, gone, "调离")
    replaced = store("draws", "replace", draw, "--officer", leaving, "--reason", "健康", "--json")
    assert replaced.code == 0, replaced.err
    successor = replaced.json()["successors"][first["entity"]][0]
    assert successor not in (gone, leaving)
    assert store("inspectors", "show", successor, "--json").json()["status"] == "在岗"
    # The second: a conflict declared after the draw with the entity the successor would join.
    path, bundle = bundle_of(store, draw, tmp_path)
    member = bundle["inspectors"]["teams"]["teams"][1]["members"][0]  # SCJG has officers to spare
    entity = bundle["inspectors"]["teams"]["teams"][1]["entity"]
    recused = would_succeed(bundle, Replacement(member["officer"], "work", entity=entity, unavailable=frozenset({gone})), entity)
    declare_conflict(store, tmp_path, recused, entity)
    replaced = store("draws", "replace", draw, "--officer", member["officer"], "--reason", "工作", "--entity", entity, "--json")
    assert replaced.code == 0, replaced.err
    assert replaced.json()["successors"][entity][0] != recused
    # Reproducible: the bundle records what each replacement excluded, and verifies.
    path, bundle = bundle_of(store, draw, tmp_path)
    recorded = bundle["inspectors"]["replacements"]
    assert gone in recorded[0]["unavailable"]
    assert [recused, entity] in recorded[1]["conflicts"]
    assert bundle["inspectors"]["algorithm"] == "teams/2"
    assert store("verify", path).code == 0
    recorded[1]["conflicts"] = []  # drop what the choice depended on: it no longer replays
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    checked = store("verify", path, "--json")
    assert checked.code == 3 and checked.json()["field"] == "inspectors.teams"


def test_teams_that_became_invalid_are_flagged(store, tmp_path):
    draw = drawn(store, tmp_path)
    shown = store("draws", "show", draw, "--json").json()
    assert shown["team_problems"] == []
    team = shown["teams"][0]
    left, other = team["members"][0]["officer"], team["members"][1]["officer"]
    set_status(store, tmp_path, left, "调离")
    declare_conflict(store, tmp_path, other, team["entity"])
    expected = [{"draw": draw, "entity": team["entity"], "officer": left, "problem": "unavailable"},
                {"draw": draw, "entity": team["entity"], "officer": other, "problem": "conflict"}]
    shown = store("draws", "show", draw, "--json")
    assert [p for p in shown.json()["team_problems"] if p["entity"] == team["entity"]] == expected
    assert f"{left}" in shown.err and "draws replace" in shown.err
    checked = store("db", "check", "--json")
    assert checked.code == 3
    found = [p for p in checked.json()["problems"] if p["check"] == "teams"]
    assert f"({draw}, {team['entity']}, {other})" in [p["row"] for p in found]
    template = store("results", "template", draw, "--dept", "SCJG", "-o", tmp_path / "t.xlsx", "--json")
    assert template.code == 0, template.err
    assert expected[0] in template.json()["team_problems"] and "检查小组已失效" in template.err or "no longer valid" in template.err
    # Replacing both mends the teams: nothing is flagged any more.
    assert store("draws", "replace", draw, "--officer", left, "--reason", "岗位调整").code == 0
    assert store("draws", "replace", draw, "--officer", other, "--reason", "回避", "--entity", team["entity"]).code == 0
    assert store("draws", "show", draw, "--json").json()["team_problems"] == []
    assert not [p for p in store("db", "check", "--json").json()["problems"] if p["check"] == "teams"]


def test_old_bundles_without_a_team_algorithm_still_verify(store, tmp_path, store_env):
    """A draw whose teams were drawn before teams/2 (migration 7 marks it teams/1) keeps verifying."""
    draw = drawn(store, tmp_path)
    path, bundle = bundle_of(store, draw, tmp_path)
    inspectors = bundle["inspectors"]
    entities = bundles.entities_in_order(bundle["strata"])
    old = bundles.team_draw(bundle["seed"]["value"], {**inspectors, "algorithm": "teams/1"})
    teams = rebuild_assignment(entities, old, []).to_dict()
    del inspectors["algorithm"]
    inspectors["assignment"] = inspectors["teams"] = teams
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    assert store("verify", path).code == 0
    inspectors["algorithm"] = "teams/9"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    refused = store("verify", path, "--json")
    assert refused.code == 3 and refused.json()["field"] == "inspectors.algorithm"
    assert "teams/9" in refused.json()["message"] and "teams/1, teams/2" in refused.json()["message"]
    with connect(store_env) as conn:
        assert conn.execute("SELECT algorithm FROM draw_team_rule").fetchall() == [("teams/2",)]
