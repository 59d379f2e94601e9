"""统一社会信用代码 (Unified Social Credit Code) validation, GB 32100-2015.

18 characters from a 31-symbol alphabet (no I, O, Z, S, V); the 18th is a check
character over the first 17 with weights 3^(i-1) mod 31.
"""

from __future__ import annotations

import unicodedata

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28

# Whitespace of every width, including the ideographic space U+3000 that Excel users paste.
_SPACES = {ord(c): None for c in " \t\r\n\u3000\u00a0\u200b\ufeff"}


def normalise(raw: str) -> str:
    """Canonical text of a code: NFKC (full-width → ASCII), no spaces, upper case."""
    return unicodedata.normalize("NFKC", raw).translate(_SPACES).upper()


def check_char(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    total = sum(VALUE[c] * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why a normalised code is invalid (an English key), or None if it is valid.

    Keys: ``length``, ``alphabet``, ``check_digit``.
    """
    if len(code) != 18:
        return "length"
    if any(c not in VALUE for c in code):
        return "alphabet"
    if check_char(code[:17]) != code[17]:
        return "check_digit"
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None


def make(first17: str) -> str:
    """A complete code from its first 17 characters (for examples and tests)."""
    return first17 + check_char(first17)
