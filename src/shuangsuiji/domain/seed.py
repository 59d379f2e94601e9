"""Seeds without seed shopping (design.md §3): where a draw's seed comes from.

A seed is either given (e.g. dice digits rolled at a witnessed ceremony), drawn from the OS
CSPRNG, or — the strongest — built from parts committed to before they exist: a named
future public beacon round, dice to be rolled on a date, and secrets that departments commit
to by hash and reveal later. The population and parameters are frozen and hashed first, so
no one can see an outcome and then pick a seed.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from shuangsuiji.domain.audit import canonical_json

SOURCE_KINDS = ("beacon", "dice", "department")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def random_seed() -> str:
    """256 bits from the operating system's CSPRNG, as 64 hex digits."""
    return secrets.token_hex(32)


def commit_hash(secret: str) -> str:
    """What a department publishes before revealing its secret: SHA-256 hex of its UTF-8."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def is_commit_hash(value: str) -> bool:
    return bool(_HEX64.match(value))


def combine(parts: list[tuple[str, str, str]]) -> str:
    """The seed built from revealed parts: canonical JSON of [kind, label, value] triples,
    sorted — so the same parts give the same seed whatever order they were revealed in.

    Example: [("dice", "2026-04-01", "3141592653"), ("department", "SCJG", "s3cret")]
    → '[["department","SCJG","s3cret"],["dice","2026-04-01","3141592653"]]'
    """
    return canonical_json(sorted([kind, label, value] for kind, label, value in parts))


def check_dice(digits: str) -> str | None:
    """Why a dice value is unacceptable, or None."""
    if not digits.isdigit() or not digits.isascii():
        return "dice value must be digits only"
    if len(digits) < 10:
        return "dice value needs at least 10 digits"
    return None
