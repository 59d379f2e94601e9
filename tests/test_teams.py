"""Inspection teams (第十条, 第十一条): rules as properties, a naive reference, replacement replay."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from shuangsuiji.domain.draw import DuplicateIdError, officer_order, ticket
from shuangsuiji.domain.teams import (
    Assignment,
    AssignmentError,
    Member,
    Replacement,
    Team,
    TeamDraw,
    UnknownAlgorithmError,
    assign_teams,
    assignment_difference,
    rebuild_assignment,
    replace_officer,
)

# --- a naive reference: the rule written as literally as possible ------------------------


def naive_assign(entities, d: TeamDraw) -> Assignment:
    ranks = {dept: [s.id for s in officer_order(d.pools[dept], d.seed, dept)] for dept in d.departments()}
    load = Counter()
    teams = []
    for entity in entities:
        members = []
        for dept, count in d.slots(entity):
            for _ in range(count):
                taken = {m.officer for m in members}
                options = [o for o in ranks[dept] if o not in taken and (o, entity) not in set(d.conflicts)]
                if d.algorithm == "teams/1":
                    officer = min(options, key=lambda o: (load[o], ranks[dept].index(o)))
                else:  # teams/2: ties by the ticket under the entity's own seed
                    officer = min(options, key=lambda o: (load[o], ticket(f"{d.seed}|inspectors|{dept}|{entity}", o), o))
                load[officer] += 1
                members.append(Member(officer, dept))
        teams.append(Team(entity, tuple(members)))
    return Assignment(tuple(teams))


def first_impossible(entities, d: TeamDraw):
    """(entity, department, slot) of the first slot no officer can fill, or None.

    Loads never block anyone, so a slot fails exactly when the department has fewer
    non-conflicted officers than it must send to that entity.
    """
    for entity in entities:
        for dept, count in d.slots(entity):
            free = [o for o in d.pools[dept] if (o, entity) not in set(d.conflicts)]
            if len(free) < count:
                return entity, dept, len(free)
    return None


# --- generated joint checks ---------------------------------------------------------------


@st.composite
def joint_checks(draw, conflicts=True, max_pool=5):
    coops = draw(st.lists(st.sampled_from(["WJ", "NY", "GA", "ZR"]), unique=True, max_size=3))
    departments = ["SCJG", *coops]
    pools = {
        dept: [f"{dept}{i:03d}" for i in range(draw(st.integers(0 if conflicts else 2, max_pool)))]
        for dept in departments
    }
    numbers = draw(st.lists(st.integers(0, 999), unique=True, min_size=1, max_size=12))
    entities = [f"91441882MA5{i:06d}X" for i in numbers]
    applicable = {}
    for entity in entities:
        if coops and draw(st.booleans()):
            applicable[entity] = draw(st.lists(st.sampled_from(coops), unique=True))
    officers = [o for pool in pools.values() for o in pool]
    pairs = [(o, e) for o in officers for e in entities]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=8)) if conflicts and pairs else []
    per = {}
    if draw(st.booleans()):
        per = {dept: draw(st.integers(1, 2)) for dept in departments if draw(st.booleans())}
    seed = draw(st.text(max_size=8))
    d = TeamDraw(
        seed=seed, initiating="SCJG", cooperating=coops, pools=pools,
        applicable=applicable, conflicts=frozenset(chosen), per_department=per,
        algorithm=draw(st.sampled_from(["teams/1", "teams/2"])),
    )
    return entities, d


def check_rules(assignment: Assignment, entities, d: TeamDraw):
    assert [t.entity for t in assignment.teams] == entities
    for team in assignment.teams:
        officers = [m.officer for m in team.members]
        assert len(officers) >= 2, team
        assert len(set(officers)) == len(officers), team
        assert team.leader.department == d.initiating
        departments = Counter(m.department for m in team.members)
        for coop in d.applicable.get(team.entity, d.cooperating):
            assert departments[coop] >= 1, (team, coop)
        assert set(departments) <= {d.initiating, *d.applicable.get(team.entity, d.cooperating)}
        for m in team.members:
            assert m.officer in d.pools[m.department]
            assert (m.officer, team.entity) not in d.conflicts


@settings(max_examples=300, deadline=None)
@given(joint_checks())
def test_rules_hold_or_the_first_impossible_slot_is_named(case):
    entities, d = case
    impossible = first_impossible(entities, d)
    event("possible" if impossible is None else "impossible")
    if impossible is None:
        assignment = assign_teams(entities, d)
        check_rules(assignment, entities, d)
        assert assignment == naive_assign(entities, d)
        return
    entity, dept, slot = impossible
    with pytest.raises(AssignmentError) as caught:
        assign_teams(entities, d)
    error = caught.value
    assert (error.entity, error.department) == (entity, dept)
    others = sum(n for x, n in d.slots(entity) if x != d.initiating)
    expected_rule = (
        ("leader" if slot == 0 else "team_size" if 1 + slot + others <= 2 else "quota")
        if dept == d.initiating
        else ("cooperating" if slot == 0 else "quota")
    )
    assert error.rule == expected_rule
    assert entity in str(error) and dept in str(error) and expected_rule in str(error)


@settings(max_examples=200, deadline=None)
@given(joint_checks(conflicts=False, max_pool=7))
def test_loads_stay_within_one_without_conflicts(case):
    entities, d = case
    assignment = assign_teams(entities, d)
    check_rules(assignment, entities, d)
    loads = assignment.loads()
    for dept, pool in d.pools.items():
        counts = [loads[o] for o in pool]
        assert max(counts) - min(counts) <= 1, (dept, counts)


@settings(max_examples=100, deadline=None)
@given(joint_checks(conflicts=False), st.randoms(use_true_random=False))
def test_order_of_pools_changes_nothing(case, rnd):
    entities, d = case
    shuffled = {dept: rnd.sample(pool, len(pool)) for dept, pool in d.pools.items()}
    other = TeamDraw(d.seed, d.initiating, shuffled, d.cooperating[::-1], d.applicable, d.conflicts, d.per_department, d.algorithm)
    assert assign_teams(entities, other) == assign_teams(entities, d)


# --- a worked example ---------------------------------------------------------------------

E = [f"91441882MA5{i:06d}X" for i in range(6)]
EXAMPLE = TeamDraw(
    seed="73401462095834117263",
    initiating="SCJG",
    cooperating=["WJ"],
    pools={"SCJG": ["SC01", "SC02", "SC03"], "WJ": ["WJ01", "WJ02"]},
    applicable={E[1]: []},  # only market-supervision items apply to E[1]
    conflicts={("SC01", E[0])},
)


def test_worked_example_by_hand_teams1():
    sc = [s.id for s in officer_order(["SC01", "SC02", "SC03"], EXAMPLE.seed, "SCJG")]
    wj = [s.id for s in officer_order(["WJ01", "WJ02"], EXAMPLE.seed, "WJ")]
    teams = assign_teams(E[:3], dataclasses.replace(EXAMPLE, algorithm="teams/1")).teams
    # E0: SC01 is recused, so the first of the other two in ticket order leads.
    e0_leader = next(o for o in sc if o != "SC01")
    assert teams[0].members == (Member(e0_leader, "SCJG"), Member(wj[0], "WJ"))
    # E1: no cooperating department applies, so SCJG sends two: the two with load 0.
    idle = [o for o in sc if o != e0_leader]
    assert teams[1].members == (Member(idle[0], "SCJG"), Member(idle[1], "SCJG"))
    # E2: every SCJG officer has load 1 -> first by ticket; WJ: the one with load 0.
    assert teams[2].members == (Member(sc[0], "SCJG"), Member(wj[1], "WJ"))


def test_worked_example_by_hand_teams2():
    """teams/2: equal loads are broken by the officer's ticket under the entity's own seed."""
    def by_entity(dept, officers, entity):
        return sorted(officers, key=lambda o: ticket(f"{EXAMPLE.seed}|inspectors|{dept}|{entity}", o))

    teams = assign_teams(E[:3], EXAMPLE).teams
    e0_leader = next(o for o in by_entity("SCJG", ["SC01", "SC02", "SC03"], E[0]) if o != "SC01")
    assert teams[0].members == (Member(e0_leader, "SCJG"), Member(by_entity("WJ", ["WJ01", "WJ02"], E[0])[0], "WJ"))
    idle = by_entity("SCJG", [o for o in ["SC01", "SC02", "SC03"] if o != e0_leader], E[1])
    assert teams[1].members == (Member(idle[0], "SCJG"), Member(idle[1], "SCJG"))
    wj_idle = ({"WJ01", "WJ02"} - {teams[0].members[1].officer}).pop()
    assert teams[2].members == (Member(by_entity("SCJG", ["SC01", "SC02", "SC03"], E[2])[0], "SCJG"), Member(wj_idle, "WJ"))


def test_members_are_paired_with_leaders_at_random():
    """Issue 12: 55 teams from 9 officers used only a few (leader, member) pairs under teams/1,
    because both departments cycled through their officers in lock-step."""
    entities = [f"91441882MA5{i:06d}X" for i in range(55)]
    pools = {d: [f"{d}{i:02d}" for i in range(3)] for d in ("SCJG", "WJ", "NY")}
    old = TeamDraw("20261204", "SCJG", pools, ["WJ", "NY"], algorithm="teams/1")
    new = TeamDraw("20261204", "SCJG", pools, ["WJ", "NY"])
    assert new.algorithm == "teams/2"

    def pairs(d):
        return {(a.officer, b.officer) for t in assign_teams(entities, d).teams for a in t.members for b in t.members if a.department < b.department}

    assert len(pairs(old)) == 9  # lock-step: of 27 possible pairs, the same 9 over and over
    assert len(pairs(new)) == 27  # every pair of the three departments' officers meets
    for dept, pool in pools.items():
        loads = assign_teams(entities, new).loads()
        counts = [loads[o] for o in pool]
        assert max(counts) - min(counts) <= 1, (dept, counts)  # the load stays balanced
    assert assign_teams(entities, new) == assign_teams(list(entities), TeamDraw.from_dict(new.to_dict()))


def test_an_officer_in_every_team_is_reported():
    lone = TeamDraw("s", "SCJG", {"SCJG": ["SC01"], "WJ": ["WJ01", "WJ02"]}, ["WJ"])
    assert assign_teams(E, lone).in_every_team() == ["SC01"]
    assert assign_teams(E, EXAMPLE).in_every_team() == []
    assert assign_teams(E[:1], lone).in_every_team() == []  # one team: nothing to warn about


def test_unknown_team_algorithm_is_refused():
    with pytest.raises(UnknownAlgorithmError, match="teams/9"):
        assign_teams(E, dataclasses.replace(EXAMPLE, algorithm="teams/9"))


def test_bad_inputs_are_plain_value_errors():
    with pytest.raises(DuplicateIdError, match=r"'SC01' \(in the pools of 'SCJG' and 'WJ'\)"):
        assign_teams(E, TeamDraw("s", "SCJG", {"SCJG": ["SC01", "SC02"], "WJ": ["SC01"]}, ["WJ"]))
    with pytest.raises(DuplicateIdError, match=r"'SC01' \(twice in the pool of 'SCJG'\)"):
        assign_teams(E, TeamDraw("s", "SCJG", {"SCJG": ["SC01", "SC02", "SC01"]}))
    with pytest.raises(ValueError, match=r"missing \['WJ'\]"):
        assign_teams(E, TeamDraw("s", "SCJG", {"SCJG": ["SC01"]}, ["WJ"]))
    with pytest.raises(ValueError, match="not cooperating departments"):
        pools = {"SCJG": ["SC01"], "WJ": ["WJ01"]}
        assign_teams(E, TeamDraw("s", "SCJG", pools, ["WJ"], applicable={E[0]: ["NY"]}))
    with pytest.raises(DuplicateIdError, match=E[0]):
        assign_teams([E[0], E[0]], EXAMPLE)
    with pytest.raises(ValueError, match="whole number >= 1"):
        assign_teams(E, TeamDraw("s", "SCJG", EXAMPLE.pools, ["WJ"], per_department={"WJ": 0}))
    with pytest.raises(ValueError, match="departments repeat"):
        assign_teams(E, TeamDraw("s", "SCJG", EXAMPLE.pools, ["WJ", "SCJG"]))


def test_impossible_team_names_entity_rule_and_department():
    d = TeamDraw("s", "SCJG", {"SCJG": ["SC01", "SC02"], "WJ": ["WJ01"]}, ["WJ"], conflicts={("WJ01", E[2])})
    with pytest.raises(AssignmentError) as caught:
        assign_teams(E, d)
    assert (caught.value.entity, caught.value.rule, caught.value.department) == (E[2], "cooperating", "WJ")
    assert "1 with a conflict (回避)" in str(caught.value)
    assert caught.value.zh.startswith(f"检查对象 {E[2]}：每个适用的配合部门至少派 1 名执法人员（第十一条）")
    lone = TeamDraw("s", "SCJG", {"SCJG": ["SC01"]})
    with pytest.raises(AssignmentError, match="rule team_size") as caught:
        assign_teams(E, lone)
    assert caught.value.entity == E[0]


# --- replacement (第十一条) ------------------------------------------------------------------


def test_replacement_reasons_are_checked():
    with pytest.raises(ValueError, match="not one of"):
        Replacement("SC01", "bored")
    with pytest.raises(ValueError, match="needs a note"):
        Replacement("SC01", "other")
    Replacement("SC01", "other", note="借调至省局")


def test_replacement_by_hand():
    before = assign_teams(E, EXAMPLE)
    leader = before.teams[0].leader.officer
    after = replace_officer(before, Replacement(leader, "health"), EXAMPLE)
    assert leader not in after.loads()
    for old, new in zip(before.teams, after.teams):
        for a, b in zip(old.members, new.members):
            assert (a == b) == (a.officer != leader)
    # E0's leader is succeeded as leader; SC01 is recused there, so it must be the third one.
    third = ({"SC01", "SC02", "SC03"} - {leader, "SC01"}).pop()
    assert after.teams[0].leader == Member(third, "SCJG")
    with pytest.raises(ValueError, match="not in any team"):
        replace_officer(after, Replacement(leader, "health"), EXAMPLE, previous=[Replacement(leader, "health")])


@settings(max_examples=200, deadline=None)
@given(joint_checks(max_pool=6), st.data())
def test_replacement_keeps_the_rules_and_replays(case, data):
    entities, d = case
    assume(first_impossible(entities, d) is None)
    current = assign_teams(entities, d)
    history: list[Replacement] = []
    for _ in range(data.draw(st.integers(1, 3))):
        officers = sorted(current.loads())
        officer = data.draw(st.sampled_from(officers))
        scoped = data.draw(st.booleans())
        teams_of_officer = [t.entity for t in current.teams if officer in {m.officer for m in t.members}]
        entity = data.draw(st.sampled_from(teams_of_officer)) if scoped else None
        r = Replacement(officer, "conflict" if scoped else "work", entity=entity)
        try:
            after = replace_officer(current, r, d, previous=history)
        except AssignmentError as error:
            assert error.rule == "replacement"
            event("replacement impossible")
            break
        history.append(r)
        check_rules(after, entities, d)
        if entity is None:
            assert officer not in after.loads()
        else:
            assert officer not in {m.officer for m in after.teams[entities.index(entity)].members}
        for old, new in zip(current.teams, after.teams):
            assert len(old.members) == len(new.members)
            assert [m.department for m in old.members] == [m.department for m in new.members]
        for r_old in history:
            if r_old.entity is None:
                assert r_old.officer not in after.loads()
            else:
                team = after.teams[entities.index(r_old.entity)]
                assert r_old.officer not in {m.officer for m in team.members}
        current = after
    assert rebuild_assignment(entities, d, history) == current


def test_replacement_takes_the_lowest_load_then_ticket():
    pools = {"SCJG": ["SC01", "SC02", "SC03", "SC04"], "WJ": ["WJ01", "WJ02", "WJ03"]}
    d = TeamDraw("dice-0417", "SCJG", pools, ["WJ"])
    before = assign_teams(E, d)  # 6 entities: SCJG loads 2,2,1,1 ; WJ loads 2,2,2
    loads = before.loads()
    sc = [s.id for s in officer_order(pools["SCJG"], d.seed, "SCJG")]
    leaving = before.teams[0].leader.officer
    after = replace_officer(before, Replacement(leaving, "post_change"), d)
    for t_before, t_after in zip(before.teams, after.teams):
        if t_before.leader.officer == leaving:
            others = [o for o in sc if o != leaving]
            best = min(others, key=lambda o: (loads[o], sc.index(o)))
            assert t_after.leader.officer == best
            loads[best] += 1


def test_replay_rejects_a_record_that_does_not_fit():
    with pytest.raises(ValueError, match="not in the team of"):
        rebuild_assignment(E, EXAMPLE, [Replacement("SC01", "conflict", entity=E[0])])  # SC01 was recused there
    with pytest.raises(ValueError, match="in no department's pool"):
        rebuild_assignment(E, EXAMPLE, [Replacement("XX99", "health")])


def test_replacement_impossible_names_entity():
    d = TeamDraw("s", "SCJG", {"SCJG": ["SC01", "SC02"], "WJ": ["WJ01"]}, ["WJ"])
    with pytest.raises(AssignmentError, match="rule replacement") as caught:
        rebuild_assignment(E[:2], d, [Replacement("WJ01", "health")])
    assert (caught.value.entity, caught.value.department) == (E[0], "WJ")
    assert "1 replaced out" in str(caught.value)


# --- verification and serialisation --------------------------------------------------------


def test_assignment_difference_and_round_trip():
    a = assign_teams(E, EXAMPLE)
    assert Assignment.from_dict(a.to_dict()) == a
    assert assignment_difference(a, a) is None
    data = a.to_dict()
    data["teams"][3]["members"][0]["officer"] = "SC99"
    message = assignment_difference(Assignment.from_dict(data), a)
    assert message.startswith(f"team 4 (entity {E[3]!r}) member 1 (leader): field officer: expected 'SC99'")
    shorter = Assignment(a.teams[:-1])
    assert assignment_difference(shorter, a) == "teams: field count: expected 5, recomputed 6"
