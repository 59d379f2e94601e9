"""Inspection teams of a joint check (第十条, 第十一条): which officers inspect which drawn entity.

Every executing department draws its own officers (第十条): its eligible officers (the caller
has already kept only those with a valid 执法证, available, in the right area and specialism)
are put in ticket order under `inspector_seed(seed, department)`. Then, entity by entity in
draw order, every slot a department must fill goes to its officer with the lowest load so far
(teams already given in this draw), skipping officers already in this team and officers with a
declared conflict (回避) with the entity. That keeps loads within one of each other where
conflicts allow, and it is a pure function of the recorded inputs.

Ties in load are broken by a ticket (ALGORITHMS):
  teams/2  (current) the officer's ticket under `team_seed(seed, department, entity)`, a fresh
           random order for every entity, so who inspects with whom is drawn too (第十条 随机).
  teams/1  (bundles made before) the department's ticket order: every department cycles through
           its officers in lock-step, which tied each member to one leader. Kept so that old
           bundles still verify.

Rules checked (an impossible one raises AssignmentError naming entity, rule and department;
nothing partial is ever returned):
  leader       members[0] is the 组长, an officer of the initiating department (第十一条)
  team_size    at least 2 officers per entity: when no cooperating department applies the
               initiating department tops the team up to 2 (two-officer enforcement rule)
  cooperating  at least 1 officer from each cooperating department whose items apply to the
               entity (第十一条 "各任务执行部门抽取的执法人员组成检查小组")
  quota        any further officers the caller asked a department to send
  replacement  a replaced officer's successor comes from the same department's other
               eligible officers by the same rule (第十一条 "在具备执法资格的其他执法人员中选派")

Full spec and vectors: docs/draw-algorithm.md, docs/draw-vectors.json.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from shuangsuiji.domain.draw import DuplicateIdError, first_by_ticket, inspector_seed, officer_order

# The tie-break rule between officers of equal load; a bundle names the one it used.
ALGORITHMS = ("teams/1", "teams/2")
CURRENT_ALGORITHM = "teams/2"

RULES: dict[str, tuple[str, str, str]] = {
    # key: (article, 中文, English) — for messages in either language
    "leader": (
        "第十一条", "组长须由发起部门的执法人员担任",
        "the leader (组长) must be an officer of the initiating department",
    ),
    "team_size": ("第十一条", "每个检查小组至少 2 名执法人员", "every team needs at least 2 officers"),
    "cooperating": (
        "第十一条", "每个适用的配合部门至少派 1 名执法人员",
        "each applicable cooperating department sends at least 1 officer",
    ),
    "quota": ("第十条", "部门应派人数不足", "the department's number of officers per entity"),
    "replacement": (
        "第十一条", "调整更换人员须在具备执法资格的其他执法人员中选派",
        "a replacement must come from the department's other eligible officers",
    ),
}

# 第十一条: replacement only "因岗位调整、工作、健康等特殊情况"; 回避 for a conflict found later.
REPLACEMENT_REASONS: dict[str, str] = {
    "post_change": "岗位调整",
    "work": "工作原因",
    "health": "健康原因",
    "conflict": "回避",
    "other": "其他特殊情况",  # needs a note saying what
}


class AssignmentError(ValueError):
    """A team rule cannot be met: names the entity, the rule (a RULES key) and the department."""

    def __init__(self, entity: str, rule: str, department: str, detail: str):
        self.entity, self.rule, self.department, self.detail = entity, rule, department, detail
        article, _, en = RULES[rule]
        super().__init__(f"entity {entity!r}: rule {rule} ({article}: {en}), department {department!r}: {detail}")

    @property
    def zh(self) -> str:
        article, zh, _ = RULES[self.rule]
        return f"检查对象 {self.entity}：{zh}（{article}），部门 {self.department}：{self.detail}"


@dataclass(frozen=True)
class Member:
    officer: str
    department: str


@dataclass(frozen=True)
class Team:
    """The officers sent to one entity; members[0] is the leader (组长)."""

    entity: str
    members: tuple[Member, ...]

    @property
    def leader(self) -> Member:
        return self.members[0]


@dataclass(frozen=True)
class Assignment:
    """All teams, in the entities' draw order."""

    teams: tuple[Team, ...]

    def loads(self) -> Counter[str]:
        """Teams per officer."""
        return Counter(m.officer for team in self.teams for m in team.members)

    def in_every_team(self) -> list[str]:
        """Officers sitting in every one of two or more teams: the draw chose nobody at random
        (a pool of one), which a coordinator should be warned about (第十条)."""
        if len(self.teams) < 2:
            return []
        return sorted(o for o, n in self.loads().items() if n == len(self.teams))

    def to_dict(self) -> dict:
        return {
            "teams": [
                {
                    "entity": t.entity,
                    "members": [{"officer": m.officer, "department": m.department} for m in t.members],
                }
                for t in self.teams
            ]
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Assignment:
        return cls(
            tuple(
                Team(t["entity"], tuple(Member(m["officer"], m["department"]) for m in t["members"]))
                for t in data["teams"]
            )
        )


@dataclass(frozen=True)
class Replacement:
    """One recorded replacement (第十一条). entity=None: the officer leaves every team and is out
    for the rest of the task; entity set: only that team (e.g. 回避 declared after the draw).

    unavailable / conflicts: what the directory said when the replacement was made — pool
    officers no longer available (调离, 执法证 lapsed, …) and conflicts (officer, entity)
    declared after the draw. No successor is chosen among them; they are recorded so that
    the replacement replays from the bundle alone."""

    officer: str
    reason: str
    entity: str | None = None
    note: str = ""
    unavailable: frozenset[str] = frozenset()
    conflicts: frozenset[tuple[str, str]] = frozenset()

    def to_dict(self) -> dict:
        out = {"officer": self.officer, "reason": self.reason, "entity": self.entity, "note": self.note}
        if self.unavailable:
            out["unavailable"] = sorted(self.unavailable)
        if self.conflicts:
            out["conflicts"] = sorted([o, e] for o, e in self.conflicts)
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> Replacement:
        return cls(
            data["officer"], data["reason"], data.get("entity"), data.get("note", ""),
            frozenset(data.get("unavailable", ())), frozenset((o, e) for o, e in data.get("conflicts", ())),
        )

    def __post_init__(self):
        if self.reason not in REPLACEMENT_REASONS:
            raise ValueError(f"replacement reason {self.reason!r} is not one of {', '.join(REPLACEMENT_REASONS)}")
        if self.reason == "other" and not self.note.strip():
            raise ValueError("replacement reason 'other' needs a note saying why")


@dataclass(frozen=True)
class TeamDraw:
    """The frozen inputs of an inspector draw, as a bundle records them.

    pools: eligible officer ids per department (initiating and every cooperating one).
    applicable: entity -> cooperating departments whose check items apply; absent = all.
    conflicts: declared (officer, entity) conflicts (回避).
    per_department: officers a department sends per entity; default 1 (the initiating
        department tops up to 2 when no cooperating department applies).
    algorithm: the tie-break rule (ALGORITHMS); a bundle without one predates teams/2.
    """

    seed: str
    initiating: str
    pools: Mapping[str, Collection[str]]
    cooperating: Sequence[str] = ()
    applicable: Mapping[str, Collection[str]] = field(default_factory=dict)
    conflicts: Collection[tuple[str, str]] = frozenset()
    per_department: Mapping[str, int] = field(default_factory=dict)
    algorithm: str = CURRENT_ALGORITHM

    def to_dict(self) -> dict:
        """Canonical JSON shape (as in a bundle and in docs/draw-vectors.json)."""
        return {
            "seed": self.seed,
            "initiating": self.initiating,
            "cooperating": sorted(self.cooperating),
            "pools": {d: sorted(pool) for d, pool in sorted(self.pools.items())},
            "applicable": {e: sorted(c) for e, c in sorted(self.applicable.items())},
            "conflicts": sorted([o, e] for o, e in self.conflicts),
            "per_department": dict(sorted(self.per_department.items())),
            "algorithm": self.algorithm,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> TeamDraw:
        return cls(
            seed=data["seed"],
            initiating=data["initiating"],
            pools={d: list(pool) for d, pool in data["pools"].items()},
            cooperating=list(data.get("cooperating", [])),
            applicable={e: list(c) for e, c in data.get("applicable", {}).items()},
            conflicts=frozenset((o, e) for o, e in data.get("conflicts", [])),
            per_department=dict(data.get("per_department", {})),
            algorithm=data.get("algorithm", "teams/1"),
        )

    def departments(self) -> list[str]:
        """Initiating first, then cooperating departments in code order."""
        return [self.initiating, *sorted(self.cooperating)]

    def slots(self, entity: str) -> list[tuple[str, int]]:
        """(department, officers to send) for one entity, in filling order."""
        coops = sorted(self.applicable.get(entity, self.cooperating))
        sends = {d: self.per_department.get(d, 1) for d in self.departments()}
        initiating = max(sends[self.initiating], 2 - sum(sends[c] for c in coops))
        return [(self.initiating, initiating)] + [(c, sends[c]) for c in coops]


def team_seed(seed: str, department: str, entity: str) -> str:
    """teams/2: the seed ordering a department's officers for one entity's team,
    f"{inspector_seed(seed, department)}|{entity}" (department codes hold no "|")."""
    return f"{inspector_seed(seed, department)}|{entity}"


class UnknownAlgorithmError(ValueError):
    """A team draw names a tie-break rule this version does not know."""

    def __init__(self, algorithm: str):
        self.algorithm = algorithm
        super().__init__(f"team algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")


class _Picker:
    """One department's officers and their loads; `take` applies the rule: the allowed officer
    with the lowest load, ties by the algorithm's ticket (module docstring)."""

    def __init__(self, draw: TeamDraw, department: str, officers_by_ticket: Sequence[str], loads: Mapping[str, int]):
        self.draw, self.department = draw, department
        self.rank = {officer: i for i, officer in enumerate(officers_by_ticket)}
        self.load = {officer: loads.get(officer, 0) for officer in officers_by_ticket}

    def take(self, entity: str, allowed: Callable[[str], bool]) -> str | None:
        candidates = [o for o in self.rank if allowed(o)]
        if not candidates:
            return None
        low = min(self.load[o] for o in candidates)
        tied = [o for o in candidates if self.load[o] == low]
        if self.draw.algorithm == "teams/1" or len(tied) == 1:
            officer = min(tied, key=self.rank.__getitem__)
        else:
            officer = first_by_ticket(tied, team_seed(self.draw.seed, self.department, entity))
        self.load[officer] += 1
        return officer


def _checked_orders(entities: Sequence[str], draw: TeamDraw) -> dict[str, list[str]]:
    """Validate the inputs (plain ValueErrors: these are caller mistakes, not rule failures)
    and return each department's officers in ticket order."""
    seen: set[str] = set()
    for entity in entities:
        if entity in seen:
            raise DuplicateIdError(entity, "in the entities")
        seen.add(entity)
    if draw.algorithm not in ALGORITHMS:
        raise UnknownAlgorithmError(draw.algorithm)
    departments = draw.departments()
    if len(set(departments)) != len(departments):
        raise ValueError(f"departments repeat: initiating {draw.initiating!r}, cooperating {list(draw.cooperating)}")
    if set(draw.pools) != set(departments):
        missing = sorted(set(departments) - set(draw.pools))
        extra = sorted(set(draw.pools) - set(departments))
        raise ValueError(f"officer pools do not match departments: missing {missing}, unknown {extra}")
    for entity, coops in draw.applicable.items():
        if entity not in seen:
            raise ValueError(f"applicable departments given for {entity!r}, which is not a drawn entity")
        unknown = sorted(set(coops) - set(draw.cooperating))
        if unknown:
            raise ValueError(f"entity {entity!r}: {unknown} are not cooperating departments of this check")
    for department, count in draw.per_department.items():
        if department not in departments:
            raise ValueError(f"per-department count for unknown department {department!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"department {department!r} must send a whole number >= 1 of officers, got {count!r}")
    home: dict[str, str] = {}
    for department in departments:
        for officer in draw.pools[department]:
            if officer in home:
                other = home[officer]
                if other == department:
                    raise DuplicateIdError(officer, f"twice in the pool of {department!r}")
                raise DuplicateIdError(officer, f"in the pools of {other!r} and {department!r}")
            home[officer] = department
    return {d: [s.id for s in officer_order(draw.pools[d], draw.seed, d)] for d in departments}


def _rule(draw: TeamDraw, entity: str, department: str, slot: int) -> str:
    """Which rule a failure to fill this slot (0-based) breaks."""
    if department != draw.initiating:
        return "cooperating" if slot == 0 else "quota"
    if slot == 0:
        return "leader"
    others = sum(n for d, n in draw.slots(entity) if d != draw.initiating)
    return "team_size" if 1 + slot + others <= 2 else "quota"


def _why_none(pool: Sequence[str], entity: str, team: Collection[str], recused, out: Collection[str] = ()) -> str:
    conflicted = sum((o, entity) in recused for o in pool)
    parts = [
        f"{len(pool)} eligible in the pool",
        f"{conflicted} with a conflict (回避)",
        f"{len(set(pool) & set(team))} already in this team",
    ]
    if out:
        parts.append(f"{len(set(pool) & set(out))} replaced out or no longer available")
    return "no officer left: " + ", ".join(parts)


def assign_teams(entities: Iterable[str], draw: TeamDraw) -> Assignment:
    """Build a team for every entity, in draw order, by the rules in this module's docstring."""
    entities = list(entities)
    orders = _checked_orders(entities, draw)
    queues = {d: _Picker(draw, d, order, {}) for d, order in orders.items()}
    recused = {(officer, entity) for officer, entity in draw.conflicts}
    teams = []
    for entity in entities:
        members: list[Member] = []
        for department, count in draw.slots(entity):
            for slot in range(count):
                team = {m.officer for m in members}
                officer = queues[department].take(entity, lambda o: o not in team and (o, entity) not in recused)
                if officer is None:
                    raise AssignmentError(
                        entity, _rule(draw, entity, department, slot), department,
                        _why_none(orders[department], entity, team, recused),
                    )
                members.append(Member(officer, department))
        teams.append(Team(entity, tuple(members)))
    return Assignment(tuple(teams))


def replace_officer(
    assignment: Assignment, replacement: Replacement, draw: TeamDraw, previous: Sequence[Replacement] = ()
) -> Assignment:
    """Apply one recorded replacement (第十一条) and return the new assignment.

    In each team the officer leaves (draw order), the successor is the same department's
    allowed officer with the lowest current load, ties by the algorithm's ticket; not allowed:
    anyone already in the team, anyone with a conflict with the entity (declared, recorded by
    an earlier entity-scoped replacement, or declared since the draw as this replacement
    records), anyone replaced out of all teams earlier (or now), anyone this replacement
    records as no longer available. The successor takes the leaver's place, so a leader is
    succeeded as leader.
    """
    home = {o: d for d, pool in draw.pools.items() for o in pool}
    officer = replacement.officer
    if officer not in home:
        raise ValueError(f"officer {officer!r} is in no department's pool")
    department = home[officer]
    places = [
        (t, m)
        for t, team in enumerate(assignment.teams)
        if replacement.entity in (None, team.entity)
        for m, member in enumerate(team.members)
        if member.officer == officer
    ]
    if not places:
        where = "any team" if replacement.entity is None else f"the team of {replacement.entity!r}"
        raise ValueError(f"officer {officer!r} is not in {where}")
    history = [*previous, replacement]
    out = {r.officer for r in history if r.entity is None} | set(replacement.unavailable)
    recused = {(o, e) for o, e in draw.conflicts} | set(replacement.conflicts)
    recused |= {(r.officer, r.entity) for r in history if r.entity is not None}
    order = [s.id for s in officer_order(draw.pools[department], draw.seed, department)]
    queue = _Picker(draw, department, [o for o in order if o not in out], assignment.loads())
    teams = list(assignment.teams)
    for t, m in places:
        team = teams[t]
        in_team = {x.officer for x in team.members}
        successor = queue.take(team.entity, lambda o: o not in in_team and (o, team.entity) not in recused)
        if successor is None:
            why = _why_none(order, team.entity, in_team, recused, out)
            raise AssignmentError(team.entity, "replacement", department, why)
        members = list(team.members)
        members[m] = Member(successor, department)
        teams[t] = Team(team.entity, tuple(members))
    return Assignment(tuple(teams))


def rebuild_assignment(entities: Iterable[str], draw: TeamDraw, replacements: Sequence[Replacement] = ()) -> Assignment:
    """The final assignment from the recorded inputs alone: draw the teams, then replay every
    recorded replacement in order. This is what `verify` recomputes from a bundle."""
    assignment = assign_teams(entities, draw)
    for i, replacement in enumerate(replacements):
        assignment = replace_officer(assignment, replacement, draw, previous=replacements[:i])
    return assignment


def assignment_difference(expected: Assignment, recomputed: Assignment) -> str | None:
    """None if equal, else the first difference as one line naming team, member and field."""
    for position, (want, got) in enumerate(zip(expected.teams, recomputed.teams), start=1):
        if want.entity != got.entity:
            return f"team {position}: field entity: expected {want.entity!r}, recomputed {got.entity!r}"
        for number, (a, b) in enumerate(zip(want.members, got.members), start=1):
            for name in ("officer", "department"):
                if getattr(a, name) != getattr(b, name):
                    role = " (leader)" if number == 1 else ""
                    return (
                        f"team {position} (entity {want.entity!r}) member {number}{role}: field {name}: "
                        f"expected {getattr(a, name)!r}, recomputed {getattr(b, name)!r}"
                    )
        if len(want.members) != len(got.members):
            return (
                f"team {position} (entity {want.entity!r}): field members: expected {len(want.members)}, "
                f"recomputed {len(got.members)}"
            )
    if len(expected.teams) != len(recomputed.teams):
        return f"teams: field count: expected {len(expected.teams)}, recomputed {len(recomputed.teams)}"
    return None


def verify_assignment(
    entities: Iterable[str], draw: TeamDraw, replacements: Sequence[Replacement], expected: Assignment
) -> str | None:
    """Rebuild the teams from the recorded inputs and compare; None when they match."""
    try:
        recomputed = rebuild_assignment(entities, draw, replacements)
    except ValueError as error:  # includes AssignmentError: the record cannot be replayed
        return f"teams: cannot be rebuilt from the recorded inputs: {error}"
    return assignment_difference(expected, recomputed)
