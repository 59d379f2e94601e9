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
