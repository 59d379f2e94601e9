"""Draws of a task (第九条 to 第十一条): freeze, commit, seed, draw, lock; void, list, show.

The order of operations is what makes a draw fair: the population and parameters are frozen
and hashed first; only then is the seed obtained; the draw is computed and locked in the same
transaction that records it. Nothing here shows which entities a seed would draw without
recording and locking that draw (docs/verifying.md: no seed shopping). The inspector teams are
services/teams.py, the bundle services/bundle_export.py, the dispatched lists services/dispatch.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from shuangsuiji.domain import bundle as bundles
from shuangsuiji.domain import seed as seeds
from shuangsuiji.domain.audit import canonical_json, utc_now
from shuangsuiji.domain.draw import Codes, sample_strata
from shuangsuiji.domain.task import stratum_ratios
from shuangsuiji.errors import ExitCode, UserError
from shuangsuiji.services import audit, tasks
from shuangsuiji.services.importing import gc_paused
from shuangsuiji.services.upsert import copy_rows
from shuangsuiji.services.population import population
from shuangsuiji.store.dialect import is_sqlite, placeholders

if TYPE_CHECKING:
    from shuangsuiji.store.models import Draw, DrawSelection


@dataclass
class Frozen:
    """A task's population and parameters at one moment, with their digests."""

    strata: dict[str, list[str]]
    parameters: dict
    parameters_sha256: str
    population_sha256: str


def freeze(conn: Connection, task: dict) -> Frozen:
    """Compute the task's population now (第九条) and the parameters that decide the draw."""
    definition = task["definition"]
    pop = population(conn, task)
    rounding = definition["rounding"]
    rows, digests = [], {}
    ratios = stratum_ratios(definition)  # with `unclassified` when the task's scheme draws it (第四条)
    for name in sorted(pop.strata):
        ids = pop.strata[name]
        digests[name] = bundles.population_digest(ids)
        rows.append({
            "name": name, "ratio": ratios[name], "size": len(ids),
            "take": pop.takes[name], "population_sha256": digests[name],  # the task's rounding rule (plan.stratum_takes)
        })
    if not any(r["size"] for r in rows):
        raise UserError(
            f"任务 {task['id']} 的抽查范围内没有可抽取的检查对象（{pop.excluded}）",
            f"Task {task['id']} has an empty population (excluded: {pop.excluded})",
        )
    parameters = {
        "task": {"id": task["id"], "definition_sha256": task["sha256"]},
        "rounding": rounding,
        "strata": rows,
        "excluded": pop.excluded,
        # 第四条: the task's own class scheme, only when it has one (other parameters keep their bytes).
        **({"risk_scheme": definition["risk_scheme"]} if definition.get("risk_scheme") else {}),
    }
    return Frozen(pop.strata, parameters, bundles.parameters_digest(parameters), bundles.combined_digest(digests))


# ---------------------------------------------------------------- reading draws


def _draw_row(conn: Connection, draw_id: str) -> dict:
    row = conn.execute(text("SELECT * FROM draw WHERE id = :d"), {"d": draw_id}).first()
    if row is None:
        raise _no_draw(conn, draw_id)
    return _draw_json(row._mapping)


STATE_NAMES = {"locked": ("已锁定", "locked"), "committed": ("已承诺，未抽取", "committed, not drawn"), "void": ("已作废", "void")}


def _no_draw(conn: Connection, draw_id: str) -> UserError:
    """"No draw X", with what the user most likely meant: X is a task id, or a draw of a task that
    has other draws or none yet; each hint names the draw ids or the command to run."""
    task_id = draw_id
    if conn.execute(text("SELECT 1 FROM task WHERE id = :t"), {"t": task_id}).first() is None:
        task_id = draw_id.rsplit("-D", 1)[0] if "-D" in draw_id else ""
        if not task_id or conn.execute(text("SELECT 1 FROM task WHERE id = :t"), {"t": task_id}).first() is None:
            return UserError(f"没有抽取记录 {draw_id}（shuangsuiji draws list 列出全部抽取）",
                             f"No draw {draw_id} (`shuangsuiji draws list` lists them)")
    is_task = task_id == draw_id
    zh = f"没有抽取记录 {draw_id}：" + ("这是任务编号，它" if is_task else f"任务 {task_id} ")
    en = f"No draw {draw_id}: " + ("that is a task id; " if is_task else f"task {task_id} ")
    draws = conn.execute(text("SELECT id, state FROM draw WHERE task_id = :t ORDER BY attempt"), {"t": task_id}).all()
    if not draws:
        return UserError(zh + f"尚未抽取（shuangsuiji draws run {task_id}）",
                         en + ("it " if is_task else "") + f"has not been drawn yet (`shuangsuiji draws run {task_id}`)")
    return UserError(zh + "的抽取为 " + "、".join(f"{d}（{STATE_NAMES.get(st, (st, st))[0]}）" for d, st in draws),
                     en + ("its draws: " if is_task else "has the draws ") +
                     ", ".join(f"{d} ({STATE_NAMES.get(st, (st, st))[1]})" for d, st in draws))


def get_draw(conn: Connection, draw_id: str) -> Draw:
    """One draw as a typed row; the "no draw" error names what the user most likely meant."""
    from sqlmodel import select

    from shuangsuiji.store.models import Draw, rows

    found = rows(conn, select(Draw).where(Draw.id == draw_id))
    if not found:
        raise _no_draw(conn, draw_id)
    return found[0]


def draw_rows(conn: Connection, task_id: str | None = None) -> list[Draw]:
    """Every draw (of one task), void ones included, as typed rows by task and attempt."""
    from sqlmodel import select

    from shuangsuiji.store.models import Draw, rows

    query = select(Draw).order_by(Draw.task_id, Draw.attempt)
    return rows(conn, query if task_id is None else query.where(Draw.task_id == task_id))


def selection_rows(conn: Connection, draw_id: str) -> list[DrawSelection]:
    """The locked list as typed rows (no names: ``selection`` joins those), by stratum and position."""
    from sqlmodel import select

    from shuangsuiji.store.models import DrawSelection, rows

    get_draw(conn, draw_id)
    return rows(conn, select(DrawSelection).where(DrawSelection.draw_id == draw_id)
                .order_by(DrawSelection.stratum, DrawSelection.position))


def _draw_json(row) -> dict:
    out = dict(row)
    for key in ("parameters", "commitment", "seed_provenance"):
        out[key] = json.loads(out[key]) if out[key] else None
    return out


def _open_draw(conn: Connection, task_id: str) -> dict | None:
    """The task's current draw that is not void (committed or locked), if any."""
    row = conn.execute(
        text("SELECT * FROM draw WHERE task_id = :t AND state != 'void' ORDER BY attempt DESC LIMIT 1"), {"t": task_id}
    ).first()
    return _draw_json(row._mapping) if row else None


def _strata(conn: Connection, draw_id: str) -> dict[str, Codes]:
    """Each stratum's frozen codes as stored: one text, never split whole (a province's 14 million)."""
    rows = conn.execute(text("SELECT stratum, ids FROM draw_stratum WHERE draw_id = :d ORDER BY stratum"), {"d": draw_id})
    return {name: Codes(ids or "") for name, ids in rows}


def selection(conn: Connection, draw_id: str) -> list[dict]:
    """The locked list in draw order (strata by name, then ticket order), with names."""
    rows = conn.execute(
        text(
            "SELECT s.stratum, s.position, s.uscc, s.ticket, COALESCE(e.name, l.name) AS name, "
            "e.region, e.address FROM draw_selection s JOIN draw d ON d.id = s.draw_id "
            "LEFT JOIN entity e ON e.uscc = s.uscc "
            "LEFT JOIN task_list_entity l ON l.task_id = d.task_id AND l.uscc = s.uscc "
            "WHERE s.draw_id = :d ORDER BY s.stratum, s.position"
        ),
        {"d": draw_id},
    )
    return [dict(r._mapping) for r in rows]


def _locked(conn: Connection, draw_id: str) -> dict:
    draw = _draw_row(conn, draw_id)
    if draw["state"] != "locked":
        raise UserError(f"{draw_id} 不是锁定状态（{draw['state']}）", f"{draw_id} is not locked ({draw['state']})")
    return draw


# ---------------------------------------------------------------- commit, contribute, reveal


def _joined(ids: list[str] | Codes) -> str:
    """A stratum's codes as draw_stratum.ids keeps them: one per line."""
    return ids.text if isinstance(ids, Codes) else "\n".join(ids)


def _new_draw(conn: Connection, task: dict, frozen: Frozen, operator: str, commitment: dict | None) -> str:
    attempt = conn.execute(text("SELECT COALESCE(MAX(attempt), 0) + 1 FROM draw WHERE task_id = :t"), {"t": task["id"]}).scalar_one()
    draw_id = f"{task['id']}-D{attempt}"
    conn.execute(
        text(
            "INSERT INTO draw (id, task_id, attempt, state, algorithm, parameters, parameters_sha256, population_sha256, "
            "commitment, created_at, operator) VALUES (:id, :task, :attempt, 'committed', :alg, :params, :psha, :popsha, "
            ":commitment, :now, :op)"
        ),
        {
            "id": draw_id, "task": task["id"], "attempt": attempt,
            "alg": f"{bundles.ALGORITHM['name']}-{bundles.ALGORITHM['version']}",
            "params": canonical_json(frozen.parameters), "psha": frozen.parameters_sha256,
            "popsha": frozen.population_sha256,
            "commitment": canonical_json(commitment) if commitment is not None else None,
            "now": utc_now(), "op": operator,
        },
    )
    conn.exec_driver_sql(
        "INSERT INTO draw_stratum (draw_id, stratum, size, take, population_sha256, ids) VALUES "
        + f"({placeholders(conn, 6)})",
        [
            (draw_id, s["name"], s["size"], s["take"], s["population_sha256"], _joined(frozen.strata[s["name"]]))
            for s in frozen.parameters["strata"]
        ],
    )
    return draw_id


def _refuse_if_drawn(conn: Connection, task_id: str) -> dict | None:
    current = _open_draw(conn, task_id)
    if current and current["state"] == "locked":
        raise UserError(
            f"任务 {task_id} 已有锁定的抽取结果 {current['id']}，不能重抽（如确需重抽，先用 draws void 作废并说明理由）。",
            f"Task {task_id} already has a locked draw {current['id']}; it is never re-drawn "
            "(void it first with `draws void`, giving the reason, if a new draw is truly needed).",
            code=ExitCode.ALREADY_DONE,
        )
    return current


def commit(conn: Connection, task_id: str, sources: list[dict], operator: str) -> dict:
    """Freeze population and parameters and record which seed sources will be used."""
    task = tasks.get_task(conn, task_id)
    current = _refuse_if_drawn(conn, task_id)
    if current:
        raise UserError(
            f"任务 {task_id} 已有承诺 {current['id']}，等待抽取（或先作废）。",
            f"Task {task_id} already has a commitment {current['id']} waiting to be drawn (or void it first).",
            code=ExitCode.ALREADY_DONE,
        )
    if not sources:
        raise UserError("至少需要一个种子来源（--beacon、--dice 或 --department）",
                        "Give at least one seed source (--beacon, --dice or --department)", code=ExitCode.USAGE)
    seen = set()
    committed_at = utc_now()
    for s in sources:
        key = (s["kind"], s["label"])
        if key in seen:
            raise UserError(f"种子来源重复：{key}", f"Seed source given twice: {key}", code=ExitCode.USAGE)
        seen.add(key)
        problem = seeds.check_beacon_label(s["label"], _parse_time(committed_at)) if s["kind"] == "beacon" else None
        if problem:
            raise UserError(f"公共信标 {s['label']!r} 不可用：{problem}", f"Beacon {s['label']!r} refused: {problem}", code=ExitCode.USAGE)
    frozen = freeze(conn, task)
    commitment = {
        "population_sha256": frozen.population_sha256,
        "parameters_sha256": frozen.parameters_sha256,
        "sources": sorted(sources, key=lambda s: (s["kind"], s["label"])),
        "committed_at": committed_at,
    }
    draw_id = _new_draw(conn, task, frozen, operator, commitment)
    entry = audit.append(conn, operator, "draws commit", {"draw": draw_id, "task": task_id, "commitment": commitment})
    # What to publish now, before any seed exists (docs/coordinators.md); `verify --commitment` checks a bundle against it.
    published = {"format": bundles.COMMITMENT_FORMAT, "draw": draw_id, "task": task_id, **commitment,
                 "audit_head": {"seq": entry.seq, "hash": entry.hash}}  # the `draws commit` entry
    return {"draw": draw_id, "task": task_id, "commitment": commitment, "published": published,
            "strata": frozen.parameters["strata"], "audit_seq": entry.seq}


def _parse_time(stamp: str):
    from datetime import datetime, timezone

    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def _committed(conn: Connection, task_id: str) -> dict:
    current = _refuse_if_drawn(conn, task_id)
    if current is None or current["commitment"] is None:
        raise UserError(f"任务 {task_id} 没有待抽取的承诺（先运行 draws commit）",
                        f"Task {task_id} has no commitment waiting (run `draws commit` first)")
    return current


def contribute(conn: Connection, task_id: str, department: str, commit_hex: str, operator: str) -> dict:
    """A department commits to its secret by hash before anything is revealed."""
    draw = _committed(conn, task_id)
    department = department.upper()
    labels = {s["label"] for s in draw["commitment"]["sources"] if s["kind"] == "department"}
    if department not in labels:
        raise UserError(f"部门 {department} 不在承诺的种子来源中", f"Department {department} is not a committed seed source")
    commit_hex = commit_hex.lower()
    if not seeds.is_commit_hash(commit_hex):
        raise UserError("--commit 应为 64 位十六进制 SHA-256", "--commit must be a 64-hex-digit SHA-256", code=ExitCode.USAGE)
    exists = conn.execute(text("SELECT 1 FROM draw_contribution WHERE draw_id = :d AND department = :c"),
                          {"d": draw["id"], "c": department}).first()
    if exists:
        raise UserError(f"部门 {department} 已提交承诺", f"Department {department} has already committed", code=ExitCode.ALREADY_DONE)
    conn.execute(
        text("INSERT INTO draw_contribution (draw_id, department, commit_hash, committed_at) VALUES (:d, :c, :h, :t)"),
        {"d": draw["id"], "c": department, "h": commit_hex, "t": utc_now()},
    )
    entry = audit.append(conn, operator, "draws contribute", {"draw": draw["id"], "department": department, "commit": commit_hex})
    return {"draw": draw["id"], "department": department, "commit": commit_hex, "audit_seq": entry.seq}


def reveal(conn: Connection, task_id: str, department: str, secret: str, operator: str) -> dict:
    draw = _committed(conn, task_id)
    department = department.upper()
    row = conn.execute(
        text("SELECT commit_hash, revealed_at FROM draw_contribution WHERE draw_id = :d AND department = :c"),
        {"d": draw["id"], "c": department},
    ).first()
    if row is None:
        raise UserError(f"部门 {department} 尚未提交承诺", f"Department {department} has not committed yet")
    if row.revealed_at:
        raise UserError(f"部门 {department} 已揭示", f"Department {department} has already revealed", code=ExitCode.ALREADY_DONE)
    if seeds.commit_hash(secret) != row.commit_hash and seeds.commit_hash(secret + "\n") == row.commit_hash:
        # Committed as `echo secret | sha256sum` makes it: the secret with its newline. That, exactly,
        # is the secret the hash binds (no other text could match it), so it is what is revealed.
        secret += "\n"
    if seeds.commit_hash(secret) != row.commit_hash:
        # Recorded, then refused (the caller commits the entry before raising): a failed reveal is evidence.
        entry = audit.append(conn, operator, "draws reveal-mismatch", {
            "draw": draw["id"], "department": department, "given_sha256": seeds.commit_hash(secret), "commit": row.commit_hash,
        })
        return {"ok": False, "draw": draw["id"], "department": department, "audit_seq": entry.seq}
    conn.execute(
        text("UPDATE draw_contribution SET secret = :s, revealed_at = :t WHERE draw_id = :d AND department = :c"),
        {"s": secret, "t": utc_now(), "d": draw["id"], "c": department},
    )
    entry = audit.append(conn, operator, "draws reveal", {"draw": draw["id"], "department": department})
    return {"ok": True, "draw": draw["id"], "department": department, "audit_seq": entry.seq}


# ---------------------------------------------------------------- run


def run(
    conn: Connection,
    task_id: str,
    *,
    operator: str,
    seed: str | None = None,
    beacon_value: str | None = None,
    dice: str | None = None,
) -> dict:
    """Draw and lock in one transaction: freeze (or check the commitment), seed, draw, lock."""
    # A million fetched rows, ids and digests, none in a reference cycle: the cyclic collector would
    # only re-scan them as they pile up (measured: 0.1-0.15 s of a million-entity draw).
    with gc_paused():
        task = tasks.get_task(conn, task_id)
        current = _refuse_if_drawn(conn, task_id)
        if current and current["commitment"] is not None:
            if seed is not None:
                raise UserError(
                    "该任务已承诺种子来源，不能再用 --seed 指定种子。",
                    "This task's seed sources are committed; --seed cannot replace them.",
                    code=ExitCode.USAGE,
                )
            draw_id = current["id"]
            now = freeze(conn, task)
            committed = current["commitment"]
            for key, value in (("population_sha256", now.population_sha256), ("parameters_sha256", now.parameters_sha256)):
                if committed[key] != value:
                    what = ("检查对象范围", "population") if key.startswith("population") else ("抽取参数", "parameters")
                    raise UserError(
                        f"承诺之后{what[0]}已变化，拒绝抽取（作废 {draw_id} 后重新承诺）。",
                        f"The {what[1]} changed since the commitment; refusing to draw (void {draw_id} and commit again).",
                        code=ExitCode.PROBLEMS,
                    )
            value, provenance = _committed_seed(conn, draw_id, committed, beacon_value, dice)
            strata = _strata(conn, draw_id)
            parameters = current["parameters"]
        else:
            if current is not None:  # a committed draw without commitment cannot exist; be safe
                raise UserError(f"{current['id']} 状态异常", f"{current['id']} is in an unexpected state")
            if beacon_value or dice:
                raise UserError("没有承诺时不能用 --beacon-value / --dice（先 draws commit）",
                                "--beacon-value / --dice need a commitment first (`draws commit`)", code=ExitCode.USAGE)
            frozen = freeze(conn, task)
            draw_id = _new_draw(conn, task, frozen, operator, None)
            if seed is not None:
                if not seed.strip():
                    raise UserError("--seed 不能为空", "--seed must not be empty", code=ExitCode.USAGE)
                value, provenance = seed, {"kind": "given"}
            else:
                value, provenance = seeds.random_seed(), {"kind": "csprng", "bits": 256}
            strata = frozen.strata
            parameters = frozen.parameters
        rows, counts = [], {}
        drawn = sample_strata(strata, value, {s["name"]: s["take"] for s in parameters["strata"]})
        for stratum in parameters["strata"]:
            chosen = drawn[stratum["name"]]
            counts[stratum["name"]] = len(chosen)
            rows += [(draw_id, stratum["name"], i, s.id, s.ticket) for i, s in enumerate(chosen, start=1)]
        _insert_selection(conn, rows)
        locked_at = utc_now()
        conn.execute(
            text("UPDATE draw SET state = 'locked', seed = :seed, seed_provenance = :prov, locked_at = :t WHERE id = :d"),
            {"seed": value, "prov": canonical_json(provenance), "t": locked_at, "d": draw_id},
        )
        selected_sha256 = bundles.selection_digest(r[1:] for r in rows)
        entry = audit.append(conn, operator, "draws run", {
            "draw": draw_id, "task": task_id, "seed": value, "seed_provenance": provenance,
            "population_sha256": bundles.combined_digest({s["name"]: s["population_sha256"] for s in parameters["strata"]}),
            "parameters_sha256": bundles.parameters_digest(parameters), "selected": counts, "selected_sha256": selected_sha256,
            "locked_at": locked_at,
        })
        return {
            "draw": draw_id, "task": task_id, "state": "locked", "seed": value, "seed_provenance": provenance,
            "strata": [{**s, "selected": counts[s["name"]]} for s in parameters["strata"]],
            "excluded": parameters["excluded"], "locked_at": locked_at, "audit_seq": entry.seq,
        }


def _insert_selection(conn: Connection, rows: list[tuple]) -> None:
    """The drawn list into draw_selection: SQLite's executemany is one C loop; PostgreSQL's
    executemany is a round trip a row (0.2 s for 8,000 rows), so it gets COPY (0.01 s)."""
    if is_sqlite(conn):
        conn.exec_driver_sql(f"INSERT INTO draw_selection (draw_id, stratum, position, uscc, ticket) VALUES ({placeholders(conn, 5)})", rows)
    else:
        copy_rows(conn, "draw_selection", "draw_id, stratum, position, uscc, ticket", rows)


def _committed_seed(conn, draw_id: str, commitment: dict, beacon_value: str | None, dice: str | None) -> tuple[str, dict]:
    """The seed from the committed sources, each revealed; refuses anything missing or extra."""
    parts, public = [], []
    contributions = {
        r.department: r for r in conn.execute(
            text("SELECT department, commit_hash, secret FROM draw_contribution WHERE draw_id = :d"), {"d": draw_id}
        )
    }
    for source in commitment["sources"]:
        kind, label = source["kind"], source["label"]
        if kind == "department":
            c = contributions.get(label)
            if c is None or c.secret is None:
                raise UserError(f"部门 {label} 尚未提交并揭示其秘密", f"Department {label} has not committed and revealed its secret")
            parts.append(("department", label, c.secret))
        elif kind == "beacon":
            if not beacon_value:
                raise UserError(f"需要公共信标值 --beacon-value（{label}）", f"Give the public beacon value --beacon-value ({label})", code=ExitCode.USAGE)
            problem = seeds.check_beacon_value(beacon_value.strip().lower())
            if problem:
                raise UserError(f"公共信标值无效：{problem}", f"Invalid beacon value: {problem}", code=ExitCode.USAGE)
            public.append({"kind": kind, "label": label, "value": beacon_value.strip().lower()})
        elif kind == "dice":
            if not dice:
                raise UserError(f"需要掷骰结果 --dice（{label}）", f"Give the dice digits --dice ({label})", code=ExitCode.USAGE)
            problem = seeds.check_dice(dice.strip())
            if problem:
                raise UserError(f"掷骰结果无效：{problem}", f"Invalid dice value: {problem}", code=ExitCode.USAGE)
            public.append({"kind": kind, "label": label, "value": dice.strip()})
    parts += [(p["kind"], p["label"], p["value"]) for p in public]
    return seeds.combine(parts), {"kind": "committed", "public_parts": public}


# ---------------------------------------------------------------- void, list, show


def void(conn: Connection, draw_id: str, reason: str | None, operator: str, *, confirm: bool = False) -> dict:
    """Mark a draw void: it stays, with its reason, in the log, lists and reports.

    A locked draw that officers, results or follow-ups already build on is voided in two steps by
    two operators: `draws void --reason` records the request; `draws void --confirm` by a different
    operator completes it (docs/coordinators.md says what this proves and what it cannot).
    """
    draw = _draw_row(conn, draw_id)
    if draw["state"] == "void":
        raise UserError(f"{draw_id} 已作废", f"{draw_id} is already void", code=ExitCode.ALREADY_DONE)
    request = _void_request(conn, draw_id)
    if confirm:
        if request is None:
            raise UserError(f"{draw_id} 没有待确认的作废申请（先由一人运行 draws void --reason）",
                            f"{draw_id} has no void request to confirm (one operator runs `draws void --reason` first)")
        if request.operator == operator:
            raise UserError(
                f"作废申请由 {operator} 提出，须由另一名操作人确认（设置 SHUANGSUIJI_OPERATOR 或 --operator）",
                f"The void was requested by {operator}; a different operator must confirm it (SHUANGSUIJI_OPERATOR or --operator)",
                code=ExitCode.USAGE,
            )
        asked = json.loads(request.payload)["reason"]
        if reason and reason.strip() != asked:
            raise UserError(f"确认的理由须与申请一致：{asked}", f"The confirmation's reason must be the request's: {asked}", code=ExitCode.USAGE)
        return _void_now(conn, draw, asked, operator, {"requested_by": request.operator, "request_seq": request.seq})
    if not (reason or "").strip():
        raise UserError("作废必须说明理由（--reason）", "A void needs a reason (--reason)", code=ExitCode.USAGE)
    reason = reason.strip()
    work = _built_on(conn, draw_id) if draw["state"] == "locked" else []
    if not work:
        return _void_now(conn, draw, reason, operator, {})
    if request is not None:
        raise UserError(f"{draw_id} 的作废申请（第 {request.seq} 条，{request.operator}）等待另一名操作人确认：draws void {draw_id} --confirm",
                        f"{draw_id}'s void request (entry {request.seq}, by {request.operator}) awaits a different operator's "
                        f"`draws void {draw_id} --confirm`", code=ExitCode.ALREADY_DONE)
    entry = audit.append(conn, operator, "draws void-request", {"draw": draw_id, "task": draw["task_id"], "reason": reason, "built_on": work})
    return {"draw": draw_id, "state": "void requested", "reason": reason, "built_on": work, "requested_by": operator,
            "audit_seq": entry.seq}


def _built_on(conn: Connection, draw_id: str) -> list[str]:
    """What a locked draw already carries: officers, results, follow-ups."""
    return [label for table, label in (("draw_team", "officers"), ("inspection_result", "results"), ("followup", "followups"))
            if conn.execute(text(f"SELECT 1 FROM {table} WHERE draw_id = :d LIMIT 1"), {"d": draw_id}).first()]


def _void_request(conn: Connection, draw_id: str) -> audit.Entry | None:
    """The draw's void request waiting for confirmation (a draw is voided once, so the last one)."""
    found = [e for e in audit.entries(conn, command="draws void-request") if json.loads(e.payload).get("draw") == draw_id]
    return found[-1] if found else None


def _void_now(conn: Connection, draw: dict, reason: str, operator: str, confirmation: dict) -> dict:
    now = utc_now()
    conn.execute(text("UPDATE draw SET state = 'void', void_reason = :r, voided_at = :t WHERE id = :d"),
                 {"r": reason, "t": now, "d": draw["id"]})
    entry = audit.append(conn, operator, "draws void", {"draw": draw["id"], "task": draw["task_id"], "was": draw["state"],
                                                         "reason": reason, **confirmation})
    return {"draw": draw["id"], "state": "void", "reason": reason, "voided_at": now, **confirmation, "audit_seq": entry.seq}


def list_draws(conn: Connection, task_id: str | None = None) -> list[dict]:
    sql = (
        "SELECT d.id, d.task_id, d.attempt, d.state, d.created_at, d.locked_at, d.void_reason, d.voided_at, d.operator, "
        "(SELECT COUNT(*) FROM draw_selection s WHERE s.draw_id = d.id) AS selected, "
        "(SELECT COALESCE(SUM(size), 0) FROM draw_stratum t WHERE t.draw_id = d.id) AS population, "
        "(SELECT COUNT(*) FROM draw_team m WHERE m.draw_id = d.id) AS team_members, "
        "(SELECT COUNT(*) FROM draw_replacement r WHERE r.draw_id = d.id) AS replacements FROM draw d"
    )
    params = {}
    if task_id:
        sql += " WHERE d.task_id = :t"
        params["t"] = task_id
    return [dict(r._mapping) for r in conn.execute(text(sql + " ORDER BY d.task_id, d.attempt"), params)]


def show(conn: Connection, draw_id: str) -> dict:
    from shuangsuiji.services.teams import final_teams, replacements, team_problems  # here: teams imports this module

    draw = _draw_row(conn, draw_id)
    out = {k: draw[k] for k in ("id", "task_id", "attempt", "state", "algorithm", "created_at", "locked_at",
                                "void_reason", "voided_at", "operator", "seed", "seed_provenance", "commitment",
                                "parameters_sha256", "population_sha256")}
    out["strata"] = draw["parameters"]["strata"]
    out["excluded"] = draw["parameters"]["excluded"]
    out["selected"] = selection(conn, draw_id) if draw["state"] != "committed" else []
    teams = final_teams(conn, draw_id)
    out["teams"] = teams.to_dict()["teams"] if teams else []
    out["replacements"] = replacements(conn, draw_id)
    out["team_problems"] = team_problems(conn, draw_id)
    return out
