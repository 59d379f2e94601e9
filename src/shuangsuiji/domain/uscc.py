"""统一社会信用代码 (Unified Social Credit Code) validation, GB 32100-2015.

18 characters from a 31-symbol alphabet (no I, O, Z, S, V); the 18th is a check
character over the first 17 with weights 3^(i-1) mod 31.
"""

from __future__ import annotations

import unicodedata
from operator import mul

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28

# Whitespace of every width, including the ideographic space U+3000 that Excel users paste.
_SPACES = {ord(c): None for c in " \t\r\n\u3000\u00a0\u200b\ufeff"}


def normalise(raw: str) -> str:
    """Canonical text of a code: NFKC (full-width → ASCII), no spaces, upper case."""
    if raw.isascii() and raw.isalnum():  # the common case, ten times cheaper
        return raw.upper()
    return unicodedata.normalize("NFKC", raw).translate(_SPACES).upper()


def check_char(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    total = sum(map(mul, map(VALUE.__getitem__, first17), WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why a normalised code is invalid (an English key), or None if it is valid.

    Keys: ``length``, ``alphabet``, ``check_digit``.
    """
    if len(code) != 18:
        return "length"
    try:
        expected = check_char(code[:17])
    except KeyError:
        return "alphabet"
    if code[17] != expected:
        return "alphabet" if code[17] not in VALUE else "check_digit"
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None


def make(first17: str) -> str:
    """A complete code from its first 17 characters (for examples and tests)."""
    return first17 + check_char(first17)


def valid_mask(codes: list[str]) -> list[bool]:
    """For each text, True if it is already a canonical valid code (vectorised; for big files).

    False does not mean invalid: lower-case or full-width text still has to be normalised
    and checked one by one. This only lets the common case skip the per-row check.
    """
    import numpy as np

    plain = [c if len(c) == 18 and c.isascii() else "!" * 18 for c in codes]
    if not plain:
        return []
    chars = np.frombuffer("".join(plain).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    value = np.zeros(256, dtype=np.int64)
    known = np.zeros(256, dtype=bool)
    for c, v in VALUE.items():
        value[ord(c)], known[ord(c)] = v, True
    values = value[chars]
    total = values[:, :17] @ np.array(WEIGHTS, dtype=np.int64)
    ok = known[chars].all(axis=1) & ((31 - total % 31) % 31 == values[:, 17])
    return ok.tolist()
