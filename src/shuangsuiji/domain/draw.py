"""The draw: seeded hash-ticket ("consistent") sampling of entities and officers.

第九条 asks for a random draw "按照预定的比例" from the 检查对象名录库, locked once confirmed;
第十条 asks each executing department to draw its officers at random. Both draws here use
Ronald Rivest's consistent sampling, byte-compatible with `consistent_sampler` 1.0.10 (PyPI),
so anyone can re-check a draw with that published package or with the stdlib snippet in
docs/draw-algorithm.md (the full spec, with test vectors in docs/draw-vectors.json):

    seed_hash  = hexdigest(SHA-256(utf8(seed)))                 # 64 lower-case hex chars
    value(x)   = int(SHA-256(utf8(seed_hash + x)), big-endian)  # 0 <= value < 2**256
    ticket(x)  = "0." + reverse("%064d" % value(x))             # 66 to 80 characters

Ids are ordered by (ticket as text, id as text) and the first k are drawn. Tickets depend on
nothing but the seed and the id, so the result depends only on the seed and the *set* of ids.
There is no other source of randomness: no `random`, no `hash()`, no set or dict order.

Everything here is pure: no I/O, no store, no CLI.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

ALGORITHM = "consistent_sampler-1.0.10"  # what a bundle names; the spec is docs/draw-algorithm.md


class Selected(NamedTuple):
    """One drawn id with its full ticket, in draw order."""

    id: str
    ticket: str


class DuplicateIdError(ValueError):
    """The same id twice in a population: the draw would not be a draw over a set."""

    def __init__(self, id: str, where: str = "", strata: tuple[str, str] = ("", "")):
        self.id = id
        self.where = where
        self.strata = strata  # (stratum of the first, of the second), when drawn by strata
        super().__init__(f"duplicate id {id!r}" + (f" ({where})" if where else ""))


# --- tickets ---------------------------------------------------------------------------


def seed_hash(seed: str) -> str:
    """hexdigest(SHA-256(utf8(seed))): the prefix hashed in front of every id."""
    if not isinstance(seed, str):
        # consistent_sampler uses str(seed); we insist on text so 314159 vs "314159" vs 3.14e5
        # can never be a question in an audit.
        raise TypeError(f"seed must be text, got {type(seed).__name__}")
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def _ticket_from_digest(digest: bytes | bytearray) -> str:
    # "{:064d}": at least 64 digits, zero-padded on the left (a value can have up to 78).
    # Reversed so that the unbiased low-order digits come first (consistent_sampler's note).
    return "0." + f"{int.from_bytes(digest, 'big'):064d}"[::-1]


def ticket(seed: str, id: str) -> str:
    """The full ticket of `id` under `seed` (= consistent_sampler.first_fraction(id, seed))."""
    return _ticket_from_digest(hashlib.sha256((seed_hash(seed) + id).encode("utf-8")).digest())


def short_ticket(ticket: str, digits: int = 9) -> str:
    """A ticket cut for display exactly as consistent_sampler's `trim` (and `sampler` output):
    any leading 9s after "0.", then `digits` more digits. Truncated, never rounded."""
    rest = ticket[2:]
    nines = len(rest) - len(rest.lstrip("9"))
    return ticket[: 2 + nines + digits]


def _draw_order(s: Selected) -> tuple[str, str]:
    # Ticket as text, then id as text (Python str order = Unicode code point order = UTF-8
    # byte order). consistent_sampler gets the same order from comparing Ticket tuples.
    return (s.ticket, s.id)


class Codes:
    """A stratum's population as the store keeps it: the ids in order, joined by newlines.

    At province scale a population is millions of ids; as one text it takes 19 bytes an id
    instead of ~75 for a list of str, and `bundle.write_bundle` writes it without ever splitting it
    whole. Iterating yields the ids (ids never hold a newline: they are [0-9A-Z]{18} codes).
    """

    __slots__ = ("text", "_size", "_in_order", "_width")

    def __init__(self, text: str):
        self.text = text
        self._size = text.count("\n") + 1 if text else 0
        self._in_order = self._width = None

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return iter(self.text.split("\n") if self.text else ())

    def in_order(self) -> bool:
        """Whether the ids are in code-point order (repeats allowed), as `population_digest` sorts them."""
        if self._in_order is None:
            last, self._in_order = None, True
            for chunk in self.chunks():
                if (last is not None and chunk[0] < last) or chunk != sorted(chunk):
                    self._in_order = False
                    break
                last = chunk[-1]
        return self._in_order

    def at(self, positions: list[int]) -> list[str] | None:
        """The ids at ``positions``, sliced straight out of the text when every id has the same
        length (codes do); None otherwise (the draw then finds them in a pass over the chunks)."""
        if self._width is None:
            width = self.text.find("\n")
            fixed = width > 0 and len(self.text) == self._size * (width + 1) - 1
            self._width = width if fixed and self.text[width :: width + 1] == "\n" * (self._size - 1) else 0
        if not self._width:
            return None
        step = self._width + 1
        return [self.text[i * step : i * step + self._width] for i in positions]

    def chunks(self, size: int = 1 << 20):
        """The ids as lists of about ``size`` characters' worth, split one list at a time."""
        text, start = self.text, 0
        while start < len(text):
            end = text.find("\n", start + size)
            end = len(text) if end < 0 else end
            yield text[start:end].split("\n")
            start = end + 1


# --- the reference draw (slow, obvious; the tests hold the fast one to it) -----------------


def sample_reference(ids: Iterable[str], seed: str, k: int) -> list[Selected]:
    """The first k ids by (ticket, id). A full ticket for every id: clear, but slow at scale."""
    ids = list(ids)
    k = _check_k(k)
    seen: set[str] = set()
    for x in ids:
        if x in seen:
            raise DuplicateIdError(x)
        seen.add(x)
    return sorted((Selected(x, ticket(seed, x)) for x in ids), key=_draw_order)[:k]


# --- the fast draw ----------------------------------------------------------------------


def sample(ids: Iterable[str], seed: str, k: int) -> list[Selected]:
    """The first k ids by (ticket, id), in draw order; identical to `sample_reference`.

    k larger than the population takes everything (like consistent_sampler's `take`).
    Raises DuplicateIdError naming a repeated id. Each id is hashed once (the drawn ones, and
    ids tied with them, twice); see `_first_k` for why only a handful of full tickets are built.
    ``ids`` may be any iterable, or anything with a ``chunks()`` method (`Codes`: a
    population kept as one text), which is then read a chunk at a time, never whole.
    """
    k = _check_k(k)
    return _draw([_population(ids)], seed, [k])[0]


def order(ids: Iterable[str], seed: str) -> list[Selected]:
    """Every id in draw order (used for officers, whose whole order matters)."""
    ids = list(ids)
    return sample(ids, seed, len(ids))


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"sample size must be a whole number >= 0, got {k!r}")
    return k


def _population(ids):
    """A list, a tuple or a population with ``chunks()`` as it is; any other iterable as a list."""
    return ids if isinstance(ids, list | tuple) or hasattr(ids, "chunks") else list(ids)


# Ids hashed at a time in a large population: a chunk's digests take 32 MB, and of each id only
# 16 bytes are kept (its 9-digit key and an 8-byte digest prefix), so a draw over 18 million ids
# never holds their 0.6 GB of digests at once.
CHUNK = 1 << 20


def _chunks(population):
    if hasattr(population, "chunks"):
        yield from population.chunks()
    else:
        for start in range(0, len(population), CHUNK):
            yield population[start : start + CHUNK]


def _whole(population) -> list[str]:
    return [x for chunk in _chunks(population) for x in chunk]


def _hasher(seed: str):
    """SHA-256 with seed_hash already fed in. seed_hash is exactly one 64-byte SHA-256 block, so
    hashing it once and copying the state per id halves the work."""
    return hashlib.sha256(seed_hash(seed).encode("ascii"))


def _digests(ids: Sequence[str], hasher) -> bytearray:
    """SHA-256(utf8(seed_hash + id)) of every id, concatenated (32 bytes each).

    This loop is the floor of the whole draw (a bytearray grown in place is faster than
    joining a million small bytes objects).
    """
    copy = hasher.copy
    out = bytearray()
    try:
        for x in ids:
            h = copy()
            h.update(x.encode())  # str.encode() is UTF-8
            out += h.digest()
    except AttributeError:
        bad = next(x for x in ids if not isinstance(x, str))
        raise TypeError(f"ids must be text, got {type(bad).__name__} {bad!r}") from None
    return out


# Up to this many ids, a population is checked and drawn in plain Python: importing numpy
# (~0.1 s) would cost more than such a draw (the fixed cost of a small task's `draws run`).
SMALL = 2000


def _draw(populations: Sequence, seed: str, ks: Sequence[int], names: Sequence[str] | None = None) -> list[list[Selected]]:
    """The first ks[i] of every population by (ticket, id), all under one seed. The populations
    must be disjoint and without repeats: else DuplicateIdError (naming the strata with ``names``)."""
    hasher = _hasher(seed)
    if sum(map(len, populations)) <= SMALL:
        lists = [_whole(p) for p in populations]
        everyone = [x for ids in lists for x in ids]
        digests = _digests(everyone, hasher)
        if len(set(everyone)) != len(everyone):
            _name_repeat(lists, names)
        drawn, start = [], 0
        for ids, k in zip(lists, ks):
            drawn.append(_in_draw_order(ids, digests[32 * start : 32 * (start + len(ids))])[:k])
            start += len(ids)
        return drawn
    import numpy as np  # heavy import kept out of CLI start-up

    keys, prefixes = [], []
    for population in populations:
        parts = [_compact(_digests(chunk, hasher)) for chunk in _chunks(population)]
        keys.append(np.concatenate([key for key, _ in parts]) if parts else np.zeros(0, dtype=np.uint64))
        prefixes += [prefix for _, prefix in parts]
        del parts
    # Equal ids have equal digests, so sorting the first 8 digest bytes finds every repeat
    # cheaply; only then are the ids themselves compared (a 64-bit prefix match of two
    # different ids is possible, just very rare, and is not an error).
    every = np.sort(np.concatenate(prefixes)) if prefixes else np.zeros(0, dtype=np.uint64)
    del prefixes
    if (every[1:] == every[:-1]).any():
        _name_repeat([_whole(p) for p in populations], names)
    del every
    return [_first_k(population, key, k, hasher) for population, key, k in zip(populations, keys, ks)]


def _compact(digests: bytearray):
    """(9-digit keys, first 8 digest bytes) of a chunk's digests: all that is kept of them."""
    import numpy as np

    return _keys(digests), np.frombuffer(digests, dtype=np.uint64)[::4].copy()


def _name_repeat(lists: Sequence[Sequence[str]], names: Sequence[str] | None) -> None:
    """Raise DuplicateIdError for the first id seen twice, naming its strata when given names;
    return if no id repeats (the digest prefixes of two different ids matched)."""
    seen: dict[str, int] = {}
    for s, ids in enumerate(lists):
        for x in ids:
            if x in seen:
                if names is None:
                    raise DuplicateIdError(x)
                a, b = names[seen[x]], names[s]
                raise DuplicateIdError(x, f"in stratum {a!r}" if a == b else f"in strata {a!r} and {b!r}", (a, b))
            seen[x] = s


def _in_draw_order(ids: Sequence[str], digests: bytes | bytearray) -> list[Selected]:
    """Every id with its full ticket, sorted by (ticket, id) as in `sample_reference`."""
    drawn = [Selected(x, _ticket_from_digest(digests[32 * i : 32 * i + 32])) for i, x in enumerate(ids)]
    drawn.sort(key=_draw_order)
    return drawn


# 2**(16*(15-j)) mod 10**9 for the sixteen 16-bit words of a digest, most significant first.
_WORD_WEIGHTS = tuple(pow(2, 16 * (15 - j), 10**9) for j in range(16))
_REVERSE_3 = tuple(int(f"{i:03d}"[::-1]) for i in range(1000))  # 12 -> "012" -> "210" -> 210


def first_by_ticket(ids: Iterable[str], seed: str) -> str:
    """The id with the smallest (ticket, id) under `seed`: `sample(ids, seed, 1)[0].id` for a
    handful of ids, many times over (teams/2 breaks every tie in load with one).

    The seed is hashed once, and ids are compared by the first 9 ticket digits (`_keys`, here
    per id); full tickets are built only for ids that share the smallest 9 digits.
    """
    copy = _hasher(seed).copy
    rev = _REVERSE_3
    best_key, best = None, []
    for x in ids:
        h = copy()
        h.update(x.encode())
        digest = h.digest()
        low = int.from_bytes(digest, "big") % 1_000_000_000
        key = rev[low % 1000] * 1_000_000 + rev[low // 1000 % 1000] * 1000 + rev[low // 1_000_000]
        if best_key is None or key < best_key:
            best_key, best = key, [(x, digest)]
        elif key == best_key:
            best.append((x, digest))
    if not best:
        raise ValueError("no ids to choose from")
    if len(best) == 1:
        return best[0][0]
    return min((_ticket_from_digest(digest), x) for x, digest in best)[1]


def _keys(digests: bytearray):
    """For every digest, the first 9 ticket digits as an integer (vectorised).

    The ticket's first 9 digits are the last 9 decimal digits of the hash value, reversed.
    value mod 10**9 = sum(word_j * (2**(16*(15-j)) mod 10**9)) mod 10**9; each term is below
    2**46, so the sum of 16 terms fits easily in uint64. Every ticket has at least 64 digits,
    so comparing these keys compares the first 9 characters of the tickets exactly.
    """
    import numpy as np

    words = np.frombuffer(digests, dtype=">u2").reshape(-1, 16)
    low = np.zeros(len(words), dtype=np.uint64)
    for j, weight in enumerate(_WORD_WEIGHTS):
        low += words[:, j].astype(np.uint64) * np.uint64(weight)
    low %= np.uint64(10**9)
    rev = np.array(_REVERSE_3, dtype=np.uint64)  # "abcdefghi" -> "ihg" "fed" "cba"
    return (
        rev[low % 1000] * np.uint64(1_000_000)
        + rev[(low // 1000) % 1000] * np.uint64(1000)
        + rev[low // 1_000_000]
    )


def _first_k(population, keys, k: int, hasher) -> list[Selected]:
    """The first k by (ticket, id), building full tickets only for the candidates.

    If K is the k-th smallest 9-digit key, every id with key < K is drawn and every id with
    key > K is not; ids with key == K are settled by their full tickets and then the id,
    exactly as in `sample_reference` (a million ids share their first 9 ticket digits in
    about 500 pairs, so a tie at the boundary does happen). The candidates are fetched from
    the population by position and hashed again: k ids, not the population.
    """
    import numpy as np

    if k == 0:
        return []
    if k < len(keys):
        boundary = np.partition(keys, k - 1)[k - 1]
        candidates = np.flatnonzero(keys <= boundary)
    else:
        candidates = np.arange(len(keys))
    ids = _ids_at(population, candidates.tolist())
    # Pre-ordering by key is only for speed: the sort then just fixes equal-key runs.
    ids = [ids[i] for i in np.argsort(keys[candidates], kind="stable").tolist()]
    return _in_draw_order(ids, _digests(ids, hasher))[:k]


def _ids_at(population, positions: list[int]) -> list[str]:
    """The ids at ``positions`` (ascending): from a list directly, from a population kept as text
    by its ``at()`` if it has one that answers, else in one more pass over its chunks."""
    if isinstance(population, list | tuple):
        return [population[i] for i in positions]
    found = population.at(positions) if hasattr(population, "at") else None
    if found is not None:
        return found
    out, offset = [], 0
    wanted = iter(positions)
    i = next(wanted, None)
    for chunk in _chunks(population):
        end = offset + len(chunk)
        while i is not None and i < end:
            out.append(chunk[i - offset])
            i = next(wanted, None)
        offset = end
    return out


# --- stratification (第九条 "按照预定的比例") --------------------------------------------

ROUNDING_RULES = ("ceil", "floor", "round-half-up")


def parse_ratio(ratio: str | Decimal | Fraction | int) -> Fraction:
    """A sampling ratio as an exact fraction in (0, 1]: "0.05", "5%", "1/20", Decimal, Fraction.

    Floats are refused: 0.07 * 100 is 7.000000000000001, and a count must never depend on that.
    """
    if isinstance(ratio, bool | float) or not isinstance(ratio, str | Decimal | Fraction | int):
        raise TypeError(f"ratio must be a decimal string, Decimal or Fraction, got {ratio!r}")
    try:
        if isinstance(ratio, str):
            text = ratio.strip()
            value = Fraction(text[:-1].strip()) / 100 if text.endswith("%") else Fraction(text)
        else:
            value = Fraction(ratio)
    except (ValueError, ZeroDivisionError, OverflowError):  # "abc", "1/0", Decimal("NaN")
        raise ValueError(f"ratio {ratio!r} is not a number") from None
    if not 0 < value <= 1:
        raise ValueError(f"ratio {ratio!r} is outside (0, 1]")
    return value


def allocate(
    stratum_size: int,
    ratio: str | Decimal | Fraction | int,
    rule: str = "ceil",
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """How many to draw from a stratum of `stratum_size` ids at `ratio`.

    Exact arithmetic on size * ratio, then, in this order:
      rule     "ceil" (default): smallest whole number >= size * ratio, so a non-empty stratum
               always gives at least 1; "floor": largest <= size * ratio (may be 0);
               "round-half-up": floor(size * ratio + 1/2)
      minimum  raise the count to at least this (a floor, e.g. 1)
      maximum  lower the count to at most this (a ceiling, e.g. a yearly cap)
      size     never more than the stratum holds (so a 100 % stratum takes everyone)
    """
    if isinstance(stratum_size, bool) or not isinstance(stratum_size, int) or stratum_size < 0:
        raise ValueError(f"stratum size must be a whole number >= 0, got {stratum_size!r}")
    exact = stratum_size * parse_ratio(ratio)
    if rule == "ceil":
        count = math.ceil(exact)
    elif rule == "floor":
        count = math.floor(exact)
    elif rule == "round-half-up":
        count = math.floor(exact + Fraction(1, 2))
    else:
        raise ValueError(f"unknown rounding rule {rule!r}; use one of {', '.join(ROUNDING_RULES)}")
    for name, bound in (("minimum", minimum), ("maximum", maximum)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int) or bound < 0):
            raise ValueError(f"{name} must be a whole number >= 0, got {bound!r}")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValueError(f"minimum {minimum} is above maximum {maximum}")
    if minimum is not None:
        count = max(count, minimum)
    if maximum is not None:
        count = min(count, maximum)
    return min(count, stratum_size)


def inversions(sizes: Sequence[int], takes: Sequence[int]) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of non-empty strata listed from lowest to highest risk, where the
    lower-risk stratum i is checked at a higher rate than the higher-risk stratum j (第四条)."""
    rate = [Fraction(k, n) if n else None for n, k in zip(sizes, takes)]
    return [(i, j) for i in range(len(sizes)) for j in range(i + 1, len(sizes))
            if rate[i] is not None and rate[j] is not None and rate[i] > rate[j]]


def allocate_ordered(sizes: Sequence[int], ratios: Sequence[str | Decimal | Fraction | int]) -> list[int]:
    """Counts for strata listed from lowest to highest risk that keep the task's nominal total and
    never check a lower-risk stratum at a higher rate than a higher-risk one (第四条 差异化监管).

    1. total   T = ceil(sum of size_i * ratio_i), exact arithmetic (at most the population);
    2. start   k_i = floor(size_i * ratio_i);
    3. hand out the T - sum(k_i) remaining units one at a time to the non-full stratum with the
               largest remainder size_i * ratio_i - k_i (ties: the higher-risk stratum);
    4. repair  while a non-empty stratum i is checked at a higher rate than a higher-risk
               non-empty stratum j, move one unit from the lowest such i to the j with the lowest
               rate (ties: the higher-risk one). A unit only ever moves up the order, and j is
               never full (its rate is below i's, so below 100 %), so this ends, with T kept.

    >>> allocate_ordered([1, 7], ["0.05", "0.1"])  # ceil_min1 gives [1, 1]: A 100 %, C 14 %
    [0, 1]
    >>> allocate_ordered([1, 10], ["0.45", "0.5"])  # largest remainder alone would give [1, 5]
    [0, 6]
    """
    if len(sizes) != len(ratios):
        raise ValueError("one ratio per stratum")
    exact = [n * parse_ratio(r) for n, r in zip(sizes, ratios)]
    total = min(math.ceil(sum(exact, Fraction(0))), sum(sizes))
    takes = [math.floor(x) for x in exact]
    for _ in range(total - sum(takes)):
        open_ = [i for i in range(len(sizes)) if takes[i] < sizes[i]]
        best = max(open_, key=lambda i: (exact[i] - takes[i], i))
        takes[best] += 1
    while found := inversions(sizes, takes):
        i = min(a for a, _ in found)
        j = min((b for a, b in found if a == i), key=lambda b: (Fraction(takes[b], sizes[b]), -b))
        takes[i] -= 1
        takes[j] += 1
    return takes


def sample_strata(
    strata: Mapping[str, Iterable[str]], seed: str, takes: Mapping[str, int]
) -> dict[str, list[Selected]]:
    """Draw `takes[name]` ids from each stratum, every stratum with the SAME seed.

    Same seed on purpose: a ticket depends only on (seed, id), so each stratum's result is
    simply the overall ticket order filtered to that stratum — one seed to publish, and
    nothing an operator can tune per stratum. Strata must be disjoint: an id in two strata
    (or twice in one) raises DuplicateIdError naming it and the strata. Strata are returned
    in name order.
    """
    names = sorted(strata)
    if set(takes) != set(names):
        missing = sorted(set(names) - set(takes))
        extra = sorted(set(takes) - set(names))
        raise ValueError(f"sample sizes do not match strata: missing {missing}, unknown {extra}")
    populations = [_population(strata[name]) for name in names]
    ks = [_check_k(takes[name]) for name in names]
    return dict(zip(names, _draw(populations, seed, ks, names)))


# --- inspectors (第十条) ----------------------------------------------------------------


def inspector_seed(seed: str, department: str) -> str:
    """The seed of a department's officer draw: f"{seed}|inspectors|{department}".

    Derived, not drawn: once the draw's seed is fixed, every department's officer order is
    fixed too, and it can never change which entities were drawn (those use `seed` itself).
    Department codes may not contain "|", so the derived text always splits back uniquely
    (the department is what follows the last "|").
    """
    if not isinstance(department, str) or not department or "|" in department:
        raise ValueError(f"department code must be non-empty text without '|', got {department!r}")
    if not isinstance(seed, str):
        raise TypeError(f"seed must be text, got {type(seed).__name__}")
    return f"{seed}|inspectors|{department}"


def officer_order(officers: Iterable[str], seed: str, department: str) -> list[Selected]:
    """A department's officers in draw order: by ticket under `inspector_seed(seed, department)`."""
    return order(officers, inspector_seed(seed, department))


# --- verification (for `verify`: recompute, then name the first difference) --------------


def _as_selected(item) -> Selected:
    if isinstance(item, Mapping):
        return Selected(item["id"], item["ticket"])
    return Selected(*item)


def first_difference(expected: Sequence, recomputed: Sequence[Selected], label: str = "selection") -> str | None:
    """None if equal, else the first difference as one line naming position and field.

    `expected` items may be Selected, (id, ticket) pairs or {"id", "ticket"} dicts (as read
    from a bundle). Positions are 1-based, as a person counts them.
    """
    for position, (want, got) in enumerate(zip(expected, recomputed), start=1):
        want = _as_selected(want)
        for field in Selected._fields:
            if getattr(want, field) != getattr(got, field):
                return (
                    f"{label} position {position}: field {field}: "
                    f"expected {getattr(want, field)!r}, recomputed {getattr(got, field)!r}"
                )
    if len(expected) != len(recomputed):
        return f"{label}: field count: expected {len(expected)} entries, recomputed {len(recomputed)}"
    return None
