"""Fixed vectors for every hash of record (issue 14), as tests/test_audit.py pins the audit chain.

Each digest is defined once in domain/ (or, for results, services/results.results_digest) and
the expected hex below was computed once from that definition: a change to what is hashed, or
how, fails here before it silently breaks every digest already recorded in an audit log.
"""

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuangsuiji.domain import bundle as bundles
from shuangsuiji.domain.audit import canonical_json
from shuangsuiji.services.results import DIGEST_FIELDS, results_digest

A1, A2, B1 = "91440101MA5XXXXX1Q", "91440101MA5XXXXX2R", "91440101MA5XXXXX3T"
ROWS = [("A类", 1, A1, "0f" * 32), ("A类", 2, A2, "1e" * 32), ("B类", 1, B1, "2d" * 32)]


def test_selection_digest_vector():
    """selected_sha256 of `draws run`: one tab-separated line per drawn entity, no final newline."""
    expected = "0d966c39b7b54541b3582576fba8d16522c4fa9a005378561f17a8ddd5e09391"
    assert bundles.selection_digest(ROWS) == expected
    text = "\n".join("\t".join(str(v) for v in r) for r in ROWS)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == expected
    # The bundle's strata (in any order) hash to the same digest: strata by name, in ticket order.
    strata = [{"name": "B类", "selected": [{"id": B1, "ticket": "2d" * 32}]},
              {"name": "A类", "selected": [{"id": A1, "ticket": "0f" * 32}, {"id": A2, "ticket": "1e" * 32}]}]
    assert bundles.selected_digest(strata) == expected


def test_teams_digest_vector():
    """teams_sha256 of `draws inspectors`: SHA-256 of the canonical JSON of the initial assignment."""
    assignment = {"teams": [{"entity": A1, "members": [{"officer": "粤A001", "department": "市场监管局"},
                                                      {"officer": "粤B002", "department": "税务局"}]}]}
    assert bundles.teams_digest(assignment) == "878b4ed1c7c0c0a5b83df3bac7eb44b7c9279f55403ceafd833ee13642e0985b"


def test_bundle_bytes_vector():
    """A bundle file's exact bytes (draws export and the archive): indent 1, UTF-8 kept, final newline."""
    body = bundles.bundle_bytes({"format_version": 2, "task": {"name": "双随机 抽查"}, "n": [1, 2]})
    assert body == ('{\n "format_version": 2,\n "task": {\n  "name": "双随机 抽查"\n },\n "n": [\n  1,\n  2\n ]\n}\n').encode("utf-8")
    assert hashlib.sha256(body).hexdigest() == "dd20f98b89d30915595ccf5d7d57a7440150c1c5765a2f8bbf0b9cceb023e222"


ids = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)
populations = st.lists(ids, max_size=8)


@settings(max_examples=200, deadline=None)
@given(strata=st.lists(st.fixed_dictionaries({"name": ids, "population": populations}), max_size=3), name=ids)
def test_bundle_written_piecewise_is_json_dumps(strata, name):
    """write_bundle streams the populations (lists or Codes); the bytes are json.dumps's exactly,
    and its two digests are those of the file and of canonical_json (draws export's sha256 and
    content_sha256), whatever the ids hold (quotes, backslashes, control characters, 中文)."""
    bundle = {"format_version": 2, "task": {"name": name}, "strata": [*strata, {"name": "x"}], "z": [{"population": [name]}]}
    parts = []
    file_sha256, content_sha256 = bundles.write_bundle(bundle, parts.append)
    body = b"".join(parts)
    assert body == (json.dumps(bundle, ensure_ascii=False, indent=1) + "\n").encode("utf-8") == bundles.bundle_bytes(bundle)
    assert file_sha256 == hashlib.sha256(body).hexdigest()
    assert content_sha256 == hashlib.sha256(canonical_json(bundle).encode("utf-8")).hexdigest()
    plain = [s for s in strata if all("\n" not in x for x in s["population"])]
    as_codes = {**bundle, "strata": [{**s, "population": bundles.Codes("\n".join(s["population"]))} for s in plain]}
    listed = {**bundle, "strata": [{**s, "population": [x for x in s["population"]]} for s in plain]}
    if all(s["population"] != [""] for s in plain):  # [""] joins to "", which is no ids at all
        assert bundles.bundle_bytes(as_codes) == bundles.bundle_bytes(listed)


def test_codes_are_written_in_pieces():
    codes = [f"91441882MA{i:08d}" for i in range(120_000)]
    bundle = {"strata": [{"name": "A", "population": bundles.Codes("\n".join(codes)), "size": len(codes)}]}
    parts = []
    bundles.write_bundle(bundle, parts.append)
    assert max(map(len, parts)) < 4 << 20 and len(parts) > 3
    assert b"".join(parts) == (json.dumps({"strata": [{"name": "A", "population": codes, "size": len(codes)}]},
                                          ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    assert len(bundles.Codes("")) == 0 and list(bundles.Codes("")) == [] and len(bundles.Codes("a\nb")) == 2


def _as_lists(value):
    if isinstance(value, bundles.Codes):
        return ["codes", *value]
    if isinstance(value, dict):
        return {k: _as_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_lists(v) for v in value]
    return value


@settings(max_examples=200, deadline=None)
@given(strata=st.lists(st.fixed_dictionaries({"name": ids, "population": populations}), max_size=3), name=ids)
def test_a_bundle_read_from_its_bytes_is_the_json(strata, name):
    """parse(bytes) takes plain populations as Codes straight from the bytes and anything else as JSON:
    either way the ids are exactly json.loads's."""
    bundle = {"task": {"name": name}, "strata": [*strata, {"name": "x"}], "z": [{"population": [name, "a"]}]}
    body = bundles.bundle_bytes(bundle)
    for data in (body, body.replace(b'"z": [', b'"y": 1, "z": [')):
        parsed = bundles.parse(data)
        assert [list(s.get("population", [])) for s in parsed["strata"]] == [s.get("population", []) for s in json.loads(data)["strata"]]
    taken = bundles.parse(bundles.bundle_bytes({"strata": bundle["strata"]}))
    plain = [s for s in strata if s["population"] and s["population"] != [""]
             and not any(c in x for x in s["population"] for c in '"\\' + "".join(map(chr, range(32))))]
    assert all(isinstance(s["population"], bundles.Codes) for s in taken["strata"][: len(strata)]) == (len(plain) == len(strata))


def test_a_population_outside_the_strata_is_parsed_as_json():
    body = bundles.bundle_bytes({"strata": [{"name": "A", "population": ["a", "b"]}], "other": {"population": ["c", "d"]}})
    parsed = bundles.parse(body)
    assert parsed == json.loads(body) and isinstance(parsed["strata"][0]["population"], list)
    parsed = bundles.parse(bundles.bundle_bytes({"strata": [{"name": "A", "population": ["a", "b"]}]}))
    assert _as_lists(parsed) == {"strata": [{"name": "A", "population": ["codes", "a", "b"]}]}
    assert bundles.population_digest(parsed["strata"][0]["population"]) == bundles.population_digest(["b", "a"])
    assert bundles.population_digest(bundles.Codes("b\na")) == bundles.population_digest(["a", "b"])


def test_a_marker_elsewhere_in_the_bundle_is_refused(monkeypatch):
    """The population marker is random; were it found anywhere else, nothing is written wrong."""
    monkeypatch.setattr(bundles.secrets, "token_hex", lambda n: "0" * 32)
    bundle = {"task": {"name": f"population {'0' * 32} 0"}, "strata": [{"name": "A", "population": ["x"]}]}
    with pytest.raises(AssertionError):
        bundles.write_bundle(bundle, lambda data: None)


def test_applicable_departments_vector():
    """第十一条: a cooperating department without check items in the task sends no officer."""
    definition = {"cooperating": ["税务局", "卫健委"], "items": [{"department": "市场监管局"}, {"department": "税务局"}]}
    assert bundles.applicable_departments(definition, [A1, A2]) == {A1: ["税务局"], A2: ["税务局"]}
    everyone = {"cooperating": ["税务局"], "items": [{"department": "税务局"}]}
    assert bundles.applicable_departments(everyone, [A1]) == {}


RESULT = {"uscc": A1, "item_id": "I1", "department": "市场监管局", "problem": 0, "categories": '["未发现问题"]',
          "methods": '["实地核查"]', "inspected_on": "2026-07-05", "signature": "张三", "signature_reason": None,
          "witness": None, "followup": None, "publish": 1, "no_publish_reason": None, "note": "", "split_reason": None}


def test_results_digest_vector():
    """results_sha256: the hashed fields are pinned by name and by value (inspected_on included)."""
    assert DIGEST_FIELDS == ("uscc", "item_id", "department", "problem", "categories", "methods", "inspected_on",
                             "signature", "signature_reason", "witness", "followup", "publish", "no_publish_reason", "note")
    assert results_digest([RESULT]) == "3d4995bdd5394b76195f50075b9d362de40c762b0231258a8d0decdb79e5413f"
    assert results_digest([{**RESULT, "inspected_on": "2026-07-06"}]) == "0d45ed491c6d3cfaa2ec585e6b1347cd15cab880a7a58b0a1b8c14c9242ec4a2"
    # A split reason (migration 7) is appended only when given, so older digests still match.
    assert results_digest([{**RESULT, "split_reason": "两次到场"}]) == "c2b30cad65db11e9dc23fdf91570e5038545d09d574c7cd1c6e37effc4b5aa13"
    values = [RESULT[f] for f in DIGEST_FIELDS]
    canonical = json.dumps([values], ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    assert results_digest([RESULT]) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
