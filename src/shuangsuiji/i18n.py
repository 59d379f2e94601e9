"""Interface language: Chinese by default, English with ``--lang en`` or an English locale.

The language is decided once, before the CLI is built, because Typer help texts are
fixed when commands are declared.
"""

from __future__ import annotations

import os
import sys

LANGS = ("zh", "en")


def detect(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> str:
    """``--lang X`` / ``--lang=X`` on the command line, then SHUANGSUIJI_LANG, then the locale."""
    argv = sys.argv[1:] if argv is None else argv
    env = os.environ if environ is None else environ
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return _pick(argv[i + 1])
        if arg.startswith("--lang="):
            return _pick(arg.split("=", 1)[1])
    if env.get("SHUANGSUIJI_LANG"):
        return _pick(env["SHUANGSUIJI_LANG"])
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


def _pick(value: str) -> str:
    return "en" if value.lower().startswith("en") else "zh"


LANG = detect()


def set_lang(lang: str) -> None:
    global LANG
    LANG = _pick(lang)


def t(zh: str, en: str) -> str:
    """The text in the interface language."""
    return en if LANG == "en" else zh


# ---------------------------------------------------------------- local time

DEFAULT_TZ = "Asia/Shanghai"
_UTC_STAMP = None


def time_zone_name(environ: dict[str, str] | None = None) -> str:
    """SHUANGSUIJI_TZ (an IANA name such as Asia/Urumqi or UTC), else Asia/Shanghai (北京时间)."""
    env = os.environ if environ is None else environ
    return env.get("SHUANGSUIJI_TZ") or DEFAULT_TZ


def time_zone(environ: dict[str, str] | None = None):
    """The display zone. Stores, bundles and the audit log keep UTC; only what people read is local.

    An unknown name is a user mistake, reported as such (zoneinfo needs the `tzdata` package where
    the system has no time-zone database, e.g. Windows: it is a dependency)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from shuangsuiji.errors import ExitCode, UserError

    name = time_zone_name(environ)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"SHUANGSUIJI_TZ={name} 不是已知的时区（例如 Asia/Shanghai、UTC）",
                        f"SHUANGSUIJI_TZ={name} is not a known time zone (e.g. Asia/Shanghai, UTC)",
                        code=ExitCode.USAGE) from None


def local_time(value: str) -> str:
    """A stored UTC timestamp (``2026-12-04T16:03:38.276110Z``) as local time to the second
    (``2026-12-05 00:03:38``); any other text is returned unchanged."""
    global _UTC_STAMP
    import re
    from datetime import datetime, timezone

    if _UTC_STAMP is None:
        _UTC_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)")
    if not isinstance(value, str) or not _UTC_STAMP.fullmatch(value):
        return value
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    return moment.astimezone(time_zone()).strftime("%Y-%m-%d %H:%M:%S")
