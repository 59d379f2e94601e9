"""The offline bundle of a draw, and its verification without any store (docs/verifying.md).

A bundle is one JSON document holding everything needed to recompute a draw: the frozen
population of every stratum, the parameters, the seed and its provenance, the selection
with tickets, and the inspector pools, teams and replacements. `verify` recomputes all of
it and names the first difference. docs/verifying.md documents every field.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from typing import Any

from shuangsuiji.domain.audit import canonical_json
from shuangsuiji.domain.draw import Codes, DuplicateIdError, first_difference, officer_order, sample_strata
from shuangsuiji.domain.seed import combine, commit_hash
from shuangsuiji.domain.teams import ALGORITHMS, Assignment, Replacement, TeamDraw, assignment_difference, rebuild_assignment

# 2 added ``earlier_attempts``; a version-1 bundle (written before) is still verified, without it.
FORMAT_VERSION = 2
ALGORITHM = {"name": "consistent_sampler", "version": "1.0.10"}
MAX_DEPTH = 32  # a bundle nests 6 deep; deeper is refused before it is parsed (docs/verifying.md)

TOP_KEYS = {
    "format_version", "algorithm", "draw", "task", "parameters", "parameters_sha256",
    "population_sha256", "seed", "strata", "inspectors", "audit", "earlier_attempts",
}
ATTEMPT_KEYS = {"id", "attempt", "state", "created_at", "locked_at", "void", "seed", "seed_provenance",
                "parameters_sha256", "population_sha256", "selected_sha256"}
STRATUM_KEYS = {"name", "ratio", "size", "take", "population_sha256", "population", "selected"}
SEED_KEYS = {"value", "provenance", "commitment", "contributions"}
DRAW_KEYS = {"id", "attempt", "state", "created_at", "locked_at", "void"}
TASK_KEYS = {"id", "name", "definition", "definition_sha256"}
INSPECTOR_KEYS = {"initiating", "cooperating", "per_department", "pools", "conflicts", "assignment", "replacements", "teams"}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def population_digest(ids) -> str:
    """SHA-256 of the stratum's ids, sorted (code-point order), one per line, no final newline.

    ``ids`` is a list or `Codes`; Codes already in order (as the store and `draws export` keep
    them) are hashed as they are, a megabyte at a time.
    """
    if isinstance(ids, Codes) and ids.in_order():
        digest = hashlib.sha256()
        for start in range(0, len(ids.text), 1 << 20):
            digest.update(ids.text[start : start + (1 << 20)].encode("utf-8"))
        return digest.hexdigest()
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


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def parse(text: str | bytes) -> Any:
    """The bundle's JSON, refusing nesting deeper than MAX_DEPTH before the parser sees it (a
    bundle nested 100,000 deep would otherwise end in a RecursionError).

    Brackets are counted with every other character dropped by one regular expression (0.1 s
    for a million-entity bundle); only when that count is too deep are strings removed first and
    the brackets counted again, so a bracket inside a value never refuses a bundle.

    Given the file's bytes, the populations of a bundle laid out as `draws export` writes it are
    read straight from the bytes as `Codes` (`_populations_apart`); the rest is parsed as JSON.
    """
    if isinstance(text, bytes):
        bundle = _populations_apart(text)
        if bundle is not None:
            return bundle
        text = text.decode("utf-8")
    if _too_deep(_NOT_BRACKET.sub("", text)) and _too_deep(_NOT_BRACKET.sub("", _STRING.sub("", text))):
        raise Mismatch("bundle", f"nested deeper than {MAX_DEPTH} levels (a bundle nests 6); refused unread")
    return json.loads(text)


_POPULATION_AT = re.compile(rb'\n( *)"population": \[\n')
_NOT_PLAIN = re.compile(rb'["\\\x00-\x09\x0b-\x1f]')  # what would need JSON escapes, newline aside


def _populations_apart(data: bytes) -> dict | None:
    """A bundle file as `draws export` writes it, each ``strata[i].population`` taken from the bytes
    as `Codes` (one text, ~19 bytes an id, where a parsed list of str takes ~75) and the rest parsed
    by `parse`; None when the file is laid out otherwise (then it is parsed whole, as before).

    A population is taken only when every line of it is an indented plain JSON string (no escape,
    no quote), so the text holds exactly what the JSON array holds; an array anywhere but under
    a stratum's "population" key, or any other doubt, gives None.
    """
    marker = f"population {secrets.token_hex(16)} "
    pieces, populations, pos = [], [], 0
    while (found := _POPULATION_AT.search(data, pos)) is not None:
        indent, start = found.group(1), found.end()
        item = b"\n" + indent + b' "'
        end = data.find(b"\n" + indent + b"]", start)
        if end < 0 or data[start - 1 : start + len(item) - 1] != item or data[end - 1 : end] != b'"':
            return None
        text = data[start + len(item) - 1 : end - 1].replace(b'",' + item, b"\n")
        if not text or _NOT_PLAIN.search(text):
            return None
        pieces += [data[pos : start - 2], f'"{marker}{len(populations)}"'.encode()]
        populations.append(Codes(text.decode("utf-8")))
        pos = end + len(indent) + 2
    if not populations:
        return None
    pieces.append(data[pos:])
    bundle = parse(b"".join(pieces).decode("utf-8"))
    placed = 0
    for stratum in bundle.get("strata", []) if isinstance(bundle, dict) and isinstance(bundle.get("strata"), list) else []:
        value = stratum.get("population") if isinstance(stratum, dict) else None
        if isinstance(value, str) and value.startswith(marker):
            stratum["population"] = populations[int(value[len(marker):])]
            placed += 1
    return bundle if placed == len(populations) else None


def _too_deep(brackets: str) -> bool:
    depth = 0
    for c in brackets:
        depth += 1 if c in "[{" else -1
        if depth > MAX_DEPTH:
            return True
    return False


def selection_digest(rows) -> str:
    """What the `draws run` audit entry records as selected_sha256: one line per drawn entity,
    (stratum, position, code, ticket) tab-separated, strata by name then position, no final
    newline. The one definition: the draw, `db check` and the offline verifier all call it."""
    return sha256_text("\n".join(f"{stratum}\t{position}\t{uscc}\t{ticket}" for stratum, position, uscc, ticket in rows))


def selected_digest(strata: list[dict]) -> str:
    """selection_digest of a bundle's strata."""
    return selection_digest(
        (stratum["name"], i, s["id"], s["ticket"])
        for stratum in sorted(strata, key=lambda x: x["name"]) for i, s in enumerate(stratum["selected"], start=1)
    )


def teams_digest(assignment: dict) -> str:
    """What the `draws inspectors` audit entry records as teams_sha256: SHA-256 of the canonical
    JSON of the initial assignment (Assignment.to_dict(), as the bundle's inspectors.assignment)."""
    return sha256_text(canonical_json(assignment))


def bundle_bytes(bundle: dict) -> bytes:
    """The exact bytes of a bundle file, as `draws export` and the archive write it: JSON,
    non-ASCII kept, indent 1, one final newline, UTF-8 (= ``json.dumps(bundle, ensure_ascii=False,
    indent=1) + "\\n"``, written piecewise by `write_bundle`)."""
    parts: list[bytes] = []
    write_bundle(bundle, parts.append)
    return b"".join(parts)


# What json.dumps escapes in a string (ensure_ascii=False), less the newline that joins ids.
_NEEDS_ESCAPE = re.compile(r'[\x00-\x09\x0b-\x1f"\\]')


def _id_chunks(population):
    if isinstance(population, Codes):
        yield from population.chunks()
        return
    for start in range(0, len(population), 1 << 16):
        yield population[start : start + (1 << 16)]


def _encoded_items(population, separator: str):
    """The JSON of the population's items, ``separator`` between them, in pieces: a run of plain
    ids is joined and wrapped in quotes at once; anything else goes through json.dumps."""
    first = True
    for chunk in _id_chunks(population):
        if not chunk:
            continue
        plain = all(type(x) is str for x in chunk)
        joined = "\n".join(chunk) if plain else ""
        if plain and joined.count("\n") == len(chunk) - 1 and not _NEEDS_ESCAPE.search(joined):
            body = '"' + joined.replace("\n", '"' + separator + '"') + '"'
        else:
            body = separator.join(json.dumps(x, ensure_ascii=False) for x in chunk)
        yield body if first else separator + body
        first = False


def write_bundle(bundle: dict, write) -> tuple[str, str]:
    """Write `bundle_bytes(bundle)` through ``write`` piecewise; return (SHA-256 of those bytes,
    SHA-256 of canonical_json(bundle)), the two digests `draws export` reports.

    The populations are the bulk of a bundle; the rest is encoded whole with each population
    replaced by a one-off marker, and each population is written in pieces where its marker
    stands, indented as json.dumps would indent it. A population may be a list of ids or
    `Codes`. Nothing the size of the bundle is ever held (18 million entities: ~0.4 GB of JSON).
    """
    marker = f"population {secrets.token_hex(16)} "
    skeleton = dict(bundle)
    populations = []
    if isinstance(bundle.get("strata"), list):
        skeleton["strata"] = []
        for stratum in bundle["strata"]:
            if isinstance(stratum, dict) and "population" in stratum:
                populations.append(stratum["population"])
                stratum = {**stratum, "population": f"{marker}{len(populations) - 1}"}
            skeleton["strata"].append(stratum)
    file_hash, content_hash = hashlib.sha256(), hashlib.sha256()

    def to_file(text: str) -> None:
        data = text.encode("utf-8")
        file_hash.update(data)
        write(data)

    def to_content_hash(text: str) -> None:
        content_hash.update(text.encode("utf-8"))

    for text, emit, pretty in (
        (json.dumps(skeleton, ensure_ascii=False, indent=1) + "\n", to_file, True),
        (canonical_json(skeleton), to_content_hash, False),
    ):
        pieces = text.split(f'"{marker}')
        if len(pieces) != len(populations) + 1:  # the marker is random: it cannot occur by chance
            raise AssertionError("population marker found elsewhere in the bundle")
        emit(pieces[0])
        before = pieces[0]
        for piece in pieces[1:]:
            number, rest = piece.split('"', 1)
            if pretty:  # json.dumps(indent=1): items one deeper than the key's line, "]" level with it
                line = before[before.rfind("\n") + 1 :]
                depth = len(line) - len(line.lstrip(" "))
                separator, opening, closing = ",\n" + " " * (depth + 1), "[\n" + " " * (depth + 1), "\n" + " " * depth + "]"
            else:
                separator, opening, closing = ",", "[", "]"
            empty = True
            for body in _encoded_items(populations[int(number)], separator):
                emit(opening + body if empty else body)
                empty = False
            emit("[]" if empty else closing)
            emit(rest)
            before = rest
    return file_hash.hexdigest(), content_hash.hexdigest()


def verify(bundle: Any, take_for=None) -> dict:
    """Recompute everything in the bundle; raise Mismatch at the first difference. Returns the
    draw's state (locked or void, with the void's reason) and how many earlier attempts it lists.

    ``take_for(size, ratio, rounding)`` is the task's rounding rule (plan.sample_size).
    """
    if take_for is None:
        from shuangsuiji.domain.plan import sample_size as take_for
    if not isinstance(bundle, dict):
        raise Mismatch("bundle", "not a JSON object")
    version = bundle.get("format_version")
    if type(version) is not int or version not in (1, FORMAT_VERSION):
        raise Mismatch("format_version", f"expected {FORMAT_VERSION} (or 1), found {version!r}")
    _keys("bundle", bundle, TOP_KEYS if version == FORMAT_VERSION else TOP_KEYS - {"earlier_attempts"})
    if bundle["algorithm"] != ALGORITHM:
        raise Mismatch("algorithm", f"expected {ALGORITHM}, found {bundle['algorithm']!r}")
    _keys("draw", bundle["draw"], DRAW_KEYS)
    _task(bundle)
    if not isinstance(bundle["audit"], list):
        raise Mismatch("audit", "must be a list")
    for i, item in enumerate(bundle["audit"]):
        _keys(f"audit[{i}]", item, {"seq", "command", "ts", "hash"})
    summary = _state(bundle)
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
    digests, populations = {}, {}
    for stratum in strata:
        name = stratum["name"]
        where = f"strata[{name}]"
        _keys(where, stratum, STRATUM_KEYS)
        ids = stratum["population"]
        if not isinstance(ids, Codes) and (not isinstance(ids, list) or not all(isinstance(x, str) for x in ids)):
            raise Mismatch(f"{where}.population", "must be a list of ids (text)")
        populations[name] = ids
        digest = population_digest(ids)
        digests[name] = digest
        if digest != stratum["population_sha256"]:
            raise Mismatch(f"{where}.population_sha256", "does not match the population")
        for key in ("size", "take"):
            if type(stratum[key]) is not int:
                raise Mismatch(f"{where}.{key}", f"must be a whole number, found {stratum[key]!r}")
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
    try:  # every stratum at once: an id in two strata is a repeat too
        recomputed = sample_strata(populations, seed, {s["name"]: s["take"] for s in strata})
    except DuplicateIdError as exc:
        first, then = exc.strata
        raise Mismatch(f"strata[{then}].population", f"id {exc.id} appears twice" + ("" if first == then else f" (also in stratum {first})")) from None
    for stratum in strata:
        where = f"strata[{stratum['name']}]"
        difference = first_difference(stratum["selected"], recomputed[stratum["name"]], label=f"{where}.selected")
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
    logged = [a["seq"] for a in bundle["audit"] if a["command"] == "draws inspectors"]
    if bundle["inspectors"] is None and logged:
        raise Mismatch("inspectors", f"null, but audit entry {logged[0]} records the officers drawn for this draw")
    if bundle["inspectors"] is not None:
        _inspectors(bundle, seed)
    return summary


def _state(bundle: dict) -> dict:
    """The draw's state, agreeing with its void block and audit entries; and every earlier attempt
    of the task listed, each void (a task is drawn again only after its draw is voided)."""
    draw = bundle["draw"]
    state, void = draw["state"], draw["void"]
    if state not in ("locked", "void"):
        raise Mismatch("draw.state", f"a drawn draw is locked or void, found {state!r}")
    if (state == "void") != (void is not None):
        raise Mismatch("draw.void", f"state {state} with void {void!r}")
    if void is not None:
        _keys("draw.void", void, {"reason", "at"})
    voids = [a for a in bundle["audit"] if a["command"] == "draws void"]
    if (state == "void") != bool(voids):
        raise Mismatch("audit", f"state {state}, but {len(voids)} `draws void` entries are named")
    attempt = draw["attempt"]
    if type(attempt) is not int or attempt < 1:
        raise Mismatch("draw.attempt", f"must be a whole number from 1, found {attempt!r}")
    earlier = bundle.get("earlier_attempts")
    if earlier is None:  # a version-1 bundle: its earlier attempts are not in it (docs/verifying.md)
        return {"state": state, "void": void, "earlier_attempts": None}
    if not isinstance(earlier, list):
        raise Mismatch("earlier_attempts", "must be a list")
    task = bundle["task"]["id"]
    for i, a in enumerate(earlier, start=1):
        where = f"earlier_attempts[{i - 1}]"
        _keys(where, a, ATTEMPT_KEYS)
        if a["attempt"] != i or a["id"] != f"{task}-D{i}":
            raise Mismatch(where, f"expected attempt {i} ({task}-D{i}), found {a['attempt']!r} ({a['id']!r})")
        if a["state"] != "void" or not isinstance(a["void"], dict) or not a["void"].get("reason"):
            raise Mismatch(where, f"attempt {i} was followed by another, so it must be void with its reason")
    if len(earlier) != attempt - 1:
        raise Mismatch("earlier_attempts", f"attempt {attempt} needs its {attempt - 1} earlier attempt(s) listed, found {len(earlier)}")
    return {"state": state, "void": void, "earlier_attempts": len(earlier)}


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
    # 第九条: every class the task draws from is a stratum, even an empty one; one left out would
    # hide a class whose entities were never drawn from.
    named = sorted(p["name"] for p in parameters["strata"])
    if named != sorted(ratios):
        raise Mismatch("parameters.strata", f"the task's ratios name the classes {sorted(ratios)}, the strata are {named}")


def _ordered_takes(parameters: dict, strata: list) -> dict[str, int]:
    """The ``ordered`` rule's takes: all strata at once, in the scheme's class order (plan.stratum_takes)."""
    from shuangsuiji.domain.directory import RISK_CLASSES
    from shuangsuiji.domain.plan import stratum_takes

    classes = (parameters.get("risk_scheme") or {}).get("classes") or RISK_CLASSES
    try:
        return stratum_takes({s["name"]: len(s["population"]) for s in strata}, {s["name"]: s["ratio"] for s in strata}, "ordered", classes)
    except (KeyError, TypeError, ValueError) as exc:
        raise Mismatch("strata", f"cannot allocate the ordered takes: {exc}") from None


def applicable_departments(definition: dict, entities: list[str]) -> dict[str, list[str]]:
    """Which cooperating departments apply to each entity: those with check items in the task
    (第十一条: the team is the officers of the executing departments; all entities share the
    task's items); {} when all of them have items. The draw records it, the verifier recomputes it."""
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
    expected = applicable_departments(bundle["task"]["definition"], entities)
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


def cross_check(bundle: dict, entries: list[dict]) -> int:
    """The bundle against audit entries that are themselves checked (each hash recomputed, and
    chained to a published head, or to an archive's manifest): what the bundle only asserts —
    committed_at and the commitment, the seed and its given/csprng label, locked_at, the teams,
    the void, the earlier attempts and its own audit excerpt — must be what the log recorded.

    ``entries``: {seq, ts, operator, command, payload (a JSON value), prev_hash, hash}, the
    whole log or the task's excerpt. Call after ``verify``. Returns the entries compared.
    """
    draw, task = bundle["draw"], bundle["task"]
    by_seq = {e["seq"]: e for e in entries}
    mine: dict[str, list[dict]] = {}
    attempts: dict[str, dict[str, list[dict]]] = {}
    created = []
    for e in entries:
        p = e["payload"] if isinstance(e["payload"], dict) else {}
        if e["command"] == "tasks create" and p.get("task") == task["id"]:
            created.append(e)
        if e["command"].startswith("draws ") and p.get("draw") == draw["id"]:
            mine.setdefault(e["command"], []).append(e)
        elif e["command"].startswith("draws ") and isinstance(p.get("draw"), str) and p["draw"].startswith(f"{task['id']}-D"):
            attempts.setdefault(p["draw"], {}).setdefault(e["command"], []).append(e)
    compared = 0

    def one(command: str, required: bool = True) -> dict | None:
        found = mine.get(command, [])
        if len(found) > 1 or (required and not found):
            raise Mismatch("audit", f"the log has {len(found)} `{command}` entries for {draw['id']} (expected 1)")
        return found[0]["payload"] if found else None

    for ref in bundle["audit"]:
        entry = by_seq.get(ref["seq"])
        if entry is None or any(entry[k] != ref[k] for k in ("command", "ts", "hash")):
            raise Mismatch("audit", f"entry {ref['seq']} named by the bundle is not the log's")
        compared += 1
    named = {ref["seq"] for ref in bundle["audit"]}
    missing = sorted(e["seq"] for found in mine.values() for e in found if e["seq"] not in named)
    if missing:
        raise Mismatch("audit", f"the log's entries {missing} of {draw['id']} are left out of the bundle "
                                "(or the bundle predates them: export it again)")
    if created and created[-1]["payload"].get("sha256") != task["definition_sha256"]:
        raise Mismatch("task.definition_sha256", f"differs from the `tasks create` entry {created[-1]['seq']}")
    commitment = bundle["seed"]["commitment"]
    logged = one("draws commit", required=commitment is not None)
    if (logged or {}).get("commitment") != commitment:
        raise Mismatch("seed.commitment", "differs from the `draws commit` entry (committed_at, sources or digests)")
    run = one("draws run")
    expected = {
        "seed": bundle["seed"]["value"], "seed_provenance": bundle["seed"]["provenance"],
        "population_sha256": bundle["population_sha256"], "parameters_sha256": bundle["parameters_sha256"],
        "selected_sha256": selected_digest(bundle["strata"]),
    }
    for key, value in expected.items():
        if run.get(key) != value:
            raise Mismatch(f"seed.{key}" if key.startswith("seed") else key, f"differs from the `draws run` entry")
    run_ts = mine["draws run"][0]["ts"]
    if run.get("locked_at", draw["locked_at"]) != draw["locked_at"] or not (draw["created_at"] <= draw["locked_at"] <= run_ts):
        raise Mismatch("draw.locked_at", f"is not the time the `draws run` entry ({run_ts}) locked it")
    teams = one("draws inspectors", required=False)
    if (teams is None) != (bundle["inspectors"] is None) or (
        teams is not None and teams.get("teams_sha256") != teams_digest(bundle["inspectors"]["assignment"])
    ):
        raise Mismatch("inspectors", "differ from the `draws inspectors` entry (teams_sha256)")
    replaced = [e["payload"] for e in mine.get("draws replace", [])]
    listed = (bundle["inspectors"] or {}).get("replacements", [])
    if [(p.get("officer"), p.get("reason")) for p in replaced] != [(r["officer"], r["reason"]) for r in listed]:
        raise Mismatch("inspectors.replacements", "differ from the `draws replace` entries")
    void = one("draws void", required=False)
    if (void is None) != (draw["void"] is None) or (void is not None and void.get("reason") != draw["void"]["reason"]):
        raise Mismatch("draw.void", "differs from the `draws void` entry")
    earlier = bundle.get("earlier_attempts")
    if earlier is not None:
        listed_ids = {a["id"] for a in earlier}
        before = {d for d in attempts if _attempt_no(d) is not None and _attempt_no(d) < draw["attempt"]}
        if before - listed_ids:
            raise Mismatch("earlier_attempts", f"the log records attempts {sorted(before - listed_ids)} the bundle leaves out")
        for a in earlier:
            logged_attempt = attempts.get(a["id"], {})
            voided = [e["payload"].get("reason") for e in logged_attempt.get("draws void", [])]
            ran = [e["payload"] for e in logged_attempt.get("draws run", [])]
            if voided != [a["void"]["reason"]]:
                raise Mismatch(f"earlier_attempts[{a['attempt'] - 1}].void", "differs from its `draws void` entry")
            if [(r.get("seed"), r.get("selected_sha256")) for r in ran] != ([(a["seed"], a["selected_sha256"])] if a["seed"] else []):
                raise Mismatch(f"earlier_attempts[{a['attempt'] - 1}].seed", "differs from its `draws run` entry")
    return compared + sum(len(found) for found in mine.values())


def _attempt_no(draw_id: str) -> int | None:
    tail = draw_id.rsplit("-D", 1)[-1]
    return int(tail) if tail.isdigit() else None


LOG_FORMAT = "shuangsuiji-audit-log"
COMMITMENT_FORMAT = "shuangsuiji-commitment"
ENTRY_KEYS = {"seq", "ts", "operator", "command", "payload", "prev_hash", "hash"}


def checked_log(log: Any, head: tuple[int, str]) -> list[dict]:
    """The entries of an exported log (`audit export`) up to a published head: every hash
    recomputed and chained from the first entry, and the head's hash found at its place.
    Entries after the head are left out: nothing published anchors them."""
    from shuangsuiji.domain.audit import Entry, verify_chain

    if not isinstance(log, dict) or log.get("format") != LOG_FORMAT or not isinstance(log.get("entries"), list):
        raise Mismatch("log", f"not an exported audit log (format {LOG_FORMAT!r} with entries)")
    entries = []
    for i, e in enumerate(log["entries"]):
        if not isinstance(e, dict) or set(e) != ENTRY_KEYS or type(e["seq"]) is not int:
            raise Mismatch(f"log.entries[{i}]", f"must have exactly {', '.join(sorted(ENTRY_KEYS))} (seq a whole number)")
        try:
            entries.append(Entry(e["seq"], e["ts"], e["operator"], e["command"], canonical_json(e["payload"]), e["prev_hash"], e["hash"]))
        except (TypeError, ValueError) as exc:
            raise Mismatch(f"log.entries[{i}]", f"cannot be hashed ({exc})") from None
    seq, want = head
    upto = [e for e in entries if e.seq <= seq]
    count, _, broken = verify_chain(upto)
    if broken is not None:
        raise Mismatch("log", broken.describe()[1])
    if count != seq or not upto or upto[-1].hash != want.lower():
        raise Mismatch("log", f"the published head {seq}:{want} is not in this log (the log was rewritten, or is another store's)")
    return [e.to_json() for e in upto]


def check_commitment(bundle: dict, published: Any) -> None:
    """The bundle's draw is the one a commitment published before any seed existed (`draws
    commit -o`) announced: same draw, digests, sources, time, and the same `draws commit` entry."""
    if not isinstance(published, dict) or published.get("format") != COMMITMENT_FORMAT:
        raise Mismatch("commitment", f"not a published commitment (format {COMMITMENT_FORMAT!r})")
    committed = bundle["seed"]["commitment"]
    if committed is None:
        raise Mismatch("seed.commitment", f"the draw was not committed to (seed {bundle['seed']['provenance']}), "
                                          "yet a commitment was published")
    for key, value in (("draw", bundle["draw"]["id"]), ("task", bundle["task"]["id"])):
        if published.get(key) != value:
            raise Mismatch(f"commitment.{key}", f"the commitment is of {published.get(key)!r}, the bundle of {value!r}")
    for key in ("population_sha256", "parameters_sha256", "sources", "committed_at"):
        if published.get(key) != committed.get(key):
            raise Mismatch(f"seed.commitment.{key}", "differs from the published commitment")
    entry = published.get("audit_head")
    refs = [a for a in bundle["audit"] if a["command"] == "draws commit"]
    if not isinstance(entry, dict) or [{"seq": a["seq"], "hash": a["hash"]} for a in refs] != [entry]:
        raise Mismatch("audit", "the bundle's `draws commit` entry is not the one the commitment names")
