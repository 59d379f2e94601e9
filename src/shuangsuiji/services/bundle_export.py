"""A draw's bundle from the store: everything needed to recompute it offline (docs/verifying.md)."""

from __future__ import annotations

import json

from sqlalchemy import Connection, text

from shuangsuiji.domain import bundle as bundles
from shuangsuiji.errors import UserError
from shuangsuiji.services import audit, tasks
from shuangsuiji.services.draws import _draw_row, _strata, selection
from shuangsuiji.services.teams import _as_replacements, _frozen_team_draw, final_teams, initial_teams, replacements


def export_bundle(conn: Connection, draw_id: str) -> dict:
    """Everything needed to recompute the draw with no store (docs/verifying.md)."""
    draw = _draw_row(conn, draw_id)
    if draw["seed"] is None:  # committed, or voided before it was drawn
        raise UserError(f"{draw_id} 未曾抽取，没有可复核的结果", f"{draw_id} was never drawn; there is nothing to verify")
    task = tasks.get_task(conn, draw["task_id"])
    strata_ids = _strata(conn, draw_id)
    chosen: dict[str, list] = {}
    for s in selection(conn, draw_id):
        chosen.setdefault(s["stratum"], []).append({"id": s["uscc"], "ticket": s["ticket"]})
    strata = [
        {**p, "population": strata_ids[p["name"]], "selected": chosen.get(p["name"], [])}
        for p in draw["parameters"]["strata"]
    ]
    contributions = [
        {"department": r.department, "commit": r.commit_hash, "secret": r.secret}
        for r in conn.execute(
            text("SELECT department, commit_hash, secret FROM draw_contribution WHERE draw_id = :d ORDER BY department"),
            {"d": draw_id},
        )
    ]
    inspectors = None
    initial = initial_teams(conn, draw_id)
    if initial is not None:
        team_draw, _ = _frozen_team_draw(conn, draw)
        pools = {
            dept: [{"id": cert, "ticket": ticket} for cert, ticket in conn.execute(
                text("SELECT cert_no, ticket FROM draw_inspector_pool WHERE draw_id = :d AND department = :p ORDER BY position"),
                {"d": draw_id, "p": dept},
            )]
            for dept in team_draw.pools
        }
        recorded = replacements(conn, draw_id)
        inspectors = {
            "initiating": team_draw.initiating,
            "cooperating": list(team_draw.cooperating),
            "per_department": dict(team_draw.per_department),
            "pools": pools,
            "conflicts": sorted([c, u] for c, u in team_draw.conflicts),
            "assignment": initial.to_dict(),
            "replacements": [
                {**replacement.to_dict(), "at": r["replaced_at"], "operator": r["operator"]}
                for r, replacement in zip(recorded, _as_replacements(recorded))
            ],
            "teams": (final_teams(conn, draw_id) or initial).to_dict(),
        }
        if team_draw.applicable:
            inspectors["applicable"] = {e: list(c) for e, c in team_draw.applicable.items()}
        if team_draw.algorithm != "teams/1":  # bundles from before teams/2 carry no algorithm
            inspectors["algorithm"] = team_draw.algorithm
    task_log = [(e, json.loads(e.payload)) for e in audit.entries(conn, command="draws")]
    log = [{"seq": e.seq, "command": e.command, "ts": e.ts, "hash": e.hash} for e, p in task_log if p.get("draw") == draw_id]
    runs = {p.get("draw"): p for e, p in task_log if e.command == "draws run"}
    earlier = [
        {
            "id": d["id"], "attempt": d["attempt"], "state": d["state"], "created_at": d["created_at"],
            "locked_at": d["locked_at"], "void": {"reason": d["void_reason"], "at": d["voided_at"]} if d["state"] == "void" else None,
            "seed": d["seed"], "seed_provenance": json.loads(d["seed_provenance"]) if d["seed_provenance"] else None,
            "parameters_sha256": d["parameters_sha256"], "population_sha256": d["population_sha256"],
            "selected_sha256": runs.get(d["id"], {}).get("selected_sha256"),
        }
        for d in (dict(r._mapping) for r in conn.execute(
            text("SELECT * FROM draw WHERE task_id = :t AND attempt < :a ORDER BY attempt"), {"t": draw["task_id"], "a": draw["attempt"]}
        ))
    ]
    return {
        "format_version": bundles.FORMAT_VERSION,
        "algorithm": dict(bundles.ALGORITHM),
        "draw": {
            "id": draw_id, "attempt": draw["attempt"], "state": draw["state"], "created_at": draw["created_at"],
            "locked_at": draw["locked_at"], "void": {"reason": draw["void_reason"], "at": draw["voided_at"]} if draw["state"] == "void" else None,
        },
        "task": {"id": task["id"], "name": task["name"], "definition": task["definition"], "definition_sha256": task["sha256"]},
        "parameters": draw["parameters"],
        "parameters_sha256": draw["parameters_sha256"],
        "population_sha256": draw["population_sha256"],
        "seed": {
            "value": draw["seed"], "provenance": draw["seed_provenance"], "commitment": draw["commitment"],
            "contributions": contributions,
        },
        "strata": strata,
        "inspectors": inspectors,
        "audit": log,
        "earlier_attempts": earlier,
    }


def verify_stored(conn: Connection, draw_id: str) -> dict:
    """Recompute a draw from the store exactly as `verify` does from a bundle."""
    bundle = export_bundle(conn, draw_id)
    try:
        summary = bundles.verify(bundle)
    except bundles.Mismatch as exc:
        return {"ok": False, "draw": draw_id, "field": exc.field, "message": exc.message}
    return {"ok": True, "draw": draw_id, **summary}
