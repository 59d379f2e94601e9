"""How numbers are shown: one rule for every percentage in text, JSON, XLSX and HTML.

A computed share (joint-task share, completion, problem rate…) is shown rounded **half up to
one decimal**: 1/7 → 14.3 %, 8/21 → 38.1 %, 1/16 → 6.3 %, 1/10 → 10 %. Tests against a
threshold (第七条 ≥ 10 %) are never made on the shown text: they use the exact fraction and
are shown in their own 是/否 column, so 99/991 (9.99 %) shows "10%" next to "否".

A configured ratio (a plan's 抽查比例) is not a computed share: ``ratio_percent`` shows it
exactly as written (3.5 % stays 3.5 %, 2.25 % stays 2.25 %).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


def percent(value: Fraction | float | int | Decimal) -> str:
    """A share in [0, 1] (or beyond) as ``"14.3%"``: × 100, round half up to one decimal, no ".0".

    A float is read through its shortest repr, so 29/2000 (0.0145) rounds as 1.45 → 1.5, not as
    the binary 0.01449999… would.
    """
    if isinstance(value, Fraction):
        d = Decimal(value.numerator) * 100 / Decimal(value.denominator)
    else:
        d = Decimal(repr(value) if isinstance(value, float) else value) * 100
    text = f"{d.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def ratio_percent(ratio: str | Decimal) -> str:
    """A configured sampling ratio ``"0.035"`` → ``"3.5%"``: exact, as the plan wrote it."""
    return f"{(Decimal(str(ratio)) * 100).normalize():f}%"
