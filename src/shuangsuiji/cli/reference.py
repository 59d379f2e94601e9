"""The command reference in docs/cli.md, generated from the command tree so that it cannot drift.

    python -m shuangsuiji.cli.reference            # rewrite the generated part of docs/cli.md
    python -m shuangsuiji.cli.reference --check    # exit 1 if docs/cli.md is out of date (CI, tests)

Only the text between the two marker comments is replaced; the hand-written sections around it
(the scripting contract, exit codes, JSON keys) stay as they are. Every command's ``--help`` is
rendered in English at 80 columns, as ``shuangsuiji … --help`` prints it.
"""

import io
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

BEGIN = "<!-- BEGIN GENERATED COMMAND REFERENCE: python -m shuangsuiji.cli.reference; do not edit by hand -->"
END = "<!-- END GENERATED COMMAND REFERENCE -->"
DEFAULT_DOC = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def commands():
    """(path, click command) of the root, every group and every visible command, in help order."""
    import typer

    from shuangsuiji.cli.main import app

    def walk(cmd, path):
        yield path, cmd
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            if not sub.hidden:
                yield from walk(sub, (*path, name))

    return list(walk(typer.main.get_command(app), ()))


def generate() -> str:
    """The generated block, markers included."""
    os.environ["COLUMNS"] = "80"
    from shuangsuiji.cli.main import main

    parts = [BEGIN, "", "## Command reference", "",
             "Every command's `--help` (English; `--lang zh`, the default, prints the same in Chinese).", ""]
    for path, _ in commands():
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            code = main([*path, "--help"])
        if code != 0:
            raise RuntimeError(f"shuangsuiji {' '.join(path)} --help exited {code}")
        title = " ".join(("shuangsuiji", *path))
        parts += [f"{'###' if len(path) < 2 else '####'} `{title}`", "", "```text", buffer.getvalue().rstrip("\n"), "```", ""]
    parts.append(END)
    return "\n".join(parts)


def updated(text: str, block: str) -> str:
    """``text`` with its generated block replaced (appended when it has none yet)."""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        return head + block + rest.split(END, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def run(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"]
    doc = Path(paths[0]) if paths else DEFAULT_DOC
    os.environ["SHUANGSUIJI_LANG"] = "en"
    from shuangsuiji import i18n

    i18n.set_lang("en")
    current = doc.read_text(encoding="utf-8")
    new = updated(current, generate())
    if check:
        if new != current:
            sys.stderr.write(f"{doc} is out of date: run `python -m shuangsuiji.cli.reference` and commit the result.\n")
            return 1
        return 0
    if new != current:
        doc.write_text(new, encoding="utf-8")
        sys.stderr.write(f"updated {doc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
