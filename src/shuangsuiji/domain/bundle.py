"""The offline bundle of a draw, and its verification without any store (design.md §3).

A bundle is one JSON document holding everything needed to recompute a draw: the frozen
population of every stratum, the parameters, the seed and its provenance, the selection
with tickets, and the inspector pools, teams and replacements. `verify` recomputes all of
it and names the first difference. docs/verifying.md documents every field.
"""

from __future__ import annotations

import hashlib
from typing import Any

from shuangsuiji.domain.audit import canonical_json
from shuangsuiji.domain.draw import DuplicateIdError, first_difference, officer_order, sample
from shuangsuiji.domain.seed import combine, commit_hash
from shuangsuiji.domain.teams import ALGORITHMS, Assignment, Replacement, TeamDraw, assignment_difference, rebuild_assignment

FORMAT_VERSION = 1
ALGORITHM = {"name": "consistent_sampler", "version": "1.0.10"}

TOP_KEYS = {
    "format_version", "algorithm", "draw", "task", "parameters", "parameters_sha256",
    "population_sha256", "seed", "strata", "inspectors", "audit",
}
STRATUM_KEYS = {"name", "ratio", "size", "take", "population_sha256", "population", "selected"}
SEED_KEYS = {"value", "provenance", "commitment", "contributions"}
DRAW_KEYS = {"id", "attempt", "state", "created_at", "locked_at", "void"}
TASK_KEYS = {"id", "name", "definition", "definition_sha256"}
INSPECTOR_KEYS = {"initiating", "cooperating", "per_department", "pools", "conflicts", "assignment", "replacements", "teams"}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def population_digest(ids: list[str]) -> str:
    """SHA-256 of the stratum's ids, sorted (code-point order), one per line, no final newline."""
    return sha256_text("\n".join(sorted(ids)))


def combined_digest(digests: dict[str, str]) -> str:
    """The population's digest: SHA-256 of the canonical JSON {stratum: digest}."""
    return sha256_text(canonical_json(digests))


def parameters_digest(parameters: dict) -> str:
    return sha256_text(canonical_json(parameters))


def entities_in_order(strata: list[dict]) -> list[str]:
    """Drawn entities in draw order: strata by name, each in ticket order."""
    return [s["id"] for stratum in sorted(strata, key=lambda x: x["name"]) for s in stratum["selected"]]


def team_draw(seed: str, inspectors: dict) -> TeamDraw:
    return TeamDraw(
        seed=seed,
        initiating=inspectors["initiating"],
        pools={d: [o["id"] for o in pool] for d, pool in inspectors["pools"].items()},
        cooperating=inspectors["cooperating"],
        applicable=inspectors.get("applicable", {}),
        conflicts=frozenset((o, e) for o, e in inspectors["conflicts"]),
        per_department=inspectors["per_department"],
        algorithm=inspectors.get("algorithm", "teams/1"),  # absent: a bundle from before teams/2
    )


class Mismatch(Exception):
    """The first difference found; ``field`` names where, ``message`` says what."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def verify(bundle: Any, take_for=None) -> None:
    """Recompute everything in the bundle; raise Mismatch at the first difference.

    ``take_for(size, ratio, rounding)`` is the task's rounding rule (plan.sample_size).
    """
    if take_for is None:
        from shuangsuiji.domain.plan import sample_size as take_for
    if not isinstance(bundle, dict):
        raise Mismatch("bundle", "not a JSON object")
    _keys("bundle", bundle, TOP_KEYS)
    if bundle["format_version"] != FORMAT_VERSION:
        raise Mismatch("format_version", f"expected {FORMAT_VERSION}, found {bundle['format_version']!r}")
    if bundle["algorithm"] != ALGORITHM:
        raise Mismatch("algorithm", f"expected {ALGORITHM}, found {bundle['algorithm']!r}")
    _keys("draw", bundle["draw"], DRAW_KEYS)
    _task(bundle)
    for i, item in enumerate(bundle["audit"] if isinstance(bundle["audit"], list) else [None]):
        _keys(f"audit[{i}]", item, {"seq", "command", "ts", "hash"})
    seed = _seed(bundle)
    parameters = bundle["parameters"]
    if parameters_digest(parameters) != bundle["parameters_sha256"]:
        raise Mismatch("parameters_sha256", "does not match the parameters")
    strata = bundle["strata"]
    if not isinstance(strata, list) or not strata:
        raise Mismatch("strata", "must be a non-empty list")
    names = [s.get("name") if isinstance(s, dict) else None for s in strata]
    if names != sorted(names, key=str) or len(set(names)) != len(names):
        raise Mismatch("strata", f"names must be unique and in order, found {names}")
    rounding = parameters["rounding"]
    declared = {p["name"]: p for p in parameters["strata"]}
    joint_takes = _ordered_takes(parameters, strata) if rounding == "ordered" else None
    owner: dict[str, str] = {}
    digests = {}
    for stratum in strata:
        name = stratum["name"]
        where = f"strata[{name}]"
        _keys(where, stratum, STRATUM_KEYS)
        ids = stratum["population"]
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            raise Mismatch(f"{where}.population", "must be a list of ids (text)")
        for x in ids:
            if x in owner:
                other = owner[x]
                raise Mismatch(f"{where}.population", f"id {x} appears twice" + ("" if other == name else f" (also in stratum {other})"))
            owner[x] = name
        digest = population_digest(ids)
        digests[name] = digest
        if digest != stratum["population_sha256"]:
            raise Mismatch(f"{where}.population_sha256", "does not match the population")
        if len(ids) != stratum["size"]:
            raise Mismatch(f"{where}.size", f"expected {len(ids)}, found {stratum['size']}")
        expected_take = joint_takes[name] if joint_takes is not None else take_for(len(ids), stratum["ratio"], rounding)
        if stratum["take"] != expected_take:
            raise Mismatch(f"{where}.take", f"the ratio {stratum['ratio']} ({rounding}) gives {expected_take}, found {stratum['take']}")
        frozen = declared.get(name)
        if frozen != {k: stratum[k] for k in ("name", "ratio", "size", "take", "population_sha256")}:
            raise Mismatch(f"{where}", "differs from the frozen parameters")
        if not isinstance(stratum["selected"], list):
            raise Mismatch(f"{where}.selected", "must be a list")
        for j, item in enumerate(stratum["selected"], start=1):
            _keys(f"{where}.selected position {j}", item, {"id", "ticket"})
        try:
            recomputed = sample(ids, seed, stratum["take"])
        except DuplicateIdError as exc:
            raise Mismatch(f"{where}.population", str(exc)) from None
        difference = first_difference(stratum["selected"], recomputed, label=f"{where}.selected")
        if difference:
            field, _, message = difference.partition(": ")
            raise Mismatch(field, message)
    if set(declared) != set(digests):
        raise Mismatch("parameters.strata", f"names {sorted(declared)} differ from the bundle's {sorted(digests)}")
    if combined_digest(digests) != bundle["population_sha256"]:
        raise Mismatch("population_sha256", "does not match the strata's populations")
    commitment = bundle["seed"]["commitment"]
    if commitment is not None:
        for key, value in (("population_sha256", bundle["population_sha256"]), ("parameters_sha256", bundle["parameters_sha256"])):
            if commitment.get(key) != value:
                raise Mismatch(f"seed.commitment.{key}", "the draw's population or parameters changed after the commitment")
    if bundle["inspectors"] is not None:
        _inspectors(bundle, seed)


def _keys(where: str, value: Any, expected: set[str]) -> None:
    if not isinstance(value, dict):
        raise Mismatch(where, "not a JSON object")
    missing, extra = sorted(expected - set(value)), sorted(set(value) - expected)
    if missing:
        raise Mismatch(where, f"missing field(s) {', '.join(missing)}")
    if extra:
        raise Mismatch(where, f"unexpected field(s) {', '.join(extra)}")


def _task(bundle: dict) -> None:
    """The task block is the frozen task the parameters name, and the ratios and rounding are its own."""
    task = bundle["task"]
    _keys("task", task, TASK_KEYS)
    definition = task["definition"]
    if sha256_text(canonical_json(definition)) != task["definition_sha256"]:
        raise Mismatch("task.definition_sha256", "does not match the task's definition")
    parameters = bundle["parameters"]
    if not isinstance(parameters, dict) or parameters.get("task") != {"id": task["id"], "definition_sha256": task["definition_sha256"]}:
        raise Mismatch("parameters.task", "does not name this task and its definition_sha256")
    if parameters.get("rounding") != definition["rounding"]:
        raise Mismatch("parameters.rounding", f"the task's rounding is {definition['rounding']!r}")
    # 第四条: a task's own class scheme is carried under the parameters, and gives `unclassified` its ratio.
    if parameters.get("risk_scheme") != definition.get("risk_scheme"):
        raise Mismatch("parameters.risk_scheme", f"the task's class scheme is {definition.get('risk_scheme')!r}")
    scheme = definition.get("risk_scheme") or {}
    ratios = {**definition["ratios"], **({"unclassified": scheme["unclassified"]} if scheme.get("unclassified") is not None else {})}
    for p in parameters["strata"]:
        if p["ratio"] != ratios.get(p["name"]):
            raise Mismatch(f"parameters.strata[{p['name']}].ratio", f"the task's ratio is {ratios.get(p['name'])!r}")


def _ordered_takes(parameters: dict, strata: list) -> dict[str, int]:
    """The ``ordered`` rule's takes: all strata at once, in the scheme's class order (plan.stratum_takes)."""
    from shuangsuiji.domain.directory import RISK_CLASSES
    from shuangsuiji.domain.plan import stratum_takes

    classes = (parameters.get("risk_scheme") or {}).get("classes") or RISK_CLASSES
    try:
        return stratum_takes({s["name"]: len(s["population"]) for s in strata}, {s["name"]: s["ratio"] for s in strata}, "ordered", classes)
    except (KeyError, TypeError, ValueError) as exc:
        raise Mismatch("strata", f"cannot allocate the ordered takes: {exc}") from None


def _applicable(definition: dict, entities: list[str]) -> dict[str, list[str]]:
    """Cooperating departments with items in the task, per entity; {} when all of them have items
    (as services/draws.py records it; 第十一条: the team is the officers of the executing departments)."""
    item_departments = {item["department"] for item in definition["items"]}
    applicable = [c for c in definition["cooperating"] if c in item_departments]
    return {e: applicable for e in entities} if len(applicable) != len(definition["cooperating"]) else {}


def _seed(bundle: dict) -> str:
    record = bundle["seed"]
    _keys("seed", record, SEED_KEYS)
    value = record["value"]
    if not isinstance(value, str) or not value:
        raise Mismatch("seed.value", "must be non-empty text")
    if record["commitment"] is None:
        return value
    parts = []
    for i, c in enumerate(record["contributions"]):
        _keys(f"seed.contributions[{i}]", c, {"department", "commit", "secret"})
        if commit_hash(c["secret"]) != c["commit"]:
            raise Mismatch(f"seed.contributions[{i}]", f"department {c['department']}'s secret does not match its commitment")
        parts.append(("department", c["department"], c["secret"]))
    for part in record["provenance"].get("public_parts", []):
        parts.append((part["kind"], part["label"], part["value"]))
    sources = sorted((s["kind"], s["label"]) for s in record["commitment"]["sources"])
    if sorted((k, l) for k, l, _ in parts) != sources:
        raise Mismatch("seed.provenance", "the revealed parts are not the committed sources")
    if combine(parts) != value:
        raise Mismatch("seed.value", "is not the canonical combination of the revealed parts")
    return value


def _inspectors(bundle: dict, seed: str) -> None:
    inspectors = bundle["inspectors"]
    optional = {"applicable", "algorithm"} & set(inspectors)
    _keys("inspectors", inspectors, INSPECTOR_KEYS | optional)
    algorithm = inspectors.get("algorithm", "teams/1")
    if algorithm not in ALGORITHMS:
        raise Mismatch("inspectors.algorithm", f"team algorithm {algorithm!r} is not known to this version of shuangsuiji "
                       f"(it verifies {', '.join(ALGORITHMS)}); use the version that made the bundle")
    entities = entities_in_order(bundle["strata"])
    expected = _applicable(bundle["task"]["definition"], entities)
    if inspectors.get("applicable", {}) != expected:
        raise Mismatch("inspectors.applicable", f"the task's check items give {expected}")
    for i, r in enumerate(inspectors["replacements"]):
        recorded = {"unavailable", "conflicts"} & set(r) if isinstance(r, dict) else set()
        _keys(f"inspectors.replacements[{i}]", r, {"officer", "reason", "entity", "note", "at", "operator"} | recorded)
    for department, pool in inspectors["pools"].items():
        for j, item in enumerate(pool, start=1):
            _keys(f"inspectors.pools[{department}] position {j}", item, {"id", "ticket"})
        recomputed = officer_order([o["id"] for o in pool], seed, department)
        difference = first_difference(pool, recomputed, label=f"inspectors.pools[{department}]")
        if difference:
            field, _, message = difference.partition(": ")
            raise Mismatch(field, message)
    draw = team_draw(seed, inspectors)
    initial = Assignment.from_dict(inspectors["assignment"])
    difference = assignment_difference(initial, rebuild_assignment(entities, draw, []))
    if difference:
        raise Mismatch("inspectors.assignment", difference)
    replacements = [Replacement.from_dict(r) for r in inspectors["replacements"]]
    final = Assignment.from_dict(inspectors["teams"])
    difference = assignment_difference(final, rebuild_assignment(entities, draw, replacements))
    if difference:
        raise Mismatch("inspectors.teams", difference)
