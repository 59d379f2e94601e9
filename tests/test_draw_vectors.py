"""Every vector in docs/draw-vectors.json, the ones published in docs/draw-algorithm.md."""

from __future__ import annotations

import hashlib
import json
import runpy
import sys
from pathlib import Path

import pytest

from shuangsuiji.domain.draw import (
    allocate,
    first_difference,
    inspector_seed,
    officer_order,
    sample,
    sample_reference,
    sample_strata,
    seed_hash,
    ticket,
)
from shuangsuiji.domain.teams import (
    Assignment,
    AssignmentError,
    Replacement,
    TeamDraw,
    assign_teams,
    assignment_difference,
    rebuild_assignment,
    verify_assignment,
)

VECTORS = json.loads((Path(__file__).parent.parent / "docs" / "draw-vectors.json").read_text(encoding="utf-8"))


def ids_of(name):
    return [v.get("name", v.get("id", "")) for v in VECTORS[name]]


def team_draw(case) -> TeamDraw:
    d = TeamDraw.from_dict(case)
    assert TeamDraw.from_dict(d.to_dict()).to_dict() == d.to_dict()
    return d


def test_every_section_is_present_and_non_empty():
    for section in ("tickets", "draws", "allocations", "strata", "inspector_draws", "teams", "team_errors"):
        assert VECTORS[section], section


@pytest.mark.parametrize("v", VECTORS["tickets"], ids=ids_of("tickets"))
def test_tickets(v):
    assert seed_hash(v["seed"]) == v["seed_hash"]
    assert ticket(v["seed"], v["id"]) == v["ticket"]
    # and straight from the byte-level definition in the spec
    value = int.from_bytes(hashlib.sha256((v["seed_hash"] + v["id"]).encode("utf-8")).digest(), "big")
    assert "0." + f"{value:064d}"[::-1] == v["ticket"]


@pytest.mark.parametrize("v", VECTORS["draws"], ids=ids_of("draws"))
def test_plain_draws(v):
    expected = [(e["id"], e["ticket"]) for e in v["expected"]]
    assert [tuple(s) for s in sample(v["ids"], v["seed"], v["k"])] == expected
    assert [tuple(s) for s in sample_reference(v["ids"], v["seed"], v["k"])] == expected
    assert first_difference(v["expected"], sample(v["ids"], v["seed"], v["k"])) is None
    assert [tuple(s) for s in sample(v["ids"][::-1], v["seed"], v["k"])] == expected


@pytest.mark.parametrize("v", VECTORS["allocations"])
def test_allocations(v):
    count = allocate(v["stratum_size"], v["ratio"], v["rule"], minimum=v["minimum"], maximum=v["maximum"])
    assert count == v["count"]


@pytest.mark.parametrize("v", VECTORS["strata"], ids=ids_of("strata"))
def test_strata(v):
    strata = {name: s["ids"] for name, s in v["strata"].items()}
    takes = {name: allocate(len(s["ids"]), s["ratio"], v["rule"]) for name, s in v["strata"].items()}
    assert takes == {name: e["k"] for name, e in v["expected"].items()}
    drawn = sample_strata(strata, v["seed"], takes)  # what `draws run` draws with and `verify` recomputes
    expected = {name: e["selection"] for name, e in v["expected"].items()}
    assert {name: [s._asdict() for s in sel] for name, sel in drawn.items()} == expected


@pytest.mark.parametrize("v", VECTORS["inspector_draws"], ids=[v["department"] for v in VECTORS["inspector_draws"]])
def test_inspector_draws(v):
    assert inspector_seed(v["seed"], v["department"]) == v["inspector_seed"]
    got = officer_order(v["officers"], v["seed"], v["department"])
    assert [s._asdict() for s in got] == v["expected"]


@pytest.mark.parametrize("case", VECTORS["teams"], ids=ids_of("teams"))
def test_teams_and_replacements(case):
    d = team_draw(case)
    assigned = assign_teams(case["entities"], d)
    assert assignment_difference(Assignment.from_dict(case["expected"]), assigned) is None
    replacements = [Replacement.from_dict(r) for r in case["replacements"]]
    assert [r.to_dict() for r in replacements] == case["replacements"]
    final = rebuild_assignment(case["entities"], d, replacements)
    expected = Assignment.from_dict(case["expected_after_replacements"])
    assert assignment_difference(expected, final) is None
    assert verify_assignment(case["entities"], d, replacements, expected) is None
    assert verify_assignment(case["entities"], d, replacements[:1], expected).startswith("team 5 ")
    stray = Replacement("LZNY002", "health", entity=case["entities"][1])  # LZNY002 is not in E2's team
    assert verify_assignment(case["entities"], d, [stray], expected).startswith("teams: cannot be rebuilt")


@pytest.mark.parametrize("case", VECTORS["team_errors"], ids=ids_of("team_errors"))
def test_team_errors(case):
    with pytest.raises(AssignmentError) as caught:
        assign_teams(case["entities"], team_draw(case))
    e = caught.value
    assert {"entity": e.entity, "rule": e.rule, "department": e.department} == case["error"]


def test_team_vectors_cover_both_algorithms():
    for section in ("teams", "team_errors"):
        assert sorted(case["algorithm"] for case in VECTORS[section]) == ["teams/1", "teams/2"], section
    assert any(r.get("unavailable") and r.get("conflicts") for case in VECTORS["teams"] for r in case["replacements"])


def test_teams_use_the_entities_of_the_plain_draw():
    # The worked example chains: draw -> locked list -> teams (spec section "Worked example").
    draw = next(v for v in VECTORS["draws"] if v["seed"] == VECTORS["teams"][0]["seed"] and v["k"] == 6)
    assert [e["id"] for e in draw["expected"]] == VECTORS["teams"][0]["entities"]


def test_the_stdlib_snippet_in_the_spec_recomputes_the_vectors(tmp_path, capsys):
    spec = (Path(__file__).parent.parent / "docs" / "draw-algorithm.md").read_text(encoding="utf-8")
    snippet = spec.split("### A complete re-implementation", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert len(snippet.strip().splitlines()) <= 30
    namespace = {"__name__": "recheck"}
    exec(snippet, namespace)  # defines ticket() and draw() without running the __main__ part
    for v in VECTORS["tickets"]:
        assert namespace["ticket"](v["seed"], v["id"]) == v["ticket"]
    for d in VECTORS["draws"]:
        assert namespace["draw"](d["ids"], d["seed"], d["k"]) == d["expected"]
    script = tmp_path / "recheck.py"
    script.write_text(snippet, encoding="utf-8")
    vectors = Path(__file__).parent.parent / "docs" / "draw-vectors.json"
    sys.argv, saved = [str(script), str(vectors)], sys.argv
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = saved
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(VECTORS["draws"]) + sum(len(s["strata"]) for s in VECTORS["strata"])
    assert all(line.startswith("OK  ") for line in lines), lines
