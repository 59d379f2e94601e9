"""The inspector teams of a locked draw (第十条, 第十一条): draw the officers, form the teams,
replace an officer for a recorded reason, and what the directory says about the teams today."""

from __future__ import annotations

import json

from sqlalchemy import Connection, text

from shuangsuiji.domain import bundle as bundles
from shuangsuiji.domain.audit import utc_now
from shuangsuiji.domain.directory import AVAILABLE_STATUS
from shuangsuiji.domain.draw import officer_order
from shuangsuiji.domain.teams import (
    CURRENT_ALGORITHM,
    REPLACEMENT_REASONS,
    Assignment,
    AssignmentError,
    Replacement,
    TeamDraw,
    assign_teams,
    rebuild_assignment,
)
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.services import audit, tasks
from shuangsuiji.services.draws import _draw_row, _locked, selection

# 第十一条 reasons as users type them → the keys recorded in bundles.
REASON_KEYS = {
    "岗位调整": "post_change", "工作": "work", "工作原因": "work", "健康": "health", "健康原因": "health",
    "回避": "conflict", "其他": "other", "其他特殊情况": "other", **{k: k for k in REPLACEMENT_REASONS},
}


# ---------------------------------------------------------------- inspectors (第十条, 第十一条)


def _rules(definition: dict, entities: list[str]) -> tuple[dict, dict]:
    """Which cooperating departments apply to each entity (bundle.applicable_departments), and
    how many officers each sends."""
    per_entity = bundles.applicable_departments(definition, entities)
    return per_entity, (definition.get("inspectors") or {}).get("per_department") or {}


def _eligible_pools(conn: Connection, definition: dict) -> dict[str, list[str]]:
    """Officers each executing department may send (第十条): in the directory, 在岗, a 执法证
    valid through the task's window, and fitting the task's region and expertise rule."""
    rule = definition.get("inspectors") or {}
    regions = rule.get("regions")
    expertise = rule.get("expertise") or {}
    pools: dict[str, list[str]] = {dep: [] for dep in [definition["initiating"], *definition["cooperating"]]}
    rows = conn.execute(
        text(
            "SELECT cert_no, department, region, expertise FROM inspector "
            "WHERE in_directory = 1 AND status = :s AND cert_expires_on >= :end"
        ),
        {"s": AVAILABLE_STATUS, "end": definition["window"]["end"]},
    )
    for cert, dept, region, tags in rows:
        if dept not in pools:
            continue
        if regions and region not in regions and region != "全市":
            continue
        wanted = expertise.get(dept)
        if wanted and not set(wanted) & set(json.loads(tags)):
            continue
        pools[dept].append(cert)
    return pools


def _team_draw(
    conn: Connection, draw: dict, pools: dict, conflicts: frozenset, algorithm: str = CURRENT_ALGORITHM
) -> tuple[TeamDraw, list[str]]:
    definition = tasks.get_task(conn, draw["task_id"])["definition"]
    entities = [s["uscc"] for s in selection(conn, draw["id"])]
    applicable, per_department = _rules(definition, entities)
    team_draw = TeamDraw(
        seed=draw["seed"], initiating=definition["initiating"], pools=pools, cooperating=definition["cooperating"],
        applicable=applicable, conflicts=conflicts, per_department=per_department, algorithm=algorithm,
    )
    return team_draw, entities


def assign_inspectors(conn: Connection, draw_id: str, operator: str) -> dict:
    """Draw officers per executing department and form the teams; all or nothing."""
    draw = _locked(conn, draw_id)
    if conn.execute(text("SELECT 1 FROM draw_team WHERE draw_id = :d LIMIT 1"), {"d": draw_id}).first():
        raise UserError(f"{draw_id} 的执法人员已抽取并锁定", f"Officers of {draw_id} are already drawn and locked", code=ExitCode.ALREADY_DONE)
    definition = tasks.get_task(conn, draw["task_id"])["definition"]
    pools = _eligible_pools(conn, definition)
    drawn = {s["uscc"] for s in selection(conn, draw_id)}
    officers = {o for pool in pools.values() for o in pool}
    conflicts = frozenset(
        (c, u) for c, u in conn.execute(text("SELECT cert_no, uscc FROM conflict")) if u in drawn and c in officers
    )
    team_draw, entities = _team_draw(conn, draw, pools, conflicts)
    try:
        assignment = assign_teams(entities, team_draw)
    except AssignmentError as exc:
        raise UserError(exc.zh, str(exc), code=ExitCode.PROBLEMS) from None
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    pool_rows = [
        (draw_id, dept, i, s.id, s.ticket)
        for dept, pool in pools.items()
        for i, s in enumerate(officer_order(pool, team_draw.seed, dept), start=1)
    ]
    if pool_rows:
        conn.exec_driver_sql(
            f"INSERT INTO draw_inspector_pool (draw_id, department, position, cert_no, ticket) VALUES ({', '.join([mark] * 5)})",
            pool_rows,
        )
    if conflicts:
        conn.exec_driver_sql(
            f"INSERT INTO draw_conflict (draw_id, cert_no, uscc) VALUES ({', '.join([mark] * 3)})",
            [(draw_id, c, u) for c, u in sorted(conflicts)],
        )
    conn.exec_driver_sql(
        f"INSERT INTO draw_team (draw_id, uscc, position, cert_no, department) VALUES ({', '.join([mark] * 5)})",
        [(draw_id, t.entity, i, m.officer, m.department) for t in assignment.teams for i, m in enumerate(t.members, start=1)],
    )
    conn.execute(text("INSERT INTO draw_team_rule (draw_id, algorithm) VALUES (:d, :a)"), {"d": draw_id, "a": team_draw.algorithm})
    loads = assignment.loads()
    entry = audit.append(conn, operator, "draws inspectors", {
        "draw": draw_id, "teams": len(assignment.teams), "officers": len(loads),
        "pools": {d: len(p) for d, p in pools.items()}, "conflicts": len(conflicts),
        "algorithm": team_draw.algorithm,
        "teams_sha256": bundles.teams_digest(assignment.to_dict()),
    })
    return {
        "draw": draw_id, "teams": assignment.to_dict()["teams"], "loads": dict(sorted(loads.items())),
        "algorithm": team_draw.algorithm, "in_every_team": assignment.in_every_team(), "audit_seq": entry.seq,
    }


def _frozen_team_draw(conn: Connection, draw: dict) -> tuple[TeamDraw, list[str]]:
    """The inspector draw's inputs as locked: the recorded pools and conflicts, never today's."""
    definition = tasks.get_task(conn, draw["task_id"])["definition"]
    pools: dict[str, list[str]] = {dep: [] for dep in [definition["initiating"], *definition["cooperating"]]}
    for dept, cert in conn.execute(
        text("SELECT department, cert_no FROM draw_inspector_pool WHERE draw_id = :d ORDER BY department, position"),
        {"d": draw["id"]},
    ):
        pools[dept].append(cert)
    conflicts = frozenset(
        (c, u) for c, u in conn.execute(text("SELECT cert_no, uscc FROM draw_conflict WHERE draw_id = :d"), {"d": draw["id"]})
    )
    algorithm = conn.execute(text("SELECT algorithm FROM draw_team_rule WHERE draw_id = :d"), {"d": draw["id"]}).scalar()
    return _team_draw(conn, draw, pools, conflicts, algorithm or CURRENT_ALGORITHM)


def initial_teams(conn: Connection, draw_id: str) -> Assignment | None:
    rows = conn.execute(
        text("SELECT uscc, position, cert_no, department FROM draw_team WHERE draw_id = :d"), {"d": draw_id}
    ).all()
    if not rows:
        return None
    order = {s["uscc"]: i for i, s in enumerate(selection(conn, draw_id))}
    for uscc, position, _, _ in rows:
        if uscc not in order:  # a row edited behind the tool's back: name it, never a KeyError
            raise UserError(
                f"draw_team 行 ({draw_id}, {uscc}, {position}) 的检查对象不在 {draw_id} 锁定的名单中（存储被改动，运行 db check）",
                f"draw_team row ({draw_id}, {uscc}, {position}) names an entity that is not in {draw_id}'s locked list "
                "(the store was edited; run `db check`)",
                code=ExitCode.PROBLEMS,
            )
    teams: dict[str, list] = {}
    for uscc, _, cert, dept in sorted(rows, key=lambda r: (order[r[0]], r[1])):
        teams.setdefault(uscc, []).append({"officer": cert, "department": dept})
    return Assignment.from_dict({"teams": [{"entity": e, "members": m} for e, m in teams.items()]})


def replacements(conn: Connection, draw_id: str) -> list[dict]:
    """Recorded replacements in order, each with what it excluded (unavailable officers, new conflicts)."""
    rows = conn.execute(
        text(
            "SELECT seq, cert_no, reason, entity, note, replaced_at, operator FROM draw_replacement "
            "WHERE draw_id = :d ORDER BY seq"
        ),
        {"d": draw_id},
    )
    out = [{**r._mapping, "unavailable": [], "conflicts": []} for r in rows]
    by_seq = {r["seq"]: r for r in out}
    for seq, cert, uscc in conn.execute(
        text("SELECT seq, cert_no, uscc FROM draw_replacement_exclusion WHERE draw_id = :d ORDER BY seq, cert_no, uscc"),
        {"d": draw_id},
    ):
        if uscc:
            by_seq[seq]["conflicts"].append([cert, uscc])
        else:
            by_seq[seq]["unavailable"].append(cert)
    return out


def _as_replacements(rows: list[dict]) -> list[Replacement]:
    return [
        Replacement(r["cert_no"], r["reason"], r["entity"], r["note"], frozenset(r["unavailable"]),
                    frozenset((c, u) for c, u in r["conflicts"]))
        for r in rows
    ]


def _available(conn: Connection, definition: dict, officers: set[str]) -> set[str]:
    """Of these officers, those the directory says can serve today: in it, 在岗, 执法证 valid
    through the task's window (第十条; region and expertise were settled at the draw)."""
    rows = conn.execute(
        text("SELECT cert_no FROM inspector WHERE in_directory = 1 AND status = :s AND cert_expires_on >= :end"),
        {"s": AVAILABLE_STATUS, "end": definition["window"]["end"]},
    )
    return {cert for (cert,) in rows if cert in officers}


def _directory_now(conn: Connection, draw: dict, team_draw: TeamDraw, entities: list[str]) -> tuple[set[str], set[tuple[str, str]]]:
    """Pool officers no longer available, and conflicts declared since the draw (回避, 第十一条)."""
    definition = tasks.get_task(conn, draw["task_id"])["definition"]
    officers = {o for pool in team_draw.pools.values() for o in pool}
    unavailable = officers - _available(conn, definition, officers)
    drawn = set(entities)
    declared = {(c, u) for c, u in conn.execute(text("SELECT cert_no, uscc FROM conflict")) if c in officers and u in drawn}
    return unavailable, declared - set(team_draw.conflicts)


def team_problems(conn: Connection, draw_id: str) -> list[dict]:
    """Members of the current teams who may no longer serve: left the directory / not 在岗 /
    执法证 lapsed, or a conflict (回避) with the team's entity declared since the draw.
    Each needs `draws replace` (第十一条); `draws show`, `db check` and `results template` list them."""
    teams = final_teams(conn, draw_id)
    if teams is None:
        return []
    draw = _draw_row(conn, draw_id)
    team_draw, entities = _frozen_team_draw(conn, draw)
    unavailable, conflicts = _directory_now(conn, draw, team_draw, entities)
    problems = []
    for team in teams.teams:
        for m in team.members:
            if m.officer in unavailable:
                problems.append({"draw": draw_id, "entity": team.entity, "officer": m.officer, "problem": "unavailable"})
            elif (m.officer, team.entity) in conflicts:
                problems.append({"draw": draw_id, "entity": team.entity, "officer": m.officer, "problem": "conflict"})
    return problems


def final_teams(conn: Connection, draw_id: str) -> Assignment | None:
    """The teams after replaying every recorded replacement on the locked initial teams."""
    initial = initial_teams(conn, draw_id)
    recorded = replacements(conn, draw_id)
    if initial is None or not recorded:
        return initial
    team_draw, entities = _frozen_team_draw(conn, _draw_row(conn, draw_id))
    try:
        return rebuild_assignment(entities, team_draw, _as_replacements(recorded))
    except AssignmentError as exc:  # only rows edited behind the tool's back get here
        raise UserError(f"{draw_id} 的更换记录无法重放：{exc.zh}（存储被改动，运行 db check）",
                        f"{draw_id}'s replacements cannot be replayed: {exc} (the store was edited; run `db check`)",
                        code=ExitCode.PROBLEMS) from None


def replace(conn: Connection, draw_id: str, cert: str, reason: str, *, operator: str, entity: str | None = None, note: str = "") -> dict:
    """Replace an officer for a recorded reason (第十一条); the successor is the next eligible
    ticket by the same rule, reproducible from the bundle."""
    draw = _locked(conn, draw_id)
    key = REASON_KEYS.get(reason.strip())
    if key is None:
        raise UserError(
            "更换理由须为 岗位调整、工作、健康、回避 或 其他（第十一条）",
            "The reason must be 岗位调整, 工作, 健康, 回避 or 其他 (第十一条)", code=ExitCode.USAGE,
        )
    if key == "other" and not note.strip():
        raise UserError("理由为“其他”时须用 --note 说明", "Reason 其他 needs a --note saying what", code=ExitCode.USAGE)
    current = final_teams(conn, draw_id)
    if current is None:
        raise UserError(f"{draw_id} 尚未抽取执法人员（draws inspectors）", f"{draw_id} has no officers yet (`draws inspectors`)")
    cert = cert.strip().upper()
    where = [t.entity for t in current.teams if any(m.officer == cert for m in t.members) and entity in (None, t.entity)]
    if not where:
        raise UserError(f"执法人员 {cert} 不在 {draw_id} 的检查小组中", f"Officer {cert} is not in a team of {draw_id}")
    recorded = replacements(conn, draw_id)
    team_draw, entities = _frozen_team_draw(conn, draw)
    # 第十一条: the successor is chosen among officers who can serve today, not at the draw.
    unavailable, conflicts = _directory_now(conn, draw, team_draw, entities)
    new = Replacement(cert, key, entity, note.strip(), frozenset(unavailable), frozenset(conflicts))
    try:
        after = rebuild_assignment(entities, team_draw, [*_as_replacements(recorded), new])
    except AssignmentError as exc:
        raise UserError(exc.zh, str(exc), code=ExitCode.PROBLEMS) from None
    seq = len(recorded) + 1
    now = utc_now()
    conn.execute(
        text(
            "INSERT INTO draw_replacement (draw_id, seq, cert_no, reason, entity, note, replaced_at, operator) "
            "VALUES (:d, :s, :c, :r, :e, :n, :t, :o)"
        ),
        {"d": draw_id, "s": seq, "c": cert, "r": key, "e": entity, "n": note.strip(), "t": now, "o": operator},
    )
    excluded = [(o, "") for o in sorted(unavailable)] + sorted(conflicts)
    if excluded:
        conn.execute(
            text("INSERT INTO draw_replacement_exclusion (draw_id, seq, cert_no, uscc) VALUES (:d, :s, :c, :u)"),
            [{"d": draw_id, "s": seq, "c": c, "u": u} for c, u in excluded],
        )
    before = {t.entity: t for t in current.teams}
    successors = {
        t.entity: [m.officer for m in t.members if m.officer not in {x.officer for x in before[t.entity].members}]
        for t in after.teams if t.entity in where
    }
    entry = audit.append(conn, operator, "draws replace", {
        "draw": draw_id, "seq": seq, "officer": cert, "reason": key, "entity": entity, "note": note.strip(),
        "successors": successors, **new.to_dict(),
    })
    return {"draw": draw_id, "seq": seq, "officer": cert, "reason": key, "entity": entity, "successors": successors, "audit_seq": entry.seq}
