"""Seeds without seed shopping (docs/verifying.md, "The seed"): where a draw's seed comes from.

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
from datetime import datetime, timezone

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


# Public beacons a draw may commit to, by label: (first round's time, seconds per round). Values
# are the round's published ``randomness`` (64 hex digits). https://drand.love/developer/
BEACONS = {
    "drand quicknet": (1692803367, 3),  # chain 52db9ba7…, unchained, a round every 3 s
    "drand mainnet": (1595431050, 30),  # the "default" chain 8990e7a9…, a round every 30 s
}
_BEACON_LABEL = re.compile(r"^(drand (?:quicknet|mainnet)) round ([1-9][0-9]{0,11})$")


def beacon_time(label: str) -> datetime | None:
    """When the named round is published, or None if the label is not a known beacon's round."""
    match = _BEACON_LABEL.match(label.strip())
    if not match:
        return None
    genesis, period = BEACONS[match.group(1)]
    return datetime.fromtimestamp(genesis + (int(match.group(2)) - 1) * period, timezone.utc)


def check_beacon_label(label: str, now: datetime) -> str | None:
    """Why a beacon cannot be committed to now, or None: it must be a known beacon's round, not yet
    published — a round already out would let whoever commits see the seed first (seed shopping)."""
    at = beacon_time(label)
    if at is None:
        return f"beacon must be written '<beacon> round <N>', one of: {', '.join(BEACONS)}"
    if at <= now:
        return f"round published at {at:%Y-%m-%d %H:%M:%S} UTC, not in the future"
    return None


def check_beacon_value(value: str) -> str | None:
    """Why a beacon value is not a round's randomness (64 lowercase hex digits), or None."""
    return None if _HEX64.match(value) else "beacon value must be the round's randomness: 64 hex digits"
