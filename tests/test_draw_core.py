"""The draw core against consistent_sampler 1.0.10 itself, and its own invariants."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import consistent_sampler as cs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuangsuiji.domain import draw
from shuangsuiji.domain.draw import (
    DuplicateIdError,
    Selected,
    allocate,
    first_by_ticket,
    first_difference,
    inspector_seed,
    officer_order,
    parse_ratio,
    sample,
    sample_reference,
    sample_strata,
    short_ticket,
    ticket,
)

# Text the package accepts: any str without lone surrogates (those cannot be UTF-8 encoded).
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
code_like = st.from_regex(r"9144188[0-9A-HJ-NPQRTUWXY]{11}", fullmatch=True)
chinese = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=6)
id_lists = st.lists(st.one_of(texts, code_like, chinese), unique=True, max_size=40)
seeds = st.one_of(texts, st.from_regex(r"[0-9]{20}", fullmatch=True), chinese)
USCC = [f"91441882MA5{i:06d}X" for i in range(300)]


def reference_sampler(ids, seed, k):
    """consistent_sampler's answer, with its full (untrimmed) tickets."""
    drawn = list(cs.sampler(ids, seed=seed, with_replacement=False, take=k, output="id"))
    return [Selected(x, cs.first_fraction(x, seed)) for x in drawn]


# --- byte compatibility with consistent_sampler ------------------------------------------


@settings(max_examples=300, deadline=None)
@given(ids=id_lists, seed=seeds, k=st.integers(0, 45))
def test_fast_and_slow_paths_equal_consistent_sampler(ids, seed, k):
    expected = reference_sampler(ids, seed, k)
    assert sample(ids, seed, k) == expected
    assert sample_reference(ids, seed, k) == expected


@settings(max_examples=100, deadline=None)
@given(ids=id_lists, seed=seeds)
def test_display_tickets_equal_sampler_tuple_output(ids, seed):
    shown = list(cs.sampler(ids, seed=seed, output="tuple"))
    assert [(short_ticket(s.ticket), s.id, 1) for s in sample(ids, seed, len(ids))] == shown


@given(seed=seeds, id=st.one_of(texts, chinese))
def test_ticket_is_first_fraction(seed, id):
    assert ticket(seed, id) == cs.first_fraction(id, seed)
    assert 66 <= len(ticket(seed, id)) <= 80


def test_integer_seed_of_the_package_is_its_text():
    # consistent_sampler hashes str(seed); our seeds are text, so 314159 is "314159".
    assert sample(["A-1", "B-2"], "314159", 2) == reference_sampler(["A-1", "B-2"], 314159, 2)


@pytest.mark.parametrize("k", [0, 1, 2, 7, 150, 299, 300, 301, 10_000])
def test_large_population_every_k(k):
    assert sample(USCC, "20250315", k) == reference_sampler(USCC, "20250315", k)


def test_thirty_thousand_ids_fast_equals_reference():
    ids = [f"91441882{i:09d}X" for i in range(30_000)]
    for k in (1, 300, 3_000):
        assert sample(ids, "seed-30k", k) == sample_reference(ids, "seed-30k", k)


# --- consistent_sampler's own published examples (numbers copied from its docs) ------------


def test_published_first_fraction():
    assert ticket("01382438112797316654", "AB-130") == (
        "0.26299714122838008416507544297546663599715395525154425586041245287750224561854"
    )


def test_published_ticket_heap_numbers():
    published = {
        "cat": "0.24866413894129579898796850445568128508290132707747976039848637531569373309555",
        "dog": "0.33886035615681875183111698317327684455682722683976874746986356932751818935066",
        "fish": "0.74685932088827950509145941729789143204056041958068799542050396198792954500593",
        "goat": "0.49599842072022713663423753308080171636735689997237236247068925068573448764387",
    }
    drawn = sample(["dog", "cat", "fish", "goat"], "xy()134!g2n", 4)
    assert [s.id for s in drawn] == ["cat", "dog", "goat", "fish"]
    assert {s.id: s.ticket for s in drawn} == published


def test_published_sampler_docstring_example():
    drawn = sample(["ab-1", "ab-2", "cd-1", "ef-3"], "314159", 4)
    assert [(short_ticket(s.ticket), s.id) for s in drawn] == [
        ("0.317685817", "cd-1"),
        ("0.832984519", "ef-3"),
        ("0.9098039269", "ab-1"),
        ("0.9231549043", "ab-2"),
    ]


def test_published_examples_x1_to_x5():
    six = ["A-1", "A-2", "A-3", "B-1", "B-2", "B-3"]
    assert [s.id for s in sample(six, "314159", 6)] == ["B-2", "B-3", "A-3", "A-2", "B-1", "A-1"]  # X1
    assert [s.id for s in sample(six, "314159", 3)] == ["B-2", "B-3", "A-3"]  # X2
    assert [s.id for s in sample(["B-1", "B-2", "B-3"], "314159", 3)] == ["B-2", "B-3", "B-1"]  # X3
    assert [short_ticket(s.ticket) for s in sample(six, "314159", 6)] == [  # X4
        "0.410310858", "0.470960291", "0.471438751", "0.567089805", "0.9781715679", "0.9828515724",
    ]


@pytest.mark.parametrize("value", [0, 5, 10**62 + 7, 10**63, 10**64 + 1, 2**256 - 1])
def test_ticket_digits_are_padded_to_64_then_reversed(value):
    # Values below 10**63 are too rare to meet by hashing, so feed digests directly.
    expected = "0." + "{:064d}".format(value)[::-1]  # consistent_sampler.sha256_uniform's formula
    assert draw._ticket_from_digest(value.to_bytes(32, "big")) == expected
    assert len(expected) == 2 + max(64, len(str(value)))


def test_short_ticket_is_the_package_trim():
    for t in ["0.9991234567890", "0.123", "0.99999", "0." + "9" * 20 + "1234567890123"]:
        for digits in (0, 4, 9):
            assert short_ticket(t, digits) == cs.trim(t, digits)


# --- ties -------------------------------------------------------------------------------


def test_boundary_tie_on_the_nine_digit_key_is_settled_by_the_full_ticket():
    # Under this seed both ids share the first 9 ticket digits (0.163910517…), and the one
    # with the larger id has the smaller full ticket: the id must not decide here.
    seed, a, b = "tie-test", "91441882000136337X", "91441882000186520X"
    assert ticket(seed, a)[:11] == ticket(seed, b)[:11]
    assert ticket(seed, b) < ticket(seed, a) and a < b
    assert [s.id for s in sample([a, b], seed, 1)] == [b]
    others = USCC[:200]
    everyone = others + [a, b]
    rank = [s.id for s in sample_reference(everyone, seed, len(everyone))].index(b)
    assert sample(everyone, seed, rank + 1) == sample_reference(everyone, seed, rank + 1)
    assert sample(everyone, seed, rank + 1)[-1].id == b


@settings(max_examples=300, deadline=None)
@given(ids=id_lists.filter(bool), seed=seeds)
def test_first_by_ticket_is_the_first_drawn(ids, seed):
    assert first_by_ticket(ids, seed) == sample_reference(ids, seed, 1)[0].id


def test_first_by_ticket_settles_a_nine_digit_tie_by_the_full_ticket():
    # The pair of the boundary test above: equal first 9 digits, the larger id first.
    seed, a, b = "tie-test", "91441882000136337X", "91441882000186520X"
    for ids in ([a, b], [b, a], [a, *USCC[:50], b]):
        assert first_by_ticket(ids, seed) == sample_reference(ids, seed, 1)[0].id
    assert first_by_ticket([a, b], seed) == b
    with pytest.raises(ValueError):
        first_by_ticket([], seed)


def test_equal_tickets_are_ordered_by_id():
    # Equal tickets need a SHA-256 collision, so fake one: identical digests for three ids.
    digest = bytes(range(32))
    drawn = draw._in_draw_order(["b", "c", "a"], digest * 3)[:2]
    assert [s.id for s in drawn] == ["a", "b"]
    assert drawn[0].ticket == drawn[1].ticket


# --- the set, not the list ------------------------------------------------------------------


@settings(deadline=None)
@given(ids=id_lists, seed=seeds, k=st.integers(0, 45), shuffle_seed=st.integers())
def test_order_of_ids_changes_nothing(ids, seed, k, shuffle_seed):
    shuffled = list(ids)
    random.Random(shuffle_seed).shuffle(shuffled)  # shuffling the input only, never the draw
    assert sample(shuffled, seed, k) == sample(ids, seed, k)


@settings(deadline=None)
@given(ids=id_lists, seed=seeds, data=st.data())
def test_a_subset_keeps_the_relative_order(ids, seed, data):
    subset = data.draw(st.lists(st.sampled_from(ids), unique=True) if ids else st.just([]))
    full = [s for s in sample(ids, seed, len(ids)) if s.id in set(subset)]
    assert sample(subset, seed, len(subset)) == full


def test_duplicates_are_an_error_naming_the_id():
    with pytest.raises(DuplicateIdError, match="91441882MA5000003X") as caught:
        sample(USCC[:5] + ["91441882MA5000003X"], "s", 2)
    assert caught.value.id == "91441882MA5000003X"
    with pytest.raises(ValueError, match="'x'"):
        sample_reference(["x", "y", "x"], "s", 1)
    with pytest.raises(DuplicateIdError):
        sample(["x", "x"], "s", 0)


def test_bad_inputs():
    with pytest.raises(TypeError, match="seed"):
        sample(["a"], 314159, 1)
    with pytest.raises(TypeError, match="int 5"):
        sample(["a", 5], "s", 1)
    for k in (-1, 1.0, True, "3"):
        with pytest.raises(ValueError, match="sample size"):
            sample(["a"], "s", k)
    assert sample([], "s", 3) == []


# --- allocation (第九条 按比例) --------------------------------------------------------------


@pytest.mark.parametrize(
    "size, ratio, rule, minimum, maximum, count",
    [
        (1000, "0.03", "ceil", None, None, 30),
        (1001, "0.03", "ceil", None, None, 31),  # 30.03 -> 31
        (10, "0.01", "ceil", None, None, 1),  # at least 1 from a non-empty stratum
        (0, "0.5", "ceil", None, None, 0),
        (7, "1", "ceil", None, None, 7),
        (7, "100%", "ceil", None, None, 7),
        (1001, "3%", "floor", None, None, 30),
        (10, "0.01", "floor", None, None, 0),
        (10, "0.01", "floor", 1, None, 1),
        (50, "0.05", "round-half-up", None, None, 3),  # 2.5 -> 3
        (49, "0.05", "round-half-up", None, None, 2),  # 2.45 -> 2
        (30, "1/4", "round-half-up", None, None, 8),  # 7.5 -> 8
        (1000, "0.07", "ceil", None, None, 70),  # float would say 70.00000000000001 -> 71
        (1000, Decimal("0.07"), "ceil", None, None, 70),
        (1000, Fraction(7, 100), "ceil", None, None, 70),
        (1000, "0.5", "ceil", None, 20, 20),
        (10, "0.1", "ceil", 5, None, 5),
        (3, "0.1", "ceil", 5, None, 3),  # never more than the stratum holds
    ],
)
def test_allocate_table(size, ratio, rule, minimum, maximum, count):
    assert allocate(size, ratio, rule, minimum=minimum, maximum=maximum) == count


@given(size=st.integers(0, 10**7), p=st.integers(1, 10**6), q=st.integers(1, 10**6))
def test_allocate_rules_are_exact(size, p, q):
    if p > q:
        p, q = q, p
    ratio = f"{p}/{q}"
    ceil = allocate(size, ratio)
    assert ceil == -(-size * p // q)
    assert (ceil >= 1) == (size > 0) and ceil <= size
    assert allocate(size, ratio, "floor") == size * p // q
    assert allocate(size, ratio, "round-half-up") == (2 * size * p + q) // (2 * q)


def test_allocate_refuses_floats_and_bad_ratios():
    with pytest.raises(TypeError, match="decimal string"):
        allocate(100, 0.05)
    for ratio in ("0", "-0.1", "1.01", "120%", "abc", "1/0", Decimal("NaN")):
        with pytest.raises(ValueError, match="ratio"):
            allocate(100, ratio)
    with pytest.raises(ValueError, match="rounding rule"):
        allocate(100, "0.1", "nearest")
    with pytest.raises(ValueError, match="minimum 5 is above maximum 2"):
        allocate(100, "0.1", minimum=5, maximum=2)
    with pytest.raises(ValueError, match="stratum size"):
        allocate(-1, "0.1")
    assert parse_ratio(" 5 % ") == Fraction(1, 20)


# --- strata -------------------------------------------------------------------------------

STRATA = {"A": USCC[:120], "B": USCC[120:200], "C": USCC[200:290], "D": USCC[290:]}


def test_each_stratum_is_drawn_with_the_same_seed():
    takes = {"A": 4, "B": 3, "C": 9, "D": 10}
    drawn = sample_strata(STRATA, "seed-s", takes)
    assert list(drawn) == ["A", "B", "C", "D"]
    for name, ids in STRATA.items():
        assert drawn[name] == reference_sampler(ids, "seed-s", takes[name])
    # ... which is the overall ticket order filtered to the stratum
    overall = sample(USCC, "seed-s", len(USCC))
    assert drawn["C"] == [s for s in overall if s.id in set(STRATA["C"])][:9]


def test_strata_errors():
    with pytest.raises(DuplicateIdError, match="in strata 'A' and 'C'") as caught:
        sample_strata({"A": ["x", "y"], "C": ["z", "x"]}, "s", {"A": 1, "C": 1})
    assert caught.value.id == "x"
    with pytest.raises(DuplicateIdError, match="in stratum 'B'"):
        sample_strata({"A": ["x"], "B": ["y", "y"]}, "s", {"A": 1, "B": 1})
    with pytest.raises(ValueError, match=r"missing \['B'\], unknown \['E'\]"):
        sample_strata({"A": ["x"], "B": ["y"]}, "s", {"A": 1, "E": 1})


# --- inspectors (第十条) -----------------------------------------------------------------


def test_inspector_seed_derivation():
    assert inspector_seed("73401462095834117263", "SCJG") == "73401462095834117263|inspectors|SCJG"
    for bad in ("", "A|B", None):
        with pytest.raises(ValueError, match="department code"):
            inspector_seed("s", bad)
    officers = ["SC0001", "SC0002", "SC0003"]
    assert officer_order(officers, "s", "SCJG") == reference_sampler(officers, "s|inspectors|SCJG", 3)


# --- verification --------------------------------------------------------------------------


def test_verify_names_the_first_difference():
    def verify_sample(ids, seed, k, expected):
        return first_difference(expected, sample(ids, seed, k))

    ids = USCC[:50]
    good = sample(ids, "v", 5)
    assert verify_sample(ids, "v", 5, good) is None
    assert verify_sample(ids, "v", 5, [dict(s._asdict()) for s in good]) is None
    swapped = [good[0], good[2], good[1], *good[3:]]
    assert verify_sample(ids, "v", 5, swapped) == (
        f"selection position 2: field id: expected {good[2].id!r}, recomputed {good[1].id!r}"
    )
    bad_ticket = [*good[:4], (good[4].id, good[4].ticket[:-1] + "x")]
    assert verify_sample(ids, "v", 5, bad_ticket).startswith("selection position 5: field ticket:")
    assert verify_sample(ids, "v", 5, good[:4]) == "selection: field count: expected 4 entries, recomputed 5"
    assert verify_sample(ids, "other seed", 5, good) is not None
    assert first_difference([], []) is None


def test_each_stratum_of_a_stratified_draw_verifies_alone():
    """`draws run` and `verify` draw with sample_strata: each stratum is what `sample` draws from it alone."""
    takes = {"A": 2, "B": 1, "C": 1, "D": 1}
    expected = sample_strata(STRATA, "v", takes)
    for name, ids in STRATA.items():
        assert first_difference(expected[name], sample(ids, "v", takes[name]), label=f"strata[{name}].selected") is None
    wrong = sample(STRATA["C"], "not v", 1)
    assert first_difference(wrong, sample(STRATA["C"], "v", 1), label="strata[C].selected").startswith(
        "strata[C].selected position 1: field id")


# --- the two paths: plain Python for a small population, numpy above draw.SMALL ----------


@settings(max_examples=200, deadline=None)
@given(ids=id_lists, seed=seeds, k=st.integers(0, 45))
def test_the_numpy_path_on_small_populations_equals_consistent_sampler(ids, seed, k):
    small, draw.SMALL = draw.SMALL, 0  # every population through the numpy path
    try:
        assert sample(ids, seed, k) == reference_sampler(ids, seed, k)
    finally:
        draw.SMALL = small


def test_the_numpy_path_settles_a_boundary_tie_and_names_a_repeat(monkeypatch):
    monkeypatch.setattr(draw, "SMALL", 0)
    test_boundary_tie_on_the_nine_digit_key_is_settled_by_the_full_ticket()
    with pytest.raises(DuplicateIdError, match="'x'"):
        sample(["x", "y", "x"], "s", 1)


def test_both_sides_of_the_threshold_equal_the_reference():
    for n in (draw.SMALL, draw.SMALL + 1):
        ids = [f"91441882{i:09d}X" for i in range(n)]
        assert sample(ids, "edge", 25) == sample_reference(ids, "edge", 25)


def test_a_small_draw_does_not_import_numpy():
    """numpy's import is most of a small task's fixed cost; a small draw must not pay it."""
    import subprocess
    import sys

    code = ("import sys; from shuangsuiji.domain.draw import sample_strata; "
            "sample_strata({'A': ['a', 'b', 'c'], 'B': ['d']}, 's', {'A': 2, 'B': 1}); print('numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


# --- a population read a chunk at a time (bundle.Codes: the store's text, never split whole) ---


class Pieces:
    """A population that hands itself out three ids at a time, as bundle.Codes does by the megabyte."""

    def __init__(self, ids):
        self.ids = list(ids)

    def __len__(self):
        return len(self.ids)

    def chunks(self):
        for start in range(0, len(self.ids), 3):
            yield self.ids[start : start + 3]


@settings(max_examples=200, deadline=None)
@given(ids=id_lists, seed=seeds, k=st.integers(0, 45), cut=st.integers(0, 40))
def test_chunked_populations_equal_consistent_sampler(ids, seed, k, cut):
    small, chunk = draw.SMALL, draw.CHUNK
    draw.SMALL, draw.CHUNK = 0, 4  # the numpy path, lists in slices of 4
    try:
        expected = reference_sampler(ids, seed, k)
        assert sample(ids, seed, k) == sample(Pieces(ids), seed, k) == expected
        strata = {"A": Pieces(ids[:cut]), "B": ids[cut:]}
        takes = {"A": min(k, len(ids[:cut])), "B": k}
        assert sample_strata(strata, seed, takes) == {
            "A": sample_reference(ids[:cut], seed, takes["A"]), "B": sample_reference(ids[cut:], seed, k)}
    finally:
        draw.SMALL, draw.CHUNK = small, chunk


def test_a_repeat_in_another_chunk_is_named(monkeypatch):
    monkeypatch.setattr(draw, "SMALL", 0)
    monkeypatch.setattr(draw, "CHUNK", 2)
    with pytest.raises(DuplicateIdError, match="'c'.*in stratum 'A'"):
        sample_strata({"A": Pieces(["a", "b", "c", "d", "c"]), "B": ["e"]}, "s", {"A": 1, "B": 1})
    with pytest.raises(DuplicateIdError, match="'e'.*in strata 'A' and 'B'"):
        sample_strata({"A": Pieces(["a", "b", "e"]), "B": ["f", "g", "e"]}, "s", {"A": 1, "B": 1})


def test_codes_of_a_bundle_are_drawn_as_the_list():
    from shuangsuiji.domain.bundle import Codes

    ids = sorted(f"91441882MA{i:07d}X" for i in range(5000))
    codes = Codes("\n".join(ids))
    assert sum(len(c) for c in codes.chunks(1000)) == 5000 and len(list(codes.chunks(1000))) > 50
    assert sample(codes, "codes", 40) == sample_reference(ids, "codes", 40)
    assert sample_strata({"A": codes, "B": ["x"]}, "codes", {"A": 7, "B": 1})["A"] == sample_reference(ids, "codes", 7)
    assert codes.at([0, 17, 4999]) == [ids[0], ids[17], ids[4999]]
    # Ids of other lengths: no slicing by position (at() declines), the chunks are read instead.
    mixed = ids[:2500] + [x + "Y" for x in ids[2500:]]
    assert Codes("\n".join(mixed)).at([0]) is None and Codes("ab\nc\nde").at([0]) is None
    assert Codes("ab\ncde\nf").at([0]) is None  # the right total length, the newlines elsewhere
    assert sample(Codes("\n".join(mixed)), "codes", 40) == sample_reference(mixed, "codes", 40)
